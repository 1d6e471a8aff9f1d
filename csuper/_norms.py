"""Euclidean norms whose squares neither overflow nor underflow (the one way csuper takes a
2-norm of user-scaled values).

``np.linalg.norm`` squares before it sums: a vector of entries 1e200 has norm inf (with an
overflow warning) and one of entries 1e-200 has norm 0, although both norms are representable.
:func:`norm2` takes numpy's norm where it is exact and recomputes the rest after an exact
power-of-two scaling by the largest entry (the LAPACK ``dnrm2`` idea), so the normal path costs
one ``np.linalg.norm`` and one comparison.
"""

from __future__ import annotations

from typing import Any, overload

import numpy as np

__all__ = ["norm2", "pow2_exponent", "pow2_scale", "unit_scaled"]


@overload
def norm2(x: Any, axis: None = None) -> float: ...
@overload
def norm2(x: Any, axis: int) -> np.ndarray: ...
def norm2(x: Any, axis: int | None = None) -> float | np.ndarray:
    """||x||_2 over all entries (``axis=None``: a float) or along ``axis`` (an array).

    Parameters
    ----------
    x : array_like of float
    axis : int or None

    Returns
    -------
    float or ndarray
        In x's float dtype; inf only when the norm itself exceeds the dtype's range, or x holds
        an infinite entry; NaN where x holds a NaN.

    Notes
    -----
    Where numpy's sum of squares is finite and at least ``tiny / eps`` (the smallest normal
    number over the machine epsilon) it is exact to rounding: every square that underflowed is
    below ``eps`` times the sum. Elsewhere (an overflow to inf, a norm near or below
    ``sqrt(tiny)``, a zero) the line is recomputed as ``2**e ||2**(-e) x||_2`` with
    ``2**(e-1) <= max |x_i| < 2**e``, in float64.

    Examples
    --------
    >>> print(f"{norm2([3e200, 4e200]):.6g} {norm2([3e-200, 4e-200]):.6g}")
    5e+200 5e-200
    >>> print(norm2([[3e200, 0.0], [4e200, 1e-300]], axis=0))
    [5.e+200 1.e-300]
    """
    x = np.asarray(x)
    if not np.issubdtype(x.dtype, np.floating):
        x = x.astype(np.float64)
    finfo = np.finfo(x.dtype)
    low = float(np.sqrt(finfo.tiny / finfo.eps))
    with np.errstate(over="ignore", under="ignore"):
        r = np.linalg.norm(x, axis=axis)
    if axis is None:
        if low <= r < np.inf:
            return float(r)
        return float(_scaled(x.reshape(1, -1))[0])
    out = np.asarray(r)
    bad = ~((out >= low) & (out < np.inf))
    if bad.any():
        out[bad] = _scaled(np.moveaxis(x, axis, -1)[bad])
    return out


def pow2_exponent(values: Any) -> Any:
    """For each value v the integer e with ``2**(e-1) <= |v| < 2**e`` (0 where v is 0, inf or
    NaN): ``np.ldexp(x, -e)`` then brings x to a largest entry in [0.5, 1), exactly."""
    return np.frexp(np.asarray(values, dtype=np.float64))[1]


def pow2_scale(values: Any) -> Any:
    """For each value v > 0 the power of two p with ``v p`` in [0.5, 1); 1 where v == 0.

    Multiplying by a power of two is exact in floating point (barring underflow), so a problem
    scaled by these factors is the same problem, and unscaling its answer adds no rounding. For
    a subnormal v (below about 2.2e-308) p is capped at 2**1022, the largest power of two
    whose reciprocal is a normal number, so ``v p`` is finite though below 0.5.
    """
    v = np.asarray(values, dtype=np.float64)
    e = np.maximum(pow2_exponent(v), -1022)
    return np.where(v > 0, np.ldexp(1.0, -e), 1.0)


def unit_scaled(x: Any, axis: int | None = None) -> np.ndarray:
    """x times the power of two that brings max |x_i| into [0.5, 1), over all of x or along
    ``axis`` (``axis=0``: each column by its own). Exact (barring entries that fall below the
    dtype's normal range), so that a scale-invariant quantity (cosines, correlations,
    coherence, D_i) computed from it is bit for bit the one from x wherever x's squares stayed
    in range, and finite and accurate where they did not. A zero x (or line) is returned as is.

    Examples
    --------
    >>> print(unit_scaled(np.array([3.0, -1.0]) * 2.0**700))
    [ 0.75 -0.25]
    >>> print(unit_scaled(np.array([[3.0, 1.0], [1.0, -3.0]]) * [2.0**-990, 1.0], axis=0))
    [[ 0.75  0.25]
     [ 0.25 -0.75]]
    """
    x = np.asarray(x)
    top = np.max(np.abs(x), axis=axis, keepdims=True, initial=0.0)
    return np.ldexp(x, -pow2_exponent(top)).astype(x.dtype, copy=False)


def _scaled(rows: np.ndarray) -> np.ndarray:
    """Norms of the rows of a 2-D array, by an exact power-of-two scaling of each row."""
    rows = rows.astype(np.float64)
    _, e = np.frexp(np.max(np.abs(rows), axis=1, initial=0.0))
    with np.errstate(over="ignore", under="ignore"):
        return np.ldexp(np.linalg.norm(np.ldexp(rows, -e[:, None]), axis=1), e)
