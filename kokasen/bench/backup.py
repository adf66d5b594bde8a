"""Backup benchmark: `make bench` (or python -m kokasen.bench.backup [--posts N] [--media-mb M]).

A PostgreSQL database of its own (kokasen_bench_backup on 127.0.0.1:5432, dropped at the end):
migrated, the demo content, 1,788 member accounts and ``--posts`` 小ネタ posts (10,000 as in the
test), plus ``--media-mb`` MB of incompressible media files (photos and videos do not compress).
Then, with kokasen/ops/backups.py and Debian's restic:

1. the first backup (pg_dump + restic + forget/prune + the status file);
2. a second backup with nothing changed (deduplication: what a quiet night costs);
3. the restore drill (the dump and the media restored, counts and checksums compared).

Prints each step's wall time, the dump's and the repository's size and what each backup added.
Nothing is asserted. The machine may be shared: compare runs on the same machine only.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from kokasen.testing.backup_data import SEED

ROOT = Path(__file__).resolve().parents[2]
PG = {"host": "127.0.0.1", "port": "5432", "user": "postgres"}
NAME = "kokasen_bench_backup"


def psql(statement: str) -> None:
    subprocess.run(
        ["psql", "-X", "-q", "-h", PG["host"], "-p", PG["port"], "-U", PG["user"], "-d", "postgres", "-c", statement],
        check=True,
        capture_output=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=10_000)
    parser.add_argument("--media-mb", type=int, default=200)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="kokasen-bench-backup-"))
    media = work / "media"
    environment = {
        "DJANGO_SETTINGS_MODULE": "kokasen.settings.dev",
        "DATABASE_URL": f"postgres://{PG['user']}@{PG['host']}:{PG['port']}/{NAME}",
        "MEDIA_ROOT": str(media),
        "LOG_LEVEL": "WARNING",
    }
    for name in (NAME, f"{NAME}_drill"):
        psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        psql(f'CREATE DATABASE "{name}"')
    try:
        started = time.monotonic()
        env = {**os.environ, **environment}
        for command in (
            ["migrate", "--no-input", "-v", "0"],
            ["load_demo"],
            ["shell", "-c", SEED.replace("POSTS", str(args.posts))],
        ):
            subprocess.run([sys.executable, "manage.py", *command], cwd=ROOT, env=env, check=True, capture_output=True)
        videos = media / "videos"
        videos.mkdir(parents=True, exist_ok=True)
        for index in range(max(args.media_mb // 50, 0)):
            (videos / f"bench-{index}.mp4").write_bytes(os.urandom(50 * 1024 * 1024))
        print(
            f"data: demo + 1,788 accounts + {args.posts:,} posts + {args.media_mb} MB media ({time.monotonic() - started:.0f} s to make)"
        )

        os.environ.update(environment)
        import django

        django.setup()
        from django.conf import settings

        from kokasen.ops import backups

        key = work / "backup_key"
        key.write_text(os.urandom(32).hex(), encoding="ascii")
        key.chmod(0o600)
        settings.BACKUP_REPOSITORY = str(work / "restic")
        settings.BACKUP_PASSWORD_FILE = str(key)
        settings.BACKUP_WORK_DIR = str(work / "work")
        settings.OPS_BACKUP_STATUS_FILE = str(work / "last-success.json")
        settings.BACKUP_DRILL_STATUS_FILE = str(work / "last-drill.json")
        source = backups.Database(name=NAME, **PG)
        drill = backups.Database(name=f"{NAME}_drill", **PG)

        def mb(value) -> str:
            return f"{(value or 0) / 1024 / 1024:,.1f} MB"

        for label in ("first backup", "second backup (nothing changed)"):
            t = time.monotonic()
            status = backups.backup(source=source)
            print(
                f"{label:32s} {time.monotonic() - t:6.1f} s  (pg_dump {status['dump_seconds']} s)  "
                f"rows {status['database']['rows']:,}  dump {mb(status['database']['dump_bytes'])}  "
                f"added {mb(status['added_bytes'])}  repository {mb(status['repository_bytes'])}"
            )
        t = time.monotonic()
        record = backups.restore_drill(target=drill)
        print(
            f"{'restore drill':32s} {time.monotonic() - t:6.1f} s  (database restore + checksums {record['database_seconds']} s)  "
            f"ok={record['ok']}  tables {record['tables']}  rows {record['rows']:,}  files {record['media_files']}"
        )
        print(
            json.dumps(
                {"status": status, "drill": {k: v for k, v in record.items() if k != "differences"}}, ensure_ascii=False
            )
        )
    finally:
        for name in (NAME, f"{NAME}_drill"):
            psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
