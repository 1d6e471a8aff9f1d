"""The import-layering contract: which parts of csuper may import which.

``MAY_IMPORT`` is the contract, one row per top-level part of the package (subpackage or
module). A new subpackage adds its row here; an import outside its row fails this test with the
file and line. Every ``import`` counts, including the deferred ones inside functions.

The table must stay closed under "imports what it imports" (checked below), so direct imports
within the table imply that indirect ones are too: ``geometry`` cannot reach ``toy`` through a
third module.
"""

from __future__ import annotations

import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1] / "csuper"

#: Importable from everywhere: input validation, scaled norms, csuper's exception and warning
#: classes, deferred imports, the result store, the executor and the root package (``from csuper
#: import __version__``). They import nothing above themselves.
BOTTOM = {
    "_validation",
    "_errors",
    "_lazy",
    "_norms",
    "_store",
    "_stream_kernels",
    "executor",
    "csuper",
}

_BELOW_TOY = {"geometry", "jl", "recovery"}

#: part -> the parts it may import (besides itself and BOTTOM).
MAY_IMPORT: dict[str, set[str]] = {
    "csuper": {"_errors"},
    "_errors": set(),
    "_lazy": set(),
    "_norms": set(),
    "_stream_kernels": set(),
    "_validation": {"_errors"},
    "_store": {"_validation", "_errors"},
    "executor": {"_validation", "_errors"},
    # frame geometry and JL maps know nothing of recovery, toy models or anything above
    "geometry": set(),
    "jl": {"geometry"},
    # recovery may use sensing matrices from geometry and jl, never training
    "recovery": {"geometry", "jl"},
    "toy": _BELOW_TOY,
    # sparse autoencoders on data with known features
    "sae": _BELOW_TOY | {"toy"},
    # compare is where toy models meet CS; it does not depend on sae
    "compare": _BELOW_TOY | {"toy"},
    # polysemanticity vs superposition diagnostics (geometry, recovery, toy, sae; jl comes with
    # toy, since the table is closed under indirect imports)
    "diagnose": _BELOW_TOY | {"toy", "sae"},
    "study": _BELOW_TOY | {"toy", "sae", "compare", "diagnose"},
    # the static interactive page: everything but the command line
    "lab": _BELOW_TOY | {"toy", "sae", "compare", "diagnose", "study"},
    # property checkers for users' tests, built on the geometry and JL checks; nothing in the
    # package imports it (it needs hypothesis, a test dependency)
    "testing": _BELOW_TOY,
    "cli": _BELOW_TOY | {"toy", "sae", "compare", "diagnose", "study", "lab"},
}
#: ``python -m csuper`` runs the command line (and through it, everything the CLI may import).
MAY_IMPORT["__main__"] = {"cli"} | MAY_IMPORT["cli"]


def _part(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "csuper"


def _imports(path: pathlib.Path, root: pathlib.Path) -> list[tuple[int, str]]:
    """(line, imported csuper module) for every import in the file, deferred ones included."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                pytest.fail(f"{path}:{node.lineno}: use absolute imports (from csuper....)")
            if node.module == "csuper":  # from csuper import geometry -> csuper.geometry
                for a in node.names:
                    is_part = (root / a.name).is_dir() or (root / f"{a.name}.py").is_file()
                    out.append((node.lineno, f"csuper.{a.name}" if is_part else "csuper"))
            elif node.module:
                out.append((node.lineno, node.module))
    return [(line, m) for line, m in out if m == "csuper" or m.startswith("csuper.")]


def violations(root: pathlib.Path = ROOT) -> list[str]:
    """Every import that breaks :data:`MAY_IMPORT`, as ``file:line: part imports other``."""
    found = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root.parent).with_suffix("")
        src = _part(".".join(p for p in rel.parts if p != "__init__"))
        if src not in MAY_IMPORT:
            found.append(f"{path}: {src!r} has no row in MAY_IMPORT (tests/test_layering.py)")
            continue
        for line, module in _imports(path, root):
            dst = _part(module)
            allowed = MAY_IMPORT[src] | BOTTOM | {src}
            if dst not in allowed:
                found.append(f"{path}:{line}: {src} imports {module} (allowed: {sorted(allowed)})")
    return found


def test_the_package_obeys_the_layering_contract():
    bad = violations()
    assert not bad, "imports across the layers:\n" + "\n".join(bad)


def test_the_contract_is_closed_and_acyclic():
    for part, allowed in MAY_IMPORT.items():
        for other in allowed:
            assert other in MAY_IMPORT, f"{part} may import {other}, which has no row"
            reach = MAY_IMPORT[other] - MAY_IMPORT[part] - {part}
            assert not reach, f"{part} may import {other}, which may import {reach}: add or drop"
    for part in BOTTOM:
        assert MAY_IMPORT[part] <= BOTTOM, f"{part} is at the bottom but imports {MAY_IMPORT[part]}"
    for part, allowed in MAY_IMPORT.items():
        assert part not in allowed and all(part not in MAY_IMPORT[o] for o in allowed), (
            f"cycle through {part}"
        )


def test_the_promised_separations():
    # the design notes' one-way flow, stated directly (the table above must keep them)
    assert not MAY_IMPORT["geometry"] & {"recovery", "toy", "compare", "study", "cli"}
    assert not MAY_IMPORT["jl"] & {"recovery", "toy", "compare", "study", "cli"}
    assert "toy" not in MAY_IMPORT["recovery"]
    assert "sae" not in MAY_IMPORT["compare"]
    assert "cli" not in MAY_IMPORT["lab"]
    assert not any("testing" in allowed for allowed in MAY_IMPORT.values())
    for low, high in [("toy", "compare"), ("compare", "study"), ("study", "cli")]:
        assert low in MAY_IMPORT[high] and high not in MAY_IMPORT[low]


def test_the_checker_catches_an_upward_import(tmp_path):
    pkg = tmp_path / "csuper"
    (pkg / "geometry").mkdir(parents=True)
    (pkg / "geometry" / "__init__.py").write_text("import numpy\n")
    (pkg / "geometry" / "bad.py").write_text("def f():\n    from csuper.toy import train\n")
    (pkg / "toy").mkdir()
    (pkg / "toy" / "__init__.py").write_text("from csuper.geometry import coherence\n")
    bad = violations(pkg)
    assert len(bad) == 1 and "bad.py:2: geometry imports csuper.toy" in bad[0]
