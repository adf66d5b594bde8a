"""Search documents for the live public pages (used by the search view and the export)."""

from collections.abc import Iterable, Mapping

from django.core.cache import cache
from wagtail.models import Page

from . import navigation, textsearch


def _collect_strings(value, out: list[str]) -> None:
    """Every text in a StreamField's raw data (which is a list-like view, not a list)."""
    if isinstance(value, str):
        out.append(textsearch.strip_tags(value))
    elif isinstance(value, Mapping):
        for key, item in value.items():
            if key in ("anchor", "id", "type", "kind") or key.endswith("_id"):
                continue
            _collect_strings(item, out)
    elif isinstance(value, Iterable):
        for item in value:
            _collect_strings(item, out)


def body_text(page) -> str:
    body = getattr(page, "body", None)
    if body is None:
        return ""
    parts: list[str] = []
    _collect_strings(body.raw_data, parts)
    return " ".join(p for p in parts if p.strip())


def page_parts(page) -> dict[str, str]:
    """What a page's search document is made of (textsearch.Document.build's arguments)."""
    return {"url": page.url, "title": page.title, "summary": getattr(page, "summary", ""), "body": body_text(page)}


def page_document(page) -> textsearch.Document:
    return textsearch.Document.build(**page_parts(page))


def public_pages(root: Page):
    """The searchable pages: every live public page below root (not root itself)."""
    return Page.objects.live().public().descendant_of(root).order_by("path")


def documents_for(root: Page) -> list[textsearch.Document]:
    """All searchable documents below root, cached.

    The key (``navigation.public_version``) changes whenever a page is published,
    unpublished, moved or restricted, or saved live without a revision.
    """
    key = f"kokasen-search-{navigation.public_version(root)}"
    documents = cache.get(key)
    if documents is None:
        documents = [page_document(page) for page in public_pages(root).specific()]
        cache.set(key, documents, 60 * 60)
    return documents
