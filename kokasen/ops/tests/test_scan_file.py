"""manage.py scan_file: files handed to the agency are scanned by clamd and every result, with
the signature version, is in the audit trail."""

import hashlib
import io
import zipfile

import pytest
from django.core.management import CommandError, call_command

from kokasen.core.models import AuditEvent
from kokasen.testing.clamd import TEST_SIGNATURE_NAME, TEST_SIGNATURE_TEXT

pytestmark = pytest.mark.django_db


@pytest.fixture
def files(tmp_path):
    report = tmp_path / "実施報告書.docx"
    report.write_bytes(b"PK\x03\x04 a report" * 1000)
    archive = tmp_path / "kokasen-static.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
        zipped.writestr("index.html", "<p>トップページ</p>")
        zipped.writestr("documents/1/handout.pdf", b"%PDF-1.4 " + TEST_SIGNATURE_TEXT)
    return report, archive, tmp_path / "missing.pdf"


def run(*args):
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("scan_file", *map(str, args), stdout=out, stderr=err)
        code = 0
    except CommandError as error:
        code = error.returncode
        err.write(str(error))
    return code, out.getvalue(), err.getvalue()


def test_clean_files_exit_0_and_are_audited_with_the_signature_version(settings, clamd_server, files):
    settings.CLAMD_ADDRESS = clamd_server.socket_path
    report = files[0]
    code, out, _ = run(report)
    assert code == 0 and out.startswith(f"問題なし        {report}（13,000 バイト、SHA-256 ")
    [event] = AuditEvent.objects.filter(action="antivirus.file_scanned")
    assert event.actor is None and event.target_label == str(report)
    detail = event.detail
    assert detail["result"] == "clean" and detail["signature_version"] == 1 and detail["signature_date"]
    assert detail["sha256"] == hashlib.sha256(report.read_bytes()).hexdigest() and detail["size"] == 13000
    assert detail["scanner"] == clamd_server.socket_path and detail["command"] == "scan_file"


def test_a_virus_in_the_zip_exits_1_and_every_file_is_recorded(settings, clamd_server, files):
    settings.CLAMD_ADDRESS = clamd_server.tcp_address
    report, archive, missing = files
    code, out, err = run(report, archive, missing)
    assert code == 1 and "ウイルスが見つかりました。このファイルを渡さないでください。" in err
    lines = out.splitlines()
    assert lines[0].startswith("問題なし") and lines[1] == (
        f"ウイルス検出    {archive}: {TEST_SIGNATURE_NAME}（シグネチャ {lines[1].split('シグネチャ ')[1]}"
    )
    assert lines[2].startswith(f"検査できず      {missing}: read_error")
    details = [e.detail for e in AuditEvent.objects.filter(action="antivirus.file_scanned").order_by("pk")]
    assert [d["result"] for d in details] == ["clean", "infected", "unavailable"]
    assert details[1]["signature"] == TEST_SIGNATURE_NAME and details[1]["signature_version"] == 1
    assert details[2]["reason"] == "read_error" and details[2]["sha256"] is None


def test_clamd_down_exits_2_and_records_that_nothing_was_checked(settings, tmp_path, files):
    settings.CLAMD_ADDRESS = str(tmp_path / "stopped.sock")
    code, out, err = run(files[0])
    assert code == 2 and "検査できなかったファイルがあります" in err and "clamd のバージョンを取得できません" in err
    [event] = AuditEvent.objects.filter(action="antivirus.file_scanned")
    assert event.detail["result"] == "unavailable" and event.detail["reason"] == "connection"
    settings.CLAMD_ADDRESS = ""
    code, _, err = run(files[0])
    assert code == 2 and "CLAMD_ADDRESS" in err
