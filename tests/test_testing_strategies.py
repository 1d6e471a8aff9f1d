"""csuper.testing's strategies generate what they promise."""

import numpy as np
from hypothesis import given

from csuper.testing import (
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
