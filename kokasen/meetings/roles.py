"""担当区分: what a prefecture participant does, whatever their department is called (issue 16, item 1).

Prefecture meetings group people per 区分, not per department name: every prefecture names its
departments differently (こども家庭課, 子ども未来課, 児童家庭課…). The list is the spec's
(第３-３(1)(2): 「こども家庭センター担当・児童虐待防止対策担当／母子保健担当／市町村支援児童福祉司など」;
「・」 joins the first two into one 区分, 「／」 separates 区分) plus その他 for 「など」.
Django-free: the roster reader, the template, the engine's caller and the tests share it.
"""

from __future__ import annotations

import re
import unicodedata

ROLE_CENTER = "こども家庭センター担当・児童虐待防止対策担当"
ROLE_MATERNAL = "母子保健担当"
ROLE_CASEWORKER = "市町村支援児童福祉司"
ROLE_OTHER = "その他"
ROLES = (ROLE_CENTER, ROLE_MATERNAL, ROLE_CASEWORKER, ROLE_OTHER)

# Spellings people type for a 区分 (compared after NFKC and without spaces).
_ALIASES = {
    "こども家庭センター担当": ROLE_CENTER,
    "児童虐待防止対策担当": ROLE_CENTER,
    "児童虐待防止担当": ROLE_CENTER,
    "こども家庭センター・児童虐待防止対策担当": ROLE_CENTER,
    "母子保健": ROLE_MATERNAL,
    "児童福祉司": ROLE_CASEWORKER,
    "市町村支援担当児童福祉司": ROLE_CASEWORKER,
}

# Words in a department's name that suggest a 区分, most specific first. A suggestion only: staff
# confirm every department once per meeting (services/roles.py).
_HINTS = (
    (re.compile(r"児童福祉司|市町村支援|児童相談所|児相|相談"), ROLE_CASEWORKER),
    (re.compile(r"母子|保健|健康|成育|健やか"), ROLE_MATERNAL),
    (re.compile(r"センター|虐待|家庭|こども|子ども|子供|児童|少子化|子育て"), ROLE_CENTER),
)


def _key(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text or ""))


def role_of(text: str) -> str | None:
    """The 区分 a cell names (one of :data:`ROLES` or a known spelling), else None."""
    key = _key(text)
    for role in ROLES:
        if key == _key(role):
            return role
    return _ALIASES.get(key)


def suggest_role(department: str) -> str:
    """A suggested 区分 for a free department name, or "" when its words say nothing."""
    named = role_of(department)
    if named:
        return named
    key = _key(department)
    for pattern, role in _HINTS:
        if pattern.search(key):
            return role
    return ""
