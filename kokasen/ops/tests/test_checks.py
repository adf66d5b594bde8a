"""ops_scan's state checks (kokasen/ops/checks.py) and the staff-login rule, each at its edges:
the static export against the hashes it wrote (改ざん), the certificate's expiry, the last
backup's age, clamd's signatures, a log that cannot be read, and staff logins from networks not
seen before."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from kokasen.accounts import roles
from kokasen.core import file_hashes
from kokasen.core.models import AuditEvent
from kokasen.notifications.models import OutboxMessage
from kokasen.ops import certificates, checks, scan
from kokasen.ops.models import Alert
from kokasen.static_export import builder
from kokasen.testing import make_member, make_staff
from kokasen.testing.traffic import insert_audit

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 12, 7, 3, 0, tzinfo=UTC)


def findings(results):
    return [(r.rule, r.key, r.finding.severity if r.finding else None) for r in results]


# --- the static export's hashes --------------------------------------------------------------------


@pytest.fixture(scope="module")
def exported(demo_site, django_db_blocker, tmp_path_factory):
    """One export of the demo site (read-only: tests copy it)."""
    folder = tmp_path_factory.mktemp("export") / "site"
    with django_db_blocker.unblock():
        builder.export_site(out_dir=folder)
    return folder


@pytest.fixture
def served(exported, tmp_path):
    """A copy of the export where nginx would serve it, with the export's audit record."""
    folder = tmp_path / "static"
    shutil.copytree(exported, folder)
    hashes = json.loads((folder / file_hashes.EXPORT_MARKER).read_text())[file_hashes.HASHES_KEY]
    AuditEvent.objects.create(
        action="static_export.written",
        target_label=str(folder.resolve()),
        detail={
            "out_dir": str(folder.resolve()),
            "files": len(hashes),
            "sha256_digest": file_hashes.manifest_digest(hashes),
        },
    )
    return folder


def test_the_export_writes_the_hash_of_every_file_and_audits_the_list(exported):
    manifest = json.loads((exported / file_hashes.EXPORT_MARKER).read_text())
    hashes = manifest[file_hashes.HASHES_KEY]
    files = sorted(
        p.relative_to(exported).as_posix()
        for p in exported.rglob("*")
        if p.is_file() and p.name != file_hashes.EXPORT_MARKER
    )
    assert sorted(hashes) == files and len(files) > 50
    assert all(hashes[name] == file_hashes.digest_file(exported / name) for name in files)
    event = AuditEvent.objects.filter(action="static_export.written", detail__out_dir=str(exported.resolve())).get()
    assert event.detail["sha256_digest"] == file_hashes.manifest_digest(hashes)


def test_an_incremental_export_lists_the_files_it_kept_too(demo_site, tmp_path):
    folder = tmp_path / "site"
    builder.export_site(out_dir=folder)
    result = builder.export_site(out_dir=folder, incremental=True)
    assert result.pages < result.routes  # most files kept from the first export
    assert checks.static_export(str(folder), NOW) == [checks.StateResult("export_tampered", str(folder), None)]


def test_an_untouched_export_is_well(served):
    assert findings(checks.static_export(str(served), NOW)) == [("export_tampered", str(served), None)]


@pytest.mark.parametrize("change", ["edit", "add", "remove", "symlink"])
def test_a_changed_added_removed_or_linked_file_is_tampering(served, change):
    css = next(served.rglob("*.css"))
    relative = css.relative_to(served).as_posix()
    if change == "edit":
        css.write_text(css.read_text() + "\nbody{background:url(https://evil.example/x)}")
    elif change == "add":
        (served / "news" / "evil.html").write_text("<script>alert(1)</script>")
        relative = "news/evil.html"
    elif change == "remove":
        css.unlink()
    else:
        css.unlink()
        css.symlink_to("/etc/passwd")
    [result] = checks.static_export(str(served), NOW)
    assert result.finding.severity == "critical"
    listed = {"edit": "changed", "add": "added", "remove": "missing", "symlink": "changed"}[change]
    assert result.finding.evidence[listed] == [relative]


def test_a_rewritten_hash_list_is_tampering_too(served):
    index = served / "index.html"
    index.write_text(index.read_text().replace("</body>", "<script src=/x.js></script></body>"))
    marker = served / file_hashes.EXPORT_MARKER
    manifest = json.loads(marker.read_text())
    manifest[file_hashes.HASHES_KEY]["index.html"] = file_hashes.digest_file(index)  # covering the change
    marker.write_text(json.dumps(manifest))
    [result] = checks.static_export(str(served), NOW)
    assert result.finding.evidence["problem"] == "hash list rewritten"


def test_an_export_without_hashes_or_marker(served):
    marker = served / file_hashes.EXPORT_MARKER
    manifest = json.loads(marker.read_text())
    del manifest[file_hashes.HASHES_KEY]
    marker.write_text(json.dumps(manifest))
    assert checks.static_export(str(served), NOW)[0].finding.severity == "warning"
    marker.unlink()
    assert checks.static_export(str(served), NOW)[0].finding.severity == "critical"
    assert checks.static_export(str(served / "not-published-yet"), NOW) == []
    assert checks.static_export("", NOW) == []


def test_tampering_ends_when_the_export_is_written_again(served, settings, demo_site):
    settings.OPS_STATIC_EXPORT_DIR = str(served)
    (served / "index.html").write_text("defaced")
    scan.ops_scan(now=NOW)
    alert = Alert.objects.get(rule="export_tampered")
    assert alert.resolved_at is None
    builder.export_site(out_dir=served)
    scan.ops_scan(now=NOW + timedelta(minutes=5))
    alert.refresh_from_db()
    assert alert.resolved_at is not None and alert.resolution == "確認の結果、問題がなくなりました"


# --- the certificate -------------------------------------------------------------------------------


def certificate(folder: Path, days: int) -> Path:
    path = folder / f"cert-{days}.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            str(folder / "key.pem"),
            "-out",
            str(path),
            "-days",
            str(days),
            "-subj",
            "/CN=portal.example.go.jp",
        ],
        check=True,
        capture_output=True,
    )
    return path


def openssl_end(path: Path) -> datetime:
    out = subprocess.run(
        ["openssl", "x509", "-enddate", "-noout", "-in", str(path)], check=True, capture_output=True, text=True
    ).stdout
    return datetime.strptime(out.strip().split("=", 1)[1], "%b %d %H:%M:%S %Y %Z").replace(tzinfo=UTC)


def test_the_expiry_is_read_as_openssl_reads_it(tmp_path):
    for days in (1, 400, 20_000):  # UTCTime, and GeneralizedTime after 2049
        path = certificate(tmp_path, days)
        chain = tmp_path / f"chain-{days}.pem"
        chain.write_bytes(path.read_bytes() + certificate(tmp_path, 3).read_bytes())  # fullchain: server's first
        assert certificates.not_after(chain) == openssl_end(path)


def test_certificate_at_the_edges(tmp_path, settings):
    path = certificate(tmp_path, 30)
    expires = certificates.not_after(path)
    assert findings(checks.certificate(str(path), expires - timedelta(days=21, seconds=1))) == [
        ("certificate_expiry", str(path), None)
    ]
    assert findings(checks.certificate(str(path), expires - timedelta(days=21)))[0][2] == "warning"
    assert findings(checks.certificate(str(path), expires - timedelta(days=7)))[0][2] == "critical"
    [result] = checks.certificate(str(path), expires + timedelta(hours=1))
    assert "期限が切れています" in result.finding.summary
    broken = tmp_path / "broken.pem"
    broken.write_text("-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n")
    for unreadable in (broken, tmp_path / "missing.pem"):
        assert findings(checks.certificate(str(unreadable), NOW))[0][2] == "warning"
    assert checks.certificate("", NOW) == []


# --- the last backup -------------------------------------------------------------------------------


def test_backup_at_the_edges(tmp_path):
    record = tmp_path / "last-success.json"
    assert findings(checks.backup(str(record), NOW))[0][2] == "warning"  # never recorded
    for hours, severity in ((26, None), (26.01, "warning"), (78, "warning"), (78.01, "critical")):
        record.write_text(json.dumps({"finished_at": (NOW - timedelta(hours=hours)).isoformat(), "bytes": 123}))
        assert findings(checks.backup(str(record), NOW))[0][2] == severity, hours
    record.write_text("done\n")  # not JSON: the file's time is the backup's
    stamp = (NOW - timedelta(hours=30)).timestamp()
    os.utime(record, (stamp, stamp))
    [result] = checks.backup(str(record), NOW)
    assert result.finding.evidence["age_hours"] == 30.0
    assert checks.backup("", NOW) == []


def test_backup_drill_at_the_edges(tmp_path, settings):
    settings.OPS_BACKUP_DRILL_MAX_AGE_DAYS = 8
    record = tmp_path / "last-drill.json"
    [result] = checks.backup_drill(str(record), NOW)
    assert result.finding.severity == "warning" and "復元訓練の記録がありません" in result.finding.summary
    record.write_text("not json")
    assert findings(checks.backup_drill(str(record), NOW))[0][2] == "warning"
    for age, severity in ((timedelta(days=8), None), (timedelta(days=8, seconds=1), "warning")):
        record.write_text(json.dumps({"ok": True, "finished_at": (NOW - age).isoformat(), "difference_count": 0}))
        assert findings(checks.backup_drill(str(record), NOW))[0][2] == severity, age
    # A failed drill is 重大 however recent, with its reason.
    failed = {"ok": False, "finished_at": (NOW - timedelta(hours=1)).isoformat(), "difference_count": 3}
    record.write_text(json.dumps(failed))
    [result] = checks.backup_drill(str(record), NOW)
    assert result.finding.severity == "critical" and "復元訓練が失敗しました" in result.finding.summary
    assert "3 件の不一致" in result.finding.summary and result.finding.evidence["ok"] is False
    record.write_text(json.dumps({**failed, "error": "バックアップの鍵が違います（…）"}))
    [result] = checks.backup_drill(str(record), NOW)
    assert "バックアップの鍵が違います" in result.finding.summary
    assert checks.backup_drill("", NOW) == []


def test_a_failed_drill_alerts_once_and_recovers_when_a_drill_passes(tmp_path, settings):
    settings.BACKUP_DRILL_STATUS_FILE = str(tmp_path / "last-drill.json")
    settings.OPS_ALERT_EMAILS = ["ops@example.jp"]
    record = Path(settings.BACKUP_DRILL_STATUS_FILE)
    record.write_text(json.dumps({"ok": False, "finished_at": NOW.isoformat(), "error": "pg_restore が失敗しました"}))
    scan.ops_scan(now=NOW)
    scan.ops_scan(now=NOW + timedelta(minutes=5))
    alert = Alert.objects.get(rule="backup_drill")
    assert alert.severity == "critical" and alert.resolved_at is None and alert.key == str(record)
    [mail] = OutboxMessage.objects.all()  # one mail for the incident, not one per scan
    assert "復元訓練" in mail.body
    record.write_text(json.dumps({"ok": True, "finished_at": (NOW + timedelta(minutes=8)).isoformat()}))
    scan.ops_scan(now=NOW + timedelta(minutes=10))
    alert.refresh_from_db()
    assert alert.resolved_at is not None and Alert.objects.filter(rule="backup_drill").count() == 1
    assert OutboxMessage.objects.count() == 2  # the recovery notice


# --- clamd -----------------------------------------------------------------------------------------


def test_virus_signatures(settings, clamd_server, tmp_path):
    settings.CLAMD_ADDRESS, settings.VIRUS_SCAN_REQUIRED = clamd_server.socket_path, True
    settings.CLAMD_SIGNATURES_MAX_AGE_HOURS = 24
    assert findings(checks.virus_signatures(NOW)) == [("virus_signatures", "clamd", None)]
    settings.CLAMD_SIGNATURES_MAX_AGE_HOURS = 0
    [result] = checks.virus_signatures(NOW)
    assert result.finding.severity == "warning" and "更新されていません" in result.finding.summary
    settings.CLAMD_ADDRESS = str(tmp_path / "stopped.sock")
    assert findings(checks.virus_signatures(NOW))[0][2] == "critical"
    settings.CLAMD_ADDRESS, settings.VIRUS_SCAN_REQUIRED = "", False  # development: nothing to check
    assert checks.virus_signatures(NOW) == []


# --- the logs themselves ---------------------------------------------------------------------------


def test_a_missing_or_garbled_log_is_reported_and_ends_when_fixed(tmp_path, settings):
    log = tmp_path / "access.json"
    settings.OPS_ACCESS_LOGS = [str(log)]
    scan.ops_scan(now=NOW)
    alert = Alert.objects.get(rule="log_source")
    assert alert.evidence["problem"] == "missing"
    log.write_text(
        "garbage\n" * 10 + '{"time":"2026-12-07T11:59:00+09:00","client":"192.0.2.1","uri":"/","status":200}\n' * 90
    )
    scan.ops_scan(now=NOW + timedelta(minutes=5))
    alert.refresh_from_db()  # there now, but 10 % of its lines unreadable: the same incident goes on
    assert alert.resolved_at is None and alert.count == 2
    assert alert.evidence == {"path": str(log), "problem": "bad lines", "lines": 100, "bad_lines": 10}
    with open(log, "a") as file:
        file.write('{"time":"2026-12-07T12:04:00+09:00","client":"192.0.2.1","uri":"/","status":200}\n' * 300)
    scan.ops_scan(now=NOW + timedelta(minutes=10))
    alert.refresh_from_db()
    assert alert.resolved_at is not None


# --- staff logins from networks not seen before ----------------------------------------------------


def login(user, address, when):
    insert_audit(
        [
            {
                "time": when,
                "action": "login.succeeded",
                "ip": address,
                "username": user.get_username(),
                "known": True,
                "staff": True,
            }
        ],
        users={user.get_username(): user},
    )


def test_staff_login_from_a_new_network(settings):
    admin = make_staff(roles.AGENCY_ADMIN, username="agency-yamada")
    member = make_member("012025")
    login(admin, "192.0.2.81", NOW - timedelta(days=30))
    scan.ops_scan(now=NOW - timedelta(days=1))  # the first run
    login(admin, "192.0.2.200", NOW - timedelta(minutes=30))  # the same /24: the office
    login(member, "198.51.100.7", NOW - timedelta(minutes=25))  # local governments are not watched so
    scan.ops_scan(now=NOW)
    assert not Alert.objects.exists()
    login(admin, "203.0.113.50", NOW + timedelta(minutes=1))
    login(admin, "203.0.113.51", NOW + timedelta(minutes=2))  # the same new network: one incident
    scan.ops_scan(now=NOW + timedelta(minutes=5))
    alert = Alert.objects.get()
    assert (alert.rule, alert.key, alert.severity, alert.count) == (
        "staff_new_network",
        "agency-yamada 203.0.113.0/24",
        "warning",
        1,
    )
    assert alert.evidence["known_networks"] == ["192.0.2.0/24"]
    # Once seen, the network is known.
    login(admin, "203.0.113.52", NOW + timedelta(hours=3))
    scan.ops_scan(now=NOW + timedelta(hours=3, minutes=5))
    assert Alert.objects.count() == 1


def test_staff_network_edges(settings):
    operator = make_staff(roles.OPERATOR, username="op-kato")
    scan.ops_scan(now=NOW - timedelta(days=400))
    login(operator, "2001:db8:5:1::10", NOW - timedelta(days=365, minutes=1))  # forgotten after a year
    login(operator, "2001:db8:5:2::10", NOW - timedelta(days=10))  # the same /48
    settings.OPS_STAFF_KNOWN_NETWORKS = ["198.51.100.0/24"]
    login(operator, "198.51.100.9", NOW - timedelta(days=5))  # an office network: never reported
    scan.ops_scan(now=NOW - timedelta(days=1))
    [first] = Alert.objects.all()
    assert (first.severity, first.key) == ("info", "op-kato 2001:db8:5::/48")  # the first login: information
    Alert.objects.all().delete()
    login(operator, "2001:db8:7:1::10", NOW)
    scan.ops_scan(now=NOW + timedelta(minutes=5))
    [alert] = Alert.objects.all()
    assert alert.key == "op-kato 2001:db8:7::/48" and alert.severity == "warning"
