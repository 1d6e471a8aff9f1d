"""The toy-model training driver: validates the request, estimates its memory, draws the seeded
initial weights and random lanes, runs the numba kernels of :mod:`csuper.toy._train_kernels` over
every instance at once and keeps the best seed of each.

Many instances (a sweep over sparsity, importance or seeds) train in one call; each instance
owns its random stream, so results depend only on the seed, not on the number of threads.
"""

from __future__ import annotations

import os

import numpy as np

from csuper._errors import TrainingDivergedError
from csuper._lazy import lazy_import
from csuper._validation import check_array, check_bool, check_int, check_memory, check_rng
from csuper.toy.data import FeatureDistribution, _kernel_data, _stream_states
from csuper.toy.model import ToyModel, _check_importance, _final_loss
from csuper.toy.price import _price_data
from csuper.toy.settings import (
    INITIALIZATIONS,
    MODELS,
    NOTEBOOK_SETTINGS,
    OPTIMIZERS,
    TrainSettings,
    learning_rates,
)

_k = lazy_import("csuper.toy._train_kernels")

__all__ = ["TrainingDivergedError", "train"]


def _check_init(init, n_inst: int, m: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Validated copies of warm-start weights W (I, m, n) and b (I, n) (see :func:`train`)."""
    if isinstance(init, ToyModel):
        W, b = init.W, init.b
    elif isinstance(init, dict):
        if set(init) != {"W", "b"}:
            raise ValueError(
                "init as a dict must have exactly the keys 'W' and 'b'; got "
                f"{sorted(map(str, init))}."
            )
        W, b = init["W"], init["b"]
    elif isinstance(init, (tuple, list)) and len(init) == 2:
        W, b = init
    else:
        raise TypeError(
            f"init must be a ToyModel, a dict {{'W', 'b'}} or a pair (W, b); got "
            f"{type(init).__name__}."
        )
    W = check_array(W, "init W", ndim=3, dtype=np.float64, copy=True)
    b = check_array(b, "init b", ndim=2, dtype=np.float64, copy=True)
    if W.shape != (n_inst, m, n) or b.shape != (n_inst, n):
        raise ValueError(
            f"init must have W of shape (n_instances, n_dims, n_features) = {(n_inst, m, n)} and "
            "b of "
            f"shape {(n_inst, n)} to match the distribution and n_dims; got W {W.shape}, b "
            f"{b.shape}."
        )
    return W, b


def _seed_models(seeds, n: int, m: int, settings: TrainSettings):
    """Initial W (I, m, n), b (I, n) (float64) and random lanes (I, LANES) from the seeds: each
    seed's generator draws W and b (``settings.initialization``), then the seed of its lanes."""
    draw = INITIALIZATIONS[settings.initialization].draw
    W = np.empty((len(seeds), m, n))
    b = np.empty((len(seeds), n))
    lane_seeds = []
    for r, s in enumerate(seeds):
        child = np.random.default_rng(int(s))
        W[r], b[r] = draw(child, n, m, settings.init_scale)
        lane_seeds.append(int(child.integers(0, 2**63)))
    return W, b, _stream_states(lane_seeds)


def _training_memory(dist, m: int, total: int, settings: TrainSettings, parallel: bool) -> float:
    """Bytes a training run allocates: per instance its weights, Adam's moments, float64 copies
    and loss history; per concurrently running instance its work arrays (two (n, B) and two
    (B, m) blocks, two (n, m) gradients and the active-entry list)."""
    n = dist.n_features
    B = settings.batch_size
    s = np.dtype(settings.dtype).itemsize
    kd = _kernel_data(dist)
    expect = max(_k.expected_active(kd.P[r], kd.GP[r], kd) for r in range(dist.n_instances))
    cap = _k.list_capacity(expect, B, n)
    per_instance = (3 * n * m + 3 * n) * s + (2 * n * m + 4 * n) * 8 + 8 * settings.n_steps
    work = (2 * B * (n + m) + 2 * n * m + m * m + 4 * n) * s + cap * (8 + s)
    threads = 1
    if parallel:
        import numba

        threads = min(total, numba.get_num_threads())
    return float(total * per_instance + threads * work)


def train(
    distribution: FeatureDistribution,
    n_dims: int,
    *,
    importance=None,
    settings: TrainSettings | None = None,
    n_seeds: int = 1,
    seeds=None,
    parallel: bool | None = None,
    rng=None,
    progress: bool = False,
    init=None,
) -> ToyModel:
    """Train toy models of superposition, every instance of ``distribution`` at once.

    Parameters
    ----------
    distribution : FeatureDistribution
        Data for I instances (see :func:`~csuper.toy.feature_distribution`).
    n_dims : int
        m, in [1, n_features): a toy model of superposition has fewer dimensions than features.
    importance : array_like, shape (n,) or (I, n), optional
        Nonnegative I_i (default all ones).
    settings : TrainSettings, optional
        Default :data:`NOTEBOOK_SETTINGS` (10,000 steps of batch 1024, AdamW lr 1e-3).
    n_seeds : int
        Best-of-N: train N seeds per instance and keep the one with the lowest final loss
        (mean batch loss over the last min(100, n_steps) steps), as the paper kept the best of
        several runs.
    seeds : array_like of int, shape (I * n_seeds,), optional
        Explicit seeds (instance-major); default: drawn from ``rng``.
    parallel : bool or None
        Run instances in parallel threads (numba ``prange``); None chooses parallel when there
        are at least 2 instances and more than one CPU. Results are identical either way. BLAS
        runs single-threaded inside the kernel either way (measured: letting OpenBLAS use 2
        threads for these small products was 20x slower, benchmarks/results_toy.md).
    rng : None, int or numpy.random.Generator
        Source of the seeds.
    progress : bool, default False
        Show a tqdm progress bar (training runs in chunks of steps).
    init : ToyModel, dict or tuple, optional
        Warm start: initial weights replacing the seeded initialisation, a ToyModel, a dict with
        keys ``"W"`` and ``"b"`` or a pair ``(W, b)``, with W of shape (I, n_dims, n_features)
        and b of shape (I, n_features), finite. Every seed of instance r starts from
        ``W[r], b[r]`` (seeds then differ only by their data streams); Adam's moments start at
        zero. Default: xavier-normal W from the seed and b = 0 (a cold start).

    Returns
    -------
    ToyModel

    Raises
    ------
    TrainingDivergedError
        On a non-finite loss or gradient; names the instance and step and carries the model
        trained so far.
    csuper._validation.MemoryBudgetError
        (a ValueError and a MemoryError) before allocating anything, if the run's estimated
        memory (weights, Adam's moments, loss history, per-thread work arrays) exceeds csuper's
        memory budget (:func:`csuper._validation.memory_budget`); the message gives the
        estimate and smaller alternatives.

    Notes
    -----
    Loss per instance: L(W, b) = E[(1/n) sum_i I_i (x_i - x_hat_i)^2], estimated on a fresh batch
    every step, plus ``settings.interference_price`` times
    :func:`~csuper.toy.interference_penalty` when that is positive (``loss_history`` records the
    reconstruction loss alone). Gradients are exact (chain rule through the ReLUs) and
    Adam/AdamW updates follow torch's formulas. The work goes where it matters: with few active
    inputs h = W x and the encoder's gradient run over the active entries, and with few open
    output ReLUs the backward pass runs over the open outputs only; otherwise every product is
    a BLAS GEMM (one thread per instance). All routes give the same result up to rounding.
    ``settings.dtype="float32"`` trains in single precision (PyTorch's), about twice as fast at
    large sizes.

    References
    ----------
    N. Elhage et al., "Toy Models of Superposition", Transformer Circuits Thread 2022,
    arXiv:2209.10652.

    Examples
    --------
    >>> from csuper.toy import feature_distribution
    >>> d = feature_distribution(5, 0.05)
    >>> s = TrainSettings(n_steps=300, batch_size=64, lr=1e-2)
    >>> model = train(d, 2, settings=s, rng=0)
    >>> model.W.shape
    (1, 2, 5)
    >>> bool(model.final_loss[0] < model.loss_history[0, 0])
    True
    >>> more = train(d, 2, settings=s, rng=1, init=model)  # warm start from the trained model
    >>> bool(abs(more.loss_history[0, :50].mean() - model.final_loss[0]) < 0.01)
    True
    """
    if not isinstance(distribution, FeatureDistribution):
        raise TypeError(
            "distribution must be a FeatureDistribution (see feature_distribution); got "
            f"{type(distribution).__name__}."
        )
    settings = NOTEBOOK_SETTINGS if settings is None else settings
    if not isinstance(settings, TrainSettings):
        raise TypeError(f"settings must be a TrainSettings; got {type(settings).__name__}.")
    n = distribution.n_features
    if n < 2:
        raise ValueError(f"a toy model of superposition needs n_features >= 2; got {n}.")
    m = check_int(n_dims, "n_dims", low=1, high=n, high_inclusive=False)
    N = check_int(n_seeds, "n_seeds", low=1)
    progress = check_bool(progress, "progress")
    if parallel is not None:
        parallel = check_bool(parallel, "parallel")
    I0 = distribution.n_instances
    imp = _check_importance(importance, I0, n)
    total = I0 * N
    if parallel is None:
        parallel = total >= 2 and (os.cpu_count() or 1) > 1
    check_memory(
        _training_memory(distribution, m, total, settings, parallel),
        f"train: {total} instance(s) ({I0} x {N} seeds) with n_features={n}, n_dims={m}, "
        f"batch_size={settings.batch_size}, n_steps={settings.n_steps} in {settings.dtype}",
        "use a smaller batch_size, dtype='float32', fewer instances per call (n_seeds) "
        "or parallel=False",
    )
    if seeds is None:
        seeds = check_rng(rng).integers(0, 2**63, size=total)
    else:
        seeds = check_array(seeds, "seeds", ndim=1, shape=(total,), dtype=np.int64)
        if np.any(seeds < 0):
            raise ValueError("seeds must be nonnegative integers.")
    seeds = np.asarray(seeds, dtype=np.int64)
    init_arrays = None if init is None else _check_init(init, I0, m, n)
    return _fit(distribution, m, imp, settings, seeds, N, init_arrays, parallel, progress)


def _fit(
    dist: FeatureDistribution,
    m: int,
    imp: np.ndarray,
    settings: TrainSettings,
    seeds: np.ndarray,
    N: int,
    init_arrays,
    parallel: bool,
    progress: bool,
    routes: tuple[int, int] = (-1, -1),
) -> ToyModel:
    """Run the kernels on validated input (:func:`train` is the public entry). ``routes``
    forces the (input, output) routes of the kernels (-1 automatic, 0 GEMM, 1 sparse), for the
    tests that compare them."""
    n = dist.n_features
    I0 = dist.n_instances
    total = I0 * N
    dt = np.dtype(settings.dtype)
    W, b, lanes = _seed_models(seeds, n, m, settings)
    if init_arrays is not None:
        W = np.repeat(init_arrays[0], N, axis=0)
        b = np.repeat(init_arrays[1], N, axis=0)
    Wt = np.ascontiguousarray(W.transpose(0, 2, 1), dtype=dt)  # the kernels' (n, m) layout
    b = np.ascontiguousarray(b, dtype=dt)
    del W
    kd = _kernel_data(dist, N)
    ubuf_size = int(_k.sampler_buffer_size(kd))
    IMP = np.ascontiguousarray(np.repeat(imp, N, axis=0), dtype=dt)
    price = _price_data(dist, settings.coactivation_weighted, N, dt)
    variant = MODELS[settings.model]
    beta1, beta2 = settings.betas
    hy = _k.Hyper(
        float(beta1),
        float(beta2),
        float(settings.eps),
        float(settings.weight_decay),
        settings.effective_bias_weight_decay,
        settings.effective_bias_lr / settings.lr,
        bool(OPTIMIZERS[settings.optimizer].decoupled),
        bool(variant.hidden_relu),
        bool(variant.output_relu),
        float(settings.interference_price),
        int(routes[0]),
        int(routes[1]),
        int(settings.batch_size),
    )
    state = _k.TrainState(
        np.zeros((total, n * m), dt),
        np.zeros((total, n * m), dt),
        np.zeros((total, n), dt),
        np.zeros((total, n), dt),
        lanes,
        np.zeros((total, ubuf_size)),
        np.full(total, ubuf_size, dtype=np.int64),
        np.full(total, settings.batch_size * n, dtype=np.int64),
    )
    lrs = learning_rates(settings)
    T = settings.n_steps
    losses = np.full((total, T), np.nan)
    failed = np.full(total, -1, dtype=np.int64)
    kernel = _k.train_parallel if parallel else _k.train_serial
    chunk = T if not progress else max(1, min(T, 500))
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=T, desc="training (numba compiles on first use)", unit="step")
    from threadpoolctl import threadpool_limits

    diverged = None
    try:
        with (
            threadpool_limits(limits=1, user_api="blas"),
            np.errstate(over="ignore", invalid="ignore"),
        ):
            for t0 in range(0, T, chunk):
                t1 = min(T, t0 + chunk)
                out = np.full((total, t1 - t0), np.nan)
                lr_chunk = np.ascontiguousarray(lrs[t0:t1])
                kernel(Wt, b, state, kd, IMP, price, lr_chunk, hy, out, failed, t0)
                losses[:, t0:t1] = out
                if np.any(failed >= 0):
                    r = int(np.argmax(failed >= 0))
                    diverged = (r, t0 + int(failed[r]))
                    for q in np.flatnonzero(failed >= 0):
                        losses[q, t0 + int(failed[q]) :] = np.nan
                    break
                if bar is not None:
                    if t0 == 0:
                        bar.set_description("training")
                    bar.update(t1 - t0)
    finally:
        if bar is not None:
            bar.close()
    W = np.ascontiguousarray(Wt.transpose(0, 2, 1))
    if diverged is not None:
        model = ToyModel(
            W,
            b,
            np.repeat(imp, N, axis=0),
            kd.P,
            settings,
            losses,
            seeds,
            _final_loss(losses)[:, None],
            dist.to_dict(),
        )
        r, step = diverged
        raise TrainingDivergedError(
            f"training diverged (non-finite loss or gradient) at step {step} of instance {r} "
            f"(configuration {r // N}, seed {int(seeds[r])}); lower lr (now {settings.lr:g}). "
            "The error's .model holds what was trained before.",
            r,
            step,
            model,
        )
    final = _final_loss(losses).reshape(I0, N)
    best = np.argmin(final, axis=1) + N * np.arange(I0)
    return ToyModel(
        W=W[best],
        b=b[best],
        importance=imp,
        feature_probability=dist.feature_probability,
        settings=settings,
        loss_history=losses[best],
        seeds=seeds[best],
        seed_losses=final,
        distribution=dist.to_dict(),
    )
