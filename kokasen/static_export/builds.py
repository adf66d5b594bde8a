"""Builds of the static export started from the admin (decision 0054).

``request_build`` writes an ``ExportBuild`` row and queues ``tasks.build_static_export`` on
django-tasks' database backend, in one transaction; ``db_worker`` (long-lived,
deploy/systemd/kokasen-static-export.service) takes it and calls ``run_build``, which renders the
site with ``builder.export_site``, writes the ZIP to ``STATIC_EXPORT_ARCHIVE_DIR`` (never under
MEDIA_ROOT) and keeps the newest ``STATIC_EXPORT_KEEP``.

One build at a time: the row's ``active`` column is unique while a build is queued or running,
so the database refuses a second one even from two requests at once. A build whose progress has
not moved for ``STATIC_EXPORT_STALE_MINUTES`` (its worker was killed, the server restarted) is
ended as failed the next time anyone looks, which frees the lock.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import FileResponse, Http404
from django.utils import timezone

from kokasen.accounts import access
from kokasen.core.audit import audit_record
from kokasen.core.refusals import Refused
from kokasen.pages.models import PortalSettings

from . import archive, builder
from .models import ExportBuild, variant_label

log = logging.getLogger(__name__)

ZIPPING = "ZIPファイルにまとめています"
PROGRESS_EVERY_SECONDS = 1.0
ABANDONED = "作成が途中で止まりました（{minutes}分以上、進み具合が変わりませんでした）。もう一度書き出してください。"
UNEXPECTED = (
    "予期しないエラーで作成できませんでした。もう一度書き出しても同じときは、運営事務局の技術担当にお知らせください。"
)


def variants() -> list[tuple[str, str, str]]:
    """Every (structure, design, label) the export supports: 2 structures × 2 designs."""
    return [
        (structure, design, variant_label(structure, design))
        for structure in PortalSettings.Structure.values
        for design in PortalSettings.Design.values
    ]


def archive_dir() -> Path:
    return Path(settings.STATIC_EXPORT_ARCHIVE_DIR)


def archive_path(build: ExportBuild) -> Path | None:
    name = build.zip_file
    if not name or Path(name).name != name:
        return None
    return archive_dir() / name


# --- the lock ------------------------------------------------------------------------------------


def end_stale(now=None) -> int:
    """End, as failed, the builds in progress whose worker has died (no progress for
    STATIC_EXPORT_STALE_MINUTES). Returns how many."""
    now = now or timezone.now()
    ended = 0
    for build in ExportBuild.objects.filter(active=True):
        if not build.is_stale(now):
            continue
        with transaction.atomic():
            updated = ExportBuild.objects.filter(pk=build.pk, active=True, heartbeat_at=build.heartbeat_at).update(
                active=None,
                status=ExportBuild.Status.FAILED,
                finished_at=now,
                error=ABANDONED.format(minutes=settings.STATIC_EXPORT_STALE_MINUTES),
            )
            if updated:
                ended += 1
                audit_record(
                    action="static_export.build_abandoned",
                    target=build,
                    target_label=build.variant_label,
                    detail={"heartbeat_at": build.heartbeat_at.isoformat()},
                )
    return ended


def current_build() -> ExportBuild | None:
    """The build queued or running now, if any (a dead one is ended first)."""
    end_stale()
    return ExportBuild.objects.filter(active=True).select_related("requested_by").first()


def busy_message(build: ExportBuild) -> str:
    who = build.requested_by.get_username() if build.requested_by else "（削除されたアカウント）"
    when = timezone.localtime(build.created_at).strftime("%H時%M分")
    return (
        f"ほかの書き出し（{build.variant_label}、{who} さんが {when}に依頼）が終わっていないため、"
        "新しい書き出しは始められません。終わってから、もう一度ボタンを押してください。"
    )


def request_build(*, user, structure: str, design: str, request=None) -> ExportBuild:
    """Queue a build of this variant. Refused while another build is queued or running."""
    from . import tasks

    access.require(user, access.STAFF)
    if (structure, design) not in {(s, d) for s, d, _ in variants()}:
        raise Refused("書き出す組み合わせ（メニュー構成とデザイン）を選んでください。")
    end_stale()
    try:
        with transaction.atomic():
            build = ExportBuild.objects.create(structure=structure, design=design, requested_by=user)
            audit_record(
                action="static_export.build_requested",
                acting_user=user,
                target=build,
                target_label=build.variant_label,
                detail={"structure": structure, "design": design},
                request=request,
            )
            tasks.build_static_export.enqueue(build.pk)
    except IntegrityError:
        running = current_build()
        if running is None:  # it ended between the two statements: the lock is free again
            raise Refused("ちょうど前の書き出しが終わったところです。もう一度ボタンを押してください。") from None
        raise Refused(busy_message(running)) from None
    return build


# --- running a build (in the worker) ---------------------------------------------------------------


class _Progress:
    """Writes the build's phase and counts, at most once a second (and always at a new phase)."""

    def __init__(self, build_id: int):
        self.build_id = build_id
        self.last = (None, 0.0)

    def __call__(self, phase: str, done: int, total: int):
        now = time.monotonic()
        if phase == self.last[0] and now - self.last[1] < PROGRESS_EVERY_SECONDS and done < total:
            return
        self.last = (phase, now)
        ExportBuild.objects.filter(pk=self.build_id, active=True).update(
            phase=phase, done_count=done, total_count=total, heartbeat_at=timezone.now()
        )


def _stem(build: ExportBuild) -> str:
    stamp = timezone.localtime(build.started_at or timezone.now()).strftime("%Y%m%d-%H%M%S")
    return f"kokasen-site-{build.structure}-{build.design}-{stamp}-{build.pk}"


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_bytes(data)
    os.replace(partial, path)


def run_build(build_id: int) -> str:
    """Build the export of a queued build and store its ZIP (the task's body). Returns the
    build's final status."""
    now = timezone.now()
    taken = ExportBuild.objects.filter(pk=build_id, active=True, status=ExportBuild.Status.QUEUED).update(
        status=ExportBuild.Status.RUNNING, started_at=now, heartbeat_at=now, phase="準備しています"
    )
    if not taken:
        return "skipped"  # ended as stale meanwhile, or already taken
    build = ExportBuild.objects.get(pk=build_id)
    progress = _Progress(build.pk)
    try:
        result = builder.export_site(
            structure=build.structure, design=build.design, jobs=settings.STATIC_EXPORT_JOBS, progress=progress
        )
        progress(ZIPPING, result.pages, result.pages)
        stem = _stem(build)
        data = archive.build_zip(result.files, root=f"{stem}/", mtimes=result.mtimes)
        name = f"{stem}.zip"
        _write_atomically(archive_dir() / name, data)
    except Exception as exc:
        _fail(build, exc)
        if not isinstance(exc, builder.ExportError):
            raise
        return ExportBuild.Status.FAILED
    return _finish(build, name, data, len(result.files))


def _finish(build: ExportBuild, name: str, data: bytes, files: int) -> str:
    with transaction.atomic():
        done = ExportBuild.objects.filter(pk=build.pk, active=True).update(
            active=None,
            status=ExportBuild.Status.DONE,
            finished_at=timezone.now(),
            heartbeat_at=timezone.now(),
            phase="",
            zip_file=name,
            size=len(data),
            files=files,
        )
        if not done:  # ended as stale while it ran: its lock may already be someone else's
            (archive_dir() / name).unlink(missing_ok=True)
            return "skipped"
        audit_record(
            action="static_export.built",
            target=build,
            target_label=build.variant_label,
            detail={"zip": name, "bytes": len(data), "files": files, "sha256": hashlib.sha256(data).hexdigest()},
        )
    prune()
    return ExportBuild.Status.DONE


def _fail(build: ExportBuild, exc: Exception) -> None:
    message = str(exc) if isinstance(exc, builder.ExportError) else UNEXPECTED
    if not isinstance(exc, builder.ExportError):
        log.exception("static export build %s failed", build.pk)
    with transaction.atomic():
        ExportBuild.objects.filter(pk=build.pk, active=True).update(
            active=None, status=ExportBuild.Status.FAILED, finished_at=timezone.now(), error=message
        )
        audit_record(
            action="static_export.build_failed",
            target=build,
            target_label=build.variant_label,
            detail={"error": type(exc).__name__},
        )


def prune(keep: int | None = None) -> list[str]:
    """Delete the ZIPs (and rows) of all but the newest ``keep`` finished builds of each outcome."""
    keep = settings.STATIC_EXPORT_KEEP if keep is None else keep
    removed = []
    for status in (ExportBuild.Status.DONE, ExportBuild.Status.FAILED):
        for build in ExportBuild.objects.filter(status=status, active__isnull=True)[keep:]:
            path = archive_path(build)
            if path is not None:
                path.unlink(missing_ok=True)
                removed.append(build.zip_file)
            build.delete()
    if removed:
        audit_record(action="static_export.pruned", detail={"zips": removed, "kept": keep})
    return removed


# --- the list and downloads --------------------------------------------------------------------


def finished_builds():
    return ExportBuild.objects.filter(active__isnull=True).select_related("requested_by")


def download(*, build: ExportBuild, user, request=None) -> FileResponse:
    """The ZIP of a finished build, for 管理者 and 受託者 (audited)."""
    access.require(user, access.STAFF)
    path = archive_path(build)
    if build.status != ExportBuild.Status.DONE or path is None or not path.is_file():
        raise Http404
    audit_record(
        action="static_export.downloaded",
        acting_user=user,
        target=build,
        target_label=build.variant_label,
        detail={"zip": build.zip_file},
        request=request,
    )
    return FileResponse(path.open("rb"), as_attachment=True, filename=build.zip_file, content_type="application/zip")
