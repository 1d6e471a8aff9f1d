"""Private numba kernels for :mod:`csuper.geometry.laws` (arrays in, arrays out, no validation).

Serial kernels (``cache=True``); they also run as plain Python under ``NUMBA_DISABLE_JIT=1``.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def normalize_rows(X):
    """Scale every row of the 2-D array X to unit Euclidean norm in place (rows nonzero)."""
    n, m = X.shape
    for i in range(n):
        s = 0.0
        for j in range(m):
            s += X[i, j] * X[i, j]
        inv = 1.0 / np.sqrt(s)
        for j in range(m):
            X[i, j] *= inv


@njit(cache=True)
def max_abs_offdiag_inner(X, block):
    """max_{i < j} |<x_i, x_j>| over the rows of X (shape (n, m), n >= 2), streamed in blocks.

    The Gram matrix is never formed: rows are compared block against block (``block`` rows at a
    time, products through BLAS), so memory is O(block^2) beyond X itself.
    """
    n = X.shape[0]
    best = 0.0
    for i0 in range(0, n, block):
        i1 = min(i0 + block, n)
        A = np.ascontiguousarray(X[i0:i1])
        for j0 in range(i0, n, block):
            j1 = min(j0 + block, n)
            B = np.ascontiguousarray(X[j0:j1].T)
            G = A @ B
            for a in range(i1 - i0):
                start = a + 1 if j0 == i0 else 0
                for b in range(start, j1 - j0):
                    v = abs(G[a, b])
                    if v > best:
                        best = v
    return best


@njit(cache=True)
def batch_coherence(X, block):
    """Coherence of each of the T point sets X[t] (X of shape (T, n, m)); normalises X in place."""
    T = X.shape[0]
    out = np.empty(T)
    for t in range(T):
        Xt = X[t]
        normalize_rows(Xt)
        out[t] = max_abs_offdiag_inner(Xt, block)
    return out


@njit(cache=True)
def max_abs_block(G, strict_upper):
    """max |G[a, b]| over all entries, or over a < b only if ``strict_upper`` (a Gram block)."""
    best = 0.0
    rows, cols = G.shape
    for a in range(rows):
        start = a + 1 if strict_upper else 0
        for b in range(start, cols):
            v = abs(G[a, b])
            if v > best:
                best = v
    return best
