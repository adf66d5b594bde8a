"""The small shared-cache keys a request reads, fetched in one round trip (issue 19).

A members' page used to ask Redis five times before its body: the session, the access facts'
generations, the members area's generation, the chrome's generation and the 小ネタ settings.
Each is a few bytes, but each round trip is a system call and a wait for a sync worker. Here
the apps name, per request, the keys they will read (``register``: a function of the request
returning keys; it may look at the path and the cookies, not at the session), and
``PrefetchMiddleware`` (right after Django's ``AuthenticationMiddleware``) reads them all with
one ``get_many`` when a GET or HEAD reads the first of them (a request that reads none, such as
``/healthz``, asks Redis nothing). The session is one of them (``accounts/sessions.py``: its
key comes from the cookie), so a members' page reads its session and every generation in one
round trip (decision 0068).
The readers then call ``get``/``get_many`` here instead of the cache's: a key that was read
comes from that answer, anything else (not prefetched, missing in Redis, another method, code
outside a request) from the cache as before.

Nothing becomes staler than before: the values are those of the request's own start, as every
reader already took them once per request; a key replaced or deleted during the request
(``forget``, called by every writer of these keys) is read again. The cache's own rules apply
unchanged (``core.resilient_cache``: when Redis is down ``get_many`` answers nothing and each
reader falls back to its own handling, as without this module).
"""

from __future__ import annotations

from contextvars import ContextVar

from django.conf import settings
from django.core.cache import cache

_found: ContextVar[dict | None] = ContextVar("kokasen_request_cache", default=None)
_providers: list = []


def register(provider) -> None:
    """provider(request) → the keys this request will read. It must not read the session: the
    session itself is read in the same round trip (``accounts/sessions.py``)."""
    if provider not in _providers:
        _providers.append(provider)


def has_session_cookie(request) -> bool:
    return bool(request.COOKIES.get(settings.SESSION_COOKIE_NAME))


def _prefetched() -> dict | None:
    """This request's answer, fetched at the first read (None outside a GET or HEAD): a request
    that reads none of the keys (``/healthz``, a static redirect) asks Redis nothing at all."""
    state = _found.get()
    if state is None:
        return None
    if state["values"] is None:
        keys = _keys(state["request"])
        state["values"] = dict(cache.get_many(keys)) if keys else {}
    return state["values"]


def current_request():
    """The GET or HEAD request being answered (None outside one): for readers whose keys come
    from the request's own cookies (``accounts/user_rows.py``)."""
    state = _found.get()
    return state["request"] if state is not None else None


def get(key: str):
    found = _prefetched()
    if found is not None and key in found:
        return found[key]
    return cache.get(key)


def get_many(keys) -> dict:
    keys = list(keys)
    found = _prefetched()
    if found is None:
        return cache.get_many(keys)
    result = {key: found[key] for key in keys if key in found}
    missing = [key for key in keys if key not in result]
    if missing:
        result.update(cache.get_many(missing))
    return result


def forget(key: str) -> None:
    """The key was written or deleted: read it again if this request asks for it."""
    state = _found.get()
    if state is not None and state["values"] is not None:
        state["values"].pop(key, None)


def _keys(request) -> list[str]:
    keys: list[str] = []
    for provider in _providers:
        keys.extend(provider(request))
    return list(dict.fromkeys(keys))


class PrefetchMiddleware:
    """For a GET or HEAD, the registered keys in one ``get_many`` when the first of them is read
    (see the module's text)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method not in ("GET", "HEAD") or not _providers:
            return self.get_response(request)
        token = _found.set({"request": request, "values": None})
        try:
            return self.get_response(request)
        finally:
            _found.reset(token)
