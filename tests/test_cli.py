"""The ``csuper`` command: help, version, the default main job."""

import subprocess
import sys

import pytest

import csuper
from csuper.cli import DEFAULT_COMMAND, SUBCOMMANDS, build_parser, main


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
