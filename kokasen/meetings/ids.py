"""Ids sent by the meetings admin screens (form fields, query strings), read without trusting them
(issue 16, item 4): ASCII digits only (full-width ones as typed on a Japanese keyboard become
ASCII), at most 18 of them (a database integer), else None. ``str.isdigit`` is not enough: it is
true for 「²」, which ``int`` refuses, and for numbers too large for the database."""

from __future__ import annotations

from collections.abc import Iterable

_FULL_WIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")
MAX_DIGITS = 18


def as_id(raw: object) -> int | None:
    text = str(raw if raw is not None else "").strip().translate(_FULL_WIDTH_DIGITS)
    if text.isascii() and text.isdigit() and len(text) <= MAX_DIGITS:
        return int(text)
    return None


def as_ids(values: Iterable[object]) -> list[int]:
    """The values that are ids; the others are left out."""
    return [i for i in (as_id(v) for v in values) if i is not None]
