"""Every public function of csuper.toy against bad arguments (issue 11): wrong types, NaN and
inf, empty arrays, huge integers, wrong dtype and ndim. Each must raise ValueError or TypeError
(MemoryError subclasses that are ValueErrors count) whose message names the parameter, and
never run with the bad value, return NaN or leak a numba or numpy message.

The table gives, for each callable, one valid call and the parameters to break; the bad values
are drawn from the parameter's kind."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import csuper.toy as toy

D5 = toy.feature_distribution(5, 0.2)
W25 = np.array([[1.0, 0.0, 0.5, -0.2, 0.0], [0.0, 1.0, 0.5, 0.3, 0.1]])
W35 = np.vstack([W25, np.ones(5)])
MODEL = toy.from_weights(W25)
FAST = toy.TrainSettings(n_steps=3, batch_size=8)

BAD = {
    "int": [2.5, "3", None, True, np.nan, -1, 0, 2**63],
    "real": ["x", None, np.nan, np.inf, -np.inf, 1e308 * 10, True],
    "prob": ["x", None, np.nan, -0.5, 1.5],
    "array": ["x", None, [], np.array([np.nan]), np.ones((2, 2, 2, 2)), [1 + 2j], object()],
    "bool": ["no", 1, None, np.float64(1.0)],
    "choice": ["nope", 3, None, ""],
    "dist": [0.1, "d", None, np.ones(5)],
    "settings": ["fast", 3, {"n_steps": 3}],
    "rng": ["seed", 1.5, -1, np.random.RandomState(0)],
    "path": [3, None, 2.0, ["a"]],
    "model": ["m", 3, None, W25],
    "axes": [3, "ax", W25],
    "title": [3, ["t"]],
}

#: callable -> (valid keyword arguments, {parameter: kind}); positional parameters are passed by
#: keyword too.
CASES = {
    "feature_distribution": (
        dict(n_features=5, feature_probability=0.2),
        {
            "n_features": "int",
            "feature_probability": "array",
            "magnitude": "choice",
            "correlated": "array",
            "anticorrelated": "array",
        },
    ),
    "importance_profile": (
        dict(n_features=4, kind="geometric"),
        {"n_features": "int", "kind": "choice", "ratio": "prob", "alpha": "real"},
    ),
    "power_law_probabilities": (
        dict(n_features=4, alpha=0.5),
        {"n_features": "int", "alpha": "real", "p_max": "prob", "total": "real"},
    ),
    "sample_features": (
        dict(dist=D5, n_samples=10),
        {"dist": "dist", "n_samples": "int", "rng": "rng"},
    ),
    "train": (
        dict(distribution=D5, n_dims=2, settings=FAST, rng=0),
        {
            "distribution": "dist",
            "n_dims": "int",
            "importance": "array",
            "settings": "settings",
            "n_seeds": "int",
            "seeds": "array",
            "parallel": "bool",
            "rng": "rng",
            "progress": "bool",
        },
    ),
    "toy_forward": (
        dict(W=W25, b=np.zeros(5), X=np.ones((3, 5))),
        {"W": "array", "b": "array", "X": "array", "model": "choice"},
    ),
    "toy_loss": (
        dict(W=W25, b=np.zeros(5), X=np.ones((3, 5))),
        {"W": "array", "b": "array", "X": "array", "importance": "array", "model": "choice"},
    ),
    "from_weights": (
        dict(W=W25),
        {
            "W": "array",
            "b": "array",
            "model": "choice",
            "layout": "choice",
            "importance": "array",
            "feature_probability": "array",
        },
    ),
    "save_model": (dict(model=MODEL, path=None), {"model": "model", "path": "path"}),
    "load_model": (dict(path=None), {"path": "path"}),
    "learning_rates": (dict(settings=FAST), {"settings": "settings"}),
    "coactivation_matrix": (dict(distribution=D5), {"distribution": "dist"}),
    "interference_penalty": (
        dict(W=W25, distribution=D5),
        {"W": "array", "distribution": "dist", "coactivation_weighted": "bool"},
    ),
    "feature_norms": (dict(W=W25), {"W": "array"}),
    "represented_count": (dict(W=W25), {"W": "array", "represented_threshold": "real"}),
    "dimensions_per_feature": (dict(W=W25), {"W": "array"}),
    "feature_interference": (dict(W=W25), {"W": "array"}),
    "detect_polytopes": (
        dict(W=W25),
        {"W": "array", "represented_threshold": "real", "tol": "prob", "regularity_tol": "real"},
    ),
    "neuron_polysemanticity": (dict(W=W35), {"W": "array", "weight_threshold": "real"}),
    "dense_limit_loss": (
        dict(importance=np.ones(5), n_dims=2),
        {"importance": "array", "n_dims": "int", "magnitude": "choice"},
    ),
    "plot_feature_geometry": (
        dict(W=W25),
        {"W": "array", "importance": "array", "ax": "axes", "title": "title"},
    ),
    "plot_gram": (dict(W=W25), {"W": "array", "ax": "axes", "title": "title"}),
    "plot_dimensionality": (
        dict(models_W=np.stack([W25, W25]), feature_probability=[0.5, 0.1]),
        {"models_W": "array", "feature_probability": "array", "ax": "axes"},
    ),
}

#: Values that are valid for a parameter although its kind lists them as bad.
VALID = {
    ("power_law_probabilities", "total"): [None],
    ("train", "importance"): [None],
    ("train", "seeds"): [None],
    ("train", "parallel"): [None],
    ("train", "rng"): [None],
    ("sample_features", "rng"): [None],
    ("from_weights", "b"): [None],
    ("from_weights", "importance"): [None],
    ("from_weights", "feature_probability"): [None],
    ("toy_loss", "importance"): [None],
    ("plot_feature_geometry", "importance"): [None],
    ("interference_penalty", "distribution"): [],
    ("feature_distribution", "correlated"): [None, []],
    ("feature_distribution", "anticorrelated"): [None, []],
    ("importance_profile", "alpha"): [True],
    ("importance_profile", "ratio"): [],
    ("importance_profile", "kind"): [],
}

#: Names a message may use for a parameter (the documented alias).
ALIASES = {"dist": ("dist", "FeatureDistribution"), "distribution": ("distribution",)}


def _expand():
    for name, (valid, params) in CASES.items():
        for param, kind in params.items():
            for j, value in enumerate(BAD[kind]):
                if any(
                    value is v or (isinstance(v, list) and isinstance(value, list) and v == value)
                    for v in VALID.get((name, param), [])
                ):
                    continue
                yield pytest.param(name, valid, param, value, id=f"{name}-{param}-{j}")


def test_every_public_function_is_fuzzed():
    public = {n for n in toy.__all__ if inspect.isfunction(getattr(toy, n))}
    assert public <= set(CASES), f"add to CASES: {sorted(public - set(CASES))}"


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("name, valid, param, value", list(_expand()))
def test_bad_argument_is_refused_naming_it(name, valid, param, value, tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    fn = getattr(toy, name)
    kwargs = dict(valid)
    if "path" in kwargs:
        kwargs["path"] = tmp_path / "m.npz"
        toy.save_model(MODEL, kwargs["path"])
    kwargs[param] = value
    if name == "interference_penalty" and param == "coactivation_weighted":
        kwargs["distribution"] = D5
    with pytest.raises((ValueError, TypeError)) as err:
        out = fn(**kwargs)
        if isinstance(out, np.ndarray) and np.isnan(out).any():
            raise AssertionError(f"{name} returned NaN for {param}={value!r}")
    message = str(err.value)
    names = ALIASES.get(param, (param,))
    assert any(p in message for p in names), f"{name}({param}={value!r}): {message}"
    assert "numba" not in message.lower() and "Traceback" not in message
    import matplotlib.pyplot as plt

    plt.close("all")


# ---------------------------------------------------------------------------------------------
# Regressions of the fuzz suite's findings (tests/test_fuzz.py: KNOWN/PINNED_FAILURES, nightly)


def test_save_model_refuses_a_folder(tmp_path):
    with pytest.raises(ValueError, match=r"path: .* is a folder"):
        toy.save_model(MODEL, tmp_path)


def test_load_model_refuses_an_empty_path():
    with pytest.raises(ValueError, match="path must be a non-empty path"):
        toy.load_model("")


def test_dense_limit_loss_refuses_an_unhashable_magnitude():
    with pytest.raises(ValueError, match="magnitude must be one of"):
        toy.dense_limit_loss([1.0, 0.5, 0.2], 1, ["lines"])


@pytest.mark.parametrize("scale", [1e-300, 1e300])
def test_neuron_polysemanticity_is_scale_free(scale):
    """monosemanticity = max_i W+[k, i]^2 / sum_i W+[k, i]^2 does not change under W -> c W:
    no NaN from overflow (1e300) and no live neuron called dead by underflow (1e-300)."""
    W = np.array([[1.0, -1.0, 0.5], [1.0, 1.0, 0.0], [-1.0, 0.0, -2.0]])
    ref = toy.neuron_polysemanticity(W, weight_threshold=0.0)
    got = toy.neuron_polysemanticity(scale * W, weight_threshold=0.0)
    np.testing.assert_allclose(got.monosemanticity, ref.monosemanticity, rtol=1e-12)
    np.testing.assert_allclose(ref.monosemanticity, [1 / 1.25, 0.5, 0.0])  # closed form
    assert got.dead.tolist() == ref.dead.tolist() == [False, False, True]
