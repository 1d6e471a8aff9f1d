"""Memory guard: estimate what an operation will allocate before it allocates, and refuse with a
clear message (what, how much, how much is available, what to do instead) instead of being killed
by the operating system's out-of-memory killer."""

from __future__ import annotations

import os

__all__ = ["InsufficientMemoryError", "available_memory", "check_memory", "format_bytes"]


class InsufficientMemoryError(MemoryError, ValueError):
    """The requested size needs more memory than is available (raised before allocating).

    A MemoryError by meaning and a ValueError by cause: the arguments ask for too much, so code
    that catches bad arguments (``except ValueError``) catches it too.
    """


def available_memory() -> int:
    """Bytes of physical memory available to new allocations (Linux: MemAvailable of
    /proc/meminfo; elsewhere the free pages reported by sysconf; 2**62 if unknown)."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return 2**62


def format_bytes(n: float) -> str:
    """``1.5 GiB`` style text."""
    units = ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB")
    for unit in units:
        if abs(n) < 1024 or unit == units[-1]:
            return f"{n:.1f} {unit}" if unit != "B" else f"{int(n)} B"
        n /= 1024
    raise AssertionError("unreachable")  # pragma: no cover


def check_memory(nbytes: float, what: str, alternative: str) -> None:
    """Raise InsufficientMemoryError before allocating ``nbytes`` if they exceed what is available.

    The message names the operation and its size (``what``), the estimate, the memory
    available, and ``alternative`` (the smaller or streamed way to get the result).

    Examples
    --------
    >>> check_memory(3 * 2**60, "an example of 3 * 2**57 doubles", "fewer doubles")
    Traceback (most recent call last):
    ...
    csuper.toy._memory.InsufficientMemoryError: an example of 3 * 2**57 doubles needs about 3.0 ...
    """
    available = available_memory()
    if nbytes > available:
        raise InsufficientMemoryError(
            f"{what} needs about {format_bytes(nbytes)}, more than the {format_bytes(available)} "
            f"of memory available; use {alternative}."
        )
