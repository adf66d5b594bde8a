"""A local government's first morning in a real browser (issue 17, item 1): from the members'
home, without typing a URL, it sees the prompt to change the mailed password, sends an opinion
through the 意見箱, opens a past 小ネタ topic and changes the password; axe finds nothing on
those screens at 375 and 1280 px, and no members' page scrolls sideways at 320 px.

Same set-up as test_browser.py: conftest's ``live_site``, rows made up front and deleted at the
end, no database access while Playwright runs.
"""

import secrets
from datetime import timedelta

import pytest

from kokasen.members.tests.test_browser import axe_violations, problems_of
from kokasen.static_export.tests.test_browser import AXE_JS, AXE_TAGS
from kokasen.testing.browser import chromium

pytestmark = pytest.mark.browser

CODE = "012033"  # 北海道小樽市
PAST_TOPIC = "申請書の「ふりがな」欄、どう案内していますか（終了）"


@pytest.fixture(scope="module")
def site(live_site, django_db_blocker):
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from kokasen.accounts import roles
    from kokasen.localgov.models import LocalGovernment
    from kokasen.tips.models import Topic

    password = secrets.token_urlsafe(16)
    with django_db_blocker.unblock():
        User = get_user_model()
        User.objects.filter(username=CODE).delete()
        government = LocalGovernment.objects.get(code=CODE)
        user = User.objects.create_user(CODE, password=password, local_government=government)
        user.password_issued = True  # as after the address-list import
        user.save(update_fields=["password_issued"])
        user.groups.add(roles.ensure_role_groups()[roles.MEMBER])
        now = timezone.now()
        topic = Topic.objects.create(
            title=PAST_TOPIC, opens_at=now - timedelta(days=40), closes_at=now - timedelta(days=10)
        )
        from kokasen.pages.models import PolicyPage

        privacy = PolicyPage.objects.get(kind="privacy").url
        facts = {
            "privacy": privacy,
            "base": live_site,
            "password": password,
            "government": str(government),
            "topic": topic.pk,
        }
    try:
        yield facts
    finally:
        with django_db_blocker.unblock():
            from kokasen.feedback.models import Opinion

            Opinion.objects.filter(author__username=CODE).delete()
            User.objects.filter(username=CODE).delete()
            Topic.objects.filter(pk=topic.pk).delete()


def test_a_member_finds_the_opinion_box_past_topics_and_password_change(site, artifacts_dir):
    shots = artifacts_dir / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    base = site["base"]
    with chromium() as browser:
        context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="ja-JP")
        page = context.new_page()
        page.set_default_timeout(15_000)
        problems = problems_of(page)

        page.goto(base + "/login/?next=/members/")
        page.fill("input[name=username]", CODE)
        page.fill("input[name=password]", site["password"])
        with page.expect_navigation():
            page.get_by_role("button", name="ログイン").click()
        assert page.url == base + "/members/", page.url
        # The header names the local government, not its code.
        who = page.locator(".app-account-nav__who").inner_text()
        assert site["government"] in who and CODE not in who
        prompt = page.locator(".app-password-prompt")
        assert prompt.is_visible() and "メールでお届けしたパスワード" in prompt.inner_text()
        page.screenshot(path=str(shots / "day-one-members-home-1280.png"), full_page=True)
        members_home = page.url
        for width in (375, 1280):  # with the prompt
            violations = axe_violations(browser, members_home, context.cookies(), width=width)
            assert not violations, (width, violations)

        # 意見箱 from the members' menu.
        nav = page.locator(".app-members-nav")
        with page.expect_navigation():
            nav.get_by_role("link", name="意見箱").click()
        assert page.locator("h1").inner_text().strip() == "意見箱"
        assert nav.get_by_role("link", name="意見箱").get_attribute("aria-current") == "page"
        page.fill("textarea[name=body]", "検索結果の並び順を日付順にも変えられると助かります。")
        with page.expect_navigation():
            page.get_by_role("button", name="送信する").click()
        assert page.url == base + "/members/feedback/thanks/"

        # Past 小ネタ topics from the menu, even though none of them is open.
        with page.expect_navigation():
            nav.get_by_role("link", name="小ネタ").click()
        page.get_by_role("heading", name="過去のお題").wait_for()
        page.screenshot(path=str(shots / "day-one-tips-index-1280.png"), full_page=True)
        with page.expect_navigation():
            page.get_by_role("link", name=PAST_TOPIC).click()
        assert page.url == f"{base}/members/tips/{site['topic']}/"
        assert page.locator("h1").inner_text().strip() == PAST_TOPIC

        # The prompt leads to the password change (アカウント情報).
        page.goto(members_home)
        with page.expect_navigation():
            page.locator(".app-password-prompt").get_by_role("link", name="パスワードを変更する").click()
        assert page.url.startswith(base + "/account/")
        new_password = "Otaru-" + secrets.token_urlsafe(12)
        page.fill("input[name=old_password]", site["password"])
        page.fill("input[name=new_password1]", new_password)
        page.fill("input[name=new_password2]", new_password)
        with page.expect_navigation():
            page.get_by_role("button", name="パスワードを変更する").click()
        assert "パスワードを変更しました" in page.locator("main").inner_text()
        page.screenshot(path=str(shots / "day-one-account-1280.png"), full_page=True)

        # The header's アカウント情報 link is there on every page of the area.
        page.goto(members_home)
        assert page.locator(".app-password-prompt").count() == 0  # changed: gone for every colleague
        assert page.locator(".app-account-nav").get_by_role("link", name="アカウント情報").count() == 1
        assert not problems, problems
        cookies = context.cookies()
        context.close()

        # Phones: nothing scrolls sideways at 320 px; axe at 375 and 1280 px.
        urls = ["/members/tips/", f"/members/tips/{site['topic']}/", "/members/feedback/", "/account/"]
        narrow = browser.new_context(viewport={"width": 320, "height": 640}, locale="ja-JP")
        narrow.add_cookies(cookies)
        phone = narrow.new_page()
        for path in ["/members/", *urls, "/members/roundtables/", "/members/initiatives/", "/members/forms/"]:
            phone.goto(base + path)
            width = phone.evaluate("document.documentElement.scrollWidth")
            assert width <= 320, (path, width)
        phone.goto(base + "/members/")
        phone.screenshot(path=str(shots / "day-one-members-home-320.png"), full_page=True)
        narrow.close()
        page = browser.new_page(viewport={"width": 375, "height": 800}, locale="ja-JP")
        page.goto(base + site["privacy"])
        page.screenshot(path=str(shots / "day-one-privacy-375.png"), full_page=True)
        page.close()
        for width in (375, 1280):  # one context per width, axe injected on each page
            checker = browser.new_context(bypass_csp=True, locale="ja-JP", viewport={"width": width, "height": 900})
            checker.add_cookies(cookies)
            tab = checker.new_page()
            for path in [*urls, site["privacy"]]:
                tab.goto(base + path)
                tab.add_script_tag(path=str(AXE_JS))
                result = tab.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", AXE_TAGS)
                violations = [f"{v['id']}: {v['help']} ({len(v['nodes'])})" for v in result["violations"]]
                assert not violations, (path, width, violations)
            checker.close()
