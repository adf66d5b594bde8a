"""The members area in a real browser (issue 3): a local government logs in through
/login/, opens the archive and a roundtable, the <video> fetches its first bytes with a range
request (206), a handout downloads byte for byte, and after logging out the same file URL
sends the browser to the login page instead of giving the file.

The live server is conftest's ``live_site`` (not pytest-django's ``live_server``, which would
empty the demo site's tables afterwards). The module creates its one user before the browser
starts and deletes it at the end; the test function carries no django_db mark and touches no
database while Playwright's event loop runs.
"""

import secrets
from pathlib import Path
from urllib.parse import quote

import pytest

from kokasen.static_export.tests.test_browser import AXE_JS, AXE_TAGS
from kokasen.testing.browser import chromium

pytestmark = pytest.mark.browser

CODE = "011002"  # 北海道札幌市
SCREENSHOTS = ("members-home", "members-archive", "members-roundtable", "members-initiatives")


@pytest.fixture(scope="module")
def site(live_site, django_db_blocker):
    """The facts the test needs, read up front, and its one user (deleted at the end)."""
    from django.contrib.auth import get_user_model

    from kokasen.accounts import roles
    from kokasen.localgov.models import LocalGovernment
    from kokasen.members.models import RoundtablePage

    password = secrets.token_urlsafe(16)
    with django_db_blocker.unblock():
        User = get_user_model()
        User.objects.filter(username=CODE).delete()
        user = User.objects.create_user(
            CODE, password=password, local_government=LocalGovernment.objects.get(code=CODE)
        )
        user.groups.add(roles.ensure_role_groups()[roles.MEMBER])
        roundtable = RoundtablePage.objects.get(slug="roundtable-01")
        handout = roundtable.handouts.first().document
        facts = {
            "base": live_site,
            "username": CODE,
            "password": password,
            "roundtable_title": roundtable.title,
            "video_url": roundtable.video.url,
            "video_size": roundtable.video.file.size,
            "handout_url": handout.url,
            "handout_title": handout.title,
            "handout_bytes": handout.file.open("rb").read(),
        }
        handout.file.close()
    try:
        yield facts
    finally:
        with django_db_blocker.unblock():
            User.objects.filter(username=CODE).delete()


@pytest.fixture(scope="module")
def browser(site):
    with chromium() as browser:
        yield browser


def problems_of(page):
    problems = []
    page.on("pageerror", lambda error: problems.append(f"JS error: {error}"))
    page.on("console", lambda msg: msg.type == "error" and problems.append(f"console: {msg.text}"))
    return problems


def axe_violations(browser, url, cookies, width=None):
    """axe-core on a members page; a separate context with CSP bypassed only to inject axe."""
    viewport = {"viewport": {"width": width, "height": 900}} if width else {}
    context = browser.new_context(bypass_csp=True, locale="ja-JP", **viewport)
    context.add_cookies(cookies)
    page = context.new_page()
    page.goto(url)
    page.add_script_tag(path=str(AXE_JS))
    result = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", AXE_TAGS)
    context.close()
    return [f"{v['id']}: {v['help']} ({len(v['nodes'])})" for v in result["violations"]]


def test_a_local_government_uses_the_members_area_and_logs_out(site, browser, artifacts_dir):
    shots = artifacts_dir / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    base = site["base"]
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="ja-JP", accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    problems = problems_of(page)
    video_responses = []
    page.on("response", lambda r: site["video_url"] in r.url and video_responses.append(r))

    # Not logged in: the members home sends the browser to the login page.
    page.goto(base + "/members/")
    assert page.url == base + "/login/?next=" + quote("/members/"), page.url
    page.fill("input[name=username]", site["username"])
    page.fill("input[name=password]", site["password"])
    with page.expect_navigation():
        page.get_by_role("button", name="ログイン").click()
    assert page.url == base + "/members/", page.url
    assert page.locator("h1").inner_text().strip() == "会員エリア"
    page.screenshot(path=str(shots / "members-home.png"), full_page=True)

    with page.expect_navigation():
        page.locator(".app-members-nav").get_by_role("link", name="座談会アーカイブ").click()
    assert page.url == base + "/members/roundtables/"
    page.screenshot(path=str(shots / "members-archive.png"), full_page=True)

    with page.expect_navigation():
        page.get_by_role("link", name=site["roundtable_title"]).click()
    page.wait_for_load_state("load")
    assert page.locator("h1").inner_text().strip() == site["roundtable_title"]

    # The <video> asks for its bytes with a Range header; the server answers 206.
    video = page.locator("video")
    page.evaluate(
        """v => { v.muted = true; return v.play().then(() => true, () => false); }""",
        video.element_handle(),
    )
    page.wait_for_function("v => v.readyState >= 1", arg=video.element_handle())
    assert video_responses, "the video element made no request"
    statuses = {r.status for r in video_responses}
    assert 206 in statuses, statuses
    first = next(r for r in video_responses if r.status == 206)
    assert first.request.headers.get("range", "").startswith("bytes=")
    assert first.headers["content-range"].endswith(f"/{site['video_size']}")
    duration = page.evaluate("v => v.duration", video.element_handle())
    assert 1.5 < duration < 3, duration
    fetched = page.evaluate(
        """url => fetch(url, {headers: {Range: 'bytes=0-99'}}).then(async r => [r.status, (await r.arrayBuffer()).byteLength])""",
        site["video_url"],
    )
    assert fetched == [206, 100]
    page.screenshot(path=str(shots / "members-roundtable.png"), full_page=True)

    # A handout downloads, byte for byte.
    link = page.locator(".app-documents__link").first
    assert link.get_attribute("href") == site["handout_url"]
    downloaded = context.request.get(base + site["handout_url"])
    assert downloaded.status == 200 and downloaded.body() == site["handout_bytes"]
    with page.expect_download() as info:
        page.evaluate(
            """url => { const a = document.createElement('a'); a.href = url; a.download = '';
                        document.body.append(a); a.click(); a.remove(); }""",
            site["handout_url"],
        )
    download = info.value
    assert Path(download.path()).read_bytes() == site["handout_bytes"]
    assert download.suggested_filename == site["handout_title"] + ".pdf"

    violations = axe_violations(browser, page.url, context.cookies())
    assert not violations, violations

    # The initiatives filter is a plain GET form.
    page.goto(base + "/members/initiatives/")
    page.select_option("#id_prefecture", label="三重県")
    with page.expect_navigation():
        page.get_by_role("button", name="この条件で探す").click()
    assert "prefecture=24" in page.url
    assert page.locator(".app-card__title").count() == 1
    page.screenshot(path=str(shots / "members-initiatives.png"), full_page=True)
    violations = axe_violations(browser, base + "/members/initiatives/?population=huge", context.cookies())
    assert not violations, violations

    # Log out with the header's button; the same file URL now leads to the login page.
    with page.expect_navigation():
        page.get_by_role("button", name="ログアウト").click()
    refused = context.request.get(base + site["handout_url"], max_redirects=0)
    assert refused.status == 302
    assert refused.headers["location"].startswith("/login/?next=")
    assert refused.body() != site["handout_bytes"]
    page.goto(base + site["handout_url"])
    assert "/login/" in page.url and page.locator("input[name=password]").count() == 1
    range_after = context.request.get(base + site["video_url"], headers={"Range": "bytes=0-99"}, max_redirects=0)
    assert range_after.status == 302

    assert not problems, problems
    context.close()
    for name in SCREENSHOTS:
        assert (shots / f"{name}.png").stat().st_size > 10_000


@pytest.mark.django_db
def test_the_demo_video_is_the_small_committed_webm(demo_site):
    """(Also makes pytest-django create the test database when this module runs alone.)"""
    from kokasen.demo.members import VIDEO_FILE
    from kokasen.members.models import RoundtablePage

    video = RoundtablePage.objects.get(slug="roundtable-01").video
    with video.open_file() as f:
        assert f.read() == VIDEO_FILE.read_bytes()
    assert VIDEO_FILE.stat().st_size < 100_000 and VIDEO_FILE.read_bytes()[:4] == b"\x1a\x45\xdf\xa3"
