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
from typing import Any, ClassVar

import numpy as np

from csuper._validation import check_array, check_int, check_real, check_rng
from csuper.jl import _jl_kernels as K

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
    length = arr.shape[-1]
    target = _next_pow2(length)
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
    """

    name: ClassVar[str] = ""
    bound: ClassVar[str | None] = None

    def __init__(self, n_features: int, n_dims: int, *, rng=None) -> None:
        self.n_features = check_int(n_features, "n_features", low=1)
        self.n_dims = check_int(n_dims, "n_dims", low=1, high=self.max_dims(self.n_features))
        self._draw(check_rng(rng))

    # -- to be provided by subclasses -----------------------------------------------------------
    @staticmethod
    def max_dims(n_features: int) -> int | None:
        """Largest allowed m for this n (``None``: unbounded)."""
        return None

    def _draw(self, rng: np.random.Generator) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _apply(self, X: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def matrix(self) -> np.ndarray:  # pragma: no cover - abstract
        """The explicit (m, n) float64 matrix A with f(x) = A x."""
        raise NotImplementedError

    # -- shared ---------------------------------------------------------------------------------
    def apply(self, X: Any) -> np.ndarray:
        """Map a vector (n,) or a batch (N, n) to (m,) or (N, m); float32 stays float32."""
        arr = check_array(X, "X", ndim=(1, 2))
        if arr.shape[-1] != self.n_features:
            raise ValueError(
                f"X must have n_features={self.n_features} entries along its last axis; "
                f"got shape {arr.shape}."
            )
        batch = arr.reshape(-1, self.n_features)
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

    @property
    def nnz(self) -> int:
        """Number of stored nonzeros of the matrix."""
        return int(self._indptr[-1])

    def matrix(self) -> np.ndarray:
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

    def __init__(self, n_features: int, n_dims: int, *, density: float | None = None, rng=None):
        nf = check_int(n_features, "n_features", low=1)
        self.density = (
            1.0 / math.sqrt(nf)
            if density is None
            else check_real(density, "density", low=0.0, high=1.0, low_inclusive=False)
        )
        super().__init__(nf, n_dims, rng=rng)

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

    def __init__(
        self, n_features: int, n_dims: int, *, nnz_per_column: int | None = None, rng=None
    ):
        m = check_int(n_dims, "n_dims", low=1)
        s = min(8, m) if nnz_per_column is None else nnz_per_column
        self.nnz_per_column = check_int(s, "nnz_per_column", low=1, high=m)
        super().__init__(n_features, m, rng=rng)

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

    def matrix(self) -> np.ndarray:
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
    if name not in CONSTRUCTIONS:
        raise ValueError(f"construction must be one of {sorted(CONSTRUCTIONS)}; got {name!r}.")
    return CONSTRUCTIONS[name](n_features, n_dims, rng=rng, **params)
