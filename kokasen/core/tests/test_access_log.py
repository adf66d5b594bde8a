"""The shared access-log reader (kokasen/core/access_log.py, decision 0030): the three formats,
bad lines, and incremental reading across logrotate's create and copytruncate modes, plain and
gzipped, never a line twice or missed. Real nginx and logrotate: test_access_log_nginx.py."""

from __future__ import annotations

import gzip
import json
import random
import shutil
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from django.db import transaction

from kokasen.core import access_log
from kokasen.core.access_log import DatabaseStore, LogReader, MemoryStore
from kokasen.core.models import AccessLogPosition

JST = timezone(timedelta(hours=9))
T0 = datetime(2026, 12, 7, 9, 0, 0, tzinfo=JST)


def json_line(n: int, *, uri="/news/", client="192.0.2.10", status=200, seconds=None) -> str:
    moment = T0 + timedelta(seconds=n if seconds is None else seconds)
    return (
        json.dumps(
            {
                "time": moment.isoformat(),
                "client": client,
                "host": "portal.example.go.jp",
                "method": "GET",
                "uri": uri,
                "status": status,
                "bytes": 512,
                "request_time": 0.012,
                "upstream_time": "0.010",
                "referrer": "",
                "user_agent": "Mozilla/5.0",
                "tls_protocol": "TLSv1.3",
                "request_id": f"id-{n}",
            },
            separators=(",", ":"),
        )
        + "\n"
    )


def write(path: Path, lines, mode="a"):
    with open(path, mode, encoding="utf-8") as file:
        file.writelines(lines)


def ids(records) -> list[str]:
    return [record.request_id for record in records]


def read_all(live: Path, store, *, consumer="test", commit=True, **kwargs):
    reader = LogReader(live, consumer=consumer, store=store, **kwargs)
    records, bad = [], 0
    for chunk in reader.read():
        records += chunk.records
        bad += chunk.bad
    if commit:
        reader.commit()
    return records, bad, reader


# --- formats ---------------------------------------------------------------------------------------


def test_the_json_format_of_deploy_nginx():
    line = (
        '{"time":"2026-12-07T09:00:01+09:00","client":"2001:db8::7","host":"portal.example.go.jp",'
        '"method":"GET","uri":"/%E7%A0%94%E4%BF%AE/?page=2&q=%E5%AD%90","status":304,"bytes":0,'
        '"request_time":0.004,"upstream_time":"0.003","referrer":"https://portal.example.go.jp/",'
        '"user_agent":"Mozilla/5.0 (kokasen \\"test\\") 自治体","tls_protocol":"TLSv1.3",'
        '"request_id":"0f1e2d3c4b5a69788796a5b4c3d2e1f0"}'
    )
    record = access_log.parse_line(line)
    assert record.time == datetime(2026, 12, 7, 0, 0, 1, tzinfo=UTC)
    assert (record.client, record.method, record.path, record.query) == (
        "2001:db8::7",
        "GET",
        "/%E7%A0%94%E4%BF%AE/",
        "page=2&q=%E5%AD%90",
    )
    assert (record.status, record.bytes, record.request_time) == (304, 0, 0.004)
    assert record.user_agent == 'Mozilla/5.0 (kokasen "test") 自治体' and not record.refused
    assert record.request_id == "0f1e2d3c4b5a69788796a5b4c3d2e1f0"


def test_the_combined_format_with_nginx_escapes_and_ipv6():
    line = (
        '2001:db8::7 - - [07/Dec/2026:09:00:01 +0900] "GET /search/?q=%E7%A0%94 HTTP/1.1" 200 1234 '
        '"https://portal.example.go.jp/" "Mozilla/5.0 (\\x22quoted\\x22) \\xE8\\x87\\xAA"'
    )
    record = access_log.parse_line(line)
    assert record.time == datetime(2026, 12, 7, 0, 0, 1, tzinfo=UTC)
    assert (record.client, record.method, record.path, record.query, record.status, record.bytes) == (
        "2001:db8::7",
        "GET",
        "/search/",
        "q=%E7%A0%94",
        200,
        1234,
    )
    assert record.user_agent == 'Mozilla/5.0 ("quoted") 自'  # bytes of one character joined again
    assert record.request_time is None
    # Apache's common format (no referrer, no agent), a size of "-", a garbage request line.
    common = access_log.parse_line('192.0.2.1 - alice [01/Jan/2027:00:00:00 -0500] "POST /login/ HTTP/1.0" 302 -')
    assert (common.method, common.path, common.bytes) == ("POST", "/login/", 0)
    assert common.time == datetime(2027, 1, 1, 5, 0, tzinfo=UTC)
    garbage = access_log.parse_line('192.0.2.1 - - [07/Dec/2026:09:00:01 +0900] "\\x16\\x03\\x01\\x00" 400 157 "-" "-"')
    assert garbage.status == 400 and garbage.method == ""


def test_the_refused_format():
    line = (
        "2026-12-07T09:00:01+09:00 client=198.51.100.9 status=429 limit=REJECTED/- "
        'host="portal.example.go.jp" request="POST /login/?next=/members/" request_id=0abc'
    )
    record = access_log.parse_line(line)
    assert record.refused and (record.client, record.method, record.path, record.status) == (
        "198.51.100.9",
        "POST",
        "/login/",
        429,
    )
    assert record.query == "next=/members/"


@pytest.mark.parametrize(
    "line",
    [
        '{"time":"2026-12-07T09:00:01+09:00","client":"192.0.2.1","uri":"/x"',  # truncated
        '{"time":"2026-12-07T09:00:01","client":"192.0.2.1","uri":"/x","status":200}',  # no zone
        '{"time":"yesterday","client":"192.0.2.1","uri":"/x","status":200}',
        '{"client":"192.0.2.1","uri":"/x","status":200}',
        "[1, 2]",
        "not a log line at all",
        '192.0.2.1 - - [07/Foo/2026:09:00:01 +0900] "GET / HTTP/1.1" 200 1',
        "",
    ],
)
def test_bad_lines_are_none(line):
    assert access_log.parse_line(line) is None


def test_bad_lines_and_invalid_bytes_are_counted_never_fatal(tmp_path):
    live = tmp_path / "access.json"
    with open(live, "wb") as file:
        file.write(json_line(1).encode())
        file.write(
            b'{"time":"2026-12-07T09:00:02+09:00","client":"192.0.2.1","uri":"/\xff\xfe","status":404,'
            b'"request_id":"id-2"}\n'
        )
        file.write(b"garbage \x00\x01\n")
        file.write(json_line(3).encode())
        file.write(b'{"time":"2026-12-07T09:00:04+09:00","client":"192.0.2.1","ur\n')
        file.write(b"\r\n")
        file.write(json_line(5).encode().replace(b"\n", b"\r\n"))
    records, bad, reader = read_all(live, MemoryStore())
    assert ids(records) == ["id-1", "id-2", "id-3", "id-5"]
    assert records[1].path == "/\ufffd\ufffd"
    assert bad == 2
    [position] = reader.touched.values()
    assert (position.lines, position.bad_lines) == (6, 2)


def test_a_block_of_json_lines_with_one_bad_line_falls_back_line_by_line():
    lines = [json_line(1).strip(), '{"time":"2026-12-07T09:00:02+09:00"}', json_line(3).strip()]
    assert [r.request_id if r else None for r in access_log._parse_block(lines)] == ["id-1", None, "id-3"]


# --- incremental reading ---------------------------------------------------------------------------


def test_only_new_complete_lines_are_read(tmp_path):
    live, store = tmp_path / "access.json", MemoryStore()
    write(live, [json_line(n) for n in range(3)])
    assert ids(read_all(live, store)[0]) == ["id-0", "id-1", "id-2"]
    assert read_all(live, store)[0] == []
    half = json_line(3)
    write(live, [half[:40]])  # nginx is still writing this line
    assert read_all(live, store)[0] == []
    write(live, [half[40:], json_line(4)])
    assert ids(read_all(live, store)[0]) == ["id-3", "id-4"]


def test_nothing_is_stored_until_commit(tmp_path):
    live, store = tmp_path / "access.json", MemoryStore()
    write(live, [json_line(n) for n in range(3)])
    assert len(read_all(live, store, commit=False)[0]) == 3  # a consumer that crashed before committing
    assert len(read_all(live, store)[0]) == 3  # … gets the same lines again
    assert read_all(live, store)[0] == []


def test_each_consumer_has_its_own_positions(tmp_path):
    live, store = tmp_path / "access.json", MemoryStore()
    write(live, [json_line(n) for n in range(3)])
    assert len(read_all(live, store, consumer="ops")[0]) == 3
    assert len(read_all(live, store, consumer="analytics")[0]) == 3
    assert read_all(live, store, consumer="ops")[0] == []


def test_create_mode_rotation_reads_the_renamed_files_tail_and_the_new_file(tmp_path):
    live, store = tmp_path / "access.json", MemoryStore()
    write(live, [json_line(n) for n in range(5)])
    assert len(read_all(live, store)[0]) == 5
    write(live, [json_line(5), json_line(6)])  # written after the last read …
    live.rename(tmp_path / "access.json-20261207-00")  # … then logrotate renames the file
    write(live, [json_line(7)], mode="w")  # and nginx opens a new one
    with open(tmp_path / "access.json-20261207-00", "a") as old:  # nginx had not reopened yet
        old.write(json_line(8))
    assert sorted(ids(read_all(live, store)[0])) == ["id-5", "id-6", "id-7", "id-8"]
    assert read_all(live, store)[0] == []


def test_copytruncate_rotation(tmp_path):
    live, store = tmp_path / "access.json", MemoryStore()
    write(live, [json_line(n) for n in range(5)])
    assert len(read_all(live, store)[0]) == 5
    write(live, [json_line(5)])
    shutil.copyfile(live, tmp_path / "access.json-20261207-00")
    with open(live, "r+") as file:
        file.truncate(0)
    assert ids(read_all(live, store)[0]) == ["id-5"]  # from the copy; the emptied file has no first line
    write(live, [json_line(6), json_line(7)])
    assert ids(read_all(live, store)[0]) == ["id-6", "id-7"]
    assert read_all(live, store)[0] == []


def test_copytruncate_read_between_the_copy_and_the_truncation(tmp_path):
    live, store = tmp_path / "access.json", MemoryStore()
    write(live, [json_line(n) for n in range(3)])
    assert len(read_all(live, store)[0]) == 3
    shutil.copyfile(live, tmp_path / "access.json-20261207-00")
    write(live, [json_line(3)])  # written after the copy: the copy will never have it
    # Read now: two files with one first line; the larger (the live file) is read.
    assert ids(read_all(live, store)[0]) == ["id-3"]
    with open(live, "r+") as file:
        file.truncate(0)
    write(live, [json_line(4)])
    assert ids(read_all(live, store)[0]) == ["id-4"]  # nothing again from the shorter copy


def test_delayed_compression_reads_nothing_twice_and_decompresses_nothing(tmp_path, monkeypatch):
    live, store = tmp_path / "access.json", MemoryStore()
    write(live, [json_line(n) for n in range(4)])
    assert len(read_all(live, store)[0]) == 4
    rotated = tmp_path / "access.json-20261206-00"
    live.rename(rotated)
    write(live, [json_line(4)], mode="w")
    assert ids(read_all(live, store)[0]) == ["id-4"]
    # The next night logrotate compresses yesterday's file (delaycompress).
    with open(rotated, "rb") as source, gzip.open(str(rotated) + ".gz", "wb") as target:
        shutil.copyfileobj(source, target)
    rotated.unlink()
    skipped = []
    original = access_log._skip
    monkeypatch.setattr(access_log, "_skip", lambda *a: skipped.append(a) or original(*a))
    assert read_all(live, store)[0] == []
    assert skipped == []  # its length in the gzip trailer equalled the position: not decompressed


def test_immediate_compression_reads_the_tail_that_came_after_the_last_read(tmp_path):
    live, store = tmp_path / "access.json", MemoryStore()
    write(live, [json_line(n) for n in range(4)])
    assert len(read_all(live, store)[0]) == 4
    write(live, [json_line(4), json_line(5)])
    with open(live, "rb") as source, gzip.open(tmp_path / "access.json-20261207-00.gz", "wb") as target:
        shutil.copyfileobj(source, target)
    live.unlink()
    write(live, [json_line(6)], mode="w")
    assert ids(read_all(live, store)[0]) == ["id-4", "id-5", "id-6"]
    assert read_all(live, store)[0] == []


def test_a_plain_file_and_its_gzip_in_progress_are_one_file(tmp_path):
    live, store = tmp_path / "access.json", MemoryStore()
    rotated = tmp_path / "access.json-20261206-00"
    write(rotated, [json_line(n) for n in range(3)])
    with open(rotated, "rb") as source:
        data = gzip.compress(source.read())
    (tmp_path / "access.json-20261206-00.gz").write_bytes(data[: len(data) // 2])  # gzip still writing
    write(live, [json_line(3)])
    assert sorted(ids(read_all(live, store)[0])) == ["id-0", "id-1", "id-2", "id-3"]
    (tmp_path / "access.json-20261206-00.gz").write_bytes(data)
    rotated.unlink()
    assert read_all(live, store)[0] == []


def test_numbered_rotation_names_oldest_first(tmp_path):
    live = tmp_path / "access.log"
    for number, n in ((3, 0), (2, 1), (1, 2)):
        with gzip.open(tmp_path / f"access.log.{number}.gz", "wt") as file:
            file.write(json_line(n))
    write(live, [json_line(3)])
    write(tmp_path / "access.log.json-unrelated", [json_line(9)])
    write(tmp_path / "other.log", [json_line(9)])
    assert [p.name for p in access_log.rotated_siblings(live)] == [
        "access.log.3.gz",
        "access.log.2.gz",
        "access.log.1.gz",
        "access.log",
    ]
    assert ids(read_all(live, MemoryStore())[0]) == ["id-0", "id-1", "id-2", "id-3"]


def test_files_given_by_hand_under_any_name_add_only_what_is_new(tmp_path):
    """The analytics' import of the agency's own logs: the same file again (renamed, gzipped)
    adds nothing, a longer copy only its new lines; siblings of a given file are not read."""
    first = tmp_path / "upload-1.log"
    write(first, [json_line(n) for n in range(3)])
    write(tmp_path / "upload-1.log.1", [json_line(90)])  # not given: not read
    store = MemoryStore()

    def given(path):
        reader = LogReader(
            path,
            consumer="analytics",
            store=store,
            stream="imports",
            rotated=False,
            final=True,
            forget_after=None,
            now=datetime(2027, 1, 1, tzinfo=UTC),
        )
        records = [r for chunk in reader.read() for r in chunk.records]
        reader.commit()
        return ids(records)

    assert given(first) == ["id-0", "id-1", "id-2"]
    again = tmp_path / "upload-2.log.gz"
    with open(first, "rb") as source, gzip.open(again, "wb") as target:
        target.write(source.read())
    assert given(again) == []
    longer = tmp_path / "upload-3.log"
    write(longer, [json_line(n) for n in range(5)])
    assert given(longer) == ["id-3", "id-4"]
    assert given(tmp_path / "missing.log") == []


def test_a_file_given_by_hand_counts_its_last_line_and_is_read_once(tmp_path):
    given = tmp_path / "agency-access.log"
    with open(given, "w") as file:
        file.write('192.0.2.1 - - [07/Dec/2026:09:00:01 +0900] "GET /a/ HTTP/1.1" 200 10 "-" "UA"\n')
        file.write('192.0.2.1 - - [07/Dec/2026:09:00:02 +0900] "GET /b/ HTTP/1.1" 200 10 "-" "UA"')  # no \n
    store = MemoryStore()
    records, _, _ = read_all(given, store, final=True)
    assert [r.path for r in records] == ["/a/", "/b/"]
    assert read_all(given, store, final=True)[0] == []  # idempotent for a file given again


@pytest.mark.parametrize("seed", range(12))
def test_a_random_life_of_a_log_never_loses_or_repeats_a_line(tmp_path, seed):
    """A writer appends lines (sometimes leaving one half written until its next write) while
    logrotate rotates in either mode, compressing at once or one rotation later, and a reader
    reads (and sometimes fails before committing) at random moments: every line is read exactly
    once."""
    rng = random.Random(seed)
    live, store = tmp_path / "access.json", MemoryStore()
    written, read = [], []
    number = rotation = 0
    rest = ""  # the second half of a line being written
    pending = []  # rotated files waiting for delaycompress

    def compress(path):
        with open(path, "rb") as source, gzip.open(str(path) + ".gz", "wb") as target:
            shutil.copyfileobj(source, target)
        path.unlink()

    for _step in range(150):
        action = rng.random()
        if action < 0.55:
            lines = [json_line(number + i) for i in range(rng.randint(1, 30))]
            number += len(lines)
            written += [json.loads(line)["request_id"] for line in lines]
            text = rest + "".join(lines)
            cut = len(text) - rng.randint(1, len(lines[-1]) - 1) if rng.random() < 0.3 else len(text)
            write(live, [text[:cut]])
            rest = text[cut:]
        elif action < 0.8:
            commit = rng.random() < 0.85
            records, bad, _ = read_all(live, store, commit=commit)
            assert bad == 0
            if commit:
                read += ids(records)
        elif live.exists():
            write(live, [rest])  # nginx writes whole lines: none is cut by a rotation
            rest = ""
            rotation += 1
            rotated = tmp_path / f"access.json-2026{rotation:04d}-00"
            if rng.random() < 0.5:  # create
                live.rename(rotated)
                live.touch()
            else:  # copytruncate
                shutil.copyfile(live, rotated)
                with open(live, "r+") as file:
                    file.truncate(0)
            for earlier in pending:  # delaycompress: the previous rotation is compressed now
                compress(earlier)
            pending = [rotated]
            if rng.random() < 0.3:  # compress at once
                compress(rotated)
                pending = []
    write(live, [rest])
    records, _, _ = read_all(live, store)
    read += ids(records)
    assert len(read) == len(set(read)), "a line was read twice"
    assert sorted(read) == sorted(written), "a line was missed"


# --- positions in the database ---------------------------------------------------------------------


@pytest.mark.django_db
def test_positions_in_the_database_commit_with_the_consumers_transaction(tmp_path):
    live = tmp_path / "access.json"
    write(live, [json_line(n) for n in range(3)])
    with transaction.atomic():
        records, _, _ = read_all(live, DatabaseStore())
        assert len(records) == 3
        transaction.set_rollback(True)  # the consumer failed: its results and the positions go together
    assert not AccessLogPosition.objects.exists()
    with transaction.atomic():
        assert len(read_all(live, DatabaseStore())[0]) == 3
    row = AccessLogPosition.objects.get()
    assert (row.consumer, row.stream, row.path, row.lines, row.offset) == (
        "test",
        str(live),
        str(live),
        3,
        live.stat().st_size,
    )
    assert read_all(live, DatabaseStore())[0] == []
    write(live, [json_line(3)])
    assert ids(read_all(live, DatabaseStore())[0]) == ["id-3"]


@pytest.mark.django_db
def test_positions_of_files_gone_for_a_week_are_forgotten(tmp_path):
    live = tmp_path / "access.json"
    write(live, [json_line(0)])
    now = datetime.now(UTC)
    read_all(live, DatabaseStore(), now=now - timedelta(days=10))
    live.unlink()
    write(live, [json_line(1)])
    read_all(live, DatabaseStore(), now=now)
    assert AccessLogPosition.objects.count() == 1


# --- spans: the same lines, read in other processes ------------------------------------------------


def read_spans(live: Path, store, *, parts=3, **kwargs):
    """What ``LogReader.spans`` + ``read_span`` + ``account`` read (in this process)."""
    reader = LogReader(live, consumer="test", store=store, **kwargs)
    records = []
    for span in reader.spans(parts=parts):
        lines = bad = 0
        end = span.start
        for chunk in access_log.read_span(span, block_size=256):
            records += chunk.records
            lines, bad, end = lines + chunk.lines, bad + chunk.bad, chunk.end
        reader.account(span, lines=lines, bad=bad, end=end)
    reader.commit()
    return records, reader


def test_spans_read_each_line_once_across_rotation_and_compression(tmp_path):
    live, store = tmp_path / "access.json", MemoryStore()
    write(live, [json_line(n) for n in range(40)])
    half = json_line(40)
    write(live, [half[:30]])  # still being written: left for the next run
    records, reader = read_spans(live, store)
    assert sorted(ids(records)) == sorted(f"id-{n}" for n in range(40))
    assert len({record.request_id for record in records}) == 40
    assert sum(p.lines for p in reader.positions.values()) == 40
    write(live, [half[30:], json_line(41)])
    rotated = tmp_path / "access.json-20261207-00"
    live.rename(rotated)
    write(live, [json_line(n) for n in range(42, 50)], mode="w")
    records, _ = read_spans(live, store)
    assert sorted(ids(records)) == sorted(f"id-{n}" for n in range(40, 50))
    with open(rotated, "rb") as source, gzip.open(str(rotated) + ".gz", "wb") as target:
        shutil.copyfileobj(source, target)
    rotated.unlink()
    write(live, [json_line(50)])
    assert ids(read_spans(live, store)[0]) == ["id-50"]
    assert read_spans(live, store)[0] == []
    # the normal reader agrees: nothing left
    assert read_all(live, store)[0] == []


def test_a_compressed_file_is_one_span_and_its_end_is_given_back(tmp_path):
    store = MemoryStore()
    compressed = tmp_path / "old.json.gz"
    with gzip.open(compressed, "wt", encoding="utf-8") as file:
        file.writelines(json_line(n) for n in range(10))
    kwargs = {"stream": "imports", "rotated": False, "final": True, "forget_after": None}
    records, reader = read_spans(compressed, store, **kwargs)
    assert len(records) == 10
    assert len(reader.spans()) == 0  # the same reader: positions moved
    assert read_spans(compressed, store, **kwargs)[0] == []
    plain = tmp_path / "old.json"  # the same content, plain, given again with one line more
    plain.write_text("".join(json_line(n) for n in range(11)), encoding="utf-8")
    assert ids(read_spans(plain, store, **kwargs)[0]) == ["id-10"]


def test_the_typed_decoding_of_kokasen_json_gives_what_the_general_one_gives():
    lines = [json_line(n, uri="/news/?page=2" if n % 2 else "/%E5%85%90/") for n in range(5)]
    lines = [line.rstrip("\n") for line in lines]
    lines.append(lines[0].replace('"request_time":0.012', '"request_time":0'))  # nginx writes 0, not 0.0
    fast = access_log._records_of_kokasen_json("[" + ",".join(lines) + "]", len(lines))
    assert fast is not None
    general = [access_log.parse_json(line) for line in lines]
    for mine, theirs in zip(fast, general, strict=True):
        assert [getattr(mine, name) for name in access_log.Record.__slots__] == [
            getattr(theirs, name) for name in access_log.Record.__slots__
        ]
    # one line of another JSON log: the block is decoded the general way, nothing lost
    other = json.dumps({"time": T0.isoformat(), "client": "192.0.2.1", "uri": "/x", "status": "404"})
    assert access_log._records_of_kokasen_json("[" + ",".join(lines + [other]) + "]", 7) is None
    records = access_log._parse_block(lines + [other])
    assert [record.status for record in records] == [200] * 6 + [404]
