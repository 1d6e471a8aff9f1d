"""csuper._norms.norm2 against an independent scaled norm (Python's ``math.hypot``, which is
correctly scaled for any finite input) at magnitudes where ``np.linalg.norm`` overflows or
underflows."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from csuper._norms import norm2, pow2_exponent, pow2_scale, unit_scaled

_finite = st.floats(-1e308, 1e308, allow_nan=False, allow_infinity=False, allow_subnormal=True)


@given(st.lists(_finite, min_size=1, max_size=12))
def test_norm2_matches_hypot(values):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = norm2(values)
    want = math.hypot(*values)
    assert got == pytest.approx(want, rel=1e-14, abs=0.0)


@pytest.mark.parametrize("scale", [1e200, 1e-200, 1e-310, 1e300])
def test_norm2_at_both_ends(scale):
    x = np.array([3.0, 4.0]) * scale
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert norm2(x) == pytest.approx(5.0 * scale, rel=1e-15, abs=0.0)
        cols = norm2(np.stack([x, [1.0, 0.0]], axis=1), axis=0)
    assert cols.tolist() == pytest.approx([5.0 * scale, 1.0], rel=1e-15, abs=0.0)


def test_norm2_axes_and_specials():
    X = np.arange(24.0).reshape(2, 3, 4) * 1e250
    for axis in range(3):
        want = np.apply_along_axis(lambda v: math.hypot(*v), axis, X)
        np.testing.assert_allclose(norm2(X, axis=axis), want, rtol=1e-14)
    assert norm2([0.0, 0.0]) == 0.0
    assert norm2([np.inf, 1.0]) == np.inf
    assert np.isnan(norm2([np.nan, 1.0]))
    # float32: squares of 1e30 overflow float32, the norm does not
    x32 = np.array([[3e30], [4e30]], dtype=np.float32)
    out = norm2(x32, axis=0)
    assert out.dtype == np.float32 and out[0] == pytest.approx(5e30, rel=1e-6)


def test_pow2_helpers():
    v = np.array([0.0, 3.0, 1e-310, 1e300])
    p = pow2_scale(v)
    assert np.all(np.isfinite(p))  # 1e-310 gave an inf factor (2**1030) before the cap
    assert np.all((v * p)[[1, 3]] >= 0.5) and np.all((v * p)[[1, 3]] < 1.0) and p[0] == 1.0
    assert 0.0 < v[2] * p[2] < 0.5
    x = np.array([[3.0, 0.0], [-1.0, 0.0]]) * 2.0**-1000
    np.testing.assert_array_equal(unit_scaled(x, axis=0), [[0.75, 0.0], [-0.25, 0.0]])
    assert pow2_exponent(0.75) == 0 and pow2_exponent(1.0) == 1
