"""Units for a size-only partition (bins of unit sizes) that mixes as many groups as it can: each
bin first takes a town without a center and one with a center of sizes it holds, then the rest;
within a pool the smallest population first, so that the groups formed first hold the smallest
towns (the local search then lowers the spread)."""

from __future__ import annotations

from collections import Counter, defaultdict

from .units import W_CENTER, WITHOUT_CENTER, Section


def mixed_groups_from_bins(sec: Section, bins: list[list[int]]) -> list[list[int]]:
    pools: dict[tuple[int, int], list[int]] = defaultdict(list)
    for i, u in enumerate(sec.units):  # population order
        pools[(u.size, u.center)].append(i)
    for pool in pools.values():
        pool.reverse()  # pop() gives the smallest population
    left = Counter({key: len(pool) for key, pool in pools.items()})
    plans = [_classes_for(sorted(b, reverse=True), left) for b in bins]
    # ``left`` now counts the units no slot reserved: the only ones a slot of any class may take
    return [[_take(pools, left, size, cls) for size, cls in plan] for plan in plans]


def _classes_for(sizes: list[int], left: Counter) -> list[tuple[int, int | None]]:
    """The bin's slots as (size, class): one without a center and one with, from the most
    plentiful pools, the others of any class (None)."""
    slots: list[tuple[int, int | None]] = [(s, None) for s in sizes]
    for cls in (WITHOUT_CENTER, W_CENTER):
        free = [t for t, (_, c) in enumerate(slots) if c is None]
        best = max(free, key=lambda t: left[(slots[t][0], cls)], default=None)
        if best is not None and left[(slots[best][0], cls)] > 0:
            left[(slots[best][0], cls)] -= 1
            slots[best] = (slots[best][0], cls)
    return slots


def _take(pools: dict[tuple[int, int], list[int]], spare: Counter, size: int, cls: int | None) -> int:
    """A unit of ``size`` (and ``cls`` when given, else one no slot reserved): the smallest
    population left."""
    if cls is not None:
        return pools[(size, cls)].pop()
    candidates = [key for key, pool in pools.items() if key[0] == size and spare[key] > 0]
    key = min(candidates, key=lambda key: pools[key][-1])
    spare[key] -= 1
    return pools[key].pop()
