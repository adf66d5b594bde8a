"""The survey import (survey_file.py and services/survey.py): format, personal columns, encodings,
row-level Japanese errors, all or nothing, audit."""

import io

import openpyxl
import pytest

from kokasen.core.models import AuditEvent
from kokasen.core.refusals import Refused
from kokasen.meetings import survey_file as survey
from kokasen.meetings.models import Half, MeetingKind, SurveyResponse
from kokasen.meetings.services import survey as service
from kokasen.meetings.tests.builders import make_meeting

# A small master: 富山県上市町, 富山県立山町, 北海道伊達市 and 福島県伊達市 (the same name twice).
KNOWN = {"163228": "上市町", "163236": "立山町", "015750": "伊達市", "072133": "伊達市", "160008": "富山県"}
PREFECTURE_OF = {"163228": "富山県", "163236": "富山県", "015750": "北海道", "072133": "福島県", "160008": "富山県"}

GOOD = (
    "ID,開始時刻,完了時刻,氏名,メールアドレス,団体コード,団体名,満足度,次回も参加したいですか,ご意見［自由記述］\n"
    "1,2025/7/10 16:00,2025/7/10 16:05,山田 一郎,ichiro@town.example.lg.jp,163228,上市町,満足,はい,"
    "他の町の取組が参考になりました。連絡は ichiro@town.example.lg.jp か 076-472-1111 まで\n"
    "2,2025/7/10 16:01,2025/7/10 16:06,佐藤 花子,hanako@town.example.lg.jp,,富山県立山町,とても満足,はい,特になし\n"
    ",,,,,,,,,\n"
    "3,2025/7/10 16:02,2025/7/10 16:07,鈴木 次郎,jiro@town.example.lg.jp,,,満足,いいえ,\n"
)


def parse(text, filename="survey.csv", encoding="utf-8"):
    data = text.encode(encoding) if isinstance(text, str) else text
    return survey.parse_survey(data, filename, known=KNOWN, prefecture_of=PREFECTURE_OF)


def test_reads_questions_and_answers_and_drops_personal_and_metadata_columns():
    result = parse(GOOD)
    assert result.ok, result.errors
    assert [q.text for q in result.questions] == ["満足度", "次回も参加したいですか", "ご意見"]
    assert [q.kind for q in result.questions] == [None, None, survey.TEXT]
    assert result.kinds() == [survey.CHOICE, survey.CHOICE, survey.TEXT]
    assert [r.row for r in result.responses] == [2, 3, 5]  # the blank row 4 is skipped
    assert [r.code for r in result.responses] == ["163228", "163236", None]
    assert result.responses[1].answers == ("とても満足", "はい", "特になし")
    assert sorted(i.heading for i in result.ignored) == sorted(["ID", "開始時刻", "完了時刻", "氏名", "メールアドレス"])
    everything = repr(result.responses)
    for personal in ("山田", "花子", "鈴木", "ichiro@", "076-472-1111"):
        assert personal not in everything
    assert survey.EMAIL_PLACEHOLDER in result.responses[0].answers[2]
    assert survey.PHONE_PLACEHOLDER in result.responses[0].answers[2]
    assert any("「氏名」" in n and "取り込みません" in n for n in result.notices)
    assert any("2 件" in n for n in result.notices)  # one address and one telephone number replaced


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp932"])
def test_encodings(encoding):
    result = parse(GOOD.replace("［自由記述］", "[自由記述]"), encoding=encoding)
    assert result.ok, result.errors
    assert result.encoding == encoding
    assert result.responses[0].answers[0] == "満足"


def test_xlsx_first_sheet():
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["団体コード", "満足度", "感想 [自由記述]"])
    sheet.append([163228, "満足", "よかった"])  # Excel keeps the code as a number
    sheet.append([None, 5, None])
    out = io.BytesIO()
    book.save(out)
    result = parse(out.getvalue(), "survey.xlsx")
    assert result.ok, result.errors
    assert result.responses[0].code == "163228"
    assert result.responses[1].answers == ("5", "")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("氏名,メールアドレス\n山田,a@example.jp\n", "質問の列がありません"),
        ("満足度\n", "2行目以降に回答がありません"),
        ("満足度,満足度\n満足,不満\n", "同じ質問「満足度」"),
        ("団体コード,団体コード,満足度\n163228,163228,満足\n", "列「団体コード」が2つ以上"),
        ("", "ファイルが空です"),
    ],
)
def test_file_level_errors(text, message):
    result = parse(text)
    assert not result.ok and not result.responses
    assert any(message in str(p) for p in result.errors), result.errors


def test_undecodable_bytes():
    result = parse(b"\xff\xfe\x00\x81\x80\x00garbage\x00", "survey.csv")
    assert not result.ok
    assert "文字コードを判別できません" in str(result.errors[0])


def test_too_large_file_and_too_many_rows():
    big = parse(b"a" * (survey.MAX_FILE_BYTES + 1))
    assert "ファイルが大きすぎます" in str(big.errors[0])
    many = parse("満足度\n" + "満足\n" * (survey.MAX_DATA_ROWS + 1))
    assert f"{survey.MAX_DATA_ROWS:,} 行を超えています" in str(many.errors[0])


def test_row_errors_are_collected_with_row_numbers_and_nothing_is_kept():
    text = (
        "団体コード,団体名,満足度\n"
        "163228,上市町,満足\n"
        "999999,,満足\n"  # not a valid code (check digit)
        "163228,立山町,満足\n"  # code and name disagree
        ",伊達市,満足\n"  # two local governments of that name
        ",伊達町,満足\n"  # none of that name
        ",北海道伊達市,満足\n"  # unambiguous with its prefecture
        "163236,,満足,余分な値\n"  # a value without a heading
        f"163236,,{'あ' * (survey.MAX_CELL_CHARS + 1)}\n"
    )
    result = parse(text)
    assert not result.ok
    assert result.responses == []
    by_row = {p.row: str(p) for p in result.errors}
    assert sorted(by_row) == [3, 4, 5, 6, 8, 9]
    assert "3行目（団体コード）" in by_row[3] and "検査数字" in by_row[3]
    assert "「上市町」ですが、団体名が「立山町」" in by_row[4]
    assert "複数あります" in by_row[5]
    assert "全国地方公共団体コードにありません" in by_row[6]
    assert "見出しのない列に値があります" in by_row[8]
    assert "回答が長すぎます" in by_row[9]


def test_classification_and_counting():
    assert survey.classify(["満足", "不満", "満足", ""]) == survey.CHOICE
    assert survey.classify([f"回答{i}" for i in range(11)]) == survey.TEXT
    assert survey.classify(["とても長い自由記述の回答で二十文字を超えている文です。"]) == survey.TEXT
    assert survey.count_choices(["3", "1", "5", "1", ""]) == [("1", 2), ("3", 1), ("5", 1)]
    assert survey.count_choices(["普通", "満足", "満足", "不満", "普通", "満足"]) == [
        ("満足", 3),
        ("普通", 2),
        ("不満", 1),
    ]
    # a Likert scale in its own order, most positive first, whatever the counts (issue 16)
    answers = ["不満", "不満", "不満", "とても 満足", "どちらともいえない", "満足", "不満", "満足"]
    assert survey.count_choices(answers) == [("とても 満足", 1), ("満足", 2), ("どちらともいえない", 1), ("不満", 4)]
    assert [
        a for a, _ in survey.count_choices(["参考にならなかった"] * 3 + ["とても参考になった", "参考になった"])
    ] == [
        "とても参考になった",
        "参考になった",
        "参考にならなかった",
    ]
    # one answer outside the scale: by count again
    assert survey.count_choices(["不満", "不満", "満足", "その他"]) == [("不満", 2), ("満足", 1), ("その他", 1)]
    assert survey.question_of("感想［選択］") == survey.Question("感想", survey.CHOICE)
    assert survey.question_of("①満足度") == survey.Question("①満足度", None)  # no NFKC on the text shown


# --- the service ---------------------------------------------------------------------------------


def test_import_stores_ordered_pairs_replaces_the_half_and_is_audited(operator):
    meeting = make_meeting(MeetingKind.TOWN, area="west")
    SurveyResponse.objects.create(meeting=meeting, half=Half.FIRST, row_number=2, answers=[["古い質問 [選択]", "x"]])
    second = SurveyResponse.objects.create(meeting=meeting, half=Half.SECOND, row_number=2, answers=[["下半期", "y"]])
    done = service.survey_import(
        meeting=meeting, half=Half.FIRST, data=GOOD.encode("cp932"), filename="回答.csv", acting_user=operator
    )
    assert (done.responses, done.replaced) == (3, 1)
    assert done.questions == [("満足度", "選択式"), ("次回も参加したいですか", "選択式"), ("ご意見", "自由記述")]
    rows = list(SurveyResponse.objects.filter(meeting=meeting, half=Half.FIRST).order_by("row_number"))
    assert [r.row_number for r in rows] == [2, 3, 5]
    assert rows[0].local_government.code == "163228" and rows[2].local_government is None
    assert rows[1].answers == [
        ["満足度 [選択]", "とても満足"],
        ["次回も参加したいですか [選択]", "はい"],
        ["ご意見 [自由記述]", "特になし"],
    ]
    assert SurveyResponse.objects.filter(pk=second.pk).exists()  # the other half is untouched
    event = AuditEvent.objects.get(action="meetings.survey_imported")
    assert event.actor == operator and event.target_id == str(meeting.pk)
    assert event.detail["responses"] == 3 and event.detail["replaced"] == 1 and event.detail["encoding"] == "cp932"
    assert "氏名" in event.detail["ignored_columns"]


@pytest.mark.parametrize(
    "data",
    [
        b"\x00\x01\x02\xff\xfe broken",
        "氏名\n山田\n".encode(),
        "団体コード,満足度\n999999,満足\n".encode(),
        b"x" * (survey.MAX_FILE_BYTES + 10),
    ],
    ids=["broken-encoding", "no-questions", "row-error", "too-large"],
)
def test_refused_import_changes_nothing(operator, data):
    meeting = make_meeting(MeetingKind.TOWN, area="west")
    kept = SurveyResponse.objects.create(
        meeting=meeting, half=Half.FIRST, row_number=2, answers=[["満足度 [選択]", "満足"]]
    )
    with pytest.raises(Refused) as refused:
        service.survey_import(meeting=meeting, half=Half.FIRST, data=data, filename="survey.csv", acting_user=operator)
    assert refused.value.problems and all(str(p) for p in refused.value.problems)
    assert list(SurveyResponse.objects.filter(meeting=meeting)) == [kept]
    assert SurveyResponse.objects.get(pk=kept.pk).answers == [["満足度 [選択]", "満足"]]
    assert not AuditEvent.objects.filter(action="meetings.survey_imported").exists()


def test_delete_is_audited(operator):
    meeting = make_meeting(MeetingKind.TOWN, area="west")
    service.survey_import(meeting=meeting, half=Half.SECOND, data=GOOD.encode(), filename="s.csv", acting_user=operator)
    assert service.survey_delete(meeting=meeting, half=Half.SECOND, acting_user=operator) == 3
    assert not SurveyResponse.objects.filter(meeting=meeting).exists()
    assert AuditEvent.objects.get(action="meetings.survey_deleted").detail == {"half": "second", "responses": 3}
