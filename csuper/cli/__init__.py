"""The ``csuper`` command.

``csuper`` with no subcommand runs the main job (:data:`DEFAULT_COMMAND`). Each subcommand lives
in its own module under :mod:`csuper.cli` exposing ``HELP`` (one line), ``DESCRIPTION``,
``add_arguments(parser)`` and ``run(args) -> int``; :data:`SUBCOMMANDS` lists them in the order
``csuper --help`` shows them.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

SUBCOMMANDS: tuple[str, ...] = (
    "study",
    "demo",
    "bounds",
    "jl",
    "phase",
    "train",
    "compare",
    "sae",
    "lab",
    "diagnose",
)
DEFAULT_COMMAND = "study"


def build_parser() -> argparse.ArgumentParser:
    """Return the ``csuper`` argument parser with every subcommand registered."""
    from csuper import __version__

    parser = argparse.ArgumentParser(
        prog="csuper",
        description=(
            "Superposition in neural networks tested against compressed sensing. "
            f"With no subcommand, runs '{DEFAULT_COMMAND}' (the main job) with its defaults."
        ),
    )
    parser.add_argument("--version", action="version", version=f"csuper {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMANDS:
        module = importlib.import_module(f"csuper.cli.{name}")
        sub = subparsers.add_parser(
            name,
            help=module.HELP,
            description=module.DESCRIPTION,
            formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        )
        module.add_arguments(sub)
        sub.set_defaults(_run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``csuper`` console script; returns the exit status.

    Exit status 0 on success, 2 on bad usage (argparse's convention, also used for invalid
    option values detected after parsing), 1 on a failure while running.
    """
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or (argv[0].startswith("-") and argv[0] not in ("-h", "--help", "--version")):
        argv = [DEFAULT_COMMAND, *argv]
    args = parser.parse_args(argv)
    try:
        return int(args._run(args) or 0)
    except (ValueError, TypeError) as exc:
        print(f"csuper {args.command}: error: {exc}", file=sys.stderr)
        return 2
