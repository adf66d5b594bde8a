"""Reading nginx's access logs incrementally: the one log reader of the project (decision 0030),
shared by ``ops_scan`` (security alerts) and the analytics' ingestion.

Formats, recognised line by line:

- ``json``: deploy/nginx/kokasen-http.conf's ``kokasen_json`` (``access.json``): time, client,
  host, method, uri, status, bytes, request_time, upstream_time, referrer, user_agent,
  tls_protocol, request_id;
- ``combined``: the standard nginx/Apache combined format (``access.log``, or the agency's own
  web server's logs);
- ``refused``: ``kokasen_refused`` (``refused.log``): one line for each of about ``REFUSED_SAMPLE``
  requests nginx refused itself (a rate or connection limit, an unknown host).

Files are read plain or gzipped. A line that does not parse is counted (and a few kept as
samples), never fatal; invalid UTF-8 is replaced, not refused.

**Incremental, across rotation.** A *stream* is the live file (``/var/log/nginx/kokasen/access.json``)
with its rotated siblings (``access.json-20261207-00``, ``….gz``, ``access.json.1`` …). Each file
is recognised by its *fingerprint*, the SHA-256 of its first line, not by its name or inode:
the name changes when logrotate renames it (``create`` mode), the inode when it copies it
(``copytruncate``) or compresses it, but the first line stays. For every fingerprint the store
keeps how many bytes of its (decompressed) content were consumed, always up to the end of a
whole line, with the inode, size and modification time seen then. So:

- create: the renamed file keeps its fingerprint and position; its last lines (written before
  nginx reopened its logs) are read from there; the new live file is a new fingerprint, read
  from its start;
- copytruncate: the copy has the old fingerprint and is read on from the position; the emptied
  live file has no first line until nginx writes again, then a new fingerprint;
- gzip: a compressed file has the fingerprint of its content; when its length (gzip's ISIZE
  field) equals the position, nothing is decompressed at all.

A file is never read twice up to where it was read, and a line is consumed only once it is
complete (a line still being written is left for the next run; in a compressed file, which
never grows, the last line counts even without its line break). Lines that logrotate's
copytruncate itself loses (written between its copy and its truncation) cannot be read by
anyone; ``create`` mode, which deploy/logrotate uses, loses none.

**Exactly once.** ``LogReader.read()`` yields chunks and moves the positions in memory; nothing
is stored until ``commit()``. A consumer writes what it made of the chunks and calls ``commit()``
in one database transaction, so a crash part way neither loses nor repeats a line.

Django-free except ``DatabaseStore`` (the positions as ``core.models.AccessLogPosition`` rows).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol

import msgspec

# deploy/nginx/kokasen-http.conf writes one refused request in 16 to refused.log.
REFUSED_SAMPLE = 16
BLOCK_SIZE = 1 << 20
FINGERPRINT_BYTES = 64 * 1024  # a first line longer than this is fingerprinted by its start
BAD_SAMPLES = 5
BAD_SAMPLE_CHARS = 200


class Record(msgspec.Struct, gc=False, eq=False):
    """One request of a log line. ``ts`` is the time in whole seconds since the epoch (nginx
    logs seconds); ``path`` and ``query`` are the request URI as logged (percent-encoded), split
    at the first ``?``; ``request_time`` is None where the format has none (combined, refused);
    ``refused`` marks a line of refused.log, which stands for ``REFUSED_SAMPLE`` requests.

    A msgspec Struct: made in C (a third of the time of a class's ``__init__``), and out of the
    cyclic collector's sight (``gc=False``: it holds only strings and numbers), so that the
    million records of a large file neither cost collections nor are walked by them. Compared
    and hashed by identity, as a plain object."""

    ts: int
    client: str
    method: str
    path: str
    query: str
    status: int
    bytes: int
    request_time: float | None
    user_agent: str
    referrer: str
    host: str
    request_id: str
    refused: bool = False

    @property
    def time(self) -> datetime:
        return datetime.fromtimestamp(self.ts, UTC)

    def __repr__(self):
        return f"Record({self.time.isoformat()} {self.client} {self.method} {self.path} {self.status})"


# --- parsing ---------------------------------------------------------------------------------------

_iso_cache: dict[str, int] = {}
_minute_cache: dict[str, int] = {}  # 2026-12-07T09:00:+09:00 → epoch seconds of its start
_local_cache: dict[str, int] = {}
_local_minute_cache: dict[str, int] = {}  # 07/Dec/2026:09:00 +0900 → epoch seconds of its start
CACHE_LIMIT = 100_000  # entries per cache; all dropped when full (cheap to refill)


def _remember(cache: dict, key: str, value: int) -> None:
    if len(cache) > CACHE_LIMIT:
        cache.clear()
    cache[key] = value


_MONTHS = {
    name: number
    for number, name in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), start=1
    )
}


def _iso_ts(value: str) -> int:
    """``$time_iso8601`` (2026-12-07T09:00:01+09:00) as epoch seconds (cached: a second has many
    lines, and a minute's seconds share its start, kept under the time without its seconds)."""
    ts = _iso_cache.get(value)
    if ts is None:
        if len(value) == 25 and value[16] == ":" and value[19] in "+-" and value[17:19].isdigit():
            key = value[:17] + value[19:]
            base = _minute_cache.get(key)
            if base is None:
                base = _iso_parse(value[:17] + "00" + value[19:])
                _remember(_minute_cache, key, base)
            ts = base + int(value[17:19])  # as before: :60 is the next minute's start
        else:
            ts = _iso_parse(value)
        _remember(_iso_cache, value, ts)
    return ts


def _iso_parse(value: str) -> int:
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ValueError("time without a zone")
    return int(moment.timestamp())


def _local_ts(value: str) -> int:
    """``$time_local`` (07/Dec/2026:09:00:01 +0900) as epoch seconds (cached per second, and
    a minute's start kept under the time without its seconds)."""
    ts = _local_cache.get(value)
    if ts is None:
        if len(value) != 26 or value[21] not in "+-":
            raise ValueError(value)
        second = _SECONDS.get(value[18:20])
        if second is not None and value[17] == ":":
            key = value[:17] + value[20:]
            base = _local_minute_cache.get(key)
            if base is None:
                base = _local_parse(value[:18] + "00" + value[20:])
                _remember(_local_minute_cache, key, base)
            ts = base + second
        else:
            ts = _local_parse(value)
        _remember(_local_cache, value, ts)
    return ts


def _local_parse(value: str) -> int:
    offset = int(value[22:24]) * 3600 + int(value[24:26]) * 60
    moment = datetime(
        int(value[7:11]),
        _MONTHS[value[3:6]],
        int(value[0:2]),
        int(value[12:14]),
        int(value[15:17]),
        int(value[18:20]),
        tzinfo=UTC,
    )
    return int(moment.timestamp()) - (offset if value[21] == "+" else -offset)


def _split_uri(uri: str) -> tuple[str, str]:
    path, _, query = uri.partition("?")
    return path, query


def _number(value, kind):
    if value is None or value == "" or value == "-":
        return None
    return kind(value)


def record_from_json(entry) -> Record | None:
    """A decoded kokasen_json object as a Record (None: not one)."""
    if type(entry) is not dict:
        return None
    try:  # the fast path: every field of kokasen_json, with nginx's types
        uri, status, size, seconds, moment = (
            entry["uri"],
            entry["status"],
            entry["bytes"],
            entry["request_time"],
            entry["time"],
        )
        if type(status) is int and type(size) is int and type(seconds) in (float, int) and type(uri) is str:
            ts = _iso_cache.get(moment)
            if ts is None:
                ts = _iso_ts(moment)
            cut = uri.find("?")
            path, query = (uri, "") if cut < 0 else (uri[:cut], uri[cut + 1 :])
            return Record(
                ts,
                entry["client"],
                entry["method"],
                path,
                query,
                status,
                size,
                seconds,
                entry["user_agent"],
                entry["referrer"],
                entry["host"],
                entry["request_id"],
            )
    except (KeyError, TypeError, ValueError, AttributeError):
        pass
    try:  # any other JSON log with at least time, client, uri and status
        path, query = _split_uri(entry["uri"])
        status = entry["status"]
        if type(status) is not int:
            status = int(status)
        return Record(
            _iso_ts(entry["time"]),
            entry["client"],
            entry.get("method") or "",
            path,
            query,
            status,
            _number(entry.get("bytes"), int) or 0,
            _number(entry.get("request_time"), float),
            entry.get("user_agent") or "",
            entry.get("referrer") or "",
            entry.get("host") or "",
            entry.get("request_id") or "",
        )
    except (KeyError, TypeError, ValueError, AttributeError):
        return None


def parse_json(line: str) -> Record | None:
    try:
        entry = json.loads(line)
    except ValueError:
        return None
    return record_from_json(entry)


_QUOTED = r'[^"\\]*(?:\\.[^"\\]*)*'  # a quoted field's text, backslash escapes included (unrolled: fast)
_COMBINED = re.compile(
    r'(?P<client>\S+) \S+ \S+ \[(?P<time>[^\]]+)\] "(?P<request>' + _QUOTED + r')" (?P<status>\d{3}) '
    r'(?P<bytes>\d+|-)(?: "(?P<referrer>' + _QUOTED + r')" "(?P<agent>' + _QUOTED + r')")?'
)
_ESCAPE = re.compile(r"\\x([0-9A-Fa-f]{2})|\\(.)")


def _unescape(value: str) -> str:
    """nginx writes ``"`` and unprintable bytes as ``\\xHH`` (Apache as ``\\"``); bytes of a
    multi-byte character are joined again."""
    if "\\" not in value:
        return value
    out = bytearray()
    last = 0
    for match in _ESCAPE.finditer(value):
        out += value[last : match.start()].encode("utf-8", "surrogateescape")
        out += bytes([int(match.group(1), 16)]) if match.group(1) else match.group(2).encode("utf-8")
        last = match.end()
    out += value[last:].encode("utf-8", "surrogateescape")
    return out.decode("utf-8", "replace")


def parse_combined(line: str) -> Record | None:
    match = _COMBINED.match(line)
    if match is None:
        return None
    client, moment, request, status, size, referrer, agent = match.groups()
    ts = _local_cache.get(moment)
    if ts is None:
        try:
            ts = _local_ts(moment)
        except (ValueError, KeyError):
            return None
    if "\\" in request:
        request = _unescape(request)
    parts = request.split(" ")
    if len(parts) == 3 and parts[2].startswith("HTTP/"):
        method, uri = parts[0], parts[1]
    elif len(parts) == 2:  # HTTP/0.9
        method, uri = parts
    else:  # garbage (a TLS handshake on the plain port, "-"): kept as the path
        method, uri = "", request
    cut = uri.find("?")
    path, query = (uri, "") if cut < 0 else (uri[:cut], uri[cut + 1 :])
    return Record(
        ts,
        client,
        method,
        path,
        query,
        int(status),
        0 if size == "-" else int(size),
        None,
        _unescape(agent) if agent and "\\" in agent else (agent or ""),
        _unescape(referrer) if referrer and "\\" in referrer else (referrer or ""),
        "",
        "",
    )


_REFUSED = re.compile(
    r"(?P<time>\S+) client=(?P<client>\S+) status=(?P<status>\d{3}) limit=\S* "
    r'host="(?P<host>[^"]*)" request="(?P<method>\S*) ?(?P<uri>[^"]*)" request_id=(?P<id>\S*)'
)


def parse_refused(line: str) -> Record | None:
    match = _REFUSED.match(line)
    if match is None:
        return None
    try:
        ts = _iso_ts(match["time"])
    except ValueError:
        return None
    path, query = _split_uri(match["uri"])
    return Record(
        ts,
        match["client"],
        match["method"],
        path,
        query,
        int(match["status"]),
        0,
        None,
        "",
        "",
        match["host"],
        match["id"],
        refused=True,
    )


def parse_line(line: str) -> Record | None:
    """Any of the three formats, recognised by its shape."""
    if line.startswith("{"):
        return parse_json(line)
    if " client=" in line and line[:1].isdigit() and line[4:5] == "-":
        return parse_refused(line)
    return parse_combined(line)


def _parse_block(lines: list[str]) -> list[Record | None]:
    """Parse many lines. Lines that are all JSON objects are decoded as one array (one call
    into the C decoder instead of one per line): first as kokasen_json exactly (msgspec, into
    typed rows, several times faster than json), else as any JSON; anything unusual falls back
    to line by line."""
    if lines and all(line[:1] == "{" and line[-1:] == "}" for line in lines):
        joined = "[" + ",".join(lines) + "]"
        records = _records_of_kokasen_json(joined, len(lines))
        if records is not None:
            return records
        try:
            entries = json.loads(joined)
        except ValueError:
            entries = None
        if entries is not None and len(entries) == len(lines):
            return [record_from_json(entry) for entry in entries]
    return [parse_line(line) for line in lines]


class _KokasenJson(msgspec.Struct, gc=False):
    """The fields of deploy/'s kokasen_json that a Record keeps, with nginx's types (others
    are ignored)."""

    time: str
    client: str
    host: str
    method: str
    uri: str
    status: int
    bytes: int
    request_time: float
    referrer: str
    user_agent: str
    request_id: str


_decode_kokasen_json = msgspec.json.Decoder(list[_KokasenJson]).decode
_decode_kokasen_lines = msgspec.json.Decoder(_KokasenJson).decode_lines
# UnicodeDecodeError: msgspec refuses invalid UTF-8 in bytes (the text path replaces it).
_decode_error = (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError)
_SECONDS = {f"{n:02d}": n for n in range(60)}


def _records_of_kokasen_json(joined: str | bytes, count: int) -> list[Record] | None:
    """The records of a block of kokasen_json lines joined as a JSON array, or None if any
    line is otherwise."""
    try:
        rows = _decode_kokasen_json(joined)
    except _decode_error:
        return None
    if len(rows) != count:
        return None
    return _records_of_rows(rows)


def _block_of_kokasen_json(data: bytes) -> list[Record] | None:
    """The records of a block of whole lines, decoded from its bytes at once (no text, no
    lines made in Python) if every line is a kokasen_json object, exactly as ``_parse_block``
    would find it: each line starts with ``{`` and ends with ``}``, no carriage return, NUL or
    empty line, valid UTF-8, one object per line. None: anything else (the caller takes the
    line-by-line path)."""
    if data[:1] != b"{" or b"\r" in data or b"\x00" in data:
        return None
    breaks = data.count(b"\n")
    count = breaks if data[-1:] == b"\n" else breaks + 1
    # every line break but a last one between "}" and "{", and the block's end a "}" (with its break)
    if data.count(b"}\n{") != count - 1 or not (data.endswith(b"}\n") or data.endswith(b"}")):
        return None
    try:
        rows = _decode_kokasen_lines(data)
    except _decode_error:
        return None
    if len(rows) != count:  # two objects on one line
        return None
    return _records_of_rows(rows)


def _records_of_rows(rows: list) -> list[Record] | None:
    records = []
    append = records.append
    minutes = _minute_cache
    seconds_of = _SECONDS
    try:
        for row in rows:
            moment = row.time
            # the minute's start from the cache, its seconds added (what _iso_ts does, inline)
            second = seconds_of.get(moment[17:19])
            base = minutes.get(moment[:17] + moment[19:]) if second is not None and len(moment) == 25 else None
            ts = _iso_ts(moment) if base is None else base + second
            uri = row.uri
            cut = uri.find("?")
            if cut < 0:
                path, query = uri, ""
            else:
                path, query = uri[:cut], uri[cut + 1 :]
            append(
                Record(
                    ts,
                    row.client,
                    row.method,
                    path,
                    query,
                    row.status,
                    row.bytes,
                    row.request_time,
                    row.user_agent,
                    row.referrer,
                    row.host,
                    row.request_id,
                )
            )
    except ValueError:  # a time without a zone …: line by line
        return None
    return records


# --- files of a stream -----------------------------------------------------------------------------


def rotated_siblings(live: Path) -> list[Path]:
    """The live file and its rotated copies (``NAME-20261207-00``, ``NAME-20261207``,
    ``NAME.1``, each possibly ``.gz``), oldest first, the live file last."""
    directory, name = live.parent, live.name
    pattern = re.compile(re.escape(name) + r"([.-])(\d[\w.-]*?)(\.gz)?")
    found = []
    try:
        entries = list(os.scandir(directory))
    except OSError:
        entries = []
    for entry in entries:
        match = pattern.fullmatch(entry.name)
        if match is None or not entry.is_file():
            continue
        suffix = match.group(2)
        if match.group(1) == "." and suffix.isdigit():  # NAME.1 is newer than NAME.2
            key = (0, -int(suffix), "")
        else:  # dates sort as text
            key = (1, 0, suffix)
        found.append((key, entry.name))
    ordered = [directory / entry for _, entry in sorted(found)]
    return ordered + ([live] if live.exists() else [])


def _gzip_isize(path: Path) -> int | None:
    """The length of a gzip file's content modulo 2**32 (its last four bytes)."""
    try:
        with open(path, "rb") as file:
            file.seek(-4, os.SEEK_END)
            return struct.unpack("<I", file.read(4))[0]
    except OSError:
        return None


def _open(path: Path, compressed: bool):
    return gzip.open(path, "rb") if compressed else open(path, "rb")


def fingerprint(path: Path, *, compressed: bool | None = None, final: bool = False) -> str | None:
    """The SHA-256 (hex) of the file's first line (with its line break), or None while it has
    no complete first line (``final``: a file that will not grow, whose only line counts)."""
    compressed = path.name.endswith(".gz") if compressed is None else compressed
    try:
        with _open(path, compressed) as file:
            head = file.read(FINGERPRINT_BYTES)
    except (OSError, EOFError, gzip.BadGzipFile):
        return None
    end = head.find(b"\n")
    if end >= 0:
        head = head[: end + 1]
    elif len(head) < FINGERPRINT_BYTES and not (final or compressed) or not head:
        return None
    return hashlib.sha256(head).hexdigest()


# --- positions -------------------------------------------------------------------------------------


@dataclass
class Position:
    """How far one file (by fingerprint) was consumed, and what it looked like then."""

    fingerprint: str
    offset: int = 0  # bytes of content consumed, at the end of a whole line
    path: str = ""  # where the file was last seen
    inode: int = 0
    device: int = 0
    size: int = 0  # its size on disk when last read (compressed size for .gz)
    mtime_ns: int = 0
    lines: int = 0  # lines consumed from it, bad ones included
    bad_lines: int = 0
    last_seen: datetime | None = None

    def unchanged(self, path: Path, stat: os.stat_result) -> bool:
        return (
            self.path == str(path)
            and self.inode == stat.st_ino
            and self.device == stat.st_dev
            and self.size == stat.st_size
            and self.mtime_ns == stat.st_mtime_ns
        )


class PositionStore(Protocol):
    def load(self, consumer: str, stream: str) -> dict[str, Position]: ...

    def save(self, consumer: str, stream: str, positions: list[Position], *, forget_before: datetime) -> None: ...


class MemoryStore:
    """Positions in memory (tests, benchmarks, one-off reads)."""

    def __init__(self):
        self.rows: dict[tuple[str, str], dict[str, Position]] = {}

    def load(self, consumer, stream):
        return {fp: replace(position) for fp, position in self.rows.get((consumer, stream), {}).items()}

    def save(self, consumer, stream, positions, *, forget_before):
        rows = self.rows.setdefault((consumer, stream), {})
        for position in positions:
            rows[position.fingerprint] = replace(position)
        for fp in [fp for fp, p in rows.items() if p.last_seen and p.last_seen < forget_before]:
            del rows[fp]


class DatabaseStore:
    """Positions as ``AccessLogPosition`` rows; call ``save`` inside the consumer's transaction."""

    def load(self, consumer, stream):
        from .models import AccessLogPosition

        rows = AccessLogPosition.objects.filter(consumer=consumer, stream=stream)
        return {
            row.fingerprint: Position(
                row.fingerprint,
                row.offset,
                row.path,
                row.inode,
                row.device,
                row.size,
                row.mtime_ns,
                row.lines,
                row.bad_lines,
                row.last_seen,
            )
            for row in rows
        }

    def save(self, consumer, stream, positions, *, forget_before):
        from .models import AccessLogPosition

        for position in positions:
            AccessLogPosition.objects.update_or_create(
                consumer=consumer,
                stream=stream,
                fingerprint=position.fingerprint,
                defaults={
                    "offset": position.offset,
                    "path": position.path[:500],
                    "inode": position.inode,
                    "device": position.device,
                    "size": position.size,
                    "mtime_ns": position.mtime_ns,
                    "lines": position.lines,
                    "bad_lines": position.bad_lines,
                    "last_seen": position.last_seen,
                },
            )
        AccessLogPosition.objects.filter(consumer=consumer, stream=stream, last_seen__lt=forget_before).delete()


# --- reading ---------------------------------------------------------------------------------------


@dataclass
class Chunk:
    """Records of consecutive complete lines of one file."""

    path: Path
    records: list[Record]
    bad: int = 0
    bad_samples: list[str] = field(default_factory=list)
    end: int = 0  # the offset in the file's content after the chunk's last line

    @property
    def lines(self) -> int:
        return len(self.records) + self.bad


@dataclass
class _Candidate:
    path: Path
    stat: os.stat_result
    compressed: bool
    fingerprint: str


class LogReader:
    """New lines of one stream (a live log and its rotated files) for one consumer.

    ``consumer`` names who reads ("ops", "analytics"): each has its own positions.
    ``final=True`` treats every file as complete (a file given by hand, not a live log): its
    last line counts even without a line break. Positions of files gone for ``forget_after``
    (None: never) are dropped at ``commit()``.

    Files given by hand (an import, an upload): ``rotated=False`` reads that file only, and a
    common ``stream`` name ("imports") keeps their positions together, so that the same file
    given again, under any name or gzipped, adds nothing, and a longer copy of it only its new
    lines: ``LogReader(path, consumer="analytics", store=…, stream="imports", rotated=False,
    final=True, forget_after=None)``."""

    def __init__(
        self,
        live: str | os.PathLike,
        *,
        consumer: str,
        store: PositionStore,
        now: datetime | None = None,
        final: bool = False,
        block_size: int = BLOCK_SIZE,
        forget_after: timedelta | None = timedelta(days=7),
        rotated: bool = True,
        stream: str | None = None,
    ):
        self.live = Path(live)
        self.rotated = rotated
        self.stream = stream or str(self.live)
        self.consumer = consumer
        self.store = store
        self.now = now or datetime.now(UTC)
        self.final = final
        self.block_size = block_size
        self.forget_after = forget_after
        self.positions = store.load(consumer, self.stream)
        self._loaded = {fp: replace(position) for fp, position in self.positions.items()}
        self.touched: dict[str, Position] = {}
        self.files_seen = 0
        self.problems: list[str] = []  # files that could not be read (permissions …)

    def candidates(self) -> list[_Candidate]:
        """The stream's files that have a first line, each fingerprint once: a plain file rather
        than its gzip copy in progress, the larger of a copy and its source (copytruncate)."""
        chosen: dict[str, _Candidate] = {}
        order = []
        for path in rotated_siblings(self.live) if self.rotated else ([self.live] if self.live.exists() else []):
            try:
                stat = path.stat()
            except OSError:
                continue
            compressed = path.name.endswith(".gz")
            if not os.access(path, os.R_OK):
                self.problems.append(f"{path}: not readable")
                continue
            fp = fingerprint(path, compressed=compressed, final=self.final)
            if fp is None:
                continue
            candidate = _Candidate(path, stat, compressed, fp)
            earlier = chosen.get(fp)
            if earlier is None:
                order.append(fp)
                chosen[fp] = candidate
            elif (
                earlier.compressed
                and not compressed
                or (earlier.compressed == compressed and stat.st_size > earlier.stat.st_size)
            ):
                chosen[fp] = candidate
        self.files_seen = len(order)
        return [chosen[fp] for fp in order]

    def _unread(self) -> Iterator[tuple[_Candidate, Position]]:
        """Each file of the stream with content not read yet, with its position, for ``read()``
        and ``spans()``; a file with nothing new is marked seen and passed over, a file given
        out is marked seen once the caller has taken what it holds."""
        for candidate in self.candidates():
            position = self.positions.get(candidate.fingerprint) or Position(candidate.fingerprint)
            position.last_seen = self.now
            self.touched[candidate.fingerprint] = position
            self.positions[candidate.fingerprint] = position
            if position.unchanged(candidate.path, candidate.stat):
                continue
            if candidate.compressed:
                isize = _gzip_isize(candidate.path)
                nothing_new = isize is not None and isize == position.offset % (1 << 32) and position.offset > 0
            else:
                # Nothing beyond what was read: e.g. a copytruncate copy shorter than the original
                # read before it was emptied (the lines past its end were read from the original).
                nothing_new = position.offset >= candidate.stat.st_size
            if not nothing_new:
                yield candidate, position
            self._seen(position, candidate)

    def read(self) -> Iterator[Chunk]:
        for candidate, position in self._unread():
            try:
                yield from self._read_file(candidate, position)
            except (OSError, EOFError, gzip.BadGzipFile, zlib_error) as error:
                self.problems.append(f"{candidate.path}: {error}")

    @staticmethod
    def _seen(position: Position, candidate: _Candidate) -> None:
        position.path = str(candidate.path)
        position.inode, position.device = candidate.stat.st_ino, candidate.stat.st_dev
        position.size, position.mtime_ns = candidate.stat.st_size, candidate.stat.st_mtime_ns

    def _read_file(self, candidate: _Candidate, position: Position) -> Iterator[Chunk]:
        final = self.final or candidate.compressed
        with _open(candidate.path, candidate.compressed) as file:
            if candidate.compressed:
                _skip(file, position.offset, self.block_size)
            else:
                file.seek(position.offset)
            yield from _read_blocks(file, candidate.path, position, self.block_size, final=final)

    def spans(self, parts: int = 2) -> list[Span]:
        """The new content of the stream as byte ranges, for reading in several processes
        (``read_span``): each plain file's new whole lines cut into up to ``parts`` ranges at
        line breaks, each compressed file one range. Positions move as with ``read()``; the
        consumer gives each span's counts back with ``account()``, then ``commit()``s."""
        out = []
        for candidate, position in self._unread():
            if candidate.compressed:
                out.append(Span(candidate.path, candidate.fingerprint, True, position.offset, -1, True))
                continue
            try:
                out += _cut(candidate, position, parts, final=self.final)
            except OSError as error:
                self.problems.append(f"{candidate.path}: {error}")
        return out

    def account(self, span: Span, *, lines: int, bad: int, end: int) -> None:
        """The counts of a span read elsewhere, and where it ended (``Chunk.end`` of its last
        chunk; a compressed span's end is known only once it was read)."""
        position = self.positions[span.fingerprint]
        position.lines += lines
        position.bad_lines += bad
        position.offset = max(position.offset, end)

    def commit(self) -> None:
        """Store the positions of every file read (inside the consumer's transaction)."""
        changed = []
        for fp, position in self.touched.items():
            before = self._loaded.get(fp)
            # A file that did not change is written again only once a day (to keep it remembered).
            if (
                before is None
                or replace(before, last_seen=None) != replace(position, last_seen=None)
                or (before.last_seen is None or before.last_seen < self.now - timedelta(days=1))
            ):
                changed.append(position)
        forget_before = self.now - self.forget_after if self.forget_after is not None else datetime(1, 1, 2, tzinfo=UTC)
        self.store.save(self.consumer, self.stream, changed, forget_before=forget_before)


@dataclass
class Span:
    """A byte range of a file's (decompressed) content to read in another process: from
    ``start`` to ``end`` (-1: to the end of a compressed file), whole lines only."""

    path: Path
    fingerprint: str
    compressed: bool
    start: int
    end: int
    final: bool


def _cut(candidate: _Candidate, position: Position, parts: int, *, final: bool) -> list[Span]:
    """A plain file's content after ``position`` up to its last whole line (its very end if
    ``final``), cut at line breaks into up to ``parts`` spans; moves the position to the end."""
    size = candidate.stat.st_size
    with open(candidate.path, "rb") as file:
        end = size
        if not final:  # up to the last line break
            end = position.offset
            look = size
            while look > position.offset:
                start = max(position.offset, look - BLOCK_SIZE)
                file.seek(start)
                found = file.read(look - start).rfind(b"\n")
                if found >= 0:
                    end = start + found + 1
                    break
                look = start
        cuts = [position.offset]
        for n in range(1, parts):
            guess = position.offset + (end - position.offset) * n // parts
            if guess <= cuts[-1]:
                continue
            file.seek(guess)
            file.readline()
            at = file.tell()
            if cuts[-1] < at < end:
                cuts.append(at)
        cuts.append(end)
    position.offset = end
    return [Span(candidate.path, candidate.fingerprint, False, a, b, final) for a, b in zip(cuts, cuts[1:]) if b > a]


class _Limited:
    """A file read up to a given number of bytes."""

    def __init__(self, file, remaining: int):
        self.file, self.remaining = file, remaining

    def read(self, size: int) -> bytes:
        data = self.file.read(min(size, self.remaining)) if self.remaining > 0 else b""
        self.remaining -= len(data)
        return data


READ_ERRORS = (OSError, EOFError, gzip.BadGzipFile)  # with zlib's error, below


def read_span(span: Span, block_size: int = BLOCK_SIZE) -> Iterator[Chunk]:
    """The chunks of one span, in any process (``Chunk.end`` of the last: where it ended).
    A damaged file raises one of ``READ_ERRORS`` after its last good chunk."""
    position = Position(span.fingerprint, span.start)
    with _open(span.path, span.compressed) as file:
        if span.compressed:
            _skip(file, span.start, block_size)
            yield from _read_blocks(file, span.path, position, block_size, final=True)
        else:
            file.seek(span.start)
            limited = _Limited(file, span.end - span.start)
            yield from _read_blocks(limited, span.path, position, block_size, final=span.final)


def _read_blocks(file, path: Path, position: Position, block_size: int, *, final: bool) -> Iterator[Chunk]:
    rest = b""
    while True:
        block = file.read(block_size)
        if not block:
            break
        data = rest + block
        end = data.rfind(b"\n")
        if end < 0:
            rest = data
            continue
        rest = data[end + 1 :]
        yield _make_chunk(path, data[: end + 1], position)
    if rest and final:
        yield _make_chunk(path, rest, position)


def _make_chunk(path: Path, data: bytes, position: Position) -> Chunk:
    position.offset += len(data)
    records = _block_of_kokasen_json(data)
    if records is not None:  # the usual block of deploy/'s JSON log: decoded from its bytes
        position.lines += len(records)
        return Chunk(path, records, end=position.offset)
    text = data.decode("utf-8", "replace")
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    if "\r" in text or "\x00" in text:
        lines = [_clean(line) for line in lines]
    if "" in lines:
        lines = [line for line in lines if line]
    chunk = Chunk(path, [], end=position.offset)
    for line, record in zip(lines, _parse_block(lines)):
        if record is None:
            chunk.bad += 1
            if len(chunk.bad_samples) < BAD_SAMPLES:
                chunk.bad_samples.append(line[:BAD_SAMPLE_CHARS])
        else:
            chunk.records.append(record)
    position.lines += chunk.lines
    position.bad_lines += chunk.bad
    return chunk


def _clean(line: str) -> str:
    """A line without its carriage return (logs from Windows) or the NUL bytes that a writer
    without O_APPEND leaves after a copytruncate."""
    if line.endswith("\r"):
        line = line[:-1]
    if line.startswith("\x00"):
        line = line.lstrip("\x00")
    return line


def _skip(file, count: int, block_size: int) -> None:
    while count > 0:
        data = file.read(min(count, block_size))
        if not data:
            break
        count -= len(data)


try:
    from zlib import error as zlib_error
except ImportError:  # pragma: no cover - zlib is part of every CPython build here
    zlib_error = OSError
READ_ERRORS = (*READ_ERRORS, zlib_error)
