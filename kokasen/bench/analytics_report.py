"""効果分析報告書 benchmark (issue 15 item 6; decision 0052): ``python -m kokasen.bench.analytics_report``.

On its own PostgreSQL database (``--database-url``, default ``kokasen_bench_report`` on
127.0.0.1, dropped and created), the dashboard benchmark's :func:`analytics_dashboard.generate`
writes a year of aggregates ending yesterday (365 days × 2,000 paths, the 1,788 local
governments' participation …); 12 meetings get a session each month with visits by their
campaign keys. Then ``report.generate`` makes the Word file, the PDF and the Excel annex with
every table switched on, for the last full month and for the whole year (``--runs`` times each),
and the script prints the time of each step (the tables, Word, PDF, Excel), the sizes and the
PDF's pages. The closed months are rolled up first unless ``--no-rollup`` (decision 0064).
``--out DIR`` keeps the year's three files (to look at the PDF's pages). Nothing is asserted.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

from kokasen.bench.analytics_dashboard import django_on, fresh_database, generate

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/kokasen_bench_report"
MEETINGS = 12


def meetings(start: date, end: date) -> int:
    """Meetings with a session in the months of the period and campaign visits after each."""
    from django.utils import timezone

    from kokasen.analytics.models import Breakdown
    from kokasen.meetings import campaign
    from kokasen.meetings.models import Half, Meeting, MeetingKind, MeetingSession

    zone = timezone.get_current_timezone()
    rows = []
    for n in range(MEETINGS):
        meeting = Meeting.objects.create(kind=MeetingKind.TOWN, title=f"情報交換会 {n + 1:02d}")
        day = start + timedelta(days=15 + 30 * n)
        if day > end:
            day = end - timedelta(days=n)
        MeetingSession.objects.update_or_create(
            meeting=meeting,
            half=Half.FIRST,
            defaults={"starts_at": datetime(day.year, day.month, day.day, 14, tzinfo=zone)},
        )
        for offset in range(10):
            if day + timedelta(days=offset) <= end:
                rows.append(
                    Breakdown(
                        day=day + timedelta(days=offset),
                        dimension=Breakdown.CAMPAIGN,
                        value=campaign.key(meeting.pk),
                        count=40 // (offset + 1),
                    )
                )
    Breakdown.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def timed(start: date, end: date) -> dict:
    """One report, step by step as ``report.generate`` does it, then stored."""
    from kokasen.analytics import report
    from kokasen.analytics.models import GeneratedReport

    steps = {}
    began = time.perf_counter()
    data = report.collect(start, end)
    steps["tables"] = time.perf_counter() - began
    files = {}
    for fmt, render in (("docx", report.render_word), ("pdf", report.render_pdf), ("xlsx", report.render_xlsx)):
        t = time.perf_counter()
        files[fmt] = render(data)
        steps[fmt] = time.perf_counter() - t
    steps["total"] = time.perf_counter() - began
    t = time.perf_counter()
    stored = report.generate(start, end, origin=GeneratedReport.COMMAND)  # the whole path, stored
    steps["generate"] = time.perf_counter() - t
    return {"steps": steps, "files": files, "stored": stored}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_REPORT_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--paths", type=int, default=2000)
    parser.add_argument("--reuse", action="store_true", help="keep the database and its data if it has some")
    parser.add_argument("--out", default="", help="write the year's Word, PDF and Excel files here")
    parser.add_argument("--no-rollup", action="store_true", help="no monthly roll-up: every period from the day rows")
    args = parser.parse_args()
    if not args.reuse:
        fresh_database(args.database_url)
    with tempfile.TemporaryDirectory(prefix="kokasen-bench-report-") as tmp:
        django_on(args.database_url, tmp)
        from django.utils import timezone

        from kokasen.analytics import report
        from kokasen.analytics.models import PageDay

        yesterday = timezone.localdate() - timedelta(days=1)
        year = (yesterday - timedelta(days=args.days - 1), yesterday)
        if not PageDay.objects.exists():
            generate(end=yesterday, days=args.days, paths=args.paths, rollup=not args.no_rollup)
            print(f"meetings: {MEETINGS}, campaign rows {meetings(*year):,}")
        month = report.previous_month(timezone.localdate())
        for label, period in (("last full month", month), ("the whole year", year)):
            runs = [timed(*period) for _ in range(args.runs)]
            steps = {k: statistics.median(r["steps"][k] for r in runs) for k in runs[0]["steps"]}
            files = runs[-1]["files"]
            pages = files["pdf"].count(b"/Type /Page") - files["pdf"].count(b"/Type /Pages")
            print(
                f"report, {label} ({period[0]}〜{period[1]}), median of {args.runs}: "
                f"total {steps['total']:.2f} s (tables {steps['tables']:.2f}, Word {steps['docx']:.2f}, "
                f"PDF {steps['pdf']:.2f}, Excel {steps['xlsx']:.2f}); generate() and store {steps['generate']:.2f} s; "
                f"Word {len(files['docx']) / 1024:,.0f} KB, PDF {len(files['pdf']) / 1024:,.0f} KB ({pages} pages), "
                f"Excel {len(files['xlsx']) / 1024:,.0f} KB"
            )
            if args.out and label == "the whole year":
                folder = Path(args.out)
                folder.mkdir(parents=True, exist_ok=True)
                stored = runs[-1]["stored"]
                for fmt in report.FORMATS:
                    (folder / f"analytics-report-year.{fmt}").write_bytes(bytes(getattr(stored, fmt)))
                print(f"  files in {folder}")


if __name__ == "__main__":
    main()
