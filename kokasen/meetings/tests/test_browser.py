"""The meetings admin screens changed by issue 16 in headless Debian Chromium: axe-core finds no
violation, and screenshots at 375 and 1280 px go to the artifacts for a person to look at.

A prefecture meeting whose roster left 担当区分 blank (the 担当区分の確認 screen), grouped after the
confirmation (the grouping screen per 区分), with a room (the room sheet and the download screen).
Rows are made before the browser starts and deleted at the end (conftest's ``live_site``)."""

import pytest
from django.conf import settings
from django.test import Client

from kokasen.static_export.tests.test_browser import AXE_JS, AXE_TAGS
from kokasen.testing.browser import chromium

pytestmark = pytest.mark.browser

WIDTHS = (375, 1280)


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
        pending = prefecture_meeting()
        roster_import(meeting=pending, data=roster(with_roles=False), filename="名簿.csv", acting_user=staff)
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
        cookie = {"name": settings.SESSION_COOKIE_NAME, "value": client.cookies[settings.SESSION_COOKIE_NAME].value}
        facts = {
            "base": live_site,
            "cookie": {**cookie, "url": live_site},
            "pending": pending.pk,
            "grouped": grouped.pk,
            "room": room.pk,
        }
    try:
        yield facts
    finally:
        with django_db_blocker.unblock():
            Meeting.objects.filter(pk__in=[pending.pk, grouped.pk]).delete()
            staff.delete()


def axe_violations(browser, url, cookies):
    """axe-core on an admin page (CSP bypassed only to inject axe); each violation with the nodes
    it found, so a failure says where."""
    context = browser.new_context(bypass_csp=True, locale="ja-JP")
    context.add_cookies(cookies)
    page = context.new_page()
    page.goto(url)
    page.add_script_tag(path=str(AXE_JS))
    result = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", AXE_TAGS)
    context.close()
    return [f"{v['id']}: {[n['html'][:120] for n in v['nodes']]}" for v in result["violations"]]


def test_changed_meeting_screens_have_no_axe_violations(prefecture_site, artifacts_dir):
    shots = artifacts_dir / "screenshots"
    shots.mkdir(exist_ok=True)
    base = prefecture_site["base"]
    pages = {
        "meetings-roles": f"/admin/meetings/{prefecture_site['pending']}/roles/",
        "meetings-grouping-prefecture": f"/admin/meetings/{prefecture_site['grouped']}/grouping/",
        "meetings-detail-prefecture": f"/admin/meetings/{prefecture_site['grouped']}/",
        "meetings-summaries": f"/admin/meetings/{prefecture_site['grouped']}/summaries/",
        "meetings-room-sheet": f"/admin/meetings/{prefecture_site['grouped']}/rooms/{prefecture_site['room']}/sheet/",
    }
    found = {}
    with chromium() as browser:
        for name, path in pages.items():
            for width in WIDTHS:
                context = browser.new_context(locale="ja-JP", viewport={"width": width, "height": 900})
                context.add_cookies([prefecture_site["cookie"]])
                page = context.new_page()
                response = page.goto(base + path)
                assert response.status == 200, (path, response.status)
                page.screenshot(path=str(shots / f"{name}-{width}.png"), full_page=True)
                if name == "meetings-room-sheet" and width == WIDTHS[-1]:  # what the facilitator prints
                    page.pdf(path=str(artifacts_dir / "meetings-room-sheet.pdf"), format="A4")
                context.close()
            found[name] = axe_violations(browser, base + path, [prefecture_site["cookie"]])
    assert found == {name: [] for name in pages}
