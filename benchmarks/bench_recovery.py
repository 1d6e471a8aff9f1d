"""Benchmark of csuper.recovery: batched basis pursuit vs cvxpy and scipy HiGHS; phase-diagram time.

Per-problem time for basis pursuit (signed and nonnegative) at (n, m, k) = (200, 100, 20) and
(1000, 400, 60): the batched ADMM solver over B right-hand sides against cvxpy rebuilding the
problem each time, cvxpy with Parameters (compiled once) and scipy's HiGHS linprog, each on the
first ``n_base`` of the same right-hand sides (the baselines are one LP per problem, so their
per-problem time does not depend on B). Success = relative error <= 1e-4; the classification of
every baseline-solved problem is compared with the batched solver's.
Run: ``python benchmarks/run.py recovery [--quick]``.
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


def main(quick: bool = False) -> None:
    if quick:
        bench_solvers([(200, 100, 20)], B=50, n_base=5, n_rebuild=3)
        bench_phase(60, 5, 4)
        return
    bench_solvers([(200, 100, 20), (1000, 400, 60)], B=1000, n_base=30, n_rebuild=10)
    bench_phase(200, 20, 20)


if __name__ == "__main__":
    main(quick="--quick" in sys.argv)
