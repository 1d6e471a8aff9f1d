"""Optimality certificates for basis pursuit and nonnegative basis pursuit (KKT / duality gap)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from csuper._lazy import lazy_import
from csuper._validation import check_array, check_real
from csuper.recovery._common import check_system

linalg = lazy_import("scipy.linalg")
optimize = lazy_import("scipy.optimize")

__all__ = ["Certificate", "certify_basis_pursuit"]


@dataclass(frozen=True)
class Certificate:
    """Result of an optimality check of basis pursuit at a candidate x.

    Attributes
    ----------
    valid : bool
        x is feasible (``||A x - y|| <= tol * max(1, ||y||)``, and x >= -tol when nonnegative) and
        the relative duality gap is at most ``tol``.
    primal_residual : float
        ``||A x - y||_2``.
    dual_infeasibility : float
        ``max(0, c - 1)`` with ``c = max |A^T nu|`` (nonnegative: ``max A^T nu``).
    gap : float
        Relative duality gap ``(||x||_1 - y^T nu / max(1, c)) / max(||x||_1, tiny)``, >= 0 up to
        round-off for feasible x.
    nu : ndarray, shape (m,)
        The dual vector used.
    method : str
        ``given`` (caller's nu), ``min_norm`` (least-norm solution of ``A_S^T nu = sign(x_S)``)
        or ``lp`` (the dual vector minimising ``max |A_{S^c}^T nu|`` subject to it).
    """

    valid: bool
    primal_residual: float
    dual_infeasibility: float
    gap: float
    nu: np.ndarray
    method: str


def _range_basis(A: np.ndarray):
    """Thin SVD of A truncated at numerical rank: ``A = U_r diag(s_r) V_r^T``."""
    U, s, Vt = linalg.svd(A, full_matrices=False)
    tol = s[0] * max(A.shape) * np.finfo(float).eps if s.size and s[0] > 0 else 0.0
    r = int(np.sum(s > tol))
    return np.ascontiguousarray(U[:, :r]), s[:r], np.ascontiguousarray(Vt[:r].T)


def _dual_value(A, y, x, nu, nonnegative):
    """(dual infeasibility, relative duality gap) of the rescaled dual point nu / max(1, c)."""
    g = A.T @ nu
    c = float(g.max()) if nonnegative else float(np.abs(g).max())
    c = max(c, 1.0)
    l1 = float(np.abs(x).sum())
    gap = (l1 - float(y @ nu) / c) / max(l1, np.finfo(float).tiny)
    return c - 1.0, gap


def _certify_support(A, basis, y, z, w, nonnegative, tol):
    """Polish an approximate BP solution z and certify it (the batched solver's inner step).

    Takes the support S of z, solves ``A_S x_S = y`` by QR, maps ``w`` (an approximate element of
    the subdifferential, ADMM's ``rho u``) to nu with ``A^T nu ~ w``, projects nu onto
    ``{A_S^T nu = sign(x_S)}`` and accepts when ``max |A^T nu| <= 1 + tol``. Returns ``(x, nu)``
    or ``(None, None)``.
    """
    U_r, s_r, V_r = basis
    S = np.flatnonzero(z)
    for _ in range(2):  # second pass drops entries the least squares put at round-off level
        k = S.size
        if k == 0 or k > s_r.size:
            return None, None
        As = A[:, S]
        Q, R = linalg.qr(As, mode="economic")
        d = np.abs(np.diag(R))
        if d.min() <= 1e-12 * d.max():
            return None, None
        qy = Q.T @ y
        if np.linalg.norm(y - Q @ qy) > 1e-9 * max(float(np.linalg.norm(y)), 1e-300):
            return None, None
        xs = linalg.solve_triangular(R, qy)
        big = np.abs(xs) > 1e-9 * np.abs(xs).max()
        if big.all():
            break
        S = S[big]
    else:
        return None, None
    if nonnegative:
        if np.any(xs <= 0):
            return None, None
        sg = np.ones(k)
    else:
        sg = np.sign(xs)
    nu = U_r @ ((V_r.T @ w) / s_r)
    r = sg - As.T @ nu
    nu = nu + Q @ linalg.solve_triangular(R, r, trans="T")
    g = A.T @ nu
    c = g.max() if nonnegative else np.abs(g).max()
    if c > 1.0 + tol:
        return None, None
    x = np.zeros(A.shape[1])
    x[S] = xs
    return x, nu


def certify_basis_pursuit(
    A, y, x, *, nonnegative: bool = False, dual=None, tol: float = 1e-7, support_tol: float = 1e-9
) -> Certificate:
    """Verify that x solves basis pursuit (``min ||x||_1 s.t. A x = y``, or its x >= 0 form).

    Parameters
    ----------
    A : array_like, shape (m, n)
    y : array_like, shape (m,)
    x : array_like, shape (n,)
        Candidate solution.
    nonnegative : bool
        Check ``min sum(x) s.t. A x = y, x >= 0`` instead.
    dual : array_like, shape (m,), optional
        A dual vector nu to check; by default one is constructed (see Notes).
    tol : float
        Tolerance on feasibility (relative to ``max(1, ||y||)``) and on the relative duality gap.
    support_tol : float
        Entries with ``|x_i| <= support_tol * max |x|`` count as off the support when building nu.

    Returns
    -------
    Certificate

    Notes
    -----
    Duality: BP's dual is ``max y^T nu s.t. ||A^T nu||_inf <= 1`` (nonnegative:
    ``A^T nu <= 1``). For any nu, ``nu / max(1, c)`` is dual feasible, so its objective bounds the
    optimum from below and ``||x||_1 - y^T nu / max(1, c)`` bounds x's suboptimality (weak
    duality): a small relative gap certifies x without a second solve. The KKT conditions say an
    optimal nu satisfies ``A_S^T nu = sign(x_S)`` on the support S and ``|A^T nu| <= 1`` off it.
    nu is first the least-norm solution of the support equations (Fuchs' certificate, enough in
    the success region); if that fails, the best one, minimising ``max_{i not in S} |a_i^T nu|``
    subject to them, is found by a small LP (scipy HiGHS), so the check is exact: it fails only
    when x is not optimal (to tolerance).

    References
    ----------
    J.-J. Fuchs, "On sparse representations in arbitrary redundant bases", IEEE Trans. Inf.
    Theory 50 (2004), doi:10.1109/TIT.2004.828141; S. Boyd, L. Vandenberghe, Convex Optimization
    (2004), Sec. 5.5.

    Examples
    --------
    >>> A = np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]])
    >>> certify_basis_pursuit(A, [1.0, 1.0], [0.0, 0.0, 1.0]).valid
    True
    >>> certify_basis_pursuit(A, [1.0, 1.0], [1.0, 1.0, 0.0]).valid
    False
    """
    A, y = check_system(A, y)
    m, n = A.shape
    x = check_array(x, "x", shape=(n,), dtype=np.float64)
    tol = check_real(tol, "tol", low=0.0)
    support_tol = check_real(support_tol, "support_tol", low=0.0)
    nonnegative = bool(nonnegative)
    res = float(np.linalg.norm(A @ x - y))
    feasible = res <= tol * max(1.0, float(np.linalg.norm(y)))
    if nonnegative:
        feasible = feasible and bool(np.all(x >= -tol))
    amax = float(np.abs(x).max())
    if dual is not None:
        nu = check_array(dual, "dual", shape=(m,), dtype=np.float64)
        infeas, gap = _dual_value(A, y, x, nu, nonnegative)
        return Certificate(bool(feasible and gap <= tol), res, infeas, gap, nu, "given")
    if amax == 0.0:
        nu = np.zeros(m)
        return Certificate(bool(feasible), res, 0.0, 0.0, nu, "min_norm")
    S = np.flatnonzero(np.abs(x) > support_tol * amax)
    sg = np.ones(S.size) if nonnegative else np.sign(x[S])
    As = A[:, S]
    nu = np.linalg.lstsq(As.T, sg, rcond=None)[0]
    infeas, gap = _dual_value(A, y, x, nu, nonnegative)
    if feasible and gap <= tol:
        return Certificate(True, res, infeas, gap, nu, "min_norm")
    # LP over (nu, t): min t s.t. A_S^T nu = s, A_{S^c}^T nu <= t (and >= -t when signed)
    off = np.setdiff1d(np.arange(n), S)
    Ao = A[:, off].T
    rows = [np.hstack([Ao, -np.ones((off.size, 1))])]
    if not nonnegative:
        rows.append(np.hstack([-Ao, -np.ones((off.size, 1))]))
    A_ub = b_ub = None
    if off.size:
        A_ub = np.vstack(rows)
        b_ub = np.zeros(A_ub.shape[0])
    A_eq = np.hstack([As.T, np.zeros((S.size, 1))])
    cost = np.zeros(m + 1)
    cost[-1] = 1.0
    lp = optimize.linprog(
        cost,
        A_ub=A_ub,
        b_ub=b_ub,
        A_eq=A_eq,
        b_eq=sg,
        bounds=[(None, None)] * (m + 1),
        method="highs",
    )
    method = "min_norm"
    if lp.status == 0:
        nu_lp = lp.x[:m]
        infeas2, gap2 = _dual_value(A, y, x, nu_lp, nonnegative)
        if gap2 < gap:
            nu, infeas, gap, method = nu_lp, infeas2, gap2, "lp"
    return Certificate(bool(feasible and gap <= tol), res, infeas, gap, nu, method)


def _step_to_boundary(x0S, sg, dS, shrink=0.9):
    """Largest step s (times ``shrink``) keeping ``sign(x0_S + s d_S) = sg`` on the support."""
    against = sg * dS < 0
    if not against.any():
        return None
    return shrink * float(np.min(np.abs(x0S[against]) / np.abs(dS[against])))


def _refute_along(A, y, x0, S, sg, d, nonnegative, margin):
    """x0 + s d for a null direction d of A that decreases the objective at x0, verified.

    Returns the feasible point, or None when the verification fails (round-off, flat direction).
    """
    s = _step_to_boundary(x0[S], sg, d[S])
    if s is None or not np.isfinite(s) or s <= 0:
        return None
    x = x0 + s * d
    if nonnegative:
        if np.any(x < 0):
            return None
    if np.linalg.norm(A @ x - y) > 1e-9 * max(float(np.linalg.norm(y)), 1e-300):
        return None
    if not np.abs(x).sum() < (1.0 - margin) * np.abs(x0).sum():
        return None
    return x


def _decide_planted(A, y, x0, nonnegative, margin=1e-6, tau=1e-7):
    """Exact decision whether a planted x0 (with ``A x0 = y``) is the unique BP solution.

    Let S be the support of x0 and ``s = sign(x0_S)`` (all ones when nonnegative). x0 is the
    unique solution iff A_S has full column rank and there is a dual vector z with
    ``A_S^T z = s`` and ``|a_i^T z| < 1`` (nonnegative: ``a_i^T z < 1``) off S (the face
    condition; Donoho-Tanner, Fuchs). Writing ``z = z0 + N w`` (z0 the least-norm solution of the
    support equations, N an orthonormal basis of null(A_S^T)), this is the small LP
    ``t* = min_{w, t} t s.t. |a_i^T z| <= 1 + t`` off S, in m - k + 1 variables (scipy HiGHS).
    If t* < 0 the certificate z is verified numerically and ``('optimal', x, z)`` returned (x the
    least-squares fit of y on S). If t* > 0, the LP's dual multipliers lambda give, by Farkas'
    lemma, a null direction d of A (``d_{S^c} = lambda``, or lambda+ - lambda-; ``d_S`` from
    ``A d = 0``) along which the objective decreases; the point ``x0 + s d`` (s keeping the signs
    on S) is verified feasible with a smaller l1 norm and ``('refuted', x, None)`` returned. When
    A_S is rank deficient or k > m, a null vector of A_S gives the descent direction. Anything
    that does not verify returns ``(None, None, None)``: undecided.
    """
    m, n = A.shape
    S = np.flatnonzero(x0)
    k = S.size
    none = (None, None, None)
    if k == 0 or (nonnegative and np.any(x0[S] < 0)):
        return none
    sg = np.ones(k) if nonnegative else np.sign(x0[S])
    As = A[:, S]
    ynorm = max(float(np.linalg.norm(y)), 1e-300)
    Q = R1 = None
    if k <= m:
        Q, R = linalg.qr(As, mode="full")
        R1 = R[:k]
        dg = np.abs(np.diag(R1))
        if dg.min() <= 1e-10 * dg.max():
            Q = None
    if Q is None:
        # A_S has a null vector v: x0 + s v stays feasible, and -+v decreases sg^T x_S
        v = linalg.svd(As)[2][-1]
        slope = float(sg @ v)
        if abs(slope) <= 1e-9 * np.abs(v).sum():
            return none
        d = np.zeros(n)
        d[S] = -np.sign(slope) * v
        x = _refute_along(A, y, x0, S, sg, d, nonnegative, margin)
        return none if x is None else ("refuted", x, None)
    Q1, N = Q[:, :k], Q[:, k:]
    xs = linalg.solve_triangular(R1, Q1.T @ y)
    if np.linalg.norm(As @ xs - y) > 1e-9 * ynorm or np.any(np.sign(xs) != sg):
        return none
    z0 = Q1 @ linalg.solve_triangular(R1, sg, trans="T")
    off = np.setdiff1d(np.arange(n), S)
    Aoff = A[:, off]
    c0 = Aoff.T @ z0
    p, q = off.size, m - k
    if p == 0:
        z = z0
    else:
        if q == 0:
            # A_S square: z = z0 is the only candidate; t* is its largest violation and the
            # multiplier sits on the most violated row
            viol = c0 if nonnegative else np.abs(c0)
            i = int(np.argmax(viol))
            t = float(viol[i]) - 1.0
            w = np.zeros(0)
            lam = np.zeros(p if nonnegative else 2 * p)
            lam[i if nonnegative or c0[i] > 0 else p + i] = 1.0
        else:
            G = Aoff.T @ N
            # rows: a_i^T z - t <= 1 (and -a_i^T z - t <= 1 when signed), variables (w, t)
            Gu = np.hstack([G, -np.ones((p, 1))])
            hu = 1.0 - c0
            if not nonnegative:
                Gu = np.vstack([Gu, np.hstack([-G, -np.ones((p, 1))])])
                hu = np.concatenate([hu, 1.0 + c0])
            cost = np.zeros(q + 1)
            cost[-1] = 1.0
            lp = optimize.linprog(
                cost, A_ub=Gu, b_ub=hu, bounds=[(None, None)] * q + [(-1.0, None)], method="highs"
            )
            if lp.status != 0:
                return none
            t = float(lp.x[-1])
            w = lp.x[:q]
            lam = np.maximum(-np.asarray(lp.ineqlin.marginals, dtype=np.float64), 0.0)
        if t > tau:
            doff = lam if nonnegative else lam[:p] - lam[p:]
            d = np.zeros(n)
            d[off] = doff
            r = Aoff @ doff
            d[S] = -linalg.solve_triangular(R1, Q1.T @ r)
            if np.linalg.norm(As @ d[S] + r) > 1e-9 * max(float(np.linalg.norm(r)), 1e-300):
                return none
            x = _refute_along(A, y, x0, S, sg, d, nonnegative, margin)
            return none if x is None else ("refuted", x, None)
        if t >= -tau:
            return none
        z = z0 + N @ w
    g = A.T @ z
    if np.abs(g[S] - sg).max() > 1e-9:
        return none
    if p and (g[off].max() if nonnegative else np.abs(g[off]).max()) >= 1.0:
        return none
    x = np.zeros(n)
    x[S] = xs
    return "optimal", x, z
