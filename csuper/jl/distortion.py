"""Measured distortion of a map on a point set: one fused pass over all pairs (BLAS Gram tiles
reduced by a parallel numba kernel), or a random sample of pairs."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from csuper._lazy import lazy_import
from csuper._validation import check_array, check_int, check_memory, check_real, check_rng
from csuper.geometry.gram import gram_product
from csuper.jl.transforms import JLTransform

K = lazy_import("csuper.jl._distortion_kernels")

__all__ = ["Distortion", "measure_distortion"]

#: Points per side of a tile of the pass over all pairs (two Gram blocks of TILE^2 float64).
TILE = 1024
#: Row chunks per tile: the unit of parallel work, fixed so that the result does not depend on
#: the number of threads.
_CHUNKS = 16
#: Distortion values the pass may hold for the quantiles: max(2**21, 32 N) (O(N) memory).
_MIN_COLLECT = 1 << 21
#: Pairs from which the kernel runs its parallel build.
_PARALLEL_MIN_PAIRS = 1 << 20
#: Width of the sample brackets around each quantile, in standard errors.
_Z = 4.5


@dataclass(frozen=True)
class Distortion:
    """Distortion of a map on a point set.

    The distortion of a pair is ``|r - 1|`` with ``r = ||f(x_i) - f(x_j)||^2 / ||x_i - x_j||^2``.

    Attributes
    ----------
    max : float
        Largest distortion over the pairs measured.
    max_expansion, max_contraction : float
        Largest ``r - 1`` and ``1 - r`` (each >= 0).
    mean : float
        Mean distortion.
    quantile_levels : tuple of float
        Levels q of :attr:`quantiles`.
    quantiles : ndarray
        Quantiles of the distortion (numpy's default linear interpolation).
    n_pairs : int
        Pairs measured (zero-distance pairs excluded).
    n_skipped : int
        Pairs with x_i == x_j (no ratio; a linear map keeps them equal).
    n_above : int or None
        Pairs whose distortion exceeds ``eps`` (when ``eps`` was given).
    eps : float or None
        Threshold used for :attr:`n_above`.
    exhaustive : bool
        True if every pair was measured, False for a random sample of pairs.
    """

    max: float
    max_expansion: float
    max_contraction: float
    mean: float
    quantile_levels: tuple[float, ...]
    quantiles: np.ndarray
    n_pairs: int
    n_skipped: int
    n_above: int | None
    eps: float | None
    exhaustive: bool

    def within(self, eps: float) -> bool:
        """Whether every measured pair has distortion at most eps."""
        return self.max <= check_real(eps, "eps", low=0.0)


def _power_of_two_scaled(A: np.ndarray) -> tuple[np.ndarray, int]:
    """A copy of A in float64 scaled by 2**-k (exact) so that max |A| lies in [0.5, 1): squared
    norms neither overflow nor underflow; returns (scaled copy, k)."""
    top = float(np.max(np.abs(A))) if A.size else 0.0
    k = int(np.clip(np.frexp(top)[1], -1000, 1000)) if top > 0 else 0
    return np.ldexp(np.asarray(A, dtype=np.float64), -k), k


def _merge(intervals: list[tuple[float, float]]) -> np.ndarray:
    """Sorted, disjoint closed intervals (as the flat edge array of the kernel)."""
    merged: list[list[float]] = []
    for lo, hi in sorted(intervals):
        if merged and lo <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], hi)
        else:
            merged.append([lo, hi])
    return np.array([e for pair in merged for e in pair], dtype=np.float64)


def _ranks(levels: tuple[float, ...], n_valid: int) -> list[int]:
    """The order statistics (0-based ranks) numpy's linear quantiles need."""
    out: set[int] = set()
    for q in levels:
        h = (n_valid - 1) * q
        out |= {int(np.floor(h)), min(int(np.floor(h)) + 1, n_valid - 1)}
    return sorted(out)


def _sample_intervals(X, Y, levels, n_points, n_pairs, capacity) -> np.ndarray | None:
    """Closed intervals of distortion that hold each requested quantile with overwhelming
    probability, from a sample of pairs (None: the sample would cost too much, do two passes).

    The sample only decides where to look: the values are taken from the full pass and checked
    there, so the result never depends on it (it is drawn from a fixed seed all the same).
    """
    spread = sum(np.sqrt(q * (1.0 - q)) for q in levels) + 0.05 * len(levels)
    size = int((8.0 * _Z * spread * n_pairs / capacity) ** 2) + 2048
    if size > n_pairs // 8:
        return None
    gen = np.random.default_rng(0x5EED)
    I = gen.integers(0, n_points, size=size)
    J = gen.integers(0, n_points - 1, size=size)
    J = J + (J >= I)
    r = K.pairs_ratios(X, Y, I.astype(np.int64), J.astype(np.int64))
    d = np.sort(np.abs(r[r >= 0.0] - 1.0))
    if d.size < 1024:
        return None
    intervals = []
    for q in levels:
        delta = _Z * np.sqrt(q * (1.0 - q) / d.size) + 4.0 / d.size
        lo = 0.0 if q - delta <= 0.0 else float(d[int((q - delta) * d.size)])
        hi = np.inf if q + delta >= 1.0 else float(d[min(d.size - 1, int((q + delta) * d.size))])
        intervals.append((lo, hi))
    return _merge(intervals)


def _bin_interval(key: int) -> tuple[float, float]:
    """The closed interval of the distortions d >= 0 whose histogram key (the top bits of their
    float64 representation, ``bits(d) >> K.KEY_SHIFT``) is ``key``."""
    lo = np.array([key << K.KEY_SHIFT], dtype=np.int64).view(np.float64)[0]
    hi = np.array([((key + 1) << K.KEY_SHIFT) - 1], dtype=np.int64).view(np.float64)[0]
    return float(lo), (np.inf if np.isnan(hi) else float(hi))


class _Pass:
    """One fused pass over all pairs i < j: statistics, histogram, and the distortions that
    fall in ``edges`` (each chunk holds at most ``capacity[c]`` of them)."""

    def __init__(self, Xs, Ys, nx, ny, scale, eps, edges, capacity, histogram=False):
        N = Xs.shape[0]
        b = min(N, TILE)
        self.chunk_rows = -(-b // _CHUNKS)
        self.stats = np.zeros((_CHUNKS, K.N_STATS))
        self.below = np.zeros((_CHUNKS, edges.size // 2), dtype=np.int64)
        self.hist = np.zeros((_CHUNKS, K.N_BINS if histogram else 0), dtype=np.int64)
        self.values = np.empty((_CHUNKS, int(capacity.max()) if capacity.size else 0))
        self.fill = np.zeros(_CHUNKS, dtype=np.int64)
        u = 2.0**-53
        tol_x = 2.0 * (Xs.shape[1] + 4) * u / K.TOLERANCE
        tol_y = 2.0 * (Ys.shape[1] + 4) * u / K.TOLERANCE
        parallel = N * (N - 1) // 2 >= _PARALLEL_MIN_PAIRS
        kernel = K.distortion_tile_parallel if parallel else K.distortion_tile
        GX = np.empty((b, b))
        GY = np.empty((b, b))
        for i0 in range(0, N, b):
            for j0 in range(i0, N, b):
                bi, bj = min(b, N - i0), min(b, N - j0)
                gx = gram_product(Xs[i0 : i0 + bi].T, Xs[j0 : j0 + bj].T, GX[:bi, :bj])
                gy = gram_product(Ys[i0 : i0 + bi].T, Ys[j0 : j0 + bj].T, GY[:bi, :bj])
                kernel(
                    bi,
                    bj,
                    gx,
                    gy,
                    Xs,
                    Ys,
                    nx,
                    ny,
                    i0,
                    j0,
                    i0 == j0,
                    scale,
                    eps,
                    tol_x,
                    tol_y,
                    edges,
                    self.chunk_rows,
                    self.stats,
                    self.below,
                    self.hist,
                    self.values,
                    self.fill,
                )
        self.edges = edges
        self.capacity = capacity

    def quantiles(self, levels: tuple[float, ...], n_valid: int) -> np.ndarray | None:
        """numpy's linear quantiles from the collected values; None if a needed order
        statistic fell outside the intervals or a chunk overflowed."""
        if np.any(self.fill > self.capacity):
            return None
        collected = np.concatenate([self.values[c, : self.fill[c]] for c in range(_CHUNKS)])
        below = self.below.sum(axis=0)  # values below each interval's lower end
        lows, highs = self.edges[0::2], self.edges[1::2]
        # where each interval's values begin and end in the sorted collection
        start = np.array([np.count_nonzero(collected < low) for low in lows])
        stop = np.array([np.count_nonzero(collected <= high) for high in highs])
        position = {}
        for r in _ranks(levels, n_valid):
            t = int(np.searchsorted(below, r, side="right") - 1)  # last interval starting <= r
            if t < 0 or r >= below[t] + stop[t] - start[t]:
                return None  # rank r lies in a gap between the intervals
            position[r] = int(start[t] + r - below[t])
        # the needed order statistics by selection (introselect), not a full sort
        kth = sorted(set(position.values()))
        selected = np.partition(collected, kth)
        value = {r: selected[p] for r, p in position.items()}
        out = []
        for q in levels:
            h = (n_valid - 1) * q
            lo = int(np.floor(h))
            a, b = value[lo], value[min(lo + 1, n_valid - 1)]
            out.append(a if a == b else a + (h - lo) * (b - a))  # a == b == inf stays inf
        return np.array(out, dtype=float)


def _chunk_pairs(N: int) -> np.ndarray:
    """Pairs i < j each row chunk of the tiling visits (chunk c: rows c * chunk_rows to
    (c + 1) * chunk_rows of every tile)."""
    b = min(N, TILE)
    rows = -(-b // _CHUNKS)
    out = np.zeros(_CHUNKS, dtype=np.int64)
    for i0 in range(0, N, b):
        bi = min(b, N - i0)
        right = N - i0 - bi  # columns of the tiles right of the diagonal one
        for c in range(_CHUNKS):
            a = np.arange(c * rows, min(bi, (c + 1) * rows))
            out[c] += int(np.sum(bi - a - 1)) + a.size * right
    return out


_CONTROLLER: Any = None


def _one_blas_thread():
    """A context pinning BLAS to one thread (threadpoolctl's controller, made once: 10 us a
    use instead of a library scan each time)."""
    global _CONTROLLER
    if _CONTROLLER is None:
        from threadpoolctl import ThreadpoolController

        _CONTROLLER = ThreadpoolController()
    return _CONTROLLER.limit(limits=1, user_api="blas")


def _all_pairs(Xa, Ya, levels, thr):
    """Statistics of every pair in one fused pass (a second only if the sample's brackets
    missed, which the bracket width makes very unlikely). BLAS is pinned to one thread: csuper
    parallelises the reduction itself, and BLAS threads on top made the pass 1.8-3.3x slower on
    a shared 2-core machine (benchmarks/results_jl.md)."""
    with _one_blas_thread():
        return _all_pairs_pinned(Xa, Ya, levels, thr)


def _all_pairs_pinned(Xa, Ya, levels, thr):
    N = Xa.shape[0]
    n_pairs = N * (N - 1) // 2
    Xs, kx = _power_of_two_scaled(Xa)
    Ys, ky = _power_of_two_scaled(Ya)
    nx, ny = np.empty(N), np.empty(N)
    K.sq_norms(Xs, nx)
    K.sq_norms(Ys, ny)
    budget = max(_MIN_COLLECT, 32 * N)
    pairs = _chunk_pairs(N)
    if not levels:
        edges = np.empty(0)  # statistics only
    elif n_pairs <= budget:
        edges = np.array([0.0, np.inf])  # keep every value: exact in one pass
    else:
        sampled = _sample_intervals(Xa, Ya, levels, N, n_pairs, budget)
        edges = np.empty(0) if sampled is None else sampled
    if edges.size == 0:
        capacity = np.zeros(_CHUNKS, dtype=np.int64)
    elif n_pairs <= budget:
        capacity = pairs  # every pair's value: exactly what each chunk sees
    else:  # each chunk's share of the budget: 4 times the values the brackets should hold
        capacity = np.minimum(pairs, budget * pairs // n_pairs + 64)
    histogram = bool(levels) and edges.size == 0  # no brackets: find the ranks' bins first
    check_memory(
        8 * (Xs.size + Ys.size + 2 * min(N, TILE) ** 2 + int(capacity.sum()))
        + 8 * _CHUNKS * (K.N_BINS * histogram + edges.size),
        f"measure_distortion over all {n_pairs} pairs of {N} points",
        "pass n_pairs to measure a random sample of pairs",
    )
    scale = 2 * (ky - kx)
    first = _Pass(Xs, Ys, nx, ny, scale, thr, edges, capacity, histogram)
    stats = first.stats
    n_valid = int(stats[:, K.N_VALID].sum())
    qs = None
    if levels and n_valid:
        qs = first.quantiles(levels, n_valid) if edges.size else None
        if qs is None:  # the ranks' histogram bins, then their values (capacities exact)
            counted = (
                first
                if histogram
                else _Pass(Xs, Ys, nx, ny, scale, thr, np.empty(0), capacity * 0, True)
            )
            cum = np.cumsum(counted.hist.sum(axis=0))
            ranks = _ranks(levels, n_valid)
            keys = sorted({int(np.searchsorted(cum, r, side="right")) for r in ranks})
            edges = _merge([_bin_interval(k) for k in keys])
            per_chunk = counted.hist[:, keys].sum(axis=1)
            check_memory(
                8 * int(per_chunk.sum()),
                f"measure_distortion's quantiles over {n_pairs} pairs (the values of the "
                f"{len(keys)} histogram bins holding the requested ranks)",
                "pass n_pairs to measure a random sample of pairs",
            )
            last = _Pass(Xs, Ys, nx, ny, scale, thr, edges, per_chunk)
            qs = last.quantiles(levels, n_valid)
            if qs is None:  # pragma: no cover - exact bins and capacities cannot miss
                raise RuntimeError("measure_distortion: the exact-bin pass missed a quantile.")
    elif levels:
        qs = np.full(len(levels), np.nan)
    else:
        qs = np.empty(0)
    return (
        float(stats[:, K.MAX_ABS].max()),
        float(stats[:, K.MAX_EXPANSION].max()),
        float(stats[:, K.MAX_CONTRACTION].max()),
        n_valid,
        int(stats[:, K.N_SKIPPED].sum()),
        int(stats[:, K.N_ABOVE].sum()),
        float(stats[:, K.TOTAL].sum()),
        qs,
    )


def measure_distortion(
    X: Any,
    Y: Any,
    *,
    quantiles: Sequence[float] = (0.5, 0.9, 0.99),
    n_pairs: int | None = None,
    eps: float | None = None,
    rng=None,
) -> Distortion:
    """Distortion ``| ||f(x_i) - f(x_j)||^2 / ||x_i - x_j||^2 - 1 |`` of a map over pairs of points.

    Parameters
    ----------
    X : array_like, shape (N, n)
        Points (rows), N >= 2.
    Y : array_like of shape (N, m), or a JLTransform
        Their images f(x_i) (rows); a :class:`~csuper.jl.JLTransform` is applied to X.
    quantiles : sequence of float in [0, 1]
        Quantile levels to report (numpy's default linear interpolation); may be empty.
    n_pairs : int or None
        ``None`` measures all N(N-1)/2 pairs in one fused pass (below), with exact quantiles.
        An int measures that many pairs drawn uniformly with replacement (for large N).
    eps : float >= 0 or None
        If given, count the pairs whose distortion exceeds eps.
    rng : None, int or Generator
        Randomness of the pair sample (unused when all pairs are measured).

    Returns
    -------
    Distortion

    Raises
    ------
    ValueError
        For non-finite or mismatched inputs, fewer than two distinct points, or work beyond the
        memory budget (a :class:`~csuper._validation.MemoryBudgetError`).

    Notes
    -----
    All pairs, one fused pass: the pairs come in tiles of :data:`TILE` x :data:`TILE` points.
    For each tile BLAS forms the Gram blocks ``<x_i, x_j>`` and ``<y_i, y_j>`` (csuper's
    crash-free :func:`~csuper.geometry.gram_matrix` product) and a numba kernel reads each pair's
    squared distances from them, ``|x_i - x_j|^2 = |x_i|^2 + |x_j|^2 - 2 <x_i, x_j>``, and
    updates every statistic at once: largest distortion, expansion and contraction, the sum for
    the mean, the count above eps, and the values the requested quantiles need. Memory is
    O(N (n + m)) for the inputs plus a constant (two tiles and at most max(2**21, 32 N) collected
    values), never the N(N-1)/2 distances.

    Accuracy: the Gram formula cancels for close points, so a pair whose rounding error bound
    ``2 (n + 4) u (|x_i|^2 + |x_j|^2)`` (u = 2^-53) exceeds 1e-10 times its squared distance is
    recomputed from coordinate differences; every squared distance, hence every ratio, is
    accurate to about 1e-10 relative (in practice to a few ulps), for every geometry. Inputs are
    scaled by exact powers of two first, so no square overflows or underflows.

    Exact quantiles in one pass: with at most max(2**21, 32 N) pairs every value is kept and the
    needed order statistics are selected (``np.partition``). Beyond, a sample of pairs locates
    each quantile to within 4.5 standard errors, the pass keeps only the values in those
    brackets and counts the values below each, and the order statistics are read from the
    bracket; the values do not depend on the sample. If a bracket missed (probability below
    about 1e-5 per quantile), or the brackets would not fit, the values of the histogram bins
    holding the needed ranks are collected in further passes: still exact.

    Parallelism and determinism: the kernel runs a fixed number of row chunks per tile in
    parallel (numba ``prange``; from 2**20 pairs on), each accumulating into its own slot,
    combined in chunk order, so the result does not depend on the number of threads. BLAS runs
    one thread during the pass (its threads on top of csuper's made the pass 1.8-3.3x slower on
    a shared 2-core machine; see benchmarks/results_jl.md). Pairs with
    x_i == x_j have no ratio; they are counted in ``n_skipped`` with a warning. Cost
    O(N^2 (n + m)) flops, mostly in BLAS.

    Examples
    --------
    >>> from csuper.jl import GaussianJL
    >>> X = np.random.default_rng(0).standard_normal((50, 400))
    >>> d = measure_distortion(X, GaussianJL(400, 200, rng=1))
    >>> d.n_pairs, round(d.max, 3), d.within(0.5)
    (1225, 0.287, True)
    """
    Xa = check_array(X, "X", ndim=2)
    if Xa.shape[0] < 2:
        raise ValueError(f"X must hold at least 2 points (rows); got shape {Xa.shape}.")
    if isinstance(Y, JLTransform):
        Ya = Y.apply(Xa)
    else:
        Ya = check_array(Y, "Y", ndim=2)
        if Ya.shape[0] != Xa.shape[0]:
            raise ValueError(
                f"Y must have one row per point of X ({Xa.shape[0]}); got shape {Ya.shape}."
            )
    levels = tuple(
        float(q)
        for q in check_array(
            quantiles, "quantiles", ndim=(0, 1), low=0.0, high=1.0, min_size=0
        ).reshape(-1)
    )
    thr = np.inf if eps is None else check_real(eps, "eps", low=0.0)
    N = Xa.shape[0]

    if n_pairs is None:
        max_abs, max_exp, max_con, n_valid, n_skip, n_above, total, qs = _all_pairs(
            Xa, Ya, levels, thr
        )
        exhaustive = True
    else:
        k = check_int(n_pairs, "n_pairs", low=1)
        check_memory(
            40 * k,
            f"measure_distortion over a sample of n_pairs={k} pairs",
            "pass a smaller n_pairs",
        )
        gen = check_rng(rng)
        I = gen.integers(0, N, size=k)
        J = gen.integers(0, N - 1, size=k)
        J = J + (J >= I)
        r = K.pairs_ratios(Xa, Ya, I.astype(np.int64), J.astype(np.int64))
        valid = r >= 0
        n_skip, n_valid = int(k - valid.sum()), int(valid.sum())
        r = r[valid]
        d = np.abs(r - 1.0)
        max_abs = float(d.max()) if n_valid else 0.0
        max_exp = float(max(0.0, (r - 1.0).max())) if n_valid else 0.0
        max_con = float(max(0.0, (1.0 - r).max())) if n_valid else 0.0
        n_above = int(np.sum(d > thr))
        total = float(d.sum())
        qs = np.quantile(d, levels) if n_valid and levels else np.full(len(levels), np.nan)
        exhaustive = False
    if n_skip:
        warnings.warn(
            f"{n_skip} pair(s) of identical points were skipped (no distance ratio).",
            RuntimeWarning,
            stacklevel=2,
        )
    if n_valid == 0:
        raise ValueError(
            "X must contain at least two distinct points; every pair measured is a "
            "pair of identical points."
        )
    return Distortion(
        max=float(max_abs),
        max_expansion=float(max_exp),
        max_contraction=float(max_con),
        mean=float(total) / n_valid,
        quantile_levels=levels,
        quantiles=np.asarray(qs, dtype=float),
        n_pairs=int(n_valid),
        n_skipped=int(n_skip),
        n_above=None if eps is None else int(n_above),
        eps=None if eps is None else thr,
        exhaustive=exhaustive,
    )
