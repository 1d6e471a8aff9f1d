"""The exact path of the batched solver: one column at a time, a simplex warm-started from ADMM's
point, verified; scipy's HiGHS (scaled and verified too) when the simplex does not finish.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from csuper._lazy import lazy_import
from csuper.recovery._duality import backward_error, l1_objective, negativity
from csuper.recovery._lp import highs_bp, verified_point

K = lazy_import("csuper.recovery._simplex_kernels")

#: Pricing tolerance of the simplex (reduced costs are O(1): the dual constraints are
#: |a_i^T nu| <= 1).
PRICING_TOLERANCE = 1e-10


@dataclass(frozen=True)
class ExactOutcome:
    """How the exact path settled a column: ``status`` (``optimal``, ``refuted``, ``infeasible``,
    ``optimal_inaccurate``, ``max_iter``, ``solver_error``), the point, its dual, the simplex
    pivots and which method settled it (``simplex`` or ``highs``)."""

    status: str
    x: np.ndarray | None
    nu: np.ndarray | None
    pivots: int
    method: str


class ExactSolver:
    """Solves basis pursuit for single right-hand sides of one A (shape (m, n), rank r).

    Parameters
    ----------
    A : ndarray, shape (m, n)
    basis : (U_r, s_r, V_r)
        The thin SVD of A at its numerical rank (:func:`csuper.recovery._linalg.range_basis`);
        the simplex runs on the full-row-rank system ``diag(s_r) V_r^T x = U_r^T y``.
    nonnegative : bool
    tol : float
        Verification tolerance (backward error, negativity, relative duality gap).
    max_pivots : int, optional
        Simplex pivot cap before HiGHS takes over; default ``10 r + 100``.
    """

    def __init__(self, A, basis, nonnegative: bool, tol: float, max_pivots: int | None = None):
        self.A = A
        self.U_r, s_r, V_r = basis
        self.Ac = np.ascontiguousarray(V_r * s_r[None, :])
        self.nonnegative = nonnegative
        self.tol = tol
        r = s_r.size
        self.max_pivots = 10 * r + 100 if max_pivots is None else max_pivots

    def solve(self, y, z=None, w=None, ref_l1: float = np.inf) -> ExactOutcome:
        """Settle ``min ||x||_1 s.t. A x = y`` (x >= 0 when nonnegative) exactly.

        z, w (ADMM's iterate and ``rho u``, any positive scale) order the starting basis: the
        support of z by decreasing ``|z|``, then the other columns by decreasing ``|w|`` (by
        ``w`` when nonnegative). With ``ref_l1`` finite the simplex stops at the first verified
        feasible point of objective below it (status ``refuted``); a verified optimum is
        ``optimal`` whatever its objective.
        """
        n = self.A.shape[1]
        order = _basis_order(z, w, n, self.nonnegative)
        x = np.empty(n)
        nu_r = np.empty(self.Ac.shape[1])
        code, pivots = K.bp_simplex(
            self.Ac,
            self.U_r.T @ y,
            order,
            self.nonnegative,
            self.max_pivots,
            PRICING_TOLERANCE,
            ref_l1,
            x,
            nu_r,
        )
        if code == K.BELOW_REFERENCE:
            x = np.maximum(x, 0.0) if self.nonnegative else x
            if backward_error(self.A, y, x) <= self.tol and l1_objective(x) < ref_l1:
                return ExactOutcome("refuted", x, None, pivots, "simplex")
        elif code == K.OPTIMAL:
            if self.nonnegative and negativity(x) <= self.tol:
                x = np.maximum(x, 0.0)
            found = verified_point(self.A, y, x, self.U_r @ nu_r, self.nonnegative, self.tol)
            if found is not None:
                return ExactOutcome("optimal", found[0], found[1], pivots, "simplex")
        lp = highs_bp(self.A, y, self.nonnegative, tol=self.tol)
        return ExactOutcome(lp.status, lp.x, lp.nu, pivots, "highs")


def _basis_order(z, w, n: int, nonnegative: bool) -> np.ndarray:
    """Columns by preference for the starting basis (see :meth:`ExactSolver.solve`)."""
    if z is None:
        return np.arange(n, dtype=np.int64)
    key = (w.copy() if nonnegative else np.abs(w)) if w is not None else np.zeros(n)
    on = z != 0
    # the support first (by |z|), then the rest by the subgradient estimate
    key = np.where(on, np.inf, key)
    order = np.lexsort((-np.abs(z), -key))
    return np.ascontiguousarray(order, dtype=np.int64)
