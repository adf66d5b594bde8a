"""Context processors of the whole site."""

from django.middleware.csrf import get_token
from django.utils.functional import SimpleLazyObject


def csrf_token(request) -> str:
    """The request's masked CSRF token, made once per request (issue 19).

    Django masks the token anew on every ``get_token`` call, and its own context processor calls
    it once per rendering context: a members' page rendered four (the page, the header's account
    links, the login's end warning, a form), each drawing 64 random characters. One masked token
    per response protects the same (the mask exists so that a response's bytes differ between
    responses, not between forms of one response)."""
    token = getattr(request, "_kokasen_csrf_token", None)
    if token is None:
        token = get_token(request)
        request._kokasen_csrf_token = token
    return token


def csrf(request) -> dict:
    """Replaces Django's built-in ``csrf_token`` (this processor runs after it) with the
    request's one token (``csrf_token`` above)."""
    return {"csrf_token": SimpleLazyObject(lambda: csrf_token(request) or "NOTPROVIDED")}
