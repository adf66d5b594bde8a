"""Dates in the Japanese era calendar, as the agency's forms write them (令和８年１２月７日).

Only 令和 is needed (the forms are dated on the day they are made); an earlier date is refused
rather than written in the wrong era. The first year of an era is 元年.
"""

from __future__ import annotations

import datetime as dt

REIWA_START = dt.date(2019, 5, 1)
_FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def reiwa_year(day: dt.date) -> int:
    if day < REIWA_START:
        raise ValueError(f"{day.isoformat()} is before 令和 (2019-05-01)")
    return day.year - 2018


def reiwa_date(day: dt.date, *, fullwidth: bool = True) -> str:
    """``day`` as 令和Y年M月D日, 元年 for the first year; digits full-width unless asked not to."""
    year = reiwa_year(day)
    text = f"令和{'元' if year == 1 else year}年{day.month}月{day.day}日"
    return text.translate(_FULLWIDTH) if fullwidth else text
