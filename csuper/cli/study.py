"""``csuper study``: the main job (see :mod:`csuper.study`)."""

from __future__ import annotations

import argparse
import sys

DESCRIPTION = (
    "Train toy models of superposition (Elhage et al. 2022) with replicate seeds and answer eight "
    "questions, each with a verdict (supported / not supported / inconclusive) generated from the "
    "numbers by a rule fixed in csuper.study.questions, with bootstrap confidence intervals and "
    "null baselines: Q1 compressed-sensing scaling with n varied, Q2 the decoder and "
    "amortisation gap, Q3 capacity against the Lagrangian allocation, Q4 phase transitions, Q5 "
    "sparsity, Q6 model size, Q7 correlation, Q8 robustness. Writes a report folder (report.md, "
    "a self-contained report.html, study.json, tables, figures) and prints the verdicts. "
    "Finished tasks are saved as they complete: rerunning with the same output folder resumes; "
    "--report-only DIR re-renders a saved study without training. Options come from the preset "
    "(--preset or --quick), then --config FILE (TOML), then the flags."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register the options of ``csuper study`` (unset options are absent from the namespace)."""
    from csuper.cli._options import add_executor_arguments
    from csuper.study import DEFAULT_OUTPUT, PRESETS, QUICK_OUTPUT, StudyConfig

    d = StudyConfig()
    S = argparse.SUPPRESS
    parser.add_argument(
        "--preset",
        choices=list(PRESETS),
        default=S,
        help="size of the study: quick (under a minute on 2 cores, for tests), default (a few "
        "minutes), full (hours; meant for a Dask cluster, see the README)",
    )
    parser.add_argument("--quick", action="store_true", default=S, help="same as --preset quick")
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
        "--report-only",
        default=S,
        metavar="DIR",
        help="re-render the report of the study saved in DIR from its records; trains nothing",
    )
    for name, kind, metavar in (
        ("n_seeds", int, "K"),
        ("n_steps", int, "T"),
        ("batch_size", int, "B"),
        ("lr", float, "LR"),
        ("weight_decay", float, "WD"),
        ("seed", int, "SEED"),
    ):
        parser.add_argument(
            "--" + name.replace("_", "-"),
            type=kind,
            default=S,
            metavar=metavar,
            help=f"{StudyConfig.describe()[name]} (default preset: {getattr(d, name):g})",
        )
    add_executor_arguments(parser, default_workers="every CPU")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress output")


#: Flags that set StudyConfig fields (argparse dest == field name).
_FIELDS = ("n_seeds", "n_steps", "batch_size", "lr", "weight_decay", "seed")


def resolve(args: argparse.Namespace):
    """The study configuration and output folder: the preset, then the file, then the flags."""
    from csuper._validation import check_input_file
    from csuper.study import DEFAULT_OUTPUT, PRESETS, QUICK_OUTPUT, load_config

    preset = getattr(args, "preset", None)
    if getattr(args, "quick", False):
        if preset not in (None, "quick"):
            raise ValueError(f"--quick and --preset {preset} contradict each other.")
        preset = "quick"
    output = QUICK_OUTPUT if preset == "quick" else DEFAULT_OUTPUT
    if hasattr(args, "config"):
        check_input_file(args.config, "--config")
        config, file_output, file_preset = load_config(args.config, preset=preset)
        output = file_output or (QUICK_OUTPUT if file_preset == "quick" else DEFAULT_OUTPUT)
    else:
        config = PRESETS[preset or "default"]()
    flags = {name: getattr(args, name) for name in _FIELDS if hasattr(args, name)}
    config = config.replace(**flags)
    return config, getattr(args, "output", output)


def run(args: argparse.Namespace) -> int:
    """Run the study (or re-render one), print the verdicts; returns the exit status.

    Bad options, a bad config file or a foreign output folder raise ValueError/TypeError before
    anything is written (exit status 2); a failure while the study runs is a RuntimeError
    (exit status 1, with the traceback) so that it is not mistaken for a usage error.
    """
    from csuper._validation import check_output_folder
    from csuper.executor import make_executor
    from csuper.study import (
        format_summary,
        open_study_folder,
        render_study,
        run_study,
        study_tasks,
    )

    if hasattr(args, "report_only"):
        others = [f for f in ("preset", "quick", "config", "output", *_FIELDS) if hasattr(args, f)]
        if others:
            raise ValueError(
                "--report-only re-renders a saved study as it was run; it takes no study options "
                f"(got --{others[0].replace('_', '-')})."
            )
        result = render_study(args.report_only)
        print(format_summary(result.summary))
        print(f"report: {result.folder / 'report.md'} and {result.folder / 'report.html'}")
        return 0
    config, output = resolve(args)
    check_output_folder(output, "--output")
    with make_executor(workers=args.workers, scheduler=args.scheduler) as executor:
        store = open_study_folder(output, config)  # refuses a folder holding anything else
        total, done = len(study_tasks(config)), len(store)
        print(
            f"csuper study: {total} tasks into {output}/"
            + (f" ({done} already finished there, resuming)" if done else ""),
            flush=True,
        )
        try:
            result = run_study(config, output, executor=executor, progress=not args.no_progress)
        except KeyboardInterrupt:
            print(
                f"\ninterrupted: finished tasks are saved in {output}/; rerun the same command "
                "to resume.",
                file=sys.stderr,
            )
            return 130
        except (ValueError, TypeError) as exc:
            raise RuntimeError(f"the study failed while running: {exc}") from exc
    print(format_summary(result.summary))
    print(f"report: {result.folder / 'report.md'} and {result.folder / 'report.html'}")
    return 0
