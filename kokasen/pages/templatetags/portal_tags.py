from pathlib import PurePosixPath
from urllib.parse import urlsplit

from django import template
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe

from kokasen.core.context_processors import csrf_token
from kokasen.core.slots import Fragment
from kokasen.pages import chrome, typography

register = template.Library()


@register.simple_tag(takes_context=True)
def page_trail(context, page):
    """The page's ancestors below the tree root and the page itself (breadcrumbs, and the
    current menu); see Portal.trail."""
    return context["portal"].trail(page)


@register.filter
def phrases(value):
    """A heading's, tile's or card's title that breaks lines only between phrases (BudouX;
    kokasen.pages.typography): ``{{ page.title|phrases }}``. Plain text is escaped."""
    return typography.phrases(value)


@register.filter
def is_external(url: str) -> bool:
    return urlsplit(url or "").scheme in ("http", "https")


@register.filter
def file_kind(document) -> str:
    suffix = PurePosixPath(document.file.name).suffix.lstrip(".").upper()
    return suffix or "ファイル"


@register.filter
def file_size_ja(document) -> str:
    try:
        size = document.get_file_size() or document.file.size
    except (OSError, ValueError):
        return "サイズ不明"
    if size < 1024:
        return f"{size}バイト"
    if size < 1024 * 1024:
        return f"{round(size / 1024)}KB"
    return f"{size / (1024 * 1024):.1f}MB"


@register.filter
def table_rows(value):
    """Rows of a TableBlock value as (is_header_row, [(cell, column name)]) pairs: the
    column name is the header row's cell above (empty without a header row); phones show it
    above each cell when the rows stack (table.css)."""
    data = (value or {}).get("data") or []
    header = bool((value or {}).get("first_row_is_table_header")) and bool(data)
    names = [c or "" for c in data[0]] if header else []
    rows = []
    for i, row in enumerate(data):
        cells = [c or "" for c in row]
        rows.append((header and i == 0, [(c, names[j] if j < len(names) else "") for j, c in enumerate(cells)]))
    return rows


def _render_shared(context, template_name: str, key) -> str:
    """Render an include once per distinct key: for all pages of a static export, or per
    chrome generation on the live site (kokasen.pages.chrome)."""
    portal = context["portal"]

    def render():
        return render_to_string(template_name, context.flatten())

    if not portal.static_export:
        cache_key = f"{template_name}:{portal.host_key}:{portal.design}:{portal.structure}:{key}"
        return mark_safe(portal.chrome_cached(cache_key, render))
    store = portal.mode.shared.setdefault("fragments", {})
    full_key = (template_name, key)
    if full_key not in store:
        store[full_key] = mark_safe(render())
    slots = portal.mode.shared.get("shared_slots")
    if slots is not None:
        # The exporter rewrites each distinct fragment's links once per folder depth and puts
        # it where this marker stands (kokasen.static_export.rewrite.SharedFragment).
        return mark_safe(slots.marker(store[full_key]))
    return store[full_key]


@register.simple_tag(takes_context=True)
def site_header(context):
    """The header with the menus. It differs between pages only in which menu item is marked
    current and, on the live site, in the account links (filled in per request)."""
    portal, page = context["portal"], context.get("page")
    if portal.static_export:
        menu_ids = {item.page_id for item in portal.menu} | {c.page_id for item in portal.menu for c in item.children}
        trail_ids = {step.pk for step in portal.trail(page)} if page is not None else set()
        current = page.pk if page is not None and page.pk in menu_ids else None
        return _render_shared(context, "navigation/header.html", (tuple(sorted(trail_ids & menu_ids)), current))
    # Live: one entry per page (the marking follows from the page and the tree, and any tree
    # change starts a new chrome generation); pages outside the tree share one.
    header = _render_shared(context, "navigation/header.html", getattr(page, "pk", None))
    if context.get("page_holes"):  # a page cached with holes fills the slot per request (page_cache)
        return header
    return mark_safe(header.replace(chrome.ACCOUNT_SLOT, account_links(context.get("request"), context.get("user")), 1))


ACCOUNT_LINKS = Fragment("navigation/account_links.html", ("csrf_token",))


def account_links(request, user) -> str:
    """Login, or the members' area, the account and logout with the local government's name:
    rendered once per name (``core.slots``), the logout form's CSRF token per request. Anonymous
    visitors get no token (no CSRF cookie on the public pages, decision 0061)."""
    signed_in = bool(user is not None and user.is_authenticated)
    government_id = getattr(user, "local_government_id", None) if signed_in else None
    name = str(user.local_government) if government_id else ""
    token = csrf_token(request) if signed_in and request is not None else ""
    return ACCOUNT_LINKS.fill((signed_in, government_id, name), {"user": user}, {"csrf_token": token})


@register.simple_tag(takes_context=True)
def site_footer(context):
    return _render_shared(context, "navigation/footer.html", ())
