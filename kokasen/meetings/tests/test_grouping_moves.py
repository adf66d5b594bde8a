"""Moves on the グループ分け screen (issue 16, item 6; decision 0047): the one move form without
JavaScript (plain POSTs, a redirect and the whole screen), and the answer the screen's JavaScript
gets (header ``X-Grouping-Partial``): the message and only the parts the move changed."""

import pytest
from django.urls import reverse

from kokasen.meetings.models import Participant
from kokasen.meetings.services import grouping as services
from kokasen.testing import login_staff

from .test_grouping_admin import section
from .test_grouping_service import west_meeting

pytestmark = pytest.mark.django_db
PARTIAL = {"HTTP_X_GROUPING_PARTIAL": "1"}


@pytest.fixture
def grouped(client, agency_admin):
    meeting = west_meeting()  # 60 people of 20 towns, 10 groups of 6, no rule broken
    services.grouping_propose(meeting=meeting, acting_user=agency_admin)
    login_staff(client, agency_admin)
    return meeting, client


def url(name, meeting):
    return reverse(f"meetings_admin:{name}", args=[meeting.pk])


def in_group(meeting, number) -> set[int]:
    return set(Participant.objects.filter(meeting=meeting, group__number=number).values_list("number", flat=True))


def test_without_javascript_one_person_moves_by_a_plain_post(grouped):
    meeting, client = grouped
    person = Participant.objects.filter(meeting=meeting, group__number=1).order_by("number").first()
    response = client.post(url("grouping_move_participant", meeting), {"participant": person.pk, "to_group": "2"})
    assert response.status_code == 302 and response["Location"] == url("grouping", meeting) + "#group-2"
    assert person.number in in_group(meeting, 2)
    html = client.get(url("grouping", meeting)).content.decode()
    assert f"参加者{person.number}（{person.local_government}）をグループ2に移動しました。" in html
    assert f'value="{person.pk}" form="grouping-move"' in section(html, 2)
    # the split town shows as a violation next to both groups and in the list of every violation
    assert "ルール違反" in section(html, 1) and "ルール違反" in section(html, 2)
    listed = html[html.index('id="grouping-violations"') : html.index('id="grouping-propose"')]
    assert 'href="#group-1"' in listed and 'href="#group-2"' in listed


def test_without_javascript_a_whole_local_government_moves_by_a_plain_post(grouped):
    meeting, client = grouped
    person = Participant.objects.filter(meeting=meeting, group__number=1).order_by("number").first()
    lg = person.local_government
    town = set(Participant.objects.filter(meeting=meeting, local_government=lg).values_list("number", flat=True))
    response = client.post(url("grouping_move_local_government", meeting), {"local_government": lg.pk, "to_group": "3"})
    assert response.status_code == 302 and response["Location"].endswith("#group-3")
    assert town <= in_group(meeting, 3) and not town & in_group(meeting, 1)
    html = client.get(url("grouping", meeting)).content.decode()
    assert f"{lg}の参加者{len(town)}人をグループ3に移動しました。" in html


def test_the_javascript_move_is_answered_with_the_changed_parts_only(grouped):
    meeting, client = grouped
    person = Participant.objects.filter(meeting=meeting, group__number=1).order_by("number").first()
    data = {"participant": person.pk, "to_group": "2"}
    response = client.post(url("grouping_move_participant", meeting), data, **PARTIAL)
    assert response.status_code == 200
    html = response.content.decode()
    assert f'data-grouping-message="success">参加者{person.number}（' in html
    parts = ("group-1", "group-2", "grouping-row-1", "grouping-row-2", "grouping-summary", "grouping-violations")
    for part in (*parts, "grouping-move-count", "grouping-approval"):
        assert f'id="{part}" data-grouping-part' in html, part
    assert 'id="group-3"' not in html and 'id="grouping-row-3"' not in html  # untouched groups are not sent again
    assert "ルール違反 2件" in html  # the split town, next to groups 1 and 2
    assert f'value="{person.pk}" form="grouping-move"' in section(html, 2)
    full = client.get(url("grouping", meeting)).content
    assert len(response.content) * 3 < len(full)
    # nothing waits in the messages for the next full screen
    assert "移動しました" not in full.decode()


def test_a_refused_javascript_move_is_a_400_with_the_reason(grouped):
    meeting, client = grouped
    person = Participant.objects.filter(meeting=meeting, group__number=1).order_by("number").first()
    data = {"participant": person.pk, "to_group": "1"}
    response = client.post(url("grouping_move_participant", meeting), data, **PARTIAL)
    assert response.status_code == 400
    html = response.content.decode()
    assert 'data-grouping-message="error">' in html and f"参加者{person.number}はすでにグループ1にいます。" in html
    assert "data-grouping-part" not in html
    for value in ("abc", "9" * 40, "1/x", "/"):
        data = {"local_government": value, "to_group": "1"}
        response = client.post(url("grouping_move_local_government", meeting), data, **PARTIAL)
        assert response.status_code == 400 and "画面を読み込み直してください。" in response.content.decode()


def test_a_prefecture_department_moves_with_the_radio_buttons_pk_and_role(client, agency_admin):
    from kokasen.localgov.models import LocalGovernment
    from kokasen.meetings.models import Group, MeetingKind
    from kokasen.meetings.roles import ROLES

    from .builders import add_participants, make_meeting

    meeting = make_meeting(MeetingKind.PREFECTURE)
    pref = LocalGovernment.objects.filter(kind="prefecture").order_by("code").first()
    add_participants(meeting, [pref.code], per_local_government=2, role=ROLES[0])
    add_participants(meeting, [pref.code], per_local_government=2, role=ROLES[1])
    one = Group.objects.create(meeting=meeting, number=1, name="グループ1")
    Group.objects.create(meeting=meeting, number=2, name="グループ2")
    meeting.participants.update(group=one)
    login_staff(client, agency_admin)
    html = client.get(url("grouping", meeting)).content.decode()
    assert f'value="{pref.pk}/{ROLES[0]}" form="grouping-move"' in html
    data = {"local_government": f"{pref.pk}/{ROLES[0]}", "to_group": "2"}
    assert client.post(url("grouping_move_local_government", meeting), data).status_code == 302
    roles_in_two = set(meeting.participants.filter(group__number=2).values_list("role", flat=True))
    assert roles_in_two == {ROLES[0]} and meeting.participants.filter(group__number=1).count() == 2


@pytest.mark.parametrize("value", ["abc", "²", "9" * 40, "-3", "1/²", "' OR 1=1 --"])
def test_garbage_in_a_javascript_move_is_a_400_never_a_500(grouped, value):
    meeting, client = grouped
    client.raise_request_exception = False
    for name in ("grouping_move_participant", "grouping_move_local_government"):
        data = {"participant": value, "local_government": value, "to_group": value, "department": value}
        response = client.post(url(name, meeting), data, **PARTIAL)
        assert response.status_code == 400, (name, value)
        assert 'data-grouping-message="error">' in response.content.decode()
