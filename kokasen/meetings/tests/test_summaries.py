"""Each group's 協議の概要 (issue 16, item 7): the admin screen saves both sessions for every group at
once, audited without the texts; too long a text saves nothing; the text is escaped on the screen.
The report's side (names replaced, in the Word file and the PDF) is in test_report.py."""

import pytest
from django.urls import reverse

from kokasen.core.models import AuditEvent
from kokasen.meetings.forms import GOAL_MAX
from kokasen.meetings.models import Group, MeetingKind
from kokasen.meetings.tests.builders import make_meeting

pytestmark = pytest.mark.django_db


def test_summaries_are_saved_per_group_and_half(staff_client):
    meeting = make_meeting(MeetingKind.TOWN)
    g1 = Group.objects.create(meeting=meeting, number=1, name="グループ1")
    g2 = Group.objects.create(meeting=meeting, number=2, name="グループ2")
    url = reverse("meetings_admin:summaries", args=[meeting.pk])
    page = staff_client.get(url).content.decode()
    assert "グループ1の協議の概要（上半期）" in page and "グループ2の協議の概要（下半期）" in page
    posted = {
        f"summary_first_{g1.pk}": "<b>設置</b>の進め方を共有した。\r\n次回は進捗を報告する。",
        f"summary_second_{g1.pk}": "",
        f"summary_first_{g2.pk}": "",
        f"summary_second_{g2.pk}": "人材確保",
    }
    response = staff_client.post(url, posted)
    assert response.status_code == 302
    g1.refresh_from_db()
    g2.refresh_from_db()
    assert g1.summary_first == "<b>設置</b>の進め方を共有した。\n次回は進捗を報告する。"
    assert (g1.summary_second, g2.summary_first, g2.summary_second) == ("", "", "人材確保")
    event = AuditEvent.objects.get(action="meetings.group_summaries_changed")
    assert event.detail == {"groups": [1, 2]}  # numbers only, never the texts
    assert "&lt;b&gt;設置&lt;/b&gt;" in staff_client.get(url).content.decode()

    too_long = staff_client.post(url, {**posted, f"summary_second_{g2.pk}": "あ" * (GOAL_MAX + 1)})
    assert too_long.status_code == 400
    assert "何も保存していません" in too_long.content.decode()
    g2.refresh_from_db()
    assert g2.summary_second == "人材確保"
