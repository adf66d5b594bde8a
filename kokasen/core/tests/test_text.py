"""User-perceived length and the cleaning of stored text (kokasen/core/text.py)."""

import pytest

from kokasen.core import text


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("", 0),
        ("こんにちは", 5),
        ("ＡＢＣabc１２３", 9),  # full- and half-width mixed: each is one
        ("ｶﾞｷﾞ", 4),  # half-width katakana with separate voiced marks (U+FF9E is not combining)
        ("か\u3099き\u3099", 2),  # hiragana + combining voiced sound mark
        ("e\u0301", 1),  # e + combining acute
        ("👍", 1),
        ("👍🏽", 1),  # skin-tone modifier
        ("👨‍👩‍👧‍👦", 1),  # ZWJ family
        ("🇯🇵🇺🇸", 2),  # two flags (regional indicator pairs)
        ("葛\U000e0100", 1),  # ideographic variation selector
        ("❤️", 1),  # heart + VS16
        ("a\r\nb", 3),  # CR LF is one line break
    ],
)
def test_grapheme_count(value, expected):
    assert text.grapheme_count(value) == expected


def test_too_long_counts_graphemes_not_code_points():
    assert not text.too_long("👨‍👩‍👧‍👦" * 10, 10)
    assert text.too_long("👨‍👩‍👧‍👦" * 11, 10)
    assert text.too_long("あ" * 11, 10)


def test_zalgo_padding_is_refused_by_the_code_point_ceiling():
    zalgo = "あ" + "\u0301" * 500  # one "character" of 501 code points
    assert text.grapheme_count(zalgo) == 1
    assert text.too_long(zalgo, 10)


def test_clean_removes_bidi_controls_and_stray_controls():
    hostile = "請求\u202eテキスト\u202c\u2066隔離\u2069\x00\x07\x1b[31m赤"
    cleaned = text.clean(hostile)
    assert not any(ch in cleaned for ch in text.BIDI_CONTROLS)
    assert "\x00" not in cleaned and "\x1b" not in cleaned and "\x07" not in cleaned
    assert cleaned == "請求テキスト隔離[31m赤"


def test_clean_keeps_what_people_typed():
    typed = "  ＡＢＣ　abc\r\n1行目\r2行目\t<b>&amp;</b> 👍🏽  "
    assert text.clean(typed) == "ＡＢＣ　abc\n1行目\n2行目\t<b>&amp;</b> 👍🏽"
