"""Numerical search for packings: Grassmannian line packings and spherical codes of minimal
coherence.

A packing of N lines through the origin of R^d (a point set of the real projective space, or of the
Grassmannian G(d, 1)) is spread as well as possible when its coherence
``mu = max_{i != j} |<x_i, x_j>|`` is as small as possible, i.e. when the smallest angle between two
lines, ``arccos(mu)``, is as large as possible; the minimisers are Grassmannian frames. A spherical
code of N unit vectors is spread when the largest inner product ``max_{i != j} <x_i, x_j>`` (the
cosine of the smallest angle between two points, Tammes' problem in R^3) is as small as possible.

:func:`find_packing` searches for both with a multistart smoothing-then-polishing method; the
known optimal constructions live in :mod:`csuper.geometry.frames`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from threadpoolctl import threadpool_limits

from csuper._lazy import lazy_import
from csuper._validation import check_bool, check_frame, check_int, check_memory, check_rng
from csuper.geometry._sphere import MAX_INT

_k = lazy_import("csuper.geometry._packing_kernels")
optimize = lazy_import("scipy.optimize")
sparse = lazy_import("scipy.sparse")

__all__ = ["PACKING_KINDS", "PackingKind", "PackingResult", "find_packing", "max_overlap"]


def _lines_closed_form(n_features: int, n_dims: int) -> np.ndarray | None:
    """R^1: every line is the same line (coherence 1); N <= d: an orthonormal set (coherence 0)."""
    if n_dims == 1:
        return np.ones((1, n_features))
    if n_features <= n_dims:
        return np.eye(n_dims, n_features)
    return None


def _codes_closed_form(n_features: int, n_dims: int) -> np.ndarray | None:
    """R^1: points alternate +-1 (largest inner product -1 for N = 2, else 1)."""
    if n_dims == 1:
        return np.where(np.arange(n_features) % 2 == 0, 1.0, -1.0)[None, :]
    return None


@dataclass(frozen=True)
class PackingKind:
    """One packing problem of :data:`PACKING_KINDS`.

    Attributes
    ----------
    description : str
        What is minimised.
    squared : bool
        The overlap of a pair that the kernels maximise: ``<x_i, x_j>^2`` (True: lines, whose
        sign does not matter and whose square is smooth) or ``<x_i, x_j>`` (False: points).
    objective : callable
        ``objective(largest_overlap) -> float``: the reported objective from the largest
        overlap (its square root for lines).
    closed_form : callable
        ``closed_form(n_features, n_dims)``: the optimal frame when it is trivial, else None.
    """

    description: str
    squared: bool
    objective: Callable[[float], float]
    closed_form: Callable[[int, int], np.ndarray | None]


#: The packing problems :func:`find_packing` solves (name -> :class:`PackingKind`).
PACKING_KINDS: dict[str, PackingKind] = {
    "lines": PackingKind(
        "Grassmannian packing of lines: minimise max |<x_i, x_j>| (the coherence)",
        squared=True,
        objective=lambda g_max: float(np.sqrt(max(g_max, 0.0))),
        closed_form=_lines_closed_form,
    ),
    "codes": PackingKind(
        "spherical code: minimise max <x_i, x_j> (Tammes' problem on the sphere S^{d-1})",
        squared=False,
        objective=float,
        closed_form=_codes_closed_form,
    ),
}

# increasing sharpness of the log-sum-exp surrogate (its excess over the max is <= log(pairs)/t)
_SHARPNESS = (8.0, 32.0, 128.0, 512.0, 2048.0)
# HiGHS options for the polishing LPs: tolerances (defaults 1e-7 would cap the polish at ~1e-7)
# and an iteration cap (not a time limit, which would make results machine-dependent) against
# the rare LP whose crossover crawls; an LP stopped by the cap ends the SLP phase.
_LP_OPTIONS = {
    "primal_feasibility_tolerance": 1e-10,
    "dual_feasibility_tolerance": 1e-10,
    "maxiter": 2000,
}


def _check_kind(kind: object) -> PackingKind:
    if not isinstance(kind, str) or kind not in PACKING_KINDS:
        raise ValueError(f"kind must be one of {sorted(PACKING_KINDS)}; got {kind!r}.")
    return PACKING_KINDS[kind]


@dataclass(frozen=True)
class PackingResult:
    """Result of :func:`find_packing`.

    Attributes
    ----------
    frame : ndarray, shape (n_dims, n_features)
        Unit-norm columns: the lines' directions or the code's points.
    kind : {"lines", "codes"}
        The problem solved.
    objective : float
        The minimised quantity: max |<x_i, x_j>| for lines, max <x_i, x_j> for codes.
    coherence : float
        max_{i != j} |<x_i, x_j>| (equal to ``objective`` for lines).
    min_angle_deg : float
        Smallest angle between two lines (in [0, 90]) or two points (in [0, 180]), in degrees:
        ``degrees(arccos(objective))``.
    best_start : int
        Index of the start that won (0 for a closed-form answer).
    n_iter : int
        Iterations of the winning start (surrogate descent plus polishing).
    start_values : ndarray, shape (n_starts,)
        Final objective of every start, in order.
    method : {"search", "construction"}
        ``"construction"`` when the answer is known in closed form (see :func:`find_packing`).
    """

    frame: np.ndarray
    kind: str
    objective: float
    coherence: float
    min_angle_deg: float
    best_start: int
    n_iter: int
    start_values: np.ndarray
    method: str


def max_overlap(W, kind: str = "lines") -> float:
    """Largest overlap of the normalised columns of W: the objective of :func:`find_packing`.

    Parameters
    ----------
    W : array_like, shape (n_dims, n_features)
        Frame with nonzero columns (at least two).
    kind : {"lines", "codes"}
        ``"lines"``: max_{i<j} |<w_i, w_j>| / (|w_i| |w_j|) (the coherence);
        ``"codes"``: max_{i<j} <w_i, w_j> / (|w_i| |w_j|) (the cosine of the smallest angle).

    Returns
    -------
    float

    Examples
    --------
    >>> W = np.array([[1.0, 0.0, -1.0], [0.0, 1.0, 0.0]])
    >>> max_overlap(W, "lines"), max_overlap(W, "codes")
    (1.0, 0.0)
    """
    spec = _check_kind(kind)
    X = check_frame(W, "W", min_columns=2, dtype=np.float64)
    n = X.shape[1]
    check_memory(
        8 * (n * (n - 1) // 2 + X.size),
        f"max_overlap of n_features={n} columns (the {n * (n - 1) // 2} pair overlaps)",
        "use csuper.geometry.coherence(W), which streams the overlaps in tiles",
    )
    X = X / np.abs(X).max(axis=0)  # scale-free: column norms neither overflow nor underflow
    X, _ = _k.normalize_columns(X)
    return spec.objective(float(_k.pair_overlaps(X, spec.squared).max()))


def _angle_deg(objective: float) -> float:
    return float(np.degrees(np.arccos(np.clip(objective, -1.0, 1.0))))


def _surrogate_descent(Y: np.ndarray, lines: bool, max_iter: int) -> tuple[np.ndarray, int]:
    """L-BFGS on the log-sum-exp surrogate with increasing sharpness; returns (Y, iterations)."""
    d, n = Y.shape
    y = Y.ravel().copy()
    n_iter = 0
    for t in _SHARPNESS:

        def fun(z, t=t):
            f, G = _k.lse_value_grad(z.reshape(d, n), t, lines)
            return f, G.ravel()

        res = optimize.minimize(
            fun,
            y,
            jac=True,
            method="L-BFGS-B",
            options={"maxiter": max_iter, "gtol": 1e-10, "ftol": 1e-13},
        )
        n_iter += int(res.nit)
        X, _ = _k.normalize_columns(res.x.reshape(d, n))  # keep the scale fixed between stages
        y = X.ravel()
    return y.reshape(d, n), n_iter


def _near_active(g: np.ndarray, val: float, margin: float, cap: int) -> np.ndarray:
    """Mask of the pairs within ``margin`` of the largest overlap ``val``, at most ``cap`` of them
    (the largest), so that the polishing subproblems stay small when many pairs are close."""
    keep = g >= val - margin
    if np.count_nonzero(keep) > cap:
        keep = np.zeros(g.size, dtype=bool)
        keep[np.argpartition(g, g.size - cap)[g.size - cap :]] = True
    return keep


def _pair_cap(d: int, n: int) -> int:
    """Pairs kept by the polishers: three times the vertex count dof + 1, and at least 4 N."""
    return max(3 * (n * (d - 1) - d * (d - 1) // 2 + 1), 4 * n)


def _polish_slp(X: np.ndarray, lines: bool, max_iter: int) -> tuple[np.ndarray, int]:
    """Trust-region sequential linear programming on min_X max g_ij(X); returns (X, iterations).

    Each step solves the LP  min s + lam |D|_1  s.t.  g_ij + <grad g_ij, D> <= s  (pairs within
    ``margin`` of the largest overlap),  <x_i, D_i> = 0 (tangent steps),  |D|_inf <= r,
    retracts X + D onto the sphere by normalising the columns, and accepts the step if the true
    largest overlap decreases; r grows or shrinks with the ratio of actual to predicted decrease.
    The tiny L1 term picks, among the LP's optimal steps, one without needless motion along the
    rotations (which leave every overlap unchanged).
    """
    d, n = X.shape
    nv = d * n
    iu, ju = np.triu_indices(n, 1)
    g = _k.pair_overlaps(X, lines)
    val = float(g.max())
    radius = 0.05
    margin = 0.1
    lam = 1e-6
    cost = np.concatenate([np.full(2 * nv, lam), [1.0]])
    cols = np.arange(d)[:, None] * n + np.arange(n)[None, :]  # (d, n): index of X[k, i] in ravel
    n_iter = stall = 0
    cap = _pair_cap(d, n)
    for n_iter in range(1, max_iter + 1):  # noqa: B007 (n_iter is reported after the loop)
        keep = _near_active(g, val, margin, cap)
        I = np.ascontiguousarray(iu[keep])
        J = np.ascontiguousarray(ju[keep])
        gk, jac = _k.active_constraints(X, I, J, lines)
        grad = sparse.csr_matrix(-jac[:, :nv])  # gradients of g_ij w.r.t. X.ravel(): 2d nonzeros
        a_ub = sparse.hstack([grad, -grad, -np.ones((I.size, 1))], format="csr")
        tangent = sparse.csr_matrix(
            (X.T.ravel(), cols.T.ravel(), np.arange(0, nv + 1, d)), shape=(n, nv)
        )
        a_eq = sparse.hstack([tangent, -tangent, sparse.csr_matrix((n, 1))], format="csr")
        bounds = [(0.0, radius)] * (2 * nv) + [(None, None)]
        lp = optimize.linprog(
            cost,
            A_ub=a_ub,
            b_ub=-gk,
            A_eq=a_eq,
            b_eq=np.zeros(n),
            bounds=bounds,
            method="highs-ipm",
            options=_LP_OPTIONS,
        )
        if lp.status != 0:
            break
        predicted = val - lp.x[-1]
        if predicted <= 1e-13 * max(1.0, abs(val)):
            break  # first-order stationary to the LP's tolerance: converged
        D = (lp.x[:nv] - lp.x[nv : 2 * nv]).reshape(d, n)
        Xn, _ = _k.normalize_columns(X + D)
        gn = _k.pair_overlaps(Xn, lines)
        vn = float(gn.max())
        ratio = (val - vn) / predicted
        stall = stall + 1 if vn > val - 1e-15 * max(1.0, abs(val)) else 0
        if vn < val:
            X, g, val = Xn, gn, vn
        if stall >= 3:
            break  # the LP's tolerance, not the model, limits the steps: converged
        if ratio > 0.75:
            radius = min(2.0 * radius, 0.5)
        elif ratio < 0.25:
            radius /= 4.0
            if radius < 1e-15:
                break
    return X, n_iter


def _polish_sqp(X: np.ndarray, lines: bool, max_iter: int) -> tuple[np.ndarray, int, bool]:
    """SLSQP on min s s.t. g_ij(X) <= s (near-active pairs), |x_i|^2 = 1.

    Returns ``(X, iterations, converged)``; X is the polished frame only if it improves the
    objective. Pairs left out that end above s are added (wider margin) and the step redone.
    """
    d, n = X.shape
    # fix the rotation gauge: rotate so that the first d columns are upper triangular and keep
    # their entries below the diagonal at zero (d (d - 1) / 2 linear equality constraints)
    Q, _ = np.linalg.qr(X[:, :d], mode="complete")
    X = np.ascontiguousarray(Q.T @ X)
    fixed = np.array([k * n + i for i in range(min(d, n)) for k in range(i + 1, d)], dtype=np.int64)
    gauge_jac = np.zeros((fixed.size, d * n + 1))
    gauge_jac[np.arange(fixed.size), fixed] = 1.0
    iu, ju = np.triu_indices(n, 1)
    g = _k.pair_overlaps(X, lines)
    best_val = float(g.max())
    best_X = X
    margin = 0.1
    n_iter = 0
    converged = False
    grad_s = np.zeros(d * n + 1)
    grad_s[-1] = 1.0
    cap = _pair_cap(d, n)
    for _ in range(2):  # pairs still left out and violated are the SLP's business
        keep = _near_active(g, best_val, margin, cap)
        I = np.ascontiguousarray(iu[keep])
        J = np.ascontiguousarray(ju[keep])

        def ineq(z, I=I, J=J):
            return z[-1] - _k.active_constraints(z[:-1].reshape(d, n), I, J, lines)[0]

        def ineq_jac(z, I=I, J=J):
            return _k.active_constraints(z[:-1].reshape(d, n), I, J, lines)[1]

        def eq(z):
            return _k.norm_constraints(z[:-1].reshape(d, n))[0]

        def eq_jac(z):
            return _k.norm_constraints(z[:-1].reshape(d, n))[1]

        z0 = np.concatenate([best_X.ravel(), [best_val]])
        res = optimize.minimize(
            lambda z: z[-1],
            z0,
            jac=lambda z: grad_s,
            method="SLSQP",
            constraints=[
                {"type": "ineq", "fun": ineq, "jac": ineq_jac},
                {"type": "eq", "fun": eq, "jac": eq_jac},
                {"type": "eq", "fun": lambda z: z[fixed], "jac": lambda z: gauge_jac},
            ],
            options={"maxiter": max_iter, "ftol": 1e-16},
        )
        n_iter += int(res.nit)
        if not np.all(np.isfinite(res.x)):
            break
        Xn, _ = _k.normalize_columns(np.ascontiguousarray(res.x[:-1].reshape(d, n)))
        gn = _k.pair_overlaps(Xn, lines)
        val = float(gn.max())
        if val < best_val:
            best_val, best_X, g = val, Xn, gn
        left_out = gn[~keep]
        if left_out.size == 0 or left_out.max() <= val:
            converged = res.status == 0
            break
        margin *= 4.0
        cap *= 2
    return best_X, n_iter, converged


def _is_vertex(X: np.ndarray, lines: bool) -> bool:
    """At least dof + 1 pairs within 1e-10 of the largest overlap, dof = N(d-1) - d(d-1)/2."""
    d, n = X.shape
    g = _k.pair_overlaps(X, lines)
    top = g.max()
    n_active = int(np.count_nonzero(g >= top - 1e-10 * max(1.0, abs(top))))
    return n_active > n * (d - 1) - d * (d - 1) // 2


def _polish(X: np.ndarray, lines: bool, max_iter: int) -> tuple[np.ndarray, int]:
    """Alternate SLSQP and trust-region SLP until a vertex of the minimax problem is reached.

    A strict local minimax point is generically a vertex: at least dof + 1 pairs attain the
    maximum, dof = N (d - 1) - d (d - 1) / 2 being the dimension of the configuration space modulo
    rotations. SLSQP converges fast to vertices (and on the massively degenerate equiangular
    frames, whose LPs are expensive) but can crawl along a ridge where only dof pairs are active;
    SLP's steps converge quadratically once the vertex's active set is in reach but stall on such
    ridges. Up to three rounds of (SLSQP, SLP) are run, stopping at the first vertex.
    """
    n_iter = 0
    val = float(_k.pair_overlaps(X, lines).max())
    for _ in range(3):
        X, it, converged = _polish_sqp(X, lines, min(max_iter, 60))
        n_iter += it
        if converged and _is_vertex(X, lines):
            break
        X, it = _polish_slp(X, lines, min(max_iter, 50))
        n_iter += it
        new_val = float(_k.pair_overlaps(X, lines).max())
        if _is_vertex(X, lines) or new_val > val - 1e-15 * max(1.0, abs(val)):
            break  # a vertex, or a round without progress
        val = new_val
    return X, n_iter


def _result(X, kind, start_values, best_start, n_iter, method) -> PackingResult:
    spec = PACKING_KINDS[kind]
    objective = spec.objective(float(_k.pair_overlaps(X, spec.squared).max()))
    coherence = PACKING_KINDS["lines"].objective(float(_k.pair_overlaps(X, True).max()))
    X = np.array(X, dtype=np.float64)
    X.setflags(write=False)
    values = np.array([objective] if start_values is None else start_values, dtype=np.float64)
    values.setflags(write=False)
    return PackingResult(
        frame=X,
        kind=kind,
        objective=objective,
        coherence=coherence,
        min_angle_deg=_angle_deg(objective),
        best_start=int(best_start),
        n_iter=int(n_iter),
        start_values=values,
        method=method,
    )


def _search_memory(n: int, d: int, polish: bool, n_starts: int = 1) -> int:
    """Estimated peak bytes of one start of the search for N = n points in R^d.

    The surrogate descent holds the N(N-1)/2 pair overlaps and their weights, L-BFGS-B ten
    pairs of correction vectors of length d N. Polishing is dense in the nv = d N + 1 variables:
    SLSQP's workspace is about (3 nv + mc)(nv + 1) + (nv + q) nv doubles and its constraint
    Jacobian mc x nv, with mc = N + d(d-1)/2 + q constraints and q up to twice the pair cap.
    """
    pairs = n * (n - 1) // 2
    nv = d * n + 1
    descent = 8 * (3 * pairs + 30 * nv + n_starts)
    if not polish:
        return descent
    q = 2 * min(pairs, _pair_cap(d, n))
    mc = n + d * (d - 1) // 2 + q
    return descent + 8 * ((3 * nv + mc) * (nv + 1) + (nv + q) * nv + 2 * mc * nv)


def find_packing(
    n_features: int,
    n_dims: int,
    *,
    kind: str = "lines",
    n_starts: int = 10,
    max_iter: int = 200,
    polish: bool = True,
    rng=None,
    progress: bool = False,
) -> PackingResult:
    """Search for N lines (or N unit vectors) in R^d with the smallest largest overlap.

    Parameters
    ----------
    n_features : int
        N >= 2, the number of lines or points (columns of the frame).
    n_dims : int
        d >= 1, the ambient dimension.
    kind : {"lines", "codes"}
        ``"lines"``: minimise the coherence max_{i<j} |<x_i, x_j>| (Grassmannian packing, largest
        smallest angle between lines); ``"codes"``: minimise max_{i<j} <x_i, x_j> (spherical
        code, Tammes' problem).
    n_starts : int
        Number of random starts (>= 1). Start k uses its own generator seeded by ``(root, k)``
        where ``root`` is drawn once from ``rng``: the starts of a run with fewer starts are the
        first starts of a run with more, so more starts never give a worse answer.
    max_iter : int
        Iteration cap of each L-BFGS stage of the surrogate descent and of each polishing phase
        (which also caps SLSQP at 60 and SLP at 50 iterations per round).
    polish : bool
        Polish every start on its near-active pairs (SLSQP). Without it the answer is only as
        accurate as the smoothest surrogate, about ``log(N^2/2) / 2048`` in squared overlap.
    rng : None, int or numpy.random.Generator
        Randomness of the starts (SPEC 7).
    progress : bool, default False
        Show a tqdm progress bar over the starts.

    Returns
    -------
    PackingResult
        The best frame found (shape (d, N), unit columns), its objective, coherence and smallest
        angle in degrees, the winning start, its iterations and every start's final value.

    Raises
    ------
    ValueError
        If ``n_features < 2``, ``n_dims < 1``, ``n_starts < 1``, ``max_iter < 1`` or ``kind`` is
        unknown. ``TypeError`` for non-integer sizes.

    Notes
    -----
    With unit vectors x_i and overlaps g_ij = <x_i, x_j>^2 (lines) or <x_i, x_j> (codes), the
    problem is min_X max_{i<j} g_ij, a nonsmooth minimax. Each start draws X with i.i.d.
    Gaussian entries and

    1. *smooths*: minimises the log-sum-exp surrogate
       f_t(Y) = (1/t) log sum_{i<j} exp(t g_ij(Y / |Y|))  (columnwise normalisation),
       which satisfies max g <= f_t <= max g + log(N(N-1)/2) / t, by L-BFGS for the
       sharpnesses t = 8, 32, 128, 512, 2048 in turn (gradient in a numba kernel);
    2. *polishes* the smooth reformulation min_{X, s} s subject to g_ij(X) <= s (pairs within
       a margin of the largest overlap; pairs left out that end above s widen the margin) and
       |x_i|^2 = 1, alternating (at most three rounds) two local methods:
       SLSQP (sequential quadratic programming, with the rotation gauge fixed by keeping the
       first d columns upper triangular), and trust-region sequential linear programming (SLP):
       the LP min s + lam |D|_1 s.t. g_ij + <grad g_ij, D> <= s, <x_i, D_i> = 0,
       |D|_inf <= r (HiGHS), the retraction x_i <- (x_i + D_i) / |x_i + D_i| and a radius
       update from the ratio of actual to predicted decrease. A strict local minimum is
       generically a *vertex*, where at least dof + 1 pairs are active,
       dof = N (d - 1) - d (d - 1) / 2 (configurations modulo rotations); there the SLP step is
       a Newton step on the active constraints (quadratic convergence) and the answer is
       accurate to machine precision. Polishing stops at the first vertex reached.

    Squared overlaps make the line problem smooth (|c| is not differentiable at 0). Trivial cases
    return a closed form without search (``method="construction"``): for lines with N <= d an
    orthonormal set (coherence 0, angle 90 degrees); in R^1 all lines coincide (coherence 1)
    and a code alternates +-1 (max inner product -1 if N = 2, else 1).

    Cost: the polishing subproblems are dense in about N d variables and at most
    3 (dof + 1) pairs. A start takes milliseconds for N d <= 40 (lines in R^3 up to N = 13),
    about a second for N d = 250 and half a minute for N d = 512 (measured on a loaded 2-core
    machine); ``polish=False`` gives a quick approximation. BLAS is pinned to one thread during
    the search (the subproblems are too small to gain from threads).

    The search is a local method with restarts: it returns the best value found, which is an
    upper bound on the optimum. Conway, Hardin and Sloane's tables (1996) list the best known
    packings; compare with the lower bounds (Welch, orthoplex, Levenstein, Rankin).

    References
    ----------
    J. H. Conway, R. H. Hardin, N. J. A. Sloane, "Packing lines, planes, etc.: packings in
    Grassmannian spaces", Experimental Mathematics 5(2) (1996) 139-159,
    doi:10.1080/10586458.1996.10504585.
    T. Strohmer, R. W. Heath, "Grassmannian frames with applications to coding and
    communication", Appl. Comput. Harmon. Anal. 14 (2003) 257-275, arXiv:math/0301135.
    D. Kraft, "A software package for sequential quadratic programming", DFVLR-FB 88-28 (1988).
    R. Fletcher, E. Sainz de la Maza, "Nonlinear programming and nonsmooth optimization by
    successive linear programming", Math. Programming 43 (1989) 235-256,
    doi:10.1007/BF01582292.

    Examples
    --------
    Six lines in R^3: the icosahedron's diagonals, an equiangular tight frame of coherence
    1/sqrt(5) (Welch bound):

    >>> res = find_packing(6, 3, n_starts=4, rng=0)
    >>> print(f"{res.coherence:.6f} {res.min_angle_deg:.4f}")
    0.447214 63.4349

    Twelve points on the sphere (Tammes): the icosahedron's vertices.

    >>> res = find_packing(12, 3, kind="codes", n_starts=4, rng=0)
    >>> print(f"{res.min_angle_deg:.4f}")
    63.4349
    """
    n_features = check_int(n_features, "n_features", low=2, high=MAX_INT)
    n_dims = check_int(n_dims, "n_dims", low=1, high=MAX_INT)
    spec = _check_kind(kind)
    n_starts = check_int(n_starts, "n_starts", low=1, high=MAX_INT)
    max_iter = check_int(max_iter, "max_iter", low=1)
    polish = check_bool(polish, "polish")
    progress = check_bool(progress, "progress")
    rng = check_rng(rng)
    lines = spec.squared

    check_memory(
        8 * n_dims * n_features,
        f"find_packing of n_features={n_features} points in R^{n_dims} (the frame itself)",
        "pass fewer n_features or a smaller n_dims",
    )
    fixed = spec.closed_form(n_features, n_dims)
    if fixed is not None:
        return _result(fixed, kind, None, 0, 0, "construction")
    check_memory(
        _search_memory(n_features, n_dims, polish, n_starts),
        f"find_packing of n_features={n_features} points in R^{n_dims}"
        + (" with polish=True (dense in the n_dims * n_features variables)" if polish else ""),
        (
            "pass polish=False (the smoothed search alone needs "
            f"{_search_memory(n_features, n_dims, False) / 2**30:.2g} GiB) or fewer "
            "n_features; polishing is practical up to n_dims * n_features of about 500"
            if polish
            else "pass fewer n_features (the search holds every pair's overlap)"
        ),
    )

    root = int(rng.integers(0, 2**63 - 1))
    values = np.empty(n_starts)
    best: tuple[float, np.ndarray | None, int, int] = (np.inf, None, -1, 0)
    # The problems are small and dense: BLAS threads only add synchronisation (L-BFGS-B was
    # measured 20x slower with 2 OpenBLAS threads on a loaded 2-core machine), so pin one.
    from tqdm.auto import tqdm

    with threadpool_limits(limits=1, user_api="blas"):
        for k in tqdm(
            range(n_starts),
            desc=f"packing {n_features} {kind} in R^{n_dims}",
            disable=not progress,
            leave=False,
        ):
            Y0 = np.random.default_rng([root, k]).standard_normal((n_dims, n_features))
            X, it = _surrogate_descent(Y0, lines, max_iter)
            if polish:
                X, it2 = _polish(X, lines, max_iter)
                it += it2
            val = spec.objective(float(_k.pair_overlaps(X, lines).max()))
            values[k] = val
            if val < best[0]:
                best = (val, X, k, it)
    return _result(best[1], kind, values, best[2], best[3], "search")
