"""What /readyz checks, from the settings (docs/operations.md "Monitoring").

| check | red when | timeout |
|---|---|---|
| database | no answer to ``SELECT 1`` | 0.8 s |
| migrations | a migration of the code is not applied to the database | 0.8 s |
| cache | Redis does not answer PING (only when REDIS_URL is set) | 0.5 s |
| disk | less than HEALTH_DISK_MIN_FREE_MB free where uploads are written | 0.5 s |
| outbox | the oldest e-mail still queued is older than HEALTH_OUTBOX_MAX_AGE_MINUTES | 0.8 s |
| antivirus | clamd does not answer, or its signatures are older than CLAMD_SIGNATURES_MAX_AGE_HOURS | 0.8 s |
| backup | no record of a good backup in OPS_BACKUP_STATUS_FILE, or older than OPS_BACKUP_MAX_AGE_HOURS (only when the setting names a file) | 0.5 s |

All run at once (health.run_checks) within BUDGET, so the answer comes in under a second
whatever hangs. The database checks run in their own threads on connections of their own,
opened with a connect timeout and a statement timeout, and closed when the check ends.
"""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from functools import lru_cache

from django.conf import settings
from django.db import connections
from django.db.utils import load_backend

from kokasen.core.virus_scan import scanner

from .health import Check, CheckFailed, clamd_signatures, disk_space, redis_ping, run_checks

BUDGET = 0.9  # seconds for every check together
DATABASE_TIMEOUT = 0.8
CACHE_TIMEOUT = 0.5
DISK_TIMEOUT = 0.5
ANTIVIRUS_TIMEOUT = 0.8
BACKUP_TIMEOUT = 0.5


def _database_settings() -> dict:
    """The default database's settings with timeouts, for a check's own connection."""
    settings_dict = dict(connections["default"].settings_dict)
    options = dict(settings_dict.get("OPTIONS") or {})
    engine = settings_dict["ENGINE"]
    if "postgresql" in engine:
        # libpq rounds connect_timeout up to 2 s; the check's own timeout answers sooner, and the
        # thread ends by then.
        options.update(connect_timeout=2, options=f"-c statement_timeout={int(DATABASE_TIMEOUT * 1000)}")
    elif "sqlite" in engine:
        options["timeout"] = DATABASE_TIMEOUT
    settings_dict["OPTIONS"] = options
    settings_dict["CONN_MAX_AGE"] = 0
    return settings_dict


def _with_connection(work):
    """Run ``work(connection)`` on this thread's own connection, opened with timeouts."""

    def run():
        settings_dict = _database_settings()
        # This (check) thread's own connection object, registered for this thread only, so that
        # the ORM's "default" in this thread is this connection.
        connection = load_backend(settings_dict["ENGINE"]).DatabaseWrapper(settings_dict, "default")
        connections["default"] = connection
        try:
            return work(connection)
        finally:
            connection.close()
            del connections["default"]

    return run


def _database(connection) -> tuple[str, dict]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return "database answers", {"vendor": connection.vendor}


@lru_cache(maxsize=1)
def _migrations_of_the_code() -> tuple[frozenset, dict]:
    """Every migration the code has (squashed ones as their replacement), read from disk once."""
    from django.db.migrations.loader import MigrationLoader

    loader = MigrationLoader(None, ignore_no_migrations=True)
    replaces = {key: frozenset(migration.replaces) for key, migration in loader.replacements.items()}
    return frozenset(loader.graph.nodes), replaces


def _migrations(connection) -> tuple[str, dict]:
    from django.db.migrations.recorder import MigrationRecorder

    expected, replaces = _migrations_of_the_code()
    applied = set(MigrationRecorder(connection).applied_migrations())
    missing = sorted(
        f"{app}.{name}"
        for app, name in expected
        if (app, name) not in applied and not (replaces.get((app, name)) and replaces[(app, name)] <= applied)
    )
    if missing:
        raise CheckFailed(f"{len(missing)} migration(s) not applied: run migrate", unapplied=missing[:20])
    return "every migration applied", {"migrations": len(expected)}


def _outbox(connection) -> tuple[str, dict]:
    from django.db.models import Min

    from kokasen.notifications.models import OutboxMessage

    limit = settings.HEALTH_OUTBOX_MAX_AGE_MINUTES
    waiting = OutboxMessage.objects.using(connection.alias).filter(
        status__in=[OutboxMessage.Status.QUEUED, OutboxMessage.Status.SENDING]
    )
    oldest = waiting.aggregate(oldest=Min("created_at"))["oldest"]
    values = {"max_age_minutes": limit, "oldest_unsent": oldest.isoformat() if oldest else None}
    if oldest is None:
        return "no e-mail waiting", {**values, "oldest_unsent_minutes": 0}
    minutes = (datetime.now(UTC) - oldest).total_seconds() / 60
    values["oldest_unsent_minutes"] = round(minutes, 1)
    if minutes > limit:
        raise CheckFailed(
            f"an e-mail has waited {minutes:.0f} minutes to be sent (limit {limit}): "
            "see send_outbox and the outbox's last errors",
            **values,
        )
    return "e-mail is being sent", values


def _cache() -> tuple[str, dict]:
    cache = settings.CACHES["default"]
    if "redis" not in cache["BACKEND"].lower():
        return "local memory cache (no Redis configured)", {"backend": "locmem"}
    return redis_ping(cache["LOCATION"], CACHE_TIMEOUT * 0.8)


def _disk() -> tuple[str, dict]:
    paths = [settings.MEDIA_ROOT, getattr(settings, "FILE_UPLOAD_TEMP_DIR", None) or tempfile.gettempdir()]
    return disk_space(paths, settings.HEALTH_DISK_MIN_FREE_MB * 1024 * 1024)


def _antivirus() -> tuple[str, dict]:
    client = scanner()
    if client is None:
        if settings.VIRUS_SCAN_REQUIRED:
            raise CheckFailed("no virus scanner configured (CLAMD_ADDRESS is empty)")
        return "no virus scanner configured; uploads pass unscanned (development and tests only)", {}
    client.timeout = ANTIVIRUS_TIMEOUT * 0.45  # two commands, PING and VERSION
    return clamd_signatures(client, settings.CLAMD_SIGNATURES_MAX_AGE_HOURS * 3600)


def _backup() -> tuple[str, dict]:
    """The record the backup job writes (kokasen/ops/backups.py), judged as ops_scan's
    backup_overdue rule judges it (checks.backup): one rule, two readers."""
    from .checks import backup

    [result] = backup(settings.OPS_BACKUP_STATUS_FILE, datetime.now(UTC))
    if result.finding is not None:
        raise CheckFailed(result.finding.summary, **result.finding.evidence)
    return "the last good backup is recent", {"path": settings.OPS_BACKUP_STATUS_FILE}


def checks() -> list[Check]:
    optional = [Check("backup", _backup, BACKUP_TIMEOUT)] if settings.OPS_BACKUP_STATUS_FILE else []
    return [
        Check("database", _with_connection(_database), DATABASE_TIMEOUT),
        Check("migrations", _with_connection(_migrations), DATABASE_TIMEOUT),
        Check("cache", _cache, CACHE_TIMEOUT),
        Check("disk", _disk, DISK_TIMEOUT),
        Check("outbox", _with_connection(_outbox), DATABASE_TIMEOUT),
        Check("antivirus", _antivirus, ANTIVIRUS_TIMEOUT),
        *optional,
    ]


def check_named(name: str) -> Check:
    """One of the checks above (ops_scan reuses the antivirus check)."""
    return next(check for check in checks() if check.name == name)


def readiness() -> tuple[bool, dict]:
    """(ready, the JSON body of /readyz)."""
    started = datetime.now(UTC)
    results = run_checks(checks(), budget=BUDGET)
    failed = [result.name for result in results if not result.ok]
    body = {
        "status": "fail" if failed else "ok",
        "failed": failed,
        "checks": {result.name: result.as_json() for result in results},
        "time": started.isoformat(timespec="seconds"),
        "ms": int((datetime.now(UTC) - started).total_seconds() * 1000),
    }
    return not failed, body
