"""``csuper lab``: write the self-contained interactive lab page (see :mod:`csuper.lab`)."""

from __future__ import annotations

import argparse

DESCRIPTION = (
    "Train the toy models the page needs (privileged-basis models over a sparsity grid; m = 2 "
    "models for n = 3..8 features; sparse autoencoders on the pentagon's activations), measure "
    "them with csuper's metrics, and write a single HTML file with the numbers embedded: "
    "neurons against features as sparsity grows, interference between two features, packing "
    "features into two dimensions, and an SAE reading the features back. The page "
    "works offline from file:// in any browser: no server, no CDN, no network access."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register the options of ``csuper lab``."""
    from csuper.lab import DEFAULT_OUTPUT

    parser.add_argument(
        "-o", "--output", default=DEFAULT_OUTPUT, metavar="PATH", help="the HTML file to write"
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="small grids and short training (seconds; for tests and previews)",
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed (same seed, same page)")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bars")


def run(args: argparse.Namespace) -> int:
    """Build and write the page; returns the exit status."""
    import time

    from csuper._validation import check_int, check_output_file
    from csuper.lab import LabConfig, quick_config, write_lab

    check_output_file(args.output, "--output")
    seed = check_int(args.seed, "--seed", low=0)
    config = quick_config() if args.quick else LabConfig()
    progress = not args.no_progress
    if progress:
        print(
            "csuper lab: training the models behind the page (numba compiles its kernels on "
            "first use; later runs reuse the cache)"
        )
    start = time.perf_counter()
    page = write_lab(args.output, config=config, rng=seed, progress=progress)
    print(
        f"lab page written to {page.path} ({page.n_bytes / 1e3:.0f} kB, payload "
        f"{page.payload_bytes / 1e3:.0f} kB, built in {time.perf_counter() - start:.1f} s); "
        "open it in a browser"
    )
    return 0
