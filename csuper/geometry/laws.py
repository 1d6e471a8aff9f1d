"""Laws of random unit vectors: the inner product of two uniform points of S^(m-1), its moments
and tails, and the coherence of N random unit vectors (simulation, union and Bonferroni bounds,
Gumbel limit).

These are the null models of superposition: how much interference N *random* feature directions in
R^m have, against which learned frames and packings (:mod:`csuper.geometry.bounds`) are compared.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from csuper._lazy import lazy_import
from csuper._validation import check_bool, check_int, check_memory, check_real, check_rng
from csuper.geometry._sphere import MAX_INT, abs_tail, even_moment, level_values
from csuper.geometry.gram import gram_product

_k = lazy_import("csuper.geometry._laws_kernels")
special = lazy_import("scipy.special")
stats = lazy_import("scipy.stats")

__all__ = [
    "inner_product_law",
    "inner_product_moment",
    "inner_product_tail",
    "expected_abs_inner_product",
    "coherence_tail_union_bound",
    "coherence_quantile_union_bound",
    "coherence_quantile_gumbel",
    "coherence_tail_bonferroni_bound",
    "coherence_quantile_bonferroni_bound",
    "CoherenceSimulation",
    "simulate_coherence",
]

# Streaming: at most this many float64 numbers (32 MB) of Gaussian draws are held at once.
_MAX_CHUNK_ELEMENTS = 1 << 22
# Draws of at most _SMALL_N vectors go through one numba kernel over the whole batch; larger
# draws take Gram blocks of _GRAM_BLOCK rows from BLAS (csuper.geometry.gram: gemm, never syrk)
# and reduce them in a numba kernel: measured about 1.5x faster than one full numpy Gram matrix
# per draw for N = 1000-5000 on a loaded 2-core machine (and O(block^2) memory instead of O(N^2)).
_SMALL_N = 256
_GRAM_BLOCK = 1024


def _check_dim(n_dims: Any) -> int:
    return check_int(n_dims, "n_dims", low=1, high=MAX_INT)


def inner_product_law(n_dims: int) -> Any:
    """Exact law of ``t = <u, v>`` for u, v independent and uniform on the sphere S^(n_dims-1).

    Parameters
    ----------
    n_dims : int, >= 2
        m, the dimension of the ambient space R^m.

    Returns
    -------
    scipy.stats frozen distribution
        ``scipy.stats.beta(a, a, loc=-1, scale=2)`` with ``a = (m - 1)/2``: use its ``pdf``,
        ``cdf``, ``sf``, ``ppf``, ``moment``, ``rvs(random_state=rng)``.

    Raises
    ------
    ValueError
        For n_dims = 1, where t = +-1 with probability 1/2 each (no density).

    Notes
    -----
    By rotation invariance t is distributed as the first coordinate of u, whose density is
    ``proportional to (1 - t^2)^((m-3)/2)`` on [-1, 1]; equivalently ``(1 + t)/2 ~
    Beta((m-1)/2, (m-1)/2)``. m = 2 is the arcsine law (t = cos of a uniform angle), m = 3 the
    uniform law on [-1, 1] (Archimedes), and ``sqrt(m) t -> N(0, 1)`` as m grows. Moments:
    :func:`inner_product_moment`; tails: :func:`inner_product_tail`.

    References
    ----------
    T. T. Cai, J. Fan and T. Jiang, "Distributions of angles in random packing on spheres",
    J. Mach. Learn. Res. 14:1837-1864, 2013. arXiv:1306.0256.

    Examples
    --------
    >>> law = inner_product_law(3)  # uniform on [-1, 1]
    >>> print(f"{law.cdf(0.5):.6f} {law.var():.6f}")
    0.750000 0.333333
    """
    m = _check_dim(n_dims)
    if m < 2:
        raise ValueError(
            "inner_product_law requires n_dims >= 2 (for n_dims = 1, <u, v> = +-1 with "
            "probability 1/2 "
            f"each and has no density); got n_dims={m}."
        )
    a = (m - 1) / 2.0
    return stats.beta(a, a, loc=-1.0, scale=2.0)


def inner_product_moment(order: int, n_dims: int) -> float:
    """Exact moment ``E <u, v>^order`` for u, v independent uniform on S^(n_dims-1).

    Parameters
    ----------
    order : int, >= 0
        The moment's order p.
    n_dims : int, >= 1
        m.

    Returns
    -------
    float
        0 for odd p; ``prod_{j<k} (2j+1)/(m+2j)`` for p = 2k.

    Notes
    -----
    ``t^2 ~ Beta(1/2, (m-1)/2)``, so ``E t^(2k) = (1/2)_k / (m/2)_k = prod_{j<k} (2j+1)/(m+2j)``:
    ``E t^2 = 1/m``, ``E t^4 = 3/(m(m+2))``; by symmetry odd moments vanish. For m = 1
    (t = +-1) every even moment is 1, as the formula gives. Computed as a direct product for
    k <= 256, with log-gamma functions beyond. These moments are the constants of the real Welch
    bounds (:func:`csuper.geometry.real_welch_bound`).

    References
    ----------
    T. T. Cai, J. Fan and T. Jiang, J. Mach. Learn. Res. 14:1837-1864, 2013. arXiv:1306.0256.

    Examples
    --------
    >>> print(f"{inner_product_moment(4, 10):.6f}")  # 3 / (10 * 12)
    0.025000
    """
    p = check_int(order, "order", low=0, high=MAX_INT)
    m = _check_dim(n_dims)
    if p % 2:
        return 0.0
    return float(even_moment(p // 2, m)[0])


def inner_product_tail(eps: Any, n_dims: int) -> float | np.ndarray:
    """Exact two-sided tail ``P(|<u, v>| >= eps)`` for u, v independent uniform on S^(n_dims-1).

    Parameters
    ----------
    eps : float or array, in (0, 1)
        Threshold(s).
    n_dims : int, >= 1
        m.

    Returns
    -------
    float or ndarray
        The probability, same shape as ``eps``.

    Notes
    -----
    Since ``t^2 ~ Beta(1/2, (m-1)/2)``,

        P(|t| >= eps) = I_{1 - eps^2}((m-1)/2, 1/2),

    the regularized incomplete beta function (``scipy.special.betainc``); it is the normalised
    area of the double spherical cap of angular radius arccos(eps), ``<= 2 exp(-m eps^2 / 2)``.
    For m = 1 it is 1.

    References
    ----------
    T. T. Cai, J. Fan and T. Jiang, J. Mach. Learn. Res. 14:1837-1864, 2013. arXiv:1306.0256.

    Examples
    --------
    >>> print(f"{inner_product_tail(0.5, 3):.6f}")  # uniform law on [-1, 1]
    0.500000
    """
    e, scalar = level_values(eps)
    m = _check_dim(n_dims)
    out = abs_tail(e, m)
    return float(out) if scalar else out


def expected_abs_inner_product(n_dims: int) -> float:
    """Exact ``E |<u, v>|`` for u, v independent uniform on S^(n_dims-1).

    Parameters
    ----------
    n_dims : int, >= 1
        m.

    Returns
    -------
    float
        ``Gamma(m/2) / (sqrt(pi) Gamma((m+1)/2))``, about ``sqrt(2/(pi m))`` for large m.

    Notes
    -----
    ``E |t| = E (t^2)^(1/2)`` with ``t^2 ~ Beta(1/2, (m-1)/2)``:
    ``B(1, (m-1)/2) / B(1/2, (m-1)/2) = Gamma(m/2) / (sqrt(pi) Gamma((m+1)/2))``. It is the
    expected coherence of N = 2 random unit vectors. m = 1 gives 1, m = 2 gives 2/pi, m = 3
    gives 1/2.

    References
    ----------
    T. T. Cai, J. Fan and T. Jiang, J. Mach. Learn. Res. 14:1837-1864, 2013. arXiv:1306.0256.

    Examples
    --------
    >>> print(f"{expected_abs_inner_product(2):.6f}")  # 2 / pi
    0.636620
    """
    m = _check_dim(n_dims)
    # Gamma(m/2) / Gamma((m+1)/2) = 1 / poch(m/2, 1/2): scipy's Pochhammer symbol keeps full
    # relative accuracy for huge m, where a difference of log-gamma values loses every digit
    return float(1.0 / (special.poch(m / 2.0, 0.5) * math.sqrt(math.pi)))


def _coherence_args(
    x: Any, name: str, n_features: Any, n_dims: Any, min_vectors: int = 2
) -> tuple[np.ndarray, bool, int, int]:
    """Validate (level in (0, 1), N, m) of the random-coherence functions."""
    values, scalar = level_values(x, name)
    n = check_int(n_features, "n_features", low=min_vectors, high=MAX_INT)
    return values, scalar, n, _check_dim(n_dims)


def _abs_tail_inverse(p: np.ndarray, m: int) -> np.ndarray:
    """The s in [0, 1] with P(|t| >= s) = p, for m >= 2 (inverse regularized incomplete beta)."""
    return np.sqrt(np.clip(1.0 - special.betaincinv((m - 1) / 2.0, 0.5, p), 0.0, 1.0))


def _n_pairs(n: int) -> float:
    return n * (n - 1) / 2.0


def coherence_tail_union_bound(threshold: Any, n_features: int, n_dims: int) -> float | np.ndarray:
    """Union bound on ``P(mu >= threshold)`` for the coherence mu of N random unit vectors.

    Parameters
    ----------
    threshold : float or array, in (0, 1)
        The coherence level s.
    n_features : int, >= 2
        N, independent uniform unit vectors in R^m.
    n_dims : int, >= 1
        m.

    Returns
    -------
    float or ndarray
        ``min(1, binom(N, 2) P(|t| >= s))``: an upper bound, exact for N = 2.

    Notes
    -----
    ``{mu >= s}`` is the union of the binom(N, 2) events ``{|<u_i, u_j>| >= s}``, each of
    probability :func:`inner_product_tail`. The pairs are pairwise independent, so the bound is
    also nearly tight when it is small (Poisson regime; Cai, Fan and Jiang 2013 show
    ``m mu^2 - 4 log N + log log N`` tends to a Gumbel law when log(N)/m -> 0).

    References
    ----------
    T. T. Cai, J. Fan and T. Jiang, J. Mach. Learn. Res. 14:1837-1864, 2013. arXiv:1306.0256.

    Examples
    --------
    >>> print(f"{coherence_tail_union_bound(0.5, 2, 3):.6f}")  # exact for N = 2
    0.500000
    """
    e, scalar, n, m = _coherence_args(threshold, "threshold", n_features, n_dims)
    out = np.minimum(1.0, _n_pairs(n) * abs_tail(e, m))
    return float(out) if scalar else out


def coherence_quantile_union_bound(q: Any, n_features: int, n_dims: int) -> float | np.ndarray:
    """Upper bound on the q-quantile of the coherence of N random unit vectors in R^m.

    Parameters
    ----------
    q : float or array, in (0, 1)
        Quantile level(s).
    n_features : int, >= 2
        N.
    n_dims : int, >= 1
        m.

    Returns
    -------
    float or ndarray
        The smallest s with ``binom(N, 2) P(|t| >= s) <= 1 - q``, so that
        ``P(mu >= s) <= 1 - q``; exact quantile of |t| for N = 2. 1 for m = 1 (mu = 1 surely).

    Notes
    -----
    Inverting :func:`coherence_tail_union_bound`: with ``alpha = (1 - q)/binom(N, 2)``,
    ``s = sqrt(1 - I^{-1}_alpha((m-1)/2, 1/2))`` (inverse regularized incomplete beta,
    ``scipy.special.betaincinv``). For large m, ``s ~ sqrt((4 log N + 2 log(1/(1-q)))/m)``
    up to lower-order terms.

    References
    ----------
    T. T. Cai, J. Fan and T. Jiang, J. Mach. Learn. Res. 14:1837-1864, 2013. arXiv:1306.0256.

    Examples
    --------
    >>> print(f"{coherence_quantile_union_bound(0.5, 2, 3):.6f}")  # median of |U(-1, 1)|
    0.500000
    >>> print(f"{coherence_quantile_union_bound(0.95, 1000, 256):.6f}")
    0.324792
    """
    qq, scalar, n, m = _coherence_args(q, "q", n_features, n_dims)
    if m == 1:
        out = np.ones_like(qq)
    else:
        out = _abs_tail_inverse((1.0 - qq) / _n_pairs(n), m)
    return float(out) if scalar else out


def coherence_tail_bonferroni_bound(
    threshold: Any, n_features: int, n_dims: int
) -> float | np.ndarray:
    """Lower bound on ``P(mu >= threshold)`` for the coherence mu of N random unit vectors.

    Parameters
    ----------
    threshold : float or array, in (0, 1)
        The coherence level s.
    n_features : int, >= 2
        N.
    n_dims : int, >= 1
        m.

    Returns
    -------
    float or ndarray
        ``max(0, M p - M (M - 1) p^2 / 2)`` with ``M = binom(N, 2)``, ``p = P(|t| >= s)``;
        exact for N = 2.

    Notes
    -----
    Second Bonferroni inequality ``P(union A) >= sum P(A) - sum_{A<B} P(A and B)`` over the
    events ``A_ij = {|<u_i, u_j>| >= s}``. These events are pairwise independent: disjoint pairs
    trivially, and ``<u_i, u_j>``, ``<u_i, u_k>`` are independent given u_i with a law that does
    not depend on u_i. So ``P(A and B) = p^2`` for every pair of events. Together with
    :func:`coherence_tail_union_bound` this brackets the tail; the bracket is narrow when
    ``M p`` is small (high quantiles).

    References
    ----------
    T. T. Cai and T. Jiang, Ann. Statist. 39(3):1496-1525, 2011. arXiv:1102.2925.
    W. Feller, An Introduction to Probability Theory and Its Applications, vol. 1, 3rd ed.,
    Wiley, 1968, ch. IV.

    Examples
    --------
    >>> lo = coherence_tail_bonferroni_bound(0.5, 100, 64)
    >>> hi = coherence_tail_union_bound(0.5, 100, 64)
    >>> print(f"{lo:.5f} <= P(mu >= 0.5) <= {hi:.5f}")
    0.10418 <= P(mu >= 0.5) <= 0.11026
    """
    e, scalar, n, m = _coherence_args(threshold, "threshold", n_features, n_dims)
    M = _n_pairs(n)
    p = abs_tail(e, m)
    out = np.clip(M * p - M * (M - 1.0) * p * p / 2.0, 0.0, 1.0)
    return float(out) if scalar else out


def coherence_quantile_bonferroni_bound(q: Any, n_features: int, n_dims: int) -> float | np.ndarray:
    """Lower bound on the q-quantile of the coherence of N random unit vectors in R^m.

    Parameters
    ----------
    q : float or array, in (0, 1)
        Quantile level(s).
    n_features : int, >= 2
        N.
    n_dims : int, >= 1
        m.

    Returns
    -------
    float or ndarray
        s such that ``P(mu >= s) >= 1 - q`` by :func:`coherence_tail_bonferroni_bound`, hence
        ``quantile_q(mu) >= s``; 0 where that bound cannot reach 1 - q (low q, many pairs);
        exact for N = 2; 1 for m = 1.

    Notes
    -----
    With ``M = binom(N, 2)``, the lower tail bound ``L(p) = M p - M (M-1) p^2 / 2`` increases
    on ``[0, 1/(M-1)]`` up to ``M / (2 (M - 1))``. If ``1 - q`` is at most that, the smallest
    root ``p* = (M - sqrt(M^2 - 2 M (M-1)(1-q))) / (M (M-1))`` of ``L(p) = 1 - q`` gives
    ``s = sqrt(1 - I^{-1}_{p*}((m-1)/2, 1/2))``. Paired with
    :func:`coherence_quantile_union_bound` it brackets the true quantile.

    References
    ----------
    T. T. Cai and T. Jiang, Ann. Statist. 39(3):1496-1525, 2011. arXiv:1102.2925.

    Examples
    --------
    >>> lo = coherence_quantile_bonferroni_bound(0.95, 1000, 256)
    >>> hi = coherence_quantile_union_bound(0.95, 1000, 256)
    >>> print(f"{lo:.4f} <= q95 <= {hi:.4f}")
    0.3245 <= q95 <= 0.3248
    """
    qq, scalar, n, m = _coherence_args(q, "q", n_features, n_dims)
    if m == 1:
        out = np.ones_like(qq)
    else:
        M = _n_pairs(n)
        r = 1.0 - qq
        if M == 1.0:
            p = r
        else:
            disc = M * M - 2.0 * M * (M - 1.0) * r
            with np.errstate(invalid="ignore"):
                # r / ((M + sqrt(disc)) / 2) is the small root written without cancellation
                p = np.where(disc >= 0.0, 2.0 * r / (M + np.sqrt(np.maximum(disc, 0.0))), np.nan)
        reach = np.isfinite(p)
        out = np.where(reach, _abs_tail_inverse(np.where(reach, p, 0.5), m), 0.0)
    return float(out) if scalar else out


def coherence_quantile_gumbel(q: Any, n_features: int, n_dims: int) -> float | np.ndarray:
    """Asymptotic (Gumbel) approximation of the q-quantile of the coherence of N random vectors.

    Parameters
    ----------
    q : float or array, in (0, 1)
        Quantile level(s).
    n_features : int, >= 3
        N.
    n_dims : int, >= 1
        m.

    Returns
    -------
    float or ndarray
        ``sqrt(max(0, 4 log N - log log N + y_q) / m)`` with
        ``y_q = -2 log(-sqrt(8 pi) log q)``, clipped to [0, 1].

    Notes
    -----
    Cai and Jiang (2011), Cai, Fan and Jiang (2013): if m -> infinity and log(N)/m -> 0
    (fast enough), ``m mu^2 - 4 log N + log log N`` converges in law to the Gumbel-type
    distribution ``F(y) = exp(-exp(-y/2) / sqrt(8 pi))``. It is the Poisson approximation of
    the binom(N, 2) nearly independent pair events with Gaussian tails, so it tracks
    :func:`coherence_quantile_union_bound` at high q and large m. An approximation, not a bound:
    convergence is slow (log log N terms); prefer the union bound or simulation at small sizes.

    References
    ----------
    T. T. Cai and T. Jiang, Ann. Statist. 39(3):1496-1525, 2011. arXiv:1102.2925.
    T. T. Cai, J. Fan and T. Jiang, J. Mach. Learn. Res. 14:1837-1864, 2013. arXiv:1306.0256.

    Examples
    --------
    >>> print(f"{coherence_quantile_gumbel(0.95, 1000, 256):.6f}")
    0.333158
    """
    qq, scalar, n, m = _coherence_args(q, "q", n_features, n_dims, min_vectors=3)
    y = -2.0 * np.log(-math.sqrt(8.0 * math.pi) * np.log(qq))
    s2 = (4.0 * math.log(n) - math.log(math.log(n)) + y) / m
    out = np.clip(np.sqrt(np.maximum(s2, 0.0)), 0.0, 1.0)
    return float(out) if scalar else out


def _frozen(a: np.ndarray) -> np.ndarray:
    a = np.array(a, dtype=np.float64)
    a.setflags(write=False)
    return a


@dataclass(frozen=True)
class CoherenceSimulation:
    """Monte Carlo estimate of the coherence law of N random unit vectors in R^m.

    Attributes
    ----------
    n_features, n_dims, n_trials : int
        N, m and the number of independent draws.
    samples : ndarray, shape (n_trials,)
        The coherence ``max_{i<j} |<u_i, u_j>|`` of each draw (read-only).
    mean, mean_se : float
        Sample mean and its standard error ``std / sqrt(n_trials)``.
    quantile_levels : ndarray, shape (k,)
        The levels q asked for.
    quantiles : ndarray, shape (k,)
        Sample quantiles (linear interpolation).
    quantile_ci : ndarray, shape (k, 2)
        Distribution-free order-statistic confidence intervals at level ``confidence``.
    confidence : float
        Coverage of ``quantile_ci``.
    union_bound_quantiles : ndarray, shape (k,)
        :func:`coherence_quantile_union_bound` at the same levels (upper bounds on the true
        quantiles; exact for N = 2).
    bonferroni_quantiles : ndarray, shape (k,)
        :func:`coherence_quantile_bonferroni_bound` at the same levels (lower bounds on the true
        quantiles; exact for N = 2).
    """

    n_features: int
    n_dims: int
    n_trials: int
    samples: np.ndarray = field(repr=False)
    mean: float
    mean_se: float
    quantile_levels: np.ndarray
    quantiles: np.ndarray
    quantile_ci: np.ndarray
    confidence: float
    union_bound_quantiles: np.ndarray
    bonferroni_quantiles: np.ndarray


def _order_statistic_ci(sorted_x: np.ndarray, q: float, confidence: float) -> tuple[float, float]:
    """[x_(l), x_(u)] with P(l <= B < u) >= confidence, B ~ Binomial(n, q) (1-based indices)."""
    n = sorted_x.size
    alpha = 1.0 - confidence
    lo = int(stats.binom.ppf(alpha / 2.0, n, q))
    hi = int(stats.binom.ppf(1.0 - alpha / 2.0, n, q)) + 1
    # Outside the sample the support ends of the coherence, 0 and 1, keep the coverage.
    low = float(sorted_x[lo - 1]) if lo >= 1 else 0.0
    high = float(sorted_x[hi - 1]) if hi <= n else 1.0
    return low, high


def _streamed_coherence(U: np.ndarray, block: int) -> float:
    """max_{i<j} |<u_i, u_j>| for unit rows U (n, m), from Gram blocks of ``block`` rows."""
    n = U.shape[0]
    best = 0.0
    for i0 in range(0, n, block):
        A = U[i0 : i0 + block].T  # (m, block): columns are the vectors
        best = max(best, _k.max_abs_block(gram_product(A, A), True))
        for j0 in range(i0 + block, n, block):
            best = max(best, _k.max_abs_block(gram_product(A, U[j0 : j0 + block].T), False))
    return best


def _draw_coherences(X: np.ndarray) -> np.ndarray:
    """Coherence of each Gaussian draw X[t] (shape (T, n, m)); normalises X in place."""
    if X.shape[1] <= _SMALL_N:
        return _k.batch_coherence(X, _SMALL_N)
    out = np.empty(X.shape[0])
    for t in range(X.shape[0]):
        _k.normalize_rows(X[t])
        out[t] = _streamed_coherence(X[t], _GRAM_BLOCK)
    return out


def simulate_coherence(
    n_features: int,
    n_dims: int,
    n_trials: int = 200,
    *,
    quantiles: Any = (0.5, 0.9, 0.99),
    confidence: float = 0.95,
    rng: Any = None,
    progress: bool = False,
) -> CoherenceSimulation:
    """Simulate the coherence of N independent uniform unit vectors in R^m.

    Parameters
    ----------
    n_features : int, >= 2
        N, vectors per draw.
    n_dims : int, >= 1
        m.
    n_trials : int, >= 2
        Number of independent draws.
    quantiles : float or sequence of float in (0, 1)
        Quantile levels to estimate.
    confidence : float in (0, 1)
        Coverage of the quantile confidence intervals.
    rng : None, int or numpy.random.Generator
        Source of randomness (same seed, same result).
    progress : bool, default False
        Show a tqdm progress bar over chunks of trials (only when there are several chunks,
        i.e. for long runs).

    Returns
    -------
    CoherenceSimulation
        Samples, mean with standard error, quantiles with confidence intervals, and the
        analytic bracket of each quantile (Bonferroni lower, union upper bound) as an
        independent route.

    Notes
    -----
    Each draw takes N standard Gaussian vectors of R^m (rows), normalises them (uniform on the
    sphere) and computes ``mu = max_{i<j} |<u_i, u_j>|``: small draws (N <= 256) in one numba
    kernel over a whole batch, large ones from Gram blocks of 1024 rows (BLAS products reduced by
    a numba kernel), so memory is O(N m) per draw, never O(N^2); draws are generated in chunks
    of at most 2^22 numbers. The quantile interval ``[x_(l), x_(u)]`` takes l, u from the
    Binomial(n_trials, q) quantiles at (1-confidence)/2 and (1+confidence)/2 (distribution-free).
    For N = 2, mu = |t| has the exact law of :func:`inner_product_law`; in general
    ``P(mu >= s) <= binom(N, 2) P(|t| >= s)`` (:func:`coherence_tail_union_bound`) and every draw
    satisfies ``mu >= welch_bound(N, m)``. Asymptotics: Cai, Fan and Jiang (2013).

    References
    ----------
    T. T. Cai, J. Fan and T. Jiang, "Distributions of angles in random packing on spheres",
    J. Mach. Learn. Res. 14:1837-1864, 2013. arXiv:1306.0256.
    T. T. Cai and T. Jiang, "Limiting laws of coherence of random matrices with applications to
    testing covariance structure and construction of compressed sensing matrices", Ann. Statist.
    39(3):1496-1525, 2011. arXiv:1102.2925.

    Examples
    --------
    >>> sim = simulate_coherence(2, 3, n_trials=4000, rng=0)
    >>> print(f"{sim.mean:.2f} +- {sim.mean_se:.3f}")  # exact E|t| = 1/2 for m = 3
    0.50 +- 0.005
    >>> print(f"{sim.union_bound_quantiles[0]:.6f}")  # exact median of |t|
    0.500000
    """
    n = check_int(n_features, "n_features", low=2, high=MAX_INT)
    m = _check_dim(n_dims)
    trials = check_int(n_trials, "n_trials", low=2, high=MAX_INT)
    levels = level_values(quantiles, "quantiles")[0].reshape(-1)
    conf = check_real(
        confidence, "confidence", low=0.0, high=1.0, low_inclusive=False, high_inclusive=False
    )
    gen = check_rng(rng)
    progress = check_bool(progress, "progress")
    block = min(n, _GRAM_BLOCK)
    check_memory(
        8 * (max(n * m, min(trials * n * m, _MAX_CHUNK_ELEMENTS)) + 2 * trials + 3 * block * m)
        + 8 * block * block,
        f"simulate_coherence of n_features={n} vectors in R^{m} over n_trials={trials} "
        f"(one draw holds {n} x {m} float64 numbers)",
        "draw fewer or shorter vectors (the coherence of N random unit vectors is bracketed "
        "without simulation by coherence_quantile_union_bound and "
        "coherence_quantile_bonferroni_bound)",
    )

    # whole draws per chunk within the budget (one draw at a time if a draw alone exceeds it)
    chunk = max(1, min(trials, _MAX_CHUNK_ELEMENTS // (n * m)))
    samples = np.empty(trials)
    starts = range(0, trials, chunk)
    if progress and len(starts) > 1:
        from tqdm.auto import tqdm

        starts = tqdm(starts, desc=f"coherence of {n} vectors in R^{m}", unit="chunk")
    for t0 in starts:
        t1 = min(t0 + chunk, trials)
        samples[t0:t1] = _draw_coherences(gen.standard_normal((t1 - t0, n, m)))

    mean = float(samples.mean())
    se = float(samples.std(ddof=1) / math.sqrt(trials))
    ordered = np.sort(samples)
    qs = np.quantile(samples, levels)
    ci = np.array([_order_statistic_ci(ordered, float(q), conf) for q in levels]).reshape(-1, 2)
    union = np.atleast_1d(coherence_quantile_union_bound(levels, n, m))
    bonferroni = np.atleast_1d(coherence_quantile_bonferroni_bound(levels, n, m))
    return CoherenceSimulation(
        n_features=n,
        n_dims=m,
        n_trials=trials,
        samples=_frozen(samples),
        mean=mean,
        mean_se=se,
        quantile_levels=_frozen(levels),
        quantiles=_frozen(qs),
        quantile_ci=_frozen(ci),
        confidence=conf,
        union_bound_quantiles=_frozen(union),
        bonferroni_quantiles=_frozen(bonferroni),
    )
