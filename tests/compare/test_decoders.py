"""csuper.compare.decoders: the decoder gap on cases with known answers, conditioned on inputs
with an active feature, and the read-out's per-feature recovery criterion."""

import numpy as np
import pytest

from csuper.compare.decoders import DECODERS, decoder_gap, recovered_features
from csuper.recovery import statistical_dimension
from csuper.toy import feature_distribution, sample_features


@pytest.mark.parametrize("name", list(DECODERS))
def test_every_registered_decoder_runs_and_is_scored(name):
    rng = np.random.default_rng(0)
    W = rng.standard_normal((4, 9))
    res = decoder_gap(W, -0.1 * np.ones(9), 0.15, n_samples=40, decoders=[name], rng=1)
    s = res.score(name)
    assert s.n_samples == 40 and 0.0 <= s.exact_rate <= 1.0 and s.relative_mse >= 0.0
    assert sum(row["n_samples"] for row in s.by_active) == 40
    assert min(row["active"] for row in s.by_active) >= 1
    assert DECODERS[name].encoder in {"learned", "gaussian"}


def test_orthonormal_frame_is_decoded_exactly():
    # n = m, W = I: h = x, so ReLU(h) = x for x >= 0, the only feasible x is h itself, and an
    # ISTA step from the exact read-out stays there (lambda = 0 is in its grid)
    res = decoder_gap(
        np.eye(6), np.zeros(6), 0.3, n_samples=40, decoders=["relu", "nnbp", "ista"], rng=1
    )
    for s in res.scores:
        assert s.exact_rate == 1.0, s
        assert s.relative_mse < 1e-12, s
        assert s.n_failed == 0


def test_zero_inputs_are_not_counted():
    # issue 12, defect 2: a model that represents nothing (W = 0, b = 0) decodes an all-zero
    # input exactly; with p = 0.02 and n = 10, 82 % of natural inputs are zero. Conditioned on
    # an active feature, it recovers nothing.
    res = decoder_gap(np.zeros((3, 10)), np.zeros(10), 0.02, n_samples=200, decoders=["relu"])
    s = res.score("relu")
    assert s.exact_rate == 0.0 and s.relative_mse == pytest.approx(1.0)
    assert all(row["active"] >= 1 for row in s.by_active)


def test_strata_add_up_to_the_whole():
    rng = np.random.default_rng(2)
    W = rng.standard_normal((5, 20)) / np.sqrt(5)
    s = decoder_gap(W, np.zeros(20), 0.1, n_samples=300, decoders=["nnbp"], rng=3).scores[0]
    rows = s.by_active
    assert [r["active"] for r in rows] == sorted(r["active"] for r in rows)
    weights = np.array([r["n_samples"] for r in rows])
    assert weights.sum() == 300
    assert np.dot(weights, [r["exact_rate"] for r in rows]) / 300 == pytest.approx(s.exact_rate)
    # recovery gets harder with more active features (l1 on a Gaussian frame, m = 5)
    assert rows[0]["exact_rate"] > rows[-1]["exact_rate"]


def test_relu_decoder_is_the_toy_models_forward_pass():
    """Independent route: the toy model's own forward pass, on the same conditioned samples."""
    from csuper.compare.decoders import _draw_nonzero
    from csuper.toy import from_weights

    rng = np.random.default_rng(3)
    W = rng.standard_normal((3, 8))
    b = -0.1 * rng.random(8)
    res = decoder_gap(W, b, 0.2, n_samples=300, decoders=["relu"], rng=7)
    X = _draw_nonzero(feature_distribution(8, 0.2), 300, np.random.default_rng(7)).T
    X_hat = from_weights(W, b).forward(X)[0]
    want = np.sum((X_hat - X) ** 2) / np.sum(X**2)
    assert res.score("relu").relative_mse == pytest.approx(want, rel=1e-12)


def test_gaussian_frame_well_above_threshold_recovers_almost_always():
    # n = 60, p = 0.05: k = 3 expected active features; nonnegative m*(60, 3) = 10.0 (ALMT 2014),
    # so m = 40 is far above the transition and l1 recovery should (almost) always succeed.
    n, m, p = 60, 40, 0.05
    assert statistical_dimension(n, 3, nonnegative=True) < m / 2
    W = np.random.default_rng(0).standard_normal((m, n)) / np.sqrt(m)
    res = decoder_gap(W, np.zeros(n), p, n_samples=200, decoders=["nnbp", "nnbp_gaussian"], rng=2)
    for s in res.scores:
        assert s.exact_rate >= 0.97, s
    assert res.k_expected == pytest.approx(n * p)


def test_far_below_threshold_recovery_fails():
    # k = 15 expected actives in n = 30 with m = 5 measurements: m << m*(30, 15) = 20.9.
    assert statistical_dimension(30, 15, nonnegative=True) > 4 * 5
    W = np.random.default_rng(0).standard_normal((5, 30))
    res = decoder_gap(W, np.zeros(30), 0.5, n_samples=60, decoders=["nnbp"], rng=0)
    assert res.score("nnbp").exact_rate <= 0.05


def test_refit_repairs_a_bad_read_out():
    # the learned W of an orthonormal model with a wrong bias (+0.3): the tied read-out errs on
    # every feature, the re-fitted untied read-out learns the bias back (independent of W)
    W = np.eye(6)[:4]
    res = decoder_gap(
        W,
        np.full(6, 0.3),
        0.2,
        n_samples=300,
        decoders=["relu", "relu_refit"],
        n_fit_samples=2000,
        rng=4,
    )
    assert res.score("relu_refit").relative_mse < 0.6 * res.score("relu").relative_mse


def test_noise_degrades_and_lasso_differs_from_basis_pursuit_only_with_noise():
    rng = np.random.default_rng(5)
    W = rng.standard_normal((12, 30)) / np.sqrt(12)
    kw = dict(n_samples=150, decoders=["nnbp", "lasso"], rng=6)
    clean = decoder_gap(W, np.zeros(30), 0.05, **kw)
    noisy = decoder_gap(W, np.zeros(30), 0.05, noise_level=0.1, **kw)
    assert clean.score("lasso").relative_mse == pytest.approx(
        clean.score("nnbp").relative_mse, abs=0.02
    )
    assert noisy.score("lasso").relative_mse < noisy.score("nnbp").relative_mse
    assert noisy.score("nnbp").relative_mse > clean.score("nnbp").relative_mse
    assert noisy.noise_level == 0.1


@pytest.mark.parametrize("scale", [2.0**-660, 2.0**-60])
def test_noise_is_relative_to_the_signal_at_any_scale_of_w(scale):
    # basis pursuit decodes c W x + c noise exactly as W x + noise (x is unchanged), so with
    # the same draws the scores agree; the noise's RMS came from H_fit**2, which underflowed to
    # 0 at W ~ 1e-200: the "noisy" signals were exact (relative MSE 0.03 instead of 0.68)
    rng = np.random.default_rng(5)
    W = rng.standard_normal((12, 30)) / np.sqrt(12)
    kw = dict(n_samples=100, decoders=["nnbp", "nnbp_gaussian"], noise_level=0.1, rng=6)
    ref = decoder_gap(W, np.zeros(30), 0.05, **kw)
    got = decoder_gap(W * scale, np.zeros(30), 0.05, **kw)
    for name in ("nnbp", "nnbp_gaussian"):
        assert got.score(name).relative_mse == pytest.approx(ref.score(name).relative_mse, rel=1e-6)
    assert ref.score("nnbp").relative_mse > 0.05  # the noise is there


def test_decoding_the_represented_features_only():
    W = np.array([[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0]])
    res = decoder_gap(W, np.zeros(4), [0.1, 0.2, 0.3, 0.4], features=[0, 1], decoders=["nnbp"])
    assert res.n_features == 2 and res.k_expected == pytest.approx(0.3)
    assert res.score("nnbp").exact_rate == 1.0
    assert res.features.tolist() == [0, 1]


def test_same_seed_same_result_records_and_short_repr():
    W = np.random.default_rng(1).standard_normal((4, 10))
    a = decoder_gap(W, np.zeros(10), 0.1, n_samples=30, decoders=["relu", "nnbp"], rng=11)
    b = decoder_gap(W, np.zeros(10), 0.1, n_samples=30, decoders=["relu", "nnbp"], rng=11)
    assert a.scores == b.scores
    rows = a.to_records()
    assert [r["decoder"] for r in rows] == ["relu", "nnbp"]
    assert {"n_features", "n_dims", "k_expected", "relative_mse", "exact_rate", "by_active"} <= set(
        rows[0]
    )
    assert len(repr(a)) < 400 and len(repr(a.scores[0])) < 300


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        ({"decoders": ["magic"]}, ValueError, "decoders must be"),
        ({"decoders": "relu"}, TypeError, "decoders must be a sequence"),
        ({"decoders": 3}, TypeError, "decoders must be a sequence"),
        ({"decoders": []}, ValueError, "decoders must be"),
        ({"exact_tol": 0.0}, ValueError, "exact_tol"),
        ({"exact_tol": np.nan}, ValueError, "exact_tol"),
        ({"n_samples": 0}, ValueError, "n_samples"),
        ({"n_samples": 2**40}, ValueError, "n_samples"),
        ({"n_samples": 1.5}, TypeError, "n_samples"),
        ({"noise_level": -1.0}, ValueError, "noise_level"),
        ({"noise_level": np.inf}, ValueError, "noise_level"),
        ({"ista_n_iter": 0}, ValueError, "ista_n_iter"),
        ({"features": [0, 0]}, ValueError, "features must be distinct"),
        ({"features": [9]}, ValueError, "features must be distinct"),
        ({"features": []}, ValueError, "features must have at least 1"),
        ({"b": np.zeros(3)}, ValueError, "b must have shape"),
        ({"W": np.full((2, 4), np.nan)}, ValueError, "finite"),
        ({"W": np.ones((0, 4))}, ValueError, "W must"),
        ({"feature_probability": [0.1, 0.2]}, ValueError, "feature_probability must be"),
        ({"feature_probability": 1e-12}, ValueError, "feature_probability is too small"),
        ({"rng": "seed"}, TypeError, "rng"),
    ],
)
def test_bad_input(kwargs, exc, match):
    args = {"W": np.ones((2, 4)), "b": np.zeros(4), "feature_probability": 0.1}
    args.update({k: kwargs.pop(k) for k in list(kwargs) if k in args})
    kwargs.setdefault("rng", 0)
    with pytest.raises(exc, match=match):
        decoder_gap(args["W"], args["b"], args["feature_probability"], **kwargs)


# ---------------------------------------------------------------- the recovery criterion


def test_recovered_features_known_answers():
    # own directions explain everything; a dropped feature whose bias is its mean explains
    # nothing (its error is its variance)
    W = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    p = 0.1
    rec = recovered_features(W, [0.0, 0.0, p / 2], p, n_samples_per_feature=400, rng=0)
    assert rec.explained_variance[:2] == pytest.approx([1.0, 1.0])
    assert rec.explained_variance[2] == pytest.approx(0.0, abs=0.15)
    assert rec.recovered.tolist() == [True, True, False] and rec.count == 2
    assert len(repr(rec)) < 200


def test_explained_variance_matches_a_plain_simulation():
    # independent route: E[(x_hat_i - x_i)^2] and Var(x_i) from 400,000 natural samples
    rng = np.random.default_rng(8)
    W = rng.standard_normal((3, 8)) * 0.6
    b = -0.05 * rng.random(8)
    p = 0.08
    rec = recovered_features(W, b, p, n_samples_per_feature=20_000, rng=9)
    X = sample_features(feature_distribution(8, p), 400_000, rng=10)[0]
    err = (np.maximum(X @ W.T @ W + b, 0.0) - X) ** 2
    var = p / 3 - p**2 / 4
    want = 1 - err.mean(axis=0) / var
    se = err.std(axis=0) / np.sqrt(400_000) / var
    assert np.all(np.abs(rec.explained_variance - want) < 5 * se + 0.02)


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        ({"min_explained_variance": 1.0}, ValueError, "min_explained_variance"),
        ({"n_samples_per_feature": 0}, ValueError, "n_samples_per_feature"),
        (
            {"n_samples_per_feature": 10**5, "W": np.eye(2, 2000), "b": np.zeros(2000)},
            ValueError,
            "hours of work",
        ),
        ({"magnitude": "cauchy"}, ValueError, "magnitude"),
        ({"feature_probability": 0.0}, ValueError, "feature_probability must be > 0"),
        ({"b": [0.0]}, ValueError, "b must have shape"),
    ],
)
def test_recovered_features_bad_input(kwargs, exc, match):
    args = {"W": np.eye(2, 40), "b": np.zeros(40), "feature_probability": 0.1}
    args.update({k: kwargs.pop(k) for k in list(kwargs) if k in args})
    with pytest.raises(exc, match=match):
        recovered_features(args["W"], args["b"], args["feature_probability"], **kwargs)
