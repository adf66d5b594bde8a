"""Sample (サンプル) exchange meetings for ``manage.py load_demo`` (``make run``), so that every
meetings screen has something to show:

- a town meeting of the West area (Zoom, 100 people per URL) with both sessions in 2027, a roster
  of about 90 people from real towns and villages (2–4 each, ~70 % 設置済), the engine's proposed
  grouping (not approved) and one room with a sample URL and facilitator;
- a prefecture meeting (Webex): 10 prefectures from all over Japan, one person each in 4 departments
  (40 people), not grouped yet.

Everything goes through the services (meeting_save, roster_import, grouping_propose, rooms_assign,
rooms_update) as the demo admin, so the audit trail reads like a real operator's. Names are
「サンプル 参加者001」 (the number is the participant number), addresses ``sample001@example.lg.jp`` and
``sample-pref001@example.lg.jp`` (example.lg.jp / example.com only).

Idempotent: a meeting whose title already exists is left as it is (changes made on the screens
survive a second run). The choices are fixed (every n-th town by code), so every run and every
machine gets the same roster. Titles, counts, departments, positions and dates are in
data/meetings.toml.
"""

from __future__ import annotations

import csv
import datetime
import io

from django.contrib.auth import get_user_model
from django.db import transaction

from kokasen.localgov.models import LocalGovernment
from kokasen.meetings.forms import MeetingForm, RoomFormSet, SessionForm
from kokasen.meetings.models import DEFAULT_AGENDA, DepartmentRole, Half, Meeting, MeetingKind, MeetingTool, Room
from kokasen.meetings.roles import ROLE_OTHER
from kokasen.meetings.roster_file import CENTER_NO, CENTER_YES, ROSTER_HEADER
from kokasen.meetings.services import grouping, meetings, roles, rooms, roster

from .content import read
from .loader import ensure_demo_admin

_data = read("meetings.toml")
TOWN_TITLE: str = _data["town"]["title"]
PREFECTURE_TITLE: str = _data["prefecture"]["title"]
TOWN_COUNT: int = _data["town"]["count"]  # towns and villages on the town roster; 2–4 people each
DEPARTMENTS: tuple[str, ...] = tuple(_data["prefecture"]["departments"])
PREFECTURE_COUNT: int = _data["prefecture"]["count"]  # × the departments: one person each
POSITIONS: tuple[str, ...] = tuple(_data["positions"])
EMAIL_DOMAIN: str = _data["email_domain"]
# {meeting kind: {half: (starts, ends)}}, naive local times as the admin's forms take them.
SESSIONS: dict[str, dict[str, tuple[datetime.datetime, datetime.datetime]]] = {
    kind: {half: tuple(times) for half, times in halves.items()} for kind, halves in _data["sessions"].items()
}


def demo_admin():
    """The demo admin (``ensure_demo_admin``), who does every write of the sample."""
    ensure_demo_admin(log=lambda *args: None)
    return get_user_model().objects.get(username="admin")


def _every_nth(items: list, count: int) -> list:
    """``count`` items spread evenly over ``items`` (deterministic)."""
    if len(items) <= count:
        return list(items)
    step = len(items) / count
    return [items[int(i * step)] for i in range(count)]


def town_rows() -> list[list[str]]:
    """Roster rows of the town meeting: TOWN_COUNT towns and villages of the West area spread over
    its prefectures, 2, 3 or 4 people each; 7 of every 10 towns 設置済."""
    towns = list(
        LocalGovernment.objects.filter(
            area=LocalGovernment.Area.WEST, kind__in=[LocalGovernment.Kind.TOWN, LocalGovernment.Kind.VILLAGE]
        ).order_by("code")
    )
    people = []
    for index, lg in enumerate(_every_nth(towns, TOWN_COUNT)):
        center = CENTER_NO if index % 10 in (2, 5, 8) else CENTER_YES
        people += [(lg, "子育て支援課", center)] * (2 + index % 3)
    return _numbered(people, "sample")


def prefecture_rows() -> list[list[str]]:
    """Roster rows of the prefecture meeting: PREFECTURE_COUNT prefectures from all over Japan,
    each sending one person per department (the spec: 3 to 6 people per prefecture)."""
    prefectures = list(LocalGovernment.objects.filter(kind=LocalGovernment.Kind.PREFECTURE).order_by("code"))
    people = [(lg, department, "") for lg in _every_nth(prefectures, PREFECTURE_COUNT) for department in DEPARTMENTS]
    return _numbered(people, "sample-pref")


def _numbered(people: list[tuple], prefix: str) -> list[list[str]]:
    """One row per person, in the order the import numbers participants (団体コード, 部署), so that
    「サンプル 参加者007」 is participant number 7 on every screen and in the report."""
    rows = []
    for number, (lg, department, center) in enumerate(sorted(people, key=lambda p: (p[0].code, p[1])), start=1):
        rows.append(
            [
                lg.code,
                str(lg),
                department,
                POSITIONS[number % len(POSITIONS)],
                f"サンプル 参加者{number:03d}",
                f"{prefix}{number:03d}@{EMAIL_DOMAIN}",
                center,
            ]
        )
    return rows


def roster_csv(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(ROSTER_HEADER)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8-sig")


def _local(value: datetime.datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M")


def _meeting_create(*, kind: str, title: str, area: str, tool: str, acting_user, sessions: str = "") -> Meeting:
    """Through the admin's own forms and ``meeting_save``, as the 「情報交換会の追加」 screen does."""
    form = MeetingForm(
        {
            "kind": kind,
            "title": title,
            "area": area,
            "tool": tool,
            "capacity_per_url": 100,
            "min_group_size": 5,
            "max_group_size": 7,
            "max_population_ratio": "3",
        }
    )
    session_forms = {}
    for half in Half.values:
        starts, ends = SESSIONS[sessions or kind][half]
        session_forms[half] = SessionForm(
            {
                f"{half}-starts_at": _local(starts),
                f"{half}-ends_at": _local(ends),
                f"{half}-agenda": DEFAULT_AGENDA[half],
            },
            instance=meetings.new_sessions()[half],
            prefix=half,
        )
    invalid = [f.errors for f in (form, *session_forms.values()) if not f.is_valid()]
    if invalid:
        raise ValueError(f"sample meeting refused by its forms: {invalid}")
    return meetings.meeting_save(
        form=form, session_forms=session_forms, presentation_formsets={}, acting_user=acting_user
    )


def _rooms_fill(meeting: Meeting, acting_user) -> None:
    """Sample URL and facilitator for every room, through the rooms screen's formset."""
    queryset = Room.objects.filter(meeting=meeting).order_by("number")
    data = {"rooms-TOTAL_FORMS": str(queryset.count()), "rooms-INITIAL_FORMS": str(queryset.count())}
    for index, room in enumerate(queryset):
        letter = chr(ord("A") + index)
        data.update(
            {
                f"rooms-{index}-id": str(room.pk),
                f"rooms-{index}-name": room.name,
                f"rooms-{index}-url": f"https://example.com/sample-meeting/{meeting.pk}/room{room.number}",
                f"rooms-{index}-facilitator_name": f"サンプル 進行役{letter}",
                f"rooms-{index}-facilitator_email": f"facilitator-{letter.lower()}@example.com",
            }
        )
    formset = RoomFormSet(data, queryset=queryset, prefix="rooms")
    if not formset.is_valid():
        raise ValueError(f"sample rooms refused by their forms: {formset.errors}")
    rooms.rooms_update(meeting=meeting, formset=formset, acting_user=acting_user)


@transaction.atomic
def load_meetings_demo(log=print) -> int:
    """Create the sample meetings that do not exist yet; returns how many were created."""
    existing = set(Meeting.objects.filter(title__in=[TOWN_TITLE, PREFECTURE_TITLE]).values_list("title", flat=True))
    if len(existing) == 2:
        log("情報交換会のサンプル: 作成済みです。")
        return 0
    admin = demo_admin()
    created = 0
    if TOWN_TITLE not in existing:
        meeting = _meeting_create(
            kind=MeetingKind.TOWN,
            title=TOWN_TITLE,
            area=LocalGovernment.Area.WEST,
            tool=MeetingTool.ZOOM,
            acting_user=admin,
        )
        roster.roster_import(
            meeting=meeting, data=roster_csv(town_rows()), filename="sample-roster-town.csv", acting_user=admin
        )
        grouping.grouping_propose(meeting=meeting, acting_user=admin)
        rooms.rooms_assign(meeting=meeting, acting_user=admin)
        _rooms_fill(meeting, admin)
        created += 1
    if PREFECTURE_TITLE not in existing:
        meeting = _meeting_create(
            kind=MeetingKind.PREFECTURE, title=PREFECTURE_TITLE, area="", tool=MeetingTool.WEBEX, acting_user=admin
        )
        roster.roster_import(
            meeting=meeting,
            data=roster_csv(prefecture_rows()),
            filename="sample-roster-prefecture.csv",
            acting_user=admin,
        )
        created += 1
    log(f"情報交換会のサンプル: {created} 件を作成しました（管理画面の「情報交換会」）。")
    return created


DRAFT_TITLE: str = _data["draft"]["title"]
HELD_TITLE: str = _data["held"]["title"]
HELD_COUNT: int = _data["held"]["count"]


@transaction.atomic
def load_meeting_states_demo(log=print) -> int:
    """Two more sample meetings, so that the list shows every state beside the two above (名簿を
    取り込み済み, グループ分けを提案済み): one just created (no roster yet) and one held in 2026 whose
    grouping was approved. Idempotent by title; returns how many were created."""
    existing = set(Meeting.objects.filter(title__in=[DRAFT_TITLE, HELD_TITLE]).values_list("title", flat=True))
    admin = demo_admin()
    created = 0
    if DRAFT_TITLE not in existing:
        _meeting_create(
            kind=MeetingKind.TOWN,
            title=DRAFT_TITLE,
            area=LocalGovernment.Area.EAST,
            tool=MeetingTool.ZOOM,
            acting_user=admin,
        )
        created += 1
    if HELD_TITLE not in existing:
        meeting = _meeting_create(
            kind=MeetingKind.PREFECTURE,
            title=HELD_TITLE,
            area="",
            tool=MeetingTool.TEAMS,
            acting_user=admin,
            sessions="held",
        )
        prefectures = list(LocalGovernment.objects.filter(kind=LocalGovernment.Kind.PREFECTURE).order_by("-code"))
        people = [(lg, d, "") for lg in _every_nth(prefectures, HELD_COUNT) for d in DEPARTMENTS]
        roster.roster_import(
            meeting=meeting,
            data=roster_csv(_numbered(people, "sample-held")),
            filename="sample-roster-held.csv",
            acting_user=admin,
        )
        # Staff confirm each department's suggested 担当区分 once, as on 「担当区分の確認」.
        suggested = DepartmentRole.objects.filter(meeting=meeting).values_list("pk", "suggestion")
        roles.confirm(meeting=meeting, choices={pk: s or ROLE_OTHER for pk, s in suggested}, acting_user=admin)
        grouping.grouping_propose(meeting=meeting, acting_user=admin)
        grouping.grouping_approve(meeting=meeting, acting_user=admin, confirm_violations=True)
        rooms.rooms_assign(meeting=meeting, acting_user=admin)
        _rooms_fill(meeting, admin)
        created += 1
    if created:
        log(f"情報交換会のサンプル（準備中・開催済み）: {created} 件を作成しました。")
    return created
