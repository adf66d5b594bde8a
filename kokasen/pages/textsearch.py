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


def collapse(text: str) -> str:
    return _SPACE.sub(" ", text).strip()


def original_text(summary: str, body: str) -> str:
    """A document's summary and body as written, white space collapsed (Document.original)."""
    return collapse(f"{summary} {body}")


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
    original: str = ""  # summary + body as written, white space collapsed (for the excerpt)

    @classmethod
    def build(cls, *, url: str, title: str, summary: str, body: str) -> "Document":
        return cls.from_original(url=url, title=title, summary=summary, original=original_text(summary, body))

    @classmethod
    def from_original(cls, *, url: str, title: str, summary: str, original: str) -> "Document":
        return cls(url=url, title=title, summary=summary, text=normalize(f"{title} {original}"), original=original)


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


# --------------------------------------------------------------------------- highlighting
# Results show the text as written (not the normalised, lower-cased one) with each match in
# <mark>. To find a match of a normalised term in the original text, the text is normalised
# piece by piece, remembering where each piece came from: a piece is one character with the
# combining marks after it (ｶﾞ is one piece, ガ), or one run of white space.

Part = tuple[str, bool]  # (text as written, is it a match)


def _joins(char: str) -> bool:
    """Does this character belong to the piece before it (a combining mark after NFKC)?"""
    return unicodedata.category(unicodedata.normalize("NFKC", char)[:1] or char).startswith("M")


def fold(text: str) -> tuple[str, list[int], list[int]]:
    """normalize()'s rules applied piece by piece: the folded text, and for each of its
    characters the start and end of the piece of ``text`` it came from."""
    folded: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    i, n = 0, len(text)
    while i < n:
        j = i + 1
        if text[i].isspace():
            while j < n and text[j].isspace():
                j += 1
            piece = " "
        else:
            while j < n and _joins(text[j]):
                j += 1
            piece = unicodedata.normalize("NFKC", text[i:j]).lower()
        folded.append(piece)
        starts.extend([i] * len(piece))
        ends.extend([j] * len(piece))
        i = j
    return "".join(folded), starts, ends


def _spans(text: str, terms: list[str]) -> list[tuple[int, int]]:
    """Where the terms occur in ``text`` (indices into text), overlapping spans merged."""
    folded, starts, ends = fold(text)
    found = []
    for term in terms:
        at = folded.find(term)
        while at >= 0:
            found.append((starts[at], ends[at + len(term) - 1]))
            at = folded.find(term, at + len(term))
    merged: list[tuple[int, int]] = []
    for start, end in sorted(found):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def highlight(text: str, terms: list[str]) -> list[Part]:
    """``text`` as written, cut into parts; the matches of the terms are marked."""
    parts: list[Part] = []
    at = 0
    for start, end in _spans(text, terms):
        if start > at:
            parts.append((text[at:start], False))
        parts.append((text[start:end], True))
        at = end
    if at < len(text) or not parts:
        parts.append((text[at:], False))
    return parts


def excerpt(document: Document, query: str, width: int = 60) -> list[Part]:
    """About ``2 * width`` characters of the original text around the first match, the
    matches marked; else the summary's start (nothing when there is no summary)."""
    terms = query_terms(query)
    text = document.original
    spans = _spans(text, terms) if text else []
    if not spans:
        return highlight(document.summary[: width * 2], terms) if document.summary else []
    start = max(0, spans[0][0] - width // 2)
    end = start + width * 2
    parts = highlight(text[start:end], terms)
    if start > 0:
        parts.insert(0, ("…", False))
    if end < len(text):
        parts.append(("…", False))
    return parts
