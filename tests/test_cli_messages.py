"""What a new user meets first: help text that states each default once, and one clear line (exit
status 2, nothing written, the work not started) for a wrong input of any subcommand."""

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from csuper.cli import SUBCOMMANDS, build_parser, main
from tests.test_cli import _fails_fast  # one line on stderr, exit 2, before the work

ROOT = Path(__file__).resolve().parents[1]


def _subparsers() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    (action,) = (a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


@pytest.mark.parametrize("name", SUBCOMMANDS)
def test_help_states_each_default_once(name):
    sub = _subparsers()[name]
    text = sub.format_help()
    assert "(default: None)" not in text and "(default: False)" not in text, text
    formatter = sub._get_formatter()
    for action in sub._actions:
        if isinstance(action, argparse._HelpAction) or not action.option_strings:
            continue
        flag = action.option_strings[-1]
        assert action.help, f"csuper {name} {flag} has no help text"
        shown = formatter._get_help_string(action) % {**vars(action), "prog": sub.prog}
        stated = re.findall(r"\(default\b|\bdefault:", shown)
        assert len(stated) <= 1, f"csuper {name} {flag}: {shown}"
        if not action.required and all(
            action.default is not absent for absent in (None, False, argparse.SUPPRESS)
        ):
            assert stated, f"csuper {name} {flag} does not say its default: {shown}"


def test_input_files_are_named_by_their_flag(capsys, tmp_path):
    missing = str(tmp_path / "missing.npz")
    _fails_fast(capsys, ["compare", missing], "MODEL.npz: file", "does not exist")
    _fails_fast(capsys, ["diagnose", missing], "FILE.npz: file", "does not exist")
    _fails_fast(capsys, ["study", "--config", str(tmp_path / "s.toml")], "--config: file")


@pytest.mark.parametrize("command", ["compare", "diagnose"])
def test_a_file_of_another_kind_is_refused_by_name(capsys, tmp_path, command):
    # a results file written by another subcommand: NumPy would talk about pickled data
    report = tmp_path / "summary.json"
    report.write_text(json.dumps({"verdict": "supported"}))
    err = _fails_fast(capsys, [command, str(report)], "not a zip archive of NumPy arrays")
    assert "pickle" not in err


def test_diagnose_checks_its_output_folder_first(capsys, tmp_path):
    a_file = tmp_path / "diagnosis.json"
    a_file.write_text("{}")
    heavy = ["diagnose", "--construction", "superposition", "--n-samples", "10000000"]
    _fails_fast(capsys, [*heavy, "-o", str(a_file)], "--output", "is a file, not a folder")
    missing = tmp_path / "missing"
    _fails_fast(capsys, [*heavy, "-o", str(missing / "a")], "--output", "does not exist")
    assert not missing.exists()


HEAVY = {
    "jl": ["jl", "--n-points", "400", "--n-trials", "500", "--no-progress"],
    "phase": ["phase", "--n-features", "400", "--grid", "30", "--n-trials", "200"],
}


@pytest.mark.parametrize("command", HEAVY)
def test_plot_format_is_checked_before_the_work(capsys, tmp_path, command):
    _fails_fast(
        capsys,
        [*HEAVY[command], "--plot", str(tmp_path / "map.txt")],
        "--plot: cannot write a .txt image",
        ".png",
    )


def test_phase_says_where_the_plot_went_without_touching_the_table(capsys, tmp_path):
    small = ["phase", "--n-features", "10", "--grid", "2", "--n-trials", "2", "--no-progress"]
    assert main(small) == 0
    table = capsys.readouterr().out
    plot = tmp_path / "map.PNG"  # matplotlib reads the suffix in any case
    assert main([*small, "--plot", str(plot)]) == 0
    captured = capsys.readouterr()
    assert captured.out == table
    assert captured.err.strip() == f"plot written to {plot}"
    assert plot.read_bytes().startswith(b"\x89PNG")


@pytest.mark.parametrize(
    ("extra", "shown"),
    [
        ([], "got none"),  # the default coefficients are L1 weights, not k values
        (["--coefficients", "2.5", "3"], "got 2.5 3"),  # was silently trained as k = 2
    ],
)
def test_sae_topk_asks_for_integer_k_values(capsys, tmp_path, extra, shown):
    argv = ["sae", "--architecture", "topk", "-o", str(tmp_path / "s"), *extra]
    _fails_fast(capsys, argv, "--architecture topk needs --coefficients", shown)
    assert not (tmp_path / "s").exists()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["phase", "--n-features", "0"], "--n-features must be an integer in [1, inf); got 0."),
        (["train", "--n-features", "5", "--n-dims", "5"], "--n-dims must be an integer in"),
        (["train", "--importance-ratio", "0"], "--importance-ratio must be a real number in"),
        (["sae", "--n-dims", "0"], "--n-dims must be an integer"),
        (["study", "--quick", "--n-seeds", "0"], "--n-seeds must be an integer"),
        (["jl", "--eps", "0", "--bounds-only"], "--eps must be a real number in (0, 1)"),
    ],
)
def test_errors_name_the_flag_the_user_typed(capsys, tmp_path, argv, message):
    # the library says n_features; the user typed --n-features
    _fails_fast(
        capsys, [*argv, *(["-o", str(tmp_path / "o")] if argv[0] == "sae" else [])], message
    )


@pytest.mark.parametrize("command", ["train", "phase", "jl", "demo", "lab", "sae", "pricing"])
def test_a_negative_seed_is_refused_as_seed(capsys, tmp_path, command):
    # train, phase and jl said "rng as an int seed must be >= 0; got [-1, 0]"
    output = {"lab": tmp_path / "lab.html", "sae": tmp_path / "s", "pricing": tmp_path / "p"}
    argv = [command, "--seed", "-1"]
    if command in output:
        argv += ["-o", str(output[command])]
    _fails_fast(capsys, argv, "--seed must be an integer in [0, inf); got -1.")


def test_demo_refuses_a_frame_beyond_the_memory_budget(capsys, monkeypatch):
    # was a raw numpy _ArrayMemoryError traceback (exit 1) for --n-features 100000000
    monkeypatch.setenv("CSUPER_MEMORY_BUDGET", "1MiB")
    _fails_fast(
        capsys,
        ["demo", "--n-features", "4096"],
        "Gaussian frame of --n-dims 64 x --n-features 4096",
    )


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--instance", "0", "0"], "--instance must name each at most once; got 0 0."),
        (["--decoders", "relu", "relu"], "--decoders must name each at most once; got relu relu."),
    ],
)
def test_compare_refuses_repeated_instances_and_decoders(capsys, tmp_path, extra, message):
    # each was computed and printed twice
    import numpy as np

    from csuper.toy import from_weights

    rng = np.random.default_rng(0)
    model = from_weights(rng.standard_normal((2, 5)), np.zeros(5), feature_probability=0.1)
    model.save(tmp_path / "m.npz")
    _fails_fast(capsys, ["compare", str(tmp_path / "m.npz"), *extra], message)


def test_bounds_prints_astronomical_line_counts_briefly(capsys):
    # the lower count was printed with all of its 216 digits
    assert main(["bounds", "--n-features", "100", "--n-dims", "100000", "--eps", "0.1"]) == 0
    line = capsys.readouterr().out.strip().splitlines()[-1]
    assert re.search(r"at least \d\.\d{3}e\+\d+ \(gilbert_varshamov\)", line), line
    assert len(line) < 160, line


def test_diagnose_never_overwrites_another_report(capsys, tmp_path):
    # `csuper diagnose -o <a study folder>` replaced the study's report.md
    study = tmp_path / "study"
    study.mkdir()
    (study / "report.md").write_text("the study's report")
    (study / "header.json").write_text("{}")
    argv = ["diagnose", "--construction", "rotation", "--tests", "dimension_budget"]
    _fails_fast(capsys, [*argv, "-o", str(study)], "not a csuper diagnose report")
    assert (study / "report.md").read_text() == "the study's report"
    # its own folder is rewritten on a rerun
    mine = tmp_path / "diag"
    for _ in range(2):
        assert main([*argv, "--no-progress", "-o", str(mine)]) == 0
    assert sorted(p.name for p in mine.iterdir()) == ["diagnosis.json", "report.md"]


@pytest.mark.parametrize(
    "argv",
    [
        ["demo", "--n-features", "64", "--n-dims", "8", "--n-trials", "2"],
        ["bounds", "--n-features", "6", "--n-dims", "3"],
    ],
)
def test_a_closed_pipe_ends_quietly(argv):
    # `csuper demo | head -1` printed a BrokenPipeError traceback
    proc = subprocess.Popen(
        [sys.executable, "-m", "csuper", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
    )
    proc.stdout.close()  # the reader is gone before the first line
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 141, err
    assert err == ""


def _readme_invocations() -> list[list[str]]:
    import shlex

    text = (ROOT / "README.md").read_text()
    calls = []
    for block in re.findall(r"```(?:bash|sh|console)\n(.*?)```", text, flags=re.S):
        for line in block.splitlines():
            for part in line.split("#")[0].split("&&"):
                words = shlex.split(part)
                if words and words[0] == "csuper":
                    calls.append(words[1:])
    return calls


@pytest.mark.parametrize("argv", _readme_invocations(), ids=lambda a: " ".join(a) or "csuper")
def test_every_readme_command_parses(argv, capsys):
    # a renamed or removed option would leave the README showing a command that fails
    if argv == ["--help"]:
        with pytest.raises(SystemExit) as exc:
            build_parser([]).parse_args(argv)
        assert exc.value.code == 0
    else:
        full = argv if argv and argv[0] in SUBCOMMANDS else ["study", *argv]  # the default
        assert build_parser([full[0]]).parse_args(full).command == full[0]


def test_jl_refuses_a_plot_it_would_not_draw(capsys, tmp_path):
    # --bounds-only returned before plotting: the asked-for plot was silently not written
    plot = tmp_path / "jl.png"
    _fails_fast(capsys, ["jl", "--bounds-only", "--plot", str(plot)], "--bounds-only skips")
    assert not plot.exists()


def test_diagnose_refuses_toy_model_options_it_would_ignore(capsys, tmp_path):
    # --instance and --n-samples were silently ignored for a construction or activations
    import numpy as np

    _fails_fast(
        capsys,
        ["diagnose", "--construction", "rotation", "--n-samples", "50"],
        "--n-samples applies only to a saved toy model; --construction rotation",
    )
    acts = tmp_path / "acts.npz"
    np.savez(acts, H=np.random.default_rng(0).standard_normal((100, 4)))
    _fails_fast(
        capsys, ["diagnose", str(acts), "--instance", "1"], "--instance applies only to a saved toy"
    )
