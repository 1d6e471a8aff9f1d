"""Private numba kernels of csuper.jl: arrays in, arrays out, no validation.

Parallel kernels (``parallel=True``) loop with ``prange`` over independent rows of a batch: each
output row is written by one thread with a fixed order of operations, so results are
deterministic whatever the number of threads. With ``NUMBA_DISABLE_JIT=1`` everything runs as
plain Python (``prange`` is ``range``).
"""

from __future__ import annotations

import types

import numpy as np
from numba import njit, prange

# ----------------------------------------------------------------------------------------------
# Fast Walsh–Hadamard transform
# ----------------------------------------------------------------------------------------------


@njit(cache=True)
def _fwht_row(row):
    """In-place unnormalised Walsh–Hadamard transform of a 1-D array of power-of-two length.

    Sylvester (natural) ordering, so that the result equals ``scipy.linalg.hadamard(L) @ row``.
    """
    length = row.shape[0]
    h = 1
    while h < length:
        step = 2 * h
        for start in range(0, length, step):
            for j in range(start, start + h):
                a = row[j]
                b = row[j + h]
                row[j] = a + b
                row[j + h] = a - b
        h = step


def _fwht_rows(X):
    """In-place unnormalised FWHT of every row of a C-contiguous 2-D array."""
    for i in prange(X.shape[0]):
        _fwht_row(X[i])


BLOCK = 8
"""Rows of a batch processed together: the block is transposed so that each butterfly or
scatter-add acts on BLOCK contiguous values (one cache line of float64, vectorised by LLVM)."""


@njit(cache=True)
def _load_block(X, b0, nr, weights, buf):
    """buf[j, bb] = X[b0 + bb, j] * weights[j] for the nr rows of the block (buf is (L, BLOCK))."""
    for bb in range(nr):
        for j in range(X.shape[1]):
            buf[j, bb] = X[b0 + bb, j] * weights[j]


CHUNK = 256
"""Rows of the transposed SRHT buffer (CHUNK * BLOCK float64 = 16 KiB) transformed in cache."""


@njit(cache=True)
def _butterflies(buf, lo, hi, h_from, h_to):
    """Walsh–Hadamard stages with half-widths h_from, 2 h_from, ... < h_to on rows lo:hi of buf."""
    h = h_from
    while h < h_to:
        step = 2 * h
        for start in range(lo, hi, step):
            for j in range(start, start + h):
                for bb in range(buf.shape[1]):
                    a = buf[j, bb]
                    c = buf[j + h, bb]
                    buf[j, bb] = a + c
                    buf[j + h, bb] = a - c
        h = step


def _srht_apply(X, signs, rows, n_pad, scale, out):
    """out[b, r] = scale * (H D [x_b, 0])[rows[r]] for every row x_b of X.

    X: (N, n); signs: (n,) of +-1; rows: (m,) sampled indices in [0, n_pad); out: (N, m).
    Rows are transformed BLOCK at a time in a transposed (n_pad, BLOCK) buffer; each output
    entry sees the same additions in the same order as :func:`_fwht_row` on its own row.
    """
    N, _n = X.shape
    m = rows.shape[0]
    n_blocks = (N + BLOCK - 1) // BLOCK
    for ib in prange(n_blocks):
        b0 = ib * BLOCK
        nr = min(BLOCK, N - b0)
        buf = np.zeros((n_pad, BLOCK), dtype=out.dtype)
        _load_block(X, b0, nr, signs, buf)
        # stages with butterflies inside a chunk of CHUNK rows run chunk by chunk (in L1 cache),
        # the wider stages over the whole buffer; every element sees the same operations.
        chunk = min(n_pad, CHUNK)
        for c0 in range(0, n_pad, chunk):
            _butterflies(buf, c0, c0 + chunk, 1, chunk)
        _butterflies(buf, 0, n_pad, chunk, n_pad)
        for bb in range(nr):
            for r in range(m):
                out[b0 + bb, r] = buf[rows[r], bb] * scale


# ----------------------------------------------------------------------------------------------
# Sparse maps stored by columns (CSC)
# ----------------------------------------------------------------------------------------------


def _csc_apply(X, indptr, indices, data, ones, out):
    """out[b] = A x_b for A in CSC form (indptr, indices, data) of shape (m, n).

    X: (N, n); ones: (n,) of 1.0; out: (N, m). Rows of X are taken BLOCK at a time, transposed, so
    that each nonzero
    of A does one BLOCK-wide multiply-add into an L1-resident (m, BLOCK) accumulator. Cost
    O(nnz(A)) per row of X; each output entry sums its terms in order of increasing column.
    """
    N, n = X.shape
    m = out.shape[1]
    n_blocks = (N + BLOCK - 1) // BLOCK
    for ib in prange(n_blocks):
        b0 = ib * BLOCK
        nr = min(BLOCK, N - b0)
        xt = np.zeros((n, BLOCK), dtype=out.dtype)
        _load_block(X, b0, nr, ones, xt)
        acc = np.zeros((m, BLOCK), dtype=out.dtype)
        for j in range(n):
            for k in range(indptr[j], indptr[j + 1]):
                r = indices[k]
                v = data[k]
                for bb in range(BLOCK):
                    acc[r, bb] += v * xt[j, bb]
        for bb in range(nr):
            for r in range(m):
                out[b0 + bb, r] = acc[r, bb]


# Each batch kernel in a serial and a parallel (prange over rows) build; rows are independent, so
# both give bit-identical results. Callers pick the parallel build only for large batches: waking
# the thread pool costs more than small jobs (and much more on a loaded machine).
def _renamed(fn, suffix):
    """A copy of ``fn`` under another qualified name, so that numba caches its builds apart."""
    g = types.FunctionType(fn.__code__, fn.__globals__, fn.__name__ + suffix, fn.__defaults__)
    g.__qualname__ = fn.__qualname__ + suffix
    g.__doc__ = fn.__doc__
    return g


fwht_rows = njit(cache=True)(_renamed(_fwht_rows, "_serial"))
fwht_rows_parallel = njit(parallel=True, cache=True)(_renamed(_fwht_rows, "_parallel"))
srht_apply = njit(cache=True)(_renamed(_srht_apply, "_serial"))
srht_apply_parallel = njit(parallel=True, cache=True)(_renamed(_srht_apply, "_parallel"))
csc_apply = njit(cache=True)(_renamed(_csc_apply, "_serial"))
csc_apply_parallel = njit(parallel=True, cache=True)(_renamed(_csc_apply, "_parallel"))

PARALLEL_MIN_WORK = 20_000_000
"""Operations (rows x per-row cost) from which the parallel builds are used."""


# ----------------------------------------------------------------------------------------------
# Pairwise distortion, streamed over pairs (never stores the N x N matrix)
# ----------------------------------------------------------------------------------------------


@njit(cache=True)
def _pair_ratio(X, Y, i, j):
    """||y_i - y_j||^2 / ||x_i - x_j||^2, or -1.0 when x_i == x_j (accumulated in float64)."""
    dx = 0.0
    for k in range(X.shape[1]):
        t = np.float64(X[i, k]) - np.float64(X[j, k])
        dx += t * t
    if dx == 0.0:
        return -1.0
    dy = 0.0
    for k in range(Y.shape[1]):
        t = np.float64(Y[i, k]) - np.float64(Y[j, k])
        dy += t * t
    return dy / dx


@njit(cache=True)
def _bin_of(d, top, n_bins):
    if top <= 0.0:
        return 0
    b = int(d / top * n_bins)
    if b >= n_bins:
        b = n_bins - 1
    return b


@njit(cache=True)
def pairs_summary(X, Y, eps):
    """Pass 1 over all pairs i < j.

    Returns (max_abs, max_expansion, max_contraction, n_valid, n_skipped, n_above, sum_abs) where
    the distortion of a pair is |r - 1|, r the ratio of squared distances; pairs with
    x_i == x_j are skipped; n_above counts pairs with |r - 1| > eps.
    """
    N = X.shape[0]
    max_abs = 0.0
    max_exp = 0.0
    max_con = 0.0
    n_valid = 0
    n_skip = 0
    n_above = 0
    total = 0.0
    for i in range(N):
        for j in range(i + 1, N):
            r = _pair_ratio(X, Y, i, j)
            if r < 0.0:
                n_skip += 1
                continue
            n_valid += 1
            d = abs(r - 1.0)
            total += d
            if d > max_abs:
                max_abs = d
            if r - 1.0 > max_exp:
                max_exp = r - 1.0
            if 1.0 - r > max_con:
                max_con = 1.0 - r
            if d > eps:
                n_above += 1
    return max_abs, max_exp, max_con, n_valid, n_skip, n_above, total


@njit(cache=True)
def pairs_histogram(X, Y, top, n_bins):
    """Pass 2: counts of |r - 1| in n_bins equal bins of [0, top] over all valid pairs."""
    N = X.shape[0]
    counts = np.zeros(n_bins, dtype=np.int64)
    for i in range(N):
        for j in range(i + 1, N):
            r = _pair_ratio(X, Y, i, j)
            if r >= 0.0:
                counts[_bin_of(abs(r - 1.0), top, n_bins)] += 1
    return counts


@njit(cache=True)
def pairs_collect(X, Y, top, n_bins, wanted, n_out):
    """Pass 3: the values |r - 1| of all valid pairs whose bin is flagged in ``wanted``."""
    N = X.shape[0]
    out = np.empty(n_out, dtype=np.float64)
    c = 0
    for i in range(N):
        for j in range(i + 1, N):
            r = _pair_ratio(X, Y, i, j)
            if r >= 0.0:
                d = abs(r - 1.0)
                if wanted[_bin_of(d, top, n_bins)]:
                    out[c] = d
                    c += 1
    return out[:c]


@njit(cache=True)
def pairs_ratios(X, Y, I, J):
    """Ratios r for the listed pairs (I[k], J[k]); -1.0 marks a skipped (zero-distance) pair."""
    out = np.empty(I.shape[0], dtype=np.float64)
    for k in range(I.shape[0]):
        out[k] = _pair_ratio(X, Y, I[k], J[k])
    return out
