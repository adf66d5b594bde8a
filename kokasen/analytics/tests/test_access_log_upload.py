"""「アクセスログの取り込み」 (decision 0057): the agency's own server's logs uploaded in the admin,
read by the same ingestion as ``ingest_access_logs FILE``. Per role, a broken file, gzip, the
same file twice, a file too large (refused before its body is read)."""

import gzip
import io

import pytest
from django.test import Client
from django.urls import reverse

from kokasen.accounts.tests.test_upload_gate import CountingMultipartBody, post_body
from kokasen.analytics import ingest, uploads
from kokasen.analytics.models import DayTotal
from kokasen.analytics.tests.test_ingest import DAY, EXPECTED_DOWNLOADS, EXPECTED_PAGES, lines, requests, summary
from kokasen.core.models import AuditEvent
from kokasen.testing import login_member, login_staff, make_member
from kokasen.testing.traffic import as_combined

pytestmark = pytest.mark.django_db

URL = "/admin/analytics/access-logs/"
MB = 1024 * 1024


@pytest.fixture(autouse=True)
def state_dir(settings, tmp_path):
    settings.OPS_STATE_DIR = tmp_path / "state"
    settings.ANALYTICS_ACCESS_LOGS = []


def combined() -> bytes:
    return ("\n".join(as_combined(lines())) + "\n").encode()


def upload(client, name: str, data: bytes):
    file = io.BytesIO(data)
    file.name = name
    return client.post(URL, {"file": file})


def staff(user) -> Client:
    client = Client()
    login_staff(client, user)
    return client


def test_the_url_is_the_screens():
    assert reverse("analytics_logs:upload") == URL


def test_operator_uploads_a_combined_log_and_sees_the_counts(operator):
    response = upload(staff(operator), "access.log", combined())
    assert response.status_code == 200
    text = response.content.decode()
    assert "取り込みました" in text
    data = summary()
    assert data["lines"] == len(requests()) and data["bad_lines"] == 0 and data["bot_requests"] == 4
    assert data["page_views"] == EXPECTED_PAGES and data["downloads"] == EXPECTED_DOWNLOADS
    result = response.context["result"]
    assert (result.report.lines, result.report.bad_lines, result.report.bot_requests) == (len(requests()), 0, 4)
    assert result.report.page_views == sum(EXPECTED_PAGES.values())
    assert (result.first_day, result.last_day) == (DAY, DAY)
    assert "2026年11月4日〜2026年11月4日" in text
    [event] = AuditEvent.objects.filter(action=uploads.ACTION)
    assert event.actor == operator and event.target_label == "access.log"
    assert event.detail["lines"] == len(requests()) and event.detail["from"] == "2026-11-04"
    assert event.detail["gzip"] is False and len(event.detail["sha256"]) == 64
    assert "203.0.113.10" not in str(event.detail)  # the audit says what was read, not who visited


def test_agency_admin_uploads_a_gzipped_log_named_without_gz_and_the_same_file_twice_counts_once(agency_admin):
    client = staff(agency_admin)
    data = gzip.compress(combined())
    first = upload(client, "access.log-20261105", data)  # gzip is recognised by its first bytes
    assert first.status_code == 200 and first.context["result"].compressed
    counted = summary()
    assert counted["lines"] == len(requests()) and counted["page_views"] == EXPECTED_PAGES
    again = upload(client, "access.log-20261105", data)
    assert "すでにすべて取り込まれています" in again.content.decode()
    assert again.context["result"].already_read
    plain = upload(client, "access.log", combined())  # the same content, uncompressed, another name
    assert plain.context["result"].report.lines == 0
    assert summary() == counted
    assert AuditEvent.objects.filter(action=uploads.ACTION).count() == 3


def test_a_broken_file_counts_its_bad_lines_and_what_it_can_read(operator):
    client = staff(operator)
    good = as_combined(lines())
    text = "\n".join([good[0], "not a log line", "\x00\x01 binary rubbish", *good[1:5]]) + "\n"
    response = upload(client, "broken.log", text.encode() + b"\xff\xfe half a line")
    assert response.status_code == 200
    result = response.context["result"]
    assert (result.report.lines, result.report.bad_lines) == (8, 3)
    page = response.content.decode()
    assert "読めない行の例" in page and "not a log line" in page
    # a gzip file cut in the middle: read up to its last good block, the damage reported, no 500
    data = gzip.compress(("\n".join(good[5:]) + "\n").encode() * 50)
    cut = upload(client, "cut.log.gz", data[: len(data) // 2])
    assert cut.status_code == 200
    assert cut.context["result"].report.problems and "cut.log.gz" in cut.content.decode()
    assert "/tmp" not in cut.content.decode()  # the temporary copy's path is not shown
    # a file that is not a log at all: every line bad, said so
    junk = upload(client, "meibo.csv", "氏名,電話\n山田,03-0000-0000\n".encode())
    assert junk.context["result"].unreadable and "読める行が1行もありませんでした" in junk.content.decode()


@pytest.mark.parametrize("persona", ["anonymous", "member"])
def test_others_cannot_upload_and_nothing_is_counted(persona):
    client = Client()
    if persona == "member":
        login_member(client, make_member())
    assert client.get(URL).status_code == 302
    response = upload(client, "access.log", combined())
    assert response.status_code == 403
    assert not DayTotal.objects.exists() and not AuditEvent.objects.filter(action=uploads.ACTION).exists()


@pytest.mark.parametrize("persona", ["anonymous", "verified staff"])
def test_a_file_over_the_limit_is_refused_before_its_body_is_read(persona, settings, operator):
    settings.ANALYTICS_UPLOAD_MAX_SIZE = 2 * MB
    settings.ADMIN_UPLOAD_LIMITS = {"analytics_logs:upload": 2 * MB}
    session = None
    if persona == "verified staff":
        client = staff(operator)
        session = client.cookies["sessionid"].value
    body = CountingMultipartBody(3 * MB + 1, field="file", filename="access.log")  # 2 MB + the 1 MB margin + 1
    response = post_body(URL, body, session=session)
    assert (response.status_code, body.read_bytes) == (413, 0)
    assert "ここで送信できるのは 2 MB までです" in response.content.decode()
    assert response["Connection"] == "close"
    if persona == "verified staff":
        # within the body limit but over the file limit: read, then refused by the form in Japanese
        within = CountingMultipartBody(3 * MB, field="file", filename="access.log")
        refused = post_body(URL, within, session=session)
        assert refused.status_code == 400
        assert (
            "ファイルが大きすぎます。2 MB 以下にしてください。gzip で圧縮すると小さくなります。"
            in refused.content.decode()
        )
    assert not DayTotal.objects.exists()


def test_a_gzip_file_that_decompresses_over_the_content_limit_is_refused_unread(operator, settings):
    settings.ANALYTICS_UPLOAD_MAX_CONTENT_SIZE = MB
    bomb = gzip.compress(b"\x00" * (8 * MB))  # 8 MB of nothing in a few kilobytes, no line break
    response = upload(staff(operator), "access.log.gz", bomb)
    assert response.status_code == 400
    assert "展開すると 1 MB を超えるため、この画面では取り込めません" in response.content.decode()
    assert not DayTotal.objects.exists() and not AuditEvent.objects.filter(action=uploads.ACTION).exists()
    within = upload(staff(operator), "access.log.gz", gzip.compress(combined()))  # about 6 KB decompressed
    assert within.context["result"].report.lines == len(requests())


def test_an_upload_while_another_ingestion_runs_reads_nothing(operator):
    client = staff(operator)
    with ingest.one_run():
        response = upload(client, "access.log", combined())
    assert response.status_code == 409 and "実行中のため、取り込みませんでした" in response.content.decode()
    assert not DayTotal.objects.exists()
    assert upload(client, "access.log", combined()).context["result"].report.lines == len(requests())
