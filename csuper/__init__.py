"""csuper: superposition in neural networks, tested against compressed sensing.

Subpackages (imported on first use, so ``import csuper`` stays fast):

- :mod:`csuper.compare` -- learned toy models against compressed sensing and capacity theory
  (scaling laws, the decoder gap, Lagrangian capacity allocation, phase transitions).
- :mod:`csuper.diagnose` -- polysemanticity is not superposition: diagnostics with known-answer
  constructions, computation in superposition, incidental polysemanticity (``csuper diagnose``).
- :mod:`csuper.executor` -- one executor for sweeps: local processes or a Dask cluster.
- :mod:`csuper.geometry` -- interference and coherence of feature frames, packing bounds,
  random-vector laws, packings.
- :mod:`csuper.jl` -- Johnson–Lindenstrauss constructions, target-dimension bounds, distortion.
- :mod:`csuper.lab` -- the self-contained interactive page with views of superposition
  (``csuper lab``).
- :mod:`csuper.recovery` -- sparse recovery (cvxpy l1 programs, a fast batched basis-pursuit
  solver, optimality certificates), statistical-dimension theory, phase-transition experiments.
- :mod:`csuper.study` -- the study: toy models over a sparsity sweep tested against compressed
  sensing and Lagrangian capacity, written to a report folder (``csuper study``).
- :mod:`csuper.testing` -- hypothesis strategies and property checkers for users' own tests.
- :mod:`csuper.toy` -- toy models of superposition: feature data, a fast numba trainer, metrics.
- :mod:`csuper.sae` -- sparse autoencoders on data with known features, their metrics, and the
  amortisation gap against compressed-sensing inference (``csuper sae``).

csuper's own exception and warning classes live at the top level (``csuper.MemoryBudgetError``,
``csuper.StoreError``, ``csuper.CsuperWarning``, ...); each subclasses the built-in class a caller
would catch anyway (``ValueError``, ``RuntimeWarning``, ...). See :mod:`csuper._errors`.
"""

from __future__ import annotations

import importlib
from importlib.metadata import PackageNotFoundError, version

from csuper._errors import (
    ConvergenceWarning,
    CsuperWarning,
    MemoryBudgetError,
    MissingDependencyError,
    SAEDivergedError,
    SolverError,
    StoreCorruptionWarning,
    StoreError,
    StudyRecordError,
    TrainingDivergedError,
    ValidationError,
)

try:
    __version__ = version("csuper")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"

_SUBPACKAGES = (
    "geometry",
    "jl",
    "recovery",
    "toy",
    "sae",
    "diagnose",
    "compare",
    "study",
    "lab",
    "executor",
    "testing",
)

__all__ = [
    "__version__",
    *_SUBPACKAGES,
    "ValidationError",
    "MemoryBudgetError",
    "StoreError",
    "MissingDependencyError",
    "SolverError",
    "TrainingDivergedError",
    "SAEDivergedError",
    "StudyRecordError",
    "CsuperWarning",
    "ConvergenceWarning",
    "StoreCorruptionWarning",
]


def __getattr__(name: str):
    if name in _SUBPACKAGES:
        return importlib.import_module(f"csuper.{name}")
    raise AttributeError(f"module 'csuper' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
