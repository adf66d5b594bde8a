"""The session's time left (GET) and its extension (POST), for static/js/session-timeout.js
(JIS X 8341-3 2.2.1, decision 0066). Members and verified staff only; anyone else, an ended
session included, gets 403 with ``{"seconds_left": 0}`` so that the page says the login has ended."""

from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from . import session_expiry


@never_cache
@require_http_methods(["GET", "POST"])
def session_state(request):
    if not session_expiry.may_keep(request.user):
        return JsonResponse({"seconds_left": 0, "extensions_left": 0}, status=403)
    if request.method == "POST" and not session_expiry.extend(request):
        return JsonResponse(session_expiry.state(request), status=409)
    return JsonResponse(session_expiry.state(request))
