"""A fixed-window counter in the shared cache (Redis in production, so every gunicorn
worker sees the same counts): "at most ``limit`` events per ``window`` seconds per key".

Used for the login defences (kokasen/accounts/lockout.py), password-reset requests, posts and opinions.
"""

from dataclasses import dataclass

from django.core.cache import cache


@dataclass(frozen=True)
class Limit:
    scope: str  # e.g. "login-ip"; part of the cache key
    limit: int
    window: int  # seconds

    def _key(self, identity: str) -> str:
        return f"throttle:{self.scope}:{identity}"

    def count(self, identity: str) -> int:
        return max(0, int(cache.get(self._key(identity), 0)))

    def exceeded(self, identity: str) -> bool:
        """True once ``limit`` events were recorded in the current window."""
        return self.count(identity) >= self.limit

    def record(self, identity: str) -> int:
        """Count one event; returns the count in the current window."""
        key = self._key(identity)
        if cache.add(key, 1, timeout=self.window):
            return 1
        try:
            return cache.incr(key)
        except ValueError:  # expired between add() and incr()
            cache.add(key, 1, timeout=self.window)
            return 1

    def forgive(self, identity: str, amount: int) -> None:
        """Take ``amount`` events back (a success that clears earlier failures). The count
        never goes below zero as read; a window that has ended stays ended."""
        key = self._key(identity)
        try:
            left = cache.decr(key, amount)
        except ValueError:  # the window ended: nothing to forgive
            return
        if left <= 0:  # nothing outstanding: the next event starts a new window
            cache.delete(key)

    def clear(self, identity: str) -> None:
        cache.delete(self._key(identity))
