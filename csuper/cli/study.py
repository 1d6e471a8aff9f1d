"""``csuper study``: the main job (see :mod:`csuper.study`)."""

from __future__ import annotations

import argparse
import sys

DESCRIPTION = (
    "Train toy models of superposition (Elhage et al. 2022) over a sweep of hidden dimensions m "
    "and sparsities S (best of several seeds) and answer, with numbers: do they pack features at "
    "a compressed-sensing rate (represented features against m, k log(n/k) and the exact l1 "
    "threshold), how far is their ReLU read-out from l1 recovery on the same measurements "
    "(decoder gap against m/m*), does a Lagrangian capacity allocation predict which features "
    "are monosemantic, fractional or ignored, and where do transitions happen as one feature's "
    "importance or frequency grows (cold and warm starts). Writes a report folder (report.md "
    "with figures, CSV and JSON tables, study.json) and prints the headline numbers. Finished "
    "configurations are saved as they complete: rerunning with the same output folder resumes. "
    "Options come from the defaults (or --quick), then --config FILE (TOML), then the flags."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register the options of ``csuper study`` (unset options are absent from the namespace)."""
    from csuper.cli._options import add_executor_arguments
    from csuper.compare import DECODERS
    from csuper.study import DEFAULT_OUTPUT, QUICK_OUTPUT, StudyConfig

    d = StudyConfig()
    S = argparse.SUPPRESS
    parser.add_argument(
        "--config",
        default=S,
        metavar="FILE.toml",
        help="TOML file setting any study option (see csuper.study.config)",
    )
    parser.add_argument(
        "--output",
        "-o",
        default=S,
        metavar="DIR",
        help=f"report folder (default: {DEFAULT_OUTPUT}; with --quick {QUICK_OUTPUT})",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        default=S,
        help="small smoke-test study (under a minute on 2 cores)",
    )
    parser.add_argument(
        "--n-features",
        type=int,
        default=S,
        metavar="N",
        help=f"features n of every model (default: {d.n_features})",
    )
    parser.add_argument(
        "--n-dims",
        type=int,
        nargs="+",
        default=S,
        metavar="M",
        help=f"hidden dimensions m of the sweep (default: {' '.join(map(str, d.n_dims))})",
    )
    parser.add_argument(
        "--sparsities",
        type=float,
        nargs="+",
        default=S,
        metavar="S",
        help=f"sparsities S = 1 - p of the sweep, in [0, 1) (default: "
        f"{' '.join(f'{s:g}' for s in d.sparsities)})",
    )
    parser.add_argument(
        "--importance",
        choices=["constant", "geometric", "power_law"],
        default=S,
        help=f"importance profile: ratio**i, (i+1)**-alpha or 1 (default: {d.importance})",
    )
    parser.add_argument(
        "--importance-ratio",
        type=float,
        default=S,
        metavar="R",
        help=f"ratio of the geometric profile, in (0, 1] (default: {d.importance_ratio})",
    )
    parser.add_argument(
        "--importance-alpha",
        type=float,
        default=S,
        metavar="A",
        help=f"exponent of the power-law profile, >= 0 (default: {d.importance_alpha})",
    )
    parser.add_argument(
        "--n-seeds",
        type=int,
        default=S,
        metavar="K",
        help=f"best of K training seeds per model (default: {d.n_seeds})",
    )
    parser.add_argument(
        "--n-steps", type=int, default=S, help=f"training steps per model (default: {d.n_steps})"
    )
    parser.add_argument(
        "--batch-size",
        type=int,
        default=S,
        help=f"samples per training step (default: {d.batch_size})",
    )
    parser.add_argument("--lr", type=float, default=S, help=f"learning rate (default: {d.lr:g})")
    parser.add_argument(
        "--decoder-n-samples",
        type=int,
        default=S,
        metavar="B",
        help=f"fresh samples decoded per model (default: {d.decoder_n_samples})",
    )
    parser.add_argument(
        "--decoders",
        nargs="+",
        choices=list(DECODERS),
        default=S,
        metavar="NAME",
        help="decoders of the decoder gap (default: all); "
        + "; ".join(f"{k}: {v}" for k, v in DECODERS.items()),
    )
    parser.add_argument("--seed", type=int, default=S, help=f"root random seed (default: {d.seed})")
    add_executor_arguments(parser, default_workers="every CPU")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")


#: Flags that set StudyConfig fields (argparse dest -> field; the names agree).
_FIELDS = (
    "n_features",
    "n_dims",
    "sparsities",
    "importance",
    "importance_ratio",
    "importance_alpha",
    "n_seeds",
    "n_steps",
    "batch_size",
    "lr",
    "decoder_n_samples",
    "decoders",
    "seed",
)


def resolve(args: argparse.Namespace):
    """The study configuration and output folder: defaults (or --quick), then the file, then
    flags."""
    from csuper.study import DEFAULT_OUTPUT, QUICK_OUTPUT, StudyConfig, load_config, quick_config

    quick = getattr(args, "quick", False)
    config = quick_config() if quick else StudyConfig()
    output = QUICK_OUTPUT if quick else DEFAULT_OUTPUT
    if hasattr(args, "config"):
        fields, file_output = load_config(args.config, config)
        config = config.replace(**fields)
        output = file_output or output
    flags = {name: getattr(args, name) for name in _FIELDS if hasattr(args, name)}
    config = config.replace(**{k: tuple(v) if isinstance(v, list) else v for k, v in flags.items()})
    return config, getattr(args, "output", output)


def run(args: argparse.Namespace) -> int:
    """Run the study, print the headline numbers; returns the exit status.

    Bad options, a bad config file or a foreign output folder raise ValueError/TypeError before
    anything is written (exit status 2); a failure while the study runs is a RuntimeError
    (exit status 1, with the traceback) so that it is not mistaken for a usage error.
    """
    from csuper._validation import check_output_folder
    from csuper.executor import make_executor
    from csuper.study import format_summary, open_study_folder, run_study, study_tasks

    config, output = resolve(args)
    check_output_folder(output, "--output")
    with make_executor(workers=args.workers, scheduler=args.scheduler) as executor:
        store = open_study_folder(output, config)  # refuses a folder holding anything else
        total, done = len(study_tasks(config)), len(store)
        print(
            f"csuper study: {total} configurations into {output}/"
            + (f" ({done} already finished there, resuming)" if done else ""),
            flush=True,
        )
        try:
            result = run_study(config, output, executor=executor, progress=not args.no_progress)
        except KeyboardInterrupt:
            print(
                f"\ninterrupted: finished configurations are saved in {output}/; rerun the "
                "same command to resume.",
                file=sys.stderr,
            )
            return 130
        except (ValueError, TypeError) as exc:
            raise RuntimeError(f"the study failed while running: {exc}") from exc
    print(format_summary(result.summary))
    print(f"report: {result.folder / 'report.md'}")
    return 0
