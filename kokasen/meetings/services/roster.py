"""Writes of rosters: a meeting's participants from a roster file, and the agency's center list.

Both functions read and check the whole file first (``kokasen/meetings/roster_file.py``), then write in
one transaction with their audit record; any problem raises
:class:`~kokasen.core.refusals.Refused` and changes nothing. The admin screens (``admin_views.py``) and the commands call them:

``roster_import(*, meeting, data, filename, acting_user, request=None) -> RosterImportResult``
    Replaces every participant of ``meeting`` with the file's rows, numbered 1..N in the order
    (団体コード, 部署, row of the file), so the same file always gives the same numbers. Town
    meetings take towns and villages of the meeting's area only; prefecture meetings prefectures
    only, with 部署. A blank センター設置 takes the local government's answer elsewhere in the
    file, else the agency's list (CenterStatus), else stays unknown. Prefecture meetings: a row's
    担当区分 is kept (``role_from_roster``); departments whose rows left it blank get a suggestion
    staff confirm (``services/roles.prepare``; ``roles_pending`` counts them). Columns the file has
    but the roster does not use come back as ``notices``.

    Refused, with a Japanese reason, when the meeting's grouping is approved (the approved groups
    are what invitations and the meeting use; the approval must be cancelled first), or when
    attendance has been recorded for any participant (replacing would erase it). A working
    (unapproved) grouping is discarded: its groups are deleted, because they were made of the
    previous participants; rooms, sessions and goals stay.

``center_list_import(*, data, filename, acting_user, request=None) -> CenterListImportResult``
    Replaces the whole CenterStatus table with the file (header ``団体コード,団体名,センター設置``,
    one municipality per row, 設置済 / 未設置). Municipalities missing from the file have no known
    status afterwards. Participants already imported keep the status they have.

The refusal's ``problems`` are the file's problems (row, column, message; shown as a table on
the upload screens), its ``messages`` the same as strings (「3行目（団体コード）：…」).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from kokasen.accounts import access
from kokasen.core.audit import audit_record
from kokasen.core.refusals import Refused
from kokasen.localgov.models import LocalGovernment

from .. import roster_file
from ..models import CenterStatus, Meeting, MeetingKind, Participant
from . import roles


@dataclass
class RosterImportResult:
    participants: int
    local_governments: int
    replaced: int  # participants removed
    groups_removed: int  # groups of the discarded working grouping
    centers_from_list: int  # rows whose blank センター設置 was filled
    centers_unknown: int  # rows whose center status stays unknown (town meetings)
    encoding: str
    notices: list = field(default_factory=list)  # Problems: columns not read
    roles_pending: int = 0  # prefecture departments whose 担当区分 staff still confirm (services/roles.py)


@dataclass
class CenterListImportResult:
    entries: int
    with_center: int
    without_center: int
    replaced: int  # rows of the previous list
    encoding: str
    notices: list = field(default_factory=list)  # Problems: columns not read


def known_governments() -> dict[str, roster_file.KnownGovernment]:
    """The master data as ``roster_file.parse_roster`` takes it (code -> KnownGovernment)."""
    return {
        code: roster_file.KnownGovernment(code, name, prefecture, kind, area, population)
        for code, name, prefecture, kind, area, population in LocalGovernment.objects.values_list(
            "code", "name", "prefecture", "kind", "area", "population"
        )
    }


def known_centers(codes=None) -> dict[str, bool]:
    """code -> has_center from the agency's list (all of it, or only ``codes``)."""
    statuses = CenterStatus.objects.all()
    if codes is not None:
        statuses = statuses.filter(local_government__code__in=list(codes))
    return dict(statuses.values_list("local_government__code", "has_center"))


def roster_read(*, data: bytes, filename: str, kind: str | None = None, area: str | None = None):
    """Parse and check a roster against the master data, and fill blank center statuses from the
    agency's list (town meetings). Returns (RosterResult, rows filled). Writes nothing."""
    result = roster_file.parse_roster(data, filename, governments=known_governments(), kind=kind, area=area or None)
    filled = 0
    if result.ok and kind != roster_file.KIND_PREFECTURE:
        result.rows, filled = roster_file.fill_centers(result.rows, known_centers({r.code for r in result.rows}))
    return result, filled


def _approval_problem(meeting: Meeting) -> str | None:
    if meeting.grouping_approved_at is not None:
        when = timezone.localtime(meeting.grouping_approved_at).strftime("%Y年%m月%d日 %H:%M")
        return (
            f"この情報交換会のグループ分けは承認済みです（{when}）。名簿を入れ替えると承認したグループ分けが使えなくなるため、"
            "取り込みませんでした。名簿を入れ替える場合は、先にグループ分けの承認を取り消してください。"
        )
    return None


@transaction.atomic
def roster_import(*, meeting: Meeting, data: bytes, filename: str, acting_user, request=None) -> RosterImportResult:
    """Replace ``meeting``'s participants with the roster file, all or nothing (module docstring)."""
    access.require(acting_user, access.STAFF)
    meeting = Meeting.objects.select_for_update().get(pk=meeting.pk)  # concurrent imports queue up
    refused = _approval_problem(meeting)
    if refused:
        raise Refused(refused)
    if (
        meeting.participants.filter(attended_first__isnull=False).exists()
        or meeting.participants.filter(attended_second__isnull=False).exists()
    ):
        raise Refused(
            "出欠が記録されている参加者がいるため、名簿を入れ替えられません（入れ替えると出欠の記録が消えます）。"
        )
    kind = roster_file.KIND_PREFECTURE if meeting.kind == MeetingKind.PREFECTURE else roster_file.KIND_TOWN
    result, filled = roster_read(
        data=data, filename=filename, kind=kind, area=meeting.area if kind == roster_file.KIND_TOWN else None
    )
    if not result.ok:
        raise Refused(*result.errors)

    governments = LocalGovernment.objects.in_bulk({r.code for r in result.rows}, field_name="code")
    replaced = meeting.participants.count()
    groups_removed = meeting.groups.count()
    meeting.participants.all().delete()
    meeting.groups.all().delete()  # the working grouping was made of the previous participants
    if meeting.grouping_notes:  # its notes described the discarded groups
        meeting.grouping_notes = {}
        meeting.save(update_fields=["grouping_notes"])
    rows = sorted(result.rows, key=roster_file.participant_order)
    created = Participant.objects.bulk_create(
        [
            Participant(
                meeting=meeting,
                number=number,
                local_government=governments[r.code],
                department=r.department,
                role=r.role,
                role_from_roster=bool(r.role),
                position=r.position,
                name=r.person_name,
                email=r.email,
                has_center=r.has_center,
            )
            for number, r in enumerate(rows, start=1)
        ]
    )
    roles_pending = roles.prepare(meeting, created)
    unknown = sum(r.has_center is None for r in rows) if kind == roster_file.KIND_TOWN else 0
    outcome = RosterImportResult(
        participants=len(rows),
        local_governments=len({r.code for r in rows}),
        replaced=replaced,
        groups_removed=groups_removed,
        centers_from_list=filled,
        centers_unknown=unknown,
        encoding=result.encoding,
        notices=result.notices,
        roles_pending=roles_pending,
    )
    # No names or addresses in the audit trail (S2): counts only.
    audit_record(
        action="meetings.roster_imported",
        acting_user=acting_user,
        target=meeting,
        request=request,
        detail={
            "filename": filename[:200],
            "encoding": result.encoding,
            "participants": outcome.participants,
            "local_governments": outcome.local_governments,
            "replaced": replaced,
            "groups_removed": groups_removed,
            "centers_from_list": filled,
            "centers_unknown": unknown,
            "roles_pending": roles_pending,
        },
    )
    return outcome


@transaction.atomic
def center_list_import(*, data: bytes, filename: str, acting_user, request=None) -> CenterListImportResult:
    """Replace the agency's center list (CenterStatus) with the file, all or nothing.
    ``acting_user`` None is the server's command line (``import_center_list``), as for staff
    enrolment; anyone else must be 管理者 or 受託者."""
    if acting_user is not None:
        access.require(acting_user, access.STAFF)
    result = roster_file.parse_center_list(data, filename, governments=known_governments())
    if not result.ok:
        raise Refused(*result.errors)
    ids = dict(LocalGovernment.objects.filter(code__in=[e.code for e in result.entries]).values_list("code", "pk"))
    replaced, _ = CenterStatus.objects.all().delete()
    CenterStatus.objects.bulk_create(
        [CenterStatus(local_government_id=ids[e.code], has_center=e.has_center) for e in result.entries]
    )
    outcome = CenterListImportResult(
        entries=len(result.entries),
        with_center=sum(e.has_center for e in result.entries),
        without_center=sum(not e.has_center for e in result.entries),
        replaced=replaced,
        encoding=result.encoding,
        notices=result.notices,
    )
    audit_record(
        action="meetings.center_list_imported",
        acting_user=acting_user,
        target_label="センター設置状況",
        request=request,
        detail={
            "filename": filename[:200],
            "encoding": result.encoding,
            "entries": outcome.entries,
            "with_center": outcome.with_center,
            "without_center": outcome.without_center,
            "replaced": replaced,
        },
    )
    return outcome
