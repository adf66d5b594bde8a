"""deploy/nginx/ rewritten for loopback: the pieces every nginx test needs.

The tests serve the checked-in files with only addresses, ports, certificates and folders
replaced. portal.conf, catch-all.conf and static-export.conf need the http-level definitions of
kokasen-http.conf (log formats, limit zones, the admin networks), and write their logs to
/var/log/nginx/kokasen/: ``write_http_conf`` and ``server_replacements`` give both for a
scratch folder; ``write_sites`` writes portal.conf, catch-all.conf and the static export's
server for loopback ports (test_nginx_stack.py and the full stack, kokasen/testing/stack.py).
``debian_main_conf`` wraps them in Debian's own /etc/nginx/nginx.conf, so that a directive that
Debian already sets at the http level (a duplicate stops nginx) is caught.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
NGINX_DIR = ROOT / "deploy" / "nginx"
DEBIAN_NGINX_CONF = Path("/etc/nginx/nginx.conf")
LOG_DIR = "/var/log/nginx/kokasen/"
ADMIN_NETWORKS = "/etc/nginx/kokasen/admin-networks.conf"
HEALTH_NETWORKS = "/etc/nginx/kokasen/health-networks.conf"


def nginx_binary() -> str:
    found = shutil.which("nginx", path=os.environ.get("PATH", "") + os.pathsep + "/usr/sbin:/sbin")
    assert found, "nginx is missing: `make test-tools` installs Debian's nginx package"
    return found


def replace_all(text: str, replacements, name: str = "the configuration") -> str:
    """Each ``old`` must be present (a changed file must fail loudly, not silently run as is)."""
    for old, new in replacements:
        assert old in text, f"{name} changed shape: {old!r} not found; update the nginx tests"
        text = text.replace(old, new)
    return text


def write_http_conf(
    folder: Path, *, admin_networks: str | None = None, health_networks: str | None = None, replacements=()
) -> Path:
    """kokasen-http.conf for ``folder`` (its admin and monitor networks files beside it; the
    installed defaults unless given); returns its path."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "logs").mkdir(exist_ok=True)
    written = []
    for name, installed, text in (
        ("admin-networks.conf", ADMIN_NETWORKS, admin_networks),
        ("health-networks.conf", HEALTH_NETWORKS, health_networks),
    ):
        networks = folder / name
        if text is None:
            shutil.copyfile(NGINX_DIR / name, networks)
        else:
            networks.write_text(text, encoding="utf-8")
        written.append((installed, str(networks)))
    text = replace_all(
        (NGINX_DIR / "kokasen-http.conf").read_text(encoding="utf-8"),
        [*written, *replacements],
        "kokasen-http.conf",
    )
    path = folder / "kokasen-http.conf"
    path.write_text(text, encoding="utf-8")
    return path


def server_replacements(folder: Path, cert: Path) -> list[tuple[str, str]]:
    """The logs of portal.conf / catch-all.conf in ``folder``/logs, OCSP's chain = ``cert``."""
    return [(LOG_DIR, f"{folder}/logs/"), ("/etc/ssl/kokasen/chain.pem", str(cert))]


def temp_paths(folder: Path) -> str:
    return "".join(
        f"    {kind}_temp_path {folder / kind};\n" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )


def debian_main_conf(folder: Path, includes: list[Path], *, worker_connections: int = 256) -> Path:
    """Debian's /etc/nginx/nginx.conf with its conf.d and sites-enabled includes replaced by
    ``includes`` and its pid, logs and temporary folders moved into ``folder``."""
    assert DEBIAN_NGINX_CONF.exists(), "Debian's /etc/nginx/nginx.conf is missing: install the nginx package"
    text = DEBIAN_NGINX_CONF.read_text(encoding="utf-8")
    text = replace_all(
        text,
        [
            ("user www-data;", "user root;" if os.geteuid() == 0 else ""),  # workers read the pytest folders
            ("pid /run/nginx.pid;", f"pid {folder / 'nginx.pid'};"),
            ("error_log /var/log/nginx/error.log;", f"error_log {folder / 'logs' / 'main-error.log'};"),
            ("worker_connections 768;", f"worker_connections {worker_connections};"),
            (
                "access_log /var/log/nginx/access.log;",
                f"access_log {folder / 'logs' / 'main-access.log'};\n{temp_paths(folder)}",
            ),
            ("include /etc/nginx/conf.d/*.conf;", "".join(f"include {path};\n\t" for path in includes[:1])),
            ("include /etc/nginx/sites-enabled/*;", "".join(f"include {path};\n\t" for path in includes[1:])),
        ],
        "/etc/nginx/nginx.conf",
    )
    path = folder / "nginx.conf"
    path.write_text(text, encoding="utf-8")
    return path


def write_sites(
    folder: Path,
    *,
    ports: dict[str, int],
    cert: Path,
    key: Path,
    app_port: int,
    srv: Path,
    export_root: Path,
    export_host: str,
    host: str | None = None,
    address: str = "127.0.0.1",
    chain: Path | None = None,
) -> list[Path]:
    """portal.conf, catch-all.conf and static-export.conf for loopback, written into ``folder``:
    the portal on ``address``:``ports["http"]`` and ``ports["https"]`` in front of the app on
    ``app_port``, its files in ``srv`` (static/, media/, errors/ in place of /srv/kokasen/), the
    catch-all on the same ports, and the static export of ``export_root`` in a TLS server of its
    own on ``ports["export"]``, written as docs/operations.md describes it. ``host`` replaces the
    portal's example name; ``chain`` is OCSP's CA chain (default: the certificate). Returns the
    server files, to be included after kokasen-http.conf."""
    servers = server_replacements(folder, chain or cert)
    names = [("server_name portal.example.go.jp;", f"server_name {host};")] if host else []
    portal = replace_all(
        (NGINX_DIR / "portal.conf").read_text(encoding="utf-8"),
        [
            ("    listen 80;\n", f"    listen {address}:{ports['http']};\n"),
            ("    listen [::]:80;\n", ""),
            ("    listen 443 ssl http2;\n", f"    listen {address}:{ports['https']} ssl http2;\n"),
            ("    listen [::]:443 ssl http2;\n", ""),
            ("/etc/ssl/kokasen/fullchain.pem", str(cert)),
            ("/etc/ssl/kokasen/privkey.pem", str(key)),
            ("server 127.0.0.1:8001 ", f"server 127.0.0.1:{app_port} "),
            ("/srv/kokasen/", f"{srv}/"),
            *names,
            *servers,
        ],
        "portal.conf",
    )
    catch_all = replace_all(
        (NGINX_DIR / "catch-all.conf").read_text(encoding="utf-8"),
        [
            ("    listen 80 default_server;\n", f"    listen {address}:{ports['http']} default_server;\n"),
            ("    listen [::]:80 default_server;\n", ""),
            ("    listen 443 ssl default_server;\n", f"    listen {address}:{ports['https']} ssl default_server;\n"),
            ("    listen [::]:443 ssl default_server;\n", ""),
            *servers[:1],
        ],
        "catch-all.conf",
    )
    export_conf = replace_all(
        (NGINX_DIR / "static-export.conf").read_text(encoding="utf-8"),
        [
            ("/srv/kokasen-static", str(export_root)),
            ("/srv/kokasen/errors/", f"{srv}/errors/"),
        ],
        "static-export.conf",
    )
    (folder / "portal.conf").write_text(portal, encoding="utf-8")
    (folder / "catch-all.conf").write_text(catch_all, encoding="utf-8")
    (folder / "static-export.conf").write_text(export_conf, encoding="utf-8")
    # The export's own server, as docs/operations.md describes it.
    (folder / "export-server.conf").write_text(
        f"server {{\n    listen {address}:{ports['export']} ssl;\n    server_name {export_host};\n    server_tokens off;\n"
        f"    ssl_certificate {cert};\n    ssl_certificate_key {key};\n    ssl_protocols TLSv1.2 TLSv1.3;\n"
        f"    access_log {folder}/logs/export-access.log combined if=$kokasen_log_request;\n"
        f"    access_log {folder}/logs/refused.log kokasen_refused if=$kokasen_log_refusal;\n"
        f"    include {folder / 'static-export.conf'};\n}}\n",
        encoding="utf-8",
    )
    return [folder / "portal.conf", folder / "catch-all.conf", folder / "export-server.conf"]
