"""Exports (issue 5, items 2, 6, 7): the roster template, the Zoom and Webex CSVs, the group lists
per room, the facilitator sheets and the second-half sheet, read back with csv and openpyxl."""

import csv
import io

import openpyxl
import pytest

from kokasen.core.refusals import Refused
from kokasen.localgov.models import LocalGovernment
from kokasen.meetings import downloads, exports
from kokasen.meetings.exports import ExportGroup, ExportMember
from kokasen.meetings.models import Goal, Group, MeetingKind, Room
from kokasen.meetings.roster_file import ROSTER_HEADER, parse_roster
from kokasen.meetings.tests.builders import add_participants, make_meeting
from kokasen.meetings.tests.test_roster import GOV

KAMIICHI, TATEYAMA, NYUZEN, KAWAKITA, FUNAHASHI = "163228", "163236", "163422", "173240", "163210"


def member(n, email=None, name=None, lg="富山県上市町", code=KAMIICHI, **kw):
    return ExportMember(n, code, lg, "こども課", "係長", name or f"試験 {n}", email or f"p{n}@example.lg.jp", **kw)


def read_csv(data: bytes) -> list[list[str]]:
    assert not data.startswith(b"\xef\xbb\xbf")  # no BOM: it would become part of the first header name
    return list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))


def load(data: bytes):
    return openpyxl.load_workbook(io.BytesIO(data))


def values(ws):
    return [list(r) for r in ws.iter_rows(values_only=True)]


def formulas(wb):
    return [c.coordinate for ws in wb.worksheets for r in ws.iter_rows() for c in r if c.data_type == "f"]


GROUPS = [
    ExportGroup("グループ1", (member(1), member(2), member(3))),
    ExportGroup("グループ2", (member(4), member(5, email="Five@Example.lg.jp"))),
]


# --- CSVs ----------------------------------------------------------------------------------------


def test_zoom_csv_has_the_exact_header_and_every_address_once():
    data = exports.zoom_csv(GROUPS)
    assert data.split(b"\r\n")[0] == b"Pre-assign Room Name,Email Address"
    rows = read_csv(data)
    assert rows[0] == ["Pre-assign Room Name", "Email Address"]
    body = rows[1:]
    assert [e for _, e in body] == [f"p{n}@example.lg.jp" for n in (1, 2, 3, 4)] + ["Five@Example.lg.jp"]
    assert len({e.lower() for _, e in body}) == len(body) == 5
    assert [r for r, _ in body] == ["グループ1"] * 3 + ["グループ2"] * 2


def test_webex_csv_header():
    rows = read_csv(exports.webex_csv(GROUPS))
    assert rows[0] == list(exports.WEBEX_HEADER) == ["Breakout Session Name", "Email Address"]
    assert rows[1] == ["グループ1", "p1@example.lg.jp"] and len(rows) == 6


def test_a_person_in_two_groups_is_refused():
    groups = [ExportGroup("A", (member(1),)), ExportGroup("B", (member(2, email="P1@example.lg.jp"),))]
    with pytest.raises(Refused) as error:
        exports.zoom_csv(groups)
    assert error.value.messages == [
        "メールアドレス「P1@example.lg.jp」が「A」と「B」の両方にあります。1人は1つのグループにだけ入れてください。"
    ]
    with pytest.raises(Refused):
        exports.webex_csv(groups)


def test_tool_limits_are_enforced():
    many = [ExportGroup(f"G{i}", (member(i),)) for i in range(101)]
    with pytest.raises(Refused, match="Zoomで事前に割り当てられる100を超えています"):
        exports.zoom_csv(many)
    with pytest.raises(Refused, match="Webexで事前に割り当てられる100を超えています"):
        exports.webex_csv(many)
    people = [ExportGroup(f"G{g}", tuple(member(g * 100 + i) for i in range(100))) for g in range(11)]
    with pytest.raises(Refused, match="1,000人を超えています"):
        exports.zoom_csv(people)
    with pytest.raises(Refused, match="グループに入っている参加者がいません"):
        exports.zoom_csv([])


def test_csv_formula_injection_is_neutralised_but_addresses_stay_valid():
    groups = [ExportGroup('=HYPERLINK("http://evil")', (member(1),)), ExportGroup("@SUM(1)", (member(2),))]
    rows = read_csv(exports.zoom_csv(groups))
    assert rows[1] == ['\'=HYPERLINK("http://evil")', "p1@example.lg.jp"]
    assert rows[2][0] == "'@SUM(1)"
    with pytest.raises(Refused, match="先頭の文字のため書き出せません"):
        exports.zoom_csv([ExportGroup("G", (member(1, email="-x@example.lg.jp"),))])


def test_tool_csvs_are_byte_for_byte_what_the_tools_expect():
    groups = [ExportGroup("グループ1", (member(1), member(2))), ExportGroup('A, "B"', (member(3),))]
    body = 'グループ1,p1@example.lg.jp\r\nグループ1,p2@example.lg.jp\r\n"A, ""B""",p3@example.lg.jp\r\n'
    assert exports.zoom_csv(groups) == ("Pre-assign Room Name,Email Address\r\n" + body).encode("utf-8")
    assert exports.webex_csv(groups) == ("Breakout Session Name,Email Address\r\n" + body).encode("utf-8")


def test_full_width_and_control_signs_are_guarded_too():
    # The guard before decision 0024 missed LF and the NFKC forms; the full-width ones were covered.
    names = ["＝1+2", "＋1", "－1", "＠SUM(1)", "﹦1", "−1", "\t=1", "\n=1"]
    groups = [ExportGroup(name, (member(n),)) for n, name in enumerate(names, start=1)]
    rows = read_csv(exports.zoom_csv(groups))
    assert [r[0] for r in rows[1:]] == ["'" + name for name in names]
    ws = load(exports.proposal_workbook(groups, [], kind="town"))["グループ一覧"]
    cells = [ws.cell(row=r, column=1) for r in range(2, len(names) + 2)]
    assert [c.value for c in cells] == names and {c.data_type for c in cells} == {"s"}
    assert all(c.quotePrefix for c in cells)


def test_the_writer_is_django_free():
    import subprocess
    import sys

    code = "import sys; import kokasen.meetings.exports; sys.exit('django' in sys.modules)"
    subprocess.run([sys.executable, "-c", code], check=True)


# --- the roster template -------------------------------------------------------------------------


def test_roster_template():
    data = exports.roster_template()
    wb = load(data)
    assert wb.sheetnames == ["名簿", "記入方法"]
    ws = wb["名簿"]
    assert [c.value for c in ws[1]] == list(ROSTER_HEADER)
    assert ws.freeze_panes == "A2"
    assert ws["A2"].number_format == "@" and ws["A500"].number_format == "@"  # leading zeros survive
    lists = [dv for dv in ws.data_validations.dataValidation if dv.type == "list"]
    assert len(lists) == 1 and lists[0].formula1 == '"設置済,未設置"' and str(lists[0].sqref) == "G2:G1001"
    explanation = "\n".join(str(v) for r in values(wb["記入方法"]) for v in r if v)
    assert "府中市" in explanation and "先頭の 0 も消えません" in explanation and "設置済" in explanation
    assert formulas(wb) == []
    # the empty template, read back as a roster, says it has no data
    result = parse_roster(data, "template.xlsx", governments=GOV)
    assert [str(p) for p in result.errors] == ["2行目以降にデータがありません。"]
    # filled in Excel-style (code typed as text), it is a valid roster
    ws["A2"], ws["B2"], ws["E2"], ws["F2"], ws["G2"] = "163228", "上市町", "試験 花子", "h@example.lg.jp", "未設置"
    out = io.BytesIO()
    wb.save(out)
    result = parse_roster(out.getvalue(), "filled.xlsx", governments=GOV, kind="town")
    assert result.ok and result.rows[0].code == KAMIICHI and result.rows[0].has_center is False


def test_prefecture_template_has_a_role_drop_down_beside_the_department():
    """Issue 16: 担当区分 beside the free 部署, an Excel list of the spec's 区分 that refuses other values;
    filled in, the template reads back with the 区分."""
    from kokasen.meetings.roles import ROLES

    wb = load(exports.roster_template(kind="prefecture"))
    ws = wb["名簿"]
    assert [c.value for c in ws[1]] == [
        "団体コード",
        "団体名",
        "部署",
        "担当区分",
        "役職",
        "氏名",
        "メールアドレス",
        "センター設置",
    ]
    lists = {str(dv.sqref): dv for dv in ws.data_validations.dataValidation if dv.type == "list"}
    assert set(lists) == {"D2:D1001", "H2:H1001"}
    roles = lists["D2:D1001"]
    assert roles.formula1 == '"' + ",".join(ROLES) + '"' and roles.errorStyle in (None, "stop")
    assert ROLES == ("こども家庭センター担当・児童虐待防止対策担当", "母子保健担当", "市町村支援児童福祉司", "その他")
    ws["A2"], ws["C2"], ws["D2"], ws["F2"], ws["G2"] = (
        "160008",
        "子ども未来課",
        "母子保健担当",
        "試験 花子",
        "h@pref.example.jp",
    )
    out = io.BytesIO()
    wb.save(out)
    result = parse_roster(out.getvalue(), "filled.xlsx", governments=GOV, kind="prefecture")
    assert result.ok and (result.rows[0].department, result.rows[0].role) == ("子ども未来課", "母子保健担当")


# --- workbooks from a meeting --------------------------------------------------------------------


@pytest.fixture
def meeting(db):
    meeting = make_meeting(MeetingKind.TOWN, area="west", title="西日本 町村情報交換会")
    people = add_participants(
        meeting,
        [KAMIICHI, TATEYAMA, NYUZEN, KAWAKITA],
        per_local_government=3,
        has_center=lambda lg: lg.code in (KAMIICHI, NYUZEN),
    )
    room1 = Room.objects.create(
        meeting=meeting,
        number=1,
        name="会議室A",
        url="https://zoom.example/j/1",
        facilitator_name="進行 一郎",
        facilitator_email="f1@example.jp",
    )
    room2 = Room.objects.create(
        meeting=meeting, number=2, name="会議室B", url="https://zoom.example/j/2", facilitator_name="進行 二郎"
    )
    g1 = Group.objects.create(meeting=meeting, number=1, name="グループ1", room=room1)
    g2 = Group.objects.create(meeting=meeting, number=2, name="グループ2", room=room2)
    for p in people:
        p.group = g1 if p.local_government.code in (KAMIICHI, TATEYAMA) else g2
        p.save()
    # a participant's name that looks like a formula must stay text
    people[0].name = "=1+2"
    people[0].save()
    for code, goal, progress in [
        (KAMIICHI, "センターの設置準備を始める", "準備会を2回開いた"),
        (NYUZEN, "統括支援員を置く", ""),
    ]:
        Goal.objects.create(
            meeting=meeting, local_government=LocalGovernment.objects.get(code=code), goal=goal, progress=progress
        )
    meeting.room1, meeting.room2 = room1, room2
    return meeting


def test_zoom_csv_from_a_meeting_per_room_and_whole(meeting):
    whole = read_csv(downloads.zoom_csv(meeting))
    assert len(whole) == 13 and len({e for _, e in whole[1:]}) == 12
    room = read_csv(downloads.zoom_csv(meeting, room=meeting.room2))
    assert {r for r, _ in room[1:]} == {"グループ2"} and len(room) == 7
    meeting.participants.filter(number=12).update(group=None)
    with pytest.raises(Refused, match=r"グループに入っていない参加者が1人います（参加者番号 12）"):
        downloads.zoom_csv(meeting)


def test_groups_workbook_has_one_sheet_per_room(meeting):
    wb = load(downloads.groups_workbook(meeting))
    assert wb.sheetnames == ["会議室A", "会議室B"]
    rows = values(wb["会議室A"])
    assert rows[0][:2] == ["情報交換会", "西日本 町村情報交換会"]
    assert rows[2][:2] == ["会議URL", "https://zoom.example/j/1"]
    assert rows[3][:2] == ["ファシリテーター", "進行 一郎（f1@example.jp）"]
    header_at = next(i for i, r in enumerate(rows) if r[0] == "グループ")
    assert rows[header_at][:8] == [
        "グループ",
        "参加者番号",
        "団体コード",
        "団体名",
        "部署",
        "役職",
        "氏名",
        "メールアドレス",
    ]
    members = rows[header_at + 1 :]
    assert [r[1] for r in members] == [1, 2, 3, 4, 5, 6] and {r[0] for r in members} == {"グループ1"}
    assert members[0][3] == "富山県上市町" and members[0][9] == "設置済" and members[3][9] == "未設置"
    assert wb["会議室A"].freeze_panes == f"A{header_at + 2}"
    formula_like = wb["会議室A"].cell(row=header_at + 2, column=7)
    assert formula_like.value == "=1+2" and formula_like.data_type == "s" and formula_like.quotePrefix
    assert formulas(wb) == []
    # groups without a room appear on their own sheet
    Group.objects.filter(number=2).update(room=None)
    assert load(downloads.groups_workbook(meeting)).sheetnames == ["会議室A", "会議室B", "会議室未定"]


def test_facilitator_sheet(meeting):
    wb = load(downloads.facilitator_sheet(meeting, meeting.room1))
    assert wb.sheetnames == ["メンバー", "上半期の目標"]
    text = "\n".join(str(v) for ws in wb.worksheets for r in values(ws) for v in r if v is not None)
    assert "@" not in text.replace("https://", "")  # no e-mail addresses in a facilitator's sheet
    assert "グループ2" not in text  # only this room's groups
    goals = values(wb["上半期の目標"])
    header_at = next(i for i, r in enumerate(goals) if r[0] == "グループ")
    assert goals[header_at] == ["グループ", "団体名", "人数", "人口", "センター設置", "上半期の目標"]
    assert goals[header_at + 1][:3] == ["グループ1", "富山県上市町", 3]
    assert goals[header_at + 1][5] == "センターの設置準備を始める"
    assert goals[header_at + 2][1:] == ["富山県立山町", 3, 24792, "未設置", "（未記入）"]


def test_second_half_sheet_puts_progress_beside_goals(meeting):
    wb = load(downloads.second_half_sheet(meeting))
    rows = values(wb["下半期の進捗確認"])
    header_at = next(i for i, r in enumerate(rows) if r[0] == "会議室")
    assert rows[header_at] == ["会議室", "グループ", "団体名", "人口", "センター設置", "上半期の目標", "進捗（下半期）"]
    body = {r[2]: r for r in rows[header_at + 1 :]}
    assert list(body) == ["富山県上市町", "富山県立山町", "富山県入善町", "石川県川北町"]
    assert body["富山県上市町"][5:] == ["センターの設置準備を始める", "準備会を2回開いた"]
    assert body["富山県入善町"][5:] == ["統括支援員を置く", None]  # empty progress field
    assert body["石川県川北町"][:2] == ["会議室B", "グループ2"]
    assert wb["下半期の進捗確認"].freeze_panes == f"A{header_at + 2}"


def test_proposal_workbook():
    groups = [
        ExportGroup(
            "グループ1",
            (
                member(1, population=5000, has_center=True),
                member(2, lg="富山県立山町", code=TATEYAMA, population=20000, has_center=False),
            ),
            mixed=True,
        ),
        ExportGroup(
            "グループ2",
            (member(3, lg="石川県川北町", code=KAWAKITA, population=6135, has_center=True),),
            mixed=False,
            notes=("1人で、最小人数（5人）に足りません。",),
        ),
    ]
    wb = load(exports.proposal_workbook(groups, ["2グループに分けました。"], kind="town"))
    assert wb.sheetnames == ["グループ一覧", "メンバー", "全体の説明"]
    rows = values(wb["グループ一覧"])
    assert rows[0] == [
        "グループ",
        "部署",
        "人数",
        "団体数",
        "団体（人口の少ない順）",
        "人口（最小〜最大）",
        "人口の差（倍）",
        "設置済の団体",
        "未設置の団体",
        "混在",
        "注意・ルール違反",
    ]
    assert rows[1] == [
        "グループ1",
        "—",
        2,
        2,
        "富山県上市町（1人）、富山県立山町（1人）",
        "5,000〜20,000",
        4,
        "富山県上市町",
        "富山県立山町",
        "○",
        "なし",
    ]
    assert rows[2][9:] == ["×", "1人で、最小人数（5人）に足りません。"]
    assert values(wb["全体の説明"]) == [["内容"], ["2グループに分けました。"]]
    assert len(values(wb["メンバー"])) == 4
