"""Every public compare function on bad input (issue 11): wrong types, NaN, infinities, empty and
huge values raise ValueError or TypeError naming the parameter -- never a numpy or numba
traceback, a silent NaN or a hang."""

import inspect

import numpy as np
import pytest

import csuper.compare as compare

#: Valid arguments of each function (training functions have their own tests).
VALID = {
    "nonnegative_threshold": {"n_features": 50.0, "k": 5.0},
    "cs_capacity": {"n_dims": 10, "feature_probability": 0.05},
    "statistical_dimension_monte_carlo": {"n_features": 20, "k": 2, "n_samples": 20},
    "scaling_point": {"W": np.eye(2, 5), "feature_probability": 0.1},
    "fit_scaling": {
        "n_features": [50, 50, 50],
        "n_dims": [2, 4, 8],
        "k": [1.0, 1.0, 1.0],
        "represented": [4, 8, 16],
    },
    "decoder_gap": {
        "W": np.eye(3, 6),
        "b": np.zeros(6),
        "feature_probability": 0.2,
        "n_samples": 10,
        "n_fit_samples": 10,
        "decoders": ["relu"],
    },
    "recovered_features": {"W": np.eye(2, 4), "b": np.zeros(4), "feature_probability": 0.2},
    "quadratic_model_loss": {"W": np.eye(2, 3), "importance": [1.0, 0.5, 0.2], "kurtosis": 5.0},
    "quadratic_capacity_loss": {
        "capacity": [0.5, 0.5],
        "importance": [1.0, 0.5],
        "kurtosis": 5.0,
    },
    "quadratic_allocation": {"importance": [1.0, 0.5, 0.2], "kurtosis": 5.0, "n_dims": 1},
    "relu_capacity_loss": {
        "capacity": [0.5, 0.5],
        "importance": [1.0, 0.5],
        "feature_probability": [0.1, 0.1],
    },
    "relu_allocation": {
        "importance": [1.0, 0.5, 0.2],
        "feature_probability": [0.1, 0.1, 0.1],
        "n_dims": 1,
    },
    "capacity_agreement": {"learned": [1.0, 0.5, 0.0], "predicted": [0.9, 0.4, 0.1]},
    "locate_crossings": {"values": [0.0, 1.0, 2.0], "series": [0.0, 0.5, 1.0], "threshold": 0.7},
    "predicted_transition": {
        "n_features": 6,
        "n_dims": 2,
        "bracket": (0.01, 100.0),
        "transition": "superposed_to_own",
    },
}

BAD = {
    "nan": np.nan,
    "inf": np.inf,
    "string": "abc",
    "empty": [],
    "huge": 2**70,
    "object": object(),
}


def test_every_public_function_is_covered():
    functions = {
        name
        for name in compare.__all__
        if inspect.isfunction(getattr(compare, name))
        and name
        not in (
            "transition_scan",
            "locate_transition",
            "hysteresis_legs",
            "train_quadratic_model",
            "compare_capacities",
            "scaling_points",
        )
    }
    assert functions == set(VALID)


CASES = [
    (fn, param, bad)
    for fn, kwargs in VALID.items()
    for param in kwargs
    for bad in BAD
    if not (param == "decoders" and bad == "empty")
]


@pytest.mark.parametrize("fn, param, bad", CASES)
def test_bad_value_is_named(fn, param, bad):
    kwargs = dict(VALID[fn])
    kwargs[param] = BAD[bad]
    func = getattr(compare, fn)
    try:
        out = func(**kwargs)
    except (ValueError, TypeError) as exc:
        message = str(exc)
        assert param in message or param.rstrip("s") in message, (fn, param, message)
        return
    # accepted: only a huge value may be valid (e.g. a huge k is out of range, but a huge
    # n_features is a legitimate real), and then the result is finite
    assert bad == "huge", (fn, param, bad, out)
    values = np.asarray(out if not hasattr(out, "__dict__") else 0.0, dtype=float)
    assert np.all(np.isfinite(values)), (fn, param, out)


def test_valid_arguments_run():
    for fn, kwargs in VALID.items():
        getattr(compare, fn)(**kwargs)


# ---------------------------------------------------------------------------------------------
# Regressions of the fuzz suite's nightly findings


def test_decoder_gap_refuses_weights_whose_read_out_overflows():
    """The decoders' arithmetic grows like abs(W)^6 (formerly a raw OverflowError or NaN)."""
    W = np.array([[1.0, 0.5, 0.0], [0.0, 0.5, 1.0]])
    with pytest.raises(ValueError, match="W must lie in"):
        compare.decoder_gap(1e300 * W, np.zeros(3), 0.3, n_samples=5, n_fit_samples=5, rng=0)
    with pytest.raises(ValueError, match="b must lie in"):
        compare.decoder_gap(W, np.full(3, 1e300), 0.3, n_samples=5, n_fit_samples=5, rng=0)


def test_decoder_gap_has_no_nan_at_the_edges_of_its_domain():
    """Nightly fuzz findings: n_samples = 1 left every relative_mse_se NaN (no standard error from
    one sample), and weights of 1e100 (then allowed) overflowed the squared errors and the ISTA
    and re-fit arithmetic into NaN. Both are refused now; at the largest allowed scale (1e30,
    the bias too) and at tiny scales every number of the result is finite."""
    W = np.array([[1.0, 0.5, 0.0], [0.0, 0.5, 1.0]])
    with pytest.raises(ValueError, match=r"n_samples must be an integer in \[2, "):
        compare.decoder_gap(W, np.zeros(3), 0.3, n_samples=1, rng=0)
    with pytest.raises(ValueError, match="W must lie in"):
        compare.decoder_gap(1e100 * W, np.zeros(3), 0.3, n_samples=5, n_fit_samples=5, rng=0)
    for scale, bias in ((1e30, 1e30), (-1e30, 0.0), (1e-300, 0.0)):
        res = compare.decoder_gap(
            scale * W,
            np.full(3, bias),
            0.3,
            n_samples=2,
            n_fit_samples=5,
            decoders=tuple(compare.DECODERS),
            rng=0,
        )
        for s in res.scores:
            numbers = [s.relative_mse, s.relative_mse_se, s.exact_rate, s.exact_se]
            numbers += [row["relative_mse"] for row in s.by_active]
            assert np.all(np.isfinite(numbers)), (scale, s)
        assert np.all(np.isfinite(list(res.frame_coherence.values()))), scale


def test_recovered_features_refuses_weights_whose_errors_overflow():
    """Nightly fuzz: b ~ 1e299 or W ~ 1e100 squared the read-out errors into inf - inf = NaN;
    the bound is decoder_gap's (1e30), at which every explained variance is finite."""
    W = np.array([[1.0, 0.0, 0.6], [0.0, 1.0, 0.8]])
    with pytest.raises(ValueError, match="b must lie in"):
        compare.recovered_features(W, np.full(3, 1e299), 0.5, n_samples_per_feature=4, rng=0)
    with pytest.raises(ValueError, match="W must lie in"):
        compare.recovered_features(1e100 * W, np.zeros(3), 0.5, n_samples_per_feature=4, rng=0)
    for scale, bias in ((1e30, 1e30), (1e30, -1e30), (1e-300, 0.0)):
        rec = compare.recovered_features(
            scale * W, np.full(3, bias), 0.5, n_samples_per_feature=4, rng=0
        )
        assert np.isfinite(rec.explained_variance).all(), (scale, bias)


def test_decoder_gap_keeps_tiny_columns_alive():
    """Columns of norm ~1e-300 are features (their norms used to underflow to 0, which dropped
    them from the coherence): the coherence is that of W itself."""
    from csuper.geometry import coherence

    W = np.array([[1.0, 0.5, 0.0], [0.0, 0.5, 1.0]])
    res = compare.decoder_gap(
        1e-300 * W, np.zeros(3), 0.3, decoders=["relu"], n_samples=5, n_fit_samples=5, rng=0
    )
    assert res.frame_coherence["learned"] == pytest.approx(coherence(W))


NOT_ARRAYS = {"ragged": [[1, 2], [3]], "string": "abc", "dict": {"a": 1}, "object": object()}


@pytest.mark.parametrize("bad", NOT_ARRAYS.values(), ids=NOT_ARRAYS.keys())
def test_represented_mask_not_an_array_names_it(bad):
    # capacity_agreement took np.asarray(represented) before any validator
    with pytest.raises((ValueError, TypeError), match=r"^represented ") as info:
        compare.capacity_agreement([0.5, 0.2], [0.4, 0.3], represented=bad)
    assert "inhomogeneous" not in str(info.value)
