"""/healthz and /readyz for the monitor (docs/operations.md "Monitoring"). JSON, never cached,
404 for anyone but loopback and HEALTH_ALLOWED_NETWORKS (access.py).

- /healthz: this process answers (no database, no cache, nothing else asked): 200.
- /readyz: every check of readiness.py, within a second: 200 when all pass, 503 naming the
  failed ones in ``failed`` (and each check's detail in ``checks``).
"""

import logging

from django.http import Http404, JsonResponse
from django.views.decorators.http import require_safe

from .access import may_ask
from .readiness import readiness

logger = logging.getLogger("kokasen.ops")


def _json(body: dict, status: int) -> JsonResponse:
    response = JsonResponse(body, status=status, json_dumps_params={"ensure_ascii": False})
    response["Cache-Control"] = "no-store"
    return response


@require_safe
def healthz(request):
    if not may_ask(request):
        raise Http404
    return _json({"status": "ok"}, 200)


@require_safe
def readyz(request):
    if not may_ask(request):
        raise Http404
    ready, body = readiness()
    response = _json(body, 200 if ready else 503)
    if not ready:
        # One line naming what failed, instead of Django's generic "Service Unavailable" error.
        logger.warning("readyz: %s", "; ".join(f"{name}: {body['checks'][name]['detail']}" for name in body["failed"]))
        response._has_been_logged = True
    return response
