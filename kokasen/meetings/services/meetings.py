"""Writes of the meeting screens: a meeting with its two sessions and case presentations, the
attendance check boxes and the goals and progress per local government (per prefecture and
department at prefecture meetings). Each runs in one transaction with its audit record
(kokasen/core/audit.py)."""

from __future__ import annotations

from django.db import transaction

from kokasen.accounts import access
from kokasen.core.audit import audit_record
from kokasen.core.refusals import Refused

from ..models import DEFAULT_AGENDA, Goal, Half, Meeting, MeetingKind, MeetingSession, Participant


def new_sessions(meeting: Meeting | None = None) -> dict[str, MeetingSession]:
    """The two sessions of a meeting (unsaved ones, agenda prefilled, for a new meeting)."""
    found = {s.half: s for s in meeting.sessions.all()} if meeting and meeting.pk else {}
    return {half: found.get(half) or MeetingSession(half=half, agenda=DEFAULT_AGENDA[half]) for half in Half.values}


def _presentation_changes(formset) -> dict:
    """After formset.save(): what happened to the presentations (titles)."""
    return {
        "added": [p.title for p in formset.new_objects],
        "changed": [p.title for p, _ in formset.changed_objects],
        "deleted": [p.title for p in formset.deleted_objects],
    }


@transaction.atomic
def meeting_save(*, form, session_forms: dict, presentation_formsets: dict, acting_user, request=None) -> Meeting:
    """Create or change a meeting from the admin's validated forms: the meeting's ModelForm,
    one MeetingSession ModelForm per half and (when editing) one CasePresentation inline
    formset per half."""
    access.require(acting_user, access.STAFF)
    created = form.instance.pk is None
    if not created and form.instance.participants.exists():
        old = Meeting.objects.get(pk=form.instance.pk)
        if (old.kind, old.area) != (form.instance.kind, form.instance.area):
            raise Refused("参加者名簿を取り込んだ後は、種類とエリアを変更できません。")
    meeting = form.save()
    detail = {"changed": list(form.changed_data), "sessions": {}}
    for half in Half.values:
        session_form, formset = session_forms[half], presentation_formsets.get(half)
        session = session_form.save(commit=False)
        session.meeting = meeting
        session.half = half
        session.save()
        changes = {}
        if formset is not None:
            formset.instance = session
            formset.save()
            changes = _presentation_changes(formset)
        if session_form.changed_data or any(changes.values()):
            detail["sessions"][half] = {"changed": list(session_form.changed_data), "presentations": changes}
    audit_record(
        action="meetings.meeting_created" if created else "meetings.meeting_changed",
        acting_user=acting_user,
        target=meeting,
        request=request,
        detail=detail,
    )
    return meeting


HALF_FIELD = {Half.FIRST: "attended_first", Half.SECOND: "attended_second"}


@transaction.atomic
def attendance_record(*, meeting: Meeting, half: str, shown_ids, present_ids, acting_user, request=None) -> int:
    """Record one half's attendance of the participants shown on the screen: those in
    ``present_ids`` attended, the others shown did not. Returns how many rows changed."""
    access.require(acting_user, access.STAFF)
    if half not in HALF_FIELD:
        raise Refused("上半期か下半期かを選んでください。")
    field = HALF_FIELD[half]
    shown = Participant.objects.filter(meeting=meeting, pk__in=list(shown_ids))
    present = set(present_ids)
    changed = []
    for participant in shown:
        value = participant.pk in present
        if getattr(participant, field) is not value:
            setattr(participant, field, value)
            changed.append(participant)
    Participant.objects.bulk_update(changed, [field])
    if changed:
        audit_record(
            action="meetings.attendance_recorded",
            acting_user=acting_user,
            target=meeting,
            request=request,
            detail={
                "half": half,
                "present": sorted(p.number for p in changed if getattr(p, field)),
                "absent": sorted(p.number for p in changed if not getattr(p, field)),
            },
        )
    return len(changed)


@transaction.atomic
def summaries_save(*, meeting: Meeting, values: dict, acting_user, request=None) -> list[int]:
    """Save each group's 協議の概要: ``values`` maps a Group of ``meeting`` to (上半期, 下半期), both
    validated. Returns the numbers of the groups whose texts changed (audited once, numbers only:
    the texts may hold names until the report replaces them)."""
    access.require(acting_user, access.STAFF)
    changed = []
    for group, (first, second) in values.items():
        if group.meeting_id != meeting.pk:
            raise Refused("この情報交換会のグループではありません。画面を読み込み直してください。")
        if (group.summary_first, group.summary_second) == (first, second):
            continue
        group.summary_first, group.summary_second = first, second
        group.save(update_fields=["summary_first", "summary_second"])
        changed.append(group.number)
    if changed:
        audit_record(
            action="meetings.group_summaries_changed",
            acting_user=acting_user,
            target=meeting,
            request=request,
            detail={"groups": changed},
        )
    return changed


def goals_save(*, meeting: Meeting, values: dict, acting_user, request=None) -> list[tuple[str, str]]:
    """Save goals and progress: ``values`` maps (LocalGovernment, department) to (goal,
    progress), both already validated. The department is "" at town meetings (one goal per
    town); prefecture meetings are grouped per department, so each (prefecture, department) has
    its own. Returns the (code, department) whose texts changed (audited once)."""
    access.require(acting_user, access.STAFF)
    if meeting.kind != MeetingKind.PREFECTURE and any(department for _, department in values):
        raise Refused("町村の情報交換会の目標は団体ごとに記録します（部署ごとには分けません）。")
    existing = {(g.local_government_id, g.department): g for g in Goal.objects.filter(meeting=meeting)}
    changed = []
    for (lg, department), (goal, progress) in values.items():
        row = existing.get((lg.pk, department))
        if row is None:
            if not goal and not progress:
                continue
            Goal.objects.create(
                meeting=meeting, local_government=lg, department=department, goal=goal, progress=progress
            )
        elif (row.goal, row.progress) != (goal, progress):
            row.goal, row.progress = goal, progress
            row.save(update_fields=["goal", "progress", "updated_at"])
        else:
            continue
        changed.append((lg.code, department))
    if changed:
        detail = {"local_governments": list(dict.fromkeys(code for code, _ in changed))}
        if any(department for _, department in changed):
            detail["units"] = [{"code": code, "department": department} for code, department in changed]
        audit_record(
            action="meetings.goals_changed",
            acting_user=acting_user,
            target=meeting,
            request=request,
            detail=detail,
        )
    return changed
