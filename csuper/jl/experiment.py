"""Empirical target dimension of a JL construction versus the guaranteed bounds, and its plot."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from csuper._validation import (
    check_array,
    check_bool,
    check_int,
    check_memory,
    check_real,
    check_rng,
)
from csuper.jl.bounds import BOUNDS, larsen_nelson_lower_bound, min_dim
from csuper.jl.distortion import measure_distortion
from csuper.jl.transforms import CONSTRUCTIONS, make_jl

__all__ = ["POINT_SETS", "DistortionExperiment", "distortion_experiment", "plot_min_dims"]

#: Most trials per m that :func:`distortion_experiment` accepts: the success rate is then known
#: to +-1e-3 (its Wilson interval), far finer than any failure probability a bound is checked
#: at, and each trial draws a point set and a map (2**31 trials asked for a 16 GiB array of
#: distortions, and would have run for weeks).
MAX_TRIALS = 10**6


@dataclass(frozen=True)
class DistortionExperiment:
    """Success probability of a construction over a grid of target dimensions.

    Attributes
    ----------
    construction : str
        Key of :data:`csuper.jl.CONSTRUCTIONS`.
    n_points, n_features : int
        N points in R^n.
    eps, failure_probability : float
        Target distortion and the failure probability delta for "achieves".
    n_dims : ndarray of int
        The grid of m tried (increasing).
    n_trials : int
        Independent (point set, map) draws per m.
    success_rate : ndarray
        Fraction of trials with distortion <= eps on all pairs, per m.
    ci_low, ci_high : ndarray
        95% Wilson score interval of the success probability.
    median_distortion : ndarray
        Median over trials of the maximum pairwise distortion, per m.
    empirical_min_dim : int or None
        Smallest m of the grid whose success rate, and that of every larger m of the grid, is at
        least ``1 - failure_probability``; None if no m of the grid achieves it.
    bounds : dict of str to int
        Every upper bound of :data:`csuper.jl.BOUNDS` at (N, eps, delta, n).
    lower_bound : float or None
        The Larsen–Nelson order ``ln(eps^2 N)/eps^2`` (constant 1) when eps is in its range.
    guarantee : str or None
        The bound that certifies this construction.
    """

    construction: str
    n_points: int
    n_features: int
    eps: float
    failure_probability: float
    n_dims: np.ndarray
    n_trials: int
    success_rate: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    median_distortion: np.ndarray
    empirical_min_dim: int | None
    bounds: dict[str, int] = field(default_factory=dict)
    lower_bound: float | None = None
    guarantee: str | None = None

    def summary(self) -> str:
        """A short plain-text report (as the CLI prints it)."""
        lines = [
            f"{self.construction}: N={self.n_points} points in R^{self.n_features}, "
            f"eps={self.eps:g}, delta={self.failure_probability:g}, {self.n_trials} trials per m",
            "      m  success  95% CI            median max distortion",
        ]
        for m, s, lo, hi, md in zip(
            self.n_dims, self.success_rate, self.ci_low, self.ci_high, self.median_distortion
        ):
            lines.append(f"{int(m):7d}  {s:7.3f}  [{lo:.3f}, {hi:.3f}]    {md:.4f}")
        emp = "none in the grid" if self.empirical_min_dim is None else str(self.empirical_min_dim)
        lines.append(f"smallest m achieving 1 - delta: {emp}")
        for name, value in self.bounds.items():
            star = "  <- certifies this construction" if name == self.guarantee else ""
            lines.append(f"  bound {name:15s} m = {value}{star}")
        if self.lower_bound is not None:
            lines.append(
                f"  Larsen-Nelson lower-bound order ln(eps^2 N)/eps^2 = {self.lower_bound:.1f}"
            )
        return "\n".join(lines)


def _wilson(successes: np.ndarray, trials: int, z: float = 1.959963984540054):
    p = successes / trials
    denom = 1.0 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denom
    half = z * np.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denom
    lo = np.where(successes == 0, 0.0, np.clip(centre - half, 0.0, 1.0))
    hi = np.where(successes == trials, 1.0, np.clip(centre + half, 0.0, 1.0))
    return lo, hi


def _all_bounds(n_points, eps, delta, n_features) -> dict[str, int]:
    return {
        name: min_dim(n_points, eps, bound=name, failure_probability=delta, n_features=n_features)
        for name in BOUNDS
    }


def _gaussian_points(n_points: int, n_features: int, rng: np.random.Generator) -> np.ndarray:
    """i.i.d. standard normal points."""
    return rng.standard_normal((n_points, n_features))


def _basis_points(n_points: int, n_features: int, rng: np.random.Generator) -> np.ndarray:
    """Distinct standard basis vectors (their 2-sparse differences are hard for sparse maps)."""
    idx = rng.choice(n_features, size=n_points, replace=False)
    X = np.zeros((n_points, n_features))
    X[np.arange(n_points), idx] = 1.0
    return X


#: Random point sets of :func:`distortion_experiment` (name -> ``draw(n_points, n_features,
#: rng)``); the CLI choices read it.
POINT_SETS: dict[str, Callable[[int, int, np.random.Generator], np.ndarray]] = {
    "gaussian": _gaussian_points,
    "basis": _basis_points,
}


def distortion_experiment(
    construction: str,
    n_points: int,
    n_features: int,
    eps: float,
    *,
    n_dims: Sequence[int] | None = None,
    n_trials: int = 50,
    failure_probability: float = 0.1,
    points: str = "gaussian",
    construction_params: dict[str, Any] | None = None,
    rng=None,
    progress: bool = False,
) -> DistortionExperiment:
    """Estimate the probability that a construction keeps distortion <= eps, over a grid of m.

    For each m of the grid, ``n_trials`` times: draw N points and a map, measure the maximum
    distortion over all pairs (:func:`~csuper.jl.measure_distortion`), and count a success when it
    is at most eps. The smallest m whose success rate reaches ``1 - failure_probability`` is set
    beside every bound of :data:`~csuper.jl.BOUNDS` at the same (N, eps, delta, n).

    Parameters
    ----------
    construction : str
        Key of :data:`~csuper.jl.CONSTRUCTIONS`.
    n_points : int
        N >= 2 points.
    n_features : int
        Their dimension n >= 1 (``points="basis"`` needs n >= N).
    eps : float
        Distortion in (0, 1).
    n_dims : sequence of int or None
        Grid of m; default 12 geometric steps from 4 to the smaller of the Achlioptas bound and
        the construction's maximum m.
    n_trials : int
        Trials per m, in [1, :data:`MAX_TRIALS`].
    failure_probability : float
        delta in (0, 1).
    points : str
        A key of :data:`POINT_SETS`: ``"gaussian"`` (i.i.d. standard normal points) or
        ``"basis"`` (distinct standard basis vectors, whose 2-sparse differences are the hard
        case for sparse maps).
    construction_params : dict or None
        Extra parameters of the construction (e.g. ``{"nnz_per_column": 4}``).
    rng : None, int or Generator
        Randomness of points and maps.
    progress : bool, default False
        Show a tqdm progress bar.

    Returns
    -------
    DistortionExperiment

    Examples
    --------
    >>> r = distortion_experiment("gaussian", 20, 100, 0.5, n_dims=[10, 400], n_trials=20,
    ...                           rng=0)
    >>> r.success_rate.tolist(), r.empirical_min_dim
    ([0.0, 1.0], 400)
    """
    if not isinstance(construction, str) or construction not in CONSTRUCTIONS:
        raise ValueError(
            f"construction must be one of {sorted(CONSTRUCTIONS)}; got {construction!r}."
        )
    cls = CONSTRUCTIONS[construction]
    N = check_int(n_points, "n_points", low=2, high=2**53)
    n = check_int(n_features, "n_features", low=1, high=2**53)
    e = check_real(eps, "eps", low=0.0, high=1.0, low_inclusive=False, high_inclusive=False)
    delta = check_real(
        failure_probability,
        "failure_probability",
        low=0.0,
        high=1.0,
        low_inclusive=False,
        high_inclusive=False,
    )
    T = check_int(n_trials, "n_trials", low=1, high=MAX_TRIALS)
    if not isinstance(points, str) or points not in POINT_SETS:
        raise ValueError(f"points must be one of {list(POINT_SETS)}; got {points!r}.")
    if points == "basis" and n < N:
        raise ValueError(f"n_features must be >= n_points={N} for points='basis'; got {n}.")
    progress = check_bool(progress, "progress")
    if construction_params is not None and not isinstance(construction_params, dict):
        raise TypeError(
            "construction_params must be a dict of the construction's parameters or None; got "
            f"{type(construction_params).__name__}."
        )
    params = dict(construction_params or {})
    unknown = sorted(set(params) - set(cls.params))
    if unknown:
        raise TypeError(
            f"construction_params of the {construction!r} construction must be among "
            f"{list(cls.params)}; got unexpected {unknown}."
        )
    cap = cls.max_dims(n)
    if n_dims is None:
        top = min_dim(N, e, bound="achlioptas", failure_probability=delta)
        if cap is not None:
            top = min(top, cap)
        grid = np.unique(np.geomspace(min(4, top), top, 12).round().astype(np.int64))
    else:
        raw = check_array(n_dims, "n_dims", ndim=1, dtype=np.float64)
        if not np.all(raw == np.round(raw)) or np.asarray(n_dims).dtype == np.bool_:
            raise TypeError(f"n_dims must be a sequence of integers; got {n_dims!r}.")
        high = 2**53 if cap is None else cap
        for m in np.unique(raw):
            check_int(int(m), "n_dims", low=1, high=high)
        grid = np.unique(raw).astype(np.int64)
    gen = check_rng(rng)
    top_m = int(grid.max())
    check_memory(
        8 * (2 * N * n + 4 * top_m * n + N * top_m),
        f"distortion_experiment with n_points={N}, n_features={n} and n_dims up to {top_m} "
        "(one point set, one map and its images at a time)",
        "pass smaller n_points, n_features or n_dims",
    )
    draw_points = POINT_SETS[points]

    successes = np.zeros(len(grid), dtype=np.int64)
    medians = np.zeros(len(grid))
    steps = len(grid) * T
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=steps, desc=f"jl {construction}", leave=False)
    try:
        for gi, m in enumerate(grid):
            worst = np.empty(T)
            for t in range(T):
                X = draw_points(N, n, gen)
                f = make_jl(construction, n, int(m), rng=gen, **params)
                d = measure_distortion(X, f(X), quantiles=())
                worst[t] = d.max
                if bar is not None:
                    bar.update(1)
            successes[gi] = int(np.sum(worst <= e))
            medians[gi] = float(np.median(worst))
    finally:
        if bar is not None:
            bar.close()
    rate = successes / T
    lo, hi = _wilson(successes, T)
    ok = rate >= 1.0 - delta
    emp = None
    for i in range(len(grid)):
        if ok[i:].all():
            emp = int(grid[i])
            break
    try:
        lower = larsen_nelson_lower_bound(N, e, n_features=max(n, 2))
    except ValueError:
        lower = None
    return DistortionExperiment(
        construction=construction,
        n_points=N,
        n_features=n,
        eps=e,
        failure_probability=delta,
        n_dims=grid,
        n_trials=T,
        success_rate=rate,
        ci_low=lo,
        ci_high=hi,
        median_distortion=medians,
        empirical_min_dim=emp,
        bounds=_all_bounds(N, e, delta, n),
        lower_bound=lower,
        guarantee=cls.bound,
    )


def plot_min_dims(results: Sequence[DistortionExperiment], ax=None):
    """Plot the empirical smallest m against the guaranteed m, as functions of N.

    Parameters
    ----------
    results : sequence of DistortionExperiment
        Experiments at several N (same eps and delta, typically same construction).
    ax : matplotlib Axes or None
        Axes to draw on (a new figure if None).

    Returns
    -------
    matplotlib.axes.Axes
        Log-scale m against N: markers for the empirical smallest m (with the grid step below
        it as an error bar), lines for every upper bound, dashed for the Larsen–Nelson order.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> rs = [distortion_experiment("gaussian", N, 64, 0.5, n_dims=[16, 32, 64, 128], n_trials=5,
    ...                             rng=N) for N in (8, 16)]
    >>> ax = plot_min_dims(rs)
    >>> ax.get_yscale()
    'log'
    """
    if isinstance(results, DistortionExperiment):
        results = [results]
    if not isinstance(results, Sequence) or isinstance(results, str):
        raise TypeError(
            "results must be a sequence of DistortionExperiment objects; got "
            f"{type(results).__name__}."
        )
    if not results:
        raise ValueError("results must hold at least one DistortionExperiment; got none.")
    if not all(isinstance(r, DistortionExperiment) for r in results):
        raise TypeError(
            "results must be DistortionExperiment objects (from distortion_experiment)."
        )
    if ax is not None and not callable(getattr(ax, "errorbar", None)):
        raise TypeError(f"ax must be a matplotlib Axes or None; got {type(ax).__name__}.")
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(6, 4))
    rs = sorted(results, key=lambda r: r.n_points)
    Ns = np.array([r.n_points for r in rs])
    for i, name in enumerate(rs[0].bounds):  # line styles differ: some bounds coincide
        ax.plot(
            Ns,
            [r.bounds[name] for r in rs],
            ("-", "--", ":", "-.")[i % 4],
            marker="s",
            lw=1.4,
            ms=3,
            label=f"bound: {name}",
        )
    lows = [
        (r.n_points, r.lower_bound) for r in rs if r.lower_bound is not None and r.lower_bound > 0
    ]
    if lows:
        ax.plot(*zip(*lows), "k--x", lw=1, ms=4, label="Larsen–Nelson order (c = 1)")
    emp = [(r.n_points, r.empirical_min_dim, r.n_dims) for r in rs if r.empirical_min_dim]
    if emp:
        xs = np.array([e[0] for e in emp])
        ys = np.array([e[1] for e in emp], dtype=float)
        below = []
        for _, m, grid in emp:
            smaller = grid[grid < m]
            below.append(m - (smaller.max() if smaller.size else m))
        ax.errorbar(
            xs,
            ys,
            yerr=[below, np.zeros(len(ys))],
            fmt="o",
            color="C3",
            capsize=3,
            label=f"empirical ({rs[0].construction})",
        )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("number of points N")
    ax.set_ylabel("target dimension m")
    r0 = rs[0]
    ax.set_title(
        f"JL: empirical vs guaranteed m (eps={r0.eps:g}, delta={r0.failure_probability:g})"
    )
    ax.legend(fontsize=7)
    return ax
