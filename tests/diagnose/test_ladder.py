"""The decoder ladder: gradients of the fitted read-outs by finite differences, the 24/25 linear
share of x*y, and each rung's known answer."""

import numpy as np
import pytest

from csuper.diagnose import (
    DECODERS,
    FEATURE_CLASSES,
    antipodal_code,
    classify_features,
    decoder_ladder,
    fit_ladder,
    fit_relu_linear,
    magnitude_code,
    mlp_loss_grad,
    product_code,
    relu_linear_loss_grad,
    rotation_code,
    superposition_code,
)
from tests.diagnose.finite_differences import check_gradient


def test_relu_linear_gradient_by_finite_differences():
    rng = np.random.default_rng(0)
    Z, Y = rng.standard_normal((30, 3)), rng.random((30, 2))
    V, c, w = rng.standard_normal((3, 2)), rng.standard_normal(2), np.array([1.0, 2.0])
    _, gV, gc = relu_linear_loss_grad(V, c, Z, Y, w)
    check_gradient(lambda: relu_linear_loss_grad(V, c, Z, Y, w)[0], [V, c], [gV, gc])


def test_mlp_gradient_by_finite_differences():
    rng = np.random.default_rng(1)
    Z, Y = rng.standard_normal((25, 3)), rng.standard_normal((25, 2))
    P = [
        rng.standard_normal((3, 5)),
        rng.standard_normal(5),
        rng.standard_normal((5, 2)),
        rng.standard_normal(2),
    ]
    w = np.array([0.5, 1.5])
    grads = mlp_loss_grad(*P, Z, Y, w)[1:]
    check_gradient(lambda: mlp_loss_grad(*P, Z, Y, w)[0], P, grads)


def test_relu_linear_never_worse_than_least_squares():
    c = superposition_code(rng=2)
    lad = fit_ladder(c.H, c.X, rungs=("linear", "relu_linear"))
    for rung_err in [np.sum((c.X - lad.predict(r, c.H)) ** 2, axis=0) for r in ("relu_linear",)]:
        lin_err = np.sum((c.X - lad.predict("linear", c.H)) ** 2, axis=0)
        assert np.all(rung_err <= lin_err * (1 + 1e-12))


def test_product_is_24_25_linear():
    # closed form: the best linear read-out of xy from ReLU(+-(x+y)), ReLU(+-(x-y)) is
    # (2/5)(|x+y| - |x-y|), R^2 = (2/15)^2 / ((1/6)(1/9)) = 24/25
    c = product_code(n_samples=200_000, rng=0)
    lad = fit_ladder(c.H, c.X, rungs=("linear",))
    coef = lad.fitted["linear"][:, 2]
    np.testing.assert_allclose(coef, [0.4, 0.4, -0.4, -0.4, 0.0], atol=5e-3)
    pred = lad.predict("linear", c.H)[:, 2]
    r2 = 1 - np.var(c.X[:, 2] - pred) / np.var(c.X[:, 2])
    assert r2 == pytest.approx(24 / 25, abs=2e-3)  # SE of a sample R^2 here ~ 3e-4


@pytest.mark.parametrize(
    "build, classes, diagnosis",
    [
        (rotation_code, {"linear"}, "linear code"),
        (antipodal_code, {"relu_linear"}, "ReLU-linear code"),
        (product_code, None, "non-linear code"),
        # the largest magnitude, 4, is ReLU(h - 3): ReLU-linear; the others need bins
        (magnitude_code, ["non_linear"] * 3 + ["relu_linear"], "non-linear code"),
    ],
)
def test_known_answers(build, classes, diagnosis):
    c = build(rng=1)
    res = decoder_ladder(c.H, c.X, W=c.W, rng=0)
    assert res.diagnosis == diagnosis, res.summary
    if isinstance(classes, list):
        assert res.details["classes"] == classes
    elif classes is not None:
        assert set(res.details["classes"]) == classes
    else:
        assert res.details["classes"] == ["linear", "linear", "non_linear"]
    assert res.statistic >= res.baseline


def test_basis_pursuit_recovers_what_single_layers_cannot():
    c = superposition_code(rng=0)
    res = decoder_ladder(c.H, c.X, W=c.W, rng=0)
    counts = res.details["counts"]
    assert counts["cs_recoverable"] >= 8, res.summary
    assert res.diagnosis == "compressed-sensing code"
    bp = res.details["r2"]["basis_pursuit"]
    assert np.all(bp >= np.nan_to_num(res.details["r2"]["linear"]) - 1e-9)


def test_frame_is_estimated_when_the_code_is_linear():
    c = superposition_code(rng=0)
    lad = fit_ladder(c.H, c.X, rungs=("basis_pursuit",))
    assert lad.frame_fit_r2 == pytest.approx(1.0)
    np.testing.assert_allclose(lad.frame, c.W, atol=1e-8)
    lad = fit_ladder(*(lambda c: (c.H, c.X))(product_code(rng=0)), rungs=("basis_pursuit",))
    assert (
        "basis_pursuit" not in lad.fitted
        and "not a linear measurement" in lad.notes["basis_pursuit"]
    )


def test_classify_features_follows_rung_order():
    r2 = {
        "linear": np.array([0.2, 0.2, 0.2]),
        "relu_linear": np.array([0.995, np.nan, 0.1]),
        "mlp": np.array([1.0, 0.999, 0.5]),
    }
    assert classify_features(r2, 0.99) == ["relu_linear", "non_linear", "not_recoverable"]
    assert list(FEATURE_CLASSES)[:4] == ["linear", "relu_linear", "cs_recoverable", "non_linear"]
    assert set(DECODERS) == {v for v in FEATURE_CLASSES.values() if v}


def test_fit_errors_and_not_applicable():
    c = rotation_code(rng=0)
    assert not decoder_ladder(c.H, None).applicable
    with pytest.raises(ValueError, match="rungs must be names"):
        fit_ladder(c.H, c.X, rungs=("magic",))
    with pytest.raises(ValueError, match="nonnegative"):
        fit_relu_linear(c.H, -c.X - 1)
    lad = fit_ladder(c.H, c.X, rungs=("linear",))
    with pytest.raises(ValueError, match="was not fitted"):
        lad.predict("mlp", c.H)


def test_read_out_gradients_name_mismatched_shapes():
    """Found by tests/test_fuzz.py: mismatched shapes gave numpy's matmul text, naming nothing."""
    Z, Y, w = np.zeros((5, 3)), np.zeros((5, 2)), np.ones(2)
    with pytest.raises(ValueError, match="V must have shape"):
        relu_linear_loss_grad(np.zeros((4, 2)), np.zeros(2), Z, Y, w)
    with pytest.raises(ValueError, match="Y must have one row per row of Z"):
        relu_linear_loss_grad(np.zeros((3, 2)), np.zeros(2), Z, Y[:4], w)
    with pytest.raises(ValueError, match="V1 must have"):
        mlp_loss_grad(np.zeros((4, 6)), np.zeros(6), np.zeros((6, 2)), np.zeros(2), Z, Y, w)
    with pytest.raises(ValueError, match="V2 must have shape"):
        mlp_loss_grad(np.zeros((3, 6)), np.zeros(6), np.zeros((5, 2)), np.zeros(2), Z, Y, w)


def test_classify_features_checks_its_table():
    with pytest.raises(TypeError, match="r2 must be a non-empty dict"):
        classify_features(object(), 0.9)
    with pytest.raises(ValueError, match="r2's keys must be rungs"):
        classify_features({"cubic": np.ones(2)}, 0.9)
    with pytest.raises(ValueError, match="the same length"):
        classify_features({"linear": np.ones(2), "mlp": np.ones(3)}, 0.9)
    with pytest.raises(ValueError, match="threshold"):
        classify_features({"linear": np.ones(2)}, float("nan"))
    # NaN marks a rung that does not apply to a feature: it never reaches the threshold
    assert classify_features({"linear": np.array([np.nan]), "mlp": np.array([1.0])}, 0.9) == [
        "non_linear"
    ]


def test_product_code_refuses_a_size_beyond_memory():
    from csuper._errors import MemoryBudgetError

    with pytest.raises(MemoryBudgetError, match="n_samples"):
        product_code(n_samples=10**30)


def test_mlp_width_is_checked_against_the_memory_budget_before_training(monkeypatch):
    # width=2**40 asked numpy for a 16 TiB array (a raw MemoryError, found by the huge-integer
    # probe); the estimate is now checked before any rung trains
    from csuper import MemoryBudgetError
    from csuper.diagnose import decoder_ladder, fit_ladder, fit_mlp

    monkeypatch.setenv("CSUPER_MEMORY_BUDGET", "64MiB")
    rng = np.random.default_rng(0)
    X = rng.random((60, 3))
    H = X @ rng.standard_normal((3, 4))
    with pytest.raises(MemoryBudgetError, match="width=1099511627776"):
        fit_mlp(H, X, width=2**40, n_steps=1, rng=0)
    import csuper.diagnose.decoders as decoders

    def no_training(*args, **kwargs):
        raise AssertionError("a rung trained before the MLP's memory was checked")

    monkeypatch.setattr(decoders, "fit_relu_linear", no_training)
    with pytest.raises(MemoryBudgetError, match="mlp_width=1099511627776"):
        fit_ladder(H, X, mlp_width=2**40, n_steps=1, rng=0)
    with pytest.raises(MemoryBudgetError, match="mlp_width=1099511627776"):
        decoder_ladder(H, X, mlp_width=2**40, n_steps=1, rng=0)
    fit_mlp(H, X, width=8, n_steps=1, rng=0)  # a width within the budget still trains
