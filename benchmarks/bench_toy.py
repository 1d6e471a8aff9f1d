"""Toy-model training: csuper's numba trainer vs a faithful PyTorch CPU re-implementation of the
reference notebook's loop (Anthropic's toy_models.ipynb), in one process, on the same threads.

Baseline dependency (benchmark only): ``pip install torch==2.13.0``. Both sides: AdamW lr 1e-3
(torch defaults betas (0.9, 0.999), eps 1e-8, weight decay 1e-2), batch 1024, constant lr,
xavier-normal W per instance (std sqrt(2/(n+m))), b = 0, loss = sum over instances of the mean
over batch and features of I_i (x_i - x_hat_i)^2. Both sides are pinned to ONE thread (csuper:
``parallel=False`` and BLAS limited by threadpoolctl; torch: ``torch.set_num_threads(1)``).

Part 1, throughput (issue 17 item 1): for every (n, m, instances) and feature probability p
(0.5 dense; 0.1, 0.05 and 0.01 sparse), csuper float32, PyTorch float32 and csuper float64 train
from a fresh start, interleaved round by round (``ROUNDS`` rounds, best of them kept), timed in CPU
seconds of the process (``time.process_time``: the machine is shared, and CPU time is what a
one-thread run costs; wall times are printed too). GFLOP/s count the dense model's flops,
10 B m n per instance and step (five (B, n) x (n, m)-sized products: two forward, three
backward), whichever route actually ran, so a sparse route shows as a rate above the peak. The
peak is numpy's matmul of those five products at the same shapes, one thread, best of
``ROUNDS`` interleaved with the runs, in float32 and float64.

Part 2, quality: the configurations of the first benchmark (notebook settings, 10,000 steps),
final losses of both sides evaluated by the same numpy function on one fresh test batch.

Part 3, routes: the measured crossovers behind the trainer's automatic choice between GEMMs and
sums over the active inputs / open outputs (forced routes, float32, one thread).

Part 4, hidden layout: the measurement behind the small-width form (H^T (m, B) for the GEMMs at
m <= 8, ``_train_kernels.SMALL_HIDDEN``).

Part 5, batch layout: why the dense float32 step stops short of the peak where it does. The five
products as the kernels lay them out (the batch stored (n, B), so two products read an (n, B)
operand transposed) against the same products with every operand in its fastest layout (the
peak's), and the two ways of closing the gap that numba offers: converting the batch between the
layouts (a blocked copy) and computing a product by hand in the order BLAS sums (so that float64
results stay bit for bit the same).

Run: ``python benchmarks/run.py toy`` (``--quick`` for a smoke run with few steps).
"""

from __future__ import annotations

import os
import time
from functools import partial

import numpy as np
from _common import machine_info, print_table
from numba import njit
from threadpoolctl import threadpool_limits

import csuper.toy as toy

#: (n, m, instances) of the throughput table (issue 17's sizes)
SIZES = [(5, 2, 10), (20, 5, 10), (200, 20, 20), (1000, 100, 4), (2048, 256, 2)]
DENSITIES = [0.5, 0.1, 0.05, 0.01]
ROUNDS = 3
BATCH = 1024


def torch_train(n, m, P, imp, steps, batch=BATCH, lr=1e-3, seed=0):
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


def _clock(fn):
    """(CPU seconds of this process, wall seconds) of one call."""
    c, w = time.process_time(), time.perf_counter()
    fn()
    return time.process_time() - c, time.perf_counter() - w


@njit(cache=True)
def _kernels_layout(XT, ZT, Wt, H, dH, G, reps):
    """The five products of a dense step as the kernels call them (batch and dL/dz stored
    (n, B), two products read them transposed), reps times."""
    for _ in range(reps):
        np.dot(XT.T, Wt, H)
        np.dot(Wt, H.T, ZT)
        np.dot(ZT.T, Wt, dH)
        np.dot(ZT, H, G)
        np.dot(XT, dH, G)


@njit(cache=True)
def _fastest_layout(X, Z, Wt, H, dH, G, reps):
    """The same products with the batch and dL/dz stored (B, n) (the peak's layout)."""
    for _ in range(reps):
        np.dot(X, Wt, H)
        np.dot(H, Wt.T, Z)
        np.dot(Z, Wt, dH)
        np.dot(Z.T, H, G)
        np.dot(X.T, dH, G)


def gemm_peak(n, m, dtype, batch=BATCH):
    """Seconds of the five products of one training step at these shapes, every operand in its
    fastest layout (numpy's BLAS, 1 thread: :func:`_fastest_layout` run as Python)."""
    rng = np.random.default_rng(0)
    X = rng.random((batch, n)).astype(dtype)
    Wt = rng.random((n, m)).astype(dtype)
    H = np.empty((batch, m), dtype)
    dH = np.empty((batch, m), dtype)
    Z = np.empty((batch, n), dtype)
    G = np.empty((n, m), dtype)
    reps = max(1, int(2e8 / (10 * batch * n * m)))
    five = partial(_fastest_layout.py_func, X, Z, Wt, H, dH, G, reps)
    cpu, _ = _clock(five)
    return cpu / reps


def _steps(n, m, inst, quick):
    work = 10 * BATCH * n * m * inst  # flops per step
    if quick:
        return max(3, min(100, int(2e8 / work)))
    return max(10, min(1500, int(3e10 / work)))


def throughput(quick: bool) -> list[list[str]]:
    import torch

    torch.set_num_threads(1)
    rows = []
    for n, m, inst in SIZES if not quick else SIZES[:3]:
        for p in DENSITIES:
            steps = _steps(n, m, inst, quick)
            dist = toy.feature_distribution(n, np.full(inst, p))
            P = np.full((inst, n), p)
            imp = np.ones(n)
            best = {"cs32": np.inf, "th": np.inf, "cs64": np.inf, "pk32": np.inf, "pk64": np.inf}
            wall = {"cs32": np.inf, "th": np.inf, "cs64": np.inf}
            load = [os.getloadavg()[0]]
            for rnd in range(ROUNDS):
                for key, dt in (("cs32", "float32"), ("cs64", "float64")):
                    s = toy.TrainSettings(n_steps=steps, dtype=dt)
                    cpu, w = _clock(
                        partial(toy.train, dist, m, settings=s, rng=rnd, parallel=False)
                    )
                    best[key] = min(best[key], cpu / steps)
                    wall[key] = min(wall[key], w / steps)
                    if key == "cs32":
                        cpu, w = _clock(partial(torch_train, n, m, P, imp, steps, seed=rnd))
                        best["th"] = min(best["th"], cpu / steps)
                        wall["th"] = min(wall["th"], w / steps)
                with threadpool_limits(1):
                    best["pk32"] = min(best["pk32"], gemm_peak(n, m, np.float32))
                    best["pk64"] = min(best["pk64"], gemm_peak(n, m, np.float64))
            load.append(os.getloadavg()[0])
            flops = 10.0 * BATCH * n * m * inst
            pk32, pk64 = 10.0 * BATCH * n * m / best["pk32"], 10.0 * BATCH * n * m / best["pk64"]

            def gf(key, peak, flops=flops, best=best):
                rate = flops / best[key]
                return f"{rate / 1e9:.1f} ({100 * rate / peak:.0f}%)"

            row = [
                f"({n}, {m}, {inst})",
                f"{p:g}",
                f"{best['cs32'] * 1e3:.3f}",
                gf("cs32", pk32),
                f"{best['th'] * 1e3:.3f}",
                gf("th", pk32),
                f"{best['th'] / best['cs32']:.2f}x",
                f"{wall['th'] / wall['cs32']:.2f}x",
                f"{best['cs64'] * 1e3:.3f}",
                gf("cs64", pk64),
                f"{pk32 / 1e9:.1f} / {pk64 / 1e9:.1f}",
                f"{load[0]:.1f}-{load[1]:.1f}",
            ]
            rows.append(row)
            print_table(HEADERS, [row])
    return rows


HEADERS = [
    "(n, m, instances)",
    "p",
    "csuper f32 ms/step",
    "csuper f32 GFLOP/s (% peak)",
    "torch f32 ms/step",
    "torch GFLOP/s (% f32 peak)",
    "speed-up (CPU)",
    "speed-up (wall)",
    "csuper f64 ms/step",
    "csuper f64 GFLOP/s (% f64 peak)",
    "peak f32 / f64 GFLOP/s",
    "load",
]

QUALITY = [
    # name, n, m, instances (or seeds), p, importance, best_of
    ("(5, 2, 10) p=20^-linspace(0,1,10), I=0.9^i", 5, 2, 10, None, 0.9 ** np.arange(5), 1),
    ("(20, 5) best of 16 seeds, p=0.05, I=0.9^i", 20, 5, 16, 0.05, 0.9 ** np.arange(20), 16),
]


def quality(quick: bool) -> list[list[str]]:
    import torch

    torch.set_num_threads(1)
    steps = 300 if quick else 10_000
    rows = []
    for name, n, m, inst, p0, imp, best_of in QUALITY:
        p = 20.0 ** -np.linspace(0, 1, 10) if p0 is None else np.array([p0])
        P = np.repeat(p[:, None], n, axis=1) if best_of == 1 else np.full((inst, n), p0)
        dist = toy.feature_distribution(n, p)
        X = toy.sample_features(toy.feature_distribution(n, P), 100_000, rng=99)
        imps = np.tile(imp, (inst, 1))
        out = {}
        for dt in ("float32", "float64"):
            s = toy.TrainSettings(n_steps=steps, dtype=dt)
            t = time.process_time()
            model = toy.train(
                dist, m, importance=imp, settings=s, n_seeds=best_of, rng=1, parallel=False
            )
            out[dt] = time.process_time() - t
            if best_of == 1:
                out[dt + "loss"] = float(toy.toy_loss(model.W, model.b, X, imps).mean())
            else:  # the kept seed (lowest final training loss), on the test batch
                out[dt + "loss"] = float(toy.toy_loss(model.W, model.b, X[0], imp)[0])
        t = time.process_time()
        Wt, bt, _ = torch_train(n, m, P, np.asarray(imp), steps, seed=1)
        th = time.process_time() - t
        W = np.ascontiguousarray(Wt.transpose(0, 2, 1))
        losses = toy.toy_loss(W, bt, X, imps)
        th_loss = float(losses.mean() if best_of == 1 else losses.min())
        rows.append(
            [
                name,
                steps,
                f"{out['float32']:.1f}",
                f"{out['float64']:.1f}",
                f"{th:.1f}",
                f"{th / out['float32']:.1f}x",
                f"{out['float32loss']:.6f}",
                f"{out['float64loss']:.6f}",
                f"{th_loss:.6f}",
            ]
        )
        print_table(QHEADERS, rows[-1:])
    return rows


QHEADERS = [
    "config",
    "steps",
    "csuper f32 CPU s",
    "csuper f64 CPU s",
    "torch f32 CPU s",
    "speed-up f32",
    "csuper f32 test loss",
    "csuper f64 test loss",
    "torch test loss",
]


def _route_time(dist, m, settings, routes, init=None):
    """CPU seconds per step of the trainer with its (input, output) routes forced."""
    from csuper.toy.train import _fit  # the routes are internal: forced for this measurement

    n = dist.n_features
    seeds = np.array([0])
    cpu, _ = _clock(
        partial(_fit, dist, m, np.ones((1, n)), settings, seeds, 1, init, False, False, routes)
    )
    return cpu / settings.n_steps


def route_crossovers(quick: bool) -> list[list[str]]:
    """Part 3: the measurements behind the automatic routes (``_train_kernels.sparse_input`` and
    ``SPARSE_OUTPUT``), float32, one thread, batch 1024, one instance. Input route: GEMM against
    the sums over the active inputs, at feature probability p. Output route: GEMM against the
    sums over the open outputs, with b set so that a fraction f of the outputs is open (the
    weights stay near their initialisation over these few steps, so f holds)."""
    rows = []
    n = 200 if quick else 1000

    def compare(label, regime, dist, settings, forced, init=None):
        with threadpool_limits(1):
            t = [
                min(_route_time(dist, m, settings, r, init) for _ in range(ROUNDS))
                for r in ((0, 0), forced)
            ]
        rows.append([label, regime, f"{t[0] * 1e3:.3f}", f"{t[1] * 1e3:.3f}", f"{t[0] / t[1]:.2f}"])
        print_table(RHEADERS, rows[-1:])

    for m in (5, 20, 100, 256):
        steps = max(3, int((2e8 if quick else 2e9) / (10 * BATCH * n * m)))
        s = toy.TrainSettings(n_steps=steps, dtype="float32", lr=1e-4, weight_decay=0.0)
        for p in (0.02, 0.05, 0.1, 0.15, 0.2, 0.3):
            compare(f"input, m = {m}", f"p = {p:g}", toy.feature_distribution(n, p), s, (1, 0))
        dist = toy.feature_distribution(n, 0.5)
        W = np.random.default_rng(0).standard_normal((m, n)) * np.sqrt(2.0 / (n + m))
        Z = toy.sample_features(dist, 4096, rng=1)[0] @ W.T @ W
        for f in (0.01, 0.03, 0.05, 0.1, 0.2):
            b = -np.quantile(Z, 1.0 - f, axis=0)
            compare(f"output, m = {m}", f"open = {f:g}", dist, s, (0, 1), (W[None], b[None]))
    return rows


RHEADERS = ["route, m", "regime", "GEMM ms/step", "sparse ms/step", "GEMM / sparse"]


def hidden_layout(quick: bool) -> list[list[str]]:
    """Part 4: the measurement behind ``_train_kernels.SMALL_HIDDEN``: the decoder product
    z^T = Wt h^T of one step with h stored as H (B, m) and read transposed (the general form)
    against H^T (m, B) stored row-major, the transposed copy included (the small-width form),
    numpy matmul (the BLAS the kernels call), one thread, best of ``ROUNDS``."""
    rows = []
    for n, m in ((5, 2), (20, 5), (40, 8), (100, 10), (64, 16), (200, 20), (1000, 100)):
        for dtype in (np.float32, np.float64):
            rng = np.random.default_rng(0)
            Wt = rng.random((n, m)).astype(dtype)
            H = rng.random((BATCH, m)).astype(dtype)
            HT = np.empty((m, BATCH), dtype)
            ZT = np.empty((n, BATCH), dtype)
            reps = max(1, int((2e7 if quick else 2e8) / (2 * BATCH * n * m)))

            def general(Wt=Wt, H=H, ZT=ZT, reps=reps):
                for _ in range(reps):
                    np.dot(Wt, H.T, ZT)

            def small(Wt=Wt, H=H, HT=HT, ZT=ZT, reps=reps):
                for _ in range(reps):
                    np.copyto(HT, H.T)
                    np.dot(Wt, HT, ZT)

            with threadpool_limits(1):
                t = [min(_clock(f)[0] for _ in range(ROUNDS)) / reps for f in (general, small)]
            rows.append(
                [
                    f"({n}, {m})",
                    np.dtype(dtype).name,
                    f"{t[0] * 1e6:.1f}",
                    f"{t[1] * 1e6:.1f}",
                    f"{t[0] / t[1]:.2f}",
                ]
            )
            print_table(LHEADERS, rows[-1:])
    return rows


LHEADERS = ["(n, m)", "dtype", "H read transposed us", "H^T copied + product us", "ratio"]


@njit(cache=True)
def _blocked_transpose(A, out):
    """out = A.T by 32 x 32 blocks (the cheapest layout conversion numba compiles, part 5)."""
    R, C = A.shape
    for r0 in range(0, R, 32):
        for c0 in range(0, C, 32):
            for c in range(c0, min(c0 + 32, C)):
                o = out[c]
                for r in range(r0, min(r0 + 32, R)):
                    o[r] = A[r, c]


@njit(cache=True, fastmath={"contract"})
def _rows_product(XT, WT, HT):
    """HT = WT XT as rows of multiply-adds over the shared index in increasing order: the order
    in which BLAS sums each element, so the result is bit for bit np.dot's (checked in part 5)."""
    n = XT.shape[0]
    for k in range(WT.shape[0]):
        h, w = HT[k], WT[k]
        h[:] = w[0] * XT[0]
        for i in range(1, n):
            x, wi = XT[i], w[i]
            for b in range(h.shape[0]):
                h[b] += wi * x[b]


@njit(cache=True)
def _transposes(XT, X, reps):
    for _ in range(reps):
        _blocked_transpose(XT, X)


@njit(cache=True)
def _blas_h(XT, Wt, H, reps):
    for _ in range(reps):
        np.dot(XT.T, Wt, H)


@njit(cache=True)
def _hand_h(XT, WT, HT, reps):
    for _ in range(reps):
        _rows_product(XT, WT, HT)


def _batch_layout_row(n: int, m: int, quick: bool) -> list[str]:
    """One row of part 5 (see :func:`batch_layout`): the cases interleaved, best of 5 rounds."""
    dt = np.float32
    rng = np.random.default_rng(0)
    XT = rng.random((n, BATCH)).astype(dt)
    ZT = rng.random((n, BATCH)).astype(dt)
    X, Z = np.ascontiguousarray(XT.T), np.ascontiguousarray(ZT.T)
    Wt = (0.05 * rng.standard_normal((n, m))).astype(dt)
    WT = np.ascontiguousarray(Wt.T)
    H, dH = rng.random((BATCH, m)).astype(dt), rng.random((BATCH, m)).astype(dt)
    HT = np.empty((m, BATCH), dt)
    G = np.empty((n, m), dt)
    reps = max(1, int((3e7 if quick else 3e8) / (10 * BATCH * n * m)))
    fns = (
        partial(_kernels_layout, XT, ZT, Wt, H, dH, G, reps),
        partial(_fastest_layout, X, Z, Wt, H, dH, G, reps),
        partial(_fastest_layout.py_func, X, Z, Wt, H, dH, G, reps),  # numpy's BLAS
        partial(_transposes, XT, X, reps),
        partial(_blas_h, XT, Wt, H, reps),
        partial(_hand_h, XT, WT, HT, reps),
    )
    for f in fns:  # compile (or load from the cache)
        f()
    same = np.array_equal(HT, H.T)
    best = [np.inf] * len(fns)
    with threadpool_limits(1):
        for _ in range(5):
            for j, f in enumerate(fns):
                best[j] = min(best[j], _clock(f)[0] / reps * 1e6)
    return [f"({n}, {m})", *(f"{v:.0f}" for v in best), "yes" if same else "no"]


def batch_layout(quick: bool) -> list[list[str]]:
    """Part 5: microseconds, float32, one thread: the five products in the kernels' layout and in
    the fastest layout, called from numba (which links SciPy's OpenBLAS build) and, for the
    fastest layout, from numpy (its own OpenBLAS build, which the peak uses); a blocked numba
    transpose of the (n, B) batch; the product h = W x by hand (:func:`_rows_product`) against
    np.dot in the kernels' layout."""
    rows = []
    for n, m in ((200, 20),) if quick else ((200, 20), (1000, 100), (2048, 256)):
        rows.append(_batch_layout_row(n, m, quick))
        print_table(BHEADERS, rows[-1:])
    return rows


BHEADERS = [
    "(n, m), float32",
    "five products, kernels' layout (numba) us",
    "fastest layout (numba) us",
    "fastest layout (numpy: the peak) us",
    "numba transpose of the batch us",
    "h = W x, BLAS (numba) us",
    "h = W x by hand us",
    "by hand = BLAS bit for bit",
]


def main(quick: bool = False) -> None:
    print(machine_info())
    # warm-up: numba compilation (cached kernels load from disk), reported apart
    t0 = time.perf_counter()
    for dt in ("float32", "float64"):
        for p in (0.5, 0.01):
            toy.train(
                toy.feature_distribution(5, [p, p]),
                2,
                settings=toy.TrainSettings(n_steps=2, dtype=dt),
                rng=0,
                parallel=False,
            )
    print(f"csuper warm-up (compile or cache load): {time.perf_counter() - t0:.1f} s")
    torch_train(5, 2, np.full((2, 5), 0.5), np.ones(5), 2)
    rows = throughput(quick)
    print()
    print_table(HEADERS, rows)
    print()
    qrows = quality(quick)
    print()
    print_table(QHEADERS, qrows)
    print()
    rrows = route_crossovers(quick)
    print()
    print_table(RHEADERS, rrows)
    print()
    lrows = hidden_layout(quick)
    print()
    print_table(LHEADERS, lrows)
    print()
    brows = batch_layout(quick)
    print()
    print_table(BHEADERS, brows)


if __name__ == "__main__":
    main()
