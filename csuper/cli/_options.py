"""Options shared by subcommands that run sweeps: where the work runs (csuper.executor)."""

from __future__ import annotations

import argparse


def add_executor_arguments(parser: argparse.ArgumentParser, *, default_workers: str) -> None:
    """Register ``--workers`` and ``--scheduler``."""
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        metavar="N",
        help=f"local worker processes (1 runs in this process; default: {default_workers})",
    )
    parser.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help="run on a Dask cluster instead, e.g. tcp://host:8786 "
        "(needs pip install 'csuper[dask]'); results equal the local run's",
    )
