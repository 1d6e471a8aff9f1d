"""Metrics of a toy model's weights W (m, n): norms, represented features, dimensionality,
interference, polytopes and neuron-level polysemanticity (Elhage et al. 2022).

Per-feature interference and the feature dimensionality D_i come from :mod:`csuper.geometry`
(streamed kernels; use :func:`csuper.geometry.feature_dimensionality` for D_i); these functions
add the toy-model conventions (the 0.5 norm threshold, D*, polytopes).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from csuper._norms import norm2, unit_scaled
from csuper._validation import check_array, check_int, check_memory, check_real
from csuper.geometry import feature_dimensionality, gram_matrix
from csuper.geometry import interference as _interference

__all__ = [
    "STICKY_FRACTIONS",
    "POLYTOPE_NAMES",
    "Polytope",
    "NeuronStats",
    "feature_norms",
    "represented_count",
    "dimensions_per_feature",
    "feature_interference",
    "detect_polytopes",
    "neuron_polysemanticity",
    "dense_limit_loss",
]

#: Feature dimensionalities at which trained models "stick" (Elhage et al. 2022, section
#: "Feature dimensionality"): dedicated 1, tetrahedron 3/4, triangle 2/3, digon 1/2,
#: pentagon 2/5, square antiprism 3/8.
STICKY_FRACTIONS: dict[str, float] = {
    "dedicated": 1.0,
    "tetrahedron": 3 / 4,
    "triangle": 2 / 3,
    "digon": 1 / 2,
    "pentagon": 2 / 5,
    "square antiprism": 3 / 8,
}

#: (number of features, dimensions spanned) -> name of the (uniform) polytope.
POLYTOPE_NAMES: dict[tuple[int, int], str] = {
    (1, 1): "dedicated",
    (2, 1): "digon",
    (3, 2): "triangle",
    (4, 2): "square",
    (5, 2): "pentagon",
    (6, 2): "hexagon",
    (4, 3): "tetrahedron",
    (6, 3): "octahedron",
    (8, 3): "square antiprism",
}


def _W(W) -> np.ndarray:
    return check_array(W, "W", ndim=2, dtype=np.float64)


def feature_norms(W) -> np.ndarray:
    """Norms |w_i| of the columns of W (m, n).

    Examples
    --------
    >>> print(feature_norms([[3.0, 0.0], [4.0, 0.5]]))
    [5.  0.5]
    """
    return norm2(_W(W), axis=0)


def represented_count(W, *, represented_threshold: float = 0.5) -> int:
    """Number of features with |w_i| > represented_threshold (the paper's 'represented', 0.5).

    Examples
    --------
    >>> represented_count([[1.0, 0.1, -0.9], [0.0, 0.2, 0.0]])
    2
    """
    t = check_real(represented_threshold, "represented_threshold", low=0.0)
    return int(np.count_nonzero(feature_norms(W) > t))


def dimensions_per_feature(W) -> float:
    """D* = m / ||W||_F^2, hidden dimensions per (embedded) feature (Elhage et al. 2022).

    For unit-norm represented features and dropped (zero) others, ||W||_F^2 counts the
    represented features, so D* is dimensions per represented feature.

    Examples
    --------
    >>> print(dimensions_per_feature(np.array([[1.0, -1.0, 0.0], [0.0, 0.0, 1.0]])))
    0.6666666666666666
    """
    W = _W(W)
    m, f = W.shape[0], np.finfo(np.float64)
    with np.errstate(over="ignore", under="ignore"):
        fro2 = float(np.sum(W * W))
    if f.tiny / f.eps <= fro2 < np.inf:
        d = m / fro2
    else:  # the squares overflowed or underflowed: divide by the scaled norm twice
        fro = norm2(W)
        if fro == 0.0:
            raise ValueError("dimensions_per_feature needs W != 0 (D* = m / ||W||_F^2); got W = 0.")
        d = m / fro / fro
    if not f.tiny <= d < np.inf:
        raise ValueError(
            f"dimensions_per_feature needs D* = m / ||W||_F^2 within float64's normal range; "
            f"got ||W||_F = {norm2(W):.3g} with m = {m} (rescale W)."
        )
    return d


def feature_interference(W) -> np.ndarray:
    """Interference sum_{j != i} <w_hat_i, w_j>^2 on each feature (w_hat_i = w_i / |w_i|).

    A zero column is a dropped feature: it has no direction, nothing of it is read out, and it
    adds nothing to the others' interference; its interference is defined as 0, the value the
    reference notebook computes for it (it divides by |w_i| + 1e-5).

    Uses :func:`csuper.geometry.interference` on the nonzero columns.

    Examples
    --------
    >>> print(feature_interference(np.array([[1.0, -1.0, 0.0], [0.0, 0.0, 0.0]])))
    [1. 1. 0.]
    """
    W = _W(W)
    out = np.zeros(W.shape[1])
    nz = np.flatnonzero(np.any(W != 0, axis=0))
    if nz.size >= 2:
        out[nz] = _interference(W[:, nz])
    return out


@dataclass(frozen=True)
class Polytope:
    """A group of represented features that interfere with each other and not with the rest.

    Attributes
    ----------
    features : tuple of int
        Feature indices, sorted.
    n_dims : int
        Dimension of the subspace they span (numerical rank).
    name : str
        From :data:`POLYTOPE_NAMES` or ``"<k> features in <d> dims"``.
    dimensionality : float
        Mean D_i of its features (k-gon in 2 dims: 2/k; digon 1/2; dedicated 1).
    regular : bool
        Every D_i within ``regularity_tol`` of d/k, i.e. the features form a uniform tight frame
        of their span, as the regular polytopes do.
    """

    features: tuple[int, ...]
    n_dims: int
    name: str
    dimensionality: float
    regular: bool


def detect_polytopes(
    W, *, represented_threshold: float = 0.5, tol: float = 0.1, regularity_tol: float = 0.05
) -> list[Polytope]:
    """Group the represented features of W (m = 2 or 3) into polytopes.

    Parameters
    ----------
    W : array_like, shape (m, n), m in {2, 3}
    represented_threshold : float
        A feature is represented when |w_i| > represented_threshold.
    tol : float
        Two represented features belong together when |cos angle| > tol.
    regularity_tol : float
        A group is named after a polytope (:data:`POLYTOPE_NAMES`) only when each of its D_i is
        within this of d/k (a uniform tight frame, as regular polytopes are); otherwise it is
        ``"<k> features in <d> dims"``.

    Returns
    -------
    list of Polytope
        Connected components of the graph "interferes with" (|cos| > tol), ordered by their
        first feature. Dropped features are left out.

    Notes
    -----
    Elhage et al. observe that features organise into a tegum product of orthogonal polytopes:
    a component of k features spanning d dimensions with equal D_i = d/k is named by (k, d),
    e.g. 5 features in a plane form a pentagon (D_i = 2/5), two antipodal features a digon
    (D_i = 1/2).

    Examples
    --------
    >>> ang = 2 * np.pi * np.arange(5) / 5
    >>> print([p.name for p in detect_polytopes(np.stack([np.cos(ang), np.sin(ang)]))])
    ['pentagon']
    >>> print([p.name for p in detect_polytopes(np.array([[1.0, -1.0, 0.0], [0.0, 0.0, 1.0]]))])
    ['digon', 'dedicated']
    """
    W = _W(W)
    if W.shape[0] not in (2, 3):
        raise ValueError(f"detect_polytopes needs W with m = 2 or 3 rows; got shape {W.shape}.")
    t = check_real(represented_threshold, "represented_threshold", low=0.0)
    c = check_real(tol, "tol", low=0.0, high=1.0, high_inclusive=False)
    regularity_tol = check_real(regularity_tol, "regularity_tol", low=0.0)
    norms = norm2(W, axis=0)
    rep = np.flatnonzero(norms > t)
    if rep.size == 0:
        return []
    check_memory(
        16.0 * rep.size**2,
        f"detect_polytopes on {rep.size} represented features (a {rep.size} x {rep.size} "
        "adjacency matrix)",
        "use a higher represented_threshold or fewer features",
    )
    D = feature_dimensionality(unit_scaled(W))  # scale invariant; no overflow warnings
    U = W[:, rep] / norms[rep]
    adj = np.abs(gram_matrix(U)) > c
    label = -np.ones(rep.size, dtype=int)
    out = []
    for s in range(rep.size):
        if label[s] >= 0:
            continue
        stack, comp = [s], []
        label[s] = s
        while stack:
            a = stack.pop()
            comp.append(a)
            for nb in np.flatnonzero(adj[a]):
                if label[nb] < 0:
                    label[nb] = s
                    stack.append(int(nb))
        comp = sorted(comp)
        sv = np.linalg.svd(W[:, rep[comp]], compute_uv=False)
        d = int(np.count_nonzero(sv > 0.2 * sv[0]))
        k = len(comp)
        feats = tuple(int(rep[q]) for q in comp)
        Dc = D[list(feats)]
        regular = bool(np.all(np.abs(Dc - d / k) <= regularity_tol))
        if regular:
            name = POLYTOPE_NAMES.get((k, d), f"{k} features in {d} dims")
        elif k == 1:  # alone among the represented, yet overlapping features below threshold
            name = "dedicated (overlaps dropped features)"
        else:
            name = f"{k} features in {d} dims"
        out.append(Polytope(feats, d, name, float(Dc.mean()), regular))
    return out


@dataclass(frozen=True)
class NeuronStats:
    """Neuron-level polysemanticity of a privileged-basis model h = ReLU(W x).

    Attributes
    ----------
    features_per_neuron : ndarray of int, shape (m,)
        Number of features with input weight W[k, i] > weight_threshold into neuron k.
    monosemanticity : ndarray, shape (m,)
        max_i W+[k, i]^2 / sum_i W+[k, i]^2 (W+ = positive part): 1 when one feature alone
        drives neuron k, down to 1/n when all drive it equally; 0 for a dead neuron (no
        positive input weight: it never fires on nonnegative features, so it represents
        nothing).
    polysemantic : ndarray of bool, shape (m,)
        features_per_neuron >= 2.
    dead : ndarray of bool, shape (m,)
        No positive input weight.
    """

    features_per_neuron: np.ndarray
    monosemanticity: np.ndarray
    polysemantic: np.ndarray
    dead: np.ndarray

    @property
    def n_polysemantic(self) -> int:
        return int(np.count_nonzero(self.polysemantic))


def neuron_polysemanticity(W, *, weight_threshold: float = 0.5) -> NeuronStats:
    """Which hidden neurons of a privileged-basis model respond to several features.

    Features are nonnegative and the hidden layer is a ReLU, so neuron k responds to feature i
    through the positive weight W[k, i]; a neuron is polysemantic when more than one feature
    drives it with weight above ``weight_threshold`` (a threshold on single weights W[k, i],
    not the represented threshold on norms |w_i|). A neuron without positive input weight is
    dead: monosemanticity 0 (see :class:`NeuronStats`).

    Examples
    --------
    >>> s = neuron_polysemanticity(np.array([[1.0, 0.9, 0.0], [0.0, 0.0, 1.0], [-1.0, 0.0, 0.0]]))
    >>> s.features_per_neuron.tolist(), s.n_polysemantic, s.dead.tolist()
    ([2, 1, 0], 1, [False, False, True])
    >>> print(np.round(s.monosemanticity, 3))
    [0.552 1.    0.   ]
    """
    W = _W(W)
    t = check_real(weight_threshold, "weight_threshold", low=0.0)
    Wp = np.maximum(W, 0.0)
    count = np.count_nonzero(Wp > t, axis=1)
    top = Wp.max(axis=1)
    dead = top == 0
    # monosemanticity is scale-free: square W[k] / max_i W[k, i] (no overflow, no underflow)
    sq = (Wp / np.where(dead, 1.0, top)[:, None]) ** 2
    mono = np.where(dead, 0.0, 1.0 / np.where(dead, 1.0, sq.sum(axis=1)))
    return NeuronStats(count, mono, count >= 2, dead)


def dense_limit_loss(importance, n_dims: int, magnitude: str = "uniform") -> float:
    """Loss of the optimal dense-limit solution (p = 1): keep the m most important features.

    With every feature always active, the ReLU-output model's best solution represents the m most
    important features orthogonally and replaces each other feature by its mean through the
    bias, so each dropped feature costs I_i Var(x_i); with the notebook's mean over features:
    L = sum_{i not kept} I_i Var(x) / n, Var = 1/12 for Uniform[0, 1].

    Examples
    --------
    Importance 0.9**i, m = 2: (0.9^2 + 0.9^3 + 0.9^4) / 12 / 5.

    >>> print(round(dense_limit_loss(0.9 ** np.arange(5), 2), 6))
    0.036585
    """
    from csuper.toy.data import MAGNITUDE_LAWS

    imp = check_array(importance, "importance", ndim=1, dtype=np.float64, nonnegative=True)
    n = imp.shape[0]
    m = check_int(n_dims, "n_dims", low=1, high=n, high_inclusive=False)
    if not isinstance(magnitude, str) or magnitude not in MAGNITUDE_LAWS:
        raise ValueError(
            f"magnitude must be one of {sorted(MAGNITUDE_LAWS)}; got {magnitude!r:.80}."
        )
    law = MAGNITUDE_LAWS[magnitude]
    var = law.second_moment - law.mean**2
    return float(np.sort(imp)[::-1][m:].sum() * var / n)
