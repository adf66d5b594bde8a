"""The demo's sample PDFs: tagged PDFs printed once from small semantic HTML and committed.

Every sample document (``[documents.*]`` in data/files.toml, the PDF ``[files.*]`` of
data/members.toml) is written as a Japanese HTML page by ``html()`` (``lang="ja"``, ``<title>``,
one ``<h1>``, a ``<section>`` with an ``<h2>`` per page, lists for numbered items) and printed by
Debian's Chromium through Playwright with ``tagged=True, outline=True``: the PDF carries a
structure tree (``/StructTreeRoot``, ``/MarkInfo <</Marked true>>``), ``/Lang (ja)``, the title
and bookmarks, which reportlab cannot write (decision 0056).

Chromium's output is not byte-for-byte reproducible, and ``make run`` must work without
Chromium, so the PDFs are made once and committed under data/pdfs/; ``load_demo`` only reads
them (``read()``). After changing a document's text in the TOML, run

    .venv/bin/python -m kokasen.demo.make_pdfs

and commit data/pdfs/. tests/test_sample_pdfs.py checks that every file is there, tagged, and
holds its document's headings.
"""

from __future__ import annotations

import re
from html import escape

from .content import DATA, DOCUMENTS, read

PDF_DIR = DATA / "pdfs"
HEADER_TEXT = "サンプル資料"
FOOTER_NOTE = "本資料はデモ用のサンプルです。実際の制度・数値とは異なります。"

# Paragraphs that are items of a numbered list: 「一　…」, 「（1）…」.
_ITEM = re.compile(r"^(?:[一二三四五六七八九十]+　|（[0-9０-９]+）)")

_STYLE = """\
@page { size: A4; margin: 20mm 20mm 18mm; }
body { font-family: "IPAexGothic", sans-serif; font-size: 10.5pt; line-height: 1.7; color: #000; }
.note { font-size: 9pt; border-bottom: 0.5pt solid #000; margin: 0 0 6mm; }
h1 { font-size: 18pt; font-weight: normal; text-align: center; margin: 4mm 0 8mm; }
h2 { font-size: 13pt; font-weight: normal; margin: 5mm 0 2mm; }
section + section { break-before: page; }
p { margin: 0 0 2.5mm; text-indent: 1em; }
ul { list-style: none; margin: 0 0 2.5mm; padding: 0 0 0 1em; }
li { padding-left: 2em; text-indent: -2em; }
footer { font-size: 8pt; margin-top: 8mm; }
"""


def documents() -> list[dict]:
    """Every sample PDF's spec (title, filename, pages): the portal's and the members area's."""
    members = [spec for spec in read("members.toml")["files"].values() if spec["filename"].endswith(".pdf")]
    return [*DOCUMENTS.values(), *members]


def _paragraphs(paragraphs: list[str]) -> list[str]:
    lines, items = [], []
    for text in [*paragraphs, ""]:
        if text and _ITEM.match(text):
            items.append(f"<li>{escape(text)}</li>")
            continue
        if items:
            lines += ["<ul>", *items, "</ul>"]
            items = []
        if text:
            lines.append(f"<p>{escape(text)}</p>")
    return lines


def html(spec: dict) -> str:
    """The document as a small semantic HTML page (plain text escaped, not markup)."""
    title = escape(spec["title"])
    lines = [
        "<!DOCTYPE html>",
        '<html lang="ja">',
        '<head><meta charset="utf-8">',
        f"<title>{title}</title>",
        f"<style>{_STYLE}</style>",
        "</head>",
        "<body>",
        f'<p class="note">{HEADER_TEXT}</p>',
        f"<h1>{title}</h1>",
    ]
    for page in spec.get("pages", []):
        lines.append("<section>")
        if page.get("heading"):
            lines.append(f"<h2>{escape(page['heading'])}</h2>")
        lines += _paragraphs(page.get("paragraphs", []))
        lines.append("</section>")
    lines += [f"<footer><p>{FOOTER_NOTE}</p></footer>", "</body>", "</html>", ""]
    return "\n".join(lines)


def path(filename: str):
    return PDF_DIR / filename


def read_pdf(filename: str) -> bytes:
    """The committed PDF of a sample document (made by ``python -m kokasen.demo.make_pdfs``)."""
    return path(filename).read_bytes()
