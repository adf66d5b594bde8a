"""Serving a document that has passed its access checks (the ``before_serve_document`` hook
in wagtail_hooks.py), for every document of the site, and a protected image (original or
rendition) that has passed the same check (views.serve_image). Both go through ``serve_file``.

- HTTP range requests (RFC 9110 §14): one range ``bytes=a-b``, ``a-`` or ``-n`` gives 206
  with Content-Range; a range beyond the file gives 416; several ranges, or a malformed
  header, give the whole file (200), which the RFC allows. ``If-Range`` with an old
  validator also gives the whole file. ``Accept-Ranges: bytes`` always.
- ETag (the file's SHA-1) and Last-Modified, with 304 for conditional requests.
- Content-Type from the extension, ``Content-Disposition`` inline for video and PDF,
  attachment otherwise, with the document's (Japanese) title as an RFC 5987 file name.
- ``X-Content-Type-Options: nosniff`` and ``Content-Security-Policy: default-src 'none'``;
  ``Cache-Control: private`` for a file of a restricted collection.
- With ``PROTECTED_FILES_X_ACCEL_PREFIX`` set (production), an empty response with
  ``X-Accel-Redirect: <prefix>/<path under MEDIA_ROOT>``: nginx sends the bytes, ranges
  included (deploy/nginx/portal.conf).
"""

from __future__ import annotations

import datetime
import re
from urllib.parse import quote

from django.conf import settings
from django.http import FileResponse, HttpResponse, HttpResponseNotAllowed, StreamingHttpResponse
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.http import content_disposition_header, http_date, parse_http_date_safe, quote_etag

from . import images, uploads

INLINE_TYPES = ("application/pdf",)
_RANGE = re.compile(r"^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$", re.IGNORECASE)
CHUNK = 64 * 1024


class Unsatisfiable(Exception):
    pass


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """(first, last) byte positions, inclusive, of a single-range header; None for "send
    the whole file" (no header, several ranges, or a header we do not understand).
    Raises Unsatisfiable for a syntactically valid range that selects no byte."""
    if not header:
        return None
    if "," in header:
        return None
    match = _RANGE.match(header)
    if not match:
        return None
    first, last = match.groups()
    if first == "" and last == "":
        return None
    if first == "":  # suffix: the last n bytes
        length = int(last)
        if length == 0 or size == 0:
            raise Unsatisfiable
        return max(size - length, 0), size - 1
    start = int(first)
    end = int(last) if last else size - 1
    if last and end < start:
        return None  # invalid range-spec: ignore the header
    if start >= size:
        raise Unsatisfiable
    return start, min(end, size - 1)


def content_type(document) -> str:
    ext = uploads.extension_of(document.filename)
    return uploads.CONTENT_TYPES.get(ext) or document.content_type


def is_inline(mime: str) -> bool:
    return mime in INLINE_TYPES or mime.startswith("video/")


def _last_modified(fieldfile, fallback) -> datetime.datetime | None:
    try:
        return fieldfile.storage.get_modified_time(fieldfile.name)
    except (NotImplementedError, OSError):
        return fallback


def _range_file(fileobj, start: int, length: int):
    fileobj.seek(start)
    remaining = length
    try:
        while remaining > 0:
            chunk = fileobj.read(min(CHUNK, remaining))
            if not chunk:
                break
            remaining -= len(chunk)
            yield chunk
    finally:
        fileobj.close()


def serve_document(request, document, *, restricted: bool) -> HttpResponse:
    mime = content_type(document)
    try:
        etag = quote_etag(document.get_file_hash())
    except (OSError, ValueError):
        etag = None
    return serve_file(
        request,
        document.file,
        mime=mime,
        download_name=uploads.download_name(document.title, uploads.extension_of(document.filename)),
        etag=etag,
        modified=_last_modified(document.file, document.created_at),
        restricted=restricted,
    )


def serve_image(request, image, fieldfile, *, restricted: bool) -> HttpResponse:
    """An image's original (``fieldfile`` is ``image.file``) or one of its renditions, inline,
    named after the image's title. The original's ETag is its SHA-1; renditions rely on
    Last-Modified."""
    etag = None
    if fieldfile.name == image.file.name:
        try:
            etag = quote_etag(image.get_file_hash())
        except (OSError, ValueError):
            etag = None
    return serve_file(
        request,
        fieldfile,
        mime=images.content_type(fieldfile.name),
        download_name=uploads.download_name(image.title, uploads.extension_of(fieldfile.name)),
        etag=etag,
        modified=_last_modified(fieldfile, image.created_at),
        restricted=restricted,
        inline=True,
    )


def serve_file(
    request,
    fieldfile,
    *,
    mime: str,
    download_name: str,
    etag: str | None,
    modified: datetime.datetime | None,
    restricted: bool,
    inline: bool | None = None,
) -> HttpResponse:
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    if inline is None:
        inline = is_inline(mime)
    modified_ts = int(modified.timestamp()) if modified else None
    headers = _file_headers(mime, download_name, inline=inline, etag=etag, modified_ts=modified_ts)
    response = get_conditional_response(request, etag=etag, last_modified=modified_ts)
    if response is None:
        response = _file_response(request, fieldfile, mime=mime, etag=etag, modified_ts=modified_ts)
    return _finish(response, headers, restricted=restricted)


def _file_headers(
    mime: str, download_name: str, *, inline: bool, etag: str | None, modified_ts: int | None
) -> dict[str, str]:
    """The headers every answer about the file carries (a 304 or 416 only some: :func:`_finish`)."""
    headers = {
        "Content-Type": mime,
        "Content-Disposition": content_disposition_header(not inline, download_name),
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'",
        "Accept-Ranges": "bytes",
    }
    if etag:
        headers["ETag"] = etag
    if modified_ts is not None:
        headers["Last-Modified"] = http_date(modified_ts)
    return headers


def _file_response(request, fieldfile, *, mime: str, etag: str | None, modified_ts: int | None) -> HttpResponse:
    """nginx's X-Accel-Redirect when it serves the files, else the whole file, the range asked
    for (206), or 416 for a range beyond it."""
    prefix = getattr(settings, "PROTECTED_FILES_X_ACCEL_PREFIX", "")
    if prefix:
        response = HttpResponse(b"", content_type=mime)
        response["X-Accel-Redirect"] = quote(f"{prefix.rstrip('/')}/{fieldfile.name}")
        return response
    size = fieldfile.size
    try:
        byte_range = _requested_range(request, etag, modified_ts, size)
    except Unsatisfiable:
        response = HttpResponse(status=416, content_type="text/plain; charset=utf-8")
        response["Content-Range"] = f"bytes */{size}"
        return response
    fileobj = fieldfile.storage.open(fieldfile.name, "rb")
    if byte_range is None:
        response = FileResponse(fileobj, content_type=mime)
        response["Content-Length"] = str(size)
        return response
    start, end = byte_range
    length = end - start + 1
    response = StreamingHttpResponse(_range_file(fileobj, start, length), status=206, content_type=mime)
    response["Content-Length"] = str(length)
    response["Content-Range"] = f"bytes {start}-{end}/{size}"
    return response


def _requested_range(request, etag: str | None, modified_ts: int | None, size: int) -> tuple[int, int] | None:
    """The byte range to send (:func:`parse_range`) of a GET whose If-Range, if any, names the
    current file; None for the whole file. Raises Unsatisfiable."""
    if request.method == "GET" and _if_range_matches(request.headers.get("If-Range"), etag, modified_ts):
        return parse_range(request.headers.get("Range"), size)
    return None


def _finish(response: HttpResponse, headers: dict[str, str], *, restricted: bool) -> HttpResponse:
    """``response`` with the file's headers (a 304 or 416 only the validators, Accept-Ranges and
    nosniff) and its caching: private for a restricted collection, else public for 5 minutes."""
    validators_only = response.status_code in (304, 416)
    for name, value in headers.items():
        if not validators_only or name in ("ETag", "Last-Modified", "Accept-Ranges", "X-Content-Type-Options"):
            response[name] = value
    if restricted:
        patch_cache_control(response, private=True, no_cache=True)
    else:
        patch_cache_control(response, public=True, max_age=300)
    return response


def _if_range_matches(if_range: str | None, etag: str | None, modified_ts: int | None) -> bool:
    """RFC 9110 §13.1.5: honour Range only if If-Range (when sent) names the current file."""
    if not if_range:
        return True
    if_range = if_range.strip()
    if if_range.startswith(('"', "W/")):
        return bool(etag) and not if_range.startswith("W/") and if_range == etag
    since = parse_http_date_safe(if_range)
    return since is not None and modified_ts is not None and since == modified_ts
