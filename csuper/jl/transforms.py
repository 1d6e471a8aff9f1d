"""Johnson–Lindenstrauss constructions: seeded random linear maps R^n -> R^m.

Every construction is a :class:`JLTransform`: ``f = Cls(n_features, n_dims, rng=seed)``;
``f(X)`` (or ``f.apply(X)``) maps a vector of shape (n,) or a batch of shape (N, n) to (m,) or
(N, m); ``f.matrix()`` gives the explicit (m, n) matrix, usable as a feature frame or a sensing
matrix. Scaling makes every map unbiased for squared norms: ``E ||f(x)||^2 = ||x||^2``.

All constructions are listed in :data:`CONSTRUCTIONS` (read by the CLI and the tests);
:func:`make_jl` builds one by name.

Sparse maps and the SRHT are applied by numba kernels; batches of at least
``csuper.jl._jl_kernels.PARALLEL_MIN_WORK`` operations use their parallel builds (threads over
blocks of rows, ``NUMBA_NUM_THREADS`` of them), whose results are bit-identical to the serial ones.
"""

from __future__ import annotations

import math
import sys
from typing import Any, ClassVar

import numpy as np

from csuper._lazy import lazy_import
from csuper._validation import (
    check_array,
    check_bool,
    check_int,
    check_memory,
    check_real,
    check_rng,
)

K = lazy_import("csuper.jl._jl_kernels")


__all__ = [
    "CONSTRUCTIONS",
    "AchlioptasJL",
    "CountSketch",
    "GaussianJL",
    "JLTransform",
    "RademacherJL",
    "SRHT",
    "SparseJL",
    "VerySparseJL",
    "fwht",
    "make_jl",
]


def _next_pow2(n: int) -> int:
    return 1 << max(0, (n - 1).bit_length())


# Largest n_features and n_dims (sizes beyond are not exact in float64, and never fit anyway).
_MAX_SIZE = 2**53
_SPARSE_NAMES = ("very-sparse", "sparse-jl", "countsketch")
_SPARSE_LIST = ", ".join(_SPARSE_NAMES)

# Sparse rows densified at once by the generic sparse path (8 MB of float64).
_SPARSE_CHUNK_ELEMENTS = 1 << 20
# Result capacity (stored entries) from which the sparse product runs its parallel kernels.
_PARALLEL_MIN_ENTRIES = 1 << 18


def _is_sparse(X: Any) -> bool:
    """Whether X is a scipy.sparse matrix or array (without importing scipy.sparse)."""
    module = sys.modules.get("scipy.sparse")
    return module is not None and bool(module.issparse(X))


def _check_sparse(X: Any, name: str, n_features: int) -> Any:
    """A canonical CSR copy (or X itself) of a 2-D scipy.sparse input: float32 or float64
    (integers and bools become float64), sorted indices, no duplicates, finite entries."""
    from scipy import sparse

    if X.ndim != 2:
        raise ValueError(
            f"{name} must be a 2-D sparse matrix; got {X.ndim}-D with shape {X.shape}."
        )
    if X.shape[1] != n_features:
        raise ValueError(f"{name} must have n_features={n_features} columns; got shape {X.shape}.")
    kind = X.dtype.kind
    if kind not in "biuf":
        raise TypeError(f"{name} must hold real numbers; got a sparse matrix of dtype {X.dtype}.")
    dtype = X.dtype if X.dtype in (np.float32, np.float64) else np.float64
    flavour = sparse.csr_array if isinstance(X, sparse.sparray) else sparse.csr_matrix
    csr = flavour(X, dtype=dtype)  # a new object (it may share X's arrays)
    if not csr.has_canonical_format:
        csr = csr.copy()  # never sort or merge the caller's arrays in place
        csr.sum_duplicates()  # also sorts the indices
    if not np.all(np.isfinite(csr.data)):
        bad = int(np.size(csr.data) - np.count_nonzero(np.isfinite(csr.data)))
        raise ValueError(
            f"{name} must contain only finite values; got {bad} NaN or infinite entries."
        )
    return csr


def fwht(X: Any, *, normalize: bool = False, pad: bool = False) -> np.ndarray:
    """Fast Walsh–Hadamard transform along the last axis, O(L log L) per vector (numba).

    Parameters
    ----------
    X : array_like, shape (L,) or (N, L)
        Real finite input; L must be a power of two unless ``pad``.
    normalize : bool
        Divide by sqrt(L), making the transform orthogonal (and its own inverse).
    pad : bool
        Zero-pad the last axis to the next power of two.

    Returns
    -------
    ndarray, shape (L,) or (N, L)
        ``X @ H.T`` with H the Sylvester-ordered Hadamard matrix (``scipy.linalg.hadamard(L)``),
        divided by sqrt(L) if ``normalize``. float32 input stays float32.

    Notes
    -----
    H_{2L} = [[H_L, H_L], [H_L, -H_L]] gives log2(L) butterfly stages of L/2 additions and
    subtractions. ``H H = L I``, so the unnormalised transform is its own inverse up to 1/L.

    Examples
    --------
    >>> fwht([1.0, 0.0, 1.0, 0.0]).tolist()
    [2.0, 2.0, 0.0, 0.0]
    >>> fwht(fwht([3.0, 1.0, 4.0, 1.0], normalize=True), normalize=True).round(12).tolist()
    [3.0, 1.0, 4.0, 1.0]
    """
    arr = check_array(X, "X", ndim=(1, 2))
    normalize = check_bool(normalize, "normalize")
    pad = check_bool(pad, "pad")
    length = arr.shape[-1]
    target = _next_pow2(length)
    rows = arr.size // length
    check_memory(
        rows * target * arr.dtype.itemsize,
        f"fwht of {rows} vectors of length {length} (padded to {target})",
        "transform fewer vectors at a time",
    )
    if target != length and not pad:
        raise ValueError(
            f"X must have a power-of-two length along its last axis (or pass pad=True); "
            f"got shape {arr.shape}."
        )
    work = np.zeros((int(np.prod(arr.shape[:-1], dtype=np.int64)), target), dtype=arr.dtype)
    work[:, :length] = arr.reshape(-1, length)
    big = work.size * max(1, target.bit_length()) >= K.PARALLEL_MIN_WORK
    (K.fwht_rows_parallel if big else K.fwht_rows)(work)
    if normalize:
        work *= work.dtype.type(1.0 / math.sqrt(target))
    return work.reshape(*arr.shape[:-1], target)


class JLTransform:
    """A random linear map f: R^n -> R^m with ``E ||f(x)||^2 = ||x||^2`` (base class).

    Parameters
    ----------
    n_features : int
        Input dimension n >= 1.
    n_dims : int
        Target dimension m >= 1.
    rng : None, int or numpy.random.Generator
        Randomness (SPEC 7); the same seed gives a bit-identical map.

    Attributes
    ----------
    name : str
        Key in :data:`CONSTRUCTIONS`.
    bound : str or None
        Key in :data:`csuper.jl.BOUNDS` of the bound that certifies the construction.
    params : tuple of str
        The construction's own keyword parameters (``make_jl`` passes them on).

    Raises
    ------
    ValueError
        For sizes out of range, or a map whose drawing would exceed the memory budget
        (:class:`~csuper._validation.MemoryBudgetError`, naming the estimate).
    """

    name: ClassVar[str] = ""
    bound: ClassVar[str | None] = None
    params: ClassVar[tuple[str, ...]] = ()

    def __init__(self, n_features: int, n_dims: int, *, rng=None) -> None:
        self.n_features = check_int(n_features, "n_features", low=1, high=_MAX_SIZE)
        high = self.max_dims(self.n_features)
        self.n_dims = check_int(n_dims, "n_dims", low=1, high=_MAX_SIZE if high is None else high)
        gen = check_rng(rng)
        check_memory(
            self._draw_bytes(),
            f"{type(self).__name__}(n_features={self.n_features}, n_dims={self.n_dims})",
            "pass a smaller n_dims or n_features"
            + ("" if self.name in _SPARSE_NAMES else f" or a sparse construction ({_SPARSE_LIST})"),
        )
        self._draw(gen)

    # -- to be provided by subclasses -----------------------------------------------------------
    @staticmethod
    def max_dims(n_features: int) -> int | None:
        """Largest allowed m for this n (``None``: unbounded)."""
        return None

    def _draw(self, rng: np.random.Generator) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _draw_bytes(self) -> float:
        """Estimated peak memory of :meth:`_draw` (checked against the budget before drawing)."""
        return 0.0

    def _check_matrix_memory(self) -> None:
        check_memory(
            8 * self.n_dims * self.n_features,
            f"{type(self).__name__}.matrix() (a dense {self.n_dims} x {self.n_features} float64 "
            "matrix)",
            "apply the map to vectors instead, or use to_sparse() for the sparse constructions",
        )

    def _apply(self, X: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def matrix(self) -> np.ndarray:  # pragma: no cover - abstract
        """The explicit (m, n) float64 matrix A with f(x) = A x."""
        raise NotImplementedError

    def _apply_sparse(self, X: Any) -> Any:
        """f(X) for a canonical CSR matrix X (N, n): rows densified in chunks of bounded memory
        and mapped by :meth:`_apply` (constructions with a sparse kernel override this)."""
        out = np.empty((X.shape[0], self.n_dims), dtype=X.dtype)
        rows = max(1, _SPARSE_CHUNK_ELEMENTS // max(1, self.n_features))
        for b0 in range(0, X.shape[0], rows):
            out[b0 : b0 + rows] = self._apply(X[b0 : b0 + rows].toarray())
        return out

    # -- shared ---------------------------------------------------------------------------------
    def apply(self, X: Any) -> Any:
        """Map a vector (n,) or a batch (N, n) to (m,) or (N, m); float32 stays float32.

        ``X`` may be a scipy.sparse matrix or array of shape (N, n) (any format; CSR is used as
        it is). Like scikit-learn's random projections, the sparse constructions
        (``very-sparse``, ``sparse-jl``, ``countsketch``) then return a sparse CSR result of
        the same flavour as the input (``csr_array`` for sparse arrays, ``csr_matrix`` for
        sparse matrices; exact zeros dropped), computed by a parallel numba kernel in
        O(nnz(X) s) work; the dense ones (and the SRHT) return an ndarray. Either way the
        values equal those for ``X.toarray()`` (bit for bit for the sparse constructions and the
        SRHT; to rounding for the dense ones, which use scipy's sparse-times-dense product).
        """
        if _is_sparse(X):
            csr = _check_sparse(X, "X", self.n_features)
            if csr.shape[0] == 0:
                raise ValueError(f"X must have at least 1 row; got shape {csr.shape}.")
            return self._apply_sparse(csr)
        arr = check_array(X, "X", ndim=(1, 2))
        if arr.shape[-1] != self.n_features:
            raise ValueError(
                f"X must have n_features={self.n_features} entries along its last axis; "
                f"got shape {arr.shape}."
            )
        batch = arr.reshape(-1, self.n_features)
        check_memory(
            batch.shape[0] * self.n_dims * arr.dtype.itemsize,
            f"{type(self).__name__}.apply of {batch.shape[0]} vectors (a {batch.shape[0]} x "
            f"{self.n_dims} {arr.dtype.name} result)",
            "map the vectors in smaller batches",
        )
        out = self._apply(batch)
        return out.reshape(self.n_dims) if arr.ndim == 1 else out

    __call__ = apply

    def __repr__(self) -> str:
        return f"{type(self).__name__}(n_features={self.n_features}, n_dims={self.n_dims})"


class _DenseJL(JLTransform):
    """Maps stored as a dense matrix and applied with one BLAS product."""

    _A: np.ndarray

    def _apply(self, X: np.ndarray) -> np.ndarray:
        A = self._A if X.dtype == np.float64 else self._A.astype(X.dtype)
        return X @ A.T

    def _apply_sparse(self, X: Any) -> np.ndarray:
        check_memory(
            X.shape[0] * self.n_dims * X.dtype.itemsize,
            f"{type(self).__name__}.apply of {X.shape[0]} sparse vectors (a dense "
            f"{X.shape[0]} x {self.n_dims} result)",
            "map the vectors in smaller batches",
        )
        A = self._A if X.dtype == np.float64 else self._A.astype(X.dtype)
        return np.asarray(X @ A.T)  # scipy's sparse x dense product: O(nnz(X) m)

    #: float64 (m, n) arrays alive at once while drawing (the matrix and its temporaries).
    _draw_copies: ClassVar[int] = 2

    def _draw_bytes(self) -> float:
        return 8.0 * self._draw_copies * self.n_dims * self.n_features

    def matrix(self) -> np.ndarray:
        return self._A.copy()


class GaussianJL(_DenseJL):
    """Dense Gaussian map: i.i.d. N(0, 1/m) entries.

    Notes
    -----
    ``m ||Ax||^2 / ||x||^2`` is chi-squared with m degrees of freedom, so
    ``E ||Ax||^2 = ||x||^2`` and ``Var ||Ax||^2 = 2 ||x||^4 / m``. Guarantee: distortion eps on N
    points with probability ``1 - delta`` once ``m >= (4 ln N + 2 ln(1/delta)) / (eps^2/2 -
    eps^3/3)`` (Dasgupta & Gupta 2003; :func:`csuper.jl.achlioptas_min_dim`). Apply cost
    O(m n) per vector (BLAS).

    References
    ----------
    S. Dasgupta, A. Gupta, Random Structures & Algorithms 22 (2003), doi:10.1002/rsa.10073.

    Examples
    --------
    >>> f = GaussianJL(1000, 200, rng=0)
    >>> x = np.ones(1000)
    >>> round(float(np.sum(f(x) ** 2) / np.sum(x**2)), 3)
    1.05
    """

    name = "gaussian"
    bound = "achlioptas"

    def _draw(self, rng):
        self._A = rng.standard_normal((self.n_dims, self.n_features)) / math.sqrt(self.n_dims)


class RademacherJL(_DenseJL):
    """Dense Rademacher (Achlioptas) map: i.i.d. entries +-1/sqrt(m).

    Notes
    -----
    ``E ||Ax||^2 = ||x||^2``, ``Var ||Ax||^2 = (2/m)(||x||_2^4 - ||x||_4^4)``. Achlioptas (2003,
    Theorem 1) proves the same guarantee as for Gaussian maps:
    ``m >= (4 ln N + 2 ln(1/delta)) / (eps^2/2 - eps^3/3)``.

    References
    ----------
    D. Achlioptas, J. Comput. Syst. Sci. 66 (2003), doi:10.1016/S0022-0000(03)00025-4.

    Examples
    --------
    >>> f = RademacherJL(16, 4, rng=0)
    >>> sorted(set(np.abs(f.matrix()).ravel().round(6).tolist()))
    [0.5]
    """

    name = "rademacher"
    bound = "achlioptas"
    _draw_copies = 3

    def _draw(self, rng):
        signs = rng.integers(0, 2, size=(self.n_dims, self.n_features), dtype=np.int8)
        self._A = (2.0 * signs - 1.0) / math.sqrt(self.n_dims)


class AchlioptasJL(_DenseJL):
    """Achlioptas' sparse map: entries sqrt(3/m) * {+1, 0, -1} w.p. {1/6, 2/3, 1/6} (density 1/3).

    Stored dense: at density 1/3 a BLAS product beats any sparse kernel.

    Notes
    -----
    ``E a^2 = 1/m`` and ``E a^4 = 3/m^2`` (as for a Gaussian), hence
    ``Var ||Ax||^2 = 2 ||x||^4 / m``. Guarantee (Achlioptas 2003, Theorem 1):
    ``m >= (4 ln N + 2 ln(1/delta)) / (eps^2/2 - eps^3/3)``.

    References
    ----------
    D. Achlioptas, J. Comput. Syst. Sci. 66 (2003), doi:10.1016/S0022-0000(03)00025-4.

    Examples
    --------
    >>> f = AchlioptasJL(3000, 300, rng=0)
    >>> round(float(np.mean(f.matrix() != 0)), 2)
    0.33
    """

    name = "achlioptas"
    bound = "achlioptas"
    _draw_copies = 4

    def _draw(self, rng):
        u = rng.random((self.n_dims, self.n_features))
        self._A = np.where(u < 1.0 / 6.0, 1.0, np.where(u >= 5.0 / 6.0, -1.0, 0.0))
        self._A *= math.sqrt(3.0 / self.n_dims)


class _SparseJLBase(JLTransform):
    """Maps stored by columns (CSC arrays) and applied by a numba kernel in O(nnz) per vector."""

    _indptr: np.ndarray
    _indices: np.ndarray
    _data: np.ndarray

    def _apply(self, X: np.ndarray) -> np.ndarray:
        out = np.empty((X.shape[0], self.n_dims), dtype=X.dtype)
        big = X.shape[0] * max(self.nnz, self.n_features) >= K.PARALLEL_MIN_WORK
        kernel = K.csc_apply_parallel if big else K.csc_apply
        ones = np.ones(self.n_features, dtype=X.dtype)
        kernel(X, self._indptr, self._indices, self._data.astype(X.dtype, copy=False), ones, out)
        return out

    def _apply_sparse(self, X: Any) -> Any:
        from scipy import sparse

        N, m = X.shape[0], self.n_dims
        capacity = np.empty(N, dtype=np.int64)
        K.csr_csc_capacity(X.indptr, X.indices, self._indptr, m, capacity)
        slots = np.zeros(N + 1, dtype=np.int64)
        np.cumsum(capacity, out=slots[1:])
        total = int(slots[-1])
        index = np.int32 if total + 64 < 2**31 else np.int64  # scipy's index dtype rule
        check_memory(
            total * (np.dtype(index).itemsize + X.dtype.itemsize) + 16 * N,
            f"{type(self).__name__}.apply of a sparse ({N} x {self.n_features}) X (a sparse "
            f"result with up to {total} stored entries)",
            "map the rows in smaller batches",
        )
        parallel = total >= _PARALLEL_MIN_ENTRIES
        bounds = K.csr_chunks(slots, min(N, 64) if parallel else 1)
        region = slots[bounds[:-1]] + np.arange(bounds.size - 1)  # one slot of slack per chunk
        region_end = np.empty_like(region)
        indptr = np.empty(N + 1, dtype=index)
        indices = np.empty(total + region.size, dtype=index)
        data = np.empty(total + region.size, dtype=X.dtype)
        (K.csr_csc_fill_parallel if parallel else K.csr_csc_fill)(
            X.indptr,
            X.indices,
            X.data,
            self._indptr,
            self._indices,
            self._data.astype(X.dtype, copy=False),
            m,
            bounds,
            region,
            indptr,
            indices,
            data,
            region_end,
        )
        # close the gaps between the chunks' regions (each chunk moves down as one block)
        start = 0
        for c in range(region.size):
            size = int(region_end[c] - region[c])
            if region[c] != start:
                indices[start : start + size] = indices[region[c] : region_end[c]]
                data[start : start + size] = data[region[c] : region_end[c]]
                indptr[bounds[c] : bounds[c + 1]] -= region[c] - start
            start += size
        indptr[N] = start
        indices.resize(start, refcheck=False)
        data.resize(start, refcheck=False)
        flavour = sparse.csr_array if isinstance(X, sparse.sparray) else sparse.csr_matrix
        out = flavour((data, indices, indptr), shape=(N, m))
        out.has_sorted_indices = True
        return out

    @property
    def nnz(self) -> int:
        """Number of stored nonzeros of the matrix."""
        return int(self._indptr[-1])

    def matrix(self) -> np.ndarray:
        self._check_matrix_memory()
        A = np.zeros((self.n_dims, self.n_features))
        cols = np.repeat(np.arange(self.n_features), np.diff(self._indptr))
        np.add.at(A, (self._indices, cols), self._data)
        return A

    def to_sparse(self):
        """The matrix as a ``scipy.sparse.csc_array`` of shape (m, n)."""
        from scipy import sparse

        return sparse.csc_array(
            (self._data.copy(), self._indices.copy(), self._indptr.copy()),
            shape=(self.n_dims, self.n_features),
        )


class VerySparseJL(_SparseJLBase):
    """Very sparse random projection (Li, Hastie & Church 2006): density 1/sqrt(n) by default.

    Entries are ``sqrt(1/(m d)) * {+1, 0, -1}`` with probabilities ``{d/2, 1 - d, d/2}``.

    Parameters
    ----------
    n_features, n_dims, rng
        As in :class:`JLTransform`.
    density : float in (0, 1] or None
        d; ``None`` means ``1/sqrt(n)``.

    Notes
    -----
    ``E a^2 = 1/m`` and ``E a^4 = 1/(m^2 d)``, hence
    ``Var ||Ax||^2 = (1/m)(2 ||x||_2^4 + (1/d - 3) ||x||_4^4)``: the price of sparsity is paid
    only on spiky vectors. Li, Hastie & Church show that with ``d = 1/sqrt(n)`` the map is
    asymptotically as accurate as a Gaussian one for vectors with bounded fourth moments; there
    is no finite-sample guarantee for every input (a 1-sparse difference x is preserved only when
    its column is hit), so no bound is attached. Apply cost O(m n d) per vector.

    References
    ----------
    P. Li, T. J. Hastie, K. W. Church, "Very sparse random projections", KDD 2006,
    doi:10.1145/1150402.1150436.

    Examples
    --------
    >>> f = VerySparseJL(10000, 100, rng=0)
    >>> round(f.nnz / (100 * 10000), 3)
    0.01
    """

    name = "very-sparse"
    bound = None
    params: ClassVar[tuple[str, ...]] = ("density",)

    def __init__(self, n_features: int, n_dims: int, *, density: float | None = None, rng=None):
        nf = check_int(n_features, "n_features", low=1, high=_MAX_SIZE)
        self.density = (
            1.0 / math.sqrt(nf)
            if density is None
            else check_real(density, "density", low=0.0, high=1.0, low_inclusive=False)
        )
        super().__init__(nf, n_dims, rng=rng)

    def _draw_bytes(self) -> float:
        total = self.n_dims * self.n_features
        k = total * self.density  # expected nonzeros
        # numpy's choice without replacement shuffles all `total` indices unless k is small
        choice = 8.0 * total if (self.density >= 1.0 / 50 or total <= 10_000) else 0.0
        return 8.0 * (6 * k + 2 * self.n_features) + choice

    def _draw(self, rng):
        m, n, d = self.n_dims, self.n_features, self.density
        total = m * n
        k = int(rng.binomial(total, d)) if d < 1.0 else total
        # a uniform k-subset of the m*n entries after a Binomial(mn, d) draw of k is exactly
        # i.i.d. Bernoulli(d) per entry; flat index = column * m + row gives CSC order on sorting
        flat = (
            np.sort(rng.choice(total, size=k, replace=False, shuffle=False))
            if d < 1.0
            else (np.arange(total))
        )
        cols = flat // m
        self._indices = (flat - cols * m).astype(np.int64)
        self._indptr = np.concatenate(([0], np.cumsum(np.bincount(cols, minlength=n)))).astype(
            np.int64
        )
        signs = 2.0 * rng.integers(0, 2, size=k) - 1.0
        self._data = signs * math.sqrt(1.0 / (m * d))


class SparseJL(_SparseJLBase):
    """Sparse JL transform, Kane–Nelson block construction: s nonzeros +-1/sqrt(s) per column.

    The m rows are split into s contiguous blocks of sizes differing by at most one; each column
    has exactly one nonzero, at a uniform row, in each block, with an independent random sign.

    Parameters
    ----------
    n_features, n_dims, rng
        As in :class:`JLTransform`.
    nnz_per_column : int or None
        s in [1, m]; ``None`` means ``min(8, m)``.

    Notes
    -----
    Every column has unit norm exactly. ``||Ax||^2 = (1/s) sum_b ||C_b x||^2`` with C_b
    independent CountSketches of m_b rows, so ``E ||Ax||^2 = ||x||^2`` and
    ``Var ||Ax||^2 = (2/s^2) sum_b (1/m_b) (||x||_2^4 - ||x||_4^4)``, which is
    ``(2/m)(||x||_2^4 - ||x||_4^4)`` for equal blocks. Guarantee (Kane & Nelson 2014): distortion
    eps for N points with ``m = O(eps^-2 log(N/delta))`` and ``s = O(eps m)``; see
    :func:`csuper.jl.kane_nelson_min_dim`. Apply cost O(s n) per vector.

    References
    ----------
    D. M. Kane, J. Nelson, "Sparser Johnson-Lindenstrauss transforms", J. ACM 61 (2014),
    arXiv:1012.1577.

    Examples
    --------
    >>> f = SparseJL(50, 12, nnz_per_column=4, rng=0)
    >>> np.allclose(np.linalg.norm(f.matrix(), axis=0), 1.0), f.nnz
    (True, 200)
    """

    name = "sparse-jl"
    bound = "kane-nelson"
    params: ClassVar[tuple[str, ...]] = ("nnz_per_column",)

    def __init__(
        self, n_features: int, n_dims: int, *, nnz_per_column: int | None = None, rng=None
    ):
        m = check_int(n_dims, "n_dims", low=1, high=_MAX_SIZE)
        s = min(8, m) if nnz_per_column is None else nnz_per_column
        self.nnz_per_column = check_int(s, "nnz_per_column", low=1, high=m)
        super().__init__(n_features, m, rng=rng)

    def _draw_bytes(self) -> float:
        return 8.0 * 6 * self.n_features * self.nnz_per_column

    def _draw(self, rng):
        m, n, s = self.n_dims, self.n_features, self.nnz_per_column
        sizes = m // s + (np.arange(s) < m % s)  # the block sizes of np.array_split
        starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
        rows = starts[None, :] + rng.integers(0, sizes[None, :], size=(n, s))
        signs = 2.0 * rng.integers(0, 2, size=(n, s)) - 1.0
        self._indices = rows.ravel().astype(np.int64)
        self._indptr = np.arange(0, n * s + 1, s, dtype=np.int64)
        self._data = signs.ravel() / math.sqrt(s)


class CountSketch(SparseJL):
    """CountSketch: one nonzero +-1 per column at a uniform row (sparse JL with s = 1).

    Notes
    -----
    ``E ||Sx||^2 = ||x||^2`` and ``Var ||Sx||^2 = (2/m)(||x||_2^4 - ||x||_4^4)``; Chebyshev and a
    union bound give distortion eps on N points with probability ``1 - delta`` for
    ``m >= N (N - 1) / (eps^2 delta)`` (:func:`csuper.jl.countsketch_min_dim`). Apply cost O(n)
    per vector.

    References
    ----------
    M. Charikar, K. Chen, M. Farach-Colton, "Finding frequent items in data streams", ICALP 2002.

    Examples
    --------
    >>> f = CountSketch(6, 3, rng=0)
    >>> f.matrix().astype(int).tolist()
    [[0, 0, 0, 1, 1, 1], [0, -1, -1, 0, 0, 0], [-1, 0, 0, 0, 0, 0]]
    """

    name = "countsketch"
    bound = "countsketch"
    params = ()

    def __init__(self, n_features: int, n_dims: int, *, rng=None):
        super().__init__(n_features, n_dims, nnz_per_column=1, rng=rng)


class SRHT(JLTransform):
    """Subsampled randomized Hadamard transform (fast JL): ``f(x) = H D x`` at m rows, / sqrt(m).

    x is zero-padded to n' = the next power of two >= n, D flips signs at random, H is the
    (unnormalised, Sylvester) Walsh–Hadamard matrix applied by a numba FWHT in O(n' log n'), and
    m of its n' rows are kept, sampled uniformly without replacement (so m <= n').

    Notes
    -----
    ``f(x) = sqrt(n'/m) P (H/sqrt(n')) D x``: H/sqrt(n') D is orthogonal and the sampled rows
    are unbiased, so ``E ||f(x)||^2 = ||x||^2``; every column of the matrix has unit norm
    exactly, and at m = n' the map is an isometry. Guarantee with explicit constants:
    :func:`csuper.jl.srht_min_dim`; the sharp order is ``m = O(eps^-2 log(N/delta) log(n/delta))``
    (Tropp 2011).

    References
    ----------
    N. Ailon, B. Chazelle, SIAM J. Comput. 39 (2009), doi:10.1137/060673096. J. A. Tropp,
    Adv. Adapt. Data Anal. 3 (2011), arXiv:1011.1595.

    Examples
    --------
    >>> f = SRHT(5, 8, rng=0)
    >>> x = np.array([1.0, -2.0, 0.5, 3.0, 1.0])
    >>> round(float(np.linalg.norm(f(x)) / np.linalg.norm(x)), 12)
    1.0
    """

    name = "srht"
    bound = "srht"

    @staticmethod
    def max_dims(n_features: int) -> int:
        return _next_pow2(n_features)

    def _draw(self, rng):
        self.n_padded = _next_pow2(self.n_features)
        self._signs = 2.0 * rng.integers(0, 2, size=self.n_features) - 1.0
        self._rows = np.sort(rng.choice(self.n_padded, size=self.n_dims, replace=False))
        self._rows = self._rows.astype(np.int64)

    def _apply(self, X: np.ndarray) -> np.ndarray:
        out = np.empty((X.shape[0], self.n_dims), dtype=X.dtype)
        scale = 1.0 / math.sqrt(self.n_dims)
        work = X.shape[0] * self.n_padded * max(1, self.n_padded.bit_length())
        kernel = K.srht_apply_parallel if work >= K.PARALLEL_MIN_WORK else K.srht_apply
        kernel(X, self._signs.astype(X.dtype), self._rows, self.n_padded, scale, out)
        return out

    def _draw_bytes(self) -> float:
        return 8.0 * (self.n_features + 2 * self.n_dims)

    def matrix(self) -> np.ndarray:
        self._check_matrix_memory()
        A = np.empty((self.n_dims, self.n_features))
        block = 512
        for start in range(0, self.n_features, block):
            stop = min(self.n_features, start + block)
            eye = np.zeros((stop - start, self.n_features))
            eye[np.arange(stop - start), np.arange(start, stop)] = 1.0
            A[:, start:stop] = self._apply(eye).T
        return A


CONSTRUCTIONS: dict[str, type[JLTransform]] = {
    cls.name: cls
    for cls in (GaussianJL, RademacherJL, AchlioptasJL, VerySparseJL, SparseJL, SRHT, CountSketch)
}
"""The JL constructions by name (CLI choices, parametrised tests, the experiment)."""


def make_jl(name: str, n_features: int, n_dims: int, *, rng=None, **params) -> JLTransform:
    """Build the construction ``name`` of :data:`CONSTRUCTIONS`.

    Parameters
    ----------
    name : str
        ``"gaussian"``, ``"rademacher"``, ``"achlioptas"``, ``"very-sparse"``, ``"sparse-jl"``,
        ``"srht"`` or ``"countsketch"``.
    n_features, n_dims : int
        n and m.
    rng : None, int or Generator
        Randomness.
    **params
        Construction parameters (``density`` for very-sparse, ``nnz_per_column`` for sparse-jl).

    Returns
    -------
    JLTransform

    Examples
    --------
    >>> make_jl("sparse-jl", 1000, 64, nnz_per_column=4, rng=1)
    SparseJL(n_features=1000, n_dims=64)
    """
    if not isinstance(name, str) or name not in CONSTRUCTIONS:
        raise ValueError(f"name must be one of {sorted(CONSTRUCTIONS)}; got {name!r}.")
    cls = CONSTRUCTIONS[name]
    unknown = sorted(set(params) - set(cls.params))
    if unknown:
        raise TypeError(
            f"params of the {name!r} construction must be among {list(cls.params)}; got "
            f"unexpected {unknown}."
        )
    return cls(n_features, n_dims, rng=rng, **params)
