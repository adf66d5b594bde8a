"""When the database is down, ops_scan mails OPS_ALERT_EMAILS directly over SMTP (at most every
OPS_FALLBACK_REPEAT_MINUTES) and exits with status 1; the first good run afterwards records the
outage as an ended alert and mails the recovery through the outbox."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError

from kokasen.notifications.models import OutboxMessage
from kokasen.ops import fallback
from kokasen.ops.models import Alert
from kokasen.testing.smtp import ROOT, RecordingHandler, TLSController, free_port, subprocess_env

NOW = datetime(2026, 12, 7, 3, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def state(settings, tmp_path):
    settings.OPS_STATE_DIR = tmp_path / "state"
    settings.OPS_ALERT_EMAILS = ["ops@contractor.example.jp", "oncall@contractor.example.jp"]
    settings.OPS_FALLBACK_REPEAT_MINUTES = 60


def test_down_mails_directly_and_repeats_at_most_hourly():
    assert fallback.database_down("connection refused", now=NOW) is True
    [message] = mail.outbox
    assert "データベースに接続できません" in message.subject and sorted(message.bcc) == [
        "oncall@contractor.example.jp",
        "ops@contractor.example.jp",
    ]
    assert "connection refused" in message.body and message.to == []
    assert fallback.database_down("connection refused", now=NOW + timedelta(minutes=59)) is False
    assert fallback.database_down("connection refused", now=NOW + timedelta(minutes=60)) is True
    assert len(mail.outbox) == 2 and "3回目の確認" in mail.outbox[1].body
    state = fallback.pending_outage()
    assert (state["failures"], state["mails"], state["since"]) == (3, 2, NOW.isoformat())


def test_down_without_recipients_mails_nobody_and_still_records(settings):
    settings.OPS_ALERT_EMAILS = []
    assert fallback.database_down("timeout", now=NOW) is False
    assert mail.outbox == [] and fallback.pending_outage()["failures"] == 1


@pytest.mark.django_db
def test_the_command_when_the_database_is_down_and_when_it_is_back(monkeypatch):
    monkeypatch.setattr(fallback, "database_problem", lambda: "no answer within 0.8 s")
    with pytest.raises(CommandError, match="データベースに接続できません"):
        call_command("ops_scan", verbosity=0)
    assert len(mail.outbox) == 1
    monkeypatch.undo()
    call_command("ops_scan", verbosity=0)
    alert = Alert.objects.get(rule="database_unreachable")
    assert alert.resolved_at is not None and alert.severity == "critical" and alert.count == 1
    recovery = OutboxMessage.objects.get(kind="ops_recovery")
    assert "データベースに接続できない" in recovery.body and fallback.pending_outage() is None


@pytest.mark.django_db
def test_a_real_outage_a_dead_postgresql_and_a_real_mail_server(smtp_certificate, tmp_path):
    """manage.py ops_scan with DATABASE_URL pointing at a port where nothing listens: the mail
    reaches the SMTP server on loopback, over STARTTLS, and the exit status is 1."""
    import subprocess

    cert, key = smtp_certificate
    handler = RecordingHandler()
    server = TLSController(handler, cert, key)
    server.start()
    try:
        env = subprocess_env(tmp_path / "unused.sqlite3", server.port, cert)
        env.update(
            DATABASE_URL=f"postgres://kokasen@127.0.0.1:{free_port()}/kokasen",
            OPS_ALERT_EMAILS="ops@contractor.example.jp",
            OPS_STATE_DIR=str(tmp_path / "state"),
            OPS_ACCESS_LOGS="off",
        )
        done = subprocess.run(
            [sys.executable, "manage.py", "ops_scan"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 1, done.stderr
        assert "データベースに接続できません" in done.stderr
        [received] = handler.received
        assert received.tls and received.rcpt_tos == ["ops@contractor.example.jp"]
        assert "データベースに接続できません" in received.message["Subject"]
        again = subprocess.run(
            [sys.executable, "manage.py", "ops_scan"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
        )
        assert again.returncode == 1 and len(handler.received) == 1  # not again within the hour
        state = json.loads((tmp_path / "state" / "ops_scan_database.json").read_text())
        assert state["failures"] == 2 and state["mails"] == 1
    finally:
        server.stop()
