"""The 小ネタ flow in headless Debian Chromium against a live server: a member logs in and
posts, sees 承認待ち; the agency approves in the admin; another member sees the post and the
link that contacts the poster. No console errors (strict CSP) along the way.

Data and sessions are made before the browser starts: Playwright's sync API runs an event
loop, and Django refuses database work inside one. The live server is conftest's ``live_site``,
which shares the session's database: the rows are made up front and deleted at the end.
"""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from kokasen.testing.browser import chromium, cookie_of

pytestmark = pytest.mark.browser

PASSWORD = "tips-browser-pass-2025"
BODY = "初回訪問では「赤ちゃんの成長を一緒に見守る保健師です」と自己紹介しています。"
ADDRESS = "hokenshi@city.sapporo.example.jp"


def session_cookie(base_url, login) -> dict:
    client = Client()
    login(client)
    return cookie_of(client, base_url)


@pytest.fixture
def board(live_site, django_db_blocker):
    """Two members, an agency admin and an open topic, made before the browser starts and
    deleted afterwards (the live server shares the session's database)."""
    from django.contrib.auth import get_user_model

    from kokasen.accounts import roles
    from kokasen.testing import CODE_A, CODE_B, login_member, login_staff, make_member, make_staff
    from kokasen.tips.models import Topic

    with django_db_blocker.unblock():
        User = get_user_model()
        User.objects.filter(username__in=[CODE_A, CODE_B]).delete()
        make_member(CODE_A, password=PASSWORD)
        other = make_member(CODE_B)
        admin = make_staff(roles.AGENCY_ADMIN)
        topic = Topic.objects.create(
            title="初回訪問時の自己紹介の言葉は？",
            origin=Topic.Origin.ROUNDTABLE,
            opens_at=timezone.now() - timedelta(hours=1),
            closes_at=timezone.now() + timedelta(days=7),
        )
        facts = {
            "base": live_site,
            "topic": topic,
            "admin_cookie": session_cookie(live_site, lambda c: login_staff(c, admin)),
            "other_cookie": session_cookie(live_site, lambda c: login_member(c, other)),
        }
    try:
        yield facts
    finally:
        with django_db_blocker.unblock():
            topic.posts.all().delete()  # posts protect their topic and account
            topic.delete()
            User.objects.filter(pk__in=[admin.pk, other.pk]).delete()
            User.objects.filter(username=CODE_A).delete()


def test_member_posts_agency_approves_other_member_contacts(board, django_db_blocker, artifacts_dir):
    from playwright.sync_api import expect

    from kokasen.testing import CODE_A
    from kokasen.tips.models import Post, PostState

    base = board["base"]
    topic = board["topic"]
    admin_cookie, other_cookie = board["admin_cookie"], board["other_cookie"]
    topic_url = f"{base}/members/tips/{topic.pk}/"
    problems = []

    with chromium() as browser:

        def new_page(cookie=None, width=1280):
            context = browser.new_context(locale="ja-JP", viewport={"width": width, "height": 720})
            if cookie:
                context.add_cookies([cookie])
            page = context.new_page()
            page.on("pageerror", lambda e: problems.append(f"JS error: {e}"))
            page.on("console", lambda m: m.type == "error" and problems.append(f"console: {m.text}"))
            return page

        # 1. The member logs in through the login page on a phone, posts, and sees 承認待ち.
        poster = new_page(width=375)
        poster.goto(topic_url)
        assert "/login/" in poster.url
        poster.fill("input[name=username]", CODE_A)
        poster.fill("input[name=password]", PASSWORD)
        poster.get_by_role("button", name="ログイン").click()
        poster.wait_for_url(f"{topic_url}*")
        poster.get_by_label("本文").fill(BODY)
        expect(poster.locator(".app-tips-count")).to_contain_text(f"{len(BODY)}／400文字")
        poster.get_by_label("連絡先メールアドレス").fill(ADDRESS)
        poster.get_by_role("button", name="投稿する").click()
        # The success message is in view and has the focus (issue 18: it was far above, out of view).
        message = poster.locator("#tips-message")
        expect(message).to_contain_text("投稿を受け付けました")
        expect(message).to_be_focused()
        expect(message).to_be_in_viewport()
        poster.screenshot(path=str(artifacts_dir / "tips-posted-375.png"))
        own = poster.locator("#own-posts")
        expect(own).to_contain_text("承認待ち")
        expect(own).to_contain_text(BODY)
        expect(poster.locator(".app-tips-posts")).not_to_contain_text(BODY)
        poster.screenshot(path=str(artifacts_dir / "tips-pending.png"), full_page=True)

        # 2. Before approval the other member does not see it.
        reader = new_page(other_cookie)
        reader.goto(topic_url)
        expect(reader.locator(".app-tips-posts")).to_contain_text("このお題に公開された投稿は、まだありません")

        # 3. The agency approves in the admin queue.
        staff = new_page(admin_cookie)
        staff.goto(f"{base}/admin/tips/")
        staff.get_by_role("link", name=BODY[:20]).click()
        staff.get_by_role("button", name="承認する（本文の修正も保存）").click()
        staff.wait_for_url(f"{base}/admin/tips/")
        expect(staff.locator("body")).to_contain_text("投稿を承認しました")

        # 4. The other member sees the post and contacts the poster.
        reader.reload()
        post = reader.locator(".app-tips-post").filter(has_text=BODY)
        expect(post).to_contain_text("北海道札幌市")
        link = post.get_by_role("link", name="この投稿者にメールで連絡する")
        href = link.get_attribute("href")
        assert href.startswith(f"mailto:{ADDRESS}?subject=")
        assert "%E3%80%90%E5%B0%8F%E3%83%8D%E3%82%BF%E3%80%91" in href  # 【小ネタ】, percent-encoded
        reader.screenshot(path=str(artifacts_dir / "tips-approved.png"), full_page=True)

    assert problems == []
    with django_db_blocker.unblock():
        assert Post.objects.get(topic=topic).state == PostState.APPROVED
