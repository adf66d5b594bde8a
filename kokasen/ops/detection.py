"""The rules of ops_scan over access-log records and audit events (Django-free; decision 0030).

Log rules count records in fixed time windows keyed by their own time (not the time of the
scan): requests per minute, errors and response times per five minutes, scanner requests per
ten minutes. A window is judged once, when it is closed (its end plus ``LATENESS`` lies before
the scan's time); windows still open are handed to the next run (``carry``), so a minute split
over two runs counts whole and is judged once. Audit rules look at sliding windows over the
events, which stay in the database, so they need no carry.

Thresholds (docs/configuration.md) are sized for municipal traffic: up to ~60 local
governments behind one gateway address, so everything per address is high, and floods are
counted per address *and* path group (a gateway's busy minute on the pages is not a login
flood).

Address rules (scanner, flood, client errors, and the audit's account spray) describe one
incident per address: scan.py keeps one alert per address and lists the other rules in it.
"""

from __future__ import annotations

import bisect
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from kokasen.core.access_log import REFUSED_SAMPLE

# --- what the rules are called -------------------------------------------------------------------

INFO, WARNING, CRITICAL = "info", "warning", "critical"
SEVERITIES = (INFO, WARNING, CRITICAL)
SEVERITY_LABELS = {INFO: "情報", WARNING: "警告", CRITICAL: "重大"}

RULES = {
    "scanner": "脆弱性スキャン",
    "flood": "大量アクセス",
    "client_errors": "4xx エラーの急増",
    "server_errors": "5xx エラーの急増",
    "slow_responses": "応答の遅れ（p95）",
    "login_failures": "ログイン失敗の急増",
    "lockouts": "ログインの保護・制限の急増",
    "account_spray": "1つのアドレスから多数のアカウントへのログイン試行",
    "staff_new_network": "職員の新しいネットワークからのログイン",
    "export_tampered": "静的サイトの改ざん",
    "certificate_expiry": "TLS 証明書の期限",
    "backup_overdue": "バックアップの遅れ",
    "backup_drill": "バックアップの復元訓練（失敗・未実施）",
    "virus_signatures": "ウイルス検査（定義ファイル・clamd）",
    "log_source": "アクセスログを読めない",
    "database_unreachable": "データベースに接続できない",
}
# One incident per address: when several fire for one address, the first of these names it.
ADDRESS_RULES = ("account_spray", "scanner", "flood", "client_errors")

LATENESS = 30  # seconds: nginx flushes its log buffers every 5 s


def severity_rank(severity: str) -> int:
    return SEVERITIES.index(severity)


@dataclass
class Finding:
    rule: str
    key: str
    severity: str
    count: int  # new occurrences found by this run (requests, events, or 1 for a state)
    first_seen: datetime
    last_seen: datetime
    summary: str  # one Japanese line
    evidence: dict = field(default_factory=dict)


_PEAKS = {"peak_per_minute", "p95_seconds", "limit_seconds", "accounts_tried", "distinct_ids_in_window", "minutes"}


def combine(findings: list[Finding]) -> list[Finding]:
    """One finding per rule and key: the same address flooding two logs (access.json and the
    refused sample), or 5xx in two access logs, are one. Counts are added, peaks kept, lists
    joined; the summary is the most severe, then the largest, finding's."""
    out: dict[tuple, Finding] = {}
    for finding in findings:
        key = (finding.rule, finding.key)
        earlier = out.get(key)
        if earlier is None:
            out[key] = finding
            continue
        main, other = sorted((earlier, finding), key=lambda f: (severity_rank(f.severity), f.count), reverse=True)
        evidence = dict(main.evidence)
        for name, value in other.evidence.items():
            mine = evidence.get(name)
            if mine is None:
                evidence[name] = value
            elif isinstance(value, bool) or isinstance(mine, bool):
                evidence[name] = mine or value
            elif isinstance(value, int | float) and isinstance(mine, int | float):
                evidence[name] = max(mine, value) if name in _PEAKS else mine + value
            elif isinstance(value, list) and isinstance(mine, list):
                if all(not isinstance(v, list) for v in mine + value):
                    evidence[name] = sorted(set(mine) | set(value), key=str)
                else:
                    evidence[name] = (mine + value)[:10]
        out[key] = Finding(
            main.rule,
            main.key,
            main.severity,
            main.count + other.count,
            min(main.first_seen, other.first_seen),
            max(main.last_seen, other.last_seen),
            main.summary,
            evidence,
        )
    return list(out.values())


# --- path groups, scanners, what may be shown ----------------------------------------------------

# As nginx's limit zones (deploy/nginx/portal.conf); the members area counts as pages there too.
_GROUP_PREFIXES = (
    ("/login/", "login"),
    ("/password-reset/", "reset"),
    ("/admin/", "admin"),
    ("/django-admin/", "admin"),
    ("/search/", "search"),
    ("/documents/", "files"),
    ("/members/images/", "files"),
    ("/static/", "static"),
    ("/media/", "static"),
    ("/healthz", "health"),
    ("/readyz", "health"),
)
GROUPS = ("pages", "login", "reset", "admin", "search", "files", "static", "health")
GROUP_LABELS = {
    "pages": "ページ",
    "login": "ログイン",
    "reset": "パスワード再設定",
    "admin": "管理画面",
    "search": "検索",
    "files": "ファイル",
    "static": "静的ファイル",
    "health": "死活監視",
    "refused": "nginx が拒否した要求（推定）",
}


def path_group(path: str) -> str:
    for prefix, group in _GROUP_PREFIXES:
        if path.startswith(prefix):
            return group
    return "pages"


# The probe part of deploy/fail2ban/filter.d/kokasen-scan.conf (the same corpus tests both):
# things no kokasen server has and no real user's browser asks for.
_PROBE = re.compile(
    r"(?:[^\" ?]*\.(?:php[0-9]?|phtml|aspx?|ashx|asmx|jsp|jspa|do|action|cgi|pl|sh|bak|sql|old|swp|ini|conf|env|yml|yaml)"
    r"(?:[?/][^\" ]*)?"
    r"|(?:[^\" ]*/)?\.(?:env|git|svn|hg|bzr|aws|ssh|docker|htaccess|htpasswd|DS_Store|vscode|idea)(?:[/?.][^\" ]*)?"
    r"|[^\" ]*(?:wp-(?:admin|login|content|includes|json|config)|xmlrpc|phpmyadmin|phpMyAdmin|(?<![^/])pma/|myadmin"
    r"|adminer|cgi-bin/|vendor/phpunit|boaform|HNAP1|actuator|server-status|manager/html|solr/|jmx-console"
    r"|web-console|owa/auth|ecp/|remote/login|\+CSCOE\+|_ignition|telescope/requests|api/jsonws|console/login"
    r"|jenkins/|struts|shell\?)[^\" ]*"
    r"|[^\" ]*(?:\.\./|%2e%2e|%252e)[^\" ]*)",
    re.IGNORECASE,
)
_PLAIN_METHODS = frozenset(("GET", "HEAD", "POST"))
_SCANNER_METHODS = frozenset(
    ("CONNECT", "PROPFIND", "PROPPATCH", "MKCOL", "COPY", "MOVE", "LOCK", "UNLOCK", "TRACE", "TRACK", "DEBUG", "SEARCH")
)
# Tools that attack or map web applications (research crawlers such as Censys are left out:
# they visit every server every day and attack nothing).
_TOOLS = re.compile(
    r"(sqlmap|nikto|nuclei|wpscan|dirbuster|gobuster|feroxbuster|fuzz faster u fool|\bffuf\b|wfuzz|acunetix|"
    r"netsparker|invicti|nessus|openvas|w3af|hydra|whatweb|jorgee|zmeu|masscan|nmap scripting engine|"
    r"morfeus|havij|appscan|burp ?suite|arachni|skipfish|zgrab|commix|xsstrike|dotdotpwn)",
    re.IGNORECASE,
)


def is_scanner_request(method: str, path: str, query: str) -> bool:
    if method in _SCANNER_METHODS or not path.startswith("/"):  # WebDAV, CONNECT, absolute URLs
        return True
    return _PROBE.fullmatch(path[1:] + ("?" + query if query else "")) is not None


def scanner_tool(user_agent: str) -> str | None:
    found = _TOOLS.search(user_agent)
    return found.group(1).lower() if found else None


_SECRET_IN_PATH = re.compile(
    r"^(/password-reset/)[^/]+/[^/]+/|^(/login/totp/invitation/)[^/]+/|^(/admin/password_reset/confirm/)[^/]+/[^/]+/"
)
_SECRET_KEYS = re.compile(r"pass|pwd|token|secret|key|code|otp|session|csrf|auth|sig", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def safe_uri(path: str, query: str = "") -> str:
    """What evidence may show of a request: tokens in reset and invitation links masked, no
    query string on the login, reset and admin paths, and every value of a query parameter whose
    name looks secret masked elsewhere; at most 200 characters."""
    path = _SECRET_IN_PATH.sub(lambda m: (m.group(1) or m.group(2) or m.group(3)) + "…/", path)
    group = path_group(path)
    if query and group not in ("login", "reset", "admin"):
        parts = []
        for part in query.split("&"):
            name, sep, value = part.partition("=")
            parts.append(f"{name}=***" if sep and _SECRET_KEYS.search(name) else part)
        path = path + "?" + "&".join(parts)
    return _CONTROL.sub("?", path)[:200]


def address_key(address: str, fold=None) -> str:
    """The address as counted (an IPv6 address as its /64, as the login defences count it)."""
    return fold(address) if fold else address


def _utc(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def _top(counter: Counter, n: int = 5) -> list:
    return [[key, count] for key, count in counter.most_common(n)]


# --- response-time histogram -----------------------------------------------------------------------

# Upper edges in seconds: 10 ms steps to 1 s, 50 ms to 5 s, 250 ms to 30 s, then one more.
_EDGES = (
    [round(0.01 * i, 3) for i in range(1, 101)]
    + [round(1 + 0.05 * i, 3) for i in range(1, 81)]
    + [round(5 + 0.25 * i, 3) for i in range(1, 101)]
    + [float("inf")]
)


def bucket(seconds: float) -> int:
    return bisect.bisect_left(_EDGES, seconds)


def percentile(histogram: dict, share: float) -> float:
    """The upper edge of the bucket holding the ``share`` quantile (p95: 0.95)."""
    total = sum(histogram.values())
    wanted = share * total
    seen = 0
    for index in sorted(histogram):
        seen += histogram[index]
        if seen >= wanted:
            return _EDGES[int(index)]
    return 0.0


class _Memo(dict):
    """``compute(key)``, remembered for up to ``size`` keys (beyond that computed each time): a
    hit is one dict look-up, with no test in the caller's loop."""

    __slots__ = ("compute", "size")

    def __init__(self, compute, size: int | None = None):
        super().__init__()
        self.compute, self.size = compute, size

    def __missing__(self, key):
        value = self.compute(key)
        if self.size is None or len(self) < self.size:
            self[key] = value
        return value


def _is_scanner_key(key: str | tuple) -> bool:
    """``is_scanner_request`` for LogRules' memo: a plain request (GET, HEAD or POST, no query)
    is keyed by its path alone, any other by (method, path, query)."""
    return is_scanner_request("GET", key, "") if isinstance(key, str) else is_scanner_request(*key)


# --- thresholds ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Thresholds:
    """settings.OPS_THRESHOLDS (docs/configuration.md), by name in lower case."""

    scanner_window_minutes: int
    scanner_path_hits: int
    scanner_tool_hits: int
    flood_pages_per_minute: int
    flood_login_per_minute: int
    flood_reset_per_minute: int
    flood_admin_per_minute: int
    flood_search_per_minute: int
    flood_files_per_minute: int
    flood_static_per_minute: int
    flood_refused_per_minute: int
    client_errors_per_5_minutes: int
    client_errors_min_share: float
    server_errors_per_5_minutes: int
    server_errors_min_share: float
    p95_min_requests: int
    p95_pages_seconds: float
    p95_login_seconds: float
    p95_search_seconds: float
    p95_admin_seconds: float
    login_failures_per_15_minutes: int
    lockouts_per_hour: int
    spray_accounts_per_hour: int

    @classmethod
    def from_settings(cls, values: dict) -> Thresholds:
        return cls(**{name.lower(): value for name, value in values.items()})

    def flood_limit(self, group: str) -> int | None:
        return getattr(self, f"flood_{group}_per_minute", None)

    def p95_limit(self, group: str) -> float | None:
        return getattr(self, f"p95_{group}_seconds", None)


# --- log rules -------------------------------------------------------------------------------------


class LogRules:
    """Feed records (``feed``), then ``findings()`` for the closed windows and ``carry()`` for the
    open ones. ``carry`` from the previous run is merged in first. One instance per log stream
    (records of one stream come nearly in time order, so windows well behind the newest record
    are judged and dropped as the feeding goes: a month of backlog needs no month of counters)."""

    FLOOD = 60
    ERRORS = 300
    SLOW = 300
    HOLD = 600  # records of one stream arrive at most this late (nginx workers flush every 5 s)
    COMPACT_EVERY = 100_000

    def __init__(self, thresholds: Thresholds, *, now: datetime, carry: dict | None = None, fold=None):
        self.t = thresholds
        self.now_ts = int(now.timestamp())
        self.scan_window = thresholds.scanner_window_minutes * 60
        self.fold = fold or (lambda address: address)
        self._fold_cache = _Memo(self.fold)
        self._group_cache = _Memo(path_group, 200_000)
        self._scan_cache = _Memo(_is_scanner_key, 200_000)  # a plain GET/HEAD/POST by its path alone
        self._tool_cache = _Memo(scanner_tool, 50_000)
        # Open windows.
        # scanner: (address, window) -> [path hits, tool hits, answered 2xx, first, last, requests Counter, tools set]
        self.scanner: dict[tuple, list] = {}
        self.flood: dict[tuple, int] = defaultdict(int)  # (address, group, minute) -> requests
        self.refused: dict[tuple, int] = defaultdict(int)  # (address, minute) -> refused.log lines
        self.flood_paths: dict[tuple, Counter] = {}  # (address, minute) -> requests, once the minute is busy
        self.clients: dict[tuple, list] = defaultdict(lambda: [0, 0, None, None])  # (address, window) ->
        #   [requests, 4xx, statuses, paths]
        self.servers: dict[int, list] = {}  # window -> [requests, 5xx, statuses, paths]
        self.times: dict[tuple, dict] = {}  # (group, window) -> {bucket: requests}
        self.slowest: dict[tuple, Counter] = {}  # (group, window) -> paths over the limit
        # Windows judged over their threshold.
        self.scanner_hits: dict[str, list] = defaultdict(list)
        self.flood_hits: dict[str, list] = defaultdict(list)  # address -> [(minute, group, requests, paths)]
        self.client_hits: dict[str, list] = defaultdict(list)
        self.server_hits: list = []
        self.slow_hits: dict[str, list] = defaultdict(list)
        self.lines = 0
        self.last_ts: int | None = None
        self._since_compact = 0
        if carry:
            self._load(carry)

    # -- feeding --

    def feed(self, records: Iterable) -> None:
        """Count ``records`` into their open windows. The hot loop of ops_scan: what every record
        does stays here, with the look-ups memoised (``_Memo``); what few records do (scanners,
        busy minutes, errors, slow responses, a new window) is a small method."""
        addresses, groups, scans, tools = self._fold_cache, self._group_cache, self._scan_cache, self._tool_cache
        flood, refused, clients = self.flood, self.refused, self.clients
        t = self.t
        busy = min(t.flood_pages_per_minute, t.flood_login_per_minute, t.flood_reset_per_minute) // 2
        limits = {g: t.p95_limit(g) for g in GROUPS if t.p95_limit(g) is not None}
        bisect_left, edges = bisect.bisect_left, _EDGES
        count = 0
        last_ts = self.last_ts or 0
        # Records come nearly in time order: the five-minute window of everyone's errors and the
        # histograms of the current window are looked up once per window, not once per record.
        server_window, server_entry = None, None
        histograms: dict[str, dict] = {}  # group -> histogram of server_window
        for record in records:
            count += 1
            ts = record.ts
            if ts > last_ts:
                last_ts = ts
            address = addresses[record.client]
            path = record.path
            group = groups[path]
            minute = ts - ts % 60
            if record.refused:
                refused[(address, minute)] += 1
                continue
            method, query, status = record.method, record.query, record.status
            scanning = scans[path if not query and method in _PLAIN_METHODS else (method, path, query)]
            tool = tools[record.user_agent]
            # Floods, per address and path group.
            fkey = (address, group, minute)
            n = flood[fkey] = flood[fkey] + 1
            if n >= busy:
                self._count_busy_minute(address, minute, method, path, query, status)
            window = ts - ts % 300
            if scanning or tool:  # scanners: paths nobody else asks for, tools by name
                self._count_scanner(address, ts, scanning, tool, method, path, query, status)
            else:  # errors the client caused (scanner requests are the scanner rule's)
                entry = clients[(address, window)]
                entry[0] += 1
                if 400 <= status < 500:
                    self._count_client_error(entry, status, method, path, query)
            if window != server_window:
                server_window, server_entry = window, self._server_window(window)
                histograms.clear()
            server_entry[0] += 1
            if status >= 500:
                self._count_server_error(server_entry, status, method, path, query)
            # Response times per path group (not files and static: their time is the download's).
            seconds = record.request_time
            limit = limits.get(group)
            if seconds is not None and limit is not None:
                histogram = histograms.get(group)
                if histogram is None:
                    histogram = histograms[group] = self._histogram(group, window)
                index = bisect_left(edges, seconds)
                histogram[index] = histogram.get(index, 0) + 1
                if seconds > limit:
                    self._count_slow(group, window, path, query)
        self._fed(count, last_ts)

    def _fed(self, count: int, last_ts: int) -> None:
        """After a batch: every ``COMPACT_EVERY`` records, judge and drop the windows well behind
        the newest record."""
        self.lines += count
        self.last_ts = last_ts or None
        self._since_compact += count
        if self._since_compact >= self.COMPACT_EVERY and self.last_ts:
            self.compact(self.last_ts - self.HOLD)
            self._since_compact = 0

    def _count_scanner(
        self, address: str, ts: int, scanning: bool, tool: str | None, method: str, path: str, query: str, status: int
    ) -> None:
        key = (address, ts - ts % self.scan_window)
        entry = self.scanner.get(key)
        if entry is None:
            entry = self.scanner[key] = [0, 0, 0, ts, ts, Counter(), set()]
        if scanning:
            entry[0] += 1
            if 200 <= status < 300:
                entry[2] += 1
        if tool:
            entry[1] += 1
            entry[6].add(tool)
        if ts < entry[3]:
            entry[3] = ts
        if ts > entry[4]:
            entry[4] = ts
        sample = (method, safe_uri(path, query), status)
        if sample in entry[5] or len(entry[5]) < 50:
            entry[5][sample] += 1

    def _count_busy_minute(self, address: str, minute: int, method: str, path: str, query: str, status: int) -> None:
        """The requests of an address's minute once it is busy (the flood's evidence)."""
        paths = self.flood_paths.get((address, minute))
        if paths is None:
            paths = self.flood_paths[(address, minute)] = Counter()
        if len(paths) < 200:
            paths[(method, safe_uri(path, query), status)] += 1

    @staticmethod
    def _count_client_error(entry: list, status: int, method: str, path: str, query: str) -> None:
        entry[1] += 1
        if entry[2] is None:
            entry[2], entry[3] = Counter(), Counter()
        entry[2][status] += 1
        if len(entry[3]) < 50:
            entry[3][(method, safe_uri(path, query))] += 1

    def _server_window(self, window: int) -> list:
        entry = self.servers.get(window)
        if entry is None:
            entry = self.servers[window] = [0, 0, Counter(), Counter()]
        return entry

    @staticmethod
    def _count_server_error(entry: list, status: int, method: str, path: str, query: str) -> None:
        entry[1] += 1
        entry[2][status] += 1
        if len(entry[3]) < 50:
            entry[3][(method, safe_uri(path, query))] += 1

    def _histogram(self, group: str, window: int) -> dict:
        histogram = self.times.get((group, window))
        if histogram is None:
            histogram = self.times[(group, window)] = {}
        return histogram

    def _count_slow(self, group: str, window: int, path: str, query: str) -> None:
        slow = self.slowest.get((group, window))
        if slow is None:
            slow = self.slowest[(group, window)] = Counter()
        if len(slow) < 50:
            slow[safe_uri(path, query)] += 1

    # -- judging --

    def compact(self, watermark: int) -> None:
        """Judge every window closed before ``watermark`` (and the scan's time) and drop it."""
        cutoff = min(self.now_ts, watermark) - LATENESS

        def closed(start, length):
            return start + length <= cutoff

        self._judge_scanners(closed)
        self._judge_floods(closed)
        self._judge_client_errors(closed)
        self._judge_server_errors(closed)
        self._judge_response_times(closed)

    def _judge_scanners(self, closed) -> None:
        t = self.t
        for key in [k for k in self.scanner if closed(k[1], self.scan_window)]:
            entry = self.scanner.pop(key)
            if entry[0] >= t.scanner_path_hits or entry[1] >= t.scanner_tool_hits:
                self.scanner_hits[key[0]].append(entry)

    def _judge_floods(self, closed) -> None:
        t = self.t
        for key in [k for k in self.flood if closed(k[2], self.FLOOD)]:
            n = self.flood.pop(key)
            limit = t.flood_limit(key[1])
            if limit is not None and n >= limit:
                self.flood_hits[key[0]].append((key[2], key[1], n, self.flood_paths.get((key[0], key[2]))))
        for key in [k for k in self.refused if closed(k[1], self.FLOOD)]:
            n = self.refused.pop(key) * REFUSED_SAMPLE
            if n >= t.flood_refused_per_minute:
                self.flood_hits[key[0]].append((key[1], "refused", n, None))
        for key in [k for k in self.flood_paths if closed(k[1], self.FLOOD)]:
            del self.flood_paths[key]

    def _judge_client_errors(self, closed) -> None:
        t = self.t
        for key in [k for k in self.clients if closed(k[1], self.ERRORS)]:
            total, errors, statuses, paths = self.clients.pop(key)
            if errors >= t.client_errors_per_5_minutes and errors >= t.client_errors_min_share * total:
                self.client_hits[key[0]].append((key[1], total, errors, statuses, paths))

    def _judge_server_errors(self, closed) -> None:
        t = self.t
        for window in [w for w in self.servers if closed(w, self.ERRORS)]:
            total, errors, statuses, paths = self.servers.pop(window)
            if errors >= t.server_errors_per_5_minutes and errors >= t.server_errors_min_share * total:
                self.server_hits.append((window, total, errors, statuses, paths))

    def _judge_response_times(self, closed) -> None:
        t = self.t
        for key in [k for k in self.times if closed(k[1], self.SLOW)]:
            histogram = self.times.pop(key)
            slow = self.slowest.pop(key, None)
            total = sum(histogram.values())
            if total >= t.p95_min_requests:
                p95 = percentile(histogram, 0.95)
                if p95 > t.p95_limit(key[0]):
                    self.slow_hits[key[0]].append((key[1], total, p95, slow or Counter()))

    def findings(self) -> list[Finding]:
        self.compact(self.now_ts)
        return (
            self._scanner_findings()
            + self._flood_findings()
            + self._client_error_findings()
            + self._server_error_findings()
            + self._slow_findings()
        )

    def _scanner_findings(self) -> list[Finding]:
        found = []
        for address, entries in self.scanner_hits.items():
            requests = Counter()
            for entry in entries:
                requests.update(entry[5])
            answered = sum(e[2] for e in entries)
            tools = sorted(set().union(*(e[6] for e in entries)))
            probes = sum(e[0] for e in entries)
            found.append(
                Finding(
                    "scanner",
                    address,
                    CRITICAL if answered else WARNING,
                    sum(max(e[0], e[1]) for e in entries),
                    _utc(min(e[3] for e in entries)),
                    _utc(max(e[4] for e in entries)),
                    f"{address} から脆弱性スキャン（スキャン用アドレスへの要求 {probes} 件"
                    + (f"、ツール {', '.join(tools)}" if tools else "")
                    + (f"、うち {answered} 件に 2xx で応答" if answered else "")
                    + "）",
                    {
                        "address": address,
                        "scanner_requests": probes,
                        "tools": tools,
                        "answered_2xx": answered,
                        "requests": [[m, p, s, n] for (m, p, s), n in requests.most_common(10)],
                    },
                )
            )
        return found

    def _flood_findings(self) -> list[Finding]:
        found = []
        for address, entries in self.flood_hits.items():
            peak = max(entries, key=lambda e: e[2])
            requests = Counter()
            for entry in entries:
                requests.update(entry[3] or Counter())
            minutes = len({e[0] for e in entries})
            found.append(
                Finding(
                    "flood",
                    address,
                    WARNING,
                    sum(e[2] for e in entries),
                    _utc(min(e[0] for e in entries)),
                    _utc(max(e[0] for e in entries) + 59),
                    f"{address} から大量アクセス（{GROUP_LABELS[peak[1]]}で最大 {peak[2]:,} 件/分、{minutes} 分間）",
                    {
                        "address": address,
                        "peak_per_minute": peak[2],
                        "peak_group": peak[1],
                        "groups": sorted({e[1] for e in entries}),
                        "minutes": minutes,
                        "requests": [[m, p, s, n] for (m, p, s), n in requests.most_common(10)],
                    },
                )
            )
        return found

    def _client_error_findings(self) -> list[Finding]:
        found = []
        for address, entries in self.client_hits.items():
            statuses, paths = Counter(), Counter()
            for _, _, _, s, p in entries:
                statuses.update(s or {})
                paths.update(p or {})
            errors, total = sum(e[2] for e in entries), sum(e[1] for e in entries)
            found.append(
                Finding(
                    "client_errors",
                    address,
                    WARNING,
                    errors,
                    _utc(min(e[0] for e in entries)),
                    _utc(max(e[0] for e in entries) + 299),
                    f"{address} への 4xx 応答の急増（5 分間に最大 {max(e[2] for e in entries):,} 件、"
                    f"その間の要求の {errors * 100 // total}%）",
                    {
                        "address": address,
                        "errors": errors,
                        "requests": total,
                        "statuses": _top(statuses, 10),
                        "paths": [[m, p, n] for (m, p), n in paths.most_common(10)],
                    },
                )
            )
        return found

    def _server_error_findings(self) -> list[Finding]:
        entries = self.server_hits
        if not entries:
            return []
        statuses, paths = Counter(), Counter()
        for _, _, _, s, p in entries:
            statuses.update(s)
            paths.update(p)
        errors, total = sum(e[2] for e in entries), sum(e[1] for e in entries)
        return [
            Finding(
                "server_errors",
                "site",
                CRITICAL,
                errors,
                _utc(min(e[0] for e in entries)),
                _utc(max(e[0] for e in entries) + 299),
                f"5xx エラーの急増（5 分間に最大 {max(e[2] for e in entries):,} 件、{len(entries)} 区間）",
                {
                    "errors": errors,
                    "requests": total,
                    "windows": len(entries),
                    "statuses": _top(statuses, 10),
                    "paths": [[m, p, n] for (m, p), n in paths.most_common(10)],
                },
            )
        ]

    def _slow_findings(self) -> list[Finding]:
        found = []
        for group, entries in self.slow_hits.items():
            worst = max(entries, key=lambda e: e[2])
            slow = Counter()
            for entry in entries:
                slow.update(entry[3])
            limit = self.t.p95_limit(group)
            found.append(
                Finding(
                    "slow_responses",
                    group,
                    WARNING,
                    len(entries),
                    _utc(min(e[0] for e in entries)),
                    _utc(max(e[0] for e in entries) + 299),
                    f"応答の遅れ：{GROUP_LABELS[group]}の p95 が {worst[2]:g} 秒（上限 {limit:g} 秒、5 分間の区間 {len(entries)} 個）",
                    {
                        "group": group,
                        "p95_seconds": worst[2],
                        "limit_seconds": limit,
                        "requests": worst[1],
                        "windows": len(entries),
                        "slow_paths": _top(slow, 10),
                    },
                )
            )
        return found

    # -- carrying open windows to the next run (call after findings()) --

    def carry(self) -> dict:
        return {
            "scanner": [
                [a, w, e[0], e[1], e[2], e[3], e[4], [[list(k), n] for k, n in e[5].items()], sorted(e[6])]
                for (a, w), e in self.scanner.items()
            ],
            "flood": [[a, g, m, n] for (a, g, m), n in self.flood.items()],
            "refused": [[a, m, n] for (a, m), n in self.refused.items()],
            "clients": [
                [a, w, e[0], e[1], list((e[2] or {}).items()), [[list(k), n] for k, n in (e[3] or {}).items()]]
                for (a, w), e in self.clients.items()
            ],
            "servers": [
                [w, e[0], e[1], list(e[2].items()), [[list(k), n] for k, n in e[3].items()]]
                for w, e in self.servers.items()
            ],
            "times": [[g, w, list(h.items())] for (g, w), h in self.times.items()],
        }

    def _load(self, carry: dict) -> None:
        for a, w, probes, tools, ok, first, last, samples, names in carry.get("scanner", []):
            self.scanner[(a, w)] = [
                probes,
                tools,
                ok,
                first,
                last,
                Counter({tuple(k): n for k, n in samples}),
                set(names),
            ]
        for a, g, m, n in carry.get("flood", []):
            self.flood[(a, g, m)] += n
        for a, m, n in carry.get("refused", []):
            self.refused[(a, m)] += n
        for a, w, total, errors, statuses, paths in carry.get("clients", []):
            self.clients[(a, w)] = [
                total,
                errors,
                Counter({int(k): n for k, n in statuses}) if errors else None,
                Counter({tuple(k): n for k, n in paths}) if errors else None,
            ]
        for w, total, errors, statuses, paths in carry.get("servers", []):
            self.servers[w] = [
                total,
                errors,
                Counter({int(k): n for k, n in statuses}),
                Counter({tuple(k): n for k, n in paths}),
            ]
        for g, w, histogram in carry.get("times", []):
            self.times[(g, w)] = {int(k): n for k, n in histogram}


# --- audit rules -----------------------------------------------------------------------------------

FAILURES = ("login.failed", "login.totp_failed")
SUCCESS = "login.succeeded"
REFUSED = ("login.locked_out", "login.throttled")
LOCKOUTS = ("lockout.started", "address.slowed")


@dataclass(frozen=True)
class Event:
    """An audit event as the rules need it."""

    id: int
    ts: float
    action: str
    address: str  # folded (IPv6 /64), "" when none
    username: str  # the user ID as checked
    known: bool  # the user ID is an account (only those are shown in evidence)
    new: bool  # not seen by an earlier run (older ones are context for the windows)


def _most_in_window(events: list[Event], window: float, predicate) -> tuple[int, list[Event]]:
    """The largest number of events in any window ending at a new event, and those events."""
    best, best_events = 0, []
    start = 0
    chosen = [e for e in events if predicate(e)]
    for end, event in enumerate(chosen):
        while chosen[start].ts <= event.ts - window:
            start += 1
        if event.new and end - start + 1 > best:
            best, best_events = end - start + 1, chosen[start : end + 1]
    return best, best_events


class AuditRules:
    """Login attacks from the audit trail: many user IDs tried from one address (account spray:
    failures and refused tries of user IDs that did not log in from there since), and, from
    everyone else, spikes of failures and of protections."""

    SPRAY_WINDOW = 3600
    FAILURE_WINDOW = 900
    LOCKOUT_WINDOW = 3600

    def __init__(self, thresholds: Thresholds, events: list[Event]):
        self.t = thresholds
        self.events = sorted(events, key=lambda e: (e.ts, e.id))

    def findings(self, *, excluded_addresses: Iterable[str] = ()) -> list[Finding]:
        spray = self._spray()
        excluded = set(excluded_addresses) | {finding.key for finding in spray}
        return spray + self._failures(excluded) + self._lockouts(excluded)

    def _spray(self) -> list[Finding]:
        by_address: dict[str, list[Event]] = defaultdict(list)
        for event in self.events:
            if event.address and (event.action in FAILURES or event.action == SUCCESS or event.action in REFUSED):
                by_address[event.address].append(event)
        found = []
        for address, events in by_address.items():
            succeeded: dict[str, float] = {}
            for event in events:
                if event.action == SUCCESS:
                    succeeded[event.username] = max(succeeded.get(event.username, 0), event.ts)
            failures = [e for e in events if e.action in FAILURES or e.action in REFUSED]  # every try
            best, best_window, start = 0, [], 0
            in_window: Counter = Counter()
            for end, event in enumerate(failures):
                in_window[event.username] += 1
                while failures[start].ts <= event.ts - self.SPRAY_WINDOW:
                    in_window[failures[start].username] -= 1
                    if not in_window[failures[start].username]:
                        del in_window[failures[start].username]
                    start += 1
                if not event.new:
                    continue
                # A user ID that logged in from here since the window began was a typo.
                window_start = event.ts - self.SPRAY_WINDOW
                tried = [name for name in in_window if succeeded.get(name, 0) <= window_start]
                if len(tried) > best:
                    best, best_window = len(tried), failures[start : end + 1]
            if best < self.t.spray_accounts_per_hour:
                continue
            names = {e.username for e in best_window}
            known = sorted({e.username for e in best_window if e.known})
            new_failures = [e for e in failures if e.new and e.action in FAILURES]
            refused = sum(1 for e in failures if e.new and e.action in REFUSED)
            then_succeeded = sorted(n for n in names if succeeded.get(n, 0) > best_window[-1].ts)
            found.append(
                Finding(
                    "account_spray",
                    address,
                    CRITICAL,
                    len(new_failures) + refused,
                    _utc(best_window[0].ts),
                    _utc(max(e.ts for e in failures if e.new)),
                    f"{address} から {best} 件のユーザーIDへのログイン試行（1時間以内、成功していないもの）",
                    {
                        "address": address,
                        "accounts_tried": best,
                        "distinct_ids_in_window": len(names),
                        "failures": len(new_failures),
                        "refused_attempts": refused,
                        "known_accounts": known[:30],
                        "unknown_ids": len(names) - len(known),
                        "succeeded_afterwards": then_succeeded[:30],
                    },
                )
            )
        return found

    def _failures(self, excluded: set[str]) -> list[Finding]:
        best, window = _most_in_window(
            self.events, self.FAILURE_WINDOW, lambda e: e.action in FAILURES and e.address not in excluded
        )
        if best < self.t.login_failures_per_15_minutes:
            return []
        addresses = Counter(e.address for e in window)
        accounts = {e.username for e in window}
        return [
            Finding(
                "login_failures",
                "site",
                WARNING,
                best,
                _utc(window[0].ts),
                _utc(window[-1].ts),
                f"ログイン失敗の急増（15 分間に {best} 件、{len(addresses)} か所のアドレス、{len(accounts)} 件のユーザーID）",
                {
                    "failures": best,
                    "addresses": len(addresses),
                    "top_addresses": _top(addresses, 10),
                    "accounts": len(accounts),
                },
            )
        ]

    def _lockouts(self, excluded: set[str]) -> list[Finding]:
        best, window = _most_in_window(
            self.events, self.LOCKOUT_WINDOW, lambda e: e.action in LOCKOUTS and e.address not in excluded
        )
        if best < self.t.lockouts_per_hour:
            return []
        kinds = Counter(e.action for e in window)
        return [
            Finding(
                "lockouts",
                "site",
                WARNING,
                best,
                _utc(window[0].ts),
                _utc(window[-1].ts),
                f"ログインの保護・制限の急増（1 時間に {best} 件：ユーザーIDの保護 {kinds['lockout.started']} 件、"
                f"アドレスの制限 {kinds['address.slowed']} 件）",
                {
                    "events": best,
                    "accounts_protected": kinds["lockout.started"],
                    "addresses_slowed": kinds["address.slowed"],
                    "addresses": _top(Counter(e.address for e in window if e.address), 10),
                },
            )
        ]
