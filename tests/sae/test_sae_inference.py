"""Sparse inference with a given dictionary: LASSO by FISTA against cvxpy, basis pursuit's exact
recovery above the phase transition, (F)ISTA's descent, and the amortisation-gap table."""

import warnings

import numpy as np
import pytest

from csuper.compare import nonnegative_threshold
from csuper.recovery import solve_l1
from csuper.sae import (
    INFERENCE,
    SAESettings,
    amortisation_gap,
    code_law,
    ground_truth_dictionary,
    infer_codes,
    make_data,
    train_sae,
)
from csuper.sae.inference import _m_star


def test_m_star_is_the_nonnegative_threshold():
    for n, k in [(16, 3), (200, 20.5), (64, 4.0)]:
        assert _m_star(n, k) == pytest.approx(nonnegative_threshold(n, k), rel=1e-12)


def test_lasso_matches_cvxpy():
    F = ground_truth_dictionary("gaussian", 12, 6, rng=0)
    d = make_data(F, code_law(12, 2, fixed_k=True), 5, rng=1)
    res = infer_codes(F, d.X, "lasso", lam=0.05, nonnegative=True)
    for b in range(5):
        ref = solve_l1(F, d.X[b], "lasso", lam=0.05, nonnegative=True)
        assert ref.status == "optimal"
        np.testing.assert_allclose(res.codes[b], ref.x, atol=2e-5)


def test_basis_pursuit_recovers_exactly_above_the_transition():
    # n = 16, k = 2: m* = 4.2 (nonnegative); m = 12 is far above it
    F = ground_truth_dictionary("gaussian", 16, 12, rng=2)
    d = make_data(F, code_law(16, 2, fixed_k=True), 40, rng=3)
    assert _m_star(16, 2) < 12
    res = infer_codes(F, d.X, "basis_pursuit", nonnegative=True)
    assert res.n_failed == 0
    np.testing.assert_allclose(res.codes, d.codes, atol=1e-7)


def test_fista_descends_and_approaches_lasso():
    F = ground_truth_dictionary("gaussian", 10, 5, rng=4)
    d = make_data(F, code_law(10, 2, fixed_k=True), 20, rng=5)

    def objective(C):
        return 0.5 * ((d.X - C @ F.T) ** 2).sum() + 0.02 * C.sum()

    exact = objective(infer_codes(F, d.X, "lasso", lam=0.02, nonnegative=True).codes)
    ista = [
        objective(infer_codes(F, d.X, "ista", lam=0.02, n_iter=t, nonnegative=True).codes)
        for t in (1, 5, 25, 125)
    ]
    assert np.all(np.diff(ista) <= 1e-12)  # ISTA decreases the objective monotonically
    fista = objective(infer_codes(F, d.X, "fista", lam=0.02, n_iter=125, nonnegative=True).codes)
    assert exact <= fista + 1e-9 and fista - exact < ista[-1] - exact + 1e-12


def test_offset_and_bad_input():
    F = np.eye(3)
    res = infer_codes(
        F, [[1.0, 1.0, 1.0]], "lasso", lam=0.0, offset=[1.0, 0.0, 0.0], nonnegative=True
    )
    np.testing.assert_allclose(res.codes, [[0.0, 1.0, 1.0]], atol=1e-9)
    with pytest.raises(ValueError, match="method must be one of"):
        infer_codes(F, np.ones((2, 3)), "omp")
    with pytest.raises(ValueError, match="X must have 3 columns"):
        infer_codes(F, np.ones((2, 2)))
    with pytest.raises(ValueError, match="lam must be a real number"):
        infer_codes(F, np.ones((2, 3)), "lasso", lam=-1.0)
    with pytest.raises(TypeError, match="nonnegative must be True or False"):
        infer_codes(F, np.ones((2, 3)), "lasso", nonnegative="yes")
    # signed LASSO: a negative code where the data need one
    signed = infer_codes(F, [[-1.0, 0.0, 0.0]], "lasso", lam=0.0)
    np.testing.assert_allclose(signed.codes, [[-1.0, 0.0, 0.0]], atol=1e-9)


def test_amortisation_gap_rows():
    F = ground_truth_dictionary("orthogonal", 5, 8, rng=0)
    d = make_data(F, code_law(5, 1.5), 300, rng=1)
    sae = train_sae(
        d.X, 5, sparsity_coefficient=0.02, settings=SAESettings(n_steps=800, lr=5e-3), rng=0
    )
    rows = amortisation_gap(sae, d, methods=sorted(INFERENCE), lam=1e-3, n_iter=20)
    assert len(rows) == 1 + 2 * len(INFERENCE)
    bp_true = next(r for r in rows if r.method == "basis_pursuit" and r.dictionary == "true")
    assert bp_true.code_mcc == pytest.approx(1.0) and bp_true.relative_error < 1e-7
    for r in rows:
        assert 0.0 <= r.code_mcc <= 1.0 + 1e-12 and r.relative_error >= 0
    # width 5 < n_dims 8: basis pursuit with the SAE's decoder works on the best nonnegative fit,
    # so every sample is feasible
    bp_sae = next(r for r in rows if r.method == "basis_pursuit" and r.dictionary == "sae")
    assert bp_sae.n_failed == 0 and bp_sae.code_mcc > 0.5
    with pytest.raises(ValueError, match="n_dims"):
        amortisation_gap(
            sae, make_data(ground_truth_dictionary("gaussian", 5, 4, rng=0), code_law(5, 1.0), 10)
        )


# ---------------------------------------------------------------------------------------------
# Regressions of the fuzz suite's findings (tests/test_fuzz.py: KNOWN/PINNED_FAILURES)


@pytest.mark.parametrize("method", ["basis_pursuit", "fista"])
def test_infer_codes_checks_every_parameter_whatever_the_method(method):
    """tol and max_iter belong to lasso, but a bad value is refused with any method."""
    with pytest.raises(TypeError, match="tol must be a real number"):
        infer_codes(np.eye(3), np.ones((2, 3)), method, tol="0.5")
    with pytest.raises(TypeError, match="max_iter must be an integer"):
        infer_codes(np.eye(3), np.ones((2, 3)), method, max_iter=2.5)


def test_nightly_fuzz_findings_are_refused_before_any_work():
    # nightly fuzz: amortisation_gap(n_iter=2**31) ran the NNLS fits and then FISTA for hours;
    # train_sae(architecture=["lines"]) raised Python's "unhashable type: 'list'"
    with pytest.raises(ValueError, match=r"n_iter must be an integer in \[1, 100000\]"):
        infer_codes(np.eye(3), np.ones((2, 3)), "fista", n_iter=2**31)
    with pytest.raises(ValueError, match=r"max_iter must be an integer in \[1, 100000\]"):
        infer_codes(np.eye(3), np.ones((2, 3)), "lasso", tol=0.0, max_iter=2**31)
    F = ground_truth_dictionary("orthogonal", 3, 4, rng=0)
    d = make_data(F, code_law(3, 1.0), 16, rng=1)
    with pytest.raises(ValueError, match="architecture must be one of"):
        train_sae(d.X, 3, ["relu_l1"], sparsity_coefficient=0.1)
    sae = train_sae(d.X, 3, sparsity_coefficient=0.1, settings=SAESettings(n_steps=5), rng=0)
    with pytest.raises(ValueError, match=r"n_iter must be an integer in \[1, 100000\]"):
        amortisation_gap(sae, d, n_iter=2**31)
    with pytest.raises(ValueError, match="lam must be a real number"):
        amortisation_gap(sae, d, lam=-1.0)
    for bad in (np.float64(1.0), "fista"):  # not iterable; a bare string
        with pytest.raises(TypeError, match="methods must be a sequence of keys"):
            amortisation_gap(sae, d, methods=bad)


@pytest.mark.parametrize("method", ["fista", "ista", "lasso"])
@pytest.mark.parametrize("scale", [1e200, 1e-200])
def test_proximal_inference_is_scale_equivariant(method, scale):
    # D -> c D with lam -> c lam gives codes / c (and X -> c X, lam -> c lam gives c codes):
    # Lip = |D|_2^2 overflowed at c = 1e200 ("overflow in scalar power") and was 0 at 1e-200
    # (division by zero); X at 1e-200 gave lasso codes off by 1.6
    rng = np.random.default_rng(0)
    D = rng.standard_normal((8, 12))
    C = np.zeros((5, 12))
    C[:, :3] = rng.uniform(1.0, 2.0, (5, 3))
    X = C @ D.T
    ref = infer_codes(D, X, method, lam=0.01, n_iter=50, nonnegative=True).codes
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        by_d = infer_codes(D * scale, X, method, lam=0.01 * scale, n_iter=50, nonnegative=True)
        by_x = infer_codes(D, X * scale, method, lam=0.01 * scale, n_iter=50, nonnegative=True)
    tol = 1e-6 if method == "lasso" else 1e-12  # lasso stops on a relative change of 1e-9
    np.testing.assert_allclose(by_d.codes * scale, ref, rtol=tol, atol=tol)
    np.testing.assert_allclose(by_x.codes / scale, ref, rtol=tol, atol=tol)
