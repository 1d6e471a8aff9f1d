"""Elhage et al. 2022, "Toy Models of Superposition", section "Feature dimensionality":
n = 200 (or 100), m = 20, 20 sparsities; D* = m / ||W||_F^2 against 1/(1 - S) with its plateaus
at 1 (no superposition) and 1/2 (antipodal pairs), and every feature's D_i with the sticky
fractions 1, 3/4, 2/3, 1/2, 2/5, 3/8 marked.

Runtime on 2 cores: 19 minutes at n = 200 and 10,000 steps (load 8-12, the trainer of
2026-11-28); 5.5 minutes with ``--n-features 100 --n-steps 5000``.

Usage: python papers/elhage2022_dimensionality.py OUTDIR [--n-features 200] [--n-steps 10000]
       [--p-min 0.002] [--name dimensionality]
Writes OUTDIR/<name>.json and OUTDIR/<name>.png (the committed n = 100 run is
``--n-features 100 --n-steps 5000 --name dimensionality_n100_5000steps``).
"""

from __future__ import annotations

import argparse
import json
import pathlib

import numpy as np

import csuper.toy as toy
from csuper.geometry import feature_dimensionality

#: Committed results (under papers/results/), checked by tests/papers/test_drift.py.
RESULTS = ("elhage2022/dimensionality.json", "elhage2022/dimensionality_n100_5000steps.json")
#: Criteria (the paper's words made numbers): D* within PLATEAU_TOL of 1 at 1/(1-S) = 1, and of
#: 1/2 at PLATEAU_RUN or more consecutive sparsities.
PLATEAU_TOL, PLATEAU_RUN = 0.05, 2


def row(model, r: int, p: float) -> dict:
    W = model.W[r]
    D = feature_dimensionality(W)
    rep = toy.feature_norms(W) > 0.5
    return {
        "p": float(p),
        "seed": int(model.seeds[r]),
        "inv_density": float(1 / p),
        "D_star": toy.dimensions_per_feature(W),
        "represented": int(rep.sum()),
        "final_loss": float(model.final_loss[r]),
        "D_hist": np.histogram(D[rep], bins=np.linspace(0, 1, 21))[0].tolist(),
    }


def verdicts(res: dict) -> dict:
    dstar = [r["D_star"] for r in res["rows"]]
    near_half = [abs(d - 0.5) <= PLATEAU_TOL for d in dstar]
    run = best = 0
    for ok in near_half:
        run = run + 1 if ok else 0
        best = max(best, run)
    return {
        "plateau_1": "reproduced" if abs(dstar[0] - 1.0) <= PLATEAU_TOL else "not supported",
        "plateau_half": "reproduced" if best >= PLATEAU_RUN else "not supported",
        "longest_run_near_half": best,
        "criteria": f"D* within {PLATEAU_TOL} of 1 at 1/(1-S) = 1; within {PLATEAU_TOL} of 1/2 "
        f"at >= {PLATEAU_RUN} consecutive sparsities",
    }


def drift(committed: dict) -> dict:
    """The sparsest instance of each committed run retrained from its recorded seed (instances
    are independent of their siblings) and the verdicts from the committed numbers."""
    out = {}
    for path in RESULTS:
        res = committed[path]
        r = len(res["rows"]) - 1
        x = res["rows"][r]
        model = toy.train(
            toy.feature_distribution(res["n_features"], x["p"]),
            res["n_dims"],
            settings=toy.TrainSettings(n_steps=res["n_steps"]),
            seeds=[x["seed"]],
        )
        out[f"{path}#/rows/{r}"] = row(model, 0, x["p"])
        out[f"{path}#/verdicts"] = verdicts(res)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("outdir")
    ap.add_argument("--n-features", type=int, default=200)
    ap.add_argument("--n-dims", type=int, default=20)
    ap.add_argument("--n-sparsities", type=int, default=20)
    ap.add_argument("--p-min", type=float, default=0.002, help="smallest feature probability")
    ap.add_argument("--n-steps", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--name", default="dimensionality", help="stem of the output files")
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
    rows = [row(model, r, p[r]) for r in range(model.n_instances)]
    for x in rows:
        print(
            f"1/(1-S)={x['inv_density']:8.1f}  D*={x['D_star']:.3f}  represented={x['represented']}"
        )
    res = {"n_features": n, "n_dims": m, "n_steps": args.n_steps, "rows": rows}
    res["verdicts"] = verdicts(res)
    print(res["verdicts"])
    (out / f"{args.name}.json").write_text(json.dumps(res, indent=1))

    import matplotlib

    matplotlib.use("Agg")
    ax = toy.plot_dimensionality(model.W, p)
    ax.set_title(f"n = {n}, m = {m}: D* and D_i against 1/(1-S)", fontsize=10)
    ax.figure.tight_layout()
    ax.figure.savefig(out / f"{args.name}.png", dpi=120)
    print(f"wrote {out}/{args.name}.json, {args.name}.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
