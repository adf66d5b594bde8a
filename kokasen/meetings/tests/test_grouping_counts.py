"""The group count of a town meeting is chosen by mixing first (issue 16, item 2): every group mixes
whenever some admissible count allows it, sizes near the target only after that, and the notes'
"maximum" holds over every admissible count. Rosters are built from the shipped municipalities."""

import csv
import random

from kokasen.localgov.data import DATA_FILE
from kokasen.meetings.grouping import GroupingParams, Participant, propose_groups, violations

TOWN = GroupingParams(kind="town")


def real_towns(count, seed):
    with DATA_FILE.open(encoding="utf-8") as f:
        towns = [row for row in csv.DictReader(f) if row["kind"] == "town" and row["population"]]
    return random.Random(seed).sample(towns, count)


def people_per_town(count, total, seed):
    """Between 1 and 5 people per town (mostly 2-4), adding up to ``total``, from a seed."""
    rng = random.Random(seed)
    sizes = [rng.choice((2, 3, 3, 4)) for _ in range(count)]
    while sum(sizes) != total:
        i = rng.randrange(count)
        step = 1 if sum(sizes) < total else -1
        if 1 <= sizes[i] + step <= 5:
            sizes[i] += step
    return sizes


def roster(towns, sizes, with_center):
    out = []
    for n, (row, size) in enumerate(zip(towns, sizes)):
        for _ in range(size):
            out.append(Participant(len(out) + 1, row["code"], row["name"], "", n < with_center, int(row["population"])))
    return out


def issue_roster():
    """The roster of issue 16: 120 towns, 371 people, 66 towns with a center and 54 without."""
    return roster(real_towns(120, seed=16), people_per_town(120, 371, seed=16), with_center=66)


def test_the_issue_roster_has_the_stated_shape():
    participants = issue_roster()
    assert len(participants) == 371
    centers = {p.code: p.has_center for p in participants}
    assert len(centers) == 120
    assert sum(centers.values()) == 66


def test_every_group_of_the_120_town_roster_mixes():
    participants = issue_roster()
    result = propose_groups(participants, TOWN)
    assert [r for r in result.reports if not r.mixed] == []
    assert result.mixed_groups == len(result.groups) == result.mixed_upper_bound
    assert result.mixed_maximum_proven
    assert 53 <= len(result.groups) <= 54  # 54 towns without a center: at most 54 groups can mix
    assert [v for v in violations(result.groups, participants, TOWN) if v.rule != "spread"] == []
    assert result.notes[0].startswith(f"{len(result.groups)}グループのうち{len(result.groups)}グループで")


def test_sizes_near_six_come_after_mixing_but_still_count():
    # 20 towns of 3 people, 10 with a center and 10 without: 10 groups of 6 (two towns) all mix
    participants = roster(real_towns(20, seed=3), [3] * 20, with_center=10)
    result = propose_groups(participants, TOWN)
    assert len(result.groups) == 10
    assert result.mixed_groups == 10


def test_when_mixing_is_impossible_for_some_groups_the_notes_say_why_with_numbers():
    # 40 towns of 3 people: every group is two towns (6 people), so 20 groups; only 7 towns lack a center
    participants = roster(real_towns(40, seed=5), [3] * 40, with_center=33)
    result = propose_groups(participants, TOWN)
    assert len(result.groups) == 20
    assert result.mixed_groups == 7 == result.mixed_upper_bound
    assert result.mixed_maximum_proven
    note = result.notes[0]
    assert "20グループのうち7グループ" in note
    assert "グループ数は20にしかできず" in note
    assert "この名簿で混在させられるのは最大7グループで、その最大に達しています。" in note
    assert "混在しないグループを13グループより少なくする分け方もありません" in note
    assert "参加者120人" in note and "少なくとも20グループ" in note and "センター未設置の町村は7団体しかない" in note


def test_fewer_groups_are_chosen_when_that_is_what_lets_every_group_mix():
    # 10 towns without a center, 30 with, 2 people each (80 people): 13 groups of about 6 cannot all
    # mix, 10 or 11 groups of 7-8 are above the bounds, so with max_size 8 the engine takes 10 groups
    participants = roster(real_towns(40, seed=7), [2] * 40, with_center=30)
    params = GroupingParams(kind="town", min_size=5, max_size=8)
    result = propose_groups(participants, params)
    assert len(result.groups) == 10
    assert result.mixed_groups == 10
    assert result.mixed_maximum_proven
