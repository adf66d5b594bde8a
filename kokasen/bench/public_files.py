"""Public pages as files (decision 0061): `python -m kokasen.bench.public_files` (make bench).

1. ``publish_to_file``: the time from publishing a page (``save_revision().publish()`` and its
   commit) to its file holding the new title, median over N publishes, on a throw-away SQLite
   site with the demo content; the file is written in the publishing transaction's on-commit
   step, so this is the editor's wait too.
2. ``serve_figures``: wrk on the anonymous home page through nginx with deploy/nginx/portal.conf
   (a) from its file, (b) through the app (the same request with a session cookie: gunicorn,
   3 sync workers), and (c) the same file from static-export.conf (nginx's static figure). The
   per-address limits of the configuration are taken out (one wrk address would only measure
   the 429 page); nothing else is changed.

Importable pieces for kokasen/bench/performance.py: ``setup``, ``publish_to_file``,
``serve_figures``. Nothing is asserted: the figures are for people to read (with `uptime`).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from kokasen.bench import scratch

ROOT = Path(__file__).resolve().parents[2]


def setup(workdir: Path) -> Path:
    """Django on a scratch SQLite site with the demo content and the files written; returns the folder."""
    folder = workdir / "public-pages"
    os.environ.setdefault("SECRET_KEY", "bench-only-insecure-key")
    scratch.setup_django(
        workdir,
        "kokasen.settings.base",
        ALLOWED_HOSTS="127.0.0.1,localhost,testserver",
        SECURE_SSL_REDIRECT="false",
        DATABASE_CONN_MAX_AGE="600",
        STATIC_ROOT=str(workdir / "static"),
        PUBLISHED_PAGES_ROOT=str(folder),
    )
    from django.core.management import call_command

    from kokasen.demo.loader import DemoLoader

    DemoLoader(log=lambda *a: None).run()
    call_command("write_published_pages", verbosity=0)
    return folder


def publish_to_file(n: int = 20) -> dict:
    """Seconds from publishing an article to its file holding the new title (median, p90, max)."""
    from django.db import transaction

    from kokasen.pages import published_files
    from kokasen.pages.models import ArticlePage

    page = ArticlePage.objects.live().public().order_by("path").first()
    times = []
    for i in range(n):
        page.title = f"計測用タイトル{i:03d}"
        started = time.perf_counter()
        with transaction.atomic():
            page.save_revision().publish()
        path = (
            published_files.folder_for(published_files.root(), published_files.path_for_url_path(page.url_path))
            / published_files.INDEX
        )
        updated = page.title in path.read_text(encoding="utf-8")
        times.append(time.perf_counter() - started)
        if not updated:
            raise SystemExit(f"the file was not updated after publish {i}")
    times.sort()
    return {
        "publishes": n,
        "median_s": statistics.median(times),
        "p90_s": times[int(0.9 * (n - 1))],
        "max_s": times[-1],
        "page": page.url,
    }


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wrk(url: str, seconds: int, connections: int, headers: dict[str, str]) -> dict:
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    out = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    lat = dict(re.findall(r"^\s+(50|99)%\s+(\S+)", out, re.M))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "requests_per_s": float(re.search(r"Requests/sec:\s+([\d.]+)", out)[1]),
        "p50": lat.get("50"),
        "p99": lat.get("99"),
        "non_2xx": int(errors[1]) if errors else 0,
    }


def serve_figures(workdir: Path, folder: Path, *, seconds: int = 10, connections: int = 50, path: str = "/") -> dict:
    """wrk through nginx: the page from its file, through the app, and nginx's static figure."""
    from kokasen.core.tests.nginx_loopback import debian_main_conf, nginx_binary, write_http_conf, write_sites
    from kokasen.testing.smtp import self_signed_certificate

    if not shutil.which("wrk"):
        return {"skipped": "wrk is not installed (Debian package wrk)"}
    nginx_dir = workdir / "nginx"
    nginx_dir.mkdir()
    cert, key = self_signed_certificate(nginx_dir)
    srv = workdir / "srv"
    srv.mkdir()
    (srv / "public-pages").symlink_to(folder)
    shutil.copytree(ROOT / "deploy" / "nginx" / "errors", srv / "errors")
    app_port = _free_port()
    ports = {"http": _free_port(), "https": _free_port(), "export": _free_port()}
    http_conf = write_http_conf(nginx_dir)
    sites = write_sites(
        nginx_dir,
        ports=ports,
        cert=cert,
        key=key,
        app_port=app_port,
        srv=srv,
        export_root=folder,
        export_host="export.localhost",
        host="localhost",
    )
    for name in ("portal.conf", "static-export.conf"):
        conf = nginx_dir / name
        text = re.sub(r"^\s*limit_(?:req|conn) \S+.*;\n", "", conf.read_text(encoding="utf-8"), flags=re.M)
        conf.write_text(text, encoding="utf-8")
    portal, export = sites[0], sites[2]  # not the catch-all: wrk sends 127.0.0.1 as its TLS name
    conf = debian_main_conf(nginx_dir, [http_conf, portal, export], worker_connections=1024)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    gunicorn = subprocess.Popen(
        [str(Path(sys.executable).with_name("gunicorn")), "kokasen.wsgi", "-w", "3", "-b", f"127.0.0.1:{app_port}"],
        env=env,
        cwd=workdir,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    nginx = subprocess.Popen(
        [nginx_binary(), "-c", str(conf), "-e", str(nginx_dir / "logs" / "main-error.log"), "-g", "daemon off;"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{app_port}{path}", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                time.sleep(0.2)
        time.sleep(0.5)
        base = f"https://127.0.0.1:{ports['https']}{path}"
        figures = {
            "from_file": _wrk(base, seconds, connections, {"Host": "localhost"}),
            "through_app": _wrk(base, seconds, connections, {"Host": "localhost", "Cookie": "sessionid=bench"}),
            "nginx_static": _wrk(
                f"https://127.0.0.1:{ports['export']}{path}", seconds, connections, {"Host": "export.localhost"}
            ),
        }
        figures["static_over_file"] = figures["nginx_static"]["requests_per_s"] / figures["from_file"]["requests_per_s"]
        return figures
    finally:
        nginx.terminate()  # our own processes, by their ids
        gunicorn.terminate()
        nginx.wait(timeout=30)
        gunicorn.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--publishes", type=int, default=20)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--no-wrk", action="store_true", help="only the publish-to-file time")
    args = parser.parse_args()
    print(f"load: {os.getloadavg()}")
    with tempfile.TemporaryDirectory(prefix="kokasen-bench-public-files-") as scratch_dir:
        workdir = Path(scratch_dir)
        folder = setup(workdir)
        files = sorted(folder.rglob("index.html"))
        print(f"public pages as files: {len(files)} files, {sum(f.stat().st_size for f in files) / 1024:.0f} KiB")
        result = publish_to_file(args.publishes)
        print(
            f"publish → file updated ({result['publishes']} publishes of {result['page']}): "
            f"median {result['median_s'] * 1000:.0f} ms, p90 {result['p90_s'] * 1000:.0f} ms, max {result['max_s'] * 1000:.0f} ms"
        )
        if not args.no_wrk:
            figures = serve_figures(workdir, folder, seconds=args.seconds, connections=args.connections)
            for name, value in figures.items():
                print(f"  {name}: {value}")
    print(f"load: {os.getloadavg()}")


if __name__ == "__main__":
    main()
