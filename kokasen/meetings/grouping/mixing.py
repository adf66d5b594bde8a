"""Mixing centers (town meetings): an upper bound on the number of mixed groups, the exact maximum
for small sections, and the Japanese explanations of groups that could not be mixed."""

from __future__ import annotations

from .units import W_CENTER, WITHOUT_CENTER, Section, Unit, is_mixed

EXACT_UNITS = 12  # exhaustive proof of the mixing maximum up to this many units


def max_pairs(w_sizes: list[int], n_sizes: list[int], cap: int) -> int:
    """Maximum number of disjoint (with, without) pairs whose people fit in ``cap``."""
    avail = sorted(n_sizes)
    pairs = 0
    for w in sorted(w_sizes, reverse=True):
        room = cap - w
        # the largest without-center unit that still fits
        lo_i, hi_i = 0, len(avail)
        while lo_i < hi_i:
            mid = (lo_i + hi_i) // 2
            if avail[mid] <= room:
                lo_i = mid + 1
            else:
                hi_i = mid
        if lo_i:
            avail.pop(lo_i - 1)
            pairs += 1
    return pairs


def mix_bound(sec: Section, k: int) -> int:
    """``min(groups, towns with a center, towns without, disjoint pairs that fit, units - groups)``."""
    if not sec.mixing:
        return 0
    w = [u.size for u in sec.units if u.center == W_CENTER]
    n = [u.size for u in sec.units if u.center == WITHOUT_CENTER]
    return max(0, min(k, len(w), len(n), max_pairs(w, n, sec.hi), len(sec.units) - k))


def exact_max_mixed(sec: Section, k: int) -> int | None:
    """Largest number of mixed groups over all valid partitions into ``k`` groups (small sections)."""
    units, lo, hi = sec.units, sec.lo, sec.hi
    n = len(units)
    best = -1
    groups: list[list[int]] = []
    sizes: list[int] = []

    def rec(i):
        nonlocal best
        if i == n:
            if len(groups) == k and all(s >= lo for s in sizes):
                m = sum(is_mixed(units[j] for j in g) for g in groups)
                best = max(best, m)
            return
        s = units[i].size
        for g in range(len(groups)):
            if sizes[g] + s <= hi:
                groups[g].append(i)
                sizes[g] += s
                rec(i + 1)
                sizes[g] -= s
                groups[g].pop()
        if len(groups) < k:
            groups.append([i])
            sizes.append(s)
            rec(i + 1)
            sizes.pop()
            groups.pop()

    rec(0)
    return best if best >= 0 else None


def why_no_mixing(sec: Section) -> list[str]:
    """Why a town meeting's section cannot mix at all (empty when it can)."""
    if sec.mixing:
        return []
    has_w = any(u.center == W_CENTER for u in sec.units)
    has_n = any(u.center == WITHOUT_CENTER for u in sec.units)
    if has_w and not has_n:
        return ["参加する町村はすべてセンター設置済のため、設置済と未設置を混在させるグループは作れません。"]
    if has_n and not has_w:
        return ["参加する町村はすべてセンター未設置のため、設置済と未設置を混在させるグループは作れません。"]
    if not has_w and not has_n:
        return ["センター設置状況がわかる町村がないため、混在の判定ができません。"]
    return []


def unmixed_reason(members: list[Unit], mixed: int, bound: int, proven: bool) -> str:
    """Why a town meeting's group is not mixed, with the mixing figures of the whole grouping."""
    classes = {u.center for u in members}
    if W_CENTER in classes and WITHOUT_CENTER not in classes:
        kind = "センター設置済の町村だけ"
        missing = "未設置"
    elif WITHOUT_CENTER in classes and W_CENTER not in classes:
        kind = "センター未設置の町村だけ"
        missing = "設置済"
    else:
        return "センター設置状況がわかる町村がないため、混在の判定ができません。"
    if proven:
        return (
            f"混在できない理由：{missing}の町村が足りないか、人数の上限のため組み合わせられず、"
            f"この名簿で混在させられるのは最大{bound}グループです。この案はその最大（{mixed}グループ）に達しています。"
        )
    return f"混在できなかった理由：{kind}が残りました。混在するグループは{mixed}グループで、理論上の上限は{bound}グループです。"
