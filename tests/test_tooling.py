"""Tooling enforced by the test suite: ruff (lint and format), mypy on the package, and the
numba kernels' differential tests run again without the JIT (``NUMBA_DISABLE_JIT=1``).

How to run each by hand is in CONTRIBUTING.md ("Tooling").
"""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _run(*args: str, env: dict | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
    )


def _require(module: str) -> None:
    if _run(module, "--version").returncode != 0:
        pytest.fail(f"{module} is not installed: pip install -e '.[test]' installs it")


def test_ruff_check():
    _require("ruff")
    res = _run("ruff", "check", ".")
    assert res.returncode == 0, f"ruff check found problems:\n{res.stdout}{res.stderr}"


def test_ruff_format():
    _require("ruff")
    res = _run("ruff", "format", "--check", ".")
    assert res.returncode == 0, (
        f"files need `ruff format`:\n{res.stdout}{res.stderr}\nrun: ruff format ."
    )


def test_mypy_on_the_package():
    _require("mypy")
    res = _run("mypy")  # files and settings from [tool.mypy] in pyproject.toml
    assert res.returncode == 0, f"mypy found errors:\n{res.stdout}{res.stderr}"


def test_py_typed_is_shipped():
    assert (ROOT / "csuper" / "py.typed").is_file()
    assert 'csuper = ["py.typed"]' in (ROOT / "pyproject.toml").read_text()


KERNEL_MODULES = sorted(str(p) for p in (ROOT / "csuper").rglob("_*_kernels.py"))


@pytest.mark.skipif(
    os.environ.get("NUMBA_DISABLE_JIT", "0") not in ("", "0"), reason="already running without JIT"
)
def test_kernel_tests_pass_without_the_jit(tmp_path):
    # The kernels must also be correct as plain Python (CONTRIBUTING, "Layout of a topic"): the
    # tests marked `kernels` (differential tests: kernel vs numpy, finite differences, serial vs
    # parallel) run again with NUMBA_DISABLE_JIT=1, and the run must have executed every kernel
    # module, so a new _*_kernels.py needs a marked test.
    audit = tmp_path / "kernels.txt"
    env = {**os.environ, "NUMBA_DISABLE_JIT": "1", "CSUPER_KERNEL_AUDIT": str(audit)}
    env.pop("HYPOTHESIS_PROFILE", None)
    res = _run("pytest", "-m", "kernels", "-q", "-p", "no:cacheprovider", "tests", env=env)
    assert res.returncode == 0, f"kernel tests fail without the JIT:\n{res.stdout[-6000:]}"
    ran = set(audit.read_text().split())
    missing = [p for p in KERNEL_MODULES if p not in ran]
    assert KERNEL_MODULES and not missing, (
        f"no test marked @pytest.mark.kernels runs these kernel modules: {missing}"
    )
