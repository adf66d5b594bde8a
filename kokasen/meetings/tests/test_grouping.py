"""The grouping engine (issue 5, M1/M2): every rule, determinism, edge cases, and the maximum-mix
guarantee against an exhaustive search. Pure Python: no database."""

import math
import random
import re

import pytest

from kokasen.core.refusals import Refused
from kokasen.meetings.grouping import (
    GroupingParams,
    Participant,
    objective,
    propose_groups,
    violations,
)

TOWN = GroupingParams(kind="town")
PREF = GroupingParams(kind="prefecture")
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


def town_roster(spec, start=0):
    """spec: list of (people, has_center, population); codes are 9xxxxx in spec order."""
    out = []
    pid = start
    for n, (people, center, pop) in enumerate(spec):
        for _ in range(people):
            out.append(Participant(pid, f"{900000 + n:06d}", f"町{n}", "", center, pop))
            pid += 1
    return out


def random_roster(rng, people_target, rate=0.71, sizes=(2, 4), lo=5, hi=7):
    """A roster that has a valid grouping by construction: groups of lo..hi people are drawn first
    (each from towns of 2-4 people), then the towns are listed."""
    spec = []
    total = 0
    while total < people_target:
        group_size = rng.randint(lo, hi)
        left = group_size
        while left:
            choices = [s for s in range(sizes[0], sizes[1] + 1) if s == left or left - s >= sizes[0]]
            s = rng.choice(choices) if choices else left
            spec.append((s, rng.random() < rate, rng.randint(800, 60000)))
            left -= s
        total += group_size
    order = list(range(len(spec)))
    rng.shuffle(order)
    return town_roster([spec[i] for i in order])


def hard_rules(result, participants, params):
    return [v for v in violations(result.groups, participants, params) if v.rule not in ("no_mix", "spread")]


def unit_of(p, kind):
    return (p.code, p.department if kind == "prefecture" else "")


# ---------------------------------------------------------------------------------------------
# Brute force over all partitions (small rosters)


def all_partitions(units, lo, hi, k=None):
    """Every partition of the units (lists of participants) into groups of lo..hi people (into
    exactly ``k`` groups when given)."""
    n = len(units)
    groups, sizes = [], []

    def rec(i):
        if i == n:
            if all(s >= lo for s in sizes) and (k is None or len(groups) == k):
                yield [list(g) for g in groups]
            return
        s = len(units[i])
        for g in range(len(groups)):
            if sizes[g] + s <= hi:
                groups[g].append(i)
                sizes[g] += s
                yield from rec(i + 1)
                sizes[g] -= s
                groups[g].pop()
        if k is None or len(groups) < k:
            groups.append([i])
            sizes.append(s)
            yield from rec(i + 1)
            sizes.pop()
            groups.pop()

    yield from rec(0)


def brute(participants, params, k=None):
    by_unit = {}
    for p in participants:
        by_unit.setdefault(unit_of(p, params.kind), []).append(p)
    units = list(by_unit.values())
    best = {}  # k -> (max mixed, min objective at that mix)
    for part in all_partitions(units, params.min_size, params.max_size, k):
        k = len(part)
        mixed = sum(1 for g in part if {units[i][0].has_center for i in g} >= {True, False})
        ids = [[p.id for i in g for p in units[i]] for g in part]
        obj = objective(ids, participants)
        cur = best.get(k)
        if cur is None or (mixed, -obj) > (cur[0], -cur[1]):
            best[k] = (mixed, obj)
    return best


# ---------------------------------------------------------------------------------------------
# Rules


def test_local_governments_stay_whole_and_sizes_are_within_bounds():
    rng = random.Random(5)
    participants = random_roster(rng, 120)
    result = propose_groups(participants, TOWN)
    assert sorted(i for g in result.groups for i in g) == sorted(p.id for p in participants)
    by_id = {p.id: p for p in participants}
    seen = {}
    for number, g in enumerate(result.groups):
        assert 5 <= len(g) <= 7
        for pid in g:
            assert seen.setdefault(by_id[pid].code, number) == number
    assert hard_rules(result, participants, TOWN) == []


def test_similar_populations_are_grouped_together():
    # ten towns of about 1,000 people and ten of about 50,000, mixed center status in each band
    spec = [(3, i % 2 == 0, 1000 + 10 * i) for i in range(10)] + [(3, i % 2 == 0, 50000 + 100 * i) for i in range(10)]
    participants = town_roster(spec)
    result = propose_groups(participants, TOWN)
    pop = {p.id: p.population for p in participants}
    for g in result.groups:
        pops = {pop[i] for i in g}
        assert max(pops) < 2 * min(pops), pops
    assert result.mixed_groups == len(result.groups)
    assert result.objective == pytest.approx(objective(result.groups, participants))


def test_group_count_follows_the_target_size():
    participants = town_roster([(1, i % 3 != 0, 1000 * (i + 1)) for i in range(70)])
    assert len(propose_groups(participants, TOWN).groups) == 12  # 70 / 6 = 11.7
    seven = GroupingParams(kind="town", target_size=7)
    assert len(propose_groups(participants, seven).groups) == 10


def test_every_town_group_mixes_when_the_roster_allows_it():
    rng = random.Random(11)
    participants = random_roster(rng, 90, rate=0.5)
    result = propose_groups(participants, TOWN)
    # Issue 16 named a defect here: the upper bound was the bound for the chosen group count only.
    # It is now the bound over every admissible count (with 18 groups of about 5 people, up to 18
    # could mix), while the engine keeps 15 groups, all mixed, because 15 is nearer 6 people a group.
    assert all(r.mixed for r in result.reports)
    assert result.mixed_groups == len(result.groups) == 15
    assert result.mixed_upper_bound == 18 and not result.mixed_maximum_proven


def test_when_mixing_is_impossible_for_some_groups_the_report_says_why():
    # 71% with a center: fewer towns without one than groups
    spec = [(3, i % 7 not in (0, 3), 1000 + 500 * i) for i in range(28)]  # 84 people, 8 without a center
    participants = town_roster(spec)
    result = propose_groups(participants, TOWN)
    assert len(result.groups) == 14
    assert result.mixed_groups == 8 == result.mixed_upper_bound
    assert result.mixed_maximum_proven
    unmixed = [r for r in result.reports if not r.mixed]
    assert len(unmixed) == 6
    for r in unmixed:
        assert any(v.rule == "no_mix" for v in r.violations)
        assert any("最大8グループ" in note for note in r.notes)
    assert "14グループのうち8グループ" in result.notes[0] and "最大8グループ" in result.notes[0]


def test_no_town_with_a_center_gives_a_japanese_note():
    participants = town_roster([(3, False, 1000 * (i + 1)) for i in range(6)])
    result = propose_groups(participants, TOWN)
    assert result.mixed_groups == 0
    assert any("すべてセンター未設置" in n for n in result.notes)


def test_prefecture_groups_are_formed_per_department():
    participants = []
    pid = 0
    for pref in range(20):
        for dept in ("母子保健担当", "児童虐待防止対策担当"):
            participants.append(
                Participant(pid, f"{pref + 1:02d}0006", f"県{pref}", dept, None, 500000 + 100000 * pref)
            )
            pid += 1
    result = propose_groups(participants, PREF)
    by_id = {p.id: p for p in participants}
    for report, g in zip(result.reports, result.groups):
        assert len({by_id[i].department for i in g}) == 1
        assert report.department == by_id[g[0]].department
        assert report.mixed is None
    assert sum(len(g) for g in result.groups) == 40
    assert len(result.groups) == 6  # 20 per department -> 3 groups each
    assert hard_rules(result, participants, PREF) == []
    # within a department, populations sorted into bands
    dept_groups = [g for g in result.groups if by_id[g[0]].department == "母子保健担当"]
    ranges = sorted((min(by_id[i].population for i in g), max(by_id[i].population for i in g)) for g in dept_groups)
    assert all(a[1] < b[0] for a, b in zip(ranges, ranges[1:]))


def test_prefecture_meeting_needs_a_department():
    participants = [Participant(i, "010006", "北海道", "", None, 5000000) for i in range(6)]
    with pytest.raises(Refused) as err:
        propose_groups(participants, PREF)
    assert "部署" in str(err.value)


# ---------------------------------------------------------------------------------------------
# Determinism


def test_same_input_same_output_and_input_order_does_not_matter():
    rng = random.Random(3)
    participants = random_roster(rng, 150)
    first = propose_groups(participants, TOWN)
    again = propose_groups(list(participants), TOWN)
    shuffled = list(participants)
    random.Random(99).shuffle(shuffled)
    third = propose_groups(shuffled, TOWN)
    assert first.groups == again.groups == third.groups
    assert [r.notes for r in first.reports] == [r.notes for r in third.reports]


def test_ties_are_broken_by_code():
    # identical populations: the order of codes decides, whatever the input order
    spec = [(3, i % 2 == 0, 5000) for i in range(8)]
    participants = town_roster(spec)
    a = propose_groups(participants, TOWN).groups
    b = propose_groups(list(reversed(participants)), TOWN).groups
    assert a == b


# ---------------------------------------------------------------------------------------------
# Edge cases


def test_unknown_population_is_placed_and_explained():
    spec = [(3, i % 2 == 0, 1000 * (i + 1)) for i in range(9)]
    participants = town_roster(spec)
    participants += [Participant(100 + i, "075469", "双葉町", "", False, None) for i in range(3)]
    result = propose_groups(participants, TOWN)
    assert hard_rules(result, participants, TOWN) == []
    report = next(r for r in result.reports if "双葉町" in r.local_governments)
    assert any("双葉町は人口の数値がない" in n for n in report.notes)
    # it costs nothing: the objective ignores it
    assert result.objective == pytest.approx(objective(result.groups, participants))


def test_a_local_government_larger_than_a_group_gets_its_own_flagged_group():
    spec = [(8, True, 30000)] + [(3, i % 2 == 0, 1000 * (i + 1)) for i in range(6)]
    participants = town_roster(spec)
    result = propose_groups(participants, TOWN)
    big = next(r for r in result.reports if "町0" in r.local_governments)
    assert big.people == 8 and big.local_governments == ("町0",)
    assert [v.rule for v in big.violations if v.rule == "size_above"] == ["size_above"]
    assert any("分けられず" in n for n in big.notes)
    others = [r for r in result.reports if r is not big]
    assert all(5 <= r.people <= 7 for r in others)


def test_fewer_people_than_a_group_is_refused_with_a_reason():
    participants = town_roster([(2, True, 1000), (2, False, 2000)])
    with pytest.raises(Refused) as err:
        propose_groups(participants, TOWN)
    assert "4人" in err.value.messages[0] and "最小人数（5人）" in err.value.messages[0]


def test_sizes_that_cannot_be_partitioned_are_refused_with_a_reason():
    # three towns of 4: 12 people make two groups of 6 only if a town is split
    participants = town_roster([(4, True, 1000), (4, False, 2000), (4, True, 3000)])
    with pytest.raises(Refused) as err:
        propose_groups(participants, TOWN)
    text = str(err.value)
    assert "団体を分けずに" in text and "4人の団体が3" in text
    # two towns of 4: 8 people need two groups of at least 5
    with pytest.raises(Refused) as err:
        propose_groups(participants[:8], TOWN)
    assert "5〜7人のグループに分けられません" in str(err.value)
    # 11 people cannot be cut into groups of 6-6 at all
    participants = town_roster([(1, True, 1000 + i) for i in range(11)])
    with pytest.raises(Refused) as err:
        propose_groups(participants, GroupingParams(kind="town", min_size=6, max_size=6, target_size=6))
    assert "グループに分けられません" in str(err.value)


def test_a_department_too_small_is_named_in_the_reason():
    participants = [Participant(i, f"{i + 1:02d}0006", f"県{i}", "母子保健担当", None, 10**6 + i) for i in range(6)]
    participants += [
        Participant(100 + i, f"{i + 1:02d}0006", f"県{i}", "市町村支援児童福祉司", None, 10**6 + i) for i in range(3)
    ]
    with pytest.raises(Refused) as err:
        propose_groups(participants, PREF)
    assert "部署「市町村支援児童福祉司」の参加者は3人" in str(err.value)


@pytest.mark.parametrize(
    "params, phrase",
    [
        (GroupingParams(kind="city"), "会議の種類"),
        (GroupingParams(min_size=7, max_size=5), "最大人数"),
        (GroupingParams(min_size=5, max_size=7, target_size=9), "目安の人数"),
    ],
)
def test_bad_parameters_are_refused_in_japanese(params, phrase):
    with pytest.raises(Refused) as err:
        propose_groups(town_roster([(3, True, 1000), (3, False, 2000)]), params)
    assert phrase in str(err.value)


def test_inconsistent_roster_rows_are_refused():
    participants = town_roster([(3, True, 1000), (3, False, 2000)])
    participants[1] = Participant(1, participants[0].code, participants[0].name, "", False, 1000)
    with pytest.raises(Refused) as err:
        propose_groups(participants, TOWN)
    assert "センター設置状況が参加者によって異なります" in str(err.value)
    with pytest.raises(Refused) as err:
        propose_groups(participants + [participants[0]], TOWN)
    assert "IDが重複" in str(err.value)
    with pytest.raises(Refused):
        propose_groups([], TOWN)


# ---------------------------------------------------------------------------------------------
# Maximum mixing against brute force; validity over many random rosters


def test_maximum_mix_matches_brute_force_on_small_rosters():
    rng = random.Random(2024)
    checked = 0
    for _ in range(150):
        spec = []
        total = 0
        limit = rng.randint(5, 12)
        while True:
            s = rng.randint(1, 4)
            if total + s > limit:
                break
            spec.append((s, rng.random() < rng.choice((0.5, 0.71)), rng.randint(500, 50000)))
            total += s
        participants = town_roster(spec)
        try:
            result = propose_groups(participants, TOWN)
        except Refused:
            assert brute(participants, TOWN) == {}, spec
            continue
        k = len(result.groups)
        best = brute(participants, TOWN, k)
        assert k in best
        assert result.mixed_groups == best[k][0], (spec, result.groups)
        assert result.mixed_maximum_proven
        assert result.mixed_upper_bound == best[k][0]
        assert result.objective >= best[k][1] - 1e-9
        checked += 1
    assert checked > 60


def test_objective_is_optimal_on_small_prefecture_rosters():
    rng = random.Random(7)
    for _ in range(40):
        n = rng.choice((5, 6, 7, 8, 9, 10, 11, 12, 12, 13))
        participants = [
            Participant(i, f"{i + 1:02d}0006", f"県{i}", "母子保健担当", None, rng.randint(500000, 9000000))
            for i in range(n)
        ]
        try:
            result = propose_groups(participants, PREF)
        except Refused:
            assert brute(participants, PREF) == {}
            continue
        k = len(result.groups)
        best = brute(participants, PREF, k)
        assert result.objective == pytest.approx(best[k][1])


def test_no_rule_is_broken_on_random_rosters():
    rng = random.Random(42)
    for case in range(60):
        participants = random_roster(rng, rng.randint(20, 150), rate=rng.choice((0.3, 0.5, 0.71, 0.9)))
        result = propose_groups(participants, TOWN)
        assert hard_rules(result, participants, TOWN) == [], case
        assert result.mixed_groups <= result.mixed_upper_bound
        if result.mixed_maximum_proven:
            assert result.mixed_groups == result.mixed_upper_bound
        for report in result.reports:
            for text in report.notes + [v.message for v in report.violations]:
                assert JAPANESE.search(text)


# ---------------------------------------------------------------------------------------------
# violations() on hand-edited groupings


def test_violations_lists_every_rule_a_hand_edited_grouping_breaks():
    participants = town_roster([(3, True, 1000), (3, True, 1200), (2, False, 900), (4, False, 50000)])
    ids = {p.code: [] for p in participants}
    for p in participants:
        ids[p.code].append(p.id)
    c = sorted(ids)
    groups = [
        ids[c[0]] + ids[c[1]],  # 6 people, all with a center: no mix
        ids[c[2]][:1] + ids[c[3]],  # 5 people, 町2 split, 50000 vs 900: spread
        ids[c[2]][1:] + [999],  # 町2 split again, unknown id, too small
    ]
    found = violations(groups, participants, TOWN)
    rules = {(v.rule, v.group) for v in found}
    assert ("no_mix", 1) in rules
    assert ("split_local_government", 2) in rules and ("split_local_government", 3) in rules
    assert ("spread", 2) in rules
    assert ("size_below", 3) in rules
    assert ("membership", 3) in rules
    assert all(JAPANESE.search(v.message) for v in found)
    spread = next(v for v in found if v.rule == "spread")
    assert "55.6倍" in spread.message
    # nobody forgotten: a participant left out is reported without a group
    missing = violations(groups[:2], participants, TOWN)
    assert any(v.rule == "membership" and v.group is None for v in missing)


def test_violations_flags_mixed_departments_and_oversize():
    participants = [
        Participant(i, f"{i + 1:02d}0006", f"県{i}", "母子保健担当" if i < 4 else "児童福祉司", None, 10**6)
        for i in range(9)
    ]
    found = violations([[p.id for p in participants]], participants, PREF)
    rules = {v.rule for v in found}
    assert rules == {"mixed_departments", "size_above"}


def test_violations_threshold_is_a_parameter():
    participants = town_roster([(3, True, 1000), (3, False, 2500)])
    groups = [[p.id for p in participants]]
    assert not [v for v in violations(groups, participants, TOWN) if v.rule == "spread"]
    strict = GroupingParams(kind="town", max_population_ratio=2.0)
    assert [v.rule for v in violations(groups, participants, strict) if v.rule == "spread"] == ["spread"]
    off = GroupingParams(kind="town", max_population_ratio=None)
    assert not [v for v in violations(groups, participants, off) if v.rule == "spread"]
    assert math.isclose(objective(groups, participants), math.log(2.5))
