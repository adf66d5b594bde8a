"""Backups with restic on PostgreSQL (kokasen/ops/backups.py, docs/decisions/0035, 0048).

The source: a copy (pg_dump/pg_restore) of the session's test database, already migrated and
holding the demo content (the ``demo_site`` fixture), plus 1,788 member accounts (one per local
government) and 10,000 小ネタ posts bulk-inserted into the copy; media files from the demo. Made
once for the module. Backed up into a restic repository in tmp_path, restored by the drill into a
second database of our own, compared per table (rows and checksums) and per file (SHA-256). The
timed run with bigger figures is kokasen/bench/backup.py.

The backup is pg_dump's: these tests run in the PostgreSQL pass of the suite (DATABASE_URL on
PostgreSQL); in the SQLite pass there is no PostgreSQL test database to copy and they are skipped
(the same split as kokasen/privacy/tests/test_canary.py).
"""

from __future__ import annotations

import json
import os
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from django.core.management import CommandError, call_command
from django.db import connection, connections

from kokasen.ops import backups, checks, readiness
from kokasen.testing.backup_data import seed

PG_ONLY = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="the PostgreSQL pass: the backup is pg_dump's (DATABASE_URL on PostgreSQL)",
)


def _run(command: list[str], database: backups.Database) -> None:
    done = subprocess.run(
        command,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", **database.env()},
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr[-3000:]


def _admin(database: backups.Database, *statements: str) -> None:
    with backups.Database(**{**database.__dict__, "name": "postgres"}).connect(autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)


@pytest.fixture(scope="module")
def source(demo_site, media_root, django_db_blocker, tmp_path_factory):
    """The source database: the migrated test database with the demo, 1,788 accounts and 10,000
    posts, and its media."""
    folder = tmp_path_factory.mktemp("backup-source")
    with django_db_blocker.unblock():
        test_database = backups.Database.from_settings()
    name = f"{test_database.name}_backup"
    drill = f"{test_database.name}_drill"
    database = backups.Database(**{**test_database.__dict__, "name": name})
    drop = (f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'DROP DATABASE IF EXISTS "{drill}" WITH (FORCE)')
    _admin(test_database, *drop, f'CREATE DATABASE "{drill}"')
    alias = "backup_source"
    try:
        with django_db_blocker.unblock():
            connections.close_all()  # a template has no other sessions
        try:  # a file copy of the migrated test database: about a second
            _admin(test_database, f'CREATE DATABASE "{name}" TEMPLATE "{test_database.name}"')
        except psycopg.errors.ObjectInUse:  # another session on it (a live server's): dump and restore
            _admin(test_database, f'CREATE DATABASE "{name}"')
            dump = folder / "test.dump"
            _run(["pg_dump", "--format=custom", "--compress=0", f"--file={dump}"], test_database)
            _run(
                ["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error", f"--dbname={name}", str(dump)],
                database,
            )
            dump.unlink()
        connections.settings[alias] = {**connections["default"].settings_dict, "NAME": name}
        with django_db_blocker.unblock():
            try:
                assert seed(alias, 10_000) == (1788, 1788, 10_000)
            finally:
                connections[alias].close()
                del connections[alias]
                del connections.settings[alias]
        yield {
            "database": database,
            "drill": backups.Database(**{**test_database.__dict__, "name": drill}),
            "media": media_root,
        }
    finally:
        _admin(test_database, *drop)


@pytest.fixture
def repository(settings, tmp_path, source):
    key = tmp_path / "backup_key"
    key.write_text("試験用の鍵-" + os.urandom(16).hex(), encoding="utf-8")
    key.chmod(0o600)
    settings.BACKUP_REPOSITORY = str(tmp_path / "restic")
    settings.BACKUP_PASSWORD_FILE = str(key)
    settings.BACKUP_WORK_DIR = str(tmp_path / "work")
    settings.BACKUP_KEEP_WITHIN = "35d"
    settings.MEDIA_ROOT = str(source["media"])
    settings.OPS_BACKUP_STATUS_FILE = str(tmp_path / "state" / "last-success.json")
    settings.BACKUP_DRILL_STATUS_FILE = str(tmp_path / "state" / "last-drill.json")
    return key


@PG_ONLY
def test_backup_and_restore_drill_give_equal_counts_and_checksums(source, repository, settings):
    status = backups.backup(source=source["database"])

    written = json.loads(Path(settings.OPS_BACKUP_STATUS_FILE).read_text(encoding="utf-8"))
    assert written == status
    assert datetime.fromisoformat(written["finished_at"]) > datetime.now(UTC) - timedelta(minutes=5)
    assert len(written["snapshot_id"]) >= 8 and written["snapshots"] == 1
    assert written["retention"] == "35d"
    assert written["database"]["rows"] > 1788 + 10_000 and written["database"]["dump_bytes"] > 0
    media_files = [p for p in source["media"].rglob("*") if p.is_file()]
    assert written["media"]["files"] == len(media_files) > 0
    assert written["repository_bytes"] > 0
    # Encrypted: neither a post's text nor a user name is in the repository's files.
    needle = "乳幼児健診の案内を母子手帳アプリ".encode()
    for path in Path(settings.BACKUP_REPOSITORY).rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert needle not in data and b"m010006" not in data, path

    record = backups.restore_drill(target=source["drill"])

    assert record["ok"] is True, record["differences"]
    assert record["difference_count"] == 0
    assert record["rows"] == written["database"]["rows"] and record["tables"] == written["database"]["tables"]
    assert record["media_files"] == len(media_files)
    assert json.loads(Path(settings.BACKUP_DRILL_STATUS_FILE).read_text(encoding="utf-8")) == record
    # The checksums compare content: one changed row in the source no longer matches the backup.
    with source["database"].connect(autocommit=True) as conn, conn.cursor() as cursor:
        before = backups.table_checksums(cursor)
        cursor.execute("UPDATE tips_post SET body = body || '。' WHERE id = (SELECT min(id) FROM tips_post)")
        after = backups.table_checksums(cursor)
    changed = [table for table in before if before[table] != after[table]]
    assert changed == ["public.tips_post"] and before["public.tips_post"]["rows"] == after["public.tips_post"]["rows"]
    # The scratch copy is emptied after the drill.
    with source["drill"].connect() as conn, conn.cursor() as cursor:
        assert backups._tables(cursor) == []
    # Deduplication and disposal (forget_all, destroy_key) on a real repository:
    # kokasen/privacy/tests/test_backup_disposer.py; the timed second backup: kokasen/bench/backup.py.


@PG_ONLY
def test_a_restore_without_the_key_fails_clearly(source, repository, settings):
    assert backups.ensure_repository() is True  # an encrypted repository exists; its key goes away

    repository.rename(repository.with_name("elsewhere"))
    with pytest.raises(
        CommandError, match="バックアップの鍵ファイル .* がありません。鍵がなければバックアップの作成も復元もできません"
    ):
        call_command("backup", "--drill")
    failed = json.loads(Path(settings.BACKUP_DRILL_STATUS_FILE).read_text(encoding="utf-8"))
    assert failed["ok"] is False and "鍵ファイル" in failed["error"]

    repository.write_text("推測した別の鍵", encoding="utf-8")
    with pytest.raises(backups.BackupError, match="バックアップの鍵が違います"):
        backups.restore_drill(target=source["drill"])
    with pytest.raises(backups.BackupError, match="バックアップの鍵が違います"):
        backups.backup(source=source["database"])


def test_retention_is_at_most_35_days(settings):
    for value in ("36d", "1y", "", "0d"):
        settings.BACKUP_KEEP_WITHIN = value
        with pytest.raises(backups.BackupError, match="1d〜35d"):
            backups.keep_within()
    settings.BACKUP_KEEP_WITHIN = "35d"
    assert backups.keep_within() == "35d"


@pytest.mark.django_db
def test_the_status_file_drives_readyz_and_the_backup_overdue_rule(settings, tmp_path, client):
    settings.OPS_BACKUP_STATUS_FILE = str(tmp_path / "last-success.json")
    settings.OPS_BACKUP_MAX_AGE_HOURS = 26
    settings.MEDIA_ROOT = str(tmp_path)  # the disk check looks there
    now = datetime.now(UTC)

    def state():
        [result] = checks.backup(settings.OPS_BACKUP_STATUS_FILE, now)
        body = client.get("/readyz").json()
        return result.finding, body["checks"]["backup"], body["failed"]

    finding, check, failed = state()  # no record at all
    assert finding.severity == "warning" and "バックアップの記録がありません" in finding.summary
    assert check["ok"] is False and failed == ["backup"]

    backups.write_json_atomically(
        Path(settings.OPS_BACKUP_STATUS_FILE), {"finished_at": (now - timedelta(hours=25)).isoformat()}
    )
    finding, check, failed = state()
    assert finding is None and check["ok"] is True and failed == []

    backups.write_json_atomically(
        Path(settings.OPS_BACKUP_STATUS_FILE), {"finished_at": (now - timedelta(hours=27)).isoformat()}
    )
    finding, check, failed = state()
    assert finding.rule == "backup_overdue" and "27 時間" in finding.summary
    assert check["ok"] is False and "27 時間" in check["detail"] and failed == ["backup"]
    assert not list(tmp_path.glob(".last-success.json.*"))  # no temporary file left behind

    settings.OPS_BACKUP_STATUS_FILE = ""  # off: not among /readyz's checks
    assert "backup" not in [check.name for check in readiness.checks()]
