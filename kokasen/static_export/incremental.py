"""What an export depends on, so that a re-export renders only what changed.

Each route gets a key: a hash of everything its HTML is made from (the code and templates,
the portal settings and menu, the page's own live revision and address, its ancestors for the
breadcrumbs, its children for the listings; the home page and the feed also depend on the
news, the sitemap on every page). A route whose key is unchanged, and whose links all still
resolve, keeps the file of the previous export. The keys live in the export's marker file.
"""

import hashlib
import json
from pathlib import Path

from django.conf import settings
from wagtail.models import Page

from kokasen.pages.models import HomePage, MenuGroup, NewsIndexPage, NewsPage, PortalSettings, SectionPage, SitemapPage

MANIFEST_VERSION = 1
_CODE_ROOTS = ("kokasen", "templates")
_CODE_SUFFIXES = (".py", ".html", ".txt")


def _digest(value) -> str:
    return hashlib.sha256(json.dumps(value, ensure_ascii=False, sort_keys=True, default=str).encode()).hexdigest()


def code_fingerprint() -> str:
    """Every Python module and template of the project: a deploy invalidates everything."""
    digest = hashlib.sha256()
    base = Path(settings.BASE_DIR)
    for root in _CODE_ROOTS:
        for path in sorted((base / root).rglob("*")):
            if path.suffix in _CODE_SUFFIXES and "tests" not in path.parts and path.is_file():
                digest.update(str(path.relative_to(base)).encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()


def route_keys(exporter, routes) -> dict[str, str]:
    from .builder import FEED_URL

    site = exporter.site
    rows = list(
        exporter.public_pages().values_list(
            "pk", "path", "depth", "url_path", "live_revision_id", "show_in_menus", "title"
        )
    )
    by_path = {row[1]: row for row in rows}
    children: dict[str, list] = {}
    for row in rows:
        children.setdefault(row[1][: -Page.steplen], []).append(row)
    root = site.root_page
    limit = settings.PORTAL_MENU_DROPDOWN_LIMIT

    def brief(row):  # what a link to the page shows: its address and title
        return (row[0], row[3], row[6]) if row else None

    menu = []
    for row in children.get(root.path, []):
        kids = children.get(row[1], [])
        menu.append(
            (brief(row), row[5], [brief(k) for k in kids[: limit + 1]], [brief(k) for k in kids if k[5]][: limit + 1])
        )
    groups = {
        pk: group
        for model in (SectionPage, NewsIndexPage)
        for pk, group in model.objects.live().values_list("pk", "menu_group_id")
    }
    portal_settings = PortalSettings.for_site(site)
    common = _digest(
        [
            MANIFEST_VERSION,
            getattr(exporter, "fingerprint", "") or code_fingerprint(),
            exporter.mode_kwargs,
            [portal_settings.structure, portal_settings.design, portal_settings.footer_text],
            list(MenuGroup.objects.values_list("pk", "title", "slug", "sort_order")),
            menu,
            sorted(groups.items()),
            site.hostname,
            site.port,
        ]
    )
    news = list(NewsPage.objects.live().public().values_list("pk", "live_revision_id", "url_path", "date"))
    everything = [(r[0], r[3], r[4], groups.get(r[0])) for r in rows]
    home_ids = set(HomePage.objects.values_list("pk", flat=True))
    sitemap_ids = set(SitemapPage.objects.values_list("pk", flat=True))

    keys = {}
    for route in routes:
        parts: list = [common, route.url]
        if route.page_id is None:
            parts.append(news if route.url == FEED_URL else None)
        else:
            path = route.path
            trail = [brief(by_path.get(path[:end])) for end in range(Page.steplen, len(path), Page.steplen)]
            parts += [by_path.get(path), trail, children.get(path, [])]
            if route.page_id in home_ids:
                parts.append(news)
            if route.page_id in sitemap_ids:
                parts.append(everything)
        keys[route.url] = _digest(parts)
    return keys


def read_manifest(out_dir: Path, marker: str) -> dict | None:
    try:
        manifest = json.loads((Path(out_dir) / marker).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return manifest if manifest.get("version") == MANIFEST_VERSION else None
