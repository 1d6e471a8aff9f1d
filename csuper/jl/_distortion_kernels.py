"""Private numba kernels of :func:`csuper.jl.measure_distortion`: arrays in, arrays out.

The pass over all pairs is *fused*: one visit of a pair updates every statistic at once (largest
distortion, expansion and contraction, the sum for the mean, the count above eps, a histogram of
the distortions, and the collection of the values that the requested quantiles need). Pairs
come in tiles: the squared distances of a tile are read from two BLAS Gram blocks (computed by
the caller) through ``|x_i - x_j|^2 = |x_i|^2 + |x_j|^2 - 2 <x_i, x_j>``, and every pair for
which that shortcut could lose accuracy (its rounding error bound exceeds ``TOLERANCE`` relative
to the distance) is recomputed from coordinate differences, so each squared distance is accurate
to about 1e-10 relative whatever the geometry.

:func:`distortion_tile` has a serial and a parallel build (``parallel=True``: ``prange`` over a
fixed number of row chunks of the tile). Each chunk accumulates into its own row of the
statistics arrays in a fixed order, so the result does not depend on the number of threads; the
caller combines the chunks in chunk order. With ``NUMBA_DISABLE_JIT=1`` everything runs as plain
Python.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from csuper.jl._jl_kernels import serial_and_parallel

#: Relative accuracy demanded of each squared distance: a Gram-based value whose error bound
#: exceeds TOLERANCE times the value is recomputed from coordinate differences.
TOLERANCE = 1e-10

#: Statistics accumulated per chunk (columns of the ``stats`` array).
MAX_ABS, MAX_EXPANSION, MAX_CONTRACTION, TOTAL, N_VALID, N_SKIPPED, N_ABOVE = range(7)
N_STATS = 7

#: The histogram key of a distortion d >= 0 is the top bits of its float64 representation,
#: ``bits(d) >> KEY_SHIFT``: monotone in d, 11 exponent bits and 5 mantissa bits (32 bins per
#: binade), 0 for d = 0 and the largest key for inf.
KEY_SHIFT = 47
N_BINS = 1 << (63 - KEY_SHIFT)


@njit(cache=True)
def sq_norms(A, out):
    """out[i] = sum_k A[i, k]^2, summed in order of k (A C-contiguous float64)."""
    for i in range(A.shape[0]):
        s = 0.0
        for k in range(A.shape[1]):
            s += A[i, k] * A[i, k]
        out[i] = s


@njit(cache=True)
def sq_distance(A, i, j):
    """|a_i - a_j|^2 from coordinate differences, summed in order of k, in float64."""
    s = 0.0
    for k in range(A.shape[1]):
        t = np.float64(A[i, k]) - np.float64(A[j, k])
        s += t * t
    return s


@njit(cache=True)
def pair_ratio(X, Y, i, j):
    """||y_i - y_j||^2 / ||x_i - x_j||^2 from coordinate differences, or -1.0 when x_i == x_j."""
    dx = sq_distance(X, i, j)
    if dx == 0.0:
        return -1.0
    return sq_distance(Y, i, j) / dx


@njit(cache=True)
def pairs_ratios(X, Y, I, J):
    """Ratios r for the listed pairs (I[k], J[k]); -1.0 marks a skipped (zero-distance) pair."""
    out = np.empty(I.shape[0], dtype=np.float64)
    for k in range(I.shape[0]):
        out[k] = pair_ratio(X, Y, I[k], J[k])
    return out


def _distortion_tile(
    n_rows,
    n_cols,
    GX,
    GY,
    X,
    Y,
    nx,
    ny,
    row0,
    col0,
    diagonal,
    scale,
    eps,
    tol_x,
    tol_y,
    edges,
    chunk_rows,
    stats,
    below,
    hist,
    values,
    fill,
):
    """Fold the pairs of one tile into the per-chunk accumulators (in place).

    Pairs (i, j) = (row0 + a, col0 + b) for every a < n_rows, b < n_cols of the tile with
    j > i (on a diagonal tile, only b > a). ``GX[a, b] = <x_i, x_j>`` and ``GY`` likewise (X
    and Y scaled by powers of two, ``nx``, ``ny`` their squared row norms); the ratio of a pair
    is ``r = ldexp(dy / dx, scale)``. A Gram-based squared distance d = |x_i|^2 + |x_j|^2 - 2 g
    is used when ``tol * (|x_i|^2 + |x_j|^2) <= d`` (its rounding error is then below TOLERANCE
    relative), else it is recomputed from X (or Y). Pairs with x_i == x_j are counted as
    skipped.

    ``edges`` holds closed intervals [edges[0], edges[1]], [edges[2], edges[3]], ... (sorted,
    disjoint; empty: nothing is collected). Chunk c of the tile (rows ``c * chunk_rows`` to
    ``(c + 1) * chunk_rows``) updates ``stats[c]`` (the columns named at the top of this
    module), ``below[c, t]`` (count of distortions below the lower end of interval t),
    ``hist[c]`` (counts per key, see :data:`KEY_SHIFT`; only if ``hist`` has N_BINS columns)
    and appends the distortions that fall in an interval to ``values[c]`` (``fill[c]`` counts
    them; values beyond the row's capacity are counted, not stored). A chunk keeps its running
    statistics in local variables and writes them back once (no false sharing between
    threads); the interval tests are branch-free (consecutive distortions are in random order,
    and data-dependent branches or counters indexed by the data would stall the pipeline).
    """
    n_chunks = stats.shape[0]
    cap = values.shape[1]
    collect = edges.shape[0] > 0
    histogram = hist.shape[1] == N_BINS
    # ldexp(q, scale) is the product q * 2**scale (exact, IEEE rounding at the extremes alike)
    # whenever 2**scale is a normal float; only extreme scalings of X against Y need ldexp
    exact = abs(scale) <= 1000
    factor = math.ldexp(1.0, scale) if exact else 1.0
    for c in prange(n_chunks):
        box = np.empty(1, dtype=np.float64)
        bits = box.view(np.int64)
        max_abs = stats[c, MAX_ABS]
        max_exp = stats[c, MAX_EXPANSION]
        max_con = stats[c, MAX_CONTRACTION]
        total = stats[c, TOTAL]
        n_valid = stats[c, N_VALID]
        n_skip = stats[c, N_SKIPPED]
        n_above = stats[c, N_ABOVE]
        n_fill = fill[c]
        n_below = below[c].copy()  # local: chunks never write to a shared cache line
        for a in range(c * chunk_rows, min(n_rows, (c + 1) * chunk_rows)):
            i = row0 + a
            for b in range(a + 1 if diagonal else 0, n_cols):
                j = col0 + b
                sx = nx[i] + nx[j]
                dx = sx - 2.0 * GX[a, b]
                if not tol_x * sx <= dx:
                    dx = sq_distance(X, i, j)
                if dx == 0.0:
                    n_skip += 1.0
                    continue
                sy = ny[i] + ny[j]
                dy = sy - 2.0 * GY[a, b]
                if not tol_y * sy <= dy:
                    dy = sq_distance(Y, i, j)
                r = dy / dx * factor if exact else math.ldexp(dy / dx, scale)
                d = abs(r - 1.0)
                n_valid += 1.0
                total += d
                max_abs = max(max_abs, d)
                max_exp = max(max_exp, r - 1.0)
                max_con = max(max_con, 1.0 - r)
                if d > eps:
                    n_above += 1.0
                if histogram:
                    box[0] = d
                    hist[c, bits[0] >> KEY_SHIFT] += 1
                if collect:
                    inside = False
                    for t in range(n_below.shape[0]):
                        low = d < edges[2 * t]
                        n_below[t] += low
                        inside |= (not low) & (d <= edges[2 * t + 1])
                    if inside:
                        if n_fill < cap:
                            values[c, n_fill] = d
                        n_fill += 1
        stats[c, MAX_ABS] = max_abs
        stats[c, MAX_EXPANSION] = max_exp
        stats[c, MAX_CONTRACTION] = max_con
        stats[c, TOTAL] = total
        stats[c, N_VALID] = n_valid
        stats[c, N_SKIPPED] = n_skip
        stats[c, N_ABOVE] = n_above
        fill[c] = n_fill
        below[c] = n_below


distortion_tile, distortion_tile_parallel = serial_and_parallel(_distortion_tile)
