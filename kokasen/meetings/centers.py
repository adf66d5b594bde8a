"""The words for a local government's こども家庭センター status, one spelling everywhere (issue 16,
item 3): the screens, the engine's notes, the report, every workbook and CSV. Django-free; the
value itself comes from one selector, :func:`kokasen.meetings.selectors.center_by_local_government`
(the roster's センター設置 where given, else the agency's center list, else unknown).

設置済み is still accepted when a roster or center list is read (roster_file.py), never written."""

from __future__ import annotations

CENTER_YES = "設置済"
CENTER_NO = "未設置"
CENTER_UNKNOWN = "不明"

# the report's chart and table headings
CENTER_PHRASES = {True: "センター" + CENTER_YES, False: "センター" + CENTER_NO, None: "設置状況" + CENTER_UNKNOWN}


def center_label(value: bool | None) -> str:
    """設置済 / 未設置 / 不明."""
    return CENTER_UNKNOWN if value is None else CENTER_YES if value else CENTER_NO
