"""The units of work of a study, as module-level functions of one picklable task dict.

Each task is self-contained (its configuration and its own integer seed travel with it), so it
runs identically in this process, in a local worker process or on a Dask worker, and its result
is a JSON-ready record that :class:`csuper._store.ResultStore` writes as soon as it arrives.

- :func:`model_task`: train one toy model (best of several seeds) at one (m, S) and run the
  scaling, decoder-gap and capacity comparisons on it.
- :func:`transition_task`: sweep feature 0's importance or probability from cold and warm starts.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from csuper._store import make_key
from csuper.study.config import StudyConfig, check_config

__all__ = ["study_tasks", "model_task", "transition_task", "run_task", "TRANSITION_PARAMETERS"]

#: The two transition sweeps of a study: parameter of feature 0 -> config field of its range.
TRANSITION_PARAMETERS = {
    "importance": "transition_importance",
    "feature_probability": "transition_probability",
}


def study_tasks(config: StudyConfig) -> list[dict[str, Any]]:
    """Every task of a study, in report order, each with its key and its own seed.

    Seeds are children of ``config.seed`` by position (:func:`csuper.executor.spawn_seeds`), so
    a task's result depends on the configuration alone.
    """
    from csuper.executor import spawn_seeds

    config = check_config(config)
    specs = [
        {"kind": "model", "n_dims": m, "sparsity": s}
        for m in config.n_dims
        for s in config.sparsities
    ]
    specs += [{"kind": "transition", "parameter": name} for name in TRANSITION_PARAMETERS]
    seeds = spawn_seeds(config.seed, len(specs))
    cfg = config.to_dict()
    return [
        {**spec, "key": make_key(**spec), "seed": seed, "config": cfg}
        for spec, seed in zip(specs, seeds)
    ]


def run_task(task: dict[str, Any], numba_threads: int | None = None) -> dict[str, Any]:
    """Run one task of :func:`study_tasks`; returns its record (with ``seconds`` taken).

    ``numba_threads`` limits the numba threads of training in this thread (numba's setting is
    thread-local and restored afterwards): 1 in worker processes, which already run in parallel;
    None leaves numba's default (every core) for the serial path. Results are identical either
    way (:func:`csuper.toy.train`).
    """
    import numba

    fn = model_task if task["kind"] == "model" else transition_task
    previous = numba.get_num_threads()
    start = time.perf_counter()
    try:
        if numba_threads is not None:
            numba.set_num_threads(min(numba_threads, numba.config.NUMBA_NUM_THREADS))
        record = fn(task)
    finally:
        numba.set_num_threads(previous)
    record["seconds"] = time.perf_counter() - start
    return record


def _settings(cfg: dict):
    from csuper.toy import TrainSettings

    return TrainSettings(n_steps=cfg["n_steps"], batch_size=cfg["batch_size"], lr=cfg["lr"])


def _importance(cfg: dict) -> np.ndarray:
    from csuper.toy import importance_profile

    return importance_profile(
        cfg["n_features"],
        cfg["importance"],
        ratio=cfg["importance_ratio"],
        alpha=cfg["importance_alpha"],
    )


def model_task(task: dict[str, Any]) -> dict[str, Any]:
    """Train the model of one (m, S) point and compare it with compressed sensing and capacity.

    Returns
    -------
    dict
        ``n_dims``, ``sparsity``, ``feature_probability``, ``W`` (m x n list), ``b``,
        ``importance``, ``final_loss``, ``scaling`` (:class:`csuper.compare.ScalingPoint` fields),
        ``decoders`` (:meth:`csuper.compare.DecoderGapResult.to_records`), ``frame_coherence``,
        ``capacity`` (per-feature table) and ``capacity_summary``.
    """
    from csuper.compare import compare_capacities, decoder_gap, scaling_point
    from csuper.toy import feature_distribution, train

    cfg = task["config"]
    n, m, p = cfg["n_features"], task["n_dims"], 1.0 - task["sparsity"]
    train_seq, gap_seq = np.random.SeedSequence(task["seed"]).spawn(2)
    importance = _importance(cfg)
    model = train(
        feature_distribution(n, p),
        m,
        importance=importance,
        settings=_settings(cfg),
        n_seeds=cfg["n_seeds"],
        rng=np.random.default_rng(train_seq),
    )
    W, b = model.W[0], model.b[0]
    point = scaling_point(W, p)
    gap = decoder_gap(
        W,
        b,
        p,
        n_samples=cfg["decoder_n_samples"],
        decoders=cfg["decoders"],
        rng=np.random.default_rng(gap_seq),
    )
    cap = compare_capacities(model)
    return {
        "kind": "model",
        "n_dims": m,
        "sparsity": task["sparsity"],
        "feature_probability": p,
        "W": W.tolist(),
        "b": b.tolist(),
        "importance": importance.tolist(),
        "final_loss": float(model.final_loss[0]),
        "scaling": {**point.__dict__, "two_klogk": point.two_klogk},
        "decoders": gap.to_records(),
        "frame_coherence": {k: float(v) for k, v in gap.frame_coherence.items()},
        "capacity": cap.table(),
        "capacity_summary": cap.summary(),
    }


def transition_task(task: dict[str, Any]) -> dict[str, Any]:
    """Sweep feature 0's importance or probability from cold and warm starts.

    Returns
    -------
    dict
        ``parameter``, ``values``, the sweep's tidy ``table``, its ``transitions`` (learned
        against predicted, with hysteresis) and the series needed to redraw it (``series``).
    """
    from csuper.compare import feature_transition_sweep

    cfg = task["config"]
    lo, hi = cfg[TRANSITION_PARAMETERS[task["parameter"]]]
    values = np.geomspace(lo, hi, cfg["transition_n_points"])
    sweep = feature_transition_sweep(
        cfg["transition_n_features"],
        cfg["transition_n_dims"],
        values,
        parameter=task["parameter"],
        feature=0,
        feature_probability=1.0 - cfg["transition_sparsity"],
        settings=_settings(cfg),
        n_seeds=cfg["transition_n_seeds"],
        rng=np.random.default_rng(task["seed"]),
        start="both",
    )
    warm = sweep.warm
    assert warm is not None  # start="both" runs the warm legs
    series = {
        "values": sweep.values.tolist(),
        "learned_capacity": sweep.learned_capacity.tolist(),
        "norm": sweep.norm.tolist(),
        "final_loss": sweep.final_loss.tolist(),
        "predicted_capacity": sweep.predicted_capacity.tolist(),
        "prediction_grid": sweep.prediction_grid.tolist(),
        "prediction_curve": sweep.prediction_curve.tolist(),
        "monosemantic_above": sweep.monosemantic_above,
        "represented_threshold": sweep.represented_threshold,
        "warm": {
            d: {
                **{f: warm[d][f].tolist() for f in ("learned_capacity", "norm", "final_loss")},
                "bias": warm[d]["b"][:, 0].tolist(),
            }
            for d in ("up", "down")
        },
        # E[x_0] = p_0 / 2 (uniform magnitudes): what a feature without a direction predicts
        "mean_x0": (
            0.5
            * (
                values
                if task["parameter"] == "feature_probability"
                else np.full_like(values, 1.0 - cfg["transition_sparsity"])
            )
        ).tolist(),
    }
    return {
        "kind": "transition",
        "parameter": task["parameter"],
        "feature": 0,
        "table": sweep.table(),
        "transitions": sweep.transitions(),
        "series": series,
    }
