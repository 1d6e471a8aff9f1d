"""Sparse autoencoders trained with a batched numba kernel: many instances in one call.

One call of :func:`train_sae` trains every (sparsity coefficient or k) x seed instance of one
architecture and width on one data set, instances in parallel threads; each instance owns its
random stream, so results depend on its seed only, not on the threads or on its siblings.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from csuper._errors import SAEDivergedError
from csuper._norms import norm2
from csuper._validation import (
    check_array,
    check_bool,
    check_input_file,
    check_int,
    check_output_file,
    check_real,
    check_rng,
    read_npz,
)

__all__ = [
    "ARCHITECTURES",
    "BIAS_INITS",
    "SAESettings",
    "SparseAutoencoder",
    "SAEDivergedError",
    "geometric_median",
    "train_sae",
    "save_sae",
    "load_sae",
]

#: Architectures (name -> kernel code, the name of the sparsity knob, the formula).
ARCHITECTURES: dict[str, dict] = {
    "relu_l1": {
        "code": 0,
        "knob": "sparsity_coefficient",
        "formula": "f = ReLU(pre); loss = MSE + lambda sum_j f_j |d_j| (|d_j| = 1 when projected)",
        "reference": "Bricken et al. 2023 (Towards Monosemanticity); Sharkey et al. 2022",
    },
    "topk": {
        "code": 1,
        "knob": "k",
        "formula": "f = ReLU(TopK_k(pre)); loss = MSE + aux_coefficient AuxK",
        "reference": "Gao et al. 2024, arXiv:2406.04093",
    },
    "batchtopk": {
        "code": 2,
        "knob": "k",
        "formula": "f = top k B of ReLU(pre) over the batch; inference f = pre 1{pre > theta}",
        "reference": "Bussmann et al. 2024, arXiv:2412.06410",
    },
    "jumprelu": {
        "code": 3,
        "knob": "sparsity_coefficient",
        "formula": "f = pre H(pre - theta_j); loss = MSE + lambda ||f||_0 (straight-through)",
        "reference": "Rajamanoharan et al. 2024, arXiv:2407.14435",
    },
}

#: Initial decoder bias b_dec (Bricken et al. 2023 and Gao et al. 2024: the geometric median).
BIAS_INITS: dict[str, str] = {
    "geometric_median": "argmin_b sum_i |x_i - b| (Weiszfeld iterations)",
    "mean": "the mean of the data",
    "zero": "0",
}

_FORMAT = "csuper.sae.SparseAutoencoder/1"


@dataclass(frozen=True)
class SAESettings:
    """Optimisation settings of :func:`train_sae`.

    Attributes
    ----------
    n_steps, batch_size : int
        Adam steps and samples per step (drawn with replacement from the data set).
    lr, betas, eps : float, (float, float), float
        torch.optim.Adam's meaning (no weight decay).
    decoder : {"project", "penalise"}
        ``"project"``: unit-norm decoder columns, kept by removing the radial part of their
        gradient and renormalising after every step; ``"penalise"`` (ReLU + L1 only): free
        decoder norms and the L1 penalty weighted by them, lambda sum_j f_j |d_j|.
    bias_init : str
        Key of :data:`BIAS_INITS` (computed on at most 4,096 rows of the data).
    aux_k, aux_coefficient : int or None, float
        AuxK (TopK, BatchTopK): the aux_k largest dead pre-activations reconstruct the residual,
        weighted by aux_coefficient (Gao et al.: 1/32). aux_k None: n_dims // 2 (at least 1;
        Gao et al. use 512 for d_model 768).
    dead_steps : int
        A latent is dead after this many steps without firing (AuxK).
    resample_every : int
        ReLU + L1: every this many steps (0: never), latents that did not fire since the last
        resampling are resampled (Bricken et al. 2023), during the first half of training.
    jump_bandwidth, jump_init_threshold : float
        JumpReLU: kernel width epsilon of the straight-through estimator and the initial theta
        (Rajamanoharan et al.: 0.001 and 0.001).
    threshold_decay : float
        BatchTopK: decay of the moving average of the smallest selected activation per batch,
        the inference threshold theta.
    learn_decoder : bool
        False freezes W_dec and b_dec at their initial values (with ``train_sae(decoder=F)``:
        an encoder trained for a known dictionary, O'Neill et al. 2024's setting).

    Examples
    --------
    >>> SAESettings(n_steps=100).lr
    0.001
    """

    n_steps: int = 5000
    batch_size: int = 256
    lr: float = 1e-3
    betas: tuple[float, float] = (0.9, 0.999)
    eps: float = 1e-8
    decoder: str = "project"
    bias_init: str = "geometric_median"
    aux_k: int | None = None
    aux_coefficient: float = 1.0 / 32.0
    dead_steps: int = 200
    resample_every: int = 0
    jump_bandwidth: float = 1e-3
    jump_init_threshold: float = 1e-3
    threshold_decay: float = 0.99
    learn_decoder: bool = True

    def __post_init__(self):
        check_int(self.n_steps, "n_steps", low=1)
        check_int(self.batch_size, "batch_size", low=1)
        check_real(self.lr, "lr", low=0.0, low_inclusive=False)
        if isinstance(self.betas, (str, bytes)) or not isinstance(self.betas, Sequence):
            raise TypeError(f"betas must be a pair (beta1, beta2); got {self.betas!r:.80}.")
        if len(self.betas) != 2:
            raise ValueError(f"betas must be a pair (beta1, beta2); got {self.betas!r}.")
        for j, beta in enumerate(self.betas):
            check_real(beta, f"betas[{j}]", low=0.0, high=1.0, high_inclusive=False)
        object.__setattr__(self, "betas", (float(self.betas[0]), float(self.betas[1])))
        check_real(self.eps, "eps", low=0.0, low_inclusive=False)
        if self.decoder not in ("project", "penalise"):
            raise ValueError(f"decoder must be 'project' or 'penalise'; got {self.decoder!r}.")
        if self.bias_init not in BIAS_INITS:
            raise ValueError(
                f"bias_init must be one of {sorted(BIAS_INITS)}; got {self.bias_init!r}."
            )
        if self.aux_k is not None:
            check_int(self.aux_k, "aux_k", low=1)
        check_real(self.aux_coefficient, "aux_coefficient", low=0.0)
        check_int(self.dead_steps, "dead_steps", low=1)
        check_int(self.resample_every, "resample_every", low=0)
        check_real(self.jump_bandwidth, "jump_bandwidth", low=0.0, low_inclusive=False)
        check_real(self.jump_init_threshold, "jump_init_threshold", low=0.0, low_inclusive=False)
        check_real(self.threshold_decay, "threshold_decay", low=0.0, high=1.0, high_inclusive=False)
        check_bool(self.learn_decoder, "learn_decoder")


@dataclass(frozen=True, eq=False)
class SparseAutoencoder:
    """Trained sparse autoencoders, one per instance, all of one architecture and width.

    Attributes
    ----------
    W_enc : ndarray, shape (n_instances, width, n_dims)
    b_enc : ndarray, shape (n_instances, width)
    W_dec : ndarray, shape (n_instances, n_dims, width)
        Columns are the learned atoms (decoder directions).
    b_dec : ndarray, shape (n_instances, n_dims)
    threshold : ndarray, shape (n_instances, width)
        JumpReLU's theta_j, BatchTopK's inference threshold (one value repeated); else 0.
    architecture : str
        Key of :data:`ARCHITECTURES`.
    sparsity_coefficient : ndarray, shape (n_instances,)
        lambda (ReLU + L1, JumpReLU; NaN for TopK and BatchTopK).
    k : ndarray of int, shape (n_instances,)
        TopK / BatchTopK's k (0 otherwise).
    seeds : ndarray of int, shape (n_instances,)
        ``train_sae(..., seeds=[s])`` with the same data, settings and knob reproduces it.
    settings : SAESettings
    loss_history : ndarray, shape (n_instances, n_steps)
        Batch loss before each step's update.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = np.abs(rng.standard_normal((256, 4)))
    >>> s = SAESettings(n_steps=50, batch_size=32)
    >>> sae = train_sae(X, 8, "topk", k=[1, 2], settings=s, rng=0)
    >>> sae.n_instances, sae.width, sae.encode(X[:3]).shape
    (2, 8, (2, 3, 8))
    """

    W_enc: np.ndarray
    b_enc: np.ndarray
    W_dec: np.ndarray
    b_dec: np.ndarray
    threshold: np.ndarray
    architecture: str
    sparsity_coefficient: np.ndarray
    k: np.ndarray
    seeds: np.ndarray
    settings: SAESettings = SAESettings()
    loss_history: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros((0, 0)))

    @property
    def n_instances(self) -> int:
        return int(self.W_enc.shape[0])

    @property
    def width(self) -> int:
        return int(self.W_enc.shape[1])

    @property
    def n_dims(self) -> int:
        return int(self.W_enc.shape[2])

    def pre_activations(self, X) -> np.ndarray:
        """(x - b_dec) W_enc^T + b_enc for every instance, shape (n_instances, B, width)."""
        X = _check_inputs(X, self.n_dims)
        Xc = X[None, :, :] - self.b_dec[:, None, :]
        return np.einsum("ibm,ilm->ibl", Xc, self.W_enc) + self.b_enc[:, None, :]

    def encode(self, X) -> np.ndarray:
        """Codes f of the rows of X (B, n_dims) for every instance, shape (n_instances, B, width).

        Inference rules: ReLU for ``relu_l1``, ReLU of the per-row top k for ``topk``,
        pre 1{pre > theta} for ``jumprelu`` and ``batchtopk`` (its learned global threshold,
        Bussmann et al. 2024, so that inference does not depend on the batch).
        """
        pre = self.pre_activations(X)
        arch = self.architecture
        if arch == "relu_l1":
            return np.maximum(pre, 0.0)
        if arch == "topk":
            out = np.zeros_like(pre)
            for r in range(self.n_instances):
                kk = int(self.k[r])
                idx = np.argsort(pre[r], axis=1, kind="stable")[:, -kk:]
                vals = np.take_along_axis(pre[r], idx, axis=1)
                np.put_along_axis(out[r], idx, np.maximum(vals, 0.0), axis=1)
            return out
        return np.where(pre > self.threshold[:, None, :], pre, 0.0)

    def decode(self, codes) -> np.ndarray:
        """f W_dec^T + b_dec for codes of shape (n_instances, B, width)."""
        codes = check_array(codes, "codes", ndim=3, dtype=np.float64)
        if codes.shape[0] != self.n_instances or codes.shape[2] != self.width:
            raise ValueError(
                f"codes must have shape ({self.n_instances}, B, {self.width}); got {codes.shape}."
            )
        return np.einsum("ibl,iml->ibm", codes, self.W_dec) + self.b_dec[:, None, :]

    def reconstruct(self, X) -> np.ndarray:
        """decode(encode(X)), shape (n_instances, B, n_dims)."""
        return self.decode(self.encode(X))

    def save(self, path) -> None:
        """Save to ``path`` (.npz), see :func:`save_sae`."""
        save_sae(self, path)


def _check_inputs(X, n_dims: int | None = None) -> np.ndarray:
    X = check_array(X, "X", ndim=2, dtype=np.float64)
    if n_dims is not None and X.shape[1] != n_dims:
        raise ValueError(f"X must have n_dims={n_dims} columns; got shape {X.shape}.")
    return X


def geometric_median(X, *, n_iter: int = 200, tol: float = 1e-10) -> np.ndarray:
    """Geometric median argmin_b sum_i |x_i - b|_2 of the rows of X (Weiszfeld's algorithm).

    Parameters
    ----------
    X : array_like, shape (N, m)
    n_iter : int
        Iteration cap.
    tol : float
        Stop when the update moves less than tol (relative to the data's scale).

    Notes
    -----
    Weiszfeld's fixed point b <- sum_i w_i x_i / sum_i w_i, w_i = 1 / |x_i - b|, started at the
    mean; a data point hit exactly is nudged by 1e-12 of the scale (the minimiser may be a data
    point, where the weight is undefined). The iteration runs on X / max|X| and scales back
    (the median is scale-equivariant), so that entries near the float range neither overflow
    nor underflow.

    References
    ----------
    E. Weiszfeld, "Sur le point pour lequel la somme des distances de n points donnés est
    minimum", Tohoku Math. J. 43 (1937).

    Examples
    --------
    For four points in convex position the median is where the diagonals cross:

    >>> print(np.round(geometric_median([[0.0, 0.0], [1.0, 0.0], [10.0, 10.0], [0.0, 1.0]]), 6))
    [0.5 0.5]
    """
    X = check_array(X, "X", ndim=2, dtype=np.float64)
    check_int(n_iter, "n_iter", low=1)
    tol = check_real(tol, "tol", low=0.0)
    scale = float(np.abs(X).max())
    if scale == 0.0:
        return np.zeros(X.shape[1])
    Y = X / scale  # the median is equivariant under scaling; this keeps |x_i - b| finite
    b = Y.mean(axis=0)
    for _ in range(n_iter):
        d = np.linalg.norm(Y - b, axis=1)
        w = 1.0 / np.maximum(d, 1e-12)
        nb = (w[:, None] * Y).sum(axis=0) / w.sum()
        if np.linalg.norm(nb - b) <= tol:
            b = nb
            break
        b = nb
    return b * scale


def _initial_state(
    seed: int, X: np.ndarray, width: int, arch: str, settings: SAESettings, b_dec, decoder=None
):
    """Flat parameter vector of one instance and its xorshift stream state, from its seed alone."""
    from csuper._stream_kernels import stream_states

    m = X.shape[1]
    child = np.random.default_rng(int(seed))
    D = child.standard_normal((m, width))
    if decoder is not None:
        D = decoder.copy()
    D /= norm2(D, axis=0)
    lt = np.full(width, np.log(settings.jump_init_threshold))
    P = np.concatenate([D.T.ravel(), np.zeros(width), D.ravel(), b_dec, lt])
    state = stream_states([int(child.integers(0, 2**63))], 1)[0]
    return P, state


def train_sae(
    X,
    width: int,
    architecture: str = "relu_l1",
    *,
    sparsity_coefficient=None,
    k=None,
    settings: SAESettings | None = None,
    n_seeds: int = 1,
    seeds=None,
    parallel: bool | None = None,
    rng=None,
    progress: bool = False,
    decoder=None,
) -> SparseAutoencoder:
    """Train sparse autoencoders of one architecture and width on the rows of X.

    Instances: every value of the architecture's knob (``sparsity_coefficient`` for ``relu_l1``
    and ``jumprelu``, ``k`` for ``topk`` and ``batchtopk``) times ``n_seeds`` seeds,
    knob-major (instance r = knob index r // n_seeds, seed r % n_seeds).

    Parameters
    ----------
    X : array_like, shape (n_samples, n_dims)
        Training data; every step draws ``settings.batch_size`` rows with replacement.
    width : int
        Number of latents (dictionary size), >= 1.
    architecture : str
        Key of :data:`ARCHITECTURES`.
    sparsity_coefficient : float or sequence of float
        lambda >= 0 (``relu_l1``: L1 weight, ``jumprelu``: L0 weight).
    k : int or sequence of int
        Active latents per sample, in [1, width] (``topk``, ``batchtopk``).
    settings : SAESettings, optional
    n_seeds : int
        Seeds per knob value.
    seeds : array_like of int, optional
        Explicit seeds, one per instance (default: drawn from ``rng``).
    parallel : bool or None
        Instances in parallel threads (numba ``prange``); None: when there are at least 2
        instances and 2 CPUs. Identical results either way.
    rng : None, int or numpy.random.Generator
        Source of the seeds.
    progress : bool
        tqdm progress bar over chunks of steps.
    decoder : array_like, shape (n_dims, width), optional
        Initial decoder (columns normalised; the encoder starts at its transpose) instead of
        random unit columns; with ``settings.learn_decoder=False`` it stays fixed.

    Returns
    -------
    SparseAutoencoder

    Raises
    ------
    SAEDivergedError
        On a non-finite loss or gradient.

    Notes
    -----
    Initialisation (Gao et al. 2024; Bricken et al. 2023): decoder columns are random unit
    vectors, the encoder is the decoder's transpose, b_enc = 0, b_dec the geometric median
    (or mean) of the data. The encoder sees x - b_dec. Loss and gradients: see the kernel
    ``loss_grad`` in ``csuper/sae/_sae_kernels.py``: the squared error is summed over the
    n_dims coordinates and averaged over the batch. Adam follows torch.optim.Adam.

    References
    ----------
    T. Bricken et al., "Towards Monosemanticity", Transformer Circuits 2023; L. Gao et al.,
    "Scaling and evaluating sparse autoencoders", arXiv:2406.04093; B. Bussmann, P. Leask,
    N. Nanda, "BatchTopK Sparse Autoencoders", arXiv:2412.06410; S. Rajamanoharan et al.,
    "Jumping Ahead: Improving Reconstruction Fidelity with JumpReLU Sparse Autoencoders",
    arXiv:2407.14435.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> F = np.linalg.qr(rng.standard_normal((6, 6)))[0][:, :4]
    >>> C = rng.random((2048, 4)) * (rng.random((2048, 4)) < 0.3)
    >>> sae = train_sae(C @ F.T, 4, sparsity_coefficient=0.01,
    ...                 settings=SAESettings(n_steps=3000, lr=1e-2), rng=0)
    >>> cos = np.abs(F.T @ sae.W_dec[0])
    >>> print(round(float(cos.max(axis=1).mean()), 2))
    1.0
    """
    X = _check_inputs(X)
    if X.shape[0] < 1:
        raise ValueError("X must have at least one row.")
    L = check_int(width, "width", low=1)
    if not isinstance(architecture, str) or architecture not in ARCHITECTURES:
        raise ValueError(
            f"architecture must be one of {sorted(ARCHITECTURES)}; got {architecture!r:.80}."
        )
    settings = SAESettings() if settings is None else settings
    if not isinstance(settings, SAESettings):
        raise TypeError(f"settings must be an SAESettings; got {type(settings).__name__}.")
    if settings.decoder == "penalise" and architecture != "relu_l1":
        raise ValueError("decoder='penalise' applies to architecture 'relu_l1' only.")
    knob = ARCHITECTURES[architecture]["knob"]
    if knob == "k":
        if k is None:
            raise ValueError(f"architecture {architecture!r} needs k (an integer in [1, width]).")
        if sparsity_coefficient is not None:
            raise ValueError(f"architecture {architecture!r} takes k, not sparsity_coefficient.")
        ks = np.atleast_1d(np.asarray(k, dtype=object))  # object: a ragged k reaches check_int
        if ks.ndim != 1 or ks.size == 0:
            raise ValueError(f"k must be an integer or a 1-D sequence of integers; got {k!r}.")
        ks = np.array(
            [check_int(v.item() if hasattr(v, "item") else v, "k", low=1, high=L) for v in ks],
            dtype=np.int64,
        )
        coefs = np.full(ks.size, np.nan)
    else:
        if sparsity_coefficient is None:
            raise ValueError(f"architecture {architecture!r} needs sparsity_coefficient (>= 0).")
        if k is not None:
            raise ValueError(f"architecture {architecture!r} takes sparsity_coefficient, not k.")
        coefs = check_array(
            sparsity_coefficient,
            "sparsity_coefficient",
            ndim=(0, 1),
            dtype=np.float64,
            nonnegative=True,
        ).reshape(-1)
        ks = np.zeros(coefs.size, dtype=np.int64)
    N = check_int(n_seeds, "n_seeds", low=1)
    total = coefs.size * N
    if seeds is None:
        seeds = check_rng(rng).integers(0, 2**63, size=total)
    else:
        seeds = check_array(seeds, "seeds", ndim=1, shape=(total,), dtype=np.int64)
        if np.any(seeds < 0):
            raise ValueError("seeds must be nonnegative integers.")
    seeds = np.asarray(seeds, dtype=np.int64)
    m = X.shape[1]
    if decoder is not None:
        decoder = check_array(decoder, "decoder", ndim=2, shape=(m, L), dtype=np.float64)
        if np.any(norm2(decoder, axis=0) == 0):
            raise ValueError("decoder must have nonzero columns.")
    sample = X[: min(4096, X.shape[0])]
    b0 = {
        "geometric_median": lambda: geometric_median(sample),
        "mean": lambda: sample.mean(axis=0),
        "zero": lambda: np.zeros(m),
    }[settings.bias_init]()
    Ps, st = zip(*(_initial_state(s, X, L, architecture, settings, b0, decoder) for s in seeds))
    P = np.ascontiguousarray(np.stack(Ps))
    states = np.ascontiguousarray(np.stack(st))
    M = np.zeros_like(P)
    V = np.zeros_like(P)
    coef_i = np.ascontiguousarray(np.repeat(coefs, N))
    k_i = np.ascontiguousarray(np.repeat(ks, N))
    aux_k = settings.aux_k if settings.aux_k is not None else max(1, m // 2)
    T = settings.n_steps
    lrs = np.full(T, settings.lr)
    losses = np.full((total, T), np.nan)
    failed = np.full(total, -1, dtype=np.int64)
    last_fired = np.full((total, L), -1, dtype=np.int64)
    if parallel is None:
        parallel = total >= 2 and (os.cpu_count() or 1) > 1
    from csuper.sae import _sae_kernels as _k

    kernel = _k.train_parallel if parallel else _k.train_serial
    chunk = T if not progress else max(1, min(T, 250))
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=T, desc=f"SAE {architecture} width {L}", unit="step")
    from threadpoolctl import threadpool_limits

    code = ARCHITECTURES[architecture]["code"]
    weighted = settings.decoder == "penalise"
    project = not weighted
    beta1, beta2 = settings.betas
    try:
        with (
            threadpool_limits(limits=1, user_api="blas"),
            np.errstate(over="ignore", invalid="ignore"),
        ):
            for t0 in range(0, T, chunk):
                t1 = min(T, t0 + chunk)
                out = np.full((total, t1 - t0), np.nan)
                kernel(
                    P,
                    M,
                    V,
                    X,
                    states,
                    code,
                    L,
                    coef_i,
                    k_i,
                    weighted,
                    project,
                    settings.learn_decoder,
                    aux_k,
                    settings.aux_coefficient,
                    settings.dead_steps,
                    settings.jump_bandwidth,
                    settings.resample_every,
                    T // 2,
                    np.ascontiguousarray(lrs[t0:t1]),
                    beta1,
                    beta2,
                    settings.eps,
                    settings.batch_size,
                    last_fired,
                    settings.threshold_decay,
                    out,
                    failed,
                    t0,
                )
                losses[:, t0:t1] = out
                if np.any(failed >= 0):
                    r = int(np.argmax(failed >= 0))
                    raise SAEDivergedError(
                        f"SAE training diverged (non-finite loss or gradient) at step "
                        f"{t0 + int(failed[r])} of instance {r} (seed {int(seeds[r])}); lower lr "
                        f"(now {settings.lr:g}).",
                        r,
                        t0 + int(failed[r]),
                    )
                if bar is not None:
                    bar.update(t1 - t0)
    finally:
        if bar is not None:
            bar.close()
    o1, o2, o3, o4 = L * m, L * m + L, 2 * L * m + L, 2 * L * m + L + m
    thr = np.exp(P[:, o4:])
    if code in (0, 1):
        thr = np.zeros((total, L))
    return SparseAutoencoder(
        W_enc=np.ascontiguousarray(P[:, :o1].reshape(total, L, m)),
        b_enc=np.ascontiguousarray(P[:, o1:o2]),
        W_dec=np.ascontiguousarray(P[:, o2:o3].reshape(total, m, L)),
        b_dec=np.ascontiguousarray(P[:, o3:o4]),
        threshold=np.ascontiguousarray(thr),
        architecture=architecture,
        sparsity_coefficient=coef_i,
        k=k_i,
        seeds=seeds,
        settings=settings,
        loss_history=losses,
    )


def save_sae(sae: SparseAutoencoder, path) -> None:
    """Save a SparseAutoencoder to an ``.npz`` file (no pickles).

    File format (``csuper.sae.SparseAutoencoder/1``): float64 arrays ``W_enc`` (I, L, m),
    ``b_enc`` (I, L), ``W_dec`` (I, m, L), ``b_dec`` (I, m), ``threshold`` (I, L),
    ``sparsity_coefficient`` (I,), ``loss_history`` (I, T), int64 ``k`` and ``seeds`` (I,), and
    ``metadata``, a 0-d unicode array holding JSON ``{"format", "architecture", "settings"}``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> rng = np.random.default_rng(0)
    >>> sae = train_sae(rng.random((64, 3)), 4, sparsity_coefficient=0.1,
    ...                 settings=SAESettings(n_steps=5, batch_size=8), rng=0)
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "sae.npz"
    >>> save_sae(sae, f)
    >>> bool(np.array_equal(load_sae(f).W_dec, sae.W_dec))
    True
    """
    if not isinstance(sae, SparseAutoencoder):
        raise TypeError(f"sae must be a SparseAutoencoder; got {type(sae).__name__}.")
    path = check_output_file(path, "path")
    meta = {
        "format": _FORMAT,
        "architecture": sae.architecture,
        "settings": dataclasses.asdict(sae.settings),
    }
    with open(path, "wb") as fh:
        np.savez(
            fh,
            W_enc=sae.W_enc,
            b_enc=sae.b_enc,
            W_dec=sae.W_dec,
            b_dec=sae.b_dec,
            threshold=sae.threshold,
            sparsity_coefficient=sae.sparsity_coefficient,
            loss_history=sae.loss_history,
            k=np.asarray(sae.k, dtype=np.int64),
            seeds=np.asarray(sae.seeds, dtype=np.int64),
            metadata=np.array(json.dumps(meta)),
        )


def load_sae(path) -> SparseAutoencoder:
    """Load a SparseAutoencoder saved by :func:`save_sae`, checking format, shapes and finiteness.

    Raises
    ------
    ValueError
        If the file is not a readable csuper SAE file, or its arrays are inconsistent.
    """
    path = check_input_file(path, "path")
    data = read_npz(path, "csuper SAE file")
    required = (
        "W_enc",
        "b_enc",
        "W_dec",
        "b_dec",
        "threshold",
        "sparsity_coefficient",
        "loss_history",
        "k",
        "seeds",
        "metadata",
    )
    missing = [key for key in required if key not in data]
    if missing:
        raise ValueError(f"{path} is not a csuper SAE file: missing array(s) {missing}.")
    try:
        meta = json.loads(str(data["metadata"]))
        fmt, arch, sd = meta["format"], meta["architecture"], dict(meta["settings"])
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"{path}: corrupt metadata ({exc}).") from None
    if fmt != _FORMAT:
        raise ValueError(f"{path}: unsupported format {fmt!r}; expected {_FORMAT!r}.")
    if arch not in ARCHITECTURES:
        raise ValueError(f"{path}: unknown architecture {arch!r}.")
    try:
        sd["betas"] = tuple(sd["betas"])
        settings = SAESettings(**sd)
    except (TypeError, ValueError, KeyError) as exc:
        raise ValueError(f"{path}: invalid settings in metadata ({exc}).") from None
    We = data["W_enc"]
    if We.ndim != 3:
        raise ValueError(f"{path}: W_enc must be 3-D (instances, width, n_dims); got {We.shape}.")
    I, L, m = We.shape
    expect = {
        "b_enc": (I, L),
        "W_dec": (I, m, L),
        "b_dec": (I, m),
        "threshold": (I, L),
        "sparsity_coefficient": (I,),
        "k": (I,),
        "seeds": (I,),
    }
    for key, shp in expect.items():
        if data[key].shape != shp:
            raise ValueError(f"{path}: {key} has shape {data[key].shape}, expected {shp}.")
    for key in ("W_enc", "b_enc", "W_dec", "b_dec", "threshold"):
        if not np.all(np.isfinite(data[key])):
            raise ValueError(f"{path}: {key} contains non-finite values.")
    return SparseAutoencoder(
        W_enc=We.astype(np.float64),
        b_enc=data["b_enc"].astype(np.float64),
        W_dec=data["W_dec"].astype(np.float64),
        b_dec=data["b_dec"].astype(np.float64),
        threshold=data["threshold"].astype(np.float64),
        architecture=arch,
        sparsity_coefficient=data["sparsity_coefficient"].astype(np.float64),
        k=data["k"].astype(np.int64),
        seeds=data["seeds"].astype(np.int64),
        settings=settings,
        loss_history=data["loss_history"].astype(np.float64),
    )
