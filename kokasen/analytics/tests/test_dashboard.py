"""The dashboard 「アクセス解析」 (decision 0051): the numbers of the tables on the screen, the
period picker, CSV (UTF-8 with BOM) and Excel downloads that keep a hostile page title, referrer
host and referring page as text, and a number of queries that does not grow with the data. Who may
open it is in core's URL × persona test."""

import csv
import io
from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from kokasen.analytics import tables
from kokasen.analytics.tests.test_tables import END, HOSTILE_HOST, HOSTILE_TITLE, START, _grow, scene  # noqa: F401

pytestmark = pytest.mark.django_db

URL = "/admin/analytics/"
PERIOD = {"from": START.isoformat(), "to": END.isoformat()}


def test_the_dashboard_shows_the_tables_numbers(staff_client, scene):  # noqa: F811
    response = staff_client.get(URL, PERIOD)
    assert response.status_code == 200
    html = response.content.decode()
    assert "2026年11月1日〜2026年11月30日" in html and "2026年10月2日〜2026年10月31日" in html
    assert "アクセス数：公開サイトの HTML ページが人に表示された回数" in html  # the definition, first
    assert "アクセス数</dt>" in html
    for table in tables.period_tables(START, END):
        assert f'id="t-{table.key}"' in html or table.key == "definitions", table.key
    totals = response.context["by_key"]["totals"]
    assert totals.rows[0][:3] == ("アクセス数（人のページビュー）", 80, 20)
    assert '<td class="ad-num">80</td>' in html
    assert "&lt;svg" not in html and html.count('<svg class="ad-svg"') == 4
    assert html.count('class="ad-tile ') == 47
    assert "=HYPERLINK(&quot;http://evil.example/&quot;" in html  # escaped, shown as text
    assert " style=" not in html.split('<div class="ad">')[1]


def test_this_month_by_default_and_a_wrong_period_said_so(staff_client, scene, settings):  # noqa: F811
    response = staff_client.get(URL)
    first, today = response.context["start"], response.context["end"]
    assert first.day == 1 and (first.year, first.month) == (today.year, today.month)
    response = staff_client.get(URL, {"from": "2026-11-30", "to": "2026-11-01"})
    assert response.context["start"].day == 1
    assert "終了日が開始日より前です。今月の数字を表示しています。" in response.content.decode()
    response = staff_client.get(URL, {"from": "2020-01-01", "to": "2026-11-01"})
    assert "期間は3年以内で指定してください。" in response.content.decode()


def test_csv_and_excel_keep_hostile_text_as_text(staff_client, scene):  # noqa: F811
    response = staff_client.get(f"{URL}download/pages.csv", PERIOD)
    assert response.status_code == 200 and response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    body = response.content
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0] == list(tables.period_table("pages", START, END).columns)
    assert rows[1][:5] == ["1", "'" + HOSTILE_TITLE, "/a-renamed/", "40", "7"]
    referrers = staff_client.get(f"{URL}download/referrers.csv", PERIOD).content.decode("utf-8-sig")
    assert f"'{HOSTILE_HOST}" in referrers
    not_found = staff_client.get(f"{URL}download/not_found.csv", PERIOD).content.decode("utf-8-sig")
    assert "'@SUM(1+1)" in not_found

    response = staff_client.get(f"{URL}download/pages.xlsx", PERIOD)
    sheet = load_workbook(io.BytesIO(response.content)).active
    cells = [cell for row in sheet.iter_rows() for cell in row if cell.value == HOSTILE_TITLE]
    assert len(cells) == 1 and cells[0].data_type == "s" and cells[0].quotePrefix

    response = staff_client.get(f"{URL}download/all.xlsx", PERIOD)
    book = load_workbook(io.BytesIO(response.content))
    assert len(book.sheetnames) == len(tables.KEYS)
    formulas = [c for ws in book for row in ws.iter_rows() for c in row if c.data_type == "f"]
    assert formulas == []
    never = book[tables.period_table("never_logged_in", START, END).title[:31]]
    assert never.max_row > 1786  # all rows, not the screen's 50


def test_unknown_tables_and_formats_are_404(staff_client, scene):  # noqa: F811
    assert staff_client.get(f"{URL}download/nothing.csv").status_code == 404
    assert staff_client.get(f"{URL}download/all.csv").status_code == 404


def test_the_dashboard_asks_the_same_number_of_queries_with_more_data(staff_client, scene):  # noqa: F811
    staff_client.get(URL, PERIOD)
    with CaptureQueriesContext(connection) as small:
        staff_client.get(URL, PERIOD)
    _grow(scene, 60)
    # New local governments renew the cached access facts (decision 0060): one request refills them.
    staff_client.get(URL, PERIOD)
    with CaptureQueriesContext(connection) as large:
        staff_client.get(URL, PERIOD)
    # the same or fewer (an empty id list asks nothing: no Wagtail page among the first 20)
    assert len(large.captured_queries) <= len(small.captured_queries)


def test_period_helpers():
    assert tables.month_period(date(2026, 12, 7)) == (date(2026, 12, 1), date(2026, 12, 7))
    assert tables.previous_period(date(2026, 12, 1), date(2026, 12, 7)) == (date(2026, 11, 24), date(2026, 11, 30))
