"""SAE training: csuper's numba trainer vs a PyTorch CPU implementation of the same model, loss
and optimiser, one process, same sizes, interleaved.

Both sides: I instances of width L on data of dimension m, each step a batch of B rows drawn
with replacement from a fixed data set; forward pre = (x - b_dec) W_enc^T + b_enc, codes ReLU
(ReLU + L1) or ReLU of the per-row top k (TopK, no dead latents at these sizes so no AuxK),
x_hat = f W_dec^T + b_dec; loss = mean over the batch of |x - x_hat|^2 (+ lambda sum f);
torch.optim.Adam (lr 1e-3); unit-norm decoder by removing the radial gradient before the step
and renormalising after. torch runs the instances batched (bmm) in float32 (its usual dtype)
with its faster thread count (1 or 2, timed on a short trial); csuper in float64, instances in
parallel threads. Final training losses are printed side by side (same law, different seeds).

Run: ``python benchmarks/run.py sae`` (``--quick`` for a smoke run).
"""

from __future__ import annotations

import time

import numpy as np
from _common import print_table

import csuper.sae as sae

HEADERS = [
    "config",
    "steps",
    "csuper ms/step",
    "torch ms/step",
    "speed-up",
    "csuper loss",
    "torch loss",
]

CONFIGS = [
    # name, m, L, instances, batch, architecture
    ("O'Neill size: m=8, L=16, 5 inst, B=1024, relu_l1", 8, 16, 5, 1024, "relu_l1"),
    ("toy: m=8, L=16, 5 inst, B=64, relu_l1", 8, 16, 5, 64, "relu_l1"),
    ("m=32, L=64, 12 inst, B=256, relu_l1", 32, 64, 12, 256, "relu_l1"),
    ("m=32, L=64, 12 inst, B=256, topk k=5", 32, 64, 12, 256, "topk"),
    ("m=64, L=256, 4 inst, B=1024, relu_l1", 64, 256, 4, 1024, "relu_l1"),
]


def torch_train(X, L, inst, batch, steps, arch, lam=0.01, k=5, lr=1e-3, seed=0):
    import torch

    g = torch.Generator().manual_seed(seed)
    Xt = torch.tensor(X, dtype=torch.float32)
    N, m = Xt.shape
    D = torch.randn((inst, m, L), generator=g)
    D = D / D.norm(dim=1, keepdim=True)
    Wd = torch.nn.Parameter(D.clone())
    We = torch.nn.Parameter(D.transpose(1, 2).clone())
    be = torch.nn.Parameter(torch.zeros((inst, L)))
    bd = torch.nn.Parameter(Xt.mean(0).repeat(inst, 1))
    opt = torch.optim.Adam([We, be, Wd, bd], lr=lr)
    losses = np.empty(steps)
    for step in range(steps):
        idx = torch.randint(0, N, (inst, batch), generator=g)
        xb = Xt[idx]  # (I, B, m)
        pre = torch.bmm(xb - bd[:, None, :], We.transpose(1, 2)) + be[:, None, :]
        if arch == "topk":
            vals, ind = pre.topk(k, dim=2)
            f = torch.zeros_like(pre).scatter(2, ind, torch.relu(vals))
        else:
            f = torch.relu(pre)
        xh = torch.bmm(f, Wd.transpose(1, 2)) + bd[:, None, :]
        loss = ((xh - xb) ** 2).sum(2).mean(1).sum()
        if arch == "relu_l1":
            loss = loss + lam * f.sum(2).mean(1).sum()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        with torch.no_grad():
            Wd.grad -= Wd * (Wd.grad * Wd).sum(1, keepdim=True)
        opt.step()
        with torch.no_grad():
            Wd /= Wd.norm(dim=1, keepdim=True)
        losses[step] = loss.item() / inst
    return losses


def main(quick: bool = False) -> None:
    import torch

    steps = 100 if quick else 2000
    rng = np.random.default_rng(0)
    t0 = time.perf_counter()
    sae.train_sae(
        rng.random((64, 4)),
        4,
        sparsity_coefficient=[0.1, 0.2],
        settings=sae.SAESettings(n_steps=2),
        rng=0,
    )
    sae.train_sae(
        rng.random((64, 4)), 4, "topk", k=[1, 2], settings=sae.SAESettings(n_steps=2), rng=0
    )
    print(f"csuper warm-up (compile or cache load): {time.perf_counter() - t0:.1f} s")
    rows = []
    for name, m, L, inst, batch, arch in CONFIGS:
        n = max(2, L // 2)
        F = sae.ground_truth_dictionary("gaussian", n, m, rng=1)
        data = sae.make_data(F, sae.code_law(n, min(5.0, n / 4)), 8192, rng=2)
        settings = sae.SAESettings(n_steps=steps, batch_size=batch, lr=1e-3, bias_init="mean")
        knob = {"k": [5] * inst} if arch == "topk" else {"sparsity_coefficient": [0.01] * inst}
        trial = {}
        for threads in (1, 2):
            torch.set_num_threads(threads)
            t = time.perf_counter()
            torch_train(data.X, L, inst, batch, max(5, steps // 20), arch)
            trial[threads] = time.perf_counter() - t
        torch.set_num_threads(min(trial, key=trial.get))
        cs, th = [], []
        for rep in range(2):  # interleaved
            t = time.perf_counter()
            model = sae.train_sae(data.X, L, arch, settings=settings, rng=rep, **knob)
            cs.append(time.perf_counter() - t)
            t = time.perf_counter()
            hist = torch_train(data.X, L, inst, batch, steps, arch, seed=rep)
            th.append(time.perf_counter() - t)
        t_cs, t_th = min(cs), min(th)
        rows.append(
            [
                f"{name} [torch {torch.get_num_threads()} thr]",
                steps,
                f"{1e3 * t_cs / steps:.3f}",
                f"{1e3 * t_th / steps:.3f}",
                f"{t_th / t_cs:.1f}x",
                f"{model.loss_history[:, -100:].mean():.4f}",
                f"{hist[-100:].mean():.4f}",
            ]
        )
        print_table(HEADERS, rows[-1:])
    print()
    print_table(HEADERS, rows)


if __name__ == "__main__":
    main()
