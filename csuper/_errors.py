"""csuper's own exception and warning classes.

Each subclasses the built-in class a caller would catch without knowing csuper
(``ValueError``, ``RuntimeError``, ``RuntimeWarning``), so ``except ValueError`` keeps working.
"""

from __future__ import annotations

__all__ = ["ConvergenceWarning", "CsuperWarning", "SolverError", "ValidationError"]


class CsuperWarning(RuntimeWarning):
    """Base class of csuper's warnings."""


class ConvergenceWarning(CsuperWarning):
    """A numerical method stopped without the accuracy it promises (the result says how far)."""


class SolverError(RuntimeError):
    """An external solver failed in a way no result status can describe."""


class ValidationError(ValueError):
    """An argument is outside the domain of the function (raised by csuper's validation)."""
