"""Private numba kernels of the batched ADMM basis-pursuit solver (arrays in, arrays out).

All kernels are serial (``@njit(cache=True)``) and deterministic; the matrix products of the
iteration are BLAS calls made by the caller.
"""

from __future__ import annotations

import numpy as np
from numba import njit


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
def _back_sub(R, b):
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
def _forward_sub_t(R, b):
    """Solve R^T x = b for upper-triangular R."""
    k = R.shape[0]
    x = np.empty(k)
    for i in range(k):
        acc = b[i]
        for j in range(i):
            acc -= R[j, i] * x[j]
        x[i] = acc / R[i, i]
    return x


@njit(cache=True)
def _certify_on(A, U_r, s_r, V_r, y, S, w, nonnegative, tol, x_out, nu_out):
    """Least squares of y on the columns S (two passes, dropping round-off entries) + certificate.

    Returns 0 (no exact fit on S, or nonnegative and some x_S <= 0), 1 (x_out holds an exactly
    feasible point, not certified) or 2 (certified optimal: x_out and nu_out written).
    """
    m, _n = A.shape
    r = s_r.size
    xs = np.empty(0)
    Q = np.empty((m, 0))
    R = np.empty((0, 0))
    ynorm = np.sqrt(np.sum(y * y))
    ok = False
    for _ in range(2):
        k = S.size
        if k == 0 or k > r:
            return 0
        As = np.empty((m, k))
        for c in range(k):
            As[:, c] = A[:, S[c]]
        Q, R = np.linalg.qr(As)
        dmax = 0.0
        dmin = np.inf
        for i in range(k):
            d = abs(R[i, i])
            dmax = max(dmax, d)
            dmin = min(dmin, d)
        if dmin <= 1e-12 * dmax:
            return 0
        Qt = np.ascontiguousarray(Q.T)
        qy = Qt @ y
        res = y - np.ascontiguousarray(Q) @ qy
        if np.sqrt(np.sum(res * res)) > 1e-9 * max(ynorm, 1e-300):
            return 0
        xs = _back_sub(R, qy)
        amax = np.max(np.abs(xs))
        big = np.abs(xs) > 1e-9 * amax
        if big.all():
            ok = True
            break
        S = S[big]
    if not ok:
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
    nu = U_r @ ((V_r.T @ w) / s_r)
    corr = sg - (A.T @ nu)[S]
    nu = nu + np.ascontiguousarray(Q) @ _forward_sub_t(R, corr)
    g = A.T @ nu
    c = np.max(g) if nonnegative else np.max(np.abs(g))
    if c > 1.0 + tol:
        return 1
    nu_out[:] = nu
    return 2


@njit(cache=True)
def polish_certify(A, U_r, s_r, V_r, y, z, w, nonnegative, tol, x_out, nu_out, attempts=3):
    """Polish an approximate basis-pursuit solution z and certify it.

    Tries the support S = nonzeros of z, then S joined with the near-equicorrelation set
    ``{i : |w_i| >= 1 - 1e-2}`` (w = ADMM's ``rho u``, an approximate subgradient; an optimal
    support lies where ``|a_i^T nu| = 1``), which catches small entries ADMM has not yet switched
    on, then (vertex guess) the support of z completed to rank(A) indices by the largest
    ``|w_i|``. On each: ``x_S`` = least squares on ``A_S`` (QR), required to fit y to round-off,
    a second pass dropping entries at round-off level; nu = the least-squares solution of
    ``A^T nu = w`` projected onto ``{A_S^T nu = sign(x_S)}``; accepted when
    ``max |A^T nu| <= 1 + tol`` (nonnegative: ``max A^T nu <= 1 + tol`` and ``x_S > 0``).

    ``attempts`` (1 to 3) limits how many of these supports are tried, in this order.

    Returns 2 when certified (x_out, nu_out written), 1 when only exactly feasible points were
    found (x_out = the one of least l1 norm), 0 otherwise.
    """
    n = A.shape[1]
    tmp = np.empty(n)
    best = np.inf
    status = 0
    S = np.flatnonzero(z)
    for attempt in range(min(attempts, 3)):
        if attempt == 1:
            if nonnegative:
                near = (z != 0) | (w >= 1.0 - 1e-2)
            else:
                near = (z != 0) | (np.abs(w) >= 1.0 - 1e-2)
            S2 = np.flatnonzero(near)
            if S2.size == S.size or S2.size > s_r.size:
                continue
            Sa = S2
        elif attempt == 2:
            if S.size >= s_r.size:
                break
            # vertex guess: the support of z completed to r = rank(A) columns by the largest |w|
            key = np.abs(w) if not nonnegative else w.copy()
            for i in range(key.size):
                if z[i] != 0.0:
                    key[i] = np.inf
            order = np.argsort(-key)
            Sa = np.sort(order[: s_r.size])
        else:
            Sa = S
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
