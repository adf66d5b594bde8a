"""The files of a saved meeting: the database adapter of the Django-free writer
:mod:`kokasen.meetings.exports`. It reads the meeting's groups, rooms and goals (read only, no
writes), turns them into the writer's dataclasses and calls it. The admin's downloads come here;
the ``propose_groups`` command, which has no meeting in the database, calls the writer directly.

- ``zoom_csv(meeting, *, room=None) -> bytes``, ``webex_csv(meeting, *, room=None) -> bytes``:
  ``room``: only that room's groups; None: the whole meeting, and then everybody must be in a
  group (:class:`~kokasen.core.refusals.Refused` otherwise)
- ``groups_workbook(meeting) -> bytes`` (XLSX, one sheet per room)
- ``facilitator_sheet(meeting, room) -> bytes`` (XLSX)
- ``second_half_sheet(meeting, *, room=None) -> bytes`` (XLSX)
"""

from __future__ import annotations

from django.db.models import Prefetch

from kokasen.core.refusals import Refused

from . import exports
from .exports import UNASSIGNED_ROOM, ExportGroup, ExportMember, ExportRoom, GoalKey, GoalText
from .models import Participant
from .selectors import center_by_local_government


def _member(p, centers: dict[int, bool | None]) -> ExportMember:
    lg = p.local_government
    return ExportMember(
        number=p.number,
        code=lg.code,
        local_government=str(lg),
        department=p.department,
        position=p.position,
        name=p.name,
        email=p.email,
        has_center=centers.get(lg.pk),
        population=lg.population,
    )


def _grouped(meeting, room=None) -> list[tuple[int | None, ExportGroup]]:
    groups = meeting.groups.order_by("number").prefetch_related(
        Prefetch("participants", queryset=Participant.objects.select_related("local_government").order_by("number"))
    )
    if room is not None:
        groups = groups.filter(room=room)
    centers = center_by_local_government(meeting)
    return [
        (
            g.room_id,
            ExportGroup(
                name=g.name, department=g.department, members=tuple(_member(p, centers) for p in g.participants.all())
            ),
        )
        for g in groups
    ]


def meeting_groups(meeting, *, room=None, require_everyone: bool = False) -> list[ExportGroup]:
    """The meeting's groups (of one room, if given) in number order, members in number order.
    ``require_everyone``: refused if a participant is in no group."""
    if require_everyone:
        loose = list(
            meeting.participants.filter(group__isnull=True).order_by("number").values_list("number", flat=True)
        )
        if loose:
            shown = "、".join(str(n) for n in loose[:20]) + ("ほか" if len(loose) > 20 else "")
            raise Refused(
                f"グループに入っていない参加者が{len(loose)}人います（参加者番号 {shown}）。先にグループに入れてください。"
            )
    return [g for _, g in _grouped(meeting, room)]


def meeting_rooms(meeting, *, room=None) -> list[ExportRoom]:
    """Every room (or only ``room``) in number order with its groups; groups without a room come
    last as room 「未割り当て」 (:data:`UNASSIGNED_ROOM`), on a sheet 「会議室未定」 of the group
    lists, or 「グループ一覧」 when the meeting has no rooms yet."""
    by_room: dict[int | None, list[ExportGroup]] = {}
    for room_id, g in _grouped(meeting, room):
        by_room.setdefault(room_id, []).append(g)
    rooms = [room] if room is not None else list(meeting.rooms.order_by("number"))
    out = [
        ExportRoom(r.name, tuple(by_room.get(r.pk, ())), r.url, r.facilitator_name, r.facilitator_email) for r in rooms
    ]
    if by_room.get(None):
        out.append(
            ExportRoom(UNASSIGNED_ROOM, tuple(by_room[None]), sheet_name="会議室未定" if rooms else "グループ一覧")
        )
    return out


def meeting_goals(meeting) -> dict[GoalKey, GoalText]:
    """The meeting's goals by (団体コード, 部署); the department is "" at town meetings."""
    return {
        (code, department): GoalText(goal, progress)
        for code, department, goal, progress in meeting.goals.values_list(
            "local_government__code", "department", "goal", "progress"
        )
    }


def zoom_csv(meeting, *, room=None) -> bytes:
    """Zoom's pre-assignment CSV of the meeting (or of one room): :func:`exports.zoom_csv`."""
    return exports.zoom_csv(meeting_groups(meeting, room=room, require_everyone=room is None))


def webex_csv(meeting, *, room=None) -> bytes:
    """Webex's pre-assignment CSV of the meeting (or of one room): :func:`exports.webex_csv`."""
    return exports.webex_csv(meeting_groups(meeting, room=room, require_everyone=room is None))


def groups_workbook(meeting) -> bytes:
    """XLSX of the meeting's groups, one sheet per room (URL, facilitator, then groups and members)."""
    return exports.rooms_workbook(meeting_rooms(meeting), title=meeting.title, kind=meeting.kind)


def facilitator_sheet(meeting, room) -> bytes:
    """XLSX for the facilitator of ``room`` (a Room of ``meeting``)."""
    if room.meeting_id != meeting.pk:
        raise Refused("この会議室はこの情報交換会のものではありません。")
    return exports.facilitator_workbook(
        meeting_rooms(meeting, room=room)[0], meeting_goals(meeting), title=meeting.title, kind=meeting.kind
    )


def second_half_sheet(meeting, *, room=None) -> bytes:
    """XLSX for 下半期: every group's local governments with their 上半期 goal and progress."""
    if room is not None and room.meeting_id != meeting.pk:
        raise Refused("この会議室はこの情報交換会のものではありません。")
    return exports.second_half_workbook(
        meeting_rooms(meeting, room=room), meeting_goals(meeting), title=meeting.title, kind=meeting.kind
    )
