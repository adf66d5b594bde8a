"""The working grouping as the adjustment screen shows it and an approval stores it: one
:class:`GroupRow` per group with its :class:`LocalGovernmentRow`\\ s, the whole :class:`GroupingReport`,
and the population labels (「1.2万〜3.4万人（2.8倍）」).

Nothing here queries the database or judges a rule: ``services/grouping.current_report`` reads
the rows and asks the engine (``grouping.violations``); :func:`group_rows` only arranges what it
is given next to each group (decision 0015).
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from kokasen.localgov.models import LocalGovernment

from . import grouping
from .centers import CENTER_NO, CENTER_UNKNOWN, CENTER_YES, center_label
from .models import Group, GroupingNotes, Meeting, Participant


def format_population(n: int) -> str:
    """12,345 → 「1.2万」, 8,523 → 「8,523」, 1,404,000 → 「140万」."""
    if n < 10_000:
        return f"{n:,}"
    man = n / 10_000
    text = f"{man:,.0f}" if man >= 100 else f"{man:.1f}".removesuffix(".0")
    return f"{text}万"


def population_range_label(low: int | None, high: int | None, unknown: int = 0) -> str:
    """「1.2万〜3.4万人（2.8倍）」; one figure when the group has one known population; exact
    figures when the rounded ones would look the same (「10,234〜10,456人（1.0倍）」)."""
    if low is None or high is None:
        text = "人口不明"
    elif low == high:
        text = f"{format_population(low)}人"
    else:
        a, b = format_population(low), format_population(high)
        if a == b:
            a, b = f"{low:,}", f"{high:,}"
        text = f"{a}〜{b}人（{high / low:.1f}倍）"
    if unknown and low is not None:
        text += f"、人口不明{unknown}団体"
    return text


@dataclass
class LocalGovernmentRow:
    """One local government (prefecture meetings: one prefecture and department) inside a group."""

    local_government: LocalGovernment
    department: str
    population: int | None
    has_center: bool | None
    participants: list[Participant]
    elsewhere: list[int]  # numbers of the other groups where people of this unit are

    @property
    def people(self) -> int:
        return len(self.participants)

    @property
    def center_text(self) -> str:
        return center_label(self.has_center)

    @property
    def population_text(self) -> str:
        return f"{self.population:,}人" if self.population else "不明"


@dataclass
class GroupRow:
    group: Group
    participants: list[Participant]
    local_governments: list[LocalGovernmentRow]
    violations: list[grouping.Violation]
    mixed: bool | None  # None for prefecture meetings
    with_center: int  # local governments
    without_center: int
    unknown_center: int
    population_min: int | None
    population_max: int | None
    population_unknown: int  # local governments without a census figure
    notes: list[str] = field(default_factory=list)  # the engine's, while the group is as proposed

    @property
    def number(self) -> int:
        return self.group.number

    @property
    def people(self) -> int:
        return len(self.participants)

    @property
    def ratio(self) -> float | None:
        if self.population_min and self.population_max:
            return self.population_max / self.population_min
        return None

    @property
    def population_label(self) -> str:
        return population_range_label(self.population_min, self.population_max, self.population_unknown)

    @property
    def center_label(self) -> str:
        parts = []
        if self.with_center:
            parts.append(f"{CENTER_YES}{self.with_center}団体")
        if self.without_center:
            parts.append(f"{CENTER_NO}{self.without_center}団体")
        if self.unknown_center:
            parts.append(f"{CENTER_UNKNOWN}{self.unknown_center}団体")
        return "・".join(parts) or "—"


@dataclass
class GroupingReport:
    meeting: Meeting
    params: grouping.GroupingParams
    groups: list[GroupRow]
    unassigned: list[Participant]
    other_violations: list[grouping.Violation]  # not tied to one group (e.g. somebody in no group)
    objective: float
    fingerprint: str
    proposal: GroupingNotes

    @property
    def violation_count(self) -> int:
        return sum(len(g.violations) for g in self.groups) + len(self.other_violations)

    @property
    def groups_with_violations(self) -> int:
        return sum(1 for g in self.groups if g.violations)

    @property
    def mixed_groups(self) -> int:
        return sum(1 for g in self.groups if g.mixed)

    @property
    def people(self) -> int:
        return sum(g.people for g in self.groups) + len(self.unassigned)

    @property
    def edits(self) -> int:
        return self.proposal.edits

    @property
    def proposed_at(self) -> datetime | None:
        return self.proposal.proposed_at

    @property
    def approved(self) -> bool:
        return self.meeting.grouping_approved_at is not None

    def snapshot(self, *, confirmed: bool) -> dict:
        """What a ``GroupingApproval`` keeps of the grouping (participant numbers, never names)."""
        meeting = self.meeting
        return {
            "meeting": {"pk": meeting.pk, "title": meeting.title, "kind": meeting.kind, "area": meeting.area},
            "params": {
                "kind": self.params.kind,
                "min_size": self.params.min_size,
                "max_size": self.params.max_size,
                "target_size": self.params.target_size,
                "max_population_ratio": self.params.max_population_ratio,
            },
            "groups": [
                {
                    "number": g.number,
                    "name": g.group.name,
                    "department": g.group.department,
                    "room": g.group.room.name if g.group.room else None,
                    "participants": [p.number for p in g.participants],
                    "local_governments": [
                        {
                            "code": r.local_government.code,
                            "name": str(r.local_government),
                            "department": r.department,
                            "people": r.people,
                        }
                        for r in g.local_governments
                    ],
                    "people": g.people,
                    "mixed": g.mixed,
                    "population_min": g.population_min,
                    "population_max": g.population_max,
                    "violations": [{"rule": v.rule, "message": v.message} for v in g.violations],
                }
                for g in self.groups
            ],
            "unassigned": [p.number for p in self.unassigned],
            "other_violations": [{"rule": v.rule, "message": v.message} for v in self.other_violations],
            "violation_count": self.violation_count,
            "violations_confirmed": confirmed,
            "mixed_groups": self.mixed_groups,
            "objective": self.objective,
            "fingerprint": self.fingerprint,
            "proposed_at": self.proposed_at.isoformat() if self.proposed_at else None,
            "edits_since_proposal": self.edits,
        }


def fingerprint(groups: list[tuple[int, list[int]]], unassigned: list[int]) -> str:
    """Changes whenever anybody changes group (the approval form carries it)."""
    data = json.dumps({"groups": groups, "unassigned": unassigned}, separators=(",", ":"))
    return hashlib.sha256(data.encode()).hexdigest()[:20]


def group_rows(
    groups: list[Group],
    members: dict[int, list[Participant]],
    violations: dict[int | None, list[grouping.Violation]],
    engine: dict[int, grouping.Participant],
    proposal: GroupingNotes,
    *,
    prefecture: bool,
) -> list[GroupRow]:
    """One row per group, in the order given: ``members`` by group pk, ``violations`` by group
    index (1-based, the engine's numbering), ``engine`` the engine's view of each participant by
    number (department, center status, population)."""

    def unit_key(p: Participant) -> tuple[str, str]:
        return (p.local_government.code, engine[p.number].department)

    unit_groups: dict[tuple[str, str], set[int]] = defaultdict(set)
    for g in groups:
        for p in members[g.pk]:
            unit_groups[unit_key(p)].add(g.number)
    rows = []
    for index, g in enumerate(groups, start=1):
        units: dict[tuple[str, str], list[Participant]] = defaultdict(list)
        for p in members[g.pk]:
            units[unit_key(p)].append(p)
        lg_rows = [
            LocalGovernmentRow(
                local_government=ps[0].local_government,
                department=key[1],
                population=engine[ps[0].number].population,
                has_center=None if prefecture else engine[ps[0].number].has_center,
                participants=ps,
                elsewhere=sorted(unit_groups[key] - {g.number}),
            )
            for key, ps in units.items()
        ]
        lg_rows.sort(key=lambda r: (r.population is None, r.population or 0, r.local_government.code, r.department))
        rows.append(_group_row(g, lg_rows, violations.get(index, []), proposal, prefecture=prefecture))
    return rows


def _group_row(
    group: Group,
    lg_rows: list[LocalGovernmentRow],
    violations: list[grouping.Violation],
    proposal: GroupingNotes,
    *,
    prefecture: bool,
) -> GroupRow:
    ordered = [p for r in lg_rows for p in r.participants]
    # Center status and population are per local government (a prefecture with several departments counts once).
    lgs: dict[str, LocalGovernmentRow] = {}
    for r in lg_rows:
        lgs.setdefault(r.local_government.code, r)
    known = [r.population for r in lgs.values() if r.population]
    centers = [r.has_center for r in lgs.values()]
    with_c, without_c = centers.count(True), centers.count(False)
    proposed = proposal.groups.get(group.number)
    as_proposed = proposed is not None and sorted(proposed.participants) == sorted(p.number for p in ordered)
    return GroupRow(
        group=group,
        participants=ordered,
        local_governments=lg_rows,
        violations=violations,
        mixed=None if prefecture else (with_c > 0 and without_c > 0),
        with_center=0 if prefecture else with_c,
        without_center=0 if prefecture else without_c,
        unknown_center=0 if prefecture else centers.count(None),
        population_min=min(known) if known else None,
        population_max=max(known) if known else None,
        population_unknown=sum(1 for r in lgs.values() if not r.population),
        notes=list(proposed.notes) if as_proposed else [],
    )
