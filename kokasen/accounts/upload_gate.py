"""Request bodies are refused before anything reads them (decision 0021).

Django reads a POST body before any view runs: CsrfViewMiddleware looks for the
csrfmiddlewaretoken field in ``request.POST``, and every file part of a multipart body is
written to a temporary file on the way. The login checks of the admins come later, in their
views, so a visitor's 2 GB POST to /admin/documents/multiple/add/ used to be received and
stored in full before it was refused.

``AdminBodyGateMiddleware`` runs in the request phase, after the session, the user and the
TOTP state are known (Session, Authentication, OTP middleware) and before CsrfViewMiddleware's
view step. Without touching ``wsgi.input`` it answers

- 413 to any request whose Content-Length exceeds the limit of its path: the largest upload
  the admins take plus ``UPLOAD_BODY_MARGIN`` on admin paths (``ADMIN_PATH_PREFIXES``), or
  the smaller file limit of a screen named in ``ADMIN_UPLOAD_LIMITS`` plus the margin;
  ``MAX_BODY_SIZE_OUTSIDE_ADMIN`` elsewhere (nothing outside the admins takes a file);
- 403 to a request with a body (Content-Length above 0, or any Transfer-Encoding) sent to an
  admin path by anyone but a session that may use that admin: Wagtail's (``access_admin``) or
  Django's (``is_staff``), with the TOTP step passed.

Both responses ask the server to close the connection, so the unread body is not received
either. ``staff_upload_auth`` gives nginx the same answer for its ``auth_request``
(deploy/nginx/portal.conf), so nginx refuses such a request before it reads the body at all.
"""

from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpResponse
from django.urls import NoReverseMatch, reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from kokasen.core import errors

from . import roles

DJANGO_ADMIN_PREFIX = "/django-admin/"


def _content_length(value) -> int | None:
    """The Content-Length as a number; None when it is not one."""
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return None


def has_body(content_length, transfer_encoding) -> bool:
    length = _content_length(content_length)
    return length is None or length > 0 or bool(transfer_encoding)


def is_admin_path(path: str) -> bool:
    return path.startswith(tuple(settings.ADMIN_PATH_PREFIXES))


def screen_upload_limit(path: str) -> int | None:
    """The file limit of the admin screen at ``path`` when ``ADMIN_UPLOAD_LIMITS`` names it (its
    URL and below), else None."""
    for name, limit in getattr(settings, "ADMIN_UPLOAD_LIMITS", {}).items():
        try:
            prefix = reverse(name)
        except NoReverseMatch:
            continue
        if path.startswith(prefix):
            return limit
    return None


def max_body_size(path: str) -> int:
    if is_admin_path(path):
        screen = screen_upload_limit(path)
        if screen is not None:
            return screen + settings.UPLOAD_BODY_MARGIN
        largest = max(
            settings.DOCUMENT_MAX_UPLOAD_SIZE, settings.VIDEO_MAX_UPLOAD_SIZE, settings.WAGTAILIMAGES_MAX_UPLOAD_SIZE
        )
        return largest + settings.UPLOAD_BODY_MARGIN
    return settings.MAX_BODY_SIZE_OUTSIDE_ADMIN


def may_send_admin_body(user, path: str) -> bool:
    """A session that passed the TOTP step and may use the admin ``path`` belongs to."""
    if not (getattr(user, "is_authenticated", False) and user.is_active and roles.is_verified(user)):
        return False
    if path.startswith(DJANGO_ADMIN_PREFIX):
        return user.is_staff
    return user.has_perm("wagtailadmin.access_admin")  # Wagtail's own test (superusers have it)


def _closing(response):
    response["Connection"] = "close"  # the unread body is not worth receiving
    return response


class AdminBodyGateMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        meta = request.META
        length = _content_length(meta.get("CONTENT_LENGTH"))
        if length and length > max_body_size(request.path):
            said = screen_upload_limit(request.path) if is_admin_path(request.path) else None
            return _closing(errors.request_too_large(request, limit_bytes=said or max_body_size(request.path)))
        if is_admin_path(request.path) and has_body(meta.get("CONTENT_LENGTH"), meta.get("HTTP_TRANSFER_ENCODING")):
            if not may_send_admin_body(request.user, request.path):
                return _closing(
                    errors.error_response(request, "errors/admin_body_refused.html", 403, {"path": request.path})
                )
        return self.get_response(request)


@csrf_exempt  # changes nothing; nginx's subrequest carries no token
@never_cache
def staff_upload_auth(request):
    """nginx's ``auth_request`` for the admin locations: 204 when the original request has no
    body or comes from a session that may send one; 401 without a login, 403 otherwise. nginx
    passes the client's cookies and the original request's URI, Content-Length and
    Transfer-Encoding in X-Original-* headers, never the body."""
    original = request.headers
    if not has_body(original.get("X-Original-Content-Length"), original.get("X-Original-Transfer-Encoding")):
        return HttpResponse(status=204)
    path = urlsplit(original.get("X-Original-URI", "")).path
    if is_admin_path(path) and may_send_admin_body(request.user, path):
        return HttpResponse(status=204)
    return HttpResponse(status=401 if not request.user.is_authenticated else 403)
