"""Plots draw what they claim; the ``csuper train`` subcommand trains, prints and saves."""

import argparse

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from csuper.cli import train as train_cli
from csuper.toy import (
    STICKY_FRACTIONS,
    load_model,
    plot_dimensionality,
    plot_feature_geometry,
    plot_gram,
)


def test_feature_geometry_draws_one_arrow_per_feature():
    ang = 2 * np.pi * np.arange(5) / 5
    W = np.stack([np.cos(ang), np.sin(ang)])
    ax = plot_feature_geometry(W, importance=0.9 ** np.arange(5))
    ends = np.array([line.get_xydata()[1] for line in ax.lines])
    assert np.allclose(ends, W.T)
    plt.close(ax.figure)
    with pytest.raises(ValueError, match="2 rows"):
        plot_feature_geometry(np.ones((3, 4)))


def test_gram_heatmap_shows_w_t_w():
    W = np.random.default_rng(0).standard_normal((3, 6))
    ax = plot_gram(W)
    assert np.allclose(ax.images[0].get_array(), W.T @ W.copy())
    plt.close(ax.figure)


def test_dimensionality_plot_marks_sticky_fractions():
    Ws = np.stack([np.eye(2, 4), np.array([[1.0, -1, 0, 0], [0, 0, 1, -1]])])
    ax = plot_dimensionality(Ws, [1.0, 0.1])
    levels = sorted(
        line.get_ydata()[0]
        for line in ax.lines
        if len(line.get_ydata()) == 2 and line.get_ydata()[0] == line.get_ydata()[1]
    )
    assert np.allclose(levels, sorted(STICKY_FRACTIONS.values()))
    dstar = next(line for line in ax.lines if line.get_label().startswith("D*"))
    assert np.allclose(
        dstar.get_ydata(), [1.0, 0.5]
    )  # 1/p = 1: 2 dims / 2 features; 1/p = 10: 2 / 4
    plt.close(ax.figure)
    with pytest.raises(ValueError, match=r"\(0, 1\]"):
        plot_dimensionality(Ws, [0.0, 0.1])


@pytest.mark.parametrize("scale", [1e150, 1e-150])
def test_dimensionality_plot_at_extreme_scales(scale):
    # D_i is scale invariant, D* scales as 1/c^2 and the represented threshold is scaled alike:
    # numpy's norm squared first (1e150: norms inf, D_i with an overflow warning; 1e-150:
    # nothing represented), and D* divided by a sum of squares that underflowed
    import warnings

    Ws = np.stack([np.eye(2, 4), np.array([[1.0, -1, 0, 0], [0, 0, 1, -1]])])
    ref = plot_dimensionality(Ws, [1.0, 0.1])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ax = plot_dimensionality(Ws * scale, [1.0, 0.1], represented_threshold=0.5 * scale)
    for got, want in zip(ax.collections, ref.collections):
        np.testing.assert_allclose(got.get_offsets(), want.get_offsets(), rtol=1e-12)
    dstar = next(line for line in ax.lines if line.get_label().startswith("D*"))
    np.testing.assert_allclose(dstar.get_ydata() * scale**2, [1.0, 0.5], rtol=1e-12)
    norms = plot_gram(np.eye(2, 3) * scale).patches
    assert [p.get_width() for p in norms] == pytest.approx([-3 / 8 * scale] * 2 + [0.0])
    plt.close("all")


def test_train_subcommand(tmp_path, capsys):
    parser = argparse.ArgumentParser()
    train_cli.add_arguments(parser)
    out = tmp_path / "models.npz"
    args = parser.parse_args(
        [
            "--n-features",
            "4",
            "--n-dims",
            "2",
            "--feature-probability",
            "1.0",
            "0.1",
            "--n-steps",
            "50",
            "--batch-size",
            "32",
            "--output",
            str(out),
            "--no-progress",
        ]
    )
    assert train_cli.run(args) == 0
    text = capsys.readouterr().out
    assert "represented" in text and "models written" in text
    assert load_model(out).W.shape == (2, 2, 4)
    bad = parser.parse_args(
        ["--n-features", "4", "--n-dims", "4", "--n-steps", "5", "--no-progress"]
    )
    with pytest.raises(ValueError, match="n_dims"):
        train_cli.run(bad)


def test_train_subcommand_new_options_and_early_path_check(tmp_path, capsys):
    from csuper.cli import main

    out = tmp_path / "liu.npz"
    argv = [
        "train", "--n-features", "6", "--n-dims", "2", "--feature-probability", "0.2",
        "--n-steps", "30", "--batch-size", "16", "--dtype", "float32", "--weight-decay", "-0.5",
        "--bias-weight-decay", "0", "--bias-lr", "0.01", "--schedule", "warmup_cosine",
        "--warmup-fraction", "0.1", "--min-lr-ratio", "0.05", "--initialization", "liu2025",
        "--magnitude", "uniform_0_2", "--interference-price", "0.1",
        "--no-coactivation-weighted", "--no-progress", "-o", str(out),
    ]  # fmt: skip
    assert main(argv) == 0
    s = load_model(out).settings
    assert (s.dtype, s.weight_decay, s.bias_lr, s.initialization) == (
        "float32",
        -0.5,
        0.01,
        "liu2025",
    )
    assert s.interference_price == 0.1 and s.coactivation_weighted is False
    # a missing output folder is refused before any training, with one line and exit 2
    capsys.readouterr()
    assert main(["train", "--n-steps", "5", "-o", str(tmp_path / "no" / "m.npz")]) == 2
    err = capsys.readouterr().err
    assert "does not exist" in err and err.count("\n") == 1
