"""Edges of csuper.geometry (issue 11): the memory budget and the guards that consult it before
allocating, huge integers, searches that must end, boolean flags, silent NaN, registries that
dispatch."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import special

import csuper.geometry as G
from csuper._validation import (
    MEMORY_BUDGET_ENV,
    MemoryBudgetError,
    check_memory,
    memory_budget,
)
from csuper.geometry._sphere import MAX_INT, even_moment


@pytest.fixture
def small_budget(monkeypatch):
    """A 64 MiB budget: every guarded size below would need gigabytes (nothing is allocated)."""
    monkeypatch.setenv(MEMORY_BUDGET_ENV, "64MiB")


# --- the budget ---------------------------------------------------------------------------------


def test_budget_from_the_environment(monkeypatch):
    for text, value in [
        ("123", 123),
        ("8GiB", 8 << 30),
        ("8G", 8 << 30),
        ("8GB", 8_000_000_000),
        ("1.5 MiB", int(1.5 * 2**20)),
        ("2k", 2048),
        ("1TB", 10**12),
    ]:
        monkeypatch.setenv(MEMORY_BUDGET_ENV, text)
        assert memory_budget() == value, text
    for bad in ("lots", "-1GiB", "0", "8 XB"):
        monkeypatch.setenv(MEMORY_BUDGET_ENV, bad)
        with pytest.raises(ValueError, match=MEMORY_BUDGET_ENV):
            memory_budget()


def test_default_budget_is_half_the_machine(monkeypatch):
    import os

    monkeypatch.delenv(MEMORY_BUDGET_ENV, raising=False)
    physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    assert 0 < memory_budget() <= physical // 2


def test_check_memory_message(monkeypatch):
    monkeypatch.setenv(MEMORY_BUDGET_ENV, "1GiB")
    check_memory(2**30, "exactly the budget", "nothing")  # at the budget: allowed
    with pytest.raises(MemoryBudgetError) as err:
        check_memory(8 * 60000**2, "a 60000 x 60000 float64 matrix", "stream it")
    text = str(err.value)
    assert "a 60000 x 60000 float64 matrix needs about 26.8 GiB" in text
    assert "budget of 1.0 GiB (set by CSUPER_MEMORY_BUDGET)" in text and "stream it" in text
    assert isinstance(err.value, ValueError) and isinstance(err.value, MemoryError)
    with pytest.raises(MemoryBudgetError, match="more than 1e300 bytes"):
        check_memory(math.inf, "infinitely much", "less")
    with pytest.raises(MemoryBudgetError, match="more than 1e300 bytes"):
        check_memory(2**2000, "2**2000 bytes", "less")


# --- guards: sizes from issue 11, rejected before any allocation --------------------------------

GUARDED = {
    "overlap_matrix(n=60000)": (lambda: G.overlap_matrix(np.ones((1, 60000))), "overlap_matrix"),
    "frame_statistics(block_size=60000)": (
        lambda: G.frame_statistics(np.eye(2, 60000) + 1.0, block_size=60000),
        "block_size",
    ),
    "orthonormal_frame(60000)": (lambda: G.orthonormal_frame(60000), "n_dims=60000"),
    "simplex_frame(60000)": (lambda: G.simplex_frame(60000), "n_dims=60000"),
    "orthoplex_frame(60000)": (lambda: G.orthoplex_frame(60000), "n_dims=60000"),
    "find_packing(3000, 64)": (lambda: G.find_packing(3000, 64), "polish=False"),
    "find_packing(60000, 3, polish=False)": (
        lambda: G.find_packing(60000, 3, polish=False),
        "fewer n_features",
    ),
    "max_overlap(n=60000)": (lambda: G.max_overlap(np.eye(2, 60000) + 1.0), "coherence"),
    "simulate_coherence(10**6, 10**4)": (
        lambda: G.simulate_coherence(10**6, 10**4),
        "coherence_quantile_union_bound",
    ),
    "gram_matrix(n=60000)": (lambda: G.gram_matrix(np.ones((1, 60000))), "frame_statistics"),
}


@pytest.mark.parametrize("name", sorted(GUARDED))
def test_guards_raise_before_allocating(small_budget, name):
    call, advice = GUARDED[name]
    with pytest.raises(MemoryBudgetError, match="needs about") as err:
        call()
    assert advice in str(err.value)


def test_find_packing_estimate_is_an_upper_bound_in_practice():
    """The polishing estimate against a measured run (N d = 240, measured peak growth 7 MB on the
    development machine): within a factor of a few, never below."""
    from csuper.geometry.packings import _search_memory

    assert 7e6 <= _search_memory(40, 6, True) <= 50e6
    assert _search_memory(3000, 64, True) > 2**40  # the 7.5 GiB was only the start
    assert _search_memory(3000, 64, False) < 2**30


# --- huge integers -------------------------------------------------------------------------------

HUGE = 2**63


@pytest.mark.parametrize(
    "call, name",
    [
        (lambda: G.welch_bound(HUGE, 6, order=2), "n_features"),
        (lambda: G.welch_bound(10, HUGE), "n_dims"),
        (lambda: G.welch_bound(10, 6, order=HUGE), "order"),
        (lambda: G.real_welch_bound(10, 3, order=2**200), "order"),
        (lambda: G.levenstein_bound(np.array([HUGE], dtype=np.uint64), 3), "n_features"),
        (lambda: G.gerzon_bound(HUGE), "n_dims"),
        (lambda: G.gerzon_bound(np.array([2**40])), "n_dims"),
        (lambda: G.best_coherence_bound(10, 3, max_order=HUGE), "max_order"),
        (lambda: G.line_count_bounds(0.82, 2**31, max_order=HUGE), "max_order"),
        (lambda: G.coherence_bound_line_count(0.5, HUGE), "n_dims"),
        (lambda: G.inner_product_moment(HUGE, 3), "order"),
        (lambda: G.coherence_tail_union_bound(0.5, 2**600, 3), "n_features"),
        (lambda: G.simulate_coherence(10, 3, n_trials=HUGE), "n_trials"),
        (lambda: G.find_packing(10, 3, n_starts=HUGE), "n_starts"),
    ],
)
def test_huge_integers_name_the_parameter(call, name):
    with pytest.raises(ValueError, match=rf"^{name} must"):
        call()


def test_sizes_up_to_2_53_work():
    """The largest accepted size gives finite, ordered answers (exact at these extremes)."""
    n = MAX_INT
    assert G.welch_bound(n, 3) == pytest.approx(math.sqrt((n - 3) / (3 * (n - 1))), rel=1e-15)
    assert G.gerzon_bound(MAX_INT) == MAX_INT * (MAX_INT + 1) // 2  # exact Python integer
    assert G.orthoplex_bound(n, 1000) == pytest.approx(1 / math.sqrt(1000))
    b = G.line_count_bounds(0.5, MAX_INT, max_order=4)
    assert 1 <= b.lower <= b.upper
    assert 0 < G.expected_abs_inner_product(MAX_INT) < 1e-8


def test_expected_abs_inner_product_at_huge_dimension():
    """E|t| = Gamma(m/2) / (sqrt(pi) Gamma((m+1)/2)) against its asymptotic series
    sqrt(2/(pi m)) (1 + 1/(4m) + 1/(32 m^2)) (Stirling): the log-gamma difference used before
    lost every digit at m = 2**53."""
    for m in (10**6, 10**9, 10**12, MAX_INT):
        series = math.sqrt(2 / (math.pi * m)) * (1 + 1 / (4 * m) + 1 / (32 * m * m))
        assert G.expected_abs_inner_product(m) == pytest.approx(series, rel=1e-14)


def test_moments_are_certified_lower_estimates():
    """c_k for d = 3 is exactly 1/(2k + 1) (prod_{j<k} (2j+1)/(2j+3) telescopes), so at
    N = 2k + 1 the real Welch bound of order k is exactly 0. Beyond order 256 c_k comes from
    log-gamma differences with relative error ~1e-10 at k = 1e5; an uncertified estimate above
    1/(2k+1) gave the spurious bound (1e-10 / N)^(1/2k) ~ 0.9999 for the coherence."""
    for k in (2, 17, 256, 257, 1000, 10**5, 10**7):
        c, rtol = even_moment(k, 3)
        assert abs(c * (2 * k + 1) - 1) <= rtol
        assert G.real_welch_bound(2 * k + 1, 3, order=k) == 0.0
        # just past it the bound is nontrivial, as long as the certified error leaves room
        # (N c_k - 1 = 1/(2k+1) must exceed N c_k rtol; at k = 1e7 it does not)
        if rtol * (2 * k + 2) < 0.5 / (2 * k + 1):
            assert G.real_welch_bound(2 * k + 2, 3, order=k) > 0.0


def test_moments_agree_across_the_two_methods():
    """The product (k <= 256) and log-gamma (k > 256) routes against scipy's Pochhammer symbols
    (an independent formula) at k = 256 and 257, within their certified errors."""
    for d in (2, 7, 1000, 10**9):
        for k in (256, 257):
            c, rtol = even_moment(k, d)
            with np.errstate(all="ignore"):  # poch(d/2, k) overflows for large d: skipped
                ref = special.poch(0.5, k) / special.poch(d / 2, k)
            if ref > 0:
                assert abs(c / ref - 1) <= rtol + 1e-13


def test_max_order_searches_end():
    """Issue 11: line_count_bounds(0.82, 2**31, max_order=2**63) never returned. Orders are
    capped at MAX_ORDER_SEARCH, and the search stops at the first order that cannot improve:
    1/c_k, a lower bound on every order-k count, increases with k."""
    assert G.MAX_ORDER_SEARCH == 10_000
    b = G.line_count_bounds(0.82, 2**31, max_order=G.MAX_ORDER_SEARCH)
    assert b.lower <= b.upper
    # early stopping never changes the answer: the full search (stop disabled by comparing with
    # every order up to the cap) agrees on a grid, value and name
    eps = np.array([0.05, 0.2, 0.33, 0.5, 0.7, 0.9])
    for d in (2, 3, 8, 50):
        fast = G.coherence_bound_line_count(eps, d, max_order=200)
        slow = np.array(
            [
                min(
                    [G.coherence_bound_line_count(e, d, max_order=1)]
                    + [_order_count(e, d, k) for k in range(2, 201)]
                )
                for e in eps
            ]
        )
        np.testing.assert_array_equal(fast, slow)


def _order_count(e, d, k):
    """The order-k real Welch count by itself (inf where it does not apply), plus the
    orthoplex/Levenstein counts through max_order=1."""
    from csuper.geometry._sphere import even_moment_lower

    c = float(even_moment_lower(k, d))
    ek = (e * e) ** k  # as the library forms it
    return math.floor((1 - ek) / (c - ek) * (1 + 1e-9) + 1e-9) if ek < c * (1 - 1e-12) else math.inf


# --- flags, NaN, registries ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "call, name",
    [
        (lambda v: G.find_packing(4, 2, polish=v, n_starts=1), "polish"),
        (lambda v: G.find_packing(4, 2, progress=v, n_starts=1), "progress"),
        (lambda v: G.simulate_coherence(3, 2, n_trials=2, progress=v), "progress"),
    ],
)
@pytest.mark.parametrize("bad", ["no", 1, None])
def test_boolean_flags_are_validated(call, name, bad):
    with pytest.raises(TypeError, match=rf"{name} must be True or False"):
        call(bad)


@pytest.mark.parametrize("kind", sorted(G.PACKING_KINDS))
def test_packing_kinds_dispatch(kind):
    """Each kind's registry entry is what find_packing runs: its closed form (R^1) and its
    objective (the largest overlap, squared for lines) give the result."""
    spec = G.PACKING_KINDS[kind]
    res = G.find_packing(5, 1, kind=kind)
    assert res.method == "construction"
    np.testing.assert_array_equal(res.frame, spec.closed_form(5, 1))
    W = np.array([[1.0, 0.6], [0.0, 0.8]])
    g = 0.6**2 if spec.squared else 0.6
    assert G.max_overlap(W, kind) == pytest.approx(spec.objective(g))


def test_no_silent_nan_from_degenerate_frames():
    """A zero column is rejected by every statistic that needs a direction, and gets D_i = 0
    (documented) where it has a meaning; no function returns NaN."""
    W = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    for f in (G.coherence, G.mean_squared_overlap, G.interference, G.frame_statistics):
        with pytest.raises(ValueError, match="zero column"):
            f(W)
    np.testing.assert_array_equal(G.feature_dimensionality(W), [1.0, 1.0, 0.0])
    assert G.frame_potential(W) == 2.0


#: issue 11 leftovers: values numpy cannot take as a real array, or takes only with raw text
NOT_ARRAYS = {"ragged": [[1, 2], [3]], "string": "abc", "dict": {"a": 1}, "object": object()}


@pytest.mark.parametrize("bad", NOT_ARRAYS.values(), ids=NOT_ARRAYS.keys())
@pytest.mark.parametrize(
    "call, name",
    [
        (lambda v: G.gerzon_bound(v), "n_dims"),  # np.ndim(n_dims) ran before int_param
        (lambda v: G.welch_bound(v, 3), "n_features"),  # int_param appended numpy's text
        (lambda v: G.find_packing(6, 3, rng=v), "rng"),  # a nested seed list was flattened
    ],
)
def test_not_an_array_names_the_parameter(call, name, bad):
    with pytest.raises((ValueError, TypeError), match=rf"^{name} ") as info:
        call(bad)
    assert "inhomogeneous" not in str(info.value)
