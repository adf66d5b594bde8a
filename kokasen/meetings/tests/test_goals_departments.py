"""Goals per department at prefecture meetings (issue 5, item 7): a prefecture meeting is grouped
per department, so each department of a prefecture sets its own goals. Saved through the goals
screen, shown beside that department's members on the facilitator and second-half sheets, listed
with the department in the report; town meetings keep one goal per town. Also: groups without a
room are labelled 「未割り当て」, not 「グループ一覧」, on the sheets."""

import io

import docx
import openpyxl
import pytest
from django.urls import reverse

from kokasen.core.models import AuditEvent
from kokasen.localgov.models import LocalGovernment
from kokasen.meetings import downloads, report
from kokasen.meetings.forms import goal_field_suffix
from kokasen.meetings.models import Goal, Group, Participant, Room
from kokasen.meetings.report_docx import render_docx
from kokasen.meetings.services import grouping, rooms
from kokasen.meetings.tests.builders import add_participants, make_meeting
from kokasen.meetings.tests.test_rooms import grouped_meeting, west_towns

pytestmark = pytest.mark.django_db

MCH, WELFARE = "母子保健担当", "市町村支援児童福祉司"
GOAL_MCH = "乳幼児健診の未受診者を全数把握する"
GOAL_WELFARE = "市町村への助言の手引きを作る"


@pytest.fixture
def prefecture_meeting(operator):
    """Twelve people in two departments; the first prefecture sends one person to each."""
    meeting = make_meeting("prefecture", title="都道府県の情報交換会")
    codes = list(LocalGovernment.objects.filter(kind="prefecture").order_by("code").values_list("code", flat=True)[:11])
    add_participants(meeting, codes[:6], per_local_government=1, department=MCH)
    add_participants(meeting, [codes[0], *codes[6:]], per_local_government=1, department=WELFARE)
    grouping.grouping_propose(meeting=meeting, acting_user=operator)
    rooms.rooms_assign(meeting=meeting, acting_user=operator)
    meeting.both = LocalGovernment.objects.get(code=codes[0])  # the prefecture in both departments
    return meeting


def rows_from(data: bytes, sheet: str, first: str) -> tuple[list, list[list]]:
    """(header, rows under it) of the table whose header starts with ``first``."""
    rows = [list(r) for r in openpyxl.load_workbook(io.BytesIO(data))[sheet].iter_rows(values_only=True)]
    at = next(i for i, r in enumerate(rows) if r and r[0] == first)
    return rows[at], rows[at + 1 :]


def group_of(meeting, lg, department) -> str:
    return Participant.objects.get(meeting=meeting, local_government=lg, department=department).group.name


def save_goals(client, meeting, values: dict):
    """POST the goals screen: ``values`` maps (lg, department) to (goal, progress)."""
    data = {}
    for (lg, department), (goal, progress) in values.items():
        suffix = goal_field_suffix(lg, department)
        data[f"goal_{suffix}"], data[f"progress_{suffix}"] = goal, progress
    return client.post(reverse("meetings_admin:goals", args=[meeting.pk]), data)


def test_one_prefecture_in_two_departments_gets_two_goals_through_the_screen(staff_client, prefecture_meeting):
    meeting, both = prefecture_meeting, prefecture_meeting.both
    url = reverse("meetings_admin:goals", args=[meeting.pk])
    page = staff_client.get(url).content.decode()
    assert '<th scope="col">部署</th>' in page
    # one row per prefecture and department: 11 prefectures, 12 rows
    assert page.count("の目標（上半期）</label>") == 12
    for department in (MCH, WELFARE):
        assert f"{both}（{department}）の目標（上半期）" in page
        assert f'name="goal_{goal_field_suffix(both, department)}"' in page

    too_long = save_goals(staff_client, meeting, {(both, MCH): (GOAL_MCH, ""), (both, WELFARE): ("あ" * 2001, "")})
    assert too_long.status_code == 400
    assert (
        f"{both}（{WELFARE}）の目標（上半期）は2000文字以内で入力してください（現在2001文字です）。"
        in too_long.content.decode()
    )
    assert not Goal.objects.exists(), "all or nothing"

    response = save_goals(staff_client, meeting, {(both, MCH): (GOAL_MCH, ""), (both, WELFARE): (GOAL_WELFARE, "")})
    assert response.status_code == 302
    assert sorted(Goal.objects.values_list("meeting_id", "local_government__code", "department", "goal")) == sorted(
        [
            (meeting.pk, both.code, MCH, GOAL_MCH),
            (meeting.pk, both.code, WELFARE, GOAL_WELFARE),
        ]
    )
    event = AuditEvent.objects.get(action="meetings.goals_changed")
    assert event.detail["local_governments"] == [both.code]
    assert sorted(u["department"] for u in event.detail["units"]) == sorted([MCH, WELFARE])

    # progress of one department leaves the other's alone
    save_goals(
        staff_client,
        meeting,
        {(both, MCH): (GOAL_MCH, "全数把握の仕組みを作った"), (both, WELFARE): (GOAL_WELFARE, "")},
    )
    assert Goal.objects.get(department=MCH).progress == "全数把握の仕組みを作った"
    assert Goal.objects.get(department=WELFARE).progress == ""
    page = staff_client.get(url).content.decode()
    assert GOAL_MCH in page and GOAL_WELFARE in page and "全数把握の仕組みを作った" in page


def test_each_department_sees_its_own_goal_on_the_sheets(prefecture_meeting):
    meeting, both = prefecture_meeting, prefecture_meeting.both
    Goal.objects.create(meeting=meeting, local_government=both, department=MCH, goal=GOAL_MCH, progress="手順を決めた")
    Goal.objects.create(meeting=meeting, local_government=both, department=WELFARE, goal=GOAL_WELFARE)
    mch_group, welfare_group = group_of(meeting, both, MCH), group_of(meeting, both, WELFARE)
    assert mch_group != welfare_group

    header, rows = rows_from(downloads.second_half_sheet(meeting), "下半期の進捗確認", "会議室")
    assert header == ["会議室", "グループ", "団体名", "人口", "部署", "上半期の目標", "進捗（下半期）"]
    mine = [r for r in rows if r[2] == str(both)]
    assert sorted((r[1], r[4], r[5], r[6] or "") for r in mine) == sorted(
        [(mch_group, MCH, GOAL_MCH, "手順を決めた"), (welfare_group, WELFARE, GOAL_WELFARE, "")]
    )
    others = [r for r in rows if r[2] != str(both)]
    assert len(others) == 10 and {r[5] for r in others} == {"（未記入）"}

    header, rows = rows_from(downloads.facilitator_sheet(meeting, meeting.rooms.get()), "上半期の目標", "グループ")
    assert header == ["グループ", "団体名", "人数", "人口", "部署", "上半期の目標"]
    mine = sorted((r[0], r[2], r[4], r[5]) for r in rows if r[1] == str(both))
    assert mine == sorted([(mch_group, 1, MCH, GOAL_MCH), (welfare_group, 1, WELFARE, GOAL_WELFARE)])


def test_the_report_lists_each_department_s_goals(prefecture_meeting):
    meeting, both = prefecture_meeting, prefecture_meeting.both
    Goal.objects.create(meeting=meeting, local_government=both, department=WELFARE, goal=GOAL_WELFARE, progress="")
    Goal.objects.create(meeting=meeting, local_government=both, department=MCH, goal=GOAL_MCH, progress="手順を決めた")
    data = report.report_data([meeting])
    (m,) = data.meetings
    assert [(g.local_government, g.department, g.goal) for g in m.goals] == [
        (str(both), d, g) for d, g in sorted([(MCH, GOAL_MCH), (WELFARE, GOAL_WELFARE)])
    ]
    document = docx.Document(io.BytesIO(render_docx(data)))
    (table,) = [t for t in document.tables if [c.text for c in t.rows[0].cells][:2] == ["団体", "部署"]]
    assert [c.text for c in table.rows[0].cells] == ["団体", "部署", "目標（上半期）", "進捗（下半期）"]
    body = sorted([c.text for c in r.cells] for r in table.rows[1:])
    assert body == sorted(
        [
            [str(both), MCH, GOAL_MCH, "手順を決めた"],
            [str(both), WELFARE, GOAL_WELFARE, "（未記入）"],
        ]
    )


def test_town_meetings_keep_one_goal_per_town(staff_client):
    meeting = grouped_meeting(towns=2)
    Participant.objects.filter(meeting=meeting).update(department="こども家庭課")  # a town's department is not a unit
    towns = list(LocalGovernment.objects.filter(code__in=west_towns(2)).order_by("code"))
    url = reverse("meetings_admin:goals", args=[meeting.pk])
    page = staff_client.get(url).content.decode()
    assert "部署" not in page and page.count("の目標（上半期）</label>") == 2
    response = staff_client.post(url, {f"goal_{towns[0].pk}": "統括支援員を配置する", f"progress_{towns[0].pk}": ""})
    assert response.status_code == 302
    assert list(Goal.objects.values_list("local_government__code", "department", "goal")) == [
        (towns[0].code, "", "統括支援員を配置する")
    ]
    _, rows = rows_from(downloads.second_half_sheet(meeting), "下半期の進捗確認", "会議室")
    assert [(r[2], r[4], r[5]) for r in rows] == [
        (str(towns[0]), "不明", "統括支援員を配置する"),
        (str(towns[1]), "不明", "（未記入）"),
    ]
    (table,) = [
        t
        for t in docx.Document(io.BytesIO(render_docx(report.report_data([meeting])))).tables
        if t.rows[0].cells[0].text == "団体"
    ]
    assert [c.text for c in table.rows[0].cells] == ["団体", "目標（上半期）", "進捗（下半期）"]


def test_groups_without_a_room_are_labelled_unassigned(operator):
    meeting = grouped_meeting(towns=4)  # two groups, no rooms yet

    def cells(data):
        wb = openpyxl.load_workbook(io.BytesIO(data))
        return wb, [list(r) for ws in wb.worksheets for r in ws.iter_rows(values_only=True)]

    wb, rows = cells(downloads.groups_workbook(meeting))
    assert wb.sheetnames == ["グループ一覧"]
    assert ["会議室", "未割り当て"] == rows[1][:2]
    assert not any(v == "グループ一覧" for r in rows for v in r)
    _, rows = rows_from(downloads.second_half_sheet(meeting), "下半期の進捗確認", "会議室")
    assert {r[0] for r in rows} == {"未割り当て"} and len(rows) == 4

    rooms.rooms_assign(meeting=meeting, acting_user=operator)
    Group.objects.filter(meeting=meeting, number=2).update(room=None)
    wb, _ = cells(downloads.groups_workbook(meeting))
    assert wb.sheetnames == [Room.objects.get(meeting=meeting).name, "会議室未定"]
    assert [r[:2] for r in wb["会議室未定"].iter_rows(values_only=True)][1] == ("会議室", "未割り当て")
    _, rows = rows_from(downloads.second_half_sheet(meeting), "下半期の進捗確認", "会議室")
    assert [r[0] for r in rows] == [Room.objects.get(meeting=meeting).name] * 2 + ["未割り当て"] * 2
