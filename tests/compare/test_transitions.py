"""Phase-transition sweeps: crossing location (known answers, hypothesis), comparative statics
of the Lagrangian prediction, and a small cold-start sweep of trained toy models."""

import matplotlib

matplotlib.use("Agg")

import os

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from csuper.compare import (
    TransitionSweep,
    feature_transition_sweep,
    locate_crossings,
    relu_allocation,
)
from csuper.toy import TrainSettings, feature_distribution, train

SETTINGS = TrainSettings(n_steps=1000, batch_size=512, lr=1e-2)

# compare has no numba kernels of its own; under NUMBA_DISABLE_JIT the toy trainer runs as
# Python loops (85 s per sweep measured), and it is tested without JIT in tests/toy already
needs_jit = pytest.mark.skipif(
    os.environ.get("NUMBA_DISABLE_JIT") == "1",
    reason="trains 14 toy models; too slow as plain Python",
)


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


@given(
    st.integers(3, 10),
    st.integers(1, 3),
    st.floats(0.01, 0.5),
    st.integers(0, 2**32 - 1),
    st.floats(0.05, 5.0),
    st.floats(1.01, 10.0),
)
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
        6,
        2,
        np.geomspace(0.03, 30.0, 7),
        feature=5,
        importance=np.ones(6),
        feature_probability=0.1,
        settings=SETTINGS,
        rng=0,
    )


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
    learned_on, learned_own = (
        tr["ignored_to_superposed"]["learned"],
        tr["superposed_to_own"]["learned"],
    )
    assert lo <= learned_on < learned_own <= hi
    assert lo <= tr["superposed_to_own"]["predicted"] <= hi


@needs_jit
def test_sweep_is_reproducible_and_plots(importance_sweep):
    again = feature_transition_sweep(
        6,
        2,
        np.geomspace(0.03, 30.0, 7),
        feature=5,
        importance=np.ones(6),
        feature_probability=0.1,
        settings=SETTINGS,
        rng=0,
    )
    assert np.array_equal(again.learned_capacity, importance_sweep.learned_capacity)
    ax = importance_sweep.plot()
    assert len(ax.lines) >= 3
    import matplotlib.pyplot as plt

    plt.close(ax.figure)


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"parameter": "bias"}, "parameter"),
        ({"feature": 6}, "feature"),
        ({"values": [1.0, 0.5]}, "increasing"),
        ({"values": [0.5, 2.0], "parameter": "feature_probability"}, "feature_probability"),
        ({"feature_probability": 1.5}, "feature_probability"),
    ],
)
def test_sweep_bad_input(kwargs, match):
    args = {"values": [0.1, 1.0], **kwargs}
    with pytest.raises(ValueError, match=match):
        feature_transition_sweep(6, 2, **args)


@needs_jit
def test_predicted_transition_matches_a_direct_scan(importance_sweep):
    # independent route for the predicted transition: scan relu_allocation directly on a
    # 3x finer grid and bracket the first importance where C_i >= 0.9
    fine = np.geomspace(0.03, 30.0, 1201)
    c = np.array(
        [relu_allocation(np.r_[np.ones(5), v], np.full(6, 0.1), 2).capacity[5] for v in fine]
    )
    j = int(np.argmax(c >= 0.9))
    assert j > 0
    x = importance_sweep.transitions()["superposed_to_own"]["predicted"]
    step = importance_sweep.prediction_grid[1] / importance_sweep.prediction_grid[0]
    assert fine[j - 1] / step <= x <= fine[j] * step


SWEEP = dict(feature=5, importance=np.ones(6), feature_probability=0.1, settings=SETTINGS)
VALUES = np.geomspace(0.03, 30.0, 7)


@pytest.fixture(scope="module")
def both_sweep():
    return feature_transition_sweep(6, 2, VALUES, rng=0, start="both", **SWEEP)


@needs_jit
def test_both_sweep_table_and_cold_part_unchanged(both_sweep, importance_sweep):
    sw = both_sweep
    assert importance_sweep.start == "cold" and importance_sweep.warm is None
    # the cold part of start="both" is the start="cold" sweep for the same rng, bit for bit
    assert np.array_equal(sw.learned_capacity, importance_sweep.learned_capacity)
    assert np.array_equal(sw.final_loss, importance_sweep.final_loss)
    rows = sw.table()
    assert len(rows) == 3 * 7
    assert [(r["direction"], r["start"]) for r in rows] == (
        [("none", "cold")] * 7 + [("up", "warm")] * 7 + [("down", "warm")] * 7
    )
    assert [r["value"] for r in rows[7:14]] == list(VALUES)
    assert [r["value"] for r in rows[14:]] == list(VALUES[::-1])
    assert rows[:7] == importance_sweep.table()
    for r in rows[7:]:
        j = int(np.flatnonzero(VALUES == r["value"])[0])
        w = sw.warm[r["direction"]]
        assert r["learned_capacity"] == w["learned_capacity"][j] and r["norm"] == w["norm"][j]
        assert r["predicted_capacity"] == sw.predicted_capacity[j]
    for d in ("up", "down"):
        assert np.all(np.isfinite(sw.warm[d]["final_loss"]))
        assert np.allclose(sw.warm[d]["norm"], np.linalg.norm(sw.warm[d]["W"][:, :, 5], axis=1))


@needs_jit
def test_warm_points_are_initialised_from_the_previous_point(both_sweep):
    # independent route: redo one step of each chain with csuper.toy.train(init=...), the seeds
    # drawn as the sweep documents (cold seeds first, then warm seeds of shape (2, k, n_seeds))
    gen = np.random.default_rng(0)
    gen.integers(0, 2**63, size=7)
    seeds = gen.integers(0, 2**63, size=(2, 7, 1))
    w = both_sweep.warm
    imp = np.ones(6)
    for s, j, prev in (
        (0, 0, None),  # each leg starts fresh at its own end
        (0, 3, (w["up"]["W"][2:3], w["up"]["b"][2:3])),
        (1, 6, None),
        (1, 2, (w["down"]["W"][3:4], w["down"]["b"][3:4])),
    ):
        imp[5] = VALUES[j]
        pt = train(
            feature_distribution(6, 0.1),
            2,
            importance=imp,
            settings=SETTINGS,
            seeds=seeds[s, j],
            init=prev,
        )
        direction = ("up", "down")[s]
        assert np.array_equal(pt.W[0], w[direction]["W"][j]), (direction, j)


@needs_jit
def test_warm_points_keep_the_best_of_n_seeds():
    # regression: warm points with n_seeds > 1 once passed N seeds to a 1-seed train call.
    # Independent route: each warm point is the best (lowest final loss) of its N data streams,
    # so it equals the single-stream run of the stream that train() reports as best.
    values = VALUES[:3]
    sw = feature_transition_sweep(6, 2, values, rng=1, start="warm", n_seeds=2, **SWEEP)
    gen = np.random.default_rng(1)
    seeds = gen.integers(0, 2**63, size=(2, 3, 2))
    imp = np.ones(6)
    imp[5] = values[1]
    prev = (sw.warm["up"]["W"][0:1], sw.warm["up"]["b"][0:1])
    runs = [
        train(
            feature_distribution(6, 0.1),
            2,
            importance=imp,
            settings=SETTINGS,
            seeds=seeds[0, 1, s : s + 1],
            init=prev,
        )
        for s in range(2)
    ]
    best = min(runs, key=lambda r: r.final_loss[0])
    assert np.array_equal(best.W[0], sw.warm["up"]["W"][1])
    assert sw.warm["up"]["final_loss"][1] == best.final_loss[0]


@needs_jit
def test_warm_sweep_transitions_and_reproducible(both_sweep):
    tr = both_sweep.transitions()
    lo, hi = VALUES[0], VALUES[-1]
    for key in ("superposed_to_own", "ignored_to_superposed"):
        t = tr[key]
        assert set(t) == {
            "learned",
            "predicted",
            "learned_up",
            "learned_down",
            "hysteresis",
            "hysteresis_cold",
        }
        assert lo <= t["learned_up"] <= hi and lo <= t["learned_down"] <= hi
        assert t["hysteresis"] == t["learned_up"] - t["learned_down"]
        assert t["hysteresis_cold"] == t["learned"] - t["learned_down"]
    # the top point is own-direction on both legs (30x more important than the rest)
    assert both_sweep.warm["up"]["learned_capacity"][-1] >= 0.9
    assert both_sweep.warm["down"]["learned_capacity"][-1] >= 0.9
    warm = feature_transition_sweep(6, 2, VALUES, rng=0, start="warm", **SWEEP)
    assert np.all(np.isnan(warm.learned_capacity)) and len(warm.table()) == 14
    assert np.isnan(warm.transitions()["superposed_to_own"]["learned"])
    again = feature_transition_sweep(6, 2, VALUES, rng=0, start="warm", **SWEEP)
    for d in ("up", "down"):
        assert np.array_equal(again.warm[d]["W"], warm.warm[d]["W"])
    ax = both_sweep.plot()
    assert len(ax.lines) >= 5
    import matplotlib.pyplot as plt

    plt.close(ax.figure)


def test_hysteresis_known_answer():
    # synthetic series: up jumps between 2 and 3, down falls between 1 and 2, threshold 0.9
    x = np.array([1.0, 2.0, 3.0, 4.0])
    nan = np.full(4, np.nan)
    warm = {
        "up": {
            "learned_capacity": np.array([0.0, 0.0, 1.0, 1.0]),
            "norm": np.array([0.0, 1.0, 1.0, 1.0]),
            "final_loss": nan,
        },
        "down": {
            "learned_capacity": np.array([0.0, 1.0, 1.0, 1.0]),
            "norm": np.array([1.0, 1.0, 1.0, 1.0]),
            "final_loss": nan,
        },
    }
    sw = TransitionSweep(
        "importance", 0, x, nan, nan, np.zeros(4), nan, 0.9, 0.5, x, np.zeros(4), "warm", warm
    )
    t = sw.transitions()["superposed_to_own"]
    assert t["learned_up"] == pytest.approx(2.9) and t["learned_down"] == pytest.approx(1.9)
    assert t["hysteresis"] == pytest.approx(1.0)
    t = sw.transitions()["ignored_to_superposed"]  # down never crosses: no hysteresis located
    assert (
        t["learned_up"] == pytest.approx(1.5)
        and np.isnan(t["learned_down"])
        and np.isnan(t["hysteresis"])
    )
    assert len(sw.table()) == 8 and {r["start"] for r in sw.table()} == {"warm"}


def test_bad_start():
    with pytest.raises(ValueError, match="start"):
        feature_transition_sweep(6, 2, [0.1, 1.0], start="hot")
