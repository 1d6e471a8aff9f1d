"""Hypothesis strategies and property checkers for csuper's claims and for users' own tests.

Like PyLops' ``dottest``, these ship as library code: a user who writes a new frame construction
or a new solver can property-test it with the same generators and checks csuper uses itself.

Requires hypothesis (``pip install "csuper[test]"``).

Examples
--------
>>> from hypothesis import given
>>> from csuper.testing import unit_norm_frames
>>> @given(unit_norm_frames(n_dims=(2, 4), n_features=(2, 6)))
... def test_columns_are_unit(W):
...     assert np.allclose(np.linalg.norm(W, axis=0), 1.0)
>>> test_columns_are_unit()
"""

from __future__ import annotations

try:
    from hypothesis import assume
    from hypothesis import strategies as st
    from hypothesis.extra import numpy as hnp
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        'csuper.testing needs hypothesis; install it with: pip install "csuper[test]"'
    ) from exc

from typing import Any

import numpy as np

from csuper._validation import check_bool, check_frame, check_int, check_real

__all__ = [
    "unit_norm_frames",
    "frames",
    "sparse_nonnegative_signals",
    "sparse_signals",
    "point_clouds",
    "orthogonal_matrices",
    "assert_jl_distortion",
    "assert_no_frame_beats_bound",
]

_MIN_NORM = 1e-3
#: Largest size a strategy draws (beyond it examples would be slow and hypothesis would shrink
#: them poorly).
_MAX_SIZE = 10_000


def _dims(spec: Any, name: str, low: int = 1) -> tuple[int, int]:
    """Validate a size given as an int or an inclusive (low, high) range; return (lo, hi)."""
    if isinstance(spec, (tuple, list)):
        if len(spec) != 2:
            raise ValueError(
                f"{name} must be an integer or a (low, high) pair; got {len(spec)} values."
            )
        lo = check_int(spec[0], f"{name}[0]", low=low, high=_MAX_SIZE)
        hi = check_int(spec[1], f"{name}[1]", low=lo, high=_MAX_SIZE)
        return lo, hi
    value = check_int(spec, name, low=low, high=_MAX_SIZE)
    return value, value


def _sizes(lo_hi: tuple[int, int]) -> st.SearchStrategy[int]:
    lo, hi = lo_hi
    return st.just(lo) if lo == hi else st.integers(lo, hi)


def _uniform_matrix(shape: tuple[int, int]) -> st.SearchStrategy[np.ndarray]:
    """Matrices with entries uniform-like in [-1, 1] (floats drawn by hypothesis)."""
    elements = st.floats(-1.0, 1.0, allow_nan=False, allow_infinity=False, width=64)
    return hnp.arrays(np.float64, shape, elements=elements)


@st.composite
def _frames(draw, m_range, n_range, min_column_norm):
    m = draw(_sizes(m_range))
    n = draw(_sizes(n_range))
    W = draw(_uniform_matrix((m, n)))
    assume(np.all(np.linalg.norm(W, axis=0) >= min_column_norm))
    return W


def frames(
    n_dims: int | tuple[int, int] = (2, 8),
    n_features: int | tuple[int, int] = (2, 16),
    min_column_norm: float = _MIN_NORM,
) -> st.SearchStrategy[np.ndarray]:
    """Frames W of shape (m, n) with entries in [-1, 1] and no column shorter than
    ``min_column_norm``.

    Parameters
    ----------
    n_dims, n_features : int or (low, high)
        m and n in [1, 10000], fixed or drawn from the inclusive range.
    min_column_norm : float in [0, 1)
        Columns shorter than this are rejected (they have no well-defined direction).

    Raises
    ------
    ValueError, TypeError
        At once (not at the first draw), naming the argument, for sizes that are not integers
        in range, a range with low > high, or a norm outside [0, 1).
    """
    m_range = _dims(n_dims, "n_dims")
    n_range = _dims(n_features, "n_features")
    norm = check_real(min_column_norm, "min_column_norm", low=0.0, high=1.0, high_inclusive=False)
    return _frames(m_range, n_range, norm)


def unit_norm_frames(
    n_dims: int | tuple[int, int] = (2, 8),
    n_features: int | tuple[int, int] = (2, 16),
) -> st.SearchStrategy[np.ndarray]:
    """Frames W of shape (m, n) whose columns have unit Euclidean norm (sizes as in
    :func:`frames`)."""
    return frames(n_dims=n_dims, n_features=n_features, min_column_norm=0.05).map(
        lambda W: W / np.linalg.norm(W, axis=0)
    )


@st.composite
def _orthogonal_matrices(draw, d_range):
    d = draw(_sizes(d_range))
    seed = draw(st.integers(0, 2**32 - 1))
    A = np.random.default_rng(seed).standard_normal((d, d))
    Q, R = np.linalg.qr(A)
    return Q * np.sign(np.diag(R))


def orthogonal_matrices(dim: int | tuple[int, int] = (2, 8)) -> st.SearchStrategy[np.ndarray]:
    """Orthogonal matrices Q (Q^T Q = I) of a drawn size in [1, 10000], from the QR factor of
    a seeded Gaussian matrix."""
    return _orthogonal_matrices(_dims(dim, "dim"))


@st.composite
def _sparse_signals(draw, n_range, k_range, nonnegative, min_magnitude):
    n = draw(_sizes(n_range))
    kk = draw(st.integers(k_range[0], min(k_range[1], n)))
    support = draw(st.permutations(range(n)))[:kk]
    mags = draw(st.lists(st.floats(min_magnitude, 1.0), min_size=kk, max_size=kk))
    x = np.zeros(n)
    x[list(support)] = mags
    if not nonnegative and kk:
        signs = draw(st.lists(st.sampled_from([-1.0, 1.0]), min_size=kk, max_size=kk))
        x[list(support)] *= signs
    return x


def sparse_signals(
    n_features: int | tuple[int, int] = (2, 32),
    k: int | tuple[int, int] | None = None,
    *,
    nonnegative: bool = False,
    min_magnitude: float = 0.1,
) -> st.SearchStrategy[np.ndarray]:
    """Vectors in R^n with exactly k nonzeros of magnitude in [min_magnitude, 1].

    Parameters
    ----------
    n_features : int or (low, high)
        Length n in [1, 10000].
    k : int, (low, high) or None
        Number of nonzeros; ``None`` draws it from [0, n]. A range's upper end is clipped to n;
        an int k (or a range's lower end) must not exceed the smallest n.
    nonnegative : bool
        If True all nonzeros are positive (the toy-model case).
    min_magnitude : float in (0, 1]
        Smallest magnitude of a nonzero (keeps the support well defined).

    Raises
    ------
    ValueError, TypeError
        At once, naming the argument (e.g. ``k`` larger than the smallest ``n_features``).
    """
    n_range = _dims(n_features, "n_features")
    k_range = (0, n_range[1]) if k is None else _dims(k, "k", low=0)
    if k_range[0] > n_range[0]:
        raise ValueError(
            f"k must be at most the smallest n_features={n_range[0]}; got {k_range[0]}."
        )
    flag = check_bool(nonnegative, "nonnegative")
    low = check_real(min_magnitude, "min_magnitude", low=0.0, high=1.0, low_inclusive=False)
    return _sparse_signals(n_range, k_range, flag, low)


def sparse_nonnegative_signals(
    n_features: int | tuple[int, int] = (2, 32),
    k: int | tuple[int, int] | None = None,
    min_magnitude: float = 0.1,
) -> st.SearchStrategy[np.ndarray]:
    """k-sparse nonnegative vectors in R^n (toy-model features are nonnegative); arguments as
    in :func:`sparse_signals`."""
    return sparse_signals(n_features=n_features, k=k, nonnegative=True, min_magnitude=min_magnitude)


@st.composite
def _point_clouds(draw, p_range, d_range, distinct):
    p = draw(_sizes(p_range))
    d = draw(_sizes(d_range))
    X = draw(_uniform_matrix((p, d)))
    if distinct and p > 1:
        diff = X[:, None, :] - X[None, :, :]
        dist = np.sqrt((diff**2).sum(-1)) + np.eye(p)
        assume(dist.min() > 1e-3)
    return X


def point_clouds(
    n_points: int | tuple[int, int] = (2, 20),
    dim: int | tuple[int, int] = (1, 32),
    distinct: bool = True,
) -> st.SearchStrategy[np.ndarray]:
    """Point sets X of shape (n_points, dim) with entries in [-1, 1], pairwise distinct (at
    distance > 1e-3) if ``distinct``; sizes in [1, 10000]."""
    return _point_clouds(
        _dims(n_points, "n_points"), _dims(dim, "dim"), check_bool(distinct, "distinct")
    )


def assert_no_frame_beats_bound(W, *, atol: float = 1e-9) -> float:
    """Assert that the frame W (columns = directions) respects every coherence lower bound.

    Checks ``coherence(W) >= bound(n, m) - atol`` for each bound of kind ``"coherence"`` in
    :data:`csuper.geometry.PACKING_BOUNDS` whose domain contains (n, m) (Welch and the real
    higher-order Welch bounds of orders 1-4, orthoplex, Levenstein) and for
    :func:`csuper.geometry.best_coherence_bound`. A frame that fails has a bug (or the bound
    has). Use a larger ``atol`` for float32 frames.

    Parameters
    ----------
    W : array_like, shape (m, n)
        Frame with n >= 2 nonzero columns.
    atol : float >= 0
        Absolute slack for rounding (finite: a NaN slack would make every comparison fail).

    Returns
    -------
    float
        The coherence of W.

    Raises
    ------
    AssertionError
        Naming the bound that W beats.
    ValueError, TypeError
        If W is not a finite frame with two nonzero columns, or atol is not a finite number
        >= 0.

    Examples
    --------
    >>> import numpy as np
    >>> a = np.pi * np.arange(3) / 3  # 3 equiangular lines in the plane meet the Welch bound
    >>> print(f"{assert_no_frame_beats_bound(np.vstack([np.cos(a), np.sin(a)])):.6f}")
    0.500000
    """
    from csuper.geometry import PACKING_BOUNDS, best_coherence_bound, coherence

    arr = check_frame(W, "W", min_columns=2)
    tol = check_real(atol, "atol", low=0.0)
    m, n = arr.shape
    mu = coherence(arr)
    checks = {"best": best_coherence_bound(n, m).value}
    for name, spec in PACKING_BOUNDS.items():
        if spec.kind != "coherence" or spec.applies is None or not spec.applies(n, m):
            continue
        if spec.orders:
            for k in range(1, 5):
                checks[f"{name}(order={k})"] = spec.func(n, m, k)
        else:
            checks[name] = spec.func(n, m)
    for name, value in checks.items():
        assert mu >= value - tol, (
            f"frame of {n} vectors in R^{m} has coherence {mu:.12g} below the {name} bound "
            f"{value:.12g}"
        )
    return mu


def assert_jl_distortion(X, Y, eps: float, *, n_pairs: int | None = None, rng=None):
    """Assert that a map keeps every pair's squared distance within a factor 1 +- eps (JL check).

    Parameters
    ----------
    X : array_like, shape (N, n)
        Points (rows).
    Y : array_like of shape (N, m), or a :class:`csuper.jl.JLTransform`
        Their images.
    eps : float >= 0
        Allowed distortion ``| ||y_i - y_j||^2 / ||x_i - x_j||^2 - 1 |``.
    n_pairs, rng
        As in :func:`csuper.jl.measure_distortion` (``None``: every pair).

    Returns
    -------
    csuper.jl.Distortion
        The measurement, when the check passes.

    Raises
    ------
    AssertionError
        Naming how many pairs exceed eps and the largest distortion.

    Examples
    --------
    >>> from csuper.jl import SRHT
    >>> X = np.random.default_rng(0).standard_normal((10, 12))
    >>> assert_jl_distortion(X, SRHT(12, 16, rng=0), eps=1e-9).n_pairs  # m = 16 = n': isometry
    45
    """
    from csuper.jl import measure_distortion

    eps = check_real(eps, "eps", low=0.0)
    d = measure_distortion(X, Y, quantiles=(), n_pairs=n_pairs, eps=eps, rng=rng)
    if d.max > eps:
        raise AssertionError(
            f"{d.n_above} of {d.n_pairs} pairs have distortion above eps={eps:g}; "
            f"max distortion {d.max:.6g} (expansion {d.max_expansion:.6g}, "
            f"contraction {d.max_contraction:.6g})"
        )
    return d
