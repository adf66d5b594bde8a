"""The first grouping of a section: a dynamic programme over the units in population order
(:func:`window_dp`); when it finds nothing, an exact size-only search decides whether any valid
grouping exists (:func:`size_partition`)."""

from __future__ import annotations

from collections import Counter, defaultdict

from .units import EPS, W_CENTER, WITHOUT_CENTER, Section

WINDOW = 7  # units after the first unassigned one that a group may take
HOLES = 5  # unassigned units a group may skip inside the window
SIZE_SEARCH_NODES = 200_000


def window_dp(sec: Section, k_allowed: tuple[int, int], prefer: int, band: int | None = None) -> list[list[int]] | None:
    """Best grouping in the window family with a group count in ``k_allowed``, the count closest
    to ``prefer`` first (ties: fewer groups), or None.

    States are (i, mask, j): the units before ``i`` are assigned, ``mask`` marks the assigned ones
    among the next :data:`WINDOW`, ``j`` groups are formed. Each step forms one group from unit
    ``i`` plus units of the window (:func:`_group_finder`); the cost is lexicographic (unmixed
    groups, spread) through ``sec.big``. With ``band``, the groups formed after ``A`` of the ``P``
    people are assigned stay within ``band`` of ``A * prefer / P`` (group sizes stay near their
    average all along the population order); this keeps the programme small.
    """
    units, lo, hi = sec.units, sec.lo, sec.hi
    n = len(units)
    if n == 0:
        return []
    sizes = [u.size for u in units]
    groups_from = _group_finder(sec, sizes, [u.logpop for u in units], [u.center for u in units])
    total = sec.people
    prefix = [0] * (n + 1)
    for i, s in enumerate(sizes):
        prefix[i + 1] = prefix[i] + s
    k_lo, k_hi = k_allowed
    # dp[i][mask][j] = (cost, prev_i, prev_mask, chosen positions, prev_j)
    dp: list[dict[int, dict[int, tuple]]] = [dict() for _ in range(n + 1)]
    dp[0][0] = {0: (0.0, -1, 0, ())}
    for i in range(n):
        layer = dp[i]
        for mask in sorted(layer):
            jmap = layer[mask]
            avail = [p for p in range(1, WINDOW + 1) if i + p < n and not (mask >> (p - 1)) & 1]
            base_assigned = prefix[i] + sum(sizes[i + p] for p in range(1, WINDOW + 1) if (mask >> (p - 1)) & 1)
            for chosen, people, c in groups_from(i, avail):
                ni, nmask = _next_state(i, mask, chosen)
                assigned = base_assigned + people
                rest = total - assigned
                rmin, rmax = -(-rest // hi), rest // lo
                if rest and rmin > rmax:
                    continue
                target = dp[ni].setdefault(nmask, {})
                ideal = assigned * prefer / total
                for j, entry in jmap.items():
                    nj = j + 1
                    if nj + rmin > k_hi or nj + rmax < k_lo:
                        continue
                    if band is not None and abs(nj - ideal) > band:
                        continue
                    nc = entry[0] + c
                    old = target.get(nj)
                    if old is None or nc < old[0] - EPS:
                        target[nj] = (nc, i, mask, chosen, j)
    return _best_path(dp, k_allowed, prefer)


def _next_state(i: int, mask: int, chosen: tuple[int, ...]) -> tuple[int, int]:
    """The state after a group of unit ``i`` and the window positions ``chosen`` is formed in state
    (``i``, ``mask``): the first unit left unassigned, and which units of its window are assigned."""
    full = mask
    for p in chosen:
        full |= 1 << (p - 1)
    t = 0
    while (full >> t) & 1:
        t += 1
    return i + 1 + t, full >> (t + 1)


def _group_finder(sec: Section, sizes: list[int], xs: list[float | None], cls: list[int]):
    """``groups_from(i, avail)``: (chosen window positions, people, cost) of every group of unit
    ``i`` plus available window positions ``avail``, skipping at most :data:`HOLES` of them, within
    the size bounds. (One closure per programme, not per state: fewer objects for the collector.)"""
    lo, hi = sec.lo, sec.hi
    mixing, big = sec.mixing, sec.big

    def extend(found, i, avail, start, chosen, people, holes, lo_x, hi_x, w, nn):
        if people >= lo:
            c = (hi_x - lo_x) if lo_x is not None else 0.0
            if mixing and not (w and nn):
                c += big
            found.append((tuple(chosen), people, c))
        for a in range(start, len(avail)):
            h = holes + (a - start)
            if h > HOLES:
                break
            p = avail[a]
            q = i + p
            s = sizes[q]
            if people + s <= hi:
                chosen.append(p)
                x = xs[q]
                if x is None:
                    nlo, nhi = lo_x, hi_x
                elif lo_x is None:
                    nlo = nhi = x
                else:
                    nlo, nhi = min(lo_x, x), max(hi_x, x)
                cq = cls[q]
                extend(
                    found,
                    i,
                    avail,
                    a + 1,
                    chosen,
                    people + s,
                    h,
                    nlo,
                    nhi,
                    w or cq == W_CENTER,
                    nn or cq == WITHOUT_CENTER,
                )
                chosen.pop()

    def groups_from(i: int, avail: list[int]) -> list[tuple]:
        found: list[tuple] = []
        if sizes[i] <= hi:
            extend(found, i, avail, 0, [], sizes[i], 0, xs[i], xs[i], cls[i] == W_CENTER, cls[i] == WITHOUT_CENTER)
        return found

    return groups_from


def _best_path(
    dp: list[dict[int, dict[int, tuple]]], k_allowed: tuple[int, int], prefer: int
) -> list[list[int]] | None:
    """The groups of the best complete state (group count closest to ``prefer``), traced back."""
    n = len(dp) - 1
    k_lo, k_hi = k_allowed
    final = dp[n].get(0, {})
    ks = [k for k in final if k_lo <= k <= k_hi]
    if not ks:
        return None
    k = min(ks, key=lambda k: (abs(k - prefer), k))
    groups = []
    i, mask, j = n, 0, k
    while i > 0:
        c, pi, pmask, chosen, pj = dp[i][mask][j]
        groups.append([pi] + [pi + p for p in chosen])
        i, mask, j = pi, pmask, pj
    groups.reverse()
    return groups


def size_partition(sizes: list[int], lo: int, hi: int, bins: int | None = None) -> list[list[int]] | None | str:
    """Partition of the multiset ``sizes`` into bins with sums in [lo, hi] (exactly ``bins`` of
    them when given).

    Returns a list of bins (lists of sizes), None when none exists, or "unknown" when the search
    was cut off.
    """
    counts = Counter(sizes)
    values = sorted(counts, reverse=True)
    try:
        return _SizeSearch(values, lo, hi, bins).solve(tuple(counts[v] for v in values))
    except _SearchCut:
        return "unknown"


class _SearchCut(Exception):
    """The size-only search visited more than :data:`SIZE_SEARCH_NODES` states."""


class _SizeSearch:
    """Depth-first search over the counts left of each size (``values``, largest first): a bin
    takes one of the largest size left, then sizes no larger; once it reaches ``lo`` it is tried
    closed before it grows. States known to fail are remembered."""

    def __init__(self, values: list[int], lo: int, hi: int, bins: int | None = None):
        self.values, self.lo, self.hi = values, lo, hi
        self.bins = bins
        self.failed: set[tuple[int, ...]] = set()
        self.nodes = 0

    def solve(self, state: tuple[int, ...], done: int = 0) -> list[list[int]] | None:
        """The bins of the sizes counted in ``state`` (``done`` bins already closed), or None;
        raises :class:`_SearchCut`."""
        if not any(state):
            return [] if self.bins is None or done == self.bins else None
        if self.bins is not None:
            left = self.bins - done
            people = sum(c * v for c, v in zip(state, self.values))
            if not self.lo * left <= people <= self.hi * left:
                return None
            state_key = state + (done,)
        else:
            state_key = state
        if state_key in self.failed:
            return None
        self.nodes += 1
        if self.nodes > SIZE_SEARCH_NODES:
            raise _SearchCut
        first = next(a for a, c in enumerate(state) if c)
        base = list(state)
        base[first] -= 1
        start = self.values[first]
        got = self._fill(first, start, [start], base, done)
        if got is None:
            self.failed.add(state_key)
        return got

    def _fill(self, a: int, people: int, taken: list[int], cur: list[int], done: int) -> list[list[int]] | None:
        """The bins when the open bin ``taken`` (``people``) may still take sizes ``values[a:]`` from
        the counts ``cur``, closing as soon as it may, or None."""
        values = self.values
        if people >= self.lo:
            rest = self.solve(tuple(cur), done + 1)
            if rest is not None:
                return [taken[:]] + rest
        for b in range(a, len(values)):
            if cur[b] and people + values[b] <= self.hi:
                cur[b] -= 1
                taken.append(values[b])
                got = self._fill(b, people + values[b], taken, cur, done)
                taken.pop()
                cur[b] += 1
                if got is not None:
                    return got
        return None


def groups_from_bins(sec: Section, bins: list[list[int]]) -> list[list[int]]:
    """The groups of units (population order within each size) that a size partition describes."""
    pools: dict[int, list[int]] = defaultdict(list)
    for i, u in enumerate(sec.units):
        pools[u.size].append(i)
    for pool in pools.values():
        pool.reverse()  # pop() gives population order
    bins = sorted(bins, key=lambda b: sorted(b, reverse=True), reverse=True)
    return [[pools[s].pop() for s in b] for b in bins]
