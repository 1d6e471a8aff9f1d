"""``csuper study``: the quick study end to end (as CI's smoke test), option precedence, and bad
input (exit code 2, nothing written or overwritten)."""

import csv
import json
import os
import subprocess
import sys

import pytest

import csuper.cli.study as study_cli
from csuper.cli import DEFAULT_COMMAND, build_parser, main
from csuper.study import DEFAULT_OUTPUT, QUICK_OUTPUT, StudyConfig, quick_config
from csuper.study.runner import study_identity

needs_jit = pytest.mark.skipif(
    os.environ.get("NUMBA_DISABLE_JIT") == "1", reason="trains toy models; too slow as plain Python"
)


def _snapshot(folder):
    return {p.relative_to(folder): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@needs_jit
def test_quick_study_from_the_console_script(tmp_path):
    """`csuper study --quick` with its defaults (local worker processes), as a user runs it."""
    out = tmp_path / "quick"
    proc = subprocess.run(
        [sys.executable, "-m", "csuper", "study", "--quick", "-o", str(out), "--no-progress"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    cfg = quick_config()
    n_models = len(cfg.n_dims) * len(cfg.sparsities)
    assert f"csuper study: {n_models + 2} configurations into {out}/" in proc.stdout
    for line in (
        "Models trained: 6.",
        "Scaling: Best law: ",
        "Decoder gap, exact-recovery rate",
        "Capacity: the Lagrangian allocation predicts the class",
        "Transition (importance,",
        f"report: {out / 'report.md'}",
    ):
        assert line in proc.stdout
    report = (out / "report.md").read_text()
    summary = json.loads((out / "study.json").read_text())["summary"]
    # the printed headline is the report's headline is study.json's summary
    assert summary["scaling"]["verdict"] in proc.stdout and summary["scaling"]["verdict"] in report
    with open(out / "tables" / "models.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert sorted((int(r["n_dims"]), float(r["sparsity"])) for r in rows) == sorted(
        (m, s) for m in cfg.n_dims for s in cfg.sparsities
    )
    # the dense models (S = 0) represent about m features, never more than n; the sparsest
    # represent more features than dimensions (superposition) -- Elhage et al. 2022, fig. 2
    for r in rows:
        assert 0 <= int(r["represented"]) <= cfg.n_features
        if float(r["sparsity"]) == 0.0:
            assert abs(int(r["represented"]) - int(r["n_dims"])) <= 1
        if float(r["sparsity"]) == max(cfg.sparsities):
            assert int(r["represented"]) > int(r["n_dims"])
    for name in ("scaling", "decoders", "capacity", "geometry", "transitions"):
        assert (out / "figures" / f"{name}.png").stat().st_size > 1000
    # a rerun resumes everything and rewrites the same headline
    proc2 = subprocess.run(
        [
            sys.executable,
            "-m",
            "csuper",
            "study",
            "--quick",
            "-o",
            str(out),
            "--no-progress",
            "--workers",
            "1",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc2.returncode == 0, proc2.stderr
    assert f"({n_models + 2} already finished there, resuming)" in proc2.stdout
    assert json.loads((out / "study.json").read_text())["summary"] == summary


def test_study_is_the_default_command(monkeypatch):
    seen = []
    monkeypatch.setattr(study_cli, "run", lambda args: seen.append(args) or 0)
    # the parser bound run at build time: rebuild through main
    assert DEFAULT_COMMAND == "study"
    assert main([]) == 0 and main(["--quick"]) == 0
    assert seen[0].command == "study" and not hasattr(seen[0], "quick")
    assert seen[1].quick is True


def test_options_precedence_defaults_quick_file_flags(tmp_path):
    parse = lambda *argv: build_parser().parse_args(["study", *argv])  # noqa: E731
    assert study_cli.resolve(parse()) == (StudyConfig(), DEFAULT_OUTPUT)
    assert study_cli.resolve(parse("--quick")) == (quick_config(), QUICK_OUTPUT)
    toml = tmp_path / "s.toml"
    toml.write_text('n_steps = 321\nn_seeds = 2\noutput = "from-file"\n')
    cfg, out = study_cli.resolve(
        parse(
            "--quick",
            "--config",
            str(toml),
            "--n-seeds",
            "4",
            "--n-dims",
            "2",
            "4",
            "--sparsities",
            "0",
            "0.5",
        )
    )
    assert out == "from-file"
    assert cfg == quick_config().replace(
        n_steps=321, n_seeds=4, n_dims=(2, 4), sparsities=(0.0, 0.5)
    )
    cfg, out = study_cli.resolve(parse("--config", str(toml), "-o", "flag"))
    assert out == "flag" and cfg == StudyConfig(n_steps=321, n_seeds=2)


def test_help_explains_every_option(capsys):
    with pytest.raises(SystemExit) as info:
        main(["study", "--help"])
    assert info.value.code == 0
    text = capsys.readouterr().out
    for flag in (
        "--config",
        "--output",
        "--quick",
        "--n-features",
        "--n-dims",
        "--sparsities",
        "--importance",
        "--n-seeds",
        "--n-steps",
        "--workers",
        "--scheduler",
        "--no-progress",
    ):
        assert flag in text
    assert "default: 5000" in text and "default: 60" in text and "tcp://host:8786" in text


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--n-dims", "0"], r"n_dims must be an integer in \[1, 20\); got 0"),
        (["--sparsities", "1"], r"sparsities must be a real number in \[0, 1\); got 1.0"),
        (["--n-seeds", "0"], "n_seeds must be an integer"),
        (["--workers", "0"], r"workers must be an integer in \[1, inf\); got 0"),
        (
            ["--workers", "2", "--scheduler", "tcp://127.0.0.1:1"],
            "workers must be None when scheduler is given",
        ),
        (["--scheduler", "localhost"], "scheduler must be a Dask address"),
    ],
)
def test_bad_options_exit_2_and_write_nothing(tmp_path, capsys, argv, message):
    import re

    out = tmp_path / "out"
    assert main(["study", "-o", str(out), "--quick", *argv]) == 2
    assert re.search(message, capsys.readouterr().err)
    assert not any(out.iterdir()) if out.exists() else True


def test_unknown_option_exits_2(capsys):
    with pytest.raises(SystemExit) as info:
        main(["study", "--sparsity", "0.9"])
    assert info.value.code == 2
    assert "unrecognized arguments" in capsys.readouterr().err


def test_bad_config_file_exits_2(tmp_path, capsys):
    toml = tmp_path / "bad.toml"
    toml.write_text('n_steps = "many"\n')
    assert main(["study", "--config", str(toml), "-o", str(tmp_path / "out")]) == 2
    assert "bad.toml': n_steps must be an integer; got str 'many'" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_folder_of_another_study_is_refused_and_kept(tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "header.json").write_text(
        json.dumps(
            {
                "csuper_store": 1,
                "experiment": "csuper.study",
                "config": study_identity(quick_config()),
            }
        )
    )
    (out / "records.jsonl").write_text("")
    (out / "report.md").write_text("an earlier report")
    before = _snapshot(out)
    assert main(["study", "-o", str(out), "--quick", "--n-steps", "999"]) == 2
    assert "holds a different study (n_steps: 800 there, 999 here)" in capsys.readouterr().err
    assert _snapshot(out) == before
