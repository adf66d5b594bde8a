"""The monthly roll-up of the daily counts (decision 0064): what a long period sums over days,
summed once per closed month, so that a year on the dashboard reads twelve months of rows
instead of 365 days of them.

- ``PageMonth``, ``DownloadMonth``, ``LoginMonth``, ``ActivityMonth`` hold, per calendar month,
  exactly the sums of ``PageDay`` (views, bot views, the last day of each (path, page) and the
  response-time histograms added bucket by bucket), ``DownloadDay``, ``LoginDay`` and
  ``ActivityDay`` over that month's days. ``RolledUpMonth`` lists the months rolled up.
- Only *closed* months are rolled up: a month ended at least a full day ago (``closed_limit``),
  so the middleware's live counts of today never land in a rolled-up month.
- A month is always rolled up again from its day rows as a whole (``refresh``), never patched, in
  the transaction that changed those day rows: the ingestion (a late line of an old day, a file
  imported again that adds nothing or adds lines), the participation recount of a range, a late
  flush of the page views counted in Redis (``pageviews.flush``, decision 0067). A month
  that closed since the last run, or was never rolled up, is rolled up by ``catch_up``, which the
  ingestion and ``count_participation`` (the timer) call; ``analytics_rollup`` does it by hand
  (``--rebuild``: every month again, the back-fill after upgrading).
- Readers (``tables.py``) ``split`` a period into the rolled-up whole months inside it and the
  days left (the partial months at both ends, and any month not rolled up), read the month rows
  for the first and the day rows for the second, and add them. A missing roll-up is slower,
  never wrong.

Not rolled up (small, or not additive over months): ``DayTotal`` (one row a day), ``Breakdown``,
``NotFoundDay``, ``DocumentOpen`` (distinct local governments per document), the daily chart.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from django.db import transaction
from django.db.models import Min, Q, Sum
from django.utils import timezone

from .models import (
    ActivityDay,
    ActivityMonth,
    DownloadDay,
    DownloadMonth,
    LoginDay,
    LoginMonth,
    PageDay,
    PageMonth,
    RolledUpMonth,
)

DAY_MODELS = (PageDay, DownloadDay, LoginDay, ActivityDay)
MONTH_MODELS = (PageMonth, DownloadMonth, LoginMonth, ActivityMonth)
NEVER = Q(pk__in=[])  # a condition no row meets


def month_start(day: date) -> date:
    return day.replace(day=1)


def next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def month_end(month: date) -> date:
    return next_month(month) - timedelta(days=1)


def closed_limit(today: date | None = None) -> date:
    """The first month that is not closed: months before it ended before yesterday (one day of
    grace for a count of the last evening written after midnight)."""
    today = today or timezone.localdate()
    return month_start(today - timedelta(days=1))


def months_between(first: date, last: date) -> list[date]:
    """The first days of the months from ``first``'s to ``last``'s, both included."""
    out, month = [], month_start(first)
    while month <= last:
        out.append(month)
        month = next_month(month)
    return out


# --- writing -------------------------------------------------------------------------------------


def refresh(months: Iterable[date]) -> list[date]:
    """Roll ``months`` (first days) up again from their day rows, in one transaction; months
    not closed are left out. Returns the months rolled up."""
    limit = closed_limit()
    chosen = sorted({month_start(m) for m in months if month_start(m) < limit})
    with transaction.atomic():
        for month in chosen:
            _roll_up(month)
    return chosen


def _roll_up(month: date) -> None:
    # The month's row first, locked: two runs rolling the same month up (the timer's recount
    # and an upload's ingestion) take turns instead of both inserting its rows.
    RolledUpMonth.objects.bulk_create([RolledUpMonth(month=month)], ignore_conflicts=True)
    list(RolledUpMonth.objects.select_for_update().filter(month=month))
    days = (month, month_end(month))
    for model in MONTH_MODELS:
        model.objects.filter(month=month).delete()
    pages: dict[tuple, list] = {}
    rows = PageDay.objects.filter(day__range=days).values_list("path", "page_id", "day", "views", "bot_views", "times")
    for path, page_id, day, views, bot_views, times in rows.iterator(chunk_size=5000):
        entry = pages.get((path, page_id))
        if entry is None:
            entry = pages[(path, page_id)] = [0, 0, day, {}]
        entry[0] += views
        entry[1] += bot_views
        if day > entry[2]:
            entry[2] = day
        histogram = entry[3]
        for bucket, count in (times or {}).items():
            histogram[bucket] = histogram.get(bucket, 0) + count
    PageMonth.objects.bulk_create(
        [
            PageMonth(month=month, path=path, page_id=page_id, views=v, bot_views=b, last_day=last, times=t)
            for (path, page_id), (v, b, last, t) in pages.items()
        ],
        batch_size=1000,
    )
    grouped = DownloadDay.objects.filter(day__range=days).values("path").order_by()
    DownloadMonth.objects.bulk_create(
        [
            DownloadMonth(month=month, path=r["path"], downloads=r["d"], requests=r["r"], bot_requests=r["b"])
            for r in grouped.annotate(d=Sum("downloads"), r=Sum("requests"), b=Sum("bot_requests"))
        ],
        batch_size=1000,
    )
    grouped = LoginDay.objects.filter(day__range=days).values("local_government_id").order_by()
    LoginMonth.objects.bulk_create(
        [
            LoginMonth(month=month, local_government_id=r["local_government_id"], logins=r["n"])
            for r in grouped.annotate(n=Sum("logins"))
        ],
        batch_size=1000,
    )
    grouped = ActivityDay.objects.filter(day__range=days).values("local_government_id", "kind").order_by()
    ActivityMonth.objects.bulk_create(
        [
            ActivityMonth(month=month, local_government_id=r["local_government_id"], kind=r["kind"], count=r["n"])
            for r in grouped.annotate(n=Sum("count"))
        ],
        batch_size=1000,
    )
    RolledUpMonth.objects.filter(month=month).update(built_at=timezone.now())


def first_day() -> date | None:
    """The earliest day of any rolled-up day table (None: no rows)."""
    days = [model.objects.aggregate(first=Min("day"))["first"] for model in DAY_MODELS]
    days = [day for day in days if day is not None]
    return min(days) if days else None


def catch_up(*, rebuild: bool = False) -> list[date]:
    """Roll up every closed month since the first day row that is not rolled up yet (every one
    again with ``rebuild``). Returns the months rolled up."""
    first = first_day()
    limit = closed_limit()
    if first is None or month_start(first) >= limit:
        return []
    months = months_between(first, limit - timedelta(days=1))
    if not rebuild:
        built = set(RolledUpMonth.objects.filter(month__gte=months[0]).values_list("month", flat=True))
        months = [month for month in months if month not in built]
    return refresh(months)


def days_changed(days: Iterable[date]) -> list[date]:
    """Day rows of ``days`` were written: roll their closed months up again, then catch up."""
    done = refresh({month_start(day) for day in days if day is not None})
    return sorted(set(done) | set(catch_up()))


def range_changed(start: date | None, end: date | None) -> list[date]:
    """Day rows of ``start``..``end`` (None: from the first / to the last) were counted again:
    roll the closed months it touches up again, then catch up."""
    first = start or first_day()
    if first is None:
        return []
    last = min(end or timezone.localdate(), closed_limit() - timedelta(days=1))
    done = refresh(months_between(first, last)) if first <= last else []
    return sorted(set(done) | set(catch_up()))


# --- reading -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Split:
    """A period as rolled-up whole months (``months``, first days) and the day ranges left."""

    months: tuple[date, ...]
    days: tuple[tuple[date, date], ...]

    def month_q(self) -> Q:
        return Q(month__in=self.months) if self.months else NEVER

    def day_q(self) -> Q:
        if not self.days:
            return NEVER
        q = Q()
        for first, last in self.days:
            q |= Q(day__range=(first, last))
        return q


def built(start: date, end: date) -> frozenset[date]:
    """The rolled-up months that overlap ``start``..``end`` (one query)."""
    return frozenset(
        RolledUpMonth.objects.filter(month__range=(month_start(start), end)).values_list("month", flat=True)
    )


def split(start: date, end: date, months: frozenset[date] | None = None) -> Split:
    """``start``..``end`` as the rolled-up months wholly inside it and the days left, in order.
    ``months``: the rolled-up months (``built``), if the caller read them."""
    months = built(start, end) if months is None else months
    whole, ranges = [], []
    day = start
    while day <= end:
        month = month_start(day)
        last = month_end(month)
        if day == month and last <= end and month in months:
            whole.append(month)
        elif ranges and ranges[-1][1] == day - timedelta(days=1):
            ranges[-1] = (ranges[-1][0], min(last, end))
        else:
            ranges.append((day, min(last, end)))
        day = last + timedelta(days=1)
    return Split(tuple(whole), tuple(ranges))
