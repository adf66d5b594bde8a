"""The Wagtail admin screen 「アクセス解析」 (issue 15 item 5; decision 0051): the figures of a
period (this month by default) beside the previous period of equal length, with SVG charts and
a tile map, every table downloadable as CSV and Excel. 管理者 and 受託者 only
(``access.staff_required``). Every number comes from ``tables``; this module only chooses the
period and presents or writes the tables."""

from __future__ import annotations

from datetime import date, timedelta
from urllib.parse import urlencode

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET

from kokasen.accounts.access import staff_required
from kokasen.accounts.admin_screens import screen_context
from kokasen.core import spreadsheets

from . import dashboard, tables

TITLE = "アクセス解析"
MAX_DAYS = 3 * 366
DASHBOARD_TOP = 20  # rows of a ranked table on the screen; the downloads have all
WIDE_COLUMNS = {"ページ", "パス", "文書名", "お題", "参照元のページ", "用語", "定義", "参照元", "団体名"}


def _parse(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def period_of(request, *, report_errors: bool = True) -> tuple[date, date]:
    """The period asked for by ``?from=YYYY-MM-DD&to=YYYY-MM-DD``; this month (to today) when
    none or a wrong one is given, with a message saying why for a wrong one."""
    today = timezone.localdate()
    default = tables.month_period(today)
    raw_start, raw_end = request.GET.get("from"), request.GET.get("to")
    if not raw_start and not raw_end:
        return default
    start, end = _parse(raw_start), _parse(raw_end)
    problem = ""
    if start is None or end is None:
        problem = "期間の日付は「2026-11-01」の形で、開始日と終了日の両方を指定してください。"
    elif end < start:
        problem = "終了日が開始日より前です。"
    elif (end - start).days + 1 > MAX_DAYS:
        problem = "期間は3年以内で指定してください。"
    if problem:
        if report_errors:
            messages.error(request, f"{problem}今月の数字を表示しています。")
        return default
    return start, end


def _presets(today: date) -> list[tuple[str, date, date]]:
    first = today.replace(day=1)
    last_month_end = first - timedelta(days=1)
    fiscal_start = date(today.year if today.month >= 4 else today.year - 1, 4, 1)
    return [
        ("今月", first, today),
        ("先月", last_month_end.replace(day=1), last_month_end),
        ("直近30日", today - timedelta(days=29), today),
        ("今年度", fiscal_start, today),
    ]


def _charts(by_key: dict[str, tables.Table]) -> dict:
    funnel = by_key["funnel"]
    total = sum(by_key["coverage_kind"].column("自治体数")) or 1
    center = by_key["coverage_center"]
    return {
        "daily": dashboard.columns(
            "daily",
            "日別のアクセス数",
            "公開サイトのアクセス数（人のページビュー）を日ごとに示す縦棒グラフ。数値は右の表にあります。",
            by_key["daily"].rows,
        ),
        "funnel": dashboard.horizontal(
            "funnel",
            "利用の段階（ファネル）",
            f"全 {total:,} 団体のうち、アカウント発行からそれぞれの段階までをすべて満たした団体数の横棒グラフ。",
            [(label, reached, f"{reached:,}（{share}%）") for label, _count, reached, share in funnel.rows],
            maximum=total,
        ),
        "center": dashboard.horizontal(
            "center",
            "こども家庭センターの設置状況別のログイン率",
            "こども家庭センターを設置済み・未設置・不明の団体それぞれのうち、期間内にログインした団体の割合の横棒グラフ。",
            [
                (row[0], row[-1] or 0, f"{row[-1]}%（{row[4]:,}／{row[1]:,}）")
                for row in center.rows
                if row[1]  # a status without any local government is no bar
            ],
            maximum=100,
        ),
        "devices": dashboard.horizontal(
            "devices",
            "端末の種類",
            "公開サイトのアクセス数を端末の種類別に示す横棒グラフ。",
            [(label, n, f"{n:,}（{share}%）") for label, n, share in by_key["devices"].rows],
        ),
    }


@staff_required
def dashboard_view(request):
    start, end = period_of(request)
    everything = tables.period_tables(start, end, limit=DASHBOARD_TOP)
    by_key = {table.key: table for table in everything}
    today = timezone.localdate()
    sections = [(key, label, [t for t in everything if t.section == key]) for key, label in tables.SECTIONS.items()]
    context = screen_context(
        TITLE,
        icon="view",
        start=start,
        end=end,
        previous=tables.previous_period(start, end),
        presets=[(label, a, b, (a, b) == (start, end)) for label, a, b in _presets(today)],
        by_key=by_key,
        sections=sections,
        charts=_charts(by_key),
        tiles=dashboard.tiles(by_key["coverage_prefecture"]),
        bands=list(enumerate(dashboard.BANDS)),
        tile_rows=range(11),
        access_definition=f"アクセス数：{tables.DEFINITIONS[0][1]}",
        period_query=urlencode({"from": start.isoformat(), "to": end.isoformat()}),
    )
    return TemplateResponse(request, "analytics/admin/dashboard.html", context)


def _filename(title: str, start: date, end: date, ext: str) -> str:
    return f"アクセス解析_{title}_{start.isoformat()}_{end.isoformat()}.{ext}"


def _widths(table: tables.Table) -> list[int]:
    return [40 if title in WIDE_COLUMNS else 16 for title in table.columns]


def _preface(table: tables.Table, start: date, end: date) -> list[tuple[str, str]]:
    previous = tables.previous_period(start, end)
    lines = [
        ("表", table.title),
        ("期間", f"{start.isoformat()}〜{end.isoformat()}"),
        ("前期間", f"{previous[0].isoformat()}〜{previous[1].isoformat()}"),
    ]
    if table.note:
        lines.append(("注記", table.note))
    return lines


def workbook(chosen: list[tables.Table], start: date, end: date) -> bytes:
    """An Excel file with one sheet per table, its title, period and note above it."""
    book = spreadsheets.new_workbook()
    book.remove(book.active)
    used: set[str] = set()
    for table in chosen:
        ws = book.create_sheet(spreadsheets.sheet_title(table.title, used))
        top = spreadsheets.write_preface(ws, _preface(table, start, end))
        wide = [i for i, title in enumerate(table.columns) if title in WIDE_COLUMNS]
        spreadsheets.write_table(ws, top, table.columns, table.rows, widths=_widths(table), wrap=wide, thousands=True)
    return spreadsheets.xlsx_bytes(book)


@require_GET
@staff_required
def download(request, key, fmt):
    """One table (``key``) or every table (``all``, Excel only) of the period, all rows."""
    if fmt not in ("csv", "xlsx"):
        raise Http404
    start, end = period_of(request, report_errors=False)
    if key == "all":
        if fmt != "xlsx":
            raise Http404
        body = workbook(tables.period_tables(start, end, limit=None), start, end)
        name = _filename("全表", start, end, fmt)
    else:
        if key not in tables.KEYS:
            raise Http404
        table = tables.period_table(key, start, end, limit=None)
        if fmt == "csv":
            body = spreadsheets.csv_bytes(table.columns, table.rows)
        else:
            body = workbook([table], start, end)
        name = _filename(table.title, start, end, fmt)
    content_type = spreadsheets.CSV_CONTENT_TYPE if fmt == "csv" else spreadsheets.XLSX_CONTENT_TYPE
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, name)
    response["Cache-Control"] = "no-store"
    return response
