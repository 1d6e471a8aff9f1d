"""The executor: serial, process-pool and Dask backends give bit-identical results for the same
seeds; seeds come from SeedSequence.spawn; bad options fail with clear messages."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from csuper._errors import MemoryBudgetError, MissingDependencyError
from csuper.executor import Executor, make_executor, spawn_seeds

# ---------------------------------------------------------------------------------------------
# Module-level task functions (importable by worker processes).


def real_task(task):
    """A real csuper workload that consumes randomness: a tiny toy model trained from the task's
    seed, and a nonnegative basis-pursuit recovery on a Gaussian matrix drawn from it."""
    from csuper.recovery import batch_basis_pursuit, draw_sparse
    from csuper.toy import TrainSettings, feature_distribution, train

    seed, n, m = task
    rng = np.random.default_rng(seed)
    model = train(
        feature_distribution(n, 0.1),
        m,
        settings=TrainSettings(n_steps=60, batch_size=32, lr=1e-2),
        rng=int(rng.integers(2**32)),
    )
    A = rng.standard_normal((m + 6, n))
    X = draw_sparse(n, 2, 3, "uniform", rng=rng)
    xhat = batch_basis_pursuit(A, A @ X, nonnegative=True).x
    return model.W.copy(), model.b.copy(), xhat


def failing_task(x):
    if x == 3:
        raise ValueError(f"task {x} failed on purpose")
    return x


def blas_threads_task(_):
    from threadpoolctl import threadpool_info

    return [d["num_threads"] for d in threadpool_info() if d.get("user_api") == "blas"]


def slow_identity(x):
    time.sleep(0.01 * x)
    return x


def _same(a, b) -> bool:
    return all(
        all(np.array_equal(u, v) and u.dtype == v.dtype for u, v in zip(ra, rb))
        for ra, rb in zip(a, b)
    ) and len(a) == len(b)


TASKS = [(s, 8, 3) for s in spawn_seeds(2024, 4)]


@pytest.fixture(scope="module")
def serial_results():
    return make_executor(workers=1).run(real_task, TASKS)


# ---------------------------------------------------------------------------------------------
# Seeds


def test_spawn_seeds_deterministic_distinct_and_from_seedsequence():
    a = spawn_seeds(5, 50)
    assert a == spawn_seeds(5, 50)
    assert len(set(a)) == 50
    assert all(isinstance(s, int) and 0 <= s < 2**128 for s in a)
    # the same seeds as spawning the SeedSequence directly (the documented derivation)
    kids = np.random.SeedSequence(5).spawn(3)
    direct = [
        int(c.generate_state(2, np.uint64)[0]) | (int(c.generate_state(2, np.uint64)[1]) << 64)
        for c in kids
    ]
    assert a[:3] == direct
    assert spawn_seeds(np.random.SeedSequence(5), 3) == direct
    # a prefix property: more tasks do not change the first tasks' seeds (resumable sweeps)
    assert spawn_seeds(5, 10)[:3] == a[:3]
    # Generators: same seed, same result; different seed, different seeds
    assert spawn_seeds(np.random.default_rng(1), 4) == spawn_seeds(np.random.default_rng(1), 4)
    assert spawn_seeds(np.random.default_rng(1), 4) != spawn_seeds(np.random.default_rng(2), 4)
    assert spawn_seeds(3, 0) == []


def test_spawn_seeds_bad_input():
    with pytest.raises(ValueError, match="n_tasks must be an integer in \\[0, inf\\); got -1"):
        spawn_seeds(0, -1)
    with pytest.raises(ValueError, match="rng as an int seed must be >= 0"):
        spawn_seeds(-3, 2)
    with pytest.raises(TypeError, match="rng must be"):
        spawn_seeds("seed", 2)


def test_spawn_seeds_refuses_more_seeds_than_memory(monkeypatch):
    # found by tests/test_fuzz.py: n_tasks=2**31 ran into a raw MemoryError after minutes
    monkeypatch.setenv("CSUPER_MEMORY_BUDGET", "1GiB")
    with pytest.raises(MemoryBudgetError, match="n_tasks=2147483648"):
        spawn_seeds(0, 2**31)
    assert len(spawn_seeds(0, 10**5)) == 10**5  # 60 MB: within the budget


# ---------------------------------------------------------------------------------------------
# Options


@pytest.mark.parametrize(
    "workers, exc, msg",
    [
        (0, ValueError, r"workers must be an integer in \[1, inf\); got 0\."),
        (-2, ValueError, r"workers must be an integer in \[1, inf\); got -2\."),
        (1.5, TypeError, r"workers must be an integer"),
        (True, TypeError, r"workers must be an integer"),
    ],
)
def test_bad_workers(workers, exc, msg):
    with pytest.raises(exc, match=msg):
        make_executor(workers=workers)


def test_bad_blas_threads_and_timeout():
    with pytest.raises(ValueError, match="blas_threads must be an integer in \\[1, inf\\); got 0"):
        make_executor(workers=1, blas_threads=0)
    with pytest.raises(ValueError, match="timeout must be a real number in \\(0, inf\\)"):
        make_executor(scheduler="tcp://127.0.0.1:1", timeout=0)


@pytest.mark.parametrize(
    "address", ["localhost:8786", "tcp//host:1", "http://host:80", "", "tcp://"]
)
def test_malformed_scheduler_address(address):
    with pytest.raises(
        ValueError, match="scheduler must be a Dask address such as 'tcp://host:8786'"
    ):
        make_executor(scheduler=address)


def test_scheduler_wrong_type_and_workers_with_scheduler():
    with pytest.raises(TypeError, match="scheduler must be a Dask address"):
        make_executor(scheduler=8786)
    with pytest.raises(ValueError, match="workers must be None when scheduler is given"):
        make_executor(workers=2, scheduler="tcp://127.0.0.1:8786")


def test_unreachable_scheduler_fails_fast_with_clear_message():
    pytest.importorskip("distributed")
    t0 = time.perf_counter()
    with pytest.raises(
        ValueError, match=r"scheduler 'tcp://127.0.0.1:1' could not be reached within 1 s"
    ):
        make_executor(scheduler="tcp://127.0.0.1:1", timeout=1.0)
    assert time.perf_counter() - t0 < 30.0


def test_dask_missing_gives_install_hint(monkeypatch):
    # a None entry in sys.modules makes `import distributed` raise ImportError
    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(MissingDependencyError, match=r"pip install 'csuper\[dask\]'") as err:
        make_executor(scheduler="tcp://127.0.0.1:8786")
    assert isinstance(err.value, ImportError) and "\n" not in str(err.value)


def test_default_workers_is_cpu_count_and_kinds():
    ex = make_executor()
    assert ex.workers >= 1 and ex.kind == ("serial" if ex.workers == 1 else "processes")
    assert make_executor(workers=1).kind == "serial"
    assert make_executor(workers=2).kind == "processes"


# ---------------------------------------------------------------------------------------------
# Running


def test_serial_map_is_in_order_and_lazy():
    seen = []

    def gen():
        for i in range(4):
            seen.append(i)
            yield i

    it = make_executor(workers=1).map(lambda x: 10 * x, gen())
    assert next(it) == (0, 0) and seen == [0]
    assert list(it) == [(1, 10), (2, 20), (3, 30)]


def test_fn_must_be_callable_and_picklable_for_processes():
    with pytest.raises(TypeError, match="fn must be callable"):
        list(make_executor(workers=1).map(3, [1]))
    with make_executor(workers=2) as ex:
        with pytest.raises(TypeError, match="fn must be picklable"):
            list(ex.map(lambda x: x, [1, 2]))


def test_process_pool_equals_serial_bit_for_bit(serial_results):
    with make_executor(workers=2) as ex:
        got = dict(ex.map(real_task, TASKS))
        # every task exactly once, whatever the completion order
        assert sorted(got) == list(range(len(TASKS)))
        assert _same([got[i] for i in range(len(TASKS))], serial_results)
        # the pool is reused by a second map on the same executor
        assert _same(ex.run(real_task, TASKS[:2]), serial_results[:2])
    # and different seeds give different models (the seeds are what matters)
    other = make_executor(workers=1).run(real_task, [(s, 8, 3) for s in spawn_seeds(7, 1)])
    assert not np.array_equal(other[0][0], serial_results[0][0])


def test_process_workers_pin_blas_threads():
    with make_executor(workers=2, blas_threads=1) as ex:
        counts = ex.run(blas_threads_task, range(4))
    assert all(c and set(c) == {1} for c in counts)


def test_task_error_propagates_and_remaining_tasks_cancelled():
    with make_executor(workers=2) as ex:
        with pytest.raises(ValueError, match="task 3 failed on purpose"):
            ex.run(failing_task, range(20))
        # the executor is still usable afterwards
        assert ex.run(failing_task, [0, 1]) == [0, 1]
    with pytest.raises(ValueError, match="task 3 failed on purpose"):
        make_executor(workers=1).run(failing_task, range(5))


def gated_identity(task):
    """Task (x, folder): x = 0 returns only after the three others have left their mark in
    folder (and 0.2 s more for their results to reach the parent; at most 60 s), the others
    at once. A fixed sleep raced against a worker's start-up on a loaded machine."""
    x, folder = task
    if x == 0:
        deadline = time.monotonic() + 60.0
        while len(os.listdir(folder)) < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.2)
    else:
        Path(folder, str(x)).touch()
    return x


def test_processes_yield_as_completed_with_progress(tmp_path):
    tasks = [(x, str(tmp_path)) for x in range(4)]
    with make_executor(workers=2) as ex:
        order = [i for i, _ in ex.map(gated_identity, tasks, progress=True, desc="t")]
    assert sorted(order) == [0, 1, 2, 3]
    assert order[-1] == 0  # the first task, held until the others finished, comes last


def test_early_stop_then_reuse():
    with make_executor(workers=2) as ex:
        it = ex.map(slow_identity, range(12))
        next(it)
        it.close()
        assert ex.run(slow_identity, [1, 2]) == [1, 2]


# ---------------------------------------------------------------------------------------------
# Dask


def test_dask_local_cluster_on_loopback_equals_local_run(serial_results):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=1,
        threads_per_worker=2,
        processes=False,
        host="127.0.0.1",
        protocol="tcp://",
        dashboard_address=None,
    ) as cluster:
        address = cluster.scheduler_address
        assert address.startswith("tcp://127.0.0.1:")
        with make_executor(scheduler=address, timeout=20) as ex:
            assert ex.kind == "dask" and ex.workers == 2
            got = dict(ex.map(real_task, TASKS, progress=False))
            assert _same([got[i] for i in range(len(TASKS))], serial_results)
            with pytest.raises(ValueError, match="task 3 failed on purpose"):
                ex.run(failing_task, range(6))
        # a cluster object and a Client are accepted too; a user's Client is left open
        with make_executor(scheduler=cluster) as ex:
            assert _same(ex.run(real_task, TASKS[:1]), serial_results[:1])
        with distributed.Client(cluster, set_as_default=False) as client:
            with make_executor(scheduler=client) as ex:
                assert ex.run(failing_task, [0, 1, 2]) == [0, 1, 2]
            assert client.status == "running"


def test_dask_worker_processes_equal_local_run_and_pin_blas(serial_results):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    ) as cluster:
        with make_executor(scheduler=cluster.scheduler_address, timeout=30) as ex:
            got = ex.run(real_task, TASKS[:2])
            assert _same(got, serial_results[:2])
            counts = ex.run(blas_threads_task, [0])[0]
            assert counts and set(counts) == {1}


def test_executor_repr():
    assert repr(make_executor(workers=1)) == "Executor(kind='serial', workers=1)"
    assert isinstance(make_executor(workers=3), Executor)


# ---------------------------------------------------------------------------------------------
# Worker processes never outlive their owner


_OWNER = textwrap.dedent(
    """
    import os, sys, time

    def task(folder):
        if sys.argv[2] == "busy":  # a numba kernel holding the GIL for minutes
            import numba

            @numba.njit
            def spin(n):
                total = 0.0
                for i in range(n):
                    total += 0.5 * i
                return total

            spin(10)  # compile first
            open(os.path.join(folder, str(os.getpid())), "w").close()
            spin(10**12)
        open(os.path.join(folder, str(os.getpid())), "w").close()
        time.sleep(120)

    if __name__ == "__main__":
        from csuper.executor import make_executor

        with make_executor(workers=2) as ex:
            print(os.getpid(), flush=True)
            list(ex.map(task, [sys.argv[1]] * 2))
    """
)


def _alive(pid: int) -> bool:
    """The process exists and is not a zombie (an exited process nobody reaped yet)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


def _descendants(pid: int) -> set[int]:
    """Every process below ``pid`` (children, grandchildren, ...), from /proc."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int(
                    (entry / "stat").read_text().rsplit(")", 1)[1].split()[1]
                )
            except (OSError, IndexError, ValueError):
                continue
    found, frontier = set(), {pid}
    while frontier:
        frontier = {p for p, pp in parents.items() if pp in frontier} - found
        found |= frontier
    return found


def _wait_until(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads the process tree in /proc")
@pytest.mark.parametrize("work", ["sleeping", "busy"])
def test_workers_exit_when_the_owner_is_killed(tmp_path, work):
    script = tmp_path / "owner.py"
    script.write_text(_OWNER)
    pids = tmp_path / "pids"
    pids.mkdir()
    root = str(Path(__file__).resolve().parents[1])  # this checkout's csuper, in every process
    owner = subprocess.Popen(
        [sys.executable, str(script), str(pids), work],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([root, os.environ.get("PYTHONPATH", "")])},
    )
    tree: set[int] = set()
    try:
        assert _wait_until(lambda: len(list(pids.iterdir())) == 2, 120), owner.stderr
        workers = {int(p.name) for p in pids.iterdir()}
        tree = _descendants(owner.pid)
        assert workers <= tree and all(_alive(p) for p in workers)
        os.kill(owner.pid, signal.SIGKILL)  # no cleanup code of the owner runs
        owner.wait(timeout=30)
        # every process the owner started (workers, forkserver, resource tracker) goes too
        assert _wait_until(lambda: not any(_alive(p) for p in tree), 20), [
            p for p in tree if _alive(p)
        ]
    finally:
        if owner.poll() is None:
            owner.kill()
            owner.wait()
        for p in tree | _descendants(owner.pid):  # leave nothing behind if the test failed
            if _alive(p):
                os.kill(p, signal.SIGKILL)


def test_leaving_on_an_error_stops_running_tasks_at_once():
    t0 = time.perf_counter()
    with pytest.raises(KeyboardInterrupt):
        with make_executor(workers=2) as ex:
            it = ex.map(slow_identity, [0, 3000, 3000])  # two tasks of 30 s each
            next(it)
            raise KeyboardInterrupt
    # close(terminate=True) stops the workers instead of waiting 30 s for their tasks
    assert time.perf_counter() - t0 < 20
