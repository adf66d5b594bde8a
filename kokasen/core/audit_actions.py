"""The audit trail in Japanese: every action code an app records (``audit_record(action=…)``)
is registered here by its app with a short label (lists, filters) and a sentence (the entry as
staff read it), so that no screen shows ``tips.post_submitted`` or ``mode：pre → post``
(issue 17 item 4; docs/decisions/0053-japanese-admin-and-recovery-codes.md).

Each app registers its actions in its own ``audit_actions.py``, imported by its AppConfig's
``ready()``. A sentence is a ``str.format`` template with:

- ``{by}``: 「kanri-taro」が (the acting account), or nothing for the system and visitors;
- ``{actor}``: the acting account's name, or 「システム」;
- ``{target}``: what the entry is about (``AuditEvent.target_label``), or 「（対象なし）」;
- any key of the event's ``detail`` (missing keys read as empty).

``detail`` may be a function of the event's detail returning a Japanese clause appended to the
sentence (a change from one state to another, the fields changed …). ``test_audit_actions``
walks the code for every action it can record and requires a registration for each.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class AuditAction:
    code: str
    label: str
    sentence: str
    detail: Callable[[dict], str] | None = None


_ACTIONS: dict[str, AuditAction] = {}
_DETAIL_NAMES: dict[str, str] = {}
_DETAIL_VALUES: dict[str, dict[str, str]] = {}
_GROUPS: dict[str, str] = {}


def register(code: str, label: str, sentence: str, *, detail: Callable[[dict], str] | None = None) -> None:
    existing = _ACTIONS.get(code)
    if existing is not None and existing != AuditAction(code, label, sentence, detail):
        raise ValueError(f"audit action {code!r} registered twice with different texts")
    _ACTIONS[code] = AuditAction(code, label, sentence, detail)


def register_detail_names(names: dict[str, str], *, values: dict[str, dict[str, str]] | None = None) -> None:
    """Japanese names of ``detail`` keys (``{"reason": "理由"}``) and of their coded values
    (``{"reason": {"wrong_code": "確認コードの誤り"}}``), for the audit trail's 詳細 column."""
    _DETAIL_NAMES.update(names)
    for key, labels in (values or {}).items():
        _DETAIL_VALUES.setdefault(key, {}).update(labels)


def register_groups(names: dict[str, str]) -> None:
    """Japanese names of the codes' first words (``{"login": "ログイン"}``), for the filter's groups."""
    _GROUPS.update(names)


def group_label(prefix: str) -> str:
    """「ログイン（すべて）」 for ``login.``."""
    word = prefix.rstrip(".")
    return f"{_GROUPS.get(word, word)}（すべて）"


def registered() -> dict[str, AuditAction]:
    return _ACTIONS


def is_registered(code: str) -> bool:
    return code in _ACTIONS


def label(code: str) -> str:
    """The short Japanese name of ``code``; an unregistered code (an old record of a removed
    action) reads 「記録（code）」 rather than failing."""
    action = _ACTIONS.get(code)
    return action.label if action else f"記録（{code}）"


class _Blank(dict):
    def __missing__(self, key):
        return ""


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "はい" if value else "いいえ"
    if isinstance(value, (list, tuple)):
        return "、".join(_text(item) for item in value)
    return str(value)


def sentence(event) -> str:
    """The entry as a Japanese sentence: 「kanri-taro」が小ネタ #3 を承認しました。"""
    action = _ACTIONS.get(event.action)
    if action is None:
        return f"{label(event.action)}が記録されました。"
    actor = event.actor_label or ""
    values = _Blank({key: _text(value) for key, value in (event.detail or {}).items() if isinstance(key, str)})
    values.update(
        by=f"「{actor}」が" if actor else "",
        actor=actor or "システム",
        target=event.target_label or "（対象なし）",
    )
    text = string.Formatter().vformat(action.sentence, (), values)
    if action.detail is not None and isinstance(event.detail, dict):
        extra = action.detail(event.detail)
        if extra:
            text += extra
    return text


def detail_name(key: str) -> str:
    return _DETAIL_NAMES.get(key, key)


def detail_value(key: str, value) -> str:
    text = _text(value)
    return _DETAIL_VALUES.get(key, {}).get(text, text)


def change_clause(changes: dict, *, names: dict[str, str], values: dict[str, dict[str, str]] | None = None) -> str:
    """「（受付の方式：事前承認 → 事後確認）」 for ``{"mode": {"old": "pre", "new": "post"}}``."""
    values = values or {}
    parts = []
    for key, change in changes.items():
        if not isinstance(change, dict):
            continue
        shown = values.get(key, {})
        old, new = (
            shown.get(_text(change.get(side)), _text(change.get(side))) or "（なし）" for side in ("old", "new")
        )
        parts.append(f"{names.get(key, key)}：{old} → {new}")
    return f"（{'、'.join(parts)}）" if parts else ""


def choice_labels(*choice_sets: Iterable[tuple[str, str]]) -> dict[str, str]:
    labels: dict[str, str] = {}
    for choices in choice_sets:
        labels.update({str(value): str(text) for value, text in choices})
    return labels
