"""Dense linear algebra shared by the l1 solvers: the range basis of A and support polishing."""

from __future__ import annotations

import numpy as np

from csuper._lazy import lazy_import
from csuper._norms import pow2_scale

linalg = lazy_import("scipy.linalg")


def range_basis(A: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Thin SVD of A truncated at numerical rank: ``A = U_r diag(s_r) V_r^T``."""
    U, s, Vt = linalg.svd(A, full_matrices=False)
    tol = s[0] * max(A.shape) * np.finfo(float).eps if s.size and s[0] > 0 else 0.0
    r = int(np.sum(s > tol))
    return np.ascontiguousarray(U[:, :r]), s[:r], np.ascontiguousarray(Vt[:r].T)


def polish_support(
    A: np.ndarray,
    y: np.ndarray,
    x: np.ndarray,
    nu: np.ndarray,
    nonnegative: bool,
    support_tol: float = 1e-9,
    weights: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray] | None:
    """Exact KKT point on the support of an approximate basis-pursuit solution x with dual nu.

    The support S is where ``|x_i| max|a_i|`` exceeds ``support_tol`` times its maximum (so a
    badly scaled column does not hide its entry). On the columns scaled to unit largest entry
    (exact powers of two) it solves ``A_S x_S = y`` by QR, drops entries at round-off level once,
    and projects nu onto ``{A_S^T nu = sign(x_S)}`` (``w_S sign(x_S)`` for weighted l1).
    Returns ``(x, nu)``, or None when A_S is rank deficient, has more columns than rows, or
    (nonnegative) gives a nonpositive entry; the caller verifies the result.
    """
    m, n = A.shape
    d = pow2_scale(np.abs(A).max(axis=0))
    size = np.abs(x) / d
    top = size.max() if size.size else 0.0
    if top == 0.0:
        return None
    S = np.flatnonzero(size > support_tol * top)
    for _ in range(2):
        if S.size == 0 or S.size > m:
            return None
        As = A[:, S] * d[S]
        Q, R = linalg.qr(As, mode="economic")
        dg = np.abs(np.diag(R))
        if dg.min() <= 1e-12 * dg.max():
            return None
        xs = linalg.solve_triangular(R, Q.T @ y)
        big = np.abs(xs) > support_tol * np.abs(xs).max()
        if big.all():
            break
        S = S[big]
    else:
        return None
    if nonnegative and np.any(xs <= 0):
        return None
    sg = np.ones(S.size) if nonnegative else np.sign(xs)
    if weights is not None:
        sg = sg * weights[S]
    nu = nu + Q @ linalg.solve_triangular(R, d[S] * sg - As.T @ nu, trans="T")
    out = np.zeros(n)
    out[S] = xs * d[S]
    return out, nu
