"""Trainer: closed-form gradients vs finite differences, torch's Adam(W) formulas, schedules,
determinism (seeds, parallel == serial), best-of-N, divergence, save/load and bad input."""

import dataclasses
import os

import numpy as np
import pytest

from csuper.geometry import feature_dimensionality
from csuper.toy import (
    MODELS,
    NOTEBOOK_SETTINGS,
    ToyModel,
    TrainingDivergedError,
    TrainSettings,
    dense_limit_loss,
    feature_distribution,
    from_weights,
    learning_rates,
    load_model,
    sample_features,
    save_model,
    toy_loss,
    train,
)
from csuper.toy import _train_kernels as K

FAST = TrainSettings(n_steps=60, batch_size=64)

# Trainings of hundreds of steps take minutes as plain Python; the kernels they use are covered
# under NUMBA_DISABLE_JIT=1 by the short trainings and the gradient/Adam tests.
needs_jit = pytest.mark.skipif(
    os.environ.get("NUMBA_DISABLE_JIT") == "1",
    reason="long training is too slow without numba's JIT",
)


def _batch(rng, B, n, p):
    X = rng.random((B, n)) * (rng.random((B, n)) < p)
    return X


@pytest.mark.kernels
@pytest.mark.parametrize("model", sorted(MODELS))
@pytest.mark.parametrize("route", [0, 1])  # h = W x and encoder gradient by BLAS / active entries
@pytest.mark.parametrize("p", [0.4, 0.05])
def test_gradient_matches_finite_differences(model, route, p):
    rng = np.random.default_rng(route)
    m, n, B = 3, 7, 40
    W = rng.standard_normal((m, n)) * 0.7
    b = rng.standard_normal(n) * 0.2
    X = _batch(rng, B, n, p)
    imp = rng.random(n) + 0.1
    gW, gb = np.zeros((m, n)), np.zeros(n)
    loss = K.loss_grad_dense(W, b, X, imp, MODELS[model]["code"], gW, gb, route)
    ref = toy_loss(W, b, X, imp, model=model)[0]
    assert loss == pytest.approx(ref, rel=1e-12)
    h = 1e-6

    def f(W_, b_):
        return toy_loss(W_, b_, X, imp, model=model)[0]

    num_W = np.zeros_like(W)
    for k in range(m):
        for i in range(n):
            E = np.zeros_like(W)
            E[k, i] = h
            num_W[k, i] = (f(W + E, b) - f(W - E, b)) / (2 * h)
    num_b = np.array([(f(W, b + h * e) - f(W, b - h * e)) / (2 * h) for e in np.eye(n)])
    # central differences: error O(h^2) plus rounding ~ eps * loss / h
    assert np.allclose(gW, num_W, atol=1e-7, rtol=1e-5)
    assert np.allclose(gb, num_b, atol=1e-7, rtol=1e-5)


@pytest.mark.kernels
@pytest.mark.parametrize("model", sorted(MODELS))
@pytest.mark.parametrize("p", [0.6, 0.03])
def test_sparse_input_route_equals_blas_route(model, p):
    # the two routes compute the same sums in different orders: equal to rounding
    rng = np.random.default_rng(3)
    m, n = 6, 150
    W, b, imp = rng.standard_normal((m, n)) * 0.3, rng.standard_normal(n) * 0.1, rng.random(n)
    X = _batch(rng, 200, n, p)
    out = []
    for route in (0, 1):
        g, gb = np.zeros((m, n)), np.zeros(n)
        loss = K.loss_grad_dense(W, b, X, imp, MODELS[model]["code"], g, gb, route)
        out.append((loss, g, gb))
    assert out[0][0] == pytest.approx(out[1][0], rel=1e-12)
    assert np.allclose(out[0][1], out[1][1], rtol=1e-10, atol=1e-14)
    assert np.allclose(out[0][2], out[1][2], rtol=1e-10, atol=1e-14)


@pytest.mark.kernels
@pytest.mark.parametrize("decoupled", [True, False])
def test_adam_matches_torch_formula(decoupled):
    # reference: torch.optim.Adam / AdamW update rule written out in numpy (torch docs)
    rng = np.random.default_rng(4)
    P0 = rng.standard_normal(6)
    grads = rng.standard_normal((5, 6))
    lr, b1, b2, eps, wd = 0.01, 0.9, 0.999, 1e-8, 0.05
    P, M, V = P0.copy(), np.zeros(6), np.zeros(6)
    Q, Mq, Vq = P0.copy(), np.zeros(6), np.zeros(6)
    for t, g in enumerate(grads, start=1):
        K._adam_update(P, g.copy(), M, V, lr, b1, b2, eps, wd, decoupled, t)
        gq = g.copy()
        if decoupled:
            Q = Q * (1 - lr * wd)
        else:
            gq = gq + wd * Q
        Mq = b1 * Mq + (1 - b1) * gq
        Vq = b2 * Vq + (1 - b2) * gq**2
        Q = Q - lr * (Mq / (1 - b1**t)) / (np.sqrt(Vq / (1 - b2**t)) + eps)
        assert np.allclose(P, Q, rtol=1e-13, atol=1e-15)


def test_first_adam_step_is_lr_times_sign():
    # closed form: after one step mhat = g, vhat = g^2, so the update is lr * sign(g) (wd = 0)
    P, g = np.zeros(4), np.array([3.0, -0.2, 1e-3, -50.0])
    K._adam_update(P, g, np.zeros(4), np.zeros(4), 0.1, 0.9, 0.999, 1e-12, 0.0, True, 1)
    assert np.allclose(P, -0.1 * np.sign(g), rtol=1e-8)


def test_schedules():
    s = TrainSettings(n_steps=5, lr=2.0, schedule="cosine")
    assert np.allclose(learning_rates(s), 2.0 * np.cos(0.5 * np.pi * np.arange(5) / 4))
    assert learning_rates(s)[-1] == pytest.approx(0.0, abs=1e-15)
    s = dataclasses.replace(s, schedule="linear")
    assert np.allclose(learning_rates(s), 2.0 * (1 - np.arange(5) / 5))
    assert np.allclose(learning_rates(dataclasses.replace(s, schedule="constant")), 2.0)


def test_notebook_preset():
    s = NOTEBOOK_SETTINGS
    assert (s.n_steps, s.batch_size, s.lr, s.optimizer, s.weight_decay) == (
        10_000,
        1024,
        1e-3,
        "adamw",
        1e-2,
    )
    assert s.betas == (0.9, 0.999) and s.eps == 1e-8 and s.schedule == "constant"


@needs_jit
def test_training_reduces_loss_and_is_deterministic():
    d = feature_distribution(6, [0.05, 0.3])
    s = TrainSettings(n_steps=300, batch_size=128, lr=1e-2)
    a = train(d, 2, settings=s, rng=5, parallel=False)
    b = train(d, 2, settings=s, rng=5, parallel=True)
    assert np.array_equal(a.W, b.W) and np.array_equal(a.loss_history, b.loss_history)
    assert np.all(a.final_loss < a.loss_history[:, :10].mean(axis=1))
    c = train(d, 2, settings=s, rng=6)
    assert not np.array_equal(a.W, c.W)


@needs_jit
def test_seed_reproduces_instance_and_best_of_n():
    d = feature_distribution(5, [0.1, 0.5])
    s = TrainSettings(n_steps=100, batch_size=64, lr=1e-2)
    model = train(d, 2, settings=s, n_seeds=3, rng=7)
    assert model.seed_losses.shape == (2, 3)
    assert np.allclose(model.final_loss, model.seed_losses.min(axis=1))
    for r in range(2):
        single = train(
            feature_distribution(5, d.feature_probability[r]), 2, settings=s, seeds=[model.seeds[r]]
        )
        assert np.array_equal(single.W[0], model.W[r])


@needs_jit
@pytest.mark.parametrize("model", sorted(MODELS))
def test_every_model_trains(model):
    d = feature_distribution(5, 0.2)
    s = TrainSettings(
        model=model, n_steps=200, batch_size=128, lr=1e-2, optimizer="adam", weight_decay=0.0
    )
    out = train(d, 3, settings=s, rng=8)
    assert out.model == model
    assert out.final_loss[0] < out.loss_history[0, :5].mean()


@needs_jit
def test_dense_limit_loss_closed_form():
    # p = 1, I_i = 0.9^i: the trained loss equals sum_{i >= m} I_i / (12 n) within 2%
    imp = 0.9 ** np.arange(5)
    d = feature_distribution(5, 1.0)
    s = TrainSettings(n_steps=1500, batch_size=512, lr=1e-2, schedule="linear")
    model = train(d, 2, importance=imp, settings=s, n_seeds=2, rng=9)
    X = sample_features(d, 40000, rng=10)[0]
    loss = model.loss(X)[0]
    assert loss == pytest.approx(dense_limit_loss(imp, 2), rel=0.02)


@needs_jit
def test_uniform_importance_sparse_gives_pentagon():
    # Elhage et al. 2022: with uniform importance and high sparsity all 5 features form a
    # pentagon, D_i = 2/5
    d = feature_distribution(5, [0.05, 0.15])
    s = TrainSettings(n_steps=2000, batch_size=256, lr=1e-2, schedule="linear")
    model = train(d, 2, settings=s, n_seeds=2, rng=11)
    for r in range(2):
        assert np.allclose(feature_dimensionality(model.W[r]), 0.4, atol=0.02)


def test_divergence_names_step_and_instance():
    d = feature_distribution(4, [0.5, 0.5])
    s = TrainSettings(n_steps=50, batch_size=32, lr=1e200)
    with pytest.raises(TrainingDivergedError, match=r"at step \d+ of instance \d") as err:
        train(d, 2, settings=s, rng=12)
    e = err.value
    assert 0 <= e.step < 50 and e.instance in (0, 1)
    assert np.all(np.isnan(e.model.loss_history[e.instance, e.step :]))
    assert np.all(np.isfinite(e.model.loss_history[e.instance, : e.step]))


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        (dict(n_dims=5), ValueError, r"n_dims must be an integer in \[1, 5\)"),
        (dict(n_dims=0), ValueError, "n_dims"),
        (dict(n_dims=2, importance=[1.0, 1.0]), ValueError, "importance must have length"),
        (dict(n_dims=2, importance=[1.0, -1.0, 1.0, 1.0, 1.0]), ValueError, "nonnegative"),
        (dict(n_dims=2, n_seeds=0), ValueError, "n_seeds"),
        (dict(n_dims=2, settings="fast"), TypeError, "TrainSettings"),
        (dict(n_dims=2, seeds=[1, 2]), ValueError, "seeds"),
    ],
)
def test_bad_training_input(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        train(feature_distribution(5, 0.1), **kwargs)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(model="mlp"), "model"),
        (dict(optimizer="sgd"), "optimizer"),
        (dict(schedule="step"), "schedule"),
        (dict(lr=0.0), "lr"),
        (dict(betas=(0.9, 1.0)), r"betas\[1\]"),
        (dict(n_steps=0), "n_steps"),
    ],
)
def test_bad_settings(kwargs, match):
    with pytest.raises(ValueError, match=match):
        TrainSettings(**kwargs)


def test_train_needs_distribution():
    with pytest.raises(TypeError, match="FeatureDistribution"):
        train(0.1, 2)


def test_save_load_roundtrip(tmp_path):
    model = train(feature_distribution(5, [0.1, 0.2]), 2, settings=FAST, n_seeds=2, rng=13)
    save_model(model, tmp_path / "m.npz")
    back = load_model(tmp_path / "m.npz")
    for f in (
        "W",
        "b",
        "importance",
        "feature_probability",
        "loss_history",
        "seeds",
        "seed_losses",
    ):
        assert np.array_equal(getattr(model, f), getattr(back, f)), f
    assert back.settings == model.settings and back.distribution == model.distribution


def _resave(path, **changes):
    with np.load(path, allow_pickle=False) as f:
        data = {k: f[k] for k in f.files}
    data.update(changes)
    for k in [k for k, v in changes.items() if v is None]:
        del data[k]
    np.savez(path, **data)


def test_load_rejects_bad_files(tmp_path):
    model = train(feature_distribution(4, 0.2), 2, settings=FAST, rng=14)
    p = tmp_path / "m.npz"
    (tmp_path / "junk.npz").write_bytes(b"not a zip file")
    with pytest.raises(ValueError, match="not a readable"):
        load_model(tmp_path / "junk.npz")
    cases = [
        (dict(W=np.full((1, 2, 4), np.nan)), "non-finite"),
        (dict(b=np.zeros((1, 3))), "b has shape"),
        (dict(metadata=np.array("{not json")), "corrupt metadata"),
        (dict(metadata=np.array('{"format": "other/1", "settings": {}}')), "unsupported format"),
        (dict(seeds=None), "missing"),
    ]
    for change, match in cases:
        model.save(p)
        _resave(p, **change)
        with pytest.raises(ValueError, match=match):
            load_model(p)


def test_from_weights_torch_layout():
    rng = np.random.default_rng(15)
    Wt = rng.standard_normal((3, 5, 2))  # the notebook's (instances, n_features, n_dims)
    b = rng.standard_normal((3, 5))
    model = from_weights(Wt, b, layout="torch", importance=np.ones(5), feature_probability=0.1)
    assert isinstance(model, ToyModel) and model.W.shape == (3, 2, 5)
    X = rng.random((7, 5))
    torch_way = np.maximum(np.einsum("bf,ifh,igh->ibg", X, Wt, Wt) + b[:, None, :], 0)
    assert np.allclose(model.forward(X), torch_way)
    with pytest.raises(ValueError, match="layout"):
        from_weights(Wt, layout="jax")
    with pytest.raises(ValueError, match="finite"):
        from_weights(np.full((2, 3), np.inf))


def _first_batches(d, seeds, n_dims, batch, init_scale=1.0):
    # independent route to a training run's first batch: the stream state each seed derives
    # (after its W draw) fed to the public sampler's kernel
    import sys

    _, states = sys.modules["csuper.toy.train"]._seed_models(
        seeds, d.n_features, n_dims, init_scale
    )
    X = np.zeros((len(seeds), batch, d.n_features))
    indep, gstart, gmem, gmode, gp, law = d._kernel
    with np.errstate(over="ignore"):  # the stream's uint64 arithmetic wraps by design
        K.sample_many(states, d.feature_probability, gp, indep, gstart, gmem, gmode, law, X)
    return X


def test_warm_start_continues_from_init():
    d = feature_distribution(6, [0.05, 0.3])
    a = train(d, 2, settings=FAST, rng=3)
    lr = 1e-9
    tiny = TrainSettings(n_steps=1, batch_size=64, lr=lr)
    b = train(d, 2, settings=tiny, seeds=[11, 12], init=a)
    # one Adam(W) step moves each weight by at most lr (1 + weight_decay |w|)
    bound = lr * (1 + tiny.weight_decay * max(np.abs(a.W).max(), np.abs(a.b).max())) * (1 + 1e-6)
    assert np.abs(b.W - a.W).max() <= bound and np.abs(b.b - a.b).max() <= bound
    assert np.abs(b.W - a.W).max() > 0.5 * lr  # it did take the step
    # the first step's loss is the init model's loss on that step's batch
    X = _first_batches(d, [11, 12], 2, 64)
    assert np.allclose(b.loss_history[:, 0], toy_loss(a.W, a.b, X), rtol=1e-12, atol=0)
    # same seeds + same init: same result; the init is not modified
    W_before = a.W.copy()
    c = train(d, 2, settings=FAST, seeds=[11, 12], init={"W": a.W, "b": a.b})
    c2 = train(d, 2, settings=FAST, seeds=[11, 12], init=(a.W, a.b))
    assert np.array_equal(c.W, c2.W) and np.array_equal(c.loss_history, c2.loss_history)
    assert np.array_equal(a.W, W_before)
    # a cold start from the same seeds differs (its first loss is the xavier init's)
    cold = train(d, 2, settings=FAST, seeds=[11, 12])
    assert not np.array_equal(cold.W, c.W)


def test_warm_start_every_seed_starts_from_init():
    d = feature_distribution(5, 0.1)
    a = train(d, 2, settings=FAST, rng=4)
    b = train(d, 2, settings=FAST, n_seeds=3, rng=9, init=a)
    assert b.seed_losses.shape == (1, 3)
    single = train(d, 2, settings=FAST, seeds=[b.seeds[0]], init=a)
    assert np.array_equal(single.W, b.W)


@pytest.mark.parametrize(
    "init,exc,match",
    [
        ((np.zeros((1, 3, 5)), np.zeros((1, 5))), ValueError, r"init.*\(1, 2, 5\)"),
        ((np.zeros((2, 2, 5)), np.zeros((2, 5))), ValueError, r"init.*\(1, 2, 5\)"),
        ((np.zeros((1, 2, 5)), np.zeros((1, 4))), ValueError, r"init.*\(1, 5\)"),
        ((np.zeros((2, 5)), np.zeros((1, 5))), ValueError, "init W"),
        ((np.full((1, 2, 5), np.nan), np.zeros((1, 5))), ValueError, "init W.*finite"),
        ((np.zeros((1, 2, 5)), np.full((1, 5), np.inf)), ValueError, "init b.*finite"),
        ({"W": np.zeros((1, 2, 5))}, ValueError, "init.*keys"),
        (np.zeros((1, 2, 5)), TypeError, "init must be"),
        (from_weights(np.zeros((3, 2, 5))), ValueError, r"init.*\(1, 2, 5\)"),
    ],
)
def test_bad_init(init, exc, match):
    with pytest.raises(exc, match=match):
        train(feature_distribution(5, 0.1), 2, settings=FAST, rng=0, init=init)
