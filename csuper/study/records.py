"""The records a study stores: typed dataclasses with a schema name and version, validated on
load so that a renamed field fails loudly and a folder written by another schema gets a clear
message instead of a KeyError.

A record is written by a task (:mod:`csuper.study.tasks`) as ``dataclasses.asdict(record)`` and
read back by :func:`parse_record`, which checks the schema and version, every field's presence
and type (recursively) and refuses unknown fields.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass
from typing import Any

from csuper._errors import StudyRecordError

__all__ = [
    "RECORD_VERSION",
    "RECORD_TYPES",
    "StudyRecordError",
    "ReplicateRecord",
    "CapacityRecord",
    "DecoderRecord",
    "ModelRecord",
    "LocatedRecord",
    "LegsRecord",
    "TransitionRecord",
    "QuadraticCase",
    "QuadraticRecord",
    "parse_record",
]

#: Version of the record schema. Bump it whenever a record's fields change meaning or name.
RECORD_VERSION = 2


@dataclass(frozen=True)
class CapacityRecord:
    """Learned capacities against the Lagrangian allocation and the null allocations.

    ``mae`` maps each key of :data:`csuper.compare.CAPACITY_BASELINES` to the mean |D_i - C_i|
    over the represented features (the permuted baseline averaged over 20 permutations);
    ``spearman`` is the rank correlation of the Lagrangian C with D over every feature (None when
    undefined).
    """

    predicted: list[float]
    shadow_price: float
    spearman: float | None
    mae: dict
    class_agreement: float


@dataclass(frozen=True)
class DecoderRecord:
    """One decoder's score on one replicate (see :class:`csuper.compare.DecoderScore`).

    ``arm``: ``"noiseless"`` (every feature), ``"represented"`` (signals on the represented
    features only) or ``"noisy"``.
    """

    arm: str
    decoder: str
    relative_mse: float
    relative_mse_se: float
    exact_rate: float
    exact_se: float
    n_samples: int
    n_failed: int
    by_active: list[dict]


@dataclass(frozen=True)
class ReplicateRecord:
    """One trained replicate (one seed) of a model configuration and its measurements."""

    seed: int
    final_loss: float
    norms: list[float]
    dimensionality: list[float]
    explained_variance: list[float]
    represented: int
    recovered: int
    dimensions_per_feature: float
    mean_squared_overlap: float | None
    welch: float | None
    group_squared_cosine: float | None
    group_cosine: float | None
    capacity: CapacityRecord | None
    decoders: list[DecoderRecord]
    W: list[list[float]] | None
    b: list[float] | None


@dataclass(frozen=True)
class ModelRecord:
    """A model configuration trained with ``n_seeds`` replicate seeds."""

    key: str
    group: str
    arm: str
    n_features: int
    n_dims: int
    feature_probability: float
    k: float
    importance: list[float]
    groups: list[list[int]]
    correlation: str
    variant: str
    settings: dict
    threshold: float
    cs_capacity: float
    threshold_mc: float | None
    threshold_mc_se: float | None
    replicates: list[ReplicateRecord]
    seconds: float
    schema: str = "csuper.study.model"
    version: int = RECORD_VERSION


@dataclass(frozen=True)
class LocatedRecord:
    """A located transition (see :class:`csuper.compare.LocatedTransition`)."""

    transition: str
    bracketed: bool
    low: float | None
    high: float | None
    predicted: float | None
    reason: str
    evaluated: list[dict]


@dataclass(frozen=True)
class LegsRecord:
    """Warm-started legs for one transition (see :class:`csuper.compare.HysteresisLegs`).

    ``up`` and ``down`` hold the fraction of chains in the transition's higher state at each of
    ``values``; the brackets are [low, high] or None when the majority never switches.
    """

    transition: str
    values: list[float]
    up: list[float]
    down: list[float]
    up_bracket: list[float] | None
    down_bracket: list[float] | None
    detected: bool
    n_chains: int
    revive_norm: float


@dataclass(frozen=True)
class TransitionRecord:
    """The transitions of one sweep parameter: a bracketing scan, bisections, warm legs."""

    key: str
    parameter: str
    n_features: int
    n_dims: int
    sparsity: float
    values: list[float]
    learned_capacity: list[list[float]]
    norm: list[list[float]]
    final_loss: list[list[float]]
    predicted_capacity: list[float]
    located: list[LocatedRecord]
    legs: list[LegsRecord]
    seconds: float
    schema: str = "csuper.study.transition"
    version: int = RECORD_VERSION


@dataclass(frozen=True)
class QuadraticCase:
    """One trained quadratic model against its predicted allocation."""

    kurtosis: float
    importance: list[float]
    predicted: list[float]
    learned: list[float]
    loss_trained: float
    loss_predicted: float


@dataclass(frozen=True)
class QuadraticRecord:
    """The quadratic models of Scherlis et al. (the exact case of the allocation)."""

    key: str
    n_features: int
    n_dims: int
    cases: list[QuadraticCase]
    seconds: float
    schema: str = "csuper.study.quadratic"
    version: int = RECORD_VERSION


#: Record classes by schema name: the only place that maps a stored schema to its class.
RECORD_TYPES: dict[str, type] = {
    "csuper.study.model": ModelRecord,
    "csuper.study.transition": TransitionRecord,
    "csuper.study.quadratic": QuadraticRecord,
}

_hints_cache: dict[type, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
    if cls not in _hints_cache:
        _hints_cache[cls] = typing.get_type_hints(cls)
    return _hints_cache[cls]


def _convert(tp: Any, value: Any, path: str) -> Any:
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        (inner,) = [a for a in args if a is not type(None)]
        return _convert(inner, value, path)
    if origin is list:
        if not isinstance(value, list):
            raise StudyRecordError(f"{path}: expected a list; got {type(value).__name__}.")
        return [_convert(args[0], v, f"{path}[{i}]") for i, v in enumerate(value)]
    if tp is dict or origin is dict:
        if not isinstance(value, dict):
            raise StudyRecordError(f"{path}: expected a dict; got {type(value).__name__}.")
        return value
    if dataclasses.is_dataclass(tp):
        return _from_dict(tp, value, path)  # type: ignore[arg-type]
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise StudyRecordError(f"{path}: expected a number; got {value!r}.")
        return float(value)
    if tp is int or tp is bool or tp is str:
        if type(value) is not tp:
            raise StudyRecordError(f"{path}: expected {tp.__name__}; got {value!r}.")
        return value
    raise StudyRecordError(f"{path}: unsupported type {tp!r}.")  # pragma: no cover


def _from_dict(cls: type, data: Any, path: str) -> Any:
    if not isinstance(data, dict):
        raise StudyRecordError(f"{path}: expected a {cls.__name__} object; got {data!r:.60}.")
    names = {f.name for f in dataclasses.fields(cls)}
    missing = sorted(names - set(data))
    unknown = sorted(set(data) - names)
    if missing or unknown:
        parts = []
        if missing:
            parts.append(f"missing field(s) {missing}")
        if unknown:
            parts.append(f"unknown field(s) {unknown}")
        raise StudyRecordError(f"{path} ({cls.__name__}): {' and '.join(parts)}.")
    hints = _hints(cls)
    return cls(**{name: _convert(hints[name], data[name], f"{path}.{name}") for name in names})


def parse_record(data: Any) -> ModelRecord | TransitionRecord | QuadraticRecord:
    """Validate a stored record and return it as its dataclass.

    Raises
    ------
    StudyRecordError
        The record has no schema (written by an earlier csuper study), another schema version,
        an unknown schema, or a field missing, unknown or of the wrong type (named with its
        path).

    Examples
    --------
    >>> parse_record({"kind": "model", "W": []})
    Traceback (most recent call last):
    ...
    csuper._errors.StudyRecordError: record has no schema: it was written by an earlier csuper
    study (record schema 1); this csuper reads schema 2. Rerun the study into a new folder.
    """
    if not isinstance(data, dict):
        raise StudyRecordError(f"a record must be a JSON object; got {type(data).__name__}.")
    schema = data.get("schema")
    if schema is None:
        raise StudyRecordError(
            "record has no schema: it was written by an earlier csuper study (record schema 1); "
            f"this csuper reads schema {RECORD_VERSION}. Rerun the study into a new folder."
        )
    if schema not in RECORD_TYPES:
        raise StudyRecordError(f"unknown record schema {schema!r}; known: {sorted(RECORD_TYPES)}.")
    version = data.get("version")
    if version != RECORD_VERSION:
        raise StudyRecordError(
            f"record {data.get('key', '?')!r} has schema version {version!r}; this csuper reads "
            f"version {RECORD_VERSION}. Rerun the study into a new folder (or use the csuper "
            "version that wrote it)."
        )
    return _from_dict(RECORD_TYPES[schema], data, f"record {data.get('key', '?')!r}")
