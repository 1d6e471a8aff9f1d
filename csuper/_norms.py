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

__all__ = ["norm2", "unit_scaled"]


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
    bad = ~((r >= low) & (r < np.inf))
    if bad.any():
        r[bad] = _scaled(np.moveaxis(x, axis, -1)[bad])
    return r


def unit_scaled(x: Any) -> np.ndarray:
    """x times the power of two that brings max |x_i| into [0.5, 1) (exact, barring entries that
    fall below the dtype's normal range): the input for a scale-invariant quantity (cosines,
    coherence, D_i) whose squares must not overflow or underflow. A zero x is returned as is.

    Examples
    --------
    >>> print(unit_scaled(np.array([3.0, -1.0]) * 2.0**700))
    [ 0.75 -0.25]
    """
    x = np.asarray(x)
    _, e = np.frexp(np.max(np.abs(x), initial=0.0))
    return np.ldexp(x, -e).astype(x.dtype, copy=False)


def _scaled(rows: np.ndarray) -> np.ndarray:
    """Norms of the rows of a 2-D array, by an exact power-of-two scaling of each row."""
    rows = rows.astype(np.float64)
    _, e = np.frexp(np.max(np.abs(rows), axis=1, initial=0.0))
    with np.errstate(over="ignore", under="ignore"):
        return np.ldexp(np.linalg.norm(np.ldexp(rows, -e[:, None]), axis=1), e)
