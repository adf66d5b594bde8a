"""nginx's own error pages (413, 429, 502, 503, 404): written from the portal's templates,
committed in deploy/nginx/errors/, referenced by both nginx configurations, accepted by
`nginx -t`, and served on loopback by Debian's nginx (installed by `make test-tools`)."""

import http.client
import os
import re
import shutil
import socket
import ssl
import subprocess
import time
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from kokasen.core import errors
from kokasen.core.tests.nginx_loopback import server_replacements, write_http_conf
from kokasen.testing.smtp import free_port, self_signed_certificate

ROOT = Path(__file__).resolve().parents[3]
NGINX_DIR = ROOT / "deploy" / "nginx"
ERRORS_DIR = NGINX_DIR / "errors"
HEADINGS = {
    "404.html": "ページが見つかりません",
    "413.html": "送信された内容が大きすぎます",
    "429.html": "しばらく時間をおいてからお試しください",
    "502.html": "ただいまページを表示できません",
    "503.html": "ただいまご利用いただけません",
    "admin-body-refused.html": "送信を受け付けませんでした",
}


def error_pages(conf: str) -> dict[int, str]:
    """{status: URI} of the error_page lines of an nginx configuration."""
    found = {}
    for codes, uri in re.findall(r"^\s*error_page\s+([\d\s]+?)\s+(\S+);", conf, re.M):
        for code in codes.split():
            found[int(code)] = uri
    return found


def test_the_committed_pages_are_what_the_templates_give():
    call_command("write_error_pages", check=True, stdout=open(os.devnull, "w"))
    assert sorted(p.name for p in ERRORS_DIR.iterdir()) == sorted(errors.NGINX_PAGES)


def test_the_check_fails_on_a_stale_copy_and_the_command_rewrites_it(tmp_path):
    call_command("write_error_pages", out=tmp_path, stdout=open(os.devnull, "w"))
    (tmp_path / "502.html").write_text("old", encoding="utf-8")
    with pytest.raises(CommandError, match="502.html"):
        call_command("write_error_pages", out=tmp_path, check=True, stdout=open(os.devnull, "w"))
    call_command("write_error_pages", out=tmp_path, stdout=open(os.devnull, "w"))
    assert (tmp_path / "502.html").read_bytes() == (ERRORS_DIR / "502.html").read_bytes()


@pytest.mark.parametrize("name", sorted(HEADINGS))
def test_each_page_is_japanese_self_contained_and_leads_home(name):
    html = (ERRORS_DIR / name).read_text(encoding="utf-8")
    assert html.startswith('<!DOCTYPE html>\n<html lang="ja"')
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert f'<h1 class="app-page-header__title">{HEADINGS[name]}</h1>' in html
    assert 'class="app-header"' in html and 'class="app-footer"' in html
    assert 'href="/">トップページへ戻る</a>' in html
    # Only files nginx serves itself (from STATIC_ROOT), nothing inline (the CSP forbids it).
    local = re.findall(r'(?:href|src)="(/[^"]*)"', html)
    assert "/static/css/portal.css" in local
    assert all(url.startswith("/static/") or url in ("/", "/login/") for url in local), local
    assert "<style" not in html and "style=" not in html and "<script" not in html
    for english in ("Not Found", "Bad Gateway", "Service Unavailable", "Too Many Requests", "Request Entity", "nginx"):
        assert english not in html


@pytest.mark.parametrize("conf_name", ["portal.conf", "static-export.conf"])
def test_both_configurations_send_nginx_errors_to_these_pages(conf_name):
    conf = (NGINX_DIR / conf_name).read_text(encoding="utf-8")
    pages = error_pages(conf)
    for status, name in [(413, "413.html"), (429, "429.html"), (502, "502.html"), (504, "502.html"), (503, "503.html")]:
        assert pages.get(status) == f"/_errors/{name}", (conf_name, status)
    assert "alias /srv/kokasen/errors/;" in conf
    assert re.search(r"location \^~ /_errors/ \{\s*internal;", conf)
    if conf_name == "static-export.conf":
        assert pages[404] == "/404.html"  # the export's own page, with the menus
    else:
        assert pages[404] == "/_errors/404.html"


# --------------------------------------------------------------------------- nginx itself


@pytest.fixture(scope="module")
def nginx_binary():
    found = shutil.which("nginx", path=os.environ.get("PATH", "") + os.pathsep + "/usr/sbin:/sbin")
    if not found:
        pytest.fail("nginx is missing: `make test-tools` installs Debian's nginx package")
    return found


@pytest.fixture(scope="module")
def nginx_setup(tmp_path_factory):
    """Copies of both configurations inside one nginx.conf, rewritten for loopback: free
    ports, a self-signed certificate, temporary folders, an upstream nobody listens on, and a
    login rate limit small enough to reach in three requests."""
    base = tmp_path_factory.mktemp("nginx")
    cert, key = self_signed_certificate(base)
    static_export = base / "export"
    (static_export / "static" / "css").mkdir(parents=True)
    (static_export / "static" / "css" / "portal.css").write_text("body { margin: 0; }\n")
    (static_export / "index.html").write_text('<!DOCTYPE html><html lang="ja"><head><title>top</title></head></html>\n')
    # What matters here is nginx's handling of the file; the exporter's 404.html is tested in static_export.
    (static_export / "404.html").write_text(
        '<!DOCTYPE html>\n<html lang="ja">\n<head>\n<link rel="stylesheet" href="static/css/portal.css">\n'
        "</head>\n<body><h1>ページが見つかりません</h1></body>\n</html>\n",
        encoding="utf-8",
    )
    (base / "media").mkdir()
    ports = {"https": free_port(), "http": free_port(), "export": free_port(), "dead": free_port()}

    portal = (NGINX_DIR / "portal.conf").read_text(encoding="utf-8")
    replacements = [
        ("listen [::]:80;\n", ""),
        ("listen [::]:443 ssl http2;\n", ""),
        ("listen 80;", f"listen 127.0.0.1:{ports['http']};"),
        ("listen 443 ssl http2;", f"listen 127.0.0.1:{ports['https']} ssl http2;"),
        ("/etc/ssl/kokasen/fullchain.pem", str(cert)),
        ("/etc/ssl/kokasen/privkey.pem", str(key)),
        ("/srv/kokasen/static/", f"{ROOT / 'static'}/"),
        ("/srv/kokasen/errors/", f"{ERRORS_DIR}/"),
        ("/srv/kokasen/media/", f"{base / 'media'}/"),
        ("server 127.0.0.1:8001", f"server 127.0.0.1:{ports['dead']}"),
        ("zone=kokasen_login burst=120 nodelay", "zone=kokasen_login burst=1 nodelay"),
        *server_replacements(base, cert),
    ]
    for old, new in replacements:
        assert old in portal, old
        portal = portal.replace(old, new)
    (base / "portal.conf").write_text(portal, encoding="utf-8")
    # Log formats, limit zones (the login rate small enough to reach in three requests), admin networks.
    http_conf = write_http_conf(
        base, replacements=[("zone=kokasen_login:5m   rate=2r/s", "zone=kokasen_login:5m   rate=1r/m")]
    )

    export_conf = (NGINX_DIR / "static-export.conf").read_text(encoding="utf-8")
    for old, new in [("/srv/kokasen-static", str(static_export)), ("/srv/kokasen/errors/", f"{ERRORS_DIR}/")]:
        assert old in export_conf, old
        export_conf = export_conf.replace(old, new)
    (base / "static-export.conf").write_text(export_conf, encoding="utf-8")

    user = "user root;\n" if os.geteuid() == 0 else ""  # workers must read the pytest folders
    temp = "".join(
        f"  {kind}_temp_path {base / kind};\n" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    (base / "nginx.conf").write_text(
        f"{user}worker_processes 1;\ndaemon off;\npid {base / 'nginx.pid'};\nerror_log {base / 'error.log'} warn;\n"
        "events { worker_connections 64; }\n"
        "http {\n"
        "  types { text/html html; text/css css; image/svg+xml svg; }\n"
        "  default_type application/octet-stream;\n"
        f"  access_log {base / 'access.log'};\n{temp}"
        f"  include {http_conf};\n"
        f"  include {base / 'portal.conf'};\n"
        f"  server {{\n    listen 127.0.0.1:{ports['export']};\n    include {base / 'static-export.conf'};\n  }}\n"
        "}\n",
        encoding="utf-8",
    )
    return base, ports


def nginx_command(nginx_binary, base, *extra):
    return [nginx_binary, "-p", f"{base}/", "-c", str(base / "nginx.conf"), "-e", str(base / "error.log"), *extra]


def test_nginx_accepts_both_configurations(nginx_binary, nginx_setup):
    base, _ = nginx_setup
    result = subprocess.run(nginx_command(nginx_binary, base, "-t"), capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr


@pytest.fixture(scope="module")
def running_nginx(nginx_binary, nginx_setup):
    base, ports = nginx_setup
    process = subprocess.Popen(nginx_command(nginx_binary, base), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", ports["export"]), timeout=0.5).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    log = (base / "error.log").read_text() if (base / "error.log").exists() else ""
                    pytest.fail(f"nginx did not start: {process.stdout.read().decode()} {log}")
                time.sleep(0.05)
        yield ports
    finally:
        process.terminate()  # our own nginx master, by its process id
        process.wait(timeout=10)


def portal_request(ports, method, path, headers=None):
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    connection = http.client.HTTPSConnection("127.0.0.1", ports["https"], context=context, timeout=10)
    connection.putrequest(method, path, skip_host=True)
    connection.putheader("Host", "portal.example.go.jp")
    for name, value in (headers or {}).items():
        connection.putheader(name, value)
    connection.endheaders()  # no body: nginx judges an oversized one by its Content-Length
    response = connection.getresponse()
    body = response.read().decode("utf-8")
    connection.close()
    return response, body


def assert_page(response, body, status, name):
    assert response.status == status, body
    assert f'<h1 class="app-page-header__title">{HEADINGS[name]}</h1>' in body
    assert "'unsafe-inline'" not in response.getheader("Content-Security-Policy")
    assert response.getheader("Strict-Transport-Security")


def test_the_app_being_down_shows_the_502_page(running_nginx):
    response, body = portal_request(running_nginx, "GET", "/members/")
    assert_page(response, body, 502, "502.html")
    assert response.getheader("Cache-Control") == "no-store"


def test_an_oversized_body_shows_the_413_page(running_nginx):
    response, body = portal_request(running_nginx, "POST", "/members/tips/", {"Content-Length": str(11 * 1024 * 1024)})
    assert_page(response, body, 413, "413.html")


def test_too_many_login_requests_show_the_429_page(running_nginx):
    statuses = []
    for _ in range(4):
        response, body = portal_request(running_nginx, "GET", "/login/")
        statuses.append(response.status)
        if response.status == 429:
            assert_page(response, body, 429, "429.html")
            break
    assert statuses[-1] == 429 and set(statuses[:-1]) == {502}, statuses


def test_nginx_own_404_and_the_error_folder_is_not_reachable(running_nginx):
    response, body = portal_request(running_nginx, "GET", "/media/documents/handout.pdf")
    assert_page(response, body, 404, "404.html")
    response, body = portal_request(running_nginx, "GET", "/_errors/502.html")
    assert_page(response, body, 404, "404.html")  # internal: not a page of its own


def test_the_static_export_404_page_works_at_any_depth(running_nginx):
    connection = http.client.HTTPConnection("127.0.0.1", running_nginx["export"], timeout=10)
    connection.request("GET", "/news/2024/no-such-item/")
    response = connection.getresponse()
    body = response.read().decode("utf-8")
    assert response.status == 404
    # Relative links in the file, resolved from the root whatever address was asked for.
    assert '<head><base href="/">\n<link rel="stylesheet" href="static/css/portal.css">' in body
    assert "ページが見つかりません" in body
    assert "'unsafe-inline'" not in response.getheader("Content-Security-Policy")
    connection.request("GET", "/404.html")
    response = connection.getresponse()
    assert response.status == 404 and "ページが見つかりません" in response.read().decode("utf-8")
    connection.close()
