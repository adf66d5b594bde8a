"""Dashboard 「アクセス解析」 benchmark (issue 15 item 5; decision 0051):
``python -m kokasen.bench.analytics_dashboard``.

On its own PostgreSQL database (``--database-url``, default ``kokasen_bench_dash`` on
127.0.0.1, dropped and created), :func:`generate` writes a year of aggregates ending today:
365 days × 2,000 page paths (200 of them Wagtail pages) with response-time histograms, 300
files, referrers, devices, campaigns, bot reasons and 404s per day; the 1,788 local governments'
accounts, credential mails, center statuses, logins, members' page views, opened documents
(50 documents), 小ネタ posts (20 topics) and 意見箱 opinions. Then a signed-in 受託者 asks the
dashboard with the Django test client in-process (DEBUG off) and the script prints the server
time, median and p95 over ``--runs`` requests, and its SQL queries, for: this month (the
default), the last full month, and the whole year; and the time of ``tables.period_tables`` for
the year with every row (what a report's Excel annex reads). The closed months are rolled up
(``rollup.catch_up``, timed, decision 0064) unless ``--no-rollup`` (the figures before it).

:func:`generate` is the data of the report's benchmark too (``generate(end=...)`` on a migrated
database; PostgreSQL only: it writes with ``generate_series``). Nothing is asserted.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlsplit

from kokasen.bench.grouping_screen import summary

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/kokasen_bench_dash"
DAYS, PATHS, PAGES, FILES, DOCUMENTS, TOPICS = 365, 2000, 200, 300, 50, 20


def _sql(cursor, statement: str, *params) -> None:
    cursor.execute(statement, params)


def generate(
    *,
    end: date,
    days: int = DAYS,
    paths: int = PATHS,
    seed: int = 15,
    pages: int = PAGES,
    rollup: bool = True,
    log=print,
) -> dict:
    """A year (``days``) of analytics ending on ``end`` in the current (migrated, PostgreSQL)
    database; returns what was made. Deterministic for a seed (``setseed``). ``rollup``: then
    roll up the closed months as ``analytics_rollup`` does (decision 0064; timed); without it,
    every period is read from the day rows, as before the roll-up."""
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction
    from django.utils import timezone
    from wagtail.documents import get_document_model
    from wagtail.models import Collection, Page

    from kokasen.feedback.models import Opinion
    from kokasen.localgov.models import LocalGovernment
    from kokasen.meetings.models import CenterStatus
    from kokasen.notifications.models import OutboxMessage
    from kokasen.tips.models import Post, Topic

    started = time.monotonic()
    rng = random.Random(seed)
    start = end - timedelta(days=days - 1)
    home = Page.objects.filter(depth=2).first()
    made_pages = []
    for i in range(pages):
        made_pages.append(home.add_child(instance=Page(title=f"ページ {i + 1:04d}", slug=f"bench-page-{i + 1:04d}")))
    page_ids = [p.pk for p in made_pages]
    collection = Collection.get_first_root_node()
    Document = get_document_model()
    documents = Document.objects.bulk_create(
        [
            Document(title=f"資料 {i + 1:02d}", file=f"documents/bench-{i + 1:02d}.pdf", collection=collection)
            for i in range(DOCUMENTS)
        ]
    )
    lg_ids = list(LocalGovernment.objects.order_by("code").values_list("pk", flat=True))
    User = get_user_model()
    users = User.objects.bulk_create(
        [User(username=f"bench-lg-{lg}", local_government_id=lg, is_active=True, password="!") for lg in lg_ids]
    )
    now = timezone.now()
    OutboxMessage.objects.bulk_create(
        [
            OutboxMessage(
                kind="credentials",
                subject="アカウント発行のお知らせ",
                body="（ベンチマーク）",
                to=[f"lg{lg}@example.lg.jp"],
                local_government_id=lg,
                message_id=f"<bench-{lg}@kokasen>",
                status=OutboxMessage.Status.SENT,
                sent_at=now,
            )
            for lg in lg_ids
            if rng.random() < 0.97
        ]
    )
    CenterStatus.objects.bulk_create(
        [CenterStatus(local_government_id=lg, has_center=rng.random() < 0.6) for lg in lg_ids if rng.random() < 0.9]
    )
    zone = timezone.get_current_timezone()
    topics = Topic.objects.bulk_create(
        [Topic(title=f"お題 {i + 1:02d}", opens_at=now - timedelta(days=days)) for i in range(TOPICS)]
    )
    posts = []
    for i in range(2000):
        user = rng.choice(users)
        submitted = now - timedelta(days=rng.uniform(0, days - 1))
        pending = rng.random() < 0.5
        posts.append(
            Post(
                topic=rng.choice(topics),
                author=user,
                local_government_id=user.local_government_id,
                body=f"工夫 {i}",
                state="approved",
                initial_state="pending" if pending else "published",
                mode_at_submission="pre" if pending else "post",
                submitted_at=submitted,
                decided_at=submitted + timedelta(hours=rng.uniform(1, 72)),
            )
        )
    Post.objects.bulk_create(posts, batch_size=1000)
    categories = [value for value, _label in Opinion.Category.choices]
    opinions = Opinion.objects.bulk_create(
        [
            Opinion(author=u, local_government_id=u.local_government_id, category=rng.choice(categories), body="意見")
            for u in rng.sample(users, 500)
        ]
    )
    for opinion in opinions:
        opinion.created_at = now - timedelta(days=rng.uniform(0, days - 1))
    Opinion.objects.bulk_update(opinions, ["created_at"], batch_size=1000)

    page_array = "ARRAY[" + ",".join(map(str, page_ids)) + "]::bigint[]" if page_ids else "ARRAY[]::bigint[]"
    doc_array = "ARRAY[" + ",".join(str(d.pk) for d in documents) + "]::bigint[]"
    with transaction.atomic(), connection.cursor() as c:
        _sql(c, "SELECT setseed(%s)", (seed % 1000) / 1000)
        # pages: a long tail (views ~ 3000 / rank), the first `pages` paths Wagtail pages
        _sql(
            c,
            f"""INSERT INTO analytics_pageday (day, path, page_id, views, bot_views, times)
            SELECT d::date, '/p/' || lpad(i::text, 4, '0') || '/',
                   CASE WHEN i <= %s THEN ({page_array})[i] END,
                   (3000.0 / i * (0.5 + random()))::int, (random() * 4)::int,
                   jsonb_build_object('8', (random() * 20)::int, '25', (3000.0 / i)::int + 1, '60', 1)
            FROM generate_series(%s::date, %s::date, '1 day') d, generate_series(1, %s) i""",
            len(page_ids),
            start,
            end,
            paths,
        )
        _sql(
            c,
            """INSERT INTO analytics_downloadday (day, path, downloads, requests, bot_requests)
            SELECT d::date, '/documents/' || i || '/file-' || i || '.pdf', (200.0 / i * random())::int,
                   (600.0 / i * random())::int + 1, (random() * 3)::int
            FROM generate_series(%s::date, %s::date, '1 day') d, generate_series(1, %s) i""",
            start,
            end,
            FILES,
        )
        for dimension, values in [
            ("device", ["desktop", "mobile", "tablet", "other"]),
            ("referrer", [f"www{i}.example.lg.jp" for i in range(50)] + ["www.google.com", "search.yahoo.co.jp"]),
            ("campaign", [f"m{i:02d}" for i in range(10)]),
            ("bot_reason", ["agent", "monitor", "robots", "scanner", "rate", "earlier"]),
            ("kind", ["page", "download", "asset", "members", "admin", "health", "other"]),
        ]:
            _sql(
                c,
                """INSERT INTO analytics_breakdown (day, dimension, value, count)
                SELECT d::date, %s, v, (random() * 500)::int + 1
                FROM generate_series(%s::date, %s::date, '1 day') d, unnest(%s::text[]) v""",
                dimension,
                start,
                end,
                values,
            )
        _sql(
            c,
            """INSERT INTO analytics_notfoundday (day, key, path, referrer, count)
            SELECT d::date, md5(i::text), '/old/' || i || '/', 'https://www' || (i %% 7) || '.example.lg.jp/links/',
                   (random() * 5)::int + 1
            FROM generate_series(%s::date, %s::date, '1 day') d, generate_series(1, 100) i""",
            start,
            end,
        )
        _sql(
            c,
            """INSERT INTO analytics_daytotal (day, lines, bad_lines, requests, bot_requests, page_views, downloads)
            SELECT p.day, p.v * 3, 0, p.v * 3, (p.v * 0.3)::bigint, p.v, coalesce(dl.n, 0)
            FROM (SELECT day, sum(views) v FROM analytics_pageday GROUP BY day) p
            LEFT JOIN (SELECT day, sum(downloads) n FROM analytics_downloadday GROUP BY day) dl ON dl.day = p.day""",
        )
        # participation: each local government logs in on ~15 % of days (more in the east), and reads
        _sql(
            c,
            """CREATE TEMP TABLE bench_lgday ON COMMIT DROP AS
            SELECT d::date AS day, lg.id AS lg FROM generate_series(%s::date, %s::date, '1 day') d, localgov_localgovernment lg
            WHERE random() < CASE WHEN lg.area = 'east' THEN 0.18 ELSE 0.12 END * (1 + (lg.id %% 5) / 4.0)
              AND lg.id %% 11 <> 0""",
            start,
            end,
        )
        _sql(
            c,
            """INSERT INTO analytics_loginday (day, local_government_id, logins)
            SELECT day, lg, 1 + (random() * 2)::int FROM bench_lgday""",
        )
        _sql(
            c,
            """INSERT INTO analytics_activityday (day, local_government_id, kind, count)
            SELECT day, lg, 'page_view', 1 + (random() * 12)::int FROM bench_lgday""",
        )
        _sql(
            c,
            f"""INSERT INTO analytics_documentopen (day, local_government_id, document_id)
            SELECT day, lg, ({doc_array})[1 + (random() * {DOCUMENTS - 1})::int] FROM bench_lgday
            WHERE random() < 0.4 ON CONFLICT DO NOTHING""",
        )
        _sql(
            c,
            """INSERT INTO analytics_activityday (day, local_government_id, kind, count)
            SELECT (p.submitted_at AT TIME ZONE %s)::date, p.local_government_id, 'post', count(*)
            FROM tips_post p GROUP BY 1, 2
            ON CONFLICT (day, local_government_id, kind) DO UPDATE SET count = EXCLUDED.count""",
            str(zone),
        )
        _sql(
            c,
            """INSERT INTO analytics_activityday (day, local_government_id, kind, count)
            SELECT (o.created_at AT TIME ZONE %s)::date, o.local_government_id, 'opinion', count(*)
            FROM feedback_opinion o WHERE o.local_government_id IS NOT NULL GROUP BY 1, 2
            ON CONFLICT (day, local_government_id, kind) DO UPDATE SET count = EXCLUDED.count""",
            str(zone),
        )
        c.execute("ANALYZE")
        counts = {}
        for table in ("pageday", "downloadday", "breakdown", "notfoundday", "loginday", "activityday", "documentopen"):
            c.execute(f"SELECT count(*) FROM analytics_{table}")
            counts[table] = c.fetchone()[0]
    counts["seconds"] = round(time.monotonic() - started, 1)
    if rollup:
        from kokasen.analytics import rollup as monthly

        began = time.monotonic()
        months = monthly.catch_up()
        counts["rolled_up_months"] = len(months)
        counts["rollup_seconds"] = round(time.monotonic() - began, 1)
    log(
        f"data: {days} days ending {end}, {paths:,} paths ({len(page_ids)} Wagtail pages), {len(lg_ids):,} local governments; "
        + ", ".join(f"{k} {v:,}" for k, v in counts.items())
    )
    return counts


def _psql(url: str, statement: str) -> None:
    parts = urlsplit(url)
    subprocess.run(
        ["psql", "-X", "-q", "-h", parts.hostname, "-p", str(parts.port or 5432), "-U", parts.username or "postgres"]
        + ["-d", "postgres", "-c", statement],
        check=True,
        capture_output=True,
    )


def fresh_database(url: str) -> None:
    name = urlsplit(url).path.lstrip("/")
    _psql(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _psql(url, f'CREATE DATABASE "{name}"')


def django_on(database_url: str, folder: str) -> None:
    """Django with the production settings on ``database_url`` (migrated), files in ``folder``
    (the report's benchmark starts the same way)."""
    os.environ.setdefault("SECRET_KEY", "bench-only-insecure-key")
    os.environ.update(
        DJANGO_SETTINGS_MODULE="kokasen.settings.base",
        DATABASE_URL=database_url,
        MEDIA_ROOT=str(Path(folder) / "media"),
        STATIC_ROOT=str(Path(folder) / "static"),
        ALLOWED_HOSTS="127.0.0.1,testserver",
        SECURE_SSL_REDIRECT="false",
        LOG_LEVEL="WARNING",
        PUBLISHED_PAGES_ROOT="off",  # never the server's folder of public pages (decision 0061)
    )
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DASH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--days", type=int, default=DAYS)
    parser.add_argument("--paths", type=int, default=PATHS)
    parser.add_argument("--quick", action="store_true", help="only this month (no year, no annex)")
    parser.add_argument("--reuse", action="store_true", help="keep the database and its data if it has some")
    parser.add_argument("--no-rollup", action="store_true", help="no monthly roll-up: every period from the day rows")
    args = parser.parse_args()
    if not args.reuse:
        fresh_database(args.database_url)
    with tempfile.TemporaryDirectory(prefix="kokasen-bench-dash-") as tmp:
        django_on(args.database_url, tmp)
        from django.contrib.auth import get_user_model
        from django.db import connection
        from django.test import Client
        from django.test.utils import CaptureQueriesContext
        from django.utils import timezone

        from kokasen.accounts import roles
        from kokasen.analytics import tables
        from kokasen.testing import login_staff, make_staff

        today = timezone.localdate()
        from kokasen.analytics.models import PageDay

        if not PageDay.objects.exists():
            generate(end=today, days=args.days, paths=args.paths, rollup=not args.no_rollup)
        staff = get_user_model().objects.filter(username="bench-dash").first() or make_staff(
            roles.OPERATOR, username="bench-dash"
        )
        client = Client()
        login_staff(client, staff)
        last_month_end = today.replace(day=1) - timedelta(days=1)
        periods = [
            ("this month (default)", {}),
            ("last full month", {"from": last_month_end.replace(day=1).isoformat(), "to": last_month_end.isoformat()}),
            ("the whole year", {"from": (today - timedelta(days=args.days - 1)).isoformat(), "to": today.isoformat()}),
        ]
        if args.quick:
            periods = periods[:1]
        print(f"dashboard GET /admin/analytics/ as a 受託者, in-process, {args.runs} requests each:")
        for label, query in periods:
            response = client.get("/admin/analytics/", query)  # warm
            assert response.status_code == 200, response.status_code
            times, cpu = [], []
            for _ in range(args.runs):
                began, began_cpu = time.perf_counter(), time.process_time()
                client.get("/admin/analytics/", query)
                times.append(time.perf_counter() - began)
                cpu.append(time.process_time() - began_cpu)
            with CaptureQueriesContext(connection) as queries:
                client.get("/admin/analytics/", query)
            sql_ms = sum(float(q["time"]) for q in queries.captured_queries) * 1000
            print(f"  {label:<22}: {summary(times)}, {len(queries)} SQL queries, {len(response.content):,} bytes")
            print(
                f"  {'':<22}  Python CPU median {statistics.median(cpu) * 1000:.0f} ms a request; "
                f"SQL {sql_ms:.0f} ms in one request (the database's share)"
            )
        if args.quick:
            return
        year = (today - timedelta(days=args.days - 1), today)
        times = []
        for _ in range(3):
            began = time.perf_counter()
            tables.period_tables(*year, limit=None)
            times.append(time.perf_counter() - began)
        print(f"  tables.period_tables, the year, every row (the report's annex): {summary(times)}")


if __name__ == "__main__":
    main()
