"""The 効果分析報告書 (decision 0052): exact numbers on the dashboard's fixture in Word, PDF and the
Excel annex; the same numbers as the dashboard's tables; the switched-off sections left out; no
address or person's name in any file (canaries); the visits after a meeting by its campaign key;
the monthly timer twice gives one report and one notice; the screens."""

from __future__ import annotations

import csv
import html
import io
import re
import shutil
import subprocess
import zipfile
from datetime import date, datetime
from html.parser import HTMLParser

import docx
import openpyxl
import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.utils import timezone

from kokasen.analytics import classify, report, tables
from kokasen.analytics.models import Breakdown, GeneratedReport, NotFoundDay, ReportSettings
from kokasen.analytics.tests.test_tables import END, START, scene  # noqa: F401 (the dashboard's fixture)
from kokasen.core.audit import audit_record
from kokasen.core.models import AuditEvent
from kokasen.meetings import campaign
from kokasen.meetings.models import Half, Meeting, MeetingKind, MeetingSession, Participant
from kokasen.notifications.models import OutboxMessage
from kokasen.testing.documents import docx_text

pytestmark = pytest.mark.django_db

CANARY_NAME = "鳥籠 カナリア"
CANARY_EMAIL = "canary.kanaria@town-canary.example.lg.jp"
CANARY_IP = "198.51.100.77"
CANARY_IPV6 = "2001:db8:77::1"


@pytest.fixture
def month(scene):  # noqa: F811
    """The dashboard's November fixture, a meeting held on 10 November with visits by its key,
    and canaries where personal data lives (roster, accounts, audit trail) or could slip in (a
    404 path, a referrer that is an address)."""
    meeting = Meeting.objects.create(kind=MeetingKind.TOWN, title="西日本エリア 町村職員の情報交換会")
    tokyo = timezone.get_current_timezone()
    MeetingSession.objects.update_or_create(
        meeting=meeting, half=Half.FIRST, defaults={"starts_at": datetime(2026, 11, 10, 14, tzinfo=tokyo)}
    )
    MeetingSession.objects.update_or_create(
        meeting=meeting, half=Half.SECOND, defaults={"starts_at": datetime(2027, 2, 10, 14, tzinfo=tokyo)}
    )
    key = campaign.key(meeting.pk)
    for day, count in ((10, 4), (12, 3), (16, 2), (17, 5)):  # the 17th is the 8th day: not counted
        Breakdown.objects.create(day=date(2026, 11, day), dimension=Breakdown.CAMPAIGN, value=key, count=count)
    Participant.objects.create(
        meeting=meeting,
        number=1,
        name=CANARY_NAME,
        email=CANARY_EMAIL,
        local_government_id=scene["a"],
    )
    get_user_model().objects.create_user(
        "canary-staff", email="staff." + CANARY_EMAIL, first_name="カナリア", last_name="鳥籠"
    )
    audit_record(action="login.failed", target_label=CANARY_EMAIL, detail={"address": CANARY_IP})
    NotFoundDay.objects.create(
        day=date(2026, 11, 5), key="canary", path=f"/contact/{CANARY_EMAIL}", referrer=f"http://{CANARY_IP}/", count=1
    )
    Breakdown.objects.create(day=date(2026, 11, 5), dimension=Breakdown.REFERRER, value=CANARY_IP, count=1)
    Breakdown.objects.create(day=date(2026, 11, 5), dimension=Breakdown.REFERRER, value=f"[{CANARY_IPV6}]", count=1)
    return {**scene, "meeting": meeting, "key": key}


def pdf_text(data: bytes, tmp_path) -> str:
    assert shutil.which("pdftotext"), "pdftotext is missing: install Debian's poppler-utils"
    path = tmp_path / "report.pdf"
    path.write_bytes(data)
    result = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout


def zip_text(data: bytes) -> str:
    """Every XML part of an Office file (Word or Excel), as text (openpyxl writes &#NNNN; for
    every non-ASCII character: unescaped)."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        parts = [archive.read(n).decode("utf-8", "replace") for n in archive.namelist() if n.endswith(".xml")]
    return html.unescape("\n".join(parts))


def word_rows(data: bytes) -> dict[str, list[list[str]]]:
    """Each table of the Word file by its caption (「表N　title」 → title): rows of cell texts."""
    document = docx.Document(io.BytesIO(data))
    captions = [p.text.split("　", 1)[1] for p in document.paragraphs if p.style.name == "Caption"]
    return {
        caption: [[cell.text for cell in row.cells] for row in table.rows]
        for caption, table in zip(captions, document.tables)
    }


PREFACE = ("表", "期間", "前期間", "注記")  # the lines above a sheet's table (admin_views.workbook)


def sheet_rows(data: bytes) -> dict[str, list[list]]:
    """Each sheet of the annex: the rows under the table's header (the header included)."""
    workbook = openpyxl.load_workbook(io.BytesIO(data))
    out = {}
    for sheet in workbook.worksheets:
        values = [list(row) for row in sheet.iter_rows(values_only=True)]
        title = values[0][1]
        header = next(i for i, row in enumerate(values) if row[0] and row[0] not in PREFACE)
        out[title] = [row for row in values[header:] if any(v is not None for v in row)]
    return out


def test_the_report_in_word_pdf_and_excel_with_exact_numbers(month, artifacts_dir, tmp_path):
    stored = report.generate(START, END, origin=GeneratedReport.COMMAND)
    for fmt in report.FORMATS:
        (artifacts_dir / f"analytics-report.{fmt}").write_bytes(bytes(getattr(stored, fmt)))
    document = docx.Document(io.BytesIO(bytes(stored.docx)))
    headings = [p.text for p in document.paragraphs if p.style.name == "Heading 1"]
    assert headings == [
        "1. この報告書の数え方",
        "2. 公開サイトのアクセス",
        "3. 自治体の利用状況",
        "4. 小ネタ・意見箱",
        "5. 交流会の後のアクセス",
    ]
    text = docx_text(document)
    assert "2026年11月分" in text and "こども家庭庁 支援局 虐待防止対策課 御中" in text
    for term in ("アクセス数", "ボット", "/healthz", "/static/", "管理画面", "職員"):
        assert term in text, term  # the definitions say what counts and what is left out
    words = word_rows(bytes(stored.docx))
    totals = {row[0]: row[1:] for row in words["期間の合計と前期間との比較"][1:]}
    assert totals["アクセス数（人のページビュー）"] == ["80", "20", "60", "300.0"]
    assert totals["ボットの割合（%）"] == ["20.0", "10.0", "10.0", "—"]
    assert totals["ログインした自治体数"] == ["2", "1", "1", "100.0"]
    visits = words["交流会の後のアクセス"]
    assert visits[1] == ["西日本エリア 町村職員の情報交換会", "上半期", "11月10日", month["key"], "4", "9"]
    assert len(visits) == 2  # the second half (February) is not in November
    coverage = words["利用状況（都道府県別）"]
    assert sum(int(row[2].replace(",", "")) for row in coverage[1:]) == 1788

    flat = re.sub(r"\s+", "", pdf_text(bytes(stored.pdf), tmp_path))
    for expected in (
        "効果分析報告書",
        "1.この報告書の数え方",
        "5.交流会の後のアクセス",
        "アクセス数（人のページビュー）8020603",  # 80 20 60 300.0, cells side by side
        f"11月10日{month['key']}49",
    ):
        assert expected in flat, expected

    sheets = sheet_rows(bytes(stored.xlsx))
    assert list(sheets)[0] == "この報告書の数え方"  # the definitions sheet first
    annex = {row[0]: row[1:] for row in sheets["期間の合計と前期間との比較"][1:]}
    assert annex["アクセス数（人のページビュー）"] == [80, 20, 60, 300.0]
    assert sheets["交流会の後のアクセス"][1][4:] == [4, 9]
    # Every number of every table in Word, PDF and Excel is the one tables.period_tables gives.
    checked = 0
    for table in tables.period_tables(START, END, limit=None):
        if table.key == "definitions":
            continue
        word = words[table.title]
        sheet = sheets[table.title]
        assert word[0] == list(table.columns) and list(sheet[0][: len(table.columns)]) == list(table.columns)
        for i, row in enumerate(table.rows[: report.MAX_ROWS], start=1):
            assert word[i] == [report.cell_text(v) for v in row], (table.key, i)
            expected = [None if v == "" else report.redact(v) if isinstance(v, str) else v for v in row]
            assert [v.date() if isinstance(v, datetime) else v for v in sheet[i][: len(row)]] == expected, (
                table.key,
                i,
            )
            for value in row:
                if isinstance(value, (int, float)):
                    assert report.cell_text(value).replace(" ", "") in flat, (table.key, row)
            checked += 1
    assert checked > 100  # the 47 prefectures alone

    # No address or person's name in any of the three files (canaries in the fixture).
    assert Participant.objects.filter(name=CANARY_NAME).exists() and AuditEvent.objects.exists()
    assert any(CANARY_IP in row[0] for row in tables.period_table("referrers", START, END).rows)  # it is in the data
    texts = {
        "docx": zip_text(bytes(stored.docx)),
        "xlsx": zip_text(bytes(stored.xlsx)),
        "pdf": pdf_text(bytes(stored.pdf), tmp_path),
    }
    for fmt, text in texts.items():
        for canary in (CANARY_NAME, "カナリア", CANARY_EMAIL, "canary.kanaria", CANARY_IP, CANARY_IPV6):
            assert canary not in text, (fmt, canary)
        assert report.REDACTED in text or fmt == "pdf", fmt  # the 404 path and the referrers, redacted
    assert "［削除］" in re.sub(r"\s+", "", texts["pdf"])


class _ScreenTables(HTMLParser):
    """The dashboard's tables as rows of cell texts, by table key (``<section aria-labelledby="t-key">``)."""

    def __init__(self):
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.key = self.cell = None
        self.row: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "section" and (attrs.get("aria-labelledby") or "").startswith("t-"):
            self.key = attrs["aria-labelledby"][2:]
            self.tables[self.key] = []
        elif self.key and tag == "tr":
            self.row = []
        elif self.row is not None and tag in ("td", "th"):
            self.cell = ""

    def handle_endtag(self, tag):
        if tag == "section":
            self.key = None
        elif tag in ("td", "th") and self.cell is not None:
            self.row.append(self.cell.strip())
            self.cell = None
        elif tag == "tr" and self.row is not None:
            self.tables[self.key].append(self.row)
            self.row = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell += data


def numbers(cells) -> list[float | None]:
    """The numeric cells of a row as numbers, whatever the format wrote (1,234 · 12.3 · 80)."""
    out = []
    for text in cells:
        text = str(text).strip().lstrip("'")
        if text in ("", "—", "None"):
            out.append(None)
        elif re.fullmatch(r"-?[\d,]+(\.\d+)?", text):
            out.append(float(text.replace(",", "")))
    return out


COMPARED = ("totals", "daily", "pages", "downloads", "funnel", "coverage_prefecture", "coverage_center", "campaigns")


def test_the_same_months_numbers_on_the_dashboard_in_csv_word_pdf_and_excel(month, staff_client, tmp_path):
    """One month: the dashboard's HTML, its CSV downloads, and the report's Word, PDF and Excel
    files carry the same numbers, row by row."""
    period = {"from": START.isoformat(), "to": END.isoformat()}
    screen = _ScreenTables()
    screen.feed(staff_client.get("/admin/analytics/", period).content.decode())
    stored = report.generate(START, END)
    words = word_rows(bytes(stored.docx))
    sheets = sheet_rows(bytes(stored.xlsx))
    lines = [re.sub(r"\s+", " ", line).strip() for line in pdf_text(bytes(stored.pdf), tmp_path).splitlines()]
    compared = 0
    for key in COMPARED:
        table = tables.period_table(key, START, END, limit=None)
        csv_rows = list(
            csv.reader(
                io.StringIO(
                    staff_client.get(f"/admin/analytics/download/{key}.csv", period).content.decode("utf-8-sig")
                )
            )
        )
        on_screen = screen.tables[key]
        caption = next(n for n, line in enumerate(lines) if re.fullmatch(rf"表\d+ {re.escape(table.title)}", line))
        assert on_screen[0] == csv_rows[0] == words[table.title][0] == list(table.columns), key
        for i, row in enumerate(table.rows[: report.MAX_ROWS], start=1):
            expected = numbers(str(v) for v in row if not isinstance(v, date))
            assert numbers(on_screen[i]) == numbers(csv_rows[i]) == numbers(words[table.title][i]), (key, i)
            assert numbers(sheets[table.title][i]) == numbers(csv_rows[i]), (key, i)
            assert [n for n in numbers(csv_rows[i]) if n is not None] == [n for n in expected if n is not None]
            # The PDF: the row's line (its first cell, then the numbers in the same order).
            label = report.cell_text(row[0])
            line = next((line for line in lines[caption:] if line.startswith(label + " ")), None)
            if line is not None and not isinstance(row[0], int):
                assert numbers(line.split())[: len(expected)] == expected, (key, line)
                compared += 1
    assert compared > 60  # the PDF lines found: totals, days, prefectures …


def test_switched_off_sections_are_left_out(month, tmp_path):
    settings = ReportSettings.load()
    settings.sections_off = ["pages", "never_logged_in", report.MEETING_VISITS]
    settings.title = "令和8年度 効果分析報告書"
    settings.save()
    stored = report.generate(START, END)
    words = word_rows(bytes(stored.docx))
    assert "よく見られたページ" not in words and "一度もログインしていない自治体" not in words
    assert "交流会の後のアクセス" not in words and "期間の合計と前期間との比較" in words
    assert "よく見られたページ" not in sheet_rows(bytes(stored.xlsx))
    assert stored.sections == [k for k in tables.KEYS if k not in ("definitions", "pages", "never_logged_in")]
    assert report.filename(stored, "pdf") == "令和8年度 効果分析報告書_20261101-20261130.pdf"
    assert "令和8年度効果分析報告書" in re.sub(r"\s+", "", pdf_text(bytes(stored.pdf), tmp_path))


def test_campaign_keys_on_meeting_links_are_the_classifiers():
    assert campaign.PARAMETER == classify.CAMPAIGN_KEYS[0]
    url = campaign.tagged("https://portal.example.go.jp/?x=1", 12)
    assert url == "https://portal.example.go.jp/?x=1&c=m12"
    assert classify.campaign(url.split("?", 1)[1]) == "m12" == campaign.key(12)


def test_the_invitation_links_to_the_portal_with_the_meetings_key(operator):
    from kokasen.meetings.services import invitations
    from kokasen.meetings.tests.test_invitations import ready_meeting

    meeting = ready_meeting(operator)
    person = Participant.objects.filter(meeting=meeting).select_related("group__room", "local_government").first()
    session = MeetingSession.objects.get(meeting=meeting, half=Half.FIRST)
    body = invitations.participant_text(meeting, session, person).body
    line = next(line for line in body.splitlines() if line.startswith("■ こども家庭センターポータル"))
    assert line.endswith(f"/?c=m{meeting.pk}")


def only_totals():
    """Most tables switched off: the tests of the timer and the screens need one report, not its size."""
    ReportSettings.objects.update_or_create(
        pk=1, defaults={"sections_off": [k for k in tables.KEYS if k not in ("definitions", "totals")]}
    )


def test_the_monthly_timer_twice_makes_one_report_and_one_notice(month, agency_admin, operator):
    only_totals()
    call_command("analytics_report", monthly=True, month="2026-11", verbosity=0)
    call_command("analytics_report", monthly=True, month="2026-11", verbosity=0)  # the timer ran twice
    stored = GeneratedReport.objects.get()
    assert (stored.start, stored.end, stored.monthly, stored.origin) == (START, END, True, GeneratedReport.TIMER)
    message = OutboxMessage.objects.get(kind="analytics_report")
    assert message.bcc == ["admin@cfa.example.go.jp"]  # the agency's 管理者, not the 受託者
    assert "2026年11月分の効果分析報告書" in message.subject
    page = re.search(r"^(https?://\S+/admin/analytics/reports/\d+/)$", message.body, re.M)
    assert page and page[1].endswith(f"/admin/analytics/reports/{stored.pk}/")
    for fmt in ("docx", "pdf", "xlsx"):
        assert f"{page[1]}report.{fmt}" in message.body
    assert AuditEvent.objects.filter(action="analytics.report_generated").count() == 1
    # By hand for a period: a new report each time, no notice.
    call_command("analytics_report", start="2026-11-01", end="2026-11-30", verbosity=0)
    assert GeneratedReport.objects.count() == 2 and OutboxMessage.objects.filter(kind="analytics_report").count() == 1
    with pytest.raises(Exception, match="YYYY-MM"):
        call_command("analytics_report", monthly=True, month="2026-13", verbosity=0)


def test_the_screens(month, staff_client):
    only_totals()
    page = staff_client.get("/admin/analytics/reports/").content.decode()
    assert "まだ作成した報告書はありません" in page and 'value="2026-' in page
    response = staff_client.post("/admin/analytics/reports/generate/", {"start": "2026-11-30", "end": "2026-11-01"})
    assert response.status_code == 400 and "期間の末日は初日と同じか" in response.content.decode()
    response = staff_client.post("/admin/analytics/reports/generate/", {"start": "2026-11-01", "end": "2026-11-30"})
    stored = GeneratedReport.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/admin/analytics/reports/{stored.pk}/"
    assert stored.origin == GeneratedReport.SCREEN
    event = AuditEvent.objects.get(action="analytics.report_generated")
    assert event.actor_id is not None and event.detail["start"] == "2026-11-01"
    detail = staff_client.get(response["Location"]).content.decode()
    assert "2026年11月分" in detail and "交流会の後のアクセス" in detail
    for fmt, kind in (("docx", "wordprocessingml"), ("pdf", "pdf"), ("xlsx", "spreadsheetml")):
        download = staff_client.get(f"/admin/analytics/reports/{stored.pk}/report.{fmt}")
        assert download.status_code == 200 and kind in download["Content-Type"]
        assert "attachment" in download["Content-Disposition"] and download.content == bytes(getattr(stored, fmt))
    listing = staff_client.get("/admin/analytics/reports/").content.decode()
    assert "2026年11月分" in listing and "画面から作成" in listing

    form = staff_client.get("/admin/analytics/reports/settings/").content.decode()
    assert "よく見られたページ" in form and "交流会の後のアクセス" in form
    keep = [k for k in tables.KEYS if k not in ("definitions", "pages")] + [report.MEETING_VISITS]
    response = staff_client.post(
        "/admin/analytics/reports/settings/",
        {"title": "効果分析報告書", "recipient": "こども家庭庁 御中", "issuer": "運営事務局", "sections": keep},
    )
    assert response.status_code == 302
    assert ReportSettings.load().sections_off == ["pages"]
    change = AuditEvent.objects.get(action="analytics.report_settings_changed")
    assert change.detail["changes"]["sections_off"]["new"] == ["pages"]
