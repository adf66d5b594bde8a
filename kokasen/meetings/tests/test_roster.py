"""Rosters (issue 5, item 2): the parser (pure, against the real master data file), the import of a
meeting's participants and of the agency's center list (database), and import_center_list."""

import codecs
import csv
import io
import zipfile

import openpyxl
import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from kokasen.core.models import AuditEvent
from kokasen.core.refusals import Refused
from kokasen.localgov.data import read_rows
from kokasen.localgov.models import LocalGovernment
from kokasen.meetings import roster_file as roster
from kokasen.meetings.models import CenterStatus, Group, MeetingKind, Participant
from kokasen.meetings.roster_file import (
    CENTER_LIST_HEADER,
    ROSTER_HEADER,
    KnownGovernment,
    RosterRow,
    fill_centers,
    parse_center_list,
    parse_roster,
    participant_order,
)
from kokasen.meetings.services.roster import center_list_import, roster_import
from kokasen.meetings.tests.builders import add_participants, make_meeting
from kokasen.testing import make_staff


def operator():
    """A 受託者: the roster service checks the acting user's role (issue 16)."""
    from kokasen.accounts import roles

    return make_staff(roles.OPERATOR)


GOV = {r.code: KnownGovernment(r.code, r.name, r.prefecture, r.kind, r.area, r.population) for r in read_rows()}

# Real towns and villages of the West area (富山県, 石川県, 岐阜県) and one of the East (北海道).
KAMIICHI, TATEYAMA, NYUZEN, KAWAKITA, FUNAHASHI = "163228", "163236", "163422", "173240", "163210"
TOBETSU = "013030"
YOKOHAMA, SAPPORO, TOKYO, OSAKA = "141003", "011002", "130001", "270008"


def row(
    code="163228",
    name="上市町",
    dept="こども課",
    position="係長",
    person="試験 花子",
    email="hanako@town.example.lg.jp",
    center="設置済",
):
    return [code, name, dept, position, person, email, center]


def as_csv(rows, header=ROSTER_HEADER, encoding="utf-8") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def as_xlsx(rows, header=ROSTER_HEADER) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(list(header))
    for r in rows:
        ws.append(r)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def parse(data, filename="roster.csv", **kw):
    return parse_roster(data, filename, governments=GOV, **kw)


def messages(result):
    return [str(p) for p in result.errors]


GOOD = [
    row(),
    row(code="", name="立山町", person="試験 次郎", email="jiro@tateyama.example.lg.jp", center="未設置"),
    row(code=NYUZEN, name="富山県入善町", person="試験 三郎", email="Saburo@NYUZEN.example.lg.jp", center=""),
]


# --- the format --------------------------------------------------------------------------------


def test_header_is_exactly_the_issue_s():
    assert ",".join(ROSTER_HEADER) == "団体コード,団体名,部署,役職,氏名,メールアドレス,センター設置"
    assert ",".join(CENTER_LIST_HEADER) == "団体コード,団体名,センター設置"


@pytest.mark.parametrize(
    "data, filename, encoding",
    [
        (as_csv(GOOD), "r.csv", "utf-8"),
        (codecs.BOM_UTF8 + as_csv(GOOD), "r.csv", "utf-8-sig"),
        (as_csv(GOOD, encoding="cp932"), "r.csv", "cp932"),
        (as_xlsx(GOOD), "r.xlsx", "xlsx"),
    ],
    ids=["utf8", "bom", "cp932", "xlsx"],
)
def test_every_encoding_reads_the_same_rows(data, filename, encoding):
    result = parse(data, filename)
    assert result.ok, messages(result)
    assert result.encoding == encoding
    assert result.rows == [
        RosterRow(2, KAMIICHI, "富山県上市町", "こども課", "係長", "試験 花子", "hanako@town.example.lg.jp", True),
        RosterRow(3, TATEYAMA, "富山県立山町", "こども課", "係長", "試験 次郎", "jiro@tateyama.example.lg.jp", False),
        # the domain is lower-cased, the local part kept; blank センター設置 stays None
        RosterRow(4, NYUZEN, "富山県入善町", "こども課", "係長", "試験 三郎", "Saburo@nyuzen.example.lg.jp", None),
    ]


def test_excel_number_codes_and_full_width_text_are_understood():
    # Excel stores 013030 as the number 13030; 設置済み and full-width digits are accepted.
    data = as_xlsx(
        [
            [13030, "当別町", "保健福祉課", "", "試験 一郎", "ichiro@tobetsu.example.lg.jp", "設置済み"],
            ["１６３２２８", "", "母子保健　担当", "", "試験 二郎", "jiro@kamiichi.example.lg.jp", "未設置"],
        ]
    )
    result = parse(data, "r.xlsx")
    assert result.ok, messages(result)
    assert [(r.code, r.has_center) for r in result.rows] == [(TOBETSU, True), (KAMIICHI, False)]
    assert result.rows[1].department == "母子保健担当"  # spaces removed: departments form the groups


def test_names_identify_a_local_government_when_unambiguous():
    rows = [
        row(code="", name=n, person=f"人{i}", email=f"p{i}@example.lg.jp")
        for i, n in enumerate(["横浜市", "神奈川県横浜市", "東京都", "大阪府"])
    ]
    result = parse(as_csv(rows))
    assert result.ok, messages(result)
    assert [r.code for r in result.rows] == [YOKOHAMA, YOKOHAMA, TOKYO, OSAKA]
    assert result.rows[0].name == "神奈川県横浜市"


def test_an_ambiguous_name_asks_for_the_code():
    result = parse(as_csv([row(), row(code="", name="府中市", email="x@fuchu.example.lg.jp")]))
    assert result.rows == []
    [message] = messages(result)
    assert message.startswith("3行目（団体名）：")
    assert "団体コード 132063 の東京都府中市" in message and "団体コード 342084 の広島県府中市" in message
    assert "団体コードを入力" in message
    # with the prefecture it is unambiguous
    assert parse(as_csv([row(code="", name="広島県府中市")])).rows[0].code == "342084"


def test_columns_are_read_by_header_name_in_any_order():
    """Issue 16: people rearrange columns; 部署名 and 所属 are read as 部署, an unknown column is a notice."""
    header = ["メールアドレス", "氏名", "センター設置", "備考", "部署名", "役職", "団体名", "団体コード"]
    cells = row()
    reordered = [cells[5], cells[4], cells[6], "メモ", cells[2], cells[3], cells[1], cells[0]]
    result = parse(as_csv([reordered], header=header))
    assert result.ok, messages(result)
    assert result.rows[0] == parse(as_csv([row()])).rows[0]
    assert [(p.row, p.column, p.message) for p in result.notices] == [
        (1, "4列目", "「備考」は名簿の様式にない列のため、読み込みませんでした。")
    ]


def test_missing_required_columns_are_named():
    header = ["団体コード", "団体名", "部署", "役職", "センター設置"]
    result = parse(as_csv([["163228", "上市町", "こども課", "係長", "設置済"]], header=header))
    assert messages(result) == [
        "1行目：必要な列がありません：「氏名」、「メールアドレス」。1行目の見出しに入れてください"
        "（名簿の様式のファイルを使うと確実です。列の順番は自由です）。"
    ]
    assert result.rows == []


def test_a_column_named_twice_is_refused():
    header = list(ROSTER_HEADER) + ["部署名"]
    result = parse(as_csv([row() + ["x"]], header=header))
    assert messages(result) == ["1行目：列「部署」が3列目と8列目の2つあります。1つにしてください。"]


def test_missing_last_column_is_a_header_error():
    result = parse(as_csv([row()[:6]], header=ROSTER_HEADER[:6]))
    assert "必要な列がありません：「センター設置」" in "\n".join(messages(result))


def test_header_spaces_are_ignored_but_nothing_else():
    header = [" 団体コード", "団体名 ", "部署", "役職", "氏　名", "メールアドレス", "センター設置"]
    assert parse(as_csv([row()], header=header)).ok


@pytest.mark.parametrize(
    "cells, expected",
    [
        (
            dict(code="163229"),
            "2行目（団体コード）：団体コード「163229」の6桁目（検査数字）が正しくありません（先頭5桁からは 163228 になります）。",
        ),
        (dict(code="99999x"), "2行目（団体コード）：団体コード「99999x」は6桁の数字"),
        (
            dict(code="163236", name="上市町"),
            "2行目（団体名）：団体コード 163236 は「富山県立山町」ですが、団体名が「上市町」になっています。",
        ),
        (dict(code="", name="どこか町"), "2行目（団体名）：団体名「どこか町」に当たる地方公共団体が見つかりません。"),
        (dict(code="", name=""), "2行目（団体コード）：団体コードと団体名がどちらもありません。"),
        (
            dict(email="hanako.example.lg.jp"),
            "2行目（メールアドレス）：メールアドレス「hanako.example.lg.jp」の形式が正しくありません。「@」がありません。",
        ),
        (
            dict(email="花子@example.lg.jp"),
            "2行目（メールアドレス）：メールアドレス「花子@example.lg.jp」の形式が正しくありません。全角文字や日本語は使えません。",
        ),
        (dict(email=""), "2行目（メールアドレス）：メールアドレスがありません。"),
        (dict(email="a@example.lg.jp b@example.lg.jp"), "2行目（メールアドレス）：メールアドレスは1人につき1つだけ"),
        (
            dict(email="=cmd@example.lg.jp"),
            "2行目（メールアドレス）：メールアドレス「=cmd@example.lg.jp」の先頭に「=」「+」「-」は使えません。",
        ),
        (dict(person=""), "2行目（氏名）：氏名がありません。"),
        (dict(person="あ" * 101), "2行目（氏名）：文字数が多すぎます（101 文字）。100 文字以内にしてください。"),
        (
            dict(center="あり"),
            "2行目（センター設置）：センター設置は「設置済」か「未設置」で入力してください（「あり」になっています）。",
        ),
    ],
    ids=[
        "check-digit",
        "not-digits",
        "code-name-mismatch",
        "unknown-name",
        "no-code-no-name",
        "email-no-at",
        "email-japanese",
        "email-missing",
        "two-emails",
        "email-formula",
        "no-name",
        "name-too-long",
        "center-value",
    ],
)
def test_row_errors(cells, expected):
    result = parse(as_csv([row(**cells)]))
    assert result.rows == []
    assert any(m.startswith(expected) for m in messages(result)), messages(result)


def test_duplicate_email_ignores_case_and_names_the_first_row():
    result = parse(as_csv([row(), row(code=TATEYAMA, name="", email="HANAKO@town.example.lg.jp")]))
    assert messages(result) == [
        "3行目（メールアドレス）：メールアドレス「HANAKO@town.example.lg.jp」は2行目と同じです。1人につき別々のアドレスにしてください。"
    ]


def test_one_local_government_has_one_center_status():
    result = parse(as_csv([row(), row(person="別の人", email="b@example.lg.jp", center="未設置")]))
    assert messages(result) == [
        "3行目（センター設置）：同じ団体（富山県上市町）の2行目では「設置済」になっています。センター設置は団体ごとに同じ値にしてください。"
    ]


def test_values_right_of_the_header_are_refused():
    result = parse(as_csv([row() + ["メモ"]]))
    assert messages(result) == ["2行目（8列目）：見出しのない列に値があります。値を消すか、列を削除してください。"]


def test_every_bad_row_is_reported_and_no_row_is_returned():
    rows = [row(), row(code="163229", email="b@example.lg.jp"), row(email="c@example.lg.jp", person=""), row(email="d")]
    result = parse(as_csv(rows))
    assert result.rows == []
    assert [p.row for p in result.errors] == [3, 4, 5]


def test_blank_rows_are_skipped_and_row_numbers_stay_the_spreadsheet_s():
    data = as_xlsx([row(), [None] * 7, row(code="16323", name="立山町", email="b@example.lg.jp", center="ない")])
    result = parse(data, "r.xlsx")
    # 16323 = 5-digit code without its check digit (163236); the bad value is on row 4.
    assert messages(result) == [
        "4行目（センター設置）：センター設置は「設置済」か「未設置」で入力してください（「ない」になっています）。"
    ]


# --- meeting rules -------------------------------------------------------------------------------


def test_town_meetings_take_towns_and_villages_of_their_area_only():
    rows = [
        row(),
        row(code=FUNAHASHI, name="舟橋村", email="v@example.lg.jp"),
        row(code=YOKOHAMA, name="横浜市", email="c@example.lg.jp"),
        row(code=TOKYO, name="東京都", email="p@example.lg.jp"),
        row(code=TOBETSU, name="当別町", email="e@example.lg.jp"),
    ]
    result = parse(as_csv(rows), kind="town", area="west")
    assert messages(result) == [
        "4行目（団体コード）：神奈川県横浜市は政令指定都市です。町村職員の情報交換会の名簿には、町と村だけを入れられます。",
        "5行目（団体コード）：東京都は都道府県です。町村職員の情報交換会の名簿には、町と村だけを入れられます。",
        "6行目（団体コード）：北海道当別町は東日本エリアの町村です。この情報交換会は西日本エリアが対象です。",
    ]


def test_prefecture_meetings_take_prefectures_with_a_department():
    rows = [
        row(code=TOKYO, name="東京都", center=""),
        row(code=OSAKA, name="", dept="", email="o@example.lg.jp", center=""),
        row(code=SAPPORO, name="札幌市", email="s@example.lg.jp", center=""),
    ]
    result = parse(as_csv(rows), kind="prefecture")
    assert messages(result) == [
        "3行目（部署）：部署がありません。都道府県の情報交換会は部署ごとにグループを作るため、部署が必要です。",
        "4行目（団体コード）：北海道札幌市は都道府県ではありません（政令指定都市）。都道府県職員の情報交換会の名簿には、都道府県だけを入れられます。",
    ]


# --- whole-file problems -------------------------------------------------------------------------


def test_empty_files():
    assert messages(parse(b"")) == ["ファイルが空です。"]
    assert messages(parse(codecs.BOM_UTF8)) == ["ファイルが空です。"]
    assert messages(parse(as_csv([]))) == ["2行目以降にデータがありません。"]
    assert messages(parse(as_xlsx([[None] * 7]), "r.xlsx")) == ["2行目以降にデータがありません。"]


def test_broken_and_unsupported_files():
    assert "Excel ファイル（.xlsx）として読めません" in messages(parse(b"PK\x03\x04broken", "r.xlsx"))[0]
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w") as z:
        z.writestr("hello.txt", "not a workbook")
    assert "として読めません" in messages(parse(zipped.getvalue(), "r.xlsx"))[0]
    assert "古い Excel 形式" in messages(parse(b"\xd0\xcf\x11\xe0" + b"\0" * 100, "r.xls"))[0]
    assert "文字コードを判別できません" in messages(parse(b"\x82\xa0\xff\xfe\x80", "r.csv"))[0]


def test_size_limits(monkeypatch):
    monkeypatch.setattr(roster, "MAX_FILE_BYTES", 100)
    assert "ファイルが大きすぎます" in messages(parse(as_csv([row()] * 3)))[0]
    monkeypatch.undo()
    monkeypatch.setattr(roster, "MAX_ROSTER_ROWS", 2)
    rows = [row(email=f"p{i}@example.lg.jp") for i in range(3)]
    assert messages(parse(as_csv(rows))) == ["データが 2 行を超えています。ファイルを分けてください。"]
    assert parse(as_csv(rows[:2])).ok


# --- helpers -------------------------------------------------------------------------------------


def test_fill_centers_prefers_the_file_then_the_list():
    rows = parse(
        as_csv(
            [
                row(center=""),
                row(person="b", email="b@example.lg.jp", center="未設置"),  # same town, answered in the file
                row(code=TATEYAMA, name="", email="c@example.lg.jp", center=""),  # from the list
                row(code=NYUZEN, name="", email="d@example.lg.jp", center=""),  # unknown
            ]
        )
    ).rows
    filled, count = fill_centers(rows, {TATEYAMA: True, KAMIICHI: True})
    assert [r.has_center for r in filled] == [False, False, True, None]
    assert count == 2


def test_participant_order_is_code_department_row():
    rows = parse(
        as_csv(
            [
                row(code=TATEYAMA, name="", email="a@example.lg.jp"),
                row(dept="b課", email="b@example.lg.jp"),
                row(dept="a課", email="c@example.lg.jp"),
            ]
        )
    ).rows
    assert [r.row_number for r in sorted(rows, key=participant_order)] == [4, 3, 2]


def test_center_list_parser():
    good = as_csv([[KAMIICHI, "上市町", "設置済"], ["", "横浜市", "未設置"]], header=CENTER_LIST_HEADER)
    result = parse_center_list(good, "c.csv", governments=GOV)
    assert [(e.code, e.has_center) for e in result.entries] == [(KAMIICHI, True), (YOKOHAMA, False)]
    bad = as_csv(
        [[KAMIICHI, "", "設置済"], [KAMIICHI, "", "未設置"], [TOKYO, "", "設置済"], [TATEYAMA, "", ""]],
        header=CENTER_LIST_HEADER,
    )
    result = parse_center_list(bad, "c.csv", governments=GOV)
    assert result.entries == []
    assert [str(p) for p in result.errors] == [
        "3行目（団体コード）：富山県上市町は2行目にもあります。1団体1行にしてください。",
        "4行目（団体コード）：東京都は都道府県です。一覧には市区町村だけを入れてください。",
        "5行目（センター設置）：センター設置がありません。「設置済」か「未設置」を入力してください。",
    ]
    # by header names in any order; columns the list does not use are notices
    roster_shaped = parse_center_list(as_csv([row()]), "c.csv", governments=GOV)
    assert [(e.code, e.has_center) for e in roster_shaped.entries] == [(KAMIICHI, True)]
    assert [p.column for p in roster_shaped.notices] == ["3列目", "4列目", "5列目", "6列目"]
    missing = parse_center_list(
        as_csv([["設置済", KAMIICHI]], header=["センター", "団体コード"]), "c.csv", governments=GOV
    )
    assert [str(p) for p in missing.errors] == [
        "1行目：必要な列がありません：「団体名」、「センター設置」。1行目の見出しに入れてください"
        "（センター設置状況の一覧の様式のファイルを使うと確実です。列の順番は自由です）。"
    ]


# --- importing into a meeting (database) ---------------------------------------------------------


def set_centers(mapping):
    for code, value in mapping.items():
        CenterStatus.objects.create(local_government=LocalGovernment.objects.get(code=code), has_center=value)


@pytest.mark.django_db
def test_roster_import_replaces_participants_in_a_deterministic_order():
    meeting = make_meeting(MeetingKind.TOWN, area="west")
    add_participants(meeting, [KAWAKITA], per_local_government=2)
    group = Group.objects.create(meeting=meeting, number=1, name="グループ1")
    meeting.participants.update(group=group)
    meeting.grouping_notes = {"notes": ["前の名簿のグループ分けの説明"]}
    meeting.save()
    set_centers({NYUZEN: True})
    staff = operator()
    data = as_csv([GOOD[2], GOOD[1], GOOD[0]])  # order in the file does not decide the numbers
    result = roster_import(meeting=meeting, data=data, filename="名簿.csv", acting_user=staff)
    assert (result.participants, result.local_governments, result.replaced, result.groups_removed) == (3, 3, 2, 1)
    assert (result.centers_from_list, result.centers_unknown) == (1, 0)
    people = list(
        meeting.participants.order_by("number").values_list("number", "local_government__code", "email", "has_center")
    )
    assert people == [
        (1, KAMIICHI, "hanako@town.example.lg.jp", True),
        (2, TATEYAMA, "jiro@tateyama.example.lg.jp", False),
        (3, NYUZEN, "Saburo@nyuzen.example.lg.jp", True),  # blank in the file, 設置済 in the agency's list
    ]
    assert not Group.objects.filter(meeting=meeting).exists()
    meeting.refresh_from_db()
    assert meeting.grouping_notes == {}, "the discarded grouping's notes go with it"
    event = AuditEvent.objects.get(action="meetings.roster_imported")
    assert event.target_id == str(meeting.pk)
    assert event.detail["participants"] == 3 and event.detail["replaced"] == 2
    assert "hanako" not in str(event.detail) and "試験" not in str(event.detail)  # counts only (S2)


@pytest.mark.django_db
def test_a_bad_row_changes_nothing():
    meeting = make_meeting(MeetingKind.TOWN, area="west")
    before = [p.pk for p in add_participants(meeting, [KAWAKITA], per_local_government=2)]
    data = as_csv([GOOD[0], GOOD[1], row(code=YOKOHAMA, name="横浜市", email="y@example.lg.jp")])
    with pytest.raises(Refused) as refused:
        roster_import(meeting=meeting, data=data, filename="r.csv", acting_user=operator())
    assert refused.value.messages == [
        "4行目（団体コード）：神奈川県横浜市は政令指定都市です。町村職員の情報交換会の名簿には、町と村だけを入れられます。"
    ]
    assert list(meeting.participants.values_list("pk", flat=True)) == before
    assert not AuditEvent.objects.filter(action="meetings.roster_imported").exists()


@pytest.mark.django_db
def test_an_approved_grouping_or_recorded_attendance_refuses_the_import():
    from kokasen.accounts import roles
    from kokasen.testing import make_staff

    meeting = make_meeting(MeetingKind.TOWN, area="west")
    add_participants(meeting, [KAWAKITA], per_local_government=2)
    meeting.grouping_approved_at, meeting.grouping_approved_by = timezone.now(), make_staff(roles.AGENCY_ADMIN)
    meeting.save()
    with pytest.raises(Refused) as refused:
        roster_import(meeting=meeting, data=as_csv(GOOD), filename="r.csv", acting_user=operator())
    assert "グループ分けは承認済みです" in refused.value.messages[0]
    assert "先にグループ分けの承認を取り消してください" in refused.value.messages[0]

    meeting.grouping_approved_at = meeting.grouping_approved_by = None
    meeting.save()
    Participant.objects.filter(meeting=meeting, number=1).update(attended_first=True)
    with pytest.raises(Refused) as refused:
        roster_import(meeting=meeting, data=as_csv(GOOD), filename="r.csv", acting_user=operator())
    assert "出欠が記録されている参加者がいる" in refused.value.messages[0]
    assert meeting.participants.count() == 2


@pytest.mark.django_db
def test_prefecture_roster_import():
    meeting = make_meeting(MeetingKind.PREFECTURE)
    data = as_xlsx(
        [
            row(code=TOKYO, name="東京都", dept="母子保健担当", center=""),
            row(code="", name="大阪府", dept="母子保健担当", email="o@example.lg.jp", center=""),
        ]
    )
    result = roster_import(meeting=meeting, data=data, filename="r.xlsx", acting_user=operator())
    assert result.participants == 2 and result.encoding == "xlsx"
    assert list(meeting.participants.values_list("local_government__code", "department")) == [
        (TOKYO, "母子保健担当"),
        (OSAKA, "母子保健担当"),
    ]


@pytest.mark.django_db
def test_center_list_import_replaces_the_list_all_or_nothing(tmp_path):
    set_centers({KAWAKITA: True})
    data = as_csv([[KAMIICHI, "上市町", "設置済"], [TATEYAMA, "", "未設置"]], header=CENTER_LIST_HEADER)
    result = center_list_import(data=data, filename="c.csv", acting_user=None)
    assert (result.entries, result.with_center, result.without_center, result.replaced) == (2, 1, 1, 1)
    assert dict(CenterStatus.objects.values_list("local_government__code", "has_center")) == {
        KAMIICHI: True,
        TATEYAMA: False,
    }
    assert AuditEvent.objects.filter(action="meetings.center_list_imported").count() == 1

    bad = as_csv([[NYUZEN, "", "設置済"], ["163229", "", "設置済"]], header=CENTER_LIST_HEADER)
    with pytest.raises(Refused):
        center_list_import(data=bad, filename="c.csv", acting_user=None)
    assert CenterStatus.objects.count() == 2  # unchanged

    path = tmp_path / "centers.csv"
    path.write_bytes(as_csv([[NYUZEN, "", "設置済"]], header=CENTER_LIST_HEADER, encoding="cp932"))
    out = io.StringIO()
    call_command("import_center_list", str(path), stdout=out)
    assert "センター設置状況を取り込みました：1 団体（設置済 1、未設置 0）" in out.getvalue()
    assert list(CenterStatus.objects.values_list("local_government__code", flat=True)) == [NYUZEN]

    path.write_bytes(bad)
    err = io.StringIO()
    with pytest.raises(CommandError, match="問題が 1 件あります。何も取り込んでいません"):
        call_command("import_center_list", str(path), stderr=err)
    assert "3行目（団体コード）" in err.getvalue()
    assert list(CenterStatus.objects.values_list("local_government__code", flat=True)) == [NYUZEN]
