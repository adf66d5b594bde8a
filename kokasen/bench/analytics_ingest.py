"""Access-analytics ingestion benchmark: `make bench` (or python -m kokasen.bench.analytics_ingest
[--lines N]).

Generates municipal traffic (kokasen/testing/traffic.py, the benign month scaled to about
``--lines`` lines, its crawlers included) as nginx's JSON access log and the same requests in the
combined format, then, side by side in one run on this machine:

1. GoAccess (Debian's ``goaccess``, 1.7) on the combined file, crawlers ignored, JSON report;
2. ``ingest_access_logs``' work (kokasen/analytics/ingest.py: parse, classify, the bot filter,
   the daily counts written to a throw-away SQLite database) on the JSON file and on the
   combined file, in two worker processes and in one;
3. the same file given again (nothing new to read).

Each tool runs in a process of its own, so that its peak memory (the largest resident size of
the process and of each of its workers) is its own, not the generator's. Prints lines per
second of wall time and of CPU time (the machine may be shared: CPU time is the steadier figure;
GoAccess is single-threaded), and the peak memory. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from kokasen.bench.scratch import setup_django

_measured: dict = {}


def _measured_read(item):
    """ingest._read, and each worker notes its peak memory (VmHWM) after each span."""
    result = _measured["read"](item)
    (_measured["peaks"] / str(os.getpid())).write_text(str(_peak_mb()))
    return result


def _child(args) -> None:
    """In a process of its own: one ingestion, its figures as JSON on stdout."""
    import django

    django.setup()
    from django.apps import apps

    from kokasen.analytics import ingest
    from kokasen.core.models import AccessLogPosition

    peaks = Path(args.child).parent / "peaks"
    peaks.mkdir(exist_ok=True)
    _measured["read"], _measured["peaks"] = ingest._read, peaks
    ingest._read = _measured_read
    for model in apps.get_app_config("analytics").get_models():
        model.objects.all().delete()
    AccessLogPosition.objects.filter(consumer=ingest.CONSUMER).delete()
    path = Path(args.child)
    started, cpu = time.monotonic(), time.process_time()
    report = ingest.ingest([path], processes=args.processes)
    first = time.monotonic() - started
    cpu = time.process_time() - cpu
    workers = resource.getrusage(resource.RUSAGE_CHILDREN)  # the pool's processes, ended and waited for
    started = time.monotonic()
    again = ingest.ingest([path], processes=args.processes)
    print(
        json.dumps(
            {
                "seconds": first,
                "parent_cpu": cpu,
                "cpu": cpu + workers.ru_utime + workers.ru_stime,
                "lines": report.lines,
                "bad_lines": report.bad_lines,
                "bot_requests": report.bot_requests,
                "page_views": report.page_views,
                "downloads": report.downloads,
                "again_seconds": time.monotonic() - started,
                "again_lines": again.lines,
                "peak_mb": _peak_mb(),
                "workers_peak_mb": max(
                    [float(p.read_text()) for p in peaks.iterdir() if p.name != str(os.getpid())], default=0
                ),
            }
        )
    )


def _peak_mb(pid: int | str = "self") -> float:
    """The peak resident memory of a process (VmHWM: unlike ru_maxrss, not inherited across
    fork and exec from the large benchmark process)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _goaccess(log: Path, workdir: Path) -> dict | None:
    binary = shutil.which("goaccess")
    if binary is None:
        return None
    version = subprocess.run([binary, "--version"], capture_output=True, text=True).stdout.splitlines()[0]
    output = workdir / "goaccess.json"
    command = [
        binary,
        str(log),
        "--log-format=COMBINED",
        "--ignore-crawlers",
        "--no-progress",
        "--no-global-config",
        f"--output={output}",
    ]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = 0.0
    while process.poll() is None:  # its peak memory, read while it runs
        peak = max(peak, _peak_mb(process.pid))
        time.sleep(0.02)
    seconds = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if process.returncode != 0:
        print(f"goaccess failed ({process.returncode}): {process.stderr.read().decode()[:300]}")
        return None
    report = json.loads(output.read_text(encoding="utf-8"))
    general = report.get("general", {})
    return {
        "version": version,
        "seconds": seconds,
        "cpu": (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime),
        "peak_mb": peak,
        "total": general.get("total_requests"),
        "valid": general.get("valid_requests"),
        "failed": general.get("failed_requests"),
        "command": " ".join(command[:1] + ["FILE"] + command[2:]),
    }


def _ingest(path: Path, processes: int) -> dict:
    done = subprocess.run(
        [sys.executable, "-m", "kokasen.bench.analytics_ingest", "--child", str(path), "--processes", str(processes)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise SystemExit(done.stderr)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lines", type=int, default=1_000_000, help="about this many access-log lines")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--processes", type=int, default=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _child(args)
        return
    with tempfile.TemporaryDirectory(prefix="kokasen-bench-analytics-") as tmp:
        workdir = Path(tmp)
        started = time.monotonic()
        setup_django(workdir)
        print(f"database migrated in {time.monotonic() - started:.1f} s", flush=True)
        from kokasen.testing import traffic

        started = time.monotonic()
        month = traffic.municipal_month(
            start=date(2026, 11, 2), sessions_per_working_day=max(20, 290 * args.lines // 110_000)
        )
        lines = month.json_lines()
        del month
        access = workdir / "access.json"
        access.write_text("\n".join(lines) + "\n", encoding="utf-8")
        combined = workdir / "access.log"
        combined.write_text("\n".join(traffic.as_combined(lines)) + "\n", encoding="utf-8")
        count = len(lines)
        del lines
        print(
            f"generated {count:,} lines: {access.stat().st_size / 1e6:.0f} MB JSON, "
            f"{combined.stat().st_size / 1e6:.0f} MB combined, in {time.monotonic() - started:.1f} s"
        )

        def show(title, seconds, cpu, peak, extra=""):
            print(
                f"{title:<46} {count / seconds:>9,.0f} lines/s  {seconds:6.2f} s  "
                f"CPU {cpu:6.2f} s ({count / cpu:>9,.0f} lines/CPU-s)  peak {peak:4.0f} MB  {extra}"
            )

        goaccess = _goaccess(combined, workdir)
        if goaccess is None:
            print("GoAccess: not installed (apt-get install goaccess)")
        else:
            show(
                f"GoAccess {goaccess['version'].split()[-1].rstrip('.')} (combined, --ignore-crawlers)",
                goaccess["seconds"],
                goaccess["cpu"],
                goaccess["peak_mb"],
                f"{goaccess['valid']:,} valid requests",
            )
            print(f"  command: {goaccess['command']}")
        results = {}
        for title, path, processes in (
            ("ingest, JSON, 2 processes, bot filter on", access, 2),
            ("ingest, combined, 2 processes, bot filter on", combined, 2),
            ("ingest, JSON, 1 process, bot filter on", access, 1),
        ):
            result = results[title] = _ingest(path, processes)
            show(
                title,
                result["seconds"],
                result["cpu"],
                max(result["peak_mb"], result["workers_peak_mb"]),
                f"(parent {result['peak_mb']:.0f} MB, largest worker {result['workers_peak_mb']:.0f} MB)",
            )
            print(
                f"  {result['lines']:,} lines, {result['bad_lines']:,} bad, {result['bot_requests']:,} bot requests, "
                f"{result['page_views']:,} page views, {result['downloads']:,} downloads; "
                f"the same file again: {result['again_seconds']:.3f} s, {result['again_lines']} lines"
            )
        if goaccess is not None:
            for name in ("JSON", "combined"):
                result = results[f"ingest, {name}, 2 processes, bot filter on"]
                print(
                    f"against GoAccess, {name}, 2 processes: {goaccess['seconds'] / result['seconds']:.1f}x the speed "
                    f"in wall time, {goaccess['cpu'] / result['cpu']:.1f}x less CPU time"
                )
        print(f"load average at the end: {' '.join(f'{x:.1f}' for x in os.getloadavg())} (2 cores)")


if __name__ == "__main__":
    main()
