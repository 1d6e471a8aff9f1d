"""Options and output helpers shared by subcommands: where the work runs (csuper.executor),
plot files, line counts."""

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


def check_plot_file(value: str, name: str):
    """Validate an image path before the work that draws it: its folder (as
    :func:`csuper._validation.check_output_file`) and its format, one matplotlib can write (a
    name without a suffix is written as PNG). Returns the path."""
    from matplotlib.backend_bases import FigureCanvasBase

    from csuper._validation import check_output_file

    path = check_output_file(value, name)
    formats = FigureCanvasBase.get_supported_filetypes()
    suffix = path.suffix[1:].lower()
    if suffix and suffix not in formats:
        raise ValueError(
            f"{name}: cannot write a .{suffix} image; give a file ending in one of "
            f"{', '.join('.' + f for f in sorted(formats))}; got {str(path)!r}."
        )
    return path


def count_text(x: float, log10: float) -> str:
    """A line count: exact digits up to 10^15, then 4 significant ones (6.864e+215, not 216
    digits), and as a power of ten from 1e299 on (the counts saturate at 1e300 or become inf
    where float64 ends; ``log10`` holds the value then)."""
    if x >= 1e299:
        return f"10^{log10:.1f}"
    return f"{x:.0f}" if x < 1e15 else f"{x:.4g}"
