"""The Redis cache when Redis is down or hangs (kokasen/core/resilient_cache.py, decision 0028):
pages and login keep working, waits are bounded, errors are logged once per interval, the login
defences keep counting in each worker, and nothing stale is served when Redis comes back.

Three Redis failures: a dead port (connection refused at once), a server that accepts
connections and never answers (every call would wait for its timeout), and a real redis-server
(started here) that is frozen with SIGSTOP part way and thawed again."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import time

import pytest
from django.core.cache import cache

from kokasen.core.resilient_cache import ResilientRedisCache
from kokasen.testing import make_member
from kokasen.testing.redis_server import RedisServer
from kokasen.testing.smtp import free_port

PASSWORD = "correct-horse-battery-staple-42"
NGINX = "127.0.0.1"


@pytest.fixture
def redis_server(tmp_path):
    """A private redis-server on a free loopback port (Debian's redis-server package)."""
    with RedisServer(tmp_path) as server:
        yield server.process, server.port


def resilient(location, **options) -> dict:
    return {
        "default": {
            "BACKEND": "kokasen.core.resilient_cache.ResilientRedisCache",
            "LOCATION": location,
            "OPTIONS": {
                "socket_connect_timeout": 0.3,
                "socket_timeout": 0.3,
                "retry_seconds": 5,
                "log_seconds": 60,
                "local_prefixes": ["throttle:", "login:"],
                **options,
            },
        }
    }


def backend(location, **options) -> ResilientRedisCache:
    params = resilient(location, **options)["default"]
    return ResilientRedisCache(params["LOCATION"], {"OPTIONS": params["OPTIONS"], "KEY_PREFIX": "t"})


def login(client, username, password, address="198.51.100.1"):
    return client.post(
        "/login/", {"username": username, "password": password}, REMOTE_ADDR=NGINX, HTTP_X_FORWARDED_FOR=address
    )


def cache_warnings(caplog):
    return [r.getMessage() for r in caplog.records if r.name == "kokasen.cache" and r.levelno == logging.WARNING]


# --- The backend ---------------------------------------------------------------------------------


def test_reads_miss_writes_are_dropped_counters_count_locally(caplog):
    down = backend(f"redis://127.0.0.1:{free_port()}/0")
    assert down.get("fragment", "default") == "default"
    down.set("fragment", "<header>", 60)
    assert down.get("fragment") is None and down.get_many(["fragment"]) == {} and not down.has_key("fragment")
    assert down.add("fragment", "x") is False and down.delete("fragment") is False
    assert down.set_many({"a": 1, "throttle:x": 1}) == ["a"]
    with pytest.raises(ValueError):
        down.incr("fragment")
    # The rate counters of the login defences and other limits keep counting in this process.
    assert down.add("throttle:login-pair:k", 1, 60) is True and down.incr("throttle:login-pair:k") == 2
    assert down.get("throttle:login-pair:k") == 2 and down.get_many(["throttle:login-pair:k", "a"]) == {
        "throttle:login-pair:k": 2
    }
    assert down.decr("throttle:login-pair:k") == 1 and down.delete("throttle:login-pair:k") is True
    assert down.is_down
    # One warning for all of these calls (one real attempt, then the pause).
    [message] = cache_warnings(caplog)
    assert message.startswith("Redis cache unavailable (ConnectionError: ") and "retrying every 5 s" in message


def test_logged_at_most_once_per_interval(caplog):
    down = backend(f"redis://127.0.0.1:{free_port()}/0", retry_seconds=0, log_seconds=0.3)
    started = time.monotonic()
    calls = 0
    while time.monotonic() - started < 0.7:
        down.get("k")
        calls += 1
    assert calls > 50
    messages = cache_warnings(caplog)
    assert 2 <= len(messages) <= 4, messages  # the first at once, then one per 0.3 s
    assert (
        messages[1].startswith("Redis cache still unavailable") and "failed calls since the last message" in messages[1]
    )


def test_a_hanging_redis_costs_one_timeout_per_pause(hanging_port):
    hanging = backend(f"redis://127.0.0.1:{hanging_port}/0", retry_seconds=5)
    started = time.monotonic()
    assert hanging.get("k") is None
    first = time.monotonic() - started
    assert 0.25 <= first < 1.5, first  # socket_timeout 0.3
    started = time.monotonic()
    for _ in range(100):
        assert hanging.get("k") is None
        hanging.set("k", 1)
    assert time.monotonic() - started < 0.1  # not asked again during the pause


def test_other_errors_still_raise():
    down = backend(f"redis://127.0.0.1:{free_port()}/0")
    with pytest.raises(Exception, match="pickle"):  # noqa: B017 - the caller's error, not an outage
        down.set("k", lambda: 1)


# --- The site with Redis down ---------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("redis", ["dead port", "hanging"])
def test_pages_and_login_work_and_readyz_names_cache(
    client, settings, demo_site, hanging_port, redis, caplog, tmp_path
):
    port = free_port() if redis == "dead port" else hanging_port
    settings.CACHES = resilient(f"redis://127.0.0.1:{port}/0")
    settings.MEDIA_ROOT = tmp_path
    member = make_member("011002", password=PASSWORD)
    started = time.monotonic()
    assert client.get("/").status_code == 200
    assert client.get("/members/").status_code == 302  # anonymous: to the login page
    response = login(client, member.username, PASSWORD)
    assert response.status_code == 302 and response["Location"] == "/members/"
    assert client.get("/members/").status_code == 200  # the session, from the database
    assert client.post("/logout/").status_code == 200  # 「ログアウトしました」
    assert client.get("/members/").status_code == 302
    elapsed = time.monotonic() - started
    assert elapsed < 10, elapsed  # one Redis timeout at most, then the pause
    response = client.get("/readyz", REMOTE_ADDR="127.0.0.1")
    assert response.status_code == 503 and response.json()["failed"] == ["cache"]
    assert len(cache_warnings(caplog)) == 1


@pytest.mark.django_db
def test_the_login_defences_keep_counting_while_redis_is_down(client, settings, demo_site):
    """Fail closed, per worker: the pair limit (5 failures of one user ID from one place) still
    refuses the sixth attempt, and the right password from another place still logs in."""
    settings.CACHES = resilient(f"redis://127.0.0.1:{free_port()}/0")
    member = make_member("011002", password=PASSWORD)
    for _ in range(settings.LOGIN_PAIR_FAILURE_LIMIT):
        assert login(client, member.username, "wrong-password").status_code == 200
    assert login(client, member.username, PASSWORD).status_code == 429  # refused before the password
    other = client_class_for(client)()
    assert login(other, member.username, PASSWORD, address="198.51.100.2").status_code == 302


def client_class_for(client):
    return type(client)


# --- Back again: nothing stale ------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_session_ended_while_redis_hung_is_not_served_again_from_redis(
    client, settings, demo_site, redis_server, caplog
):
    import redis as redis_lib

    process, port = redis_server
    settings.CACHES = resilient(f"redis://127.0.0.1:{port}/0", retry_seconds=0.2)
    member = make_member("011002", password=PASSWORD)
    assert login(client, member.username, PASSWORD).status_code == 302
    session_key = client.cookies["sessionid"].value

    def stolen():
        """The same session cookie in another browser, sent every time (the server may tell a
        browser to drop it; a copied cookie is not dropped)."""
        other = client_class_for(client)()
        other.cookies["sessionid"] = session_key
        return other.get("/members/").status_code

    assert stolen() == 200
    raw = redis_lib.Redis(port=port)
    cache_key = cache.make_key(f"django.contrib.sessions.cached_db{session_key}")
    assert raw.exists(cache_key)

    os.kill(process.pid, signal.SIGSTOP)  # Redis hangs
    try:
        assert client.post("/logout/").status_code == 200  # the database row goes; Redis' copy stays
        assert stolen() == 302  # from the database: logged out
    finally:
        os.kill(process.pid, signal.SIGCONT)
    assert raw.exists(cache_key)  # the stale copy, as Redis still has it
    time.sleep(0.3)  # the pause after the failure
    assert stolen() == 302  # the first call after the outage deleted it first
    assert not raw.exists(cache_key)
    messages = cache_warnings(caplog)
    assert messages[0].startswith("Redis cache unavailable (TimeoutError")
    assert messages[-1].startswith("Redis cache back after ") and "key(s) written or deleted" in messages[-1]
    assert login(client, member.username, PASSWORD).status_code == 302  # and Redis is used again
    assert raw.exists(cache.make_key(f"django.contrib.sessions.cached_db{client.cookies['sessionid'].value}"))


def test_production_uses_it_with_bounded_waits():
    """With REDIS_URL (required in production) the cache is this backend, with the documented
    timeouts, pause and log interval."""
    import json
    import sys

    from django.conf import settings as django_settings

    code = (
        "import django, json; django.setup(); from django.conf import settings; "
        "print(json.dumps(settings.CACHES['default']))"
    )
    env = {**os.environ, "REDIS_URL": "redis://127.0.0.1:6379/0", "DJANGO_SETTINGS_MODULE": "kokasen.settings.test"}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120, cwd=django_settings.BASE_DIR
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {
        "BACKEND": "kokasen.core.resilient_cache.ResilientRedisCache",
        "LOCATION": "redis://127.0.0.1:6379/0",
        "OPTIONS": {
            "socket_connect_timeout": 0.3,
            "socket_timeout": 0.5,
            "retry_seconds": 5,
            "log_seconds": 60,
            "local_prefixes": ["throttle:", "login:"],
        },
    }
