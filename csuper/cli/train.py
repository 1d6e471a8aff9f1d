"""``csuper train``: train toy models of superposition over a sparsity sweep and save them."""

from __future__ import annotations

import argparse

DESCRIPTION = (
    "Train one toy model per feature probability p (a sweep, all instances in one call of the "
    "numba trainer), keep the best of --n-seeds runs per p, print a summary (loss, represented "
    "features, D* = m/||W||_F^2, polytopes for m <= 3) and save the models to an .npz file "
    "readable with csuper.toy.load_model. Defaults: the reference notebook's settings."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register the options of ``csuper train``."""
    from csuper.toy import MAGNITUDE_LAWS, MODELS, OPTIMIZERS, SCHEDULES

    parser.add_argument("--n-features", type=int, default=5, help="number of features n")
    parser.add_argument("--n-dims", type=int, default=2, help="hidden dimensions m < n")
    parser.add_argument(
        "--feature-probability",
        type=float,
        nargs="+",
        default=None,
        help="p of each instance (default: 20^-linspace(0, 1, 10), the paper's)",
    )
    parser.add_argument(
        "--importance",
        choices=("constant", "geometric", "power_law"),
        default="geometric",
        help="importance profile",
    )
    parser.add_argument(
        "--importance-ratio", type=float, default=0.9, help="r of the geometric profile I_i = r^i"
    )
    parser.add_argument("--model", choices=sorted(MODELS), default="relu_output", help="toy model")
    parser.add_argument(
        "--magnitude",
        choices=sorted(MAGNITUDE_LAWS),
        default="uniform",
        help="law of an active feature's value",
    )
    parser.add_argument("--n-steps", type=int, default=10_000, help="optimisation steps")
    parser.add_argument("--batch-size", type=int, default=1024, help="samples per step")
    parser.add_argument("--lr", type=float, default=1e-3, help="learning rate")
    parser.add_argument(
        "--optimizer", choices=sorted(OPTIMIZERS), default="adamw", help="optimizer"
    )
    parser.add_argument("--weight-decay", type=float, default=1e-2, help="weight decay")
    parser.add_argument(
        "--schedule", choices=sorted(SCHEDULES), default="constant", help="learning-rate schedule"
    )
    parser.add_argument("--n-seeds", type=int, default=1, help="best of this many seeds per p")
    parser.add_argument("--seed", type=int, default=0, help="random seed")
    parser.add_argument(
        "--output", "-o", default=None, metavar="PATH", help="save the models (.npz)"
    )
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def run(args: argparse.Namespace) -> int:
    """Run ``csuper train``; returns the exit status."""
    import numpy as np

    import csuper.toy as toy
    from csuper._validation import check_output_file

    if args.output:
        check_output_file(args.output, "--output")
    p = args.feature_probability
    p = 20.0 ** -np.linspace(0, 1, 10) if p is None else np.asarray(p, dtype=float)
    dist = toy.feature_distribution(args.n_features, p, magnitude=args.magnitude)
    imp = toy.importance_profile(args.n_features, args.importance, ratio=args.importance_ratio)
    settings = toy.TrainSettings(
        model=args.model,
        n_steps=args.n_steps,
        batch_size=args.batch_size,
        lr=args.lr,
        optimizer=args.optimizer,
        weight_decay=args.weight_decay,
        schedule=args.schedule,
    )
    model = toy.train(
        dist,
        args.n_dims,
        importance=imp,
        settings=settings,
        n_seeds=args.n_seeds,
        rng=args.seed,
        progress=not args.no_progress,
    )
    print(f"{'p':>8} {'loss':>10} {'represented':>11} {'D*':>6}  polytopes")
    for r in range(model.n_instances):
        W = model.W[r]
        polys = ""
        if model.n_dims <= 3 and model.n_dims >= 2:
            polys = ", ".join(q.name for q in toy.detect_polytopes(W))
        print(
            f"{dist.feature_probability[r, 0]:8.4f} {model.final_loss[r]:10.6f} "
            f"{toy.represented_count(W):11d} {toy.dimensions_per_feature(W):6.3f}  {polys}"
        )
    if args.output:
        toy.save_model(model, args.output)
        print(f"models written to {args.output}")
    return 0
