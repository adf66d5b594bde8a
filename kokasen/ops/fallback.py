"""When the database is down: ops_scan cannot read the audit trail, store alerts or queue
mail, so it tells OPS_ALERT_EMAILS directly over SMTP (decision 0030).

The outage is kept in a small file (``OPS_STATE_DIR/ops_scan_database.json``: since when, how many failed
runs, the last mail), so that the mail is repeated at most every OPS_FALLBACK_REPEAT_MINUTES
and, once the database answers again, the outage becomes an ended alert in the history with
a recovery notice through the outbox (scan.py).
"""

from __future__ import annotations

import json
import logging
import os
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.utils import timezone

from kokasen.notifications import emails

from .health import run_checks
from .mail_kinds import OPS_DATABASE_UNREACHABLE
from .readiness import check_named

logger = logging.getLogger("kokasen.ops")
SMTP_TIMEOUT = 20


def state_file() -> Path:
    return Path(settings.OPS_STATE_DIR) / "ops_scan_database.json"


def database_problem() -> str | None:
    """None when the database answers (/readyz's check, within its timeout), else why not."""
    check = check_named("database")
    [result] = run_checks([check], budget=check.timeout + 0.2)
    return None if result.ok else result.detail


def _load() -> dict | None:
    try:
        return json.loads(state_file().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _save(state: dict) -> None:
    path = state_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(state, ensure_ascii=False), encoding="utf-8")
    os.replace(temporary, path)


def database_down(problem: str, *, now: datetime | None = None) -> bool:
    """Record a failed run; mail OPS_ALERT_EMAILS directly when due. Returns whether it mailed."""
    now = now or timezone.now()
    state = _load() or {"since": now.isoformat(), "failures": 0, "mails": 0, "last_mail": None}
    state["failures"] += 1
    state["last_failure"] = now.isoformat()
    state["error"] = problem[:300]
    last_mail = datetime.fromisoformat(state["last_mail"]) if state.get("last_mail") else None
    due = last_mail is None or now - last_mail >= timedelta(minutes=settings.OPS_FALLBACK_REPEAT_MINUTES)
    mailed = False
    if due:
        recipients = sorted(set(settings.OPS_ALERT_EMAILS))
        if not recipients:
            logger.error("ops_scan: the database is down and OPS_ALERT_EMAILS is empty: nobody can be told")
        else:
            subject, body = emails.render(
                OPS_DATABASE_UNREACHABLE,
                {
                    "time": timezone.localtime(now),
                    "since": timezone.localtime(datetime.fromisoformat(state["since"])),
                    "failures": state["failures"],
                    "error": problem[:300],
                    "repeat_minutes": settings.OPS_FALLBACK_REPEAT_MINUTES,
                },
            )
            try:
                EmailMessage(
                    subject,
                    body,
                    settings.DEFAULT_FROM_EMAIL,
                    bcc=recipients,
                    connection=get_connection(timeout=SMTP_TIMEOUT),
                ).send()
            except OSError as error:  # smtplib's errors are OSErrors
                logger.error("ops_scan: the database is down and the direct mail failed too: %s", error)
            else:
                mailed = True
                state["last_mail"] = now.isoformat()
                state["mails"] += 1
    _save(state)
    return mailed


def pending_outage() -> dict | None:
    """The outage recorded while the database was down, if any (for the next good run)."""
    return _load()


def outage_recorded() -> None:
    state_file().unlink(missing_ok=True)
