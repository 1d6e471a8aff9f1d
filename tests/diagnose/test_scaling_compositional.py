"""The scaling test and the additive factorisation test on their known answers."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from csuper.diagnose import (
    COMPOSITIONAL_CODES,
    additivity,
    antipodal_code,
    compositional_code,
    interaction_fraction,
    magnitude_code,
    rotation_code,
    scale_invariance,
    superposition_code,
)


@pytest.mark.parametrize("build", [rotation_code, superposition_code, antipodal_code])
def test_directions_keep_their_identity(build):
    c = build(rng=2)
    res = scale_invariance(c.H, c.X, rng=0)
    assert res.diagnosis == "scale-invariant", res.summary
    assert res.statistic > res.baseline


def test_magnitude_code_changes_identity():
    c = magnitude_code(rng=2)
    res = scale_invariance(c.H, c.X, rng=0)
    assert res.diagnosis == "magnitude-coded", res.summary
    assert res.details["identity_accuracy"] > 0.95


def test_scaling_validation():
    c = rotation_code(rng=0)
    assert not scale_invariance(c.H, None).applicable
    assert not scale_invariance(c.H, c.X[:, :1]).applicable
    with pytest.raises(ValueError, match="differ from 1"):
        scale_invariance(c.H, c.X, scales=[1.0])


@given(st.integers(2, 6), st.integers(2, 6))
def test_local_code_interaction_closed_form(A, B):
    # one-hot items: (A - 1)(B - 1) of the A B - 1 table dimensions are interaction
    M = np.eye(A * B).reshape(A, B, A * B)
    assert interaction_fraction(M) == pytest.approx((A - 1) * (B - 1) / (A * B - 1))


@given(st.integers(0, 2**31))
def test_additive_codes_have_no_interaction(seed):
    rng = np.random.default_rng(seed)
    a, b = rng.standard_normal((3, 5)), rng.standard_normal((4, 5))
    M = a[:, None, :] + b[None, :, :]
    assert interaction_fraction(M) == pytest.approx(0.0, abs=1e-12)
    G = rng.standard_normal((3, 4, 5))  # adding an additive code never changes the interaction
    assert interaction_fraction(G + M) * np.sum((G + M - (G + M).mean((0, 1))) ** 2) == (
        pytest.approx(interaction_fraction(G) * np.sum((G - G.mean((0, 1))) ** 2))
    )


@pytest.mark.parametrize("kind", list(COMPOSITIONAL_CODES))
def test_compositional_codes(kind):
    c = compositional_code(kind)
    res = additivity(c.H, c.factors, rng=0)
    assert res.diagnosis == c.expected["additivity"], res.summary
    neurons, additive = COMPOSITIONAL_CODES[kind]
    assert c.n_dims == neurons
    assert res.details["n_items"] == 16
    assert (res.details["items_per_dimension"] > 1) == (neurons < 16)
    if not additive:
        assert res.details["p_value"] <= 1.0  # reported
    else:
        assert res.details["p_value"] < 0.01  # far below the shuffled cells


def test_local_code_is_exactly_nine_fifteenths():
    c = compositional_code("local")
    assert additivity(c.H, c.factors, rng=0).statistic == pytest.approx(0.6)


def test_additivity_validation():
    c = compositional_code("local")
    assert not additivity(c.H, None).applicable
    assert not additivity(c.H[:10], c.factors[:10]).applicable  # missing combinations
    with pytest.raises(ValueError, match="integer array of shape"):
        additivity(c.H, c.factors.astype(float))
    with pytest.raises(ValueError, match="nonnegative"):
        additivity(c.H, -c.factors)
    with pytest.raises(ValueError, match="kind"):
        compositional_code("ternary")


NOT_ARRAYS = {"ragged": [[1, 2], [3]], "string": "abc", "dict": {"a": 1}, "object": object()}


@pytest.mark.parametrize("bad", NOT_ARRAYS.values(), ids=NOT_ARRAYS.keys())
def test_additivity_factors_not_an_array_names_them(bad):
    # np.asarray(factors) ran before any validator
    with pytest.raises((ValueError, TypeError), match=r"^factors ") as info:
        additivity(np.eye(4), bad, rng=0)
    assert "inhomogeneous" not in str(info.value)
