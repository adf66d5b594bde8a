"""Builds the public portal as static files (REQUIREMENTS D1).

Only live, public pages are rendered (Page.objects.live().public()), with Django's test
client, in-process, in "static export" render mode (kokasen.pages.rendering). Every
internal URL is rewritten to a document-relative one (rewrite.py); only the static files,
images and public documents that the rendered pages point at are copied. The result is
a folder that works from file:// and a deterministic ZIP (archive.py).
"""

import gc
import itertools
import json
import logging
import multiprocessing
import os
import posixpath
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.contrib.staticfiles import finders
from django.core.files.storage import default_storage
from django.core.paginator import Paginator
from django.db import connections
from django.http import HttpResponse
from django.test import Client, RequestFactory, override_settings
from django.urls import reverse
from wagtail import hooks
from wagtail.documents import get_document_model
from wagtail.models import Page, Site

from kokasen.core import errors, file_hashes
from kokasen.core.audit import audit_record
from kokasen.pages import rendering, textsearch
from kokasen.pages import search as page_search
from kokasen.pages.models import NewsIndexPage

from . import rewrite

log = logging.getLogger(__name__)

MARKER_FILE = file_hashes.EXPORT_MARKER
SEARCH_URL = "/search/"
SEARCH_INDEX_URL = "/search/search-index.js"
FEED_URL = "/feed.atom"
# The manifest's search entries: [live revision, url_path, title, code, format]; the entry
# itself is read back from the earlier search-index.js (issue 19; format 2 held the text).
SEARCH_CACHE_FORMAT = 3
SEARCH_INDEX_PREFIX = "window.KOKASEN_SEARCH_INDEX="
SEARCH_INDEX_SUFFIX = ";\n"
NOT_FOUND_URL = "/404.html"  # the portal's 404 page, for the web server (deploy/nginx/static-export.conf)
TEXT_TYPES = ("text/html", "application/atom+xml", "text/css")
MEDIA_PREFIXES = ("images/", "original_images/")
_DOCUMENT_URL = re.compile(r"^/documents/(?P<id>\d+)/(?P<name>[^/]+)$")


class ExportError(Exception):
    pass


@dataclass(frozen=True)
class Route:
    url: str  # root-relative URL path, e.g. /news/page/2/
    page_id: int | None = None  # the page serving it (None: a plain Django view)
    path: str = ""  # the page's tree path
    components: tuple[str, ...] = ()  # sub-path below the page (RoutablePage routes)
    page: Page | None = field(default=None, compare=False)  # the specific page, once loaded


@dataclass
class Rendered:
    url: str
    output: str
    body: bytes  # already rewritten
    references: list[str]
    unresolved: set[str]
    shared: dict[str, set[str]] = field(default_factory=dict)  # shared fragment id -> its references
    search: tuple[int, dict | None] | None = None  # (page id, its search index entry), if it was wanted


@dataclass
class ExportResult:
    files: dict[str, bytes]  # output path -> content
    pages: int  # routes rendered this time
    routes: int = 0  # routes in the export (the rest were kept from the earlier export)
    unresolved: dict[str, set[str]] = field(default_factory=dict)
    seconds: float = 0.0
    out_dir: Path | None = None  # where the files were written, if anywhere
    # output path -> when its content last changed: the page's last publication, the source
    # file's modification time; files made from every page (search, feed) take the newest.
    mtimes: dict[str, datetime] = field(default_factory=dict)
    # Files kept from the earlier export; with read_reused=False they are not in ``files``.
    reused: set[str] = field(default_factory=set)


# progress(phase, done, total), called while an export runs (the admin's builds show it).
Progress = Callable[[str, int, int], None]
RENDERING = "ページを描画しています"
COPYING = "画像・文書・スタイルをまとめています"


def _serve_page(route: Route, request) -> HttpResponse:
    """What wagtail.views.serve does, minus the URL lookup: the builder already holds the
    specific page, and walking the tree again for each of a thousand pages costs more than
    rendering them."""
    page, args, kwargs = route.page.route(request, list(route.components))
    for hook in hooks.get_hooks("before_serve_page"):
        if hook.__name__ == "check_view_restrictions":
            continue  # every route comes from Page.objects.public(): nothing to check
        result = hook(page, request, args, kwargs)
        if isinstance(result, HttpResponse):
            return result
    return page.serve(request, *args, **kwargs)


# The exporter and its routes, handed to forked workers by position (set just before the
# fork; the children inherit the parent's memory, so nothing is pickled on the way in).
_WORK: list[Route] = []
_EXPORTER: list["SiteExporter"] = []


def _render_chunk(indexes):
    """Render and rewrite some routes (in a worker process when jobs > 1). Returns the
    results and the files they pointed at, for the parent to copy."""
    exporter = _EXPORTER[0]
    site = exporter.site
    client, factory = Client(), RequestFactory()
    mode = exporter._mode
    results = []
    with rendering.rendering(mode):
        for index in indexes:
            exporter.rendered_one()
            route = _WORK[index]
            # Before rendering: a rendered StreamField holds its blocks' full values (a table's
            # settings, say), and the entry is made from the data as stored, as the live site's.
            search = exporter.search_of(route)
            expected = 200
            if route.url == NOT_FOUND_URL:
                request = factory.get(route.url, secure=True, HTTP_HOST=exporter.host)
                request.user = AnonymousUser()
                request._wagtail_site = site
                response = HttpResponse(errors.render_full(request, "errors/404.html"), status=404)
                expected = 404
            elif route.page_id is None:
                response = client.get(route.url, secure=True, HTTP_HOST=exporter.host)
            else:
                request = factory.get(route.url, secure=True, HTTP_HOST=exporter.host)
                request.user = AnonymousUser()
                request._wagtail_site = site
                response = _serve_page(route, request)
                if hasattr(response, "render"):
                    response.render()
            if response.status_code != expected:
                raise ExportError(f"{route.url} を表示できませんでした（HTTP {response.status_code}）。")
            url = unquote(route.url)
            output = exporter._page_outputs[url]
            result = exporter.rewrite_page(
                output, url, response.content.decode("utf-8"), response.get("Content-Type", ""), mode
            )
            results.append(
                Rendered(
                    route.url,
                    output,
                    result.text.encode("utf-8"),
                    sorted(result.references),
                    result.unresolved,
                    result.shared,
                    search,
                )
            )
    return results, exporter._assets


class SiteExporter:
    def __init__(
        self,
        *,
        site: Site | None = None,
        structure: str | None = None,
        design: str | None = None,
        jobs: int = 1,
        progress: Progress | None = None,
        precomputed: bool = True,
        read_reused: bool = True,
    ):
        self.site = site or Site.objects.get(is_default_site=True)
        # False: every page asks the database for its children and rewrites its own header
        # and footer (the slow path, kept for the test that both give the same files).
        self.precomputed = precomputed
        self._children: dict[int, list[Page]] = {}  # page id -> live, public children (specific)
        self._fragments: dict[str, dict] = {}  # shared-slot token -> index -> SharedFragment
        self._mode: rendering.RenderMode | None = None  # of this export's renders (render())
        self._static_found: dict[str, str | None] = {}
        self.progress = progress
        self._rendered = None  # a counter shared with the forked workers (multiprocessing.Value)
        self._to_render = 0
        self._page_times: dict[int, datetime] = {}  # page id -> last publication
        self.mode_kwargs = {"structure": structure, "design": design}
        self.jobs = max(1, jobs)
        self.host = self.site.hostname if self.site.port in (80, 443) else f"{self.site.hostname}:{self.site.port}"
        self.internal_hosts = {self.host.lower(), self.site.hostname.lower(), "testserver"}
        self.files: dict[str, bytes] = {}
        self.unresolved: dict[str, set[str]] = {}
        self._page_outputs: dict[str, str] = {}
        self._assets: dict[str, tuple[str, str]] = {}  # output path -> (kind, source)
        self._documents: dict[tuple[int, str], str | None] = {}
        self.manifest_routes: dict[str, dict] = {}  # route URL -> key, output, references
        self.reused: set[str] = set()  # outputs kept as they are from the earlier export
        # False: reused files stay on disk, unread (ExportResult.files holds what changed
        # only): the publish task, which leaves the ZIP to a later task.
        self.read_reused = read_reused
        self.shared_references: dict[str, list[str]] = {}  # shared fragment id -> its references
        self._previous_shared: dict[str, list[str]] = {}
        self._shared_ok: set[str] = set()
        self.search_cache: dict[str, list] = {}  # page id -> [live revision, summary, original, format]
        self._search_plan: list[tuple[int, list, dict | None]] = []  # (page id, stamp, entry kept or None)
        self._search_entries: dict[int, dict | None] = {}  # page id -> entry made while rendering
        self._search_wanted: set[int] = set()  # pages whose entry is to be made again
        self._memo: dict = {}  # URL rewriting results, shared by all files of this export
        self.fingerprint = ""  # the code's (incremental.code_fingerprint), set by build()
        self._outputs: set[str] = set()  # every file the routes produce

    # --- what to render ---

    def public_pages(self):
        root = self.site.root_page
        return Page.objects.live().public().descendant_of(root, inclusive=True).order_by("path")

    def routes(self) -> list[Route]:
        """Every URL of the export. Pages are listed from one query of plain rows (the ones to
        render are loaded in full later), with the URL that Page.get_url_parts would give.
        Besides the pages: the search page, the feed, and 404.html (the web server's "not
        found" page, rendered from the live site's template)."""
        routes = []
        root_path = self.site.root_page.url_path
        news_indexes = {index.pk: index for index in NewsIndexPage.objects.live().public()}
        rows = self.public_pages().values_list("pk", "path", "url_path", "last_published_at")
        for pk, path, url_path, published in rows:
            if not url_path.startswith(root_path):
                continue
            if published is not None:
                self._page_times[pk] = published
            url = reverse("wagtail_serve", args=(url_path[len(root_path) :],))
            routes.append(Route(url, pk, path))
            if pk in news_indexes:
                index = news_indexes[pk]
                pages = Paginator(index.news(), index.per_page).num_pages  # as the view paginates
                routes.extend(Route(f"{url}page/{n}/", pk, path, ("page", str(n))) for n in range(2, pages + 1))
        routes.append(Route(SEARCH_URL))
        routes.append(Route(NOT_FOUND_URL))
        if NewsIndexPage.objects.live().public().descendant_of(self.site.root_page).exists():
            routes.append(Route(FEED_URL))
        return routes

    # --- rendering ---

    def rendered_one(self):
        """Count one route done (in whichever process rendered it) and tell ``progress``."""
        if self._rendered is None:
            return
        with self._rendered.get_lock():
            self._rendered.value += 1
            done = self._rendered.value
        self.progress(RENDERING, done, self._to_render)

    def render(self, routes: list[Route]) -> list[Rendered]:
        _WORK[:] = routes
        _EXPORTER[:] = [self]
        if self.progress is not None:
            self._rendered = multiprocessing.get_context("fork").Value("i", 0)
            self._to_render = len(routes)
            self.progress(RENDERING, 0, len(routes))
        indexes = list(range(len(routes)))
        try:
            with override_settings(ALLOWED_HOSTS=[*settings.ALLOWED_HOSTS, self.site.hostname, "testserver"]):
                jobs = min(self.jobs, len(routes)) if self._can_fork() else 1
                self._mode = self.render_mode()
                if jobs <= 1:
                    return _render_chunk(indexes)[0]
                # The first route is rendered here: what every page shares (menus, the trail
                # index, the header and footer and their rewritten links) is then computed once
                # and inherited by the forked processes instead of being computed in each.
                parts = [_render_chunk(indexes[:1])]
                rest = indexes[1:]
                connections.close_all()
                # What the parent holds goes out of the collector's sight before the fork: a
                # collection in a child would otherwise write to every object it inherited and
                # make the kernel copy their memory pages (a sixth of the children's time).
                gc.freeze()
                try:
                    with multiprocessing.get_context("fork").Pool(jobs) as pool:
                        parts += pool.map(_render_chunk, [rest[i::jobs] for i in range(jobs)])
                finally:
                    gc.unfreeze()
                for _, assets in parts:
                    for output, source in assets.items():
                        self._assets.setdefault(output, source)
                by_url = {r.url: r for results, _ in parts for r in results}
                return [by_url[route.url] for route in routes]
        finally:
            _WORK.clear()
            _EXPORTER.clear()

    @staticmethod
    def _can_fork() -> bool:
        """Whether forked renderers could read what this process sees: not inside a transaction
        (they would not see its rows, and closing the connection before the fork would end it),
        not on an in-memory SQLite database. Otherwise the export renders in this process."""
        connection = connections["default"]
        if connection.in_atomic_block:
            return False
        db = connection.settings_dict
        name = str(db.get("NAME", ""))
        return not (db["ENGINE"].endswith("sqlite3") and (":memory:" in name or "mode=memory" in name))

    # --- URL resolution ---

    def resolve(self, path: str) -> str | None:
        if path in self._page_outputs:
            return self._page_outputs[path]
        if path.startswith(settings.STATIC_URL):
            name = path[len(settings.STATIC_URL) :]
            source = self._find_static(name)
            output = rewrite.output_path_for(path)
            if source and output and not output.endswith("index.html"):
                self._assets.setdefault(output, ("static", source))
                return output
            return None
        if path.startswith(settings.MEDIA_URL):
            name = path[len(settings.MEDIA_URL) :]
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
        if (document_id, name) not in self._documents:
            self._documents[(document_id, name)] = self._find_public_document(document_id, name)
        return self._documents[(document_id, name)]

    def _find_public_document(self, document_id: int, name: str) -> str | None:
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

    def build(self, previous: dict | None = None, previous_dir: Path | None = None) -> ExportResult:
        """Render every route, or, given the manifest of an earlier export in previous_dir,
        only the routes whose inputs changed (incremental.py)."""
        from . import incremental

        started = time.monotonic()
        routes = self.routes()
        for route in routes:
            output = rewrite.output_path_for(route.url)
            if output is None:
                raise ExportError(f"{route.url} を書き出し先のファイル名に変換できません。")
            self._page_outputs[unquote(route.url)] = output
        self._page_outputs[SEARCH_INDEX_URL] = "search/search-index.js"
        self.fingerprint = incremental.code_fingerprint()
        keys = incremental.route_keys(self, routes)
        self._outputs = set(self._page_outputs.values())
        earlier = (previous or {}).get("routes", {})
        self._previous_shared = (previous or {}).get("shared", {})
        to_render = []
        for route in routes:
            entry = earlier.get(route.url)
            if entry and entry["key"] == keys[route.url] and self._reuse(route, entry, previous_dir):
                continue
            to_render.append(route)
        to_render = self._with_full_pages(to_render, routes)
        self.plan_search_index(
            (previous or {}).get("search"), previous_dir / "search/search-index.js" if previous_dir else None
        )
        for item in self.render(to_render):
            self.files[item.output] = item.body
            if item.search is not None:
                self._search_entries[item.search[0]] = item.search[1]
            if item.unresolved:
                self.unresolved[item.output] = item.unresolved
            self.manifest_routes[item.url] = {
                "key": keys[item.url],
                "output": item.output,
                "references": item.references,
            }
            if item.shared:
                self.manifest_routes[item.url]["shared"] = sorted(item.shared)
                for shared_id, shared_references in item.shared.items():
                    self.shared_references[shared_id] = sorted(shared_references)
        self.files["search/search-index.js"] = self.search_index()
        if self.progress is not None:
            self.progress(COPYING, len(to_render), len(to_render))
        self._copy_assets()
        return ExportResult(
            files=dict(sorted(self.files.items())),
            pages=len(to_render),
            routes=len(routes),
            unresolved=self.unresolved,
            seconds=time.monotonic() - started,
            mtimes=self.modification_times(routes),
            reused=set(self.reused),
        )

    def modification_times(self, routes: list[Route]) -> dict[str, datetime]:
        """When each file's content last changed (see ExportResult.mtimes)."""
        newest = max(self._page_times.values(), default=datetime(2000, 1, 1, tzinfo=UTC))
        times = {}
        for route in routes:
            output = self._page_outputs[unquote(route.url)]
            times[output] = self._page_times.get(route.page_id, newest) if route.page_id else newest
        for output, (kind, source) in self._assets.items():
            try:
                if kind == "static":
                    times[output] = datetime.fromtimestamp(Path(source).stat().st_mtime, tz=UTC)
                else:
                    times[output] = default_storage.get_modified_time(source)
            except (OSError, NotImplementedError):
                times[output] = newest
        return {name: times.get(name, newest) for name in sorted(self.files.keys() | self.reused)}

    def _with_full_pages(self, routes: list[Route], every_route: list[Route]) -> list[Route]:
        """The routes to render, each with its specific page. With ``precomputed``, the same
        one query also loads their children and parents (all of them are public pages of the
        export): each page's list of children is known (pages.models.public_children) and
        ``get_parent()`` asks nothing, instead of a restriction and a children query per page."""
        ids = {route.page_id for route in routes if route.page_id is not None}
        wanted = set(ids)
        by_path, children = {}, {}
        if self.precomputed:
            for route in every_route:
                if route.page_id is not None and route.path not in by_path:
                    by_path[route.path] = route.page_id
                    children.setdefault(route.path[: -Page.steplen], []).append(route)
            for route in routes:
                if route.page_id is not None:
                    wanted.update(child.page_id for child in children.get(route.path, []))
                    if route.path[: -Page.steplen] in by_path:
                        wanted.add(by_path[route.path[: -Page.steplen]])
        pages = {page.pk: page for page in Page.objects.filter(pk__in=wanted).specific()}
        if self.precomputed:
            for route in routes:
                page = pages.get(route.page_id)
                if page is None or page.pk in self._children:
                    continue
                # In tree order, as get_children() gives them (every_route is ordered by path).
                self._children[page.pk] = [pages[child.page_id] for child in children.get(route.path, [])]
                parent = by_path.get(route.path[: -Page.steplen])
                if parent is not None:
                    page._cached_parent_obj = pages[parent]  # treebeard's cache of get_parent()
        return [
            Route(route.url, route.page_id, route.path, route.components, pages[route.page_id])
            if route.page_id is not None
            else route
            for route in routes
        ]

    def _reuse(self, route: Route, entry: dict, previous_dir: Path | None) -> bool:
        """Keep the earlier file if it exists and everything it points at still resolves
        (a document made private since, or a page moved away, forces a new render)."""
        path = previous_dir / entry["output"] if previous_dir else None
        if path is None or entry["output"] != self._page_outputs[unquote(route.url)] or not path.is_file():
            return False
        shared = {shared_id: self._previous_shared.get(shared_id) for shared_id in entry.get("shared", [])}
        if any(references is None for references in shared.values()):
            return False
        unchecked = [references for shared_id, references in shared.items() if shared_id not in self._shared_ok]
        for reference in itertools.chain(entry["references"], *unchecked):
            if reference not in self._outputs and self.resolve("/" + reference) != reference:
                return False
        self._shared_ok.update(shared)  # a fragment's links are checked once per export
        if self.read_reused:
            self.files[entry["output"]] = path.read_bytes()
        self.reused.add(entry["output"])
        self.manifest_routes[route.url] = entry
        self.shared_references.update(shared)
        return True

    def manifest(self) -> dict:
        from . import incremental

        return {
            "version": incremental.MANIFEST_VERSION,
            "routes": dict(sorted(self.manifest_routes.items())),
            "shared": dict(sorted(self.shared_references.items())),
            "search": dict(sorted(self.search_cache.items())),
        }

    def _add_text(self, output: str, base_url: str, text: str, content_type: str):
        result = self.rewrite_text(output, base_url, text, content_type)
        if result.unresolved:
            self.unresolved[output] = result.unresolved
        self.files[output] = result.text.encode("utf-8")

    def render_mode(self) -> rendering.RenderMode:
        """The render mode of one rendering process. With ``precomputed`` (the default) it
        carries what the export computed once for all pages: each page's live, public
        children (pages.models.public_children), and markers for the shared header and footer,
        which rewrite_page puts back rewritten once per folder depth."""
        mode = rendering.RenderMode(static_export=True, **self.mode_kwargs)
        if self.precomputed:
            mode.shared["public_children"] = self._children
            mode.shared["shared_slots"] = rewrite.SharedSlots(secrets.token_hex(8))
        return mode

    def rewrite_page(
        self, output: str, base_url: str, text: str, content_type: str, mode: rendering.RenderMode
    ) -> rewrite.Rewrite:
        """rewrite_text, with the shared fragments that the templates left as markers put
        back, each rewritten once (rewrite.SharedFragment): the same text as rewriting them in
        every page, for a fraction of the work."""
        slots = mode.shared.get("shared_slots")
        if slots is None or not slots.texts or not content_type.startswith("text/html"):
            return self.rewrite_text(output, base_url, text, content_type)
        fragments = self._fragments.setdefault(slots.token, {})
        used = {}
        for match in slots.pattern.finditer(text):
            index = int(match.group(1))
            if index not in fragments:
                fragments[index] = rewrite.SharedFragment.compile(
                    slots.texts[index], resolve=self.resolve, internal_hosts=self.internal_hosts, memo=self._memo
                )
            used[match.group(0)] = (index, fragments[index])
        if any(fragment is None for _, fragment in used.values()):  # links that depend on the page
            text = slots.pattern.sub(lambda m: slots.texts[int(m.group(1))], text)
            return self.rewrite_text(output, base_url, text, content_type)
        result = self.rewrite_text(output, base_url, text, content_type)
        for _, fragment in used.values():
            result.shared[fragment.id] = fragment.references
            result.unresolved |= fragment.unresolved
        result.text = slots.pattern.sub(lambda m: used[m.group(0)][1].place(output), result.text)
        return result

    def rewrite_text(self, output: str, base_url: str, text: str, content_type: str) -> rewrite.Rewrite:
        rewriter = rewrite.rewrite_css if content_type.startswith("text/css") else rewrite.rewrite_html
        return rewriter(
            text,
            file_path=output,
            base_url=base_url,
            resolve=self.resolve,
            internal_hosts=self.internal_hosts,
            memo=self._memo,
        )

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
                    # One stylesheet per page instead of a cascade of @imports; then rewrite
                    # and follow what the CSS points at (images, fonts).
                    text = rewrite.inline_css_imports(
                        data.decode("utf-8"), base_url="/" + output, load=self._static_text
                    )
                    self._add_text(output, "/" + output, text, "text/css")
                else:
                    self.files[output] = data

    def _find_static(self, name: str) -> str | None:
        # Per exporter, not functools.cache: a cache on the method would keep every exporter
        # (and the pages and fragments it holds) alive for the life of the long-lived worker.
        if name not in self._static_found:
            self._static_found[name] = finders.find(name)
        return self._static_found[name]

    @staticmethod
    def _static_text(url: str) -> str | None:
        if not url.startswith(settings.STATIC_URL) or not url.endswith(".css"):
            return None
        source = finders.find(url[len(settings.STATIC_URL) :])
        return Path(source).read_text(encoding="utf-8") if source else None

    def plan_search_index(self, earlier: dict | None = None, earlier_index: Path | None = None) -> None:
        """Which pages need their search index entry made again (before rendering: the
        processes that render a page make its entry from the page they already hold).

        One entry per public page, kept per page: a page whose live revision, address and title
        are those the earlier export indexed (its manifest's ``search``, written by this same
        code) keeps its entry from the earlier index file; only the others are made again."""
        earlier = earlier or {}
        kept = self._earlier_entries(earlier_index) if earlier else {}
        root = self.site.root_page
        rows = list(page_search.public_pages(root).values_list("pk", "live_revision_id", "url_path", "title"))
        self._search_plan = []
        for pk, revision, url_path, title in rows:
            stamp = [revision, url_path, title, self.fingerprint[:16], SEARCH_CACHE_FORMAT]
            target = self._output_of_url_path(url_path)
            entry = kept.get(posixpath.relpath(target, "search")) if target is not None else None
            self._search_plan.append((pk, stamp, entry if earlier.get(str(pk)) == stamp else None))
        self._search_wanted = {pk for pk, _, entry in self._search_plan if entry is None}
        self._search_entries = {}

    def search_of(self, route: Route) -> tuple[int, dict | None] | None:
        """(page id, entry) for a rendered route whose page's entry is to be made again."""
        if route.page is None or route.components or route.page_id not in self._search_wanted:
            return None
        return route.page_id, self.search_entry(route.page)

    def search_entry(self, page) -> dict | None:
        """A page's entry: address, title, summary and text as written (site-search.js
        normalises); None if its address is not one of the export's."""
        parts = page_search.page_parts(page)
        target = self.resolve(unquote(parts["url"].split("#")[0])) if parts["url"] else None
        if target is None:
            return None
        return {
            "u": posixpath.relpath(target, "search"),
            "t": parts["title"],
            "s": parts["summary"],
            "x": textsearch.original_text(parts["summary"], parts["body"]),
        }

    def search_index(self) -> bytes:
        """The search index as a script (a <script> tag loads it: no fetch, works from file://),
        from plan_search_index's plan and the entries made while rendering; pages that were not
        rendered this time and changed since are loaded here."""
        missing = self._search_wanted - self._search_entries.keys()
        for page in Page.objects.filter(pk__in=missing).specific() if missing else ():
            self._search_entries[page.pk] = self.search_entry(page)
        entries = []
        for pk, stamp, entry in self._search_plan:
            entry = entry or self._search_entries[pk]
            if entry is None:
                continue
            self.search_cache[str(pk)] = stamp
            entries.append(entry)
        payload = json.dumps(entries, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
        return f"{SEARCH_INDEX_PREFIX}{payload}{SEARCH_INDEX_SUFFIX}".encode()

    def _output_of_url_path(self, url_path: str) -> str | None:
        root_path = self.site.root_page.url_path
        if not url_path.startswith(root_path):
            return None
        return self._page_outputs.get(unquote(reverse("wagtail_serve", args=(url_path[len(root_path) :],))))

    @staticmethod
    def _earlier_entries(path: Path | None) -> dict[str, dict]:
        """The entries of an earlier export's search index, by their "u"; {} if unreadable."""
        try:
            text = path.read_text(encoding="utf-8")
            if not text.startswith(SEARCH_INDEX_PREFIX) or not text.endswith(SEARCH_INDEX_SUFFIX):
                return {}
            entries = json.loads(text[len(SEARCH_INDEX_PREFIX) : -len(SEARCH_INDEX_SUFFIX)])
            return {entry["u"]: entry for entry in entries}
        except (AttributeError, OSError, ValueError, KeyError, TypeError):
            return {}


def write_tree(
    files: dict[str, bytes],
    out_dir: Path,
    manifest: dict,
    unchanged: set[str] = frozenset(),
    previous: dict | None = None,
) -> None:
    """Make out_dir hold exactly these files (refuses a folder that is not an earlier export).

    Only files whose content changed are written (``unchanged`` names files known to be
    there already), so a re-export after one edit touches few files."""
    out_dir = Path(out_dir)
    if out_dir.exists() and any(out_dir.iterdir()) and not (out_dir / MARKER_FILE).exists():
        raise ExportError(f"{out_dir} は空でなく、以前の書き出し先でもないため、上書きしません。")
    out_dir.mkdir(parents=True, exist_ok=True)
    if previous and "files" in previous:  # the earlier export's own list: no need to walk the tree
        for name in sorted(set(previous["files"]) - set(files) - set(unchanged)):
            target = out_dir / name
            target.unlink(missing_ok=True)
            for parent in target.parents:
                if parent == out_dir or any(parent.iterdir()):
                    break
                parent.rmdir()
    else:
        for path in sorted(out_dir.rglob("*"), reverse=True):
            relative = path.relative_to(out_dir).as_posix()
            if path.is_file() and relative not in files and relative not in unchanged and relative != MARKER_FILE:
                path.unlink()
            elif path.is_dir() and not any(path.iterdir()):
                path.rmdir()
    for name, data in files.items():
        if name in unchanged:
            continue
        target = out_dir / name
        if target.is_file() and target.stat().st_size == len(data) and target.read_bytes() == data:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    marker = out_dir / MARKER_FILE
    partial = marker.with_name(marker.name + ".partial")
    partial.write_text(json.dumps(manifest, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    os.replace(partial, marker)


def export_site(*, out_dir: Path | None = None, incremental: bool = False, **kwargs) -> ExportResult:
    """Export the site; with incremental=True and an earlier export in out_dir, render only
    what changed since."""
    from .incremental import read_manifest

    exporter = SiteExporter(**kwargs)
    previous = read_manifest(out_dir, MARKER_FILE) if (incremental and out_dir is not None) else None
    result = exporter.build(previous=previous, previous_dir=Path(out_dir) if previous else None)
    if out_dir is not None:
        # The hash of every file written, checked later by ops_scan (改ざん, decision 0030); the
        # digest of the list goes into the audit trail, so that a rewritten list shows too.
        earlier_hashes = (previous or {}).get(file_hashes.HASHES_KEY, {})
        # Files kept unread keep the hash the earlier export recorded (a file changed on disk
        # behind the exporter's back stays a difference for ops_scan).
        hashes = {name: earlier_hashes.get(name) for name in result.reused - result.files.keys()}
        unknown = [name for name, digest in hashes.items() if digest is None]
        if unknown:  # an earlier manifest without them
            hashes.update(file_hashes.hashes_of({name: (Path(out_dir) / name).read_bytes() for name in unknown}))
        hashes = dict(sorted({**hashes, **file_hashes.hashes_of(result.files)}.items()))
        manifest = {
            **exporter.manifest(),
            "files": sorted(hashes),
            file_hashes.HASHES_KEY: hashes,
            "mtimes": {name: moment.isoformat() for name, moment in sorted(result.mtimes.items())},
        }
        write_tree(result.files, out_dir, manifest, unchanged=exporter.reused, previous=previous)
        result.out_dir = Path(out_dir)
        audit_record(
            action="static_export.written",
            target_label=str(Path(out_dir).resolve()),
            detail={
                "out_dir": str(Path(out_dir).resolve()),
                "files": len(hashes),
                "sha256_digest": file_hashes.manifest_digest(hashes),
                "incremental": previous is not None,
            },
        )
    return result
