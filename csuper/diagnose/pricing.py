"""Pricing interference: does a penalty on the interference a feature imposes on the others buy
legible codes cheaply, and does it move the phase transitions of superposition?

Training a toy model puts no price on interference. :class:`csuper.toy.TrainSettings` adds one,
lambda * sum_{i != j} c_ij (w_i . w_j)^2 with c_ij the co-activation rate (or c_ij = 1, the
plain price); :func:`pricing_frontier` trains the same seeds at every price of a grid and
measures, on held-out data, the frontier of reconstruction loss against legibility: the share
of represented features that own a dimension (feature dimensionality D_i >= 0.9, Elhage et
al. 2022's "dedicated" features, the monosemantic features of a model without a privileged
basis), the number of represented features and their interference. :func:`pricing_verdict`
answers the two questions by the rules in :data:`PRICING_CRITERIA`, fixed before any run.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from csuper._store import ResultStore, make_key
from csuper._validation import (
    check_array,
    check_bool,
    check_int,
    check_memory,
    check_real,
    check_rng,
)
from csuper.diagnose.neurons import neuron_view
from csuper.diagnose.results import DiagnosticResult
from csuper.geometry import feature_dimensionality
from csuper.sae import mean_ci
from csuper.toy import (
    MAGNITUDE_LAWS,
    TrainSettings,
    feature_distribution,
    feature_interference,
    feature_norms,
    interference_penalty,
    sample_features,
    toy_loss,
    train,
)

__all__ = [
    "PRICING_CRITERIA",
    "PRICED_MODELS",
    "PricingFrontier",
    "legible_loss",
    "pricing_frontier",
    "frontier_table",
    "pricing_verdict",
]

#: The rules of the verdict, fixed before any run.
#:
#: - ``dedicated_threshold``: a represented feature is dedicated (monosemantic) when its feature
#:   dimensionality D_i is at least this.
#: - ``min_share_gain``, ``max_relative_loss``: a price buys legibility cheaply at a sparsity when
#:   the paired (same seed) gain in dedicated share has its CI's lower end >= ``min_share_gain``
#:   while the relative increase of the held-out loss has its CI's upper end <=
#:   ``max_relative_loss``.
#: - ``transition_margin``: the phase transition of a price is the smallest sparsity of the grid
#:   at which the CI of the represented count lies above n_dims + ``transition_margin`` (more
#:   features than dimensions: superposition); a price moves the transition when that sparsity
#:   differs from the unpriced one (or exists for one and not the other).
#: - ``confidence``: level of the Student-t intervals over seeds.
PRICING_CRITERIA: dict[str, float] = {
    "dedicated_threshold": 0.9,
    "min_share_gain": 0.25,
    "max_relative_loss": 0.10,
    "transition_margin": 0.5,
    "confidence": 0.95,
}

#: Toy models the frontier trains (keys of :data:`csuper.toy.MODELS`): their best fully legible
#: code is the same (the m most important features each on a dimension, or a neuron, of its own:
#: exact with bias 0).
PRICED_MODELS = ("relu_output", "hidden_relu")

#: The experiment name of a resumable frontier's folder (:class:`csuper._store.ResultStore`).
_EXPERIMENT = "csuper.diagnose.pricing_frontier"

_METRICS = (
    "loss",
    "dedicated_share",
    "represented",
    "interference",
    "weighted_penalty",
    "plain_penalty",
)


@dataclass(frozen=True)
class PricingFrontier:
    """Runs of the same seeds at every price of a grid.

    Attributes
    ----------
    rows : list of dict
        One per (price, sparsity, seed index): ``price``, ``sparsity``, ``seed_index``, ``seed``
        and the metrics ``loss`` (held-out reconstruction loss, the price excluded),
        ``dedicated_share`` (dedicated among represented features; None if none is
        represented: the share is undefined, and None, unlike NaN, cannot enter arithmetic
        unnoticed; it is ``null`` in JSON),
        ``represented`` (|w_i| > 0.5), ``interference`` (mean over represented features of
        sum_{j != i} <w_hat_i, w_j>^2), ``weighted_penalty`` and ``plain_penalty`` (the priced
        quantity sum_{i != j} c_ij (w_i . w_j)^2 of the trained weights, c_ij the co-activation
        rate or 1, whichever variant was trained); for ``hidden_relu`` models also
        ``monosemantic_neuron_share`` (None when every neuron is dead).
    legible_loss : dict
        Sparsity -> :func:`legible_loss`, the loss of the best code whose represented features
        all own a dimension (the m most important ones), the price-free reference of full
        legibility.
    setup : dict
        The sweep's arguments (JSON-serialisable).
    resumed : tuple of float
        Prices whose rows were read from the ``output`` folder of an earlier run instead of
        trained (empty without ``output``).
    """

    rows: list
    legible_loss: dict
    setup: dict
    resumed: tuple = ()


def legible_loss(importance, n_dims: int, feature_probability: float, magnitude: str = "uniform"):
    """Loss of the best fully legible code of the ReLU-output toy model at density p.

    The code keeps the m most important features on orthonormal directions (each owns a
    dimension: D_i = 1) with bias 0, which reconstructs them exactly, and drops the others,
    whose bias b_i = E[x_i] replaces them by their mean. Each dropped feature costs
    I_i Var(x_i), Var(x_i) = p E[v^2] - p^2 E[v]^2 for an active magnitude v; with the trainer's
    mean over features, L = (1/n) sum_{i not kept} I_i Var(x_i). At p = 1 this is
    :func:`csuper.toy.dense_limit_loss`.

    Parameters
    ----------
    importance : array_like, shape (n,)
        Nonnegative I_i.
    n_dims : int
        m, in [1, n).
    feature_probability : float
        p in (0, 1].
    magnitude : str
        Key of :data:`csuper.toy.MAGNITUDE_LAWS`.

    Returns
    -------
    float

    Examples
    --------
    Uniform[0, 1) magnitudes, p = 0.1: Var = 0.1 / 3 - 0.01 / 4.

    >>> print(round(legible_loss(np.ones(4), 2, 0.1), 6))
    0.015417
    """
    imp = check_array(importance, "importance", ndim=1, dtype=np.float64, nonnegative=True)
    n = imp.shape[0]
    m = check_int(n_dims, "n_dims", low=1, high=n, high_inclusive=False)
    p = check_real(
        feature_probability, "feature_probability", low=0.0, high=1.0, low_inclusive=False
    )
    if not isinstance(magnitude, str) or magnitude not in MAGNITUDE_LAWS:
        raise ValueError(f"magnitude must be one of {sorted(MAGNITUDE_LAWS)}; got {magnitude!r}.")
    law = MAGNITUDE_LAWS[magnitude]
    var = p * law.second_moment - (p * law.mean) ** 2
    return float(np.sort(imp)[::-1][m:].sum() * var / n)


def _metrics(W: np.ndarray, model: str) -> dict:
    rep = feature_norms(W) > 0.5
    n_rep = int(rep.sum())
    D = feature_dimensionality(W)
    out = {
        "represented": n_rep,
        "dedicated_share": (
            float(np.mean(D[rep] >= PRICING_CRITERIA["dedicated_threshold"])) if n_rep else None
        ),
        "interference": float(feature_interference(W)[rep].mean()) if n_rep else 0.0,
    }
    if model == "hidden_relu":
        v = neuron_view(W)
        live = v.monosemantic + v.polysemantic
        out["monosemantic_neuron_share"] = v.monosemantic / live if live else None
    return out


def _price_rows(
    price: float,
    *,
    dist,
    n_dims: int,
    importance: np.ndarray,
    settings: TrainSettings,
    seeds: np.ndarray,
    X: np.ndarray,
    sparsities: np.ndarray,
    n_seeds: int,
    progress: bool,
) -> list[dict]:
    """Train every (sparsity, seed) instance at one price and measure its rows (see
    :class:`PricingFrontier`); the unit of work that a resumable frontier stores."""
    n = importance.shape[0]
    model = train(
        dist, n_dims, importance=importance, settings=settings, seeds=seeds, progress=progress
    )
    losses = toy_loss(model.W, model.b, X, np.broadcast_to(importance, (seeds.size, n)))
    pen_w = interference_penalty(model.W, dist, coactivation_weighted=True)
    pen_p = interference_penalty(model.W, coactivation_weighted=False)
    return [
        {
            "price": float(price),
            "sparsity": float(sparsities[r // n_seeds]),
            "seed_index": r % n_seeds,
            "seed": int(seeds[r]),
            "loss": float(losses[r]),
            "weighted_penalty": float(pen_w[r]),
            "plain_penalty": float(pen_p[r]),
            **_metrics(np.asarray(model.W[r], dtype=np.float64), settings.model),
        }
        for r in range(seeds.size)
    ]


def pricing_frontier(
    n_features: int = 20,
    n_dims: int = 5,
    *,
    sparsities=(0.0, 0.5, 0.8, 0.9, 0.97),
    prices=(0.0, 0.01, 0.1, 1.0),
    coactivation_weighted: bool = True,
    importance=None,
    settings: TrainSettings | None = None,
    n_seeds: int = 5,
    n_samples: int = 16384,
    seeds=None,
    rng=None,
    output=None,
    progress: bool = False,
) -> PricingFrontier:
    """Train toy models at every (price, sparsity, seed) and measure the frontier.

    Parameters
    ----------
    n_features, n_dims : int
        n >= 2 and m in [1, n).
    sparsities : sequence of float
        S = 1 - p in [0, 1), one instance per sparsity and seed.
    prices : sequence of float
        lambda >= 0; must contain 0 (the unpriced reference every price is paired with).
    coactivation_weighted : bool
        c_ij = co-activation rate (True) or 1 (the plain price).
    importance : array_like, shape (n,), optional
        Default 0.9**i.
    settings : TrainSettings, optional
        Training settings (``interference_price`` and ``coactivation_weighted`` are set here);
        default 4,000 steps of batch 1024 at lr 1e-3, the notebook's otherwise. ``model`` is
        ``"relu_output"`` (default) or ``"hidden_relu"`` (the privileged-basis model: rows then
        also hold ``monosemantic_neuron_share``, monosemantic among live neurons by
        :func:`csuper.diagnose.neuron_view`); :data:`PRICED_MODELS`.
    n_seeds : int
        Independent seeds per sparsity (>= 2 for intervals); the same seeds at every price.
    n_samples : int
        Held-out samples per instance for the loss, drawn from the seeded generator
        ``numpy.random.default_rng([seed, 1])`` of the instance's training seed (the same data
        at every price: the comparisons are paired).
    seeds : array_like of int, shape (len(sparsities) * n_seeds,), optional
        Explicit training seeds, sparsity-major (a row of :attr:`PricingFrontier.rows` is
        reproduced from its ``seed`` alone); default: drawn from ``rng``.
    rng : None, int or numpy.random.Generator
        Source of the training seeds when ``seeds`` is not given.
    output : str or os.PathLike, optional
        A folder that makes the frontier resumable: the rows of each price are saved there as
        soon as that price is trained (an interrupted run loses at most the price in
        progress), and a rerun reads the prices already saved instead of training them
        (:attr:`PricingFrontier.resumed`). Its configuration is every argument but ``prices``
        (with the training seeds, so resuming needs ``seeds`` or a fixed ``rng``): a rerun may
        add prices, and a folder of a different configuration is refused with a
        :class:`csuper.StoreError`. Results equal those of a run without ``output``.
    progress : bool
        Show a progress bar over the prices and the trainer's bars.

    Returns
    -------
    PricingFrontier

    Examples
    --------
    >>> s = TrainSettings(n_steps=300, batch_size=256, lr=1e-2)
    >>> f = pricing_frontier(6, 2, sparsities=[0.9], prices=[0.0, 10.0], n_seeds=2,
    ...                      coactivation_weighted=False, settings=s, n_samples=512, rng=0)
    >>> [r["represented"] <= 2 for r in f.rows if r["price"] == 10.0]  # orthogonal: at most m
    [True, True]
    """
    n = check_int(n_features, "n_features", low=2)
    m = check_int(n_dims, "n_dims", low=1, high=n, high_inclusive=False)
    S = check_array(sparsities, "sparsities", ndim=1, dtype=np.float64)
    if S.size == 0 or np.any((S < 0) | (S >= 1)):
        raise ValueError(f"sparsities must be a nonempty sequence in [0, 1); got {S.tolist()}.")
    lam = check_array(prices, "prices", ndim=1, dtype=np.float64)
    if np.any(lam < 0) or 0.0 not in lam:
        raise ValueError(
            "prices must be nonnegative and contain 0 (the unpriced reference); got "
            f"{lam.tolist()}."
        )
    weighted = check_bool(coactivation_weighted, "coactivation_weighted")
    N = check_int(n_seeds, "n_seeds", low=1)
    n_eval = check_int(n_samples, "n_samples", low=1)
    check_memory(  # before the importance (n,) and the seeds (S N,) are drawn, not after
        2.0 * S.size * N * n_eval * n * 8,
        f"the held-out data of pricing_frontier ({S.size * N} models x n_samples={n_eval} x "
        f"n_features={n}, float64, twice while it is stacked)",
        "a smaller n_samples or fewer sparsities or seeds",
    )
    imp = (
        0.9 ** np.arange(n)
        if importance is None
        else check_array(importance, "importance", ndim=1, shape=(n,), nonnegative=True)
    )
    base = TrainSettings(n_steps=4000) if settings is None else settings
    if not isinstance(base, TrainSettings):
        raise TypeError(f"settings must be a TrainSettings; got {type(base).__name__}.")
    if base.model not in PRICED_MODELS:
        raise ValueError(
            f"the pricing frontier trains settings.model in {list(PRICED_MODELS)}; got "
            f"{base.model!r}."
        )
    progress = check_bool(progress, "progress")
    if seeds is None:
        seeds = check_rng(rng).integers(0, 2**62, size=S.size * N)
    seeds = check_array(seeds, "seeds", ndim=1, shape=(S.size * N,), dtype=np.int64)
    if np.any(seeds < 0):
        raise ValueError("seeds must be nonnegative integers.")
    setup = {
        "n_features": n,
        "n_dims": m,
        "sparsities": S.tolist(),
        "prices": sorted(set(lam.tolist())),
        "coactivation_weighted": weighted,
        "importance": imp.tolist(),
        "n_seeds": N,
        "n_samples": n_eval,
        "settings": dataclasses.asdict(base),
    }
    store = None
    if output is not None:
        config = {k: v for k, v in setup.items() if k != "prices"}
        store = ResultStore(output, _EXPERIMENT, {**config, "seeds": seeds.tolist()}, name="output")
    p = np.repeat(1.0 - S, N)
    dist = feature_distribution(n, p)
    X = np.stack(
        [
            sample_features(
                feature_distribution(n, float(q)), n_eval, rng=np.random.default_rng([int(sd), 1])
            )[0]
            for q, sd in zip(p, seeds, strict=True)
        ]
    )
    grid = np.unique(lam)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=grid.size, desc="prices", unit="price")
    rows: list[dict] = []
    resumed = []
    try:
        for price in grid:
            key = make_key(price=float(price))
            saved = None if store is None else store.get(key)
            if saved is not None:
                rows.extend(saved["rows"])
                resumed.append(float(price))
            else:
                s = dataclasses.replace(
                    base, interference_price=float(price), coactivation_weighted=weighted
                )
                new = _price_rows(
                    price,
                    dist=dist,
                    n_dims=m,
                    importance=imp,
                    settings=s,
                    seeds=seeds,
                    X=X,
                    sparsities=S,
                    n_seeds=N,
                    progress=progress,
                )
                if store is not None:
                    store.append(key, {"rows": new})
                rows.extend(new)
            if bar is not None:
                bar.update()
    finally:
        if bar is not None:
            bar.close()
    legible = {float(s_): legible_loss(imp, m, 1.0 - float(s_)) for s_ in S}
    return PricingFrontier(rows=rows, legible_loss=legible, setup=setup, resumed=tuple(resumed))


def _paired(rows: list, price: float, sparsity: float, key: str, relative: bool = False):
    ref = {r["seed_index"]: r[key] for r in rows if r["price"] == 0.0 and r["sparsity"] == sparsity}
    out = []
    for r in rows:
        if r["price"] == price and r["sparsity"] == sparsity and r["seed_index"] in ref:
            base = ref[r["seed_index"]]
            out.append((r[key] - base) / base if relative else r[key] - base)
    return np.asarray(out, dtype=float)


def frontier_table(frontier: PricingFrontier) -> list[dict]:
    """Mean and CI over seeds of every metric at every (price, sparsity), with the paired gains.

    Returns
    -------
    list of dict
        Per (price, sparsity): ``<metric>`` = (mean, low, high) for the metrics of
        :class:`PricingFrontier`, ``share_gain`` (paired dedicated-share gain over the unpriced
        run of the same seed; a missing share counts as 0) and ``relative_loss`` (paired
        relative loss increase), ``legible_loss`` and ``legible_ratio`` (mean loss over
        :func:`legible_loss`: below 1 the code beats every fully legible one).
    """
    if not isinstance(frontier, PricingFrontier):
        raise TypeError(f"frontier must be a PricingFrontier; got {type(frontier).__name__}.")
    conf = PRICING_CRITERIA["confidence"]
    rows = [{**r, "dedicated_share": r["dedicated_share"] or 0.0} for r in frontier.rows]
    out = []
    for price in sorted({r["price"] for r in rows}):
        for s in sorted({r["sparsity"] for r in rows}):
            sel = [r for r in rows if r["price"] == price and r["sparsity"] == s]
            entry = {"price": price, "sparsity": s, "legible_loss": frontier.legible_loss[s]}
            for key in (*_METRICS, "monosemantic_neuron_share"):
                if key in sel[0]:
                    entry[key] = mean_ci([r[key] for r in sel if r[key] is not None], conf)
            entry["share_gain"] = mean_ci(_paired(rows, price, s, "dedicated_share"), conf)
            entry["relative_loss"] = mean_ci(_paired(rows, price, s, "loss", True), conf)
            entry["legible_ratio"] = entry["loss"][0] / entry["legible_loss"]
            out.append(entry)
    return out


def _transition(table: list[dict], price: float, n_dims: int) -> float:
    """Smallest sparsity at which the represented count's CI lies above m + margin (NaN: none)."""
    margin = PRICING_CRITERIA["transition_margin"]
    for e in sorted((e for e in table if e["price"] == price), key=lambda e: e["sparsity"]):
        if e["represented"][1] > n_dims + margin:
            return e["sparsity"]
    return float("nan")


def pricing_verdict(frontier: PricingFrontier) -> tuple[DiagnosticResult, DiagnosticResult]:
    """The two answers, by the rules of :data:`PRICING_CRITERIA`.

    Returns
    -------
    cheap : DiagnosticResult
        ``pricing_legibility``: statistic = the largest lower CI end of the dedicated-share gain
        among (price, sparsity) cells whose relative loss increase stays (CI upper end) within
        ``max_relative_loss`` (NaN if none), baseline = ``min_share_gain``; diagnosis
        "a price buys legibility cheaply" or "no cheap legibility".
    transition : DiagnosticResult
        ``pricing_transition``: statistic = the number of prices whose transition sparsity
        differs from the unpriced one, baseline 0; diagnosis "the price moves the phase
        transition" or "the phase transition does not move".
    """
    table = frontier_table(frontier)
    gain_min = PRICING_CRITERIA["min_share_gain"]
    max_rel = PRICING_CRITERIA["max_relative_loss"]
    cheap_cells = [
        e
        for e in table
        if e["price"] > 0
        and np.isfinite(e["relative_loss"][2])
        and e["relative_loss"][2] <= max_rel
    ]
    best = max(cheap_cells, key=lambda e: e["share_gain"][1], default=None)
    stat = float(best["share_gain"][1]) if best is not None else float("nan")
    cheap = best is not None and stat >= gain_min
    kind = "co-activation weighted" if frontier.setup["coactivation_weighted"] else "plain"
    legible_cells = [e for e in table if e["price"] > 0 and e["dedicated_share"][0] >= 0.99]
    ratios = np.array([e["legible_ratio"] for e in legible_cells])
    reference = (
        f" Where the price made every represented feature dedicated ({len(ratios)} cells), its "
        f"loss was {np.min(ratios):.2f} to {np.max(ratios):.2f} times that of the best fully "
        "legible code (the m most important features on their own dimensions)"
        if ratios.size
        else " No price made every represented feature dedicated"
    )
    if best is None:
        why = f"every {kind} price raised the loss by more than {max_rel:.0%} (CI upper end)"
    else:
        why = (
            f"best cell: lambda = {best['price']:g} at S = {best['sparsity']:g} gains "
            f"{best['share_gain'][0]:.2f} [{best['share_gain'][1]:.2f}, "
            f"{best['share_gain'][2]:.2f}] in dedicated share for a relative loss increase of "
            f"{best['relative_loss'][0]:.3f} [{best['relative_loss'][1]:.3f}, "
            f"{best['relative_loss'][2]:.3f}]"
        )
    legibility = DiagnosticResult(
        test="pricing_legibility",
        statistic=stat,
        statistic_name=(
            f"largest CI lower end of the dedicated-share gain among cells within "
            f"{max_rel:.0%} relative loss"
        ),
        baseline=gain_min,
        baseline_name="gain required for legibility bought cheaply",
        diagnosis="a price buys legibility cheaply" if cheap else "no cheap legibility",
        summary=(
            f"The {kind} interference price "
            + ("buys legibility cheaply: " if cheap else "does not buy legibility cheaply: ")
            + why
            + "."
            + reference
            + "."
        ),
        details={"cells": [e for e in table if e["price"] > 0], "legible_ratios": ratios},
    )
    m = frontier.setup["n_dims"]
    S0 = _transition(table, 0.0, m)
    moved = {}
    for price in sorted({e["price"] for e in table if e["price"] > 0}):
        Sp = _transition(table, price, m)
        if not (Sp == S0 or (np.isnan(Sp) and np.isnan(S0))):
            moved[price] = Sp
    shown = ", ".join(f"lambda = {k:g}: S* = {v:g}" for k, v in moved.items())
    transition = DiagnosticResult(
        test="pricing_transition",
        statistic=float(len(moved)),
        statistic_name="prices whose superposition transition sparsity S* differs from lambda = 0",
        baseline=0.0,
        baseline_name="no price moves the transition",
        diagnosis="the price moves the phase transition"
        if moved
        else "the phase transition does not move",
        summary=(
            f"Unpriced, superposition (represented count above m = {m}) starts at S* = {S0:g}; "
            + (f"with the {kind} price it moves ({shown})" if moved else "no price moves it")
            + f" (NaN: at no sparsity of the grid does the represented count's "
            f"{PRICING_CRITERIA['confidence']:.0%} interval lie above m + "
            f"{PRICING_CRITERIA['transition_margin']:g})."
        ),
        details={"unpriced": S0, "moved": moved},
    )
    return legibility, transition
