"""Irrecoverable disposal (issue 14; decision 0033).

1. Count what the plan covers (the dry run stops here and changes nothing).
2. In ONE transaction: delete the rows and blank the fields of every step.
3. Make the old row images unrecoverable from the database files:
   * SQLite: ``PRAGMA secure_delete`` is on while deleting (freed cells are zeroed), then
     ``VACUUM`` rewrites the file and ``wal_checkpoint(TRUNCATE)`` empties the WAL.
   * PostgreSQL: ``VACUUM FULL`` of every touched table (a new file for the table, its TOAST
     and its indexes; the old files are unlinked) and ``CHECKPOINT``.
4. Overwrite and remove the covered uploaded files and log files.
5. Ask the backup hook to forget+prune, or destroy the key (backups.py).
6. Record an audit event with counts and hashes only, never personal data.
"""

from __future__ import annotations

import getpass
import hashlib
import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from django.db import connection, transaction
from django.utils import timezone

from kokasen.core.audit import audit_record

from . import backups
from .scopes import BLANK, Plan


@dataclass
class StepResult:
    label: str
    store: str
    action: str
    before: int
    after: int = -1


@dataclass
class Evidence:
    scope: str
    description: str
    operator: str
    started_at: datetime
    dry_run: bool
    steps: list[StepResult] = field(default_factory=list)
    rewritten: list[str] = field(default_factory=list)
    files: list[dict] = field(default_factory=list)
    log_files: list[dict] = field(default_factory=list)
    backup: dict = field(default_factory=dict)
    verification: dict = field(default_factory=dict)
    export: dict | None = None  # the return-before-disposal workbook, when one was written
    finished_at: datetime | None = None


def file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _describe(path: Path) -> dict:
    return {"path": str(path), "size": path.stat().st_size, "sha256": file_digest(path)}


def shred(path: Path) -> None:
    """Overwrite ``path`` with zeros, flush it to disk, then unlink it. (On a copy-on-write file
    system or an SSD the old blocks may survive until reused: docs/security.md.)"""
    size = path.stat().st_size
    with open(path, "r+b") as f:
        remaining = size
        block = b"\0" * (1 << 20)
        while remaining > 0:
            n = min(remaining, len(block))
            f.write(block[:n])
            remaining -= n
        f.flush()
        os.fsync(f.fileno())
    path.unlink()


def dispose(plan: Plan, *, dry_run: bool, operator: str | None = None, now: datetime | None = None) -> Evidence:
    evidence = Evidence(
        scope=plan.scope,
        description=plan.description,
        operator=operator or getpass.getuser(),
        started_at=now or timezone.now(),
        dry_run=dry_run,
    )
    evidence.steps = [StepResult(s.label, s.store, s.action, s.count()) for s in plan.steps]
    evidence.rewritten = plan.tables
    evidence.files = [_describe(p) for p in plan.files]
    evidence.log_files = [_describe(p) for p in plan.log_files]
    if dry_run:
        outcome = backups.dispose_backups(
            backups.BackupRequest(plan.backup_mode, plan.scope, evidence.started_at, dry_run=True)
        )
        evidence.backup = _backup_dict(plan.backup_mode, outcome)
        evidence.finished_at = evidence.started_at
        return evidence
    if connection.in_atomic_block:
        raise RuntimeError("dispose() rewrites the database files and cannot run inside a transaction")

    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA secure_delete = ON")
    apply(plan)
    _rewrite(plan.tables)
    for path in plan.files + plan.log_files:
        shred(path)
    outcome = backups.dispose_backups(
        backups.BackupRequest(plan.backup_mode, plan.scope, evidence.started_at, dry_run=False)
    )
    evidence.backup = _backup_dict(plan.backup_mode, outcome)
    for result, step in zip(evidence.steps, plan.steps, strict=True):
        result.after = step.count()
    remaining_files = [str(p) for p in plan.files + plan.log_files if p.exists()]
    evidence.verification = {
        "rows_left": sum(r.after for r in evidence.steps),
        "files_left": remaining_files,
        "ok": all(r.after == 0 for r in evidence.steps) and not remaining_files,
    }
    evidence.finished_at = timezone.now()
    return evidence


@transaction.atomic
def apply(plan: Plan) -> None:
    """Delete the rows and blank the fields of every step, in one transaction."""
    for step in plan.steps:
        if step.action == BLANK:
            step.queryset.update(**step.values)
        else:
            step.queryset.delete()


def _backup_dict(mode: str, outcome: backups.BackupOutcome) -> dict:
    return {
        "mode": mode,
        "done": outcome.done,
        "summary": outcome.summary,
        "generations_removed": outcome.generations_removed,
        "keys_removed": outcome.keys_removed,
    }


def _rewrite(tables: list[str]) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            cursor.execute("VACUUM")
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        elif connection.vendor == "postgresql":
            quote = connection.ops.quote_name
            for table in tables:
                cursor.execute(f"VACUUM FULL {quote(table)}")
            cursor.execute("CHECKPOINT")
        else:  # pragma: no cover - the portal runs on SQLite or PostgreSQL only
            raise RuntimeError(f"no rewrite for {connection.vendor}")


def record(evidence: Evidence, annex_sha256: str) -> None:
    """The audit event of a disposal: scope, counts and the annex's hash; no personal data."""
    audit_record(
        action="privacy.disposed",
        target_label=evidence.scope,
        detail={
            "scope": evidence.scope,
            "counts": [[r.store, r.action, r.before, r.after] for r in evidence.steps],
            "files": len(evidence.files),
            "log_files": len(evidence.log_files),
            "backup": {"mode": evidence.backup.get("mode"), "done": evidence.backup.get("done")},
            "verified": evidence.verification.get("ok"),
            "annex_sha256": annex_sha256,
        },
    )
