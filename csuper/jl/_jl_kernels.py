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


def _csr_chunks(indptr, n_chunks):
    """Row boundaries of ``n_chunks`` contiguous chunks of a CSR matrix with about equal nnz."""
    N = indptr.shape[0] - 1
    bounds = np.empty(n_chunks + 1, dtype=np.int64)
    bounds[0] = 0
    total = indptr[N]
    row = 0
    for c in range(1, n_chunks):
        target = (total * c) // n_chunks
        while row < N and indptr[row] < target:
            row += 1
        bounds[c] = row
    bounds[n_chunks] = N
    return bounds


@njit(cache=True)
def csr_csc_capacity(x_indptr, x_indices, a_indptr, m, capacity):
    """``capacity[b] = min(m, sum over the stored j of row b of X of nnz(column j of A))``: an
    upper bound on the nonzeros of row b of Y = X A^T, in O(nnz(X))."""
    for b in range(x_indptr.shape[0] - 1):
        total = 0
        for p in range(x_indptr[b], x_indptr[b + 1]):
            j = x_indices[p]
            total += a_indptr[j + 1] - a_indptr[j]
        capacity[b] = min(m, total)


def _csr_csc_fill(
    x_indptr,
    x_indices,
    x_data,
    a_indptr,
    a_indices,
    a_data,
    m,
    bounds,
    region,
    y_indptr,
    y_indices,
    y_data,
    region_end,
):
    """The sparse product Y = X A^T (X in CSR, shape (N, n); A in CSC, shape (m, n)) in CSR
    form, column indices sorted, exact zeros dropped (as scipy's sparse product does).

    Rows are split into chunks (``bounds``), one per parallel iteration, each with its own dense
    accumulator (Gustavson's algorithm). Chunk c writes its rows one after the other from
    ``region[c]`` (a capacity computed from :func:`csr_csc_capacity`) and records where they
    end in ``region_end[c]``; ``y_indptr[b]`` is where row b starts. A row with more than m/8
    possible columns is read back by scanning the accumulator in column order; a sparser row
    records the columns it touches and sorts them. Each entry Y[b, r] = sum_j X[b, j] A[r, j]
    is summed over the row's stored entries in order of increasing j (X canonical: sorted
    indices, no duplicates): the order of the dense kernel :func:`_csc_apply`, whose extra terms
    are exact zeros, so the nonzero values are bit-identical.
    """
    n_chunks = bounds.shape[0] - 1
    for c in prange(n_chunks):
        acc = np.zeros(m, dtype=y_data.dtype)
        marker = np.full(m, -1, dtype=np.int64)
        touched = np.empty(m, dtype=np.int64)
        out = region[c]
        for b in range(bounds[c], bounds[c + 1]):
            y_indptr[b] = out
            possible = 0
            for p in range(x_indptr[b], x_indptr[b + 1]):
                j = x_indices[p]
                possible += a_indptr[j + 1] - a_indptr[j]
            if 8 * possible > m:
                # dense row: accumulate, then scan every column (an exact zero is dropped, and
                # its slot may keep -0.0, which leaves the next row's nonzero sums unchanged)
                for p in range(x_indptr[b], x_indptr[b + 1]):
                    j = x_indices[p]
                    v = x_data[p]
                    for q in range(a_indptr[j], a_indptr[j + 1]):
                        acc[a_indices[q]] += a_data[q] * v
                for r in range(m):
                    # branch-free: every column is written at `out`, which moves on only past a
                    # nonzero (a branch on the data would mispredict at half density); the
                    # last write can land one slot past the row, which the caller's one-slot
                    # gap after each chunk's region absorbs
                    v = acc[r]
                    y_indices[out] = r
                    y_data[out] = v
                    out += v != 0.0
                    acc[r] = 0.0
            else:
                t = 0
                for p in range(x_indptr[b], x_indptr[b + 1]):
                    j = x_indices[p]
                    v = x_data[p]
                    for q in range(a_indptr[j], a_indptr[j + 1]):
                        r = a_indices[q]
                        if marker[r] != b:
                            marker[r] = b
                            touched[t] = r
                            t += 1
                        acc[r] += a_data[q] * v
                cols = np.sort(touched[:t])
                for i in range(t):
                    r = cols[i]
                    if acc[r] != 0.0:
                        y_indices[out] = r
                        y_data[out] = acc[r]
                        out += 1
                    acc[r] = 0.0
        region_end[c] = out


# Each batch kernel in a serial and a parallel (prange over rows) build; rows are independent, so
# both give bit-identical results. Callers pick the parallel build only for large batches: waking
# the thread pool costs more than small jobs (and much more on a loaded machine).
def _renamed(fn, suffix):
    """A copy of ``fn`` under another qualified name, so that numba caches its builds apart."""
    g = types.FunctionType(fn.__code__, fn.__globals__, fn.__name__ + suffix, fn.__defaults__)
    g.__qualname__ = fn.__qualname__ + suffix
    g.__doc__ = fn.__doc__
    return g


def serial_and_parallel(fn):
    """The serial (``@njit(cache=True)``) and parallel (``parallel=True``) builds of ``fn``."""
    return (
        njit(cache=True)(_renamed(fn, "_serial")),
        njit(parallel=True, cache=True)(_renamed(fn, "_parallel")),
    )


fwht_rows, fwht_rows_parallel = serial_and_parallel(_fwht_rows)
srht_apply, srht_apply_parallel = serial_and_parallel(_srht_apply)
csc_apply, csc_apply_parallel = serial_and_parallel(_csc_apply)
csr_chunks = njit(cache=True)(_csr_chunks)
csr_csc_fill, csr_csc_fill_parallel = serial_and_parallel(_csr_csc_fill)

PARALLEL_MIN_WORK = 20_000_000
"""Operations (rows x per-row cost) from which the parallel builds are used."""
