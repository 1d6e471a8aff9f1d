"""``csuper pricing``: the interference-pricing frontier (resumable), its report and figure."""

from __future__ import annotations

import argparse

DESCRIPTION = (
    "Train toy models with an interference price lambda * sum_{i != j} c_ij (w_i . w_j)^2 "
    "(c_ij the co-activation rate, or 1 with --no-coactivation-weighted) at every price x "
    "sparsity x seed, the same seeds at every price, and measure on held-out data the frontier "
    "of reconstruction loss against legibility (the share of represented features that own a "
    "dimension, the represented count, interference). Writes frontier.json, report.md (the "
    "table with intervals over seeds, paired gains and the verdicts of "
    "csuper.diagnose.PRICING_CRITERIA) and frontier.png to the output folder. Each price is "
    "saved as soon as it is trained: rerunning with the same options resumes (more --prices "
    "may be added); other options in the same folder are refused."
)

#: File names written in the output folder (beside the store's header.json, records.jsonl).
FILES = ("frontier.json", "report.md", "frontier.png")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register the options of ``csuper pricing``."""
    from csuper.diagnose import PRICED_MODELS
    from csuper.toy import TrainSettings

    s = TrainSettings()
    parser.add_argument("--n-features", type=int, default=20, help="number of features n")
    parser.add_argument("--n-dims", type=int, default=5, help="hidden dimensions m < n")
    parser.add_argument(
        "--sparsities",
        type=float,
        nargs="+",
        default=[0.0, 0.5, 0.8, 0.9, 0.97],
        metavar="S",
        help="sparsities S = 1 - p in [0, 1)",
    )
    parser.add_argument(
        "--prices",
        type=float,
        nargs="+",
        default=[0.0, 0.01, 0.1, 1.0],
        metavar="LAMBDA",
        help="prices lambda >= 0; must include 0, the unpriced run every price is paired with",
    )
    parser.add_argument(
        "--coactivation-weighted",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="c_ij = co-activation rate of the data (else 1, the plain price)",
    )
    parser.add_argument(
        "--model", choices=list(PRICED_MODELS), default=PRICED_MODELS[0], help="toy model"
    )
    parser.add_argument(
        "--importance-ratio", type=float, default=0.9, help="r of the importance I_i = r^i"
    )
    parser.add_argument("--n-seeds", type=int, default=5, help="seeds per sparsity (>= 2 for CIs)")
    parser.add_argument("--n-steps", type=int, default=4000, help="optimisation steps")
    parser.add_argument("--batch-size", type=int, default=s.batch_size, help="samples per step")
    parser.add_argument("--lr", type=float, default=s.lr, help="learning rate")
    parser.add_argument(
        "--n-samples", type=int, default=16384, help="held-out samples per model for the loss"
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed (of the training seeds)")
    parser.add_argument(
        "-o", "--output", default="csuper-pricing", metavar="FOLDER", help="results folder"
    )
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bars")


def _finite(obj):
    """JSON-ready copy: tuples as lists, non-finite floats (undefined intervals) as None."""
    import math

    if isinstance(obj, dict):
        return {str(k): _finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v) for v in obj]
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def run(args: argparse.Namespace) -> int:
    """Run ``csuper pricing``; returns the exit status."""
    import json

    from csuper._validation import check_int, check_output_folder, check_real

    folder = check_output_folder(args.output, "--output")
    check_int(args.seed, "--seed", low=0)
    for flag, value in (
        ("--n-features", args.n_features),
        ("--n-dims", args.n_dims),
        ("--n-seeds", args.n_seeds),
        ("--n-steps", args.n_steps),
        ("--batch-size", args.batch_size),
        ("--n-samples", args.n_samples),
    ):
        check_int(value, flag, low=1)
    check_int(args.n_features, "--n-features", low=2)
    check_int(args.n_dims, "--n-dims", low=1, high=args.n_features, high_inclusive=False)
    check_real(args.importance_ratio, "--importance-ratio", low=0.0, low_inclusive=False)
    check_real(args.lr, "--lr", low=0.0, low_inclusive=False)
    if any(not 0.0 <= x < 1.0 for x in args.sparsities):
        raise ValueError(f"--sparsities must lie in [0, 1); got {args.sparsities}.")
    if any(not x >= 0.0 for x in args.prices) or 0.0 not in args.prices:
        raise ValueError(
            "--prices must be nonnegative and include 0 (the unpriced run every price is "
            f"paired with); got {args.prices}."
        )

    import numpy as np

    from csuper.diagnose import (
        PRICING_CRITERIA,
        frontier_figure,
        frontier_report,
        frontier_table,
        pricing_frontier,
    )
    from csuper.toy import TrainSettings

    settings = TrainSettings(
        model=args.model, n_steps=args.n_steps, batch_size=args.batch_size, lr=args.lr
    )
    progress = not args.no_progress
    if progress:
        print("csuper pricing: numba compiles the toy kernels on first use (cached afterwards).")
    frontier = pricing_frontier(
        args.n_features,
        args.n_dims,
        sparsities=args.sparsities,
        prices=args.prices,
        coactivation_weighted=args.coactivation_weighted,
        importance=args.importance_ratio ** np.arange(args.n_features),
        settings=settings,
        n_seeds=args.n_seeds,
        n_samples=args.n_samples,
        rng=args.seed,
        output=folder,
        progress=progress,
    )
    report = frontier_report(frontier)
    result = {
        "setup": {**frontier.setup, "seed": args.seed},
        "criteria": PRICING_CRITERIA,
        "legible_loss": frontier.legible_loss,
        "rows": frontier.rows,
        "table": frontier_table(frontier),
    }
    (folder / "frontier.json").write_text(json.dumps(_finite(result), indent=1), encoding="utf-8")
    (folder / "report.md").write_text(report, encoding="utf-8")
    fig = frontier_figure(frontier)
    fig.savefig(folder / "frontier.png", dpi=110)
    n_prices = len(frontier.setup["prices"])
    print(
        f"trained {n_prices - len(frontier.resumed)} price(s), resumed {len(frontier.resumed)}; "
        f"report: {folder / 'report.md'}"
    )
    for line in report.splitlines():
        if line.startswith("- **"):
            print(line.replace("**", ""))
    return 0
