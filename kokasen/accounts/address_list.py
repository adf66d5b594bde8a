"""Read and validate the agency's address list of local governments (REQUIREMENTS P2.6).

Pure Python, no Django: the management command ``import_address_list``, the admin screen and
the tests share this parser. The caller passes the master data (``known``: code → official
name, ``prefecture_of``: code → prefecture name) and decides what to do with the result;
nothing here touches the database. Every problem is collected with the row number a
spreadsheet shows (the header is row 1) and a Japanese message for municipal staff.

The reading helpers (``open_table``, ``cell_text``, ``squash``, ``file_error``/``FileError``,
``resolve_code``, ``name_matches``, ``split_addresses``, ``address_problem``) are public: the
meetings' roster and survey readers (kokasen/meetings/roster.py, survey.py) use them too.

Decisions worth knowing:

* Excel stores 団体コード as a number and drops the leading zero (011002 → 11002), also when
  the sheet is then saved as CSV. A 5-digit value is therefore ambiguous: a 6-digit code that
  lost its zero, or a 5-digit code without its check digit (13101 → 131016). Both readings are
  tried; the one found in ``known`` wins, and if both are known, the one whose name matches.
  1–4 digits can only be a 5-digit code that lost zeros (1100 → 01100 → 011002).
* A 6-digit code with a wrong check digit is an error, never "corrected".
* Addresses are NFKC-normalised first, so full-width ASCII typed by mistake (ｔａｒｏ＠…)
  becomes valid silently. The domain is lower-cased; the local part is kept as given.
* Python's cp932 codec decodes almost any byte (0x80 → U+0080, 0xA0/0xFD–0xFF → private use),
  so a decoded text with control or those private-use characters counts as undecodable.
* File-level problems (size, encoding, unreadable file, missing column, too many rows, no
  data) stop the reading; row problems are all collected.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import openpyxl

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_DATA_ROWS = 5_000
MAX_CELL_CHARS = 1_000
MAX_XLSX_UNPACKED = 100 * 1024 * 1024  # a 5 MB zip could unpack to gigabytes (zip bomb)

COL_CODE, COL_NAME, COL_EMAIL = "団体コード", "団体名", "メールアドレス"
REQUIRED_COLUMNS = (COL_CODE, COL_NAME, COL_EMAIL)

UNDECODABLE = "文字コードを判別できません。UTF-8 または Shift_JIS（CP932）で保存してください。"


@dataclass(frozen=True)
class Problem:
    row: int | None  # spreadsheet row (header = 1); None for a problem with the whole file
    column: str | None
    message: str

    def __str__(self) -> str:
        if self.row is None:
            return self.message
        column = f"（{self.column}）" if self.column else ""
        return f"{self.row}行目{column}：{self.message}"


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


class FileError(Exception):
    """The whole file is unusable; carries one or more file-level problems."""

    def __init__(self, *problems: Problem):
        super().__init__(*problems)
        self.problems = list(problems)


def file_error(message: str, column: str | None = None) -> FileError:
    return FileError(Problem(None, column, message))


def check_digit(first_five: str) -> str:
    """Check digit of a 全国地方公共団体コード (weights 6,5,4,3,2, modulus 11)."""
    total = sum(int(d) * w for d, w in zip(first_five, (6, 5, 4, 3, 2), strict=True))
    return str((11 - total % 11) % 10)


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
    except FileError as exc:
        return AddressListResult(errors=exc.problems, encoding=encoding)


# --- reading ---------------------------------------------------------------------------------

# C0/C1 controls (except tab, CR, LF) and the private-use points cp932 gives to 0xA0, 0xFD–0xFF.
_GARBAGE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\uf8f0-\uf8f3]")


def open_table(data: bytes, filename: str) -> tuple[str, Iterable[tuple]]:
    name = filename.lower()
    if data.startswith(b"\xd0\xcf\x11\xe0") or name.endswith(".xls"):
        # OLE container: Excel 97–2003, or an .xlsx protected by a password.
        raise file_error(
            "古い Excel 形式（.xls）やパスワード付きのファイルは読めません。"
            "パスワードなしの .xlsx か CSV で保存し直してください。"
        )
    if data.startswith(b"PK\x03\x04") or name.endswith((".xlsx", ".xlsm")):
        return "xlsx", _xlsx_rows(data)
    for encoding in ("utf-8-sig",) if data.startswith(codecs.BOM_UTF8) else ("utf-8", "cp932"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if not _GARBAGE.search(text):
            return encoding, _csv_rows(text)
    raise file_error(UNDECODABLE)


def _xlsx_rows(data: bytes) -> Iterator[tuple]:
    unreadable = "Excel ファイル（.xlsx）として読めません。ファイルが壊れていないか確認してください。"
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if sum(info.file_size for info in archive.infolist()) > MAX_XLSX_UNPACKED:
                raise file_error("Excel ファイルの中身が大きすぎます。不要なシートや書式を削除してください。")
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except FileError:
        raise
    except Exception as exc:  # openpyxl raises many kinds (BadZipFile, KeyError, XML errors…)
        raise file_error(unreadable) from exc
    try:
        # The first sheet, not the active one. read_only mode yields blank rows for gaps,
        # so counting rows gives the row numbers a spreadsheet shows.
        yield from workbook.worksheets[0].iter_rows(values_only=True)
    except Exception as exc:
        raise file_error(unreadable) from exc
    finally:
        workbook.close()


def _csv_rows(text: str) -> Iterator[tuple]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        # One record is one spreadsheet row, even if a quoted cell holds line breaks.
        for record in reader:
            yield tuple(record)
    except csv.Error as exc:
        raise file_error(f"CSV として読めません（{reader.line_num}行目付近）。") from exc


# --- validating ------------------------------------------------------------------------------


def cell_text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # Excel keeps numbers as floats: 11002.0
    return "" if value is None else str(value).strip()


def squash(text: str) -> str:
    """Comparison form of a name or header: NFKC, without any space (full-width included)."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


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
        raise FileError(
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
    content = (code or unicodedata.normalize("NFKC", code_text), frozenset(map(_address_key, tokens)))
    return problems, code, addresses, content


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


# --- e-mail addresses ------------------------------------------------------------------------

_SEPARATORS = re.compile(r"[,、;\s]+")  # after NFKC: ，→,  ；→;  full-width space → space
# RFC 5322 dot-atom without quotes (' and ` are more often typing slips than real addresses).
_LOCAL = re.compile(r"[A-Za-z0-9!#$%&*+/=?^_{|}~-]+(?:\.[A-Za-z0-9!#$%&*+/=?^_{|}~-]+)*")
_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
_TLD = re.compile(r"[A-Za-z]{2,63}|xn--[A-Za-z0-9-]{1,59}")


def split_addresses(text: str) -> list[str]:
    return [t for t in _SEPARATORS.split(unicodedata.normalize("NFKC", text)) if t]


def _address_key(address: str) -> str:
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
