"""Tests of csuper.geometry.packings (packing search) and csuper.geometry.frames (known frames)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import logsumexp

from csuper.geometry import _packing_kernels as K
from csuper.geometry.bounds import best_coherence_bound, rankin_simplex_bound, welch_bound
from csuper.geometry.frames import (
    KNOWN_FRAMES,
    icosahedron_frame,
    icosahedron_lines,
    known_frame,
    paley_etf,
    simplex_frame,
)
from csuper.geometry.overlaps import coherence
from csuper.geometry.packings import PACKING_KINDS, find_packing, max_overlap
from csuper.testing import orthogonal_matrices, unit_norm_frames

# Best known packings of N lines in R^3 (Grassmannian G(3,1)), largest minimal angle in degrees:
# J. H. Conway, R. H. Hardin, N. J. A. Sloane, "Packing lines, planes, etc.: packings in
# Grassmannian spaces", Experimental Mathematics 5(2) (1996) 139-159, Table 1 (and N. J. A.
# Sloane's online "Table of Grassmannian packings", lines in 3 dimensions). N <= 8 are proven
# optimal (N = 8: Mixon & Parshall, arXiv:1902.10177). Closed forms where known: N=4 arccos(1/3),
# N=5,6 arccos(1/sqrt 5), N=7 arccos(1/sqrt 3).
SLOANE_LINES_R3 = {
    4: 70.5288,
    5: 63.4349,
    6: 63.4349,
    7: 54.7356,
    8: 49.6399,
    9: 47.9821,
    10: 46.6746,
    11: 44.4031,
    12: 41.8820,
    13: 39.8131,
}

# Tammes problem in R^3: cosine of the optimal minimal angle. N=4 tetrahedron (-1/3), N=5, 6
# (0: Rankin; octahedron), N=12 icosahedron (1/sqrt 5; Fejes Toth 1943), N=7, 8, 9 (Schuette &
# van der Waerden 1951): values from H. Cohn's table of spherical codes (cohn.mit.edu, data set
# hdl.handle.net/1721.1/142661): 0.21013831273060308 (root of 3x^3-9x^2-3x+1),
# 0.26120387496374144 (root of 7x^2+2x-1), 1/3.
TAMMES_R3 = {
    4: -1.0 / 3.0,
    5: 0.0,
    6: 0.0,
    7: 0.21013831273060308,
    8: 0.26120387496374144,
    9: 1.0 / 3.0,
    12: 1.0 / np.sqrt(5.0),
}

# rounding of the published angles (4 decimals) plus the 1e-4 degree tolerance of the brief
_TABLE_TOL_DEG = 1e-4 + 5e-5


def _fejes_toth_cosine(n):
    """Fejes Toth (1943): N >= 3 points on S^2 have a pair at chord distance at most
    sqrt(4 - csc^2(w)), w = pi N / (6 (N - 2)); i.e. max <x_i, x_j> >= csc^2(w) / 2 - 1.
    Attained for N = 3, 4, 6, 12 (L. Fejes Toth, Jber. Deutsch. Math.-Verein. 53 (1943) 66-68)."""
    w = np.pi * n / (6.0 * (n - 2.0))
    return 1.0 / (2.0 * np.sin(w) ** 2) - 1.0


def _offdiag(G):
    return G[~np.eye(G.shape[0], dtype=bool)]


# ------------------------------------------------------------------------------------------------
# known frames (registry)
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(KNOWN_FRAMES))
def test_known_frame_shape_norms_and_objective(name):
    entry = KNOWN_FRAMES[name]
    params = entry.default_params
    W = known_frame(name)
    assert W.shape == entry.shape(**params)
    np.testing.assert_allclose(np.linalg.norm(W, axis=0), 1.0, atol=1e-14)
    G = W.T @ W
    vals = np.abs(_offdiag(G)) if entry.kind == "lines" else _offdiag(G)
    # the claimed closed-form optimum, computed here from the Gram matrix
    assert vals.max() == pytest.approx(entry.objective(**params), abs=1e-13)
    assert max_overlap(W, entry.kind) == pytest.approx(entry.objective(**params), abs=1e-13)
    if entry.equiangular:
        np.testing.assert_allclose(np.abs(_offdiag(G)), np.abs(_offdiag(G))[0], atol=1e-13)


@pytest.mark.parametrize("name", sorted(KNOWN_FRAMES))
def test_known_frame_meets_its_lower_bound(name):
    """Optimality certificate: the construction attains a lower bound from
    csuper.geometry.bounds."""
    entry = KNOWN_FRAMES[name]
    W = known_frame(name)
    d, n = W.shape
    if name == "icosahedron":
        assert max_overlap(W, "codes") == pytest.approx(_fejes_toth_cosine(n), abs=1e-13)
    elif entry.kind == "codes":
        assert max_overlap(W, "codes") == pytest.approx(rankin_simplex_bound(n, d), abs=1e-13)
    else:
        # lines: ETFs attain Welch's bound mu^2 >= (N - d) / (d (N - 1)) (Welch 1974)
        assert max_overlap(W, "lines") == pytest.approx(
            np.sqrt((n - d) / (d * (n - 1.0))), abs=1e-13
        )
        assert max_overlap(W, "lines") == pytest.approx(welch_bound(n, d), abs=1e-13)


@pytest.mark.parametrize("name", [k for k, v in KNOWN_FRAMES.items() if v.kind == "lines"])
def test_etfs_are_tight(name):
    """An ETF is a tight frame: W W^T = (N/d) I (Strohmer & Heath 2003, Thm 2.3)."""
    W = known_frame(name)
    d, n = W.shape
    np.testing.assert_allclose(W @ W.T, (n / d) * np.eye(d), atol=1e-12)


@pytest.mark.parametrize("q", [5, 9, 13, 17, 25, 29, 49, 81])
def test_paley_etf(q):
    W = paley_etf(q)
    assert W.shape == ((q + 1) // 2, q + 1)
    G = np.abs(W.T @ W)
    np.testing.assert_allclose(_offdiag(G), 1.0 / np.sqrt(q), atol=1e-13)
    np.testing.assert_allclose(W @ W.T, 2.0 * np.eye(W.shape[0]), atol=1e-12)


def test_icosahedron_lines_is_paley_5():
    """Two independent constructions of 6 lines in R^3: golden-ratio coordinates vs Paley q=5."""
    A, B = icosahedron_lines(), paley_etf(5)
    assert max_overlap(A) == pytest.approx(max_overlap(B), abs=1e-14)
    # same Gram spectrum (both tight frames with eigenvalues N/d = 2 on R^3)
    np.testing.assert_allclose(
        np.linalg.eigvalsh(np.abs(A.T @ A)), np.linalg.eigvalsh(np.abs(B.T @ B)), atol=1e-12
    )
    V = icosahedron_frame()
    np.testing.assert_allclose(V[:, 1::2], -V[:, ::2], atol=1e-15)


@pytest.mark.parametrize("d", [1, 2, 3, 7])
def test_simplex_gram(d):
    W = simplex_frame(d)
    np.testing.assert_allclose(W.T @ W, ((d + 1) * np.eye(d + 1) - 1.0) / d, atol=1e-14)


def test_known_frame_bad_input():
    with pytest.raises(ValueError, match="name must be one of"):
        known_frame("dodecahedron")
    with pytest.raises(TypeError, match="unexpected"):
        known_frame("paley", n_dims=3)
    with pytest.raises(ValueError, match="q must be a prime power congruent to 1 mod 4"):
        paley_etf(7)
    with pytest.raises(ValueError, match="q must be a prime power"):
        paley_etf(21)
    with pytest.raises(ValueError, match="q must be at most 2000"):
        paley_etf(2017)
    with pytest.raises(TypeError, match="q must be an integer"):
        paley_etf(9.0)
    # nightly fuzz finding: a huge q reached the prime-power test first (np.sqrt of 10**30
    # raised a raw TypeError; a huge prime such as 2**61 - 1 was trial-divided for hours): the
    # range is checked before any work
    for q in (10**30, 2**61 - 1, 2**63 + 1):
        with pytest.raises(ValueError, match=r"q must be at most 2000 .*\[5, 2000\]"):
            paley_etf(q)
    with pytest.raises(ValueError, match=r"n_dims must be an integer in \[1, inf\); got 0"):
        simplex_frame(0)


# ------------------------------------------------------------------------------------------------
# kernels against independent routes
# ------------------------------------------------------------------------------------------------
def _lse_numpy(Y, t, lines):
    X = Y / np.linalg.norm(Y, axis=0)
    c = (X.T @ X)[np.triu_indices(Y.shape[1], 1)]
    g = c**2 if lines else c
    return logsumexp(t * g) / t


@pytest.mark.kernels
@pytest.mark.parametrize("lines", [True, False])
@pytest.mark.parametrize("t", [1.0, 30.0])
def test_lse_value_and_gradient(lines, t):
    rng = np.random.default_rng(5)
    Y = rng.standard_normal((3, 7)) * rng.uniform(0.5, 2.0, 7)
    f, G = K.lse_value_grad(Y, t, lines)
    assert f == pytest.approx(_lse_numpy(Y, t, lines), rel=1e-13)
    # central finite differences: error O(h^2 f''') ~ 1e-10 relative for h = 1e-6
    h = 1e-6
    fd = np.zeros_like(Y)
    for idx in np.ndindex(*Y.shape):
        E = np.zeros_like(Y)
        E[idx] = h
        fd[idx] = (_lse_numpy(Y + E, t, lines) - _lse_numpy(Y - E, t, lines)) / (2 * h)
    np.testing.assert_allclose(G, fd, atol=1e-7 * max(1.0, t))


@pytest.mark.kernels
@pytest.mark.parametrize("lines", [True, False])
def test_constraint_jacobians(lines):
    rng = np.random.default_rng(6)
    X = rng.standard_normal((3, 5))
    I, J = np.triu_indices(5, 1)
    g, jac = K.active_constraints(X, I, J, lines)
    c = (X.T @ X)[I, J]
    np.testing.assert_allclose(g, c**2 if lines else c, rtol=1e-14, atol=1e-15)
    h = 1e-6
    z = np.concatenate([X.ravel(), [0.3]])
    for col in range(z.size):
        e = np.zeros_like(z)
        e[col] = h

        def cons(zz):
            return zz[-1] - K.active_constraints(zz[:-1].reshape(3, 5), I, J, lines)[0]

        np.testing.assert_allclose(jac[:, col], (cons(z + e) - cons(z - e)) / (2 * h), atol=1e-8)
    hv, hjac = K.norm_constraints(X)
    np.testing.assert_allclose(hv, (X**2).sum(0) - 1.0, rtol=1e-14)
    np.testing.assert_allclose(hjac[:, :-1].reshape(5, 3, 5).sum(axis=2), 2 * X.T, atol=0)


@given(unit_norm_frames(n_dims=(1, 5), n_features=(2, 9)))
def test_max_overlap_matches_gram(W):
    G = W.T @ W
    assert max_overlap(W, "lines") == pytest.approx(np.abs(_offdiag(G)).max(), abs=1e-12)
    assert max_overlap(W, "codes") == pytest.approx(_offdiag(G).max(), abs=1e-12)


# ------------------------------------------------------------------------------------------------
# the search reaches the best known values
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("n", sorted(SLOANE_LINES_R3))
def test_lines_in_r3_reach_sloane_table(n):
    res = find_packing(n, 3, n_starts=12, rng=2024, progress=False)
    assert res.kind == "lines" and res.method == "search"
    assert abs(res.min_angle_deg - SLOANE_LINES_R3[n]) <= _TABLE_TOL_DEG
    assert res.coherence == pytest.approx(np.cos(np.radians(res.min_angle_deg)), abs=1e-14)


@pytest.mark.parametrize(
    ("n", "exact"),
    [(4, 1.0 / 3.0), (6, 1.0 / np.sqrt(5.0)), (7, 1.0 / np.sqrt(3.0))],
)
def test_lines_polish_to_machine_precision(n, exact):
    """Closed forms (CHS 1996, Table 1): the polisher reaches them to ~1e-15, not just 1e-4 deg."""
    res = find_packing(n, 3, n_starts=4, rng=1, progress=False)
    assert res.coherence == pytest.approx(exact, abs=1e-12)


@pytest.mark.parametrize("n", sorted(TAMMES_R3))
def test_tammes_r3(n):
    res = find_packing(n, 3, kind="codes", n_starts=6, rng=7, progress=False)
    assert res.objective == pytest.approx(TAMMES_R3[n], abs=1e-10)
    assert TAMMES_R3[n] >= _fejes_toth_cosine(n) - 1e-15  # the table respects the bound


@pytest.mark.parametrize("n", [3, 4, 5, 7])
def test_plane_closed_forms(n):
    """In R^2 the optimal N lines are spaced by 180/N degrees and N points by 360/N."""
    lines = find_packing(n, 2, n_starts=3, rng=0, progress=False)
    codes = find_packing(n, 2, kind="codes", n_starts=3, rng=0, progress=False)
    assert lines.min_angle_deg == pytest.approx(180.0 / n, abs=1e-9)
    assert codes.min_angle_deg == pytest.approx(360.0 / n, abs=1e-9)


@pytest.mark.parametrize("d", [2, 3, 4, 5])
def test_simplex_found_as_code_and_as_lines(d):
    """N = d + 1: the simplex meets Rankin's bound -1/d (codes) and Welch's bound 1/d (lines)."""
    codes = find_packing(d + 1, d, kind="codes", n_starts=3, rng=0, progress=False)
    lines = find_packing(d + 1, d, kind="lines", n_starts=3, rng=0, progress=False)
    assert codes.objective == pytest.approx(-1.0 / d, abs=1e-10)
    assert lines.coherence == pytest.approx(1.0 / d, abs=1e-10)


def test_etf_16_lines_in_r6_found():
    """The search finds the 16-line ETF of R^6 (Welch bound 1/3), like the Clebsch construction."""
    res = find_packing(16, 6, n_starts=4, rng=3, progress=False)
    assert res.coherence == pytest.approx(1.0 / 3.0, abs=1e-10)


@pytest.mark.slow
@pytest.mark.parametrize(("n", "d", "q"), [(10, 5, 9), (14, 7, 13), (28, 7, 9)])
def test_etfs_found_by_search_slow(n, d, q):
    """Paley ETFs (10 in R^5, 14 in R^7) and the 28 Gerzon lines of R^7, by search."""
    res = find_packing(n, d, n_starts=12, rng=1, progress=False)
    assert res.coherence == pytest.approx(welch_bound(n, d), abs=1e-10)


@pytest.mark.slow
def test_tammes_10_slow():
    # Tammes N=10: cos = 0.40439432521625075 (Cohn's table; Danzer 1963); harder landscape
    res = find_packing(10, 3, kind="codes", n_starts=60, rng=0, progress=False)
    assert res.objective == pytest.approx(0.40439432521625075, abs=1e-10)


# ------------------------------------------------------------------------------------------------
# properties
# ------------------------------------------------------------------------------------------------
@settings(max_examples=25)
@given(
    d=st.integers(2, 5),
    n=st.integers(2, 12),
    kind=st.sampled_from(sorted(PACKING_KINDS)),
    seed=st.integers(0, 2**32 - 1),
)
def test_never_below_lower_bounds(d, n, kind, seed):
    res = find_packing(n, d, kind=kind, n_starts=1, max_iter=40, rng=seed, progress=False)
    W = np.asarray(res.frame)
    assert W.shape == (d, n)
    np.testing.assert_allclose(np.linalg.norm(W, axis=0), 1.0, atol=1e-12)
    # reported values are those of the returned frame
    assert res.objective == pytest.approx(max_overlap(W, kind), abs=1e-12)
    assert res.coherence == pytest.approx(max_overlap(W, "lines"), abs=1e-12)
    assert res.coherence == pytest.approx(coherence(W), abs=1e-12)  # the interference module
    # the polish converges to ~1e-15; the bounds are exact up to rounding
    slack = 1e-12
    assert res.coherence >= best_coherence_bound(n, d).value - slack
    if kind == "codes":
        assert res.objective >= rankin_simplex_bound(n, d) - slack
        if d == 3 and n >= 3:
            assert res.objective >= _fejes_toth_cosine(n) - 1e-12
    assert res.start_values.shape == (1,) and res.start_values[0] == res.objective


@settings(max_examples=10)
@given(Q=orthogonal_matrices(dim=3))
def test_rotation_invariance_of_result(Q):
    res = find_packing(7, 3, n_starts=2, rng=11, progress=False)
    assert max_overlap(Q @ res.frame) == pytest.approx(res.coherence, abs=1e-13)


@pytest.mark.parametrize("kind", sorted(PACKING_KINDS))
def test_seed_reproduces_bit_identical(kind):
    a = find_packing(9, 3, kind=kind, n_starts=3, rng=123, progress=False)
    b = find_packing(9, 3, kind=kind, n_starts=3, rng=np.random.default_rng(123), progress=False)
    np.testing.assert_array_equal(a.frame, b.frame)
    np.testing.assert_array_equal(a.start_values, b.start_values)
    assert (a.best_start, a.n_iter, a.objective) == (b.best_start, b.n_iter, b.objective)


@pytest.mark.parametrize("kind", sorted(PACKING_KINDS))
def test_more_starts_never_worse(kind):
    """Start k depends only on (root seed, k): fewer starts are a prefix of more starts."""
    few = find_packing(11, 3, kind=kind, n_starts=2, rng=5, progress=False)
    many = find_packing(11, 3, kind=kind, n_starts=6, rng=5, progress=False)
    np.testing.assert_array_equal(many.start_values[:2], few.start_values)
    assert many.objective <= few.objective
    assert many.objective == many.start_values.min()
    assert many.start_values[many.best_start] == many.objective


def test_result_fields_and_progress_bar(capsys):
    res = find_packing(5, 3, n_starts=2, rng=0, progress=True)
    assert res.n_iter > 0 and 0 <= res.best_start < 2
    assert res.min_angle_deg == pytest.approx(np.degrees(np.arccos(res.objective)), abs=1e-12)
    with pytest.raises(ValueError):
        res.frame[0, 0] = 1.0  # read-only
    assert "packing 5 lines" in capsys.readouterr().err


def test_without_polish_is_only_approximately_optimal():
    rough = find_packing(7, 3, n_starts=2, polish=False, rng=0, progress=False)
    fine = find_packing(7, 3, n_starts=2, polish=True, rng=0, progress=False)
    # log-sum-exp at t = 2048 overshoots max g by at most log(21)/2048 in squared overlap
    assert fine.coherence**2 <= rough.coherence**2 <= 1.0 / 3.0 + np.log(21) / 2048


# ------------------------------------------------------------------------------------------------
# trivial cases and bad input
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("n", "d"), [(2, 2), (3, 5), (4, 4)])
def test_at_most_d_lines_are_orthonormal(n, d):
    res = find_packing(n, d, rng=0, progress=False)
    assert res.method == "construction" and res.coherence == 0.0 and res.min_angle_deg == 90.0
    np.testing.assert_array_equal(res.frame.T @ res.frame, np.eye(n))


def test_one_dimension():
    lines = find_packing(3, 1, progress=False)
    assert lines.coherence == 1.0 and lines.min_angle_deg == 0.0
    assert find_packing(2, 1, kind="codes", progress=False).objective == -1.0
    assert find_packing(3, 1, kind="codes", progress=False).objective == 1.0


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"n_features": 1}, ValueError, r"n_features must be an integer in \[2, \d+\]; got 1"),
        ({"n_dims": 0}, ValueError, r"n_dims must be an integer in \[1, \d+\]; got 0"),
        ({"n_starts": 0}, ValueError, r"n_starts must be an integer in \[1, \d+\]; got 0"),
        ({"max_iter": 0}, ValueError, r"max_iter must be an integer in \[1, inf\); got 0"),
        ({"kind": "planes"}, ValueError, r"kind must be one of \['codes', 'lines'\]; got 'planes'"),
        ({"n_features": 4.0}, TypeError, "n_features must be an integer"),
        ({"rng": np.random.RandomState(0)}, TypeError, "rng must be"),
    ],
)
def test_bad_input(kwargs, exc, match):
    args = {"n_features": 5, "n_dims": 3, "progress": False, **kwargs}
    with pytest.raises(exc, match=match):
        find_packing(**args)


def test_max_overlap_bad_input():
    with pytest.raises(ValueError, match="zero column"):
        max_overlap(np.array([[1.0, 0.0], [0.0, 0.0]]))
    with pytest.raises(ValueError, match="kind must be one of"):
        max_overlap(np.eye(2), "planes")


@pytest.mark.parametrize("scale", [1e-320, 1e300])
def test_max_overlap_is_scale_free(scale):
    """The overlaps are cosines: unchanged by W -> c W, even for subnormal columns (formerly a
    ZeroDivisionError in the kernel) or columns whose norm overflows (formerly 0)."""
    W = np.array([[1.0, 2.0], [0.0, 1.0]])
    assert max_overlap(scale * W) == pytest.approx(2 / np.sqrt(5), rel=1e-3)
