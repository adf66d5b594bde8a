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

import hashlib
import html
import posixpath
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import quote, unquote, urlsplit

URL_ATTRIBUTES = ("href", "src", "action", "poster")
_ATTR = re.compile(
    r"""(?P<lead>\s)(?P<name>[a-zA-Z_:][-a-zA-Z0-9_:.]*)(?P<eq>\s*=\s*)(?:"(?P<dq>[^"]*)"|'(?P<sq>[^']*)'|(?P<uq>[^\s"'=<>`]+))"""
)
_CSS_URL = re.compile(r"""url\(\s*(?P<q>["']?)(?P<url>[^"')]+?)(?P=q)\s*\)""", re.IGNORECASE)
_CSS_IMPORT = re.compile(r"""@import\s+(?P<q>["'])(?P<url>[^"']+)(?P=q)""", re.IGNORECASE)

Resolver = Callable[[str], str | None]


@dataclass
class Rewrite:
    text: str
    references: set[str] = field(default_factory=set)  # output files this file points at
    unresolved: set[str] = field(default_factory=set)  # internal URLs that were dropped
    # Shared fragments placed in the file (their id -> the files they point at), kept apart
    # from ``references`` so that the manifest lists each fragment's references once.
    shared: dict[str, set[str]] = field(default_factory=dict)


class UrlMapper:
    """Maps one URL found in the file at ``file_path`` to its relative replacement."""

    def __init__(
        self, file_path: str, base_url: str, resolve: Resolver, internal_hosts: set[str], memo: dict | None = None
    ):
        self.file_path = file_path
        self.base_url = base_url  # the URL the file was served from, for relative references
        self.resolve = resolve
        self.internal_hosts = internal_hosts
        self.references: set[str] = set()
        self.unresolved: set[str] = set()
        # Shared by the files of one export: the same menu links recur on every page.
        self.memo = memo if memo is not None else {}

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
        kind, value, fragment = self._located(url)
        if kind == "keep":
            return value
        if kind == "drop":
            return None
        return quote(relative_path(value, posixpath.dirname(self.file_path)), safe="/._-~") + (
            f"#{fragment}" if fragment else ""
        )

    def _located(self, url: str) -> tuple[str, str, str]:
        """(kind, value, fragment) of url, noted among the unresolved or the references."""
        # Where a URL points depends on the URL (and, if relative, on the address the file
        # was served from), not on the file: resolve each once per export.
        key = url if url.startswith("/") or "://" in url else (self.base_url, url)
        if key not in self.memo:
            self.memo[key] = self._locate(url)
        kind, value, fragment = self.memo[key]
        if kind == "drop":
            self.unresolved.add(value)
        elif kind != "keep":
            self.references.add(value)
        return kind, value, fragment

    def _locate(self, url: str) -> tuple[str, str, str]:
        """("keep", url, "") for an external URL, ("drop", path, "") for an internal one that
        is not exported, ("file", output path, fragment) otherwise."""
        url = url.strip()
        found = self.internal_path(url) if url else None
        if found is None:
            return "keep", url, ""
        path, fragment = found
        target = self.resolve(path)
        if target is None:
            return "drop", path, ""
        return "file", target, fragment


def relative_path(target: str, folder: str) -> str:
    """posixpath.relpath for two normalised paths relative to the export root, faster."""
    target_parts = target.split("/")
    folder_parts = folder.split("/") if folder else []
    common = 0
    for a, b in zip(target_parts[:-1], folder_parts):
        if a != b:
            break
        common += 1
    return "/".join([".."] * (len(folder_parts) - common) + target_parts[common:])


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


# One pass over the document: comments are skipped, <style> elements are rewritten as CSS,
# and start tags (with quoted attribute values that may contain ">") are rewritten.
_TOKEN = re.compile(
    r"""<!--.*?-->"""
    r"""|(?P<style><style\b[^>]*>)(?P<css>.*?)(?=</style\s*>)"""
    r"""|(?P<tag><(?P<name>[a-zA-Z][a-zA-Z0-9:-]*)(?:\s+[^\s"'>/=]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'=<>`]+))?)*\s*/?>)""",
    re.DOTALL,
)
_HAS_URL_ATTRIBUTE = re.compile(r"\s(?:href|src|srcset|action|poster|style)\s*=", re.IGNORECASE)


def rewrite_html(
    text: str, *, file_path: str, base_url: str, resolve: Resolver, internal_hosts: set[str], memo: dict | None = None
) -> Rewrite:
    """Rewrite every URL in an HTML (or XML, such as Atom) document."""
    mapper = UrlMapper(file_path, base_url, resolve, internal_hosts, memo)

    def token_sub(match):
        if match.group("tag"):
            tag = match.group("tag")
            if not _HAS_URL_ATTRIBUTE.search(tag):
                return tag
            return _rewrite_start_tag(tag, match.group("name").lower(), mapper)
        if match.group("style"):
            return match.group("style") + _rewrite_css_text(match.group("css"), mapper)
        return match.group(0)

    return Rewrite(_TOKEN.sub(token_sub, text), mapper.references, mapper.unresolved)


def rewrite_css(
    text: str, *, file_path: str, base_url: str, resolve: Resolver, internal_hosts: set[str], memo: dict | None = None
) -> Rewrite:
    mapper = UrlMapper(file_path, base_url, resolve, internal_hosts, memo)
    return Rewrite(_rewrite_css_text(text, mapper), mapper.references, mapper.unresolved)


_CSS_IMPORT_RULE = re.compile(
    r"""@import\s+(?:url\(\s*(?P<q1>["']?)(?P<u1>[^"')]+)(?P=q1)\s*\)|(?P<q2>["'])(?P<u2>[^"']+)(?P=q2))\s*;""",
    re.IGNORECASE,
)


def inline_css_imports(text: str, *, base_url: str, load: Callable[[str], str | None], depth: int = 0) -> str:
    """Replace each plain ``@import`` of a local stylesheet by its content, so that an
    exported page loads one stylesheet instead of a cascade of small ones. URLs inside an
    inlined file are made root-relative first, so they still point at the same files once
    the text lives in another folder. ``load`` returns a stylesheet's text by URL path, or
    None for one that cannot be inlined (the @import then stays)."""
    if depth > 10:
        return text

    def absolute(url: str, base: str) -> str:
        parts = urlsplit(url)
        if parts.scheme or parts.netloc or url.startswith(("/", "#", "data:")):
            return url
        return posixpath.normpath(posixpath.join(posixpath.dirname(base), parts.path)) + (
            f"#{parts.fragment}" if parts.fragment else ""
        )

    def import_sub(match):
        url = absolute(match.group("u1") or match.group("u2"), base_url)
        content = load(url) if url.startswith("/") else None
        if content is None:
            return match.group(0)
        content = _CSS_URL.sub(lambda m: f"url({m.group('q')}{absolute(m.group('url'), url)}{m.group('q')})", content)
        return inline_css_imports(content, base_url=url, load=load, depth=depth + 1)

    return _CSS_IMPORT_RULE.sub(import_sub, text)


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


# --- shared fragments (the header and footer of every page) --------------------------------------

_SLOT = "\x00{}\x00"
_SLOT_SPLIT = re.compile("\x00(\\d+)\x00")


def _depends_on_file(url: str) -> bool:
    """Whether where url points depends on the address of the file it is in ("../x", "?q=1")."""
    parts = urlsplit(url.strip())
    if (parts.scheme and parts.scheme not in ("http", "https")) or parts.netloc:
        return False
    if not parts.path:
        return bool(parts.query)
    return not parts.path.startswith("/")


class _SlotMapper(UrlMapper):
    """Resolves like UrlMapper but leaves a numbered slot where the relative path goes."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.targets: list[str] = []
        self.file_dependent = False

    def map(self, url: str) -> str | None:
        if _depends_on_file(url):
            self.file_dependent = True
        kind, value, fragment = self._located(url)
        if kind == "keep":
            return value
        if kind == "drop":
            return None
        self.targets.append(value)
        # The quoted path holds only [A-Za-z0-9/._~%-], which no escaping changes, so the slot
        # can be filled after the attribute was escaped; the fragment is escaped here as before.
        return _SLOT.format(len(self.targets) - 1) + (f"#{fragment}" if fragment else "")


class SharedFragment:
    """A piece of HTML repeated on many files (the header, the footer), rewritten once.

    Its links are resolved once; what stays per file is each link's relative path, and that
    depends only on the file's folder depth and on how much of the folder it shares with the
    link targets' folders: the result is kept per such (depth, shared prefix), so a thousand
    pages at depth 2 below eleven sections fill it about a dozen times. The text is the same,
    byte for byte, as rewrite_html gives for the fragment inside each file."""

    def __init__(self, parts: list[str], targets: list[str], references: set[str], unresolved: set[str]):
        self.parts = parts  # literal text around the slots: len(targets) + 1 pieces
        self.targets = targets
        self.references = references
        self.unresolved = unresolved
        self._prefixes = {tuple(t.split("/")[:-1][:n]) for t in targets for n in range(1, t.count("/") + 1)}
        self._placed: dict[tuple, str] = {}
        self.id = hashlib.sha256("\n".join(sorted(references)).encode()).hexdigest()[:16]

    @classmethod
    def compile(
        cls, text: str, *, resolve: Resolver, internal_hosts: set[str], memo: dict | None = None
    ) -> "SharedFragment | None":
        """None when a link in the fragment depends on the file's own address (then the
        fragment has to be rewritten in each file)."""
        mapper = _SlotMapper("", "/", resolve, internal_hosts, memo)

        def token_sub(match):
            if match.group("tag"):
                tag = match.group("tag")
                if not _HAS_URL_ATTRIBUTE.search(tag):
                    return tag
                return _rewrite_start_tag(tag, match.group("name").lower(), mapper)
            if match.group("style"):
                return match.group("style") + _rewrite_css_text(match.group("css"), mapper)
            return match.group(0)

        if "\x00" in text:
            return None
        rewritten = _TOKEN.sub(token_sub, text)
        if mapper.file_dependent:
            return None
        pieces = _SLOT_SPLIT.split(rewritten)
        parts, order = pieces[0::2], [mapper.targets[int(i)] for i in pieces[1::2]]
        return cls(parts, order, mapper.references, mapper.unresolved)

    def place(self, file_path: str) -> str:
        """The fragment as it reads in the file at file_path."""
        folder = posixpath.dirname(file_path)
        folder_parts = folder.split("/") if folder else []
        shared = 0
        while shared < len(folder_parts) and tuple(folder_parts[: shared + 1]) in self._prefixes:
            shared += 1
        key = (len(folder_parts), tuple(folder_parts[:shared]))
        text = self._placed.get(key)
        if text is None:
            # The folder beyond the shared prefix never matches a target's folder, so any
            # folder with this key gives the same relative paths as this stand-in.
            stand_in = "/".join([*key[1], *["\x00"] * (key[0] - shared)])
            out = [self.parts[0]]
            for target, literal in zip(self.targets, self.parts[1:]):
                out.append(quote(relative_path(target, stand_in), safe="/._-~"))
                out.append(literal)
            text = self._placed[key] = "".join(out)
        return text


class SharedSlots:
    """Markers that stand for shared fragments in the rendered pages of one export (one per
    process): the template tag asks for a marker instead of pasting the fragment, and the
    exporter puts each fragment back, rewritten once (SharedFragment). The markers carry a
    random token, so no text an editor wrote can pass for one."""

    def __init__(self, token: str):
        self.token = token
        self.texts: list[str] = []
        self._index: dict[str, int] = {}
        self.pattern = re.compile(f"<!--kokasen:shared:{re.escape(token)}:(\\d+)-->")

    def marker(self, text: str) -> str:
        if text not in self._index:
            self._index[text] = len(self.texts)
            self.texts.append(text)
        return f"<!--kokasen:shared:{self.token}:{self._index[text]}-->"
