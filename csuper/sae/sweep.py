"""Resumable SAE sweeps: recovery over widths x sparsity coefficients x seeds, and the
amortisation-gap curve over the number of features, through :mod:`csuper.executor`.

Every task carries its own integer seeds, so results do not depend on where it ran; finished
tasks are appended to the folder's ``records.jsonl`` (:class:`csuper._store.ResultStore`) and a
rerun with the same configuration runs only what is missing.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from csuper._validation import check_bool, check_int, check_real
from csuper.sae.data import (
    DICTIONARIES,
    MAGNITUDES,
    PROBABILITY_PROFILES,
    code_law,
    ground_truth_dictionary,
    make_data,
)
from csuper.sae.inference import _m_star, amortisation_gap
from csuper.sae.metrics import (
    code_mcc,
    dead_latents,
    decoder_mcc,
    fraction_of_variance_unexplained,
    l0,
    mmcs_atoms,
    mmcs_features,
    recovery_rate,
    relative_reconstruction_bias,
)
from csuper.sae.train import ARCHITECTURES, SAESettings, train_sae

__all__ = ["SweepConfig", "SweepResult", "sweep_tasks", "run_task", "run_sweep", "EXPERIMENT"]

#: Experiment name in a sweep folder's ``header.json``.
EXPERIMENT = "csuper.sae.sweep"


@dataclass(frozen=True)
class SweepConfig:
    """What :func:`run_sweep` trains and measures.

    Attributes
    ----------
    n_features, n_dims, k : int, int, float
        True features n, dimensions m, expected active features per sample.
    dictionary, profile, magnitude : str
        Keys of :data:`~csuper.sae.DICTIONARIES` (random kinds only), :data:`PROBABILITY_PROFILES`,
        :data:`MAGNITUDES`.
    fixed_k : bool
        Exactly k features per sample.
    n_samples, n_test : int
        Training samples and held-out samples for the metrics.
    architecture : str
        Key of :data:`~csuper.sae.ARCHITECTURES` of the recovery sweep.
    widths : tuple of int
    coefficients : tuple of float
        Sparsity coefficients (ReLU + L1, JumpReLU) or k values (TopK, BatchTopK).
    n_seeds, n_steps, batch_size : int
    lr : float
    gap_n_features : tuple of int
        The amortisation-gap curve: n for fixed m and k = ``gap_k`` (a TopK SAE of width n and
        k = round(gap_k) each, against basis pursuit, LASSO and FISTA), so that m / m* crosses 1.
    gap_k : float
        Expected active features of the gap curve's data.
    gap_lam, gap_n_iter : float, int
        LASSO weight and FISTA iterations of the gap curve.
    seed : int
        Root seed of the data and of every task.
    """

    n_features: int = 24
    n_dims: int = 12
    k: float = 2.0
    dictionary: str = "gaussian"
    profile: str = "constant"
    magnitude: str = "uniform"
    fixed_k: bool = False
    n_samples: int = 4096
    n_test: int = 512
    architecture: str = "relu_l1"
    widths: tuple = (12, 24, 48)
    coefficients: tuple = (0.01, 0.03, 0.1, 0.3)
    n_seeds: int = 3
    n_steps: int = 2000
    batch_size: int = 128
    lr: float = 3e-3
    gap_n_features: tuple = (8, 16, 32, 64, 128)
    gap_k: float = 4.0
    gap_lam: float = 1e-3
    gap_n_iter: int = 10
    seed: int = 0

    def __post_init__(self):
        n = check_int(self.n_features, "n_features", low=2)
        check_int(self.n_dims, "n_dims", low=1)
        check_real(self.k, "k", low=0.0, high=float(n), low_inclusive=False)
        for name, registry in (
            ("dictionary", set(DICTIONARIES) - {"known"}),
            ("profile", PROBABILITY_PROFILES),
            ("magnitude", MAGNITUDES),
            ("architecture", ARCHITECTURES),
        ):
            value = getattr(self, name)
            if not isinstance(value, str) or value not in registry:
                raise ValueError(f"{name} must be one of {sorted(registry)}; got {value!r:.80}.")
        check_bool(self.fixed_k, "fixed_k")
        check_int(self.n_samples, "n_samples", low=1)
        check_int(self.n_test, "n_test", low=2)
        for name in ("widths", "coefficients", "gap_n_features"):
            v = getattr(self, name)
            if isinstance(v, (str, bytes)) or not isinstance(v, Iterable):
                raise TypeError(f"{name} must be a sequence of numbers; got {v!r:.80}.")
            object.__setattr__(self, name, tuple(v))
        if not self.widths or not self.coefficients:
            raise ValueError("widths and coefficients must be non-empty.")
        for w in self.widths:
            check_int(w, "widths", low=1)
        for c in self.coefficients:
            if ARCHITECTURES[self.architecture]["knob"] == "k":
                check_int(c, "coefficients (k values)", low=1, high=min(self.widths))
            else:
                check_real(c, "coefficients", low=0.0)
        check_real(self.gap_k, "gap_k", low=0.0, low_inclusive=False)
        for g in self.gap_n_features:
            check_int(g, "gap_n_features", low=max(2, int(np.ceil(self.gap_k))))
        for name in ("widths", "coefficients", "gap_n_features"):
            values = getattr(self, name)
            if len(set(values)) < len(values):  # each is one task, stored once
                raise ValueError(f"{name} must be distinct values; got {list(values)!r:.80}.")
        check_int(self.n_seeds, "n_seeds", low=1)
        SAESettings(n_steps=self.n_steps, batch_size=self.batch_size, lr=self.lr)
        check_real(self.gap_lam, "gap_lam", low=0.0)
        check_int(self.gap_n_iter, "gap_n_iter", low=1)
        check_int(self.seed, "seed", low=0)

    def to_dict(self) -> dict:
        return {
            f.name: (list(v) if isinstance(v := getattr(self, f.name), tuple) else v)
            for f in dataclasses.fields(self)
        }

    def settings(self) -> SAESettings:
        return SAESettings(n_steps=self.n_steps, batch_size=self.batch_size, lr=self.lr)


def _data(config: SweepConfig, n_features: int, salt: int, k: float):
    """Training and held-out data for n_features (deterministic in config.seed and salt)."""
    rng = np.random.default_rng([config.seed, salt, n_features])
    F = ground_truth_dictionary(config.dictionary, n_features, config.n_dims, rng=rng)
    law = code_law(
        n_features, k, profile=config.profile, magnitude=config.magnitude, fixed_k=config.fixed_k
    )
    return make_data(F, law, config.n_samples, rng=rng), make_data(F, law, config.n_test, rng=rng)


def sweep_tasks(config: SweepConfig) -> list[dict]:
    """The sweep's tasks: one per width (recovery) and one per n of the gap curve."""
    if not isinstance(config, SweepConfig):
        raise TypeError(f"config must be a SweepConfig; got {type(config).__name__}.")
    tasks = [{"kind": "recovery", "width": int(w)} for w in config.widths]
    tasks += [{"kind": "gap", "n_features": int(n)} for n in config.gap_n_features]
    return tasks


def _seeds(config: SweepConfig, task: dict, count: int) -> list[int]:
    ss = np.random.SeedSequence([config.seed, 7, task.get("width", 0), task.get("n_features", 0)])
    return [int(s.generate_state(1, np.uint64)[0] >> np.uint64(1)) for s in ss.spawn(count)]


def run_task(payload: tuple[dict, dict]) -> dict:
    """Run one task (picklable entry point for :mod:`csuper.executor`); returns its record."""
    if (
        not isinstance(payload, (tuple, list))
        or len(payload) != 2
        or not all(isinstance(part, dict) for part in payload)
    ):
        raise TypeError(
            "payload must be a pair (config dict, task dict) as run_sweep builds it; got "
            f"{payload!r:.80}."
        )
    cfg_dict, task = payload
    config = SweepConfig(**cfg_dict)
    if task not in sweep_tasks(config):
        raise ValueError(f"payload's task must be one of sweep_tasks(config); got {task!r:.80}.")
    if task["kind"] == "recovery":
        train, test = _data(config, config.n_features, 0, config.k)
        knob = ARCHITECTURES[config.architecture]["knob"]
        vals = list(config.coefficients)
        sae = train_sae(
            train.X,
            task["width"],
            config.architecture,
            sparsity_coefficient=None if knob == "k" else vals,
            k=[int(v) for v in vals] if knob == "k" else None,
            settings=config.settings(),
            n_seeds=config.n_seeds,
            seeds=_seeds(config, task, len(vals) * config.n_seeds),
        )
        codes = sae.encode(test.X)
        recon = sae.decode(codes)
        rows = []
        for r in range(sae.n_instances):
            D = sae.W_dec[r]
            rows.append(
                {
                    "coefficient": float(vals[r // config.n_seeds]),
                    "seed": int(sae.seeds[r]),
                    "mmcs_features": mmcs_features(test.dictionary, D),
                    "mmcs_atoms": mmcs_atoms(test.dictionary, D),
                    "decoder_mcc": decoder_mcc(test.dictionary, D),
                    "code_mcc": code_mcc(test.codes, codes[r]),
                    "recovery_rate": recovery_rate(test.dictionary, D),
                    "dead_latents": dead_latents(codes[r]),
                    "l0": l0(codes[r]),
                    "fvu": fraction_of_variance_unexplained(test.X, recon[r]),
                    "reconstruction_bias": relative_reconstruction_bias(test.X, recon[r]),
                    # kept for the dictionary-size signature (similarity to a larger dictionary)
                    "decoder": np.round(D, 8).tolist(),
                }
            )
        # null baseline: random unit atoms of the same width
        null = np.random.default_rng(_seeds(config, task, 1)[0]).standard_normal(
            (config.n_dims, task["width"])
        )
        return {
            **task,
            "true_l0": l0(test.codes),
            "rows": rows,
            "null_mmcs_features": mmcs_features(test.dictionary, null),
            "null_recovery_rate": recovery_rate(test.dictionary, null),
        }
    n = task["n_features"]
    train, test = _data(config, n, 1, config.gap_k)
    kk = max(1, min(n, round(config.gap_k)))
    sae = train_sae(
        train.X,
        n,
        "topk",
        k=kk,
        settings=config.settings(),
        n_seeds=config.n_seeds,
        seeds=_seeds(config, task, config.n_seeds),
    )
    rows = []
    for r in range(sae.n_instances):
        for g in amortisation_gap(
            sae, test, instance=r, lam=config.gap_lam, n_iter=config.gap_n_iter
        ):
            rows.append({"seed": int(sae.seeds[r]), **dataclasses.asdict(g)})
    return {**task, "m_star": _m_star(n, l0(test.codes)), "n_dims": config.n_dims, "rows": rows}


@dataclass(frozen=True)
class SweepResult:
    """Outcome of :func:`run_sweep`: the folder, the records (task order), tasks run and resumed."""

    folder: Path
    config: SweepConfig
    records: list
    ran: int
    resumed: int


def run_sweep(
    config: SweepConfig | None = None, output=None, *, executor=None, progress: bool = False
) -> SweepResult:
    """Run (or resume) a sweep into ``output`` and write its report (see :mod:`csuper.sae.report`).

    Parameters
    ----------
    config : SweepConfig, optional
    output : str or Path
        The sweep folder (created; a folder holding another experiment or configuration is
        refused by the result store).
    executor : csuper.executor.Executor, optional
        Default: serially in this process.
    progress : bool
        Progress bar over tasks.

    Examples
    --------
    >>> import tempfile
    >>> cfg = SweepConfig(n_features=6, n_dims=4, k=1.0, n_samples=256, n_test=128, widths=(6,),
    ...                   coefficients=(0.01,), n_seeds=2, n_steps=50, gap_n_features=(6,),
    ...                   gap_k=1.0)
    >>> res = run_sweep(cfg, tempfile.mkdtemp())
    >>> res.ran, sorted(p.name for p in res.folder.iterdir())[:3]
    (2, ['figures', 'header.json', 'records.jsonl'])
    """
    from csuper import __version__
    from csuper._store import ResultStore, make_key
    from csuper.executor import check_executor, make_executor
    from csuper.sae.report import write_report

    config = SweepConfig() if config is None else config
    if not isinstance(config, SweepConfig):
        raise TypeError(f"config must be a SweepConfig; got {type(config).__name__}.")
    progress = check_bool(progress, "progress")
    if output is None:
        raise ValueError("output (the sweep folder) is required.")
    check_executor(executor)
    identity = {**config.to_dict(), "csuper_version": __version__}
    store = ResultStore(output, EXPERIMENT, identity, name="output")
    tasks = sweep_tasks(config)
    keys = [make_key(**t) for t in tasks]
    todo = [i for i, key in enumerate(keys) if key not in store]
    own = executor is None
    ex = make_executor(workers=1) if own else executor
    try:
        payloads = [(config.to_dict(), tasks[i]) for i in todo]
        for j, rec in ex.map(run_task, payloads, progress=progress, desc="SAE sweep"):
            store.append(keys[todo[j]], rec)
    finally:
        if own:
            ex.close()
    records = [rec for key in keys if (rec := store.get(key)) is not None]
    write_report(store.folder, config, records)
    return SweepResult(store.folder, config, records, len(todo), len(tasks) - len(todo))
