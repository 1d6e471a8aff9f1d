"""Tests for csuper.geometry.bounds: packing bounds checked against configurations whose coherence
is known in closed form, against random frames (hypothesis) and against each other."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from csuper.geometry import bounds as B
from csuper.testing import assert_no_frame_beats_bound, unit_norm_frames

COHERENCE_BOUNDS = {k: v for k, v in B.PACKING_BOUNDS.items() if v.kind == "coherence"}


# ------------------------------------------------------------------------------------------
# known configurations, built here in plain numpy (columns are unit vectors)
# ------------------------------------------------------------------------------------------
def _unit(W):
    W = np.asarray(W, dtype=float)
    return W / np.linalg.norm(W, axis=0)


def coherence(W):
    """Plain-numpy coherence (independent of csuper.geometry.overlaps)."""
    U = _unit(W)
    G = np.abs(U.T @ U)
    np.fill_diagonal(G, 0.0)
    return float(G.max())


def simplex(d):
    """d + 1 vectors of R^d with inner products -1/d: centred basis of R^{d+1}, in R^d
    coordinates."""
    E = np.eye(d + 1) - 1.0 / (d + 1)
    Q, _ = np.linalg.qr(E)  # the first d columns of Q span the sum-zero hyperplane
    return _unit(Q[:, :d].T @ E)


def icosahedron_lines():
    """The 6 diagonals of the icosahedron: (0, +-1, +-phi) cyclic, one of each antipodal pair."""
    phi = (1 + math.sqrt(5)) / 2
    vecs = []
    for s in (1, -1):
        for v in ((0, 1, s * phi), (1, s * phi, 0), (s * phi, 0, 1)):
            vecs.append(v)
    return _unit(np.array(vecs).T)


def lines_28():
    """28 equiangular lines of R^7: vectors of R^8 with two entries 3 and six -1 (sum zero)."""
    cols = []
    for i, j in itertools.combinations(range(8), 2):
        v = -np.ones(8)
        v[[i, j]] = 3.0
        cols.append(v)
    V = np.array(cols).T  # (8, 28) in the hyperplane sum = 0
    Q, _ = np.linalg.qr(np.eye(8) - 1.0 / 8)
    return _unit(Q[:, :7].T @ V)


def d4_lines():
    """12 lines of the D4 root system (+-e_i +-e_j), inner products 0, +-1/2."""
    cols = []
    for i, j in itertools.combinations(range(4), 2):
        for s in (1, -1):
            v = np.zeros(4)
            v[i], v[j] = 1.0, s
            cols.append(v)
    return _unit(np.array(cols).T)


def e8_lines():
    """120 lines of the E8 root system: 240 roots up to sign, inner products 0, +-1/2."""
    roots = []
    for i, j in itertools.combinations(range(8), 2):
        for si, sj in itertools.product((1, -1), repeat=2):
            v = np.zeros(8)
            v[i], v[j] = si, sj
            roots.append(v)
    for signs in itertools.product((0.5, -0.5), repeat=8):
        if sum(s < 0 for s in signs) % 2 == 0:
            roots.append(np.array(signs))
    roots = np.array(roots)
    # keep one root of each pair +-r: the first nonzero coordinate positive
    first = roots[np.arange(len(roots)), np.argmax(roots != 0, axis=1)]
    return _unit(roots[first > 0].T)


def mub_r2():
    """Two mutually unbiased bases of R^2: 4 lines at 45 degrees."""
    return _unit(np.array([[1, 0], [0, 1], [1, 1], [1, -1]], dtype=float).T)


def axes_and_diagonals():
    """The 3 axes and 4 cube diagonals of R^3: 7 lines with coherence 1/sqrt(3) (optimal, CHS
    1996)."""
    diags = [(1, s, t) for s in (1, -1) for t in (1, -1)]
    return _unit(np.hstack([np.eye(3), np.array(diags, dtype=float).T]))


def circle_lines(n):
    """n equally spaced lines of R^2: the optimal packing, coherence cos(pi/n)."""
    a = np.pi * np.arange(n) / n
    return np.vstack([np.cos(a), np.sin(a)])


# (frame, closed-form coherence, bound attained with equality or None)
KNOWN = {
    "simplex3": (simplex(3), 1 / 3, "welch"),
    "simplex6": (simplex(6), 1 / 6, "welch"),
    "icosahedron_lines": (icosahedron_lines(), 1 / math.sqrt(5), "welch"),
    "lines28": (lines_28(), 1 / 3, "welch"),
    "mub_r2": (mub_r2(), 1 / math.sqrt(2), "orthoplex"),
    "axes_diagonals": (axes_and_diagonals(), 1 / math.sqrt(3), "orthoplex"),
    "d4": (d4_lines(), 0.5, "orthoplex"),
    "e8": (e8_lines(), 0.5, "levenstein"),
    "circle5": (circle_lines(5), math.cos(math.pi / 5), None),
    "circle9": (circle_lines(9), math.cos(math.pi / 9), None),
}


@pytest.mark.parametrize("name", sorted(KNOWN))
def test_known_configurations_have_their_closed_form_coherence(name):
    W, mu, _ = KNOWN[name]
    assert coherence(W) == pytest.approx(mu, abs=1e-12)


@pytest.mark.parametrize("bound", sorted(COHERENCE_BOUNDS))
@pytest.mark.parametrize("name", sorted(KNOWN))
def test_known_configurations_satisfy_every_applicable_bound(bound, name):
    W, mu, _ = KNOWN[name]
    d, n = W.shape
    spec = COHERENCE_BOUNDS[bound]
    if not spec.applies(n, d):
        with pytest.raises(ValueError, match=r"requires n_features > n_dims\*\(n_dims\+1\)/2"):
            spec.func(n, d)
        return
    for order in (1, 2, 3) if bound in ("welch", "real_welch") else (None,):
        val = spec.func(n, d) if order is None else spec.func(n, d, order)
        assert mu >= val - 1e-12, (bound, order, val, mu)


@pytest.mark.parametrize("name", [k for k, v in KNOWN.items() if v[2] is not None])
def test_equality_cases_are_attained(name):
    W, mu, attained = KNOWN[name]
    d, n = W.shape
    assert B.PACKING_BOUNDS[attained].func(n, d) == pytest.approx(mu, abs=1e-12)
    best = B.best_coherence_bound(n, d)
    assert best.value == pytest.approx(mu, abs=1e-12)


def test_real_welch_order_two_is_attained_by_the_icosahedron_lines():
    # 12 icosahedron vertices are a spherical 5-design, so the 6 lines are a projective 4-design
    # and equiangular: equality in the order-2 real Welch bound, while the complex one is trivial.
    W, mu, _ = KNOWN["icosahedron_lines"]
    assert B.real_welch_bound(6, 3, order=2) == pytest.approx(mu, abs=1e-12)
    assert B.welch_bound(6, 3, order=2) == 0.0
    # and the frame potential identity behind it: sum_ij <u_i,u_j>^4 = N^2 E t^4 = 36 * 3/15
    G = W.T @ W
    assert np.sum(G**4) == pytest.approx(36 * 3 / 15, rel=1e-12)


def test_closed_forms():
    # Welch order 1 equals its textbook form; Levenstein/Welch agree at N = d(d+1)/2 (both 1/(d+2))
    for n, d in [(5, 2), (10, 3), (100, 7)]:
        assert B.welch_bound(n, d) == pytest.approx(math.sqrt((n - d) / (d * (n - 1))))
        assert B.real_welch_bound(n, d) == pytest.approx(B.welch_bound(n, d))
    for d in range(2, 9):
        g = d * (d + 1) // 2
        lev_at_g = math.sqrt((3 * g - d * d - 2 * d) / ((d + 2) * (g - d)))
        assert lev_at_g == pytest.approx(B.welch_bound(g, d)) == pytest.approx(1 / math.sqrt(d + 2))
    assert B.gerzon_bound(np.array([2, 3, 7, 23])).tolist() == [3, 6, 28, 276]
    # real Welch constant c_2 = 3/(d(d+2)) (moment of the real sphere)
    n, d = 1000, 5
    assert B.real_welch_bound(n, d, 2) == pytest.approx(
        ((n * 3 / (d * (d + 2)) - 1) / (n - 1)) ** 0.25
    )


def test_real_welch_dominates_welch_on_a_grid():
    n, d = np.meshgrid(np.arange(2, 80), np.arange(1, 12))
    for k in (1, 2, 3, 5):
        assert np.all(B.real_welch_bound(n, d, k) >= B.welch_bound(n, d, k) - 1e-12)


def test_best_bound_is_the_max_of_the_applicable_bounds():
    n, d = np.meshgrid(np.arange(2, 60), np.arange(1, 9))
    best = B.best_coherence_bound(n, d)
    assert best.value.shape == n.shape and best.bound.shape == n.shape
    for (i, j), nn in np.ndenumerate(n):
        dd = int(d[i, j])
        vals = {"welch": B.welch_bound(int(nn), dd)}
        vals.update({f"real_welch({k})": B.real_welch_bound(int(nn), dd, k) for k in range(2, 17)})
        if nn > dd * (dd + 1) // 2:
            vals["orthoplex"] = B.orthoplex_bound(int(nn), dd)
            vals["levenstein"] = B.levenstein_bound(int(nn), dd)
        assert best.value[i, j] == pytest.approx(max(vals.values()), abs=1e-12)
        assert vals[best.bound[i, j]] == pytest.approx(best.value[i, j], abs=1e-12)
        scalar = B.best_coherence_bound(int(nn), dd)
        assert scalar.value == pytest.approx(best.value[i, j]) and scalar.bound == best.bound[i, j]


def test_circle_packings_are_never_beaten():
    # N lines in R^2: the optimum cos(pi/N) is known exactly, so no bound may exceed it.
    n = np.arange(2, 200)
    assert np.all(B.best_coherence_bound(n, 2).value <= np.cos(np.pi / n) + 1e-12)
    # in R^1 every pair of lines coincides
    assert np.allclose(B.best_coherence_bound(n, 1).value, 1.0)


@given(unit_norm_frames(n_dims=(1, 6), n_features=(2, 24)))
def test_random_unit_norm_frames_never_beat_the_best_bound(W):
    d, n = W.shape
    assert coherence(W) >= B.best_coherence_bound(n, d).value - 1e-9


@given(unit_norm_frames(n_dims=(2, 5), n_features=(2, 30)), st.integers(1, 6))
def test_random_frames_never_beat_any_order_or_the_rankin_bound(W, k):
    d, n = W.shape
    mu = coherence(W)
    assert mu >= B.real_welch_bound(n, d, k) - 1e-9
    U = _unit(W)
    G = U.T @ U
    np.fill_diagonal(G, -np.inf)
    assert G.max() >= B.rankin_simplex_bound(n, d) - 1e-9


def test_rankin_simplex_bound_is_attained():
    for d in range(2, 7):
        U = simplex(d)
        G = U.T @ U
        np.fill_diagonal(G, -np.inf)
        assert G.max() == pytest.approx(B.rankin_simplex_bound(d + 1, d), abs=1e-12)
        # the orthoplex {+-e_i}: 2d vectors with max inner product 0
        O = np.hstack([np.eye(d), -np.eye(d)])
        G = O.T @ O
        np.fill_diagonal(G, -np.inf)
        assert G.max() == B.rankin_simplex_bound(2 * d, d) == 0.0


# ------------------------------------------------------------------------------------------
# domains and bad input
# ------------------------------------------------------------------------------------------
def test_domain_errors_name_the_domain():
    with pytest.raises(
        ValueError,
        match=r"levenstein_bound requires n_features > n_dims\*\(n_dims\+1\)/2; "
        r"got n_features=5, n_dims=3 \(n_dims\*\(n_dims\+1\)/2=6\)\.",
    ):
        B.levenstein_bound(5, 3)
    with pytest.raises(ValueError, match="orthoplex_bound requires"):
        B.orthoplex_bound(np.array([7, 10]), 4)
    with pytest.raises(
        ValueError, match=r"n_features must be an integer in \[2, 9007199254740992\]; got 1"
    ):
        B.welch_bound(1, 3)
    with pytest.raises(
        ValueError, match=r"n_dims must be an integer in \[1, 9007199254740992\]; got 0"
    ):
        B.best_coherence_bound(5, 0)
    with pytest.raises(
        ValueError, match=r"n_features must contain integers in \[2, 9007199254740992\]; got 1"
    ):
        B.welch_bound(np.array([3, 1]), 2)
    with pytest.raises(TypeError, match="n_features must be an integer"):
        B.welch_bound(3.0, 2)
    with pytest.raises(TypeError, match="n_features must be an integer or an array of integers"):
        B.welch_bound(np.array([3.0]), 2)
    with pytest.raises(
        ValueError, match=r"order must be an integer in \[1, 9007199254740992\]; got 0"
    ):
        B.real_welch_bound(5, 2, order=0)
    for bad in (0.0, 1.0, -0.1, 1.5, float("nan")):
        with pytest.raises(ValueError, match=r"eps must be a real number in \(0, 1\)"):
            B.line_count_bounds(bad, 3)
    with pytest.raises(ValueError, match=r"eps must contain real numbers in \(0, 1\); got 1.0"):
        B.cap_packing_line_count(np.array([0.5, 1.0]), 3)


@pytest.mark.parametrize("name", sorted(B.PACKING_BOUNDS))
def test_registry_entries_run_on_their_domain_and_reject_bad_input(name):
    spec = B.PACKING_BOUNDS[name]
    assert spec.domain and spec.func.__doc__ and "References" in spec.func.__doc__
    if spec.kind in ("coherence", "code_inner_product"):
        grid = [(n, d) for d in range(1, 7) for n in range(2, 40) if spec.applies(n, d)]
        vals = np.array([spec.func(n, d) for n, d in grid])
        vec = spec.func(np.array([g[0] for g in grid]), np.array([g[1] for g in grid]))
        assert np.allclose(vals, vec) and np.all(np.isfinite(vals))
        assert np.all(vals <= 1.0 + 1e-12)
        with pytest.raises(ValueError, match="n_features"):
            spec.func(1, 3)
    elif spec.kind == "equiangular_count":
        assert spec.func(3) == 6
        with pytest.raises(ValueError, match="n_dims"):
            spec.func(0)
    elif spec.kind in ("count_lower", "count_upper"):
        eps = np.linspace(0.01, 0.99, 50)
        vals = spec.func(eps, 5)
        assert vals.shape == eps.shape and np.all(vals >= 1) and np.all(vals[1:] >= vals[:-1])
        with pytest.raises(ValueError, match="eps"):
            spec.func(1.0, 5)
    else:
        assert spec.kind in ("rate_lower", "rate_upper")
        vals = spec.func(np.linspace(0.01, 0.99, 50))
        assert np.all(np.isfinite(vals)) and np.all(np.diff(vals) > 0)
        with pytest.raises(ValueError, match="eps"):
            spec.func(0.0)


# ------------------------------------------------------------------------------------------
# line counts
# ------------------------------------------------------------------------------------------
def test_count_lower_never_exceeds_count_upper_on_a_grid():
    eps, d = np.meshgrid(np.linspace(0.005, 0.995, 100), np.arange(1, 40))
    b = B.line_count_bounds(eps, d)
    assert np.all(b.lower <= b.upper)
    assert np.all(B.gilbert_varshamov_line_count(eps, d) <= b.upper)
    assert np.all(b.upper <= B.cap_packing_line_count(eps, d))
    assert np.all(b.upper <= B.coherence_bound_line_count(eps, d))


def test_small_eps_leaves_an_orthonormal_basis():
    # eps < 1/m: Gram matrices I + E with m*eps < 1 are positive definite, so at most m lines
    # (Gershgorin), and an orthonormal basis has m: the count is exactly m.
    for m in range(1, 30):
        eps = 0.999 / m if m > 1 else 0.5
        b = B.line_count_bounds(eps, m)
        assert b.lower == b.upper == m
    # at eps = 1/m the simplex adds one line
    for m in range(2, 30):
        b = B.line_count_bounds(1.0 / m, m)
        assert b.lower == m + 1 and b.lower_bound == "simplex" and b.upper >= m + 1


def test_counts_in_the_plane_are_exact():
    # lines in R^2 at angles >= theta = arccos(eps): exactly floor(pi / theta) fit.
    eps = np.linspace(0.01, 0.99, 99)
    exact = np.floor(np.pi / np.arccos(eps) + 1e-12)
    b = B.line_count_bounds(eps, 2)
    assert np.all(b.lower <= exact) and np.all(exact <= b.upper)
    assert np.array_equal(B.cap_packing_line_count(eps, 2), exact)
    # greedy bound in the plane: ceil(pi / (2 theta))
    assert np.array_equal(
        B.gilbert_varshamov_line_count(eps, 2), np.ceil(np.pi / (2 * np.arccos(eps)) - 1e-9)
    )


@pytest.mark.parametrize("name", sorted(k for k, v in KNOWN.items() if 0 < v[1] < 1))
def test_known_configurations_fit_under_the_count_upper_bound(name):
    # eps = mu must lie in (0, 1) for a line count; orthonormal bases (mu = 0) are left out
    W, mu, _ = KNOWN[name]
    d, n = W.shape
    assert B.line_count_bounds(mu, d).upper >= n
    assert B.line_count_bounds(min(mu * (1 + 1e-12), 0.999999), d).upper >= n


def test_optimal_configurations_make_the_upper_bound_tight():
    assert B.coherence_bound_line_count(1 / math.sqrt(5), 3) == 6  # icosahedron lines
    assert B.coherence_bound_line_count(1 / 3, 7) == 28  # Gerzon equality
    assert B.coherence_bound_line_count(0.5, 8) == 120  # E8 lines, Levenstein equality
    assert B.line_count_bounds(0.5, 8).upper_bound == "levenstein"


def test_rates():
    eps = np.linspace(0.01, 0.99, 99)
    kl = B.kabatiansky_levenshtein_rate(eps)
    gv = B.gilbert_varshamov_rate(eps)
    assert np.all(gv < kl)
    # KL rate at a hand-computed point: eps = 1/2, sin = sqrt(3)/2
    s = math.sqrt(3) / 2
    a, b = (1 + s) / (2 * s), (1 - s) / (2 * s)
    assert B.kabatiansky_levenshtein_rate(0.5) == pytest.approx(a * math.log2(a) - b * math.log2(b))
    # the finite greedy count approaches its rate as m grows (from above: the double-cap area
    # carries a 1/sqrt(m) prefactor, so log2(N)/m = rate + O(log(m)/m))
    for e, ms in ((0.2, (200, 800, 3200)), (0.5, (100, 400, 1600)), (0.8, (50, 200, 800))):
        target = B.gilbert_varshamov_rate(e)
        gap = [math.log2(B.gilbert_varshamov_line_count(e, m)) / m - target for m in ms]
        assert gap[0] > gap[1] > gap[2] > 0
        assert gap[2] < 2 * math.log2(ms[2]) / ms[2]
    # beyond float range: the lower count saturates at 1e300 (valid), the cap bound at inf
    assert B.gilbert_varshamov_line_count(0.8, 5000) == pytest.approx(1e300)
    assert B.cap_packing_line_count(0.8, 20000) == np.inf
    assert B.line_count_bounds(0.8, 5000).upper > 1e300


@given(st.sampled_from(sorted(KNOWN)), st.integers(0, 2**32 - 1), st.floats(1e-6, 0.3))
def test_perturbed_optimal_configurations_respect_the_bounds(name, seed, scale):
    # Rotations keep the coherence; small perturbations of an optimal packing can only come
    # close to the bound, never below it. The shipped checker must agree.
    W, mu, _ = KNOWN[name]
    d, n = W.shape
    rng = np.random.default_rng(seed)
    Q, _R = np.linalg.qr(rng.standard_normal((d, d)))
    V = _unit(Q @ W + scale * rng.standard_normal(W.shape))
    assert coherence(V) >= B.best_coherence_bound(n, d).value - 1e-12
    assert coherence(Q @ W) == pytest.approx(mu, abs=1e-12)
    assert assert_no_frame_beats_bound(V) == pytest.approx(coherence(V), abs=1e-9)


def test_checker_catches_a_frame_that_beats_a_bound(monkeypatch):
    # a fake bound above the known optimum must be reported (the checker can fail)
    W = KNOWN["icosahedron_lines"][0]
    fake = B.PackingBound(lambda n, d, k=1: 0.5, "coherence", "n_features >= 2", lambda n, d: True)
    monkeypatch.setitem(B.PACKING_BOUNDS, "fake", fake)
    with pytest.raises(AssertionError, match=r"below the fake bound 0\.5"):
        assert_no_frame_beats_bound(W)


def test_no_spurious_bounds_from_rounding_in_high_dimension():
    # N c_k = 1 exactly: the order-k bound is 0 (e.g. N = d(d+2)/3 for k = 2); rounding in the
    # moments must not turn it into a positive "bound" (t^(1/4) of 1e-16 would be 1e-4).
    for d in (3, 300, 300000):
        n = d * (d + 2) // 3
        assert B.real_welch_bound(n, d, 2) == 0.0
        assert B.welch_bound(d * (d + 1) // 2, d, 2) == 0.0
    d = 10**6
    assert B.welch_bound(d + 1, d) == pytest.approx(1.0 / d, rel=1e-12)  # simplex
    assert B.welch_bound(d, d) == 0.0 and B.best_coherence_bound(d, d).value == 0.0


@pytest.mark.slow
@pytest.mark.parametrize("d, n", [(3, k) for k in range(4, 16)] + [(4, k) for k in range(5, 22)])
def test_numerically_optimised_packings_never_beat_the_best_bound(d, n):
    # differential check against an independent route: local search for good packings
    from csuper.geometry import find_packing

    result = find_packing(n, d, rng=0, progress=False)
    assert coherence(result.frame) >= B.best_coherence_bound(n, d).value - 1e-9


@given(st.floats(0.01, 0.99), st.integers(3, 5000))
def test_log_tail_matches_the_direct_tail(eps, m):
    # ln P(|t| >= eps), t^2 ~ Beta(1/2, (m-1)/2): scipy's betainc where the tail is representable
    # against the continued fraction in log space that log_abs_tail uses where it underflows
    # (forced here through the private helper wherever the fraction converges quickly); beyond
    # float64, the closed-form brackets x^a (1-x)^(1/2) / (a B(a, 1/2)) <= tail (the fraction
    # is >= 1) and tail <= 2 exp(-m eps^2 / 2) (K. Ball, "An elementary introduction to modern
    # convex geometry", 1997, Lemma 2.2, on each of the two caps)
    from scipy import special

    from csuper.geometry._sphere import TINY_TAIL, _beta_fraction, abs_tail, log_abs_tail

    a, x = (m - 1) / 2, 1 - eps * eps
    got = float(log_abs_tail(eps, m))
    tail = float(abs_tail(eps, m))
    prefactor = a * math.log(x) + math.log(eps) - math.log(a) - special.betaln(a, 0.5)
    if tail >= TINY_TAIL:
        assert got == pytest.approx(math.log(tail), rel=1e-12)
        if x < (a + 1) / (a + 2.5):
            cf = prefactor + math.log(_beta_fraction(a, 0.5, x))
            assert cf == pytest.approx(math.log(tail), rel=1e-10)
    else:
        assert math.isfinite(got) and got < math.log(TINY_TAIL)
    assert prefactor * (1 + 1e-12) <= got <= math.log(2) - m * eps * eps / 2


def test_line_counts_beyond_float64_in_log_space():
    # where the counts leave float64 (lower saturated at 1e300, cap-packing upper inf) their
    # log10 stays finite, ordered, and on the Gilbert-Varshamov rate (Wyner 1965):
    # log2(N_lower)/m -> -log2(1 - eps^2)/2 with an O(log m / m) gap
    for eps, m in ((0.1, 4800), (0.5, 10**5), (0.8, 5000), (0.1, 10**6)):
        b = B.line_count_bounds(eps, m)
        assert np.isfinite(b.log10_lower) and np.isfinite(b.log10_upper)
        assert 0 < b.log10_lower < b.log10_upper
        gap = b.log10_lower * math.log2(10) / m - B.gilbert_varshamov_rate(eps)
        assert 0 < gap < 2 * math.log2(m) / m
    assert B.line_count_bounds(0.1, 4800).upper == np.inf  # the float count is inf there
    # where the counts are finite, the logs are theirs
    b = B.line_count_bounds(np.array([0.3, 0.5, 0.1]), np.array([64, 3, 100]))
    np.testing.assert_allclose(b.log10_lower, np.log10(b.lower), rtol=1e-12)
    np.testing.assert_allclose(b.log10_upper, np.log10(b.upper), rtol=1e-12)
