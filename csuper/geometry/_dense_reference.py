"""Plain-numpy dense routes to the interference statistics (private; for tests and benchmarks).

Two routes, both materialising n x n matrices (small n only):

- :func:`reference_statistics` follows the definitions literally in float64 (an independent
  route for the tests of the streamed numba pass).
- :func:`numpy_baseline_statistics` is the fastest lean numpy computation we know (one n x n Gram
  matrix in W's dtype, reduced in place); the geometry benchmark races it against the streamed
  pass.

OpenBLAS hazard: numpy routes ``A.T @ A`` on one buffer to BLAS syrk, which crashes numpy 2.4's
bundled OpenBLAS for wide frames (see :mod:`csuper.geometry.gram`). Every product here therefore
goes through :func:`gram`, csuper's crash-free Gram product (gemm on distinct buffers, any dtype).
"""

from __future__ import annotations

import numpy as np

from csuper.geometry.gram import gram_product


def gram(A: np.ndarray, B: np.ndarray | None = None) -> np.ndarray:
    """``A.T @ B`` (``B = A`` if omitted: the upper triangle only, mirrored, as BLAS syrk would
    compute it) in the dtype of A and B, never by BLAS syrk."""
    symmetric = B is None
    B = A if B is None else B
    dtype = np.result_type(A, B)
    return gram_product(
        A.astype(dtype, copy=False), B.astype(dtype, copy=False), symmetric=symmetric
    )


def reference_statistics(W: np.ndarray) -> dict:
    """Every statistic from its definition, dense, in float64.

    Returns a dict with keys ``norms``, ``interference``, ``feature_dimensionality`` (0 for zero
    columns), ``coherence`` and ``mean_squared_overlap`` (NaN-free only if no zero column and
    n >= 2), ``frame_potential``.
    """
    W = np.asarray(W, dtype=np.float64)
    _m, n = W.shape
    norms = np.sqrt((W * W).sum(axis=0))
    nz = norms > 0
    U = np.zeros_like(W)
    U[:, nz] = W[:, nz] / norms[nz]
    G = gram(W)  # <w_i, w_j>
    P = gram(U, W)  # <u_i, w_j>
    C = gram(U)  # <u_i, u_j>
    off = ~np.eye(n, dtype=bool)
    P2 = P**2
    interference = np.where(off, P2, 0.0).sum(axis=1)
    denom = P2.sum(axis=1)
    dimensionality = np.zeros(n)
    dimensionality[nz] = norms[nz] ** 2 / denom[nz]
    absC = np.abs(C[off]) if n > 1 else np.zeros(1)
    return {
        "norms": norms,
        "interference": interference,
        "feature_dimensionality": dimensionality,
        "coherence": float(absC.max()),
        "mean_squared_overlap": float((absC**2).mean()),
        "frame_potential": float((G**2).sum()),
    }


def numpy_baseline_statistics(W: np.ndarray) -> dict:
    """The benchmark's baseline: numpy's full Gram matrix in W's dtype plus the same reductions.

    Memory: one n x n matrix in W's dtype (reduced in place), plus O(n). Assumes no zero column
    and n >= 2 (like :func:`csuper.geometry.frame_statistics`). Sums are accumulated in float64.
    """
    n = W.shape[1]
    G = gram(W)  # n x n, the dominant cost (upper-triangle gemm panels on a copy of W)
    r2 = np.diagonal(G).astype(np.float64)
    inv = (1.0 / np.sqrt(r2)).astype(W.dtype)
    G *= inv[:, None]
    G *= inv[None, :]  # G is now the overlap matrix H
    np.fill_diagonal(G, 0.0)
    mu = max(float(G.max()), -float(G.min()))
    np.square(G, out=G)
    mso = float(G.sum(dtype=np.float64)) / (n * (n - 1))
    interference = (G @ r2.astype(W.dtype)).astype(np.float64)
    return {
        "norms": np.sqrt(r2),
        "interference": interference,
        "feature_dimensionality": r2 / (r2 + interference),
        "coherence": mu,
        "mean_squared_overlap": mso,
        "frame_potential": float(r2 @ r2 + r2 @ interference),
    }
