"""Start-up cost of ``import csuper`` and of the ``csuper`` command's help (issue 17, item 6).

Each command runs in a fresh interpreter (``sys.executable``), best of ``repeat`` runs, next to
the baseline of an interpreter that only imports numpy (what every csuper entry point needs at
least). CPU seconds are the child's user + system time (``resource.getrusage``), so other jobs
on the machine inflate them less than wall time. Module counts come from ``-X importtime``
(every module imported, csuper's own included); "heavy" lists the heavy libraries that were
imported (tests/test_startup.py asserts there are none).
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys

HEAVY = ("cvxpy", "numba", "scipy.stats", "scipy.optimize", "matplotlib")

#: label -> Python arguments
COMMANDS: dict[str, list[str]] = {
    "python -c 'import numpy' (baseline)": ["-c", "import numpy"],
    "import csuper": ["-c", "import csuper"],
    "csuper --help": ["-m", "csuper", "--help"],
    "csuper phase --help": ["-m", "csuper", "phase", "--help"],
    "csuper study --help": ["-m", "csuper", "study", "--help"],
    "csuper train --help": ["-m", "csuper", "train", "--help"],
    "import csuper.toy": ["-c", "import csuper.toy"],
}


def imported_modules(args: list[str]) -> list[str]:
    """Every module the interpreter imports running ``python -X importtime ARGS``."""
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    res = subprocess.run(
        [sys.executable, "-X", "importtime", *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    names = []
    for line in res.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            name = line.rsplit("|", 1)[1].strip()
            if name != "imported package":  # the header line
                names.append(name)
    return names


def cpu_seconds(args: list[str]) -> float:
    """User + system CPU seconds of one run of ``python ARGS``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run([sys.executable, *args], capture_output=True, check=False)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main(quick: bool = False) -> None:
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from _common import print_table

    repeat = 2 if quick else 5
    with open("/proc/loadavg") as fh:
        print(f"load average: {fh.read().split()[0]}; best of {repeat} runs each")
    rows = []
    base = None
    for label, args in COMMANDS.items():
        cpu = min(cpu_seconds(args) for _ in range(repeat))
        base = cpu if base is None else base
        mods = imported_modules(args)
        heavy = sorted({h for h in HEAVY for m in mods if m == h or m.startswith(h + ".")})
        rows.append(
            [label, f"{cpu:.3f}", f"{cpu / base:.2f}x", len(mods), ", ".join(heavy) or "none"]
        )
    print_table(["command", "CPU s", "vs baseline", "modules", "heavy modules imported"], rows)


if __name__ == "__main__":
    main()
