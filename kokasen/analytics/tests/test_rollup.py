"""The monthly roll-up (decision 0064): for any period, the tables read from the month rows of
its whole months and the day rows of the rest give exactly the numbers of the day rows alone
(generated data, fixed and random periods: partial months at both ends, one month, a year,
across a year boundary); the roll-up stays right after a file is ingested again, after a late
line for a day of a rolled-up month, and after the participation is counted again."""

import io
import random
from datetime import date, datetime, timedelta

import pytest
from django.core.management import call_command
from django.db.models import Max, Sum
from django.utils import timezone
from wagtail.models import Page

from kokasen.analytics import participation, rollup, tables
from kokasen.analytics.models import (
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
from kokasen.localgov.models import LocalGovernment
from kokasen.testing.traffic import BROWSERS, JST, insert_audit, json_line

pytestmark = pytest.mark.django_db

# the tables that read the roll-up (the others read day rows only, whatever the period)
ROLLED_KEYS = (
    "totals",
    "pages",
    "downloads",
    "funnel",
    "coverage_prefecture",
    "coverage_kind",
    "coverage_area",
    "coverage_population_band",
    "coverage_center",
)


def _today() -> date:
    return timezone.localdate()


def _first_month() -> date:
    """26 months before this one: two years of closed months and the current one."""
    month = rollup.month_start(_today())
    for _ in range(26):
        month = rollup.month_start(month - timedelta(days=1))
    return month


@pytest.fixture
def generated():
    """Random day rows over 26 months up to today: 14 paths (a Wagtail page under two paths, a
    path that leads to another page after a move, paths of no page), response-time histograms,
    files, logins and activity of 12 local governments."""
    rng = random.Random(64)
    home = Page.objects.filter(depth=2).first()
    pages = [home.add_child(instance=Page(title=f"ページ{i}", slug=f"rollup-{i}")) for i in range(3)]
    paths = [(f"/p{i}/", None) for i in range(8)] + [
        ("/a/", pages[0].pk),
        ("/a-renamed/", pages[0].pk),
        ("/b/", pages[1].pk),
        ("/moved/", pages[2].pk),
        ("/moved/", pages[1].pk),  # the same path, another page after a move
        ("/c/", pages[2].pk),
    ]
    lgs = list(LocalGovernment.objects.order_by("code").values_list("pk", flat=True)[:12])
    page_rows, download_rows, login_rows, activity_rows = [], [], [], []
    day = _first_month()
    while day <= _today():
        for path, page_id in rng.sample(paths, 4):
            if any(r.day == day and r.path == path for r in page_rows[-4:]):
                continue
            times = {str(rng.randint(0, 40)): rng.randint(1, 30) for _ in range(rng.randint(0, 3))}
            page_rows.append(
                PageDay(
                    day=day,
                    path=path,
                    page_id=page_id,
                    views=rng.randint(0, 60),
                    bot_views=rng.randint(0, 5),
                    times=times,
                )
            )
        for n in rng.sample(range(6), 2):
            downloads = rng.randint(0, 9)
            download_rows.append(
                DownloadDay(
                    day=day,
                    path=f"/documents/{n}/file.pdf",
                    downloads=downloads,
                    requests=downloads + rng.randint(0, 9),
                    bot_requests=rng.randint(0, 2),
                )
            )
        for lg in rng.sample(lgs, 3):
            login_rows.append(LoginDay(day=day, local_government_id=lg, logins=rng.randint(1, 3)))
            for kind in rng.sample([k for k, _l in ActivityDay.KINDS], rng.randint(0, 3)):
                activity_rows.append(ActivityDay(day=day, local_government_id=lg, kind=kind, count=rng.randint(0, 4)))
        day += timedelta(days=1)
    PageDay.objects.bulk_create(page_rows, batch_size=2000)
    DownloadDay.objects.bulk_create(download_rows, batch_size=2000)
    LoginDay.objects.bulk_create(login_rows, batch_size=2000)
    ActivityDay.objects.bulk_create(activity_rows, batch_size=2000)
    return rng


def figures(start: date, end: date, limit=None) -> dict:
    every = {t.key: t for t in tables.period_tables(start, end, limit=limit)}
    return {key: (every[key].rows, every[key].total_rows) for key in ROLLED_KEYS}


def periods(rng: random.Random) -> list[tuple[date, date]]:
    first, today = _first_month(), _today()
    jan = date(first.year + 1, 1, 1)
    fixed = [
        (first + timedelta(days=40), first + timedelta(days=150)),  # partial months at both ends
        (jan, date(jan.year, 1, 31)),  # one whole month
        (jan + timedelta(days=9), jan + timedelta(days=13)),  # days inside one month
        (date(jan.year - 1, 11, 20), date(jan.year, 2, 10)),  # across a year boundary
        (jan + timedelta(days=3), jan + timedelta(days=367)),  # a year, its previous period too
        (today - timedelta(days=364), today),  # the year to today (this month open)
        (first, today),  # everything
    ]
    span = (today - first).days
    randoms = []
    for _ in range(8):
        a = first + timedelta(days=rng.randrange(span))
        b = min(a + timedelta(days=rng.randrange(1, 420)), today)
        randoms.append((a, b))
    return fixed + randoms


def test_the_rollup_gives_the_day_rows_numbers_for_any_period(generated):
    chosen = periods(generated)
    expected = {period: figures(*period) for period in chosen}
    top = {period: figures(*period, limit=5) for period in chosen[:5]}
    assert not RolledUpMonth.objects.exists()

    months = rollup.catch_up()
    closed = rollup.months_between(_first_month(), rollup.closed_limit() - timedelta(days=1))
    assert months == closed and len(closed) >= 25  # this month, and on its first day the last, are open
    assert PageMonth.objects.count() < PageDay.objects.count() / 5
    assert any(rollup.split(*period).months for period in chosen[1:])  # the month rows are read
    assert rollup.split(*chosen[1]) == rollup.Split(months=(chosen[1][0],), days=())
    assert rollup.split(*chosen[0]).days[0][0] == chosen[0][0]
    for period in chosen:
        assert figures(*period) == expected[period], period
    for period in chosen[:5]:
        assert figures(*period, limit=5) == top[period], period


def test_split_cuts_at_month_boundaries_and_leaves_months_not_rolled_up_to_days():
    built = frozenset({date(2025, 12, 1), date(2026, 1, 1), date(2026, 3, 1)})
    split = rollup.split(date(2025, 11, 20), date(2026, 3, 31), built)
    assert split.months == (date(2025, 12, 1), date(2026, 1, 1), date(2026, 3, 1))
    assert split.days == ((date(2025, 11, 20), date(2025, 11, 30)), (date(2026, 2, 1), date(2026, 2, 28)))
    assert rollup.split(date(2026, 1, 2), date(2026, 1, 31), built) == rollup.Split(
        (), ((date(2026, 1, 2), date(2026, 1, 31)),)
    )
    assert rollup.closed_limit(date(2026, 12, 1)) == date(2026, 11, 1)  # a day of grace
    assert rollup.closed_limit(date(2026, 12, 2)) == date(2026, 12, 1)


def assert_rollup_matches_days():
    """Every rolled-up month's rows are the sums of its day rows."""
    for month in RolledUpMonth.objects.values_list("month", flat=True):
        days = (month, rollup.month_end(month))
        pages = PageDay.objects.filter(day__range=days).values("path", "page_id").order_by()
        expected = {
            (r["path"], r["page_id"]): (r["v"], r["b"], r["last"])
            for r in pages.annotate(v=Sum("views"), b=Sum("bot_views"), last=Max("day"))
        }
        got = {(r.path, r.page_id): (r.views, r.bot_views, r.last_day) for r in PageMonth.objects.filter(month=month)}
        assert got == expected, month
        histograms = {}
        for path, page_id, times in PageDay.objects.filter(day__range=days).values_list("path", "page_id", "times"):
            merged = histograms.setdefault((path, page_id), {})
            for bucket, n in (times or {}).items():
                merged[bucket] = merged.get(bucket, 0) + n
        assert {(r.path, r.page_id): r.times for r in PageMonth.objects.filter(month=month)} == histograms
        downloads = DownloadDay.objects.filter(day__range=days).values("path").order_by()
        assert {
            r["path"]: (r["d"], r["r"], r["b"])
            for r in downloads.annotate(d=Sum("downloads"), r=Sum("requests"), b=Sum("bot_requests"))
        } == {r.path: (r.downloads, r.requests, r.bot_requests) for r in DownloadMonth.objects.filter(month=month)}
        logins = LoginDay.objects.filter(day__range=days).values("local_government_id").order_by()
        assert {r["local_government_id"]: r["n"] for r in logins.annotate(n=Sum("logins"))} == {
            r.local_government_id: r.logins for r in LoginMonth.objects.filter(month=month)
        }
        activity = ActivityDay.objects.filter(day__range=days).values("local_government_id", "kind").order_by()
        assert {(r["local_government_id"], r["kind"]): r["n"] for r in activity.annotate(n=Sum("count"))} == {
            (r.local_government_id, r.kind): r.count for r in ActivityMonth.objects.filter(month=month)
        }


def _old_day() -> date:
    """The 10th of the month before last: a closed month whatever today is."""
    month = rollup.month_start(rollup.month_start(_today()) - timedelta(days=1))
    return rollup.month_start(month - timedelta(days=1)) + timedelta(days=9)


def _log_lines(day: date, count: int, *, start: int = 0) -> list[str]:
    moment = datetime(day.year, day.month, day.day, 9, tzinfo=JST)
    return [
        json_line(
            moment + timedelta(minutes=n),
            f"203.0.113.{n % 7}",
            "GET",
            f"/r{n % 3}/",
            200,
            900,
            0.05 + n / 500,
            BROWSERS[n % 2],
        )
        for n in range(start, start + count)
    ]


def _ingest(path) -> None:
    call_command("ingest_access_logs", str(path), stdout=io.StringIO(), stderr=io.StringIO())


def test_ingesting_again_and_a_late_line_keep_the_rollup_right(settings, tmp_path):
    settings.OPS_STATE_DIR = tmp_path / "state"
    settings.ANALYTICS_ACCESS_LOGS = []
    old = _old_day()
    month = rollup.month_start(old)
    log = tmp_path / "access.json"
    log.write_text("\n".join(_log_lines(old, 30) + _log_lines(old + timedelta(days=1), 12)) + "\n")
    _ingest(log)
    assert RolledUpMonth.objects.filter(month=month).exists()  # rolled up in the ingestion's transaction
    assert PageMonth.objects.filter(month=month).aggregate(n=Sum("views"))["n"] == 42
    assert_rollup_matches_days()
    whole = (month, rollup.month_end(month))
    assert rollup.split(*whole).months == (month,)
    before = figures(*whole)

    _ingest(log)  # the same file again: nothing new
    assert figures(*whole) == before
    assert_rollup_matches_days()

    # a longer copy of it: a late line for a day of the rolled-up month (its first day)
    late = tmp_path / "access-longer.json"
    late.write_text(log.read_text() + "\n".join(_log_lines(month, 1, start=99)) + "\n")
    _ingest(late)
    assert PageMonth.objects.filter(month=month).aggregate(n=Sum("views"))["n"] == 43
    assert PageDay.objects.filter(day=month).aggregate(n=Sum("views"))["n"] == 1
    assert_rollup_matches_days()
    after = figures(*whole)
    assert after != before
    RolledUpMonth.objects.all().delete()  # the same period from the day rows alone
    assert rollup.split(*whole).months == ()
    assert figures(*whole) == after


def test_counting_participation_again_rolls_the_month_up_again(member_a):
    old = _old_day()
    month = rollup.month_start(old)
    participation.count_logins(start=old, end=old)
    assert not LoginMonth.objects.exists()
    moment = datetime(old.year, old.month, old.day, 10, tzinfo=JST)
    insert_audit(
        [
            {"time": moment + timedelta(minutes=n), "action": participation.LOGIN, "ip": "203.0.113.10"}
            | {"username": member_a.get_username(), "known": True}
            for n in range(3)
        ],
        users={member_a.get_username(): member_a},
    )
    participation.count_logins(start=old, end=old)
    assert LoginMonth.objects.get(month=month).logins == 3
    assert_rollup_matches_days()
    out = io.StringIO()
    call_command("analytics_rollup", "--rebuild", stdout=out)
    assert "か月分を月別に集計しました" in out.getvalue()
    assert LoginMonth.objects.get(month=month).logins == 3
    assert_rollup_matches_days()


def test_the_command_rolls_up_only_months_not_rolled_up_and_never_this_month(generated):
    out = io.StringIO()
    call_command("analytics_rollup", stdout=out)
    assert RolledUpMonth.objects.count() >= 25
    assert not RolledUpMonth.objects.filter(month__gte=rollup.closed_limit()).exists()
    assert not PageMonth.objects.filter(month__gte=rollup.closed_limit()).exists()
    out = io.StringIO()
    call_command("analytics_rollup", stdout=out)
    assert out.getvalue().strip() == "月別に集計する月はありませんでした。"
    assert_rollup_matches_days()
