"""Running a study: report content against independent recomputation, no pyplot state touched,
resume after an interruption, refusal of foreign folders, longest tasks first, re-rendering
without training, and identical results on every executor."""

import contextlib
import io
import json
import math
import os
import re
import warnings

import matplotlib
import numpy as np
import pytest

from csuper import CsuperWarning
from csuper.compare import nonnegative_threshold
from csuper.executor import Executor, make_executor
from csuper.study import (
    QUESTIONS,
    open_study_folder,
    quick_config,
    render_study,
    run_study,
    study_tasks,
)
from csuper.study.records import RECORD_VERSION
from csuper.study.runner import EXPERIMENT, study_identity
from csuper.study.stats import VERDICTS
from csuper.study.tasks import task_cost

needs_jit = pytest.mark.skipif(
    os.environ.get("NUMBA_DISABLE_JIT") == "1", reason="trains toy models; too slow as plain Python"
)

#: Every question on toy sizes; about 10 s of training on 2 cores.
TINY = quick_config().replace(
    n_steps=200,
    n_bootstrap=100,
    scaling_n_features=(10, 16),
    sparsity_sparsities=(0.0, 0.9),
    size_n_dims=(2, 3),
    robustness_variants=("study", "no_weight_decay"),
    decoder_n_samples=20,
    decoder_n_fit_samples=40,
)


def _strip(records):
    """Records without their timings (which differ from run to run)."""
    return [{k: v for k, v in r.items() if k != "seconds"} for r in records]


def _snapshot(folder):
    return {p.relative_to(folder): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


#: What the fixture's run submitted and printed.
_RUN: dict = {}


class _Recorder(Executor):
    """A serial executor that records the order in which tasks are submitted."""

    def __init__(self):
        super().__init__("serial", 1)
        self.order = []

    def map(self, fn, tasks, *, progress=False, desc=None):
        tasks = list(tasks)
        self.order = [t["key"] for t in tasks]
        return super().map(fn, tasks, progress=progress, desc=desc)


@pytest.fixture(scope="module")
def tiny_study(tmp_path_factory):
    import matplotlib.pyplot as plt

    folder = tmp_path_factory.mktemp("study") / "out"
    backend, figs = matplotlib.get_backend(), plt.get_fignums()
    ex, err = _Recorder(), io.StringIO()
    with contextlib.redirect_stderr(err):
        res = run_study(TINY, folder, executor=ex, progress=True)
    # issue 10, item 5: writing the report must not switch the caller's backend (a notebook's
    # inline plots) nor leave figures in pyplot's list
    assert matplotlib.get_backend() == backend and plt.get_fignums() == figs
    _RUN.update(submitted=ex.order, stderr=err.getvalue())
    return res


@needs_jit
def test_report_puts_conclusions_first_and_is_self_contained(tiny_study):
    folder = tiny_study.folder
    assert tiny_study.ran == len(study_tasks(TINY)) and tiny_study.resumed == 0
    report = (folder / "report.md").read_text()
    headings = re.findall(r"^## (.+)$", report, re.M)
    assert headings[:2] == ["Conclusions", "Limitations"]
    assert [h for h in headings if re.match(r"Q\d\.", h)] == [
        f"{qid}. {q.title}" for qid, q in QUESTIONS.items()
    ]
    study = json.loads((folder / "study.json").read_text())
    conclusions = report.split("## Limitations")[0]
    for q in study["questions"]:
        assert q["status"] in VERDICTS
        # the verdict sentence is generated once and printed as it is, in both documents
        assert f"**{q['qid']} {q['title']}: {q['status']}.** {q['sentence']}" in conclusions
    assert tiny_study.verdicts == {q["qid"]: q["status"] for q in study["questions"]}
    html = (folder / "report.html").read_text()
    assert html.count("data:image/png;base64,") == len(study["figures"]) >= 6
    assert 'src="figures/' not in html and "http" not in html.split("<body>")[1]
    assert html.index("<h2>Conclusions</h2>") < html.index("<h2>Limitations</h2>")
    for name in study["figures"].values():
        assert f"(figures/{name})" in report
    assert study["config"] == TINY.to_dict() and "numpy" in study["versions"]
    assert study["run"]["ran"] == tiny_study.ran and "load" in study["run"]
    assert len(repr(tiny_study)) < 200


@needs_jit
def test_records_against_independent_recomputation(tiny_study):
    from csuper.study import parse_record

    for raw in tiny_study.records:
        rec = parse_record(raw)
        if rec.schema != "csuper.study.model":
            continue
        assert len(rec.replicates) == TINY.n_seeds
        assert rec.threshold == pytest.approx(
            float(nonnegative_threshold(float(rec.n_features), rec.k)), rel=1e-12
        )
        for r in rec.replicates:
            W = np.array(r.W)
            norms = np.linalg.norm(W, axis=0)
            assert r.norms == pytest.approx(norms.tolist())
            assert r.represented == int(np.sum(norms > TINY.represented_threshold))
            assert r.recovered == int(
                np.sum(np.array(r.explained_variance) >= TINY.min_explained_variance)
            )
            assert sum(r.dimensionality) <= rec.n_dims + 1e-9  # sum D_i <= m
            assert r.dimensions_per_feature == pytest.approx(rec.n_dims / np.sum(W**2))
    # the Q5 table's recovered fractions are the replicate means of the records
    table = json.loads((tiny_study.folder / "tables" / "q5_1.json").read_text())
    sparsity = [parse_record(r) for r in tiny_study.records if r.get("group") == "sparsity"]
    for row in table["rows"]:
        (m,) = [m for m in sparsity if math.isclose(1 - m.feature_probability, row["sparsity"])]
        want = np.mean([r.recovered / m.n_features for r in m.replicates])
        assert row["recovered"].startswith(f"{want:.3g}")


def _interrupted_copy(study, folder):
    """A new folder holding ``study``'s header, and ``study``'s record lines (to write back)."""
    folder.mkdir()
    (folder / "header.json").write_bytes((study.folder / "header.json").read_bytes())
    return folder, (study.folder / "records.jsonl").read_bytes().splitlines(keepends=True)


@needs_jit
def test_resume_after_interruption_runs_only_what_is_missing(tiny_study, tmp_path):
    # an interrupted run: the header, all but the last three records (the shortest tasks, run
    # last) and half of the next line
    folder, lines = _interrupted_copy(tiny_study, tmp_path / "resumed")
    (folder / "records.jsonl").write_bytes(b"".join(lines[:-3]) + lines[-3][:40])
    res = run_study(TINY, folder, progress=False)
    assert (res.ran, res.resumed) == (3, tiny_study.ran - 3)
    assert _strip(res.records) == _strip(tiny_study.records)  # same seeds, same results
    assert res.verdicts == tiny_study.verdicts


@needs_jit
def test_report_only_re_renders_without_training(tiny_study, tmp_path, monkeypatch):
    import csuper.study.tasks as tasks

    folder = tmp_path / "copy"
    folder.mkdir()
    for name in ("header.json", "records.jsonl"):
        (folder / name).write_bytes((tiny_study.folder / name).read_bytes())
    monkeypatch.setattr(tasks, "model_task", None)  # any training would fail
    res = render_study(folder)
    assert (res.ran, res.resumed) == (0, len(tiny_study.records))
    assert res.verdicts == tiny_study.verdicts
    assert (folder / "report.md").read_text().split("## Run")[0].rstrip() == (
        (tiny_study.folder / "report.md").read_text().split("## Run")[0].rstrip()
    )
    # a folder written by an earlier record schema gets a message, not a KeyError
    header = json.loads((folder / "header.json").read_text())
    header["config"].pop("record_version")
    (folder / "header.json").write_text(json.dumps(header))
    with pytest.raises(
        ValueError,
        match=rf"record schema 1; this csuper reads schema "
        rf"{RECORD_VERSION}",
    ):
        render_study(folder)
    with pytest.raises(ValueError, match="not a csuper study folder"):
        render_study(tmp_path)


@needs_jit
def test_report_only_says_when_the_study_is_incomplete(tiny_study, tmp_path):
    # re-rendering an interrupted study gave verdicts from a fraction of the tasks, silently
    folder, lines = _interrupted_copy(tiny_study, tmp_path / "interrupted")
    (folder / "records.jsonl").write_bytes(b"".join(lines[:-3]))
    n = len(study_tasks(TINY))
    with pytest.warns(CsuperWarning, match=rf"incomplete: {n - 3} of {n} tasks have records"):
        res = render_study(folder)
    assert len(res.records) == n - 3
    (folder / "records.jsonl").write_bytes(b"".join(lines))
    with warnings.catch_warnings():
        warnings.simplefilter("error", CsuperWarning)
        render_study(folder)  # complete: no warning


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
    with pytest.raises(TypeError, match="folder must be a path"):
        open_study_folder(3, TINY)
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
        ValueError, match=r"holds a different study \(n_steps: 200 there, 300 here\)"
    ):
        run_study(TINY.replace(n_steps=300), tiny_study.folder, progress=False)
    assert _snapshot(tiny_study.folder) == before
    header = json.loads((tiny_study.folder / "header.json").read_text())
    assert header["experiment"] == EXPERIMENT and header["config"] == study_identity(TINY)
    assert header["config"]["record_version"] == RECORD_VERSION
    monkeypatch.setattr("csuper.__version__", "0.0.1")
    with pytest.raises(ValueError, match=r"csuper_version: '.+' there, '0.0.1' here"):
        run_study(TINY, tiny_study.folder, progress=False)
    assert _snapshot(tiny_study.folder) == before


@needs_jit
def test_longest_tasks_first_and_progress_says_when_compiling(tiny_study):
    cost = {t["key"]: task_cost(t) for t in study_tasks(TINY)}
    assert [cost[k] for k in _RUN["submitted"]] == sorted(cost.values(), reverse=True)
    err = _RUN["stderr"]
    assert "preparing numba kernels (compiled on the first run, then cached)" in err
    assert re.search(r"kernels ready in \d+\.\d s", err)
    assert err.index("kernels ready") < err.index("csuper study")  # before the progress bar


@needs_jit
def test_worker_processes_give_the_serial_results(tiny_study, tmp_path):
    with make_executor(workers=2) as ex:
        pooled = run_study(TINY, tmp_path / "pool", executor=ex, progress=False)
    assert _strip(pooled.records) == _strip(tiny_study.records)
    assert pooled.verdicts == tiny_study.verdicts


@pytest.mark.slow
@needs_jit
def test_dask_local_cluster_gives_the_serial_results(tmp_path):
    distributed = pytest.importorskip("distributed")
    cfg = TINY.replace(
        scaling_n_features=(10,), sparsity_sparsities=(0.9, 0.97), robustness_sparsities=(0.9,)
    )
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


# ---------------------------------------------------------------------------------------------
# Regressions of the fuzz suite's findings (tests/test_fuzz.py: KNOWN/PINNED_FAILURES)


def test_study_entry_points_name_their_bad_argument(tmp_path):
    from csuper.study import format_summary

    with pytest.raises(TypeError, match="folder must be a path"):
        open_study_folder(None, quick_config())
    with pytest.raises(TypeError, match="output must be a path"):
        run_study(quick_config(), 1.5)
    with pytest.raises(TypeError, match="progress must be True or False"):
        run_study(quick_config(), tmp_path / "s", progress="no")
    assert not (tmp_path / "s").exists()
    with pytest.raises(TypeError, match="summary must be a dict"):
        format_summary(object())
    with pytest.raises(ValueError, match=r"summary\['questions'\]"):
        format_summary({"questions": [{"qid": "Q1"}]})
    q = {"qid": "Q1", "title": "T", "status": "supported", "sentence": "S."}
    assert format_summary({"questions": [q]}) == "Q1 T: SUPPORTED. S."
