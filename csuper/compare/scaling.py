"""Compressed-sensing scaling of learned toy models: do networks pack features at an l1 rate?

For a model with n features, m hidden dimensions and activation probabilities p_i, the expected
number of active features is ``k = sum p_i``. Compressed sensing says m measurements suffice to
recover k-sparse nonnegative signals in R^n (with a Gaussian sensing matrix) when m exceeds the
statistical dimension of the nonnegative l1 descent cone. Amelunxen et al. (2014) give a formula
for it, ``m*_A(n, k) = n psi(k / n)`` (:func:`nonnegative_threshold`), which is exact as n grows
and an upper bound at finite n; :func:`statistical_dimension_monte_carlo` estimates the exact
finite-n value. Its leading-order form for small k / n is ``2 k log(n / k)``. Turned around: with
m dimensions and per-feature probability p, l1 recovery can serve at most the
*compressed-sensing capacity* ``n'`` features, the largest n' with ``m*_A(n', n' p) <= m``.

:func:`fit_scaling` fits represented-feature counts over a sweep of (n, m, S) to every law of
:data:`SCALING_LAWS` -- the two compressed-sensing laws and their rivals with and without a log
-- on the points where every law is defined, and reports each law's residual trends in n, m and
S (a law that fits by its coefficient but leaves a trend is misspecified).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from csuper._validation import check_array, check_bool, check_int, check_real, check_rng
from csuper.compare._model import model_arrays
from csuper.geometry import gram_matrix
from csuper.recovery import statistical_dimension_curve

__all__ = [
    "SCALING_LAWS",
    "ScalingLaw",
    "ScalingPoint",
    "LawFit",
    "ScalingFit",
    "MonteCarloEstimate",
    "nonnegative_threshold",
    "statistical_dimension_monte_carlo",
    "cs_capacity",
    "scaling_point",
    "scaling_points",
    "fit_scaling",
]

#: Default cap of :func:`cs_capacity`: the largest integer a float64 holds exactly. Beyond it
#: ``m*(n', n' p)`` cannot tell n' from n' + 1, so the "largest n'" is no longer defined.
CAPACITY_CAP = 2**53

#: Largest n_features * n_samples drawn at once by :func:`statistical_dimension_monte_carlo`
#: (the draws are chunked; 2**22 float64 values are 32 MiB).
_MC_CHUNK = 2**22


def _psi(p: np.ndarray) -> np.ndarray:
    """psi(p) elementwise, evaluated once per distinct value (sweeps repeat a few p)."""
    p = np.asarray(p, dtype=np.float64)
    values, inverse = np.unique(p, return_inverse=True)
    return (
        np.asarray(statistical_dimension_curve(values, nonnegative=True))
        .reshape(-1)[inverse]
        .reshape(p.shape)
    )


def nonnegative_threshold(n_features: Any, k: Any) -> np.ndarray | float:
    """Amelunxen et al.'s approximation m*_A(n, k) of the nonnegative l1 threshold, real k too.

    Parameters
    ----------
    n_features : float or array_like
        n > 0 (real values allowed, e.g. a capacity being searched for).
    k : float or array_like
        Expected number of active features, in [0, n]; broadcast against ``n_features``.

    Returns
    -------
    float or ndarray
        ``m*_A(n, k) = n psi(k / n)``, with psi the normalised nonnegative statistical dimension
        (:func:`csuper.recovery.statistical_dimension_curve`). A float for scalar input.

    Notes
    -----
    :func:`csuper.recovery.statistical_dimension` takes integer k and returns exactly
    ``n psi(k / n)`` (ALMT 2014's formula, ``inf_tau k (1 + tau^2) + (n - k) J(tau)``, is
    homogeneous of degree one in (n, k)); the same expression is the natural continuous extension
    to the expected count ``k = sum p_i``, which is rarely an integer. The tests check agreement at
    integer k.

    It is the infimum over tau of ``E dist^2(g, tau * subdifferential)``, an upper bound on the
    exact statistical dimension ``E dist^2(g, cone(subdifferential))`` that is exact as
    n -> infinity at fixed k / n and exceeds it by at most ``2 sqrt(n / k)`` (ALMT 2014,
    Thm. 4.3); at n = 20, k = 2 it is 5.31 against 4.6 for the exact value
    (:func:`statistical_dimension_monte_carlo` estimates that one).

    References
    ----------
    D. Amelunxen, M. Lotz, M. B. McCoy, J. A. Tropp, "Living on the edge", Inf. Inference 3
    (2014), arXiv:1303.6672.

    Examples
    --------
    >>> print(f"{nonnegative_threshold(200, 20):.3f}")
    53.061
    >>> print(f"{nonnegative_threshold(200, 20.5):.3f}")
    53.916
    """
    n = check_array(n_features, "n_features", dtype=np.float64)
    kk = check_array(k, "k", dtype=np.float64)
    scalar = np.ndim(n_features) == 0 and np.ndim(k) == 0  # after the checks: no ragged input
    if np.any(n <= 0):
        raise ValueError(f"n_features must be > 0; got minimum {float(n.min())!r}.")
    try:
        n, kk = np.broadcast_arrays(n, kk)
    except ValueError:
        raise ValueError(
            f"n_features and k must broadcast; got shapes {n.shape} and {kk.shape}."
        ) from None
    if np.any(kk < 0) or np.any(kk > n):
        raise ValueError("k must lie in [0, n_features]; got k outside that range.")
    out = n * _psi(np.clip(kk / n, 0.0, 1.0))
    return float(out.reshape(-1)[0]) if scalar else out


def cs_capacity(n_dims: int, feature_probability: float, *, cap: int = CAPACITY_CAP) -> int:
    """Compressed-sensing capacity: the largest n' with m*_A(n', n' p) <= m.

    Parameters
    ----------
    n_dims : int
        m >= 1.
    feature_probability : float
        p in [0, 1], the probability that a feature is active (k' = n' p).
    cap : int
        Upper limit returned when p is so small that n' exceeds it (default 2**53, the largest
        integer a float64 holds exactly). ``p = 0`` returns ``cap``.

    Returns
    -------
    int
        n' with ``m*(n', n' p) <= m < m*(n' + 1, (n' + 1) p)`` (or ``cap``).

    Notes
    -----
    ``m*_A(n', n' p) = n' psi(p)`` is linear, hence strictly increasing, in n' for p > 0, so the
    root find has the closed form ``n' = floor(m / psi(p))``, corrected by +-1 steps so that the
    defining inequalities hold for the floating-point m* itself. psi(1) = 1 gives n' = m (no
    compression of dense features); as p -> 0, ``psi(p) ~ 2 p log(1 / p)`` and n' grows without
    bound like ``m / (2 p log(1 / p))``, hence the cap.

    Examples
    --------
    >>> cs_capacity(20, 1.0)
    20
    >>> cs_capacity(20, 0.05)
    119
    """
    m = check_int(n_dims, "n_dims", low=1, high=CAPACITY_CAP)
    p = check_real(feature_probability, "feature_probability", low=0.0, high=1.0)
    cap = check_int(cap, "cap", low=m)
    if p == 0.0:
        return cap
    psi = float(_psi(np.array([p]))[0])
    if psi <= 0.0 or m / psi >= cap:
        return cap

    def mstar(nn: int) -> float:
        return float(nonnegative_threshold(float(nn), nn * p))

    n0 = max(1, int(np.floor(m / psi)))
    while n0 > 1 and mstar(n0) > m:
        n0 -= 1
    while n0 + 1 <= cap and mstar(n0 + 1) <= m:
        n0 += 1
    return min(n0, cap)


@dataclass(frozen=True)
class MonteCarloEstimate:
    """A Monte Carlo estimate with its standard error.

    Attributes
    ----------
    value, se : float
        The sample mean and its standard error (sample standard deviation / sqrt(n_samples)).
    n_samples : int
    """

    value: float
    se: float
    n_samples: int


def _normal_cone_distance2(g_on: np.ndarray, a_off: np.ndarray) -> np.ndarray:
    """Squared distance of each row's point to the cone {t u : t >= 0, u_T = 1, u_off <= 1}.

    ``g_on`` (B, k) holds the on-support coordinates, ``a_off`` (B, n - k) the off-support ones
    (signed program: their absolute values). Exact: F(t) = sum_T (g - t)^2 +
    sum_off (a - t)_+^2 is convex and piecewise quadratic; with the off-support values sorted
    decreasingly, its minimiser over t in [a_(j+1), a_(j)] is t_j = (sum g_T + sum_{l <= j}
    a_(l)) / (k + j), and the first j with t_j >= a_(j+1) is the global minimiser (clipped to
    t >= 0).
    """
    B, k = g_on.shape
    a = -np.sort(-a_off, axis=1)  # decreasing
    N = a.shape[1]
    csum = np.concatenate([np.zeros((B, 1)), np.cumsum(a, axis=1)], axis=1)  # (B, N + 1)
    t = (g_on.sum(axis=1, keepdims=True) + csum) / (k + np.arange(N + 1))[None, :]
    nxt = np.concatenate([a, np.full((B, 1), -np.inf)], axis=1)  # a_(j+1)
    j = np.argmax(t >= nxt, axis=1)
    ts = np.maximum(t[np.arange(B), j], 0.0)[:, None]
    return np.sum((g_on - ts) ** 2, axis=1) + np.sum(np.maximum(a_off - ts, 0.0) ** 2, axis=1)


def statistical_dimension_monte_carlo(
    n_features: int,
    k: int,
    *,
    nonnegative: bool = False,
    n_samples: int = 4000,
    rng=None,
) -> MonteCarloEstimate:
    """Monte Carlo estimate of the exact statistical dimension of the l1 descent cone.

    Parameters
    ----------
    n_features : int
        n >= 1.
    k : int
        Number of nonzeros, in [0, n].
    nonnegative : bool, default False
        True: the nonnegative program ``min sum(x) s.t. A x = y, x >= 0`` (the toy models'
        signals are nonnegative); False: basis pursuit ``min ||x||_1``.
    n_samples : int
        Gaussian draws, in [2, 10**8].
    rng : None, int or numpy.random.Generator

    Returns
    -------
    MonteCarloEstimate
        delta(n, k) = E dist^2(g, N) for g ~ N(0, I_n) and N the normal cone of the objective at
        a k-sparse point, with its standard error.

    Notes
    -----
    The statistical dimension of the descent cone D is ``E ||Pi_D(g)||^2 = E dist^2(g, D°)``
    (Moreau), and the polar D° is the normal cone ``cone(subdifferential)``: ``{t u : t >= 0,
    u_T = 1, u_j <= 1 off T}`` for the nonnegative program (``u_j in [-1, 1]`` for basis pursuit,
    with the support's signs taken positive by symmetry). The distance is computed exactly per
    draw (see ``_normal_cone_distance2``), so the only error is the Monte Carlo one.
    The exact value is ``E inf_t dist^2(g, t * subdifferential)``; Amelunxen et al.'s formula
    (:func:`nonnegative_threshold`) is ``inf_t E dist^2(g, t * subdifferential)``, its upper
    bound, exact as n grows and above this one at finite n (by at most ``2 sqrt(n / k)``).
    Closed form at k = n: the cone is the ray t 1, so delta = n - E[(1^T g / sqrt(n))_+^2] =
    n - 1/2.

    References
    ----------
    D. Amelunxen, M. Lotz, M. B. McCoy, J. A. Tropp, "Living on the edge", Inf. Inference 3
    (2014), arXiv:1303.6672 (Prop. 3.1 and Sec. 4).

    Examples
    --------
    >>> est = statistical_dimension_monte_carlo(20, 2, nonnegative=True, n_samples=20000, rng=0)
    >>> print(f"{est.value:.2f} +- {est.se:.2f}")
    4.67 +- 0.02
    >>> print(f"{nonnegative_threshold(20, 2):.2f}")   # the Amelunxen et al. approximation
    5.31
    """
    n = check_int(n_features, "n_features", low=1, high=10**7)
    kk = check_int(k, "k", low=0, high=n)
    nonneg = check_bool(nonnegative, "nonnegative")
    B = check_int(n_samples, "n_samples", low=2, high=10**8)
    gen = check_rng(rng)
    if kk == 0:  # the normal cone is all of R^n
        return MonteCarloEstimate(0.0, 0.0, B)
    chunk = max(1, _MC_CHUNK // n)
    values = np.empty(B)
    for s in range(0, B, chunk):
        g = gen.standard_normal((min(chunk, B - s), n))
        off = g[:, kk:] if nonneg else np.abs(g[:, kk:])
        values[s : s + g.shape[0]] = _normal_cone_distance2(g[:, :kk], off)
    return MonteCarloEstimate(float(values.mean()), float(values.std(ddof=1) / np.sqrt(B)), B)


@dataclass(frozen=True)
class ScalingPoint:
    """Compressed-sensing quantities of one trained model.

    Attributes
    ----------
    n_features, n_dims : int
        n and m.
    k : float
        Expected number of active features ``sum p_i``.
    feature_probability : float
        Mean p = k / n.
    threshold : float
        m*_A(n, k), Amelunxen et al.'s approximation of the nonnegative l1 threshold
        (:func:`nonnegative_threshold`).
    klogk : float
        ``k log(n / k)`` (0 for k = 0); ``2 klogk`` is the leading-order form of m*_A.
    cs_capacity : int
        :func:`cs_capacity` of (m, p).
    represented : int
        Features with ``|w_i| > represented_threshold`` (:func:`csuper.toy.represented_count`).
    """

    n_features: int
    n_dims: int
    k: float
    feature_probability: float
    threshold: float
    klogk: float
    cs_capacity: int
    represented: int

    @property
    def two_klogk(self) -> float:
        """``2 k log(n / k)``, the small-k/n asymptote of m*(n, k)."""
        return 2.0 * self.klogk


def _klogk(n: float, k: float) -> float:
    return 0.0 if k <= 0.0 else float(k * np.log(n / k))


def scaling_point(W, feature_probability, *, represented_threshold: float = 0.5) -> ScalingPoint:
    """Compressed-sensing quantities of one model with weights W (m, n).

    Parameters
    ----------
    W : array_like, shape (m, n)
        Feature directions as columns (zero columns allowed: dropped features).
    feature_probability : float or array_like, shape (n,)
        p_i (a scalar applies to every feature).
    represented_threshold : float
        A feature is represented when ``|w_i| > represented_threshold`` (Elhage et al. 2022
        use 0.5).

    Returns
    -------
    ScalingPoint

    Examples
    --------
    >>> pt = scaling_point(np.eye(2, 6), 0.1)
    >>> pt.k, pt.represented, pt.cs_capacity
    (0.6, 2, 7)
    >>> print(f"{pt.threshold:.4f} {pt.two_klogk:.4f}")
    1.5918 2.7631
    """
    from csuper.toy import represented_count

    W = check_array(W, "W", ndim=2, dtype=np.float64)
    m, n = W.shape
    p = check_array(
        feature_probability, "feature_probability", ndim=(0, 1), dtype=np.float64, low=0, high=1
    )
    if np.ndim(feature_probability) == 1 and p.shape[0] != n:
        raise ValueError(
            f"feature_probability must be a scalar or have shape ({n},); got {p.shape}."
        )
    k = float(np.sum(np.broadcast_to(p, (n,))))
    k = min(k, float(n))
    pbar = k / n
    return ScalingPoint(
        n_features=n,
        n_dims=m,
        k=k,
        feature_probability=pbar,
        threshold=float(nonnegative_threshold(float(n), k)),
        klogk=_klogk(n, k),
        cs_capacity=cs_capacity(m, pbar),
        represented=represented_count(W, represented_threshold=represented_threshold),
    )


def scaling_points(model, *, represented_threshold: float = 0.5) -> list[ScalingPoint]:
    """:func:`scaling_point` of every instance of a trained :class:`csuper.toy.ToyModel`.

    Examples
    --------
    >>> from csuper.toy import TrainSettings, feature_distribution, train
    >>> model = train(feature_distribution(6, [0.3, 0.03]), 2,
    ...               settings=TrainSettings(n_steps=200, batch_size=64, lr=1e-2), rng=0)
    >>> [round(pt.k, 2) for pt in scaling_points(model)]
    [1.8, 0.18]
    """
    W, P = model_arrays(model)
    if not np.all(np.isfinite(P)):
        raise ValueError(
            "model.feature_probability is unknown (NaN, e.g. a model imported with "
            "from_weights); use scaling_point(W, feature_probability) instead."
        )
    return [
        scaling_point(W[i], P[i], represented_threshold=represented_threshold)
        for i in range(W.shape[0])
    ]


def _x_dimensions(n, m, p):
    return m.astype(float)


def _x_inverse_p(n, m, p):
    return m / p


def _x_inverse_sqrt_p(n, m, p):
    return m / np.sqrt(p)


def _x_log_inverse_p(n, m, p):
    return m * np.log(1.0 / p)


def _x_log_e_over_p(n, m, p):
    return m * (1.0 - np.log(p))


def _x_klogk(n, m, p):
    return m / (p * np.log(1.0 / p))


def _x_statistical_dimension(n, m, p):
    return m / _psi(p)


def _everywhere(p):
    return p > 0


def _sparse_only(p):
    return (p > 0) & (p < 1)


@dataclass(frozen=True)
class ScalingLaw:
    """A law for the represented count r of a model with (n, m, p): ``r = min(n, a x(n, m, p))``.

    Attributes
    ----------
    description : str
        The law as a formula.
    regressor : callable
        ``x(n, m, p)`` on arrays (evaluated on the law's domain only).
    domain : callable
        ``domain(p)``: the boolean mask of probabilities where the law is defined (a regressor
        that is infinite or zero there is not a prediction).
    compressed_sensing : bool
        Whether this is a compressed-sensing law (the question's hypothesis) or a rival.
    has_log : bool
        Whether the regressor carries a logarithm of 1/p.
    """

    description: str
    regressor: Callable = field(repr=False)
    domain: Callable = field(repr=False)
    compressed_sensing: bool
    has_log: bool


#: Scaling laws for the represented count r of a model with (n, m, p = k / n), name ->
#: :class:`ScalingLaw`. Each predicts ``r = min(n, a x)`` (no model represents more than its n
#: features) with one fitted coefficient a. ``klogk`` is the n' solving ``m = C k' log(n' / k')``
#: with k' = n' p (the fitted C = 1 / a; C = 2 is the leading order of m*);
#: ``statistical_dimension`` is the continuous compressed-sensing capacity m / psi(p) (a = 1:
#: models represent exactly what l1 recovery could); the rest are rivals with and without a log.
SCALING_LAWS: dict[str, ScalingLaw] = {
    "statistical_dimension": ScalingLaw(
        "r = a m / psi(p) (CS capacity, Amelunxen et al. approximation)",
        _x_statistical_dimension,
        _everywhere,
        True,
        True,
    ),
    "klogk": ScalingLaw(
        "r = a m / (p ln(1/p)), i.e. m = (1/a) k log(n/k) over represented features",
        _x_klogk,
        _sparse_only,
        True,
        True,
    ),
    "inverse_p": ScalingLaw("r = a m / p", _x_inverse_p, _everywhere, False, False),
    "inverse_sqrt_p": ScalingLaw("r = a m / sqrt(p)", _x_inverse_sqrt_p, _everywhere, False, False),
    "log_inverse_p": ScalingLaw("r = a m ln(1/p)", _x_log_inverse_p, _sparse_only, False, True),
    "log_e_over_p": ScalingLaw("r = a m ln(e/p)", _x_log_e_over_p, _everywhere, False, True),
    "dimensions": ScalingLaw("r = a m", _x_dimensions, _everywhere, False, False),
}

#: Covariates of the residual-trend check (name -> covariate of (n, m, p)): a well-specified law
#: leaves residuals with no trend in any of them.
TREND_COVARIATES: dict[str, Callable] = {
    "log_n": lambda n, m, p: np.log(n),
    "log_m": lambda n, m, p: np.log(m),
    "log_inverse_p": lambda n, m, p: np.log(1.0 / p),
}


@dataclass(frozen=True)
class LawFit:
    """Least-squares fit of ``represented = min(n, a x)`` for one law of :data:`SCALING_LAWS`.

    Attributes
    ----------
    name, description : str
    n_points : int
        Points the law was fitted on (its domain, intersected with the other laws' when the
        fit compares laws on a common domain).
    coefficient, se : float
        a and its standard error ``s / sqrt(sum_U x_i^2)`` over the points U the fit leaves
        unsaturated (``a x_i < n_i``), ``s^2 = RSS / (N - 1)``; NaN (with a warning) when fewer
        than 2 points are unsaturated.
    rms : float
        Residual root mean square, in features.
    aic : float
        ``N log(RSS / N) + 2`` (Gaussian errors, one parameter).
    delta_aic : float
        AIC minus the best law's AIC (0 for the best).
    slope, slope_se : float
        Log-log slope of r against x (ordinary least squares) over the points with
        ``0 < r < n``, and its standard error (1 means proportional); NaN with fewer than 3.
    trends : dict
        Residual trends: covariate name (:data:`TREND_COVARIATES`) -> (slope, se) of the
        residuals r - min(n, a x) regressed on that covariate alone (features per unit of the
        covariate; NaN when it does not vary).
    predicted : ndarray
        ``min(n, a x)`` per fitted point.
    """

    name: str
    description: str
    n_points: int
    coefficient: float
    se: float
    rms: float
    aic: float
    delta_aic: float
    slope: float
    slope_se: float
    trends: dict
    predicted: np.ndarray = field(repr=False)


@dataclass(frozen=True)
class ScalingFit:
    """Outcome of :func:`fit_scaling`.

    Attributes
    ----------
    laws : dict of str -> LawFit
    best : str
        Law with the smallest AIC (compared on a common set of points).
    summary : str
        One or two sentences describing the fit (built from the numbers).
    domain : ndarray of bool
        The points every law was fitted on (all True with ``common_domain=False`` means each
        law used its own domain; see ``LawFit.n_points``).
    table : dict of str -> ndarray
        Per point: ``n_features``, ``n_dims``, ``k``, ``feature_probability``, ``threshold``
        (m*_A), ``klogk``, ``cs_capacity`` (continuous, m / psi(p)), ``represented``.
    """

    laws: dict = field(repr=False)
    best: str
    summary: str
    domain: np.ndarray = field(repr=False)
    table: dict = field(repr=False)


def _fit_saturated(r, x, n):
    """Exact global minimiser of sum (r - min(n, a x))^2 over a >= 0; returns (a, RSS).

    The loss is piecewise quadratic in a with breakpoints b_i = n_i / x_i (point i is
    unsaturated iff a < b_i); on each piece the unsaturated set is fixed and the minimiser is
    closed form, clipped to the piece.
    """
    b = n / x
    edges = np.unique(np.concatenate([[0.0], b]))
    best_loss, best_a = np.inf, 0.0
    for j, lo in enumerate(edges):
        hi = edges[j + 1] if j + 1 < edges.size else np.inf
        U = b > lo
        sxx = float(np.sum(x[U] ** 2))
        a = float(np.sum(r[U] * x[U]) / sxx) if sxx > 0 else lo
        a = min(max(a, lo), hi)
        loss = float(np.sum((r - np.minimum(n, a * x)) ** 2))
        if loss < best_loss:
            best_loss, best_a = loss, a
    return best_a, best_loss


def _ols_slope(y, c):
    """Slope of y on c (with intercept) and its standard error; NaN if c does not vary."""
    if y.size < 3 or np.ptp(c) == 0:
        return float("nan"), float("nan")
    X = np.column_stack([np.ones_like(c), c])
    coef, *_ = np.linalg.lstsq(X, y, rcond=None)
    resid = y - X @ coef
    s2 = float(resid @ resid) / (y.size - 2)
    cov = s2 * np.linalg.inv(gram_matrix(X))
    return float(coef[1]), float(np.sqrt(cov[1, 1]))


def _loglog(r, x, n):
    ok = (r > 0) & (r < n)
    if ok.sum() < 3:
        return float("nan"), float("nan")
    return _ols_slope(np.log(r[ok]), np.log(x[ok]))


def fit_scaling(
    n_features=None,
    n_dims=None,
    k=None,
    represented=None,
    *,
    points: Sequence[ScalingPoint] | None = None,
    laws: Sequence[str] | None = None,
    common_domain: bool = True,
) -> ScalingFit:
    """Fit how represented-feature counts scale over a sweep, and say which law fits best.

    Parameters
    ----------
    n_features, n_dims : array_like of int, shape (N,)
        n and m of each model.
    k : array_like of float, shape (N,)
        Expected number of active features ``sum p_i`` of each model, in (0, n].
    represented : array_like, shape (N,)
        Represented-feature count of each model, in [0, n].
    points : sequence of ScalingPoint, optional
        Instead of the four arrays (e.g. from :func:`scaling_points`).
    laws : sequence of str, optional
        Keys of :data:`SCALING_LAWS` to fit (default all).
    common_domain : bool, default True
        Fit every law on the points where all of them are defined (dense models, p = 1, are
        outside the domain of ``klogk`` and ``log_inverse_p``), so that AIC compares laws on the
        same data; False fits each law on its own domain (then AIC values are not comparable
        and ``best`` is chosen by RMS).

    Returns
    -------
    ScalingFit

    Notes
    -----
    Every law predicts ``r = min(n, a x(n, m, p))`` with p = k / n; the one coefficient a
    minimises the squared error exactly (the loss is piecewise quadratic in a). Laws are compared
    by AIC; a difference below 2 is reported as indistinguishable. Two checks do not assume the
    law: the log-log slope of r against x over unsaturated points (1 when proportional), and the
    residual trends against log n, log m and log(1/p), which a well-specified law leaves flat.

    Examples
    --------
    >>> m = np.array([4, 8, 16, 4, 8, 16]); n = np.full(6, 400); p = np.repeat([0.05, 0.01], 3)
    >>> cap = m / nonnegative_threshold(1.0, p)      # continuous CS capacity m / psi(p)
    >>> fit = fit_scaling(n, m, n * p, np.round(0.5 * cap))
    >>> fit.best, round(fit.laws["statistical_dimension"].coefficient, 2)
    ('statistical_dimension', 0.5)
    """
    if points is not None:
        if any(v is not None for v in (n_features, n_dims, k, represented)):
            raise ValueError(
                "give either points or the arrays n_features, n_dims, k, represented; not both."
            )
        if isinstance(points, (str, bytes)) or not hasattr(points, "__iter__"):
            raise TypeError("points must be a sequence of ScalingPoint (see scaling_points).")
        pts = list(points)
        if not all(isinstance(pt, ScalingPoint) for pt in pts):
            raise TypeError("points must be a sequence of ScalingPoint (see scaling_points).")
        n_features = [pt.n_features for pt in pts]
        n_dims = [pt.n_dims for pt in pts]
        k = [pt.k for pt in pts]
        represented = [pt.represented for pt in pts]
    if any(v is None for v in (n_features, n_dims, k, represented)):
        raise ValueError("n_features, n_dims, k and represented are all required (or points).")
    n = check_array(n_features, "n_features", ndim=1, dtype=np.float64, min_size=3)
    N = n.size
    m = check_array(n_dims, "n_dims", shape=(N,), dtype=np.float64)
    kk = check_array(k, "k", shape=(N,), dtype=np.float64)
    r = check_array(represented, "represented", shape=(N,), dtype=np.float64)
    for name, v in (("n_features", n), ("n_dims", m)):
        if np.any(v < 1) or np.any(v != np.round(v)) or np.any(v > 2.0**53):
            bad = v[(v < 1) | (v != np.round(v)) | (v > 2.0**53)][0]
            raise ValueError(f"{name} must hold integers in [1, 2**53]; got {bad!r}.")
    if np.any(kk <= 0) or np.any(kk > n):
        raise ValueError("k must lie in (0, n_features] for every point; got a value outside it.")
    if np.any(r < 0) or np.any(r > n):
        raise ValueError(
            "represented must lie in [0, n_features] for every point; got a value outside it."
        )
    if laws is None:
        names = list(SCALING_LAWS)
    else:
        if isinstance(laws, str) or not hasattr(laws, "__iter__"):
            raise TypeError(f"laws must be a sequence of names from {tuple(SCALING_LAWS)}.")
        names = list(dict.fromkeys(laws))
        bad = [x for x in names if x not in SCALING_LAWS]
        if bad or len(names) < 1:
            raise ValueError(f"laws must be names from {tuple(SCALING_LAWS)}; got {bad or names}.")
    common = check_bool(common_domain, "common_domain")
    p = kk / n
    masks = {name: SCALING_LAWS[name].domain(p) for name in names}
    shared = np.logical_and.reduce([masks[name] for name in names])
    if common and shared.sum() < 3:
        raise ValueError(
            f"only {int(shared.sum())} point(s) lie in the domain of every law in {names}; "
            "at least 3 are needed (dense models, p = 1, are outside the domain of the laws "
            "with ln(1/p))."
        )
    fitted = {}
    for name in names:
        law = SCALING_LAWS[name]
        use = shared if common else masks[name]
        if use.sum() < 3:
            warnings.warn(
                f"law {name!r}: fewer than 3 points in its domain; not fitted.",
                RuntimeWarning,
                stacklevel=2,
            )
            continue
        nn, mm, pp, rr = n[use], m[use], p[use], r[use]
        x = law.regressor(nn, mm, pp)
        a, rss = _fit_saturated(rr, x, nn)
        pred = np.minimum(nn, a * x)
        U = a * x < nn
        NU = int(use.sum())
        if U.sum() >= 2:
            se = float(np.sqrt(rss / (NU - 1) / np.sum(x[U] ** 2)))
        else:
            warnings.warn(
                f"law {name!r}: fewer than 2 points left unsaturated by the fit; "
                "its coefficient is not identified (se = NaN).",
                RuntimeWarning,
                stacklevel=2,
            )
            se = float("nan")
        slope, slope_se = _loglog(rr, x, nn)
        resid = rr - pred
        trends = {cov: _ols_slope(resid, f(nn, mm, pp)) for cov, f in TREND_COVARIATES.items()}
        fitted[name] = dict(
            name=name,
            description=law.description,
            n_points=NU,
            coefficient=float(a),
            se=se,
            rms=float(np.sqrt(rss / NU)),
            aic=float(NU * np.log(max(rss / NU, 1e-300)) + 2.0),
            slope=slope,
            slope_se=slope_se,
            trends=trends,
            predicted=pred,
        )
    key = (lambda name: fitted[name]["aic"]) if common else (lambda name: fitted[name]["rms"])
    order = sorted(fitted, key=key)
    best_aic = fitted[order[0]]["aic"]
    fits = {
        name: LawFit(delta_aic=fitted[name]["aic"] - best_aic, **fitted[name]) for name in order
    }
    table = {
        "n_features": n.astype(np.int64),
        "n_dims": m.astype(np.int64),
        "k": kk,
        "feature_probability": p,
        "threshold": n * _psi(p),
        "klogk": kk * np.log(1.0 / p),
        "cs_capacity": m / _psi(p),
        "represented": r,
    }
    return ScalingFit(
        laws=fits,
        best=order[0],
        summary=_summary(fits, order, common),
        domain=shared if common else np.ones(N, dtype=bool),
        table=table,
    )


def _summary(fits: dict, order: list, common: bool) -> str:
    b = fits[order[0]]
    head = (
        f"Lowest {'AIC' if common else 'RMS'}: {b.name} ({b.description}; a = "
        f"{b.coefficient:.3g} +- {b.se:.2g}, residual RMS {b.rms:.3g} features over "
        f"{b.n_points} models)."
    )
    if len(order) < 2:
        return head
    s = fits[order[1]]
    if common and s.delta_aic < 2.0:
        return head + f" Not distinguishable from {s.name} (delta AIC = {s.delta_aic:.2g} < 2)."
    if common:
        return head + f" Next: {s.name}, delta AIC = {s.delta_aic:.3g} (RMS {s.rms:.3g})."
    return head + f" Next: {s.name} (RMS {s.rms:.3g})."
