"""Measured distortion: the streamed numba kernel against brute-force numpy, invariances, and the
Dasgupta-Gupta guarantee on random point sets (failure rates against the exact chi-squared law)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats
from scipy.spatial.distance import pdist

from csuper.jl import GaussianJL, dasgupta_gupta_min_dim, make_jl, measure_distortion
from csuper.testing import orthogonal_matrices, point_clouds

LEVELS = (0.0, 0.1, 0.5, 0.9, 0.99, 1.0)


def _brute(X, Y):
    r = pdist(Y, "sqeuclidean") / pdist(X, "sqeuclidean")
    return r, np.abs(r - 1)


@pytest.mark.kernels
@given(
    X=point_clouds(n_points=(2, 15), dim=(3, 12)),
    m=st.integers(1, 10),
    seed=st.integers(0, 2**32 - 1),
    eps=st.floats(0.0, 2.0),
)
def test_streamed_kernel_equals_brute_force(X, m, seed, eps):
    Y = np.random.default_rng(seed).standard_normal((X.shape[0], m))
    d = measure_distortion(X, Y, quantiles=LEVELS, eps=eps)
    r, dist = _brute(X, Y)
    # measure_distortion's documented accuracy: every squared distance to 1e-10 relative, so
    # every ratio r to about 2e-10 relative and every distortion |r - 1| to 2e-10 r absolute
    tol = 2.1e-10 * r.max()
    assert d.exhaustive and d.n_pairs == len(r) and d.n_skipped == 0
    assert abs(d.max - dist.max()) <= tol
    assert abs(d.max_expansion - max(0.0, (r - 1).max())) <= tol
    assert abs(d.max_contraction - max(0.0, (1 - r).max())) <= tol
    assert abs(d.mean - dist.mean()) <= tol
    np.testing.assert_allclose(d.quantiles, np.quantile(dist, LEVELS), rtol=0, atol=tol)
    near = np.abs(dist - eps) <= tol  # pairs this close to eps may fall either side
    assert np.sum(dist > eps + tol) <= d.n_above <= np.sum(dist > eps) + np.sum(near)
    assert d.within(d.max) and (d.max == 0 or not d.within(d.max * (1 - 1e-9)))


def test_quantiles_exact_with_many_ties_and_many_pairs():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((300, 20))
    Y = np.round(X[:, :6] * 2) / 2  # coarse images: many tied distortions
    d = measure_distortion(X, Y, quantiles=(0.25, 0.5, 0.75, 0.999))
    np.testing.assert_allclose(
        d.quantiles, np.quantile(_brute(X, Y)[1], (0.25, 0.5, 0.75, 0.999)), rtol=1e-12
    )


def test_sampled_pairs():
    rng = np.random.default_rng(2)
    X = rng.standard_normal((400, 30))
    f = GaussianJL(30, 10, rng=3)
    full = measure_distortion(X, f)
    a = measure_distortion(X, f, n_pairs=20000, rng=7)
    b = measure_distortion(X, f, n_pairs=20000, rng=7)
    assert not a.exhaustive and a.n_pairs == 20000
    assert a.max == b.max and np.array_equal(a.quantiles, b.quantiles)
    assert a.max <= full.max
    # sample quantiles of 20000 draws: the median's standard error is ~ 1/(2 f(q) sqrt(k))
    _, dist = _brute(X, f(X))
    q = np.quantile(dist, 0.5)
    dens = np.mean(np.abs(dist - q) < 0.01) / 0.02
    assert abs(a.quantiles[0] - q) < 5 / (2 * dens * math.sqrt(20000))


@given(Q=orthogonal_matrices(dim=(2, 10)), seed=st.integers(0, 2**32 - 1), c=st.floats(0.1, 3.0))
def test_isometry_and_scaling(Q, seed, c):
    X = np.random.default_rng(seed).standard_normal((8, Q.shape[0]))
    assert measure_distortion(X, X @ Q.T).max < 1e-12
    d = measure_distortion(X, c * X)
    assert d.max == pytest.approx(abs(c * c - 1), rel=1e-9, abs=1e-12)
    np.testing.assert_allclose(d.quantiles, abs(c * c - 1), rtol=1e-9, atol=1e-12)


def test_duplicate_points_warn_and_are_skipped():
    X = np.array([[0.0, 1.0], [0.0, 1.0], [2.0, 0.0]])
    with pytest.warns(RuntimeWarning, match="1 pair"):
        d = measure_distortion(X, X * 2)
    assert d.n_skipped == 1 and d.n_pairs == 2 and d.max == pytest.approx(3.0)
    with (
        pytest.raises(ValueError, match="at least two distinct points"),
        pytest.warns(RuntimeWarning),
    ):
        measure_distortion(np.ones((3, 2)), np.ones((3, 1)))


def test_bad_input():
    X = np.ones((4, 3)) * np.arange(4)[:, None]
    with pytest.raises(ValueError, match="at least 2 points"):
        measure_distortion(X[:1], X[:1])
    with pytest.raises(ValueError, match=r"Y must have one row per point of X \(4\)"):
        measure_distortion(X, X[:3])
    with pytest.raises(ValueError, match="Y must contain only finite values"):
        measure_distortion(X, np.full((4, 2), np.inf))
    with pytest.raises(ValueError, match=r"quantiles must lie in \[0, 1\]; got 1.5"):
        measure_distortion(X, X, quantiles=(1.5,))
    with pytest.raises(ValueError, match=r"n_pairs must be an integer in \[1, inf\); got 0"):
        measure_distortion(X, X, n_pairs=0)
    with pytest.raises(ValueError, match="n_features=5 entries"):
        measure_distortion(X, GaussianJL(5, 2, rng=0))


def test_dasgupta_gupta_dimension_keeps_random_point_sets_within_eps():
    """At m = DG(N, eps) a Gaussian map keeps every pair within eps.

    Per pair, m ||Ax||^2/||x||^2 ~ chi2(m), so the exact failure probability is
    p = P(|chi2_m / m - 1| > eps), and DG's Lemma 2.2 bounds it by 2 exp(-m (eps^2/2 - eps^3/3)/2).
    The observed number of failing pairs must be consistent with p (Poisson-binomial upper tail;
    a union bound over pairs makes the expected count at most P * p per trial).
    """
    N, n, eps, T = 40, 300, 0.5, 15
    m = dasgupta_gupta_min_dim(N, eps)
    p = stats.chi2.sf(m * (1 + eps), m) + stats.chi2.cdf(m * (1 - eps), m)
    assert p <= 2 * math.exp(-m * (eps**2 / 2 - eps**3 / 3) / 2)
    rng = np.random.default_rng(31)
    fails = 0
    for _ in range(T):
        X = rng.standard_normal((N, n))
        d = measure_distortion(X, GaussianJL(n, m, rng=rng), eps=eps, quantiles=())
        fails += d.n_above
    expected = T * N * (N - 1) / 2 * p
    assert fails <= stats.poisson.ppf(1 - 1e-6, expected)  # expected is ~1e-3 here: zero failures


@pytest.mark.parametrize("name", ["gaussian", "rademacher", "achlioptas"])
def test_pair_failure_rate_matches_chi_squared_law(name):
    """Below the bound failures are frequent; their rate matches the chi-squared tail (Gaussian
    exactly; Rademacher/Achlioptas on dense Gaussian points, where it is the limit law).

    The standard error comes from the spread of the per-trial failure fractions (pairs within a
    trial share the map).
    """
    N, n, m, eps, T = 25, 400, 24, 0.4, 40
    p = stats.chi2.sf(m * (1 + eps), m) + stats.chi2.cdf(m * (1 - eps), m)
    rng = np.random.default_rng(5)
    fr = []
    for _ in range(T):
        X = rng.standard_normal((N, n))
        d = measure_distortion(X, make_jl(name, n, m, rng=rng), eps=eps, quantiles=())
        fr.append(d.n_above / d.n_pairs)
    fr = np.array(fr)
    se = fr.std(ddof=1) / math.sqrt(T)
    assert abs(fr.mean() - p) < 5 * se + 0.01, (fr.mean(), p, se)


def test_assert_jl_distortion_checker():
    from csuper.testing import assert_jl_distortion

    X = np.random.default_rng(4).standard_normal((12, 50))
    d = assert_jl_distortion(X, 1.1 * X, eps=0.2101)  # distortion 1.21 - 1 = 0.21 on every pair
    assert d.n_pairs == 66
    with pytest.raises(AssertionError, match=r"66 of 66 pairs have distortion above eps=0.2"):
        assert_jl_distortion(X, 1.1 * X, eps=0.2)


# --- the fused pass: every route to the quantiles, determinism, accuracy, memory ------------------
def _pdist_stats(X, Y, levels):
    dx, dy = pdist(X, "sqeuclidean"), pdist(Y, "sqeuclidean")
    r = dy[dx > 0] / dx[dx > 0]
    d = np.abs(r - 1)
    return d, r, np.quantile(d, levels)


def _assert_matches_pdist(d, X, Y, levels):
    dist, r, qs = _pdist_stats(X, Y, levels)
    tol = 2.1e-10 * r.max()  # the documented accuracy (see test_streamed_kernel_equals_brute_force)
    assert d.n_pairs == dist.size
    assert abs(d.max - dist.max()) <= tol and abs(d.mean - dist.mean()) <= tol
    np.testing.assert_allclose(d.quantiles, qs, rtol=0, atol=tol)


@pytest.fixture
def small_budget(monkeypatch):
    """Collect at most 32 N values (no 2**21 floor) and use 64-point tiles, so that a few hundred
    points exercise the sampled-bracket and histogram routes of the pass."""
    from csuper.jl import distortion as D

    monkeypatch.setattr(D, "_MIN_COLLECT", 0)
    monkeypatch.setattr(D, "TILE", 64)
    return D


@pytest.mark.kernels
def test_sampled_brackets_route(small_budget, monkeypatch):
    rng = np.random.default_rng(11)
    X = rng.standard_normal((600, 12))
    Y = GaussianJL(12, 5, rng=1)(X)
    calls = []
    real = small_budget._sample_intervals
    monkeypatch.setattr(small_budget, "_sample_intervals", lambda *a: calls.append(1) or real(*a))
    passes = _count_passes(small_budget, monkeypatch)
    levels = (0.001, 0.99)  # narrow brackets: the sample pays off (Notes of measure_distortion)
    d = measure_distortion(X, Y, quantiles=levels)
    assert calls and len(passes) == 1  # the brackets held both quantiles: one pass
    _assert_matches_pdist(d, X, Y, levels)


def _count_passes(module, monkeypatch):
    passes = []
    real = module._Pass

    def counting(*args, **kwargs):
        passes.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(module, "_Pass", counting)
    return passes


@pytest.mark.kernels
@pytest.mark.parametrize("brackets", ["missed", "none"])
def test_histogram_route_when_brackets_miss_or_do_not_fit(small_budget, monkeypatch, brackets):
    """A bracket that misses every quantile (a distortion range holding nothing), or no sample
    at all: the histogram bins of the ranks are found and their values collected, still exact."""
    rng = np.random.default_rng(12)
    X = rng.standard_normal((400, 9))
    Y = np.round(GaussianJL(9, 4, rng=2)(X), 1)  # many ties across bin edges
    edges = np.array([50.0, 60.0]) if brackets == "missed" else None
    monkeypatch.setattr(small_budget, "_sample_intervals", lambda *a: edges)
    passes = _count_passes(small_budget, monkeypatch)
    levels = (0.0, 0.25, 0.5, 0.9, 1.0)
    _assert_matches_pdist(measure_distortion(X, Y, quantiles=levels), X, Y, levels)
    # missed: the bracket pass, a histogram pass, the bins' values; none: histogram in the first
    assert len(passes) == (3 if brackets == "missed" else 2)


def test_deterministic_whatever_the_threads(monkeypatch):
    """Serial and parallel kernel builds, 1 or 2 numba threads, 1 or 2 BLAS threads: the same
    result bit for bit."""
    import numba
    from threadpoolctl import threadpool_limits

    from csuper.jl import distortion as D

    rng = np.random.default_rng(13)
    X = rng.standard_normal((700, 40))
    Y = GaussianJL(40, 10, rng=3)(X)
    ref = measure_distortion(X, Y, eps=0.3)
    previous = numba.get_num_threads()
    try:
        for threads in (1, min(2, numba.config.NUMBA_NUM_THREADS)):
            numba.set_num_threads(threads)
            for blas in (1, 2):
                with threadpool_limits(limits=blas, user_api="blas"):
                    for parallel_from in (0, 10**12):
                        monkeypatch.setattr(D, "_PARALLEL_MIN_PAIRS", parallel_from)
                        d = measure_distortion(X, Y, eps=0.3)
                        assert (d.max, d.mean, d.n_above) == (ref.max, ref.mean, ref.n_above)
                        np.testing.assert_array_equal(d.quantiles, ref.quantiles)
    finally:
        numba.set_num_threads(previous)


def test_close_points_keep_full_accuracy():
    """Clusters of nearly identical points, where |x_i|^2 + |x_j|^2 - 2 <x_i, x_j> cancels
    almost every digit: those pairs are recomputed from differences and agree with pdist."""
    rng = np.random.default_rng(14)
    centres = 100.0 * rng.standard_normal((5, 30))
    X = np.repeat(centres, 40, axis=0) + 1e-7 * rng.standard_normal((200, 30))
    Y = GaussianJL(30, 12, rng=4)(X)
    _assert_matches_pdist(measure_distortion(X, Y, quantiles=(0.5, 0.99)), X, Y, (0.5, 0.99))


def test_power_of_two_scaling_is_exact():
    """Scaling X (or Y) by 2**k changes nothing but the factor 4**k in every ratio, even where
    squared distances would overflow or underflow float64."""
    rng = np.random.default_rng(15)
    X = rng.standard_normal((60, 8))
    Y = GaussianJL(8, 4, rng=5)(X)
    d = measure_distortion(X, Y)
    for k in (-600, 600):
        e = measure_distortion(np.ldexp(X, k), np.ldexp(Y, k))
        assert (e.max, e.mean) == (d.max, d.mean)
        np.testing.assert_array_equal(e.quantiles, d.quantiles)
    f = measure_distortion(np.ldexp(X, 300), np.ldexp(Y, 301))  # every ratio times 4
    dist = np.abs(4 * _pdist_stats(X, Y, ())[1] - 1)
    assert f.max == pytest.approx(dist.max(), rel=1e-9)


def test_float32_input():
    rng = np.random.default_rng(16)
    X = rng.standard_normal((100, 20)).astype(np.float32)
    Y = GaussianJL(20, 6, rng=6)(X)
    assert Y.dtype == np.float32
    _assert_matches_pdist(
        measure_distortion(X, Y), X.astype(float), Y.astype(float), (0.5, 0.9, 0.99)
    )


def test_memory_stays_linear(small_budget):
    """Peak traced memory at N = 2000 (2 million pairs) is a small fraction of the 16 MB that
    the pairs' distances alone would take (inputs, two 64-point tiles, 32 N collected values)."""
    import tracemalloc

    rng = np.random.default_rng(17)
    X = rng.standard_normal((2000, 6))
    Y = GaussianJL(6, 3, rng=7)(X)
    # the same call once outside the measurement: compiles the parallel route (used from 2**20
    # pairs) and performs every lazy import, so only the pass itself is traced
    measure_distortion(X, Y, quantiles=(0.99,))
    tracemalloc.start()
    try:
        measure_distortion(X, Y, quantiles=(0.99,))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 * 2000 * 1999 / 2 / 4


def test_quantile_argument_forms():
    X = np.random.default_rng(18).standard_normal((20, 4))
    assert measure_distortion(X, 2 * X, quantiles=0.5).quantiles.shape == (1,)
    assert measure_distortion(X, 2 * X, quantiles=[]).quantiles.shape == (0,)
    for bad, err in ((None, TypeError), ("x", TypeError), ([[0.1], [0.2, 0.3]], ValueError)):
        with pytest.raises(err, match="quantiles"):
            measure_distortion(X, 2 * X, quantiles=bad)
