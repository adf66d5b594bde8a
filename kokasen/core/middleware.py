from django.conf import settings
from django.core.exceptions import BadRequest
from django.http import HttpResponseNotAllowed
from django.urls import NoReverseMatch, reverse

from kokasen.core import errors

SHORT_FORM_DEFAULT_LIMIT = 64 * 1024


class SecurityHeadersMiddleware:
    """Content-Security-Policy and Permissions-Policy on every response.

    The public site gets the strict policy. The Wagtail and Django admins need inline
    scripts and styles, so they get the looser policy, scoped to their path prefixes.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.path.startswith(settings.ADMIN_PATH_PREFIXES):
            policy = settings.CONTENT_SECURITY_POLICY_ADMIN
        else:
            policy = settings.CONTENT_SECURITY_POLICY
        response.headers.setdefault("Content-Security-Policy", policy)
        response.headers.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        return response


class NulInQueryMiddleware:
    """A query string with a NUL character is a bad request (the plain 400 page) before any view
    reads it: no link of the portal has one, and PostgreSQL refuses to compare text with a NUL,
    so a view filtering by a query parameter answered 500 (found by wapiti on the full stack:
    ``/members/roundtables/?tag=%00``). Bodies are not read here (the upload gates must see them
    first); form fields with a NUL are refused by Django's form fields."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        query = request.META.get("QUERY_STRING", "")
        if "%00" in query or "\x00" in query:
            for key, values in request.GET.lists():
                if "\x00" in key or any("\x00" in value for value in values):
                    raise BadRequest("NUL in the query string")
        return self.get_response(request)


class MethodNotAllowedPageMiddleware:
    """Give the empty 405 responses of ``require_POST``, ``require_http_methods`` and
    class-based views (``HttpResponseNotAllowed``) the portal's Japanese page, keeping the
    status and the Allow header. Responses that already have a body are left alone."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if isinstance(response, HttpResponseNotAllowed) and not response.content:
            return errors.method_not_allowed(request, response["Allow"])
        return response


class ShortFormBodyLimitMiddleware:
    """Refuse oversized bodies sent to the short-text forms (小ネタ, 意見箱) before anything reads them.

    Django refuses a form body over DATA_UPLOAD_MAX_MEMORY_SIZE (5 MB) with RequestDataTooBig,
    which CsrfViewMiddleware would turn into a bare 400 page. These forms never need more than a
    few kilobytes, so requests to the URLs named in ``settings.SHORT_FORM_URL_NAMES`` (and below
    them) whose Content-Length exceeds SHORT_FORM_MAX_BODY_BYTES get the portal's Japanese 413 page
    (kokasen/core/errors.py) here, and nothing is read or stored (Django reads no more than
    Content-Length; without one the body is empty). Must sit before CsrfViewMiddleware's view
    step: it acts in the request phase, so anywhere in MIDDLEWARE after AuthenticationMiddleware
    works.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.prefixes = None

    def __call__(self, request):
        if request.method in ("POST", "PUT", "PATCH"):
            if self.prefixes is None:
                self.prefixes = self._prefixes()
            if request.path.startswith(self.prefixes) and self._too_big(request):
                return self._refuse(request)
        return self.get_response(request)

    @staticmethod
    def _prefixes() -> tuple[str, ...]:
        found = []
        for name in getattr(settings, "SHORT_FORM_URL_NAMES", ()):
            try:
                found.append(reverse(name))
            except NoReverseMatch:
                continue
        return tuple(found)

    @staticmethod
    def _too_big(request) -> bool:
        limit = getattr(settings, "SHORT_FORM_MAX_BODY_BYTES", SHORT_FORM_DEFAULT_LIMIT)
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return True
        return length > limit

    @staticmethod
    def _refuse(request):
        response = errors.request_too_large(request, back_url=request.path)
        response["Connection"] = "close"  # the unread body is not worth receiving
        return response
