"""Running a study: report content against independent recomputation, resume after an
interruption, refusal of foreign folders, and identical results on every executor."""

import csv
import json
import math
import os

import numpy as np
import pytest

from csuper.compare import fit_scaling, nonnegative_threshold
from csuper.executor import make_executor
from csuper.geometry import feature_dimensionality
from csuper.study import open_study_folder, quick_config, run_study
from csuper.study.runner import EXPERIMENT, study_identity
from csuper.toy import represented_count

needs_jit = pytest.mark.skipif(
    os.environ.get("NUMBA_DISABLE_JIT") == "1", reason="trains toy models; too slow as plain Python"
)

#: Four models (enough for the scaling fit) and two 3-point transition sweeps, a few seconds.
TINY = quick_config().replace(
    n_dims=(2, 3),
    sparsities=(0.0, 0.9),
    n_steps=150,
    batch_size=256,
    decoder_n_samples=20,
    decoders=("relu", "nnbp", "nnbp_gaussian"),
    transition_n_points=3,
    transition_n_features=4,
)


def _strip(records):
    """Records without their timings (which differ from run to run)."""
    return [{k: v for k, v in r.items() if k != "seconds"} for r in records]


def _snapshot(folder):
    return {p.relative_to(folder): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def tiny_study(tmp_path_factory):
    folder = tmp_path_factory.mktemp("study") / "out"
    return run_study(TINY, folder, progress=False)


@needs_jit
def test_report_folder_content_matches_independent_recomputation(tiny_study):
    folder = tiny_study.folder
    assert tiny_study.ran == 6 and tiny_study.resumed == 0
    with open(folder / "tables" / "models.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    models = [r for r in tiny_study.records if r["kind"] == "model"]
    assert len(rows) == len(models) == 4
    for row, rec in zip(rows, models):
        W = np.asarray(rec["W"])
        p = float(row["feature_probability"])
        assert int(row["represented"]) == represented_count(W, represented_threshold=0.5)
        assert float(row["k"]) == pytest.approx(TINY.n_features * p)
        assert float(row["threshold_mstar"]) == pytest.approx(
            float(nonnegative_threshold(TINY.n_features, TINY.n_features * p)), rel=1e-12
        )
        assert float(row["learned_budget"]) == pytest.approx(
            float(feature_dimensionality(W).sum()), rel=1e-9
        )
        assert float(row["learned_budget"]) <= int(row["n_dims"]) + 1e-9  # sum D_i <= m
    # the verdict in the report is the fit of the CSV's own columns
    fit = fit_scaling(
        [int(r["n_features"]) for r in rows],
        [int(r["n_dims"]) for r in rows],
        [float(r["k"]) for r in rows],
        [int(r["represented"]) for r in rows],
    )
    report = (folder / "report.md").read_text()
    assert fit.verdict in report
    assert tiny_study.summary["scaling"]["best_law"] == fit.best
    # per-feature capacities: one row per feature per model; the headline agreement is their mean
    with open(folder / "tables" / "capacities.csv", newline="") as fh:
        caps = list(csv.DictReader(fh))
    assert len(caps) == 4 * TINY.n_features
    agree = np.mean([c["agree"] == "True" for c in caps])
    assert tiny_study.summary["capacity"]["class_agreement"] == pytest.approx(agree)
    assert f"{100 * agree:.0f}% of {len(caps)} features" in report
    # decoders: one row per model per decoder, rates in [0, 1]
    dec = json.loads((folder / "tables" / "decoders.json").read_text())
    assert dec["config"] == TINY.to_dict() and "numpy" in dec["versions"]
    assert len(dec["rows"]) == 4 * len(TINY.decoders)
    assert all(0.0 <= r["exact_rate"] <= 1.0 for r in dec["rows"])
    # transitions: both sweeps, learned against predicted
    trans = json.loads((folder / "tables" / "transitions.json").read_text())["rows"]
    assert {(t["parameter"], t["transition"]) for t in trans} == {
        (p, t)
        for p in ("importance", "feature_probability")
        for t in ("superposed_to_own", "ignored_to_superposed")
    }
    points = json.loads((folder / "tables" / "transition_points.json").read_text())["rows"]
    assert len(points) == 2 * 3 * TINY.transition_n_points  # cold, warm up, warm down
    # every section, and every figure it links, is there
    for heading in (
        "## Headline",
        "## 1. Compressed-sensing scaling",
        "## 2. Decoder gap",
        "## 3. Capacity and the Lagrangian",
        "## 4. Phase transitions",
        "## Geometry",
    ):
        assert heading in report
    study = json.loads((folder / "study.json").read_text())
    assert set(study["figures"]) == {
        "scaling",
        "decoders",
        "capacity",
        "dimensionality",
        "geometry",
        "transitions",
    }
    for name in study["figures"].values():
        assert f"(figures/{name})" in report
        assert (folder / "figures" / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert study["config"] == TINY.to_dict()
    assert study["run"]["ran"] == 6


@needs_jit
def test_resume_after_interruption_runs_only_what_is_missing(tiny_study, tmp_path):
    folder = tmp_path / "resumed"
    folder.mkdir()
    # an interrupted run: the header, four finished records and half of a fifth line
    lines = (tiny_study.folder / "records.jsonl").read_bytes().splitlines(keepends=True)
    (folder / "header.json").write_bytes((tiny_study.folder / "header.json").read_bytes())
    (folder / "records.jsonl").write_bytes(b"".join(lines[:4]) + lines[4][:40])
    res = run_study(TINY, folder, progress=False)
    assert (res.ran, res.resumed) == (2, 4)
    assert _strip(res.records) == _strip(tiny_study.records)  # same seeds, same results
    again = run_study(TINY, folder, progress=False)
    assert (again.ran, again.resumed) == (0, 6)
    assert again.summary == res.summary


def test_foreign_folders_are_refused_and_left_untouched(tmp_path):
    other = tmp_path / "notes"
    other.mkdir()
    (other / "thesis.md").write_text("precious")
    with pytest.raises(ValueError, match="not empty and holds no csuper study"):
        run_study(TINY, other, progress=False)
    assert _snapshot(other) == {other.joinpath("thesis.md").relative_to(other): b"precious"}
    afile = tmp_path / "file"
    afile.write_text("x")
    with pytest.raises(ValueError, match="is a file"):
        open_study_folder(afile, TINY)
    # another experiment's store (a phase-transition folder)
    from csuper._store import ResultStore

    phase = tmp_path / "phase"
    ResultStore(phase, "csuper.recovery.phase_transition", {"n": 3})
    before = _snapshot(phase)
    with pytest.raises(ValueError, match="not a csuper study"):
        open_study_folder(phase, TINY)
    assert _snapshot(phase) == before


@needs_jit
def test_a_different_study_is_refused_naming_the_difference(tiny_study, monkeypatch):
    before = _snapshot(tiny_study.folder)
    with pytest.raises(
        ValueError, match=r"holds a different study \(n_steps: 150 there, 200 here\)"
    ):
        run_study(TINY.replace(n_steps=200), tiny_study.folder, progress=False)
    assert _snapshot(tiny_study.folder) == before
    assert json.loads((tiny_study.folder / "header.json").read_text())["experiment"] == EXPERIMENT
    # records of another csuper version are not mixed with this one's either
    header = json.loads((tiny_study.folder / "header.json").read_text())
    assert header["config"] == study_identity(TINY)
    monkeypatch.setattr("csuper.__version__", "0.0.1")
    with pytest.raises(ValueError, match=r"csuper_version: '.+' there, '0.0.1' here"):
        run_study(TINY, tiny_study.folder, progress=False)
    assert _snapshot(tiny_study.folder) == before


@needs_jit
def test_worker_processes_give_the_serial_results(tmp_path):
    cfg = TINY.replace(n_dims=(2,), sparsities=(0.0, 0.9), transition_n_points=3)
    serial = run_study(cfg, tmp_path / "serial", progress=False)
    with make_executor(workers=2) as ex:
        pooled = run_study(cfg, tmp_path / "pool", executor=ex, progress=False)
    assert _strip(pooled.records) == _strip(serial.records)
    # two models are too few for the scaling fit: the report says so instead of fitting
    notes = json.loads((tmp_path / "pool" / "study.json").read_text())["notes"]
    assert any("needs at least 3 models" in n for n in notes)


@needs_jit
def test_dask_local_cluster_gives_the_serial_results(tmp_path):
    distributed = pytest.importorskip("distributed")
    cfg = TINY.replace(n_dims=(2,), sparsities=(0.9,), transition_n_points=3)
    serial = run_study(cfg, tmp_path / "serial", progress=False)
    with distributed.LocalCluster(
        n_workers=1,
        threads_per_worker=2,
        processes=False,
        host="127.0.0.1",
        protocol="tcp://",
        dashboard_address=None,
    ) as cluster:
        with make_executor(scheduler=cluster.scheduler_address, timeout=20) as ex:
            res = run_study(cfg, tmp_path / "dask", executor=ex, progress=False)
    assert _strip(res.records) == _strip(serial.records)
    study = json.loads((tmp_path / "dask" / "study.json").read_text())
    assert study["run"]["executor"].startswith("dask")
    assert all(math.isfinite(r["final_loss"]) for r in res.records if r["kind"] == "model")
