"""The published static site kept current by publishing (issue 19 item 3, decision 0062).

When ``STATIC_EXPORT_PUBLISH_DIR`` names a folder (the one nginx serves, /srv/kokasen-static),
every page published or unpublished in Wagtail queues ``tasks.update_published_export`` on the
``static_export`` backend (django-tasks-db), from the signal (the worker sees it at the commit,
woken by NOTIFY: wakeup.py). The long-lived
worker (``static_export_worker``, deploy/systemd/kokasen-static-export.service) runs it: an incremental
export into that folder (only the pages whose inputs changed are rendered; the other files stay
on disk unread, the search index keeps every other page's entry). The ZIP of the folder
(``STATIC_EXPORT_PUBLISH_ZIP``) is rebuilt by a second task queued STATIC_EXPORT_PUBLISH_ZIP_DELAY
seconds later, off the publishing path.

Coalesced: a task is queued only if none of its kind is still waiting, so 50 pages published in
a row queue one update (plus one more if a publish comes while the update runs) and one ZIP. A
waiting update exports whatever is live when it runs, so nothing is lost by not queueing twice.
"""

from __future__ import annotations

import os
import time
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from . import archive, builder
from .incremental import read_manifest


def publish_dir() -> Path | None:
    folder = settings.STATIC_EXPORT_PUBLISH_DIR
    return Path(folder) if folder else None


def zip_path() -> Path:
    return Path(settings.STATIC_EXPORT_PUBLISH_ZIP)


def enqueue_once(task, *, delay_seconds: float = 0):
    """Queue ``task`` unless one of its kind is still waiting (not yet taken by the worker).
    Returns the new task result, or None when one was waiting already."""
    waiting = DBTaskResult.objects.filter(
        status="READY", task_path=task.module_path, backend_name=task.backend, queue_name=task.queue_name
    )
    if waiting.exists():
        return None
    if delay_seconds:
        task = task.using(run_after=timezone.now() + timedelta(seconds=delay_seconds))
    return task.enqueue()


def page_changed(**_ignored) -> None:
    """Receiver of Wagtail's page_published and page_unpublished: the published folder is
    brought up to date by the worker once this transaction has committed.

    The task's row is written by the signal itself (not in an on-commit step): inside a
    transaction it becomes visible, and its NOTIFY wakes the worker (wakeup.py), with the commit,
    and a publish that rolls back queues nothing; Wagtail's admin publishes in autocommit, where
    it is queued at once."""
    if publish_dir() is None:
        return
    from . import tasks

    enqueue_once(tasks.update_published_export)


def update() -> dict:
    """The update task's body: an incremental export into the published folder, then the ZIP
    queued for later."""
    from . import tasks

    folder = publish_dir()
    if folder is None:
        return {"skipped": "STATIC_EXPORT_PUBLISH_DIR is off"}
    started = time.monotonic()
    result = builder.export_site(out_dir=folder, incremental=True, read_reused=False)
    enqueue_once(tasks.zip_published_export, delay_seconds=settings.STATIC_EXPORT_PUBLISH_ZIP_DELAY)
    return {
        "rendered": result.pages,
        "routes": result.routes,
        "written": sorted(result.files)[:20],
        "seconds": round(time.monotonic() - started, 3),
    }


def write_zip() -> dict:
    """The ZIP task's body: the published folder as its marker lists it, each entry with the
    time its content last changed (the same bytes as the command's --zip for the same files)."""
    folder = publish_dir()
    if folder is None:
        return {"skipped": "STATIC_EXPORT_PUBLISH_DIR is off"}
    manifest = read_manifest(folder, builder.MARKER_FILE)
    if manifest is None:
        return {"skipped": "no export in the folder yet"}
    started = time.monotonic()
    files = {name: (folder / name).read_bytes() for name in manifest["files"]}
    mtimes = {name: datetime.fromisoformat(value) for name, value in manifest.get("mtimes", {}).items()}
    data = archive.build_zip(files, mtimes=mtimes)
    target = zip_path()
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    partial.write_bytes(data)
    os.replace(partial, target)
    return {"files": len(files), "bytes": len(data), "seconds": round(time.monotonic() - started, 3)}
