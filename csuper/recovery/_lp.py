"""Basis pursuit as a linear program for scipy's HiGHS: scaled before, verified after.

HiGHS works with absolute tolerances (1e-7 on primal and dual feasibility): on a problem whose
``||y||`` is 1e-7, or whose columns range over twelve orders of magnitude, its "optimal" can be
x = 0 or a point far from the optimum. :func:`highs_bp` therefore solves the problem with y and
A (as a whole) scaled to unit largest entry by exact powers of two, with tolerances 1e-9,
unscales the answer, and calls it ``optimal`` only when the verification of
:mod:`csuper.recovery._duality` passes, after polishing the point on its support (and, if its
dual vector is what fails, after computing the best dual vector on that support) if needed.

The columns are not rescaled here: HiGHS equilibrates rows and columns itself and checks its
tolerances on the problem it is given, so an explicit column scaling only moves the scale into
the costs, where the absolute dual tolerance then fails the cheap columns. Measured on planted
problems with columns spread over 2^+-20 and y over 2^+-20 (248 problems): 40 ended
``optimal_inaccurate`` with explicit column scaling, none without (and none was wrong either way).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from csuper._norms import pow2_scale
from csuper.recovery._duality import verify
from csuper.recovery._linalg import polish_support

#: HiGHS's primal and dual feasibility tolerances on the scaled problem (its default is 1e-7).
HIGHS_TOLERANCE = 1e-9

_LINPROG_STATUS = {0: "optimal", 1: "max_iter", 2: "infeasible", 3: "unbounded"}


@dataclass(frozen=True)
class LPSolution:
    """What :func:`highs_bp` found: ``x`` and ``nu`` are None unless HiGHS returned a point."""

    x: np.ndarray | None
    nu: np.ndarray | None
    status: str
    n_iter: int
    time: float


def highs_bp(
    A: np.ndarray, y: np.ndarray, nonnegative: bool, *, tol: float, verbose: bool = False
) -> LPSolution:
    """Basis pursuit ``min ||x||_1 s.t. A x = y`` (x >= 0 when nonnegative) by HiGHS, verified.

    Status ``optimal`` means the returned (x, nu) passed :func:`~csuper.recovery._duality.verify`
    with ``tol``; ``optimal_inaccurate`` that HiGHS called it optimal and the verification failed
    even after polishing; otherwise HiGHS's status on the scaled problem (``infeasible``,
    ``unbounded``, ``max_iter``, ``solver_error``) with no point.
    """
    from scipy import optimize

    t0 = time.perf_counter()
    m, n = A.shape
    ymax = float(np.abs(y).max()) if y.size else 0.0
    if ymax == 0.0:
        return LPSolution(np.zeros(n), np.zeros(m), "optimal", 0, time.perf_counter() - t0)
    sigma = float(pow2_scale(ymax))
    alpha = float(pow2_scale(np.abs(A).max()))
    As = A * alpha
    if nonnegative:
        c, Aeq = np.ones(n), As
    else:
        c, Aeq = np.ones(2 * n), np.hstack([As, -As])
    lp = optimize.linprog(
        c,
        A_eq=Aeq,
        b_eq=y * sigma,
        bounds=(0, None),
        method="highs",
        options={
            "disp": bool(verbose),
            "primal_feasibility_tolerance": HIGHS_TOLERANCE,
            "dual_feasibility_tolerance": HIGHS_TOLERANCE,
        },
    )
    n_iter = int(getattr(lp, "nit", -1))
    if lp.status != 0 or lp.x is None:
        status = _LINPROG_STATUS.get(lp.status, "solver_error")
        return LPSolution(None, None, status, n_iter, time.perf_counter() - t0)
    xs = lp.x if nonnegative else lp.x[:n] - lp.x[n:]
    x = np.asarray(xs, dtype=np.float64) * (alpha / sigma)
    if nonnegative:
        x = np.maximum(x, 0.0)
    nu = np.asarray(lp.eqlin.marginals, dtype=np.float64) * alpha
    found = verified_point(A, y, x, nu, nonnegative, tol)
    status = "optimal_inaccurate" if found is None else "optimal"
    if found is not None:
        x, nu = found
    return LPSolution(x, nu, status, n_iter, time.perf_counter() - t0)


def verified_point(A, y, x, nu, nonnegative: bool, tol: float, weights=None):
    """(x, nu) itself, or x polished on its support with the projected nu, or the polished x
    with the best dual vector on its support (:func:`support_dual`), whichever first passes
    :func:`~csuper.recovery._duality.verify`; None if none does."""
    kw = {"nonnegative": nonnegative, "tol": tol, "weights": weights}
    if nu is not None and verify(A, y, x, nu, **kw).ok:
        return x, nu
    polished = None if nu is None else polish_support(A, y, x, nu, nonnegative, weights=weights)
    if polished is not None:
        if verify(A, y, *polished, **kw).ok:
            return polished
        x = polished[0]
    best = support_dual(A, x, nonnegative, weights)
    if best is not None and verify(A, y, x, best, **kw).ok:
        return x, best
    return None


def support_dual(A, x, nonnegative: bool, weights=None, support_tol: float = 1e-9):
    """The dual vector that best certifies x on its support S: the nu minimising
    ``t = max_{i not in S} |a_i^T nu| / w_i`` subject to ``A_S^T nu = w_S sign(x_S)`` (one-sided
    ``a_i^T nu`` when nonnegative), a small LP for HiGHS. x is optimal iff the minimum is at most
    1 (KKT). Returns nu, or None when the LP has no solution (A_S^T nu = s inconsistent)."""
    from scipy import optimize

    m, n = A.shape
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=np.float64)
    scale = np.abs(x) / pow2_scale(np.abs(A).max(axis=0))
    if scale.max() == 0.0:
        return None
    on = scale > support_tol * scale.max()
    S, off = np.flatnonzero(on), np.flatnonzero(~on & (w > 0))
    sg = np.ones(S.size) if nonnegative else np.sign(x[S])
    # variables (nu, t): minimise t s.t. A_S^T nu = w_S s and a_i^T nu - w_i t <= 0 (and
    # -a_i^T nu - w_i t <= 0 when signed) off the support; zero-weight columns: a_i^T nu = 0
    zero = np.flatnonzero(~on & (w == 0))
    rows = [np.hstack([A[:, off].T, -w[off, None]])]
    if not nonnegative:
        rows.append(np.hstack([-A[:, off].T, -w[off, None]]))
    A_ub = np.vstack(rows) if off.size else None
    A_eq = np.hstack([A[:, np.concatenate([S, zero])].T, np.zeros((S.size + zero.size, 1))])
    b_eq = np.concatenate([w[S] * sg, np.zeros(zero.size)])
    lp = optimize.linprog(
        np.concatenate([np.zeros(m), [1.0]]),
        A_ub=A_ub,
        b_ub=None if A_ub is None else np.zeros(A_ub.shape[0]),
        A_eq=A_eq,
        b_eq=b_eq,
        bounds=[(None, None)] * (m + 1),
        method="highs",
        options={
            "primal_feasibility_tolerance": HIGHS_TOLERANCE,
            "dual_feasibility_tolerance": HIGHS_TOLERANCE,
        },
    )
    return None if lp.status != 0 else np.asarray(lp.x[:m], dtype=np.float64)
