"""The tables of a period (decision 0051): exact numbers on a small fixture, the comparison with
the previous period, the coverage adding up to the 1,788, one key computing one table, and a
number of queries that does not grow with the data."""

from datetime import date, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from wagtail.models import Page

from kokasen.analytics import tables
from kokasen.analytics.models import (
    ActivityDay,
    Breakdown,
    DayTotal,
    DocumentOpen,
    DownloadDay,
    LoginDay,
    NotFoundDay,
    PageDay,
)
from kokasen.localgov.models import LocalGovernment
from kokasen.testing import CODE_A, CODE_B, make_member

pytestmark = pytest.mark.django_db

START, END = date(2026, 11, 1), date(2026, 11, 30)
HOSTILE_TITLE = '=HYPERLINK("http://evil.example/","クリック")'
HOSTILE_HOST = "-2+3+cmd|' /C calc'!A0"


def at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=timezone.get_current_timezone())


def make_post(topic, user, day, *, state="approved", initial="pending", wait_hours=None):
    from kokasen.tips.models import Post

    submitted = at(day)
    return Post.objects.create(
        topic=topic,
        author=user,
        local_government=user.local_government,
        body="家庭訪問の前に電話を一本",
        state=state,
        initial_state=initial,
        mode_at_submission="pre",
        submitted_at=submitted,
        decided_at=submitted + timedelta(hours=wait_hours) if wait_hours is not None else None,
    )


@pytest.fixture
def scene():
    from kokasen.feedback.models import Opinion
    from kokasen.tips.models import Topic

    page = Page.objects.filter(depth=2).first()
    page.title = HOSTILE_TITLE
    page.save()
    a, b = make_member(CODE_A), make_member(CODE_B)
    la, lb = a.local_government_id, b.local_government_id
    nov3, nov4, oct15 = date(2026, 11, 3), date(2026, 11, 4), date(2026, 10, 15)
    DayTotal.objects.create(day=nov3, lines=100, requests=100, bot_requests=20, page_views=50, downloads=5)
    DayTotal.objects.create(day=nov4, lines=50, requests=50, bot_requests=10, page_views=30, downloads=1)
    DayTotal.objects.create(day=oct15, lines=40, requests=40, bot_requests=4, page_views=20, downloads=2)
    DayTotal.objects.create(day=date(2026, 10, 1), requests=999, page_views=999)  # before the previous period
    PageDay.objects.create(day=nov3, path="/a/", page=page, views=30, bot_views=4, times={"5": 10, "20": 10})
    PageDay.objects.create(day=nov4, path="/a-renamed/", page=page, views=10, bot_views=0)
    PageDay.objects.create(day=nov3, path="/search/", views=20, bot_views=1)
    PageDay.objects.create(day=nov3, path="/bots-only/", views=0, bot_views=9)
    PageDay.objects.create(day=oct15, path="/a/", page=page, views=7)
    DownloadDay.objects.create(day=nov3, path="/documents/999999/gone.pdf", downloads=5, requests=25)
    DownloadDay.objects.create(day=nov4, path="/files/list.xlsx", downloads=1, requests=1)
    DownloadDay.objects.create(day=oct15, path="/files/list.xlsx", downloads=2, requests=2)
    for dimension, value, count in [
        (Breakdown.DEVICE, "desktop", 60),
        (Breakdown.DEVICE, "mobile", 20),
        (Breakdown.REFERRER, "www.google.com", 9),
        (Breakdown.REFERRER, HOSTILE_HOST, 1),
        (Breakdown.CAMPAIGN, "m1104", 12),
        (Breakdown.BOT_REASON, "agent", 25),
        (Breakdown.BOT_REASON, "robots", 5),
    ]:
        Breakdown.objects.create(day=nov3, dimension=dimension, value=value, count=count)
    NotFoundDay.objects.create(day=nov3, key="k1", path="/old/", referrer="https://example.jp/links/", count=3)
    NotFoundDay.objects.create(day=nov4, key="k2", path="/old/", referrer="https://example.jp/links/", count=2)
    NotFoundDay.objects.create(day=nov4, key="k3", path="/x/", referrer="@SUM(1+1)", count=1)
    LoginDay.objects.create(day=nov3, local_government_id=la, logins=2)
    LoginDay.objects.create(day=nov4, local_government_id=la, logins=1)
    LoginDay.objects.create(day=nov4, local_government_id=lb, logins=1)
    LoginDay.objects.create(day=oct15, local_government_id=la, logins=4)
    ActivityDay.objects.create(day=nov3, local_government_id=la, kind=ActivityDay.PAGE_VIEW, count=7)
    ActivityDay.objects.create(day=nov3, local_government_id=la, kind=ActivityDay.POST, count=2)
    ActivityDay.objects.create(day=nov4, local_government_id=lb, kind=ActivityDay.POST, count=1)
    ActivityDay.objects.create(day=nov4, local_government_id=lb, kind=ActivityDay.OPINION, count=1)
    DocumentOpen.objects.create(day=nov3, local_government_id=la)
    DocumentOpen.objects.create(day=nov4, local_government_id=lb)
    topic = Topic.objects.create(title="初回訪問の工夫", opens_at=at(date(2026, 10, 1)))
    other = Topic.objects.create(title="母子手帳の交付", opens_at=at(date(2026, 10, 1)))
    make_post(topic, a, nov3, wait_hours=2)
    make_post(topic, a, nov3, wait_hours=6, state="withdrawn", initial="pending")
    make_post(other, b, nov4, wait_hours=5)
    make_post(other, b, oct15, wait_hours=1)
    Opinion.objects.create(author=b, local_government_id=lb, category="usability", body="検索が便利です")
    Opinion.objects.filter(local_government_id=lb).update(created_at=at(nov4))
    Opinion.objects.create(author=a, local_government_id=la, category="content", body="資料を増やして")
    Opinion.objects.filter(local_government_id=la).update(created_at=at(oct15))
    return {"page": page, "a": la, "b": lb}


def rows(table):
    return [list(row) for row in table.rows]


def test_the_totals_compare_with_the_previous_period(scene):
    table = tables.period_table("totals", START, END)
    assert tables.previous_period(START, END) == (date(2026, 10, 2), date(2026, 10, 31))
    assert table.columns == ("指標", "期間", "前期間", "増減", "増減率（%）")
    by_label = {row[0]: row[1:] for row in table.rows}
    assert by_label["アクセス数（人のページビュー）"] == (80, 20, 60, 300.0)
    assert by_label["ダウンロード数（人）"] == (6, 2, 4, 200.0)
    assert by_label["全リクエスト数（ボットを含む）"] == (150, 40, 110, 275.0)
    assert by_label["ボットの割合（%）"] == (20.0, 10.0, 10.0, None)
    assert by_label["ログイン数（自治体）"] == (4, 4, 0, 0.0)
    assert by_label["ログインした自治体数"] == (2, 1, 1, 100.0)
    assert by_label["会員ページの閲覧数"] == (7, 0, 7, None)
    assert by_label["資料を開いた数（自治体・日）"] == (2, 0, 2, None)
    assert by_label["小ネタの投稿数"] == (3, 0, 3, None)
    assert by_label["意見箱のご意見数"] == (1, 0, 1, None)


def test_ranked_pages_downloads_and_the_breakdowns(scene):
    pages = tables.period_table("pages", START, END)
    assert rows(pages) == [
        [1, HOSTILE_TITLE, "/a-renamed/", 40, 7, 4, 6, 17],
        [2, "", "/search/", 20, 0, 1, None, None],
    ]
    downloads = tables.period_table("downloads", START, END)
    assert rows(downloads) == [
        [1, "（削除された文書）", "/documents/999999/gone.pdf", 5, 0, 25],
        [2, "", "/files/list.xlsx", 1, 2, 1],
    ]
    assert rows(tables.period_table("devices", START, END)) == [["パソコン", 60, 75.0], ["スマートフォン", 20, 25.0]]
    assert rows(tables.period_table("referrers", START, END)) == [["www.google.com", 9, 90.0], [HOSTILE_HOST, 1, 10.0]]
    assert rows(tables.period_table("campaigns", START, END)) == [["m1104", 12, 100.0]]
    assert tables.period_table("bot_reasons", START, END).rows[0][:2] == ("ボットの名前（利用者の端末の表示名）", 25)
    assert rows(tables.period_table("not_found", START, END)) == [
        ["/old/", "https://example.jp/links/", 5],
        ["/x/", "@SUM(1+1)", 1],
    ]
    daily = tables.period_table("daily", START, END)
    assert len(daily.rows) == 30
    assert daily.rows[2] == (date(2026, 11, 3), 50, 5, 2)
    assert daily.rows[3] == (date(2026, 11, 4), 30, 1, 2)


def test_participation_coverage_funnel_tips_and_opinions(scene):
    everything = {t.key: t for t in tables.period_tables(START, END, limit=None)}
    assert list(everything) == list(tables.KEYS)
    total = LocalGovernment.objects.count()
    assert total == 1788
    for key in [k for k in tables.KEYS if k.startswith("coverage_")]:
        table = everything[key]
        assert sum(table.column("自治体数")) == 1788, key
        assert sum(table.column("期間内にログイン")) == 2, key
    prefectures = everything["coverage_prefecture"]
    assert len(prefectures.rows) == 47
    hokkaido = prefectures.rows[0]
    assert hokkaido[:2] == ("01", "北海道") and hokkaido[5] == 1
    funnel = everything["funnel"]
    assert funnel.column("この段階の自治体数") == [2, 0, 2, 2, 2, 2]
    assert funnel.column("ここまでの段階をすべて満たす自治体数") == [2, 0, 0, 0, 0, 0]
    assert everything["never_logged_in"].total_rows is None
    assert len(everything["never_logged_in"].rows) == 1786
    assert rows(everything["tips_topics"]) == [
        ["初回訪問の工夫", 2, 1, 1, 1, 2.0],
        ["母子手帳の交付", 1, 1, 1, 1, 5.0],
    ]
    assert sum(everything["tips_topics"].column("投稿数")) == 3  # as the totals' 小ネタの投稿数
    opinions = dict((row[0], row[1:]) for row in everything["opinions"].rows)
    assert opinions["使いやすさ・機能について"] == (1, 0)
    assert opinions["掲載内容について"] == (0, 1)
    assert everything["document_reach"].rows == [(1, "（削除された文書）", 2, 2)]
    limited = tables.period_table("never_logged_in", START, END, limit=50)
    assert len(limited.rows) == 50 and limited.total_rows == 1786 and limited.truncated


def _grow(scene, factor: int):
    """More of everything: paths, files, hosts, 404s, local governments active, topics, posts."""
    from kokasen.tips.models import Topic

    day = date(2026, 11, 10)
    for i in range(factor):
        PageDay.objects.create(day=day, path=f"/grown/{i}/", views=i + 1, times={"12": 1})
        DownloadDay.objects.create(day=day, path=f"/documents/{i + 1}/f.pdf", downloads=1, requests=1)
        Breakdown.objects.create(day=day, dimension=Breakdown.REFERRER, value=f"h{i}.example.jp", count=1)
        NotFoundDay.objects.create(day=day, key=f"g{i}", path=f"/gone/{i}/", count=1)
    ids = list(LocalGovernment.objects.exclude(pk__in=[scene["a"], scene["b"]]).values_list("pk", flat=True)[:factor])
    LoginDay.objects.bulk_create([LoginDay(day=day, local_government_id=i, logins=1) for i in ids])
    DocumentOpen.objects.bulk_create([DocumentOpen(day=day, local_government_id=i) for i in ids])
    users = [
        make_member(code) for code in LocalGovernment.objects.filter(pk__in=ids[:3]).values_list("code", flat=True)
    ]
    for i in range(3):
        topic = Topic.objects.create(title=f"お題{i}", opens_at=at(date(2026, 10, 1)))
        make_post(topic, users[i], day, wait_hours=i + 1)


def test_the_number_of_queries_does_not_grow_with_the_data(scene):
    with CaptureQueriesContext(connection) as small:
        tables.period_tables(START, END)
    _grow(scene, 60)
    with CaptureQueriesContext(connection) as large:
        everything = tables.period_tables(START, END)
    assert len(large.captured_queries) == len(small.captured_queries)
    assert len({t.key: t for t in everything}["pages"].rows) == tables.TOP


def test_one_table_by_key_and_an_unknown_key(scene):
    with CaptureQueriesContext(connection) as one:
        tables.period_table("devices", START, END)
    assert len(one.captured_queries) == 1
    with pytest.raises(KeyError):
        tables.period_table("nothing", START, END)
    with pytest.raises(ValueError):
        tables.period_tables(END, START)
