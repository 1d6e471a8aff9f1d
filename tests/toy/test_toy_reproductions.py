"""Full-size reproductions of Elhage et al. 2022 (slow; ``pytest -m slow tests/toy``).

Reference numbers: the paper's introduction figure (n = 5, m = 2, I_i = 0.9^i, 1 - S =
20^-linspace(0, 1, 10)), its pentagon D_i = 2/5, and the dense-limit closed form
sum_{i >= m} I_i Var(x) / n (Var = 1/12 for Uniform[0, 1]); D* plateaus at 1 and 1/2 from the
"Feature dimensionality" section (n = 100 here instead of 200, to keep the run short).
Run on demand only: each test trains at the notebook's settings (minutes on 2 cores).
"""

import numpy as np
import pytest

import csuper.toy as toy
from csuper.geometry import feature_dimensionality

pytestmark = pytest.mark.slow


def test_intro_sweep_dense_keeps_two_sparse_packs_five():
    p = 20.0 ** -np.linspace(0, 1, 10)
    imp = 0.9 ** np.arange(5)
    model = toy.train(toy.feature_distribution(5, p), 2, importance=imp, n_seeds=3, rng=0)
    dense = model.W[0]
    assert toy.represented_count(dense) == 2
    assert np.all(toy.feature_norms(dense)[:2] > 0.5)  # the two most important
    assert abs(dense[:, 0] @ dense[:, 1]) < 0.05  # orthogonal
    counts = [toy.represented_count(model.W[r]) for r in range(10)]
    # more features as sparsity grows; all five at the sparse end (1 - S <= 0.1)
    assert np.all(np.diff(counts) >= -1) and counts[-3:] == [5, 5, 5]
    assert [q.name for q in toy.detect_polytopes(model.W[-1])] == ["pentagon"]


def test_uniform_importance_pentagon_at_notebook_settings():
    model = toy.train(toy.feature_distribution(5, [0.15, 0.1, 0.05]), 2, n_seeds=3, rng=1)
    for r in range(3):
        assert np.allclose(feature_dimensionality(model.W[r]), 0.4, atol=0.02)


def test_dense_limit_at_notebook_settings():
    imp = 0.9 ** np.arange(5)
    d = toy.feature_distribution(5, 1.0)
    model = toy.train(d, 2, importance=imp, n_seeds=3, rng=2)
    X = toy.sample_features(d, 200_000, rng=3)[0]
    assert model.loss(X)[0] == pytest.approx(toy.dense_limit_loss(imp, 2), rel=0.02)


def test_dimensions_per_feature_plateaus():
    # paper: D* = 1 for dense features (no superposition) and a plateau near 1/2 (antipodal
    # pairs) as sparsity grows; in the 5,000-step n = 100 run (papers/README.md) D* = 1.00 at
    # 1/(1-S) = 1 and 0.56, 0.51, 0.45 at 1/(1-S) = 1.9, 2.7, 3.7, then falls towards m/n
    p = np.array([1.0, 1 / 2.7])
    model = toy.train(
        toy.feature_distribution(100, p), 20, settings=toy.TrainSettings(n_steps=5000), rng=4
    )
    dstar = [toy.dimensions_per_feature(model.W[r]) for r in range(2)]
    assert dstar[0] == pytest.approx(1.0, abs=0.05)
    assert dstar[1] == pytest.approx(0.5, abs=0.06)
