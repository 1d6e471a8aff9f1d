"""The Gram product ``A.T @ B`` of two frames, computed so that it cannot crash BLAS.

numpy sends ``A.T @ A`` (both operands views of one buffer) to BLAS ``syrk``, and OpenBLAS's
threaded syrk is not safe for large operands: numpy 2.4's bundled OpenBLAS segfaults on the
float64 product for W of shape (512, n >= 19000) with 2 threads, float32 at n = 50,000 on an AMD
EPYC (csuper issue 17), and returns wrong float32 results on Apple M4 (numpy issue 31776); see
also numpy issue 19685. :func:`gram_matrix` never takes that path, whatever the dtype and CPU:
the right operand is a separate buffer (a copy when the two share memory), so BLAS runs ``gemm``,
and the product is formed in panels of at most :data:`GRAM_PANEL` rows so that no single BLAS
call is larger than it needs to be. Every Gram-like product in csuper goes through this module.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from csuper._validation import check_array, check_memory

__all__ = ["GRAM_PANEL", "gram_matrix"]

#: Rows of the result formed by one BLAS call (a panel of shape (GRAM_PANEL, n_B)); for a
#: symmetric result each panel starts at its diagonal, so smaller panels skip more of the lower
#: triangle (512: 1.3x the flops of syrk at n = 2000, 1.06x at n = 8000).
GRAM_PANEL = 512


def _gemm(At: np.ndarray, B: np.ndarray, out: np.ndarray) -> np.ndarray:
    """``out = At @ B`` by BLAS gemm: ``At`` and ``B`` never share memory (checked by the caller;
    module-level so that the guard test can spy on every product)."""
    return np.matmul(At, B, out=out)


def gram_product(
    A: np.ndarray, B: np.ndarray, out: np.ndarray | None = None, *, symmetric: bool = False
) -> np.ndarray:
    """``A.T @ B`` for validated float arrays of one dtype (no validation).

    The private workhorse of :func:`gram_matrix`, for callers inside csuper that have validated
    their arrays: a copy of ``B`` when it shares memory with ``A``, then one gemm per panel of
    :data:`GRAM_PANEL` rows of the result. With ``symmetric`` (B is A), each panel forms only
    the columns on and right of its diagonal block and the lower triangle is mirrored from the
    upper one: half the flops, and an exactly symmetric result.
    """
    n_a, n_b = A.shape[1], B.shape[1]
    if np.shares_memory(A, B):
        B = np.array(B, order="C")  # a distinct buffer: numpy cannot take its syrk shortcut
    if out is None:
        out = np.empty((n_a, n_b), dtype=np.result_type(A, B))
    for i0 in range(0, n_a, GRAM_PANEL):
        i1 = min(n_a, i0 + GRAM_PANEL)
        j0 = i0 if symmetric else 0
        _gemm(A[:, i0:i1].T, B[:, j0:], out[i0:i1, j0:])
        if symmetric:  # mirror what the panels above computed, and this panel's diagonal block
            out[i0:i1, :i0] = out[:i0, i0:i1].T
            block = out[i0:i1, i0:i1]
            block[...] = np.triu(block) + np.triu(block, 1).T
    return out


def gram_matrix(A: Any, B: Any = None) -> np.ndarray:
    """The matrix of inner products of the columns of A (and B): ``A.T @ B``, crash-free.

    Parameters
    ----------
    A : array_like, shape (m, n_a)
        Columns are vectors of R^m (a frame: feature directions or sensing columns).
    B : array_like of shape (m, n_b), optional
        A second frame; ``None`` means A itself (the Gram matrix ``A.T @ A``).

    Returns
    -------
    ndarray, shape (n_a, n_b)
        ``G[i, j] = <a_i, b_j>``, in float32 if both inputs are float32, else float64.

    Raises
    ------
    ValueError
        If an input is not a finite 2-D real array, the row counts differ, or the result (and
        the copy made to keep BLAS off its syrk path) would exceed the memory budget
        (:func:`csuper._validation.check_memory`; a :class:`~csuper._validation.MemoryBudgetError`).

    Notes
    -----
    Use this instead of ``W.T @ W``, ``np.dot(W.T, W)`` or ``W @ W.T``: numpy computes those with
    BLAS syrk, which crashes numpy 2.4's bundled OpenBLAS for wide frames (float64 at
    W of shape (512, n >= 19000), float32 at n = 50,000, with 2 threads) and is wrong in float32
    on some ARM builds. Here the right operand is always a distinct buffer (so BLAS runs gemm)
    and the result is formed in panels of :data:`GRAM_PANEL` rows. For ``B = None`` only the
    upper triangle is multiplied (half the flops, as BLAS syrk would) and mirrored, so the
    result is exactly symmetric. For
    statistics of large frames never form the n x n matrix: :func:`csuper.geometry.frame_statistics`
    streams it in tiles.

    References
    ----------
    numpy issue 19685, "Multiplication of a matrix with its transpose causes segfault for large
    matrices"; numpy issue 31776, "float32 @ matmul bug on macOS arm64".

    Examples
    --------
    >>> import numpy as np
    >>> from csuper.geometry import gram_matrix
    >>> W = np.array([[1.0, 0.0, 1.0], [0.0, 2.0, 1.0]])
    >>> print(gram_matrix(W))
    [[1. 0. 1.]
     [0. 4. 2.]
     [1. 2. 2.]]
    """
    a = check_array(A, "A", ndim=2)
    b = a if B is None else check_array(B, "B", ndim=2)
    if b.shape[0] != a.shape[0]:
        raise ValueError(
            f"B must have as many rows as A ({a.shape[0]}: vectors of one space); got shape "
            f"{b.shape}."
        )
    dtype = np.result_type(a, b)
    n_a, n_b = a.shape[1], b.shape[1]
    itemsize = np.dtype(dtype).itemsize
    check_memory(
        itemsize * (n_a * n_b + a.shape[0] * n_b),
        f"gram_matrix of {n_a} x {n_b} columns ({n_a} x {n_b} {np.dtype(dtype).name} entries)",
        "reduce the matrix as it is formed instead (csuper.geometry.frame_statistics streams "
        "coherence, interference and the frame potential in tiles), or pass fewer columns",
    )
    return gram_product(
        a.astype(dtype, copy=False), b.astype(dtype, copy=False), symmetric=B is None
    )
