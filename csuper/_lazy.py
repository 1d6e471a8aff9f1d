"""Deferred imports of heavy modules, so that ``import csuper.<topic>`` and ``csuper --help`` stay
fast.

numba (through the ``_*_kernels.py`` modules), cvxpy, scipy.stats, scipy.optimize, scipy.special
and matplotlib each cost a large fraction of a CPU-second to import. A library module names them
at the top as usual but binds a stand-in that imports the real module on first attribute
access::

    from csuper._lazy import lazy_import

    stats = lazy_import("scipy.stats")  # not: from scipy import stats
    _k = lazy_import("csuper.toy._train_kernels")  # not: from csuper.toy import _train_kernels

    def tail(t):
        return stats.norm.sf(t)  # scipy.stats is imported here, on the first call

A name imported from a heavy module (``from scipy.optimize import minimize``) is imported inside
the function that uses it instead. ``tests/test_startup.py`` checks that ``import csuper``,
``csuper --help`` and ``csuper <subcommand> --help`` import none of the heavy modules.
"""

from __future__ import annotations

import importlib
import types

__all__ = ["lazy_import"]


class _LazyModule(types.ModuleType):
    """Stand-in for a module that is imported on first attribute access (then every attribute
    read is cached on the stand-in, so later reads cost what a module attribute costs)."""

    def __getattr__(self, attr: str):
        if attr.startswith("__") and attr.endswith("__"):
            # introspection (copy, pickle, doctest, inspect) must not trigger the import
            raise AttributeError(attr)
        value = getattr(importlib.import_module(self.__name__), attr)
        setattr(self, attr, value)
        return value

    def __repr__(self) -> str:
        return f"<lazily imported module {self.__name__!r}>"


def lazy_import(name: str) -> types.ModuleType:
    """A stand-in for module ``name`` that imports it on first attribute access.

    Parameters
    ----------
    name : str
        Absolute module name, e.g. ``"scipy.stats"`` or ``"csuper.toy._train_kernels"``.

    Examples
    --------
    >>> import sys
    >>> fractions = lazy_import("fractions")
    >>> fractions.Fraction(1, 3) + fractions.Fraction(1, 6)
    Fraction(1, 2)
    >>> "fractions" in sys.modules
    True
    """
    return _LazyModule(name)
