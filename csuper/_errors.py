"""csuper's own exception and warning classes (all exported from :mod:`csuper`).

Each subclasses the built-in class a caller would catch without knowing csuper (``ValueError``,
``RuntimeError``, ``ImportError``, ``RuntimeWarning``), so that ``except ValueError`` keeps
working, while ``except csuper.MemoryBudgetError`` (or a warnings filter on
``csuper.CsuperWarning``) picks out csuper's own cases.

- :class:`ValidationError` (``ValueError``): an argument is outside the domain of the function.
- :class:`MemoryBudgetError` (``ValidationError`` and ``MemoryError``): a call would allocate more
  than csuper's memory budget (:func:`csuper._validation.check_memory`).
- :class:`StoreError` (``ValueError``): a results folder is not csuper's, or holds another
  experiment or configuration; nothing was written to it.
- :class:`MissingDependencyError` (``ImportError``): an optional dependency is missing; the
  message names the extra that installs it.
- :class:`SolverError` (``RuntimeError``): an external solver failed in a way no result status
  can describe.
- :class:`TrainingDivergedError` (``RuntimeError``): training produced a non-finite loss or
  gradient (:func:`csuper.toy.train`); :class:`SAEDivergedError`, one of them, for
  :func:`csuper.sae.train_sae`.
- :class:`StudyRecordError` (``ValueError``): a stored study record does not match this csuper's
  schema.
- :class:`CsuperWarning` (``RuntimeWarning``): the base class of csuper's warnings;
  :class:`ConvergenceWarning`: a numerical method stopped without the accuracy it promises;
  :class:`StoreCorruptionWarning`: a results file has unreadable lines (each is reported by
  number, skipped and recomputed).

This module imports nothing (it sits at the bottom of the import layers with
:mod:`csuper._validation`).
"""

from __future__ import annotations

__all__ = [
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


class ValidationError(ValueError):
    """An argument is outside the domain of the function (raised by csuper's validation)."""


class MemoryBudgetError(ValidationError, MemoryError):
    """A call would allocate more than csuper's memory budget
    (:func:`csuper._validation.check_memory`).

    A ``ValueError`` (the input asks for too much) and a ``MemoryError`` (what it would become).
    The message names the size, the estimate, the budget and what to do instead.
    """


class StoreError(ValueError):
    """A results folder cannot be used: it is not csuper's (it holds other files, or lost its
    header), or it holds another experiment or configuration. Nothing was written to it."""


class MissingDependencyError(ImportError):
    """An optional dependency is not installed; the message names the extra that installs it
    (for example ``pip install 'csuper[dask]'``)."""


class SolverError(RuntimeError):
    """An external solver failed in a way no result status can describe."""


class TrainingDivergedError(RuntimeError):
    """Training produced a non-finite loss or gradient.

    Attributes
    ----------
    instance, step : int
        First diverged instance (index into the instances trained, seeds included) and its step.
    model : csuper.toy.ToyModel or None
        For :func:`csuper.toy.train`: every instance as trained up to the chunk in which the
        divergence happened (the diverged ones as they were before their bad step); loss_history
        is NaN after that. None for an SAE.
    """

    def __init__(self, message: str, instance: int, step: int, model: object = None):
        super().__init__(message)
        self.instance = instance
        self.step = step
        self.model = model


class SAEDivergedError(TrainingDivergedError):
    """A sparse autoencoder's training produced a non-finite loss or gradient; ``.instance``,
    ``.step`` name it (:func:`csuper.sae.train_sae`)."""


class StudyRecordError(ValueError):
    """A stored study record does not match this csuper's schema."""


class CsuperWarning(RuntimeWarning):
    """Base class of csuper's warnings."""


class ConvergenceWarning(CsuperWarning):
    """A numerical method stopped without the accuracy it promises (the result says how far)."""


class StoreCorruptionWarning(CsuperWarning):
    """A results file has lines that are not valid records; each is reported by line number,
    skipped, and its work is recomputed (every valid record is kept)."""
