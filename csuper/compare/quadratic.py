"""The quadratic toy model of Scherlis et al. (2022): its expected loss, its loss as a function of
capacities, its Lagrangian (KKT) allocation and a trainer for the model itself.

Model: target y = sum_i v_i x_i^2, prediction y_hat = |W x|^2 + b = sum_{ij} (w_i . w_j) x_i x_j
+ b, loss E[(y - y_hat)^2], inputs x_i independent and symmetric with E[x_i^2] = 1 and kurtosis
K_i = E[x_i^4]. It is the case where the reduction of the loss to per-feature capacity losses is
exact enough to test the allocation against trained models to 1e-4.

The formulas here are derived from the model's definition (the derivations are in the Notes);
the tests check each one against an independent route (Monte Carlo of the model, finite
differences, a direct constrained optimisation, brute force, trained models).
"""

from __future__ import annotations

import numpy as np

from csuper._lazy import lazy_import
from csuper._validation import check_array, check_frame, check_int, check_real, check_rng
from csuper.compare._kkt import fill_budget
from csuper.compare._model import MAX_WEIGHT
from csuper.compare.capacity import CapacityAllocation
from csuper.geometry import gram_matrix

optimize = lazy_import("scipy.optimize")

__all__ = [
    "quadratic_model_loss",
    "quadratic_capacity_loss",
    "quadratic_allocation",
    "train_quadratic_model",
]

#: Largest n for which the n x n Gram matrix (8 n^2 bytes) is formed: 1 GiB.
MAX_GRAM_FEATURES = 11_585


#: Largest kurtosis K_i (K = 1/p for a sparse input of density p: p >= 1e-100): the loss and its
#: gradient scale with K, and the trainer's iterates overflowed from K ~ 1e200 (nightly fuzz).
MAX_KURTOSIS = 1e100
#: Largest magnitude of an importance v_i: with |W| <= 1e30 and K <= 1e100 every term of the
#: loss, (K - 1)(|w_i|^2 - v_i)^2 included, stays below float64's 1e308 (v ~ 1e200 gave an
#: infinite allocation loss with the wrong capacities, and the trainer an overflow).
MAX_IMPORTANCE = 1e60


def _check_v_K(importance, kurtosis) -> tuple[np.ndarray, np.ndarray]:
    v = check_array(
        importance,
        "importance",
        ndim=1,
        dtype=np.float64,
        low=-MAX_IMPORTANCE,
        high=MAX_IMPORTANCE,
    )
    if v.shape[0] > MAX_GRAM_FEATURES:
        raise ValueError(
            f"importance has {v.shape[0]} features; the quadratic model forms an n x n Gram "
            f"matrix ({8 * v.shape[0] ** 2 / 2**30:.1f} GiB), allowed up to n = "
            f"{MAX_GRAM_FEATURES} (1 GiB)."
        )
    if isinstance(kurtosis, (list, tuple, np.ndarray)) and np.asarray(kurtosis, object).ndim:
        # a sequence (a ragged one included: check_array names it, np.ndim raised numpy's text)
        K = check_array(
            kurtosis,
            "kurtosis",
            ndim=1,
            shape=v.shape,
            dtype=np.float64,
            low=1.0,
            high=MAX_KURTOSIS,
        )
    else:
        K = np.full(v.shape, check_real(kurtosis, "kurtosis", low=1.0, high=MAX_KURTOSIS))
    return v, K


def quadratic_model_loss(W, importance, kurtosis) -> float:
    """Expected loss of the quadratic model of Scherlis et al. at the optimal bias.

    Parameters
    ----------
    W : array_like, shape (m, n)
        Embedding, columns w_i, entries in [-MAX_WEIGHT, MAX_WEIGHT] = [-1e30, 1e30] (the loss
        is quartic in W and must stay finite).
    importance : array_like, shape (n,)
        v_i (the coefficients of the target; may be negative), in [-MAX_IMPORTANCE,
        MAX_IMPORTANCE] = [-1e60, 1e60].
    kurtosis : float or array_like, shape (n,)
        K_i = E[x_i^4] in [1, 1e100] (3 for Gaussian inputs; 1/p for a sparse input that is
        +-1/sqrt(p) with probability p and 0 otherwise).

    Returns
    -------
    float
        L(W) = sum_i (K_i - 1)(|w_i|^2 - v_i)^2 + 2 sum_{i != j} (w_i . w_j)^2.

    Notes
    -----
    Expanding y_hat - y = sum_i a_i x_i^2 + sum_{i != j} c_ij x_i x_j + b with a_i = |w_i|^2 - v_i,
    c_ij = w_i . w_j: the diagonal, off-diagonal and constant parts are uncorrelated (odd moments
    vanish), Var(sum_i a_i x_i^2) = sum_i a_i^2 (K_i - 1), E[(sum_{i != j} c_ij x_i x_j)^2] =
    2 sum_{i != j} c_ij^2, and the optimal b = -sum_i a_i removes the mean.

    References
    ----------
    A. Scherlis, K. Sachan, A. S. Jermyn, J. Benton, B. Shlegeris, "Polysemanticity and
    Capacity in Neural Networks", arXiv:2210.01892 (2022).

    Examples
    --------
    >>> print(round(quadratic_model_loss(np.eye(2, 3), [1.0, 1.0, 0.5], 5.0), 6))
    1.0
    """
    W = check_frame(W, "W", allow_zero_columns=True)
    # the loss is quartic in W: its sums overflowed into inf - inf = NaN from |W| ~ 1e77 on
    check_array(W, "W", low=-MAX_WEIGHT, high=MAX_WEIGHT)
    v, K = _check_v_K(importance, kurtosis)
    if v.shape[0] != W.shape[1]:
        raise ValueError(f"importance must have length n_features={W.shape[1]}; got {v.shape[0]}.")
    G = gram_matrix(W)
    d = np.diag(G)
    return float(np.sum((K - 1.0) * (d - v) ** 2) + 2.0 * (np.sum(G**2) - np.sum(d**2)))


def quadratic_capacity_loss(capacity, importance, kurtosis) -> np.ndarray:
    """Per-feature loss l_i(C_i) of the quadratic model as a function of capacity.

    Parameters
    ----------
    capacity : array_like, shape (n,)
        C_i in [0, 1].
    importance : array_like, shape (n,)
        v_i (any sign), in [-MAX_IMPORTANCE, MAX_IMPORTANCE] = [-1e60, 1e60].
    kurtosis : float or array_like, shape (n,)
        K_i in [1, 1e100].

    Returns
    -------
    ndarray, shape (n,)
        l_i(C) = 2 v_i^2 (K_i - 1)(1 - C) / (2 + (K_i - 3) C) for v_i > 0, and the constant
        (K_i - 1) v_i^2 for v_i <= 0 (the model cannot fit a negative coefficient).

    Notes
    -----
    With s_i = |w_i|^2 >= 0 and sum_{j != i} (w_i . w_j)^2 = s_i^2 (1/C_i - 1) (the definition of
    C_i), the loss of :func:`quadratic_model_loss` is sum_i (K_i - 1)(s_i - v_i)^2 +
    2 s_i^2 (1/C_i - 1). Minimising each term over s_i >= 0 at fixed C_i (A (s - v)^2 + B s^2 has
    minimum A B v^2 / (A + B) at s = A v / (A + B) >= 0 when v >= 0) gives l_i(C) for v_i > 0;
    for v_i < 0 the minimiser is s_i = 0 and the loss (K_i - 1) v_i^2 does not depend on C_i, so
    such a feature has no marginal benefit and the allocation gives it nothing. l_i is linear
    in C for Gaussian inputs (K = 3), convex for K > 3 (fractional allocations, i.e.
    polysemanticity) and concave for K < 3 (all-or-nothing). The reduction is a lower bound,
    L(W) >= sum_i l_i(C_i(W)).

    References
    ----------
    A. Scherlis et al., "Polysemanticity and Capacity in Neural Networks", arXiv:2210.01892.

    Examples
    --------
    >>> print(np.round(quadratic_capacity_loss([0.0, 0.5, 1.0], [1.0, 1.0, 1.0], 5.0), 6))
    [4.       1.333333 0.      ]
    >>> print(np.round(quadratic_capacity_loss([0.0, 1.0], [-1.0, -1.0], 5.0), 6))
    [4. 4.]
    """
    v, K = _check_v_K(importance, kurtosis)
    C = check_array(capacity, "capacity", ndim=1, shape=v.shape, dtype=np.float64, low=0, high=1)
    # K = 1 (x_i^2 constant): the bias absorbs the target, l = 0 (the formula's limit)
    den = np.where(K > 1.0, 2.0 + (K - 3.0) * C, 1.0)
    fitted = np.where(K > 1.0, 2.0 * v**2 * (K - 1.0) * (1.0 - C) / den, 0.0)
    return np.where(v > 0, fitted, (K - 1.0) * v**2)


def quadratic_allocation(importance, kurtosis, n_dims: int) -> CapacityAllocation:
    """Lagrangian (KKT) capacity allocation of the quadratic model of Scherlis et al.

    Minimises sum_i l_i(C_i) (see :func:`quadratic_capacity_loss`) over 0 <= C_i <= 1,
    sum_i C_i <= m.

    Parameters
    ----------
    importance : array_like, shape (n,)
        v_i in [-1e60, 1e60]; features with v_i <= 0 get capacity 0 (they have no benefit).
    kurtosis : float or array_like, shape (n,)
        K_i in [1, 1e100].
    n_dims : int
        m >= 1, the embedding dimension (the capacity budget).

    Returns
    -------
    CapacityAllocation

    Notes
    -----
    The marginal benefit of a feature with v_i > 0 is -l_i'(C) = 2 v_i^2 (K_i - 1)^2 /
    (2 + (K_i - 3) C)^2. For K_i > 3 it decreases in C, the problem is convex and the KKT
    conditions are sufficient: C_i(lambda) = clip(((K_i - 1) v_i sqrt(2 / lambda) - 2) /
    (K_i - 3), 0, 1), and lambda solves sum_i C_i(lambda) = m (bisection on log lambda, exact
    fill at ties). For K_i <= 3 the benefit is nondecreasing in C: the feature is all-or-nothing
    at the price lambda and is taken when its total benefit l_i(0) - l_i(1) = v_i^2 (K_i - 1)
    exceeds lambda (exact at integer budgets for K_i <= 3 features).

    References
    ----------
    A. Scherlis et al., "Polysemanticity and Capacity in Neural Networks", arXiv:2210.01892
    (capacity allocation as a constrained optimisation with marginal benefits and a price).

    Examples
    --------
    >>> a = quadratic_allocation([1.0, 0.9, 0.8, 0.3, 0.1], kurtosis=10.0, n_dims=2)
    >>> print(np.round(a.capacity, 4), round(a.shadow_price, 4))
    [0.7619 0.6571 0.5524 0.0286 0.    ] 3.0124
    >>> print(quadratic_allocation([1.0, -1.0], kurtosis=10.0, n_dims=1).capacity)
    [1. 0.]
    """
    v, K = _check_v_K(importance, kurtosis)
    m = check_int(n_dims, "n_dims", low=1)
    useful = v > 0
    a = np.where(useful, v, 0.0) * (K - 1.0)
    eps = K - 3.0
    convex = useful & (eps > 0)
    allornothing = useful & ~convex
    total = np.where(useful, v**2 * (K - 1.0), 0.0)  # l(0) - l(1)

    def capacity_at(lam: float) -> np.ndarray:
        C = np.zeros_like(v)
        if lam <= 0.0:
            C[useful] = 1.0
            return C
        x = a[convex] * np.sqrt(2.0 / lam) - 2.0
        C[convex] = np.clip(x / eps[convex], 0.0, 1.0)
        C[allornothing] = (total[allornothing] > lam).astype(float)
        return C

    lam_max = 2.0 * float(np.max(total * (K - 1.0))) + 1.0
    C, lam = fill_budget(capacity_at, lam_max, m)
    ell = quadratic_capacity_loss(C, v, K)
    return CapacityAllocation(C, lam, float(ell.sum()), ell, m)


def _loss_and_gradient(W: np.ndarray, v: np.ndarray, K: np.ndarray) -> tuple[float, np.ndarray]:
    """L(W) of :func:`quadratic_model_loss` and dL/dW = 4 W diag((K - 1)(d - v)) + 8 W O."""
    G = gram_matrix(W)  # never W.T @ W (BLAS syrk crashes for wide W; CONTRIBUTING)
    d = np.diag(G)
    off = G - np.diag(d)
    f = float(np.sum((K - 1.0) * (d - v) ** 2) + 2.0 * np.sum(off**2))
    return f, 4.0 * W * ((K - 1.0) * (d - v))[None, :] + 8.0 * (W @ off)


def train_quadratic_model(
    importance, kurtosis, n_dims: int, *, n_restarts: int = 4, rng=None
) -> np.ndarray:
    """Train the quadratic model of Scherlis et al. by minimising its exact expected loss over W.

    L-BFGS (scipy) on L(W) of :func:`quadratic_model_loss` with its analytic gradient, from
    ``n_restarts`` Gaussian initialisations (std 1/sqrt(m)); the run with the lowest loss is
    returned.

    Parameters
    ----------
    importance : array_like, shape (n,)
        v_i in [-1e60, 1e60].
    kurtosis : float or array_like, shape (n,)
        K_i in [1, 1e100] (see :func:`quadratic_model_loss`).
    n_dims : int
        m >= 1.
    n_restarts : int
        In [1, 1000].
    rng : None, int or numpy.random.Generator

    Returns
    -------
    ndarray, shape (m, n)

    Notes
    -----
    With G = W^T W, d = diag(G) and O = G - diag(d), L = sum_i (K_i - 1)(d_i - v_i)^2 +
    2 sum_{i != j} O_ij^2. Since dd_i/dw_i = 2 w_i and each pair (i, j) appears twice in the
    second sum, dL/dW = 4 W diag((K - 1)(d - v)) + 8 W O (checked against finite differences
    in the tests).

    Examples
    --------
    >>> W = train_quadratic_model([1.0, 0.5, 0.1], 3.0, 1, rng=0)
    >>> from csuper.geometry import feature_dimensionality
    >>> print(np.round(feature_dimensionality(W), 3))
    [1. 0. 0.]
    """
    v, K = _check_v_K(importance, kurtosis)
    m = check_int(n_dims, "n_dims", low=1, high=MAX_GRAM_FEATURES)
    R = check_int(n_restarts, "n_restarts", low=1, high=1000)
    gen = check_rng(rng)
    n = v.shape[0]

    def fg(flat):
        f, grad = _loss_and_gradient(flat.reshape(m, n), v, K)
        return f, grad.ravel()

    runs = [
        optimize.minimize(
            fg,
            gen.standard_normal(m * n) / np.sqrt(m),
            jac=True,
            method="L-BFGS-B",
            options={"maxiter": 20000, "ftol": 1e-15, "gtol": 1e-11},
        )
        for _ in range(R)
    ]
    best = min(runs, key=lambda res: res.fun)
    return best.x.reshape(m, n)
