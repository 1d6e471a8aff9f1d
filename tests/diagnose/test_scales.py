"""Diagnostics at extreme scales of the activations H, the features X and the weights W.

Every statistic below is invariant under rescaling (R^2, correlations, D_i, the represented
count with the threshold rescaled alike), so with H, X or W times 1e200 or 1e-200 it must
come out as at scale 1, without overflow warnings. Before the audit numpy's squares overflowed
or underflowed: lstsq's rank cut dropped the intercept beside H ~ 1e200 (R^2 sum 7.44 for 7.66),
X ~ 1e-200 counted as constant ("not applicable"), neuron correlations and ICA atoms' norms
overflowed, and dimension_budget found 0 represented features at W ~ 1e-200.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import csuper.diagnose as dg


@pytest.fixture(scope="module")
def code():
    return dg.superposition_code(rng=0)


def _stats(H, X, W, t):
    lin = dg.linear_recoverability(H, X, W=W, rng=0, n_bootstrap=20)
    unmix = dg.unmixing(H, X, n_null=5, rng=0)
    corr = dg.neuron_view(W, H, X).correlations
    budget = dg.dimension_budget(W, represented_threshold=t)
    return lin.statistic, lin.details["r2_theory"], unmix.statistic, corr, budget.statistic


@pytest.mark.parametrize("which", ["H", "X", "W"])
@pytest.mark.parametrize("scale", [1e200, 1e-200])
def test_diagnostics_are_scale_free(code, which, scale):
    ref = _stats(code.H, code.X, code.W, 0.5)
    s = {"H": 1.0, "X": 1.0, "W": 1.0, which: scale}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = _stats(code.H * s["H"], code.X * s["X"], code.W * s["W"], 0.5 * s["W"])
    assert got[0] == pytest.approx(ref[0], rel=1e-9)
    if which != "W":  # r2_theory reads W's columns scaled by the features' deviations
        np.testing.assert_allclose(got[1], ref[1], rtol=1e-9, atol=1e-12)
    assert got[2] == pytest.approx(ref[2], rel=1e-9)
    np.testing.assert_allclose(got[3], ref[3], rtol=1e-9, atol=1e-12)
    assert got[4] == ref[4]


@pytest.mark.parametrize("scale", [1.0, 1e200, 1e-200])
def test_linear_frame_checks_and_ratios_at_extreme_scales(code, scale):
    from csuper.diagnose.basis import _linear_frame
    from csuper.diagnose.report import _frame

    H, X, W = code.H * scale, code.X, code.W * scale
    noisy = H + 0.1 * scale * np.random.default_rng(0).standard_normal(H.shape)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        # W is the frame of H and not of the noisy H (inf <= inf and 0 <= 0 accepted both)
        assert _frame(H, X, W) is W and _frame(noisy, X, W) is None
        # the least-squares frame of h = W x (R^2 = 1) is W itself; the noisy one has R^2 < 0.99
        np.testing.assert_allclose(_linear_frame(H, X) / scale, code.W, atol=1e-9)
        assert _linear_frame(noisy, X) is None
        ladder = dg.fit_ladder(H, X, rungs=("linear", "basis_pursuit"))
        assert ladder.frame_fit_r2 == pytest.approx(1.0, abs=1e-9)
        # closed form of the doctest: 9/15 of an identity table's variance is interaction
        M = np.eye(16).reshape(4, 4, 16) * scale
        assert dg.interaction_fraction(M) == pytest.approx(0.6, rel=1e-12)
