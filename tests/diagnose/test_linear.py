"""Linear recoverability: the closed-form R^2 against Monte Carlo, the linear budget and the
bound D_i <= R^2_i as properties, and the test's decisions on constructions with known answers."""

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from csuper.diagnose import (
    antipodal_code,
    cross_validated_linear,
    fit_linear,
    linear_r2,
    linear_recoverability,
    magnitude_code,
    rotation_code,
    superposition_code,
)
from csuper.geometry import feature_dimensionality
from csuper.testing import frames, orthogonal_matrices


def test_closed_form_r2_matches_monte_carlo():
    # independent route: sample x, form h = W x, fit least squares on 200,000 samples
    rng = np.random.default_rng(0)
    W = rng.standard_normal((3, 7))
    p = np.linspace(0.1, 0.5, 7)
    X = rng.random((200_000, 7)) * (rng.random((200_000, 7)) < p)
    H = X @ W.T
    coef = fit_linear(H, X)
    resid = X - (H @ coef[:-1] + coef[-1])
    r2_mc = 1 - resid.var(axis=0) / X.var(axis=0)
    # Var(x) of Bernoulli(p) * U[0, 1): p/3 - p^2/4
    r2 = linear_r2(W, p / 3 - p**2 / 4)
    # standard error of a sample R^2 near these values at N = 2e5 is ~2e-3
    np.testing.assert_allclose(r2_mc, r2, atol=0.01)


@given(frames(n_dims=(1, 6), n_features=(1, 10)), st.integers(0, 2**31))
def test_linear_budget_is_the_rank(W, seed):
    v = np.random.default_rng(seed).uniform(0.1, 2.0, W.shape[1])
    sv = np.linalg.svd(W * np.sqrt(v), compute_uv=False)
    # the rank is ambiguous when a singular value sits between the two routes' tolerances
    assume(np.all((sv > 1e-6 * sv[0]) | (sv < 1e-13 * sv[0])))
    r2 = linear_r2(W, v)
    assert np.all((r2 >= 0) & (r2 <= 1))
    assert r2.sum() == pytest.approx(np.linalg.matrix_rank(W * np.sqrt(v)), abs=1e-7)


@given(frames(n_dims=(2, 6), n_features=(2, 10)))
def test_feature_dimensionality_never_exceeds_linear_r2(W):
    # Cauchy-Schwarz: |w|^4 <= (w^T M w)(w^T M^+ w) with M = W W^T (unit variances)
    assert np.all(feature_dimensionality(W) <= linear_r2(W) + 1e-9)


@given(frames(n_dims=4, n_features=(2, 8)), orthogonal_matrices(dim=4))
def test_r2_is_invariant_under_rotations_of_the_hidden_space(W, Q):
    np.testing.assert_allclose(linear_r2(Q @ W), linear_r2(W), atol=1e-9)


def test_tight_frame_r2_equals_dimensionality():
    a = 2 * np.pi * np.arange(5) / 5
    W = np.vstack([np.cos(a), np.sin(a)])
    np.testing.assert_allclose(linear_r2(W), 0.4)
    np.testing.assert_allclose(feature_dimensionality(W), 0.4)


def test_cross_validation_predicts_every_row_from_the_others():
    rng = np.random.default_rng(1)
    H = rng.standard_normal((50, 2))
    Y = rng.standard_normal((50, 1))
    pred = cross_validated_linear(H, Y, 5)
    coef = fit_linear(H[10:], Y[10:])  # the first fold's read-out
    np.testing.assert_allclose(pred[:10], H[:10] @ coef[:-1] + coef[-1])


@pytest.mark.parametrize(
    "build, expected",
    [
        (rotation_code, "linear code"),
        (superposition_code, "superposition"),
        (antipodal_code, "superposition"),
        (magnitude_code, "non-linear code"),
    ],
)
def test_decisions_on_constructions(build, expected):
    c = build(rng=3)
    res = linear_recoverability(c.H, c.X, W=c.W, rng=0)
    assert res.diagnosis == expected, res.summary
    assert res.statistic <= res.baseline + 0.25  # the budget (exceeded only by correlation)


def test_superposition_r2_tracks_the_closed_form():
    c = superposition_code(n_samples=20_000, rng=4)
    res = linear_recoverability(c.H, c.X, W=c.W, rng=0)
    assert res.statistic == pytest.approx(c.n_dims, abs=3 * res.details["se"] + 0.05)
    np.testing.assert_allclose(res.details["r2"], res.details["r2_theory"], atol=0.08)


def test_dropped_features():
    # 3 features on their own axes, 3 dropped (zero columns): n = 6 > m = 3, R^2 in {0, 1}
    rng = np.random.default_rng(5)
    X = rng.random((900, 6)) * (rng.random((900, 6)) < 0.3)
    W = np.hstack([np.eye(3), np.zeros((3, 3))])
    res = linear_recoverability(X @ W.T, X, rng=0)
    assert res.diagnosis == "dropped features", res.summary


def test_not_applicable_and_bad_input():
    c = rotation_code(rng=0)
    res = linear_recoverability(c.H, None)
    assert not res.applicable and "known features" in res.summary
    res = linear_recoverability(c.H, np.zeros_like(c.X))
    assert not res.applicable and "varies" in res.summary
    with pytest.raises(ValueError, match="same number of samples"):
        linear_recoverability(c.H, c.X[:-1])
    with pytest.raises(ValueError, match="at least 20 samples"):
        linear_recoverability(c.H[:5], c.X[:5])
    with pytest.raises(ValueError, match="threshold"):
        linear_recoverability(c.H, c.X, threshold=1.5)
    with pytest.raises(ValueError, match="one column per feature"):
        linear_recoverability(c.H, c.X, W=c.W[:, :-1])


def test_same_rng_same_result():
    c = superposition_code(rng=0)
    a = linear_recoverability(c.H, c.X, rng=1)
    b = linear_recoverability(c.H, c.X, rng=1)
    assert a.details["se"] == b.details["se"] and a.statistic == b.statistic
