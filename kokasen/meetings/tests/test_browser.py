"""The meetings admin screens changed by issue 16 in headless Debian Chromium: axe-core finds no
violation, and screenshots at 375 and 1280 px go to the artifacts for a person to look at.

A prefecture meeting whose roster left 担当区分 blank, confirmed on the 担当区分の確認 screen, grouped
per 区分 (the grouping screen), with a room (the room sheet, the download list, the summaries).
Rows are made before the browser starts and deleted at the end (conftest's ``live_site``)."""

import pytest
from django.test import Client

from kokasen.static_export.tests.test_browser import AXE_JS, AXE_TAGS
from kokasen.testing.browser import chromium, cookie_of

pytestmark = pytest.mark.browser


@pytest.fixture
def prefecture_site(live_site, django_db_blocker):
    from kokasen.accounts import roles
    from kokasen.meetings.models import DepartmentRole, Meeting
    from kokasen.meetings.services import grouping, rooms
    from kokasen.meetings.services import roles as department_roles
    from kokasen.meetings.services.roster import roster_import
    from kokasen.testing import login_staff, make_staff

    from .test_roster_roles import departments, prefecture_meeting, roster

    with django_db_blocker.unblock():
        staff = make_staff(roles.OPERATOR, username="meetings-browser")
        grouped = prefecture_meeting()
        roster_import(meeting=grouped, data=roster(with_roles=False), filename="名簿.csv", acting_user=staff)
        truth = {dept: role for i in range(12) for dept, role in departments(i)}
        choices = {r.pk: truth[r.department] for r in DepartmentRole.objects.filter(meeting=grouped)}
        department_roles.confirm(meeting=grouped, choices=choices, acting_user=staff)
        grouping.grouping_propose(meeting=grouped, acting_user=staff)
        rooms.rooms_assign(meeting=grouped, acting_user=staff)
        room = grouped.rooms.first()
        room.url = "https://example.zoom.us/j/1234567890"
        room.facilitator_name = "進行 太郎"
        room.save()
        client = Client()
        login_staff(client, staff)
        facts = {"base": live_site, "cookie": cookie_of(client, live_site), "grouped": grouped.pk, "room": room.pk}
    try:
        yield facts
    finally:
        with django_db_blocker.unblock():
            Meeting.objects.filter(pk=grouped.pk).delete()
            staff.delete()


def test_changed_meeting_screens_have_no_axe_violations(prefecture_site, artifacts_dir):
    shots = artifacts_dir / "screenshots"
    shots.mkdir(exist_ok=True)
    base = prefecture_site["base"]
    pages = {
        "meetings-roles": f"/admin/meetings/{prefecture_site['grouped']}/roles/",
        "meetings-grouping-prefecture": f"/admin/meetings/{prefecture_site['grouped']}/grouping/",
        "meetings-detail-prefecture": f"/admin/meetings/{prefecture_site['grouped']}/",
        "meetings-summaries": f"/admin/meetings/{prefecture_site['grouped']}/summaries/",
        "meetings-room-sheet": f"/admin/meetings/{prefecture_site['grouped']}/rooms/{prefecture_site['room']}/sheet/",
    }
    found = {}
    cookies = [prefecture_site["cookie"]]
    with chromium() as browser:
        narrow = browser.new_context(locale="ja-JP", viewport={"width": 375, "height": 900})
        narrow.add_cookies(cookies)
        phone = narrow.new_page()
        # 1280 px: the screenshot, then axe-core on the same page (CSP bypassed only to inject axe)
        wide = browser.new_context(bypass_csp=True, locale="ja-JP", viewport={"width": 1280, "height": 900})
        wide.add_cookies(cookies)
        desk = wide.new_page()
        for name, path in pages.items():
            assert phone.goto(base + path).status == 200, path
            phone.screenshot(path=str(shots / f"{name}-375.png"), full_page=True)
            assert desk.goto(base + path).status == 200, path
            desk.screenshot(path=str(shots / f"{name}-1280.png"), full_page=True)
            if name == "meetings-detail-prefecture":  # the download list with the Zoom note, below the fold
                for page, width in ((phone, 375), (desk, 1280)):
                    page.get_by_text("Zoom の事前割り当てについて").scroll_into_view_if_needed()
                    page.screenshot(path=str(shots / f"meetings-downloads-{width}.png"))
            if name == "meetings-room-sheet":  # what the facilitator prints
                desk.pdf(path=str(artifacts_dir / "meetings-room-sheet.pdf"), format="A4")
            desk.add_script_tag(path=str(AXE_JS))
            result = desk.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", AXE_TAGS)
            found[name] = [f"{v['id']}: {[n['html'][:120] for n in v['nodes']]}" for v in result["violations"]]
        narrow.close()
        wide.close()
    assert found == {name: [] for name in pages}


@pytest.fixture
def town_site(live_site, django_db_blocker):
    from kokasen.accounts import roles
    from kokasen.meetings.models import Meeting, Participant
    from kokasen.meetings.services import grouping
    from kokasen.testing import login_staff, make_staff

    from .test_grouping_service import west_meeting

    with django_db_blocker.unblock():
        staff = make_staff(roles.OPERATOR, username="meetings-browser-moves")
        meeting = west_meeting()  # 60 people of 20 towns, 10 groups of 6, no rule broken
        grouping.grouping_propose(meeting=meeting, acting_user=staff)
        person = Participant.objects.filter(meeting=meeting, group__number=1).order_by("number").first()
        client = Client()
        login_staff(client, staff)
        facts = {
            "url": f"{live_site}/admin/meetings/{meeting.pk}/grouping/",
            "cookie": cookie_of(client, live_site),
            "person": person.pk,
            "number": person.number,
        }
    try:
        yield facts
    finally:
        with django_db_blocker.unblock():
            Meeting.objects.filter(pk=meeting.pk).delete()
            staff.delete()


def test_the_grouping_screen_moves_a_person_without_reloading_and_shows_the_violation(town_site, artifacts_dir):
    """The screen's JavaScript sends the one move form and replaces groups 1 and 2, the summary and
    the list of violations in place; then axe-core on the changed screen at 375 and 1280 px."""
    shots = artifacts_dir / "screenshots"
    shots.mkdir(exist_ok=True)
    number = town_site["number"]
    found = {}
    with chromium() as browser:
        for width in (375, 1280):
            context = browser.new_context(bypass_csp=True, locale="ja-JP", viewport={"width": width, "height": 900})
            context.add_cookies([town_site["cookie"]])
            page = context.new_page()
            assert page.goto(town_site["url"]).status == 200
            if width == 375:  # move once; the 1280 px page then shows the moved state
                assert "ルール違反なし" in page.locator("#grouping-move-count").inner_text()
                page.evaluate("window.notReloaded = true")
                page.locator(f'input[name=participant][value="{town_site["person"]}"]').check()
                assert f"参加者{number}" in page.locator("#grouping-move-picked").inner_text()
                page.locator("#grouping-move-to").select_option("2")
                page.get_by_role("button", name="選んだ参加者を移動").click()
                page.locator("#grouping-move-status").get_by_text("グループ2に移動しました").wait_for()
                assert page.evaluate("window.notReloaded === true")  # the page was not loaded again
                assert page.locator(f'#group-2 input[name=participant][value="{town_site["person"]}"]').count() == 1
                assert page.locator(f'#group-1 input[name=participant][value="{town_site["person"]}"]').count() == 0
                assert "ルール違反 2件" in page.locator("#grouping-move-count").inner_text()
                violations = page.locator("#grouping-violations").inner_text()
                assert "グループ1" in violations and "グループ2" in violations
                assert "ルール違反" in page.locator("#group-2").inner_text()
                page.locator("#grouping-move").scroll_into_view_if_needed()
                page.screenshot(path=str(shots / "meetings-grouping-moved-375.png"))
            page.screenshot(path=str(shots / f"meetings-grouping-town-{width}.png"), full_page=width == 1280)
            page.add_script_tag(path=str(AXE_JS))
            result = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", AXE_TAGS)
            found[width] = [f"{v['id']}: {[n['html'][:120] for n in v['nodes']]}" for v in result["violations"]]
            context.close()
    assert found == {375: [], 1280: []}
