"""Prefecture meetings have no こども家庭センター of their own: their group lists, facilitator and
second-half sheets carry no センター設置 column (it read 「不明」 on every row), the second-half
sheet shows the department instead; town meetings keep the column."""

import io

import openpyxl
import pytest

from kokasen.accounts import roles
from kokasen.localgov.models import LocalGovernment
from kokasen.meetings import downloads
from kokasen.meetings.services import grouping, rooms
from kokasen.meetings.tests.builders import add_participants, make_meeting
from kokasen.meetings.tests.test_rooms import grouped_meeting
from kokasen.testing import make_staff

pytestmark = pytest.mark.django_db


def header_row(data: bytes, sheet: str, first: str) -> list:
    ws = openpyxl.load_workbook(io.BytesIO(data))[sheet]
    for row in ws.iter_rows(values_only=True):
        if row and row[0] == first:
            return [v for v in row if v is not None]
    raise AssertionError(f"no header row starting with {first} in {sheet}")


def all_cells(data: bytes) -> set:
    wb = openpyxl.load_workbook(io.BytesIO(data))
    return {v for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for v in row if v is not None}


@pytest.fixture
def prefecture_meeting():
    operator = make_staff(roles.OPERATOR)
    meeting = make_meeting("prefecture", title="都道府県の会")
    codes = list(LocalGovernment.objects.filter(kind="prefecture").order_by("code").values_list("code", flat=True)[:12])
    add_participants(meeting, codes[:6], per_local_government=1, department="母子保健担当")
    add_participants(meeting, codes[6:], per_local_government=1, department="市町村支援児童福祉司")
    grouping.grouping_propose(meeting=meeting, acting_user=operator)
    rooms.rooms_assign(meeting=meeting, acting_user=operator)
    return meeting


def test_prefecture_files_have_no_center_column_and_the_second_half_sheet_names_the_department(prefecture_meeting):
    meeting = prefecture_meeting
    groups = downloads.groups_workbook(meeting)
    header = header_row(groups, "会議室1", "グループ")
    assert header == [
        "グループ",
        "参加者番号",
        "団体コード",
        "団体名",
        "部署",
        "役職",
        "氏名",
        "メールアドレス",
        "人口",
    ]
    assert "不明" not in all_cells(groups)

    sheet = downloads.second_half_sheet(meeting)
    assert header_row(sheet, "下半期の進捗確認", "会議室") == [
        "会議室",
        "グループ",
        "団体名",
        "人口",
        "部署",
        "上半期の目標",
        "進捗（下半期）",
    ]
    assert {"母子保健担当", "市町村支援児童福祉司"} <= all_cells(sheet) and "不明" not in all_cells(sheet)

    facilitator = downloads.facilitator_sheet(meeting, meeting.rooms.get())
    assert "センター設置" not in header_row(facilitator, "メンバー", "グループ")
    assert header_row(facilitator, "上半期の目標", "グループ")[4] == "部署"
    assert "不明" not in all_cells(facilitator)


def test_town_files_keep_the_center_column():
    operator = make_staff(roles.OPERATOR)
    meeting = grouped_meeting(towns=4)
    rooms.rooms_assign(meeting=meeting, acting_user=operator)
    assert header_row(downloads.groups_workbook(meeting), "会議室1", "グループ")[-1] == "センター設置"
    assert header_row(downloads.second_half_sheet(meeting), "下半期の進捗確認", "会議室")[4] == "センター設置"
    facilitator = downloads.facilitator_sheet(meeting, meeting.rooms.get())
    assert "センター設置" in header_row(facilitator, "メンバー", "グループ")
    assert header_row(facilitator, "上半期の目標", "グループ")[4] == "センター設置"
