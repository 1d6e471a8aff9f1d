"""Validation of the inputs the diagnostics share: activations H, known features X, a frame W."""

from __future__ import annotations

import numpy as np

from csuper._norms import pow2_exponent
from csuper._validation import check_array

#: Fewest samples a test that fits a read-out accepts (train and test parts both non-trivial).
MIN_SAMPLES = 20
#: Most null draws, permutations or bootstrap resamples a test accepts: a p-value's resolution
#: of 1e-6 is far below any level a test uses, and 2**31 draws asked numpy for an array it
#: could not allocate (a raw MemoryError) or ran for days.
MAX_RESAMPLES = 10**6


def check_activations(H, X=None, *, min_samples: int = MIN_SAMPLES):
    """Validated float64 copies of activations H (N, m) and, when given, features X (N, n)."""
    H = check_array(H, "H", ndim=2, dtype=np.float64)
    if H.shape[0] < min_samples:
        raise ValueError(f"H must have at least {min_samples} samples (rows); got shape {H.shape}.")
    if X is None:
        return H, None
    X = check_array(X, "X", ndim=2, dtype=np.float64)
    if X.shape[0] != H.shape[0]:
        raise ValueError(
            f"X and H must have the same number of samples (rows); got X {X.shape}, H {H.shape}."
        )
    return H, X


def check_weights(W, n_features: int | None = None, n_dims: int | None = None) -> np.ndarray:
    """Validated weights W (m, n) whose columns are feature directions (zero columns allowed)."""
    W = check_array(W, "W", ndim=2, dtype=np.float64)
    if n_features is not None and W.shape[1] != n_features:
        raise ValueError(
            f"W must have one column per feature (n_features={n_features}); got shape {W.shape}."
        )
    if n_dims is not None and W.shape[0] != n_dims:
        raise ValueError(
            f"W must have one row per hidden dimension (n_dims={n_dims}); got shape {W.shape}."
        )
    return W


def varying_features(X: np.ndarray) -> np.ndarray:
    """Indices of the features that vary over the samples (a constant feature has no R^2)."""
    return np.flatnonzero(np.ptp(X, axis=0) > 0)  # X.std underflowed to 0 for X ~ 1e-200


def r2_scores(Y: np.ndarray, Yhat: np.ndarray) -> np.ndarray:
    """Per-column R^2 = 1 - SSE / SST on the given rows; NaN for a constant column.

    Scale invariant: Y and Yhat are scaled by the power of two that brings each column of Y to a
    largest entry in [0.5, 1) (exact), so that the squares of 1e200 features do not overflow
    nor those of 1e-200 features underflow."""
    e = pow2_exponent(np.max(np.abs(Y), axis=0, initial=0.0))
    Y, Yhat = np.ldexp(Y, -e), np.ldexp(Yhat, -e)
    sst = ((Y - Y.mean(axis=0)) ** 2).sum(axis=0)
    sse = ((Y - Yhat) ** 2).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(sst > 0, 1.0 - sse / np.where(sst > 0, sst, 1.0), np.nan)


def numerical_rank(H: np.ndarray, rtol: float = 1e-8) -> int:
    """Rank of the centred rows of H (singular values above rtol times the largest)."""
    s = np.linalg.svd(H - H.mean(axis=0), compute_uv=False)
    return int(np.count_nonzero(s > rtol * s[0])) if s.size and s[0] > 0 else 0
