"""The implementation report (M3, S2): the data, the Word file and the PDF read back, the charts,
and the admin screens. No participant's name or address may appear anywhere in either file."""

import datetime as dt
import io
import re
import subprocess
import zipfile

import docx
import pypdf
import pytest
from django.urls import reverse
from django.utils import timezone

from kokasen.localgov.models import LocalGovernment
from kokasen.meetings import charts, report
from kokasen.meetings.models import (
    CasePresentation,
    CenterStatus,
    Goal,
    Group,
    Half,
    MeetingKind,
    Participant,
    Room,
    SurveyResponse,
)
from kokasen.meetings.report_docx import render_docx
from kokasen.meetings.report_pdf import render_pdf
from kokasen.meetings.roles import ROLE_CENTER
from kokasen.meetings.services import survey as survey_service
from kokasen.meetings.tests.builders import add_participants, make_meeting
from kokasen.testing import login_staff
from kokasen.testing.documents import docx_text

# West-area towns of 富山県 and 石川県: 上市町 19,351, 立山町 24,792, 入善町 23,839, 朝日町 11,081, 舟橋村 3,132, 川北町 6,135.
TOWNS = ["163228", "163236", "163422", "163431", "163210", "173240"]
WITH_CENTER = {"163228", "163422", "163210"}
CREATED = dt.date(2026, 3, 31)
FACILITATOR = "進行役 花子"

SURVEY = (
    "氏名,メールアドレス,団体コード,満足度,今後も参加したいですか,よかった点［自由記述］\n"
    "試験 太郎1,p1.163228@example.lg.jp,163228,満足,はい,試験 太郎2さんの説明が参考になりました\n"
    "試験 太郎4,p4.163236@example.lg.jp,163236,とても満足,はい,他町の統括支援員の配置の工夫\n"
    "試験 太郎7,p7.163422@example.lg.jp,163422,満足,いいえ,連絡先 p7.163422@example.lg.jp\n"
    ",,,普通,はい,\n"
)


def _at(day, hour):
    return timezone.make_aware(dt.datetime(2025, *day, hour, 0))


@pytest.fixture
def town_meeting(operator):
    meeting = make_meeting(MeetingKind.TOWN, area="west", title="西日本エリア 町村職員の情報交換会")
    first, second = meeting.sessions.get(half=Half.FIRST), meeting.sessions.get(half=Half.SECOND)
    first.starts_at, first.ends_at, first.agenda = _at((7, 10), 14), _at((7, 10), 16), "課題・取組・目標"
    first.save()
    second.starts_at, second.agenda = _at((12, 4), 14), "進捗・取組"
    second.save()
    lg = LocalGovernment.objects.get(code="163228")
    CasePresentation.objects.create(
        session=first, local_government=lg, title="こども家庭センター設置までの歩み", position=1
    )
    CasePresentation.objects.create(session=second, local_government=None, title="統括支援員の役割（試験 太郎5さん）")
    people = add_participants(meeting, TOWNS, per_local_government=3, has_center=lambda lg: lg.code in WITH_CENTER)
    # 川北町 is on the roster without a center status; the agency's list says it has none.
    Participant.objects.filter(meeting=meeting, local_government__code="173240").update(has_center=None)
    CenterStatus.objects.create(local_government=LocalGovernment.objects.get(code="173240"), has_center=False)
    room = Room.objects.create(
        meeting=meeting,
        number=1,
        name="会議室A",
        facilitator_name=FACILITATOR,
        facilitator_email="facilitator@example.co.jp",
    )
    g1 = Group.objects.create(meeting=meeting, number=1, name="グループ1", room=room)
    g2 = Group.objects.create(
        meeting=meeting,
        number=2,
        name="グループ2",
        room=room,
        summary_second="人材確保について意見交換した。",
    )
    # 協議の概要 as a facilitator writes it: a participant's name and address (issue 16, item 7)
    g1.summary_first = "試験 太郎4さんから設置までの体制づくりの説明があった。\n連絡先 p4.163228@example.lg.jp"
    g1.save()
    by_code = {}
    for p in people:
        by_code.setdefault(p.local_government.code, []).append(p)
    # グループ1: 上市町 (center) + 立山町 (none); グループ2: 入善町, 舟橋村 (both with a center) + 朝日町;
    # 川北町 left without a group.
    for code, group in (("163228", g1), ("163236", g1), ("163422", g2), ("163431", g2), ("163210", g2)):
        Participant.objects.filter(pk__in=[p.pk for p in by_code[code]]).update(group=group)
    # 上半期: everybody recorded, two absent; 下半期: only 上市町 recorded.
    Participant.objects.filter(meeting=meeting).update(attended_first=True)
    Participant.objects.filter(meeting=meeting, number__in=[2, 17]).update(attended_first=False)
    Participant.objects.filter(meeting=meeting, local_government__code="163228").update(attended_second=True)
    Goal.objects.create(
        meeting=meeting,
        local_government=lg,
        goal="令和7年度中にセンターを設置する（担当：試験太郎3）",
        progress="10月に設置した。問い合わせは p5.163228@example.lg.jp へ",
    )
    Goal.objects.create(
        meeting=meeting,
        local_government=LocalGovernment.objects.get(code="163236"),
        goal="統括支援員を配置する",
        progress="",
    )
    survey_service.survey_import(
        meeting=meeting, half=Half.FIRST, data=SURVEY.encode("utf-8-sig"), filename="survey.csv", acting_user=operator
    )
    meeting.refresh_from_db()
    return meeting


def _personal(meeting):
    """Every name and address the report must never contain (also the parts of the names)."""
    values = {FACILITATOR, "花子", "facilitator@example.co.jp", "太郎"}
    for p in meeting.participants.all():
        values |= {p.name, p.name.replace(" ", ""), p.email}
    return values


# --- the data ------------------------------------------------------------------------------------


def test_report_data(town_meeting):
    data = report.report_data([town_meeting], created_on=CREATED)
    assert data.created_text == "令和8年3月31日"
    (m,) = data.meetings
    assert (m.participants, m.local_governments, m.rooms, m.ungrouped) == (18, 6, 1, 3)
    first, second = m.sessions
    assert first.date_text == "令和7年7月10日（木）14:00〜16:00"
    assert second.date_text == "令和7年12月4日（木）14:00"
    assert [(p.local_government, p.title) for p in first.presentations] == [
        ("富山県上市町", "こども家庭センター設置までの歩み")
    ]
    assert second.presentations[0].title == "統括支援員の役割（参加者005さん）"
    t = first.total
    assert (t.invited, t.attended, t.absent, t.unrecorded, t.lg_attended) == (18, 16, 2, 0, 6)
    assert (t.lg_attended_with_center, t.lg_attended_without_center) == (3, 3)  # 川北町 counted via CenterStatus
    assert [(c.label, c.invited, c.attended) for c in first.breakdown] == [
        ("センター設置済", 9, 8),
        ("センター未設置", 9, 8),
    ]
    assert (second.total.attended, second.total.unrecorded, second.recorded) == (3, 15, True)

    g1, g2 = m.groups
    assert [mem.local_government for mem in g1.members] == ["富山県上市町", "富山県立山町"]
    # Numbers follow the roster: 舟橋村 001–003, 上市町 004–006, 立山町 007–009, …
    assert g1.members[0].participants == ("参加者004", "参加者005", "参加者006")
    assert (g1.size, g1.with_center, g1.without_center, g1.mixed) == (6, 1, 1, True)
    assert g1.room == "会議室A"
    assert round(g1.population_ratio, 2) == round(24792 / 19351, 2)
    assert (g2.with_center, g2.without_center, g2.mixed, g2.size) == (2, 1, True, 9)

    assert m.goals[0].goal == "令和7年度中にセンターを設置する（担当：参加者003）"
    assert m.goals[0].progress == "10月に設置した。問い合わせは 参加者005 へ"

    (result,) = m.surveys
    assert (result.half, result.respondents, result.local_governments) == (Half.FIRST, 4, 3)
    satisfaction, again, comments = result.questions
    # the scale's order, not by count (issue 16)
    assert [(c.answer, c.count) for c in satisfaction.counts] == [("とても満足", 1), ("満足", 2), ("普通", 1)]
    assert [(c.answer, c.count) for c in again.counts] == [("はい", 3), ("いいえ", 1)]
    assert comments.kind == "text" and comments.counts == ()
    assert comments.texts == (
        "参加者002さんの説明が参考になりました",
        "他町の統括支援員の配置の工夫",
        "連絡先 ［メールアドレス削除］",
    )
    assert not any(value in repr(data) for value in _personal(town_meeting))


def test_redactor():
    redact = report.Redactor(
        [
            (1, "山田 太郎", "taro@example.jp"),
            (2, "山田 花子", "hanako@example.jp"),
            (3, "佐々木　健", "ken@example.jp"),
        ]
    )
    assert redact("山田太郎さんと山田 花子さん") == "参加者001さんと参加者002さん"
    assert redact("山田さんが発表") == "［氏名削除］さんが発表"  # two participants are called 山田
    assert redact("佐々木課長から TARO@example.jp へ") == "参加者003課長から 参加者001 へ"
    assert (
        redact("佐々木 健、他 other@example.com 090-1234-5678")
        == "参加者003、他 ［メールアドレス削除］ ［電話番号削除］"
    )
    assert redact("本部長と山田町") == "本部長と山田町"  # no honorific: a place name stays


def test_prefecture_meeting_attendance_by_department(operator):
    meeting = make_meeting(MeetingKind.PREFECTURE, title="都道府県職員の情報交換会")
    # grouped per 担当区分, whatever the prefecture calls its department (issue 16)
    add_participants(meeting, ["160008"], per_local_government=2, department="健康課", role="母子保健担当")
    add_participants(meeting, ["170003"], per_local_government=2, department="子育て支援課", role="母子保健担当")
    add_participants(meeting, ["160008"], per_local_government=1, department="こども家庭課", role=ROLE_CENTER)
    Participant.objects.filter(meeting=meeting, role="母子保健担当").update(attended_first=True)
    data = report.report_data([meeting], created_on=CREATED)
    first = data.meetings[0].sessions[0]
    assert first.breakdown_label == "担当区分"
    assert [(c.label, c.invited, c.attended, c.unrecorded) for c in first.breakdown] == [
        ("母子保健担当", 4, 4, 0),
        (ROLE_CENTER, 1, 0, 1),
    ]
    assert data.meetings[0].category == "都道府県"
    group = Group.objects.create(meeting=meeting, number=1, name="母子保健1", department="母子保健担当")
    Participant.objects.filter(meeting=meeting, role="母子保健担当").update(group=group)
    document = docx.Document(io.BytesIO(render_docx(report.report_data([meeting], created_on=CREATED))))
    groups = next(t for t in document.tables if t.rows[0].cells[0].text == "グループ")
    assert [c.text for c in groups.rows[0].cells][:2] == ["グループ", "担当区分"]
    assert [c.text for c in groups.rows[1].cells][:2] == ["母子保健1", "母子保健担当"]
    assert "富山県（1,034,814人）：参加者001、参加者002" in groups.rows[1].cells[3].text
    _, text = _pdf_text(render_pdf(report.report_data([meeting], created_on=CREATED)))
    assert "担当区分別" in text and "児童虐待防止対策担当" in text


def test_an_empty_meeting_still_renders(db):
    meeting = make_meeting(MeetingKind.TOWN, area="east", title="準備中の情報交換会")
    data = report.report_data([meeting], created_on=CREATED)
    text = docx_text(docx.Document(io.BytesIO(render_docx(data))))
    assert "グループはまだ作られていません。" in text and "この回の出欠はまだ記録されていません。" in text
    _, pdf = _pdf_text(render_pdf(data))
    assert "アンケートの回答は取り込まれていません。" in pdf


# --- the Word file -------------------------------------------------------------------------------


def test_docx_read_back(town_meeting, artifacts_dir):
    data = report.report_data([town_meeting], created_on=CREATED)
    body = render_docx(data)
    (artifacts_dir / "meetings-report-sample.docx").write_bytes(body)  # for a look by eye
    assert body == render_docx(data)  # deterministic
    document = docx.Document(io.BytesIO(body))
    headings = [(p.style.name, p.text) for p in document.paragraphs if p.style.name.startswith("Heading")]
    assert ("Heading 1", "1. 実施の概要") in headings
    assert ("Heading 1", "2. 西日本エリア 町村職員の情報交換会") in headings
    assert ("Heading 2", "2.2 上半期（令和7年7月10日（木）14:00〜16:00）") in headings
    assert ("Heading 2", "2.4 グループ構成") in headings
    assert ("Heading 2", "2.5 グループの協議の概要") in headings
    assert ("Heading 2", "2.6 目標と進捗") in headings
    assert ("Heading 3", "上半期のアンケート（回答 4件）") in headings
    title = [p for p in document.paragraphs if p.style.name == "Title"]
    assert title and title[0].text == "情報交換会実施報告書"
    assert any(p.text == "令和8年3月31日" for p in document.paragraphs)

    tables = {}
    for t in document.tables:
        tables.setdefault(t.rows[0].cells[0].text, t)  # the first table of each kind
    summary = document.tables[0]
    assert [c.text for c in summary.rows[1].cells][:5] == [
        "西日本エリア 町村職員の情報交換会",
        "西日本",
        "上半期",
        "18",
        "16",
    ]
    attendance = tables["センター設置状況"]
    assert [c.text for c in attendance.rows[-1].cells][:6] == ["合計", "18", "16", "2", "0", "88.9%"]
    groups = tables["グループ"]
    g1 = [c.text for c in groups.rows[1].cells]
    assert g1[0] == "グループ1" and g1[1] == "会議室A"
    assert "富山県上市町（19,351人・設置済）：参加者004、参加者005、参加者006" in g1[2]
    assert g1[4] == "1・1"
    goals = tables["団体"]
    assert [c.text for c in goals.rows[1].cells] == [
        "富山県上市町",
        "令和7年度中にセンターを設置する（担当：参加者003）",
        "10月に設置した。問い合わせは 参加者005 へ",
    ]
    assert [c.text for c in goals.rows[2].cells][2] == "（未記入）"
    answers = [t for t in document.tables if t.rows[0].cells[0].text == "回答"]
    assert [[c.text for c in r.cells] for r in answers[0].rows[1:]] == [  # the scale's order (issue 16)
        ["とても満足", "1", "25.0%"],
        ["満足", "2", "50.0%"],
        ["普通", "1", "25.0%"],
    ]
    discussed = next(
        t for t in document.tables if [c.text for c in t.rows[0].cells] == ["グループ", "上半期", "下半期"]
    )
    assert [[c.text for c in r.cells] for r in discussed.rows[1:]] == [
        [
            "グループ1",
            "参加者004さんから設置までの体制づくりの説明があった。\n連絡先 参加者004",
            "（記録なし）",
        ],
        ["グループ2", "（記録なし）", "人材確保について意見交換した。"],
    ]

    text = docx_text(document)
    assert "【提出前に確認してください】" in text and "参加者002さんの説明が参考になりました" in text
    captions = [p.text for p in document.paragraphs if p.style.name == "Caption"]
    assert "図1　開催回ごとの名簿の人数と出席者数" in captions
    images = [s for s in document.inline_shapes]
    assert len(images) == sum(c.startswith("図") for c in captions) >= 4
    alt = images[1]._inline.docPr.get("descr")  # 図2: the first session by center status
    assert alt.startswith("図2　") and "名簿の人数・出席者数（人）：センター設置済 9・8、センター未設置 9・8" in alt

    with zipfile.ZipFile(io.BytesIO(body)) as package:
        styles = package.read("word/styles.xml").decode()
        assert 'w:eastAsia="游ゴシック"' in styles and 'w:eastAsia="ja-JP"' in styles
        assert "PAGE" in "".join(package.read(n).decode() for n in package.namelist() if n.startswith("word/footer"))
        media = [n for n in package.namelist() if n.startswith("word/media/")]
        assert media and all(package.read(n).startswith(b"\x89PNG") for n in media)
        xml = "".join(package.read(n).decode() for n in package.namelist() if n.endswith((".xml", ".rels")))
    for value in _personal(town_meeting):
        assert value not in xml, value


# --- the PDF -------------------------------------------------------------------------------------


def _pdf_text(body):
    reader = pypdf.PdfReader(io.BytesIO(body))
    return reader, "\n".join(page.extract_text() for page in reader.pages)


def test_pdf_read_back(town_meeting, artifacts_dir):
    data = report.report_data([town_meeting], created_on=CREATED)
    body = render_pdf(data)
    (artifacts_dir / "meetings-report-sample.pdf").write_bytes(body)
    assert body.startswith(b"%PDF") and body == render_pdf(data)  # invariant=1
    reader, text = _pdf_text(body)
    flat = re.sub(r"\s+", "", text)  # CJK lines wrap anywhere; compare without whitespace
    for expected in (
        "情報交換会実施報告書",
        "令和8年3月31日",
        "1.実施の概要",
        "2.西日本エリア町村職員の情報交換会",
        "2.4グループ構成",
        "2.5グループの協議の概要",
        "参加者004さんから設置までの体制づくりの説明があった。",
        "2.6目標と進捗",
        "上半期のアンケート（回答4件）",
        "富山県上市町（19,351人・設置済）：参加者004、参加者005、参加者006",
        "令和7年度中にセンターを設置する（担当：参加者003）",
        "合計18162088.9%",
        "問1満足度（回答4件）",
        "満足250.0%",
    ):
        assert expected in flat, (expected, flat)
    for expected in (
        "自由記述の回答3件は、Word版の報告書に収録しています",
        "名簿の人数",
        "出席者数",  # the legend of a vector chart: text drawn in the PDF, not an image
    ):
        assert expected in flat, expected
    assert "参加者002さんの説明" not in flat  # free text stays in the Word file
    for value in _personal(town_meeting):
        assert value.replace(" ", "") not in flat, value
    # issue 16: the Japanese font is embedded (a subset of IPAex Gothic), not left to the viewer
    fonts = [font.get_object() for page in reader.pages for font in page["/Resources"]["/Font"].values()]
    japanese = [f for f in fonts if "IPAexGothic" in str(f["/BaseFont"])]
    assert japanese and len(fonts) == len(japanese)  # no other font (no built-in CID font left)
    for font in japanese:
        descriptor = (
            font["/FontDescriptor"]
            if "/FontDescriptor" in font
            else font["/DescendantFonts"][0].get_object()["/FontDescriptor"]
        )
        assert "/FontFile2" in descriptor.get_object()  # TrueType font program in the file
    pdffonts = subprocess.run(
        ["pdffonts", str(artifacts_dir / "meetings-report-sample.pdf")], capture_output=True, check=True
    )
    listed = [line.split() for line in pdffonts.stdout.decode().splitlines()[2:]]
    assert listed and all("IPAexGothic" in cols[0] and cols[-5] == "yes" for cols in listed), pdffonts.stdout
    assert len(reader.pages) >= 3
    assert "–2–" in flat  # page numbers from page 2 on


def test_combined_report_summarises_areas(town_meeting):
    east = make_meeting(MeetingKind.TOWN, area="east", title="東日本エリア 町村職員の情報交換会")
    add_participants(east, ["013030", "013048"], per_local_government=2, has_center=True)
    Participant.objects.filter(meeting=east).update(attended_first=True)
    data = report.report_data([town_meeting, east], created_on=CREATED)
    assert [(r.category, r.half_label, r.count.invited) for r in data.by_category] == [
        ("東日本", "上半期", 4),
        ("東日本", "下半期", 4),
        ("西日本", "上半期", 18),
        ("西日本", "下半期", 18),
    ]
    document = docx.Document(io.BytesIO(render_docx(data)))
    headings = [p.text for p in document.paragraphs if p.style.name == "Heading 1"]
    assert headings[:3] == [
        "1. 実施の概要",
        "2. 西日本エリア 町村職員の情報交換会",
        "3. 東日本エリア 町村職員の情報交換会",
    ]
    assert any(t.rows[0].cells[0].text == "区分" for t in document.tables)
    assert "アンケートの回答は取り込まれていません。" in docx_text(document)


# --- charts --------------------------------------------------------------------------------------


def test_chart_png_is_deterministic_and_drawn_with_a_japanese_font():
    chart = charts.BarChart(
        ("センター設置済", "センター未設置"), (charts.Series("名簿の人数", (9, 9)), charts.Series("出席者数", (8, 0)))
    )
    png = charts.png(chart)
    assert png.startswith(b"\x89PNG") and png == charts.png(chart)
    path, index = charts.cjk_font()
    assert charts._japanese_face(path) == (path, index)
    texts = [i.text for i in charts.layout(chart).items if isinstance(i, charts.Text)]
    assert {"センター設置済", "名簿の人数", "9", "8", "0", "（人）"} <= set(texts)


def test_missing_cjk_font_is_a_clear_japanese_error(monkeypatch):
    charts.cjk_font.cache_clear()
    charts._font.cache_clear()
    monkeypatch.setenv("KOKASEN_CJK_FONT", "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
    try:
        with pytest.raises(charts.ChartFontMissing, match="日本語の文字がありません"):
            charts.png(charts.BarChart(("設置済",), (charts.Series("人数", (1,)),)))
        monkeypatch.setattr(charts, "FONT_CANDIDATES", ())
        monkeypatch.setattr(charts, "FONT_GLOBS", ())
        monkeypatch.delenv("KOKASEN_CJK_FONT")
        charts.cjk_font.cache_clear()
        with pytest.raises(charts.ChartFontMissing, match="fonts-noto-cjk"):
            charts.cjk_font()
    finally:
        charts.cjk_font.cache_clear()
        charts._font.cache_clear()


# --- the admin screens ---------------------------------------------------------------------------


def test_report_page_downloads_and_survey_upload(client, town_meeting, operator):
    login_staff(client, operator)
    page = client.get(reverse("meetings_admin:report", args=[town_meeting.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert reverse("meetings_admin:report_docx", args=[town_meeting.pk]) in html
    assert "上半期" in html and "4件" in html
    assert "style=" not in html.split('id="survey"')[1].split("</form>")[0]

    word = client.get(reverse("meetings_admin:report_docx", args=[town_meeting.pk]))
    assert word.status_code == 200 and word["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in word["Content-Disposition"] and ".docx" in word["Content-Disposition"]
    assert docx.Document(io.BytesIO(word.content)).paragraphs
    pdf = client.get(reverse("meetings_admin:report_pdf", args=[town_meeting.pk]))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")

    url = reverse("meetings_admin:report_survey", args=[town_meeting.pk])
    bad = io.BytesIO("団体コード,満足度\n999999,満足\n".encode())
    bad.name = "bad.csv"
    refused = client.post(url, {"half": "first", "file": bad})
    html = refused.content.decode()
    assert refused.status_code == 400  # like every refused upload (was 200 here: decision 0027)
    assert "何も取り込んでいません" in html and "<td>2行目</td><td>団体コード</td>" in html and "検査数字" in html
    assert SurveyResponse.objects.filter(meeting=town_meeting, half="first").count() == 4

    good = io.BytesIO(SURVEY.encode("cp932"))
    good.name = "second.csv"
    done = client.post(url, {"half": "second", "file": good})
    content = done.content.decode()
    assert "下半期のアンケートの回答 4件を取り込みました" in content and "「氏名」" in content and "自由記述" in content
    assert SurveyResponse.objects.filter(meeting=town_meeting, half="second").count() == 4

    deleted = client.post(reverse("meetings_admin:report_survey_delete", args=[town_meeting.pk]), {"half": "second"})
    assert deleted.status_code == 302
    assert not SurveyResponse.objects.filter(meeting=town_meeting, half="second").exists()


def test_combined_screen(client, town_meeting, operator):
    login_staff(client, operator)
    url = reverse("meetings_admin:report_combined")
    page = client.get(url)
    assert page.status_code == 200 and town_meeting.title in page.content.decode()
    none = client.get(url, {"format": "pdf"})
    assert "1つ以上選んでください" in none.content.decode()
    pdf = client.get(url, {"format": "pdf", "meeting": [town_meeting.pk]})
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


def test_members_and_anonymous_are_refused(client, town_meeting):
    from kokasen.testing import make_member

    assert client.get(reverse("meetings_admin:report_pdf", args=[town_meeting.pk])).status_code in (302, 403)
    client.force_login(make_member())
    for name in ("report", "report_docx", "report_pdf"):
        assert client.get(reverse(f"meetings_admin:{name}", args=[town_meeting.pk])).status_code in (302, 403)
