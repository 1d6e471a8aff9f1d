"""Study configuration: validation, the quick preset, TOML files, task list."""

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from csuper.study import StudyConfig, load_config, quick_config, study_tasks


def test_defaults_and_quick_are_valid_and_differ():
    d, q = StudyConfig(), quick_config()
    assert d != q
    assert d.feature_probabilities == tuple(1.0 - s for s in d.sparsities)
    # JSON round trip of the identity (what the study folder stores)
    assert json.loads(json.dumps(d.to_dict())) == d.to_dict()
    assert (
        StudyConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in d.to_dict().items()})
        == d
    )


@pytest.mark.parametrize(
    "changes, exc, message",
    [
        ({"n_dims": (0,)}, ValueError, r"n_dims must be an integer in \[1, 60\); got 0"),
        ({"n_dims": (60,)}, ValueError, r"n_dims must be an integer in \[1, 60\)"),
        ({"n_dims": (4, 4)}, ValueError, "n_dims must hold distinct values"),
        ({"n_dims": ()}, ValueError, "n_dims must not be empty"),
        ({"n_dims": 4}, TypeError, "n_dims must be a list"),
        ({"n_dims": (4.0,)}, TypeError, "n_dims"),
        (
            {"sparsities": (1.0,)},
            ValueError,
            r"sparsities must be a real number in \[0, 1\); got 1.0",
        ),
        ({"sparsities": (-0.1,)}, ValueError, "sparsities"),
        ({"importance": "linear"}, ValueError, "importance must be one of"),
        ({"importance_ratio": 0.0}, ValueError, "importance_ratio"),
        ({"n_seeds": 0}, ValueError, "n_seeds"),
        ({"n_steps": True}, TypeError, "n_steps"),
        ({"lr": 0.0}, ValueError, "lr"),
        ({"decoders": ("relu", "magic")}, ValueError, "decoders must be names from"),
        ({"decoders": "relu"}, TypeError, "decoders must be a list"),
        ({"transition_n_dims": 20}, ValueError, "transition_n_dims"),
        ({"transition_n_points": 2}, ValueError, "transition_n_points"),
        ({"transition_probability": (0.1, 2.0)}, ValueError, r"transition_probability\[1\]"),
        ({"transition_importance": (5.0, 1.0)}, ValueError, r"transition_importance\[1\]"),
        ({"transition_importance": (1.0,)}, ValueError, "must be a pair"),
        ({"seed": -1}, ValueError, "seed"),
        (
            {"n_features": 2, "n_dims": (1,), "unknown": 3},
            ValueError,
            r"unknown study option\(s\) \['unknown'\]",
        ),
    ],
)
def test_bad_values_are_named(changes, exc, message):
    with pytest.raises(exc, match=message):
        StudyConfig().replace(**changes)


@given(
    st.lists(st.integers(1, 39), min_size=1, max_size=5, unique=True),
    st.lists(st.floats(0.0, 0.999), min_size=1, max_size=5, unique=True),
)
def test_task_list_covers_the_grid_with_distinct_seeds(ms, ss):
    cfg = StudyConfig(n_dims=tuple(ms), sparsities=tuple(ss))
    tasks = study_tasks(cfg)
    models = [t for t in tasks if t["kind"] == "model"]
    assert {(t["n_dims"], t["sparsity"]) for t in models} == {(m, s) for m in ms for s in ss}
    assert [t["parameter"] for t in tasks if t["kind"] == "transition"] == [
        "importance",
        "feature_probability",
    ]
    assert len({t["key"] for t in tasks}) == len({t["seed"] for t in tasks}) == len(tasks)
    # seeds are a function of the configuration alone
    assert [t["seed"] for t in study_tasks(cfg)] == [t["seed"] for t in tasks]
    assert [t["seed"] for t in study_tasks(cfg.replace(seed=1))] != [t["seed"] for t in tasks]


def test_toml_file_sets_fields_and_output(tmp_path):
    path = tmp_path / "study.toml"
    path.write_text(
        'n_features = 12\nn_dims = [2, 3]\nsparsities = [0, 0.9]\nimportance = "power_law"\n'
        'importance_alpha = 0.5\nn_steps = 300\nlr = 0.01\noutput = "out"\n'
        "[transitions]\nn_features = 5\nn_dims = 2\nimportance = [0.5, 50]\n"
    )
    fields, output = load_config(path)
    assert output == "out"
    cfg = StudyConfig().replace(**fields)
    assert cfg.n_features == 12 and cfg.n_dims == (2, 3) and cfg.sparsities == (0.0, 0.9)
    assert cfg.importance == "power_law" and cfg.importance_alpha == 0.5
    assert cfg.transition_n_features == 5 and cfg.transition_importance == (0.5, 50.0)
    assert (
        cfg.n_steps == 300 and cfg.n_seeds == StudyConfig().n_seeds
    )  # untouched keys keep defaults


@pytest.mark.parametrize(
    "text, exc, message",
    [
        ("n_dims = 4\n", TypeError, "n_dims must be a list; got int 4"),
        ('n_dims = ["4"]\n', TypeError, "n_dims must be a list of integers"),
        ("n_steps = 100.0\n", TypeError, "n_steps must be an integer; got float 100.0"),
        ("n_steps = true\n", TypeError, "n_steps must be an integer; got bool True"),
        ('lr = "fast"\n', TypeError, "lr must be a number"),
        ("importance = 3\n", TypeError, "importance must be a string"),
        ("sparsities = [0.5, 1.5]\n", ValueError, r"sparsities must be a real number in \[0, 1\)"),
        ("n_features = 10\n", ValueError, r"n_dims must be an integer in \[1, 10\)"),
        ("n_steps = 0\n", ValueError, r"n_steps must be an integer in \[1, inf\)"),
        ("stepz = 10\n", ValueError, "unknown key 'stepz'"),
        ("[transitions]\nn_steps = 10\n", ValueError, r"unknown key 'n_steps' in \[transitions\]"),
        (
            "[transitions]\nn_points = 2.5\n",
            TypeError,
            r"\[transitions\] n_points must be an integer",
        ),
        ("transitions = 3\n", TypeError, r"transitions must be a table"),
        ("output = 3\n", TypeError, "output must be a string"),
        ("n_dims = [4,\n", ValueError, "is not valid TOML"),
    ],
)
def test_bad_toml_is_reported_with_the_file_name(tmp_path, text, exc, message):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(exc, match=message) as info:
        load_config(path)
    assert "bad.toml" in str(info.value)


def test_missing_toml_file(tmp_path):
    with pytest.raises(ValueError, match="cannot be read"):
        load_config(tmp_path / "nope.toml")


def test_public_functions_reject_a_config_that_is_not_a_study_config(tmp_path):
    from csuper.study import open_study_folder, run_study, write_report

    bad = StudyConfig().to_dict()  # a dict of the right fields is still not a StudyConfig
    for call in (
        lambda: study_tasks(bad),
        lambda: open_study_folder(tmp_path / "a", bad),
        lambda: run_study(bad, tmp_path / "b", progress=False),
        lambda: write_report(tmp_path / "c", bad, []),
    ):
        with pytest.raises(
            TypeError, match=r"config must be a csuper\.study\.StudyConfig; got dict"
        ):
            call()
    assert not any(tmp_path.iterdir())  # nothing was written
