"""Reading a table file from the agency or an operator: XLSX or CSV, with the problems it has.

Pure Python, no Django. The address list (kokasen/accounts/address_list.py), the meetings'
roster and center list (kokasen/meetings/roster_file.py) and the survey reader
(kokasen/meetings/survey_file.py) read their files with these helpers and report problems the same
way: a :class:`~kokasen.core.refusals.Problem` carries the row number a spreadsheet shows (the
header is row 1), the column, and a Japanese message for municipal staff.

Decisions worth knowing:

* XLSX is recognised by its content as well as by its name; the first sheet is read, not the
  active one. An OLE container (.xls, or an .xlsx protected by a password) is refused with the
  reason. A file that would unpack to more than ``MAX_XLSX_UNPACKED`` is refused (zip bomb).
* CSV is UTF-8, UTF-8 with BOM or CP932 (Shift_JIS). Python's cp932 codec decodes almost any
  byte (0x80 → U+0080, 0xA0/0xFD–0xFF → private use), so a decoded text with control or those
  private-use characters counts as undecodable.
* A problem with the whole file is raised as a :class:`~kokasen.core.refusals.Refused`
  (:func:`file_error`) and stops the reading; the readers catch it and return it with the row
  problems they collected, as their result's ``errors``.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
import zipfile
from collections.abc import Iterable, Iterator

from .refusals import Problem, Refused

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_XLSX_UNPACKED = 100 * 1024 * 1024  # a 5 MB zip could unpack to gigabytes (zip bomb)

UNDECODABLE = "文字コードを判別できません。UTF-8 または Shift_JIS（CP932）で保存してください。"


def file_error(message: str, column: str | None = None) -> Refused:
    """The refusal of a whole file (no row): raise it to stop reading."""
    return Refused(Problem(None, column, message))


# C0/C1 controls (except tab, CR, LF) and the private-use points cp932 gives to 0xA0, 0xFD–0xFF.
_GARBAGE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\uf8f0-\uf8f3]")


def open_table(data: bytes, filename: str) -> tuple[str, Iterable[tuple]]:
    """(encoding, rows): "xlsx", "utf-8", "utf-8-sig" or "cp932", and the rows as tuples of
    cell values. Raises Refused (:func:`file_error`)."""
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
        # Imported here, on the first .xlsx read: openpyxl (~20 MiB) stays out of the web workers,
        # which import this module through the accounts' selectors (decision 0063).
        import openpyxl

        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Refused:
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


def cell_text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # Excel keeps numbers as floats: 11002.0
    return "" if value is None else str(value).strip()


def squash(text: str) -> str:
    """Comparison form of a name or header: NFKC, without any space (full-width included)."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))
