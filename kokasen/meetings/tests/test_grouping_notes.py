"""Meeting.grouping_notes read and written as GroupingNotes (models.py): rows stored before the
dataclass existed read the same, and are written back in the same shape."""

import datetime as dt
import json

import pytest
from django.urls import reverse

from kokasen.accounts import roles
from kokasen.meetings.models import Group, GroupingNotes, Meeting, ProposedGroup
from kokasen.meetings.services import grouping as services
from kokasen.testing import login_staff, make_staff

from .test_grouping_service import stored_groups, west_meeting

# A row as grouping_propose wrote it before GroupingNotes (issue 5), after two hand edits.
STORED = {
    "proposed_at": "2025-06-02T01:23:45.678901+00:00",
    "proposed_by": "operator",
    "notes": ["2グループのうち1グループで、センター設置済みと未設置の町村が混在しています。"],
    "groups": {
        "1": {"participants": [1, 2, 3, 7, 8, 9], "notes": []},
        "2": {
            "participants": [4, 5, 6, 10, 11],
            "notes": ["混在できなかった理由：センター設置済みの町村だけが残りました。"],
        },
    },
    "mixed_groups": 1,
    "mixed_upper_bound": 2,
    "mixed_maximum_proven": False,
    "kind": "town",
    "objective": 3.2188758248682006,
    "edits": 2,
}


def test_a_stored_proposal_reads_into_the_dataclass_and_is_written_back_unchanged():
    notes = GroupingNotes.from_json(STORED)
    assert notes.proposed_at == dt.datetime(2025, 6, 2, 1, 23, 45, 678901, tzinfo=dt.UTC)
    assert (notes.proposed_by, notes.kind, notes.edits) == ("operator", "town", 2)
    assert notes.notes == ("2グループのうち1グループで、センター設置済みと未設置の町村が混在しています。",)
    assert notes.groups == {
        1: ProposedGroup((1, 2, 3, 7, 8, 9), ()),
        2: ProposedGroup((4, 5, 6, 10, 11), ("混在できなかった理由：センター設置済みの町村だけが残りました。",)),
    }
    assert (notes.mixed_groups, notes.mixed_upper_bound, notes.mixed_maximum_proven) == (1, 2, False)
    assert notes.objective == 3.2188758248682006
    assert json.dumps(notes.to_json(), ensure_ascii=False) == json.dumps(STORED, ensure_ascii=False)  # keys in order


def test_rows_without_a_proposal_keep_their_shape():
    assert GroupingNotes.from_json({}) == GroupingNotes.from_json(None) == GroupingNotes()
    assert GroupingNotes().to_json() == {}  # the field's default: never proposed, never edited
    by_hand = GroupingNotes.from_json({"edits": 3})  # groups made by hand, never proposed
    assert by_hand.proposed_at is None and by_hand.edits == 3
    assert by_hand.to_json() == {"edits": 3}


@pytest.mark.django_db
def test_a_meeting_with_a_stored_proposal_shows_it_and_counts_the_next_edit(client):
    operator = make_staff(roles.OPERATOR, username="operator")
    meeting = west_meeting(towns=4, per=3)  # 12 people: two groups of six
    services.grouping_propose(meeting=meeting, acting_user=operator)
    first, second = stored_groups(meeting)
    stored = {
        **STORED,
        "groups": {
            "1": {"participants": list(first), "notes": ["保存済みの説明（グループ1）"]},
            "2": {"participants": [99], "notes": ["グループ2の提案時の説明"]},  # no longer its members
        },
    }
    Meeting.objects.filter(pk=meeting.pk).update(grouping_notes=stored)
    meeting.refresh_from_db()

    report = services.current_report(meeting)
    assert report.proposed_at == dt.datetime(2025, 6, 2, 1, 23, 45, 678901, tzinfo=dt.UTC)
    assert report.edits == 2
    assert report.groups[0].notes == ["保存済みの説明（グループ1）"]
    assert report.groups[1].notes == []
    assert services.propose_needs_confirmation(meeting) == [
        "提案の後に手作業で2回変更されています。提案し直すとその変更は失われます。"
    ]
    login_staff(client, make_staff(roles.AGENCY_ADMIN, username="agency-admin"))
    page = client.get(reverse("meetings_admin:grouping", args=[meeting.pk])).content.decode()
    assert "提案日時：2025-06-02 10:23（operator）。その後、手作業で2回変更されています。" in page
    assert "保存済みの説明（グループ1）" in page and "グループ2の提案時の説明" not in page

    services.group_create(meeting=meeting, acting_user=operator)
    meeting.refresh_from_db()
    assert meeting.grouping_notes == {**stored, "edits": 3}  # the rest of the row as it was
    assert Group.objects.filter(meeting=meeting).count() == 3
