"""The committed sample PDFs (data/pdfs/, made by ``python -m kokasen.demo.make_pdfs``) are tagged
PDFs in Japanese with a title, and each holds the text of its document in the TOML. No browser:
Chromium's output is not byte-for-byte reproducible, so the files are checked, not rebuilt."""

import subprocess

import pytest
from pypdf import PdfReader

from kokasen.demo.sample_pdfs import PDF_DIR, documents, html, path

DOCUMENTS = documents()


def test_every_sample_document_has_its_pdf_and_nothing_else_is_committed():
    names = [spec["filename"] for spec in DOCUMENTS]
    assert len(names) == len(set(names))
    assert sorted(p.name for p in PDF_DIR.glob("*.pdf")) == sorted(names)


@pytest.mark.parametrize("spec", DOCUMENTS, ids=lambda spec: spec["filename"])
def test_pdf_is_tagged_japanese_and_titled(spec):
    reader = PdfReader(path(spec["filename"]))
    catalog = reader.trailer["/Root"]
    assert "/StructTreeRoot" in catalog
    assert bool(catalog["/MarkInfo"]["/Marked"]) is True
    assert catalog["/Lang"] == "ja"
    assert reader.metadata.title == spec["title"]
    assert "/Outlines" in catalog  # bookmarks from the headings


@pytest.mark.parametrize("spec", DOCUMENTS, ids=lambda spec: spec["filename"])
def test_pdf_text_holds_the_html_sources_headings(spec):
    source = html(spec)
    text = subprocess.run(
        ["pdftotext", str(path(spec["filename"])), "-"], capture_output=True, check=True, text=True
    ).stdout
    text = "".join(text.split())  # a long title wraps
    headings = [spec["title"], *(page["heading"] for page in spec["pages"] if page.get("heading"))]
    for heading in headings:
        assert heading in source
        assert "".join(heading.split()) in text, heading


def test_html_source_is_semantic_and_escapes_text():
    page = html({"title": "<資料>", "pages": [{"heading": "見出し", "paragraphs": ["一　項目", "本文 & 注"]}]})
    assert '<html lang="ja">' in page and "<title>&lt;資料&gt;</title>" in page
    assert "<h1>&lt;資料&gt;</h1>" in page and "<h2>見出し</h2>" in page
    assert "<ul>\n<li>一　項目</li>\n</ul>" in page and "<p>本文 &amp; 注</p>" in page
