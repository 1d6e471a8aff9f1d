"""Unmixing (ICA), the dimension budget and neuron alignment against the Haar null."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from csuper.diagnose import (
    additivity,
    dimension_budget,
    fast_ica,
    incidental_code,
    linear_recoverability,
    neuron_alignment,
    participation_ratio,
    rotation_code,
    sae_unmixing,
    superposition_code,
    unmixing,
)
from csuper.testing import frames


def test_fast_ica_recovers_independent_sources():
    rng = np.random.default_rng(0)
    S = np.column_stack(
        [rng.laplace(size=5000), rng.uniform(-1, 1, 5000), rng.exponential(size=5000)]
    )
    A = rng.standard_normal((5, 3))
    res = fast_ica(S @ A.T, rng=1)
    assert res.converged and res.sources.shape == (5000, 3)
    C = np.abs(np.corrcoef(S.T, res.sources.T)[:3, 3:])
    assert np.all(C.max(axis=1) > 0.99)
    # white sources and a reconstruction of the centred data
    np.testing.assert_allclose(np.cov(res.sources.T, bias=True), np.eye(3), atol=1e-8)
    H = S @ A.T
    np.testing.assert_allclose(res.sources @ res.atoms.T, H - H.mean(axis=0), atol=1e-8)


def test_fast_ica_validates():
    with pytest.raises(ValueError, match="no variance"):
        fast_ica(np.ones((10, 2)))
    with pytest.raises(ValueError, match="n_components"):
        fast_ica(np.random.default_rng(0).standard_normal((50, 2)), n_components=3)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_unmixing_known_answers(seed):
    c = rotation_code(rng=seed)
    res = unmixing(c.H, c.X, rng=seed)
    assert res.diagnosis == "rotated basis", res.summary
    assert res.statistic > res.baseline
    assert res.details["welch_bound"] == 0.0  # r <= m atoms need not overlap
    c = superposition_code(rng=seed)
    res = unmixing(c.H, c.X, rng=seed)
    assert res.diagnosis == "superposition", res.summary
    assert res.details["rank"] == c.n_dims < c.n_features


def test_dimension_budget_known_answers():
    assert dimension_budget(np.eye(3)).diagnosis == "no superposition"
    assert (
        dimension_budget(np.hstack([np.eye(2), np.zeros((2, 1))])).diagnosis == "no superposition"
    )
    # Lecomte et al.: an antipodal pair on one neuron, n <= m
    W = np.array([[1.0, -1.0, 0.0], [0.0, 0.0, 1.0], [0.0, 0.0, 0.0]])
    res = dimension_budget(W)
    assert res.diagnosis == "incidental superposition"
    np.testing.assert_allclose(res.details["feature_dimensionality"], [0.5, 0.5, 1.0])
    a = 2 * np.pi * np.arange(5) / 5  # pentagon: 5 features in 2 dimensions
    res = dimension_budget(np.vstack([np.cos(a), np.sin(a)]))
    assert res.diagnosis == "superposition" and res.statistic == 5 and res.baseline == 2
    assert not dimension_budget(None).applicable


@given(frames(n_dims=(1, 5), n_features=(1, 10)))
def test_dimension_budget_never_exceeds_m(W):
    res = dimension_budget(W)
    assert res.details["sum_dimensionality"] <= W.shape[0] + 1e-9


@given(frames(n_dims=(1, 5), n_features=(1, 8)), st.permutations(range(8)))
def test_participation_ratio_bounds_and_invariances(W, perm):
    pr = participation_ratio(W)
    zero = ~np.any(W != 0, axis=1)
    assert np.all(np.isnan(pr[zero]))
    live = pr[~zero]
    assert np.all((live >= 1 - 1e-12) & (live <= W.shape[1] + 1e-9))
    perm = [p for p in perm if p < W.shape[1]]
    signs = np.where(np.arange(W.shape[1]) % 2, -1.0, 1.0)
    np.testing.assert_allclose(participation_ratio(W[:, perm] * signs), pr)
    np.testing.assert_allclose(participation_ratio(3.0 * W), pr)


def test_participation_ratio_closed_forms():
    np.testing.assert_allclose(participation_ratio(np.ones((2, 4))), [4.0, 4.0])
    np.testing.assert_allclose(participation_ratio([[1.0, 1.0, 0.0, 0.0]]), [2.0])


def test_neuron_alignment_known_answers():
    assert neuron_alignment(W=np.eye(5), rng=0).diagnosis == "privileged basis"
    c = rotation_code(rng=0)
    res = neuron_alignment(c.H, c.X, rng=0)
    assert res.diagnosis == "no privileged basis", res.summary
    c = incidental_code(rng=0)
    assert neuron_alignment(W=c.W, rng=0).diagnosis == "privileged basis"


def test_neuron_alignment_false_alarm_rate_is_alpha():
    # under the null (W itself a Haar rotation of the axes) the p-value is uniform: about
    # alpha = 2.5% of 120 draws are called privileged (binomial: at most 9 with 99.9%)
    rng = np.random.default_rng(7)
    calls = 0
    for _ in range(120):
        Q = np.linalg.qr(rng.standard_normal((4, 4)))[0]
        calls += neuron_alignment(W=Q[:, :3], n_null=99, rng=rng).diagnosis == "privileged basis"
    assert calls <= 9


def test_neuron_alignment_not_applicable():
    assert not neuron_alignment().applicable
    assert not neuron_alignment(W=np.ones((1, 3))).applicable
    assert not neuron_alignment(W=np.zeros((3, 3))).applicable


def test_sae_width_sweep_separates_rotation_from_superposition():
    c = rotation_code(n_samples=3000, rng=0)
    res = sae_unmixing(c.H, c.X, W=c.W, widths=[10, 20], n_steps=1500, rng=0)
    assert res.diagnosis == "rotated basis", res.summary
    assert res.statistic > res.baseline
    c = superposition_code(rng=0)
    res = sae_unmixing(c.H, c.X, widths=[8, 32], n_steps=1500, rng=0)  # frame estimated
    assert res.details["space"] == "decoder"
    assert res.diagnosis == "superposition", res.summary
    rows = res.details["widths"]
    # an overcomplete dictionary cannot beat the Welch bound; a square one need not meet it
    assert rows[1]["welch_bound"] > 0 and rows[1]["coherence"] >= rows[1]["welch_bound"]
    assert rows[0]["welch_bound"] == 0.0


def test_sae_unmixing_falls_back_to_code_space_for_coincident_directions():
    from csuper.diagnose import magnitude_code

    c = magnitude_code(rng=0)
    res = sae_unmixing(c.H, c.X, widths=[1, 4], n_steps=500, rng=0)
    assert res.details["space"] == "code" and res.diagnosis == "not unmixed"
    assert not sae_unmixing(c.H, None).applicable
    with pytest.raises(ValueError, match="widths"):
        sae_unmixing(c.H, c.X, widths=[0])


@pytest.mark.parametrize(
    "call, name",
    [
        (lambda H, X, F, k: neuron_alignment(W=np.eye(4), n_null=k), "n_null"),
        (lambda H, X, F, k: unmixing(H, X, n_null=k), "n_null"),
        (lambda H, X, F, k: linear_recoverability(H, X, n_bootstrap=k), "n_bootstrap"),
        (lambda H, X, F, k: additivity(H, F, n_permutations=k), "n_permutations"),
    ],
)
def test_resample_counts_are_capped(call, name):
    # 2**31 null draws asked numpy for a 16 GiB array (a raw MemoryError, found by the nightly
    # fuzz run) or ran for days; the cap (diagnose._inputs.MAX_RESAMPLES) is named before work
    rng = np.random.default_rng(0)
    X = rng.random((40, 3))
    H = X @ rng.standard_normal((3, 4))
    F = np.stack([np.arange(40) % 4, np.arange(40) // 10], axis=1)
    with pytest.raises(ValueError, match=rf"{name} must be .*1000000"):
        call(H, X, F, 2**31)
