""":func:`propose_groups`: the grouping of a whole meeting, section by section (the town meeting,
or each department of a prefecture meeting), numbered and explained in Japanese."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from kokasen.core.refusals import Refused

from .count import MAX_TRIES, CountBounds, count_bounds, limiting_factor
from .fill import mixed_groups_from_bins
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
    unmixed: int = 0
    fewest: bool = False  # no admissible group count has fewer unmixed groups
    count: CountBounds | None = None  # the mixing figures of every admissible group count
    limit: str = ""  # why some groups cannot mix, with the numbers
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
    programme (or the size-only search), then improved by the local search. A section that can mix
    chooses its group count by mixing first (:mod:`.count`)."""
    sec_units = sort_units(units)
    plan = _SectionPlan(dept, groups=[[u] for u in sec_units if u.size > params.max_size])
    rest = [u for u in sec_units if u.size <= params.max_size]
    if not rest:
        return plan
    sec = Section(rest, params, mixing=params.kind == KIND_TOWN)
    label = f"部署「{dept}」" if params.kind == KIND_PREFECTURE else "この会議"
    _check_splittable(sec, params, label)
    found = _mixing_grouping(sec, params) if sec.mixing else None
    if found is None:
        groups = _first_grouping(sec, params, label)
        groups = local_search(sec, groups, mix_bound(sec, len(groups)))
    else:
        groups, plan.count = found
    if sec.mixing:
        _mixing_figures(plan, sec, groups)
    plan.groups += [[sec.units[i] for i in g] for g in groups]
    if params.kind == KIND_TOWN:
        plan.notes = why_no_mixing(sec)
    return plan


def _mixing_figures(plan: _SectionPlan, sec: Section, groups: list[list[int]]) -> None:
    """Mixed groups, the most mixed groups possible over every admissible group count (for this
    count only when it came from the fallback), whether that is reached, and whether no admissible
    count has fewer unmixed groups."""
    k = len(groups)
    plan.mixed = sum(is_mixed(sec.units[i] for i in g) for g in groups)
    plan.unmixed = k - plan.mixed
    count = plan.count
    if count is not None and k in count.bound:
        plan.bound = count.most_mixed  # over every admissible count, as the notes say
        plan.proven = plan.mixed >= plan.bound
        plan.fewest = plan.unmixed <= count.fewest_unmixed
        plan.limit = "" if plan.unmixed == 0 else limiting_factor(sec, count.k_lo, k)
        return
    bound = mix_bound(sec, k)  # the count came from the fallback: proof for this count only
    plan.proven = plan.mixed >= bound
    if not plan.proven and len(sec.units) <= EXACT_UNITS:
        exact = exact_max_mixed(sec, k)
        if exact is not None:
            bound = exact
            plan.proven = plan.mixed >= exact
    plan.bound = bound
    plan.count = None


def _mixing_grouping(sec: Section, params: GroupingParams) -> tuple[list[list[int]], CountBounds] | None:
    """The grouping of a section that can mix, trying group counts in the order of
    :meth:`CountBounds.order` until no count left can beat the best found (at most
    :data:`MAX_TRIES` counts); None when no count tried gave a grouping. A count that the size-only
    search shows has no valid grouping is dropped from the figures."""
    count = count_bounds(sec)
    ideal = sec.people / params.target
    best, best_key, tries = None, None, 0
    for k in count.order(ideal):
        if tries == MAX_TRIES or (best_key is not None and count.key(k, k - count.bound[k], ideal) >= best_key):
            break
        groups = _grouping_with(sec, k, count.bound[k])
        if groups is None:
            del count.bound[k]
            continue
        tries += 1
        key = count.key(k, _unmixed(sec, groups), ideal)
        if groups and (best_key is None or key < best_key):
            best, best_key = groups, key
    return None if best is None else (best, count)


def _unmixed(sec: Section, groups: list[list[int]]) -> int:
    return sum(not is_mixed(sec.units[i] for i in g) for g in groups)


def _grouping_with(sec: Section, k: int, bound: int) -> list[list[int]] | None:
    """The best of the window programme's grouping into ``k`` groups and the size-only search's
    (units placed to mix), each after the local search; ``[]`` when neither found one, None when
    the size-only search shows there is none."""
    groups = window_dp(sec, (k, k), k, BAND)
    if groups is not None:
        groups = local_search(sec, groups, bound)
        if k - _unmixed(sec, groups) >= bound:
            return groups
    bins = size_partition([u.size for u in sec.units], sec.lo, sec.hi, k)
    if bins is None:
        return None
    if bins == "unknown":
        return groups or []
    other = local_search(sec, mixed_groups_from_bins(sec, bins), bound)
    if groups is None:
        return other
    return min(groups, other, key=lambda g: (_unmixed(sec, g), sum(sec.cost(x) for x in g)))


def _check_splittable(sec: Section, params: GroupingParams, label: str) -> None:
    """:class:`Refused` when the section is too small or its sizes cannot be grouped at all."""
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


def _first_grouping(sec: Section, params: GroupingParams, label: str) -> list[list[int]]:
    """The window programme's grouping with the target group count (or the next one), else with
    any feasible count, else the size-only search's; :class:`Refused` saying why there is none."""
    lo, hi = params.min_size, params.max_size
    kmin, kmax = sec.k_range()
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
        head = f"{groups}グループのうち{mixed}グループで、センター設置済と未設置の町村が混在しています。"
        notes.insert(0, head + "".join(_mixing_sentences(plan, bound, proven) for plan in plans if plan.bound))
    unknown_center = [u.name for u in units if params.kind == KIND_TOWN and u.center == UNKNOWN_CENTER]
    if unknown_center:
        notes.append(
            "センター設置状況が不明な団体は、混在の判定に数えていません: " + "、".join(sorted(unknown_center)) + "。"
        )
    return notes


def _mixing_sentences(plan: _SectionPlan, bound: int, proven: bool) -> str:
    """What the mixing figures of a section prove, over every admissible group count when the
    count was chosen by mixing, with the numbers that limit it."""
    count = plan.count
    if count is None:
        if proven:
            return f"この名簿で混在させられるのは最大{bound}グループで、その最大に達しています。"
        return f"理論上の上限は{bound}グループですが、上限に達しているかは確認できていません。"
    if plan.unmixed == 0:
        return "グループ数は、すべてのグループが混在する数のうち、1グループの目安の人数に最も近いものにしています。"
    counts = (
        f"グループ数は{count.k_lo}にしかできず"
        if count.k_lo == count.k_hi
        else f"グループ数を{count.k_lo}〜{count.k_hi}のどれにしても"
    )
    if not plan.fewest:
        return (
            f"理論上の上限は{bound}グループですが、上限に達しているかは確認できていません"
            f"（{counts}、混在しないグループは少なくとも{count.fewest_unmixed}グループです）。{plan.limit}"
        )
    fewest = f"混在しないグループを{plan.unmixed}グループより少なくする分け方もありません。"
    if count.most_mixed == plan.mixed:
        most = f"この名簿で混在させられるのは最大{count.most_mixed}グループで、その最大に達しています。"
        return f"{counts}、{most}{fewest}{plan.limit}"
    return f"{counts}、{fewest}{plan.limit}"
