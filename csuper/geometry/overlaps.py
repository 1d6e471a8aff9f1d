"""Interference statistics of a frame: coherence, per-feature interference, mean squared overlap,
frame potential and feature dimensionality, all from one streamed pass over column blocks.

A frame is W of shape (m, n) whose columns w_i are feature directions in R^m (toy model) or
sensing columns (compressed sensing); u_i = w_i / |w_i| is the direction of feature i.
:func:`frame_statistics` computes every statistic in one pass over square tiles of the normalised
overlap matrix ``<u_i, u_j>`` without ever holding the n x n matrix (n = 100,000 features at
m = 512 is fine); the individual functions are thin views of that pass.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from csuper._lazy import lazy_import
from csuper._validation import check_frame, check_int, check_memory
from csuper.geometry.gram import gram_product

_k = lazy_import("csuper.geometry._overlap_kernels")

__all__ = [
    "DEFAULT_BLOCK_SIZE",
    "FrameStatistics",
    "coherence",
    "feature_dimensionality",
    "frame_potential",
    "frame_statistics",
    "interference",
    "mean_squared_overlap",
    "overlap_matrix",
]

#: Default tile side (features per block) of the streamed pass. Chosen by measurement (see
#: benchmarks/results_geometry.md): large enough for an efficient BLAS product at m = 512, small
#: enough that a tile (block_size**2 entries) stays a few MB.
DEFAULT_BLOCK_SIZE = 1024


@dataclass(frozen=True)
class FrameStatistics:
    """Every interference statistic of a frame W of shape (m, n), from one streamed pass.

    Attributes
    ----------
    n_dims : int
        m, the dimension of the space.
    n_features : int
        n, the number of columns.
    norms : ndarray of float64, shape (n,)
        |w_i|.
    interference : ndarray of float64, shape (n,)
        sum over j != i of <u_i, w_j>^2 (how much of the other features leaks into feature i's
        direction).
    feature_dimensionality : ndarray of float64, shape (n,)
        D_i = |w_i|^2 / sum_j <u_i, w_j>^2 = |w_i|^2 / (|w_i|^2 + interference_i); 0 for a zero
        column.
    coherence : float
        mu(W) = max over i != j of |<u_i, u_j>| (clipped to [0, 1] against rounding).
    coherent_pair : tuple of int
        The first pair (i, j), i < j, attaining the coherence (in the pass's visiting order).
    mean_squared_overlap : float
        Mean over ordered pairs i != j of <u_i, u_j>^2.
    frame_potential : float
        sum over all i, j (i = j included) of <w_i, w_j>^2.
    block_size : int
        The tile side the pass used.
    dtype : str
        The dtype the products were computed in ('float32' or 'float64').

    Notes
    -----
    Arrays are read-only (the object is immutable).
    """

    n_dims: int
    n_features: int
    norms: np.ndarray = field(repr=False)
    interference: np.ndarray = field(repr=False)
    feature_dimensionality: np.ndarray = field(repr=False)
    coherence: float
    coherent_pair: tuple[int, int]
    mean_squared_overlap: float
    frame_potential: float
    block_size: int
    dtype: str

    def __post_init__(self) -> None:
        for name in ("norms", "interference", "feature_dimensionality"):
            getattr(self, name).setflags(write=False)

    @property
    def total_dimensionality(self) -> float:
        """sum_i D_i, at most m for every frame (the capacity bound of Scherlis et al. 2022)."""
        return float(self.feature_dimensionality.sum())


def _check_block_size(block_size: Any) -> int | None:
    if block_size is None:
        return None
    return check_int(block_size, "block_size", low=1)


def _tile_product(A: np.ndarray, B: np.ndarray, out: np.ndarray) -> np.ndarray:
    """``out = A @ B`` with BLAS gemm. Never called with A and B sharing memory (numpy would take
    the syrk path, which crashes OpenBLAS; see :mod:`csuper.geometry.gram`;
    ``tests/geometry/test_overlaps.py`` guards it)."""
    return np.matmul(A, B, out=out)


def _unit_rows(W: np.ndarray, name: str = "W") -> tuple[np.ndarray, np.ndarray, int]:
    """Return ``(Ut, r2, k)``: Ut of shape (n, m) in W's dtype whose rows are the unit directions
    u_j (a zero row for a zero column), and r2[j] = |w_j|^2 * 4**(-k) in float64.

    W is scaled by the power of two 2**(-k) that brings max |W| into [0.5, 1) (exact), so that
    squared norms neither overflow nor underflow for any frame whose columns' norms lie within
    about 1e150 of each other. A nonzero column whose squared norm still underflows raises.
    """
    m, n = W.shape
    max_abs = float(np.max(np.abs(W)))
    k = int(np.clip(np.frexp(max_abs)[1], -1000, 1000)) if max_abs > 0 else 0
    r2 = np.empty(n)
    nonzero = np.empty(n, dtype=np.bool_)
    _k.column_sq_norms(W, np.ldexp(1.0, -k), r2, nonzero)
    lost = nonzero & (r2 == 0.0)
    if lost.any():
        j = int(np.argmax(lost))
        raise ValueError(
            f"{name} has column(s) too small relative to its largest entry ({max_abs:g}) for "
            f"float64 (first at index {j}); rescale those columns or set them to zero."
        )
    Ut = np.empty((n, m), dtype=W.dtype)
    _k.normalized_transpose(W, np.ldexp(1.0, -k), r2, Ut)
    return Ut, r2, k


def _streamed_pass(W: np.ndarray, block_size: int | None) -> FrameStatistics:
    """The one pass behind every statistic. ``W`` is a validated C-contiguous float frame (zero
    columns allowed: they contribute nothing, and get D_i = 0)."""
    m, n = W.shape
    b = min(n, DEFAULT_BLOCK_SIZE if block_size is None else block_size)
    check_memory(
        W.dtype.itemsize * (n * m + b * b + m * b) + 8 * 5 * n,
        f"the streamed pass over W of shape {W.shape} with block_size={b} (a normalised copy "
        f"of W and one {b} x {b} tile)",
        f"pass a smaller block_size (the default is {DEFAULT_BLOCK_SIZE}) or fewer columns",
    )
    Ut, r2, k = _unit_rows(W)
    s_unit = np.zeros(n)
    s_weighted = np.zeros(n)
    best = np.full(1, -1.0)
    best_pair = np.array([0, min(1, n - 1)], dtype=np.int64)
    tile_buf = np.empty(b * b, dtype=W.dtype)
    right_buf = np.empty(m * b, dtype=W.dtype)
    for i0 in range(0, n, b):
        A = Ut[i0 : i0 + b]
        bi = A.shape[0]
        # The diagonal tile multiplies a block by itself: hand BLAS a separate copy of the right
        # operand so that numpy takes the gemm path, never the float64 syrk path that crashes.
        right = right_buf[: m * bi].reshape(m, bi)
        np.copyto(right, A.T)
        tile = _tile_product(A, right, tile_buf[: bi * bi].reshape(bi, bi))
        _k.reduce_tile(tile, r2, i0, i0, True, s_unit, s_weighted, best, best_pair)
        for j0 in range(i0 + b, n, b):
            B = Ut[j0 : j0 + b]
            bj = B.shape[0]
            tile = _tile_product(A, B.T, tile_buf[: bi * bj].reshape(bi, bj))
            _k.reduce_tile(tile, r2, i0, j0, False, s_unit, s_weighted, best, best_pair)
    dimensionality = np.empty(n)
    fp, total_unit = _k.finish_statistics(r2, s_unit, s_weighted, dimensionality)
    mso = total_unit / (n * (n - 1)) if n > 1 else 0.0
    # undo the exact power-of-two scaling of _unit_rows (D_i, overlaps are scale invariant)
    with np.errstate(over="ignore"):
        interference_values = np.ldexp(s_weighted, 2 * k)
        fp = float(np.ldexp(fp, 4 * k))
    if not (np.isfinite(fp) and np.all(np.isfinite(interference_values))):
        warnings.warn(
            "W's frame potential (or interference) overflows float64 and is reported as inf "
            f"(entries of order 2**{k}); the overlaps, coherence and D_i are exact. Rescale W "
            "for finite values.",
            RuntimeWarning,
            stacklevel=3,
        )
    return FrameStatistics(
        n_dims=m,
        n_features=n,
        norms=np.ldexp(np.sqrt(r2), k),
        interference=interference_values,
        feature_dimensionality=dimensionality,
        # rounding can push |<u_i, u_j>| a few ulps past 1: clip to the exact range [0, 1]
        coherence=min(max(float(best[0]), 0.0), 1.0),
        coherent_pair=(int(best_pair[0]), int(best_pair[1])),
        mean_squared_overlap=min(float(mso), 1.0),
        frame_potential=fp,
        block_size=b,
        dtype=W.dtype.name,
    )


def frame_statistics(W: Any, *, block_size: int | None = None) -> FrameStatistics:
    """Coherence, interference, mean squared overlap, frame potential and feature dimensionality
    of a frame, in one streamed pass.

    Parameters
    ----------
    W : array_like, shape (m, n)
        Frame whose columns w_i are feature directions; n >= 2, no zero column (every statistic
        here but D_i and the frame potential needs a direction; for frames with dead features use
        :func:`feature_dimensionality` or :func:`frame_potential`). float32 stays float32 (see
        Notes), other real dtypes are converted to float64.
    block_size : int, optional
        Tile side (features per block), default :data:`DEFAULT_BLOCK_SIZE`. Any value >= 1
        works; it changes speed and memory, not the result (beyond rounding).

    Returns
    -------
    FrameStatistics
        All statistics; see its attributes.

    Raises
    ------
    ValueError
        If W is not a finite 2-D array, has fewer than 2 columns or has a zero column.

    Notes
    -----
    With u_i = w_i / |w_i| and H_ij = <u_i, u_j>:

    - coherence mu(W) = max_{i != j} |H_ij| [4]_,
    - interference_i = sum_{j != i} <u_i, w_j>^2 = sum_{j != i} H_ij^2 |w_j|^2,
    - mean squared overlap = sum_{i != j} H_ij^2 / (n (n - 1)),
    - frame potential FP(W) = sum_{i,j} <w_i, w_j>^2 [3]_; FP >= (sum_i |w_i|^2)^2 / m, with
      equality iff W is tight (W W^T proportional to I); for unit-norm frames FP >= n^2 / m,
      equivalently mean squared overlap >= (n - m) / (m (n - 1)) (Welch),
    - feature dimensionality D_i = |w_i|^2 / sum_j <u_i, w_j>^2 [1]_, equal to the capacity
      C_i = <w_i, w_i>^2 / sum_j <w_i, w_j>^2 of [2]_; 0 <= D_i <= 1 and sum_i D_i <= m.

    The pass normalises the columns (in float64, stored in W's dtype as an (n, m) array of unit
    rows), then visits the tiles H[I, J], J >= I, of side ``block_size``: each is one BLAS product
    (multi-threaded by BLAS itself; csuper adds no threads of its own) reduced by a numba kernel
    into float64 accumulators, using symmetry so every pair is multiplied once. Memory is
    O(n m + block_size^2), never O(n^2): at n = 100,000, m = 512 in float64 about 0.4 GB (the
    normalised copy) against 80 GB for the Gram matrix.

    Accuracy: in float64 the results agree with a dense numpy computation to about 1e-13
    relative. For float32 input the products are float32 (BLAS sgemm, about twice as fast) and
    every sum is accumulated in float64, so each overlap H_ij carries an absolute error of at
    most about m * 2^-24 (3e-5 at m = 512; typically sqrt(m) * 2^-24, about 1e-6): coherence
    and each squared overlap are accurate to that absolute level, sums of many overlaps to a
    relative error of the same order. Pass float64 if you need more.

    The float64 product of a wide frame with itself (``W.T @ W`` for W of shape (512, n >= 19000))
    crashes numpy 2.4's bundled OpenBLAS with 2 threads (its syrk path); this pass never forms it:
    the diagonal tiles multiply a block by a separate copy of itself.

    References
    ----------
    .. [1] N. Elhage et al., "Toy Models of Superposition", Transformer Circuits Thread (2022),
       arXiv:2209.10652.
    .. [2] A. Scherlis, K. Sachan, A. S. Jermyn, J. Benton, B. Shlegeris, "Polysemanticity and
       Capacity in Neural Networks" (2022), arXiv:2210.01892.
    .. [3] J. J. Benedetto, M. Fickus, "Finite normalized tight frames", Adv. Comput. Math. 18
       (2003) 357-385, doi:10.1023/A:1021323312367.
    .. [4] D. L. Donoho, X. Huo, "Uncertainty principles and ideal atomic decomposition", IEEE
       Trans. Inf. Theory 47(7) (2001) 2845-2862, doi:10.1109/18.959265.

    Examples
    --------
    >>> import numpy as np
    >>> from csuper.geometry import frame_statistics
    >>> W = np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]])
    >>> st = frame_statistics(W)
    >>> round(st.coherence, 6), st.coherent_pair
    (0.707107, (0, 2))
    >>> print(np.round(st.feature_dimensionality, 6))
    [0.5      0.5      0.666667]
    >>> round(st.frame_potential, 6), round(st.mean_squared_overlap, 6)
    (10.0, 0.333333)
    """
    arr = check_frame(W, "W", min_columns=2)
    return _streamed_pass(arr, _check_block_size(block_size))


def coherence(W: Any, *, block_size: int | None = None) -> float:
    """Mutual coherence mu(W) = max over i != j of |<w_i/|w_i|, w_j/|w_j|>|, streamed.

    Parameters
    ----------
    W : array_like, shape (m, n)
        Frame with n >= 2 nonzero columns.
    block_size : int, optional
        Tile side of the streamed pass (see :func:`frame_statistics`).

    Returns
    -------
    float
        mu(W) in [0, 1]; 0 iff the columns are pairwise orthogonal.

    Notes
    -----
    The worst-case overlap of two feature directions [1]_; it is invariant under rotations of R^m,
    permutations and sign flips of the columns, and bounded below by the Welch bound
    sqrt((n - m) / (m (n - 1))) for n > m. See :func:`frame_statistics` for the algorithm and
    the float32 accuracy (absolute error about m * 2^-24 at worst).

    References
    ----------
    .. [1] D. L. Donoho, X. Huo, "Uncertainty principles and ideal atomic decomposition", IEEE
       Trans. Inf. Theory 47(7) (2001) 2845-2862, doi:10.1109/18.959265.

    Examples
    --------
    >>> import numpy as np
    >>> from csuper.geometry import coherence
    >>> angles = np.pi * np.arange(3) / 3   # 3 equiangular lines in the plane
    >>> print(f"{coherence(np.vstack([np.cos(angles), np.sin(angles)])):.6f}")
    0.500000
    """
    return frame_statistics(W, block_size=block_size).coherence


def interference(W: Any, *, block_size: int | None = None) -> np.ndarray:
    """Per-feature interference sum over j != i of <w_i/|w_i|, w_j>^2, streamed.

    Parameters
    ----------
    W : array_like, shape (m, n)
        Frame with n >= 1 nonzero columns.
    block_size : int, optional
        Tile side of the streamed pass (see :func:`frame_statistics`).

    Returns
    -------
    ndarray of float64, shape (n,)
        interference_i >= 0: the squared length of the other features' projections onto feature
        i's direction (what a linear read-out of feature i picks up from the others).

    Notes
    -----
    interference_i = sum_{j != i} <u_i, w_j>^2 with u_i = w_i / |w_i|; it scales with the other
    columns' norms but not with |w_i|. Feature dimensionality is
    D_i = |w_i|^2 / (|w_i|^2 + interference_i) [1]_.

    References
    ----------
    .. [1] N. Elhage et al., "Toy Models of Superposition", Transformer Circuits Thread (2022),
       arXiv:2209.10652.

    Examples
    --------
    >>> import numpy as np
    >>> from csuper.geometry import interference
    >>> print(interference(np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]])))
    [1. 1. 1.]
    """
    arr = check_frame(W, "W", min_columns=1)
    return _streamed_pass(arr, _check_block_size(block_size)).interference


def mean_squared_overlap(W: Any, *, block_size: int | None = None) -> float:
    """Mean over ordered pairs i != j of <w_i/|w_i|, w_j/|w_j|>^2, streamed.

    Parameters
    ----------
    W : array_like, shape (m, n)
        Frame with n >= 2 nonzero columns.
    block_size : int, optional
        Tile side of the streamed pass (see :func:`frame_statistics`).

    Returns
    -------
    float
        In [0, 1]. For n > m it is at least (n - m) / (m (n - 1)), with equality iff the
        normalised frame is tight; for independent uniformly random directions its expectation
        is 1/m.

    Notes
    -----
    sum_{i != j} <u_i, u_j>^2 / (n (n - 1)) = (FP(U) - n) / (n (n - 1)) where FP(U) is the frame
    potential of the normalised frame [1]_.

    References
    ----------
    .. [1] J. J. Benedetto, M. Fickus, "Finite normalized tight frames", Adv. Comput. Math. 18
       (2003) 357-385, doi:10.1023/A:1021323312367.

    Examples
    --------
    >>> import numpy as np
    >>> from csuper.geometry import mean_squared_overlap
    >>> angles = np.pi * np.arange(3) / 3
    >>> print(f"{mean_squared_overlap(np.vstack([np.cos(angles), np.sin(angles)])):.6f}")
    0.250000
    """
    return frame_statistics(W, block_size=block_size).mean_squared_overlap


def frame_potential(W: Any, *, block_size: int | None = None) -> float:
    """Frame potential sum over all i, j of <w_i, w_j>^2 (Benedetto-Fickus), streamed.

    Parameters
    ----------
    W : array_like, shape (m, n)
        Any finite frame (zero columns allowed: they contribute 0).
    block_size : int, optional
        Tile side of the streamed pass (see :func:`frame_statistics`).

    Returns
    -------
    float
        FP(W) = ||W^T W||_F^2 = ||W W^T||_F^2.

    Notes
    -----
    FP(W) >= (sum_i |w_i|^2)^2 / m with equality iff W W^T = (||W||_F^2 / m) I (a tight frame);
    for unit-norm frames FP >= n^2 / m and its minimisers are the unit-norm tight frames [1]_.

    References
    ----------
    .. [1] J. J. Benedetto, M. Fickus, "Finite normalized tight frames", Adv. Comput. Math. 18
       (2003) 357-385, doi:10.1023/A:1021323312367.

    Examples
    --------
    >>> import numpy as np
    >>> from csuper.geometry import frame_potential
    >>> angles = 2 * np.pi * np.arange(3) / 3   # Mercedes-Benz frame: unit-norm and tight
    >>> print(f"{frame_potential(np.vstack([np.cos(angles), np.sin(angles)])):.6f}")  # n^2/m
    4.500000
    """
    arr = check_frame(W, "W", allow_zero_columns=True, min_columns=1)
    return _streamed_pass(arr, _check_block_size(block_size)).frame_potential


def feature_dimensionality(W: Any, *, block_size: int | None = None) -> np.ndarray:
    """Feature dimensionality D_i = |w_i|^2 / sum_j <w_i/|w_i|, w_j>^2 (Elhage et al. 2022),
    streamed.

    Parameters
    ----------
    W : array_like, shape (m, n)
        Any finite frame; a zero column (a feature the model dropped) gets D_i = 0, the paper's
        convention.
    block_size : int, optional
        Tile side of the streamed pass (see :func:`frame_statistics`).

    Returns
    -------
    ndarray of float64, shape (n,)
        D_i in [0, 1]: 1 for a feature with a dimension of its own, 1/k for k features sharing
        a dimension (antipodal pair: 1/2), 0 for a dropped feature. sum_i D_i <= m.

    Notes
    -----
    D_i = |w_i|^2 / (|w_i|^2 + sum_{j != i} <u_i, w_j>^2) [1]_. It equals the capacity
    C_i = <w_i, w_i>^2 / sum_j <w_i, w_j>^2 of Scherlis et al. [2]_, whose sum is bounded by
    rank(W) <= m.

    References
    ----------
    .. [1] N. Elhage et al., "Toy Models of Superposition", Transformer Circuits Thread (2022),
       arXiv:2209.10652.
    .. [2] A. Scherlis, K. Sachan, A. S. Jermyn, J. Benton, B. Shlegeris, "Polysemanticity and
       Capacity in Neural Networks" (2022), arXiv:2210.01892.

    Examples
    --------
    >>> import numpy as np
    >>> from csuper.geometry import feature_dimensionality
    >>> W = np.array([[1.0, -1.0, 0.0, 0.0], [0.0, 0.0, 0.7, 0.0]])  # antipodal pair, solo, dead
    >>> print(feature_dimensionality(W))
    [0.5 0.5 1.  0. ]
    """
    arr = check_frame(W, "W", allow_zero_columns=True, min_columns=1)
    return _streamed_pass(arr, _check_block_size(block_size)).feature_dimensionality


def overlap_matrix(W: Any) -> np.ndarray:
    """The n x n matrix of overlaps <w_i/|w_i|, w_j/|w_j|> (materialised: for small n only).

    Parameters
    ----------
    W : array_like, shape (m, n)
        Frame with nonzero columns.

    Returns
    -------
    ndarray, shape (n, n)
        Symmetric, in W's float dtype, unit diagonal (set exactly). It holds n^2 entries
        (n = 50,000 in float64 is 20 GB): for statistics of large frames use
        :func:`frame_statistics`, which streams.

    Raises
    ------
    ValueError
        If W is not a finite 2-D array or has a zero column, or if the n x n result would exceed
        the memory budget (a :class:`~csuper._validation.MemoryBudgetError` naming the size and
        the estimate; :func:`frame_statistics` streams every statistic instead).

    Notes
    -----
    H = U^T U with U = W diag(1/|w_i|), computed by :func:`csuper.geometry.gram_matrix`'s
    crash-free product (gemm on two distinct buffers, never the BLAS syrk path that crashes
    OpenBLAS for wide W). Only the upper triangle is multiplied; it is mirrored onto the lower
    one, so H is exactly symmetric on every BLAS (a general product need not round ``H[i, j]``
    and ``H[j, i]`` alike: ``np.ones((8, 5))`` gave 1.1e-16 on one machine).

    Examples
    --------
    >>> import numpy as np
    >>> from csuper.geometry import overlap_matrix
    >>> print(np.round(overlap_matrix(np.array([[1.0, 0.0, 1.0], [0.0, 2.0, 1.0]])), 6))
    [[1.       0.       0.707107]
     [0.       1.       0.707107]
     [0.707107 0.707107 1.      ]]
    """
    arr = check_frame(W, "W", min_columns=1)
    m, n = arr.shape
    itemsize = arr.dtype.itemsize
    check_memory(
        itemsize * (n * n + 2 * n * m),
        f"overlap_matrix of n_features={n} (a {n} x {n} {arr.dtype.name} matrix)",
        "use csuper.geometry.frame_statistics(W), which streams the coherence, interference, "
        "mean squared overlap and feature dimensionality in tiles without forming the matrix",
    )
    Ut = _unit_rows(arr)[0]
    H = gram_product(Ut.T, Ut.T, np.empty((n, n), dtype=arr.dtype), symmetric=True)
    np.fill_diagonal(H, 1.0)
    return H
