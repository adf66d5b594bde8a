"""Django's ``cached_db`` sessions, read in the request's one round trip to Redis (issue 19).

The session is the first thing a logged-in request reads, and the small keys every members' page
reads (the generations of ``core.request_cache``) used to follow it in a second round trip. Its
cache key comes from the cookie alone, so it is named with them (``prefetch_keys``) and
``load`` takes it from that one ``get_many``; everything else is ``cached_db`` unchanged: the
same keys and data (sessions made before keep working), a miss read from the database and put
back in the cache, every write through to the database. A session written or deleted during
the request is dropped from the prefetched answer (``forget``), so a later read in the same
request sees the write.

``SESSION_ENGINE = "kokasen.accounts.sessions"`` (settings/base.py).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.sessions.backends.cached_db import KEY_PREFIX
from django.contrib.sessions.backends.cached_db import SessionStore as CachedDBStore
from django.core.cache import DEFAULT_CACHE_ALIAS

from kokasen.core import request_cache

KEY_LIMIT = 64  # Django's session keys are 32 characters; a longer cookie is not looked up in advance


def looks_like_a_key(key) -> bool:
    """Whether a cookie's value is worth looking up in advance as a session key."""
    return bool(key) and len(key) <= KEY_LIMIT


def prefetch_keys(request) -> list[str]:
    """The session's cache key, from the cookie (``core.request_cache``)."""
    key = request.COOKIES.get(settings.SESSION_COOKIE_NAME, "")
    if not looks_like_a_key(key) or settings.SESSION_CACHE_ALIAS != DEFAULT_CACHE_ALIAS:
        return []
    return [KEY_PREFIX + key]


class SessionStore(CachedDBStore):
    def load(self):
        if settings.SESSION_CACHE_ALIAS != DEFAULT_CACHE_ALIAS:
            return super().load()
        try:
            data = request_cache.get(self.cache_key)  # the request's one round trip, or the cache
        except Exception:  # as cached_db: a key the cache refuses starts a new session
            data = None
        if data is None:
            found = self._get_session_from_db()
            if found:
                data = self.decode(found.session_data)
                self._cache.set(self.cache_key, data, self.get_expiry_age(expiry=found.expire_date))
            else:
                data = {}
        return data

    def save(self, must_create=False):
        super().save(must_create)
        request_cache.forget(self.cache_key)

    def delete(self, session_key=None):
        key = session_key or self.session_key
        super().delete(session_key)
        if key:
            request_cache.forget(KEY_PREFIX + key)
