"""The SAE sweep's report: tables, figures and verdicts computed from the records by criteria
fixed here, before any data are seen (:data:`CRITERIA`)."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np

from csuper._validation import check_array, check_bool, check_real
from csuper.sae.metrics import mmcs_features

__all__ = ["CRITERIA", "mean_ci", "recovery_table", "gap_table", "verdicts", "write_report"]

#: Verdict criteria (fixed in code; the report quotes them).
CRITERIA: dict[str, float] = {
    # a configuration "recovers the true features" when the lower end of the 95% CI over seeds
    # of its recovery rate (fraction of features with an atom at cos > 0.9) is at least this ...
    "recovered_rate": 0.9,
    # ... and its MMCS over features beats the random-dictionary null by at least this margin
    "null_margin": 0.1,
    # the SAE encoder "trails l1 inference" when code-MCC(l1) - code-MCC(encoder) has a 95% CI
    # entirely above this gap; "matches" when the CI lies inside +-this gap
    "gap_margin": 0.02,
    "confidence": 0.95,
}


def mean_ci(
    values, confidence: float = CRITERIA["confidence"], *, skip_nan: bool = True
) -> tuple[float, float, float]:
    """Mean and Student-t confidence interval of values over seeds, NaN entries skipped.

    Parameters
    ----------
    values : array_like, shape (N,)
        Real values; NaN marks a value that is undefined (a metric with no answer on that seed,
        e.g. :func:`relative_reconstruction_bias` when no gamma exists). Infinite values are
        refused: they are overflows, not missing values.
    confidence : float
        Level of the interval, in (0, 1).
    skip_nan : bool
        Skip NaN entries (the default: the interval is then over the defined values only, as
        many as ``numpy.isfinite(values).sum()``), or refuse them with a ValueError (for values
        that must all be defined).

    Returns
    -------
    mean, low, high : float
        The mean of the values kept and its interval mean -+ t_{N'-1} s / sqrt(N') over the N'
        values kept; NaN bounds when N' < 2, and a NaN mean too when N' = 0 (no value defined).

    Examples
    --------
    >>> m, lo, hi = mean_ci([1.0, 2.0, 3.0])
    >>> print(m, round(lo, 4), round(hi, 4))
    2.0 -0.4841 4.4841
    >>> mean_ci([1.0, float("nan"), 2.0, 3.0]) == mean_ci([1.0, 2.0, 3.0])
    True
    """
    from scipy.stats import t

    confidence = check_real(
        confidence, "confidence", low=0.0, high=1.0, low_inclusive=False, high_inclusive=False
    )
    skip_nan = check_bool(skip_nan, "skip_nan")
    v = check_array(values, "values", ndim=1, finite=False, min_size=0)
    undefined = np.isnan(v)
    if np.isinf(v).any():
        i = int(np.flatnonzero(np.isinf(v))[0])
        raise ValueError(
            f"values must be real numbers or NaN (an undefined value); got {v[i]} at index {i}."
        )
    if undefined.any() and not skip_nan:
        raise ValueError(
            f"values must not hold NaN with skip_nan=False; got {int(undefined.sum())} NaN "
            f"entries (the first at index {int(np.flatnonzero(undefined)[0])})."
        )
    v = v[~undefined]
    if v.size == 0:
        return float("nan"), float("nan"), float("nan")
    m = float(v.mean())
    if v.size < 2:
        return m, float("nan"), float("nan")
    h = float(t.ppf(0.5 + confidence / 2, v.size - 1) * v.std(ddof=1) / np.sqrt(v.size))
    return m, m - h, m + h


def _with_larger(records: list[dict]) -> dict:
    """(width, coefficient) -> MMCS of each seed's atoms against the next larger width's
    dictionary trained with the same coefficient and seed index (Sharkey et al. 2022's
    signature of the true dictionary size: near 1 from the true size up)."""
    rec = sorted((r for r in records if r.get("kind") == "recovery"), key=lambda r: r["width"])
    out: dict = {}
    for small, big in itertools.pairwise(rec):
        for c in sorted({r["coefficient"] for r in small["rows"]}):
            a = [r for r in small["rows"] if r["coefficient"] == c and "decoder" in r]
            b = [r for r in big["rows"] if r["coefficient"] == c and "decoder" in r]
            out[(small["width"], c)] = [
                mmcs_features(x["decoder"], y["decoder"]) for x, y in zip(a, b)
            ]
    return out


def recovery_table(records: list[dict]) -> list[dict]:
    """One row per (width, coefficient): mean and CI over seeds of every recovery metric, and
    ``mmcs_with_larger`` (NaN for the widest)."""
    larger = _with_larger(records)
    out = []
    for rec in records:
        if rec.get("kind") != "recovery":
            continue
        coefs = sorted({r["coefficient"] for r in rec["rows"]})
        for c in coefs:
            rows = [r for r in rec["rows"] if r["coefficient"] == c]
            row = {
                "width": rec["width"],
                "coefficient": c,
                "n_seeds": len(rows),
                "true_l0": rec["true_l0"],
                "null_mmcs_features": rec["null_mmcs_features"],
            }
            for key in (
                "mmcs_features",
                "mmcs_atoms",
                "decoder_mcc",
                "code_mcc",
                "recovery_rate",
                "dead_latents",
                "l0",
                "fvu",
                "reconstruction_bias",
            ):
                m, lo, hi = mean_ci([r[key] for r in rows])
                row[key], row[key + "_lo"], row[key + "_hi"] = m, lo, hi
            m, lo, hi = mean_ci(larger.get((rec["width"], c), []))
            row["mmcs_with_larger"], row["mmcs_with_larger_lo"], row["mmcs_with_larger_hi"] = (
                m,
                lo,
                hi,
            )
            out.append(row)
    return out


def gap_table(records: list[dict]) -> list[dict]:
    """One row per (n_features, route): code-MCC and relative error with CIs, m / m*, and the
    paired difference code-MCC(route) - code-MCC(SAE encoder) with its CI."""
    out = []
    for rec in records:
        if rec.get("kind") != "gap":
            continue
        enc = {r["seed"]: r["code_mcc"] for r in rec["rows"] if r["method"] == "sae_encoder"}
        routes = sorted({(r["method"], r["dictionary"]) for r in rec["rows"]})
        for meth, dic in routes:
            rows = [r for r in rec["rows"] if r["method"] == meth and r["dictionary"] == dic]
            m, lo, hi = mean_ci([r["code_mcc"] for r in rows])
            e, elo, ehi = mean_ci([r["relative_error"] for r in rows])
            d, dlo, dhi = mean_ci([r["code_mcc"] - enc[r["seed"]] for r in rows])
            out.append(
                {
                    "n_features": rec["n_features"],
                    "n_dims": rec["n_dims"],
                    "m_star": rec["m_star"],
                    "m_over_m_star": rec["n_dims"] / rec["m_star"],
                    "method": meth,
                    "dictionary": dic,
                    "code_mcc": m,
                    "code_mcc_lo": lo,
                    "code_mcc_hi": hi,
                    "relative_error": e,
                    "relative_error_lo": elo,
                    "relative_error_hi": ehi,
                    "minus_encoder": d,
                    "minus_encoder_lo": dlo,
                    "minus_encoder_hi": dhi,
                    "n_failed": int(sum(r["n_failed"] for r in rows)),
                }
            )
    return out


def _gap_word(lo: float, hi: float) -> str:
    g = CRITERIA["gap_margin"]
    if not np.isfinite(lo):
        return "undecided (fewer than 2 seeds)"
    if lo > g:
        return "the SAE encoder trails"
    if hi < -g:
        return "the SAE encoder leads"
    if -g <= lo and hi <= g:
        return "they match"
    return "undecided (CI wider than the margin)"


def verdicts(recovery: list[dict], gap: list[dict]) -> dict:
    """The answers, computed from the tables by :data:`CRITERIA`.

    Returns
    -------
    dict
        ``recovered``: the (width, coefficient) rows that pass the recovery criterion;
        ``recovery_answer``: one sentence; ``gap``: per n, the verdict for basis pursuit with
        the true dictionary and with the SAE's own decoder; ``gap_answer``: one sentence.
    """
    ok = [
        r
        for r in recovery
        if np.isfinite(r["recovery_rate_lo"])
        and r["recovery_rate_lo"] >= CRITERIA["recovered_rate"]
        and r["mmcs_features_lo"] >= r["null_mmcs_features"] + CRITERIA["null_margin"]
    ]
    if ok:
        widths = sorted({r["width"] for r in ok})
        ans = (
            f"recovered (recovery-rate CI lower bound >= {CRITERIA['recovered_rate']}, MMCS "
            f"above the random-dictionary null by >= {CRITERIA['null_margin']}) in {len(ok)} of "
            f"{len(recovery)} "
            f"configurations: widths {widths}, coefficients "
            f"{sorted({r['coefficient'] for r in ok})}."
        )
    else:
        ans = (
            f"not recovered in any of the {len(recovery)} configurations (criterion: "
            "recovery-rate CI "
            f"lower bound >= {CRITERIA['recovered_rate']} and MMCS above the null by "
            f"{CRITERIA['null_margin']})."
        )
    per_n = []
    for n in sorted({r["n_features"] for r in gap}):
        rows = {(r["method"], r["dictionary"]): r for r in gap if r["n_features"] == n}
        entry = {"n_features": n}
        for dic in ("true", "sae"):
            r = rows.get(("basis_pursuit", dic))
            if r is not None:
                entry[f"bp_{dic}"] = _gap_word(r["minus_encoder_lo"], r["minus_encoder_hi"])
                entry["m_over_m_star"] = r["m_over_m_star"]
        per_n.append(entry)
    trail = [e["n_features"] for e in per_n if e.get("bp_true") == "the SAE encoder trails"]
    own = [e["n_features"] for e in per_n if e.get("bp_sae") == "the SAE encoder trails"]
    if not per_n:
        gap_ans = (
            "not measured: the sweep has no amortisation-gap points (gap_n_features is empty)."
        )
    else:
        gap_ans = (
            f"basis pursuit with the true dictionary beats the SAE encoder's code-MCC by more "
            f"than {CRITERIA['gap_margin']} (95% CI) at n = {trail}; "
            if trail
            else "basis pursuit with the true dictionary never beats the SAE encoder by the "
            "margin; "
        )
        gap_ans += (
            f"with the SAE's own decoder it does at n = {own}."
            if own
            else "with the SAE's own decoder it never does (the dictionary, not the encoder, "
            "limits)."
        )
    return {
        "recovered": [(r["width"], r["coefficient"]) for r in ok],
        "recovery_answer": ans,
        "gap": per_n,
        "gap_answer": gap_ans,
    }


def _figures(folder: Path, recovery: list[dict], gap: list[dict]) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = []
    if recovery:
        fig, axes = plt.subplots(1, 2, figsize=(10, 4))
        for w in sorted({r["width"] for r in recovery}):
            rows = sorted((r for r in recovery if r["width"] == w), key=lambda r: r["coefficient"])
            x = [r["coefficient"] for r in rows]
            for ax, key in zip(axes, ("mmcs_features", "recovery_rate")):
                y = np.array([r[key] for r in rows])
                lo = np.array([r[key + "_lo"] for r in rows])
                hi = np.array([r[key + "_hi"] for r in rows])
                ax.plot(x, y, marker="o", label=f"width {w}")
                ax.fill_between(
                    x, np.where(np.isfinite(lo), lo, y), np.where(np.isfinite(hi), hi, y), alpha=0.2
                )
        axes[0].axhline(
            recovery[0]["null_mmcs_features"], color="grey", ls=":", label="random atoms (null)"
        )
        for ax, lab in zip(axes, ("MMCS over true features", "recovery rate (cos > 0.9)")):
            ax.set_xscale("log")
            ax.set_xlabel("sparsity coefficient")
            ax.set_ylabel(lab)
            ax.set_ylim(0, 1.02)
        axes[0].legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(folder / "recovery.png", dpi=110)
        plt.close(fig)
        names.append("recovery.png")
    if gap:
        fig, ax = plt.subplots(figsize=(6, 4))
        for meth, dic in sorted({(r["method"], r["dictionary"]) for r in gap}):
            rows = sorted(
                (r for r in gap if r["method"] == meth and r["dictionary"] == dic),
                key=lambda r: r["m_over_m_star"],
            )
            x = [r["m_over_m_star"] for r in rows]
            label = "SAE encoder" if meth == "sae_encoder" else f"{meth} ({dic} dictionary)"
            ax.plot(
                x,
                [r["code_mcc"] for r in rows],
                marker={"basis_pursuit": "^", "lasso": "s", "fista": "x", "ista": "+"}.get(
                    meth, "o"
                ),
                ls="--" if dic == "sae" and meth != "sae_encoder" else "-",
                label=label,
                lw=2.5 if meth == "sae_encoder" else 1.2,
            )
        ax.axvline(1.0, color="grey", ls=":", label="l1 phase transition m = m*")
        ax.set_xlabel("m / m*  (m* = nonnegative statistical dimension)")
        ax.set_ylabel("code-space MCC")
        ax.set_ylim(0, 1.02)
        ax.legend(fontsize=7)
        fig.tight_layout()
        fig.savefig(folder / "amortisation_gap.png", dpi=110)
        plt.close(fig)
        names.append("amortisation_gap.png")
    return names


def _best_with_larger(rec: list[dict], width: int) -> float:
    vals = [r["mmcs_with_larger"] for r in rec if r["width"] == width]
    vals = [v for v in vals if np.isfinite(v)]
    return max(vals) if vals else float("nan")


def _f(x) -> str:
    return "n/a" if x is None or not np.isfinite(x) else f"{x:.3f}"


def write_report(folder, config, records: list[dict]) -> dict:
    """Write ``report.md``, ``summary.json`` and ``figures/`` into ``folder``; return a summary."""
    folder = Path(folder)
    figdir = folder / "figures"
    figdir.mkdir(parents=True, exist_ok=True)
    rec = recovery_table(records)
    gap = gap_table(records)
    v = verdicts(rec, gap)
    figs = _figures(figdir, rec, gap)
    summary = {
        "config": config.to_dict(),
        "criteria": CRITERIA,
        "verdicts": v,
        "recovery": rec,
        "gap": gap,
    }
    (folder / "summary.json").write_text(json.dumps(summary, indent=1, default=float))
    lines = [
        "# SAE sweep: recovery of known features and the amortisation gap",
        "",
        f"Data: n = {config.n_features} true features ({config.dictionary} dictionary) in m = "
        f"{config.n_dims} dimensions, {config.k:g} active on average ({config.profile} profile, "
        f"{config.magnitude} magnitudes{', exactly k' if config.fixed_k else ''}); "
        f"{config.n_samples} training and {config.n_test} held-out samples. "
        f"SAE: {config.architecture}, {config.n_steps} Adam steps (lr {config.lr:g}, "
        f"batch {config.batch_size}), {config.n_seeds} seeds. "
        "Intervals: 95% Student-t over seeds.",
        "",
        "## When does an SAE recover the true features?",
        "",
        v["recovery_answer"],
        "",
        "| width | coefficient | MMCS (features) | MMCS (atoms) | decoder MCC | code MCC "
        "| recovery rate | dead | L0 (true) | FVU | MMCS with next larger |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rec:
        lines.append(
            f"| {r['width']} | {r['coefficient']:g} | {_f(r['mmcs_features'])} "
            f"[{_f(r['mmcs_features_lo'])}, {_f(r['mmcs_features_hi'])}] | "
            f"{_f(r['mmcs_atoms'])} | {_f(r['decoder_mcc'])} | {_f(r['code_mcc'])} | "
            f"{_f(r['recovery_rate'])} [{_f(r['recovery_rate_lo'])}, "
            f"{_f(r['recovery_rate_hi'])}] | "
            f"{r['dead_latents']:.1f} | {r['l0']:.2f} ({r['true_l0']:.2f}) | {_f(r['fvu'])} | "
            f"{_f(r['mmcs_with_larger'])} |"
        )
    if rec:
        lines += [
            "",
            "Null: random unit atoms of the first width give MMCS "
            f"{_f(rec[0]['null_mmcs_features'])}.",
            "Dictionary-size signatures (true count n = "
            f"{config.n_features}): dead latents by width, mean over coefficients: "
            + ", ".join(
                f"{w}: {np.mean([r['dead_latents'] for r in rec if r['width'] == w]):.1f}"
                for w in sorted({r["width"] for r in rec})
            )
            + "; MMCS with the next larger dictionary (same coefficient and seed), best "
            "coefficient per width: "
            + ", ".join(
                f"{w}: {_f(_best_with_larger(rec, w))}"
                for w in sorted({r["width"] for r in rec})[:-1]
            )
            + ".",
            "",
        ]
    lines += [
        "## How far is the SAE from l1 inference with the same dictionary?",
        "",
        v["gap_answer"],
        "",
        "| n | m / m* | route | code MCC | relative error | minus SAE encoder [95% CI] "
        "| unsolved |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in gap:
        route = (
            "SAE encoder"
            if r["method"] == "sae_encoder"
            else f"{r['method']}, {r['dictionary']} dictionary"
        )
        lines.append(
            f"| {r['n_features']} | {r['m_over_m_star']:.2f} | {route} | {_f(r['code_mcc'])} | "
            f"{_f(r['relative_error'])} | {_f(r['minus_encoder'])} [{_f(r['minus_encoder_lo'])}, "
            f"{_f(r['minus_encoder_hi'])}] | {r['n_failed']} |"
        )
    lines += ["", "Criteria (fixed in csuper.sae.report.CRITERIA): " + json.dumps(CRITERIA), ""]
    lines += [f"![{name}](figures/{name})" for name in figs]
    (folder / "report.md").write_text("\n".join(lines) + "\n")
    return summary
