"""Capacity allocation: measured capacities D_i = C_i against Lagrangian (KKT) predictions.

The measured capacity C_i of Scherlis et al. (2022) is the feature dimensionality D_i of Elhage
et al. (2022): it is computed by :func:`csuper.geometry.feature_dimensionality`, the one public
function for it; "capacity" in this module names a predicted or allocated value.

Scherlis et al. (2022) read training as a constrained optimisation: feature i receives a capacity
C_i in [0, 1] (the fraction of a dimension it owns), the capacities share the budget
sum_i C_i <= m, and the loss is (approximately) a sum of per-feature terms l_i(C_i). The optimal
allocation then follows from the Lagrangian sum_i l_i(C_i) + lambda (sum_i C_i - m): every
feature whose marginal benefit -l_i'(C) exceeds the shadow price lambda at C = 1 gets a whole
dimension (monosemantic), features whose benefit at C = 0 is below lambda are ignored, and the
rest are fractional (superposed) with equal marginal benefit -l_i'(C_i) = lambda.

This module implements
- the quadratic toy model of Scherlis et al. exactly (its expected loss, its loss as a function
  of capacities, its KKT allocation, and a trainer for the model itself), and
- for the ReLU toy model of Elhage et al. (:mod:`csuper.toy`) an explicit per-feature loss
  model solved the same way and compared feature by feature with trained models.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize

from csuper._validation import check_array, check_frame, check_int, check_real, check_rng
from csuper.geometry import feature_dimensionality, gram_matrix

__all__ = [
    "CapacityAllocation",
    "CapacityComparison",
    "quadratic_model_loss",
    "quadratic_capacity_loss",
    "quadratic_allocation",
    "train_quadratic_model",
    "relu_capacity_loss",
    "relu_allocation",
    "compare_capacities",
    "CAPACITY_CLASSES",
]

#: Classes of a feature by its capacity (name -> rule; thresholds are parameters).
CAPACITY_CLASSES: dict[str, str] = {
    "ignored": "C_i <= ignored_below, or |w_i| <= represented_threshold (not represented)",
    "fractional": "ignored_below < C_i < monosemantic_above",
    "monosemantic": "C_i >= monosemantic_above",
}


@dataclass(frozen=True)
class CapacityAllocation:
    """A KKT (Lagrangian) capacity allocation.

    Attributes
    ----------
    capacity : ndarray, shape (n,)
        Optimal C_i in [0, 1], sum_i C_i <= n_dims (equality when lambda > 0).
    shadow_price : float
        lambda >= 0, the marginal loss reduction of one more unit of capacity (0 when the budget
        is not binding).
    loss : float
        sum_i l_i(C_i) at the allocation (the model's predicted loss).
    feature_loss : ndarray, shape (n,)
        l_i(C_i).
    n_dims : int
        The budget m.
    """

    capacity: np.ndarray
    shadow_price: float
    loss: float
    feature_loss: np.ndarray
    n_dims: int

    def classes(
        self, *, monosemantic_above: float = 1.0 - 1e-6, ignored_below: float = 1e-6
    ) -> np.ndarray:
        """Class of each feature ('monosemantic', 'fractional', 'ignored'), array of str."""
        return _classify(self.capacity, monosemantic_above, ignored_below)


def _classify(C: np.ndarray, mono: float, ign: float) -> np.ndarray:
    out = np.full(C.shape, "fractional", dtype=object)
    out[C >= mono] = "monosemantic"
    out[C <= ign] = "ignored"
    return out.astype(str)


# --------------------------------------------------------------------------------------------
# Generic KKT solver
# --------------------------------------------------------------------------------------------


def _kkt(capacity_at, lam_max: float, m: int) -> tuple[np.ndarray, float]:
    """Solve sum_i C_i(lambda) = m for nonincreasing C_i(lambda) by bisection on log lambda.

    ``capacity_at(lam)`` returns C(lambda) as the argmax of -l_i(C) - lam C (right-continuous:
    at a tie it returns the smallest maximiser). At lambda* = inf{lambda: sum C(lambda) <= m}
    the features tied between C(lambda*-) and C(lambda*+) share the remaining budget
    proportionally (the continuous-knapsack fill), so that sum C = m exactly.
    """
    c0 = capacity_at(0.0)
    if c0.sum() <= m:
        return c0, 0.0
    lo, hi = 0.0, float(lam_max)
    while capacity_at(hi).sum() > m:  # lam_max should already exceed every marginal benefit
        hi *= 2.0
    for _ in range(400):
        mid = np.sqrt(lo * hi) if lo > 0 else 1e-3 * hi
        if mid <= lo or mid >= hi:
            break
        if capacity_at(mid).sum() > m:
            lo = mid
        else:
            hi = mid
        if lo > 0 and hi <= lo * (1.0 + 1e-14):
            break
    c_hi, c_lo = capacity_at(hi), capacity_at(lo)  # sums: <= m and > m
    gap = c_lo.sum() - c_hi.sum()
    t = 0.0 if gap <= 0 else (m - c_hi.sum()) / gap
    return np.clip(c_hi + t * (c_lo - c_hi), 0.0, 1.0), float(np.sqrt(hi * lo) if lo > 0 else hi)


# --------------------------------------------------------------------------------------------
# The quadratic model of Scherlis et al. (2022)
# --------------------------------------------------------------------------------------------


def _check_v_K(importance, kurtosis) -> tuple[np.ndarray, np.ndarray]:
    v = check_array(importance, "importance", ndim=1, dtype=np.float64)
    K = np.asarray(kurtosis, dtype=np.float64)
    if K.ndim == 0:
        check_real(float(K), "kurtosis", low=1.0)
        K = np.full(v.shape, float(K))
    else:
        K = check_array(K, "kurtosis", ndim=1, shape=v.shape, dtype=np.float64)
        if np.any(K < 1.0):
            raise ValueError(
                f"kurtosis must be >= 1 (E[x^4] >= E[x^2]^2 = 1); got min {K.min():g}."
            )
    return v, K


def quadratic_model_loss(W, importance, kurtosis) -> float:
    """Expected loss of the quadratic model of Scherlis et al. at the optimal bias.

    Model: y = sum_i v_i x_i^2 (target), y_hat = |W x|^2 + b = sum_{ij} (w_i . w_j) x_i x_j + b,
    loss E[(y - y_hat)^2], inputs x_i independent, symmetric, E[x_i^2] = 1, E[x_i^4] = K_i.

    Parameters
    ----------
    W : array_like, shape (m, n)
        Embedding, columns w_i.
    importance : array_like, shape (n,)
        v_i (the coefficients of the target; may be negative).
    kurtosis : float or array_like, shape (n,)
        K_i = E[x_i^4] >= 1 (3 for Gaussian inputs; 1/p for a sparse input that is +-1/sqrt(p)
        with probability p and 0 otherwise).

    Returns
    -------
    float
        L(W) = sum_i (K_i - 1)(|w_i|^2 - v_i)^2 + 2 sum_{i != j} (w_i . w_j)^2.

    Notes
    -----
    Expanding y_hat - y = sum_i a_i x_i^2 + sum_{i != j} c_ij x_i x_j + b with a_i = |w_i|^2 - v_i,
    c_ij = w_i . w_j: the diagonal, off-diagonal and constant parts are uncorrelated (odd moments
    vanish), Var(sum_i a_i x_i^2) = sum_i a_i^2 (K_i - 1), E[(sum_{i != j} c_ij x_i x_j)^2] =
    2 sum_{i != j} c_ij^2, and the optimal b = -sum_i a_i removes the mean. This is the loss of the
    quadratic toy model of Scherlis et al., derived here from the model definition (the
    expansion is elementary; compare with the paper's own expression before citing numbers).

    References
    ----------
    A. Scherlis et al., "Polysemanticity and Capacity in Neural Networks", arXiv:2210.01892.

    Examples
    --------
    >>> print(round(quadratic_model_loss(np.eye(2, 3), [1.0, 1.0, 0.5], 5.0), 6))
    1.0
    """
    W = check_frame(W, "W", allow_zero_columns=True)
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
        v_i.
    kurtosis : float or array_like, shape (n,)
        K_i >= 1.

    Returns
    -------
    ndarray, shape (n,)
        l_i(C) = 2 v_i^2 (K_i - 1)(1 - C) / (2 + (K_i - 3) C).

    Notes
    -----
    With s_i = |w_i|^2 and sum_{j != i} (w_i . w_j)^2 = s_i^2 (1/C_i - 1) (the definition of C_i),
    the loss of :func:`quadratic_model_loss` is sum_i (K_i - 1)(s_i - v_i)^2 + 2 s_i^2 (1/C_i - 1).
    Minimising each term over the norm s_i at fixed C_i (A (s - v)^2 + B s^2 has minimum
    A B v^2 / (A + B)) gives l_i(C). It is linear in C for Gaussian inputs (K = 3), convex for
    K > 3 (sparse, heavy-tailed inputs: fractional allocations, i.e. polysemanticity) and concave
    for K < 3 (all-or-nothing), the kurtosis dependence Scherlis et al. describe. The reduction
    is a lower bound, L(W) >= sum_i l_i(C_i(W)), attained when the norms can be tuned
    independently of the overlaps.

    References
    ----------
    A. Scherlis et al., "Polysemanticity and Capacity in Neural Networks", arXiv:2210.01892.

    Examples
    --------
    >>> print(np.round(quadratic_capacity_loss([0.0, 0.5, 1.0], [1.0, 1.0, 1.0], 5.0), 6))
    [4.       1.333333 0.      ]
    """
    v, K = _check_v_K(importance, kurtosis)
    C = check_array(capacity, "capacity", ndim=1, shape=v.shape, dtype=np.float64)
    if np.any((C < 0) | (C > 1)):
        raise ValueError(f"capacity must lie in [0, 1]; got range [{C.min():g}, {C.max():g}].")
    # K = 1 (x_i^2 constant): the bias absorbs the target, l = 0 (the formula's limit)
    den = np.where(K > 1.0, 2.0 + (K - 3.0) * C, 1.0)
    return np.where(K > 1.0, 2.0 * v**2 * (K - 1.0) * (1.0 - C) / den, 0.0)


def quadratic_allocation(importance, kurtosis, n_dims: int) -> CapacityAllocation:
    """Lagrangian (KKT) capacity allocation of the quadratic model of Scherlis et al.

    Minimises sum_i l_i(C_i) (see :func:`quadratic_capacity_loss`) over 0 <= C_i <= 1,
    sum_i C_i <= m.

    Parameters
    ----------
    importance : array_like, shape (n,)
        v_i.
    kurtosis : float or array_like, shape (n,)
        K_i >= 1.
    n_dims : int
        m >= 1, the embedding dimension (the capacity budget).

    Returns
    -------
    CapacityAllocation

    Notes
    -----
    The marginal benefit is -l_i'(C) = 2 v_i^2 (K_i - 1)^2 / (2 + (K_i - 3) C)^2. For K_i > 3 it
    decreases in C, the problem is convex and the KKT conditions are sufficient: C_i(lambda) =
    clip(((K_i - 1)|v_i| sqrt(2 / lambda) - 2) / (K_i - 3), 0, 1), and lambda solves
    sum_i C_i(lambda) = m (bisection on log lambda, exact fill at ties). For K_i <= 3 the
    benefit is nondecreasing in C, feature i is all-or-nothing at the price lambda and is taken
    when its total benefit l_i(0) - l_i(1) = v_i^2 (K_i - 1) exceeds lambda (the greedy/KKT rule
    for the convexified problem; for a mix of K_i <= 3 features this is exact at integer budgets).

    References
    ----------
    A. Scherlis et al., "Polysemanticity and Capacity in Neural Networks", arXiv:2210.01892
    (capacity allocation as a constrained optimisation with marginal benefits and a price).

    Examples
    --------
    >>> a = quadratic_allocation([1.0, 0.9, 0.8, 0.3, 0.1], kurtosis=10.0, n_dims=2)
    >>> print(np.round(a.capacity, 4), round(a.shadow_price, 4))
    [0.7619 0.6571 0.5524 0.0286 0.    ] 3.0124
    """
    v, K = _check_v_K(importance, kurtosis)
    m = check_int(n_dims, "n_dims", low=1)
    a = np.abs(v) * (K - 1.0)
    eps = K - 3.0
    convex = eps > 0

    def capacity_at(lam: float) -> np.ndarray:
        C = np.zeros_like(v)
        if lam <= 0.0:
            C[v != 0] = 1.0
            return C
        x = a[convex] * np.sqrt(2.0 / lam) - 2.0
        C[convex] = np.clip(x / eps[convex], 0.0, 1.0)
        total = v**2 * (K - 1.0)  # l(0) - l(1), the benefit of all-or-nothing features
        C[~convex] = (total[~convex] > lam).astype(float)
        return C

    lam_max = 2.0 * float(np.max(v**2 * (K - 1.0) ** 2)) + 1.0
    C, lam = _kkt(capacity_at, lam_max, m)
    ell = quadratic_capacity_loss(C, v, K)
    return CapacityAllocation(C, lam, float(ell.sum()), ell, m)


def train_quadratic_model(
    importance, kurtosis, n_dims: int, *, n_restarts: int = 4, rng=None
) -> np.ndarray:
    """Train the quadratic model of Scherlis et al. by minimising its exact expected loss over W.

    L-BFGS (scipy) on L(W) of :func:`quadratic_model_loss` with its analytic gradient, from
    ``n_restarts`` Gaussian initialisations (std 1/sqrt(m)); the best run is returned.

    Parameters
    ----------
    importance : array_like, shape (n,)
    kurtosis : float or array_like, shape (n,)
    n_dims : int
        m >= 1.
    n_restarts : int
        >= 1.
    rng : None, int or numpy.random.Generator

    Returns
    -------
    ndarray, shape (m, n)

    Examples
    --------
    >>> W = train_quadratic_model([1.0, 0.5, 0.1], 3.0, 1, rng=0)
    >>> from csuper.geometry import feature_dimensionality
    >>> print(np.round(feature_dimensionality(W), 3))
    [1. 0. 0.]
    """
    v, K = _check_v_K(importance, kurtosis)
    m = check_int(n_dims, "n_dims", low=1)
    R = check_int(n_restarts, "n_restarts", low=1)
    gen = check_rng(rng)
    n = v.shape[0]

    def fg(flat):
        W = flat.reshape(m, n)
        G = gram_matrix(W)  # never W.T @ W (BLAS syrk crashes for wide W; CONTRIBUTING)
        d = np.diag(G)
        off = G - np.diag(d)
        f = np.sum((K - 1.0) * (d - v) ** 2) + 2.0 * np.sum(off**2)
        # dL/dW = W (2 diag((K-1)(d-v)) + 8 off)
        grad = 2.0 * W * ((K - 1.0) * (d - v))[None, :] + 8.0 * (W @ off)
        return f, grad.ravel()

    runs = [
        minimize(
            fg,
            gen.standard_normal(m * n) / np.sqrt(m),
            jac=True,
            method="L-BFGS-B",
            options={"maxiter": 20000, "ftol": 1e-15, "gtol": 1e-11},
        )
        for _ in range(R)
    ]
    best = min(runs, key=lambda res: res.fun)  # the first of equal minima, as before
    return best.x.reshape(m, n)


# --------------------------------------------------------------------------------------------
# The ReLU toy model of Elhage et al. (2022): an explicit per-feature loss model
# --------------------------------------------------------------------------------------------


def _relu_terms(importance, feature_probability) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    imp = check_array(importance, "importance", ndim=1, dtype=np.float64, nonnegative=True)
    p = check_array(
        feature_probability,
        "feature_probability",
        ndim=1,
        shape=imp.shape,
        dtype=np.float64,
        low=0,
        high=1,
    )
    n = p.shape[0]
    if n < 2:
        raise ValueError(f"the ReLU capacity model needs n_features >= 2; got {n}.")
    p_bar = (p.sum() - p) / (n - 1)
    V = imp * (p / 3.0 - p**2 / 4.0)  # ignored: x_hat = b = E[x], loss I Var(x)
    alpha = imp * p * p_bar / 6.0  # interference coefficient: l(C) = alpha (1/C - 1)
    return V, alpha, p


def relu_capacity_loss(capacity, importance, feature_probability) -> np.ndarray:
    """Per-feature loss model l_i(C_i) of the ReLU toy model (uniform magnitudes), before
    convexification.

    Parameters
    ----------
    capacity : array_like, shape (n,)
        C_i in [0, 1].
    importance : array_like, shape (n,)
        I_i >= 0.
    feature_probability : array_like, shape (n,)
        p_i in [0, 1].

    Returns
    -------
    ndarray, shape (n,)
        l_i(C) = min(V_i, alpha_i (1/C - 1)) for C > 0, l_i(0) = V_i, with
        V_i = I_i (p_i/3 - p_i^2/4) and alpha_i = I_i p_i pbar_i / 6.

    Notes
    -----
    Assumptions (an explicit model, not a theorem; :func:`compare_capacities` reports where it
    fails). Toy model x_hat = ReLU(W^T W x + b), x_i = 0 with probability 1 - p_i, else
    Uniform[0, 1]; the training loss is (1/n) sum_i I_i E[(x_i - x_hat_i)^2] (the 1/n does not
    change the allocation and is left out).

    - Ignored (w_i = 0): the best bias is b_i = E[x_i] = p_i/2 and the cost is
      I_i Var(x_i) = I_i (p_i/3 - p_i^2/4).
    - Own direction (C_i = 1): w_i unit norm orthogonal to the rest, b_i = 0, no loss.
    - Shared (0 < C_i < 1): |w_i| = 1 and sum_{j != i} (w_i . w_j)^2 = 1/C_i - 1 (the definition
      of C_i), modelled as q = 1/C_i - 1 neighbours of overlap -1 (the antipodal arrangement the
      toy model prefers, whose negative interference the ReLU filters when x_i = 0) with b_i = 0.
      In the sparse limit at most one neighbour is active (probability q pbar_i, pbar_i the mean
      p of the other features) and an error occurs only when x_i is active too:
      E[(x - ReLU(x - y))^2] = E[min(x, y)^2] = 1/6 for x, y ~ U[0, 1], so the cost is
      I_i p_i q pbar_i / 6. Capped by V_i (the model can always ignore the feature).

    Exact for an antipodal pair (C = 1/2) in the sparse limit; dense features (p near 1) and
    positive overlaps are outside the model.

    Examples
    --------
    >>> print(np.round(relu_capacity_loss([0.0, 0.5, 1.0], [1.0, 1.0, 1.0], [0.1, 0.1, 0.1]), 6))
    [0.030833 0.001667 0.      ]
    """
    V, alpha, _ = _relu_terms(importance, feature_probability)
    C = check_array(capacity, "capacity", ndim=1, shape=V.shape, dtype=np.float64)
    if np.any((C < 0) | (C > 1)):
        raise ValueError(f"capacity must lie in [0, 1]; got range [{C.min():g}, {C.max():g}].")
    with np.errstate(divide="ignore"):
        inter = np.where(C > 0, alpha * (1.0 / np.where(C > 0, C, 1.0) - 1.0), np.inf)
    return np.minimum(V, inter)


def relu_allocation(importance, feature_probability, n_dims: int) -> CapacityAllocation:
    """Lagrangian (KKT) capacity allocation for the ReLU toy model under the loss model of
    :func:`relu_capacity_loss`.

    Parameters
    ----------
    importance : array_like, shape (n,)
    feature_probability : array_like, shape (n,)
    n_dims : int
        m >= 1, the hidden dimension (the budget sum_i C_i <= m).

    Returns
    -------
    CapacityAllocation
        ``feature_loss`` holds the convexified l_i at the allocation.

    Notes
    -----
    l_i is not convex (capped at V_i), so the allocation minimises its lower convex envelope:
    the tangent from (0, V_i) to alpha_i (1/C - 1) touches at C*_i = 2 alpha_i / (V_i + alpha_i).
    If C*_i >= 1 the envelope is the chord from (0, V_i) to (1, 0): all-or-nothing at benefit
    V_i. Otherwise the marginal benefit is alpha_i / C*_i^2 on [0, C*_i] and alpha_i / C^2 on
    [C*_i, 1], so C_i(lambda) = 0 for lambda >= alpha_i / C*_i^2, else clip(sqrt(alpha_i /
    lambda), C*_i, 1). lambda solves sum_i C_i(lambda) = m by bisection; a feature tied on a
    chord takes the remaining budget (then its C is a time-sharing point of the envelope, so
    at most the tied features can sit below C*_i).

    Examples
    --------
    >>> a = relu_allocation(0.9 ** np.arange(6), [0.05] * 6, 2)
    >>> print(np.round(a.capacity, 3))
    [0.379 0.359 0.341 0.323 0.307 0.291]
    """
    V, alpha, _ = _relu_terms(importance, feature_probability)
    m = check_int(n_dims, "n_dims", low=1)
    alpha = np.maximum(alpha, 1e-300)
    Cs = 2.0 * alpha / (V + alpha)
    chord = Cs >= 1.0
    top = np.where(chord, V, alpha / np.where(chord, 1.0, Cs) ** 2)  # benefit at C = 0+

    def capacity_at(lam: float) -> np.ndarray:
        C = np.zeros_like(V)
        if lam <= 0.0:
            C[V > 0] = 1.0
            return C
        C[chord] = (V[chord] > lam).astype(float)
        cur = ~chord & (top > lam)
        C[cur] = np.clip(np.sqrt(alpha[cur] / lam), Cs[cur], 1.0)
        return C

    C, lam = _kkt(capacity_at, 2.0 * float(top.max()) + 1.0, m)
    # convex envelope at C: chord part below C*, the curve above
    ell = np.where(
        chord,
        V * (1.0 - C),
        np.where(C >= Cs, alpha * (1.0 / np.maximum(C, 1e-300) - 1.0), V - C * top),
    )
    ell = np.where(V > 0, ell, 0.0)
    return CapacityAllocation(C, lam, float(ell.sum()), ell, m)


@dataclass(frozen=True)
class CapacityComparison:
    """Predicted (Lagrangian) against learned capacities of one toy model, feature by feature.

    Attributes
    ----------
    learned : ndarray, shape (n,)
        D_i = C_i of the trained W.
    norm : ndarray, shape (n,)
        |w_i|.
    predicted : ndarray, shape (n,)
        C_i of the allocation.
    learned_class, predicted_class : ndarray of str, shape (n,)
        'monosemantic', 'fractional' or 'ignored' (see :data:`CAPACITY_CLASSES`).
    allocation : CapacityAllocation
    n_dims : int
    """

    learned: np.ndarray
    norm: np.ndarray
    predicted: np.ndarray
    learned_class: np.ndarray
    predicted_class: np.ndarray
    allocation: CapacityAllocation
    n_dims: int

    @property
    def agree(self) -> np.ndarray:
        """Boolean per feature: learned class == predicted class."""
        return self.learned_class == self.predicted_class

    def table(self) -> list[dict]:
        """Tidy table: one dict per feature."""
        return [
            {
                "feature": i,
                "learned_capacity": float(self.learned[i]),
                "norm": float(self.norm[i]),
                "predicted_capacity": float(self.predicted[i]),
                "learned_class": str(self.learned_class[i]),
                "predicted_class": str(self.predicted_class[i]),
                "agree": bool(self.agree[i]),
            }
            for i in range(self.learned.shape[0])
        ]

    def summary(self) -> dict:
        """Agreement rate, confusion counts (predicted -> learned), budgets, mean |C - D|."""
        names = list(CAPACITY_CLASSES)
        confusion = {
            f"{a}->{b}": int(np.sum((self.predicted_class == a) & (self.learned_class == b)))
            for a in names
            for b in names
        }
        return {
            "agreement": float(np.mean(self.agree)),
            "n_disagree": int(np.sum(~self.agree)),
            "disagree_features": [int(i) for i in np.flatnonzero(~self.agree)],
            "confusion": confusion,
            "learned_budget": float(self.learned.sum()),
            "predicted_budget": float(self.predicted.sum()),
            "n_dims": self.n_dims,
            "mean_abs_capacity_error": float(np.mean(np.abs(self.learned - self.predicted))),
            "shadow_price": self.allocation.shadow_price,
        }


def compare_capacities(
    model,
    instance: int = 0,
    *,
    monosemantic_above: float = 0.9,
    ignored_below: float = 0.1,
    represented_threshold: float = 0.5,
) -> CapacityComparison:
    """Compare the learned capacities of a trained ReLU toy model with :func:`relu_allocation`.

    Parameters
    ----------
    model : csuper.toy.ToyModel
        Needs ``feature_probability`` (models from :func:`csuper.toy.train` have it).
    instance : int
        Which instance of the model.
    monosemantic_above, ignored_below : float
        Class thresholds on C (applied to learned D_i and predicted C_i alike).
    represented_threshold : float
        A learned feature with |w_i| <= represented_threshold (not represented) is 'ignored'
        whatever its D_i (the paper's 0.5).

    Returns
    -------
    CapacityComparison

    Examples
    --------
    >>> from csuper.toy import from_weights
    >>> W = np.array([[1.0, -1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0]])
    >>> mdl = from_weights(W, importance=[1.0, 1.0, 1.0, 0.1], feature_probability=[0.05] * 4)
    >>> c = compare_capacities(mdl)
    >>> print(c.learned_class.tolist())
    ['fractional', 'fractional', 'monosemantic', 'ignored']
    >>> print(c.predicted_class.tolist(), round(c.summary()["agreement"], 2))
    ['fractional', 'fractional', 'fractional', 'fractional'] 0.5
    """
    from csuper.toy import ToyModel

    if not isinstance(model, ToyModel):
        raise TypeError(f"model must be a csuper.toy.ToyModel; got {type(model).__name__}.")
    r = check_int(instance, "instance", low=0, high=model.n_instances, high_inclusive=False)
    mono = check_real(
        monosemantic_above, "monosemantic_above", low=0.0, high=1.0, low_inclusive=False
    )
    ign = check_real(ignored_below, "ignored_below", low=0.0, high=mono, high_inclusive=False)
    thr = check_real(represented_threshold, "represented_threshold", low=0.0)
    p = model.feature_probability[r]
    if not np.all(np.isfinite(p)):
        raise ValueError(
            "model.feature_probability is unknown (NaN); pass feature_probability to from_weights."
        )
    W = model.W[r]
    D = feature_dimensionality(W)
    norm = np.linalg.norm(W, axis=0)
    alloc = relu_allocation(model.importance[r], p, model.n_dims)
    learned_class = _classify(D, mono, ign)
    learned_class[norm <= thr] = "ignored"  # represented means |w_i| > represented_threshold
    return CapacityComparison(
        D,
        norm,
        alloc.capacity,
        learned_class,
        _classify(alloc.capacity, mono, ign),
        alloc,
        model.n_dims,
    )
