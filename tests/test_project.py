"""Project-level promises: CI runs exactly the README's test command; the package is importable."""

import pathlib
import re

import csuper

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    return re.findall(r"```(?:bash|sh|console)\n(.*?)```", text, flags=re.S)


def test_ci_runs_the_readme_test_command():
    blocks = _readme_commands()
    test_cmds = [b.strip() for b in blocks if "pytest" in b and "[test]" in b]
    assert len(test_cmds) == 1, "the README must hold exactly one test command block"
    ci = (ROOT / ".ci" / "run").read_text()
    assert test_cmds[0] in ci


def test_readme_has_an_install_and_run_command():
    assert any("pip install" in b and "csuper" in b.split("&&")[-1] for b in _readme_commands())


def test_version_is_pep440():
    assert re.fullmatch(r"\d+\.\d+\.\d+.*", csuper.__version__)


def test_lazy_subpackages():
    for name in csuper._SUBPACKAGES:
        assert getattr(csuper, name).__name__ == f"csuper.{name}"
