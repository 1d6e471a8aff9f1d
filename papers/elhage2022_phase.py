"""Elhage et al. 2022, "Toy Models of Superposition", section "Superposition as a phase change":
the n = 2, m = 1 phase diagram over (relative importance of feature 2, feature density p).

For every cell, toy models are trained (best of --n-seeds) and the winner is classified as
"feature 1 only", "feature 2 only" or "antipodal superposition" (both represented, w1 w2 < 0).
Independently, the exact expected loss of the three candidate solutions is computed by
numerical integration (Gauss-Legendre over the activity patterns of (x1, x2)) and the cheapest
candidate gives the theoretical phase. One figure shows both diagrams side by side.

Usage: python papers/elhage2022_phase.py OUTDIR [--grid 12] [--n-steps 4000] [--n-seeds 3]
Writes OUTDIR/phase.json and OUTDIR/phase.png.
"""

from __future__ import annotations

import argparse
import json
import pathlib

import numpy as np
from scipy import optimize

import csuper.toy as toy

PHASES = ("feature 1 only", "feature 2 only", "antipodal")

_NODES, _WEIGHTS = np.polynomial.legendre.leggauss(200)
_U = 0.5 * (_NODES + 1.0)  # nodes on [0, 1]
_WU = 0.5 * _WEIGHTS


def expected_loss(w, bias, imp, p):
    """Exact E[(1/2) sum_i I_i (x_i - ReLU(w_i (w . x) + b_i))^2] for n = 2, m = 1.

    x_i = 0 with probability 1 - p, else Uniform[0, 1], independently. The expectation is split
    over the four activity patterns and each piece integrated by 200-point Gauss-Legendre (the
    integrand is piecewise quadratic; the ReLU kink limits accuracy to ~1e-6, far below the
    gaps between phases).
    """
    w = np.asarray(w, float)
    bias = np.asarray(bias, float)

    def sqerr(x1, x2):
        h = w[0] * x1 + w[1] * x2
        e1 = x1 - np.maximum(w[0] * h + bias[0], 0.0)
        e2 = x2 - np.maximum(w[1] * h + bias[1], 0.0)
        return 0.5 * (imp[0] * e1**2 + imp[1] * e2**2)

    q = 1.0 - p
    none = sqerr(0.0, 0.0)
    one = np.sum(_WU * sqerr(_U, 0.0))
    two = np.sum(_WU * sqerr(0.0, _U))
    X1, X2 = np.meshgrid(_U, _U, indexing="ij")
    both = np.sum(np.outer(_WU, _WU) * sqerr(X1, X2))
    return q * q * none + p * q * (one + two) + p * p * both


def candidate_losses(imp, p):
    """Optimal expected loss and weights of each candidate: keep feature 1, keep feature 2,
    antipodal pair. Returns (losses (3,), list of W (1, 2))."""
    # keep feature i exactly (w_i = 1), the other predicted by its mean through the bias
    keep1 = expected_loss([1.0, 0.0], [0.0, p / 2], imp, p)
    keep2 = expected_loss([0.0, 1.0], [p / 2, 0.0], imp, p)
    # antipodal: w = (a, -c), biases free; minimise the exact loss over (a, c, b1, b2)
    res = optimize.minimize(
        lambda t: expected_loss([t[0], -t[1]], [t[2], t[3]], imp, p),
        x0=[1.0, 1.0, 0.0, 0.0],
        method="Nelder-Mead",
        options={"xatol": 1e-6, "fatol": 1e-10, "maxiter": 4000},
    )
    Ws = [np.array([[1.0, 0.0]]), np.array([[0.0, 1.0]]), np.array([[res.x[0], -res.x[1]]])]
    return np.array([keep1, keep2, res.fun]), Ws


def classify(W, threshold=0.5):
    n1, n2 = np.abs(W[0, 0]), np.abs(W[0, 1])
    if n1 > threshold and n2 > threshold:
        return 2 if W[0, 0] * W[0, 1] < 0 else -1
    if n1 > threshold:
        return 0
    if n2 > threshold:
        return 1
    return -1


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("outdir")
    ap.add_argument("--grid", type=int, default=12, help="cells per axis")
    ap.add_argument("--n-steps", type=int, default=4000)
    ap.add_argument("--batch-size", type=int, default=1024)
    ap.add_argument("--lr", type=float, default=1e-2)
    ap.add_argument("--n-seeds", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    out = pathlib.Path(args.outdir)
    out.mkdir(parents=True, exist_ok=True)

    rel = np.logspace(-1, 1, args.grid)  # I_2 / I_1
    dens = np.logspace(-2, 0, args.grid)  # p
    R, Pd = np.meshgrid(rel, dens, indexing="xy")  # rows: density, columns: importance
    P = Pd.ravel()
    IMP = np.stack([np.ones(P.size), R.ravel()], axis=1)
    dist = toy.feature_distribution(2, np.repeat(P[:, None], 2, axis=1))
    settings = toy.TrainSettings(
        n_steps=args.n_steps, batch_size=args.batch_size, lr=args.lr, schedule="linear"
    )
    model = toy.train(
        dist,
        1,
        importance=IMP,
        settings=settings,
        n_seeds=args.n_seeds,
        rng=args.seed,
        progress=True,
    )
    trained = np.array([classify(model.W[r]) for r in range(model.n_instances)]).reshape(R.shape)
    cands = [candidate_losses(IMP[r], P[r]) for r in range(P.size)]
    theory_loss = np.array([c[0] for c in cands])
    # the phase of the cheapest candidate, classified by its weights like the trained models
    # (an "antipodal" optimum whose second feature shrank below 0.5 counts as one feature)
    theory = np.array([classify(c[1][int(np.argmin(c[0]))]) for c in cands]).reshape(R.shape)
    # the trained models' own exact expected loss, to compare with the best candidate
    exact_trained = np.array(
        [expected_loss(model.W[r, 0], model.b[r], IMP[r], P[r]) for r in range(P.size)]
    )
    agree = float(np.mean(trained == theory))
    gap = (exact_trained - theory_loss.min(axis=1)) / theory_loss.min(axis=1)
    result = {
        "relative_importance": rel.tolist(),
        "density": dens.tolist(),
        "trained_phase": trained.tolist(),
        "theory_phase": theory.tolist(),
        "phases": list(PHASES),
        "agreement": agree,
        "median_relative_excess_loss_of_trained": float(np.median(gap)),
        "settings": {
            "n_steps": args.n_steps,
            "batch_size": args.batch_size,
            "lr": args.lr,
            "n_seeds": args.n_seeds,
            "schedule": "linear",
            "optimizer": "adamw",
        },
    }
    (out / "phase.json").write_text(json.dumps(result, indent=1))
    print(
        f"cells where trained phase == theory: {agree:.1%}; median relative excess loss of the "
        f"trained model over the best candidate: {np.median(gap):+.2e}"
    )

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import ListedColormap

    cmap = ListedColormap(["lightgrey", "tab:blue", "tab:orange", "tab:green"])
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.2), sharey=True)
    for ax, grid, title in (
        (axes[0], trained, "trained (best of seeds)"),
        (axes[1], theory, "exact expected loss, best candidate"),
    ):
        ax.pcolormesh(rel, dens, grid, cmap=cmap, vmin=-1.5, vmax=2.5, shading="nearest")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("relative importance I_2 / I_1")
        ax.set_title(title, fontsize=10)
    axes[0].set_ylabel("feature density p = 1 - S")
    handles = [plt.Rectangle((0, 0), 1, 1, color=cmap(i + 1)) for i in range(3)]
    fig.legend(handles, PHASES, loc="upper center", ncol=3, fontsize=9)
    fig.tight_layout(rect=(0, 0, 1, 0.92))
    fig.savefig(out / "phase.png", dpi=120)
    print(f"wrote {out / 'phase.json'} and {out / 'phase.png'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
