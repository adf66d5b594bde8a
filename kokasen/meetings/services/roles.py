"""担当区分 of prefecture meetings (issue 16, item 1): prefectures name their departments freely, the
meeting is grouped per 区分 (``kokasen/meetings/roles.py``).

``prepare(meeting, participants)`` (called by the roster import, inside its transaction)
    For every (prefecture, department) with rows whose 担当区分 was blank, keeps or makes a
    DepartmentRole with a suggestion: the same department's confirmed 区分 at the most recent other
    meeting, else the department name's words (``roles.suggest_role``). A confirmation made earlier
    for this meeting survives a re-import and is copied to the new participants at once.
    Departments no longer in the roster are dropped.

``confirm(*, meeting, choices, acting_user, request=None) -> int``
    Staff confirm the 区分 of every listed department at once (``choices``: DepartmentRole id ->
    区分); the 区分 is copied to the department's participants whose roster left it blank. Refused
    when a department has no valid 区分 or the grouping is approved. Audited with counts only.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from kokasen.accounts import access
from kokasen.core.audit import audit_record
from kokasen.core.refusals import Refused

from ..models import DepartmentRole, Meeting, MeetingKind, Participant
from ..roles import ROLES, suggest_role


def pending(meeting: Meeting) -> int:
    """How many departments still wait for staff to confirm their 区分 (0 at town meetings)."""
    if meeting.kind != MeetingKind.PREFECTURE:
        return 0
    return DepartmentRole.objects.filter(meeting=meeting, confirmed_at__isnull=True).count()


def department_rows(meeting: Meeting):
    """The meeting's DepartmentRoles, with their local government, by code and department, each
    with ``people``: how many participants it applies to."""
    counts: dict[tuple[int, str], int] = {}
    for lg_id, department in Participant.objects.filter(meeting=meeting, role_from_roster=False).values_list(
        "local_government_id", "department"
    ):
        counts[(lg_id, department)] = counts.get((lg_id, department), 0) + 1
    rows = list(DepartmentRole.objects.filter(meeting=meeting).select_related("local_government"))
    for r in rows:
        r.people = counts.get((r.local_government_id, r.department), 0)
    return rows


def _earlier_roles(pairs) -> dict[tuple[int, str], str]:
    """(local government id, department) -> the 区分 confirmed at the latest other meeting."""
    found: dict[tuple[int, str], str] = {}
    earlier = (
        DepartmentRole.objects.filter(
            local_government_id__in={lg for lg, _ in pairs},
            department__in={d for _, d in pairs},
            confirmed_at__isnull=False,
        )
        .exclude(role="")
        .order_by("confirmed_at")
        .values_list("local_government_id", "department", "role")
    )
    for lg_id, department, role in earlier:
        found[(lg_id, department)] = role  # the latest wins
    return found


def prepare(meeting: Meeting, participants: list[Participant]) -> int:
    """Make the meeting's DepartmentRoles for the new roster (module docstring); returns how many
    departments wait for confirmation. ``participants`` are saved, ``role`` set where the roster
    gave one."""
    if meeting.kind != MeetingKind.PREFECTURE:
        DepartmentRole.objects.filter(meeting=meeting).delete()
        return 0
    pairs = {(p.local_government_id, p.department) for p in participants if not p.role_from_roster}
    existing = {(r.local_government_id, r.department): r for r in DepartmentRole.objects.filter(meeting=meeting)}
    stale = [r.pk for key, r in existing.items() if key not in pairs]
    DepartmentRole.objects.filter(pk__in=stale).delete()
    earlier = _earlier_roles(pairs - set(existing))
    DepartmentRole.objects.bulk_create(
        [
            DepartmentRole(
                meeting=meeting,
                local_government_id=lg_id,
                department=department,
                suggestion=earlier.get((lg_id, department)) or suggest_role(department),
            )
            for lg_id, department in sorted(pairs - set(existing))
        ]
    )
    confirmed = [r for key, r in existing.items() if key in pairs and r.confirmed_at and r.role]
    for r in confirmed:
        _apply(meeting, r)
    return sum(1 for key in pairs if key not in existing or not existing[key].confirmed_at)


def _apply(meeting: Meeting, row: DepartmentRole) -> None:
    Participant.objects.filter(
        meeting=meeting, local_government_id=row.local_government_id, department=row.department, role_from_roster=False
    ).update(role=row.role)


@transaction.atomic
def confirm(*, meeting: Meeting, choices: dict[int, str], acting_user, request=None) -> int:
    """Confirm the 区分 of every department of the meeting (module docstring). Returns how many
    departments changed their 区分."""
    access.require(acting_user, access.STAFF)
    meeting = Meeting.objects.select_for_update().get(pk=meeting.pk)
    if meeting.kind != MeetingKind.PREFECTURE:
        raise Refused("担当区分は都道府県職員の情報交換会だけで使います。")
    if meeting.grouping_approved_at is not None:
        raise Refused(
            "グループ分けが承認済みのため、担当区分を変えられません。変える場合は、先にグループ分けの承認を取り消してください。"
        )
    rows = list(DepartmentRole.objects.filter(meeting=meeting).select_related("local_government"))
    missing = [r for r in rows if choices.get(r.pk) not in ROLES]
    if missing:
        raise Refused(
            *(f"{r.local_government}「{r.department}」の担当区分を選んでください。" for r in missing[:20]),
            *([f"ほかに{len(missing) - 20}件あります。"] if len(missing) > 20 else []),
        )
    now = timezone.now()
    changed = 0
    for r in rows:
        role = choices[r.pk]
        changed += role != r.role
        r.role, r.confirmed_at, r.confirmed_by = role, now, acting_user
        r.save(update_fields=["role", "confirmed_at", "confirmed_by"])
        _apply(meeting, r)
    audit_record(
        action="meetings.department_roles_confirmed",
        acting_user=acting_user,
        target=meeting,
        request=request,
        detail={"departments": len(rows), "changed": changed},
    )
    return changed
