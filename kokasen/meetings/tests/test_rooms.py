"""Rooms (会議URL): whole groups only, balanced head counts, the capacity, kept URLs, the screen."""

import random

import pytest
from django.urls import reverse

from kokasen.core.models import AuditEvent
from kokasen.core.refusals import Refused
from kokasen.localgov.models import LocalGovernment
from kokasen.meetings.models import Group, Participant, Room
from kokasen.meetings.services import rooms
from kokasen.meetings.tests.builders import add_participants, make_meeting
from kokasen.testing import login_staff


def west_towns(count: int) -> list[str]:
    towns = LocalGovernment.objects.filter(kind__in=["town", "village"], area="west").order_by("code")
    return list(towns.values_list("code", flat=True)[:count])


def grouped_meeting(*, towns: int, per_town: int = 3, towns_per_group: int = 2, **fields):
    """A town meeting whose participants are already in groups of ``towns_per_group`` towns."""
    meeting = make_meeting(**fields)
    add_participants(meeting, west_towns(towns), per_local_government=per_town)
    lgs = list(LocalGovernment.objects.filter(code__in=west_towns(towns)).order_by("code"))
    for index in range(0, len(lgs), towns_per_group):
        number = index // towns_per_group + 1
        group = Group.objects.create(meeting=meeting, number=number, name=f"グループ{number}")
        Participant.objects.filter(meeting=meeting, local_government__in=lgs[index : index + towns_per_group]).update(
            group=group
        )
    return meeting


# --- the pure planner -------------------------------------------------------------------------


def test_one_room_when_everybody_fits():
    plans = rooms.plan_rooms([(1, 6), (2, 6), (3, 5)], capacity=100)
    assert [p.groups for p in plans] == [[(1, 6), (2, 6), (3, 5)]]


def test_room_count_is_people_over_capacity_rounded_up_and_groups_stay_whole():
    groups = [(n, 6) for n in range(1, 49)]  # 288 people
    plans = rooms.plan_rooms(groups, capacity=100)
    assert [p.people for p in plans] == [96, 96, 96]
    assert sorted(g for p in plans for g in p.groups) == groups, "every group exactly once, never split"


@pytest.mark.parametrize("seed", range(40))
def test_balance_and_capacity_on_random_rosters(seed):
    rng = random.Random(seed)
    groups = [(n, rng.randint(2, 9)) for n in range(1, rng.randint(2, 120))]
    capacity = rng.randint(max(size for _, size in groups), 120)
    plans = rooms.plan_rooms(groups, capacity=capacity)
    people = sum(size for _, size in groups)
    loads = [p.people for p in plans]
    assert sorted(g for p in plans for g in p.groups) == sorted(groups)
    assert max(loads) <= capacity
    assert len(plans) >= -(-people // capacity)
    assert max(loads) - min(loads) <= max(size for _, size in groups), (seed, loads)
    assert plans == rooms.plan_rooms(list(reversed(groups)), capacity=capacity), "deterministic, order-free"


def test_more_rooms_only_when_whole_groups_do_not_pack():
    # 18 people, capacity 10: two rooms would hold 20, but three groups of 6 cannot go into two.
    plans = rooms.plan_rooms([(1, 6), (2, 6), (3, 6)], capacity=10)
    assert [p.people for p in plans] == [6, 6, 6]
    # 300 people in groups of 6, capacity 100: a room holds at most 16 whole groups (96), so 4 rooms.
    assert [p.people for p in rooms.plan_rooms([(n, 6) for n in range(1, 51)], capacity=100)] == [78, 78, 72, 72]
    # 4 groups of 5 into capacity 10: exactly ceil(20/10) = 2 rooms.
    assert [p.people for p in rooms.plan_rooms([(n, 5) for n in range(1, 5)], capacity=10)] == [10, 10]


def test_balanced_better_than_filling_rooms_in_order():
    groups = [(1, 7), (2, 7), (3, 7), (4, 5), (5, 5), (6, 5), (7, 6), (8, 6)]  # 48 people
    loads = sorted(p.people for p in rooms.plan_rooms(groups, capacity=30))
    assert loads == [24, 24]


def test_a_group_larger_than_the_capacity_is_refused_in_japanese():
    with pytest.raises(Refused) as refused:
        rooms.plan_rooms([(1, 6), (2, 12)], capacity=10)
    (message,) = refused.value.messages
    assert "グループ2（12人）は、1つの会議URLの定員（10人）を超えています" in message
    assert "分けられない" in message


# --- the database side ------------------------------------------------------------------------


@pytest.mark.django_db
def test_assign_spreads_groups_keeps_room_details_and_is_audited(operator):
    meeting = grouped_meeting(towns=20, per_town=3, capacity_per_url=25)  # 60 people, 10 groups of 6
    result = rooms.rooms_assign(meeting=meeting, acting_user=operator)
    assert len(result.rooms) == 3 and sum(result.loads.values()) == 60
    assert max(result.loads.values()) <= 25 and result.spread <= 6
    assert not Group.objects.filter(meeting=meeting, room__isnull=True).exists()
    for group in Group.objects.filter(meeting=meeting):
        assert {p.group.room_id for p in group.participants.select_related("group")} == {group.room_id}

    first = Room.objects.get(meeting=meeting, number=1)
    first.url, first.facilitator_name, first.facilitator_email = (
        "https://zoom.example/j/1",
        "進行 一郎",
        "f1@example.jp",
    )
    first.save()
    third = Room.objects.get(meeting=meeting, number=3)
    third.url = "https://zoom.example/j/3"
    third.save()

    meeting.capacity_per_url = 40
    meeting.save()
    result = rooms.rooms_assign(meeting=meeting, acting_user=operator)
    assert len(result.rooms) == 2
    kept = Room.objects.get(meeting=meeting, number=1)
    assert (kept.pk, kept.url, kept.facilitator_email) == (first.pk, "https://zoom.example/j/1", "f1@example.jp")
    assert not Room.objects.filter(meeting=meeting, number=3).exists()
    assert result.deleted == [
        {
            "number": 3,
            "name": "会議室3",
            "url": "https://zoom.example/j/3",
            "facilitator_name": "",
            "facilitator_email": "",
        }
    ]
    events = AuditEvent.objects.filter(action="meetings.rooms_assigned", target_id=str(meeting.pk)).order_by("pk")
    assert events.count() == 2 and events.last().detail["deleted_rooms"][0]["url"] == "https://zoom.example/j/3"
    assert events.last().actor == operator


@pytest.mark.django_db
def test_assign_refuses_without_groups_or_with_loose_participants(operator):
    meeting = make_meeting()
    with pytest.raises(Refused, match="グループがまだありません"):
        rooms.rooms_assign(meeting=meeting, acting_user=operator)
    meeting = grouped_meeting(towns=4)
    Participant.objects.filter(pk=meeting.participants.order_by("number").first().pk).update(group=None)
    with pytest.raises(Refused, match="グループに入っていない参加者が1人います"):
        rooms.rooms_assign(meeting=meeting, acting_user=operator)
    assert not Room.objects.filter(meeting=meeting).exists()


@pytest.mark.django_db
def test_assign_refuses_a_group_above_capacity_and_changes_nothing(operator):
    meeting = grouped_meeting(towns=4, capacity_per_url=100)
    rooms.rooms_assign(meeting=meeting, acting_user=operator)
    meeting.capacity_per_url = 5
    meeting.save()
    with pytest.raises(Refused, match="定員（5人）を超えています"):
        rooms.rooms_assign(meeting=meeting, acting_user=operator)
    assert Room.objects.filter(meeting=meeting).count() == 1
    assert not Group.objects.filter(meeting=meeting, room__isnull=True).exists()


@pytest.mark.django_db
def test_members_cannot_assign(operator):
    from django.core.exceptions import PermissionDenied

    from kokasen.testing import make_member

    meeting = grouped_meeting(towns=2)
    with pytest.raises(PermissionDenied):
        rooms.rooms_assign(meeting=meeting, acting_user=make_member())


# --- the screen -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_rooms_screen_assigns_and_saves_url_and_facilitator(client, operator):
    meeting = grouped_meeting(towns=12, capacity_per_url=20)  # 36 people, 6 groups -> 2 rooms
    login_staff(client, operator)
    url = reverse("meetings_admin:rooms", args=[meeting.pk])
    page = client.get(url).content.decode()
    assert "会議URLは2つ必要です" in page and "会議室はまだありません" in page
    response = client.post(reverse("meetings_admin:rooms_assign", args=[meeting.pk]), follow=True)
    assert "グループを2つの会議室に割り当てました（会議室1 18人、会議室2 18人）" in response.content.decode()

    room1, room2 = Room.objects.filter(meeting=meeting).order_by("number")
    data = {
        "rooms-TOTAL_FORMS": "2",
        "rooms-INITIAL_FORMS": "2",
        "rooms-MIN_NUM_FORMS": "0",
        "rooms-MAX_NUM_FORMS": "1000",
    }
    for i, room in enumerate((room1, room2)):
        data |= {
            f"rooms-{i}-id": str(room.pk),
            f"rooms-{i}-name": room.name,
            f"rooms-{i}-url": "",
            f"rooms-{i}-facilitator_name": "",
            f"rooms-{i}-facilitator_email": "",
        }
    bad = data | {"rooms-0-url": "javascript:alert(1)", "rooms-1-facilitator_email": "not-an-address"}
    response = client.post(url, bad)
    content = response.content.decode()
    assert response.status_code == 400
    assert "会議URLは https:// で始まる形で入力してください。" in content
    assert "ファシリテーターのメールアドレスの形式が正しくありません" in content
    assert Room.objects.get(pk=room1.pk).url == ""

    good = data | {
        "rooms-0-url": "https://zoom.example/j/123",
        "rooms-0-facilitator_name": "進行 花子",
        "rooms-0-facilitator_email": "hanako@facilitators.example.jp",
    }
    assert client.post(url, good).status_code == 302
    room1.refresh_from_db()
    assert (room1.url, room1.facilitator_name, room1.facilitator_email) == (
        "https://zoom.example/j/123",
        "進行 花子",
        "hanako@facilitators.example.jp",
    )
    event = AuditEvent.objects.get(action="meetings.rooms_changed")
    assert event.detail["changes"]["1"]["url"] == {"old": "", "new": "https://zoom.example/j/123"}
    assert "2" not in event.detail["changes"]
