"""JL constructions: apply vs explicit matrix, unbiasedness, exact second moments, structure,
the Walsh-Hadamard kernel against scipy.linalg.hadamard, reproducibility and bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.linalg
from hypothesis import given
from hypothesis import strategies as st

from csuper.jl import CONSTRUCTIONS, SRHT, SparseJL, VerySparseJL, fwht, make_jl

NAMES = sorted(CONSTRUCTIONS)


def _params(name: str, m: int) -> dict:
    return {"nnz_per_column": min(3, m)} if name == "sparse-jl" else {}


def _cap(name: str, n: int, m: int) -> int:
    cap = CONSTRUCTIONS[name].max_dims(n)
    return m if cap is None else min(m, cap)


@pytest.mark.kernels
@pytest.mark.parametrize("name", NAMES)
@given(n=st.integers(1, 40), m=st.integers(1, 24), seed=st.integers(0, 2**32 - 1))
def test_apply_equals_explicit_matrix(name, n, m, seed):
    m = _cap(name, n, m)
    f = make_jl(name, n, m, rng=seed, **_params(name, m))
    X = np.random.default_rng(seed).standard_normal((5, n))
    A = f.matrix()
    assert A.shape == (m, n)
    np.testing.assert_allclose(f(X), X @ A.T, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(f(X[0]), A @ X[0], rtol=1e-10, atol=1e-10)
    assert f(X[0]).shape == (m,)


@pytest.mark.parametrize("name", NAMES)
def test_float32_stays_float32(name):
    f = make_jl(name, 50, 16, rng=3)
    X = np.random.default_rng(0).standard_normal((4, 50))
    Y32 = f(X.astype(np.float32))
    assert Y32.dtype == np.float32
    np.testing.assert_allclose(Y32, f(X), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("name", NAMES)
def test_same_seed_bit_identical_other_seed_differs(name):
    a = make_jl(name, 64, 16, rng=11).matrix()
    b = make_jl(name, 64, 16, rng=11).matrix()
    c = make_jl(name, 64, 16, rng=12).matrix()
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)
    g = np.random.default_rng(5)
    assert np.array_equal(
        make_jl(name, 64, 16, rng=g).matrix(),
        make_jl(name, 64, 16, rng=np.random.default_rng(5)).matrix(),
    )


def _fourth_moment_variance(name: str, x: np.ndarray, m: int, n: int) -> float | None:
    """Closed-form Var ||f(x)||^2 (see each class's Notes); None where there is none."""
    s2 = float(np.sum(x**2)) ** 2
    s4 = float(np.sum(x**4))
    if name in ("gaussian", "achlioptas"):  # E a^4 = 3 / m^2
        return 2.0 * s2 / m
    if name in ("rademacher", "countsketch"):
        return 2.0 * (s2 - s4) / m
    if name == "sparse-jl":  # equal blocks when s divides m
        return 2.0 * (s2 - s4) / m
    if name == "very-sparse":  # E a^4 = 1 / (m^2 d), d = 1/sqrt(n)
        return (2.0 * s2 + (math.sqrt(n) - 3.0) * s4) / m
    return None


@pytest.mark.parametrize("name", NAMES)
def test_norm_preserved_in_expectation_and_variance(name):
    """E ||f(x)||^2 = ||x||^2 (every construction), and Var ||f(x)||^2 equals its closed form.

    Monte Carlo over R independent maps; the mean is tested with its standard error, the variance
    with the standard error of a sample variance, sqrt((mu4 - sigma^4) / R), both at 5 sigma.
    """
    n, m, R = 36, 8, 3000
    x = np.linspace(-1.0, 2.0, n)
    x[3] = 6.0  # a spike, so that the fourth-moment terms matter
    rng = np.random.default_rng(2024)
    params = {"nnz_per_column": 2} if name == "sparse-jl" else {}
    vals = np.array([np.sum(make_jl(name, n, m, rng=rng, **params)(x) ** 2) for _ in range(R)])
    target = float(np.sum(x**2))
    se = vals.std(ddof=1) / math.sqrt(R)
    assert abs(vals.mean() - target) < 5 * se, (vals.mean(), target, se)
    var = _fourth_moment_variance(name, x, m, n)
    if var is not None:
        c = vals - vals.mean()
        se_var = math.sqrt(max(np.mean(c**4) - np.mean(c**2) ** 2, 0.0) / R)
        assert abs(vals.var(ddof=1) - var) < 5 * se_var, (vals.var(ddof=1), var, se_var)


@pytest.mark.parametrize("name", ["sparse-jl", "countsketch", "srht"])
@given(n=st.integers(1, 60), m=st.integers(1, 30), seed=st.integers(0, 2**32 - 1))
def test_unit_norm_columns(name, n, m, seed):
    m = _cap(name, n, m)
    A = make_jl(name, n, m, rng=seed, **_params(name, m)).matrix()
    np.testing.assert_allclose(np.linalg.norm(A, axis=0), 1.0, rtol=1e-12)


@given(n=st.integers(1, 70), seed=st.integers(0, 2**32 - 1))
def test_srht_full_rows_is_an_isometry(n, seed):
    f = SRHT(n, SRHT.max_dims(n), rng=seed)
    X = np.random.default_rng(seed).standard_normal((3, n))
    np.testing.assert_allclose(np.linalg.norm(f(X), axis=1), np.linalg.norm(X, axis=1), rtol=1e-12)


def test_srht_matrix_matches_scipy_hadamard():
    n, m = 37, 20
    f = SRHT(n, m, rng=4)
    H = scipy.linalg.hadamard(64)
    ref = H[f._rows][:, :n] * f._signs[None, :] / math.sqrt(m)
    np.testing.assert_allclose(f.matrix(), ref, atol=1e-14)


@given(
    n=st.integers(2, 40), m=st.integers(1, 20), s=st.integers(1, 20), seed=st.integers(0, 2**32 - 1)
)
def test_sparse_jl_block_structure(n, m, s, seed):
    s = min(s, m)
    A = SparseJL(n, m, nnz_per_column=s, rng=seed).matrix()
    blocks = np.array_split(np.arange(m), s)
    for b in blocks:
        nz = np.count_nonzero(A[b], axis=0)
        assert np.all(nz == 1)
    np.testing.assert_allclose(np.abs(A[A != 0]), 1 / math.sqrt(s))


def test_very_sparse_density_and_values():
    m, n = 64, 2500
    f = VerySparseJL(n, m, rng=9)
    d = 1 / math.sqrt(n)
    mean, sd = m * n * d, math.sqrt(m * n * d * (1 - d))
    assert abs(f.nnz - mean) < 5 * sd  # nnz ~ Binomial(mn, d)
    A = f.to_sparse().toarray()
    np.testing.assert_allclose(np.abs(A[A != 0]), math.sqrt(1 / (m * d)))
    assert np.array_equal(A, f.matrix())


@given(k=st.integers(0, 9), rows=st.integers(1, 3), seed=st.integers(0, 2**32 - 1))
def test_fwht_equals_scipy_hadamard_and_is_self_inverse(k, rows, seed):
    L = 2**k
    X = np.random.default_rng(seed).standard_normal((rows, L))
    H = scipy.linalg.hadamard(L).astype(float)
    np.testing.assert_allclose(fwht(X), X @ H.T, rtol=1e-10, atol=1e-9)
    np.testing.assert_allclose(fwht(fwht(X)), L * X, rtol=1e-10, atol=1e-9)
    np.testing.assert_allclose(fwht(fwht(X, normalize=True), normalize=True), X, atol=1e-10)
    np.testing.assert_allclose(fwht(X[0]), H @ X[0], rtol=1e-10, atol=1e-9)


def test_fwht_pad():
    x = np.arange(1.0, 6.0)
    np.testing.assert_allclose(fwht(x, pad=True), scipy.linalg.hadamard(8) @ np.r_[x, 0, 0, 0])
    with pytest.raises(ValueError, match="power-of-two"):
        fwht(x)


# ------------------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("name", NAMES)
def test_bad_dimensions(name):
    with pytest.raises(ValueError, match=r"n_dims must be an integer in \[1, .*; got 0"):
        make_jl(name, 10, 0)
    with pytest.raises(ValueError, match=r"n_features must be an integer in \[1, \d+\]; got 0"):
        make_jl(name, 0, 3)
    with pytest.raises(TypeError, match="n_dims"):
        make_jl(name, 10, 2.0)


@pytest.mark.parametrize("name", NAMES)
def test_bad_batches(name):
    f = make_jl(name, 10, 4, rng=0)
    with pytest.raises(
        ValueError, match=r"n_features=10 entries along its last axis; got shape \(3, 9\)"
    ):
        f(np.ones((3, 9)))
    with pytest.raises(ValueError, match="X must contain only finite values"):
        f(np.full((2, 10), np.nan))
    with pytest.raises(ValueError, match="X must be a 1 or 2-D array"):
        f(np.ones((2, 2, 10)))
    with pytest.raises(TypeError, match="X must be an array of real numbers"):
        f(np.array(["a"] * 10))


def test_bad_construction_parameters():
    with pytest.raises(ValueError, match=r"n_dims must be an integer in \[1, 16\]; got 17"):
        SRHT(10, 17)
    with pytest.raises(ValueError, match=r"nnz_per_column must be an integer in \[1, 4\]; got 5"):
        SparseJL(10, 4, nnz_per_column=5)
    with pytest.raises(ValueError, match=r"density must be a real number in \(0, 1\]; got 0.0"):
        VerySparseJL(10, 4, density=0.0)
    with pytest.raises(ValueError, match="name must be one of"):
        make_jl("fourier", 10, 4)
    with pytest.raises(TypeError, match="RandomState"):
        make_jl("gaussian", 10, 4, rng=np.random.RandomState(0))


@pytest.mark.kernels
def test_parallel_and_serial_kernel_builds_are_bit_identical():
    from csuper.jl import _jl_kernels as K

    rng = np.random.default_rng(8)
    X = rng.standard_normal((37, 300))
    f = SparseJL(300, 40, nnz_per_column=5, rng=1)
    outs = []
    for kern in (K.csc_apply, K.csc_apply_parallel):
        out = np.empty((37, 40))
        kern(X, f._indptr, f._indices, f._data, np.ones(300), out)
        outs.append(out)
    assert np.array_equal(*outs)
    s = SRHT(300, 100, rng=2)
    outs = []
    for kern in (K.srht_apply, K.srht_apply_parallel):
        out = np.empty((37, 100))
        kern(X, s._signs, s._rows, s.n_padded, 0.1, out)
        outs.append(out)
    assert np.array_equal(*outs)
    W = [np.ascontiguousarray(X[:, :256]) for _ in range(2)]
    K.fwht_rows(W[0])
    K.fwht_rows_parallel(W[1])
    assert np.array_equal(*W)
