"""Uploads are checked by content and size and stored under safe names (issue 3 point 5).

Unit tests of kokasen.members.uploads, then the real Wagtail admin upload screens
(single and multiple) used by an agency admin who passed the TOTP step."""

import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from wagtail.documents import get_document_model
from wagtail.models import Collection

from kokasen.accounts import roles
from kokasen.demo.members import VIDEO_FILE, _xlsx
from kokasen.demo.sample_pdfs import read_pdf
from kokasen.members import uploads
from kokasen.testing import login_staff, make_staff

PDF = read_pdf("support-plan-example.pdf")  # any valid PDF: a committed demo sample
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48 + b"PE\x00\x00" + b"\x00" * 400
HTML = b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"
LIMITS = uploads.Limits(document=50 * 1024 * 1024, video=2000 * 1024 * 1024)
ALLOWED = {"pdf", "docx", "xlsx", "pptx", "csv", "txt", "zip", "mp4", "webm"}
SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*\.[a-z0-9]+$")


def problems(name, data, limits=LIMITS):
    return uploads.check_upload(name, len(data), io.BytesIO(data), limits, ALLOWED)


# --------------------------------------------------------------------------- unit


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("資料.pdf", PDF),
        ("様式.xlsx", _xlsx("様式")),
        ("動画.webm", VIDEO_FILE.read_bytes()),
        ("一覧.csv", "団体コード,団体名\n011002,札幌市\n".encode()),
        ("一覧.csv", "\ufeff団体コード,団体名\n".encode()),
        ("一覧.csv", "団体コード,団体名\n011002,札幌市\n".encode("cp932")),
        ("メモ.TXT", "テキストです。".encode()),
    ],
)
def test_accepted(name, data):
    assert problems(name, data) == []


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("invoice.pdf", EXE, "中身は「exe」形式です"),
        ("資料.pdf", HTML, "中身がこの形式ではありません"),
        ("page.html", HTML, "この形式のファイルは登録できません"),
        ("image.svg", b"<svg/>", "この形式のファイルは登録できません"),
        ("noextension", PDF, "この形式のファイルは登録できません"),
        (".pdf", PDF, "この形式のファイルは登録できません"),
        ("様式.xlsx", PDF, "中身は「pdf」形式です"),
        ("動画.mp4", VIDEO_FILE.read_bytes(), "中身は「webm」形式です"),
        ("一覧.csv", HTML, "HTML や SVG"),
        ("一覧.csv", b"a,b\x00c\n", "文字データ"),
        ("メモ.txt", PDF, "中身は「pdf」形式です"),
        ("空.pdf", b"", "ファイルが空です"),
    ],
)
def test_refused(name, data, message):
    found = problems(name, data)
    assert found and message in found[0], found


def test_size_limits_per_kind():
    small = uploads.Limits(document=1000, video=100_000)
    assert "動画以外のファイルは" in problems("資料.pdf", PDF, small)[0]
    assert problems("動画.webm", VIDEO_FILE.read_bytes(), small) == []
    tiny = uploads.Limits(document=1000, video=1000)
    assert "動画は" in problems("動画.webm", VIDEO_FILE.read_bytes(), tiny)[0]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Support Plan.xlsx", "Support-Plan-t0k3n.xlsx"),
        ("第1回 配布資料.pdf", "file-t0k3n.pdf"),
        ("../../etc/passwd.pdf", "passwd-t0k3n.pdf"),
        ("..\\..\\windows\\evil.pdf", "evil-t0k3n.pdf"),
        (".htaccess.txt", "htaccess-t0k3n.txt"),
        ("report\u202efdp.exe.pdf", "reportfdp-exe-t0k3n.pdf"),  # bidi override dropped
        ("ｒｅｐｏｒｔ２０２５.PDF", "report2025-t0k3n.pdf"),  # full width folded (NFKC)
        ("a\x00b\x1fc\u200b.csv", "abc-t0k3n.csv"),
        ("x" * 300 + ".pdf", "x" * 40 + "-t0k3n.pdf"),
    ],
)
def test_safe_storage_name(name, expected):
    assert uploads.safe_storage_name(name, token="t0k3n") == expected


def test_safe_storage_names_are_unguessable():
    names = {uploads.safe_storage_name("配布資料.pdf") for _ in range(20)}
    assert len(names) == 20 and all(SAFE_NAME.match(n) for n in names)


def test_download_name_keeps_the_japanese_title():
    assert uploads.download_name("第1回 配布資料（サンプル）", "pdf") == "第1回 配布資料（サンプル）.pdf"
    assert uploads.download_name("../秘密\u202e/資料:1", "pdf") == "秘密 資料 1.pdf"
    assert uploads.download_name("", "xlsx") == "file.xlsx"
    assert uploads.download_name("様式.xlsx", "xlsx") == "様式.xlsx"


# --------------------------------------------------------------------------- admin screens


@pytest.fixture
def admin_client(client, db):
    login_staff(client, make_staff(roles.AGENCY_ADMIN))
    return client


def upload_single(client, name, data, title="会員向け資料（テスト）"):
    collection = Collection.get_first_root_node()
    return client.post(
        reverse("wagtaildocs:add"),
        {"title": title, "file": SimpleUploadedFile(name, data), "collection": collection.pk, "tags": ""},
    )


def test_the_admin_stores_a_pdf_under_a_safe_name_and_keeps_the_japanese_title(admin_client):
    response = upload_single(admin_client, "../../第1回\u202e 配布資料.pdf", PDF, title="第1回 配布資料")
    assert response.status_code == 302, response.content.decode()[:2000]
    document = get_document_model().objects.get(title="第1回 配布資料")
    stored = document.file.name
    assert stored.startswith("documents/") and SAFE_NAME.match(stored.removeprefix("documents/")), stored
    assert "\u202e" not in stored and ".." not in stored
    assert document.file_size == len(PDF) and document.file_hash


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("setup.pdf", EXE, "中身は「exe」形式です"),
        ("資料.pdf", HTML, "中身がこの形式ではありません"),
        ("page.html", HTML, "この形式のファイルは登録できません"),
    ],
)
def test_the_admin_refuses_disguised_files_and_saves_nothing(admin_client, name, data, message):
    before = get_document_model().objects.count()
    response = upload_single(admin_client, name, data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert get_document_model().objects.count() == before


def test_the_admin_refuses_an_oversize_file(admin_client, settings):
    settings.DOCUMENT_MAX_UPLOAD_SIZE = 2000
    before = get_document_model().objects.count()
    response = upload_single(admin_client, "大きな資料.pdf", PDF + b"\n" + b"%" * 3000)
    assert response.status_code == 200
    assert "ファイルが大きすぎます" in response.content.decode()
    assert get_document_model().objects.count() == before


def test_the_admin_accepts_a_video(admin_client):
    response = upload_single(admin_client, "座談会 録画.webm", VIDEO_FILE.read_bytes(), title="座談会の録画")
    assert response.status_code == 302
    assert get_document_model().objects.get(title="座談会の録画").file.name.endswith(".webm")


def test_the_multiple_uploader_checks_the_same_way(admin_client):
    url = reverse("wagtaildocs:add_multiple")
    collection = Collection.get_first_root_node()
    refused = admin_client.post(url, {"files[]": SimpleUploadedFile("setup.pdf", EXE), "collection": collection.pk})
    assert refused.json()["success"] is False and "exe" in refused.json()["error_message"]
    accepted = admin_client.post(
        url, {"files[]": SimpleUploadedFile("..\\第2回 資料.pdf", PDF), "collection": collection.pk}
    )
    assert accepted.json()["success"] is True
    document = get_document_model().objects.get(pk=accepted.json()["doc_id"])
    assert SAFE_NAME.match(document.filename), document.filename


def test_the_upload_form_explains_the_limits(admin_client):
    page = admin_client.get(reverse("wagtaildocs:add")).content.decode()
    assert "50 MB まで" in page and "2,000 MB まで" in page
