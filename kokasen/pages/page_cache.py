"""Whole pages of the logged-in area, cached with holes for what is the visitor's own (issue 19).

The members' pages and the 小ネタ topic page were rendered through the template engine on every
request, though all readers of one kind (自治体 or staff) see the same page apart from a few
parts: the header's account links, the login's end warning, the CSRF token of the forms, and
what a view names as its own holes (the password prompt, the poster's own posts, the post
form with its address). ``render`` renders the page once per ``key`` with a marker in each
hole, keeps it in the two-level cache (``core.caching``) and fills the holes per request.

What the key must name: everything the page shows apart from the holes, by the generations of
the rows it comes from. This module adds the chrome's generation (header, footer, settings)
and the host; the caller adds its own (the members area's, the topics', the settings'
version), the page, the query and the kind of reader. Never cached, always rendered as before:
a request with messages to show (they are read once), a page with Wagtail's user bar (people
who may edit), anything but GET or HEAD, and any request when the shared cache is down.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from django.contrib.messages.storage.cookie import CookieStorage
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.utils.crypto import salted_hmac

from kokasen.accounts import roles
from kokasen.accounts.templatetags.session_timeout import SESSION_SLOT, render_session_timeout
from kokasen.core import caching
from kokasen.core.context_processors import csrf_token

from . import chrome
from .templatetags.portal_tags import account_links

SECONDS = 60
KEY_PREFIX = "page-bytes:"  # the copies are UTF-8 bytes ("page:" held text, before)
_ACCOUNT_SLOT = chrome.ACCOUNT_SLOT.encode()
_SESSION_SLOT = SESSION_SLOT.encode()


@functools.cache
def csrf_marker() -> str:
    """What the cached copy carries in place of the CSRF token: the same in every worker (the copy
    is shared through Redis) and unknown to visitors (derived from the secret key)."""
    return "kokasen-csrf-" + salted_hmac("kokasen.pages.page_cache", "csrf marker").hexdigest()[:24]


def cacheable(request) -> bool:
    if request.method not in ("GET", "HEAD"):
        return False
    if CookieStorage.cookie_name in request.COOKIES or "_messages" in getattr(request, "session", {}):
        return False  # messages to show
    return not roles.requires_two_factor(request.user)  # Wagtail's user bar, per person and page


def render(
    request,
    template_name: str,
    context: dict,
    *,
    key: str | None,
    holes: dict[str, Callable[[], str]] | None = None,
    status: int = 200,
) -> HttpResponse:
    """The page of ``template_name``: from the cache under ``key`` with its holes filled, or
    rendered as a TemplateResponse (``key`` None, or not ``cacheable``). ``holes`` maps a marker
    that the context puts in the page to a function giving this request's HTML for it."""
    holes = holes or {}
    generation = chrome.generation() if key else ""
    if not key or not generation or generation == "none" or not cacheable(request):
        html_holes = {marker: fill() for marker, fill in holes.items()}
        response = TemplateResponse(request, template_name, context, status=status)
        if html_holes:
            response.add_post_render_callback(lambda r: _fill(r, html_holes))
        return response

    def compute():
        html = render_to_string(
            template_name, {**context, "page_holes": True, "csrf_token": csrf_marker()}, request=request
        )
        return html.encode()

    # Kept and filled as UTF-8 bytes: the response's own encoding, done once per copy instead of
    # once per request, and the markers (ASCII) replaced without scanning the text as characters.
    page = caching.versioned(f"{KEY_PREFIX}{generation}:{request.get_host()}:{key}", compute, SECONDS)
    page = page.replace(_ACCOUNT_SLOT, account_links(request, request.user).encode(), 1)
    page = page.replace(_SESSION_SLOT, render_session_timeout(request).encode(), 1)
    for marker, fill in holes.items():
        encoded = marker.encode()
        if encoded in page:
            page = page.replace(encoded, fill().encode())
    marker = csrf_marker().encode()
    if marker in page:
        page = page.replace(marker, csrf_token(request).encode())
    return HttpResponse(page, status=status)


def _fill(response, holes: dict[str, str]) -> None:
    content = response.content.decode()
    for marker, html in holes.items():
        content = content.replace(marker, html)
    response.content = content
