from pathlib import PurePosixPath
from urllib.parse import urlsplit

from django import template

register = template.Library()


@register.simple_tag
def ancestor_ids(page):
    """Primary keys of page and its ancestors, to mark the current menu."""
    if page is None or not getattr(page, "pk", None):
        return set()
    return set(page.get_ancestors(inclusive=True).values_list("pk", flat=True))


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
