"""Benchmark of csuper.recovery: batched basis pursuit vs cvxpy and scipy HiGHS; phase-diagram time.

Sections (``python benchmarks/bench_recovery.py [solvers] [transition] [growth] [phase]``; all by
default, or ``python benchmarks/run.py recovery [--quick]``):

- ``solvers``: per-problem time for basis pursuit (signed and nonnegative) at (n, m, k) =
  (200, 100, 20) and (1000, 400, 60): the batched solver over B right-hand sides against cvxpy
  rebuilding the problem each time, cvxpy with Parameters (compiled once) and scipy's HiGHS
  linprog, each on the first ``n_base`` of the same right-hand sides (the baselines are one LP
  per problem, so their per-problem time does not depend on B). Success = relative error
  <= 1e-4; the classification of every baseline-solved problem is compared with the batched
  solver's.
- ``transition`` (issue 17 item 2): the same comparison against cvxpy + Parameters (HiGHS) at
  and beyond the phase transition, where the batched solver used to hand column after column
  to HiGHS: signed n = 200, m = 100, k = 44 and 50, nonnegative k = 60, and signed
  (4000, 1000, 100); both the full solve and decision mode (``reference=``, what
  ``phase_transition`` runs).
- ``growth`` (issue 17 item 3): batched time from n = 200 to 1600 (m = n/2, k = n/10), its
  local exponent, the exponent of the ADMM flop count (sum of iterations x 4 n rank(A)), and
  cvxpy + Parameters on the first problems for the ratio.
- ``phase``: the 20 x 20 phase diagram at n = 200.
"""

from __future__ import annotations

import sys
import time

import numpy as np
from _common import print_table

from csuper.recovery import (
    L1Problem,
    batch_basis_pursuit,
    draw_sparse,
    highs_basis_pursuit,
    phase_transition,
    solve_l1,
    statistical_dimension,
)


def _instances(n, m, k, B, nonneg, seed):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((m, n)) / np.sqrt(m)
    X = draw_sparse(n, k, B, "uniform" if nonneg else "gaussian", rng=rng)
    return A, X


def _success(Xh, X):
    Xh = np.nan_to_num(np.asarray(Xh, dtype=float), nan=np.inf)
    return np.linalg.norm(Xh - X, axis=0) <= 1e-4 * np.linalg.norm(X, axis=0)


def bench_solvers(sizes, B, n_base, n_rebuild):
    rows = []
    for n, m, k in sizes:
        for nonneg in (False, True):
            A, X = _instances(n, m, k, B, nonneg, seed=n + k)
            Y = A @ X
            batch_basis_pursuit(A, Y[:, :2], nonnegative=nonneg)  # warm-up (numba compile)
            t0 = time.perf_counter()
            res = batch_basis_pursuit(A, Y, nonnegative=nonneg)
            t_batch = (time.perf_counter() - t0) / B
            s_batch = _success(res.x, X)
            base = {}
            nb = min(n_base, B)
            prob = L1Problem(A, nonnegative=nonneg)
            prob.solve(Y[:, 0])  # compile
            t0 = time.perf_counter()
            xs = [prob.solve(Y[:, j]).x for j in range(nb)]
            base["cvxpy Parameters (HIGHS)"] = ((time.perf_counter() - t0) / nb, xs, nb)
            nr = min(n_rebuild, B)
            t0 = time.perf_counter()
            xs = [solve_l1(A, Y[:, j], nonnegative=nonneg).x for j in range(nr)]
            base["cvxpy rebuilt (HIGHS)"] = ((time.perf_counter() - t0) / nr, xs, nr)
            t0 = time.perf_counter()
            xs = [highs_basis_pursuit(A, Y[:, j], nonnegative=nonneg).x for j in range(nb)]
            base["scipy linprog HiGHS"] = ((time.perf_counter() - t0) / nb, xs, nb)
            fastest = min(v[0] for v in base.values())
            label = f"({n}, {m}, {k}) {'nonneg' if nonneg else 'signed'}"
            rows.append(
                [
                    label,
                    f"batched ADMM (B={B})",
                    f"{1e3 * t_batch:.2f}",
                    f"{s_batch.mean():.3f}",
                    f"{fastest / t_batch:.1f}x",
                    "-",
                    f"{np.mean(res.status == 'optimal'):.3f}",
                ]
            )
            for name, (t, xs, cnt) in base.items():
                Xh = np.column_stack([x if x is not None else np.full(n, np.nan) for x in xs])
                s = _success(Xh, X[:, :cnt])
                same = bool(np.array_equal(s, s_batch[:cnt]))
                rows.append(
                    [
                        label,
                        f"{name} (first {cnt})",
                        f"{1e3 * t:.2f}",
                        f"{s.mean():.3f}",
                        "",
                        "yes" if same else "NO",
                        "",
                    ]
                )
            print(f"done {label}", file=sys.stderr, flush=True)
    print_table(
        [
            "(n, m, k)",
            "method",
            "ms / problem",
            "success rate",
            "speed-up vs fastest baseline",
            "same classification",
            "certified",
        ],
        rows,
    )


def bench_phase(n, grid, trials):
    axis = np.arange(1, grid + 1) / grid
    rows = []
    for signal in ("gaussian", "uniform"):
        phase_transition(
            20, deltas=[0.5], rhos=[0.5], n_trials=2, signal=signal, rng=0, progress=False
        )
        t0, c0 = time.perf_counter(), time.process_time()
        res = phase_transition(
            n, deltas=axis, rhos=axis, n_trials=trials, signal=signal, rng=0, progress=False
        )
        rows.append(
            [
                f"n={n}, {grid}x{grid}, {trials} trials, {signal}",
                f"{time.perf_counter() - t0:.1f}",
                f"{time.process_time() - c0:.1f}",
                int(res.table["unsolved"].sum()),
                int(res.table["successes"].sum()),
            ]
        )
    print_table(
        ["phase diagram", "wall time (s)", "CPU time (s)", "unsolved trials", "successes"], rows
    )


def _cvxpy_per_problem(A, Y, nonneg, count):
    """Seconds per problem of cvxpy + Parameters (HiGHS) on the first ``count`` columns, and
    their solutions."""
    prob = L1Problem(A, nonnegative=nonneg)
    prob.solve(Y[:, 0])  # compile
    t0 = time.perf_counter()
    xs = [prob.solve(Y[:, j]).x for j in range(count)]
    return (time.perf_counter() - t0) / count, xs


def bench_transition(cases, n_base):
    rows = []
    for n, m, k, nonneg, B in cases:
        A, X = _instances(n, m, k, B, nonneg, seed=n + k)
        Y = A @ X
        batch_basis_pursuit(A, Y[:, :2], nonnegative=nonneg)  # warm-up (numba compile)
        label = f"({n}, {m}, {k}) {'nonneg' if nonneg else 'signed'}"
        delta = statistical_dimension(n, k, nonnegative=nonneg)
        nb = min(n_base, B)
        for mode in ("full", "decision"):
            ref = X if mode == "decision" else None
            # interleaved: the batch, then the baseline, under the same load
            t0 = time.perf_counter()
            res = batch_basis_pursuit(A, Y, nonnegative=nonneg, reference=ref)
            t_batch = (time.perf_counter() - t0) / B
            t_base, xs = _cvxpy_per_problem(A, Y, nonneg, nb)
            s_batch = _success(res.x, X) & (res.status == "optimal")
            Xh = np.column_stack([x if x is not None else np.full(n, np.nan) for x in xs])
            same = bool(np.array_equal(_success(Xh, X[:, :nb]), s_batch[:nb]))
            settled = ("optimal",) if mode == "full" else ("optimal", "refuted")
            rows.append(
                [
                    label,
                    f"{delta:.1f}",
                    mode,
                    f"{1e3 * t_batch:.2f}",
                    f"{1e3 * t_base:.2f}",
                    f"{t_base / t_batch:.1f}x",
                    f"{s_batch.mean():.3f}",
                    "yes" if same else "NO",
                    f"{np.mean(np.isin(res.status, settled)):.3f}",
                    f"{res.n_iter.mean():.0f}",
                ]
            )
            print(f"done {label} {mode}", file=sys.stderr, flush=True)
    print_table(
        [
            "(n, m, k)",
            "delta(n, k)",
            "mode",
            "batched ms / problem",
            "cvxpy + HiGHS ms / problem",
            "speed-up",
            "success rate",
            "same classification",
            "certified",
            "mean ADMM iterations",
        ],
        rows,
    )


def bench_growth(ns, B, n_base):
    rows = []
    prev = None
    for n in ns:
        m, k = n // 2, n // 10
        A, X = _instances(n, m, k, B, False, seed=n)
        Y = A @ X
        batch_basis_pursuit(A, Y[:, :1])  # warm-up
        t0 = time.perf_counter()
        res = batch_basis_pursuit(A, Y)
        t = time.perf_counter() - t0
        flops = 4.0 * n * min(m, n) * float(res.n_iter.sum())
        t_base, _ = _cvxpy_per_problem(A, Y, False, n_base)
        exp_t = exp_f = ""
        if prev is not None:
            exp_t = f"{np.log(t / prev[1]) / np.log(n / prev[0]):.2f}"
            exp_f = f"{np.log(flops / prev[2]) / np.log(n / prev[0]):.2f}"
        rows.append(
            [
                f"({n}, {m}, {k})",
                f"{t:.2f}",
                exp_t,
                f"{flops / 1e9:.1f}",
                exp_f,
                f"{1e3 * t / B:.1f}",
                f"{1e3 * t_base:.1f}",
                f"{t_base / (t / B):.1f}x",
                f"{np.mean(res.status == 'optimal'):.3f}",
            ]
        )
        prev = (n, t, flops)
        print(f"done growth n={n}", file=sys.stderr, flush=True)
    print_table(
        [
            "(n, m, k)",
            f"batched s (B={B})",
            "time exponent",
            "ADMM GFLOP",
            "flop exponent",
            "batched ms / problem",
            f"cvxpy + HiGHS ms / problem (first {n_base})",
            "speed-up",
            "certified",
        ],
        rows,
    )


def main(quick: bool = False, sections=None) -> None:
    sections = set(sections or ("solvers", "transition", "growth", "phase"))
    if quick:
        if "solvers" in sections:
            bench_solvers([(200, 100, 20)], B=50, n_base=5, n_rebuild=3)
        if "transition" in sections:
            bench_transition([(200, 100, 44, False, 40), (200, 100, 60, True, 40)], n_base=5)
        if "growth" in sections:
            bench_growth([100, 200], B=20, n_base=2)
        if "phase" in sections:
            bench_phase(60, 5, 4)
        return
    if "solvers" in sections:
        bench_solvers([(200, 100, 20), (1000, 400, 60)], B=1000, n_base=30, n_rebuild=10)
    if "transition" in sections:
        bench_transition(
            [
                (200, 100, 44, False, 400),
                (200, 100, 50, False, 400),
                (200, 100, 60, True, 400),
            ],
            n_base=30,
        )
        bench_transition([(4000, 1000, 100, False, 40)], n_base=2)
    if "growth" in sections:
        bench_growth([200, 400, 800, 1600], B=100, n_base=3)
    if "phase" in sections:
        bench_phase(200, 20, 20)


if __name__ == "__main__":
    main(quick="--quick" in sys.argv, sections=[a for a in sys.argv[1:] if a != "--quick"])
