"""Private numba kernels for :mod:`csuper.geometry.overlaps`.

Arrays in, arrays out, no validation. All kernels are serial (``@njit(cache=True)``); the only
parallelism of the streamed pass is the multi-threaded BLAS product of each tile, which the
caller (:func:`csuper.geometry.overlaps._streamed_pass`) performs with numpy. Every output
array is allocated by the caller so that the pass's memory is visible to ``tracemalloc``.

Notation: ``Ut`` has shape (n, m); row i is the unit direction u_i = w_i / |w_i| (a zero row for a
zero column of W). A tile is ``H = Ut[I] @ Ut[J].T`` for row blocks I and J, so
``H[a, b] = <u_{I0+a}, u_{J0+b}>``. ``r2[i] = |w_i|^2``.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def column_sq_norms(W, scale, out, nonzero):
    """Write ``out[j] = sum_i (scale * W[i, j])^2`` accumulated in float64 and ``nonzero[j]`` =
    whether column j has a nonzero entry (W C-contiguous, shape (m, n); ``scale`` a power of 2,
    so that the scaling is exact)."""
    m, n = W.shape
    for j in range(n):
        out[j] = 0.0
        nonzero[j] = False
    for i in range(m):
        for j in range(n):
            x = np.float64(W[i, j])
            if x != 0.0:
                nonzero[j] = True
                x *= scale
                out[j] += x * x


@njit(cache=True)
def normalized_transpose(W, scale, r2, out):
    """Write ``out[j, :] = scale * W[:, j] / sqrt(r2[j])`` (0 where ``r2[j] == 0``) in float64.

    ``out`` has shape (n, m) and W's dtype (a float32 frame is normalised in float64 and then
    rounded once to float32).
    """
    m, n = W.shape
    for j in range(n):
        inv = scale / np.sqrt(r2[j]) if r2[j] > 0.0 else 0.0
        for i in range(m):
            out[j, i] = np.float64(W[i, j]) * inv


@njit(cache=True)
def reduce_tile(H, r2, row0, col0, diagonal, s_unit, s_weighted, best, best_pair):
    """Fold one tile of normalised overlaps into the running accumulators (in place).

    For every pair (i, j) with i = row0 + a, j = col0 + b covered by the tile (only b > a on a
    diagonal tile, so every unordered pair i != j is visited exactly once over the whole pass),
    with h = H[a, b] promoted to float64:

    - ``s_unit[i] += h^2`` and ``s_unit[j] += h^2``  (sum over j != i of <u_i, u_j>^2),
    - ``s_weighted[i] += h^2 r2[j]`` and ``s_weighted[j] += h^2 r2[i]``
      (sum over j != i of <u_i, w_j>^2, the interference of feature i),
    - ``best[0]`` = running max of |h|, ``best_pair`` = the first pair (i, j) attaining it.
      The caller initialises ``best[0] = -1`` so that the first visited pair sets ``best_pair``.
    """
    nr, nc = H.shape
    for a in range(nr):
        i = row0 + a
        r2i = r2[i]
        start = a + 1 if diagonal else 0
        acc_u = 0.0
        acc_w = 0.0
        row_max = -1.0  # stays below best (initialised to -1) for an empty row
        for b in range(start, nc):
            h = np.float64(H[a, b])
            h2 = h * h
            acc_u += h2
            acc_w += h2 * r2[col0 + b]
            s_unit[col0 + b] += h2
            s_weighted[col0 + b] += h2 * r2i
            ah = abs(h)
            if ah > row_max:
                row_max = ah
        s_unit[i] += acc_u
        s_weighted[i] += acc_w
        if row_max > best[0]:
            best[0] = row_max
            for b in range(start, nc):
                if abs(np.float64(H[a, b])) == row_max:
                    best_pair[0] = i
                    best_pair[1] = col0 + b
                    break


@njit(cache=True)
def finish_statistics(r2, s_unit, s_weighted, dimensionality):
    """Write D_i = r2_i / (r2_i + s_weighted_i) (0 for a zero column); return (frame potential,
    sum of s_unit).

    The self term <u_i, w_i>^2 = |w_i|^2 is used exactly (not through a rounded <u_i, u_i>), which
    keeps D_i <= 1 in floating point. Frame potential = sum_i r2_i^2 + sum_i r2_i s_weighted_i.
    """
    n = r2.shape[0]
    fp = 0.0
    total_unit = 0.0
    for i in range(n):
        ri = r2[i]
        if ri > 0.0:
            dimensionality[i] = ri / (ri + s_weighted[i])
        else:
            dimensionality[i] = 0.0
        fp += ri * ri + ri * s_weighted[i]
        total_unit += s_unit[i]
    return fp, total_unit
