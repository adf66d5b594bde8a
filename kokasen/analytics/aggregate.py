"""From log records to daily counts (decision 0036). Django-free, so that it runs in worker
processes: ``Partial`` gathers the records of a span per client and day; partials add up
(``Partial.merge``); ``fold`` judges every client-day (bots.py) and turns the partials into the
day's counts (``Totals``). A client (address + user agent) exists only in memory here: what is
stored is counted, or hashed with a secret of the day (ingest.py).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from . import bots, classify
from .classify import ASSET, DOWNLOAD, PAGE

# Response times: a histogram per page and day, so that days, runs and processes add up. Under
# 10 ms one bucket per millisecond, then buckets 5 % wide: p50/p95 are read to within 5 %.
_LOG_STEP = math.log(1.05)


def time_bucket(seconds: float) -> int:
    ms = seconds * 1000
    if ms < 10:
        return int(ms)
    return 10 + int(math.log(ms / 10) / _LOG_STEP)


def bucket_seconds(bucket: int) -> float:
    """The upper bound of a bucket, in seconds."""
    if bucket < 10:
        return (bucket + 1) / 1000
    return round(10 * math.exp((bucket - 9) * _LOG_STEP) / 1000, 4)


def percentile(histogram: dict, share: float) -> float | None:
    total = sum(histogram.values())
    if not total:
        return None
    wanted = share * total
    running = 0
    for bucket in sorted(histogram, key=int):
        running += histogram[bucket]
        if running >= wanted:
            return bucket_seconds(int(bucket))
    return None  # pragma: no cover


class ClientDay:
    """What one client did on one day (in memory only)."""

    __slots__ = ("pages", "downloads", "referrers", "campaigns", "not_found", "kinds", "minutes", "robots", "scanner")

    def __init__(self):
        self.pages: dict[str, int] = {}
        self.downloads: dict[str, int] = {}
        self.referrers: dict[str, int] = {}
        self.campaigns: dict[str, int] = {}
        self.not_found: dict[tuple[str, str], int] = {}
        self.kinds: dict[str, int] = {}
        self.minutes: dict[int, int] = {}
        self.robots = False
        self.scanner = 0

    def merge(self, other: ClientDay) -> None:
        for name in ("pages", "downloads", "referrers", "campaigns", "not_found", "kinds", "minutes"):
            mine = getattr(self, name)
            for key, count in getattr(other, name).items():
                mine[key] = mine.get(key, 0) + count
        self.robots = self.robots or other.robots
        self.scanner += other.scanner


class Partial:
    """The records of some lines, per client and day."""

    def __init__(self):
        self.clients: dict[tuple[date, str, str], ClientDay] = {}
        self.lines: dict[date | None, int] = defaultdict(int)
        self.bad: dict[date | None, int] = defaultdict(int)
        self.times: dict[tuple[date, str], dict[int, int]] = {}

    def merge(self, other: Partial) -> Partial:
        for key, client in other.clients.items():
            mine = self.clients.get(key)
            if mine is None:
                self.clients[key] = client
            else:
                mine.merge(client)
        for day, count in other.lines.items():
            self.lines[day] += count
        for day, count in other.bad.items():
            self.bad[day] += count
        for key, histogram in other.times.items():
            mine = self.times.setdefault(key, {})
            for bucket, count in histogram.items():
                mine[bucket] = mine.get(bucket, 0) + count
        return self


class Days:
    """Local dates of epoch seconds (cached per quarter hour)."""

    def __init__(self, zone: str):
        self.zone = ZoneInfo(zone)
        self.cache: dict[int, date] = {}

    def __call__(self, ts: int) -> date:
        quarter = ts // 900
        day = self.cache.get(quarter)
        if day is None:
            day = self.cache[quarter] = datetime.fromtimestamp(ts, self.zone).date()
        return day


_KIND_CACHE: dict[tuple[str, str, int], tuple[str, str, bool, str]] = {}


def _kind(raw_path: str, method: str, status: int) -> tuple[str, str, bool, str]:
    """(kind of the request, normalised path, scanner's path, kind of the path), cached."""
    path_kind, path, scanner = classify.path_class(raw_path)
    found = (classify.request_kind(path_kind, method, status), path, scanner, path_kind)
    if len(_KIND_CACHE) > 200_000:
        _KIND_CACHE.clear()
    _KIND_CACHE[(raw_path, method, status)] = found
    return found


def add_records(
    partial: Partial, records: Iterable, bad: int, days: Days, bot_filter: bots.Filter, previous: date | None = None
) -> date | None:
    """Add a chunk's records and its bad lines, counted on the day of the chunk's last good
    line (``previous``: of the chunk before, for a chunk without one). Returns that day."""
    clients = partial.clients
    times = partial.times
    kinds_cache = _KIND_CACHE
    last_day = None
    last_quarter = -1
    count = 0
    counted: dict[date, int] = {}
    for record in records:
        ts = record.ts
        if ts // 900 != last_quarter:  # the lines are nearly in time order: the day rarely changes
            last_quarter = ts // 900
            day = days(ts)
            if day is not last_day:
                _count_day(counted, last_day, count)
                last_day, count = day, 0
        count += 1
        key = (day, record.client, record.user_agent)
        client = clients.get(key)
        if client is None:
            client = clients[key] = ClientDay()
        status = record.status
        found = kinds_cache.get((record.path, record.method, status))
        if found is None:
            found = _kind(record.path, record.method, status)
        kind, path, scanner, path_kind = found
        kinds = client.kinds
        kinds[kind] = kinds.get(kind, 0) + 1
        if scanner:
            client.scanner += 1
        if kind is DOWNLOAD:
            client.downloads[path] = client.downloads.get(path, 0) + 1
        elif kind is not ASSET:  # the request rate counts what a person clicks, not what a page loads
            if kind is PAGE:
                _page_view(client, record, path, times, day)
            elif path_kind == "robots":
                client.robots = True
            minute = ts // 60
            client.minutes[minute] = client.minutes.get(minute, 0) + 1
        if status == 404:
            nf_key = (path, classify.referrer_page(record.referrer))
            client.not_found[nf_key] = client.not_found.get(nf_key, 0) + 1
    _count_day(counted, last_day, count)
    last_day = last_day or previous
    _count_lines(partial, counted, last_day, bad)
    return last_day


def _count_day(counted: dict, day: date | None, count: int) -> None:
    if day is not None:
        counted[day] = counted.get(day, 0) + count


def _page_view(client: ClientDay, record, path: str, times: dict, day: date) -> None:
    pages = client.pages
    pages[path] = pages.get(path, 0) + 1
    host = classify.referrer_host(record.referrer)
    if host:
        client.referrers[host] = client.referrers.get(host, 0) + 1
    if record.query:
        value = classify.campaign(record.query)
        if value:
            client.campaigns[value] = client.campaigns.get(value, 0) + 1
    if record.request_time is not None:
        histogram = times.get((day, path))
        if histogram is None:
            histogram = times[(day, path)] = {}
        bucket = time_bucket(record.request_time)
        histogram[bucket] = histogram.get(bucket, 0) + 1


def _count_lines(partial: Partial, counted: dict, last_day, bad: int) -> None:
    for day, n in counted.items():
        partial.lines[day] += n
    if bad:
        partial.lines[last_day] += bad
        partial.bad[last_day] += bad


@dataclass
class Totals:
    """The counts of a run, per day (what ingest.py adds to the tables)."""

    days: dict = field(default_factory=lambda: defaultdict(lambda: defaultdict(int)))  # day → field → n
    pages: dict = field(default_factory=lambda: defaultdict(lambda: [0, 0]))  # (day, path) → [views, bot views]
    downloads: dict = field(default_factory=lambda: defaultdict(lambda: [0, 0, 0]))  # (day, path) → [dl, req, bot req]
    breakdown: dict = field(default_factory=lambda: defaultdict(int))  # (day, dimension, value) → n
    not_found: dict = field(default_factory=lambda: defaultdict(int))  # (day, path, referrer) → n
    times: dict = field(default_factory=dict)  # (day, path) → histogram
    bot_clients: list = field(default_factory=list)  # (day, address, agent) judged bots in this run
    download_keys: list = field(default_factory=list)  # (day, address, agent, path) of downloads counted


def fold(
    partial: Partial,
    bot_filter: bots.Filter,
    *,
    known_bot: Callable[[date, str, str], bool] = lambda day, address, agent: False,
    seen_download: Callable[[date, str, str, str], bool] = lambda day, address, agent, path: False,
    fallback_day: date | None = None,
) -> Totals:
    """Judge each client-day and count. ``known_bot``: judged a bot by an earlier run of the
    same day; ``seen_download``: that client's download of that file was counted already that day;
    ``fallback_day``: the day of bad lines in a chunk without a single good line."""
    totals = Totals()
    rules = bot_filter.rules
    for day, count in partial.lines.items():
        if day is not None or fallback_day is not None:
            totals.days[day or fallback_day]["lines"] += count
    for day, count in partial.bad.items():
        if day is not None or fallback_day is not None:
            totals.days[day or fallback_day]["bad_lines"] += count
    totals.times = partial.times
    for (day, address, agent), client in partial.clients.items():
        agent_reason, device = bot_filter.agent(agent)
        reason = bots.judge(
            rules,
            agent_reason=agent_reason,
            ignored=bot_filter.address_ignored(address),
            robots=client.robots,
            scanner_hits=client.scanner,
            busiest_minute=max(client.minutes.values(), default=0),
            pages=sum(client.pages.values()),
            assets=client.kinds.get(ASSET, 0),
        )
        if not reason and known_bot(day, address, agent):
            reason = bots.EARLIER
        requests = sum(client.kinds.values())
        totals.days[day]["requests"] += requests
        if reason:
            _count_bot(totals, day, address, agent, client, reason, requests)
        else:
            _count_person(totals, day, address, agent, client, device, seen_download)
    return totals


def _count_bot(totals: Totals, day, address, agent, client: ClientDay, reason: str, requests: int) -> None:
    totals.bot_clients.append((day, address, agent))
    totals.days[day]["bot_requests"] += requests
    breakdown = totals.breakdown
    breakdown[(day, "bot_reason", reason)] += requests
    for kind, n in client.kinds.items():
        breakdown[(day, "bot_kind", kind)] += n
    for path, n in client.pages.items():
        totals.pages[(day, path)][1] += n
    for path, n in client.downloads.items():
        entry = totals.downloads[(day, path)]
        entry[1] += n
        entry[2] += n


def _count_person(totals: Totals, day, address, agent, client: ClientDay, device: str, seen_download) -> None:
    day_totals, breakdown = totals.days[day], totals.breakdown
    for kind, n in client.kinds.items():
        breakdown[(day, "kind", kind)] += n
    views = 0
    for path, n in client.pages.items():
        totals.pages[(day, path)][0] += n
        views += n
    day_totals["page_views"] += views
    if views:
        breakdown[(day, "device", device)] += views
    for host, n in client.referrers.items():
        breakdown[(day, "referrer", host)] += n
    for value, n in client.campaigns.items():
        breakdown[(day, "campaign", value)] += n
    for (path, referrer), n in client.not_found.items():
        totals.not_found[(day, path, referrer)] += n
    for path, n in client.downloads.items():
        entry = totals.downloads[(day, path)]
        entry[1] += n
        if not seen_download(day, address, agent, path):
            entry[0] += 1
            day_totals["downloads"] += 1
            totals.download_keys.append((day, address, agent, path))
