"""Rooms (会議URL) of a meeting: spreading the groups over as many meeting URLs as the tool's
capacity needs (spec 4(5): several URLs on the same day, a facilitator each), and editing each
room's name, URL and facilitator.

Rules of ``rooms_assign``:
- a group is never split across rooms;
- the number of rooms is ``ceil(people / capacity_per_url)``, or more only when the groups
  cannot be packed into that many rooms without one exceeding the capacity (whole groups of 6
  into rooms of 10, say); a group larger than the capacity is refused in Japanese;
- room sizes are balanced: groups, largest first, go into the room with the fewest people so
  far (ties: lower group number first, lower room number first), then single moves and swaps
  between rooms that narrow the gap between the fullest and the emptiest room. The greedy step
  alone guarantees ``max - min <= largest group``; the moves only narrow the gap.
- rooms 1..n keep their name, URL and facilitator when groups are reassigned; rooms beyond n
  are deleted (the audit record keeps what they held).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count

from kokasen.accounts import access
from kokasen.core.audit import audit_record
from kokasen.core.refusals import Refused

from ..models import Group, Meeting, Room


@dataclass
class RoomPlan:
    number: int
    groups: list[tuple[int, int]] = field(default_factory=list)  # (group number, people)

    @property
    def people(self) -> int:
        return sum(size for _, size in self.groups)


@dataclass
class RoomsResult:
    rooms: list[Room]
    loads: dict[int, int]  # room number -> people
    deleted: list[dict]
    capacity: int

    @property
    def spread(self) -> int:
        return max(self.loads.values()) - min(self.loads.values()) if self.loads else 0


def default_room_name(number: int) -> str:
    return f"会議室{number}"


# --- the pure part: sizes in, rooms out -----------------------------------------------------


def _greedy(groups: list[tuple[int, int]], count: int) -> list[RoomPlan]:
    rooms = [RoomPlan(number) for number in range(1, count + 1)]
    for group in sorted(groups, key=lambda g: (-g[1], g[0])):
        min(rooms, key=lambda r: (r.people, r.number)).groups.append(group)
    return rooms


def _gap(rooms: list[RoomPlan]) -> tuple[int, int]:
    loads = [r.people for r in rooms]
    return (max(loads), max(loads) - min(loads))


def _improve(rooms: list[RoomPlan]) -> None:
    """Moves and swaps between the fullest room and any other while (max load, gap) falls."""
    for _ in range(200):
        best = _gap(rooms)
        fullest = max(rooms, key=lambda r: (r.people, -r.number))
        found = None
        for other in sorted(rooms, key=lambda r: (r.people, r.number)):
            if other is fullest:
                continue
            for i, g in enumerate(fullest.groups):
                candidates = [(None, 0)] + [(j, h[1]) for j, h in enumerate(other.groups)]
                for j, h_size in candidates:
                    delta = g[1] - h_size
                    if delta <= 0:
                        continue
                    loads = [r.people for r in rooms if r is not fullest and r is not other]
                    loads += [fullest.people - delta, other.people + delta]
                    score = (max(loads), max(loads) - min(loads))
                    if score < best:
                        best, found = score, (other, i, j)
            if found:
                break
        if not found:
            return
        other, i, j = found
        moved = fullest.groups.pop(i)
        if j is not None:
            fullest.groups.append(other.groups.pop(j))
        other.groups.append(moved)


def plan_rooms(groups: list[tuple[int, int]], capacity: int) -> list[RoomPlan]:
    """Spread ``groups`` ((number, people) pairs) over rooms of at most ``capacity`` people.
    Deterministic. Refused for a group above the capacity."""
    if capacity < 1:
        raise Refused("1つの会議URLの定員を1人以上にしてください。")
    too_big = [(n, size) for n, size in groups if size > capacity]
    if too_big:
        raise Refused(
            *(
                f"グループ{n}（{size}人）は、1つの会議URLの定員（{capacity}人）を超えています。"
                "グループは会議URLをまたいで分けられないため、定員を見直すか、グループを分け直してください。"
                for n, size in too_big
            )
        )
    people = sum(size for _, size in groups)
    count = max(1, math.ceil(people / capacity))
    while True:
        rooms = _greedy(groups, count)
        _improve(rooms)
        if max(r.people for r in rooms) <= capacity or count >= len(groups):
            for room in rooms:
                room.groups.sort()
            return rooms
        count += 1


# --- the database side ----------------------------------------------------------------------


@transaction.atomic
def rooms_assign(*, meeting: Meeting, acting_user, request=None) -> RoomsResult:
    """Put every group of the meeting into a room (see the module docstring). All or nothing."""
    access.require(acting_user, access.STAFF)
    meeting = Meeting.objects.select_for_update().get(pk=meeting.pk)
    groups = list(
        Group.objects.filter(meeting=meeting)
        .select_related("room")
        .annotate(people=Count("participants"))
        .order_by("number")
    )
    if not groups:
        raise Refused("グループがまだありません。先にグループ分けをしてください。")
    ungrouped = meeting.participants.filter(group__isnull=True).count()
    if ungrouped:
        raise Refused(
            f"グループに入っていない参加者が{ungrouped}人います。先にすべての参加者をグループに入れてください。"
        )
    plans = plan_rooms([(g.number, g.people) for g in groups], meeting.capacity_per_url)
    existing = {room.number: room for room in Room.objects.filter(meeting=meeting)}
    by_number = {g.number: g for g in groups}
    rooms, before = [], {g.number: (g.room.number if g.room else None) for g in groups}
    for plan in plans:
        room = existing.get(plan.number) or Room.objects.create(
            meeting=meeting, number=plan.number, name=default_room_name(plan.number)
        )
        Group.objects.filter(pk__in=[by_number[n].pk for n, _ in plan.groups]).update(room=room)
        rooms.append(room)
    deleted = []
    for number, room in sorted(existing.items()):
        if number > len(plans):
            deleted.append(
                {
                    "number": room.number,
                    "name": room.name,
                    "url": room.url,
                    "facilitator_name": room.facilitator_name,
                    "facilitator_email": room.facilitator_email,
                }
            )
            room.delete()  # its groups were all moved above (Group.room is SET_NULL anyway)
    loads = {plan.number: plan.people for plan in plans}
    after = {n: plan.number for plan in plans for n, _ in plan.groups}
    audit_record(
        action="meetings.rooms_assigned",
        acting_user=acting_user,
        target=meeting,
        request=request,
        detail={
            "capacity": meeting.capacity_per_url,
            "rooms": {str(plan.number): [n for n, _ in plan.groups] for plan in plans},
            "people": {str(k): v for k, v in loads.items()},
            "moved_groups": sorted(n for n in after if before.get(n) != after[n]),
            "deleted_rooms": deleted,
        },
    )
    return RoomsResult(rooms=rooms, loads=loads, deleted=deleted, capacity=meeting.capacity_per_url)


ROOM_FIELDS = ("name", "url", "facilitator_name", "facilitator_email")


@transaction.atomic
def rooms_update(*, meeting: Meeting, formset, acting_user, request=None) -> list[str]:
    """Save the rooms' names, URLs and facilitators from the admin's validated model formset
    (one audit record with the changes). Returns the names of the rooms that changed."""
    access.require(acting_user, access.STAFF)
    changes, changed_names = {}, []
    for form in formset.forms:
        room = form.instance
        if room.meeting_id != meeting.pk:
            raise PermissionDenied
        if not form.has_changed():
            continue
        old = Room.objects.get(pk=room.pk)
        form.save()
        diff = {
            name: {"old": getattr(old, name), "new": getattr(room, name)}
            for name in ROOM_FIELDS
            if getattr(old, name) != getattr(room, name)
        }
        if diff:
            changes[str(room.number)] = diff
            changed_names.append(room.name)
    if changes:
        audit_record(
            action="meetings.rooms_changed",
            acting_user=acting_user,
            target=meeting,
            request=request,
            detail={"changes": changes},
        )
    return changed_names


def room_loads(meeting: Meeting) -> list[dict]:
    """Each room with its groups and head count, for the screens."""
    rooms = list(Room.objects.filter(meeting=meeting).order_by("number"))
    groups = Group.objects.filter(meeting=meeting).annotate(people=Count("participants")).order_by("number")
    by_room: dict[int | None, list] = {}
    for group in groups:
        by_room.setdefault(group.room_id, []).append(group)
    return [
        {"room": room, "groups": by_room.get(room.pk, []), "people": sum(g.people for g in by_room.get(room.pk, []))}
        for room in rooms
    ]
