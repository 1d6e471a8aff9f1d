"""Resumable sweeps, the report's tables and verdicts (synthetic records with known answers), and
the ``csuper sae`` subcommand."""

import json

import numpy as np
import pytest

from csuper.cli import main
from csuper.sae import CRITERIA, SweepConfig, mean_ci, mmcs_features, run_sweep
from csuper.sae.report import gap_table, recovery_table, verdicts

TINY = dict(
    n_features=6,
    n_dims=4,
    k=1.0,
    n_samples=256,
    n_test=128,
    widths=(4, 8),
    coefficients=(0.01, 0.1),
    n_seeds=2,
    n_steps=60,
    gap_n_features=(6,),
    gap_k=1.0,
)


def test_sweep_runs_resumes_and_reports(tmp_path):
    cfg = SweepConfig(**TINY)
    res = run_sweep(cfg, tmp_path / "s")
    assert (res.ran, res.resumed) == (3, 0)
    again = run_sweep(cfg, tmp_path / "s")
    assert (again.ran, again.resumed) == (0, 3)
    assert again.records == res.records
    summary = json.loads((tmp_path / "s" / "summary.json").read_text())
    assert len(summary["recovery"]) == 4 and {r["method"] for r in summary["gap"]} == {
        "sae_encoder",
        "basis_pursuit",
        "lasso",
        "fista",
    }
    small = [r for r in summary["recovery"] if r["width"] == 4]
    big = next(rec for rec in res.records if rec.get("width") == 8)
    low = next(rec for rec in res.records if rec.get("width") == 4)
    for row in small:  # the dictionary-size signature, recomputed from the stored decoders
        pairs = [
            (x, y)
            for x, y in zip(low["rows"], big["rows"])
            if x["coefficient"] == y["coefficient"] == row["coefficient"]
        ]
        expect = np.mean([mmcs_features(x["decoder"], y["decoder"]) for x, y in pairs])
        assert row["mmcs_with_larger"] == pytest.approx(expect)
    text = (tmp_path / "s" / "report.md").read_text()
    assert "When does an SAE recover" in text and "figures/recovery.png" in text
    assert (tmp_path / "s" / "figures" / "amortisation_gap.png").stat().st_size > 1000
    with pytest.raises(ValueError, match="refusing to mix"):
        run_sweep(SweepConfig(**{**TINY, "seed": 1}), tmp_path / "s")


def _rec_rows(rate, mmcs, n=3):
    return [
        {
            "coefficient": 0.1,
            "seed": s,
            "mmcs_features": mmcs[s],
            "mmcs_atoms": 0.5,
            "decoder_mcc": 0.5,
            "code_mcc": 0.5,
            "recovery_rate": rate[s],
            "dead_latents": 0,
            "l0": 1.0,
            "fvu": 0.1,
            "reconstruction_bias": 0.9,
        }
        for s in range(n)
    ]


def _gap_rows(enc, bp):
    rows = []
    for s in range(len(enc)):
        rows.append(
            {
                "seed": s,
                "method": "sae_encoder",
                "dictionary": "sae",
                "code_mcc": enc[s],
                "relative_error": 0.5,
                "n_failed": 0,
            }
        )
        rows.append(
            {
                "seed": s,
                "method": "basis_pursuit",
                "dictionary": "true",
                "code_mcc": bp[s],
                "relative_error": 0.0,
                "n_failed": 0,
            }
        )
        rows.append(
            {
                "seed": s,
                "method": "basis_pursuit",
                "dictionary": "sae",
                "code_mcc": enc[s] + 0.001 * s,
                "relative_error": 0.4,
                "n_failed": 0,
            }
        )
    return rows


def _recovered_record() -> dict:
    """A width-8 recovery record whose rate and MMCS pass the criteria at coefficient 0.1."""
    return {
        "kind": "recovery",
        "width": 8,
        "true_l0": 1.0,
        "null_mmcs_features": 0.4,
        "rows": _rec_rows([0.95, 0.97, 0.96], [0.98, 0.99, 0.985]),
    }


def test_verdicts_follow_the_declared_criteria():
    good = _recovered_record()
    bad = {
        "kind": "recovery",
        "width": 4,
        "true_l0": 1.0,
        "null_mmcs_features": 0.4,
        "rows": _rec_rows([0.5, 0.97, 0.96], [0.98, 0.99, 0.985]),
    }  # wide CI: lower bound < 0.9
    gap = {
        "kind": "gap",
        "n_features": 16,
        "n_dims": 8,
        "m_star": 6.3,
        "rows": _gap_rows([0.78, 0.79, 0.785], [0.99, 0.995, 0.993]),
    }
    rec = recovery_table([good, bad])
    g = gap_table([gap])
    v = verdicts(rec, g)
    assert v["recovered"] == [(8, 0.1)]
    assert v["gap"][0]["bp_true"] == "the SAE encoder trails"
    assert v["gap"][0]["bp_sae"] == "they match"
    row = next(r for r in g if r["method"] == "basis_pursuit" and r["dictionary"] == "true")
    m, lo, _hi = mean_ci([0.99 - 0.78, 0.995 - 0.79, 0.993 - 0.785])
    assert row["minus_encoder"] == pytest.approx(m) and row["minus_encoder_lo"] == pytest.approx(lo)
    assert row["m_over_m_star"] == pytest.approx(8 / 6.3)
    assert CRITERIA["recovered_rate"] == 0.9


def test_mean_ci_closed_form():
    # t_{0.975, 2} = 4.302653; s = 1 for (1, 2, 3)
    m, _lo, hi = mean_ci([1.0, 2.0, 3.0])
    assert hi - m == pytest.approx(4.302653 / np.sqrt(3), rel=1e-6)
    assert np.isnan(mean_ci([1.0])[1])


def test_mean_ci_skips_nan_only_when_asked_and_never_infinity():
    # the documented contract, made explicit (nightly fuzz: NaN entries were accepted without
    # a word, and so was inf, silently dropped: mean_ci([inf, 1, 2]) reported 1.5)
    assert mean_ci([np.nan, 1.0, 2.0, 3.0]) == mean_ci([1.0, 2.0, 3.0])
    assert mean_ci([np.nan, 1.0], skip_nan=True)[0] == 1.0
    assert all(np.isnan(mean_ci([np.nan, np.nan])))  # nothing defined: nothing to report
    with pytest.raises(ValueError, match="values must not hold NaN with skip_nan=False"):
        mean_ci([1.0, np.nan, 3.0], skip_nan=False)
    assert mean_ci([1.0, 2.0, 3.0], skip_nan=False) == mean_ci([1.0, 2.0, 3.0])
    for inf in (np.inf, -np.inf):
        with pytest.raises(ValueError, match="values must be real numbers or NaN"):
            mean_ci([inf, 1.0, 2.0])
    with pytest.raises(TypeError, match="skip_nan"):
        mean_ci([1.0, 2.0], skip_nan="no")


def test_config_rejects_bad_values():
    with pytest.raises(ValueError, match=r"\(k values\) must be an integer in \[1, 4\]"):
        SweepConfig(**{**TINY, "architecture": "topk", "coefficients": (5,)})
    with pytest.raises(ValueError, match="coefficients must be a real number"):
        SweepConfig(**{**TINY, "coefficients": (-0.1,)})
    with pytest.raises(ValueError, match="widths must be an integer"):
        SweepConfig(**{**TINY, "widths": (0,)})
    with pytest.raises(ValueError, match="dictionary must be one of"):
        SweepConfig(**{**TINY, "dictionary": "known"})
    # a repeated value is one task stored twice: it was trained, then refused by the store
    for name, values in [
        ("widths", (4, 4)),
        ("coefficients", (0.1, 0.1)),
        ("gap_n_features", (8, 8)),
    ]:
        with pytest.raises(ValueError, match=f"{name} must be distinct values"):
            SweepConfig(**{**TINY, name: values})


def test_cli_sae(tmp_path, capsys):
    out = tmp_path / "cli"
    argv = [
        "sae",
        "--n-features",
        "6",
        "--n-dims",
        "4",
        "--k",
        "1",
        "--n-samples",
        "256",
        "--widths",
        "6",
        "--coefficients",
        "0.05",
        "--n-seeds",
        "2",
        "--n-steps",
        "40",
        "--gap-n-features",
        "6",
        "--gap-k",
        "1",
        "-o",
        str(out),
        "--no-progress",
    ]
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "recovery:" in text and "amortisation gap:" in text
    assert (out / "report.md").exists()
    assert main(["sae", "--widths", "0", "-o", str(tmp_path / "x"), "--no-progress"]) == 2
    assert "widths must be an integer" in capsys.readouterr().err


def test_sweep_in_worker_processes_equals_serial(tmp_path):
    from csuper.executor import make_executor

    cfg = SweepConfig(**{**TINY, "widths": (4,), "coefficients": (0.05,)})
    serial = run_sweep(cfg, tmp_path / "serial")
    with make_executor(workers=2) as ex:
        procs = run_sweep(cfg, tmp_path / "procs", executor=ex)
    assert procs.records == serial.records


# ---------------------------------------------------------------------------------------------
# Regressions of the fuzz suite's findings (tests/test_fuzz.py: KNOWN/PINNED_FAILURES, nightly)


def test_sweep_entry_points_refuse_bad_arguments_before_any_work(tmp_path):
    from csuper.sae import run_task, sweep_tasks

    with pytest.raises(TypeError, match="config must be a SweepConfig"):
        sweep_tasks("x")
    with pytest.raises(TypeError, match="payload must be a pair"):
        run_task(np.zeros(3))
    with pytest.raises(ValueError, match="payload's task"):
        run_task((SweepConfig().to_dict(), {"kind": "recovery", "width": 5}))
    with pytest.raises(TypeError, match="widths must be an integer"):
        SweepConfig(widths=(12.0, 24.0))
    with pytest.raises(TypeError, match="widths must be a sequence"):
        SweepConfig(widths=12)
    with pytest.raises(TypeError, match="fixed_k must be True or False"):
        SweepConfig(fixed_k="no")
    # progress=1 used to be taken as a flag and ran the whole default sweep
    with pytest.raises(TypeError, match="progress must be True or False"):
        run_sweep(output=tmp_path / "sweep", progress=1)
    assert not (tmp_path / "sweep").exists()


def test_no_gap_points_claim_nothing_about_the_gap():
    # `csuper sae --gap-n-features` (no values) reported that basis pursuit "never beats" the
    # SAE encoder and that "the dictionary, not the encoder, limits" from zero measurements
    good = _recovered_record()
    v = verdicts(recovery_table([good]), gap_table([]))
    assert v["gap"] == [] and v["recovered"] == [(8, 0.1)]
    assert v["gap_answer"].startswith("not measured") and "never" not in v["gap_answer"]
