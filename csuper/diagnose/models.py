"""Models the toy-model trainer cannot train, with their batched numba trainers:

- the computation-in-superposition model of Elhage et al. 2022, h = ReLU(W1 x),
  y = ReLU(W2 h + b), trained to output |x|;
- the tied ReLU-output autoencoder with L1 on the weights of Lecomte et al. 2023,
  y = ReLU(W^T W x), trained on one-hot inputs, in which polysemantic neurons appear
  "incidentally" although n <= m.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np

from csuper._errors import TrainingDivergedError
from csuper._lazy import lazy_import
from csuper._validation import (
    check_array,
    check_bool,
    check_int,
    check_memory,
    check_real,
    check_rng,
)
from csuper.toy import FeatureDistribution, TrainSettings, learning_rates

_k = lazy_import("csuper.diagnose._train_kernels")
_streams = lazy_import("csuper._stream_kernels")

__all__ = [
    "ABS_SETTINGS",
    "AbsValueModel",
    "train_abs_value",
    "abs_forward",
    "TiedAutoencoder",
    "train_tied_autoencoder",
    "incidental_polysemantic_count",
    "incidental_law",
]

#: Settings of the computation model: the toy notebook's optimiser (AdamW lr 1e-3, weight decay
#: 1e-2, batch 1024, 10,000 steps; Elhage et al. 2022 train every toy model this way).
#: ``TrainSettings.model`` is not used by this trainer.
ABS_SETTINGS = TrainSettings()


def _seeds(seeds, total: int, rng) -> np.ndarray:
    if seeds is None:
        return check_rng(rng).integers(0, 2**63, size=total)
    out = check_array(seeds, "seeds", ndim=1, shape=(total,), dtype=np.int64)
    if np.any(out < 0):
        raise ValueError("seeds must be nonnegative integers.")
    return np.asarray(out, dtype=np.int64)


def _parallel(parallel, total: int) -> bool:
    if parallel is None:
        return bool(total >= 2 and (os.cpu_count() or 1) > 1)
    return check_bool(parallel, "parallel")


def _final_loss(hist: np.ndarray) -> np.ndarray:
    k = min(100, hist.shape[1])
    return hist[:, -k:].mean(axis=1)


@dataclass(frozen=True, eq=False)
class AbsValueModel:
    """Computation-in-superposition models h = ReLU(W1 x), y = ReLU(W2 h + b) (one per instance).

    Attributes
    ----------
    W1 : ndarray, shape (I, m, n)
        Input weights; column i is feature i's direction, row k neuron k's input weights.
    W2 : ndarray, shape (I, n, m)
        Output weights.
    b : ndarray, shape (I, n)
    importance, feature_probability : ndarray, shape (I, n)
    loss_history : ndarray, shape (I, n_steps)
    seeds : ndarray of int, shape (I,)
    seed_losses : ndarray, shape (I, n_seeds)
    """

    W1: np.ndarray
    W2: np.ndarray
    b: np.ndarray
    importance: np.ndarray
    feature_probability: np.ndarray
    settings: TrainSettings = ABS_SETTINGS
    loss_history: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    seeds: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    seed_losses: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))

    @property
    def n_instances(self) -> int:
        return int(self.W1.shape[0])

    @property
    def final_loss(self) -> np.ndarray:
        """Mean batch loss over the last min(100, n_steps) steps, per instance."""
        return _final_loss(self.loss_history)

    def hidden(self, X) -> np.ndarray:
        """Hidden activations ReLU(W1 x) of a batch X (B, n): shape (I, B, m)."""
        X = check_array(X, "X", ndim=2, shape=(None, self.W1.shape[2]), dtype=np.float64)
        return np.maximum(np.einsum("ikn,bn->ibk", self.W1, X), 0.0)

    def forward(self, X) -> np.ndarray:
        """Outputs y of a batch X (B, n): shape (I, B, n)."""
        return abs_forward(self.W1, self.W2, self.b, X)


def abs_forward(W1, W2, b, X) -> np.ndarray:
    """y = ReLU(W2 ReLU(W1 x) + b) in plain numpy, for W1 (I, m, n), W2 (I, n, m), b (I, n) and
    a batch X (B, n); returns (I, B, n).

    Examples
    --------
    >>> W1 = np.array([[[1.0], [-1.0]]]); W2 = np.array([[[1.0, 1.0]]])   # |x| by two neurons
    >>> print(abs_forward(W1, W2, [[0.0]], [[-0.5], [0.25]]).ravel())
    [0.5  0.25]
    """
    W1 = check_array(W1, "W1", ndim=3, dtype=np.float64)
    I, m, n = W1.shape
    W2 = check_array(W2, "W2", ndim=3, shape=(I, n, m), dtype=np.float64)
    b = check_array(b, "b", ndim=2, shape=(I, n), dtype=np.float64)
    X = check_array(X, "X", ndim=2, shape=(None, n), dtype=np.float64)
    H = np.maximum(np.einsum("ikn,bn->ibk", W1, X), 0.0)
    return np.maximum(np.einsum("ink,ibk->ibn", W2, H) + b[:, None, :], 0.0)


def _train_loop(kernel_args, kernel, T: int, settings_lrs, total: int, progress: bool, desc: str):
    """Run a kernel over chunks of steps (progress bar when asked); returns (losses, failed)."""
    losses = np.full((total, T), np.nan)
    failed = np.full(total, -1, dtype=np.int64)
    chunk = T if not progress else max(1, min(T, 500))
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=T, desc=desc, unit="step")
    from threadpoolctl import threadpool_limits

    try:
        with (
            threadpool_limits(limits=1, user_api="blas"),
            np.errstate(over="ignore", invalid="ignore"),
        ):
            for t0 in range(0, T, chunk):
                t1 = min(T, t0 + chunk)
                out = np.full((total, t1 - t0), np.nan)
                kernel(*kernel_args(np.ascontiguousarray(settings_lrs[t0:t1]), out, failed, t0))
                losses[:, t0:t1] = out
                if np.any(failed >= 0):
                    r = int(np.argmax(failed >= 0))
                    step = t0 + int(failed[r])
                    raise TrainingDivergedError(
                        f"training diverged (non-finite loss or gradient) at step {step} of "
                        f"instance {r}; lower lr.",
                        r,
                        step,
                    )
                if bar is not None:
                    bar.update(t1 - t0)
    finally:
        if bar is not None:
            bar.close()
    return losses


def train_abs_value(
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
) -> AbsValueModel:
    """Train computation-in-superposition models h = ReLU(W1 x), y = ReLU(W2 h + b) to output
    |x| (Elhage et al. 2022, section "Computation in Superposition").

    Parameters
    ----------
    distribution : FeatureDistribution
        Which features are active (``csuper.toy.feature_distribution``, independent features:
        no correlated or anticorrelated groups); an active feature is Uniform[-1, 1], so
        ``magnitude`` must be ``"uniform"``.
    n_dims : int
        m >= 1 hidden neurons (m < 2 n forces superposition: |x_i| needs two ReLU neurons).
    importance : array_like, shape (n,) or (I, n), optional
        I_i; default ones (the paper: 0.8**i).
    settings : TrainSettings, optional
        Optimiser settings (:data:`ABS_SETTINGS`, the notebook's; ``model`` is ignored).
    n_seeds : int
        Best-of-N per instance (lowest final loss kept).
    seeds : array_like of int, shape (I * n_seeds,), optional
        Explicit seeds, instance-major; default drawn from ``rng``.
    parallel : bool or None
        Instances in parallel threads (identical results either way).
    rng : None, int or numpy.random.Generator
    progress : bool
        Show a progress bar.

    Returns
    -------
    AbsValueModel

    Raises
    ------
    csuper.TrainingDivergedError
        When a loss or gradient becomes non-finite (``.instance`` and ``.step`` name it).

    Notes
    -----
    Loss: (1/(B n)) sum_{s,i} I_i (y_si - |x_si|)^2 on a fresh batch each step; W1, W2
    xavier-normal (std sqrt(2/(n+m))), b = 0; gradients in closed form (checked against finite
    differences in the tests), Adam/AdamW updates as torch's.

    References
    ----------
    N. Elhage et al., "Toy Models of Superposition", arXiv:2209.10652.

    Examples
    --------
    >>> import csuper.toy as toy
    >>> s = toy.TrainSettings(n_steps=400, batch_size=256, lr=1e-2)
    >>> model = train_abs_value(toy.feature_distribution(2, 1.0), 4, settings=s, rng=0)
    >>> bool(model.final_loss[0] < 0.2 * model.loss_history[0, 0])
    True
    """
    if not isinstance(distribution, FeatureDistribution):
        raise TypeError(
            "distribution must be a FeatureDistribution (see csuper.toy.feature_distribution); "
            f"got {type(distribution).__name__}."
        )
    if distribution.correlated or distribution.anticorrelated:
        raise ValueError(
            "the computation model draws independent features; the distribution has "
            "correlated or anticorrelated groups."
        )
    if distribution.magnitude != "uniform":
        raise ValueError(
            "the computation model draws active features from Uniform[-1, 1]: distribution "
            f"magnitude must be 'uniform'; got {distribution.magnitude!r}."
        )
    settings = ABS_SETTINGS if settings is None else settings
    if not isinstance(settings, TrainSettings):
        raise TypeError(f"settings must be a TrainSettings; got {type(settings).__name__}.")
    n = distribution.n_features
    m = check_int(n_dims, "n_dims", low=1)
    N = check_int(n_seeds, "n_seeds", low=1)
    progress = check_bool(progress, "progress")
    _parallel(parallel, 2)
    I0 = distribution.n_instances
    # per running instance (at most one per core) the kernel's batch arrays X, Z (B, n) and
    # Hpre, H, dH (B, m)
    threads = min(I0 * N, os.cpu_count() or 1) if _parallel(parallel, I0 * N) else 1
    check_memory(
        I0 * N * (m * n * 6 + settings.n_steps) * 8.0
        + threads * settings.batch_size * (2 * n + 3 * m) * 8.0,
        f"train_abs_value of {I0 * N} instances with n_features={n}, n_dims={m}, "
        f"batch_size={settings.batch_size} (weights, Adam moments, loss history and batches)",
        "fewer instances or steps, a smaller batch_size or a smaller n_dims",
    )
    imp = _importance(importance, I0, n)
    total = I0 * N
    seeds = _seeds(seeds, total, rng)
    std = settings.init_scale * np.sqrt(2.0 / (n + m))
    W1 = np.empty((total, m, n))
    W2 = np.empty((total, n, m))
    states = np.empty((total, 1), dtype=np.uint64)
    for r, s in enumerate(seeds):
        child = np.random.default_rng(int(s))
        W1[r] = std * child.standard_normal((m, n))
        W2[r] = std * child.standard_normal((n, m))
        states[r] = _streams.stream_states([int(child.integers(0, 2**63))], 1)[0]
    b = np.zeros((total, n))
    P = np.ascontiguousarray(np.repeat(distribution.feature_probability, N, axis=0))
    IMP = np.ascontiguousarray(np.repeat(imp, N, axis=0))
    moments = [np.zeros((total, m * n)) for _ in range(4)]  # M1, V1, M2, V2
    Mb, Vb = np.zeros((total, n)), np.zeros((total, n))
    beta1, beta2 = settings.betas
    decoupled = settings.optimizer == "adamw"
    kernel = _k.train_abs_parallel if _parallel(parallel, total) else _k.train_abs_serial

    def args(lrs, out, failed, t0):
        return (
            W1,
            W2,
            b,
            P,
            IMP,
            lrs,
            beta1,
            beta2,
            settings.eps,
            settings.weight_decay,
            decoupled,
            states,
            settings.batch_size,
            out,
            failed,
            moments[0],
            moments[1],
            moments[2],
            moments[3],
            Mb,
            Vb,
            t0,
        )

    losses = _train_loop(
        args,
        kernel,
        settings.n_steps,
        learning_rates(settings),
        total,
        progress,
        "training |x| models",
    )
    final = _final_loss(losses).reshape(I0, N)
    best = np.argmin(final, axis=1) + N * np.arange(I0)
    return AbsValueModel(
        W1=W1[best],
        W2=W2[best],
        b=b[best],
        importance=imp,
        feature_probability=distribution.feature_probability,
        settings=settings,
        loss_history=losses[best],
        seeds=seeds[best],
        seed_losses=final,
    )


def _importance(importance, n_inst: int, n: int) -> np.ndarray:
    if importance is None:
        return np.ones((n_inst, n))
    imp = check_array(importance, "importance", ndim=(1, 2), dtype=np.float64, nonnegative=True)
    if imp.ndim == 1:
        imp = imp[None, :]
    if imp.shape[1] != n or imp.shape[0] not in (1, n_inst):
        raise ValueError(f"importance must have shape ({n},) or ({n_inst}, {n}); got {imp.shape}.")
    return np.ascontiguousarray(np.broadcast_to(imp, (n_inst, n)))


@dataclass(frozen=True, eq=False)
class TiedAutoencoder:
    """Tied ReLU-output autoencoders y = ReLU(W^T W x) trained on one-hot inputs with L1 on W.

    Attributes
    ----------
    W : ndarray, shape (I, m, n)
        Column i is feature i's encoding; row k neuron k's weights.
    l1 : float
        The L1 coefficient lambda.
    loss_history : ndarray, shape (I, n_steps)
    seeds : ndarray of int, shape (I,)
    """

    W: np.ndarray
    l1: float
    loss_history: np.ndarray
    seeds: np.ndarray

    @property
    def final_loss(self) -> np.ndarray:
        return _final_loss(self.loss_history)


def train_tied_autoencoder(
    n_features: int,
    n_dims: int,
    *,
    l1: float = 1e-3,
    n_steps: int = 7500,
    lr: float = 1e-3,
    weight_decay: float = 1e-2,
    n_seeds: int = 1,
    seeds=None,
    parallel: bool | None = None,
    rng=None,
    progress: bool = False,
) -> TiedAutoencoder:
    """Train tied autoencoders y = ReLU(W^T W x) on the n one-hot inputs with L1 on the weights
    (Lecomte et al. 2023), one per seed.

    Parameters
    ----------
    n_features : int
        n >= 2 one-hot features (the whole batch: the n basis vectors).
    n_dims : int
        m >= 1 neurons (the paper's regime is m >= n: no superposition is needed).
    l1 : float
        lambda >= 0 of the penalty lambda sum |W_ki|.
    n_steps, lr, weight_decay : int, float, float
        Full-batch AdamW (torch's defaults betas (0.9, 0.999), eps 1e-8), as the paper's code.
    n_seeds : int
        Independent instances (no best-of-N: the collisions of every seed are counted).
    seeds : array_like of int, shape (n_seeds,), optional
    parallel : bool or None
    rng : None, int or numpy.random.Generator
    progress : bool

    Returns
    -------
    TiedAutoencoder

    Notes
    -----
    Loss sum_{i,j} (delta_ij - ReLU(w_i . w_j))^2 + lambda sum |W| (sums, not means, as in the
    paper's code); W_ki ~ N(0, 1/m) at initialisation. The L1 term drives each feature's
    encoding onto one neuron, the one most aligned with it at initialisation (winner-take-all);
    two features that pick the same neuron with opposite signs do not interfere through the
    output ReLU and stay together: an incidentally polysemantic neuron (see
    :func:`incidental_law`).

    References
    ----------
    V. Lecomte, K. Thaman, R. Schaeffer, N. Bashkansky, T. Chow, S. Koyejo, "What Causes
    Polysemanticity? An Alternative Origin Story of Mixed Selectivity from Incidental Causes",
    arXiv:2312.03096 (2023).

    Examples
    --------
    >>> ae = train_tied_autoencoder(4, 8, n_steps=20_000, lr=1e-2, rng=0)
    >>> print(np.sum(np.abs(ae.W[0]) > 0.5, axis=0))   # every feature on exactly one neuron
    [1 1 1 1]
    >>> print(np.round(np.sort(np.abs(ae.W[0]).max(axis=0)), 2))   # with weight ~1
    [1. 1. 1. 1.]
    """
    n = check_int(n_features, "n_features", low=2)
    m = check_int(n_dims, "n_dims", low=1)
    lam = check_real(l1, "l1", low=0.0)
    T = check_int(n_steps, "n_steps", low=1)
    lr = check_real(lr, "lr", low=0.0, low_inclusive=False)
    wd = check_real(weight_decay, "weight_decay", low=0.0)
    N = check_int(n_seeds, "n_seeds", low=1)
    progress = check_bool(progress, "progress")
    _parallel(parallel, 2)
    check_memory(
        N * (m * n * 3 + T) * 8.0,
        f"train_tied_autoencoder of {N} seeds with n_features={n}, n_dims={m} (weights and Adam "
        "moments)",
        "fewer seeds or a smaller n_dims",
    )
    seeds = _seeds(seeds, N, rng)
    W = np.empty((N, m, n))
    for r, s in enumerate(seeds):
        W[r] = np.random.default_rng(int(s)).standard_normal((n, m)).T / np.sqrt(m)
    M, V = np.zeros((N, m * n)), np.zeros((N, m * n))
    kernel = _k.train_tied_parallel if _parallel(parallel, N) else _k.train_tied_serial

    def args(lrs, out, failed, t0):
        return (W, lam, lrs, 0.9, 0.999, 1e-8, wd, True, out, failed, M, V, t0)

    losses = _train_loop(args, kernel, T, np.full(T, lr), N, progress, "training autoencoders")
    return TiedAutoencoder(W=W, l1=lam, loss_history=losses, seeds=seeds)


def incidental_polysemantic_count(W, *, low: float = 0.8, high: float = 1.2) -> int:
    """Number of neurons (rows of W (m, n)) carrying two or more features, a feature counting
    when its weight magnitude lies in [low, high] (Lecomte et al.'s criterion: trained weights
    are 0 or about +-1).

    Examples
    --------
    >>> incidental_polysemantic_count([[1.0, -1.0, 0.0], [0.0, 0.0, 0.9]])
    1
    """
    W = check_array(W, "W", ndim=2, dtype=np.float64)
    lo = check_real(low, "low", low=0.0)
    hi = check_real(high, "high", low=lo)
    a = np.abs(W)
    return int(np.count_nonzero(((a >= lo) & (a <= hi)).sum(axis=1) >= 2))


def incidental_law(n_features, n_dims) -> float | np.ndarray:
    """Expected number of incidentally polysemantic neurons, n^2 / (4 m) (Lecomte et al. 2023).

    Notes
    -----
    Each feature ends on the neuron most aligned with it at initialisation, uniformly one of m;
    about C(n, 2) / m ~ n^2 / (2 m) pairs of features pick the same neuron, and half of them
    with opposite signs, which the output ReLU lets coexist: n^2 / (4 m) polysemantic neurons
    when that number is small against m.

    Examples
    --------
    >>> incidental_law(64, 256)
    4.0
    """
    from csuper._validation import check_array, scalar_or_array

    n = check_array(n_features, "n_features", dtype=np.float64)  # ragged, strings, objects
    m = check_array(n_dims, "n_dims", dtype=np.float64)
    for value, name in ((n_features, "n_features"), (n_dims, "n_dims")):
        if np.asarray(value).dtype.kind not in "iu":  # convertible: check_array took it
            raise TypeError(f"{name} must be an integer count (or array of counts); got {value!r}.")
    scalar = np.ndim(n_features) == 0 and np.ndim(n_dims) == 0
    if np.any(n < 1) or np.any(m < 1):
        raise ValueError("n_features and n_dims must be >= 1.")
    return scalar_or_array(n**2 / (4.0 * m), scalar)
