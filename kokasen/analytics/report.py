"""The 効果分析報告書 (issue 15 item 6, decision 0052): Word, PDF and an Excel annex of any period.

Every figure comes from ``tables.period_tables(start, end)``, the one source of the dashboard
and its CSV/Excel downloads, so the screen, the downloads and the three files of the report
show the same numbers. The report adds no figure of its own but one: the visits after each
meeting (:func:`meeting_visits`, from the campaign counts, a table of the same shape).

Layout: a cover (title, period, recipient, issuer, date), 1 この報告書の数え方 (what counts as an
アクセス数 and what is left out), then one numbered section per table the agency left switched on
(``ReportSettings.sections_off``), in the order of ``period_tables``. Word and PDF are laid out
by the meetings report's renderers (``report_docx``/``report_pdf.render_blocks``, IPAex Gothic
embedded in the PDF, decision 0037); long tables show their first :data:`MAX_ROWS` rows and
say that the annex holds them all. The annex has a sheet of definitions and one sheet per table
(every row, numbers typed, text formula-safe: ``core.spreadsheets``).

No address, e-mail address or person's name: the tables hold counts per page, file, local
government, prefecture …; the cover's lines are the settings' (the form says to write no
person's name there). A test plants a canary in the data and reads all three files back.
"""

from __future__ import annotations

import datetime as dt
import re
import time
import unicodedata
from dataclasses import dataclass, field, replace

from django.db import transaction
from django.utils import timezone

from kokasen.accounts.notices import agency_admins_notify
from kokasen.core import spreadsheets
from kokasen.core.audit import audit_record
from kokasen.meetings.campaign import key as meeting_key
from kokasen.meetings.models import MeetingSession
from kokasen.meetings.report_outline import Heading, PageBreak, Para
from kokasen.meetings.report_outline import Table as Block
from kokasen.notifications import emails

from . import admin_views, tables
from .mail_kinds import ANALYTICS_REPORT
from .models import Breakdown, GeneratedReport, ReportSettings
from .templatetags.analytics_tags import cell

MAX_ROWS = 50  # rows of a table in Word and PDF (the dashboard's tables.TOP); the annex has all
MEETING_DAYS = 7  # the session's day and the 6 after it
MEETING_VISITS = "meeting_visits"
MEETING_VISITS_TITLE = "交流会の後のアクセス"
DEFINITIONS_KEY = "definitions"  # tables' first table: the dashboard's definitions, the report's chapter 1
DEFINITIONS_TITLE = "この報告書の数え方"
SUBJECT = "こども家庭センターポータルの利用状況"

# What the report adds to the dashboard's definitions (``tables.DEFINITIONS``, the first table):
# everything left out of the counts, said once and plainly for the agency.
EXCLUSIONS: list[tuple[str, str]] = [
    (
        "数えないもの",
        "ボット（検索エンジンの巡回、死活監視サービス、プログラムによる取得、脆弱性スキャンなど）、"
        "画像・CSS・スクリプト・文字などページの部品（/static/、/media/）、稼働確認の要求（/healthz、/readyz）、"
        "管理画面（/admin/）、エラーとなった要求。",
    ),
    (
        "職員の利用",
        "こども家庭庁・受託者の職員のアカウントは団体に属さないため、ログイン・会員ページ・資料・投稿・意見の"
        "数には一切含みません。公開サイトのアクセス数からは、設定で指定した事務所のネットワーク・ブラウザーからの"
        "アクセスを除きます。",
    ),
    (
        "交流会の後のアクセス",
        "情報交換会の案内メールに載せたポータルへのリンクには、会ごとのキー（例：?c=m12）を付けています。"
        f"開催日とその後の{MEETING_DAYS - 1}日間に、そのキーの付いたリンクから開かれたページの数（ボットを除く）です。",
    ),
    (
        "個人を特定する情報",
        "IP アドレスやブラウザーの詳細は集計に残していません。この報告書には、個人名・メールアドレス・"
        "IP アドレスは載りません。",
    ),
]


@dataclass
class Report:
    start: dt.date
    end: dt.date
    created_on: dt.date
    title: str
    recipient: str
    issuer: str
    definitions: list[tuple[str, str]] = field(default_factory=list)  # always the first chapter
    tables: list = field(default_factory=list)  # the switched-on tables, in the dashboard's order

    @property
    def period_label(self) -> str:
        return period_label(self.start, self.end)

    @property
    def sections(self) -> list[str]:
        return [table.key for table in self.tables]


def period_label(start: dt.date, end: dt.date) -> str:
    if start.day == 1 and end == last_day_of_month(start):
        return f"{start.year}年{start.month}月分"
    return f"{_date(start)}〜{_date(end)}"


def _date(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def last_day_of_month(day: dt.date) -> dt.date:
    following = dt.date(day.year + (day.month == 12), day.month % 12 + 1, 1)
    return following - dt.timedelta(days=1)


def previous_month(today: dt.date) -> tuple[dt.date, dt.date]:
    """The first and last day of the month before ``today``'s."""
    end = today.replace(day=1) - dt.timedelta(days=1)
    return end.replace(day=1), end


# --- the content ----------------------------------------------------------------------------------


def meeting_visits(start: dt.date, end: dt.date) -> tables.Table:
    """Per meeting session held in the period: people's page views that came with the meeting's
    campaign key (``?c=m<id>`` on the portal links of its mails) on the session's day and the
    6 days after it (counted also past the period's end)."""
    sessions = [
        s
        for s in MeetingSession.objects.filter(starts_at__isnull=False).select_related("meeting").order_by("starts_at")
        if start <= timezone.localdate(s.starts_at) <= end
    ]
    counts: dict[tuple[str, dt.date], int] = {}
    if sessions:
        first = min(timezone.localdate(s.starts_at) for s in sessions)
        rows = Breakdown.objects.filter(
            dimension=Breakdown.CAMPAIGN,
            value__in={meeting_key(s.meeting_id) for s in sessions},
            day__range=(first, end + dt.timedelta(days=MEETING_DAYS)),
        ).values_list("value", "day", "count")
        for value, day, count in rows:
            counts[(value, day)] = counts.get((value, day), 0) + count
    out = []
    for session in sessions:
        day = timezone.localdate(session.starts_at)
        campaign = meeting_key(session.meeting_id)
        per_day = [counts.get((campaign, day + dt.timedelta(days=n)), 0) for n in range(MEETING_DAYS)]
        out.append((session.meeting.title, session.get_half_display(), day, campaign, per_day[0], sum(per_day)))
    return tables.Table(
        MEETING_VISITS,
        MEETING_VISITS_TITLE,
        ("情報交換会", "開催回", "開催日", "キー", "開催日のアクセス数", f"{MEETING_DAYS}日間のアクセス数"),
        out,
        note=(
            "案内メールに載せたポータルへのリンク（末尾に「?c=キー」）から開かれたページの数です（ボットを除く）。"
            f"開催日とその後の{MEETING_DAYS - 1}日間を数えます。期間内に開催された回を載せます。"
        ),
        section=MEETING_VISITS,
    )


def available_sections() -> list[tuple[str, str]]:
    """(key, title) of every table the report can carry (the definitions are always in), for
    the settings' form; titles as the dashboard's tables of today have them."""
    today = timezone.localdate()
    titles = [(t.key, t.title) for t in tables.period_tables(today, today, limit=1) if t.key != DEFINITIONS_KEY]
    return [*titles, (MEETING_VISITS, MEETING_VISITS_TITLE)]


def collect(start: dt.date, end: dt.date, *, settings: ReportSettings | None = None, today=None) -> Report:
    """The period's report: every table of ``tables.period_tables`` with all its rows (the
    Excel annex has them; Word and PDF cut long ones), but those switched off."""
    settings = settings or ReportSettings.load()
    off = set(settings.sections_off or [])
    report = Report(start, end, today or timezone.localdate(), settings.title, settings.recipient, settings.issuer)
    for table in tables.period_tables(start, end, limit=None):
        if table.key == DEFINITIONS_KEY:
            report.definitions = [*table.rows, *EXCLUSIONS]
        elif table.key not in off:
            report.tables.append(table)
    if MEETING_VISITS not in off:
        report.tables.append(meeting_visits(start, end))
    return report


# --- Word and PDF ---------------------------------------------------------------------------------


# A path, referrer or title typed by somebody may hold an address: the report never carries one.
_EMAIL = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
_IPV4 = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])")
_IPV6 = re.compile(
    r"(?<![0-9A-Fa-f:])(?:(?:[0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}"
    r"|(?:[0-9A-Fa-f]{1,4}:)+:(?:[0-9A-Fa-f]{1,4}(?::[0-9A-Fa-f]{1,4})*)?)(?![0-9A-Fa-f:])"
)
REDACTED = "［削除］"


def redact(text: str) -> str:
    """``text`` without e-mail or IP addresses (each becomes 「［削除］」)."""
    if "@" in text:
        text = _EMAIL.sub(REDACTED, text)
    if "." in text:
        text = _IPV4.sub(REDACTED, text)
    if ":" in text:
        text = _IPV6.sub(REDACTED, text)
    return text


def cell_text(value) -> str:
    """A value as the dashboard's screen writes it (``analytics_tags.cell``: 1,234 · 12.3 · 11月3日
    · —), with no address in a text."""
    text = cell(value)
    return redact(text) if isinstance(value, str) else text


def _display(text: str) -> int:
    """How wide a text is set: a Japanese (wide) character counts two, others one."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


TEXT_UNITS = 100  # the A4 text width (16 cm) in half-width characters of the tables' 9 pt font
PADDING_UNITS = 3  # a cell's left and right padding


def _widths(columns, rows) -> tuple[float, ...]:
    """Column widths in half-width characters: a column of numbers or codes (ASCII only) gets at
    least what its widest cell needs, never wrapped, and room for its header on two lines (up to
    a limit); the other columns want their widest cell (or half their header), clamped, and give
    way when the numbers need the room. Widths are relative: a narrow table is spread to the text
    width as it is."""
    texts = [[cell_text(row[i]) for row in rows] for i in range(len(columns))]
    fixed, wanted = {}, {}
    for i, column in enumerate(texts):
        header = _display(str(columns[i]))
        if column and all(t.isascii() or t == "—" for t in column):
            fixed[i] = max(max(_display(t) for t in column), min(-(-header // 2), 12)) + PADDING_UNITS
        else:
            wanted[i] = min(max(max([header / 2 + 1] + [_display(t) for t in column]), 5.0), 18.0) + PADDING_UNITS
    left = TEXT_UNITS - sum(fixed.values())
    scale = 1.0
    if wanted and left < sum(wanted.values()):
        scale = max(left, 6 * len(wanted)) / sum(wanted.values())
    return tuple(float(fixed[i]) if i in fixed else wanted[i] * scale for i in range(len(columns)))


def _chapters(report: Report) -> list[tuple[str, list]]:
    """The switched-on tables grouped by the dashboard's sections, in its order."""
    chapters: dict[str, list] = {}
    for table in report.tables:
        chapters.setdefault(table.section, []).append(table)
    names = {**tables.SECTIONS, MEETING_VISITS: MEETING_VISITS_TITLE}
    return [(names.get(section, section), items) for section, items in chapters.items()]


def blocks(report: Report) -> list:
    numbered = 0

    def caption(text):
        nonlocal numbered
        numbered += 1
        return f"表{numbered}　{text}"

    out: list = [Para(redact(report.title), "title"), Para(report.period_label, "subtitle")]
    out += [Para(redact(line), "subtitle") for line in (report.recipient, report.issuer) if line]
    out += [Para(_date(report.created_on), "date"), PageBreak()]
    days = (report.end - report.start).days + 1
    out += [
        Heading(1, f"1. {DEFINITIONS_TITLE}"),
        Para(
            f"対象期間は{_date(report.start)}から{_date(report.end)}までの{days:,}日間です（日本時間）。"
            "数字は、管理画面の「アクセス解析」と、そこからダウンロードできる CSV・Excel と同じ集計から作っています。"
            "表の「前期間」は、対象期間の直前の同じ日数の期間です。"
        ),
        Block(caption("用語と数え方"), ("用語", "定義"), tuple(report.definitions), (1.2, 4), align_numbers=False),
    ]
    if not report.tables:
        out.append(Para("報告書の設定で、すべての項目が「載せない」になっています。", "note"))
    for n, (name, items) in enumerate(_chapters(report), start=2):
        out.append(Heading(1, f"{n}. {name}"))
        for m, table in enumerate(items, start=1):
            out.append(Heading(2, f"{n}.{m} {table.title}"))
            if table.note:
                out.append(Para(table.note, "note"))
            rows = list(table.rows)
            if not rows:
                out.append(Para("この期間の記録はありません。", "note"))
                continue
            shown = rows[:MAX_ROWS]
            out.append(
                Block(
                    caption(table.title),
                    tuple(str(c) for c in table.columns),
                    tuple(tuple(cell_text(v) for v in row) for row in shown),
                    _widths(table.columns, shown),
                )
            )
            if len(rows) > MAX_ROWS:
                out.append(
                    Para(
                        f"上位{MAX_ROWS}行を載せています。全{len(rows):,}行は別添の Excel ファイルのシート"
                        f"「{table.title}」にあります。",
                        "note",
                    )
                )
    return out


def render_word(report: Report) -> bytes:
    from kokasen.meetings import report_docx  # python-docx on first use (decision 0063)

    return report_docx.render_blocks(
        blocks(report), title=f"{report.title}（{report.period_label}）", subject=SUBJECT, created_on=report.created_on
    )


def render_pdf(report: Report) -> bytes:
    from kokasen.meetings import report_pdf  # ReportLab on first use (decision 0063)

    return report_pdf.render_blocks(blocks(report), title=f"{report.title}（{report.period_label}）", subject=SUBJECT)


def _redacted(table):
    """The table with no address in its texts (for the annex; numbers untouched)."""
    rows = [tuple(redact(v) if isinstance(v, str) else v for v in row) for row in table.rows]
    return replace(table, rows=rows)


def render_xlsx(report: Report) -> bytes:
    """The annex: the definitions, then every table with all its rows, each on its sheet with its
    title, period and note above it, as the dashboard's 「すべての表（Excel）」 writes them."""
    definitions = tables.Table(DEFINITIONS_KEY, DEFINITIONS_TITLE, ("用語", "定義"), report.definitions)
    return admin_views.workbook([definitions, *map(_redacted, report.tables)], report.start, report.end)


# --- generating and storing -----------------------------------------------------------------------

FORMATS = {
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "Word"),
    "pdf": ("application/pdf", "PDF"),
    "xlsx": (spreadsheets.XLSX_CONTENT_TYPE, "Excel（別添）"),
}


def generate(
    start: dt.date, end: dt.date, *, origin: str = GeneratedReport.SCREEN, acting_user=None, request=None
) -> GeneratedReport:
    """Make the three files of the period and store them (a new row each time; the timer's
    monthly report: :func:`monthly_report`). Audited. Raises charts.ChartFontMissing when the
    PDF font is missing."""
    if end < start:
        raise ValueError("the period ends before it starts")
    began = time.perf_counter()
    report = collect(start, end)
    files = {"docx": render_word(report), "pdf": render_pdf(report), "xlsx": render_xlsx(report)}
    stored = GeneratedReport.objects.create(
        start=start,
        end=end,
        origin=origin,
        monthly=origin == GeneratedReport.TIMER,
        title=report.title,
        sections=report.sections,
        seconds=round(time.perf_counter() - began, 3),
        **files,
    )
    audit_record(
        action="analytics.report_generated",
        acting_user=acting_user,
        target=stored,
        detail={"start": start.isoformat(), "end": end.isoformat(), "origin": origin, "sections": report.sections},
        request=request,
    )
    return stored


def filename(stored: GeneratedReport, fmt: str) -> str:
    suffix = "_別添" if fmt == "xlsx" else ""
    return f"{stored.title}_{stored.start:%Y%m%d}-{stored.end:%Y%m%d}{suffix}.{fmt}"


def report_path(stored: GeneratedReport) -> str:
    return f"/admin/analytics/reports/{stored.pk}/"


def monthly_report(today: dt.date | None = None) -> tuple[GeneratedReport, bool]:
    """The timer's job: last month's report (made once: a second run finds it) and one notice
    to the agency's 管理者 (the outbox's dedupe key is the month). Returns (report, made now)."""
    start, end = previous_month(today or timezone.localdate())
    with transaction.atomic():
        stored = GeneratedReport.objects.select_for_update().filter(start=start, end=end, monthly=True).first()
        made = stored is None
        if made:
            stored = generate(start, end, origin=GeneratedReport.TIMER)
        notify(stored)
    return stored, made


def notify(stored: GeneratedReport) -> int:
    """Queue the notice of a monthly report to every active 管理者 (Bcc), once per month.
    Returns the number of recipients (0: nobody with an address)."""
    page = emails.absolute(report_path(stored))
    return agency_admins_notify(
        kind=ANALYTICS_REPORT,
        context={
            "title": stored.title,
            "label": period_label(stored.start, stored.end),
            "page_url": page,
            "docx_url": page + "report.docx",
            "pdf_url": page + "report.pdf",
            "xlsx_url": page + "report.xlsx",
        },
        dedupe_key=f"analytics:report:{stored.start:%Y-%m}",
    )
