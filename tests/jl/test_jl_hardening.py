"""Edges of csuper.jl (issue 11): bounds at extreme eps and failure probabilities, huge sizes,
memory guards, flags and parameters checked before any work."""

from __future__ import annotations

import math

import numpy as np
import pytest

from csuper import jl
from csuper._validation import MEMORY_BUDGET_ENV, MemoryBudgetError


@pytest.mark.parametrize("name", sorted(jl.BOUNDS))
def test_tiny_eps_and_failure_probability_raise_naming_them(name):
    """Issue 11: min_dim(2**63, 5e-324, failure_probability=5e-324) divided by zero. Beyond
    float64 the target dimension cannot be computed; the error says which arguments."""
    with pytest.raises(ValueError, match=r"eps=5e-324.*eps \(or failure_probability\) is too"):
        jl.min_dim(100, 5e-324, bound=name, failure_probability=5e-324, n_features=64)
    with pytest.raises(
        ValueError, match=r"^n_points must be an integer in \[2, 9007199254740992\]"
    ):
        jl.min_dim(2**63, 0.5, bound=name, n_features=64)


def test_extreme_but_finite_values_are_computed_in_logarithms():
    """ln(1/delta) as -ln(delta): delta = 5e-324 (1/delta overflows) still gives the exact
    formula; CountSketch's N(N-1)/(eps^2 delta) through logarithms where eps^2 delta
    underflows."""
    n, e, d = 10**6, 0.5, 5e-324
    expected = (4 * math.log(n) - 2 * math.log(d)) / (e**2 / 2 - e**3 / 3)
    assert jl.achlioptas_min_dim(n, e, failure_probability=d) == math.ceil(expected)
    assert jl.countsketch_min_dim(10, 1e-100, 1e-100) == pytest.approx(9e301, rel=1e-12)
    with pytest.raises(ValueError, match=r"countsketch bound needs more than 1\.8e308"):
        jl.countsketch_min_dim(10, 1e-160, 1e-10)  # eps^2 delta underflows to 0
    assert jl.srht_min_dim(2**53, 0.01, 5e-324, 2**53) > 0


def test_array_dimensions_beyond_int64_raise():
    with pytest.raises(ValueError, match=r"eps=1e-12 is too small.*int64"):
        jl.dasgupta_gupta_min_dim([10, 100], 1e-12)
    with pytest.raises(ValueError, match="at least 1 element"):
        jl.dasgupta_gupta_min_dim(np.array([], dtype=int), 0.5)
    with pytest.raises(TypeError, match="n_points must be integers"):
        jl.dasgupta_gupta_min_dim(np.array([True]), 0.5)


def test_max_eps_names_every_argument_of_an_impossible_request():
    with pytest.raises(ValueError, match=r"n_dims must be .* failure_probability=5e-324"):
        jl.max_eps(100, 5000, failure_probability=5e-324)
    with pytest.raises(ValueError, match="bound must be one of"):
        jl.max_eps(100, 5000, bound=["achlioptas"])
    with pytest.raises(TypeError, match="n_features"):
        jl.min_dim(100, 0.5, bound="achlioptas", n_features=1.5)  # checked even where unused


@pytest.mark.parametrize(
    "call, advice",
    [
        (lambda: jl.GaussianJL(10**6, 10**5), "sparse construction"),
        (lambda: jl.AchlioptasJL(10**5, 10**4), "sparse construction"),
        (lambda: jl.VerySparseJL(10**8, 10**6), "smaller n_dims"),
        (lambda: jl.SparseJL(10**9, 100), "smaller n_dims"),
        (lambda: jl.SRHT(2**40, 16), "smaller n_dims"),
        (lambda: jl.SparseJL(10**5, 10**4, rng=0).matrix(), "to_sparse"),
        (lambda: jl.CountSketch(4, 10**7, rng=0).apply(np.ones((100, 4))), "smaller batches"),
        (lambda: jl.fwht(np.ones((100, 2**16 + 1)), pad=True), "fewer vectors"),
        (lambda: jl.measure_distortion(np.eye(3), np.eye(3), n_pairs=10**10), "smaller n_pairs"),
        (
            lambda: jl.distortion_experiment("gaussian", 10**4, 10**5, 0.5, n_dims=[10**3]),
            "smaller n_points",
        ),
    ],
)
def test_memory_guards(monkeypatch, call, advice):
    monkeypatch.setenv(MEMORY_BUDGET_ENV, "64MiB")
    with pytest.raises(MemoryBudgetError, match="needs about") as err:
        call()
    assert advice in str(err.value)


def test_construction_memory_estimates_cover_the_draw():
    """Each construction's estimate is at least the memory its arrays end up holding (the
    matrix, or its CSC arrays)."""
    for name in sorted(jl.CONSTRUCTIONS):
        f = jl.make_jl(name, 3000, 64, rng=0)
        held = sum(
            a.nbytes
            for a in vars(f).values()
            if isinstance(a, np.ndarray) and a.size > 64  # skip the SRHT's tiny sign vector
        )
        assert f._draw_bytes() >= held, name


def test_parameters_and_flags_are_checked():
    with pytest.raises(TypeError, match=r"params of the 'gaussian' construction must be among"):
        jl.make_jl("gaussian", 10, 3, density=0.5)
    with pytest.raises(ValueError, match="name must be one of"):
        jl.make_jl(["gaussian"], 10, 3)
    for flag in ("normalize", "pad"):
        with pytest.raises(TypeError, match=f"{flag} must be True or False"):
            jl.fwht(np.ones(4), **{flag: "yes"})
    kwargs = dict(n_dims=[4], n_trials=1, rng=0)
    with pytest.raises(TypeError, match="progress must be True or False"):
        jl.distortion_experiment("gaussian", 5, 8, 0.5, progress=1, **kwargs)
    with pytest.raises(TypeError, match="construction_params of the 'gaussian'"):
        jl.distortion_experiment("gaussian", 5, 8, 0.5, construction_params={"s": 2}, **kwargs)
    with pytest.raises(TypeError, match="construction_params must be a dict"):
        jl.distortion_experiment("gaussian", 5, 8, 0.5, construction_params=[1], **kwargs)
    with pytest.raises(TypeError, match="n_dims must be a sequence of integers"):
        jl.distortion_experiment("gaussian", 5, 8, 0.5, n_dims=[4.5], n_trials=1)
    with pytest.raises(ValueError, match="points must be one of"):
        jl.distortion_experiment("gaussian", 5, 8, 0.5, points=["basis"], **kwargs)


@pytest.mark.parametrize("name", sorted(jl.POINT_SETS))
def test_point_sets_dispatch(name):
    """Every registered point set is what the experiment draws (same seed, same points)."""
    X = jl.POINT_SETS[name](5, 8, np.random.default_rng(0))
    assert X.shape == (5, 8)
    if name == "basis":
        np.testing.assert_array_equal(np.sort(X.sum(axis=1)), np.ones(5))
    r = jl.distortion_experiment("srht", 5, 8, 0.5, n_dims=[8], n_trials=1, points=name, rng=0)
    assert r.success_rate[0] == 1.0  # the SRHT at m = n' = 8 is an isometry


def test_plot_min_dims_arguments():
    r = jl.distortion_experiment("srht", 5, 8, 0.5, n_dims=[8], n_trials=1, rng=0)
    for bad in (3, "results", None):
        with pytest.raises(TypeError, match="results must be a sequence"):
            jl.plot_min_dims(bad)
    with pytest.raises(TypeError, match="ax must be a matplotlib Axes"):
        jl.plot_min_dims([r], ax=3)


NOT_ARRAYS = {"ragged": [[1, 2], [3]], "string": "abc", "dict": {"a": 1}, "object": object()}


@pytest.mark.parametrize("bad", NOT_ARRAYS.values(), ids=NOT_ARRAYS.keys())
@pytest.mark.parametrize(
    "call, name",
    [
        # np.ndim / np.asarray of both arguments ran before any validator
        (lambda v: jl.dasgupta_gupta_min_dim(v, eps=0.5), "n_points"),
        (lambda v: jl.dasgupta_gupta_min_dim(10, eps=v), "eps"),
        (lambda v: jl.dasgupta_gupta_min_dim([10, 20], eps=v), "eps"),
        (lambda v: jl.GaussianJL(3, 8, rng=v), "rng"),
    ],
)
def test_not_an_array_names_the_parameter(call, name, bad):
    with pytest.raises((ValueError, TypeError), match=rf"^{name} ") as info:
        call(bad)
    assert "inhomogeneous" not in str(info.value)
