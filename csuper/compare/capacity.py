"""Capacity allocation in the ReLU toy model: learned capacities D_i = C_i against a Lagrangian
(KKT) prediction, with continuous agreement metrics and null baselines.

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

For the ReLU toy model of Elhage et al. (:mod:`csuper.toy`) this module states an explicit
per-feature loss model (:func:`relu_capacity_loss`, valid in the sparse regime, see its Notes),
solves it (:func:`relu_allocation`) and compares it feature by feature with trained models
(:func:`compare_capacities`), next to the null allocations of :data:`CAPACITY_BASELINES`. The
quadratic model of Scherlis et al., where the reduction is exact, is in
:mod:`csuper.compare.quadratic`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from csuper._lazy import lazy_import
from csuper._norms import norm2, unit_scaled
from csuper._validation import check_array, check_int, check_real
from csuper.compare._kkt import classify, fill_budget
from csuper.compare._model import model_arrays
from csuper.geometry import feature_dimensionality

stats = lazy_import("scipy.stats")

__all__ = [
    "CapacityAllocation",
    "CapacityComparison",
    "CAPACITY_BASELINES",
    "CAPACITY_CLASSES",
    "RELU_MODEL_MAX_PROBABILITY",
    "relu_capacity_loss",
    "relu_allocation",
    "compare_capacities",
    "capacity_agreement",
]

#: Classes of a feature by its capacity (name -> rule; thresholds are parameters).
CAPACITY_CLASSES: dict[str, str] = {
    "ignored": "C_i <= ignored_below, or |w_i| <= represented_threshold (not represented)",
    "fractional": "ignored_below < C_i < monosemantic_above",
    "monosemantic": "C_i >= monosemantic_above",
}

#: Largest feature probability at which the ReLU loss model is used: its interference term
#: assumes at most one active neighbour (the sparse limit), so q pbar << 1; at p = 0.1 and
#: q = 1/C - 1 <= 3 neighbours the chance of two active neighbours is below 4 %.
RELU_MODEL_MAX_PROBABILITY = 0.1


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

    capacity: np.ndarray = field(repr=False)
    shadow_price: float
    loss: float
    feature_loss: np.ndarray = field(repr=False)
    n_dims: int

    def classes(
        self, *, monosemantic_above: float = 1.0 - 1e-6, ignored_below: float = 1e-6
    ) -> np.ndarray:
        """Class of each feature ('monosemantic', 'fractional', 'ignored'), array of str."""
        return classify(self.capacity, monosemantic_above, ignored_below)


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

    C, lam = fill_budget(capacity_at, 2.0 * float(top.max()) + 1.0, m)
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

    learned: np.ndarray = field(repr=False)
    norm: np.ndarray = field(repr=False)
    predicted: np.ndarray = field(repr=False)
    learned_class: np.ndarray = field(repr=False)
    predicted_class: np.ndarray = field(repr=False)
    allocation: CapacityAllocation
    n_dims: int
    represented_threshold: float = 0.5

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
        """Agreement rate, confusion counts (predicted -> learned), budgets, mean |C - D|, and
        the continuous metrics of :func:`capacity_agreement` (rank correlation over every
        feature, mean |C - D| over the represented ones)."""
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
            **capacity_agreement(
                self.learned, self.predicted, represented=self.norm > self.represented_threshold
            ),
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
    >>> c
    CapacityComparison(allocation=CapacityAllocation(shadow_price=..., n_dims=2), n_dims=2, ...)
    """
    from csuper.toy import ToyModel

    if not isinstance(model, ToyModel):
        raise TypeError(f"model must be a csuper.toy.ToyModel; got {type(model).__name__}.")
    W_all, P_all = model_arrays(model)
    r = check_int(instance, "instance", low=0, high=W_all.shape[0], high_inclusive=False)
    mono = check_real(
        monosemantic_above, "monosemantic_above", low=0.0, high=1.0, low_inclusive=False
    )
    ign = check_real(ignored_below, "ignored_below", low=0.0, high=mono, high_inclusive=False)
    thr = check_real(represented_threshold, "represented_threshold", low=0.0)
    p = P_all[r]
    if not np.all(np.isfinite(p)):
        raise ValueError(
            "model.feature_probability is unknown (NaN); pass feature_probability to from_weights."
        )
    W = W_all[r]
    D = feature_dimensionality(unit_scaled(W))  # scale invariant; no overflow warnings
    norm = norm2(W, axis=0)
    alloc = relu_allocation(model.importance[r], p, W.shape[0])
    learned_class = classify(D, mono, ign)
    learned_class[norm <= thr] = "ignored"  # represented means |w_i| > represented_threshold
    return CapacityComparison(
        D,
        norm,
        alloc.capacity,
        learned_class,
        classify(alloc.capacity, mono, ign),
        alloc,
        W.shape[0],
        thr,
    )


def capacity_agreement(learned, predicted, *, represented=None) -> dict:
    """Continuous agreement of predicted capacities C_i with learned D_i.

    Parameters
    ----------
    learned, predicted : array_like, shape (n,)
        D_i and C_i, each in [0, 1].
    represented : array_like of bool, shape (n,), optional
        Features with a direction (|w_i| > 0.5); default every feature.

    Returns
    -------
    dict
        ``spearman``: Spearman rank correlation of C against D over every feature (NaN when
        either is constant: no ranking to agree with); ``mae_represented``: mean |D_i - C_i| over
        the represented features (NaN if none); ``n_represented``.

    Examples
    --------
    >>> a = capacity_agreement([1.0, 0.5, 0.0], [0.9, 0.6, 0.1], represented=[True, True, False])
    >>> round(a["spearman"], 3), round(a["mae_represented"], 3), a["n_represented"]
    (1.0, 0.1, 2)
    """
    D = check_array(learned, "learned", ndim=1, dtype=np.float64, low=0, high=1)
    C = check_array(predicted, "predicted", ndim=1, shape=D.shape, dtype=np.float64, low=0, high=1)
    if represented is None:
        rep = np.ones(D.shape, dtype=bool)
    else:
        check_array(represented, "represented", finite=False)  # ragged, strings, objects: named
        rep = np.asarray(represented)
        if rep.dtype != bool or rep.shape != D.shape:
            raise TypeError(
                f"represented must be a boolean array of shape {D.shape}; got dtype "
                f"{rep.dtype} and shape {rep.shape}."
            )
    if np.ptp(D) == 0 or np.ptp(C) == 0:
        rho = float("nan")
    else:
        rho = float(stats.spearmanr(C, D).statistic)
    mae = float(np.mean(np.abs(D[rep] - C[rep]))) if rep.any() else float("nan")
    return {"spearman": rho, "mae_represented": mae, "n_represented": int(rep.sum())}


def _lagrangian(predicted, importance, n_dims, rng):
    return predicted


def _permuted(predicted, importance, n_dims, rng):
    return rng.permutation(predicted)


def _uniform(predicted, importance, n_dims, rng):
    return np.full(predicted.shape, min(1.0, n_dims / predicted.shape[0]))


def _top_m(predicted, importance, n_dims, rng):
    out = np.zeros(predicted.shape)
    out[np.argsort(-importance, kind="stable")[:n_dims]] = 1.0
    return out


#: Allocations a learned D is compared with (name -> (description, allocation function of
#: (predicted, importance, n_dims, rng))): the Lagrangian prediction and three null baselines.
CAPACITY_BASELINES: dict[str, tuple[str, Callable]] = {
    "lagrangian": ("the KKT allocation of the per-feature loss model", _lagrangian),
    "permuted": ("the Lagrangian capacities permuted within the model", _permuted),
    "uniform": ("every feature gets m / n (capped at 1)", _uniform),
    "top_m": ("the m most important features get 1, the rest 0", _top_m),
}
