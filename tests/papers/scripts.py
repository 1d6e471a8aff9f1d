"""One drift-test mechanism for every script in papers/ (used by tests/papers/test_drift.py and
the slow claim tests).

A reproduction script ``papers/<name>.py`` declares

- ``RESULTS``: the committed files it writes, as paths under ``papers/results/``;
- ``drift(committed) -> {pointer: value}``: ``committed`` maps each path of ``RESULTS`` to its
  loaded JSON; the function regenerates a cheap subset with the current code (an instance
  retrained from its recorded seed, a cell recomputed, the verdicts recomputed from the
  committed numbers) and returns it keyed by ``"<path>#/<json pointer>"`` (RFC 6901) into the
  committed file;
- optionally ``DRIFT_RTOL``, the relative tolerance of floating-point leaves with the reason it
  is needed (default :data:`DEFAULT_RTOL`: results are generated deterministically from their
  seeds, so regenerating them on the same machine gives the same bits up to the last digits that
  JSON keeps).

A script that does not declare ``drift`` has its drift test elsewhere (the scripts of other
areas, e.g. tests/diagnose/test_papers.py): :func:`checked_elsewhere` finds the test files that
load it by name; every committed JSON is then either in a script's ``RESULTS`` or read by such a
test (tests/papers/test_drift.py asserts both).

:func:`assert_same` compares a regenerated value with the committed one leaf by leaf: equal
keys and lengths, equal strings, integers and booleans, floats within the tolerance.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import math
import pathlib
from types import ModuleType

ROOT = pathlib.Path(__file__).resolve().parents[2]
PAPERS = ROOT / "papers"
RESULTS = PAPERS / "results"
DEFAULT_RTOL = 1e-9


def script_names() -> list[str]:
    """The reproduction scripts, papers/<name>.py (helpers starting with _ excluded)."""
    return sorted(p.stem for p in PAPERS.glob("*.py") if not p.stem.startswith("_"))


def checked_elsewhere(text: str) -> list[str]:
    """Test files outside tests/papers whose source contains ``text`` (a script's name, or a
    committed result's path under papers/results/)."""
    return sorted(
        p.relative_to(ROOT).as_posix()
        for p in (ROOT / "tests").rglob("test_*.py")
        if p.parent.name != "papers" and text in p.read_text()
    )


@functools.cache
def load(name: str) -> ModuleType:
    """Import papers/<name>.py as a module (once)."""
    spec = importlib.util.spec_from_file_location(f"papers_{name}", PAPERS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def committed(path: str) -> dict:
    """The committed JSON papers/results/<path>."""
    return json.loads((RESULTS / path).read_text())


def resolve(files: dict, pointer: str):
    """Value at ``"<path>#/<json pointer>"`` in the loaded files."""
    path, _, ptr = pointer.partition("#")
    node = files[path]
    for token in [t for t in ptr.split("/") if t != ""]:
        token = token.replace("~1", "/").replace("~0", "~")
        node = node[int(token)] if isinstance(node, list) else node[token]
    return node


def assert_same(new, old, rtol: float, where: str) -> None:
    """Leaf-by-leaf comparison of a regenerated value with the committed one."""
    if isinstance(old, dict):
        assert isinstance(new, dict), f"{where}: expected a dict, got {new!r}"
        assert set(new) == set(old), f"{where}: keys {sorted(new)} != committed {sorted(old)}"
        for key in old:
            assert_same(new[key], old[key], rtol, f"{where}/{key}")
    elif isinstance(old, list):
        new = list(new) if isinstance(new, tuple) else new
        assert isinstance(new, list), f"{where}: expected a list, got {new!r}"
        assert len(new) == len(old), f"{where}: length {len(new)} != committed {len(old)}"
        for i, (a, b) in enumerate(zip(new, old)):
            assert_same(a, b, rtol, f"{where}/{i}")
    elif isinstance(old, float) or isinstance(new, float):
        a, b = float(new), float(old)
        if math.isnan(b):
            assert math.isnan(a), f"{where}: {a!r} regenerated, committed NaN"
        else:
            assert math.isclose(a, b, rel_tol=rtol, abs_tol=1e-15), (
                f"{where}: {a!r} regenerated, {b!r} committed (rtol {rtol:g})"
            )
    else:
        assert new == old, f"{where}: {new!r} regenerated, {old!r} committed"
