"""``csuper study``: a small study end to end through the command line (as CI's smoke test),
--report-only, option precedence, and bad input (exit code 2, nothing written or overwritten)."""

import json
import os
import re

import pytest

import csuper.cli.study as study_cli
from csuper.cli import DEFAULT_COMMAND, build_parser, main
from csuper.study import DEFAULT_OUTPUT, QUICK_OUTPUT, StudyConfig, full_config, quick_config
from csuper.study.runner import study_identity

needs_jit = pytest.mark.skipif(
    os.environ.get("NUMBA_DISABLE_JIT") == "1", reason="trains toy models; too slow as plain Python"
)

#: The quick preset cut to a few seconds of training (CI runs this; the full --quick preset is
#: timed in the README).
TINY_TOML = """preset = "quick"
n_steps = 150
n_bootstrap = 100
[scaling]
n_features = [10, 16]
[sparsity]
sparsities = [0.0, 0.9]
[robustness]
variants = ["study", "no_weight_decay"]
[decoders]
n_samples = 20
n_fit_samples = 40
"""


def _snapshot(folder):
    return {p.relative_to(folder): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@needs_jit
def test_study_end_to_end_and_report_only(tmp_path, capsys):
    toml = tmp_path / "tiny.toml"
    toml.write_text(TINY_TOML)
    out = tmp_path / "out"
    assert (
        main(["study", "--config", str(toml), "-o", str(out), "--workers", "1", "--no-progress"])
        == 0
    )
    printed = capsys.readouterr().out
    from csuper.study import load_config, study_tasks

    cfg = load_config(toml)[0]
    assert f"csuper study: {len(study_tasks(cfg))} tasks into {out}/" in printed
    study = json.loads((out / "study.json").read_text())
    # the printed verdicts are study.json's and the report's, word for word
    report = (out / "report.md").read_text()
    for q in study["questions"]:
        line = f"{q['qid']} {q['title']}: {q['status'].upper()}. {q['sentence']}"
        assert line in printed and q["sentence"] in report
    assert f"report: {out / 'report.md'} and {out / 'report.html'}" in printed
    # a rerun resumes everything; --report-only re-renders without training
    assert (
        main(["study", "--config", str(toml), "-o", str(out), "--workers", "1", "--no-progress"])
        == 0
    )
    assert "already finished there, resuming" in capsys.readouterr().out
    assert main(["study", "--report-only", str(out)]) == 0
    again = capsys.readouterr().out
    assert all(q["sentence"] in again for q in study["questions"])
    assert json.loads((out / "study.json").read_text())["questions"] == study["questions"]


def test_report_only_takes_no_study_options(tmp_path, capsys):
    assert main(["study", "--report-only", str(tmp_path), "--n-seeds", "3"]) == 2
    assert "--report-only re-renders a saved study" in capsys.readouterr().err
    assert main(["study", "--report-only", str(tmp_path)]) == 2
    assert "not a csuper study folder" in capsys.readouterr().err


def test_study_is_the_default_command(monkeypatch):
    seen = []
    monkeypatch.setattr(study_cli, "run", lambda args: seen.append(args) or 0)
    assert DEFAULT_COMMAND == "study"
    assert main([]) == 0 and main(["--quick"]) == 0
    assert seen[0].command == "study" and not hasattr(seen[0], "quick")
    assert seen[1].quick is True


def test_options_precedence_preset_file_flags(tmp_path):
    parse = lambda *argv: build_parser().parse_args(["study", *argv])  # noqa: E731
    assert study_cli.resolve(parse()) == (StudyConfig(), DEFAULT_OUTPUT)
    assert study_cli.resolve(parse("--quick")) == (quick_config(), QUICK_OUTPUT)
    assert study_cli.resolve(parse("--preset", "quick")) == (quick_config(), QUICK_OUTPUT)
    assert study_cli.resolve(parse("--preset", "full"))[0] == full_config()
    toml = tmp_path / "s.toml"
    toml.write_text('n_steps = 321\nn_seeds = 4\noutput = "from-file"\n')
    cfg, out = study_cli.resolve(parse("--quick", "--config", str(toml), "--n-seeds", "5"))
    assert out == "from-file"
    assert cfg == quick_config().replace(n_steps=321, n_seeds=5)
    cfg, out = study_cli.resolve(parse("--config", str(toml), "-o", "flag"))
    assert out == "flag" and cfg == StudyConfig(n_steps=321, n_seeds=4)
    with pytest.raises(ValueError, match="contradict"):
        study_cli.resolve(parse("--quick", "--preset", "full"))


def test_help_explains_every_option(capsys):
    with pytest.raises(SystemExit) as info:
        main(["study", "--help"])
    assert info.value.code == 0
    text = capsys.readouterr().out
    for flag in (
        "--preset",
        "--quick",
        "--config",
        "--output",
        "--report-only",
        "--n-seeds",
        "--n-steps",
        "--batch-size",
        "--lr",
        "--weight-decay",
        "--seed",
        "--workers",
        "--scheduler",
        "--no-progress",
    ):
        assert flag in text
    assert "default preset: 3000" in text and "tcp://host:8786" in text


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--n-seeds", "1"], r"--n-seeds must be an integer in \[2, 10000000\]; got 1"),
        (["--lr", "0"], "lr must be a real number"),
        (["--workers", "0"], r"workers must be an integer in \[1, inf\); got 0"),
        (
            ["--workers", "2", "--scheduler", "tcp://127.0.0.1:1"],
            "workers must be None when scheduler is given",
        ),
        (["--scheduler", "localhost"], "scheduler must be a Dask address"),
    ],
)
def test_bad_options_exit_2_and_write_nothing(tmp_path, capsys, argv, message):
    out = tmp_path / "out"
    assert main(["study", "-o", str(out), "--quick", *argv]) == 2
    assert re.search(message, capsys.readouterr().err)
    assert not out.exists() or not any(out.iterdir())


def test_unknown_option_and_bad_config_exit_2(tmp_path, capsys):
    with pytest.raises(SystemExit) as info:
        main(["study", "--sparsity", "0.9"])
    assert info.value.code == 2
    assert "unrecognized arguments" in capsys.readouterr().err
    toml = tmp_path / "bad.toml"
    toml.write_text('n_steps = "many"\n')
    assert main(["study", "--config", str(toml), "-o", str(tmp_path / "out")]) == 2
    assert "bad.toml': n_steps must be an integer" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_folder_of_another_study_is_refused_and_kept(tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    header = {
        "csuper_store": 1,
        "experiment": "csuper.study",
        "config": study_identity(quick_config()),
    }
    (out / "header.json").write_text(json.dumps(header))
    (out / "records.jsonl").write_text("")
    (out / "report.md").write_text("an earlier report")
    before = _snapshot(out)
    assert main(["study", "-o", str(out), "--quick", "--n-steps", "999"]) == 2
    assert "holds a different study (n_steps: 600 there, 999 here)" in capsys.readouterr().err
    assert _snapshot(out) == before
