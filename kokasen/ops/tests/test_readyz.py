"""/healthz and /readyz (kokasen/ops): who may ask, the JSON, each check going red, and the
answer within a second when the database, Redis or clamd hang or are gone."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from kokasen.ops import health, readiness
from kokasen.testing.smtp import free_port

CHECKS = ["database", "migrations", "cache", "disk", "outbox", "antivirus"]
NGINX = "127.0.0.1"


@pytest.fixture(autouse=True)
def checks_finished():
    """Wait for checks still hanging in the background, so that no test sees another's."""
    yield
    for lock in list(health._running.values()):
        assert lock.acquire(timeout=10), "a readiness check never ended"
        lock.release()


@pytest.fixture
def scanner(settings, clamd_server, tmp_path):
    """A ready server: clamd with current signatures, an existing MEDIA_ROOT."""
    settings.MEDIA_ROOT = tmp_path
    settings.CLAMD_ADDRESS, settings.VIRUS_SCAN_REQUIRED = clamd_server.socket_path, True
    settings.CLAMD_SIGNATURES_MAX_AGE_HOURS = 24
    return clamd_server


def ask(client, path, *, address=None, peer="127.0.0.1"):
    extra = {"REMOTE_ADDR": peer}
    if address:
        extra["HTTP_X_FORWARDED_FOR"] = address
    started = time.monotonic()
    response = client.get(path, **extra)
    response.seconds = time.monotonic() - started
    return response


# --- Who may ask -----------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_only_loopback_and_the_monitor_networks(client, settings, scanner, path):
    settings.HEALTH_ALLOWED_NETWORKS = ["192.0.2.0/28", "2001:db8:1::/48"]
    allowed = [
        {"peer": "127.0.0.1"},  # a monitor on this machine, straight to gunicorn
        {"peer": "::1"},
        {"peer": NGINX, "address": "127.0.0.1"},  # through nginx from loopback
        {"peer": NGINX, "address": "192.0.2.5"},  # through nginx from the monitor's network
        {"peer": NGINX, "address": "2001:db8:1::7"},
    ]
    refused = [
        {"peer": NGINX, "address": "192.0.2.16"},  # just outside the monitor's network
        {"peer": NGINX, "address": "203.0.113.9"},
        {"peer": "203.0.113.9"},  # straight to the app from elsewhere
        {"peer": "203.0.113.9", "address": "127.0.0.1"},  # a forged header from an untrusted peer
    ]
    for who in allowed:
        response = ask(client, path, **who)
        assert response.status_code == 200, (who, response.content)
        assert response["Content-Type"] == "application/json" and response["Cache-Control"] == "no-store"
    for who in refused:
        response = ask(client, path, **who)
        assert response.status_code == 404, who
        assert "application/json" not in response["Content-Type"]  # the portal's ordinary 404 page


@pytest.mark.django_db
def test_healthz_asks_nothing_but_the_process(client, django_assert_num_queries, settings):
    settings.CACHES = {
        "default": {"BACKEND": "kokasen.core.redis_cache.RedisCache", "LOCATION": f"redis://127.0.0.1:{free_port()}/0"}
    }
    with django_assert_num_queries(0):
        response = ask(client, "/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}
    assert client.post("/healthz", REMOTE_ADDR="127.0.0.1").status_code == 405


def test_monitors_may_ask_gunicorn_over_plain_http():
    """SECURE_SSL_REDIRECT is on in production; the two paths are exempt for a local monitor."""
    from kokasen.settings import base

    assert base.SECURE_SSL_REDIRECT is True
    assert base.SECURE_REDIRECT_EXEMPT == [r"^healthz$", r"^readyz$"]


# --- Ready ----------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_ready_json(client, scanner):
    response = ask(client, "/readyz")
    body = response.json()
    assert response.status_code == 200, body
    assert body["status"] == "ok" and body["failed"] == []
    assert list(body["checks"]) == CHECKS
    for name, check in body["checks"].items():
        assert check["ok"] is True and isinstance(check["detail"], str) and check["ms"] >= 0, name
    antivirus = body["checks"]["antivirus"]
    assert antivirus["signature_version"] == 1 and 0 <= antivirus["signature_age_hours"] < 1
    assert antivirus["address"] == scanner.socket_path and antivirus["max_age_hours"] == 24
    assert body["checks"]["outbox"]["oldest_unsent_minutes"] == 0
    assert body["checks"]["cache"]["backend"] == "locmem"  # the test settings' cache
    assert body["checks"]["migrations"]["migrations"] > 100
    assert body["checks"]["disk"]["filesystems"][0]["free_mb"] > 0
    assert set(body) == {"status", "failed", "checks", "time", "ms"}
    assert response.seconds < 1


# --- Each check red ---------------------------------------------------------------------------------------


def failed(response):
    body = response.json()
    assert response.status_code == 503 and body["status"] == "fail", body
    assert response.seconds < 1, response.seconds
    return body["failed"], body["checks"]


@pytest.mark.django_db
def test_clamd_down_is_red(client, settings, tmp_path, scanner):
    settings.CLAMD_ADDRESS = str(tmp_path / "stopped.sock")
    names, checks = failed(ask(client, "/readyz"))
    assert names == ["antivirus"]
    assert checks["antivirus"]["detail"].startswith("virus scanner unavailable: clamd at ")


@pytest.mark.django_db
def test_clamd_hanging_is_red_within_a_second(client, settings, scanner, hanging_port):
    settings.CLAMD_ADDRESS = f"tcp://127.0.0.1:{hanging_port}"
    names, checks = failed(ask(client, "/readyz"))
    assert names == ["antivirus"] and "in time" in checks["antivirus"]["detail"]


@pytest.mark.django_db
def test_old_signatures_are_red(client, settings, scanner):
    """The test database was built a moment ago: any limit below its age makes it too old."""
    settings.CLAMD_SIGNATURES_MAX_AGE_HOURS = 0
    names, checks = failed(ask(client, "/readyz"))
    assert names == ["antivirus"]
    assert "freshclam is not updating them" in checks["antivirus"]["detail"]
    assert checks["antivirus"]["signature_version"] == 1


@pytest.mark.django_db
def test_without_a_scanner_production_is_red(client, settings, scanner):
    settings.CLAMD_ADDRESS = ""
    names, checks = failed(ask(client, "/readyz"))
    assert names == ["antivirus"] and "CLAMD_ADDRESS is empty" in checks["antivirus"]["detail"]
    settings.VIRUS_SCAN_REQUIRED = False  # development and tests
    assert ask(client, "/readyz").status_code == 200


@pytest.mark.django_db
def test_low_disk_space_is_red(client, settings, scanner):
    settings.HEALTH_DISK_MIN_FREE_MB = 1024 * 1024 * 1024  # a petabyte
    names, checks = failed(ask(client, "/readyz"))
    assert names == ["disk"] and checks["disk"]["detail"].startswith("low disk space: ")


@pytest.mark.django_db
def test_an_unapplied_migration_is_red(client, scanner, monkeypatch):
    expected, replaces = readiness._migrations_of_the_code()
    monkeypatch.setattr(
        readiness, "_migrations_of_the_code", lambda: (expected | {("notifications", "9999_not_yet")}, replaces)
    )
    names, checks = failed(ask(client, "/readyz"))
    assert names == ["migrations"]
    assert checks["migrations"]["unapplied"] == ["notifications.9999_not_yet"]


def test_an_old_unsent_email_is_red(client, settings, scanner, django_db_blocker):
    """The row is committed (the checks read on connections of their own), and removed after."""
    from kokasen.notifications.models import OutboxMessage

    settings.HEALTH_OUTBOX_MAX_AGE_MINUTES = 30
    with django_db_blocker.unblock():
        message = OutboxMessage.objects.create(
            kind="test", subject="件名", body="本文", to=["a@example.jp"], message_id="<readyz-test@kokasen>"
        )
        try:
            assert ask(client, "/readyz").status_code == 200  # just queued
            OutboxMessage.objects.filter(pk=message.pk).update(created_at=timezone.now() - timedelta(minutes=31))
            names, checks = failed(ask(client, "/readyz"))
            assert names == ["outbox"] and 30 < checks["outbox"]["oldest_unsent_minutes"] < 32
            assert checks["outbox"]["max_age_minutes"] == 30
            OutboxMessage.objects.filter(pk=message.pk).update(status=OutboxMessage.Status.SENT)
            assert ask(client, "/readyz").status_code == 200  # sent: nothing waits
        finally:
            OutboxMessage.objects.filter(pk=message.pk).delete()


# --- Hanging or missing database and Redis: answered within a second ----------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("redis", ["dead port", "hanging"])
def test_redis_down_is_red_naming_cache(client, settings, scanner, hanging_port, redis):
    port = free_port() if redis == "dead port" else hanging_port
    settings.CACHES = {
        "default": {
            "BACKEND": "kokasen.core.redis_cache.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{port}/0",
            "OPTIONS": {"socket_connect_timeout": 0.3, "socket_timeout": 0.5},
        }
    }
    names, checks = failed(ask(client, "/readyz"))
    assert names == ["cache"]
    assert checks["cache"]["detail"].startswith("Redis did not answer within" if redis == "hanging" else "Redis: ")


@pytest.mark.django_db
def test_a_hanging_database_is_red_within_a_second_and_threads_do_not_pile_up(
    client, scanner, monkeypatch, hanging_port
):
    """PostgreSQL that accepts the connection and never answers: database, migrations and outbox
    go red at their timeouts; a second request while they still hang does not start them again."""
    monkeypatch.setattr(
        readiness,
        "_database_settings",
        lambda: {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": "kokasen",
            "USER": "kokasen",
            "PASSWORD": "",
            "HOST": "127.0.0.1",
            "PORT": str(hanging_port),
            "OPTIONS": {"connect_timeout": 2},
            "CONN_MAX_AGE": 0,
            "CONN_HEALTH_CHECKS": False,
            "AUTOCOMMIT": True,
            "ATOMIC_REQUESTS": False,
            "TIME_ZONE": None,
            "TEST": {},
        },
    )
    names, checks = failed(ask(client, "/readyz"))
    assert names == ["database", "migrations", "outbox"]
    assert checks["database"]["detail"] == "no answer within 0.8 s" and checks["database"]["timeout"] is True
    started = time.monotonic()
    names, checks = failed(ask(client, "/readyz"))
    assert names == ["database", "migrations", "outbox"]
    assert checks["database"]["detail"].startswith("still waiting for the previous check")
    assert time.monotonic() - started < 0.5  # nothing new was waited for
    assert sum(thread.name.startswith("readyz-database") for thread in threading.enumerate()) == 1


# --- The runner --------------------------------------------------------------------------------------------


def test_each_check_has_its_own_timeout_and_errors_are_failures():
    release = threading.Event()

    def slow():
        release.wait(5)
        return "late", {}

    def broken():
        raise RuntimeError("boom")

    started = time.monotonic()
    results = health.run_checks(
        [
            health.Check("fast", lambda: ("fine", {"n": 1}), 0.5),
            health.Check("slow-test", slow, 0.2),
            health.Check("broken", broken, 0.5),
            health.Check("refused", lambda: (_ for _ in ()).throw(health.CheckFailed("no", n=2)), 0.5),
        ],
        budget=0.9,
    )
    elapsed = time.monotonic() - started
    release.set()
    assert 0.2 <= elapsed < 0.5
    assert [(r.name, r.ok, r.detail) for r in results] == [
        ("fast", True, "fine"),
        ("slow-test", False, "no answer within 0.2 s"),
        ("broken", False, "RuntimeError: boom"),
        ("refused", False, "no"),
    ]
    assert results[0].values == {"n": 1} and results[3].values == {"n": 2}
