""":func:`propose_groups`: the grouping of a whole meeting, section by section (the town meeting,
or each department of a prefecture meeting), numbered and explained in Japanese."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from kokasen.core.refusals import Refused

from .mixing import EXACT_UNITS, exact_max_mixed, mix_bound, unmixed_reason, why_no_mixing
from .model import (
    KIND_PREFECTURE,
    KIND_TOWN,
    GroupingParams,
    GroupingResult,
    GroupReport,
    Participant,
    Violation,
)
from .rules import violations
from .search import local_search
from .units import UNKNOWN_CENTER, Section, Unit, build_units, is_mixed, sort_units, spread
from .window import groups_from_bins, size_partition, window_dp

BAND = 2  # the window programme first keeps the group count within this of proportional


@dataclass
class _SectionPlan:
    """One section's groups (units, in no particular order yet) and its mixing figures."""

    department: str
    groups: list[list[Unit]] = field(default_factory=list)
    mixed: int = 0
    bound: int = 0
    proven: bool = True
    notes: list[str] = field(default_factory=list)


def propose_groups(participants: Iterable[Participant], params: GroupingParams | None = None) -> GroupingResult:
    """Propose a grouping. Raises :class:`Refused` (Japanese reasons) when none is valid."""
    params = params or GroupingParams()
    errors = params.errors()
    if errors:
        raise Refused(*errors)
    participants = list(participants)
    if not participants:
        raise Refused("参加者がいません。名簿を確認してください。")
    units = build_units(participants, params)
    plans = _plan_sections(units, params)
    mixed = sum(p.mixed for p in plans)
    bound = sum(p.bound for p in plans)
    proven = all(p.proven for p in plans)
    planned = _in_meeting_order(plans)
    group_ids = [tuple(i for u in members for i in u.ids) for _, members in planned]
    reports = _reports(planned, group_ids, violations(group_ids, participants, params), params, mixed, bound, proven)
    notes = _meeting_notes(plans, units, params, len(reports), mixed, bound, proven)
    objective = 0.0
    for r in reports:  # added in group order (sum() compensates rounding from Python 3.12 on)
        objective += r.spread
    return GroupingResult(
        groups=group_ids,
        reports=reports,
        objective=objective,
        mixed_groups=mixed,
        mixed_upper_bound=bound,
        mixed_maximum_proven=proven,
        notes=notes,
    )


def _plan_sections(units: list[Unit], params: GroupingParams) -> list[_SectionPlan]:
    """Every section's plan; :class:`Refused` with the reasons of every section that has none."""
    sections: dict[str, list[Unit]] = defaultdict(list)
    for u in units:
        sections[u.department].append(u)
    plans, reasons = [], []
    for dept in sorted(sections):
        try:
            plans.append(_plan_section(dept, sections[dept], params))
        except Refused as refused:
            reasons += refused.messages
    if reasons:
        raise Refused(*reasons)
    return plans


def _plan_section(dept: str, units: list[Unit], params: GroupingParams) -> _SectionPlan:
    """A unit larger than ``max_size`` is a group of its own; the others are grouped by the window
    programme (or the size-only search), then improved by the local search."""
    sec_units = sort_units(units)
    plan = _SectionPlan(dept, groups=[[u] for u in sec_units if u.size > params.max_size])
    rest = [u for u in sec_units if u.size <= params.max_size]
    if not rest:
        return plan
    sec = Section(rest, params, mixing=params.kind == KIND_TOWN)
    label = f"部署「{dept}」" if params.kind == KIND_PREFECTURE else "この会議"
    groups = _first_grouping(sec, params, label)
    k = len(groups)
    bound = mix_bound(sec, k)
    groups = local_search(sec, groups, bound)
    if sec.mixing:
        plan.mixed = sum(is_mixed(sec.units[i] for i in g) for g in groups)
        plan.proven = plan.mixed >= bound
        if not plan.proven and len(rest) <= EXACT_UNITS:
            exact = exact_max_mixed(sec, k)
            if exact is not None:
                bound = exact
                plan.proven = plan.mixed >= exact
        plan.bound = bound
    plan.groups += [[sec.units[i] for i in g] for g in groups]
    if params.kind == KIND_TOWN:
        plan.notes = why_no_mixing(sec)
    return plan


def _first_grouping(sec: Section, params: GroupingParams, label: str) -> list[list[int]]:
    """The window programme's grouping with the target group count (or the next one), else with
    any feasible count, else the size-only search's; :class:`Refused` saying why there is none."""
    lo, hi = params.min_size, params.max_size
    kmin, kmax = sec.k_range()
    if sec.people < lo:
        raise Refused(
            f"{label}の参加者は{sec.people}人で、1グループの最小人数（{lo}人）に足りません。"
            "最小人数を下げるか、参加者を増やしてください。"
        )
    if kmin > kmax and kmin <= sec.people // lo:
        raise _unsplittable(sec, label, lo, hi)
    if kmin > kmax:
        raise Refused(
            f"{label}の参加者{sec.people}人は、{lo}〜{hi}人のグループに分けられません"
            f"（{hi}人ずつでは{kmin}グループ必要ですが、{lo}人ずつでは{kmax}グループしか作れません）。"
        )
    k = sec.k_target(params.target)
    for kk in sorted(range(kmin, kmax + 1), key=lambda c: (abs(c - k), c))[:2]:
        groups = window_dp(sec, (kk, kk), kk, BAND)
        if groups is not None:
            return groups
    groups = window_dp(sec, (kmin, kmax), k)
    if groups is not None:
        return groups
    found = size_partition([u.size for u in sec.units], lo, hi)
    if found is None:
        raise _unsplittable(sec, label, lo, hi)
    if found == "unknown":
        raise Refused(
            f"{label}では、団体を分けずに{lo}〜{hi}人のグループにする方法が見つかりませんでした"
            f"（団体ごとの人数: {_size_summary(sec.units)}）。人数の上限・下限を変えてお試しください。"
        )
    return groups_from_bins(sec, found)


def _unsplittable(sec: Section, label: str, lo: int, hi: int) -> Refused:
    return Refused(
        f"{label}の参加者{sec.people}人は、団体を分けずに{lo}〜{hi}人のグループにする方法がありません"
        f"（団体ごとの人数: {_size_summary(sec.units)}）。"
    )


def _size_summary(units: list[Unit]) -> str:
    counts = Counter(u.size for u in units)
    return "、".join(f"{s}人の団体が{counts[s]}" for s in sorted(counts))


def _in_meeting_order(plans: list[_SectionPlan]) -> list[tuple[str, list[Unit]]]:
    """(department, units) of every group, numbered in this order: department, then population;
    the units of a group in population order."""
    planned = [(plan.department, members) for plan in plans for members in plan.groups]
    planned.sort(key=lambda dg: (dg[0], min(u.sort_x for u in dg[1]), min(u.code for u in dg[1])))
    for _, members in planned:
        members.sort(key=lambda u: (u.sort_x, u.code, u.department))
    return planned


def _reports(
    planned: list[tuple[str, list[Unit]]],
    group_ids: list[tuple],
    found: list[Violation],
    params: GroupingParams,
    mixed: int,
    bound: int,
    proven: bool,
) -> list[GroupReport]:
    by_group: dict[int | None, list[Violation]] = defaultdict(list)
    for v in found:
        by_group[v.group].append(v)
    reports = []
    for number, ((dept, members), ids) in enumerate(zip(planned, group_ids), start=1):
        report = GroupReport(
            number=number,
            department=dept,
            participant_ids=ids,
            people=len(ids),
            local_governments=tuple(u.name for u in members),
            mixed=is_mixed(members) if params.kind == KIND_TOWN else None,
            spread=spread(members),
            violations=by_group.get(number, []),
        )
        report.notes = _group_notes(report, members, params, mixed, bound, proven)
        reports.append(report)
    return reports


def _group_notes(
    report: GroupReport, members: list[Unit], params: GroupingParams, mixed: int, bound: int, proven: bool
) -> list[str]:
    """Unknown populations, an oversize local government, and why a town group is not mixed."""
    hi = params.max_size
    notes = []
    for u in members:
        if u.population is None:
            notes.append(
                f"{u.name}は人口の数値がないため、人口の近さの計算から外して配置しました"
                "（並び順では人口の中央値の位置に置いています）。"
            )
        if u.size > hi:
            notes.append(
                f"{u.name}から{u.size}人が参加しています。同じ団体の方は同じグループにするため分けられず、"
                f"このグループだけ上限の{hi}人を超えています。"
            )
    if params.kind == KIND_TOWN and not report.mixed and not any(u.size > hi for u in members):
        notes.append(unmixed_reason(members, mixed, bound, proven))
    return notes


def _meeting_notes(
    plans: list[_SectionPlan],
    units: list[Unit],
    params: GroupingParams,
    groups: int,
    mixed: int,
    bound: int,
    proven: bool,
) -> list[str]:
    """The mixing figures first, then why a section could not mix, then the towns of unknown status."""
    notes = [note for plan in plans for note in plan.notes]
    if params.kind == KIND_TOWN and bound:
        if proven:
            notes.insert(
                0,
                f"{groups}グループのうち{mixed}グループで、センター設置済みと未設置の町村が混在しています。"
                f"この名簿で混在させられるのは最大{bound}グループで、その最大に達しています。",
            )
        else:
            notes.insert(
                0,
                f"{groups}グループのうち{mixed}グループで、センター設置済みと未設置の町村が混在しています。"
                f"理論上の上限は{bound}グループですが、上限に達しているかは確認できていません。",
            )
    unknown_center = [u.name for u in units if params.kind == KIND_TOWN and u.center == UNKNOWN_CENTER]
    if unknown_center:
        notes.append(
            "センター設置状況が不明な団体は、混在の判定に数えていません: " + "、".join(sorted(unknown_center)) + "。"
        )
    return notes
