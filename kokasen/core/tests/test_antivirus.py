"""The clamd client (kokasen/core/antivirus.py) and scan_upload (virus_scan.py) against a real
clamd: Debian's clamav-daemon with deploy/clamav/clamd.conf and a test signature database made
with sigtool (kokasen/testing/clamd.py; no official signatures, no freshclam)."""

from __future__ import annotations

import io
import time
import zipfile
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile, TemporaryUploadedFile

from kokasen.core.antivirus import Clamd, ClamdError, Reason, ScanResult, Status, parse_version
from kokasen.core.virus_scan import refusal_message, scan_upload
from kokasen.testing.clamd import TEST_SIGNATURE_NAME, TEST_SIGNATURE_TEXT, ClamdServer
from kokasen.testing.smtp import free_port

CLEAN = "自治体の配布資料です。ウイルスはありません。\n".encode() * 200
INFECTED = b"%PDF-1.4\n" + b"x" * 5000 + TEST_SIGNATURE_TEXT + b"\n%%EOF\n"


@pytest.fixture
def hanging_server(hanging_port):
    return f"tcp://127.0.0.1:{hanging_port}"


# --- PING, VERSION -------------------------------------------------------------------------------


def test_ping_and_version_over_the_unix_socket_and_tcp(clamd_server):
    for address in (clamd_server.socket_path, clamd_server.tcp_address):
        client = Clamd(address, timeout=2)
        client.ping()
        version = client.version()
        assert version.engine.count(".") == 2  # "1.4.6"
        assert version.signatures == 1  # the test database, built as version 1
        # Built by the fixture a moment ago: clamd's local time read in the machine's zone.
        age = version.age_seconds()
        assert -60 < age < 15 * 60, (version.raw, age)
        assert version.label().startswith("1 (")


def test_version_strings_are_read_in_the_given_zone():
    raw = "ClamAV 1.4.6/27475/Sun Dec  6 08:22:33 2026\0"
    tokyo = parse_version(raw, ZoneInfo("Asia/Tokyo"))
    assert (tokyo.engine, tokyo.signatures) == ("1.4.6", 27475)
    assert tokyo.signatures_date == datetime(2026, 12, 5, 23, 22, 33, tzinfo=UTC)
    utc = parse_version(raw, UTC)
    assert utc.signatures_date - tokyo.signatures_date == timedelta(hours=9)
    bare = parse_version("ClamAV 1.4.6", UTC)  # no daily database loaded
    assert (bare.signatures, bare.signatures_date, bare.age_seconds(), bare.label()) == (None, None, None, "unknown")
    with pytest.raises(ClamdError):
        parse_version("something else", UTC)


# --- INSTREAM ------------------------------------------------------------------------------------


def test_clean_and_infected_content(clamd_server):
    client = Clamd(clamd_server.socket_path)
    clean = client.scan_bytes(CLEAN)
    assert clean.status is Status.CLEAN and clean.is_clean and not clean.signature
    infected = client.scan_bytes(INFECTED)
    assert infected.status is Status.INFECTED and infected.is_infected and not infected.is_clean
    assert infected.signature == TEST_SIGNATURE_NAME
    assert infected.audit_detail() == {"result": "infected", "signature": TEST_SIGNATURE_NAME}


def test_the_signature_is_found_across_chunk_boundaries_and_inside_a_zip(clamd_server):
    client = Clamd(clamd_server.tcp_address, chunk_size=1000)
    content = b"a" * 990 + TEST_SIGNATURE_TEXT + b"b" * 3000  # starts 10 bytes before a chunk ends
    assert client.scan_bytes(content).signature == TEST_SIGNATURE_NAME
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
        zipped.writestr("index.html", "<p>公開ページ</p>")
        zipped.writestr("documents/資料.pdf", INFECTED)
    result = client.scan_bytes(archive.getvalue())
    assert result.is_infected and result.signature == TEST_SIGNATURE_NAME


def test_a_file_is_streamed_from_its_current_position_and_with_the_version(clamd_server, tmp_path):
    path = tmp_path / "handout.pdf"
    path.write_bytes(INFECTED)
    result = Clamd(clamd_server.socket_path).scan_path(path, with_version=True)
    assert result.is_infected and result.version.signatures == 1
    detail = result.audit_detail()
    assert detail["signature_version"] == 1 and detail["engine"] == result.version.engine
    assert datetime.fromisoformat(detail["signature_date"]).tzinfo is not None
    missing = Clamd(clamd_server.socket_path).scan_path(tmp_path / "nothing.pdf")
    assert missing.is_unavailable and missing.reason is Reason.READ_ERROR


def test_clamd_down_is_unavailable_not_clean(clamd_server, tmp_path):
    for address in (str(tmp_path / "no-such.sock"), f"tcp://127.0.0.1:{free_port()}"):
        client = Clamd(address, timeout=1)
        result = client.scan_bytes(INFECTED)
        assert result.is_unavailable and not result.is_clean and result.reason is Reason.CONNECTION, result
        with pytest.raises(ClamdError) as raised:
            client.ping()
        assert raised.value.reason is Reason.CONNECTION


def test_a_hanging_clamd_times_out(hanging_server):
    client = Clamd(hanging_server, timeout=0.3, scan_timeout=0.5)
    started = time.monotonic()
    result = client.scan_bytes(CLEAN)
    assert result.is_unavailable and result.reason is Reason.TIMEOUT, result
    with pytest.raises(ClamdError) as raised:
        client.version()
    assert raised.value.reason is Reason.TIMEOUT
    assert time.monotonic() - started < 2


def test_more_than_clamd_takes_is_refused_as_too_large(clamd_server, tmp_path):
    """A clamd whose StreamMaxLength is 1 MB closes the stream part way: not clean."""
    small = ClamdServer(tmp_path / "small", database=clamd_server.database)
    text = small.config.read_text()
    small.config.write_text(text.replace("StreamMaxLength 2047M", "StreamMaxLength 1M"))
    with small:
        result = Clamd(small.socket_path).scan_bytes(b"x" * (3 * 1024 * 1024))
    assert result.is_unavailable and result.reason is Reason.SIZE_LIMIT, result


@pytest.mark.parametrize(
    "answer,status,reason,signature",
    [
        ("stream: OK", Status.CLEAN, None, ""),
        ("stream: Win.Test.EICAR_HDB-1 FOUND", Status.INFECTED, None, "Win.Test.EICAR_HDB-1"),
        ("stream: Heuristics.Limits.Exceeded.MaxFileSize FOUND", Status.UNAVAILABLE, Reason.SIZE_LIMIT, ""),
        ("stream: Heuristics.Encrypted.Zip FOUND", Status.UNAVAILABLE, Reason.ENCRYPTED, ""),
        ("INSTREAM size limit exceeded. ERROR", Status.UNAVAILABLE, Reason.SIZE_LIMIT, ""),
        ("stream: Can't allocate memory ERROR", Status.UNAVAILABLE, Reason.ERROR, ""),
    ],
)
def test_every_answer_of_clamd_has_one_result(answer, status, reason, signature):
    result = Clamd._result(answer, None, 0.0)
    assert (result.status, result.reason, result.signature) == (status, reason, signature)


def test_addresses():
    assert Clamd("/run/clamav/clamd.ctl").address == "/run/clamav/clamd.ctl"
    assert Clamd("tcp://[::1]:3310")._target == ("::1", 3310)
    for wrong in ("clamd.ctl", "tcp://localhost", "127.0.0.1:3310"):
        with pytest.raises(ValueError):
            Clamd(wrong)


# --- scan_upload: the one call of the upload paths -----------------------------------------------------


def test_scan_upload_scans_and_rewinds(clamd_server, settings):
    settings.CLAMD_ADDRESS, settings.VIRUS_SCAN_REQUIRED = clamd_server.socket_path, True
    upload = SimpleUploadedFile("資料.pdf", CLEAN, content_type="application/pdf")
    upload.read(10)
    result = scan_upload(upload)
    assert result.is_clean and result.version.signatures == 1
    assert upload.tell() == 0 and upload.read() == CLEAN  # ready to be stored as it is
    assert refusal_message(result) == ""


def test_scan_upload_refuses_an_infected_file_with_a_japanese_message(clamd_server, settings, caplog):
    settings.CLAMD_ADDRESS, settings.VIRUS_SCAN_REQUIRED = clamd_server.tcp_address, True
    upload = TemporaryUploadedFile("名簿.xlsx", "application/octet-stream", len(INFECTED), None)
    upload.write(INFECTED)
    result = scan_upload(upload)
    upload.close()
    assert result.is_infected and result.signature == TEST_SIGNATURE_NAME
    assert refusal_message(result) == (
        f"このファイルからウイルス（{TEST_SIGNATURE_NAME}）が見つかったため、受け付けませんでした。"
        "ファイルは保存していません。送信元に確認してください。"
    )
    assert f"virus found in an upload: {TEST_SIGNATURE_NAME} (名簿.xlsx)" in caplog.text


def test_scan_upload_fails_closed(settings, tmp_path, caplog):
    settings.CLAMD_ADDRESS, settings.VIRUS_SCAN_REQUIRED = str(tmp_path / "stopped.sock"), True
    result = scan_upload(io.BytesIO(CLEAN))
    assert result.is_unavailable and result.reason is Reason.CONNECTION
    assert refusal_message(result).startswith("ウイルス検査が現在行えないため、ファイルを受け付けませんでした。")
    assert "upload refused, virus scan unavailable (connection)" in caplog.text
    settings.CLAMD_ADDRESS = ""  # no scanner named: still refused where scanning is required
    result = scan_upload(io.BytesIO(CLEAN))
    assert result.is_unavailable and result.reason is Reason.NOT_CONFIGURED
    settings.VIRUS_SCAN_REQUIRED = False  # development and the test settings only
    assert scan_upload(io.BytesIO(CLEAN)).is_clean


def test_refusal_messages_name_what_to_do():
    assert "パスワードを外した" in refusal_message(ScanResult.unavailable(Reason.ENCRYPTED))
    assert "大きすぎて" in refusal_message(ScanResult.unavailable(Reason.SIZE_LIMIT))
    assert "しばらくしてから" in refusal_message(ScanResult.unavailable(Reason.TIMEOUT))


def test_production_scans_by_default():
    """base.py (production) names Debian's clamd socket and requires scanning; only the dev and
    test settings turn it off."""
    from kokasen.settings import base

    assert base.CLAMD_ADDRESS == "/run/clamav/clamd.ctl" and base.VIRUS_SCAN_REQUIRED is True
