"""Geometry benchmark: csuper's streamed frame statistics vs numpy's full Gram matrix.

``python benchmarks/run.py geometry`` (``--quick`` for a smoke run). csuper's
:func:`csuper.geometry.frame_statistics` (coherence, interference, mean squared overlap, frame
potential, feature dimensionality in one streamed pass over tiles) races the lean numpy baseline
:func:`csuper.geometry._dense_reference.numpy_baseline_statistics` (the full n x n Gram matrix in
W's dtype, reduced in place to the same statistics), at m = 512, in float32 and float64.

The baseline needs n^2 * itemsize bytes (n = 50,000: 10 GB in float32, 20 GB in float64). It runs
only when that fits the memory budget (``dense_limit_gb``, default 4 GB and at most 30% of the
available memory: the machine is shared); otherwise its time is extrapolated from the largest
measured n of the same dtype by the n^2 scaling of the product and its memory is n^2 * itemsize,
both marked "extrapolated".

OpenBLAS hazard: the baseline's float64 Gram is ``W.T @ W.copy()`` (gemm), never ``W.T @ W``:
numpy 2.4's bundled OpenBLAS segfaults on the latter (syrk) for W of shape (512, n >= 19000) with
2 threads. See :mod:`csuper.geometry._dense_reference`.
"""

from __future__ import annotations

import functools
import time

import numpy as np
from _common import best_time, peak_memory, print_table
from numba import njit

from csuper.geometry import _overlap_kernels as _k
from csuper.geometry import frame_statistics
from csuper.geometry._dense_reference import numpy_baseline_statistics

M = 512


def _available_bytes() -> float:
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return float(line.split()[1]) * 1024
    except OSError:
        pass
    return 8e9


@njit(cache=True)
def _numba_dot_pass(Ut, r2, b, tile, s_unit, s_weighted, best, best_pair):
    """Design alternative: the whole tile loop inside numba with ``np.dot`` (scipy's BLAS)."""
    n = Ut.shape[0]
    for i0 in range(0, n, b):
        A = Ut[i0 : i0 + b]
        for j0 in range(i0, n, b):
            B = np.ascontiguousarray(Ut[j0 : j0 + b].T)
            T = tile[: A.shape[0] * B.shape[1]].reshape((A.shape[0], B.shape[1]))
            np.dot(A, B, T)
            _k.reduce_tile(T, r2, i0, j0, i0 == j0, s_unit, s_weighted, best, best_pair)


def _design_measurements(n: int, repeat: int) -> None:
    """Tile side and where the product runs (numpy per tile vs np.dot inside numba)."""
    from csuper.geometry import overlaps as imod

    rng = np.random.default_rng(1)
    rows = []
    for dtype in (np.float32, np.float64):
        W = rng.standard_normal((M, n)).astype(dtype)
        Ut, r2, _ = imod._unit_rows(W)
        for b in (256, 512, 1024, 2048):
            fn = functools.partial(frame_statistics, W, block_size=b)
            fn()
            t = best_time(fn, repeat)
            rows.append([n, np.dtype(dtype).name, b, "numpy per tile", f"{t:.3f}"])
        b = imod.DEFAULT_BLOCK_SIZE

        def nb(Ut=Ut, r2=r2, b=b, dtype=dtype):
            _numba_dot_pass(
                Ut,
                r2,
                b,
                np.empty(b * b, dtype),
                np.zeros(n),
                np.zeros(n),
                np.full(1, -1.0),
                np.zeros(2, np.int64),
            )

        nb()
        rows.append([n, np.dtype(dtype).name, b, "np.dot in numba", f"{best_time(nb, repeat):.3f}"])
    print(f"\n### design: tile side and product route (seconds, best of {repeat})\n")
    print_table(["n", "dtype", "block", "product", "time s"], rows)


def gram_vs_syrk(quick: bool = False) -> None:
    """csuper's crash-free Gram product (issue 17 item 7) against numpy's ``W.T @ W`` (BLAS
    syrk), interleaved call by call, at sizes where syrk does not crash (n < 19,000)."""
    from csuper.geometry import gram_matrix

    with open("/proc/loadavg") as fh:
        load = " ".join(fh.read().split()[:3])
    print(f"\ngram_matrix(W) vs numpy W.T @ W (syrk), m = 512 (load before: {load})")
    rng = np.random.default_rng(1)
    rows = []
    for n in [1000, 2000] if quick else [2000, 4000, 8000]:
        for dtype in (np.float32, np.float64):
            W = rng.standard_normal((512, n)).astype(dtype)
            ours, syrk = functools.partial(gram_matrix, W), functools.partial(_syrk, W)
            ours()
            syrk()
            best = {"ours": np.inf, "syrk": np.inf}
            for _ in range(2 if quick else 5):
                for name, fn in (("syrk", syrk), ("ours", ours)):
                    t0 = time.perf_counter()
                    fn()
                    best[name] = min(best[name], time.perf_counter() - t0)
            diff = float(np.abs(gram_matrix(W) - _syrk(W)).max())
            rows.append(
                [
                    n,
                    np.dtype(dtype).name,
                    f"{best['syrk'] * 1e3:.1f}",
                    f"{best['ours'] * 1e3:.1f}",
                    f"{best['syrk'] / best['ours']:.2f}",
                    f"{diff:.1e}",
                ]
            )
    print_table(
        ["n", "dtype", "numpy syrk ms", "gram_matrix ms", "time ratio", "max |difference|"], rows
    )


def _syrk(W):
    """numpy's ``W.T @ W`` on one buffer: the BLAS syrk path that crashes for wide W (the
    benchmark keeps n below the crash sizes)."""
    return W.T @ W


def main(quick: bool = False) -> None:
    gram_vs_syrk(quick)
    sizes = [2_000, 5_000] if quick else [10_000, 20_000, 50_000]
    m = 64 if quick else M
    dense_limit = min(4e9, 0.3 * _available_bytes())
    rng = np.random.default_rng(0)

    t0 = time.perf_counter()
    frame_statistics(rng.standard_normal((4, 8)))
    frame_statistics(rng.standard_normal((4, 8)).astype(np.float32))
    print(f"first calls (numba compile or cache load): {time.perf_counter() - t0:.2f} s")

    rows = []
    measured: dict[str, tuple[int, float, int]] = {}
    for dtype in (np.float32, np.float64):
        name = np.dtype(dtype).name
        for n in sizes:
            W = rng.standard_normal((m, n)).astype(dtype)
            repeat = 3 if n <= 10_000 else 1
            ours = functools.partial(frame_statistics, W)
            if repeat > 1:  # kernels are compiled above; big sizes skip the extra warm-up run
                ours()
            t_ours = best_time(ours, repeat)
            mem_ours = peak_memory(ours)
            gram_bytes = n * n * np.dtype(dtype).itemsize
            if gram_bytes <= dense_limit:
                base = functools.partial(numpy_baseline_statistics, W)
                if repeat > 1:
                    base()
                t_base = best_time(base, repeat)
                mem_base = peak_memory(base)
                measured[name] = (n, t_base, mem_base)
                note = "measured"
            elif name in measured:
                n0, t0_, mem0 = measured[name]
                t_base = t0_ * (n / n0) ** 2
                mem_base = int(mem0 * (n / n0) ** 2)
                note = f"numpy extrapolated from n={n0} (n^2)"
            else:
                t_base, mem_base, note = float("nan"), gram_bytes, "numpy skipped (memory)"
            rows.append(
                [
                    n,
                    m,
                    name,
                    f"{t_ours:.2f}",
                    f"{t_base:.2f}",
                    f"{t_ours / t_base:.2f}",
                    f"{mem_ours / 2**20:.0f}",
                    f"{mem_base / 2**20:.0f}",
                    f"{mem_base / mem_ours:.0f}",
                    note,
                ]
            )
            print(f"  done n={n} {name}", flush=True)
            del W
    print("\n### streamed frame_statistics vs numpy full Gram + reductions\n")
    print_table(
        [
            "n",
            "m",
            "dtype",
            "csuper s",
            "numpy s",
            "time ratio",
            "csuper MB",
            "numpy MB",
            "memory ratio",
            "numpy",
        ],
        rows,
    )
    _design_measurements(2_000 if quick else 10_000, 1 if quick else 3)


if __name__ == "__main__":
    import sys

    main(quick="--quick" in sys.argv)
