"""Elhage et al. 2022, "Toy Models of Superposition", section "Computation in Superposition":
h = ReLU(W1 x), y = ReLU(W2 h + b) trained to output |x| with n = 100 features, m = 40 neurons
and I_i = 0.8^i, over feature sparsity.

The paper's regimes (its "Superposition vs Sparsity" figure, read off its captions):

| 1 - S | paper |
|---|---|
| 1.0 | all neurons monosemantic, dedicated to a single feature |
| 0.3 | neurons continue to be monosemantic |
| 0.1 | a few slightly polysemantic neurons |
| 0.03 | a small number of highly polysemantic neurons representing low-importance features |
| 0.01 | the number of polysemantic neurons grows |
| 0.003 | they become even more polysemantic |
| 0.001 | all neurons are highly polysemantic |

plus "the neurons representing the most important features tend to be monosemantic". Ours: the
toy notebook's optimiser (AdamW lr 1e-3, batch 1024, 10,000 steps), best of 8 seeds, inputs 0
with probability S else Uniform[-1, 1]. Each neuron's input weights are scaled so that the
largest |weight| is 1 (the paper's footnote 15) and a feature drives it when its scaled |weight|
exceeds 1/2 (:func:`csuper.diagnose.neuron_view` with ``signed=True``); the participation ratio
of the scaled weights measures "slightly" against "highly" polysemantic.

Usage: python papers/elhage2022_computation.py OUTDIR [--n-seeds 8] [--n-steps 10000]
Writes OUTDIR/computation.json and OUTDIR/computation.png.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import time

import numpy as np
from scipy import stats

import csuper.toy as toy
from csuper.diagnose import neuron_view, participation_ratio, train_abs_value

SETUP = {
    "n_features": 100,
    "n_dims": 40,
    "importance_ratio": 0.8,
    "densities": [1.0, 0.3, 0.1, 0.03, 0.01, 0.003, 0.001],
    "n_seeds": 8,
    "n_steps": 10_000,
    "seed": 2022,
}

PAPER = {
    1.0: "all neurons monosemantic, dedicated to a single feature",
    0.3: "neurons continue to be monosemantic",
    0.1: "a few slightly polysemantic neurons",
    0.03: "a small number of highly polysemantic neurons representing low-importance features",
    0.01: "the number of polysemantic neurons grows",
    0.003: "they become even more polysemantic",
    0.001: "all neurons are highly polysemantic",
}

#: Declared before the run.
CRITERIA = {
    "dense": (1.0, 0.3),  # every live neuron monosemantic at these densities
    "sparse_density": 0.001,  # ... and at least this share polysemantic here:
    "sparse_share": 0.9,
    "trend_spearman": -0.8,  # Spearman(density, polysemantic share) at most this
}


def neuron_rows(W1: np.ndarray, importance: np.ndarray) -> dict:
    v = neuron_view(W1, signed=True)
    live = v.features_per_neuron > 0
    pr = participation_ratio(v.weights[live])
    primary = np.argmax(np.abs(v.weights), axis=1)
    mono = v.features_per_neuron == 1
    poly = v.features_per_neuron >= 2
    return {
        "monosemantic": v.monosemantic,
        "polysemantic": v.polysemantic,
        "dead": v.dead,
        "polysemantic_share": v.polysemantic_share,
        "mean_participation": float(np.mean(pr)) if pr.size else float("nan"),
        "features_per_polysemantic_neuron": float(v.features_per_neuron[poly].mean())
        if poly.any()
        else 0.0,
        "primary_rank_monosemantic": float(primary[mono].mean()) if mono.any() else None,
        "primary_rank_polysemantic": float(primary[poly].mean()) if poly.any() else None,
        "features_with_a_dedicated_neuron": int(np.unique(primary[mono]).size),
        "importance_of_primary": importance[primary[live]].tolist(),
    }


def run(setup: dict) -> dict:
    t0 = time.time()
    n, m = setup["n_features"], setup["n_dims"]
    imp = setup["importance_ratio"] ** np.arange(n)
    model = train_abs_value(
        toy.feature_distribution(n, setup["densities"]),
        m,
        importance=imp,
        settings=toy.TrainSettings(n_steps=setup["n_steps"]),
        n_seeds=setup["n_seeds"],
        rng=setup["seed"],
        progress=True,
    )
    rows = []
    for r, p in enumerate(setup["densities"]):
        rows.append(
            {
                "density": p,
                "seed": int(model.seeds[r]),
                "final_loss": float(model.final_loss[r]),
                "paper": PAPER.get(p),
                **neuron_rows(model.W1[r], imp),
                "W1": np.round(model.W1[r], 4).tolist(),
            }
        )
    return {"setup": setup, "rows": rows, **summarise(rows), "seconds": round(time.time() - t0)}


def summarise(rows: list[dict]) -> dict:
    by = {r["density"]: r for r in rows}
    dense_ok = all(by[d]["polysemantic"] == 0 for d in CRITERIA["dense"] if d in by)
    sp = by.get(CRITERIA["sparse_density"])
    sparse_ok = sp is not None and sp["polysemantic_share"] >= CRITERIA["sparse_share"]
    rho = float(
        stats.spearmanr(
            [r["density"] for r in rows], [r["polysemantic_share"] for r in rows]
        ).statistic
    )
    mixed = [r for r in rows if r["monosemantic"] and r["polysemantic"]]
    important_mono = sum(
        r["primary_rank_monosemantic"] < r["primary_rank_polysemantic"] for r in mixed
    )
    checks = {
        "dense_all_monosemantic": dense_ok,
        "sparse_mostly_polysemantic": sparse_ok,
        "trend": rho <= CRITERIA["trend_spearman"],
        "important_features_monosemantic": bool(mixed) and important_mono == len(mixed),
    }
    return {
        "spearman_density_polysemantic_share": rho,
        "mixed_regimes": len(mixed),
        "mixed_regimes_with_important_monosemantic": important_mono,
        "checks": checks,
        "verdict": "reproduced"
        if all(checks.values())
        else f"partly reproduced ({sum(checks.values())} of {len(checks)} checks)",
    }


def figure(res: dict, path: pathlib.Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = res["rows"]
    d = [r["density"] for r in rows]
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 4))
    a1.plot(d, [r["monosemantic"] for r in rows], "o-", label="monosemantic")
    a1.plot(d, [r["polysemantic"] for r in rows], "s-", label="polysemantic")
    a1.plot(d, [r["dead"] for r in rows], "^-", label="dead")
    a1.set_xscale("log")
    a1.invert_xaxis()
    a1.set_xlabel("feature density 1 - S")
    a1.set_ylabel("neurons (of 40)")
    a1.legend(fontsize=8)
    a1.set_title("|x| model, n = 100, m = 40, I = 0.8^i")
    a2.plot(d, [r["mean_participation"] for r in rows], "o-")
    a2.set_xscale("log")
    a2.invert_xaxis()
    a2.set_xlabel("feature density 1 - S")
    a2.set_ylabel("mean participation ratio of live neurons")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("outdir")
    ap.add_argument("--n-seeds", type=int, default=SETUP["n_seeds"])
    ap.add_argument("--n-steps", type=int, default=SETUP["n_steps"])
    args = ap.parse_args(argv)
    setup = {**SETUP, "n_seeds": args.n_seeds, "n_steps": args.n_steps}
    out = pathlib.Path(args.outdir)
    out.mkdir(parents=True, exist_ok=True)
    res = run(setup)
    (out / "computation.json").write_text(json.dumps(res, indent=1))
    figure(res, out / "computation.png")
    for r in res["rows"]:
        print(
            f"1-S = {r['density']:6.3f}: mono {r['monosemantic']:2d}, poly {r['polysemantic']:2d}, "
            f"dead {r['dead']:2d}, mean PR {r['mean_participation']:.2f}; paper: {r['paper']}"
        )
    print(f"{res['checks']}: {res['verdict']}")
    return res


if __name__ == "__main__":
    main()
