"""Helpers shared by the geometry tests."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest


@pytest.fixture
def run_with_two_blas_threads():
    """Run a Python script in a subprocess with 2 OpenBLAS threads (a segfault there must not
    kill pytest) and check that it exits 0 and prints ``ok``."""

    def run(script: str) -> None:
        env = {**os.environ, "OPENBLAS_NUM_THREADS": "2"}
        proc = subprocess.run(
            [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=1800
        )
        assert proc.returncode == 0, (proc.returncode, proc.stderr[-2000:])
        assert proc.stdout.strip() == "ok"

    return run
