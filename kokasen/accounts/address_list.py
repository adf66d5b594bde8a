"""Read and validate the agency's address list of local governments (REQUIREMENTS P2.6).

Pure Python, no Django: the management command ``import_address_list``, the admin screen and
the tests share this parser. The caller passes the master data (``known``: code → official
name, ``prefecture_of``: code → prefecture name) and decides what to do with the result;
nothing here touches the database. Every problem is collected with the row number a
spreadsheet shows (the header is row 1) and a Japanese message for municipal staff.

The file is read by ``kokasen/core/tables.py`` (XLSX or CSV in UTF-8 / BOM / CP932), 団体コード
and 団体名 are checked by ``kokasen/localgov/codes.py`` (check digit, Excel's dropped zeros,
names with or without the prefecture) and addresses by ``kokasen/core/addresses.py``; the
meetings' roster and survey readers use the same helpers.

Decisions worth knowing:

* Addresses are NFKC-normalised first, so full-width ASCII typed by mistake (ｔａｒｏ＠…)
  becomes valid silently. The domain is lower-cased; the local part is kept as given.
* File-level problems (size, encoding, unreadable file, missing column, too many rows, no
  data) stop the reading; row problems are all collected.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

from kokasen.core.addresses import address_key, address_problem, split_addresses
from kokasen.core.refusals import Problem, Refused
from kokasen.core.tables import MAX_FILE_BYTES, cell_text, file_error, open_table, squash
from kokasen.localgov.codes import name_matches, resolve_code

MAX_DATA_ROWS = 5_000
MAX_CELL_CHARS = 1_000

COL_CODE, COL_NAME, COL_EMAIL = "団体コード", "団体名", "メールアドレス"
REQUIRED_COLUMNS = (COL_CODE, COL_NAME, COL_EMAIL)


@dataclass(frozen=True)
class Entry:
    code: str  # 6-digit 全国地方公共団体コード
    name: str  # official name from ``known``, not the text in the file
    addresses: tuple[str, ...]
    rows: tuple[int, ...]  # the spreadsheet rows it was merged from


@dataclass
class AddressListResult:
    entries: list[Entry] = field(default_factory=list)
    errors: list[Problem] = field(default_factory=list)
    encoding: str = ""  # "utf-8", "utf-8-sig", "cp932", "xlsx"; "" if not determined

    @property
    def ok(self) -> bool:
        return not self.errors


def parse_address_list(
    data: bytes, filename: str, *, known: dict[str, str], prefecture_of: dict[str, str]
) -> AddressListResult:
    encoding = ""
    try:
        if len(data) > MAX_FILE_BYTES:
            raise file_error(
                f"ファイルが大きすぎます（{len(data) / 1024 / 1024:.1f} MB）。"
                f"{MAX_FILE_BYTES // 1024 // 1024} MB 以下にしてください。"
            )
        encoding, rows = open_table(data, filename)
        return _validate(rows, encoding, known, prefecture_of)
    except Refused as exc:  # the whole file (core.tables.file_error)
        return AddressListResult(errors=exc.problems, encoding=encoding)


def _validate(
    rows: Iterable[tuple], encoding: str, known: dict[str, str], prefecture_of: dict[str, str]
) -> AddressListResult:
    rows = iter(rows)
    header_row = next(rows, None)
    if header_row is None:
        raise file_error("ファイルが空です。")
    header = [squash(cell_text(v)) for v in header_row]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise Refused(
            *(Problem(None, c, f"必須の列「{c}」がありません（1行目の見出しを確認してください）。") for c in missing)
        )
    doubled = [c for c in REQUIRED_COLUMNS if header.count(c) > 1]
    if doubled:
        raise file_error(f"列「{doubled[0]}」が2つ以上あります。1つにまとめてください。", doubled[0])
    columns = {c: header.index(c) for c in REQUIRED_COLUMNS}

    errors: list[Problem] = []
    first_row_of: dict[tuple, int] = {}  # (code, addresses) → first row with that content
    merged: dict[str, tuple[dict[str, None], list[int]]] = {}  # code → (ordered set of addresses, rows)
    count = 0
    for row, values in enumerate(rows, start=2):
        texts = [cell_text(v) for v in values]
        if not any(texts):
            continue  # blank rows, including Excel's trailing ones, are skipped silently
        count += 1
        if count > MAX_DATA_ROWS:
            raise file_error(f"データが {MAX_DATA_ROWS:,} 行を超えています。ファイルを分けてください。")
        labels = [header[i] if i < len(header) and header[i] else f"{i + 1}列目" for i in range(len(texts))]
        problems, code, addresses, content = _check_row(row, values, texts, labels, columns, known, prefecture_of)
        errors.extend(problems)
        first = first_row_of.setdefault(content, row)
        if first != row:
            errors.append(Problem(row, None, f"{first}行目と同じ内容の行です。"))
        if code is not None:
            found, found_rows = merged.setdefault(code, ({}, []))
            for address in addresses:
                found.setdefault(address)  # an ordered set; domains are already lower-cased
            found_rows.append(row)
    if count == 0 and not errors:
        raise file_error("2行目以降にデータがありません。")

    # Rows are read in order and each row's problems in column order, so ``errors`` is
    # already sorted by row; file-level problems never mix with row problems.
    entries = (
        []
        if errors
        else [
            Entry(code, known[code], tuple(found), tuple(found_rows))
            for code, (found, found_rows) in sorted(merged.items())
        ]
    )
    return AddressListResult(entries=entries, errors=errors, encoding=encoding)


def _check_row(
    row: int,
    values: tuple,
    texts: list[str],
    labels: list[str],
    columns: dict[str, int],
    known: dict[str, str],
    prefecture_of: dict[str, str],
) -> tuple[list[Problem], str | None, list[str], tuple]:
    """Return (problems, code or None, valid addresses, duplicate key) for one data row."""
    problems: list[Problem] = []
    too_long = {i for i, t in enumerate(texts) if len(t) > MAX_CELL_CHARS}
    for i in sorted(too_long):
        message = f"セルの文字数が多すぎます（{len(texts[i]):,} 文字）。{MAX_CELL_CHARS:,} 文字以内にしてください。"
        problems.append(Problem(row, labels[i], message))

    def cell(column: str) -> tuple[object, str, bool]:
        i = columns[column]
        return (values[i], texts[i], i in too_long) if i < len(texts) else (None, "", False)

    code_value, code_text, code_long = cell(COL_CODE)
    _, name, name_long = cell(COL_NAME)
    _, email_text, email_long = cell(COL_EMAIL)

    code = None
    if not code_long:
        code, message = resolve_code(code_value, name, known, prefecture_of)
        if message:
            problems.append(Problem(row, COL_CODE, message))
    if not name_long:
        if not name:
            problems.append(Problem(row, COL_NAME, "団体名がありません。"))
        elif code is not None and not name_matches(name, code, known, prefecture_of):
            message = f"団体コード {code} は「{known[code]}」ですが、団体名が「{name}」になっています。"
            problems.append(Problem(row, COL_NAME, message))

    addresses: list[str] = []
    tokens = [] if email_long else split_addresses(email_text)
    if not email_long and not tokens:
        problems.append(Problem(row, COL_EMAIL, "メールアドレスがありません。"))
    for token in tokens:
        reason = address_problem(token)
        if reason:
            problems.append(Problem(row, COL_EMAIL, f"メールアドレス「{token}」の形式が正しくありません。{reason}"))
        else:
            local, domain = token.split("@")
            addresses.append(f"{local}@{domain.lower()}")

    # Duplicate rows compare code and the set of addresses (order and domain case ignored).
    content = (code or unicodedata.normalize("NFKC", code_text), frozenset(map(address_key, tokens)))
    return problems, code, addresses, content
