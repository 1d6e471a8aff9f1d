"""Phase transitions of one feature: sweep its importance or frequency, train toy models along
the sweep and locate where it goes from ignored to superposed and from superposed to its own
direction, against the Lagrangian (KKT) prediction of :func:`csuper.compare.relu_allocation`.

Cold starts train every point from a fresh initialisation (best of ``n_seeds``). Warm starts
expose hysteresis: an up leg starts fresh at the lowest value and goes up through the values,
each point initialised from the previous point's trained weights (``init`` of
:func:`csuper.toy.train`); a down leg does the same from a fresh start at the highest value. A
transition located on the way up and on the way down at different values is hysteresis
(coexisting local optima of the training loss). Each leg starts fresh at its own end so that a
leg that stalls (a feature that never gets a direction, say) does not decide the other leg.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from csuper._validation import check_array, check_int, check_real, check_rng
from csuper.compare.capacity import relu_allocation
from csuper.geometry import feature_dimensionality

__all__ = [
    "SWEEP_PARAMETERS",
    "START_MODES",
    "TransitionSweep",
    "feature_transition_sweep",
    "locate_crossings",
]

#: What a sweep varies (name -> the toy-model quantity of the swept feature).
SWEEP_PARAMETERS: dict[str, str] = {
    "importance": "I_i of the swept feature",
    "feature_probability": "p_i of the swept feature",
}

#: How sweep points are initialised (name -> meaning).
START_MODES: dict[str, str] = {
    "cold": "every point from its own fresh initialisation",
    "warm": "up from a fresh start at the lowest value and down from a fresh start at the "
    "highest, each further point from the previous point's weights",
    "both": "cold and warm",
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
    start : str
        Key of :data:`START_MODES`. ``learned_capacity``, ``norm`` and ``final_loss`` are the
        cold-start series (all NaN when ``start="warm"``).
    warm : dict or None
        Warm-start series (None unless ``start`` is ``"warm"`` or ``"both"``): keys ``"up"`` and
        ``"down"``, each a dict of arrays ``learned_capacity``, ``norm``, ``final_loss`` of
        shape (k,) and the trained weights ``W`` (k, m, n), ``b`` (k, n), all indexed like
        ``values`` (so ``warm["down"]`` was trained from index k-1 to 0).
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
    start: str = "cold"
    warm: dict | None = None

    def table(self) -> list[dict]:
        """Tidy sweep table: one dict per (point, direction, start mode).

        Cold rows have ``direction="none"``, ``start="cold"``; warm rows ``start="warm"`` and
        ``direction`` ``"up"`` then ``"down"`` (in the order trained).
        """
        series = []
        if self.start in ("cold", "both"):
            series.append(
                (
                    "none",
                    "cold",
                    self.learned_capacity,
                    self.norm,
                    self.final_loss,
                    range(len(self.values)),
                )
            )
        if self.warm is not None:
            k = len(self.values)
            for direction, order in (("up", range(k)), ("down", range(k - 1, -1, -1))):
                w = self.warm[direction]
                series.append(
                    (direction, "warm", w["learned_capacity"], w["norm"], w["final_loss"], order)
                )
        return [
            {
                "parameter": self.parameter,
                "feature": self.feature,
                "value": float(self.values[j]),
                "direction": direction,
                "start": start,
                "learned_capacity": float(D[j]),
                "norm": float(N[j]),
                "predicted_capacity": float(self.predicted_capacity[j]),
                "final_loss": float(F[j]),
            }
            for direction, start, D, N, F, order in series
            for j in order
        ]

    def transitions(self) -> dict:
        """Located transitions (first upward crossing, NaN when none) learned vs predicted.

        NaN means no upward crossing inside the sweep (the series stays on one side, or starts
        above the threshold already).

        - ``superposed_to_own``: D_i (learned) / C_i (predicted) crosses ``monosemantic_above``.
        - ``ignored_to_superposed``: |w_i| crosses ``represented_threshold`` (learned); the
          predicted C_i leaves 0 (crosses 1e-6).

        ``learned`` is the cold-start transition (NaN for ``start="warm"``). With warm starts each
        entry also has ``learned_up`` (first crossing met going up), ``learned_down`` (the first
        met going down, i.e. the highest-valued upward crossing of the down series) and
        ``hysteresis = learned_up - learned_down`` (positive when the higher state persists
        below the value where it appeared; NaN when either is missing) and
        ``hysteresis_cold = learned - learned_down``, the same against the cold-start transition
        (defined even when the up leg never crosses; NaN for ``start="warm"``).
        """

        def first(a):
            return float(a[0]) if a.size else float("nan")

        def last(a):
            return float(a[-1]) if a.size else float("nan")

        x, g, c = self.values, self.prediction_grid, self.prediction_curve
        cold = self.start != "warm"  # warm-only sweeps have no cold series (NaN)
        out = {
            "superposed_to_own": {
                "learned": first(
                    locate_crossings(x, self.learned_capacity, self.monosemantic_above)
                )
                if cold
                else float("nan"),
                "predicted": first(locate_crossings(g, c, self.monosemantic_above)),
            },
            "ignored_to_superposed": {
                "learned": first(locate_crossings(x, self.norm, self.represented_threshold))
                if cold
                else float("nan"),
                "predicted": first(locate_crossings(g, c, 1e-6)),
            },
        }
        if self.warm is not None:
            for key, field, thr in (
                ("superposed_to_own", "learned_capacity", self.monosemantic_above),
                ("ignored_to_superposed", "norm", self.represented_threshold),
            ):
                up = first(locate_crossings(x, self.warm["up"][field], thr))
                down = last(locate_crossings(x, self.warm["down"][field], thr))
                out[key].update(
                    learned_up=up,
                    learned_down=down,
                    hysteresis=up - down,
                    hysteresis_cold=out[key]["learned"] - down,
                )
        return out

    def plot(self, ax=None):
        """Learned D_i, |w_i| and predicted C_i along the sweep; returns the matplotlib Axes."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(5, 3.5))
        if self.start in ("cold", "both"):
            ax.plot(self.values, self.learned_capacity, "o-", label="learned $D_i$ (cold start)")
            ax.plot(self.values, self.norm, "s:", label=r"learned $\|w_i\|$")
        if self.warm is not None:
            for direction, marker in (("up", "^-"), ("down", "v-")):
                ax.plot(
                    self.values,
                    self.warm[direction]["learned_capacity"],
                    marker,
                    label=f"learned $D_i$ (warm, {direction})",
                )
        ax.plot(self.prediction_grid, self.prediction_curve, "k--", label="Lagrangian $C_i$")
        ax.axhline(self.monosemantic_above, color="grey", lw=0.5)
        ax.set_xscale("log")
        ax.set_xlabel(f"{self.parameter} of feature {self.feature}")
        ax.set_ylabel("capacity")
        ax.legend(fontsize=8)
        return ax


def feature_transition_sweep(
    n_features: int,
    n_dims: int,
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
    start: str = "cold",
) -> TransitionSweep:
    """Sweep one feature's importance or probability, train toy models per point.

    Parameters
    ----------
    n_features, n_dims : int
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
    progress : bool, default False
        Show tqdm progress bars of the trainings.
    start : str
        Key of :data:`START_MODES`: ``"cold"``, ``"warm"`` or ``"both"``.

    Returns
    -------
    TransitionSweep

    Notes
    -----
    Cold starts: all sweep points train in one :func:`csuper.toy.train` call (one instance per
    point), each from its own seed. Warm starts: 2k sequential trainings, each of ``settings``'
    full length: up, point 0 from a fresh initialisation and point j from point j-1's weights;
    down, point k-1 from a fresh initialisation and point j from point j+1's weights. Every
    warm point is best of ``n_seeds`` data streams from the same initial weights (Adam's moments
    restart at each point). With ``start="both"`` the cold sweep draws its seeds from ``rng``
    first, so it equals the ``start="cold"`` sweep for the same ``rng``. The prediction at each
    point is :func:`csuper.compare.relu_allocation` with the point's importance and probabilities.

    Examples
    --------
    >>> from csuper.toy import TrainSettings
    >>> s = TrainSettings(n_steps=200, batch_size=256, lr=1e-2)
    >>> sw = feature_transition_sweep(4, 2, [0.1, 1.0, 10.0], settings=s, rng=0)
    >>> len(sw.table()), sorted(sw.transitions())
    (3, ['ignored_to_superposed', 'superposed_to_own'])
    >>> sw = feature_transition_sweep(4, 2, [0.1, 1.0, 10.0], settings=s, rng=0, start="both")
    >>> len(sw.table()), sorted(sw.transitions()["superposed_to_own"])
    (9, ['hysteresis', 'hysteresis_cold', 'learned', 'learned_down', 'learned_up', 'predicted'])
    """
    from csuper.toy import feature_distribution, train

    n = check_int(n_features, "n_features", low=2)
    m = check_int(n_dims, "n_dims", low=1, high=n, high_inclusive=False)
    if parameter not in SWEEP_PARAMETERS:
        raise ValueError(f"parameter must be one of {sorted(SWEEP_PARAMETERS)}; got {parameter!r}.")
    i = check_int(feature, "feature", low=0, high=n, high_inclusive=False)
    x = check_array(values, "values", ndim=1, dtype=np.float64)
    if np.any(x <= 0) or np.any(np.diff(x) <= 0):
        raise ValueError("values must be positive and strictly increasing.")
    if parameter == "feature_probability" and np.any(x > 1):
        raise ValueError(f"feature_probability values must lie in (0, 1]; got max {x.max():g}.")
    imp = (
        np.ones(n)
        if importance is None
        else check_array(
            importance, "importance", ndim=1, shape=(n,), dtype=np.float64, nonnegative=True
        )
    )
    p = np.broadcast_to(np.asarray(feature_probability, dtype=np.float64), (n,)).copy()
    check_array(p, "feature_probability", ndim=1, low=0, high=1)
    mono = check_real(
        monosemantic_above, "monosemantic_above", low=0.0, high=1.0, low_inclusive=False
    )
    thr = check_real(represented_threshold, "represented_threshold", low=0.0)
    if start not in START_MODES:
        raise ValueError(f"start must be one of {sorted(START_MODES)}; got {start!r}.")
    N = check_int(n_seeds, "n_seeds", low=1)
    gen = check_rng(rng)
    k = x.shape[0]
    IMP = np.repeat(imp[None], k, axis=0)
    P = np.repeat(p[None], k, axis=0)
    if parameter == "importance":
        IMP[:, i] = x
    else:
        P[:, i] = x
    if start in ("cold", "both"):
        model = train(
            feature_distribution(n, P),
            m,
            importance=IMP,
            settings=settings,
            n_seeds=N,
            rng=gen,
            progress=progress,
        )
        D, norm, loss = _series(model.W, model.final_loss, i)
    else:
        D = norm = loss = np.full(k, np.nan)
    warm = None
    if start in ("warm", "both"):
        seeds = gen.integers(0, 2**63, size=(2, k, N))
        W, b, F = np.empty((2, k, m, n)), np.empty((2, k, n)), np.empty((2, k))
        for s, order in enumerate((range(k), range(k - 1, -1, -1))):
            init = None  # each leg starts fresh at its own end
            for j in order:
                pt = train(
                    feature_distribution(n, P[j]),
                    m,
                    importance=IMP[j],
                    settings=settings,
                    n_seeds=N,
                    seeds=seeds[s, j],
                    progress=progress,
                    init=init,
                )
                W[s, j], b[s, j], F[s, j] = pt.W[0], pt.b[0], pt.final_loss[0]
                init = pt
        warm = {}
        for s, direction in enumerate(("up", "down")):
            Ds, Ns, Ls = _series(W[s], F[s], i)
            warm[direction] = {
                "learned_capacity": Ds,
                "norm": Ns,
                "final_loss": Ls,
                "W": W[s],
                "b": b[s],
            }
    pred = _predict(IMP, P, m, i)
    grid = np.geomspace(x[0], x[-1], 401) if k > 1 else x.copy()
    grid[0], grid[-1] = x[0], x[-1]
    IMPg, Pg = np.repeat(imp[None], grid.size, axis=0), np.repeat(p[None], grid.size, axis=0)
    (IMPg if parameter == "importance" else Pg)[:, i] = grid
    curve = _predict(IMPg, Pg, m, i)
    return TransitionSweep(
        parameter, i, x, D, norm, pred, loss, mono, thr, grid, curve, start, warm
    )


def _series(
    W: np.ndarray, final_loss: np.ndarray, i: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """D_i, |w_i| and final loss of feature i along a sweep of models W (k, m, n)."""
    D = np.array([feature_dimensionality(W[r])[i] for r in range(W.shape[0])])
    return D, np.linalg.norm(W[:, :, i], axis=1), np.asarray(final_loss, dtype=np.float64)


def _predict(IMP: np.ndarray, P: np.ndarray, m: int, i: int) -> np.ndarray:
    return np.array([relu_allocation(IMP[r], P[r], m).capacity[i] for r in range(IMP.shape[0])])
