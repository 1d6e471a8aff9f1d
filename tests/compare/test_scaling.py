"""Compressed-sensing scaling (csuper.compare.scaling): the continuous l1 threshold, the CS
capacity as its inverse, per-model quantities, and identification of the law behind synthetic
represented counts."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import integrate, optimize, stats

from csuper.compare.scaling import (
    CAPACITY_CAP,
    SCALING_LAWS,
    ScalingPoint,
    _fit_saturated,
    _normal_cone_distance2,
    cs_capacity,
    fit_scaling,
    nonnegative_threshold,
    scaling_point,
    scaling_points,
    statistical_dimension_monte_carlo,
)
from csuper.recovery import statistical_dimension
from csuper.toy import represented_count

# ---------------------------------------------------------------------------------------------
# m*(n, k) for real k


@given(n=st.integers(1, 400), frac=st.floats(0.0, 1.0))
def test_threshold_equals_recovery_at_integer_k(n, frac):
    k = round(frac * n)
    assert nonnegative_threshold(n, k) == pytest.approx(
        statistical_dimension(n, k, nonnegative=True), rel=1e-12, abs=1e-12
    )


def _threshold_by_quadrature(n: float, k: float) -> float:
    """Independent route: inf_tau k (1 + tau^2) + (n - k) E (g - tau)_+^2 with the expectation
    by numerical quadrature and the infimum by bounded scalar minimisation (ALMT 2014)."""

    def J(t):
        return integrate.quad(
            lambda g: (g - t) ** 2 * stats.norm.pdf(g), t, np.inf, epsabs=1e-13, epsrel=1e-12
        )[0]

    res = optimize.minimize_scalar(
        lambda t: k * (1 + t * t) + (n - k) * J(t),
        bounds=(0, 10),
        method="bounded",
        options={"xatol": 1e-10},
    )
    return float(res.fun)


@pytest.mark.parametrize("n, k", [(200, 20.5), (50, 0.37), (1000, 3.3), (10, 9.99), (7, 1.0)])
def test_threshold_at_real_k_matches_quadrature(n, k):
    assert nonnegative_threshold(n, k) == pytest.approx(_threshold_by_quadrature(n, k), rel=1e-7)


@given(n=st.floats(1.0, 1e4), a=st.floats(0.0, 1.0), b=st.floats(0.0, 1.0))
def test_threshold_is_monotone_in_k_and_bounded(n, a, b):
    lo, hi = sorted((a * n, b * n))
    t_lo, t_hi = nonnegative_threshold(n, lo), nonnegative_threshold(n, hi)
    assert 0.0 <= t_lo <= t_hi * (1 + 1e-12) + 1e-12
    assert t_hi <= n * (1 + 1e-12)
    # at least k measurements are needed for k unknowns (cone contains the k-dim support space)
    assert t_lo >= lo * (1 - 1e-12)


def test_threshold_edges_and_broadcasting():
    assert nonnegative_threshold(30, 0) == 0.0
    assert nonnegative_threshold(30, 30) == pytest.approx(30.0)
    out = nonnegative_threshold([100, 200], [10, 20])
    assert out.shape == (2,) and out[1] == pytest.approx(2 * out[0], rel=1e-12)  # homogeneity


@pytest.mark.parametrize(
    "args, exc, msg",
    [
        ((0, 0), ValueError, "n_features must be > 0"),
        ((10, 11), ValueError, r"k must lie in \[0, n_features\]"),
        ((10, -1), ValueError, r"k must lie in \[0, n_features\]"),
        ((10, np.nan), ValueError, "k must contain only finite values"),
        ((10, "a"), TypeError, "k must be an array of real numbers"),
        (([1, 2], [1, 1, 1]), ValueError, "must broadcast"),
        # ragged input reached np.ndim before the checks (numpy's "inhomogeneous shape" text)
        (([[10, 20], [30]], 1), ValueError, "n_features must be a rectangular array"),
        ((10, [[1, 2], [3]]), ValueError, "k must be a rectangular array"),
    ],
)
def test_threshold_bad_input(args, exc, msg):
    with pytest.raises(exc, match=msg):
        nonnegative_threshold(*args)


# ---------------------------------------------------------------------------------------------
# CS capacity


@given(m=st.integers(1, 2000), p=st.floats(1e-4, 1.0))
def test_capacity_inverts_the_threshold(m, p):
    n1 = cs_capacity(m, p)
    assert n1 >= 1
    assert nonnegative_threshold(float(n1), n1 * p) <= m
    assert nonnegative_threshold(float(n1 + 1), (n1 + 1) * p) > m


@given(m=st.integers(1, 500), p=st.floats(1e-3, 1.0), q=st.floats(1e-3, 1.0))
def test_capacity_is_monotone(m, p, q):
    lo, hi = sorted((p, q))
    assert cs_capacity(m, hi) <= cs_capacity(m, lo)  # sparser features: more of them fit
    assert cs_capacity(m, p) <= cs_capacity(m + 1, p)
    assert cs_capacity(m, p) >= m  # never fewer than one feature per dimension


@pytest.mark.parametrize("m", [1, 2, 17, 512])
def test_capacity_dense_is_m(m):
    assert cs_capacity(m, 1.0) == m


def test_capacity_sparse_limit_and_cap():
    # p -> 0: n' ~ m / (2 p log(1/p)) (the 2 k log(n/k) asymptote), the ratio tending to 1
    # slowly, from above (m* < 2 k log(n / k) for small k / n).
    ratios = [cs_capacity(100, p) * 2 * p * np.log(1 / p) / 100 for p in (1e-3, 1e-6, 1e-12)]
    assert all(r > 1 for r in ratios) and ratios[0] > ratios[1] > ratios[2]
    assert ratios[2] < 1.25
    # independent route for the value itself: floor(m / psi(p)), psi by quadrature
    psi = _threshold_by_quadrature(1.0, 1e-3)
    assert cs_capacity(10, 1e-3) == int(np.floor(10 / psi))
    assert cs_capacity(10, 0.0) == CAPACITY_CAP
    assert cs_capacity(10, 1e-300) == CAPACITY_CAP
    assert cs_capacity(10, 1e-3, cap=1000) == 1000 < int(np.floor(10 / psi))


@pytest.mark.parametrize(
    "args, kwargs, exc, msg",
    [
        ((0, 0.1), {}, ValueError, r"n_dims must be an integer in \[1, 9007199254740992\]; got 0"),
        ((5.0, 0.1), {}, TypeError, "n_dims must be an integer"),
        (
            (5, 1.5),
            {},
            ValueError,
            r"feature_probability must be a real number in \[0, 1\]; got 1.5",
        ),
        ((5, float("nan")), {}, ValueError, "feature_probability must be a real number"),
        ((5, 0.1), {"cap": 3}, ValueError, r"cap must be an integer in \[5, inf\); got 3"),
    ],
)
def test_capacity_bad_input(args, kwargs, exc, msg):
    with pytest.raises(exc, match=msg):
        cs_capacity(*args, **kwargs)


# ---------------------------------------------------------------------------------------------
# One model


def test_scaling_point_quantities():
    rng = np.random.default_rng(0)
    W = rng.standard_normal((3, 10))
    W[:, :4] *= 0.01  # four dropped features
    p = rng.uniform(0.0, 0.3, size=10)
    pt = scaling_point(W, p, represented_threshold=0.5)
    assert isinstance(pt, ScalingPoint)
    assert (pt.n_features, pt.n_dims) == (10, 3)
    assert pt.k == pytest.approx(p.sum()) and pt.feature_probability == pytest.approx(p.mean())
    assert pt.threshold == pytest.approx(nonnegative_threshold(10, p.sum()))
    assert pt.klogk == pytest.approx(p.sum() * np.log(10 / p.sum()))
    assert pt.two_klogk == pytest.approx(2 * pt.klogk)
    assert pt.cs_capacity == cs_capacity(3, p.mean())
    assert pt.represented == represented_count(W, represented_threshold=0.5)
    assert scaling_point(W, p, represented_threshold=100.0).represented == 0
    assert scaling_point(W, p, represented_threshold=0.0).represented == 10


def test_scaling_point_bad_input():
    with pytest.raises(
        ValueError, match=r"feature_probability must be a scalar or have shape \(4,\)"
    ):
        scaling_point(np.ones((2, 4)), [0.1, 0.2])
    with pytest.raises(ValueError, match=r"feature_probability must lie in \[0, 1\]"):
        scaling_point(np.ones((2, 4)), 1.2)
    with pytest.raises(ValueError, match="threshold must be a real number"):
        scaling_point(np.ones((2, 4)), 0.1, represented_threshold=-1.0)
    with pytest.raises(ValueError, match="W must be a 2-D array"):
        scaling_point(np.ones(4), 0.1)


def test_scaling_points_of_a_trained_model():
    from csuper.toy import TrainSettings, feature_distribution, from_weights, train

    model = train(
        feature_distribution(6, [0.3, 0.03]),
        2,
        settings=TrainSettings(n_steps=50, batch_size=32, lr=1e-2),
        rng=1,
    )
    pts = scaling_points(model, represented_threshold=0.3)
    assert [pt.k for pt in pts] == pytest.approx([1.8, 0.18])
    assert [pt.represented for pt in pts] == [
        represented_count(W, represented_threshold=0.3) for W in model.W
    ]
    with pytest.raises(TypeError, match=r"model must be a csuper\.toy\.ToyModel"):
        scaling_points(np.ones((2, 3)))
    with pytest.raises(ValueError, match="feature_probability is unknown"):
        scaling_points(from_weights(np.eye(2, 4)))


# ---------------------------------------------------------------------------------------------
# The exact finite-n statistical dimension (Monte Carlo)


@pytest.mark.parametrize("nonnegative", [True, False])
def test_monte_carlo_closed_form_at_full_support(nonnegative):
    # k = n: the normal cone is the ray t 1 (t s for the signed program), so
    # delta = n - E[(1^T g / sqrt(n))_+^2] = n - 1/2 exactly (ALMT 2014's formula says n)
    est = statistical_dimension_monte_carlo(25, 25, nonnegative=nonnegative, n_samples=40000, rng=3)
    assert est.value == pytest.approx(24.5, abs=4 * est.se)
    assert statistical_dimension_monte_carlo(25, 0, nonnegative=True, rng=0).value == 0.0


@pytest.mark.parametrize("n, k", [(20, 2), (40, 4), (60, 15), (12, 11)])
@pytest.mark.parametrize("nonnegative", [True, False])
def test_monte_carlo_sits_below_the_almt_formula_within_its_bound(n, k, nonnegative):
    # ALMT 2014, Thm 4.3: 0 <= formula - exact <= 2 sqrt(n / k)
    est = statistical_dimension_monte_carlo(n, k, nonnegative=nonnegative, n_samples=20000, rng=1)
    formula = statistical_dimension(n, k, nonnegative=nonnegative)
    assert est.value - 4 * est.se <= formula
    assert formula - est.value <= 2 * np.sqrt(n / k) + 4 * est.se


@pytest.mark.parametrize("nonnegative", [True, False])
def test_normal_cone_distance_matches_a_convex_program(nonnegative):
    # independent route: dist^2(g, N) as a QP over the cone N = {t u: t >= 0, u_T = 1,
    # u_off <= 1 (|u_off| <= 1 signed)} solved by cvxpy
    import cvxpy as cp

    rng = np.random.default_rng(7)
    n, k = 9, 3
    for _ in range(5):
        g = rng.standard_normal(n)
        t, y = cp.Variable(nonneg=True), cp.Variable(n - k)
        cons = [y <= t] + ([] if nonnegative else [y >= -t])
        obj = cp.sum_squares(g[:k] - t) + cp.sum_squares(g[k:] - y)
        want = cp.Problem(cp.Minimize(obj), cons).solve()
        off = g[k:] if nonnegative else np.abs(g[k:])
        got = _normal_cone_distance2(g[None, :k], off[None, :])[0]
        assert got == pytest.approx(want, rel=1e-6, abs=1e-8)


def test_monte_carlo_bad_input():
    with pytest.raises(ValueError, match="k must be an integer"):
        statistical_dimension_monte_carlo(10, 11, nonnegative=True)
    with pytest.raises(TypeError, match="nonnegative must be True or False"):
        statistical_dimension_monte_carlo(10, 2, nonnegative="no")
    with pytest.raises(ValueError, match="n_samples"):
        statistical_dimension_monte_carlo(10, 2, n_samples=10**9)
    with pytest.raises(ValueError, match="n_features"):
        statistical_dimension_monte_carlo(2**40, 2)


# ---------------------------------------------------------------------------------------------
# Fitting the law

N_SWEEP = np.full(30, 400.0)
M_SWEEP = np.tile([5.0, 10.0, 20.0, 40.0, 80.0], 6)
P_SWEEP = np.repeat([0.3, 0.1, 0.03, 0.01, 0.003, 0.001], 5)


def _law_counts(law: str, a: float, n=N_SWEEP, m=M_SWEEP, p=P_SWEEP) -> np.ndarray:
    return np.minimum(n, a * SCALING_LAWS[law].regressor(n, m, p))


@pytest.mark.parametrize("law", list(SCALING_LAWS))
@pytest.mark.parametrize("a", [0.4, 1.0])
def test_exact_synthetic_counts_identify_their_law(law, a):
    r = _law_counts(law, a)
    fit = fit_scaling(N_SWEEP, M_SWEEP, N_SWEEP * P_SWEEP, r)
    assert fit.best == law
    f = fit.laws[law]
    assert f.coefficient == pytest.approx(a, rel=1e-10)
    assert f.rms < 1e-8 and f.delta_aic == 0.0
    assert all(g.delta_aic > 10 for name, g in fit.laws.items() if name != law)
    assert f.name in fit.summary
    assert all(abs(slope) < 1e-8 for slope, _ in f.trends.values() if np.isfinite(slope))


@pytest.mark.parametrize("law", list(SCALING_LAWS))
def test_rounded_counts_identify_their_law(law):
    r = np.round(_law_counts(law, 0.7))
    fit = fit_scaling(N_SWEEP, M_SWEEP, N_SWEEP * P_SWEEP, r)
    assert fit.best == law
    assert fit.laws[law].rms <= 0.5
    assert fit.laws[law].coefficient == pytest.approx(0.7, rel=0.02)
    assert min(g.delta_aic for name, g in fit.laws.items() if name != law) > 10


def test_laws_are_ranked_on_the_points_every_law_is_defined_on():
    # dense models (p = 1) are outside the domain of the laws with ln(1/p); including them for
    # some laws only let five dense models decide the ranking (issue 12, defect 3)
    p = np.concatenate([P_SWEEP, np.ones(5)])
    n, m = np.full(35, 400.0), np.concatenate([M_SWEEP, [5.0, 10.0, 20.0, 40.0, 80.0]])
    r = np.minimum(n, 0.7 * SCALING_LAWS["klogk"].regressor(n, m, np.minimum(p, 0.5)))
    r[30:] = m[30:]  # dense models represent m features
    fit = fit_scaling(n, m, n * p, r)
    assert fit.domain.tolist() == [True] * 30 + [False] * 5
    assert {f.n_points for f in fit.laws.values()} == {30}
    assert fit.best == "klogk"
    own = fit_scaling(n, m, n * p, r, common_domain=False)
    assert own.laws["klogk"].n_points == 30 and own.laws["dimensions"].n_points == 35
    with pytest.raises(ValueError, match="domain of every law"):
        fit_scaling(n[30:33], m[30:33], n[30:33], r[30:33])


def test_residual_trends_reveal_a_missing_log_n():
    # counts that grow with log n at fixed (m, p) cannot be any law of (m, p) alone: the best
    # law's residuals then trend with log n, which the fit reports with its standard error
    n = np.repeat([300.0, 1000.0, 3000.0, 10000.0], 12)
    m = np.tile(np.repeat([5.0, 10.0, 20.0], 4), 4)
    p = np.tile([0.1, 0.03, 0.01, 0.003], 12)
    r = np.minimum(n, 0.02 * m / p * np.log(n) / np.log(1000.0))  # never saturated
    fit = fit_scaling(n, m, n * p, r)
    slope, se = fit.laws["inverse_p"].trends["log_n"]
    assert slope > 5 * se > 0
    flat = fit_scaling(n, m, n * p, np.minimum(n, 0.02 * m / p))
    assert flat.laws["inverse_p"].trends["log_n"][0] == pytest.approx(0.0, abs=1e-8)


def test_noisy_counts_coefficient_within_standard_errors():
    # Gaussian noise of sd 2 features: the fitted coefficient lies within 4 standard errors
    # of the truth, and the residual RMS estimates the noise sd.
    rng = np.random.default_rng(12)
    hits = []
    for _ in range(20):
        r = np.clip(_law_counts("statistical_dimension", 0.6) + rng.normal(0, 2.0, 30), 0, 400)
        f = fit_scaling(N_SWEEP, M_SWEEP, N_SWEEP * P_SWEEP, r).laws["statistical_dimension"]
        hits.append(abs(f.coefficient - 0.6) <= 2 * f.se)
        assert abs(f.coefficient - 0.6) <= 4 * f.se
        assert 1.0 < f.rms < 3.0
    assert np.mean(hits) >= 0.7  # ~95% expected within 2 se


@given(
    st.lists(
        st.tuples(st.floats(0.1, 50.0), st.floats(0.0, 60.0), st.floats(1.0, 60.0)),
        min_size=3,
        max_size=12,
    )
)
def test_saturated_least_squares_is_the_global_minimum(rows):
    x, r, n = (np.array(c) for c in zip(*rows))
    r = np.minimum(r, n)
    a, rss = _fit_saturated(r, x, n)
    assert rss == pytest.approx(np.sum((r - np.minimum(n, a * x)) ** 2), abs=1e-9)
    # independent route: a fine grid over [0, max breakpoint] plus a bounded minimiser
    grid = np.linspace(0.0, 1.01 * float(np.max(n / x)), 4001)[:, None]
    brute = np.sum((r - np.minimum(n, grid * x)) ** 2, axis=1)
    g0 = float(grid[np.argmin(brute), 0])
    step = float(grid[1, 0])
    fine = optimize.minimize_scalar(
        lambda g: np.sum((r - np.minimum(n, g * x)) ** 2),
        bounds=(max(0.0, g0 - step), g0 + step),
        method="bounded",
        options={"xatol": 1e-12},
    )
    assert rss <= min(float(brute.min()), float(fine.fun)) + 1e-9


def test_loglog_slope_is_one_for_proportional_counts():
    r = _law_counts("dimensions", 0.9)
    f = fit_scaling(N_SWEEP, M_SWEEP, N_SWEEP * P_SWEEP, r).laws["dimensions"]
    assert f.slope == pytest.approx(1.0, abs=1e-9) and f.slope_se < 1e-6


def test_fit_from_points_and_table():
    pts = [
        ScalingPoint(400, int(m), 400 * p, p, 0.0, 0.0, 0, round(0.5 * m))
        for m, p in zip(M_SWEEP, P_SWEEP)
    ]
    fit = fit_scaling(points=pts)
    assert fit.best == "dimensions" and fit.laws["dimensions"].coefficient == pytest.approx(
        0.5, abs=0.01
    )
    assert fit.table["n_dims"].tolist() == M_SWEEP.astype(int).tolist()
    assert fit.table["threshold"] == pytest.approx(
        nonnegative_threshold(N_SWEEP, N_SWEEP * P_SWEEP)
    )
    assert len(repr(fit)) < 200 and len(repr(fit.laws["dimensions"])) < 600


def test_indistinguishable_laws_are_reported_as_such():
    # with one sparsity only, every law's regressor is proportional to m: the data cannot tell
    n, m = np.full(4, 400.0), np.array([5.0, 10.0, 20.0, 40.0])
    fit = fit_scaling(n, m, n * 0.01, 3 * m)
    assert "Not distinguishable" in fit.summary


def test_all_saturated_warns():
    n, m = np.full(3, 10.0), np.array([5.0, 6.0, 7.0])
    with pytest.warns(RuntimeWarning):
        fit_scaling(n, m, n * 0.001, n)


@pytest.mark.parametrize(
    "kwargs, exc, msg",
    [
        (
            dict(n_features=[10, 10], n_dims=[2, 3], k=[1, 1], represented=[1, 1]),
            ValueError,
            "at least 3 element",
        ),
        (
            dict(n_features=[10, 10, 10], n_dims=[2, 3], k=[1, 1, 1], represented=[1, 1, 1]),
            ValueError,
            r"n_dims must have shape \(3\)",
        ),
        (
            dict(n_features=[10, 10, 10], n_dims=[2, 3, 0], k=[1, 1, 1], represented=[1, 1, 1]),
            ValueError,
            "n_dims must hold integers",
        ),
        (
            dict(n_features=[10, 10, 10.5], n_dims=[2, 3, 4], k=[1, 1, 1], represented=[1, 1, 1]),
            ValueError,
            "n_features must hold integers",
        ),
        (
            dict(n_features=[10, 10, 2**60], n_dims=[2, 3, 4], k=[1, 1, 1], represented=[1, 1, 1]),
            ValueError,
            "n_features must hold integers",
        ),
        (
            dict(n_features=[10, 10, 10], n_dims=[2, 3, 4], k=[1, 0, 1], represented=[1, 1, 1]),
            ValueError,
            r"k must lie in \(0, n_features\]",
        ),
        (
            dict(n_features=[10, 10, 10], n_dims=[2, 3, 4], k=[1, 1, 1], represented=[1, 11, 1]),
            ValueError,
            r"represented must lie in \[0, n_features\]",
        ),
        (dict(n_features=[10, 10, 10], n_dims=[2, 3, 4], k=[1, 1, 1]), ValueError, "all required"),
        (dict(n_features=[10, 10, 10], points=[]), ValueError, "either points or the arrays"),
        (dict(points=[1, 2, 3]), TypeError, "points must be a sequence of ScalingPoint"),
        (dict(points=5), TypeError, "points must be a sequence of ScalingPoint"),
        (
            dict(n_features=[10] * 3, n_dims=[2, 3, 4], k=[1] * 3, represented=[1] * 3, laws="x"),
            TypeError,
            "laws must be a sequence",
        ),
        (
            dict(n_features=[10] * 3, n_dims=[2, 3, 4], k=[1] * 3, represented=[1] * 3, laws=["x"]),
            ValueError,
            "laws must be names",
        ),
        (
            dict(
                n_features=[10] * 3,
                n_dims=[2, 3, 4],
                k=[1] * 3,
                represented=[1] * 3,
                common_domain="yes",
            ),
            TypeError,
            "common_domain must be True or False",
        ),
    ],
)
def test_fit_bad_input(kwargs, exc, msg):
    with pytest.raises(exc, match=msg):
        fit_scaling(**kwargs)


_GOOD_W, _GOOD_P = np.ones((2, 3, 4)), np.full((2, 4), 0.1)


@pytest.mark.parametrize(
    "W, P, exc, match",
    [
        ([[[1.0, 2.0], [1.0]]], _GOOD_P[:1, :2], ValueError, r"model\.W must be a rectangular"),
        (np.array([[["a", "b"]]]), _GOOD_P[:1, :2], TypeError, r"model\.W must be an array"),
        (np.ones((3, 4)), _GOOD_P, ValueError, r"model\.W must be a 3-D array"),
        (np.ones((0, 3, 4)), np.ones((0, 4)), ValueError, r"model\.W must have at least"),
        (_GOOD_W, [[0.1, 0.2], [0.1]], ValueError, r"model\.feature_probability must be a rect"),
        (_GOOD_W, np.array([["a"] * 4] * 2), TypeError, r"model\.feature_probability must be an"),
        (_GOOD_W, np.full((3, 4), 0.1), ValueError, r"model\.feature_probability must have shape"),
        (_GOOD_W, np.array([0.1, 0.2, 0.3, 0.4]), ValueError, r"feature_probability must have sh"),
        (_GOOD_W, np.full((2, 4), np.inf), ValueError, r"model\.feature_probability must lie"),
    ],
)
def test_model_like_objects_with_bad_arrays_are_refused_by_name(W, P, exc, match):
    # scaling_points reads model.W and model.feature_probability: a ragged W raised numpy's
    # "inhomogeneous shape" error, a string P the ufunc error of np.isfinite, and a
    # feature_probability of the wrong shape was silently sliced (one of shape (n,) was taken
    # as one scalar per instance); compare_capacities reads the same arrays of a ToyModel
    import dataclasses
    from types import SimpleNamespace

    from csuper.compare import compare_capacities
    from csuper.toy import from_weights

    with pytest.raises(exc, match=match):
        scaling_points(SimpleNamespace(W=W, feature_probability=P))
    model = dataclasses.replace(
        from_weights(np.ones((3, 4)), feature_probability=0.1), W=W, feature_probability=P
    )
    with pytest.raises(exc, match=match):
        compare_capacities(model)
