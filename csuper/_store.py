"""A small append-only JSONL result store for resumable experiments.

An experiment's folder holds ``header.json`` (what experiment, with which configuration) and
``records.jsonl`` (one JSON object per completed unit of work, keyed by a config key). On rerun,
:attr:`ResultStore.done` lists the keys already finished so that the caller skips them; a folder
whose header names a different experiment or configuration is refused, so results never mix.

Appends are single ``write`` calls of one complete line on a file opened in append mode, flushed
and fsynced: a crash leaves at most one truncated last line, which is ignored (and overwritten
cleanly) on the next open.

Examples
--------
>>> import tempfile
>>> folder = tempfile.mkdtemp()
>>> store = ResultStore(folder, "demo", {"n": 10})
>>> store.append(make_key(m=3, k=1), {"successes": 7})
>>> ResultStore(folder, "demo", {"n": 10}).done == {make_key(m=3, k=1)}
True
>>> ResultStore(folder, "other", {"n": 10})
Traceback (most recent call last):
...
ValueError: folder ... holds experiment 'demo' with config {'n': 10}; refusing to mix it with
experiment 'other' with config {'n': 10}.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = ["ResultStore", "make_key"]

_FORMAT = 1


def make_key(**params: Any) -> str:
    """Canonical string key of a unit of work: sorted-key JSON of its parameters.

    Examples
    --------
    >>> make_key(m=3, k=1) == make_key(k=1, m=3)
    True
    """
    return json.dumps(params, sort_keys=True, separators=(",", ":"), default=_jsonable)


def _jsonable(obj: Any):
    try:
        import numpy as np

        if isinstance(obj, np.generic):
            return obj.item()
        if isinstance(obj, np.ndarray):
            return obj.tolist()
    except ImportError:  # pragma: no cover
        pass
    raise TypeError(f"value of type {type(obj).__name__} is not JSON serialisable: {obj!r}")


def _normalise(obj: Any) -> Any:
    """Round-trip through JSON so that tuples/lists and numpy scalars compare as stored."""
    return json.loads(json.dumps(obj, sort_keys=True, default=_jsonable))


class ResultStore:
    """Append-only, resumable record store in a folder.

    Parameters
    ----------
    folder : str or Path
        Created if missing.
    experiment : str
        Name of the experiment (e.g. ``"csuper.recovery.phase_transition"``).
    config : dict
        JSON-serialisable configuration that identifies the experiment's results (grid, trials,
        seed, ...). Reopening the folder with a different ``experiment`` or ``config`` raises.

    Attributes
    ----------
    done : set of str
        Keys of the records already stored.
    """

    def __init__(self, folder, experiment: str, config: dict) -> None:
        if not isinstance(experiment, str) or not experiment:
            raise TypeError(f"experiment must be a non-empty string; got {experiment!r}.")
        if not isinstance(config, dict):
            raise TypeError(f"config must be a dict; got {type(config).__name__}.")
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.experiment = experiment
        self.config = _normalise(config)
        self.header_path = self.folder / "header.json"
        self.records_path = self.folder / "records.jsonl"
        header = {"csuper_store": _FORMAT, "experiment": experiment, "config": self.config}
        if self.header_path.exists():
            old = json.loads(self.header_path.read_text())
            if old.get("experiment") != experiment or old.get("config") != self.config:
                raise ValueError(
                    f"folder {str(self.folder)!r} holds experiment {old.get('experiment')!r} with "
                    f"config {old.get('config')!r}; refusing to mix it with experiment "
                    f"{experiment!r} with config {self.config!r}."
                )
        else:
            tmp = self.header_path.with_suffix(".tmp")
            tmp.write_text(json.dumps(header, sort_keys=True, indent=1))
            os.replace(tmp, self.header_path)  # atomic
        self._records: dict[str, dict] = {}
        self._load()

    def _load(self) -> None:
        if not self.records_path.exists():
            return
        raw = self.records_path.read_bytes()
        good_end = 0
        for line in raw.splitlines(keepends=True):
            if not line.endswith(b"\n"):
                break  # truncated by a crash: drop it
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:
                break
            self._records[rec["key"]] = rec["record"]
            good_end += len(line)
        if good_end != len(raw):
            with open(self.records_path, "r+b") as fh:
                fh.truncate(good_end)

    @property
    def done(self) -> set[str]:
        return set(self._records)

    def __contains__(self, key: str) -> bool:
        return key in self._records

    def __len__(self) -> int:
        return len(self._records)

    def append(self, key: str, record: dict) -> None:
        """Store one finished record under ``key`` (a key may be stored once)."""
        if key in self._records:
            raise ValueError(f"key {key!r} is already stored in {str(self.folder)!r}.")
        line = json.dumps({"key": key, "record": record}, sort_keys=True, default=_jsonable) + "\n"
        fd = os.open(self.records_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line.encode())
            os.fsync(fd)
        finally:
            os.close(fd)
        self._records[key] = _normalise(record)

    def get(self, key: str) -> dict | None:
        """The record stored under ``key``, or None."""
        return self._records.get(key)

    def records(self) -> Iterator[tuple[str, dict]]:
        """(key, record) pairs in the order they were stored."""
        return iter(list(self._records.items()))
