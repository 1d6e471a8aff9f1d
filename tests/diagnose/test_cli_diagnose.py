"""``csuper diagnose`` on constructions, saved toy models and activation files; bad input."""

import json

import numpy as np
import pytest

import csuper.toy as toy
from csuper.cli import SUBCOMMANDS, main
from csuper.diagnose import rotation_code

FAST = ["--tests", "linear_recoverability", "dimension_budget", "neuron_alignment"]


def _run(capsys, argv):
    code = main(argv)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_registered():
    assert "diagnose" in SUBCOMMANDS


def test_construction_checks_its_known_answers(capsys, tmp_path):
    code, out, _ = _run(
        capsys,
        [
            "diagnose",
            "--construction",
            "rotation",
            *FAST,
            "--no-progress",
            "-o",
            str(tmp_path),
        ],
    )
    assert code == 0
    assert "polysemanticity without superposition: a rotated basis" in out
    assert "Known answers: 3 of 3 returned." in out
    data = json.loads((tmp_path / "diagnosis.json").read_text())
    assert all(c["ok"] for c in data["known_answers"])
    assert (tmp_path / "report.md").read_text().startswith("# Diagnosis of construction")


def test_saved_toy_model(capsys, tmp_path):
    d = toy.feature_distribution(6, 0.05)
    model = toy.train(d, 3, settings=toy.TrainSettings(n_steps=300, batch_size=128, lr=1e-2), rng=0)
    path = tmp_path / "m.npz"
    toy.save_model(model, path)
    code, out, _ = _run(
        capsys, ["diagnose", str(path), *FAST, "--n-samples", "500", "--no-progress"]
    )
    assert code == 0
    assert "relu_output, n = 6, m = 3" in out and "| dimension_budget |" in out


def test_activation_file_with_and_without_features(capsys, tmp_path):
    c = rotation_code(rng=0)
    path = tmp_path / "act.npz"
    np.savez(path, H=c.H, X=c.X)
    code, out, _ = _run(capsys, ["diagnose", str(path), *FAST, "--no-progress"])
    assert code == 0 and "| linear_recoverability | linear code |" in out
    np.savez(path, H=c.H)
    code, out, _ = _run(capsys, ["diagnose", str(path), *FAST, "--no-progress"])
    assert code == 0 and "| linear_recoverability | not applicable |" in out
    assert "it needs the known features X" in out


@pytest.mark.parametrize(
    "arrays, message",
    [
        ({"A": np.ones(3)}, "neither a csuper toy model nor activations"),
        ({"H": np.ones((30, 2)), "Y": np.ones(3)}, "unexpected arrays"),
        ({"H": np.ones((30, 2)), "X": np.ones((29, 2))}, "same number of samples"),
        ({"H": np.ones((30, 2)), "factors": np.ones((30, 2))}, "integer levels"),
    ],
)
def test_bad_files_exit_2(capsys, tmp_path, arrays, message):
    path = tmp_path / "bad.npz"
    np.savez(path, **arrays)
    code, _, err = _run(capsys, ["diagnose", str(path), "--no-progress"])
    assert code == 2 and message in err


def test_bad_usage(capsys, tmp_path):
    code, _, err = _run(capsys, ["diagnose"])
    assert code == 2 and "exactly one of" in err
    (tmp_path / "x.npz").write_text("not a zip")
    code, _, err = _run(capsys, ["diagnose", str(tmp_path / "x.npz")])
    assert code == 2 and "not a readable toy-model or activations file" in err
    with pytest.raises(SystemExit):
        main(["diagnose", "--construction", "spiral"])
