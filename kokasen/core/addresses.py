"""E-mail addresses typed into the agency's files: splitting a cell and checking each address.

Pure Python, no Django. Used by the address list (kokasen/accounts/address_list.py) and the
meetings' roster (kokasen/meetings/roster_file.py). Addresses are NFKC-normalised first, so
full-width ASCII typed by mistake (ｔａｒｏ＠…) becomes valid silently; the callers lower-case
the domain and keep the local part as given.
"""

from __future__ import annotations

import re
import unicodedata

_SEPARATORS = re.compile(r"[,、;\s]+")  # after NFKC: ，→,  ；→;  full-width space → space
# RFC 5322 dot-atom without quotes (' and ` are more often typing slips than real addresses).
_LOCAL = re.compile(r"[A-Za-z0-9!#$%&*+/=?^_{|}~-]+(?:\.[A-Za-z0-9!#$%&*+/=?^_{|}~-]+)*")
_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
_TLD = re.compile(r"[A-Za-z]{2,63}|xn--[A-Za-z0-9-]{1,59}")


def split_addresses(text: str) -> list[str]:
    return [t for t in _SEPARATORS.split(unicodedata.normalize("NFKC", text)) if t]


def address_key(address: str) -> str:
    """De-duplication key: the domain is case-insensitive, the local part is not."""
    local, at, domain = address.rpartition("@")
    return f"{local}{at}{domain.lower()}" if at else address


def address_problem(address: str) -> str | None:
    """Why ``address`` (already NFKC-normalised) is not usable, or None if it is."""
    if not address.isascii():
        return "全角文字や日本語は使えません。"
    if len(address) > 254:
        return "長すぎます（254 文字まで）。"
    if address.count("@") != 1:
        return "「@」がありません。" if "@" not in address else "「@」が2つ以上あります。"
    local, domain = address.split("@")
    if not local or not domain:
        return "「@」の前後に文字が必要です。"
    if '"' in local or "'" in local or "`" in local:
        return "引用符は使えません。"
    if len(local) > 64:
        return "「@」の前が長すぎます（64 文字まで）。"
    if not _LOCAL.fullmatch(local):
        return "「@」の前に使えない文字があるか、「.」の位置が正しくありません。"
    labels = domain.split(".")
    if len(domain) > 255 or len(labels) < 2 or not all(map(_LABEL.fullmatch, labels)) or not _TLD.fullmatch(labels[-1]):
        return "「@」の後ろ（ドメイン）が正しくありません。"
    return None
