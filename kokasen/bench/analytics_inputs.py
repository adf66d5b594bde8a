"""The two inputs of decision 0057: `make bench` (or python -m kokasen.bench.analytics_inputs
[--scale N] [--searches N]).

1. 「アクセスログの取り込み」: a month of generated municipal traffic (kokasen/testing/traffic.py,
   ``--scale`` times the default sessions) in the combined format, gzipped and cut to
   ANALYTICS_UPLOAD_MAX_SIZE (10 MB) and ANALYTICS_UPLOAD_MAX_CONTENT_SIZE (64 MB), posted to the screen by a verified 受託者 through the test
   client (form, virus-check handlers without a clamd, the ingestion in one process, the audit
   event); then the same file again. Prints the size, lines, seconds and lines per second.
2. Zero-result searches: ``--searches`` anonymous GETs of /search/ that find nothing (200
   distinct queries, so most are updates of an existing row), with the analytics' receiver
   connected and disconnected, alternating; prints the median and 95th percentile server time
   per request and the statements per request of each.

A throw-away SQLite database (kokasen/bench/scratch.py). Nothing is asserted.
"""

from __future__ import annotations

import argparse
import gzip
import io
import os
import statistics
import tempfile
import time
from pathlib import Path

from kokasen.bench.scratch import setup_django


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def _log(scale: int, limit: int, content_limit: int) -> tuple[bytes, int, int]:
    """The gzipped log, its lines and its content size: the first lines that fit both limits."""
    from kokasen.testing.traffic import as_combined, municipal_month

    lines = as_combined(municipal_month(sessions_per_working_day=290 * scale).json_lines())
    content = ("\n".join(lines) + "\n").encode()
    if len(content) > content_limit:
        lines = lines[: int(len(lines) * content_limit / len(content) * 0.99)]
        content = ("\n".join(lines) + "\n").encode()
    data = gzip.compress(content, compresslevel=6)
    while len(data) > limit:
        lines = lines[: int(len(lines) * limit / len(data) * 0.98)]
        content = ("\n".join(lines) + "\n").encode()
        data = gzip.compress(content, compresslevel=6)
    return data, len(lines), len(content)


def upload(scale: int) -> None:
    from django.conf import settings
    from django.test import Client

    from kokasen.accounts import roles
    from kokasen.testing import login_staff, make_staff

    data, count, content = _log(scale, settings.ANALYTICS_UPLOAD_MAX_SIZE, settings.ANALYTICS_UPLOAD_MAX_CONTENT_SIZE)
    client = Client()
    login_staff(client, make_staff(roles.OPERATOR))
    for attempt in ("first", "again"):
        file = io.BytesIO(data)
        file.name = "access.log-20261130.gz"
        started = time.perf_counter()
        response = client.post("/admin/analytics/access-logs/", {"file": file})
        seconds = time.perf_counter() - started
        report = response.context["result"].report
        print(
            f"upload ({attempt}): {len(data) / 1024 / 1024:.1f} MB gzip ({content / 1024 / 1024:.1f} MB content), "
            f"{count:,} lines in the file, "
            f"{report.lines:,} read, {report.page_views:,} page views, {report.bot_requests:,} bot requests, "
            f"{seconds:.1f} s" + (f", {report.lines / seconds:,.0f} lines/s" if report.lines else "")
        )


def searches(count: int) -> None:
    from django.db import connection, transaction
    from django.test import Client
    from django.utils import timezone

    from kokasen.analytics import counters
    from kokasen.analytics import searches as zero
    from kokasen.analytics.models import ZeroResultSearchDay
    from kokasen.pages.signals import search_found_nothing

    client = Client()
    agent = (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"
    )
    client.get("/search/?q=warm", HTTP_USER_AGENT=agent)
    times: dict[bool, list[float]] = {True: [], False: []}
    statements: dict[bool, int] = {}
    seen: list[str] = []

    def note(execute, sql, params, many, context):
        seen.append(sql)
        return execute(sql, params, many, context)

    for n in range(count):
        counted = n % 2 == 0
        if not counted:
            search_found_nothing.disconnect(dispatch_uid="analytics.zero_result_searches")
        try:
            seen.clear()
            with connection.execute_wrapper(note):
                started = time.perf_counter()
                client.get(f"/search/?q=見つからない語{n % 200}", HTTP_USER_AGENT=agent)
                times[counted].append(time.perf_counter() - started)
            statements[counted] = len(seen)
        finally:
            if not counted:
                search_found_nothing.connect(
                    zero.on_search_found_nothing, dispatch_uid="analytics.zero_result_searches"
                )
    for counted in (True, False):
        values = times[counted]
        print(
            f"zero-result search, {'counted' if counted else 'not counted'}: {len(values)} requests, "
            f"median {statistics.median(values) * 1000:.2f} ms, p95 {_percentile(values, 0.95) * 1000:.2f} ms, "
            f"{statements[counted]} statements a request"
        )
    print(
        f"rows: {ZeroResultSearchDay.objects.count()} (queries), searches counted: "
        f"{sum(ZeroResultSearchDay.objects.values_list('count', flat=True))}"
    )
    alone = []
    for n in range(count):
        started = time.perf_counter()
        with transaction.atomic():
            counters.increment(ZeroResultSearchDay, day=timezone.localdate(), query=f"見つからない語{n % 200}")
        alone.append(time.perf_counter() - started)
    print(
        f"the upsert alone (in its savepoint): median {statistics.median(alone) * 1000:.3f} ms, "
        f"p95 {_percentile(alone, 0.95) * 1000:.3f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=3, help="times the default month's sessions")
    parser.add_argument("--searches", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="kokasen-bench-analytics-inputs-") as folder:
        workdir = Path(folder)
        os.environ.setdefault("SECRET_KEY", "bench-only-insecure-key")
        setup_django(
            workdir,
            "kokasen.settings.test",
            OPS_STATE_DIR=str(workdir / "state"),
            ANALYTICS_ACCESS_LOGS="off",
        )
        from django.test.utils import setup_test_environment

        setup_test_environment()  # the test client's response.context
        upload(args.scale)
        searches(args.searches)


if __name__ == "__main__":
    main()
