"""Each rule of ops_scan over log records and audit events at the edges of its threshold
(kokasen/ops/detection.py, with the default thresholds of settings.OPS_THRESHOLDS)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings

from kokasen.core.access_log import Record
from kokasen.core.client_address import throttle_key
from kokasen.core.tests.test_deploy_fail2ban import ADMIN_VISITS, ATTACKS, VISITS
from kokasen.ops import detection
from kokasen.ops.detection import AuditRules, Event, LogRules, Thresholds

T0 = datetime(2026, 12, 7, 0, 0, tzinfo=UTC)  # 09:00 in Japan, a minute and five minutes begin
LATER = T0 + timedelta(hours=2)  # every window closed
LIMITS = Thresholds.from_settings(settings.OPS_THRESHOLDS)
BROWSER = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/131.0.0.0 Safari/537.36"


def record(
    second=0.0,
    *,
    client="203.0.113.10",
    method="GET",
    path="/",
    query="",
    status=200,
    seconds=0.05,
    agent=BROWSER,
    refused=False,
):
    return Record(
        int(T0.timestamp() + second), client, method, path, query, status, 100, seconds, agent, "", "", "", refused
    )


def run(records, *, now=LATER, carry=None):
    rules = LogRules(LIMITS, now=now, carry=carry, fold=throttle_key)
    rules.feed(records)
    return rules.findings(), rules


def keys(findings):
    return sorted((f.rule, f.key) for f in findings)


def spread(count, seconds=59.0, **kwargs):
    """``count`` records spread over the first ``seconds`` of T0."""
    return [record(seconds * n / max(count, 1), **kwargs) for n in range(count)]


# --- scanners ---------------------------------------------------------------------------------------


def test_scanner_paths_agree_with_the_fail2ban_filter_corpus():
    for method, path, _status in ATTACKS:
        path, _, query = path.partition("?")
        assert detection.is_scanner_request(method, path, query), path
    for method, path, _status, _weight in VISITS + ADMIN_VISITS:
        path, _, query = path.partition("?")
        assert not detection.is_scanner_request(method, path, query), path
    assert detection.is_scanner_request("CONNECT", "www.example.com:443", "")
    assert detection.is_scanner_request("GET", "http://www.example.com/", "")


def test_scanner_at_the_edge_of_path_hits():
    paths = [
        "/.env",
        "/wp-login.php",
        "/.git/config",
        "/phpmyadmin/",
        "/x.php",
        "/cgi-bin/a",
        "/.aws/credentials",
        "/backup.sql",
        "/server-status",
        "/actuator/env",
    ]
    below = [record(n, client="192.0.2.9", path=p, status=404) for n, p in enumerate(paths[:9])]
    assert run(below)[0] == []
    findings, _ = run(below + [record(20, client="192.0.2.9", path=paths[9], status=404)])
    [finding] = findings
    assert (finding.rule, finding.key, finding.severity, finding.count) == ("scanner", "192.0.2.9", "warning", 10)
    # Nine in one ten-minute window and nine in the next are two quiet windows.
    later = [record(600 + n, client="192.0.2.9", path=p, status=404) for n, p in enumerate(paths[:9])]
    assert run(below + later)[0] == []


def test_a_scanner_path_answered_with_2xx_is_critical():
    requests = [record(n, client="192.0.2.9", path="/.env", status=404) for n in range(9)]
    [finding] = run(requests + [record(30, client="192.0.2.9", path="/wp-login.php", status=200)])[0]
    assert finding.severity == "critical" and finding.evidence["answered_2xx"] == 1


def test_one_request_of_an_attack_tool_is_enough_and_a_browser_is_not():
    [finding] = run([record(1, client="192.0.2.9", path="/", agent="sqlmap/1.8#stable (https://sqlmap.org)")])[0]
    assert finding.evidence["tools"] == ["sqlmap"]
    assert run([record(n) for n in range(50)])[0] == []
    crawler = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
    assert run([record(n, agent=crawler) for n in range(50)])[0] == []


# --- floods -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path,limit",
    [
        ("/", 900),
        ("/login/", 240),
        ("/password-reset/", 45),
        ("/search/", 150),
        ("/admin/pages/", 1200),
        ("/documents/1/a.pdf", 1500),
        ("/static/a.css", 5000),
    ],
)
def test_flood_per_address_and_path_group_at_the_edge(path, limit):
    assert run(spread(limit - 1, path=path))[0] == []
    [finding] = run(spread(limit, path=path))[0]
    assert (finding.rule, finding.key, finding.evidence["peak_per_minute"]) == ("flood", "203.0.113.10", limit)


def test_a_busy_gateway_spread_over_groups_and_minutes_is_no_flood():
    # 800 pages, 200 logins, 1,400 files and 4,000 static files in one minute; then 899 pages in each of the next two.
    busy = (
        spread(800)
        + spread(200, path="/login/")
        + spread(1400, path="/documents/2/b.pdf")
        + spread(4000, path="/static/css/portal.css")
    )
    busy += [record(60 * minute + 59 * n / 899) for minute in (1, 2) for n in range(899)]
    assert run(busy)[0] == []


def test_an_ipv6_client_counts_as_its_64():
    requests = [record(n / 10, client=f"2001:db8:1:2::{n % 300:x}", path="/login/") for n in range(240)]
    [finding] = run(requests)[0]
    assert finding.key == "2001:db8:1:2::/64"


def test_refused_lines_stand_for_16_requests_each():
    assert run(spread(39, refused=True, path="/login/", status=429))[0] == []
    [finding] = run(spread(40, refused=True, path="/login/", status=429))[0]
    assert finding.evidence["peak_per_minute"] == 640 and finding.evidence["peak_group"] == "refused"


# --- errors -----------------------------------------------------------------------------------------


def test_client_errors_at_the_edge_of_count_and_share():
    window = 290.0
    assert run(spread(299, window, status=404) + spread(299, window))[0] == []
    [finding] = run(spread(300, window, status=404) + spread(300, window))[0]
    assert (finding.rule, finding.evidence["errors"], finding.evidence["requests"]) == ("client_errors", 300, 600)
    assert run(spread(300, window, status=403) + spread(301, window))[0] == []  # under half of the requests


def test_scanner_requests_are_not_also_client_errors():
    requests = [record(n, client="192.0.2.9", path=f"/wp-admin/{n}.php", status=404) for n in range(290)]
    requests += [record(n, client="192.0.2.9", path=f"/old/{n}/", status=404) for n in range(299)]
    assert keys(run(requests)[0]) == [("scanner", "192.0.2.9")]


def test_server_errors_at_the_edge_of_count_and_share():
    window = 290.0
    assert run(spread(19, window, status=502))[0] == []
    [finding] = run(spread(20, window, status=502) + spread(980, window))[0]
    assert (finding.rule, finding.key, finding.severity) == ("server_errors", "site", "critical")
    assert run(spread(20, window, status=500) + spread(981, window))[0] == []  # under 2 %


# --- response times ---------------------------------------------------------------------------------


def test_p95_at_the_edge_of_the_limit():
    def window(slow_seconds, count=100, path="/"):
        # 95 of 100 fast, the slowest five at slow_seconds: p95 is the 95th, so make six slow.
        return [record(n * 2.5, path=path, seconds=slow_seconds if n < 6 else 0.1) for n in range(count)]

    assert run(window(2.0))[0] == []  # p95 exactly at the limit
    [finding] = run(window(2.01))[0]
    assert (finding.rule, finding.key, finding.evidence["p95_seconds"]) == ("slow_responses", "pages", 2.05)
    assert run(window(9.0, count=49))[0] == []  # too few requests to judge
    assert run(window(9.0, path="/documents/1/video.mp4"))[0] == []  # downloads are timed by the client
    assert keys(run(window(3.5, path="/admin/pages/"))[0]) == []  # the admin's limit is 5 s
    assert keys(run(window(5.5, path="/admin/pages/"))[0]) == [("slow_responses", "admin")]


# --- windows across runs ----------------------------------------------------------------------------


def test_a_minute_split_over_two_runs_counts_whole_and_is_judged_once():
    first = [record(n * 0.05, path="/login/") for n in range(150)]  # 0–7.5 s
    now = T0 + timedelta(seconds=10)
    findings, rules = run(first, now=now)
    assert findings == []
    carry = json.loads(json.dumps(rules.carry()))  # stored as JSON in ScanRun.carry
    second = [record(30 + n * 0.05, path="/login/") for n in range(90)]
    findings, rules = run(second, now=T0 + timedelta(minutes=5), carry=carry)
    [finding] = findings
    assert finding.evidence["peak_per_minute"] == 240
    assert rules.carry()["flood"] == []
    assert run([], now=T0 + timedelta(minutes=10), carry=json.loads(json.dumps(rules.carry())))[0] == []


def test_an_open_window_is_not_judged_yet():
    requests = spread(240, path="/login/")
    assert run(requests, now=T0 + timedelta(seconds=80))[0] == []  # ended 20 s ago: lines may still come
    assert len(run(requests, now=T0 + timedelta(seconds=95))[0]) == 1


def test_judging_as_the_lines_come_gives_the_same_findings(monkeypatch):
    requests = (
        spread(240, path="/login/")
        + [record(3600 + n, client="192.0.2.9", path="/.env") for n in range(10)]
        + [record(7200 + n, status=503) for n in range(25)]
    )
    whole, _ = run(requests, now=T0 + timedelta(hours=3))
    monkeypatch.setattr(LogRules, "COMPACT_EVERY", 7)
    rules = LogRules(LIMITS, now=T0 + timedelta(hours=3), fold=throttle_key)
    for start in range(0, len(requests), 7):
        rules.feed(requests[start : start + 7])
    assert (
        keys(rules.findings())
        == keys(whole)
        == [("flood", "203.0.113.10"), ("scanner", "192.0.2.9"), ("server_errors", "site")]
    )


# --- what evidence may show -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path,query,shown",
    [
        ("/password-reset/MQ/cbm9z1-5f0a3b2c9d8e7f6a/", "", "/password-reset/…/"),
        ("/login/totp/invitation/abcDEF123/", "", "/login/totp/invitation/…/"),
        ("/login/", "next=/members/&username=012025", "/login/"),
        ("/admin/pages/", "q=x", "/admin/pages/"),
        ("/search/", "q=%E7%A0%94&token=abc&api_key=1&page=2", "/search/?q=%E7%A0%94&token=***&api_key=***&page=2"),
        ("/x\x1b[31m", "", "/x?[31m"),
    ],
)
def test_safe_uri(path, query, shown):
    assert detection.safe_uri(path, query) == shown


def test_evidence_of_a_login_flood_holds_no_query_string():
    requests = spread(240, path="/login/", query="next=/members/&password=hunter2")
    [finding] = run(requests)[0]
    assert "hunter2" not in json.dumps(finding.evidence) and "password" not in json.dumps(finding.evidence)


# --- audit rules ------------------------------------------------------------------------------------


def event(n, action, *, minute=0.0, address="203.0.113.66", username=None, new=True, known=True):
    return Event(n, T0.timestamp() + minute * 60, action, address, username or f"{20000 + n:06d}", known, new)


def test_account_spray_at_the_edge():
    failures = [event(n, "login.failed", minute=n * 2.5) for n in range(20)]  # 20 user IDs in 47.5 minutes
    assert AuditRules(LIMITS, failures[:19]).findings() == []
    [finding] = AuditRules(LIMITS, failures).findings()
    assert (finding.rule, finding.key, finding.severity, finding.evidence["accounts_tried"]) == (
        "account_spray",
        "203.0.113.66",
        "critical",
        20,
    )
    # The same twenty spread over more than an hour: never twenty within one.
    slow = [event(n, "login.failed", minute=n * 3.2) for n in range(20)]
    assert AuditRules(LIMITS, slow).findings() == []


def test_a_gateway_of_typos_that_then_log_in_is_no_spray():
    events = []
    for n in range(60):  # 60 local governments behind one address, 25 of them mistype first
        if n < 25:
            events.append(event(n, "login.failed", minute=n * 0.5, address="203.0.113.10"))
        events.append(
            event(
                1000 + n, "login.succeeded", minute=n * 0.5 + 0.2, address="203.0.113.10", username=f"{20000 + n:06d}"
            )
        )
    assert AuditRules(LIMITS, events).findings() == []
    # …but 20 that never log in are.
    events += [event(200 + n, "login.failed", minute=40 + n * 0.1, address="203.0.113.10") for n in range(20)]
    assert [f.rule for f in AuditRules(LIMITS, events).findings()] == ["account_spray"]


def test_refused_tries_count_as_tried_user_ids():
    events = [event(n, "login.failed", minute=n * 0.1) for n in range(10)]
    events += [event(100 + n, "login.throttled", minute=2 + n * 0.1) for n in range(10)]
    [finding] = AuditRules(LIMITS, events).findings()
    assert finding.evidence["failures"] == 10 and finding.evidence["refused_attempts"] == 10


def test_only_new_events_are_judged_older_ones_are_context():
    old = [event(n, "login.failed", minute=n * 0.1, new=False) for n in range(19)]
    assert AuditRules(LIMITS, old).findings() == []
    [finding] = AuditRules(LIMITS, old + [event(50, "login.failed", minute=5)]).findings()
    assert finding.evidence["accounts_tried"] == 20 and finding.count == 1  # one new failure


def test_login_failure_spike_from_many_addresses_at_the_edge():
    def failures(count):
        return [event(n, "login.failed", minute=n * 14 / count, address=f"198.51.100.{n % 200}") for n in range(count)]

    assert AuditRules(LIMITS, failures(99)).findings() == []
    [finding] = AuditRules(LIMITS, failures(100)).findings()
    assert (finding.rule, finding.key, finding.evidence["failures"]) == ("login_failures", "site", 100)
    # Failures from an address already reported as one source are that incident's.
    spray = [event(500 + n, "login.failed", minute=n * 0.1, address="203.0.113.66") for n in range(30)]
    assert [f.rule for f in AuditRules(LIMITS, failures(80) + spray).findings()] == ["account_spray"]
    assert AuditRules(LIMITS, failures(100)).findings(excluded_addresses={f"198.51.100.{n}" for n in range(200)}) == []


def test_lockout_spike_at_the_edge():
    def lockouts(count):
        return [
            event(n, "lockout.started", minute=n * 5, address="", username=f"{30000 + n:06d}") for n in range(count)
        ]

    assert AuditRules(LIMITS, lockouts(9)).findings() == []
    [finding] = AuditRules(LIMITS, lockouts(10)).findings()
    assert (finding.rule, finding.evidence["accounts_protected"]) == ("lockouts", 10)


def test_combine_joins_one_address_over_two_logs():
    accepted, _ = run(spread(900))
    refused, _ = run(spread(40, refused=True))
    [finding] = detection.combine(accepted + refused)
    assert finding.count == 900 + 640 and finding.evidence["groups"] == ["pages", "refused"]
    assert finding.evidence["peak_per_minute"] == 900 and finding.evidence["minutes"] == 1
