"""The hook through which a disposal reaches the backups (decision 0033).

Backups are restic repositories (issue 13 item 6, settings OPS_BACKUP_*), built elsewhere. A
disposal cannot rewrite a snapshot: the only ways to make disposed data unrecoverable from the
backups are to remove every generation that holds it, or to make the repository unreadable.
This module asks for one of the two and records what was done; the backup code provides the
function, named by the setting ``PRIVACY_BACKUP_DISPOSER`` (a dotted path, resolved here so
that the layers stay as they are: the backup code need not import this app).

The function is called as ``disposer(request: BackupRequest) -> BackupOutcome`` after the
database has been rewritten, and must honour ``request.dry_run`` (say what it would do, change
nothing).

* ``FORGET_PRUNE`` (scoped disposals: one meeting, the contacts, the outbox): the portal keeps
  running and needs its backups, so ``restic forget`` every snapshot taken before
  ``request.before`` and ``restic prune`` (which rewrites the packs that held the removed
  data), then take a fresh backup at once so that a restorable generation exists again.
* ``DESTROY_KEY`` (contract end): everything personal goes and no backup is needed any more.
  Removing the repository's key files and the password (``restic key remove`` for every key,
  then deleting the password file and the repository) makes every copy of the encrypted data
  unreadable, including copies already on other media that a prune could never reach.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.utils.module_loading import import_string

FORGET_PRUNE = "forget-prune"
DESTROY_KEY = "destroy-key"


@dataclass(frozen=True)
class BackupRequest:
    mode: str  # FORGET_PRUNE or DESTROY_KEY
    scope: str
    before: datetime
    dry_run: bool


@dataclass
class BackupOutcome:
    done: bool
    # What was (or, in a dry run, would be) done, in Japanese, for the evidence annex.
    summary: str
    generations_removed: list[str] = field(default_factory=list)
    keys_removed: list[str] = field(default_factory=list)


def dispose_backups(request: BackupRequest) -> BackupOutcome:
    path = getattr(settings, "PRIVACY_BACKUP_DISPOSER", "")
    if not path:
        action = "世代の削除と再圧縮（forget・prune）" if request.mode == FORGET_PRUNE else "暗号鍵の破棄"
        return BackupOutcome(
            done=False,
            summary=f"バックアップの処理は未設定です（PRIVACY_BACKUP_DISPOSER）。必要な処理: {action}",
        )
    return import_string(path)(request)


def restic_disposer(request: BackupRequest) -> BackupOutcome:
    """The disposer for the portal's own restic repository (kokasen.ops.backups, decision 0035).

    FORGET_PRUNE removes every snapshot (all were taken before the disposal) with their data
    and takes a fresh backup at once; DESTROY_KEY removes every snapshot and then overwrites and
    deletes the key. Run as root (or through the backup unit): the key is root's. A failure is
    reported, not raised: the database has already been rewritten, and the annex must say that
    the backups were not handled and why."""
    from kokasen.ops import backups as restic_backups

    try:
        generations = [item["id"] for item in restic_backups.snapshots()]
        if request.dry_run:
            action = (
                "削除して直ちに新しいバックアップを作成" if request.mode == FORGET_PRUNE else "削除して暗号鍵を破棄"
            )
            return BackupOutcome(
                done=False,
                summary=f"バックアップの世代 {len(generations)} 件を{action}します（予行演習のため未実施）。",
                generations_removed=generations,
            )
        restic_backups.forget_all()
        if request.mode == FORGET_PRUNE:
            fresh = restic_backups.backup()
            return BackupOutcome(
                done=True,
                summary=(
                    f"バックアップの世代 {len(generations)} 件を削除し（restic forget --prune）、"
                    f"廃棄後のデータで新しいバックアップ {fresh.get('snapshot_id', '')[:8]} を作成しました。"
                ),
                generations_removed=generations,
            )
        removed = restic_backups.destroy_key()
        return BackupOutcome(
            done=True,
            summary=(
                f"バックアップの世代 {len(generations)} 件を削除し、暗号鍵 {settings.BACKUP_PASSWORD_FILE} を"
                f"{'上書きして削除しました' if removed else '確認しました（既にありません）'}。"
                "サーバー外に保管した鍵の写しは別途破棄し、記録してください。"
            ),
            generations_removed=generations,
            keys_removed=[settings.BACKUP_PASSWORD_FILE] if removed else [],
        )
    except restic_backups.BackupError as error:
        return BackupOutcome(done=False, summary=f"バックアップを処理できませんでした: {error}")
