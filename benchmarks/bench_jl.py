"""JL apply and construction time against scikit-learn and a dense numpy product.

``python benchmarks/run.py jl`` (``--quick`` for a smoke run). A batch X of shape (2000, 16384) is
mapped to m = 512 by every csuper construction, by scikit-learn's GaussianRandomProjection and
SparseRandomProjection (benchmark-only dependency; skipped if absent) and by a dense numpy product
``X @ A.T``. Each row reports construction and apply time (best of 3 after a warm-up call, numba
compilation excluded) and the measured distortion on a 300-point subset (all pairs), then the SRHT
vs dense crossover in n.
"""

from __future__ import annotations

import functools
import time

import numpy as np
from _common import best_time, print_table


def _distortion(X, Y):
    from csuper.jl import measure_distortion

    d = measure_distortion(X, Y, quantiles=(0.99,))
    return d.max, float(d.quantiles[0])


def main(quick: bool = False) -> None:
    from csuper.jl import make_jl

    N, n, m = (200, 2048, 128) if quick else (2000, 16384, 512)
    n_sub = 100 if quick else 300
    rng = np.random.default_rng(0)
    X = rng.standard_normal((N, n))
    print(
        f"batch X {X.shape} float64 -> m = {m}; distortion on the first {n_sub} points (all pairs)"
    )

    # warm-up: compile every kernel once (serial and parallel builds) on small inputs
    small = rng.standard_normal((2, 64))
    big = rng.standard_normal((400, 4096))
    for name in ("sparse-jl", "countsketch", "very-sparse", "srht"):
        make_jl(name, 64, 16, rng=0)(small)
        make_jl(name, 4096, 64, rng=0)(big)
    _distortion(small[:2], small[:2])

    cases = [
        ("numpy dense X @ A.T (A Gaussian)", lambda: make_jl("gaussian", n, m, rng=1), None),
        ("csuper gaussian", lambda: make_jl("gaussian", n, m, rng=1), None),
        ("csuper rademacher", lambda: make_jl("rademacher", n, m, rng=1), None),
        ("csuper achlioptas (1/3)", lambda: make_jl("achlioptas", n, m, rng=1), None),
        ("csuper very-sparse (1/sqrt n)", lambda: make_jl("very-sparse", n, m, rng=1), None),
        ("csuper sparse-jl s=2", lambda: make_jl("sparse-jl", n, m, nnz_per_column=2, rng=1), None),
        ("csuper sparse-jl s=4", lambda: make_jl("sparse-jl", n, m, nnz_per_column=4, rng=1), None),
        ("csuper sparse-jl s=8", lambda: make_jl("sparse-jl", n, m, nnz_per_column=8, rng=1), None),
        ("csuper countsketch", lambda: make_jl("countsketch", n, m, rng=1), None),
        ("csuper srht", lambda: make_jl("srht", n, m, rng=1), None),
    ]
    try:
        from sklearn.random_projection import GaussianRandomProjection, SparseRandomProjection

        def sk(cls):
            def build():
                return cls(n_components=m, random_state=1).fit(X[:1])

            return build

        cases.append(("sklearn GaussianRandomProjection", sk(GaussianRandomProjection), "sk"))
        cases.append(("sklearn SparseRandomProjection", sk(SparseRandomProjection), "sk"))
    except ImportError:
        print("(scikit-learn not installed: its rows are skipped)")

    rows, apply_times = [], {}
    dense_A = None
    for label, build, kind in cases:
        t_build = best_time(build, repeat=3)
        f = build()
        if label.startswith("numpy"):
            dense_A = f.matrix()

            def apply(A=dense_A):
                return X @ A.T
        elif kind == "sk":

            def apply(f=f):
                return f.transform(X)
        else:

            def apply(f=f):
                return f(X)

        apply()  # warm-up
        t_apply = best_time(apply, repeat=3)
        apply_times[label] = t_apply
        Y = apply()
        dmax, d99 = _distortion(X[:n_sub], np.asarray(Y)[:n_sub])
        rows.append(
            [label, f"{t_build * 1e3:.1f}", f"{t_apply * 1e3:.1f}", "", f"{dmax:.3f}", f"{d99:.3f}"]
        )
    base = apply_times[cases[0][0]]
    for row in rows:
        row[3] = f"{base / apply_times[row[0]]:.2f}x"
    print_table(
        [
            "map",
            "construct ms",
            "apply ms",
            "speed-up vs dense",
            "max distortion",
            "q99 distortion",
        ],
        rows,
    )
    if "sklearn SparseRandomProjection" in apply_times:
        r = (
            apply_times["sklearn SparseRandomProjection"]
            / apply_times["csuper very-sparse (1/sqrt n)"]
        )
        print(f"\nvery-sparse vs sklearn SparseRandomProjection apply: {r:.2f}x")

    # one thread each (BLAS and numba): the comparison a loaded machine distorts least
    import numba
    from threadpoolctl import threadpool_limits

    print("\nOne thread (BLAS pinned with threadpoolctl, numba.set_num_threads(1)):")
    single = []
    previous = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        with threadpool_limits(limits=1):
            A1 = make_jl("gaussian", n, m, rng=1).matrix()
            t_dense = best_time(lambda: X @ A1.T)
            single.append(["numpy dense X @ A.T", f"{t_dense * 1e3:.1f}", "1.00x"])
            for label, kw in (
                ("sparse-jl s=4", dict(name="sparse-jl", nnz_per_column=4)),
                ("sparse-jl s=8", dict(name="sparse-jl", nnz_per_column=8)),
                ("very-sparse", dict(name="very-sparse")),
                ("srht", dict(name="srht")),
            ):
                f1 = make_jl(kw.pop("name"), n, m, rng=1, **kw)
                f1(X[:16])
                t1 = best_time(functools.partial(f1, X))
                single.append([f"csuper {label}", f"{t1 * 1e3:.1f}", f"{t_dense / t1:.2f}x"])
            if "sklearn SparseRandomProjection" in apply_times:
                srp = SparseRandomProjection(n_components=m, random_state=1).fit(X[:1])
                t1 = best_time(lambda: srp.transform(X))
                single.append(
                    ["sklearn SparseRandomProjection", f"{t1 * 1e3:.1f}", f"{t_dense / t1:.2f}x"]
                )
    finally:
        numba.set_num_threads(previous)
    print_table(["map (1 thread)", "apply ms", "speed-up vs dense"], single)

    # SRHT vs dense crossover in n, at the benchmark's m and at a small m
    ns = [256, 512, 1024, 2048] if quick else [512, 1024, 2048, 4096, 8192, 16384, 32768]
    for mm in (64, 128) if quick else (64, 512):
        print(f"\nSRHT vs dense product X @ A.T, batch of {N // 2} rows, m = {mm}")
        cross = []
        for nn in ns:
            Xn = rng.standard_normal((N // 2, nn))
            g = make_jl("gaussian", nn, mm, rng=2).matrix()
            s = make_jl("srht", nn, mm, rng=2)
            s(Xn)
            t_d = best_time(functools.partial(np.matmul, Xn, g.T))
            t_s = best_time(functools.partial(s, Xn))
            cross.append([nn, f"{t_d * 1e3:.1f}", f"{t_s * 1e3:.1f}", f"{t_d / t_s:.2f}x"])
        print_table(["n", "dense ms", "srht ms", "srht speed-up"], cross)
    print(f"\n(finished {time.strftime('%Y-%m-%d %H:%M:%S')})")


if __name__ == "__main__":
    import sys

    sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parent))
    main(quick="--quick" in sys.argv)
