"""The interference-pricing frontier as a report: a Markdown table with plain-language lines
generated from the numbers, and a figure (``csuper pricing`` writes both).

Every number comes from :func:`csuper.diagnose.frontier_table` (means and Student-t intervals
over seeds, gains paired with the unpriced run of the same seed) and every verdict from
:func:`csuper.diagnose.pricing_verdict`, by the rules of :data:`PRICING_CRITERIA`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from csuper.diagnose.pricing import (
    PRICING_CRITERIA,
    PricingFrontier,
    frontier_table,
    pricing_verdict,
)

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["frontier_report", "frontier_figure"]


def _ci(v: tuple, fmt: str = ".3f") -> str:
    """``mean [low, high]``; the interval is left out when it is undefined (one seed)."""
    mean, lo, hi = v
    if not np.isfinite(mean):
        return "n/a"
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return f"{mean:{fmt}}"
    return f"{mean:{fmt}} [{lo:{fmt}}, {hi:{fmt}}]"


def _check(frontier) -> None:
    if not isinstance(frontier, PricingFrontier):
        raise TypeError(f"frontier must be a PricingFrontier; got {type(frontier).__name__}.")


def _price_line(cells: list[dict]) -> str:
    """One sentence for one price > 0: where it bought the most legibility, and at what loss."""
    best = max(cells, key=lambda e: e["share_gain"][0])
    rel = [e["relative_loss"][0] for e in cells]
    rep = [e["represented"][0] for e in cells]
    if best["share_gain"][0] > 0:
        bought = (
            f"the largest dedicated-share gain is at S = {best['sparsity']:g}, "
            f"{_ci(best['share_gain'], '+.2f')} (share {_ci(best['dedicated_share'], '.2f')}) "
            f"for a relative loss increase of {_ci(best['relative_loss'], '+.1%')}"
        )
    else:
        bought = "the dedicated share gains nothing at any sparsity (mean paired gain <= 0)"
    return (
        f"- lambda = {best['price']:g}: {bought}; over the sparsities the loss changes by "
        f"{min(rel):+.1%} to {max(rel):+.1%} and the mean represented count ranges "
        f"{min(rep):.1f} to {max(rep):.1f}."
    )


def frontier_report(frontier: PricingFrontier) -> str:
    """The frontier as Markdown: setup, the two verdicts, one line per price, the full table.

    Parameters
    ----------
    frontier : PricingFrontier
        From :func:`csuper.diagnose.pricing_frontier`.

    Returns
    -------
    str
        Markdown. The table holds, per (price, sparsity), the mean and the Student-t interval
        over seeds (level ``PRICING_CRITERIA["confidence"]``) of the held-out loss, its paired
        relative increase over lambda = 0, the dedicated share and its paired gain, the
        represented count, the interference, and the loss over the best fully legible code's;
        for ``hidden_relu`` models also the share of monosemantic neurons among live ones.

    Examples
    --------
    >>> from csuper.toy import TrainSettings
    >>> from csuper.diagnose import pricing_frontier
    >>> f = pricing_frontier(6, 2, sparsities=[0.9], prices=[0.0, 1.0], n_seeds=2,
    ...                      settings=TrainSettings(n_steps=50, batch_size=64), n_samples=64,
    ...                      rng=0)
    >>> frontier_report(f).splitlines()[0]
    '# Interference-pricing frontier'
    """
    _check(frontier)
    table = frontier_table(frontier)
    legibility, transition = pricing_verdict(frontier)
    setup = frontier.setup
    kind = "co-activation weighted" if setup["coactivation_weighted"] else "plain"
    st = setup["settings"]
    conf = PRICING_CRITERIA["confidence"]
    lines = [
        "# Interference-pricing frontier",
        "",
        f"Toy model `{st['model']}`, n = {setup['n_features']} features, m = {setup['n_dims']} "
        f"dimensions, the {kind} price lambda * sum_(i != j) c_ij (w_i . w_j)^2 "
        f"({'c_ij the co-activation rate' if setup['coactivation_weighted'] else 'c_ij = 1'}); "
        f"{setup['n_seeds']} seeds per sparsity, the same at every price (gains are paired by "
        f"seed); {st['n_steps']} steps of batch {st['batch_size']} at lr {st['lr']:g}; loss on "
        f"{setup['n_samples']} held-out samples per model, the price excluded. Intervals: "
        f"Student-t, {conf:.0%}, over seeds.",
        "",
        "Criteria, fixed in code before the run (`csuper.diagnose.PRICING_CRITERIA`): a "
        f"represented feature (|w_i| > 0.5) is dedicated when D_i >= "
        f"{PRICING_CRITERIA['dedicated_threshold']:g}; a price buys legibility cheaply when the "
        f"paired share gain's lower end is >= {PRICING_CRITERIA['min_share_gain']:g} while the "
        f"relative loss increase's upper end is <= {PRICING_CRITERIA['max_relative_loss']:.0%}; "
        "superposition starts at the smallest sparsity whose represented count lies above "
        f"m + {PRICING_CRITERIA['transition_margin']:g}.",
        "",
        "## Verdicts",
        "",
        f"- **{legibility.diagnosis}.** {legibility.summary}",
        f"- **{transition.diagnosis}.** {transition.summary}",
        "",
        "## What each price does",
        "",
    ]
    priced = sorted({e["price"] for e in table if e["price"] > 0})
    for price in priced:
        lines.append(_price_line([e for e in table if e["price"] == price]))
    if not priced:
        lines.append("- Only lambda = 0 was run: there is nothing to compare.")
    neurons = all("monosemantic_neuron_share" in e for e in table)  # hidden_relu models
    lines += [
        "",
        "## Frontier",
        "",
        "| lambda | S | loss | relative loss (paired) | dedicated share | share gain (paired) "
        "| represented | interference | loss / legible |"
        + (" monosemantic neurons |" if neurons else ""),
        "|---|---|---|---|---|---|---|---|---|" + ("---|" if neurons else ""),
    ]
    for e in table:
        lines.append(
            f"| {e['price']:g} | {e['sparsity']:g} | {_ci(e['loss'], '.4g')} "
            f"| {_ci(e['relative_loss'], '+.1%')} | {_ci(e['dedicated_share'], '.2f')} "
            f"| {_ci(e['share_gain'], '+.2f')} | {_ci(e['represented'], '.1f')} "
            f"| {_ci(e['interference'], '.3f')} | {e['legible_ratio']:.2f} |"
            + (f" {_ci(e['monosemantic_neuron_share'], '.2f')} |" if neurons else "")
        )
    lines += [
        "",
        "The legible code is the best one whose represented features all own a dimension (the m "
        "most important features on their own axes): loss / legible below 1 beats every fully "
        "legible code. A dedicated share with no represented feature counts as 0 in the gains.",
        "",
    ]
    return "\n".join(lines)


def frontier_figure(frontier: PricingFrontier) -> Figure:
    """Draw the frontier on a new :class:`matplotlib.figure.Figure` (pyplot is not used).

    Left: for every priced cell (price > 0, sparsity), the mean paired dedicated-share gain
    against the mean paired relative loss increase, coloured by sparsity, with the region the
    criterion calls cheap shaded. Right: the mean represented count against sparsity, one line
    per price (lambda = 0 first), and the line y = m.

    Parameters
    ----------
    frontier : PricingFrontier

    Returns
    -------
    matplotlib.figure.Figure
    """
    _check(frontier)
    from matplotlib.figure import Figure

    table = frontier_table(frontier)
    fig = Figure(figsize=(11, 4.2))
    left, right = fig.subplots(1, 2)
    cells = [e for e in table if e["price"] > 0]
    drawn = [e["relative_loss"][0] for e in cells]
    sc = left.scatter(
        [e["share_gain"][0] for e in cells],
        drawn,
        c=[e["sparsity"] for e in cells],
        cmap="viridis",
        vmin=0.0,
        vmax=1.0,
    )
    low = min([-0.05, *(y for y in drawn if np.isfinite(y))])
    left.fill_between(
        [PRICING_CRITERIA["min_share_gain"], 1.05],
        low,
        PRICING_CRITERIA["max_relative_loss"],
        color="C2",
        alpha=0.15,
        label="cheap legibility (criterion)",
    )
    left.set_xlabel("dedicated-share gain over lambda = 0 (paired, mean)")
    left.set_ylabel("relative loss increase (paired, mean)")
    left.set_title("what a price buys, and what it costs")
    left.legend(fontsize=7, loc="best")  # not over a point (upper left hid one at gain 0)
    fig.colorbar(sc, ax=left, label="sparsity S")
    for price in sorted({e["price"] for e in table}):
        sel = sorted((e for e in table if e["price"] == price), key=lambda e: e["sparsity"])
        right.plot(
            [e["sparsity"] for e in sel],
            [e["represented"][0] for e in sel],
            "o-",
            label=f"lambda = {price:g}",
        )
    right.axhline(frontier.setup["n_dims"], color="k", lw=0.8, ls=":", label="m")
    right.set_xlabel("sparsity S")
    right.set_ylabel("represented features (mean over seeds)")
    right.set_title("superposition: represented count against m")
    right.legend(fontsize=7)
    fig.tight_layout()
    return fig
