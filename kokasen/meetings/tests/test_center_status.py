"""One truth for center status (issue 16, item 3): the participants screen, the grouping screen,
the engine's roster, the report (its data and its table), the group-list, facilitator and
second-half workbooks all show the same status for each local government, in the same words,
when the agency's center list was imported after the roster. (The Zoom/Webex CSVs carry no
center column: their header is fixed by the tools.)"""

import io
import re

import openpyxl
import pytest
from django.urls import reverse

from kokasen.localgov.models import LocalGovernment
from kokasen.meetings import downloads, report, report_outline
from kokasen.meetings.centers import CENTER_NO, CENTER_UNKNOWN, CENTER_YES, center_label
from kokasen.meetings.models import CenterStatus, Group, MeetingKind, Room
from kokasen.meetings.services import grouping as services
from kokasen.meetings.tests.builders import add_participants, make_meeting
from kokasen.testing import login_staff

from .test_grouping_service import west_town_codes


@pytest.fixture
def meeting(db):
    """Four towns, two people each. The roster answers only for the fourth (未設置, while the
    agency's list says 設置済: the roster wins); the list, imported after the roster, gives the
    first two; the third is on neither."""
    codes = west_town_codes(4)
    meeting = make_meeting(MeetingKind.TOWN, title="センター表示の確認")
    add_participants(
        meeting, codes, per_local_government=2, has_center=lambda lg: False if lg.code == codes[3] else None
    )
    lgs = {lg.code: lg for lg in LocalGovernment.objects.filter(code__in=codes)}
    for code, value in ((codes[0], True), (codes[1], False), (codes[3], True)):
        CenterStatus.objects.create(local_government=lgs[code], has_center=value)
    room = Room.objects.create(meeting=meeting, number=1, name="会議室A", url="https://zoom.example/j/1")
    groups = [Group.objects.create(meeting=meeting, number=n, name=f"グループ{n}", room=room) for n in (1, 2)]
    for p in meeting.participants.select_related("local_government"):
        p.group = groups[0] if p.local_government.code in codes[:2] else groups[1]
        p.save()
    meeting.expected = {
        str(lgs[c]): label for c, label in zip(codes, (CENTER_YES, CENTER_NO, CENTER_UNKNOWN, CENTER_NO))
    }
    meeting.room = room
    return meeting


def sheet_centers(data: bytes) -> list[dict[str, str]]:
    """Per sheet that has a センター設置 column: local government name -> the cell."""
    found = []
    for ws in openpyxl.load_workbook(io.BytesIO(data)).worksheets:
        rows = [list(r) for r in ws.iter_rows(values_only=True)]
        header_at = next((i for i, r in enumerate(rows) if "センター設置" in r and "団体名" in r), None)
        if header_at is None:
            continue
        name_col, center_col = rows[header_at].index("団体名"), rows[header_at].index("センター設置")
        found.append({r[name_col]: r[center_col] for r in rows[header_at + 1 :] if r[name_col]})
    return found


def screen_centers(html: str, names) -> dict[str, str]:
    """The status cell in the first table row that names each local government."""
    out = {}
    words = "|".join((CENTER_YES, CENTER_NO, CENTER_UNKNOWN))
    for name in names:
        within_row = r"(?:(?!</tr>).)*?"
        pattern = r"<tr>" + within_row + re.escape(name) + within_row + r"<td[^>]*>\s*(" + words + r")\s*</td>"
        match = re.search(pattern, html, re.S)
        out[name] = match.group(1) if match else None
    return out


def test_every_view_of_a_meeting_shows_the_same_center_status(meeting, client, agency_admin):
    expected = meeting.expected
    views = {}
    login_staff(client, agency_admin)
    for name in ("participants", "grouping"):
        response = client.get(reverse(f"meetings_admin:{name}", args=[meeting.pk]))
        assert response.status_code == 200
        views[f"{name} screen"] = screen_centers(response.content.decode(), expected)
    engine = {p.name: center_label(p.has_center) for p in services.engine_participants(meeting)}
    views["engine"] = engine
    data = report.report_data([meeting])
    views["report data"] = {
        m.local_government: center_label(m.has_center) for g in data.meetings[0].groups for m in g.members
    }
    table = next(
        b
        for b in report_outline.outline(data)
        if isinstance(b, report_outline.Table) and "団体（人口）：参加者番号" in b.header
    )
    cells = "\n".join(str(c) for row in table.rows for c in row)
    views["report table"] = {
        name: re.search(re.escape(name) + r"（[^）]*・([^）]+)）", cells).group(1) for name in expected
    }
    for label, data_bytes in (
        ("group list", downloads.groups_workbook(meeting)),
        ("facilitator", downloads.facilitator_sheet(meeting, meeting.room)),
        ("second half", downloads.second_half_sheet(meeting)),
    ):
        sheets = sheet_centers(data_bytes)
        assert sheets, label
        for n, sheet in enumerate(sheets):
            views[f"{label} workbook, sheet {n + 1}"] = sheet
    assert len(views) >= 8
    for label, seen in views.items():
        assert seen == expected, label
    for csv_bytes in (downloads.zoom_csv(meeting), downloads.webex_csv(meeting)):
        assert not any(word in csv_bytes.decode("utf-8-sig") for word in (CENTER_YES, CENTER_NO, "設置済み"))
