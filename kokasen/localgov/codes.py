"""全国地方公共団体コード as people type them: the check digit, and a cell mapped to a known code.

Pure Python, no Django. The callers (the address list, the meetings' roster, center list and
survey readers) pass the master data in: ``known`` maps a 6-digit code to the official name,
``prefecture_of`` a code to its prefecture's name.

Excel stores 団体コード as a number and drops the leading zero (011002 → 11002), also when the
sheet is then saved as CSV. A 5-digit value is therefore ambiguous: a 6-digit code that lost its
zero, or a 5-digit code without its check digit (13101 → 131016). Both readings are tried; the
one found in ``known`` wins, and if both are known, the one whose name matches. 1–4 digits can
only be a 5-digit code that lost zeros (1100 → 01100 → 011002). A 6-digit code with a wrong
check digit is an error, never "corrected".
"""

from __future__ import annotations

import re
import unicodedata

from kokasen.core.tables import cell_text, squash


def check_digit(first_five: str) -> str:
    """Check digit of a 全国地方公共団体コード (weights 6,5,4,3,2, modulus 11)."""
    total = sum(int(d) * w for d, w in zip(first_five, (6, 5, 4, 3, 2), strict=True))
    return str((11 - total % 11) % 10)


def resolve_code(
    value: object, name: str, known: dict[str, str], prefecture_of: dict[str, str]
) -> tuple[str | None, str | None]:
    """Map a 団体コード cell to a known 6-digit code: (code, None) or (None, message)."""
    text = unicodedata.normalize("NFKC", cell_text(value))  # full-width digits → ASCII
    if not text:
        return None, "団体コードがありません。"
    if not re.fullmatch(r"[0-9]{1,6}", text):
        return None, f"団体コード「{text}」は6桁の数字（全国地方公共団体コード）で入力してください。"
    if len(text) == 6:
        expected = text[:5] + check_digit(text[:5])
        if text != expected:
            return (
                None,
                f"団体コード「{text}」の6桁目（検査数字）が正しくありません（先頭5桁からは {expected} になります）。",
            )
        candidates = [text]
    elif len(text) == 5:
        candidates = [text + check_digit(text)]  # 5-digit code without its check digit
        if text[4] == check_digit("0" + text[:4]):
            candidates.append("0" + text)  # or a 6-digit code whose leading zero Excel dropped
    else:
        candidates = [text.zfill(5) + check_digit(text.zfill(5))]
    hits = [c for c in candidates if c in known]
    if len(hits) > 1:
        hits = [c for c in hits if name_matches(name, c, known, prefecture_of)] or hits
    if not hits:
        return None, f"団体コード「{text}」は全国地方公共団体コードにありません。"
    return hits[0], None


def name_matches(name: str, code: str, known: dict[str, str], prefecture_of: dict[str, str]) -> bool:
    """「札幌市」 and 「北海道札幌市」 both match 011002; a prefecture is its own name."""
    given, official, prefecture = squash(name), squash(known[code]), squash(prefecture_of.get(code, ""))
    return given == official or (bool(prefecture) and given == prefecture + official)
