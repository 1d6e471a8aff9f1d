"""The distortion experiment, its plot and the `csuper jl` command."""

from __future__ import annotations

import argparse

import matplotlib
import numpy as np
import pytest

from csuper.jl import (
    BOUNDS,
    achlioptas_min_dim,
    distortion_experiment,
    make_jl,
    measure_distortion,
    plot_min_dims,
)

matplotlib.use("Agg")


def test_experiment_counts_successes_and_compares_with_bounds():
    bound = achlioptas_min_dim(15, 0.5, 0.1)  # 186
    r = distortion_experiment(
        "gaussian",
        15,
        60,
        0.5,
        n_dims=[4, 16, 64, bound],
        n_trials=12,
        failure_probability=0.1,
        rng=0,
        progress=False,
    )
    assert r.n_dims.tolist() == [4, 16, 64, bound] and r.bounds["achlioptas"] == bound
    assert set(r.bounds) == set(BOUNDS) and r.guarantee == "achlioptas"
    assert r.success_rate[0] == 0.0 and r.success_rate[-1] == 1.0  # m = 4 is hopeless, 256 easy
    assert np.all(r.ci_low <= r.success_rate) and np.all(r.success_rate <= r.ci_high)
    assert np.all(np.diff(r.median_distortion) < 0)
    ok = r.success_rate >= 0.9
    first = next(i for i in range(4) if ok[i:].all())
    assert r.empirical_min_dim == r.n_dims[first]
    assert r.ci_high[-1] >= 0.9  # at the bound, success probability >= 1 - delta is guaranteed
    assert "smallest m achieving" in r.summary()


def test_experiment_reproduces_trials_by_hand():
    """Same seed, same draws: the experiment's success count equals a hand-written loop's."""
    kw = dict(n_dims=[12], n_trials=6, rng=3, progress=False, points="basis")
    r = distortion_experiment(
        "sparse-jl", 10, 40, 0.6, construction_params={"nnz_per_column": 3}, **kw
    )
    gen = np.random.default_rng(3)
    wins = 0
    for _ in range(6):
        idx = gen.choice(40, size=10, replace=False)
        X = np.zeros((10, 40))
        X[np.arange(10), idx] = 1.0
        f = make_jl("sparse-jl", 40, 12, rng=gen, nnz_per_column=3)
        wins += measure_distortion(X, f(X), quantiles=()).max <= 0.6
    assert r.success_rate[0] == wins / 6
    r2 = distortion_experiment(
        "sparse-jl", 10, 40, 0.6, construction_params={"nnz_per_column": 3}, **kw
    )
    assert np.array_equal(r.success_rate, r2.success_rate)


def test_default_grid_respects_srht_cap_and_plot():
    r = distortion_experiment("srht", 8, 20, 0.5, n_trials=2, rng=1, progress=False)
    assert r.n_dims.max() <= 32 and r.n_dims.min() >= 1
    rs = [r, distortion_experiment("srht", 16, 20, 0.5, n_trials=2, rng=2, progress=False)]
    ax = plot_min_dims(rs)
    assert ax.get_yscale() == "log" and len(ax.get_lines()) >= len(BOUNDS)
    matplotlib.pyplot.close(ax.figure)


def test_experiment_bad_input():
    with pytest.raises(ValueError, match="construction must be one of"):
        distortion_experiment("nope", 5, 10, 0.5)
    with pytest.raises(ValueError, match=r"eps must be a real number in \(0, 1\); got 1.0"):
        distortion_experiment("gaussian", 5, 10, 1.0)
    with pytest.raises(ValueError, match=r"n_dims must be an integer in \[1, 16\]; got 17"):
        distortion_experiment("srht", 5, 10, 0.5, n_dims=[4, 17])
    with pytest.raises(ValueError, match="n_features must be >= n_points=5 for points='basis'"):
        distortion_experiment("gaussian", 5, 4, 0.5, points="basis")
    with pytest.raises(ValueError, match="points must be one of"):
        distortion_experiment("gaussian", 5, 4, 0.5, points="sphere")
    with pytest.raises(ValueError, match="results must hold at least one"):
        plot_min_dims([])


def _cli(argv):
    from csuper.cli import jl

    parser = argparse.ArgumentParser()
    jl.add_arguments(parser)
    return jl.run(parser.parse_args(argv))


def test_cli(capsys, tmp_path):
    assert _cli(["--bounds-only", "--n-points", "100", "--eps", "0.1"]) == 0
    out = capsys.readouterr().out
    for name in BOUNDS:
        assert name in out
    assert "dasgupta-gupta  m = 3947" in out  # 4 ln 100 / (0.005 - 0.001/3) = 3947.4, truncated
    png = tmp_path / "jl.png"
    assert (
        _cli(
            [
                "--construction",
                "countsketch",
                "--n-points",
                "6",
                "--n-features",
                "30",
                "--n-dims",
                "8",
                "64",
                "--n-trials",
                "3",
                "--no-progress",
                "--plot",
                str(png),
            ]
        )
        == 0
    )
    assert png.stat().st_size > 0
    assert "countsketch: N=6 points" in capsys.readouterr().out
    with pytest.raises(ValueError, match="--nnz-per-column applies only"):
        _cli(["--nnz-per-column", "3", "--n-points", "4", "--n-features", "8", "--no-progress"])


def test_trial_count_is_capped_before_the_trials(monkeypatch):
    # n_trials=2**31 asked numpy for a 16 GiB array of distortions (a raw MemoryError, found by
    # the huge-integer probe) and MAX_TRIALS + 1 would run for hours: both are refused before
    # the first map is drawn (the patched make_jl proves it, so the unfixed code fails fast)
    import csuper.jl.experiment as experiment

    def no_trials(*args, **kwargs):
        raise AssertionError("a trial started")

    monkeypatch.setattr(experiment, "make_jl", no_trials)
    for T in (experiment.MAX_TRIALS + 1, 2**31):
        with pytest.raises(ValueError, match=r"n_trials must be an integer in \[1, 1000000\]"):
            distortion_experiment("gaussian", 4, 8, 0.5, n_dims=[4], n_trials=T, rng=0)
