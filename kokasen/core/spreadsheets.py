"""The one writer of spreadsheet files (Excel .xlsx through openpyxl, and CSV), for every
export of the portal. No Django: callers pass plain rows (lists of str, int, Decimal, float,
bool, naive datetime/date, or None) and get bytes (decision 0024).

Formula injection. A cell whose text begins with ``= + - @`` (or a full-width ``＝ ＋ － ＠``, any
other character that NFKC folds to one of them, the minus sign ``−``, or a tab, CR or LF) could
be run as a formula by Excel or LibreOffice (:func:`is_formula_like`).

* XLSX: every text is stored as a typed string cell (``data_type "s"``), never a formula, and a
  formula-like one also gets Excel's quote-prefix style, so that it stays text when somebody
  edits the cell. The cell's value is exactly the text given: Excel shows it as typed, with no
  apostrophe in the cell.
* CSV has no types, so a formula-like text is written with a leading apostrophe (OWASP's advice
  for CSV injection). That apostrophe is visible when the file is opened; it is the price of a
  format without types, and the reason the Excel files are preferred for reading.

Numbers, booleans and dates stay typed in XLSX (datetimes shown as ``yyyy-mm-dd hh:mm``); in CSV
they are written plainly (datetimes as ``YYYY-MM-DD HH:MM``). Aware datetimes are refused: the
caller converts them to local time first (Excel has no time zones).

CSV files are UTF-8 with CRLF line ends. With ``bom=True`` (the default) they start with a BOM:
Excel, the agency's and local governments' reader, opens a CSV without one as Shift_JIS and
garbles Japanese. Files read by a machine that would take the BOM for part of the first column's
name (the meeting tools' import CSVs) pass ``bom=False``.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import unicodedata
from collections.abc import Iterable, Sequence
from decimal import Decimal
from functools import cache
from types import SimpleNamespace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from openpyxl import Workbook

__all__ = [
    "CSV_CONTENT_TYPE",
    "XLSX_CONTENT_TYPE",
    "csv_bytes",
    "csv_cell",
    "is_formula_like",
    "new_workbook",
    "put",
    "sheet_title",
    "write_preface",
    "write_table",
    "xlsx_bytes",
    "xlsx_table",
]

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"

_FORMULA_SIGNS = frozenset("=+-@")
_LEADING_CONTROLS = frozenset("\t\r\n")
_MINUS_SIGN = "\u2212"  # −: what Japanese input methods type for "minus" (and NFKC of ⁻ ₋); NFKC keeps it
_DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
_DATE_FORMAT = "yyyy-mm-dd"


@cache
def _xl() -> SimpleNamespace:
    """openpyxl and the styles of every sheet, imported on the first spreadsheet written: the
    library (~20 MiB) stays out of the web workers, which import this module for its CSV half
    and write a workbook only on an export (decision 0063)."""
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    return SimpleNamespace(
        Workbook=Workbook,
        illegal=ILLEGAL_CHARACTERS_RE,
        column_letter=get_column_letter,
        header_font=Font(bold=True),
        header_fill=PatternFill("solid", fgColor="DDEBF7"),
        wrap=Alignment(wrap_text=True, vertical="top"),
        top=Alignment(vertical="top"),
    )


def is_formula_like(text: str) -> bool:
    """True when a spreadsheet could take ``text`` for a formula: it begins with = + - @ in
    half or full width, − (U+2212), any character NFKC folds to one of them (﹦, ⁺, ₋ …), or a
    tab, CR or LF."""
    if not text:
        return False
    if text[0] in _LEADING_CONTROLS:
        return True
    first = unicodedata.normalize("NFKC", text[0])[:1]
    return first in _FORMULA_SIGNS or first == _MINUS_SIGN


def _check_datetime(value: dt.datetime) -> None:
    if value.tzinfo is not None and value.utcoffset() is not None:
        raise TypeError("spreadsheets: convert aware datetimes to local time (tzinfo=None) first")


# --- CSV -------------------------------------------------------------------------------------------


def csv_cell(value) -> str:
    """The text of one CSV cell: formula-like text gets a leading apostrophe."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        _check_datetime(value)
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, (bool, int, float, Decimal)):
        return str(value)
    text = str(value)
    return "'" + text if is_formula_like(text) else text


def csv_bytes(header: Sequence, rows: Iterable[Sequence], *, bom: bool = True) -> bytes:
    """A CSV file: the header row, then the rows; UTF-8, CRLF, quoted where needed, every cell
    through :func:`csv_cell`. ``bom``: see the module's docstring."""
    out = io.StringIO()
    if bom:
        out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([csv_cell(v) for v in header])
    for row in rows:
        writer.writerow([csv_cell(v) for v in row])
    return out.getvalue().encode("utf-8")


# --- XLSX ------------------------------------------------------------------------------------------


def put(ws, row: int, column: int, value, *, wrap: bool = False, number_format: str | None = None):
    """Write one cell of an openpyxl worksheet (the only way this project writes one) and return it."""
    xl = _xl()
    cell = ws.cell(row=row, column=column)
    if isinstance(value, dt.datetime):
        _check_datetime(value)
        cell.value = value
        cell.number_format = _DATETIME_FORMAT
    elif isinstance(value, dt.date):
        cell.value = value
        cell.number_format = _DATE_FORMAT
    elif value is None or isinstance(value, (bool, int, float, Decimal)):
        cell.value = value
    else:
        text = xl.illegal.sub("", str(value))  # control characters XML cannot hold
        cell.value = text
        cell.data_type = "s"  # openpyxl would store "=..." as a formula
        if is_formula_like(text):
            cell.quotePrefix = True  # stays text when edited in Excel; not part of the value
    if number_format:
        cell.number_format = number_format
    cell.alignment = xl.wrap if wrap else xl.top
    return cell


def write_table(
    ws,
    top: int,
    headers: Sequence[str],
    rows: Iterable[Sequence],
    *,
    widths: Sequence[int] = (),
    wrap: Iterable[int] = (),
    thousands: bool = False,
) -> int:
    """A bold header row at ``top`` (frozen), the rows under it; ``widths`` of the columns,
    ``wrap``: 0-based columns whose text wraps; ``thousands``: integers of 1,000 and more shown
    with separators. Returns the next free row."""
    xl = _xl()
    wrap = set(wrap)
    for col, title in enumerate(headers, start=1):
        cell = put(ws, top, col, title)
        cell.font, cell.fill = xl.header_font, xl.header_fill
    for col, width in enumerate(widths, start=1):
        ws.column_dimensions[xl.column_letter(col)].width = width
    r = top + 1
    for values in rows:
        for col, value in enumerate(values, start=1):
            grouped = thousands and isinstance(value, int) and not isinstance(value, bool) and value >= 1000
            put(ws, r, col, value, wrap=col - 1 in wrap, number_format="#,##0" if grouped else None)
        r += 1
    ws.freeze_panes = ws.cell(row=top + 1, column=1)
    return r


def write_preface(ws, lines: Sequence[tuple[str, str]]) -> int:
    """Label/value lines above a table; returns the row for the table's header."""
    for i, (label, value) in enumerate(lines, start=1):
        put(ws, i, 1, label).font = _xl().header_font
        put(ws, i, 2, value)
    return len(lines) + 2 if lines else 1


def sheet_title(name: str, used: set[str]) -> str:
    """A worksheet name Excel accepts (no []:*?/\\, no quote at either end, 31 characters at
    most), unique among ``used`` (which it joins)."""
    base = re.sub(r"[\[\]:*?/\\]", "_", name).strip("'") or "シート"
    title, n = base[:31], 1
    while title in used:
        n += 1
        suffix = f"_{n}"
        title = base[: 31 - len(suffix)] + suffix
    used.add(title)
    return title


def new_workbook() -> Workbook:
    """An empty openpyxl workbook (openpyxl imported on first use, :func:`_xl`)."""
    return _xl().Workbook()


def xlsx_bytes(workbook: Workbook) -> bytes:
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def xlsx_table(
    headers: Sequence[str],
    rows: Iterable[Sequence],
    *,
    sheet: str,
    widths: Sequence[int] = (),
    wrap: Iterable[int] = (),
) -> bytes:
    """A workbook of one sheet holding one table (:func:`write_table`)."""
    workbook = new_workbook()
    ws = workbook.active
    ws.title = sheet_title(sheet, set())
    write_table(ws, 1, headers, rows, widths=widths, wrap=wrap)
    return xlsx_bytes(workbook)
