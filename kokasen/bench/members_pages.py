"""Members' pages benchmark: `make bench` (or python -m kokasen.bench.members_pages).

Builds a throw-away SQLite site (production settings, DEBUG off, the demo content with its
members area, a 小ネタ topic with 1,000 approved posts) and a member's session, then prints,
for the topic page and the members' home ``/members/`` as that member sees them:

1. in-process (Django test client, warm caches): wall time per request (median, p95), this
   process's CPU time per request (median) and SQL queries per request;
2. under load: gunicorn (3 sync workers) driven by wrk (requests/s, p50, p99), or a Python load
   generator when wrk is missing (it says so).

``--database-url`` (or ``KOKASEN_BENCH_DATABASE_URL``) runs it on an empty PostgreSQL database, as
in production; ``KOKASEN_BENCH_REDIS_DB`` picks the Redis database (emptied first; default 15).

``build(workdir)`` and ``measure_in_process(...)`` are importable, for the combined harness
(``kokasen.bench.performance``): ``build`` returns the URLs and the session cookie.

Nothing is asserted: the figures are for people to read (decision 0011).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from kokasen.bench import tips_board


@dataclass
class MembersSite:
    """What ``build`` made: the URLs to measure (label → path) and a member's session cookie."""

    urls: dict[str, str]
    cookie: tuple[str, str]  # (name, value)
    member: object


def build(workdir: Path, database_url: str | None = None) -> MembersSite:
    """Django on a throw-away SQLite database in ``workdir`` or on ``database_url`` (an empty
    PostgreSQL database), Redis when it runs (see ``tips_board.setup_django``), the demo site, a
    topic with 1,000 posts; a member's session."""
    tips_board.setup_django(workdir, database_url)
    member, topics = tips_board.make_data()
    urls = {
        f"小ネタ topic, {tips_board.POSTS} posts": f"/members/tips/{topics[tips_board.POSTS].pk}/",
        "members' home /members/": "/members/",
    }
    from wagtail.models import Page

    from kokasen.members.models import FormsLibraryPage, InitiativeIndexPage, RoundtableIndexPage

    for model in (RoundtableIndexPage, InitiativeIndexPage, FormsLibraryPage):
        page = model.objects.live().first()
        if page is not None:
            urls[str(model._meta.verbose_name)] = Page.objects.get(pk=page.pk).url
    return MembersSite(urls=urls, cookie=tips_board.session_cookie(member), member=member)


@dataclass
class InProcess:
    label: str
    url: str
    median_ms: float
    p95_ms: float
    cpu_ms: float
    queries: int
    status: int


def measure_in_process(site: MembersSite, rounds: int = 200) -> list[InProcess]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    client.cookies[site.cookie[0]] = site.cookie[1]
    results = []
    for label, url in site.urls.items():
        client.get(url)  # warm
        client.get(url)
        times, cpu = [], []
        for _ in range(rounds):
            start, start_cpu = time.perf_counter(), time.process_time()
            response = client.get(url)
            cpu.append((time.process_time() - start_cpu) * 1000)
            times.append((time.perf_counter() - start) * 1000)
        with CaptureQueriesContext(connection) as queries:
            client.get(url)
        times.sort()
        results.append(
            InProcess(
                label,
                url,
                statistics.median(times),
                times[int(len(times) * 0.95) - 1],
                statistics.median(cpu),
                len(queries),
                response.status_code,
            )
        )
    return results


def print_in_process(results: list[InProcess], rounds: int) -> None:
    print(f"in-process, {rounds} requests each (Django test client, DEBUG off, warm caches):")
    print(f"  {'page':<34} {'median ms':>9} {'p95 ms':>7} {'CPU ms':>7} {'queries':>7} {'status':>6}")
    for r in results:
        print(f"  {r.label:<34} {r.median_ms:9.2f} {r.p95_ms:7.2f} {r.cpu_ms:7.2f} {r.queries:7d} {r.status:6d}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=200, help="in-process requests per page")
    parser.add_argument("--seconds", type=int, default=10, help="duration of each load test (0: none)")
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--show-queries", action="store_true", help="print the SQL of one request per page")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("KOKASEN_BENCH_DATABASE_URL"),
        help="an empty PostgreSQL database to use instead of SQLite (as in production)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="kokasen-members-bench-") as tmp:
        workdir = Path(tmp)
        started = time.perf_counter()
        site = build(workdir, args.database_url)
        print(f"setup: {time.perf_counter() - started:.1f} s")
        print(
            f"database: {'PostgreSQL' if args.database_url else 'SQLite'}; cache and sessions: {tips_board.cache_description()}"
        )
        results = measure_in_process(site, args.rounds)
        print_in_process(results, args.rounds)
        if args.show_queries:
            show_queries(site)
        from django.db import connections

        connections.close_all()
        if args.seconds:
            for label, url in list(site.urls.items())[:2]:
                tips_board.under_load(
                    workdir, url, site.cookie, args.seconds, args.workers, args.connections, label=label
                )


def show_queries(site: MembersSite) -> None:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    client.cookies[site.cookie[0]] = site.cookie[1]
    for label, url in site.urls.items():
        with CaptureQueriesContext(connection) as queries:
            client.get(url)
        print(f"--- {label} ({url}): {len(queries)} queries")
        for q in queries:
            print("   ", q["sql"][:300])


if __name__ == "__main__":
    main()
