"""Private numba kernels for greedy sparse recovery (OMP, hard thresholding)."""

from __future__ import annotations

import numpy as np
from numba import njit

from csuper.recovery._triangular_kernels import back_sub


@njit(cache=True)
def omp_column(A, y, kmax, tol, nonnegative, x_out):
    """Orthogonal matching pursuit for one column; returns the number of selected atoms.

    Selects ``argmax |a_i^T r|`` (nonnegative: ``argmax a_i^T r``, stopping when it is <= 0),
    keeps an orthonormal basis Q of the selected columns by modified Gram-Schmidt (twice, for
    stability), and stops after kmax atoms or when ``||r|| <= tol ||y||``. x_out receives the
    least-squares coefficients on the selected support.
    """
    m, n = A.shape
    kmax = min(kmax, m, n)
    Q = np.zeros((m, kmax))
    R = np.zeros((kmax, kmax))
    S = np.empty(kmax, dtype=np.int64)
    chosen = np.zeros(n, dtype=np.bool_)
    r = y.copy()
    ynorm = np.sqrt(np.sum(y * y))
    x_out[:] = 0.0
    k = 0
    while k < kmax and np.sqrt(np.sum(r * r)) > tol * ynorm:
        c = A.T @ r
        best = -1
        bval = 0.0
        for i in range(n):
            if chosen[i]:
                continue
            v = c[i] if nonnegative else abs(c[i])
            if v > bval:
                bval = v
                best = i
        if best < 0:
            break
        q = A[:, best].copy()
        for _ in range(2):
            for j in range(k):
                h = np.sum(Q[:, j] * q)
                R[j, k] += h
                q -= h * Q[:, j]
        nq = np.sqrt(np.sum(q * q))
        if nq <= 1e-12 * np.sqrt(np.sum(A[:, best] ** 2)):
            chosen[best] = True  # linearly dependent atom: skip it
            continue
        R[k, k] = nq
        Q[:, k] = q / nq
        S[k] = best
        chosen[best] = True
        k += 1
        r -= np.sum(Q[:, k - 1] * r) * Q[:, k - 1]
    if k == 0:
        return 0
    coef = back_sub(R[:k, :k], np.ascontiguousarray(Q[:, :k].T) @ y)
    for i in range(k):
        x_out[S[i]] = coef[i]
    return k


@njit(cache=True)
def hard_threshold(X, k, nonnegative):
    """Keep the k largest entries of each column of X (by value when nonnegative, after
    clipping at 0; by magnitude otherwise), zero the rest; in place."""
    n, B = X.shape
    for j in range(B):
        col = X[:, j].copy()
        if nonnegative:
            for i in range(n):
                if col[i] < 0.0:
                    col[i] = 0.0
            key = -col
        else:
            key = -np.abs(col)
        order = np.argsort(key)
        for t in range(n):
            i = order[t]
            X[i, j] = col[i] if t < k else 0.0
