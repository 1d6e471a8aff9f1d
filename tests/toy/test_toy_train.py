"""Trainer: exact gradients vs finite differences on every model and route, the routes against
each other, float32 against float64, torch's Adam(W) formulas, Liu et al.'s negative weight
decay, determinism (seeds, parallel == serial), best-of-N, divergence, memory guard, save/load
and bad input."""

import dataclasses
import os

import numpy as np
import pytest

from csuper._validation import MemoryBudgetError
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
    load_model,
    sample_features,
    save_model,
    toy_loss,
    train,
)
from csuper.toy import _train_kernels as K
from csuper.toy.data import _kernel_data
from csuper.toy.train import _fit, _seed_models

FAST = TrainSettings(n_steps=60, batch_size=64)

# Trainings of hundreds of steps take minutes as plain Python; the kernels they use are covered
# under NUMBA_DISABLE_JIT=1 by the short trainings and the gradient/Adam tests.
needs_jit = pytest.mark.skipif(
    os.environ.get("NUMBA_DISABLE_JIT") == "1",
    reason="long training is too slow without numba's JIT",
)


def _batch(rng, B, n, p):
    return rng.random((B, n)) * (rng.random((B, n)) < p)


def _hy(model="relu_output", input_route=0, output_route=0, B=1):
    v = MODELS[model]
    return K.Hyper(
        0.9,
        0.999,
        1e-8,
        0.0,
        0.0,
        1.0,
        True,
        v.hidden_relu,
        v.output_relu,
        0.0,
        input_route,
        output_route,
        B,
    )


def _grad(W, b, X, imp, model, input_route, output_route, dtype=np.float64):
    """(loss, gW (m, n), gb) from the kernel, in csuper's (m, n) layout."""
    Wt = np.ascontiguousarray(W.T, dtype=dtype)
    loss, gWt, gb = K.loss_grad(
        Wt,
        np.asarray(b, dtype),
        np.ascontiguousarray(X, dtype),
        np.asarray(imp, dtype),
        _hy(model, input_route, output_route, X.shape[0]),
    )
    return loss, gWt.T, gb


def _numeric_grad(f, W, b, h=1e-6):
    num_W = np.zeros_like(W)
    for k in range(W.shape[0]):
        for i in range(W.shape[1]):
            E = np.zeros_like(W)
            E[k, i] = h
            num_W[k, i] = (f(W + E, b) - f(W - E, b)) / (2 * h)
    num_b = np.array([(f(W, b + h * e) - f(W, b - h * e)) / (2 * h) for e in np.eye(len(b))])
    return num_W, num_b


ROUTES = [(0, 0), (1, 0), (0, 1), (1, 1)]  # (input, output): 0 GEMM, 1 over active/open entries


@pytest.mark.kernels
@pytest.mark.parametrize("model", sorted(MODELS))
@pytest.mark.parametrize("routes", ROUTES, ids=lambda r: f"in{r[0]}-out{r[1]}")
@pytest.mark.parametrize("p", [0.4, 0.05])
def test_gradient_matches_finite_differences(model, routes, p):
    rng = np.random.default_rng(routes[0] + 2 * routes[1])
    m, n, B = 3, 7, 40
    W = rng.standard_normal((m, n)) * 0.7
    b = rng.standard_normal(n) * 0.2
    X = _batch(rng, B, n, p)
    imp = rng.random(n) + 0.1
    loss, gW, gb = _grad(W, b, X, imp, model, *routes)
    assert loss == pytest.approx(toy_loss(W, b, X, imp, model=model)[0], rel=1e-12)
    num_W, num_b = _numeric_grad(lambda W_, b_: toy_loss(W_, b_, X, imp, model=model)[0], W, b)
    # central differences: error O(h^2) plus rounding ~ eps * loss / h
    assert np.allclose(gW, num_W, atol=1e-7, rtol=1e-5)
    assert np.allclose(gb, num_b, atol=1e-7, rtol=1e-5)


@pytest.mark.kernels
@pytest.mark.parametrize("model", sorted(MODELS))
@pytest.mark.parametrize("p", [0.6, 0.03])
def test_routes_agree_and_float32_matches_float64(model, p):
    # the routes compute the same sums in different orders: equal to rounding; float32 agrees
    # with float64 to float32 precision
    rng = np.random.default_rng(3)
    m, n = 6, 150
    W, b, imp = rng.standard_normal((m, n)) * 0.3, rng.standard_normal(n) * 0.1, rng.random(n)
    X = _batch(rng, 200, n, p)
    ref = _grad(W, b, X, imp, model, 0, 0)
    scale = np.abs(ref[1]).max()
    for routes in ROUTES[1:]:
        out = _grad(W, b, X, imp, model, *routes)
        assert out[0] == pytest.approx(ref[0], rel=1e-12)
        assert np.allclose(out[1], ref[1], rtol=1e-10, atol=1e-13 * scale)
        assert np.allclose(out[2], ref[2], rtol=1e-10, atol=1e-13 * scale)
    for routes in ROUTES:
        out = _grad(W, b, X, imp, model, *routes, dtype=np.float32)
        assert out[1].dtype == np.float32
        assert out[0] == pytest.approx(ref[0], rel=1e-5)
        assert np.allclose(out[1], ref[1], rtol=1e-3, atol=1e-5 * scale)


@pytest.mark.kernels
@pytest.mark.parametrize("model", sorted(MODELS))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_small_hidden_form_equals_the_general_form(model, dtype):
    # up to SMALL_HIDDEN columns the GEMM route works on H^T (m, B); padding W with zero columns
    # past SMALL_HIDDEN sends the same model through the general (B, m) form. The padded columns
    # add exact zeros to every sum, so the two agree to rounding (the k = B products change
    # their width, hence OpenBLAS's blocking; the trainer's own bit-for-bit equality with the
    # general form is checked by the committed results' drift tests, tests/papers).
    rng = np.random.default_rng(11)
    m, n = 5, 40
    W, b, imp = rng.standard_normal((m, n)) * 0.3, rng.standard_normal(n) * 0.1, rng.random(n)
    X = _batch(rng, 300, n, 0.5)
    W_pad = np.vstack([W, np.zeros((K.SMALL_HIDDEN + 1 - m, n))])
    assert m <= K.SMALL_HIDDEN < W_pad.shape[0]
    tol = 64 * float(np.finfo(dtype).eps)
    for routes in ROUTES:
        small = _grad(W, b, X, imp, model, *routes, dtype=dtype)
        general = _grad(W_pad, b, X, imp, model, *routes, dtype=dtype)
        scale = np.abs(general[1]).max()
        assert small[0] == pytest.approx(general[0], rel=tol)
        assert np.allclose(small[1], general[1][:m], rtol=tol, atol=tol * scale)
        assert not general[1][m:].any()  # zero columns of a zero gradient
        assert np.allclose(small[2], general[2], rtol=tol, atol=tol * scale)


def _adam(P, g, M, V, lr, t, wd, decoupled):
    K._adam_update(P, g, M, V, lr, 0.9, 0.999, 1e-8, wd, decoupled, t)


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
        _adam(P, g.copy(), M, V, lr, t, wd, decoupled)
        gq = g.copy()
        if decoupled:
            Q = Q * (1 - lr * wd)
        else:
            gq = gq + wd * Q
        Mq = b1 * Mq + (1 - b1) * gq
        Vq = b2 * Vq + (1 - b2) * gq**2
        Q = Q - lr * (Mq / (1 - b1**t)) / (np.sqrt(Vq / (1 - b2**t)) + eps)
        assert np.allclose(P, Q, rtol=1e-13, atol=1e-15)


@pytest.mark.kernels
def test_first_adam_step_is_lr_times_sign():
    # closed form: after one step mhat = g, vhat = g^2, so the update is lr * sign(g) (wd = 0)
    for dtype in (np.float64, np.float32):
        P, g = np.zeros(4, dtype), np.array([3.0, -0.2, 1e-3, -50.0], dtype)
        _adam(P, g, np.zeros(4, dtype), np.zeros(4, dtype), 0.1, 1, 0.0, True)
        assert np.allclose(P, -0.1 * np.sign(g), rtol=1e-5)


@pytest.mark.kernels
def test_negative_weight_decay_is_liu_et_al_growth():
    # Liu, Liu & Gore 2025 (their AdamW, exp/adamw.py): for wd < 0 each feature vector moves
    # w_i <- w_i + lr wd (1 - 1/(|w_i| + eps)) w_i, towards unit length
    rng = np.random.default_rng(5)
    Wt = rng.standard_normal((6, 3)) * np.array([0.1, 0.5, 1.0, 2.0, 3.0, 0.0])[:, None]
    lr, wd, eps = 0.1, -0.8, 1e-8
    norms = np.linalg.norm(Wt, axis=1, keepdims=True)
    expect = Wt + lr * wd * Wt * (1 - 1 / (norms + eps))
    got = Wt.copy()
    K._grow_columns(got, lr, wd, eps)
    assert np.allclose(got, expect, rtol=1e-14, atol=0)
    moved = np.abs(np.linalg.norm(got, axis=1) - 1) <= np.abs(norms[:, 0] - 1)
    assert moved.all()  # every nonzero feature moved towards |w_i| = 1 (and 0 stays 0)


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
    # progress=True trains in chunks of steps: same result
    e = train(d, 2, settings=dataclasses.replace(s, n_steps=1100), rng=5, progress=True)
    f = train(d, 2, settings=dataclasses.replace(s, n_steps=1100), rng=5)
    assert np.array_equal(e.W, f.W)


def _run(d, m, s, seeds, routes=(-1, -1)):
    n = d.n_features
    return _fit(
        d, m, np.ones((d.n_instances, n)), s, np.asarray(seeds), 1, None, False, False, routes
    )


@pytest.mark.kernels
@pytest.mark.parametrize("model", sorted(MODELS))
def test_sparse_routes_train_like_the_dense_route(model):
    # same seed, same data: the routes differ by rounding only, for a few steps
    d = feature_distribution(40, [0.05, 0.5])
    s = TrainSettings(model=model, n_steps=4, batch_size=48, lr=1e-2)
    ref = _run(d, 5, s, [1, 2], (0, 0))
    for routes in ROUTES[1:]:
        out = _run(d, 5, s, [1, 2], routes)
        assert np.allclose(out.loss_history, ref.loss_history, rtol=1e-11, atol=0)
        assert np.allclose(out.W, ref.W, rtol=1e-8, atol=1e-11)


@pytest.mark.kernels
def test_float32_trajectory_follows_float64():
    # same seeds draw the same data in both precisions; after a few Adam steps of lr 1e-3 the
    # weights agree to float32 rounding (relative 1e-7) amplified by a few steps (< 1e-4 of lr)
    d = feature_distribution(30, [0.05, 0.4])
    s64 = TrainSettings(n_steps=5, batch_size=64, lr=1e-3)
    a = _run(d, 4, s64, [3, 4])
    b = _run(d, 4, dataclasses.replace(s64, dtype="float32"), [3, 4])
    assert b.W.dtype == np.float32 and a.W.dtype == np.float64
    assert np.allclose(b.loss_history, a.loss_history, rtol=1e-5)
    assert np.abs(b.W - a.W).max() < 1e-4 * s64.lr * s64.n_steps + 1e-6


@pytest.mark.kernels
def test_bias_lr_and_bias_weight_decay():
    # first Adam step moves every parameter by its own lr (sign of the gradient), decoupled
    # decay multiplies by 1 - lr wd first: exact closed form for one step
    d = feature_distribution(6, 0.5)
    s = TrainSettings(
        n_steps=1, batch_size=32, lr=1e-3, weight_decay=0.0, bias_lr=0.25, bias_weight_decay=0.0
    )
    model = _run(d, 2, s, [7])
    W0, b0, _ = _seed_models([7], 6, 2, s)
    assert np.allclose(np.abs(model.W - W0), 1e-3, rtol=1e-6)
    assert np.allclose(np.abs(model.b - b0), 0.25, rtol=1e-6)
    # b decays with its own weight decay and lr: b stays 0 + step, W is scaled by (1 - lr wd)
    s2 = dataclasses.replace(s, weight_decay=0.5, bias_weight_decay=0.0)
    m2 = _run(d, 2, s2, [7])
    assert np.allclose(np.abs(m2.W - W0 * (1 - 1e-3 * 0.5)), 1e-3, rtol=1e-5)
    assert np.allclose(np.abs(m2.b - b0), 0.25, rtol=1e-6)


@pytest.mark.kernels
def test_liu2025_initialisation():
    s = TrainSettings(initialization="liu2025", init_scale=1.0)
    W, b, _ = _seed_models([11, 12], 400, 25, s)
    child = np.random.default_rng(11)  # the independent route: their torch.randn(n, m) / sqrt(m)
    assert np.allclose(W[0], child.standard_normal((400, 25)).T / 5.0, rtol=1e-15, atol=0)
    assert np.array_equal(b[0], child.standard_normal(400))
    # E |w_i|^2 = 1, b ~ N(0, 1); 800 draws each: 5 standard errors
    assert abs((W**2).sum(axis=1).mean() - 1.0) < 5 * np.sqrt(2 / 25 / 800)
    assert abs(b.std() - 1.0) < 5 / np.sqrt(2 * 800)
    x = _seed_models([11], 400, 25, TrainSettings())
    assert np.all(x[1] == 0) and abs(x[0].std() - np.sqrt(2 / 425)) < 0.01


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
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_every_model_trains(model, dtype):
    d = feature_distribution(5, 0.2)
    s = TrainSettings(
        model=model,
        n_steps=200,
        batch_size=128,
        lr=1e-2,
        optimizer="adam",
        weight_decay=0.0,
        dtype=dtype,
    )
    out = train(d, 3, settings=s, rng=8)
    assert out.model == model and out.W.dtype == np.dtype(dtype)
    assert out.final_loss[0] < out.loss_history[0, :5].mean()


@needs_jit
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_dense_limit_loss_closed_form(dtype):
    # p = 1, I_i = 0.9^i: the trained loss equals sum_{i >= m} I_i / (12 n) within 2%
    imp = 0.9 ** np.arange(5)
    d = feature_distribution(5, 1.0)
    s = TrainSettings(n_steps=1500, batch_size=512, lr=1e-2, schedule="linear", dtype=dtype)
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


@needs_jit
def test_sparse_output_route_is_taken_and_trains():
    # very sparse data: after the bias has learnt to close the outputs, fewer than
    # sparse_output(m) of them are open and the automatic route switches; the result matches the
    # forced GEMM route to rounding for a short run and trains
    d = feature_distribution(200, 0.004)
    m = 128  # the route pays from m = 64 on (benchmarks/results_toy.md, "Routes")
    s = TrainSettings(n_steps=400, batch_size=256, lr=1e-2)
    auto = _run(d, m, s, [5])
    gemm = _run(d, m, s, [5], (0, 0))
    assert np.allclose(auto.loss_history[:, :50], gemm.loss_history[:, :50], rtol=1e-8)
    X = sample_features(d, 4000, rng=1)[0]
    Z = X @ auto.W[0].T @ auto.W[0] + auto.b[0]
    assert (Z > 0).mean() < K.sparse_output(m)  # the regime the route is for
    assert auto.final_loss[0] < auto.loss_history[0, :10].mean()


def test_sparse_output_threshold_follows_the_measured_crossovers():
    # benchmarks/results_toy.md "Routes": never below m = 64, 0.02-0.05 at m = 100, ~0.1 at 256
    assert K.sparse_output(5) == 0.0 and K.sparse_output(20) == 0.0 and K.sparse_output(64) == 0.0
    assert 0.02 <= K.sparse_output(100) <= 0.05 and 0.08 <= K.sparse_output(256) <= 0.15


def test_divergence_names_step_and_instance():
    d = feature_distribution(4, [0.5, 0.5])
    s = TrainSettings(n_steps=50, batch_size=32, lr=1e200)
    with pytest.raises(TrainingDivergedError, match=r"at step \d+ of instance \d") as err:
        train(d, 2, settings=s, rng=12)
    e = err.value
    assert 0 <= e.step < 50 and e.instance in (0, 1)
    assert np.all(np.isnan(e.model.loss_history[e.instance, e.step :]))
    assert np.all(np.isfinite(e.model.loss_history[e.instance, : e.step]))


def test_memory_guard_refuses_before_allocating(monkeypatch):
    # n = 10^7 features, m = 10^4: W alone is 800 GB; refused at once with the estimate
    d = feature_distribution(2, 0.1)
    huge = dataclasses.replace(d, feature_probability=np.broadcast_to(0.1, (1, 10**7)))
    with pytest.raises(MemoryBudgetError, match=r"train: 1 instance.*needs about .*TiB"):
        train(huge, 10**4, settings=FAST, rng=0)
    # the estimate grows with the batch: refuse when it exceeds what is available
    monkeypatch.setenv("CSUPER_MEMORY_BUDGET", "50MiB")
    with pytest.raises(ValueError, match="smaller batch_size"):
        train(feature_distribution(1000, 0.1), 20, settings=TrainSettings(batch_size=8192))
    train(feature_distribution(10, 0.1), 2, settings=FAST, rng=0)  # small runs still fit


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        (dict(n_dims=5), ValueError, r"n_dims must be an integer in \[1, 5\)"),
        (dict(n_dims=0), ValueError, "n_dims"),
        (dict(n_dims=2.0), TypeError, "n_dims"),
        (dict(n_dims=2, importance=[1.0, 1.0]), ValueError, "importance must have length"),
        (dict(n_dims=2, importance=[1.0, -1.0, 1.0, 1.0, 1.0]), ValueError, "nonnegative"),
        (dict(n_dims=2, importance=[1.0, np.nan, 1.0, 1.0, 1.0]), ValueError, "importance"),
        (dict(n_dims=2, n_seeds=0), ValueError, "n_seeds"),
        (dict(n_dims=2, settings="fast"), TypeError, "TrainSettings"),
        (dict(n_dims=2, seeds=[1, 2]), ValueError, "seeds"),
        (dict(n_dims=2, parallel="no"), TypeError, "parallel"),
        (dict(n_dims=2, progress=1), TypeError, "progress"),
        (dict(n_dims=2, rng="seed"), TypeError, "rng"),
    ],
)
def test_bad_training_input(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        train(feature_distribution(5, 0.1), **kwargs)


def test_train_needs_distribution():
    with pytest.raises(TypeError, match="FeatureDistribution"):
        train(0.1, 2)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_save_load_roundtrip(tmp_path, dtype):
    s = dataclasses.replace(FAST, dtype=dtype, interference_price=0.1, bias_lr=0.01)
    model = train(feature_distribution(5, [0.1, 0.2]), 2, settings=s, n_seeds=2, rng=13)
    save_model(model, tmp_path / "m.npz")
    back = load_model(str(tmp_path / "m.npz"))
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
    assert back.W.dtype == np.dtype(dtype)
    assert back.settings == model.settings and back.distribution == model.distribution


def test_paths_must_be_paths(tmp_path):
    model = from_weights(np.eye(2, 3))
    with pytest.raises(TypeError, match=r"path must be a path \(str or os\.PathLike\)"):
        save_model(model, 3)  # an int would write into file descriptor 3
    with pytest.raises(TypeError, match="path"):
        load_model(3)
    with pytest.raises(ValueError, match="folder"):
        save_model(model, tmp_path / "missing" / "m.npz")


def test_repr_is_a_summary():
    model = train(feature_distribution(200, [0.1] * 6), 20, settings=FAST, rng=1)
    text = repr(model)
    assert len(text) < 300 and "n_features=200" in text and "final_loss=[" in text


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


def test_load_accepts_files_without_the_new_settings(tmp_path):
    # a file written before dtype, bias_lr, ... existed: those take their defaults
    import json

    model = from_weights(np.eye(2, 3))
    p = tmp_path / "old.npz"
    model.save(p)
    with np.load(p, allow_pickle=False) as f:
        data = {k: f[k] for k in f.files}
    meta = json.loads(str(data["metadata"]))
    for key in (
        "dtype",
        "bias_lr",
        "bias_weight_decay",
        "warmup_fraction",
        "min_lr_ratio",
        "initialization",
        "interference_price",
        "coactivation_weighted",
    ):
        del meta["settings"][key]
    data["metadata"] = np.array(json.dumps(meta))
    np.savez(p, **data)
    assert load_model(p).settings == NOTEBOOK_SETTINGS


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


def _first_batches(d, seeds, n_dims, batch, settings=NOTEBOOK_SETTINGS):
    # independent route to a training run's first batch: the lanes each seed derives (after its
    # weights) fed to the public sampler's kernel
    _, _, lanes = _seed_models(seeds, d.n_features, n_dims, settings)
    X = np.zeros((len(seeds), batch, d.n_features))
    with np.errstate(over="ignore"):  # the stream's uint64 arithmetic wraps by design
        K.sample_many(lanes, _kernel_data(d), X)
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
