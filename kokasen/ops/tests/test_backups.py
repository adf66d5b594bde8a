"""Backups with restic on PostgreSQL (kokasen/ops/backups.py, docs/decisions/0035).

One database of our own (kokasen_backup_<pid>): migrated, the demo content, 1,788 member
accounts (one per local government) and 10,000 小ネタ posts, media files from the demo. Backed up
into a restic repository in tmp_path, restored by the drill into a second database of our own,
compared per table (rows and checksums) and per file (SHA-256). The timed run with bigger figures
is kokasen/bench/backup.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from kokasen.ops import backups, checks, readiness
from kokasen.testing.backup_data import SEED

ROOT = Path(__file__).resolve().parents[3]
PG = {"host": "127.0.0.1", "port": "5432", "user": "postgres"}


def _psql(*statements: str) -> None:
    for statement in statements:
        subprocess.run(
            [
                "psql",
                "-X",
                "-q",
                "-h",
                PG["host"],
                "-p",
                PG["port"],
                "-U",
                PG["user"],
                "-d",
                "postgres",
                "-c",
                statement,
            ],
            check=True,
            capture_output=True,
        )


def _manage(env: dict, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    """The source database with the demo, 1,788 accounts and 10,000 posts, and its media."""
    folder = tmp_path_factory.mktemp("backup-source")
    name = f"kokasen_backup_{os.getpid()}"
    drill = f"{name}_drill"
    _psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'DROP DATABASE IF EXISTS "{drill}" WITH (FORCE)')
    _psql(f'CREATE DATABASE "{name}"', f'CREATE DATABASE "{drill}"')
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "HOME": str(folder),
        "DJANGO_SETTINGS_MODULE": "kokasen.settings.dev",
        "DATABASE_URL": f"postgres://{PG['user']}@{PG['host']}:{PG['port']}/{name}",
        "MEDIA_ROOT": str(folder / "media"),
        "LOG_LEVEL": "WARNING",
    }
    try:
        _manage(env, "migrate", "--no-input", "-v", "0")
        _manage(env, "load_demo")
        counts = _manage(env, "shell", "-c", SEED.replace("POSTS", "10_000")).splitlines()[-1].split()
        assert counts == ["1788", "1788", "10000"]
        yield {
            "database": backups.Database(name=name, **PG),
            "drill": backups.Database(name=drill, **PG),
            "media": folder / "media",
        }
    finally:
        _psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'DROP DATABASE IF EXISTS "{drill}" WITH (FORCE)')


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

    # A second backup: the media are not stored again (deduplicated; only the dump's first chunks,
    # where its header changed, are new), and retention kept both (younger than 35 days).
    second = backups.backup(source=source["database"])
    assert second["snapshots"] == 2 and second["added_bytes"] < status["added_bytes"]
    assert second["repository_bytes"] < 2 * status["repository_bytes"]

    # Disposal (issue 14): every generation forgotten and pruned, then the key destroyed.
    assert backups.forget_all() == 2
    assert backups.snapshots() == []
    assert backups.destroy_key() is True and not repository.exists()


def test_a_restore_without_the_key_fails_clearly(source, repository, settings):
    backups.backup(source=source["database"])

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
