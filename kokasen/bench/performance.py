"""Issue 19 side by side: `make bench-performance` (or python -m kokasen.bench.performance).

One run prints one table of requests/s, p50 and p99 (wrk, 50 connections, a fixed duration after
a warm-up of the same kind) and SQL queries per request (in-process, CaptureQueriesContext) for:

- ``hello``: a bare Django view (kokasen/bench/hello.py) under the portal's gunicorn command line;
- ``tips``: the 小ネタ topic page with 1,000 posts, as a member (gunicorn directly, as nginx
  would pass it: Host and X-Forwarded-Proto set);
- ``members``: the members' home /members/, as a member (the same);
- ``public``: the public home / anonymously, through nginx with deploy/nginx/portal.conf (HTTPS),
  whatever that configuration does for anonymous visitors (today: passes them to the app); the
  "served by" column says whether the app answered (nginx's access.json upstream time);
- ``static``: nginx serving the static export (deploy/nginx/static-export.conf, HTTPS).

then the full export against Hugo on the same corpus (kokasen.bench.export), the time from
publishing a page to its files (the live public page's, decision 0061; the published static
site's, through the long-lived worker, decision 0062), and memory: peak RSS, RSS, PSS and USS (/proc/<pid>/status and smaps_rollup) of a gunicorn worker
after the traffic, of a bare Django hello worker, of the export process (peak RSS, wait4), and
which heavy libraries a fresh worker has imported after serving the pages.

Setup (printed): PostgreSQL database kokasen_bench on 127.0.0.1:5432 (created, dropped at the
end), Redis db 13 on 127.0.0.1:6379 (flushed before and after), the production settings
(DEBUG off) with an environment file written here, gunicorn with kokasen-web.service's
ExecStart (3 sync workers; no gunicorn.conf.py exists), nginx with deploy/nginx/ rendered for
loopback as the nginx tests do (kokasen/core/tests/nginx_loopback.py) on high ports, with a
throw-away certificate. One thing differs from a server: the per-address limits of
kokasen-http.conf are keyed on an empty value here (nginx then counts nothing), because a
benchmark from one address is exactly what those limits exist to refuse.

The machine's load (uptime) and core count are printed before and after. Nothing is asserted:
the figures are for people to read (docs/operations.md, "Performance side by side").
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from kokasen.core.tests.nginx_loopback import (
    NGINX_DIR,
    debian_main_conf,
    nginx_binary,
    write_http_conf,
    write_sites,
)
from kokasen.testing.stack import certificate_authority, gunicorn_command

ROOT = Path(__file__).resolve().parents[2]
DATABASE = "kokasen_bench"
PG = "postgres://root@127.0.0.1:5432"
REDIS_DB = 13
HOST = "localhost"
EXPORT_HOST = "export.localhost"
HEAVY = ("openpyxl", "docx", "reportlab", "budoux", "PIL", "lxml", "ninja", "pydantic", "rest_framework")
MIB = 1024 * 1024


# --- the machine ---------------------------------------------------------------------------------


def uptime() -> str:
    # In UTC: django.setup() sets TZ to the project's time zone in this process's environment.
    done = subprocess.run(["uptime"], capture_output=True, text=True, env={**os.environ, "TZ": "UTC"})
    return done.stdout.strip()


def redis_flush() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1) as conn:
            conn.sendall(f"SELECT {REDIS_DB}\r\nFLUSHDB\r\n".encode())
            return conn.recv(64).startswith(b"+OK")
    except OSError:
        return False


def postgres(statement: str) -> None:
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True, connect_timeout=5) as connection:
        connection.execute(statement)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- memory of a process ------------------------------------------------------------------------


def memory(pid: int) -> dict[str, float]:
    """MiB: peak RSS (VmHWM), RSS, PSS and USS (private clean + dirty) of a running process."""
    values: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name in ("VmHWM", "VmRSS"):
            values[{"VmHWM": "peak", "VmRSS": "rss"}[name]] = int(rest.split()[0]) / 1024
    rollup = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        name, _, rest = line.partition(":")
        rollup[name] = int(rest.split()[0]) / 1024
    values["pss"] = rollup.get("Pss", 0.0)
    values["uss"] = rollup.get("Private_Clean", 0.0) + rollup.get("Private_Dirty", 0.0)
    return values


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rpartition(")")[2].split()[1]) == pid:
                found.append(int(entry.name))
    return sorted(found)


def show_memory(label: str, values: dict[str, float]) -> str:
    return (
        f"  {label:<44} peak RSS {values['peak']:6.1f}  RSS {values['rss']:6.1f}  "
        f"PSS {values.get('pss', float('nan')):6.1f}  USS {values.get('uss', float('nan')):6.1f} MiB"
    )


# --- wrk ------------------------------------------------------------------------------------------------


@dataclass
class Row:
    name: str
    what: str
    rps: float | None = None
    p50: str = "-"
    p99: str = "-"
    bad: str = ""
    queries: str = "-"
    cpu: str = "-"
    note: str = ""
    extra: dict = field(default_factory=dict)


def wrk(url: str, seconds: int, connections: int, headers: dict[str, str]) -> dict:
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "5s", "--latency"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    done = subprocess.run([*command, url], capture_output=True, text=True, timeout=seconds + 60)
    out = done.stdout
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    requests = re.search(r"(\d+) requests in", out)
    latency = dict(re.findall(r"^\s+(50|75|90|99)%\s+(\S+)", out, re.M))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    bad = []
    if non2xx:
        bad.append(f"non-2xx {non2xx[1]}")
    if errors and errors[4] != "0":
        bad.append(f"timeouts {errors[4]}")
    return {
        "rps": float(rps[1]) if rps else None,
        "requests": int(requests[1]) if requests else 0,
        "p50": latency.get("50", "-"),
        "p99": latency.get("99", "-"),
        "bad": ", ".join(bad),
        "raw": out + done.stderr,
    }


def drained(url: str, headers: dict[str, str]) -> None:
    """Wait for one answer from ``url``: gunicorn still works through the requests that wrk left
    queued when it stopped (closing their connections), and the next run must not wait behind them."""
    http_ok(url, headers, timeout=300)


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of these processes (/proc/<pid>/stat), in seconds."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return total / ticks


def measure(
    row: Row, url: str, args, headers: dict[str, str], drain: tuple | None = None, master: int | None = None
) -> Row:
    wrk(url, args.warmup, args.connections, headers)  # warm: every worker's connections, templates, caches
    if drain:
        drained(*drain)
    workers = children(master) if master else []
    before = cpu_seconds(workers)
    result = wrk(url, args.seconds, args.connections, headers)
    spent = cpu_seconds(workers) - before
    if drain:
        drained(*drain)
    if workers and result["requests"]:
        row.cpu = f"{1000 * spent / result['requests']:.2f}"
    if not result["rps"]:
        row.note = "wrk: " + " ".join(result["raw"].split())[-300:]
        return row
    row.rps, row.p50, row.p99, row.bad = result["rps"], result["p50"], result["p99"], result["bad"]
    return row


# --- the bench site ---------------------------------------------------------------------------------


class Site:
    """The throw-away site: database, environment file, Django in this process, content, static
    files and an export, nginx, and the gunicorn masters it starts (stopped by ``close``)."""

    def __init__(self, folder: Path, args):
        self.folder, self.args = folder, args
        self.srv = folder / "srv"
        self.processes: list[subprocess.Popen] = []
        self.database_created = False
        self.ports = {"http": free_port(), "https": free_port(), "export": free_port()}

    # -- setup

    def env_file(self) -> Path:
        (self.srv / "media").mkdir(parents=True, exist_ok=True)
        secret = self.folder / "secret_key"
        secret.write_text(secrets.token_urlsafe(50), encoding="ascii")
        secret.chmod(0o600)
        backup = self.folder / "backup-last-success.json"
        backup.write_text(json.dumps({"finished_at": "2026-01-01T00:00:00+00:00", "snapshot_id": "bench"}))
        origin = f"https://{HOST}:{self.ports['https']}"
        values = {
            "SECRET_KEY_FILE": secret,
            "ALLOWED_HOSTS": f"{HOST},{EXPORT_HOST}",
            "DATABASE_URL": f"{PG}/{DATABASE}",
            "REDIS_URL": f"redis://127.0.0.1:6379/{REDIS_DB}",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": free_port(),  # nothing listens: nothing is sent
            "EMAIL_USE_TLS": "true",
            "DEFAULT_FROM_EMAIL": f"kokasen@{HOST}",
            "PORTAL_BASE_URL": origin,
            "CSRF_TRUSTED_ORIGINS": origin,
            "WAGTAILADMIN_BASE_URL": origin,
            "STATIC_ROOT": self.srv / "static",
            "MEDIA_ROOT": self.srv / "media",
            "PROTECTED_FILES_X_ACCEL_PREFIX": "/protected-media",
            "OPS_BACKUP_STATUS_FILE": backup,
            "LOG_LEVEL": "WARNING",
            # Decision 0061: the public pages' files nginx sends to anonymous visitors (/srv/kokasen/
            # is srv/ in the rendered nginx configuration).
            "PUBLISHED_PAGES_ROOT": self.srv / "public-pages",
            # Decision 0062: the published static site, updated by the worker on each publish.
            "STATIC_EXPORT_PUBLISH_DIR": self.folder / "published",
        }
        if self.args.conn_max_age is not None:
            values["DATABASE_CONN_MAX_AGE"] = self.args.conn_max_age
        path = self.folder / "kokasen.env"
        path.write_text("".join(f"{k}={v}\n" for k, v in values.items()), encoding="utf-8")
        path.chmod(0o600)
        return path

    def process_env(self) -> dict[str, str]:
        """What the systemd unit's process gets: the environment file, nothing of this shell."""
        return {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LANG": "C.UTF-8",
            "HOME": str(self.folder),
            "KOKASEN_ENV_FILE": str(self.env_path),
        }

    def setup(self) -> None:
        started = time.monotonic()
        timings = {}
        postgres(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        postgres(f'CREATE DATABASE "{DATABASE}"')
        self.database_created = True
        self.redis = redis_flush()
        self.env_path = self.env_file()
        for name in list(os.environ):
            if name in ("DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE", "SECRET_KEY"):
                del os.environ[name]
        os.environ["KOKASEN_ENV_FILE"] = str(self.env_path)
        os.environ["DJANGO_SETTINGS_MODULE"] = "kokasen.settings.production"
        import django

        django.setup()
        from django.core.management import call_command

        def step(name, work):
            begun = time.monotonic()
            work()
            timings[name] = time.monotonic() - begun

        step("migrate", lambda: call_command("migrate", verbosity=0))
        step("content", self.content)
        step("collectstatic", lambda: call_command("collectstatic", interactive=False, link=True, verbosity=0))
        if self.args.only is None:  # publish → file and the dynamic rows need no full export
            step("export", self.export)
        if self.args.only != "publish":  # publish → file needs no nginx
            step("nginx", self.start_nginx)
        print(
            f"setup {time.monotonic() - started:.0f} s: "
            + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in timings.items())
        )

    def content(self) -> None:
        from django.conf import settings
        from django.core.management import call_command
        from django.test import Client, override_settings

        from kokasen.bench import export as export_bench
        from kokasen.bench.tips_board import make_data

        assert settings.KOKASEN_PRODUCTION and not settings.DEBUG
        # The demo site plus generated articles and news (the export benchmark's corpus), then
        # every public page's file at once, as the installer does after a deploy (one file per
        # publish while generating would only slow the setup down).
        with override_settings(PUBLISHED_PAGES_ROOT=None, STATIC_EXPORT_PUBLISH_DIR=None):
            export_bench.generate(self.args.articles, self.args.news)
        call_command("write_published_pages", verbosity=0)
        self.member, topics = make_data()
        self.topic = topics[1000]
        client = Client(HTTP_HOST=HOST)
        client.force_login(self.member)
        client.get("/members/", secure=True)  # a browser keeps the CSRF cookie of its first page and sends it back
        self.cookie = "; ".join(
            f"{name}={client.cookies[name].value}" for name in (settings.SESSION_COOKIE_NAME, settings.CSRF_COOKIE_NAME)
        )
        from django.db import connections

        connections.close_all()

    def export(self) -> None:
        """The full static export in a process of its own (deploy/bin/kokasen-manage's path:
        production settings, the environment file), its peak RSS taken by wait4."""
        from django.conf import settings

        out = self.folder / "export"
        started = time.monotonic()
        process = subprocess.Popen(
            [sys.executable, "manage.py", "export_static_site", "--out", str(out)],
            cwd=ROOT,
            env={**self.process_env(), "DJANGO_SETTINGS_MODULE": "kokasen.settings.production"},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        error = process.stderr.read().decode(errors="replace")
        process.stderr.close()
        if process.returncode != 0:
            raise SystemExit(f"export_static_site failed:\n{error[-3000:]}")
        pages = sum(1 for _ in out.rglob("*.html"))
        self.export_figures = {
            "seconds": time.monotonic() - started,
            "pages": pages,
            "peak": usage.ru_maxrss / 1024,  # KiB on Linux; the largest process of its tree
            "jobs": settings.STATIC_EXPORT_JOBS,  # the command's default
        }

    def start_nginx(self) -> None:
        folder = self.folder / "nginx"
        tls = certificate_authority(folder / "tls", [HOST, EXPORT_HOST], ocsp_port=free_port())
        shutil.copytree(NGINX_DIR / "errors", self.srv / "errors", dirs_exist_ok=True)
        # One client address is what the per-address limits refuse: key them on a variable that
        # is always empty (nginx counts no request with an empty key).
        http_conf = write_http_conf(
            folder,
            replacements=[
                ("limit_req_zone $binary_remote_addr ", "limit_req_zone $kokasen_bench_unlimited "),
                ("limit_conn_zone $binary_remote_addr ", "limit_conn_zone $kokasen_bench_unlimited "),
            ],
        )
        with open(http_conf, "a", encoding="utf-8") as conf:
            conf.write('\n# kokasen.bench.performance: no per-address limits\nmap $host $kokasen_bench_unlimited {\n'
                       '    default "";\n}\n')  # fmt: skip
        self.gunicorn_port = free_port()
        sites = write_sites(
            folder,
            ports=self.ports,
            cert=tls["cert"],
            key=tls["key"],
            chain=tls["ca"],
            app_port=self.gunicorn_port,
            srv=self.srv,
            export_root=self.folder / "export",
            export_host=EXPORT_HOST,
            host=HOST,
        )
        conf = debian_main_conf(folder, [http_conf, *sites], worker_connections=4096)
        self.nginx_logs = folder / "logs"
        command = [nginx_binary(), "-c", str(conf), "-e", str(self.nginx_logs / "main-error.log"), "-g", "daemon off;"]
        tested = subprocess.run([*command, "-t"], capture_output=True, text=True, timeout=60)
        if tested.returncode != 0:
            raise SystemExit(f"nginx -t refused the configuration:\n{tested.stderr}")
        self.nginx = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.processes.append(self.nginx)
        wait_for(lambda: socket.create_connection(("127.0.0.1", self.ports["export"]), timeout=1).close() is None)

    # -- gunicorn

    def gunicorn(self, app: str | None, port: int) -> subprocess.Popen:
        """kokasen-web.service's ExecStart on ``port`` (with ``app`` in place of kokasen.wsgi)."""
        command = gunicorn_command(port)
        if app:
            command[command.index("kokasen.wsgi")] = app
        elif self.args.preload:
            command.append("--preload")  # an experiment (decision 0063): not the unit's command line
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=self.process_env(),
            stdout=subprocess.DEVNULL,
            stderr=open(self.folder / f"gunicorn-{port}.log", "ab"),  # noqa: SIM115 - closed with the process
            start_new_session=True,
        )
        self.processes.append(process)
        return process

    def stop(self, process: subprocess.Popen) -> None:
        if process.poll() is None:
            process.terminate()  # our own gunicorn master or nginx, by its process id
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=30)

    def server_errors(self) -> None:
        """The end of a gunicorn log that holds errors (a row that failed says why)."""
        for log in sorted(self.folder.glob("gunicorn-*.log")):
            text = log.read_text(errors="replace")
            if re.search(r"Traceback|\[ERROR\]|\[CRITICAL\]", text):
                print(f"  {log.name} has errors; its end:\n" + text[-2500:])

    def close(self) -> None:
        for process in reversed(self.processes):
            self.stop(process)
        if self.database_created:
            from django.db import connections

            connections.close_all()
            postgres(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        redis_flush()


def wait_for(probe, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if probe():
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise SystemExit("a server did not come up in time")
        time.sleep(0.2)


def http_ok(url: str, headers: dict[str, str], timeout: float = 5) -> bool:
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=timeout) as response:
        return response.status == 200


# --- queries per request (in-process) ----------------------------------------------------------


def queries(url: str, member=None) -> str:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST=HOST)
    if member is not None:
        client.force_login(member)
    for _ in range(3):
        response = client.get(url, secure=True)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, secure=True)
    if response.status_code != 200:
        return f"HTTP {response.status_code}"
    return str(len(captured))


# --- one function per row ------------------------------------------------------------------------


def row_hello(site: Site, args) -> Row:
    port = free_port()
    master = site.gunicorn("kokasen.bench.hello:application", port)
    url = f"http://127.0.0.1:{port}/"
    wait_for(lambda: http_ok(url, {}))
    row = measure(Row("hello", "bare Django view, same gunicorn"), url, args, {}, drain=(url, {}), master=master.pid)
    row.queries = "0"
    site.hello_workers = [memory(pid) for pid in children(master.pid)]
    site.stop(master)
    return row


def app_headers(site: Site, cookie: bool) -> dict[str, str]:
    headers = {"Host": HOST, "X-Forwarded-Proto": "https"}  # what nginx passes (portal.conf)
    if cookie:
        headers["Cookie"] = site.cookie
    return headers


def portal_drain(site: Site) -> tuple:
    return f"http://127.0.0.1:{site.gunicorn_port}/healthz", app_headers(site, False)


def start_portal(site: Site) -> None:
    site.portal = site.gunicorn(None, site.gunicorn_port)
    url = f"http://127.0.0.1:{site.gunicorn_port}/healthz"
    wait_for(lambda: http_ok(url, app_headers(site, False)))


def row_tips(site: Site, args) -> Row:
    path = f"/members/tips/{site.topic.pk}/"
    row = Row("tips", f"小ネタ topic, 1,000 posts, member ({path})")
    row.queries = queries(path, site.member)
    url = f"http://127.0.0.1:{site.gunicorn_port}{path}"
    return measure(row, url, args, app_headers(site, True), drain=portal_drain(site), master=site.portal.pid)


def row_members(site: Site, args) -> Row:
    row = Row("members", "members' home /members/, member")
    row.queries = queries("/members/", site.member)
    url = f"http://127.0.0.1:{site.gunicorn_port}/members/"
    return measure(row, url, args, app_headers(site, True), drain=portal_drain(site), master=site.portal.pid)


def app_answered(site: Site, path: str) -> tuple[int, int]:
    """(requests for ``path`` in access.json, of which the app answered) since the last call."""
    os.kill(site.nginx.pid, signal.SIGUSR1)  # nginx writes its buffered access logs
    time.sleep(1)
    log = site.nginx_logs / "access.json"
    total = upstream = 0
    offset = getattr(site, "_json_offset", 0)
    if not log.exists():
        return 0, 0
    with open(log, "rb") as lines:
        lines.seek(offset)
        for line in lines:
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if entry.get("uri") == path:
                total += 1
                upstream += entry.get("upstream_time", "") not in ("", "-")
        site._json_offset = lines.tell()
    return total, upstream


def row_public(site: Site, args) -> Row:
    row = Row("public", "public home /, anonymous, nginx portal.conf (HTTPS)")
    row.queries = queries("/")
    app_answered(site, "/")
    row = measure(
        row, f"https://{HOST}:{site.ports['https']}/", args, {}, drain=portal_drain(site), master=site.portal.pid
    )
    total, upstream = app_answered(site, "/")
    if total and upstream == 0:
        # Files written on publish: the in-process count is what the app would have cost.
        row.note = f"served by nginx alone (no upstream; the app's page: {row.queries} queries)"
        row.queries = "0"
    elif total:
        row.note = "served by the app" if upstream == total else f"the app answered {upstream} of {total}"
    return row


def row_static(site: Site, args) -> Row:
    row = Row("static", "nginx, the static export's index.html (HTTPS)")
    row.queries = "0"
    url = f"https://{HOST}:{site.ports['export']}/"
    return measure(row, url, args, {"Host": EXPORT_HOST}, master=site.nginx.pid)  # CPU: nginx's workers


def print_table(rows: list[Row], args) -> None:
    print(
        f"\nrequests: wrk -t2 -c{args.connections}, {args.warmup} s warm-up then {args.seconds} s; "
        "queries: in-process, one request after three (CaptureQueriesContext); "
        "CPU ms: the serving workers' CPU time per request during the run (/proc/<pid>/stat; "
        "gunicorn's, nginx's for static)"
    )
    print(f"  {'row':<8} {'what':<52} {'req/s':>8} {'p50':>9} {'p99':>9} {'queries':>8} {'CPU ms':>7}  notes")
    for row in rows:
        rps = f"{row.rps:8.0f}" if row.rps is not None else f"{'-':>8}"
        notes = "; ".join(part for part in (row.bad, row.note) if part)
        print(f"  {row.name:<8} {row.what:<52} {rps} {row.p50:>9} {row.p99:>9} {row.queries:>8} {row.cpu:>7}  {notes}")
    floor = next((r.rps for r in rows if r.name == "hello" and r.rps), None)
    static = next((r.rps for r in rows if r.name == "static" and r.rps), None)
    for row in rows:
        if row.rps and row.name in ("tips", "members") and floor:
            print(f"  {row.name}: {100 * row.rps / floor:.1f} % of the hello floor")
        if row.rps and row.name == "public" and static:
            print(f"  public: {static / row.rps:.1f}× below nginx's static figure (aim: within 2×)")


# --- rows wired at merge (other helpers' functions) ------------------------------------------------


def row_export_vs_hugo(site: Site) -> None:
    """The full export in this process (best of 3 after a warm-up, 1 and 2 processes) beside Hugo
    building the same corpus (kokasen.bench.export, decision 0062)."""
    from kokasen.bench.export import measure_export, measure_hugo

    print("\nfull export against Hugo (same corpus, best of 3 after a warm-up):")
    workdir = site.folder / "export-bench"
    ours = measure_export(workdir, (1, 2), 3)
    ours.pop("result")
    hugo = measure_hugo(workdir, 3)
    for n in (1, 2):
        line = f"  kokasen, {n} process(es): {ours['pages']} pages in {ours[f'export_{n}_s']:.2f} s"
        if hugo:
            line += f" = {ours[f'export_{n}_s'] / hugo['hugo_s']:.1f}× Hugo (aim: within 5×)"
        print(line)
    if hugo:
        print(f"  Hugo {hugo['version']}: {hugo['pages']} pages in {hugo['hugo_s']:.2f} s")
    else:
        print("  Hugo: not installed (Debian package hugo, BENCH_APT_PACKAGES)")
    print(
        f"  ZIP of the export: {ours['zip_s']:.2f} s, {ours['zip_bytes'] / MIB:.1f} MiB; peak RSS of this process {ours['peak']['self_mib']:.0f} MiB, of its forked renderers {ours['peak']['children_mib']:.0f} MiB"
    )
    figures = site.export_figures
    print(
        f"  this site's full export (manage.py export_static_site, own process, {figures['jobs']} renderers): {figures['pages']} HTML files "
        f"in {figures['seconds']:.1f} s including Django start-up"
    )


def row_publish_to_file(site: Site) -> None:
    """Publishing a page → its files updated: the public page's file nginx sends to visitors
    (written in the publishing request, decision 0061) and the published static site (the
    long-lived worker's incremental export, decision 0062)."""
    from kokasen.bench.export import measure_republish
    from kokasen.bench.public_files import publish_to_file

    print("\npublish → file updated:")
    live = publish_to_file(20)
    print(
        f"  the live site's public page file (in the publishing request, {live['publishes']} publishes): "
        f"median {live['median_s'] * 1000:.0f} ms, p90 {live['p90_s'] * 1000:.0f} ms, max {live['max_s'] * 1000:.0f} ms"
    )
    export = measure_republish(
        site.folder / "export-bench",
        slug=f"bench-{site.args.articles // 2:04d}",
        repeat=site.args.publishes,
        worker=site.args.worker.split() if site.args.worker else None,
        timeline=print if site.args.only == "publish" else None,
    )
    print(
        f"  the published static site (worker: {export['worker']}): median {export['publish_to_file_median_s']} s, best {export['publish_to_file_s']} s "
        f"of {export['publish_to_file_all_s']} s (load {uptime().split('load average:')[-1].strip()}); of which "
        f"Wagtail's publish and its on-commit steps {export['publish_call_median_s']} s; the task alone in-process "
        f"{export['task_in_process_s']:.2f} s ({export['task_rendered']} page(s) rendered); its ZIP "
        f"{export['zip_task_s']:.2f} s, later"
    )


# --- memory ---------------------------------------------------------------------------------------------

PROBE = """
import json, os, sys
from kokasen.wsgi import application
from django.test import Client
def rss():
    return int([l for l in open("/proc/self/status") if l.startswith("VmRSS")][0].split()[1]) / 1024
started = rss()
from django.contrib.auth import get_user_model
client = Client(HTTP_HOST=os.environ["PROBE_HOST"])
client.get("/", secure=True)
client.force_login(get_user_model().objects.get(username=os.environ["PROBE_MEMBER"]))
client.get("/members/", secure=True)
heavy = json.loads(os.environ["PROBE_HEAVY"])
print(json.dumps({"modules": len(sys.modules), "rss_after_import": started, "rss_after_requests": rss(),
                  "heavy": [name for name in heavy if name in sys.modules]}))
"""


def memory_section(site: Site) -> None:
    print("\npeak memory (MiB; PSS and USS from /proc/<pid>/smaps_rollup):")
    workers = [memory(pid) for pid in children(site.portal.pid)]
    if workers:
        biggest = max(workers, key=lambda values: values["peak"])
        print(show_memory(f"portal worker after the traffic (largest of {len(workers)})", biggest))
        print(
            f"  {'portal: master + workers':<44} RSS {sum(w['rss'] for w in workers) + memory(site.portal.pid)['rss']:6.1f}"
            f"  PSS {sum(w['pss'] for w in workers) + memory(site.portal.pid)['pss']:6.1f} MiB"
        )
    if getattr(site, "hello_workers", None):
        hello = max(site.hello_workers, key=lambda values: values["peak"])
        print(show_memory("bare Django hello worker after its traffic", hello))
        if workers:
            print(f"  portal worker / hello worker (peak RSS): {biggest['peak'] / hello['peak']:.1f}×")
    if hasattr(site, "export_figures"):  # not with --only dynamic
        print(
            f"  {'export process (export_static_site)':<44} peak RSS {site.export_figures['peak']:6.1f} MiB "
            f"(the largest of it and its {site.export_figures['jobs']} forked renderers)"
        )
    done = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env={
            **site.process_env(),
            "PROBE_HOST": HOST,
            "PROBE_MEMBER": site.member.username,
            "PROBE_HEAVY": json.dumps(HEAVY),
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    try:
        probe = json.loads(done.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        print(f"  import probe failed: {done.stderr[-500:]}")
        return
    print(
        f"  a fresh process importing kokasen.wsgi: {probe['modules']} modules, RSS {probe['rss_after_import']:.1f} MiB, "
        f"{probe['rss_after_requests']:.1f} MiB after GET / (anonymous) and /members/ (member)"
    )
    print(f"  heavy libraries it holds: {', '.join(probe['heavy']) or 'none'} (of {', '.join(HEAVY)})")


# --- main -------------------------------------------------------------------------------------------------


def main(argv=None) -> int:
    global DATABASE, REDIS_DB
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=10, help="wrk duration per row")
    parser.add_argument("--warmup", type=int, default=3, help="wrk warm-up per row")
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--articles", type=int, default=1000, help="generated articles (export corpus)")
    parser.add_argument("--news", type=int, default=200, help="generated news items (export corpus)")
    parser.add_argument(
        "--conn-max-age",
        type=int,
        default=None,
        help="DATABASE_CONN_MAX_AGE for the app (default: unset: the production settings' 60)",
    )
    parser.add_argument(
        "--only",
        choices=["publish", "dynamic"],
        help="publish: only the publish → file row (no wrk, nginx, full export or memory section); "
        "dynamic: only the hello, 小ネタ and /members/ rows and the workers' memory",
    )
    parser.add_argument("--publishes", type=int, default=5, help="publishes timed through the worker")
    parser.add_argument(
        "--worker", help="the worker's command line after manage.py (default: kokasen-static-export.service's)"
    )
    parser.add_argument("--database", default=DATABASE, help="the PostgreSQL database (created, then dropped)")
    parser.add_argument("--redis-db", type=int, default=REDIS_DB, help="the Redis database number (flushed)")
    parser.add_argument(
        "--preload",
        action="store_true",
        help="start the portal's gunicorn with --preload (an experiment: memory shared copy-on-write)",
    )
    args = parser.parse_args(argv)
    DATABASE, REDIS_DB = args.database, args.redis_db
    if shutil.which("wrk") is None and args.only is None:
        raise SystemExit("wrk is missing: `make bench-performance` installs Debian's wrk (BENCH_APT_PACKAGES)")
    print(f"kokasen performance, {time.strftime('%Y-%m-%d %H:%M:%S %Z')}, {os.cpu_count()} cores")
    print(f"load before: {uptime()}")
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="kokasen-performance-") as tmp:
        site = Site(Path(tmp), args)
        try:
            site.setup()
            print(
                f"PostgreSQL {DATABASE}, Redis db {REDIS_DB} {'(flushed)' if site.redis else '(NOT running: local memory)'}, "
                f"production settings (DEBUG off), DATABASE_CONN_MAX_AGE {60 if args.conn_max_age is None else args.conn_max_age}, "
                f"gunicorn: {' '.join(gunicorn_command(0)[1:]).replace('127.0.0.1:0', '…')}"
                + (" --preload (experiment)" if args.preload else "")
            )
            if args.only != "publish":
                rows = [row_hello(site, args)]
                start_portal(site)
                rows += [row_tips(site, args), row_members(site, args)]
                if args.only != "dynamic":
                    rows += [row_public(site, args), row_static(site, args)]
                print_table(rows, args)
                site.server_errors()
                memory_section(site)  # the portal's workers right after the traffic
                if args.only != "dynamic":
                    row_export_vs_hugo(site)
            if args.only != "dynamic":
                row_publish_to_file(site)
        finally:
            site.close()
    print(f"\nload after: {uptime()}  ({time.monotonic() - started:.0f} s in all)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
