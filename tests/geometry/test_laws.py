"""Tests for csuper.geometry.laws: the exact law of <u, v> against closed forms, numerical
integration and Monte Carlo (tolerances from standard errors), the numba coherence kernel against
plain numpy, and the simulated coherence against its exact (N = 2) and union-bound routes."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import integrate, stats

from csuper.geometry import _laws_kernels as K
from csuper.geometry import bounds as B
from csuper.geometry import laws as L

Z = 5.0  # z-score bound for Monte Carlo checks (two-sided p ~ 6e-7 per check)


def uniform_sphere(rng, n, m):
    """n independent uniform unit vectors of R^m (rows), drawn here independently of csuper."""
    X = rng.standard_normal((n, m))
    return X / np.linalg.norm(X, axis=1, keepdims=True)


def mc_inner_products(seed, m, n=5000):
    rng = np.random.default_rng(seed)
    U, V = uniform_sphere(rng, n, m), uniform_sphere(rng, n, m)
    return np.einsum("ij,ij->i", U, V)


# ------------------------------------------------------------------------------------------
# the exact law and its moments
# ------------------------------------------------------------------------------------------
@given(st.integers(2, 80), st.integers(1, 4))
def test_law_moments_match_closed_form_by_integration(m, k):
    law = L.inner_product_law(m)
    closed = math.prod((2 * j + 1) / (m + 2 * j) for j in range(k))
    assert L.inner_product_moment(2 * k, m) == pytest.approx(closed, rel=1e-12)
    assert L.inner_product_moment(2 * k + 1, m) == 0.0

    # numerical integration of t^(2k) against the density (1 - t^2)^((m-3)/2) / B(1/2, (m-1)/2)
    def dens(t):
        return (1 - t * t) ** ((m - 3) / 2) / math.exp(
            math.lgamma(0.5) + math.lgamma((m - 1) / 2) - math.lgamma(m / 2)
        )

    num, _ = integrate.quad(lambda t: t ** (2 * k) * dens(t), -1, 1, limit=200)
    assert num == pytest.approx(closed, rel=1e-7)
    assert law.pdf(0.3) == pytest.approx(dens(0.3), rel=1e-10)
    assert law.var() == pytest.approx(1 / m, rel=1e-12)  # scipy's own closed-form variance
    assert law.mean() == pytest.approx(0.0, abs=1e-12)


def test_named_moments():
    for m in (1, 2, 5, 100):
        assert L.inner_product_moment(0, m) == 1.0
        assert L.inner_product_moment(2, m) == pytest.approx(1 / m)
        assert L.inner_product_moment(4, m) == pytest.approx(3 / (m * (m + 2)))
    assert L.inner_product_moment(10, 1) == pytest.approx(1.0)  # t = +-1


@given(st.integers(2, 60), st.integers(0, 2**32 - 1))
def test_monte_carlo_moments_agree_with_the_exact_law(m, seed):
    t = mc_inner_products(seed, m)
    n = t.size
    for p in (1, 2, 3, 4):
        exact = L.inner_product_moment(p, m)
        var = L.inner_product_moment(2 * p, m) - exact**2  # exact variance of t^p
        assert abs(np.mean(t**p) - exact) <= Z * math.sqrt(var / n)


@given(st.integers(2, 60), st.floats(0.01, 0.99), st.integers(0, 2**32 - 1))
def test_exact_tail_matches_monte_carlo(m, eps, seed):
    t = mc_inner_products(seed, m)
    p = L.inner_product_tail(eps, m)
    assert p == pytest.approx(2 * L.inner_product_law(m).sf(eps), rel=1e-9, abs=1e-300)
    se = math.sqrt(max(p * (1 - p), 1.0 / t.size) / t.size)
    assert abs(np.mean(np.abs(t) >= eps) - p) <= Z * se


def test_low_dimensional_laws():
    # m = 2: t = cos(theta), theta uniform: arcsine law, cdf 1 - arccos(t)/pi
    law = L.inner_product_law(2)
    t = np.linspace(-0.99, 0.99, 41)
    assert np.allclose(law.cdf(t), 1 - np.arccos(t) / np.pi)
    assert np.allclose(L.inner_product_tail(t[t > 0], 2), 2 * np.arccos(t[t > 0]) / np.pi)
    assert L.expected_abs_inner_product(2) == pytest.approx(2 / np.pi)
    # m = 3: Archimedes, t uniform on [-1, 1]
    assert np.allclose(L.inner_product_law(3).cdf(t), (1 + t) / 2)
    assert L.expected_abs_inner_product(3) == pytest.approx(0.5)
    # m = 1: t = +-1, no density: the law is rejected, tails and moments are exact
    with pytest.raises(ValueError, match=r"inner_product_law requires n_dims >= 2 .*got n_dims=1"):
        L.inner_product_law(1)
    assert L.inner_product_tail(0.7, 1) == 1.0
    assert L.expected_abs_inner_product(1) == pytest.approx(1.0, rel=1e-14)
    # large m: sqrt(m) t is nearly standard normal (CLT; relative error O(1/m) at fixed z)
    assert L.inner_product_tail(3 / math.sqrt(4000), 4000) == pytest.approx(
        2 * stats.norm.sf(3), rel=1e-2
    )


@given(st.integers(2, 500), st.floats(0.001, 0.999))
def test_tail_matches_the_student_t_identity(m, eps):
    # u_1 = g_1 / |g| for Gaussian g, so t sqrt(m-1) / sqrt(1 - t^2) = g_1 / sqrt(chi2_{m-1}/(m-1))
    # is Student-t with m - 1 degrees of freedom: an exact, independent route to the tail.
    student = 2 * stats.t.sf(eps * math.sqrt((m - 1) / (1 - eps * eps)), m - 1)
    assert L.inner_product_tail(eps, m) == pytest.approx(student, rel=1e-8, abs=1e-290)


@given(st.integers(1, 200))
def test_expected_abs_inner_product_by_integration(m):
    if m == 1:
        assert L.expected_abs_inner_product(1) == pytest.approx(1.0, rel=1e-14)
        return
    num, _ = integrate.quad(
        lambda s: L.inner_product_tail(s, m) if 0 < s < 1 else 0.0, 0, 1, limit=200
    )
    assert L.expected_abs_inner_product(m) == pytest.approx(
        num, rel=1e-7
    )  # E|t| = int P(|t|>=s) ds


# ------------------------------------------------------------------------------------------
# coherence kernel and simulation
# ------------------------------------------------------------------------------------------
def numpy_coherence(X):
    U = X / np.linalg.norm(X, axis=1, keepdims=True)
    G = np.abs(U @ U.T)
    np.fill_diagonal(G, 0.0)
    return G.max()


@pytest.mark.kernels
@given(st.integers(2, 40), st.integers(1, 9), st.integers(1, 17), st.integers(0, 2**32 - 1))
def test_kernel_matches_plain_numpy(n, m, block, seed):
    X = np.random.default_rng(seed).standard_normal((3, n, m))
    expected = [numpy_coherence(x) for x in X]
    got = K.batch_coherence(X.copy(), block)
    assert np.allclose(got, expected, rtol=0, atol=1e-13)


@pytest.mark.kernels
@given(st.integers(1, 30), st.integers(1, 30), st.booleans(), st.integers(0, 2**32 - 1))
def test_block_reduction_kernel_matches_numpy(rows, cols, upper, seed):
    G = np.random.default_rng(seed).standard_normal((rows, cols))
    expected = np.abs(np.triu(G, 1) if upper else G).max() if (cols > 1 or not upper) else 0.0
    assert K.max_abs_block(G, upper) == expected


def test_simulation_is_reproducible_and_streams(monkeypatch):
    a = L.simulate_coherence(30, 5, n_trials=50, rng=3)
    b = L.simulate_coherence(30, 5, n_trials=50, rng=np.random.default_rng(3))
    assert np.array_equal(a.samples, b.samples)
    assert not np.array_equal(a.samples, L.simulate_coherence(30, 5, n_trials=50, rng=4).samples)
    # the samples are the coherences of the Gaussian draws of the same stream
    X = np.random.default_rng(3).standard_normal((50, 30, 5))
    assert np.allclose(a.samples, [numpy_coherence(x) for x in X], atol=1e-13)
    with pytest.raises(ValueError):
        a.samples[0] = 0.0  # read-only
    # several chunks (a tiny chunk budget) give the same stream, and the large-draw path (BLAS
    # Gram blocks reduced by a numba kernel, forced with tiny thresholds) the same coherences
    monkeypatch.setattr(L, "_MAX_CHUNK_ELEMENTS", 30 * 5 * 7)
    c = L.simulate_coherence(30, 5, n_trials=50, rng=3)
    assert np.array_equal(a.samples, c.samples)
    monkeypatch.setattr(L, "_SMALL_N", 4)
    monkeypatch.setattr(L, "_GRAM_BLOCK", 7)
    d = L.simulate_coherence(30, 5, n_trials=50, rng=3)
    assert np.allclose(a.samples, d.samples, rtol=0, atol=1e-13)


def test_two_vectors_follow_the_exact_law_of_abs_t():
    m = 6
    sim = L.simulate_coherence(
        2, m, n_trials=4000, quantiles=(0.1, 0.5, 0.9, 0.99), confidence=0.999, rng=11
    )
    assert abs(sim.mean - L.expected_abs_inner_product(m)) <= Z * sim.mean_se
    # exact quantiles of |t| (union bound is exact for N = 2) lie in the order-statistic intervals
    exact = L.coherence_quantile_union_bound(sim.quantile_levels, 2, m)
    assert np.allclose(exact, sim.union_bound_quantiles)
    assert np.all(sim.quantile_ci[:, 0] <= exact) and np.all(exact <= sim.quantile_ci[:, 1])
    # and the whole law: Kolmogorov-Smirnov against |t| with P(|t| <= s) = 1 - tail(s)
    ks = stats.kstest(
        sim.samples, lambda s: 1 - L.inner_product_tail(np.clip(s, 1e-12, 1 - 1e-12), m)
    )
    assert ks.pvalue > 1e-4


@pytest.mark.parametrize("n, m", [(5, 3), (40, 10), (120, 32)])
def test_simulated_quantiles_are_below_the_union_bound(n, m):
    sim = L.simulate_coherence(
        n, m, n_trials=300, quantiles=(0.5, 0.9, 0.95), confidence=0.999, rng=5
    )
    # the union bound is an upper bound on the true quantile, which the interval covers; the
    # point estimate itself may exceed it by noise where the bound is tight (high q)
    assert np.all(sim.quantile_ci[:, 0] <= sim.union_bound_quantiles)
    # every draw respects the deterministic packing bound, and the intervals bracket the estimates
    assert np.all(sim.samples >= B.best_coherence_bound(n, m).value - 1e-12)
    assert np.all(sim.quantile_ci[:, 0] <= sim.quantiles) and np.all(
        sim.quantiles <= sim.quantile_ci[:, 1]
    )
    # union-bound tail at the simulated 95% quantile is at least the simulated tail (5%) up to noise
    tail = L.coherence_tail_union_bound(sim.quantiles[2], n, m)
    assert tail >= 0.05 - Z * math.sqrt(0.05 * 0.95 / sim.n_trials)


def test_union_bound_is_exact_for_two_vectors_and_monotone():
    s = np.linspace(0.05, 0.95, 19)
    assert np.allclose(L.coherence_tail_union_bound(s, 2, 7), L.inner_product_tail(s, 7))
    t = L.coherence_tail_union_bound(s, 50, 7)
    assert np.all(np.diff(t) <= 0) and np.all((0 <= t) & (t <= 1))
    q = np.array([0.1, 0.5, 0.9, 0.99])
    up = L.coherence_quantile_union_bound(q, 50, 7)
    assert np.all(np.diff(up) > 0)
    # inverse relation: the tail bound at the quantile bound is exactly 1 - q
    assert np.allclose(L.coherence_tail_union_bound(up, 50, 7), 1 - q)


def test_edge_dimensions_in_simulation():
    sim = L.simulate_coherence(3, 1, n_trials=10, rng=0)  # m = 1: all vectors are +-1
    assert np.all(sim.samples == 1.0) and sim.mean_se == 0.0
    assert np.all(sim.union_bound_quantiles == 1.0)
    sim2 = L.simulate_coherence(2, 2, n_trials=3000, rng=1)  # m = 2: |cos| of a uniform angle
    assert abs(sim2.mean - 2 / np.pi) <= Z * sim2.mean_se


# ------------------------------------------------------------------------------------------
# bad input
# ------------------------------------------------------------------------------------------
def test_bad_input_names_the_parameter():
    with pytest.raises(
        ValueError, match=r"n_dims must be an integer in \[1, 9007199254740992\]; got 0"
    ):
        L.inner_product_moment(2, 0)
    with pytest.raises(
        ValueError, match=r"n_dims must be an integer in \[1, 9007199254740992\]; got 0"
    ):
        L.simulate_coherence(5, 0)
    with pytest.raises(ValueError, match=r"n_features must be an integer in \[2, \d+\]; got 1"):
        L.simulate_coherence(1, 3)
    with pytest.raises(ValueError, match=r"n_trials must be an integer in \[2, \d+\]; got 1"):
        L.simulate_coherence(5, 3, n_trials=1)
    for bad in (0.0, 1.0, -0.5, 2.0, float("nan"), float("inf")):
        with pytest.raises(ValueError, match=r"eps must be a real number in \(0, 1\)"):
            L.inner_product_tail(bad, 3)
    with pytest.raises(ValueError, match=r"eps must contain real numbers in \(0, 1\); got 1.0"):
        L.inner_product_tail([0.5, 1.0], 3)
    with pytest.raises(ValueError, match=r"threshold must be a real number in \(0, 1\)"):
        L.coherence_tail_union_bound(0.0, 5, 3)
    with pytest.raises(ValueError, match=r"q must be a real number in \(0, 1\)"):
        L.coherence_quantile_union_bound(1.0, 5, 3)
    with pytest.raises(
        ValueError, match=r"quantiles must contain real numbers in \(0, 1\); got 1.5"
    ):
        L.simulate_coherence(5, 3, quantiles=(0.5, 1.5))
    with pytest.raises(ValueError, match=r"confidence must be a real number in \(0, 1\)"):
        L.simulate_coherence(5, 3, confidence=1.0)
    with pytest.raises(ValueError, match=r"order must be an integer in \[0, \d+\]; got -1"):
        L.inner_product_moment(-1, 3)
    with pytest.raises(TypeError, match="n_dims must be an integer"):
        L.inner_product_law(3.0)
    with pytest.raises(TypeError, match="rng"):
        L.simulate_coherence(5, 3, rng=np.random.RandomState(0))


@pytest.mark.parametrize("n, m", [(10**3, 10**4), (10**4, 10**4), (10**5, 10**5)])
def test_gumbel_limit_agrees_with_the_union_bound_at_large_sizes(n, m):
    # Both are the Poisson approximation of the binom(N, 2) pair events (Cai and Jiang 2011);
    # they differ by the Gaussian-vs-beta tail (O(log(N)^2/m)) and the Poisson correction.
    q = np.array([0.9, 0.99])
    g = L.coherence_quantile_gumbel(q, n, m)
    u = L.coherence_quantile_union_bound(q, n, m)
    assert np.allclose(g, u, rtol=0.01)
    # at the median the union bound is looser than the Poisson limit (it ignores overlaps)
    assert L.coherence_quantile_gumbel(0.5, n, m) < L.coherence_quantile_union_bound(0.5, n, m)
    with pytest.raises(ValueError, match=r"n_features must be an integer in \[3, \d+\]; got 2"):
        L.coherence_quantile_gumbel(0.5, 2, m)


def test_bonferroni_and_union_bounds_bracket_the_law():
    s = np.linspace(0.02, 0.98, 49)
    for n, m in [(2, 5), (3, 4), (30, 10), (1000, 256)]:
        lo = L.coherence_tail_bonferroni_bound(s, n, m)
        hi = L.coherence_tail_union_bound(s, n, m)
        assert np.all(lo <= hi + 1e-15)
        q = np.array([0.05, 0.5, 0.9, 0.99])
        qlo = L.coherence_quantile_bonferroni_bound(q, n, m)
        qhi = L.coherence_quantile_union_bound(q, n, m)
        assert np.all(qlo <= qhi + 1e-12)
        reach = qlo > 0
        # at the lower quantile bound the tail bound is exactly 1 - q (where reachable)
        assert np.allclose(L.coherence_tail_bonferroni_bound(qlo[reach], n, m), 1 - q[reach])
    # N = 2: both sides are the exact law of |t|
    assert np.allclose(L.coherence_tail_bonferroni_bound(s, 2, 7), L.inner_product_tail(s, 7))
    assert np.allclose(
        L.coherence_quantile_bonferroni_bound(q, 2, 7), L.coherence_quantile_union_bound(q, 2, 7)
    )


@pytest.mark.parametrize("n, m", [(4, 3), (25, 8), (80, 30)])
def test_simulated_tail_lies_in_the_analytic_bracket(n, m):
    sim = L.simulate_coherence(
        n, m, n_trials=1500, quantiles=(0.5, 0.9, 0.99), confidence=0.999, rng=7
    )
    for s in np.quantile(sim.samples, [0.3, 0.6, 0.9, 0.97]):
        emp = np.mean(sim.samples >= s)
        se = math.sqrt(max(emp * (1 - emp), 1.0 / sim.n_trials) / sim.n_trials)
        assert L.coherence_tail_bonferroni_bound(s, n, m) - Z * se <= emp
        assert emp <= L.coherence_tail_union_bound(s, n, m) + Z * se
    lo = L.coherence_quantile_bonferroni_bound(sim.quantile_levels, n, m)
    assert np.array_equal(lo, sim.bonferroni_quantiles)
    assert np.all(sim.quantile_ci[:, 1] >= lo) and np.all(
        sim.quantile_ci[:, 0] <= sim.union_bound_quantiles
    )
