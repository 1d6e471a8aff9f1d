"""The decoder gap: how well h = W x can be decoded by the model's one-step ReLU read-out versus
l1 recovery on the same measurements, and whether the learned W is a good sensing matrix.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from csuper._validation import check_array, check_frame, check_int, check_real, check_rng

__all__ = ["DECODERS", "DecoderScore", "DecoderGapResult", "decoder_gap"]

#: The decoders :func:`decoder_gap` can compare (name -> what it is). The CLI and tests read this.
DECODERS: dict[str, str] = {
    "relu": "the model's own read-out x_hat = ReLU(W^T h + b): one step, amortised",
    "nnbp": "nonnegative basis pursuit min sum(x) s.t. W x = h, x >= 0, on the learned W",
    "nnbp_gaussian": "nonnegative basis pursuit with a Gaussian frame of the same shape",
    "nnbp_packing": "nonnegative basis pursuit with a minimal-coherence line packing of the "
    "same shape",
    "lasso": "nonnegative LASSO min 0.5 ||W x - h||^2 + lam sum(x), x >= 0, on the learned W, "
    "debiased by least squares on its support",
}


@dataclass(frozen=True)
class DecoderScore:
    """How one decoder did on the samples.

    Attributes
    ----------
    decoder : str
        Key of :data:`DECODERS`.
    relative_mse : float
        sum_s ||x_hat_s - x_s||^2 / sum_s ||x_s||^2 over the samples.
    exact_rate : float
        Fraction of samples with ||x_hat - x||_2 <= exact_tol * max(||x||_2, 1) -- the recovery
        criterion of compressed sensing (for the ReLU read-out it is rarely met).
    exact_se : float
        Binomial standard error of ``exact_rate``.
    n_samples : int
    n_failed : int
        Samples whose solver did not return a certified optimum (counted as not exact, and their
        estimate, where the solver gave none, as zero in the MSE). Always 0 for ``relu``.
    """

    decoder: str
    relative_mse: float
    exact_rate: float
    exact_se: float
    n_samples: int
    n_failed: int


@dataclass(frozen=True)
class DecoderGapResult:
    """Decoder comparison for one frame W of shape (m, n).

    Attributes
    ----------
    n_features, n_dims : int
    k_expected : float
        Expected number of active features, sum_i p_i.
    scores : tuple of DecoderScore
        One per decoder, in the order asked.
    exact_tol : float
    lasso_lam : float or None
    frame_coherence : dict
        Coherence of each frame measured (``"learned"`` over W's nonzero columns, ``"gaussian"``,
        ``"packing"``) and ``"welch"``, the Welch lower bound for n lines in R^m.
    frames : dict
        The comparison frames used (``"gaussian"``, ``"packing"``), shape (m, n) each.
    """

    n_features: int
    n_dims: int
    k_expected: float
    scores: tuple[DecoderScore, ...]
    exact_tol: float
    lasso_lam: float | None
    frame_coherence: dict = field(default_factory=dict)
    frames: dict = field(default_factory=dict, repr=False)

    def score(self, decoder: str) -> DecoderScore:
        """The score of one decoder."""
        for s in self.scores:
            if s.decoder == decoder:
                return s
        raise KeyError(f"decoder {decoder!r} was not run; ran {[s.decoder for s in self.scores]}.")

    def to_records(self) -> list[dict[str, Any]]:
        """Tidy rows (one per decoder) for tables and CSV."""
        base = {"n_features": self.n_features, "n_dims": self.n_dims, "k_expected": self.k_expected}
        return [{**base, **s.__dict__} for s in self.scores]


def _score(
    name: str, X: np.ndarray, X_hat: np.ndarray, failed: np.ndarray, tol: float
) -> DecoderScore:
    """X, X_hat of shape (n, B); failed a boolean mask of length B."""
    err = np.sum((X_hat - X) ** 2, axis=0)
    norm2 = np.sum(X**2, axis=0)
    total = float(norm2.sum())
    rel = float(err.sum() / total) if total > 0 else float(err.sum())
    exact = (np.sqrt(err) <= tol * np.maximum(np.sqrt(norm2), 1.0)) & ~failed
    B = X.shape[1]
    rate = float(exact.mean())
    return DecoderScore(
        name, rel, rate, float(np.sqrt(rate * (1 - rate) / B)), B, int(failed.sum())
    )


def _nnbp(A: np.ndarray, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    from csuper.recovery import batch_basis_pursuit

    res = batch_basis_pursuit(A, A @ X, nonnegative=True)
    failed = ~res.ok
    return np.where(np.isnan(res.x), 0.0, res.x), failed


def _lasso(A: np.ndarray, X: np.ndarray, lam: float) -> tuple[np.ndarray, np.ndarray]:
    """Nonnegative LASSO per sample, then least squares on the support it selects (debiasing:
    the l1 penalty shrinks every active entry by about lam / |w_i|^2, which alone would make exact
    recovery impossible). Entries below 1e-6 times the largest count as off the support (interior
    point solvers leave entries of that order on it); a support larger than the number of
    measurements cannot be debiased, and the LASSO estimate is kept as it is."""
    from csuper.recovery import L1Problem

    problem = L1Problem(A, "lasso", nonnegative=True)
    X_hat = np.zeros_like(X)
    failed = np.zeros(X.shape[1], dtype=bool)
    for s in range(X.shape[1]):
        h = A @ X[:, s]
        res = problem.solve(h, lam=lam)
        if not res.ok:
            failed[s] = True
            continue
        x = np.asarray(res.x)
        support = x > 1e-6 * max(float(x.max(initial=0.0)), 1e-300)
        if 0 < support.sum() <= A.shape[0]:
            coef = np.linalg.lstsq(A[:, support], h, rcond=None)[0]
            X_hat[support, s] = np.maximum(coef, 0.0)
        else:
            X_hat[:, s] = x
    return X_hat, failed


def decoder_gap(
    W: Any,
    b: Any,
    feature_probability: Any,
    *,
    n_samples: int = 500,
    decoders: tuple[str, ...] | list[str] = tuple(DECODERS),
    magnitude: str = "uniform",
    exact_tol: float = 1e-4,
    lasso_lam: float | None = None,
    packing_n_starts: int = 2,
    packing_polish: bool = False,
    rng: Any = None,
) -> DecoderGapResult:
    """Decode h = W x of fresh samples by the model's ReLU read-out and by l1 recovery.

    Parameters
    ----------
    W : array_like, shape (m, n)
        A toy model's weights (columns are feature directions; dropped features may be zero).
    b : array_like, shape (n,)
        The model's output bias (used by the ``relu`` decoder only).
    feature_probability : float or array_like, shape (n,)
        p_i, the probability that feature i is active in the samples (the training law).
    n_samples : int
        Number of fresh samples x (drawn with :func:`csuper.toy.sample_features`).
    decoders : sequence of str
        Keys of :data:`DECODERS`, in the order to report.
    magnitude : str
        Magnitude law of active features (a key of :data:`csuper.toy.MAGNITUDE_LAWS`).
    exact_tol : float
        Relative l2 error below which a sample counts as exactly recovered, in (0, 1).
    lasso_lam : float or None
        LASSO regularisation (>= 0); ``None`` uses 1e-3 times the mean of max_i <w_i, h> over
        the samples, small enough to stay close to basis pursuit.
    packing_n_starts : int
        Random starts of :func:`csuper.geometry.find_packing` for the packing frame (searched
        once per call).
    packing_polish : bool
        Polish the packing to its local optimum (exact, but slow beyond a few dozen lines: about
        a minute for 40 lines in R^10); the default stops at the smooth surrogate's optimum, whose
        coherence is reported in ``frame_coherence`` next to the Welch bound.
    rng : None, int or numpy.random.Generator
        Seeds the samples, the Gaussian frame and the packing search.

    Returns
    -------
    DecoderGapResult

    Notes
    -----
    Measurements are noiseless: h = W x. The ReLU read-out is the toy model's decoder
    x_hat = ReLU(W^T h + b) (Elhage et al. 2022), a single amortised step; nonnegative basis
    pursuit is the l1 decoder that compressed sensing analyses, exact for a Gaussian W when m
    exceeds the statistical dimension of the nonnegative l1 descent cone (Amelunxen et al. 2014).
    The gap between the two on the same measurements is the amortisation gap of O'Neill et al.
    (2024). Running nonnegative basis pursuit on a Gaussian and on a packing-optimal frame of the
    same shape (fresh measurements A x of the same x) says whether the learned W is a better or
    worse sensing matrix than those references.

    References
    ----------
    N. Elhage et al., "Toy Models of Superposition", Transformer Circuits Thread (2022),
    arXiv:2209.10652. D. Amelunxen, M. Lotz, M. B. McCoy, J. A. Tropp, "Living on the edge",
    Inf. Inference 3 (2014), arXiv:1303.6672. C. O'Neill, A. Gumran, D. Klindt, "Compute optimal
    inference and provable amortisation gap in sparse autoencoders" (2024), arXiv:2411.13117.

    Examples
    --------
    An orthonormal W (n = m) loses nothing with any decoder:

    >>> res = decoder_gap(
    ...     np.eye(4), np.zeros(4), 0.5, n_samples=50, decoders=["relu", "nnbp"], rng=0
    ... )
    >>> [(s.decoder, round(s.relative_mse, 6), s.exact_rate) for s in res.scores]
    [('relu', 0.0, 1.0), ('nnbp', 0.0, 1.0)]
    """
    from csuper.toy import feature_distribution, sample_features

    W = check_frame(W, "W", allow_zero_columns=True, dtype=np.float64)
    m, n = W.shape
    b = check_array(b, "b", shape=(n,), dtype=np.float64)
    B = check_int(n_samples, "n_samples", low=1)
    tol = check_real(
        exact_tol, "exact_tol", low=0.0, high=1.0, low_inclusive=False, high_inclusive=False
    )
    starts = check_int(packing_n_starts, "packing_n_starts", low=1)
    if isinstance(decoders, str):
        raise TypeError(
            f"decoders must be a sequence of names from {tuple(DECODERS)}; got the string "
            f"{decoders!r}."
        )
    decoders = tuple(decoders)
    unknown = [d for d in decoders if d not in DECODERS]
    if unknown or not decoders:
        raise ValueError(
            f"decoders must be a nonempty sequence of {tuple(DECODERS)}; got {decoders!r}."
        )
    lam = None if lasso_lam is None else check_real(lasso_lam, "lasso_lam", low=0.0)
    gen = check_rng(rng)

    dist = feature_distribution(n, feature_probability, magnitude=magnitude)
    X = sample_features(dist, B, rng=gen)[0].T  # (n, B)
    k_expected = float(dist.feature_probability[0].sum())
    H = W @ X
    frames: dict[str, np.ndarray] = {}
    scores = []
    for name in decoders:
        failed = np.zeros(B, dtype=bool)
        if name == "relu":
            X_hat = np.maximum(W.T @ H + b[:, None], 0.0)
        elif name == "nnbp":
            X_hat, failed = _nnbp(W, X)
        elif name == "nnbp_gaussian":
            frames["gaussian"] = gen.standard_normal((m, n)) / np.sqrt(m)
            X_hat, failed = _nnbp(frames["gaussian"], X)
        elif name == "nnbp_packing":
            from csuper.geometry import find_packing

            if n <= m:  # an orthonormal set is the optimal packing
                frames["packing"] = np.eye(m)[:, :n]
            else:
                frames["packing"] = find_packing(
                    n,
                    m,
                    kind="lines",
                    n_starts=starts,
                    rng=gen,
                    polish=bool(packing_polish),
                    progress=False,
                ).frame
            X_hat, failed = _nnbp(frames["packing"], X)
        else:  # lasso
            if lam is None:
                lam = 1e-3 * float(np.mean(np.max(np.abs(W.T @ H), axis=0)))
            X_hat, failed = _lasso(W, X, lam)
        scores.append(_score(name, X, X_hat, failed, tol))
    from csuper.geometry import coherence, welch_bound

    live = W[:, np.any(W != 0, axis=0)]
    frame_coherence = {"learned": coherence(live) if live.shape[1] >= 2 else 0.0}
    frame_coherence.update({name: coherence(F) for name, F in frames.items()})
    frame_coherence["welch"] = float(welch_bound(n, m)) if n >= 2 else 0.0
    return DecoderGapResult(n, m, k_expected, tuple(scores), tol, lam, frame_coherence, frames)
