"""Phase transitions of one feature: sweep its importance or frequency, train toy models along
the sweep and locate where it goes from ignored to superposed and from superposed to its own
direction, against the Lagrangian (KKT) prediction of :func:`csuper.compare.relu_allocation`.

Warm starts (initialising each point from the previous point's weights, to expose hysteresis)
need an initial-weights parameter in :func:`csuper.toy.train`, which it does not have; this
module runs cold starts only (a fresh initialisation per point, best of ``n_seeds``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from csuper._validation import check_array, check_int, check_real
from csuper.compare.capacity import capacities, relu_allocation

__all__ = ["SWEEP_PARAMETERS", "TransitionSweep", "feature_transition_sweep", "locate_crossings"]

#: What a sweep varies (name -> the toy-model quantity of the swept feature).
SWEEP_PARAMETERS: dict[str, str] = {
    "importance": "I_i of the swept feature",
    "feature_probability": "p_i of the swept feature",
}


def locate_crossings(values, series, threshold: float) -> np.ndarray:
    """Sweep values where ``series`` crosses ``threshold`` upwards, by linear interpolation.

    Parameters
    ----------
    values : array_like, shape (k,)
        Increasing sweep values.
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
class TransitionSweep:
    """Result of :func:`feature_transition_sweep`.

    Attributes
    ----------
    parameter : str
        Key of :data:`SWEEP_PARAMETERS`.
    feature : int
        Index of the swept feature.
    values : ndarray, shape (k,)
        Sweep values (increasing).
    learned_capacity, norm, predicted_capacity : ndarray, shape (k,)
        D_i and |w_i| of the swept feature in the trained model, and the predicted C_i.
    final_loss : ndarray, shape (k,)
    monosemantic_above, represented_threshold : float
        Thresholds used to locate the transitions.
    prediction_grid, prediction_curve : ndarray, shape (g,)
        The predicted C_i on a fine geometric grid over [values[0], values[-1]] (the prediction
        is cheap), from which the predicted transitions are located.
    """

    parameter: str
    feature: int
    values: np.ndarray
    learned_capacity: np.ndarray
    norm: np.ndarray
    predicted_capacity: np.ndarray
    final_loss: np.ndarray
    monosemantic_above: float
    represented_threshold: float
    prediction_grid: np.ndarray
    prediction_curve: np.ndarray

    def table(self) -> list[dict]:
        """Tidy sweep table: one dict per (point, direction, start mode).

        Cold starts only (see the module docstring), so ``direction`` is ``"none"`` and
        ``start`` is ``"cold"``; warm-start rows would carry ``"up"``/``"down"`` and ``"warm"``.
        """
        return [
            {"parameter": self.parameter, "feature": self.feature, "value": float(v),
             "direction": "none", "start": "cold", "learned_capacity": float(d), "norm": float(w),
             "predicted_capacity": float(c), "final_loss": float(f)}
            for v, d, w, c, f in zip(self.values, self.learned_capacity, self.norm,
                                     self.predicted_capacity, self.final_loss)
        ]

    def transitions(self) -> dict:
        """Located transitions (first upward crossing, NaN when none) learned vs predicted.

        NaN means no upward crossing inside the sweep (the series stays on one side, or starts
        above the threshold already).

        - ``superposed_to_own``: D_i (learned) / C_i (predicted) crosses ``monosemantic_above``.
        - ``ignored_to_superposed``: |w_i| crosses ``represented_threshold`` (learned); the
          predicted C_i leaves 0 (crosses 1e-6).
        """
        def first(a):
            return float(a[0]) if a.size else float("nan")

        x, g, c = self.values, self.prediction_grid, self.prediction_curve
        return {
            "superposed_to_own": {
                "learned": first(locate_crossings(x, self.learned_capacity, self.monosemantic_above)),
                "predicted": first(locate_crossings(g, c, self.monosemantic_above)),
            },
            "ignored_to_superposed": {
                "learned": first(locate_crossings(x, self.norm, self.represented_threshold)),
                "predicted": first(locate_crossings(g, c, 1e-6)),
            },
        }

    def plot(self, ax=None):
        """Learned D_i, |w_i| and predicted C_i along the sweep; returns the matplotlib Axes."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(5, 3.5))
        ax.plot(self.values, self.learned_capacity, "o-", label="learned $D_i$ (cold start)")
        ax.plot(self.values, self.norm, "s:", label=r"learned $\|w_i\|$")
        ax.plot(self.prediction_grid, self.prediction_curve, "k--", label="Lagrangian $C_i$")
        ax.axhline(self.monosemantic_above, color="grey", lw=0.5)
        ax.set_xscale("log")
        ax.set_xlabel(f"{self.parameter} of feature {self.feature}")
        ax.set_ylabel("capacity")
        ax.legend(fontsize=8)
        return ax


def feature_transition_sweep(
    n_features: int,
    n_hidden: int,
    values,
    *,
    parameter: str = "importance",
    feature: int = 0,
    importance=None,
    feature_probability=0.05,
    settings=None,
    n_seeds: int = 1,
    monosemantic_above: float = 0.9,
    represented_threshold: float = 0.5,
    rng=None,
    progress: bool = False,
) -> TransitionSweep:
    """Sweep one feature's importance or probability, train cold-started toy models per point.

    Parameters
    ----------
    n_features, n_hidden : int
        n >= 2 and m in [1, n).
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
        Best-of-N per point.
    monosemantic_above, represented_threshold : float
        Transition thresholds on D_i and |w_i|.
    rng : None, int or numpy.random.Generator
    progress : bool

    Returns
    -------
    TransitionSweep

    Notes
    -----
    All sweep points train in one :func:`csuper.toy.train` call (one instance per point), so
    each point is a cold start from its own seed. The prediction at each point is
    :func:`csuper.compare.relu_allocation` with the point's importance and probabilities.

    Examples
    --------
    >>> from csuper.toy import TrainSettings
    >>> s = TrainSettings(n_steps=200, batch_size=256, lr=1e-2)
    >>> sw = feature_transition_sweep(4, 2, [0.1, 1.0, 10.0], settings=s, rng=0)
    >>> len(sw.table()), sorted(sw.transitions())
    (3, ['ignored_to_superposed', 'superposed_to_own'])
    """
    from csuper.toy import feature_distribution, train

    n = check_int(n_features, "n_features", low=2)
    m = check_int(n_hidden, "n_hidden", low=1, high=n, high_inclusive=False)
    if parameter not in SWEEP_PARAMETERS:
        raise ValueError(f"parameter must be one of {sorted(SWEEP_PARAMETERS)}; got {parameter!r}.")
    i = check_int(feature, "feature", low=0, high=n, high_inclusive=False)
    x = check_array(values, "values", ndim=1, dtype=np.float64)
    if np.any(x <= 0) or np.any(np.diff(x) <= 0):
        raise ValueError("values must be positive and strictly increasing.")
    if parameter == "feature_probability" and np.any(x > 1):
        raise ValueError(f"feature_probability values must lie in (0, 1]; got max {x.max():g}.")
    imp = np.ones(n) if importance is None else check_array(
        importance, "importance", ndim=1, shape=(n,), dtype=np.float64, nonnegative=True)
    p = np.broadcast_to(np.asarray(feature_probability, dtype=np.float64), (n,)).copy()
    check_array(p, "feature_probability", ndim=1, nonnegative=True)
    if np.any(p > 1):
        raise ValueError(f"feature_probability must lie in [0, 1]; got max {p.max():g}.")
    mono = check_real(monosemantic_above, "monosemantic_above", low=0.0, high=1.0, low_inclusive=False)
    thr = check_real(represented_threshold, "represented_threshold", low=0.0)
    k = x.shape[0]
    IMP = np.repeat(imp[None], k, axis=0)
    P = np.repeat(p[None], k, axis=0)
    if parameter == "importance":
        IMP[:, i] = x
    else:
        P[:, i] = x
    model = train(feature_distribution(n, P), m, importance=IMP, settings=settings,
                  n_seeds=n_seeds, rng=rng, progress=progress)
    D = np.array([capacities(model.W[r])[i] for r in range(k)])
    norm = np.linalg.norm(model.W[:, :, i], axis=1)
    pred = _predict(IMP, P, m, i)
    grid = np.geomspace(x[0], x[-1], 401) if k > 1 else x.copy()
    grid[0], grid[-1] = x[0], x[-1]
    IMPg, Pg = np.repeat(imp[None], grid.size, axis=0), np.repeat(p[None], grid.size, axis=0)
    (IMPg if parameter == "importance" else Pg)[:, i] = grid
    curve = _predict(IMPg, Pg, m, i)
    return TransitionSweep(parameter, i, x, D, norm, pred, model.final_loss, mono, thr, grid, curve)


def _predict(IMP: np.ndarray, P: np.ndarray, m: int, i: int) -> np.ndarray:
    return np.array([relu_allocation(IMP[r], P[r], m).capacity[i] for r in range(IMP.shape[0])])
