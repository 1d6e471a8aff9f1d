"""Private helpers shared by the recovery modules: matrix families, result objects, statuses,
quiet solver output."""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np

from csuper._validation import check_array, check_frame, check_int

#: Largest ``max_iter`` of the iterative solvers (:func:`~csuper.recovery.iht`,
#: :func:`~csuper.recovery.batch_basis_pursuit`): an iteration of IHT on a (64, 256) system takes
#: about 50 us, so 10**6 iterations are a minute there and hours on large systems, and a column
#: that has not converged by then will not (2**40 ran for weeks on a non-convergent column).
MAX_ITER = 10**6

#: Statuses a recovery result can carry. Only ``optimal`` means "this is the answer".
STATUSES = (
    "optimal",
    "optimal_inaccurate",
    "infeasible",
    "unbounded",
    "max_iter",
    "solver_error",
    "refuted",
)


def gaussian_matrix(m: int, n: int, rng: np.random.Generator) -> np.ndarray:
    """Entries i.i.d. N(0, 1/m): columns have expected squared norm 1."""
    return rng.standard_normal((m, n)) / np.sqrt(m)


def rademacher_matrix(m: int, n: int, rng: np.random.Generator) -> np.ndarray:
    """Entries i.i.d. +-1/sqrt(m) with probability 1/2 each: columns have unit norm."""
    return (2.0 * rng.integers(0, 2, size=(m, n)) - 1.0) / np.sqrt(m)


#: Random sensing-matrix families ``(m, n, rng) -> A``; any callable of that form also works.
MATRIX_FAMILIES: dict[str, Callable[[int, int, np.random.Generator], np.ndarray]] = {
    "gaussian": gaussian_matrix,
    "rademacher": rademacher_matrix,
}


def resolve_matrix(matrix) -> tuple[str, Callable | None, np.ndarray | None]:
    """A ``matrix`` argument as (label, family callable or None, fixed array or None): a name of
    :data:`MATRIX_FAMILIES`, a callable ``(m, n, rng) -> A`` or a fixed frame of shape (m, n)."""
    if isinstance(matrix, str):
        if matrix not in MATRIX_FAMILIES:
            raise ValueError(
                f"matrix must be one of {tuple(MATRIX_FAMILIES)}, a callable (m, n, rng) -> A or "
                f"an array of shape (m, n); got {matrix!r}."
            )
        return matrix, MATRIX_FAMILIES[matrix], None
    if callable(matrix):
        return getattr(matrix, "__name__", "callable"), matrix, None
    return "fixed", None, check_frame(matrix, "matrix", dtype=np.float64)


def draw_matrix(family, m: int, n: int, rng: np.random.Generator) -> np.ndarray:
    """Draw A of shape (m, n) from a family name in MATRIX_FAMILIES or a callable (m, n, rng) ->
    A."""
    if not isinstance(family, str) and not callable(family):
        raise TypeError(
            "matrix must be a family name, a callable (m, n, rng) -> A or an array; got "
            f"{type(family).__name__}."
        )
    _, fn, _ = resolve_matrix(family)
    assert fn is not None  # a name or a callable
    A = check_frame(
        fn(m, n, rng), "matrix (returned by the family)", allow_zero_columns=True, dtype=np.float64
    )
    if A.shape != (m, n):
        raise ValueError(f"matrix family returned shape {A.shape}; expected ({m}, {n}).")
    return A


def check_system(A, y, *, y_name: str = "y", batch: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Validate A (m, n) and y (m,) -- or Y (m, B) when ``batch`` -- as float64 arrays."""
    A = check_frame(A, "A", allow_zero_columns=True, dtype=np.float64)
    m = A.shape[0]
    if batch:
        y = check_array(y, y_name, ndim=(1, 2), dtype=np.float64)
        if y.ndim == 1:
            y = y[:, None]
    else:
        y = check_array(y, y_name, ndim=1, dtype=np.float64)
    if y.shape[0] != m:
        raise ValueError(
            f"{y_name} must have {m} rows to match A of shape {A.shape}; got shape {y.shape}."
        )
    return A, y


@dataclass(frozen=True)
class RecoveryResult:
    """Outcome of one recovery problem.

    Attributes
    ----------
    x : ndarray of shape (n,) or None
        The estimate. ``None`` when the problem is infeasible or unbounded or the solver failed;
        present but not to be trusted blindly when ``status`` is ``optimal_inaccurate`` or
        ``max_iter`` (check :attr:`ok`).
    status : str
        One of ``optimal`` (a verified optimum: the solver's answer passed a check of its
        feasibility and duality gap that does not trust the solver), ``optimal_inaccurate``
        (the solver's optimum failed that check), ``infeasible``, ``unbounded``, ``max_iter``,
        ``solver_error``.
    residual : float
        ``||A x - y||_2`` (NaN when ``x`` is None).
    objective : float
        The program's objective at ``x`` (NaN when ``x`` is None).
    solver : str
        Name of the solver that produced it.
    time : float
        Wall time in seconds (solve only, problem construction excluded for Parameter re-solves).
    n_iter : int
        Solver iterations when known, else -1.
    """

    x: np.ndarray | None
    status: str
    residual: float
    objective: float
    solver: str
    time: float
    n_iter: int = -1

    @property
    def ok(self) -> bool:
        """True when the answer is a verified optimum (status ``optimal``)."""
        return self.status == "optimal"

    def __repr__(self) -> str:
        n = "-" if self.x is None else self.x.size
        return (
            f"RecoveryResult(status={self.status!r}, n={n}, objective={self.objective:.6g}, "
            f"residual={self.residual:.3g}, solver={self.solver!r}, time={self.time:.3g}s)"
        )


@dataclass(frozen=True)
class BatchRecoveryResult:
    """Outcome of many problems sharing one matrix A (columns of Y).

    Attributes
    ----------
    x : ndarray, shape (n, B)
        Estimates, one column per right-hand side (NaN columns where no estimate exists).
    status : ndarray of str, shape (B,)
        Per-column status (see :class:`RecoveryResult`; ``refuted`` in decision mode).
        ``optimal`` from the batched solver means a verified optimality certificate.
    residual, objective : ndarray, shape (B,)
        ``||A x - y||_2`` and the objective per column.
    n_iter : ndarray of int, shape (B,)
        Iterations each column needed.
    solver : str
    time : float
        Total wall time in seconds.
    dual : ndarray, shape (m, B), optional
        Dual certificates nu (rows of A^T nu bounded by 1) where available, NaN elsewhere.
    """

    x: np.ndarray
    status: np.ndarray
    residual: np.ndarray
    objective: np.ndarray
    n_iter: np.ndarray
    solver: str
    time: float
    dual: np.ndarray | None = field(default=None, repr=False)

    @property
    def ok(self) -> np.ndarray:
        """Boolean mask of columns solved to a certified/accurate optimum."""
        return self.status == "optimal"

    def __len__(self) -> int:
        return int(self.x.shape[1])

    def __repr__(self) -> str:
        names, counts = np.unique(self.status, return_counts=True)
        tally = ", ".join(f"{s}: {c}" for s, c in zip(names.tolist(), counts.tolist()))
        return (
            f"BatchRecoveryResult(n={self.x.shape[0]}, columns={len(self)}, "
            f"status={{{tally}}}, solver={self.solver!r}, time={self.time:.3g}s)"
        )

    def __getitem__(self, j: int) -> RecoveryResult:
        j = check_int(j, "index", low=-len(self), high=len(self) - 1)
        x = self.x[:, j].copy()
        return RecoveryResult(
            x=None if np.isnan(x).any() else x,
            status=str(self.status[j]),
            residual=float(self.residual[j]),
            objective=float(self.objective[j]),
            solver=self.solver,
            time=self.time / max(len(self), 1),
            n_iter=int(self.n_iter[j]),
        )


_quiet_lock = threading.Lock()
_quiet_state = {"depth": 0, "saved": -1}


def _flush_c_stdout() -> None:
    """Flush the C library's stdout buffer (solvers written in C/C++ print through it)."""
    try:
        import ctypes

        ctypes.CDLL(None).fflush(None)
    except (OSError, AttributeError, TypeError):  # pragma: no cover - no C library to reach
        pass


@contextlib.contextmanager
def solver_output(verbose: bool) -> Iterator[None]:
    """Discard what solvers write to standard output (file descriptor 1) unless ``verbose``.

    HiGHS prints its banner through the C library to fd 1 the first time a solver object is
    created in a process, whatever its options, which corrupts output that is piped (``csuper
    phase --solver cvxpy > table.csv``). fd 1 is pointed at the null device while the block
    runs, after flushing Python's and the C library's buffers so that nothing written before is
    lost and nothing written inside leaks out later. Nested and concurrent uses share one
    redirection (a counter under a lock); output of other threads during the block is discarded
    too. Where fd 1 cannot be duplicated (no real standard output), nothing is redirected.
    """
    if verbose:
        yield
        return
    with _quiet_lock:
        if _quiet_state["depth"] == 0:
            try:
                sys.stdout.flush()
            except (AttributeError, ValueError, OSError):  # closed or replaced stdout
                pass
            _flush_c_stdout()
            try:
                saved = os.dup(1)
                devnull = os.open(os.devnull, os.O_WRONLY)
            except OSError:
                saved = -1
            else:
                os.dup2(devnull, 1)
                os.close(devnull)
            _quiet_state["saved"] = saved
        _quiet_state["depth"] += 1
    try:
        yield
    finally:
        with _quiet_lock:
            _quiet_state["depth"] -= 1
            if _quiet_state["depth"] == 0 and _quiet_state["saved"] >= 0:
                _flush_c_stdout()
                os.dup2(_quiet_state["saved"], 1)
                os.close(_quiet_state["saved"])
                _quiet_state["saved"] = -1
