"""The request id: one value per request, in nginx's access logs and in every log record the
app writes while it answers that request (docs/operations.md, "Logs").

nginx generates ``$request_id`` (32 hex digits), writes it in its JSON access log and passes it
as ``X-Request-ID`` (deploy/nginx/portal.conf). The header is believed only from a trusted proxy
(``kokasen.core.client_address.from_trusted_proxy``, the rule of ``X-Forwarded-For``) and only
when it looks like an id; otherwise the app makes its own, so a client can neither choose the
id under which its requests are logged nor write text into the logs through it.

``RequestIdMiddleware`` puts the id on ``request.request_id`` and in a context variable for the
duration of the request; ``RequestIdLogFilter`` (in settings.LOGGING) copies it into every log
record as ``record.request_id`` ("-" outside a request: commands, timers).
"""

from __future__ import annotations

import logging
import re
import uuid
from contextvars import ContextVar

from kokasen.core.client_address import from_trusted_proxy

HEADER = "HTTP_X_REQUEST_ID"
# nginx's $request_id is 32 hex digits; a load balancer in front of it may use a UUID.
_VALID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{7,63}$")
_current: ContextVar[str] = ContextVar("kokasen_request_id", default="-")


def current() -> str:
    """The id of the request being answered, or "-" outside a request."""
    return _current.get()


def from_request(request) -> str:
    """The proxy's id when a trusted proxy sent a well-formed one, else a new one."""
    value = request.META.get(HEADER, "")
    if value and _VALID.match(value) and from_trusted_proxy(request):
        return value
    return uuid.uuid4().hex


class RequestIdMiddleware:
    """First in MIDDLEWARE, so that everything logged while answering carries the id."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.request_id = from_request(request)
        token = _current.set(request.request_id)
        try:
            return self.get_response(request)
        finally:
            _current.reset(token)


class RequestIdLogFilter(logging.Filter):
    """Adds ``request_id`` to every record (attach it to the handlers, see settings.LOGGING)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            # Django logs 4xx/5xx responses ("Not Found: …") after the middleware has returned,
            # with the request in the record: its id still belongs to the line.
            request = getattr(record, "request", None)
            record.request_id = getattr(request, "request_id", None) or current()
        return True
