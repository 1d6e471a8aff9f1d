"""Target-dimension bounds for Johnson–Lindenstrauss maps, and their inverses.

A JL map f: R^n -> R^m has *distortion* eps on a point set X of N points when every pair satisfies
``| ||f(x_i) - f(x_j)||^2 / ||x_i - x_j||^2 - 1 | <= eps`` (squared norms, the convention of
Dasgupta & Gupta and of scikit-learn). Each bound here answers: which m makes a random map of a
given construction achieve distortion eps on any fixed N points with probability at least
``1 - failure_probability``? :func:`max_eps` inverts a bound: the smallest eps it guarantees for a
given m.

Every bound lives in the :data:`BOUNDS` registry (uniform call signature) that the CLI, the
experiment and the tests read.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import numpy as np

from csuper._validation import check_array, check_int, check_real

__all__ = [
    "BOUNDS",
    "SparseJLDims",
    "achlioptas_min_dim",
    "countsketch_min_dim",
    "dasgupta_gupta_min_dim",
    "kane_nelson_min_dim",
    "larsen_nelson_lower_bound",
    "max_eps",
    "min_dim",
    "srht_min_dim",
]


def _open01(value, name: str) -> float:
    return check_real(value, name, low=0.0, high=1.0, low_inclusive=False, high_inclusive=False)


def _eps(eps) -> float:
    return _open01(eps, "eps")


def _delta(failure_probability) -> float:
    return _open01(failure_probability, "failure_probability")


#: Largest number of points accepted (every integer up to 2**53 is exact in float64).
_MAX_POINTS = 2**53


def _points(n_points) -> int:
    return check_int(n_points, "n_points", low=2, high=_MAX_POINTS)


_Real = TypeVar("_Real", float, np.ndarray)


def _chernoff_rate(eps: _Real) -> _Real:
    """eps^2/2 - eps^3/3: the per-dimension exponent of the Dasgupta–Gupta tail bound."""
    return eps**2 / 2.0 - eps**3 / 3.0


def _n_pairs(n_points: int) -> float:
    return n_points * (n_points - 1) / 2.0


def _over(numerator: float, denominator: float) -> float:
    """numerator / denominator, inf when the denominator underflowed to 0 (tiny eps)."""
    return numerator / denominator if denominator > 0.0 else math.inf


def _dimension(value: float, bound: str, eps: float, delta: float | None) -> int:
    """Round a bound's real value up to an int; a value beyond float64 (tiny eps or
    failure_probability) raises instead of overflowing."""
    if not math.isfinite(value):
        extra = "" if delta is None else f", failure_probability={delta!r}"
        raise ValueError(
            f"the {bound} bound needs more than 1.8e308 dimensions at eps={eps!r}{extra}: eps "
            "(or failure_probability) is too small for any target dimension to be computed."
        )
    return math.ceil(value)


# ----------------------------------------------------------------------------------------------
# Dasgupta–Gupta (scikit-learn's johnson_lindenstrauss_min_dim)
# ----------------------------------------------------------------------------------------------
def dasgupta_gupta_min_dim(n_points, eps=0.1):
    """Dasgupta–Gupta target dimension ``4 ln(N) / (eps^2/2 - eps^3/3)`` (scikit-learn's formula).

    Parameters
    ----------
    n_points : int or array_like of int
        Number of points N >= 2 (arrays broadcast against ``eps``, as in scikit-learn).
    eps : float or array_like of float
        Distortion in (0, 1).

    Returns
    -------
    int or ndarray of int64
        The target dimension m; an array when either argument is array-like.

    Notes
    -----
    Dasgupta & Gupta (2003, Lemma 2.2) show that for a Gaussian map with m rows each pair of points
    fails the distortion eps with probability at most ``2 exp(-m (eps^2/2 - eps^3/3) / 2)``. At
    ``m >= 4 ln(N) / (eps^2/2 - eps^3/3)`` the union bound over the N(N-1)/2 pairs leaves a success
    probability of at least 1/N: such a map *exists*. For a small failure probability use
    :func:`achlioptas_min_dim`. The value is truncated to an integer exactly as scikit-learn's
    ``johnson_lindenstrauss_min_dim`` does (so it can be one below the ceiling of the formula).

    References
    ----------
    S. Dasgupta, A. Gupta, "An elementary proof of a theorem of Johnson and Lindenstrauss",
    Random Structures & Algorithms 22 (2003), doi:10.1002/rsa.10073.

    Examples
    --------
    >>> dasgupta_gupta_min_dim(10**6, eps=0.5)
    663
    >>> dasgupta_gupta_min_dim([10**4, 10**5, 10**6], eps=0.1).tolist()
    [7894, 9868, 11841]
    """
    for value, name in ((n_points, "n_points"), (eps, "eps")):
        if isinstance(value, (list, tuple, np.ndarray)):  # ragged, strings, objects: named
            check_array(value, name)
    scalar = np.ndim(n_points) == 0 and np.ndim(eps) == 0
    n_arr = np.asarray(n_points)
    e_arr = np.asarray(eps)
    if scalar:
        n_val, e_val = _points(n_points), _eps(eps)
        value = _over(4.0 * math.log(n_val), _chernoff_rate(e_val))
        _dimension(value, "dasgupta-gupta", e_val, None)
        return int(value)
    if n_arr.dtype == np.bool_ or not np.issubdtype(n_arr.dtype, np.integer):
        raise TypeError(f"n_points must be integers >= 2; got dtype {n_arr.dtype}.")
    if n_arr.size == 0 or e_arr.size == 0:
        raise ValueError("n_points and eps must have at least 1 element(s); got an empty array.")
    if np.any((n_arr < 2) | (n_arr > _MAX_POINTS)):
        bad_n = n_arr[(n_arr < 2) | (n_arr > _MAX_POINTS)].ravel()[0]
        raise ValueError(f"n_points must be integers in [2, {_MAX_POINTS}]; got {int(bad_n)}.")
    if not np.issubdtype(e_arr.dtype, np.floating) or not np.all(np.isfinite(e_arr)):
        raise TypeError(f"eps must be finite real numbers in (0, 1); got {eps!r}.")
    if np.any((e_arr <= 0) | (e_arr >= 1)):
        bad = e_arr[(e_arr <= 0) | (e_arr >= 1)].ravel()[0]
        raise ValueError(f"eps must be real numbers in (0, 1); got {float(bad)!r}.")
    with np.errstate(divide="ignore", over="ignore"):
        value = 4.0 * np.log(n_arr.astype(float)) / _chernoff_rate(e_arr.astype(float))
    if not np.all(value < 2.0**63):
        bad_e = np.broadcast_to(e_arr, value.shape)[~(value < 2.0**63)].ravel()[0]
        raise ValueError(
            f"eps={float(bad_e)!r} is too small: the dasgupta-gupta target dimension exceeds "
            "the int64 range of an array result (pass scalars for a Python int)."
        )
    return value.astype(np.int64)


# ----------------------------------------------------------------------------------------------
# Real-valued forms (used for min_dim by ceiling and for max_eps by inversion)
# ----------------------------------------------------------------------------------------------
def _achlioptas_real(n: int, eps: float, delta: float) -> float:
    return _over(4.0 * math.log(n) - 2.0 * math.log(delta), _chernoff_rate(eps))


def _srht_real(n: int, eps: float, delta: float, n_features: int | None) -> float:
    if n_features is None:
        raise ValueError("the srht bound needs n_features (the input dimension n).")
    log_pad = math.log(2.0) * max(0, (n_features - 1).bit_length())
    log_pairs = math.log(_n_pairs(n))
    b = 2.0 * (math.log(4.0) + log_pad + log_pairs - math.log(delta))
    return _over(b * b * (math.log(4.0) + log_pairs - math.log(delta)), 2.0 * eps**2)


def _countsketch_real(n: int, eps: float, delta: float) -> float:
    # 2 P / (eps^2 delta) through logarithms: eps^2 delta may underflow to 0 (the value is then
    # beyond float64, which _dimension reports) where the division would fail
    log_value = math.log(2.0 * _n_pairs(n)) - 2.0 * math.log(eps) - math.log(delta)
    return math.exp(log_value) if log_value < 709.0 else math.inf


def achlioptas_min_dim(n_points: int, eps: float, failure_probability: float | None = None) -> int:
    """Achlioptas' target dimension for Gaussian, Rademacher and sparse (density 1/3) maps.

    Parameters
    ----------
    n_points : int
        Number of points N >= 2.
    eps : float
        Distortion in (0, 1).
    failure_probability : float in (0, 1) or None
        delta; ``None`` means 1/N (Achlioptas' beta = 1).

    Returns
    -------
    int
        ``ceil((4 ln N + 2 ln(1/delta)) / (eps^2/2 - eps^3/3))``.

    Notes
    -----
    Achlioptas (2003, Theorem 1): with ``m >= (4 + 2 beta) ln(N) / (eps^2/2 - eps^3/3)`` a map with
    i.i.d. entries ``+-1/sqrt(m)``, or ``sqrt(3/m) * {+1, 0, -1}`` with probabilities
    ``{1/6, 2/3, 1/6}``, has distortion at most eps on N fixed points with probability at least
    ``1 - N^-beta``. Writing ``delta = N^-beta`` gives the form above. The Gaussian map satisfies
    the same bound by the Dasgupta–Gupta tail inequality.

    References
    ----------
    D. Achlioptas, "Database-friendly random projections: Johnson-Lindenstrauss with binary
    coins", J. Comput. Syst. Sci. 66 (2003), doi:10.1016/S0022-0000(03)00025-4.

    Examples
    --------
    >>> achlioptas_min_dim(1000, 0.1, failure_probability=0.01)
    7895
    """
    n, e = _points(n_points), _eps(eps)
    d = 1.0 / n if failure_probability is None else _delta(failure_probability)
    return _dimension(_achlioptas_real(n, e, d), "achlioptas", e, d)


@dataclass(frozen=True)
class SparseJLDims:
    """Target dimension and column sparsity of a sparse JL map.

    Attributes
    ----------
    n_dims : int
        Rows m.
    nnz_per_column : int
        Nonzeros s in each column (1 <= s <= m).
    """

    n_dims: int
    nnz_per_column: int


def kane_nelson_min_dim(
    n_points: int,
    eps: float,
    failure_probability: float | None = None,
    *,
    nnz_fraction: float = 1.0,
) -> SparseJLDims:
    """Rows m and column sparsity s for the Kane–Nelson sparse JL transform.

    Parameters
    ----------
    n_points : int
        Number of points N >= 2.
    eps : float
        Distortion in (0, 1).
    failure_probability : float in (0, 1) or None
        delta; ``None`` means 1/N.
    nnz_fraction : float in (0, 1]
        The constant c in ``s = ceil(c * eps * m)``.

    Returns
    -------
    SparseJLDims
        ``n_dims = ceil((4 ln N + 2 ln(1/delta)) / (eps^2/2 - eps^3/3))`` and
        ``nnz_per_column = min(m, ceil(nnz_fraction * eps * m))``.

    Notes
    -----
    Kane & Nelson (2014, Theorem 1.1; simpler proofs by Cohen, Jayram & Nelson 2018) prove that the
    block construction with ``m = Theta(eps^-2 log(1/delta'))`` rows and
    ``s = Theta(eps^-1 log(1/delta')) = Theta(eps m)`` nonzeros per column is a JL distribution for
    one vector with failure probability delta'; the union bound over N(N-1)/2 pairs gives
    ``log(1/delta') ~ 2 ln N + ln(1/delta)``. The theorem fixes only the order: its constants are
    not explicit. This function uses the Gaussian constant of :func:`achlioptas_min_dim` for m and
    ``s = ceil(nnz_fraction * eps * m)``, so it is a *calibrated order*, not a certified bound:
    :func:`csuper.jl.distortion_experiment` measures how far below it sparse JL works.

    References
    ----------
    D. M. Kane, J. Nelson, "Sparser Johnson-Lindenstrauss transforms", J. ACM 61 (2014),
    arXiv:1012.1577. M. B. Cohen, T. S. Jayram, J. Nelson, "Simple analyses of the sparse
    Johnson-Lindenstrauss transform", SOSA 2018, doi:10.4230/OASIcs.SOSA.2018.15.

    Examples
    --------
    >>> kane_nelson_min_dim(1000, 0.1, failure_probability=0.01)
    SparseJLDims(n_dims=7895, nnz_per_column=790)
    """
    n, e = _points(n_points), _eps(eps)
    d = 1.0 / n if failure_probability is None else _delta(failure_probability)
    c = check_real(nnz_fraction, "nnz_fraction", low=0.0, high=1.0, low_inclusive=False)
    m = _dimension(_achlioptas_real(n, e, d), "kane-nelson", e, d)
    return SparseJLDims(n_dims=m, nnz_per_column=min(m, max(1, math.ceil(c * e * m))))


def srht_min_dim(n_points: int, eps: float, failure_probability: float, n_features: int) -> int:
    """Target dimension that provably suffices for the subsampled randomized Hadamard transform.

    Parameters
    ----------
    n_points : int
        Number of points N >= 2.
    eps : float
        Distortion in (0, 1).
    failure_probability : float
        delta in (0, 1).
    n_features : int
        Input dimension n (padded to n' = the next power of two).

    Returns
    -------
    int
        ``ceil(b^2 ln(4P/delta) / (2 eps^2))`` with ``P = N(N-1)/2`` and
        ``b = 2 ln(4 n' P / delta)``. The SRHT needs m <= n'; a larger value means the bound
        cannot certify eps at this n.

    Notes
    -----
    The two-step argument of Ailon & Chazelle (2009) and Tropp (2011), with explicit constants.
    For a unit difference vector v, ``y = H D v`` (H the orthonormal Walsh–Hadamard matrix, D
    random signs) has ``P(|y_i| >= t) <= 2 exp(-n' t^2 / 2)`` by Hoeffding; over all n' coordinates
    and P pairs, with probability ``1 - delta/2`` every ``z_i = n' y_i^2 <= b``. The SRHT's
    ``||f(v)||^2`` is the mean of m values sampled without replacement from ``{z_i}`` (mean 1), so
    Hoeffding's inequality for sampling without replacement bounds each pair's failure by
    ``2 exp(-2 m eps^2 / b^2)``; the union over P pairs at budget delta/2 gives m. The poly-log
    factor makes it far larger than what the SRHT needs in practice (Tropp's sharper analysis has
    unspecified constants).

    References
    ----------
    N. Ailon, B. Chazelle, "The fast Johnson–Lindenstrauss transform and approximate nearest
    neighbors", SIAM J. Comput. 39 (2009), doi:10.1137/060673096. J. A. Tropp, "Improved analysis
    of the subsampled randomized Hadamard transform", Adv. Adapt. Data Anal. 3 (2011),
    arXiv:1011.1595.

    Examples
    --------
    >>> srht_min_dim(100, 0.5, 0.1, n_features=4096)
    41059
    """
    n, e, d = _points(n_points), _eps(eps), _delta(failure_probability)
    nf = check_int(n_features, "n_features", low=1, high=_MAX_POINTS)
    return _dimension(_srht_real(n, e, d, nf), "srht", e, d)


def countsketch_min_dim(n_points: int, eps: float, failure_probability: float) -> int:
    """Target dimension for CountSketch (one nonzero per column), by Chebyshev and a union bound.

    Parameters
    ----------
    n_points : int
        Number of points N >= 2.
    eps : float
        Distortion in (0, 1).
    failure_probability : float
        delta in (0, 1).

    Returns
    -------
    int
        ``ceil(N (N - 1) / (eps^2 delta))``.

    Notes
    -----
    For CountSketch S with m rows, ``E ||Sx||^2 = ||x||^2`` and
    ``Var ||Sx||^2 = (2/m)(||x||_2^4 - ||x||_4^4) <= 2 ||x||^4 / m`` (Thorup & Zhang 2012;
    :mod:`tests.jl` checks the variance by Monte Carlo). Chebyshev gives a per-pair failure of at
    most ``2 / (m eps^2)``; the union bound over ``N(N-1)/2`` pairs gives m. The quadratic
    dependence on N (rather than log N) is unavoidable for one nonzero per column
    (Nelson & Nguyen 2013).

    References
    ----------
    M. Charikar, K. Chen, M. Farach-Colton, "Finding frequent items in data streams", ICALP 2002.
    M. Thorup, Y. Zhang, "Tabulation-based 5-independent hashing with applications to linear
    probing and second moment estimation", SIAM J. Comput. 41 (2012), doi:10.1137/100800774.
    J. Nelson, H. L. Nguyen, "Sparsity lower bounds for dimensionality reducing maps", STOC 2013,
    arXiv:1211.0995.

    Examples
    --------
    >>> countsketch_min_dim(10, 0.5, 0.1)
    3600
    """
    n, e, d = _points(n_points), _eps(eps), _delta(failure_probability)
    return _dimension(_countsketch_real(n, e, d), "countsketch", e, d)


def larsen_nelson_lower_bound(n_points: int, eps: float, n_features: int | None = None) -> float:
    """The Larsen–Nelson lower bound's order ``ln(eps^2 N) / eps^2`` (universal constant omitted).

    Parameters
    ----------
    n_points : int
        Number of points N >= 2.
    eps : float
        Distortion in (0, 1); the theorem needs ``eps > min(N, n)^(-0.4999)``.
    n_features : int or None
        Ambient dimension n of the hard point set (``None``: n >= N, so min(N, n) = N).

    Returns
    -------
    float
        ``ln(eps^2 N) / eps^2``. Any map (linear or not) with distortion eps on the hard N-point
        set needs ``m >= c * ln(eps^2 N) / eps^2`` for a universal constant c > 0 that the theorem
        does not make explicit; the function returns the order with c = 1.

    Raises
    ------
    ValueError
        If eps lies outside the theorem's range ``(min(N, n)^(-0.4999), 1)``.

    Notes
    -----
    Larsen & Nelson (2017, Theorem 1): for any n, N >= 2 and ``1/min(N, n)^0.4999 < eps < 1``
    there is a set of N points in R^n such that every embedding into R^m with distortion
    ``1 + eps`` needs ``m = Omega(eps^-2 log(eps^2 N))``; this matches the upper bounds
    (Dasgupta–Gupta) up to the constant, so the JL lemma is optimal.

    References
    ----------
    K. G. Larsen, J. Nelson, "Optimality of the Johnson-Lindenstrauss lemma", FOCS 2017,
    arXiv:1609.02094.

    Examples
    --------
    >>> round(larsen_nelson_lower_bound(10**6, 0.1), 3)
    921.034
    """
    n, e = _points(n_points), _eps(eps)
    size = (
        n
        if n_features is None
        else min(n, check_int(n_features, "n_features", low=2, high=_MAX_POINTS))
    )
    low = size**-0.4999
    if e <= low:
        raise ValueError(
            f"eps must be a real number in ({low:.6g}, 1) for the Larsen-Nelson lower bound "
            f"(eps > min(n_points, n_features)^-0.4999); got {e!r}."
        )
    return math.log(e * e * n) / (e * e)


# ----------------------------------------------------------------------------------------------
# Registry and generic front ends
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Bound:
    """A registered upper bound: its real-valued form and how to round it."""

    real: Callable[[int, float, float, int | None], float]
    applies_to: tuple[str, ...]
    summary: str
    rounding: Callable[[float], int] = math.ceil
    uses_failure_probability: bool = True
    needs_n_features: bool = False


BOUNDS: dict[str, _Bound] = {
    "dasgupta-gupta": _Bound(
        real=lambda n, e, d, nf: _over(4.0 * math.log(n), _chernoff_rate(e)),
        rounding=int,
        uses_failure_probability=False,
        applies_to=("gaussian",),
        summary="4 ln N / (eps^2/2 - eps^3/3): success probability >= 1/N (scikit-learn's bound)",
    ),
    "achlioptas": _Bound(
        real=lambda n, e, d, nf: _achlioptas_real(n, e, d),
        applies_to=("gaussian", "rademacher", "achlioptas"),
        summary="(4 ln N + 2 ln(1/delta)) / (eps^2/2 - eps^3/3)",
    ),
    "kane-nelson": _Bound(
        real=lambda n, e, d, nf: _achlioptas_real(n, e, d),
        applies_to=("sparse-jl",),
        summary="order eps^-2 log(N^2/delta) with s = eps m (constants not explicit)",
    ),
    "srht": _Bound(
        real=_srht_real,
        needs_n_features=True,
        applies_to=("srht",),
        summary="b^2 ln(4P/delta) / (2 eps^2), b = 2 ln(4 n' P/delta) (Hoeffding twice)",
    ),
    "countsketch": _Bound(
        real=lambda n, e, d, nf: _countsketch_real(n, e, d),
        applies_to=("countsketch",),
        summary="N (N - 1) / (eps^2 delta) (Chebyshev and a union bound)",
    ),
}
"""Upper bounds on the target dimension, by name. ``applies_to`` names the constructions of
:data:`csuper.jl.CONSTRUCTIONS` that each bound certifies."""


def _bound(name) -> _Bound:
    if not isinstance(name, str) or name not in BOUNDS:
        raise ValueError(f"bound must be one of {sorted(BOUNDS)}; got {name!r}.")
    return BOUNDS[name]


def _bound_args(b: _Bound, n_points, failure_probability, n_features):
    n = _points(n_points)
    d = 1.0 / n if failure_probability is None else _delta(failure_probability)
    if n_features is None:
        if b.needs_n_features:
            raise ValueError("n_features must be given (an integer >= 1) for this bound; got None.")
        return n, d, None
    return n, d, check_int(n_features, "n_features", low=1, high=_MAX_POINTS)


def min_dim(
    n_points: int,
    eps: float,
    *,
    bound: str = "achlioptas",
    failure_probability: float | None = 0.01,
    n_features: int | None = None,
) -> int:
    """Target dimension m from a registered bound (see :data:`BOUNDS`).

    Parameters
    ----------
    n_points : int
        Number of points N >= 2.
    eps : float
        Distortion in (0, 1).
    bound : str
        A key of :data:`BOUNDS`.
    failure_probability : float in (0, 1) or None
        delta (``None``: 1/N); ignored by ``"dasgupta-gupta"``, whose guarantee is a success
        probability of at least 1/N.
    n_features : int or None
        Input dimension n (needed by ``"srht"``).

    Returns
    -------
    int

    Examples
    --------
    >>> min_dim(10**6, 0.5, bound="dasgupta-gupta")
    663
    >>> min_dim(1000, 0.1, bound="achlioptas", failure_probability=0.01)
    7895
    """
    b = _bound(bound)
    e = _eps(eps)
    n, d, nf = _bound_args(b, n_points, failure_probability, n_features)
    value = b.real(n, e, d, nf)
    _dimension(value, bound, e, d if b.uses_failure_probability else None)
    return int(b.rounding(value))


def max_eps(
    n_points: int,
    n_dims: int,
    *,
    bound: str = "achlioptas",
    failure_probability: float | None = 0.01,
    n_features: int | None = None,
) -> float:
    """Smallest distortion eps that a bound guarantees for N points in m dimensions.

    The inverse of :func:`min_dim`: the eps in (0, 1) at which the bound's real-valued formula
    equals ``n_dims`` (every larger eps is then guaranteed, since the bounds decrease in eps).

    Parameters
    ----------
    n_points : int
        Number of points N >= 2.
    n_dims : int
        Target dimension m >= 1.
    bound, failure_probability, n_features
        As in :func:`min_dim`.

    Returns
    -------
    float
        eps in (0, 1).

    Raises
    ------
    ValueError
        If ``n_dims`` is too small for the bound to certify any eps < 1.

    Examples
    --------
    >>> round(max_eps(10**6, 663, bound="dasgupta-gupta"), 4)
    0.5001
    """
    b = _bound(bound)
    m = check_int(n_dims, "n_dims", low=1, high=_MAX_POINTS)
    n, d, nf = _bound_args(b, n_points, failure_probability, n_features)

    def f(e: float) -> float:
        return b.real(n, e, d, nf) - m

    hi = 1.0 - 1e-12
    if f(hi) > 0:
        need = math.ceil(b.real(n, hi, d, nf))
        raise ValueError(
            f"n_dims must be an integer >= {need} for the {bound} bound to guarantee any eps < 1 "
            f"with n_points={n} and failure_probability={d!r}; got {m}."
        )
    lo = 1e-12
    if f(lo) <= 0:  # pragma: no cover - would need astronomically many dimensions
        return lo
    for _ in range(200):  # bisection to full double precision (the forms are monotone in eps)
        mid = 0.5 * (lo + hi)
        if f(mid) > 0:
            lo = mid
        else:
            hi = mid
        if hi - lo <= 1e-15:
            break
    return hi
