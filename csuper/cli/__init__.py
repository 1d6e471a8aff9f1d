"""The ``csuper`` command.

``csuper`` with no subcommand runs the main job (:data:`DEFAULT_COMMAND`).

:data:`SUBCOMMANDS` is the registry of subcommands, and it is data: name -> the module that
implements it and its one-line help, in the order ``csuper --help`` shows them. Adding a
subcommand is one entry there and one module ``csuper/cli/<name>.py`` exposing

- ``DESCRIPTION``: the paragraph ``csuper <name> --help`` prints;
- ``add_arguments(parser)``: registers its options; it may import the library subpackage whose
  registries give the ``choices=`` (those imports must stay light: no numba, cvxpy, scipy.stats,
  scipy.optimize or matplotlib at import time; tests/test_startup.py checks it);
- ``run(args) -> int``: does the work; heavy imports go here, inside the function.

Nothing at the module level of a subcommand module imports more than the standard library.
``csuper --help`` imports no subcommand module at all, and ``csuper <name> ...`` imports only
``<name>``'s. Exit statuses: 0 success; 2 bad usage or an invalid value, output path, input
file or missing optional dependency, detected before the work starts (one line on stderr); 1 a
failure while running; 130 interrupted (Ctrl-C), with a one-line note; 141 (as for SIGPIPE),
silently, when the reader of the output went away (``csuper demo | head -1``).
"""

from __future__ import annotations

import argparse
import importlib
import os
import re
import sys
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Subcommand:
    """One entry of :data:`SUBCOMMANDS`.

    Attributes
    ----------
    module : str
        The module implementing it (``DESCRIPTION``, ``add_arguments``, ``run``).
    help : str
        The one line ``csuper --help`` shows.
    resumable : bool
        Its ``--output`` folder keeps finished work: an interrupted run says that rerunning the
        same command resumes it.
    """

    module: str
    help: str
    resumable: bool = False


#: The registry of subcommands: name -> :class:`Subcommand`, in ``csuper --help`` order.
SUBCOMMANDS: dict[str, Subcommand] = {
    "study": Subcommand(
        "csuper.cli.study",
        "the main job: do toy models pack features at a compressed-sensing rate? (eight questions)",
        resumable=True,
    ),
    "demo": Subcommand(
        "csuper.cli.demo",
        "print geometry facts: a random frame against packing bounds and random-vector laws",
    ),
    "bounds": Subcommand(
        "csuper.cli.bounds",
        "coherence lower bounds for N feature directions in R^d (and line counts for a coherence)",
    ),
    "jl": Subcommand(
        "csuper.cli.jl",
        "Johnson-Lindenstrauss bounds and measured target dimension of a construction",
    ),
    "phase": Subcommand(
        "csuper.cli.phase",
        "empirical l1-recovery phase transition over a (delta, rho) grid, with the theory curve",
        resumable=True,
    ),
    "train": Subcommand(
        "csuper.cli.train",
        "train toy models of superposition (Elhage et al. 2022) over a sparsity sweep",
    ),
    "compare": Subcommand(
        "csuper.cli.compare",
        "compare a saved toy model with compressed sensing (scaling, decoder gap, capacities)",
    ),
    "sae": Subcommand(
        "csuper.cli.sae",
        "sparse autoencoders on data with known features: recovery and the amortisation gap",
        resumable=True,
    ),
    "lab": Subcommand(
        "csuper.cli.lab",
        "write one self-contained interactive HTML page with views of superposition",
    ),
    "diagnose": Subcommand(
        "csuper.cli.diagnose",
        "tell polysemanticity from superposition (saved models, activations, constructions)",
    ),
    "pricing": Subcommand(
        "csuper.cli.pricing",
        "the interference-pricing frontier: does a price on interference buy legibility cheaply?",
        resumable=True,
    ),
}
DEFAULT_COMMAND = "study"


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """argparse's default-showing formatter, without the noise: an option whose help already
    states its default (``"... (default: every CPU)"``), a required option, a flag, and an option
    whose default is None (absent) get no ``(default: ...)`` appended."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        help = action.help or ""
        if (
            action.required
            or any(action.default is absent for absent in (None, False, argparse.SUPPRESS))
            or re.search(r"\(default\b|\bdefault:", help)
        ):
            return action.help
        return super()._get_help_string(action)


def build_parser(commands: Iterable[str] | None = None) -> argparse.ArgumentParser:
    """Return the ``csuper`` argument parser.

    Parameters
    ----------
    commands : iterable of str, optional
        Subcommands whose options are registered (their modules are imported). Default: all
        of them. Every subcommand is listed in ``csuper --help`` either way; :func:`main`
        registers only the one it runs, so that ``csuper --help`` imports none.
    """
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
    full = set(SUBCOMMANDS if commands is None else commands)
    for name, entry in SUBCOMMANDS.items():
        if name not in full:
            subparsers.add_parser(name, help=entry.help)
            continue
        module = importlib.import_module(entry.module)
        sub = subparsers.add_parser(
            name,
            help=entry.help,
            description=module.DESCRIPTION,
            formatter_class=HelpFormatter,
        )
        module.add_arguments(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``csuper`` console script; returns the exit status.

    Exit status 0 on success; 2 on bad usage (argparse's convention) or on an invalid value,
    output path, input file or missing optional dependency detected before the work starts;
    1 on a failure while running; 130 when interrupted (Ctrl-C); 141 when standard output is
    a pipe whose reader went away. Warnings print as one line each.
    """
    from csuper._errors import MissingDependencyError

    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or (argv[0].startswith("-") and argv[0] not in ("-h", "--help", "--version")):
        argv = [DEFAULT_COMMAND, *argv]
    command = argv[0] if argv[0] in SUBCOMMANDS else None
    prog = f"csuper {command}" if command else "csuper"

    def show_warning(message, category, filename, lineno, file=None, line=None) -> None:
        print(f"{prog}: warning: {message}", file=sys.stderr)

    args = None
    parser = None
    try:
        parser = build_parser([] if command is None else [command])
        args = parser.parse_args(argv)
        run = importlib.import_module(SUBCOMMANDS[args.command].module).run
        with warnings.catch_warnings():
            warnings.showwarning = show_warning
            status = int(run(args) or 0)
        sys.stdout.flush()  # a closed pipe shows here, not in the interpreter's exit
        return status
    except BrokenPipeError:  # the reader went away (csuper demo | head -1): stop quietly
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError):  # stdout without a file descriptor
            pass
        return 141
    except KeyboardInterrupt:
        output = getattr(args, "output", None)
        note = ""
        if command and SUBCOMMANDS[command].resumable and output:
            note = f"; finished work is saved in {output}, rerun the same command to resume"
        print(f"\n{prog}: interrupted{note}.", file=sys.stderr)
        return 130
    except (ValueError, TypeError, MissingDependencyError) as exc:
        # invalid values, output paths and input files are checked before the work starts
        print(f"{prog}: error: {_name_the_flag(str(exc), parser, command)}", file=sys.stderr)
        return 2


def _name_the_flag(message: str, parser: argparse.ArgumentParser | None, command: str | None):
    """A library error that starts with a parameter name (``"n_features must be ..."``) names
    the subcommand's flag instead (``"--n-features must be ..."``) when it has one of that
    name: the vocabulary gives each idea one name in the library and on the command line."""
    match = re.match(r"([a-z][a-z0-9_]*) must\b", message)
    if match is None or parser is None or command is None:
        return message
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction) and command in action.choices:
            for option in action.choices[command]._actions:
                if option.dest == match.group(1) and option.option_strings:
                    flag = max(option.option_strings, key=len)
                    return flag + message[match.end(1) :]
    return message
