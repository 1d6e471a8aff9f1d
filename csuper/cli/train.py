"""``csuper train``: train toy models of superposition over a sparsity sweep and save them."""

from __future__ import annotations

import argparse

DESCRIPTION = (
    "Train one toy model per feature probability p (a sweep, all instances in one call of the "
    "numba trainer), keep the best of --n-seeds runs per p, print a summary (loss, represented "
    "features, D* = m/||W||_F^2, polytopes for m <= 3) and, with --output, save the models to an "
    ".npz file that csuper compare, csuper diagnose and csuper.toy.load_model read. Defaults: the "
    "reference notebook's settings."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register the options of ``csuper train``."""
    from csuper.toy import (
        IMPORTANCE_PROFILES,
        INITIALIZATIONS,
        MAGNITUDE_LAWS,
        MODELS,
        NOTEBOOK_SETTINGS,
        OPTIMIZERS,
        SCHEDULES,
    )

    s = NOTEBOOK_SETTINGS
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
        choices=sorted(IMPORTANCE_PROFILES),
        default="geometric",
        help="importance profile",
    )
    parser.add_argument(
        "--importance-ratio", type=float, default=0.9, help="r of the geometric profile I_i = r^i"
    )
    parser.add_argument("--model", choices=sorted(MODELS), default=s.model, help="toy model")
    parser.add_argument(
        "--magnitude",
        choices=sorted(MAGNITUDE_LAWS),
        default="uniform",
        help="law of an active feature's value",
    )
    parser.add_argument("--n-steps", type=int, default=s.n_steps, help="optimisation steps")
    parser.add_argument("--batch-size", type=int, default=s.batch_size, help="samples per step")
    parser.add_argument("--lr", type=float, default=s.lr, help="learning rate (of W)")
    parser.add_argument(
        "--bias-lr", type=float, default=None, help="learning rate of b (default: --lr)"
    )
    parser.add_argument(
        "--optimizer", choices=sorted(OPTIMIZERS), default=s.optimizer, help="optimizer"
    )
    parser.add_argument(
        "--weight-decay",
        type=float,
        default=s.weight_decay,
        help="weight decay of W; < 0 with adamw: Liu et al. 2025's growth towards |w_i| = 1",
    )
    parser.add_argument(
        "--bias-weight-decay",
        type=float,
        default=None,
        help="weight decay of b (default: --weight-decay)",
    )
    parser.add_argument(
        "--schedule", choices=sorted(SCHEDULES), default=s.schedule, help="learning-rate schedule"
    )
    parser.add_argument(
        "--warmup-fraction",
        type=float,
        default=s.warmup_fraction,
        help="warm-up share of the steps (schedule warmup_cosine)",
    )
    parser.add_argument(
        "--min-lr-ratio",
        type=float,
        default=s.min_lr_ratio,
        help="final lr / lr (schedule warmup_cosine)",
    )
    parser.add_argument(
        "--initialization",
        choices=sorted(INITIALIZATIONS),
        default=s.initialization,
        help="initialisation of W and b",
    )
    parser.add_argument(
        "--dtype", choices=("float32", "float64"), default=s.dtype, help="floating-point precision"
    )
    parser.add_argument(
        "--interference-price",
        type=float,
        default=s.interference_price,
        help="lambda of the penalty lambda sum_{i != j} c_ij (w_i . w_j)^2",
    )
    parser.add_argument(
        "--coactivation-weighted",
        action=argparse.BooleanOptionalAction,
        default=s.coactivation_weighted,
        help="c_ij = co-activation rate of the data (else 1)",
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
    from csuper._validation import check_int, check_output_file, check_real

    if args.output is not None:  # fail before the work, not after it
        check_output_file(args.output, "--output")
    check_int(args.seed, "--seed", low=0)
    check_real(args.importance_ratio, "--importance-ratio", low=0.0, high=1.0, low_inclusive=False)
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
        dtype=args.dtype,
        bias_lr=args.bias_lr,
        bias_weight_decay=args.bias_weight_decay,
        warmup_fraction=args.warmup_fraction,
        min_lr_ratio=args.min_lr_ratio,
        initialization=args.initialization,
        interference_price=args.interference_price,
        coactivation_weighted=args.coactivation_weighted,
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
        if 2 <= model.n_dims <= 3:
            polys = ", ".join(q.name for q in toy.detect_polytopes(W))
        print(
            f"{dist.feature_probability[r, 0]:8.4f} {model.final_loss[r]:10.6f} "
            f"{toy.represented_count(W):11d} {toy.dimensions_per_feature(W):6.3f}  {polys}"
        )
    if args.output:
        toy.save_model(model, args.output)
        print(f"models written to {args.output}")
    return 0
