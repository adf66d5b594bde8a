"""Japanese line breaks between phrases (decision 0055).

Browsers break Japanese text between any two characters, so a heading or a narrow card can
end a line in the middle of a word (「こども家庭セン／ター」). BudouX (Google's small phrase
model, pure Python, no dictionary) splits a title into phrases at render time; the phrases
are joined with ``<wbr>`` inside ``<span class="app-u-phrases">``, whose CSS
(``word-break: keep-all; overflow-wrap: anywhere``) breaks lines only there, or anywhere
when one phrase alone is wider than the box. Because the markup is in the HTML, every
browser and the static export get it, without JavaScript.

Escaping: plain text is escaped phrase by phrase; text already marked safe is treated as
HTML and only its text nodes are split (BudouX's own resolver re-escapes them). Output of
this module passed through it again is returned unchanged.
"""

import functools
import unicodedata

from django.utils.html import escape
from django.utils.safestring import SafeData, SafeString, mark_safe

OPEN = '<span class="app-u-phrases">'
CLOSE = "</span>"
BREAK = "<wbr>"


@functools.cache
def _parser():
    import budoux

    return budoux.load_default_japanese_parser()


# Names BudouX cuts at the change from hiragana to kanji (「こども／家庭センター」): never broken,
# and a word of their own when a noun follows (「こども家庭センター／ポータルサイト」).
KEEP_WHOLE = ("こども家庭センター", "こども家庭庁", "こども家庭審議会")


def _is_hiragana(char: str) -> bool:
    return "\u3041" <= char <= "\u309f"


def _keep_whole(text: str, chunks: list[str]) -> list[str]:
    """Join the phrases that cut one of KEEP_WHOLE in two; cut after it before a noun."""
    inside: set[int] = set()
    after: set[int] = set()
    for word in KEEP_WHOLE:
        at = text.find(word)
        while at >= 0:
            end = at + len(word)
            inside.update(range(at + 1, end))
            if end < len(text) and not _is_hiragana(text[end]) and not _closes(text[end]):
                after.add(end)
            at = text.find(word, end)
    if not inside:
        return chunks
    cuts, position = set(), 0
    for chunk in chunks[:-1]:
        position += len(chunk)
        cuts.add(position)
    cuts = sorted((cuts - inside) | after)
    return [text[i:j] for i, j in zip([0, *cuts], [*cuts, len(text)], strict=True) if i < j]


def _opens(char: str) -> bool:
    return unicodedata.category(char) in ("Ps", "Pi")


def _closes(char: str) -> bool:
    return unicodedata.category(char) in ("Pe", "Pf") or char in "、。，．・：；？！ー"


def split(text: str) -> list[str]:
    """The phrases of a plain text (joined, they give the text back unchanged).

    A ``<wbr>`` allows a break even where Japanese line breaking forbids one, so BudouX's
    phrases are adjusted: an opening bracket at the end of a phrase moves to the start of the
    next one (never 「…交換会（／東日本」), and closing punctuation at the start of a phrase
    moves to the end of the one before (never 「／）の」 or 「／。」). The names of KEEP_WHOLE
    stay in one phrase."""
    chunks = _keep_whole(text, _parser().parse(text))
    for i in range(len(chunks) - 1):
        while chunks[i] and _opens(chunks[i][-1]):
            chunks[i], chunks[i + 1] = chunks[i][:-1], chunks[i][-1] + chunks[i + 1]
    for i in range(1, len(chunks)):
        while chunks[i] and _closes(chunks[i][0]):
            chunks[i - 1], chunks[i] = chunks[i - 1] + chunks[i][0], chunks[i][1:]
    return [chunk for chunk in chunks if chunk]


@functools.lru_cache(maxsize=8192)
def _from_text(text: str) -> str:
    return OPEN + BREAK.join(escape(chunk) for chunk in split(text)) + CLOSE


@functools.lru_cache(maxsize=1024)
def _from_html(html: str) -> str:
    # BudouX's resolve() would add a span with an inline style, which the CSP refuses: its
    # resolver alone inserts the breaks and re-escapes the text.
    from budoux.html_processor import HTMLChunkResolver, get_text

    resolver = HTMLChunkResolver(split(get_text(html)), BREAK)
    resolver.feed(html)
    resolver.close()
    return OPEN + resolver.output + CLOSE


def phrases(value) -> SafeString:
    """``value`` as HTML that breaks lines only between phrases (see the module's doc)."""
    if value is None or value == "":
        return mark_safe("")
    if isinstance(value, SafeData):
        html = str(value)
        if html.startswith(OPEN) and html.endswith(CLOSE):
            return mark_safe(html)
        return mark_safe(_from_html(html))
    return mark_safe(_from_text(str(value)))
