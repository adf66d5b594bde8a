"""deploy/nginx/portal.conf on loopback: what production answers for every URL form of the
persona walk (test_media_personas.py) before the app is asked.

Debian's nginx runs the checked-in server block, with only addresses, ports, certificate
and folders replaced, in front of a stub app. For each URL form one rule: nginx sends a
file from disk ("disk"), refuses it (404), or passes it to the app ("app"; what the app then
answers per persona is the Django walk's table). The stub also answers one path with
X-Accel-Redirect, as the image and document views do in production, to show that nginx
then sends a protected file (with ranges) from its internal location.

Needs the nginx binary (Debian: apt install nginx), like the CI job that runs ``nginx -t``.
"""

import http.client
import http.server
import os
import re
import shutil
import ssl
import subprocess
import threading
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings

from kokasen.core.tests.nginx_loopback import write_http_conf
from kokasen.testing.smtp import free_port

from .imaging import stored_bytes
from .test_media_personas import TARGETS, World

pytestmark = pytest.mark.django_db

PORTAL_CONF = Path(settings.BASE_DIR) / "deploy" / "nginx" / "portal.conf"
HOST = "portal.example.go.jp"
DISK, APP = "disk", "app"

NGINX = {
    "restricted_image_media_original": 404,
    "restricted_image_media_upload_name": 404,
    "restricted_image_media_rendition": 404,
    "restricted_image_media_wagtail_rendition_name": 404,
    "restricted_image_media_protected_folder": 404,
    "restricted_image_media_dotdot": 404,
    "restricted_image_media_encoded_dotdot": 404,
    "restricted_image_x_accel_path": 404,
    "restricted_image_view_original": APP,
    "restricted_image_view_rendition": APP,
    "restricted_image_view_head": APP,
    "restricted_image_admin_preview": APP,
    "public_image_media_original": DISK,
    "public_image_media_rendition": DISK,
    "public_image_admin_preview": APP,
    "image_view_public_image_name": APP,
    "image_view_unknown_name": APP,
    # nginx resolves "../" itself: this one lands on /media/documents/, refused.
    "image_view_dotdot_to_documents": 404,
    "image_view_encoded_dotdot": APP,
    "image_view_dotdot_within_folder": APP,
    "restricted_document_view": APP,
    "restricted_document_wrong_name": APP,
    "restricted_document_media": 404,
    "restricted_document_media_dotdot": 404,
    "restricted_document_x_accel_path": 404,
    "public_document_view": APP,
    "public_document_media": 404,
    "document_password_form": APP,
    # a roundtable's video and its WebVTT captions (decision 0056): served by the document view only
    "roundtable_video_view": APP,
    "roundtable_captions_view": APP,
    "roundtable_captions_media": 404,
}
DISK_FILES = {
    "public_image_media_original": lambda w: w.public_image.file,
    "public_image_media_rendition": lambda w: w.public_rendition.file,
}


class StubApp(http.server.BaseHTTPRequestHandler):
    """Stands for gunicorn: "/x-accel/<stored name>" answers as the protected-file views do in
    production; everything else says that it reached the app."""

    def do_GET(self):  # noqa: N802 - http.server's name
        if self.path.startswith("/x-accel/"):
            self.send_response(200)
            self.send_header("X-Accel-Redirect", "/protected-media/" + self.path.removeprefix("/x-accel/"))
            self.send_header("Content-Type", "image/png")
            self.send_header("Cache-Control", "private, no-cache")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = b"reached the app"
        self.send_response(299)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_HEAD = do_GET  # noqa: N815

    def log_message(self, *args):
        pass


def nginx_config(folder: Path, *, media_root: Path, app_port: int, https_port: int, cert: Path, key: Path) -> Path:
    """portal.conf with loopback addresses, test ports, a test certificate and test folders."""
    server = PORTAL_CONF.read_text(encoding="utf-8")
    replacements = [
        (r"listen 443 ssl http2;", f"listen 127.0.0.1:{https_port} ssl;"),
        (r"listen 80;", f"listen 127.0.0.1:{free_port()};"),
        (r"listen \[::\]:\d+[^;]*;", ""),
        (r"server 127\.0\.0\.1:8001", f"server 127.0.0.1:{app_port}"),
        (r"/etc/ssl/kokasen/fullchain\.pem", str(cert)),
        (r"/etc/ssl/kokasen/privkey\.pem", str(key)),
        (r"/srv/kokasen/media/", f"{media_root}/"),
        (r"/srv/kokasen/static/", f"{folder}/static/"),
        (r"/var/log/nginx/kokasen/", f"{folder}/logs/"),
        (r"/etc/ssl/kokasen/chain\.pem", str(cert)),
    ]
    for pattern, replacement in replacements:
        server, count = re.subn(pattern, replacement, server)
        assert count, f"portal.conf no longer has {pattern!r}: update this test"
    (folder / "static").mkdir()
    (folder / "portal.conf").write_text(server, encoding="utf-8")
    http_conf = write_http_conf(folder)  # log formats, limit zones, admin networks
    temp = {name: folder / name for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi")}
    main = f"""
{"user root;" if os.geteuid() == 0 else ""}
worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/error.log;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {temp["body"]};
    proxy_temp_path {temp["proxy"]};
    fastcgi_temp_path {temp["fastcgi"]};
    uwsgi_temp_path {temp["uwsgi"]};
    scgi_temp_path {temp["scgi"]};
    include {http_conf};
    include {folder}/portal.conf;
}}
"""
    (folder / "nginx.conf").write_text(main, encoding="utf-8")
    return folder / "nginx.conf"


@pytest.fixture(scope="module")
def nginx(tmp_path_factory, smtp_certificate, media_root):
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    assert Path(binary).exists(), "nginx is needed for this test (Debian: apt install nginx)"
    folder = tmp_path_factory.mktemp("nginx")
    app = http.server.ThreadingHTTPServer(("127.0.0.1", 0), StubApp)
    threading.Thread(target=app.serve_forever, daemon=True).start()
    port = free_port()
    cert, key = smtp_certificate
    conf = nginx_config(
        folder, media_root=Path(media_root), app_port=app.server_address[1], https_port=port, cert=cert, key=key
    )
    check = subprocess.run([binary, "-t", "-p", str(folder), "-c", str(conf)], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    process = subprocess.Popen([binary, "-p", str(folder), "-c", str(conf), "-g", "daemon off;"])
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                http.client.HTTPSConnection("127.0.0.1", port, timeout=1, context=_tls()).connect()
                break
            except OSError:
                assert process.poll() is None and time.monotonic() < deadline, (folder / "error.log").read_text()
                time.sleep(0.05)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)
        app.shutdown()


def _tls():
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def fetch(port, path, *, method="GET", headers=None):
    """The raw path as written (no client-side normalisation of "../" or "%2F")."""
    connection = http.client.HTTPSConnection("127.0.0.1", port, timeout=10, context=_tls())
    try:
        connection.request(method, path, headers={"Host": HOST, **(headers or {})})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


@pytest.fixture
def world(demo_site, settings):
    settings.ROOT_URLCONF = "kokasen.members.tests.urls_with_media"
    return World()


def test_every_form_has_an_nginx_rule():
    assert set(NGINX) == set(TARGETS)


@pytest.mark.parametrize("form", sorted(NGINX))
def test_what_nginx_answers_for_every_url_form(nginx, world, form):
    path = TARGETS[form](world)
    status, headers, body = fetch(nginx, path)
    expected = NGINX[form]
    if expected == APP:
        assert (status, body) == (299, b"reached the app"), (path, status)
    elif expected == DISK:
        assert status == 200, (path, status)
        assert body == stored_bytes(DISK_FILES[form](world))
        assert headers["X-Content-Type-Options"] == "nosniff"
    else:
        assert status == expected, (path, status)
        for source in (world.restricted_image.file, world.restricted_rendition.file, world.restricted_document.file):
            assert stored_bytes(source) not in body


def test_x_accel_redirect_sends_a_protected_image_with_ranges(nginx, world):
    name = world.restricted_image.file.name
    assert name.startswith("protected_images/")
    data = stored_bytes(world.restricted_image.file)
    status, headers, body = fetch(nginx, "/x-accel/" + quote(name))
    assert (status, body) == (200, data)
    assert headers["Content-Type"] == "image/png" and headers["Cache-Control"] == "private, no-cache"
    assert headers["Content-Security-Policy"] == "default-src 'none'"
    status, headers, body = fetch(nginx, "/x-accel/" + quote(name), headers={"Range": "bytes=0-9"})
    assert (status, body, headers["Content-Range"]) == (206, data[:10], f"bytes 0-9/{len(data)}")
    rendition = world.restricted_rendition.file
    assert fetch(nginx, "/x-accel/" + quote(rendition.name))[2] == stored_bytes(rendition)
