"""Target-dimension bounds: scikit-learn's documented numbers, closed forms, inverses, ranges."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from csuper.jl import (
    BOUNDS,
    CONSTRUCTIONS,
    achlioptas_min_dim,
    countsketch_min_dim,
    dasgupta_gupta_min_dim,
    kane_nelson_min_dim,
    larsen_nelson_lower_bound,
    max_eps,
    min_dim,
    srht_min_dim,
)

eps_st = st.floats(0.01, 0.99)
n_st = st.integers(2, 10**9)


def test_dasgupta_gupta_matches_scikit_learn_documented_examples():
    # The Examples of sklearn.random_projection.johnson_lindenstrauss_min_dim (scikit-learn docs):
    # (1e6, eps=0.5) -> 663; (1e6, eps=[0.5, 0.1, 0.01]) -> [663, 11841, 1112658];
    # (n_samples=[1e4, 1e5, 1e6], eps=0.1) -> [7894, 9868, 11841].
    assert dasgupta_gupta_min_dim(10**6, eps=0.5) == 663
    assert dasgupta_gupta_min_dim(10**6, eps=[0.5, 0.1, 0.01]).tolist() == [663, 11841, 1112658]
    assert dasgupta_gupta_min_dim([10**4, 10**5, 10**6], eps=0.1).tolist() == [7894, 9868, 11841]
    assert min_dim(10**6, 0.5, bound="dasgupta-gupta") == 663


def test_dasgupta_gupta_equals_scikit_learn_on_a_grid():
    rp = pytest.importorskip("sklearn.random_projection")
    ns = np.array([2, 3, 10, 57, 1000, 123456, 10**8])
    for e in (0.01, 0.1, 0.25, 0.5, 0.9):
        assert (
            dasgupta_gupta_min_dim(ns, e).tolist()
            == rp.johnson_lindenstrauss_min_dim(ns, eps=e).tolist()
        )


@given(n=n_st, eps=eps_st, beta=st.floats(0.01, 5.0))
def test_achlioptas_is_his_theorem_with_delta_equal_n_to_minus_beta(n, eps, beta):
    # Achlioptas (2003, Thm 1): k0 = (4 + 2 beta) / (eps^2/2 - eps^3/3) * ln n, probability 1 -
    # n^-beta
    k0 = (4 + 2 * beta) / (eps**2 / 2 - eps**3 / 3) * math.log(n)
    delta = n**-beta
    assume(0 < delta < 1)
    got = achlioptas_min_dim(n, eps, failure_probability=delta)
    assert abs(got - math.ceil(k0)) <= 1  # floating rounding of the log of n^-beta only
    assert achlioptas_min_dim(n, eps) == achlioptas_min_dim(n, eps, failure_probability=1 / n)


@given(n=n_st, eps=eps_st, delta=st.floats(1e-9, 0.5))
def test_bound_orderings(n, eps, delta):
    dg = dasgupta_gupta_min_dim(n, eps)
    ach = achlioptas_min_dim(n, eps, delta)
    assert ach >= dg  # a failure probability below 1 - 1/N costs dimensions
    kn = kane_nelson_min_dim(n, eps, delta)
    assert kn.n_dims == ach and 1 <= kn.nnz_per_column <= kn.n_dims
    assert kn.nnz_per_column == min(kn.n_dims, math.ceil(eps * kn.n_dims))
    # monotone: more points, smaller eps or smaller delta never need fewer dimensions
    assert achlioptas_min_dim(n + 1, eps, delta) >= ach
    assert achlioptas_min_dim(n, eps * 0.9, delta) >= ach
    assert srht_min_dim(n, eps, delta / 2, 1000) >= srht_min_dim(n, eps, delta, 1000)
    assert countsketch_min_dim(n, eps, delta) >= countsketch_min_dim(n, min(0.99, eps * 1.1), delta)


def test_srht_and_countsketch_closed_forms():
    # srht: b = 2 ln(4 n' P / delta), m = b^2 ln(4 P / delta) / (2 eps^2); n = 1000 pads to 1024
    N, e, d = 50, 0.3, 0.05
    P = N * (N - 1) / 2
    b = 2 * math.log(4 * 1024 * P / d)
    assert srht_min_dim(N, e, d, 1000) == math.ceil(b * b * math.log(4 * P / d) / (2 * e * e))
    assert srht_min_dim(N, e, d, 1000) == srht_min_dim(N, e, d, 1024)
    assert countsketch_min_dim(N, e, d) == math.ceil(N * (N - 1) / (e * e * d))


@pytest.mark.parametrize("bound", sorted(BOUNDS))
@given(n=st.integers(2, 10**6), m=st.integers(1, 10**7))
def test_max_eps_inverts_min_dim(bound, n, m):
    kw = dict(bound=bound, failure_probability=0.05, n_features=4096)
    try:
        e = max_eps(n, m, **kw)
    except ValueError as exc:  # the other outcome, checked: no eps < 1 is guaranteed with m
        assert "n_dims must be an integer >=" in str(exc)
        assert min_dim(n, 0.999999, **kw) > m or bound == "dasgupta-gupta"
        return
    assert 0 < e < 1
    b = BOUNDS[bound]
    real = b.real(n, e, 0.05, 4096)
    assert real == pytest.approx(m, rel=1e-9)
    assert min_dim(n, min(e * (1 + 1e-9), 0.999999), **kw) <= m
    if e > 2e-6:
        assert b.real(n, e * (1 - 1e-6), 0.05, 4096) > m


@given(n=st.integers(2, 10**8), m=st.integers(30, 10**6))
def test_max_eps_dasgupta_gupta_against_the_cubic(n, m):
    # eps^2/2 - eps^3/3 = 4 ln(n) / m: the root in (0, 1) of -x^3/3 + x^2/2 - c
    c = 4 * math.log(n) / m
    assume(c < 1 / 6)  # eps < 1 exists only then
    roots = np.roots([-1 / 3, 1 / 2, 0.0, -c])
    root = min(r.real for r in roots if abs(r.imag) < 1e-12 and 0 < r.real < 1)
    assert max_eps(n, m, bound="dasgupta-gupta") == pytest.approx(root, rel=1e-8)


def test_larsen_nelson():
    # order ln(eps^2 N) / eps^2 (Larsen & Nelson 2017, Thm 1), range eps > min(N, n)^-0.4999
    assert larsen_nelson_lower_bound(10**6, 0.1) == pytest.approx(math.log(1e4) / 0.01)
    with pytest.raises(ValueError, match=r"eps must be a real number in \(0.01.*Larsen-Nelson"):
        larsen_nelson_lower_bound(10**4, 0.01)
    with pytest.raises(ValueError, match="Larsen-Nelson"):
        larsen_nelson_lower_bound(10**6, 0.05, n_features=100)  # min(N, n) = 100
    assert larsen_nelson_lower_bound(10**6, 0.2, n_features=100) > 0


@given(n=st.integers(2, 10**9), eps=eps_st)
def test_lower_bound_order_below_the_upper_bound(n, eps):
    assume(eps > n**-0.4999)  # the Larsen-Nelson range (it raises below, tested elsewhere)
    low = larsen_nelson_lower_bound(n, eps)
    assert 0 < low <= dasgupta_gupta_min_dim(n, eps) + 1


def test_registry_consistency():
    for name, cls in CONSTRUCTIONS.items():
        if cls.bound is not None:
            assert cls.bound in BOUNDS
            assert name in BOUNDS[cls.bound].applies_to
    for b in BOUNDS.values():
        assert set(b.applies_to) <= set(CONSTRUCTIONS)


@pytest.mark.parametrize("bad", [0.0, 1.0, -0.1, 1.5, float("nan"), float("inf")])
def test_bad_eps(bad):
    for fn in (
        lambda: dasgupta_gupta_min_dim(100, bad),
        lambda: achlioptas_min_dim(100, bad),
        lambda: min_dim(100, bad, bound="srht", n_features=10),
        lambda: larsen_nelson_lower_bound(100, bad),
    ):
        with pytest.raises(ValueError, match=r"eps must be a real number in \(0, 1\); got"):
            fn()
    with pytest.raises(ValueError, match=r"eps must be real numbers in \(0, 1\)"):
        dasgupta_gupta_min_dim(100, [0.5, bad if np.isfinite(bad) else 2.0])


def test_bad_other_arguments():
    with pytest.raises(ValueError, match=r"n_points must be an integer in \[2, \d+\]; got 1"):
        achlioptas_min_dim(1, 0.5)
    with pytest.raises(TypeError, match="n_points must be an integer"):
        dasgupta_gupta_min_dim(1e6, 0.5)
    with pytest.raises(
        ValueError, match=r"failure_probability must be a real number in \(0, 1\); got 0.0"
    ):
        min_dim(10, 0.5, failure_probability=0.0)
    with pytest.raises(ValueError, match="bound must be one of"):
        min_dim(10, 0.5, bound="jl")
    with pytest.raises(ValueError, match="n_features must be given"):
        min_dim(10, 0.5, bound="srht")
    with pytest.raises(
        ValueError, match=r"n_dims must be an integer >= \d+ for the achlioptas bound"
    ):
        max_eps(1000, 10)
    with pytest.raises(ValueError, match=r"n_dims must be an integer in \[1, \d+\]; got 0"):
        max_eps(1000, 0)
    with pytest.raises(ValueError, match=r"nnz_fraction must be a real number in \(0, 1\]"):
        kane_nelson_min_dim(10, 0.5, nnz_fraction=0.0)
