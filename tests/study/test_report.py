"""Report building blocks on synthetic records with known answers (no training)."""

import math

import numpy as np
import pytest

from csuper.study.report import _clean, _dead_legs, _md_table, _why_missing, headline


def _series(up_norm, up_bias, mean, down_norm=None, cold_norm=None, curve=None):
    k = len(up_norm)
    down_norm = [1.0] * k if down_norm is None else down_norm
    zeros = [0.0] * k
    return {
        "values": list(np.geomspace(0.1, 10, k)),
        "learned_capacity": zeros,
        "norm": [0.0] * k if cold_norm is None else cold_norm,
        "prediction_grid": [0.1, 10.0],
        "prediction_curve": [0.2, 0.3] if curve is None else curve,
        "monosemantic_above": 0.9,
        "represented_threshold": 0.5,
        "mean_x0": mean,
        "warm": {
            "up": {"learned_capacity": zeros, "norm": up_norm, "bias": up_bias},
            "down": {"learned_capacity": zeros, "norm": down_norm, "bias": [0.0] * k},
        },
    }


def test_dead_leg_is_reported_with_what_its_bias_did():
    mean = [0.025, 0.025, 0.025]
    rec = {
        "parameter": "importance",
        "series": _series([0.02, 0.01, 0.03], [0.026, 0.024, 0.025], mean),
    }
    (note,) = _dead_legs(rec)  # the down leg has |w_0| = 1: alive
    assert note.startswith(
        "importance sweep, warm up: feature 0 never got a direction (|w_0| <= 0.03"
    )
    assert "|b_0 - E[x_0]| <= 0.001" in note and "predicts its mean" in note
    # a bias far from the mean: the leg is dead but the mean-prediction claim is not made
    rec["series"] = _series([0.02, 0.01, 0.03], [0.0, 0.0, 0.0], mean)
    (note,) = _dead_legs(rec)
    assert "predicts its mean" not in note
    # a leg that once reaches |w_0| >= 0.1 is not dead
    rec["series"] = _series([0.02, 0.2, 0.03], [0.025] * 3, mean)
    assert _dead_legs(rec) == []


def test_why_a_transition_is_missing():
    s = _series([0.0, 0.0, 0.0], [0.0] * 3, [0.1] * 3, cold_norm=[0.7, 0.8, 0.9])
    located = {"learned": math.nan, "predicted": 0.5, "learned_up": math.nan, "learned_down": 2.0}
    why = _why_missing(s, "ignored_to_superposed", located)
    assert why == (
        "cold: |w_0| already above 0.5 at the first point; warm up: |w_0| never reaches 0.5 (max 0)"
    )
    # the predicted curve never reaching 0.9 for the own-direction transition
    why = _why_missing(s, "superposed_to_own", {"learned": 1.0, "predicted": math.nan})
    assert why == "predicted: C_0 never reaches 0.9 (max 0.3)"
    assert _why_missing(s, "superposed_to_own", {"learned": 1.0, "predicted": 2.0}) == ""


def test_markdown_cells_escape_pipes_and_json_has_no_nan():
    table = _md_table([{"a": "|w_0| small", "b": math.nan}], [("a", "|w|"), ("b", "b")])
    assert table.splitlines()[0] == "| \\|w\\| | b |"
    assert table.splitlines()[2] == "| \\|w_0\\| small | n/a |"
    assert _clean({"x": [math.nan, math.inf, 1.5, np.float64(2.0)]}) == {
        "x": [None, None, 1.5, 2.0]
    }


def test_headline_splits_decoders_at_the_threshold():
    rows = [
        {"decoder": "relu", "m_over_mstar": r, "exact_rate": e, "relative_mse": q}
        for r, e, q in ((0.5, 0.0, 0.9), (2.0, 0.2, 0.5), (4.0, 0.4, 0.1))
    ]
    tables = {
        "models": [],
        "scaling": None,
        "decoders": rows,
        "capacities": [],
        "transitions": [],
        "dead_legs": [],
    }
    d = headline(tables)["decoder_gap"]["relu"]
    assert d["exact_rate_above_threshold"] == pytest.approx(0.3)
    assert d["exact_rate_below_threshold"] == 0.0 and d["models_above_threshold"] == 2
    assert d["median_relative_mse"] == 0.5


def test_headline_ratio_to_capacity_by_sparsity_skips_saturated_models():
    models = [
        {"sparsity": s, "represented": r, "n_features": 20, "represented_over_capacity": r / c}
        for s, r, c in ((0.9, 10, 10), (0.9, 12, 8), (0.9, 5, 10), (0.99, 20, 50), (0.99, 15, 50))
    ]
    tables = {
        "models": models,
        "scaling": None,
        "decoders": [],
        "capacities": [],
        "transitions": [],
        "dead_legs": [],
    }
    # S = 0.9: median of 1.0, 1.5, 0.5; S = 0.99: the saturated model (20 of 20) is left out
    assert headline(tables)["represented_over_capacity"] == {"0.9": 1.0, "0.99": 0.3}
