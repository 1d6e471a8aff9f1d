"""Greedy baselines for sparse recovery: orthogonal matching pursuit and iterative hard
thresholding."""

from __future__ import annotations

import time

import numpy as np

from csuper._lazy import lazy_import
from csuper._norms import norm2, pow2_exponent
from csuper._validation import check_bool, check_int, check_memory, check_real
from csuper.recovery._common import BatchRecoveryResult, check_system

_k = lazy_import("csuper.recovery._greedy_kernels")

__all__ = ["omp", "iht"]


def _unit_system(A: np.ndarray, Y: np.ndarray) -> tuple[np.ndarray, np.ndarray, int, np.ndarray]:
    """``(A', Y', ea, ey)``: A = 2**ea A' and Y[:, j] = 2**ey[j] Y'[:, j] with the largest
    entry of A' and of each column of Y' in [0.5, 1) (exact). Both methods are scale
    equivariant, and on (A', Y') their squares neither overflow (A, y ~ 1e200) nor underflow
    (~1e-200); the solution is ``x_j = 2**(ey[j] - ea) x'_j``."""
    ea = int(pow2_exponent(np.max(np.abs(A))))
    ey = pow2_exponent(np.max(np.abs(Y), axis=0))
    return np.ldexp(A, -ea), np.ldexp(Y, -ey[None, :]), ea, ey


def _finish(A, Y, X, ea, ey, status, iters, solver, t0) -> BatchRecoveryResult:
    """The result in the caller's units from the scaled system (A', Y', X') of
    :func:`_unit_system`: ``A x - y = 2**ey (A' x' - y')``."""
    residual = np.ldexp(norm2(A @ X - Y, axis=0), ey)
    with np.errstate(over="ignore"):
        X = np.ldexp(X, (ey - ea)[None, :])
    if not np.all(np.isfinite(X)):
        raise ValueError(
            f"{solver} found a solution with entries beyond float64's range (about 1.8e308): "
            "Y is too large for A; rescale them."
        )
    return BatchRecoveryResult(
        x=X,
        status=np.asarray(status, dtype=str),
        residual=residual,
        objective=np.abs(X).sum(axis=0),
        n_iter=np.asarray(iters),
        solver=solver,
        time=time.perf_counter() - t0,
    )


def _check_greedy_memory(name: str, A: np.ndarray, Y: np.ndarray) -> None:
    """Both methods hold about six n x B float64 arrays (estimates, gradients, candidates)."""
    (m, n), B = A.shape, Y.shape[1]
    check_memory(
        8.0 * (6.0 * n * B + 3.0 * m * B),
        f"{name} of A with shape ({m}, {n}) and {B} right-hand sides",
        "solve Y in chunks of fewer columns (they are independent)",
    )


def omp(A, Y, k: int, *, tol: float = 1e-10, nonnegative: bool = False) -> BatchRecoveryResult:
    """Orthogonal matching pursuit for each column of Y.

    Parameters
    ----------
    A : array_like, shape (m, n)
    Y : array_like, shape (m,) or (m, B)
    k : int
        Maximum number of atoms, in [1, n].
    tol : float
        Stop early when ``||r||_2 <= tol ||y||_2``.
    nonnegative : bool
        Select only atoms positively correlated with the residual (a simple nonnegative variant;
        coefficients are unconstrained least squares on the support).

    Returns
    -------
    BatchRecoveryResult
        ``status`` is ``optimal`` when the residual reached ``tol`` (y explained exactly) and
        ``max_iter`` otherwise; ``n_iter`` is the number of atoms chosen.

    Notes
    -----
    Each step picks the column most correlated with the residual and re-fits y by least squares
    on all chosen columns (orthogonal projection, kept as an incremental QR factorisation). For
    Gaussian A, OMP recovers k-sparse signals with high probability once m >~ C k log(n)
    (Tropp & Gilbert 2007).

    References
    ----------
    Y. C. Pati, R. Rezaiifar, P. S. Krishnaprasad (1993), doi:10.1109/ACSSC.1993.342465;
    J. A. Tropp, A. C. Gilbert, IEEE Trans. Inf. Theory 53 (2007), doi:10.1109/TIT.2007.909108.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> A = rng.standard_normal((30, 60)) / np.sqrt(30)
    >>> x = np.zeros(60); x[[3, 17, 40]] = [1.0, -2.0, 0.5]
    >>> res = omp(A, A @ x, k=3)
    >>> str(res.status[0]), bool(np.allclose(res.x[:, 0], x))
    ('optimal', True)
    """
    A, Y = check_system(A, Y, y_name="Y", batch=True)
    n = A.shape[1]
    k = check_int(k, "k", low=1, high=n)
    tol = check_real(tol, "tol", low=0.0)
    nonnegative = check_bool(nonnegative, "nonnegative")
    _check_greedy_memory("omp", A, Y)
    t0 = time.perf_counter()
    A, Y, ea, ey = _unit_system(A, Y)
    B = Y.shape[1]
    X = np.zeros((n, B))
    iters = np.zeros(B, dtype=np.int64)
    status = []
    Af = np.ascontiguousarray(A)
    for j in range(B):
        y = np.ascontiguousarray(Y[:, j])
        xj = np.zeros(n)
        iters[j] = _k.omp_column(Af, y, k, tol, nonnegative, xj)
        X[:, j] = xj
        yn = np.linalg.norm(y)
        status.append(
            "optimal" if np.linalg.norm(A @ xj - y) <= max(tol, 1e-12) * yn + 1e-300 else "max_iter"
        )
    return _finish(A, Y, X, ea, ey, status, iters, "omp", t0)


def iht(
    A, Y, k: int, *, max_iter: int = 500, tol: float = 1e-10, nonnegative: bool = False
) -> BatchRecoveryResult:
    """Iterative hard thresholding for each column of Y (batched).

    Parameters
    ----------
    A : array_like, shape (m, n)
    Y : array_like, shape (m,) or (m, B)
    k : int
        Sparsity kept at each step, in [1, n].
    max_iter : int
    tol : float
        Stop a column when ``||A x - y|| <= tol ||y||``.
    nonnegative : bool
        Threshold onto k-sparse nonnegative vectors.

    Returns
    -------
    BatchRecoveryResult
        ``optimal`` where the residual reached ``tol``; ``max_iter`` otherwise.

    Notes
    -----
    ``x <- H_k(x + mu A^T (y - A x))`` with the normalised step of Blumensath & Davies (2010),
    ``mu = ||g_S||^2 / ||A_S g_S||^2`` on the current support S, halved while the residual would
    increase (never below ``1 / ||A||_2^2``, where the iteration is a majorisation-minimisation
    and the residual cannot increase), followed on exit by a least-squares re-fit on the final
    support.

    References
    ----------
    T. Blumensath, M. E. Davies, "Iterative hard thresholding for compressed sensing", Appl.
    Comput. Harmon. Anal. 27 (2009), doi:10.1016/j.acha.2009.04.002; T. Blumensath, M. E.
    Davies, "Normalized iterative hard thresholding", IEEE J. Sel. Top. Signal Process. 4 (2010),
    doi:10.1109/JSTSP.2010.2042411.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> A = rng.standard_normal((40, 80)) / np.sqrt(40)
    >>> x = np.zeros(80); x[[3, 17]] = [1.0, -2.0]
    >>> res = iht(A, A @ x, k=2)
    >>> str(res.status[0]), bool(np.allclose(res.x[:, 0], x, atol=1e-8))
    ('optimal', True)
    """
    A, Y = check_system(A, Y, y_name="Y", batch=True)
    n = A.shape[1]
    k = check_int(k, "k", low=1, high=n)
    max_iter = check_int(max_iter, "max_iter", low=1, high=np.iinfo(np.int64).max)
    tol = check_real(tol, "tol", low=0.0)
    nonnegative = check_bool(nonnegative, "nonnegative")
    _check_greedy_memory("iht", A, Y)
    t0 = time.perf_counter()
    A, Y, ea, ey = _unit_system(A, Y)
    B = Y.shape[1]
    mu0 = 1.0 / np.linalg.norm(A, 2) ** 2
    X = np.zeros((n, B))
    yn = np.linalg.norm(Y, axis=0)
    iters = np.full(B, max_iter, dtype=np.int64)
    active = np.arange(B)
    for it in range(1, max_iter + 1):
        Xa = X[:, active]
        R = Y[:, active] - A @ Xa
        G = A.T @ R
        # normalised step (Blumensath & Davies 2010): mu = ||g_S||^2 / ||A_S g_S||^2 on the
        # current support (the top k of the gradient at the start); halved until the residual
        # does not increase, and never below the safe 1 / ||A||^2
        Smask = Xa != 0
        if it == 1:
            Gs = np.ascontiguousarray(G.copy())
            _k.hard_threshold(Gs, k, nonnegative)
            Smask = Gs != 0
        Gs = np.where(Smask, G, 0.0)
        num = (Gs**2).sum(axis=0)
        den = ((A @ Gs) ** 2).sum(axis=0)
        mu = np.where(den > 0, num / np.where(den > 0, den, 1.0), mu0)
        old = (R**2).sum(axis=0)
        Xn = np.empty_like(Xa)
        pending = np.arange(active.size)
        for _ in range(30):
            cand = np.ascontiguousarray(Xa[:, pending] + mu[pending] * G[:, pending])
            _k.hard_threshold(cand, k, nonnegative)
            new = ((Y[:, active[pending]] - A @ cand) ** 2).sum(axis=0)
            good = (new <= old[pending]) | (mu[pending] <= mu0)
            Xn[:, pending[good]] = cand[:, good]
            pending = pending[~good]
            if pending.size == 0:
                break
            mu[pending] = np.maximum(mu[pending] / 2.0, mu0)
        X[:, active] = Xn
        res = np.linalg.norm(A @ Xn - Y[:, active], axis=0)
        fin = res <= tol * yn[active]
        iters[active[fin]] = it
        active = active[~fin]
        if active.size == 0:
            break
    status = []
    for j in range(B):  # least-squares re-fit on the support
        S = np.flatnonzero(X[:, j])
        if S.size:
            coef = np.linalg.lstsq(A[:, S], Y[:, j], rcond=None)[0]
            if not nonnegative or np.all(coef >= 0):
                X[S, j] = coef
        ok = np.linalg.norm(A @ X[:, j] - Y[:, j]) <= max(tol, 1e-12) * yn[j] * 10 + 1e-300
        status.append("optimal" if ok else "max_iter")
    return _finish(A, Y, X, ea, ey, status, iters, "iht", t0)
