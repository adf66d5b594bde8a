"""The state checks of ops_scan: each asks how something is now, and its alert ends as soon as
the answer is good again (decision 0030).

| rule | key | red when |
|---|---|---|
| export_tampered | the export folder | a file differs from the hash the export wrote, or was added or removed; or the list of hashes differs from the digest in the audit trail |
| certificate_expiry | the certificate file | it expires within OPS_CERTIFICATE_WARNING_DAYS (warning) or _CRITICAL_DAYS (critical), or cannot be read |
| backup_overdue | the backup record | the last good backup is older than OPS_BACKUP_MAX_AGE_HOURS, or none is recorded |
| backup_drill | the drill record | the last restore drill failed (critical), or the last one is older than OPS_BACKUP_DRILL_MAX_AGE_DAYS, or none is recorded (warning) |
| virus_signatures | clamd | clamd does not answer (critical), or its signatures are older than CLAMD_SIGNATURES_MAX_AGE_HOURS (/readyz's check) |
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings

from kokasen.core import file_hashes
from kokasen.core.models import AuditEvent

from . import certificates
from .detection import CRITICAL, WARNING, Finding
from .health import run_checks
from .readiness import check_named


@dataclass
class StateResult:
    rule: str
    key: str
    finding: Finding | None  # None: all is well (an open alert of this rule and key ends)


def _found(rule, key, severity, summary, now, evidence) -> StateResult:
    return StateResult(rule, key, Finding(rule, key, severity, 1, now, now, summary, evidence))


def static_export(folder: str, now: datetime) -> list[StateResult]:
    if not folder:
        return []
    root = Path(folder)
    key = str(root)
    if not root.is_dir():
        return []  # not published yet
    marker = root / file_hashes.EXPORT_MARKER
    try:
        manifest = json.loads(marker.read_text(encoding="utf-8"))
        hashes = manifest[file_hashes.HASHES_KEY]
        if not isinstance(hashes, dict):
            raise TypeError
    except FileNotFoundError:
        return [
            _found(
                "export_tampered",
                key,
                CRITICAL,
                f"静的サイト {key} に書き出し時の記録（{file_hashes.EXPORT_MARKER}）がありません",
                now,
                {"folder": key, "problem": "marker missing"},
            )
        ]
    except (OSError, ValueError, KeyError, TypeError):
        return [
            _found(
                "export_tampered",
                key,
                WARNING,
                f"静的サイト {key} の書き出し時の記録にハッシュがありません（書き出し直してください）",
                now,
                {"folder": key, "problem": "no hashes in the marker"},
            )
        ]
    evidence = {"folder": key, "files": len(hashes)}
    recorded = (
        AuditEvent.objects.filter(action="static_export.written", detail__out_dir=str(root.resolve()))
        .order_by("-created_at", "-pk")
        .values_list("detail", "created_at")
        .first()
    )
    digest = file_hashes.manifest_digest(hashes)
    if recorded is not None and recorded[0].get("sha256_digest") != digest:
        evidence.update(problem="hash list rewritten", exported_at=recorded[1].isoformat())
        return [
            _found(
                "export_tampered",
                key,
                CRITICAL,
                f"静的サイト {key} のハッシュの記録が、書き出し時（監査ログ）と一致しません",
                now,
                evidence,
            )
        ]
    differences = file_hashes.tree_differences(root, hashes)
    if not differences:
        return [StateResult("export_tampered", key, None)]
    evidence.update(
        changed=differences.changed[:50],
        added=differences.added[:50],
        missing=differences.missing[:50],
        changed_count=len(differences.changed),
        added_count=len(differences.added),
        missing_count=len(differences.missing),
    )
    parts = [
        f"{label} {len(names)} 件"
        for label, names in (("変更", differences.changed), ("追加", differences.added), ("削除", differences.missing))
        if names
    ]
    return [
        _found(
            "export_tampered",
            key,
            CRITICAL,
            f"静的サイト {key} のファイルが書き出し時と異なります（{'、'.join(parts)}）",
            now,
            evidence,
        )
    ]


def certificate(path: str, now: datetime) -> list[StateResult]:
    if not path:
        return []
    try:
        expires = certificates.not_after(path)
    except (OSError, certificates.CertificateUnreadable) as error:
        return [
            _found(
                "certificate_expiry",
                path,
                WARNING,
                f"TLS 証明書 {path} を読めません（{error}）",
                now,
                {"path": path, "problem": str(error)[:200]},
            )
        ]
    days = (expires - now).total_seconds() / 86400
    evidence = {"path": path, "not_after": expires.isoformat(), "days_left": round(days, 1)}
    if days <= settings.OPS_CERTIFICATE_CRITICAL_DAYS:
        severity = CRITICAL
    elif days <= settings.OPS_CERTIFICATE_WARNING_DAYS:
        severity = WARNING
    else:
        return [StateResult("certificate_expiry", path, None)]
    summary = (
        f"TLS 証明書の期限が切れています（{expires:%Y-%m-%d}）"
        if days <= 0
        else f"TLS 証明書の期限まであと {int(days)} 日（{expires:%Y-%m-%d %H:%M} UTC）"
    )
    return [_found("certificate_expiry", path, severity, summary, now, evidence)]


def backup(path: str, now: datetime) -> list[StateResult]:
    """The backup job writes ``path`` after each good backup: JSON with ``finished_at``
    (ISO 8601 with a zone), or any file whose modification time is then the time."""
    if not path:
        return []
    limit = timedelta(hours=settings.OPS_BACKUP_MAX_AGE_HOURS)
    record = Path(path)
    try:
        text = record.read_text(encoding="utf-8")
        stat = record.stat()
    except FileNotFoundError:
        return [
            _found(
                "backup_overdue",
                path,
                WARNING,
                "バックアップの記録がありません（まだ一度も成功していないか、記録の場所が違います）",
                now,
                {"path": path, "problem": "no record"},
            )
        ]
    except OSError as error:
        return [
            _found(
                "backup_overdue",
                path,
                WARNING,
                f"バックアップの記録 {path} を読めません",
                now,
                {"path": path, "problem": str(error)[:200]},
            )
        ]
    finished = None
    try:
        value = json.loads(text).get("finished_at")
        finished = datetime.fromisoformat(value) if value else None
        if finished is not None and finished.tzinfo is None:
            finished = None
    except (ValueError, AttributeError, TypeError):
        finished = None
    if finished is None:
        finished = datetime.fromtimestamp(stat.st_mtime, tz=now.tzinfo)
    age = now - finished
    evidence = {
        "path": path,
        "finished_at": finished.isoformat(),
        "age_hours": round(age.total_seconds() / 3600, 1),
        "max_age_hours": settings.OPS_BACKUP_MAX_AGE_HOURS,
    }
    if age <= limit:
        return [StateResult("backup_overdue", path, None)]
    severity = CRITICAL if age > 3 * limit else WARNING
    return [
        _found(
            "backup_overdue",
            path,
            severity,
            f"最後のバックアップから {age.total_seconds() / 3600:.0f} 時間経っています（上限 {settings.OPS_BACKUP_MAX_AGE_HOURS} 時間）",
            now,
            evidence,
        )
    ]


def backup_drill(path: str, now: datetime) -> list[StateResult]:
    """The weekly restore drill writes ``path`` (BACKUP_DRILL_STATUS_FILE) after each run, passed
    or not (backups.restore_drill): JSON with ``ok``, ``finished_at`` and the error or the
    number of differences."""
    if not path:
        return []
    limit = timedelta(days=settings.OPS_BACKUP_DRILL_MAX_AGE_DAYS)

    def found(severity, summary, **evidence):
        return [_found("backup_drill", path, severity, summary, now, {"path": path, **evidence})]

    try:
        record = json.loads(Path(path).read_text(encoding="utf-8"))
        finished = datetime.fromisoformat(record.get("finished_at") or record["started_at"])
        if finished.tzinfo is None:
            raise ValueError("no time zone")
    except FileNotFoundError:
        return found(
            WARNING,
            "復元訓練の記録がありません（まだ一度も実行されていないか、記録の場所が違います）",
            problem="no record",
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        return found(WARNING, f"復元訓練の記録 {path} を読めません", problem=str(error)[:200])
    age = now - finished
    evidence = {
        "finished_at": finished.isoformat(),
        "age_days": round(age.total_seconds() / 86400, 1),
        "max_age_days": settings.OPS_BACKUP_DRILL_MAX_AGE_DAYS,
        "ok": record.get("ok") is True,
    }
    if record.get("ok") is not True:
        reason = record.get("error") or f"{record.get('difference_count', '?')} 件の不一致"
        return found(
            CRITICAL,
            f"バックアップの復元訓練が失敗しました（{finished:%Y-%m-%d %H:%M} UTC）：{str(reason)[:200]}",
            **evidence,
            snapshot=str(record.get("snapshot", ""))[:16],
        )
    if age > limit:
        return found(
            WARNING,
            f"最後の復元訓練から {age.days} 日経っています（上限 {settings.OPS_BACKUP_DRILL_MAX_AGE_DAYS} 日）",
            **evidence,
        )
    return [StateResult("backup_drill", path, None)]


def virus_signatures(now: datetime) -> list[StateResult]:
    """/readyz's antivirus check (ops.readiness), within its timeout."""
    check = check_named("antivirus")
    [result] = run_checks([check], budget=check.timeout + 0.2)
    if result.ok:
        return [StateResult("virus_signatures", "clamd", None)] if "no virus scanner" not in result.detail else []
    stale = "signatures are" in result.detail or "no dated signature" in result.detail
    severity = WARNING if stale else CRITICAL
    summary = (
        "ウイルス定義ファイルが更新されていません（freshclam を確認してください）"
        if stale
        else "ウイルス検査（clamd）が応答しません：アップロードは受け付けられません"
    )
    return [
        _found(
            "virus_signatures",
            "clamd",
            severity,
            summary,
            now,
            {"detail": result.detail[:300], **{k: v for k, v in result.values.items() if k != "timeout"}},
        )
    ]


def all_checks(now: datetime) -> list[StateResult]:
    return (
        static_export(settings.OPS_STATIC_EXPORT_DIR, now)
        + certificate(settings.OPS_TLS_CERTIFICATE, now)
        + backup(settings.OPS_BACKUP_STATUS_FILE, now)
        + backup_drill(settings.BACKUP_DRILL_STATUS_FILE, now)
        + virus_signatures(now)
    )
