"""Data with ground truth for sparse autoencoders: a dictionary F and sparse codes c, h = F c.

A ground-truth dictionary F (shape (n_dims, n_features), unit columns) comes from
:data:`DICTIONARIES` (Gaussian, orthogonalised, a packing, a known optimal frame) or from a
trained toy model's W (:func:`toy_model_data`). Codes come from a :class:`CodeLaw`: every feature
i fires with probability p_i (independently, or exactly k at a time), an active feature has a
magnitude from :data:`MAGNITUDES`, and an optional hierarchy lets a child fire only with its
parent, at most one child per parent (for feature-absorption tests).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from csuper._norms import norm2
from csuper._validation import (
    check_array,
    check_bool,
    check_int,
    check_memory,
    check_real,
    check_rng,
)

__all__ = [
    "DICTIONARIES",
    "MAGNITUDES",
    "PROBABILITY_PROFILES",
    "CodeLaw",
    "GroundTruthData",
    "code_law",
    "ground_truth_dictionary",
    "make_data",
    "sample_codes",
    "toy_model_data",
]

#: Ground-truth dictionaries (name -> construction), all with unit-norm columns.
DICTIONARIES: dict[str, str] = {
    "gaussian": "i.i.d. N(0, 1) entries, columns normalised",
    "orthogonal": "QR of a Gaussian matrix: orthonormal columns (n <= m) or orthonormal rows "
    "with columns normalised (n > m, a unit-norm nearly tight frame)",
    "packing": "csuper.geometry.find_packing: n lines in R^m with small coherence",
    "known": "csuper.geometry.known_frame(frame, **params) (shape fixed by the frame)",
}

#: Magnitude laws of an active feature (name -> law). ``half_normal`` is O'Neill et al.'s.
MAGNITUDES: dict[str, str] = {
    "uniform": "Uniform[0, 1)",
    "half_normal": "|N(0, 1)|",
    "constant": "1",
    "exponential": "Exponential(1)",
}

#: Firing-probability profiles p_i, i = 0..n-1, before scaling to the mean count k.
PROBABILITY_PROFILES: dict[str, str] = {
    "constant": "p_i = k / n",
    "decaying": "p_i proportional to ratio**i (Sharkey et al. 2022: ratio = 0.99)",
    "zipf": "p_i proportional to (i + 1)**(-alpha)",
}


def _unit_columns(F: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(F / np.linalg.norm(F, axis=0))


def ground_truth_dictionary(
    kind: str, n_features: int | None = None, n_dims: int | None = None, *, rng=None, **params
) -> np.ndarray:
    """A ground-truth dictionary F with unit-norm columns (see :data:`DICTIONARIES`).

    Parameters
    ----------
    kind : str
        Key of :data:`DICTIONARIES`.
    n_features, n_dims : int
        n >= 1 columns in R^m, m >= 1 (ignored by ``"known"``, whose frame fixes its shape).
    rng : None, int or numpy.random.Generator
        Randomness of ``"gaussian"``, ``"orthogonal"`` and ``"packing"``.
    **params
        ``"known"``: ``frame`` (a key of :data:`csuper.geometry.KNOWN_FRAMES`) and that frame's
        parameters; ``"packing"``: ``n_starts`` (default 2).

    Returns
    -------
    ndarray, shape (n_dims, n_features)

    Examples
    --------
    >>> F = ground_truth_dictionary("orthogonal", 4, 6, rng=0)
    >>> bool(np.allclose(F.T @ F, np.eye(4)))
    True
    >>> ground_truth_dictionary("known", frame="paley", q=13).shape
    (7, 14)
    """
    if not isinstance(kind, str) or kind not in DICTIONARIES:
        raise ValueError(f"kind must be one of {sorted(DICTIONARIES)}; got {kind!r:.80}.")
    if kind == "known":
        from csuper.geometry import KNOWN_FRAMES, known_frame

        p = dict(params)
        frame = p.pop("frame", None)
        if not isinstance(frame, str) or frame not in KNOWN_FRAMES:
            raise ValueError(
                f"ground_truth_dictionary('known') needs frame, one of {sorted(KNOWN_FRAMES)}; "
                f"got {frame!r:.80}."
            )
        return _unit_columns(np.asarray(known_frame(frame, **p), dtype=float))
    unknown = set(params) - ({"n_starts"} if kind == "packing" else set())
    if unknown:
        raise TypeError(
            f"ground_truth_dictionary({kind!r}) got unexpected parameters {sorted(unknown)}."
        )
    n = check_int(n_features, "n_features", low=1)
    m = check_int(n_dims, "n_dims", low=1)
    gen = check_rng(rng)
    if kind == "gaussian":
        return _unit_columns(gen.standard_normal((m, n)))
    if kind == "orthogonal":
        if n <= m:
            Q, _ = np.linalg.qr(gen.standard_normal((m, n)))
            return np.ascontiguousarray(Q)
        Q, _ = np.linalg.qr(gen.standard_normal((n, m)))
        return _unit_columns(Q.T)
    from csuper.geometry import find_packing

    if n < 2:
        raise ValueError(f"a packing needs n_features >= 2; got {n}.")
    res = find_packing(
        n,
        m,
        n_starts=check_int(params.get("n_starts", 2), "n_starts", low=1),
        rng=gen,
        progress=False,
    )
    return _unit_columns(np.asarray(res.frame, dtype=float))


@dataclass(frozen=True, eq=False)
class CodeLaw:
    """Law of the sparse codes c (n_features,), see :func:`code_law`.

    Attributes
    ----------
    feature_probability : ndarray, shape (n_features,)
        p_i, the marginal probability that feature i fires (for a child of a hierarchy: the
        unconditional probability, parent included).
    magnitude : str
        Key of :data:`MAGNITUDES`.
    k : int or None
        Exactly k features fire in every sample (drawn without replacement with weights p_i);
        None: every feature fires independently with probability p_i.
    hierarchy : tuple of (int, tuple of int)
        (parent, children) pairs: a child fires only when its parent does, and at most one child
        of a parent fires (a child is chosen with probability p_child / p_parent).
    """

    feature_probability: np.ndarray
    magnitude: str = "uniform"
    k: int | None = None
    hierarchy: tuple[tuple[int, tuple[int, ...]], ...] = ()

    @property
    def n_features(self) -> int:
        return int(self.feature_probability.shape[0])

    @property
    def expected_l0(self) -> float:
        """E ||c||_0: k if fixed, else sum_i p_i."""
        return float(self.k) if self.k is not None else float(self.feature_probability.sum())

    def to_dict(self) -> dict:
        """JSON-serialisable description."""
        return {
            "feature_probability": self.feature_probability.tolist(),
            "magnitude": self.magnitude,
            "k": self.k,
            "hierarchy": [[p, list(c)] for p, c in self.hierarchy],
        }


def code_law(
    n_features: int,
    k: float,
    *,
    profile: str = "constant",
    ratio: float = 0.99,
    alpha: float = 1.0,
    magnitude: str = "uniform",
    fixed_k: bool = False,
    hierarchy=(),
    child_fraction: float = 0.5,
) -> CodeLaw:
    """Build a validated :class:`CodeLaw` with expected (or exact) number of active features k.

    Parameters
    ----------
    n_features : int
        n >= 1.
    k : float
        Expected number of active features, in (0, n]; an integer in [1, n] when ``fixed_k``.
    profile : str
        Key of :data:`PROBABILITY_PROFILES`: the shape of p_i, scaled so that sum_i p_i = k
        (entries capped at 1; the cap is refused if it changes the sum).
    ratio, alpha : float
        Parameters of the ``"decaying"`` (ratio in (0, 1]) and ``"zipf"`` (alpha >= 0) profiles.
    magnitude : str
        Key of :data:`MAGNITUDES`.
    fixed_k : bool
        Exactly k active features per sample (O'Neill et al. 2024's law), drawn without
        replacement with weights p_i; otherwise independent Bernoulli(p_i) features.
    hierarchy : sequence of (parent, children)
        Parent-child groups (disjoint, children non-empty; not with ``fixed_k``). The children
        of a parent share ``child_fraction * p_parent`` equally (their unconditional
        probabilities), before the whole profile is scaled to sum k.
    child_fraction : float
        Probability, in [0, 1], that one of a parent's children fires when the parent does.

    Examples
    --------
    >>> law = code_law(8, 2.0, profile="zipf", alpha=1.0)
    >>> print(round(law.expected_l0, 6), np.round(law.feature_probability[:3], 3))
    2.0 [0.736 0.368 0.245]
    """
    n = check_int(n_features, "n_features", low=1)
    if check_bool(fixed_k, "fixed_k"):
        k = check_int(k, "k", low=1, high=n)
    else:
        k = check_real(k, "k", low=0.0, high=float(n), low_inclusive=False)
    check_memory(4.0 * 8 * n, f"code_law of n_features={n}", "use fewer features")
    i = np.arange(n, dtype=float)
    ratio = check_real(ratio, "ratio", low=0.0, high=1.0, low_inclusive=False)
    alpha = check_real(alpha, "alpha", low=0.0)
    if profile == "constant":
        shape = np.ones(n)
    elif profile == "decaying":
        shape = ratio**i
    elif profile == "zipf":
        shape = (i + 1.0) ** -alpha
    else:
        raise ValueError(
            f"profile must be one of {sorted(PROBABILITY_PROFILES)}; got {profile!r:.80}."
        )
    if not isinstance(magnitude, str) or magnitude not in MAGNITUDES:
        raise ValueError(f"magnitude must be one of {sorted(MAGNITUDES)}; got {magnitude!r:.80}.")
    groups = []
    seen: set[int] = set()
    frac = check_real(child_fraction, "child_fraction", low=0.0, high=1.0)
    if hierarchy is None:
        hierarchy = ()
    if isinstance(hierarchy, (str, bytes)) or not isinstance(hierarchy, Iterable):
        raise TypeError(
            f"hierarchy must be a sequence of (parent, children) pairs; got {hierarchy!r:.80}."
        )
    for entry in hierarchy:
        try:
            parent, children = entry
            children = list(children)
        except (TypeError, ValueError):
            raise ValueError(
                "hierarchy entries must be (parent, children) with children a sequence of "
                f"feature indices; got {entry!r:.80}."
            ) from None
        parent = check_int(parent, "hierarchy parent", low=0, high=n - 1)
        kids = tuple(check_int(c, "hierarchy child", low=0, high=n - 1) for c in children)
        members = {parent, *kids}
        if not kids or len(members) != len(kids) + 1 or members & seen:
            raise ValueError(
                "hierarchy groups must be disjoint with at least one child; "
                f"got ({parent}, {kids})."
            )
        seen |= members
        shape[list(kids)] = shape[parent] * frac / len(kids)
        groups.append((parent, kids))
    if groups and fixed_k:
        raise ValueError("hierarchy cannot be combined with fixed_k.")
    p = shape * (k / shape.sum())
    if p.max() > 1.0 + 1e-12:
        raise ValueError(
            f"k = {k:g} with profile {profile!r} gives a feature probability {p.max():.3g} > 1; "
            "lower k or flatten the profile."
        )
    p = np.minimum(p, 1.0)
    return CodeLaw(p, magnitude, int(k) if fixed_k else None, tuple(groups))


def _magnitudes(gen: np.random.Generator, law: str, size) -> np.ndarray:
    if law == "uniform":
        return gen.random(size)
    if law == "half_normal":
        return np.abs(gen.standard_normal(size))
    if law == "constant":
        return np.ones(size)
    return gen.exponential(1.0, size)


def sample_codes(law: CodeLaw, n_samples: int, *, rng=None) -> np.ndarray:
    """Draw ``n_samples`` code vectors from ``law``.

    Returns
    -------
    ndarray, shape (n_samples, n_features)
        Nonnegative codes.

    Examples
    --------
    >>> C = sample_codes(code_law(10, 3, fixed_k=True), 5, rng=0)
    >>> (C > 0).sum(axis=1).tolist()
    [3, 3, 3, 3, 3]
    """
    if not isinstance(law, CodeLaw):
        raise TypeError(f"law must be a CodeLaw (see code_law); got {type(law).__name__}.")
    B = check_int(n_samples, "n_samples", low=1)
    gen = check_rng(rng)
    n = law.n_features
    check_memory(
        4.0 * 8 * B * n,
        f"sample_codes of n_samples={B} x n_features={n}",
        "draw fewer samples at a time",
    )
    p = law.feature_probability
    if law.k is not None:
        # exactly k of n without replacement, weights p (Gumbel top-k: argsort of log p + Gumbel)
        with np.errstate(divide="ignore"):
            keys = np.log(p)[None, :] + gen.gumbel(size=(B, n))
        idx = np.argpartition(-keys, law.k - 1, axis=1)[:, : law.k]
        active = np.zeros((B, n), dtype=bool)
        np.put_along_axis(active, idx, True, axis=1)
    else:
        active = gen.random((B, n)) < p[None, :]
        for parent, kids in law.hierarchy:
            kids_l = list(kids)
            # one categorical draw per sample: child j with prob p_j / p_parent, or none
            cond = p[kids_l] / p[parent]
            u = gen.random(B)
            pick = np.searchsorted(np.cumsum(cond), u, side="right")
            active[:, kids_l] = False
            on = active[:, parent] & (pick < len(kids_l))
            active[np.flatnonzero(on), np.asarray(kids_l)[pick[on]]] = True
    return np.where(active, _magnitudes(gen, law.magnitude, (B, n)), 0.0)


@dataclass(frozen=True, eq=False)
class GroundTruthData:
    """Samples h = F c (+ noise) with their ground truth.

    Attributes
    ----------
    dictionary : ndarray, shape (n_dims, n_features)
        F, unit columns.
    codes : ndarray, shape (n_samples, n_features)
        c, nonnegative.
    X : ndarray, shape (n_samples, n_dims)
        Rows h = F c + noise.
    law : CodeLaw or None
        The law of c (None for codes from a toy model or a toy feature distribution).
    """

    dictionary: np.ndarray
    codes: np.ndarray
    X: np.ndarray
    law: CodeLaw | None = None

    @property
    def n_features(self) -> int:
        return int(self.dictionary.shape[1])

    @property
    def n_dims(self) -> int:
        return int(self.dictionary.shape[0])

    @property
    def n_samples(self) -> int:
        return int(self.X.shape[0])


def make_data(dictionary, law, n_samples: int, *, noise: float = 0.0, rng=None) -> GroundTruthData:
    """Draw ``n_samples`` activations h = F c + noise with their codes.

    Parameters
    ----------
    dictionary : array_like, shape (n_dims, n_features)
        F; its columns are normalised to unit norm.
    law : CodeLaw or csuper.toy.FeatureDistribution
        With ``law.n_features == n_features``. A toy feature distribution (one instance; its
        correlated and anticorrelated groups included) is sampled by
        :func:`csuper.toy.sample_features`.
    n_samples : int
    noise : float
        Standard deviation (>= 0) of i.i.d. Gaussian noise added to every entry of h.
    rng : None, int or numpy.random.Generator

    Examples
    --------
    >>> F = ground_truth_dictionary("gaussian", 16, 8, rng=0)
    >>> d = make_data(F, code_law(16, 3, fixed_k=True, magnitude="half_normal"), 1024, rng=1)
    >>> d.X.shape, bool(np.allclose(d.X, d.codes @ F.T))
    ((1024, 8), True)
    >>> import csuper.toy as toy
    >>> pairs = toy.feature_distribution(16, 0.1, anticorrelated=[(0, 1)])  # never together
    >>> c = make_data(F, pairs, 2000, rng=2).codes
    >>> int(((c[:, 0] > 0) & (c[:, 1] > 0)).sum())
    0
    """
    F = check_array(dictionary, "dictionary", ndim=2, dtype=np.float64)
    norms = norm2(F, axis=0)
    if np.any(norms == 0):
        raise ValueError("dictionary must have nonzero columns.")
    F = np.ascontiguousarray(F / norms)
    import csuper.toy as toy

    if not isinstance(law, (CodeLaw, toy.FeatureDistribution)):
        raise TypeError(
            "law must be a CodeLaw (see code_law) or a csuper.toy.FeatureDistribution; "
            f"got {type(law).__name__}."
        )
    if isinstance(law, toy.FeatureDistribution) and law.n_instances != 1:
        raise ValueError(f"a toy feature distribution must have 1 instance; got {law.n_instances}.")
    if law.n_features != F.shape[1]:
        raise ValueError(
            f"law has n_features={law.n_features} but dictionary has {F.shape[1]} columns."
        )
    s = check_real(noise, "noise", low=0.0)
    gen = check_rng(rng)
    if isinstance(law, CodeLaw):
        C = sample_codes(law, n_samples, rng=gen)
    else:
        C = np.ascontiguousarray(toy.sample_features(law, n_samples, rng=gen)[0])
    X = C @ F.T
    if s > 0:
        X = X + s * gen.standard_normal(X.shape)
    return GroundTruthData(F, C, np.ascontiguousarray(X), law if isinstance(law, CodeLaw) else None)


def toy_model_data(model, n_samples: int, *, instance: int = 0, rng=None) -> GroundTruthData:
    """Activations h = W x of a trained toy model, sampled from the model's own distribution.

    The ground-truth dictionary is F = W / |w_i| (columns normalised) and the codes are
    c_i = |w_i| x_i, so that h = F c exactly. Features the model does not represent
    (|w_i| ~ 0) keep a unit column but their codes are ~0.

    Parameters
    ----------
    model : csuper.toy.ToyModel
    n_samples : int
    instance : int
        Which of the model's instances.
    rng : None, int or numpy.random.Generator

    Examples
    --------
    >>> import csuper.toy as toy
    >>> m = toy.from_weights(np.array([[1.0, 0.0, 0.6], [0.0, 2.0, 0.8]]), feature_probability=0.2)
    >>> d = toy_model_data(m, 100, rng=0)
    >>> bool(np.allclose(d.X, d.codes @ d.dictionary.T))
    True
    >>> np.round(np.linalg.norm(d.dictionary, axis=0), 6).tolist()
    [1.0, 1.0, 1.0]
    """
    import csuper.toy as toy

    if not isinstance(model, toy.ToyModel):
        raise TypeError(f"model must be a csuper.toy.ToyModel; got {type(model).__name__}.")
    r = check_int(instance, "instance", low=0, high=model.n_instances - 1)
    p = model.feature_probability[r]
    if not np.all(np.isfinite(p)):
        raise ValueError(
            "model has no feature_probability (imported weights); pass one to toy.from_weights."
        )
    W = model.W[r]
    dist = toy.feature_distribution(
        model.n_features, p, magnitude=model.distribution.get("magnitude", "uniform")
    )
    x = toy.sample_features(dist, n_samples, rng=rng)[0]
    norms = norm2(W, axis=0)
    safe = np.where(norms > 0, norms, 1.0)
    F = W / safe
    F[:, norms == 0] = 1.0 / np.sqrt(W.shape[0])  # any unit vector: its codes are exactly 0
    C = x * norms[None, :]
    return GroundTruthData(
        np.ascontiguousarray(F), np.ascontiguousarray(C), np.ascontiguousarray(x @ W.T), None
    )
