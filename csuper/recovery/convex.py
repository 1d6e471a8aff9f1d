"""cvxpy formulations of l1 recovery, built once with Parameters (DPP) and re-solved for many y.

Every program is solved for y scaled to unit largest entry by an exact power of two, its answer
unscaled, and called ``optimal`` only when a verification independent of the solver passes (see
:class:`L1Problem`, Notes).
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from csuper._lazy import lazy_import
from csuper._norms import norm2, pow2_scale
from csuper._validation import check_array, check_bool, check_frame, check_memory, check_real
from csuper.recovery._common import RecoveryResult, check_system, solver_output
from csuper.recovery._duality import (
    gamma,
    l1_objective,
    negativity,
    relative_gap,
    verify,
)
from csuper.recovery._lp import highs_bp, verified_point

if TYPE_CHECKING:
    import cvxpy as cp
else:
    cp = lazy_import("cvxpy")

__all__ = ["FORMULATIONS", "Formulation", "L1Problem", "solve_l1", "highs_basis_pursuit"]


# ------------------------------------------------------------------------------------------------
# the formulations: how each is built (scaled) and how its answer is verified
# ------------------------------------------------------------------------------------------------
#
# y is scaled by s and A as a whole by alpha, exact powers of two that bring their largest entries
# to [0.5, 1), and the solver's variable v gives x = alpha v / s: every program below is the
# original one in those units (lam becomes lam s alpha, sigma becomes sigma s). The columns are
# not rescaled one by one (see csuper.recovery._lp: the solvers equilibrate them, and an explicit
# column scaling moves the scale into the costs, where the absolute dual tolerances then fail).


@dataclass(frozen=True)
class _Scaled:
    """What a builder receives: A, the variable, the (scaled) y Parameter, x >= 0 or not."""

    A: np.ndarray
    v: cp.Variable
    y: cp.Parameter
    nonnegative: bool

    def l1(self, weights=None):
        if weights is None:
            return cp.sum(self.v) if self.nonnegative else cp.norm1(self.v)
        return weights @ self.v if self.nonnegative else cp.norm1(cp.multiply(weights, self.v))


def _build_bp(S: _Scaled):
    eq = S.A @ S.v == S.y
    return cp.Problem(cp.Minimize(S.l1()), [eq]), None, eq


def _build_weighted(S: _Scaled):
    w = cp.Parameter(S.A.shape[1], nonneg=True)
    eq = S.A @ S.v == S.y
    return cp.Problem(cp.Minimize(S.l1(w)), [eq]), w, eq


def _build_bpdn(S: _Scaled):
    sigma = cp.Parameter(nonneg=True)
    return cp.Problem(cp.Minimize(S.l1()), [cp.norm2(S.A @ S.v - S.y) <= sigma]), sigma, None


def _build_lasso(S: _Scaled):
    lam = cp.Parameter(nonneg=True)
    fit = 0.5 * cp.sum_squares(S.A @ S.v - S.y)
    return cp.Problem(cp.Minimize(fit + lam * S.l1())), lam, None


def _objective_l1(A, y, x, value):
    return l1_objective(x)


def _objective_weighted(A, y, x, value):
    return l1_objective(x, value)


def _objective_lasso(A, y, x, value):
    rn = norm2(A @ x - y)
    return 0.5 * rn * rn + value * l1_objective(x)


def _verify_equality(A, y, x, value, nu, nonnegative, tol, weights=None):
    """bp and weighted l1: backward error, negativity and the duality gap of the equality dual."""
    if nu is None:
        return False
    kw = {"nonnegative": nonnegative, "tol": tol, "weights": weights}
    return verify(A, y, x, nu, **kw).ok


def _verify_bp(A, y, x, value, nu, nonnegative, tol):
    return _verify_equality(A, y, x, value, nu, nonnegative, tol)


def _verify_weighted(A, y, x, value, nu, nonnegative, tol):
    return _verify_equality(A, y, x, value, nu, nonnegative, tol, weights=value)


def _verify_bpdn(A, y, x, sigma, nu, nonnegative, tol):
    """Feasibility ``||A x - y|| <= sigma + tol || |A||x| + |y| ||`` and the relative gap to the
    better of two dual points. The dual is ``max y^T nu - sigma ||nu|| s.t. |A^T nu| <= 1``
    (``A^T nu <= 1`` when x >= 0); its optimal vector is parallel to the optimal residual and
    satisfies ``A_S^T nu = sign(x_S)`` on the support: the candidates are the residual
    ``y - A x`` and its projection onto those support equations, each scaled to the largest
    multiple that is dual feasible (the objective is linear along the ray)."""
    if nonnegative and negativity(x) > tol:
        return False
    r = y - A @ x
    rn = float(np.linalg.norm(r))
    slack = float(np.linalg.norm(np.abs(A) @ np.abs(x) + np.abs(y)))
    if rn > sigma + tol * slack:
        return False
    m = len(y)
    lower = 0.0  # the objective is never negative
    for nu in (r, *_support_projections(A, x, r, 1.0, nonnegative)):
        t = _dual_scale(A, nu, nonnegative)
        if not np.isfinite(t):
            continue
        yn = float(y @ nu) - gamma(m) * float(np.abs(y) @ np.abs(nu))
        lower = max(lower, t * (yn - sigma * float(np.linalg.norm(nu)) * (1.0 + gamma(m))))
    return relative_gap(l1_objective(x), lower) <= tol


def _verify_lasso(A, y, x, lam, nu, nonnegative, tol):
    """Relative gap to the better of two dual points: the dual is
    ``max y^T nu - ||nu||^2 / 2 s.t. |A^T nu| <= lam`` (``A^T nu <= lam`` when x >= 0), whose
    optimal vector is the optimal residual and satisfies ``A_S^T nu = lam sign(x_S)``: the
    candidates are the residual ``y - A x`` and its projection onto those equations, each
    multiplied by ``min(1, lam / c)`` (c its largest dual-constraint value) to be feasible."""
    if nonnegative and negativity(x) > tol:
        return False
    r = y - A @ x
    m = len(y)
    if lam == 0.0:
        # least squares: optimal iff the normal equations A^T r = 0 hold up to tol (with x >= 0:
        # A^T r <= 0 everywhere and = 0 on the support, the KKT conditions of NNLS)
        g = A.T @ r
        scale = tol * (np.abs(A).T @ (np.abs(A) @ np.abs(x) + np.abs(y)))
        if not nonnegative:
            return bool(np.all(np.abs(g) <= scale))
        # complementarity g_i x_i = 0 measured on the scale of each term
        return bool(np.all(g <= scale) and float(np.abs(g) @ x) <= float(scale @ x))
    obj = 0.5 * float(r @ r) + lam * l1_objective(x)
    dual = -np.inf
    for nu in (r, *_support_projections(A, x, r, lam, nonnegative)):
        nu = min(1.0, lam * _dual_scale(A, nu, nonnegative)) * nu
        err = gamma(m) * float(np.abs(y) @ np.abs(nu) + nu @ nu)
        dual = max(dual, float(y @ nu) - 0.5 * float(nu @ nu) - err)
    return relative_gap(obj, dual) <= tol


def _support_projections(A, x, nu, level, nonnegative):
    """nu projected onto ``{A_S^T nu = level sign(x_S)}`` for the supports S of x at relative
    thresholds 1e-9 and 1e-6 (scale-aware; an interior-point answer has entries of 1e-8 where
    the solution has zeros), each after the least-squares multiple of nu that best meets the
    equations; supports on which A_S is not injective are skipped."""
    from scipy.linalg import solve_triangular

    d = pow2_scale(np.abs(A).max(axis=0))
    size = np.abs(x) / d
    out: list[np.ndarray] = []
    if size.max() == 0.0:
        return out
    for threshold in (1e-9, 1e-6):
        S = np.flatnonzero(size > threshold * size.max())
        if S.size > A.shape[0]:
            continue
        As = A[:, S]
        target = level * (np.ones(S.size) if nonnegative else np.sign(x[S]))
        g = As.T @ nu
        gg = float(g @ g)
        start = nu * (float(g @ target) / gg) if gg > 0 else nu
        Q, R = np.linalg.qr(As)
        dg = np.abs(np.diag(R))
        if dg.min() <= 1e-12 * dg.max():
            continue
        out.append(start + Q @ solve_triangular(R, target - As.T @ start, trans="T"))
    return out


def _dual_scale(A, r, nonnegative) -> float:
    """``1 / c`` with c the largest ``|a_i^T r|`` (``a_i^T r`` when nonnegative) plus its rounding
    bound: ``t r`` is dual feasible for every t <= 1 / c (``inf`` when c <= 0)."""
    g = A.T @ r
    err = gamma(A.shape[0]) * (np.abs(A).T @ np.abs(r))
    c = float(((g + err) if nonnegative else (np.abs(g) + err)).max())
    return 1.0 / c if c > 0.0 else np.inf


def _polish_equality(A, y, x, value, nu, nonnegative, tol):
    """bp and weighted l1: the exact KKT point on the support of x, with the solver's dual
    projected or, failing that, the best dual vector on the support (see ``verified_point``)."""
    return verified_point(A, y, x, nu, nonnegative, tol, weights=value)


def _support_qr(A, x, threshold, keep=None):
    """(S, Q, R) of the scale-aware support of x at a relative threshold (restricted to ``keep``
    when given), or None when A_S is empty, wider than tall or not injective."""
    d = pow2_scale(np.abs(A).max(axis=0))
    size = np.abs(x) / d
    if size.max() == 0.0:
        return None
    on = size > threshold * size.max()
    if keep is not None:
        on &= keep
    S = np.flatnonzero(on)
    if S.size == 0 or S.size > A.shape[0]:
        return None
    Q, R = np.linalg.qr(A[:, S])
    dg = np.abs(np.diag(R))
    if dg.min() <= 1e-12 * dg.max():
        return None
    return S, Q, R


def _on_support(A, x, nonnegative, solve):
    """Run ``solve(S, Q, R, signs) -> x_S`` on the supports of x at relative thresholds 1e-9 and
    1e-6 (interior-point answers keep entries of 1e-8 where the solution is 0), dropping the
    entries whose sign the solve does not reproduce (up to 3 times); the first x_S that
    reproduces every sign is returned as a full vector, else None."""
    for threshold in (1e-9, 1e-6):
        keep = np.ones(x.size, dtype=bool)
        for _ in range(3):
            found = _support_qr(A, x, threshold, keep)
            if found is None:
                break
            S, Q, R = found
            sg = np.ones(S.size) if nonnegative else np.sign(x[S])
            xs = solve(S, Q, R, sg)
            wrong = np.sign(xs) != sg
            if not wrong.any():
                out = np.zeros_like(x)
                out[S] = xs
                return out
            keep[S[wrong]] = False
    return None


def _polish_lasso(A, y, x, lam, nu, nonnegative, tol):
    """LASSO's exact KKT point on the support S of x: ``A_S^T (A_S x_S - y) + lam s = 0`` with
    s = sign(x_S); the dual vector is the residual."""
    from scipy.linalg import solve_triangular

    def solve(S, Q, R, sg):
        return solve_triangular(R, Q.T @ y - lam * solve_triangular(R, sg, trans="T"))

    out = _on_support(A, x, nonnegative, solve)
    return None if out is None else (out, y - A @ out)


def _polish_bpdn(A, y, x, sigma, nu, nonnegative, tol):
    """BPDN's exact KKT point on the support S of x with the constraint active: ``x_S`` minimises
    ``s^T x_S`` on ``||A_S x_S - y|| = sigma``, so ``A_S^T (y - A_S x_S) = s / mu`` and, with
    ``A_S = Q R``, ``||y - A_S x_S||^2 = ||(I - Q Q^T) y||^2 + ||R^{-T} s||^2 / mu^2 = sigma^2``
    gives mu in closed form; the dual vector is ``mu (y - A x)``."""
    from scipy.linalg import solve_triangular

    mus = []

    def solve(S, Q, R, sg):
        qy = Q.T @ y
        v = solve_triangular(R, sg, trans="T")
        room = sigma * sigma - float(y @ y - qy @ qy)
        if room <= 0.0:
            return np.zeros(S.size)  # the support cannot meet the constraint: rejected
        mus.append(float(np.linalg.norm(v)) / np.sqrt(room))
        return solve_triangular(R, qy - v / mus[-1])

    out = _on_support(A, x, nonnegative, solve)
    return None if out is None else (out, mus[-1] * (y - A @ out))


@dataclass(frozen=True)
class Formulation:
    """One l1 recovery program of :data:`FORMULATIONS`.

    Attributes
    ----------
    name : str
    description : str
        The program in one line.
    default_solver : str
        The cvxpy solver used when none is given, chosen by measurement
        (benchmarks/results_recovery.md): HiGHS for the LPs (fast and accurate; CLARABEL
        returned optimal_inaccurate on a dense (400, 1000) basis pursuit and was the slowest),
        CLARABEL for the SOCP and the QP.
    parameter : str or None
        The keyword of :meth:`L1Problem.solve` the program needs (``sigma``, ``lam``,
        ``weights``), or None.
    build : callable
        ``build(scaled) -> (cvxpy.Problem, Parameter or None, equality constraint or None)``.
    objective : callable
        ``objective(A, y, x, value)``: the program's objective at x (value: its parameter).
    verify : callable
        ``verify(A, y, x, value, nu, nonnegative, tol) -> bool``: the check behind ``optimal``.
    polish : callable
        ``polish(A, y, x, value, nu, nonnegative, tol) -> (x, nu) or None``: the exact KKT
        point on the support of x.
    """

    name: str
    description: str
    default_solver: str
    parameter: str | None
    build: Callable
    objective: Callable
    verify: Callable
    polish: Callable

    def __repr__(self) -> str:
        return f"Formulation({self.name!r}: {self.description})"


#: The l1 recovery programs by name: the single place that maps a name to its cvxpy builder, its
#: objective and its verification (read by :class:`L1Problem`, the CLI and the tests).
FORMULATIONS: dict[str, Formulation] = {
    f.name: f
    for f in (
        Formulation(
            "bp",
            "basis pursuit: min ||x||_1 s.t. A x = y",
            "HIGHS",
            None,
            _build_bp,
            _objective_l1,
            _verify_bp,
            _polish_equality,
        ),
        Formulation(
            "bpdn",
            "basis-pursuit denoising: min ||x||_1 s.t. ||A x - y||_2 <= sigma",
            "CLARABEL",
            "sigma",
            _build_bpdn,
            _objective_l1,
            _verify_bpdn,
            _polish_bpdn,
        ),
        Formulation(
            "lasso",
            "LASSO: min 0.5 ||A x - y||_2^2 + lam ||x||_1",
            "CLARABEL",
            "lam",
            _build_lasso,
            _objective_lasso,
            _verify_lasso,
            _polish_lasso,
        ),
        Formulation(
            "weighted_l1",
            "weighted l1: min sum_i w_i |x_i| s.t. A x = y (w >= 0)",
            "HIGHS",
            "weights",
            _build_weighted,
            _objective_weighted,
            _verify_weighted,
            _polish_equality,
        ),
    )
}

#: Peak bytes per entry of A while the cvxpy problem is built and solved, and while the HiGHS LP
#: is (tracemalloc on (200, 1000) and (400, 2000) Gaussian A: 115-121 for both; rounded up).
_CVXPY_BYTES_PER_ENTRY = 128
_LP_BYTES_PER_ENTRY = 128

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
    formulation : str
        A name of :data:`FORMULATIONS`: ``bp``, ``bpdn``, ``lasso`` or ``weighted_l1``.
    nonnegative : bool
        Add the constraint x >= 0 (nonnegative basis pursuit and its variants).
    solver : str or None
        A cvxpy solver name; ``None`` picks the formulation's ``default_solver``.
    solver_options : dict, optional
        Passed to ``cvxpy.Problem.solve``.
    tol : float
        Verification tolerance in [0, 1) (see Notes).
    verbose : bool
        Let the solver print its log (and HiGHS its banner) to standard output. By default
        everything the solver writes to file descriptor 1 is discarded while it runs (output
        of other threads of the process during a solve included).

    Notes
    -----
    The problem is compiled once: y and the formulation's parameter are cvxpy Parameters and
    the program is DPP, so re-solves skip canonicalisation. It is solved for A and y scaled to
    unit largest entry (exact powers of two, undone on the answer; the parameter sigma or lam is
    scaled with them), so that the solver's absolute tolerances act on numbers of order 1
    whatever the units of the data: ``||y|| = 1e-7``, ``1e20`` or ``A * 1e300`` are solved as
    accurately as unit data. The answer is polished and verified on that scaled program too;
    ``x``, the residual and the objective are reported in the caller's units (the lasso
    objective, quadratic in the scale of y, saturates at inf beyond float64's range, about
    ``||y|| > 1e154``). The spread between columns is left to the solver's own
    equilibration (an explicit column scaling moves it into the costs, where absolute dual
    tolerances then fail; see ``csuper.recovery._lp``).

    The status is ``optimal`` only when the answer passes a verification that does not trust
    the solver (tolerance ``tol``):

    - ``bp``, ``weighted_l1``: the componentwise backward error of ``A x = y``, the negativity
      (x >= 0 programs) and the relative duality gap from the solver's equality dual are at most
      ``tol``, as in :func:`csuper.recovery.certify_basis_pursuit`; a point that fails is first
      polished on its support (exact least squares and the projected dual);
    - ``bpdn``: ``||A x - y|| <= sigma + tol || |A| |x| + |y| ||`` and the relative gap to the
      dual point ``t (y - A x)`` (the optimal dual vector is parallel to the residual);
    - ``lasso``: the relative gap to the dual point ``(y - A x) min(1, lam / |A^T (y - A x)|)``.

    Before the check, the answer is polished: the exact KKT point on its support (least squares
    for ``bp``, the normal equations of LASSO, the closed-form multiplier of BPDN) replaces it
    when that point passes. A solver's ``optimal`` that fails becomes ``optimal_inaccurate``;
    its ``optimal_inaccurate`` that passes becomes ``optimal``. ``x`` is ``None`` for infeasible or
    unbounded problems and for solver errors (including cvxpy's "cannot unpack invalid
    solution").

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
        tol: float = 1e-7,
        verbose: bool = False,
    ) -> None:
        if not isinstance(formulation, str) or formulation not in FORMULATIONS:
            raise ValueError(
                f"formulation must be one of {tuple(FORMULATIONS)}; got {formulation!r}."
            )
        A = check_frame(A, "A", allow_zero_columns=True, dtype=np.float64)
        m, n = A.shape
        check_memory(
            _CVXPY_BYTES_PER_ENTRY * m * n,
            f"L1Problem of A with shape ({m}, {n}) (cvxpy compiles copies of A)",
            "use batch_basis_pursuit for basis pursuit (about three copies of A)",
        )
        self.A = A
        self.formulation = FORMULATIONS[formulation]
        self.nonnegative = check_bool(nonnegative, "nonnegative")
        self.verbose = check_bool(verbose, "verbose")
        self.tol = check_real(tol, "tol", low=0.0, high=1.0, high_inclusive=False)
        if solver is not None and not isinstance(solver, str):
            raise TypeError(f"solver must be a cvxpy solver name or None; got {solver!r}.")
        self.solver = self.formulation.default_solver if solver is None else solver.upper()
        if self.solver not in cp.installed_solvers():
            raise ValueError(
                f"solver must be one of {tuple(cp.installed_solvers())}; got {solver!r}."
            )
        if solver_options is not None and not isinstance(solver_options, dict):
            raise TypeError(f"solver_options must be a dict or None; got {solver_options!r}.")
        self.solver_options = dict(solver_options or {})
        self._alpha = float(pow2_scale(np.abs(A).max()))  # A as a whole to unit largest entry
        self._scaled = _Scaled(
            A * self._alpha,
            cp.Variable(n, nonneg=self.nonnegative),
            cp.Parameter(m),
            self.nonnegative,
        )
        self._problem, self._param, self._eq = self.formulation.build(self._scaled)

    @property
    def shape(self) -> tuple[int, int]:
        """(m, n) of the sensing matrix."""
        return self.A.shape

    def __repr__(self) -> str:
        m, n = self.A.shape
        sign = ", nonnegative" if self.nonnegative else ""
        return f"L1Problem({self.formulation.name!r}, m={m}, n={n}{sign}, solver={self.solver!r})"

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
        warm_start = check_bool(warm_start, "warm_start")
        f = self.formulation
        given = {"sigma": sigma, "lam": lam, "weights": weights}
        for name, value in given.items():
            if name == f.parameter and value is None:
                raise ValueError(f"{name} must be given for formulation {f.name!r}.")
            if name != f.parameter and value is not None:
                owner = next(g.name for g in FORMULATIONS.values() if g.parameter == name)
                raise ValueError(
                    f"{name} applies only to formulation {owner!r}; got formulation {f.name!r}."
                )
        value = None
        if f.parameter == "weights":
            value = check_array(
                weights, "weights", shape=(self.A.shape[1],), dtype=np.float64, nonnegative=True
            )
        elif f.parameter is not None:
            value = check_real(given[f.parameter], f.parameter, low=0.0)
        ymax = float(np.abs(y).max())
        if ymax == 0.0:  # x = 0 is optimal for every formulation (objectives are >= 0)
            x0 = np.zeros(self.A.shape[1])
            objective = float(f.objective(self.A, y, x0, value))
            return RecoveryResult(x0, "optimal", 0.0, objective, self.solver, 0.0, 0)
        # the scaled program (A' = alpha A, y' = s y, x' = x s / alpha) is solved, polished and
        # verified: its numbers are of order 1 at any scale of the data, where the residual's
        # squares of the caller's units overflow (y ~ 1e200) or underflow (~1e-200)
        s = float(pow2_scale(ymax))
        ys = y * s
        self._scaled.y.value = ys
        scaled_value = value
        if f.parameter == "sigma":
            scaled_value = value * s
        elif f.parameter == "lam":
            scaled_value = value * s * self._alpha
        if f.parameter is not None:
            self._param.value = scaled_value
        t0 = time.perf_counter()
        try:
            with warnings.catch_warnings(), solver_output(self.verbose):
                warnings.simplefilter("ignore")  # cvxpy warns on inaccurate solutions
                self._problem.solve(
                    solver=self.solver,
                    warm_start=warm_start,
                    verbose=self.verbose,
                    **self.solver_options,
                )
            status = _STATUS_MAP.get(self._problem.status, "solver_error")
        except (cp.error.SolverError, ValueError):
            # ValueError: cvxpy's "Cannot unpack invalid solution" when the solver returns none
            status = "solver_error"
        elapsed = time.perf_counter() - t0
        v = self._scaled.v.value
        if status in ("infeasible", "unbounded", "solver_error") or v is None:
            status = "solver_error" if status in ("optimal", "optimal_inaccurate") else status
            return RecoveryResult(None, status, np.nan, np.nan, self.solver, elapsed)
        x = np.asarray(v, dtype=np.float64)
        if self.nonnegative:
            x = np.maximum(x, 0.0)  # solvers may return -1e-12; the program's domain is x >= 0
        nu = None
        if self._eq is not None and self._eq.dual_value is not None:
            # cvxpy's Lagrangian adds dual^T (A x - y): the dual vector of max y^T nu is -dual
            nu = -np.asarray(self._eq.dual_value, dtype=np.float64)
        As = self._scaled.A
        # the exact KKT point on the answer's support first (interior-point answers carry
        # entries of 1e-8 where the solution is 0), then the answer as it is
        ok = False
        polished = f.polish(As, ys, x, scaled_value, nu, self.nonnegative, self.tol)
        if polished is not None and f.verify(
            As, ys, polished[0], scaled_value, polished[1], self.nonnegative, self.tol
        ):
            x, nu = polished
            ok = True
        else:
            ok = f.verify(As, ys, x, scaled_value, nu, self.nonnegative, self.tol)
        status = "optimal" if ok else "optimal_inaccurate"
        try:
            iters = int(self._problem.solver_stats.num_iters or -1)
        except (AttributeError, TypeError):
            iters = -1
        residual = norm2(As @ x - ys) / s
        x = x * (self._alpha / s)
        return RecoveryResult(
            x=x,
            status=status,
            residual=residual,
            objective=float(f.objective(self.A, y, x, value)),
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
    tol: float = 1e-7,
    verbose: bool = False,
) -> RecoveryResult:
    """Build and solve one l1 recovery program with cvxpy (see :class:`L1Problem`).

    Parameters
    ----------
    A : array_like, shape (m, n)
    y : array_like, shape (m,)
    formulation : str
        A name of :data:`FORMULATIONS`.
    nonnegative : bool
        Constrain x >= 0.
    solver : str or None
        cvxpy solver name (default: the formulation's ``default_solver``).
    sigma, lam, weights
        The formulation's parameter (see :meth:`L1Problem.solve`).
    tol : float
        Verification tolerance (see :class:`L1Problem`).
    verbose : bool
        Let the solver print to standard output.

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
    problem = L1Problem(
        A, formulation, nonnegative=nonnegative, solver=solver, tol=tol, verbose=verbose
    )
    return problem.solve(y, sigma=sigma, lam=lam, weights=weights)


def highs_basis_pursuit(
    A, y, *, nonnegative: bool = False, tol: float = 1e-7, verbose: bool = False
) -> RecoveryResult:
    """Basis pursuit as a linear program solved directly by scipy's HiGHS (no cvxpy layer).

    Parameters
    ----------
    A : array_like, shape (m, n)
    y : array_like, shape (m,)
    nonnegative : bool
        Solve ``min sum(x) s.t. A x = y, x >= 0``.
    tol : float
        Verification tolerance in [0, 1), as in :class:`L1Problem`.
    verbose : bool
        Print HiGHS's log.

    Returns
    -------
    RecoveryResult
        ``status`` ``optimal`` (verified), ``optimal_inaccurate`` (HiGHS's optimum failed the
        verification even after polishing), ``infeasible``, ``unbounded``, ``max_iter`` or
        ``solver_error``.

    Notes
    -----
    Signed BP is the LP ``min 1^T (p + q) s.t. A (p - q) = y, p, q >= 0`` with x = p - q
    (at an optimal vertex p and q have disjoint supports). It is solved with y scaled to unit
    largest entry by an exact power of two and HiGHS's feasibility tolerances at 1e-9, and
    verified like :class:`L1Problem`'s ``bp``.

    Examples
    --------
    >>> A = np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]])
    >>> res = highs_basis_pursuit(A, [1.0, 1.0])
    >>> res.status, np.round(res.x, 6).tolist()
    ('optimal', [0.0, 0.0, 1.0])
    """
    A, y = check_system(A, y)
    nonnegative = check_bool(nonnegative, "nonnegative")
    tol = check_real(tol, "tol", low=0.0, high=1.0, high_inclusive=False)
    m, n = A.shape
    check_memory(
        _LP_BYTES_PER_ENTRY * m * n,
        f"highs_basis_pursuit of A with shape ({m}, {n}) (the LP holds [A, -A] dense and sparse)",
        "use batch_basis_pursuit (about three copies of A)",
    )
    lp = highs_bp(A, y, nonnegative, tol=tol, verbose=check_bool(verbose, "verbose"))
    if lp.x is None:
        return RecoveryResult(None, lp.status, np.nan, np.nan, "scipy-highs", lp.time, lp.n_iter)
    return RecoveryResult(
        lp.x,
        lp.status,
        norm2(A @ lp.x - y),
        l1_objective(lp.x),
        "scipy-highs",
        lp.time,
        lp.n_iter,
    )
