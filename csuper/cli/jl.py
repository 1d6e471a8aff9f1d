"""``csuper jl``: JL target-dimension bounds and, optionally, the measured smallest m."""

from __future__ import annotations

import argparse

DESCRIPTION = (
    "Print every registered Johnson-Lindenstrauss bound on the target dimension m for N points "
    "and distortion eps, then (unless --bounds-only) measure with random point sets how often a "
    "construction keeps all pairwise squared distances within 1 +- eps over a grid of m, and the "
    "smallest m that succeeds with probability 1 - delta."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register the options of ``csuper jl``."""
    from csuper.jl import CONSTRUCTIONS, POINT_SETS

    parser.add_argument(
        "--construction",
        choices=sorted(CONSTRUCTIONS),
        default="gaussian",
        help="JL construction to measure",
    )
    parser.add_argument(
        "--n-points",
        type=int,
        nargs="+",
        default=[50],
        help="number(s) of points N (one experiment each)",
    )
    parser.add_argument("--n-features", type=int, default=1000, help="input dimension n")
    parser.add_argument("--eps", type=float, default=0.5, help="distortion eps in (0, 1)")
    parser.add_argument(
        "--failure-probability",
        type=float,
        default=0.1,
        help="delta: the success probability sought is 1 - delta",
    )
    parser.add_argument(
        "--n-dims",
        type=int,
        nargs="+",
        default=None,
        help="grid of target dimensions m (default: geometric up to the bound)",
    )
    parser.add_argument("--n-trials", type=int, default=30, help="trials per m")
    parser.add_argument(
        "--nnz-per-column",
        type=int,
        default=None,
        help="nonzeros s per column for --construction sparse-jl (default: min(8, m))",
    )
    parser.add_argument(
        "--points",
        choices=sorted(POINT_SETS),
        default="gaussian",
        help="random point sets: standard normal, or standard basis vectors",
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed")
    parser.add_argument(
        "--plot",
        default=None,
        metavar="PATH",
        help="save the plot of empirical vs guaranteed m to PATH (png/pdf/svg)",
    )
    parser.add_argument("--bounds-only", action="store_true", help="print the bounds and stop")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def run(args: argparse.Namespace) -> int:
    """Run ``csuper jl``; returns the exit status."""
    from csuper._validation import check_int
    from csuper.cli._options import check_plot_file
    from csuper.jl import BOUNDS, distortion_experiment, larsen_nelson_lower_bound, min_dim

    if args.plot:
        if args.bounds_only:
            raise ValueError("--plot draws the measured m, which --bounds-only skips; drop one.")
        check_plot_file(args.plot, "--plot")
    check_int(args.seed, "--seed", low=0)
    delta = args.failure_probability
    for N in args.n_points:
        print(f"Bounds on m for N={N}, eps={args.eps:g}, delta={delta:g}, n={args.n_features}:")
        for name, b in BOUNDS.items():
            m = min_dim(
                N, args.eps, bound=name, failure_probability=delta, n_features=args.n_features
            )
            print(f"  {name:15s} m = {m:<10d} {b.summary}")
        try:
            low = larsen_nelson_lower_bound(N, args.eps, n_features=max(args.n_features, 2))
            print(
                f"  Larsen-Nelson lower-bound order ln(eps^2 N)/eps^2 = {low:.1f} "
                "(constant omitted)"
            )
        except ValueError as exc:
            print(f"  Larsen-Nelson lower bound: not applicable ({exc})")
    if args.bounds_only:
        return 0
    params = {}
    if args.nnz_per_column is not None:
        if args.construction != "sparse-jl":
            raise ValueError(
                "--nnz-per-column applies only to --construction sparse-jl; "
                f"got --construction {args.construction}."
            )
        params["nnz_per_column"] = args.nnz_per_column
    results = []
    for i, N in enumerate(args.n_points):
        result = distortion_experiment(
            args.construction,
            N,
            args.n_features,
            args.eps,
            n_dims=args.n_dims,
            n_trials=args.n_trials,
            failure_probability=delta,
            points=args.points,
            construction_params=params,
            rng=[args.seed, i],
            progress=not args.no_progress,
        )
        results.append(result)
        print()
        print(result.summary())
    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        from csuper.jl import plot_min_dims

        ax = plot_min_dims(results)
        ax.figure.tight_layout()
        ax.figure.savefig(args.plot, dpi=120)
        plt.close(ax.figure)
        print(f"plot written to {args.plot}")
    return 0
