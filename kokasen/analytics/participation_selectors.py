"""Reading the participation of the local governments (issue 15 item 4; decision 0050): plain
data (lists and dicts of numbers and strings) for the dashboard, the report and
``analytics_participation``. The counts are written by ``participation`` and the middleware;
staff never appear (they have no local government).

Periods are local days ``start``..``end``, both included.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from django.contrib.auth import get_user_model
from django.db.models import Count, Exists, OuterRef, Sum
from wagtail.documents import get_document_model

from kokasen.accounts import mail_kinds
from kokasen.localgov.models import LocalGovernment
from kokasen.meetings.centers import center_label
from kokasen.meetings.selectors import center_statuses
from kokasen.members.selectors import POPULATION_BANDS
from kokasen.notifications.models import OutboxMessage

from . import rollup
from .models import ActivityDay, ActivityMonth, DocumentOpen, LoginDay, LoginMonth

COUNTS = ("logins", "page_views", "downloads", "posts", "opinions")
_KIND_COUNT = {ActivityDay.PAGE_VIEW: "page_views", ActivityDay.POST: "posts", ActivityDay.OPINION: "opinions"}

FUNNEL = [
    ("issued", "アカウント発行"),
    ("mail_delivered", "発行通知メール送信済み"),
    ("first_login", "初回ログイン済み"),
    ("active", "期間内にログイン"),
    ("downloaded", "期間内に資料を閲覧"),
    ("posted", "期間内に投稿"),
]
DIMENSIONS = [
    ("prefecture", "都道府県"),
    ("kind", "団体区分"),
    ("area", "東日本・西日本"),
    ("population_band", "人口規模"),
    ("center", "こども家庭センター"),
]


def daily(start: date, end: date) -> list[dict]:
    """One row per local government and day with any activity: ``{"day", "local_government_id",
    "logins", "page_views", "downloads", "posts", "opinions"}``, by day then local government."""
    rows: dict = defaultdict(lambda: dict.fromkeys(COUNTS, 0))
    for r in LoginDay.objects.filter(day__range=(start, end)).values("day", "local_government_id", "logins"):
        rows[(r["day"], r["local_government_id"])]["logins"] += r["logins"]
    for r in ActivityDay.objects.filter(day__range=(start, end)).values("day", "local_government_id", "kind", "count"):
        rows[(r["day"], r["local_government_id"])][_KIND_COUNT[r["kind"]]] += r["count"]
    opened = (
        DocumentOpen.objects.filter(day__range=(start, end))
        .values("day", "local_government_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    for r in opened:
        rows[(r["day"], r["local_government_id"])]["downloads"] += r["n"]
    return [{"day": day, "local_government_id": lg_id, **counts} for (day, lg_id), counts in sorted(rows.items())]


def by_local_government(start: date, end: date) -> dict[int, dict]:
    """The counts of the period per local government (id): ``{id: {"logins": n, …}}``, only
    those with any activity."""
    out: dict = defaultdict(lambda: dict.fromkeys(COUNTS, 0))
    for row in daily(start, end):
        for name in COUNTS:
            out[row["local_government_id"]][name] += row[name]
    return dict(out)


def document_reach(start: date, end: date) -> list[dict]:
    """Per document opened in the period: how many distinct local governments opened it
    (``local_governments``) and on how many local-government days (``downloads``); most reached
    first. A deleted document's rows are one row with ``document_id`` None."""
    rows = (
        DocumentOpen.objects.filter(day__range=(start, end))
        .values("document_id")
        .annotate(local_governments=Count("local_government_id", distinct=True), downloads=Count("id"))
        .order_by("-local_governments", "-downloads", "document_id")
    )
    titles = dict(
        get_document_model()
        .objects.filter(pk__in=[r["document_id"] for r in rows if r["document_id"]])
        .values_list("pk", "title")
    )
    return [
        {
            "document_id": r["document_id"],
            "title": titles.get(r["document_id"], "（削除された文書）"),
            "local_governments": r["local_governments"],
            "downloads": r["downloads"],
        }
        for r in rows
    ]


def _issued() -> set[int]:
    """Local governments with an active account."""
    accounts = get_user_model().objects.filter(local_government__isnull=False, is_active=True)
    return _ids(accounts)


def _mail_delivered() -> set[int]:
    """Local governments whose credential notice (first or reissued) the sender handed to the
    mail server (送信済み)."""
    delivered = OutboxMessage.objects.filter(
        kind__in=(mail_kinds.CREDENTIALS, mail_kinds.PASSWORD_REISSUED),
        status=OutboxMessage.Status.SENT,
        local_government__isnull=False,
    )
    return _ids(delivered)


def _ids(queryset) -> set[int]:
    """The distinct local governments of a day table's rows (DISTINCT in SQL: a year of daily
    rows is hundreds of thousands, the local governments 1,788 at most)."""
    return set(queryset.order_by().values_list("local_government_id", flat=True).distinct())


def _ever_logged_in(end: date | None) -> set[int]:
    """Local governments with a login by ``end`` (None: ever): one probe per local government of
    the index (local_government, day), not a scan of every day's rows."""
    logins = LoginDay.objects.filter(local_government=OuterRef("pk"))
    if end is not None:
        logins = logins.filter(day__lte=end)
    return set(LocalGovernment.objects.filter(Exists(logins)).values_list("pk", flat=True))


def _rolled_ids(split: rollup.Split, day_model, month_model, **where) -> set[int]:
    """The distinct local governments of a period's rows: of the month rows of its rolled-up
    months and of the day rows of its other days (decision 0064)."""
    return _ids(month_model.objects.filter(split.month_q(), **where)) | _ids(
        day_model.objects.filter(split.day_q(), **where)
    )


def stage_sets(start: date, end: date, *, split: rollup.Split | None = None) -> dict[str, set[int]]:
    """The local governments at each step of ``FUNNEL``; ``funnel`` and ``coverage`` take it
    (``sets=``) so that a caller showing both reads them once. ``split``: the period as
    ``rollup.split`` cut it, if the caller has it."""
    split = split if split is not None else rollup.split(start, end)
    post = {"kind": ActivityDay.POST, "count__gt": 0}
    return {
        "issued": _issued(),
        "mail_delivered": _mail_delivered(),
        "first_login": _ever_logged_in(end),
        "active": _rolled_ids(split, LoginDay, LoginMonth),
        "downloaded": _ids(DocumentOpen.objects.filter(day__range=(start, end))),
        "posted": _rolled_ids(split, ActivityDay, ActivityMonth, **post),
    }


def funnel(start: date, end: date, *, sets: dict[str, set[int]] | None = None) -> list[dict]:
    """The steps account issued → credential mail delivered → first login (by ``end``) → logged
    in in the period → opened a document in the period → posted a 小ネタ in the period.
    ``count``: local governments at that step; ``reached``: those at that step and every step
    before it (the funnel proper, never growing); ``share``: ``reached`` of the 1,788, in %."""
    sets = sets if sets is not None else stage_sets(start, end)
    total = LocalGovernment.objects.count()
    out, reached = [], None
    for key, label in FUNNEL:
        reached = sets[key] if reached is None else reached & sets[key]
        out.append(
            {
                "step": key,
                "label": label,
                "count": len(sets[key]),
                "reached": len(reached),
                "share": round(100 * len(reached) / total, 1) if total else 0.0,
            }
        )
    return out


def population_band(population: int | None) -> tuple[str, str]:
    """(key, label) of members' POPULATION_BANDS, the same bands as the initiatives' filter."""
    for key, label, low, high in POPULATION_BANDS:
        if key == "unknown":
            continue
        if population is not None and (low is None or population >= low) and (high is None or population < high):
            return key, label
    return POPULATION_BANDS[-1][0], POPULATION_BANDS[-1][1]


def lg_attributes() -> list[dict]:
    """Every local government with the values of each coverage dimension."""
    centers = center_statuses()
    kinds = dict(LocalGovernment.Kind.choices)
    areas = dict(LocalGovernment.Area.choices)
    out = []
    for lg in LocalGovernment.objects.order_by("code").values(
        "id", "code", "name", "prefecture", "prefecture_code", "kind", "area", "population"
    ):
        center = centers.get(lg["id"])
        band = population_band(lg["population"])
        out.append(
            {
                **lg,
                "dims": {
                    "prefecture": (lg["prefecture_code"], lg["prefecture"]),
                    "kind": (lg["kind"], kinds.get(lg["kind"], lg["kind"])),
                    "area": (lg["area"], areas.get(lg["area"], lg["area"])),
                    "population_band": band,
                    "center": ({True: "yes", False: "no", None: "unknown"}[center], center_label(center)),
                },
            }
        )
    return out


def coverage(
    start: date, end: date, *, sets: dict[str, set[int]] | None = None, attributes: list[dict] | None = None
) -> dict[str, list[dict]]:
    """For each dimension (prefecture, kind, east/west, population band, center status): one row
    per value with ``local_governments`` (all of them: the rows of a dimension add up to the
    1,788), ``issued``, ``logged_in`` (ever, by ``end``), ``active`` (logged in in the period),
    ``downloaded``, ``posted`` (in the period) and ``active_share`` (% of ``local_governments``)."""
    sets = sets if sets is not None else stage_sets(start, end)
    columns = {
        "issued": sets["issued"],
        "logged_in": sets["first_login"],
        "active": sets["active"],
        "downloaded": sets["downloaded"],
        "posted": sets["posted"],
    }
    tables: dict[str, dict] = {key: {} for key, _ in DIMENSIONS}
    for lg in attributes if attributes is not None else lg_attributes():
        reached = [name for name, ids in columns.items() if lg["id"] in ids]
        for dim, (value, label) in lg["dims"].items():
            row = tables[dim].get(value)
            if row is None:
                row = tables[dim][value] = {
                    "key": value,
                    "label": label,
                    "local_governments": 0,
                    **dict.fromkeys(columns, 0),
                }
            row["local_governments"] += 1
            for name in reached:
                row[name] += 1
    order = {key: i for i, (key, *_rest) in enumerate(POPULATION_BANDS)}
    out = {}
    for dim, rows in tables.items():
        values = list(rows.values())
        if dim == "population_band":
            values.sort(key=lambda r: order[r["key"]])
        elif dim == "center":
            values.sort(key=lambda r: ["yes", "no", "unknown"].index(r["key"]))
        else:
            values.sort(key=lambda r: r["key"])
        for row in values:
            row["active_share"] = round(100 * row["active"] / row["local_governments"], 1)
        out[dim] = values
    return out


def never_logged_in(
    end: date | None = None, *, sets: dict[str, set[int]] | None = None, attributes: list[dict] | None = None
) -> list[dict]:
    """The local governments that have never logged in (by ``end``; None: ever), in code order,
    with whether their account is issued and its credential mail delivered, and the values of
    the coverage dimensions. ``sets``: ``stage_sets`` of a period ending on ``end``, if the caller
    has them."""
    if sets is not None:
        logged_in, issued, delivered = sets["first_login"], sets["issued"], sets["mail_delivered"]
    else:
        logged_in = _ever_logged_in(end)
        issued, delivered = _issued(), _mail_delivered()
    out = []
    for lg in attributes if attributes is not None else lg_attributes():
        if lg["id"] in logged_in:
            continue
        out.append(
            {
                "local_government_id": lg["id"],
                "code": lg["code"],
                "prefecture": lg["prefecture"],
                "name": lg["name"],
                "kind": lg["dims"]["kind"][1],
                "area": lg["dims"]["area"][1],
                "population_band": lg["dims"]["population_band"][1],
                "center": lg["dims"]["center"][1],
                "account_issued": lg["id"] in issued,
                "mail_delivered": lg["id"] in delivered,
            }
        )
    return out


def totals(start: date, end: date) -> dict[str, int]:
    """The period's sums over all local governments."""
    out = dict.fromkeys(COUNTS, 0)
    out["logins"] = LoginDay.objects.filter(day__range=(start, end)).aggregate(n=Sum("logins"))["n"] or 0
    for kind, name in _KIND_COUNT.items():
        out[name] = ActivityDay.objects.filter(day__range=(start, end), kind=kind).aggregate(n=Sum("count"))["n"] or 0
    out["downloads"] = DocumentOpen.objects.filter(day__range=(start, end)).count()
    return out
