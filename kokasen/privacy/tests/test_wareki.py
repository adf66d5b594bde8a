import datetime as dt

import pytest

from kokasen.privacy.wareki import reiwa_date, reiwa_year


@pytest.mark.parametrize(
    "day, expected",
    [
        (dt.date(2019, 5, 1), "令和元年５月１日"),  # the first day of 令和
        (dt.date(2019, 12, 31), "令和元年１２月３１日"),
        (dt.date(2020, 1, 1), "令和２年１月１日"),
        (dt.date(2026, 12, 7), "令和８年１２月７日"),
        (dt.date(2030, 4, 30), "令和１２年４月３０日"),
    ],
)
def test_reiwa_date(day, expected):
    assert reiwa_date(day) == expected


def test_half_width_on_request():
    assert reiwa_date(dt.date(2026, 12, 7), fullwidth=False) == "令和8年12月7日"
    assert reiwa_date(dt.date(2019, 5, 1), fullwidth=False) == "令和元年5月1日"


def test_the_last_day_of_heisei_is_refused():
    with pytest.raises(ValueError):
        reiwa_year(dt.date(2019, 4, 30))
    with pytest.raises(ValueError):
        reiwa_date(dt.date(2019, 4, 30))
