"""Grouping screen benchmark (issue 16, item 6): ``python -m kokasen.bench.grouping_screen``.

Builds a throw-away SQLite site (production settings, DEBUG off) with a town meeting of 1,000
participants: real towns and villages of the West area (the master data,
``kokasen/localgov/data/municipalities.csv``), 2-4 people each (seeded), a center in about 55% of
them, grouped by the engine. Then prints, for a signed-in 受託者 using the Django test client
in-process:

1. the screen (GET): its size in bytes and gzipped (level 6, as nginx sends it), server time per
   request (median and 95th percentile of N renders) and SQL queries;
2. a move without JavaScript (POST, redirect, then the GET the browser makes);
3. a move as the screen's JavaScript makes it (POST answered with the changed parts only), when
   the code has it.

Nothing is asserted: the figures are for people to read (docs/decisions/0047).
"""

from __future__ import annotations

import argparse
import gzip
import os
import random
import statistics
import tempfile
import time
from pathlib import Path

from kokasen.bench import scratch

PEOPLE = 1000
PARTIAL_HEADER = {"HTTP_X_GROUPING_PARTIAL": "1"}


def build(people: int, seed: int = 16):
    from kokasen.accounts import roles
    from kokasen.localgov.models import LocalGovernment
    from kokasen.meetings.models import Half, Meeting, MeetingKind, MeetingSession, Participant
    from kokasen.meetings.services import grouping
    from kokasen.testing import make_staff

    staff = make_staff(roles.OPERATOR, username="bench-grouping")
    meeting = Meeting.objects.create(kind=MeetingKind.TOWN, area="west", title="ベンチマーク用の情報交換会")
    for half in Half.values:
        MeetingSession.objects.create(meeting=meeting, half=half)
    rng = random.Random(seed)
    towns = list(LocalGovernment.objects.filter(area="west", kind__in=["town", "village"]).order_by("code"))
    rows = []
    for lg in rng.sample(towns, len(towns)):
        if len(rows) >= people:
            break
        has_center = rng.random() < 0.55
        for _ in range(min(rng.randint(2, 4), people - len(rows))):
            n = len(rows) + 1
            rows.append(
                Participant(
                    meeting=meeting,
                    number=n,
                    local_government=lg,
                    position="係長",
                    name=f"試験 太郎{n}",
                    email=f"p{n}.{lg.code}@example.lg.jp",
                    has_center=has_center,
                )
            )
    Participant.objects.bulk_create(rows)
    grouping.grouping_propose(meeting=meeting, acting_user=staff)
    return staff, meeting


def timed(fn, runs: int) -> tuple[list[float], object]:
    times, last = [], None
    for _ in range(runs):
        start = time.perf_counter()
        last = fn()
        times.append(time.perf_counter() - start)
    return times, last


def summary(times: list[float]) -> str:
    ordered = sorted(times)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"median {statistics.median(ordered) * 1000:7.1f} ms, p95 {p95 * 1000:7.1f} ms (n={len(ordered)})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=PEOPLE)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--save", type=Path, help="write the screen's HTML to this file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="kokasen-bench-grouping-screen-") as tmp:
        workdir = Path(tmp)
        os.environ.setdefault("SECRET_KEY", "bench-only-insecure-key")
        scratch.setup_django(
            workdir,
            "kokasen.settings.base",
            ALLOWED_HOSTS="127.0.0.1,testserver",
            SECURE_SSL_REDIRECT="false",
            STATIC_ROOT=str(workdir / "static"),
        )
        from django.db import connection
        from django.test import Client
        from django.test.utils import CaptureQueriesContext
        from django.urls import reverse

        from kokasen.meetings.models import Group
        from kokasen.testing import login_staff

        staff, meeting = build(args.people)
        client = Client()
        login_staff(client, staff)
        url = reverse("meetings_admin:grouping", args=[meeting.pk])
        groups = Group.objects.filter(meeting=meeting).count()
        print(f"grouping screen, town meeting: {meeting.participants.count()} participants, {groups} groups")

        client.get(url)  # warm the template cache
        times, response = timed(lambda: client.get(url), args.runs)
        assert response.status_code == 200, response.status_code
        body = response.content
        if args.save:
            args.save.write_bytes(body)
        with CaptureQueriesContext(connection) as queries:
            client.get(url)
        print(f"  GET screen        : {len(body):>9,} bytes, gzip {len(gzip.compress(body, 6)):>8,} bytes")
        print(f"                      {summary(times)}, {len(queries)} SQL queries")

        # Moves: one person back and forth between groups 1 and 2, and one local government.
        person = meeting.participants.filter(group__number=1).order_by("number").first()

        def next_move() -> dict:
            now = meeting.participants.filter(pk=person.pk).values_list("group__number", flat=True).get()
            return {"participant": person.pk, "to_group": 2 if now == 1 else 1}

        move_url = reverse("meetings_admin:grouping_move_participant", args=[meeting.pk])

        def no_js_move():
            post = client.post(move_url, next_move())
            assert post.status_code == 302, post.status_code
            return client.get(url)

        times, _ = timed(no_js_move, args.runs)
        print(f"  move, no JS       : POST + redirect + GET, {summary(times)}")

        def js_move():
            return client.post(move_url, next_move(), **PARTIAL_HEADER)

        times, partial = timed(js_move, args.runs)
        if partial.status_code == 200 and partial.headers.get("Content-Type", "").startswith("text/html"):
            size = len(partial.content)
            print(f"  move, JavaScript  : POST answered with the changed parts, {size:,} bytes, {summary(times)}")
        else:
            print(f"  move, JavaScript  : not available in this code (status {partial.status_code})")


if __name__ == "__main__":
    main()
