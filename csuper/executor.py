"""One executor for every sweep: serial, local processes, or a Dask distributed cluster.

Sweeps (study configurations, phase-transition grids, seeds) hand a picklable function and a
list of tasks to :meth:`Executor.map`, which yields ``(index, result)`` pairs as tasks complete,
so that the caller can write each finished unit to disk (e.g. a :class:`csuper._store.ResultStore`)
while the rest still run. Three backends, chosen by :func:`make_executor`:

- ``workers=1``: serial, in this process, in task order -- the deterministic reference path;
- ``workers > 1``: a :class:`concurrent.futures.ProcessPoolExecutor` (``forkserver`` start
  method on POSIX, so that workers never inherit the parent's BLAS or numba thread pools);
- ``scheduler="tcp://host:port"`` (or a ``distributed.Client`` / cluster object): a Dask
  distributed cluster. Dask is optional: it is imported only here, when asked for.

Reproducibility: a task must carry everything it depends on, including its own integer seed
(:func:`spawn_seeds` derives them from the user's ``rng`` with ``SeedSequence.spawn``); it must
never draw from worker state. Then results are bit-identical whichever backend ran them (the
tests check serial vs processes vs a real Dask ``LocalCluster``).

Examples
--------
>>> import math
>>> with make_executor(workers=1) as ex:
...     print(ex.run(math.sqrt, [1.0, 4.0, 9.0]))
[1.0, 2.0, 3.0]
"""

from __future__ import annotations

import concurrent.futures
import itertools
import os
import pickle
import re
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sized
from typing import Any

import numpy as np

from csuper._errors import MissingDependencyError
from csuper._validation import check_int, check_memory, check_real, check_rng

__all__ = ["Executor", "check_executor", "make_executor", "spawn_seeds"]

_ADDRESS = re.compile(r"^(tcp|tls|inproc|ucx|ws|wss)://[^\s/]+(:\d+)?/?$")


def spawn_seeds(rng: Any, n_tasks: int) -> list[int]:
    """Independent integer seeds for ``n_tasks`` tasks, derived from ``rng`` by SeedSequence.spawn.

    Parameters
    ----------
    rng : None, int, numpy.random.SeedSequence or numpy Generator
        An int (or SeedSequence) is the root entropy itself, so the seeds depend on it alone; a
        Generator (or None) contributes one 63-bit draw as the root entropy.
    n_tasks : int
        Number of seeds (>= 0).

    Returns
    -------
    list of int
        128-bit integers, one per task: ``numpy.random.default_rng(seed)`` inside the task gives
        streams that are independent across tasks (SeedSequence's spawn guarantee) and that do
        not depend on which worker, process or machine runs the task.

    Examples
    --------
    >>> spawn_seeds(7, 3) == spawn_seeds(7, 3)
    True
    >>> len(set(spawn_seeds(7, 100)))
    100
    """
    n_tasks = check_int(n_tasks, "n_tasks", low=0)
    # each seed costs a SeedSequence child and a 128-bit int while the list is built (~600 bytes)
    check_memory(
        600.0 * n_tasks, f"spawn_seeds of n_tasks={n_tasks}", "spawn the seeds of fewer tasks"
    )
    if isinstance(rng, np.random.SeedSequence):
        root = rng
    elif isinstance(rng, (int, np.integer)) and not isinstance(rng, (bool, np.bool_)):
        if int(rng) < 0:
            raise ValueError(f"rng as an int seed must be >= 0; got {rng!r}.")
        root = np.random.SeedSequence(int(rng))
    else:
        root = np.random.SeedSequence(int(check_rng(rng).integers(2**63)))
    out = []
    for child in root.spawn(n_tasks):
        lo, hi = child.generate_state(2, np.uint64)
        out.append(int(lo) | (int(hi) << 64))
    return out


def check_executor(executor: Any, name: str = "executor") -> Executor | None:
    """Validate the ``executor`` argument of a function that runs tasks: None or an Executor.

    None means the function makes (and closes) its own serial executor.

    Examples
    --------
    >>> check_executor(None) is None
    True
    >>> check_executor("dask")
    Traceback (most recent call last):
    ...
    TypeError: executor must be None or a csuper.executor.Executor (see make_executor); got str.
    """
    if executor is not None and not isinstance(executor, Executor):
        raise TypeError(
            f"{name} must be None or a csuper.executor.Executor (see make_executor); "
            f"got {type(executor).__name__}."
        )
    return executor


def _pin_blas(threads: int | None) -> None:
    """Process-wide BLAS (and OpenMP) thread limit; called once in each worker process."""
    if threads is None:
        return
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=threads)


#: Seconds between two checks of a worker's guardian (:func:`_exit_with_owner`).
_GUARD_INTERVAL = 0.5


def _alive(pid: int) -> bool:
    """Whether process ``pid`` exists and has not exited (a zombie counts as exited)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # pragma: no cover - exists, owned by someone else
        return True
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):  # no /proc (not Linux): kill(pid, 0) said it exists
        return True


def _guard(worker: int, owner: int) -> None:
    """Body of a worker's guardian process: kill the worker when the owner dies; exit when the
    worker does. Never returns."""
    import signal

    try:
        os.closerange(3, 1 << 16)  # hold none of the pool's pipes
        if sys.platform.startswith("linux"):
            import ctypes

            # PR_SET_PDEATHSIG = 1: the kernel kills the guardian when the worker exits
            ctypes.CDLL(None).prctl(1, int(signal.SIGKILL), 0, 0, 0)
        while os.getppid() == worker:
            if not _alive(owner):
                os.kill(worker, signal.SIGKILL)
                break
            time.sleep(_GUARD_INTERVAL)
    finally:
        os._exit(0)


def _exit_with_owner(owner: int) -> None:
    """Make this worker process exit when ``owner`` (the process that made the pool) dies.

    A worker's parent is the forkserver, which outlives a killed owner (the workers keep it
    alive), and a watchdog thread inside the worker cannot run while a numba kernel holds the
    GIL. So each worker forks a small guardian process that checks twice a second that the
    owner is alive and SIGKILLs the worker when it is not; the guardian exits with its worker
    (``PR_SET_PDEATHSIG`` on Linux, else its next check). Without ``os.fork`` (Windows), a
    watchdog thread in the worker does the checking.
    """
    worker = os.getpid()
    if not hasattr(os, "fork"):  # pragma: no cover - Windows

        def watch() -> None:
            while _alive(owner):
                time.sleep(_GUARD_INTERVAL)
            os._exit(1)

        import threading

        threading.Thread(target=watch, name="csuper-owner-watchdog", daemon=True).start()
        return
    if os.fork() == 0:
        _guard(worker, owner)


def _init_worker(blas_threads: int | None, owner_pid: int) -> None:
    """Initializer of every local worker process: exit with the owner, leave Ctrl-C to it
    (the owner stops the pool; a worker printing its own KeyboardInterrupt traceback would only
    add noise), and pin BLAS threads."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _exit_with_owner(owner_pid)
    _pin_blas(blas_threads)


def _dask_call(fn: Callable, task: Any, blas_threads: int | None, client_pid: int) -> Any:
    # Pin BLAS only in worker processes other than the caller's: an in-process (threaded)
    # cluster shares the caller's process, whose settings are not ours to change.
    if blas_threads is not None and os.getpid() != client_pid:
        _pin_blas(blas_threads)
    return fn(task)


def _require_distributed():
    try:
        import distributed
    except ImportError:
        raise MissingDependencyError(
            "scheduler needs the optional dependency dask.distributed, which is not installed; "
            "install the extra with: pip install 'csuper[dask]'."
        ) from None
    return distributed


def _dask_threads(client) -> int:
    """Worker threads of the cluster right now (at least 1: tasks wait for workers to join)."""
    return max(1, sum(client.nthreads().values()))


def _is_dask_client(obj: Any) -> bool:
    mod = sys.modules.get("distributed")
    return mod is not None and isinstance(obj, mod.Client)


class Executor:
    """Runs ``fn(task)`` over tasks serially, in local processes or on a Dask cluster.

    Build one with :func:`make_executor`; use it as a context manager (or call :meth:`close`) so
    that worker processes and the Dask connection are released.

    Attributes
    ----------
    kind : {"serial", "processes", "dask"}
    workers : int
        Number of concurrent task slots (1 for serial; for Dask, the cluster's worker threads,
        re-read at each :meth:`map`; at most ``2 workers + 2`` tasks are in flight).
    blas_threads : int or None
        BLAS thread limit inside worker processes (None: left as the workers start).
    """

    def __init__(
        self,
        kind: str,
        workers: int,
        *,
        blas_threads: int | None = None,
        client: Any = None,
        owns_client: bool = False,
    ) -> None:
        self.kind = kind
        self.workers = workers
        self.blas_threads = blas_threads
        self._client = client
        self._owns_client = owns_client
        self._pool: concurrent.futures.ProcessPoolExecutor | None = None

    def __repr__(self) -> str:
        where = ""
        if self._client is not None:
            where = f", scheduler={self._client.scheduler.address!r}"
        return f"Executor(kind={self.kind!r}, workers={self.workers}{where})"

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        # leaving on an error or Ctrl-C: stop running tasks at once instead of waiting for them
        self.close(terminate=exc_type is not None)

    def close(self, *, terminate: bool = False) -> None:
        """Shut down worker processes and close a Dask connection this executor opened.

        Parameters
        ----------
        terminate : bool, default False
            Stop tasks that are still running (their results are lost) instead of waiting for
            them; used when the caller leaves on an exception or Ctrl-C.
        """
        if self._pool is not None:
            pool, self._pool = self._pool, None
            processes = list((getattr(pool, "_processes", None) or {}).values())
            if terminate:
                pool.shutdown(wait=False, cancel_futures=True)
                for proc in processes:
                    proc.terminate()
                for proc in processes:
                    proc.join(timeout=5)
            else:
                pool.shutdown(wait=True, cancel_futures=True)
        if self._client is not None and self._owns_client:
            self._client.close()
        self._client = None if self._owns_client else self._client

    # -- running ---------------------------------------------------------------------------
    def map(
        self,
        fn: Callable[[Any], Any],
        tasks: Iterable,
        *,
        progress: bool = False,
        desc: str | None = None,
    ) -> Iterator[tuple[int, Any]]:
        """Yield ``(index, fn(tasks[index]))`` as tasks complete (task order when serial).

        Parameters
        ----------
        fn : callable
            ``fn(task) -> result``; for processes and Dask it must be picklable (a module-level
            function or a :func:`functools.partial` of one), and so must tasks and results.
            Worker processes import fn's module, so a script defining fn must guard its main
            code with ``if __name__ == "__main__":``.
        tasks : iterable
            Consumed lazily: at most a few tasks per worker are in flight at any time.
        progress : bool, default False
            Show a tqdm progress bar (total known when ``tasks`` has a length).
        desc : str, optional
            Label of the progress bar.

        Yields
        ------
        (int, object)
            The task's position in ``tasks`` and its result. A task that raises re-raises here
            (remaining tasks are cancelled); so does stopping the iteration early.

        Examples
        --------
        >>> ex = make_executor(workers=1)
        >>> sorted(ex.map(abs, [-2, 3]))
        [(0, 2), (1, 3)]
        """
        if not callable(fn):
            raise TypeError(f"fn must be callable (task) -> result; got {fn!r}.")
        total = len(tasks) if isinstance(tasks, Sized) else None
        it: Iterator[tuple[int, Any]]
        if self.kind == "serial":
            it = ((i, fn(t)) for i, t in enumerate(tasks))
        else:
            try:
                pickle.dumps(fn)
            except Exception as exc:
                raise TypeError(
                    f"fn must be picklable to run in {self.kind} (a module-level function or a "
                    f"functools.partial of one); got {fn!r} ({exc})."
                ) from None
            it = (
                self._map_processes(fn, tasks)
                if self.kind == "processes"
                else self._map_dask(fn, tasks)
            )
        if not progress:
            yield from it
            return
        from tqdm.auto import tqdm

        with tqdm(total=total, desc=desc, unit="task") as bar:
            for item in it:
                bar.update(1)
                yield item

    def run(
        self,
        fn: Callable[[Any], Any],
        tasks: Iterable,
        *,
        progress: bool = False,
        desc: str | None = None,
    ) -> list:
        """All results as a list in task order (see :meth:`map`).

        Examples
        --------
        >>> make_executor(workers=1).run(abs, [-2, 3, -4])
        [2, 3, 4]
        """
        out: dict[int, Any] = {}
        for i, r in self.map(fn, tasks, progress=progress, desc=desc):
            out[i] = r
        return [out[i] for i in range(len(out))]

    def _window(self) -> int:
        return 2 * self.workers + 2

    def _map_processes(self, fn, tasks) -> Iterator[tuple[int, Any]]:
        import concurrent.futures as cf
        import multiprocessing as mp

        if self._pool is None:
            methods = mp.get_all_start_methods()
            ctx = mp.get_context("forkserver" if "forkserver" in methods else "spawn")
            self._pool = cf.ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=ctx,
                initializer=_init_worker,
                initargs=(self.blas_threads, os.getpid()),
            )
        pool = self._pool
        source = enumerate(tasks)
        pending: dict = {}
        try:
            for i, t in itertools.islice(source, self._window()):
                pending[pool.submit(fn, t)] = i
            while pending:
                done, _ = cf.wait(pending, return_when=cf.FIRST_COMPLETED)
                for fut in done:
                    i = pending.pop(fut)
                    result = fut.result()
                    nxt = next(source, None)
                    if nxt is not None:
                        pending[pool.submit(fn, nxt[1])] = nxt[0]
                    yield i, result
        finally:
            for fut in pending:
                fut.cancel()

    def _map_dask(self, fn, tasks) -> Iterator[tuple[int, Any]]:
        distributed = _require_distributed()
        client = self._client
        self.workers = _dask_threads(client)  # clusters grow and shrink: re-read at each map
        pid = os.getpid()
        source = enumerate(tasks)
        index = {}

        def submit(i, t):
            fut = client.submit(_dask_call, fn, t, self.blas_threads, pid, pure=False)
            index[fut.key] = i
            return fut

        first = [submit(i, t) for i, t in itertools.islice(source, self._window())]
        queue = distributed.as_completed(first, loop=client.loop)
        live = set(first)
        try:
            for fut in queue:
                live.discard(fut)
                i = index.pop(fut.key)
                result = fut.result()
                nxt = next(source, None)
                if nxt is not None:
                    new = submit(*nxt)
                    live.add(new)
                    queue.add(new)
                yield i, result
        finally:
            for fut in live:
                fut.cancel()


def make_executor(
    workers: int | None = None,
    scheduler: Any = None,
    *,
    blas_threads: int | None = 1,
    timeout: float = 10.0,
) -> Executor:
    """Choose where a sweep runs: serially, in local processes, or on a Dask cluster.

    Parameters
    ----------
    workers : int or None
        Local worker processes; 1 runs serially in this process (the deterministic reference
        path, and what tests and debuggers want). None uses every CPU this process may run on.
        Must be None when ``scheduler`` is given (the cluster has its own workers).
    scheduler : None, str, distributed.Client or a Dask cluster
        ``"tcp://host:port"`` (any Dask address) connects to a running Dask scheduler within
        ``timeout`` seconds; a ``distributed.Client`` is used as it is (and left open by
        :meth:`Executor.close`); a cluster object (``LocalCluster``, ``SLURMCluster``, ...) is
        connected to by its ``scheduler_address``.
    blas_threads : int or None
        BLAS thread limit set (threadpoolctl) once inside each worker process, so that
        ``workers`` processes do not each start a BLAS thread per core. None leaves BLAS alone.
        Not applied to the caller's own process (serial runs, in-process Dask threads).
    timeout : float
        Seconds to wait for the scheduler.

    Returns
    -------
    Executor

    Raises
    ------
    ValueError
        ``workers < 1``; both ``workers`` and ``scheduler``; a malformed or unreachable
        scheduler address (the message names the address, not a Dask traceback).
    MissingDependencyError
        (an ``ImportError``) A scheduler was given and dask.distributed is not installed; the
        message names the extra to install (``pip install 'csuper[dask]'``).

    Notes
    -----
    Measured on a 2-core machine shared with other jobs (load average about 7, so indicative
    only): two workers running 16 tasks of 40 chained 300 x 300 float64 matrix products took
    7-9 s with ``blas_threads=1`` and 25-26 s with BLAS left unpinned (each process starting its
    own BLAS threads: oversubscription), hence the default of 1.

    Examples
    --------
    >>> make_executor(workers=1)
    Executor(kind='serial', workers=1)
    >>> make_executor(workers=0)
    Traceback (most recent call last):
    ...
    ValueError: workers must be an integer in [1, inf); got 0.
    >>> make_executor(scheduler="localhost:8786")
    Traceback (most recent call last):
    ...
    ValueError: scheduler must be a Dask address such as 'tcp://host:8786', a distributed.Client or
    a Dask cluster; got 'localhost:8786'.
    """
    if blas_threads is not None:
        blas_threads = check_int(blas_threads, "blas_threads", low=1)
    timeout = check_real(timeout, "timeout", low=0.0, low_inclusive=False)
    if scheduler is None:
        if workers is None:
            workers = (
                len(os.sched_getaffinity(0))
                if hasattr(os, "sched_getaffinity")
                else (os.cpu_count() or 1)
            )
        workers = check_int(workers, "workers", low=1)
        kind = "serial" if workers == 1 else "processes"
        return Executor(kind, workers, blas_threads=blas_threads)
    if workers is not None:
        raise ValueError(
            f"workers must be None when scheduler is given (the Dask cluster has its own "
            f"workers); got workers={workers!r}."
        )
    if _is_dask_client(scheduler):
        client, owns = scheduler, False
    else:
        if isinstance(scheduler, str):
            address = scheduler.strip()
            if not _ADDRESS.match(address):
                raise ValueError(
                    "scheduler must be a Dask address such as 'tcp://host:8786', a "
                    f"distributed.Client or a Dask cluster; got {scheduler!r}."
                )
        elif isinstance(getattr(scheduler, "scheduler_address", None), str):
            address = scheduler.scheduler_address
        else:
            raise TypeError(
                "scheduler must be a Dask address such as 'tcp://host:8786', a "
                f"distributed.Client or a Dask cluster; got {scheduler!r}."
            )
        distributed = _require_distributed()
        try:
            client = distributed.Client(address, timeout=timeout, set_as_default=False)
        except (OSError, TimeoutError) as exc:
            raise ValueError(
                f"scheduler {address!r} could not be reached within {timeout:g} s "
                f"({type(exc).__name__}); start one with `dask scheduler` or check the address."
            ) from None
        owns = True
    return Executor(
        "dask", _dask_threads(client), blas_threads=blas_threads, client=client, owns_client=owns
    )
