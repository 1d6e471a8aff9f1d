"""The interference price: exact co-activation rates against Monte Carlo, the O(n m^2) penalty
against the explicit n x n sum, its gradient against finite differences, and its effect in
training."""

import dataclasses

import numpy as np
import pytest

from csuper.toy import (
    TrainSettings,
    coactivation_matrix,
    feature_distribution,
    interference_penalty,
    sample_features,
    train,
)
from csuper.toy import _train_kernels as K
from csuper.toy.price import _price_data


def _explicit(W, C):
    """sum_{i != j} c_ij (w_i . w_j)^2 with the full Gram matrix (small n only)."""
    G = W.T @ W.copy()
    off = ~np.eye(W.shape[1], dtype=bool)
    return float(np.sum(C[off] * G[off] ** 2))


DIST = dict(correlated=[(0, 1, 2)], anticorrelated=[(3, 4), (5, 6, 7)])


def test_coactivation_matrix_matches_monte_carlo():
    d = feature_distribution(10, [[0.3] * 3 + [0.2] * 2 + [0.1] * 3 + [0.5, 0.05]], **DIST)
    C = coactivation_matrix(d)[0]
    N = 60_000
    A = (sample_features(d, N, rng=1)[0] > 0).astype(float)
    emp = A.T @ A / N
    se = np.sqrt(C * (1 - C) / N) + 1e-12
    assert np.all(np.abs(emp - C) <= 5 * se)
    assert np.allclose(C, C.T) and C[3, 4] == 0 and C[0, 1] == pytest.approx(0.3)


@pytest.mark.parametrize("weighted", [True, False])
def test_penalty_matches_explicit_sum(weighted):
    rng = np.random.default_rng(2)
    d = feature_distribution(10, rng.uniform(0.05, 0.3, (3, 1)), **DIST)
    W = rng.standard_normal((3, 4, 10))
    got = interference_penalty(W, d, coactivation_weighted=weighted)
    C = coactivation_matrix(d) if weighted else np.ones((3, 10, 10))
    assert got.shape == (3,)
    assert np.allclose(got, [_explicit(W[r], C[r]) for r in range(3)], rtol=1e-12)
    single = interference_penalty(
        W[0],
        feature_distribution(10, d.feature_probability[0], **DIST),
        coactivation_weighted=weighted,
    )
    assert isinstance(single, float) and single == pytest.approx(got[0], rel=1e-12)


@pytest.mark.kernels
@pytest.mark.parametrize("weighted", [True, False])
def test_price_gradient_matches_finite_differences(weighted):
    rng = np.random.default_rng(3)
    d = feature_distribution(8, 0.2, correlated=[(0, 1)], anticorrelated=[(2, 3, 4)])
    price = _price_data(d, weighted, 1, np.float64)
    _, gstart, gmem, _, _ = d._groups
    Wt = rng.standard_normal((8, 3))
    lam = 0.7
    P, g = K.price_grad(Wt, price.Q[0], price.delta[0], gstart, gmem, lam)
    C = coactivation_matrix(d)[0] if weighted else np.ones((8, 8))
    assert P == pytest.approx(_explicit(Wt.T, C), rel=1e-12)
    h = 1e-6
    num = np.zeros_like(Wt)
    for i in range(8):
        for k in range(3):
            E = np.zeros_like(Wt)
            E[i, k] = h
            num[i, k] = lam * (_explicit((Wt + E).T, C) - _explicit((Wt - E).T, C)) / (2 * h)
    assert np.allclose(g, num, rtol=1e-6, atol=1e-8)


def test_price_in_training():
    d = feature_distribution(12, 0.1)
    s = TrainSettings(n_steps=400, batch_size=128, lr=1e-2)
    free = train(d, 3, settings=s, rng=4)
    priced = train(d, 3, settings=dataclasses.replace(s, interference_price=5.0), rng=4)
    # the same init and first batch: loss_history holds the reconstruction loss alone
    assert priced.loss_history[0, 0] == pytest.approx(free.loss_history[0, 0], rel=1e-12)
    # a strong price buys lower interference (at a higher reconstruction loss)
    assert interference_penalty(priced.W, d) < 0.5 * interference_penalty(free.W, d)
    assert priced.final_loss[0] > free.final_loss[0]


def test_bad_penalty_input():
    W = np.ones((2, 4))
    with pytest.raises(ValueError, match="needs the training distribution"):
        interference_penalty(W)
    with pytest.raises(ValueError, match="n_features=5"):
        interference_penalty(W, feature_distribution(5, 0.1))
    with pytest.raises(ValueError, match="instances"):
        interference_penalty(np.ones((3, 2, 4)), feature_distribution(4, [0.1, 0.2]))
    with pytest.raises(TypeError, match="coactivation_weighted"):
        interference_penalty(W, coactivation_weighted=0)
    with pytest.raises(TypeError, match="distribution"):
        coactivation_matrix(np.ones(4))


@pytest.mark.kernels
@pytest.mark.parametrize("weighted", [True, False])
def test_priced_training_routes_and_precisions_agree(weighted):
    # the price's gradient is added on every route: the sparse routes follow the GEMM route to
    # rounding, float32 follows float64 to float32 precision, for a few steps
    from csuper.toy.train import _fit

    d = feature_distribution(30, [0.05, 0.4], correlated=[(0, 1, 2)])
    s = TrainSettings(
        n_steps=5,
        batch_size=64,
        lr=1e-3,
        interference_price=0.3,
        coactivation_weighted=weighted,
    )

    def run(settings, routes):
        imp = np.ones((2, 30))
        return _fit(d, 4, imp, settings, np.array([3, 4]), 1, None, False, False, routes)

    ref = run(s, (0, 0))
    for routes in [(1, 0), (0, 1), (1, 1)]:
        out = run(s, routes)
        assert np.allclose(out.W, ref.W, rtol=1e-8, atol=1e-11)
    f32 = run(dataclasses.replace(s, dtype="float32"), (0, 0))
    assert f32.W.dtype == np.float32
    assert np.allclose(f32.loss_history, ref.loss_history, rtol=1e-5)
    assert np.abs(f32.W - ref.W).max() < 1e-4 * s.lr * s.n_steps + 1e-6
    # and the price moved the weights: a run without it differs by more than rounding
    free = run(dataclasses.replace(s, interference_price=0.0), (0, 0))
    assert np.abs(free.W - ref.W).max() > 1e-6
