"""The members area's Wagtail pages served without walking the page tree (issue 19).

Wagtail serves a page by finding the site (a query), walking the tree from the site's root
one slug at a time (two queries a level), reading the view restrictions of the page and its
ancestors and, for a group restriction, the restriction's groups and the user's (three more).
For the members area all of that depends only on the area's version (``versions.py``), so it
is read once per version and kept in the two-level cache (``core.caching.versioned``):

- ``Area``: the site of the host, and for every live page of the area its URL path, the page
  id and the view restrictions of the page and its ancestors (type and group names);
- the specific page object itself, per page and version.

A GET or HEAD of a known URL whose restrictions the user passes (the user's groups from the
cached access facts, ``accounts/facts.py``) is then served as ``wagtail.views.serve`` serves
it: every ``on_serve_page`` and ``before_serve_page`` hook, minus Wagtail's view-restriction
check, which was just made on the same data. Everything else (another method, an unknown URL,
a restriction the user does not pass, a password restriction, no shared cache) goes to
Wagtail's own ``serve``, which answers as it always did (404, login page). The page's own
``serve()`` (``models.MembersPageMixin``) still refuses non-readers of the area, and renders
its body from the cache (``MembersPageMixin.serve``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.http import HttpResponse
from django.utils.cache import add_never_cache_headers
from wagtail import hooks
from wagtail import views as wagtail_views
from wagtail.models import Page, PageViewRestriction, Site

from kokasen.accounts import roles
from kokasen.core import caching

from . import versions

BODY_QUERY_LIMIT = 200  # longer query strings are rendered, not cached (no cache flooding)


@dataclass(frozen=True)
class Route:
    page_id: int
    restrictions: tuple[tuple[str, frozenset[str]], ...]  # (restriction type, group names)


@dataclass
class Area:
    site: Site | None
    routes: dict[str, Route] = field(default_factory=dict)  # "/members/…/" → Route


def _read_area(request) -> Area:
    from .models import MembersHomePage, MembersPageMixin

    site = Site.find_for_request(request)
    if site is None:
        return Area(None)
    root = site.root_page
    homes = list(MembersHomePage.objects.descendant_of(root))
    if not homes:
        return Area(site)
    restrictions = [
        (r.page.path, r.restriction_type, frozenset(g.name for g in r.groups.all()))
        for r in PageViewRestriction.objects.select_related("page").prefetch_related("groups")
    ]
    routes = {}
    for home in homes:
        pages = Page.objects.live().descendant_of(home, inclusive=True).select_related("content_type")
        for page in pages:
            model = page.content_type.model_class()
            if model is None or not issubclass(model, MembersPageMixin):
                continue  # anything else is Wagtail's to serve
            if not page.url_path.startswith(root.url_path):
                continue
            url = "/" + page.url_path[len(root.url_path) :]
            found = tuple((kind, groups) for path, kind, groups in restrictions if page.path.startswith(path))
            routes[url] = Route(page.pk, found)
    return Area(site, routes)


def _passes(route: Route, user) -> bool:
    """Wagtail's PageViewRestriction.accept_request for login and group restrictions, on the
    cached facts; anything else (a password) is left to Wagtail."""
    for kind, groups in route.restrictions:
        if kind == PageViewRestriction.LOGIN:
            if not user.is_authenticated:
                return False
        elif kind == PageViewRestriction.GROUPS:
            if not user.is_authenticated:
                return False
            if not user.is_superuser and not (groups & roles.group_names(user)):
                return False
        else:
            return False
    return True


def _page(generation: str, page_id: int):
    return caching.versioned(
        f"members:page:{generation}:{page_id}", lambda: Page.objects.get(pk=page_id).specific, versions.SECONDS
    )


def body_key(request, generation: str, page) -> str | None:
    """The cache key of the page's body for this request, or None (not cached)."""
    query = request.GET.urlencode()
    if len(query) > BODY_QUERY_LIMIT:
        return None
    variant = "member" if roles.is_member(request.user) else "reader"
    return f"members:body:{generation}:{page.pk}:{variant}:{query}"


def _skip_restriction_check(hook) -> bool:
    return hook.__module__ == "wagtail.wagtail_hooks" and hook.__name__ == "check_view_restrictions"


def serve(request, path):
    """The members area's pages (URL ``members/…``); see the module's text."""
    if request.method not in ("GET", "HEAD"):
        return wagtail_views.serve(request, path)
    generation = versions.generation(request)
    if not generation:
        return wagtail_views.serve(request, path)
    area = caching.versioned(
        f"members:area:{generation}:{request.get_host()}", lambda: _read_area(request), versions.SECONDS
    )
    route = area.routes.get("/" + path)
    if route is None or not _passes(route, request.user):
        return wagtail_views.serve(request, path)
    page = _page(generation, route.page_id)
    request._wagtail_site = area.site
    request._wagtail_route_for_request = (page, [], {})
    request._kokasen_members_body_key = body_key(request, generation, page)

    chain = wagtail_views.serve_chain
    for hook in reversed(hooks.get_hooks("on_serve_page")):
        if not _skip_restriction_check(hook):
            chain = hook(chain)
    for hook in hooks.get_hooks("before_serve_page"):
        result = hook(page, request, [], {})
        if isinstance(result, HttpResponse):
            return result
    response = chain(page, request, [], {})
    if route.restrictions:
        add_never_cache_headers(response)  # as Wagtail's check does
    return response
