"""Reads for the meeting admin screens (no writes here)."""

from __future__ import annotations

from django.db.models import Count, Prefetch, Q

from kokasen.localgov.models import LocalGovernment

from .ids import as_id
from .models import CenterStatus, Goal, Group, Meeting, MeetingKind, MeetingSession, Participant, Room


def meetings_overview():
    """Every meeting with its sessions and head counts, newest first."""
    return (
        Meeting.objects.select_related("grouping_approved_by")
        .prefetch_related(Prefetch("sessions", queryset=MeetingSession.objects.order_by("half")))
        .annotate(
            participant_count=Count("participants", distinct=True),
            group_count=Count("groups", distinct=True),
            room_count=Count("rooms", distinct=True),
        )
    )


def roster_local_governments(meeting: Meeting):
    """The local governments on the meeting's roster, by code."""
    return LocalGovernment.objects.filter(
        pk__in=Participant.objects.filter(meeting=meeting).values("local_government")
    ).order_by("code")


def center_by_local_government(meeting: Meeting) -> dict[int, bool | None]:
    """Whether each roster local government has a center: the roster's センター設置 column
    where given, else the agency's list (CenterStatus), else None (unknown). The one source of
    the status (issue 16): the screens, the engine (services/grouping.py), the report and every
    workbook and CSV (downloads.py) read it here; the words are centers.py's."""
    listed = dict(
        CenterStatus.objects.filter(local_government__in=roster_local_governments(meeting)).values_list(
            "local_government_id", "has_center"
        )
    )
    status: dict[int, bool | None] = {}
    for lg_id, has_center in Participant.objects.filter(meeting=meeting).values_list(
        "local_government_id", "has_center"
    ):
        if has_center is not None:
            status[lg_id] = has_center
        else:
            status.setdefault(lg_id, listed.get(lg_id))
    return status


def center_statuses() -> dict[int, bool]:
    """Whether each local government on the agency's center list (CenterStatus) has a center,
    outside any meeting: the portal-wide status (the analytics' coverage, decision 0050). A
    local government not on the list is unknown (absent). Within a meeting the roster's
    センター設置 comes first: :func:`center_by_local_government`."""
    return dict(CenterStatus.objects.values_list("local_government_id", "has_center"))


def meeting_summary(meeting: Meeting) -> dict:
    people = Participant.objects.filter(meeting=meeting)
    centers = list(center_by_local_government(meeting).values())
    counts = people.aggregate(
        total=Count("pk"),
        grouped=Count("pk", filter=Q(group__isnull=False)),
        first=Count("pk", filter=Q(attended_first=True)),
        second=Count("pk", filter=Q(attended_second=True)),
        first_recorded=Count("pk", filter=Q(attended_first__isnull=False)),
        second_recorded=Count("pk", filter=Q(attended_second__isnull=False)),
    )
    goals = Goal.objects.filter(meeting=meeting).aggregate(
        goals=Count("pk", filter=~Q(goal="")), progress=Count("pk", filter=~Q(progress=""))
    )
    return {
        **counts,
        "ungrouped": counts["total"] - counts["grouped"],
        "local_governments": len(centers),
        "with_center": sum(1 for c in centers if c is True),
        "without_center": sum(1 for c in centers if c is False),
        "center_unknown": sum(1 for c in centers if c is None),
        "groups": Group.objects.filter(meeting=meeting).count(),
        "rooms": Room.objects.filter(meeting=meeting).count(),
        "goals": goals["goals"],
        "progress": goals["progress"],
    }


def participants(meeting: Meeting, *, local_government_id: str = "", group_id: str = ""):
    rows = Participant.objects.filter(meeting=meeting).select_related("local_government", "group__room")
    if as_id(local_government_id) is not None:
        rows = rows.filter(local_government_id=as_id(local_government_id))
    if group_id == "none":
        rows = rows.filter(group__isnull=True)
    elif as_id(group_id) is not None:
        rows = rows.filter(group_id=as_id(group_id))
    return rows.order_by("number")


def goal_units(meeting: Meeting) -> list[tuple[LocalGovernment, str]]:
    """Whose goals the meeting records, from its roster, as (local government, department):
    town meetings one per town (department ""); prefecture meetings, grouped per department,
    one per prefecture and department. By code, then department."""
    if meeting.kind != MeetingKind.PREFECTURE:
        return [(lg, "") for lg in roster_local_governments(meeting)]
    units = {
        (lg_id, department.strip())
        for lg_id, department in Participant.objects.filter(meeting=meeting).values_list(
            "local_government_id", "department"
        )
    }
    lgs = LocalGovernment.objects.in_bulk({lg_id for lg_id, _ in units})
    return sorted(((lgs[lg_id], department) for lg_id, department in units), key=lambda u: (u[0].code, u[1]))


def goals_by_unit(meeting: Meeting) -> dict[tuple[int, str], Goal]:
    """The meeting's goals by (local government id, department); department "" at town meetings."""
    return {(g.local_government_id, g.department): g for g in Goal.objects.filter(meeting=meeting)}
