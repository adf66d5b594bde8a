"""The printable room sheet (issue 16, item 5): per meeting URL, every group of the room with its
members' numbers, local governments and names, no addresses; what to do for Zoom (sign-in) or for a
tool without an import; audited as it shows names; the Zoom note on the meeting's download list."""

import pytest
from django.urls import reverse

from kokasen.core.models import AuditEvent
from kokasen.meetings.models import MeetingTool, Participant, Room
from kokasen.meetings.services import rooms
from kokasen.meetings.tests.test_rooms import grouped_meeting

pytestmark = pytest.mark.django_db


def test_room_sheet_lists_the_rooms_groups_without_addresses(staff_client, operator):
    meeting = grouped_meeting(towns=8, per_town=3, capacity_per_url=15, title="西日本エリア 町村職員の情報交換会")
    meeting.tool = MeetingTool.TEAMS
    meeting.save()
    rooms.rooms_assign(meeting=meeting, acting_user=operator)
    first, second = Room.objects.filter(meeting=meeting).order_by("number")
    first.url = "https://teams.example/l/meetup-join/1"
    first.facilitator_name = "進行 <花子>"
    first.save()
    html = staff_client.get(reverse("meetings_admin:room_sheet", args=[meeting.pk, first.pk])).content.decode()
    assert "https://teams.example/l/meetup-join/1" in html and "進行 &lt;花子&gt;" in html
    assert "Microsoft Teams では名簿からのルームの事前割り当てを使わないため" in html
    for p in Participant.objects.filter(meeting=meeting).select_related("group", "local_government"):
        assert p.email not in html
        mine = p.group.room_id == first.pk
        assert (f"<td>{p.name}</td>" in html) is mine
        assert (f"{p.group.name}（" in html) is mine
    assert AuditEvent.objects.get(action="meetings.room_sheet_viewed").detail == {"room": 1}
    # another meeting's room is not found
    assert staff_client.get(reverse("meetings_admin:room_sheet", args=[meeting.pk + 1000, first.pk])).status_code == 404

    detail = staff_client.get(reverse("meetings_admin:detail", args=[meeting.pk])).content.decode()
    assert reverse("meetings_admin:room_sheet", args=[meeting.pk, second.pk]) in detail
    assert "会議室シート（印刷用）" in detail and "Zoom の事前割り当てについて" not in detail
    meeting.tool = MeetingTool.ZOOM
    meeting.save()
    detail = staff_client.get(reverse("meetings_admin:detail", args=[meeting.pk])).content.decode()
    assert "Zoom の事前割り当ては、CSV のメールアドレスで Zoom にサインインして参加した方にだけ働きます" in detail
    sheet = staff_client.get(reverse("meetings_admin:room_sheet", args=[meeting.pk, first.pk])).content.decode()
    assert "割り当てに使ったメールアドレスで Zoom にサインインして参加した方にだけ働きます" in sheet
