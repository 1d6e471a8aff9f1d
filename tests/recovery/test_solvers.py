"""Solvers: cvxpy formulations, the batched ADMM solver, certificates, greedy baselines."""

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from csuper.recovery import (
    FORMULATIONS,
    L1Problem,
    batch_basis_pursuit,
    certify_basis_pursuit,
    draw_sparse,
    highs_basis_pursuit,
    iht,
    omp,
    solve_l1,
)
from csuper.testing import sparse_signals


def _problem(n, m, k, trials, signal, seed):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((m, n)) / np.sqrt(m)
    X = draw_sparse(n, k, trials, signal, rng=rng)
    return A, X


@pytest.mark.parametrize("signal,nonneg", [("gaussian", False), ("uniform", True)])
@pytest.mark.parametrize("k", [8, 22, 32])  # success, transition and failure regions at m = 50
def test_batch_agrees_with_cvxpy(signal, nonneg, k):
    A, X = _problem(100, 50, k, 12, signal, seed=k)
    Y = A @ X
    res = batch_basis_pursuit(A, Y, nonnegative=nonneg)
    assert np.all(res.status == "optimal")
    prob = L1Problem(A, nonnegative=nonneg)
    for j in range(Y.shape[1]):
        ref = prob.solve(Y[:, j])
        if ref.status != "optimal":
            continue
        # objective first (unique up to solver accuracy), then the minimiser (unique for Gaussian A)
        assert res.objective[j] == pytest.approx(ref.objective, rel=1e-7)
        assert np.linalg.norm(res.x[:, j] - ref.x) <= 1e-6 * np.linalg.norm(ref.x)
        assert res.residual[j] <= 1e-9 * np.linalg.norm(Y[:, j])
        cert = certify_basis_pursuit(
            A, Y[:, j], res.x[:, j], nonnegative=nonneg, dual=res.dual[:, j]
        )
        assert cert.valid


@pytest.mark.kernels
@pytest.mark.parametrize("nonneg", [False, True])
def test_highs_agrees_with_batch(nonneg):
    A, X = _problem(60, 30, 12, 6, "uniform" if nonneg else "gaussian", seed=3)
    res = batch_basis_pursuit(A, A @ X, nonnegative=nonneg)
    for j in range(X.shape[1]):
        h = highs_basis_pursuit(A, A @ X[:, j], nonnegative=nonneg)
        assert h.status == "optimal"
        assert h.objective == pytest.approx(res.objective[j], rel=1e-7)


def test_batch_is_deterministic_and_columnwise():
    A, X = _problem(80, 40, 10, 8, "gaussian", seed=5)
    r1 = batch_basis_pursuit(A, A @ X)
    r2 = batch_basis_pursuit(A, A @ X[:, 3])
    np.testing.assert_allclose(r1.x[:, 3], r2.x[:, 0], rtol=0, atol=1e-10)
    r3 = batch_basis_pursuit(A, A @ X)
    np.testing.assert_array_equal(r1.x, r3.x)


def test_reference_mode_refutes_only_failures():
    # at k = 30, m = 40, n = 80 most trials fail: refuted trials must have BP objective below
    # the planted l1 norm (checked by HiGHS), certified trials must equal the BP optimum.
    A, X = _problem(80, 40, 24, 10, "gaussian", seed=9)
    Y = A @ X
    res = batch_basis_pursuit(A, Y, reference=X)
    assert set(res.status) <= {"optimal", "refuted"}
    for j in range(Y.shape[1]):
        h = highs_basis_pursuit(A, Y[:, j])
        if res.status[j] == "refuted":
            assert np.abs(res.x[:, j]).sum() < np.abs(X[:, j]).sum()
            assert np.linalg.norm(A @ res.x[:, j] - Y[:, j]) <= 1e-9 * np.linalg.norm(Y[:, j])
            assert h.objective < np.abs(X[:, j]).sum() * (1 - 1e-7)
        else:
            assert res.objective[j] == pytest.approx(h.objective, rel=1e-7)


def _fuchs_strict(A, x):
    """Fuchs' sufficient condition: the least-norm nu with A_S^T nu = sign(x_S) has
    max off-support |a_i^T nu| < 1 (and A_S injective): then x is the unique BP solution."""
    S = np.flatnonzero(x)
    As = A[:, S]
    if np.linalg.matrix_rank(As) < S.size:
        return False
    nu = np.linalg.lstsq(As.T, np.sign(x[S]), rcond=None)[0]
    off = np.delete(A.T @ nu, S)
    return off.size == 0 or np.abs(off).max() < 1 - 1e-6


@settings(max_examples=25)
@given(x=sparse_signals(n_features=40, k=(1, 4)), seed=st.integers(0, 2**31 - 1))
def test_exact_recovery_when_certificate_holds(x, seed):
    # A vector whose support satisfies Fuchs' condition is the unique solution: every exact
    # solver must return it. With m = 30 and k <= 4 the condition holds for about 86% of the
    # draws (measured), so assume() rejects few and every counted example reaches the asserts.
    A = np.random.default_rng(seed).standard_normal((30, 40)) / np.sqrt(30)
    assume(_fuchs_strict(A, x))
    y = A @ x
    tol = 1e-6 * np.linalg.norm(x)
    b = batch_basis_pursuit(A, y)
    assert b.status[0] == "optimal" and np.linalg.norm(b.x[:, 0] - x) <= tol
    h = highs_basis_pursuit(A, y)
    assert np.linalg.norm(h.x - x) <= tol
    assert certify_basis_pursuit(A, y, x).valid


@settings(max_examples=25)
@given(seed=st.integers(0, 2**31 - 1), k=st.integers(1, 25))
def test_nonnegative_program_never_negative(seed, k):
    A, X = _problem(50, 25, k, 3, "uniform", seed)
    res = batch_basis_pursuit(A, A @ X, nonnegative=True)
    ok = res.status == "optimal"
    assert np.all(res.x[:, ok] >= 0)
    assert ok.all()


@settings(max_examples=15)
@given(seed=st.integers(0, 2**31 - 1), k=st.integers(2, 15))
def test_more_measurements_never_break_success(seed, k):
    # nested A: the feasible set only shrinks, so a unique solution x0 stays unique
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((50, 60)) / np.sqrt(50)
    X = draw_sparse(60, k, 4, "gaussian", rng=rng)
    prev = np.zeros(4, dtype=bool)
    for m in (15, 25, 35, 50):
        res = batch_basis_pursuit(A[:m], A[:m] @ X)
        succ = (res.status == "optimal") & (
            np.linalg.norm(res.x - X, axis=0) <= 1e-6 * np.linalg.norm(X, axis=0)
        )
        assert not np.any(prev & ~succ)
        prev = succ


@pytest.mark.parametrize("nonneg", [False, True])
def test_certificate_rejects_suboptimal_points(nonneg):
    A, X = _problem(60, 30, 5, 1, "uniform" if nonneg else "gaussian", seed=11)
    x = X[:, 0]
    y = A @ x
    assert certify_basis_pursuit(A, y, x, nonnegative=nonneg).valid
    # another feasible point: x + a null-space direction (nonneg: kept >= 0 by a tiny step)
    N = np.linalg.svd(A)[2][30:].T
    z = x + 1e-3 * N[:, 0] / np.abs(N[:, 0]).max()
    z = np.abs(z) if nonneg else z
    cert = certify_basis_pursuit(A, A @ z, z, nonnegative=nonneg)  # z feasible for its own y = A z
    cert2 = certify_basis_pursuit(A, y, z, nonnegative=nonneg)
    assert not cert2.valid  # infeasible for y
    assert cert.gap >= -1e-9  # weak duality never violated
    # a dense feasible point is never optimal when the sparse x is the unique solution
    w = x + 0.1 * N[:, 0]
    assert not certify_basis_pursuit(A, y, w).valid


def test_lasso_and_bpdn_closed_form_orthonormal():
    # A = I: LASSO solution is soft(y, lam); BPDN solution is soft(y, t) with ||soft(y,t) - y|| =
    # sigma
    y = np.array([3.0, -1.0, 0.5, 2.0])
    lam = 0.7
    soft = np.sign(y) * np.maximum(np.abs(y) - lam, 0)
    r = solve_l1(np.eye(4), y, "lasso", lam=lam)
    assert r.status == "optimal"
    np.testing.assert_allclose(r.x, soft, atol=1e-6)
    sigma = float(np.linalg.norm(soft - y))
    r2 = solve_l1(np.eye(4), y, "bpdn", sigma=sigma)
    assert r2.objective == pytest.approx(np.abs(soft).sum(), rel=1e-7)
    # the objective is flat to first order along the face where the ball touches: the minimiser is
    # only determined to about sqrt(objective accuracy) by an interior-point solver
    np.testing.assert_allclose(r2.x, soft, atol=1e-3)
    # weighted l1 with unit weights is basis pursuit
    A, X = _problem(30, 15, 3, 1, "gaussian", seed=2)
    a = solve_l1(A, A @ X[:, 0], "weighted_l1", weights=np.ones(30))
    b = solve_l1(A, A @ X[:, 0])
    assert a.objective == pytest.approx(b.objective, rel=1e-7)


@pytest.mark.parametrize("formulation", sorted(FORMULATIONS))
def test_parameter_resolve_matches_fresh_build(formulation):
    A, X = _problem(30, 15, 3, 2, "gaussian", seed=4)
    kw = {
        "bp": {},
        "bpdn": {"sigma": 0.01},
        "lasso": {"lam": 0.01},
        "weighted_l1": {"weights": np.linspace(0.5, 1.5, 30)},
    }[formulation]
    prob = L1Problem(A, formulation)
    for j in range(2):
        again = prob.solve(A @ X[:, j], **kw)
        fresh = solve_l1(A, A @ X[:, j], formulation, **kw)
        assert again.ok and fresh.ok
        assert again.objective == pytest.approx(fresh.objective, rel=1e-5, abs=1e-8)


def _numpy_omp(A, y, k, tol, nonnegative):
    """Plain numpy OMP (the textbook loop): pick argmax a_i^T r (absolute value unless
    nonnegative), refit y by least squares on the chosen columns, stop after k atoms or when
    ||r|| <= tol ||y||."""
    S, r, x = [], y.copy(), np.zeros(A.shape[1])
    while len(S) < k and np.linalg.norm(r) > tol * np.linalg.norm(y):
        c = A.T @ r
        c = c if nonnegative else np.abs(c)
        c[S] = -np.inf
        i = int(np.argmax(c))
        if c[i] <= 0:
            break
        S.append(i)
        coef = np.linalg.lstsq(A[:, S], y, rcond=None)[0]
        r = y - A[:, S] @ coef
    if S:
        x[S] = coef
    return x


@pytest.mark.kernels
@pytest.mark.parametrize("nonneg", [False, True])
def test_omp_kernel_matches_numpy_omp(nonneg):
    from csuper.recovery._greedy_kernels import omp_column

    rng = np.random.default_rng(11)
    A = rng.standard_normal((25, 60)) / 5.0
    for k in (1, 4, 9):
        X = np.zeros((60, 3))
        for j in range(3):
            X[rng.choice(60, k, replace=False), j] = rng.uniform(0.5, 1.0, k) * (
                1.0 if nonneg else rng.choice([-1.0, 1.0], k)
            )
        for j in range(3):
            y = A @ X[:, j]
            got = np.empty(60)
            n_atoms = omp_column(A, y, k + 2, 1e-10, nonneg, got)
            want = _numpy_omp(A, y, k + 2, 1e-10, nonneg)
            assert n_atoms == np.count_nonzero(want)
            np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)


@pytest.mark.kernels
@pytest.mark.parametrize("nonneg", [False, True])
def test_hard_threshold_kernel_matches_numpy(nonneg):
    from csuper.recovery._greedy_kernels import hard_threshold

    X = np.random.default_rng(12).standard_normal((30, 6))
    for k in (0, 1, 5, 30):
        got = X.copy()
        hard_threshold(got, k, nonneg)
        key = np.maximum(X, 0.0) if nonneg else np.abs(X)
        want = np.zeros_like(X)
        for j in range(X.shape[1]):
            top = np.argsort(-key[:, j], kind="stable")[:k]
            want[top, j] = np.maximum(X[top, j], 0.0) if nonneg else X[top, j]
        np.testing.assert_array_equal(got, want)


@pytest.mark.kernels
def test_greedy_recover_easy_instances():
    A, X = _problem(100, 50, 5, 10, "gaussian", seed=7)
    for fn in (omp, iht):
        res = fn(A, A @ X, k=5)
        err = np.linalg.norm(res.x - X, axis=0) / np.linalg.norm(X, axis=0)
        assert np.mean(err < 1e-6) >= 0.9
        assert np.all(res.status[err < 1e-6] == "optimal")
    Xn = np.abs(X)
    res = omp(A, A @ Xn, k=5, nonnegative=True)
    assert np.all(res.x >= -1e-12) or np.mean(np.linalg.norm(res.x - Xn, axis=0) < 1e-6) >= 0.9


def test_infeasible_is_reported_not_answered():
    A = np.array([[1.0, 1.0], [1.0, 1.0]])
    y = np.array([1.0, 2.0])
    assert L1Problem(A).solve(y).status == "infeasible"
    assert L1Problem(A).solve(y).x is None
    res = batch_basis_pursuit(A, y)
    assert res.status[0] == "infeasible" and np.isnan(res.x).all()
    assert res[0].x is None and not res[0].ok
    # nonnegative infeasible: y in range(A) but no x >= 0
    A2 = np.eye(2)
    r = batch_basis_pursuit(A2, np.array([1.0, -1.0]), nonnegative=True, max_iter=50)
    assert r.status[0] == "infeasible"
    assert L1Problem(A2, nonnegative=True).solve([1.0, -1.0]).status == "infeasible"
    assert highs_basis_pursuit(A2, [1.0, -1.0], nonnegative=True).status == "infeasible"


@pytest.mark.parametrize(
    "call, exc, match",
    [
        (
            lambda: batch_basis_pursuit(np.ones((3, 4)), np.ones(2)),
            ValueError,
            "Y must have 3 rows",
        ),
        (lambda: batch_basis_pursuit([[np.nan, 1.0]], [1.0]), ValueError, "finite"),
        (lambda: batch_basis_pursuit(np.ones((2, 3)), [1.0, np.inf]), ValueError, "finite"),
        (lambda: solve_l1(np.eye(2), [1.0, 1.0], "bpdn", sigma=-1.0), ValueError, "sigma"),
        (lambda: solve_l1(np.eye(2), [1.0, 1.0], "lasso", lam=-0.1), ValueError, "lam"),
        (lambda: solve_l1(np.eye(2), [1.0, 1.0], "lasso"), ValueError, "lam must be given"),
        (lambda: solve_l1(np.eye(2), [1.0, 1.0], "foo"), ValueError, "formulation"),
        (lambda: L1Problem(np.eye(2), solver="NOPE"), ValueError, "solver"),
        (lambda: omp(np.eye(3), np.ones(3), k=4), ValueError, "k must be an integer"),
        (
            lambda: certify_basis_pursuit(np.eye(2), [1.0, 1.0], [1.0]),
            ValueError,
            "x must have shape",
        ),
        (lambda: batch_basis_pursuit(np.eye(2), [1.0, 1.0], rho=0.0), ValueError, "rho"),
        (lambda: solve_l1("abc", [1.0], "bp"), TypeError, "real numbers"),
    ],
)
def test_bad_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


@pytest.mark.kernels
@pytest.mark.parametrize("nonneg", [False, True])
def test_shrink_kernel_matches_numpy(nonneg):
    from csuper.recovery._admm_kernels import shrink_update, shrink_update_numpy

    rng = np.random.default_rng(0)
    X, Z, U = (rng.standard_normal((30, 7)) for _ in range(3))
    th = rng.uniform(0.1, 1.0, 7)
    outs = []
    for fn in (shrink_update, shrink_update_numpy):
        Zc, Uc = Z.copy(), U.copy()
        norms = [np.empty(7) for _ in range(5)]
        fn(X, Zc, Uc, th, 1.6, nonneg, *norms)
        outs.append((Zc, Uc, norms))
    np.testing.assert_allclose(outs[0][0], outs[1][0], atol=1e-12)
    np.testing.assert_allclose(outs[0][1], outs[1][1], atol=1e-12)
    for a, b in zip(outs[0][2], outs[1][2]):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    if nonneg:
        assert np.all(outs[0][0] >= 0)


@pytest.mark.parametrize("nonneg", [False, True])
def test_reference_mode_exact_route_agrees_with_highs(nonneg):
    # max_iter = 5 leaves every column open after ADMM, so all of them are settled by the exact
    # path (the warm-started simplex, with its early stop below the reference's l1 norm);
    # HiGHS on the full LP is the independent route. m, k in the transition region.
    A, X = _problem(60, 30, 14, 12, "uniform" if nonneg else "gaussian", seed=13)
    Y = A @ X
    res = batch_basis_pursuit(A, Y, nonnegative=nonneg, reference=X, max_iter=5)
    assert set(res.status) <= {"optimal", "refuted"}
    seen = set()
    for j in range(X.shape[1]):
        h = highs_basis_pursuit(A, Y[:, j], nonnegative=nonneg)
        recovered = np.linalg.norm(h.x - X[:, j]) <= 1e-6 * np.linalg.norm(X[:, j])
        ok = res.status[j] == "optimal" and np.linalg.norm(
            res.x[:, j] - X[:, j]
        ) <= 1e-6 * np.linalg.norm(X[:, j])
        assert ok == recovered
        seen.add(bool(recovered))
        if res.status[j] == "optimal":
            assert res.objective[j] == pytest.approx(h.objective, rel=1e-7)
        else:
            assert res.objective[j] < np.abs(X[:, j]).sum() * (1 - 1e-6)
            assert np.linalg.norm(A @ res.x[:, j] - Y[:, j]) <= 1e-9 * np.linalg.norm(Y[:, j])
            if nonneg:
                assert res.x[:, j].min() >= 0
    assert seen == {True, False}  # both outcomes occur at this k


@pytest.mark.kernels
def test_triangular_kernels_match_numpy():
    from csuper.recovery._triangular_kernels import back_sub, cholesky_solve, forward_sub

    rng = np.random.default_rng(3)
    M = rng.standard_normal((12, 6))
    G = M.T @ M.copy()
    L = np.linalg.cholesky(G)
    b = rng.standard_normal(6)
    np.testing.assert_allclose(forward_sub(L, b), np.linalg.solve(L, b), rtol=1e-12)
    np.testing.assert_allclose(back_sub(L.T.copy(), b), np.linalg.solve(L.T, b), rtol=1e-12)
    np.testing.assert_allclose(cholesky_solve(L, b), np.linalg.solve(G, b), rtol=1e-10)


NOT_ARRAYS = {"ragged": [[1, 2], [3]], "string": "abc", "dict": {"a": 1}, "object": object()}


@pytest.mark.parametrize("bad", NOT_ARRAYS.values(), ids=NOT_ARRAYS.keys())
@pytest.mark.parametrize(
    "call, name",
    [
        # L1Problem took np.shape(A) / np.ndim(A) to build a placeholder y before checking A
        (lambda v: L1Problem(v), "A"),
        (lambda v: solve_l1(v, [1.0, 1.0]), "A"),
        (lambda v: draw_sparse(6, 2, 3, rng=v), "rng"),  # a nested seed list was flattened
    ],
)
def test_not_an_array_names_the_parameter(call, name, bad):
    with pytest.raises((ValueError, TypeError), match=rf"^{name} ") as info:
        call(bad)
    assert "inhomogeneous" not in str(info.value)


def test_iteration_caps_are_bounded_before_iterating(monkeypatch):
    # iht(max_iter=2**40) on a column that never converges ran for weeks (the huge-integer
    # probe's timeout); max_iter above recovery._common.MAX_ITER is refused before the first
    # iteration (the patched normalisation proves it, so the unfixed code fails fast)
    import csuper.recovery.greedy as greedy
    from csuper.recovery._common import MAX_ITER

    def no_iterations(*args, **kwargs):
        raise AssertionError("iterations started")

    monkeypatch.setattr(greedy, "_unit_system", no_iterations)
    A = np.array([[1.0, 0.5, 0.0, 0.3], [0.0, 1.0, 1.0, 0.2]])
    y = np.array([1.0, 2.0])
    for fn, args in ((iht, (A, y, 1)), (batch_basis_pursuit, (A, y))):
        with pytest.raises(ValueError, match=r"max_iter must be an integer in \[1, 1000000\]"):
            fn(*args, max_iter=MAX_ITER + 1)


def test_phase_transition_cell_count_is_capped(monkeypatch):
    # a 10**5 x 10**5 grid built its 10**10 cells in a list (a raw MemoryError, or the machine's
    # memory) before the first solve; more than MAX_CELLS cells are refused first (before the
    # rng is read: the patched check_rng makes the unfixed code fail here instead of solving)
    import csuper.recovery.experiment as experiment
    from csuper.recovery import phase_transition
    from csuper.recovery.experiment import MAX_CELLS

    def no_work(*args, **kwargs):
        raise AssertionError("the experiment went past its grid")

    monkeypatch.setattr(experiment, "check_rng", no_work)
    axis = np.linspace(0.01, 1.0, 1001)
    with pytest.raises(ValueError, match="deltas and rhos must make at most MAX_CELLS"):
        phase_transition(10, deltas=axis, rhos=axis, n_trials=1, rng=0)
    assert axis.size**2 > MAX_CELLS
