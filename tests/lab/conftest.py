"""The lab page built once per test session (``--quick`` configuration, seed 0)."""

from __future__ import annotations

import pytest

from csuper.lab import quick_config, write_lab


@pytest.fixture(scope="session")
def quick_page(tmp_path_factory):
    """A :class:`csuper.lab.LabPage` of the quick configuration, written to a temporary file."""
    return write_lab(tmp_path_factory.mktemp("lab") / "lab.html", config=quick_config(), rng=0)
