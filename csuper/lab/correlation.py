"""Neuron x feature correlations of a privileged-basis toy model (the lab's first view)."""

from __future__ import annotations

import numpy as np

from csuper._validation import check_array, check_int, check_real, check_rng
from csuper.toy import feature_distribution, sample_features

__all__ = ["neuron_feature_correlation"]

#: Samples drawn per chunk (the result depends on the seed and n_samples only, not on memory).
_CHUNK = 65_536
#: Most Monte Carlo samples :func:`neuron_feature_correlation` accepts: the standard error of a
#: correlation is then below 3.2e-5 / sqrt(p), far below what the lab draws, and 10**9 samples
#: of a 10 x 5 model already take minutes (the samples are streamed: only time grows, and 2**40
#: ran for days).
MAX_SAMPLES = 10**9


def neuron_feature_correlation(
    W, feature_probability: float, *, n_samples: int = 100_000, rng=None
) -> np.ndarray:
    """Pearson correlation of each hidden neuron h_k = ReLU(w^k . x) with each feature x_i.

    Parameters
    ----------
    W : array_like, shape (m, n)
        Weights of a privileged-basis toy model (``MODELS["hidden_relu"]``: h = ReLU(W x)).
    feature_probability : float
        p in (0, 1]: each feature is active with probability p, with a Uniform[0, 1] magnitude
        (the distribution the model was trained on).
    n_samples : int
        Monte Carlo samples, in [2, :data:`MAX_SAMPLES`], drawn in chunks of 65,536.
    rng : None, int or numpy.random.Generator
        Source of the samples.

    Returns
    -------
    ndarray, shape (m, n)
        corr(h_k, x_i); NaN where h_k or x_i is constant over the samples (a dead neuron, or a
        feature that never fired).

    Notes
    -----
    Computed in one streamed pass from the sums of x, h, x^2, h^2 and h x^T. The standard error
    of a sample correlation is about (1 - r^2) / sqrt(n_samples p) when only the samples with an
    active feature carry information, so sparse data need n_samples ~ 1/p.

    Examples
    --------
    A neuron reading one feature is that feature (r = 1); a neuron reading two independent,
    identically distributed features correlates 1/sqrt(2) with each; a neuron with only
    negative weights never fires (NaN).

    >>> W = np.array([[1.0, 0.0, 0.0], [1.0, 1.0, 0.0], [-1.0, 0.0, -1.0]])
    >>> r = neuron_feature_correlation(W, 0.5, n_samples=200_000, rng=0)
    >>> print(np.round(r, 2) + 0.0)  # + 0.0 prints -0.0 as 0.0
    [[1.   0.   0.  ]
     [0.71 0.71 0.  ]
     [ nan  nan  nan]]
    """
    W = check_array(W, "W", ndim=2, dtype=np.float64)
    m, n = W.shape
    p = check_real(
        feature_probability, "feature_probability", low=0.0, high=1.0, low_inclusive=False
    )
    N = check_int(n_samples, "n_samples", low=2, high=MAX_SAMPLES)
    gen = check_rng(rng)
    # corr(ReLU(c w.x), x_i) = corr(ReLU(w.x), x_i) for c > 0: scale each row to max |W[k]| = 1
    # so that the sums neither overflow (|W| ~ 1e300) nor fall below the constancy test (1e-300)
    top = np.abs(W).max(axis=1, keepdims=True)
    W = W / np.where(top > 0, top, 1.0)
    dist = feature_distribution(n, p)
    sx, sxx = np.zeros(n), np.zeros(n)
    sh, shh = np.zeros(m), np.zeros(m)
    shx = np.zeros((m, n))
    for start in range(0, N, _CHUNK):
        X = sample_features(dist, min(_CHUNK, N - start), rng=gen)[0]
        H = np.maximum(X @ W.T, 0.0)
        sx += X.sum(axis=0)
        sxx += np.einsum("bi,bi->i", X, X)
        sh += H.sum(axis=0)
        shh += np.einsum("bk,bk->k", H, H)
        shx += H.T @ X
    mx, mh = sx / N, sh / N
    vx = np.maximum(sxx / N - mx * mx, 0.0)
    vh = np.maximum(shh / N - mh * mh, 0.0)
    cov = shx / N - np.outer(mh, mx)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = cov / np.sqrt(np.outer(vh, vx))
    r[(vh <= 1e-14)[:, None] | (vx <= 1e-14)[None, :]] = np.nan
    return np.clip(r, -1.0, 1.0)
