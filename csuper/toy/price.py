"""The interference price: a penalty on the overlaps of feature directions, weighted by how often
the features are active together (issue 14, "Pricing interference").

    P(W) = sum_{i != j} c_ij (w_i . w_j)^2,

with c_ij the co-activation rate P(x_i > 0 and x_j > 0) of the feature distribution (computed
exactly from it, never estimated from a batch) or c_ij = 1 (the plain price). Training with
``TrainSettings(interference_price=lam)`` minimises loss + lam * P(W).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from csuper._lazy import lazy_import
from csuper._validation import check_array, check_bool, check_memory
from csuper.toy.data import FeatureDistribution

_k = lazy_import("csuper.toy._train_kernels")

if TYPE_CHECKING:
    from csuper.toy._train_kernels import PriceData

__all__ = ["coactivation_matrix", "interference_penalty"]


def _price_data(dist: FeatureDistribution, weighted: bool, repeat: int, dtype) -> PriceData:
    """Weights of the price as the kernel takes them: c_ij = q_i q_j + delta_g within group g.

    Independent features and different groups fire independently: c_ij = p_i p_j. Members of a
    correlated group (common p) fire together: c_ij = p = p^2 + (p - p^2). Members of an
    anticorrelated group are never active together: c_ij = 0 = p^2 - p^2.
    """
    P = np.repeat(dist.feature_probability, repeat, axis=0)
    n_groups = len(dist.correlated) + len(dist.anticorrelated)
    if not weighted:
        return _k.PriceData(np.ones(P.shape, dtype), np.zeros((P.shape[0], n_groups), dtype))
    delta = np.zeros((P.shape[0], n_groups))
    for g, members in enumerate(dist.correlated + dist.anticorrelated):
        p = P[:, members[0]]
        delta[:, g] = p - p * p if g < len(dist.correlated) else -p * p
    return _k.PriceData(np.ascontiguousarray(P, dtype), np.ascontiguousarray(delta, dtype))


def _check_dist(distribution) -> FeatureDistribution:
    if not isinstance(distribution, FeatureDistribution):
        raise TypeError(
            "distribution must be a FeatureDistribution (see feature_distribution); got "
            f"{type(distribution).__name__}."
        )
    return distribution


def coactivation_matrix(distribution: FeatureDistribution) -> np.ndarray:
    """Exact co-activation rates c_ij = P(x_i > 0 and x_j > 0) of a feature distribution.

    Parameters
    ----------
    distribution : FeatureDistribution

    Returns
    -------
    ndarray, shape (n_instances, n, n)
        Symmetric; the diagonal holds p_i = P(x_i > 0).

    Notes
    -----
    Independent features (and members of different groups) give p_i p_j; two members of a
    correlated group, which always fire together, give their common p; two members of an
    anticorrelated group, of which exactly one fires, give 0.

    Examples
    --------
    >>> from csuper.toy import feature_distribution
    >>> d = feature_distribution(4, 0.2, correlated=[(0, 1)], anticorrelated=[(2, 3)])
    >>> print(np.round(coactivation_matrix(d)[0], 3))
    [[0.2  0.2  0.04 0.04]
     [0.2  0.2  0.04 0.04]
     [0.04 0.04 0.2  0.  ]
     [0.04 0.04 0.   0.2 ]]
    """
    dist = _check_dist(distribution)
    I, n = dist.feature_probability.shape
    check_memory(8.0 * I * n * n, f"coactivation_matrix of {I} x {n} x {n}", "use fewer features")
    P = dist.feature_probability
    C = P[:, :, None] * P[:, None, :]
    for g in dist.correlated:
        C[:, np.ix_(g, g)[0], np.ix_(g, g)[1]] = P[:, g[0], None, None]
    for g in dist.anticorrelated:
        C[:, np.ix_(g, g)[0], np.ix_(g, g)[1]] = 0.0
    idx = np.arange(n)
    C[:, idx, idx] = P
    return C


def interference_penalty(W, distribution=None, *, coactivation_weighted: bool = True):
    """The interference price P(W) = sum_{i != j} c_ij (w_i . w_j)^2 of weights W.

    Parameters
    ----------
    W : array_like, shape (m, n) or (I, m, n)
        Columns are the feature directions w_i.
    distribution : FeatureDistribution, optional
        The training distribution (one instance, or I); needed when ``coactivation_weighted``.
    coactivation_weighted : bool
        True: c_ij = the co-activation rate of ``distribution`` (:func:`coactivation_matrix`);
        False: c_ij = 1.

    Returns
    -------
    float or ndarray of shape (I,)
        A float for a single W of shape (m, n).

    Notes
    -----
    Computed as the trainer computes it: with c_ij = q_i q_j + delta_g inside group g,
    sum_{i,j} q_i q_j (w_i . w_j)^2 = ||W Q W^T||_F^2 (Q = diag(q), an m x m matrix), plus
    delta_g ||W_g W_g^T||_F^2 per group, minus the diagonal sum_i c_ii |w_i|^4: O(n m^2)
    operations, never the n x n Gram matrix. The pricing question (are overcomplete codes
    with sparsity penalties Pigouvian taxes on interference?) is issue 14's.

    Examples
    --------
    >>> W = np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]])
    >>> interference_penalty(W, coactivation_weighted=False)  # 2 * (1 + 1 + 0)
    4.0
    """
    weighted = check_bool(coactivation_weighted, "coactivation_weighted")
    arr = check_array(W, "W", ndim=(2, 3))
    single = arr.ndim == 2
    Ws = arr[None] if single else arr
    I, _m, n = Ws.shape
    if distribution is None:
        if weighted:
            raise ValueError(
                "coactivation_weighted=True needs the training distribution; pass distribution "
                "or set coactivation_weighted=False."
            )
        from csuper.toy.data import feature_distribution

        dist = feature_distribution(n, 1.0)
    else:
        dist = _check_dist(distribution)
    if dist.n_features != n:
        raise ValueError(f"distribution has n_features={dist.n_features}; W has {n} columns.")
    if dist.n_instances not in (1, I):
        raise ValueError(
            f"distribution has {dist.n_instances} instances; W has {I} (give 1 or {I})."
        )
    price = _price_data(dist, weighted, I // dist.n_instances, arr.dtype)
    _, gstart, gmem, _, _ = dist._groups
    out = np.empty(I)
    for r in range(I):
        Wt = np.ascontiguousarray(Ws[r].T)
        out[r] = _k.price_grad(Wt, price.Q[r], price.delta[r], gstart, gmem, 0.0)[0]
    return float(out[0]) if single else out
