"""The monthly 運用・セキュリティ報告 (decision 0039): one month read from the alerts, the audit
trail, the backup record and the incidents on an injected clock; Word and PDF read back with
Japanese text and charts; the command on the 1st queues one notice with the URLs written out,
however often it runs."""

from __future__ import annotations

import io
import json
import os
import re
from datetime import datetime
from pathlib import Path

import docx
import pypdf
import pytest
from django.core.management import call_command
from django.utils import timezone

from kokasen.core.audit import audit_record
from kokasen.core.models import AuditEvent
from kokasen.notifications.models import OutboxMessage
from kokasen.ops import monthly
from kokasen.ops.models import Alert, Incident

pytestmark = pytest.mark.django_db


def at(day, hour=10, minute=0, month=11):
    return timezone.make_aware(datetime(2026, month, day, hour, minute))


APT_OUTPUT = """NOTE: This is only a simulation!
Reading package lists...
Inst libssl3 [3.0.15-1~deb12u1] (3.0.17-1~deb12u2 Debian-Security:12/stable-security [amd64])
Inst openssl [3.0.15-1~deb12u1] (3.0.17-1~deb12u2 Debian-Security:12/stable-security [amd64])
Inst tzdata [2024b-0+deb12u1] (2025b-0+deb12u1 Debian:12.11/stable [all])
Conf libssl3 (3.0.17-1~deb12u2 Debian-Security:12/stable-security [amd64])
"""


@pytest.fixture
def november(settings, tmp_path, monkeypatch):
    monkeypatch.setattr(monthly, "_apt_simulate", lambda: APT_OUTPUT)
    drill = tmp_path / "last-drill.json"
    drill.write_text(
        json.dumps(
            {
                "ok": True,
                "finished_at": "2026-11-29T04:12:00+09:00",
                "snapshot": "4f2a9c1e",
                "tables": 212,
                "rows": 48_213,
                "media_files": 37,
                "difference_count": 0,
                "seconds": 95.2,
            }
        )
    )
    settings.BACKUP_DRILL_STATUS_FILE = str(drill)
    dependency_audit = tmp_path / "pip-audit.json"
    dependency_audit.write_text(
        json.dumps(
            {
                "dependencies": [
                    {"name": "django", "version": "5.2.8", "vulns": []},
                    {"name": "pillow", "version": "11.0.0", "vulns": [{"id": "GHSA-xxxx-yyyy-zzzz"}]},
                ]
            }
        )
    )
    settings.OPS_DEPENDENCY_AUDIT_FILE = str(dependency_audit)
    record = tmp_path / "last-success.json"
    record.write_text(json.dumps({"finished_at": "2026-12-01T03:10:00+09:00", "repository": "restic", "snapshots": 31}))
    settings.OPS_BACKUP_STATUS_FILE = str(record)
    settings.OPS_TLS_CERTIFICATE = ""

    def alert(rule, severity, first, last, **fields):
        return Alert.objects.create(
            rule=rule,
            key=fields.pop("key", rule),
            severity=severity,
            summary=fields.pop("summary", rule),
            first_seen=first,
            last_seen=last,
            count=3,
            **fields,
        )

    alert(
        "database_unreachable",
        "critical",
        at(3, 2, 0),
        at(3, 2, 30),
        resolved_at=at(3, 2, 35),
        resolution="データベースに再び接続できました",
    )
    alert(
        "server_errors", "critical", at(3, 2, 20), at(3, 2, 40), key="site", resolved_at=at(3, 3, 40)
    )  # overlaps: counted once
    alert(
        "scanner",
        "warning",
        at(10),
        at(10, 10, 5),
        key="45.148.10.7",
        summary="45.148.10.7 から脆弱性スキャン",
        acknowledged_at=at(10, 10, 20),
        resolved_at=at(10, 11, 5),
        resolution="60 分間、新たな発生がありません",
    )
    alert("account_spray", "critical", at(20), at(20, 10, 30), key="203.0.113.66", resolved_at=at(20, 11, 30))
    alert("scanner", "warning", at(2, month=10), at(2, month=10), key="old", resolved_at=at(2, 11, month=10))  # October
    for n, (action, day) in enumerate(
        [("login.failed", 2)] * 5
        + [("login.totp_failed", 9)] * 2
        + [("lockout.started", 9), ("login.throttled", 20), ("login.succeeded", 21)]
    ):
        event = audit_record(action=action, target_label=f"01{n:04d}")
        AuditEvent.objects.filter(pk=event.pk).update(created_at=at(day))
    version = {"engine": "1.0.7", "signature_version": "27832", "signature_date": "2026-11-27T08:30:00+00:00"}
    for day, result, action in (
        (4, "infected", "antivirus.upload_refused"),
        (12, "unavailable", "antivirus.upload_refused"),
        (13, "infected", "antivirus.file_scanned"),
        (14, "clean", "antivirus.file_scanned"),
        (5, "infected", "antivirus.upload_refused"),  # October: not counted
    ):
        event = audit_record(action=action, target_label="f.pdf", detail={"result": result, **version})
        AuditEvent.objects.filter(pk=event.pk).update(created_at=at(day, month=10 if day == 5 else 11))
    Incident.objects.create(
        title="夜間のデータベース停止",
        kind="outage",
        detected_at=at(3, 2, 5),
        oral_reported_at=at(3, 2, 50),
        closed_at=at(3, 6),
    )
    return record


def test_the_month_is_read_from_the_records(november):
    data = monthly.collect(2026, 11, now=at(1, 7, month=12))
    assert data.label == "2026年11月" and data.created_on.isoformat() == "2026-12-01"
    assert data.outage_minutes == 40  # 2:00–2:40, the two overlapping outages once
    assert data.availability_text == "99.91%"  # 1 − 40 / 43,200
    assert len(data.alerts) == 4  # not October's
    assert data.logins["login.failed"] == 5 and data.logins["login.totp_failed"] == 2
    assert [row[1:] for row in data.weekly_failures] == [(5, 0), (2, 1), (0, 1), (0, 0), (0, 0)]
    assert data.weekly_failures[0][0] == "11/1〜11/7" and data.weekly_failures[-1][0] == "11/29〜11/30"
    assert data.backup[0] == ("状態", "正常（上限の時間内に成功しています）")
    assert ("記録：snapshots", "31") in data.backup
    assert [i.title for i in data.incidents] == ["夜間のデータベース停止"]
    assert data.drill[0] == ("状態", "正常（直近の復元訓練で件数とチェックサムが一致しました）")
    assert ("行数", "48,213") in data.drill and ("不一致", "0") in data.drill
    assert data.virus[0] == ("受け付けなかったアップロード", "2件（うちウイルス検出 1件、検査できず 1件）")
    assert data.virus[1] == ("ファイル検査（scan_file）でのウイルス検出", "1件")
    assert data.virus[2] == ("ウイルス定義ファイル", "このサーバーでは確認していません（CLAMD_ADDRESS が未設定）")
    assert data.virus[3] == ("最後の検査時の定義ファイル", "27832（2026-11-27T08:30）")
    assert data.patches[0] == ("OS の更新（Debian）", "未適用のセキュリティ更新 2件（更新全体 3件、報告書の作成時）")
    assert data.patches[1] == ("未適用のセキュリティ更新", "libssl3、openssl")
    assert data.patches[2][1].endswith("実行：2パッケージ、既知の脆弱性 1件")
    assert data.patches[3] == ("見つかった脆弱性", "pillow GHSA-xxxx-yyyy-zzzz")


def test_what_could_not_be_checked_is_said(november, settings, monkeypatch):
    monkeypatch.setattr(monthly, "_apt_simulate", lambda: None)
    Path(settings.OPS_DEPENDENCY_AUDIT_FILE).unlink()
    Path(settings.BACKUP_DRILL_STATUS_FILE).write_text(
        json.dumps({"ok": False, "finished_at": "2026-11-29T04:12:00+09:00", "error": "バックアップの鍵が違います"})
    )
    data = monthly.collect(2026, 11, now=at(1, 7, month=12))
    assert data.patches[0] == ("OS の更新（Debian）", "不明（apt-get -s upgrade を実行できませんでした）")
    assert "実行結果がありません" in data.patches[1][1] and "今月は監査を実行できていません" in data.patches[1][1]
    assert "復元訓練が失敗しました" in data.drill[0][1] and ("エラー", "バックアップの鍵が違います") in data.drill
    settings.BACKUP_DRILL_STATUS_FILE = settings.OPS_DEPENDENCY_AUDIT_FILE = ""
    data = monthly.collect(2026, 11, now=at(1, 7, month=12))
    assert "BACKUP_DRILL_STATUS_FILE が off" in data.drill[0][1]
    assert "OPS_DEPENDENCY_AUDIT_FILE が off" in data.patches[1][1]


def test_the_report_in_word_and_pdf(november, artifacts_dir):
    data = monthly.collect(2026, 11, now=at(1, 7, month=12))
    body = monthly.render_word(data)
    (artifacts_dir / "ops-monthly-report.docx").write_bytes(body)
    document = docx.Document(io.BytesIO(body))
    headings = [p.text for p in document.paragraphs if p.style.name.startswith("Heading")]
    assert headings[:9] == [
        "1. 概要",
        "2. 可用性",
        "3. アラートと対応の結果",
        "4. ログイン失敗・ロック・拒否",
        "5. バックアップ",
        "6. TLS 証明書",
        "7. ウイルス検査",
        "8. 修正プログラムと依存ライブラリの監査",
        "9. 事故",
    ]
    cells = [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    assert (
        "99.91%（停止と推定される時間 40分）" in cells
        and "解消（確認済み）" in cells
        and "夜間のデータベース停止" in cells
    )
    assert "2件（うちウイルス検出 1件、検査できず 1件）" in cells and "48,213" in cells
    assert "未適用のセキュリティ更新 2件（更新全体 3件、報告書の作成時）" in cells
    assert "pillow GHSA-xxxx-yyyy-zzzz" in cells
    assert len(document.inline_shapes) == 2  # alerts per rule, logins per week
    assert "週ごとのログイン失敗と拒否・制限" in document.inline_shapes[1]._inline.docPr.get("descr")
    pdf = monthly.render_pdf(data)
    (artifacts_dir / "ops-monthly-report.pdf").write_bytes(pdf)
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    flat = re.sub(r"\s+", "", "\n".join(page.extract_text() for page in reader.pages))
    for expected in (
        "運用・セキュリティ報告",
        "2026年11月分",
        "3.アラートと対応の結果",
        "図1検知ルール別のアラート件数",
        "図2週ごとのログイン失敗と拒否・制限",
        "11/1〜11/7",
        "記録：repository",
        "復元訓練の結果（報告書の作成時）",
        "7.ウイルス検査",
        "8.修正プログラムと依存ライブラリの監査",
        "未適用のセキュリティ更新2件",
        "既知の脆弱性1件",
    ):
        assert expected in flat, expected


def test_the_first_of_the_month_queues_one_notice_with_the_urls(november, agency_admin, operator, settings):
    call_command("ops_monthly_report", month="2026-11", verbosity=0)
    call_command("ops_monthly_report", month="2026-11", verbosity=0)  # the timer ran twice
    message = OutboxMessage.objects.get(kind="ops_monthly_report")
    assert message.bcc == ["admin@cfa.example.go.jp"]  # the agency's 管理者, not the 受託者
    assert "2026年11月の運用・セキュリティ報告" in message.subject
    assert (
        "/admin/ops/reports/2026/11/report.pdf" in message.body
        and "/admin/ops/reports/2026/11/report.docx" in message.body
    )
    assert "添付していません" in message.body
    with pytest.raises(Exception, match="YYYY-MM"):
        call_command("ops_monthly_report", month="2026-13", verbosity=0)


def test_the_screens(november, staff_client):
    page = staff_client.get("/admin/ops/reports/").content.decode()
    assert "月次報告" in page
    page = staff_client.get("/admin/ops/reports/2026/11/").content.decode()
    assert "99.91%" in page and "記録：snapshots：31" in page
    assert "行数：48,213" in page and "ファイル検査（scan_file）でのウイルス検出：1件" in page
    assert "未適用のセキュリティ更新：libssl3、openssl" in page
    response = staff_client.get("/admin/ops/reports/2026/11/report.docx")
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    assert staff_client.get("/admin/ops/reports/2026/13/").status_code == 404


def test_debian_updates_are_checked_by_the_timers_and_only_read_by_the_screens(settings, tmp_path, monkeypatch):
    settings.OPS_STATE_DIR = tmp_path
    settings.OPS_APT_CHECK = True
    runs = []
    monkeypatch.setattr(monthly, "_run_apt", lambda: runs.append(1) or APT_OUTPUT)
    assert monthly._apt_simulate() is None  # nothing saved yet: the report says 不明
    assert monthly.refresh_apt_simulation()
    assert monthly._apt_simulate() == APT_OUTPUT
    assert not monthly.refresh_apt_simulation()  # checked today: apt-get does not run again
    assert len(runs) == 1
    saved = tmp_path / monthly.APT_STATE_NAME
    three_days_ago = saved.stat().st_mtime - 3 * 86400
    os.utime(saved, (three_days_ago, three_days_ago))
    assert monthly._apt_simulate() is None  # too old to report
    assert monthly.refresh_apt_simulation()
    assert len(runs) == 2
    settings.OPS_APT_CHECK = False
    os.utime(saved, (three_days_ago, three_days_ago))
    assert not monthly.refresh_apt_simulation()
