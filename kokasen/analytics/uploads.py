"""Access logs uploaded in the admin (issue 15 item 1; decision 0057): the agency's own web
server's logs, when it hosts the static export, read by the same ingestion as
``ingest_access_logs FILE`` (``ingest.ingest``, an import: read whole, its last line counted;
the same content given again, under any name or gzipped, adds nothing).

The file arrived through the project's upload handlers, so clamd has already checked it
(decision 0028; a refused file never reaches here) and the body gate refused anything over
``ANALYTICS_UPLOAD_MAX_SIZE`` unread (decision 0021). It is copied into a private temporary
folder under a name that says whether it is gzipped (by its first bytes, not its name), read in
this process (no worker processes in a web request), counted, audited and deleted.
"""

from __future__ import annotations

import gzip
import hashlib
import tempfile
import zlib
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from django.conf import settings
from django.db import transaction

from kokasen.accounts import access
from kokasen.core.audit import audit_record

from . import ingest

GZIP_MAGIC = b"\x1f\x8b"
ACTION = "analytics.access_log_imported"
READ_ERRORS = (OSError, EOFError, zlib.error)


class TooLarge(Exception):
    """The file's content (decompressed) is over ANALYTICS_UPLOAD_MAX_CONTENT_SIZE."""

    def __init__(self, limit: int):
        super().__init__(limit)
        self.limit = limit


def _content_over(path: Path, limit: int) -> bool:
    """Whether a gzip file decompresses to more than ``limit`` bytes, found by decompressing at
    most ``limit`` + 1 of them (a gzip bomb stops there; a damaged file counts up to the damage
    and is left to the ingestion, which reports it)."""
    seen = 0
    try:
        with gzip.open(path, "rb") as file:
            while seen <= limit:
                block = file.read(1 << 20)
                if not block:
                    return False
                seen += len(block)
    except READ_ERRORS:
        return False
    return True


@dataclass
class UploadResult:
    filename: str
    size: int
    sha256: str
    compressed: bool
    report: ingest.Report

    @property
    def first_day(self) -> date | None:
        return self.report.days[0] if self.report.days else None

    @property
    def last_day(self) -> date | None:
        return self.report.days[-1] if self.report.days else None

    @property
    def already_read(self) -> bool:
        """Nothing new: the same content was read before (or the file was empty)."""
        return self.report.lines == 0 and not self.report.problems

    @property
    def unreadable(self) -> bool:
        """Not one line could be read: probably not an access log of a format we know."""
        return self.report.lines > 0 and self.report.bad_lines == self.report.lines


def _copy(upload, folder: Path) -> tuple[Path, int, str, bool]:
    """The upload written to ``folder`` (``access.log`` or ``access.log.gz``), with its size,
    SHA-256 and whether it is gzipped."""
    upload.seek(0)
    compressed = upload.read(2) == GZIP_MAGIC
    path = folder / ("access.log.gz" if compressed else "access.log")
    digest = hashlib.sha256()
    size = 0
    with open(path, "wb") as out:
        for chunk in upload.chunks():  # from the start again
            out.write(chunk)
            digest.update(chunk)
            size += len(chunk)
    return path, size, digest.hexdigest(), compressed


def import_upload(upload, *, acting_user, request=None) -> UploadResult:
    """Add the lines of an uploaded access log to the daily counts and audit it. Raises
    ``ingest.Busy`` when another ingestion runs and ``TooLarge`` when a gzip file decompresses
    to more than ANALYTICS_UPLOAD_MAX_CONTENT_SIZE (nothing is counted then)."""
    access.require(acting_user, access.STAFF)
    name = Path(upload.name or "").name[:200]
    with tempfile.TemporaryDirectory(dir=settings.FILE_UPLOAD_TEMP_DIR, prefix="kokasen-access-log-") as folder:
        path, size, sha256, compressed = _copy(upload, Path(folder))
        limit = settings.ANALYTICS_UPLOAD_MAX_CONTENT_SIZE
        if compressed and _content_over(path, limit):
            raise TooLarge(limit)
        # the counts, the log positions and the audit event: one transaction, all or nothing
        with ingest.one_run(), transaction.atomic():
            report = ingest.ingest([path], processes=1)
            report.problems = [problem.replace(str(path), name) for problem in report.problems]
            result = UploadResult(name, size, sha256, compressed, report)
            audit_record(
                action=ACTION,
                acting_user=acting_user,
                target_label=name,
                request=request,
                detail={
                    "size": size,
                    "sha256": sha256,
                    "gzip": compressed,
                    "lines": report.lines,
                    "bad_lines": report.bad_lines,
                    "bot_requests": report.bot_requests,
                    "page_views": report.page_views,
                    "downloads": report.downloads,
                    "from": result.first_day.isoformat() if result.first_day else None,
                    "to": result.last_day.isoformat() if result.last_day else None,
                    "problems": len(report.problems),
                },
            )
    return result


def recent_imports(limit: int = 10):
    """The last uploads (their audit events), newest first."""
    from kokasen.core.models import AuditEvent

    return AuditEvent.objects.filter(action=ACTION).order_by("-created_at")[:limit]
