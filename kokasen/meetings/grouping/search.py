"""Local search on a section's grouping: moves that mix one more group, relocations and swaps
between neighbours in population order, and an exact re-partition of three consecutive groups.
Every accepted move keeps every size valid and lowers the lexicographic cost (unmixed groups,
spread), so no mixed group is ever lost."""

from __future__ import annotations

from collections.abc import Sequence

from .units import EPS, W_CENTER, WITHOUT_CENTER, Section, is_mixed

LS_MAX_PASSES = 60
NEIGHBOURS = 3  # groups ahead in population order that a group trades with
REPARTITION_UNITS = 10  # three groups are re-partitioned exactly up to this many units
MIX_CANDIDATES = 12  # nearest groups tried first for a mixing move


def local_search(sec: Section, groups: list[list[int]], mix_bound: int) -> list[list[int]]:
    """Relocate and swap units between groups; each accepted move keeps every size valid and lowers
    the lexicographic cost (unmixed groups, spread), so no mixed group is ever lost."""
    return _LocalSearch(sec, groups).run(mix_bound)


class _LocalSearch:
    def __init__(self, sec: Section, groups: list[list[int]]):
        units = sec.units
        self.sec = sec
        self.gs = [list(g) for g in groups]
        self.size = [sum(units[i].size for i in g) for g in self.gs]
        self.cost = [sec.cost(g) for g in self.gs]
        self.mixed = [is_mixed(units[i] for i in g) for g in self.gs]

    def run(self, mix_bound: int) -> list[list[int]]:
        for _ in range(LS_MAX_PASSES):
            improved = self._mix_more(mix_bound)
            improved = self._trade_with_neighbours() or improved
            if not improved:
                improved = self._repartition_trios()
            if not improved:
                break
        return self.gs

    def _centre(self, a: int) -> tuple[float, int]:
        xs = [self.sec.units[i].sort_x for i in self.gs[a]]
        return (sum(xs) / len(xs), min(self.gs[a]))

    def _remix(self, *groups: int) -> None:
        for g in groups:
            self.mixed[g] = is_mixed(self.sec.units[i] for i in self.gs[g])

    def _mix_more(self, mix_bound: int) -> bool:
        """While below the mixing bound: the best move anywhere that mixes one more group, one at a time."""
        improved = False
        while self.sec.mixing and sum(self.mixed) < mix_bound:
            best = self._best_mixing_move()
            if best is None or best[0] > -self.sec.big / 2:
                break
            self._apply(best)
            self._remix(*best[1:3])
            improved = True
        return improved

    def _best_mixing_move(self):
        units, gs = self.sec.units, self.gs
        best = None
        centres = [self._centre(g) for g in range(len(gs))]
        for near in (MIX_CANDIDATES, len(gs)):
            for a in sorted((g for g in range(len(gs)) if not self.mixed[g]), key=lambda g: centres[g]):
                classes = {units[i].center for i in gs[a]}
                lacking = WITHOUT_CENTER if W_CENTER in classes else W_CENTER
                others = [b for b in range(len(gs)) if b != a and any(units[i].center == lacking for i in gs[b])]
                others.sort(key=lambda b: (abs(centres[b][0] - centres[a][0]), b))
                for b in others[:near]:
                    move = self._best_move(a, b)
                    if move is not None and (best is None or move[0] < best[0] - EPS):
                        best = move
            if best is not None and best[0] <= -self.sec.big / 2:
                break
        return best

    def _trade_with_neighbours(self) -> bool:
        """Spread: every improving move between groups close in population order."""
        improved = False
        order = sorted(range(len(self.gs)), key=self._centre)
        for a in range(len(order)):
            for d in range(1, NEIGHBOURS + 1):
                if a + d < len(order):
                    x, y = order[a], order[a + d]
                    while (move := self._best_move(x, y)) is not None:
                        self._apply(move)
                        self._remix(x, y)
                        improved = True
        return improved

    def _repartition_trios(self) -> bool:
        """Exact re-partition of consecutive triples (3-cycles, 2-for-1 exchanges and more)."""
        improved = False
        order = sorted(range(len(self.gs)), key=self._centre)
        for a in range(len(order) - 2):
            trio = order[a : a + 3]
            if sum(len(self.gs[g]) for g in trio) <= REPARTITION_UNITS and self._repartition(trio):
                self._remix(*trio)
                improved = True
        return improved

    def _repartition(self, chosen: Sequence[int]) -> bool:
        """Re-partition the units of the groups ``chosen`` exactly (same number of groups, sizes valid,
        no fewer mixed groups, least spread). Returns True when it found a strictly better one."""
        sec, gs = self.sec, self.gs
        pool = sorted(i for g in chosen for i in gs[g])
        old_unmixed = sum(1 for g in chosen if self.cost[g] >= sec.big)
        old_spread = sum(self.cost[g] for g in chosen) - old_unmixed * sec.big
        assignment = _exact_partition(sec, pool, len(chosen), old_unmixed, old_spread)
        if assignment is None:
            return False
        parts = [[] for _ in chosen]
        for t, g in enumerate(assignment):
            parts[g].append(pool[t])
        for g, members in zip(chosen, parts):
            gs[g] = members
            self.size[g] = sum(sec.units[i].size for i in members)
            self.cost[g] = sec.cost(members)
        return True

    def _apply(self, move) -> None:
        _, x, y, nx, ny, cx, cy, dx, dy = move
        self.gs[x], self.gs[y] = sorted(nx), sorted(ny)
        self.cost[x], self.cost[y] = cx, cy
        self.size[x] += dx
        self.size[y] += dy

    def _best_move(self, a: int, b: int):
        """The best improving relocation or swap between groups a and b, or None, as
        (delta, x, y, new x, new y, cost x, cost y, size change x, size change y)."""
        sec, gs, size, cost = self.sec, self.gs, self.size, self.cost
        units, lo, hi = sec.units, sec.lo, sec.hi
        base = cost[a] + cost[b]
        best = None
        ga, gb = gs[a], gs[b]
        for src, dst in ((a, b), (b, a)):
            gsrc, gdst = gs[src], gs[dst]
            if len(gsrc) < 2:
                continue
            for u in gsrc:
                s = units[u].size
                if size[src] - s < lo or size[dst] + s > hi:
                    continue
                ns = [v for v in gsrc if v != u]
                nd = gdst + [u]
                cs, cd = sec.cost(ns), sec.cost(nd)
                delta = cs + cd - base
                if delta < -EPS and (best is None or delta < best[0] - EPS):
                    best = (delta, src, dst, ns, nd, cs, cd, -s, s)
        for u in ga:
            su = units[u].size
            for v in gb:
                sv = units[v].size
                if not (lo <= size[a] - su + sv <= hi and lo <= size[b] - sv + su <= hi):
                    continue
                na = [w for w in ga if w != u] + [v]
                nb = [w for w in gb if w != v] + [u]
                ca, cb = sec.cost(na), sec.cost(nb)
                delta = ca + cb - base
                if delta < -EPS and (best is None or delta < best[0] - EPS):
                    best = (delta, a, b, na, nb, ca, cb, sv - su, su - sv)
        return best


def _exact_partition(sec: Section, pool: list[int], m: int, old_unmixed: int, old_spread: float) -> list[int] | None:
    """The group (0..m-1) of each unit of ``pool`` in the partition into ``m`` valid groups with no
    more unmixed groups than ``old_unmixed`` and the least spread below ``old_spread``; None when
    there is none."""
    return _ExactPartition(sec, pool, m, old_unmixed).best_below(old_spread)


class _ExactPartition:
    """Branch and bound over the units of a pool in their order: each unit joins one of the groups
    opened so far or opens the next one. A branch stops when its spread reaches the best found or
    the units left cannot bring every group up to the minimum size."""

    def __init__(self, sec: Section, pool: list[int], m: int, old_unmixed: int):
        units = sec.units
        self.lo, self.hi, self.mixing = sec.lo, sec.hi, sec.mixing
        self.m = m
        self.old_unmixed = old_unmixed
        self.xs = [units[i].logpop for i in pool]
        self.sz = [units[i].size for i in pool]
        self.cl = [units[i].center for i in pool]
        self.n = len(pool)
        self.suffix = _people_from(self.sz)
        self.assign = [0] * self.n
        self.g_size = [0] * m
        self.g_lo: list[float | None] = [None] * m
        self.g_hi: list[float | None] = [None] * m
        self.g_w = [0] * m
        self.g_n = [0] * m
        self.used = 0
        self.best_spread = 0.0
        self.best: list[int] | None = None

    def best_below(self, old_spread: float) -> list[int] | None:
        self.best_spread, self.best = old_spread - 1e-9, None
        self._place_from(0, 0.0)
        return self.best

    def _place_from(self, t: int, spread: float) -> None:
        """Every way to place units ``t``.. with the groups as they are, keeping the best complete one."""
        if spread >= self.best_spread:
            return
        if t == self.n:
            self._keep_if_better(spread)
            return
        if self._short_of_people(t):
            return
        g_size, s, hi = self.g_size, self.sz[t], self.hi
        for g in range(min(self.used + 1, self.m)):
            if g_size[g] + s <= hi:
                self._place(t, g, spread)

    def _place(self, t: int, g: int, spread: float) -> None:
        """Unit ``t`` in group ``g`` (opening it when it is the next one), the rest placed, then undone."""
        new_group = g == self.used
        if new_group:
            self.used += 1
        saved = (self.g_lo[g], self.g_hi[g])
        add = self._widen(g, self.xs[t])
        self._count(t, g, 1)
        self.assign[t] = g
        self._place_from(t + 1, spread + add)
        self._count(t, g, -1)
        self.g_lo[g], self.g_hi[g] = saved
        if new_group:
            self.used -= 1

    def _widen(self, g: int, x: float | None) -> float:
        """Stretch group ``g``'s population range to ``x``; returns how much its spread grew."""
        add = 0.0
        if x is None:
            return add
        g_lo, g_hi = self.g_lo, self.g_hi
        if g_lo[g] is None:
            g_lo[g] = g_hi[g] = x
            return add
        if x > g_hi[g]:
            add += x - g_hi[g]
            g_hi[g] = x
        if x < g_lo[g]:
            add += g_lo[g] - x
            g_lo[g] = x
        return add

    def _count(self, t: int, g: int, sign: int) -> None:
        """Add (``sign`` 1) or take away (-1) unit ``t``'s people and center class in group ``g``."""
        self.g_size[g] += sign * self.sz[t]
        if self.cl[t] == W_CENTER:
            self.g_w[g] += sign
        elif self.cl[t] == WITHOUT_CENTER:
            self.g_n[g] += sign

    def _short_of_people(self, t: int) -> bool:
        """True when units ``t``.. cannot bring every group, open or not, up to the minimum size."""
        lo = self.lo
        need = sum(max(0, lo - self.g_size[g]) for g in range(self.used)) + lo * (self.m - self.used)
        return need > self.suffix[t]

    def _keep_if_better(self, spread: float) -> None:
        """Keep the complete assignment (its spread is below the best) if every group is open, big
        enough, and no more are unmixed than before."""
        m = self.m
        if self.used != m or any(self.g_size[g] < self.lo for g in range(m)):
            return
        unmixed = sum(1 for g in range(m) if not (self.g_w[g] and self.g_n[g])) if self.mixing else 0
        if unmixed <= self.old_unmixed:
            self.best_spread, self.best = spread, self.assign[:]


def _people_from(sizes: list[int]) -> list[int]:
    """``out[t]``: the people of ``sizes[t:]`` (``out[len(sizes)]`` is 0)."""
    suffix = [0] * (len(sizes) + 1)
    for t in range(len(sizes) - 1, -1, -1):
        suffix[t] = suffix[t + 1] + sizes[t]
    return suffix
