"""The Redis cache, carrying on while Redis is down or hangs (docs/decisions/0028).

Django's Redis backend raises on every call when Redis cannot be reached, so a Redis outage
made every page a 500, and a Redis that accepts connections but never answers made every page
wait forever. With this backend (``settings.CACHES``, production) the site degrades instead:

- **Reads miss, writes are dropped.** Pages are rendered without cached fragments (slower, not
  broken). Sessions (``cached_db``) are read from and written to the database, which always
  held them; logging in and out works.
- **Rate counters count in each worker's memory.** Keys starting with one of
  ``local_prefixes`` (``throttle:`` and ``login:``: the login defences, password-reset and
  posting limits) go to a local-memory cache of this process while Redis is away, so the limits
  still hold per worker (with N workers an attacker gets at most N times the attempts; nothing
  is let through uncounted, nobody is refused because of the outage). Counts made there are not
  carried back to Redis.
- **Bounded waits.** Each call waits at most the socket timeouts (``socket_connect_timeout``,
  ``socket_timeout`` in OPTIONS, passed to redis-py). After a failure Redis is not asked again
  for ``retry_seconds``: in between, calls answer at once from the rules above. So a hanging
  Redis costs each worker one timeout per ``retry_seconds``, not one per call.
- **Logged once per interval.** The first failure is logged (WARNING) at once, then at most one
  line per ``log_seconds`` per worker with the number of failed calls, and one when Redis is back.
- **Nothing stale afterwards.** Every key whose write or delete was dropped is remembered
  (up to ``max_dropped_keys``); before the first call after the outage they are deleted from
  Redis, so that, for example, a session that was logged out in the database while Redis was
  down is not served again from Redis' older copy. Beyond that many keys the whole cache
  database is emptied instead (logged). A worker that is restarted during an outage forgets its
  list: docs/operations.md says to empty the cache after a long outage.

Only errors of Redis (``redis.exceptions.RedisError``: connection refused, timeouts, a full
Redis refusing writes) are handled this way; anything else still raises.
"""

from __future__ import annotations

import logging
import threading
import time

import redis
from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.locmem import LocMemCache

from .redis_cache import RedisCache

logger = logging.getLogger("kokasen.cache")
REDIS_ERRORS = (redis.exceptions.RedisError,)


class ResilientRedisCache(RedisCache):
    def __init__(self, server, params):
        options = dict(params.get("OPTIONS") or {})
        self.retry_seconds = float(options.pop("retry_seconds", 5))
        self.log_seconds = float(options.pop("log_seconds", 60))
        self.local_prefixes = tuple(options.pop("local_prefixes", ()))
        self.max_dropped_keys = int(options.pop("max_dropped_keys", 10_000))
        super().__init__(server, {**params, "OPTIONS": options})
        local_params = {key: params[key] for key in ("KEY_PREFIX", "VERSION", "KEY_FUNCTION") if key in params}
        self._local = LocMemCache(
            f"kokasen-cache-outage-{id(self)}",
            {**local_params, "TIMEOUT": params.get("TIMEOUT", 300), "OPTIONS": {"MAX_ENTRIES": 100_000}},
        )
        self._state = threading.Lock()
        self._down_since: float | None = None  # monotonic time of the first failure of this outage
        self._retry_at = 0.0
        self._failures = 0  # failed calls since the last log line
        self._logged_at = 0.0
        self._dropped: set[str] = set()  # made keys whose write or delete did not reach Redis
        self._dropped_all = False  # too many to remember, or a dropped clear(): empty it all

    # --- the state --------------------------------------------------------------------------------

    @property
    def is_down(self) -> bool:
        return self._down_since is not None

    def _is_local(self, key: str) -> bool:
        return bool(self.local_prefixes) and str(key).startswith(self.local_prefixes)

    def _failed(self, error: Exception) -> None:
        now = time.monotonic()
        with self._state:
            first = self._down_since is None
            if first:
                self._down_since = now
            self._retry_at = now + self.retry_seconds
            self._failures += 1
            due = first or now - self._logged_at >= self.log_seconds
            if due:
                failures, self._failures, self._logged_at = self._failures, 0, now
        if not due:
            return
        if first:
            logger.warning(
                "Redis cache unavailable (%s: %s): serving without it (reads miss, writes are dropped, "
                "sessions from the database, rate counters in this worker's memory); retrying every %g s, "
                "logging at most every %g s",
                type(error).__name__,
                error,
                self.retry_seconds,
                self.log_seconds,
            )
        else:
            logger.warning(
                "Redis cache still unavailable (%s: %s): %d failed calls since the last message, down for %.0f s",
                type(error).__name__,
                error,
                failures,
                now - self._down_since,
            )

    def _remember_dropped(self, made_keys) -> None:
        with self._state:
            if self._dropped_all:
                return
            self._dropped.update(made_keys)
            if len(self._dropped) > self.max_dropped_keys:
                self._dropped_all, self._dropped = True, set()

    def _recover(self) -> None:
        """First contact after an outage: delete what went stale while it lasted (raises a Redis
        error if Redis is still away)."""
        with self._state:
            dropped, everything, since = set(self._dropped), self._dropped_all, self._down_since
        if everything:
            self._cache.clear()
        elif dropped:
            keys = sorted(dropped)
            for start in range(0, len(keys), 500):
                self._cache.delete_many(keys[start : start + 500])
        else:
            self._cache.get_client(write=True).ping()
        with self._state:
            self._dropped.difference_update(dropped)
            if everything:
                self._dropped_all = False
            self._down_since, self._failures = None, 0
        self._local.clear()
        logger.warning(
            "Redis cache back after %.0f s; %s written or deleted while it was down removed from Redis",
            time.monotonic() - (since or time.monotonic()),
            "every key (too many to list)" if everything else f"{len(dropped)} key(s)",
        )

    def _reachable(self) -> bool:
        """Whether to ask Redis now: not during the pause after a failure; and after an outage,
        only once the stale keys are gone."""
        if self._down_since is None:
            return True
        if time.monotonic() < self._retry_at:
            return False
        try:
            self._recover()
        except REDIS_ERRORS as error:
            self._failed(error)
            return False
        return True

    def _call(self, operation):
        """(True, result) from Redis, or (False, None) when it is away."""
        if not self._reachable():
            return False, None
        try:
            return True, operation()
        except REDIS_ERRORS as error:
            self._failed(error)
            return False, None

    def redis_call(self, operation):
        """``(True, operation(client))`` with the backend's own ``redis.Redis`` client, or ``(False,
        None)`` when Redis is away: the same pause after a failure, logging and recovery as the
        cache calls. For the few writers that need a Redis command the cache API lacks (the
        analytics' page-view buffer, decision 0067); their keys are theirs to name."""
        return self._call(lambda: operation(self._cache.get_client(write=True)))

    def _made(self, key, version):
        return self.make_and_validate_key(key, version=version)

    # --- the cache API ------------------------------------------------------------------------------

    def get(self, key, default=None, version=None):
        reached, value = self._call(lambda: super(ResilientRedisCache, self).get(key, default, version))
        if reached:
            return value
        return self._local.get(key, default, version) if self._is_local(key) else default

    def get_many(self, keys, version=None):
        keys = list(keys)
        reached, values = self._call(lambda: super(ResilientRedisCache, self).get_many(keys, version))
        if reached:
            return values
        return self._local.get_many([key for key in keys if self._is_local(key)], version)

    def has_key(self, key, version=None):
        reached, value = self._call(lambda: super(ResilientRedisCache, self).has_key(key, version))
        if reached:
            return value
        return self._local.has_key(key, version) if self._is_local(key) else False

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        reached, added = self._call(lambda: super(ResilientRedisCache, self).add(key, value, timeout, version))
        if reached:
            return added
        return self._local.add(key, value, timeout, version) if self._is_local(key) else False

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        reached, _ = self._call(lambda: super(ResilientRedisCache, self).set(key, value, timeout, version))
        if reached:
            return
        if self._is_local(key):
            self._local.set(key, value, timeout, version)
        else:
            self._remember_dropped([self._made(key, version)])

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        reached, failed = self._call(lambda: super(ResilientRedisCache, self).set_many(data, timeout, version))
        if reached:
            return failed
        local = {key: value for key, value in data.items() if self._is_local(key)}
        if local:
            self._local.set_many(local, timeout, version)
        remote = [key for key in data if not self._is_local(key)]
        self._remember_dropped([self._made(key, version) for key in remote])
        return remote

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        reached, touched = self._call(lambda: super(ResilientRedisCache, self).touch(key, timeout, version))
        if reached:
            return touched
        return self._local.touch(key, timeout, version) if self._is_local(key) else False

    def delete(self, key, version=None):
        reached, deleted = self._call(lambda: super(ResilientRedisCache, self).delete(key, version))
        if reached:
            return deleted
        if self._is_local(key):
            return self._local.delete(key, version)
        self._remember_dropped([self._made(key, version)])
        return False

    def delete_many(self, keys, version=None):
        keys = list(keys)
        reached, _ = self._call(lambda: super(ResilientRedisCache, self).delete_many(keys, version))
        if reached:
            return
        local = [key for key in keys if self._is_local(key)]
        if local:
            self._local.delete_many(local, version)
        self._remember_dropped([self._made(key, version) for key in keys if not self._is_local(key)])

    def incr(self, key, delta=1, version=None):
        reached, value = self._call(lambda: super(ResilientRedisCache, self).incr(key, delta, version))
        if reached:
            return value
        if self._is_local(key):
            return self._local.incr(key, delta, version)
        self._remember_dropped([self._made(key, version)])
        raise ValueError(f"Key '{key}' not found (the cache is unavailable).")

    def clear(self):
        reached, cleared = self._call(lambda: super(ResilientRedisCache, self).clear())
        self._local.clear()
        if reached:
            return cleared
        with self._state:
            self._dropped_all, self._dropped = True, set()
        return False
