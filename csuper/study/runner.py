"""Run a study: resumable, through :mod:`csuper.executor`, into a report folder."""

from __future__ import annotations

import functools
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from csuper._store import ResultStore
from csuper.study.config import StudyConfig, check_config
from csuper.study.report import write_report
from csuper.study.tasks import run_task, study_tasks

__all__ = ["StudyResult", "run_study", "open_study_folder", "study_identity", "EXPERIMENT"]

#: Experiment name in a study folder's ``header.json``.
EXPERIMENT = "csuper.study"


@dataclass(frozen=True)
class StudyResult:
    """Outcome of :func:`run_study`.

    Attributes
    ----------
    folder : Path
        The study folder (report.md, study.json, tables/, figures/, records.jsonl).
    config : StudyConfig
    records : list of dict
        One record per task, in :func:`csuper.study.study_tasks` order.
    summary : dict
        Headline numbers (:func:`csuper.study.report.headline`).
    ran, resumed : int
        Tasks run by this call and tasks found finished in the folder.
    """

    folder: Path
    config: StudyConfig
    records: list
    summary: dict
    ran: int
    resumed: int


def study_identity(config: StudyConfig) -> dict[str, Any]:
    """What a study folder's header records: the configuration and the csuper version.

    The version is part of the identity so that records written by another version of csuper
    (whose results may differ for the same seeds) are never mixed with this one's.
    """
    from csuper import __version__

    return {**config.to_dict(), "csuper_version": __version__}


def open_study_folder(folder, config: StudyConfig) -> ResultStore:
    """Open (or create) the result store of ``config`` in ``folder``, refusing anything else.

    Raises
    ------
    ValueError
        ``folder`` is a file; it holds files but no study; it holds another experiment; or it
        holds a study with a different configuration or csuper version (the differing fields
        are named, see :func:`study_identity`). Nothing is written in these cases.
    """
    folder = Path(folder)
    identity = study_identity(check_config(config))
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"output {str(folder)!r} is a file, not a folder.")
    header = folder / "header.json"
    if folder.is_dir() and any(folder.iterdir()):
        if not header.is_file():
            raise ValueError(
                f"output folder {str(folder)!r} is not empty and holds no csuper study; "
                "choose a new or empty folder (nothing was written)."
            )
        try:
            old = json.loads(header.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise ValueError(
                f"output folder {str(folder)!r}: header.json is unreadable ({exc}); "
                "nothing was written."
            ) from None
        if old.get("experiment") != EXPERIMENT:
            raise ValueError(
                f"output folder {str(folder)!r} holds results of "
                f"{old.get('experiment')!r}, not a csuper study; nothing was written."
            )
        old_cfg = old.get("config", {})
        if old_cfg != json.loads(json.dumps(identity)):
            diff = sorted(
                k for k in set(old_cfg) | set(identity) if old_cfg.get(k) != identity.get(k)
            )
            shown = ", ".join(
                f"{k}: {old_cfg.get(k)!r} there, {identity.get(k)!r} here" for k in diff
            )
            raise ValueError(
                f"output folder {str(folder)!r} holds a different study ({shown}); "
                "rerun with the same options to resume it, or choose another output "
                "folder (nothing was written)."
            )
    return ResultStore(folder, EXPERIMENT, identity)


def run_study(
    config: StudyConfig | None = None,
    output=None,
    *,
    executor=None,
    progress: bool = False,
) -> StudyResult:
    """Train the study's toy models, run the four comparisons and write the report folder.

    Parameters
    ----------
    config : StudyConfig, optional
        Default: :class:`StudyConfig` (the default study).
    output : str or Path, optional
        The study folder (default :data:`csuper.study.DEFAULT_OUTPUT`). Finished configurations
        are appended to ``records.jsonl`` as they complete; rerunning with the same folder and
        configuration runs only what is missing. A folder holding anything else is refused
        before anything is written (:func:`open_study_folder`).
    executor : csuper.executor.Executor, optional
        Where the configurations run (:func:`csuper.executor.make_executor`: local processes or
        a Dask cluster); default: serially in this process. Results do not depend on it.
    progress : bool, default False
        Show a progress bar over configurations.

    Returns
    -------
    StudyResult

    Notes
    -----
    Each configuration (one (m, S) model, or one transition sweep) gets its own child seed of
    ``config.seed`` (:func:`csuper.study.study_tasks`), so results are the same for every
    executor and number of workers. In worker processes training uses one numba thread each.
    """
    from csuper.executor import Executor, make_executor
    from csuper.study.config import DEFAULT_OUTPUT

    config = check_config(StudyConfig() if config is None else config)
    if executor is not None and not isinstance(executor, Executor):
        raise TypeError(
            "executor must be None or a csuper.executor.Executor (see make_executor); "
            f"got {type(executor).__name__}."
        )
    folder = Path(DEFAULT_OUTPUT if output is None else output)
    start = time.perf_counter()
    store = open_study_folder(folder, config)
    tasks = study_tasks(config)
    pending = [t for t in tasks if t["key"] not in store]
    resumed = len(tasks) - len(pending)
    ex = make_executor(workers=1) if executor is None else executor
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
    run_info = {
        "ran": len(pending),
        "resumed": resumed,
        "executor": kind,
        "wall_seconds": time.perf_counter() - start,
    }
    summary = write_report(folder, config, records, run_info=run_info)
    return StudyResult(folder, config, records, summary, len(pending), resumed)
