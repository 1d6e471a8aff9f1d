"""Verification shared by every l1 solver and the certificate: backward errors, rigorous dual
bounds, exact power-of-two scaling.

A solver's "optimal" rests on two numbers computed here from its answer, never on the solver's
own status:

- the componentwise backward error ``omega(x) = max_j |A x - y|_j / (|A| |x| + |y|)_j``
  (Oettli and Prager 1964): x solves ``(A + dA) x = y + dy`` exactly for some perturbation with
  ``|dA| <= omega |A|`` and ``|dy| <= omega |y|`` entrywise, and for no smaller one. It is
  invariant under scaling y, the rows of (A, y) or A as a whole, which a residual relative to
  ``||y||`` is not (an absolute tolerance accepts x = 0 when ``||y|| = 1e-8``);
- a lower bound on the optimal value from any dual vector nu, made dual feasible by division and
  corrected for the rounding of every product that enters it (Higham 2002, Sec. 3.1), so that
  ``lower_bound <= OPT`` holds for the computed numbers, not only in exact arithmetic.

References
----------
W. Oettli, W. Prager, "Compatibility of approximate solution of linear equations with given error
bounds for coefficients and right-hand sides", Numer. Math. 6 (1964), doi:10.1007/BF01386083;
N. J. Higham, Accuracy and Stability of Numerical Algorithms, 2nd ed., SIAM (2002), Sec. 3.1 and
7.2, doi:10.1137/1.9780898718027.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


def gamma(k: int, dtype=np.float64) -> float:
    """Higham's ``gamma_k = k u / (1 - k u)`` for the unit roundoff u of ``dtype``: the relative
    rounding error bound of a k-term dot product (``inf`` when ``k u >= 1``)."""
    ku = k * np.finfo(dtype).eps / 2
    return float(ku / (1.0 - ku)) if ku < 1.0 else np.inf


def backward_error(A: np.ndarray, y: np.ndarray, X: np.ndarray) -> Any:
    """Componentwise backward error of each column of X (shape (n,) or (n, B)) for ``A x = y``.

    Rows where ``|A| |x| + |y|`` is 0 have a zero residual in floating point and are skipped.
    Returns a float for a vector x, an array of shape (B,) for a matrix.
    """
    R = np.abs(A @ X - y)
    D = np.abs(A) @ np.abs(X) + np.abs(y)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(D > 0, R / np.where(D > 0, D, 1.0), np.where(R > 0, np.inf, 0.0))
    out = ratio.max(axis=0) if ratio.size else np.zeros(ratio.shape[1:])
    return out if np.ndim(X) > 1 else float(out)


def dual_bound(
    A: np.ndarray,
    y: np.ndarray,
    nu: np.ndarray,
    *,
    nonnegative: bool,
    weights: np.ndarray | None = None,
    precise: bool = False,
) -> tuple[Any, Any]:
    """A rigorous lower bound on the optimum of (weighted, nonnegative) basis pursuit from nu.

    The dual of ``min sum_i w_i |x_i| s.t. A x = y`` is ``max y^T nu s.t. |a_i^T nu| <= w_i``
    (nonnegative program: ``a_i^T nu <= w_i``). With ``c = max_i (|a_i^T nu| + e_i) / w_i``,
    where ``e_i = gamma_m (|A|^T |nu|)_i`` bounds the rounding of the computed ``a_i^T nu``, the
    vector ``nu / max(1, c)`` is dual feasible, and the returned
    ``(y^T nu - gamma_m |y|^T |nu|) / max(1, c)`` is at most the optimum (weak duality, rounding
    included). Columns with ``w_i = 0`` must have ``a_i^T nu = 0`` up to its rounding bound;
    otherwise the bound is ``-inf``.

    nu may be a vector or a matrix of columns (then y is a matrix of the same columns).
    ``precise`` evaluates the products in ``numpy.longdouble`` (80-bit on x86, where the rounding
    terms shrink by a factor 2048; elsewhere the same as float64): the bound of a badly scaled
    problem, where ``|A|^T |nu|`` is much larger than ``|A^T nu|``, is then limited by nu itself
    and not by the arithmetic that checks it.

    Returns
    -------
    (lower_bound, dual_infeasibility)
        ``dual_infeasibility = max(c - 1, 0)`` before the division.
    """
    m = A.shape[0]
    dt = np.longdouble if precise else np.float64
    At = A.T.astype(dt)
    nud = nu.astype(dt)
    g = At @ nud
    err = gamma(m, dt) * (np.abs(At) @ np.abs(nud))
    viol = (g + err) if nonnegative else (np.abs(g) + err)
    if weights is None:
        c = viol.max(axis=0)
    else:
        w = weights.astype(dt).reshape(-1, *([1] * (viol.ndim - 1)))
        pos = w > 0
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(pos, viol / np.where(pos, w, 1.0), 0.0)
        # w_i = 0: the dual constraint is a_i^T nu = 0, which only rounding may violate
        bad = (~pos) & ((np.abs(g) - err > 0) if not nonnegative else (g - err > 0))
        ratio = np.where(bad, np.inf, ratio)
        c = ratio.max(axis=0)
    c = np.maximum(c, 0.0)
    s = np.maximum(c, 1.0)
    yd = y.astype(dt)
    dot = np.sum(yd * nud, axis=0) - gamma(m, dt) * np.sum(np.abs(yd) * np.abs(nud), axis=0)
    with np.errstate(invalid="ignore"):
        value = np.where(np.isfinite(s), dot / s, -np.inf).astype(np.float64)
    infeas = np.maximum(c - 1.0, 0.0).astype(np.float64)
    if np.ndim(nu) == 1:
        return float(value), float(infeas)
    return value, infeas


def l1_objective(X: np.ndarray, weights: np.ndarray | None = None) -> Any:
    """``sum_i w_i |x_i|`` per column (w = 1 by default)."""
    a = np.abs(X)
    if weights is not None:
        a = a * weights.reshape(-1, *([1] * (a.ndim - 1)))
    out = a.sum(axis=0)
    return float(out) if np.ndim(X) == 1 else out


def relative_gap(objective: Any, lower: Any) -> Any:
    """``(objective - lower) / objective`` (0 where the objective is 0 and the bound not above)."""
    obj = np.asarray(objective, dtype=np.float64)
    low = np.asarray(lower, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        gap = np.where(obj > 0, (obj - low) / np.where(obj > 0, obj, 1.0), 0.0)
    gap = np.where((obj == 0) & (low > 0), 0.0, gap)
    return float(gap) if gap.ndim == 0 else gap


def negativity(X: np.ndarray) -> Any:
    """``max_i max(-x_i, 0) / max_i |x_i|`` per column (0 for x = 0)."""
    a = np.abs(X).max(axis=0) if X.size else np.zeros(X.shape[1:])
    neg = np.maximum(-X, 0.0).max(axis=0) if X.size else np.zeros(X.shape[1:])
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(a > 0, neg / np.where(a > 0, a, 1.0), 0.0)
    return float(out) if np.ndim(X) == 1 else out


@dataclass(frozen=True)
class Verdict:
    """The verification of a candidate (x, nu) of basis pursuit; see :func:`verify`."""

    backward_error: float
    negativity: float
    dual_infeasibility: float
    lower_bound: float
    objective: float
    gap: float
    ok: bool


def verify(
    A: np.ndarray,
    y: np.ndarray,
    x: np.ndarray,
    nu: np.ndarray,
    *,
    nonnegative: bool,
    tol: float,
    weights: np.ndarray | None = None,
) -> Verdict:
    """Check a candidate x with dual nu: ``ok`` when the backward error, the negativity (for the
    nonnegative program) and the relative duality gap are all at most ``tol``."""
    omega = backward_error(A, y, x)
    neg = negativity(x) if nonnegative else 0.0
    obj = l1_objective(x, weights)
    lower, infeas = dual_bound(A, y, nu, nonnegative=nonnegative, weights=weights)
    gap = relative_gap(obj, lower)
    if gap > tol:
        # the float64 rounding bound may be what fails (badly scaled A): check in longdouble
        lower, infeas = dual_bound(A, y, nu, nonnegative=nonnegative, weights=weights, precise=True)
        gap = relative_gap(obj, lower)
    ok = bool(omega <= tol and neg <= tol and gap <= tol)
    return Verdict(float(omega), float(neg), float(infeas), float(lower), float(obj), gap, ok)


def verify_columns(A, Y, X, N, *, nonnegative: bool, tol: float) -> np.ndarray:
    """:func:`verify` for the columns of X (n, B) with duals N (m, B): boolean mask of ``ok``."""
    omega = backward_error(A, Y, X)
    lower, _ = dual_bound(A, Y, N, nonnegative=nonnegative)
    gap = relative_gap(l1_objective(X), lower)
    ok = (omega <= tol) & (gap <= tol)
    if nonnegative:
        ok &= negativity(X) <= tol
    for j in np.flatnonzero(~ok & (omega <= tol)):
        ok[j] = verify(A, Y[:, j], X[:, j], N[:, j], nonnegative=nonnegative, tol=tol).ok
    return np.asarray(ok, dtype=bool)
