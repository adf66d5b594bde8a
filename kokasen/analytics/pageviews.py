"""Members' page views counted in Redis, added to ``ActivityDay`` by a flush (issue 19,
decision 0067).

A members' page view used to be three statements on the request path (BEGIN, the upsert,
COMMIT): a WAL commit per page. When the shared cache is Redis (production) it is counted in
the worker's memory instead (``buffer``: no round trip on the request path) and a thread of the
worker sends the counts every second (``ANALYTICS_PAGEVIEW_SEND_SECONDS``), one ``HINCRBY`` per
day and local government in one pipeline, on one hash (``LIVE``), field ``"<local day>:<local
government id>"``; a worker that exits sends what it holds (``atexit``: a reload, a shutdown,
gunicorn's timeout). When the cache is not Redis (dev and tests: local memory) or the worker
knows Redis is away, the middleware writes the view to the database as before
(``participation.record_page_view``); views the thread could not send are added to the database
by the thread; both say so in the log. Nothing is lost but what a worker killed outright
(SIGKILL, the kernel's OOM killer) held: at most its last second of views.

``flush`` moves the buffered counts into ``ActivityDay``, exactly once:

1. A Lua script, atomic in Redis, renames ``LIVE`` to a new unique batch key and adds that name
   to the set ``PENDING`` (nothing happens when ``LIVE`` does not exist). Views counted after
   the rename start a new ``LIVE``.
2. For every batch named in ``PENDING`` (a batch left by an earlier flush that stopped part way
   comes first, in the same loop): read it, and in one database transaction insert its
   ``PageViewBatch`` row (the batch's name, unique) and, only if that row is new, add its counts
   to the day rows (``count = count + n``, never replace) and roll a closed month it touches up
   again (``rollup.refresh``; today's and yesterday's months are never closed).
3. Delete the batch and its name in ``PENDING`` in one ``MULTI``.

A stop after 1 leaves the batch in ``PENDING`` for the next flush; a stop after 2 (committed)
leaves it too, and the next flush finds its ``PageViewBatch`` row and only deletes it; two
flushes at once both insert the same unique row and the second, waiting for the first's commit,
adds nothing. So a batch is added once. ``PageViewBatch`` rows are kept ``KEEP_BATCHES`` (a
Redis restored from a snapshot taken before a batch was deleted brings the batch back: it is
still recognised). What remains (decision 0067): a Redis that loses its memory loses the views
not yet flushed (at most a minute's, those since its last snapshot), a Redis restored from a
snapshot brings back the ``LIVE`` of that moment, whose views may have been flushed already, and
a ``HINCRBY`` that timed out after Redis had counted it is counted again in the database.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.db import connection, connections, transaction
from django.utils import timezone
from redis.exceptions import RedisError

from kokasen.core.resilient_cache import ResilientRedisCache
from kokasen.localgov.models import LocalGovernment

from . import rollup
from .models import ActivityDay, PageViewBatch

log = logging.getLogger(__name__)

LIVE = "analytics:pageviews"
PENDING = "analytics:pageviews:pending"
BATCH = "analytics:pageviews:batch:"
KEEP_BATCHES = timedelta(days=30)
LOG_SECONDS = 60.0
CHUNK = 500

# KEYS[1] LIVE, KEYS[2] the new batch, KEYS[3] PENDING: the rename and the name at once.
_RENAME = """
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('RENAME', KEYS[1], KEYS[2])
  redis.call('SADD', KEYS[3], KEYS[2])
  return 1
end
return 0
"""


# --- Redis ---------------------------------------------------------------------------------------


def _backend() -> RedisCache | None:
    backend = caches["default"]
    return backend if isinstance(backend, RedisCache) else None


def _call(backend: RedisCache, operation) -> tuple[bool, object]:
    """(True, operation(client)) or (False, None) when Redis is away."""
    if isinstance(backend, ResilientRedisCache):
        return backend.redis_call(operation)
    try:
        return True, operation(backend._cache.get_client(write=True))
    except RedisError:
        log.debug("page views: Redis did not answer", exc_info=True)  # the caller logs, once a minute
        return False, None


def _key(backend: RedisCache, name: str) -> str:
    return backend.make_key(name)


def buffered() -> bool:
    """Whether page views go to Redis (the shared cache is Redis)."""
    return _backend() is not None


# --- counting --------------------------------------------------------------------------------------

_fallback_lock = threading.Lock()
_fallback = {"count": 0, "logged_at": None}


def _log_fallback(views: int = 1) -> None:
    """One WARNING at the first view written to the database instead, then at most one per
    ``LOG_SECONDS`` per process with the number since."""
    now = time.monotonic()
    with _fallback_lock:
        _fallback["count"] += views
        logged_at = _fallback["logged_at"]
        if logged_at is not None and now - logged_at < LOG_SECONDS:
            return
        count, _fallback["count"], _fallback["logged_at"] = _fallback["count"], 0, now
    log.warning("page views: Redis unavailable, %d view(s) counted in the database directly instead", count)


class _Waiting:
    """This process's views not yet sent to Redis (field → views), sent by a thread of its own
    every ``settings.ANALYTICS_PAGEVIEW_SEND_SECONDS`` (none when it is None: the tests send
    them by ``send_waiting``), by ``flush`` and when the process exits (``atexit``)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.counts: dict[str, int] = {}
        self.thread: threading.Thread | None = None
        self.pid: int | None = None

    def add(self, field: str, views: int = 1) -> None:
        with self.lock:
            self.counts[field] = self.counts.get(field, 0) + views
            self._sender()

    def take(self) -> dict[str, int]:
        with self.lock:
            counts, self.counts = self.counts, {}
        return counts

    def _sender(self) -> None:
        """Start the sending thread, once per process (a forked worker starts its own)."""
        if self.thread is not None and self.pid == os.getpid() and self.thread.is_alive():
            return
        seconds = getattr(settings, "ANALYTICS_PAGEVIEW_SEND_SECONDS", None)
        if not seconds:
            return
        self.pid = os.getpid()
        self.thread = threading.Thread(target=_send_every, args=(seconds,), name="kokasen-pageviews", daemon=True)
        self.thread.start()


_waiting = _Waiting()


def buffer(local_government_id: int, day: date) -> bool:
    """Count one members' page view: kept in this process and sent to Redis within a second
    (``send_waiting``). False: not counted there (the cache is not Redis, or this worker found
    Redis away and has not reached it since); the caller writes it to the database."""
    backend = _backend()
    if backend is None or (isinstance(backend, ResilientRedisCache) and backend.is_down):
        if backend is not None:
            _log_fallback()
        return False
    _waiting.add(f"{day.isoformat()}:{local_government_id}")
    return True


def send_waiting() -> int:
    """Send this process's waiting views to Redis, one ``HINCRBY`` per day and local government
    in one pipeline. If Redis does not answer, they are added to the database instead (logged);
    if that fails too, they wait for the next send. Returns the views sent or written."""
    counts = _waiting.take()
    if not counts:
        return 0
    views = sum(counts.values())
    backend = _backend()
    if backend is not None:

        def send(client):
            pipeline = client.pipeline(transaction=False)
            live = _key(backend, LIVE)
            for field, n in counts.items():
                pipeline.hincrby(live, field, n)
            return pipeline.execute()

        reached, _ = _call(backend, send)
        if reached:
            return views
    try:
        with transaction.atomic():
            _add(_parse({field.encode(): n for field, n in counts.items()}))
    except Exception:  # noqa: BLE001 - kept for the next send, never lost here
        log.exception("page views: neither Redis nor the database took %d view(s); they wait in this process", views)
        for field, n in counts.items():
            _waiting.add(field, n)
        return 0
    _log_fallback(views)
    return views


def _send_every(seconds: float) -> None:
    """The sending thread: ``send_waiting`` every ``seconds``; its own database connection, used
    only when Redis is away, is closed after each round."""
    while True:
        time.sleep(seconds)
        try:
            send_waiting()
        except Exception:  # noqa: BLE001 - the thread must go on
            log.exception("page views: sending failed")
        finally:
            connections.close_all()


atexit.register(send_waiting)  # a worker that stops (reload, shutdown, timeout) sends what it holds


# --- the flush -----------------------------------------------------------------------------------


@dataclass
class Flushed:
    reached: bool = True  # False: Redis did not answer (nothing moved; the batches wait)
    batches: int = 0  # batches added to the database
    views: int = 0  # page views in them
    repeated: int = 0  # batches found already added (a flush stopped after its commit)
    left: int = 0  # batches left in Redis for the next flush


def _parse(raw: dict) -> dict[tuple[date, int], int]:
    counts: dict[tuple[date, int], int] = {}
    for field, value in raw.items():
        try:
            day, lg = field.decode().split(":")
            key = (date.fromisoformat(day), int(lg))
            counts[key] = counts.get(key, 0) + int(value)
        except ValueError:
            log.error("page views: a field that is not <day>:<local government id> was ignored: %r", field)
    return counts


def _add(counts: dict[tuple[date, int], int]) -> int:
    """Add ``counts`` to the page-view day rows (inside the caller's transaction). Returns the
    views added (a local government that no longer exists is logged and left out)."""
    known = set(LocalGovernment.objects.filter(pk__in={lg for _, lg in counts}).values_list("pk", flat=True).order_by())
    unknown = {key: n for key, n in counts.items() if key[1] not in known}
    if unknown:
        log.error("page views of unknown local governments left out: %r", unknown)
    rows = [(day, lg, ActivityDay.PAGE_VIEW, n) for (day, lg), n in sorted(counts.items()) if lg in known and n > 0]
    quote = connection.ops.quote_name
    table = quote(ActivityDay._meta.db_table)
    count = quote("count")
    with connection.cursor() as cursor:
        for start in range(0, len(rows), CHUNK):
            chunk = rows[start : start + CHUNK]
            cursor.execute(
                f"INSERT INTO {table} (day, local_government_id, kind, {count}) VALUES "
                + ", ".join(["(%s, %s, %s, %s)"] * len(chunk))
                + f" ON CONFLICT (day, local_government_id, kind) DO UPDATE SET {count} = {table}.{count} + EXCLUDED.{count}",
                [value for row in chunk for value in row],
            )
    rollup.refresh({rollup.month_start(day) for day, _, _, _ in rows})
    return sum(row[3] for row in rows)


def _apply(backend: RedisCache, name: bytes, pending: str, done: Flushed) -> None:
    reached, raw = _call(backend, lambda client: client.hgetall(name))
    if not reached:
        done.left += 1
        return
    counts = _parse(raw or {})
    if counts:
        with transaction.atomic():
            _, created = PageViewBatch.objects.get_or_create(key=name.decode())
            if created:
                done.batches += 1
                done.views += _add(counts)
                PageViewBatch.objects.filter(applied_at__lt=timezone.now() - KEEP_BATCHES).delete()
            else:
                done.repeated += 1
    reached, _ = _call(backend, lambda client: client.pipeline().delete(name).srem(pending, name).execute())
    if not reached:
        done.left += 1


def flush() -> Flushed:
    """Move the buffered page views into ``ActivityDay`` (see the module's text). Database
    errors propagate, leaving the batch in Redis for the next flush."""
    done = Flushed()
    backend = _backend()
    if backend is None:
        return done
    send_waiting()  # this process's own views first
    live, pending = _key(backend, LIVE), _key(backend, PENDING)
    batch = _key(backend, f"{BATCH}{timezone.now():%Y%m%dT%H%M%S}-{uuid.uuid4().hex}")
    reached, _ = _call(backend, lambda client: client.eval(_RENAME, 3, live, batch, pending))
    if reached:
        reached, names = _call(backend, lambda client: client.smembers(pending))
    if not reached:
        done.reached = False
        return done
    for name in sorted(names):
        _apply(backend, name, pending, done)
    return done


def flush_before_reading() -> None:
    """Flush before figures are read (the dashboard, its downloads, the report), so they are
    current; a failure is logged and the figures are read as they are."""
    if _backend() is None:
        return
    try:
        flush()
    except Exception:  # noqa: BLE001 - the figures are still shown; the next flush retries
        log.exception("page views: the flush before reading failed")
