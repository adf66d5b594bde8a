"""The upload handlers scan every file as Django receives it (kokasen/core/upload_scan.py), against a
real clamd (kokasen/testing/clamd.py). The upload paths themselves: test_upload_paths.py.

A view of this module's own URLconf takes files straight from ``request.FILES``, without a form,
and reports what it got and what the temporary folder held while it ran."""

from __future__ import annotations

import hashlib
import io
import re
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import BadRequest, ValidationError
from django.http import JsonResponse
from django.test import Client
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from kokasen.core import upload_scan
from kokasen.core.antivirus import Reason, ScanResult, Status
from kokasen.core.errors import bad_request
from kokasen.core.models import AuditEvent
from kokasen.core.virus_scan import MESSAGES
from kokasen.testing.clamd import TEST_SIGNATURE_NAME, TEST_SIGNATURE_TEXT

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]

MB = 1024 * 1024
ROOT = Path(__file__).resolve().parents[3]


@csrf_exempt
def describe(request):
    """Every file of the request: its class, name, scan result and what reading it gave; and the
    temporary folder's files while the view runs."""
    seen = {}
    for field, upload in request.FILES.items():
        entry = {"class": type(upload).__name__, "name": upload.name, "scan": upload.virus_scan.status.value}
        if not isinstance(upload, upload_scan.RefusedUpload):
            entry["sha"] = sha(upload.read())
        seen[field] = entry
    temporary = sorted(p.name for p in Path(django_settings.FILE_UPLOAD_TEMP_DIR or "/nonexistent").glob("*"))
    return JsonResponse({"files": seen, "temporary": temporary})


@csrf_exempt
def careless(request):
    """Takes the file without a form (as no view here does): a refused one raises."""
    data = request.FILES["file"].read()
    return JsonResponse({"bytes": len(data)})


urlpatterns = [path("describe/", describe), path("careless/", careless)]
handler400 = "kokasen.core.errors.bad_request"


@pytest.fixture
def scanning(settings, clamd_server, tmp_path):
    settings.CLAMD_ADDRESS, settings.VIRUS_SCAN_REQUIRED = clamd_server.socket_path, True
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path)
    return tmp_path


def upload(name: str, data: bytes):
    file = io.BytesIO(data)
    file.name = name
    return file


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- the stand-in of a refused file ---------------------------------------------------------------


def refused(result=None):
    return upload_scan.RefusedUpload(
        name="../../名簿.xlsx",
        content_type="application/octet-stream",
        field_name="file",
        received_size=1234,
        result=result or ScanResult.infected(TEST_SIGNATURE_NAME),
    )


def test_a_refused_upload_has_no_content_and_refuses_every_use():
    stand_in = refused()
    assert stand_in.name == "名簿.xlsx" and bool(stand_in)  # the name sanitised as any upload's
    assert repr(stand_in) == "<RefusedUpload: 名簿.xlsx (infected)>"
    message = MESSAGES[Status.INFECTED].format(signature=TEST_SIGNATURE_NAME)
    for use in (
        lambda f: f.size,
        lambda f: f.read(),
        lambda f: f.read(10),
        lambda f: list(f.chunks()),
        lambda f: f.open(),
        lambda f: iter(f),
        lambda f: f.seek(0),
        lambda f: f.multiple_chunks(),
        lambda f: len(f),
        lambda f: f.temporary_file_path(),
    ):
        with pytest.raises(upload_scan.VirusCheckFailed) as raised:
            use(stand_in)
        error = raised.value
        assert isinstance(error, ValidationError) and isinstance(error, BadRequest)
        assert error.message == message
    stand_in.close()  # Django closes every upload at the end of a request: nothing to close
    assert stand_in.closed


def test_forms_show_the_refusal_as_the_file_fields_error():
    from django import forms

    class Form(forms.Form):
        file = forms.FileField()
        picture = forms.ImageField(required=False)

    unchecked = ScanResult.unavailable(Reason.CONNECTION, "no socket")
    form = Form({}, {"file": refused(), "picture": refused(unchecked)})
    assert not form.is_valid()
    assert form.errors["file"] == [
        f"このファイルからウイルス（{TEST_SIGNATURE_NAME}）が見つかったため、受け付けませんでした。"
        "ファイルは保存していません。送信元に確認してください。"
    ]
    assert form.errors["picture"] == [MESSAGES[None]]


def test_the_400_page_of_an_uncaught_refusal_says_why(rf):
    response = bad_request(rf.get("/"), upload_scan.VirusCheckFailed(refused()))
    text = response.content.decode()
    assert response.status_code == 400 and "ファイルを受け付けませんでした" in text
    assert f"ウイルス（{TEST_SIGNATURE_NAME}）が見つかったため" in text


# --- the handlers, through Django's request handling ------------------------------------------------------


def test_a_clean_file_reaches_the_view_as_sent_and_scanned(scanning):
    data = b"%PDF-1.4\n" + b"clean " * 1000
    answer = Client().post("/describe/", {"file": upload("資料.pdf", data)}).json()
    assert answer["files"]["file"] == {
        "class": "InMemoryUploadedFile",
        "name": "資料.pdf",
        "scan": "clean",
        "sha": sha(data),
    }


def test_an_infected_file_never_reaches_the_view_and_is_audited(scanning, django_user_model):
    data = b"x" * 5000 + TEST_SIGNATURE_TEXT
    clean = b"%PDF-1.4 clean"
    answer = Client().post("/describe/", {"file": upload("名簿.csv", data), "other": upload("資料.pdf", clean)}).json()
    assert answer["files"]["file"] == {"class": "RefusedUpload", "name": "名簿.csv", "scan": "infected"}
    assert answer["files"]["other"]["scan"] == "clean"  # each file of a request on its own
    [event] = AuditEvent.objects.filter(action="antivirus.upload_refused")
    assert event.actor is None and event.target_label == "名簿.csv"  # an anonymous request here
    assert event.detail == {
        **event.detail,
        "name": "名簿.csv",
        "field": "file",
        "size": len(data),
        "path": "/describe/",
        "result": "infected",
        "signature": TEST_SIGNATURE_NAME,
        "signature_version": 1,
    }


def test_large_files_are_streamed_from_their_temporary_file_which_a_refusal_deletes(scanning, settings):
    """Above FILE_UPLOAD_MAX_MEMORY_SIZE Django writes the file to a temporary file; clamd gets it
    from there in chunks. A clean one is still there while the view runs; a refused one is gone
    before the view runs, and so is its content."""
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = MB
    clean = bytes(range(256)) * (8 * MB // 256)  # 8 MB (bodies outside the admins: 10 MB), 128 chunks of 64 KB
    answer = Client().post("/describe/", {"file": upload("座談会.webm", clean)}).json()
    assert answer["files"]["file"] == {
        "class": "TemporaryUploadedFile",
        "name": "座談会.webm",
        "scan": "clean",
        "sha": sha(clean),
    }
    assert len(answer["temporary"]) == 1 and answer["temporary"][0].endswith(".upload.webm")
    infected = clean + TEST_SIGNATURE_TEXT  # at the very end: found only if all was streamed
    answer = Client().post("/describe/", {"file": upload("座談会.webm", infected)}).json()
    assert answer["files"]["file"]["class"] == "RefusedUpload"
    assert answer["temporary"] == [], "the received file was deleted before the view ran"
    assert list(scanning.iterdir()) == []


def test_a_view_that_uses_a_refused_file_without_a_form_answers_400_with_the_message(scanning):
    response = Client().post("/careless/", {"file": upload("資料.pdf", b"%PDF " + TEST_SIGNATURE_TEXT)})
    assert response.status_code == 400
    assert f"ウイルス（{TEST_SIGNATURE_NAME}）が見つかったため" in response.content.decode()
    assert Client().post("/careless/", {"file": upload("資料.pdf", b"%PDF clean")}).json() == {"bytes": 10}


def test_clamd_down_refuses_every_file_as_unchecked(scanning, settings, tmp_path):
    settings.CLAMD_ADDRESS = str(tmp_path / "stopped.sock")
    answer = Client().post("/describe/", {"file": upload("資料.pdf", b"%PDF clean")}).json()
    assert answer["files"]["file"] == {"class": "RefusedUpload", "name": "資料.pdf", "scan": "unavailable"}
    [event] = AuditEvent.objects.filter(action="antivirus.upload_refused")
    assert (event.detail["result"], event.detail["reason"]) == ("unavailable", "connection")


def test_without_a_scanner_files_pass_only_where_scanning_is_not_required(settings):
    settings.CLAMD_ADDRESS = ""
    settings.VIRUS_SCAN_REQUIRED = False  # the development and test settings
    answer = Client().post("/describe/", {"file": upload("資料.pdf", b"%PDF " + TEST_SIGNATURE_TEXT)}).json()
    assert answer["files"]["file"]["scan"] == "clean"
    settings.VIRUS_SCAN_REQUIRED = True  # production: an empty address refuses every file
    answer = Client().post("/describe/", {"file": upload("資料.pdf", b"%PDF clean")}).json()
    assert answer["files"]["file"] == {"class": "RefusedUpload", "name": "資料.pdf", "scan": "unavailable"}
    assert AuditEvent.objects.get(action="antivirus.upload_refused").detail["reason"] == "not_configured"


# --- the size limits agree: the app, nginx, clamd -----------------------------------------------------------


def _clamd_size(name: str) -> int:
    text = (ROOT / "deploy" / "clamav" / "clamd.conf").read_text()
    value = re.search(rf"^{name} (\d+)([MG]?)$", text, re.MULTILINE)
    return int(value.group(1)) * {"": 1, "M": MB, "G": 1024 * MB}[value.group(2)]


# libclamav's own ceiling for one file: clamd logs "File size limit set to 2147483645 bytes" for
# any larger MaxFileSize (and "scanning files greater than 2147483647 bytes (2 GiB - 1) is not
# supported"); checked against the real clamd below.
LIBCLAMAV_MAX_FILE = 2**31 - 3


def test_every_upload_the_app_takes_can_be_scanned_to_the_end():
    from kokasen.settings import base

    largest_file = max(base.VIDEO_MAX_UPLOAD_SIZE, base.DOCUMENT_MAX_UPLOAD_SIZE, base.WAGTAILIMAGES_MAX_UPLOAD_SIZE)
    largest_body = largest_file + base.UPLOAD_BODY_MARGIN  # what the app and nginx let in
    assert largest_file == 2000 * MB
    # Scanned before the forms check sizes: a file as large as the body still goes to clamd whole.
    assert largest_body <= _clamd_size("StreamMaxLength") <= LIBCLAMAV_MAX_FILE
    assert largest_body <= _clamd_size("MaxFileSize") <= LIBCLAMAV_MAX_FILE
    assert _clamd_size("MaxScanSize") >= largest_body
    nginx = (ROOT / "deploy" / "nginx" / "portal.conf").read_text()
    documents = nginx.split("location /admin/documents/ {", 1)[1].split("proxy_pass", 1)[0]
    assert re.search(r"client_max_body_size (\d+)m;", documents).group(1) == str(largest_body // MB)
    assert largest_body % MB == 0


def test_clamd_takes_the_deployed_limits_as_they_are(clamd_server):
    """The real clamd, started with deploy/clamav/clamd.conf: no limit cut down."""
    log = "".join((clamd_server.folder / name).read_text(errors="replace") for name in ("clamd.log", "clamd.stderr"))
    assert f"File size limit set to {_clamd_size('MaxFileSize')} bytes." in log
    assert f"Global size limit set to {_clamd_size('MaxScanSize')} bytes." in log
    assert "is not supported" not in log
