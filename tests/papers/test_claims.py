"""papers/: each reproduction's claim at full size (slow: ``pytest -m slow tests/papers``).

Each test runs a script of papers/ into a temporary folder and asserts the verdict its criterion
(fixed in the script) computes from the regenerated numbers, plus the numbers behind it.
"""

import json

import pytest

from tests.papers import scripts

pytestmark = pytest.mark.slow


def _run(name, tmp_path, *args):
    scripts.load(name).main([str(tmp_path), *args])


def test_oneill_known_dictionary_gap_full(tmp_path):
    _run("oneill2024_known_dictionary", tmp_path, "--part", "headline")
    res = json.loads((tmp_path / "known_dictionary.json").read_text())["headline"]
    # O'Neill et al.: with the dictionary known, sparse inference beats the SAE encoder
    assert res["verdict"] == "reproduced"
    assert res["lasso"] > res["sae_encoder_mean_ci"][2]


def test_sharkey_claims_full(tmp_path):
    _run("sharkey2022_toy", tmp_path)
    s = json.loads((tmp_path / "toy.json").read_text())["summary"]
    assert s["claim1"] == "reproduced"


def test_elhage_intro_claims(tmp_path):
    _run("elhage2022_intro", tmp_path)
    res = json.loads((tmp_path / "intro.json").read_text())
    assert res["verdicts"]["intro_sweep"] == "reproduced"
    assert res["verdicts"]["uniform_pentagon"] == "reproduced"
    assert res["verdicts"]["dense_limit"] == "reproduced"
    assert next(row["represented"] for row in res["sweep"]) == 2


def test_elhage_dimensionality_plateaus(tmp_path):
    # the paper's size, n = 200, 10,000 steps (~20 minutes; at n = 100 and 5,000 steps the 1/2
    # plateau spans only one sparsity)
    _run("elhage2022_dimensionality", tmp_path)
    res = json.loads((tmp_path / "dimensionality.json").read_text())
    assert res["verdicts"]["plateau_1"] == "reproduced"
    assert res["verdicts"]["plateau_half"] == "reproduced"


def test_elhage_adversarial_vulnerability_tracks_features_per_dimension(tmp_path):
    # n = 400, m = 30 with 8 densities (the committed run has 20, 14 minutes at load 2; 8 suffice
    # for this claim)
    _run("elhage2022_geometry", tmp_path, "--n-densities", "8")
    v = json.loads((tmp_path / "geometry.json").read_text())["verdicts"]
    assert v["adversarial"] == "reproduced"


def test_scherlis_capacity_claims(tmp_path):
    _run("scherlis2022_capacity", tmp_path)
    v = json.loads((tmp_path / "capacity.json").read_text())["verdicts"]
    # Scherlis et al. 2022, abstract and Secs. 3-5: KKT allocation, all-or-nothing for K <= 3,
    # band width (K - 1)/2, block-semi-orthogonal W^T W
    for key in (
        "allocation",
        "all_or_nothing_below_kurtosis_3",
        "band_width",
        "block_semi_orthogonal",
    ):
        assert v[key] == "reproduced", key


def test_donoho_tanner_gaussian_transition_agrees_with_rho_w(tmp_path):
    # the Gaussian ensemble alone (the full six-ensemble run takes ~25 minutes)
    _run("donoho_tanner2009_universality", tmp_path, "--ensembles", "gaussian", "rademacher")
    s = json.loads((tmp_path / "universality.json").read_text())["summary"]
    # Donoho & Tanner 2009, abstract: the empirical transitions agree with rho_W(delta)
    for prog in ("signed", "nonnegative"):
        assert s[f"gaussian/{prog}"]["agrees_with_rho_w"] == "reproduced"
        assert s[f"rademacher/{prog}"]["agrees_with_rho_w"] == "reproduced"


def test_elhage_correlated_claims(tmp_path):
    _run("elhage2022_correlated", tmp_path)
    v = json.loads((tmp_path / "correlated.json").read_text())["verdicts"]
    assert v["anticorrelated_antipodal"] == "reproduced"
    assert v["local_orthogonal_bases"] == "reproduced"


def test_elhage_pentagon_collapse(tmp_path):
    _run("elhage2022_pentagon", tmp_path)
    v = json.loads((tmp_path / "pentagon.json").read_text())["verdicts"]
    assert v["collapse"] == "reproduced"
    assert v["first_order"] == "reproduced"


def test_elhage_phase_diagram_regions(tmp_path):
    # an 8 x 8 grid with 20 seeds per cell (the committed run; ~25 minutes on a loaded machine)
    _run("elhage2022_phase", tmp_path, "--grid", "8")
    v = json.loads((tmp_path / "phase.json").read_text())["verdicts"]
    assert v["three_regions"] == "reproduced"
    assert v["first_order"] == "reproduced"
    assert v["trained_match_exact"] == "reproduced"


def test_liu_scaling_verdicts(tmp_path):
    # the committed run (~13 minutes at load 4.5): 2,000 steps, not their 20,000
    _run("liu2025_scaling", tmp_path)
    v = json.loads((tmp_path / "scaling.json").read_text())["verdicts"]
    # Liu, Liu & Gore 2025, abstract: strong superposition's exponent (near 1) is robust to
    # alpha and exceeds the weak regime's at alpha = 0.5 (weak: alpha)
    assert v["strong_robust_to_alpha"] == "reproduced"
    assert v["strong_differs_from_weak"] == "reproduced"
    assert 0.8 <= v["fits"]["wd=-1/alpha=0.5"]["exponent"] <= 1.2
