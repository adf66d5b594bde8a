"""The public portal's sample content, read from the data files beside this module:
``data/pages.toml`` (home page, the eleven menus with their articles, news), ``data/files.toml``
(the PDF documents and the images) and ``data/images/*.svg``.

No Django: ``loader.py`` turns this into pages, documents and images, and the tests of the data
(tests/test_content.py) run without a database. A body is a list of ``(block_type, value)``
tuples, in the data files a list of one-key tables ``{block_type = value}``.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"


def read(name: str) -> dict:
    with (DATA / name).open("rb") as handle:
        return tomllib.load(handle)


def _body(blocks: list[dict]) -> list[tuple]:
    body = []
    for block in blocks:
        if len(block) != 1:
            raise ValueError(f"a block is a table with exactly one key, the block type: {sorted(block)}")
        body.append(next(iter(block.items())))
    return body


def _page(data: dict) -> dict:
    page = {**data, "body": _body(data.get("body", []))}
    if "articles" in data:
        page["articles"] = [_page(child) for child in data["articles"]]
    return page


def _section(data: dict) -> dict:
    return {**data, "articles": [_page(article) for article in data.get("articles", [])]}


_pages = read("pages.toml")
_files = read("files.toml")

HOME: dict = _pages["home"]
SECTIONS: list[dict] = [_section(section) for section in _pages["sections"]]
NEWS: list[dict] = [_page(item) for item in _pages["news"]]
DOCUMENTS: dict[str, dict] = _files["documents"]
IMAGES: dict[str, dict] = {
    key: {**spec, "svg": (DATA / "images" / spec["filename"]).read_text(encoding="utf-8")}
    for key, spec in _files["images"].items()
}


def all_articles():
    """Yield ``(section, article)`` for every article in every non-news section."""
    for section in SECTIONS:
        for article in section["articles"]:
            yield section, article
