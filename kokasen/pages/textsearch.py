"""Japanese full-text matching shared by the live site and the static export.

Japanese has no spaces between words, so instead of a word segmenter we normalise text
and match each query term as a substring. The same normalisation runs at index time and
query time, here and in static/js/components/site-search.js (tests compare the two):

- Unicode NFKC (full-width ASCII to half-width, half-width katakana to full-width),
- lower case,
- every run of white space to one space.

A query is split on white space (full- or half-width); a document matches when it holds
every term. Ranking: a hit in the title counts most, then the summary, then the body.
No Django imports: this module is a pure function library.
"""

import re
import unicodedata
from dataclasses import dataclass

_SPACE = re.compile(r"\s+")
_TAG = re.compile(r"<[^>]*>")

TITLE_WEIGHT = 10
SUMMARY_WEIGHT = 3
MAX_TERMS = 8


def normalize(text: str) -> str:
    return _SPACE.sub(" ", unicodedata.normalize("NFKC", text).lower()).strip()


def strip_tags(html: str) -> str:
    import html as html_module

    return html_module.unescape(_TAG.sub(" ", html))


def query_terms(query: str) -> list[str]:
    terms = [t for t in normalize(query).split(" ") if t]
    unique = list(dict.fromkeys(terms))
    return unique[:MAX_TERMS]


@dataclass(frozen=True)
class Document:
    url: str
    title: str
    summary: str
    text: str  # normalised title + summary + body

    @classmethod
    def build(cls, *, url: str, title: str, summary: str, body: str) -> "Document":
        return cls(url=url, title=title, summary=summary, text=normalize(f"{title} {summary} {body}"))


def score(document: Document, terms: list[str]) -> int:
    if not terms:
        return 0
    title = normalize(document.title)
    summary = normalize(document.summary)
    total = 0
    for term in terms:
        hits = document.text.count(term)
        if hits == 0:
            return 0
        total += hits + TITLE_WEIGHT * title.count(term) + SUMMARY_WEIGHT * summary.count(term)
    return total


def search(documents: list[Document], query: str, limit: int = 50) -> list[Document]:
    terms = query_terms(query)
    scored = [(score(d, terms), i, d) for i, d in enumerate(documents)]
    hits = [(s, i, d) for s, i, d in scored if s > 0]
    hits.sort(key=lambda t: (-t[0], t[1]))
    return [d for _, _, d in hits[:limit]]


def snippet(document: Document, query: str, width: int = 60) -> str:
    """A short excerpt around the first hit, for the result list."""
    terms = query_terms(query)
    text = document.text
    positions = [text.find(t) for t in terms if text.find(t) >= 0]
    if not positions:
        return document.summary[: width * 2]
    start = max(0, min(positions) - width // 2)
    excerpt = text[start : start + width * 2]
    return ("…" if start > 0 else "") + excerpt + ("…" if start + width * 2 < len(text) else "")
