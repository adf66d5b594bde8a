"""The grouping of one meeting in the database: propose it with the engine (``meetings.grouping``),
adjust it by hand, read it back with every rule each group breaks, and approve it.

- The working grouping is the meeting's ``Group`` rows and ``Participant.group``. The engine sees
  the roster through :func:`engine_participants` (its ``id`` is the participant *number*, so the
  engine's Japanese messages and every snapshot speak of participant numbers, never names: S2).
- Rules are the engine's: :func:`current_report` calls ``grouping.violations`` on the current
  groups, and ``grouping_display`` only arranges what it returns next to each group.
- What the engine said at the last proposal is kept in ``Meeting.grouping_notes``, read and
  written as ``models.GroupingNotes``.
- Every write takes the meeting row with ``select_for_update`` (concurrent edits queue up behind
  each other), runs in one transaction with its audit record, and clears the meeting's approval
  (``grouping_approved_at``/``_by``); the ``GroupingApproval`` history is never touched.
- A proposal replaces every group. The new groups have no room: rooms must be assigned again.
- Moving one person away from the rest of their local government is allowed (the spec lets the
  operator and the agency assign people by hand); the screen then shows the engine's
  ``split_local_government`` violation on both groups, and approving needs the explicit
  confirmation like any other violation.
"""

from __future__ import annotations

from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, replace

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from kokasen.accounts import access
from kokasen.core.audit import audit_record
from kokasen.core.refusals import Refused
from kokasen.localgov.models import LocalGovernment

from .. import grouping
from .. import grouping_display as display
from ..models import Group, GroupingApproval, GroupingNotes, Meeting, MeetingKind, Participant, ProposedGroup
from ..roles import ROLES
from ..selectors import center_by_local_government

CONFIRM_VIOLATIONS_LABEL = "ルールに合わないグループがあることを確認したうえで承認する"
CONFIRM_REPLACE_LABEL = "これまでの手作業の変更と承認を取り消して、グループ分けを提案し直す"
DEFAULT_TARGET_SIZE = 6


# --- the roster as the engine sees it ------------------------------------------------------------


def _is_prefecture(meeting: Meeting) -> bool:
    return meeting.kind == MeetingKind.PREFECTURE


def _roster(meeting: Meeting) -> list[tuple[Participant, grouping.Participant]]:
    """Every participant of the meeting with its engine counterpart, in number order."""
    rows = list(
        Participant.objects.filter(meeting=meeting).select_related("local_government", "group").order_by("number")
    )
    centers = center_by_local_government(meeting)
    prefecture = _is_prefecture(meeting)
    out = []
    for p in rows:
        lg = p.local_government
        has_center = centers.get(p.local_government_id)
        out.append(
            (
                p,
                grouping.Participant(
                    id=p.number,
                    code=lg.code,
                    name=str(lg),
                    department=p.role if prefecture else "",  # prefecture meetings: grouped per 担当区分
                    has_center=has_center,
                    population=lg.population,
                ),
            )
        )
    return out


def _require_roles(meeting: Meeting) -> None:
    """Prefecture meetings are grouped per 担当区分: refuse while some participant has none."""
    if not _is_prefecture(meeting):
        return
    missing = Participant.objects.filter(meeting=meeting, role="").count()
    if missing:
        raise Refused(
            f"担当区分が決まっていない参加者が{missing}人います。都道府県の情報交換会は担当区分ごとにグループを作るため、"
            "先に「担当区分の確認」で部署ごとの担当区分を確認してください。"
        )


def engine_participants(meeting: Meeting) -> list[grouping.Participant]:
    """The roster for ``grouping.propose_groups``: id = participant number, code and name of the
    local government, the department (prefecture meetings only), the center status (the roster's
    answer, else the agency's center list, else unknown) and the census population."""
    return [engine for _, engine in _roster(meeting)]


def engine_params(meeting: Meeting) -> grouping.GroupingParams:
    """The meeting's bounds. The target is 6 (the spec's 「６名程度」) when it lies within the
    bounds, otherwise the middle of them."""
    lo, hi = int(meeting.min_group_size), int(meeting.max_group_size)
    target = DEFAULT_TARGET_SIZE if lo <= DEFAULT_TARGET_SIZE <= hi else None
    ratio = float(meeting.max_population_ratio) if meeting.max_population_ratio is not None else None
    return grouping.GroupingParams(
        kind=grouping.KIND_PREFECTURE if _is_prefecture(meeting) else grouping.KIND_TOWN,
        min_size=lo,
        max_size=hi,
        target_size=target,
        max_population_ratio=ratio,
    )


def default_group_name(number: int, department: str = "") -> str:
    name = f"グループ{number}"
    if department:
        name += f"（{department}）"
    return name[:60]


# --- reading the current grouping ---------------------------------------------------------------


def current_report(meeting: Meeting) -> display.GroupingReport:
    """The working grouping with, per group, its members and local governments (population,
    center), the mix, the population range and every rule ``grouping.violations`` finds."""
    params = engine_params(meeting)
    roster = _roster(meeting)
    engine_people = [e for _, e in roster]
    groups = list(Group.objects.filter(meeting=meeting).select_related("room").order_by("number"))
    members: dict[int, list[Participant]] = defaultdict(list)
    unassigned = []
    for p, _ in roster:
        if p.group_id is None:
            unassigned.append(p)
        else:
            members[p.group_id].append(p)
    group_ids = [tuple(p.number for p in members[g.pk]) for g in groups]
    by_index: dict[int | None, list[grouping.Violation]] = defaultdict(list)
    for v in grouping.violations(group_ids, engine_people, params):
        by_index[v.group].append(v)
    proposal = meeting.proposal
    return display.GroupingReport(
        meeting=meeting,
        params=params,
        groups=display.group_rows(
            groups, members, by_index, {p.number: e for p, e in roster}, proposal, prefecture=_is_prefecture(meeting)
        ),
        unassigned=unassigned,
        other_violations=by_index.get(None, []),
        objective=grouping.objective(group_ids, engine_people),
        fingerprint=display.fingerprint(
            [[g.number, list(ids)] for g, ids in zip(groups, group_ids)], [p.number for p in unassigned]
        ),
        proposal=proposal,
    )


def propose_needs_confirmation(meeting: Meeting) -> list[str]:
    """Why proposing again would lose something (approval, hand edits); empty when nothing."""
    reasons = []
    if meeting.grouping_approved_at is not None:
        reasons.append("いまのグループ分けは承認済みです。提案し直すと承認は取り消されます（承認の記録は残ります）。")
    proposal = meeting.proposal
    if proposal.edits:
        reasons.append(f"提案の後に手作業で{proposal.edits}回変更されています。提案し直すとその変更は失われます。")
    elif proposal.proposed_at is None and Group.objects.filter(meeting=meeting).exists():
        reasons.append("いまのグループは提案機能で作られたものではありません。提案し直すとすべて置き換わります。")
    return reasons


# --- writes ---------------------------------------------------------------------------------------


def _lock(meeting: Meeting) -> Meeting:
    return Meeting.objects.select_for_update().get(pk=meeting.pk)


@contextmanager
def _editing(meeting: Meeting):
    """One transaction holding the meeting row (concurrent edits of one meeting queue up); on
    success the caller's instance shows what was written through the locked one."""
    with transaction.atomic():
        locked = _lock(meeting)
        yield locked
    for name in ("grouping_notes", "grouping_approved_at", "grouping_approved_by_id"):
        setattr(meeting, name, getattr(locked, name))


def _changed_by_hand(meeting: Meeting) -> bool:
    """After a hand edit: the approval is cleared (its history stays) and the edit counted."""
    was_approved = meeting.grouping_approved_at is not None
    proposal = meeting.proposal
    meeting.grouping_notes = replace(proposal, edits=proposal.edits + 1).to_json()
    meeting.grouping_approved_at = None
    meeting.grouping_approved_by = None
    meeting.save(update_fields=["grouping_notes", "grouping_approved_at", "grouping_approved_by"])
    return was_approved


def _group_of(meeting: Meeting, group: Group | int) -> Group:
    if isinstance(group, Group):
        if group.meeting_id != meeting.pk:
            raise Refused("移動先のグループがこの会議のものではありません。")
        return group
    found = Group.objects.filter(meeting=meeting, number=group).first()
    if found is None:
        raise Refused(f"グループ{group}はありません。画面を読み込み直してください。")
    return found


def _refresh_department(meeting: Meeting, groups) -> None:
    """Prefecture meetings: a group's department follows its members when they share one."""
    if not _is_prefecture(meeting):
        return
    for g in groups:
        depts = set(Participant.objects.filter(group=g).values_list("role", flat=True))
        depts = {d.strip() for d in depts}
        if len(depts) == 1 and g.department != next(iter(depts)):
            g.department = next(iter(depts))[:100]
            g.save(update_fields=["department"])


@dataclass
class ProposeOutcome:
    groups: int
    people: int
    notes: list[str]
    mixed_groups: int
    mixed_upper_bound: int
    mixed_maximum_proven: bool
    objective: float
    rooms_cleared: bool
    approval_cleared: bool
    violations: list[grouping.Violation]


def grouping_propose(*, meeting: Meeting, acting_user, request=None) -> ProposeOutcome:
    """Run the engine on the roster and replace every group of the meeting with its proposal.

    When the engine refuses (no valid grouping, unusable roster) its ``Refused`` goes up unchanged
    and nothing is written. The new groups have no room (rooms must be
    assigned again); the approval is cleared; the engine's notes are kept on the meeting."""
    access.require(acting_user, access.STAFF)
    with _editing(meeting) as meeting:
        _require_roles(meeting)
        roster = _roster(meeting)
        params = engine_params(meeting)
        result = grouping.propose_groups([e for _, e in roster], params)  # Refused: nothing written
        old_groups = Group.objects.filter(meeting=meeting)
        rooms_cleared = old_groups.filter(room__isnull=False).exists()
        replaced = old_groups.count()
        old_groups.delete()  # Participant.group is SET_NULL
        created = _create_groups(meeting, result)
        changed = _assign_members(created, result, roster)
        approval_cleared = meeting.grouping_approved_at is not None
        meeting.grouping_notes = _proposal_notes(result, params, acting_user).to_json()
        meeting.grouping_approved_at = None
        meeting.grouping_approved_by = None
        meeting.save(update_fields=["grouping_notes", "grouping_approved_at", "grouping_approved_by"])
        audit_record(
            action="meetings.grouping_proposed",
            acting_user=acting_user,
            target=meeting,
            detail={
                "groups": len(created),
                "participants": len(changed),
                "replaced_groups": replaced,
                "mixed_groups": result.mixed_groups,
                "mixed_upper_bound": result.mixed_upper_bound,
                "objective": round(result.objective, 6),
                "violations": len(result.violations),
                "approval_cleared": approval_cleared,
                "rooms_cleared": rooms_cleared,
            },
            request=request,
        )
    return ProposeOutcome(
        groups=len(created),
        people=len(changed),
        notes=list(result.notes),
        mixed_groups=result.mixed_groups,
        mixed_upper_bound=result.mixed_upper_bound,
        mixed_maximum_proven=result.mixed_maximum_proven,
        objective=result.objective,
        rooms_cleared=rooms_cleared,
        approval_cleared=approval_cleared,
        violations=result.violations,
    )


def _create_groups(meeting: Meeting, result: grouping.GroupingResult) -> list[Group]:
    """One ``Group`` per proposed group, numbered and named as the engine numbered them."""
    created = Group.objects.bulk_create(
        [
            Group(
                meeting=meeting,
                number=r.number,
                name=default_group_name(r.number, r.department),
                department=r.department[:100],
            )
            for r in result.reports
        ]
    )
    if any(g.pk is None for g in created):  # backends without RETURNING
        created = list(Group.objects.filter(meeting=meeting).order_by("number"))
    return created


def _assign_members(
    created: list[Group], result: grouping.GroupingResult, roster: list[tuple[Participant, grouping.Participant]]
) -> list[Participant]:
    """Put every participant in their proposed group (the engine's ids are participant numbers)."""
    by_number = {p.number: p for p, _ in roster}
    changed = []
    for g, ids in zip(created, result.groups):
        for number in ids:
            p = by_number[number]
            p.group = g
            changed.append(p)
    Participant.objects.bulk_update(changed, ["group"], batch_size=500)
    return changed


def _proposal_notes(result: grouping.GroupingResult, params: grouping.GroupingParams, acting_user) -> GroupingNotes:
    """What ``Meeting.grouping_notes`` keeps of the engine's proposal."""
    return GroupingNotes(
        proposed_at=timezone.now(),
        proposed_by=acting_user.get_username(),
        notes=tuple(result.notes),
        groups={r.number: ProposedGroup(tuple(r.participant_ids), tuple(r.notes)) for r in result.reports},
        mixed_groups=result.mixed_groups,
        mixed_upper_bound=result.mixed_upper_bound,
        mixed_maximum_proven=result.mixed_maximum_proven,
        kind=params.kind,
        objective=result.objective,
        edits=0,
    )


def participant_move(*, meeting: Meeting, participant: Participant, to_group: Group | int, acting_user, request=None):
    """Move one person to another group (even away from their local government: the screen then
    shows the split). Clears the approval."""
    access.require(acting_user, access.STAFF)
    with _editing(meeting) as meeting:
        participant = (
            Participant.objects.select_related("group", "local_government")
            .filter(pk=participant.pk, meeting=meeting)
            .first()
        )
        if participant is None:
            raise Refused("この会議の参加者ではありません。画面を読み込み直してください。")
        target = _group_of(meeting, to_group)
        if participant.group_id == target.pk:
            raise Refused(f"参加者{participant.number}はすでにグループ{target.number}にいます。")
        source = participant.group
        participant.group = target
        participant.save(update_fields=["group"])
        _refresh_department(meeting, [target])
        approval_cleared = _changed_by_hand(meeting)
        audit_record(
            action="meetings.grouping_participant_moved",
            acting_user=acting_user,
            target=meeting,
            detail={
                "participant": participant.number,
                "local_government": participant.local_government.code,
                "from_group": source.number if source else None,
                "to_group": target.number,
                "approval_cleared": approval_cleared,
            },
            request=request,
        )
    return participant


def local_government_move(
    *,
    meeting: Meeting,
    local_government: LocalGovernment,
    to_group: Group | int,
    acting_user,
    department: str | None = None,
    request=None,
) -> list[Participant]:
    """Move everybody of one local government (prefecture meetings with ``department``: of that
    prefecture and department, the engine's unit) to one group; reunites a split one."""
    access.require(acting_user, access.STAFF)
    with _editing(meeting) as meeting:
        target = _group_of(meeting, to_group)
        people = Participant.objects.filter(meeting=meeting, local_government=local_government).select_related("group")
        what = str(local_government)
        if department is not None and _is_prefecture(meeting):
            people = [p for p in people if p.role == department.strip()]
            what = f"{local_government}（{department}）"
        people = list(people)
        if not people:
            raise Refused(f"この会議に{what}の参加者はいません。画面を読み込み直してください。")
        if all(p.group_id == target.pk for p in people):
            raise Refused(f"{what}の参加者はすでに全員グループ{target.number}にいます。")
        sources = sorted({p.group.number for p in people if p.group_id and p.group_id != target.pk})
        for p in people:
            p.group = target
        Participant.objects.bulk_update(people, ["group"])
        _refresh_department(meeting, [target])
        approval_cleared = _changed_by_hand(meeting)
        audit_record(
            action="meetings.grouping_local_government_moved",
            acting_user=acting_user,
            target=meeting,
            detail={
                "local_government": local_government.code,
                "department": department if _is_prefecture(meeting) else None,
                "participants": sorted(p.number for p in people),
                "from_groups": sources,
                "to_group": target.number,
                "approval_cleared": approval_cleared,
            },
            request=request,
        )
    return people


def group_create(*, meeting: Meeting, acting_user, department: str = "", request=None) -> Group:
    """An empty group with the next number (shown with its size violation until filled)."""
    access.require(acting_user, access.STAFF)
    with _editing(meeting) as meeting:
        number = (Group.objects.filter(meeting=meeting).aggregate(n=Max("number"))["n"] or 0) + 1
        department = department.strip() if _is_prefecture(meeting) and department.strip() in ROLES else ""
        group = Group.objects.create(
            meeting=meeting, number=number, name=default_group_name(number, department), department=department
        )
        approval_cleared = _changed_by_hand(meeting)
        audit_record(
            action="meetings.group_created",
            acting_user=acting_user,
            target=meeting,
            detail={"group": number, "approval_cleared": approval_cleared},
            request=request,
        )
    return group


def group_delete_empty(*, meeting: Meeting, group: Group, acting_user, request=None) -> None:
    """Delete a group nobody is in; the later groups move up one number (default names follow)."""
    access.require(acting_user, access.STAFF)
    with _editing(meeting) as meeting:
        group = Group.objects.filter(pk=group.pk, meeting=meeting).first()
        if group is None:
            raise Refused("そのグループはありません。画面を読み込み直してください。")
        if Participant.objects.filter(group=group).exists():
            raise Refused(f"グループ{group.number}には参加者がいるため削除できません。先に参加者を移動してください。")
        number = group.number
        group.delete()
        for later in Group.objects.filter(meeting=meeting, number__gt=number).order_by("number"):
            old = later.number
            later.number = old - 1
            if later.name == default_group_name(old, later.department):
                later.name = default_group_name(later.number, later.department)
            later.save(update_fields=["number", "name"])
        approval_cleared = _changed_by_hand(meeting)
        audit_record(
            action="meetings.group_deleted",
            acting_user=acting_user,
            target=meeting,
            detail={"group": number, "approval_cleared": approval_cleared},
            request=request,
        )


def grouping_approve(
    *, meeting: Meeting, acting_user, confirm_violations: bool = False, fingerprint: str | None = None, request=None
) -> GroupingApproval:
    """Approve the working grouping as it stands: a ``GroupingApproval`` snapshot (groups, names,
    participant numbers, each group's violations, objective) and the meeting's approved_at/by.

    With violations, only with ``confirm_violations``. With ``fingerprint`` (what the screen showed),
    refused when the grouping changed since."""
    access.require(acting_user, access.STAFF)
    with _editing(meeting) as meeting:
        report = current_report(meeting)
        if not report.groups:
            raise Refused("グループがありません。先にグループ分けを提案してください。")
        if fingerprint is not None and fingerprint != report.fingerprint:
            raise Refused("画面を表示した後にグループ分けが変更されました。最新の内容を確認してから承認してください。")
        if meeting.grouping_approved_at is not None:
            raise Refused("このグループ分けはすでに承認されています。")
        if report.violation_count and not confirm_violations:
            raise Refused(
                f"ルールに合わない点が{report.violation_count}件あります（{report.groups_with_violations}グループ）。"
                f"承認するには「{CONFIRM_VIOLATIONS_LABEL}」にチェックを入れてください。"
            )
        now = timezone.now()
        approval = GroupingApproval.objects.create(
            meeting=meeting,
            approved_by=acting_user,
            approved_at=now,
            snapshot=report.snapshot(confirmed=bool(report.violation_count)),
            objective=report.objective,
            violation_count=report.violation_count,
        )
        meeting.grouping_approved_at = now
        meeting.grouping_approved_by = acting_user
        meeting.save(update_fields=["grouping_approved_at", "grouping_approved_by"])
        audit_record(
            action="meetings.grouping_approved",
            acting_user=acting_user,
            target=meeting,
            detail={
                "approval": approval.pk,
                "groups": len(report.groups),
                "participants": report.people,
                "violations": report.violation_count,
                "violations_confirmed": bool(report.violation_count),
            },
            request=request,
        )
    return approval


def grouping_approval_withdraw(*, meeting: Meeting, acting_user, request=None) -> None:
    """Take the approval back without changing any group (e.g. before replacing the roster). The
    ``GroupingApproval`` history stays; the withdrawal is audited."""
    access.require(acting_user, access.STAFF)
    with _editing(meeting) as meeting:
        if meeting.grouping_approved_at is None:
            raise Refused("このグループ分けは承認されていません。")
        approved_at, approved_by = meeting.grouping_approved_at, meeting.grouping_approved_by
        meeting.grouping_approved_at = None
        meeting.grouping_approved_by = None
        meeting.save(update_fields=["grouping_approved_at", "grouping_approved_by"])
        audit_record(
            action="meetings.grouping_approval_withdrawn",
            acting_user=acting_user,
            target=meeting,
            detail={
                "approved_at": approved_at.isoformat(),
                "approved_by": approved_by.get_username() if approved_by else "",
            },
            request=request,
        )
