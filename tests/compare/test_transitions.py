"""Phase-transition sweeps: crossing location (known answers, hypothesis), comparative statics
of the Lagrangian prediction, and a small cold-start sweep of trained toy models."""

import matplotlib

matplotlib.use("Agg")

import os  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from csuper.compare import feature_transition_sweep, locate_crossings, relu_allocation  # noqa: E402
from csuper.toy import TrainSettings  # noqa: E402

SETTINGS = TrainSettings(n_steps=1000, batch_size=512, lr=1e-2)

# compare has no numba kernels of its own; under NUMBA_DISABLE_JIT the toy trainer runs as
# Python loops (85 s per sweep measured), and it is tested without JIT in tests/toy already
needs_jit = pytest.mark.skipif(os.environ.get("NUMBA_DISABLE_JIT") == "1",
                               reason="trains 14 toy models; too slow as plain Python")


def test_locate_crossings_known_answers():
    x = [1.0, 2.0, 3.0, 4.0]
    assert np.allclose(locate_crossings(x, [0.0, 1.0, 0.0, 1.0], 0.5), [1.5, 3.5])
    assert locate_crossings(x, [1.0, 1.0, 1.0, 1.0], 0.5).size == 0  # starts above: none
    with pytest.raises(ValueError, match="increasing"):
        locate_crossings([2.0, 1.0], [0.0, 1.0], 0.5)


@given(st.lists(st.floats(-5, 5), min_size=2, max_size=12), st.floats(-4, 4))
def test_crossings_bracket_and_interpolate(ys, t):
    x = np.arange(len(ys), dtype=float)
    y = np.array(ys)
    crossings = locate_crossings(x, y, t)
    segments = np.flatnonzero((y[:-1] < t) & (y[1:] >= t))  # y[j] < t <= y[j + 1]
    assert crossings.size == segments.size
    for c, j in zip(crossings, segments):
        assert x[j] <= c <= x[j + 1]
        assert np.interp(c, x, y) == pytest.approx(t, abs=1e-9 * (1 + abs(t)))


@given(st.integers(3, 10), st.integers(1, 3), st.floats(0.01, 0.5), st.integers(0, 2**32 - 1),
       st.floats(0.05, 5.0), st.floats(1.01, 10.0))
def test_predicted_capacity_is_monotone_in_importance(n, m, p, seed, base, factor):
    # comparative statics of the KKT allocation: raising one feature's importance (its loss
    # curve scales up) never lowers its capacity
    m = min(m, n - 1)
    imp = np.random.default_rng(seed).uniform(0.05, 1.0, n)
    P = np.full(n, p)
    imp[0] = base
    c_lo = relu_allocation(imp, P, m).capacity[0]
    imp[0] = base * factor
    c_hi = relu_allocation(imp, P, m).capacity[0]
    assert c_hi >= c_lo - 1e-9


@pytest.fixture(scope="module")
def importance_sweep():
    return feature_transition_sweep(
        6, 2, np.geomspace(0.03, 30.0, 7), feature=5, importance=np.ones(6),
        feature_probability=0.1, settings=SETTINGS, rng=0)


@needs_jit
def test_importance_sweep_goes_from_ignored_to_own_direction(importance_sweep):
    sw = importance_sweep
    rows = sw.table()
    assert len(rows) == 7 and {r["start"] for r in rows} == {"cold"}
    assert sw.norm[0] < 0.5  # unimportant: dropped
    assert sw.learned_capacity[-1] >= 0.9  # 30x more important than the rest: own direction
    assert sw.predicted_capacity[-1] >= 0.9 and sw.predicted_capacity[0] < 0.9
    assert np.all(np.diff(sw.predicted_capacity) >= -1e-12)
    tr = sw.transitions()
    lo, hi = sw.values[0], sw.values[-1]
    learned_on, learned_own = tr["ignored_to_superposed"]["learned"], tr["superposed_to_own"]["learned"]
    assert lo <= learned_on < learned_own <= hi
    assert lo <= tr["superposed_to_own"]["predicted"] <= hi


@needs_jit
def test_sweep_is_reproducible_and_plots(importance_sweep):
    again = feature_transition_sweep(
        6, 2, np.geomspace(0.03, 30.0, 7), feature=5, importance=np.ones(6),
        feature_probability=0.1, settings=SETTINGS, rng=0)
    assert np.array_equal(again.learned_capacity, importance_sweep.learned_capacity)
    ax = importance_sweep.plot()
    assert len(ax.lines) >= 3
    import matplotlib.pyplot as plt

    plt.close(ax.figure)


@pytest.mark.parametrize("kwargs,match", [
    ({"parameter": "bias"}, "parameter"),
    ({"feature": 6}, "feature"),
    ({"values": [1.0, 0.5]}, "increasing"),
    ({"values": [0.5, 2.0], "parameter": "feature_probability"}, "feature_probability"),
    ({"feature_probability": 1.5}, "feature_probability"),
])
def test_sweep_bad_input(kwargs, match):
    args = {"values": [0.1, 1.0], **kwargs}
    with pytest.raises(ValueError, match=match):
        feature_transition_sweep(6, 2, **args)


@needs_jit
def test_predicted_transition_matches_a_direct_scan(importance_sweep):
    # independent route for the predicted transition: scan relu_allocation directly on a
    # 3x finer grid and bracket the first importance where C_i >= 0.9
    fine = np.geomspace(0.03, 30.0, 1201)
    c = np.array([relu_allocation(np.r_[np.ones(5), v], np.full(6, 0.1), 2).capacity[5] for v in fine])
    j = int(np.argmax(c >= 0.9))
    assert j > 0
    x = importance_sweep.transitions()["superposed_to_own"]["predicted"]
    step = importance_sweep.prediction_grid[1] / importance_sweep.prediction_grid[0]
    assert fine[j - 1] / step <= x <= fine[j] * step
