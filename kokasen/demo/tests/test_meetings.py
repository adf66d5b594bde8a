"""The sample meetings of ``load_demo``: idempotent, made through the services, fake addresses only."""

from collections import Counter

import pytest
from django.contrib.auth import get_user_model

from kokasen.core.models import AuditEvent
from kokasen.demo import meetings as demo
from kokasen.meetings.models import Group, Meeting, MeetingKind, MeetingSession, Participant, Room
from kokasen.meetings.services import grouping

pytestmark = pytest.mark.django_db


def counts() -> dict:
    return {
        "meetings": Meeting.objects.count(),
        "sessions": MeetingSession.objects.count(),
        "participants": Participant.objects.count(),
        "groups": Group.objects.count(),
        "rooms": Room.objects.count(),
        "grouped": Participant.objects.filter(group__isnull=False).count(),
        "audit": AuditEvent.objects.filter(action__startswith="meetings.").count(),
        "users": get_user_model().objects.count(),
    }


@pytest.fixture
def loaded(tmp_path, monkeypatch):
    from kokasen.demo import loader

    monkeypatch.setattr(loader, "ADMIN_PASSWORD_FILE", tmp_path / "admin.txt")  # never the developer's var/
    monkeypatch.setattr(loader, "ADMIN_ENROLMENT_FILE", tmp_path / "enrolment.txt")
    lines = []
    assert demo.load_meetings_demo(log=lines.append) == 2
    return lines


def test_a_second_run_changes_nothing(loaded):
    before = counts()
    lines = []
    assert demo.load_meetings_demo(log=lines.append) == 0
    assert counts() == before
    assert lines == ["情報交換会のサンプル: 作成済みです。"]
    assert before["meetings"] == 2 and before["sessions"] == 4


def test_the_town_meeting_is_grouped_and_has_a_room_with_a_sample_url(loaded):
    town = Meeting.objects.get(title=demo.TOWN_TITLE)
    assert "サンプル" in town.title
    assert (town.kind, town.area, town.tool, town.capacity_per_url) == (MeetingKind.TOWN, "west", "zoom", 100)
    people = list(town.participants.select_related("local_government"))
    assert 80 <= len(people) <= 100
    per_town = Counter(p.local_government for p in people)
    assert set(per_town.values()) <= {2, 3, 4}
    assert all(lg.area == "west" and lg.kind in ("town", "village") for lg in per_town)
    with_center = sum(p.has_center for p in people) / len(people)
    assert 0.6 <= with_center <= 0.8
    assert all(p.name.startswith("サンプル 参加者") for p in people)
    assert all(p.group_id for p in people), "the proposed grouping covers everybody"
    report = grouping.current_report(town)
    assert all(5 <= g.people <= 7 for g in report.groups)
    assert town.grouping_approved_at is None, "left for the operator to adjust and approve"
    (room,) = town.rooms.all()
    assert room.url.startswith("https://example.com/") and room.facilitator_name == "サンプル 進行役A"
    assert set(town.groups.values_list("room", flat=True)) == {room.pk}
    sessions = {s.half: s for s in town.sessions.all()}
    assert sessions["first"].agenda == "課題・取組・目標" and sessions["second"].agenda == "進捗・取組"
    assert all(s.starts_at.year == 2027 and s.ends_at > s.starts_at for s in sessions.values())
    admin = get_user_model().objects.get(username="admin")
    actions = set(AuditEvent.objects.filter(actor=admin).values_list("action", flat=True))
    assert {
        "meetings.meeting_created",
        "meetings.roster_imported",
        "meetings.grouping_proposed",
        "meetings.rooms_assigned",
        "meetings.rooms_changed",
    } <= actions


def test_the_prefecture_meeting_has_four_departments_and_no_groups(loaded):
    meeting = Meeting.objects.get(title=demo.PREFECTURE_TITLE)
    people = list(meeting.participants.select_related("local_government"))
    assert 35 <= len(people) <= 45
    assert Counter(p.department for p in people) == {d: 10 for d in demo.DEPARTMENTS}
    assert set(Counter(p.local_government for p in people).values()) == {4}, "each prefecture: one per department"
    assert all(p.local_government.kind == "prefecture" for p in people)
    assert not meeting.groups.exists() and not meeting.rooms.exists()


def test_every_address_is_a_reserved_example_domain(loaded):
    addresses = list(Participant.objects.values_list("email", flat=True))
    addresses += [a for a in Room.objects.values_list("facilitator_email", flat=True) if a]
    assert len(addresses) == len(set(addresses)) == Participant.objects.count() + Room.objects.count()
    assert {a.rsplit("@", 1)[1] for a in addresses} <= {"example.lg.jp", "example.com"}
    urls = Room.objects.values_list("url", flat=True)
    assert all(u.startswith("https://example.com/") for u in urls)


def test_the_number_in_each_sample_name_is_the_participant_number(loaded):
    people = Participant.objects.all()
    assert people.count() > 100
    assert all(p.name == f"サンプル 参加者{p.number:03d}" for p in people)


def test_the_list_shows_a_meeting_in_each_state(loaded):
    """Issue 17, item 9: beside the two above, one just created and one held with its grouping
    approved; a second run adds nothing."""
    assert demo.load_meeting_states_demo(log=lambda *a: None) == 2
    assert demo.load_meeting_states_demo(log=lambda *a: None) == 0
    draft = Meeting.objects.get(title=demo.DRAFT_TITLE)
    assert draft.participants.count() == 0 and draft.sessions.count() == 2
    held = Meeting.objects.get(title=demo.HELD_TITLE)
    assert held.grouping_approved_at is not None and held.rooms.exists()
    assert all(s.ends_at.year == 2026 for s in held.sessions.all())
    assert Participant.objects.filter(meeting=held, group__isnull=True).count() == 0
    states = {
        ("no roster" if not m.participants.exists() else "approved" if m.grouping_approved_at else "grouped")
        if m.groups.exists() or not m.participants.exists()
        else "roster only"
        for m in Meeting.objects.all()
    }
    assert states == {"no roster", "roster only", "grouped", "approved"}
