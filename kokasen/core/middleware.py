from django.conf import settings
from django.http import HttpResponseNotAllowed

from kokasen.core import errors


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
