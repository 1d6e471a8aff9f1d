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
    assert d.exhaustive and d.n_pairs == len(r) and d.n_skipped == 0
    assert d.max == pytest.approx(dist.max(), rel=1e-12)
    assert d.max_expansion == pytest.approx(max(0.0, (r - 1).max()), rel=1e-12, abs=1e-15)
    assert d.max_contraction == pytest.approx(max(0.0, (1 - r).max()), rel=1e-12, abs=1e-15)
    assert d.mean == pytest.approx(dist.mean(), rel=1e-10)
    np.testing.assert_allclose(d.quantiles, np.quantile(dist, LEVELS), rtol=1e-12, atol=1e-15)
    assert d.n_above == int(np.sum(dist > eps))
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
    with pytest.raises(ValueError, match=r"quantiles must be a real number in \[0, 1\]; got 1.5"):
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
