"""Private helpers shared by :mod:`csuper.geometry.laws` and :mod:`csuper.geometry.bounds`.

Validation of integer sizes and of levels in (0, 1) (scalars or arrays), and the law of
``t = <u, v>`` for u, v independent and uniform on S^(d-1): its two-sided tail and its even moments
with a certified relative error. Arrays in, arrays out.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from csuper._lazy import lazy_import
from csuper._validation import check_array, check_int, check_real

special = lazy_import("scipy.special")


#: Largest integer size accepted by the geometry functions: every integer up to 2**53 is exact in
#: float64, the arithmetic of the bounds and laws.
MAX_INT = 2**53

_ULP = 2.0**-53


def int_param(value: Any, name: str, low: int, high: int = MAX_INT) -> tuple[np.ndarray, bool]:
    """Validate an integer scalar or an array of integers in [low, high]; return (int64 array,
    is_scalar)."""
    if not isinstance(value, (list, tuple, np.ndarray)):
        return np.asarray(check_int(value, name, low=low, high=high), dtype=np.int64), True
    try:
        arr = np.asarray(value)
    except (ValueError, TypeError):  # ragged nested sequences
        raise ValueError(
            f"{name} must be an integer or a rectangular array of integers (every row the same "
            "length); got a ragged nested sequence."
        ) from None
    if arr.dtype == np.bool_ or not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(
            f"{name} must be an integer or an array of integers; got dtype {arr.dtype}."
        )
    if arr.size == 0:
        raise ValueError(f"{name} must have at least 1 element(s); got shape {arr.shape}.")
    bad = (arr < low) | (arr > high)
    if bad.any():
        raise ValueError(
            f"{name} must contain integers in [{low}, {high}]; got {int(arr[bad].flat[0])}."
        )
    return arr.astype(np.int64), False


def level_values(x: Any, name: str = "eps") -> tuple[np.ndarray, bool]:
    """Validate a real scalar or array with every entry in the open interval (0, 1)."""
    if isinstance(x, (int, float, np.number, bool, np.bool_, str)) or x is None:
        v = check_real(x, name, low=0.0, high=1.0, low_inclusive=False, high_inclusive=False)
        return np.asarray(v), True
    arr = check_array(x, name, dtype=np.float64)
    bad = (arr <= 0.0) | (arr >= 1.0)
    if bad.any():
        first = float(arr[bad].flat[0])
        raise ValueError(f"{name} must contain real numbers in (0, 1); got {first!r}.")
    return arr, False


def beyond_gerzon(n: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Exactly ``n > d (d + 1) / 2`` for int64 arrays with entries at most :data:`MAX_INT`.

    d (d + 1) would overflow int64 for d > 3e9; there d (d + 1) / 2 > 2**61 > n anyway.
    """
    small = np.minimum(d, 2**31)
    return (d < 2**31) & (n > small * (small + 1) // 2)


def abs_tail(eps: Any, n_dims: Any) -> np.ndarray:
    """P(|<u, v>| >= eps), u, v uniform on S^(n_dims-1), 0 <= eps <= 1 (1 for n_dims = 1);
    broadcasts."""
    e = np.asarray(eps, dtype=np.float64)
    d = np.asarray(n_dims, dtype=np.float64)
    a = np.maximum((d - 1.0) / 2.0, 0.5)  # n_dims = 1 has no density; handled by the where below
    # t^2 ~ Beta(1/2, (d-1)/2), so P(t^2 >= eps^2) = I_{1-eps^2}((d-1)/2, 1/2).
    tail = special.betainc(a, 0.5, np.clip(1.0 - e * e, 0.0, 1.0))
    return np.where(d <= 1, 1.0, tail)


#: Below this the tail is taken in log space (its reciprocal would overflow a float64 count).
TINY_TAIL = 1e-300


def log_abs_tail(eps: Any, n_dims: Any) -> np.ndarray:
    """ln P(|<u, v>| >= eps) for u, v uniform on S^(n_dims-1), finite where the tail underflows
    float64 (:func:`abs_tail` below :data:`TINY_TAIL`); broadcasts.

    With x = 1 - eps^2, a = (d - 1)/2, b = 1/2 the tail is I_x(a, b) = x^a (1 - x)^b / (a B(a, b))
    * K, K the continued fraction of the incomplete beta function (Numerical Recipes, 3rd ed.,
    section 6.4; modified Lentz), which converges quickly for x < (a + 1)/(a + b + 2), i.e.
    eps^2 > 1.5/(a + 2.5): every case where the tail is that small (it is at least about
    exp(-a eps^2))."""
    e, d = np.broadcast_arrays(np.asarray(eps, dtype=np.float64), np.asarray(n_dims, np.float64))
    tail = abs_tail(e, d)
    with np.errstate(divide="ignore"):
        out = np.log(tail).reshape(-1)
    e, d = e.reshape(-1), d.reshape(-1)
    for j in np.flatnonzero(tail.reshape(-1) < TINY_TAIL):
        a, x = (d[j] - 1.0) / 2.0, 1.0 - e[j] * e[j]
        out[j] = (
            a * np.log(x)
            + np.log(e[j])
            - np.log(a)
            - special.betaln(a, 0.5)
            + np.log(_beta_fraction(a, 0.5, x))
        )
    return out.reshape(tail.shape)


def _beta_fraction(a: float, b: float, x: float) -> float:
    """The continued fraction K of I_x(a, b) (modified Lentz, relative tolerance 1e-15)."""
    tiny = 1e-300
    c, dd = 1.0, 1.0 - (a + b) * x / (a + 1.0)
    dd = 1.0 / (dd if abs(dd) > tiny else tiny)
    h = dd
    for k in range(1, 10_000):
        m2 = 2 * k
        for num in (
            k * (b - k) * x / ((a + m2 - 1.0) * (a + m2)),
            -(a + k) * (a + b + k) * x / ((a + m2) * (a + m2 + 1.0)),
        ):
            dd = 1.0 + num * dd
            dd = 1.0 / (dd if abs(dd) > tiny else tiny)
            c = 1.0 + num / c
            c = c if abs(c) > tiny else tiny
            h *= dd * c
        if abs(dd * c - 1.0) < 1e-15:
            break
    return h


_PRODUCT_ORDERS = 256


def even_moment(k: int, n_dims: Any) -> tuple[np.ndarray, np.ndarray]:
    """``c_k = E <u, v>^(2k) = (1/2)_k / (d/2)_k = prod_{j<k} (2j+1)/(d+2j)`` and a bound on its
    relative rounding error; broadcasts over ``n_dims``.

    For k <= 256 the product is formed directly: relative error at most (3k + 2) 2^-53 for every
    d (each factor costs at most three roundings). Beyond, log-gamma differences are used,
    whose absolute error in the logarithm is a few ulps of the largest log-gamma value (scipy's
    gammaln): the bound returned is 8 ulps of their sum. ``c_k (1 - rtol)`` is then a certified
    lower estimate, which is what the Welch bounds and their inversions use (a slightly weaker
    bound is still a bound; a slightly stronger one would be wrong).
    """
    d = np.asarray(n_dims, dtype=np.float64)
    if k <= _PRODUCT_ORDERS:
        out = np.ones_like(d)
        for j in range(k):
            out = out * ((2.0 * j + 1.0) / (d + 2.0 * j))
        return out, np.full(d.shape, (3.0 * k + 2.0) * _ULP)
    kk = float(k)
    terms = (
        special.gammaln(kk + 0.5),
        special.gammaln(0.5),
        special.gammaln(kk + d / 2.0),
        special.gammaln(d / 2.0),
    )
    c = np.exp(terms[0] - terms[1] - terms[2] + terms[3])
    rtol = 8.0 * _ULP * (sum(np.abs(t) for t in terms) + 1.0)
    return c, np.minimum(rtol, 1.0)


def even_moment_lower(k: int, n_dims: Any) -> np.ndarray:
    """A certified lower estimate ``c_k (1 - rtol)`` of :func:`even_moment`."""
    c, rtol = even_moment(k, n_dims)
    return c * (1.0 - rtol)
