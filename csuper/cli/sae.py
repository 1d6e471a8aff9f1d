"""``csuper sae``: train an SAE sweep on data with known features, evaluate, write a report."""

from __future__ import annotations

import argparse

DESCRIPTION = (
    "Train sparse autoencoders over widths x sparsity coefficients x seeds on data with a known "
    "dictionary, measure recovery (MMCS, MCC, recovery rate, dead latents, L0, FVU), compare the "
    "SAE encoder with basis pursuit, LASSO and FISTA using the true dictionary and the SAE's own "
    "decoder over m / m*, and write report.md, summary.json and figures/ to the output folder. "
    "Rerunning with the same options resumes an interrupted sweep."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register the options of ``csuper sae``."""
    from csuper.cli._options import add_executor_arguments
    from csuper.sae import (
        ARCHITECTURES,
        DICTIONARIES,
        MAGNITUDES,
        PROBABILITY_PROFILES,
        SweepConfig,
    )

    d = SweepConfig()
    parser.add_argument("--n-features", type=int, default=d.n_features, help="true features n")
    parser.add_argument("--n-dims", type=int, default=d.n_dims, help="dimensions m")
    parser.add_argument("--k", type=float, default=d.k, help="expected active features per sample")
    parser.add_argument(
        "--dictionary",
        choices=sorted(set(DICTIONARIES) - {"known"}),
        default=d.dictionary,
        help="ground-truth dictionary",
    )
    parser.add_argument(
        "--profile",
        choices=sorted(PROBABILITY_PROFILES),
        default=d.profile,
        help="firing-probability profile",
    )
    parser.add_argument(
        "--magnitude",
        choices=sorted(MAGNITUDES),
        default=d.magnitude,
        help="law of an active feature's value",
    )
    parser.add_argument(
        "--fixed-k", action="store_true", help="exactly k active features per sample"
    )
    parser.add_argument("--n-samples", type=int, default=d.n_samples, help="training samples")
    parser.add_argument(
        "--architecture",
        choices=sorted(ARCHITECTURES),
        default=d.architecture,
        help="SAE architecture of the recovery sweep",
    )
    parser.add_argument("--widths", type=int, nargs="+", default=list(d.widths), help="SAE widths")
    parser.add_argument(
        "--coefficients",
        type=float,
        nargs="+",
        default=None,
        help="sparsity coefficients of relu_l1 and jumprelu (default: "
        + " ".join(f"{c:g}" for c in d.coefficients)
        + "); the k values of topk and batchtopk (integers, required for them)",
    )
    parser.add_argument("--n-seeds", type=int, default=d.n_seeds, help="seeds per configuration")
    parser.add_argument("--n-steps", type=int, default=d.n_steps, help="Adam steps")
    parser.add_argument("--batch-size", type=int, default=d.batch_size, help="samples per step")
    parser.add_argument("--lr", type=float, default=d.lr, help="learning rate")
    parser.add_argument(
        "--gap-n-features",
        type=int,
        nargs="*",
        default=list(d.gap_n_features),
        help="n values of the amortisation-gap curve (m and k fixed); none skips the curve",
    )
    parser.add_argument(
        "--gap-k",
        type=float,
        default=d.gap_k,
        help="expected active features of the gap curve's data",
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed")
    parser.add_argument(
        "-o", "--output", default="csuper-sae", metavar="FOLDER", help="report folder"
    )
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    add_executor_arguments(parser, default_workers="1")


def run(args: argparse.Namespace) -> int:
    """Run ``csuper sae``; returns the exit status."""
    from csuper._validation import check_output_folder
    from csuper.executor import make_executor
    from csuper.sae import ARCHITECTURES, SweepConfig, run_sweep

    check_output_folder(args.output, "--output")
    coefs = args.coefficients
    if ARCHITECTURES[args.architecture]["knob"] == "k":
        if coefs is None or not all(float(c).is_integer() for c in coefs):
            raise ValueError(
                f"--architecture {args.architecture} needs --coefficients with its k values "
                f"(integers, e.g. --coefficients 1 2 4); got "
                f"{'none' if coefs is None else ' '.join(f'{c:g}' for c in coefs)}."
            )
        coefs = [int(c) for c in coefs]
    elif coefs is None:
        coefs = SweepConfig().coefficients
    config = SweepConfig(
        n_features=args.n_features,
        n_dims=args.n_dims,
        k=args.k,
        dictionary=args.dictionary,
        profile=args.profile,
        magnitude=args.magnitude,
        fixed_k=args.fixed_k,
        n_samples=args.n_samples,
        architecture=args.architecture,
        widths=tuple(args.widths),
        coefficients=tuple(coefs),
        n_seeds=args.n_seeds,
        n_steps=args.n_steps,
        batch_size=args.batch_size,
        lr=args.lr,
        gap_n_features=tuple(args.gap_n_features),
        gap_k=args.gap_k,
        seed=args.seed,
    )
    workers = 1 if args.workers is None and args.scheduler is None else args.workers
    if not args.no_progress:
        print("csuper sae: numba compiles the SAE kernels on first use (cached afterwards).")
    with make_executor(workers=workers, scheduler=args.scheduler) as ex:
        res = run_sweep(config, args.output, executor=ex, progress=not args.no_progress)
    import json

    v = json.loads((res.folder / "summary.json").read_text())["verdicts"]
    print(f"ran {res.ran} task(s), resumed {res.resumed}; report: {res.folder / 'report.md'}")
    print("recovery: " + v["recovery_answer"])
    print("amortisation gap: " + v["gap_answer"])
    return 0
