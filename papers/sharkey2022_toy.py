"""Sharkey, Braun & Millidge 2022, "Taking features out of superposition with sparse
autoencoders" (LessWrong / AI Alignment Forum interim report, Dec 2022): the toy-data section.

Claims (their Figs. 3, 4 and 10, heat maps over the L1 coefficient and the dictionary size):

1. A ReLU + L1 sparse autoencoder recovers the ground-truth features (mean max cosine
   similarity, MMCS, near 1) when the dictionary is at least as large as the number of true
   features and the L1 coefficient is in a middle range; smaller dictionaries cannot.
2. Dead latents appear once the dictionary is larger than the number of true features.
3. Without ground truth, the right size shows as the smallest dictionary whose atoms all
   reappear in a larger dictionary trained with the same L1 coefficient (MMCS between them
   near 1).

Their setup: 512 ground-truth features in 256 dimensions, feature probabilities decaying as
0.99^i (correlated through a random covariance), 5 active on average, magnitudes
Uniform x Uniform, dictionary ratios 0.5-8 times the input dimension, L1 coefficients spread
over several decades. Ours (sized for 2 cores): 64 features in 32 dimensions (the same ratio
n/m = 2), decaying probabilities 0.99^i without correlations, 5 active on average, Uniform[0, 1)
magnitudes, Gaussian unit features; dictionary ratios 0.5, 1, 2, 4 (widths 16-128), six L1
coefficients, 2 seeds, 5,000 Adam steps of batch 256 (lr 1e-3), unit-norm decoder by gradient
projection, decoder bias at the geometric median.

Runtime on 2 cores: not timed end to end; one of its 56 trainings (width 32, one L1
coefficient, one seed) takes 17 s at load 8-11, so about 15-30 minutes (the wider
dictionaries cost more). Fewer ``ratios``, ``coefficients`` or ``n_seeds`` in SETUP shrink it.

Usage: python papers/sharkey2022_toy.py OUTDIR
Writes OUTDIR/toy.json and OUTDIR/toy.png.
"""

from __future__ import annotations

import argparse
import itertools
import json
import pathlib

import numpy as np

import csuper.sae as sae

#: Committed results (under papers/results/), checked by tests/papers/test_drift.py.
RESULTS = ("sharkey2022/toy.json",)
SETUP = {
    "n_features": 64,
    "n_dims": 32,
    "k": 5.0,
    "ratio": 0.99,
    "n_samples": 32_768,
    "n_test": 4096,
    "ratios": [0.5, 1.0, 2.0, 4.0],
    "coefficients": [0.003, 0.01, 0.03, 0.1, 0.3, 1.0],
    "n_seeds": 2,
    "n_steps": 5000,
    "batch_size": 256,
    "lr": 1e-3,
    "seed": 2022,
}


def run(setup: dict) -> dict:
    rng = np.random.default_rng(setup["seed"])
    F = sae.ground_truth_dictionary("gaussian", setup["n_features"], setup["n_dims"], rng=rng)
    law = sae.code_law(setup["n_features"], setup["k"], profile="decaying", ratio=setup["ratio"])
    train = sae.make_data(F, law, setup["n_samples"], rng=rng)
    test = sae.make_data(F, law, setup["n_test"], rng=rng)
    settings = sae.SAESettings(
        n_steps=setup["n_steps"], batch_size=setup["batch_size"], lr=setup["lr"]
    )
    widths = [int(r * setup["n_dims"]) for r in setup["ratios"]]
    models = {}
    rows = []
    for w in widths:
        model = sae.train_sae(
            train.X,
            w,
            "relu_l1",
            sparsity_coefficient=setup["coefficients"],
            settings=settings,
            n_seeds=setup["n_seeds"],
            rng=setup["seed"] + w,
        )
        models[w] = model
        codes = model.encode(test.X)
        for r in range(model.n_instances):
            rows.append(
                {
                    "width": w,
                    "coefficient": float(model.sparsity_coefficient[r]),
                    "seed_index": r % setup["n_seeds"],
                    "mmcs_features": sae.mmcs_features(F, model.W_dec[r]),
                    "recovery_rate": sae.recovery_rate(F, model.W_dec[r]),
                    "dead_latents": sae.dead_latents(codes[r]),
                    "l0": sae.l0(codes[r]),
                }
            )
    # claim 3: MMCS of each dictionary's atoms against the next larger one (same L1, same seed)
    for a, b in itertools.pairwise(widths):
        for r in range(models[a].n_instances):
            row = next(
                x
                for x in rows
                if x["width"] == a
                and x["coefficient"] == float(models[a].sparsity_coefficient[r])
                and x["seed_index"] == r % setup["n_seeds"]
            )
            row["mmcs_with_larger"] = sae.mmcs_features(models[a].W_dec[r], models[b].W_dec[r])
    null = sae.mmcs_features(
        F, np.random.default_rng(0).standard_normal((setup["n_dims"], max(widths)))
    )
    return {
        "setup": setup,
        "rows": rows,
        "null_mmcs_widest_random": null,
        "true_l0": sae.l0(test.codes),
    }


def summarise(res: dict) -> dict:
    """Verdicts from the numbers (criteria fixed here)."""
    n = res["setup"]["n_features"]
    rows = res["rows"]

    def cell(w, c):
        sel = [r for r in rows if r["width"] == w and r["coefficient"] == c]
        return {
            key: sae.mean_ci([r[key] for r in sel])
            for key in sel[0]
            if key not in ("width", "coefficient", "seed_index")
        }

    widths = sorted({r["width"] for r in rows})
    coefs = sorted({r["coefficient"] for r in rows})
    table = {f"{w}/{c:g}": cell(w, c) for w in widths for c in coefs}
    best = {w: max(coefs, key=lambda c: table[f"{w}/{c:g}"]["mmcs_features"][0]) for w in widths}
    best_big = max(
        (w for w in widths if w >= n), key=lambda w: table[f"{w}/{best[w]:g}"]["mmcs_features"][0]
    )
    big = table[f"{best_big}/{best[best_big]:g}"]["mmcs_features"]
    small = max(table[f"{w}/{best[w]:g}"]["mmcs_features"][0] for w in widths if w < n)
    claim1 = (
        "reproduced"
        if np.isfinite(big[1]) and big[1] >= 0.95 and small < big[1]
        else "not supported"
    )
    c_mid = best[n] if n in best else best[best_big]
    dead = {w: table[f"{w}/{c_mid:g}"]["dead_latents"][0] for w in widths}
    claim2 = (
        "reproduced"
        if all(dead[w] <= 1.0 for w in widths if w < n) and dead[max(widths)] > dead[n] + 1.0
        else "not supported"
    )
    with_larger = {
        w: table[f"{w}/{c_mid:g}"].get("mmcs_with_larger", (np.nan,) * 3)[0] for w in widths[:-1]
    }
    below = [with_larger[w] for w in widths[:-1] if w < n]
    claim3 = (
        "reproduced"
        if n in with_larger and with_larger[n] >= 0.95 and below and max(below) < with_larger[n]
        else "not supported"
    )
    return {
        "best_coefficient_per_width": {str(w): best[w] for w in widths},
        "claim1": claim1,
        "claim1_numbers": {
            "best_mmcs_width_ge_n": big,
            "best_width": best_big,
            "best_mmcs_width_lt_n": small,
        },
        "claim2": claim2,
        "claim2_dead_latents_at_coefficient": {
            "coefficient": c_mid,
            **{str(w): dead[w] for w in widths},
        },
        "claim3": claim3,
        "claim3_mmcs_with_larger": {str(w): with_larger[w] for w in with_larger},
        "criteria": "claim 1: CI lower bound of the best MMCS at width >= n is >= 0.95 and "
        "exceeds every "
        "width < n; claim 2: at the coefficient best for width n, <= 1 dead latent below n and "
        "the widest dictionary has > 1 more than width n; claim 3: width n's atoms reappear in "
        "the next larger dictionary (MMCS >= 0.95) and smaller widths' less so",
        "table": table,
    }


def drift(committed: dict) -> dict:
    """The width-32 dictionary at the first L1 coefficient, first seed, regenerated (its rows do
    not depend on the other widths, coefficients or seeds), and the summary from the committed
    rows."""
    (path,) = RESULTS
    res = committed[path]
    setup = {
        **res["setup"],
        "ratios": [1.0],
        "coefficients": res["setup"]["coefficients"][:1],
        "n_seeds": 1,
    }
    w = int(setup["n_dims"])
    i, _row = next(
        (i, r)
        for i, r in enumerate(res["rows"])
        if r["width"] == w and r["seed_index"] == 0 and r["coefficient"] == setup["coefficients"][0]
    )
    new = run(setup)["rows"][0]
    keys = ("mmcs_features", "recovery_rate", "dead_latents", "l0")
    return {
        **{f"{path}#/rows/{i}/{key}": new[key] for key in keys},
        f"{path}#/summary": json.loads(json.dumps(summarise(res), default=float)),
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("outdir")
    args = ap.parse_args(argv)
    out = pathlib.Path(args.outdir)
    out.mkdir(parents=True, exist_ok=True)
    res = run(SETUP)
    res["summary"] = summarise(res)
    (out / "toy.json").write_text(json.dumps(res, indent=1, default=float))
    s = res["summary"]
    print(f"claim 1 (MMCS near 1 at width >= n): {s['claim1']} {s['claim1_numbers']}")
    print(f"claim 2 (dead latents past n): {s['claim2']} {s['claim2_dead_latents_at_coefficient']}")
    print(
        f"claim 3 (atoms reappear in a larger dictionary): {s['claim3']} "
        f"{s['claim3_mmcs_with_larger']}"
    )
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    widths = sorted({r["width"] for r in res["rows"]})
    coefs = sorted({r["coefficient"] for r in res["rows"]})
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    for ax, key, title in zip(
        axes, ("mmcs_features", "dead_latents"), ("MMCS with true features", "dead latents")
    ):
        grid = np.array([[s["table"][f"{w}/{c:g}"][key][0] for c in coefs] for w in widths])
        im = ax.imshow(grid, origin="lower", aspect="auto", cmap="viridis")
        ax.set_xticks(range(len(coefs)), [f"{c:g}" for c in coefs])
        ax.set_yticks(range(len(widths)), [f"{w} ({w / SETUP['n_dims']:g}x)" for w in widths])
        ax.set_xlabel("L1 coefficient")
        ax.set_ylabel("dictionary width (ratio to m)")
        ax.set_title(title)
        for i in range(len(widths)):
            for j in range(len(coefs)):
                ax.text(
                    j,
                    i,
                    f"{grid[i, j]:.2f}" if key == "mmcs_features" else f"{grid[i, j]:.0f}",
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="w",
                )
        fig.colorbar(im, ax=ax)
    fig.tight_layout()
    fig.savefig(out / "toy.png", dpi=110)
    plt.close(fig)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
