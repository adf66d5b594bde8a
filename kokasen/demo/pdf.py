"""Deterministic sample-PDF generator for the demo content (pure Python + reportlab).

``make_pdf(title, pages)`` renders an A4 document with a 「サンプル資料」 header line,
the title, headings and wrapped Japanese paragraphs, and page numbers.  The output is
byte-for-byte reproducible: the canvas runs in ``invariant`` mode (fixed timestamps and
document ID) and all metadata is fixed.
"""

from __future__ import annotations

import io
from xml.sax.saxutils import escape

from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Spacer

FONT_NAME = "HeiseiKakuGo-W5"
HEADER_TEXT = "サンプル資料"
FOOTER_NOTE = "本資料はデモ用のサンプルです。実際の制度・数値とは異なります。"
METADATA_AUTHOR = "こども家庭センターポータル（サンプル）"
METADATA_CREATOR = "kokasen demo content"
METADATA_PRODUCER = "kokasen demo content (reportlab)"

_registered = False


def _register_font() -> None:
    global _registered
    if not _registered:
        if FONT_NAME not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(UnicodeCIDFont(FONT_NAME))
        _registered = True


def _styles() -> dict[str, ParagraphStyle]:
    base = dict(fontName=FONT_NAME, wordWrap="CJK")
    return {
        "title": ParagraphStyle(
            "KokasenTitle",
            fontSize=18,
            leading=26,
            alignment=TA_CENTER,
            spaceBefore=4 * mm,
            spaceAfter=8 * mm,
            **base,
        ),
        "heading": ParagraphStyle(
            "KokasenHeading",
            fontSize=13,
            leading=19,
            spaceBefore=5 * mm,
            spaceAfter=2 * mm,
            **base,
        ),
        "body": ParagraphStyle(
            "KokasenBody",
            fontSize=10.5,
            leading=17,
            spaceAfter=2.5 * mm,
            firstLineIndent=10.5,
            **base,
        ),
    }


def _decorate(canvas, doc) -> None:
    """Header line, footer note and page number on every page."""
    width, height = A4
    canvas.saveState()
    canvas.setFont(FONT_NAME, 9)
    canvas.drawString(20 * mm, height - 13 * mm, HEADER_TEXT)
    canvas.drawRightString(width - 20 * mm, height - 13 * mm, doc.title)
    canvas.setLineWidth(0.5)
    canvas.line(20 * mm, height - 15 * mm, width - 20 * mm, height - 15 * mm)
    canvas.setFont(FONT_NAME, 8)
    canvas.drawString(20 * mm, 12 * mm, FOOTER_NOTE)
    canvas.setFont(FONT_NAME, 9)
    canvas.drawRightString(width - 20 * mm, 12 * mm, f"{doc.page}")
    canvas.restoreState()


def make_pdf(title: str, pages: list[dict]) -> bytes:
    """Return the bytes of a deterministic A4 PDF.

    ``pages`` is a list of ``{"heading": str, "paragraphs": [str, ...]}``; each entry
    starts on a new page.  Text is treated as plain text (escaped), not markup.
    """
    _register_font()
    styles = _styles()
    buf = io.BytesIO()
    doc = SimpleDocTemplate(
        buf,
        pagesize=A4,
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=22 * mm,
        bottomMargin=20 * mm,
        title=title,
        author=METADATA_AUTHOR,
        subject=HEADER_TEXT,
        creator=METADATA_CREATOR,
        producer=METADATA_PRODUCER,
        keywords="",
        invariant=1,
        lang="ja",
        pageCompression=1,
    )
    story: list = [Paragraph(escape(title), styles["title"])]
    for index, page in enumerate(pages or [{"heading": "", "paragraphs": []}]):
        if index:
            story.append(PageBreak())
        heading = page.get("heading") or ""
        if heading:
            story.append(Paragraph(escape(heading), styles["heading"]))
        for text in page.get("paragraphs", []):
            story.append(Paragraph(escape(text), styles["body"]))
        story.append(Spacer(1, 2 * mm))
    doc.build(story, onFirstPage=_decorate, onLaterPages=_decorate)
    return buf.getvalue()
