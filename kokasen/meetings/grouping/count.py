"""The number of groups of a town meeting (a section that can mix): every group mixed whenever some
admissible group count allows it, the count nearest ``people / target`` only after that.

For each admissible count ``k`` the most mixed groups possible is bounded by :func:`mix_bound`
(exactly :func:`exact_max_mixed` on small sections), so at least ``k - bound`` groups stay unmixed.
Counts are tried in the order (that lower bound, distance to the target, count); a count whose lower
bound cannot beat the best grouping found is not tried. The figures over every admissible count are
kept for the notes, so that "the maximum possible for this roster" is a claim about every count."""

from __future__ import annotations

from dataclasses import dataclass

from .mixing import EXACT_UNITS, exact_max_mixed, max_pairs, mix_bound
from .units import W_CENTER, WITHOUT_CENTER, Section

MAX_TRIES = 4  # group counts the window programme is run for


@dataclass
class CountBounds:
    """``bound[k]``: most mixed groups possible with ``k`` groups (an upper bound, exact when ``exact``)."""

    bound: dict[int, int]
    exact: bool

    @property
    def k_lo(self) -> int:
        return min(self.bound)

    @property
    def k_hi(self) -> int:
        return max(self.bound)

    @property
    def fewest_unmixed(self) -> int:
        return min(k - b for k, b in self.bound.items())

    @property
    def most_mixed(self) -> int:
        return max(self.bound.values())

    def order(self, ideal: float) -> list[int]:
        return sorted(self.bound, key=lambda k: self.key(k, k - self.bound[k], ideal))

    @staticmethod
    def key(k: int, unmixed: int, ideal: float) -> tuple:
        return (unmixed, abs(k - ideal), k)


def admissible_counts(sec: Section) -> tuple[int, int]:
    """``k_range`` tightened by what the unit sizes can fill: a group holds a sum of unit sizes,
    at most the largest such sum within ``hi`` and at least the smallest one from ``lo``."""
    kmin, kmax = sec.k_range()
    sums = _subset_sums([u.size for u in sec.units], sec.hi + max(u.size for u in sec.units))
    fits = [s for s in sums if sec.lo <= s <= sec.hi]
    if not fits:
        return kmin, kmin - 1
    return max(kmin, -(-sec.people // max(fits))), min(kmax, sec.people // min(fits))


def _subset_sums(sizes: list[int], cap: int) -> set[int]:
    reach = {0}
    for s in sizes:
        reach |= {r + s for r in reach if r + s <= cap}
    return reach - {0}


def count_bounds(sec: Section) -> CountBounds:
    """The mixing bound of every admissible group count (counts with no valid grouping left out
    where the exact search shows it)."""
    k_lo, k_hi = admissible_counts(sec)
    exact = len(sec.units) <= EXACT_UNITS
    bound = {}
    for k in range(k_lo, k_hi + 1):
        b = exact_max_mixed(sec, k) if exact else mix_bound(sec, k)
        if b is not None:
            bound[k] = b
    return CountBounds(bound, exact)


def limiting_factor(sec: Section, k_lo: int, k: int) -> str:
    """Why at most ``mix_bound(sec, k)`` of ``k`` groups can mix (``k_lo``: the fewest admissible
    groups), in Japanese, with the numbers."""
    w = [u.size for u in sec.units if u.center == W_CENTER]
    n = [u.size for u in sec.units if u.center == WITHOUT_CENTER]
    pairs = max_pairs(w, n, sec.hi)
    need = f"参加者{sec.people}人を団体を分けずに{sec.lo}〜{sec.hi}人のグループにすると少なくとも{k_lo}グループ必要ですが、"
    if len(n) < k and len(n) <= min(len(w), pairs):
        return f"{need}センター未設置の町村は{len(n)}団体しかないため、混在できるのは{len(n)}グループまでです。"
    if len(w) < k and len(w) <= pairs:
        return f"{need}センター設置済の町村は{len(w)}団体しかないため、混在できるのは{len(w)}グループまでです。"
    if pairs < k:
        return (
            f"設置済と未設置の町村を同じグループに入れると{sec.hi}人を超える組み合わせが多く、"
            f"混在できる組は同時に{pairs}組までです。"
        )
    return f"町村は{len(sec.units)}団体で、{k}グループでは2団体以上のグループを{len(sec.units) - k}グループまでしか作れません。"
