"""The rules of any grouping, proposed or edited by hand: :func:`violations` lists every rule each
group breaks, :func:`objective` scores the population spread."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Hashable, Iterable, Sequence

from .model import KIND_PREFECTURE, GroupingParams, Participant, Violation
from .units import id_key, unit_key


def objective(groups: Sequence[Sequence[Hashable]], participants: Iterable[Participant]) -> float:
    """The objective of any grouping: sum over groups of (max - min) ln population (known ones)."""
    pop = {p.id: p.population for p in participants}
    total = 0.0
    for g in groups:
        xs = [math.log(pop[i]) for i in g if pop.get(i)]
        if len(xs) > 1:
            total += max(xs) - min(xs)
    return total


def violations(
    groups: Sequence[Sequence[Hashable]], participants: Iterable[Participant], params: GroupingParams | None = None
) -> list[Violation]:
    """Every rule each group breaks (groups are numbered from 1 in the given order)."""
    params = params or GroupingParams()
    people = {p.id: p for p in participants}
    found = _membership(groups, people)
    unit_groups: dict[tuple[str, str], set[int]] = defaultdict(set)
    for number, g in enumerate(groups, start=1):
        for pid in g:
            if pid in people:
                unit_groups[unit_key(people[pid], params.kind)].add(number)
    for number, g in enumerate(groups, start=1):
        members = [people[pid] for pid in g if pid in people]
        found += _size(number, len(g), members, params)
        found += _split(number, members, unit_groups, params)
        if params.kind == KIND_PREFECTURE:
            found += _departments(number, members)
        elif members:
            found += _no_mix(number, members)
        if params.max_population_ratio is not None:
            found += _spread(number, members, params.max_population_ratio)
    return found


def _membership(groups: Sequence[Sequence[Hashable]], people: dict[Hashable, Participant]) -> list[Violation]:
    """Somebody not on the roster, in several groups, or in none."""
    found = []
    where: dict[Hashable, list[int]] = defaultdict(list)
    for number, g in enumerate(groups, start=1):
        for pid in g:
            where[pid].append(number)
    for pid in sorted(where, key=id_key):
        if pid not in people:
            for number in where[pid]:
                found.append(Violation("membership", number, f"ID {pid} の参加者は名簿にいません。"))
        elif len(where[pid]) > 1:
            numbers = "、".join(str(n) for n in where[pid])
            found.append(
                Violation(
                    "membership",
                    where[pid][0],
                    f"{people[pid].name}の参加者（ID {pid}）が複数のグループ（{numbers}）に入っています。",
                )
            )
    missing = [pid for pid in people if pid not in where]
    for pid in sorted(missing, key=id_key):
        found.append(
            Violation("membership", None, f"{people[pid].name}の参加者（ID {pid}）がどのグループにも入っていません。")
        )
    return found


def _size(number: int, n: int, members: list[Participant], params: GroupingParams) -> list[Violation]:
    if n < params.min_size:
        return [Violation("size_below", number, f"{n}人で、最小人数（{params.min_size}人）に足りません。")]
    if n > params.max_size:
        if len({unit_key(p, params.kind) for p in members}) == 1 and members:
            msg = (
                f"{n}人で、最大人数（{params.max_size}人）を超えています。"
                f"{members[0].name}だけのグループで、同じ団体は分けられないためです。"
            )
        else:
            msg = f"{n}人で、最大人数（{params.max_size}人）を超えています。"
        return [Violation("size_above", number, msg)]
    return []


def _split(
    number: int, members: list[Participant], unit_groups: dict[tuple[str, str], set[int]], params: GroupingParams
) -> list[Violation]:
    """A local government (prefecture meetings: a prefecture's department) also in other groups."""
    found = []
    for key in sorted({unit_key(p, params.kind) for p in members}):
        others = sorted(unit_groups[key] - {number})
        if others:
            name = next(p.name for p in members if unit_key(p, params.kind) == key)
            what = f"{name}（{key[1]}）" if params.kind == KIND_PREFECTURE else name
            found.append(
                Violation(
                    "split_local_government",
                    number,
                    f"{what}の参加者がグループ" + "、".join(str(o) for o in others) + "にも分かれています。",
                )
            )
    return found


def _departments(number: int, members: list[Participant]) -> list[Violation]:
    depts = sorted({p.department for p in members})
    if len(depts) > 1:
        return [
            Violation("mixed_departments", number, "異なる部署の方が同じグループにいます: " + "、".join(depts) + "。")
        ]
    return []


def _no_mix(number: int, members: list[Participant]) -> list[Violation]:
    centers = {p.has_center for p in members}
    if True in centers and False in centers:
        return []
    if True in centers:
        msg = "センター設置済の町村だけのグループで、未設置の町村と混在していません。"
    elif False in centers:
        msg = "センター未設置の町村だけのグループで、設置済の町村と混在していません。"
    else:
        msg = "センター設置状況がわかる町村がなく、混在しているか判定できません。"
    return [Violation("no_mix", number, msg)]


def _spread(number: int, members: list[Participant], ratio: float) -> list[Violation]:
    pops = {p.code or p.name: p.population for p in members if p.population}
    if len(pops) > 1:
        big, small = max(pops.values()), min(pops.values())
        if big > small * ratio:
            return [
                Violation(
                    "spread",
                    number,
                    f"人口の差が大きく、最大（{big:,}人）が最小（{small:,}人）の{big / small:.1f}倍です"
                    f"（目安は{ratio:g}倍以内）。",
                )
            ]
    return []
