"""Serving protected files: range requests for video, validators, headers, X-Accel-Redirect
for nginx, and the development helper that never serves document originals."""

from urllib.parse import quote

import pytest
from django.test import override_settings
from django.urls import clear_url_caches, path, set_urlconf

from kokasen.members import files
from kokasen.members.models import RoundtablePage

pytestmark = pytest.mark.django_db


# --------------------------------------------------------------------------- parse_range


@pytest.mark.parametrize(
    ("header", "size", "expected"),
    [
        (None, 1000, None),
        ("bytes=0-99", 1000, (0, 99)),
        ("bytes=100-", 1000, (100, 999)),
        ("bytes=-10", 1000, (990, 999)),
        ("bytes=-5000", 1000, (0, 999)),  # a suffix longer than the file: the whole file
        ("bytes=900-5000", 1000, (900, 999)),  # the end is clipped to the file
        ("bytes=0-0", 1000, (0, 0)),
        ("BYTES = 5-9", 1000, (5, 9)),
        ("bytes=0-99,200-299", 1000, None),  # several ranges: whole file
        ("bytes=50-10", 1000, None),  # invalid: ignored
        ("items=0-5", 1000, None),
        ("bytes=-", 1000, None),
        ("bytes=abc", 1000, None),
    ],
)
def test_parse_range(header, size, expected):
    assert files.parse_range(header, size) == expected


@pytest.mark.parametrize(("header", "size"), [("bytes=1000-", 1000), ("bytes=5000-6000", 1000), ("bytes=-0", 1000)])
def test_parse_range_unsatisfiable(header, size):
    with pytest.raises(files.Unsatisfiable):
        files.parse_range(header, size)


# --------------------------------------------------------------------------- responses


@pytest.fixture
def video(demo_site):
    return RoundtablePage.objects.get(slug="roundtable-01").video


@pytest.fixture
def handout(demo_site):
    return RoundtablePage.objects.get(slug="roundtable-01").handouts.first().document


def whole(document) -> bytes:
    with document.open_file() as f:
        return f.read()


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_first_100_bytes(member_client, video):
    response = member_client.get(video.url, HTTP_RANGE="bytes=0-99")
    data = body(response)
    assert response.status_code == 206
    assert len(data) == 100 and data == whole(video)[:100]
    assert response["Content-Range"] == f"bytes 0-99/{video.file.size}"
    assert response["Content-Length"] == "100"
    assert response["Accept-Ranges"] == "bytes"
    assert response["Content-Type"] == "video/webm"


def test_suffix_range(member_client, video):
    response = member_client.get(video.url, HTTP_RANGE="bytes=-10")
    size = video.file.size
    assert response.status_code == 206
    assert body(response) == whole(video)[-10:]
    assert response["Content-Range"] == f"bytes {size - 10}-{size - 1}/{size}"


def test_open_ended_range(member_client, video):
    size = video.file.size
    response = member_client.get(video.url, HTTP_RANGE=f"bytes={size - 1000}-")
    assert response.status_code == 206
    assert body(response) == whole(video)[-1000:]
    assert response["Content-Range"] == f"bytes {size - 1000}-{size - 1}/{size}"


def test_range_beyond_the_file_is_416(member_client, video):
    size = video.file.size
    response = member_client.get(video.url, HTTP_RANGE=f"bytes={size}-")
    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{size}"
    assert not getattr(response, "streaming", False) and response.content == b""


def test_several_ranges_give_the_whole_file(member_client, video):
    response = member_client.get(video.url, HTTP_RANGE="bytes=0-9,20-29")
    assert response.status_code == 200
    assert body(response) == whole(video)


def test_if_range_with_an_old_etag_gives_the_whole_file(member_client, video):
    response = member_client.get(video.url, HTTP_RANGE="bytes=0-9", HTTP_IF_RANGE='"not-the-current-etag"')
    assert response.status_code == 200 and body(response) == whole(video)
    current = member_client.get(video.url)["ETag"]
    response = member_client.get(video.url, HTTP_RANGE="bytes=0-9", HTTP_IF_RANGE=current)
    assert response.status_code == 206 and len(body(response)) == 10


def test_etag_and_last_modified_give_304(member_client, handout):
    first = member_client.get(handout.url)
    assert first["ETag"] == f'"{handout.file_hash}"'
    assert first["Last-Modified"]
    assert member_client.get(handout.url, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
    assert member_client.get(handout.url, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"]).status_code == 304


def test_headers_of_a_restricted_pdf(member_client, handout):
    response = member_client.get(handout.url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    # Inline, named after the Japanese title (RFC 5987), not after the stored ASCII name.
    assert response["Content-Disposition"] == "inline; filename*=utf-8''" + quote(handout.title + ".pdf")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "private" in response["Cache-Control"] and "public" not in response["Cache-Control"]
    assert response["Content-Security-Policy"] == "default-src 'none'"
    assert body(response) == whole(handout)


def test_an_excel_form_is_an_attachment(member_client, demo_site):
    from kokasen.members.models import FormEntry

    document = FormEntry.objects.get(title="サポートプラン様式（サンプル）").document
    response = member_client.get(document.url)
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert response["Content-Disposition"].startswith("attachment; filename*=utf-8''")


def test_video_is_inline(member_client, video):
    assert member_client.get(video.url)["Content-Disposition"].startswith("inline;")


def test_only_get_and_head(member_client, video):
    assert member_client.post(video.url).status_code == 405
    head = member_client.head(video.url)
    assert head.status_code == 200 and head["Content-Length"] == str(video.file.size)


def test_x_accel_redirect_mode_hands_the_file_to_nginx(member_client, video, settings):
    settings.PROTECTED_FILES_X_ACCEL_PREFIX = "/protected-media/"
    response = member_client.get(video.url, HTTP_RANGE="bytes=0-99")
    assert response.status_code == 200  # nginx answers the range itself
    assert response["X-Accel-Redirect"] == f"/protected-media/{video.file.name}"
    assert response.content == b""
    assert response["Content-Type"] == "video/webm"
    assert "private" in response["Cache-Control"]
    assert response["X-Content-Type-Options"] == "nosniff"


def test_x_accel_redirect_mode_still_refuses_visitors(client, video, settings):
    settings.PROTECTED_FILES_X_ACCEL_PREFIX = "/protected-media"
    response = client.get(video.url)
    assert response.status_code == 302 and "X-Accel-Redirect" not in response


def test_downloads_are_still_signalled(member_client, handout):
    from wagtail.documents.models import document_served

    seen = []

    def receiver(sender, instance, request, **kwargs):
        seen.append(instance.pk)

    document_served.connect(receiver)
    try:
        member_client.get(handout.url)
    finally:
        document_served.disconnect(receiver)
    assert seen == [handout.pk]


# --------------------------------------------------------------------------- dev helper


def test_the_development_media_helper_serves_images_but_never_documents(client, video, settings, tmp_path):
    """kokasen/urls.py adds this helper when DEBUG is on (make run). Nor does it serve the
    images of restricted collections (protected_images/, docs/decisions/0019)."""
    from kokasen.members import media

    settings.MEDIA_ROOT = tmp_path
    (tmp_path / "documents").mkdir()
    (tmp_path / "documents" / "secret.pdf").write_bytes(b"%PDF-1.4 secret")
    (tmp_path / "protected_images").mkdir()
    (tmp_path / "protected_images" / "secret.png").write_bytes(b"\x89PNG secret")
    (tmp_path / "original_images").mkdir()
    (tmp_path / "original_images" / "logo.svg").write_bytes(b"<svg xmlns='http://www.w3.org/2000/svg'/>")

    urlconf = type("DevUrls", (), {"urlpatterns": media.dev_media_urlpatterns() + [path("", lambda r: None)]})
    with override_settings(ROOT_URLCONF=urlconf):
        clear_url_caches()
        try:
            assert client.get("/media/original_images/logo.svg").status_code == 200
            for url in (
                "/media/documents/secret.pdf",
                "/media/original_images/../documents/secret.pdf",
                "/media/images/..%2Fdocuments%2Fsecret.pdf",
                "/media/protected_images/secret.png",
                "/media/images/../protected_images/secret.png",
                "/media/original_images/..%2Fprotected_images%2Fsecret.png",
            ):
                response = client.get(url)
                assert response.status_code == 404, url
        finally:
            clear_url_caches()
            set_urlconf(None)
