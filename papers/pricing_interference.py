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
       python papers/pricing_interference.py OUTDIR --redraw
Writes OUTDIR/frontier.json (after each variant) and OUTDIR/frontier.png. Each variant is
trained by :func:`csuper.diagnose.pricing_frontier` with ``output=OUTDIR/<variant>`` (a
resumable result store, not committed): every price is saved as soon as it is trained, so an
interrupted run resumes at the price in progress, and a folder of another setup is refused.
``--redraw`` draws frontier.png again from OUTDIR/frontier.json without training.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import time

import numpy as np
from matplotlib.figure import Figure

import csuper.toy as toy
from csuper.diagnose import (
    PRICING_CRITERIA,
    PricingFrontier,
    frontier_figure,
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


def run_variant(
    setup: dict, variant: str, output: pathlib.Path | None = None, progress: bool = False
) -> PricingFrontier:
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
        output=output,
        progress=progress,
    )


def frontier(res: dict, variant: str) -> PricingFrontier:
    """A variant's frontier from the results file (what the figure and the verdicts read)."""
    return PricingFrontier(
        rows=res["rows"][variant],
        legible_loss={float(k): x for k, x in res["variants"][variant]["legible_loss"].items()},
        setup={
            "n_dims": res["setup"]["n_dims"],
            "coactivation_weighted": res["setup"]["variants"][variant][1],
        },
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


def figure(res: dict) -> Figure:
    """One row per variant, drawn by :func:`csuper.diagnose.frontier_figure` (left: relative loss
    increase against dedicated-share gain of every priced cell, coloured by sparsity, sized by
    price, the criterion's cheap region shaded; right: represented count against sparsity per
    price, and y = m). The loss axis is symmetric-log: the strongest prices multiply the loss
    (up to +608 %) while the cheap region ends at +10 %."""
    variants = list(res["variants"])
    fig = Figure(figsize=(11, 4.2 * len(variants)))
    rows = fig.subplots(len(variants), 2, squeeze=False)
    for axes, variant in zip(rows, variants, strict=True):
        frontier_figure(frontier(res, variant), axes=axes, title=variant)
    fig.tight_layout()
    return fig


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("outdir")
    ap.add_argument("--n-seeds", type=int, default=SETUP["n_seeds"])
    ap.add_argument("--n-steps", type=int, default=SETUP["n_steps"])
    ap.add_argument("--progress", action="store_true")
    ap.add_argument(
        "--redraw", action="store_true", help="redraw frontier.png from frontier.json, no training"
    )
    args = ap.parse_args(argv)
    setup = {**SETUP, "n_seeds": args.n_seeds, "n_steps": args.n_steps}
    out = pathlib.Path(args.outdir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "frontier.json"
    if args.redraw:
        if not path.is_file():
            ap.error(f"--redraw needs the results file {path}; it does not exist.")
        res = json.loads(path.read_text())
    else:
        res = {"setup": setup, "criteria": PRICING_CRITERIA, "variants": {}, "rows": {}}
        for variant in setup["variants"]:
            t0 = time.time()
            f = run_variant(setup, variant, output=out / variant, progress=args.progress)
            res["rows"][variant] = f.rows
            res["variants"][variant] = {
                **summarise(f),
                "legible_loss": {str(k): v for k, v in f.legible_loss.items()},
                "seconds": round(time.time() - t0),  # of this run: resumed prices cost none
                **({"resumed": list(f.resumed)} if f.resumed else {}),
            }
            path.write_text(json.dumps(res, indent=1))
    figure(res).savefig(out / "frontier.png", dpi=110)
    for variant, v in res["variants"].items():
        print(f"[{variant}] {v['legibility']['summary']}")
        print(f"[{variant}] {v['transition']['summary']}")
    return res


if __name__ == "__main__":
    main()
