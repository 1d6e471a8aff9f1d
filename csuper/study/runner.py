"""Run a study: resumable, longest tasks first, through :mod:`csuper.executor`, into a report
folder; and re-render a saved study's report without retraining."""

from __future__ import annotations

import functools
import json
import os
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from csuper._errors import CsuperWarning
from csuper._store import ResultStore
from csuper._validation import check_bool, check_output_folder
from csuper.study.config import StudyConfig, check_config
from csuper.study.records import RECORD_VERSION
from csuper.study.report import write_report
from csuper.study.tasks import run_task, study_tasks, task_cost

__all__ = [
    "StudyResult",
    "run_study",
    "render_study",
    "open_study_folder",
    "study_identity",
    "EXPERIMENT",
]

#: Experiment name in a study folder's ``header.json``.
EXPERIMENT = "csuper.study"


@dataclass(frozen=True)
class StudyResult:
    """Outcome of :func:`run_study` or :func:`render_study`.

    Attributes
    ----------
    folder : Path
        The study folder (report.md, report.html, study.json, tables/, figures/, records.jsonl).
    config : StudyConfig
    records : list of dict
        One stored record per finished task, in :func:`csuper.study.study_tasks` order.
    summary : dict
        What ``study.json`` holds: the verdicts (``summary["questions"]``) and their numbers.
    ran, resumed : int
        Tasks run by this call and tasks found finished in the folder.
    """

    folder: Path
    config: StudyConfig = field(repr=False)
    records: list = field(repr=False)
    summary: dict = field(repr=False)
    ran: int
    resumed: int

    @property
    def verdicts(self) -> dict[str, str]:
        """Question id -> verdict."""
        return {q["qid"]: q["status"] for q in self.summary["questions"]}


def study_identity(config: StudyConfig) -> dict[str, Any]:
    """What a study folder's header records: the configuration, the csuper version and the
    record schema version (records of another version are never mixed with these)."""
    from csuper import __version__

    return {**config.to_dict(), "csuper_version": __version__, "record_version": RECORD_VERSION}


def _read_header(folder: Path) -> dict:
    header = folder / "header.json"
    try:
        old = json.loads(header.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(
            f"output folder {str(folder)!r}: header.json is unreadable ({exc}); nothing was "
            "written."
        ) from None
    if not isinstance(old, dict) or old.get("experiment") != EXPERIMENT:
        what = old.get("experiment") if isinstance(old, dict) else old
        raise ValueError(
            f"folder {str(folder)!r} holds results of {what!r}, not a csuper study; nothing "
            "was written."
        )
    return old


def open_study_folder(folder, config: StudyConfig) -> ResultStore:
    """Open (or create) the result store of ``config`` in ``folder``, refusing anything else.

    Raises
    ------
    ValueError
        ``folder`` is a file; it holds files but no study; it holds another experiment; or it
        holds a study with a different configuration, csuper version or record schema (the
        differing fields are named). Nothing is written in these cases.
    """
    folder = check_output_folder(folder, "folder")
    identity = study_identity(check_config(config))
    if folder.is_dir() and any(folder.iterdir()):
        if not (folder / "header.json").is_file():
            raise ValueError(
                f"output folder {str(folder)!r} is not empty and holds no csuper study; "
                "choose a new or empty folder (nothing was written)."
            )
        old_cfg = _read_header(folder).get("config", {})
        if old_cfg != json.loads(json.dumps(identity)):
            diff = sorted(
                k for k in set(old_cfg) | set(identity) if old_cfg.get(k) != identity.get(k)
            )
            shown = ", ".join(
                f"{k}: {old_cfg.get(k)!r} there, {identity.get(k)!r} here" for k in diff[:6]
            )
            raise ValueError(
                f"output folder {str(folder)!r} holds a different study ({shown}"
                f"{', ...' if len(diff) > 6 else ''}); rerun with the same options to resume it, "
                "or choose another output folder (nothing was written)."
            )
    return ResultStore(folder, EXPERIMENT, identity)


def _say(log: Callable[[str], None] | None, text: str) -> None:
    if log is not None:
        log(text)


def _warm_up(log: Callable[[str], None] | None) -> None:
    """Compile (or load from numba's cache) the kernels every task uses, in this process, so
    that worker processes find them cached and the progress bar does not sit at 0 %."""
    import numpy as np

    from csuper.compare import DECODERS, decoder_gap, recovered_features
    from csuper.geometry import feature_dimensionality, mean_squared_overlap
    from csuper.toy import TrainSettings, feature_distribution, train

    _say(log, "preparing numba kernels (compiled on the first run, then cached)...")
    start = time.perf_counter()
    s = TrainSettings(n_steps=2, batch_size=4)
    for instances in (1, 2):
        m = train(feature_distribution(4, np.full((instances, 4), 0.5)), 2, settings=s, rng=0)
    train(feature_distribution(4, 0.5), 2, settings=s, init=(m.W[:1], m.b[:1]), seeds=[1])
    W, b = m.W[0] + 0.1, m.b[0]
    feature_dimensionality(W)
    mean_squared_overlap(W)
    recovered_features(W, b, 0.5, n_samples_per_feature=1, rng=0)
    decoder_gap(W, b, 0.5, n_samples=2, n_fit_samples=4, decoders=tuple(DECODERS), rng=0)
    seconds = time.perf_counter() - start
    _say(
        log,
        f"kernels ready in {seconds:.1f} s ({'compiled' if seconds > 5 else 'from the cache'}).",
    )


def run_study(
    config: StudyConfig | None = None,
    output=None,
    *,
    executor=None,
    progress: bool = False,
) -> StudyResult:
    """Train the study's models, answer its questions and write the report folder.

    Parameters
    ----------
    config : StudyConfig, optional
        Default: :class:`StudyConfig` (the default preset).
    output : str or PathLike, optional
        The study folder (default :data:`csuper.study.DEFAULT_OUTPUT`). Finished tasks are
        appended to ``records.jsonl`` as they complete; rerunning with the same folder and
        configuration runs only what is missing. A folder holding anything else is refused
        before anything is written (:func:`open_study_folder`).
    executor : csuper.executor.Executor, optional
        Where the tasks run (:func:`csuper.executor.make_executor`: local processes or a Dask
        cluster); default: serially in this process. Results do not depend on it.
    progress : bool, default False
        Say what is happening (compiling, tasks) and show a progress bar over tasks.

    Returns
    -------
    StudyResult

    Notes
    -----
    Each task gets its own child seed of ``config.seed`` (:func:`csuper.study.study_tasks`), so
    results are the same for every executor and number of workers. Tasks are submitted longest
    first (by :func:`csuper.study.tasks.task_cost`), so that the last minutes are not spent
    waiting for one long task. In worker processes training uses one numba thread each.
    """
    from csuper.executor import check_executor, make_executor
    from csuper.study.config import DEFAULT_OUTPUT

    config = check_config(StudyConfig() if config is None else config)
    check_executor(executor)
    progress = check_bool(progress, "progress")
    folder = check_output_folder(DEFAULT_OUTPUT if output is None else output, "output")
    start = time.perf_counter()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    store = open_study_folder(folder, config)
    tasks = study_tasks(config)
    pending = sorted((t for t in tasks if t["key"] not in store), key=task_cost, reverse=True)
    resumed = len(tasks) - len(pending)
    ex = make_executor(workers=1) if executor is None else executor
    log = (lambda text: print(text, file=sys.stderr, flush=True)) if progress else None
    if pending:
        _warm_up(log)
    fn = functools.partial(run_task, numba_threads=None if ex.kind == "serial" else 1)
    for i, record in ex.map(fn, pending, progress=progress and bool(pending), desc="csuper study"):
        store.append(pending[i]["key"], record)
    kind = f"{ex.kind} ({ex.workers} worker{'s' if ex.workers != 1 else ''})"
    records = []
    for t in tasks:
        record = store.get(t["key"])
        if record is None:  # every pending task was appended above
            raise RuntimeError(f"the study folder {folder} lost the record of task {t['key']}.")
        records.append(record)
    _say(log, "answering the questions and writing the report...")
    run_info = {
        "ran": len(pending),
        "resumed": resumed,
        "executor": kind,
        "wall_seconds": time.perf_counter() - start,
        "load": round(load, 2),
    }
    summary = write_report(folder, config, records, run_info=run_info)
    return StudyResult(folder, config, records, summary, len(pending), resumed)


def render_study(folder) -> StudyResult:
    """Re-render the report of a saved study from its records, without training anything.

    Parameters
    ----------
    folder : str or PathLike
        A folder written by :func:`run_study` (finished or interrupted: questions without
        records are reported as not run).

    Raises
    ------
    ValueError
        Not a csuper study folder, or a study written with another record schema (the message
        says which, and what to do).

    Warns
    -----
    CsuperWarning
        The study is incomplete (an interrupted run): how many tasks have records.
    """
    if not isinstance(folder, (str, os.PathLike)):
        raise TypeError(f"folder must be a str or PathLike; got {type(folder).__name__}.")
    folder = Path(folder)
    if not (folder / "header.json").is_file():
        raise ValueError(f"{str(folder)!r} is not a csuper study folder (no header.json).")
    identity = _read_header(folder).get("config", {})
    version = identity.get("record_version", 1)
    if version != RECORD_VERSION:
        raise ValueError(
            f"{str(folder)!r} was written by csuper {identity.get('csuper_version', '?')} with "
            f"record schema {version}; this csuper reads schema {RECORD_VERSION}. Rerun the study "
            "(into a new folder) to get a report."
        )
    fields = {k: v for k, v in identity.items() if k not in ("csuper_version", "record_version")}
    config = StudyConfig.from_dict(fields)
    store = ResultStore(folder, EXPERIMENT, identity)
    tasks = study_tasks(config)
    records = [r for t in tasks if (r := store.get(t["key"])) is not None]
    if len(records) < len(tasks):
        warnings.warn(
            f"the study in {str(folder)!r} is incomplete: {len(records)} of {len(tasks)} tasks "
            "have records, and the verdicts use only those; rerun the study into the same "
            "folder with its options to finish it.",
            CsuperWarning,
            stacklevel=2,
        )
    old = {}
    if (folder / "study.json").is_file():
        try:
            old = json.loads((folder / "study.json").read_text(encoding="utf-8")).get("run", {})
        except (OSError, json.JSONDecodeError):
            old = {}
    summary = write_report(folder, config, records, run_info=old)
    return StudyResult(folder, config, records, summary, 0, len(records))
