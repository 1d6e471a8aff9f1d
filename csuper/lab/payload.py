"""The numbers behind the lab page, computed with csuper's trainer and metrics at build time.

:func:`build_payload` trains the models of the first and third views and measures them; the
result is a JSON-serialisable dict that :func:`csuper.lab.render_page` embeds in the page. The
second view needs no training: the page evaluates the closed forms of
:mod:`csuper.lab.interference` itself.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from csuper._validation import check_bool, check_int, check_real, check_rng
from csuper.geometry import feature_dimensionality
from csuper.lab.correlation import neuron_feature_correlation
from csuper.sae import (
    SAESettings,
    cosine_matrix,
    dead_latents,
    fraction_of_variance_unexplained,
    l0,
    mmcs_features,
    recovery_rate,
    toy_model_data,
    train_sae,
)
from csuper.toy import (
    POLYTOPE_NAMES,
    ToyModel,
    TrainSettings,
    detect_polytopes,
    dimensions_per_feature,
    feature_distribution,
    feature_norms,
    neuron_polysemanticity,
    train,
)

__all__ = [
    "FORMAT",
    "NEURONS",
    "PACKING",
    "REGIMES",
    "SAE_VIEW",
    "SAE_RECOVERED",
    "LabConfig",
    "quick_config",
    "neuron_regime",
    "build_payload",
]

#: Version tag of the payload's layout.
FORMAT = "csuper.lab/1"

#: The privileged-basis model of the first view: Elhage et al. 2022, section "Superposition in a
#: privileged basis" (n = 10 features, m = 5 ReLU neurons, importance I_i = 0.75^i).
NEURONS: dict[str, Any] = {
    "model": "hidden_relu",
    "n_features": 10,
    "n_dims": 5,
    "importance_ratio": 0.75,
    "represented_threshold": 0.5,
}

#: The packing models of the third view: m = 2 and the intro figure's importance I_i = 0.9^i.
PACKING: dict[str, Any] = {
    "model": "relu_output",
    "n_dims": 2,
    "importance_ratio": 0.9,
    "represented_threshold": 0.5,
}

#: The SAEs of the fourth view (architecture -> its knob and label), trained on the activations
#: h = W x of the third view's n = 5 model.
SAE_VIEW: dict[str, dict[str, Any]] = {
    "topk": {"knob": {"k": 1}, "label": "TopK, k = 1"},
    "relu_l1": {"knob": {"sparsity_coefficient": 0.02}, "label": "ReLU + L1, \u03bb = 0.02"},
}

#: A true feature is recovered when a decoder atom has cosine above this with it (Sharkey et al.).
SAE_RECOVERED = 0.9

#: Regimes of a privileged-basis model (name -> meaning), chosen by :func:`neuron_regime`.
REGIMES: dict[str, str] = {
    "monosemantic": "every neuron responds to at most one feature: no superposition",
    "polysemantic": "some neurons respond to several features, yet no more features are "
    "represented than there are neurons",
    "superposition": "more features are represented than there are neurons, so neurons are "
    "shared: polysemanticity from superposition",
}


def _sequence(value, name: str) -> tuple:
    """A config field that must be a sequence (its entries are checked by the caller)."""
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise TypeError(f"{name} must be a sequence of numbers; got {value!r:.80}.")
    return tuple(value)


@dataclass(frozen=True)
class LabConfig:
    """What the lab page computes (defaults: ``csuper lab``, under half a minute on 2 cores).

    Attributes
    ----------
    neuron_sparsities : tuple of float
        Sparsities S = 1 - p of the first view's slider, in [0, 1), increasing.
    neuron_n_steps, neuron_n_seeds : int
        Training steps and best-of-N seeds of each privileged-basis model.
    correlation_active : int
        Expected number of samples in which each feature fires, per correlation estimate: the
        first view draws ceil(correlation_active / p) samples (capped by correlation_max_samples).
    correlation_max_samples : int
        Upper bound of the samples per correlation estimate.
    packing_n_features : tuple of int
        n values of the third view's slider, each in [3, 12] (m = 2 < n).
    packing_sparsities : tuple of float
        Sparsities of the third view's slider, in [0, 1), increasing.
    packing_n_steps, packing_n_seeds : int
        Training steps and best-of-N seeds of each packing model.
    sae_sparsity : float
        The fourth view's toy model: the third view's n = 5 model at this sparsity (one of
        packing_sparsities; 5 must be in packing_n_features).
    sae_widths : tuple of int
        Dictionary widths of the fourth view's slider, each in [1, 32], increasing.
    sae_n_samples, sae_n_steps, sae_n_seeds : int
        Activations the SAEs train on, their Adam steps (lr 1e-2, batch 256) and seeds per
        width (the lowest final loss is kept).
    lr : float
        Learning rate of every toy model (AdamW, linear decay to 0, batch 1024).
    """

    neuron_sparsities: tuple[float, ...] = (
        0.0,
        0.3,
        0.5,
        0.6,
        0.7,
        0.8,
        0.85,
        0.9,
        0.93,
        0.95,
        0.97,
        0.99,
    )
    neuron_n_steps: int = 5000
    neuron_n_seeds: int = 4
    correlation_active: int = 4000
    correlation_max_samples: int = 500_000
    packing_n_features: tuple[int, ...] = (3, 4, 5, 6, 7, 8)
    packing_sparsities: tuple[float, ...] = (
        0.0,
        0.3,
        0.5,
        0.7,
        0.8,
        0.9,
        0.95,
        0.97,
        0.99,
        0.995,
        0.999,
    )
    packing_n_steps: int = 5000
    packing_n_seeds: int = 3
    sae_sparsity: float = 0.95
    sae_widths: tuple[int, ...] = (2, 3, 4, 5, 6, 7, 8)
    sae_n_samples: int = 20_000
    sae_n_steps: int = 3000
    sae_n_seeds: int = 8
    lr: float = 1e-2

    def __post_init__(self):
        for name in ("neuron_sparsities", "packing_sparsities"):
            values = tuple(
                check_real(s, f"{name}[{j}]", low=0.0, high=1.0, high_inclusive=False)
                for j, s in enumerate(_sequence(getattr(self, name), name))
            )
            if len(values) < 2 or any(b <= a for a, b in itertools.pairwise(values)):
                raise ValueError(
                    f"{name} must hold at least 2 increasing sparsities; got {values}."
                )
            object.__setattr__(self, name, values)
        ns = tuple(
            check_int(n, f"packing_n_features[{j}]", low=3, high=12)
            for j, n in enumerate(_sequence(self.packing_n_features, "packing_n_features"))
        )
        if not ns or any(b <= a for a, b in itertools.pairwise(ns)):
            raise ValueError(f"packing_n_features must be increasing and non-empty; got {ns}.")
        object.__setattr__(self, "packing_n_features", ns)
        for name in (
            "neuron_n_steps",
            "neuron_n_seeds",
            "packing_n_steps",
            "packing_n_seeds",
            "sae_n_steps",
            "sae_n_seeds",
        ):
            check_int(getattr(self, name), name, low=1)
        if 5 not in ns:
            raise ValueError(f"packing_n_features must include 5 (the SAE view's model); got {ns}.")
        check_real(self.sae_sparsity, "sae_sparsity", low=0.0, high=1.0, high_inclusive=False)
        if self.sae_sparsity not in self.packing_sparsities:
            raise ValueError(
                f"sae_sparsity must be one of packing_sparsities {self.packing_sparsities}; "
                f"got {self.sae_sparsity}."
            )
        widths = tuple(
            check_int(w, f"sae_widths[{j}]", low=1, high=32)
            for j, w in enumerate(_sequence(self.sae_widths, "sae_widths"))
        )
        if not widths or any(b <= a for a, b in itertools.pairwise(widths)):
            raise ValueError(f"sae_widths must be increasing and non-empty; got {widths}.")
        object.__setattr__(self, "sae_widths", widths)
        check_int(self.sae_n_samples, "sae_n_samples", low=100)
        check_int(self.correlation_active, "correlation_active", low=10)
        check_int(self.correlation_max_samples, "correlation_max_samples", low=100)
        check_real(self.lr, "lr", low=0.0, low_inclusive=False)

    def replace(self, **changes) -> LabConfig:
        """A copy with some fields changed (validated)."""
        return dataclasses.replace(self, **changes)


def quick_config() -> LabConfig:
    """The small configuration of ``csuper lab --quick`` (seconds; for tests and previews).

    Examples
    --------
    >>> cfg = quick_config()
    >>> len(cfg.neuron_sparsities), cfg.packing_n_features
    (5, (3, 4, 5, 6, 7, 8))
    """
    return LabConfig(
        neuron_sparsities=(0.0, 0.5, 0.8, 0.9, 0.99),
        neuron_n_steps=2000,
        neuron_n_seeds=2,
        correlation_active=500,
        correlation_max_samples=50_000,
        packing_sparsities=(0.0, 0.7, 0.95),
        packing_n_steps=3000,
        packing_n_seeds=3,
        sae_widths=(3, 5, 8),
        sae_n_samples=10_000,
        sae_n_steps=2000,
        sae_n_seeds=6,
    )


def neuron_regime(n_represented: int, n_polysemantic: int, n_dims: int) -> str:
    """The regime of a privileged-basis model (a key of :data:`REGIMES`).

    ``"superposition"`` when more features are represented than there are neurons
    (n_represented > n_dims), else ``"polysemantic"`` when some neuron is polysemantic, else
    ``"monosemantic"``.

    Examples
    --------
    >>> neuron_regime(5, 0, 5), neuron_regime(5, 1, 5), neuron_regime(8, 5, 5)
    ('monosemantic', 'polysemantic', 'superposition')
    """
    r = check_int(n_represented, "n_represented", low=0)
    q = check_int(n_polysemantic, "n_polysemantic", low=0)
    m = check_int(n_dims, "n_dims", low=1)
    if r > m:
        return "superposition"
    return "polysemantic" if q > 0 else "monosemantic"


def _round(x: Any, digits: int = 6) -> Any:
    """Plain JSON values: floats rounded to ``digits`` decimals, NaN as None, arrays as lists."""
    if isinstance(x, np.ndarray):
        return [_round(v, digits) for v in x.tolist()] if x.ndim else _round(x.item(), digits)
    if isinstance(x, dict):
        return {str(k): _round(v, digits) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_round(v, digits) for v in x]
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if isinstance(x, (int, np.integer)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        x = float(x)
        return None if not math.isfinite(x) else round(x, digits) + 0.0
    return x


def _settings(model: str, n_steps: int, lr: float) -> TrainSettings:
    return TrainSettings(model=model, n_steps=n_steps, lr=lr, schedule="linear")


def _model_row(model: ToyModel, r: int, W: np.ndarray, threshold: float) -> dict:
    """What every view records of instance r (with its weights W, rows possibly permuted)."""
    norms = feature_norms(W)
    p = float(model.feature_probability[r, 0])
    return {
        "sparsity": 1.0 - p,
        "feature_probability": p,
        "W": W,
        "b": model.b[r],
        "loss": model.final_loss[r],
        "seed": int(model.seeds[r]),
        "feature_norms": norms,
        "represented": norms > threshold,
        "n_represented": int(np.count_nonzero(norms > threshold)),
    }


def _neurons(config: LabConfig, gen: np.random.Generator, progress: bool) -> dict:
    n, m = NEURONS["n_features"], NEURONS["n_dims"]
    t = NEURONS["represented_threshold"]
    importance = NEURONS["importance_ratio"] ** np.arange(n)
    S = np.array(config.neuron_sparsities)
    p = 1.0 - S
    model = train(
        feature_distribution(n, p[:, None]),
        m,
        importance=importance,
        settings=_settings(NEURONS["model"], config.neuron_n_steps, config.lr),
        n_seeds=config.neuron_n_seeds,
        rng=gen,
        progress=progress,
    )
    rows = []
    bar = _bar(len(S), "correlations", progress)
    for r in range(len(S)):
        # hidden units are interchangeable (permuting the rows of W leaves the model's function
        # unchanged): list them by their strongest input feature, then by that weight
        W = model.W[r]
        W = W[np.lexsort((-W.max(axis=1), W.argmax(axis=1)))]
        n_samples = min(config.correlation_max_samples, math.ceil(config.correlation_active / p[r]))
        stats = neuron_polysemanticity(W, weight_threshold=t)
        row = _model_row(model, r, W, t)
        rows.append(
            {
                **row,
                "n_samples": n_samples,
                "correlation": neuron_feature_correlation(W, p[r], n_samples=n_samples, rng=gen),
                "features_per_neuron": stats.features_per_neuron,
                "monosemanticity": stats.monosemanticity,
                "polysemantic": stats.polysemantic,
                "n_polysemantic": stats.n_polysemantic,
                "regime": neuron_regime(row["n_represented"], stats.n_polysemantic, m),
            }
        )
        bar.update()
    bar.close()
    return {
        **NEURONS,
        "importance": importance,
        "n_steps": config.neuron_n_steps,
        "n_seeds": config.neuron_n_seeds,
        "regimes": REGIMES,
        "models": rows,
    }


def _packing(
    config: LabConfig, gen: np.random.Generator, progress: bool
) -> tuple[dict, dict[int, ToyModel]]:
    m, t = PACKING["n_dims"], PACKING["represented_threshold"]
    S = np.array(config.packing_sparsities)
    p = 1.0 - S
    settings = _settings(PACKING["model"], config.packing_n_steps, config.lr)
    grid, models = [], {}
    bar = _bar(len(config.packing_n_features), "packing models", progress)
    for n in config.packing_n_features:
        importance = PACKING["importance_ratio"] ** np.arange(n)
        model = train(
            feature_distribution(n, p[:, None]),
            m,
            importance=importance,
            settings=settings,
            n_seeds=config.packing_n_seeds,
            rng=gen,
        )
        rows = []
        for r in range(len(S)):
            W = model.W[r]
            rows.append(
                {
                    **_model_row(model, r, W, t),
                    "feature_dimensionality": feature_dimensionality(W),
                    "dimensions_per_feature": dimensions_per_feature(W),
                    "polytopes": [
                        {
                            "features": list(q.features),
                            "name": q.name,
                            "n_dims": q.n_dims,
                            "dimensionality": q.dimensionality,
                            "regular": q.regular,
                        }
                        for q in detect_polytopes(W, represented_threshold=t)
                    ],
                }
            )
        grid.append({"n_features": n, "importance": importance, "models": rows})
        models[n] = model
        bar.update()
    bar.close()
    view = {
        **PACKING,
        "n_features": list(config.packing_n_features),
        "sparsities": list(S),
        "n_steps": config.packing_n_steps,
        "n_seeds": config.packing_n_seeds,
        "fractions": {name: d / k for (k, d), name in POLYTOPE_NAMES.items() if d <= 2},
        "grid": grid,
    }
    return view, models


def _sae(config: LabConfig, model: ToyModel, gen: np.random.Generator, progress: bool) -> dict:
    r = config.packing_sparsities.index(config.sae_sparsity)
    data = toy_model_data(model, config.sae_n_samples, instance=r, rng=gen)
    X, F = data.X, data.dictionary
    active = np.any(data.codes > 0, axis=1)  # inputs with at least one active feature
    shown = gen.choice(np.flatnonzero(active), size=min(400, int(active.sum())), replace=False)
    settings = SAESettings(n_steps=config.sae_n_steps, lr=1e-2, batch_size=256)
    architectures = []
    bar = _bar(len(SAE_VIEW) * len(config.sae_widths), "sparse autoencoders", progress)
    for name, spec in SAE_VIEW.items():
        rows = []
        for width in config.sae_widths:
            sae = train_sae(X, width, name, **spec["knob"], settings=settings,
                            n_seeds=config.sae_n_seeds, rng=gen)  # fmt: skip
            q = int(np.argmin(sae.loss_history[:, -100:].mean(axis=1)))  # best of the seeds
            every = [
                recovery_rate(F, sae.W_dec[j], threshold=SAE_RECOVERED) == 1.0
                for j in range(sae.n_instances)
            ]
            codes = sae.encode(X)[q]
            cos = cosine_matrix(F, sae.W_dec[q])
            rows.append({
                "width": width,
                "seed": int(sae.seeds[q]),
                "loss": float(sae.loss_history[q, -100:].mean()),
                "W_dec": sae.W_dec[q],
                "b_dec": sae.b_dec[q],
                "best_cosine": cos.max(axis=1),
                "best_atom": cos.argmax(axis=1),
                "mmcs": mmcs_features(F, sae.W_dec[q]),
                "recovery_rate": recovery_rate(F, sae.W_dec[q], threshold=SAE_RECOVERED),
                "n_seeds_recovering": int(sum(every)),
                "dead_latents": dead_latents(codes),
                "l0": l0(codes[active]),
                "fvu": fraction_of_variance_unexplained(X, sae.reconstruct(X)[q]),
            })  # fmt: skip
            bar.update()
        architectures.append({"name": name, "label": spec["label"], "models": rows})
    bar.close()
    return {
        "n_features": model.n_features,
        "n_dims": model.n_dims,
        "sparsity": config.sae_sparsity,
        "W": model.W[r],
        "dictionary": F,
        "polytopes": [q.name for q in detect_polytopes(model.W[r])],
        "n_samples": config.sae_n_samples,
        "fraction_active": float(active.mean()),
        "points": X[shown].T,
        "n_steps": config.sae_n_steps,
        "n_seeds": config.sae_n_seeds,
        "widths": list(config.sae_widths),
        "recovered_threshold": SAE_RECOVERED,
        "architectures": architectures,
    }


class _NoBar:
    def update(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass


def _bar(total: int, desc: str, progress: bool):
    if not progress:
        return _NoBar()
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc)


def build_payload(config: LabConfig | None = None, *, rng=None, progress: bool = False) -> dict:
    """Train and measure the models behind the lab page; return its JSON-ready payload.

    Parameters
    ----------
    config : LabConfig, optional
        Default ``LabConfig()`` (``csuper lab``); :func:`quick_config` for a preview in seconds.
    rng : None, int or numpy.random.Generator
        Seeds of every model and of the correlation samples.
    progress : bool
        Show progress bars.

    Returns
    -------
    dict
        Keys ``format``, ``csuper_version``, ``config``, ``neurons``, ``interference``,
        ``packing`` and ``sae``; plain lists, ints, strings and floats rounded to 6 decimals
        (NaN as None), exactly what the page embeds.

    Notes
    -----
    First view: privileged-basis toy models h = ReLU(W x), x_hat = ReLU(W^T h + b) with
    n = 10, m = 5, I_i = 0.75^i (:data:`NEURONS`), one per sparsity, best of
    ``neuron_n_seeds``, neurons listed by their strongest input feature; per neuron the
    features with input weight above 0.5
    (:func:`csuper.toy.neuron_polysemanticity`) and the Pearson correlation of h_k with each
    x_i (:func:`neuron_feature_correlation`); the regime by :func:`neuron_regime`.
    Third view: ReLU-output models with m = 2, I_i = 0.9^i (:data:`PACKING`) for each n and
    sparsity, best of ``packing_n_seeds``; D_i (:func:`csuper.geometry.feature_dimensionality`)
    and the polytopes of :func:`csuper.toy.detect_polytopes`.
    Fourth view: sparse autoencoders of each width in ``sae_widths`` and each architecture of
    :data:`SAE_VIEW`, trained on the activations h = W x of the third view's n = 5 model at
    ``sae_sparsity`` (:func:`csuper.sae.toy_model_data`), the lowest-loss of ``sae_n_seeds``
    seeds; MMCS, recovery rate (best cosine > 0.9), dead latents, L0 (over inputs with an
    active feature) and FVU from :mod:`csuper.sae`.

    Examples
    --------
    Sparse data give superposition, and the sparse m = 2 model with n = 5 features is a
    pentagon (the dense model's regime, monosemantic or polysemantic, depends on the seed at
    this short training, so it is not shown):

    >>> cfg = quick_config().replace(
    ...     neuron_sparsities=(0.0, 0.99), neuron_n_steps=1000, neuron_n_seeds=1,
    ...     packing_n_features=(5,), packing_sparsities=(0.0, 0.99), packing_n_steps=1000,
    ...     packing_n_seeds=1, sae_sparsity=0.99, sae_widths=(5,), sae_n_steps=300)
    >>> payload = build_payload(cfg, rng=0)
    >>> payload["neurons"]["models"][1]["regime"]
    'superposition'
    >>> [p["name"] for p in payload["packing"]["grid"][0]["models"][1]["polytopes"]]
    ['pentagon']
    """
    from csuper import __version__

    config = LabConfig() if config is None else config
    if not isinstance(config, LabConfig):
        raise TypeError(f"config must be a LabConfig; got {type(config).__name__}.")
    gen = check_rng(rng)
    progress = check_bool(progress, "progress")
    payload = {
        "format": FORMAT,
        "csuper_version": __version__,
        "config": dataclasses.asdict(config),
        "neurons": _neurons(config, gen, progress),
        "interference": {"angle_deg": 45.0, "bias": 0.0, "bias_range": [-1.0, 1.0]},
    }
    payload["packing"], models = _packing(config, gen, progress)
    payload["sae"] = _sae(config, models[5], gen, progress)
    return _round(payload)
