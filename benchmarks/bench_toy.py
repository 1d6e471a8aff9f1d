"""Toy-model training: csuper's numba trainer vs a faithful PyTorch CPU re-implementation of the
reference notebook's loop (Anthropic's toy_models.ipynb), one process, same configurations.

Baseline dependency (benchmark only): ``pip install torch==2.13.0``. Both sides: AdamW lr 1e-3
(torch defaults betas (0.9, 0.999), eps 1e-8, weight decay 1e-2), batch 1024, constant lr,
xavier-normal W per instance (std sqrt(2/(n+m))), b = 0, loss = sum over instances of the mean
over batch and features of I_i (x_i - x_hat_i)^2. torch runs in float32 (the notebook's dtype),
csuper in float64. torch gets its faster thread count (1 or 2, timed on a short trial run per
configuration); csuper runs its default (instances in parallel threads). Final losses of both are
evaluated by the same numpy function on the same
fresh test batch of 100,000 samples per instance.

Run: ``python benchmarks/run.py toy`` (``--quick`` for a smoke run with few steps).
"""

from __future__ import annotations

import time

import numpy as np
from _common import print_table

import csuper.toy as toy

CONFIGS = [
    # name, n, m, instances (or seeds), p, importance, best_of
    (
        "(5, 2, 10) p=20^-linspace(0,1,10), I=0.9^i",
        5,
        2,
        10,
        20.0 ** -np.linspace(0, 1, 10),
        0.9 ** np.arange(5),
        1,
    ),
    (
        "(200, 20, 20) p=20^-linspace(0,1,20), I=1",
        200,
        20,
        20,
        20.0 ** -np.linspace(0, 1, 20),
        np.ones(200),
        1,
    ),
    (
        "(20, 5) best of 16 seeds, p=0.05, I=0.9^i",
        20,
        5,
        16,
        np.array([0.05]),
        0.9 ** np.arange(20),
        16,
    ),
]


def torch_train(n, m, P, imp, steps, batch=1024, lr=1e-3, seed=0):
    """The reference notebook's model and optimize() loop in PyTorch (float32, CPU)."""
    import torch

    g = torch.Generator().manual_seed(seed)
    inst = P.shape[0]
    std = np.sqrt(2.0 / (n + m))
    W = torch.nn.Parameter(torch.randn((inst, n, m), generator=g) * std)
    b = torch.nn.Parameter(torch.zeros((inst, n)))
    p = torch.tensor(P, dtype=torch.float32)
    importance = torch.tensor(imp, dtype=torch.float32)
    opt = torch.optim.AdamW([W, b], lr=lr)
    losses = np.empty(steps)
    for step in range(steps):
        for group in opt.param_groups:
            group["lr"] = lr * 1.0  # constant_lr
        opt.zero_grad(set_to_none=True)
        feat = torch.rand((batch, inst, n), generator=g)
        x = torch.where(torch.rand((batch, inst, n), generator=g) <= p, feat, torch.zeros(()))
        hidden = torch.einsum("bif,ifh->bih", x, W)
        out = torch.relu(torch.einsum("bih,ifh->bif", hidden, W) + b)
        error = importance * (x.abs() - out) ** 2
        loss = error.mean(dim=(0, 2)).sum()
        loss.backward()
        opt.step()
        losses[step] = loss.item()
    return W.detach().numpy().astype(np.float64), b.detach().numpy().astype(np.float64), losses


def main(quick: bool = False) -> None:
    import torch

    steps_for = {5: 10_000, 200: 1000, 20: 10_000} if not quick else {5: 200, 200: 50, 20: 200}
    # warm-up: numba compilation (cached kernels load from disk), reported apart
    t0 = time.perf_counter()
    toy.train(
        toy.feature_distribution(5, [0.5, 0.1]), 2, settings=toy.TrainSettings(n_steps=2), rng=0
    )
    print(f"csuper warm-up (compile or cache load): {time.perf_counter() - t0:.1f} s")
    torch_train(5, 2, np.full((2, 5), 0.5), np.ones(5), 2)
    rows = []
    for name, n, m, inst, p, imp, best_of in CONFIGS:
        steps = steps_for[n]
        P = (
            np.repeat(p[:, None], n, axis=1)
            if best_of == 1
            else np.repeat(np.full((1, n), p[0]), inst, axis=0)
        )
        settings = toy.TrainSettings(n_steps=steps)
        dist = toy.feature_distribution(n, p if best_of == 1 else p[0])
        X = toy.sample_features(
            toy.feature_distribution(n, P), 20_000 if n == 200 else 100_000, rng=99
        )
        cs_loss, cs_time = [], []
        for seed in (1, 2):
            t0 = time.perf_counter()
            model = toy.train(dist, m, importance=imp, settings=settings, n_seeds=best_of, rng=seed)
            cs_time.append(time.perf_counter() - t0)
            if best_of == 1:
                cs_loss.append(
                    float(toy.toy_loss(model.W, model.b, X, np.tile(imp, (inst, 1))).mean())
                )
            else:  # the kept seed (lowest final training loss), on the test batch
                cs_loss.append(float(toy.toy_loss(model.W, model.b, X[0], imp)[0]))
        # give torch its best thread count (on a loaded machine 2 threads can be 10x slower)
        trial = {}
        for threads in (1, 2):
            torch.set_num_threads(threads)
            t0 = time.perf_counter()
            torch_train(n, m, P, np.asarray(imp), max(5, steps // 100), seed=0)
            trial[threads] = time.perf_counter() - t0
        torch.set_num_threads(min(trial, key=trial.get))
        t0 = time.perf_counter()
        Wt, bt, _hist = torch_train(n, m, P, np.asarray(imp), steps, seed=1)
        th_time = time.perf_counter() - t0
        if best_of == 1:
            W = np.ascontiguousarray(Wt.transpose(0, 2, 1))
            th_loss = float(toy.toy_loss(W, bt, X, np.tile(imp, (inst, 1))).mean())
        else:
            # best of the 16 seeds; torch reports the summed batch loss only, so rank instances
            # by their own test loss
            W = np.ascontiguousarray(Wt.transpose(0, 2, 1))
            th_loss = float(toy.toy_loss(W, bt, X, np.tile(imp, (inst, 1))).min())
        t_cs = min(cs_time)
        rows.append(
            [
                name + f" [torch {torch.get_num_threads()} thr]",
                steps,
                f"{steps / t_cs:.0f}",
                f"{t_cs:.1f}",
                f"{steps / th_time:.0f}",
                f"{th_time:.1f}",
                f"{th_time / t_cs:.1f}x",
                f"{cs_loss[0]:.6f} / {cs_loss[1]:.6f}",
                f"{th_loss:.6f}",
            ]
        )
        print_table(
            [
                "config",
                "steps",
                "csuper steps/s",
                "csuper s",
                "torch steps/s",
                "torch s",
                "speed-up",
                "csuper loss (2 seeds)",
                "torch loss",
            ],
            rows[-1:],
        )
    print()
    print_table(
        [
            "config",
            "steps",
            "csuper steps/s",
            "csuper s",
            "torch steps/s",
            "torch s",
            "speed-up",
            "csuper loss (2 seeds)",
            "torch loss",
        ],
        rows,
    )


if __name__ == "__main__":
    main()
