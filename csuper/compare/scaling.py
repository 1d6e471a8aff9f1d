"""Compressed-sensing scaling of learned toy models: do networks pack features at an l1 rate?

For a model with n features, m hidden dimensions and activation probabilities p_i, the expected
number of active features is ``k = sum p_i``. Compressed sensing says m measurements suffice to
recover k-sparse nonnegative signals in R^n when m exceeds the nonnegative statistical dimension
``m*(n, k)`` (the exact l1 threshold, Amelunxen et al. 2014), whose leading-order form is
``2 k log(n / k)``. Turned around: with m dimensions and per-feature probability p, l1 recovery
can serve at most the *compressed-sensing capacity* ``n'`` features, the largest n' with
``m*(n', n' p) <= m``. This module computes these quantities for trained models and fits, over a
sweep of (n, m, S), which law the represented-feature counts follow.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from csuper._validation import check_array, check_int, check_real
from csuper.geometry import gram_matrix
from csuper.recovery import statistical_dimension_curve

__all__ = [
    "SCALING_LAWS",
    "ScalingPoint",
    "LawFit",
    "ScalingFit",
    "nonnegative_threshold",
    "cs_capacity",
    "scaling_point",
    "scaling_points",
    "fit_scaling",
]

#: Default cap of :func:`cs_capacity`: the largest integer a float64 holds exactly. Beyond it
#: ``m*(n', n' p)`` cannot tell n' from n' + 1, so the "largest n'" is no longer defined.
CAPACITY_CAP = 2**53


def _psi(p: np.ndarray) -> np.ndarray:
    return np.asarray(statistical_dimension_curve(p, nonnegative=True))


def nonnegative_threshold(n_features, k) -> np.ndarray | float:
    """Exact l1 threshold m*(n, k) for nonnegative signals, for real (non-integer) k too.

    Parameters
    ----------
    n_features : float or array_like
        n > 0 (real values allowed, e.g. a capacity being searched for).
    k : float or array_like
        Expected number of active features, in [0, n]; broadcast against ``n_features``.

    Returns
    -------
    float or ndarray
        ``m*(n, k) = n psi(k / n)``, with psi the normalised nonnegative statistical dimension
        (:func:`csuper.recovery.statistical_dimension_curve`). A float for scalar input.

    Notes
    -----
    :func:`csuper.recovery.statistical_dimension` takes integer k and returns exactly
    ``n psi(k / n)`` (ALMT 2014's formula, ``inf_tau k (1 + tau^2) + (n - k) J(tau)``, is
    homogeneous of degree one in (n, k)); the same expression is the natural continuous extension
    to the expected count ``k = sum p_i``, which is rarely an integer. The tests check agreement at
    integer k.

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
    scalar = np.ndim(n_features) == 0 and np.ndim(k) == 0
    n = check_array(n_features, "n_features", dtype=np.float64)
    kk = check_array(k, "k", dtype=np.float64)
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
    """Compressed-sensing capacity: the largest n' with m*(n', n' p) <= m.

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
    ``m*(n', n' p) = n' psi(p)`` is linear, hence strictly increasing, in n' for p > 0, so the
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
    m = check_int(n_dims, "n_dims", low=1)
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
        m*(n, k), the exact nonnegative l1 threshold (:func:`nonnegative_threshold`).
    klogk : float
        ``k log(n / k)`` (0 for k = 0); ``2 klogk`` is the leading-order form of m*.
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
    W = getattr(model, "W", None)
    P = getattr(model, "feature_probability", None)
    if W is None or P is None or np.ndim(W) != 3:
        raise TypeError(f"model must be a csuper.toy.ToyModel; got {type(model).__name__}.")
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


def _x_klogk(n, m, p):
    with np.errstate(divide="ignore"):
        d = p * np.log(1.0 / np.where(p > 0, p, 1.0))
        return np.where(d > 0, m / np.where(d > 0, d, 1.0), np.inf)


def _x_threshold(n, m, p):
    psi = _psi(p)
    return np.where(psi > 0, m / np.where(psi > 0, psi, 1.0), np.inf)


#: Scaling laws for the represented count r of a model with (n, m, p = k / n): name ->
#: (description, regressor x(n, m, p)). Each law predicts ``r = min(n, a x)`` (no model can
#: represent more than its n features) with one fitted coefficient a:
#:
#: - ``dimensions``: ``x = m``, a fixed number of features per dimension;
#: - ``klogk``: ``x = m / (p log(1 / p))``, the n' solving ``m = k' log(n' / k')`` with
#:   ``k' = n' p``; the fitted form is ``m = C k log(n / k)`` with ``C = 1 / a`` (C = 2 is the
#:   ``2 k log(n / k)`` asymptote of m*);
#: - ``threshold``: ``x = m / psi(p)``, the continuous compressed-sensing capacity (exact
#:   nonnegative l1 threshold); a = 1 means models represent exactly what l1 recovery could.
SCALING_LAWS: dict[str, tuple[str, Callable]] = {
    "dimensions": ("represented = a m", _x_dimensions),
    "klogk": ("m = C k log(n/k) over represented features (C = 1/a)", _x_klogk),
    "threshold": ("represented = a x CS capacity m / psi(p) (exact l1 threshold)", _x_threshold),
}


@dataclass(frozen=True)
class LawFit:
    """Least-squares fit of ``represented = min(n, a x)`` for one law of :data:`SCALING_LAWS`.

    Attributes
    ----------
    name, description : str
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
        ``0 < r < n`` and finite x, and its standard error (1 means proportional); NaN (with a
        warning) with fewer than 3 such points.
    predicted : ndarray
        ``min(n, a x)`` per point.
    """

    name: str
    description: str
    coefficient: float
    se: float
    rms: float
    aic: float
    delta_aic: float
    slope: float
    slope_se: float
    predicted: np.ndarray


@dataclass(frozen=True)
class ScalingFit:
    """Outcome of :func:`fit_scaling`.

    Attributes
    ----------
    laws : dict of str -> LawFit
    best : str
        Law with the smallest AIC.
    verdict : str
        One or two sentences built from the numbers.
    table : dict of str -> ndarray
        Per point: ``n_features``, ``n_dims``, ``k``, ``feature_probability``, ``threshold``
        (m*), ``klogk``, ``cs_capacity`` (continuous, m / psi(p)), ``represented``.
    """

    laws: dict
    best: str
    verdict: str
    table: dict


def _predict(a: float, x: np.ndarray, n: np.ndarray) -> np.ndarray:
    """``min(n, a x)``, with an infinite regressor always saturated (the a -> 0+ limit)."""
    fin = np.isfinite(x)
    return np.where(fin, np.minimum(n, a * np.where(fin, x, 0.0)), n)


def _fit_saturated(r, x, n):
    """Exact global minimiser of sum (r - min(n, a x))^2 over a >= 0; returns (a, RSS).

    The loss is piecewise quadratic in a with breakpoints b_i = n_i / x_i (point i is
    unsaturated iff a < b_i); on each piece the unsaturated set is fixed and the minimiser is
    closed form, clipped to the piece.
    """
    fin = np.isfinite(x)
    b = np.where(fin, n / np.where(fin, x, 1.0), 0.0)
    edges = np.unique(np.concatenate([[0.0], b]))
    best_loss, best_a = np.inf, 0.0
    for j, lo in enumerate(edges):
        hi = edges[j + 1] if j + 1 < edges.size else np.inf
        U = b > lo
        sxx = float(np.sum(x[U] ** 2))
        a = float(np.sum(r[U] * x[U]) / sxx) if sxx > 0 else lo
        a = min(max(a, lo), hi)
        loss = float(np.sum((r - _predict(a, x, n)) ** 2))
        if loss < best_loss:
            best_loss, best_a = loss, a
    return best_a, best_loss


def _loglog(r, x, n):
    ok = (r > 0) & (r < n) & np.isfinite(x) & (x > 0)
    if ok.sum() < 3 or np.ptp(np.log(x[ok])) == 0:
        return np.nan, np.nan
    lx, ly = np.log(x[ok]), np.log(r[ok])
    X = np.column_stack([np.ones_like(lx), lx])
    coef, *_ = np.linalg.lstsq(X, ly, rcond=None)
    resid = ly - X @ coef
    dof = ok.sum() - 2
    s2 = float(resid @ resid) / dof if dof > 0 else np.nan
    cov = s2 * np.linalg.inv(gram_matrix(X))
    return float(coef[1]), float(np.sqrt(cov[1, 1]))


def fit_scaling(
    n_features=None,
    n_dims=None,
    k=None,
    represented=None,
    *,
    points: Sequence[ScalingPoint] | None = None,
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

    Returns
    -------
    ScalingFit

    Notes
    -----
    Every law of :data:`SCALING_LAWS` predicts ``r = min(n, a x(n, m, p))`` with p = k / n; the
    one coefficient a minimises the squared error exactly (the loss is piecewise quadratic in a).
    Laws are compared by AIC; a difference below 2 is reported as indistinguishable. The
    log-log slope of r against x over unsaturated points (0 < r < n) is reported as a check that
    does not assume proportionality.

    Examples
    --------
    >>> m = np.array([4, 8, 16, 4, 8, 16]); n = np.full(6, 400); p = np.repeat([0.05, 0.01], 3)
    >>> cap = m / nonnegative_threshold(1.0, p)      # continuous CS capacity m / psi(p)
    >>> fit = fit_scaling(n, m, n * p, np.round(0.5 * cap))
    >>> fit.best, round(fit.laws["threshold"].coefficient, 2)
    ('threshold', 0.5)
    """
    if points is not None:
        if any(v is not None for v in (n_features, n_dims, k, represented)):
            raise ValueError(
                "give either points or the arrays n_features, n_dims, k, represented; not both."
            )
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
        if np.any(v < 1) or np.any(v != np.round(v)):
            raise ValueError(
                f"{name} must hold integers >= 1; got {v[(v < 1) | (v != np.round(v))][0]!r}."
            )
    if np.any(kk <= 0) or np.any(kk > n):
        raise ValueError("k must lie in (0, n_features] for every point; got a value outside it.")
    if np.any(r < 0) or np.any(r > n):
        raise ValueError(
            "represented must lie in [0, n_features] for every point; got a value outside it."
        )
    p = kk / n
    laws = {}
    for name, (desc, regressor) in SCALING_LAWS.items():
        x = regressor(n, m, p)
        a, rss = _fit_saturated(r, x, n)
        pred = _predict(a, x, n)
        U = np.isfinite(x) & (a * x < n)
        if U.sum() >= 2:
            se = float(np.sqrt(rss / (N - 1) / np.sum(x[U] ** 2)))
        else:
            warnings.warn(
                f"law {name!r}: fewer than 2 points left unsaturated by the fit; "
                "its coefficient is not identified (se = NaN).",
                RuntimeWarning,
                stacklevel=2,
            )
            se = np.nan
        slope, slope_se = _loglog(r, x, n)
        aic = float(N * np.log(max(rss / N, 1e-300)) + 2.0)
        laws[name] = dict(
            name=name,
            description=desc,
            coefficient=float(a),
            se=se,
            rms=float(np.sqrt(rss / N)),
            aic=aic,
            slope=slope,
            slope_se=slope_se,
            predicted=pred,
        )
    if all(np.isnan(v["slope"]) for v in laws.values()):
        warnings.warn(
            "fewer than 3 points with 0 < represented < n_features: no log-log slopes "
            "(slope = NaN).",
            RuntimeWarning,
            stacklevel=2,
        )
    order = sorted(laws, key=lambda name: laws[name]["aic"])
    best_aic = laws[order[0]]["aic"]
    fits = {name: LawFit(delta_aic=laws[name]["aic"] - best_aic, **laws[name]) for name in laws}
    verdict = _verdict(fits, order)
    table = {
        "n_features": n.astype(np.int64),
        "n_dims": m.astype(np.int64),
        "k": kk,
        "feature_probability": p,
        "threshold": n * _psi(p),
        "klogk": kk * np.log(1.0 / p),
        "cs_capacity": _x_threshold(n, m, p),
        "represented": r,
    }
    return ScalingFit(laws=fits, best=order[0], verdict=verdict, table=table)


def _describe(f: LawFit) -> str:
    if f.name == "klogk":
        c = 1.0 / f.coefficient if f.coefficient > 0 else np.inf
        c_se = f.se / f.coefficient**2 if f.coefficient > 0 else np.nan
        return f"m = C k log(n/k) with C = {c:.3g} +- {c_se:.2g}"
    if f.name == "threshold":
        return f"represented = {f.coefficient:.3g} +- {f.se:.2g} x CS capacity m/psi(p)"
    return f"represented = {f.coefficient:.3g} +- {f.se:.2g} x m"


def _verdict(fits: dict, order: list) -> str:
    b, s = fits[order[0]], fits[order[1]]
    head = (
        f"Best law: {b.name} ({_describe(b)}; residual RMS {b.rms:.3g} features, "
        f"log-log slope {b.slope:.3g} +- {b.slope_se:.2g})."
    )
    if s.delta_aic < 2.0:
        return head + f" Not distinguishable from {s.name} (delta AIC = {s.delta_aic:.2g} < 2)."
    return head + f" Next: {s.name}, delta AIC = {s.delta_aic:.3g} (RMS {s.rms:.3g})."
