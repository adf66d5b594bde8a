"""/healthz and /readyz through deploy/nginx/ on loopback: only loopback and the monitor's networks
reach the app, the monitor is exempt from the page limits and from the access logs, refusals
are logged. 127.0.0.1 stands for loopback and 127.0.0.5 for the monitor (HEALTH_ALLOWED_NETWORKS);
127.0.0.2 is anybody else (the test's networks file is narrower than the installed one, which
allows all of 127.0.0.0/8)."""

from __future__ import annotations

import json
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from kokasen.core.tests.nginx_loopback import (
    NGINX_DIR,
    debian_main_conf,
    nginx_binary,
    replace_all,
    server_replacements,
    write_http_conf,
)
from kokasen.core.tests.test_nginx_stack import Connection, fetch
from kokasen.testing.smtp import free_port, self_signed_certificate

MONITOR = "127.0.0.5"
OTHER = "127.0.0.2"


class StandIn(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    wbufsize = 64 * 1024  # one write per answer (no Nagle wait between headers and body)
    seen: list = []

    def do_GET(self):  # noqa: N802 - http.server's name
        self.seen.append((self.path, self.headers.get("X-Forwarded-For")))
        body = json.dumps({"status": "ok"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def nginx(tmp_path_factory):
    binary = nginx_binary()
    folder = tmp_path_factory.mktemp("nginx-health")
    cert, key = self_signed_certificate(folder)
    errors = folder / "errors"
    subprocess.run(["cp", "-r", str(NGINX_DIR / "errors"), str(errors)], check=True)
    app = ThreadingHTTPServer(("127.0.0.1", 0), StandIn)
    app.daemon_threads = True
    StandIn.seen = []
    threading.Thread(target=app.serve_forever, daemon=True).start()
    port = free_port()
    http_conf = write_http_conf(folder, health_networks=f"default 1;\n127.0.0.1 0;\n{MONITOR} 0;\n")
    portal = replace_all(
        (NGINX_DIR / "portal.conf").read_text(encoding="utf-8"),
        [
            ("    listen 80;\n", f"    listen 127.0.0.1:{free_port()};\n"),
            ("    listen [::]:80;\n", ""),
            ("    listen 443 ssl http2;\n", f"    listen 127.0.0.1:{port} ssl http2;\n"),
            ("    listen [::]:443 ssl http2;\n", ""),
            ("/etc/ssl/kokasen/fullchain.pem", str(cert)),
            ("/etc/ssl/kokasen/privkey.pem", str(key)),
            ("server 127.0.0.1:8001 ", f"server 127.0.0.1:{app.server_address[1]} "),
            ("/srv/kokasen/errors/", f"{errors}/"),
            *server_replacements(folder, cert),
        ],
        "portal.conf",
    )
    (folder / "portal.conf").write_text(portal, encoding="utf-8")
    conf = debian_main_conf(folder, [http_conf, folder / "portal.conf"])
    command = [binary, "-c", str(conf), "-e", str(folder / "logs" / "main-error.log"), "-g", "daemon off;"]
    checked = subprocess.run([*command, "-t"], capture_output=True, text=True, timeout=60)
    assert checked.returncode == 0, checked.stderr
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                fetch(port, "/static/none")
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"nginx did not start: {process.stderr.read().decode()}")
                time.sleep(0.05)
        yield port, process, folder / "logs"
    finally:
        process.terminate()  # our own nginx master, by its process id
        process.wait(timeout=30)
        app.shutdown()


def access_lines(process, logs) -> list[str]:
    import os
    import signal

    os.kill(process.pid, signal.SIGUSR1)  # reopen: buffered lines are written
    time.sleep(0.5)
    return (logs / "access.log").read_text(encoding="utf-8").splitlines() if (logs / "access.log").exists() else []


def test_the_installed_file_allows_loopback_only():
    text = (NGINX_DIR / "health-networks.conf").read_text(encoding="utf-8")
    rules = [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]
    assert rules == ["default 1;", "127.0.0.0/8 0;", "::1 0;"]
    assert "include /etc/nginx/kokasen/health-networks.conf;" in (NGINX_DIR / "kokasen-http.conf").read_text()


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_only_loopback_and_the_monitor_reach_the_app(nginx, path):
    port, _, _ = nginx
    for source in ("127.0.0.1", MONITOR):
        StandIn.seen.clear()
        status, _, body = fetch(port, path, source=source)
        assert status == 200 and json.loads(body) == {"status": "ok"}
        assert StandIn.seen == [(path, source)]  # the app sees the client's address (its own check)
    StandIn.seen.clear()
    status, _, body = fetch(port, path, source=OTHER)
    assert status == 404 and "ページが見つかりません" in body.decode()
    assert StandIn.seen == []  # never asked


def test_the_monitor_is_not_logged_and_refusals_are(nginx):
    port, process, logs = nginx
    before = len(access_lines(process, logs))
    for source in ("127.0.0.1", MONITOR, OTHER):
        fetch(port, "/readyz", source=source)
    new = access_lines(process, logs)[before:]
    assert [line.split(" ", 1)[0] for line in new if "/readyz" in line] == [OTHER]


def test_the_monitor_is_exempt_from_the_page_limits(nginx):
    """600 requests at once pass /readyz (the pages' burst is 400 at 20 r/s); the same flood
    on a page from the same address is refused."""
    port, _, _ = nginx
    connection = Connection(port, source=MONITOR)
    statuses = [fetch(port, "/readyz", source=MONITOR, connection=connection)[0] for _ in range(600)]
    assert set(statuses) == {200}
    statuses = [fetch(port, "/", source=MONITOR, connection=connection)[0] for _ in range(600)]
    assert 429 in statuses
    connection.close()
