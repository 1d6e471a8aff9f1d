"""``csuper phase``: run a phase-transition experiment of l1 recovery and plot it."""

from __future__ import annotations

import argparse
import sys

DESCRIPTION = (
    "Draw sensing matrices and k-sparse signals over a grid of delta = m/n and rho = k/m, recover "
    "them by basis pursuit (nonnegative BP for nonnegative signals) and report the empirical "
    "success probability per cell; the statistical-dimension / Donoho-Tanner curve is drawn over "
    "the map. With --output, finished cells are stored as they complete and a rerun resumes. Cells "
    "run in this process, in --workers local processes or on a Dask --scheduler, with the same "
    "results."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register the options of ``csuper phase``."""
    from csuper.cli._options import add_executor_arguments
    from csuper.recovery import EXPERIMENT_SOLVERS, MATRIX_FAMILIES, SIGNAL_LAWS

    parser.add_argument("--n-features", type=int, default=200, help="signal dimension n")
    parser.add_argument(
        "--grid", type=int, default=20, help="grid points per axis (delta and rho in [1/grid, 1])"
    )
    parser.add_argument("--n-trials", type=int, default=20, help="signals per cell")
    parser.add_argument(
        "--matrix",
        choices=sorted(MATRIX_FAMILIES),
        default="gaussian",
        help="random family of the m x n sensing matrices",
    )
    parser.add_argument(
        "--signal",
        choices=sorted(SIGNAL_LAWS),
        default="gaussian",
        help="law of the k nonzero values: "
        + "; ".join(f"{name}: {law.description}" for name, law in sorted(SIGNAL_LAWS.items())),
    )
    parser.add_argument(
        "--solver",
        choices=sorted(EXPERIMENT_SOLVERS),
        default="admm",
        help="solver: admm (batched basis pursuit), highs or cvxpy (one LP per signal), omp or "
        "iht (greedy, told the true k; not basis pursuit)",
    )
    parser.add_argument(
        "--success-tol", type=float, default=1e-4, help="success: ||x_hat - x|| <= tol ||x||"
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed")
    parser.add_argument(
        "--output",
        "-o",
        default=None,
        metavar="DIR",
        help="folder for resumable results (records.jsonl)",
    )
    parser.add_argument(
        "--plot",
        default=None,
        metavar="PATH",
        help="write the success map to this image file (png/pdf/svg)",
    )
    add_executor_arguments(parser, default_workers="1")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    parser.add_argument(
        "--verbose",
        action="store_true",
        help="let the solvers print their logs to standard output (silent by default, so that "
        "the table can be piped)",
    )


def run(args: argparse.Namespace) -> int:
    """Run the experiment, print the table (CSV) and write the plot; returns 0."""
    import numpy as np

    from csuper._validation import check_int, check_output_folder
    from csuper.cli._options import check_plot_file
    from csuper.executor import make_executor
    from csuper.recovery import phase_transition

    if args.output:
        check_output_folder(args.output, "--output")
    if args.plot:
        check_plot_file(args.plot, "--plot")
    grid = check_int(args.grid, "--grid", low=1)
    check_int(args.seed, "--seed", low=0)
    axis = np.arange(1, grid + 1) / grid
    workers = 1 if args.workers is None and args.scheduler is None else args.workers
    with make_executor(workers=workers, scheduler=args.scheduler) as executor:
        res = phase_transition(
            args.n_features,
            deltas=axis,
            rhos=axis,
            n_trials=args.n_trials,
            matrix=args.matrix,
            signal=args.signal,
            solver=args.solver,
            success_tol=args.success_tol,
            rng=args.seed,
            progress=not args.no_progress,
            verbose=args.verbose,
            store=args.output,
            executor=executor,
        )
    cols = ["delta", "rho", "m", "k", "n_trials", "successes", "p_hat", "unsolved"]
    print(",".join(cols))
    for row in res.to_records():
        print(",".join(f"{row[c]:.4g}" if isinstance(row[c], float) else str(row[c]) for c in cols))
    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        ax = res.plot()
        ax.figure.savefig(args.plot, dpi=120, bbox_inches="tight")
        plt.close(ax.figure)
        print(f"plot written to {args.plot}", file=sys.stderr)
    return 0
