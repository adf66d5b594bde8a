"""Participation from the application (issue 15 item 4; decision 0050): a member's day counted
exactly per local government (logins, members' page views, opened documents, 小ネタ posts, 意見箱
opinions) and nothing for staff; the reach of a document (a video in 20 range requests once);
the funnel on a small fixture; the coverage of the real 1,788; analytics_participation --json."""

import io
import json
from datetime import date, timedelta

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from kokasen.analytics import participation_selectors as selectors
from kokasen.analytics.models import ActivityDay, DocumentOpen, LoginDay
from kokasen.localgov.models import LocalGovernment
from kokasen.testing import CODE_A, CODE_B, login_staff, make_member
from kokasen.testing.traffic import insert_audit

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery-9"


def members_pages():
    from kokasen.members.models import MembersHomePage, RoundtablePage

    roundtable = RoundtablePage.objects.get(slug="roundtable-01")
    return [MembersHomePage.objects.get().url, roundtable.url, reverse("tips:index"), reverse("feedback:send")], (
        roundtable.handouts.first().document,
        roundtable.video,
    )


def open_topic():
    from kokasen.tips.models import Topic

    return Topic.objects.create(
        title="初回訪問時の自己紹介の言葉は？",
        description="座談会で出た質問です。",
        origin=Topic.Origin.ROUNDTABLE,
        opens_at=timezone.now() - timedelta(days=1),
        closes_at=timezone.now() + timedelta(days=14),
    )


def fetch_in_ranges(client, document, parts):
    url = document.url
    size = document.file.size
    step = -(-size // parts)
    statuses = set()
    for first in range(0, size, step):
        last = min(first + step, size) - 1
        statuses.add(client.get(url, HTTP_RANGE=f"bytes={first}-{last}").status_code)
    return statuses, len(range(0, size, step))


def test_a_members_day_is_counted_exactly_and_staff_not_at_all(client, demo_site, agency_admin):
    from kokasen.feedback import services as feedback
    from kokasen.tips import services as tips

    member = make_member(CODE_A, password=PASSWORD)
    pages, (handout, video) = members_pages()
    topic = open_topic()

    response = client.post(reverse("accounts:login"), {"username": CODE_A, "password": PASSWORD})
    assert response.status_code == 302
    for url in pages:
        assert client.get(url).status_code == 200
    assert client.get("/").status_code == 200  # the public site: not a members' page
    assert client.get(handout.url).status_code == 200
    assert client.get(handout.url).status_code == 200  # opened again: still one download
    statuses, requests = fetch_in_ranges(client, video, 20)
    assert statuses == {206} and requests == 20
    tips.post_submit(topic=topic, author=member, body="玄関先でまず名乗ります。")
    feedback.opinion_submit(author=member, body="動画の字幕があると助かります。")
    assert client.get(pages[0] + "no-such-page/").status_code == 404  # not a page view

    staff = client_class_copy(client)
    login_staff(staff, agency_admin)
    for url in pages[:2]:
        assert staff.get(url).status_code == 200
    assert staff.get(handout.url).status_code == 200
    insert_audit(
        [
            {
                "time": timezone.now(),
                "action": "login.succeeded",
                "ip": "203.0.113.9",
                "username": "agency-admin",
                "known": True,
            }
        ],
        users={"agency-admin": agency_admin},
    )

    call_command("count_participation", stdout=io.StringIO())
    today = timezone.localdate()
    lg = member.local_government_id
    assert selectors.daily(today, today) == [
        {
            "day": today,
            "local_government_id": lg,
            "logins": 1,
            "page_views": len(pages),
            "downloads": 2,  # the PDF and the video, each once
            "posts": 1,
            "opinions": 1,
        }
    ]
    reach = {row["document_id"]: row for row in selectors.document_reach(today, today)}
    assert set(reach) == {handout.pk, video.pk}
    for document in (handout, video):
        assert reach[document.pk]["local_governments"] == 1
        assert reach[document.pk]["downloads"] == 1
        assert reach[document.pk]["title"] == document.title
    # staff left no row anywhere
    for model in (LoginDay, ActivityDay, DocumentOpen):
        assert set(model.objects.values_list("local_government_id", flat=True)) == {lg}


def client_class_copy(client):
    return type(client)()


def test_a_second_local_government_adds_reach_and_a_deleted_document_keeps_its_downloads(demo_site):
    from kokasen.analytics import participation

    _pages, (handout, video) = members_pages()
    a, b = (make_member(code).local_government_id for code in (CODE_A, CODE_B))
    day = date(2026, 11, 4)
    for lg in (a, b):
        for _ in range(3):
            participation.record_document_open(lg, video.pk, day)
    participation.record_document_open(a, handout.pk, day)
    participation.record_document_open(a, handout.pk, day + timedelta(days=1))
    participation.record_page_view(a, day)
    participation.record_page_view(a, day)
    reach = {row["document_id"]: row["local_governments"] for row in selectors.document_reach(day, day + timedelta(1))}
    assert reach == {video.pk: 2, handout.pk: 1}
    assert selectors.by_local_government(day, day)[a] == {
        "logins": 0,
        "page_views": 2,
        "downloads": 2,
        "posts": 0,
        "opinions": 0,
    }
    handout.delete()
    assert selectors.totals(day, day + timedelta(1))["downloads"] == 4
    assert [row["title"] for row in selectors.document_reach(day, day + timedelta(1))][-1] == "（削除された文書）"


def _sent_credentials(user):
    from kokasen.notifications.models import OutboxMessage

    OutboxMessage.objects.create(
        kind="credentials",
        subject="アカウント発行のお知らせ",
        body="（テスト）",
        to=["kosodate@example.jp"],
        local_government=user.local_government,
        message_id=f"<funnel-{user.pk}@kokasen>",
        status=OutboxMessage.Status.SENT,
    )


def test_the_funnel_on_a_small_fixture_and_who_never_logged_in(agency_admin):
    from kokasen.meetings.models import CenterStatus
    from kokasen.tips.models import Post

    codes = ["011002", "012025", "012033", "012041"]  # 札幌市, 函館市, 小樽市, 旭川市
    users = [make_member(code) for code in codes]
    for user in users[:3]:
        _sent_credentials(user)
    CenterStatus.objects.create(local_government=users[0].local_government, has_center=False)
    start, end = date(2026, 11, 1), date(2026, 11, 30)
    # a: logged in in October and in November, opened a document, posted; b: logged in in October
    # only; c: mail sent, never logged in; d: no mail, never logged in; staff: everything, uncounted.
    a, b = users[0].local_government_id, users[1].local_government_id
    LoginDay.objects.bulk_create(
        [
            LoginDay(day=date(2026, 10, 20), local_government_id=a, logins=1),
            LoginDay(day=date(2026, 11, 5), local_government_id=a, logins=2),
            LoginDay(day=date(2026, 10, 21), local_government_id=b, logins=1),
        ]
    )
    DocumentOpen.objects.create(day=date(2026, 11, 5), local_government_id=a)
    ActivityDay.objects.create(day=date(2026, 11, 6), local_government_id=a, kind=ActivityDay.POST, count=1)
    ActivityDay.objects.create(day=date(2026, 10, 6), local_government_id=b, kind=ActivityDay.POST, count=1)
    assert not Post.objects.exists()

    funnel = selectors.funnel(start, end)
    assert [(s["step"], s["count"], s["reached"]) for s in funnel] == [
        ("issued", 4, 4),
        ("mail_delivered", 3, 3),
        ("first_login", 2, 2),
        ("active", 1, 1),
        ("downloaded", 1, 1),
        ("posted", 1, 1),
    ]
    assert funnel[-1]["share"] == round(100 / 1788, 1)
    # before b's first login, one local government had logged in
    assert selectors.funnel(date(2026, 10, 1), date(2026, 10, 20))[2]["count"] == 1

    never = selectors.never_logged_in(end)
    assert len(never) == 1788 - 2
    by_code = {row["code"]: row for row in never}
    assert codes[0] not in by_code and codes[1] not in by_code
    assert by_code[codes[2]]["account_issued"] and by_code[codes[2]]["mail_delivered"]
    assert by_code[codes[3]]["account_issued"] and not by_code[codes[3]]["mail_delivered"]
    assert by_code["131016"] == {**by_code["131016"], "account_issued": False, "name": "千代田区", "kind": "特別区"}

    center = {row["key"]: row for row in selectors.coverage(start, end)["center"]}
    assert center["no"]["local_governments"] == 1 and center["no"]["active"] == 1
    assert center["no"]["label"] == "未設置"


def test_coverage_of_the_1788_adds_up_in_every_dimension(member_a):
    from kokasen.meetings.models import CenterStatus

    assert LocalGovernment.objects.count() == 1788  # the real list, loaded by localgov's migration
    rows = list(LocalGovernment.objects.filter(kind="town").order_by("code")[:30])
    CenterStatus.objects.bulk_create(
        CenterStatus(local_government=lg, has_center=i % 3 == 0) for i, lg in enumerate(rows)
    )
    LoginDay.objects.create(day=date(2026, 11, 5), local_government_id=member_a.local_government_id, logins=1)
    coverage = selectors.coverage(date(2026, 11, 1), date(2026, 11, 30))
    assert set(coverage) == {"prefecture", "kind", "area", "population_band", "center"}
    for dimension, table in coverage.items():
        assert sum(row["local_governments"] for row in table) == 1788, dimension
        assert sum(row["active"] for row in table) == 1, dimension
    assert len(coverage["prefecture"]) == 47
    assert [row["label"] for row in coverage["area"]] == ["東日本", "西日本"]
    center = {row["key"]: row["local_governments"] for row in coverage["center"]}
    assert center == {"yes": 10, "no": 20, "unknown": 1758}
    bands = [row["key"] for row in coverage["population_band"]]
    assert bands[:5] == ["lt10k", "10k-50k", "50k-200k", "200k-500k", "500k+"]
    hokkaido = coverage["prefecture"][0]
    assert (hokkaido["label"], hokkaido["active"]) == ("北海道", 1)


def test_analytics_participation_prints_the_funnel_and_coverage_as_json(member_a):
    LoginDay.objects.create(day=date(2026, 11, 5), local_government_id=member_a.local_government_id, logins=3)
    out = io.StringIO()
    call_command("analytics_participation", "--from", "2026-11-01", "--to", "2026-11-30", "--json", stdout=out)
    data = json.loads(out.getvalue())
    assert data["totals"] == {"logins": 3, "page_views": 0, "downloads": 0, "posts": 0, "opinions": 0}
    assert [step["step"] for step in data["funnel"]][:3] == ["issued", "mail_delivered", "first_login"]
    assert data["funnel"][0]["count"] == 1 and data["funnel"][2]["reached"] == 0  # no mail sent
    assert data["never_logged_in"] == 1787
    for table in data["coverage"].values():
        assert sum(row["local_governments"] for row in table) == 1788
    text = io.StringIO()
    call_command("analytics_participation", "--from", "2026-11-01", "--to", "2026-11-30", stdout=text)
    assert "一度もログインしていない自治体: 1,787" in text.getvalue()
