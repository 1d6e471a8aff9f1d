"""The lab's formulas against independent routes: the interference closed forms against
quadrature and Monte Carlo, the streamed correlations against numpy's corrcoef and closed forms."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import integrate

from csuper.lab import expected_relu_cost, neuron_feature_correlation, two_feature_interference
from csuper.lab.correlation import _CHUNK
from csuper.toy import feature_distribution, sample_features

angles = st.floats(0.0, 180.0)
biases = st.floats(-2.0, 2.0)


# ------------------------------------------------------------------ interference closed forms
@pytest.mark.parametrize(
    "angle, overlap, squared, spurious, filtered",
    [
        # cos 0 = 1, cos 60 = 1/2, cos 90 = 0, cos 120 = -1/2, cos 180 = -1 (bias 0)
        (0.0, 1.0, 1.0, 1.0, 0.0),
        (60.0, 0.5, 0.25, 0.5, 0.0),
        (90.0, 0.0, 0.0, 0.0, 0.0),
        (120.0, -0.5, 0.25, 0.0, 0.25),
        (180.0, -1.0, 1.0, 0.0, 1.0),
    ],
)
def test_interference_at_known_angles(angle, overlap, squared, spurious, filtered):
    r = two_feature_interference(angle)
    assert r.overlap == pytest.approx(overlap, abs=1e-15)
    assert r.squared_interference == pytest.approx(squared, abs=1e-15)
    assert r.spurious_activation == pytest.approx(spurious, abs=1e-15)
    assert r.filtered == pytest.approx(filtered, abs=1e-15)


def test_a_negative_bias_filters_small_positive_interference():
    # cos 60 = 0.5: with b = -0.3 the read-out is 0.2, with b = -0.6 it is -0.1 (filtered)
    r = two_feature_interference(60.0, -0.3)
    assert r.preactivation == pytest.approx(0.2) and r.spurious_activation == pytest.approx(0.2)
    r = two_feature_interference(60.0, -0.6)
    assert r.spurious_activation == 0.0 and r.filtered == pytest.approx(0.01)
    assert r.squared_interference == pytest.approx(0.25)  # the overlap itself is unchanged


@given(angles, biases)
def test_interference_identities(angle, bias):
    r = two_feature_interference(angle, bias)
    assert r.relu_error + r.filtered == pytest.approx(r.linear_error, abs=1e-12)
    assert 0.0 <= r.relu_error <= r.linear_error + 1e-15
    assert r.spurious_activation >= 0.0
    assert r.squared_interference == pytest.approx(r.overlap**2)
    # supplementary angles have the same squared interference and opposite overlaps
    s = two_feature_interference(180.0 - angle, bias)
    assert s.squared_interference == pytest.approx(r.squared_interference, abs=1e-12)
    assert s.overlap == pytest.approx(-r.overlap, abs=1e-12)
    assert 0.0 <= r.expected_relu_cost <= r.expected_linear_cost + 1e-12


@given(st.floats(-1.0, 1.0), biases)
def test_expected_costs_match_quadrature(c, b):
    # independent route: adaptive quadrature of the integrands over u in [0, 1]
    kink = [min(1.0, max(0.0, -b / c))] if c != 0 else None
    relu, _ = integrate.quad(lambda u: max(c * u + b, 0.0) ** 2, 0.0, 1.0, points=kink)
    assert expected_relu_cost(c, b) == pytest.approx(relu, rel=1e-9, abs=1e-12)
    lin, _ = integrate.quad(lambda u: (c * u + b) ** 2, 0.0, 1.0)
    assert c * c / 3 + c * b + b * b == pytest.approx(lin, rel=1e-9, abs=1e-12)
    theta = math.degrees(math.acos(c))
    assert two_feature_interference(theta, b).expected_relu_cost == pytest.approx(
        relu, rel=1e-7, abs=1e-12
    )


def test_expected_cost_matches_monte_carlo():
    # x_2 ~ U[0, 1]: the mean of ReLU(c x_2 + b)^2 over 400,000 draws, within 4 standard errors
    u = np.random.default_rng(0).uniform(size=400_000)
    for angle, bias in [(30.0, -0.4), (75.0, 0.1), (100.0, 0.3)]:
        r = two_feature_interference(angle, bias)
        v = np.maximum(r.overlap * u + bias, 0.0) ** 2
        se = v.std(ddof=1) / np.sqrt(v.size)
        assert abs(v.mean() - r.expected_relu_cost) < 4 * se + 1e-12


def test_expected_relu_cost_is_continuous_at_zero_overlap():
    for b in (-0.3, 0.0, 0.4):
        assert expected_relu_cost(1e-12, b) == pytest.approx(expected_relu_cost(0.0, b), abs=1e-9)
        assert expected_relu_cost(-1e-12, b) == pytest.approx(expected_relu_cost(0.0, b), abs=1e-9)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"angle_deg": -1.0}, r"angle_deg must be a real number in \[0, 180\]; got -1.0"),
        ({"angle_deg": 181.0}, r"angle_deg must be a real number in \[0, 180\]"),
        ({"angle_deg": 60.0, "bias": float("nan")}, r"bias must be a real number in \[-2, 2\]"),
    ],
)
def test_interference_rejects_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        two_feature_interference(**kwargs)
    with pytest.raises(TypeError, match="angle_deg"):
        two_feature_interference("60")


# ------------------------------------------------------------------ correlations
def test_correlation_equals_corrcoef_on_the_same_samples():
    # the streamed sums over two chunks against numpy's two-pass corrcoef on the same draws
    W = np.random.default_rng(1).standard_normal((4, 6))
    p, N = 0.3, _CHUNK + 5000
    got = neuron_feature_correlation(W, p, n_samples=N, rng=np.random.default_rng(7))
    gen = np.random.default_rng(7)
    dist = feature_distribution(6, p)
    X = np.concatenate(
        [sample_features(dist, _CHUNK, rng=gen)[0], sample_features(dist, N - _CHUNK, rng=gen)[0]]
    )
    H = np.maximum(X @ W.T, 0.0)
    want = np.corrcoef(np.hstack([H, X]).T)[:4, 4:]
    alive = H.std(axis=0) > 0
    np.testing.assert_allclose(got[alive], want[alive], atol=1e-10)
    assert np.all(np.isnan(got[~alive]))


def test_correlation_known_answers():
    # r = 1 for a neuron reading one feature; r = 1/sqrt(2) for the sum of two i.i.d. features
    # (cov(x1 + x2, x1) / sqrt(var(x1 + x2) var(x1)) = 1/sqrt(2)); standard error of r about
    # (1 - r^2) / sqrt(N) = 0.0016 for N = 200,000 samples: tolerance 5 SE
    W = np.array([[2.0, 0.0, 0.0], [1.0, 1.0, 0.0], [0.0, -1.0, -3.0]])
    r = neuron_feature_correlation(W, 0.4, n_samples=200_000, rng=3)
    assert r[0, 0] == pytest.approx(1.0, abs=1e-12)
    assert r[1, 0] == pytest.approx(2**-0.5, abs=0.008)
    assert r[1, 1] == pytest.approx(2**-0.5, abs=0.008)
    assert abs(r[0, 1]) < 0.012 and abs(r[1, 2]) < 0.012
    assert np.all(np.isnan(r[2]))  # never fires: correlation undefined


def test_correlation_is_reproducible():
    W = np.random.default_rng(2).standard_normal((3, 5))
    a = neuron_feature_correlation(W, 0.1, n_samples=5000, rng=11)
    b = neuron_feature_correlation(W, 0.1, n_samples=5000, rng=11)
    np.testing.assert_array_equal(a, b)


def test_correlation_rejects_bad_input():
    with pytest.raises(ValueError, match=r"feature_probability must be a real number in \(0, 1\]"):
        neuron_feature_correlation(np.ones((2, 3)), 0.0)
    with pytest.raises(ValueError, match="n_samples must be an integer in"):
        neuron_feature_correlation(np.ones((2, 3)), 0.5, n_samples=1)
    with pytest.raises(ValueError, match="W must"):
        neuron_feature_correlation(np.ones(3), 0.5)


@pytest.mark.parametrize("scale", [1e-300, 1e300])
def test_neuron_feature_correlation_is_scale_free(scale):
    """corr(ReLU(c w.x), x_i) = corr(ReLU(w.x), x_i) for c > 0: rows scaled to 1e300 or
    1e-300 give the same correlations (formerly NaN: overflow, or variance under the constancy
    test), and a dead neuron stays NaN (documented)."""
    W = np.array([[1.0, 0.0, 0.0], [1.0, 1.0, 0.0], [-1.0, 0.0, -1.0]])
    ref = neuron_feature_correlation(W, 0.5, n_samples=2000, rng=0)
    got = neuron_feature_correlation(scale * W, 0.5, n_samples=2000, rng=0)
    np.testing.assert_allclose(got[:2], ref[:2], rtol=1e-9, atol=1e-12)
    assert np.isnan(got[2]).all() and np.isnan(ref[2]).all()
    assert got[0, 0] == pytest.approx(1.0)


def test_sample_count_is_capped_before_sampling(monkeypatch):
    # n_samples=2**31 streamed for hours and 2**40 for days (the huge-integer probe's timeouts);
    # MAX_SAMPLES is refused before the first sample is drawn (the patched sampler proves it,
    # so the unfixed code fails here instead of running)
    import csuper.lab.correlation as correlation
    from csuper.lab import LabConfig

    def no_sampling(*args, **kwargs):
        raise AssertionError("sampling started")

    monkeypatch.setattr(correlation, "sample_features", no_sampling)
    W = np.eye(2)
    with pytest.raises(ValueError, match=r"n_samples must be an integer in \[2, 1000000000\]"):
        neuron_feature_correlation(W, 0.5, n_samples=correlation.MAX_SAMPLES + 1, rng=0)
    with pytest.raises(ValueError, match="correlation_max_samples"):
        LabConfig(correlation_max_samples=correlation.MAX_SAMPLES + 1)
