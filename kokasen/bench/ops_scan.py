"""ops_scan benchmark: `make bench` (or python -m kokasen.bench.ops_scan [--lines N]).

Generates municipal traffic (kokasen/testing/traffic.py: the shape of the benign month of the
tests, scaled up to about ``--lines`` lines of nginx's JSON access log), then measures on a
throw-away SQLite database:

1. the shared reader alone (core/access_log.py: read, split, parse), plain and gzipped;
2. the reader with the log rules (detection.LogRules: every window, judged at the end);
3. a whole ``ops_scan`` run (positions and the run in the database, the month's login audit
   events through the audit rules, the alerts: none for this traffic).

Prints lines per second of wall time and per second of this process's CPU time (the machine
may be shared: CPU time is the steadier figure), and the peak memory of the process. Nothing is
asserted.
"""

import argparse
import gzip
import resource
import shutil
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

from kokasen.bench.scratch import setup_django


class Timer:
    def __enter__(self):
        self.wall, self.cpu = time.monotonic(), time.process_time()
        return self

    def __exit__(self, *exc):
        self.wall, self.cpu = time.monotonic() - self.wall, time.process_time() - self.cpu

    def rates(self, lines: int) -> str:
        return (
            f"{lines / self.wall:>10,.0f} lines/s, {lines / self.cpu:>10,.0f} lines/CPU-s  "
            f"({self.wall:.2f} s, CPU {self.cpu:.2f} s"
        )


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lines", type=int, default=1_000_000, help="about this many access-log lines")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="kokasen-bench-ops-") as tmp:
        workdir = Path(tmp)
        started = time.monotonic()
        setup_django(workdir)
        print(f"database migrated in {time.monotonic() - started:.1f} s")

        from django.conf import settings
        from django.utils import timezone

        from kokasen.core.access_log import LogReader, MemoryStore
        from kokasen.core.client_address import throttle_key
        from kokasen.ops import scan
        from kokasen.ops.detection import LogRules
        from kokasen.ops.models import Alert
        from kokasen.testing import traffic

        started = time.monotonic()
        start = date(2026, 11, 2)
        month = traffic.municipal_month(start=start, sessions_per_working_day=max(20, 290 * args.lines // 110_000))
        logs = workdir / "logs"
        access, _ = traffic.write_logs(month, logs)
        size = access.stat().st_size
        lines = len(month.lines)
        print(
            f"generated {lines:,} lines ({size / 1e6:.0f} MB) and {len(month.audit):,} audit events "
            f"in {time.monotonic() - started:.1f} s"
        )
        now = datetime.combine(start + timedelta(days=31), datetime.min.time(), traffic.JST)

        def read(path):
            reader = LogReader(path, consumer="bench", store=MemoryStore(), now=now)
            count = 0
            for chunk in reader.read():
                count += chunk.lines
            return count

        with Timer() as timer:
            assert read(access) == lines
        print(f"reader alone (plain):     {timer.rates(lines)})")

        compressed = workdir / "gz" / "access.json-20261201-00.gz"
        compressed.parent.mkdir()
        with open(access, "rb") as source, gzip.open(compressed, "wb", compresslevel=6) as target:
            shutil.copyfileobj(source, target)
        with Timer() as timer:
            assert read(compressed.parent / "access.json") == lines
        print(f"reader alone (gzip):      {timer.rates(lines)}, {compressed.stat().st_size / 1e6:.0f} MB compressed)")

        from kokasen.ops.detection import Thresholds

        with Timer() as timer:
            rules = LogRules(Thresholds.from_settings(settings.OPS_THRESHOLDS), now=now, fold=throttle_key)
            reader = LogReader(access, consumer="bench-rules", store=MemoryStore(), now=now)
            for chunk in reader.read():
                rules.feed(chunk.records)
            found = rules.findings()
        print(f"reader + log rules:       {timer.rates(lines)}, {len(found)} findings)")

        live = workdir / "live" / "access.json"  # the scan's own copy: its first run sees it empty
        live.parent.mkdir()
        live.touch()
        settings.OPS_ACCESS_LOGS = [str(live)]
        scan.ops_scan(now=datetime.combine(start, datetime.min.time(), traffic.JST) - timedelta(minutes=5))
        shutil.copyfile(access, live)
        traffic.insert_audit(month.audit)
        with Timer() as timer:
            report = scan.ops_scan(now=now)
        print(
            f"whole ops_scan run:       {timer.rates(report.lines)}, {report.audit_events:,} audit events, "
            f"{len(report.findings)} findings, {Alert.objects.count()} alerts)"
        )
        started = time.monotonic()
        again = scan.ops_scan(now=now + timedelta(minutes=5))
        print(f"next run, nothing new:    {time.monotonic() - started:.3f} s ({again.lines} lines)")
        print(f"peak memory: {peak_mb():.0f} MB (generator and its million lines in memory included)")
        print(f"finished at {timezone.localtime():%Y-%m-%d %H:%M}")


if __name__ == "__main__":
    main()
