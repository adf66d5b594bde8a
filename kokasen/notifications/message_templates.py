"""The texts of the notices: kinds, placeholders, defaults, validation and rendering.

A template is plain text with placeholders in half-width braces, ``{団体名}``. Anything else
in braces is refused (no str.format: no attribute access, no format specs). Secrets are never
written into the outbox: ``{パスワード}`` and ``{再設定URL}`` become slots that the sender
fills in at send time (see sender.py and kokasen/accounts/credentials.py).

Defaults live in templates/emails/<kind>.subject.txt and <kind>.body.txt; a MessageTemplate
row, edited by staff, replaces them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

CREDENTIALS = "credentials"
PASSWORD_REISSUED = "password_reissued"
PASSWORD_RESET = "password_reset"

KIND_CHOICES = [
    (CREDENTIALS, "アカウント発行のお知らせ（初期パスワード）"),
    (PASSWORD_REISSUED, "パスワード再発行のお知らせ"),
    (PASSWORD_RESET, "パスワード再設定のご案内（再設定用リンク）"),
]

# Every kind of outbox message, for lists (the kinds above have an editable template; the
# others are written by their apps).
OUTBOX_KIND_LABELS = {
    **dict(KIND_CHOICES),
    "tips_digest": "小ネタ：承認待ち投稿のまとめ",
    "tips_approved": "小ネタ：投稿の承認のお知らせ",
    "tips_rejected": "小ネタ：投稿の非承認のお知らせ",
    "feedback_received": "意見箱：新しい意見のお知らせ",
    "meeting_invitation": "情報交換会：参加者への案内",
    "meeting_facilitator": "情報交換会：ファシリテーターへの案内",
    "staff_enrolment_invitation": "職員：認証アプリ登録の招待",
}

# Filled in when the message is queued.
COMMON = {
    "団体名": "都道府県名を含む団体名（例：北海道札幌市）",
    "ユーザーID": "ログインに使う団体コード（6桁）",
    "ログインURL": "ログイン画面のURL",
    "アカウントURL": "アカウント情報（パスワード変更）画面のURL",
    "再設定申込URL": "パスワードを忘れたときの再設定申込画面のURL",
}
PASSWORD = "パスワード"
RESET_URL = "再設定URL"
RESET_VALID = "有効期限"
# Filled in by the sender at send time, never stored.
SLOT_PREFIX = "[[kokasen:"
PASSWORD_SLOT = "[[kokasen:password]]"
RESET_URL_SLOT = "[[kokasen:reset-url]]"
SECRET_SLOTS = {PASSWORD: PASSWORD_SLOT, RESET_URL: RESET_URL_SLOT}
# The only kinds whose slots the sender fills, and which slot each may carry. Any other kind
# (小ネタ notices, invitations, digests…) is delivered exactly as stored: a slot typed by a
# member stays text. And no stored body can contain a slot it did not get from a template:
# neutralise() is applied to every value filled in and to every body of another kind.
SLOT_KINDS = {
    CREDENTIALS: (PASSWORD_SLOT,),
    PASSWORD_REISSUED: (PASSWORD_SLOT,),
    PASSWORD_RESET: (RESET_URL_SLOT,),
}


def neutralise(text: str) -> str:
    """``text`` with every slot opener broken (``[[kokasen:`` → ``[ [kokasen:``), so that
    nothing outside a message template can ever become a secret slot."""
    while SLOT_PREFIX in text:
        text = text.replace(SLOT_PREFIX, "[ [kokasen:")
    return text

ALLOWED = {
    CREDENTIALS: {**COMMON, PASSWORD: "初期パスワード（送信時に記入）"},
    PASSWORD_REISSUED: {**COMMON, PASSWORD: "新しいパスワード（送信時に記入）"},
    PASSWORD_RESET: {
        **COMMON,
        RESET_URL: "再設定用のリンク（送信時に記入）",
        RESET_VALID: "再設定用リンクの有効期間（例：24時間）",
    },
}
REQUIRED = {
    CREDENTIALS: ("ユーザーID", PASSWORD, "ログインURL"),
    PASSWORD_REISSUED: ("ユーザーID", PASSWORD, "ログインURL"),
    PASSWORD_RESET: (RESET_URL,),
}
SUBJECT_ALLOWED = ("団体名", "ユーザーID")

SUBJECT_HELP = "使える差し込み項目：" + "".join(f"{{{n}}}" for n in SUBJECT_ALLOWED)
BODY_HELP = (
    "差し込み項目は半角の波かっこで囲みます。"
    "アカウント発行・再発行では {ユーザーID}{パスワード}{ログインURL}、"
    "再設定のご案内では {再設定URL} が必須です。"
    "ほかに {団体名}{アカウントURL}{再設定申込URL}、再設定のご案内では {有効期限} が使えます。"
    "パスワードと再設定URLは送信の直前に記入され、保存されません。"
)

_PLACEHOLDER = re.compile(r"\{([^{}\n]*)\}")
_FULL_WIDTH = re.compile(r"｛([^｛｝\n]*)｝")
_DIR = Path(settings.BASE_DIR) / "templates" / "emails"


@dataclass(frozen=True)
class Text:
    subject: str
    body: str


def default(kind: str) -> Text:
    read = lambda part: (_DIR / f"{kind}.{part}.txt").read_text(encoding="utf-8")  # noqa: E731
    return Text(read("subject").strip(), read("body").rstrip() + "\n")


def current(kind: str) -> Text:
    from .models import MessageTemplate

    row = MessageTemplate.objects.filter(kind=kind).first()
    return Text(row.subject, row.body) if row else default(kind)


def _names(text: str) -> list[str]:
    return _PLACEHOLDER.findall(text)


def problems(kind: str, subject: str, body: str) -> dict[str, list[str]]:
    """Japanese problems per field ({} when the template is usable)."""
    errors: dict[str, list[str]] = {}
    if kind not in ALLOWED:
        return {"kind": ["種類を選んでください。"]}
    allowed = ALLOWED[kind]
    listed = "、".join(f"{{{n}}}" for n in allowed)

    def add(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    for field, text, names in (("subject", subject, SUBJECT_ALLOWED), ("body", body, tuple(allowed))):
        for name in dict.fromkeys(_names(text)):
            if name in SECRET_SLOTS and field == "subject":
                add(field, f"件名に {{{name}}} は入れられません（件名は暗号化されずに残ることがあります）。")
            elif name not in names:
                shown = "、".join(f"{{{n}}}" for n in names) if field == "subject" else listed
                add(field, f"{{{name}}} は使えない差し込み項目です。使えるのは {shown} です。")
        for name in dict.fromkeys(_FULL_WIDTH.findall(text)):
            if name in allowed:
                add(field, f"「｛{name}｝」は全角の波かっこです。半角の {{{name}}} で囲んでください。")
        if "[[kokasen:" in text:
            add(field, "「[[kokasen:」で始まる文字列は使えません。")
    if not subject.strip():
        add("subject", "件名を入力してください。")
    if len(subject) > 200:
        add("subject", "件名は200文字以内にしてください。")
    found = set(_names(body))
    for name in REQUIRED[kind]:
        if name not in found:
            add("body", f"本文に {{{name}}} がありません。必ず入れてください。")
    return errors


def render(kind: str, values: dict[str, str], *, template: Text | None = None) -> Text:
    """Subject and body with every placeholder filled in; secrets become slots.
    ``template`` saves the look-up when many messages of one kind are rendered."""
    text = template or current(kind)
    found = problems(kind, text.subject, text.body)
    if found:  # a row edited outside the admin form, or a broken default file
        raise ValueError(f"message template {kind!r} is unusable: {found}")
    filled = {**{name: neutralise(str(value)) for name, value in values.items()}, **SECRET_SLOTS}

    def fill(match: re.Match) -> str:
        return filled[match.group(1)]

    return Text(_PLACEHOLDER.sub(fill, text.subject), _PLACEHOLDER.sub(fill, text.body))


def base_url() -> str:
    return (settings.PORTAL_BASE_URL or settings.WAGTAILADMIN_BASE_URL).rstrip("/")


def absolute(path: str) -> str:
    return base_url() + path
