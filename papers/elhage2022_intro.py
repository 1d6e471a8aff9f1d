"""Elhage et al. 2022, "Toy Models of Superposition", introduction figure and its claims:

1. n = 5, m = 2, importance 0.9^i, feature probability 20^-linspace(0, 1, 10) (the reference
   notebook's sweep): dense inputs keep the 2 most important features orthogonally; as sparsity
   grows more features are represented, and the sparse end packs all 5 (a pentagon).
2. Uniform importance, p in {0.15, 0.1, 0.05}: all five D_i = 2/5 within 0.02.
3. Dense limit (p = 1): the loss equals sum_{i >= m} I_i / (12 n) within 2% (closed form: the m
   most important features kept, the rest replaced by their mean through the bias).

Usage: python papers/elhage2022_intro.py OUTDIR [--n-steps 10000] [--n-seeds 4]
Writes OUTDIR/intro.json, OUTDIR/intro_geometry.png, OUTDIR/intro_gram.png.
"""

from __future__ import annotations

import argparse
import json
import pathlib

import numpy as np

import csuper.toy as toy
from csuper.geometry import feature_dimensionality


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("outdir")
    ap.add_argument("--n-steps", type=int, default=10_000)
    ap.add_argument("--n-seeds", type=int, default=4, help="best of this many seeds per instance")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    out = pathlib.Path(args.outdir)
    out.mkdir(parents=True, exist_ok=True)
    n, m = 5, 2
    settings = toy.TrainSettings(n_steps=args.n_steps)  # the notebook's settings otherwise
    res: dict = {"settings": {"n_steps": args.n_steps, "n_seeds": args.n_seeds, "notebook": True}}

    # 1. the intro sweep
    p = 20.0 ** -np.linspace(0, 1, 10)
    imp = 0.9 ** np.arange(n)
    sweep = toy.train(
        toy.feature_distribution(n, p),
        m,
        importance=imp,
        settings=settings,
        n_seeds=args.n_seeds,
        rng=args.seed,
        progress=True,
    )
    rows = []
    for r in range(sweep.n_instances):
        W = sweep.W[r]
        rows.append(
            {
                "p": float(p[r]),
                "final_loss": float(sweep.final_loss[r]),
                "norms": np.round(toy.feature_norms(W), 3).tolist(),
                "represented": toy.represented_count(W),
                "D": np.round(feature_dimensionality(W), 3).tolist(),
                "polytopes": [q.name for q in toy.detect_polytopes(W)],
            }
        )
        print(
            f"p={p[r]:.4f} represented={rows[-1]['represented']} polytopes={rows[-1]['polytopes']}"
        )
    res["sweep"] = rows

    # 2. uniform importance, sparse: pentagons
    pu = np.array([0.15, 0.1, 0.05])
    uni = toy.train(
        toy.feature_distribution(n, pu),
        m,
        settings=settings,
        n_seeds=args.n_seeds,
        rng=args.seed + 1,
        progress=True,
    )
    res["uniform"] = [
        {
            "p": float(pu[r]),
            "D": np.round(feature_dimensionality(uni.W[r]), 4).tolist(),
            "max_abs_D_minus_0.4": float(np.abs(feature_dimensionality(uni.W[r]) - 0.4).max()),
        }
        for r in range(3)
    ]
    for row in res["uniform"]:
        print(
            f"uniform importance p={row['p']}: D={row['D']} (max |D - 2/5| = "
            f"{row['max_abs_D_minus_0.4']:.4f})"
        )

    # 3. dense limit
    dense = toy.train(
        toy.feature_distribution(n, 1.0),
        m,
        importance=imp,
        settings=settings,
        n_seeds=args.n_seeds,
        rng=args.seed + 2,
    )
    X = toy.sample_features(toy.feature_distribution(n, 1.0), 400_000, rng=args.seed + 3)[0]
    measured = float(dense.loss(X)[0])
    closed = toy.dense_limit_loss(imp, m)
    res["dense_limit"] = {
        "measured": measured,
        "closed_form": closed,
        "relative_difference": (measured - closed) / closed,
    }
    print(
        f"dense limit: measured {measured:.6f}, closed form {closed:.6f} "
        f"({(measured - closed) / closed:+.2%})"
    )
    (out / "intro.json").write_text(json.dumps(res, indent=1))

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 10, figsize=(20, 2.4))
    for r, ax in enumerate(axes):
        toy.plot_feature_geometry(sweep.W[r], importance=imp, ax=ax, title=f"1-S = {p[r]:.3f}")
    fig.tight_layout()
    fig.savefig(out / "intro_geometry.png", dpi=110)
    fig, axes = plt.subplots(1, 3, figsize=(14, 4))
    for ax, r in zip(axes, (0, 5, 9)):
        toy.plot_gram(sweep.W[r], ax=ax, title=f"W^T W, 1-S = {p[r]:.3f}")
    fig.tight_layout()
    fig.savefig(out / "intro_gram.png", dpi=110)
    print(f"wrote {out}/intro.json, intro_geometry.png, intro_gram.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
