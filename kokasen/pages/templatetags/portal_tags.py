from pathlib import PurePosixPath
from urllib.parse import urlsplit

from django import template

register = template.Library()


@register.simple_tag(takes_context=True)
def page_trail(context, page):
    """The page's ancestors below the tree root and the page itself (breadcrumbs, and the
    current menu); see Portal.trail."""
    return context["portal"].trail(page)


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
    """Rows of a TableBlock value as (is_header_row, cells) pairs."""
    data = (value or {}).get("data") or []
    header = bool((value or {}).get("first_row_is_table_header"))
    return [(header and i == 0, [c or "" for c in row]) for i, row in enumerate(data)]
