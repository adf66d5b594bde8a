"""A generation: a token in the shared cache that names the current version of some rows, and
is replaced whenever they may have changed (issue 19).

Anything derived from those rows is cached under a key that contains the token, so a change
makes every worker read afresh on its next request, and old entries just expire. The token is
replaced at once and again when the transaction commits: a request that read the old rows in
between cannot keep them under the new token. Entries cached under it should also expire
(a change that sends no signal, a script's queryset update, then shows within that time).

Reading the token is served from the request's prefetched keys (``core.request_cache``) when
its app registered it. When the shared cache is down the token is empty: cache nothing then.
"""

from __future__ import annotations

import secrets

from django.core.cache import cache
from django.db import transaction

from . import request_cache


class Generation:
    def __init__(self, key: str):
        self.key = key

    def current(self) -> str:
        """The current token ("" when the shared cache is down)."""
        value = request_cache.get(self.key)
        if value is None:  # first use, or the cache was flushed: a new token, never an old one
            cache.add(self.key, secrets.token_hex(6), None)
            request_cache.forget(self.key)
            value = cache.get(self.key)
        return value or ""

    def replace(self) -> None:
        cache.set(self.key, secrets.token_hex(6), None)
        request_cache.forget(self.key)

    def changed(self, *args, **kwargs) -> None:
        """Replace the token now and once more when the transaction commits (usable as a signal
        receiver)."""
        self.replace()
        transaction.on_commit(self.replace)
