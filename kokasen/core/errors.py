"""The portal's error pages (docs/decisions/0018-error-pages.md).

Every error a visitor can meet gets a Japanese page in the portal's design that says what
happened and what to do next, never Django's English defaults. Two frames:

- the full frame (``base.html``: header with the menus, footer) for 403, 404, 405, 413 and
  the CSRF failure, rendered with the request and the context processors. If that fails
  (say the database went away between the error and its page), the page falls back to the
  plain frame, so the status code stays right;
- the plain frame (``errors/frame_plain.html``) for 400 and 500, and for nginx's own pages
  (``write_error_pages``): no request, no context processors, no database, no cache. A 400
  may come from a forged Host header, which the full frame would read, and a 500 often
  means the database or the cache is down.

Nothing on these pages depends on the address asked for, so a 404 tells nobody whether a
members-only page exists.
"""

import logging

from django.core.exceptions import RequestDataTooBig
from django.http import HttpResponse
from django.template import loader
from django.views.decorators.csrf import requires_csrf_token

from .upload_scan import VirusCheckFailed

log = logging.getLogger(__name__)

PLAIN_FRAME = "errors/frame_plain.html"

# nginx's own error pages: file name -> template (deploy/nginx/errors/, written by write_error_pages).
NGINX_PAGES = {
    "404.html": "errors/404.html",
    "413.html": "errors/413.html",
    "admin-body-refused.html": "errors/admin_body_refused.html",
    "429.html": "errors/429.html",
    "502.html": "errors/502.html",
    "503.html": "errors/503.html",
}


def render_plain(template_name: str, context: dict | None = None) -> str:
    """The page in the plain frame, from the template files alone."""
    return loader.get_template(template_name).render({**(context or {}), "frame": PLAIN_FRAME})


def nginx_pages() -> dict[str, bytes]:
    """nginx's own error pages as files: {file name: content} (the plain frame; every link is
    root-relative, because nginx shows them at whatever address failed)."""
    return {name: render_plain(template).encode("utf-8") for name, template in NGINX_PAGES.items()}


def render_full(request, template_name: str, context: dict | None = None) -> str:
    """The page in the portal's full frame (needs the database and the cache)."""
    return loader.render_to_string(template_name, context, request)


def error_response(request, template_name: str, status: int, context: dict | None = None) -> HttpResponse:
    try:
        body = render_full(request, template_name, context)
    except Exception:
        log.exception("The %s page could not be rendered in the full frame; sent the plain one.", status)
        body = render_plain(template_name, context)
    return HttpResponse(body, status=status)


# --- handler400, handler403, handler404, handler500 (kokasen/urls.py) and CSRF_FAILURE_VIEW ---


@requires_csrf_token
def bad_request(request, exception=None):
    if isinstance(exception, RequestDataTooBig):
        return request_too_large(request)
    if isinstance(exception, VirusCheckFailed):  # a file clamd did not pass, used outside a form
        return HttpResponse(render_plain("errors/upload_refused.html", {"message": exception.message}), status=400)
    return HttpResponse(render_plain("errors/400.html"), status=400)


@requires_csrf_token
def permission_denied(request, exception=None):
    return error_response(request, "errors/403.html", 403)


@requires_csrf_token
def page_not_found(request, exception=None):
    return error_response(request, "errors/404.html", 404)


def server_error(request):
    return HttpResponse(render_plain("errors/500.html"), status=500)


def csrf_failure(request, reason=""):
    """Django's check of the form token failed (an expired page, cookies switched off). The
    reason is logged by Django (django.security.csrf) and not shown."""
    return error_response(request, "errors/csrf_failure.html", 403)


# --- the responses the project produces itself ---


def request_too_large(request, *, back_url: str | None = None, limit_bytes: int | None = None) -> HttpResponse:
    """413 for a form body over the limit; nothing of it was read or stored. The form is
    normally at the address it was posted to, so that is the way back. ``limit_bytes``, when
    given, is said in whole megabytes."""
    context = {"back_url": back_url or request.path}
    if limit_bytes:
        context["limit_mb"] = max(1, limit_bytes // (1024 * 1024))
    return error_response(request, "errors/413.html", 413, context)


def method_not_allowed(request, allowed: str) -> HttpResponse:
    response = error_response(request, "errors/405.html", 405)
    response["Allow"] = allowed
    return response
