"""The registries (MODELS, SCHEDULES, OPTIMIZERS, INITIALIZATIONS) against independent
formulas, TrainSettings validation, and Liu, Liu & Gore's settings against their code."""

import dataclasses
import math

import numpy as np
import pytest

from csuper.toy import (
    INITIALIZATIONS,
    LIU2025_SETTINGS,
    MODELS,
    OPTIMIZERS,
    SCHEDULES,
    TrainSettings,
    learning_rates,
    toy_forward,
)


def _relu(a):
    return np.maximum(a, 0.0)


#: Independent statements of each model (DESIGN.md; Elhage et al. 2022, sections 2 and 8).
MODEL_FORMULAS = {
    "relu_output": lambda W, b, x: _relu(W.T @ (W @ x) + b),
    "linear": lambda W, b, x: W.T @ (W @ x) + b,
    "hidden_relu": lambda W, b, x: _relu(W.T @ _relu(W @ x) + b),
}


def test_every_model_forward_matches_its_formula():
    assert set(MODEL_FORMULAS) == set(MODELS)
    rng = np.random.default_rng(0)
    W, b, X = rng.standard_normal((3, 7)), rng.standard_normal(7), rng.random((4, 7))
    for name, f in MODEL_FORMULAS.items():
        expect = np.stack([f(W, b, x) for x in X])
        assert np.allclose(toy_forward(W, b, X, model=name)[0], expect), name
        assert MODELS[name].formula


def _liu_get_lr(step, lr, n_steps, warmup_steps):
    # Liu, Liu & Gore 2025, exp/exp-10.py get_lr (min_lr = 0.05 lr), restated
    step = step + 1
    min_lr = 0.05 * lr
    if warmup_steps < n_steps:
        if step < warmup_steps:
            return lr * step / warmup_steps
        return (lr - min_lr) * 0.5 * (
            1 + math.cos(math.pi * (step - warmup_steps) / (n_steps - warmup_steps))
        ) + min_lr
    return (lr - min_lr) * 0.5 * (1 + math.cos(math.pi * step / n_steps)) + min_lr


SCHEDULE_FORMULAS = {
    "constant": lambda t, T, s: 1.0,
    "linear": lambda t, T, s: 1 - t / T,
    "cosine": lambda t, T, s: math.cos(0.5 * math.pi * t / (T - 1)),
    "warmup_cosine": lambda t, T, s: _liu_get_lr(t, 1.0, T, int(T * s.warmup_fraction)),
}


@pytest.mark.parametrize("T", [7, 50])
def test_every_schedule_matches_its_formula(T):
    assert set(SCHEDULE_FORMULAS) == set(SCHEDULES)
    for name, f in SCHEDULE_FORMULAS.items():
        extra = dict(warmup_fraction=0.2, min_lr_ratio=0.05) if name == "warmup_cosine" else {}
        s = TrainSettings(n_steps=T, lr=2.0, schedule=name, **extra)
        expect = [2.0 * f(t, T, s) for t in range(T)]
        assert np.allclose(learning_rates(s), expect, rtol=1e-13), name


def test_liu2025_settings_follow_their_code():
    # exp/exp-10.py: 20,000 steps, batch 2048, lr 1e-2, 2,000 warm-up steps, min lr 5 %,
    # weight decay on W only, W ~ randn(n, m) / sqrt(m), b ~ randn(n)
    s = LIU2025_SETTINGS
    assert (s.n_steps, s.batch_size, s.lr) == (20_000, 2048, 1e-2)
    assert s.optimizer == "adamw" and OPTIMIZERS[s.optimizer].decoupled
    assert s.effective_bias_weight_decay == 0.0 and s.initialization == "liu2025"
    lrs = learning_rates(s)
    for t in (0, 1, 1998, 1999, 2000, 10_000, 19_999):
        assert lrs[t] == pytest.approx(_liu_get_lr(t, 1e-2, 20_000, 2000), rel=1e-12)
    # their sweep sets weight decay in [-1, 1]; growth needs the decoupled optimizer
    assert dataclasses.replace(s, weight_decay=-1.0).weight_decay == -1.0
    with pytest.raises(ValueError, match=r"weight_decay < 0.*adamw"):
        dataclasses.replace(s, weight_decay=-1.0, optimizer="adam")


def test_optimizers_and_initializations_are_described():
    assert {k: v.decoupled for k, v in OPTIMIZERS.items()} == {"adam": False, "adamw": True}
    rng = np.random.default_rng(1)
    for name, init in INITIALIZATIONS.items():
        W, b = init.draw(rng, 9, 4, 1.0)
        assert W.shape == (4, 9) and b.shape == (9,) and init.formula, name


def test_dtype_is_normalised_and_bias_defaults():
    assert TrainSettings(dtype=np.float32).dtype == "float32"
    assert TrainSettings(dtype=np.dtype("float64")).dtype == "float64"
    s = TrainSettings(lr=0.1, weight_decay=0.3)
    assert s.effective_bias_lr == 0.1 and s.effective_bias_weight_decay == 0.3
    s = TrainSettings(lr=0.1, bias_lr=0.5, bias_weight_decay=0.0)
    assert s.effective_bias_lr == 0.5 and s.effective_bias_weight_decay == 0.0
    assert TrainSettings(**s.to_dict()) == s
    # growth (weight_decay < 0) acts on W's feature vectors only: b gets no decay unless asked
    assert TrainSettings(weight_decay=-1.0).effective_bias_weight_decay == 0.0
    s = TrainSettings(weight_decay=-1.0, bias_weight_decay=0.2)
    assert s.effective_bias_weight_decay == 0.2


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        (dict(model="mlp"), ValueError, "model"),
        (dict(model=3), ValueError, "model"),
        (dict(optimizer="sgd"), ValueError, "optimizer"),
        (dict(schedule="step"), ValueError, "schedule"),
        (dict(initialization="he"), ValueError, "initialization"),
        (dict(lr=0.0), ValueError, "lr"),
        (dict(lr=np.nan), ValueError, "lr"),
        (dict(lr="fast"), TypeError, "lr"),
        (dict(betas=(0.9, 1.0)), ValueError, r"betas\[1\]"),
        (dict(betas=0.9), ValueError, "betas"),
        (dict(n_steps=0), ValueError, "n_steps"),
        (dict(n_steps=10.0), TypeError, "n_steps"),
        (dict(batch_size=True), TypeError, "batch_size"),
        (dict(dtype="float16"), ValueError, "dtype"),
        (dict(dtype=object()), ValueError, "dtype"),
        (dict(weight_decay=np.inf), ValueError, "weight_decay"),
        (dict(weight_decay=-0.1, optimizer="adam"), ValueError, "weight_decay"),
        (dict(bias_lr=-1.0), ValueError, "bias_lr"),
        (dict(bias_weight_decay=-0.5), ValueError, "bias_weight_decay"),
        (dict(schedule="warmup_cosine", warmup_fraction=1.0), ValueError, "warmup_fraction"),
        (dict(schedule="warmup_cosine", min_lr_ratio=1.5), ValueError, "min_lr_ratio"),
        (dict(warmup_fraction=0.1), ValueError, "warmup_cosine"),
        (dict(interference_price=-1.0), ValueError, "interference_price"),
        (dict(coactivation_weighted="yes"), TypeError, "coactivation_weighted"),
        (dict(init_scale=0.0), ValueError, "init_scale"),
    ],
)
def test_bad_settings(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        TrainSettings(**kwargs)


def test_learning_rates_needs_settings():
    with pytest.raises(TypeError, match="settings"):
        learning_rates({"lr": 1.0})


def test_learning_rates_check_the_memory_budget(monkeypatch):
    # n_steps=2**40 asked numpy for an 8 TiB schedule (a raw MemoryError, found by the
    # huge-integer probe); TrainSettings accepts it (train checks its own budget), the schedule
    # is checked where it is allocated
    from csuper import MemoryBudgetError

    monkeypatch.setenv("CSUPER_MEMORY_BUDGET", "64MiB")
    with pytest.raises(MemoryBudgetError, match="n_steps=1099511627776"):
        learning_rates(TrainSettings(n_steps=2**40))
    assert (
        learning_rates(TrainSettings(n_steps=4, schedule="constant", lr=0.5)).tolist() == [0.5] * 4
    )
