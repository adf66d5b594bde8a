"""deploy/nginx/portal.conf under Debian's nginx on loopback (decision 0021).

The configuration is checked with ``nginx -t`` and then served, with only its addresses,
certificate and paths replaced, in front of a small stand-in for the app that records every
request it gets and answers nginx's auth_request like kokasen/accounts/upload_gate.py does
(tested against the real app in kokasen/accounts/tests/test_upload_gate.py). A client sends
only the headers of a large upload and waits: a refusal must arrive although no byte of the
body was sent, so nginx neither waited for the body nor stored it. ``make test-tools``
installs nginx.
"""

import shutil
import socket
import ssl
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from kokasen.accounts.upload_gate import has_body
from kokasen.core.tests.nginx_loopback import server_replacements, write_http_conf
from kokasen.testing.smtp import free_port

ROOT = Path(__file__).resolve().parents[3]
PORTAL_CONF = ROOT / "deploy" / "nginx" / "portal.conf"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
MB = 1024 * 1024
STAFF_COOKIE = "sessionid=verified-staff"
MEMBER_COOKIE = "sessionid=member"


class StandInApp(BaseHTTPRequestHandler):
    """Records (method, path, headers, body bytes received); answers the auth subrequest."""

    protocol_version = "HTTP/1.1"
    seen: list = []

    def _handle(self):
        length = int(self.headers.get("Content-Length") or 0)
        received = 0
        while received < length:
            chunk = self.rfile.read(min(MB, length - received))
            if not chunk:
                break
            received += len(chunk)
        self.seen.append((self.command, self.path, dict(self.headers), received))
        if self.path == "/_auth/staff-upload":
            cookie = self.headers.get("Cookie", "")
            if not has_body(
                self.headers.get("X-Original-Content-Length"), self.headers.get("X-Original-Transfer-Encoding")
            ):
                status = 204
            elif STAFF_COOKIE in cookie:
                status = 204
            else:
                status = 403 if "sessionid=" in cookie else 401
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = f"app:{received}".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _handle

    def log_message(self, *args):
        pass


def loopback_conf(
    text: str, *, http_port: int, https_port: int, app_port: int, cert: Path, key: Path, srv: Path
) -> str:
    """portal.conf with loopback addresses, the test certificate and a scratch /srv: nothing else."""
    replacements = [
        ("    listen 80;\n", f"    listen 127.0.0.1:{http_port};\n"),
        ("    listen [::]:80;\n", ""),
        ("    listen 443 ssl http2;\n", f"    listen 127.0.0.1:{https_port} ssl http2;\n"),
        ("    listen [::]:443 ssl http2;\n", ""),
        ("/etc/ssl/kokasen/fullchain.pem", str(cert)),
        ("/etc/ssl/kokasen/privkey.pem", str(key)),
        ("server 127.0.0.1:8001 ", f"server 127.0.0.1:{app_port} "),
        ("/srv/kokasen/", f"{srv}/"),
        *server_replacements(srv.parent, cert),
    ]
    for old, new in replacements:
        assert old in text, f"portal.conf changed shape: {old!r} not found; update this test"
        text = text.replace(old, new)
    return text


@pytest.fixture(scope="module")
def portal(tmp_path_factory, smtp_certificate):
    """nginx with deploy/nginx/portal.conf on loopback; yields (https port, stand-in app's log, temp folder)."""
    assert Path(NGINX).exists(), "nginx is missing: run `make test-tools` (Debian package nginx)"
    work = tmp_path_factory.mktemp("nginx")
    cert, key = smtp_certificate
    app = ThreadingHTTPServer(("127.0.0.1", 0), StandInApp)
    StandInApp.seen = []
    threading.Thread(target=app.serve_forever, daemon=True).start()
    https_port = free_port()
    conf = loopback_conf(
        PORTAL_CONF.read_text(encoding="utf-8"),
        http_port=free_port(),
        https_port=https_port,
        app_port=app.server_address[1],
        cert=cert,
        key=key,
        srv=work / "srv",
    )
    (work / "portal.conf").write_text(conf, encoding="utf-8")
    http_conf = write_http_conf(work)  # log formats, limit zones, admin networks
    shutil.copytree(PORTAL_CONF.parent / "errors", work / "srv" / "errors")  # nginx's own pages (0018)
    (work / "nginx.conf").write_text(
        f"""daemon off;
master_process off;
pid {work}/nginx.pid;
error_log {work}/error.log info;
events {{ worker_connections 64; }}
http {{
    access_log {work}/access.log;
    client_body_temp_path {work}/client_body;
    proxy_temp_path {work}/proxy;
    fastcgi_temp_path {work}/fastcgi;
    uwsgi_temp_path {work}/uwsgi;
    scgi_temp_path {work}/scgi;
    include {http_conf};
    include {work}/portal.conf;
}}
""",
        encoding="utf-8",
    )
    command = [NGINX, "-p", str(work), "-c", str(work / "nginx.conf"), "-e", str(work / "error.log")]
    checked = subprocess.run([*command, "-t"], capture_output=True, text=True, timeout=60)
    assert checked.returncode == 0, checked.stderr
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", https_port), timeout=1).close()
            break
        except OSError:
            assert process.poll() is None, process.stderr.read().decode()
            assert time.monotonic() < deadline, "nginx did not start"
            time.sleep(0.05)
    try:
        yield https_port, StandInApp.seen, work
    finally:
        process.terminate()
        process.wait(timeout=30)
        app.shutdown()


def request(
    port: int,
    method: str,
    path: str,
    *,
    content_length: int | None = None,
    cookie: str = "",
    body: bytes | None = None,
    cafile: Path,
) -> tuple[int, str]:
    """Send the request line and headers (and ``body`` if given, else no body at all, whatever
    Content-Length says); return the status and the response body. Times out after 10 s."""
    context = ssl.create_default_context(cafile=str(cafile))
    with (
        socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
        context.wrap_socket(raw, server_hostname="localhost") as tls,
    ):
        head = [f"{method} {path} HTTP/1.1", "Host: portal.example.go.jp", "Connection: close"]
        if content_length is not None:
            head += [f"Content-Length: {content_length}", "Content-Type: multipart/form-data; boundary=x"]
        if cookie:
            head.append(f"Cookie: {cookie}")
        tls.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
        if body:
            tls.sendall(body)
        response = b""
        # Read the whole response, not up to the end of the connection: after refusing, nginx
        # keeps the connection a few seconds to discard what the client may still send.
        while not complete(response):
            try:
                chunk = tls.recv(65536)
            except TimeoutError:
                chunk = b""
            assert chunk, f"no complete response (nginx waited for the body?): {response[:200]!r}"
            response += chunk
    head, _, content = response.partition(b"\r\n\r\n")
    return int(head.split()[1]), content.decode("utf-8", "replace")


def complete(response: bytes) -> bool:
    head, separator, content = response.partition(b"\r\n\r\n")
    if not separator:
        return False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(content) >= int(value)
    return b" 204 " in head.split(b"\r\n")[0]


def posts_reaching_the_app(seen) -> list:
    return [entry for entry in seen if entry[0] == "POST"]


# Each within its location's limit: 2,000 MB for documents, 5 MB (an import's limit) elsewhere.
UPLOADS = [
    ("/admin/documents/multiple/add/", 2000 * MB),
    ("/admin/documents/chooser/create/", 2000 * MB),
    ("/admin/images/multiple/add/", 5 * MB),
    ("/admin/meetings/1/roster/", 5 * MB),
    ("/admin/local-government-accounts/import/", 5 * MB),
    ("/django-admin/wagtaildocs/document/add/", 5 * MB),
]


@pytest.mark.parametrize("cookie", ["", MEMBER_COOKIE], ids=["anonymous", "member"])
def test_nginx_refuses_an_upload_to_the_admins_before_receiving_its_body(portal, smtp_certificate, cookie):
    port, seen, work = portal
    for path, size in UPLOADS:
        seen.clear()
        started = time.monotonic()
        status, text = request(port, "POST", path, content_length=size, cookie=cookie, cafile=smtp_certificate[0])
        assert status == 403 and "二要素認証を済ませた職員" in text, (path, status, text)
        assert time.monotonic() - started < 5, "refused at once, not after a timeout"
        assert posts_reaching_the_app(seen) == [], path
        [(method, auth_path, headers, received)] = seen  # only the question, without the body
        assert (method, auth_path, received) == ("GET", "/_auth/staff-upload", 0)
        assert headers["X-Original-URI"] == path and headers["X-Original-Content-Length"] == str(size)
        assert headers["Host"] == "portal.example.go.jp" and headers["X-Forwarded-Proto"] == "https"
        assert "Content-Length" not in headers and headers.get("Cookie", "") == cookie
    assert list((work / "client_body").iterdir()) == [], "nothing was buffered to disk"


def test_nginx_passes_a_verified_staff_upload_with_its_body(portal, smtp_certificate):
    port, seen, _ = portal
    seen.clear()
    body = bytes(MB)
    status, text = request(
        port,
        "POST",
        "/admin/documents/multiple/add/",
        content_length=len(body),
        cookie=STAFF_COOKIE,
        body=body,
        cafile=smtp_certificate[0],
    )
    assert (status, text) == (200, f"app:{MB}")
    assert [(m, p, r) for m, p, _, r in seen] == [
        ("GET", "/_auth/staff-upload", 0),
        ("POST", "/admin/documents/multiple/add/", MB),
    ]


@pytest.mark.parametrize(
    "path,limit_mb",
    [
        ("/admin/documents/multiple/add/", 2001),
        ("/admin/images/multiple/add/", 11),
        ("/django-admin/x/", 11),
        ("/login/", 10),
        ("/", 10),
    ],
)
def test_nginx_refuses_a_body_over_the_limit_of_its_location_from_content_length_alone(
    portal, smtp_certificate, path, limit_mb
):
    port, seen, _ = portal
    seen.clear()
    status, text = request(
        port, "POST", path, content_length=limit_mb * MB + 1, cookie=STAFF_COOKIE, cafile=smtp_certificate[0]
    )
    assert status == 413 and "大きすぎます" in text
    assert seen == [], "413 from the Content-Length alone, before the app is even asked"


def test_requests_without_a_body_reach_the_app_as_before(portal, smtp_certificate):
    port, seen, _ = portal
    seen.clear()
    assert request(port, "GET", "/admin/", cafile=smtp_certificate[0]) == (200, "app:0")
    assert request(port, "GET", "/admin/documents/", cafile=smtp_certificate[0]) == (200, "app:0")
    assert [p for _, p, _, _ in seen] == ["/_auth/staff-upload", "/admin/", "/_auth/staff-upload", "/admin/documents/"]
    seen.clear()
    assert request(port, "GET", "/news/", cafile=smtp_certificate[0]) == (200, "app:0")
    assert [p for _, p, _, _ in seen] == ["/news/"]  # the public site is not asked about
    seen.clear()
    assert request(port, "GET", "/_auth/staff-upload", cafile=smtp_certificate[0])[0] == 404  # internal only
    assert seen == []
