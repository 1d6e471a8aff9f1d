"""JL apply and construction time against scikit-learn and a dense numpy product; sparse input
against scikit-learn; measured distortion against scipy's pdist.

``python benchmarks/run.py jl`` (``--quick`` for a smoke run). A batch X of shape (2000, 16384) is
mapped to m = 512 by every csuper construction, by scikit-learn's GaussianRandomProjection and
SparseRandomProjection (benchmark-only dependency; skipped if absent) and by a dense numpy product
``X @ A.T``. Each row reports construction and apply time (best of 3 after a warm-up call, numba
compilation excluded) and the measured distortion on a 300-point subset (all pairs), then the SRHT
vs dense crossover in n.

Two comparisons of issue 17, each interleaving csuper and its baseline call by call in one
process (the machine is shared: the load average is printed before and after), once with the
default threads and once with one thread each (numba and BLAS; scipy's sparse product and pdist
are single-threaded anyway):

- sparse input (item 4): a CSR matrix of density 0.01 mapped by csuper's ``very-sparse`` map and
  by scikit-learn's SparseRandomProjection of the same density 1/sqrt(n) (both return CSR);
- distortion (item 5): :func:`csuper.jl.measure_distortion` (max, expansion, contraction, mean,
  count above eps, quantiles 0.5/0.9/0.99, one fused pass) against the same statistics from
  ``scipy.spatial.distance.pdist`` (two condensed distance vectors, N(N-1)/2 floats each, then
  numpy).
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


def _load() -> str:
    with open("/proc/loadavg") as fh:
        return " ".join(fh.read().split()[:3])


def _interleaved(fns: dict, repeat: int) -> dict:
    """Best time of each function, the functions called in turn ``repeat`` times (so that both
    sides of a comparison see the same load)."""
    best = dict.fromkeys(fns, np.inf)
    for _ in range(repeat):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            best[name] = min(best[name], time.perf_counter() - t0)
    return best


def _threads(one: bool):
    """A context with one numba and one BLAS thread (``one``) or the defaults."""
    import contextlib

    import numba
    from threadpoolctl import threadpool_limits

    @contextlib.contextmanager
    def ctx():
        previous = numba.get_num_threads()
        if one:
            numba.set_num_threads(1)
        try:
            with threadpool_limits(limits=1 if one else None):
                yield
        finally:
            numba.set_num_threads(previous)

    return ctx()


def sparse_input(quick: bool = False) -> None:
    """csuper very-sparse on CSR input against scikit-learn's SparseRandomProjection."""
    from scipy import sparse

    from csuper.jl import make_jl

    try:
        from sklearn.random_projection import SparseRandomProjection
    except ImportError:
        print("(scikit-learn not installed: the sparse-input comparison is skipped)")
        return
    sizes = (
        [(500, 4096, 128)]
        if quick
        else [(2000, 10000, 500), (10000, 20000, 1000), (20000, 5000, 256)]
    )
    print(f"\nSparse input, CSR density 0.01 (load before: {_load()})")
    rows = []
    for N, n, m in sizes:
        X = sparse.random(N, n, density=0.01, format="csr", random_state=0)
        sk = SparseRandomProjection(n_components=m, random_state=1).fit(X)
        ours = make_jl("very-sparse", n, m, rng=1)
        ours(X[:10])
        sk.transform(X[:10])
        for one in (False, True):
            with _threads(one):
                t = _interleaved(
                    {"sk": functools.partial(sk.transform, X), "cs": functools.partial(ours, X)},
                    3 if quick else 7,
                )
                t_dense = best_time(
                    functools.partial(_via_toarray, ours, X), repeat=1 if quick else 3
                )
            Y, S = ours(X), sk.transform(X)
            rows.append(
                [
                    f"({N}, {n}) -> {m}",
                    "1" if one else "default",
                    f"{t['sk'] * 1e3:.1f}",
                    f"{t['cs'] * 1e3:.1f}",
                    f"{t['sk'] / t['cs']:.2f}x",
                    f"{t_dense * 1e3:.1f}",
                    f"{Y.nnz / (N * m):.2f} / {S.nnz / (N * m):.2f}",
                ]
            )
    print_table(
        [
            "X -> m",
            "threads",
            "sklearn ms",
            "csuper ms",
            "speed-up",
            "csuper via toarray ms",
            "output density csuper / sklearn",
        ],
        rows,
    )
    print(f"(load after: {_load()})")


def _via_toarray(f, X):
    """The route before sparse input was accepted: densify, then map."""
    return f(X.toarray())


def _pdist_statistics(X, Y, levels, eps):
    from scipy.spatial.distance import pdist

    dx = pdist(X, "sqeuclidean")
    dy = pdist(Y, "sqeuclidean")
    r = dy / dx
    d = np.abs(r - 1.0)
    return (
        d.max(),
        max(0.0, (r - 1.0).max()),
        max(0.0, (1.0 - r).max()),
        d.mean(),
        int(np.count_nonzero(d > eps)),
        np.quantile(d, levels),
    )


def distortion_vs_pdist(quick: bool = False) -> None:
    """measure_distortion's fused pass against the same statistics from scipy's pdist."""
    from csuper.jl import make_jl, measure_distortion

    levels, eps = (0.5, 0.9, 0.99), 0.3
    sizes = (
        [(600, 64, 16)]
        if quick
        else [(2000, 512, 128), (3000, 64, 16), (4000, 16, 8), (6000, 256, 64)]
    )
    print(f"\nDistortion over all pairs vs scipy pdist (load before: {_load()})")
    rows = []
    rng = np.random.default_rng(3)
    for N, n, m in sizes:
        X = rng.standard_normal((N, n))
        Y = make_jl("gaussian", n, m, rng=4)(X)
        measure_distortion(X[:50], Y[:50])
        ref = _pdist_statistics(X, Y, levels, eps)
        got = measure_distortion(X, Y, quantiles=levels, eps=eps)
        err = max(abs(got.max - ref[0]), abs(got.mean - ref[3]), *np.abs(got.quantiles - ref[5]))
        for one in (False, True):
            with _threads(one):
                t = _interleaved(
                    {
                        "pdist": functools.partial(_pdist_statistics, X, Y, levels, eps),
                        "cs": functools.partial(
                            measure_distortion, X, Y, quantiles=levels, eps=eps
                        ),
                    },
                    2 if quick else 3,
                )
            rows.append(
                [
                    f"{N} points, {n} -> {m}",
                    f"{N * (N - 1) // 2:,}",
                    "1" if one else "default",
                    f"{t['pdist'] * 1e3:.0f}",
                    f"{t['cs'] * 1e3:.0f}",
                    f"{t['pdist'] / t['cs']:.2f}x",
                    f"{8 * N * (N - 1) / 2 / 2**20:.0f}",
                    f"{err:.1e}",
                ]
            )
    print_table(
        [
            "points",
            "pairs",
            "threads",
            "pdist ms",
            "csuper ms",
            "speed-up",
            "pdist MB per vector",
            "max |difference|",
        ],
        rows,
    )
    print(f"(load after: {_load()})")


def main(quick: bool = False) -> None:
    sparse_input(quick)
    distortion_vs_pdist(quick)
    _apply_and_crossover(quick)


def _apply_and_crossover(quick: bool = False) -> None:
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
