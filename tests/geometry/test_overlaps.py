"""Tests of csuper.geometry.overlaps: the streamed pass against the dense numpy reference,
geometric invariances and bounds (hypothesis), closed forms, input errors, memory, and the guard
against numpy 2.4's OpenBLAS float64 syrk crash."""

from __future__ import annotations

import os
import textwrap
import tracemalloc

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from csuper.geometry import (
    FrameStatistics,
    coherence,
    feature_dimensionality,
    frame_potential,
    frame_statistics,
    gram_matrix,
    interference,
    mean_squared_overlap,
    overlap_matrix,
)
from csuper.geometry import _dense_reference as dense
from csuper.geometry import gram as gmod
from csuper.geometry import overlaps as imod
from csuper.testing import frames, orthogonal_matrices, unit_norm_frames

NO_JIT = os.environ.get("NUMBA_DISABLE_JIT", "0") not in ("", "0")
RTOL = 1e-10  # the brief's agreement level for float64 (observed: ~1e-15)
EPS32 = 2.0**-24  # unit roundoff of float32


def assert_matches_reference(stats: FrameStatistics, W: np.ndarray, rtol: float = RTOL) -> None:
    """Every statistic of ``stats`` equals the dense float64 reference of ``W`` to ``rtol``,
    relative to the statistic's natural scale (overlaps are <= 1; interference is measured
    against sum_j |w_j|^2, the largest it can be)."""
    ref = dense.reference_statistics(W)
    scale_w = float((ref["norms"] ** 2).sum())
    np.testing.assert_allclose(stats.norms, ref["norms"], rtol=rtol)
    np.testing.assert_allclose(
        stats.interference, ref["interference"], rtol=rtol, atol=rtol * scale_w
    )
    np.testing.assert_allclose(
        stats.feature_dimensionality, ref["feature_dimensionality"], rtol=rtol, atol=rtol
    )
    assert stats.coherence == pytest.approx(ref["coherence"], rel=rtol, abs=rtol)
    assert stats.mean_squared_overlap == pytest.approx(
        ref["mean_squared_overlap"], rel=rtol, abs=rtol
    )
    assert stats.frame_potential == pytest.approx(ref["frame_potential"], rel=rtol)


def harmonic_frame(n: int) -> np.ndarray:
    """n unit vectors at angles 2 pi k / n in R^2: a unit-norm tight frame for n >= 3."""
    t = 2 * np.pi * np.arange(n) / n
    return np.vstack([np.cos(t), np.sin(t)])


# --- differential: streamed numba pass vs dense numpy -------------------------------------------


@pytest.mark.kernels
@given(W=frames(n_dims=(1, 8), n_features=(2, 40)), data=st.data())
def test_streamed_pass_equals_dense_reference(W, data):
    n = W.shape[1]
    block = data.draw(st.one_of(st.none(), st.integers(1, n + 3)), label="block_size")
    assert_matches_reference(frame_statistics(W, block_size=block), W)


@pytest.mark.kernels
@pytest.mark.parametrize("block_size", [1, 2, 7, 16, 37, 64, 200])
def test_block_sizes_that_do_not_divide_n(block_size):
    rng = np.random.default_rng(0)
    W = rng.standard_normal((12, 64)) * rng.uniform(0.1, 5.0, size=64)
    stats = frame_statistics(W, block_size=block_size)
    assert stats.block_size == min(block_size, 64)
    assert_matches_reference(stats, W)


def test_default_block_size_with_several_tiles():
    rng = np.random.default_rng(1)
    n = 2 * imod.DEFAULT_BLOCK_SIZE + 77
    W = rng.standard_normal((24, n))
    stats = frame_statistics(W)
    assert stats.block_size == imod.DEFAULT_BLOCK_SIZE
    assert_matches_reference(stats, W)


def test_numpy_baseline_equals_reference():
    """The benchmark's lean numpy baseline computes the same statistics."""
    rng = np.random.default_rng(2)
    W = rng.standard_normal((10, 90)) * rng.uniform(0.2, 3.0, size=90)
    base, ref = dense.numpy_baseline_statistics(W), dense.reference_statistics(W)
    for key, value in ref.items():
        np.testing.assert_allclose(base[key], value, rtol=1e-12, err_msg=key)


@given(W=frames(n_dims=(1, 8), n_features=(2, 30)))
def test_individual_functions_are_views_of_the_pass(W):
    stats = frame_statistics(W, block_size=4)
    assert coherence(W, block_size=4) == stats.coherence
    assert mean_squared_overlap(W, block_size=4) == stats.mean_squared_overlap
    assert frame_potential(W, block_size=4) == stats.frame_potential
    np.testing.assert_array_equal(interference(W, block_size=4), stats.interference)
    np.testing.assert_array_equal(
        feature_dimensionality(W, block_size=4), stats.feature_dimensionality
    )


@pytest.mark.kernels
@pytest.mark.parametrize("shape", [(8, 5), (3, 7), (17, 33), (5, 130), (64, 129)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_overlap_matrix_is_exactly_symmetric(shape, dtype):
    # the docstring promises symmetry; a general BLAS product need not round H[i, j] and
    # H[j, i] alike (issue 10: np.ones((8, 5)) gave max |H - H.T| = 1.1e-16), so it is exact by
    # construction, with the JIT and without
    for W in (np.ones(shape), np.random.default_rng(shape[1]).standard_normal(shape)):
        H = overlap_matrix(W.astype(dtype))
        assert np.array_equal(H, H.T)
        assert np.all(np.diag(H) == 1.0)


@pytest.mark.kernels
@given(W=frames(n_dims=(1, 8), n_features=(1, 20)))
def test_overlap_matrix_equals_reference(W):
    H = overlap_matrix(W)
    U = W / np.linalg.norm(W, axis=0)
    expected = U.T @ U.copy()
    np.fill_diagonal(expected, 1.0)
    np.testing.assert_allclose(H, expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(H, H.T)


def test_coherent_pair_attains_coherence():
    rng = np.random.default_rng(3)
    W = rng.standard_normal((6, 50))
    stats = frame_statistics(W, block_size=9)
    i, j = stats.coherent_pair
    assert i < j
    assert abs(overlap_matrix(W)[i, j]) == pytest.approx(stats.coherence, rel=1e-12)


@given(W=frames(n_dims=(1, 12), n_features=(2, 30)), data=st.data())
def test_float32_within_documented_error(W, data):
    """float32 products, float64 sums: each overlap is off by at most gamma = (m + 2) 2^-24
    (the dot-product error bound m u / (1 - m u) plus the rounding of the unit vectors), so
    coherence and D_i are within a few gamma, interference within 3 gamma sum_j |w_j|^2."""
    W32 = W.astype(np.float32)
    block = data.draw(st.integers(1, W.shape[1] + 2), label="block_size")
    stats = frame_statistics(W32, block_size=block)
    assert stats.dtype == "float32"
    ref = dense.reference_statistics(W32.astype(np.float64))
    m = W.shape[0]
    gamma = (m + 2) * EPS32 / (1 - (m + 2) * EPS32)
    scale_w = float((ref["norms"] ** 2).sum())
    assert abs(stats.coherence - ref["coherence"]) <= 2 * gamma
    assert abs(stats.mean_squared_overlap - ref["mean_squared_overlap"]) <= 3 * gamma
    np.testing.assert_allclose(
        stats.interference, ref["interference"], rtol=0, atol=3 * gamma * scale_w
    )
    np.testing.assert_allclose(
        stats.feature_dimensionality, ref["feature_dimensionality"], atol=6 * gamma
    )
    np.testing.assert_allclose(stats.norms, ref["norms"], rtol=1e-12)
    assert stats.frame_potential == pytest.approx(ref["frame_potential"], rel=6 * gamma)


# --- invariances -------------------------------------------------------------------------------


@st.composite
def frame_with_rotation(draw):
    m = draw(st.integers(1, 8))
    W = draw(frames(n_dims=m, n_features=(2, 20)))
    Q = draw(orthogonal_matrices(dim=m))
    return W, Q


def _assert_same_geometry(a: FrameStatistics, b: FrameStatistics, perm=None) -> None:
    perm = np.arange(a.n_features) if perm is None else perm
    scale_w = float((a.norms**2).sum())
    assert b.coherence == pytest.approx(a.coherence, abs=1e-12)
    assert b.mean_squared_overlap == pytest.approx(a.mean_squared_overlap, rel=1e-10, abs=1e-12)
    assert b.frame_potential == pytest.approx(a.frame_potential, rel=1e-10)
    np.testing.assert_allclose(
        b.interference, a.interference[perm], rtol=1e-10, atol=1e-12 * scale_w
    )
    np.testing.assert_allclose(
        b.feature_dimensionality, a.feature_dimensionality[perm], rtol=1e-10, atol=1e-12
    )


@given(frame_with_rotation())
def test_invariant_under_rotations(case):
    W, Q = case
    _assert_same_geometry(frame_statistics(W), frame_statistics(Q @ W))


@given(W=frames(n_dims=(1, 8), n_features=(2, 20)), data=st.data())
def test_invariant_under_permutations_and_sign_flips(W, data):
    n = W.shape[1]
    perm = np.array(data.draw(st.permutations(range(n)), label="perm"))
    signs = np.array(data.draw(st.lists(st.sampled_from([-1.0, 1.0]), min_size=n, max_size=n)))
    a = frame_statistics(W, block_size=3)
    b = frame_statistics((W * signs)[:, perm], block_size=5)
    _assert_same_geometry(a, b, perm)


@given(W=frames(n_dims=(1, 8), n_features=(2, 20)), c=st.floats(1e-3, 1e3))
def test_scaling_laws(W, c):
    """Overlaps and D_i are scale invariant; interference scales as c^2, frame potential as c^4."""
    a, b = frame_statistics(W), frame_statistics(c * W)
    assert b.coherence == pytest.approx(a.coherence, abs=1e-12)
    np.testing.assert_allclose(
        b.feature_dimensionality, a.feature_dimensionality, rtol=1e-10, atol=1e-12
    )
    np.testing.assert_allclose(
        b.interference, c**2 * a.interference, rtol=1e-10, atol=1e-12 * c**2 * (a.norms**2).sum()
    )
    assert b.frame_potential == pytest.approx(c**4 * a.frame_potential, rel=1e-10)


# --- bounds that hold for every frame ----------------------------------------------------------


@given(W=frames(n_dims=(1, 8), n_features=(1, 30)), data=st.data())
def test_total_dimensionality_at_most_m(W, data):
    """0 <= D_i <= 1 and sum_i D_i <= rank(W) <= m (Scherlis et al. 2022), dead features
    included."""
    n = W.shape[1]
    dead = np.array(data.draw(st.lists(st.booleans(), min_size=n, max_size=n), label="dead"))
    W = np.where(dead, 0.0, W)
    D = feature_dimensionality(W, block_size=data.draw(st.integers(1, n + 1), label="block"))
    assert np.all(D >= 0) and np.all(D <= 1 + 1e-12)
    assert np.all(D[dead] == 0)
    rank = np.linalg.matrix_rank(W) if not dead.all() else 0
    assert D.sum() <= rank * (1 + 1e-12) + 1e-12


@given(W=frames(n_dims=(1, 8), n_features=(2, 30)))
def test_coherence_in_unit_interval(W):
    mu = coherence(W)
    assert 0.0 <= mu <= 1.0
    assert mu >= np.sqrt(mean_squared_overlap(W)) * (1 - 1e-12)  # max >= root mean square


@given(W=unit_norm_frames(n_dims=(1, 8), n_features=(2, 30)))
def test_frame_potential_lower_bound_unit_norm(W):
    """Benedetto-Fickus: FP >= n^2 / m; equivalently the Welch bound on the mean squared overlap."""
    m, n = W.shape
    stats = frame_statistics(W)
    assert stats.frame_potential >= n**2 / m * (1 - 1e-12)
    assert stats.mean_squared_overlap >= (n - m) / (m * (n - 1)) - 1e-12


@given(W=frames(n_dims=(1, 8), n_features=(1, 30)))
def test_frame_potential_lower_bound_any_frame(W):
    """FP(W) = ||W W^T||_F^2 >= (tr W W^T)^2 / m (Cauchy-Schwarz on the eigenvalues)."""
    m = W.shape[0]
    fp = frame_potential(W)
    S = W @ W.T
    assert fp == pytest.approx(float((S**2).sum()), rel=1e-10)
    assert fp >= np.trace(S) ** 2 / m * (1 - 1e-12)


# --- closed forms --------------------------------------------------------------------------------


@given(Q=orthogonal_matrices(dim=(1, 10)))
def test_orthonormal_basis(Q):
    m = Q.shape[0]
    stats = frame_statistics(Q) if m > 1 else None
    D = feature_dimensionality(Q)
    np.testing.assert_allclose(D, 1.0, rtol=1e-12)
    np.testing.assert_allclose(interference(Q), 0.0, atol=1e-24 * m + 1e-28)
    assert frame_potential(Q) == pytest.approx(m, rel=1e-12)
    if stats is not None:
        assert stats.coherence == pytest.approx(0.0, abs=1e-14)
        assert stats.mean_squared_overlap == pytest.approx(0.0, abs=1e-28)


@pytest.mark.parametrize("n", [3, 4, 5, 7, 12, 101])
def test_harmonic_frame_is_tight(n):
    """Unit-norm tight frame in R^2: FP = n^2 / m exactly (Benedetto-Fickus equality case),
    D_i = m / n for all i, so sum_i D_i = m; coherence = |cos(2 pi / n)| maximised over the
    angles 2 pi k / n, k != 0 (mod n); mean squared overlap = Welch's (n - m) / (m (n - 1))."""
    W = harmonic_frame(n)
    stats = frame_statistics(W, block_size=4)
    assert stats.frame_potential == pytest.approx(n**2 / 2, rel=1e-12)
    np.testing.assert_allclose(stats.feature_dimensionality, 2 / n, rtol=1e-12)
    expected_mu = np.max(np.abs(np.cos(2 * np.pi * np.arange(1, n) / n)))
    assert stats.coherence == pytest.approx(expected_mu, rel=1e-12)
    assert stats.mean_squared_overlap == pytest.approx((n - 2) / (2 * (n - 1)), rel=1e-12)


def test_elhage_pentagon_and_antipodal_pair():
    """Toy Models of Superposition (Elhage et al. 2022), 'Feature dimensionality' section:
    features in an antipodal pair have D = 1/2, in a pentagon D = 2/5, a lone feature D = 1 and a
    dropped one D = 0."""
    pentagon = harmonic_frame(5)
    W = np.zeros((5, 9))
    W[:2, :5] = 0.8 * pentagon
    W[2, 5], W[2, 6] = 1.1, -1.1  # antipodal pair
    W[3, 7] = 0.6  # alone in its dimension
    D = feature_dimensionality(W, block_size=2)
    np.testing.assert_allclose(D, [0.4] * 5 + [0.5, 0.5, 1.0, 0.0], rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("m", [1, 2, 3, 5, 9])
def test_simplex_coherence(m):
    """m + 1 unit vectors with pairwise inner product -1/m (regular simplex): coherence 1/m,
    equality in the Welch bound sqrt((n - m) / (m (n - 1)))."""
    E = np.eye(m + 1) - 1.0 / (m + 1)
    mu = coherence(E)
    assert mu == pytest.approx(1.0 / m, rel=1e-12)
    n = m + 1
    assert mu == pytest.approx(np.sqrt((n - m) / (m * (n - 1))), rel=1e-12)


@pytest.mark.kernels
def test_extreme_scales_are_exact():
    """Squared norms of 1e-200 or 1e200 columns would under/overflow: the pass scales W by an
    exact power of two first."""
    rng = np.random.default_rng(4)
    W = rng.standard_normal((5, 11))
    base = frame_statistics(W)
    tiny = frame_statistics(1e-200 * W)
    assert tiny.coherence == pytest.approx(base.coherence, rel=1e-12)
    np.testing.assert_allclose(tiny.feature_dimensionality, base.feature_dimensionality, rtol=1e-12)
    small = frame_statistics(1e-60 * W)  # interference ~ 1e-120, FP ~ 1e-240: representable
    assert small.frame_potential == pytest.approx(1e-240 * base.frame_potential, rel=1e-12)
    np.testing.assert_allclose(small.interference, 1e-120 * base.interference, rtol=1e-12)
    with pytest.warns(RuntimeWarning, match="overflows float64"):
        huge = frame_statistics(1e200 * W)
    assert huge.frame_potential == np.inf
    assert huge.coherence == pytest.approx(base.coherence, rel=1e-12)
    np.testing.assert_allclose(huge.feature_dimensionality, base.feature_dimensionality, rtol=1e-12)
    lopsided = W.copy()
    lopsided[:, 3] *= 1e-300
    lopsided[:, 0] *= 1e20
    with pytest.raises(ValueError, match="too small relative"):
        coherence(lopsided)


# --- bad input -----------------------------------------------------------------------------------

PUBLIC = [
    coherence,
    interference,
    mean_squared_overlap,
    frame_potential,
    feature_dimensionality,
    frame_statistics,
    overlap_matrix,
]


@pytest.mark.parametrize("fn", PUBLIC)
@pytest.mark.parametrize(
    "bad, exc, match",
    [
        (np.array([[1.0, np.nan], [0.0, 1.0]]), ValueError, "finite"),
        (np.array([[1.0, np.inf], [0.0, 1.0]]), ValueError, "finite"),
        (np.ones(3), ValueError, "2-D"),
        (np.ones((2, 2, 2)), ValueError, "2-D"),
        ([["a", "b"]], TypeError, "real numbers"),
        (np.ones((2, 2)) * 1j, TypeError, "real"),
    ],
)
def test_bad_frames_raise(fn, bad, exc, match):
    with pytest.raises(exc, match=match):
        fn(bad)


@pytest.mark.parametrize(
    "fn", [coherence, interference, mean_squared_overlap, frame_statistics, overlap_matrix]
)
def test_zero_column_raises_naming_it(fn):
    W = np.array([[1.0, 0.0, 2.0], [0.0, 0.0, 1.0]])
    with pytest.raises(ValueError, match=r"W has 1 zero column\(s\) \(first at index 1\)"):
        fn(W)


def test_zero_columns_allowed_where_no_direction_is_needed():
    W = np.array([[1.0, 0.0, 2.0], [0.0, 0.0, 1.0]])
    D = feature_dimensionality(W)
    assert D[1] == 0.0
    expected = dense.reference_statistics(W)["feature_dimensionality"]
    np.testing.assert_allclose(D, expected, rtol=1e-12)
    assert frame_potential(W) == pytest.approx(frame_potential(W[:, [0, 2]]), rel=1e-14)
    np.testing.assert_array_equal(feature_dimensionality(np.zeros((3, 4))), 0.0)


@pytest.mark.parametrize("fn", [coherence, mean_squared_overlap, frame_statistics])
def test_pairs_need_two_columns(fn):
    with pytest.raises(ValueError, match=r"at least 2 column\(s\)"):
        fn(np.ones((3, 1)))


def test_single_column_where_meaningful():
    w = np.array([[3.0], [4.0]])
    assert feature_dimensionality(w)[0] == 1.0
    assert interference(w)[0] == 0.0
    assert frame_potential(w) == pytest.approx(625.0)


@pytest.mark.parametrize(
    "fn",
    [
        coherence,
        interference,
        mean_squared_overlap,
        frame_potential,
        feature_dimensionality,
        frame_statistics,
    ],
)
def test_bad_block_size(fn):
    W = np.eye(3)
    with pytest.raises(ValueError, match=r"block_size must be an integer in \[1, inf\); got 0"):
        fn(W, block_size=0)
    with pytest.raises(TypeError, match="block_size must be an integer"):
        fn(W, block_size=2.0)


def test_dtypes():
    W = np.array([[1, 0, 1], [0, 1, 1]])
    assert frame_statistics(W).dtype == "float64"  # integers are converted
    assert frame_statistics(W.astype(np.float32)).dtype == "float32"
    assert overlap_matrix(W.astype(np.float32)).dtype == np.float32


def test_result_is_immutable():
    stats = frame_statistics(np.eye(3))
    with pytest.raises(ValueError):
        stats.interference[0] = 1.0
    with pytest.raises(AttributeError):
        stats.coherence = 0.5  # type: ignore[misc]
    assert stats.total_dimensionality == pytest.approx(3.0)


# --- memory: the streamed pass never holds an n x n matrix ---------------------------------------


@pytest.mark.skipif(
    NO_JIT,
    reason="under NUMBA_DISABLE_JIT the kernels run as Python loops whose "
    "every float tracemalloc traces (73 s for this test); memory is a property of "
    "the compiled path",
)
def test_streamed_memory_is_linear_in_n():
    """Peak traced memory at n = 1500, m = 8, block 64 is O(n m + block^2), far below the n^2
    float64 entries (18 MB) of the Gram matrix. (Kernels allocate nothing: every array the pass
    uses is created by numpy in Python, so tracemalloc sees it.)"""
    rng = np.random.default_rng(5)
    m, n, b = 8, 1500, 64
    W = rng.standard_normal((m, n))
    frame_statistics(W[:, :10], block_size=b)  # compile outside the measurement
    tracemalloc.start()
    try:
        frame_statistics(W, block_size=b)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    linear = 8 * (2 * n * m + b * b + b * m + 8 * n)
    assert peak < 2 * linear
    assert peak < n * n * 8 / 20


# --- the OpenBLAS float64 syrk crash (numpy 2.4, W of shape (512, n >= 19000), 2 threads) --------


def _record_products(monkeypatch, module, attr):
    calls = []
    original = getattr(module, attr)

    def spy(A, B, *args, **kwargs):
        calls.append((A.dtype, np.shares_memory(A, B)))
        return original(A, B, *args, **kwargs)

    monkeypatch.setattr(module, attr, spy)
    return calls


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_no_product_of_a_buffer_with_itself(monkeypatch, dtype):
    """Cheap always-run guard: every BLAS product in the streamed pass, overlap_matrix,
    gram_matrix and the dense reference/baseline gets two distinct buffers, in every dtype (numpy
    sends A.T @ A on one buffer to syrk, which crashes OpenBLAS for wide frames: float64 at
    (512, 19000), float32 at n = 50,000)."""
    W = np.random.default_rng(6).standard_normal((7, 40)).astype(dtype)
    calls = _record_products(monkeypatch, imod, "_tile_product")
    for block in (1, 8, 13, 40, 100, None):
        frame_statistics(W, block_size=block)
    assert calls and not any(shared for _, shared in calls)
    gram_calls = _record_products(monkeypatch, gmod, "_gemm")
    overlap_matrix(W)
    gram_matrix(W)
    gram_matrix(W, W[:, :5])
    dense.reference_statistics(W)
    dense.numpy_baseline_statistics(W)
    assert len(gram_calls) >= 5
    assert not any(shared for _, shared in gram_calls)


@pytest.mark.slow
def test_wide_float64_frame_does_not_crash_with_two_blas_threads(run_with_two_blas_threads):
    """The real thing, in a subprocess (a segfault must not kill pytest): float64 W of shape
    (512, 19500) with 2 OpenBLAS threads through the streamed pass, overlap_matrix and the
    benchmark's numpy baseline must exit 0 (``W.T @ W`` itself segfaults there)."""
    script = textwrap.dedent(
        """
        import numpy as np
        from threadpoolctl import threadpool_limits
        from csuper.geometry import frame_statistics, overlap_matrix
        from csuper.geometry._dense_reference import numpy_baseline_statistics
        W = np.random.default_rng(0).standard_normal((512, 19500))
        with threadpool_limits(limits=2, user_api="blas"):
            s = frame_statistics(W)
            b = numpy_baseline_statistics(W)
            assert abs(s.coherence - b["coherence"]) < 1e-12
            del b
            H = overlap_matrix(W)
            assert H.shape == (19500, 19500)
        print("ok")
        """
    )
    run_with_two_blas_threads(script)
