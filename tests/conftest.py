"""Shared test configuration.

Hypothesis profiles (choose with the environment variable ``HYPOTHESIS_PROFILE``):

- ``csuper`` (the default, CI): derandomized, so its examples are a function of the test, not of
  a global seed, and CI is reproducible; 50 examples per test unless a test says otherwise.
- ``nightly``: 20 times the examples, randomized (a different search every run; a failure
  prints the ``@reproduce_failure`` blob), for a scheduled run:
  ``HYPOTHESIS_PROFILE=nightly python -m pytest``.

No test seeds numpy's global state. ``deadline=None`` because the first call of a numba kernel
includes its compilation. The ``filter_too_much`` health check stays on: a property test whose
``assume()`` rejects most examples fails instead of passing without checking anything.

With ``CSUPER_KERNEL_AUDIT=FILE`` the session records which private numba kernel modules
(``csuper/**/_*_kernels.py``) ran Python code and writes their names to FILE; under
``NUMBA_DISABLE_JIT=1`` that proves the ``-m kernels`` subset exercises every kernel module
(``tests/test_tooling.py``).
"""

import os
import sys

from hypothesis import HealthCheck, settings

_SUPPRESS = [HealthCheck.too_slow, HealthCheck.data_too_large]

settings.register_profile(
    "csuper", derandomize=True, deadline=None, max_examples=50, suppress_health_check=_SUPPRESS
)
settings.register_profile(
    "nightly",
    derandomize=False,
    deadline=None,
    max_examples=1000,
    print_blob=True,
    suppress_health_check=_SUPPRESS,
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "csuper"))

_KERNEL_CALLS: set[str] = set()


def _record_kernel_calls(frame, event, arg):
    if event == "call":
        filename = frame.f_code.co_filename
        if filename.endswith("_kernels.py"):
            _KERNEL_CALLS.add(filename)


def pytest_sessionstart(session):
    if os.environ.get("CSUPER_KERNEL_AUDIT"):
        sys.setprofile(_record_kernel_calls)


def pytest_sessionfinish(session, exitstatus):
    path = os.environ.get("CSUPER_KERNEL_AUDIT")
    if path:
        sys.setprofile(None)
        with open(path, "w", encoding="utf-8") as fh:
            fh.write("\n".join(sorted(_KERNEL_CALLS)))
