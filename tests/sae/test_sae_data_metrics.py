"""Ground-truth data laws (Monte Carlo against their definitions) and the metrics (identities,
bounds, invariances, brute force)."""

import itertools
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import csuper.toy as toy
from csuper.sae import (
    DICTIONARIES,
    absorption,
    code_law,
    code_mcc,
    code_shrinkage,
    cosine_matrix,
    dead_latents,
    decoder_matching,
    decoder_mcc,
    fraction_of_variance_unexplained,
    ground_truth_dictionary,
    l0,
    make_data,
    mmcs_atoms,
    mmcs_features,
    recovery_rate,
    relative_reconstruction_bias,
    sample_codes,
    toy_model_data,
)


@pytest.mark.parametrize("kind", sorted(DICTIONARIES))
def test_dictionaries_have_unit_columns(kind):
    params = {"frame": "simplex", "n_dims": 3} if kind == "known" else {}
    F = (
        ground_truth_dictionary(kind, 6, 4, rng=0, **params)
        if kind != "known"
        else ground_truth_dictionary(kind, **params)
    )
    np.testing.assert_allclose(np.linalg.norm(F, axis=0), 1.0, rtol=1e-12)


def test_orthogonal_dictionary_is_a_tight_frame_when_overcomplete():
    F = ground_truth_dictionary("orthogonal", 12, 4, rng=1)
    # rows of Q^T are orthonormal before normalising columns: F F^T has condition number ~ 1
    assert np.linalg.cond(F @ F.T) < 2.5


def test_dictionary_bad_input():
    with pytest.raises(ValueError, match="kind must be one of"):
        ground_truth_dictionary("random", 4, 2)
    with pytest.raises(ValueError, match="n_dims must be an integer"):
        ground_truth_dictionary("gaussian", 4, 0)
    with pytest.raises(TypeError, match="unexpected parameters"):
        ground_truth_dictionary("gaussian", 4, 2, q=3)
    # "known" names its own keyword (it said "name must be one of", known_frame's parameter)
    for frame in (None, "pentagon", 3):
        with pytest.raises(ValueError, match=r"needs frame, one of \['clebsch'"):
            ground_truth_dictionary("known", frame=frame)
    with pytest.raises(ValueError, match="needs frame"):
        ground_truth_dictionary("known", n_features=None)


def test_bernoulli_marginals_match_the_law():
    law = code_law(10, 2.0, profile="decaying", ratio=0.8)
    C = sample_codes(law, 40_000, rng=0)
    freq = (C > 0).mean(axis=0)
    se = np.sqrt(law.feature_probability * (1 - law.feature_probability) / 40_000)
    assert np.all(np.abs(freq - law.feature_probability) < 5 * se + 1e-12)
    assert law.feature_probability.sum() == pytest.approx(2.0)
    np.testing.assert_allclose(law.feature_probability[1:] / law.feature_probability[:-1], 0.8)


def test_fixed_k_is_exact_and_weighted():
    law = code_law(6, 2, profile="zipf", alpha=1.0, fixed_k=True, magnitude="half_normal")
    C = sample_codes(law, 20_000, rng=1)
    assert np.all((C > 0).sum(axis=1) == 2)
    freq = (C > 0).mean(axis=0)
    assert np.all(np.diff(freq) < 0)  # rank order follows the Zipf weights
    # half-normal magnitudes: E|N(0,1)| = sqrt(2/pi)
    assert C[C > 0].mean() == pytest.approx(np.sqrt(2 / np.pi), abs=5 * 0.6 / np.sqrt(40_000))


def test_hierarchy_children_only_with_parent_and_exclusive():
    law = code_law(6, 3.0, hierarchy=[(0, (1, 2))], child_fraction=0.6)
    p = law.feature_probability
    assert p[1] == p[2] == pytest.approx(0.3 * p[0]) and p.sum() == pytest.approx(3.0)
    C = sample_codes(law, 50_000, rng=2)
    on = C > 0
    assert not np.any(on[:, 1] & ~on[:, 0]) and not np.any(on[:, 2] & ~on[:, 0])
    assert not np.any(on[:, 1] & on[:, 2])
    p = law.feature_probability
    # child marginal = p_child (the conditional draw keeps it unconditional)
    for c in (1, 2):
        assert on[:, c].mean() == pytest.approx(p[c], abs=5 * np.sqrt(p[c] / 50_000))


def test_code_law_bad_input():
    with pytest.raises(ValueError, match="feature probability"):
        code_law(3, 2.9, profile="zipf", alpha=3.0)
    with pytest.raises(ValueError, match=r"k must be an integer in \[1, 4\]"):
        code_law(4, 5, fixed_k=True)
    with pytest.raises(ValueError, match="child_fraction must be"):
        code_law(4, 2.0, hierarchy=[(3, (0, 1))], child_fraction=1.5)
    with pytest.raises(ValueError, match="disjoint"):
        code_law(6, 2.0, hierarchy=[(0, (1,)), (1, (2,))])
    with pytest.raises(ValueError, match="fixed_k"):
        code_law(6, 2, fixed_k=True, hierarchy=[(0, (1,))])
    with pytest.raises(ValueError, match="magnitude must be one of"):
        code_law(6, 2.0, magnitude="gauss")


def test_make_data_and_toy_model_data_are_exact_products():
    F = ground_truth_dictionary("gaussian", 5, 3, rng=0)
    d = make_data(3 * F, code_law(5, 1.0), 100, rng=1)
    np.testing.assert_allclose(d.X, d.codes @ F.T, atol=1e-12)
    noisy = make_data(F, code_law(5, 1.0), 20_000, noise=0.1, rng=1)
    assert (noisy.X - noisy.codes @ F.T).std() == pytest.approx(0.1, rel=0.03)
    with pytest.raises(ValueError, match="law has n_features=4"):
        make_data(F, code_law(4, 1.0), 10)
    model = toy.from_weights(np.array([[1.0, 0.0, 0.3], [0.0, 0.5, 0.4]]), feature_probability=0.3)
    t = toy_model_data(model, 500, rng=0)
    np.testing.assert_allclose(t.X, t.codes @ t.dictionary.T, atol=1e-12)
    np.testing.assert_allclose(np.linalg.norm(t.dictionary, axis=0), 1.0)


@pytest.mark.parametrize("scale", [1e200, 1e-200])
def test_data_from_extreme_scale_dictionaries_and_weights(scale):
    # the dictionary's columns are normalised (numpy's norm squared first: 1e200 columns became
    # 0, 1e-200 ones were refused as zero columns); a toy model's codes carry |w_i|, which
    # scale with W (formerly inf or 0)
    F = ground_truth_dictionary("gaussian", 5, 3, rng=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        d = make_data(F * scale, code_law(5, 1.0), 50, rng=1)
    ref = make_data(F, code_law(5, 1.0), 50, rng=1)
    np.testing.assert_allclose(d.dictionary, ref.dictionary, rtol=1e-14)
    np.testing.assert_allclose(d.X, ref.X, rtol=1e-13, atol=1e-15)
    W = np.array([[1.0, 0.0, 0.3], [0.0, 0.5, 0.4]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        t = toy_model_data(toy.from_weights(W * scale, feature_probability=0.3), 50, rng=0)
    ref = toy_model_data(toy.from_weights(W, feature_probability=0.3), 50, rng=0)
    np.testing.assert_allclose(t.dictionary, ref.dictionary, rtol=1e-14)
    np.testing.assert_allclose(t.codes / scale, ref.codes, rtol=1e-14)


unit_frames = st.integers(2, 6).flatmap(
    lambda m: st.tuples(st.integers(1, 7), st.integers(0, 2**32 - 1)).map(
        lambda t: np.random.default_rng(t[1]).standard_normal((m, t[0]))
    )
)


@given(unit_frames, st.integers(0, 2**32 - 1))
def test_matching_metrics_bounds_and_permutation_invariance(F, seed):
    rng = np.random.default_rng(seed)
    D = rng.standard_normal((F.shape[0], rng.integers(1, 8)))
    perm = rng.permutation(D.shape[1])
    assert decoder_mcc(F, D) == pytest.approx(decoder_mcc(F, D[:, perm]))
    assert mmcs_features(F, D) == pytest.approx(mmcs_features(F, D[:, perm]))
    # a one-to-one matching cannot beat each feature's best atom
    assert decoder_mcc(F, D) <= mmcs_features(F, D, absolute=True) + 1e-12
    for v in (
        decoder_mcc(F, D),
        mmcs_features(F, D, absolute=True),
        mmcs_atoms(F, D, absolute=True),
    ):
        assert 0.0 <= v <= 1.0 + 1e-12
    assert decoder_mcc(F, 2.5 * F) == pytest.approx(1.0)
    assert recovery_rate(F, F) == 1.0


def test_code_mcc_hungarian_equals_brute_force():
    rng = np.random.default_rng(3)
    A = rng.random((50, 4)) * (rng.random((50, 4)) < 0.5)
    B = rng.random((50, 4)) + A[:, [2, 0, 3, 1]]
    Cm = np.abs(np.corrcoef(A.T, B.T)[:4, 4:])
    best = max(np.mean([Cm[i, p[i]] for i in range(4)]) for p in itertools.permutations(range(4)))
    assert code_mcc(A, B) == pytest.approx(best)
    assert code_mcc(A, A[:, ::-1]) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="matching must be"):
        code_mcc(A, B, matching="greedy")
    with pytest.raises(ValueError, match="same number of samples"):
        code_mcc(A, B[:10])


def test_decoder_matching_finds_a_permutation():
    F = np.eye(3)
    rows, cols = decoder_matching(F, F[:, [2, 0, 1]])
    assert dict(zip(rows.tolist(), cols.tolist())) == {0: 1, 1: 2, 2: 0}
    np.testing.assert_allclose(np.diag(cosine_matrix(F, F)), 1.0)


def test_simple_metrics():
    codes = np.array([[0.0, 1.0, 0.0], [0.0, 2.0, 3.0]])
    assert dead_latents(codes) == 1 and l0(codes) == 1.5
    X = np.random.default_rng(0).standard_normal((100, 3))
    assert fraction_of_variance_unexplained(X, X) == 0.0
    assert fraction_of_variance_unexplained(X, np.tile(X.mean(0), (100, 1))) == pytest.approx(1.0)
    assert relative_reconstruction_bias(X, 0.7 * X) == pytest.approx(0.7)
    C = np.abs(X)
    assert code_shrinkage(C, 0.8 * C, (np.arange(3), np.arange(3))) == pytest.approx(0.8)
    with pytest.raises(ValueError, match="zero variance"):
        fraction_of_variance_unexplained(np.ones((3, 2)), np.ones((3, 2)))


def test_absorption_against_its_null():
    rng = np.random.default_rng(4)
    law = code_law(4, 1.6, hierarchy=[(0, (1,))], child_fraction=0.5)
    C = sample_codes(law, 5000, rng=rng)
    F = np.eye(4)
    # an absorbing encoder: the parent latent is silent whenever the child fires
    inferred = C.copy()
    inferred[C[:, 1] > 0, 0] = 0.0
    r = absorption(C, inferred, F, F, 0, [1])
    assert r.absorbed == 1.0 and r.baseline == 0.0 and r.n_with_child > 100
    honest = absorption(C, C, F, F, 0, [1])
    assert honest.absorbed == 0.0


# ---------------------------------------------------------------------------------------------
# Regressions of the fuzz suite's findings (tests/test_fuzz.py: KNOWN/PINNED_FAILURES, nightly)


def test_bad_arguments_found_by_the_fuzz_suite_name_their_parameter():
    import csuper
    import csuper.sae as sae

    C = np.abs(np.random.default_rng(0).random((5, 3)))
    with pytest.raises(ValueError, match="hierarchy entries"):
        sae.code_law(4, 1.0, hierarchy=np.array([[0.5, 1.5]]))
    with pytest.raises(ValueError, match="kind must be one of"):
        sae.ground_truth_dictionary(["lines"], 3, 2)
    with pytest.raises(csuper.MemoryBudgetError, match="code_law of n_features"):
        sae.code_law(10**30, 1.0)
    with pytest.raises(csuper.MemoryBudgetError, match="sample_codes"):
        sae.sample_codes(sae.code_law(4, 1.0), 10**30)
    with pytest.raises(TypeError, match="children"):
        sae.absorption(C, C, np.eye(3), np.eye(3), 0, np.array([1.5]))
    with pytest.raises(TypeError, match="children must be a sequence"):
        sae.absorption(C, C, np.eye(3), np.eye(3), 0, 1.5)
    with pytest.raises(ValueError, match="pairs must be a 2-D array"):
        sae.code_shrinkage(C, C, np.array([0, 1]))
    with pytest.raises(ValueError, match="pairs must hold integer"):
        sae.code_shrinkage(C, C, np.array([[0.5], [1.0]]))
    with pytest.raises(ValueError, match="confidence"):
        sae.mean_ci([1.0, 2.0], confidence=float("nan"))
    # parameters of another profile are checked too (nightly: ratio=True was accepted)
    with pytest.raises(TypeError, match="ratio must be a real number"):
        sae.code_law(4, 1.0, profile="constant", ratio=True)
    # absorption needs a child (nightly: children=[] returned NaN)
    with pytest.raises(ValueError, match="children must hold at least one"):
        sae.absorption(C, C, np.eye(3), np.eye(3), 0, [])


@pytest.mark.parametrize("scale", [1e-300, 1e300])
def test_fvu_and_reconstruction_bias_are_scale_free(scale):
    """FVU and gamma are ratios of quadratic forms: unchanged under (X, X_hat) -> c (X, X_hat),
    so entries near the float range give the same finite number (formerly NaN)."""
    X = np.array([[1.0, -1.0], [1.0, 1.0], [-1.0, 0.0]])
    X_hat = 0.5 * X
    fvu = fraction_of_variance_unexplained(scale * X, scale * X_hat)
    # closed form: sum |x - x/2|^2 / sum |x - mean x|^2 = (5/4) / (14/3) = 15/56
    assert fvu == pytest.approx(15 / 56, rel=1e-12)
    assert relative_reconstruction_bias(scale * X, scale * X_hat) == pytest.approx(0.5, rel=1e-12)


@pytest.mark.parametrize("scale", [1e-200, 1e200])
def test_cosine_correlation_and_shrinkage_metrics_are_scale_free(scale):
    """Cosines, code correlations and the shrinkage slope are invariant (the slope under a
    common scale of both codes): numpy's squares made columns of 1e200 cosine 0 with
    everything (norm inf) and columns of 1e-200 zero columns (norm 0), the correlations NaN or
    0, and the slope inf / inf = NaN or 0 / 0 = NaN."""
    rng = np.random.default_rng(0)
    D = rng.standard_normal((6, 4))
    L = D + 0.1 * rng.standard_normal((6, 4))
    C = rng.uniform(0.0, 1.0, (50, 4)) * (rng.uniform(size=(50, 4)) < 0.5)
    Ch = 0.8 * C + 0.05 * rng.standard_normal((50, 4))
    pairs = (np.arange(4), np.arange(4))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_allclose(
            cosine_matrix(D * scale, L * scale), cosine_matrix(D, L), rtol=1e-13, atol=1e-15
        )
        assert decoder_mcc(D * scale, L) == pytest.approx(decoder_mcc(D, L), rel=1e-13)
        assert code_mcc(C * scale, Ch * scale) == pytest.approx(code_mcc(C, Ch), rel=1e-13)
        assert code_shrinkage(C * scale, Ch * scale, pairs) == pytest.approx(
            code_shrinkage(C, Ch, pairs), rel=1e-13
        )


def test_reconstruction_bias_is_nan_only_without_a_positive_scale():
    """Documented: NaN when sum <x_hat, x> <= 0 (no g > 0 brings X_hat towards X)."""
    X = np.array([[1.0, 0.0], [0.0, 1.0]])
    assert np.isnan(relative_reconstruction_bias(X, np.zeros_like(X)))
    assert np.isnan(relative_reconstruction_bias(X, -X))
    assert relative_reconstruction_bias(X, 2 * X) == pytest.approx(2.0)
