"""Private numba kernels of the batched ADMM basis-pursuit solver (arrays in, arrays out).

All kernels are serial (``@njit(cache=True)``) and deterministic; the matrix products of the
iteration are BLAS calls made by the caller.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from csuper.recovery._triangular_kernels import cholesky_solve


@njit(cache=True)
def shrink_update(X, Z, U, thresh, alpha, nonnegative, r2, s2, x2, z2, u2):
    """One ADMM z- and u-update, in place, column by column, with the residual norms.

    With the over-relaxed point ``h = alpha X + (1 - alpha) Z_old``:
    ``Z = soft(h + U, thresh[j])`` (or ``max(h + U - thresh[j], 0)`` when nonnegative; one
    threshold 1/rho_j per column) and
    ``U = U + h - Z``. Writes per column the squared norms ``r2 = ||X - Z||^2`` (primal
    residual), ``s2 = ||Z - Z_old||^2`` (dual residual / rho^2), ``||X||^2``, ``||Z||^2``,
    ``||U||^2``.
    """
    n, B = X.shape
    for j in range(B):
        r2[j] = 0.0
        s2[j] = 0.0
        x2[j] = 0.0
        z2[j] = 0.0
        u2[j] = 0.0
    for i in range(n):
        for j in range(B):
            x = X[i, j]
            zo = Z[i, j]
            h = alpha * x + (1.0 - alpha) * zo
            v = h + U[i, j]
            t = thresh[j]
            if nonnegative:
                z = v - t if v > t else 0.0
            elif v > t:
                z = v - t
            elif v < -t:
                z = v + t
            else:
                z = 0.0
            u = v - z
            Z[i, j] = z
            U[i, j] = u
            d = x - z
            r2[j] += d * d
            d = z - zo
            s2[j] += d * d
            x2[j] += x * x
            z2[j] += z * z
            u2[j] += u * u


def shrink_update_numpy(X, Z, U, thresh, alpha, nonnegative, r2, s2, x2, z2, u2):
    """Plain-numpy twin of :func:`shrink_update` (same arguments, same in-place results).

    Used when numba's JIT is disabled (the element loop would be slow in plain Python) and as
    the independent route the kernel is tested against.
    """
    H = alpha * X + (1.0 - alpha) * Z
    V = H + U
    t = thresh[None, :]
    Zn = np.maximum(V - t, 0.0) if nonnegative else np.sign(V) * np.maximum(np.abs(V) - t, 0.0)
    r2[:] = ((X - Zn) ** 2).sum(axis=0)
    s2[:] = ((Zn - Z) ** 2).sum(axis=0)
    x2[:] = (X**2).sum(axis=0)
    z2[:] = (Zn**2).sum(axis=0)
    U[:] = V - Zn
    u2[:] = (U**2).sum(axis=0)
    Z[:] = Zn


@njit(cache=True)
def _support_fit(A, S, y):
    """(A_S, Cholesky factor L of A_S^T A_S, x_S) of the least-squares fit of y on the columns
    S; L is empty when A_S^T A_S is not numerically positive definite.

    The normal equations cost m k^2 flops in one matrix product (a QR with its Q costs four
    times as much, and was what made polishing grow as n^3 on large problems); they lose
    accuracy only as cond(A_S)^2, and every answer is verified afterwards anyway (a rejected fit
    leaves the column to ADMM or the exact path). The Gram matrix is k x k with k <= rank(A),
    never the n x n product of a wide matrix.
    """
    m = A.shape[0]
    k = S.size
    As = np.empty((m, k))
    for c in range(k):
        As[:, c] = A[:, S[c]]
    G = np.ascontiguousarray(As.T) @ As
    dmax = 0.0
    dmin = np.inf
    for i in range(k):
        dmax = max(dmax, G[i, i])
        dmin = min(dmin, G[i, i])
    if not dmin > 1e-20 * dmax:
        return As, np.empty((0, 0)), np.empty(0)
    try:
        L = np.linalg.cholesky(G)
    except Exception:  # not positive definite to machine precision: A_S rank deficient
        return As, np.empty((0, 0)), np.empty(0)
    for i in range(k):
        if not L[i, i] > 1e-7 * np.sqrt(dmax):  # cond(A_S) beyond 1e7
            return As, np.empty((0, 0)), np.empty(0)
    return As, L, cholesky_solve(L, np.ascontiguousarray(As.T) @ y)


@njit(cache=True)
def _certify_on(A, U_r, s_r, V_r, y, S, w, nonnegative, tol, x_out, nu_out):
    """Least squares of y on the columns S (two passes, dropping round-off entries) + certificate.

    Returns 0 (no exact fit on S, or nonnegative and some x_S <= 0), 1 (x_out holds an exactly
    feasible point, not certified) or 2 (certified optimal: x_out and nu_out written).
    """
    r = s_r.size
    ynorm = np.sqrt(np.sum(y * y))
    for _ in range(2):
        k = S.size
        if k == 0 or k > r:
            return 0
        As, L, xs = _support_fit(A, S, y)
        if L.shape[0] == 0:
            return 0
        res = y - As @ xs
        if np.sqrt(np.sum(res * res)) > 1e-9 * max(ynorm, 1e-300):
            return 0
        amax = np.max(np.abs(xs))
        big = np.abs(xs) > 1e-9 * amax
        if big.all():
            break
        S = S[big]
    else:
        return 0
    k = S.size
    sg = np.empty(k)
    for i in range(k):
        if nonnegative:
            if xs[i] <= 0.0:
                return 0
            sg[i] = 1.0
        else:
            sg[i] = 1.0 if xs[i] > 0 else -1.0
    x_out[:] = 0.0
    for i in range(k):
        x_out[S[i]] = xs[i]
    # two dual candidates on S: ADMM's estimate projected onto {A_S^T nu = sign(x_S)}, and the
    # least-norm solution of those equations (Fuchs' certificate), which also holds in the
    # success region before ADMM's dual estimate is accurate
    nu0 = U_r @ ((V_r.T @ w) / s_r)
    AsT = np.ascontiguousarray(As.T)
    for candidate in range(2):
        if candidate == 0:
            nu = nu0 + As @ cholesky_solve(L, sg - AsT @ nu0)
        else:
            nu = As @ cholesky_solve(L, sg)
        g = A.T @ nu
        c = np.max(g) if nonnegative else np.max(np.abs(g))
        if c <= 1.0 + tol:
            nu_out[:] = nu
            return 2
    return 1


@njit(cache=True)
def polish_certify(A, U_r, s_r, V_r, y, z, w, nonnegative, tol, x_out, nu_out):
    """Polish an approximate basis-pursuit solution z and certify it.

    Tries the support S = nonzeros of z, then S joined with the near-equicorrelation set
    ``{i : |w_i| >= 1 - 1e-2}`` (w = ADMM's ``rho u``, an approximate subgradient; an optimal
    support lies where ``|a_i^T nu| = 1``), which catches small entries ADMM has not yet switched
    on (a superset T' of the optimal support T with A_T' injective gives back x_T exactly: the
    extra coefficients are round-off, dropped by a second pass). On each: ``x_S`` = least squares
    on ``A_S`` (normal equations, Cholesky), required to fit y to round-off; the dual vector is
    the least-squares solution of ``A^T nu = w`` projected onto ``{A_S^T nu = sign(x_S)}``, or
    else the least-norm solution of those equations; accepted when ``max |A^T nu| <= 1 + tol``
    (nonnegative: ``max A^T nu <= 1 + tol`` and ``x_S > 0``).

    Returns 2 when certified (x_out, nu_out written), 1 when only exactly feasible points were
    found (x_out = the one of least l1 norm), 0 otherwise.
    """
    n = A.shape[1]
    tmp = np.empty(n)
    best = np.inf
    status = 0
    S = np.flatnonzero(z)
    equi = (w >= 1.0 - 1e-2) if nonnegative else (np.abs(w) >= 1.0 - 1e-2)
    for attempt in range(2):
        if attempt == 0:
            Sa = S
        else:
            Sa = np.flatnonzero((z != 0) | equi)
            if Sa.size == S.size or Sa.size > s_r.size:
                continue
        code = _certify_on(A, U_r, s_r, V_r, y, Sa, w, nonnegative, tol, tmp, nu_out)
        if code == 2:
            x_out[:] = tmp
            return 2
        if code == 1:
            l1 = np.sum(np.abs(tmp))
            if l1 < best:
                best = l1
                x_out[:] = tmp
                status = 1
    return status
