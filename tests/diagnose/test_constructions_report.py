"""Every construction's known answers are what the diagnostics return; the report and the
neuron views."""

import json

import numpy as np
import pytest

from csuper.diagnose import (
    CONSTRUCTIONS,
    TESTS,
    DiagnosticResult,
    diagnose,
    make_construction,
    neuron_view,
    rotation_code,
    run_test,
    superposition_code,
)


@pytest.fixture(scope="module", params=list(CONSTRUCTIONS))
def construction(request):
    return make_construction(request.param, rng=11)


def test_known_answers(construction):
    c = construction
    assert c.expected, f"{c.name} declares no known answer"
    assert set(c.expected) <= set(TESTS)
    for test, answer in c.expected.items():
        res = run_test(test, c.H, c.X, W=c.W, factors=c.factors, rng=0)
        assert res.diagnosis == answer, f"{c.name} / {test}: {res.summary}"


def test_constructions_are_reproducible_and_consistent(construction):
    c = construction
    again = make_construction(c.name, rng=11)
    np.testing.assert_array_equal(c.H, again.H)
    assert c.H.shape[0] == c.X.shape[0]
    if c.W is not None:
        assert c.W.shape == (c.n_dims, c.n_features)


def test_make_construction_rejects_unknown_names():
    with pytest.raises(ValueError, match="name must be one of"):
        make_construction("spiral")
    # nightly fuzz: a deterministic construction ignored rng, so rng=1.5 was accepted
    for name in ("product", "compositional_local"):
        with pytest.raises(TypeError, match="rng must be None, an int seed"):
            make_construction(name, rng=1.5)


def test_diagnose_headlines():
    c = rotation_code(rng=0)
    fast = ["linear_recoverability", "dimension_budget", "neuron_alignment", "additivity"]
    d = diagnose(c.H, c.X, W=c.W, tests=fast, rng=0)
    assert d.headline == ["polysemanticity without superposition: a rotated basis of the features"]
    assert not d.results["additivity"].applicable
    c = superposition_code(rng=0)
    d = diagnose(c.H, c.X, W=c.W, tests=["linear_recoverability", "dimension_budget"], rng=0)
    assert d.headline[0].startswith("superposition")
    text = d.to_markdown()
    assert "| dimension_budget | superposition |" in text
    json.dumps(d.to_dict())  # serialisable


def test_diagnose_on_weights_only_says_what_cannot_apply():
    d = diagnose(W=np.eye(3), rng=0)
    assert d.results["dimension_budget"].diagnosis == "no superposition"
    assert d.results["neuron_alignment"].diagnosis == "privileged basis"
    for name in ("linear_recoverability", "decoder_ladder", "unmixing", "scale_invariance"):
        assert not d.results[name].applicable
        assert "needs" in d.results[name].summary


def test_diagnose_bad_input():
    c = rotation_code(rng=0)
    with pytest.raises(ValueError, match="tests must be names"):
        diagnose(c.H, c.X, tests=["magic"])
    # nightly fuzz finding: tests=object() reached list(tests) ("'object' object is not
    # iterable", no parameter named); a bare string was split into letters
    for bad in (object(), 3, "linear_recoverability"):
        with pytest.raises(TypeError, match=r"tests must be None \(every test\) or a sequence"):
            diagnose(c.H, c.X, tests=bad)
    with pytest.raises(ValueError, match="without the activations"):
        diagnose(X=c.X)
    with pytest.raises(ValueError, match="one row per hidden dimension"):
        diagnose(c.H, c.X, W=c.W[:-1])
    with pytest.raises(ValueError, match="name must be one of"):
        run_test("magic", c.H, c.X)


def test_neuron_view_signed_and_correlations():
    W = np.array([[2.0, -2.0], [0.0, -1.0], [0.0, 0.0]])
    v = neuron_view(W)  # nonnegative inputs: only positive weights drive a ReLU neuron
    assert v.features_per_neuron.tolist() == [1, 0, 0] and v.dead == 2
    v = neuron_view(W, signed=True)
    assert v.features_per_neuron.tolist() == [2, 1, 0]
    assert (v.monosemantic, v.polysemantic, v.dead) == (1, 1, 1)
    assert v.polysemantic_share == 0.5
    rng = np.random.default_rng(0)
    X = rng.random((200, 2))
    v = neuron_view(np.eye(2), np.maximum(X @ np.eye(2), 0), X)
    np.testing.assert_allclose(v.correlations, np.corrcoef(X.T, X.T)[:2, 2:] * [[1, 1], [1, 1]])
    with pytest.raises(ValueError, match="weight_threshold"):
        neuron_view(W, weight_threshold=1.0)


def test_result_object():
    r = DiagnosticResult.not_applicable("unmixing", "no features")
    assert not r.applicable and np.isnan(r.statistic)
    assert r.to_dict()["diagnosis"] == "not applicable"
