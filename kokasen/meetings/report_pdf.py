"""The implementation report as a PDF (reportlab platypus), the same outline as the Word file.

Text is set in IPAex Gothic (charts.PDF_FONT, Debian's fonts-ipaexfont-gothic), a TrueType font
that reportlab embeds as subsets, so every viewer shows the same glyphs (issue 16, item 7; before, the
built-in CID font HeiseiKakuGo-W5 was named but not embedded and viewers substituted their own).
Charts are vector drawings (charts.drawing) in the same font. Survey free text is left out (its count is printed instead; decision 0016).

Deterministic: ``invariant=1`` fixes the creation date and the document id.
"""

from __future__ import annotations

import io
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import cm
from reportlab.platypus import (
    CondPageBreak,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    TableStyle,
)
from reportlab.platypus import (
    PageBreak as RLPageBreak,
)
from reportlab.platypus import (
    Table as RLTable,
)

from . import charts
from .report import ReportData
from .report_outline import FigureBlock, FreeText, Heading, PageBreak, Para, Table, outline

FONT = charts.PDF_FONT
MARGIN = 2.5 * cm
TEXT_WIDTH = A4[0] - 2 * MARGIN


def _style(name: str, size: float, *, leading: float | None = None, **extra) -> ParagraphStyle:
    return ParagraphStyle(
        name, fontName=FONT, bulletFontName=FONT, fontSize=size, leading=leading or size * 1.6, wordWrap="CJK", **extra
    )


STYLES = {
    "body": _style("body", 10.5, spaceAfter=6),
    "note": _style("note", 9.5, textColor=colors.HexColor("#444444"), spaceAfter=6),
    "question": _style("question", 10.5, spaceBefore=6, spaceAfter=4),
    "title": _style(
        "title", 26, alignment=TA_CENTER, spaceBefore=6 * cm, spaceAfter=1 * cm, textColor=colors.HexColor("#1f3a68")
    ),
    "subtitle": _style("subtitle", 14, alignment=TA_CENTER, spaceAfter=4),
    "date": _style("date", 14, alignment=TA_CENTER, spaceBefore=2 * cm),
    "h1": _style("h1", 16, spaceBefore=12, spaceAfter=8, textColor=colors.HexColor("#1f3a68")),
    "h2": _style("h2", 13, spaceBefore=10, spaceAfter=6, textColor=colors.HexColor("#1f3a68")),
    "h3": _style("h3", 11, spaceBefore=8, spaceAfter=4, textColor=colors.HexColor("#1f3a68")),
    "caption": _style("caption", 9, spaceBefore=4, spaceAfter=4),
    "caption_center": _style("caption_center", 9, alignment=TA_CENTER, spaceAfter=10),
    "cell": _style("cell", 8.5, leading=12),
    "cell_number": _style("cell_number", 8.5, leading=12, alignment=TA_RIGHT),
    "cell_header": _style("cell_header", 8.5, leading=12, alignment=TA_CENTER),
}


def _markup(text: str) -> str:
    return "<br/>".join(escape(line) for line in text.split("\n"))


def _is_number(text: str) -> bool:
    stripped = text.replace(",", "").replace("%", "").replace(".", "").replace("倍", "").replace(" / ", "").strip()
    return stripped.isdigit()


def _table(block: Table) -> list:
    total = sum(block.widths)
    widths = [TEXT_WIDTH * w / total for w in block.widths]
    rows = [[Paragraph(_markup(h), STYLES["cell_header"]) for h in block.header]]
    for values in block.rows:
        rows.append(
            [
                Paragraph(_markup(v), STYLES["cell_number" if block.align_numbers and _is_number(v) else "cell"])
                for v in values
            ]
        )
    style = [
        ("FONTNAME", (0, 0), (-1, -1), FONT),
        ("GRID", (0, 0), (-1, -1), 0.5, colors.HexColor("#888888")),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#d9e2f3")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    ]
    if block.total:
        style.append(("BACKGROUND", (0, -1), (-1, -1), colors.HexColor("#f2f2f2")))
    table = RLTable(rows, colWidths=widths, repeatRows=1, style=TableStyle(style))
    return [CondPageBreak(3 * cm), Paragraph(escape(block.caption), STYLES["caption"]), table, Spacer(1, 8)]


def _page_number(canvas, document) -> None:
    if document.page == 1:
        return
    canvas.saveState()
    canvas.setFont(FONT, 9)
    canvas.drawCentredString(A4[0] / 2, 1.2 * cm, f"– {document.page} –")
    canvas.restoreState()


def render_pdf(data: ReportData) -> bytes:
    return render_blocks(outline(data), title=data.title, subject="情報交換会の実施結果")


def render_blocks(blocks: list, *, title: str, subject: str) -> bytes:
    """Any outline of report_outline's blocks as PDF bytes (the ops reports use it too)."""
    charts._register_pdf_font()
    story: list = []
    for block in blocks:
        if isinstance(block, Heading):
            story.append(CondPageBreak(6 * cm if block.level == 1 else 5 * cm))
            story.append(Paragraph(escape(block.text), STYLES[f"h{block.level}"]))
        elif isinstance(block, Para):
            if block.kind == "question":  # keep a question with the start of its answers
                story.append(CondPageBreak(5 * cm))
            story.append(Paragraph(_markup(block.text), STYLES[block.kind]))
        elif isinstance(block, Table):
            story += _table(block)
        elif isinstance(block, FigureBlock):
            story.append(
                KeepTogether(
                    [
                        charts.drawing(block.chart, TEXT_WIDTH),
                        Paragraph(escape(block.caption), STYLES["caption_center"]),
                    ]
                )
            )
        elif isinstance(block, FreeText):
            story.append(Paragraph(escape(block.pdf_text), STYLES["note"]))
        elif isinstance(block, PageBreak):
            story.append(RLPageBreak())
    out = io.BytesIO()
    document = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=2.2 * cm,
        bottomMargin=2.2 * cm,
        title=title,
        subject=subject,
        author="",
        creator="kokasen",
        lang="ja-JP",
        invariant=1,
        initialFontName=FONT,  # else reportlab lists Helvetica, a font the file does not embed
    )
    document.build(story, onFirstPage=_page_number, onLaterPages=_page_number)
    return out.getvalue()
