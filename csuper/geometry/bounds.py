"""Packing bounds: how small the coherence of N unit vectors in R^d can be, and how many unit
vectors in R^m can have pairwise ``|<u, v>| <= eps``.

Two dual questions about the same packing problem (lines through the origin of R^d, i.e. points
of real projective space):

- **coherence lower bounds** ``mu >= f(N, d)`` for any N unit vectors (Welch, the real higher-order
  Welch bounds, orthoplex/Rankin, Levenstein) and the spherical-code analogue for the maximum
  (signed) inner product (Rankin's simplex bound);
- **count bounds** on the largest number of lines with coherence at most ``eps``: a constructive
  lower bound (greedy / Gilbert-Varshamov, exact spherical-cap areas), upper bounds (the cap-packing
  bound, the inverted coherence bounds) and the Kabatiansky-Levenshtein asymptotic rate.

Every named bound is listed, with its kind and validity domain, in :data:`PACKING_BOUNDS`; the
parametrised tests (and any command-line choices) read that dict.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from csuper._lazy import lazy_import
from csuper._validation import check_int
from csuper.geometry._sphere import (
    MAX_INT,
    TINY_TAIL,
    abs_tail,
    beyond_gerzon,
    even_moment_lower,
    int_param,
    level_values,
    log_abs_tail,
)

special = lazy_import("scipy.special")


__all__ = [
    "MAX_INT",
    "MAX_ORDER_SEARCH",
    "PACKING_BOUNDS",
    "PackingBound",
    "BestBound",
    "LineCountBounds",
    "welch_bound",
    "real_welch_bound",
    "orthoplex_bound",
    "levenstein_bound",
    "gerzon_bound",
    "rankin_simplex_bound",
    "best_coherence_bound",
    "gilbert_varshamov_line_count",
    "cap_packing_line_count",
    "coherence_bound_line_count",
    "line_count_bounds",
    "kabatiansky_levenshtein_rate",
    "gilbert_varshamov_rate",
]

# Counts computed in floating point are floored with this relative slack so that an exact integer
# such as 6.0 computed as 5.999999999 stays 6 (the bound only gets weaker, never wrong).
_COUNT_RTOL = 1e-9
# Strict inequalities on eps (eps < 1/sqrt(m), ...) are tested with this relative margin, so that
# eps = 1/sqrt(2) computed as 0.7071067811865475 does not count as strictly inside (the weaker
# answer is the safe one).
_STRICT = 1e-12


# --------------------------------------------------------------------------------------------
# argument handling (scalars or broadcastable integer arrays)
# --------------------------------------------------------------------------------------------
#: Highest order accepted by the functions that try every order up to ``max_order``: they stop at
#: the first order beyond which no higher one can improve, but that can take millions of orders
#: for a few inputs (d = 2, eps near 1), so the search itself is capped.
MAX_ORDER_SEARCH = 10_000


def _lines_args(n_features: Any, n_dims: Any) -> tuple[np.ndarray, np.ndarray, bool]:
    """(N, d) of a coherence bound: 2 <= N <= 2**53, 1 <= d <= 2**53, scalars or integer
    arrays."""
    n, s1 = int_param(n_features, "n_features", 2)
    d, s2 = int_param(n_dims, "n_dims", 1)
    return n, d, s1 and s2


def _count_args(eps: Any, n_dims: Any) -> tuple[np.ndarray, np.ndarray, bool]:
    """(eps, m) of a count bound: 0 < eps < 1, 1 <= m <= 2**53, scalars or arrays."""
    e, s1 = level_values(eps)
    d, s2 = int_param(n_dims, "n_dims", 1)
    return e, d, s1 and s2


def _order(order: Any) -> int:
    return check_int(order, "order", low=1, high=MAX_INT)


def _max_order(max_order: Any) -> int:
    return check_int(max_order, "max_order", low=1, high=MAX_ORDER_SEARCH)


def _scalar(x: Any, dtype=float):
    return dtype(np.asarray(x).reshape(()).item())


def _out(x: np.ndarray, scalar: bool, dtype=float):
    return _scalar(x, dtype) if scalar else np.asarray(x)


def _welch_order1(n: np.ndarray, d: np.ndarray) -> np.ndarray:
    """sqrt((N - d)/(d (N - 1))) from integers (exactly 0 for N <= d)."""
    return np.sqrt(np.maximum(n - d, 0) / (d * (n - 1.0)))


def _welch_root(nc: np.ndarray, n: np.ndarray, k: int) -> np.ndarray:
    """((N c - 1)/(N - 1))^(1/2k), with N c - 1 within rounding of 0 set to 0 (never above).

    Rounding in N c ~ 1 would otherwise give spurious positive bounds such as (1e-16)^(1/10) =
    0.025 where the true bound is 0 (an orthonormal basis); a slightly weaker bound is still a
    bound.
    """
    excess = nc - 1.0
    excess = np.where(excess <= 1e-12 * np.maximum(nc, 1.0), 0.0, excess)
    return (excess / (n - 1.0)) ** (1.0 / (2 * k))


# Double-cap areas below this are not trusted (subnormal floats): counts then saturate, the lower
# bound at 1/TINY_TAIL (still a valid lower bound) and the upper one at inf (trivially valid).


def _gv_count(e: np.ndarray, d: np.ndarray) -> np.ndarray:
    tail = abs_tail(e, d)
    with np.errstate(divide="ignore"):
        count = np.ceil(1.0 / tail * (1.0 - _COUNT_RTOL))
    return np.where(tail < TINY_TAIL, 1.0 / TINY_TAIL, count)


def _cap_count(e: np.ndarray, d: np.ndarray) -> np.ndarray:
    tail = abs_tail(np.sqrt((1.0 + e) / 2.0), d)
    with np.errstate(divide="ignore"):
        return np.where(tail < TINY_TAIL, np.inf, _floor_count(1.0 / tail))


def _floor_count(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    finite = np.isfinite(x)
    floored = np.floor(np.where(finite, x, 0.0) * (1.0 + _COUNT_RTOL) + _COUNT_RTOL)
    return np.where(finite, floored, np.inf)


# --------------------------------------------------------------------------------------------
# coherence lower bounds for N lines in R^d
# --------------------------------------------------------------------------------------------
def welch_bound(n_features: Any, n_dims: Any, order: int = 1) -> float | np.ndarray:
    """Welch's lower bound on the coherence of ``n_features`` unit vectors in ``R^n_dims`` (or
    C^n_dims).

    Parameters
    ----------
    n_features : int or array of int, >= 2
        N, the number of unit vectors (lines).
    n_dims : int or array of int, >= 1
        d, the dimension of the space. Broadcast against ``n_features``.
    order : int, >= 1
        k, the order of the bound (k = 1 is the classical Welch bound).

    Returns
    -------
    float or ndarray
        The lower bound on ``mu = max_{i != j} |<u_i, u_j>|``; 0 when the right-hand side is not
        positive (N <= binom(d+k-1, k): the bound is then trivial, never NaN).

    Notes
    -----
    For unit vectors u_1..u_N in R^d or C^d and every k >= 1 (Welch 1974),

        mu^(2k) >= (N / binom(d+k-1, k) - 1) / (N - 1).

    For k = 1 this is ``mu >= sqrt((N - d) / (d (N - 1)))``, attained exactly by equiangular tight
    frames (ETFs: the simplex, the 6 diagonals of the icosahedron, the 28 lines in R^7, ...;
    Strohmer and Heath 2003). Valid domain: N >= 2, d >= 1, k >= 1. In the real case
    :func:`real_welch_bound` is at least as strong for k >= 2 (equal for k = 1).

    References
    ----------
    L. R. Welch, "Lower bounds on the maximum cross correlation of signals", IEEE Trans. Inf.
    Theory 20(3):397-399, 1974. doi:10.1109/TIT.1974.1055219.
    T. Strohmer and R. W. Heath, "Grassmannian frames with applications to coding and
    communication", Appl. Comput. Harmon. Anal. 14(3):257-275, 2003. arXiv:math/0301135.

    Examples
    --------
    >>> print(f"{welch_bound(6, 3):.6f}")  # 6 icosahedron diagonals attain it: 1/sqrt(5)
    0.447214
    >>> print(f"{welch_bound(6, 3, order=2):.6f}")
    0.000000
    """
    n, d, scalar = _lines_args(n_features, n_dims)
    k = _order(order)
    if k == 1:
        return _out(_welch_order1(n, d), scalar)
    return _out(_welch_root(n / special.binom(d + k - 1.0, k), n, k), scalar)


def real_welch_bound(n_features: Any, n_dims: Any, order: int = 1) -> float | np.ndarray:
    """Higher-order Welch bound for REAL unit vectors, using the moments of the real sphere.

    Parameters
    ----------
    n_features : int or array of int, >= 2
        N, the number of unit vectors (lines).
    n_dims : int or array of int, >= 1
        d, the dimension.
    order : int, >= 1
        k, the order.

    Returns
    -------
    float or ndarray
        The lower bound on the coherence (0 when trivial).

    Notes
    -----
    The kernel ``<x, y>^(2k)`` is a nonnegative combination of Gegenbauer polynomials, each a
    positive definite kernel on S^(d-1) (Schoenberg), and its constant term is
    ``c_k = E <u, v>^(2k) = prod_{j<k} (2j+1)/(d+2j)`` for independent uniform u, v. Hence
    ``sum_{i,j} <u_i, u_j>^(2k) >= N^2 c_k`` and

        mu^(2k) >= (N c_k - 1) / (N - 1),

    with equality iff the vectors are equiangular and form a projective 2k-design (Sidelnikov
    1974; Venkov; Datta, Howard and Cochran 2012). Since ``c_k >= 1/binom(d+k-1, k)`` the bound
    is at least as strong as :func:`welch_bound` (equal for k = 1). Domain: N >= 2, d >= 1,
    k >= 1. ``c_k`` is :func:`csuper.geometry.inner_product_moment` of order 2k.

    References
    ----------
    V. M. Sidelnikov, "New estimates for the closest packing of spherical codes in
    (n-1)-dimensional Euclidean space", Probl. Inf. Transm. 10(2):124-131, 1974.
    S. Datta, S. Howard and D. Cochran, "Geometry of the Welch bounds", Linear Algebra Appl.
    437(10):2455-2470, 2012. arXiv:0909.0206.

    Examples
    --------
    >>> print(f"{real_welch_bound(6, 3, order=2):.6f}")  # icosahedron lines: a projective 4-design
    0.447214
    """
    n, d, scalar = _lines_args(n_features, n_dims)
    k = _order(order)
    val = _welch_order1(n, d) if k == 1 else _welch_root(n * even_moment_lower(k, d), n, k)
    return _out(val, scalar)


def orthoplex_bound(n_features: Any, n_dims: Any) -> float | np.ndarray:
    """Orthoplex (Rankin) bound: more than d(d+1)/2 lines in R^d have coherence >= 1/sqrt(d).

    Parameters
    ----------
    n_features : int or array of int
        N > n_dims (n_dims + 1) / 2.
    n_dims : int or array of int, >= 1
        d.

    Returns
    -------
    float or ndarray
        ``1 / sqrt(d)``.

    Raises
    ------
    ValueError
        Outside the domain N > d(d+1)/2.

    Notes
    -----
    The map u -> u u^T - I/d sends lines of R^d to a sphere of squared radius (d-1)/d in the
    D = d(d+1)/2 - 1 dimensional space of traceless symmetric matrices, with squared distance
    ``2 - 2 <u, v>^2``. Rankin's simplex bound there gives back the Welch bound; Rankin's
    orthoplex bound (more than D + 1 points on a sphere contain two at angle <= 90 degrees) gives
    ``mu^2 >= 1/d`` whenever N > d(d+1)/2 (Conway, Hardin and Sloane 1996). Equality: e.g. the 4
    lines of two mutually unbiased bases of R^2, the 12 lines of the D4 root system in R^4.

    References
    ----------
    J. H. Conway, R. H. Hardin and N. J. A. Sloane, "Packing lines, planes, etc.: packings in
    Grassmannian spaces", Experimental Math. 5(2):139-159, 1996.
    doi:10.1080/10586458.1996.10504585.
    R. A. Rankin, "The closest packing of spherical caps in n dimensions", Proc. Glasgow Math.
    Assoc. 2:139-144, 1955. doi:10.1017/S2040618500033219.

    Examples
    --------
    >>> print(f"{orthoplex_bound(12, 4):.6f}")
    0.500000
    >>> orthoplex_bound(5, 3)
    Traceback (most recent call last):
    ...
    ValueError: orthoplex_bound requires n_features > n_dims*(n_dims+1)/2; got n_features=5,
    n_dims=3 (n_dims*(n_dims+1)/2=6).
    """
    n, d, scalar = _lines_args(n_features, n_dims)
    _require_gerzon(n, d, "orthoplex_bound")
    return _out(1.0 / np.sqrt(np.broadcast_to(d, np.broadcast(n, d).shape)), scalar)


def _require_gerzon(n: np.ndarray, d: np.ndarray, func: str) -> None:
    ok = np.asarray(beyond_gerzon(n, d))
    if ok.all():
        return
    shape = np.broadcast(n, d).shape
    idx = int(np.argmin(np.broadcast_to(ok, shape).ravel()))
    nn = int(np.broadcast_to(n, shape).ravel()[idx])
    dd = int(np.broadcast_to(d, shape).ravel()[idx])
    raise ValueError(
        f"{func} requires n_features > n_dims*(n_dims+1)/2; got n_features={nn}, n_dims={dd} "
        f"(n_dims*(n_dims+1)/2={dd * (dd + 1) // 2})."
    )


def levenstein_bound(n_features: Any, n_dims: Any) -> float | np.ndarray:
    """Levenstein's bound on the coherence of more than d(d+1)/2 real lines in R^d.

    Parameters
    ----------
    n_features : int or array of int
        N > n_dims (n_dims + 1) / 2.
    n_dims : int or array of int, >= 1
        d.

    Returns
    -------
    float or ndarray
        ``sqrt((3N - d^2 - 2d) / ((d + 2)(N - d)))``.

    Raises
    ------
    ValueError
        Outside the domain N > d(d+1)/2.

    Notes
    -----
    Levenshtein's linear-programming bound for antipodal spherical codes, read for lines of R^d:

        mu^2 >= (3N - d^2 - 2d) / ((d + 2)(N - d)),   N > d(d+1)/2.

    At N = d(d+1)/2 it coincides with the Welch bound 1/(d+2); for large N it tends to
    3/(d+2) > 1/d, beating the orthoplex bound. Equality: e.g. the 120 lines of the E8 root
    system (mu = 1/2 in R^8). The complex analogue (2N - d^2 - d)/((d+1)(N-d)), N > d^2, is not
    implemented.

    References
    ----------
    V. I. Levenshtein, "Bounds on the maximal cardinality of a code with bounded modulus of the
    inner product", Soviet Math. Dokl. 25:526-531, 1982.
    J. I. Haas, N. Hammen and D. G. Mixon, "The Levenstein bound for packings in projective
    spaces", Proc. SPIE 10394, 2017. arXiv:1707.06587.

    Examples
    --------
    >>> print(f"{levenstein_bound(120, 8):.6f}")  # E8 root lines attain it
    0.500000
    """
    n, d, scalar = _lines_args(n_features, n_dims)
    _require_gerzon(n, d, "levenstein_bound")
    return _out(_levenstein(n, d), scalar)


def _levenstein(n: np.ndarray, d: np.ndarray) -> np.ndarray:
    """sqrt((3N - d^2 - 2d) / ((d + 2)(N - d))) for N > d(d+1)/2 (float arithmetic: d^2 would
    overflow int64)."""
    nf, df = n.astype(np.float64), d.astype(np.float64)
    val = (3.0 * nf - df * df - 2.0 * df) / ((df + 2.0) * np.maximum(nf - df, 1.0))
    return np.sqrt(np.maximum(val, 0.0))


def gerzon_bound(n_dims: Any) -> int | np.ndarray:
    """Gerzon's absolute bound: at most d(d+1)/2 equiangular lines in R^d.

    Parameters
    ----------
    n_dims : int or array of int, >= 1
        d.

    Returns
    -------
    int or ndarray of int
        ``d (d + 1) / 2``.

    Notes
    -----
    The projections u_i u_i^T of equiangular lines are linearly independent in the d(d+1)/2
    dimensional space of symmetric matrices (Lemmens and Seidel 1973, after Gerzon). Equality is
    known only for d = 2 (3 lines), 3 (6 icosahedron diagonals), 7 (28 lines) and 23 (276 lines);
    for d > 3 it requires d + 2 to be the square of an odd integer. Beyond this count the
    Welch bound cannot be attained, which is where :func:`orthoplex_bound` and
    :func:`levenstein_bound` take over.

    References
    ----------
    P. W. H. Lemmens and J. J. Seidel, "Equiangular lines", J. Algebra 24(3):494-512, 1973.
    doi:10.1016/0021-8693(73)90123-3.

    Examples
    --------
    >>> gerzon_bound(7)
    28
    """
    array = isinstance(n_dims, (list, tuple, np.ndarray))  # int_param's own test: no ragged ndim
    d, s = int_param(n_dims, "n_dims", 1, high=2**32 - 2 if array else MAX_INT)
    if s:
        dd = int(d)
        return dd * (dd + 1) // 2  # exact in Python integers
    return d * (d + 1) // 2


def rankin_simplex_bound(n_features: Any, n_dims: Any) -> float | np.ndarray:
    """Rankin's bound on the maximum (signed) inner product of N unit vectors in R^d.

    Parameters
    ----------
    n_features : int or array of int, >= 2
        N.
    n_dims : int or array of int, >= 1
        d.

    Returns
    -------
    float or ndarray
        ``-1/(N-1)`` if N <= d + 1, else 0.

    Notes
    -----
    For unit vectors (a spherical code, not lines) ``0 <= |sum u_i|^2 = N + sum_{i!=j}
    <u_i, u_j>`` gives ``max_{i!=j} <u_i, u_j> >= -1/(N-1)`` for every N (the regular simplex
    attains it for N <= d + 1); and more than d + 1 vectors always contain a pair with
    ``<u_i, u_j> >= 0`` (Rankin 1955), attained by subsets of the orthoplex {+-e_i} for
    d + 1 < N <= 2d. For N > 2d the value 0 is still a valid, but no longer attained, bound.
    Domain: N >= 2, d >= 1.

    References
    ----------
    R. A. Rankin, "The closest packing of spherical caps in n dimensions", Proc. Glasgow Math.
    Assoc. 2:139-144, 1955. doi:10.1017/S2040618500033219.

    Examples
    --------
    >>> print(f"{rankin_simplex_bound(4, 3):.6f}")
    -0.333333
    """
    n, d, scalar = _lines_args(n_features, n_dims)
    val = np.where(n <= d + 1, -1.0 / (n - 1.0), 0.0)
    return _out(val, scalar)


# --------------------------------------------------------------------------------------------
# best coherence bound
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class BestBound:
    """The best (largest) applicable coherence lower bound for (N, d).

    Attributes
    ----------
    value : float or ndarray
        The bound on ``mu``.
    bound : str or ndarray of str
        Which bound attains it: ``"welch"``, ``"real_welch(k)"`` (k >= 2), ``"orthoplex"`` or
        ``"levenstein"``. Ties go to the first in that order.
    """

    value: float | np.ndarray
    bound: str | np.ndarray


def best_coherence_bound(n_features: Any, n_dims: Any, max_order: int = 16) -> BestBound:
    """The largest of the coherence lower bounds for N real unit vectors in R^d.

    Parameters
    ----------
    n_features : int or array of int, >= 2
        N.
    n_dims : int or array of int, >= 1
        d.
    max_order : int, >= 1
        Highest order k of :func:`real_welch_bound` tried (orders beyond the point where the
        bound becomes trivial are skipped).

    Returns
    -------
    BestBound
        ``value`` (lower bound on mu) and ``bound`` (its name).

    Notes
    -----
    ``max(welch, real_welch(k) for 2 <= k <= max_order, orthoplex, levenstein)`` over the
    bounds whose domain contains (N, d). Every unit-norm frame W of shape (d, N) has
    ``coherence(W) >= value``; the value is attained by ETFs (Welch), e.g. the 12 D4 lines
    (orthoplex) and the 120 E8 lines (Levenstein). The complex-only Welch orders are never better
    than the real ones and are left out.

    References
    ----------
    L. R. Welch, IEEE Trans. Inf. Theory 20(3):397-399, 1974. doi:10.1109/TIT.1974.1055219.
    J. H. Conway, R. H. Hardin and N. J. A. Sloane, Experimental Math. 5(2):139-159, 1996.
    J. Jasper, E. J. King and D. G. Mixon, "Game of Sloanes: best known packings in complex
    projective space", Proc. SPIE 11138, 2019. arXiv:1907.07848.

    Examples
    --------
    >>> b = best_coherence_bound(120, 8)
    >>> print(b.bound, f"{b.value:.6f}")
    levenstein 0.500000
    >>> best_coherence_bound(6, 3).bound
    'welch'
    """
    n, d, scalar = _lines_args(n_features, n_dims)
    kmax = _max_order(max_order)
    n, d = np.broadcast_arrays(n, d)
    best = np.asarray(_welch_order1(n, d), dtype=np.float64).copy()
    names = np.full(best.shape, "welch", dtype=object)

    def consider(val, name, mask=None):
        nonlocal best
        better = val > best * (1.0 + 1e-12) + 1e-15
        if mask is not None:
            better &= mask
        best = np.where(better, val, best)
        names[better] = name

    for k in range(2, kmax + 1):
        nc = n * even_moment_lower(k, d)
        if not np.any(nc > 1.0):
            break  # c_k decreases with k: every higher order is trivial too
        consider(_welch_root(nc, n, k), f"real_welch({k})")
    beyond = beyond_gerzon(n, d)
    if beyond.any():
        consider(np.where(beyond, 1.0 / np.sqrt(d), 0.0), "orthoplex", beyond)
        consider(np.where(beyond, _levenstein(n, d), 0.0), "levenstein", beyond)
    if scalar:
        return BestBound(_scalar(best), _scalar(names, str))
    return BestBound(best, names.astype(str))


# --------------------------------------------------------------------------------------------
# how many lines with coherence <= eps
# --------------------------------------------------------------------------------------------
def gilbert_varshamov_line_count(eps: Any, n_dims: Any) -> float | np.ndarray:
    """Constructive lower bound on the number of lines in R^m with pairwise |<u, v>| <= eps.

    Parameters
    ----------
    eps : float or array, in (0, 1)
        Allowed coherence.
    n_dims : int or array of int, >= 1
        m.

    Returns
    -------
    float or ndarray
        ``ceil(1 / P(|<x, u>| >= eps))`` for x uniform on S^(m-1), u fixed: every *maximal*
        packing (e.g. the greedy one) has at least this many lines.

    Notes
    -----
    If unit vectors u_1..u_N with pairwise ``|<u_i, u_j>| <= eps`` cannot be extended, every
    x on the sphere lies in one of the double caps ``{x : |<x, u_i>| > eps}``, so
    ``N P(|t| > eps) >= 1`` (Gilbert-Varshamov / Chabauty-Shannon-Wyner argument). The double-cap
    fraction is exact: t^2 ~ Beta(1/2, (m-1)/2), so ``P(|t| >= eps) = I_{1-eps^2}((m-1)/2, 1/2)``
    (regularized incomplete beta). For m = 1 it gives 1. It grows like ``(1 - eps^2)^(-m/2)``
    (rate :func:`gilbert_varshamov_rate`). Counts beyond 1e300 saturate at 1e300 (still a valid
    lower bound; use the rate for the exponent). Domain: 0 < eps < 1, m >= 1.

    References
    ----------
    A. D. Wyner, "Capabilities of bounded discrepancy decoding", Bell Syst. Tech. J.
    44:1061-1122, 1965. doi:10.1002/j.1538-7305.1965.tb04170.x.
    J. H. Conway and N. J. A. Sloane, Sphere Packings, Lattices and Groups, 3rd ed., Springer,
    1999, ch. 1 and 9. doi:10.1007/978-1-4757-6568-7.

    Examples
    --------
    >>> int(gilbert_varshamov_line_count(0.3, 64))
    66
    """
    e, d, scalar = _count_args(eps, n_dims)
    return _out(_gv_count(e, d), scalar)


def cap_packing_line_count(eps: Any, n_dims: Any) -> float | np.ndarray:
    """Cap-packing (Hamming-type) upper bound on the number of lines with |<u, v>| <= eps in R^m.

    Parameters
    ----------
    eps : float or array, in (0, 1)
        Allowed coherence.
    n_dims : int or array of int, >= 1
        m.

    Returns
    -------
    float or ndarray
        ``floor(1 / P(|t| >= sqrt((1 + eps)/2)))``.

    Notes
    -----
    The 2N points +-u_i form an antipodal spherical code with minimum angle
    ``theta = arccos(eps)``; the caps of angular radius theta/2 around them are disjoint, so
    ``2N C(theta/2) <= 1`` where ``C(phi) = P(t >= cos phi)`` is the normalised cap area. With
    ``cos(theta/2) = sqrt((1 + eps)/2)`` this is ``N <= 1 / P(|t| >= sqrt((1+eps)/2))``, exact
    cap areas through the regularized incomplete beta function. Tight for m = 2 (N lines at
    angles pi/N). Where the cap area is below 1e-300 the bound is returned as ``inf`` (trivially
    valid). Domain: 0 < eps < 1, m >= 1.

    References
    ----------
    J. H. Conway and N. J. A. Sloane, Sphere Packings, Lattices and Groups, 3rd ed., Springer,
    1999, ch. 1 and 9. doi:10.1007/978-1-4757-6568-7.

    Examples
    --------
    >>> cap_packing_line_count(0.5, 2)  # 3 lines at 60 degrees
    3.0
    """
    e, d, scalar = _count_args(eps, n_dims)
    return _out(_cap_count(e, d), scalar)


def _inverted_bounds(e: np.ndarray, d: np.ndarray, max_order: int) -> tuple[np.ndarray, np.ndarray]:
    """Largest N allowed by the coherence bounds at coherence e (inf where none constrains)."""
    e, d = np.broadcast_arrays(e, d)
    best = np.full(e.shape, np.inf)
    names = np.full(e.shape, "none", dtype=object)

    def consider(val, name):
        nonlocal best
        better = val < best
        best = np.where(better, val, best)
        names[better] = name

    e2 = e * e
    df = d.astype(np.float64)
    gerzon = df * (df + 1.0) / 2.0
    # orthoplex: eps < 1/sqrt(d) forces N <= d(d+1)/2
    orthoplex = np.where(e2 * df < 1.0 - _STRICT, gerzon, np.inf)
    # Levenstein: for N > d(d+1)/2, N (3 - (d+2) eps^2) <= d(d+2)(1 - eps^2)
    with np.errstate(divide="ignore", invalid="ignore"):
        lev = np.where(
            (df + 2.0) * e2 < 3.0 * (1.0 - _STRICT),
            df * (df + 2.0) * (1.0 - e2) / (3.0 - (df + 2.0) * e2),
            np.inf,
        )
    levenstein = np.maximum(lev, gerzon)
    for k in range(1, max_order + 1):
        # c_k decreases with k, and the order-k count (1 - eps^2k) / (c_k - eps^2k) is at least
        # 1/c_k: once 1/c_k reaches the best count so far, no higher order can do better
        c = even_moment_lower(k, d)
        with np.errstate(divide="ignore", over="ignore"):
            if k > 1 and np.all(1.0 / c >= np.minimum(best, np.minimum(orthoplex, levenstein))):
                break
        ek = e2**k
        with np.errstate(divide="ignore", invalid="ignore"):
            # N (c_k - eps^2k) <= 1 - eps^2k  (real Welch of order k; k = 1 is the relative bound)
            val = np.where(ek < c * (1.0 - _STRICT), (1.0 - ek) / (c - ek), np.inf)
        consider(val, "welch" if k == 1 else f"real_welch({k})")
    consider(orthoplex, "orthoplex")
    consider(levenstein, "levenstein")
    return best, names


def coherence_bound_line_count(eps: Any, n_dims: Any, max_order: int = 16) -> float | np.ndarray:
    """Upper bound on the number of lines in R^m with |<u, v>| <= eps from the coherence bounds.

    Parameters
    ----------
    eps : float or array, in (0, 1)
        Allowed coherence.
    n_dims : int or array of int, >= 1
        m.
    max_order : int, >= 1
        Highest order of the real Welch bound inverted.

    Returns
    -------
    float or ndarray
        The largest N compatible with every coherence lower bound (``inf`` where none applies).

    Notes
    -----
    Inverting ``mu^(2k) >= (N c_k - 1)/(N - 1)`` at mu = eps gives ``N <= (1 - eps^(2k)) /
    (c_k - eps^(2k))`` when ``eps^(2k) < c_k``; for k = 1 this is the relative bound
    ``N <= m (1 - eps^2) / (1 - m eps^2)`` (eps^2 < 1/m), which for eps < 1/m leaves only
    N <= m (an orthonormal basis is then optimal: Gram matrices I + E with (N-1) eps < 1 are
    positive definite). The orthoplex bound gives ``N <= m(m+1)/2`` for eps < 1/sqrt(m) and the
    Levenstein bound ``N <= max(m(m+1)/2, m(m+2)(1 - eps^2)/(3 - (m+2) eps^2))`` for
    eps^2 < 3/(m+2). Domain: 0 < eps < 1, m >= 1.

    References
    ----------
    P. Delsarte, J. M. Goethals and J. J. Seidel, "Bounds for systems of lines, and Jacobi
    polynomials", Philips Res. Rep. 30:91-105, 1975.
    V. I. Levenshtein, Soviet Math. Dokl. 25:526-531, 1982.

    Examples
    --------
    >>> coherence_bound_line_count(0.2, 3)  # eps < 1/m: at most m lines
    3.0
    >>> coherence_bound_line_count(5 ** -0.5, 3)  # the 6 icosahedron lines are optimal
    6.0
    """
    e, d, scalar = _count_args(eps, n_dims)
    kmax = _max_order(max_order)
    best, _ = _inverted_bounds(e, d, kmax)
    return _out(_floor_count(best), scalar)


@dataclass(frozen=True)
class LineCountBounds:
    """Bounds on the largest number of lines in R^m with pairwise ``|<u, v>| <= eps``.

    Attributes
    ----------
    lower : float or ndarray
        Constructive lower bound (existence of that many lines).
    upper : float or ndarray
        Upper bound (no more lines exist).
    lower_bound, upper_bound : str or ndarray of str
        Names of the bounds attaining them.
    log10_lower, log10_upper : float or ndarray
        log10 of the bounds, finite where the counts leave float64's range (``lower``
        saturates at 1e300 and the cap-packing ``upper`` is inf from about m = 700 at
        eps = 0.5, m = 4,800 at eps = 0.1): there the Gilbert-Varshamov and cap-packing counts
        are taken in log space (:func:`csuper.geometry._sphere.log_abs_tail`), and
        ``log10_upper`` is the smaller of the cap-packing and inverted coherence bounds.
    """

    lower: float | np.ndarray
    upper: float | np.ndarray
    lower_bound: str | np.ndarray
    upper_bound: str | np.ndarray
    log10_lower: float | np.ndarray
    log10_upper: float | np.ndarray


def line_count_bounds(eps: Any, n_dims: Any, max_order: int = 16) -> LineCountBounds:
    """Lower and upper bounds on the number of lines in R^m with pairwise |<u, v>| <= eps.

    Parameters
    ----------
    eps : float or array, in (0, 1)
        Allowed coherence.
    n_dims : int or array of int, >= 1
        m.
    max_order : int, >= 1
        Highest order of the real Welch bound inverted.

    Returns
    -------
    LineCountBounds
        ``lower <= (true maximum) <= upper`` with the names of the bounds used.

    Notes
    -----
    Lower: the largest of the greedy/Gilbert-Varshamov count
    (:func:`gilbert_varshamov_line_count`), an orthonormal basis (m lines, any eps) and the
    regular simplex (m + 1 lines, coherence 1/m, when eps >= 1/m). Upper: the smaller of the cap
    packing bound (:func:`cap_packing_line_count`) and the inverted coherence bounds
    (:func:`coherence_bound_line_count`). ``lower <= upper`` holds for every (eps, m) because the
    constructions are real configurations. Domain: 0 < eps < 1, m >= 1.

    References
    ----------
    J. H. Conway and N. J. A. Sloane, Sphere Packings, Lattices and Groups, 3rd ed., 1999.
    doi:10.1007/978-1-4757-6568-7.
    P. Delsarte, J. M. Goethals and J. J. Seidel, Philips Res. Rep. 30:91-105, 1975.

    Examples
    --------
    >>> b = line_count_bounds(0.5, 3)
    >>> print(int(b.lower), b.lower_bound, int(b.upper), b.upper_bound)
    4 simplex 6 orthoplex
    >>> b = line_count_bounds(0.3, 64)
    >>> print(int(b.lower), b.lower_bound, int(b.upper), b.upper_bound)
    66 gilbert_varshamov 3437979725 real_welch(9)
    """
    e, d, scalar = _count_args(eps, n_dims)
    kmax = _max_order(max_order)
    e, d = np.broadcast_arrays(e, d)
    gv = _gv_count(e, d)
    basis = d.astype(np.float64)
    simplex = np.where((e * d >= 1.0) & (d >= 2), d + 1.0, 0.0)
    candidates = np.stack([basis, simplex, gv])  # ties go to the explicit constructions
    lower = candidates.max(axis=0)
    lower_name = np.array(["basis", "simplex", "gilbert_varshamov"])[candidates.argmax(axis=0)]
    cap = _cap_count(e, d)
    inv, inv_names = _inverted_bounds(e, d, kmax)
    inv = _floor_count(inv)
    upper = np.minimum(cap, inv)
    upper_name = np.where(inv < cap, inv_names.astype(str), "cap_packing")
    # in log space: N >= 1/P(|t| >= eps) and N <= 1/P(|t| >= sqrt((1 + eps)/2)) hold unrounded
    ln10 = np.log(10.0)
    with np.errstate(divide="ignore"):
        log10_lower = np.maximum(np.log10(lower), -log_abs_tail(e, d) / ln10)
        log10_cap = np.where(
            np.isfinite(cap), np.log10(cap), -log_abs_tail(np.sqrt((1.0 + e) / 2.0), d) / ln10
        )
        log10_upper = np.minimum(log10_cap, np.log10(inv))
    if scalar:
        return LineCountBounds(
            _scalar(lower),
            _scalar(upper),
            _scalar(lower_name, str),
            _scalar(upper_name, str),
            _scalar(log10_lower),
            _scalar(log10_upper),
        )
    return LineCountBounds(
        lower, upper, lower_name.astype(str), upper_name.astype(str), log10_lower, log10_upper
    )


def kabatiansky_levenshtein_rate(eps: Any) -> float | np.ndarray:
    """Kabatiansky-Levenshtein asymptotic upper bound on the rate of line packings, in bits/n_dims.

    Parameters
    ----------
    eps : float or array, in (0, 1)
        Allowed coherence (lines) = largest inner product (spherical codes).

    Returns
    -------
    float or ndarray
        ``R_KL(theta)`` with ``sin theta = sqrt(1 - eps^2)``: for m -> infinity, the number N
        of lines in R^m with pairwise ``|<u, v>| <= eps`` satisfies
        ``log2(N) / m <= R_KL + o(1)`` (and the same for spherical codes with ``<u, v> <= eps``).

    Notes
    -----
    With ``s = sin theta``, theta = arccos(eps) in (0, pi/2),

        R_KL = (1+s)/(2s) log2((1+s)/(2s)) - (1-s)/(2s) log2((1-s)/(2s)).

    The 2N points +-u_i form a spherical code of minimum angle theta, and ``log2(2N)/m`` and
    ``log2(N)/m`` have the same limit. An asymptotic statement: it is not a bound at finite m.
    The matching constructive rate is :func:`gilbert_varshamov_rate` (``-log2 sin theta``).

    References
    ----------
    G. A. Kabatiansky and V. I. Levenshtein, "On bounds for packings on a sphere and in space",
    Probl. Inf. Transm. 14(1):1-17, 1978.

    Examples
    --------
    >>> print(f"{kabatiansky_levenshtein_rate(0.5):.6f}")
    0.401414
    """
    e, s = level_values(eps)
    sn = np.sqrt(1.0 - e * e)
    a = (1.0 + sn) / (2.0 * sn)
    b = (1.0 - sn) / (2.0 * sn)
    blogb = np.where(b > 0, b * np.log2(np.where(b > 0, b, 1.0)), 0.0)
    return _out(a * np.log2(a) - blogb, s)


def gilbert_varshamov_rate(eps: Any) -> float | np.ndarray:
    """Asymptotic rate of the greedy (Gilbert-Varshamov) line packing, in bits per dimension.

    Parameters
    ----------
    eps : float or array, in (0, 1)
        Allowed coherence.

    Returns
    -------
    float or ndarray
        ``-log2(sin theta) = -log2(1 - eps^2) / 2``.

    Notes
    -----
    ``P(|t| >= eps) = (1 - eps^2)^(m/2 + O(log m)/m)``, so the count of
    :func:`gilbert_varshamov_line_count` satisfies ``log2(N)/m -> -log2(1 - eps^2)/2``
    (Chabauty 1953, Shannon 1959, Wyner 1965). Always below :func:`kabatiansky_levenshtein_rate`.

    References
    ----------
    A. D. Wyner, Bell Syst. Tech. J. 44:1061-1122, 1965. doi:10.1002/j.1538-7305.1965.tb04170.x.

    Examples
    --------
    >>> print(f"{gilbert_varshamov_rate(0.5):.6f}")
    0.207519
    """
    e, s = level_values(eps)
    return _out(-0.5 * np.log2(1.0 - e * e), s)


# --------------------------------------------------------------------------------------------
# registry
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PackingBound:
    """One named bound of :data:`PACKING_BOUNDS`.

    Attributes
    ----------
    func : callable
        The public function.
    kind : str
        ``"coherence"`` (lower bound on the coherence of N lines, ``func(n_features, n_dims)``),
        ``"code_inner_product"`` (lower bound on the max signed inner product,
        ``func(n_features, n_dims)``), ``"equiangular_count"`` (``func(n_dims)``),
        ``"count_lower"`` / ``"count_upper"`` (``func(eps, n_dims)``), ``"rate_lower"`` /
        ``"rate_upper"`` (``func(eps)``, asymptotic, bits per dimension).
    domain : str
        The validity domain, as the error messages state it.
    applies : callable
        ``applies(n_features, n_dims) -> bool`` (coherence kinds) telling whether (N, d) is in the
        domain; None for the other kinds (their domain is the argument validation).
    orders : bool
        The bound is a family indexed by an order k >= 1, ``func(n_features, n_dims, k)``; users
        of the registry (the CLI, :mod:`csuper.testing`) try orders 1, 2, ... and keep the best.
    """

    func: Callable[..., Any]
    kind: str
    domain: str
    applies: Callable[[int, int], bool] | None = None
    orders: bool = False


def _always(n: int, d: int) -> bool:
    return n >= 2 and d >= 1


def _beyond_gerzon(n: int, d: int) -> bool:
    return n >= 2 and d >= 1 and n > d * (d + 1) // 2  # Python integers: exact


PACKING_BOUNDS: dict[str, PackingBound] = {
    "welch": PackingBound(
        welch_bound, "coherence", "n_features >= 2, n_dims >= 1", _always, orders=True
    ),
    "real_welch": PackingBound(
        real_welch_bound, "coherence", "n_features >= 2, n_dims >= 1", _always, orders=True
    ),
    "orthoplex": PackingBound(
        orthoplex_bound, "coherence", "n_features > n_dims*(n_dims+1)/2", _beyond_gerzon
    ),
    "levenstein": PackingBound(
        levenstein_bound, "coherence", "n_features > n_dims*(n_dims+1)/2", _beyond_gerzon
    ),
    "rankin_simplex": PackingBound(
        rankin_simplex_bound, "code_inner_product", "n_features >= 2, n_dims >= 1", _always
    ),
    "gerzon": PackingBound(gerzon_bound, "equiangular_count", "n_dims >= 1"),
    "gilbert_varshamov": PackingBound(
        gilbert_varshamov_line_count, "count_lower", "0 < eps < 1, n_dims >= 1"
    ),
    "cap_packing": PackingBound(cap_packing_line_count, "count_upper", "0 < eps < 1, n_dims >= 1"),
    "coherence_bounds": PackingBound(
        coherence_bound_line_count, "count_upper", "0 < eps < 1, n_dims >= 1"
    ),
    "kabatiansky_levenshtein": PackingBound(
        kabatiansky_levenshtein_rate, "rate_upper", "0 < eps < 1, asymptotic in n_dims"
    ),
    "gilbert_varshamov_rate": PackingBound(
        gilbert_varshamov_rate, "rate_lower", "0 < eps < 1, asymptotic in n_dims"
    ),
}
"""Registry of the named packing bounds: name -> :class:`PackingBound` (function, kind, domain)."""
