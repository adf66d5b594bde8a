"""Rewriting the URLs of exported files so that the site works from any folder.

Pure functions, no Django: the builder passes a ``resolve`` callback that maps an
internal URL path (``/news/``) to the file that holds it (``news/index.html``) or to
None when the target is not part of the export.

Every URL in href, src, srcset, action and poster attributes, in <style> elements, in
style attributes and in CSS files (url() and @import) is handled. Internal URLs become
document-relative paths with an explicit ``index.html``; external URLs are left alone;
internal URLs that cannot be resolved are removed (a link becomes plain text) and
reported, so that nothing in the export points at the live server or at content that
was not exported.
"""

import html
import posixpath
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import quote, unquote, urlsplit

URL_ATTRIBUTES = ("href", "src", "action", "poster")
_ATTR = re.compile(
    r"""(?P<lead>\s)(?P<name>[a-zA-Z_:][-a-zA-Z0-9_:.]*)(?P<eq>\s*=\s*)(?:"(?P<dq>[^"]*)"|'(?P<sq>[^']*)'|(?P<uq>[^\s"'=<>`]+))"""
)
_CSS_URL = re.compile(r"""url\(\s*(?P<q>["']?)(?P<url>[^"')]*?)(?P=q)\s*\)""", re.IGNORECASE)
_CSS_IMPORT = re.compile(r"""@import\s+(?P<q>["'])(?P<url>[^"']+)(?P=q)""", re.IGNORECASE)

Resolver = Callable[[str], str | None]


@dataclass
class Rewrite:
    text: str
    references: set[str] = field(default_factory=set)  # output files this file points at
    unresolved: set[str] = field(default_factory=set)  # internal URLs that were dropped


class UrlMapper:
    """Maps one URL found in the file at ``file_path`` to its relative replacement."""

    def __init__(self, file_path: str, base_url: str, resolve: Resolver, internal_hosts: set[str]):
        self.file_path = file_path
        self.base_url = base_url  # the URL the file was served from, for relative references
        self.resolve = resolve
        self.internal_hosts = internal_hosts
        self.references: set[str] = set()
        self.unresolved: set[str] = set()

    def internal_path(self, url: str) -> tuple[str, str] | None:
        """(absolute path, fragment) for an internal URL, None for an external one."""
        parts = urlsplit(url)
        if parts.scheme and parts.scheme not in ("http", "https"):
            return None  # mailto:, tel:, data:, javascript: …
        if parts.netloc and parts.netloc.lower() not in self.internal_hosts:
            return None
        if not parts.path and not parts.netloc:
            if parts.query:
                return self.base_url, parts.fragment  # "?page=2": the same file, query dropped
            return None  # "#anchor" on the same page stays as it is
        path = parts.path or "/"
        if not path.startswith("/"):
            base_dir = self.base_url if self.base_url.endswith("/") else posixpath.dirname(self.base_url) + "/"
            trailing = path.endswith("/")
            path = posixpath.normpath(posixpath.join(base_dir, path))
            if trailing and not path.endswith("/"):
                path += "/"
        return unquote(path), parts.fragment

    def map(self, url: str) -> str | None:
        """The replacement for url; None means 'drop it'. External URLs come back unchanged."""
        url = url.strip()
        if not url:
            return url
        found = self.internal_path(url)
        if found is None:
            return url
        path, fragment = found
        target = self.resolve(path)
        if target is None:
            self.unresolved.add(path)
            return None
        self.references.add(target)
        relative = posixpath.relpath(target, posixpath.dirname(self.file_path) or ".")
        return quote(relative, safe="/._-~") + (f"#{fragment}" if fragment else "")


def _rewrite_srcset(value: str, mapper: UrlMapper) -> str | None:
    candidates = []
    for candidate in value.split(","):
        bits = candidate.strip().split(None, 1)
        if not bits:
            continue
        mapped = mapper.map(bits[0])
        if mapped is None:
            continue
        candidates.append(" ".join([mapped, *bits[1:]]))
    return ", ".join(candidates) if candidates else None


def _rewrite_css_text(text: str, mapper: UrlMapper) -> str:
    def url_sub(match):
        mapped = mapper.map(html.unescape(match.group("url")))
        q = match.group("q")
        return f"url({q}{mapped if mapped is not None else ''}{q})"

    def import_sub(match):
        mapped = mapper.map(match.group("url"))
        q = match.group("q")
        return f"@import {q}{mapped if mapped is not None else ''}{q}"

    return _CSS_URL.sub(url_sub, _CSS_IMPORT.sub(import_sub, text))


def _rewrite_start_tag(tag_text: str, tag: str, mapper: UrlMapper) -> str:
    def attr_sub(match):
        name = match.group("name").lower()
        raw = next(v for v in (match.group("dq"), match.group("sq"), match.group("uq")) if v is not None)
        value = html.unescape(raw)
        if name in URL_ATTRIBUTES:
            new = mapper.map(value)
        elif name == "srcset":
            new = _rewrite_srcset(value, mapper)
        elif name == "style":
            new = _rewrite_css_text(value, mapper)
        else:
            return match.group(0)
        if new is None:
            return ""  # dropped: a link without href is plain text
        return f'{match.group("lead")}{match.group("name")}="{html.escape(new, quote=True)}"'

    # The tag name itself is never matched: the pattern needs white space before a name.
    return _ATTR.sub(attr_sub, tag_text)


class _TagCollector(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=False)
        self.tags: list[tuple[int, int, str, str]] = []  # (line, col, tag, raw text)
        self.styles: list[tuple[int, int, str]] = []
        self._in_style = False

    def handle_starttag(self, tag, attrs):
        self.tags.append((*self.getpos(), tag, self.get_starttag_text()))
        self._in_style = tag == "style"

    handle_startendtag = handle_starttag

    def handle_data(self, data):
        if self._in_style:
            self.styles.append((*self.getpos(), data))

    def handle_endtag(self, tag):
        if tag == "style":
            self._in_style = False


def _offsets(text: str) -> list[int]:
    starts = [0]
    for match in re.finditer("\n", text):
        starts.append(match.end())
    return starts


def rewrite_html(text: str, *, file_path: str, base_url: str, resolve: Resolver, internal_hosts: set[str]) -> Rewrite:
    """Rewrite every URL in an HTML (or XML, such as Atom) document."""
    mapper = UrlMapper(file_path, base_url, resolve, internal_hosts)
    parser = _TagCollector()
    parser.feed(text)
    parser.close()
    lines = _offsets(text)
    edits = []
    for line, col, tag, raw in parser.tags:
        start = lines[line - 1] + col
        if text[start : start + len(raw)] != raw:
            raise ValueError(f"{file_path}: could not locate <{tag}> at {line}:{col}")
        new = _rewrite_start_tag(raw, tag, mapper)
        if new != raw:
            edits.append((start, start + len(raw), new))
    for line, col, data in parser.styles:
        start = lines[line - 1] + col
        new = _rewrite_css_text(data, mapper)
        if new != data:
            edits.append((start, start + len(data), new))
    out = []
    position = 0
    for start, end, new in sorted(edits):
        out.append(text[position:start])
        out.append(new)
        position = end
    out.append(text[position:])
    return Rewrite("".join(out), mapper.references, mapper.unresolved)


def rewrite_css(text: str, *, file_path: str, base_url: str, resolve: Resolver, internal_hosts: set[str]) -> Rewrite:
    mapper = UrlMapper(file_path, base_url, resolve, internal_hosts)
    return Rewrite(_rewrite_css_text(text, mapper), mapper.references, mapper.unresolved)


def output_path_for(url_path: str) -> str | None:
    """The file that holds a URL path: directories get an explicit index.html.

    Returns None for paths that would escape the export folder.
    """
    path = unquote(url_path)
    if not path.startswith("/"):
        return None
    trailing = path.endswith("/")
    normal = posixpath.normpath(path).lstrip("/")
    if normal.startswith("..") or "\x00" in normal:
        return None
    if trailing or normal in ("", "."):
        return posixpath.join(normal, "index.html") if normal not in ("", ".") else "index.html"
    return normal
