"""Two-level caching for rendered fragments: this process's memory first, then the shared
cache (Redis in production). Use it only with keys that name a version of what they cache
(a version stamp read from the database, or a generation that every change replaces), so
that no level can hand out something stale: a new version is a new key, and old keys just
expire."""

import time

from django.core.cache import cache

LOCAL_LIMIT = 2000  # entries kept in one process; all dropped when full (they are cheap to refill)
_local: dict[str, tuple[float, object]] = {}


def versioned(key: str, compute, seconds: int):
    """The value for key: from this process, else from the shared cache, else compute()
    (stored in both for `seconds`)."""
    now = time.monotonic()
    hit = _local.get(key)
    if hit is not None and hit[0] > now:
        return hit[1]
    value = cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value, seconds)
    if len(_local) >= LOCAL_LIMIT:
        _local.clear()
    _local[key] = (now + seconds, value)
    return value


def clear_local() -> None:
    """Forget this process's entries (tests that flush the shared cache call it too)."""
    _local.clear()
