"""Tests of the ``csuper bounds`` and ``csuper compare`` subcommands, run through
``csuper.cli.main``."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from csuper.cli import SUBCOMMANDS, main


def _run(capsys, argv):
    code = main(argv)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_subcommands_registered():
    assert "bounds" in SUBCOMMANDS and "compare" in SUBCOMMANDS


# --------------------------------------------------------------------------------------------
# csuper bounds
# --------------------------------------------------------------------------------------------
def test_bounds_six_lines_in_r3(capsys):
    code, out, _ = _run(capsys, ["bounds", "--n-features", "6", "--n-dims", "3"])
    assert code == 0
    # Welch 1974 closed form sqrt((N - d) / (d (N - 1))) = 1/sqrt(5), attained by the 6
    # icosahedron diagonals.
    welch = np.sqrt((6 - 3) / (3 * (6 - 1)))
    assert f"{welch:.6f}" == "0.447214"
    assert re.search(r"^\s+welch\s+0\.447214$", out, re.M)
    assert f"Best coherence lower bound: {welch:.6f} (welch)" in out
    # 6 <= 3*4/2: the orthoplex and Levenstein bounds do not apply, and the output says why.
    for name in ("orthoplex", "levenstein"):
        assert re.search(
            rf"^\s+{name}\s+not applicable: requires n_features > n_dims\*\(n_dims\+1\)/2",
            out,
            re.M,
        )
    assert "at most 6 equiangular lines in R^3" in out  # Gerzon d(d+1)/2


def test_bounds_e8_lines_levenstein(capsys):
    code, out, _ = _run(capsys, ["bounds", "--n-features", "120", "--n-dims", "8"])
    assert code == 0
    # Levenstein: sqrt((3N - d^2 - 2d) / ((d + 2)(N - d))) = sqrt(280 / 1120) = 1/2, attained by
    # the 120 lines of E8 (Conway, Hardin and Sloane 1996); orthoplex 1/sqrt(8).
    lev = np.sqrt((3 * 120 - 64 - 16) / (10 * 112))
    assert re.search(rf"^\s+levenstein\s+{lev:.6f}$", out, re.M)
    assert re.search(rf"^\s+orthoplex\s+{1 / np.sqrt(8):.6f}$", out, re.M)
    assert f"Best coherence lower bound: {lev:.6f} (levenstein)" in out
    assert "cannot be equiangular" in out  # 120 > Gerzon's 36


def test_bounds_selection_and_line_counts(capsys):
    code, out, _ = _run(
        capsys, ["bounds", "--n-features", "6", "--n-dims", "3", "--bound", "welch", "--eps", "0.5"]
    )
    assert code == 0
    assert "welch" in out and "levenstein" not in out and "rankin_simplex" not in out
    m = re.search(r"<= 0\.5: at least (\d+) \((\w+)\), at most (\d+) \(([\w()]+)\)", out)
    assert m is not None, out
    lower, upper = int(m.group(1)), int(m.group(3))
    # The regular simplex (4 lines, coherence 1/3) exists, so the lower bound is at least 4; the
    # 6 icosahedron diagonals have coherence 1/sqrt(5) <= 0.5, so a valid upper bound is >= 6.
    assert lower >= 4 and upper >= 6 and lower <= upper


@pytest.mark.parametrize(
    "argv, name",
    [
        (["--n-features", "1", "--n-dims", "3"], "--n-features"),
        (["--n-features", "6", "--n-dims", "0"], "--n-dims"),
        (["--n-features", "6", "--n-dims", "3", "--eps", "1.5"], "--eps"),
        (["--n-features", "6", "--n-dims", "3", "--max-order", "0"], "--max-order"),
    ],
)
def test_bounds_bad_values_exit_2(capsys, argv, name):
    code, _out, err = _run(capsys, ["bounds", *argv])
    assert code == 2
    assert name in err and "error" in err


def test_bounds_bad_usage_exit_2(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["bounds", "--n-features", "6", "--n-dims", "3", "--bound", "nonsense"])
    assert exc.value.code == 2 and "--bound" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["bounds", "--n-dims", "3"])  # --n-features is required
    assert exc.value.code == 2 and "--n-features" in capsys.readouterr().err


def test_bounds_help_lists_every_option(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["bounds", "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for opt in ("--n-features", "--n-dims", "--bound", "--max-order", "--eps", "levenstein"):
        assert opt in out


# --------------------------------------------------------------------------------------------
# csuper compare
# --------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    from csuper.toy import TrainSettings, feature_distribution, save_model, train

    model = train(
        feature_distribution(6, [0.3, 0.03]),
        2,
        settings=TrainSettings(n_steps=200, batch_size=64, lr=1e-2),
        rng=0,
    )
    path = tmp_path_factory.mktemp("cli") / "model.npz"
    save_model(model, path)
    return path, model


def test_compare_prints_and_writes_json(capsys, tmp_path, model_file):
    from csuper.compare import decoder_gap

    path, model = model_file
    out_json = tmp_path / "res.json"
    code, out, _ = _run(
        capsys,
        ["compare", str(path), "--n-samples", "40", "--seed", "3", "--output", str(out_json)],
    )
    assert code == 0
    # k = n p: 6 * 0.3 and 6 * 0.03.
    assert "k=1.8000" in out and "k=0.1800" in out
    for dec in ("relu", "ista", "nnbp", "nnbp_gaussian"):
        assert re.search(rf"^\s+{dec}\s", out, re.M)
    assert "Instance 0:" in out and "Instance 1:" in out and "agreement=" in out
    res = json.loads(out_json.read_text())
    assert [r["instance"] for r in res["instances"]] == [0, 1]
    for r, inst in enumerate(res["instances"]):
        W = model.W[r]
        # represented count from the column norms directly (Elhage et al.'s 0.5 threshold)
        assert inst["scaling"]["represented"] == int(np.sum(np.linalg.norm(W, axis=0) > 0.5))
        assert inst["scaling"]["k"] == pytest.approx(6 * model.feature_probability[r][0])
        decoders = ["relu", "ista", "nnbp", "nnbp_gaussian"]
        assert [row["decoder"] for row in inst["decoder_gap"]] == decoders
        # the CLI's decoder gap is the library's with the documented seed [seed, instance]
        ref = decoder_gap(
            W,
            model.b[r],
            model.feature_probability[r],
            n_samples=40,
            decoders=decoders,
            rng=[3, r],
        )
        for row, s in zip(inst["decoder_gap"], ref.scores):
            assert row["relative_mse"] == pytest.approx(s.relative_mse, rel=1e-12, abs=1e-300)
            assert row["exact_rate"] == s.exact_rate
        # Scherlis et al. 2022: capacities sum to at most the dimension m = 2.
        assert inst["capacity"]["learned_budget"] <= 2 + 1e-9


def test_compare_instance_and_decoder_selection(capsys, model_file):
    path, _ = model_file
    code, out, _ = _run(
        capsys, ["compare", str(path), "--instance", "1", "--n-samples", "20", "--decoders", "relu"]
    )
    assert code == 0
    assert "Instance 1:" in out and "Instance 0:" not in out
    assert not re.search(r"^\s+nnbp\s", out, re.M)


def test_compare_missing_and_corrupt_files_exit_2(capsys, tmp_path):
    code, _, err = _run(capsys, ["compare", str(tmp_path / "absent.npz")])
    assert code == 2 and "absent.npz" in err and "does not exist" in err
    bad = tmp_path / "corrupt.npz"
    bad.write_bytes(b"this is not a zip archive")
    code, _, err = _run(capsys, ["compare", str(bad)])
    assert code == 2 and "corrupt.npz" in err
    other = tmp_path / "other.npz"
    np.savez(other, W=np.zeros((1, 2, 3)))
    code, _, err = _run(capsys, ["compare", str(other)])
    assert code == 2 and "missing array" in err


@pytest.mark.parametrize(
    "argv, name",
    [
        (["--instance", "2"], "--instance"),
        (["--n-samples", "0"], "--n-samples"),
        (["--represented-threshold", "-1"], "--represented-threshold"),
    ],
)
def test_compare_bad_values_exit_2(capsys, model_file, argv, name):
    path, _ = model_file
    code, _, err = _run(capsys, ["compare", str(path), *argv])
    assert code == 2 and name in err


def test_compare_bad_decoder_and_help(capsys, model_file):
    path, _ = model_file
    with pytest.raises(SystemExit) as exc:
        main(["compare", str(path), "--decoders", "magic"])
    assert exc.value.code == 2 and "--decoders" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["compare", "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for opt in (
        "--instance",
        "--n-samples",
        "--decoders",
        "--seed",
        "--output",
        "--represented-threshold",
        "gaussian_relu",
    ):
        assert opt in out


# --------------------------------------------------------------------------------------------
# csuper phase
# --------------------------------------------------------------------------------------------
PHASE = ["phase", "--n-features", "20", "--grid", "3", "--n-trials", "4", "--no-progress"]


def test_phase_worker_processes_print_the_serial_table_and_resume(capsys, tmp_path):
    code, serial, _ = _run(capsys, PHASE)
    assert code == 0
    lines = serial.strip().splitlines()
    assert lines[0] == "delta,rho,m,k,n_trials,successes,p_hat,unsolved" and len(lines) == 1 + 9
    # delta = 1 (m = n): basis pursuit with a square Gaussian matrix always recovers
    assert all(row.split(",")[6] == "1" for row in lines[1:] if row.startswith("1,"))
    code, pooled, _ = _run(capsys, [*PHASE, "--workers", "2", "--output", str(tmp_path / "p")])
    assert code == 0 and pooled == serial
    code, resumed, _ = _run(capsys, [*PHASE, "--output", str(tmp_path / "p")])
    assert code == 0 and resumed == serial


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--workers", "0"], r"workers must be an integer in \[1, inf\); got 0"),
        (["--scheduler", "nowhere"], "scheduler must be a Dask address"),
    ],
)
def test_phase_bad_executor_options_exit_2(capsys, argv, message):
    code, _, err = _run(capsys, [*PHASE, *argv])
    assert code == 2 and re.search(message, err)


@pytest.mark.parametrize(
    ("argv", "name"),
    [
        (["demo", "--n-dims", str(2**40)], "--n-dims"),
        (["phase", "--n-features", "10", "--grid", str(2**40), "--no-progress"], "--grid"),
        (["phase", "--n-features", "10", "--grid", "1001", "--no-progress"], "--grid"),
    ],
)
def test_huge_sizes_exit_2_before_allocating(capsys, monkeypatch, argv, name):
    # demo --n-dims 2**40 drew a 4 PiB frame and phase --grid 2**40 an 8 TiB axis (raw numpy
    # MemoryError tracebacks); --grid 30000 built 9e8 cells before running out of memory. Now
    # one line naming the flag, exit status 2, before any work (the patched solver and frame
    # statistics make the unfixed code fail here instead of working)
    import csuper.geometry
    import csuper.recovery

    def no_work(*args, **kwargs):
        raise AssertionError("work started")

    monkeypatch.setattr(csuper.recovery, "phase_transition", no_work)
    monkeypatch.setattr(csuper.geometry, "frame_statistics", no_work)
    monkeypatch.setenv("CSUPER_MEMORY_BUDGET", "64MiB")
    code, _out, err = _run(capsys, argv)
    assert code == 2
    assert name in err and "error" in err
