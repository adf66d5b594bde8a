"""User text: how long it is as people see it, and what is taken out before it is stored.

Django-free (plain unit tests in core/tests/test_text.py). Used by the 小ネタ posts and the 意見箱
(services and ``forms.short_text_field``).

Length is counted in *user-perceived characters*: an approximation of Unicode extended
grapheme clusters (UAX #29) small enough to keep here without a dependency. A cluster is a
base character followed by everything that never stands alone:

- combining marks (general category M*: ``か`` + U+3099 is one character, as is ``e`` + U+0301),
- variation selectors (U+FE00–FE0F, U+E0100–E01EF: ``葛󠄀`` is one character),
- emoji modifiers (skin tones, U+1F3FB–1F3FF) and tag characters (U+E0020–E007F),
- ZERO WIDTH JOINER sequences (``👨‍👩‍👧`` is one character),
- a pair of regional indicators (``🇯🇵`` is one character),
- and CR LF counts as one line break.

Hangul syllable composition from conjoining jamo and some Indic rules are not modelled; for
the Japanese text this board receives the count equals what a person would count.

A second, plain ceiling on code points stops the one "character" that carries thousands of
combining marks (Zalgo text) from filling the database: see ``MAX_CODE_POINTS_PER_CHARACTER``.

Stored text keeps what the user typed (no NFKC folding of full-width letters: 「ＡＢＣ」 stays
as typed), except:

- bidirectional embedding and override controls (U+202A–U+202E, U+2066–U+2069) are REMOVED
  on save: they let a post display text in an order other than the stored one (the
  "Trojan Source" trick), and Japanese text never needs them;
- C0/C1 control characters other than tab and line feed are removed, and CR LF / CR become LF.
"""

from __future__ import annotations

import unicodedata

BIDI_CONTROLS = frozenset(chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A)))
ZWJ = "\u200d"
# Code points allowed per counted character on average: generous for emoji sequences
# (a family emoji is 5-7 code points), small enough to refuse Zalgo padding.
MAX_CODE_POINTS_PER_CHARACTER = 8


def _is_extender(ch: str) -> bool:
    cp = ord(ch)
    if unicodedata.category(ch) in ("Mn", "Mc", "Me"):
        return True
    return (
        0xFE00 <= cp <= 0xFE0F  # variation selectors
        or 0xE0100 <= cp <= 0xE01EF  # ideographic variation selectors
        or 0x1F3FB <= cp <= 0x1F3FF  # emoji skin-tone modifiers
        or 0xE0020 <= cp <= 0xE007F  # tag characters (subdivision flags)
        or cp == 0x200C  # zero width non-joiner attaches to its neighbour
    )


def _is_regional_indicator(ch: str) -> bool:
    return 0x1F1E6 <= ord(ch) <= 0x1F1FF


def grapheme_count(text: str) -> int:
    """Characters as a person counts them (see the module docstring)."""
    count = 0
    previous = ""
    after_zwj = False
    pending_ri = False  # one regional indicator seen, waiting for its pair
    for ch in text:
        if previous == "\r" and ch == "\n":
            previous = ch
            continue
        if ch == ZWJ:
            after_zwj = count > 0
            previous = ch
            continue
        if after_zwj:
            after_zwj = False
            previous = ch
            continue
        if count and _is_extender(ch):
            previous = ch
            continue
        if _is_regional_indicator(ch):
            if pending_ri:
                pending_ri = False
                previous = ch
                continue
            pending_ri = True
        else:
            pending_ri = False
        count += 1
        previous = ch
    return count


def clean(text: str) -> str:
    """The text as it is stored: bidi controls and stray control characters removed, line
    breaks as LF, surrounding white space trimmed."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    kept = []
    for ch in text:
        if ch in BIDI_CONTROLS:
            continue
        if ch not in "\n\t" and unicodedata.category(ch) == "Cc":
            continue
        kept.append(ch)
    return "".join(kept).strip()


def too_long(text: str, limit: int) -> bool:
    """More than ``limit`` characters, or more code points than that many characters can
    plausibly need."""
    return len(text) > limit * MAX_CODE_POINTS_PER_CHARACTER or grapheme_count(text) > limit
