"""Grouping engine for the exchange meetings (REQUIREMENTS M1, M2). Pure Python, standard library only.

Input: participants (:class:`Participant`) and :class:`GroupingParams`. Output: :class:`GroupingResult`
with the groups (participant ids) and a report in Japanese. :func:`violations` checks any grouping,
for example one edited by hand in the admin.

Units
    A *unit* is everybody one local government sends (town meetings), or everybody one prefecture
    sends for one department (prefecture meetings). Units are never split.

Rules, in order of priority
    1. Hard: a unit stays whole; departments are never mixed (each department is grouped on its
       own); every group has between ``min_size`` and ``max_size`` people. The only exception is a
       unit that alone brings more than ``max_size`` people: it becomes a group of its own, flagged
       as oversize (it cannot be split, and adding anybody would make it worse).
    2. Town meetings: every group is *mixed* (at least one town with a center and one without)
       whenever some admissible group count allows it; otherwise as few groups as possible are
       unmixed (``count``). This comes before the group size and population similarity.
    3. Among those counts (prefecture meetings: all counts), the number of groups is the one
       closest to ``people / target_size`` (ties: fewer groups). This is what keeps groups "about
       6"; without it every spread measure would favour as many small groups as the bounds allow.
    4. The objective below is minimised.

Objective (one number, the benchmark compares it)
    ``sum over groups g of (max ln population - min ln population)`` over the units of ``g`` whose
    population is known, i.e. the sum of ``ln(largest / smallest population)`` of each group.
    Why this one: it is what an operator reads ("the largest town of the group is 1.4 times the
    smallest"); it does not depend on how many people a town sends (the population of a town is
    the same for each of its participants); the admin threshold ``max_population_ratio`` is the
    same quantity per group; and it is linear, so an exact MILP (the benchmark's solver) can be
    written without quadratic terms. A squared deviation from the group mean would also reward
    similarity but weights towns by head count and needs a quadratic model.

Population unknown (e.g. 双葉町)
    The unit is placed at the median of the known log populations for ordering, and left out of
    the spread: it costs nothing wherever it goes, so it goes where the sizes and the mixing rule
    need it. The report says so.

Algorithm
    Units are sorted by log population (ties by code, then department). A dynamic programme over
    that order builds groups from the first unassigned unit plus units of a sliding window of the
    next ``window.WINDOW`` units (at most ``window.HOLES`` skipped), with the number of groups as
    part of the state; it is exact for that family of partitions under the lexicographic cost (unmixed groups,
    spread). A local search then relocates and swaps units between groups (neighbours in
    population order; any pair while a group is unmixed and the mixing bound is not reached),
    accepting only moves that keep every size valid and lower (unmixed, spread) lexicographically,
    so it never loses a mixed group. If the window finds nothing, an exact size-only search
    decides whether any valid grouping exists, and says why not in Japanese.

Maximum number of mixed groups
    For ``k`` groups an upper bound is ``min(k, towns with a center, towns without, disjoint (with,
    without) pairs that fit in max_size, units - k)``; on small rosters (at most
    ``mixing.EXACT_UNITS`` units) an exhaustive search gives the exact maximum. The result's
    ``mixed_upper_bound`` is the largest over every admissible ``k``, so "the maximum possible for
    this roster" holds whatever the group count; the notes say whether it is reached, that no count
    has fewer unmixed groups, and what limits mixing, with the numbers.

Determinism
    No randomness; every order used is a sort on population, code, department and participant id,
    so the output does not depend on the input order.

Modules
    ``model`` (the types imported below), ``units`` (units, their order, the cost of a group), ``window``
    (the first grouping of a section), ``count`` (the group count of a town meeting), ``fill`` (units
    placed in a size-only partition to mix), ``search`` (the local search), ``mixing`` (the mixing bound,
    its proof, the explanations), ``rules`` (:func:`violations`, :func:`objective`) and ``propose``
    (:func:`propose_groups`, section by section). Import from this package, not from them.
"""

from .model import (
    KIND_PREFECTURE,
    KIND_TOWN,
    KINDS,
    GroupingParams,
    GroupingResult,
    GroupReport,
    Participant,
    Violation,
)
from .propose import propose_groups
from .rules import objective, violations

__all__ = [
    "KINDS",
    "KIND_PREFECTURE",
    "KIND_TOWN",
    "GroupReport",
    "GroupingParams",
    "GroupingResult",
    "Participant",
    "Violation",
    "objective",
    "propose_groups",
    "violations",
]
