"""Typed study records: round trips, and loud failures for renamed fields, wrong types and old
schemas."""

import dataclasses
import json

import pytest

from csuper.study.records import (
    RECORD_TYPES,
    RECORD_VERSION,
    LegsRecord,
    LocatedRecord,
    ModelRecord,
    QuadraticCase,
    QuadraticRecord,
    ReplicateRecord,
    StudyRecordError,
    TransitionRecord,
    parse_record,
)


def _replicate(**kw):
    base = dict(
        seed=1,
        final_loss=0.01,
        norms=[1.0, 0.0],
        dimensionality=[1.0, 0.0],
        explained_variance=[1.0, 0.0],
        represented=1,
        recovered=1,
        dimensions_per_feature=1.0,
        mean_squared_overlap=None,
        welch=None,
        group_squared_cosine=None,
        group_cosine=None,
        capacity=None,
        decoders=[],
        W=[[1.0, 0.0]],
        b=[0.0, 0.05],
    )
    return ReplicateRecord(**{**base, **kw})


def _model(**kw):
    base = dict(
        key="k",
        group="scaling",
        arm="constant",
        n_features=2,
        n_dims=1,
        feature_probability=0.1,
        k=0.2,
        importance=[1.0, 1.0],
        groups=[],
        correlation="independent",
        variant="study",
        settings={},
        threshold=0.5,
        cs_capacity=3.0,
        threshold_mc=None,
        threshold_mc_se=None,
        replicates=[_replicate()],
        seconds=1.0,
    )
    return ModelRecord(**{**base, **kw})


RECORDS = [
    _model(),
    TransitionRecord(
        key="t",
        parameter="importance",
        n_features=4,
        n_dims=2,
        sparsity=0.9,
        values=[0.1, 1.0],
        learned_capacity=[[0.0], [1.0]],
        norm=[[0.0], [1.0]],
        final_loss=[[0.1], [0.1]],
        predicted_capacity=[0.0, 1.0],
        located=[LocatedRecord("superposed_to_own", True, 0.3, 0.5, 0.4, "", [{"value": 0.3}])],
        legs=[
            LegsRecord(
                "superposed_to_own",
                [0.1, 1.0],
                [0.0, 1.0],
                [0.0, 1.0],
                [0.1, 1.0],
                None,
                False,
                2,
                0.1,
            )
        ],
        seconds=2.0,
    ),
    QuadraticRecord(
        key="q",
        n_features=2,
        n_dims=1,
        cases=[QuadraticCase(10.0, [1.0, 0.5], [1.0, 0.0], [1.0, 0.0], 0.1, 0.1)],
        seconds=0.1,
    ),
]


@pytest.mark.parametrize("record", RECORDS, ids=lambda r: type(r).__name__)
def test_round_trip_through_json(record):
    data = json.loads(json.dumps(dataclasses.asdict(record)))
    assert parse_record(data) == record
    assert data["version"] == RECORD_VERSION and RECORD_TYPES[data["schema"]] is type(record)


def test_a_renamed_field_fails_loudly_naming_it():
    data = dataclasses.asdict(_model())
    data["replicates"][0]["n_represented"] = data["replicates"][0].pop("represented")
    with pytest.raises(
        StudyRecordError,
        match=r"missing field\(s\) \['represented'\] and "
        r"unknown field\(s\) \['n_represented'\]",
    ):
        parse_record(data)


def test_a_wrong_type_is_named_with_its_path():
    data = dataclasses.asdict(_model())
    data["replicates"][0]["norms"][1] = "zero"
    with pytest.raises(StudyRecordError, match=r"replicates\[0\]\.norms\[1\]: expected a number"):
        parse_record(data)
    data = dataclasses.asdict(_model())
    data["n_features"] = 2.0
    with pytest.raises(StudyRecordError, match=r"n_features: expected int"):
        parse_record(data)


def test_old_and_other_schemas_get_a_clear_message():
    with pytest.raises(StudyRecordError, match=r"earlier csuper study \(record schema 1\)"):
        parse_record({"kind": "model", "W": [[1.0]], "scaling": {}})
    data = dataclasses.asdict(_model())
    data["version"] = RECORD_VERSION + 1
    with pytest.raises(StudyRecordError, match=rf"schema version {RECORD_VERSION + 1}"):
        parse_record(data)
    with pytest.raises(StudyRecordError, match="unknown record schema"):
        parse_record({**data, "schema": "csuper.study.banana"})
    with pytest.raises(StudyRecordError, match="must be a JSON object"):
        parse_record([1, 2])
    assert issubclass(StudyRecordError, ValueError)
