"""csuper.compare.decoders: the decoder gap on cases with known answers."""

import numpy as np
import pytest

from csuper.compare.decoders import DECODERS, decoder_gap
from csuper.recovery import statistical_dimension


def test_orthonormal_frame_is_decoded_exactly_by_every_decoder():
    # n = m, W = I: h = x, so ReLU(h) = x for x >= 0 and the only feasible x is h itself.
    res = decoder_gap(
        np.eye(6), np.zeros(6), 0.3, n_samples=40, decoders=["relu", "nnbp", "lasso"], rng=1
    )
    for s in res.scores:
        assert s.exact_rate == 1.0, s
        assert s.relative_mse < 1e-12, s
        assert s.n_failed == 0


def test_relu_decoder_is_the_toy_models_forward_pass():
    """Independent route: the toy model's own forward pass on the same samples."""
    from csuper.toy import feature_distribution, from_weights, sample_features

    rng = np.random.default_rng(3)
    W = rng.standard_normal((3, 8))
    b = -0.1 * rng.random(8)
    res = decoder_gap(W, b, 0.2, n_samples=300, decoders=["relu"], rng=7)
    X = sample_features(feature_distribution(8, 0.2), 300, rng=np.random.default_rng(7))[0]
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
    n, m = 30, 5
    W = np.random.default_rng(0).standard_normal((m, n))
    res = decoder_gap(W, np.zeros(n), 0.5, n_samples=60, decoders=["nnbp"], rng=0)
    assert res.score("nnbp").exact_rate <= 0.05


def test_frame_coherences_reported_and_packing_beats_gaussian():
    n, m = 24, 6
    W = np.random.default_rng(5).standard_normal((m, n))
    res = decoder_gap(
        W, np.zeros(n), 0.05, n_samples=20, decoders=["nnbp_gaussian", "nnbp_packing"], rng=0
    )
    fc = res.frame_coherence
    assert set(fc) == {"learned", "gaussian", "packing", "welch"}
    assert fc["welch"] <= fc["packing"] < fc["gaussian"]  # a packing beats a random frame
    assert res.frames["packing"].shape == (m, n)


def test_same_seed_same_result_and_records():
    W = np.random.default_rng(1).standard_normal((4, 10))
    a = decoder_gap(W, np.zeros(10), 0.1, n_samples=30, decoders=["relu", "nnbp"], rng=11)
    b = decoder_gap(W, np.zeros(10), 0.1, n_samples=30, decoders=["relu", "nnbp"], rng=11)
    assert a.scores == b.scores
    rows = a.to_records()
    assert [r["decoder"] for r in rows] == ["relu", "nnbp"]
    assert {"n_features", "n_dims", "k_expected", "relative_mse", "exact_rate"} <= set(rows[0])


def test_registry_lists_every_decoder():
    assert set(DECODERS) == {"relu", "nnbp", "nnbp_gaussian", "nnbp_packing", "lasso"}


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        ({"decoders": ["magic"]}, ValueError, "decoders must be"),
        ({"decoders": "relu"}, TypeError, "decoders must be a sequence"),
        ({"decoders": []}, ValueError, "decoders must be"),
        ({"exact_tol": 0.0}, ValueError, "exact_tol"),
        ({"n_samples": 0}, ValueError, "n_samples"),
        ({"lasso_lam": -1.0}, ValueError, "lasso_lam"),
        ({"b": np.zeros(3)}, ValueError, "b must have shape"),
        ({"W": np.full((2, 4), np.nan)}, ValueError, "finite"),
    ],
)
def test_bad_input(kwargs, exc, match):
    args = {"W": np.ones((2, 4)), "b": np.zeros(4), "feature_probability": 0.1}
    args.update({k: kwargs.pop(k) for k in list(kwargs) if k in args})
    with pytest.raises(exc, match=match):
        decoder_gap(args["W"], args["b"], args["feature_probability"], rng=0, **kwargs)
