"""Refuse oversized bodies sent to the short-text forms (小ネタ, 意見箱) before anything reads them.

Django refuses a form body over DATA_UPLOAD_MAX_MEMORY_SIZE (5 MB) with RequestDataTooBig,
which CsrfViewMiddleware would turn into a bare 400 page. These forms never need more than a
few kilobytes, so requests to their URLs whose Content-Length exceeds
SHORT_FORM_MAX_BODY_BYTES get the portal's Japanese 413 page (kokasen/core/errors.py) here, and nothing is read or stored (Django
reads no more than Content-Length; without one the body is empty). Must sit before CsrfViewMiddleware's view step:
it acts in the request phase, so anywhere in MIDDLEWARE after AuthenticationMiddleware works.
"""

from django.conf import settings
from django.urls import NoReverseMatch, reverse

from kokasen.core import errors

DEFAULT_LIMIT = 64 * 1024


def _prefixes() -> tuple[str, ...]:
    found = []
    for name in ("tips:index", "feedback:send"):
        try:
            found.append(reverse(name))
        except NoReverseMatch:
            continue
    return tuple(found)


class ShortFormBodyLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.prefixes = None

    def __call__(self, request):
        if request.method in ("POST", "PUT", "PATCH"):
            if self.prefixes is None:
                self.prefixes = _prefixes()
            if request.path.startswith(self.prefixes) and self._too_big(request):
                return self._refuse(request)
        return self.get_response(request)

    @staticmethod
    def _too_big(request) -> bool:
        limit = getattr(settings, "SHORT_FORM_MAX_BODY_BYTES", DEFAULT_LIMIT)
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
