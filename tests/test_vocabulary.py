"""The API vocabulary of CONTRIBUTING.md, enforced: one name per idea in public signatures,
result fields and CLI flags; library functions quiet by default; scalar in, scalar out."""

from __future__ import annotations

import argparse
import ast
import dataclasses
import importlib
import inspect
import pathlib
import pkgutil

import numpy as np
import pytest

import csuper
from csuper import compare, diagnose, geometry, jl, recovery

ROOT = pathlib.Path(csuper.__file__).parent

#: Names that CONTRIBUTING.md's vocabulary table replaces (old name -> the one to use).
BANNED = {
    "n_hidden": "n_dims",
    "n_measurements": "n_dims",
    "trials": "n_trials",
    "samples": "n_samples",
    "steps": "n_steps",
    "starts": "n_starts",
    "restarts": "n_restarts",
    "iterations": "n_iter",
}


def _public_modules():
    for info in pkgutil.walk_packages([str(ROOT)], prefix="csuper."):
        parts = info.name.split(".")
        if any(p.startswith("_") for p in parts[1:]) or parts[1] == "cli":
            continue
        yield importlib.import_module(info.name)


def _public_callables():
    seen = set()
    for module in _public_modules():
        for name in getattr(module, "__all__", ()):
            obj = getattr(module, name)
            if id(obj) in seen:
                continue
            seen.add(id(obj))
            if inspect.isfunction(obj):
                yield f"{obj.__module__}.{obj.__qualname__}", obj
            elif inspect.isclass(obj):
                for meth_name, meth in vars(obj).items():
                    if inspect.isfunction(meth) and (
                        meth_name == "__init__" or not meth_name.startswith("_")
                    ):
                        yield f"{obj.__module__}.{meth.__qualname__}", meth


CALLABLES = sorted(_public_callables(), key=lambda t: t[0])


def _is_count(name: str, annotation, default) -> bool:
    """A parameter or field that holds a count (or m): its name must not be a BANNED one.

    ``samples`` holding the samples themselves (an array) is a different idea and allowed.
    """
    if name in ("n_hidden", "n_measurements"):
        return True
    text = str(getattr(annotation, "__name__", annotation))
    int_default = isinstance(default, int) and not isinstance(default, bool)
    return text.startswith("int") or text == "<class 'int'>" or int_default


def test_the_survey_sees_the_public_api():
    names = {n for n, _ in CALLABLES}
    assert "csuper.toy.train.train" in names and "csuper.recovery.theory.weak_threshold" in names
    assert len(CALLABLES) > 150


@pytest.mark.parametrize("name, fn", CALLABLES, ids=[n for n, _ in CALLABLES])
def test_public_signature_speaks_the_vocabulary(name, fn):
    params = inspect.signature(fn).parameters
    record = fn.__name__ == "__init__" and dataclasses.is_dataclass(
        inspect.unwrap(fn).__globals__.get(fn.__qualname__.split(".")[0])
    )
    for p in params.values():
        if _is_count(p.name, p.annotation, p.default):
            assert p.name not in BANNED, (
                f"{name}: parameter {p.name!r} is spelled {BANNED[p.name]!r}"
            )
        if p.name == "progress":
            assert p.default is False, f"{name}: library functions are quiet (progress=False)"
        if p.name == "nonnegative" and not record:
            assert p.kind is p.KEYWORD_ONLY and p.default is False, (
                f"{name}: nonnegative is keyword-only with default False"
            )
        if p.name == "kind":
            assert p.default not in ("signed", "nonnegative"), f"{name}: use nonnegative: bool"
        if p.name == "threshold" and "represent" in (inspect.getdoc(fn) or "").split("Returns")[0]:
            pytest.fail(f"{name}: the |w_i| > t convention is represented_threshold")


def _dataclasses():
    for module in _public_modules():
        for name in getattr(module, "__all__", ()):
            obj = getattr(module, name)
            if dataclasses.is_dataclass(obj) and isinstance(obj, type):
                yield f"{obj.__module__}.{obj.__qualname__}", obj


DATACLASSES = sorted(dict(_dataclasses()).items())


@pytest.mark.parametrize("name, cls", DATACLASSES, ids=[n for n, _ in DATACLASSES])
def test_result_fields_speak_the_vocabulary(name, cls):
    for f in dataclasses.fields(cls):
        if _is_count(f.name, f.type, f.default):
            assert f.name not in BANNED, f"{name}.{f.name} is spelled {BANNED[f.name]!r}"
    if "seeds" in {f.name for f in dataclasses.fields(cls)}:
        # `seeds` without n_ is only ever an explicit sequence of seeds
        assert (
            dataclasses.fields(cls)[[f.name for f in dataclasses.fields(cls)].index("seeds")].type
            != "int"
        )


def _cli_options():
    from csuper.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for command, subparser in sub.choices.items():
        for action in subparser._actions:
            for flag in action.option_strings:
                yield command, flag, action


OPTIONS = list(_cli_options())


def test_cli_flags_speak_the_vocabulary():
    banned = {"--" + old.replace("_", "-") for old in BANNED} | {
        "--seeds",
        "--out",
        "--json",
        "--threshold",
        "--decoder-samples",
    }
    bad = [(c, f) for c, f, _ in OPTIONS if f in banned]
    assert not bad, f"renamed flags still present: {bad}"
    # every output location is -o/--output
    for command, _flag, action in OPTIONS:
        if action.dest == "output":
            assert set(action.option_strings) == {"-o", "--output"}, (
                command,
                action.option_strings,
            )
    # every subcommand that can show progress has --no-progress (the CLI shows it by default)
    with_progress = {c for c, f, _ in OPTIONS if f == "--no-progress"}
    assert {"study", "jl", "phase", "train"} <= with_progress


def test_no_progress_argument_defaults_true_in_the_package_source():
    # the AST view also catches private helpers that would turn progress on by default
    for path in ROOT.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                args = node.args
                pos = args.posonlyargs + args.args
                pairs = list(zip(pos[len(pos) - len(args.defaults) :], args.defaults))
                pairs += [
                    (a, d) for a, d in zip(args.kwonlyargs, args.kw_defaults) if d is not None
                ]
                for a, d in pairs:
                    if a.arg == "progress":
                        assert isinstance(d, ast.Constant) and d.value is False, (
                            f"{path.name}:{node.lineno} {node.name} defaults progress to "
                            f"{ast.unparse(d)}"
                        )


# ------------------------------------------------------------------ scalar in, scalar out

#: Every public function that broadcasts over array arguments: (function, scalar arguments,
#: indices of the arguments it broadcasts over). Scalars in give a Python float/int out; arrays
#: in give an ndarray of the broadcast shape whose entries are the scalar calls.
BROADCASTING = [
    (geometry.welch_bound, (10, 3), (0, 1)),
    (geometry.real_welch_bound, (10, 3), (0, 1)),
    (geometry.orthoplex_bound, (20, 3), (0, 1)),
    (geometry.levenstein_bound, (20, 3), (0, 1)),
    (geometry.rankin_simplex_bound, (10, 3), (0, 1)),
    (geometry.gerzon_bound, (3,), (0,)),
    (geometry.gilbert_varshamov_line_count, (0.3, 10), (0, 1)),
    (geometry.cap_packing_line_count, (0.3, 10), (0, 1)),
    (geometry.coherence_bound_line_count, (0.3, 10), (0, 1)),
    (geometry.kabatiansky_levenshtein_rate, (0.3,), (0,)),
    (geometry.gilbert_varshamov_rate, (0.3,), (0,)),
    (geometry.inner_product_tail, (0.3, 10), (0,)),
    (geometry.coherence_tail_union_bound, (0.5, 10, 5), (0,)),
    (geometry.coherence_quantile_union_bound, (0.5, 10, 5), (0,)),
    (geometry.coherence_tail_bonferroni_bound, (0.5, 10, 5), (0,)),
    (geometry.coherence_quantile_bonferroni_bound, (0.5, 10, 5), (0,)),
    (geometry.coherence_quantile_gumbel, (0.5, 10, 5), (0,)),
    (recovery.statistical_dimension_curve, (0.1,), (0,)),
    (recovery.weak_threshold, (0.5,), (0,)),
    (recovery.weak_threshold_asymptotic, (0.01,), (0,)),
    (compare.nonnegative_threshold, (200, 20), (0, 1)),
    (jl.dasgupta_gupta_min_dim, (100, 0.5), (0, 1)),
    (diagnose.incidental_law, (64, 256), (0, 1)),
]


def _second(x):
    """A second valid value of the same kind as x, for a 2-element array argument."""
    return x + 1 if isinstance(x, int) else x * 0.9


@pytest.mark.parametrize(
    "fn, args, axes", BROADCASTING, ids=[f.__name__ for f, _, _ in BROADCASTING]
)
def test_scalar_in_scalar_out(fn, args, axes):
    out = fn(*args)
    assert type(out) in (float, int), f"{fn.__name__}{args} returned {type(out).__name__}"
    # numpy scalars are scalars too
    numpy_args = [np.int64(a) if isinstance(a, int) else np.float64(a) for a in args]
    assert type(fn(*numpy_args)) is type(out)
    for axis in axes:
        arr_args = list(args)
        arr_args[axis] = np.array([args[axis], _second(args[axis])])
        arr = fn(*arr_args)
        assert isinstance(arr, np.ndarray) and arr.shape == (2,), (fn.__name__, axis)
        assert arr[0] == out
        single = list(args)
        single[axis] = _second(args[axis])
        assert arr[1] == pytest.approx(fn(*single), rel=1e-12)
    # a one-element array stays an array
    one = list(args)
    one[axes[0]] = [args[axes[0]]]
    assert np.shape(fn(*one)) == (1,)


@pytest.mark.parametrize(
    "call, fields",
    [
        (lambda a: geometry.best_coherence_bound(a(10), 3), ("value", "bound")),
        (lambda a: geometry.line_count_bounds(0.3, a(10)), ("lower", "upper", "lower_bound")),
    ],
    ids=["best_coherence_bound", "line_count_bounds"],
)
def test_scalar_in_scalar_out_for_result_objects(call, fields):
    # broadcasting functions that return a result object: its fields follow the same rule
    scalar, array = call(lambda x: x), call(lambda x: np.array([x, x + 1]))
    for name in fields:
        assert type(getattr(scalar, name)) in (float, int, str), name
        assert isinstance(getattr(array, name), np.ndarray) and getattr(array, name).shape == (2,)


def test_the_broadcasting_list_is_complete():
    # every public function annotated to return "float | ndarray" is in the list above
    listed = {f.__name__ for f, _, _ in BROADCASTING}
    annotated = set()
    for _name, fn in CALLABLES:
        ret = str(inspect.signature(fn).return_annotation).replace(" ", "")
        if "ndarray" in ret and ("float" in ret or "int" in ret) and "|" in ret:
            annotated.add(fn.__name__)
    assert annotated <= listed, (
        f"broadcasting functions missing from the test: {annotated - listed}"
    )
