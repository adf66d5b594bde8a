"""ingest_access_logs and analytics_summary: exact counts on small logs in both formats, plain
and gzipped, given twice, rotated both ways; no address stored (decision 0036)."""

import gzip
import io
import json
import shutil
from datetime import date, datetime, timedelta

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import models

from kokasen.analytics import ingest
from kokasen.analytics.models import Breakdown, ClientKey, DayTotal, DownloadDay, NotFoundDay, PageDay
from kokasen.core.models import AccessLogPosition
from kokasen.testing.traffic import BROWSERS, JST, as_combined, json_line

pytestmark = pytest.mark.django_db

DAY = date(2026, 11, 4)
EDGE, CHROME, IPHONE, ANDROID = BROWSERS[0], BROWSERS[1], BROWSERS[3], BROWSERS[4]
GOOGLE = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
V6 = "2001:db8:101::7"
JA_PATH = "/news/%E5%85%90%E7%AB%A5%E7%A6%8F%E7%A5%89/"  # /news/児童福祉/
ADDRESSES = ["203.0.113.10", V6, "198.51.100.20", "66.249.66.1"]


def at(seconds):
    return datetime(2026, 11, 4, 9, 0, tzinfo=JST) + timedelta(seconds=seconds)


def requests():
    """(client, method, uri, status, agent, referrer) of one morning."""
    out = [
        ("203.0.113.10", "GET", "/", 200, EDGE, ""),
        ("203.0.113.10", "GET", "/static/css/portal.css", 200, EDGE, "https://portal.example.go.jp/"),
        ("203.0.113.10", "GET", "/news/index.html?c=m11", 200, EDGE, "https://www.pref.example.lg.jp/"),
        ("203.0.113.10", "GET", "/news/", 304, EDGE, "https://portal.example.go.jp/"),
        ("203.0.113.10", "GET", "/documents/12/%E8%B3%87%E6%96%99.pdf", 200, EDGE, ""),
        ("203.0.113.10", "GET", "/documents/12/%E8%B3%87%E6%96%99.pdf", 206, EDGE, ""),
        ("203.0.113.10", "POST", "/login/", 302, EDGE, ""),
        ("203.0.113.10", "GET", "/members/", 200, EDGE, ""),
        ("203.0.113.10", "GET", "/top.html", 404, EDGE, "https://www.city.example.lg.jp/link.html?x=1"),
        (V6, "GET", JA_PATH, 200, IPHONE, ""),
        (V6, "HEAD", "/about", 200, IPHONE, ""),
        (V6, "GET", "/about/?utm_campaign=kaigi", 200, IPHONE, "https://www.google.com/"),
        ("198.51.100.20", "GET", "/", 200, ANDROID, ""),
        ("198.51.100.20", "GET", "/healthz", 200, ANDROID, ""),
        ("198.51.100.20", "GET", "/admin/pages/", 200, ANDROID, ""),
        ("66.249.66.1", "GET", "/robots.txt", 200, GOOGLE, ""),
        ("66.249.66.1", "GET", "/", 200, GOOGLE, ""),
        ("66.249.66.1", "GET", "/news/", 200, GOOGLE, ""),
        ("66.249.66.1", "GET", "/documents/31/roundtable.mp4", 206, GOOGLE, ""),
    ]
    # a video in 20 range requests: one download
    out += [(V6, "GET", "/documents/31/roundtable.mp4", 206, IPHONE, "")] * 20
    return out


def lines():
    return [
        json_line(at(n), client, method, uri, status, 1000, 0.05 + n / 1000, agent, referrer)
        for n, (client, method, uri, status, agent, referrer) in enumerate(requests())
    ]


EXPECTED_PAGES = {"/": 2, "/news/": 2, "/news/児童福祉/": 1, "/about/": 2}
EXPECTED_DOWNLOADS = {"/documents/12/資料.pdf": 1, "/documents/31/roundtable.mp4": 1}


def summary(start=DAY, end=DAY):
    out = io.StringIO()
    call_command("analytics_summary", "--from", start.isoformat(), "--to", end.isoformat(), "--json", stdout=out)
    return json.loads(out.getvalue())


def run(*paths, **kwargs):
    out, err = io.StringIO(), io.StringIO()
    call_command("ingest_access_logs", *map(str, paths), stdout=out, stderr=err, **kwargs)
    return out.getvalue(), err.getvalue()


@pytest.fixture(autouse=True)
def state_dir(settings, tmp_path):
    settings.OPS_STATE_DIR = tmp_path / "state"
    settings.ANALYTICS_ACCESS_LOGS = []


def check_numbers(data, *, lines_total, bad):
    assert data["lines"] == lines_total
    assert data["bad_lines"] == bad
    assert data["bot_requests"] == 4
    assert data["page_views"] == EXPECTED_PAGES
    assert data["downloads"] == EXPECTED_DOWNLOADS


def test_json_log_exact_counts_and_a_second_ingest_adds_nothing(tmp_path):
    log = tmp_path / "access.json"
    body = "\n".join(lines()) + "\n"
    # invalid bytes in one line's user agent, a line that is not a request, a truncated last line
    bad_agent = json_line(at(100), "198.51.100.20", "GET", "/faq/", 200, 10, 0.01, "X").replace('"X"', '"Edge\xff"')
    data = body.encode() + bad_agent.encode("latin-1") + b"\nthis is not a log line\n" + lines()[0][:40].encode()
    log.write_bytes(data)
    out, _ = run(log)
    assert "読めない行 2" in out
    first = summary()
    expected_pages = dict(EXPECTED_PAGES, **{"/faq/": 1})
    assert first["lines"] == len(requests()) + 3
    assert first["bad_lines"] == 2
    assert first["bot_requests"] == 4
    assert first["page_views"] == expected_pages
    assert first["downloads"] == EXPECTED_DOWNLOADS
    assert first["requests"] == len(requests()) + 1

    run(log)  # the same file again
    gz = tmp_path / "copy-of-access.json.gz"
    with gzip.open(gz, "wb") as file:
        file.write(data)
    run(gz)  # the same content gzipped under another name
    assert summary() == first

    page = PageDay.objects.get(day=DAY, path="/about/")
    assert (page.views, page.bot_views) == (2, 0)
    assert sum(page.times.values()) == 2
    assert PageDay.objects.get(day=DAY, path="/").bot_views == 1
    video = DownloadDay.objects.get(day=DAY, path="/documents/31/roundtable.mp4")
    assert (video.downloads, video.requests, video.bot_requests) == (1, 21, 1)
    breakdown = {(row.dimension, row.value): row.count for row in Breakdown.objects.filter(day=DAY)}
    assert breakdown[("campaign", "m11")] == 1
    assert breakdown[("campaign", "kaigi")] == 1
    assert breakdown[("referrer", "www.pref.example.lg.jp")] == 1
    assert breakdown[("referrer", "www.google.com")] == 1
    assert breakdown[("device", "desktop")] == 3
    assert breakdown[("device", "mobile")] == 4
    assert breakdown[("bot_reason", "agent")] == 4
    assert breakdown[("kind", "members")] == 2
    assert breakdown[("kind", "admin")] == 1
    assert breakdown[("kind", "health")] == 1
    assert breakdown[("kind", "asset")] == 1
    not_found = NotFoundDay.objects.get(day=DAY)
    assert (not_found.path, not_found.referrer, not_found.count) == (
        "/top.html",
        "https://www.city.example.lg.jp/link.html",
        1,
    )


def test_combined_format_gives_the_same_numbers(tmp_path):
    log = tmp_path / "access.log"
    log.write_text("\n".join(as_combined(lines())) + "\n", encoding="utf-8")
    run(log)
    check_numbers(summary(), lines_total=len(requests()), bad=0)
    assert DayTotal.objects.get(day=DAY).requests == len(requests())
    assert PageDay.objects.get(day=DAY, path="/").times == {}  # no response times in this format


def test_create_mode_rotation_reads_every_line_once(settings, tmp_path):
    live = tmp_path / "access.json"
    settings.ANALYTICS_ACCESS_LOGS = [str(live)]
    all_lines = lines()
    live.write_text("\n".join(all_lines[:10]) + "\n" + all_lines[10][:30], encoding="utf-8")  # a line half written
    run()
    assert summary()["lines"] == 10
    with open(live, "a", encoding="utf-8") as file:
        file.write(all_lines[10][30:] + "\n" + "\n".join(all_lines[11:20]) + "\n")
    rotated = tmp_path / "access.json-20261104"
    live.rename(rotated)  # logrotate, create mode: nginx writes its last lines to the old file
    with open(rotated, "a", encoding="utf-8") as file:
        file.write(all_lines[20] + "\n")
    live.write_text("\n".join(all_lines[21:30]) + "\n", encoding="utf-8")
    run()
    with open(rotated, "rb") as source, gzip.open(tmp_path / "access.json-20261104.gz", "wb") as target:
        shutil.copyfileobj(source, target)
    rotated.unlink()  # compressed the day after
    with open(live, "a", encoding="utf-8") as file:
        file.write("\n".join(all_lines[30:]) + "\n")
    run()
    run()
    check_numbers(summary(), lines_total=len(all_lines), bad=0)


def test_copytruncate_rotation_reads_every_line_once(settings, tmp_path):
    live = tmp_path / "access.json"
    settings.ANALYTICS_ACCESS_LOGS = [str(live)]
    all_lines = lines()
    live.write_text("\n".join(all_lines[:15]) + "\n", encoding="utf-8")
    run()
    with open(live, "a", encoding="utf-8") as file:
        file.write("\n".join(all_lines[15:25]) + "\n")
    shutil.copyfile(live, tmp_path / "access.json.1")  # copytruncate: copy, then empty the live file
    with open(live, "r+b") as file:
        file.truncate(0)
    run()
    live.write_text("\n".join(all_lines[25:]) + "\n", encoding="utf-8")
    run()
    run()
    check_numbers(summary(), lines_total=len(all_lines), bad=0)


def test_two_processes_count_what_one_counts(tmp_path, monkeypatch):
    many = []
    for day in range(3):
        for line in lines():
            entry = json.loads(line)
            moment = datetime.fromisoformat(entry["time"]) + timedelta(days=day)
            entry["time"] = moment.isoformat()
            many.append(json.dumps(entry, ensure_ascii=False))
    single, double = tmp_path / "one.json", tmp_path / "two.json"
    single.write_text("\n".join(many) + "\n", encoding="utf-8")
    double.write_text("\n".join(many) + "\n" + lines()[0] + "\n", encoding="utf-8")  # one line more
    run(single, processes=1)
    one = summary(DAY, DAY + timedelta(days=2))
    for model in (DayTotal, PageDay, DownloadDay, Breakdown, NotFoundDay, ClientKey, AccessLogPosition):
        model.objects.all().delete()  # start again: the second file begins like the first
    monkeypatch.setattr(ingest, "PARALLEL_FROM_BYTES", 0)
    report = ingest.ingest([double], processes=2)
    assert report.lines == len(many) + 1
    two = summary(DAY, DAY + timedelta(days=2))
    assert two["lines"] == one["lines"] + 1
    assert two["page_views"] == {path: n + (1 if path == "/" else 0) for path, n in one["page_views"].items()}
    assert two["downloads"] == one["downloads"]
    assert one["downloads"] == {path: 3 for path in EXPECTED_DOWNLOADS}


def test_a_renamed_page_keeps_its_history(tmp_path, demo_site):
    from wagtail.models import Page, Site

    from kokasen.analytics.selectors import page_views_by_page

    root = Site.objects.get(is_default_site=True).root_page
    page = root.get_children().live().first().specific
    old = page.url_path[len(root.url_path) - 1 :]
    log = tmp_path / "before.json"
    log.write_text(json_line(at(0), "203.0.113.10", "GET", old, 200, 10, 0.1, EDGE) + "\n", encoding="utf-8")
    run(log)
    page.slug = page.slug + "-renamed"
    page.save_revision().publish()
    page.refresh_from_db()
    new = page.url_path[len(root.url_path) - 1 :]
    assert new != old
    log = tmp_path / "after.json"
    log.write_text(json_line(at(60), "203.0.113.10", "GET", new, 200, 10, 0.1, EDGE) + "\n", encoding="utf-8")
    run(log)
    assert summary()["page_views"] == {old: 1, new: 1}
    assert page_views_by_page(DAY, DAY)[page.pk] == 2
    assert Page.objects.filter(pk=page.pk).exists()


def test_no_address_or_user_agent_is_stored(tmp_path):
    log = tmp_path / "access.json"
    log.write_text("\n".join(lines()) + "\n", encoding="utf-8")
    run(log)
    stored = []
    for model in apps.get_app_config("analytics").get_models():
        for row in model.objects.all():
            for field in model._meta.concrete_fields:
                if isinstance(field, (models.CharField, models.TextField, models.JSONField)):
                    stored.append(str(getattr(row, field.attname)))
    text = "\n".join(stored)
    assert stored
    for address in ADDRESSES + ["2001:db8:101:"]:
        assert address not in text
    for agent in (EDGE, IPHONE, "Googlebot"):
        assert agent not in text


def test_the_operators_ignore_list_and_a_bot_remembered_across_runs(settings, tmp_path):
    settings.ANALYTICS_IGNORE_NETWORKS = ["203.0.113.0/24"]
    first = tmp_path / "first.json"
    robots = json_line(at(0), "198.51.100.99", "GET", "/robots.txt", 200, 10, 0.01, CHROME)
    first.write_text("\n".join(lines()) + "\n" + robots + "\n", encoding="utf-8")
    run(first)
    data = summary()
    assert data["bot_requests"] == 4 + 9 + 1  # Googlebot, the ignored office, the robots.txt reader
    assert data["page_views"] == {"/news/児童福祉/": 1, "/about/": 2, "/": 1}
    later = tmp_path / "later.json"  # the robots.txt reader comes back in a later run of the same day
    later.write_text(
        json_line(at(600), "198.51.100.99", "GET", "/faq/", 200, 10, 0.01, CHROME) + "\n", encoding="utf-8"
    )
    run(later)
    assert summary()["page_views"] == data["page_views"]
    assert PageDay.objects.get(day=DAY, path="/faq/").bot_views == 1
    reasons = {row.value: row.count for row in Breakdown.objects.filter(day=DAY, dimension="bot_reason")}
    assert reasons == {"agent": 4, "ignored": 9, "robots": 1, "earlier": 1}


def test_the_selectors_of_the_reports(tmp_path):
    from kokasen.analytics import selectors

    log = tmp_path / "access.json"
    log.write_text("\n".join(lines()) + "\n", encoding="utf-8")
    run(log)
    table = {row["path"]: row for row in selectors.page_table(DAY, DAY)}
    assert {path: row["views"] for path, row in table.items()} == EXPECTED_PAGES
    assert table["/"]["bot_views"] == 1
    # "/" was answered in 0.050 s (line 0), 0.062 s (line 12) and 0.066 s (Googlebot, line 16)
    assert 0.062 <= table["/"]["p50"] <= 0.062 * 1.05
    assert 0.066 <= table["/"]["p95"] <= 0.066 * 1.05
    assert selectors.breakdown(DAY, DAY, "device") == {"mobile": 4, "desktop": 3}
    assert selectors.breakdown(DAY, DAY, "campaign") == {"kaigi": 1, "m11": 1}
    assert selectors.not_found(DAY, DAY) == [("/top.html", "https://www.city.example.lg.jp/link.html", 1)]


def test_a_damaged_gzip_file_is_counted_up_to_the_damage_and_reported(tmp_path):
    whole = tmp_path / "whole.json.gz"
    many = [line for _ in range(300) for line in lines()]  # about 4 MB: cut in the middle of the stream
    with gzip.open(whole, "wb") as file:
        file.write(("\n".join(many) + "\n").encode())
    damaged = tmp_path / "damaged.json.gz"
    damaged.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    out, err = run(damaged)
    assert "読めないファイル" in err and "damaged.json.gz" in err
    first = summary()
    assert 0 < first["lines"] < len(many)
    run(damaged)  # again: nothing new, still not fatal
    assert summary() == first
