"""The ``csuper`` command: help, version, the default main job, the subcommand registry, output
paths checked before the work, exit statuses (2 for usage, 130 for Ctrl-C)."""

import importlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import csuper
from csuper.cli import DEFAULT_COMMAND, SUBCOMMANDS, Subcommand, build_parser, main

ROOT = Path(__file__).resolve().parents[1]


def test_version(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"csuper {csuper.__version__}"


def test_help_lists_every_subcommand(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for name in SUBCOMMANDS:
        assert name in out


@pytest.mark.parametrize("name", SUBCOMMANDS)
def test_each_subcommand_has_help(name, capsys):
    with pytest.raises(SystemExit) as exc:
        main([name, "--help"])
    assert exc.value.code == 0
    assert "usage: csuper " + name in capsys.readouterr().out


def test_unknown_option_exits_2(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--no-such-option"])
    assert exc.value.code == 2
    assert "unrecognized arguments" in capsys.readouterr().err


def test_default_command_is_registered():
    assert DEFAULT_COMMAND in SUBCOMMANDS
    assert build_parser().prog == "csuper"


def test_console_script_runs_as_module():
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "from csuper.cli import main; raise SystemExit(main(['--version']))",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.startswith("csuper ")


# --------------------------------------------------------------------------------------------
# The registry of subcommands is data


def test_registry_entries_and_modules():
    for name, entry in SUBCOMMANDS.items():
        assert isinstance(entry, Subcommand) and entry.module == f"csuper.cli.{name}"
        assert entry.help and "\n" not in entry.help
        module = importlib.import_module(entry.module)
        assert isinstance(module.DESCRIPTION, str) and module.DESCRIPTION
        assert callable(module.add_arguments) and callable(module.run)
        # the registry holds the one-line help: one place, not two
        assert not hasattr(module, "HELP"), f"{entry.module}.HELP: move it to SUBCOMMANDS"


def test_subcommand_modules_import_nothing_heavy_at_module_level():
    # module level: the standard library and csuper.cli helpers only (see csuper/cli/__init__)
    import ast

    for entry in SUBCOMMANDS.values():
        path = ROOT / (entry.module.replace(".", "/") + ".py")
        for node in ast.parse(path.read_text()).body:
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            for name in names:
                top = name.split(".")[0]
                assert top in sys.stdlib_module_names or name.startswith("csuper.cli"), (
                    f"{path.name} imports {name} at module level"
                )


def test_the_top_level_help_imports_no_subcommand_module():
    code = (
        "import sys\n"
        "from csuper.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in sys.modules if m.startswith('csuper.')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout
    assert out.strip().splitlines()[-1] == "['csuper._errors', 'csuper.cli']"


# --------------------------------------------------------------------------------------------
# Output paths are checked before the work starts: exit 2, one line, nothing written


def _fails_fast(capsys, argv, *fragments):
    t0 = time.perf_counter()
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.count("\n") == 1 and "error:" in err and "Traceback" not in err, err
    for fragment in fragments:
        assert fragment in err, err
    # the work was not started: every one of these would take minutes
    assert time.perf_counter() - t0 < 30
    return err


HEAVY_PHASE = ["phase", "--n-features", "400", "--grid", "30", "--n-trials", "200"]


def test_output_under_a_file(capsys, tmp_path):
    a_file = tmp_path / "file"
    a_file.write_text("x")
    _fails_fast(
        capsys, [*HEAVY_PHASE, "-o", str(a_file / "sub")], "--output", "is a file, not a folder"
    )
    _fails_fast(capsys, [*HEAVY_PHASE, "--output", str(a_file)], "--output", "is a file")
    _fails_fast(capsys, ["train", "--n-steps", "100000", "-o", str(a_file / "m.npz")], "is a file")


def test_output_in_a_missing_folder(capsys, tmp_path):
    missing = tmp_path / "missing"
    _fails_fast(
        capsys,
        ["train", "--n-steps", "100000", "--output", str(missing / "m.npz")],
        "--output",
        "does not exist; create it first",
    )
    _fails_fast(
        capsys,
        ["jl", "--n-points", "400", "--n-trials", "500", "--plot", str(missing / "p.png")],
        "--plot",
    )
    _fails_fast(capsys, [*HEAVY_PHASE, "--plot", str(missing / "p.png")], "--plot")
    # -o /nonexistent/... no longer creates the whole tree
    _fails_fast(capsys, [*HEAVY_PHASE, "-o", str(missing / "a" / "b")], "--output")
    _fails_fast(capsys, ["study", "-o", str(missing / "a" / "b")], "--output")
    _fails_fast(capsys, ["sae", "-o", str(missing / "a" / "b")], "--output")
    assert not missing.exists()


def test_phase_refuses_a_folder_that_is_not_csupers(capsys, tmp_path):
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me")
    _fails_fast(capsys, [*HEAVY_PHASE, "-o", str(foreign)], "holds no csuper results")
    assert [p.name for p in foreign.iterdir()] == ["notes.txt"]


SMALL_PHASE = ["phase", "--n-features", "10", "--grid", "2", "--n-trials", "2", "--no-progress"]


def test_phase_store_corruption_and_lost_header(capsys, tmp_path):
    out = tmp_path / "p"
    assert main([*SMALL_PHASE, "-o", str(out)]) == 0
    table = capsys.readouterr().out
    records = (out / "records.jsonl").read_bytes().splitlines(keepends=True)
    assert len(records) == 4
    (out / "records.jsonl").write_bytes(b"".join([records[0], b"garbage\n", *records[1:]]))
    assert main([*SMALL_PHASE, "-o", str(out)]) == 0
    captured = capsys.readouterr()
    assert captured.out == table  # every record kept, same table
    assert captured.err.count("\n") == 1
    assert "csuper phase: warning:" in captured.err and "line(s) 2 are not valid" in captured.err
    (out / "header.json").unlink()
    _fails_fast(capsys, [*SMALL_PHASE, "-o", str(out)], "no header.json")


def test_scheduler_without_dask_names_the_extra(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # `import distributed` fails
    _fails_fast(capsys, [*HEAVY_PHASE, "--scheduler", "tcp://127.0.0.1:8786"], "csuper[dask]")


# --------------------------------------------------------------------------------------------
# Ctrl-C: exit status 130 and one line, in every subcommand


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.parametrize(
    "argv, resumes",
    [
        ([*HEAVY_PHASE, "--no-progress", "-o", "{out}"], True),
        ([*HEAVY_PHASE, "--no-progress", "--workers", "2", "-o", "{out}"], True),
        # with its progress bar, training runs in chunks and Python sees the signal between
        # them (with --no-progress the whole run is one numba call: Ctrl-C waits for its end)
        (["train", "--n-features", "40", "--n-dims", "8", "--n-steps", "100000000"], False),
    ],
)
def test_ctrl_c_exits_130_with_one_line(tmp_path, argv, resumes):
    out = tmp_path / "out"
    argv = [a.replace("{out}", str(out)) for a in argv]
    proc = subprocess.Popen(
        [sys.executable, "-m", "csuper", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        cwd=tmp_path,
        # a user's terminal delivers Ctrl-C to a process whose SIGINT is at its default; a suite
        # started in the background (`... &` without job control) passes SIG_IGN down to its
        # children, and Python then never installs its handler: reset it for the child
        preexec_fn=_default_sigint,
    )
    try:
        # wait until the work runs (a store's header is written just before it starts)
        deadline = time.monotonic() + 60
        while resumes and not (out / "header.json").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(3)
        assert proc.poll() is None, proc.communicate()
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr, stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    if "--no-progress" in argv:
        assert len(lines) == 1, stderr
    # the note is the last line (after the progress bar, if one was shown)
    assert lines[-1].startswith(f"csuper {argv[0]}: interrupted"), stderr
    assert ("rerun the same command to resume" in lines[-1]) == resumes
