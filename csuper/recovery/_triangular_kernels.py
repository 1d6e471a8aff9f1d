"""Private numba kernels: triangular solves shared by the polishing and the greedy kernels."""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def forward_sub(L, b):
    """Solve L x = b for lower-triangular L."""
    k = L.shape[0]
    x = np.empty(k)
    for i in range(k):
        acc = b[i]
        for j in range(i):
            acc -= L[i, j] * x[j]
        x[i] = acc / L[i, i]
    return x


@njit(cache=True)
def back_sub(R, b):
    """Solve R x = b for upper-triangular R."""
    k = R.shape[0]
    x = np.empty(k)
    for i in range(k - 1, -1, -1):
        acc = b[i]
        for j in range(i + 1, k):
            acc -= R[i, j] * x[j]
        x[i] = acc / R[i, i]
    return x


@njit(cache=True)
def cholesky_solve(L, b):
    """Solve (L L^T) x = b for lower-triangular L."""
    return back_sub(np.ascontiguousarray(L.T), forward_sub(L, b))
