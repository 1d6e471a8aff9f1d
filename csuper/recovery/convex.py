"""cvxpy formulations of l1 recovery, built once with Parameters (DPP) and re-solved for many y."""

from __future__ import annotations

import time
import warnings

import numpy as np

from csuper._lazy import lazy_import
from csuper._validation import check_array, check_real
from csuper.recovery._common import RecoveryResult, check_system

cp = lazy_import("cvxpy")

__all__ = ["FORMULATIONS", "DEFAULT_SOLVERS", "L1Problem", "solve_l1", "highs_basis_pursuit"]

#: The programs this module builds. ``sigma`` / ``lam`` / ``weights`` are Parameters.
FORMULATIONS: dict[str, str] = {
    "bp": "basis pursuit: min ||x||_1 s.t. A x = y",
    "bpdn": "basis-pursuit denoising: min ||x||_1 s.t. ||A x - y||_2 <= sigma",
    "lasso": "LASSO: min 0.5 ||A x - y||_2^2 + lam ||x||_1",
    "weighted_l1": "weighted l1: min sum_i w_i |x_i| s.t. A x = y (w >= 0)",
}

#: Default cvxpy solver per formulation, chosen by measurement (benchmarks/results_recovery.md):
#: HiGHS for the LPs (fast and accurate; CLARABEL returned optimal_inaccurate on a dense
#: (400, 1000) basis pursuit and was the slowest), CLARABEL for the SOCP and the QP.
DEFAULT_SOLVERS: dict[str, str] = {
    "bp": "HIGHS",
    "weighted_l1": "HIGHS",
    "bpdn": "CLARABEL",
    "lasso": "CLARABEL",
}

#: cvxpy's status strings (``cp.OPTIMAL == "optimal"``, ...), spelled out so that importing this
#: module does not import cvxpy.
_STATUS_MAP = {
    "optimal": "optimal",
    "optimal_inaccurate": "optimal_inaccurate",
    "infeasible": "infeasible",
    "infeasible_inaccurate": "infeasible",
    "unbounded": "unbounded",
    "unbounded_inaccurate": "unbounded",
}


class L1Problem:
    """An l1 recovery program for a fixed A, re-solvable for many measurement vectors y.

    Parameters
    ----------
    A : array_like, shape (m, n)
        Sensing matrix (finite).
    formulation : {"bp", "bpdn", "lasso", "weighted_l1"}
        See :data:`FORMULATIONS`.
    nonnegative : bool
        Add the constraint x >= 0 (nonnegative basis pursuit and its variants).
    solver : str or None
        A cvxpy solver name; ``None`` picks :data:`DEFAULT_SOLVERS` ``[formulation]``.
    solver_options : dict, optional
        Passed to ``cvxpy.Problem.solve``.

    Notes
    -----
    The problem is compiled once: ``y``, ``sigma``, ``lam`` and ``weights`` are cvxpy Parameters
    and the program is DPP, so re-solves skip canonicalisation. Statuses other than ``optimal``
    are reported in the result, never hidden: ``x`` is ``None`` for infeasible or unbounded
    problems and for solver errors.

    References
    ----------
    S. S. Chen, D. L. Donoho, M. A. Saunders, "Atomic decomposition by basis pursuit",
    SIAM J. Sci. Comput. 20 (1998), doi:10.1137/S1064827596304010; R. Tibshirani (1996), LASSO;
    S. Diamond, S. Boyd, "CVXPY" (2016), arXiv:1603.00943.

    Examples
    --------
    >>> A = np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]])
    >>> res = L1Problem(A).solve([1.0, 1.0])
    >>> res.status, np.round(res.x, 6).tolist(), round(res.objective, 6)
    ('optimal', [0.0, 0.0, 1.0], 1.0)
    """

    def __init__(
        self,
        A,
        formulation: str = "bp",
        *,
        nonnegative: bool = False,
        solver: str | None = None,
        solver_options: dict | None = None,
    ) -> None:
        if formulation not in FORMULATIONS:
            raise ValueError(
                f"formulation must be one of {tuple(FORMULATIONS)}; got {formulation!r}."
            )
        A, _ = check_system(A, np.zeros(np.shape(A)[0] if np.ndim(A) == 2 else 1))
        m, n = A.shape
        self.A = A
        self.formulation = formulation
        self.nonnegative = bool(nonnegative)
        self.solver = DEFAULT_SOLVERS[formulation] if solver is None else str(solver).upper()
        if self.solver not in cp.installed_solvers():
            raise ValueError(
                f"solver must be one of {tuple(cp.installed_solvers())}; got {solver!r}."
            )
        self.solver_options = dict(solver_options or {})
        self._x = cp.Variable(n, nonneg=self.nonnegative)
        self._y = cp.Parameter(m)
        self._sigma = self._lam = self._w = None
        x = self._x
        l1 = cp.sum(x) if self.nonnegative else cp.norm1(x)
        if formulation == "bp":
            prob = cp.Problem(cp.Minimize(l1), [A @ x == self._y])
        elif formulation == "weighted_l1":
            self._w = cp.Parameter(n, nonneg=True)
            obj = self._w @ x if self.nonnegative else cp.norm1(cp.multiply(self._w, x))
            prob = cp.Problem(cp.Minimize(obj), [A @ x == self._y])
        elif formulation == "bpdn":
            self._sigma = cp.Parameter(nonneg=True)
            prob = cp.Problem(cp.Minimize(l1), [cp.norm2(A @ x - self._y) <= self._sigma])
        else:
            self._lam = cp.Parameter(nonneg=True)
            prob = cp.Problem(cp.Minimize(0.5 * cp.sum_squares(A @ x - self._y) + self._lam * l1))
        self._problem = prob

    @property
    def shape(self) -> tuple[int, int]:
        """(m, n) of the sensing matrix."""
        return self.A.shape

    def solve(
        self,
        y,
        *,
        sigma: float | None = None,
        lam: float | None = None,
        weights=None,
        warm_start: bool = True,
    ) -> RecoveryResult:
        """Solve the program for measurements ``y`` (shape (m,)).

        Parameters
        ----------
        y : array_like, shape (m,)
        sigma : float
            Noise level (``bpdn`` only), >= 0.
        lam : float
            Regularisation (``lasso`` only), >= 0.
        weights : array_like, shape (n,)
            Nonnegative weights (``weighted_l1`` only).
        warm_start : bool
            Let the solver start from the previous solution where it supports it.

        Returns
        -------
        RecoveryResult
        """
        _, y = check_system(self.A, y)
        _m, n = self.A.shape
        f = self.formulation
        given = {"sigma": sigma, "lam": lam, "weights": weights}
        owner = {"sigma": "bpdn", "lam": "lasso", "weights": "weighted_l1"}
        for name, value in given.items():
            if owner[name] == f and value is None:
                raise ValueError(f"{name} must be given for formulation {f!r}.")
            if owner[name] != f and value is not None:
                raise ValueError(
                    f"{name} applies only to formulation {owner[name]!r}; got formulation {f!r}."
                )
        if f == "bpdn":
            assert self._sigma is not None  # created by __init__ for this formulation
            self._sigma.value = check_real(sigma, "sigma", low=0.0)
        elif f == "lasso":
            assert self._lam is not None
            self._lam.value = check_real(lam, "lam", low=0.0)
        elif f == "weighted_l1":
            assert self._w is not None
            self._w.value = check_array(
                weights, "weights", shape=(n,), dtype=np.float64, nonnegative=True
            )
        self._y.value = y
        t0 = time.perf_counter()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter(
                    "ignore"
                )  # cvxpy warns on inaccurate solutions; status says it
                self._problem.solve(
                    solver=self.solver, warm_start=warm_start, **self.solver_options
                )
            status = _STATUS_MAP.get(self._problem.status, "solver_error")
        except cp.error.SolverError:
            status = "solver_error"
        elapsed = time.perf_counter() - t0
        xv = self._x.value
        if status in ("infeasible", "unbounded", "solver_error") or xv is None:
            return RecoveryResult(
                None,
                status if xv is not None or status != "optimal" else "solver_error",
                np.nan,
                np.nan,
                self.solver,
                elapsed,
            )
        x = np.asarray(xv, dtype=np.float64).copy()
        if self.nonnegative:
            x = np.maximum(x, 0.0)  # solvers may return -1e-12; the program's domain is x >= 0
        try:
            iters = int(self._problem.solver_stats.num_iters or -1)
        except (AttributeError, TypeError):
            iters = -1
        return RecoveryResult(
            x=x,
            status=status,
            residual=float(np.linalg.norm(self.A @ x - y)),
            objective=float(self._problem.value),
            solver=self.solver,
            time=elapsed,
            n_iter=iters,
        )


def solve_l1(
    A,
    y,
    formulation: str = "bp",
    *,
    nonnegative: bool = False,
    solver: str | None = None,
    sigma: float | None = None,
    lam: float | None = None,
    weights=None,
) -> RecoveryResult:
    """Build and solve one l1 recovery program with cvxpy (see :class:`L1Problem`).

    Parameters
    ----------
    A : array_like, shape (m, n)
    y : array_like, shape (m,)
    formulation : {"bp", "bpdn", "lasso", "weighted_l1"}
    nonnegative : bool
        Constrain x >= 0.
    solver : str or None
        cvxpy solver name (default per :data:`DEFAULT_SOLVERS`).
    sigma, lam, weights
        The formulation's parameter (see :meth:`L1Problem.solve`).

    Returns
    -------
    RecoveryResult

    Examples
    --------
    >>> A = np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]])
    >>> res = solve_l1(A, [1.0, 1.0], "bpdn", sigma=0.5)
    >>> res.status, round(res.objective, 4)
    ('optimal', 0.6464)
    """
    problem = L1Problem(A, formulation, nonnegative=nonnegative, solver=solver)
    return problem.solve(y, sigma=sigma, lam=lam, weights=weights)


def highs_basis_pursuit(A, y, *, nonnegative: bool = False) -> RecoveryResult:
    """Basis pursuit as a linear program solved directly by scipy's HiGHS (no cvxpy layer).

    Parameters
    ----------
    A : array_like, shape (m, n)
    y : array_like, shape (m,)
    nonnegative : bool
        Solve ``min sum(x) s.t. A x = y, x >= 0``.

    Returns
    -------
    RecoveryResult
        ``status`` from HiGHS (``optimal``, ``infeasible``, ``unbounded``, ``max_iter``,
        ``solver_error``).

    Notes
    -----
    Signed BP is the LP ``min 1^T (p + q) s.t. A (p - q) = y, p, q >= 0`` with x = p - q
    (at an optimal vertex p and q have disjoint supports).

    Examples
    --------
    >>> A = np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]])
    >>> res = highs_basis_pursuit(A, [1.0, 1.0])
    >>> res.status, np.round(res.x, 6).tolist()
    ('optimal', [0.0, 0.0, 1.0])
    """
    A, y = check_system(A, y)
    x, status, _nu, elapsed, iters = _highs_bp(A, y, bool(nonnegative))
    if x is None:
        return RecoveryResult(None, status, np.nan, np.nan, "scipy-highs", elapsed, iters)
    return RecoveryResult(
        x,
        status,
        float(np.linalg.norm(A @ x - y)),
        float(np.abs(x).sum()),
        "scipy-highs",
        elapsed,
        iters,
    )


def _highs_bp(A: np.ndarray, y: np.ndarray, nonnegative: bool):
    """(x or None, status, dual nu or None, seconds, iterations) of BP by scipy.optimize.linprog."""
    from scipy import optimize

    _m, n = A.shape
    t0 = time.perf_counter()
    if nonnegative:
        c, Aeq = np.ones(n), A
    else:
        c, Aeq = np.ones(2 * n), np.hstack([A, -A])
    lp = optimize.linprog(c, A_eq=Aeq, b_eq=y, bounds=(0, None), method="highs")
    elapsed = time.perf_counter() - t0
    status = {0: "optimal", 1: "max_iter", 2: "infeasible", 3: "unbounded"}.get(
        lp.status, "solver_error"
    )
    if lp.status != 0:
        return None, status, None, elapsed, int(getattr(lp, "nit", -1))
    x = lp.x if nonnegative else lp.x[:n] - lp.x[n:]
    nu = np.asarray(lp.eqlin.marginals, dtype=np.float64)
    return np.asarray(x, dtype=np.float64), status, nu, elapsed, int(lp.nit)
