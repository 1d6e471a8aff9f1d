"""A small append-only JSONL result store for resumable experiments.

An experiment's folder holds ``header.json`` (what experiment, with which configuration) and
``records.jsonl`` (one JSON object per completed unit of work, keyed by a config key). On rerun,
:attr:`ResultStore.done` lists the keys already finished so that the caller skips them.

Folders that are not csuper's are refused (:class:`csuper.StoreError`, a ``ValueError``; nothing
is written): a file; a folder holding other files; a folder whose ``header.json`` is missing but
which holds records (it cannot say which configuration they belong to); an unreadable header; a
header naming a different experiment or configuration, so results never mix. Only the last
folder of the path is created: its parent must exist.

Appends are single ``write`` calls of one complete line on a file opened in append mode, flushed
and fsynced: a crash leaves at most one truncated last line, which is dropped (and overwritten
cleanly) on the next open. Any other line that is not a valid record (garbage, a JSON value
that is not ``{"key": str, "record": dict}``, binary data) is reported by its line number in a
:class:`csuper.StoreCorruptionWarning`, moved to ``records.corrupt`` beside the records (kept
for inspection) and its work recomputed; every valid record, before and after it, is kept.

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
csuper._errors.StoreError: folder ... holds results of experiment 'demo'; refusing to mix them
with experiment 'other' (choose another folder; nothing was written).
>>> ResultStore(folder, "demo", {"n": 20})
Traceback (most recent call last):
...
csuper._errors.StoreError: folder ... holds experiment 'demo' with other options (n: 10 there, 20
here); refusing to mix them (rerun with the folder's options to resume it, or choose another
folder; nothing was written).
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Iterator
from typing import Any

from csuper._errors import StoreCorruptionWarning, StoreError
from csuper._validation import check_output_folder

__all__ = ["ResultStore", "make_key"]

_FORMAT = 1


def _differences(there: Any, here: Any, path: tuple[str, ...] = ()) -> str:
    """The entries in which two configurations differ (nested dicts entry by entry), each value
    shortened: ``"n: 10 there, 20 here; settings.lr: 0.1 there, 0.2 here"``."""
    if isinstance(there, dict) and isinstance(here, dict):
        keys = sorted(k for k in set(there) | set(here) if there.get(k, ...) != here.get(k, ...))
        return "; ".join(
            _differences(there.get(k, ...), here.get(k, ...), (*path, k)) for k in keys
        )

    def short(value: Any) -> str:
        text = "unset" if value is ... else repr(value)
        return text if len(text) <= 60 else text[:57] + "..."

    return f"{'.'.join(path) or 'config'}: {short(there)} there, {short(here)} here"


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


def _parse_line(line: bytes) -> tuple[str, dict] | None:
    """(key, record) of one stored line, or None if it is not a valid record."""
    try:
        rec = json.loads(line)
    except ValueError:  # JSONDecodeError, UnicodeDecodeError (binary garbage)
        return None
    if not isinstance(rec, dict) or set(rec) != {"key", "record"}:
        return None
    if not isinstance(rec["key"], str) or not isinstance(rec["record"], dict):
        return None
    return rec["key"], rec["record"]


def _normalise(obj: Any) -> Any:
    """Round-trip through JSON so that tuples/lists and numpy scalars compare as stored."""
    return json.loads(json.dumps(obj, sort_keys=True, default=_jsonable))


class ResultStore:
    """Append-only, resumable record store in a folder.

    Parameters
    ----------
    folder : str or os.PathLike
        Created if missing (its parent must exist). An existing folder must be empty or hold
        this experiment's results.
    experiment : str
        Name of the experiment (e.g. ``"csuper.recovery.phase_transition"``).
    config : dict
        JSON-serialisable configuration that identifies the experiment's results (grid, trials,
        seed, ...). Reopening the folder with a different ``experiment`` or ``config`` raises.
    name : str, default "folder"
        The caller's name of ``folder`` (its parameter), used in the messages of bad paths.

    Attributes
    ----------
    done : set of str
        Keys of the records already stored.
    corrupt_lines : list of int
        Line numbers (1-based) of ``records.jsonl`` that were not valid records when the store
        was opened (they were moved to ``records.corrupt``; their work is redone).

    Raises
    ------
    StoreError
        (a ``ValueError``) for a folder that is not csuper's or holds other results; see the
        module docstring. Nothing is written in these cases.
    """

    def __init__(self, folder, experiment: str, config: dict, *, name: str = "folder") -> None:
        if not isinstance(experiment, str) or not experiment:
            raise TypeError(f"experiment must be a non-empty string; got {experiment!r}.")
        if not isinstance(config, dict):
            raise TypeError(f"config must be a dict; got {type(config).__name__}.")
        self.folder = check_output_folder(folder, name)
        self.experiment = experiment
        self.config = _normalise(config)
        self.header_path = self.folder / "header.json"
        self.records_path = self.folder / "records.jsonl"
        self.corrupt_lines: list[int] = []
        header = {"csuper_store": _FORMAT, "experiment": experiment, "config": self.config}
        if self.header_path.exists():
            old = self._read_header()
            if old.get("experiment") != experiment:
                raise StoreError(
                    f"folder {str(self.folder)!r} holds results of experiment "
                    f"{old.get('experiment')!r}; refusing to mix them with experiment "
                    f"{experiment!r} (choose another folder; nothing was written)."
                )
            if old.get("config") != self.config:
                raise StoreError(
                    f"folder {str(self.folder)!r} holds experiment {experiment!r} with other "
                    f"options ({_differences(old.get('config'), self.config)}); refusing to mix "
                    "them (rerun with the folder's options to resume it, or choose another "
                    "folder; nothing was written)."
                )
        else:
            self._refuse_foreign()
            self.folder.mkdir(exist_ok=True)
            tmp = self.header_path.with_suffix(".tmp")
            tmp.write_text(json.dumps(header, sort_keys=True, indent=1))
            os.replace(tmp, self.header_path)  # atomic
        self._records: dict[str, dict] = {}
        self._load()

    def __repr__(self) -> str:
        bad = f", {len(self.corrupt_lines)} corrupt lines set aside" if self.corrupt_lines else ""
        return (
            f"ResultStore({str(self.folder)!r}, experiment={self.experiment!r}, "
            f"{len(self._records)} records{bad})"
        )

    def _read_header(self) -> dict:
        try:
            old = json.loads(self.header_path.read_bytes())
        except (OSError, ValueError) as exc:  # JSONDecodeError and UnicodeDecodeError
            raise StoreError(
                f"folder {str(self.folder)!r}: header.json is unreadable ({exc}); it is not a "
                "csuper results folder, or it was damaged (nothing was written)."
            ) from None
        if not isinstance(old, dict) or "csuper_store" not in old:
            raise StoreError(
                f"folder {str(self.folder)!r}: header.json was not written by csuper; choose "
                "another folder (nothing was written)."
            )
        return old

    def _refuse_foreign(self) -> None:
        """A folder without header.json must be new or empty: records without their header
        cannot say which configuration they belong to, and other files are not ours."""
        if not self.folder.is_dir():
            return
        present = sorted(p.name for p in self.folder.iterdir())
        if not present:
            return
        if "records.jsonl" in present:
            raise StoreError(
                f"folder {str(self.folder)!r} holds records.jsonl but no header.json, so which "
                "experiment and configuration its records belong to is unknown; refusing to "
                "reuse them (restore header.json, or choose another folder; nothing was written)."
            )
        shown = ", ".join(present[:3]) + (", ..." if len(present) > 3 else "")
        raise StoreError(
            f"folder {str(self.folder)!r} is not empty ({shown}) and holds no csuper results; "
            "choose a new or empty folder (nothing was written)."
        )

    def _load(self) -> None:
        if not self.records_path.exists():
            return
        raw = self.records_path.read_bytes()
        lines = raw.splitlines(keepends=True)
        if lines and not lines[-1].endswith(b"\n"):
            lines.pop()  # truncated by a crash while it was written: dropped, redone
        good: list[bytes] = []
        bad: list[bytes] = []
        for number, line in enumerate(lines, start=1):
            parsed = _parse_line(line)
            if parsed is None:
                if line.strip():  # blank lines are harmless
                    self.corrupt_lines.append(number)
                    bad.append(line)
                continue
            key, record = parsed
            self._records.setdefault(key, record)
            good.append(line)
        if len(good) == len(lines) and sum(map(len, good)) == len(raw):
            return
        if bad:
            with open(self.folder / "records.corrupt", "ab") as fh:
                fh.writelines(bad)
            n_bad = len(self.corrupt_lines)
            numbers = ", ".join(map(str, self.corrupt_lines[:20]))
            more = f" and {n_bad - 20} more" if n_bad > 20 else ""
            warnings.warn(
                f"{self.records_path}: line(s) {numbers}{more} are not valid records; kept "
                f"{len(self._records)} valid records, moved the bad lines to records.corrupt, "
                "and their work will be redone.",
                StoreCorruptionWarning,
                stacklevel=3,
            )
        tmp = self.records_path.with_suffix(".tmp")
        tmp.write_bytes(b"".join(good))
        os.replace(tmp, self.records_path)  # atomic: the valid records, and nothing else

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
