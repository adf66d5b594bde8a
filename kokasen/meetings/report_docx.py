"""The implementation report as a Word file (python-docx), for the agency to edit and submit.

Lays out :func:`kokasen.meetings.report_outline.outline`: a title page, numbered headings (Word's
見出し 1–3, so the navigation pane and a table of contents work), tables with a repeated header
row, the charts as PNG images (charts.png) with captions, page numbers in the footer. East Asian
text is set in 游ゴシック (w:eastAsia; Word on Windows and macOS has it, other programs substitute
a Japanese gothic font), Latin text in Yu Gothic (the same family). Survey free text is included
with a review note (decision 0016).

Deterministic: the document properties carry the report's date, not the time of generation, and
the ZIP entries a fixed timestamp, so the same data gives the same bytes.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor

from . import charts
from .report import ReportData
from .report_outline import FigureBlock, FreeText, Heading, PageBreak, Para, Table, outline

EAST_ASIAN_FONT = "游ゴシック"
LATIN_FONT = "Yu Gothic"
TEXT_WIDTH_CM = 16.0  # A4 (21 cm) minus 2.5 cm margins
ZIP_TIME = (2000, 1, 1, 0, 0, 0)
HEADER_FILL = "D9E2F3"
TOTAL_FILL = "F2F2F2"


def _set_fonts(rpr_parent) -> None:
    """Set the font of a style's or of docDefaults' run properties, dropping theme fonts
    (they would override the explicit names) and marking the text as Japanese."""
    rpr = rpr_parent.find(qn("w:rPr"))
    if rpr is None:
        rpr = OxmlElement("w:rPr")
        rpr_parent.append(rpr)
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for attribute in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(attribute), None)
    fonts.set(qn("w:ascii"), LATIN_FONT)
    fonts.set(qn("w:hAnsi"), LATIN_FONT)
    fonts.set(qn("w:eastAsia"), EAST_ASIAN_FONT)
    fonts.set(qn("w:cs"), LATIN_FONT)
    lang = rpr.find(qn("w:lang"))
    if lang is None:
        lang = OxmlElement("w:lang")
        rpr.append(lang)
    lang.set(qn("w:val"), "ja-JP")
    lang.set(qn("w:eastAsia"), "ja-JP")


def _styles(document) -> None:
    defaults = document.styles.element.find(qn("w:docDefaults"))
    rpr_default = defaults.find(qn("w:rPrDefault"))
    _set_fonts(rpr_default)
    sizes = {
        "Normal": 10.5,
        "Title": 24,
        "Subtitle": 14,
        "Heading 1": 16,
        "Heading 2": 13,
        "Heading 3": 11,
        "Caption": 9,
        "List Bullet": 10.5,
    }
    for name, size in sizes.items():
        style = document.styles[name]
        _set_fonts(style.element)
        style.font.size = Pt(size)
        if name.startswith("Heading") or name == "Title":
            style.font.color.rgb = RGBColor(0x1F, 0x3A, 0x68)
    document.styles["Caption"].font.bold = True
    document.styles["Caption"].font.color.rgb = RGBColor(0x22, 0x22, 0x22)


def _page(document) -> None:
    section = document.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Cm(21.0), Cm(29.7)
    for side in ("left_margin", "right_margin"):
        setattr(section, side, Cm(2.5))
    section.top_margin, section.bottom_margin = Cm(2.2), Cm(2.2)
    section.different_first_page_header_footer = True  # no number on the title page
    footer = section.footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), "PAGE")
    run = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = "1"
    run.append(text)
    field.append(run)
    footer.add_run("– ")
    footer._p.append(field)
    footer.add_run(" –")


def _shade(cell, fill: str) -> None:
    shading = OxmlElement("w:shd")
    shading.set(qn("w:val"), "clear")
    shading.set(qn("w:color"), "auto")
    shading.set(qn("w:fill"), fill)
    cell._tc.get_or_add_tcPr().append(shading)


def _cell_text(cell, text: str, *, bold: bool = False, align=None) -> None:
    lines = text.split("\n")
    paragraph = cell.paragraphs[0]
    for i, line in enumerate(lines):
        if i:
            paragraph = cell.add_paragraph()
        run = paragraph.add_run(line)
        run.bold = bold
        run.font.size = Pt(9)
        if align is not None:
            paragraph.alignment = align
        paragraph.paragraph_format.space_after = Pt(0)


def _is_number(text: str) -> bool:
    stripped = text.replace(",", "").replace("%", "").replace(".", "").replace("倍", "").replace(" / ", "").strip()
    return stripped.isdigit()


def _table(document, block: Table) -> None:
    caption = document.add_paragraph(block.caption, style="Caption")
    caption.paragraph_format.keep_with_next = True
    table = document.add_table(rows=1, cols=len(block.header))
    table.style = document.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    total = sum(block.widths)
    widths = [Cm(TEXT_WIDTH_CM * w / total) for w in block.widths]
    header = table.rows[0]
    header_pr = header._tr.get_or_add_trPr()
    repeat = OxmlElement("w:tblHeader")  # repeat the header row on every page
    repeat.set(qn("w:val"), "true")
    header_pr.append(repeat)
    for cell, text, width in zip(header.cells, block.header, widths):
        _cell_text(cell, text, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER)
        _shade(cell, HEADER_FILL)
        cell.width = width
    for r, values in enumerate(block.rows):
        row = table.add_row()
        last = block.total and r == len(block.rows) - 1
        for cell, text, width in zip(row.cells, values, widths):
            _cell_text(
                cell,
                text,
                bold=last,
                align=WD_ALIGN_PARAGRAPH.RIGHT if block.align_numbers and _is_number(text) else None,
            )
            cell.width = width
            if last:
                _shade(cell, TOTAL_FILL)
    document.add_paragraph()


def _figure(document, block: FigureBlock) -> None:
    picture = document.add_paragraph()
    picture.alignment = WD_ALIGN_PARAGRAPH.CENTER
    picture.paragraph_format.keep_with_next = True
    shape = picture.add_run().add_picture(io.BytesIO(charts.png(block.chart)), width=Cm(TEXT_WIDTH_CM))
    # Alternative text for screen readers: the caption and every value of the chart.
    shape._inline.docPr.set("descr", f"{block.caption}。{charts.describe(block.chart)}")
    shape._inline.docPr.set("title", block.caption)
    caption = document.add_paragraph(block.caption, style="Caption")
    caption.alignment = WD_ALIGN_PARAGRAPH.CENTER


def _para(document, block: Para) -> None:
    if block.kind == "title":
        paragraph = document.add_paragraph(style="Title")
        paragraph.paragraph_format.space_before = Pt(180)
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        paragraph.add_run(block.text)
    elif block.kind == "subtitle":
        paragraph = document.add_paragraph(block.text, style="Subtitle")
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    elif block.kind == "date":
        paragraph = document.add_paragraph()
        paragraph.paragraph_format.space_before = Pt(48)
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        paragraph.add_run(block.text).font.size = Pt(14)
    elif block.kind == "question":
        paragraph = document.add_paragraph()
        paragraph.paragraph_format.keep_with_next = True
        paragraph.add_run(block.text).bold = True
    elif block.kind == "note":
        paragraph = document.add_paragraph()
        run = paragraph.add_run(block.text)
        run.font.size = Pt(9.5)
        run.font.color.rgb = RGBColor(0x44, 0x44, 0x44)
    else:
        document.add_paragraph(block.text)


def _free_text(document, block: FreeText) -> None:
    note = document.add_paragraph()
    run = note.add_run(block.note)
    run.bold = True
    run.font.size = Pt(9.5)
    run.font.color.rgb = RGBColor(0xB0, 0x00, 0x20)
    for answer in block.answers:
        paragraph = document.add_paragraph(style="List Bullet")
        for i, line in enumerate(answer.split("\n")):
            if i:
                paragraph.add_run().add_break(WD_BREAK.LINE)
            paragraph.add_run(line)


def render_docx(data: ReportData) -> bytes:
    """The report as .docx bytes. Raises charts.ChartFontMissing when no Japanese font for the
    chart images is installed."""
    return render_blocks(outline(data), title=data.title, subject="情報交換会の実施結果", created_on=data.created_on)


def render_blocks(blocks: list, *, title: str, subject: str, created_on: dt.date) -> bytes:
    """Any outline of report_outline's blocks as .docx bytes (the ops reports use it too)."""
    document = Document()
    _styles(document)
    _page(document)
    moment = dt.datetime.combine(created_on, dt.time(9, 0))
    properties = document.core_properties
    properties.title = title
    properties.subject = subject
    properties.author = properties.last_modified_by = properties.comments = ""
    properties.created = properties.modified = properties.last_printed = moment
    properties.revision = 1
    properties.language = "ja-JP"
    for block in blocks:
        if isinstance(block, Heading):
            document.add_heading(block.text, level=block.level)
        elif isinstance(block, Para):
            _para(document, block)
        elif isinstance(block, Table):
            _table(document, block)
        elif isinstance(block, FigureBlock):
            _figure(document, block)
        elif isinstance(block, FreeText):
            _free_text(document, block)
        elif isinstance(block, PageBreak):
            document.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
    raw = io.BytesIO()
    document.save(raw)
    return _fixed_zip(raw.getvalue())


def _fixed_zip(data: bytes) -> bytes:
    """Rewrite the package with one fixed timestamp per entry (python-docx stamps the time)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=ZIP_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            target.writestr(entry, source.read(info.filename))
    return out.getvalue()
