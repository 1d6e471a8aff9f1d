"""Start-up stays instant: ``import csuper``, ``import csuper.<topic>``, ``csuper --help`` and
``csuper <subcommand> --help`` import none of the heavy libraries (issue 17, item 6).

Counted with ``python -X importtime`` (every module an interpreter imports), not timed: times on
a shared machine are noise, module lists are facts. Heavy imports belong inside the functions
that use them, or behind :func:`csuper._lazy.lazy_import`. The CPU seconds are in
``benchmarks/bench_startup.py``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from csuper.cli import SUBCOMMANDS

ROOT = Path(__file__).resolve().parents[1]

#: Each costs a large fraction of a CPU-second to import (measured: cvxpy 1.0 s, scipy.stats
#: 0.8 s, scipy.optimize 0.5 s, matplotlib.pyplot 0.5 s, numba 0.3 s, scipy.special 0.35 s).
HEAVY = (
    "cvxpy",
    "numba",
    "scipy.stats",
    "scipy.optimize",
    "scipy.special",
    "matplotlib",
    "distributed",
    "hypothesis",
)

#: The subpackages a user imports; each must be light on its own.
TOPICS = ("geometry", "jl", "recovery", "toy", "sae", "compare", "study", "lab", "executor")


def imported_modules(*args: str) -> list[str]:
    """Every module ``python -X importtime ARGS`` imports (from this checkout)."""
    res = subprocess.run(
        [sys.executable, "-X", "importtime", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    names = [
        line.rsplit("|", 1)[1].strip()
        for line in res.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    ]
    assert names and names[0] == "imported package", res.stderr[-2000:]  # the header line
    return names[1:]


def heavy(modules: list[str]) -> list[str]:
    return sorted({h for h in HEAVY for m in modules if m == h or m.startswith(h + ".")})


def test_import_csuper_is_light():
    mods = imported_modules("-c", "import csuper")
    assert not heavy(mods) and "numpy" not in mods, heavy(mods)


def test_top_level_help_is_light():
    mods = imported_modules("-m", "csuper", "--help")
    assert not heavy(mods) and "numpy" not in mods, heavy(mods)
    # no subcommand module is imported to list them
    assert not [m for m in mods if m.startswith("csuper.cli.")], mods


@pytest.mark.parametrize("name", list(SUBCOMMANDS))
def test_subcommand_help_is_light(name):
    mods = imported_modules("-m", "csuper", name, "--help")
    assert not heavy(mods), f"csuper {name} --help imports {heavy(mods)}"
    # only its own subcommand module
    others = [m for m in mods if m.startswith("csuper.cli.") and m != SUBCOMMANDS[name].module]
    assert not [m for m in others if m != "csuper.cli._options"], others


@pytest.mark.parametrize("topic", TOPICS)
def test_importing_a_topic_is_light(topic):
    mods = imported_modules("-c", f"import csuper.{topic}")
    assert not heavy(mods), f"import csuper.{topic} imports {heavy(mods)}"


def test_the_checker_sees_a_heavy_import():
    # the counting is real: importing a kernel module pulls numba in
    assert "numba" in heavy(imported_modules("-c", "import csuper.toy._train_kernels"))


def test_lazy_modules_import_on_first_use():
    code = (
        "import sys\n"
        "from csuper._lazy import lazy_import\n"
        "stats = lazy_import('scipy.stats')\n"
        "assert 'scipy.stats' not in sys.modules\n"
        "assert repr(stats) == \"<lazily imported module 'scipy.stats'>\"\n"
        "assert round(stats.norm.cdf(0.0), 6) == 0.5\n"
        "assert 'scipy.stats' in sys.modules and stats.norm is sys.modules['scipy.stats'].norm\n"
        "try:\n    stats.no_such_thing\nexcept AttributeError:\n    pass\n"
        "else:\n    raise SystemExit('no AttributeError')\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)
