"""Pricing interference (issue 14's seed question: "overcomplete dictionaries with sparsity
penalties look like Pigouvian taxes on interference"): does a price on the interference a
feature imposes on the others buy legibility cheaply, and does it move the phase transitions?

Setup: Elhage et al. 2022's ReLU-output toy model x' = ReLU(W^T W x + b) (and, with the
weighted price, the privileged-basis model h = ReLU(W x), x' = ReLU(W^T h + b), whose neurons
can be counted as monosemantic or polysemantic), n = 20 features,
m = 5 dimensions, I_i = 0.9^i, uniform magnitudes, the notebook's optimiser (AdamW lr 1e-3,
batch 1024, 10,000 steps), 7 sparsities x 6 seeds, the same seeds at every price (paired).
The price lambda * sum_{i != j} c_ij (w_i . w_j)^2 is the toy trainer's ``interference_price``,
weighted by the exact co-activation rates c_ij = P(x_i > 0, x_j > 0) (``coactivation_weighted``)
or plain (c_ij = 1), each over its own lambda grid (c_ij = p^2 is small at high sparsity, so the
weighted grid reaches higher). Legibility: the share of represented features (|w_i| > 0.5) that
own a dimension (D_i >= 0.9). Loss: held-out reconstruction loss, the price excluded. The
verdicts follow :data:`csuper.diagnose.PRICING_CRITERIA`, fixed before the run.

Usage: python papers/pricing_interference.py OUTDIR [--n-seeds 6] [--n-steps 10000]
Writes OUTDIR/frontier.json (after each variant, so an interrupted run keeps what it finished)
and OUTDIR/frontier.png.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import time

import numpy as np

import csuper.toy as toy
from csuper.diagnose import (
    PRICING_CRITERIA,
    PricingFrontier,
    frontier_table,
    pricing_frontier,
    pricing_verdict,
)

SETUP = {
    "n_features": 20,
    "n_dims": 5,
    "importance_ratio": 0.9,
    "sparsities": [0.0, 0.5, 0.7, 0.8, 0.9, 0.95, 0.99],
    # variant -> (model, co-activation weighted, lambda grid)
    "variants": {
        "weighted": ["relu_output", True, [0.0, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0]],
        "plain": ["relu_output", False, [0.0, 0.0001, 0.0003, 0.001, 0.003, 0.01, 0.03, 0.1]],
        "weighted_hidden_relu": [
            "hidden_relu",
            True,
            [0.0, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0],
        ],
    },
    "n_seeds": 6,
    "n_steps": 10_000,
    "n_samples": 16384,
    "seed": 14,
}


def settings(setup: dict, variant: str) -> toy.TrainSettings:
    return toy.TrainSettings(model=setup["variants"][variant][0], n_steps=setup["n_steps"])


def seeds(setup: dict) -> np.ndarray:
    """Training seeds, sparsity-major; the same for every variant."""
    size = len(setup["sparsities"]) * setup["n_seeds"]
    return np.random.default_rng(setup["seed"]).integers(0, 2**62, size=size)


def run_variant(setup: dict, variant: str, progress: bool = False) -> PricingFrontier:
    return pricing_frontier(
        setup["n_features"],
        setup["n_dims"],
        sparsities=setup["sparsities"],
        prices=setup["variants"][variant][2],
        coactivation_weighted=setup["variants"][variant][1],
        importance=setup["importance_ratio"] ** np.arange(setup["n_features"]),
        settings=settings(setup, variant),
        n_seeds=setup["n_seeds"],
        n_samples=setup["n_samples"],
        seeds=seeds(setup),
        progress=progress,
    )


def summarise(frontier: PricingFrontier) -> dict:
    legibility, transition = pricing_verdict(frontier)
    table = [
        {k: (list(v) if isinstance(v, tuple) else v) for k, v in e.items()}
        for e in frontier_table(frontier)
    ]
    return {
        "table": table,
        "legibility": {k: legibility.to_dict()[k] for k in ("statistic", "diagnosis", "summary")},
        "transition": {
            **{k: transition.to_dict()[k] for k in ("statistic", "diagnosis", "summary")},
            "details": transition.to_dict()["details"],
        },
    }


def figure(res: dict, path: pathlib.Path):
    """Save and return the figure. Per variant: relative loss increase against dedicated-share
    gain (every priced cell, coloured by sparsity, the 'cheap' box of the criterion shaded), and
    the represented count against sparsity at every price (mean over seeds)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    variants = list(res["variants"])
    fig, axes = plt.subplots(len(variants), 2, figsize=(11, 4 * len(variants)), squeeze=False)
    for row, variant in enumerate(variants):
        table = res["variants"][variant]["table"]
        ax = axes[row, 0]
        cells = [e for e in table if e["price"] > 0]
        sc = ax.scatter(
            [e["share_gain"][0] for e in cells],
            [e["relative_loss"][0] for e in cells],
            c=[e["sparsity"] for e in cells],
            s=[20 + 20 * np.log10(e["price"] / min(c["price"] for c in cells) + 1) for e in cells],
            cmap="viridis",
        )
        ax.fill_between(
            [PRICING_CRITERIA["min_share_gain"], 1.05],
            -0.05,
            PRICING_CRITERIA["max_relative_loss"],
            color="C2",
            alpha=0.2,
            label="cheap legibility (criterion)",
        )
        ax.set_yscale("symlog", linthresh=0.1)
        ax.set_xlabel("dedicated-share gain over lambda = 0 (paired)")
        ax.set_ylabel("relative loss increase (paired)")
        ax.set_title(f"{variant}: {res['variants'][variant]['legibility']['diagnosis']}")
        ax.legend(fontsize=7)
        fig.colorbar(sc, ax=ax, label="sparsity S")
        ax = axes[row, 1]
        for price in sorted({e["price"] for e in table}):
            sel = sorted((e for e in table if e["price"] == price), key=lambda e: e["sparsity"])
            ax.plot(
                [e["sparsity"] for e in sel],
                [e["represented"][0] for e in sel],
                "o-",
                label=f"lambda = {price:g}",
            )
        ax.axhline(res["setup"]["n_dims"], color="k", lw=0.8, ls=":")
        ax.set_xlabel("sparsity S")
        ax.set_ylabel("represented features (mean over seeds)")
        ax.set_title(res["variants"][variant]["transition"]["diagnosis"])
        ax.legend(fontsize=6)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return fig


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("outdir")
    ap.add_argument("--n-seeds", type=int, default=SETUP["n_seeds"])
    ap.add_argument("--n-steps", type=int, default=SETUP["n_steps"])
    ap.add_argument("--progress", action="store_true")
    args = ap.parse_args(argv)
    setup = {**SETUP, "n_seeds": args.n_seeds, "n_steps": args.n_steps}
    out = pathlib.Path(args.outdir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "frontier.json"
    res: dict = {"setup": setup, "criteria": PRICING_CRITERIA, "variants": {}, "rows": {}}
    if path.exists():  # resume: keep the variants an interrupted run of this setup finished
        old = json.loads(path.read_text())
        if old.get("setup") == setup and old.get("criteria") == PRICING_CRITERIA:
            res = old
    for variant in setup["variants"]:
        if variant in res["variants"]:
            continue
        t0 = time.time()
        frontier = run_variant(setup, variant, progress=args.progress)
        res["rows"][variant] = frontier.rows
        res["variants"][variant] = {
            **summarise(frontier),
            "legible_loss": {str(k): v for k, v in frontier.legible_loss.items()},
            "seconds": round(time.time() - t0),
        }
        path.write_text(json.dumps(res, indent=1))
    import matplotlib.pyplot as plt

    plt.close(figure(res, out / "frontier.png"))
    for variant, v in res["variants"].items():
        print(f"[{variant}] {v['legibility']['summary']}")
        print(f"[{variant}] {v['transition']['summary']}")
    return res


if __name__ == "__main__":
    main()
