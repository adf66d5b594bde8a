"""Topic page benchmark: `make bench` (or python -m kokasen.bench.tips_board).

Builds a throw-away SQLite site (production settings, DEBUG off, demo content so the header
has its menus), a topic with 1,000 approved posts and one with 10, and a member's session.
Then prints, for the topic page as that member sees it:

1. in-process (Django test client): server time per request, median and 95th percentile,
   and SQL queries per request for the first and the last page of both topics (the query
   count must not depend on the number of posts);
2. under load: gunicorn (3 sync workers, persistent DB connections) on 127.0.0.1 driven by
   wrk for a bounded time (requests/s, latency percentiles). Without wrk, a simple Python
   load generator is used instead and says so.

Nothing is asserted: the figures are for people to read (docs/decisions/0011).
"""

import argparse
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from kokasen.bench import scratch

POSTS = 1000
# A Redis database of the benchmark's own (emptied first); KOKASEN_BENCH_REDIS_DB picks another.
BENCH_REDIS_DB = int(os.environ.get("KOKASEN_BENCH_REDIS_DB", "15"))
BENCH_REDIS = f"redis://127.0.0.1:6379/{BENCH_REDIS_DB}"


def cache_description() -> str:
    if os.environ.get("REDIS_URL"):
        return f"Redis {BENCH_REDIS}"
    return "local memory per process (Redis not running)"


def redis_running() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5) as conn:
            conn.sendall(f"SELECT {BENCH_REDIS_DB}\r\nFLUSHDB\r\n".encode())
            return conn.recv(64).startswith(b"+OK")
    except OSError:
        return False


def setup_django(workdir: Path, database_url: str | None = None):
    """Production settings on a throw-away SQLite database in ``workdir``, or on ``database_url``
    (an empty PostgreSQL database, as in production), migrated, with the demo site."""
    os.environ.setdefault("SECRET_KEY", "bench-only-insecure-key")
    environment = {
        "ALLOWED_HOSTS": "127.0.0.1,testserver",
        "SECURE_SSL_REDIRECT": "false",
        "DATABASE_CONN_MAX_AGE": "600",
        "STATIC_ROOT": str(workdir / "static"),
    }
    # Production shares sessions and caches through Redis; use it when it runs here (a
    # database of its own, emptied first), else every worker has its own memory cache.
    if redis_running():
        environment["REDIS_URL"] = BENCH_REDIS
    if database_url:
        environment["DATABASE_URL"] = database_url
    scratch.setup_django(workdir, "kokasen.settings.base", **environment)
    from kokasen.demo.loader import DemoLoader

    DemoLoader(log=lambda *a: None).run()


def make_data():
    from datetime import timedelta

    from django.utils import timezone

    from kokasen.localgov.models import LocalGovernment
    from kokasen.testing import CODE_A, CODE_B, make_member
    from kokasen.tips.models import ModerationMode, Post, PostState, Topic

    member = make_member(CODE_A)  # reads the page; has a few posts of its own waiting
    author = make_member(CODE_B)  # wrote the approved posts (on behalf of many local governments)
    governments = list(LocalGovernment.objects.order_by("code")[:300])
    now = timezone.now()
    topics = {}
    for count in (POSTS, 10):
        topic = Topic.objects.create(title=f"ベンチマーク用のお題（{count}件）", opens_at=now - timedelta(days=30))
        Post.objects.bulk_create(
            Post(
                topic=topic,
                author=author,
                local_government=governments[i % len(governments)],
                body=f"投稿{i}：初回訪問では、こどもの成長を一緒に見守る係だと伝えています。" * 3,
                contact_email=f"tips{i}@city.example.lg.jp" if i % 2 else "",
                department="子育て支援課" if i % 3 else "",
                state=PostState.APPROVED,
                initial_state=PostState.PENDING,
                mode_at_submission=ModerationMode.PRE,
                submitted_at=now - timedelta(minutes=i),
                decided_at=now - timedelta(minutes=i - 1),
            )
            for i in range(count)
        )
        for i in range(3):
            Post.objects.create(
                topic=topic,
                author=member,
                local_government=member.local_government,
                body=f"承認待ちの自分の投稿{i}",
                state=PostState.PENDING,
                initial_state=PostState.PENDING,
                mode_at_submission=ModerationMode.PRE,
            )
        topics[count] = topic
    return member, topics


def session_cookie(member) -> tuple[str, str]:
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(member)
    return settings.SESSION_COOKIE_NAME, client.cookies[settings.SESSION_COOKIE_NAME].value


def in_process(member, topics, rounds: int):
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from kokasen.tips.views import PER_PAGE

    client = Client()
    client.force_login(member)
    print(f"in-process, {rounds} requests each (Django test client, DEBUG off):")
    print(f"  {'page':<34} {'median ms':>9} {'p95 ms':>7} {'queries':>7} {'bytes':>7}")
    pages = [("baseline: base.html, no posts", "/members/feedback/thanks/")]
    for count, topic in topics.items():
        last = max(1, -(-count // PER_PAGE))
        pages += [(f"{count} posts, page {p}/{last}", f"/members/tips/{topic.pk}/?page={p}") for p in sorted({1, last})]
    for label, url in pages:
        client.get(url)  # warm
        times = []
        for _ in range(rounds):
            start = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, response.status_code
        with CaptureQueriesContext(connection) as queries:
            client.get(url)
        times.sort()
        p95 = times[int(len(times) * 0.95) - 1]
        print(f"  {label:<34} {statistics.median(times):9.2f} {p95:7.2f} {len(queries):7d} {len(response.content):7d}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def python_load(url: str, cookie: str, seconds: float, concurrency: int):
    latencies, lock, stop = [], threading.Lock(), time.monotonic() + seconds

    def worker():
        mine = []
        while time.monotonic() < stop:
            request = urllib.request.Request(url, headers={"Cookie": cookie})
            start = time.perf_counter()
            with urllib.request.urlopen(request) as response:
                response.read()
            mine.append((time.perf_counter() - start) * 1000)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    latencies.sort()
    n = len(latencies)
    print(
        f"  python load generator (wrk not installed): {n / seconds:.0f} requests/s, "
        f"p50 {latencies[n // 2]:.1f} ms, p99 {latencies[int(n * 0.99) - 1]:.1f} ms"
    )


def under_load(
    workdir: Path,
    path: str,
    cookie: tuple[str, str],
    seconds: int,
    workers: int,
    connections: int,
    app: str = "kokasen.wsgi",
    label: str = f"topic with {POSTS} posts, page 1",
):
    """gunicorn on ``workdir``'s site, ``path`` requested with the session ``cookie`` by wrk."""
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    gunicorn = Path(sys.executable).with_name("gunicorn")
    server = subprocess.Popen(
        [str(gunicorn), app, "-w", str(workers), "-b", f"127.0.0.1:{port}", "--log-level", "warning"],
        env=env,
        cwd=workdir,
    )
    url = f"http://127.0.0.1:{port}{path}"
    header = f"{cookie[0]}={cookie[1]}"
    try:
        for _ in range(100):
            try:
                request = urllib.request.Request(url, headers={"Cookie": header})
                with urllib.request.urlopen(request, timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                time.sleep(0.1)
        else:
            raise SystemExit("gunicorn did not answer")
        for _ in range(200):  # every worker opens its DB connection and warms its templates
            with urllib.request.urlopen(urllib.request.Request(url, headers={"Cookie": header})) as response:
                response.read()
        print(
            f"under load ({app}): gunicorn {workers} sync workers on 127.0.0.1, {seconds} s, "
            f"{connections} connections, {label}:"
        )
        wrk = shutil.which("wrk")
        if wrk:
            result = subprocess.run(
                [wrk, "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-H", f"Cookie: {header}", url],
                capture_output=True,
                text=True,
                check=True,
            )
            out = result.stdout
            rps = re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)
            lat = dict(re.findall(r"^\s+(50|75|90|99)%\s+(\S+)", out, re.M))
            errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
            print(
                f"  wrk: {float(rps):.0f} requests/s, p50 {lat['50']}, p90 {lat['90']}, p99 {lat['99']}, "
                f"non-2xx {errors.group(1) if errors else 0}"
            )
        else:
            python_load(url, header, seconds, connections)
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:  # workers still busy with queued requests
            server.kill()
            server.wait()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=200, help="in-process requests per page")
    parser.add_argument("--seconds", type=int, default=10, help="duration of the load test")
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--connections", type=int, default=12)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="kokasen-tips-bench-") as tmp:
        workdir = Path(tmp)
        started = time.perf_counter()
        setup_django(workdir)
        member, topics = make_data()
        cookie = session_cookie(member)
        print(f"setup: {time.perf_counter() - started:.1f} s (migrate, demo site, {POSTS} + 10 approved posts)")
        print(f"cache and sessions: {cache_description()}")
        in_process(member, topics, args.rounds)
        from django.db import connections

        connections.close_all()
        under_load(workdir, f"/members/tips/{topics[POSTS].pk}/", cookie, args.seconds, args.workers, args.connections)


if __name__ == "__main__":
    main()
