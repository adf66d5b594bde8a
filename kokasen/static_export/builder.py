"""Builds the public portal as static files (REQUIREMENTS D1).

Only live, public pages are rendered (Page.objects.live().public()), with Django's test
client, in-process, in "static export" render mode (kokasen.pages.rendering). Every
internal URL is rewritten to a document-relative one (rewrite.py); only the static files,
images and public documents that the rendered pages point at are copied. The result is
a folder that works from file:// and a deterministic ZIP (archive.py).
"""

import json
import logging
import multiprocessing
import posixpath
import re
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote

from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.files.storage import default_storage
from django.db import connections
from django.test import Client, override_settings
from wagtail.documents import get_document_model
from wagtail.models import Page, Site

from kokasen.pages import rendering, search as page_search
from kokasen.pages.models import NewsIndexPage

from . import rewrite

log = logging.getLogger(__name__)

MARKER_FILE = ".kokasen-export"
SEARCH_URL = "/search/"
SEARCH_INDEX_URL = "/search/search-index.js"
FEED_URL = "/feed.atom"
TEXT_TYPES = ("text/html", "application/atom+xml", "text/css")
MEDIA_PREFIXES = ("images/", "original_images/")
_DOCUMENT_URL = re.compile(r"^/documents/(?P<id>\d+)/(?P<name>[^/]+)$")


class ExportError(Exception):
    pass


@dataclass(frozen=True)
class Route:
    url: str  # root-relative URL path, e.g. /news/page/2/
    page_id: int | None = None


@dataclass
class Rendered:
    url: str
    content_type: str
    body: bytes


@dataclass
class ExportResult:
    out_dir: Path
    files: dict[str, bytes]  # output path -> content
    pages: int
    unresolved: dict[str, set[str]] = field(default_factory=dict)
    seconds: float = 0.0


def _render_chunk(args):
    """Render some routes (runs in a worker process when jobs > 1)."""
    routes, host, mode_kwargs, secure = args
    client = Client()
    mode = rendering.RenderMode(static_export=True, **mode_kwargs)
    results = []
    with rendering.rendering(mode):
        for route in routes:
            response = client.get(route.url, secure=secure, HTTP_HOST=host)
            if response.status_code != 200:
                raise ExportError(f"{route.url}: HTTP {response.status_code}")
            results.append(Rendered(route.url, response.get("Content-Type", ""), response.content))
    return results


class SiteExporter:
    def __init__(self, *, site: Site | None = None, structure: str | None = None, design: str | None = None, jobs: int = 1):
        self.site = site or Site.objects.get(is_default_site=True)
        self.mode_kwargs = {"structure": structure, "design": design}
        self.jobs = max(1, jobs)
        self.host = self.site.hostname if self.site.port in (80, 443) else f"{self.site.hostname}:{self.site.port}"
        self.internal_hosts = {self.host.lower(), self.site.hostname.lower(), "testserver"}
        self.files: dict[str, bytes] = {}
        self.unresolved: dict[str, set[str]] = {}
        self._page_outputs: dict[str, str] = {}
        self._assets: dict[str, tuple[str, str]] = {}  # output path -> (kind, source)

    # --- what to render ---

    def public_pages(self):
        root = self.site.root_page
        return Page.objects.live().public().descendant_of(root, inclusive=True).order_by("path")

    def routes(self) -> list[Route]:
        routes = []
        for page in self.public_pages().specific():
            parts = page.get_url_parts()
            if parts is None or parts[0] != self.site.pk:
                continue
            url = parts[2]
            routes.append(Route(url, page.pk))
            if isinstance(page, NewsIndexPage):
                pages = max(1, -(-page.news().count() // page.per_page))
                routes.extend(Route(f"{url}page/{n}/", page.pk) for n in range(2, pages + 1))
        routes.append(Route(SEARCH_URL))
        if NewsIndexPage.objects.live().public().descendant_of(self.site.root_page).exists():
            routes.append(Route(FEED_URL))
        return routes

    # --- rendering ---

    def render(self, routes: list[Route]) -> list[Rendered]:
        with override_settings(ALLOWED_HOSTS=[*settings.ALLOWED_HOSTS, self.site.hostname, "testserver"]):
            jobs = self.jobs if self._can_fork() else 1
            if jobs == 1:
                return _render_chunk((routes, self.host, self.mode_kwargs, True))
            chunks = [routes[i::jobs] for i in range(jobs)]
            connections.close_all()
            with multiprocessing.get_context("fork").Pool(jobs) as pool:
                parts = pool.map(_render_chunk, [(c, self.host, self.mode_kwargs, True) for c in chunks])
            by_url = {r.url: r for part in parts for r in part}
            return [by_url[route.url] for route in routes]

    @staticmethod
    def _can_fork() -> bool:
        db = connections["default"].settings_dict
        name = str(db.get("NAME", ""))
        return not (db["ENGINE"].endswith("sqlite3") and (":memory:" in name or "mode=memory" in name))

    # --- URL resolution ---

    def resolve(self, path: str) -> str | None:
        if path in self._page_outputs:
            return self._page_outputs[path]
        if path.startswith(settings.STATIC_URL):
            name = path[len(settings.STATIC_URL):]
            source = finders.find(name)
            output = rewrite.output_path_for(path)
            if source and output and not output.endswith("index.html"):
                self._assets.setdefault(output, ("static", source))
                return output
            return None
        if path.startswith(settings.MEDIA_URL):
            name = path[len(settings.MEDIA_URL):]
            output = rewrite.output_path_for(path)
            if output and name.startswith(MEDIA_PREFIXES) and default_storage.exists(name):
                self._assets.setdefault(output, ("media", name))
                return output
            return None
        match = _DOCUMENT_URL.match(path)
        if match:
            return self._resolve_document(int(match["id"]), match["name"])
        return None

    def _resolve_document(self, document_id: int, name: str) -> str | None:
        Document = get_document_model()
        document = Document.objects.filter(pk=document_id).select_related("collection").first()
        if document is None or document.filename != name:
            return None
        if document.collection.get_view_restrictions().exists():
            return None  # a private collection never reaches the export
        output = f"documents/{document_id}/{name}"
        self._assets.setdefault(output, ("media", document.file.name))
        return output

    # --- building ---

    def build(self) -> ExportResult:
        started = time.monotonic()
        routes = self.routes()
        for route in routes:
            output = rewrite.output_path_for(route.url)
            if output is None:
                raise ExportError(f"cannot map {route.url} to a file")
            self._page_outputs[unquote(route.url)] = output
        self._page_outputs[SEARCH_INDEX_URL] = "search/search-index.js"
        rendered = self.render(routes)
        for item in rendered:
            self._add_text(self._page_outputs[unquote(item.url)], unquote(item.url), item.body.decode("utf-8"), item.content_type)
        self.files["search/search-index.js"] = self.search_index()
        self._copy_assets()
        self.files[MARKER_FILE] = b"kokasen static export\n"
        return ExportResult(
            out_dir=Path("."),
            files=dict(sorted(self.files.items())),
            pages=len(rendered),
            unresolved=self.unresolved,
            seconds=time.monotonic() - started,
        )

    def _add_text(self, output: str, base_url: str, text: str, content_type: str):
        rewriter = rewrite.rewrite_css if content_type.startswith("text/css") else rewrite.rewrite_html
        result = rewriter(
            text, file_path=output, base_url=base_url, resolve=self.resolve, internal_hosts=self.internal_hosts
        )
        if result.unresolved:
            self.unresolved[output] = result.unresolved
        self.files[output] = result.text.encode("utf-8")

    def _copy_assets(self):
        done = set()
        while True:
            pending = sorted(set(self._assets) - done)
            if not pending:
                return
            for output in pending:
                done.add(output)
                kind, source = self._assets[output]
                if kind == "static":
                    data = Path(source).read_bytes()
                else:
                    with default_storage.open(source, "rb") as f:
                        data = f.read()
                if output.endswith(".css"):
                    # CSS may import or point at more static files: rewrite and follow them.
                    self._add_text(output, "/" + output, data.decode("utf-8"), "text/css")
                else:
                    self.files[output] = data

    def search_index(self) -> bytes:
        """The search index as a script (a <script> tag loads it: no fetch, works from file://)."""
        entries = []
        for document in page_search.documents_for(self.site.root_page):
            target = self.resolve(unquote(document.url.split("#")[0])) if document.url else None
            if target is None:
                continue
            entries.append(
                {
                    "u": posixpath.relpath(target, "search"),
                    "t": document.title,
                    "s": document.summary,
                    "x": document.text,
                }
            )
        payload = json.dumps(entries, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
        return f"window.KOKASEN_SEARCH_INDEX={payload};\n".encode("utf-8")


def write_tree(files: dict[str, bytes], out_dir: Path) -> None:
    """Replace out_dir with the export (refuses to delete a folder that is not an export)."""
    out_dir = Path(out_dir)
    if out_dir.exists():
        if any(out_dir.iterdir()) and not (out_dir / MARKER_FILE).exists():
            raise ExportError(f"{out_dir} は空でなく、以前の書き出し先でもないため、上書きしません。")
        shutil.rmtree(out_dir)
    for name, data in files.items():
        target = out_dir / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


def export_site(*, out_dir: Path | None = None, **kwargs) -> ExportResult:
    result = SiteExporter(**kwargs).build()
    if out_dir is not None:
        write_tree(result.files, out_dir)
        result.out_dir = Path(out_dir)
    return result
