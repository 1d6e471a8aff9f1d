"""Run csuper's benchmarks: ``python benchmarks/run.py [topic ...] [--quick]``.

Each ``benchmarks/bench_<topic>.py`` defines ``main(quick: bool = False)``; with no topic named,
all of them run in turn. ``--quick`` uses small sizes (a smoke run, not for the record).
"""

from __future__ import annotations

import argparse
import importlib
import pathlib
import sys

HERE = pathlib.Path(__file__).resolve().parent


def available() -> list[str]:
    return sorted(p.stem.removeprefix("bench_") for p in HERE.glob("bench_*.py"))


def main(argv: list[str] | None = None) -> int:
    topics = available()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "topics",
        nargs="*",
        choices=[*topics, []],
        metavar="TOPIC",
        help=f"benchmarks to run (default: all of {', '.join(topics)})",
    )
    parser.add_argument("--quick", action="store_true", help="small sizes, a smoke run")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(HERE))
    from _common import machine_info

    print(f"# machine: {machine_info()}")
    for topic in args.topics or topics:
        print(f"\n## {topic}")
        importlib.import_module(f"bench_{topic}").main(quick=args.quick)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
