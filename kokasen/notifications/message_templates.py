"""The texts staff edit: placeholders, validation, and which text is current.

A kind registered with ``editable=emails.Editable(...)`` (accounts/mail_kinds.py: the
credential, reissue and reset notices) has its subject and body edited by staff
(MessageTemplate, スニペット → メールの文面). The text is plain, with placeholders in half-width
braces, ``{団体名}``; the kind's registration lists the allowed ones, the required ones and those
allowed in the subject. Anything else in braces is refused (no str.format: no attribute access,
no format specs). The kind's secret placeholder (``{パスワード}``, ``{再設定URL}``) becomes its
slot, which the sender fills at send time; it is never stored.

Without a row, the default is templates/emails/<kind>/subject.txt and body.txt, written in the
same placeholder syntax. Rendering, with the rules every e-mail follows, is emails.render().
"""

from __future__ import annotations

import re

from . import emails
from .emails import SLOT_PREFIX, Text

# The editable kinds and their slots by name, for the code and tests that refer to them; their
# labels, placeholders and slot fillers are registered by the accounts app (accounts/mail_kinds.py).
CREDENTIALS = "credentials"
PASSWORD_REISSUED = "password_reissued"
PASSWORD_RESET = "password_reset"
PASSWORD_SLOT = emails.slot_marker("password")
RESET_URL_SLOT = emails.slot_marker("reset-url")

# The admin's help under the fields (also in migration 0002). They name the placeholders of the
# editable kinds; tests/test_emails.py checks that every registered one is named here.
SUBJECT_HELP = "使える差し込み項目：{団体名}{ユーザーID}"
BODY_HELP = (
    "差し込み項目は半角の波かっこで囲みます。"
    "アカウント発行・再発行では {ユーザーID}{パスワード}{ログインURL}、"
    "再設定のご案内では {再設定URL} が必須です。"
    "ほかに {団体名}{アカウントURL}{再設定申込URL}{お問い合わせURL}、再設定のご案内では {有効期限} が使えます。"
    "パスワードと再設定URLは送信の直前に記入され、保存されません。"
)

_PLACEHOLDER = re.compile(r"\{([^{}\n]*)\}")
_FULL_WIDTH = re.compile(r"｛([^｛｝\n]*)｝")


def __getattr__(name: str):
    # KIND_CHOICES is read when used: the kinds are registered once the apps are ready,
    # after this module is first imported (by models.py).
    if name == "KIND_CHOICES":
        return emails.editable_choices()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _editable(kind: str) -> emails.Editable | None:
    try:
        return emails.get(kind).editable
    except LookupError:
        return None


def default(kind: str) -> Text:
    return Text(emails.template_source(kind, "subject").strip(), emails.template_source(kind, "body").rstrip() + "\n")


def current(kind: str) -> Text:
    from .models import MessageTemplate

    row = MessageTemplate.objects.filter(kind=kind).first()
    return Text(row.subject, row.body) if row else default(kind)


def _names(text: str) -> list[str]:
    return _PLACEHOLDER.findall(text)


def problems(kind: str, subject: str, body: str) -> dict[str, list[str]]:
    """Japanese problems per field ({} when the template is usable)."""
    editable = _editable(kind)
    if editable is None:
        return {"kind": ["種類を選んでください。"]}
    allowed = tuple(editable.placeholders)
    secrets = {k.editable.secret for k in emails.kinds() if k.editable and k.editable.secret}
    errors: dict[str, list[str]] = {}
    for field, found in (
        ("subject", _placeholder_problems(subject, editable.subject, allowed, secrets, in_subject=True)),
        ("body", _placeholder_problems(body, allowed, allowed, secrets, in_subject=False)),
        ("subject", _subject_problems(subject)),
        ("body", _missing_problems(body, editable.required)),
    ):
        if found:
            errors.setdefault(field, []).extend(found)
    return errors


def _placeholder_problems(
    text: str, names: tuple[str, ...], allowed: tuple[str, ...], secrets: set[str], *, in_subject: bool
) -> list[str]:
    """Placeholders the field may not hold (``names`` are those it may), a secret in the subject,
    full-width braces around a placeholder of the kind (``allowed``), and the slot marker."""
    found = []
    for name in dict.fromkeys(_names(text)):
        if name in secrets and in_subject:
            found.append(f"件名に {{{name}}} は入れられません（件名は暗号化されずに残ることがあります）。")
        elif name not in names:
            shown = "、".join(f"{{{n}}}" for n in names)
            found.append(f"{{{name}}} は使えない差し込み項目です。使えるのは {shown} です。")
    for name in dict.fromkeys(_FULL_WIDTH.findall(text)):
        if name in allowed:
            found.append(f"「｛{name}｝」は全角の波かっこです。半角の {{{name}}} で囲んでください。")
    if SLOT_PREFIX in text:
        found.append("「[[kokasen:」で始まる文字列は使えません。")
    return found


def _subject_problems(subject: str) -> list[str]:
    """A subject that is empty or too long."""
    found = []
    if not subject.strip():
        found.append("件名を入力してください。")
    if len(subject) > 200:
        found.append("件名は200文字以内にしてください。")
    return found


def _missing_problems(body: str, required: tuple[str, ...]) -> list[str]:
    """The ``required`` placeholders that the body lacks."""
    found = set(_names(body))
    return [f"本文に {{{name}}} がありません。必ず入れてください。" for name in required if name not in found]


def fill(kind: emails.Kind, values: dict[str, str], *, template: Text | None = None, secret: str = "") -> Text:
    """The current text (or ``template``) with every placeholder filled in, the kind's secret
    placeholder with ``secret``. Called by emails.render(), which applies the rules."""
    text = template or current(kind.name)
    found = problems(kind.name, text.subject, text.body)
    if found:  # a row edited outside the admin form, or a broken default file
        raise ValueError(f"message template {kind.name!r} is unusable: {found}")
    filled = {name: str(value) for name, value in values.items()}
    if kind.editable.secret:
        filled[kind.editable.secret] = secret

    def put(match: re.Match) -> str:
        return filled[match.group(1)]

    return Text(_PLACEHOLDER.sub(put, text.subject), _PLACEHOLDER.sub(put, text.body))


def render(kind: str, values: dict[str, str], *, template: Text | None = None) -> Text:
    """emails.render() for an editable kind: subject and body, secrets as slots."""
    return emails.render(kind, values, template=template)
