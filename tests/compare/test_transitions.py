"""Phase transitions of one feature: crossing location (known answers, hypothesis), comparative
statics and exact location of the Lagrangian prediction, bracketing and bisection on trained
replicates, and warm-started legs that can leave a dead state."""

import os

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from csuper.compare import (
    TRANSITIONS,
    HysteresisLegs,
    hysteresis_legs,
    locate_crossings,
    locate_transition,
    predicted_transition,
    relu_allocation,
    transition_scan,
)
from csuper.toy import TrainSettings

SETTINGS = TrainSettings(n_steps=1000, batch_size=512, lr=1e-2)

# compare has no numba kernels of its own; under NUMBA_DISABLE_JIT the toy trainer runs as
# Python loops, and it is tested without JIT in tests/toy already
needs_jit = pytest.mark.skipif(
    os.environ.get("NUMBA_DISABLE_JIT") == "1",
    reason="trains toy models; too slow as plain Python",
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


@pytest.mark.parametrize("transition", list(TRANSITIONS))
def test_predicted_transition_is_where_the_allocation_switches(transition):
    # independent route: a dense scan of relu_allocation itself around the located value
    n, m, p = 20, 5, 0.05
    v = predicted_transition(n, m, (0.01, 1000.0), transition=transition, feature_probability=p)
    assert 0.01 < v < 1000.0
    level = 0.9 if transition == "superposed_to_own" else 1e-6
    imp = np.ones(n)
    for factor, want in ((1 - 1e-6, False), (1 + 1e-6, True)):
        imp[0] = v * factor
        assert (relu_allocation(imp, np.full(n, p), m).capacity[0] >= level) == want
    # none inside a range that does not contain it
    assert np.isnan(
        predicted_transition(n, m, (0.01, v / 2), transition=transition, feature_probability=p)
    )


@pytest.fixture(scope="module")
def scan():
    return transition_scan(
        6,
        2,
        np.geomspace(0.03, 30.0, 5),
        feature=5,
        feature_probability=0.1,
        settings=SETTINGS,
        n_seeds=3,
        rng=0,
    )


@needs_jit
def test_scan_goes_from_ignored_to_own_direction(scan):
    assert scan.learned_capacity.shape == (5, 3) and scan.final_loss.shape == (5, 3)
    assert not scan.best_higher("ignored_to_superposed")[0]  # unimportant: dropped
    assert scan.best_higher("superposed_to_own")[-1]  # 30x the rest: its own direction
    f = scan.fraction_higher("superposed_to_own")
    assert f[0] == 0.0 and f[-1] == 1.0
    assert np.all(np.diff(scan.predicted_capacity) >= -1e-12)
    again = transition_scan(
        6,
        2,
        np.geomspace(0.03, 30.0, 5),
        feature=5,
        feature_probability=0.1,
        settings=SETTINGS,
        n_seeds=3,
        rng=0,
    )
    np.testing.assert_array_equal(again.learned_capacity, scan.learned_capacity)
    assert len(repr(scan)) < 200


@needs_jit
def test_bisection_narrows_the_bracket_and_keeps_its_ends(scan):
    loc = locate_transition(
        6,
        2,
        scan.values,
        transition="superposed_to_own",
        feature=5,
        feature_probability=0.1,
        settings=SETTINGS,
        n_seeds=3,
        n_bisections=3,
        scan=scan,
        rng=1,
    )
    assert loc.bracketed and loc.reason == ""
    grid_ratio = scan.values[1] / scan.values[0]
    assert loc.high / loc.low == pytest.approx(grid_ratio ** (1 / 8))
    by_value = {round(e["value"], 12): e["best_higher"] for e in loc.evaluated}
    assert by_value[round(loc.low, 12)] is False and by_value[round(loc.high, 12)] is True
    assert len(loc.evaluated) == 5 + 3
    assert loc.low < loc.estimate < loc.high
    assert np.isfinite(loc.predicted)


@needs_jit
def test_not_bracketed_is_said_with_its_reason():
    loc = locate_transition(
        6,
        2,
        [20.0, 40.0],
        transition="ignored_to_superposed",
        settings=SETTINGS,
        n_seeds=2,
        rng=0,
    )
    assert not loc.bracketed and np.isnan(loc.low) and np.isnan(loc.estimate)
    assert loc.reason == "the best replicate is already in the higher state at the first value"


def _legs(up_D, down_D):
    k = len(up_D[0])
    ones = np.ones((k, len(up_D)))

    def leg(D):
        return {"learned_capacity": np.array(D).T, "norm": ones, "final_loss": ones}

    return HysteresisLegs(
        "importance", 0, np.arange(1.0, k + 1), leg(up_D), leg(down_D), 0.1, 0.9, 0.5
    )


def test_hysteresis_brackets_known_answer():
    # 3 chains; up: majority switches between 3 and 4; down: between 1 and 2 (met going down)
    up = [[0, 0, 0, 1, 1], [0, 0, 1, 1, 1], [0, 0, 0, 1, 1]]
    down = [[0, 1, 1, 1, 1], [0, 1, 1, 1, 1], [0, 0, 1, 1, 1]]
    legs = _legs(up, down)
    assert legs.bracket("superposed_to_own", "up") == (3.0, 4.0)
    assert legs.bracket("superposed_to_own", "down") == (1.0, 2.0)
    assert legs.detected("superposed_to_own")
    same = _legs(up, up)
    assert not same.detected("superposed_to_own")
    never = _legs([[0] * 5] * 3, down)
    assert np.isnan(never.bracket("superposed_to_own", "up")[0])
    assert not never.detected("superposed_to_own")
    with pytest.raises(ValueError, match="direction"):
        legs.bracket("superposed_to_own", "sideways")


def test_revival_kicks_only_dead_columns():
    from csuper.compare.transitions import _revive

    W = np.zeros((3, 2, 4))
    W[0, :, 1] = [0.6, 0.8]  # alive
    W[1, :, 1] = [0.01, 0.0]  # dead (below 0.1)
    out = _revive(W, 1, 0.1, np.random.default_rng(0))
    assert np.allclose(out[0, :, 1], [0.6, 0.8])
    assert np.linalg.norm(out[1, :, 1]) == pytest.approx(0.1)
    assert np.linalg.norm(out[2, :, 1]) == pytest.approx(0.1)
    assert np.array_equal(np.delete(out, 1, axis=2), np.delete(W, 1, axis=2))
    assert W[1, 0, 1] == 0.01  # the input is not modified
    assert np.array_equal(_revive(W, 1, 0.0, np.random.default_rng(0)), W)


@pytest.mark.slow
def test_revival_lets_a_warm_leg_leave_the_dead_state():
    # issue 12, defect 5, measured at the study's transition setting (n = 20, m = 5, p = 0.05):
    # w_0 = 0 with b_0 = E[x_0] is a stationary point of the loss, and without a kick both up
    # chains stay there up to importance 100 (the down legs have |w_0| = 1 there); with kicks of
    # norm 0.1 chain 0 gets its direction at the last point
    values = np.geomspace(0.01, 100.0, 7)
    kw = dict(
        feature_probability=0.05,
        settings=TrainSettings(n_steps=3000, batch_size=1024, lr=3e-3),
        n_seeds=2,
        rng=0,
    )
    stuck = hysteresis_legs(20, 5, values, revive_norm=0.0, **kw)
    revived = hysteresis_legs(20, 5, values, revive_norm=0.1, **kw)
    assert np.all(stuck.up["norm"] < 0.1) and np.all(stuck.down["norm"][-1] > 0.5)
    assert revived.up["norm"][-1, 0] > 0.5


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        ({"parameter": "lr"}, ValueError, "parameter must be one of"),
        ({"values": [1.0, 0.5]}, ValueError, "strictly increasing"),
        ({"values": [0.5, np.nan]}, ValueError, "finite"),
        ({"values": []}, ValueError, "values must have at least 1"),
        ({"parameter": "feature_probability", "values": [0.5, 2.0]}, ValueError, r"\(0, 1\]"),
        ({"feature": 6}, ValueError, "feature must be"),
        ({"n_seeds": 0}, ValueError, "n_seeds"),
        ({"n_dims": 6}, ValueError, "n_dims"),
        ({"n_features": 2**40}, ValueError, "n_features"),
        ({"settings": {"n_steps": 1}}, TypeError, "settings must be"),
        ({"importance": [1.0, -1.0, 1, 1, 1, 1]}, ValueError, "importance must be nonnegative"),
        ({"feature_probability": [0.1, 0.2]}, ValueError, "feature_probability must be"),
    ],
)
def test_scan_bad_input(kwargs, exc, match):
    args = {"n_features": 6, "n_dims": 2, "values": [0.1, 1.0]}
    args.update({k: kwargs.pop(k) for k in list(kwargs) if k in args})
    with pytest.raises(exc, match=match):
        transition_scan(args["n_features"], args["n_dims"], args["values"], **kwargs)


def test_locate_and_legs_bad_input():
    with pytest.raises(ValueError, match="transition must be one of"):
        locate_transition(6, 2, [0.1, 1.0], transition="melting")
    with pytest.raises(ValueError, match="n_bisections"):
        locate_transition(6, 2, [0.1, 1.0], transition="superposed_to_own", n_bisections=100)
    with pytest.raises(ValueError, match="at least 2 points"):
        locate_transition(6, 2, [0.1], transition="superposed_to_own")
    with pytest.raises(ValueError, match="revive_norm"):
        hysteresis_legs(6, 2, [0.1, 1.0], revive_norm=2.0)
    with pytest.raises(ValueError, match="bracket must be a pair"):
        predicted_transition(6, 2, [0.1, 1.0, 2.0], transition="superposed_to_own")
