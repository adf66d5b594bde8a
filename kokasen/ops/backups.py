"""Backups with restic: PostgreSQL and the media into one encrypted, deduplicating repository,
and the weekly restore drill (docs/decisions/0035, docs/operations.md "Backups").

One run of ``backup()``:

1. opens a REPEATABLE READ transaction on the database and exports its snapshot; ``pg_dump
   --format=custom --snapshot=…`` dumps exactly what that transaction sees, and the same
   transaction counts the rows of every table and sums a hash of each row (``manifest``), so the
   counts and checksums describe the dump itself, however busy the site is meanwhile;
2. hashes the media files (SHA-256; unchanged files, same size and mtime, from the last run's
   list) into the manifest;
3. ``restic backup`` of the dump, the manifest and MEDIA_ROOT: one snapshot;
4. ``restic forget --keep-within BACKUP_KEEP_WITHIN --prune`` (at most 35 days: disposal ends
   within a known time, issue 14);
5. writes OPS_BACKUP_STATUS_FILE atomically (read by /readyz and ops_scan's backup_overdue rule).

``restore_drill()`` restores the newest snapshot's dump into a scratch database
(BACKUP_DRILL_DATABASE) and its media into a scratch folder, computes the same counts and
checksums there and compares them with the snapshot's manifest; the result goes to
BACKUP_DRILL_STATUS_FILE, whether it passed or not.

For disposal (issue 14): ``forget_all()`` removes every snapshot and prunes the data;
``destroy_key()`` overwrites and deletes the key file. Without the key the repository (and any
copy of it) cannot be read.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.db import connections

RESTIC = "restic"
TAG = "kokasen"
DUMP_NAME = "database.dump"
MANIFEST_NAME = "manifest.json"
KEY_CREDENTIAL = "backup_key"  # LoadCredential= name in deploy/systemd/kokasen-backup.service
MAX_KEEP_DAYS = 35

# The same text form of every value in the source and the restored database.
SESSION_SETTINGS = (
    "SET TIME ZONE 'UTC'",
    "SET DateStyle = 'ISO, YMD'",
    "SET IntervalStyle = 'postgres'",
    "SET extra_float_digits = 3",
    "SET bytea_output = 'hex'",
)


class BackupError(Exception):
    """A backup, drill or disposal step failed; the message is Japanese, for the operator."""


@dataclass(frozen=True)
class Database:
    """libpq connection values of a database (from Django's settings)."""

    name: str
    user: str = ""
    password: str = ""
    host: str = ""
    port: str = ""

    @classmethod
    def from_settings(cls, alias: str = "default", name: str | None = None) -> Database:
        values = connections[alias].settings_dict
        if "postgresql" not in values["ENGINE"]:
            raise BackupError(
                "バックアップは PostgreSQL のデータベースだけが対象です（DATABASE_URL を確認してください）。"
            )
        return cls(
            name=name or values["NAME"],
            user=values.get("USER") or "",
            password=values.get("PASSWORD") or "",
            host=values.get("HOST") or "",
            port=str(values.get("PORT") or ""),
        )

    def env(self) -> dict[str, str]:
        env = {"PGDATABASE": self.name, "PGCONNECT_TIMEOUT": "10"}
        for key, value in (("PGUSER", self.user), ("PGPASSWORD", self.password)):
            if value:
                env[key] = value
        if self.host:
            env["PGHOST"] = self.host
        if self.port:
            env["PGPORT"] = self.port
        return env

    def connect(self, **options):
        import psycopg

        return psycopg.connect(
            dbname=self.name,
            user=self.user or None,
            password=self.password or None,
            host=self.host or None,
            port=self.port or None,
            connect_timeout=10,
            **options,
        )


# --- settings ------------------------------------------------------------------------------------


def keep_within() -> str:
    value = settings.BACKUP_KEEP_WITHIN.strip()
    match = re.fullmatch(r"(\d+)d", value)
    if not match or not 1 <= int(match.group(1)) <= MAX_KEEP_DAYS:
        raise BackupError(f"BACKUP_KEEP_WITHIN は 1d〜{MAX_KEEP_DAYS}d の日数で指定してください（現在: {value!r}）。")
    return value


def key_file() -> Path:
    """The key: systemd's credential when run by the unit (root's 0600 file, handed over by
    LoadCredential=), else BACKUP_PASSWORD_FILE."""
    credentials = os.environ.get("CREDENTIALS_DIRECTORY")
    if credentials and (Path(credentials) / KEY_CREDENTIAL).is_file():
        return Path(credentials) / KEY_CREDENTIAL
    return Path(settings.BACKUP_PASSWORD_FILE)


def work_dir() -> Path:
    path = Path(settings.BACKUP_WORK_DIR)
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def drill_database() -> Database:
    source = Database.from_settings()
    name = settings.BACKUP_DRILL_DATABASE or f"{source.name}_drill"
    if name == source.name:
        raise BackupError("BACKUP_DRILL_DATABASE が本番のデータベースと同じです。別の名前にしてください。")
    return Database(name=name, user=source.user, password=source.password, host=source.host, port=source.port)


# --- restic --------------------------------------------------------------------------------------


def _restic_env() -> dict[str, str]:
    key = key_file()
    if not key.is_file() or key.stat().st_size == 0:
        raise BackupError(
            f"バックアップの鍵ファイル {key} がありません。鍵がなければバックアップの作成も復元もできません。"
            "サーバー外に保管した鍵の写しを元の場所に戻してください（docs/operations.md「バックアップ」）。"
        )
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(work_dir()),
        "LANG": "C.UTF-8",
        "RESTIC_REPOSITORY": settings.BACKUP_REPOSITORY,
        "RESTIC_PASSWORD_FILE": str(key),
        "RESTIC_CACHE_DIR": str(work_dir() / "cache"),
    }


def restic(*args: str, stdout=None, check: bool = True, timeout: float | None = None) -> subprocess.CompletedProcess:
    if not settings.BACKUP_REPOSITORY:
        raise BackupError("BACKUP_REPOSITORY が設定されていません。")
    try:
        result = subprocess.run(
            [RESTIC, *(["--no-lock"] if args[0] == "cat" else []), *args],
            env=_restic_env(),
            stdout=stdout if stdout is not None else subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=stdout is None,
            timeout=timeout,
        )
    except FileNotFoundError:
        raise BackupError(
            "restic がありません（Debian の restic パッケージ。deploy/install.sh が入れます）。"
        ) from None
    if check and result.returncode != 0:
        raise BackupError(_explain(args[0], _text(result.stderr)))
    return result


def _text(value) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else (value or "")


def _explain(command: str, stderr: str) -> str:
    detail = stderr.strip().splitlines()[-1] if stderr.strip() else "（出力なし）"
    if "wrong password" in stderr or "no key found" in stderr:
        return (
            f"バックアップの鍵が違います（{key_file()}）。このリポジトリ {settings.BACKUP_REPOSITORY} は"
            "別の鍵で暗号化されています。サーバー外に保管した正しい鍵を使ってください。"
        )
    if "Is there a repository" in stderr or "does not exist" in stderr:
        return f"バックアップのリポジトリ {settings.BACKUP_REPOSITORY} がありません（restic: {detail}）。"
    return f"restic {command} が失敗しました: {detail}"


def ensure_repository() -> bool:
    """Initialise the repository if there is none; True when it was created."""
    probe = restic("cat", "config", check=False)
    if probe.returncode == 0:
        return False
    if "Is there a repository" not in probe.stderr and "does not exist" not in probe.stderr:
        raise BackupError(_explain("cat", probe.stderr))
    restic("init")
    return True


def snapshots() -> list[dict]:
    return json.loads(restic("snapshots", "--json", "--tag", TAG).stdout or "[]")


# --- counts and checksums -------------------------------------------------------------------------


def _tables(cursor) -> list[str]:
    cursor.execute(
        "SELECT quote_ident(schemaname) || '.' || quote_ident(tablename) FROM pg_tables "
        "WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1"
    )
    return [row[0] for row in cursor.fetchall()]


def table_checksums(cursor) -> dict[str, dict]:
    """Every table's row count and the sum of the first 64 bits of each row's MD5 (order-free)."""
    for statement in SESSION_SETTINGS:
        cursor.execute(statement)
    result = {}
    for table in _tables(cursor):
        cursor.execute(
            "SELECT count(*), coalesce(sum(('x' || substr(md5(t::text), 1, 16))::bit(64)::bigint::numeric), 0)::text "
            f"FROM {table} AS t"
        )
        rows, checksum = cursor.fetchone()
        result[table] = {"rows": rows, "checksum": checksum}
    return result


def media_manifest(root: Path, cache: dict | None = None) -> dict[str, dict]:
    """Relative path → size and SHA-256 of every file under ``root``; ``cache`` (the last list,
    with mtimes) spares hashing unchanged files."""
    cache = cache or {}
    files = {}
    if not root.is_dir():
        return files
    for path in sorted(root.rglob("*")):
        if not path.is_file() or path.is_symlink():
            continue
        stat = path.stat()
        relative = path.relative_to(root).as_posix()
        known = cache.get(relative)
        if known and known.get("size") == stat.st_size and known.get("mtime_ns") == stat.st_mtime_ns:
            digest = known["sha256"]
        else:
            digest = _sha256(path)
        files[relative] = {"size": stat.st_size, "sha256": digest, "mtime_ns": stat.st_mtime_ns}
    return files


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


def write_json_atomically(path: Path, data: dict) -> None:
    """Write ``data`` to ``path`` so that a reader sees the old or the new file, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(data, out, ensure_ascii=False, indent=2)
            out.write("\n")
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


# --- backup --------------------------------------------------------------------------------------


def backup(source: Database | None = None) -> dict:
    """One backup (see the module's docstring); returns what was written to the status file.
    ``source``: the database (default: Django's)."""
    started = time.monotonic()
    started_at = _now()
    _restic_env()  # no key, no backup: said before anything is dumped
    source = source or Database.from_settings()
    media_root = Path(settings.MEDIA_ROOT)
    staging = work_dir() / "staging"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(mode=0o700)
    ensure_repository()

    dump = staging / DUMP_NAME
    with source.connect(autocommit=False) as conn, conn.cursor() as cursor:
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cursor.execute("SELECT pg_export_snapshot()")
        snapshot = cursor.fetchone()[0]
        tables = table_checksums(cursor)
        dumped = subprocess.run(
            ["pg_dump", "--format=custom", "--compress=0", f"--snapshot={snapshot}", f"--file={dump}"],
            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", **source.env()},
            capture_output=True,
            text=True,
        )
        conn.rollback()
    if dumped.returncode != 0:
        raise BackupError(f"pg_dump が失敗しました: {dumped.stderr.strip()[-500:]}")
    dump_seconds = time.monotonic() - started
    dump_bytes = dump.stat().st_size

    cache_file = work_dir() / "media-hashes.json"
    try:
        cache = json.loads(cache_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        cache = {}
    media = media_manifest(media_root, cache)
    write_json_atomically(cache_file, media)
    manifest = {
        "created_at": started_at,
        "database": {"name": source.name, "tables": tables},
        "media": {
            "root": str(media_root),
            "files": {k: {"size": v["size"], "sha256": v["sha256"]} for k, v in media.items()},
        },
    }
    (staging / MANIFEST_NAME).write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")

    paths = [str(dump), str(staging / MANIFEST_NAME)]
    if media_root.is_dir():
        paths.append(str(media_root))
    result = restic("backup", "--json", "--tag", TAG, "--host", TAG, *paths)
    summary = next(
        (json.loads(line) for line in reversed(result.stdout.splitlines()) if '"message_type":"summary"' in line), {}
    )
    snapshot_id = summary.get("snapshot_id", "")
    restic("forget", "--tag", TAG, "--keep-within", keep_within(), "--prune")
    stats = json.loads(restic("stats", "--json", "--mode", "raw-data").stdout or "{}")
    shutil.rmtree(staging, ignore_errors=True)

    status = {
        "finished_at": _now(),
        "started_at": started_at,
        "seconds": round(time.monotonic() - started, 1),
        "dump_seconds": round(dump_seconds, 1),
        "snapshot_id": snapshot_id,
        "repository": settings.BACKUP_REPOSITORY,
        "retention": keep_within(),
        "snapshots": len(snapshots()),
        "repository_bytes": stats.get("total_size"),
        "added_bytes": summary.get("data_added"),
        "database": {
            "tables": len(tables),
            "rows": sum(table["rows"] for table in tables.values()),
            "dump_bytes": dump_bytes,
        },
        "media": {"files": len(media), "bytes": sum(item["size"] for item in media.values())},
        "processed": {"files": summary.get("total_files_processed"), "bytes": summary.get("total_bytes_processed")},
    }
    if settings.OPS_BACKUP_STATUS_FILE:
        write_json_atomically(Path(settings.OPS_BACKUP_STATUS_FILE), status)
    return status


# --- restore drill -------------------------------------------------------------------------------


def _reset_database(target: Database) -> None:
    with target.connect(autocommit=True) as conn, conn.cursor() as cursor:
        cursor.execute("DROP SCHEMA IF EXISTS public CASCADE")
        cursor.execute("CREATE SCHEMA public")


def restore_drill(snapshot: str = "latest", target: Database | None = None) -> dict:
    """Restore ``snapshot`` into the scratch database and folder and compare with its manifest.
    The result is written to BACKUP_DRILL_STATUS_FILE and returned; raises BackupError only when
    the restore itself could not run (no key, wrong key, no repository …), after recording it."""
    started = time.monotonic()
    record: dict = {"started_at": _now(), "snapshot": snapshot, "ok": False}
    try:
        _restic_env()
        record.update(_drill(snapshot, started, target or drill_database()))
    except BackupError as error:
        record.update(finished_at=_now(), error=str(error), seconds=round(time.monotonic() - started, 1))
        _write_drill(record)
        raise
    _write_drill(record)
    return record


def _write_drill(record: dict) -> None:
    if settings.BACKUP_DRILL_STATUS_FILE:
        write_json_atomically(Path(settings.BACKUP_DRILL_STATUS_FILE), record)


def _drill(snapshot: str, started: float, target: Database) -> dict:
    scratch = work_dir() / "drill"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(mode=0o700)
    found = [item for item in snapshots() if snapshot == "latest" or item["id"].startswith(snapshot)]
    if not found:
        raise BackupError("復元できるバックアップ（スナップショット）がありません。")
    chosen = max(found, key=lambda item: item["time"]) if snapshot == "latest" else found[0]
    staging = next(path for path in chosen["paths"] if path.endswith(DUMP_NAME))
    staging_dir = staging[: -len(DUMP_NAME)]
    dump = scratch / DUMP_NAME
    with dump.open("wb") as out:
        restic("dump", chosen["id"], staging, stdout=out)
    manifest = json.loads(restic("dump", chosen["id"], staging_dir + MANIFEST_NAME).stdout)

    restore_started = time.monotonic()
    _reset_database(target)
    restored = subprocess.run(
        ["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error", f"--dbname={target.name}", str(dump)],
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", **target.env()},
        capture_output=True,
        text=True,
    )
    if restored.returncode != 0:
        raise BackupError(f"pg_restore が失敗しました: {restored.stderr.strip()[-500:]}")
    with target.connect(autocommit=True) as conn, conn.cursor() as cursor:
        tables = table_checksums(cursor)
    database_seconds = time.monotonic() - restore_started

    media_root = manifest["media"]["root"]
    expected_media = manifest["media"]["files"]
    if expected_media:
        restic("restore", chosen["id"], "--target", str(scratch / "files"), "--include", media_root)
    restored_media = media_manifest(scratch / "files" / media_root.lstrip("/"))

    differences = []
    expected_tables = manifest["database"]["tables"]
    for table in sorted(set(expected_tables) | set(tables)):
        want, got = expected_tables.get(table), tables.get(table)
        if want is None or got is None or want["rows"] != got["rows"] or want["checksum"] != got["checksum"]:
            differences.append({"table": table, "backup": want, "restored": got})
    for name in sorted(set(expected_media) | set(restored_media)):
        want, got = expected_media.get(name), restored_media.get(name)
        if want is None or got is None or want["sha256"] != got["sha256"]:
            differences.append(
                {"file": name, "backup": want, "restored": got and {"size": got["size"], "sha256": got["sha256"]}}
            )
    shutil.rmtree(scratch, ignore_errors=True)
    _reset_database(target)  # the scratch copy holds personal data: not kept after the drill
    return {
        "ok": not differences,
        "finished_at": _now(),
        "snapshot": chosen["id"][:8],
        "snapshot_time": chosen["time"],
        "seconds": round(time.monotonic() - started, 1),
        "database_seconds": round(database_seconds, 1),
        "database": target.name,
        "tables": len(tables),
        "rows": sum(item["rows"] for item in tables.values()),
        "media_files": len(restored_media),
        "differences": differences[:50],
        "difference_count": len(differences),
    }


# --- disposal (issue 14) -------------------------------------------------------------------------


def forget_all() -> int:
    """Remove every snapshot of the repository and prune their data; returns how many there were.
    The repository's structure and key stay (destroy_key() makes it unreadable for good)."""
    ids = [item["id"] for item in snapshots()]
    if ids:
        restic("forget", "--prune", *ids)
    return len(ids)


def destroy_key() -> bool:
    """Overwrite and delete BACKUP_PASSWORD_FILE (copies kept off the machine must be destroyed
    by hand: docs/operations.md). True when a key was there."""
    path = Path(settings.BACKUP_PASSWORD_FILE)
    if not path.exists():
        return False
    size = path.stat().st_size
    with path.open("r+b") as handle:
        handle.write(os.urandom(max(size, 64)))
        handle.flush()
        os.fsync(handle.fileno())
    path.unlink()
    return True
