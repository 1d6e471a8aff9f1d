"""Training toy models of superposition (Elhage et al. 2022) with a batched numba kernel.

Many instances (a sweep over sparsity, importance or seeds) train in one call; each instance
owns its random stream, so results depend only on the seed, not on the number of threads.
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass

import numpy as np

from csuper._lazy import lazy_import
from csuper._validation import check_array, check_int, check_real, check_rng
from csuper.toy.data import FeatureDistribution, _stream_states, feature_distribution

_k = lazy_import("csuper.toy._train_kernels")

__all__ = [
    "MODELS",
    "OPTIMIZERS",
    "SCHEDULES",
    "NOTEBOOK_SETTINGS",
    "TrainSettings",
    "ToyModel",
    "TrainingDivergedError",
    "learning_rates",
    "train",
    "toy_forward",
    "toy_loss",
    "from_weights",
    "save_model",
    "load_model",
]

#: Toy models (name -> kernel code and formula).
MODELS: dict[str, dict] = {
    "relu_output": {"code": 0, "formula": "h = W x, x_hat = ReLU(W^T h + b)"},
    "linear": {"code": 1, "formula": "x_hat = W^T W x + b"},
    "hidden_relu": {
        "code": 2,
        "formula": "h = ReLU(W x), x_hat = ReLU(W^T h + b) (privileged basis)",
    },
}

#: Optimizers (name -> whether weight decay is decoupled, as in torch.optim.AdamW).
OPTIMIZERS: dict[str, bool] = {"adam": False, "adamw": True}

#: Learning-rate schedules: lr_t = lr * scale(t, T), t = 0..T-1 (the reference notebook's).
SCHEDULES: dict[str, str] = {
    "constant": "1",
    "linear": "1 - t / T",
    "cosine": "cos(pi t / (2 (T - 1)))",
}

_FORMAT = "csuper.toy.ToyModel/1"


@dataclass(frozen=True)
class TrainSettings:
    """Optimisation settings (defaults: the reference notebook, see :data:`NOTEBOOK_SETTINGS`).

    Attributes
    ----------
    model : str
        Key of :data:`MODELS`.
    n_steps, batch_size : int
        Optimisation steps and samples per step.
    lr : float
        Base learning rate (scaled by ``schedule``).
    optimizer : str
        ``"adamw"`` (decoupled weight decay, torch.optim.AdamW) or ``"adam"`` (L2 added to the
        gradient, torch.optim.Adam).
    weight_decay, betas, eps : float, (float, float), float
        Adam(W) hyper-parameters, torch's meaning.
    schedule : str
        Key of :data:`SCHEDULES`.
    init_scale : float
        W is drawn N(0, (init_scale * sqrt(2 / (n + m)))^2) (xavier-normal when 1); b = 0.

    Examples
    --------
    >>> s = TrainSettings(n_steps=500, schedule="cosine")
    >>> s.lr, s.optimizer, s.batch_size
    (0.001, 'adamw', 1024)
    """

    model: str = "relu_output"
    n_steps: int = 10_000
    batch_size: int = 1024
    lr: float = 1e-3
    optimizer: str = "adamw"
    weight_decay: float = 1e-2
    betas: tuple[float, float] = (0.9, 0.999)
    eps: float = 1e-8
    schedule: str = "constant"
    init_scale: float = 1.0

    def __post_init__(self):
        if self.model not in MODELS:
            raise ValueError(f"model must be one of {sorted(MODELS)}; got {self.model!r}.")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(
                f"optimizer must be one of {sorted(OPTIMIZERS)}; got {self.optimizer!r}."
            )
        if self.schedule not in SCHEDULES:
            raise ValueError(f"schedule must be one of {sorted(SCHEDULES)}; got {self.schedule!r}.")
        check_int(self.n_steps, "n_steps", low=1)
        check_int(self.batch_size, "batch_size", low=1)
        check_real(self.lr, "lr", low=0.0, low_inclusive=False)
        check_real(self.weight_decay, "weight_decay", low=0.0)
        if len(self.betas) != 2:
            raise ValueError(f"betas must be a pair (beta1, beta2); got {self.betas!r}.")
        for j, beta in enumerate(self.betas):
            check_real(beta, f"betas[{j}]", low=0.0, high=1.0, high_inclusive=False)
        check_real(self.eps, "eps", low=0.0, low_inclusive=False)
        check_real(self.init_scale, "init_scale", low=0.0, low_inclusive=False)
        object.__setattr__(self, "betas", (float(self.betas[0]), float(self.betas[1])))


#: The reference notebook's settings (Anthropic, toy_models.ipynb, companion of Elhage et al.
#: 2022): ``optimize(model, n_batch=1024, steps=10_000, lr=1e-3, lr_scale=constant_lr)`` with
#: ``torch.optim.AdamW(model.parameters(), lr=lr)``, hence torch's AdamW defaults
#: betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2 (applied to W and b alike);
#: ``nn.init.xavier_normal_`` on W and b_final = 0. The notebook's loss is
#: ``einops.reduce(I * (x - x_hat)**2, 'b i f -> i', 'mean').sum()``: per instance the mean over
#: the batch AND the features (so a 1/n factor) of the importance-weighted squared error.
#: One deliberate difference: the notebook calls xavier_normal_ on the whole (instances, n, m)
#: tensor, whose torch fans are n*m and instances*m; csuper uses the per-instance xavier std
#: sqrt(2 / (n + m)) so that a model does not depend on how many siblings it was trained with.
NOTEBOOK_SETTINGS = TrainSettings()


@dataclass(frozen=True, eq=False)
class ToyModel:
    """Trained (or imported) toy models, one per instance.

    Attributes
    ----------
    W : ndarray, shape (n_instances, n_dims, n_features)
        Columns W[r][:, i] are the feature directions w_i (csuper's layout, DESIGN.md).
    b : ndarray, shape (n_instances, n_features)
        Output bias.
    importance : ndarray, shape (n_instances, n_features)
    feature_probability : ndarray, shape (n_instances, n_features)
    settings : TrainSettings
    loss_history : ndarray, shape (n_instances, n_steps)
        Batch loss before each step's update (NaN after a divergence; empty if imported).
    seeds : ndarray of int, shape (n_instances,)
        Seed of each kept instance: ``train(..., n_seeds=1)`` with the instance's data and this
        seed reproduces it (its W init and data stream derive from it alone).
    seed_losses : ndarray, shape (n_instances, n_seeds)
        Final loss of every seed tried (best-of-N); the kept one is the minimum.
    distribution : dict
        Magnitude law and feature groups (see :meth:`FeatureDistribution.to_dict`).

    Examples
    --------
    >>> model = from_weights(np.array([[1.0, -1.0, 0.0], [0.0, 0.0, 1.0]]))
    >>> model.n_instances, model.n_dims, model.n_features
    (1, 2, 3)
    >>> print(np.round(model.forward([[0.5, 0.0, 0.25]]), 3))
    [[[0.5  0.   0.25]]]
    """

    W: np.ndarray
    b: np.ndarray
    importance: np.ndarray
    feature_probability: np.ndarray
    settings: TrainSettings = NOTEBOOK_SETTINGS
    loss_history: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros((0, 0)))
    seeds: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    seed_losses: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros((0, 0)))
    distribution: dict = dataclasses.field(default_factory=dict)

    @property
    def n_instances(self) -> int:
        return int(self.W.shape[0])

    @property
    def n_dims(self) -> int:
        return int(self.W.shape[1])

    @property
    def n_features(self) -> int:
        return int(self.W.shape[2])

    @property
    def model(self) -> str:
        return self.settings.model

    @property
    def final_loss(self) -> np.ndarray:
        """Mean batch loss over the last min(100, n_steps) steps, per instance (NaN if none)."""
        return _final_loss(self.loss_history)

    def forward(self, X) -> np.ndarray:
        """x_hat for a batch X of shape (B, n) (every instance) or (n_instances, B, n)."""
        return toy_forward(self.W, self.b, X, model=self.model)

    def loss(self, X) -> np.ndarray:
        """Per-instance loss (1/(B n)) sum I_i (x_i - x_hat_i)^2 on the batch X."""
        return toy_loss(self.W, self.b, X, self.importance, model=self.model)

    def save(self, path) -> None:
        """Save to ``path`` (.npz), see :func:`save_model`."""
        save_model(self, path)


class TrainingDivergedError(RuntimeError):
    """Training produced a non-finite loss or gradient.

    Attributes
    ----------
    instance, step : int
        First diverged instance (index into the instances trained, seeds included) and its step.
    model : ToyModel
        Every instance as trained up to the chunk in which the divergence happened (the diverged
        ones as they were before their bad step); loss_history is NaN after that.
    """

    def __init__(self, message: str, instance: int, step: int, model: ToyModel):
        super().__init__(message)
        self.instance = instance
        self.step = step
        self.model = model


def learning_rates(settings: TrainSettings) -> np.ndarray:
    """Learning rate at every step, lr * scale(t, T) (see :data:`SCHEDULES`).

    Examples
    --------
    >>> s = TrainSettings(n_steps=4, schedule="linear", lr=1.0)
    >>> print(learning_rates(s))
    [1.   0.75 0.5  0.25]
    """
    T = settings.n_steps
    t = np.arange(T, dtype=float)
    if settings.schedule == "constant":
        scale = np.ones(T)
    elif settings.schedule == "linear":
        scale = 1.0 - t / T
    else:
        scale = np.cos(0.5 * np.pi * t / max(T - 1, 1))
    return settings.lr * scale


def _final_loss(hist: np.ndarray) -> np.ndarray:
    if hist.size == 0:
        return np.full(hist.shape[0], np.nan)
    k = min(100, hist.shape[1])
    return hist[:, -k:].mean(axis=1)


def _check_importance(importance, n_inst: int, n: int) -> np.ndarray:
    if importance is None:
        return np.ones((n_inst, n))
    imp = check_array(importance, "importance", ndim=(1, 2), dtype=np.float64, nonnegative=True)
    if imp.ndim == 1:
        if imp.shape[0] != n:
            raise ValueError(f"importance must have length n_features={n}; got {imp.shape[0]}.")
        imp = np.repeat(imp[None, :], n_inst, axis=0)
    elif imp.shape == (1, n):
        imp = np.repeat(imp, n_inst, axis=0)
    elif imp.shape != (n_inst, n):
        raise ValueError(f"importance must have shape ({n},) or ({n_inst}, {n}); got {imp.shape}.")
    return np.ascontiguousarray(imp)


def _as_batch(X, n_inst: int, n: int) -> np.ndarray:
    X = check_array(X, "X", ndim=(2, 3), dtype=np.float64)
    if X.shape[-1] != n:
        raise ValueError(f"X must have n_features={n} columns; got shape {X.shape}.")
    if X.ndim == 2:
        X = np.broadcast_to(X, (n_inst, *X.shape))
    elif X.shape[0] != n_inst:
        raise ValueError(f"X of shape {X.shape} must have n_instances={n_inst} on its first axis.")
    return X


def toy_forward(W, b, X, *, model: str = "relu_output") -> np.ndarray:
    """Reconstruction x_hat of a toy model, in plain numpy.

    Parameters
    ----------
    W : array_like, shape (m, n) or (I, m, n)
    b : array_like, shape (n,) or (I, n)
    X : array_like, shape (B, n) or (I, B, n)
    model : str
        Key of :data:`MODELS`.

    Returns
    -------
    ndarray, shape (I, B, n) (I = 1 for a single W)

    Examples
    --------
    >>> W = np.array([[1.0, -1.0]])
    >>> print(toy_forward(W, [0.0, 0.0], [[0.5, 0.0]]))
    [[[0.5 0. ]]]
    """
    if model not in MODELS:
        raise ValueError(f"model must be one of {sorted(MODELS)}; got {model!r}.")
    W = check_array(W, "W", ndim=(2, 3), dtype=np.float64)
    W = W[None] if W.ndim == 2 else W
    I, _m, n = W.shape
    b = check_array(b, "b", ndim=(1, 2), dtype=np.float64)
    b = np.broadcast_to(b, (I, n)) if b.shape[-1] == n and b.ndim == 1 else b
    if b.shape != (I, n):
        raise ValueError(f"b must have shape ({n},) or ({I}, {n}); got {b.shape}.")
    X = _as_batch(X, I, n)
    H = np.einsum("ikn,ibn->ibk", W, X)
    if model == "hidden_relu":
        H = np.maximum(H, 0.0)
    Z = np.einsum("ikn,ibk->ibn", W, H) + b[:, None, :]
    return Z if model == "linear" else np.maximum(Z, 0.0)


def toy_loss(W, b, X, importance=None, *, model: str = "relu_output") -> np.ndarray:
    """Per-instance loss (1/(B n)) sum_{b, i} I_i (x_bi - x_hat_bi)^2, in plain numpy.

    This is the reference notebook's loss: the mean over batch and features of the
    importance-weighted squared error (csuper trains exactly this objective).

    Returns
    -------
    ndarray, shape (I,)

    Examples
    --------
    >>> print(toy_loss(np.array([[1.0, 0.0]]), [0.0, 0.0], [[1.0, 1.0]]))
    [0.5]
    """
    Xhat = toy_forward(W, b, X, model=model)
    I, B, n = Xhat.shape
    X = _as_batch(X, I, n)
    imp = _check_importance(importance, I, n)
    return np.einsum("in,ibn->i", imp, (X - Xhat) ** 2) / (B * n)


def _seed_models(seeds, n: int, m: int, init_scale: float) -> tuple[np.ndarray, np.ndarray]:
    """W init (xavier normal, std init_scale * sqrt(2/(n+m))) and stream states from seeds."""
    std = init_scale * np.sqrt(2.0 / (n + m))
    W = np.empty((len(seeds), m, n))
    states = np.empty((len(seeds), 1), dtype=np.uint64)
    for r, s in enumerate(seeds):
        child = np.random.default_rng(int(s))
        W[r] = std * child.standard_normal((n, m)).T  # torch's per-instance (n, m) layout
        states[r] = _stream_states([int(child.integers(0, 2**63))])[0]
    return W, states


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

    Notes
    -----
    Loss per instance: L(W, b) = E[(1/n) sum_i I_i (x_i - x_hat_i)^2], estimated on a fresh batch
    every step; gradients are closed form (chain rule through the ReLUs, sparse in the active
    inputs) and Adam/AdamW updates follow torch's formulas exactly.

    References
    ----------
    N. Elhage et al., "Toy Models of Superposition", Transformer Circuits Thread 2022,
    arXiv:2209.10652.

    Examples
    --------
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
    I0 = distribution.n_instances
    imp = _check_importance(importance, I0, n)
    total = I0 * N
    if seeds is None:
        seeds = check_rng(rng).integers(0, 2**63, size=total)
    else:
        seeds = check_array(seeds, "seeds", ndim=1, shape=(total,), dtype=np.int64)
        if np.any(seeds < 0):
            raise ValueError("seeds must be nonnegative integers.")
    seeds = np.asarray(seeds, dtype=np.int64)
    W, states = _seed_models(seeds, n, m, settings.init_scale)
    b = np.zeros((total, n))
    if init is not None:
        W0, b0 = _check_init(init, I0, m, n)
        W = np.ascontiguousarray(np.repeat(W0, N, axis=0))
        b = np.ascontiguousarray(np.repeat(b0, N, axis=0))
    P = np.ascontiguousarray(np.repeat(distribution.feature_probability, N, axis=0))
    IMP = np.ascontiguousarray(np.repeat(imp, N, axis=0))
    indep, gstart, gmem, gmode, gp, law = distribution._kernel
    GP = np.ascontiguousarray(np.repeat(gp, N, axis=0))
    lrs = learning_rates(settings)
    T = settings.n_steps
    losses = np.full((total, T), np.nan)
    failed = np.full(total, -1, dtype=np.int64)
    MW, VW = np.zeros((total, m * n)), np.zeros((total, m * n))
    Mb, Vb = np.zeros((total, n)), np.zeros((total, n))
    if parallel is None:
        parallel = total >= 2 and (os.cpu_count() or 1) > 1
    kernel = _k.train_parallel if parallel else _k.train_serial
    chunk = T if not progress else max(1, min(T, 500))
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=T, desc="training", unit="step")
    from threadpoolctl import threadpool_limits

    beta1, beta2 = settings.betas
    args = (settings.eps, settings.weight_decay, OPTIMIZERS[settings.optimizer])
    code = MODELS[settings.model]["code"]
    diverged = None
    try:
        with (
            threadpool_limits(limits=1, user_api="blas"),
            np.errstate(over="ignore", invalid="ignore"),
        ):
            for t0 in range(0, T, chunk):
                t1 = min(T, t0 + chunk)
                out = np.full((total, t1 - t0), np.nan)
                kernel(
                    W,
                    b,
                    P,
                    IMP,
                    GP,
                    code,
                    np.ascontiguousarray(lrs[t0:t1]),
                    beta1,
                    beta2,
                    *args,
                    states,
                    settings.batch_size,
                    indep,
                    gstart,
                    gmem,
                    gmode,
                    law,
                    out,
                    failed,
                    MW,
                    VW,
                    Mb,
                    Vb,
                    t0,
                )
                losses[:, t0:t1] = out
                if np.any(failed >= 0):
                    r = int(np.argmax(failed >= 0))
                    diverged = (r, t0 + int(failed[r]))
                    for q in np.flatnonzero(failed >= 0):
                        losses[q, t0 + int(failed[q]) :] = np.nan
                    break
                if bar is not None:
                    bar.update(t1 - t0)
    finally:
        if bar is not None:
            bar.close()
    if diverged is not None:
        model = ToyModel(
            W,
            b,
            IMP,
            P,
            settings,
            losses,
            seeds,
            _final_loss(losses)[:, None],
            distribution.to_dict(),
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
        feature_probability=distribution.feature_probability,
        settings=settings,
        loss_history=losses[best],
        seeds=seeds[best],
        seed_losses=final,
        distribution=distribution.to_dict(),
    )


def from_weights(
    W,
    b=None,
    *,
    model: str = "relu_output",
    layout: str = "csuper",
    importance=None,
    feature_probability=None,
) -> ToyModel:
    """Wrap weights trained elsewhere (e.g. a PyTorch state dict exported to numpy) as a ToyModel.

    Parameters
    ----------
    W : array_like
        ``layout="csuper"``: shape (m, n) or (I, m, n) (columns are features).
        ``layout="torch"``: the reference notebook's ``W`` of shape (n, m) or (I, n, m).
    b : array_like, shape (n,) or (I, n), optional
        The notebook's ``b_final``; default zeros.
    model : str
        Key of :data:`MODELS`.
    importance, feature_probability : array_like, optional
        Shapes (n,) or (I, n); default ones and NaN (unknown).

    Examples
    --------
    >>> state = {"W": np.ones((3, 5, 2)), "b_final": np.zeros((3, 5))}  # torch layout
    >>> from_weights(state["W"], state["b_final"], layout="torch").W.shape
    (3, 2, 5)
    """
    if model not in MODELS:
        raise ValueError(f"model must be one of {sorted(MODELS)}; got {model!r}.")
    if layout not in ("csuper", "torch"):
        raise ValueError(f"layout must be 'csuper' or 'torch'; got {layout!r}.")
    W = check_array(W, "W", ndim=(2, 3), dtype=np.float64, copy=True)
    W = W[None] if W.ndim == 2 else W
    if layout == "torch":
        W = np.ascontiguousarray(W.transpose(0, 2, 1))
    I, _m, n = W.shape
    b = np.zeros((I, n)) if b is None else check_array(b, "b", ndim=(1, 2), dtype=np.float64)
    b = (
        np.ascontiguousarray(np.broadcast_to(b, (I, n)))
        if b.shape in ((n,), (1, n), (I, n))
        else None
    )
    if b is None:
        raise ValueError(f"b must have shape ({n},) or ({I}, {n}) to match W of shape {W.shape}.")
    imp = _check_importance(importance, I, n)
    if feature_probability is None:
        P = np.full((I, n), np.nan)
    else:
        P = feature_distribution(n, feature_probability).feature_probability
        if P.shape[0] == 1:
            P = np.repeat(P, I, axis=0)
        if P.shape != (I, n):
            raise ValueError(f"feature_probability must give {I} instances; got {P.shape[0]}.")
    return ToyModel(
        W,
        b,
        imp,
        P,
        dataclasses.replace(NOTEBOOK_SETTINGS, model=model),
        np.zeros((I, 0)),
        np.full(I, -1, dtype=np.int64),
        np.zeros((I, 0)),
        {},
    )


def save_model(model: ToyModel, path) -> None:
    """Save a ToyModel to an ``.npz`` file (arrays) with a JSON metadata entry.

    File format (``csuper.toy.ToyModel/1``): an uncompressed numpy ``.npz`` holding float64
    arrays ``W`` (I, m, n), ``b`` (I, n), ``importance`` (I, n), ``feature_probability`` (I, n),
    ``loss_history`` (I, T), ``seed_losses`` (I, N), int64 ``seeds`` (I,), and ``metadata``, a
    0-d unicode array holding JSON ``{"format", "settings", "distribution"}``. No pickles:
    :func:`load_model` reads it with ``allow_pickle=False``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> m = from_weights(np.eye(2, 3))
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "m.npz"
    >>> save_model(m, f)
    >>> load_model(f).W.shape
    (1, 2, 3)
    """
    if not isinstance(model, ToyModel):
        raise TypeError(f"model must be a ToyModel; got {type(model).__name__}.")
    meta = {
        "format": _FORMAT,
        "settings": dataclasses.asdict(model.settings),
        "distribution": model.distribution,
    }
    with open(path, "wb") as fh:
        np.savez(
            fh,
            W=model.W,
            b=model.b,
            importance=model.importance,
            feature_probability=model.feature_probability,
            loss_history=model.loss_history,
            seed_losses=model.seed_losses,
            seeds=np.asarray(model.seeds, dtype=np.int64),
            metadata=np.array(json.dumps(meta)),
        )


def load_model(path) -> ToyModel:
    """Load a ToyModel saved by :func:`save_model`, checking the file thoroughly.

    Raises
    ------
    ValueError
        If the file is not a csuper toy-model file, misses arrays, has inconsistent shapes or
        non-finite weights.

    Examples
    --------
    See :func:`save_model`.
    """
    try:
        with np.load(path, allow_pickle=False) as f:
            data = {k: f[k] for k in f.files}
    except (OSError, ValueError, EOFError) as exc:
        raise ValueError(f"{path} is not a readable csuper toy-model file (.npz): {exc}") from None
    except Exception as exc:  # zipfile.BadZipFile and friends
        raise ValueError(f"{path} is not a readable csuper toy-model file (.npz): {exc}") from None
    required = (
        "W",
        "b",
        "importance",
        "feature_probability",
        "loss_history",
        "seed_losses",
        "seeds",
        "metadata",
    )
    missing = [k for k in required if k not in data]
    if missing:
        raise ValueError(f"{path} is not a csuper toy-model file: missing array(s) {missing}.")
    try:
        meta = json.loads(str(data["metadata"]))
        fmt = meta["format"]
        settings_dict = meta["settings"]
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"{path}: corrupt metadata ({exc}).") from None
    if fmt != _FORMAT:
        raise ValueError(f"{path}: unsupported format {fmt!r}; expected {_FORMAT!r}.")
    try:
        settings_dict["betas"] = tuple(settings_dict["betas"])
        settings = TrainSettings(**settings_dict)
    except (TypeError, ValueError, KeyError) as exc:
        raise ValueError(f"{path}: invalid training settings in metadata ({exc}).") from None
    W = data["W"]
    if W.ndim != 3:
        raise ValueError(
            f"{path}: W must be 3-D (instances, n_dims, n_features); got shape {W.shape}."
        )
    I, _m, n = W.shape
    expect = {"b": (I, n), "importance": (I, n), "feature_probability": (I, n), "seeds": (I,)}
    for k, shp in expect.items():
        if data[k].shape != shp:
            raise ValueError(
                f"{path}: {k} has shape {data[k].shape}, expected {shp} to match W {W.shape}."
            )
    for k in ("loss_history", "seed_losses"):
        if data[k].ndim != 2 or data[k].shape[0] != I:
            raise ValueError(f"{path}: {k} has shape {data[k].shape}, expected ({I}, any).")
    for k in ("W", "b"):
        if not np.all(np.isfinite(data[k])):
            raise ValueError(f"{path}: {k} contains non-finite values (NaN or inf).")
    W = check_array(W, "W", dtype=np.float64)
    return ToyModel(
        W=W,
        b=check_array(data["b"], "b", dtype=np.float64),
        importance=check_array(
            data["importance"], "importance", dtype=np.float64, nonnegative=True
        ),
        feature_probability=check_array(
            data["feature_probability"], "feature_probability", dtype=np.float64, finite=False
        ),
        settings=settings,
        loss_history=check_array(
            data["loss_history"], "loss_history", dtype=np.float64, finite=False, min_size=0
        ),
        seeds=np.asarray(data["seeds"], dtype=np.int64),
        seed_losses=check_array(
            data["seed_losses"], "seed_losses", dtype=np.float64, finite=False, min_size=0
        ),
        distribution=dict(meta.get("distribution", {})),
    )
