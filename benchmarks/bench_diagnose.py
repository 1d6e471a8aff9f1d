"""csuper.diagnose's trainers against PyTorch CPU implementations of the same models, losses and
optimisers (one process, same sizes, interleaved), and the ladder's MLP read-out with one
against two BLAS threads.

- Tied autoencoder (Lecomte et al. 2023): y = ReLU(W^T W x) on the n one-hot inputs, loss
  sum (x - y)^2 + 1e-3 |W|_1, AdamW lr 1e-3. csuper: float64, instances in parallel threads;
  torch: float32 (its usual dtype), instances batched (bmm), its faster thread count.
- |x| model (Elhage et al. 2022): h = ReLU(W1 x), y = ReLU(W2 h + b), importance-weighted mean
  squared error against |x|, AdamW lr 1e-3, a fresh batch every step (x_i = 0 with probability
  1 - p, else Uniform[-1, 1]).
- MLP read-out of the decoder ladder (width 64, full-batch Adam, 1,000 x 8 inputs, 16 outputs):
  numpy with BLAS pinned to 1 thread (what csuper does) against 2 threads.

Run: ``python benchmarks/run.py diagnose`` (``--quick`` for a smoke run).
"""

from __future__ import annotations

import time

import numpy as np
from _common import print_table

import csuper.toy as toy
from csuper.diagnose import train_abs_value, train_tied_autoencoder

HEADERS = [
    "config",
    "steps",
    "csuper ms/step",
    "torch ms/step",
    "speed-up",
    "csuper loss",
    "torch loss",
]


def torch_tied(n, m, inst, steps, seed=0):
    import torch

    g = torch.Generator().manual_seed(seed)
    W = torch.nn.Parameter(torch.randn((inst, n, m), generator=g) / m**0.5)
    opt = torch.optim.AdamW([W], lr=1e-3)
    eye = torch.eye(n)
    losses = np.empty(steps)
    for s in range(steps):
        y = torch.relu(torch.bmm(W, W.transpose(1, 2)))  # one-hot batch: the Gram matrix
        loss = ((y - eye) ** 2).sum() + 1e-3 * W.abs().sum()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        losses[s] = loss.item() / inst
    return losses


def torch_abs(n, m, inst, batch, p, steps, seed=0):
    import torch

    g = torch.Generator().manual_seed(seed)
    std = (2.0 / (n + m)) ** 0.5
    W1 = torch.nn.Parameter(torch.randn((inst, m, n), generator=g) * std)
    W2 = torch.nn.Parameter(torch.randn((inst, n, m), generator=g) * std)
    b = torch.nn.Parameter(torch.zeros((inst, 1, n)))
    imp = torch.tensor(0.8 ** np.arange(n), dtype=torch.float32)
    opt = torch.optim.AdamW([W1, W2, b], lr=1e-3)
    losses = np.empty(steps)
    for s in range(steps):
        on = torch.rand((inst, batch, n), generator=g) < p
        x = torch.where(on, torch.rand((inst, batch, n), generator=g) * 2 - 1, 0.0)
        h = torch.relu(torch.bmm(x, W1.transpose(1, 2)))
        y = torch.relu(torch.bmm(h, W2.transpose(1, 2)) + b)
        loss = (imp * (y - x.abs()) ** 2).mean((1, 2)).sum()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        losses[s] = loss.item() / inst
    return losses


def _fastest_threads(fn) -> int:
    import torch

    trial = {}
    for threads in (1, 2):
        torch.set_num_threads(threads)
        t = time.perf_counter()
        fn()
        trial[threads] = time.perf_counter() - t
    best = min(trial, key=trial.get)
    torch.set_num_threads(best)
    return best


def main(quick: bool = False) -> None:
    steps = 100 if quick else 1500
    t0 = time.perf_counter()
    train_tied_autoencoder(4, 4, n_steps=2, n_seeds=2, rng=0)
    train_abs_value(
        toy.feature_distribution(3, 0.5), 2, settings=toy.TrainSettings(n_steps=2), n_seeds=2, rng=0
    )
    print(f"csuper warm-up (compile or cache load): {time.perf_counter() - t0:.1f} s")
    rows = []
    for n, m, inst in ((64, 128, 4), (64, 512, 4), (128, 256, 2)):
        thr = _fastest_threads(lambda n=n, m=m, inst=inst: torch_tied(n, m, inst, 20))
        cs, th = [], []
        for rep in range(2):
            t = time.perf_counter()
            ae = train_tied_autoencoder(n, m, n_steps=steps, n_seeds=inst, rng=rep)
            cs.append(time.perf_counter() - t)
            t = time.perf_counter()
            hist = torch_tied(n, m, inst, steps, seed=rep)
            th.append(time.perf_counter() - t)
        rows.append(
            [
                f"tied AE n={n}, m={m}, {inst} inst [torch {thr} thr]",
                steps,
                f"{1e3 * min(cs) / steps:.2f}",
                f"{1e3 * min(th) / steps:.2f}",
                f"{min(th) / min(cs):.1f}x",
                f"{ae.final_loss.mean():.4f}",
                f"{hist[-100:].mean():.4f}",
            ]
        )
        print_table(HEADERS, rows[-1:])
    for n, m, inst, batch, p in ((100, 40, 2, 1024, 0.01), (100, 40, 2, 1024, 1.0)):
        thr = _fastest_threads(lambda a=(n, m, inst, batch, p): torch_abs(*a, 10))
        s = toy.TrainSettings(n_steps=steps)
        cs, th = [], []
        for rep in range(2):
            t = time.perf_counter()
            model = train_abs_value(
                toy.feature_distribution(n, [p] * inst),
                m,
                importance=0.8 ** np.arange(n),
                settings=s,
                rng=rep,
            )
            cs.append(time.perf_counter() - t)
            t = time.perf_counter()
            hist = torch_abs(n, m, inst, batch, p, steps, seed=rep)
            th.append(time.perf_counter() - t)
        rows.append(
            [
                f"|x| model n={n}, m={m}, {inst} inst, B={batch}, p={p} [torch {thr} thr]",
                steps,
                f"{1e3 * min(cs) / steps:.2f}",
                f"{1e3 * min(th) / steps:.2f}",
                f"{min(th) / min(cs):.1f}x",
                f"{model.final_loss.mean():.5f}",
                f"{hist[-100:].mean():.5f}",
            ]
        )
        print_table(HEADERS, rows[-1:])
    print()
    print_table(HEADERS, rows)
    # the ladder's MLP read-out: BLAS threads
    from threadpoolctl import threadpool_limits

    from csuper.diagnose import decoders

    rng = np.random.default_rng(0)
    H, Y = rng.standard_normal((1000, 8)), rng.random((1000, 16))
    mlp_steps = 100 if quick else 1000
    times = {1: [], 2: []}
    for _ in range(2):
        for threads in (1, 2):
            with threadpool_limits(limits=threads, user_api="blas"):
                t = time.perf_counter()
                decoders._adam_loop(
                    [
                        rng.standard_normal((8, 64)),
                        np.zeros(64),
                        rng.standard_normal((64, 16)),
                        np.zeros(16),
                    ],
                    lambda a, b, c, d: decoders.mlp_loss_grad(a, b, c, d, H, Y, np.ones(16)),
                    mlp_steps,
                    1e-3,
                )
                times[threads].append(time.perf_counter() - t)
    print()
    print_table(
        [
            "MLP read-out (1000 x 8 -> 64 -> 16)",
            "steps",
            "1 BLAS thread ms/step",
            "2 BLAS threads ms/step",
            "ratio",
        ],
        [
            [
                "full-batch Adam",
                mlp_steps,
                f"{1e3 * min(times[1]) / mlp_steps:.3f}",
                f"{1e3 * min(times[2]) / mlp_steps:.3f}",
                f"{min(times[2]) / min(times[1]):.1f}x",
            ]
        ],
    )


if __name__ == "__main__":
    main()
