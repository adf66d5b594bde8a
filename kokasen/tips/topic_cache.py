"""The topics as the members' pages read them, cached under a generation (issue 19).

The topic page read its topic row and the members' home the open topics on every request
(a query each, a fifth of the page's CPU). Here they are read once per *generation* of the
topics (``core.generations``), replaced when a topic is saved or deleted and whenever a post of
any topic is written (``services._touch``, which also bumps ``Topic.posts_version``: the topic
page's cached lists are keyed by it), and kept in the two-level cache for ``SECONDS``.

Whether a topic is open depends on the clock, not only on its row: the cached list holds every
topic not closed by hand and not past its end when it was read (in the board's order), and each
request keeps those open at its own ``now``. A GET only: a form that writes reads the row itself.
"""

from __future__ import annotations

from django.db.models import Q
from django.utils import timezone

from kokasen.core import caching
from kokasen.core.generations import Generation

from .models import Topic

KEY = "tips:topics-generation"
SECONDS = 60
GENERATION = Generation(KEY)
_MISSING = "missing"  # cached for an id without a topic (the caches cannot hold None)


def topic(pk: int) -> Topic | None:
    """The topic with this id, or None. Callers must not change the object (it is shared)."""
    generation = GENERATION.current()
    if not generation:  # the shared cache is down
        return Topic.objects.filter(pk=pk).first()
    found = caching.versioned(
        f"tips:topic:{generation}:{pk}", lambda: Topic.objects.filter(pk=pk).first() or _MISSING, SECONDS
    )
    return None if found == _MISSING else found


def _not_ended(now) -> list[Topic]:
    return list(
        Topic.objects.filter(Q(closed_at__isnull=True) & (Q(closes_at__isnull=True) | Q(closes_at__gt=now))).order_by(
            "closes_at", "-opens_at", "-pk"
        )
    )


def open_topics(now=None) -> list[Topic]:
    """The topics taking posts at ``now`` in the order of ``selectors.topic_list_open``."""
    now = now or timezone.now()
    generation = GENERATION.current()
    if generation:
        candidates = caching.versioned(f"tips:not-ended:{generation}", lambda: _not_ended(timezone.now()), SECONDS)
    else:
        candidates = _not_ended(now)
    return [t for t in candidates if t.opens_at <= now and (t.closes_at is None or t.closes_at > now)]


def prefetch_keys(request) -> list[str]:
    """The members' home and the topic pages read the generation (``core.request_cache``)."""
    return [KEY] if request.path.startswith("/members/") else []
