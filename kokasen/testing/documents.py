"""Reading generated Word files back in tests: the text of every paragraph and table cell."""

from __future__ import annotations


def docx_text(document) -> str:
    """The text of a python-docx ``Document``: its paragraphs, then every table's cells."""
    texts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            texts += [cell.text for cell in row.cells]
    return "\n".join(texts)
