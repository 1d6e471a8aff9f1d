"""Figures of a study report, one per question, drawn from its answer.

Every figure is a :class:`matplotlib.figure.Figure` built without pyplot, so drawing a report
never touches the caller's backend or pyplot's figure list (a notebook keeps its plots). Axes
carry labels with units, every mark has a legend entry, and error bars show the intervals the
report states. :data:`FIGURES` maps a question id to its drawing function.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from csuper._lazy import lazy_import
from csuper.study.questions import MONOSEMANTIC_ABOVE, QuestionResult

if TYPE_CHECKING:
    from matplotlib.figure import Figure

_figure = lazy_import("matplotlib.figure")

__all__ = ["FIGURES", "draw", "save_figure"]

_MARKERS = "osD^v<>pX*"


def _yerr(estimates) -> np.ndarray:
    """Asymmetric error bars (2, k) from Estimates (0 where an interval is undefined)."""
    lo = [e.value - e.low if math.isfinite(e.low) else 0.0 for e in estimates]
    hi = [e.high - e.value if math.isfinite(e.high) else 0.0 for e in estimates]
    return np.array([lo, hi])


def _reference_grid(x: np.ndarray) -> np.ndarray:
    """A dense geometric grid over the data's x range (lines are drawn on it, never from two
    end points on a log axis)."""
    lo, hi = float(np.min(x)), float(np.max(x))
    return np.geomspace(lo / 2, hi * 2, 400)


def _q1(result: QuestionResult, config) -> Figure | None:
    from csuper.compare import SCALING_LAWS

    if "constant" not in result.data:
        return None
    fig = _figure.Figure(figsize=(11, 4.2))
    a, b = fig.subplots(1, 2)
    xs_all = []
    for j, (arm, d) in enumerate(sorted(result.data.items())):
        models = d["models"]
        x = np.array([m.cs_capacity / m.n_features for m in models])
        y = [np.array([r.recovered / m.n_features for r in m.replicates]) for m in models]
        mean = np.array([v.mean() for v in y])
        se = np.array([v.std(ddof=1) / np.sqrt(v.size) if v.size > 1 else 0.0 for v in y])
        a.errorbar(
            x,
            mean,
            yerr=se,
            fmt=_MARKERS[j],
            ms=5,
            capsize=2,
            alpha=0.85,
            label=f"{arm} importance (mean +- SE over seeds)",
        )
        xs_all.append(x)
        fit = d["fit"]
        law = fit.laws[d["cs"]]
        resid = []
        for m in models:
            pred = min(
                float(m.n_features),
                law.coefficient
                * float(
                    SCALING_LAWS[d["cs"]].regressor(
                        np.array([float(m.n_features)]),
                        np.array([float(m.n_dims)]),
                        np.array([m.feature_probability]),
                    )[0]
                ),
            )
            resid.append(np.array([r.recovered - pred for r in m.replicates]))
        b.errorbar(
            [m.n_features * (1.0 + 0.03 * j) for m in models],
            [v.mean() for v in resid],
            yerr=[v.std(ddof=1) / np.sqrt(v.size) if v.size > 1 else 0.0 for v in resid],
            fmt=_MARKERS[j],
            ms=5,
            capsize=2,
            alpha=0.85,
            label=f"{arm}: residual of {d['cs']} fit",
        )
    grid = _reference_grid(np.concatenate(xs_all))
    a.plot(grid, np.minimum(grid, 1.0), "k--", lw=1, label="recovered = CS capacity, min(x, 1)")
    coef = result.data["constant"]["fit"].laws["statistical_dimension"].coefficient
    a.plot(
        grid,
        np.minimum(coef * grid, 1.0),
        "r:",
        lw=1.2,
        label=f"fit (constant arm): min({coef:.2f} x, 1)",
    )
    a.set_xscale("log")
    a.set_xlabel("CS capacity per feature, m / (psi(p) n) (Amelunxen et al. approximation)")
    a.set_ylabel("fraction of features recovered")
    a.set_title("recovered features against compressed-sensing capacity")
    a.legend(fontsize=7)
    b.axhline(0.0, color="grey", lw=0.8, label="no residual")
    b.set_xscale("log")
    b.set_xlabel("n (features)")
    b.set_ylabel("residual (features recovered)")
    b.set_title("misspecification check: residuals against n")
    b.legend(fontsize=7)
    fig.tight_layout()
    return fig


def _q2(result: QuestionResult, config) -> Figure | None:
    rows = [r for r in result.data.get("rows", []) if r["arm"] == "noiseless"]
    if not rows:
        return None
    fig = _figure.Figure(figsize=(11, 4.2))
    a, b = fig.subplots(1, 2)
    names = list(dict.fromkeys(r["decoder"] for r in rows))
    never: list[str] = []
    for j, name in enumerate(names):
        sel = sorted((r for r in rows if r["decoder"] == name), key=lambda r: r["m_over_mstar"])
        a.errorbar(
            [r["m_over_mstar"] * (1.0 + 0.05 * (j - len(names) / 2)) for r in sel],
            [max(r["relative_mse"], 1e-6) for r in sel],
            yerr=[np.nan_to_num(r["relative_mse_se"]) for r in sel],
            fmt=_MARKERS[j % len(_MARKERS)],
            color=f"C{j}",
            ms=4,
            capsize=2,
            alpha=0.8,
            label=name,
        )
        strata = [
            s for s in result.data["strata"] if s["arm"] == "noiseless" and s["decoder"] == name
        ]
        if all(s["exact_rate"] == 0.0 for s in strata):
            never.append(name)
            continue
        b.errorbar(
            [s["active"] + 0.06 * (j - len(names) / 2) for s in strata],
            [s["exact_rate"] for s in strata],
            yerr=[s["exact_se"] for s in strata],
            fmt=_MARKERS[j % len(_MARKERS)] + "-",
            color=f"C{j}",
            ms=4,
            capsize=2,
            alpha=0.8,
            label=name,
        )
    a.axvline(1.0, color="grey", lw=0.7, ls="--", label="m = m*_A")
    a.set_xscale("log")
    a.set_yscale("log")
    a.set_xlabel("m / m*_A(n, k) (measurements over the l1 threshold)")
    a.set_ylabel("relative MSE (inputs with an active feature; floor 1e-6)")
    a.set_title("decoders of the same measurements h = W x")
    a.legend(fontsize=7)
    if never:
        b.axhline(
            0.0,
            color="grey",
            lw=2,
            alpha=0.5,
            label="exactly 0 at every count: " + ", ".join(never),
        )
    b.set_xlabel("realised number of active features")
    b.set_ylabel("exact-recovery rate (relative error < 1e-4)")
    b.set_ylim(-0.05, 1.05)
    b.set_title("exact recovery by active count (pooled models)")
    b.legend(fontsize=7)
    fig.tight_layout()
    return fig


def _q3(result: QuestionResult, config) -> Figure | None:
    points = result.data.get("points")
    if not points:
        return None
    fig = _figure.Figure(figsize=(11, 4.2))
    a, b = fig.subplots(1, 2)
    D, C, P = (np.array(v) for v in zip(*points))
    for j, p in enumerate(sorted(set(P.tolist()), reverse=True)):
        sel = P == p
        a.plot(C[sel], D[sel], _MARKERS[j % len(_MARKERS)], ms=3, alpha=0.5, label=f"p = {p:.3g}")
    a.plot([0, 1], [0, 1], "k--", lw=1, label="learned = predicted")
    a.set_xlabel("predicted capacity C_i (Lagrangian allocation, dimensions)")
    a.set_ylabel("learned D_i (dimensions)")
    a.set_title("represented features of the decaying-importance models")
    a.legend(fontsize=7)
    mae = result.data["mae"]
    names = list(mae)
    est = [mae[k] for k in names]
    b.bar(
        range(len(names)),
        [e.value for e in est],
        yerr=_yerr(est),
        capsize=4,
        color="C0",
        label="mean |D_i - C_i| (95 % CI)",
    )
    b.set_xticks(range(len(names)), names)
    b.set_ylabel("mean |D_i - C_i| over represented features (dimensions)")
    b.set_title("Lagrangian allocation against the null allocations")
    b.legend(fontsize=7)
    fig.tight_layout()
    return fig


def _q4(result: QuestionResult, config) -> Figure | None:
    from csuper.compare import TRANSITIONS

    recs = result.data.get("records")
    if not recs:
        return None
    fig = _figure.Figure(figsize=(6.2 * len(recs), 6.4))
    axes = np.atleast_1d(fig.subplots(1, len(recs)))
    thr = {"ignored_to_superposed": "C1", "superposed_to_own": "C0"}
    for ax, rec in zip(axes, recs):
        values = np.array(rec.values)
        D, N = np.array(rec.learned_capacity), np.array(rec.norm)
        for t, colour in thr.items():
            high = TRANSITIONS[t].higher(D, N, MONOSEMANTIC_ABOVE, config.represented_threshold)
            ax.plot(
                values,
                high.mean(axis=1),
                "o-",
                color=colour,
                ms=4,
                label=f"{t.replace('_', ' ')}: cold replicates in the higher state",
            )
            loc = next((x for x in rec.located if x.transition == t), None)
            if loc is None:
                continue
            extra = [e for e in loc.evaluated if e["value"] not in set(values.tolist())]
            if extra:
                ax.plot(
                    [e["value"] for e in extra],
                    [e["fraction_higher"] for e in extra],
                    "x",
                    color=colour,
                    ms=6,
                    label=f"{t.replace('_', ' ')}: bisection points",
                )
            if loc.bracketed:
                ax.axvspan(
                    loc.low,
                    loc.high,
                    color=colour,
                    alpha=0.2,
                    label=f"{t.replace('_', ' ')}: located bracket",
                )
            if loc.predicted is not None:
                ax.axvline(
                    loc.predicted,
                    color=colour,
                    ls="--",
                    lw=1,
                    label=f"{t.replace('_', ' ')}: Lagrangian prediction",
                )
            for legs in rec.legs:
                if legs.transition != t:
                    continue
                ax.plot(
                    legs.values,
                    legs.up,
                    "^:",
                    color=colour,
                    ms=4,
                    alpha=0.8,
                    label=f"{t.replace('_', ' ')}: warm up, chains higher",
                )
                ax.plot(
                    legs.values,
                    legs.down,
                    "v:",
                    color=colour,
                    ms=4,
                    alpha=0.8,
                    label=f"{t.replace('_', ' ')}: warm down, chains higher",
                )
        ax.set_xscale("log")
        ax.set_ylim(-0.05, 1.05)
        ax.set_xlabel(f"{rec.parameter} of feature 0 (others: importance 1, S = {rec.sparsity:g})")
        ax.set_ylabel("fraction of replicates in the higher state")
        ax.set_title(f"{rec.parameter} sweep (n = {rec.n_features}, m = {rec.n_dims})")
        ax.legend(fontsize=6, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2)
    fig.tight_layout()
    return fig


def _q5(result: QuestionResult, config) -> Figure | None:
    per = result.data.get("per")
    if not per:
        return None
    fig = _figure.Figure(figsize=(11, 4.2))
    a, b = fig.subplots(1, 2)
    x = np.array([p["inverse_p"] for p in per])
    rec = [p["recovered"] for p in per]
    a.errorbar(
        x,
        [e.value for e in rec],
        yerr=_yerr(rec),
        fmt="o-",
        capsize=3,
        label="fraction recovered (95 % CI)",
    )
    a.plot(x * 1.03, [p["represented"] for p in per], "s:", label="fraction represented (mean)")
    n, m = result.data["n"], result.data["m"]
    a.axhline(m / n, color="grey", ls="--", lw=1, label="null: one feature per dimension, m/n")
    a.set_xscale("log")
    a.set_xlabel("1 / (1 - S) (inverse feature probability)")
    a.set_ylabel("fraction of features")
    a.set_title(f"sparsity sweep, n = {n}, m = {m}, constant importance")
    a.legend(fontsize=7)
    ds = [p["dstar"] for p in per]
    b.errorbar(
        x,
        [e.value for e in ds],
        yerr=_yerr(ds),
        fmt="o-",
        capsize=3,
        color="C2",
        label="D* = m / |W|_F^2 (95 % CI)",
    )
    b.set_xscale("log")
    b.set_xlabel("1 / (1 - S) (inverse feature probability)")
    b.set_ylabel("dimensions per feature D*")
    b.set_title("dimensions per feature")
    b.legend(fontsize=7)
    fig.tight_layout()
    return fig


def _q6(result: QuestionResult, config) -> Figure | None:
    per = result.data.get("per")
    if not per:
        return None
    fig = _figure.Figure(figsize=(11, 4.2))
    a, b = fig.subplots(1, 2)
    m = np.array([p["n_dims"] for p in per])
    mono = [p["mono"] for p in per]
    a.errorbar(
        m,
        [e.value for e in mono],
        yerr=_yerr(mono),
        fmt="o-",
        capsize=3,
        label="monosemantic fraction (95 % CI)",
    )
    a.set_xscale("log", base=2)
    a.set_xlabel(f"m (hidden dimensions), n = {config.size_features_per_dim} m")
    a.set_ylabel(f"fraction of represented features with D_i > {MONOSEMANTIC_ABOVE:g}")
    a.set_title("bigger is cleaner?")
    a.set_ylim(-0.05, 1.05)
    a.legend(fontsize=7)
    ratio = [p["overlap_ratio"] for p in per]
    b.errorbar(
        m,
        [r[0] for r in ratio],
        yerr=[np.nan_to_num(r[1]) for r in ratio],
        fmt="s-",
        capsize=3,
        color="C1",
        label="mean squared overlap / Welch value (mean +- SE)",
    )
    b.axhline(1.0, color="grey", ls="--", lw=1, label="Welch bound (equiangular)")
    b.set_xscale("log", base=2)
    b.set_xlabel("m (hidden dimensions)")
    b.set_ylabel("mean squared cosine / (n_rep - m) / (m (n_rep - 1))")
    b.set_title("overlap among represented features")
    b.legend(fontsize=7)
    fig.tight_layout()
    return fig


def _q7(result: QuestionResult, config) -> Figure | None:
    means = result.data.get("means")
    if not means:
        return None
    fig = _figure.Figure(figsize=(5.5, 4.2))
    ax = fig.subplots()
    names = list(means)
    est = [means[k] for k in names]
    ax.bar(
        range(len(names)),
        [e.value for e in est],
        yerr=_yerr(est),
        capsize=4,
        label="mean cos^2 within pairs (95 % CI)",
    )
    ax.set_xticks(range(len(names)), names)
    ax.set_ylabel("squared cosine between pair members")
    ax.set_title("interference within pairs of features")
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def _q8(result: QuestionResult, config) -> Figure | None:
    points = result.data.get("points")
    if not points:
        return None
    fig = _figure.Figure(figsize=(7, 4.2))
    ax = fig.subplots()
    variants = list(dict.fromkeys(v for _, v, _ in points))
    sparsities = sorted({s for s, _, _ in points})
    width = 0.8 / max(len(sparsities), 1)
    for j, s in enumerate(sparsities):
        est = [next(e for s2, v2, e in points if s2 == s and v2 == v) for v in variants]
        ax.bar(
            np.arange(len(variants)) + j * width,
            [e.value for e in est],
            width,
            yerr=_yerr(est),
            capsize=3,
            label=f"S = {s:g} (95 % CI)",
        )
    ax.set_xticks(np.arange(len(variants)) + width * (len(sparsities) - 1) / 2, variants)
    ax.set_ylabel("fraction of features recovered")
    ax.set_title("headline number under other training settings")
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


#: Figure of each question (question id -> function(result, config) -> Figure or None).
FIGURES: dict[str, Callable[[QuestionResult, object], Figure | None]] = {
    "Q1": _q1,
    "Q2": _q2,
    "Q3": _q3,
    "Q4": _q4,
    "Q5": _q5,
    "Q6": _q6,
    "Q7": _q7,
    "Q8": _q8,
}


def draw(result: QuestionResult, config) -> Figure | None:
    """The figure of one answered question (None when it has nothing to draw)."""
    from matplotlib.ticker import NullFormatter

    fig = FIGURES[result.qid](result, config)
    if fig is not None:
        for ax in fig.axes:  # label the decades only: minor labels on a log axis overlap
            for axis, scale in ((ax.xaxis, ax.get_xscale()), (ax.yaxis, ax.get_yscale())):
                if scale == "log":
                    axis.set_minor_formatter(NullFormatter())
    return fig


def save_figure(fig: Figure, path: Path) -> None:
    """Write a figure as PNG (Agg canvas of the figure itself; no pyplot, no backend change)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    fig.savefig(path, dpi=110)
