"""Synthetic feature data for toy models of superposition.

Each of the n features is active with probability p_i (and 0 otherwise); an active feature
has a magnitude drawn from a law (Uniform[0, 1) by default). Features may be grouped into
correlated groups (all members fire together) or anticorrelated groups (exactly one member fires
when the group fires, so no two members are ever active at once).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from csuper._lazy import lazy_import
from csuper._validation import check_array, check_int, check_memory, check_real, check_rng

_k = lazy_import("csuper.toy._train_kernels")
_streams = lazy_import("csuper._stream_kernels")

if TYPE_CHECKING:
    from csuper.toy._train_kernels import KernelData

__all__ = [
    "MAGNITUDE_LAWS",
    "IMPORTANCE_PROFILES",
    "FeatureDistribution",
    "feature_distribution",
    "importance_profile",
    "power_law_probabilities",
    "sample_features",
]


@dataclass(frozen=True)
class MagnitudeLaw:
    """Law of an active feature's value v, as a function of a uniform u in [0, 1):
    v = c0 + c1 u + c2 (-log(1 - u)) (the quantile function; ``coefficients = (c0, c1, c2)``).

    Attributes
    ----------
    formula : str
    coefficients : tuple of float
        (c0, c1, c2); the sampling kernel evaluates exactly this.
    mean, second_moment : float
        E[v] and E[v^2] (closed forms, used by :func:`csuper.toy.dense_limit_loss`).
    """

    formula: str
    coefficients: tuple[float, float, float]
    mean: float
    second_moment: float


#: Magnitude laws of an active feature (name -> :class:`MagnitudeLaw`); the sampler reads the
#: coefficients, so a law of the form c0 + c1 u + c2 Exp(1) is added here and nowhere else.
MAGNITUDE_LAWS: dict[str, MagnitudeLaw] = {
    # Elhage et al. 2022 (the reference notebook: torch.rand)
    "uniform": MagnitudeLaw("Uniform[0, 1)", (0.0, 1.0, 0.0), 0.5, 1.0 / 3.0),
    # Liu, Liu & Gore 2025 (arXiv:2505.10465): x_i = u_i v_i, v_i ~ U(0, 2)
    "uniform_0_2": MagnitudeLaw("Uniform[0, 2)", (0.0, 2.0, 0.0), 1.0, 4.0 / 3.0),
    "constant": MagnitudeLaw("1", (1.0, 0.0, 0.0), 1.0, 1.0),
    "exponential": MagnitudeLaw("Exponential(1)", (0.0, 0.0, 1.0), 1.0, 2.0),
}

#: Importance profiles I_i, i = 0..n-1 (name -> formula).
IMPORTANCE_PROFILES: dict[str, str] = {
    "constant": "I_i = 1",
    "geometric": "I_i = ratio**i",
    "power_law": "I_i = (i + 1)**(-alpha)",
}


def power_law_probabilities(
    n_features: int, alpha: float, p_max: float = 1.0, *, total: float | None = None
) -> np.ndarray:
    """Feature probabilities p_i = p_max * i**-(1 + alpha), i = 1..n (Liu, Liu & Gore 2025).

    Parameters
    ----------
    n_features : int
        n >= 1.
    alpha : float
        Exponent, alpha > -1 (frequencies decrease with rank).
    p_max : float
        Probability of the most frequent feature, in (0, 1].
    total : float, optional
        Instead of ``p_max``: scale so that sum_i p_i = total, the expected number of active
        features per sample (Liu, Liu & Gore use total = 1, p_i = i^-(1+alpha) / sum_j
        j^-(1+alpha)); the resulting p_1 must not exceed 1.

    Returns
    -------
    ndarray, shape (n,)

    Notes
    -----
    Liu, Liu & Gore model feature frequencies as a power law p_i ~ i^-(1 + alpha) to explain
    neural scaling laws under superposition.

    References
    ----------
    Y. Liu, Z. Liu, J. Gore, "Superposition yields robust neural scaling", NeurIPS 2025,
    arXiv:2505.10465.

    Examples
    --------
    >>> print(np.round(power_law_probabilities(4, alpha=1.0, p_max=0.5), 4))
    [0.5    0.125  0.0556 0.0312]
    >>> print(round(float(power_law_probabilities(1000, 0.5, total=1.0).sum()), 6))
    1.0
    """
    n = check_int(n_features, "n_features", low=1)
    a = check_real(alpha, "alpha", low=-1.0, low_inclusive=False)
    pm = check_real(p_max, "p_max", low=0.0, high=1.0, low_inclusive=False)
    check_memory(8 * n, f"power_law_probabilities(n_features={n})", "use a smaller n_features")
    p = np.arange(1, n + 1, dtype=float) ** -(1.0 + a)
    if total is None:
        return pm * p
    if pm != 1.0:
        raise ValueError("give either p_max or total, not both; got both.")
    tot = check_real(total, "total", low=0.0, low_inclusive=False)
    p *= tot / p.sum()
    if p[0] > 1.0:
        raise ValueError(
            f"total={tot:g} gives p_1 = {p[0]:.4g} > 1 for n_features={n}, alpha={a:g}; lower "
            "total."
        )
    return p


def importance_profile(
    n_features: int, kind: str = "constant", *, ratio: float = 0.9, alpha: float = 1.0
) -> np.ndarray:
    """Importance I_i of each feature (see :data:`IMPORTANCE_PROFILES`).

    Parameters
    ----------
    n_features : int
        n >= 1.
    kind : {"constant", "geometric", "power_law"}
        Profile; ``"geometric"`` gives ratio**i (the paper's 0.9**i), ``"power_law"`` (i+1)**-alpha.
    ratio : float
        Ratio r in (0, 1] of the geometric profile.
    alpha : float
        Exponent (>= 0) of the power-law profile.

    Examples
    --------
    >>> print(np.round(importance_profile(3, "geometric", ratio=0.9), 3))
    [1.   0.9  0.81]
    """
    n = check_int(n_features, "n_features", low=1)
    r = check_real(ratio, "ratio", low=0.0, high=1.0, low_inclusive=False)
    a = check_real(alpha, "alpha", low=0.0)
    check_memory(8 * n, f"importance_profile(n_features={n})", "use a smaller n_features")
    i = np.arange(n, dtype=float)
    if kind == "constant":
        return np.ones(n)
    if kind == "geometric":
        return r**i
    if kind == "power_law":
        return (i + 1.0) ** -a
    raise ValueError(f"kind must be one of {sorted(IMPORTANCE_PROFILES)}; got {kind!r}.")


@dataclass(frozen=True, eq=False)
class FeatureDistribution:
    """A validated feature distribution for ``n_instances`` models at once.

    Attributes
    ----------
    feature_probability : ndarray, shape (n_instances, n_features)
        p_i per instance (marginal probability that feature i is active).
    magnitude : str
        Key of :data:`MAGNITUDE_LAWS`.
    correlated, anticorrelated : tuple of tuple of int
        Feature groups (disjoint).
    """

    feature_probability: np.ndarray
    magnitude: str = "uniform"
    correlated: tuple[tuple[int, ...], ...] = ()
    anticorrelated: tuple[tuple[int, ...], ...] = ()
    _groups: tuple = field(default=(), repr=False)

    @property
    def n_instances(self) -> int:
        return int(self.feature_probability.shape[0])

    @property
    def n_features(self) -> int:
        return int(self.feature_probability.shape[1])

    def to_dict(self) -> dict:
        """JSON-serialisable description (the probabilities are stored apart as an array)."""
        return {
            "magnitude": self.magnitude,
            "correlated": [list(g) for g in self.correlated],
            "anticorrelated": [list(g) for g in self.anticorrelated],
        }


def _check_groups(groups, name: str, n: int) -> tuple[tuple[int, ...], ...]:
    out = []
    if isinstance(groups, (str, bytes)) or not hasattr(groups, "__iter__"):
        raise TypeError(f"{name} must be a sequence of groups of feature indices; got {groups!r}.")
    for g in groups:
        if isinstance(g, (str, bytes)) or not hasattr(g, "__iter__"):
            raise TypeError(
                f"each group in {name} must be a sequence of feature indices; got {g!r}."
            )
        members = tuple(check_int(i, f"{name} member", low=0, high=n - 1) for i in g)
        if len(members) < 2:
            raise ValueError(f"each group in {name} must have at least 2 features; got {members}.")
        out.append(members)
    return tuple(out)


def feature_distribution(
    n_features: int,
    feature_probability,
    *,
    magnitude: str = "uniform",
    correlated=(),
    anticorrelated=(),
) -> FeatureDistribution:
    """Build a validated :class:`FeatureDistribution`.

    Parameters
    ----------
    n_features : int
        n >= 1.
    feature_probability : float or array_like, shape (n,), (I,), (I, 1) or (I, n)
        Probability that a feature is active. A scalar or (n,) vector gives one instance; a 1-D
        array whose length is not n, or a column (I, 1), gives I instances with one p each (the
        paper's sparsity sweeps); (I, n) sets every entry.
    magnitude : str
        Law of an active feature's value, a key of :data:`MAGNITUDE_LAWS`.
    correlated : sequence of sequences of int
        Groups whose members are always active together (each member keeps its own magnitude).
        All members must have the same p (the group's firing probability).
    anticorrelated : sequence of sequences of int
        Groups of which exactly one member (uniformly chosen) is active when the group fires;
        members must share p and the group fires with probability size * p <= 1, so each
        member's marginal probability is p.

    Notes
    -----
    Correlated and anticorrelated feature groups follow section 7 ("Superposition and
    correlated features") of Elhage et al. 2022.

    References
    ----------
    N. Elhage et al., "Toy Models of Superposition", arXiv:2209.10652.

    Examples
    --------
    >>> d = feature_distribution(5, [1.0, 0.1, 0.01])
    >>> d.n_instances, d.n_features
    (3, 5)
    """
    n = check_int(n_features, "n_features", low=1)
    p = check_array(feature_probability, "feature_probability", ndim=(0, 1, 2), dtype=np.float64)
    n_inst = p.shape[0] if (p.ndim == 2 or (p.ndim == 1 and p.shape[0] != n)) else 1
    check_memory(
        16.0 * n_inst * n,
        f"feature_distribution of {n_inst} instance(s) x n_features={n}",
        "use fewer features or instances",
    )
    if not isinstance(magnitude, str) or magnitude not in MAGNITUDE_LAWS:
        raise ValueError(f"magnitude must be one of {sorted(MAGNITUDE_LAWS)}; got {magnitude!r}.")
    if p.ndim == 0:
        p = np.full((1, n), float(p))
    elif p.ndim == 1:
        p = p[None, :] if p.shape[0] == n else np.repeat(p[:, None], n, axis=1)
    elif p.shape[1] == 1:
        p = np.repeat(p, n, axis=1)
    elif p.shape[1] != n:
        raise ValueError(
            f"feature_probability must have shape (n_instances, {n}) or (n_instances, 1); got "
            f"{p.shape}."
        )
    p = check_array(p, "feature_probability", low=0, high=1)
    corr = _check_groups(correlated, "correlated", n)
    anti = _check_groups(anticorrelated, "anticorrelated", n)
    seen: set[int] = set()
    for g in corr + anti:
        if seen & set(g) or len(set(g)) != len(g):
            raise ValueError(
                f"feature groups must be disjoint; feature(s) {sorted(seen & set(g)) or g} repeat."
            )
        seen |= set(g)
    groups = corr + anti
    gp = np.zeros((p.shape[0], len(groups)))
    for gi, g in enumerate(groups):
        pg = p[:, list(g)]
        if not np.all(pg == pg[:, :1]):
            raise ValueError(
                f"features of a group must share the same feature_probability; group {g} does not."
            )
        gp[:, gi] = pg[:, 0] if gi < len(corr) else pg[:, 0] * len(g)
        if gi >= len(corr) and np.any(gp[:, gi] > 1):
            raise ValueError(
                f"anticorrelated group {g} needs len(group) * p <= 1; got "
                f"{float(gp[:, gi].max()):g}."
            )
    indep = np.setdiff1d(np.arange(n, dtype=np.int64), np.fromiter(seen, np.int64, len(seen)))
    gstart = np.cumsum([0] + [len(g) for g in groups]).astype(np.int64)
    gmem = np.array([i for g in groups for i in g], dtype=np.int64)
    gmode = np.array([0] * len(corr) + [1] * len(anti), dtype=np.int64)
    return FeatureDistribution(p, magnitude, corr, anti, (indep, gstart, gmem, gmode, gp))


def _kernel_data(dist: FeatureDistribution, repeat: int = 1) -> KernelData:
    """The distribution as the kernels see it, every instance repeated ``repeat`` times."""
    indep, gstart, gmem, gmode, gp = dist._groups
    return _k.KernelData(
        np.ascontiguousarray(np.repeat(dist.feature_probability, repeat, axis=0)),
        np.ascontiguousarray(np.repeat(gp, repeat, axis=0)),
        indep,
        gstart,
        gmem,
        gmode,
        np.array(MAGNITUDE_LAWS[dist.magnitude].coefficients, dtype=np.float64),
    )


def _stream_states(seeds) -> np.ndarray:
    """Initial states (I, LANES) of the xorshift64* lanes of each integer seed."""
    return _streams.stream_states(seeds, _k.LANES)


def sample_features(dist: FeatureDistribution, n_samples: int, *, rng=None) -> np.ndarray:
    """Draw ``n_samples`` feature vectors for every instance of ``dist``.

    Uses the same kernel as training: only the active entries are drawn (geometric gaps between
    them), so sampling costs O(active entries) at high sparsity.

    Parameters
    ----------
    dist : FeatureDistribution
    n_samples : int
        Batch size B >= 1.
    rng : None, int or numpy.random.Generator

    Returns
    -------
    ndarray, shape (n_instances, n_samples, n_features)

    Examples
    --------
    >>> X = sample_features(feature_distribution(4, 0.25), 20000, rng=0)
    >>> print(round(float((X > 0).mean()), 2))
    0.25
    """
    if not isinstance(dist, FeatureDistribution):
        raise TypeError(
            "dist must be a FeatureDistribution (see feature_distribution); got "
            f"{type(dist).__name__}."
        )
    B = check_int(n_samples, "n_samples", low=1)
    gen = check_rng(rng)
    check_memory(
        8 * B * dist.n_instances * dist.n_features,
        f"sample_features: {dist.n_instances} x {B} x {dist.n_features} float64 samples",
        "use fewer n_samples per call (draw in batches)",
    )
    seeds = gen.integers(0, 2**63, size=dist.n_instances)
    X = np.zeros((dist.n_instances, B, dist.n_features))
    with np.errstate(over="ignore"):
        _k.sample_many(_stream_states(seeds), _kernel_data(dist), X)
    return X
