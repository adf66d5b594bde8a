"""The one spreadsheet writer (kokasen/core/spreadsheets.py): formula-like text stays text in
XLSX without a visible prefix and gets the apostrophe in CSV; numbers and dates stay typed.
No database: plain unittest."""

import csv
import datetime as dt
import io
import subprocess
import sys
import unittest
from decimal import Decimal

import openpyxl

from kokasen.core import spreadsheets

# Every leading sign a spreadsheet may take for the start of a formula, half and full width.
HOSTILE = [
    '=HYPERLINK("http://evil.example","開く")',
    "=1+2",
    "+1+2",
    "-1+2",
    "-",
    "@SUM(A1:A2)",
    "＝1+2",
    '＝HYPERLINK("http://evil.example")',
    "＋1+2",
    "－1+2",
    "＠SUM(A1:A2)",
    "﹦1+2",
    "﹢1",
    "﹣1",
    "﹫SUM(1)",
    "⁼1",
    "⁺1",
    "₋1",  # small and super/subscript forms (NFKC)
    "−1+2",  # U+2212 MINUS SIGN
    "\t=1+2",
    "\r=1+2",
    "\n=1+2",
    "\r\n=1+2",
]
HARMLESS = ["北海道札幌市", "a=b", " =1+2", "'quoted", "―", "—", "ー", "1+2", ""]


def read_xlsx(data: bytes):
    return openpyxl.load_workbook(io.BytesIO(data)).active


class FormulaLikeTestCase(unittest.TestCase):
    def test_it_knows_every_hostile_sign(self):
        for text in HOSTILE:
            self.assertTrue(spreadsheets.is_formula_like(text), repr(text))

    def test_it_leaves_ordinary_text_alone(self):
        for text in HARMLESS:
            self.assertFalse(spreadsheets.is_formula_like(text), repr(text))


class XlsxTestCase(unittest.TestCase):
    def test_hostile_cells_are_string_cells_equal_to_the_input(self):
        ws = read_xlsx(spreadsheets.xlsx_table(["入力"], [[text] for text in HOSTILE], sheet="試験"))
        self.assertEqual(ws.title, "試験")
        cells = [row[0] for row in ws.iter_rows(min_row=2)]
        self.assertEqual(len(cells), len(HOSTILE))
        for cell, text in zip(cells, HOSTILE):
            with self.subTest(text=text):
                self.assertEqual(cell.data_type, "s")
                self.assertEqual(cell.value, text)  # no apostrophe or anything else added
                self.assertFalse(cell.value.startswith("'"))
                self.assertTrue(cell.quotePrefix)  # Excel keeps it text when the cell is edited

    def test_no_cell_is_ever_a_formula(self):
        data = spreadsheets.xlsx_table(["=A1", "@B1"], [HOSTILE[:2], HOSTILE[2:4]], sheet="s")
        cells = [c for row in read_xlsx(data).iter_rows() for c in row]
        self.assertEqual([c for c in cells if c.data_type == "f"], [])
        self.assertEqual(cells[0].value, "=A1")

    def test_ordinary_text_has_no_quote_prefix(self):
        ws = read_xlsx(spreadsheets.xlsx_table(["h"], [[t] for t in HARMLESS if t], sheet="s"))
        for row in ws.iter_rows(min_row=2):
            self.assertEqual(row[0].data_type, "s")
            self.assertFalse(row[0].quotePrefix, row[0].value)

    def test_numbers_and_dates_stay_typed(self):
        when = dt.datetime(2026, 4, 1, 9, 30)
        row = [12, -5, 1.5, Decimal("2.25"), True, when, dt.date(2026, 4, 1), None]
        ws = read_xlsx(spreadsheets.xlsx_table(list("abcdefgh"), [row], sheet="s"))
        cells = list(ws.iter_rows(min_row=2))[0]
        self.assertEqual([c.value for c in cells[:5]], [12, -5, 1.5, 2.25, True])
        self.assertEqual([c.data_type for c in cells[:5]], ["n", "n", "n", "n", "b"])
        self.assertEqual(cells[5].value, when)
        self.assertEqual(cells[5].number_format, "yyyy-mm-dd hh:mm")
        self.assertEqual(cells[6].value, dt.datetime(2026, 4, 1))  # openpyxl reads dates back as datetimes
        self.assertTrue(cells[6].is_date)
        self.assertIsNone(cells[7].value)

    def test_aware_datetimes_are_refused(self):
        with self.assertRaises(TypeError):
            spreadsheets.xlsx_table(["h"], [[dt.datetime(2026, 4, 1, tzinfo=dt.UTC)]], sheet="s")
        with self.assertRaises(TypeError):
            spreadsheets.csv_cell(dt.datetime(2026, 4, 1, tzinfo=dt.UTC))

    def test_control_characters_xml_cannot_hold_are_dropped(self):
        ws = read_xlsx(spreadsheets.xlsx_table(["h"], [["ベル\x07と\x0bタブ\tは"]], sheet="s"))
        self.assertEqual(ws["A2"].value, "ベルとタブ\tは")

    def test_header_is_frozen_and_sheet_names_are_made_valid(self):
        ws = read_xlsx(spreadsheets.xlsx_table(["h"], [], sheet="'会議室[1]/A:B'"))
        self.assertEqual(ws.freeze_panes, "A2")
        self.assertEqual(ws.title, "会議室_1__A_B")
        used = set()
        self.assertEqual([spreadsheets.sheet_title("あ" * 40, used) for _ in range(2)], ["あ" * 31, "あ" * 29 + "_2"])


class CsvTestCase(unittest.TestCase):
    def test_hostile_cells_get_the_apostrophe_and_nothing_else_changes(self):
        data = spreadsheets.csv_bytes(["入力"], [[t] for t in HOSTILE + HARMLESS])
        self.assertTrue(data.startswith(b"\xef\xbb\xbf"))
        text = data.decode("utf-8-sig")
        rows = list(csv.reader(io.StringIO(text, newline="")))
        self.assertEqual(rows[0], ["入力"])
        self.assertEqual([r[0] for r in rows[1:]], ["'" + t for t in HOSTILE] + HARMLESS)
        # as text, the guarded forms are what a spreadsheet reads first in each cell
        for sign in ("'=1+2", "'+1+2", "'-1+2", "'@SUM", "'＝1+2", "'＋1+2", "'－1+2", "'＠SUM", "'−1+2"):
            self.assertIn(sign, text)
        self.assertIn("'\t=1+2", text)
        self.assertIn('"\'\r=1+2"', text)  # a CR inside a cell is quoted by the csv module

    def test_rows_end_in_crlf_and_bom_is_optional(self):
        data = spreadsheets.csv_bytes(
            ("Pre-assign Room Name", "Email Address"), [("グループ1", "a@example.jp")], bom=False
        )
        self.assertEqual(data, "Pre-assign Room Name,Email Address\r\nグループ1,a@example.jp\r\n".encode())

    def test_numbers_and_dates_are_written_plainly(self):
        row = [12, -5, Decimal("2.50"), dt.datetime(2026, 4, 1, 9, 30, 15), dt.date(2026, 4, 1), None]
        data = spreadsheets.csv_bytes(list("abcdef"), [row], bom=False)
        self.assertEqual(data.decode().splitlines()[1], "12,-5,2.50,2026-04-01 09:30,2026-04-01,")


class DjangoFreeTestCase(unittest.TestCase):
    def test_the_writer_imports_without_django(self):
        code = "import sys; import kokasen.core.spreadsheets; sys.exit('django' in sys.modules)"
        subprocess.run([sys.executable, "-c", code], check=True)
