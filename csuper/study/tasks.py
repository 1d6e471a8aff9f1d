"""The units of work of a study, as module-level functions of one picklable task dict.

Each task is self-contained (the configuration and its own integer seed travel with it), so it
runs identically in this process, in a local worker process or on a Dask worker. Its result is a
record of :mod:`csuper.study.records` (as a dict) that :class:`csuper._store.ResultStore` writes
as soon as it arrives.

:data:`TASKS` maps a task kind to its function and its cost estimate (the runner schedules the
longest tasks first); :data:`VARIANTS` maps a training variant to its settings.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from csuper._store import make_key
from csuper.study.config import StudyConfig, check_config
from csuper.study.records import (
    CapacityRecord,
    DecoderRecord,
    LegsRecord,
    LocatedRecord,
    ModelRecord,
    QuadraticCase,
    QuadraticRecord,
    ReplicateRecord,
    TransitionRecord,
)

__all__ = [
    "TASKS",
    "VARIANTS",
    "IMPORTANCE_ARMS",
    "CORRELATION_ARMS",
    "DECODER_ARMS",
    "TaskKind",
    "study_tasks",
    "run_task",
    "model_task",
    "transition_task",
    "quadratic_task",
]

#: Models whose weights are kept in their record (n * m at most this); larger ones keep the
#: per-feature measurements only.
MAX_STORED_WEIGHTS = 4096
#: Largest n for which the exact finite-n statistical dimension is estimated (Monte Carlo).
MAX_FINITE_N = 200


def _study_settings(cfg: StudyConfig):
    from csuper.toy import TrainSettings

    return TrainSettings(
        n_steps=cfg.n_steps, batch_size=cfg.batch_size, lr=cfg.lr, weight_decay=cfg.weight_decay
    )


def _no_weight_decay(cfg: StudyConfig):
    return dataclasses.replace(_study_settings(cfg), weight_decay=0.0)


def _notebook(cfg: StudyConfig):
    from csuper.toy import NOTEBOOK_SETTINGS

    return NOTEBOOK_SETTINGS


def _notebook_long(cfg: StudyConfig):
    from csuper.toy import NOTEBOOK_SETTINGS

    return dataclasses.replace(
        NOTEBOOK_SETTINGS, n_steps=NOTEBOOK_SETTINGS.n_steps * cfg.robustness_long_factor
    )


#: Training variants (name -> (description, settings of a config)); ``study`` trains every
#: question, the others only the robustness question (Q8).
VARIANTS: dict[str, tuple[str, Callable]] = {
    "study": ("the study's settings (n_steps, batch_size, lr, weight_decay)", _study_settings),
    "no_weight_decay": ("the study's settings with weight decay 0", _no_weight_decay),
    "notebook": (
        "the reference notebook's settings (10,000 steps of 1024, AdamW lr 1e-3, wd 1e-2)",
        _notebook,
    ),
    "notebook_long": (
        "the notebook's settings trained robustness_long_factor times longer",
        _notebook_long,
    ),
}


def _constant(n: int, cfg: StudyConfig, alpha: float) -> np.ndarray:
    return np.ones(n)


def _power_law(n: int, cfg: StudyConfig, alpha: float) -> np.ndarray:
    return (np.arange(n) + 1.0) ** -alpha


#: Importance arms (name -> I(n, config, alpha)).
IMPORTANCE_ARMS: dict[str, Callable] = {"constant": _constant, "decaying": _power_law}


def _independent(n: int) -> tuple[list, list]:
    return [], []


def _correlated(n: int) -> tuple[list, list]:
    return [[i, i + 1] for i in range(0, n, 2)], []


def _anticorrelated(n: int) -> tuple[list, list]:
    return [], [[i, i + 1] for i in range(0, n, 2)]


#: Correlation arms (name -> (correlated groups, anticorrelated groups) of n features); the
#: groups are the pairs (0, 1), (2, 3), ... (Elhage et al. 2022, section 7).
CORRELATION_ARMS: dict[str, Callable] = {
    "independent": _independent,
    "correlated": _correlated,
    "anticorrelated": _anticorrelated,
}

#: Steps of the ISTA decoder (from the model's read-out) in the decoder-gap question.
ISTA_STEPS = 3

#: Decoder arms of the decoder-gap question: name -> (decoders, on the represented features
#: only, with noise).
DECODER_ARMS: dict[str, tuple[tuple[str, ...], bool, bool]] = {
    "noiseless": (("relu", "relu_refit", "gaussian_relu", "ista", "nnbp"), False, False),
    "represented": (("nnbp", "nnbp_gaussian"), True, False),
    "noisy": (("relu", "ista", "lasso"), False, True),
}


def _model_spec(
    group,
    arm,
    n,
    m,
    p,
    *,
    importance_alpha=1.0,
    correlation="independent",
    variant="study",
    decoders=False,
    capacity=False,
) -> dict:
    return {
        "kind": "model",
        "group": group,
        "arm": arm,
        "n_features": int(n),
        "n_dims": int(m),
        "feature_probability": float(p),
        "importance_alpha": float(importance_alpha),
        "correlation": correlation,
        "variant": variant,
        "decoders": bool(decoders),
        "capacity": bool(capacity),
    }


def study_tasks(config: StudyConfig) -> list[dict[str, Any]]:
    """Every task of a study, each with its key, its own seed and the configuration.

    Seeds are children of ``config.seed`` by position (:func:`csuper.executor.spawn_seeds`), so
    a task's result depends on the configuration alone.
    """
    from csuper.compare import RELU_MODEL_MAX_PROBABILITY, SWEEP_PARAMETERS
    from csuper.executor import spawn_seeds

    cfg = check_config(config)
    specs = []
    for arm in IMPORTANCE_ARMS:
        for n in cfg.scaling_n_features:
            for m in cfg.scaling_n_dims:
                for k in cfg.scaling_k:
                    p = k / n
                    specs.append(
                        _model_spec(
                            "scaling",
                            arm,
                            n,
                            m,
                            p,
                            importance_alpha=cfg.scaling_importance_alpha,
                            decoders=arm == "constant" and n <= cfg.decoder_max_features,
                            capacity=arm == "decaying" and p <= RELU_MODEL_MAX_PROBABILITY,
                        )
                    )
    for s in cfg.sparsity_sparsities:
        n = cfg.sparsity_n_features
        specs.append(
            _model_spec(
                "sparsity",
                "constant",
                n,
                cfg.sparsity_n_dims,
                1.0 - s,
                decoders=n <= cfg.decoder_max_features,
            )
        )
    for m in cfg.size_n_dims:
        p = cfg.size_feature_probability
        specs.append(
            _model_spec(
                "size",
                "decaying",
                cfg.size_features_per_dim * m,
                m,
                p,
                importance_alpha=cfg.size_importance_alpha,
                capacity=p <= RELU_MODEL_MAX_PROBABILITY,
            )
        )
    for corr in CORRELATION_ARMS:
        specs.append(
            _model_spec(
                "correlation",
                "constant",
                cfg.correlation_n_features,
                cfg.correlation_n_dims,
                cfg.correlation_feature_probability,
                correlation=corr,
            )
        )
    for s in cfg.robustness_sparsities:
        for variant in cfg.robustness_variants:
            specs.append(
                _model_spec(
                    "robustness",
                    "constant",
                    cfg.robustness_n_features,
                    cfg.robustness_n_dims,
                    1.0 - s,
                    variant=variant,
                )
            )
    specs += [{"kind": "transition", "parameter": name} for name in SWEEP_PARAMETERS]
    specs.append({"kind": "quadratic"})
    seeds = spawn_seeds(cfg.seed, len(specs))
    data = cfg.to_dict()
    return [
        {**spec, "key": make_key(**spec), "seed": seed, "config": data}
        for spec, seed in zip(specs, seeds)
    ]


def run_task(task: dict[str, Any], numba_threads: int | None = None) -> dict[str, Any]:
    """Run one task of :func:`study_tasks`; returns its record as a dict (with ``seconds``).

    ``numba_threads`` limits the numba threads of training in this thread (numba's setting is
    thread-local and restored afterwards): 1 in worker processes, which already run in parallel;
    None leaves numba's default (every core) for the serial path. Results are identical either
    way (:func:`csuper.toy.train`).
    """
    import numba

    kind = TASKS[task["kind"]]
    previous = numba.get_num_threads()
    start = time.perf_counter()
    try:
        if numba_threads is not None:
            numba.set_num_threads(min(numba_threads, numba.config.NUMBA_NUM_THREADS))
        record = kind.run(task, time.perf_counter)
    finally:
        numba.set_num_threads(previous)
    out = dataclasses.asdict(record)
    out["seconds"] = time.perf_counter() - start
    return out


def _mse_overlap(W: np.ndarray, rep: np.ndarray) -> tuple[float | None, float | None]:
    """Mean squared cosine among the represented features and its Welch value."""
    from csuper.geometry import mean_squared_overlap

    r, m = int(rep.sum()), W.shape[0]
    if r < 2:
        return None, None
    welch = max(0.0, (r - m) / (m * (r - 1)))
    return float(mean_squared_overlap(W[:, rep])), welch


def _group_cosines(W, rep, groups) -> tuple[float | None, float | None]:
    cos = []
    for g in groups:
        i, j = g
        if rep[i] and rep[j]:
            wi, wj = W[:, i], W[:, j]
            cos.append(float(wi @ wj / (np.linalg.norm(wi) * np.linalg.norm(wj))))
    if not cos:
        return None, None
    c = np.array(cos)
    return float(np.mean(c**2)), float(np.mean(c))


def _capacity(model, r, importance, threshold, gen) -> CapacityRecord:
    from csuper.compare import CAPACITY_BASELINES, capacity_agreement, compare_capacities

    comp = compare_capacities(model, r, represented_threshold=threshold)
    rep = comp.norm > threshold
    mae = {}
    for name, (_, fn) in CAPACITY_BASELINES.items():
        draws = 20 if name == "permuted" else 1
        vals = [
            capacity_agreement(
                comp.learned, fn(comp.predicted, importance, model.n_dims, gen), represented=rep
            )["mae_represented"]
            for _ in range(draws)
        ]
        mae[name] = float(np.mean(vals))
    s = comp.summary()
    rho = s["spearman"]
    return CapacityRecord(
        predicted=comp.predicted.tolist(),
        shadow_price=float(comp.allocation.shadow_price),
        spearman=None if not np.isfinite(rho) else float(rho),
        mae=mae,
        class_agreement=float(s["agreement"]),
    )


def _decoders(W, b, p, cfg: StudyConfig, rep, gen) -> list[DecoderRecord]:
    from csuper.compare import decoder_gap

    out = []
    for arm, (names, represented_only, noisy) in DECODER_ARMS.items():
        features = np.flatnonzero(rep) if represented_only else None
        if features is not None and features.size == 0:
            continue
        res = decoder_gap(
            W,
            b,
            p,
            n_samples=cfg.decoder_n_samples,
            n_fit_samples=cfg.decoder_n_fit_samples,
            decoders=names,
            features=features,
            noise_level=cfg.decoder_noise_level if noisy else 0.0,
            ista_n_iter=ISTA_STEPS,
            rng=gen,
        )
        for s in res.scores:
            out.append(
                DecoderRecord(
                    arm=arm,
                    decoder=s.decoder,
                    relative_mse=s.relative_mse,
                    relative_mse_se=s.relative_mse_se,
                    exact_rate=s.exact_rate,
                    exact_se=s.exact_se,
                    n_samples=s.n_samples,
                    n_failed=s.n_failed,
                    by_active=list(s.by_active),
                )
            )
    return out


def _finite_n_threshold(n: int, k: float, gen) -> tuple[float | None, float | None]:
    """The exact statistical dimension at (n, k) by Monte Carlo, linear between the integers
    around a real k (None above :data:`MAX_FINITE_N`)."""
    from csuper.compare import statistical_dimension_monte_carlo

    if n > MAX_FINITE_N:
        return None, None
    lo, hi = int(np.floor(k)), int(np.ceil(k))
    a = statistical_dimension_monte_carlo(n, lo, nonnegative=True, n_samples=4000, rng=gen)
    if hi == lo:
        return a.value, a.se
    b = statistical_dimension_monte_carlo(n, hi, nonnegative=True, n_samples=4000, rng=gen)
    t = k - lo
    return (1 - t) * a.value + t * b.value, (1 - t) * a.se + t * b.se


def model_task(task: dict[str, Any], clock: Callable[[], float] = time.perf_counter) -> ModelRecord:
    """Train one model configuration with ``n_seeds`` replicates and measure each replicate."""
    from csuper.compare import nonnegative_threshold, recovered_features
    from csuper.geometry import feature_dimensionality
    from csuper.toy import dimensions_per_feature, feature_distribution, train

    start = clock()
    cfg = StudyConfig.from_dict(task["config"])
    n, m, p = task["n_features"], task["n_dims"], task["feature_probability"]
    R = cfg.n_seeds
    gen = np.random.default_rng(task["seed"])
    seeds = gen.integers(0, 2**63, size=R)
    importance = IMPORTANCE_ARMS[task["arm"] if task["arm"] in IMPORTANCE_ARMS else "constant"](
        n, cfg, task["importance_alpha"]
    )
    corr, anti = CORRELATION_ARMS[task["correlation"]](n)
    dist = feature_distribution(n, np.full((R, n), p), correlated=corr, anticorrelated=anti)
    # the correlation question compares the same pairs (0, 1), (2, 3), ... in every arm
    pairs = _correlated(n)[0] if task["group"] == "correlation" else []
    settings = VARIANTS[task["variant"]][1](cfg)
    model = train(dist, m, importance=importance, settings=settings, seeds=seeds)
    replicates = []
    for r in range(R):
        W, b = model.W[r], model.b[r]
        norms = np.linalg.norm(W, axis=0)
        rep = norms > cfg.represented_threshold
        rec = recovered_features(
            W, b, p, min_explained_variance=cfg.min_explained_variance, rng=gen
        )
        mso, welch = _mse_overlap(W, rep)
        gsq, gcos = _group_cosines(W, rep, pairs)
        replicates.append(
            ReplicateRecord(
                seed=int(seeds[r]),
                final_loss=float(model.final_loss[r]),
                norms=norms.tolist(),
                dimensionality=feature_dimensionality(W).tolist(),
                explained_variance=rec.explained_variance.tolist(),
                represented=int(rep.sum()),
                recovered=rec.count,
                dimensions_per_feature=float(dimensions_per_feature(W)) if np.any(W) else 0.0,
                mean_squared_overlap=mso,
                welch=welch,
                group_squared_cosine=gsq,
                group_cosine=gcos,
                capacity=(
                    _capacity(model, r, importance, cfg.represented_threshold, gen)
                    if task["capacity"]
                    else None
                ),
                decoders=_decoders(W, b, p, cfg, rep, gen) if task["decoders"] else [],
                W=W.tolist() if n * m <= MAX_STORED_WEIGHTS else None,
                b=b.tolist() if n * m <= MAX_STORED_WEIGHTS else None,
            )
        )
    k = n * p
    mc, mc_se = _finite_n_threshold(n, k, gen)
    cap = m / float(nonnegative_threshold(1.0, p))  # continuous CS capacity m / psi(p)
    return ModelRecord(
        key=task["key"],
        group=task["group"],
        arm=task["arm"],
        n_features=n,
        n_dims=m,
        feature_probability=p,
        k=k,
        importance=importance.tolist(),
        groups=[list(g) for g in corr + anti],
        correlation=task["correlation"],
        variant=task["variant"],
        settings=dataclasses.asdict(settings),
        threshold=float(nonnegative_threshold(float(n), k)),
        cs_capacity=cap,
        threshold_mc=mc,
        threshold_mc_se=mc_se,
        replicates=replicates,
        seconds=clock() - start,
    )


def transition_task(
    task: dict[str, Any], clock: Callable[[], float] = time.perf_counter
) -> TransitionRecord:
    """Bracket and bisect both transitions of one sweep parameter, then run warm legs up and
    down; the legs for the own-direction transition start above the located ignored-to-
    superposed transition, where the feature is alive."""
    from csuper.compare import TRANSITIONS, hysteresis_legs, locate_transition, transition_scan
    from csuper.study.questions import MONOSEMANTIC_ABOVE

    start = clock()
    cfg = StudyConfig.from_dict(task["config"])
    parameter = task["parameter"]
    lo, hi = cfg.transition_importance if parameter == "importance" else cfg.transition_probability
    grid = np.geomspace(lo, hi, cfg.transition_n_points)
    gen = np.random.default_rng(task["seed"])
    common = dict(
        parameter=parameter,
        feature=0,
        feature_probability=1.0 - cfg.transition_sparsity,
        settings=_study_settings(cfg),
        n_seeds=cfg.transition_n_seeds,
        monosemantic_above=MONOSEMANTIC_ABOVE,
        represented_threshold=cfg.represented_threshold,
    )
    n, m = cfg.transition_n_features, cfg.transition_n_dims
    scan = transition_scan(n, m, grid, rng=gen, **common)
    located = {
        t: locate_transition(
            n,
            m,
            grid,
            transition=t,
            scan=scan,
            n_bisections=cfg.transition_n_bisections,
            rng=gen,
            **common,
        )
        for t in TRANSITIONS
    }
    legs = []
    for t in TRANSITIONS:
        values = grid
        if t == "superposed_to_own":
            below = located["ignored_to_superposed"]
            if below.bracketed:
                values = np.concatenate([[below.high], grid[grid > below.high]])
            elif not scan.best_higher("ignored_to_superposed")[0]:
                continue  # the feature never gets a direction: no live state to start from
        if values.size < 2:
            continue
        h = hysteresis_legs(n, m, values, revive_norm=cfg.transition_revive_norm, rng=gen, **common)
        up, down = h.bracket(t, "up"), h.bracket(t, "down")
        legs.append(
            LegsRecord(
                transition=t,
                values=values.tolist(),
                up=h.fraction_higher(t, "up").tolist(),
                down=h.fraction_higher(t, "down").tolist(),
                up_bracket=None if np.isnan(up[0]) else list(up),
                down_bracket=None if np.isnan(down[0]) else list(down),
                detected=h.detected(t),
                n_chains=cfg.transition_n_seeds,
                revive_norm=cfg.transition_revive_norm,
            )
        )

    def finite(x: float) -> float | None:
        return float(x) if np.isfinite(x) else None

    return TransitionRecord(
        key=task["key"],
        parameter=parameter,
        n_features=n,
        n_dims=m,
        sparsity=cfg.transition_sparsity,
        values=grid.tolist(),
        learned_capacity=scan.learned_capacity.tolist(),
        norm=scan.norm.tolist(),
        final_loss=scan.final_loss.tolist(),
        predicted_capacity=scan.predicted_capacity.tolist(),
        located=[
            LocatedRecord(
                transition=t,
                bracketed=loc.bracketed,
                low=finite(loc.low),
                high=finite(loc.high),
                predicted=finite(loc.predicted),
                reason=loc.reason,
                evaluated=list(loc.evaluated),
            )
            for t, loc in located.items()
        ],
        legs=legs,
        seconds=clock() - start,
    )


def quadratic_task(
    task: dict[str, Any], clock: Callable[[], float] = time.perf_counter
) -> QuadraticRecord:
    """Train quadratic models (Scherlis et al.) and compare them with their allocation: for each
    kurtosis, ``n_seeds`` importance vectors v_i ~ U(0.1, 1)."""
    from csuper.compare import quadratic_allocation, quadratic_model_loss, train_quadratic_model
    from csuper.geometry import feature_dimensionality

    start = clock()
    cfg = StudyConfig.from_dict(task["config"])
    gen = np.random.default_rng(task["seed"])
    n, m = cfg.capacity_quadratic_n_features, cfg.capacity_quadratic_n_dims
    cases = []
    for K in cfg.capacity_quadratic_kurtosis:
        for _ in range(cfg.n_seeds):
            v = np.sort(gen.uniform(0.1, 1.0, n))[::-1]
            alloc = quadratic_allocation(v, K, m)
            W = train_quadratic_model(v, K, m, n_restarts=4, rng=gen)
            cases.append(
                QuadraticCase(
                    kurtosis=float(K),
                    importance=v.tolist(),
                    predicted=alloc.capacity.tolist(),
                    learned=feature_dimensionality(W).tolist(),
                    loss_trained=quadratic_model_loss(W, v, K),
                    loss_predicted=alloc.loss,
                )
            )
    return QuadraticRecord(
        key=task["key"], n_features=n, n_dims=m, cases=cases, seconds=clock() - start
    )


def _model_cost(task: dict, cfg: StudyConfig) -> float:
    s = VARIANTS[task["variant"]][1](cfg)
    work = s.n_steps * s.batch_size * task["n_features"] * task["n_dims"] * cfg.n_seeds
    return float(work) * (1.5 if task["decoders"] else 1.0)


def _transition_cost(task: dict, cfg: StudyConfig) -> float:
    per = cfg.n_steps * cfg.batch_size * cfg.transition_n_features * cfg.transition_n_dims
    points = cfg.transition_n_points
    trainings = cfg.transition_n_seeds * (points + 2 * cfg.transition_n_bisections + 4 * points)
    return float(per * trainings)


def _quadratic_cost(task: dict, cfg: StudyConfig) -> float:
    return 1e6 * len(cfg.capacity_quadratic_kurtosis) * cfg.n_seeds


@dataclass(frozen=True)
class TaskKind:
    """A kind of task: its function (task -> record) and a cost estimate in the units of
    n_steps * batch_size * n * m (the runner schedules the longest first)."""

    run: Callable
    cost: Callable


#: Task kinds (name -> :class:`TaskKind`): the only place that maps a kind to its function.
TASKS: dict[str, TaskKind] = {
    "model": TaskKind(model_task, _model_cost),
    "transition": TaskKind(transition_task, _transition_cost),
    "quadratic": TaskKind(quadratic_task, _quadratic_cost),
}


def task_cost(task: dict[str, Any]) -> float:
    """Estimated cost of a task (see :class:`TaskKind`)."""
    return TASKS[task["kind"]].cost(task, StudyConfig.from_dict(task["config"]))
