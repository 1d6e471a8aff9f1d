"""The interference-pricing frontier as a report: a Markdown table with plain-language lines
generated from the numbers, and a figure (``csuper pricing`` writes both).

Every number comes from :func:`csuper.diagnose.frontier_table` (means and Student-t intervals
over seeds, gains paired with the unpriced run of the same seed) and every verdict from
:func:`csuper.diagnose.pricing_verdict`, by the rules of :data:`PRICING_CRITERIA`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from csuper._validation import check_bool
from csuper.diagnose.pricing import (
    PRICING_CRITERIA,
    PricingFrontier,
    frontier_table,
    pricing_verdict,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes
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


def frontier_figure(
    frontier: PricingFrontier,
    *,
    axes: Sequence[Axes] | None = None,
    title: str | None = None,
    symlog: bool = True,
) -> Figure:
    """Draw the frontier, on a new :class:`matplotlib.figure.Figure` or into a pair of axes.

    Left: for every priced cell (price > 0, sparsity), the mean paired dedicated-share gain
    against the mean paired relative loss increase, coloured by sparsity (colour bar beside the
    panel), the marker's area growing with the price's rank in the grid (the legend, below the
    panel, shows the smallest and the largest price), with the region the criterion calls
    cheap (gain >= ``min_share_gain``, loss increase <= ``max_relative_loss`` of
    :data:`PRICING_CRITERIA`) shaded. Right: the mean represented count against sparsity, one
    line per price (lambda = 0 first), and the line y = m. The panels are titled with the
    diagnoses of :func:`csuper.diagnose.pricing_verdict` (legibility left, phase transition
    right). pyplot is not used.

    Parameters
    ----------
    frontier : PricingFrontier
    axes : pair of matplotlib.axes.Axes, optional
        Draw into these (left, right) panels of one figure, e.g. a row of a larger figure
        (``fig.subplots(n, 2)[i]``), and leave its layout to the caller. Default: a new figure
        of its own, laid out tightly.
    title : str, optional
        Prefixed to both panel titles (``"<title>: <diagnosis>"``), e.g. the name of a variant.
    symlog : bool
        Draw the relative loss increase on a symmetric-log axis, linear within
        +-``max_relative_loss`` (the edge of the cheap region, so that region keeps its linear
        scale) and logarithmic beyond, so that strong prices that multiply the loss do not
        squash the cheap region into a line. Where every loss lies within that band the axis is
        the linear one. False: a linear axis throughout.

    Returns
    -------
    matplotlib.figure.Figure
        The new figure, or the one that holds ``axes``.

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> from csuper.toy import TrainSettings
    >>> from csuper.diagnose import pricing_frontier
    >>> f = pricing_frontier(6, 2, sparsities=[0.5, 0.9], prices=[0.0, 1.0], n_seeds=2,
    ...                      settings=TrainSettings(n_steps=50, batch_size=64), n_samples=64,
    ...                      rng=0)
    >>> fig = Figure(figsize=(11, 8))
    >>> rows = fig.subplots(2, 2)
    >>> frontier_figure(f, axes=rows[0], title="linear", symlog=False) is fig
    True
    >>> _ = frontier_figure(f, axes=rows[1], title="symlog")
    >>> rows[1][0].get_yscale(), rows[1][0].get_title().startswith("symlog: ")
    ('symlog', True)
    """
    _check(frontier)
    symlog = check_bool(symlog, "symlog")
    if title is not None and not isinstance(title, str):
        raise TypeError(f"title must be a str or None; got {type(title).__name__}.")
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.ticker import PercentFormatter

    if axes is None:
        fig = Figure(figsize=(11, 4.2))
        left, right = fig.subplots(1, 2)
    else:
        pair = list(axes) if isinstance(axes, Sequence | np.ndarray) else []
        if len(pair) != 2 or not all(isinstance(ax, Axes) for ax in pair):
            raise TypeError(
                "axes must be a pair (left, right) of matplotlib Axes; got "
                f"{type(axes).__name__}{f' of length {len(pair)}' if pair else ''}."
            )
        left, right = pair
        root = left.get_figure(root=True)
        if root is None or right.get_figure(root=True) is not root:
            raise ValueError("axes must be a pair of Axes of one figure; got two figures.")
        fig = root
    table = frontier_table(frontier)
    legibility, transition = pricing_verdict(frontier)
    prefix = "" if title is None else f"{title}: "
    cells = [e for e in table if e["price"] > 0]
    priced = sorted({e["price"] for e in cells})
    size = {price: 16.0 + 14.0 * rank for rank, price in enumerate(priced)}
    drawn = [e["relative_loss"][0] for e in cells]
    sc = left.scatter(
        [e["share_gain"][0] for e in cells],
        drawn,
        s=[size[e["price"]] for e in cells],
        c=[e["sparsity"] for e in cells],
        cmap="viridis",
        vmin=0.0,
        vmax=1.0,
        edgecolors="k",
        linewidths=0.3,
    )
    max_rel = PRICING_CRITERIA["max_relative_loss"]
    low = min([-0.05, *(y for y in drawn if np.isfinite(y))])
    box = left.fill_between(
        [PRICING_CRITERIA["min_share_gain"], 1.05],
        low,
        max_rel,
        color="C2",
        alpha=0.15,
        label="cheap legibility (criterion)",
    )
    if symlog:
        left.set_yscale("symlog", linthresh=max_rel)
    left.yaxis.set_major_formatter(PercentFormatter(xmax=1.0, decimals=0))
    left.set_xlabel("dedicated-share gain over lambda = 0 (paired, mean)")
    left.set_ylabel("relative loss increase (paired, mean)")
    left.set_title(f"{prefix}{legibility.diagnosis}")
    handles = [box] + [
        Line2D(
            [],
            [],
            marker="o",
            ls="",
            color="0.6",
            markeredgecolor="k",
            markeredgewidth=0.3,
            markersize=float(np.sqrt(size[price])),
            label=f"lambda = {price:g}",
        )
        for price in sorted({priced[0], priced[-1]} if priced else set())
    ]
    # below the panel: inside it, even the "best" place hid a point of the paper's frontier
    left.legend(
        handles=handles,
        fontsize=7,
        loc="upper center",
        bbox_to_anchor=(0.5, -0.14),
        ncols=len(handles),
        frameon=False,
    )
    fig.colorbar(sc, ax=left, label="sparsity S")
    for price in sorted({e["price"] for e in table}):
        sel = sorted((e for e in table if e["price"] == price), key=lambda e: e["sparsity"])
        right.plot(
            [e["sparsity"] for e in sel],
            [e["represented"][0] for e in sel],
            "o-",
            ms=4,
            label=f"lambda = {price:g}",
        )
    right.axhline(frontier.setup["n_dims"], color="k", lw=0.8, ls=":", label="m")
    right.set_xlabel("sparsity S")
    right.set_ylabel("represented features (mean over seeds)")
    right.set_title(f"{prefix}{transition.diagnosis}")
    right.legend(fontsize=7, loc="best")
    if axes is None:
        fig.tight_layout()
    return fig
