"""Study configuration: validation of every field, presets, TOML files, the task list."""

import json

import pytest

from csuper.study import PRESETS, StudyConfig, full_config, load_config, quick_config, study_tasks
from csuper.study.tasks import TASKS, task_cost


def test_presets_are_valid_distinct_and_round_trip():
    configs = {name: make() for name, make in PRESETS.items()}
    assert configs["default"] == StudyConfig() and configs["quick"] == quick_config()
    assert configs["full"] == full_config()
    assert len({json.dumps(c.to_dict(), sort_keys=True) for c in configs.values()}) == 3
    for c in configs.values():
        assert json.loads(json.dumps(c.to_dict())) == c.to_dict()
        assert StudyConfig.from_dict(c.to_dict()) == c
    # the full preset spans n from 100 to 2000 and m from 10 to 160, 10 transition replicates
    full = configs["full"]
    assert min(full.scaling_n_features) <= 100 and max(full.scaling_n_features) >= 2000
    assert min(full.size_n_dims) <= 10 and max(full.size_n_dims) >= 160
    assert full.transition_n_seeds >= 10
    assert set(StudyConfig.describe()) == set(StudyConfig().to_dict())


@pytest.mark.parametrize(
    "changes, exc, message",
    [
        ({"n_seeds": 1}, ValueError, r"n_seeds must be an integer in \[2, 10000000\]; got 1"),
        ({"n_seeds": 2.0}, TypeError, "n_seeds must be an integer"),
        ({"n_steps": True}, TypeError, "n_steps"),
        ({"n_steps": 10**12}, ValueError, "n_steps"),
        ({"lr": 0.0}, ValueError, "lr"),
        ({"lr": float("nan")}, ValueError, "lr"),
        ({"confidence": 1.0}, ValueError, "confidence"),
        ({"scaling_n_features": ()}, ValueError, "scaling_n_features must not be empty"),
        ({"scaling_n_features": 50}, TypeError, "scaling_n_features must be a list"),
        ({"scaling_n_features": "50"}, TypeError, "scaling_n_features must be a list"),
        ({"scaling_n_features": (50, 50)}, ValueError, "must hold distinct values"),
        ({"scaling_k": (0.0,)}, ValueError, "scaling_k"),
        ({"scaling_k": (float("inf"),)}, ValueError, "scaling_k"),
        ({"scaling_n_dims": (60,)}, ValueError, "scaling_n_dims must be below"),
        ({"scaling_k": (80.0,)}, ValueError, "scaling_k must be at most"),
        ({"sparsity_sparsities": (1.0,)}, ValueError, "sparsity_sparsities"),
        ({"transition_n_dims": 20}, ValueError, "transition_n_dims must be below"),
        ({"transition_importance": (5.0, 1.0)}, ValueError, r"transition_importance\[1\]"),
        ({"transition_importance": (1.0,)}, ValueError, "must be a pair"),
        ({"transition_probability": (0.1, 2.0)}, ValueError, r"transition_probability\[1\]"),
        ({"correlation_n_features": 21}, ValueError, "must be even"),
        ({"seed": -1}, ValueError, "seed"),
        ({"unknown": 3}, ValueError, r"unknown study option\(s\) \['unknown'\]"),
    ],
)
def test_bad_values_are_named(changes, exc, message):
    with pytest.raises(exc, match=message):
        StudyConfig().replace(**changes)


def test_sequences_are_sorted_and_coerced():
    cfg = StudyConfig().replace(scaling_n_features=[200, 50], sparsity_sparsities=[0.9, 0])
    assert cfg.scaling_n_features == (50, 200) and cfg.sparsity_sparsities == (0.0, 0.9)


def test_toml_file_sets_fields_by_table(tmp_path):
    f = tmp_path / "s.toml"
    f.write_text(
        'preset = "quick"\nn_seeds = 3\noutput = "here"\n'
        "[scaling]\nn_dims = [2, 3]\n[transitions]\nn_seeds = 3\n"
    )
    cfg, output, preset = load_config(f)
    assert (preset, output) == ("quick", "here")
    assert cfg == quick_config().replace(n_seeds=3, scaling_n_dims=(2, 3), transition_n_seeds=3)
    assert load_config(f, preset="quick")[0] == cfg


@pytest.mark.parametrize(
    "text, exc, message",
    [
        ("n_seeds = [", ValueError, "not valid TOML"),
        ("nonsense = 1", ValueError, "unknown key 'nonsense'"),
        ("[scaling]\nn_hidden = [2]", ValueError, r"unknown key 'n_hidden' in \[scaling\]"),
        ("scaling = 3", TypeError, r"scaling must be a table"),
        ("n_seeds = true", TypeError, "n_seeds must be a number or a list"),
        ('n_seeds = "3"', TypeError, "n_seeds must be an integer"),
        ('preset = "huge"', ValueError, "preset must be one of"),
        ("output = 3", TypeError, "output must be a string"),
        # the file's spelling, not the field's (was "transition_n_points must be ...")
        ("[transitions]\nn_points = 2", ValueError, r": \[transitions\] n_points must be"),
        ("[scaling]\nk = true", TypeError, r": \[scaling\] k must be a number or a list"),
    ],
)
def test_bad_toml_is_named_with_the_file(tmp_path, text, exc, message):
    f = tmp_path / "bad.toml"
    f.write_text(text)
    with pytest.raises(exc, match=message) as info:
        load_config(f)
    assert "bad.toml" in str(info.value)


def test_toml_preset_conflict_and_unreadable_file(tmp_path):
    f = tmp_path / "s.toml"
    f.write_text('preset = "full"\n')
    with pytest.raises(ValueError, match="names preset 'full', the command line 'quick'"):
        load_config(f, preset="quick")
    with pytest.raises(ValueError, match="does not exist"):
        load_config(tmp_path / "absent.toml")
    with pytest.raises(TypeError, match="path must be a path"):
        load_config(3)


def test_task_list_keys_seeds_and_costs():
    cfg = quick_config()
    tasks = study_tasks(cfg)
    assert len({t["key"] for t in tasks}) == len(tasks) == len({t["seed"] for t in tasks})
    assert {t["kind"] for t in tasks} == set(TASKS)
    assert study_tasks(cfg) == tasks  # a function of the configuration alone
    assert [t["seed"] for t in study_tasks(cfg.replace(seed=1))] != [t["seed"] for t in tasks]
    n_models = (
        2 * len(cfg.scaling_n_features) * len(cfg.scaling_n_dims) * len(cfg.scaling_k)
        + len(cfg.sparsity_sparsities)
        + len(cfg.size_n_dims)
        + 3
        + 4 * len(cfg.robustness_sparsities)
    )
    assert sum(t["kind"] == "model" for t in tasks) == n_models
    costs = {t["key"]: task_cost(t) for t in tasks}
    assert all(c > 0 for c in costs.values())
    notebook_long = next(t for t in tasks if t.get("variant") == "notebook_long")
    study = next(t for t in tasks if t.get("group") == "robustness" and t.get("variant") == "study")
    assert costs[notebook_long["key"]] > costs[study["key"]]


def test_load_config_refuses_an_empty_path():
    """'' is not the current folder (fuzz suite finding): the message names path."""
    with pytest.raises(ValueError, match="path must be a non-empty path"):
        load_config("")


def test_the_readme_toml_example_loads(tmp_path):
    # README.md shows a study.toml that is not a doctest: keep it loadable
    import pathlib
    import re

    readme = (pathlib.Path(__file__).resolve().parents[2] / "README.md").read_text()
    (block,) = re.findall(r"```toml\n(.*?)```", readme, flags=re.S)
    f = tmp_path / "study.toml"
    f.write_text(block)
    cfg, output, preset = load_config(f)
    assert (output, preset, cfg.n_seeds, cfg.transition_n_seeds) == ("my-study", "default", 5, 10)
    assert cfg.scaling_n_features == (100, 200, 400) and cfg.scaling_n_dims == (10, 20)
