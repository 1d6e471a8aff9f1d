"""Plain-numpy dense routes to the interference statistics (private; for tests and benchmarks).

Two routes, both materialising n x n matrices (small n only):

- :func:`reference_statistics` follows the definitions literally in float64 (an independent
  route for the tests of the streamed numba pass).
- :func:`numpy_baseline_statistics` is the fastest lean numpy computation we know (one n x n Gram
  matrix in W's dtype, reduced in place); the geometry benchmark races it against the streamed
  pass.

OpenBLAS hazard: numpy 2.4's bundled OpenBLAS segfaults on the float64 product of a wide matrix
with its own transpose (``W.T @ W``, ``np.dot(W.T, W)``, scipy's ``dsyrk``) for W of shape
(512, n >= 19000) when it runs 2 threads: numpy routes ``A.T @ A`` on one buffer to syrk, which
crashes. float32, one thread, or a right operand in a separate buffer (``W.T @ W.copy()``, the
gemm path) all work. Every product here therefore goes through :func:`gram`, which hands BLAS two
distinct buffers in float64 (float32 keeps the faster and safe syrk path).
"""

from __future__ import annotations

import numpy as np

_matmul = np.matmul  # module-level so that the guard test can spy on every product


def gram(A: np.ndarray, B: np.ndarray | None = None) -> np.ndarray:
    """``A.T @ B`` (``B = A`` if omitted) without ever taking the crashing float64 syrk path."""
    if B is None:
        B = A
    if A.dtype == np.float64 and np.shares_memory(A, B):
        B = B.copy()  # distinct buffer -> gemm, see the module notes
    return _matmul(A.T, B)


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
    G = gram(W)  # n x n, the dominant cost (float32: syrk; float64: gemm on a copy)
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
