"""Figures of a study report (matplotlib, Agg backend), drawn from its records and tables."""

from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["draw_all"]


def _save(fig, folder: Path, name: str) -> str:
    import matplotlib.pyplot as plt

    fig.tight_layout()
    fig.savefig(folder / name, dpi=110)
    plt.close(fig)
    return name


def draw_all(folder, config, records: list[dict], tables: dict) -> dict[str, str]:
    """Draw every figure that the records support; returns figure key -> file name."""
    import matplotlib

    matplotlib.use("Agg")
    folder = Path(folder)
    out = {}
    models = [r for r in records if r["kind"] == "model"]
    if models:
        out["scaling"] = _scaling(folder, tables)
        out["decoders"] = _decoders(folder, tables)
        out["capacity"] = _capacity(folder, tables)
        out["dimensionality"] = _dimensionality(folder, config, models)
        out["geometry"] = _geometry(folder, config, models)
    sweeps = [r for r in records if r["kind"] == "transition"]
    if sweeps:
        out["transitions"] = _transitions(folder, sweeps)
    return out


def _log_x(ax, values) -> None:
    """Log x axis when the values span a range (a single value would make it singular)."""
    if len(set(values)) > 1:
        ax.set_xscale("log")


def _by_sparsity(rows):
    groups: dict[float, list] = {}
    for row in rows:
        groups.setdefault(row["sparsity"], []).append(row)
    return sorted(groups.items())


def _scaling(folder: Path, tables: dict) -> str:
    import matplotlib.pyplot as plt

    from csuper.compare import nonnegative_threshold

    # continuous CS capacity m / psi(p), psi(p) = m*(n, k) / n (fit_scaling's regressor)
    rows = [
        {**r, "capacity": r["n_dims"] / float(nonnegative_threshold(1.0, r["feature_probability"]))}
        for r in tables["models"]
    ]
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4))
    n = rows[0]["n_features"]
    for s, group in _by_sparsity(rows):
        a.plot(
            [r["capacity"] for r in group],
            [r["represented"] for r in group],
            "o",
            label=f"S = {s:g}",
        )
        b.plot(
            [r["n_dims"] for r in group],
            [r["represented"] for r in group],
            "o-",
            label=f"S = {s:g}",
        )
    lim = np.array(
        [min(r["n_dims"] for r in rows) * 0.8, max(max(r["capacity"] for r in rows), n) * 1.2]
    )
    a.plot(lim, np.minimum(lim, n), "k--", lw=1, label="represented = CS capacity")
    fit = tables["scaling"]
    if fit is not None:
        c = fit.laws["threshold"].coefficient
        a.plot(lim, np.minimum(c * lim, n), "r:", lw=1, label=f"fit: {c:.2f} x capacity")
    _log_x(a, lim)
    a.set_xlabel("CS capacity m / psi(p) (exact nonnegative l1 threshold)")
    a.set_ylabel("represented features")
    a.set_title("represented vs compressed-sensing capacity")
    a.legend(fontsize=7)
    b.axhline(n, color="grey", lw=0.5)
    b.set_xlabel("m (hidden dimensions)")
    b.set_ylabel("represented features")
    b.set_title(f"represented vs m (n = {n})")
    b.legend(fontsize=7)
    return _save(fig, folder, "scaling.png")


def _decoders(folder: Path, tables: dict) -> str:
    import matplotlib.pyplot as plt

    rows = tables["decoders"]
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4))
    names = list(dict.fromkeys(r["decoder"] for r in rows))
    for name in names:
        sel = sorted((r for r in rows if r["decoder"] == name), key=lambda r: r["m_over_mstar"])
        x = [r["m_over_mstar"] for r in sel]
        a.errorbar(
            x,
            [r["exact_rate"] for r in sel],
            yerr=[r["exact_se"] for r in sel],
            fmt="o",
            ms=4,
            capsize=2,
            alpha=0.8,
            label=name,
        )
        b.plot(x, [max(r["relative_mse"], 1e-12) for r in sel], "o", ms=4, alpha=0.8, label=name)
    for ax in (a, b):
        ax.axvline(1.0, color="grey", lw=0.7, ls="--")
        _log_x(ax, [r["m_over_mstar"] for r in rows] + [1.0])
        ax.set_xlabel("m / m*(n, k)")
        ax.legend(fontsize=7)
    a.set_ylabel("exact-recovery rate")
    a.set_title("exact recovery of h = W x")
    b.set_yscale("log")
    b.set_ylabel("relative MSE")
    b.set_title("reconstruction error")
    return _save(fig, folder, "decoders.png")


def _capacity(folder: Path, tables: dict) -> str:
    import matplotlib.pyplot as plt

    rows = tables["capacities"]
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4))
    for s, group in _by_sparsity(rows):
        a.plot(
            [r["predicted_capacity"] for r in group],
            [r["learned_capacity"] for r in group],
            "o",
            ms=3,
            alpha=0.6,
            label=f"S = {s:g}",
        )
    a.plot([0, 1], [0, 1], "k--", lw=1)
    a.set_xlabel("predicted C_i (Lagrangian allocation)")
    a.set_ylabel("learned D_i")
    a.set_title("capacity per feature")
    a.legend(fontsize=7)
    models = tables["models"]
    for m in sorted({r["n_dims"] for r in models}):
        sel = sorted((r for r in models if r["n_dims"] == m), key=lambda r: r["sparsity"])
        b.plot(
            [1.0 / r["feature_probability"] for r in sel],
            [r["capacity_agreement"] for r in sel],
            "o-",
            label=f"m = {m}",
        )
    _log_x(b, [1.0 / r["feature_probability"] for r in models])
    b.set_ylim(-0.05, 1.05)
    b.set_xlabel("1 / (1 - S)")
    b.set_ylabel("class agreement (fraction of features)")
    b.set_title("where the prediction holds")
    b.legend(fontsize=7)
    return _save(fig, folder, "capacity.png")


def _dimensionality(folder: Path, config, models: list[dict]) -> str:
    import matplotlib.pyplot as plt

    from csuper.toy import plot_dimensionality

    ms = sorted({r["n_dims"] for r in models})
    fig, axes = plt.subplots(1, len(ms), figsize=(4 * len(ms), 3.5), squeeze=False)
    for ax, m in zip(axes[0], ms):
        sel = [r for r in models if r["n_dims"] == m]
        plot_dimensionality(
            np.array([r["W"] for r in sel]), [r["feature_probability"] for r in sel], ax=ax
        )
        ax.set_title(f"m = {m}")
    return _save(fig, folder, "dimensionality.png")


def _geometry(folder: Path, config, models: list[dict]) -> str:
    import matplotlib.pyplot as plt

    from csuper.toy import plot_feature_geometry, plot_gram

    m = min(r["n_dims"] for r in models)
    sel = sorted((r for r in models if r["n_dims"] == m), key=lambda r: r["sparsity"])
    fig, axes = plt.subplots(1, len(sel), figsize=(3.2 * len(sel), 3.2), squeeze=False)
    for ax, r in zip(axes[0], sel):
        W = np.asarray(r["W"])
        title = f"m = {m}, S = {r['sparsity']:g}"
        if m == 2:
            plot_feature_geometry(W, importance=r["importance"], ax=ax, title=title)
        else:
            plot_gram(W, ax=ax, title=title)
    return _save(fig, folder, "geometry.png")


def _transitions(folder: Path, sweeps: list[dict]) -> str:
    import matplotlib.pyplot as plt

    from csuper.compare import TransitionSweep

    fig, axes = plt.subplots(1, len(sweeps), figsize=(5.5 * len(sweeps), 4), squeeze=False)
    for ax, rec in zip(axes[0], sweeps):
        s = rec["series"]
        arrays = {
            k: np.asarray(s[k], dtype=float)
            for k in (
                "values",
                "learned_capacity",
                "norm",
                "predicted_capacity",
                "final_loss",
                "prediction_grid",
                "prediction_curve",
            )
        }
        sweep = TransitionSweep(
            parameter=rec["parameter"],
            feature=rec["feature"],
            **arrays,
            monosemantic_above=s["monosemantic_above"],
            represented_threshold=s["represented_threshold"],
            start="both",
            warm={
                d: {k: np.asarray(v, dtype=float) for k, v in s["warm"][d].items()}
                for d in ("up", "down")
            },
        )
        sweep.plot(ax=ax)
    return _save(fig, folder, "transitions.png")
