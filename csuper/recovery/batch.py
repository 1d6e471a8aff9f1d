"""Fast batched basis pursuit (signed and nonnegative) for many right-hand sides sharing one A."""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass

import numpy as np
from threadpoolctl import threadpool_limits

from csuper._errors import ConvergenceWarning
from csuper._lazy import lazy_import
from csuper._norms import norm2
from csuper._validation import (
    check_array,
    check_bool,
    check_int,
    check_memory,
    check_real,
    memory_budget,
)
from csuper.recovery._common import BatchRecoveryResult, check_system
from csuper.recovery._duality import backward_error, l1_objective, negativity, verify_columns
from csuper.recovery._exact import ExactSolver
from csuper.recovery._linalg import range_basis

_k = lazy_import("csuper.recovery._admm_kernels")

__all__ = ["batch_basis_pursuit"]


def batch_basis_pursuit(
    A,
    Y,
    *,
    nonnegative: bool = False,
    rho: float | None = None,
    alpha: float = 1.6,
    eps_abs: float = 1e-7,
    eps_rel: float = 1e-6,
    max_iter: int = 500,
    polish_every: int = 10,
    cert_tol: float = 1e-9,
    blas_threads: int | None = 1,
    fallback: bool = True,
    adaptive_rho: bool = True,
    reference=None,
    reference_margin: float = 1e-6,
) -> BatchRecoveryResult:
    """Solve basis pursuit ``min ||x||_1 s.t. A x = y`` (or its x >= 0 form) for every column of Y.

    Parameters
    ----------
    A : array_like, shape (m, n)
        Shared sensing matrix (any rank; inconsistent columns of Y are reported infeasible).
    Y : array_like, shape (m,) or (m, B)
        Right-hand sides, one per column.
    nonnegative : bool
        Solve ``min sum(x) s.t. A x = y, x >= 0`` instead.
    rho : float, optional
        Initial ADMM penalty, > 0, applied after each column is scaled so that its minimum-norm
        solution has unit largest entry. Default 1 (signed) or 4 (nonnegative), chosen by
        measurement: on the benchmark sizes rho = 4 needed 30-45% fewer iterations than rho = 1
        for the nonnegative program (benchmarks/results_recovery.md).
    alpha : float
        Over-relaxation in (0, 2).
    eps_abs, eps_rel : float
        ADMM stopping tolerances (Boyd et al. 2011, Sec. 3.3.1), see Notes.
    max_iter : int
        ADMM iteration cap.
    polish_every : int
        Try to polish and certify the unfinished columns every this many iterations.
    cert_tol : float
        Verification tolerance, in [0, 1): a column is ``optimal`` only when its componentwise
        backward error, its relative duality gap and (nonnegative) its relative negativity are all
        at most ``cert_tol`` (see Notes).
    blas_threads : int or None
        BLAS threads for the iteration's matrix products (``None``: the library default). The
        default 1 was measured fastest on a shared 2-core machine (benchmarks/results_recovery.md);
        run several batches in parallel processes rather than giving one batch more threads.
    fallback : bool
        Settle the columns ADMM and polishing leave open exactly: a simplex method warm-started
        from ADMM's iterate (see Notes), and scipy's HiGHS when the simplex does not finish. With
        False those columns keep status ``optimal_inaccurate`` (ADMM's stopping rule met) or
        ``max_iter``.
    adaptive_rho : bool
        Per-column residual balancing every 10 iterations: rho doubles when the primal residual
        exceeds 10 times the dual one and halves in the opposite case (Boyd et al. 2011,
        Sec. 3.4.1).
    reference : array_like, shape (n, B), optional
        Planted signals (decision mode, for phase-transition experiments): a column stops as
        soon as a verified feasible point x (an ADMM iterate, a polished point or a simplex
        iterate) has ``||x||_1 < (1 - reference_margin) ||x_ref||_1``, which proves that the
        reference is not a solution (recovery failed): status ``refuted`` with that x. Other
        columns are solved as without a reference.
    reference_margin : float
        Relative margin of the refutation, in [0, 1].

    Returns
    -------
    BatchRecoveryResult
        ``status`` per column: ``optimal`` (verified, with its dual vector in ``dual``),
        ``refuted`` (decision mode), ``infeasible`` (y is not in the range of A, or the
        nonnegative program has no feasible point), ``optimal_inaccurate`` / ``max_iter``
        (only with ``fallback=False``, or when even HiGHS's answer fails the verification).

    Notes
    -----
    ADMM (Boyd, Parikh, Chu, Peleato, Eckstein 2011, Sec. 6.2) on ``min f(x) + g(z)`` s.t.
    ``x = z`` with f the indicator of ``{A x = y}`` and g the l1 norm (plus the indicator of
    x >= 0): the x-step is the orthogonal projection onto the affine set (precomputed SVD of A),
    the z-step a soft-threshold at 1/rho, the scaled dual ``u`` accumulates ``x - z``. All columns
    iterate together through two BLAS products per iteration.

    Stopping rule per column: primal residual ``r = ||x - z||_2 <= sqrt(n) eps_abs + eps_rel
    max(||x||, ||z||)`` and dual residual ``s = rho ||z - z_prev||_2 <= sqrt(n) eps_abs + eps_rel
    rho ||u||``; or, earlier, a successful polish. Polishing: take the support S of z (then S
    joined with the near-equicorrelation set ``|w_i| >= 0.99``, w = ADMM's ``rho u``), solve
    ``A_S x_S = y`` by least squares and project the dual estimate onto
    ``A_S^T nu = sign(x_S)``; a column whose attempt fails waits 1, 2, 4, up to 8 polish periods
    before the next one. A column is due for a polish when its sign pattern held for a polish
    period, every 5 periods, and at convergence.

    Exact path: a column due for a polish whose iterate has at least rank(A) / 2 nonzeros (at or
    beyond the phase transition, where ADMM settles slowly and a polish costs an m x rank QR),
    a column that converged without a certificate, and every column open at ``max_iter`` run a
    primal simplex method for the piecewise-linear program (Fourer 1985) on
    ``diag(s_r) V_r^T x = U_r^T y``, started from the basis made of the support of z completed
    by the largest ``|w_i|``: tens of pivots finish what hundreds of ADMM iterations would not.
    When the simplex fails (pivot cap, singular basis) HiGHS solves the column (y scaled by a
    power of two, then verified).

    Verification: every ``optimal`` column carries a dual vector nu, and its answer passes
    :func:`csuper.recovery.certify_basis_pursuit`'s test with ``tol = cert_tol``: the
    componentwise backward error ``max_j |A x - y|_j / (|A| |x| + |y|)_j`` and
    ``(||x||_1 - L) / ||x||_1``, with L the lower bound on the optimum given by nu (dual
    feasible after division, rounding errors included), are at most ``cert_tol``. A
    ``refuted`` point passes the backward-error test and has l1 norm below the reference's.

    References
    ----------
    S. Boyd, N. Parikh, E. Chu, B. Peleato, J. Eckstein, "Distributed optimization and statistical
    learning via the alternating direction method of multipliers", Found. Trends Mach. Learn. 3
    (2011), doi:10.1561/2200000016; R. Fourer, "A simplex algorithm for piecewise-linear
    programming I", Math. Programming 33 (1985), doi:10.1007/BF01582008.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> A = rng.standard_normal((40, 100)) / np.sqrt(40)
    >>> X = np.zeros((100, 3)); X[:5] = rng.standard_normal((5, 3))
    >>> res = batch_basis_pursuit(A, A @ X)
    >>> res.status.tolist(), bool(np.allclose(res.x, X, atol=1e-9))
    (['optimal', 'optimal', 'optimal'], True)
    """
    A, Y = check_system(A, Y, y_name="Y", batch=True)
    nonnegative = check_bool(nonnegative, "nonnegative")
    if rho is None:
        rho = 4.0 if nonnegative else 1.0
    settings = _Settings(
        nonnegative=nonnegative,
        rho=check_real(rho, "rho", low=0.0, low_inclusive=False),
        alpha=check_real(
            alpha, "alpha", low=0.0, high=2.0, low_inclusive=False, high_inclusive=False
        ),
        eps_abs=check_real(eps_abs, "eps_abs", low=0.0),
        eps_rel=check_real(eps_rel, "eps_rel", low=0.0),
        max_iter=check_int(max_iter, "max_iter", low=1, high=np.iinfo(np.int64).max),
        polish_every=check_int(polish_every, "polish_every", low=1),
        cert_tol=check_real(cert_tol, "cert_tol", low=0.0, high=1.0, high_inclusive=False),
        fallback=check_bool(fallback, "fallback"),
        adaptive_rho=check_bool(adaptive_rho, "adaptive_rho"),
        reference_margin=check_real(reference_margin, "reference_margin", low=0.0, high=1.0),
    )
    if reference is not None:
        reference = check_array(reference, "reference", ndim=(1, 2), dtype=np.float64)
        if reference.ndim == 1:
            reference = reference[:, None]
        if reference.shape != (A.shape[1], Y.shape[1]):
            raise ValueError(
                f"reference must have shape {(A.shape[1], Y.shape[1])} (n, B); got "
                f"{reference.shape}."
            )
    if blas_threads is not None:
        blas_threads = check_int(blas_threads, "blas_threads", low=1, high=4096)
    (m, n), B = A.shape, Y.shape[1]
    check_memory(
        _batch_bytes(m, n, B),
        f"batch_basis_pursuit of A with shape ({m}, {n}) and {B} right-hand sides",
        f"solve Y in chunks of at most {max(1, _max_columns(m, n))} columns (they are independent)",
    )
    t0 = time.perf_counter()
    with threadpool_limits(limits=blas_threads, user_api="blas"):
        out = _solve(A, Y, reference, settings)
    result = out.result(A, Y, time.perf_counter() - t0)
    open_columns = int(np.sum(np.isin(result.status, ("optimal_inaccurate", "max_iter"))))
    if open_columns and settings.fallback:
        warnings.warn(
            f"{open_columns} of {B} columns failed the verification even after the exact path "
            "(status optimal_inaccurate or max_iter): badly conditioned problems.",
            ConvergenceWarning,
            stacklevel=2,
        )
    return result


def _batch_bytes(m: int, n: int, B: int) -> float:
    """Peak bytes: A's SVD factors, the exact path's copy of A (r <= m), the outputs and ADMM's
    iterates (about ten n x B and four m x B float64 arrays)."""
    r = min(m, n)
    return 8.0 * (3.0 * n * r + 2.0 * m * r + 10.0 * n * B + 4.0 * m * B)


def _max_columns(m: int, n: int) -> int:
    """The most right-hand sides whose :func:`_batch_bytes` fits the memory budget."""
    r = min(m, n)
    fixed = 8.0 * (3.0 * n * r + 2.0 * m * r)
    return int(max(0.0, memory_budget() - fixed) // (8.0 * (10.0 * n + 4.0 * m)))


#: A column whose iterate has at least this fraction of rank(A) nonzeros when it is due for a
#: polish goes to the exact path instead (measured at n = 200, m = 100 at and beyond the
#: transition: 1.6-1.8 ms per column against 2.3-3.0 ms when such columns were polished first
#: and handed over only after a failure; 0.4 and 0.6 measured the same as 0.5).
_WIDE = 0.5


@dataclass(frozen=True)
class _Settings:
    """The validated options of :func:`batch_basis_pursuit`."""

    nonnegative: bool
    rho: float
    alpha: float
    eps_abs: float
    eps_rel: float
    max_iter: int
    polish_every: int
    cert_tol: float
    fallback: bool
    adaptive_rho: bool
    reference_margin: float


class _Output:
    """Per-column answers of the batch, filled in as columns are settled."""

    def __init__(self, n: int, m: int, B: int) -> None:
        self.x = np.full((n, B), np.nan)
        self.dual = np.full((m, B), np.nan)
        self.status = np.full(B, "max_iter", dtype=object)
        self.n_iter = np.zeros(B, dtype=np.int64)

    def settle(self, j, status: str, x=None, nu=None, it: int | None = None) -> None:
        self.status[j] = status
        self.x[:, j] = np.nan if x is None else x
        self.dual[:, j] = np.nan if nu is None else nu
        if it is not None:
            self.n_iter[j] = it

    def result(self, A, Y, elapsed: float) -> BatchRecoveryResult:
        B = Y.shape[1]
        has_x = ~np.isnan(self.x).any(axis=0)
        residual = np.full(B, np.nan)
        objective = np.full(B, np.nan)
        if has_x.any():
            residual[has_x] = norm2(A @ self.x[:, has_x] - Y[:, has_x], axis=0)
            objective[has_x] = l1_objective(self.x[:, has_x])
        return BatchRecoveryResult(
            x=self.x,
            status=self.status.astype(str),
            residual=residual,
            objective=objective,
            n_iter=self.n_iter,
            solver="admm",
            time=elapsed,
            dual=self.dual,
        )


class _Iterates:
    """ADMM state of the columns still open; ``ids`` maps them to columns of Y.

    Every column is scaled so that its minimum-norm solution has unit largest entry (basis
    pursuit is positively homogeneous in y): ``scale`` undoes it.
    """

    def __init__(self, problem: _Problem, ids: np.ndarray, settings: _Settings) -> None:
        V_r, s_r = problem.V_r, problem.s_r
        Bc = (problem.U_r.T @ problem.Y[:, ids]) / s_r[:, None]  # x_min_norm = V_r Bc
        self.scale = np.abs(V_r @ Bc).max(axis=0)
        self.Bk = np.ascontiguousarray(Bc / self.scale)
        self.Z = V_r @ self.Bk
        self.U = np.zeros_like(self.Z)
        self.X = np.empty_like(self.Z)
        self.ids = ids.copy()
        nb = ids.size
        self.norms = tuple(np.empty(nb) for _ in range(5))  # r2, s2, x2, z2, u2
        self.rhos = np.full(nb, settings.rho)
        self.fails = np.zeros(nb, dtype=np.int64)
        self.next_try = np.zeros(nb, dtype=np.int64)
        self.prev_sig: np.ndarray | None = None
        self.ref_l1 = None
        if problem.reference is not None:
            ref = l1_objective(problem.reference[:, ids]) / self.scale
            self.ref_l1 = ref * (1.0 - settings.reference_margin)

    def __len__(self) -> int:
        return int(self.ids.size)

    def keep(self, mask: np.ndarray) -> None:
        """Drop the columns where ``mask`` is False."""
        for name in ("ids", "scale", "rhos", "fails", "next_try", "ref_l1"):
            value = getattr(self, name)
            if value is not None:
                setattr(self, name, value[mask])
        for name in ("Z", "U", "Bk"):
            setattr(self, name, np.ascontiguousarray(getattr(self, name)[:, mask]))
        if self.prev_sig is not None:
            self.prev_sig = self.prev_sig[:, mask]
        self.X = np.empty_like(self.Z)
        self.norms = tuple(np.empty(len(self)) for _ in range(5))


class _Problem:
    """What every stage shares: A, Y, the range basis of A, the reference, the exact solver."""

    def __init__(self, A, Y, reference, settings: _Settings) -> None:
        self.A, self.Y, self.reference = A, Y, reference
        self.U_r, self.s_r, self.V_r = range_basis(A)
        self.settings = settings
        self._exact: ExactSolver | None = None

    @property
    def exact(self) -> ExactSolver:
        if self._exact is None:
            basis = (self.U_r, self.s_r, self.V_r)
            self._exact = ExactSolver(
                self.A, basis, self.settings.nonnegative, self.settings.cert_tol
            )
        return self._exact

    def ref_l1(self, j) -> float:
        """The refutation threshold of column j (``inf`` without a reference)."""
        if self.reference is None:
            return np.inf
        return l1_objective(self.reference[:, j]) * (1.0 - self.settings.reference_margin)


def _solve(A, Y, reference, settings: _Settings) -> _Output:
    problem = _Problem(A, Y, reference, settings)
    m, n = A.shape
    out = _Output(n, m, Y.shape[1])
    active = _settle_trivial(problem, out)
    if active.size:
        _iterate(problem, _Iterates(problem, active, settings), out)
    _verify(problem, out)
    return out


def _settle_trivial(problem: _Problem, out: _Output) -> np.ndarray:
    """Columns not in the range of A are infeasible, y = 0 gives x = 0; returns the others."""
    Y, U_r = problem.Y, problem.U_r
    yn = norm2(Y, axis=0)
    off_range = norm2(Y - U_r @ (U_r.T @ Y), axis=0)
    incons = off_range > 1e-10 * yn
    zero = ~incons & (yn == 0)
    out.status[incons] = "infeasible"
    for j in np.flatnonzero(zero):
        out.settle(j, "optimal", np.zeros(problem.A.shape[1]), np.zeros(problem.A.shape[0]))
    return np.flatnonzero(~incons & ~zero)


def _shrink(it: _Iterates, settings: _Settings) -> None:
    from numba import config

    fn = _k.shrink_update_numpy if config.DISABLE_JIT else _k.shrink_update
    fn(it.X, it.Z, it.U, 1.0 / it.rhos, settings.alpha, settings.nonnegative, *it.norms)


def _admm_step(problem: _Problem, it: _Iterates, k: int) -> np.ndarray:
    """One ADMM iteration of every open column; returns the mask of converged columns."""
    s = problem.settings
    V_r = problem.V_r
    Vm = it.Z - it.U
    it.X[:] = Vm - V_r @ (V_r.T @ Vm - it.Bk)  # projection onto {x : V_r^T x = b}
    _shrink(it, s)
    r2, s2, x2, z2, u2 = it.norms
    rr = np.sqrt(r2)
    ss = it.rhos * np.sqrt(s2)
    sq = np.sqrt(problem.A.shape[1])
    conv = (rr <= sq * s.eps_abs + s.eps_rel * np.sqrt(np.maximum(x2, z2))) & (
        ss <= sq * s.eps_abs + s.eps_rel * it.rhos * np.sqrt(u2)
    )
    if s.adaptive_rho and k % 10 == 0:
        # residual balancing (Boyd et al. 2011, Sec. 3.4.1); U is scaled by 1/rho
        fac = np.where(rr > 10.0 * ss, 2.0, np.where(ss > 10.0 * rr, 0.5, 1.0))
        it.rhos *= fac
        it.U /= fac
    return conv


def _iterate(problem: _Problem, it: _Iterates, out: _Output) -> None:
    """Run ADMM with polishing until every column is settled or handed to the exact path."""
    s = problem.settings
    for k in range(1, s.max_iter + 1):
        conv = _admm_step(problem, it, k)
        done = np.zeros(len(it), dtype=bool)
        polish_time = k % s.polish_every == 0 or k == s.max_iter
        if it.ref_l1 is not None and polish_time:
            _refute_iterates(it, out, done, k, s.nonnegative)
        wide = np.zeros(len(it), dtype=bool)
        if polish_time or conv.any():
            wide = _polish(problem, it, out, conv, done, k, polish_time)
        # a column ADMM will not settle soon goes to the exact path: converged without a
        # certificate, at the iteration cap, or due for a polish with a support too wide to
        # polish cheaply (at or beyond the phase transition, where ADMM settles slowly and the
        # warm-started simplex fast)
        hand = ~done & (conv | wide | (k == s.max_iter))
        for c in np.flatnonzero(hand):
            _settle_open(problem, out, it, c, k, converged=bool(conv[c]))
            done[c] = True
        if done.all():
            return
        if done.any():
            it.keep(~done)


def _refute_iterates(it: _Iterates, out: _Output, done, k: int, nonnegative: bool) -> None:
    """Decision mode: X is feasible (A X = Y up to round-off), so a smaller l1 norm than the
    reference's refutes it (nonnegative: only iterates with X >= 0 count)."""
    X = it.X
    if nonnegative:
        l1x = np.where(X.min(axis=0) >= 0.0, X.sum(axis=0), np.inf)
    else:
        l1x = np.abs(X).sum(axis=0)
    for c in np.flatnonzero(l1x < it.ref_l1):
        out.settle(it.ids[c], "refuted", X[:, c] * it.scale[c], it=k)
        done[c] = True


def _polish(
    problem: _Problem, it: _Iterates, out: _Output, conv, done, k: int, polish_time
) -> np.ndarray:
    """Polish and certify the columns due (see :func:`batch_basis_pursuit`, Notes); returns the
    mask of due columns whose support is too wide to polish cheaply (for the exact path)."""
    s = problem.settings
    A, U_r, s_r, V_r = problem.A, problem.U_r, problem.s_r, problem.V_r
    m, n = A.shape
    if polish_time:
        # polish where the sign pattern held since the last check (or ADMM converged)
        sig = np.sign(it.Z).astype(np.int8)
        stable = np.all(sig == it.prev_sig, axis=0) if it.prev_sig is not None else conv
        periodic = k % (5 * s.polish_every) == 0 or k == s.max_iter
        check = np.flatnonzero(stable | conv | periodic)
        it.prev_sig = sig
    else:
        check = np.flatnonzero(conv)
    xs = np.empty(n)
    nu = np.empty(m)
    wide = (it.Z != 0).sum(axis=0) >= _WIDE * s_r.size
    handoff = np.zeros(len(it), dtype=bool)
    for c in check:
        if done[c] or (k < it.next_try[c] and not conv[c]):
            continue
        if wide[c]:
            # at or beyond the phase transition: the exact path, not a costly polish
            handoff[c] = True
            continue
        j = it.ids[c]
        code = _k.polish_certify(
            A,
            U_r,
            s_r,
            V_r,
            problem.Y[:, j] / it.scale[c],
            it.Z[:, c].copy(),
            it.rhos[c] * it.U[:, c],
            s.nonnegative,
            s.cert_tol,
            xs,
            nu,
        )
        if code == 2:
            out.settle(j, "optimal", xs * it.scale[c], nu, it=k)
            done[c] = True
        elif code == 1 and it.ref_l1 is not None and l1_objective(xs) < it.ref_l1[c]:
            # an exactly feasible point with a smaller l1 norm than the reference
            out.settle(j, "refuted", xs * it.scale[c], it=k)
            done[c] = True
        else:
            # back off: wait 1, 2, 4, ... up to 8 polish periods before retrying
            it.fails[c] += 1
            it.next_try[c] = k + s.polish_every * min(2 ** (it.fails[c] - 1), 8)
    return handoff


def _settle_open(problem: _Problem, out: _Output, it: _Iterates, c, k: int, converged):
    """A column ADMM did not settle: the exact path, or its ADMM status without a fallback."""
    j = it.ids[c]
    z = it.Z[:, c]
    if not problem.settings.fallback:
        out.settle(j, "optimal_inaccurate" if converged else "max_iter", z * it.scale[c], it=k)
        return
    res = problem.exact.solve(problem.Y[:, j], z, it.U[:, c], problem.ref_l1(j))
    out.settle(j, res.status, res.x, res.nu, it=k)


def _verify(problem: _Problem, out: _Output) -> None:
    """Re-check every ``optimal`` and ``refuted`` column with the shared verification; a column
    that fails goes to the exact path (or is downgraded without a fallback)."""
    s = problem.settings
    A, Y = problem.A, problem.Y
    opt = np.flatnonzero(out.status == "optimal")
    bad = []
    if opt.size:
        ok = verify_columns(
            A,
            Y[:, opt],
            out.x[:, opt],
            out.dual[:, opt],
            nonnegative=s.nonnegative,
            tol=s.cert_tol,
        )
        bad += opt[~ok].tolist()
    for j in np.flatnonzero(out.status == "refuted"):
        x = out.x[:, j]
        feasible = backward_error(A, Y[:, j], x) <= s.cert_tol
        if s.nonnegative:
            feasible = feasible and negativity(x) == 0.0
        if not (feasible and l1_objective(x) < problem.ref_l1(j)):
            bad.append(j)
    for j in bad:
        if s.fallback:
            res = problem.exact.solve(Y[:, j], ref_l1=problem.ref_l1(j))
            out.settle(j, res.status, res.x, res.nu)
        else:
            out.settle(j, "optimal_inaccurate", out.x[:, j])
