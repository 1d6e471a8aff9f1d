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

import numpy as np

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


def _dims(spec: int | tuple[int, int], name: str) -> st.SearchStrategy[int]:
    if isinstance(spec, int):
        return st.just(spec)
    lo, hi = spec
    if not 1 <= lo <= hi:
        raise ValueError(f"{name} range must satisfy 1 <= low <= high; got {spec}.")
    return st.integers(lo, hi)


def _gaussian_matrix(shape_strategy, *, min_col_norm: float = _MIN_NORM):
    """Matrices with entries from a bounded normal-like law (uniform in [-1, 1], seeded by
    hypothesis)."""
    elements = st.floats(-1.0, 1.0, allow_nan=False, allow_infinity=False, width=64)
    return shape_strategy.flatmap(lambda shape: hnp.arrays(np.float64, shape, elements=elements))


@st.composite
def frames(
    draw,
    n_dims: int | tuple[int, int] = (2, 8),
    n_features: int | tuple[int, int] = (2, 16),
    min_column_norm: float = _MIN_NORM,
) -> np.ndarray:
    """Frames W of shape (m, n) with entries in [-1, 1] and no column shorter than
    ``min_column_norm``.

    Parameters
    ----------
    n_dims, n_features : int or (low, high)
        m and n, fixed or drawn from the inclusive range.
    min_column_norm : float
        Columns shorter than this are rejected (they have no well-defined direction).
    """
    m = draw(_dims(n_dims, "n_dims"))
    n = draw(_dims(n_features, "n_features"))
    W = draw(_gaussian_matrix(st.just((m, n))))
    assume(np.all(np.linalg.norm(W, axis=0) >= min_column_norm))
    return W


@st.composite
def unit_norm_frames(
    draw,
    n_dims: int | tuple[int, int] = (2, 8),
    n_features: int | tuple[int, int] = (2, 16),
) -> np.ndarray:
    """Frames W of shape (m, n) whose columns have unit Euclidean norm."""
    W = draw(frames(n_dims=n_dims, n_features=n_features, min_column_norm=0.05))
    return W / np.linalg.norm(W, axis=0)


@st.composite
def orthogonal_matrices(draw, dim: int | tuple[int, int] = (2, 8)) -> np.ndarray:
    """Orthogonal matrices Q (Q^T Q = I) of a drawn size, from the QR factor of a drawn matrix."""
    d = draw(_dims(dim, "dim"))
    seed = draw(st.integers(0, 2**32 - 1))
    A = np.random.default_rng(seed).standard_normal((d, d))
    Q, R = np.linalg.qr(A)
    return Q * np.sign(np.diag(R))


@st.composite
def sparse_signals(
    draw,
    n_features: int | tuple[int, int] = (2, 32),
    k: int | tuple[int, int] | None = None,
    *,
    nonnegative: bool = False,
    min_magnitude: float = 0.1,
) -> np.ndarray:
    """Vectors in R^n with exactly k nonzeros of magnitude in [min_magnitude, 1].

    Parameters
    ----------
    n_features : int or (low, high)
        Length n.
    k : int, (low, high) or None
        Number of nonzeros; ``None`` draws it from [0, n].
    nonnegative : bool
        If True all nonzeros are positive (the toy-model case).
    min_magnitude : float
        Smallest magnitude of a nonzero (keeps the support well defined).
    """
    n = draw(_dims(n_features, "n_features"))
    if k is None:
        kk = draw(st.integers(0, n))
    elif isinstance(k, int):
        kk = k
    else:
        kk = draw(st.integers(k[0], min(k[1], n)))
    if not 0 <= kk <= n:
        raise ValueError(f"k must be an integer in [0, n_features={n}]; got {kk}.")
    support = draw(st.permutations(range(n)))[:kk]
    mags = draw(st.lists(st.floats(min_magnitude, 1.0), min_size=kk, max_size=kk))
    x = np.zeros(n)
    x[list(support)] = mags
    if not nonnegative and kk:
        signs = draw(st.lists(st.sampled_from([-1.0, 1.0]), min_size=kk, max_size=kk))
        x[list(support)] *= signs
    return x


def sparse_nonnegative_signals(
    n_features: int | tuple[int, int] = (2, 32),
    k: int | tuple[int, int] | None = None,
    min_magnitude: float = 0.1,
) -> st.SearchStrategy[np.ndarray]:
    """k-sparse nonnegative vectors in R^n (toy-model features are nonnegative)."""
    return sparse_signals(n_features=n_features, k=k, nonnegative=True, min_magnitude=min_magnitude)


@st.composite
def point_clouds(
    draw,
    n_points: int | tuple[int, int] = (2, 20),
    dim: int | tuple[int, int] = (1, 32),
    distinct: bool = True,
) -> np.ndarray:
    """Point sets X of shape (n_points, dim) with entries in [-1, 1], pairwise distinct if asked."""
    p = draw(_dims(n_points, "n_points"))
    d = draw(_dims(dim, "dim"))
    X = draw(_gaussian_matrix(st.just((p, d))))
    if distinct and p > 1:
        diff = X[:, None, :] - X[None, :, :]
        dist = np.sqrt((diff**2).sum(-1)) + np.eye(p)
        assume(dist.min() > 1e-3)
    return X


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
    atol : float
        Absolute slack for rounding.

    Returns
    -------
    float
        The coherence of W.

    Raises
    ------
    AssertionError
        Naming the bound that W beats.

    Examples
    --------
    >>> import numpy as np
    >>> a = np.pi * np.arange(3) / 3  # 3 equiangular lines in the plane meet the Welch bound
    >>> print(f"{assert_no_frame_beats_bound(np.vstack([np.cos(a), np.sin(a)])):.6f}")
    0.500000
    """
    from csuper.geometry import PACKING_BOUNDS, best_coherence_bound, coherence

    W = np.asarray(W)
    m, n = W.shape
    mu = coherence(W)
    checks = {"best": best_coherence_bound(n, m).value}
    for name, spec in PACKING_BOUNDS.items():
        if spec.kind != "coherence" or spec.applies is None or not spec.applies(n, m):
            continue
        if name in ("welch", "real_welch"):
            for k in range(1, 5):
                checks[f"{name}(order={k})"] = spec.func(n, m, k)
        else:
            checks[name] = spec.func(n, m)
    for name, value in checks.items():
        assert mu >= value - atol, (
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

    d = measure_distortion(X, Y, quantiles=(), n_pairs=n_pairs, eps=eps, rng=rng)
    if d.max > eps:
        raise AssertionError(
            f"{d.n_above} of {d.n_pairs} pairs have distortion above eps={eps:g}; "
            f"max distortion {d.max:.6g} (expansion {d.max_expansion:.6g}, "
            f"contraction {d.max_contraction:.6g})"
        )
    return d
