"""Phase-transition experiment: theory agreement at n = 200, resumability, plotting, the CLI."""

import json

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

from csuper._store import ResultStore, make_key
from csuper.recovery import (
    batch_basis_pursuit,
    draw_sparse,
    phase_transition,
    statistical_dimension,
    transition_width,
)
from csuper.recovery import experiment as exp_mod


def _m50(n, k, nonneg, ms, n_trials, seed):
    """Empirical success curve over m (fresh Gaussian A per trial), and its 50% crossing by
    linear interpolation."""
    rng = np.random.default_rng(seed)
    p = []
    for m in ms:
        succ = 0
        for _ in range(n_trials):
            A = rng.standard_normal((m, n)) / np.sqrt(m)
            x = draw_sparse(n, k, 1, "uniform" if nonneg else "gaussian", rng=rng)
            res = batch_basis_pursuit(A, A @ x, nonnegative=nonneg, reference=x)
            succ += bool(
                res.status[0] == "optimal" and np.linalg.norm(res.x - x) <= 1e-6 * np.linalg.norm(x)
            )
        p.append(succ / n_trials)
    p = np.array(p)
    i = int(np.argmax(p >= 0.5))
    assert p[0] < 0.5 <= p[-1], f"no crossing in the scanned range: {p}"
    return ms[i - 1] + (0.5 - p[i - 1]) * (ms[i] - ms[i - 1]) / (p[i] - p[i - 1]), p


@pytest.mark.parametrize("nonnegative,k", [(False, 10), (False, 25), (True, 10), (True, 25)])
def test_empirical_boundary_within_transition_width_n200(nonnegative, k):
    # ALMT 2014 Theorem II: success probability <= eta for m <= delta - a_eta sqrt(n) and >= 1 - eta
    # for m >= delta + a_eta sqrt(n). The 50% point therefore lies within transition_width(n, eta)
    # for every eta < 1/2; we use eta = 0.45 (a = 4.24, width 60 at n = 200). 24 trials per m,
    # scanned
    # over delta -+ 45 so that a wrong curve (e.g. the signed one for the nonnegative program,
    # or 2 k log(n/k)) would put the crossing elsewhere. We also check the much sharper empirical
    # fact that the crossing is within 3 sqrt(delta) of delta (the observed width is O(sqrt(delta)),
    # ALMT Sec. 7): binomial SE at 24 trials moves the interpolated crossing by about one step.
    n = 200
    delta = statistical_dimension(n, k, nonnegative=nonnegative)
    ms = np.unique(np.clip(np.round(delta + np.arange(-45, 46, 9)).astype(int), k + 1, n))
    m50, _p = _m50(n, k, nonnegative, ms, n_trials=24, seed=k)
    print(f"nonnegative={nonnegative} k={k}: delta={delta:.2f}, empirical m50={m50:.2f}")
    assert abs(m50 - delta) < transition_width(n, 0.45)
    assert abs(m50 - delta) < 3 * np.sqrt(delta) + 9


def test_phase_transition_table_and_determinism():
    kw = dict(deltas=[0.3, 0.6], rhos=[0.1, 0.5, 0.9], n_trials=4, rng=3, progress=False)
    a = phase_transition(60, **kw)
    b = phase_transition(60, **kw)
    assert a.table["successes"].tolist() == b.table["successes"].tolist()
    assert a.table["m"].tolist() == [18, 18, 18, 36, 36, 36]
    assert a.table["k"].tolist() == [2, 9, 16, 4, 18, 32]
    np.testing.assert_allclose(a.table["p_hat"], a.table["successes"] / 4)
    assert a.success_grid().shape == (3, 2)
    assert len(a.to_records()) == 6
    ax = a.plot(width_eta=0.45)
    assert ax.get_xlabel().startswith("$\\delta")


@pytest.mark.parametrize("solver", ["highs", "cvxpy", "omp", "iht"])
def test_solvers_registry_run(solver):
    res = phase_transition(
        40, deltas=[0.5], rhos=[0.1, 0.9], n_trials=3, rng=1, progress=False, solver=solver
    )
    assert res.table["p_hat"][0] == 1.0  # k = 2 of n = 40 with m = 20: every method succeeds
    assert res.table["p_hat"][1] == 0.0 or solver in ("omp", "iht")


def test_same_classification_admm_and_highs():
    kw = dict(deltas=[0.5], rhos=[0.2, 0.45, 0.6], n_trials=6, rng=4, progress=False)
    a = phase_transition(60, **kw, solver="admm")
    b = phase_transition(60, **kw, solver="highs")
    assert a.table["successes"].tolist() == b.table["successes"].tolist()


def test_fixed_frame_and_callable_matrix():
    W = np.random.default_rng(0).standard_normal((20, 50))
    res = phase_transition(matrix=W, rhos=[0.1, 0.5], n_trials=3, rng=0, progress=False)
    assert res.table["m"].tolist() == [20, 20] and res.table["n"].tolist() == [50, 50]

    def jl_like(m, n, rng):
        return rng.standard_normal((m, n))

    res = phase_transition(
        30, deltas=[0.5], rhos=[0.1], n_trials=2, matrix=jl_like, rng=0, progress=False
    )
    assert res.config["matrix"] == "jl_like"
    with pytest.raises(ValueError, match="deltas must be None"):
        phase_transition(matrix=W, deltas=[0.5], progress=False)


def test_resume_skips_finished_cells(tmp_path, monkeypatch):
    kw = dict(
        deltas=[0.4, 0.8],
        rhos=[0.2, 0.6],
        n_trials=3,
        rng=7,
        progress=False,
        store=tmp_path / "run",
    )
    full = phase_transition(40, **kw)
    # simulate an interruption after two cells: keep the header and two records
    lines = (tmp_path / "run" / "records.jsonl").read_text().splitlines(keepends=True)
    (tmp_path / "run" / "records.jsonl").write_text(
        "".join(lines[:2]) + lines[2][:10]
    )  # + torn line
    calls = []
    real = exp_mod.EXPERIMENT_SOLVERS["admm"]
    monkeypatch.setitem(exp_mod.EXPERIMENT_SOLVERS, "admm", lambda *a: calls.append(1) or real(*a))
    resumed = phase_transition(40, **kw)
    assert len(calls) == 2  # only the two unfinished cells were solved
    assert resumed.table["successes"].tolist() == full.table["successes"].tolist()
    assert len(ResultStore(tmp_path / "run", "csuper.recovery.phase_transition", full.config)) == 4
    with pytest.raises(ValueError, match="refusing to mix"):
        phase_transition(40, **{**kw, "n_trials": 4})
    with pytest.raises(ValueError, match="int seed"):
        phase_transition(40, **{**kw, "rng": None})


def test_store_roundtrip_and_torn_line(tmp_path):
    s = ResultStore(tmp_path, "exp", {"a": [1, 2]})
    s.append(make_key(i=1), {"v": 1.5})
    s.append(make_key(i=2), {"v": np.float64(2.5)})
    with pytest.raises(ValueError, match="already stored"):
        s.append(make_key(i=1), {"v": 0})
    with open(tmp_path / "records.jsonl", "a") as fh:
        fh.write('{"key": "x", "rec')  # crash mid-write
    s2 = ResultStore(tmp_path, "exp", {"a": (1, 2)})  # tuple == list after JSON
    assert s2.done == {make_key(i=1), make_key(i=2)}
    assert s2.get(make_key(i=2)) == {"v": 2.5}
    s2.append(make_key(i=3), {"v": 3})
    recs = [json.loads(line) for line in (tmp_path / "records.jsonl").read_text().splitlines()]
    assert [r["record"]["v"] for r in recs] == [1.5, 2.5, 3]
    with pytest.raises(ValueError, match="refusing"):
        ResultStore(tmp_path, "exp", {"a": [1, 3]})
    with pytest.raises(TypeError):
        ResultStore(tmp_path, "", {})


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(signal="cauchy"), "signal must be one of"),
        (dict(solver="magic"), "solver must be one of"),
        (dict(matrix="hadamard"), "matrix must be one of"),
        (dict(deltas=[0.0, 0.5]), "deltas must lie"),
        (dict(rhos=[1.5]), "rhos must lie"),
        (dict(n_trials=0), "n_trials"),
        (dict(success_tol=-1.0), "success_tol"),
        (dict(signal=3), "signal must be one of"),
    ],
)
def test_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        phase_transition(20, progress=False, **kwargs)


@pytest.mark.parametrize("flag", ["progress", "verbose"])
def test_boolean_flags_are_validated(flag):
    with pytest.raises(TypeError, match=f"{flag} must be True or False"):
        phase_transition(20, deltas=[0.5], rhos=[0.2], n_trials=2, **{flag: "no"})


def test_registries_and_result_summary():
    from csuper.recovery import SIGNAL_LAWS

    for name, law in SIGNAL_LAWS.items():
        assert law.name == name and len(repr(law)) < 100
        values = law.sample(50, np.random.default_rng(0))
        assert values.shape == (50,) and (values.min() >= 0) == law.nonnegative
    res = phase_transition(30, deltas=[0.5], rhos=[0.1, 0.9], n_trials=3, rng=0)
    text = repr(res)
    assert len(text) < 200 and "successes=" in text and "2 rhos" in text


def test_cli_phase(tmp_path, capsys):
    import argparse

    from csuper.cli import phase

    parser = argparse.ArgumentParser()
    phase.add_arguments(parser)
    args = parser.parse_args(
        [
            "--n-features",
            "30",
            "--grid",
            "2",
            "--n-trials",
            "2",
            "--no-progress",
            "--output",
            str(tmp_path / "o"),
            "--plot",
            str(tmp_path / "p.png"),
        ]
    )
    assert phase.run(args) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].startswith("delta,rho,m,k")
    assert len(out.splitlines()) == 5
    assert (tmp_path / "p.png").stat().st_size > 0
    assert (tmp_path / "o" / "records.jsonl").exists()
    # a bad value raises ValueError, which csuper.cli.main turns into exit status 2
    args = parser.parse_args(["--grid", "0", "--no-progress"])
    with pytest.raises(ValueError, match="--grid"):
        phase.run(args)
    # solver logs: off by default, on with --verbose (forwarded to phase_transition)
    assert parser.parse_args([]).verbose is False
    assert parser.parse_args(["--verbose"]).verbose is True


def test_cli_phase_forwards_verbose(monkeypatch):
    import argparse

    from csuper.cli import phase

    seen = {}

    def fake(*args, **kwargs):
        seen.update(kwargs)
        return phase_transition(20, deltas=[0.5], rhos=[0.2], n_trials=2, rng=0)

    monkeypatch.setattr("csuper.recovery.phase_transition", fake)
    parser = argparse.ArgumentParser()
    phase.add_arguments(parser)
    phase.run(parser.parse_args(["--grid", "1", "--no-progress", "--verbose"]))
    assert seen["verbose"] is True and seen["progress"] is False


def test_matrix_families():
    from csuper.recovery import MATRIX_FAMILIES

    rng = np.random.default_rng(0)
    R = MATRIX_FAMILIES["rademacher"](16, 400, rng)
    assert np.allclose(np.abs(R), 0.25) and abs(R.mean()) < 4 * 0.25 / np.sqrt(R.size)
    G = MATRIX_FAMILIES["gaussian"](16, 4000, rng)
    # E ||column||^2 = 1; SE of the mean of 4000 chi2_16/16 values is sqrt(2/16/4000)
    assert abs((G**2).sum(axis=0).mean() - 1) < 5 * np.sqrt(2 / 16 / 4000)
    res = phase_transition(
        40, deltas=[0.6], rhos=[0.1], n_trials=3, matrix="rademacher", rng=0, progress=False
    )
    assert res.table["p_hat"][0] == 1.0


def test_phase_transition_through_a_process_pool_equals_the_serial_run():
    """Each cell draws from its own SeedSequence child, so where it runs cannot change it."""
    from csuper.executor import make_executor

    grid = dict(
        deltas=[0.3, 0.6], rhos=[0.2, 0.5], n_trials=4, signal="uniform", rng=5, progress=False
    )
    serial = phase_transition(40, **grid)
    with make_executor(workers=2) as ex:
        pooled = phase_transition(40, executor=ex, **grid)
    for column in ("delta", "rho", "m", "k", "successes", "unsolved"):
        np.testing.assert_array_equal(pooled.table[column], serial.table[column])


def test_phase_transition_rejects_a_non_executor():
    with pytest.raises(TypeError, match=r"executor must be None or a csuper\.executor\.Executor"):
        phase_transition(
            20, deltas=[0.5], rhos=[0.2], n_trials=2, rng=0, progress=False, executor=object()
        )
