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
