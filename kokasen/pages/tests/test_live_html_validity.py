"""The live (not exported) pages are valid HTML: the Nu HTML Checker over the pages only the
live site has (the 小ネタ board with posts, the account page with and without errors, the members' forms table)
and a few public ones, and every ``<time datetime>`` checked against the HTML standard's grammar.

The live 小ネタ page once carried ``datetime="2026-11-25T10:30:00.123456+09:00"``: Django's
``date:'c'`` writes microseconds, and HTML allows at most three digits of a second (issue 18).
"""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from kokasen.static_export.tests.test_html_validity import run_vnu
from kokasen.testing import login_member

pytestmark = pytest.mark.django_db

# HTML Living Standard 2.3.5: a valid date string, or a valid global date and time string
# (date, "T" or space, hours:minutes[:seconds[.1–3 digits]], then "Z" or ±hh[:]mm).
VALID_DATETIME = re.compile(
    r"\d{4,}-\d{2}-\d{2}"
    r"|\d{4,}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?(?:Z|[+-]\d{2}:?\d{2})"
)
DATETIME_ATTRIBUTE = re.compile(r'<time[^>]*\sdatetime="([^"]*)"')


@pytest.fixture
def live_pages(client, demo_site, member_a, member_b, agency_admin, tmp_path):
    """{name: file} of rendered pages, written out for vnu."""
    from kokasen.members.models import FormsLibraryPage
    from kokasen.pages.models import ArticlePage, NewsPage
    from kokasen.tips import services
    from kokasen.tips.models import Topic

    topic = Topic.objects.create(
        title="初回訪問時の自己紹介の言葉は？",
        origin=Topic.Origin.ROUNDTABLE,
        opens_at=timezone.now() - timedelta(days=1),
        closes_at=timezone.now() + timedelta(days=14),
    )

    for body in ("初回訪問では自己紹介の言葉を決めています。", "名刺に顔写真を入れています。"):
        post = services.post_submit(topic=topic, author=member_b, body=body, contact={})
        services.post_approve(post=post, acting_user=agency_admin)
    services.post_submit(topic=topic, author=member_a, body="承認待ちの投稿です。", contact={})

    table_page = next(p for p in ArticlePage.objects.live().public() if "table" in [b.block_type for b in p.body])
    urls = {
        "home": "/",
        "search": "/search/?q=" + "研修",
        "article-with-table": table_page.url,
        "news-item": NewsPage.objects.live().public().first().url,
    }
    member_urls = {
        "tips-index": reverse("tips:index"),
        "tips-topic": reverse("tips:topic", args=[topic.pk]),
        "account": reverse("accounts:profile"),
        "members-forms-table": FormsLibraryPage.objects.live().first().url,
    }
    files = {}

    def keep(name, response):
        assert response.status_code == 200, f"{name}: {response.status_code}"
        files[name] = tmp_path / f"{name}.html"
        files[name].write_bytes(response.content)

    for name, url in urls.items():
        keep(name, client.get(url))
    login_member(client, member_a)
    for name, url in member_urls.items():
        keep(name, client.get(url))
    keep(
        "account-errors",
        client.post(reverse("accounts:profile"), {"old_password": "wrong", "new_password1": "x", "new_password2": "y"}),
    )
    return files


def test_every_time_datetime_is_a_valid_date_or_global_date_and_time(live_pages):
    seen = {}
    for name, path in live_pages.items():
        for value in DATETIME_ATTRIBUTE.findall(path.read_text(encoding="utf-8")):
            seen.setdefault(name, []).append(value)
    assert len(seen.get("tips-topic", [])) >= 2, seen  # the approved posts carry their date
    invalid = {name: [v for v in values if not VALID_DATETIME.fullmatch(v)] for name, values in seen.items()}
    assert not any(invalid.values()), invalid


def test_live_pages_have_no_html_errors(live_pages):
    messages = run_vnu(sorted(live_pages.values()))
    errors = [f"{m.get('url', '?').rsplit('/', 1)[-1]}:{m.get('lastLine', '?')}: {m.get('message')}" for m in messages]
    assert not errors, "\n".join(errors)


@pytest.mark.parametrize(
    "value, valid",
    [
        ("2026-11-25", True),
        ("2026-11-25T10:30:00+0900", True),
        ("2026-11-25T10:30:00.123+09:00", True),
        ("2026-11-25T10:30:00Z", True),
        ("2026-11-25T10:30:00.123456+09:00", False),  # what date:'c' wrote
        ("2026-11-25T10:30:00", False),  # a local date and time is no global one
    ],
)
def test_the_datetime_grammar_itself(value, valid):
    assert bool(VALID_DATETIME.fullmatch(value)) is valid
