"""Phase transitions of one feature: sweep its importance or frequency, train toy models along
the sweep, locate where it goes from ignored to superposed and from superposed to its own
direction -- bracketed on a grid, then refined by bisection -- and compare with the Lagrangian
(KKT) prediction of :func:`csuper.compare.relu_allocation`; warm-started legs up and down the
sweep test for hysteresis.

Seeds are replicates: every point trains ``n_seeds`` models from independent initialisations
and data streams. Where the question is about the loss-optimal state (the Lagrangian predicts the
optimum), the state of the lowest-loss seed decides (best-of-N), and the fraction of seeds in the
higher state is reported next to it as the spread.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from csuper._validation import check_array, check_int, check_real, check_rng
from csuper.compare.capacity import relu_allocation
from csuper.geometry import feature_dimensionality

__all__ = [
    "SWEEP_PARAMETERS",
    "TRANSITIONS",
    "SweepParameter",
    "Transition",
    "TransitionScan",
    "LocatedTransition",
    "HysteresisLegs",
    "locate_crossings",
    "transition_scan",
    "locate_transition",
    "predicted_transition",
    "hysteresis_legs",
]


@dataclass(frozen=True)
class SweepParameter:
    """What a sweep varies: the importance or the probability of the swept feature.

    Attributes
    ----------
    description : str
    column : int
        Which of (importance, feature_probability) the sweep sets (0 or 1).
    high : float
        Largest allowed sweep value (1 for a probability).
    """

    description: str
    column: int
    high: float


#: What a sweep varies (name -> :class:`SweepParameter`).
SWEEP_PARAMETERS: dict[str, SweepParameter] = {
    "importance": SweepParameter("I_i of the swept feature", 0, np.inf),
    "feature_probability": SweepParameter("p_i of the swept feature", 1, 1.0),
}


def _own_direction(D, norm, mono, thr):
    return (D >= mono) & (norm > thr)


def _has_direction(D, norm, mono, thr):
    return norm > thr


@dataclass(frozen=True)
class Transition:
    """A transition of the swept feature from a lower to a higher state.

    Attributes
    ----------
    description : str
    higher : callable
        ``higher(D, norm, monosemantic_above, represented_threshold)``: boolean mask of the
        learned higher state from D_i and |w_i|.
    predicted_above : str
        ``"monosemantic_above"`` (the predicted C_i reaches it) or ``"zero"`` (C_i > 1e-6).
    """

    description: str
    higher: Callable = field(repr=False)
    predicted_above: str


#: The transitions a sweep crosses (name -> :class:`Transition`).
TRANSITIONS: dict[str, Transition] = {
    "ignored_to_superposed": Transition(
        "the feature gets a direction: |w_i| > represented_threshold (predicted: C_i > 0)",
        _has_direction,
        "zero",
    ),
    "superposed_to_own": Transition(
        "the feature gets its own dimension: D_i >= monosemantic_above (predicted: C_i too)",
        _own_direction,
        "monosemantic_above",
    ),
}


def locate_crossings(values, series, threshold: float) -> np.ndarray:
    """Sweep values where ``series`` crosses ``threshold`` upwards, by linear interpolation.

    Parameters
    ----------
    values : array_like, shape (k,)
        Strictly increasing sweep values.
    series : array_like, shape (k,)
    threshold : float

    Returns
    -------
    ndarray
        One value per upward crossing (series[j] < threshold <= series[j + 1]).

    Examples
    --------
    >>> print(locate_crossings([0.0, 1.0, 2.0], [0.0, 0.5, 1.0], 0.75))
    [1.5]
    """
    x = check_array(values, "values", ndim=1, dtype=np.float64)
    y = check_array(series, "series", ndim=1, shape=x.shape, dtype=np.float64)
    t = check_real(threshold, "threshold")
    if np.any(np.diff(x) <= 0):
        raise ValueError("values must be strictly increasing.")
    j = np.flatnonzero((y[:-1] < t) & (y[1:] >= t))
    return x[j] + (t - y[j]) * (x[j + 1] - x[j]) / (y[j + 1] - y[j])


@dataclass(frozen=True)
class _Setup:
    """A validated sweep: everything but the swept values."""

    n: int
    m: int
    parameter: str
    feature: int
    importance: np.ndarray
    probability: np.ndarray
    settings: Any
    n_seeds: int
    mono: float
    thr: float

    def arrays(self, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        k = values.shape[0]
        cols = [
            np.repeat(self.importance[None], k, axis=0),
            np.repeat(self.probability[None], k, 0),
        ]
        cols[SWEEP_PARAMETERS[self.parameter].column][:, self.feature] = values
        return cols[0], cols[1]

    def train(self, values: np.ndarray, seeds: np.ndarray, init=None, progress=False):
        """One model per (value, seed); returns D_i, |w_i|, final loss of shape (k, n_seeds) and
        the trained W (k * n_seeds, m, n) and b."""
        from csuper.toy import feature_distribution, train

        IMP, P = self.arrays(values)
        IMP, P = np.repeat(IMP, self.n_seeds, axis=0), np.repeat(P, self.n_seeds, axis=0)
        model = train(
            feature_distribution(self.n, P),
            self.m,
            importance=IMP,
            settings=self.settings,
            seeds=seeds.reshape(-1),
            init=init,
            progress=progress,
        )
        shape = (values.shape[0], self.n_seeds)
        D = np.array([feature_dimensionality(W)[self.feature] for W in model.W]).reshape(shape)
        norm = np.linalg.norm(model.W[:, :, self.feature], axis=1).reshape(shape)
        return D, norm, model.final_loss.reshape(shape), model.W, model.b

    def predicted_capacity(self, values: np.ndarray) -> np.ndarray:
        IMP, P = self.arrays(values)
        return np.array(
            [relu_allocation(IMP[r], P[r], self.m).capacity[self.feature] for r in range(len(P))]
        )


def _setup(
    n_features,
    n_dims,
    parameter,
    feature,
    importance,
    feature_probability,
    settings,
    n_seeds,
    monosemantic_above,
    represented_threshold,
) -> _Setup:
    from csuper.toy import TrainSettings

    n = check_int(n_features, "n_features", low=2, high=10**5)
    m = check_int(n_dims, "n_dims", low=1, high=n, high_inclusive=False)
    if not isinstance(parameter, str) or parameter not in SWEEP_PARAMETERS:
        raise ValueError(f"parameter must be one of {sorted(SWEEP_PARAMETERS)}; got {parameter!r}.")
    i = check_int(feature, "feature", low=0, high=n, high_inclusive=False)
    imp = (
        np.ones(n)
        if importance is None
        else check_array(
            importance, "importance", ndim=1, shape=(n,), dtype=np.float64, nonnegative=True
        )
    )
    p = check_array(
        feature_probability, "feature_probability", ndim=(0, 1), dtype=np.float64, low=0, high=1
    )
    p = np.full(n, p.reshape(-1)[0]) if np.ndim(feature_probability) == 0 else p
    if p.shape != (n,):
        raise ValueError(
            f"feature_probability must be a scalar or have shape ({n},); got {p.shape}."
        )
    if settings is not None and not isinstance(settings, TrainSettings):
        raise TypeError(
            f"settings must be a csuper.toy.TrainSettings; got {type(settings).__name__}."
        )
    N = check_int(n_seeds, "n_seeds", low=1, high=10**4)
    mono = check_real(
        monosemantic_above, "monosemantic_above", low=0.0, high=1.0, low_inclusive=False
    )
    thr = check_real(represented_threshold, "represented_threshold", low=0.0)
    return _Setup(n, m, parameter, i, imp, p, settings, N, mono, thr)


def _values(values, setup: _Setup, name: str = "values") -> np.ndarray:
    x = check_array(values, name, ndim=1, dtype=np.float64)
    if np.any(x <= 0) or np.any(np.diff(x) <= 0):
        raise ValueError(f"{name} must be positive and strictly increasing.")
    high = SWEEP_PARAMETERS[setup.parameter].high
    if np.any(x > high):
        raise ValueError(
            f"{setup.parameter} values must lie in (0, {high:g}]; got max {x.max():g}."
        )
    return x


def _check_transition(transition: Any) -> Transition:
    if not isinstance(transition, str) or transition not in TRANSITIONS:
        raise ValueError(f"transition must be one of {sorted(TRANSITIONS)}; got {transition!r}.")
    return TRANSITIONS[transition]


@dataclass(frozen=True)
class TransitionScan:
    """Cold-start models along a sweep of one feature, ``n_seeds`` replicates per value.

    Attributes
    ----------
    parameter : str
        Key of :data:`SWEEP_PARAMETERS`.
    feature : int
    values : ndarray, shape (k,)
        Sweep values (increasing).
    learned_capacity, norm, final_loss : ndarray, shape (k, n_seeds)
        D_i and |w_i| of the swept feature and the final loss of each replicate.
    predicted_capacity : ndarray, shape (k,)
        The swept feature's C_i in the Lagrangian allocation at each value.
    monosemantic_above, represented_threshold : float
    """

    parameter: str
    feature: int
    values: np.ndarray = field(repr=False)
    learned_capacity: np.ndarray = field(repr=False)
    norm: np.ndarray = field(repr=False)
    final_loss: np.ndarray = field(repr=False)
    predicted_capacity: np.ndarray = field(repr=False)
    monosemantic_above: float
    represented_threshold: float

    def higher(self, transition: str) -> np.ndarray:
        """Boolean (k, n_seeds): replicates in the transition's higher state."""
        t = _check_transition(transition)
        return t.higher(
            self.learned_capacity, self.norm, self.monosemantic_above, self.represented_threshold
        )

    def best_higher(self, transition: str) -> np.ndarray:
        """Boolean (k,): the lowest-loss replicate at each value is in the higher state."""
        best = np.argmin(self.final_loss, axis=1)
        return self.higher(transition)[np.arange(self.values.size), best]

    def fraction_higher(self, transition: str) -> np.ndarray:
        """Fraction of replicates in the higher state at each value, shape (k,)."""
        return self.higher(transition).mean(axis=1)


def transition_scan(
    n_features: int,
    n_dims: int,
    values,
    *,
    parameter: str = "importance",
    feature: int = 0,
    importance=None,
    feature_probability=0.05,
    settings=None,
    n_seeds: int = 3,
    monosemantic_above: float = 0.9,
    represented_threshold: float = 0.5,
    rng=None,
    progress: bool = False,
) -> TransitionScan:
    """Train ``n_seeds`` cold-start toy models at each value of one feature's importance or
    probability.

    Parameters
    ----------
    n_features, n_dims : int
        n in [2, 10**5] and m in [1, n).
    values : array_like, shape (k,)
        Strictly increasing positive sweep values (probabilities in (0, 1]).
    parameter : str
        Key of :data:`SWEEP_PARAMETERS`.
    feature : int
        The swept feature.
    importance : array_like, shape (n,), optional
        Importance of the other features (default ones).
    feature_probability : float or array_like, shape (n,)
        Probabilities of the other features.
    settings : csuper.toy.TrainSettings, optional
    n_seeds : int
        Replicates per value, in [1, 10**4].
    monosemantic_above, represented_threshold : float
        Thresholds of the states on D_i and |w_i|.
    rng : None, int or numpy.random.Generator
    progress : bool, default False
        Show the training progress bar.

    Returns
    -------
    TransitionScan

    Examples
    --------
    >>> from csuper.toy import TrainSettings
    >>> s = TrainSettings(n_steps=300, batch_size=256, lr=1e-2)
    >>> scan = transition_scan(6, 2, [0.01, 100.0], settings=s, n_seeds=2, rng=0)
    >>> scan.fraction_higher("superposed_to_own").tolist()
    [0.0, 1.0]
    """
    setup = _setup(
        n_features,
        n_dims,
        parameter,
        feature,
        importance,
        feature_probability,
        settings,
        n_seeds,
        monosemantic_above,
        represented_threshold,
    )
    x = _values(values, setup)
    seeds = check_rng(rng).integers(0, 2**63, size=(x.size, setup.n_seeds))
    D, norm, loss, _, _ = setup.train(x, seeds, progress=progress)
    return TransitionScan(
        setup.parameter,
        setup.feature,
        x,
        D,
        norm,
        loss,
        setup.predicted_capacity(x),
        setup.mono,
        setup.thr,
    )


def predicted_transition(
    n_features: int,
    n_dims: int,
    bracket,
    *,
    transition: str,
    parameter: str = "importance",
    feature: int = 0,
    importance=None,
    feature_probability=0.05,
    monosemantic_above: float = 0.9,
    grid_size: int = 401,
) -> float:
    """Where the Lagrangian allocation predicts the transition: the first value in ``bracket``
    at which the swept feature's predicted C_i enters the higher state (NaN if none).

    The predicted C_i is evaluated on a geometric grid of ``grid_size`` points over the bracket;
    the first upward crossing is then refined by 60 bisection steps on log(value), so the result
    is exact to about 1e-15 relative (the allocation is cheap).

    Examples
    --------
    >>> v = predicted_transition(20, 5, (0.01, 100.0), transition="superposed_to_own")
    >>> print(f"{v:.4g}")
    17.4
    """
    setup = _setup(
        n_features,
        n_dims,
        parameter,
        feature,
        importance,
        feature_probability,
        None,
        1,
        monosemantic_above,
        0.5,
    )
    t = _check_transition(transition)
    lo_hi = _values(bracket, setup, "bracket")
    if lo_hi.size != 2:
        raise ValueError(f"bracket must be a pair (low, high); got {lo_hi.tolist()}.")
    g = check_int(grid_size, "grid_size", low=3, high=10**5)
    level = setup.mono if t.predicted_above == "monosemantic_above" else 1e-6

    def above(v: float) -> bool:
        return bool(setup.predicted_capacity(np.array([v]))[0] >= level)

    grid = np.geomspace(lo_hi[0], lo_hi[1], g)
    up = setup.predicted_capacity(grid) >= level
    j = np.flatnonzero(~up[:-1] & up[1:])
    if j.size == 0:
        return float("nan")
    lo, hi = float(grid[j[0]]), float(grid[j[0] + 1])
    for _ in range(60):
        mid = float(np.sqrt(lo * hi))
        if above(mid):
            hi = mid
        else:
            lo = mid
    return hi


@dataclass(frozen=True)
class LocatedTransition:
    """A transition located by bracketing and bisection on cold-start replicates.

    Attributes
    ----------
    parameter, transition : str
    bracketed : bool
        Whether the scan found the lowest-loss replicate in the lower state at one value and in
        the higher state at the next; if not, ``reason`` says why and low/high are NaN.
    low, high : float
        Final bracket: the best replicate is in the lower state at ``low`` and in the higher
        state at ``high``. The located value is known to this bracket, no better.
    predicted : float
        :func:`predicted_transition` over the scanned range (NaN if the prediction has none).
    evaluated : tuple of dict
        Every value trained (scan and bisection): ``value``, ``best_higher`` (state of the
        lowest-loss replicate), ``fraction_higher`` (the spread), ``n_seeds``.
    reason : str
        Empty when bracketed.
    """

    parameter: str
    transition: str
    bracketed: bool
    low: float
    high: float
    predicted: float
    evaluated: tuple = field(repr=False)
    reason: str = ""

    @property
    def estimate(self) -> float:
        """Geometric midpoint of the bracket (NaN if not bracketed)."""
        return float(np.sqrt(self.low * self.high))

    @property
    def ratio_to_prediction(self) -> tuple[float, float]:
        """(low / predicted, high / predicted): the bracket in units of the prediction."""
        return self.low / self.predicted, self.high / self.predicted


def locate_transition(
    n_features: int,
    n_dims: int,
    values,
    *,
    transition: str,
    parameter: str = "importance",
    feature: int = 0,
    importance=None,
    feature_probability=0.05,
    settings=None,
    n_seeds: int = 3,
    n_bisections: int = 4,
    monosemantic_above: float = 0.9,
    represented_threshold: float = 0.5,
    scan: TransitionScan | None = None,
    rng=None,
    progress: bool = False,
) -> LocatedTransition:
    """Locate a transition of one feature: bracket it on a grid, then bisect the bracket.

    Parameters
    ----------
    n_features, n_dims, values, parameter, feature, importance, feature_probability, settings,
    n_seeds, monosemantic_above, represented_threshold
        As in :func:`transition_scan` (``values`` is the bracketing grid).
    transition : str
        Key of :data:`TRANSITIONS`.
    n_bisections : int
        Bisection steps on log(value), in [0, 60]; each halves log(high / low) and trains
        ``n_seeds`` replicates at the midpoint.
    scan : TransitionScan, optional
        A scan of the same sweep over ``values`` to bracket from (it is trained otherwise).
    rng : None, int or numpy.random.Generator
    progress : bool, default False

    Returns
    -------
    LocatedTransition

    Notes
    -----
    The state at a value is the state of its lowest-loss replicate (best of ``n_seeds``): the
    Lagrangian predicts the loss-optimal allocation, so the question is about the optimum; the
    fraction of replicates in the higher state is kept as the spread. The bracket is the first
    grid interval where that state goes from lower to higher; a bisection step trains the
    geometric midpoint and keeps the half whose ends still differ. After b steps the bracket's
    ratio high / low is (grid ratio)^(1 / 2^b): that is the precision of the located value.

    Examples
    --------
    >>> from csuper.toy import TrainSettings
    >>> s = TrainSettings(n_steps=300, batch_size=256, lr=1e-2)
    >>> loc = locate_transition(6, 2, [1.0, 10.0, 100.0], transition="superposed_to_own",
    ...                         settings=s, n_seeds=2, n_bisections=2, rng=0)
    >>> loc.bracketed, loc.high / loc.low < 10 ** 0.5
    (True, True)
    """
    setup = _setup(
        n_features,
        n_dims,
        parameter,
        feature,
        importance,
        feature_probability,
        settings,
        n_seeds,
        monosemantic_above,
        represented_threshold,
    )
    t = _check_transition(transition)
    x = _values(values, setup)
    if x.size < 2:
        raise ValueError(f"values must hold at least 2 points to bracket; got {x.size}.")
    b = check_int(n_bisections, "n_bisections", low=0, high=60)
    gen = check_rng(rng)
    if scan is None:
        scan = transition_scan(
            setup.n,
            setup.m,
            x,
            parameter=setup.parameter,
            feature=setup.feature,
            importance=setup.importance,
            feature_probability=setup.probability,
            settings=settings,
            n_seeds=setup.n_seeds,
            monosemantic_above=setup.mono,
            represented_threshold=setup.thr,
            rng=gen,
            progress=progress,
        )
    elif not isinstance(scan, TransitionScan) or not np.array_equal(scan.values, x):
        raise ValueError("scan must be a TransitionScan over the same values.")
    predicted = predicted_transition(
        setup.n,
        setup.m,
        (x[0], x[-1]),
        transition=transition,
        parameter=setup.parameter,
        feature=setup.feature,
        importance=setup.importance,
        feature_probability=setup.probability,
        monosemantic_above=setup.mono,
    )
    best = scan.best_higher(transition)
    frac = scan.fraction_higher(transition)
    evaluated = [
        {
            "value": float(v),
            "best_higher": bool(h),
            "fraction_higher": float(f),
            "n_seeds": scan.final_loss.shape[1],
        }
        for v, h, f in zip(x, best, frac)
    ]
    j = np.flatnonzero(~best[:-1] & best[1:])
    if j.size == 0:
        reason = (
            "the best replicate is already in the higher state at the first value"
            if best[0]
            else "the best replicate never reaches the higher state"
        )
        nan = float("nan")
        return LocatedTransition(
            setup.parameter, transition, False, nan, nan, predicted, tuple(evaluated), reason
        )
    lo, hi = float(x[j[0]]), float(x[j[0] + 1])
    for _ in range(b):
        mid = float(np.sqrt(lo * hi))
        seeds = gen.integers(0, 2**63, size=(1, setup.n_seeds))
        D, norm, loss, _, _ = setup.train(np.array([mid]), seeds, progress=progress)
        higher = t.higher(D[0], norm[0], setup.mono, setup.thr)
        h = bool(higher[int(np.argmin(loss[0]))])
        evaluated.append(
            {
                "value": mid,
                "best_higher": h,
                "fraction_higher": float(higher.mean()),
                "n_seeds": setup.n_seeds,
            }
        )
        if h:
            hi = mid
        else:
            lo = mid
    return LocatedTransition(setup.parameter, transition, True, lo, hi, predicted, tuple(evaluated))


def _revive(W: np.ndarray, feature: int, norm: float, gen: np.random.Generator) -> np.ndarray:
    """Copy of W (instances, m, n) in which every column ``feature`` of norm below ``norm`` is
    replaced by ``norm`` times a random unit vector (nothing happens when ``norm`` is 0)."""
    W = W.copy()
    col = W[:, :, feature]
    dead = np.linalg.norm(col, axis=1) < norm
    if dead.any():
        kick = gen.standard_normal((int(dead.sum()), W.shape[1]))
        col[dead] = norm * kick / np.linalg.norm(kick, axis=1, keepdims=True)
        W[:, :, feature] = col
    return W


@dataclass(frozen=True)
class HysteresisLegs:
    """Warm-started legs up and down a sweep, one chain per replicate.

    Attributes
    ----------
    parameter : str
    feature : int
    values : ndarray, shape (k,)
    up, down : dict
        ``learned_capacity``, ``norm``, ``final_loss``: arrays of shape (k, n_seeds), indexed
        like ``values`` (``down`` was trained from index k - 1 to 0).
    revive_norm : float
    monosemantic_above, represented_threshold : float
    """

    parameter: str
    feature: int
    values: np.ndarray = field(repr=False)
    up: dict = field(repr=False)
    down: dict = field(repr=False)
    revive_norm: float
    monosemantic_above: float
    represented_threshold: float

    def fraction_higher(self, transition: str, direction: str) -> np.ndarray:
        """Fraction of chains in the higher state at each value, shape (k,)."""
        t = _check_transition(transition)
        if direction not in ("up", "down"):
            raise ValueError(f"direction must be 'up' or 'down'; got {direction!r}.")
        leg = self.up if direction == "up" else self.down
        higher = t.higher(
            leg["learned_capacity"],
            leg["norm"],
            self.monosemantic_above,
            self.represented_threshold,
        )
        return higher.mean(axis=1)

    def bracket(self, transition: str, direction: str) -> tuple[float, float]:
        """Grid interval where a majority of chains switches state, met in the leg's direction.

        Up: the first interval [v_j, v_j+1] (going up) with a majority in the lower state at v_j
        and in the higher state at v_j+1. Down: the first such interval met going down (the
        highest one). (NaN, NaN) when the majority never switches along the leg.
        """
        f = self.fraction_higher(transition, direction) > 0.5
        j = np.flatnonzero(~f[:-1] & f[1:])
        if j.size == 0:
            return float("nan"), float("nan")
        i = j[0] if direction == "up" else j[-1]
        return float(self.values[i]), float(self.values[i + 1])

    def detected(self, transition: str) -> bool:
        """Hysteresis: the up leg switches strictly above the interval where the down leg does."""
        up, down = self.bracket(transition, "up"), self.bracket(transition, "down")
        return bool(up[0] >= down[1])


def hysteresis_legs(
    n_features: int,
    n_dims: int,
    values,
    *,
    parameter: str = "importance",
    feature: int = 0,
    importance=None,
    feature_probability=0.05,
    settings=None,
    n_seeds: int = 3,
    revive_norm: float = 0.1,
    monosemantic_above: float = 0.9,
    represented_threshold: float = 0.5,
    rng=None,
    progress: bool = False,
) -> HysteresisLegs:
    """Warm-started chains up and down a sweep of one feature, one chain per replicate.

    Parameters
    ----------
    n_features, n_dims, values, parameter, feature, importance, feature_probability, settings,
    n_seeds, monosemantic_above, represented_threshold, rng, progress
        As in :func:`transition_scan`; ``values`` needs at least 2 points.
    revive_norm : float
        Before each warm-started point, a swept feature whose column has norm below this gets a
        random direction of this norm, in [0, 1] (0: never). Without it a leg that enters a
        state with w_i = 0 stays there whatever the sweep does: w_i = 0 is a stationary point
        of the training loss, and a leg would stall instead of testing whether the lower state
        is still stable.

    Returns
    -------
    HysteresisLegs

    Notes
    -----
    Up: chain s starts cold at values[0] (seed s) and each further point starts from the
    previous point's trained weights (``init`` of :func:`csuper.toy.train`, Adam's moments reset)
    with a fresh data stream; down: the same from values[-1]. A transition met going up above
    where it is met going down is hysteresis: coexisting local optima of the training loss.

    Examples
    --------
    >>> from csuper.toy import TrainSettings
    >>> s = TrainSettings(n_steps=200, batch_size=256, lr=1e-2)
    >>> legs = hysteresis_legs(6, 2, [0.1, 1.0, 10.0], settings=s, n_seeds=2, rng=0)
    >>> legs.up["norm"].shape
    (3, 2)
    """
    setup = _setup(
        n_features,
        n_dims,
        parameter,
        feature,
        importance,
        feature_probability,
        settings,
        n_seeds,
        monosemantic_above,
        represented_threshold,
    )
    x = _values(values, setup)
    if x.size < 2:
        raise ValueError(f"values must hold at least 2 points; got {x.size}.")
    revive = check_real(revive_norm, "revive_norm", low=0.0, high=1.0)
    gen = check_rng(rng)
    k, N = x.size, setup.n_seeds
    legs = {}
    for direction, order in (("up", range(k)), ("down", range(k - 1, -1, -1))):
        seeds = gen.integers(0, 2**63, size=(k, N))
        out = {f: np.empty((k, N)) for f in ("learned_capacity", "norm", "final_loss")}
        init = None
        for j in order:
            if init is not None:
                init = (_revive(init[0], setup.feature, revive, gen), init[1])
            D, norm, loss, W, b = setup.train(
                x[j : j + 1], seeds[j : j + 1], init=init, progress=progress
            )
            out["learned_capacity"][j], out["norm"][j], out["final_loss"][j] = (
                D[0],
                norm[0],
                loss[0],
            )
            init = (W.copy(), b.copy())
        legs[direction] = out
    return HysteresisLegs(
        setup.parameter, setup.feature, x, legs["up"], legs["down"], revive, setup.mono, setup.thr
    )
