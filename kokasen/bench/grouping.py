"""Benchmark of the grouping engine (issue 5): ``python -m kokasen.bench.grouping``.

Rosters of 60, 300 and 1,000 participants are drawn (seeded) from the towns and villages of the
West area in the real master data, 2-4 people each, with a center at 50% and at 71%. Each roster
is grouped by

* ``engine``: :func:`kokasen.meetings.grouping.propose_groups`;
* ``sort+cut``: participants sorted by population and cut into sixes (the naive way);
* ``milp``: an exact model solved by HiGHS (highspy, bench-only: requirements-bench.txt) with the
  engine's number of groups, in two phases: (1) maximise the mixed groups, (2) minimise the
  objective with at least that many mixed groups. Each phase is time-limited; the table shows the
  incumbent, the dual bound and the MIP gap.

The model numbers units (local governments) in population order; a group is named by its first
unit ("leader"), so the model has no symmetry between groups:
``z_v`` (v leads a group), ``a_uv`` (u in v's group, u >= v), ``r_v >= (ln p_u - ln p_v) a_uv``
(spread of v's group), ``y_v <= sum over W of a_uv``, ``y_v <= sum over N of a_uv`` (mixed),
``lo z_v <= sum s_u a_uv <= hi z_v``, ``sum z_v = k``.

Objective, as in the engine: sum over groups of (max - min) ln population.
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
import time
from pathlib import Path

from kokasen.meetings import grouping as g

CSV = Path(__file__).resolve().parent.parent / "localgov" / "data" / "municipalities.csv"
SIZES = (60, 300, 1000)
RATES = (0.50, 0.71)


def west_towns() -> list[dict]:
    with CSV.open(encoding="utf-8", newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["area"] == "west" and r["kind"] in ("town", "village")]
    return sorted(rows, key=lambda r: r["code"])


def roster(towns: list[dict], people: int, rate: float, seed: int) -> list[g.Participant]:
    rng = random.Random(seed)
    order = rng.sample(towns, len(towns))
    out: list[g.Participant] = []
    for town in order:
        if len(out) >= people:
            break
        n = min(rng.randint(2, 4), people - len(out))
        if n < 2 and out:  # give the last town's single seat to the previous town
            prev = out[-1]
            out.append(g.Participant(len(out), prev.code, prev.name, "", prev.has_center, prev.population))
            break
        has_center = rng.random() < rate
        for _ in range(n):
            out.append(g.Participant(len(out), town["code"], town["name"], "", has_center, int(town["population"])))
    if len(out) < people:
        raise SystemExit(f"not enough towns for {people} participants")
    return out


def sort_and_cut(participants: list[g.Participant], size: int = 6) -> list[tuple]:
    ordered = sorted(participants, key=lambda p: (p.population or 0, p.code, p.id))
    return [tuple(p.id for p in ordered[i : i + size]) for i in range(0, len(ordered), size)]


def count_mixed(groups, participants) -> int:
    by_id = {p.id: p for p in participants}
    n = 0
    for grp in groups:
        centers = {by_id[i].has_center for i in grp}
        n += True in centers and False in centers
    return n


def rule_violations(groups, participants, params) -> list[str]:
    """Rule codes broken, leaving out the no-mix notes (those are compared through the mixed count)."""
    return [v.rule for v in g.violations(groups, participants, params) if v.rule not in ("no_mix",)]


def milp(participants, params, k, time_limit, mix_time_limit):
    """Solve the model (see the module docstring) in its two phases; the figures the table prints."""
    import highspy

    units, order = _units_in_population_order(participants)
    model = _Model(units, order, params.min_size, params.max_size, k, highspy.kHighsInf)
    t0 = time.perf_counter()
    h, mixed_found, mixed_bound = _most_mixed(model, mix_time_limit)
    h2 = _least_spread(model, time_limit, mixed_found)
    info2 = h2.getInfo()
    elapsed = time.perf_counter() - t0
    groups = None
    if info2.primal_solution_status:
        groups = model.groups(list(h2.getSolution().col_value))
    return {
        "groups": groups,
        "objective": info2.objective_function_value if groups else None,
        "bound": info2.mip_dual_bound,
        "gap": info2.mip_gap,
        "mixed_found": mixed_found,
        "mixed_bound": mixed_bound,
        "status1": h.modelStatusToString(h.getModelStatus()),
        "status2": h2.modelStatusToString(h2.getModelStatus()),
        "time": elapsed,
    }


def _units_in_population_order(participants) -> tuple[dict[str, list], list[str]]:
    """The participants by local-government code, and the codes in population order."""
    units: dict[str, list] = {}
    for p in participants:
        units.setdefault(p.code, []).append(p)
    return units, sorted(units, key=lambda c: (units[c][0].population, c))


class _Model:
    """The MILP's columns (``a``, ``z``, ``r``, ``y``) and rows in compressed form, as HiGHS takes them."""

    def __init__(self, units: dict[str, list], order: list[str], lo: int, hi: int, k: int, inf: float):
        import numpy as np

        self.units, self.order, self.inf = units, order, inf
        self.x = [float(np.log(units[c][0].population)) for c in order]
        self.s = [len(units[c]) for c in order]
        self.cls = [1 if units[c][0].has_center else 2 for c in order]
        n = len(order)
        col = 0
        self.a = {}
        for v in range(n):
            for u in range(v, n):
                self.a[u, v] = col
                col += 1
        self.z = [self.a[v, v] for v in range(n)]  # a_vv doubles as z_v
        self.r = list(range(col, col + n))
        self.y = list(range(col + n, col + 2 * n))
        self.ncols = col + 2 * n
        self.rows_lo, self.rows_hi, self.starts, self.idx, self.val = [], [], [], [], []
        for u in range(n):
            self.row(1, 1, [(self.a[u, v], 1.0) for v in range(u + 1)])
        for v in range(n):
            self._group_rows(v, lo, hi)
        self.row(k, k, [(zv, 1.0) for zv in self.z])

    def row(self, lb, ub, entries) -> None:
        self.starts.append(len(self.idx))
        for j, c in entries:
            self.idx.append(j)
            self.val.append(c)
        self.rows_lo.append(lb)
        self.rows_hi.append(ub)

    def _group_rows(self, v: int, lo: int, hi: int) -> None:
        """The rows of the group led by unit ``v``: membership, spread, size, mixed."""
        a, z, r, y, x, s, cls, inf = self.a, self.z, self.r, self.y, self.x, self.s, self.cls, self.inf
        n = len(self.order)
        for u in range(v + 1, n):
            self.row(-inf, 0, [(a[u, v], 1.0), (z[v], -1.0)])
            d = x[u] - x[v]
            if d > 0:
                self.row(0, inf, [(r[v], 1.0), (a[u, v], -d)])
        others = [(a[u, v], float(s[u])) for u in range(v + 1, n)]  # a_vv is z_v itself
        self.row(0, inf, others + [(z[v], float(s[v] - lo))])
        self.row(-inf, 0, others + [(z[v], float(s[v] - hi))])
        self.row(-inf, 0, [(y[v], 1.0)] + [(a[u, v], -1.0) for u in range(v, n) if cls[u] == 1])
        self.row(-inf, 0, [(y[v], 1.0)] + [(a[u, v], -1.0) for u in range(v, n) if cls[u] == 2])

    def highs(self, limit: float):
        """A silent, single-threaded, seeded HiGHS holding the model, time-limited to ``limit`` seconds."""
        import highspy
        import numpy as np

        h = highspy.Highs()
        h.silent()
        lb = np.zeros(self.ncols)
        ub = np.ones(self.ncols)
        ub[self.r] = self.inf
        h.addVars(self.ncols, lb, ub)
        integral = [j for j in range(self.ncols) if j < self.r[0]]
        h.changeColsIntegrality(
            len(integral), np.array(integral, dtype=np.int32), np.array([highspy.HighsVarType.kInteger] * len(integral))
        )
        status = h.addRows(
            len(self.rows_lo),
            np.array(self.rows_lo),
            np.array(self.rows_hi),
            len(self.idx),
            np.array(self.starts, dtype=np.int32),
            np.array(self.idx, dtype=np.int32),
            np.array(self.val),
        )
        if status != highspy.HighsStatus.kOk or h.getNumRow() != len(self.rows_lo):
            raise RuntimeError(f"HiGHS refused the model: {status}")
        h.setOptionValue("time_limit", float(limit))
        h.setOptionValue("random_seed", 1)
        h.setOptionValue("threads", 1)
        return h

    def groups(self, sol: list[float]) -> list[tuple]:
        """The participant ids of each group of a solution, groups in their leader's order."""
        members: dict[int, list] = {}
        for (u, v), j in self.a.items():
            if sol[j] > 0.5:
                members.setdefault(v, []).append(u)
        return [tuple(p.id for u in sorted(m) for p in self.units[self.order[u]]) for _, m in sorted(members.items())]


def _most_mixed(model: _Model, limit: float):
    """Phase 1, maximise the mixed groups: (the solver, mixed groups found, the proven bound or None
    when there is none within the time limit)."""
    import numpy as np

    h = model.highs(limit)
    cost = np.zeros(model.ncols)
    cost[model.y] = -1.0
    h.changeColsCost(model.ncols, np.arange(model.ncols, dtype=np.int32), cost)
    h.run()
    info = h.getInfo()
    mixed_found = round(-info.objective_function_value) if info.primal_solution_status else 0
    dual = -info.mip_dual_bound
    mixed_bound = int(dual + 1e-6) if abs(dual) < model.inf else None
    return h, mixed_found, mixed_bound


def _least_spread(model: _Model, limit: float, mixed_found: int):
    """Phase 2, minimise the spread with at least ``mixed_found`` mixed groups: the solver, run."""
    import numpy as np

    h2 = model.highs(limit)
    h2.addRow(mixed_found, model.inf, len(model.y), np.array(model.y, dtype=np.int32), np.ones(len(model.y)))
    cost = np.zeros(model.ncols)
    cost[model.r] = 1.0
    h2.changeColsCost(model.ncols, np.arange(model.ncols, dtype=np.int32), cost)
    h2.run()
    return h2


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time-limit", type=float, default=60.0, help="seconds per MILP phase-2 solve")
    parser.add_argument("--mix-time-limit", type=float, default=15.0, help="seconds for the phase-1 (mixing) solve")
    parser.add_argument("--no-milp", action="store_true")
    parser.add_argument("--sizes", type=int, nargs="*", default=list(SIZES))
    args = parser.parse_args(argv)
    towns = west_towns()
    params = g.GroupingParams(kind="town", min_size=5, max_size=7, target_size=6)
    print(f"West-area towns and villages in the master data: {len(towns)}")
    summary = []
    for people in args.sizes:
        for rate in RATES:
            seed = people * 1000 + round(rate * 100)
            ps = roster(towns, people, rate, seed)
            n_units = len({p.code for p in ps})
            print()
            print(f"== {people} participants, {n_units} towns, center rate {rate:.0%} (seed {seed})")
            t = time.perf_counter()
            res = g.propose_groups(ps, params)
            t_engine = time.perf_counter() - t
            t = time.perf_counter()
            cut = sort_and_cut(ps)
            t_cut = time.perf_counter() - t
            k = len(res.groups)
            bound = res.mixed_upper_bound
            rows = [
                ("engine", res.objective, rule_violations(res.groups, ps, params), res.mixed_groups, t_engine, ""),
                (
                    "sort+cut",
                    g.objective(cut, ps),
                    rule_violations(cut, ps, params),
                    count_mixed(cut, ps),
                    t_cut,
                    f"{len(cut)} groups",
                ),
            ]
            m = None
            if not args.no_milp:
                m = milp(ps, params, k, args.time_limit, args.mix_time_limit)
                note = (
                    f"bound {m['bound']:.3f}, gap {m['gap']:.1%}, mix phase {m['status1']} "
                    f"(best {m['mixed_found']}, bound {m['mixed_bound']}), spread phase {m['status2']}"
                )
                if m["groups"]:
                    rows.append(
                        (
                            "milp",
                            m["objective"],
                            rule_violations(m["groups"], ps, params),
                            count_mixed(m["groups"], ps),
                            m["time"],
                            note,
                        )
                    )
                else:
                    rows.append(("milp", float("nan"), [], 0, m["time"], "no solution in the time limit; " + note))
            print(f"groups: {k}; mixed-group upper bound (engine): {bound}; proven maximum: {res.mixed_maximum_proven}")
            print(f"{'method':<9} {'objective':>9} {'violations':<28} {'mixed/max':>10} {'time':>8}  notes")
            for name, obj, viol, mixed, secs, note in rows:
                vtxt = ", ".join(f"{c}x{viol.count(c)}" for c in sorted(set(viol))) or "none"
                print(f"{name:<9} {obj:>9.3f} {vtxt:<28} {mixed:>4}/{bound:<5} {secs:>7.2f}s  {note}")
            if m and m["groups"]:
                vs_inc = (res.objective / m["objective"] - 1) if m["objective"] else 0.0
                vs_lb = (res.objective / m["bound"] - 1) if m["bound"] > 0 else float("inf")
                print(
                    f"engine vs solver: {vs_inc:+.1%} against its best solution, {vs_lb:+.1%} against its lower bound"
                )
                summary.append(
                    (
                        people,
                        rate,
                        res.objective,
                        m["objective"],
                        m["bound"],
                        res.mixed_groups,
                        m["mixed_bound"],
                        t_engine,
                    )
                )
            else:
                summary.append((people, rate, res.objective, None, None, res.mixed_groups, None, t_engine))
    print()
    print("summary: people rate | engine obj | solver best | solver bound | engine mixed / solver mix bound | engine s")
    for people, rate, eo, so, sb, em, smb, te in summary:
        so_txt = f"{so:.3f}" if so is not None else "-"
        sb_txt = f"{sb:.3f}" if sb is not None else "-"
        print(
            f"  {people:>5} {rate:.0%} | {eo:.3f} | {so_txt} | {sb_txt} | {em} / {smb if smb is not None else '-'} | {te:.2f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
