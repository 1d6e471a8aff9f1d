"""``csuper pricing``: a tiny run end to end, resuming after an interruption, bad input, and a
folder of other options refused."""

import json

import numpy as np
import pytest

import csuper.diagnose.pricing
from csuper.cli import SUBCOMMANDS, main
from csuper.diagnose import PRICING_CRITERIA

TINY = [
    "pricing",
    "--n-features",
    "6",
    "--n-dims",
    "2",
    "--sparsities",
    "0.5",
    "0.9",
    "--n-seeds",
    "2",
    "--n-steps",
    "60",
    "--batch-size",
    "64",
    "--lr",
    "0.01",
    "--n-samples",
    "128",
    "--no-progress",
]


def _run(capsys, argv):
    code = main(argv)
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
def trained(monkeypatch):
    """The prices the trainer is called at (the CLI reaches it only through the library)."""
    calls: list[float] = []
    real = csuper.diagnose.pricing.train

    def counting(*args, settings, **kwargs):
        calls.append(settings.interference_price)
        return real(*args, settings=settings, **kwargs)

    monkeypatch.setattr(csuper.diagnose.pricing, "train", counting)
    return calls


def test_registered_and_resumable():
    assert SUBCOMMANDS["pricing"].module == "csuper.cli.pricing"
    assert SUBCOMMANDS["pricing"].resumable


def test_tiny_run_end_to_end(capsys, tmp_path, trained):
    out_dir = tmp_path / "run"
    code, out, err = _run(capsys, [*TINY, "--prices", "0", "1", "-o", str(out_dir)])
    assert code == 0, err
    assert trained == [0.0, 1.0]
    assert "trained 2 price(s), resumed 0" in out
    for name in ("frontier.json", "report.md", "frontier.png", "header.json", "records.jsonl"):
        assert (out_dir / name).is_file(), name
    res = json.loads((out_dir / "frontier.json").read_text())
    assert res["criteria"] == PRICING_CRITERIA
    assert res["setup"]["prices"] == [0.0, 1.0] and res["setup"]["seed"] == 0
    assert res["setup"]["settings"]["n_steps"] == 60
    np.testing.assert_allclose(res["setup"]["importance"], 0.9 ** np.arange(6))
    assert len(res["rows"]) == 2 * 2 * 2  # prices x sparsities x seeds
    assert set(res["legible_loss"]) == {"0.5", "0.9"}
    assert len(res["table"]) == 4
    report = (out_dir / "report.md").read_text()
    assert report.startswith("# Interference-pricing frontier")
    # the verdict lines printed are the report's
    printed = [line for line in out.splitlines() if line.startswith("- ")]
    assert len(printed) == 2
    assert all(f"- **{line[2:].split('.')[0]}.**" in report for line in printed)
    # the plain price is the --no-coactivation-weighted flag; the privileged-basis model's
    # rows and report carry its neuron counts
    argv = [*TINY, "--prices", "0", "--no-coactivation-weighted", "--model", "hidden_relu"]
    code, _, _ = _run(capsys, [*argv, "-o", str(tmp_path / "p")])
    assert code == 0
    res = json.loads((tmp_path / "p" / "frontier.json").read_text())
    assert res["setup"]["coactivation_weighted"] is False
    assert res["setup"]["settings"]["model"] == "hidden_relu"
    assert all("monosemantic_neuron_share" in r for r in res["rows"])
    assert "| monosemantic neurons |" in (tmp_path / "p" / "report.md").read_text()


def test_interrupted_run_resumes_without_retraining(capsys, tmp_path, monkeypatch, trained):
    out_dir = str(tmp_path / "run")
    real = csuper.diagnose.pricing._price_rows

    def interrupted(price, **kwargs):
        if price > 0.5:
            raise KeyboardInterrupt
        return real(price, **kwargs)

    monkeypatch.setattr(csuper.diagnose.pricing, "_price_rows", interrupted)
    code, _, err = _run(capsys, [*TINY, "--prices", "0", "0.3", "3", "-o", out_dir])
    assert code == 130
    assert "rerun the same command to resume" in err
    assert len((tmp_path / "run" / "records.jsonl").read_text().splitlines()) == 2
    monkeypatch.setattr(csuper.diagnose.pricing, "_price_rows", real)
    trained.clear()
    code, out, _ = _run(capsys, [*TINY, "--prices", "0", "0.3", "3", "-o", out_dir])
    assert code == 0
    assert trained == [3.0]  # prices 0 and 0.3 were read back, not retrained
    assert "trained 1 price(s), resumed 2" in out
    # the resumed frontier equals an uninterrupted run's, bit for bit
    resumed = json.loads((tmp_path / "run" / "frontier.json").read_text())
    code, _, _ = _run(capsys, [*TINY, "--prices", "0", "0.3", "3", "-o", str(tmp_path / "b")])
    fresh = json.loads((tmp_path / "b" / "frontier.json").read_text())
    assert resumed["rows"] == fresh["rows"] and resumed["table"] == fresh["table"]


def test_a_rerun_with_more_prices_trains_only_the_new_ones(capsys, tmp_path, trained):
    out_dir = str(tmp_path / "run")
    assert _run(capsys, [*TINY, "--prices", "0", "-o", out_dir])[0] == 0
    assert trained == [0.0]
    code, out, _ = _run(capsys, [*TINY, "--prices", "0", "1", "-o", out_dir])
    assert code == 0 and trained == [0.0, 1.0]  # the first price was not retrained
    assert "trained 1 price(s), resumed 1" in out
    res = json.loads((tmp_path / "run" / "frontier.json").read_text())
    assert sorted({r["price"] for r in res["rows"]}) == [0.0, 1.0]


def test_other_options_in_the_folder_are_refused(capsys, tmp_path, trained):
    out_dir = str(tmp_path / "run")
    assert _run(capsys, [*TINY, "--prices", "0", "-o", out_dir])[0] == 0
    trained.clear()
    code, _, err = _run(capsys, [*TINY, "--prices", "0", "--n-dims", "3", "-o", out_dir])
    assert code == 2
    assert len(err.strip().splitlines()) == 1
    assert "refusing to mix" in err and "nothing was written" in err
    assert trained == []


@pytest.mark.parametrize(
    "extra, name",
    [
        (["--prices", "0.1", "1"], "--prices"),
        (["--prices", "0", "-1"], "--prices"),
        (["--sparsities", "1.0"], "--sparsities"),
        (["--n-dims", "6"], "--n-dims"),
        (["--n-seeds", "0"], "--n-seeds"),
        (["--n-steps", "0"], "--n-steps"),
        (["--lr", "-1"], "--lr"),
        (["--importance-ratio", "0"], "--importance-ratio"),
        (["--seed", "-1"], "--seed"),
        (["-o", "/nonexistent/dir/out"], "--output"),
    ],
)
def test_bad_input_exits_2_with_one_line(capsys, tmp_path, trained, extra, name):
    code, _, err = _run(capsys, [*TINY, "-o", str(tmp_path / "run"), *extra])
    assert code == 2
    assert len(err.strip().splitlines()) == 1
    assert err.startswith("csuper pricing: error: ") and name in err
    if extra == ["--prices", "0.1", "1"]:
        assert "include 0" in err
    assert trained == []
    assert not (tmp_path / "run").exists()  # checked before the work


def test_unknown_model_is_a_usage_error(capsys, tmp_path):
    with pytest.raises(SystemExit) as exc:
        main([*TINY, "--model", "linear", "-o", str(tmp_path / "run")])
    assert exc.value.code == 2
    assert "--model" in capsys.readouterr().err
