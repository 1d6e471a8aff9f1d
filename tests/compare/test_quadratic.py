"""The quadratic model of Scherlis et al. (csuper.compare.quadratic): closed form vs Monte Carlo,
analytic gradient vs finite differences, KKT vs a direct constrained optimisation and brute
force, and trained models against the predicted allocation (the exact case)."""

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import minimize

from csuper.compare import (
    quadratic_allocation,
    quadratic_capacity_loss,
    quadratic_model_loss,
    train_quadratic_model,
)
from csuper.compare.quadratic import _loss_and_gradient
from csuper.geometry import feature_dimensionality  # Scherlis et al.'s C_i is D_i
from csuper.testing import frames


def test_quadratic_loss_closed_form_against_monte_carlo():
    # independent route: simulate the model y_hat = |W x|^2 + b, y = sum v_i x_i^2 on sparse
    # symmetric inputs x_i = +-1/sqrt(p) with probability p (E x^2 = 1, K = E x^4 = 1/p)
    rng = np.random.default_rng(1)
    m, n, p = 2, 5, 0.2
    W = rng.standard_normal((m, n)) * 0.7
    v = rng.uniform(0.2, 1.0, n)
    N = 400_000
    X = rng.choice([-1.0, 1.0], (N, n)) * (rng.random((N, n)) < p) / np.sqrt(p)
    b = -np.sum(np.sum(W * W, axis=0) - v)  # optimal bias (Notes of quadratic_model_loss)
    err = (np.sum((X @ W.T) ** 2, axis=1) + b - (X**2) @ v) ** 2
    se = err.std() / np.sqrt(N)
    assert quadratic_model_loss(W, v, 1 / p) == pytest.approx(err.mean(), abs=4 * se)


@given(frames(n_dims=(1, 4), n_features=(2, 8)), st.floats(1.0, 30.0), st.integers(0, 2**32 - 1))
def test_capacity_loss_is_a_lower_bound_for_every_W(W, K, seed):
    v = np.random.default_rng(seed).uniform(-1, 1, W.shape[1])
    L = quadratic_model_loss(W, v, K)
    C = feature_dimensionality(W)
    assert L >= quadratic_capacity_loss(C, v, K).sum() - 1e-9 * (1 + L)
    # hence no W beats the optimal allocation with budget m
    assert L >= quadratic_allocation(v, K, W.shape[0]).loss - 1e-9 * (1 + L)


def _slsqp_allocation(v, K, m):
    n = len(v)
    f = lambda C: quadratic_capacity_loss(np.clip(C, 0, 1), v, K).sum()  # noqa: E731
    best = None
    for x0 in (np.full(n, m / n), np.linspace(1, 0, n) * min(1, 2 * m / n)):
        res = minimize(
            f,
            x0,
            method="SLSQP",
            bounds=[(0, 1)] * n,
            constraints=[{"type": "ineq", "fun": lambda C: m - C.sum()}],
            options={"ftol": 1e-14, "maxiter": 1000},
        )
        if best is None or res.fun < best.fun:
            best = res
    return best


@settings(max_examples=30)
@given(st.integers(3, 9), st.integers(1, 4), st.floats(3.2, 40.0), st.integers(0, 2**32 - 1))
def test_quadratic_kkt_matches_direct_constrained_optimisation(n, m, K, seed):
    # convex case K > 3: the KKT point is the unique optimum; SLSQP is the independent route
    v = np.random.default_rng(seed).uniform(0.05, 1.0, n)
    m = min(m, n - 1)
    a = quadratic_allocation(v, K, m)
    res = _slsqp_allocation(v, K, m)
    assert a.loss <= res.fun * (1 + 1e-9) + 1e-12
    assert a.loss == pytest.approx(res.fun, rel=1e-6, abs=1e-10)
    assert np.allclose(a.capacity, np.clip(res.x, 0, 1), atol=2e-3)
    assert a.capacity.sum() == pytest.approx(m)
    # KKT: equal marginal benefit lambda on the fractional features
    frac = (a.capacity > 1e-9) & (a.capacity < 1 - 1e-9)
    benefit = 2 * v**2 * (K - 1) ** 2 / (2 + (K - 3) * a.capacity) ** 2
    assert np.allclose(benefit[frac], a.shadow_price, rtol=1e-8)
    assert np.all(benefit[a.capacity >= 1 - 1e-9] >= a.shadow_price * (1 - 1e-8))


@given(st.integers(2, 7), st.integers(1, 3), st.floats(1.05, 3.0), st.integers(0, 2**32 - 1))
def test_quadratic_allocation_bang_bang_for_low_kurtosis_matches_brute_force(n, m, K, seed):
    # K <= 3: concave per-feature loss, the optimum is a 0/1 vertex; enumerate all subsets
    v = np.random.default_rng(seed).uniform(0.05, 1.0, n)
    m = min(m, n - 1)
    a = quadratic_allocation(v, K, m)
    best = min(
        quadratic_capacity_loss(np.isin(np.arange(n), S).astype(float), v, K).sum()
        for S in itertools.combinations(range(n), m)
    )
    assert a.loss == pytest.approx(best, rel=1e-12, abs=1e-12)
    assert set(np.unique(np.round(a.capacity, 12))) <= {0.0, 1.0}


def test_quadratic_allocation_budget_slack_and_errors():
    a = quadratic_allocation([1.0, 0.5], 5.0, 3)  # n <= m: everything monosemantic, lambda = 0
    assert np.allclose(a.capacity, 1.0) and a.shadow_price == 0.0 and a.loss == 0.0
    with pytest.raises(ValueError, match="kurtosis"):
        quadratic_allocation([1.0, 0.5], 0.5, 1)
    with pytest.raises(ValueError, match="n_dims"):
        quadratic_allocation([1.0, 0.5], 5.0, 0)
    with pytest.raises(ValueError, match="capacity"):
        quadratic_capacity_loss([1.5, 0.0], [1.0, 1.0], 5.0)
    with pytest.raises(ValueError, match="importance"):
        quadratic_model_loss(np.eye(2, 3), [1.0, 1.0], 5.0)


@pytest.mark.parametrize("seed", [1, 3])
def test_trained_quadratic_model_low_kurtosis_is_exactly_monosemantic(seed):
    # K = 2 < 3: all-or-nothing. Every L-BFGS run ends at a 0/1 capacity pattern, but single
    # runs can keep a less important feature (measured: seeds 1 and 3 with 4 restarts gave
    # losses 1.19x and 1.87x the optimum); with 12 restarts the best run is the allocation.
    from csuper.compare import train_quadratic_model

    v = np.sort(np.random.default_rng(seed).uniform(0.1, 1.0, 6))[::-1]
    a = quadratic_allocation(v, 2.0, 3)
    W = train_quadratic_model(v, 2.0, 3, n_restarts=12, rng=seed)
    assert np.allclose(feature_dimensionality(W), a.capacity, atol=1e-6)
    assert quadratic_model_loss(W, v, 2.0) == pytest.approx(a.loss, rel=1e-8)


@given(frames(n_dims=(1, 4), n_features=(2, 8)), st.floats(1.0, 30.0), st.integers(0, 2**32 - 1))
def test_analytic_gradient_matches_finite_differences(W, K, seed):
    # independent route: central differences of quadratic_model_loss (the public closed form)
    v = np.random.default_rng(seed).uniform(-1, 1, W.shape[1])
    f, grad = _loss_and_gradient(W, v, np.full(W.shape[1], K))
    assert f == pytest.approx(quadratic_model_loss(W, v, K), rel=1e-12, abs=1e-12)
    h = 1e-6 * max(1.0, float(np.abs(W).max()))
    num = np.zeros_like(W)
    for idx in np.ndindex(*W.shape):
        E = np.zeros_like(W)
        E[idx] = h
        num[idx] = (quadratic_model_loss(W + E, v, K) - quadratic_model_loss(W - E, v, K)) / (2 * h)
    scale = 1.0 + float(np.abs(num).max())
    np.testing.assert_allclose(grad, num, atol=1e-5 * scale)


# (K, n, m, seed); with the exact gradient, L-BFGS reaches the KKT allocation to ~1e-8 on each
# (measured: max |D - C| between 1e-17 and 3e-8, loss equal to the allocation's to 5e-15)
QUAD_CASES = [(10.0, 6, 3, 0), (5.0, 8, 3, 1), (20.0, 8, 4, 2), (4.0, 5, 2, 3)]


@pytest.mark.parametrize("K,n,m,seed", QUAD_CASES)
def test_trained_quadratic_model_reaches_the_allocation(K, n, m, seed):
    # the quadratic model is the case where the capacity reduction is exact: the trained model
    # (independent route: L-BFGS on the model's own loss over W) attains the KKT allocation
    v = np.sort(np.random.default_rng(seed).uniform(0.1, 1.0, n))[::-1]
    a = quadratic_allocation(v, K, m)
    W = train_quadratic_model(v, K, m, n_restarts=4, rng=seed)
    assert quadratic_model_loss(W, v, K) == pytest.approx(a.loss, rel=1e-7, abs=1e-10)
    np.testing.assert_allclose(feature_dimensionality(W), a.capacity, atol=1e-4)


def test_negative_importance_gets_no_capacity():
    # the model's diagonal coefficient |w_i|^2 cannot be negative: a feature with v_i < 0 is
    # best left out (s_i = 0), its loss (K - 1) v_i^2 does not depend on C_i
    v = np.array([1.0, 0.8, -0.9, 0.5, -0.2, 0.3])
    K = 8.0
    ell = quadratic_capacity_loss(np.linspace(0, 1, 6), v, K)
    assert ell[2] == pytest.approx((K - 1) * 0.81) and ell[4] == pytest.approx((K - 1) * 0.04)
    a = quadratic_allocation(v, K, 2)
    assert a.capacity[2] == 0.0 and a.capacity[4] == 0.0
    assert a.capacity.sum() == pytest.approx(2.0)
    # independent route: the trained model puts no weight on them and attains the allocation
    W = train_quadratic_model(v, K, 2, n_restarts=4, rng=0)
    assert np.linalg.norm(W[:, [2, 4]]) < 1e-6
    np.testing.assert_allclose(feature_dimensionality(W), a.capacity, atol=1e-4)
    # with a slack budget, only useful features are taken
    assert quadratic_allocation([1.0, -1.0], 10.0, 3).capacity.tolist() == [1.0, 0.0]


def test_quadratic_validation_names_the_parameter():
    with pytest.raises(ValueError, match="importance"):
        quadratic_allocation([np.nan, 1.0], 5.0, 1)
    with pytest.raises(ValueError, match="kurtosis"):
        quadratic_allocation([1.0, 1.0], np.inf, 1)
    with pytest.raises(TypeError, match="n_dims"):
        quadratic_allocation([1.0, 1.0], 5.0, 1.5)
    with pytest.raises(ValueError, match="importance must have at least 1"):
        quadratic_allocation([], 5.0, 1)
    with pytest.raises(ValueError, match="Gram"):
        quadratic_allocation(np.ones(20_000), 5.0, 1)
    with pytest.raises(ValueError, match="n_restarts"):
        train_quadratic_model([1.0, 0.5], 5.0, 1, n_restarts=0)
    with pytest.raises(TypeError, match="rng"):
        train_quadratic_model([1.0, 0.5], 5.0, 1, rng="seed")


@pytest.mark.parametrize(
    "fn",
    [
        lambda K: train_quadratic_model([1.0, 0.5, 0.1], K, 1, rng=0),
        lambda K: quadratic_allocation([1.0, 0.5, 0.1], K, 1),
    ],
)
@pytest.mark.parametrize("ragged", [[[3.0, 3.0], [3.0]], [3.0, [3.0], 3.0]])
def test_a_ragged_kurtosis_is_named(fn, ragged):
    # nightly fuzz finding: np.ndim of a ragged kurtosis raised numpy's own "inhomogeneous shape"
    # ValueError, which names no parameter
    with pytest.raises(ValueError, match="kurtosis must be a rectangular array"):
        fn(ragged)


def test_kurtosis_is_bounded_where_training_stays_finite():
    # nightly fuzz: kurtosis ~ 1e299 overflowed L-BFGS's iterates into "A must contain only
    # finite values" (no parameter named); 1e100 (K = 1/p, p = 1e-100) still trains
    W = train_quadratic_model([1.0, 0.5], [1e100, 2.0], 1, rng=0)
    assert np.isfinite(W).all()
    for K in (1e101, [2.0, 1e299]):
        with pytest.raises(ValueError, match=r"kurtosis must .*1e\+100"):
            train_quadratic_model([1.0, 0.5], K, 1, rng=0)


def test_weights_and_importance_are_bounded_where_the_loss_stays_finite():
    # the loss is quartic in W: sum G^2 - sum diag(G)^2 was inf - inf = NaN (with overflow
    # warnings) from |W| ~ 1e77 on; importance ~ 1e200 gave an infinite allocation loss with
    # equal capacities and a trainer failing with "A must contain only finite values". At the
    # bounds everything is finite (closed form for the loss: the doctest's eye(2, 3) scaled)
    W = np.array([[1.0, 0.5, 0.0], [0.0, 0.5, 1.0]])
    for bad in (1e31, 1e80, 1e160):
        with pytest.raises(ValueError, match=r"W must lie in \[-1e\+30, 1e\+30\]"):
            quadratic_model_loss(W * bad, [1.0, 1.0, 0.5], 5.0)
    for fn, args in (
        (quadratic_model_loss, (W, [1e200, 1.0, 1.0], 1.0)),
        (quadratic_allocation, ([1e200, 1.0, 1.0], 3.0, 2)),
        (train_quadratic_model, ([1e200, 1.0, 1.0], 3.0, 2)),
    ):
        with pytest.raises(ValueError, match=r"importance must lie in \[-1e\+60, 1e\+60\]"):
            fn(*args)
    # (K - 1)(|w_i|^2 - v_i)^2 = 4 (1e60 - 1e60)^2 = 0 on the diagonal of eye(2, 3) * 1e30;
    # off-diagonal overlaps are 0; the third feature has |w| = 0: 4 * (1e60)^2 = 4e120
    assert quadratic_model_loss(np.eye(2, 3) * 1e30, [1e60] * 3, 5.0) == pytest.approx(4e120)
    assert quadratic_allocation([1e60, 1.0, 1.0], 3.0, 2).capacity[0] == pytest.approx(1.0)
