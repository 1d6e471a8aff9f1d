"""papers/: the scripts' own formulas against independent routes (fast)."""

import matplotlib
import numpy as np
import pytest
from scipy import integrate, optimize

from tests.papers import scripts

matplotlib.use("Agg")


# -- elhage2022_phase: the exact n = 2, m = 1 loss ------------------------------------------


@pytest.mark.parametrize("seed", range(4))
def test_phase_exact_loss_terms_match_quadrature(seed):
    mod = scripts.load("elhage2022_phase")
    rng = np.random.default_rng(seed)
    a1, a2, c = rng.normal(size=3)
    for i in range(2):
        two = integrate.dblquad(
            lambda v, u, i=i: ((u if i == 0 else v) - max(a1 * u + a2 * v + c, 0.0)) ** 2,
            0,
            1,
            0,
            1,
            epsabs=1e-11,
        )[0]
        one = integrate.quad(
            lambda u, i=i: ((u if i == 0 else 0.0) - max(a1 * u + c, 0.0)) ** 2, 0, 1, epsabs=1e-12
        )[0]
        assert mod._term_2d(a1, a2, c, i) == pytest.approx(two, abs=1e-8)
        assert mod._term_1d(a1, c, 1.0 if i == 0 else 0.0) == pytest.approx(one, abs=1e-9)


def test_phase_exact_loss_matches_monte_carlo_and_is_sign_invariant():
    mod = scripts.load("elhage2022_phase")
    import csuper.toy as toy

    w, b, imp, p = np.array([1.1, -0.7]), np.array([-0.05, 0.1]), (1.0, 0.6), 0.3
    X = toy.sample_features(toy.feature_distribution(2, p), 400_000, rng=0)[0]
    per = 0.5 * np.sum((X - np.maximum(X @ np.outer(w, w) + b, 0.0)) ** 2 * np.array(imp), axis=1)
    exact = mod.expected_loss(w, b, imp, p)
    assert abs(exact - per.mean()) < 4 * per.std() / np.sqrt(per.size)
    assert mod.expected_loss(-w, b, imp, p) == exact  # W -> -W leaves the model unchanged


def test_phase_known_optima_and_classes():
    mod = scripts.load("elhage2022_phase")
    # feature 1 only is exactly w = (1, 0), b = (0, p/2): its loss is (1/2) I_2 Var(x_2)
    p, imp = 0.4, (1.0, 0.3)
    f1 = mod.expected_loss([1.0, 0.0], [0.0, p / 2], imp, p)
    assert f1 == pytest.approx(0.5 * imp[1] * (p / 3 - p * p / 4), rel=1e-12)
    _th, f = mod._minimise(np.array([1.0, 0.0, 0.0, p / 2]), imp, p)
    assert f <= f1 + 1e-12
    assert [
        mod.classify(w)
        for w in ([1, 0.01], [0.01, 1], [1, -0.9], [0.8, 0.3], [1, -0.2], [-0.2, 1.0])
    ] == [0, 1, 2, 3, 4, 5]


# -- donoho_tanner2009_universality: the logistic fit ----------------------------------------


def test_logistic_fit_matches_direct_likelihood_maximisation():
    mod = scripts.load("donoho_tanner2009_universality")
    rho = np.linspace(0.3, 0.5, 9)
    n = 40
    succ = np.array([40, 39, 37, 30, 21, 12, 5, 2, 0])
    fit = mod.fit_logistic(rho, succ, [n] * rho.size)

    def nll(beta):
        eta = beta[0] + beta[1] * rho
        return -np.sum(succ * eta - n * np.logaddexp(0.0, eta))

    ref = optimize.minimize(
        nll,
        [0.0, 0.0],
        method="Nelder-Mead",
        options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 20000},
    ).x
    assert fit["a"] == pytest.approx(ref[0], rel=1e-5)
    assert fit["b"] == pytest.approx(ref[1], rel=1e-5)
    assert fit["rho_50"] == pytest.approx(-ref[0] / ref[1], rel=1e-6)


def test_logistic_fit_recovers_a_planted_transition_within_its_standard_error():
    mod = scripts.load("donoho_tanner2009_universality")
    rng = np.random.default_rng(0)
    rho = np.linspace(0.2, 0.6, 11)
    truth = 0.4
    n = 400
    succ = rng.binomial(n, 1 / (1 + np.exp(40 * (rho - truth))))
    fit = mod.fit_logistic(rho, succ, [n] * rho.size)
    assert abs(fit["rho_50"] - truth) < 4 * fit["se"]
    # separable data have no finite maximum: reported as NaN, not a number
    bad = mod.fit_logistic(rho, (rho < truth) * n, [n] * rho.size)
    assert np.isnan(bad["rho_50"])


def test_partial_dct_rows_are_orthogonal_and_paley_size():
    mod = scripts.load("donoho_tanner2009_universality")
    A = mod.partial_dct(20, 64, np.random.default_rng(0))
    assert A.shape == (20, 64)
    assert np.allclose(A @ A.T, (64 / 20) * np.eye(20))
    assert (mod.paley_q(200), mod.paley_q(400)) == (197, 397)


# -- elhage2022_geometry: vulnerability and stickiness ---------------------------------------


def test_vulnerability_is_one_without_superposition_and_one_over_dstar_for_a_tight_frame():
    mod = scripts.load("elhage2022_geometry")
    from csuper.geometry import paley_etf

    rng = np.random.default_rng(0)
    X = rng.uniform(0, 1, (64, 10)) * (rng.uniform(size=(64, 10)) < 0.3)
    X[X.sum(axis=1) == 0, 0] = 0.5
    # orthonormal on 5 of 10 features, biases large: a linear map with singular values 1
    W = np.zeros((5, 10))
    W[np.arange(5), np.arange(5)] = 1.0
    assert mod.vulnerability(W, np.full(10, 10.0), X)["vulnerability"] == pytest.approx(1.0)
    # Paley tight frame (10 unit vectors in 5 dims): W W^T = 2 I, so the gain is 2 = 1/D*
    F = paley_etf(9)
    v = mod.vulnerability(F, np.full(10, 10.0), X)["vulnerability"]
    assert v == pytest.approx(np.sum(F**2) / 5, rel=1e-9) == pytest.approx(2.0)


def test_sticky_counts_and_enrichment():
    mod = scripts.load("elhage2022_geometry")
    D = np.array([0.5, 0.5, 0.505, 0.53, 0.4, 0.9])
    c = mod.sticky_counts(D)
    assert c["1/2"] == [3, 1]
    assert c["2/5"] == [1, 0]
    rows = [{"sticky_counts": c}, {"sticky_counts": c}]
    e = mod.enrichment(rows, 0)["1/2"]
    assert e["in_window"] == 6 and e["in_flanks"] == 2
    # density in the window (3 / 0.025) over density in the flanks (1 / 0.05); the flanks of
    # 1/2 are not cut by other windows
    assert e["enrichment"] == pytest.approx(6.0)


# -- elhage2022_pentagon and elhage2022_correlated: geometry classes -------------------------


def test_pentagon_geometry_classes():
    mod = scripts.load("elhage2022_pentagon")
    ang = 2 * np.pi * np.arange(5) / 5
    assert mod.geometry(np.vstack([np.cos(ang), np.sin(ang)])) == "pentagon"
    assert mod.geometry(mod._digons()[0]) == "two digons, feature 0 dropped"


def test_correlated_pair_stats_on_constructed_frames():
    mod = scripts.load("elhage2022_correlated")
    # hexagon with partners adjacent: angles 0, 60 | 120, 180 | 240, 300
    ang = np.radians([0, 60, 120, 180, 240, 300])
    s = mod.pair_stats(np.vstack([np.cos(ang), np.sin(ang)]))
    assert s["n_collapsed"] == 0 and all(q["side_by_side"] for q in s["pairs"])
    # partners opposite: not side-by-side
    ang = np.radians([0, 180, 60, 240, 120, 300])
    s = mod.pair_stats(np.vstack([np.cos(ang), np.sin(ang)]))
    assert not any(q["side_by_side"] for q in s["pairs"])
    # two collapsed pairs on orthogonal axes, the third dropped
    W = np.array([[1, 1, 0, 0, 0, 0], [0, 0, 1, 1, 0, 0.0]])
    s = mod.pair_stats(W)
    assert s["n_collapsed"] == 2 and s["n_represented"] == 4


# -- liu2025_scaling: the no-superposition baseline and the exponent fit --------------------


def test_liu_null_loss_matches_the_toy_loss_of_its_solution():
    # the m most frequent features on orthonormal axes, the rest 0, b = 0: the toy model's
    # loss on sampled data (csuper.toy.toy_loss) is (4 / 3n) sum_{i > m} p_i within its SE
    import csuper.toy as toy

    mod = scripts.load("liu2025_scaling")
    n, m, alpha = 60, 6, 0.5
    W = np.zeros((m, n))
    W[:, :m] = np.eye(m)
    X = toy.sample_features(mod.distribution(n, [alpha]), 100_000, rng=0)[0]
    per_sample = ((X - toy.toy_forward(W, np.zeros(n), X)) ** 2).mean(axis=1)
    se = per_sample.std() / np.sqrt(per_sample.size)
    assert abs(per_sample.mean() - mod.null_loss(n, alpha, m)) < 4 * se
    assert float(toy.toy_loss(W, np.zeros(n), X)[0]) == pytest.approx(per_sample.mean())


def test_liu_fit_recovers_an_exact_power_law_and_its_noise():
    mod = scripts.load("liu2025_scaling")
    ms = np.array([10, 16, 25, 40, 63] * 2)
    exact = mod.fit(ms, 3.0 * ms**-0.7)
    assert exact["exponent"] == pytest.approx(0.7) and exact["se"] < 1e-12
    rng = np.random.default_rng(1)
    covered = [
        mod.fit(ms, 3.0 * ms**-0.7 * np.exp(0.1 * rng.normal(size=ms.size)))["ci"]
        for _ in range(400)
    ]
    rate = np.mean([lo <= 0.7 <= hi for lo, hi in covered])
    assert 0.92 < rate < 0.98  # a 95% interval: binomial SE 0.011 over 400 fits


def test_liu_figure_draws_the_mean_losses_and_the_fitted_slopes():
    mod = scripts.load("liu2025_scaling")
    rng = np.random.default_rng(2)
    ms = [10, 16, 25]
    s = {"n_features": 100, "alphas": [0.5, 1.0], "weight_decays": [-1.0, 1.0], "n_dims": ms}
    s["n_seeds"] = 2
    cells = [
        {"weight_decay": wd, "n_dims": m, "loss": list(rng.uniform(1e-4, 1e-3, size=4))}
        for wd in s["weight_decays"]
        for m in ms
    ]
    res = {"settings": s, "cells": cells}
    res["verdicts"] = mod.verdicts(res)
    fig = mod.figure(res)
    for j, (ax, a) in enumerate(zip(fig.axes, s["alphas"])):
        labels = [t.get_text() for t in ax.get_legend().get_texts()]
        for i, wd in enumerate(s["weight_decays"]):
            e = res["verdicts"]["fits"][f"wd={wd:g}/alpha={a:g}"]["exponent"]
            assert f"slope {-e:.2f}" in labels[i]
            mean = [np.mean(c["loss"][2 * j : 2 * j + 2]) for c in cells if c["weight_decay"] == wd]
            line = next(ln for ln in ax.get_lines() if ln.get_label() == labels[i])
            np.testing.assert_allclose(line.get_ydata(), mean)
