"""Every uploaded file is scanned by clamd as Django receives it, before any view or form sees it
(REQUIREMENTS S5; docs/decisions/0028-health-and-antivirus.md, "the upload paths").

Django hands each file part of a request body to the upload handlers of ``FILE_UPLOAD_HANDLERS``
(small files in memory, larger ones in a temporary file). The project's two handlers are Django's
own with one step added: when a file has been received in full, it is streamed to clamd
(``virus_scan.scan_upload``: INSTREAM in 64 KB chunks, from memory or from the temporary file,
never read whole into memory) and

- a clean file goes into ``request.FILES`` as usual, with the result as ``file.virus_scan``;
- any other file (infected, or clamd down, too slow, unable to finish: fail closed) is dropped at
  once (a temporary file is deleted) and ``request.FILES`` holds a :class:`RefusedUpload` in its
  place: a stand-in with the file's name and no bytes at all, so nothing any code does with it can
  store the content. The refusal is logged and recorded in the audit trail
  (``antivirus.upload_refused``, with the signature or the reason and the signature version).

A stand-in refuses to be used: its ``size``, ``read()``, ``chunks()``, ``open()`` … raise
:class:`VirusCheckFailed`, a ``ValidationError`` carrying the Japanese message of
``virus_scan.refusal_message``. Django's ``forms.FileField`` (and every field built on it: Django's
``ImageField``, Wagtail's document and image fields, the model forms of the Django admin) reads
``size`` first when it cleans an upload, so every form, ours or Wagtail's or Django's, shows that
message as the file field's error and saves nothing; no form needs to know about scanning. Code
that takes a file from ``request.FILES`` without a form gets the same exception, which is also a
``BadRequest``: uncaught, it is a 400 page with the message (``core.errors.bad_request``).

Because the check sits where Django receives files, no upload path can forget it: the documents,
images and videos of the Wagtail admin (add, multiple upload, chooser, replace), the Django admin,
Wagtail's profile picture and redirect import, the address-list import, the meetings' roster,
center-list and survey imports, and whatever comes next. kokasen/core/tests/test_upload_paths.py
lists every form and model field that takes a file and fails for one it does not know.
"""

from __future__ import annotations

import logging

from django.core.exceptions import BadRequest, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import MemoryFileUploadHandler, TemporaryFileUploadHandler

from .antivirus import ScanResult
from .virus_scan import refusal_message, scan_upload

logger = logging.getLogger("kokasen.virus_scan")

AUDIT_ACTION = "antivirus.upload_refused"


class VirusCheckFailed(ValidationError, BadRequest):
    """A file the virus check did not pass was used. As a ValidationError it becomes the form
    field's error (Django's file fields let only ValidationError through as a field error); as a
    BadRequest, uncaught in a view, a 400 page with the same message. Not a service's refusal
    (``core.refusals.Refused``, decision 0027): it is an input error, raised before any service
    is asked, like the forms' own ValidationErrors."""

    def __init__(self, upload: RefusedUpload):
        super().__init__(refusal_message(upload.virus_scan), code="virus_scan")
        self.upload = upload


class RefusedUpload(UploadedFile):
    """What ``request.FILES`` holds for a file clamd did not pass: its name, type and field, the
    scan result, and no content. Everything that would give its size or content raises
    VirusCheckFailed."""

    def __init__(
        self, *, name: str, content_type: str | None, field_name: str | None, received_size: int, result: ScanResult
    ):
        # Not UploadedFile.__init__: it would set ``size``, which here refuses.
        self.file = None
        self.name = name  # sanitised by UploadedFile's setter, as for any upload
        self.content_type = content_type
        self.charset = None
        self.content_type_extra = None
        self.field_name = field_name
        self.received_size = received_size  # what was received (and dropped), for logs and the audit
        self.virus_scan = result

    def __repr__(self) -> str:
        return f"<RefusedUpload: {self.name} ({self.virus_scan.status.value})>"

    def refusal(self) -> VirusCheckFailed:
        return VirusCheckFailed(self)

    @property
    def size(self):
        raise self.refusal()

    @property
    def closed(self) -> bool:
        return True

    def close(self) -> None:  # Django closes every uploaded file at the end of the request
        pass

    def _refuse(self, *args, **kwargs):
        raise self.refusal()

    open = read = readline = readlines = chunks = multiple_chunks = seek = tell = _refuse
    temporary_file_path = __iter__ = __enter__ = _refuse


def screen(request, upload: UploadedFile | None, field_name: str | None = None) -> UploadedFile | None:
    """The upload if clamd says it is clean (with ``virus_scan`` set), else a RefusedUpload (the
    received bytes dropped, the refusal audited)."""
    if upload is None:
        return None
    result = scan_upload(upload)
    upload.virus_scan = result
    if result.is_clean:
        return upload
    refused = RefusedUpload(
        name=upload.name,
        content_type=upload.content_type,
        field_name=field_name or getattr(upload, "field_name", None),
        received_size=upload.size,
        result=result,
    )
    upload.close()  # a temporary file is deleted on close
    _audit(request, refused)
    return refused


def _audit(request, refused: RefusedUpload) -> None:
    from .audit import audit_record

    user = getattr(request, "user", None)
    detail = {
        "name": refused.name,
        "field": refused.field_name,
        "size": refused.received_size,
        "path": getattr(request, "path", ""),
        **refused.virus_scan.audit_detail(),
    }
    audit_record(action=AUDIT_ACTION, acting_user=user, target_label=refused.name, detail=detail, request=request)


class ScanningMemoryFileUploadHandler(MemoryFileUploadHandler):
    """Django's handler for small files (up to FILE_UPLOAD_MAX_MEMORY_SIZE), scanning each."""

    def file_complete(self, file_size):
        return screen(self.request, super().file_complete(file_size), self.field_name)


class ScanningTemporaryFileUploadHandler(TemporaryFileUploadHandler):
    """Django's handler for larger files (a temporary file), scanning each by streaming that file."""

    def file_complete(self, file_size):
        return screen(self.request, super().file_complete(file_size), self.field_name)


# settings.FILE_UPLOAD_HANDLERS: Django's two, in Django's order, each with the scan.
HANDLERS = [
    "kokasen.core.upload_scan.ScanningMemoryFileUploadHandler",
    "kokasen.core.upload_scan.ScanningTemporaryFileUploadHandler",
]
