"""Tables, figures, headline numbers and the Markdown report of a study, from its records.

Everything here is a pure function of the stored records (:mod:`csuper.study.tasks`), so a
report can be rebuilt at any time from a study folder, and an interrupted study's report is
rebuilt from what finished once the rest has run.

Layout written by :func:`write_report` into the study folder::

    report.md            the report (figures linked from figures/)
    study.json           config, versions, timings and the headline summary
    tables/*.csv, *.json tidy tables (each JSON also carries the config and versions)
    figures/*.png
"""

from __future__ import annotations

import csv
import json
import math
import os
import platform
import warnings
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["versions", "build_tables", "headline", "write_report", "format_summary"]


def versions() -> dict[str, str]:
    """Versions of csuper, Python and the numerical stack, and the platform."""
    from importlib.metadata import PackageNotFoundError, version

    import csuper

    out = {"csuper": csuper.__version__, "python": platform.python_version()}
    for pkg in ("numpy", "scipy", "numba", "cvxpy", "matplotlib"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:  # pragma: no cover - every one is a dependency
            out[pkg] = "not installed"
    out["platform"] = platform.platform()
    out["cpus"] = str(os.cpu_count())
    return out


# -- tables --------------------------------------------------------------------------------------


def _models(records: list[dict]) -> list[dict]:
    return [r for r in records if r["kind"] == "model"]


def build_tables(records: list[dict]) -> dict[str, Any]:
    """Tidy tables of a study: ``models``, ``decoders``, ``capacities``, ``scaling_fit``,
    ``transitions`` and ``transition_points`` (lists of flat dicts), plus ``scaling`` (the
    :class:`csuper.compare.ScalingFit` or None), ``dead_legs`` (warm-start legs on which the
    swept feature never got a direction) and ``notes`` (warnings met on the way)."""
    from csuper.compare import fit_scaling
    from csuper.toy import dimensions_per_feature

    models = _models(records)
    notes: list[str] = []
    model_rows, decoder_rows, capacity_rows = [], [], []
    for rec in models:
        sc, cs = rec["scaling"], rec["capacity_summary"]
        m_over = sc["n_dims"] / sc["threshold"] if sc["threshold"] > 0 else math.inf
        W = np.asarray(rec["W"])
        model_rows.append(
            {
                "n_features": sc["n_features"],
                "n_dims": sc["n_dims"],
                "sparsity": rec["sparsity"],
                "feature_probability": rec["feature_probability"],
                "k": sc["k"],
                "threshold_mstar": sc["threshold"],
                "m_over_mstar": m_over,
                "klogk": sc["klogk"],
                "two_klogk": sc["two_klogk"],
                "cs_capacity": sc["cs_capacity"],
                "represented": sc["represented"],
                "represented_over_capacity": sc["represented"] / sc["cs_capacity"]
                if sc["cs_capacity"]
                else math.nan,
                "final_loss": rec["final_loss"],
                "dimensions_per_feature": dimensions_per_feature(W) if np.any(W) else math.nan,
                "learned_budget": cs["learned_budget"],
                "predicted_budget": cs["predicted_budget"],
                "capacity_agreement": cs["agreement"],
                "shadow_price": cs["shadow_price"],
                "coherence_learned": rec["frame_coherence"].get("learned", math.nan),
                "welch_bound": rec["frame_coherence"].get("welch", math.nan),
                "seconds": rec.get("seconds", math.nan),
            }
        )
        for row in rec["decoders"]:
            decoder_rows.append(
                {
                    "n_dims": sc["n_dims"],
                    "sparsity": rec["sparsity"],
                    "m_over_mstar": m_over,
                    **{
                        k: row[k]
                        for k in (
                            "decoder",
                            "relative_mse",
                            "exact_rate",
                            "exact_se",
                            "n_samples",
                            "n_failed",
                        )
                    },
                }
            )
        for row in rec["capacity"]:
            capacity_rows.append(
                {
                    "n_dims": sc["n_dims"],
                    "sparsity": rec["sparsity"],
                    "importance": rec["importance"][row["feature"]],
                    **row,
                }
            )
    fit = None
    fit_rows: list[dict] = []
    if len(models) >= 3:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            fit = fit_scaling(
                [r["n_features"] for r in model_rows],
                [r["n_dims"] for r in model_rows],
                [r["k"] for r in model_rows],
                [r["represented"] for r in model_rows],
            )
        notes += [f"scaling fit: {w.message}" for w in caught]
        fit_rows = [
            {
                "law": f.name,
                "description": f.description,
                "coefficient": f.coefficient,
                "se": f.se,
                "rms": f.rms,
                "aic": f.aic,
                "delta_aic": f.delta_aic,
                "loglog_slope": f.slope,
                "loglog_slope_se": f.slope_se,
                "best": f.name == fit.best,
            }
            for f in fit.laws.values()
        ]
    else:
        notes.append(f"scaling fit: needs at least 3 models, the study has {len(models)}.")
    transition_rows, point_rows, dead_legs = [], [], []
    for rec in records:
        if rec["kind"] != "transition":
            continue
        for name, t in rec["transitions"].items():
            transition_rows.append(
                {
                    "parameter": rec["parameter"],
                    "transition": name,
                    **t,
                    "missing": _why_missing(rec["series"], name, t),
                }
            )
        point_rows += rec["table"]
        dead_legs += _dead_legs(rec)
    return {
        "models": model_rows,
        "decoders": decoder_rows,
        "capacities": capacity_rows,
        "scaling_fit": fit_rows,
        "transitions": transition_rows,
        "transition_points": point_rows,
        "dead_legs": dead_legs,
        "scaling": fit,
        "notes": notes,
    }


def _why_missing(series: dict, transition: str, located: dict) -> str:
    """Say, from the series themselves, why a transition was not located (empty if it was).

    A transition is the first upward crossing of a threshold inside the sweep; it is missing
    when the series is already above the threshold at the first point, or never reaches it.
    """
    if transition == "superposed_to_own":
        field, thr, what = "learned_capacity", series["monosemantic_above"], "D_0"
        pred_thr = series["monosemantic_above"]
    else:
        field, thr, what = "norm", series["represented_threshold"], "|w_0|"
        pred_thr = 1e-6
    curves = {"learned": series[field], "predicted": series["prediction_curve"]}
    for direction in ("up", "down"):
        if f"learned_{direction}" in located:
            curves[f"learned_{direction}"] = series["warm"][direction][field]
    reasons = []
    for key, values in curves.items():
        value = located.get(key)
        if value is None or not (isinstance(value, float) and math.isnan(value)):
            continue
        t = pred_thr if key == "predicted" else thr
        name = "C_0" if key == "predicted" else what
        v = np.asarray(values, dtype=float)
        if key == "learned_down":
            v = v[::-1]  # trained from the top of the sweep down
        label = {
            "learned": "cold",
            "predicted": "predicted",
            "learned_up": "warm up",
            "learned_down": "warm down",
        }[key]
        if v.size and v[0] > t:
            reasons.append(f"{label}: {name} already above {t:g} at the first point")
            continue
        reasons.append(f"{label}: {name} never reaches {t:g} (max {np.nanmax(v):.3g})")
    return "; ".join(reasons)


def _dead_legs(rec: dict) -> list[str]:
    """Warm-start legs on which feature 0 never got a direction (|w_0| < 0.1 at every point),
    with what its bias did meanwhile (computed, not assumed)."""
    out = []
    s = rec["series"]
    mean = np.asarray(s["mean_x0"], dtype=float)
    for direction in ("up", "down"):
        warm = s["warm"][direction]
        norm, bias = np.asarray(warm["norm"], dtype=float), np.asarray(warm["bias"], dtype=float)
        if np.max(norm) >= 0.1:
            continue
        text = (
            f"{rec['parameter']} sweep, warm {direction}: feature 0 never got a direction "
            f"(|w_0| <= {np.max(norm):.2g} at every point)"
        )
        gap = np.abs(bias - mean)
        if np.all(gap <= 0.2 * mean):
            text += (
                f"; its bias tracked its mean, |b_0 - E[x_0]| <= {np.max(gap):.2g} with "
                "E[x_0] = p_0/2: it predicts its mean, a stationary point that warm starts "
                "did not leave"
            )
        out.append(text + ".")
    return out


def _mean(values) -> float:
    values = [v for v in values if not (isinstance(v, float) and math.isnan(v))]
    return float(np.mean(values)) if values else math.nan


def headline(tables: dict[str, Any]) -> dict[str, Any]:
    """The study's headline numbers (all computed from the tables)."""
    out: dict[str, Any] = {"models": len(tables["models"])}
    fit = tables["scaling"]
    if fit is not None:
        best = fit.laws[fit.best]
        out["scaling"] = {
            "best_law": fit.best,
            "coefficient": best.coefficient,
            "se": best.se,
            "rms": best.rms,
            "verdict": fit.verdict,
        }
    # the one-coefficient fit can hide a change of regime: the ratio per sparsity, over the
    # models that do not represent every feature (a saturated count says nothing of capacity)
    ratios: dict[float, list] = {}
    for row in tables["models"]:
        if row["represented"] < row["n_features"]:
            ratios.setdefault(row["sparsity"], []).append(row["represented_over_capacity"])
    out["represented_over_capacity"] = {
        f"{s:g}": float(np.median(v)) for s, v in sorted(ratios.items())
    }
    dec: dict[str, dict] = {}
    for row in tables["decoders"]:
        side = "above_threshold" if row["m_over_mstar"] >= 1.0 else "below_threshold"
        d = dec.setdefault(
            row["decoder"], {"above_threshold": [], "below_threshold": [], "mse": []}
        )
        d[side].append(row["exact_rate"])
        d["mse"].append(row["relative_mse"])
    out["decoder_gap"] = {
        name: {
            "exact_rate_above_threshold": _mean(d["above_threshold"]),
            "exact_rate_below_threshold": _mean(d["below_threshold"]),
            "models_above_threshold": len(d["above_threshold"]),
            "median_relative_mse": float(np.median(d["mse"])),
        }
        for name, d in dec.items()
    }
    caps = tables["capacities"]
    if caps:
        mods = tables["models"]
        out["capacity"] = {
            "features": len(caps),
            "class_agreement": float(np.mean([r["agree"] for r in caps])),
            "mean_abs_capacity_error": float(
                np.mean([abs(r["learned_capacity"] - r["predicted_capacity"]) for r in caps])
            ),
            "mean_budget_used": float(np.mean([r["learned_budget"] / r["n_dims"] for r in mods])),
        }
    out["warm_legs"] = 2 * len({row["parameter"] for row in tables["transitions"]})
    out["dead_warm_legs"] = len(tables["dead_legs"])
    out["transitions"] = [
        {
            k: row[k]
            for k in (
                "parameter",
                "transition",
                "learned",
                "predicted",
                "learned_up",
                "learned_down",
                "hysteresis",
                "hysteresis_cold",
                "missing",
            )
            if k in row
        }
        for row in tables["transitions"]
    ]
    return out


def format_summary(summary: dict[str, Any]) -> str:
    """The headline numbers as a few lines of text (printed by ``csuper study``)."""
    lines = [f"Models trained: {summary['models']}."]
    if "scaling" in summary:
        lines.append(f"Scaling: {summary['scaling']['verdict']}")
    if summary.get("represented_over_capacity"):
        lines.append(
            "Represented / CS capacity by sparsity (median over unsaturated models): "
            + ", ".join(f"S={s} {v:.2f}" for s, v in summary["represented_over_capacity"].items())
            + "."
        )
    dec = summary.get("decoder_gap", {})
    if dec:
        parts = []
        for name, d in dec.items():
            parts.append(
                f"{name} {_fmt(d['exact_rate_above_threshold'])}/"
                f"{_fmt(d['exact_rate_below_threshold'])}"
            )
        lines.append(
            "Decoder gap, exact-recovery rate at m >= m* / m < m*: " + ", ".join(parts) + "."
        )
        lines.append(
            "Decoder gap, median relative MSE: "
            + ", ".join(f"{name} {d['median_relative_mse']:.3g}" for name, d in dec.items())
            + "."
        )
    if "capacity" in summary:
        c = summary["capacity"]
        lines.append(
            f"Capacity: the Lagrangian allocation predicts the class (monosemantic / "
            f"fractional / ignored) of {100 * c['class_agreement']:.0f}% of "
            f"{c['features']} features; mean |C_i - D_i| = {c['mean_abs_capacity_error']:.3f}; "
            f"models use {100 * c['mean_budget_used']:.0f}% of the budget sum D_i <= m."
        )
    for t in summary.get("transitions", []):
        extra = ""
        if "hysteresis" in t:
            extra = (
                f", warm up {_fmt(t['learned_up'])} / down {_fmt(t['learned_down'])}, "
                f"hysteresis up-down {_fmt(t['hysteresis'])}, cold-down "
                f"{_fmt(t.get('hysteresis_cold'))}"
            )
        lines.append(
            f"Transition ({t['parameter']}, {t['transition'].replace('_', ' ')}): learned "
            f"{_fmt(t['learned'])} (cold){extra}; predicted {_fmt(t['predicted'])}."
            + (f" [n/a: {t['missing']}]" if t.get("missing") else "")
        )
    if summary.get("dead_warm_legs"):
        lines.append(
            f"Warm starts: the swept feature never got a direction on "
            f"{summary['dead_warm_legs']} of {summary['warm_legs']} warm "
            "legs (see the report's section 4)."
        )
    return "\n".join(lines)


def _fmt(x: float) -> str:
    return "n/a" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.3g}"


# -- files ---------------------------------------------------------------------------------------


def _clean(obj: Any) -> Any:
    """JSON-safe copy: NaN and infinities become None (standard JSON has neither)."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    if isinstance(obj, np.generic):
        return _clean(obj.item())
    return obj


def _write_text(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _write_table(folder: Path, name: str, rows: list[dict], meta: dict) -> None:
    if rows:
        tmp = folder / f"{name}.csv.tmp"
        with open(tmp, "w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
        os.replace(tmp, folder / f"{name}.csv")
    _write_text(
        folder / f"{name}.json", json.dumps(_clean({**meta, "table": name, "rows": rows}), indent=1)
    )


def _cell(text: str) -> str:
    """Markdown table cell: a literal | (as in |w_0|) must not end the cell."""
    return text.replace("|", "\\|")


def _md_table(rows: list[dict], columns: list[tuple[str, str]]) -> str:
    head = "| " + " | ".join(_cell(label) for _, label in columns) + " |"
    rule = "|" + "|".join("---" for _ in columns) + "|"
    body = []
    for row in rows:
        cells = []
        for key, _ in columns:
            v = row.get(key)
            cells.append(_cell(_fmt(v) if isinstance(v, float) else str(v)))
        body.append("| " + " | ".join(cells) + " |")
    return "\n".join([head, rule, *body])


def write_report(folder, config, records: list[dict], *, run_info: dict | None = None) -> dict:
    """Write tables, figures, ``study.json`` and ``report.md`` into ``folder``.

    Parameters
    ----------
    folder : str or Path
        The study folder.
    config : StudyConfig
    records : list of dict
        One record per task, in :func:`csuper.study.tasks.study_tasks` order.
    run_info : dict, optional
        Facts about the run (executor, tasks run and resumed, wall time) for ``study.json``.

    Returns
    -------
    dict
        The headline summary (:func:`headline`).
    """
    from csuper.study import figures
    from csuper.study.config import check_config

    config = check_config(config)
    folder = Path(folder)
    (folder / "tables").mkdir(exist_ok=True)
    (folder / "figures").mkdir(exist_ok=True)
    tables = build_tables(records)
    summary = headline(tables)
    meta = {"config": config.to_dict(), "versions": versions()}
    for name in (
        "models",
        "decoders",
        "capacities",
        "scaling_fit",
        "transitions",
        "transition_points",
    ):
        _write_table(folder / "tables", name, tables[name], meta)
    figs = figures.draw_all(folder / "figures", config, records, tables)
    _write_text(
        folder / "study.json",
        json.dumps(
            _clean(
                {
                    **meta,
                    "run": run_info or {},
                    "summary": summary,
                    "notes": tables["notes"],
                    "figures": figs,
                }
            ),
            indent=1,
        ),
    )
    _write_text(
        folder / "report.md", _markdown(config, tables, summary, figs, meta, run_info or {})
    )
    return summary


def _markdown(config, tables, summary, figs, meta, run_info) -> str:
    cfg = config
    v = meta["versions"]

    def fig(key: str, alt: str) -> str:
        return f"![{alt}](figures/{figs[key]})" if key in figs else ""

    out = [
        "# csuper study: do toy models pack features at a compressed-sensing rate?",
        "",
        f"Toy models of superposition (Elhage et al. 2022), n = {cfg.n_features} features, "
        f"m in {list(cfg.n_dims)}, sparsity S in {list(cfg.sparsities)}, importance "
        f"{cfg.importance} (ratio {cfg.importance_ratio}, alpha {cfg.importance_alpha}), best of "
        f"{cfg.n_seeds} seeds, {cfg.n_steps} steps of batch {cfg.batch_size} (AdamW, lr {cfg.lr}), "
        f"root seed {cfg.seed}. csuper {v['csuper']}, Python {v['python']}, numpy {v['numpy']}, "
        f"numba {v['numba']}, cvxpy {v['cvxpy']}, on {v['platform']}.",
        "",
        "## Headline",
        "",
        "```",
        format_summary(summary),
        "```",
        "",
        "## 1. Compressed-sensing scaling",
        "",
        "For each model: k = sum p_i expected active features, the exact nonnegative l1 threshold "
        "m*(n, k) (statistical dimension, Amelunxen et al. 2014), k log(n/k), the "
        "compressed-sensing "
        "capacity (largest n' with m*(n', n'p) <= m) and the represented count (|w_i| > 0.5).",
        "",
        _md_table(
            tables["models"],
            [
                ("n_dims", "m"),
                ("sparsity", "S"),
                ("k", "k"),
                ("threshold_mstar", "m*"),
                ("m_over_mstar", "m/m*"),
                ("klogk", "k log(n/k)"),
                ("cs_capacity", "CS capacity"),
                ("represented", "represented"),
                ("represented_over_capacity", "represented / capacity"),
                ("final_loss", "loss"),
            ],
        ),
        "",
    ]
    if tables["scaling_fit"]:
        out += [
            "Fits of represented = min(n, a x) for each law (one coefficient, least squares; AIC "
            "compares them):",
            "",
            _md_table(
                tables["scaling_fit"],
                [
                    ("law", "law"),
                    ("coefficient", "a"),
                    ("se", "se"),
                    ("rms", "RMS"),
                    ("delta_aic", "delta AIC"),
                    ("loglog_slope", "log-log slope"),
                    ("loglog_slope_se", "slope se"),
                ],
            ),
            "",
            f"**{summary['scaling']['verdict']}**",
            "",
        ]
    out += [
        fig("scaling", "represented features against the CS capacity and against m"),
        "",
        "## 2. Decoder gap",
        "",
        "h = W x of fresh samples decoded by the model's ReLU read-out, nonnegative basis "
        "pursuit on the learned W, on a Gaussian frame and on a packing frame of the same "
        "shape, and LASSO; exact recovery means relative error below 1e-4.",
        "",
        _md_table(
            [{"decoder": k, **d} for k, d in summary["decoder_gap"].items()],
            [
                ("decoder", "decoder"),
                ("exact_rate_above_threshold", "exact rate, m >= m*"),
                ("exact_rate_below_threshold", "exact rate, m < m*"),
                ("median_relative_mse", "median relative MSE"),
            ],
        ),
        "",
        fig("decoders", "exact-recovery rate and relative MSE against m/m*"),
        "",
        "## 3. Capacity and the Lagrangian",
        "",
        "Learned capacities D_i (= Scherlis et al.'s C_i) against the allocation that "
        "minimises the per-feature loss model of the ReLU toy model under sum C_i <= m "
        "(csuper.compare.relu_allocation). Classes: monosemantic (C > 0.9), fractional, "
        "ignored (C < 0.1 or |w_i| < 0.5).",
        "",
        _md_table(
            tables["models"],
            [
                ("n_dims", "m"),
                ("sparsity", "S"),
                ("capacity_agreement", "class agreement"),
                ("learned_budget", "sum D_i"),
                ("predicted_budget", "sum C_i"),
                ("shadow_price", "shadow price"),
                ("dimensions_per_feature", "D* = m/|W|_F^2"),
            ],
        ),
        "",
        fig("capacity", "learned against predicted capacity"),
        "",
        fig("dimensionality", "feature dimensionality against 1/(1-S)"),
        "",
        "## 4. Phase transitions",
        "",
        f"Feature 0 of n = {cfg.transition_n_features}, m = {cfg.transition_n_dims} "
        f"(others: importance 1, S = {cfg.transition_sparsity}) swept over "
        f"{cfg.transition_n_points} points, cold starts and warm starts up and down, best of "
        f"{cfg.transition_n_seeds} data streams per point.",
        "",
        _md_table(
            tables["transitions"],
            [
                ("parameter", "swept"),
                ("transition", "transition"),
                ("learned", "learned (cold)"),
                ("learned_up", "warm up"),
                ("learned_down", "warm down"),
                ("hysteresis", "up - down"),
                ("hysteresis_cold", "cold - down"),
                ("predicted", "predicted"),
                ("missing", "why n/a"),
            ],
        ),
        "",
        "A transition is the first upward crossing of a threshold along the sweep (D_0 > "
        "0.9 for own direction; |w_0| > 0.5, or predicted C_0 > 0, for superposed); warm "
        "down is met going down. Hysteresis: warm up - warm down, and cold - warm down (how far "
        "below the cold-start transition the higher state survives when approached from above).",
        "",
        *[f"- {text}" for text in tables["dead_legs"]],
        "",
        fig("transitions", "transition sweeps"),
        "",
        "## Geometry",
        "",
        fig("geometry", "W^T W of the models"),
        "",
        "## Files",
        "",
        "- `tables/*.csv` and `tables/*.json`: models, decoders, capacities (per feature), "
        "scaling_fit, transitions, transition_points (JSON files also carry config and versions).",
        "- `study.json`: config, versions, run facts and the headline summary.",
        "- `records.jsonl`: one record per finished configuration (the resumable store).",
        "",
    ]
    if tables["notes"]:
        out += ["## Notes", "", *[f"- {n}" for n in tables["notes"]], ""]
    if run_info:
        out += [
            f"Run: {run_info.get('ran', 0)} configurations run, {run_info.get('resumed', 0)} "
            f"resumed from the folder, executor {run_info.get('executor', '?')}, "
            f"{run_info.get('wall_seconds', float('nan')):.1f} s.",
            "",
        ]
    return "\n".join(out)
