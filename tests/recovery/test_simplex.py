"""The warm-started simplex of the batched solver's exact path (csuper.recovery._simplex_kernels),
against scipy's HiGHS on the same linear programs. Marked ``kernels``: also run without the JIT."""

import numpy as np
import pytest

from csuper.recovery import _simplex_kernels as K
from csuper.recovery import draw_sparse, highs_basis_pursuit
from csuper.recovery._linalg import range_basis

pytestmark = pytest.mark.kernels


def _reduced(A):
    """(Ac, U_r): the full-row-rank system diag(s_r) V_r^T x = U_r^T y, transposed."""
    U, s, V = range_basis(A)
    return np.ascontiguousarray(V * s), U


@pytest.mark.parametrize("nonneg", [False, True])
@pytest.mark.parametrize("k", [2, 7, 12])  # success, transition and failure regions at m = 15
def test_simplex_reaches_the_lp_optimum_from_any_basis(nonneg, k):
    rng = np.random.default_rng(k)
    n, m = 30, 15
    A = rng.standard_normal((m, n)) / np.sqrt(m)
    Ac, U = _reduced(A)
    for _ in range(3):
        x0 = draw_sparse(n, k, 1, "uniform" if nonneg else "gaussian", rng=rng)[:, 0]
        y = A @ x0
        x = np.empty(n)
        nu = np.empty(m)
        code, pivots = K.bp_simplex(
            Ac, U.T @ y, rng.permutation(n).astype(np.int64), nonneg, 1000, 1e-10, np.inf, x, nu
        )
        assert code == K.OPTIMAL and pivots <= 1000
        ref = highs_basis_pursuit(A, y, nonnegative=nonneg)
        assert np.abs(x).sum() == pytest.approx(ref.objective, rel=1e-9)
        assert np.linalg.norm(A @ x - y) <= 1e-12 * np.linalg.norm(y) * n
        # the dual vector of the final basis is feasible: |a_i^T nu| <= 1 (a_i^T nu when x >= 0)
        g = A.T @ (U @ nu)
        assert (g.max() if nonneg else np.abs(g).max()) <= 1 + 1e-9
        if nonneg:
            assert x.min() >= -1e-12 * x.max()


def test_simplex_stops_below_a_reference_and_detects_infeasibility():
    rng = np.random.default_rng(5)
    n, m = 30, 15
    A = rng.standard_normal((m, n)) / np.sqrt(m)
    Ac, U = _reduced(A)
    x0 = draw_sparse(n, 12, 1, "gaussian", rng=rng)[:, 0]  # far beyond the transition
    y = A @ x0
    ref = np.abs(x0).sum()
    assert highs_basis_pursuit(A, y).objective < ref * (1 - 1e-3)  # recovery fails here
    x = np.empty(n)
    code, _ = K.bp_simplex(
        Ac, U.T @ y, np.arange(n, dtype=np.int64), False, 1000, 1e-10, ref, x, np.empty(m)
    )
    assert code == K.BELOW_REFERENCE
    assert np.abs(x).sum() < ref and np.linalg.norm(A @ x - y) <= 1e-10 * np.linalg.norm(y)
    # nonnegative program without a feasible point: phase 1 ends above 0
    Ac, U = _reduced(np.eye(2))
    code, _ = K.bp_simplex(
        Ac,
        U.T @ np.array([1.0, -1.0]),
        np.arange(2, dtype=np.int64),
        True,
        100,
        1e-10,
        np.inf,
        np.empty(2),
        np.empty(2),
    )
    assert code == K.INFEASIBLE


def test_basis_selection_skips_dependent_and_zero_columns():
    # columns 0 and 1 equal, 2 zero: the first independent pair in the order is (0, 3)
    At = np.array([[1.0, 1.0, 0.0, 0.0, 1.0], [1.0, 1.0, 0.0, 1.0, 0.0]])
    Ac = np.ascontiguousarray(At.T)
    out = np.empty(2, dtype=np.int64)
    assert K.select_basis(Ac, np.array([0, 1, 2, 3, 4]), out) == 2
    assert out.tolist() == [0, 3]
    Binv = np.empty((2, 2))
    assert not K._invert(Ac, np.array([0, 1]), Binv)  # singular
    assert K._invert(Ac, np.array([0, 3]), Binv)
    np.testing.assert_allclose(Binv @ At[:, [0, 3]], np.eye(2), atol=1e-15)
    # a singular first choice still starts: the simplex falls back to the greedy selection
    x = np.empty(5)
    code, _ = K.bp_simplex(
        Ac,
        np.array([1.0, 2.0]),
        np.arange(5, dtype=np.int64),
        False,
        100,
        1e-10,
        np.inf,
        x,
        np.empty(2),
    )
    assert code == K.OPTIMAL and np.allclose(At @ x, [1.0, 2.0])


def test_perturbation_is_fixed_and_bounded():
    a = K._perturbation(50, 0.5, 1.0)
    assert np.array_equal(a, K._perturbation(50, 0.5, 1.0))
    assert a.min() >= 0.5 and a.max() <= 1.0 and np.unique(a).size == 50
