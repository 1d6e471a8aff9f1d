"""csuper.testing's strategies generate what they promise."""

import numpy as np
import pytest
from hypothesis import given

from csuper.testing import (
    assert_jl_distortion,
    assert_no_frame_beats_bound,
    frames,
    orthogonal_matrices,
    point_clouds,
    sparse_nonnegative_signals,
    sparse_signals,
    unit_norm_frames,
)


@given(unit_norm_frames(n_dims=(1, 6), n_features=(1, 9)))
def test_unit_norm_frames(W):
    assert W.ndim == 2 and 1 <= W.shape[0] <= 6 and 1 <= W.shape[1] <= 9
    np.testing.assert_allclose(np.linalg.norm(W, axis=0), 1.0, rtol=1e-12)


@given(frames(n_dims=3, n_features=4, min_column_norm=0.2))
def test_frames_respect_min_norm(W):
    assert W.shape == (3, 4)
    assert np.linalg.norm(W, axis=0).min() >= 0.2


@given(orthogonal_matrices(dim=(1, 7)))
def test_orthogonal_matrices(Q):
    np.testing.assert_allclose(Q.T @ Q, np.eye(Q.shape[0]), atol=1e-12)


@given(sparse_nonnegative_signals(n_features=(1, 20), k=(0, 5), min_magnitude=0.2))
def test_sparse_nonnegative_signals(x):
    assert np.count_nonzero(x) <= 5
    assert np.all(x >= 0)
    assert np.all((x == 0) | (x >= 0.2))


@given(sparse_signals(n_features=10, k=3))
def test_sparse_signals_exact_k(x):
    assert x.shape == (10,)
    assert np.count_nonzero(x) == 3
    assert np.all(np.abs(x[x != 0]) <= 1.0)


@given(point_clouds(n_points=(2, 6), dim=(1, 4)))
def test_point_clouds_distinct(X):
    d = np.linalg.norm(X[:, None] - X[None], axis=-1) + np.eye(len(X))
    assert d.min() > 1e-3


# --- arguments are checked when the strategy is made, not at the first draw (issue 11) ----------


@pytest.mark.parametrize(
    "make, name",
    [
        (lambda: frames(n_dims=0), "n_dims"),
        (lambda: frames(n_dims=(3, 2)), r"n_dims\[1\]"),
        (lambda: frames(n_dims=(1.5, 3)), r"n_dims\[0\]"),
        (lambda: frames(n_dims="3"), "n_dims"),
        (lambda: frames(n_dims=(1, 2, 3)), "n_dims"),
        (lambda: frames(min_column_norm=1.5), "min_column_norm"),
        (lambda: frames(min_column_norm=float("nan")), "min_column_norm"),
        (lambda: unit_norm_frames(n_features=-1), "n_features"),
        (lambda: orthogonal_matrices(dim=(0, 3)), r"dim\[0\]"),
        (lambda: sparse_signals(n_features=5, k=6), "k must be at most"),
        (lambda: sparse_signals(n_features=(2, 9), k=(3, 4)), "k must be at most"),
        (lambda: sparse_signals(nonnegative="yes"), "nonnegative"),
        (lambda: sparse_signals(min_magnitude=0.0), "min_magnitude"),
        (lambda: sparse_nonnegative_signals(k=-1), "k"),
        (lambda: point_clouds(n_points=10**9), "n_points"),
        (lambda: point_clouds(distinct=1), "distinct"),
    ],
)
def test_strategies_reject_bad_arguments_at_once(make, name):
    with pytest.raises((ValueError, TypeError), match=name):
        make()


def test_checkers_validate_their_arguments():
    a = np.pi * np.arange(3) / 3
    W = np.vstack([np.cos(a), np.sin(a)])
    for bad in (float("nan"), -1.0, float("inf"), "x", None):
        with pytest.raises((ValueError, TypeError), match="atol"):
            assert_no_frame_beats_bound(W, atol=bad)
    for bad_W, match in (([1.0, 2.0], "2-D"), (np.ones((2, 1)), "column"), ([["a"]], "real")):
        with pytest.raises(ValueError if match != "real" else TypeError, match=match):
            assert_no_frame_beats_bound(bad_W)
    with pytest.raises(ValueError, match="eps"):
        assert_jl_distortion(np.eye(3), np.eye(3), eps=float("nan"))
