"""Phase-transition experiments: empirical success probability of l1 recovery over a grid."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from csuper._store import ResultStore, make_key
from csuper._validation import (
    check_array,
    check_bool,
    check_int,
    check_memory,
    check_real,
    check_rng,
)
from csuper.recovery._common import draw_matrix, resolve_matrix
from csuper.recovery.batch import batch_basis_pursuit
from csuper.recovery.convex import L1Problem, highs_basis_pursuit
from csuper.recovery.greedy import iht, omp
from csuper.recovery.theory import statistical_dimension, transition_width, weak_threshold

__all__ = [
    "SIGNAL_LAWS",
    "EXPERIMENT_SOLVERS",
    "PhaseTransitionResult",
    "draw_sparse",
    "phase_transition",
]


def _gaussian_values(k, rng):
    return rng.standard_normal(k)


def _sign_values(k, rng):
    return 2.0 * rng.integers(0, 2, size=k) - 1.0


def _uniform_values(k, rng):
    return rng.uniform(0.0, 1.0, size=k)


@dataclass(frozen=True)
class SignalLaw:
    """A law of k-sparse signals of :data:`SIGNAL_LAWS`: a uniformly random k-subset as support,
    values drawn by ``sample(k, rng)``; a ``nonnegative`` law is recovered by the nonnegative
    program."""

    name: str
    sample: Callable[[int, np.random.Generator], np.ndarray]
    nonnegative: bool
    description: str

    def __repr__(self) -> str:
        return f"SignalLaw({self.name!r}: {self.description})"


#: Signal laws by name: the single place that maps a name to its sampler and its program (read by
#: :func:`draw_sparse`, :func:`phase_transition`, the CLI and the tests).
SIGNAL_LAWS: dict[str, SignalLaw] = {
    law.name: law
    for law in (
        SignalLaw("gaussian", _gaussian_values, False, "N(0, 1) values, signed program"),
        SignalLaw("sign", _sign_values, False, "+-1 values, signed program"),
        SignalLaw("uniform", _uniform_values, True, "U(0, 1) values, nonnegative program"),
    )
}


def _signal_law(signal) -> SignalLaw:
    if not isinstance(signal, str) or signal not in SIGNAL_LAWS:
        raise ValueError(f"signal must be one of {tuple(SIGNAL_LAWS)}; got {signal!r}.")
    return SIGNAL_LAWS[signal]


def draw_sparse(
    n_features: int, k: int, n_trials: int, signal: str = "gaussian", *, rng=None
) -> np.ndarray:
    """Draw ``n_trials`` k-sparse signals in R^n (columns) from a law of :data:`SIGNAL_LAWS`.

    Examples
    --------
    >>> X = draw_sparse(10, 3, 4, "uniform", rng=0)
    >>> X.shape, (X != 0).sum(axis=0).tolist(), bool((X >= 0).all())
    ((10, 4), [3, 3, 3, 3], True)
    """
    n = check_int(n_features, "n_features", low=1)
    k = check_int(k, "k", low=0, high=n)
    n_trials = check_int(n_trials, "n_trials", low=1)
    law = _signal_law(signal)
    rng = check_rng(rng)
    check_memory(
        8.0 * n * n_trials,
        f"draw_sparse of n_features={n}, n_trials={n_trials} (an n x n_trials float64 array)",
        "draw fewer trials at a time",
    )
    values = law.sample
    X = np.zeros((n, n_trials))
    for t in range(n_trials):
        S = rng.choice(n, size=k, replace=False)
        X[S, t] = values(k, rng)
    return X


def _solve_admm(A, Y, X0, nonnegative, verbose):
    res = batch_basis_pursuit(A, Y, nonnegative=nonnegative, reference=X0)
    return res.x, res.status


def _solve_highs(A, Y, X0, nonnegative, verbose):
    out = [
        highs_basis_pursuit(A, Y[:, j], nonnegative=nonnegative, verbose=verbose)
        for j in range(Y.shape[1])
    ]
    return _stack(out, A.shape[1])


def _solve_cvxpy(A, Y, X0, nonnegative, verbose):
    prob = L1Problem(A, "bp", nonnegative=nonnegative, verbose=verbose)
    out = [prob.solve(Y[:, j]) for j in range(Y.shape[1])]
    return _stack(out, A.shape[1])


def _stack(results, n):
    X = np.column_stack([r.x if r.x is not None else np.full(n, np.nan) for r in results])
    return X, np.array([r.status for r in results])


def _solve_omp(A, Y, X0, nonnegative, verbose):
    k = max(1, int((X0 != 0).sum(axis=0).max()))
    res = omp(A, Y, min(k, A.shape[1]), nonnegative=nonnegative)
    return res.x, res.status


def _solve_iht(A, Y, X0, nonnegative, verbose):
    k = max(1, int((X0 != 0).sum(axis=0).max()))
    res = iht(A, Y, min(k, A.shape[1]), nonnegative=nonnegative)
    return res.x, res.status


#: Most (delta, rho) cells :func:`phase_transition` accepts (a 1000 x 1000 grid): each cell draws
#: a matrix and solves n_trials programs (milliseconds each), so 10**6 cells are hours to days,
#: and the cell list of a 10**5 x 10**5 grid (``csuper phase --grid 100000``) exhausted memory.
MAX_CELLS = 10**6

#: Solvers of the experiment: name -> (A, Y, X_planted, nonnegative, verbose) -> (X_hat, status).
#: ``admm`` is the batched solver (stops early on a proof of failure, see
#: :func:`batch_basis_pursuit`'s ``reference``); ``highs`` / ``cvxpy`` solve one LP per trial;
#: ``omp`` / ``iht`` are greedy baselines told the true k.
EXPERIMENT_SOLVERS: dict[str, Callable] = {
    "admm": _solve_admm,
    "highs": _solve_highs,
    "cvxpy": _solve_cvxpy,
    "omp": _solve_omp,
    "iht": _solve_iht,
}

_COLUMNS = (
    "delta",
    "rho",
    "n",
    "m",
    "k",
    "n_trials",
    "successes",
    "p_hat",
    "se",
    "unsolved",
    "seconds",
)


@dataclass(frozen=True)
class PhaseTransitionResult:
    """Outcome of :func:`phase_transition`: a tidy table, one row per grid cell.

    Attributes
    ----------
    table : dict of str -> ndarray
        Columns ``delta`` (m/n requested), ``rho`` (k/m requested), ``n``, ``m``, ``k``,
        ``n_trials``, ``successes``, ``p_hat`` (successes / n_trials), ``se`` (binomial standard
        error ``sqrt(p (1 - p) / n_trials)``), ``unsolved`` (trials whose solver did not report an
        optimum and that counted as failures), ``seconds``.
    deltas, rhos : ndarray
        The grid axes.
    signal : str
    nonnegative : bool
        Which program was solved (and which theory curve applies).
    config : dict
        Everything else that defines the run (matrix, solver, tolerance, seed).
    """

    table: dict
    deltas: np.ndarray
    rhos: np.ndarray
    signal: str
    nonnegative: bool
    config: dict = field(default_factory=dict)

    def __repr__(self) -> str:
        t = self.table
        program = "nonnegative" if self.nonnegative else "signed"
        return (
            f"PhaseTransitionResult(n={int(t['n'][0])}, signal={self.signal!r} ({program}), "
            f"grid={self.deltas.size} deltas x {self.rhos.size} rhos, "
            f"trials={int(t['n_trials'].sum())}, successes={int(t['successes'].sum())}, "
            f"unsolved={int(t['unsolved'].sum())})"
        )

    def success_grid(self) -> np.ndarray:
        """Empirical success probabilities, shape (len(rhos), len(deltas))."""
        P = np.full((self.rhos.size, self.deltas.size), np.nan)
        for d, r, p in zip(self.table["delta"], self.table["rho"], self.table["p_hat"]):
            i = int(np.argmin(np.abs(self.rhos - r)))
            j = int(np.argmin(np.abs(self.deltas - d)))
            P[i, j] = p
        return P

    def to_records(self) -> list[dict]:
        """The table as a list of row dicts."""
        cols = list(self.table)
        return [{c: self.table[c][i].item() for c in cols} for i in range(len(self.table["m"]))]

    def plot(self, ax=None, *, theory: bool = True, width_eta: float | None = None):
        """Draw the empirical success-probability map with the theoretical curve over it.

        Parameters
        ----------
        ax : matplotlib Axes, optional
        theory : bool
            Overlay the asymptotic weak threshold rho_W(delta) (= the statistical-dimension
            curve, signed or nonnegative as solved).
        width_eta : float, optional
            Also draw the finite-n curves ``m = delta(n, k) -+ transition_width(n, eta)``.

        Returns
        -------
        matplotlib Axes
        """
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(5.5, 4.5))
        P = self.success_grid()
        d, r = self.deltas, self.rhos
        mesh = ax.pcolormesh(
            _edges(d), _edges(r), P, vmin=0.0, vmax=1.0, cmap="viridis", shading="flat"
        )
        ax.figure.colorbar(mesh, ax=ax, label="empirical P(success)")
        program = "nonnegative" if self.nonnegative else "signed"
        if theory:
            dd = np.linspace(max(d.min(), 1e-3), min(d.max(), 0.999), 200)
            ax.plot(
                dd,
                weak_threshold(dd, nonnegative=self.nonnegative),
                "r-",
                lw=2,
                label=f"statistical dimension = weak threshold ({program})",
            )
        if width_eta is not None:
            n = int(self.table["n"][0])
            w = transition_width(n, width_eta)
            ks = np.arange(1, n)
            dk = np.array(
                [statistical_dimension(n, int(k), nonnegative=self.nonnegative) for k in ks]
            )
            for sgn in (-1, 1):
                mm = dk + sgn * w
                ok = (mm > 0) & (mm <= n)
                ax.plot(mm[ok] / n, ks[ok] / mm[ok], "r--", lw=1)
        ax.set_xlabel(r"$\delta = m / n$")
        ax.set_ylabel(r"$\rho = k / m$")
        ax.set_xlim(_edges(d)[0], _edges(d)[-1])
        ax.set_ylim(_edges(r)[0], _edges(r)[-1])
        ax.set_title(f"n = {int(self.table['n'][0])}, signal = {self.signal}")
        if theory:
            ax.legend(loc="upper left", fontsize=8)
        return ax


def _edges(c: np.ndarray) -> np.ndarray:
    if c.size == 1:
        return np.array([c[0] - 0.5 * max(c[0], 1e-3), c[0] + 0.5 * max(c[0], 1e-3)])
    mid = 0.5 * (c[1:] + c[:-1])
    return np.concatenate([[2 * c[0] - mid[0]], mid, [2 * c[-1] - mid[-1]]])


def phase_transition(
    n_features: int = 200,
    deltas=None,
    rhos=None,
    n_trials: int = 20,
    *,
    matrix="gaussian",
    signal: str = "gaussian",
    solver: str = "admm",
    success_tol: float = 1e-4,
    criterion: Callable | None = None,
    rng=None,
    progress: bool = False,
    verbose: bool = False,
    store=None,
    executor=None,
) -> PhaseTransitionResult:
    """Empirical phase transition of l1 recovery over a (delta = m/n, rho = k/m) grid.

    Parameters
    ----------
    n_features : int
        Signal dimension n (ignored when ``matrix`` is an array: n is its number of columns).
    deltas : array_like, optional
        m / n values in (0, 1]; default 20 points from 0.05 to 1. With a fixed ``matrix`` array
        the only delta is its m / n and this must be None.
    rhos : array_like, optional
        k / m values in [0, 1]; default 20 points from 0.05 to 1. At most :data:`MAX_CELLS`
        (delta, rho) cells.
    n_trials : int
        Signals per cell (all sharing one matrix draw per cell; a fixed matrix is shared by all).
    matrix : str, callable or array_like
        A family name of :data:`csuper.recovery.MATRIX_FAMILIES` (``gaussian``, ``rademacher``),
        a callable ``(m, n, rng) -> A`` (e.g. a csuper.jl construction), or a fixed frame of
        shape (m, n) such as learned weights.
    signal : str
        A law of :data:`SIGNAL_LAWS`; nonnegative laws are recovered by nonnegative BP.
    solver : str
        A name of :data:`EXPERIMENT_SOLVERS`.
    success_tol : float
        Default success criterion: ``||x_hat - x||_2 <= success_tol * ||x||_2`` (x = 0 counts as
        success when x_hat = 0 to that tolerance).
    criterion : callable, optional
        ``criterion(X_hat, X) -> bool array`` over trial columns, replacing the default. Trials
        whose solver status is not ``optimal`` count as failures either way (and are counted in
        ``unsolved`` unless their status is ``refuted``, a proof of failure).
    rng : None, int or numpy Generator
        Seed. Each cell draws from its own stream ``SeedSequence(seed).spawn`` so that a resumed
        run reproduces the cells it had not finished.
    progress : bool, default False
        Show a tqdm progress bar.
    verbose : bool, default False
        Let the solvers print their logs to standard output (``cvxpy``, ``highs``); by default
        they are silent, so that the results can be piped.
    store : str or Path, optional
        Folder of a :class:`csuper._store.ResultStore`: finished cells are appended as they
        complete and skipped on rerun. Requires ``rng`` to be an int seed (so the rerun is the
        same experiment) and no custom ``criterion`` or callable ``matrix`` (they cannot be
        recorded).
    executor : csuper.executor.Executor, optional
        Where the cells run (:func:`csuper.executor.make_executor`: local processes or a Dask
        cluster); default serial in this process. Each cell draws from its own seed, so the
        results do not depend on the executor. With processes or Dask, a custom ``criterion``
        or callable ``matrix`` must be picklable (module-level functions).

    Returns
    -------
    PhaseTransitionResult

    Notes
    -----
    For a cell (delta, rho): ``m = max(1, round(delta n))``, ``k = round(rho m)`` (capped at n);
    A of shape (m, n) is drawn, the trials' k-sparse signals X (uniform support, values from the
    law) are measured ``Y = A X`` and recovered. Theory (ALMT 2014): for Gaussian A the success
    probability jumps from 0 to 1 as m crosses ``statistical_dimension(n, k)`` within
    ``transition_width(n, eta)``; in (delta, rho) coordinates the limit curve is the
    Donoho-Tanner weak threshold ``rho = weak_threshold(delta)``.

    References
    ----------
    D. L. Donoho, J. Tanner, "Observed universality of phase transitions in high-dimensional
    geometry", Phil. Trans. R. Soc. A 367 (2009), doi:10.1098/rsta.2009.0152; Amelunxen et al.
    (2014), arXiv:1303.6672.

    Examples
    --------
    >>> res = phase_transition(40, deltas=[0.5], rhos=[0.1, 0.9], n_trials=5, rng=0)
    >>> res.table["k"].tolist(), res.table["p_hat"].tolist()
    ([2, 18], [1.0, 0.0])
    """
    nonnegative = _signal_law(signal).nonnegative
    if not isinstance(solver, str) or solver not in EXPERIMENT_SOLVERS:
        raise ValueError(f"solver must be one of {tuple(EXPERIMENT_SOLVERS)}; got {solver!r}.")
    n_trials = check_int(n_trials, "n_trials", low=1)
    success_tol = check_real(success_tol, "success_tol", low=0.0)
    progress = check_bool(progress, "progress")
    verbose = check_bool(verbose, "verbose")
    matrix_name, _, fixed = resolve_matrix(matrix)
    if fixed is not None:
        if deltas is not None:
            raise ValueError(
                "deltas must be None when matrix is a fixed array (delta = m / n is its shape)."
            )
        n = fixed.shape[1]
        deltas = np.array([fixed.shape[0] / n])
    else:
        n = check_int(n_features, "n_features", low=1)
        deltas = np.linspace(0.05, 1.0, 20) if deltas is None else deltas
    deltas = check_array(deltas, "deltas", ndim=1, dtype=np.float64)
    rhos = check_array(
        np.linspace(0.05, 1.0, 20) if rhos is None else rhos, "rhos", ndim=1, dtype=np.float64
    )
    if np.any((deltas <= 0) | (deltas > 1)):
        raise ValueError(
            f"deltas must lie in (0, 1]; got values in [{deltas.min()!r}, {deltas.max()!r}]."
        )
    if np.any((rhos < 0) | (rhos > 1)):
        raise ValueError(
            f"rhos must lie in [0, 1]; got values in [{rhos.min()!r}, {rhos.max()!r}]."
        )
    if deltas.size * rhos.size > MAX_CELLS:
        raise ValueError(
            f"deltas and rhos must make at most MAX_CELLS = {MAX_CELLS} cells; got "
            f"{deltas.size} x {rhos.size}."
        )
    if criterion is not None and not callable(criterion):
        raise TypeError(f"criterion must be callable (X_hat, X) -> bool array; got {criterion!r}.")
    gen = check_rng(rng)
    seed = int(rng) if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool) else None
    entropy = seed if seed is not None else int(gen.integers(2**63))
    config = {
        "n": n,
        "deltas": deltas.tolist(),
        "rhos": rhos.tolist(),
        "n_trials": n_trials,
        "matrix": matrix_name,
        "signal": signal,
        "solver": solver,
        "success_tol": success_tol,
        "seed": seed,
    }
    db = None
    if store is not None:
        if seed is None:
            raise ValueError(
                "rng must be an int seed when store is given (a resumed run must be the same "
                "experiment)."
            )
        if criterion is not None or (callable(matrix) and not isinstance(matrix, str)):
            raise ValueError(
                "store cannot record a custom criterion or a callable matrix; pass neither."
            )
        if fixed is not None:
            config["matrix_sha"] = _digest(fixed)
        db = ResultStore(store, "csuper.recovery.phase_transition", config, name="store")
    m_max = fixed.shape[0] if fixed is not None else max(1, round(float(deltas.max()) * n))
    check_memory(
        _cell_bytes(n, m_max, n_trials),
        f"a phase-transition cell of n_features={n}, m={m_max}, n_trials={n_trials}",
        "use fewer n_trials per cell (run several seeds and pool the tables) or a smaller n",
    )
    cells = [(d, r) for d in deltas for r in rhos]
    seqs = np.random.SeedSequence(entropy).spawn(len(cells))
    rows: list = [None] * len(cells)
    pending = []
    for i, ((d, r), ss) in enumerate(zip(cells, seqs)):
        m = fixed.shape[0] if fixed is not None else max(1, round(d * n))
        key = make_key(delta=float(d), rho=float(r))
        if db is not None and key in db:
            rows[i] = db.get(key)
            continue
        pending.append(
            (
                i,
                key,
                {
                    "delta": float(d),
                    "rho": float(r),
                    "n": n,
                    "m": m,
                    "k": min(n, round(r * m)),
                    "seed": ss,
                    "matrix": fixed if fixed is not None else matrix,
                    "signal": signal,
                    "solver": solver,
                    "n_trials": n_trials,
                    "success_tol": success_tol,
                    "criterion": criterion,
                    "nonnegative": nonnegative,
                    "verbose": verbose,
                },
            )
        )
    from csuper.executor import check_executor, make_executor

    check_executor(executor)
    ex = make_executor(workers=1) if executor is None else executor
    keys = {j: key for j, (_, key, _) in enumerate(pending)}
    slots = {j: i for j, (i, _, _) in enumerate(pending)}
    try:
        for j, row in ex.map(
            _run_cell, [task for _, _, task in pending], progress=progress, desc="phase transition"
        ):
            if db is not None:
                db.append(keys[j], row)
            rows[slots[j]] = row
    finally:
        if executor is None:
            ex.close()
    table = {c: np.array([row[c] for row in rows]) for c in _COLUMNS}
    return PhaseTransitionResult(
        table=table, deltas=deltas, rhos=rhos, signal=signal, nonnegative=nonnegative, config=config
    )


def _run_cell(task: dict) -> dict:
    """One grid cell of :func:`phase_transition`: draw A and ``n_trials`` signals from the cell's
    own
    seed, solve, and count successes. Module-level so that process and Dask executors can run it."""
    t0 = time.perf_counter()
    cell_rng = np.random.default_rng(task["seed"])
    n, m, k, n_trials = task["n"], task["m"], task["k"], task["n_trials"]
    matrix = task["matrix"]
    A = matrix if isinstance(matrix, np.ndarray) else draw_matrix(matrix, m, n, cell_rng)
    X = draw_sparse(n, k, n_trials, task["signal"], rng=cell_rng)
    Xh, status = EXPERIMENT_SOLVERS[task["solver"]](
        A, A @ X, X, task["nonnegative"], task["verbose"]
    )
    optimal = status == "optimal"
    if task["criterion"] is None:
        ok = _default_success(Xh, X, task["success_tol"])
    else:
        ok = np.asarray(task["criterion"](np.nan_to_num(Xh), X), dtype=bool).reshape(n_trials)
    ok &= optimal
    succ = int(ok.sum())
    p = succ / n_trials
    return {
        "delta": task["delta"],
        "rho": task["rho"],
        "n": n,
        "m": m,
        "k": k,
        "n_trials": n_trials,
        "successes": succ,
        "p_hat": p,
        "se": float(np.sqrt(p * (1 - p) / n_trials)),
        "unsolved": int(np.sum(~optimal & (status != "refuted"))),
        "seconds": time.perf_counter() - t0,
    }


def _cell_bytes(n: int, m: int, n_trials: int) -> float:
    """Peak bytes of one cell: the matrix and its SVD factors, the signals and the batched
    solver's iterates (about a dozen n x n_trials float64 arrays)."""
    return 8.0 * (4.0 * m * n + 12.0 * n * n_trials + 4.0 * m * n_trials)


def _default_success(Xh: np.ndarray, X: np.ndarray, tol: float) -> np.ndarray:
    err = np.linalg.norm(np.nan_to_num(Xh, nan=np.inf) - X, axis=0)
    return err <= tol * np.linalg.norm(X, axis=0) + 1e-12


def _digest(A: np.ndarray) -> str:
    import hashlib

    return hashlib.sha256(np.ascontiguousarray(A, dtype=np.float64).tobytes()).hexdigest()[:16]
