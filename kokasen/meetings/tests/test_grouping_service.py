"""The grouping of a meeting in the database (services/grouping.py): the engine's view of the
roster, proposals (deterministic, all or nothing), hand moves and the violations they cause,
approval snapshots and their clearing, permissions and the audit trail."""

import pytest
from django.core.exceptions import PermissionDenied

from kokasen.accounts import roles
from kokasen.core.models import AuditEvent
from kokasen.core.refusals import Refused
from kokasen.localgov.models import LocalGovernment
from kokasen.meetings import grouping
from kokasen.meetings.models import CenterStatus, Group, GroupingApproval, MeetingKind, Participant, Room
from kokasen.meetings.services import grouping as services
from kokasen.meetings.tests.builders import add_participants, make_meeting
from kokasen.testing import CODE_A, make_member, make_staff

pytestmark = pytest.mark.django_db


def west_town_codes(count: int = 20) -> list[str]:
    """Real towns and villages of the West area (the first ``count`` by code)."""
    return list(
        LocalGovernment.objects.filter(area="west", kind__in=["town", "village"])
        .order_by("code")
        .values_list("code", flat=True)[:count]
    )


def center_by_code(lg) -> bool:
    """About half the towns with a center, deterministic."""
    return int(lg.code[:5]) % 2 == 0


def alternate_centers(codes):
    """Every other town in population order has a center: a roster that can be fully mixed."""
    ordered = LocalGovernment.objects.filter(code__in=codes).order_by("population", "code")
    with_center = {lg.code for i, lg in enumerate(ordered) if i % 2 == 0}
    return lambda lg: lg.code in with_center


def west_meeting(towns: int = 20, per: int = 3, **fields):
    """20 West-area towns with 3 people each: 60 people, 10 groups, no rule broken."""
    meeting = make_meeting(MeetingKind.TOWN, area="west", **fields)
    codes = west_town_codes(towns)
    add_participants(meeting, codes, per_local_government=per, has_center=alternate_centers(codes))
    return meeting


def stored_groups(meeting) -> list[tuple[int, ...]]:
    """The groups as participant numbers, in group-number order."""
    return [
        tuple(sorted(g.participants.values_list("number", flat=True)))
        for g in Group.objects.filter(meeting=meeting).order_by("number")
    ]


def state(meeting) -> tuple:
    meeting.refresh_from_db()
    return (
        stored_groups(meeting),
        list(Group.objects.filter(meeting=meeting).values_list("pk", "number", "name", "room_id")),
        meeting.grouping_notes,
        meeting.grouping_approved_at,
    )


@pytest.fixture
def meeting(db):
    return west_meeting()


@pytest.fixture
def proposed(meeting, operator):
    services.grouping_propose(meeting=meeting, acting_user=operator)
    meeting.refresh_from_db()
    return meeting


def group_of(meeting, number):
    return Group.objects.get(meeting=meeting, number=number)


def rules_of(report, number):
    return [v.rule for v in next(g for g in report.groups if g.number == number).violations]


# --- the roster as the engine sees it ------------------------------------------------------------


def test_engine_participants_take_center_status_as_fallback_and_the_census_population(operator):
    meeting = make_meeting(MeetingKind.TOWN)
    a, b, c = west_town_codes(3)
    add_participants(meeting, [a], per_local_government=1, has_center=None)
    add_participants(meeting, [b], per_local_government=1, has_center=False)
    add_participants(meeting, [c], per_local_government=1, has_center=None)
    CenterStatus.objects.create(local_government=LocalGovernment.objects.get(code=a), has_center=True)
    CenterStatus.objects.create(local_government=LocalGovernment.objects.get(code=b), has_center=True)
    people = {p.code: p for p in services.engine_participants(meeting)}
    lg_a = LocalGovernment.objects.get(code=a)
    assert people[a] == grouping.Participant(
        id=1, code=a, name=str(lg_a), department="", has_center=True, population=lg_a.population
    )
    assert people[b].has_center is False  # the roster's answer wins over the agency's list
    assert people[c].has_center is None  # neither: unknown
    assert [p.id for p in services.engine_participants(meeting)] == [1, 2, 3]  # participant numbers


def test_engine_participants_keep_departments_only_for_prefecture_meetings():
    town = make_meeting(MeetingKind.TOWN)
    add_participants(town, west_town_codes(1), per_local_government=1, department="福祉課")
    assert services.engine_participants(town)[0].department == ""
    pref = make_meeting(MeetingKind.PREFECTURE)
    add_participants(pref, ["270008"], per_local_government=1, department="母子保健担当")
    engine = services.engine_participants(pref)[0]
    assert engine.department == "母子保健担当" and engine.name == "大阪府" and engine.population > 8_000_000


def test_engine_params_follow_the_meeting():
    meeting = make_meeting(MeetingKind.TOWN, min_group_size=4, max_group_size=8, max_population_ratio=2.5)
    assert services.engine_params(meeting) == grouping.GroupingParams(
        kind="town", min_size=4, max_size=8, target_size=6, max_population_ratio=2.5
    )
    meeting = make_meeting(MeetingKind.PREFECTURE, min_group_size=7, max_group_size=9)
    params = services.engine_params(meeting)
    assert params.kind == "prefecture" and params.target_size is None and params.errors() == []


# --- proposing ----------------------------------------------------------------------------------


def test_propose_stores_the_engines_groups_each_town_whole_and_is_deterministic(meeting, operator):
    outcome = services.grouping_propose(meeting=meeting, acting_user=operator)
    assert meeting.grouping_notes["edits"] == 0  # the caller's instance is up to date
    expected = grouping.propose_groups(services.engine_participants(meeting), services.engine_params(meeting))
    first = stored_groups(meeting)
    assert first == [tuple(sorted(g)) for g in expected.groups]
    assert outcome.groups == len(first) == 10 and outcome.people == 60
    assert all(5 <= len(g) <= 7 for g in first)
    assert not Participant.objects.filter(meeting=meeting, group__isnull=True).exists()
    for lg_id in Participant.objects.filter(meeting=meeting).values_list("local_government", flat=True).distinct():
        assert (
            Participant.objects.filter(meeting=meeting, local_government=lg_id).values("group").distinct().count() == 1
        )
    assert list(Group.objects.filter(meeting=meeting).values_list("number", "name")) == [
        (n, f"グループ{n}") for n in range(1, 11)
    ]
    meeting.refresh_from_db()
    notes = meeting.grouping_notes
    assert notes["notes"] == expected.notes and notes["edits"] == 0 and notes["proposed_by"] == "operator"
    assert notes["mixed_groups"] == expected.mixed_groups and any("混在" in n for n in notes["notes"])

    services.grouping_propose(meeting=meeting, acting_user=operator)
    assert stored_groups(meeting) == first  # same roster, same groups
    events = AuditEvent.objects.filter(action="meetings.grouping_proposed", target_id=str(meeting.pk))
    assert events.count() == 2
    assert events.first().detail["replaced_groups"] == 10 and events.first().actor == operator


def test_propose_does_not_depend_on_the_import_order(operator):
    codes = west_town_codes(15)
    forward = make_meeting(MeetingKind.TOWN)
    add_participants(forward, codes, per_local_government=2, has_center=center_by_code)
    services.grouping_propose(meeting=forward, acting_user=operator)
    # the same towns, but numbered from the other end
    backward = make_meeting(MeetingKind.TOWN)
    for code in reversed(codes):
        add_participants(backward, [code], per_local_government=2, has_center=center_by_code)

    def by_code(m):
        return sorted(
            sorted(g.participants.values_list("local_government__code", flat=True))
            for g in Group.objects.filter(meeting=m)
        )

    services.grouping_propose(meeting=backward, acting_user=operator)
    assert by_code(forward) == by_code(backward)


def test_a_grouping_error_changes_nothing_and_says_why_in_japanese(proposed, operator):
    before = state(proposed)
    events = AuditEvent.objects.count()
    proposed.min_group_size = proposed.max_group_size = 7  # 60 people in towns of 3 cannot make sevens
    proposed.save()
    with pytest.raises(Refused) as caught:
        services.grouping_propose(meeting=proposed, acting_user=operator)
    assert any("7〜7人のグループに分けられません" in r for r in caught.value.messages)
    assert state(proposed) == before and AuditEvent.objects.count() == events


def test_an_empty_roster_is_refused():
    with pytest.raises(Refused) as caught:
        services.grouping_propose(meeting=make_meeting(MeetingKind.TOWN), acting_user=make_staff(roles.AGENCY_ADMIN))
    assert caught.value.messages == ["参加者がいません。名簿を確認してください。"]


def test_propose_again_clears_rooms_and_the_approval_but_keeps_the_history(proposed, operator):
    room = Room.objects.create(meeting=proposed, number=1, name="会議室1")
    Group.objects.filter(meeting=proposed).update(room=room)
    services.grouping_approve(meeting=proposed, acting_user=operator)
    assert services.propose_needs_confirmation(proposed) == [
        "いまのグループ分けは承認済みです。提案し直すと承認は取り消されます（承認の記録は残ります）。"
    ]
    outcome = services.grouping_propose(meeting=proposed, acting_user=operator)
    assert outcome.rooms_cleared and outcome.approval_cleared
    proposed.refresh_from_db()
    assert proposed.grouping_approved_at is None and proposed.grouping_approved_by is None
    assert not Group.objects.filter(meeting=proposed, room__isnull=False).exists()
    assert Room.objects.filter(pk=room.pk).exists()  # the room (URL, facilitator) stays, unassigned
    assert GroupingApproval.objects.filter(meeting=proposed).count() == 1


def test_prefecture_meetings_are_grouped_per_department(operator):
    meeting = make_meeting(MeetingKind.PREFECTURE)
    prefectures = list(
        LocalGovernment.objects.filter(kind="prefecture").order_by("code").values_list("code", flat=True)
    )
    add_participants(meeting, prefectures[:12], per_local_government=1, department="母子保健担当")
    add_participants(meeting, prefectures[12:24], per_local_government=1, department="児童虐待防止対策担当")
    services.grouping_propose(meeting=meeting, acting_user=operator)
    for g in Group.objects.filter(meeting=meeting):
        roles = set(g.participants.values_list("role", flat=True))  # grouped per 担当区分 (issue 16)
        assert roles == {g.department} and g.name == f"グループ{g.number}（{g.department}）"
    report = services.current_report(meeting)
    assert all(g.mixed is None and g.with_center == g.without_center == 0 for g in report.groups)
    # prefectures differ a lot in population: only the spread rule may fire, never the mixing one
    assert {v.rule for g in report.groups for v in g.violations} <= {"spread"}
    # moving one department of a prefecture into a group of the other department
    osaka = report.groups[0].local_governments[0]
    other = next(g for g in report.groups if g.group.department != osaka.department)
    services.local_government_move(
        meeting=meeting,
        local_government=osaka.local_government,
        department=osaka.department,
        to_group=other.number,
        acting_user=operator,
    )
    assert "mixed_departments" in rules_of(services.current_report(meeting), other.number)


# --- moving by hand -----------------------------------------------------------------------------


def test_moving_one_person_shows_the_split_and_the_sizes_as_the_engine_reports_them(proposed, operator):
    g1 = group_of(proposed, 1)
    person = g1.participants.order_by("number").first()
    services.participant_move(meeting=proposed, participant=person, to_group=2, acting_user=operator)
    report = services.current_report(proposed)
    engine_view = grouping.violations(
        stored_groups(proposed), services.engine_participants(proposed), services.engine_params(proposed)
    )
    assert [v for g in report.groups for v in g.violations] == engine_view  # the engine's rules, not ours
    # 6 → 5 and 6 → 7 people: the sizes still fit, the split is the only problem, on both groups
    assert rules_of(report, 1) == rules_of(report, 2) == ["split_local_government"]
    assert report.groups[0].violations[0].message.endswith("の参加者がグループ2にも分かれています。")
    row = next(r for r in report.groups[1].local_governments if r.local_government == person.local_government)
    assert row.elsewhere == [1] and row.people == 1
    event = AuditEvent.objects.get(action="meetings.grouping_participant_moved")
    assert event.detail == {
        "participant": person.number,
        "local_government": person.local_government.code,
        "from_group": 1,
        "to_group": 2,
        "approval_cleared": False,
    }
    proposed.refresh_from_db()
    assert proposed.grouping_notes["edits"] == 1
    assert report.groups[0].notes == []  # the proposal's notes no longer describe group 1


def test_moving_a_whole_town_reunites_it_and_moves_the_size_problem(proposed, operator):
    person = group_of(proposed, 1).participants.order_by("number").first()
    services.participant_move(meeting=proposed, participant=person, to_group=2, acting_user=operator)
    moved = services.local_government_move(
        meeting=proposed, local_government=person.local_government, to_group=3, acting_user=operator
    )
    assert len(moved) == 3
    report = services.current_report(proposed)
    assert not any(v.rule == "split_local_government" for g in report.groups for v in g.violations)
    g1, g2, g3 = report.groups[:3]
    assert (g1.people, g2.people, g3.people) == (3, 6, 9)
    assert [v.message for v in g1.violations] == [
        "3人で、最小人数（5人）に足りません。",
        g1.violations[1].message,
    ] and g1.violations[1].rule == "no_mix"  # one town left: nothing to mix with
    assert g2.violations == []
    assert [v.message for v in g3.violations] == ["9人で、最大人数（7人）を超えています。"]
    event = AuditEvent.objects.get(action="meetings.grouping_local_government_moved")
    assert event.detail["from_groups"] == [1, 2] and event.detail["to_group"] == 3


def test_moves_that_make_no_sense_are_refused_and_change_nothing(proposed, operator):
    other = west_meeting(towns=2, per=3)
    services.group_create(meeting=other, acting_user=operator)
    person = group_of(proposed, 1).participants.first()
    before = state(proposed)
    with pytest.raises(Refused, match="すでにグループ1にいます"):
        services.participant_move(meeting=proposed, participant=person, to_group=1, acting_user=operator)
    with pytest.raises(Refused, match="グループ99はありません"):
        services.participant_move(meeting=proposed, participant=person, to_group=99, acting_user=operator)
    with pytest.raises(Refused, match="この会議のものではありません"):
        services.participant_move(
            meeting=proposed, participant=person, to_group=Group.objects.get(meeting=other), acting_user=operator
        )
    stranger = other.participants.first()
    with pytest.raises(Refused, match="この会議の参加者ではありません"):
        services.participant_move(meeting=proposed, participant=stranger, to_group=2, acting_user=operator)
    with pytest.raises(Refused, match="参加者はいません"):
        services.local_government_move(
            meeting=proposed,
            local_government=LocalGovernment.objects.get(code=CODE_A),
            to_group=2,
            acting_user=operator,
        )
    assert state(proposed) == before


def test_empty_groups_can_be_added_filled_and_deleted(proposed, operator):
    group = services.group_create(meeting=proposed, acting_user=operator)
    assert group.number == 11 and group.name == "グループ11"
    assert [v.message for v in services.current_report(proposed).groups[10].violations] == [
        "0人で、最小人数（5人）に足りません。"
    ]
    with pytest.raises(Refused, match="参加者がいるため削除できません"):
        services.group_delete_empty(meeting=proposed, group=group_of(proposed, 3), acting_user=operator)
    # empty group 3 by moving its towns away, then delete it: 4..11 move up one number
    for p in group_of(proposed, 3).participants.all():
        services.participant_move(meeting=proposed, participant=p, to_group=11, acting_user=operator)
    old_four = group_of(proposed, 4).pk
    services.group_delete_empty(meeting=proposed, group=group_of(proposed, 3), acting_user=operator)
    assert list(Group.objects.filter(meeting=proposed).values_list("number", flat=True)) == list(range(1, 11))
    assert Group.objects.get(pk=old_four).number == 3 and Group.objects.get(pk=old_four).name == "グループ3"
    assert AuditEvent.objects.filter(action__in=["meetings.group_created", "meetings.group_deleted"]).count() == 2


# --- approval -----------------------------------------------------------------------------------


def test_approval_records_a_snapshot_and_a_later_move_clears_it(proposed, operator):
    report = services.current_report(proposed)
    assert report.violation_count == 0
    approval = services.grouping_approve(meeting=proposed, acting_user=operator, fingerprint=report.fingerprint)
    proposed.refresh_from_db()
    assert proposed.grouping_approved_by == operator and proposed.grouping_approved_at == approval.approved_at
    snap = approval.snapshot
    assert [sorted(g["participants"]) for g in snap["groups"]] == [list(p) for p in stored_groups(proposed)]
    assert [(g["number"], g["name"]) for g in snap["groups"]] == [(n, f"グループ{n}") for n in range(1, 11)]
    assert all(g["violations"] == [] for g in snap["groups"]) and snap["violations_confirmed"] is False
    assert approval.objective == pytest.approx(report.objective) and approval.violation_count == 0
    assert "試験" not in str(snap)  # numbers, never names (S2)
    with pytest.raises(Refused, match="すでに承認されています"):
        services.grouping_approve(meeting=proposed, acting_user=operator)

    person = group_of(proposed, 1).participants.first()
    services.participant_move(meeting=proposed, participant=person, to_group=2, acting_user=operator)
    proposed.refresh_from_db()
    assert proposed.grouping_approved_at is None and proposed.grouping_approved_by is None
    assert GroupingApproval.objects.filter(meeting=proposed).count() == 1  # the history stays
    assert AuditEvent.objects.get(action="meetings.grouping_participant_moved").detail["approval_cleared"] is True
    assert AuditEvent.objects.get(action="meetings.grouping_approved").detail["approval"] == approval.pk


def test_approval_with_violations_needs_the_explicit_confirmation_and_records_them(proposed, operator):
    person = group_of(proposed, 1).participants.first()
    services.participant_move(meeting=proposed, participant=person, to_group=2, acting_user=operator)
    with pytest.raises(Refused) as refused:
        services.grouping_approve(meeting=proposed, acting_user=operator)
    assert services.CONFIRM_VIOLATIONS_LABEL in refused.value.messages[0]
    assert (
        not GroupingApproval.objects.exists()
        and not AuditEvent.objects.filter(action="meetings.grouping_approved").exists()
    )
    approval = services.grouping_approve(meeting=proposed, acting_user=operator, confirm_violations=True)
    report = services.current_report(proposed)
    assert approval.violation_count == report.violation_count > 0
    assert approval.snapshot["violations_confirmed"] is True
    recorded = {(g["number"], v["rule"]) for g in approval.snapshot["groups"] for v in g["violations"]}
    assert (1, "split_local_government") in recorded and (2, "split_local_government") in recorded


def test_approval_is_refused_when_the_grouping_changed_since_the_screen(proposed, operator):
    shown = services.current_report(proposed).fingerprint
    services.local_government_move(
        meeting=proposed,
        local_government=group_of(proposed, 1).participants.first().local_government,
        to_group=2,
        acting_user=operator,
    )
    with pytest.raises(Refused, match="画面を表示した後にグループ分けが変更されました"):
        services.grouping_approve(meeting=proposed, acting_user=operator, fingerprint=shown, confirm_violations=True)


def test_people_outside_every_group_are_shown_and_counted(proposed, operator):
    add_participants(proposed, west_town_codes(21)[20:], per_local_government=2, has_center=True)
    report = services.current_report(proposed)
    assert [p.number for p in report.unassigned] == [61, 62]
    assert [v.rule for v in report.other_violations] == ["membership", "membership"]
    assert "どのグループにも入っていません" in report.other_violations[0].message
    with pytest.raises(Refused):
        services.grouping_approve(meeting=proposed, acting_user=operator)


def test_only_staff_may_change_the_grouping(meeting):
    member = make_member(CODE_A)
    for call in (
        lambda: services.grouping_propose(meeting=meeting, acting_user=member),
        lambda: services.group_create(meeting=meeting, acting_user=member),
        lambda: services.grouping_approve(meeting=meeting, acting_user=member),
    ):
        with pytest.raises(PermissionDenied):
            call()
    assert (
        not Group.objects.filter(meeting=meeting).exists()
        and not AuditEvent.objects.filter(action__startswith="meetings.").exists()
    )


def test_an_approval_can_be_withdrawn_without_changing_the_groups(proposed, operator):
    with pytest.raises(Refused, match="承認されていません"):
        services.grouping_approval_withdraw(meeting=proposed, acting_user=operator)
    services.grouping_approve(meeting=proposed, acting_user=operator)
    groups = stored_groups(proposed)
    services.grouping_approval_withdraw(meeting=proposed, acting_user=operator)
    proposed.refresh_from_db()
    assert proposed.grouping_approved_at is None and stored_groups(proposed) == groups
    assert GroupingApproval.objects.filter(meeting=proposed).count() == 1
    event = AuditEvent.objects.get(action="meetings.grouping_approval_withdrawn")
    assert event.detail["approved_by"] == "operator" and event.actor == operator
