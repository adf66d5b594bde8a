"""Every figure of a period, as plain tables (issue 15 items 5 and 6; decision 0051).

The one source of the numbers that the dashboard 「アクセス解析」, its CSV and Excel downloads and
the report 効果分析報告書 show: each is a :class:`Table` (a key, a Japanese title, Japanese column
headers, rows of plain values: ``int``, ``float``, ``str``, ``date`` or ``None``, and an optional
note). No HTML and no formatting here: the screen, the spreadsheets and the Word/PDF files present
the same rows their own way, so a number cannot differ between them.

- :func:`period_tables` ``(start, end)``: every table of local days ``start``..``end`` (both
  included), in the order the dashboard shows them; :func:`period_table` ``(key, start, end)``:
  one of them, computing only what it needs; :data:`KEYS`: the keys in that order.
- ``limit``: the ranked tables (pages, downloads, reach, 404s, referrers, campaigns, never logged
  in) keep their first ``limit`` rows (None: all, as the downloads and the Excel annex want);
  ``Table.total_rows`` says how many there were.
- The comparison period is the one of equal length just before (:func:`previous_period`).

Queries: a constant number per table, whatever the data (aggregated in SQL; the response-time
histograms are read only for the ranked pages kept). Tested in ``tests/test_tables.py``.

Pages, downloads, logins and the members' activity are read from the monthly roll-up
(``rollup.py``, decision 0064) for the whole rolled-up months of a period and from the day rows
for the rest (the partial months at both ends), and added: the same numbers as the day rows
alone (tested in ``tests/test_rollup.py``), a year in about a thirtieth of the rows.

Before reading, the members' page views still counted in Redis are added to the day rows
(``pageviews.flush_before_reading``, decision 0067), so the figures are current; without Redis
that asks nothing.
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import cached_property

from django.db.models import Count, Max, Q, Sum
from django.utils import timezone
from wagtail.documents import get_document_model
from wagtail.models import Page

from kokasen.feedback.models import Opinion
from kokasen.tips.selectors import topics_in_period

from . import pageviews, rollup
from . import participation_selectors as participation
from .aggregate import percentile
from .classify import DESKTOP, MOBILE, TABLET, UNKNOWN
from .models import (
    ActivityDay,
    ActivityMonth,
    Breakdown,
    DayTotal,
    DocumentOpen,
    DownloadDay,
    DownloadMonth,
    LoginDay,
    LoginMonth,
    NotFoundDay,
    PageDay,
    PageMonth,
)

TOP = 50  # rows of a ranked table on the dashboard

ACCESS, PARTICIPATION, CONTRIBUTIONS, ABOUT = "access", "participation", "contributions", "about"
SECTIONS = {
    ABOUT: "数え方",
    ACCESS: "公開サイトのアクセス",
    PARTICIPATION: "自治体の利用状況",
    CONTRIBUTIONS: "小ネタ・意見箱",
}

DEFINITIONS = [
    (
        "アクセス数",
        "公開サイトの HTML ページが人に表示された回数（ページビュー）。Web サーバーのアクセスログから数え、"
        "検索エンジンの巡回・監視サービス・スキャン等のボットと判定したもの、画像・CSS 等の部品、"
        "エラー（見つからないページ等）、会員ページと管理画面は含めません。"
        "同じページの /x/ と /x/index.html は一つのページとして数えます。",
    ),
    (
        "ダウンロード数",
        "PDF・Office 文書・動画などのファイルを人が取得した数。同じ端末が同じ日に同じファイルを"
        "何度取得しても（動画の分割取得を含む）1 回と数えます。",
    ),
    (
        "ボットの割合",
        "アクセスログの全リクエストのうち、ボット（利用者の端末の表示名の一覧、robots.txt の取得、"
        "短時間の大量アクセス、脆弱性スキャン等）と判定したリクエストの割合。",
    ),
    (
        "ログイン数・ログインした自治体数",
        "自治体の共有アカウントでの会員ページへのログイン（成功）の回数と、その団体数。"
        "こども家庭庁・受託者の職員のアカウントは含みません。",
    ),
    (
        "会員ページの閲覧数",
        "ログインした自治体アカウントが会員ページ（小ネタ・意見箱を含む）を表示した回数。",
    ),
    (
        "資料を開いた数・到達した自治体数",
        "自治体アカウントが資料（PDF・動画など）を開いた数。1 団体が 1 日に同じ資料を何度開いても 1 と"
        "数えます。到達した自治体数は、期間中にその資料を開いた団体の数です。",
    ),
    (
        "期間",
        "日付は日本時間。比較する「前期間」は、選んだ期間の直前の同じ日数の期間です。",
    ),
]

DEVICE_LABELS = {DESKTOP: "パソコン", MOBILE: "スマートフォン", TABLET: "タブレット", UNKNOWN: "その他・不明"}
BOT_REASON_LABELS = {
    "agent": "ボットの名前（利用者の端末の表示名）",
    "monitor": "監視サービス",
    "ignored": "除外の設定",
    "robots": "robots.txt の取得",
    "scanner": "脆弱性スキャン",
    "rate": "短時間の大量アクセス",
    "earlier": "同じ日にボットと判定済み",
}
DELETED_DOCUMENT = "（削除された文書）"
NO_CATEGORY = "（分類なし）"
_DOCUMENT_PATH = re.compile(r"^/documents/(\d+)/")


@dataclass(frozen=True)
class Table:
    """One table of figures: plain values only (see the module's docstring)."""

    key: str
    title: str
    columns: tuple[str, ...]
    rows: list[tuple] = field(default_factory=list)
    note: str = ""
    section: str = ACCESS
    total_rows: int | None = None  # rows before ``limit`` (None: all are here)

    @property
    def truncated(self) -> bool:
        return self.total_rows is not None and self.total_rows > len(self.rows)

    def column(self, title: str) -> list:
        """The values of one column."""
        index = self.columns.index(title)
        return [row[index] for row in self.rows]


def previous_period(start: date, end: date) -> tuple[date, date]:
    """The period of the same number of days just before ``start``..``end``."""
    length = (end - start).days + 1
    return start - timedelta(days=length), start - timedelta(days=1)


def month_period(today: date) -> tuple[date, date]:
    """The first day of ``today``'s month .. ``today`` (the dashboard's default)."""
    return today.replace(day=1), today


def _bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """Aware datetimes [start 00:00, end+1 00:00) in the site's time zone."""
    zone = timezone.get_current_timezone()
    return (
        datetime.combine(start, time.min, tzinfo=zone),
        datetime.combine(end + timedelta(days=1), time.min, tzinfo=zone),
    )


def _share(part, whole) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def _change(now, before) -> float | None:
    return round(100 * (now - before) / before, 1) if before else None


class _Period:
    """What several tables of one period share, read once."""

    def __init__(self, start: date, end: date, limit: int | None):
        if end < start:
            raise ValueError("end before start")
        self.start, self.end, self.limit = start, end, limit
        self.previous = previous_period(start, end)

    def cut(self, rows: list) -> tuple[list, int | None]:
        if self.limit is None or len(rows) <= self.limit:
            return rows, None
        return rows[: self.limit], len(rows)

    @cached_property
    def rolled_up(self) -> frozenset[date]:
        """The rolled-up months of the period and the previous one (one query)."""
        return rollup.built(self.previous[0], self.end)

    @cached_property
    def now(self) -> rollup.Split:
        return rollup.split(self.start, self.end, self.rolled_up)

    @cached_property
    def before(self) -> rollup.Split:
        return rollup.split(*self.previous, self.rolled_up)

    @cached_property
    def stage_sets(self) -> dict[str, set[int]]:
        return participation.stage_sets(self.start, self.end, split=self.now)

    @cached_property
    def attributes(self) -> list[dict]:
        return participation.lg_attributes()

    @cached_property
    def coverage(self) -> dict[str, list[dict]]:
        return participation.coverage(self.start, self.end, sets=self.stage_sets, attributes=self.attributes)

    @cached_property
    def local_governments(self) -> int:
        return len(self.attributes)


# --- the tables ------------------------------------------------------------------------------


def _definitions(p: _Period) -> Table:
    return Table(
        "definitions",
        "この画面の数え方",
        ("用語", "定義"),
        list(DEFINITIONS),
        note=f"期間 {p.start.isoformat()}〜{p.end.isoformat()}、前期間 "
        f"{p.previous[0].isoformat()}〜{p.previous[1].isoformat()}（日本時間）。",
        section=ABOUT,
    )


def _both(p: _Period, model, **aggregates) -> dict:
    """One query: each aggregate (name: (function, field, extra Q)) over the period (``name``) and
    the previous period (``name_before``)."""
    now, before = Q(day__range=(p.start, p.end)), Q(day__range=p.previous)
    spec = {}
    for name, (function, column, extra) in aggregates.items():
        options = {"distinct": True} if function is Count else {}
        spec[f"now__{name}"] = function(column, filter=now & extra, **options)
        spec[f"before__{name}"] = function(column, filter=before & extra, **options)
    values = model.objects.filter(day__range=(p.previous[0], p.end)).aggregate(**spec)
    out = {}
    for alias, value in values.items():
        when, name = alias.split("__")
        out[name if when == "now" else f"{name}_before"] = value or 0
    return out


def _rolled_sums(p: _Period, day_model, month_model, **sums) -> dict:
    """Each sum (name: (field, extra Q)) over the period (``name``) and the previous period
    (``name_before``): one query on the month rows of their rolled-up months, one on the day rows
    of the other days, added."""
    out = dict.fromkeys([*sums, *(f"{name}_before" for name in sums)], 0)
    for model, q in ((month_model, rollup.Split.month_q), (day_model, rollup.Split.day_q)):
        now, before = q(p.now), q(p.before)
        spec = {}
        for name, (column, extra) in sums.items():
            spec[name] = Sum(column, filter=now & extra)
            spec[f"{name}_before"] = Sum(column, filter=before & extra)
        for name, value in model.objects.filter(now | before).aggregate(**spec).items():
            out[name] += value or 0
    return out


def _logins(p: _Period) -> dict:
    """Logins and local governments that logged in, in the period and the previous one: per
    local government from the month rows and from the day rows (a local government counted once
    however many rows it has)."""
    logins = {"now": 0, "before": 0}
    active: dict[str, set[int]] = {"now": set(), "before": set()}
    for model, q in ((LoginMonth, rollup.Split.month_q), (LoginDay, rollup.Split.day_q)):
        now, before = q(p.now), q(p.before)
        grouped = (
            model.objects.filter(now | before)
            .values("local_government_id")
            .annotate(
                now=Sum("logins", filter=now),
                now_rows=Count("id", filter=now),
                before=Sum("logins", filter=before),
                before_rows=Count("id", filter=before),
            )
            .order_by()
        )
        for row in grouped:
            for when in ("now", "before"):
                logins[when] += row[when] or 0
                if row[f"{when}_rows"]:
                    active[when].add(row["local_government_id"])
    return {
        "logins": logins["now"],
        "logins_before": logins["before"],
        "active": len(active["now"]),
        "active_before": len(active["before"]),
    }


def _totals(p: _Period) -> Table:
    every = Q()
    n = _both(
        p,
        DayTotal,
        views=(Sum, "page_views", every),
        downloads=(Sum, "downloads", every),
        requests=(Sum, "requests", every),
        bots=(Sum, "bot_requests", every),
    )
    n |= _logins(p)
    n |= _rolled_sums(
        p,
        ActivityDay,
        ActivityMonth,
        page_views=("count", Q(kind=ActivityDay.PAGE_VIEW)),
        posts=("count", Q(kind=ActivityDay.POST)),
        opinions=("count", Q(kind=ActivityDay.OPINION)),
    )
    n |= _both(p, DocumentOpen, opened=(Count, "id", every))
    counts = [
        ("アクセス数（人のページビュー）", "views"),
        ("ダウンロード数（人）", "downloads"),
        ("全リクエスト数（ボットを含む）", "requests"),
        ("ボットのリクエスト数", "bots"),
        ("ログイン数（自治体）", "logins"),
        ("ログインした自治体数", "active"),
        ("会員ページの閲覧数", "page_views"),
        ("資料を開いた数（自治体・日）", "opened"),
        ("小ネタの投稿数", "posts"),
        ("意見箱のご意見数", "opinions"),
    ]
    rows = [
        (label, n[k], n[f"{k}_before"], n[k] - n[f"{k}_before"], _change(n[k], n[f"{k}_before"])) for label, k in counts
    ]
    share_now, share_before = _share(n["bots"], n["requests"]), _share(n["bots_before"], n["requests_before"])
    delta = round(share_now - share_before, 1) if share_now is not None and share_before is not None else None
    rows.insert(4, ("ボットの割合（%）", share_now, share_before, delta, None))
    return Table(
        "totals",
        "期間の合計と前期間との比較",
        ("指標", "期間", "前期間", "増減", "増減率（%）"),
        rows,
        note="ボットの割合の増減はポイント。増減率は前期間が 0 のとき空欄。",
        section=ACCESS,
    )


def _daily(p: _Period) -> Table:
    access = dict(DayTotal.objects.filter(day__range=(p.start, p.end)).values_list("day", "page_views"))
    downloads = dict(DayTotal.objects.filter(day__range=(p.start, p.end)).values_list("day", "downloads"))
    logins = dict(
        LoginDay.objects.filter(day__range=(p.start, p.end))
        .values("day")
        .annotate(n=Sum("logins"))
        .order_by()
        .values_list("day", "n")
    )
    rows = []
    day = p.start
    while day <= p.end:
        rows.append((day, access.get(day, 0), downloads.get(day, 0), logins.get(day, 0)))
        day += timedelta(days=1)
    return Table("daily", "日別の推移", ("日付", "アクセス数", "ダウンロード数", "ログイン数（自治体）"), rows)


def _page_sums(split: rollup.Split, *, pages=None, paths=None) -> tuple[dict, dict]:
    """Two grouped queries (the month rows of the rolled-up months, the day rows of the other
    days): ``{("page", id) or ("path", path): [views, bot_views]}`` (a Wagtail page's rows under
    any path are one key) and each Wagtail page's latest path."""
    sums: dict[tuple, list[int]] = {}
    latest: dict[int, tuple] = {}
    for model, q, last in ((PageMonth, split.month_q(), "last_day"), (PageDay, split.day_q(), "day")):
        rows = model.objects.filter(q)
        if pages is not None:
            rows = rows.filter(Q(page_id__in=pages) | Q(page__isnull=True, path__in=paths))
        grouped = rows.values("page_id", "path").annotate(v=Sum("views"), b=Sum("bot_views"), last=Max(last)).order_by()
        for row in grouped:
            page_id, path = row["page_id"], row["path"]
            key = ("page", page_id) if page_id else ("path", path)
            total = sums.setdefault(key, [0, 0])
            total[0] += row["v"]
            total[1] += row["b"]
            if page_id and (page_id not in latest or (row["last"], path) > latest[page_id]):
                latest[page_id] = (row["last"], path)
    return sums, latest


def _pages(p: _Period) -> Table:
    sums, latest = _page_sums(p.now)
    viewed = [k for k, (views, _b) in sums.items() if views]
    order = lambda k: (-sums[k][0], str(k[1]))  # noqa: E731
    kept = heapq.nsmallest(p.limit, viewed, key=order) if p.limit is not None else sorted(viewed, key=order)
    total = len(viewed) if len(kept) < len(viewed) else None
    page_ids = [k[1] for k in kept if k[0] == "page"]
    path_keys = [k[1] for k in kept if k[0] == "path"]
    titles = dict(Page.objects.filter(pk__in=page_ids).values_list("pk", "title"))
    histograms: dict[tuple, dict] = {}
    timed = kept[:TOP]  # response times for the first TOP pages only: a year of all pages' histograms is slow
    shown = Q(page_id__in=[k[1] for k in timed if k[0] == "page"]) | Q(
        page__isnull=True, path__in=[k[1] for k in timed if k[0] == "path"]
    )
    for model, q in ((PageMonth, p.now.month_q()), (PageDay, p.now.day_q())):
        for page_id, path, times in model.objects.filter(q).filter(shown).values_list("page_id", "path", "times"):
            merged = histograms.setdefault(("page", page_id) if page_id else ("path", path), {})
            for bucket, count in (times or {}).items():
                merged[bucket] = merged.get(bucket, 0) + count
    before, _latest = _page_sums(p.before, pages=page_ids, paths=path_keys)
    rows = []
    for rank, key in enumerate(kept, start=1):
        views, bots = sums[key]
        hist = histograms.get(key, {})
        p50, p95 = percentile(hist, 0.5), percentile(hist, 0.95)
        path = latest[key[1]][1] if key[0] == "page" else key[1]
        rows.append(
            (
                rank,
                titles.get(key[1], "") if key[0] == "page" else "",
                path,
                views,
                before.get(key, [0, 0])[0],
                bots,
                round(p50 * 1000) if p50 is not None else None,
                round(p95 * 1000) if p95 is not None else None,
            )
        )
    return Table(
        "pages",
        "よく見られたページ",
        (
            "順位",
            "ページ",
            "パス",
            "アクセス数",
            "前期間",
            "ボットの閲覧数",
            "応答時間 p50（ミリ秒）",
            "応答時間 p95（ミリ秒）",
        ),
        rows,
        note="名前やパスを変えたページも一つのページとして数えます（パスは期間中の最新のもの）。"
        f"応答時間は上位 {TOP} ページのみ。"
        "ページ名が空欄のものは CMS のページに対応しないパス（検索結果など）です。",
        total_rows=total,
    )


def _document_titles(ids) -> dict[int, str]:
    return dict(get_document_model().objects.filter(pk__in=list(ids)).values_list("pk", "title"))


def _download_sums(split: rollup.Split, paths=None) -> dict[str, list[int]]:
    """``{path: [downloads, requests]}``: the month rows and the day rows, grouped, added."""
    sums: dict[str, list[int]] = {}
    for model, q in ((DownloadMonth, split.month_q()), (DownloadDay, split.day_q())):
        rows = model.objects.filter(q)
        if paths is not None:
            rows = rows.filter(path__in=paths)
        for path, n, r in (
            rows.values("path").annotate(n=Sum("downloads"), r=Sum("requests")).order_by().values_list("path", "n", "r")
        ):
            total = sums.setdefault(path, [0, 0])
            total[0] += n
            total[1] += r
    return sums


def _downloads(p: _Period) -> Table:
    sums = _download_sums(p.now)
    downloaded = [path for path, (n, _r) in sums.items() if n > 0]
    order = lambda path: (-sums[path][0], path)  # noqa: E731
    kept = heapq.nsmallest(p.limit, downloaded, key=order) if p.limit is not None else sorted(downloaded, key=order)
    total = len(downloaded) if len(kept) < len(downloaded) else None
    ranked = [{"path": path, "n": sums[path][0], "r": sums[path][1]} for path in kept]
    paths = [row["path"] for row in ranked]
    before = {path: n for path, (n, _r) in _download_sums(p.before, paths).items()}
    doc_ids = {m.group(1): int(m.group(1)) for m in (_DOCUMENT_PATH.match(path) for path in paths) if m}
    titles = _document_titles(doc_ids.values())
    rows = []
    for rank, row in enumerate(ranked, start=1):
        match = _DOCUMENT_PATH.match(row["path"])
        title = titles.get(int(match.group(1)), DELETED_DOCUMENT) if match else ""
        rows.append((rank, title, row["path"], row["n"], before.get(row["path"], 0), row["r"]))
    return Table(
        "downloads",
        "よく取得されたファイル",
        ("順位", "文書名", "パス", "ダウンロード数", "前期間", "リクエスト数"),
        rows,
        note="ダウンロード数は人による取得（1 端末・1 日・1 ファイルで 1 回）。リクエスト数は分割取得を含む、人の要求の数。",
        total_rows=total,
    )


def _reach(p: _Period) -> Table:
    reach = participation.document_reach(p.start, p.end)
    kept, total = p.cut(reach)
    rows = [(rank, r["title"], r["local_governments"], r["downloads"]) for rank, r in enumerate(kept, start=1)]
    return Table(
        "document_reach",
        "資料が届いた自治体の数",
        ("順位", "文書名", "開いた自治体数", "開いた数（自治体・日）"),
        rows,
        note="会員としてログインした自治体アカウントが開いた資料。職員は含みません。",
        section=PARTICIPATION,
        total_rows=total,
    )


_COVERAGE_COLUMNS = (
    "自治体数",
    "アカウント発行済み",
    "ログインしたことがある",
    "期間内にログイン",
    "期間内に資料を閲覧",
    "期間内に小ネタを投稿",
    "期間内のログイン率（%）",
)
_COVERAGE_FIELDS = ("local_governments", "issued", "logged_in", "active", "downloaded", "posted", "active_share")


def _coverage(dimension: str, title: str) -> Callable[[_Period], Table]:
    def build(p: _Period) -> Table:
        rows = p.coverage[dimension]
        if dimension == "prefecture":
            columns = ("都道府県コード", "都道府県", *_COVERAGE_COLUMNS)
            values = [(r["key"], r["label"], *(r[f] for f in _COVERAGE_FIELDS)) for r in rows]
        else:
            columns = (title, *_COVERAGE_COLUMNS)
            values = [(r["label"], *(r[f] for f in _COVERAGE_FIELDS)) for r in rows]
        return Table(
            f"coverage_{dimension}",
            f"利用状況（{title}別）",
            columns,
            values,
            note=f"全 {p.local_governments:,} 団体（都道府県 47・市区町村）を分類。各行の自治体数の合計は "
            f"{p.local_governments:,}。",
            section=PARTICIPATION,
        )

    return build


def _funnel(p: _Period) -> Table:
    steps = participation.funnel(p.start, p.end, sets=p.stage_sets)
    return Table(
        "funnel",
        "利用の段階（ファネル）",
        ("段階", "この段階の自治体数", "ここまでの段階をすべて満たす自治体数", "全団体に対する割合（%）"),
        [(s["label"], s["count"], s["reached"], s["share"]) for s in steps],
        note="「ここまでの段階をすべて満たす」は、アカウント発行からその段階までをすべて満たした団体の数。"
        "メールの送信済みは、メールサーバーが受け付けたことを示します（届かなかったメールは分かりません）。",
        section=PARTICIPATION,
    )


def _never_logged_in(p: _Period) -> Table:
    never = participation.never_logged_in(p.end, sets=p.stage_sets, attributes=p.attributes)
    kept, total = p.cut(never)
    yes_no = {True: "はい", False: "いいえ"}
    rows = [
        (
            r["code"],
            r["prefecture"],
            r["name"],
            r["kind"],
            r["area"],
            r["population_band"],
            r["center"],
            yes_no[r["account_issued"]],
            yes_no[r["mail_delivered"]],
        )
        for r in kept
    ]
    return Table(
        "never_logged_in",
        "一度もログインしていない自治体",
        (
            "団体コード",
            "都道府県",
            "団体名",
            "団体区分",
            "東日本・西日本",
            "人口規模",
            "こども家庭センター",
            "アカウント発行",
            "発行通知メール送信済み",
        ),
        rows,
        note=f"期間の末日（{p.end.isoformat()}）までに一度もログインしていない団体、{len(never):,} 団体。団体コード順。",
        section=PARTICIPATION,
        total_rows=total,
    )


def _tips(p: _Period) -> Table:
    rows = []
    for t in topics_in_period(since=_bounds(p.start, p.end)[0], until=_bounds(p.start, p.end)[1]):
        wait = t["median_wait"]
        rows.append(
            (
                t["title"],
                t["posts"],
                t["visible"],
                t["local_governments"],
                t["approved_after_wait"],
                round(wait.total_seconds() / 3600, 1) if wait is not None else None,
            )
        )
    return Table(
        "tips_topics",
        "小ネタ（お題別）",
        (
            "お題",
            "投稿数",
            "うち公開中",
            "投稿した自治体数",
            "事前承認で承認された投稿",
            "承認までの時間（中央値・時間）",
        ),
        rows,
        note="期間内に投稿された小ネタ（取り下げ・不承認を含む）。承認までの時間は、事前承認の投稿が承認される"
        "までの時間の中央値。",
        section=CONTRIBUTIONS,
    )


def _opinion_counts(start: date, end: date) -> dict[str, int]:
    since, until = _bounds(start, end)
    rows = (
        Opinion.objects.filter(created_at__gte=since, created_at__lt=until, local_government__isnull=False)
        .values("category")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return {row["category"]: row["n"] for row in rows}


def _opinions(p: _Period) -> Table:
    now, before = _opinion_counts(p.start, p.end), _opinion_counts(*p.previous)
    labels = dict(Opinion.Category.choices)
    rows = [(label, now.get(key, 0), before.get(key, 0)) for key, label in labels.items()]
    if now.get("") or before.get(""):
        rows.append((NO_CATEGORY, now.get("", 0), before.get("", 0)))
    return Table(
        "opinions",
        "意見箱（分類別）",
        ("分類", "件数", "前期間"),
        rows,
        note="自治体アカウントから届いたご意見。",
        section=CONTRIBUTIONS,
    )


def _not_found(p: _Period) -> Table:
    grouped = (
        NotFoundDay.objects.filter(day__range=(p.start, p.end))
        .values("path", "referrer")
        .annotate(n=Sum("count"))
        .order_by("-n", "path", "referrer")
    )
    rows = [(row["path"], row["referrer"], row["n"]) for row in (grouped[: p.limit] if p.limit else grouped)]
    total = grouped.count() if p.limit is not None else None
    return Table(
        "not_found",
        "見つからなかったページ（404）",
        ("パス", "参照元のページ", "件数"),
        rows,
        note="人によるアクセスのうち「ページが見つかりません」となったもの。参照元が空欄のものは直接入力・"
        "ブックマーク等。リンク切れの修正に使えます。",
        total_rows=total if total and total > len(rows) else None,
    )


def _breakdown(
    dimension: str, key: str, title: str, first: str, *, labels=None, note="", count="アクセス数"
) -> Callable:
    def build(p: _Period) -> Table:
        rows = (
            Breakdown.objects.filter(day__range=(p.start, p.end), dimension=dimension)
            .values("value")
            .annotate(n=Sum("count"))
            .order_by("-n", "value")
        )
        values = [(row["value"], row["n"]) for row in rows if row["n"]]
        whole = sum(n for _v, n in values)
        kept, total = p.cut(values)
        out = [((labels or {}).get(v, v), n, _share(n, whole)) for v, n in kept]
        return Table(key, title, (first, count, "割合（%）"), out, note=note, total_rows=total)

    return build


BUILDERS: dict[str, Callable[[_Period], Table]] = {
    "definitions": _definitions,
    "totals": _totals,
    "daily": _daily,
    "pages": _pages,
    "downloads": _downloads,
    "devices": _breakdown(Breakdown.DEVICE, "devices", "端末の種類", "端末", labels=DEVICE_LABELS),
    "referrers": _breakdown(
        Breakdown.REFERRER,
        "referrers",
        "参照元（リンク元のサイト）",
        "参照元",
        note="他のサイトのリンクから来たアクセス。直接入力・ブックマーク等は含みません。",
    ),
    "campaigns": _breakdown(
        Breakdown.CAMPAIGN,
        "campaigns",
        "キャンペーン（会議の案内などのリンク）",
        "キャンペーンキー",
        note="URL に c= または utm_campaign= の付いたリンクから来たアクセス。",
    ),
    "bot_reasons": _breakdown(
        Breakdown.BOT_REASON,
        "bot_reasons",
        "ボットと判定した理由",
        "理由",
        labels=BOT_REASON_LABELS,
        count="リクエスト数",
    ),
    "not_found": _not_found,
    "funnel": _funnel,
    "coverage_prefecture": _coverage("prefecture", "都道府県"),
    "coverage_kind": _coverage("kind", "団体区分"),
    "coverage_area": _coverage("area", "東日本・西日本"),
    "coverage_population_band": _coverage("population_band", "人口規模"),
    "coverage_center": _coverage("center", "こども家庭センター"),
    "document_reach": _reach,
    "never_logged_in": _never_logged_in,
    "tips_topics": _tips,
    "opinions": _opinions,
}
KEYS = tuple(BUILDERS)


def period_tables(start: date, end: date, *, limit: int | None = TOP) -> list[Table]:
    """Every table of ``start``..``end`` (local days, both included), in ``KEYS`` order. The
    page views waiting in Redis are added first (``pageviews.flush_before_reading``)."""
    pageviews.flush_before_reading()
    period = _Period(start, end, limit)
    return [build(period) for build in BUILDERS.values()]


def period_table(key: str, start: date, end: date, *, limit: int | None = TOP) -> Table:
    """One table (``KeyError`` for an unknown key); the page views in Redis added first."""
    pageviews.flush_before_reading()
    return BUILDERS[key](_Period(start, end, limit))
