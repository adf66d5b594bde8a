"""Readiness checks without Django: running them within a time budget, and the checks that need
no database (disk space, Redis, clamd). readiness.py builds the list from the settings.

Every check runs in a thread of its own with its own timeout, all at once, so that /readyz
answers within its budget (under 1 s) even when PostgreSQL, Redis or clamd hang: a check that
has not finished by its timeout is reported failed ("no answer within 0.5 s") and left to end
in the background. A check still hanging from an earlier request is not started a second time
("still waiting for the previous check"), so a hang never piles up threads.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime


class CheckFailed(Exception):
    """Raised by a check: ``detail`` says what is wrong, ``values`` what was measured."""

    def __init__(self, detail: str, **values):
        super().__init__(detail)
        self.detail = detail
        self.values = values


@dataclass(frozen=True)
class Check:
    name: str
    # Returns (detail, values) when all is well; raises CheckFailed (or anything) when not.
    run: Callable[[], tuple[str, dict]]
    timeout: float


@dataclass
class CheckResult:
    name: str
    ok: bool
    detail: str
    ms: int
    values: dict = field(default_factory=dict)

    def as_json(self) -> dict:
        return {"ok": self.ok, "detail": self.detail, "ms": self.ms, **self.values}


_running: dict[str, threading.Lock] = {}
_running_since: dict[str, float] = {}
_registry_lock = threading.Lock()


def _lock_for(name: str) -> threading.Lock:
    with _registry_lock:
        return _running.setdefault(name, threading.Lock())


def run_checks(checks: Iterable[Check], *, budget: float) -> list[CheckResult]:
    """Run ``checks`` at once, each within its timeout and all within ``budget`` seconds."""
    started = time.monotonic()
    pending = []
    results: dict[str, CheckResult] = {}
    for check in checks:
        lock = _lock_for(check.name)
        if not lock.acquire(blocking=False):
            since = time.monotonic() - _running_since.get(check.name, started)
            results[check.name] = CheckResult(
                check.name, False, f"still waiting for the previous check (hanging for {since:.0f} s)", 0
            )
            pending.append((check, None, None))
            continue
        _running_since[check.name] = started
        box: dict = {}
        done = threading.Event()
        thread = threading.Thread(
            target=_run_one, args=(check, lock, box, done), name=f"readyz-{check.name}", daemon=True
        )
        thread.start()
        pending.append((check, box, done))
    for check, box, done in pending:
        if done is None:
            continue
        deadline = started + min(check.timeout, budget)
        done.wait(max(0.0, deadline - time.monotonic()))
        if done.is_set():
            results[check.name] = box["result"]
        else:
            results[check.name] = CheckResult(
                check.name,
                False,
                f"no answer within {check.timeout:g} s",
                int((time.monotonic() - started) * 1000),
                {"timeout": True},
            )
    return [results[check.name] for check, _, _ in pending]


def _run_one(check: Check, lock: threading.Lock, box: dict, done: threading.Event) -> None:
    started = time.monotonic()
    try:
        detail, values = check.run()
        result = CheckResult(check.name, True, detail, 0, values)
    except CheckFailed as failure:
        result = CheckResult(check.name, False, failure.detail, 0, failure.values)
    except Exception as error:  # noqa: BLE001 - any error of a check is its failure
        result = CheckResult(check.name, False, f"{type(error).__name__}: {error}"[:300], 0)
    finally:
        lock.release()
    result.ms = int((time.monotonic() - started) * 1000)
    box["result"] = result
    done.set()


# --- Checks that need no Django ------------------------------------------------------------------


def disk_space(paths: Iterable[str | os.PathLike], min_free_bytes: int) -> tuple[str, dict]:
    """Free space on the file systems of ``paths`` (each file system once)."""
    seen = {}
    low = []
    for path in paths:
        try:
            device = os.stat(path).st_dev
            stats = os.statvfs(path)
        except OSError as error:
            raise CheckFailed(f"{path}: {error.strerror or error}") from None
        if device in seen:
            continue
        free = stats.f_bavail * stats.f_frsize
        seen[device] = {
            "path": str(path),
            "free_mb": free // (1024 * 1024),
            "free_percent": round(100 * stats.f_bavail / stats.f_blocks, 1) if stats.f_blocks else 0.0,
        }
        if free < min_free_bytes:
            low.append(f"{path}: {free // (1024 * 1024)} MB free")
    values = {"min_free_mb": min_free_bytes // (1024 * 1024), "filesystems": list(seen.values())}
    if low:
        raise CheckFailed("low disk space: " + "; ".join(low), **values)
    return "enough free space", values


def redis_ping(url: str, timeout: float) -> tuple[str, dict]:
    """PING the Redis at ``url`` with a client of its own (not the cache backend, which hides
    errors by design)."""
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)
    started = time.monotonic()
    try:
        client.ping()
    except redis.exceptions.TimeoutError:
        raise CheckFailed(f"Redis did not answer within {timeout:g} s") from None
    except redis.exceptions.RedisError as error:
        raise CheckFailed(f"Redis: {error}"[:300]) from None
    finally:
        client.close()
    return "Redis answers", {"backend": "redis", "ping_ms": round((time.monotonic() - started) * 1000, 1)}


def clamd_signatures(client, max_age_seconds: float, now: datetime | None = None) -> tuple[str, dict]:
    """clamd answers PING and its signatures (the daily database) are recent enough."""
    from kokasen.core.antivirus import ClamdError

    try:
        client.ping()
        version = client.version()
    except ClamdError as error:
        raise CheckFailed(f"virus scanner unavailable: {error}", address=client.address) from None
    values = {
        "address": client.address,
        "engine": version.engine,
        "signature_version": version.signatures,
        "signature_date": version.signatures_date.isoformat() if version.signatures_date else None,
        "max_age_hours": round(max_age_seconds / 3600, 2),
    }
    age = version.age_seconds(now or datetime.now(UTC))
    if age is None:
        raise CheckFailed("virus scanner has no dated signature database (daily) loaded", **values)
    values["signature_age_hours"] = round(age / 3600, 2)
    if age > max_age_seconds:
        raise CheckFailed(
            f"virus signatures are {age / 3600:.1f} hours old (limit {max_age_seconds / 3600:g}): "
            "freshclam is not updating them",
            **values,
        )
    return "virus scanner answers, signatures current", values
