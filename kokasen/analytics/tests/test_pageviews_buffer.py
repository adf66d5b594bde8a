"""Members' page views counted in Redis and added to the day rows by a flush (issue 19,
decision 0067), against a real redis-server (a private one on a loopback port, as the Redis
outage tests do: kokasen/testing/redis_server.py; a missing binary fails, nothing is skipped).

- N views of two local governments over two days are added once, to the rows already there;
- a flush stopped after its rename, or after its commit, is completed by the next one without
  counting anything twice; a late flush into a closed month rolls that month up again;
- Redis down: the views waiting in the worker are added to the database by the next send, and
  once the worker knows, the middleware writes each view to the database at once; both logged;
- Redis up: the middleware asks the database and Redis nothing for a page view, and a members'
  page through the whole middleware chain writes no analytics row until the flush;
- the worker's thread sends the waiting views on its own, in one round trip, and a process that
  exits sends what it holds (decision 0067 addendum).
"""

from __future__ import annotations

import io
import logging
import os
import subprocess
import sys
import time
from datetime import date, timedelta

import pytest
import redis
from django.conf import settings as django_settings
from django.core.cache import caches
from django.core.management import call_command
from django.db import connection
from django.http import HttpResponse
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kokasen.analytics import pageviews, rollup
from kokasen.analytics.middleware import ParticipationMiddleware
from kokasen.analytics.models import ActivityDay, ActivityMonth, PageViewBatch
from kokasen.localgov.models import LocalGovernment
from kokasen.testing import CODE_A, make_member
from kokasen.testing.redis_server import RedisServer
from kokasen.testing.smtp import free_port

pytestmark = pytest.mark.django_db


def _caches(location: str) -> dict:
    return {
        "default": {
            "BACKEND": "kokasen.core.resilient_cache.ResilientRedisCache",
            "LOCATION": location,
            "KEY_PREFIX": "pv-test",
            "OPTIONS": {"socket_connect_timeout": 0.3, "socket_timeout": 0.5, "retry_seconds": 5, "log_seconds": 60},
        }
    }


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory):
    with RedisServer(tmp_path_factory.mktemp("redis")) as server:
        yield server


@pytest.fixture
def redis_cache(redis_server, settings):
    settings.CACHES = _caches(redis_server.url(11))
    cache = caches["default"]
    cache.clear()
    yield cache
    pageviews._waiting.take()  # nothing of this test's left for the next one
    cache.clear()


def _client(cache):
    return cache._cache.get_client(write=True)


def _views() -> dict[tuple[date, int], int]:
    rows = ActivityDay.objects.filter(kind=ActivityDay.PAGE_VIEW).values_list("day", "local_government_id", "count")
    return {(day, lg): count for day, lg, count in rows}


def _two() -> tuple[int, int]:
    a, b = LocalGovernment.objects.order_by("code").values_list("pk", flat=True)[:2]
    return a, b


def _count(plan: dict[tuple[date, int], int], send: bool = True) -> None:
    """Count the views as the middleware does and, with ``send``, send them to Redis as the
    worker's thread does."""
    for (day, lg), n in plan.items():
        for _ in range(n):
            assert pageviews.buffer(lg, day) is True
    if send:
        pageviews.send_waiting()


def test_views_of_two_local_governments_over_two_days_are_added_once(redis_cache):
    a, b = _two()
    today = timezone.localdate()
    yesterday = today - timedelta(days=1)
    ActivityDay.objects.create(day=yesterday, local_government_id=a, kind=ActivityDay.PAGE_VIEW, count=5)
    ActivityDay.objects.create(day=yesterday, local_government_id=a, kind=ActivityDay.POST, count=2)
    plan = {(yesterday, a): 7, (yesterday, b): 3, (today, a): 4, (today, b): 11}
    _count(plan)
    assert _views() == {(yesterday, a): 5}  # nothing written yet: the views are in Redis

    done = pageviews.flush()
    assert (done.reached, done.batches, done.views, done.repeated, done.left) == (True, 1, 25, 0, 0)
    expected = {**plan, (yesterday, a): 5 + 7}  # added to the row that was there, never replaced
    assert _views() == expected
    assert ActivityDay.objects.get(kind=ActivityDay.POST).count == 2  # other kinds untouched
    redis = _client(redis_cache)
    assert redis.keys("*analytics:pageviews*") == []  # the batch and its name are gone

    assert pageviews.flush().batches == 0  # nothing new: nothing added
    _count({(today, b): 2})
    out = io.StringIO()
    call_command("analytics_flush_pageviews", stdout=out)
    assert "閲覧数 2 件（1 まとまり）を加えました" in out.getvalue()
    assert _views() == {**expected, (today, b): 13}


def test_a_flush_stopped_after_the_rename_is_completed_by_the_next_without_double_counting(redis_cache, monkeypatch):
    a, b = _two()
    today = timezone.localdate()
    _count({(today, a): 6})

    def stop(*args, **kwargs):
        raise KeyboardInterrupt("killed after the rename")

    with monkeypatch.context() as patched:
        patched.setattr(pageviews, "_apply", stop)
        with pytest.raises(KeyboardInterrupt):
            pageviews.flush()
    redis = _client(redis_cache)
    pending = redis.smembers(redis_cache.make_key(pageviews.PENDING))
    assert len(pending) == 1 and redis.hgetall(next(iter(pending))) == {f"{today}:{a}".encode(): b"6"}
    assert _views() == {}

    _count({(today, a): 1, (today, b): 2})  # counted meanwhile, in a new live hash
    done = pageviews.flush()
    assert (done.batches, done.views, done.repeated) == (2, 9, 0)  # the left batch first, then the new one
    assert _views() == {(today, a): 7, (today, b): 2}
    assert pageviews.flush().views == 0 and _views() == {(today, a): 7, (today, b): 2}


def test_a_flush_stopped_after_its_commit_is_not_added_again(redis_cache):
    """The batch is still in Redis after its counts were committed (the flush was killed before
    its DEL, or Redis came back from a snapshot taken before it): it is recognised and deleted."""
    a, _ = _two()
    today = timezone.localdate()
    _count({(today, a): 4})
    redis = _client(redis_cache)
    live, pending = redis_cache.make_key(pageviews.LIVE), redis_cache.make_key(pageviews.PENDING)
    name = redis_cache.make_key(pageviews.BATCH + "stopped")
    assert redis.eval(pageviews._RENAME, 3, live, name, pending) == 1
    assert redis.copy(name, name + ":copy")
    done = pageviews.flush()
    assert (done.batches, done.views) == (1, 4)
    assert PageViewBatch.objects.filter(key=name).exists()

    redis.rename(name + ":copy", name)  # the batch as it was before the DEL
    redis.sadd(pending, name)
    done = pageviews.flush()
    assert (done.batches, done.views, done.repeated) == (0, 0, 1)
    assert _views() == {(today, a): 4}
    assert redis.keys("*analytics:pageviews*") == []


def test_a_late_flush_into_a_closed_month_rolls_it_up_again(redis_cache):
    a, _ = _two()
    old = rollup.month_start(timezone.localdate()) - timedelta(days=40)
    month = rollup.month_start(old)
    ActivityDay.objects.create(day=old, local_government_id=a, kind=ActivityDay.PAGE_VIEW, count=3)
    assert rollup.refresh([month]) == [month]
    assert ActivityMonth.objects.get(month=month, local_government_id=a, kind=ActivityDay.PAGE_VIEW).count == 3
    _count({(old, a): 2})
    pageviews.flush()
    assert _views() == {(old, a): 5}
    assert ActivityMonth.objects.get(month=month, local_government_id=a, kind=ActivityDay.PAGE_VIEW).count == 5


def _members_request(member):
    request = RequestFactory().get("/members/")
    request.user = member
    return request


def _html(request):
    return HttpResponse("<p>会員ページ</p>", content_type="text/html; charset=utf-8")


def test_the_middleware_asks_the_database_nothing_for_a_page_view(redis_cache, monkeypatch):
    member = make_member(CODE_A)
    middleware = ParticipationMiddleware(_html)
    request = _members_request(member)
    calls = []
    with monkeypatch.context() as patched:
        patched.setattr(pageviews, "_call", lambda *args: calls.append(args))
        with CaptureQueriesContext(connection) as queries:
            for _ in range(3):
                assert middleware(request).status_code == 200
    assert [q["sql"] for q in queries] == [] and calls == []  # nor Redis: the views wait in the worker
    pageviews.flush()
    assert _views() == {(timezone.localdate(), member.local_government_id): 3}


def test_redis_down_the_views_are_written_to_the_database(settings, caplog, monkeypatch):
    monkeypatch.setitem(pageviews._fallback, "logged_at", None)  # this process's first fallback
    member = make_member(CODE_A)
    settings.CACHES = _caches(f"redis://127.0.0.1:{free_port()}/0")
    middleware = ParticipationMiddleware(_html)
    today = (timezone.localdate(), member.local_government_id)
    with caplog.at_level(logging.WARNING):
        for _ in range(2):  # the worker does not know yet: they wait in it
            assert middleware(_members_request(member)).status_code == 200
        assert _views() == {}
        assert pageviews.send_waiting() == 2  # the thread's next round: Redis refuses, the database takes them
        assert _views() == {today: 2}
        assert middleware(_members_request(member)).status_code == 200  # now it knows: at once
    assert _views() == {today: 3}
    assert pageviews._waiting.take() == {}
    warnings = [r.getMessage() for r in caplog.records if r.name == "kokasen.analytics.pageviews"]
    assert warnings and "2 view(s) counted in the database directly" in warnings[0]
    assert pageviews.flush().reached is False  # the flush says so; nothing was buffered
    with pytest.raises(Exception, match="Redis に接続できません"):
        call_command("analytics_flush_pageviews", stdout=io.StringIO())


def test_without_redis_the_view_is_written_at_once_and_there_is_nothing_to_flush():
    member = make_member(CODE_A)
    assert pageviews.buffered() is False  # the tests' default cache: local memory
    ParticipationMiddleware(_html)(_members_request(member))
    assert _views() == {(timezone.localdate(), member.local_government_id): 1}
    out = io.StringIO()
    call_command("analytics_flush_pageviews", stdout=out)
    assert "加える閲覧数はありません" in out.getvalue()


def test_a_members_page_through_the_whole_stack_writes_no_analytics_row(redis_cache, member_client):
    """The real middleware chain on a members' page, with the sessions and caches in Redis: none
    of the page's statements is the analytics'; the flush adds the view."""
    with CaptureQueriesContext(connection) as queries:
        assert member_client.get("/members/").status_code == 200
    assert [q["sql"] for q in queries if "analytics_" in q["sql"]] == []
    assert _views() == {}
    assert pageviews.flush().views == 1
    assert sum(_views().values()) == 1


def test_the_workers_thread_sends_the_waiting_views_in_one_round_trip(redis_cache, settings, monkeypatch):
    a, b = _two()
    today = timezone.localdate()
    monkeypatch.setattr(pageviews, "_waiting", pageviews._Waiting())  # a process of its own
    _count({(today, a): 4, (today, b): 2}, send=False)  # no thread: the tests' settings start none
    redis = _client(redis_cache)
    live = redis_cache.make_key(pageviews.LIVE)
    assert redis.exists(live) == 0
    pipelines = []
    real_pipeline = type(redis).pipeline

    def pipeline(client, *args, **kwargs):
        made = real_pipeline(client, *args, **kwargs)
        pipelines.append(made)
        return made

    monkeypatch.setattr(type(redis), "pipeline", pipeline)
    settings.ANALYTICS_PAGEVIEW_SEND_SECONDS = 0.05
    _count({(today, a): 1}, send=False)  # starts the thread
    deadline = time.monotonic() + 20
    while redis.hgetall(live) != {f"{today}:{a}".encode(): b"5", f"{today}:{b}".encode(): b"2"}:
        assert time.monotonic() < deadline, redis.hgetall(live)
        time.sleep(0.05)
    assert len(pipelines) == 1  # one round trip for the three fields' seven views
    assert pageviews._waiting.thread.name == "kokasen-pageviews" and pageviews._waiting.thread.daemon


def test_a_process_that_exits_sends_the_views_it_holds(redis_server, tmp_path):
    """A real process (gunicorn's worker stops the same way: sys.exit, then atexit): it counts
    views with no thread and exits; they are in Redis."""
    url = redis_server.url(12)
    script = (
        "import datetime, django; django.setup()\n"
        "from kokasen.analytics import pageviews\n"
        "assert pageviews.buffered()\n"
        "for _ in range(3): assert pageviews.buffer(7, datetime.date(2026, 12, 7))\n"
        "assert pageviews._waiting.thread is None\n"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "kokasen.settings.test",
        "REDIS_URL": url,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'unused.sqlite3'}",
    }
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, cwd=django_settings.BASE_DIR, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-2000:]
    client = redis.Redis.from_url(url)
    try:
        fields = {key: client.hgetall(key) for key in client.keys("*analytics:pageviews")}
        assert list(fields.values()) == [{b"2026-12-07:7": b"3"}], fields
    finally:
        client.flushdb()
        client.close()
