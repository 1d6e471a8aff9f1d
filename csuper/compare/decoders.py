"""The decoder gap: how well h = W x is decoded by the toy model's one-step ReLU read-out, by
read-outs that separate the encoder W from the decoder, by a few ISTA steps and by l1 recovery,
and whether the learned W is a better sensing matrix than a Gaussian frame.

Every metric here is conditioned on inputs with at least one active feature (an all-zero input
is decoded exactly by any read-out with a nonpositive bias and says nothing about recovery) and
is also reported by the realised number of active features.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from csuper._norms import norm2, pow2_exponent
from csuper._validation import check_array, check_frame, check_int, check_real, check_rng
from csuper.compare._model import MAX_WEIGHT

__all__ = [
    "DECODERS",
    "Decoder",
    "DecoderScore",
    "DecoderGapResult",
    "FeatureRecovery",
    "decoder_gap",
    "recovered_features",
]

#: Most feature values drawn at once (n_features * n_samples): 2**26 float64 = 512 MiB.
MAX_DRAW = 2**26
#: Feature values per chunk of :func:`recovered_features` (2**22 float64 = 32 MiB).
_CHUNK = 2**22
#: Largest n_samples_per_feature * n_features**2 of :func:`recovered_features` (minutes of work).
MAX_WORK = 2**36


@dataclass(frozen=True)
class _Problem:
    """What a decoder sees: the frame, the measurements of the test signals and a fit set."""

    W: np.ndarray  # (m, n), the learned frame
    b: np.ndarray  # (n,), the model's bias
    H: np.ndarray  # (m, B), measurements of the test signals (with noise, if any)
    X_fit: np.ndarray  # (n, B_fit), samples of the law for choosing read-out parameters
    H_fit: np.ndarray  # (m, B_fit), their measurements (same noise level)
    G: np.ndarray  # (m, n), Gaussian frame with the learned column norms
    H_gauss: np.ndarray  # (m, B), G x of the test signals (same noise level)
    H_gauss_fit: np.ndarray  # (m, B_fit)
    ista_n_iter: int


def _relu(P: _Problem) -> tuple[np.ndarray, np.ndarray]:
    return np.maximum(P.W.T @ P.H + P.b[:, None], 0.0), np.zeros(P.H.shape[1], dtype=bool)


def _relu_refit(P: _Problem) -> tuple[np.ndarray, np.ndarray]:
    """Untied read-out ReLU(D h + c) re-fitted on half the fit set (full-batch Adam, lr 3e-3,
    200 steps from D = W^T, c = b), keeping the checkpoint (every 25 steps, the start included)
    with the lowest error on the other half: the learned encoder with the best read-out of the
    model's own form that the fit set can tell."""
    half = P.X_fit.shape[1] // 2
    if half < 1:
        return _relu(P)
    X, H = P.X_fit[:, :half], P.H_fit[:, :half]
    Xv, Hv = P.X_fit[:, half:], P.H_fit[:, half:]
    D, c = P.W.T.copy(), P.b.copy()

    def val_error(D, c):
        return float(np.sum((np.maximum(D @ Hv + c[:, None], 0.0) - Xv) ** 2))

    best = (val_error(D, c), D.copy(), c.copy())
    mD, vD, mc, vc = np.zeros_like(D), np.zeros_like(D), np.zeros_like(c), np.zeros_like(c)
    lr, b1, b2 = 3e-3, 0.9, 0.999
    for t in range(1, 201):
        Z = D @ H + c[:, None]
        R = np.where(Z > 0, Z - X, 0.0) * (2.0 / half)
        gD, gc = R @ H.T, R.sum(axis=1)
        mD, vD = b1 * mD + (1 - b1) * gD, b2 * vD + (1 - b2) * gD**2
        mc, vc = b1 * mc + (1 - b1) * gc, b2 * vc + (1 - b2) * gc**2
        s = lr * np.sqrt(1 - b2**t) / (1 - b1**t)
        D -= s * mD / (np.sqrt(vD) + 1e-12)
        c -= s * mc / (np.sqrt(vc) + 1e-12)
        if t % 25 == 0 and (e := val_error(D, c)) < best[0]:
            best = (e, D.copy(), c.copy())
    _, D, c = best
    return np.maximum(D @ P.H + c[:, None], 0.0), np.zeros(P.H.shape[1], dtype=bool)


def _best_threshold_readout(Z_fit, X_fit) -> tuple[float, float]:
    """(alpha, theta) minimising the fit-set error of ReLU(alpha z - theta) over a grid."""
    scale = float(np.max(np.abs(Z_fit))) or 1.0
    alphas = np.geomspace(0.05, 20.0, 25) / scale * float(np.max(X_fit) or 1.0)
    best = (np.inf, 1.0, 0.0)
    for a in alphas:
        Y = a * Z_fit
        for q in np.linspace(0.0, 1.0, 26):
            theta = q * float(np.max(Y))
            err = float(np.sum((np.maximum(Y - theta, 0.0) - X_fit) ** 2))
            if err < best[0]:
                best = (err, float(a), theta)
    return best[1], best[2]


def _gaussian_relu(P: _Problem) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian encoder G (learned column norms), read-out ReLU(alpha G^T h - theta) with the
    scalar alpha, theta best on the fit set: a random encoder with the best one-step read-out."""
    Gn = P.G / np.maximum(np.linalg.norm(P.G, axis=0), 1e-300)
    a, theta = _best_threshold_readout(Gn.T @ P.H_gauss_fit, P.X_fit)
    return np.maximum(a * (Gn.T @ P.H_gauss) - theta, 0.0), np.zeros(P.H.shape[1], dtype=bool)


def _ista_run(W, H, X0, lam, n_iter):
    eta = 1.0 / max(float(np.linalg.norm(W, 2)) ** 2, 1e-300)
    X = X0
    for _ in range(n_iter):
        X = np.maximum(X + eta * (W.T @ (H - W @ X)) - eta * lam, 0.0)
    return X


def _ista(P: _Problem) -> tuple[np.ndarray, np.ndarray]:
    """``ista_n_iter`` steps of nonnegative ISTA on the learned W (step 1/||W||_2^2) started from
    the model's read-out ReLU(W^T h + b), the penalty lambda (0 included) best on the fit set: how
    much a few iterations of a decoder add to the amortised estimate."""

    def start(H):
        return np.maximum(P.W.T @ H + P.b[:, None], 0.0)

    top = float(np.max(P.W.T @ P.H_fit)) or 1.0
    lams = np.concatenate([[0.0], np.geomspace(1e-4, 1.0, 11) * top])
    X0 = start(P.H_fit)
    errs = [
        float(np.sum((_ista_run(P.W, P.H_fit, X0, lam, P.ista_n_iter) - P.X_fit) ** 2))
        for lam in lams
    ]
    lam = float(lams[int(np.argmin(errs))])
    X_hat = _ista_run(P.W, P.H, start(P.H), lam, P.ista_n_iter)
    return X_hat, np.zeros(P.H.shape[1], dtype=bool)


def _nnbp_on(A: np.ndarray, H: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    from csuper.recovery import batch_basis_pursuit

    res = batch_basis_pursuit(A, H, nonnegative=True)
    return np.where(np.isnan(res.x), 0.0, res.x), ~res.ok


def _nnbp(P: _Problem) -> tuple[np.ndarray, np.ndarray]:
    return _nnbp_on(P.W, P.H)


def _nnbp_gaussian(P: _Problem) -> tuple[np.ndarray, np.ndarray]:
    return _nnbp_on(P.G, P.H_gauss)


def _lasso_run(W, H, lam, n_iter=500):
    """Nonnegative LASSO min 0.5 ||W x - h||^2 + lam sum(x), x >= 0, by FISTA (batched)."""
    eta = 1.0 / max(float(np.linalg.norm(W, 2)) ** 2, 1e-300)
    X = np.zeros((W.shape[1], H.shape[1]))
    Y, t = X.copy(), 1.0
    for _ in range(n_iter):
        X_new = np.maximum(Y + eta * (W.T @ (H - W @ Y)) - eta * lam, 0.0)
        t_new = 0.5 * (1.0 + np.sqrt(1.0 + 4.0 * t * t))
        Y = X_new + ((t - 1.0) / t_new) * (X_new - X)
        X, t = X_new, t_new
    return X


def _lasso(P: _Problem) -> tuple[np.ndarray, np.ndarray]:
    """Nonnegative LASSO solved to convergence (FISTA, 500 iterations) on the learned W, its
    penalty the best of 9 on (the first 300 inputs of) the fit set: an oracle choice, an upper
    bound on what LASSO can do."""
    X_fit, H_fit = P.X_fit[:, :300], P.H_fit[:, :300]
    top = float(np.max(P.W.T @ H_fit)) or 1.0
    lams = np.geomspace(1e-4, 1.0, 9) * top
    errs = [float(np.sum((_lasso_run(P.W, H_fit, lam) - X_fit) ** 2)) for lam in lams]
    lam = float(lams[int(np.argmin(errs))])
    return _lasso_run(P.W, P.H, lam), np.zeros(P.H.shape[1], dtype=bool)


@dataclass(frozen=True)
class Decoder:
    """A decoder of :data:`DECODERS`.

    Attributes
    ----------
    description : str
    decode : callable
        ``decode(problem) -> (X_hat (n, B), failed (B,))``.
    encoder : str
        ``"learned"`` (decodes h = W x) or ``"gaussian"`` (decodes G x for a Gaussian frame G
        with the learned column norms).
    """

    description: str
    decode: Callable = field(repr=False)
    encoder: str


#: The decoders :func:`decoder_gap` compares (name -> :class:`Decoder`): the only place that maps
#: a name to its implementation; the CLI choices and the tests read it.
DECODERS: dict[str, Decoder] = {
    "relu": Decoder(
        "the model's own read-out ReLU(W^T h + b): one step, tied, amortised", _relu, "learned"
    ),
    "relu_refit": Decoder(
        "the learned W with an untied read-out ReLU(D h + c) re-fitted on fresh samples",
        _relu_refit,
        "learned",
    ),
    "gaussian_relu": Decoder(
        "a Gaussian W (learned column norms) with the best thresholded one-step read-out "
        "ReLU(alpha G^T h - theta)",
        _gaussian_relu,
        "gaussian",
    ),
    "ista": Decoder(
        "a few steps of nonnegative ISTA on the learned W from the model's read-out (penalty "
        "fitted)",
        _ista,
        "learned",
    ),
    "nnbp": Decoder(
        "nonnegative basis pursuit min sum(x) s.t. W x = h, x >= 0, on the learned W",
        _nnbp,
        "learned",
    ),
    "nnbp_gaussian": Decoder(
        "nonnegative basis pursuit on a Gaussian frame with the learned column norms",
        _nnbp_gaussian,
        "gaussian",
    ),
    "lasso": Decoder(
        "nonnegative LASSO on the learned W solved to convergence, penalty fitted (differs "
        "from basis pursuit only with noise)",
        _lasso,
        "learned",
    ),
}


@dataclass(frozen=True)
class DecoderScore:
    """How one decoder did on inputs with at least one active feature.

    Attributes
    ----------
    decoder : str
        Key of :data:`DECODERS`.
    relative_mse, relative_mse_se : float
        sum_s ||x_hat_s - x_s||^2 / sum_s ||x_s||^2 over the samples, and its delta-method
        standard error.
    exact_rate, exact_se : float
        Fraction of samples with ||x_hat - x||_2 <= exact_tol ||x||_2 (the recovery criterion of
        compressed sensing) and its binomial standard error.
    n_samples : int
    n_failed : int
        Samples whose solver did not return a certified optimum (counted as not exact; their
        estimate, where the solver gave none, as zero in the MSE).
    by_active : tuple of dict
        One row per realised number s of active features: ``active``, ``n_samples``,
        ``exact_rate``, ``relative_mse``.
    """

    decoder: str
    relative_mse: float
    relative_mse_se: float
    exact_rate: float
    exact_se: float
    n_samples: int
    n_failed: int
    by_active: tuple = field(repr=False)


@dataclass(frozen=True)
class DecoderGapResult:
    """Decoder comparison for one frame W of shape (m, n).

    Attributes
    ----------
    n_features, n_dims : int
    k_expected : float
        Expected number of active features, sum_i p_i (of the features decoded).
    scores : tuple of DecoderScore
        One per decoder, in the order asked.
    exact_tol, noise_level : float
    features : ndarray of int
        The features the signals were drawn on (all, or the represented ones).
    frame_coherence : dict
        Coherence of the learned frame (over its decoded columns), of the Gaussian frame and the
        Welch lower bound for that many lines in R^m.
    """

    n_features: int
    n_dims: int
    k_expected: float
    scores: tuple[DecoderScore, ...] = field(repr=False)
    exact_tol: float
    noise_level: float
    features: np.ndarray = field(repr=False)
    frame_coherence: dict = field(default_factory=dict)

    def score(self, decoder: str) -> DecoderScore:
        """The score of one decoder."""
        for s in self.scores:
            if s.decoder == decoder:
                return s
        raise KeyError(f"decoder {decoder!r} was not run; ran {[s.decoder for s in self.scores]}.")

    def to_records(self) -> list[dict[str, Any]]:
        """Tidy rows (one per decoder) for tables and JSON (``by_active`` as a list)."""
        base = {
            "n_features": self.n_features,
            "n_dims": self.n_dims,
            "k_expected": self.k_expected,
            "noise_level": self.noise_level,
            "n_decoded_features": int(self.features.size),
        }
        return [
            {**base, **{k: v for k, v in s.__dict__.items() if k != "by_active"}}
            | {"by_active": list(s.by_active)}
            for s in self.scores
        ]


def _score(name, X, X_hat, failed, tol) -> DecoderScore:
    """X, X_hat of shape (n, B), B >= 2, with every column nonzero; failed a boolean mask of
    length B."""
    err = np.sum((X_hat - X) ** 2, axis=0)
    norm2 = np.sum(X**2, axis=0)
    B = X.shape[1]
    R = float(err.sum() / norm2.sum())
    # delta method for a ratio of means: Var(R) ~ Var(err - R norm2) / (B mean(norm2)^2)
    se = float(np.std(err - R * norm2, ddof=1) / (np.sqrt(B) * norm2.mean()))
    exact = (np.sqrt(err) <= tol * np.sqrt(norm2)) & ~failed
    active = np.count_nonzero(X, axis=0)
    rows = []
    for s in np.unique(active):
        sel = active == s
        rows.append(
            {
                "active": int(s),
                "n_samples": int(sel.sum()),
                "exact_rate": float(exact[sel].mean()),
                "relative_mse": float(err[sel].sum() / norm2[sel].sum()),
            }
        )
    rate = float(exact.mean())
    return DecoderScore(
        name,
        R,
        se,
        rate,
        float(np.sqrt(rate * (1 - rate) / B)),
        B,
        int(failed.sum()),
        tuple(rows),
    )


def _draw_nonzero(dist, B: int, gen) -> np.ndarray:
    """B samples of ``dist`` conditioned on at least one active feature (rejection), (n, B)."""
    from csuper.toy import sample_features

    n = dist.n_features
    p_any = 1.0 - float(np.prod(1.0 - dist.feature_probability[0]))
    if p_any < 1e-6:
        raise ValueError(
            f"feature_probability is too small: an input has an active feature with probability "
            f"{p_any:.2g} < 1e-6, so conditioning on one is impractical."
        )
    out = np.empty((n, 0))
    while out.shape[1] < B:
        want = min(int(1.2 * (B - out.shape[1]) / p_any) + 16, max(MAX_DRAW // n, 1))
        X = sample_features(dist, want, rng=gen)[0].T
        out = np.hstack([out, X[:, np.any(X > 0, axis=0)]])
    return out[:, :B]


def decoder_gap(
    W: Any,
    b: Any,
    feature_probability: Any,
    *,
    n_samples: int = 500,
    decoders: tuple[str, ...] | list[str] = ("relu", "relu_refit", "gaussian_relu", "ista", "nnbp"),
    features: Any = None,
    noise_level: float = 0.0,
    magnitude: str = "uniform",
    exact_tol: float = 1e-4,
    ista_n_iter: int = 3,
    n_fit_samples: int = 1000,
    rng: Any = None,
) -> DecoderGapResult:
    """Decode h = W x of fresh inputs (at least one active feature) with several decoders.

    Parameters
    ----------
    W : array_like, shape (m, n)
        A toy model's weights (columns are feature directions; dropped features may be zero),
        entries in [-MAX_WEIGHT, MAX_WEIGHT] = [-1e30, 1e30] (the decoders' arithmetic, of
        order abs(W)^6, must not overflow).
    b : array_like, shape (n,)
        The model's output bias (used by the ``relu`` decoder), entries in [-1e30, 1e30].
    feature_probability : float or array_like, shape (n,)
        p_i, the probability that feature i is active (the training law).
    n_samples : int
        Test inputs, in [2, 10**6], drawn with at least one active feature (two at least: every
        score carries a standard error).
    decoders : sequence of str
        Keys of :data:`DECODERS`, in the order to report.
    features : array_like of int, optional
        Draw the signals on these features only (the others are zero) and decode them with the
        matching columns of W, e.g. the represented features; default every feature.
    noise_level : float
        Noise added to every measurement, h = W x + sigma g with sigma = noise_level times the
        root mean square entry of W x over the fit set (0: noiseless), in [0, 10].
    magnitude : str
        Magnitude law of active features (a key of :data:`csuper.toy.MAGNITUDE_LAWS`).
    exact_tol : float
        Relative l2 error below which a sample counts as recovered, in (0, 1).
    ista_n_iter : int
        Steps of the ``ista`` decoder, in [1, 1000].
    n_fit_samples : int
        Fresh samples on which decoders with parameters (``relu_refit``, ``gaussian_relu``,
        ``ista``, ``lasso``) choose them, in [1, 10**6].
    rng : None, int or numpy.random.Generator
        Seeds the samples, the noise and the Gaussian frame.

    Returns
    -------
    DecoderGapResult

    Notes
    -----
    The ReLU read-out x_hat = ReLU(W^T h + b) is the toy model's decoder (Elhage et al. 2022): a
    single amortised step whose weights are tied to the encoder. The other decoders separate the
    encoder from the decoder: ``relu_refit`` keeps W and re-fits an untied read-out of the same
    form; ``gaussian_relu`` keeps the read-out's form but replaces W by a Gaussian frame;
    ``ista`` adds a few steps of an iterative decoder to the read-out's estimate; nonnegative
    basis pursuit is the l1 decoder that compressed sensing analyses, exact for a Gaussian frame
    when m exceeds the statistical dimension (Amelunxen et al. 2014). The gap between the read-out
    and the iterative or l1 decoders on the same measurements is the amortisation gap of O'Neill et
    al. (2024). With noise, LASSO differs from basis pursuit (which needs h in the range of W).

    References
    ----------
    N. Elhage et al., "Toy Models of Superposition", arXiv:2209.10652 (2022). D. Amelunxen,
    M. Lotz, M. B. McCoy, J. A. Tropp, "Living on the edge", Inf. Inference 3 (2014),
    arXiv:1303.6672. C. O'Neill, A. Gumran, D. Klindt, "Compute optimal inference and provable
    amortisation gap in sparse autoencoders" (2024), arXiv:2411.13117.

    Examples
    --------
    An orthonormal W (n = m) loses nothing with the read-out or with basis pursuit:

    >>> res = decoder_gap(
    ...     np.eye(4), np.zeros(4), 0.5, n_samples=50, decoders=["relu", "nnbp"], rng=0
    ... )
    >>> [(s.decoder, round(s.relative_mse, 6), s.exact_rate) for s in res.scores]
    [('relu', 0.0, 1.0), ('nnbp', 0.0, 1.0)]
    """
    from csuper.geometry import coherence, welch_bound
    from csuper.toy import feature_distribution

    W = check_frame(W, "W", allow_zero_columns=True, dtype=np.float64)
    m, n = W.shape
    W = check_array(W, "W", low=-MAX_WEIGHT, high=MAX_WEIGHT)
    b = check_array(b, "b", shape=(n,), dtype=np.float64, low=-MAX_WEIGHT, high=MAX_WEIGHT)
    B = check_int(n_samples, "n_samples", low=2, high=10**6)
    B_fit = check_int(n_fit_samples, "n_fit_samples", low=1, high=10**6)
    for name, size in (("n_samples", B), ("n_fit_samples", B_fit)):
        if size * n > MAX_DRAW:
            raise ValueError(
                f"{name} * n_features = {size * n} exceeds {MAX_DRAW} values (512 MiB); "
                f"lower {name}."
            )
    tol = check_real(
        exact_tol, "exact_tol", low=0.0, high=1.0, low_inclusive=False, high_inclusive=False
    )
    noise = check_real(noise_level, "noise_level", low=0.0, high=10.0)
    n_iter = check_int(ista_n_iter, "ista_n_iter", low=1, high=1000)
    if isinstance(decoders, str) or not hasattr(decoders, "__iter__"):
        raise TypeError(
            f"decoders must be a sequence of names from {tuple(DECODERS)}; got {decoders!r}."
        )
    names = tuple(decoders)
    if not names or any(not isinstance(d, str) or d not in DECODERS for d in names):
        raise ValueError(
            f"decoders must be a nonempty sequence of {tuple(DECODERS)}; got {names!r}."
        )
    gen = check_rng(rng)
    p = check_array(
        feature_probability, "feature_probability", ndim=(0, 1), dtype=np.float64, low=0, high=1
    )
    p = np.broadcast_to(p.reshape(-1)[0], (n,)) if np.ndim(feature_probability) == 0 else p
    if p.shape != (n,):
        raise ValueError(
            f"feature_probability must be a scalar or have shape ({n},); got {p.shape}."
        )
    if features is None:
        idx = np.arange(n)
    else:
        idx = check_array(features, "features", ndim=1, dtype=np.int64, min_size=1)
        if np.any(idx < 0) or np.any(idx >= n) or np.unique(idx).size != idx.size:
            raise ValueError(f"features must be distinct indices in [0, {n}); got {idx.tolist()}.")
    dist = feature_distribution(idx.size, p[idx], magnitude=magnitude)
    X = _draw_nonzero(dist, B, gen)
    X_fit = _draw_nonzero(dist, B_fit, gen)
    Wd, bd = W[:, idx], b[idx]
    norms = norm2(Wd, axis=0)  # tiny W's column norms must not underflow to 0
    G = gen.standard_normal((m, idx.size))
    G *= norms / np.maximum(np.linalg.norm(G, axis=0), 1e-300)
    H, H_fit, Hg, Hg_fit = Wd @ X, Wd @ X_fit, G @ X, G @ X_fit
    if noise > 0:
        # noise_level times the RMS of h, by an exact power-of-two scaling: H_fit**2 underflowed
        # to 0 for W ~ 1e-200, and the "noisy" signals came out exact
        e = int(pow2_exponent(np.max(np.abs(H_fit))))
        sigma = float(np.ldexp(noise * np.sqrt(np.mean(np.ldexp(H_fit, -e) ** 2)), e))
        H, H_fit, Hg, Hg_fit = (
            A + sigma * gen.standard_normal(A.shape) for A in (H, H_fit, Hg, Hg_fit)
        )
    problem = _Problem(Wd, bd, H, X_fit, H_fit, G, Hg, Hg_fit, n_iter)
    scores = []
    for name in names:
        X_hat, failed = DECODERS[name].decode(problem)
        scores.append(_score(name, X, X_hat, failed, tol))
    live = Wd[:, norms > 0]
    frame_coherence = {
        "learned": coherence(live) if live.shape[1] >= 2 else 0.0,
        "gaussian": coherence(G[:, norms > 0]) if live.shape[1] >= 2 else 0.0,
        "welch": float(welch_bound(live.shape[1], m)) if live.shape[1] >= 2 else 0.0,
    }
    return DecoderGapResult(
        idx.size,
        m,
        float(p[idx].sum()),
        tuple(scores),
        tol,
        noise,
        idx,
        frame_coherence,
    )


@dataclass(frozen=True)
class FeatureRecovery:
    """How much of each feature's variance a toy model's own read-out explains.

    Attributes
    ----------
    explained_variance : ndarray, shape (n,)
        1 - E[(x_hat_i - x_i)^2] / Var(x_i), estimated (1: exact; 0: no better than predicting
        the mean, which is what a feature without a direction gets; negative: worse).
    error_active, error_inactive : ndarray, shape (n,)
        E[(x_hat_i - x_i)^2 | x_i active] and E[x_hat_i^2 | x_i = 0] (the interference a
        feature receives when it is off).
    recovered : ndarray of bool, shape (n,)
        ``explained_variance >= min_explained_variance``.
    min_explained_variance : float
    n_samples_per_feature : int
    """

    explained_variance: np.ndarray = field(repr=False)
    error_active: np.ndarray = field(repr=False)
    error_inactive: np.ndarray = field(repr=False)
    recovered: np.ndarray = field(repr=False)
    min_explained_variance: float
    n_samples_per_feature: int

    @property
    def count(self) -> int:
        """Number of recovered features."""
        return int(self.recovered.sum())


def recovered_features(
    W: Any,
    b: Any,
    feature_probability: Any,
    *,
    min_explained_variance: float = 0.5,
    n_samples_per_feature: int = 32,
    magnitude: str = "uniform",
    rng: Any = None,
) -> FeatureRecovery:
    """Which features a toy model's own read-out recovers: a recovery criterion for "represented".

    Parameters
    ----------
    W : array_like, shape (m, n)
        Entries in [-MAX_WEIGHT, MAX_WEIGHT] = [-1e30, 1e30] (as :func:`decoder_gap`: the
        squared read-out errors must stay finite).
    b : array_like, shape (n,)
        Entries in [-1e30, 1e30].
    feature_probability : float or array_like, shape (n,)
        p_i, each in (0, 1].
    min_explained_variance : float
        A feature is recovered when the read-out explains at least this fraction of its
        variance, in (0, 1).
    n_samples_per_feature : int
        Inputs per feature, in [1, 10**5]: that many with the feature forced active, and as many
        drawn from the law for the inactive part (drawn in chunks of 32 MiB).
    magnitude : str
        Key of :data:`csuper.toy.MAGNITUDE_LAWS`.
    rng : None, int or numpy.random.Generator

    Returns
    -------
    FeatureRecovery

    Notes
    -----
    E[(x_hat_i - x_i)^2] = p_i E[. | x_i active] + (1 - p_i) E[x_hat_i^2 | x_i = 0]. The active
    part is estimated on inputs that force feature j = s mod n active (a fresh magnitude) and
    draw the others from the training law; the inactive part on inputs drawn from the law where
    x_i = 0. Var(x_i) = p_i E[a^2] - p_i^2 E[a]^2 for the magnitude law a. A feature without a
    direction (w_i = 0, b_i = E x_i) explains nothing; a feature with its own direction explains
    all. The count of recovered features is the toy-model side of "recoverable", to set against
    the number l1 recovery could serve (:func:`csuper.compare.cs_capacity`).

    Examples
    --------
    >>> W = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    >>> rec = recovered_features(W, [0.0, 0.0, 0.05], 0.1, rng=0)
    >>> rec.recovered.tolist(), rec.count
    ([True, True, False], 2)
    """
    from csuper.toy import MAGNITUDE_LAWS, feature_distribution, sample_features

    W = check_frame(W, "W", allow_zero_columns=True, dtype=np.float64)
    n = W.shape[1]
    W = check_array(W, "W", low=-MAX_WEIGHT, high=MAX_WEIGHT)
    b = check_array(b, "b", shape=(n,), dtype=np.float64, low=-MAX_WEIGHT, high=MAX_WEIGHT)
    tau = check_real(
        min_explained_variance,
        "min_explained_variance",
        low=0.0,
        high=1.0,
        low_inclusive=False,
        high_inclusive=False,
    )
    per = check_int(n_samples_per_feature, "n_samples_per_feature", low=1, high=10**5)
    if per * n * n > MAX_WORK:
        raise ValueError(
            f"n_samples_per_feature * n_features**2 = {per * n * n} exceeds {MAX_WORK} (hours of "
            "work); lower n_samples_per_feature."
        )
    if not isinstance(magnitude, str) or magnitude not in MAGNITUDE_LAWS:
        raise ValueError(f"magnitude must be one of {sorted(MAGNITUDE_LAWS)}; got {magnitude!r}.")
    gen = check_rng(rng)
    p = check_array(
        feature_probability, "feature_probability", ndim=(0, 1), dtype=np.float64, low=0, high=1
    )
    p = np.broadcast_to(p.reshape(-1)[0], (n,)) if np.ndim(feature_probability) == 0 else p
    if p.shape != (n,):
        raise ValueError(
            f"feature_probability must be a scalar or have shape ({n},); got {p.shape}."
        )
    if np.any(p <= 0):
        raise ValueError(
            "feature_probability must be > 0 for every feature (a feature that is never active "
            "has no variance to explain)."
        )
    dist = feature_distribution(n, p, magnitude=magnitude)
    one = feature_distribution(1, 1.0, magnitude=magnitude)
    rows = max(1, _CHUNK // n)  # inputs per chunk: memory stays below _CHUNK values
    sq_active = np.zeros(n)
    sq_off, n_off = np.zeros(n), np.zeros(n)
    for start in range(0, per * n, rows):
        s = np.arange(start, min(per * n, start + rows))
        X = sample_features(dist, s.size, rng=gen)[0]
        forced = s % n
        mags = sample_features(one, s.size, rng=gen)[0, :, 0]
        X[np.arange(s.size), forced] = mags
        H = X @ W.T
        out = np.maximum(np.sum(H * W[:, forced].T, axis=1) + b[forced], 0.0)
        sq_active += np.bincount(forced, weights=(out - mags) ** 2, minlength=n)
        Z = sample_features(dist, s.size, rng=gen)[0]
        off = Z == 0
        Z_hat = np.maximum(Z @ W.T @ W + b, 0.0)
        sq_off += np.sum(Z_hat**2 * off, axis=0)
        n_off += off.sum(axis=0)
    e_active = sq_active / per
    e_inactive = np.where(n_off > 0, sq_off / np.maximum(n_off, 1), 0.0)
    law = MAGNITUDE_LAWS[magnitude]
    var = p * law.second_moment - (p * law.mean) ** 2
    explained = 1.0 - (p * e_active + (1.0 - p) * e_inactive) / np.maximum(var, 1e-300)
    return FeatureRecovery(explained, e_active, e_inactive, explained >= tau, tau, per)
