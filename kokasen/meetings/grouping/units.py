"""Units (everybody one local government sends; at prefecture meetings, per department), their
order, and the cost of a group of them (:class:`Section`)."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from kokasen.core.refusals import Refused

from .model import KIND_PREFECTURE, KIND_TOWN, GroupingParams, Participant

W_CENTER, WITHOUT_CENTER, UNKNOWN_CENTER = 1, 2, 0
EPS = 1e-12  # costs closer than this are equal


@dataclass
class Unit:
    code: str
    name: str
    department: str
    ids: tuple
    size: int
    center: int
    population: int | None
    logpop: float | None
    sort_x: float = 0.0


def id_key(value):
    return (0, value, "") if isinstance(value, int) and not isinstance(value, bool) else (1, 0, str(value))


def unit_key(p: Participant, kind: str) -> tuple[str, str]:
    lg = p.code or p.name
    return (lg, p.department if kind == KIND_PREFECTURE else "")


def build_units(participants: Sequence[Participant], params: GroupingParams) -> list[Unit]:
    """The roster's units. Raises :class:`Refused` naming every unusable or inconsistent row."""
    by_key = _participants_by_unit(participants, params)
    return [_unit(lg, dept, members, params.kind) for (lg, dept), members in by_key.items()]


def _participants_by_unit(
    participants: Sequence[Participant], params: GroupingParams
) -> dict[tuple[str, str], list[Participant]]:
    errors = []
    seen = Counter(p.id for p in participants)
    dup = sorted((i for i, c in seen.items() if c > 1), key=id_key)
    if dup:
        errors.append("参加者のIDが重複しています: " + "、".join(str(i) for i in dup))
    by_key: dict[tuple[str, str], list[Participant]] = defaultdict(list)
    for p in participants:
        if not (p.code or p.name):
            errors.append(f"参加者（ID {p.id}）の団体コードと団体名がどちらも空です。")
            continue
        if params.kind == KIND_PREFECTURE and not p.department.strip():
            errors.append(f"都道府県の会議では部署が必要です。{p.name}（ID {p.id}）の部署が空です。")
            continue
        if p.population is not None and (not isinstance(p.population, int) or p.population <= 0):
            errors.append(f"{p.name}の人口（{p.population}）は正の整数ではありません。")
            continue
        by_key[unit_key(p, params.kind)].append(p)
    by_lg: dict[str, list[Participant]] = defaultdict(list)
    for (lg, _), members in by_key.items():
        by_lg[lg].extend(members)
    for lg in sorted(by_lg):
        members = by_lg[lg]
        if len({p.population for p in members}) > 1:
            errors.append(f"{members[0].name}（{lg}）の人口が参加者によって異なります。")
        if params.kind == KIND_TOWN and len({p.has_center for p in members}) > 1:
            errors.append(f"{members[0].name}（{lg}）のセンター設置状況が参加者によって異なります。")
    if errors:
        raise Refused(*errors)
    return by_key


def _unit(lg: str, dept: str, members: list[Participant], kind: str) -> Unit:
    first = min(members, key=lambda p: id_key(p.id))
    center = UNKNOWN_CENTER
    if kind == KIND_TOWN and first.has_center is not None:
        center = W_CENTER if first.has_center else WITHOUT_CENTER
    pop = first.population
    return Unit(
        code=lg,
        name=first.name,
        department=dept,
        ids=tuple(sorted((p.id for p in members), key=id_key)),
        size=len(members),
        center=center,
        population=pop,
        logpop=math.log(pop) if pop else None,
    )


def sort_units(units: list[Unit]) -> list[Unit]:
    """The units in population order; an unknown population is placed at the median (``sort_x``)."""
    known = sorted(u.logpop for u in units if u.logpop is not None)
    median = known[len(known) // 2] if known else 0.0
    for u in units:
        u.sort_x = u.logpop if u.logpop is not None else median
    return sorted(units, key=lambda u: (u.sort_x, u.code, u.department))


def spread(members: Iterable[Unit]) -> float:
    xs = [u.logpop for u in members if u.logpop is not None]
    return max(xs) - min(xs) if len(xs) > 1 else 0.0


def is_mixed(members: Iterable[Unit]) -> bool:
    classes = {u.center for u in members}
    return W_CENTER in classes and WITHOUT_CENTER in classes


class Section:
    """The units grouped together: the whole town meeting, or one department. Groups are lists of
    indexes into ``units``; :meth:`cost` is a group's spread, plus ``big`` for an unmixed group
    while mixing is possible (so (unmixed groups, spread) compare lexicographically)."""

    def __init__(self, units: list[Unit], params: GroupingParams, mixing: bool):
        self.units = units
        self.lo, self.hi = params.min_size, params.max_size
        self.mixing = (
            mixing and any(u.center == W_CENTER for u in units) and any(u.center == WITHOUT_CENTER for u in units)
        )
        xs = [u.logpop for u in units if u.logpop is not None]
        self.big = (max(xs) - min(xs) if xs else 0.0) * (len(units) + 1) + 1.0
        self.people = sum(u.size for u in units)

    def cost(self, idx: Sequence[int]) -> float:
        lo_x = hi_x = None
        w = n = False
        for i in idx:
            u = self.units[i]
            x = u.logpop
            if x is not None:
                if lo_x is None or x < lo_x:
                    lo_x = x
                if hi_x is None or x > hi_x:
                    hi_x = x
            if u.center == W_CENTER:
                w = True
            elif u.center == WITHOUT_CENTER:
                n = True
        c = (hi_x - lo_x) if lo_x is not None else 0.0
        if self.mixing and not (w and n):
            c += self.big
        return c

    def k_range(self) -> tuple[int, int]:
        """Bounds on the number of groups: by people, and by units (a unit of at least ``lo`` people
        may be a group alone; the others need as many units as the fewest, largest ones that reach
        ``lo`` people)."""
        alone = sum(1 for u in self.units if u.size >= self.lo)
        need, people = 0, 0
        for s in sorted((u.size for u in self.units if u.size < self.lo), reverse=True):
            need += 1
            people += s
            if people >= self.lo:
                break
        by_units = alone + (len(self.units) - alone) // max(need, 1)
        return -(-self.people // self.hi), min(self.people // self.lo, by_units)

    def k_target(self, target: float) -> int:
        kmin, kmax = self.k_range()
        ideal = self.people / target
        best = max(kmin, min(kmax, math.floor(ideal)))
        up = max(kmin, min(kmax, math.ceil(ideal)))
        return best if abs(ideal - best) <= abs(up - ideal) else up
