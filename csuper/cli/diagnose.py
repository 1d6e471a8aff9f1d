"""``csuper diagnose``: polysemanticity or superposition? Run the diagnostics on saved weights,
saved activations with known features, or a construction with a known answer."""

from __future__ import annotations

import argparse

DESCRIPTION = (
    "Run the csuper.diagnose tests (linear recoverability and its budget, the decoder ladder, "
    "ICA and SAE unmixing, the dimension budget, neuron alignment against random rotations, the "
    "scaling test, the additive factorisation test) on one of: a toy model saved by "
    "'csuper train --output MODEL.npz' (csuper.toy.save_model; activations are drawn from its "
    "feature distribution), an activations file (.npz with H of shape (N, m) and optionally the "
    "known features X (N, n), weights W (m, n) and factor levels (N, 2) under 'factors'), or "
    "--construction NAME, a construction whose answers are known (they are checked). Prints a "
    "short report; --output FOLDER also writes report.md and diagnosis.json. A test that cannot "
    "apply (for example without known features) says why."
)


#: Defaults of the options that apply to a saved toy model only (None: not given).
_INSTANCE, _N_SAMPLES = 0, 3000


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register the options of ``csuper diagnose``."""
    from csuper.diagnose import CONSTRUCTIONS, TESTS

    parser.add_argument(
        "input",
        nargs="?",
        metavar="FILE.npz",
        help="a toy model (csuper.toy.save_model) or activations (H, optional X, W, factors)",
    )
    parser.add_argument(
        "--construction",
        choices=list(CONSTRUCTIONS),
        default=None,
        help="diagnose a construction with known answers instead of a file",
    )
    parser.add_argument(
        "--tests",
        nargs="+",
        choices=list(TESTS),
        default=None,
        metavar="NAME",
        help="tests to run (default all); choices: "
        + "; ".join(f"{k}: {v.__doc__}" for k, v in TESTS.items()),
    )
    parser.add_argument(
        "--instance",
        type=int,
        default=None,
        metavar="I",
        help=f"instance of a saved toy model (default: {_INSTANCE})",
    )
    parser.add_argument(
        "--n-samples",
        type=int,
        default=None,
        metavar="N",
        help=f"activations drawn from a saved toy model's feature distribution (default: "
        f"{_N_SAMPLES})",
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed")
    parser.add_argument(
        "--output", "-o", default=None, metavar="FOLDER", help="write report.md and diagnosis.json"
    )
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def _from_file(args: argparse.Namespace, rng):
    """(title, H, X, W, factors, expected) from a toy-model or activations file."""
    import numpy as np

    from csuper._validation import check_input_file, check_int, read_npz
    from csuper.toy import feature_distribution, load_model, sample_features

    data = read_npz(check_input_file(args.input, "FILE.npz"), "toy-model or activations file")
    if "metadata" in data and "W" in data and "H" not in data:
        model = load_model(args.input)
        instance = _INSTANCE if args.instance is None else args.instance
        r = check_int(instance, "--instance", low=0, high=model.n_instances - 1)
        p = model.feature_probability[r]
        if not np.all(np.isfinite(p)):
            raise ValueError(
                f"{args.input}: the model has no feature_probability (NaN), so no activations "
                "can be drawn; save activations with known features instead."
            )
        n_samples = _N_SAMPLES if args.n_samples is None else args.n_samples
        n = check_int(n_samples, "--n-samples", low=20)
        d = feature_distribution(
            model.n_features, p, magnitude=model.distribution.get("magnitude", "uniform")
        )
        X = sample_features(d, n, rng=rng)[0]
        W = model.W[r]
        H = X @ W.T
        if model.model == "hidden_relu":
            H = np.maximum(H, 0.0)
        title = f"{args.input}, instance {r} ({model.model}, n = {W.shape[1]}, m = {W.shape[0]})"
        return title, H, X, W, None, {}
    if "H" not in data:
        raise ValueError(
            f"{args.input} holds neither a csuper toy model nor activations: expected an array "
            f"'H' (N, m) (with optional 'X', 'W', 'factors'); found {sorted(data)}."
        )
    _refuse_model_options(args, f"the activations file {args.input}")
    unknown = sorted(set(data) - {"H", "X", "W", "factors"})
    if unknown:
        raise ValueError(
            f"{args.input}: unexpected arrays {unknown}; an activations file holds H and "
            "optionally X, W and factors."
        )
    factors = data.get("factors")
    if factors is not None and not np.issubdtype(factors.dtype, np.integer):
        raise ValueError(f"{args.input}: factors must be integer levels; got {factors.dtype}.")
    title = f"{args.input} (activations H {data['H'].shape})"
    return title, data["H"], data.get("X"), data.get("W"), factors, {}


def _refuse_model_options(args: argparse.Namespace, source: str) -> None:
    """--instance and --n-samples select and sample a saved toy model: refuse them elsewhere
    (they were silently ignored)."""
    options = (("--instance", args.instance), ("--n-samples", args.n_samples))
    given = [flag for flag, value in options if value is not None]
    if given:
        raise ValueError(
            f"{' and '.join(given)} {'apply' if len(given) > 1 else 'applies'} only to a saved "
            f"toy model; {source} brings its own activations."
        )


#: The files ``--output`` writes: a folder holding anything else is another report's.
_REPORT_FILES = ("report.md", "diagnosis.json")


def _check_report_folder(folder) -> None:
    """Refuse a folder that holds files other than an earlier diagnosis (a study or sae report
    folder has a report.md too: it must not be overwritten)."""
    present = sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []
    if present and ("diagnosis.json" not in present or set(present) - set(_REPORT_FILES)):
        shown = ", ".join(present[:4]) + (", ..." if len(present) > 4 else "")
        raise ValueError(
            f"--output: folder {str(folder)!r} holds files that are not a csuper diagnose "
            f"report ({shown}); choose a new or empty folder (nothing was written)."
        )


def run(args: argparse.Namespace) -> int:
    """Run ``csuper diagnose``; returns the exit status."""
    import json
    import pathlib

    from csuper._validation import check_int, check_output_folder
    from csuper.diagnose import diagnose, make_construction

    if args.output:
        _check_report_folder(check_output_folder(args.output, "--output"))
    check_int(args.seed, "--seed", low=0)
    if (args.input is None) == (args.construction is None):
        raise ValueError("give exactly one of FILE.npz and --construction NAME.")
    if args.construction is not None:
        _refuse_model_options(args, f"--construction {args.construction}")
        c = make_construction(args.construction, rng=args.seed)
        title = f"construction '{c.name}': {c.description}"
        H, X, W, factors, expected = c.H, c.X, c.W, c.factors, c.expected
    else:
        title, H, X, W, factors, expected = _from_file(args, [args.seed, 1])
    d = diagnose(
        H, X, W=W, factors=factors, tests=args.tests, rng=args.seed, progress=not args.no_progress
    )
    text = d.to_markdown(title=f"Diagnosis of {title}")
    checks = []
    for test, answer in expected.items():
        if test in d.results:
            got = d.results[test].diagnosis
            checks.append({"test": test, "expected": answer, "got": got, "ok": got == answer})
    if checks:
        n_ok = sum(c["ok"] for c in checks)
        text += f"\nKnown answers: {n_ok} of {len(checks)} returned.\n"
        text += "".join(
            f"- {c['test']}: expected {c['expected']}, got {c['got']}"
            f"{'' if c['ok'] else '  <-- MISMATCH'}\n"
            for c in checks
        )
    print(text)
    if args.output:
        folder = pathlib.Path(args.output)
        folder.mkdir(exist_ok=True)
        (folder / "report.md").write_text(text, encoding="utf-8")
        out = {"title": title, **d.to_dict(), "known_answers": checks}
        (folder / "diagnosis.json").write_text(json.dumps(out, indent=2), encoding="utf-8")
        print(f"report written to {folder / 'report.md'} and {folder / 'diagnosis.json'}")
    return 0 if all(c["ok"] for c in checks) else 1
