"""The disposal leaves no byte of what it disposed of in the database files.

A scratch copy of the test database (SQLite: ``VACUUM INTO`` a file, in WAL mode as in
production; PostgreSQL: ``CREATE DATABASE … TEMPLATE``) gets a canary string in a participant's
name, a 小ネタ post's contact, an opinion, an outbox body, an audit detail and an uploaded file
(kokasen/privacy/tests/canary.py), in a child process. The test first checks that it can see the
canary in the files (so that the check can fail), then runs ``dispose_personal_data --scope
contract-end --yes --out DIR`` in a child process and looks again: the scoped counts are 0, the
canary is in no byte of the SQLite file (nor its WAL), or in none of the touched tables' data
files on PostgreSQL (``pg_relation_filepath`` of each table, its TOAST table and its indexes, read
as root: the tests run as root). The report files are written and name the annex's hash.
"""

import hashlib
import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[3]


def _child(env, *args):
    result = subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def _env(database_url, tmp_path):
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="kokasen.privacy.tests.scratch_settings",
        DATABASE_URL=database_url,
        SCRATCH_MEDIA_ROOT=str(tmp_path / "media"),
        SCRATCH_LOG_GLOB=str(tmp_path / "logs" / "*.log*"),
    )
    return env


def _plant_and_dispose(env, tmp_path, canary, look):
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "access.log.1").write_text(f'{{"ip": "192.0.2.1", "path": "/{canary}"}}\n')
    _child(env, "-m", "kokasen.privacy.tests.canary", canary)
    assert look(), "the canary must be visible in the files before the disposal, or the check proves nothing"
    out = tmp_path / "report"
    stdout = _child(env, "manage.py", "dispose_personal_data", "--scope", "contract-end", "--yes", "--out", str(out))
    assert "確認済み（残りなし）" in stdout
    annex = (out / "evidence.json").read_bytes()
    evidence = json.loads(annex)
    counted = {step["label"]: step for step in evidence["steps"]}
    for label in (
        "参加者名簿（氏名・メールアドレス・部署・役職）",
        "送信メール（すべて）",
        "意見箱のご意見（本文・連絡先）",
    ):
        assert counted[label]["before"] >= 1 and counted[label]["after"] == 0, counted[label]
    assert evidence["verification"]["ok"] is True
    assert not list((tmp_path / "media").rglob("*.txt")) and not list((tmp_path / "logs").iterdir())
    assert (out / "betsushi-yoshiki-1.docx").stat().st_size and (out / "betsushi-yoshiki-1.pdf").stat().st_size
    assert evidence["steps"] and hashlib.sha256(annex).hexdigest() in stdout
    return evidence


def _admin(settings):
    import psycopg

    return psycopg.connect(
        host=settings["HOST"] or None,
        port=settings["PORT"] or None,
        user=settings["USER"],
        password=settings["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
    )


@pytest.fixture(scope="module")
def scratch(django_db_setup, django_db_blocker, tmp_path_factory):
    """A copy of the test database (made before the test's own transaction begins: a module
    fixture is set up first). Yields (database URL, directory)."""
    tmp = tmp_path_factory.mktemp("scratch")
    settings = connection.settings_dict
    with django_db_blocker.unblock():
        if connection.vendor == "sqlite":
            db = tmp / "scratch.sqlite3"
            with connection.cursor() as cursor:
                cursor.execute("VACUUM INTO %s", [str(db)])
            yield f"sqlite:///{db}", tmp
            return
        name = f"{settings['NAME']}_privacy_scratch"
        admin = _admin(settings)
        connection.close()
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        template = settings["NAME"]
        # A template must have no other session: connections left by earlier tests' threads
        # (live servers) are idle; end them.
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            [template],
        )
        admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        user, password = settings["USER"], settings["PASSWORD"]
        auth = f"{user}:{password}@" if password else f"{user}@"
        host, port = settings["HOST"] or "127.0.0.1", settings["PORT"] or 5432
        try:
            yield f"postgres://{auth}{host}:{port}/{name}", tmp
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.close()


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "sqlite", reason="the SQLite pass; the PostgreSQL test is below")
def test_no_byte_of_the_canary_is_left_in_the_sqlite_file(scratch):
    url, tmp_path = scratch
    canary = "canary" + secrets.token_hex(8)
    env = _env(url, tmp_path)

    def look():
        return any(canary.encode() in p.read_bytes() for p in tmp_path.glob("scratch.sqlite3*") if p.is_file())

    _plant_and_dispose(env, tmp_path, canary, look)
    assert not look()
    wal = Path(url.removeprefix("sqlite:///") + "-wal")
    assert not wal.exists() or wal.stat().st_size == 0


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="the PostgreSQL pass; the SQLite test is above")
def test_the_canary_is_in_none_of_the_touched_tables_files(scratch):
    import psycopg

    url, tmp_path = scratch
    canary = "canary" + secrets.token_hex(8)
    env = _env(url, tmp_path)
    db = psycopg.connect(conninfo=url.replace("postgres://", "postgresql://", 1), autocommit=True)
    data_dir = Path(db.execute("SHOW data_directory").fetchone()[0])
    if not os.access(data_dir, os.R_OK | os.X_OK):
        pytest.skip(f"the data directory {data_dir} is not readable by this user (CI runs the tests as root)")
    tables = ["meetings_participant", "tips_post", "feedback_opinion", "notifications_outboxmessage", "core_auditevent"]

    def files():
        db.execute("CHECKPOINT")
        rows = db.execute(
            """
            SELECT pg_relation_filepath(oid) FROM (
                SELECT t.oid FROM pg_class t WHERE t.relname = ANY(%(t)s)
                UNION SELECT t.reltoastrelid FROM pg_class t WHERE t.relname = ANY(%(t)s) AND t.reltoastrelid <> 0
                UNION SELECT i.indexrelid FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid
                      WHERE t.relname = ANY(%(t)s)
            ) AS relations(oid)
            """,
            {"t": tables},
        ).fetchall()
        found = []
        for (relative,) in rows:
            base = data_dir / relative
            found += [p for p in base.parent.glob(base.name + "*") if p.is_file()]
        assert found
        return found

    def look():
        holding = [p for p in files() if canary.encode() in p.read_bytes()]
        print("files holding the canary:", holding)
        return bool(holding)

    try:
        _plant_and_dispose(env, tmp_path, canary, look)
        assert not look()
    finally:
        db.close()
