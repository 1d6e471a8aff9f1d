"""The shared validators: every public function's errors go through them."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from csuper._validation import (
    check_array,
    check_frame,
    check_int,
    check_real,
    check_rng,
    format_interval,
)


def test_format_interval():
    assert format_interval(1, 5, True, False) == "[1, 5)"
    assert format_interval(None, 0.5, True, True) == "(-inf, 0.5]"
    assert format_interval(0, None) == "[0, inf)"


@pytest.mark.parametrize("bad", [1.0, "3", None, True, np.bool_(True), 2.5])
def test_check_int_rejects_non_integers(bad):
    with pytest.raises(TypeError, match="n_dims must be an integer"):
        check_int(bad, "n_dims", low=1)


def test_check_int_range_message_names_parameter_domain_and_value():
    with pytest.raises(ValueError, match=r"^n_dims must be an integer in \[1, 10\); got 10\.$"):
        check_int(10, "n_dims", low=1, high=10, high_inclusive=False)
    assert check_int(np.int64(3), "k", low=0) == 3
    assert type(check_int(np.int32(3), "k")) is int


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_check_real_rejects_non_finite(bad):
    with pytest.raises(ValueError, match="eps must be a real number"):
        check_real(bad, "eps")


def test_check_real_open_interval():
    for bad in (0.0, 1.0):
        with pytest.raises(ValueError, match=r"eps must be a real number in \(0, 1\); got"):
            check_real(bad, "eps", low=0.0, high=1.0, low_inclusive=False, high_inclusive=False)
    with pytest.raises(TypeError):
        check_real("0.5", "eps")
    assert check_real(np.float32(0.5), "eps") == 0.5


def test_check_array_dtype_shape_and_finiteness():
    assert check_array([[1, 2]], "A").dtype == np.float64
    assert check_array(np.ones(3, np.float32), "x").dtype == np.float32
    assert check_array(np.ones(3, np.float32), "x", dtype=np.float64).dtype == np.float64
    with pytest.raises(ValueError, match="A must be a 2-D array; got 1-D"):
        check_array([1.0, 2.0], "A", ndim=2)
    with pytest.raises(ValueError, match=r"y must have shape \(3\); got \(2,\)"):
        check_array([1.0, 2.0], "y", shape=(3,))
    with pytest.raises(ValueError, match="1 NaN or infinite"):
        check_array([1.0, np.nan], "y")
    with pytest.raises(ValueError, match="nonnegative"):
        check_array([1.0, -1.0], "x", nonnegative=True)
    with pytest.raises(TypeError, match="real numbers"):
        check_array(["a"], "x")
    with pytest.raises(TypeError, match="complex"):
        check_array([1j], "x")
    with pytest.raises(ValueError, match="at least 1 element"):
        check_array(np.zeros((0, 3)), "x")


def test_check_array_copy_is_independent():
    a = np.ones(3)
    b = check_array(a, "a", copy=True)
    b[0] = 5.0
    assert a[0] == 1.0
    assert check_array(a, "a") is a  # already valid: no copy


def test_check_frame():
    with pytest.raises(ValueError, match="zero column"):
        check_frame(np.array([[1.0, 0.0], [0.0, 0.0]]))
    assert check_frame(np.array([[1.0, 0.0], [0.0, 0.0]]), allow_zero_columns=True).shape == (2, 2)
    with pytest.raises(ValueError, match="at least 2 column"):
        check_frame(np.ones((3, 1)), min_columns=2)


@given(st.integers(0, 2**63 - 1))
def test_check_rng_same_seed_same_stream(seed):
    a = check_rng(seed).standard_normal(4)
    b = check_rng(seed).standard_normal(4)
    assert np.array_equal(a, b)


def test_check_rng_passes_generators_through_and_rejects_legacy():
    g = np.random.default_rng(1)
    assert check_rng(g) is g
    with pytest.raises(TypeError, match="RandomState"):
        check_rng(np.random.RandomState(0))
    with pytest.raises(TypeError):
        check_rng(1.5)
    with pytest.raises(ValueError, match=">= 0"):
        check_rng(-1)


def test_check_array_value_range():
    np.testing.assert_array_equal(check_array([0.0, 0.5, 1.0], "p", low=0, high=1), [0.0, 0.5, 1.0])
    with pytest.raises(ValueError, match=r"^p must lie in \[0, 1\]; got -0\.1\.$"):
        check_array([0.5, -0.1], "p", low=0, high=1)
    with pytest.raises(ValueError, match=r"^p must lie in \(-inf, 2\]; got 3\.0\.$"):
        check_array([[1.0, 3.0]], "p", high=2)
