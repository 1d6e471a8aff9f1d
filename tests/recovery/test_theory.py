"""Theory: statistical dimension (closed form vs Monte Carlo), weak thresholds, scalings."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import optimize

from csuper.recovery import (
    crpw_bound,
    l1_scaling,
    statistical_dimension,
    statistical_dimension_curve,
    transition_width,
    weak_threshold,
    weak_threshold_asymptotic,
)
from csuper.recovery.theory import _psi


def _dist2(G, k, tau, nonnegative):
    """dist^2(g, tau * subdifferential) at x0 = (1,...,1,0,...,0) (k ones), rows of G.

    Signed: on the support (g_i - tau)^2, off it (|g_i| - tau)_+^2. Nonnegative: on the support
    (g_i - tau)^2, off it (g_i - tau)_+^2 (the subdifferential is (-inf, 1] there).
    """
    tau = np.asarray(tau)[..., None] if np.ndim(tau) else tau
    on = ((G[..., :k] - tau) ** 2).sum(-1)
    off = G[..., k:]
    off = off if nonnegative else np.abs(off)
    return on + (np.maximum(off - tau, 0.0) ** 2).sum(-1)


def _dist2_cone(G, k, nonnegative):
    """dist^2(g, cone(subdifferential)) = min_{tau >= 0} dist^2(g, tau * subdiff), per row
    (bisection
    on the derivative, which is increasing: the function is convex in tau)."""
    off = G[:, k:] if nonnegative else np.abs(G[:, k:])

    def deriv(t):
        return 2 * (k * t - G[:, :k].sum(1)) - 2 * np.maximum(off - t[:, None], 0).sum(1)

    lo = np.zeros(G.shape[0])
    hi = np.full(G.shape[0], 50.0)
    for _ in range(80):
        mid = 0.5 * (lo + hi)
        pos = deriv(mid) > 0
        hi = np.where(pos, mid, hi)
        lo = np.where(pos, lo, mid)
    t = 0.5 * (lo + hi)
    return _dist2(G, k, t, nonnegative)


@pytest.mark.parametrize("nonnegative", [False, True])
@pytest.mark.parametrize("n,k", [(50, 5), (200, 20), (100, 60)])
def test_closed_form_matches_monte_carlo_at_fixed_tau(nonnegative, n, k):
    # E dist^2(g, tau* subdiff) at the minimising tau equals the closed form: an independent
    # Monte Carlo route to the formula; tolerance 5 standard errors.
    val, tau = _psi(k / n, nonnegative)
    G = np.random.default_rng(1).standard_normal((40000, n))
    d = _dist2(G, k, tau, nonnegative)
    se = d.std(ddof=1) / np.sqrt(d.size)
    assert abs(d.mean() - n * val) < 5 * se
    assert statistical_dimension(n, k, nonnegative=nonnegative) == pytest.approx(n * val, rel=1e-12)


@pytest.mark.parametrize("nonnegative", [False, True])
@pytest.mark.parametrize("n,k", [(50, 5), (200, 20)])
def test_formula_brackets_exact_statistical_dimension(nonnegative, n, k):
    # delta = E dist^2(g, cone) (Monte Carlo, per-sample minimisation over tau) satisfies
    # formula - 2 sqrt(n/k) <= delta <= formula (ALMT 2014, Thm 4.3 and Prop 4.5).
    G = np.random.default_rng(2).standard_normal((20000, n))
    d = _dist2_cone(G, k, nonnegative)
    se = d.std(ddof=1) / np.sqrt(d.size)
    f = statistical_dimension(n, k, nonnegative=nonnegative)
    assert d.mean() <= f + 5 * se
    assert d.mean() >= f - 2 * np.sqrt(n / k) - 5 * se


@pytest.mark.parametrize("nonnegative", [False, True])
def test_weak_threshold_coincides_with_statistical_dimension_curve(nonnegative):
    # ALMT 2014 Sec. 10.4: psi(rho_W(delta) * delta) = delta. Independent route: root of
    # psi(eps) = delta by brentq on the inf-over-tau formula.
    for delta in [0.05, 0.1, 0.25, 0.5, 0.75, 0.9]:
        eps = optimize.brentq(
            lambda e, delta=delta: _psi(e, nonnegative)[0] - delta, 1e-9, 1 - 1e-12, xtol=1e-14
        )
        assert weak_threshold(delta, nonnegative=nonnegative) == pytest.approx(
            eps / delta, rel=1e-6
        )


def test_weak_threshold_small_delta_asymptotics():
    # rho_W(delta) ~ 1/(2 log(1/delta)) (Donoho & Tanner 2009, J. AMS): the ratio approaches 1
    for nonnegative in [False, True]:
        d = np.array([1e-3, 1e-6, 1e-9])
        ratio = weak_threshold(d, nonnegative=nonnegative) / weak_threshold_asymptotic(d)
        assert np.all(np.abs(ratio - 1) < 0.15)
        assert abs(ratio[-1] - 1) < abs(ratio[0] - 1) or abs(ratio[-1] - 1) < 0.05


def test_simplex_threshold_above_cross_polytope():
    d = np.linspace(0.05, 0.95, 10)
    assert np.all(weak_threshold(d, nonnegative=True) > weak_threshold(d, nonnegative=False))
    assert np.all(np.diff(weak_threshold(d)) > 0)


def test_scaling_ratio_tends_to_one():
    # delta(n, k) / (2 k log(n/k)) -> 1 as k/n -> 0, slowly; check it increases towards 1
    r = [statistical_dimension(10**e, 10) / l1_scaling(10**e, 10) for e in (3, 5, 7, 9)]
    assert np.all(np.diff(r) > 0) and r[-1] < 1.0 and r[-1] > 0.75


@given(n=st.integers(2, 400), data=st.data())
def test_monotone_and_bounded(n, data):
    k = data.draw(st.integers(1, n - 1))
    for nonnegative in [False, True]:
        d = statistical_dimension(n, k, nonnegative=nonnegative)
        assert 0 < d < n
        assert statistical_dimension(n, k + 1, nonnegative=nonnegative) > d  # more nonzeros
        assert statistical_dimension(n + 1, k, nonnegative=nonnegative) > d  # larger n
        assert d >= k  # each formula is k (1 + tau^2) + (nonnegative terms) >= k
    # nonnegative cone is contained in the signed one; CRPW bound (+1 for delta vs width^2)
    assert statistical_dimension(n, k, nonnegative=True) <= statistical_dimension(n, k) + 1e-9
    assert statistical_dimension(n, k) <= crpw_bound(n, k) + 1.0


def test_curve_matches_pointwise():
    assert statistical_dimension_curve([0.1])[0] * 200 == pytest.approx(
        statistical_dimension(200, 20)
    )
    assert statistical_dimension_curve(0.1) * 200 == pytest.approx(statistical_dimension(200, 20))


def test_transition_width_closed_form():
    assert transition_width(100, 0.5) == pytest.approx(np.sqrt(8 * np.log(8)) * 10)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: statistical_dimension(10, 11), "k must be an integer in \\[0, 10\\]"),
        (lambda: statistical_dimension(0, 0), "n_features"),
        (lambda: weak_threshold([0.0]), "delta must lie in \\(0, 1\\]"),
        (lambda: weak_threshold([np.nan]), "finite"),
        (lambda: statistical_dimension_curve([1.5]), "rho must lie"),
        (lambda: transition_width(10, 1.0), "eta"),
    ],
)
def test_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.parametrize(
    "call",
    [
        lambda: statistical_dimension(10, 2, nonnegative="yes"),
        lambda: weak_threshold(0.5, nonnegative=1),
        lambda: statistical_dimension_curve(0.5, nonnegative=None),
    ],
)
def test_nonnegative_must_be_a_bool(call):
    with pytest.raises(TypeError, match="nonnegative must be True or False"):
        call()


def test_nonnegative_is_keyword_only():
    with pytest.raises(TypeError):
        statistical_dimension(10, 2, True)  # type: ignore[misc]


def test_transition_width_takes_huge_n_and_refuses_beyond_floats():
    """sqrt(8 log(4 / eta)) sqrt(n) for n = 10**30 (numpy's sqrt refused the Python int)."""
    from csuper.recovery import transition_width

    assert transition_width(10**30, 0.05) == pytest.approx(np.sqrt(8 * np.log(80)) * 1e15)
    with pytest.raises(ValueError, match="n_features must be an integer"):
        transition_width(10**400)
