"""Training settings of the toy models and the registries they name: models, optimizers,
learning-rate schedules and initialisations.

Each registry is the single place that maps a name to what it means: the trainer, the plain-numpy
forward pass, the CLI choices and the parametrised tests all read it, so a new variant is added
here and nowhere else.

Examples
--------
Liu, Liu & Gore's setup (arXiv:2505.10465) at a tiny size: power-law frequencies summing to one,
magnitudes U(0, 2), negative weight decay (growth) on W, none on b, warm-up then cosine:

>>> import dataclasses
>>> import csuper.toy as toy
>>> p = toy.power_law_probabilities(100, 0.5, total=1.0)
>>> d = toy.feature_distribution(100, p, magnitude="uniform_0_2")
>>> s = dataclasses.replace(toy.LIU2025_SETTINGS, n_steps=50, batch_size=256, weight_decay=-1.0)
>>> model = toy.train(d, 10, settings=s, rng=0)
>>> model.W.shape, s.effective_bias_weight_decay, round(float(toy.learning_rates(s)[4]), 4)
((1, 10, 100), 0.0, 0.01)

The interference price at lambda = 0.1, weighted by the exact co-activation rates:

>>> priced = toy.train(d, 10, settings=dataclasses.replace(s, interference_price=0.1), rng=0)
>>> bool(toy.interference_penalty(priced.W[0], d) < toy.interference_penalty(model.W[0], d))
True
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from csuper._validation import check_bool, check_int, check_memory, check_real

__all__ = [
    "ModelVariant",
    "OptimizerRule",
    "Schedule",
    "Initialization",
    "MODELS",
    "OPTIMIZERS",
    "SCHEDULES",
    "INITIALIZATIONS",
    "TrainSettings",
    "NOTEBOOK_SETTINGS",
    "LIU2025_SETTINGS",
    "learning_rates",
]


@dataclass(frozen=True)
class ModelVariant:
    """A toy model h = f(W x), x_hat = g(W^T h + b), by its two nonlinearities.

    Attributes
    ----------
    formula : str
    hidden_relu : bool
        f = ReLU (a privileged hidden basis) instead of the identity.
    output_relu : bool
        g = ReLU instead of the identity.
    """

    formula: str
    hidden_relu: bool
    output_relu: bool


#: Toy models (name -> :class:`ModelVariant`; the trainer's kernels and :func:`toy_forward` read
#: the flags).
MODELS: dict[str, ModelVariant] = {
    "relu_output": ModelVariant("h = W x, x_hat = ReLU(W^T h + b)", False, True),
    "linear": ModelVariant("x_hat = W^T W x + b", False, False),
    "hidden_relu": ModelVariant(
        "h = ReLU(W x), x_hat = ReLU(W^T h + b) (privileged basis)", True, True
    ),
}


@dataclass(frozen=True)
class OptimizerRule:
    """Adam's update with weight decay either added to the gradient (L2, torch.optim.Adam) or
    decoupled from it (torch.optim.AdamW: p <- p (1 - lr wd) before the Adam step).

    Attributes
    ----------
    formula : str
    decoupled : bool
    """

    formula: str
    decoupled: bool


#: Optimizers (name -> :class:`OptimizerRule`).
OPTIMIZERS: dict[str, OptimizerRule] = {
    "adam": OptimizerRule("Adam, g <- g + wd p (torch.optim.Adam)", False),
    "adamw": OptimizerRule(
        "AdamW, p <- p (1 - lr wd) before the step (torch.optim.AdamW); wd < 0 on W: "
        "w_i <- w_i (1 + lr wd (1 - 1/(|w_i| + eps))) (Liu, Liu & Gore 2025)",
        True,
    ),
}


@dataclass(frozen=True)
class Schedule:
    """A learning-rate schedule: lr_t = lr * scale[t], t = 0..T-1.

    Attributes
    ----------
    formula : str
    scale : callable
        ``scale(settings) -> ndarray (n_steps,)``.
    """

    formula: str
    scale: Callable[[TrainSettings], np.ndarray]


def _constant(s: TrainSettings) -> np.ndarray:
    return np.ones(s.n_steps)


def _linear(s: TrainSettings) -> np.ndarray:
    return 1.0 - np.arange(s.n_steps) / s.n_steps


def _cosine(s: TrainSettings) -> np.ndarray:
    return np.cos(0.5 * np.pi * np.arange(s.n_steps) / max(s.n_steps - 1, 1))


def _warmup_cosine(s: TrainSettings) -> np.ndarray:
    T = s.n_steps
    warm = int(T * s.warmup_fraction)
    step = np.arange(1, T + 1, dtype=float)  # Liu et al. count steps from 1
    r = s.min_lr_ratio
    cos = r + (1.0 - r) * 0.5 * (1.0 + np.cos(np.pi * (step - warm) / max(T - warm, 1)))
    return np.where(step < warm, step / max(warm, 1), cos)


#: Learning-rate schedules (name -> :class:`Schedule`): the reference notebook's three, and Liu,
#: Liu & Gore's linear warm-up then cosine decay to ``min_lr_ratio * lr``.
SCHEDULES: dict[str, Schedule] = {
    "constant": Schedule("1", _constant),
    "linear": Schedule("1 - t / T", _linear),
    "cosine": Schedule("cos(pi t / (2 (T - 1)))", _cosine),
    "warmup_cosine": Schedule(
        "s / w for s = t + 1 < w = floor(warmup_fraction T), then r + (1 - r) (1 + cos(pi (s - w) "
        "/ (T - w))) / 2 with r = min_lr_ratio (Liu, Liu & Gore 2025)",
        _warmup_cosine,
    ),
}


@dataclass(frozen=True)
class Initialization:
    """How W and b are drawn at a cold start, from the instance's seed.

    Attributes
    ----------
    formula : str
    draw : callable
        ``draw(rng, n, m, init_scale) -> (W (m, n), b (n,))`` in float64.
    """

    formula: str
    draw: Callable[[np.random.Generator, int, int, float], tuple[np.ndarray, np.ndarray]]


def _xavier_normal(rng, n, m, scale):
    std = scale * np.sqrt(2.0 / (n + m))
    return std * rng.standard_normal((n, m)).T, np.zeros(n)  # torch's per-instance (n, m)


def _normal_unit(rng, n, m, scale):
    W = (scale / np.sqrt(m)) * rng.standard_normal((n, m)).T
    return W, rng.standard_normal(n)


#: Initialisations (name -> :class:`Initialization`).
INITIALIZATIONS: dict[str, Initialization] = {
    # the reference notebook (nn.init.xavier_normal_ per instance, b_final = 0)
    "xavier_normal": Initialization(
        "W_ki ~ N(0, init_scale^2 * 2 / (n + m)), b = 0", _xavier_normal
    ),
    # Liu, Liu & Gore 2025: torch.randn(n, m) / sqrt(m) and torch.randn(n), so E|w_i|^2 = 1
    "liu2025": Initialization("W_ki ~ N(0, init_scale^2 / m), b_i ~ N(0, 1)", _normal_unit),
}

_DTYPES = ("float32", "float64")


def _check_choice(value, name: str, registry) -> str:
    if not isinstance(value, str) or value not in registry:
        raise ValueError(f"{name} must be one of {sorted(registry)}; got {value!r}.")
    return value


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
        Base learning rate of W (and of b unless ``bias_lr``), scaled by ``schedule``.
    optimizer : str
        Key of :data:`OPTIMIZERS`: ``"adamw"`` (decoupled weight decay, torch.optim.AdamW) or
        ``"adam"`` (L2 added to the gradient, torch.optim.Adam).
    weight_decay : float
        Weight decay of W (torch's meaning). Negative values need ``optimizer="adamw"`` and mean
        Liu, Liu & Gore's growth: w_i <- w_i (1 + lr wd (1 - 1/(|w_i| + eps))) per feature,
        which lengthens features shorter than 1 (and shortens longer ones).
    betas, eps : (float, float), float
        Adam's hyper-parameters, torch's meaning.
    schedule : str
        Key of :data:`SCHEDULES`.
    init_scale : float
        Multiplies the standard deviation of W's initialisation.
    dtype : str
        ``"float64"`` (default: results compared with closed forms) or ``"float32"`` (the
        reference notebook's and PyTorch's precision, about twice as fast at large sizes). W, b,
        the data and Adam's moments are kept in this type; losses are summed in float64.
    bias_lr : float or None
        Learning rate of b (scaled by the same schedule); None: ``lr``.
    bias_weight_decay : float or None
        Weight decay of b, >= 0; None: ``weight_decay`` if it is >= 0 (torch applies one value
        to both), else 0 (growth acts on W's feature vectors only, as in Liu et al.'s code).
    warmup_fraction, min_lr_ratio : float
        Of ``schedule="warmup_cosine"`` only: the first floor(warmup_fraction * n_steps) steps
        warm up linearly, then the rate decays along a half cosine to min_lr_ratio * lr.
    initialization : str
        Key of :data:`INITIALIZATIONS`.
    interference_price : float
        lambda >= 0 of the penalty lambda * sum_{i != j} c_ij (w_i . w_j)^2 added to the loss
        (see :func:`csuper.toy.interference_penalty`); 0 (default) turns it off. Its gradient
        costs O(n m^2) per step (never an n x n matrix).
    coactivation_weighted : bool
        True: c_ij is the co-activation rate P(x_i > 0 and x_j > 0) of the training
        distribution, computed exactly from it (p_i p_j for independent features, p within a
        correlated group, 0 within an anticorrelated one; not estimated per batch). False: the
        plain price c_ij = 1.

    Examples
    --------
    >>> s = TrainSettings(n_steps=500, schedule="cosine")
    >>> s.lr, s.optimizer, s.batch_size, s.dtype
    (0.001, 'adamw', 1024, 'float64')
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
    dtype: str = "float64"
    bias_lr: float | None = None
    bias_weight_decay: float | None = None
    warmup_fraction: float = 0.0
    min_lr_ratio: float = 0.0
    initialization: str = "xavier_normal"
    interference_price: float = 0.0
    coactivation_weighted: bool = True

    def __post_init__(self) -> None:
        _check_choice(self.model, "model", MODELS)
        _check_choice(self.optimizer, "optimizer", OPTIMIZERS)
        _check_choice(self.schedule, "schedule", SCHEDULES)
        _check_choice(self.initialization, "initialization", INITIALIZATIONS)
        dtype = self.dtype
        if not isinstance(dtype, str):
            try:
                dtype = np.dtype(dtype).name
            except TypeError:
                dtype = repr(dtype)
        if dtype not in _DTYPES:
            raise ValueError(f"dtype must be one of {list(_DTYPES)}; got {self.dtype!r}.")
        object.__setattr__(self, "dtype", dtype)
        check_int(self.n_steps, "n_steps", low=1)
        check_int(self.batch_size, "batch_size", low=1)
        check_real(self.lr, "lr", low=0.0, low_inclusive=False)
        wd = check_real(self.weight_decay, "weight_decay")
        if wd < 0 and not OPTIMIZERS[self.optimizer].decoupled:
            raise ValueError(
                f"weight_decay < 0 (growth) needs a decoupled optimizer (optimizer='adamw'); got "
                f"weight_decay={wd:g} with optimizer={self.optimizer!r}."
            )
        if self.bias_lr is not None:
            check_real(self.bias_lr, "bias_lr", low=0.0, low_inclusive=False)
        if self.bias_weight_decay is not None:
            check_real(self.bias_weight_decay, "bias_weight_decay", low=0.0)
        if not isinstance(self.betas, (tuple, list)) or len(self.betas) != 2:
            raise ValueError(f"betas must be a pair (beta1, beta2); got {self.betas!r}.")
        for j, beta in enumerate(self.betas):
            check_real(beta, f"betas[{j}]", low=0.0, high=1.0, high_inclusive=False)
        check_real(self.eps, "eps", low=0.0, low_inclusive=False)
        check_real(self.init_scale, "init_scale", low=0.0, low_inclusive=False)
        check_real(self.warmup_fraction, "warmup_fraction", low=0.0, high=1.0, high_inclusive=False)
        check_real(self.min_lr_ratio, "min_lr_ratio", low=0.0, high=1.0)
        if self.schedule != "warmup_cosine" and (self.warmup_fraction or self.min_lr_ratio):
            raise ValueError(
                "warmup_fraction and min_lr_ratio belong to schedule='warmup_cosine'; got "
                f"schedule={self.schedule!r} with warmup_fraction={self.warmup_fraction!r}, "
                f"min_lr_ratio={self.min_lr_ratio!r}."
            )
        check_real(self.interference_price, "interference_price", low=0.0)
        check_bool(self.coactivation_weighted, "coactivation_weighted")
        object.__setattr__(self, "betas", (float(self.betas[0]), float(self.betas[1])))

    @property
    def effective_bias_lr(self) -> float:
        """Learning rate of b before the schedule (``bias_lr``, else ``lr``)."""
        return float(self.lr if self.bias_lr is None else self.bias_lr)

    @property
    def effective_bias_weight_decay(self) -> float:
        """Weight decay of b (``bias_weight_decay``, else max(``weight_decay``, 0))."""
        if self.bias_weight_decay is None:
            return max(float(self.weight_decay), 0.0)
        return float(self.bias_weight_decay)

    def to_dict(self) -> dict:
        """JSON-serialisable form (``TrainSettings(**d)`` rebuilds it)."""
        return dataclasses.asdict(self)


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

#: Liu, Liu & Gore 2025 (arXiv:2505.10465; their code, exp/exp-10.py): 20,000 steps of batch
#: 2048, AdamW with peak lr 1e-2 on W and b, a linear warm-up over the first 2,000 steps then a
#: cosine decay to 0.05 lr, weight decay on W only (swept from -1 to 1 in the paper; 0 here, set
#: it per run) and none on b, W_ki ~ N(0, 1/m) and b_i ~ N(0, 1), the mean squared error (all
#: importances 1). Their data: ``feature_distribution(n, power_law_probabilities(n, alpha,
#: total=1.0), magnitude="uniform_0_2")``. Their larger runs (exp-17) scale the rates with m
#: (lr_W = 0.02 (8/m)^(1/4), lr_b = 2/m, warm-up 5 %): ``bias_lr`` and ``warmup_fraction``.
LIU2025_SETTINGS = TrainSettings(
    n_steps=20_000,
    batch_size=2048,
    lr=1e-2,
    weight_decay=0.0,
    bias_weight_decay=0.0,
    schedule="warmup_cosine",
    warmup_fraction=0.1,
    min_lr_ratio=0.05,
    initialization="liu2025",
)


def learning_rates(settings: TrainSettings) -> np.ndarray:
    """Learning rate of W at every step, lr * scale(t) (see :data:`SCHEDULES`); b's is
    ``settings.effective_bias_lr / settings.lr`` times this.

    Examples
    --------
    >>> print(learning_rates(TrainSettings(n_steps=4, schedule="linear", lr=1.0)))
    [1.   0.75 0.5  0.25]
    >>> s = TrainSettings(n_steps=6, lr=1.0, schedule="warmup_cosine", warmup_fraction=0.5)
    >>> print(np.round(learning_rates(s), 3))
    [0.333 0.667 1.    0.75  0.25  0.   ]
    """
    if not isinstance(settings, TrainSettings):
        raise TypeError(f"settings must be a TrainSettings; got {type(settings).__name__}.")
    check_memory(  # the schedule's step ramp, its scale and the product, float64
        3.0 * 8 * settings.n_steps,
        f"learning_rates of settings.n_steps={settings.n_steps} (one float64 per step)",
        "pass fewer settings.n_steps",
    )
    return settings.lr * SCHEDULES[settings.schedule].scale(settings)
