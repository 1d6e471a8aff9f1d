"""Fast batched basis pursuit (signed and nonnegative) for many right-hand sides sharing one A."""

from __future__ import annotations

import time

import numpy as np
from threadpoolctl import threadpool_limits

from csuper._lazy import lazy_import
from csuper._validation import check_array, check_int, check_real
from csuper.recovery._common import BatchRecoveryResult, check_system
from csuper.recovery.certificate import _decide_planted, _range_basis
from csuper.recovery.convex import _highs_bp

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
        ADMM iteration cap; columns still unsolved are handed to the fallback or get status
        ``max_iter``.
    polish_every : int
        Try to polish and certify the unfinished columns every this many iterations.
    cert_tol : float
        Accepted certified relative duality gap (see Notes).
    fallback : bool
        Solve the columns ADMM leaves unsolved after ``max_iter`` iterations, or stops by its
        residual rule without a certificate, (nearly degenerate
        instances, e.g. an entry 1e-4 times the others, converge slowly) exactly with scipy's HiGHS
        LP (:func:`csuper.recovery.highs_basis_pursuit`), then polish and certify its vertex. Its
        status (``optimal`` or ``infeasible``) is the column's status.
    adaptive_rho : bool
        Per-column residual balancing every 10 iterations: rho doubles when the primal residual
        exceeds 10 times the dual one and halves in the opposite case (Boyd et al. 2011,
        Sec. 3.4.1).
    reference : array_like, shape (n, B), optional
        Planted signals (decision mode, for phase-transition experiments): a column stops as
        soon as an ADMM iterate X, which is feasible, has ``||X||_1 < (1 - reference_margin)
        ||x_ref||_1``; that proves the reference is not a solution (recovery failed) and the
        column gets status ``refuted`` with that feasible x. Nonnegative: only iterates with
        X >= 0 count. A column whose polishing failed 3 times, or that reaches ``max_iter``
        undecided, is settled exactly by the face condition of its planted signal (a small LP
        in the dual, ``m - k + 1`` variables, see ``certificate._decide_planted``): status
        ``optimal`` with the verified dual certificate (the reference is the unique solution),
        or ``refuted`` with a verified feasible point of smaller l1 norm built from the LP's
        Farkas multipliers; only what that check leaves undecided goes to ``fallback``.
    reference_margin : float
        Relative margin of the refutation, in [0, 1].
    blas_threads : int or None
        BLAS threads for the iteration's matrix products (``None``: the library default). The
        default 1 was measured fastest on a shared 2-core machine (benchmarks/results_recovery.md);
        run several batches in parallel processes rather than giving one batch more threads.

    Returns
    -------
    BatchRecoveryResult
        With ``reference``, ``refuted`` marks columns whose reference was proven suboptimal.
        ``status`` is ``optimal`` only for columns with a verified optimality certificate (or,
        for the columns handed to the fallback, an optimal HiGHS solve), ``optimal_inaccurate`` for
        columns where ADMM met its stopping rule but polishing did
        not certify, ``max_iter`` at the cap (only with ``fallback=False``), ``infeasible`` when
        y is not in the range of A or (via the fallback) the nonnegative program has no feasible
        point.

    Notes
    -----
    ADMM (Boyd, Parikh, Chu, Peleato, Eckstein 2011, Sec. 6.2) on ``min f(x) + g(z)`` s.t.
    ``x = z`` with f the indicator of ``{A x = y}`` and g the l1 norm (plus the indicator of
    x >= 0): the x-step is the orthogonal projection onto the affine set (precomputed SVD of A),
    the z-step a soft-threshold at 1/rho, the scaled dual ``u`` accumulates ``x - z``. All columns
    iterate together through two BLAS products per iteration.

    Stopping rule per column: primal residual ``r = ||x - z||_2 <= sqrt(n) eps_abs + eps_rel
    max(||x||, ||z||)`` and dual residual ``s = rho ||z - z_prev||_2 <= sqrt(n) eps_abs + eps_rel
    rho ||u||``; or, earlier, a successful polish. Polishing: take the support S of z, solve
    ``A_S x_S = y`` by least squares, and accept when the residual is at round-off level and a
    dual vector nu (ADMM's ``rho u`` mapped through A, then projected onto ``A_S^T nu = sign(x_S)``)
    satisfies ``max |A^T nu| <= 1 + cert_tol`` (nonnegative: ``max A^T nu <= 1 + cert_tol`` and
    ``x_S > 0``). This is the KKT certificate of basis pursuit: the relative duality gap of the
    rescaled dual point is then at most cert_tol, so the polished x is optimal to that accuracy,
    and to round-off when the certificate is strict off the support (unique solution). Polishing
    also tries the support enlarged by the near-equicorrelation set and a vertex guess (see the
    kernel ``polish_certify``); a column whose attempt fails waits 1, 2, 4, up to 8 polish
    periods before the next one.

    References
    ----------
    S. Boyd, N. Parikh, E. Chu, B. Peleato, J. Eckstein, "Distributed optimization and statistical
    learning via the alternating direction method of multipliers", Found. Trends Mach. Learn. 3
    (2011), doi:10.1561/2200000016.

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
    nonnegative = bool(nonnegative)
    if rho is None:
        rho = 4.0 if nonnegative else 1.0
    rho = check_real(rho, "rho", low=0.0, low_inclusive=False)
    alpha = check_real(alpha, "alpha", low=0.0, high=2.0, low_inclusive=False, high_inclusive=False)
    eps_abs = check_real(eps_abs, "eps_abs", low=0.0)
    eps_rel = check_real(eps_rel, "eps_rel", low=0.0)
    max_iter = check_int(max_iter, "max_iter", low=1)
    polish_every = check_int(polish_every, "polish_every", low=1)
    cert_tol = check_real(cert_tol, "cert_tol", low=0.0)
    nonnegative = bool(nonnegative)
    ref_margin = check_real(reference_margin, "reference_margin", low=0.0, high=1.0)
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
        blas_threads = check_int(blas_threads, "blas_threads", low=1)
    with threadpool_limits(limits=blas_threads, user_api="blas"):
        return _admm(
            A,
            Y,
            nonnegative,
            rho,
            alpha,
            eps_abs,
            eps_rel,
            max_iter,
            polish_every,
            cert_tol,
            bool(fallback),
            bool(adaptive_rho),
            reference,
            ref_margin,
        )


#: In decision mode (``reference`` given), polishing failures after which a column leaves ADMM
#: for the exact face-condition decision (measured: polishing attempts dominated the run time of
#: the nonnegative phase diagram's transition region).
_DECIDE_AFTER = 3


#: Polishing tries the costly vertex guess (an m x rank(A) QR) only once a column has failed
#: this many cheaper attempts, or at ADMM convergence (measured faster on the benchmark sizes).
_VERTEX_AFTER = 1


def _shrink(*args):
    from numba import config

    (_k.shrink_update_numpy if config.DISABLE_JIT else _k.shrink_update)(*args)


def _admm(
    A,
    Y,
    nonnegative,
    rho,
    alpha,
    eps_abs,
    eps_rel,
    max_iter,
    polish_every,
    cert_tol,
    fallback,
    adaptive,
    reference,
    ref_margin,
):
    t0 = time.perf_counter()
    m, n = A.shape
    B = Y.shape[1]
    basis = _range_basis(A)
    U_r, s_r, V_r = basis  # A = U_r diag(s_r) V_r^T, rank r
    # consistency: y must lie in range(A)
    coef = U_r.T @ Y
    yn = np.linalg.norm(Y, axis=0)
    incons = np.linalg.norm(Y - U_r @ coef, axis=0) > 1e-10 * np.maximum(yn, 1e-300) + 1e-300
    x_out = np.full((n, B), np.nan)
    dual_out = np.full((m, B), np.nan)
    status = np.full(B, "max_iter", dtype=object)
    iters = np.zeros(B, dtype=np.int64)
    status[incons] = "infeasible"
    zero = (~incons) & (yn == 0)
    x_out[:, zero] = 0.0
    dual_out[:, zero] = 0.0
    status[zero] = "optimal"
    active = np.flatnonzero((~incons) & (~zero))
    if active.size:
        # minimum-norm solutions and per-column scaling (BP is positively homogeneous in y)
        Bc = coef[:, active] / s_r[:, None]  # coordinates in V_r: x = V_r b
        X0 = V_r @ Bc
        scale = np.abs(X0).max(axis=0)
        Bc /= scale
        Ys = np.ascontiguousarray(Y[:, active] / scale)
        Bk = np.ascontiguousarray(Bc)
        Z = V_r @ Bk
        U = np.zeros_like(Z)
        X = np.empty_like(Z)
        ids = active.copy()
        nb = ids.size
        ref_l1 = None if reference is None else np.abs(reference[:, active]).sum(axis=0) / scale
        r2, s2, x2, z2, u2 = (np.empty(nb) for _ in range(5))
        rhos = np.full(nb, rho)
        fails = np.zeros(nb, dtype=np.int64)
        next_try = np.zeros(nb, dtype=np.int64)
        sq = np.sqrt(n)
        prev_sig = None
        for it in range(1, max_iter + 1):
            # x-step: projection of V = Z - U onto {x : V_r^T x = b}
            Vm = Z - U
            X[:] = Vm - V_r @ (V_r.T @ Vm - Bk)
            _shrink(X, Z, U, 1.0 / rhos, alpha, nonnegative, r2, s2, x2, z2, u2)
            rr = np.sqrt(r2)
            ss = rhos * np.sqrt(s2)
            conv = (rr <= sq * eps_abs + eps_rel * np.sqrt(np.maximum(x2, z2))) & (
                ss <= sq * eps_abs + eps_rel * rhos * np.sqrt(u2)
            )
            if adaptive and it % 10 == 0:
                # residual balancing (Boyd et al. 2011, Sec. 3.4.1); U is scaled by 1/rho
                up = rr > 10.0 * ss
                down = ss > 10.0 * rr
                fac = np.where(up, 2.0, np.where(down, 0.5, 1.0))
                rhos *= fac
                U /= fac
            done = np.zeros(nb, dtype=bool)
            if ref_l1 is not None and it % polish_every == 0:
                # X is feasible (A X = Y up to round-off): a smaller l1 norm refutes the reference
                if nonnegative:
                    l1x = np.where(X.min(axis=0) >= 0.0, X.sum(axis=0), np.inf)
                else:
                    l1x = np.abs(X).sum(axis=0)
                for c in np.flatnonzero(l1x < ref_l1 * (1.0 - ref_margin)):
                    j = ids[c]
                    x_out[:, j] = X[:, c] * scale[c]
                    status[j] = "refuted"
                    iters[j] = it
                    done[c] = True
            if it % polish_every == 0 or conv.any() or it == max_iter:
                sig = np.sign(Z).astype(np.int8)
                if it % polish_every == 0 or it == max_iter:
                    # polish where the sign pattern held since the last check (or ADMM converged)
                    stable = np.all(sig == prev_sig, axis=0) if prev_sig is not None else conv
                    check = np.flatnonzero(
                        stable | conv | (it == max_iter) | (it % (5 * polish_every) == 0)
                    )
                    prev_sig = sig
                else:
                    check = np.flatnonzero(conv)
                for c in check:
                    if done[c] or (it < next_try[c] and not conv[c]):
                        continue
                    xs = np.empty(n)
                    nu = np.empty(m)
                    code = _k.polish_certify(
                        A,
                        U_r,
                        s_r,
                        V_r,
                        Ys[:, c].copy(),
                        Z[:, c].copy(),
                        rhos[c] * U[:, c],
                        nonnegative,
                        cert_tol,
                        xs,
                        nu,
                        3 if fails[c] >= _VERTEX_AFTER or conv[c] else 2,
                    )
                    j = ids[c]
                    if code == 2:
                        x_out[:, j] = xs * scale[c]
                        dual_out[:, j] = nu
                        status[j] = "optimal"
                        iters[j] = it
                        done[c] = True
                    elif (
                        code == 1
                        and ref_l1 is not None
                        and (np.abs(xs).sum() < ref_l1[c] * (1.0 - ref_margin))
                    ):
                        # an exactly feasible point (least squares on a support, x >= 0 when
                        # nonnegative) with a smaller l1 norm than the reference
                        x_out[:, j] = xs * scale[c]
                        status[j] = "refuted"
                        iters[j] = it
                        done[c] = True
                    else:
                        # back off: wait 1, 2, 4, ... up to 8 polish periods before retrying
                        fails[c] += 1
                        next_try[c] = it + polish_every * min(2 ** (fails[c] - 1), 8)
            if ref_l1 is not None:
                # decision mode: a column whose polishing failed _DECIDE_AFTER times is handed
                # to the exact face-condition decision (cheaper than more ADMM + polishing)
                for c in np.flatnonzero((fails >= _DECIDE_AFTER) & ~done & ~conv):
                    j = ids[c]
                    x_out[:, j] = Z[:, c] * scale[c]
                    iters[j] = it
                    done[c] = True
            finish = conv & ~done
            for c in np.flatnonzero(finish):
                j = ids[c]
                x_out[:, j] = Z[:, c] * scale[c]
                status[j] = "optimal_inaccurate"
                iters[j] = it
            keep = ~(done | finish)
            if it == max_iter:
                for c in np.flatnonzero(keep):
                    j = ids[c]
                    x_out[:, j] = Z[:, c] * scale[c]
                    iters[j] = it
                break
            if not keep.all():
                ids, Z, U, Bk, Ys, scale, rhos = (
                    ids[keep],
                    Z[:, keep],
                    U[:, keep],
                    Bk[:, keep],
                    Ys[:, keep],
                    scale[keep],
                    rhos[keep],
                )
                fails, next_try = fails[keep], next_try[keep]
                if ref_l1 is not None:
                    ref_l1 = ref_l1[keep]
                if prev_sig is not None:
                    prev_sig = prev_sig[:, keep]
                Z, U, Bk = (np.ascontiguousarray(a) for a in (Z, U, Bk))
                nb = ids.size
                if nb == 0:
                    break
                X = np.empty_like(Z)
                r2, s2, x2, z2, u2 = (np.empty(nb) for _ in range(5))
    if reference is not None:
        # decision mode: settle the planted signal exactly by its face condition (a small LP in
        # the dual, m - k + 1 variables) before any full LP solve
        for j in np.flatnonzero((status == "max_iter") | (status == "optimal_inaccurate")):
            st, xj, nu = _decide_planted(A, Y[:, j], reference[:, j], nonnegative, ref_margin)
            if st is not None:
                status[j] = st
                x_out[:, j] = xj
                if nu is not None:
                    dual_out[:, j] = nu
    if fallback:
        for j in np.flatnonzero((status == "max_iter") | (status == "optimal_inaccurate")):
            xj, st, nu, _, _ = _highs_bp(A, Y[:, j], nonnegative)
            status[j] = st
            if xj is None:
                x_out[:, j] = np.nan
                continue
            xs = np.empty(n)
            nus = np.empty(m)
            if (
                _k.polish_certify(
                    A,
                    U_r,
                    s_r,
                    V_r,
                    Y[:, j].copy(),
                    xj * (np.abs(xj) > 1e-9 * np.abs(xj).max()),
                    A.T @ nu,
                    nonnegative,
                    cert_tol,
                    xs,
                    nus,
                )
                == 2
            ):
                xj, nu = xs, nus
            x_out[:, j] = xj
            dual_out[:, j] = nu
    has_x = ~np.isnan(x_out).any(axis=0)
    residual = np.full(B, np.nan)
    objective = np.full(B, np.nan)
    if has_x.any():
        residual[has_x] = np.linalg.norm(A @ x_out[:, has_x] - Y[:, has_x], axis=0)
        objective[has_x] = np.abs(x_out[:, has_x]).sum(axis=0)
    return BatchRecoveryResult(
        x=x_out,
        status=status.astype(str),
        residual=residual,
        objective=objective,
        n_iter=iters,
        solver="admm",
        time=time.perf_counter() - t0,
        dual=dual_out,
    )
