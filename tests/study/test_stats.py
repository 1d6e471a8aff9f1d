"""The study's bootstrap: coverage on a case with a known answer, vector statistics, NaN."""

import numpy as np
import pytest

from csuper.study.stats import bootstrap, format_estimate, format_number


def test_percentile_interval_covers_the_mean_at_about_its_level():
    # independent route: the known mean of the normal law; 200 experiments of 30 draws, the 95 %
    # interval should cover it in about 95 % of them (binomial sd 1.5 %; the percentile
    # bootstrap undercovers slightly at n = 30, so the band is [0.88, 0.99])
    rng = np.random.default_rng(0)
    hits = 0
    for _ in range(200):
        x = rng.normal(2.0, 1.0, 30)
        e = bootstrap([x], lambda s: float(s[0].mean()), n_bootstrap=400, confidence=0.95, rng=rng)
        hits += e.low <= 2.0 <= e.high
        assert e.value == pytest.approx(x.mean()) and e.n_units == 30
    assert 0.88 <= hits / 200 <= 0.99


def test_strata_are_resampled_separately_and_vector_statistics():
    # two strata with different means: the difference of means is a stratified statistic; a
    # pooled resample would mix them
    a, b = np.zeros(10), np.ones(10)
    rng = np.random.default_rng(1)
    est = bootstrap(
        [a, b], lambda s: float(s[1].mean() - s[0].mean()), n_bootstrap=200, confidence=0.9, rng=rng
    )
    assert (est.value, est.low, est.high) == (1.0, 1.0, 1.0)
    both = bootstrap(
        [b], lambda s: np.array([s[0].mean(), s[0].sum()]), n_bootstrap=50, confidence=0.9, rng=rng
    )
    assert [e.value for e in both] == [1.0, 10.0]


def test_undefined_statistic_gives_nan_interval_and_formatting():
    rng = np.random.default_rng(2)
    est = bootstrap(
        [np.array([0.0, 1.0])],
        lambda s: float(np.log(s[0].min())),
        n_bootstrap=100,
        confidence=0.95,
        rng=rng,
    )
    assert np.isnan(est.low) and np.isnan(est.high)
    assert format_number(None) == "n/a" and format_number(float("inf")) == "inf"
    assert format_estimate(est) == "-inf (95 % CI n/a to n/a)"
