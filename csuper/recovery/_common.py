"""Private helpers shared by the recovery modules: matrix families, result objects, statuses."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from csuper._validation import check_array, check_frame, check_int

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


def draw_matrix(family, m: int, n: int, rng: np.random.Generator) -> np.ndarray:
    """Draw A of shape (m, n) from a family name in MATRIX_FAMILIES or a callable (m, n, rng) ->
    A."""
    if isinstance(family, str):
        if family not in MATRIX_FAMILIES:
            raise ValueError(
                f"matrix must be one of {tuple(MATRIX_FAMILIES)}, a callable (m, n, rng) -> A or "
                "an "
                f"array; got {family!r}."
            )
        fn = MATRIX_FAMILIES[family]
    elif callable(family):
        fn = family
    else:
        raise TypeError(
            "matrix must be a family name, a callable (m, n, rng) -> A or an array; got "
            f"{type(family).__name__}."
        )
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
        One of ``optimal``, ``optimal_inaccurate``, ``infeasible``, ``unbounded``, ``max_iter``,
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
        """True when the solver reports an accurate optimum."""
        return self.status == "optimal"


@dataclass(frozen=True)
class BatchRecoveryResult:
    """Outcome of many problems sharing one matrix A (columns of Y).

    Attributes
    ----------
    x : ndarray, shape (n, B)
        Estimates, one column per right-hand side (NaN columns where no estimate exists).
    status : ndarray of str, shape (B,)
        Per-column status (see :class:`RecoveryResult`). ``optimal`` from the batched solver
        means a verified optimality certificate.
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
