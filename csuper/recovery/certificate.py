"""Optimality certificates for basis pursuit and nonnegative basis pursuit."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from csuper._norms import norm2, pow2_scale
from csuper._validation import check_array, check_bool, check_real
from csuper.recovery._common import check_system
from csuper.recovery._duality import (
    backward_error,
    dual_bound,
    l1_objective,
    negativity,
    relative_gap,
)
from csuper.recovery._lp import HIGHS_TOLERANCE, highs_bp

__all__ = ["Certificate", "certify_basis_pursuit"]

#: Default ``tol`` of :func:`certify_basis_pursuit` for float64 inputs, and when any input is
#: float32 (about 1000 float32 unit roundoffs: the backward error of float32 data is of order
#: ``sqrt(n) 6e-8``).
DEFAULT_TOL = {np.dtype(np.float64): 1e-7, np.dtype(np.float32): 1e-4}


@dataclass(frozen=True)
class Certificate:
    """Result of an optimality check of basis pursuit at a candidate x.

    Attributes
    ----------
    valid : bool
        The verdict; see :func:`certify_basis_pursuit`, Notes, for what it guarantees.
    backward_error : float
        ``omega = max_j |A x - y|_j / (|A| |x| + |y|)_j``: x solves ``(A + dA) x = y + dy``
        exactly with ``|dA| <= omega |A|``, ``|dy| <= omega |y|`` entrywise (Oettli-Prager).
    primal_residual : float
        ``||A x - y||_2``.
    negativity : float
        ``max_i max(-x_i, 0) / max_i |x_i|`` (0 for the signed program).
    dual_infeasibility : float
        ``max(0, c - 1)`` with ``c`` the largest ``|a_i^T nu|`` (nonnegative: ``a_i^T nu``)
        plus its rounding bound.
    lower_bound : float
        ``L <= OPT``: the dual objective of ``nu / max(1, c)``, rounding errors subtracted.
    gap : float
        Relative duality gap ``(||x||_1 - L) / ||x||_1`` (0 for x = 0); negative when x is not
        feasible and below the optimum.
    nu : ndarray, shape (m,)
        The dual vector used.
    method : str
        ``given`` (the caller's nu), ``min_norm`` (least-norm solution of
        ``A_S^T nu = sign(x_S)`` on the support S of x) or ``lp`` (the dual of a verified
        HiGHS solve of the same problem).
    """

    valid: bool
    backward_error: float
    primal_residual: float
    negativity: float
    dual_infeasibility: float
    lower_bound: float
    gap: float
    nu: np.ndarray
    method: str

    def __repr__(self) -> str:
        return (
            f"Certificate(valid={self.valid}, backward_error={self.backward_error:.3g}, "
            f"gap={self.gap:.3g}, lower_bound={self.lower_bound:.6g}, method={self.method!r})"
        )


def certify_basis_pursuit(
    A,
    y,
    x,
    *,
    nonnegative: bool = False,
    dual=None,
    tol: float | None = None,
    support_tol: float = 1e-9,
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
        A dual vector nu to check x with; by default one is constructed (see Notes).
    tol : float, optional
        Tolerance in [0, 1) on the backward error, the negativity and the relative duality gap.
        Default 1e-7, or 1e-4 when A, y or x is float32 (the backward error of float32 data is
        of order ``sqrt(n) 6e-8``, beyond 1e-7 for every n > 2).
    support_tol : float
        Entries with ``|x_i| max|a_i| <= support_tol max_j |x_j| max|a_j|`` count as off the
        support when nu is built from the support of x.

    Returns
    -------
    Certificate

    Notes
    -----
    **Theorem (what** ``valid`` **guarantees).** Let OPT be the optimal value of the program and
    ``tau = tol``. If ``valid`` is True then

    1. x solves ``(A + dA) x = y + dy`` exactly for a perturbation with ``|dA| <= tau |A|`` and
       ``|dy| <= tau |y|`` entrywise (the componentwise backward error is at most tau; Oettli
       and Prager 1964), and for the nonnegative program ``x_i >= -tau max_j |x_j|``;
    2. ``||x||_1 <= OPT + tau ||x||_1``.

    (2) holds for the numbers as computed: ``L = y^T nu / max(1, c) <= OPT`` by weak duality
    (``nu / max(1, c)`` is dual feasible: the dual is ``max y^T nu s.t. ||A^T nu||_inf <= 1``,
    or ``A^T nu <= 1``), and c and L carry the worst-case rounding bound ``gamma_m`` of every
    dot product that enters them (Higham 2002), in ``numpy.longdouble`` when float64 would make
    that bound the deciding term. Both quantities are invariant under scaling y, A, or the rows
    of (A, y): the verdict does not depend on the units of the data. A residual relative to
    ``||y||`` has neither property: it certifies x = 0 when ``||y|| = 1e-8``, and
    ``x = (1, 0)`` for ``A = diag(1, 1e-8)``, ``y = (1, 1e-8)`` (half the optimal value), both
    rejected here by (1).

    Conversely, when ``dual`` is not given, ``valid`` is False only when x fails (1), or when
    ``||x||_1 - L > tau ||x||_1`` for the best of two dual vectors: the least-norm solution of
    ``A_S^T nu = sign(x_S)`` on the support S of x (Fuchs' certificate, which settles a unique
    sparse solution at once) and the dual of a HiGHS solve of the same problem (y scaled to unit
    size, then polished and verified at 1e-9). When that solve verifies, a point x* with
    backward error at most 1e-9 and ``||x*||_1 <= L / (1 - 1e-9)`` exists, so x is above the
    optimum by more than ``(tau - 1e-9) ||x||_1`` to within that accuracy: the verdict is exact
    in both directions up to 1e-9 relative. (When even HiGHS's answer cannot be verified, the
    problem is too ill-conditioned for a 1e-9 statement, and False says only that no dual
    vector at hand proves x optimal.)

    References
    ----------
    W. Oettli, W. Prager, Numer. Math. 6 (1964), doi:10.1007/BF01386083; N. J. Higham, Accuracy
    and Stability of Numerical Algorithms, 2nd ed. (2002), doi:10.1137/1.9780898718027;
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
    >>> cert = certify_basis_pursuit(np.diag([1.0, 1e-8]), [1.0, 1e-8], [1.0, 0.0])
    >>> cert.valid, round(cert.backward_error, 6)
    (False, 1.0)
    """
    if tol is None:
        low = any(getattr(v, "dtype", None) == np.float32 for v in (A, y, x))
        tol = DEFAULT_TOL[np.dtype(np.float32 if low else np.float64)]
    tol = check_real(tol, "tol", low=0.0, high=1.0, high_inclusive=False)
    A, y = check_system(A, y)
    m, n = A.shape
    x = check_array(x, "x", shape=(n,), dtype=np.float64)
    support_tol = check_real(support_tol, "support_tol", low=0.0, high=1.0)
    nonnegative = check_bool(nonnegative, "nonnegative")
    omega = backward_error(A, y, x)
    neg = negativity(x) if nonnegative else 0.0
    obj = l1_objective(x)
    feasible = omega <= tol and neg <= tol

    def judged(nu: np.ndarray, method: str) -> Certificate:
        lower, infeas = dual_bound(A, y, nu, nonnegative=nonnegative)
        gap = relative_gap(obj, lower)
        if gap > tol:
            lower, infeas = dual_bound(A, y, nu, nonnegative=nonnegative, precise=True)
            gap = relative_gap(obj, lower)
        return Certificate(
            bool(feasible and gap <= tol),
            omega,
            norm2(A @ x - y),
            neg,
            infeas,
            lower,
            gap,
            nu,
            method,
        )

    if dual is not None:
        return judged(check_array(dual, "dual", shape=(m,), dtype=np.float64), "given")
    best = judged(_support_dual(A, x, nonnegative, support_tol), "min_norm")
    if best.valid or not feasible:
        return best
    lp = highs_bp(A, y, nonnegative, tol=HIGHS_TOLERANCE)
    if lp.nu is not None:
        other = judged(lp.nu, "lp")
        if other.valid or other.gap < best.gap:
            best = other
    return best


def _support_dual(A: np.ndarray, x: np.ndarray, nonnegative: bool, support_tol: float):
    """Least-norm nu with ``A_S^T nu = sign(x_S)`` on the (scale-aware) support S of x."""
    m = A.shape[0]
    d = pow2_scale(np.abs(A).max(axis=0))
    size = np.abs(x) / d
    top = size.max()
    if top == 0.0:
        return np.zeros(m)
    S = np.flatnonzero(size > support_tol * top)
    sg = np.ones(S.size) if nonnegative else np.sign(x[S])
    return np.linalg.lstsq(A[:, S].T, sg, rcond=None)[0]
