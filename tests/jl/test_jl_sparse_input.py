"""JL maps on scipy.sparse input (issue 17 item 4): every construction accepts it, returns what
scikit-learn's random projections return (sparse CSR from the sparse maps, an ndarray from the
dense ones), and gives the values of the dense input (bit for bit for the sparse constructions
and the SRHT)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import sparse

from csuper.jl import CONSTRUCTIONS, make_jl
from csuper.jl import transforms as T

SPARSE_MAPS = ("very-sparse", "sparse-jl", "countsketch")
EXACT = (*SPARSE_MAPS, "srht")  # computed by the dense path's own kernels: bit-identical
NAMES = sorted(CONSTRUCTIONS)


def _sparse(N, n, density, seed, fmt="csr", dtype=np.float64):
    return sparse.random(N, n, density=density, format=fmt, random_state=seed, dtype=dtype)


def _check(f, X, exact):
    Y = f.apply(X)
    D = f.apply(X.toarray())
    if f.name in SPARSE_MAPS:
        assert sparse.issparse(Y) and Y.format == "csr" and Y.has_sorted_indices
        Y.check_format(full_check=True)
        assert not np.any(Y.data == 0)  # exact zeros dropped, as scipy's product does
        assert isinstance(Y, sparse.sparray) == isinstance(X, sparse.sparray)
        Y = Y.toarray()
    else:
        assert isinstance(Y, np.ndarray)
    assert Y.shape == D.shape and Y.dtype == D.dtype
    if exact:
        np.testing.assert_array_equal(Y, D)
    else:  # scipy's sparse x dense product against BLAS: two summation orders of n terms
        bound = X.shape[1] * np.finfo(D.dtype).eps * np.abs(X).max() * np.abs(f.matrix()).max()
        np.testing.assert_allclose(Y, D, rtol=0, atol=2 * bound)


@pytest.mark.kernels
@pytest.mark.parametrize("name", NAMES)
@given(
    N=st.integers(1, 40),
    n=st.integers(1, 60),
    m=st.integers(1, 12),
    density=st.sampled_from([0.0, 0.02, 0.2, 1.0]),
    seed=st.integers(0, 2**31 - 1),
)
def test_sparse_equals_dense(name, N, n, m, density, seed):
    if name == "srht":
        m = min(m, 1 << max(0, (n - 1).bit_length()))
    if name == "sparse-jl":
        f = make_jl(name, n, m, nnz_per_column=min(3, m), rng=seed)
    else:
        f = make_jl(name, n, m, rng=seed)
    _check(f, _sparse(N, n, density, seed), exact=name in EXACT)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("fmt", ["csr", "csc", "coo"])
@pytest.mark.parametrize("flavour", ["matrix", "array"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
def test_formats_flavours_and_dtypes(name, fmt, flavour, dtype):
    X = _sparse(30, 50, 0.1, 1, fmt)
    X = (X * 7).astype(dtype) if dtype == np.int64 else X.astype(dtype)
    X = sparse.csr_array(X).asformat(fmt) if flavour == "array" else X
    f = make_jl(name, 50, 8, rng=2)
    Y = f.apply(X)
    want = np.float32 if dtype == np.float32 else np.float64
    assert Y.dtype == want
    _check(f, X, exact=name in EXACT)


@pytest.mark.parametrize("name", SPARSE_MAPS)
def test_non_canonical_input_is_not_modified(name):
    """Duplicates and unsorted indices are summed and sorted on a copy; the caller's arrays are
    untouched."""
    X = sparse.csr_matrix(
        (np.array([1.0, 2.0, 3.0, -1.0]), np.array([5, 1, 5, 0]), np.array([0, 3, 4])),
        shape=(2, 10),
    )
    before = (X.data.copy(), X.indices.copy(), X.indptr.copy())
    f = make_jl(name, 10, 4, rng=0)
    np.testing.assert_array_equal(f.apply(X).toarray(), f.apply(X.toarray()))
    for a, b in zip(before, (X.data, X.indices, X.indptr)):
        np.testing.assert_array_equal(a, b)


@pytest.mark.kernels
@pytest.mark.parametrize("name", SPARSE_MAPS)
def test_parallel_kernel_equals_serial(monkeypatch, name):
    """The parallel build (64 row chunks, then the gaps between their regions closed) gives the
    serial result bit for bit, including rows that are empty or all-cancelling."""
    X = _sparse(300, 80, 0.05, 3)
    X = sparse.vstack([X, sparse.csr_matrix((5, 80)), X[:7]]).tocsr()
    f = make_jl(name, 80, 16, rng=4)
    serial = f.apply(X)
    monkeypatch.setattr(T, "_PARALLEL_MIN_ENTRIES", 0)
    parallel = f.apply(X)
    for a in ("data", "indices", "indptr"):
        np.testing.assert_array_equal(getattr(serial, a), getattr(parallel, a))
    _check(f, X, exact=True)


def test_cancellation_drops_exact_zeros():
    """Two columns of a CountSketch that hash to one row r with signs s_a, s_b: the row vector
    with x_a = 1, x_b = -s_a / s_b has y_r = 0 exactly, which the sparse result does not store
    (the dense result has the zero)."""
    f = make_jl("countsketch", 20, 3, rng=0)
    A = f.matrix()
    rows = np.argmax(A != 0, axis=0)
    a, b = next((a, b) for a in range(20) for b in range(a + 1, 20) if rows[a] == rows[b])
    x = np.zeros((1, 20))
    x[0, a], x[0, b] = 1.0, -A[rows[a], a] / A[rows[b], b]
    Y = f.apply(sparse.csr_matrix(x))
    assert f.apply(x)[0, rows[a]] == 0.0 and Y.nnz == 0
    np.testing.assert_array_equal(Y.toarray(), f.apply(x))


def test_sparse_errors_name_the_parameter():
    f = make_jl("very-sparse", 10, 3, rng=0)
    with pytest.raises(ValueError, match=r"X must have n_features=10 columns; got shape \(2, 9\)"):
        f.apply(sparse.csr_matrix((2, 9)))
    with pytest.raises(ValueError, match="X must contain only finite values; got 1 NaN"):
        f.apply(sparse.csr_matrix(np.array([[np.nan] + [0.0] * 9])))
    with pytest.raises(TypeError, match="X must hold real numbers"):
        f.apply(sparse.csr_matrix(np.ones((1, 10), dtype=complex)))
    with pytest.raises(ValueError, match="X must have at least 1 row"):
        f.apply(sparse.csr_matrix((0, 10)))


def test_matches_scikit_learn_output_type():
    """What scikit-learn's SparseRandomProjection and GaussianRandomProjection return for CSR
    input: a sparse CSR matrix and an ndarray (an optional dependency: skipped if absent)."""
    rp = pytest.importorskip("sklearn.random_projection")
    X = _sparse(20, 40, 0.1, 5)
    sk_sparse = rp.SparseRandomProjection(n_components=8, random_state=0).fit(X).transform(X)
    sk_dense = rp.GaussianRandomProjection(n_components=8, random_state=0).fit(X).transform(X)
    ours_sparse = make_jl("very-sparse", 40, 8, rng=0).apply(X)
    ours_dense = make_jl("gaussian", 40, 8, rng=0).apply(X)
    assert type(ours_sparse) is type(sk_sparse) and ours_sparse.format == sk_sparse.format
    assert type(ours_dense) is type(sk_dense)
