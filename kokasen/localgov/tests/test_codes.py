"""The check digit of 全国地方公共団体コード (kokasen/localgov/codes.py); the readings of typed
codes and names are tested through the address list (accounts/tests/test_address_list.py)."""

import pytest

from kokasen.localgov.codes import check_digit


@pytest.mark.parametrize("code", ["010006", "011002", "012025", "130001", "131016", "110027"])
def test_check_digit(code):
    assert check_digit(code[:5]) == code[5]


def test_check_digit_when_the_remainder_is_zero_or_one():
    assert check_digit("11000") == "1"  # 6 + 5 = 11, remainder 0 → 11 % 10
    assert check_digit("20000") == "0"  # 12, remainder 1 → 10 % 10
