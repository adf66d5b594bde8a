"""What the browser walk-through of the meeting screens found (artifacts/screenshots/meetings/):
prefecture meetings show no center figures, screens before grouping say what comes first instead
of offering files or 「0つ」 URLs, one room's files are listed once, the invitations link to the
outbox, tables scroll on a phone, and no admin page asks gravatar.com for an avatar."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from kokasen.localgov.models import LocalGovernment
from kokasen.meetings.services import grouping, invitations, rooms
from kokasen.meetings.tests.builders import add_participants, make_meeting
from kokasen.meetings.tests.test_rooms import grouped_meeting

pytestmark = pytest.mark.django_db


def page(client, name, meeting, **query) -> str:
    response = client.get(reverse(f"meetings_admin:{name}", args=[meeting.pk]), query)
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def prefecture_meeting():
    meeting = make_meeting("prefecture", title="都道府県の会（画面の確認）")
    prefectures = LocalGovernment.objects.filter(kind="prefecture").order_by("code")[:3]
    add_participants(meeting, [lg.code for lg in prefectures], per_local_government=2, department="母子保健担当")
    return meeting


def test_a_prefecture_meeting_shows_no_center_figures(staff_client, prefecture_meeting):
    detail = page(staff_client, "detail", prefecture_meeting)
    assert "3団体</td>" in detail and "センター設置済" not in detail and "センター設置状況の一覧" not in detail
    assert "部署名ではなく担当区分ごとに作ります" in detail and "担当区分の確認" in detail
    participants = page(staff_client, "participants", prefecture_meeting)
    assert participants.count('name="shown"') == 6
    assert '<th scope="col">センター</th>' not in participants and "不明" not in participants


def test_before_grouping_the_meeting_page_offers_no_files_and_rooms_say_what_comes_first(
    staff_client, prefecture_meeting
):
    detail = page(staff_client, "detail", prefecture_meeting)
    assert "/download/" not in detail
    assert "の後にダウンロードできます" in detail
    screen = page(staff_client, "rooms", prefecture_meeting)
    assert "0つ" not in screen and "グループに入っている参加者はまだいません" in screen
    assert reverse("meetings_admin:rooms_assign", args=[prefecture_meeting.pk]) not in screen
    assert reverse("meetings_admin:grouping", args=[prefecture_meeting.pk]) in screen


def test_with_one_room_its_files_are_listed_once(staff_client, operator):
    meeting = grouped_meeting(towns=4)
    rooms.rooms_assign(meeting=meeting, acting_user=operator)
    room = meeting.rooms.get()
    detail = page(staff_client, "detail", meeting)
    for what in ("zoom", "webex"):
        url = reverse("meetings_admin:download", args=[meeting.pk, what])
        assert f'href="{url}?room={room.pk}"' in detail
        assert f'href="{url}"' not in detail
    assert f'href="{reverse("meetings_admin:download", args=[meeting.pk, "groups"])}"' in detail


def test_without_rooms_the_tool_files_cover_the_whole_meeting(staff_client):
    meeting = grouped_meeting(towns=4)
    detail = page(staff_client, "detail", meeting)
    assert f'href="{reverse("meetings_admin:download", args=[meeting.pk, "zoom"])}"' in detail
    assert "facilitator" not in detail


def test_tables_scroll_sideways_on_a_phone(staff_client):
    meeting = grouped_meeting(towns=4)
    for name in ("participants", "grouping"):
        assert '<div class="w-overflow-x-auto">' in page(staff_client, name, meeting), name
    assert '<div class="w-overflow-x-auto">' in staff_client.get(reverse("meetings_admin:index")).content.decode()


def test_the_invitations_link_to_the_outbox_once_messages_exist(staff_client, operator):
    meeting = grouped_meeting(towns=4)
    outbox = f"{reverse('accounts_admin:outbox')}?kind=meeting_invitation"
    assert outbox not in page(staff_client, "invitations", meeting)
    rooms.rooms_assign(meeting=meeting, acting_user=operator)
    meeting.rooms.update(url="https://example.com/room1")
    meeting.sessions.filter(half="first").update(starts_at=timezone.now() + timedelta(days=30))
    grouping.grouping_approve(
        meeting=meeting,
        acting_user=operator,
        confirm_violations=True,
        fingerprint=grouping.current_report(meeting).fingerprint,
    )
    assert invitations.invitations_queue(meeting=meeting, half="first", acting_user=operator) == 12
    screen = page(staff_client, "invitations", meeting)
    assert outbox in screen
    assert "見本を表示</summary>" in screen


def test_no_admin_page_asks_gravatar_for_an_avatar(staff_client, operator):
    operator.email = "staff@example.lg.jp"  # Wagtail asks Gravatar only for users with an address
    operator.save()
    assert "gravatar" not in staff_client.get(reverse("meetings_admin:index")).content.decode()


def test_a_case_presentation_is_a_labelled_block_not_a_cramped_table_row(staff_client):
    meeting = make_meeting()
    screen = page(staff_client, "edit", meeting)
    assert 'role="group" aria-labelledby="presentations-first-0-legend"' in screen
    assert '<label for="id_presentations-first-0-title">発表テーマ</label>' in screen
