"""Elhage et al. 2022, "Toy Models of Superposition", section "Feature dimensionality":
n = 200 (or 100), m = 20, 20 sparsities; D* = m / ||W||_F^2 against 1/(1 - S) with its plateaus
at 1 (no superposition) and 1/2 (antipodal pairs), and every feature's D_i with the sticky
fractions 1, 3/4, 2/3, 1/2, 2/5, 3/8 marked.

Usage: python papers/elhage2022_dimensionality.py OUTDIR [--n-features 200] [--n-steps 10000]
       [--p-min 0.002]
Writes OUTDIR/dimensionality.json and OUTDIR/dimensionality.png.
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
    ap.add_argument("--n-features", type=int, default=200)
    ap.add_argument("--n-dims", type=int, default=20)
    ap.add_argument("--n-sparsities", type=int, default=20)
    ap.add_argument("--p-min", type=float, default=0.002, help="smallest feature probability")
    ap.add_argument("--n-steps", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    out = pathlib.Path(args.outdir)
    out.mkdir(parents=True, exist_ok=True)
    n, m = args.n_features, args.n_dims
    p = np.geomspace(1.0, args.p_min, args.n_sparsities)
    model = toy.train(
        toy.feature_distribution(n, p),
        m,
        settings=toy.TrainSettings(n_steps=args.n_steps),
        rng=args.seed,
        progress=True,
    )
    rows = []
    for r in range(model.n_instances):
        W = model.W[r]
        D = feature_dimensionality(W)
        rep = toy.feature_norms(W) > 0.5
        rows.append(
            {
                "p": float(p[r]),
                "inv_density": float(1 / p[r]),
                "D_star": toy.dimensions_per_feature(W),
                "represented": int(rep.sum()),
                "final_loss": float(model.final_loss[r]),
                "D_hist": np.histogram(D[rep], bins=np.linspace(0, 1, 21))[0].tolist(),
            }
        )
        print(
            f"1/(1-S)={1 / p[r]:8.1f}  D*={rows[-1]['D_star']:.3f}  "
            f"represented={rows[-1]['represented']}"
        )
    (out / "dimensionality.json").write_text(
        json.dumps({"n_features": n, "n_dims": m, "n_steps": args.n_steps, "rows": rows}, indent=1)
    )
    model.save(out / "dimensionality_models.npz")

    import matplotlib

    matplotlib.use("Agg")
    ax = toy.plot_dimensionality(model.W, p)
    ax.set_title(f"n = {n}, m = {m}: D* and D_i against 1/(1-S)", fontsize=10)
    ax.figure.tight_layout()
    ax.figure.savefig(out / "dimensionality.png", dpi=120)
    print(f"wrote {out}/dimensionality.json, dimensionality.png, dimensionality_models.npz")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
