"""Access logs and login audit events for tests and benchmarks of ops_scan (not product code).

``municipal_month``: a month of the portal's traffic as nginx's JSON access log writes it, with
the login audit events of the same month. 1,788 local governments reach the portal mostly
through the 47 prefectures' gateways (about 38 behind each, up to 60), some from addresses of
their own; people log in (a typo now and then, some give up and ask for a reset), read the
members' area and its files (PDFs, videos in range requests), search, post; visitors read the
public pages; the agency and the contractor edit in the admin from their offices (previews
every half second while typing); crawlers read the public pages. Working days 8:30–18:00 with
peaks at 9:00 and 13:00, quiet weekends, and on three days a notice to every local government
at 9:00 that brings three large gateways' people in within minutes. Old bookmarks give 404s,
a deploy gives a few 502s, uploads are slow. Nothing in it is an attack.

``attack``: what the ops_scan replay test adds: a scanner, a flood, credential stuffing across
many accounts (log lines and audit events).
"""

from __future__ import annotations

import json
import math
import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone

JST = timezone(timedelta(hours=9))
HOST = "portal.example.go.jp"
SITE = f"https://{HOST}"
BROWSERS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; SH-M26) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
]
CRAWLERS = [
    ("66.249.66.1", "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"),
    ("157.55.39.10", "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)"),
]
AGENCY_OFFICE = [f"192.0.2.{n}" for n in range(80, 90)]
CONTRACTOR_OFFICE = [f"192.0.2.{n}" for n in range(100, 110)]
STAFF = {
    "agency-tanaka": AGENCY_OFFICE,
    "agency-suzuki": AGENCY_OFFICE,
    "op-sato": CONTRACTOR_OFFICE,
    "op-ito": CONTRACTOR_OFFICE,
}
JA = "%E5%85%90%E7%AB%A5%E7%A6%8F%E7%A5%89"  # 児童福祉

PUBLIC_PAGES = [
    "/",
    "/news/",
    "/news/2026/11/kaigi-kaisai/",
    "/about/",
    "/center/",
    "/center/setup/",
    "/faq/",
    "/news/?page=2",
    "/sitemap/",
    "/feed.atom",
    "/center/cases/",
    "/training/",
]
MEMBER_PAGES = [
    "/members/",
    "/members/roundtables/",
    "/members/roundtables/roundtable-01/",
    "/members/initiatives/",
    "/members/forms/",
    f"/members/roundtables/?tag={JA}",
    "/members/tips/",
    "/members/tips/3/",
    "/members/feedback/",
    "/account/",
]
ASSETS = [
    "/static/css/portal.css",
    "/static/js/menu.js",
    "/static/js/site-search.js",
    "/static/img/logo.svg",
    "/media/images/kodomo.width-800.jpg",
]
OLD_LINKS = [
    "/favicon.ico",
    "/apple-touch-icon.png",
    "/index.html",
    "/top.html",
    "/members/old-page/",
    "/news/2019/%E5%8F%A4%E3%81%84%E3%81%8A%E7%9F%A5%E3%82%89%E3%81%9B/",
    "/documents/999/old.pdf",
]
ADMIN_PAGES = [
    "/admin/",
    "/admin/pages/",
    "/admin/pages/12/edit/",
    "/admin/documents/",
    "/admin/images/",
    "/admin/meetings/",
    "/admin/ops/",
    "/admin/local-government-accounts/",
    "/admin/tips/queue/",
]


@dataclass
class Traffic:
    lines: list = field(default_factory=list)  # (epoch seconds, JSON line) of access.json
    refused: list = field(default_factory=list)  # (epoch seconds, line) of refused.log
    audit: list = field(default_factory=list)  # dicts: time, action, ip, username, known, staff

    def json_lines(self) -> list[str]:
        return [line for _, line in sorted(self.lines, key=lambda item: item[0])]

    def refused_lines(self) -> list[str]:
        return [line for _, line in sorted(self.refused, key=lambda item: item[0])]

    def extend(self, other: Traffic) -> Traffic:
        self.lines += other.lines
        self.refused += other.refused
        self.audit += other.audit
        return self


def json_line(
    when: datetime,
    client: str,
    method: str,
    uri: str,
    status: int,
    size: int,
    seconds: float,
    agent: str,
    referrer: str = "",
    request_id: str = "",
) -> str:
    return json.dumps(
        {
            "time": when.astimezone(JST).isoformat(timespec="seconds"),
            "client": client,
            "host": HOST,
            "method": method,
            "uri": uri,
            "status": status,
            "bytes": size,
            "request_time": round(seconds, 3),
            "upstream_time": "" if uri.startswith(("/static/", "/media/")) else f"{max(0.0, seconds - 0.001):.3f}",
            "referrer": referrer,
            "user_agent": agent,
            "tls_protocol": "TLSv1.3",
            "request_id": request_id,
        },
        ensure_ascii=False,
        separators=(",", ":"),
    )


def refused_line(when: datetime, client: str, method: str, uri: str, request_id: str) -> str:
    return (
        f"{when.astimezone(JST).isoformat(timespec='seconds')} client={client} status=429 limit=REJECTED/- "
        f'host="{HOST}" request="{method} {uri}" request_id={request_id}'
    )


class _Writer:
    def __init__(self, traffic: Traffic, rng: random.Random):
        self.traffic, self.rng, self.count = traffic, rng, 0

    def request(self, when, client, method, uri, status, *, agent, seconds=None, size=None, referrer=""):
        self.count += 1
        rng = self.rng
        if seconds is None:
            median = (
                0.25
                if uri.startswith("/admin/")
                else 0.12
                if uri.startswith(("/login/", "/search/"))
                else (0.004 if uri.startswith(("/static/", "/media/")) else 0.07)
            )
            seconds = median * math.exp(rng.gauss(0, 0.6))
        size = rng.randint(300, 60_000) if size is None else size
        self.traffic.lines.append(
            (
                when.timestamp(),
                json_line(when, client, method, uri, status, size, seconds, agent, referrer, f"{self.count:032x}"),
            )
        )

    def audit(self, when, action, ip, username, *, known=True, staff=False):
        self.traffic.audit.append(
            {"time": when, "action": action, "ip": ip, "username": username, "known": known, "staff": staff}
        )


def _gateways(rng: random.Random) -> list[tuple[list[str], list[str]]]:
    """(addresses, local-government codes) of the 47 prefectures' gateways; 100 local
    governments have addresses of their own instead. Some gateways speak IPv6 (one /64, many
    addresses)."""
    codes = [f"{n:06d}" for n in range(10_000, 10_000 + 1_788)]
    own = codes[:100]
    rest = codes[100:]
    out = []
    per = math.ceil(len(rest) / 47)
    for index in range(47):
        members = rest[index * per : (index + 1) * per]
        if index % 5 == 0:
            addresses = [f"2001:db8:{100 + index}::{rng.randint(1, 0xFFFF):x}" for _ in range(4)]
        else:
            addresses = [f"203.0.{113 + index // 200}.{10 + index}"]
        out.append((addresses, members))
    for n, code in enumerate(own):
        out.append(([f"198.51.100.{20 + n}"], [code]))
    return out


def _member_session(w: _Writer, when: datetime, address: str, code: str, *, agent: str, hurry: bool = False):
    rng = w.rng
    step = (lambda: timedelta(seconds=rng.uniform(1, 6))) if hurry else (lambda: timedelta(seconds=rng.uniform(4, 60)))
    w.request(when, address, "GET", "/login/", 200, agent=agent)
    when += step()
    if rng.random() < 0.08:  # a typo
        w.request(when, address, "POST", "/login/", 200, agent=agent)
        w.audit(when, "login.failed", address, code)
        when += step()
    if rng.random() < 0.01:  # forgot the password: gives up, asks for a reset
        for _ in range(rng.randint(1, 3)):
            w.request(when, address, "POST", "/login/", 200, agent=agent)
            w.audit(when, "login.failed", address, code)
            when += step()
        w.request(when, address, "GET", "/password-reset/", 200, agent=agent)
        w.request(when + timedelta(seconds=20), address, "POST", "/password-reset/", 302, agent=agent)
        return
    w.request(when, address, "POST", "/login/", 302, agent=agent)
    w.audit(when, "login.succeeded", address, code)
    first = True
    for _ in range(rng.randint(2, 9)):
        when += step()
        page = rng.choice(MEMBER_PAGES)
        w.request(when, address, "GET", page, 200, agent=agent, referrer=f"{SITE}/members/")
        for asset in ASSETS if first else ASSETS[:1] if rng.random() < 0.3 else []:
            w.request(
                when + timedelta(milliseconds=rng.randint(50, 400)),
                address,
                "GET",
                asset,
                200 if first else 304,
                agent=agent,
                referrer=f"{SITE}{page}",
            )
        first = False
        roll = rng.random()
        if roll < 0.15:
            w.request(
                when + timedelta(seconds=2),
                address,
                "GET",
                "/documents/12/%E8%B3%87%E6%96%99.pdf",
                200,
                agent=agent,
                seconds=rng.uniform(0.1, 3.0),
                size=rng.randint(200_000, 3_000_000),
            )
        elif roll < 0.2:  # a video in range requests
            for n in range(rng.randint(3, 20)):
                w.request(
                    when + timedelta(seconds=2 + 4 * n),
                    address,
                    "GET",
                    "/documents/31/roundtable.mp4",
                    206,
                    agent=agent,
                    seconds=rng.uniform(0.5, 8.0),
                    size=2_000_000,
                )
        elif roll < 0.26:
            w.request(when + timedelta(seconds=3), address, "GET", f"/search/?q={JA}", 200, agent=agent)
        elif roll < 0.28:
            w.request(when + timedelta(seconds=30), address, "POST", "/members/tips/3/", 302, agent=agent)
        elif roll < 0.31:
            w.request(when + timedelta(seconds=1), address, "GET", rng.choice(OLD_LINKS), 404, agent=agent)
    w.request(when + step(), address, "POST", "/logout/", 302, agent=agent)


def _visitor(w: _Writer, when: datetime, address: str, agent: str):
    rng = w.rng
    for n in range(rng.randint(1, 6)):
        page = rng.choice(PUBLIC_PAGES)
        w.request(
            when,
            address,
            "GET",
            page,
            200,
            agent=agent,
            referrer=rng.choice(["", f"{SITE}/", "https://www.example.lg.jp/kosodate/"]),
        )
        if n == 0:
            for asset in ASSETS:
                w.request(when + timedelta(milliseconds=rng.randint(50, 300)), address, "GET", asset, 200, agent=agent)
        if rng.random() < 0.05:
            w.request(when, address, "GET", rng.choice(OLD_LINKS), 404, agent=agent)
        when += timedelta(seconds=rng.uniform(5, 90))


def _staff_day(w: _Writer, day: date, username: str):
    rng = w.rng
    address = rng.choice(STAFF[username])
    when = datetime.combine(day, time(9, rng.randint(0, 40)), JST)
    agent = BROWSERS[0]
    w.request(when, address, "POST", "/login/", 302, agent=agent)
    w.audit(when, "login.password_accepted", address, username, staff=True)
    when += timedelta(seconds=15)
    w.request(when, address, "POST", "/login/totp/", 302, agent=agent)
    w.audit(when, "login.succeeded", address, username, staff=True)
    for _ in range(rng.randint(20, 60)):
        when += timedelta(seconds=rng.uniform(20, 400))
        w.request(when, address, "GET", rng.choice(ADMIN_PAGES), 200, agent=agent)
        if rng.random() < 0.1:  # editing a page: Wagtail previews every 0.5 s while typing
            for n in range(rng.randint(20, 120)):
                w.request(
                    when + timedelta(seconds=0.5 * n),
                    address,
                    "POST",
                    "/admin/pages/12/edit/preview/",
                    200,
                    agent=agent,
                    seconds=rng.uniform(0.05, 0.4),
                )
        if rng.random() < 0.03:  # an upload
            w.request(
                when, address, "POST", "/admin/documents/multiple/add/", 200, agent=agent, seconds=rng.uniform(2, 20)
            )


def _busy_time(rng: random.Random, day: date) -> datetime:
    """A moment of a working day: 8:30–18:00 with peaks at 9:00 and 13:00."""
    hour = rng.choice([8.6, 9.1, 9.4, 10, 10.5, 11, 11.5, 13.1, 13.5, 14, 14.5, 15, 15.5, 16, 16.5, 17.2])
    minutes = hour * 60 + rng.uniform(-20, 20)
    return datetime.combine(day, time(0), JST) + timedelta(minutes=minutes)


def municipal_month(
    *, start: date = date(2026, 11, 2), days: int = 30, seed: int = 20261102, sessions_per_working_day: int = 290
) -> Traffic:
    """See the module's docstring. About 144,000 lines with the defaults."""
    rng = random.Random(seed)
    traffic = Traffic()
    w = _Writer(traffic, rng)
    gateways = _gateways(rng)
    notice_days = {2, 9, 16}
    for offset in range(days):
        day = start + timedelta(days=offset)
        working = day.weekday() < 5
        _sessions(
            w, day, gateways, sessions_per_working_day if working else sessions_per_working_day // 8, working=working
        )
        _crawlers(w, day)
        if working:
            for username in STAFF:
                if rng.random() < 0.8:
                    _staff_day(w, day, username)
        if working and offset in notice_days:
            _notice(w, day, gateways)
        if working and offset == 20:
            _deploy(w, day, gateways)
    return traffic


def _sessions(w: _Writer, day: date, gateways: list, count: int, *, working: bool):
    """People of the local governments: members who log in (7 in 10) and visitors."""
    rng = w.rng
    for _ in range(count):
        addresses, codes = rng.choice(gateways)
        address, agent = rng.choice(addresses), rng.choice(BROWSERS[:3] if working else BROWSERS)
        when = _busy_time(rng, day) if working else datetime.combine(day, time(rng.randint(7, 22)), JST)
        if rng.random() < 0.7:
            _member_session(w, when, address, rng.choice(codes), agent=agent)
        else:
            _visitor(w, when, address, agent)


def _crawlers(w: _Writer, day: date):
    rng = w.rng
    for address, agent in CRAWLERS:
        for _ in range(rng.randint(40, 120)):
            w.request(
                datetime.combine(day, time(0), JST) + timedelta(seconds=rng.uniform(0, 86_000)),
                address,
                "GET",
                rng.choice(PUBLIC_PAGES + ["/robots.txt", "/members/"]),
                200,
                agent=agent,
            )


def _notice(w: _Writer, day: date, gateways: list):
    """A notice to every local government at 9:00: three large gateways' people log in within minutes."""
    rng = w.rng
    for addresses, codes in rng.sample(gateways[:47], 3):
        for code in rng.sample(codes, min(len(codes), 40)):
            moment = datetime.combine(day, time(9, 0), JST) + timedelta(seconds=rng.uniform(0, 240))
            _member_session(w, moment, rng.choice(addresses), code, agent=rng.choice(BROWSERS[:3]), hurry=True)


def _deploy(w: _Writer, day: date, gateways: list):
    """A deploy: the app answers 502 for half a minute."""
    rng = w.rng
    moment = datetime.combine(day, time(12, 30), JST)
    for n in range(8):
        addresses, _ = rng.choice(gateways)
        w.request(
            moment + timedelta(seconds=4 * n),
            rng.choice(addresses),
            "GET",
            "/members/",
            502,
            agent=BROWSERS[0],
            seconds=0.001,
        )


def staff_history(*, before: date = date(2026, 11, 2)) -> Traffic:
    """Earlier logins of the staff from their offices (so their networks are known)."""
    traffic = Traffic()
    w = _Writer(traffic, random.Random(1))
    for username in STAFF:
        for days in (40, 20, 5):
            w.audit(
                datetime.combine(before - timedelta(days=days), time(9), JST),
                "login.succeeded",
                STAFF[username][0],
                username,
                staff=True,
            )
    return traffic


SCANNER = "45.148.10.7"
FLOODER = "198.51.100.199"
STUFFER = "203.0.113.66"
SCANNER_PATHS = [
    "/wp-login.php",
    "/wp-admin/setup-config.php",
    "/xmlrpc.php",
    "/.env",
    "/api/.env",
    "/.git/config",
    "/.git/HEAD",
    "/phpmyadmin/index.php",
    "/pma/",
    "/cgi-bin/luci/;stok=/locale",
    "/vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php",
    "/HNAP1/",
    "/actuator/env",
    "/server-status",
    "/manager/html",
    "/owa/auth/logon.aspx",
    "/config.php.bak",
    "/backup.sql",
    "/.aws/credentials",
    "/docker-compose.yml",
    "/.DS_Store",
    "/wp-json/wp/v2/users",
    "/.svn/entries",
]


def attack(start: datetime, *, codes: list[str] | None = None) -> Traffic:
    """A scanner (zgrab and 23 scanner paths, twice), a flood of the home page beyond nginx's limit
    for three minutes (accepted lines and refused.log's sample), and credential stuffing: one
    address tries 150 user IDs once each on /login/; the app refuses the address after 30 user
    IDs (login.throttled, address.slowed). ``codes`` are the user IDs tried (real accounts)."""
    rng = random.Random(7)
    traffic = Traffic()
    w = _Writer(traffic, rng)
    w.count = 10_000_000
    agent = "Mozilla/5.0 zgrab/0.x"
    for n, path in enumerate(SCANNER_PATHS * 2):
        w.request(start + timedelta(seconds=n), SCANNER, "GET", path, 404, agent=agent, seconds=0.0, size=162)
    flood_start = start + timedelta(minutes=20)
    for second in range(180):
        moment = flood_start + timedelta(seconds=second)
        for _ in range(17):  # nginx lets 20/s through after the burst
            w.request(moment, FLOODER, "GET", "/", 200, agent="python-requests/2.32.3", seconds=0.05)
        for n in range(3):  # 48 refused per second, one line in 16
            traffic.refused.append(
                (moment.timestamp(), refused_line(moment, FLOODER, "GET", "/", f"{second:016x}{n:016x}"))
            )
    codes = codes or [f"{n:06d}" for n in range(20_000, 20_150)]
    stuffing = start + timedelta(minutes=40)
    for n, code in enumerate(codes):
        moment = stuffing + timedelta(seconds=1.2 * n)
        if n < 30:
            w.request(moment, STUFFER, "POST", "/login/", 200, agent=BROWSERS[1], seconds=0.15)
            w.audit(moment, "login.failed", STUFFER, code)
        else:
            if n == 30:
                w.audit(moment, "address.slowed", STUFFER, "")
            w.request(moment, STUFFER, "POST", "/login/", 429, agent=BROWSERS[1], seconds=0.01)
            w.audit(moment, "login.throttled", STUFFER, code)
    return traffic


def write_logs(traffic: Traffic, folder) -> tuple:
    """access.json and refused.log of ``traffic`` in ``folder`` (time order); their paths."""
    from pathlib import Path

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    access, refused = folder / "access.json", folder / "refused.log"
    with open(access, "a", encoding="utf-8") as file:
        file.writelines(line + "\n" for line in traffic.json_lines())
    with open(refused, "a", encoding="utf-8") as file:
        file.writelines(line + "\n" for line in traffic.refused_lines())
    return access, refused


def insert_audit(rows: list[dict], *, users: dict | None = None) -> int:
    """The audit events of ``rows`` at their own times (AuditEvent's created_at is set on
    insert otherwise). ``users``: {username: User} for the staff's logins."""
    from unittest import mock

    from kokasen.core.models import AuditEvent

    users = users or {}
    objects = []
    for row in rows:
        user = users.get(row["username"]) if row["action"] == "login.succeeded" else None
        target = users.get(row["username"])
        objects.append(
            AuditEvent(
                created_at=row["time"],
                action=row["action"],
                ip_address=row["ip"] or None,
                actor=user,
                actor_label=user.get_username() if user else "",
                target_type="accounts.user" if row["known"] and row["username"] else "",
                target_id=str(target.pk) if target else (row["username"] if row["known"] else ""),
                target_label=row["username"],
                detail={"username": row["username"], "result": row["action"].split(".", 1)[-1]}
                if row["username"]
                else {"address": row["ip"]},
            )
        )
    field_ = AuditEvent._meta.get_field("created_at")
    with mock.patch.object(field_, "auto_now_add", False):
        AuditEvent.objects.bulk_create(objects, batch_size=1000)
    return len(objects)


# --- the access analytics (kokasen/analytics): combined format and a labelled mix ---------------

_MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def combined_line(
    when: datetime,
    client: str,
    method: str,
    uri: str,
    status: int,
    size: int,
    agent: str,
    referrer: str = "",
) -> str:
    """One line of the nginx/Apache combined format (``"`` escaped as nginx does, ``\\x22``)."""
    local = when.astimezone(JST)
    stamp = f"{local:%d}/{_MONTH_NAMES[local.month - 1]}/{local:%Y:%H:%M:%S} +0900"

    def quoted(value):
        return (value or "-").replace("\\", "\\x5C").replace('"', "\\x22")

    return f'{client} - - [{stamp}] "{quoted(f"{method} {uri} HTTP/1.1")}" {status} {size} "{quoted(referrer)}" "{quoted(agent)}"'


def as_combined(json_lines: list[str]) -> list[str]:
    """The same requests in the combined format (for GoAccess and the agency's own servers)."""
    out = []
    for line in json_lines:
        entry = json.loads(line)
        out.append(
            combined_line(
                datetime.fromisoformat(entry["time"]),
                entry["client"],
                entry["method"],
                entry["uri"],
                entry["status"],
                entry["bytes"],
                entry["user_agent"],
                entry["referrer"],
            )
        )
    return out


HEADLESS = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36"
)
SEARCH_ENGINES = CRAWLERS + [
    (
        "17.241.219.5",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15 (Applebot/0.1; +http://www.apple.com/go/applebot)",
    ),
    ("5.255.253.1", "Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)"),
    ("220.181.108.1", "Mozilla/5.0 (compatible; Baiduspider/2.0; +http://www.baidu.com/search/spider.html)"),
]
MONITORS = [
    ("192.0.2.200", "Mozilla/5.0+(compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)", "/"),
    ("127.0.0.1", "Monit/5.33.0", "/healthz"),
    ("192.0.2.201", "Pingdom.com_bot_version_1.4_(http://www.pingdom.com/)", "/news/"),
    ("192.0.2.202", "Mackerel-Http-Checker/0.0.1", "/"),
]
SCRIPTS = ["curl/8.5.0", "python-requests/2.32.3", "Go-http-client/1.1", "Wget/1.21.3", "Java/17.0.2", "okhttp/4.12.0"]
PREVIEWS = ["Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)", "facebookexternalhit/1.1"]


@dataclass
class Labelled:
    """Lines with the truth: ``bots[i]`` tells whether ``lines[i]`` is a bot's request."""

    lines: list = field(default_factory=list)  # (epoch seconds, JSON line)
    bots: list = field(default_factory=list)

    def sorted(self) -> tuple[list[str], list[bool]]:
        order = sorted(range(len(self.lines)), key=lambda i: self.lines[i][0])
        return [self.lines[i][1] for i in order], [self.bots[i] for i in order]


def labelled_day(*, day: date = date(2026, 11, 4), seed: int = 15, people: int = 140) -> Labelled:
    """A working day of people (Windows Edge/Chrome in the municipal offices, behind their
    prefecture's gateway, iPhone and Android at home) and of bots (search engines that read
    robots.txt and some that do not, monitors, scripts, headless browsers, a browser-like
    crawler without CSS, a flood, scanners with and without a scanner's user agent, link
    previews), each line labelled. About 3,000 requests with the defaults."""
    rng = random.Random(seed)
    out = Labelled()
    for bot, fill in ((False, _labelled_people), (True, _labelled_bots)):
        traffic = Traffic()
        fill(_Writer(traffic, rng), day, people)
        out.lines.extend(traffic.lines)
        out.bots.extend([bot] * len(traffic.lines))
    return out


def _labelled_people(w: _Writer, day: date, people: int) -> None:
    rng = w.rng
    gateways = _gateways(rng)
    for n in range(people):
        addresses, codes = rng.choice(gateways)
        when = _busy_time(rng, day)
        if n % 7 == 0:  # at home, on the phone
            _visitor(w, when, f"198.51.100.{150 + n % 50}", BROWSERS[3 + n % 2])
        elif n % 3 == 0:
            _visitor(w, when, rng.choice(addresses), rng.choice(BROWSERS[:2]))
        else:
            _member_session(w, when, rng.choice(addresses), rng.choice(codes), agent=rng.choice(BROWSERS[:2]))
    addresses, codes = gateways[3]  # a notice: 40 people of one gateway within four minutes
    for code in codes[:40]:
        moment = datetime.combine(day, time(9, 0), JST) + timedelta(seconds=rng.uniform(0, 240))
        _member_session(w, moment, rng.choice(addresses), code, agent=BROWSERS[0], hurry=True)


def _labelled_bots(w: _Writer, day: date, people: int) -> None:
    rng = w.rng
    start = datetime.combine(day, time(0), JST)

    def at(seconds):
        return start + timedelta(seconds=seconds)

    for index, (address, agent) in enumerate(SEARCH_ENGINES):
        if index % 2 == 0:
            w.request(at(rng.uniform(0, 3600)), address, "GET", "/robots.txt", 200, agent=agent)
        for _ in range(rng.randint(40, 80)):
            w.request(at(rng.uniform(3600, 86_000)), address, "GET", rng.choice(PUBLIC_PAGES), 200, agent=agent)
    for address, agent, path in MONITORS:
        for minute in range(0, 24 * 60, 15):
            w.request(at(minute * 60), address, "HEAD" if path == "/" else "GET", path, 200, agent=agent)
    for n, agent in enumerate(SCRIPTS):
        for k in range(rng.randint(5, 30)):
            path = rng.choice(PUBLIC_PAGES + ["/documents/12/%E8%B3%87%E6%96%99.pdf"])
            w.request(at(36_000 + n * 600 + k * 3), f"203.0.113.{200 + n}", "GET", path, 200, agent=agent)
    _labelled_robots(w, at)


def _labelled_robots(w: _Writer, at) -> None:
    """Headless browsers, a crawler that looks like Chrome, a flood, scanners, link previews."""
    rng = w.rng
    for k in range(60):  # a headless browser that says so
        w.request(at(39_600 + k * 2), "203.0.113.220", "GET", rng.choice(PUBLIC_PAGES), 200, agent=HEADLESS)
    for k in range(150):  # a crawler that looks like Chrome, reads every page and no CSS
        w.request(at(50_400 + k * 4), "203.0.113.221", "GET", rng.choice(PUBLIC_PAGES), 200, agent=BROWSERS[1])
    for k in range(20):  # a slow one that looks like Chrome: not recognised (decision 0036)
        w.request(at(60_000 + k * 300), "203.0.113.223", "GET", rng.choice(PUBLIC_PAGES), 200, agent=BROWSERS[0])
    for k in range(300):  # a browser-like flood
        w.request(at(54_000 + k * 0.2), "203.0.113.222", "GET", "/", 200, agent=BROWSERS[0])
    for n, path in enumerate(SCANNER_PATHS):  # scanners: two say so, one looks like Firefox
        w.request(at(10_800 + n), SCANNER, "GET", path, 404, agent="Mozilla/5.0 zgrab/0.x", size=162)
        w.request(at(14_400 + n), "45.148.10.8", "GET", path, 404, agent=BROWSERS[2], size=162)
        w.request(at(18_000 + n), "45.148.10.9", "GET", path, 404, agent="Mozilla/5.0 (compatible; Nuclei)", size=162)
    for n, agent in enumerate(PREVIEWS):
        for k in range(5):
            w.request(
                at(57_600 + k * 60), f"203.0.113.{230 + n}", "GET", "/news/2026/11/kaigi-kaisai/", 200, agent=agent
            )
