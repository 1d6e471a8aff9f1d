"""Private numba kernels for the packing search (:mod:`csuper.geometry.packings`).

Arrays in, arrays out, no validation. ``Y`` and ``X`` are float64 C-contiguous arrays of shape
(d, N) whose columns are the points (``X`` has unit columns, ``Y`` need not). ``lines`` selects the
overlap of a pair: ``g_ij = <x_i, x_j>**2`` for lines (Grassmannian packings), ``<x_i, x_j>`` for
spherical codes. All kernels also run as plain Python (``NUMBA_DISABLE_JIT=1``).
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def normalize_columns(Y):
    """Return ``(X, r)``: the columns of ``Y`` scaled to unit norm and their former norms."""
    d, n = Y.shape
    X = np.empty((d, n))
    r = np.empty(n)
    for i in range(n):
        s = 0.0
        for k in range(d):
            s += Y[k, i] * Y[k, i]
        s = np.sqrt(s)
        r[i] = s
        for k in range(d):
            X[k, i] = Y[k, i] / s
    return X, r


@njit(cache=True)
def pair_overlaps(X, lines):
    """Overlaps g_ij of all pairs i < j, in row-major order of the strict upper triangle."""
    d, n = X.shape
    g = np.empty(n * (n - 1) // 2)
    p = 0
    for i in range(n):
        for j in range(i + 1, n):
            c = 0.0
            for k in range(d):
                c += X[k, i] * X[k, j]
            g[p] = c * c if lines else c
            p += 1
    return g


@njit(cache=True)
def lse_value_grad(Y, t, lines):
    """Log-sum-exp surrogate of the largest overlap and its gradient with respect to ``Y``.

    f(Y) = M + log(sum_{i<j} exp(t (g_ij - M))) / t with x_i = y_i / |y_i| and M = max g_ij, so
    that max g <= f <= max g + log(N (N - 1) / 2) / t. Returns ``(f, grad)``, grad of shape (d, N).
    """
    d, n = Y.shape
    X, r = normalize_columns(Y)
    g = pair_overlaps(X, lines)
    m = g.max()
    w = np.exp(t * (g - m))
    s = w.sum()
    f = m + np.log(s) / t
    dX = np.zeros((d, n))
    p = 0
    for i in range(n):
        for j in range(i + 1, n):
            a = w[p] / s
            if lines:
                c = 0.0
                for k in range(d):
                    c += X[k, i] * X[k, j]
                a *= 2.0 * c
            for k in range(d):
                dX[k, i] += a * X[k, j]
                dX[k, j] += a * X[k, i]
            p += 1
    # chain rule through x = y / |y|: dy = (I - x x^T) dx / |y|
    G = np.empty((d, n))
    for i in range(n):
        proj = 0.0
        for k in range(d):
            proj += dX[k, i] * X[k, i]
        for k in range(d):
            G[k, i] = (dX[k, i] - proj * X[k, i]) / r[i]
    return f, G


@njit(cache=True)
def active_constraints(X, I, J, lines):
    """Values and Jacobian of the minimax constraints ``s - g_ij(X) >= 0`` for the pairs (I, J).

    The variable vector is ``z = (X.ravel(), s)`` (C order, X of shape (d, N)). Returns
    ``(values_without_s, jac)`` where values are g_ij (the caller forms ``s - g``) and ``jac`` of
    shape (len(I), d N + 1) is the Jacobian of ``s - g``.
    """
    d, n = X.shape
    q = I.shape[0]
    g = np.empty(q)
    jac = np.zeros((q, d * n + 1))
    for p in range(q):
        i = I[p]
        j = J[p]
        c = 0.0
        for k in range(d):
            c += X[k, i] * X[k, j]
        if lines:
            g[p] = c * c
            a = 2.0 * c
        else:
            g[p] = c
            a = 1.0
        for k in range(d):
            jac[p, k * n + i] = -a * X[k, j]
            jac[p, k * n + j] = -a * X[k, i]
        jac[p, d * n] = 1.0
    return g, jac


@njit(cache=True)
def norm_constraints(X):
    """Values ``|x_i|^2 - 1`` and their Jacobian (N, d N + 1) in the variables
    ``(X.ravel(), s)``."""
    d, n = X.shape
    h = np.empty(n)
    jac = np.zeros((n, d * n + 1))
    for i in range(n):
        s = 0.0
        for k in range(d):
            s += X[k, i] * X[k, i]
            jac[i, k * n + i] = 2.0 * X[k, i]
        h[i] = s - 1.0
    return h, jac
