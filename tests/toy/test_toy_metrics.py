"""Toy-model metrics on frames with known answers (regular polygons, orthogonal features)
and hypothesis properties under rotations and scalings."""

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from csuper.geometry import feature_dimensionality
from csuper.testing import frames, orthogonal_matrices
from csuper.toy import (
    STICKY_FRACTIONS,
    detect_polytopes,
    dimensions_per_feature,
    feature_interference,
    feature_norms,
    neuron_polysemanticity,
    represented_count,
)


def polygon(k, radius=1.0, phase=0.0):
    ang = phase + 2 * np.pi * np.arange(k) / k
    return radius * np.stack([np.cos(ang), np.sin(ang)])


@pytest.mark.parametrize("k", [3, 4, 5, 6, 7])
def test_regular_polygon_dimensionality_is_2_over_k(k):
    # closed form: a unit-norm tight frame of k vectors in R^2 has sum_j <u_i, w_j>^2 = k/2
    assert np.allclose(feature_dimensionality(polygon(k)), 2 / k)
    assert dimensions_per_feature(polygon(k)) == pytest.approx(2 / k)


def test_sticky_fractions_from_known_polytopes():
    tetra = np.array([[1, 1, 1], [1, -1, -1], [-1, 1, -1], [-1, -1, 1]], float).T / np.sqrt(3)
    assert np.allclose(feature_dimensionality(tetra), STICKY_FRACTIONS["tetrahedron"])
    assert np.allclose(feature_dimensionality(polygon(3)), STICKY_FRACTIONS["triangle"])
    assert np.allclose(feature_dimensionality(polygon(5)), STICKY_FRACTIONS["pentagon"])
    # square antiprism: two squares at heights +-h rotated by 45 degrees; h = 1/sqrt(3) makes
    # it a tight frame (sum z^2 = 8/3 = sum x^2), hence D_i = m/n = 3/8
    h = 1 / np.sqrt(3)
    r = np.sqrt(1 - h * h)
    top = np.vstack([r * polygon(4), np.full(4, h)])
    bot = np.vstack([r * polygon(4, phase=np.pi / 4), np.full(4, -h)])
    assert np.allclose(
        feature_dimensionality(np.hstack([top, bot])), STICKY_FRACTIONS["square antiprism"]
    )
    assert [p.name for p in detect_polytopes(tetra)] == ["tetrahedron"]
    assert [p.name for p in detect_polytopes(np.hstack([top, bot]))] == ["square antiprism"]


def test_norms_and_represented_count():
    W = np.array([[1.0, 0.3, 0.0, -0.6], [0.0, 0.3, 0.0, 0.0]])
    assert np.allclose(feature_norms(W), [1.0, np.sqrt(0.18), 0.0, 0.6])
    assert represented_count(W) == 2
    assert represented_count(W, represented_threshold=0.0) == 3
    with pytest.raises(ValueError, match="represented_threshold"):
        represented_count(W, represented_threshold=-1.0)


def test_dimensionality_interference_identity_and_dead_features():
    W = np.array([[1.0, -1.0, 0.0, 0.0], [0.0, 0.0, 0.8, 0.0]])
    assert np.allclose(feature_dimensionality(W), [0.5, 0.5, 1.0, 0.0])
    # a zero column (dropped feature) has interference 0 by definition (the notebook's value)
    assert np.array_equal(feature_interference(W), [1.0, 1.0, 0.0, 0.0])
    assert np.array_equal(feature_interference(np.zeros((2, 3))), np.zeros(3))


@given(frames(n_dims=(2, 5), n_features=(2, 9)), st.data())
def test_metric_properties(W, data):
    # D_i = |w_i|^2 / (|w_i|^2 + interference_i); invariant under rotation and global scaling;
    # 0 <= D_i <= 1 and sum_i D_i <= m
    D = feature_dimensionality(W)
    nrm2 = np.sum(W * W, axis=0)
    assert np.allclose(D, nrm2 / (nrm2 + feature_interference(W)))
    # independent numpy route: D_i = |w_i|^2 / sum_j <w_i / |w_i|, w_j>^2 (Elhage et al. 2022)
    U = W / np.sqrt(nrm2)
    assert np.allclose(D, nrm2 / np.sum((U.T @ W) ** 2, axis=1), rtol=1e-9, atol=1e-12)
    assert np.all((D >= -1e-12) & (D <= 1 + 1e-12)) and D.sum() <= W.shape[0] + 1e-9
    Q = data.draw(orthogonal_matrices(dim=W.shape[0]))
    c = data.draw(st.floats(0.1, 10.0))
    assert np.allclose(feature_dimensionality(c * Q @ W), D, atol=1e-9)
    assert dimensions_per_feature(c * Q @ W) == pytest.approx(dimensions_per_feature(W) / c**2)


@given(orthogonal_matrices(dim=2), st.integers(3, 6), st.floats(0.6, 3.0))
def test_polygon_detected_under_rotation(Q, k, radius):
    names = {3: "triangle", 4: "square", 5: "pentagon", 6: "hexagon"}
    W = Q @ polygon(k, radius)
    if k == 4:  # a square is two orthogonal antipodal pairs: two digons
        assert sorted(p.name for p in detect_polytopes(W)) == ["digon", "digon"]
    else:
        (poly,) = detect_polytopes(W)
        assert poly.name == names[k] and poly.features == tuple(range(k))
        assert poly.dimensionality == pytest.approx(2 / k)


def test_irregular_group_is_not_named():
    ang = np.array([0.0, 0.3, 2.0, 4.0])  # 4 features in a plane, unevenly spread
    (poly,) = detect_polytopes(np.stack([np.cos(ang), np.sin(ang)]))
    assert poly.name == "4 features in 2 dims" and not poly.regular


def test_polytopes_ignore_dropped_and_need_low_dims():
    W = np.array([[1.0, 0.0, 0.01], [0.0, 1.0, 0.02]])
    assert [(p.name, p.features) for p in detect_polytopes(W)] == [
        ("dedicated", (0,)),
        ("dedicated", (1,)),
    ]
    assert detect_polytopes(np.zeros((2, 3))) == []
    with pytest.raises(ValueError, match="m = 2 or 3"):
        detect_polytopes(np.ones((4, 5)))


def test_neuron_polysemanticity():
    W = np.array([[1.0, 0.9, -2.0, 0.0], [0.0, 0.0, 0.0, 1.2], [0.0, 0.0, 0.0, 0.0]])
    s = neuron_polysemanticity(W)
    assert s.features_per_neuron.tolist() == [2, 1, 0]
    assert s.polysemantic.tolist() == [True, False, False]
    assert s.monosemanticity[0] == pytest.approx(1 / (1 + 0.81))
    # neuron 2 has no positive input: dead, monosemanticity 0 by definition (not NaN)
    assert s.monosemanticity[1] == 1.0 and s.monosemanticity[2] == 0.0
    assert s.dead.tolist() == [False, False, True]
    z = neuron_polysemanticity(np.zeros((2, 3)))
    assert np.all(np.isfinite(z.monosemanticity)) and z.dead.all() and z.n_polysemantic == 0


def test_dimensions_per_feature_rejects_zero():
    with pytest.raises(ValueError, match="W != 0"):
        dimensions_per_feature(np.zeros((2, 3)))


@pytest.mark.parametrize("scale", [1e200, 1e-200])
def test_norm_metrics_at_extreme_scales(scale):
    """Norms of 1e200-scaled columns are not inf and of 1e-200-scaled ones not 0 (numpy's norm
    squares first); counts and polytopes with the threshold scaled alike are unchanged."""
    W = polygon(5) * np.array([3.0, 1.0, 1.0, 1.0, 1.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        norms = feature_norms(W * scale)
        count = represented_count(W * scale, represented_threshold=0.5 * scale)
        shapes = [
            p.name for p in detect_polytopes(W[:, 1:] * scale, represented_threshold=0.5 * scale)
        ]
    np.testing.assert_allclose(norms / scale, [3.0, 1.0, 1.0, 1.0, 1.0], rtol=1e-14)
    assert count == 5 and shapes == [p.name for p in detect_polytopes(W[:, 1:])]


def test_dimensions_per_feature_scales_or_refuses():
    """D* = m / ||W||_F^2 scales as 1/c^2 while it is a normal float64, and otherwise raises
    (||W||_F^2 = 9 + 4 = 13 for the columns (3, 0), (0, 2))."""
    W = np.array([[3.0, 0.0], [0.0, 2.0]])
    for c in (1e150, 1e-150, 2.0**-500):
        assert dimensions_per_feature(W * c) == pytest.approx(2 / 13 / c**2, rel=1e-14)
    for c in (1e200, 1e-200):
        with pytest.raises(ValueError, match="normal range"):
            dimensions_per_feature(W * c)
