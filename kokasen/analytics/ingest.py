"""Reading access logs into the daily counts (decision 0036), with the shared reader
(core/access_log.py, decision 0030).

- A path named in ``ANALYTICS_ACCESS_LOGS`` is a live log: it is read with its rotated
  siblings (logrotate's create and copytruncate modes), each line once, a line still being
  written left for the next run.
- Any other path is an import (a file given by hand, the agency's server's logs): read whole,
  its last line counted without a line break; the same file given again, under any name or
  gzipped, adds nothing, a longer copy of it only its new lines.

Work: the new content is cut into spans (``LogReader.spans``) read by ``processes`` worker
processes (parse, classify, gather per client and day: aggregate.py); the parent adds the
partials up, judges the bots and writes the counts, the keys and the log positions in one
transaction, so a run that fails part way changes nothing and the next reads the same lines.
In the same transaction, the closed months whose days it changed are rolled up again and any
closed month not rolled up yet is rolled up (``rollup.days_changed``, decision 0064).
"""

from __future__ import annotations

import gc
import hashlib
import hmac
import multiprocessing
import os
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.db import connection, models, transaction
from django.db.models import F

from kokasen.core import run_lock
from kokasen.core.access_log import READ_ERRORS, DatabaseStore, LogReader, Span, read_span

from . import aggregate, bots, rollup
from .models import Breakdown, ClientKey, DayTotal, DownloadDay, NotFoundDay, PageDay

CONSUMER = "analytics"
IMPORTS = "imports"
PARALLEL_FROM_BYTES = 8 << 20  # below this, one process (a pool costs more than it saves)
MAX_PATH = 500


@dataclass
class Report:
    lines: int = 0
    bad_lines: int = 0
    bad_samples: list[str] = field(default_factory=list)
    requests: int = 0
    bot_requests: int = 0
    page_views: int = 0
    downloads: int = 0
    files: int = 0
    problems: list[str] = field(default_factory=list)
    days: list[date] = field(default_factory=list)


Busy = run_lock.Busy  # another ingestion (the timer's, a command, an upload) is running


def one_run():
    """The lock OPS_STATE_DIR/ingest_access_logs.lock for a run, or ``Busy`` at once: one
    ingestion at a time, whoever starts it."""
    return run_lock.one_run("ingest_access_logs")


def rules_from_settings() -> bots.Rules:
    return bots.Rules(
        ignore_agents=tuple(settings.ANALYTICS_IGNORE_AGENTS), ignore_networks=tuple(settings.ANALYTICS_IGNORE_NETWORKS)
    )


# --- the workers -----------------------------------------------------------------------------------

_worker: dict = {}


def _init_worker(zone: str, rules: bots.Rules) -> None:
    _worker["days"] = aggregate.Days(zone)
    _worker["filter"] = bots.Filter(rules)


def _read(item: tuple[int, Span]) -> tuple[int, aggregate.Partial, int, int, int, list[str], str]:
    """Read one span: (its index, partial counts, lines, bad lines, where it ended, bad samples,
    a problem: a damaged file is counted up to its last good block, never fatal)."""
    index, span = item
    partial = aggregate.Partial()
    days, bot_filter = _worker["days"], _worker["filter"]
    lines = bad = 0
    end = span.start
    samples: list[str] = []
    last_day = None
    problem = ""
    try:
        for chunk in read_span(span):
            last_day = aggregate.add_records(partial, chunk.records, chunk.bad, days, bot_filter, last_day)
            lines += chunk.lines
            bad += chunk.bad
            end = chunk.end
            samples += chunk.bad_samples[: 5 - len(samples)]
    except READ_ERRORS as error:
        problem = f"{span.path}: {error}"
    return index, partial, lines, bad, end, samples, problem


def read_spans(spans: list[Span], *, zone: str, rules: bots.Rules, processes: int):
    """What ``_read`` returns for each span, in worker processes if ``processes`` > 1.

    The objects that exist before (Django, the patterns …) are moved out of the cyclic
    collector's sight while the spans are read (``gc.freeze``): reading makes millions of
    short-lived objects, and each full collection walked that whole heap again, in a forked
    worker also copying every page it shares with the parent (a third of the workers' CPU time
    on a million lines)."""
    items = list(enumerate(spans))
    gc.freeze()
    try:
        if processes <= 1 or len(spans) <= 1:
            _init_worker(zone, rules)
            yield from map(_read, items)
            return
        context = multiprocessing.get_context("fork")
        with context.Pool(min(processes, len(spans)), initializer=_init_worker, initargs=(zone, rules)) as pool:
            yield from pool.imap_unordered(_read, items)
    finally:
        gc.unfreeze()


# --- the run ---------------------------------------------------------------------------------------


def _readers(paths, now: datetime) -> list[LogReader]:
    live = {str(Path(path)) for path in getattr(settings, "ANALYTICS_ACCESS_LOGS", [])}
    readers = []
    for path in paths:
        path = Path(path)
        if str(path) in live:
            readers.append(LogReader(path, consumer=CONSUMER, store=DatabaseStore(), now=now))
        else:
            readers.append(
                LogReader(
                    path,
                    consumer=CONSUMER,
                    store=DatabaseStore(),
                    now=now,
                    stream=IMPORTS,
                    rotated=False,
                    final=True,
                    forget_after=None,
                )
            )
    return readers


def _secret(day: date) -> bytes:
    return hmac.new(
        settings.SECRET_KEY.encode(), f"kokasen.analytics.client:{day.isoformat()}".encode(), "sha256"
    ).digest()


class _Keys:
    def __init__(self):
        self.secrets: dict[date, bytes] = {}

    def __call__(self, day: date, *parts: str) -> str:
        secret = self.secrets.get(day)
        if secret is None:
            secret = self.secrets[day] = _secret(day)
        return hmac.new(secret, "\x00".join(parts).encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()[:32]


def ingest(paths, *, processes: int | None = None, now: datetime | None = None) -> Report:
    """Read the new lines of ``paths`` and add them to the daily counts."""
    now = now or datetime.now(UTC)
    zone = settings.TIME_ZONE
    rules = rules_from_settings()
    report = Report()
    readers = _readers(paths, now)
    owners: list[LogReader] = []
    spans: list[Span] = []
    if processes is None:
        processes = min(2, os.cpu_count() or 1)
    for reader in readers:
        for span in reader.spans(parts=max(1, processes)):
            owners.append(reader)
            spans.append(span)
    size = sum((span.end - span.start) if span.end >= 0 else span.path.stat().st_size * 8 for span in spans)
    bot_filter = bots.Filter(rules)  # the patterns compiled before the workers fork
    partial = aggregate.Partial()
    for index, part, lines, bad, end, samples, problem in read_spans(
        spans, zone=zone, rules=rules, processes=processes if size >= PARALLEL_FROM_BYTES else 1
    ):
        owners[index].account(spans[index], lines=lines, bad=bad, end=end)
        partial.merge(part)
        report.bad_samples += samples[: 5 - len(report.bad_samples)]
        if problem:
            report.problems.append(problem)
    for reader in readers:
        report.problems += reader.problems
        report.files += reader.files_seen
    days = sorted({day for day in partial.lines if day is not None} | {key[0] for key in partial.clients})
    keys = _Keys()
    with transaction.atomic():
        known = set(ClientKey.objects.filter(day__in=days).values_list("day", "kind", "key"))
        totals = aggregate.fold(
            partial,
            bot_filter,
            known_bot=lambda day, address, agent: (day, ClientKey.BOT, keys(day, address, agent)) in known,
            seen_download=lambda day, address, agent, path: (
                (day, ClientKey.DOWNLOAD, keys(day, address, agent, path)) in known
            ),
            fallback_day=now.astimezone(aggregate.ZoneInfo(zone)).date(),
        )
        _write(totals, keys, known)
        rollup.days_changed(totals.days)  # a late line of a closed month: that month again (decision 0064)
        _forget_keys(now)
        for reader in readers:
            reader.commit()
    for values in totals.days.values():
        report.lines += values["lines"]
        report.bad_lines += values["bad_lines"]
        report.requests += values["requests"]
        report.bot_requests += values["bot_requests"]
        report.page_views += values["page_views"]
        report.downloads += values["downloads"]
    report.days = sorted(totals.days)
    return report


def _forget_keys(now: datetime) -> None:
    keep = getattr(settings, "ANALYTICS_CLIENT_KEY_DAYS", 35)
    ClientKey.objects.filter(day__lt=(now - timedelta(days=keep)).date()).delete()


def _insert(model, columns: tuple[str, ...], rows: list[tuple]) -> None:
    """New rows as multi-row INSERTs, without model instances (a large import makes tens of
    thousands of rows: Django's ``bulk_create`` spent most of the write in building and preparing
    them). ``columns``: field names; JSON values are prepared by their field."""
    if not rows:
        return
    meta = model._meta
    fields = [meta.get_field(name) for name in columns]
    json_at = [i for i, f in enumerate(fields) if isinstance(f, models.JSONField)]
    if json_at:
        prepare = {i: fields[i].get_db_prep_save for i in json_at}
        rows = [
            tuple(prepare[i](value, connection) if i in prepare else value for i, value in enumerate(row))
            for row in rows
        ]
    quote = connection.ops.quote_name
    head = f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) VALUES "
    one = "(" + ", ".join(["%s"] * len(fields)) + ")"
    batch = max(1, min(1000, connection.ops.bulk_batch_size(fields, rows)))
    with connection.cursor() as cursor:
        for start in range(0, len(rows), batch):
            part = rows[start : start + batch]
            cursor.execute(head + ", ".join([one] * len(part)), [value for row in part for value in row])


def _add(model, rows: dict, unique: tuple[str, ...], fields: tuple[str, ...], *, extra=None) -> set:
    """Add ``rows`` ({unique values: field values}) to ``model``'s rows: new rows inserted, the
    counts of existing ones raised (by SQL, F()). ``extra``: {column: function(key)} of new rows.
    Returns the keys of the rows that existed."""
    if not rows:
        return set()
    by_day = defaultdict(list)
    for key in rows:
        by_day[key[0]].append(key)
    existing = {}
    for day in by_day:
        for row in model.objects.filter(day=day).values_list("pk", *unique):
            existing[tuple(row[1:])] = row[0]
    extra = extra or {}
    new = []
    for key, values in rows.items():
        pk = existing.get(key)
        if pk is None:
            new.append((*key, *values, *(make(key) for make in extra.values())))
        elif any(values):
            model.objects.filter(pk=pk).update(
                **{name: F(name) + value for name, value in zip(fields, values) if value}
            )
    _insert(model, (*unique, *fields, *extra), new)
    return set(existing)


def _write(totals: aggregate.Totals, keys: _Keys, known: set) -> None:
    day_fields = ("lines", "bad_lines", "requests", "bot_requests", "page_views", "downloads")
    _add(
        DayTotal,
        {(day,): tuple(values[name] for name in day_fields) for day, values in totals.days.items()},
        ("day",),
        day_fields,
    )
    page_ids = _page_ids({path for _, path in totals.pages})
    pages = {(day, path[:MAX_PATH]): tuple(counts) for (day, path), counts in totals.pages.items()}
    times = defaultdict(dict)  # (day, path cut) → histogram (two long paths cut alike add up)
    for (day, path), histogram in totals.times.items():
        target = times[(day, path[:MAX_PATH])]
        for bucket, count in histogram.items():
            target[str(bucket)] = target.get(str(bucket), 0) + count
    existed = _add(
        PageDay,
        pages,
        ("day", "path"),
        ("views", "bot_views"),
        extra={"page_id": lambda key: page_ids.get(key[1]), "times": lambda key: times.get(key, {})},
    )
    _add_times({key: histogram for key, histogram in times.items() if key in existed})
    downloads = {(day, path[:MAX_PATH]): tuple(counts) for (day, path), counts in totals.downloads.items()}
    _add(DownloadDay, downloads, ("day", "path"), ("downloads", "requests", "bot_requests"))
    breakdown = {(day, dimension, value[:200]): (count,) for (day, dimension, value), count in totals.breakdown.items()}
    _add(Breakdown, breakdown, ("day", "dimension", "value"), ("count",))
    not_found = {}
    for (day, path, referrer), count in totals.not_found.items():
        key = hashlib.sha256(f"{path}\x00{referrer}".encode("utf-8", "surrogatepass")).hexdigest()[:32]
        not_found[(day, key)] = (count, path[:MAX_PATH], referrer[:MAX_PATH])
    existing = {
        (day, key): pk
        for pk, day, key in NotFoundDay.objects.filter(day__in={k[0] for k in not_found}).values_list(
            "pk", "day", "key"
        )
    }
    new = []
    for (day, key), (count, path, referrer) in not_found.items():
        pk = existing.get((day, key))
        if pk is None:
            new.append((day, key, path, referrer, count))
        else:
            NotFoundDay.objects.filter(pk=pk).update(count=F("count") + count)
    _insert(NotFoundDay, ("day", "key", "path", "referrer", "count"), new)
    marks = set()
    for day, address, agent in totals.bot_clients:
        marks.add((day, ClientKey.BOT, keys(day, address, agent)))
    for day, address, agent, path in totals.download_keys:
        marks.add((day, ClientKey.DOWNLOAD, keys(day, address, agent, path)))
    _insert(ClientKey, ("day", "kind", "key"), sorted(marks - known))


def _add_times(rows: dict) -> None:
    """Add histograms ({(day, path): {bucket: n}}) to the existing rows' ``times``."""
    changed = []
    for day in {key[0] for key in rows}:
        for row in PageDay.objects.filter(day=day, path__in=[path for d, path in rows if d == day]):
            histogram = dict(row.times or {})
            for bucket, count in rows[(day, row.path)].items():
                histogram[bucket] = histogram.get(bucket, 0) + count
            row.times = histogram
            changed.append(row)
    PageDay.objects.bulk_update(changed, ["times"], batch_size=500)


def _page_ids(paths: set[str]) -> dict[str, int]:
    """The Wagtail page each path leads to on the default site (by its url_path)."""
    from wagtail.models import Page, Site

    site = Site.objects.filter(is_default_site=True).select_related("root_page").first()
    if site is None or not paths:
        return {}
    root = site.root_page.url_path.rstrip("/")
    wanted = {root + path: path for path in paths if path.endswith("/")}
    found = {}
    items = list(wanted)
    for start in range(0, len(items), 500):
        for page_id, url_path in Page.objects.filter(url_path__in=items[start : start + 500]).values_list(
            "id", "url_path"
        ):
            found[wanted[url_path]] = page_id
    return found
