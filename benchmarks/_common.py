"""Shared helpers for csuper's benchmarks: machine facts, timing, peak memory, tables."""

from __future__ import annotations

import os
import platform
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np


def machine_info() -> str:
    """One line naming the machine, Python and the key libraries (goes into
    benchmarks/README.md)."""
    import numba
    import scipy

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return (
        f"{cpu}, {os.cpu_count()} cores; Python {platform.python_version()}, numpy "
        f"{np.__version__}, "
        f"scipy {scipy.__version__}, numba {numba.__version__}"
    )


def best_time(fn: Callable[[], Any], repeat: int = 3) -> float:
    """Best wall time in seconds of ``repeat`` calls of ``fn`` (call it once before to warm up)."""
    best = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def peak_memory(fn: Callable[[], Any]) -> int:
    """Peak bytes allocated through Python's allocators (numpy included) while ``fn`` runs."""
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def print_table(headers: list[str], rows: list[list[Any]]) -> None:
    """Print a Markdown table (pasteable into benchmarks/README.md)."""
    cells = [[str(c) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]
    print("| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in cells:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths)) + " |")
