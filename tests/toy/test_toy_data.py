"""Feature distributions: marginal laws (Monte Carlo vs the stated p, with standard errors),
group structure, determinism and bad input."""

import numpy as np
import pytest
from scipy import stats

from csuper.toy import (
    MAGNITUDE_LAWS,
    feature_distribution,
    importance_profile,
    power_law_probabilities,
    sample_features,
)


def _se_bound(p, n, z=5.0):
    return z * np.sqrt(p * (1 - p) / n) + 1e-12


@pytest.mark.parametrize("p", [1.0, 0.5, 0.05, 0.003])
def test_marginal_probability_matches_p(p):
    B = 40000
    X = sample_features(feature_distribution(6, p), B, rng=1)[0]
    freq = (X > 0).mean(axis=0)
    assert np.all(np.abs(freq - p) <= _se_bound(p, B))


def test_per_instance_and_per_feature_probabilities():
    P = np.array([[0.1, 0.2, 0.3], [0.9, 0.0, 0.5]])
    X = sample_features(feature_distribution(3, P), 30000, rng=2)
    freq = (X > 0).mean(axis=1)
    assert np.all(np.abs(freq - P) <= _se_bound(P, 30000))
    assert not np.any(X[1, :, 1])  # p = 0 never fires


def test_uniform_magnitudes_ks():
    X = sample_features(feature_distribution(4, 0.3), 5000, rng=3)[0]
    vals = X[X > 0]
    assert stats.kstest(vals, "uniform").pvalue > 1e-3


def test_exponential_and_constant_magnitudes():
    X = sample_features(feature_distribution(3, 0.5, magnitude="exponential"), 5000, rng=4)[0]
    assert stats.kstest(X[X > 0], "expon").pvalue > 1e-3
    X = sample_features(feature_distribution(3, 0.5, magnitude="constant"), 100, rng=4)[0]
    assert set(np.unique(X)) <= {0.0, 1.0}


@pytest.mark.parametrize("p", [0.2, 0.6])  # geometric-gap sampler; one uniform per entry
def test_active_counts_are_binomial(p):
    # both samplers must give independent Bernoulli entries: per-row counts ~ Bin(n, p)
    n, B = 20, 20000
    X = sample_features(feature_distribution(n, p), B, rng=5)[0]
    counts = np.bincount((X > 0).sum(axis=1), minlength=n + 1)
    expected = stats.binom.pmf(np.arange(n + 1), n, p) * B
    keep = expected > 5
    chi2 = ((counts[keep] - expected[keep]) ** 2 / expected[keep]).sum()
    assert stats.chi2.sf(chi2, keep.sum() - 1) > 1e-3


def test_correlated_groups_fire_together():
    d = feature_distribution(6, 0.1, correlated=[(0, 1, 2)])
    X = sample_features(d, 20000, rng=6)[0] > 0
    assert np.all(X[:, 0] == X[:, 1]) and np.all(X[:, 1] == X[:, 2])
    assert abs(X[:, 0].mean() - 0.1) <= _se_bound(0.1, 20000)
    assert abs(X[:, 3].mean() - 0.1) <= _se_bound(0.1, 20000)


def test_anticorrelated_groups_never_cooccur():
    d = feature_distribution(5, 0.2, anticorrelated=[(0, 1), (2, 3, 4)])
    X = sample_features(d, 30000, rng=7)[0] > 0
    assert not np.any(X[:, 0] & X[:, 1])
    assert np.all(X[:, 2:].sum(axis=1) <= 1)
    assert np.all(np.abs(X.mean(axis=0) - 0.2) <= _se_bound(0.2, 30000))


def test_same_seed_same_data_and_generator_accepted():
    d = feature_distribution(5, 0.3)
    a = sample_features(d, 50, rng=11)
    assert np.array_equal(a, sample_features(d, 50, rng=11))
    assert not np.array_equal(a, sample_features(d, 50, rng=12))
    assert np.array_equal(a, sample_features(d, 50, rng=np.random.default_rng(11)))


def test_shapes_of_probability_argument():
    assert feature_distribution(4, 0.5).feature_probability.shape == (1, 4)
    assert feature_distribution(4, [0.1, 0.2, 0.3, 0.4]).feature_probability.shape == (1, 4)
    assert feature_distribution(4, [0.1, 0.2]).feature_probability.shape == (2, 4)
    assert feature_distribution(4, [[0.1], [0.2], [0.3]]).feature_probability.shape == (3, 4)


def test_power_law_and_importance_profiles():
    p = power_law_probabilities(5, alpha=0.5, p_max=0.8)
    assert np.allclose(p, 0.8 * np.arange(1, 6) ** -1.5)
    assert np.allclose(importance_profile(4, "geometric", ratio=0.7), 0.7 ** np.arange(4))
    assert np.allclose(importance_profile(4, "power_law", alpha=2.0), np.arange(1, 5) ** -2.0)
    assert np.array_equal(importance_profile(3), np.ones(3))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(n_features=3, feature_probability=1.5), r"feature_probability must lie in \[0, 1\]"),
        (dict(n_features=3, feature_probability=-0.1), r"feature_probability must lie in \[0, 1\]"),
        (dict(n_features=3, feature_probability=np.nan), "finite"),
        (dict(n_features=3, feature_probability=[[0.1, 0.2]]), "shape"),
        (dict(n_features=3, feature_probability=0.1, magnitude="gauss"), "magnitude"),
        (dict(n_features=3, feature_probability=0.1, correlated=[(0, 5)]), "correlated member"),
        (
            dict(
                n_features=3, feature_probability=0.1, correlated=[(0, 1)], anticorrelated=[(1, 2)]
            ),
            "disjoint",
        ),
        (
            dict(n_features=3, feature_probability=0.6, anticorrelated=[(0, 1)]),
            r"len\(group\) \* p <= 1",
        ),
        (
            dict(n_features=3, feature_probability=[0.1, 0.2, 0.1], correlated=[(0, 1)]),
            "same feature_probability",
        ),
        (dict(n_features=0, feature_probability=0.1), "n_features"),
    ],
)
def test_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        feature_distribution(**kwargs)


def test_bad_sampler_and_profile_input():
    with pytest.raises(TypeError, match="FeatureDistribution"):
        sample_features(np.ones(3), 10)
    with pytest.raises(ValueError, match="n_samples"):
        sample_features(feature_distribution(3, 0.1), 0)
    with pytest.raises(ValueError, match="kind"):
        importance_profile(3, "cubic")
    with pytest.raises(ValueError, match="ratio"):
        importance_profile(3, "geometric", ratio=-1.0)
    with pytest.raises(ValueError, match="alpha"):
        power_law_probabilities(3, alpha=-2.0)


@pytest.mark.parametrize("name", sorted(MAGNITUDE_LAWS))
def test_every_magnitude_law_has_its_stated_moments(name):
    # the registry's closed-form mean and second moment against Monte Carlo (5 standard errors)
    law = MAGNITUDE_LAWS[name]
    X = sample_features(feature_distribution(5, 0.5, magnitude=name), 20000, rng=8)[0]
    v = X[X > 0] if name != "constant" else X[X != 0]
    se = np.sqrt((law.second_moment - law.mean**2) / v.size) + 1e-12
    assert abs(v.mean() - law.mean) <= 5 * se
    var4 = 4 * law.second_moment**2  # a crude bound on Var(v^2) for these bounded/light laws
    assert abs((v**2).mean() - law.second_moment) <= 5 * np.sqrt(var4 * 6 / v.size)


def test_liu2025_magnitudes_are_uniform_on_0_2():
    X = sample_features(feature_distribution(4, 0.3, magnitude="uniform_0_2"), 5000, rng=3)[0]
    assert stats.kstest(X[X > 0], "uniform", args=(0, 2)).pvalue > 1e-3


def test_power_law_normalised_as_liu_et_al():
    # their exp-10.py: prob = i^-(1 + alpha) / sum_j j^-(1 + alpha), one active feature per
    # sample on average
    p = power_law_probabilities(1000, 0.5, total=1.0)
    ref = np.arange(1, 1001) ** -1.5
    assert np.allclose(p, ref / ref.sum(), rtol=1e-13) and p.sum() == pytest.approx(1.0)
    with pytest.raises(ValueError, match="either p_max or total"):
        power_law_probabilities(10, 0.5, 0.5, total=1.0)
    with pytest.raises(ValueError, match="p_1"):
        power_law_probabilities(10, 0.5, total=5.0)


def test_huge_sizes_are_refused_before_allocating():
    # 2**63 features: a clear error naming the size, not an empty array or an OverflowError
    with pytest.raises(MemoryError, match="n_features=9223372036854775808"):
        power_law_probabilities(2**63, 1.0)
    with pytest.raises(ValueError, match="needs about"):  # also a ValueError
        feature_distribution(2**62, 0.1)
    with pytest.raises(ValueError, match="fewer n_samples"):
        sample_features(feature_distribution(10**4, 0.1), 10**12)
