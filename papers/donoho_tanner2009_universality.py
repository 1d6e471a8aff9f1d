"""Donoho & Tanner 2009, "Observed universality of phase transitions in high-dimensional
geometry, with implications for modern data analysis and signal processing", Phil. Trans. R.
Soc. A 367 (2009), doi:10.1098/rsta.2009.0152, arXiv:0906.2530; deterministic frames after
Monajemi, Jafarpour, Gavish, Stat 330/CME 362 Collaboration & Donoho, "Deterministic matrices
matching the compressed sensing phase transitions of Gaussian random matrices", PNAS 110 (2013),
doi:10.1073/pnas.1219540110.

Claim (their abstract and Sec. 5): the empirical phase transition of l1 recovery (basis pursuit,
signed: the projected cross-polytope; nonnegative: the projected simplex) does not depend on the
matrix ensemble -- Gaussian, Rademacher, partial Fourier, sparse and other ensembles, and
(Monajemi et al.) deterministic frames -- and agrees with the Gaussian asymptotic weak threshold
rho_W(delta); "careful statistical analysis reveals discrepancies which can be explained as
transient terms, decaying with problem size".

Their method, followed here: for each undersampling ratio delta = m/N, recovery successes are
counted over a range of sparsities k, a logistic regression logit P(success) = a + b rho
(rho = k/m) is fitted by maximum likelihood, and its 50% point rho_50(delta) = -a/b, with a
delta-method standard error, is compared with rho_W(delta) (``csuper.recovery.weak_threshold``).

Ours: N = 200 and 400 (theirs: up to N = 1600, millions of LPs), delta = 0.1, ..., 0.9, k on 11
points spanning [0.7, 1.3] rho_W m, 40 trials per k; ensembles Gaussian and Rademacher
(``csuper.recovery.MATRIX_FAMILIES``), sparse JL (``csuper.jl``, Kane-Nelson, 8 nonzeros per
column), partial DCT (m rows of the orthonormal DCT-II drawn at random), the Paley equiangular
tight frame (``csuper.geometry.paley_etf``, delta = 1/2 only, N = 198 and 398) and numerically
optimised Grassmannian packings (``csuper.geometry.find_packing``, one start, no polishing;
N = 200 only in the committed run: at N = 200 one delta takes about 2 minutes, N = 400 would
have taken over an hour on the loaded machine);
signed signals (random signs: the signed program's success depends only on the support and the
signs) and nonnegative ones; csuper's batched basis pursuit (``solver="admm"``, certified).

Verdicts (criteria fixed here): an ensemble agrees with the theory when, at the largest N, the
mean over delta of abs(rho_50 / rho_W - 1) is at most AGREEMENT_TOL; the deviation shrinks with
N when that mean is smaller at the largest N than at the smallest.

Runtime on 2 cores: about 45 minutes for the committed run (load 8-12, the solver of
2026-11-28; the random ensembles take 2-5 minutes each, the packings most); ``--n-features``,
``--deltas``, ``--n-trials`` and ``--ensembles`` shrink it. The run resumes: finished blocks are
kept in OUTDIR/universality.json and skipped.

Usage: python papers/donoho_tanner2009_universality.py OUTDIR [--n-features 200 400]
       [--n-trials 40] [--deltas 0.1 ... 0.9] [--ensembles gaussian ...]
       [--packing-n-features 200]  (the committed run: packings at N = 200 only)
Writes OUTDIR/universality.json and OUTDIR/universality.png.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import time

import numpy as np
from scipy import stats
from scipy.fft import dct

from csuper.geometry import find_packing, paley_etf
from csuper.jl import make_jl
from csuper.recovery import MATRIX_FAMILIES, phase_transition, weak_threshold

#: Committed results (under papers/results/), checked by tests/papers/test_drift.py.
RESULTS = ("donoho_tanner2009/universality.json",)
AGREEMENT_TOL = 0.05
#: Universality test (theirs in spirit): at each N, the ensemble's rho_50 minus the Gaussian's,
#: over delta, standardised by the two fits' standard errors; chi-square with one degree of
#: freedom per delta; universality is rejected when its p-value is below UNIVERSALITY_ALPHA.
UNIVERSALITY_ALPHA = 0.01
PROGRAMS = {"signed": "sign", "nonnegative": "uniform"}  # program -> csuper signal law
DELTAS = tuple(round(0.1 * i, 1) for i in range(1, 10))


def paley_q(n: int) -> int:
    """The prime q = 1 (mod 4) nearest to n - 1 (the Paley frame then has N = q + 1 columns:
    198 for n = 200, 398 for n = 400; ties go to the smaller q)."""

    def prime(q):
        return q > 2 and all(q % d for d in range(2, int(q**0.5) + 1))

    return min(
        (q for q in range(5, 2 * n + 6) if q % 4 == 1 and prime(q)),
        key=lambda q: (abs(q - (n - 1)), q),
    )


def partial_dct(m: int, n: int, rng: np.random.Generator) -> np.ndarray:
    """m rows of the orthonormal DCT-II of order n, drawn uniformly without replacement,
    rescaled so that columns have unit norm on average (sqrt(n / m))."""
    rows = np.sort(rng.choice(n, size=m, replace=False))
    return dct(np.eye(n), norm="ortho", axis=0)[rows] * np.sqrt(n / m)


def sparse_jl(m: int, n: int, rng: np.random.Generator) -> np.ndarray:
    return make_jl("sparse-jl", n, m, rng=rng).matrix()


RANDOM_ENSEMBLES = {
    "gaussian": MATRIX_FAMILIES["gaussian"],
    "rademacher": MATRIX_FAMILIES["rademacher"],
    "sparse-jl": sparse_jl,
    "partial-dct": partial_dct,
}
DETERMINISTIC = ("paley", "packing")


def k_grid(m: int, rho_w: float) -> list[int]:
    """Sparsities spanning the transition: 11 points over [0.7, 1.3] rho_W m, distinct, in
    [1, m - 1]."""
    ks = np.unique(np.round(np.linspace(0.7, 1.3, 11) * rho_w * m).astype(int))
    return [int(k) for k in ks if 1 <= k < m]


def fit_logistic(rho, successes, n_trials) -> dict:
    """Maximum-likelihood logistic regression logit P = a + b rho (Newton's method); the 50%
    point -a/b and its delta-method standard error. NaN when the data are separable (no
    finite maximum) or Newton does not converge."""
    x = np.asarray(rho, float)
    y = np.asarray(successes, float)
    t = np.asarray(n_trials, float)
    X = np.column_stack([np.ones_like(x), x])
    beta = np.array([0.0, 0.0])
    ok = False
    for _ in range(100):
        eta = X @ beta
        pr = 1.0 / (1.0 + np.exp(-eta))
        w = t * pr * (1 - pr)
        H = X.T @ (X * w[:, None])
        g = X.T @ (y - t * pr)
        if np.linalg.cond(H) > 1e12:
            break
        step = np.linalg.solve(H, g)
        beta = beta + step
        if np.max(np.abs(step)) < 1e-10 * (1 + np.max(np.abs(beta))):
            ok = True
            break
    if not ok or beta[1] >= 0:
        return {"a": float("nan"), "b": float("nan"), "rho_50": float("nan"), "se": float("nan")}
    cov = np.linalg.inv(H)
    a, b = beta
    grad = np.array([-1.0 / b, a / b**2])
    return {
        "a": float(a),
        "b": float(b),
        "rho_50": float(-a / b),
        "se": float(np.sqrt(grad @ cov @ grad)),
    }


def frame(kind: str, n: int, m: int, seed: int) -> np.ndarray:
    if kind == "paley":
        return paley_etf(paley_q(n))
    return find_packing(n, m, n_starts=1, polish=False, rng=seed).frame


def block(ensemble: str, n: int, program: str, delta: float, n_trials: int, seed: int) -> dict:
    """Success counts over the k grid at one (ensemble, N, program, delta), and the fit."""
    nonneg = program == "nonnegative"
    rng = [
        seed,
        n,
        round(delta * 1000),
        list(RANDOM_ENSEMBLES).index(ensemble)
        if ensemble in RANDOM_ENSEMBLES
        else 10 + DETERMINISTIC.index(ensemble),
        int(nonneg),
    ]
    t0 = time.perf_counter()
    if ensemble in RANDOM_ENSEMBLES:
        m = max(1, round(delta * n))
        kw = {"n_features": n, "deltas": [delta], "matrix": RANDOM_ENSEMBLES[ensemble]}
    else:
        A = frame(ensemble, n, max(1, round(delta * n)), seed)
        m, n = A.shape
        kw = {"matrix": A}
    delta_used = m / n
    rho_w = weak_threshold(delta_used, nonnegative=nonneg)
    ks = k_grid(m, rho_w)
    res = phase_transition(
        rhos=[k / m for k in ks],
        n_trials=n_trials,
        signal=PROGRAMS[program],
        rng=int(np.random.SeedSequence(rng).generate_state(1)[0]),
        **kw,
    )
    succ = res.table["successes"].tolist()
    fit = fit_logistic(np.array(ks) / m, succ, [n_trials] * len(ks))
    return {
        "ensemble": ensemble,
        "n": n,
        "m": m,
        "program": program,
        "delta": delta_used,
        "k": [int(k) for k in res.table["k"]],
        "successes": [int(s) for s in succ],
        "n_trials": n_trials,
        "unsolved": int(np.sum(res.table["unsolved"])),
        "rho_w": rho_w,
        **fit,
        "relative_deviation": fit["rho_50"] / rho_w - 1.0,
        "seconds": time.perf_counter() - t0,
    }


def _key(b: dict) -> str:
    return f"{b['ensemble']}/{b['n']}/{b['program']}/{b['delta']:.4f}"


def _versus_gaussian(blocks: list[dict], ens: str, prog: str, n: int) -> dict:
    """Chi-square test of rho_50 against the Gaussian ensemble's at the same (N, delta)."""
    if ens == "gaussian":
        return {}
    gauss = {
        round(b["delta"], 6): b
        for b in blocks
        if b["ensemble"] == "gaussian" and b["program"] == prog and b["n"] == n
    }
    z = []
    for b in blocks:
        g = gauss.get(round(b["delta"], 6))
        if b["ensemble"] != ens or b["program"] != prog or b["n"] != n or g is None:
            continue
        if np.isfinite(b["rho_50"]) and np.isfinite(g["rho_50"]):
            z.append((b["rho_50"] - g["rho_50"]) / np.hypot(b["se"], g["se"]))
    if not z:
        return {}
    chi2 = float(np.sum(np.square(z)))
    pval = float(stats.chi2.sf(chi2, len(z)))
    return {
        "z_versus_gaussian": [float(v) for v in z],
        "chi2_versus_gaussian": chi2,
        "p_value_versus_gaussian": pval,
        "universal": "reproduced" if pval >= UNIVERSALITY_ALPHA else "not supported",
    }


def summarise(blocks: list[dict]) -> dict:
    """Mean abs(rho_50 / rho_W - 1) over delta per (ensemble, program, N), and the verdicts."""
    out: dict = {}
    for ens in sorted({b["ensemble"] for b in blocks}):
        for prog in PROGRAMS:
            sel = [b for b in blocks if b["ensemble"] == ens and b["program"] == prog]
            if not sel:
                continue
            ns = sorted({b["n"] for b in sel})
            per_n = {}
            for n in ns:
                dev = np.array([abs(b["relative_deviation"]) for b in sel if b["n"] == n])
                dev = dev[np.isfinite(dev)]
                per_n[str(n)] = {
                    "mean_abs_relative_deviation": float(dev.mean()) if dev.size else None,
                    "max_abs_relative_deviation": float(dev.max()) if dev.size else None,
                    "n_deltas": int(dev.size),
                }
            big, small = per_n[str(ns[-1])], per_n[str(ns[0])]
            agree = (
                big["mean_abs_relative_deviation"] is not None
                and big["mean_abs_relative_deviation"] <= AGREEMENT_TOL
            )
            shrink = None
            if len(ns) > 1 and None not in (
                big["mean_abs_relative_deviation"],
                small["mean_abs_relative_deviation"],
            ):
                shrink = big["mean_abs_relative_deviation"] < small["mean_abs_relative_deviation"]
            for n in ns:
                per_n[str(n)].update(_versus_gaussian(blocks, ens, prog, n))
            out[f"{ens}/{prog}"] = {
                "per_n": per_n,
                "agrees_with_rho_w": "reproduced" if agree else "not supported",
                "deviation_shrinks_with_n": None
                if shrink is None
                else ("reproduced" if shrink else "not supported"),
            }
    return out


def drift(committed: dict) -> dict:
    """The Gaussian signed block at N = 200, delta = 0.5 regenerated; the fits and the summary
    recomputed from the committed counts."""
    (path,) = RESULTS
    res = committed[path]
    s = res["settings"]
    out = {}
    for i, b in enumerate(res["blocks"]):
        fit = fit_logistic(np.array(b["k"]) / b["m"], b["successes"], [b["n_trials"]] * len(b["k"]))
        out[f"{path}#/blocks/{i}/rho_50"] = fit["rho_50"]
        if (
            b["ensemble"] == "gaussian"
            and b["program"] == "signed"
            and b["n"] == min(s["n_features"])
            and abs(b["delta"] - 0.5) < 1e-9
        ):
            new = block("gaussian", b["n"], "signed", 0.5, b["n_trials"], s["seed"])
            out[f"{path}#/blocks/{i}/successes"] = new["successes"]
    out[f"{path}#/summary"] = summarise(res["blocks"])
    return out


def figure(res: dict):
    """rho_50(delta) per ensemble against rho_W (top: signed, bottom: nonnegative; one column
    per N), and the relative deviations."""
    import matplotlib.pyplot as plt

    ns = res["settings"]["n_features"]
    fig, axes = plt.subplots(2, len(ns) + 1, figsize=(5 * (len(ns) + 1), 8), squeeze=False)
    dd = np.linspace(0.02, 0.98, 200)
    ensembles = sorted({b["ensemble"] for b in res["blocks"]})
    markers = dict(zip(ensembles, "osD^vPX*"))
    for r, prog in enumerate(PROGRAMS):
        for c, n in enumerate(ns):
            ax = axes[r, c]
            ax.plot(
                dd,
                weak_threshold(dd, nonnegative=prog == "nonnegative"),
                "k-",
                lw=1.5,
                label="rho_W (asymptotic)",
            )
            for ens in ensembles:
                sel = [
                    b
                    for b in res["blocks"]
                    if b["ensemble"] == ens and b["program"] == prog and abs(b["n"] - n) <= 2
                ]
                ax.errorbar(
                    [b["delta"] for b in sel],
                    [b["rho_50"] for b in sel],
                    yerr=[1.96 * b["se"] for b in sel],
                    fmt=markers[ens],
                    ms=4,
                    label=ens,
                    alpha=0.8,
                )
            ax.set_title(f"{prog}, N = {n}", fontsize=10)
            ax.set_xlabel("delta = m / N")
            ax.set_ylabel("rho_50 = k_50 / m")
        ax = axes[r, -1]
        for ens in ensembles:
            for n, ls in zip(ns, ("--", "-")):
                sel = sorted(
                    (
                        b
                        for b in res["blocks"]
                        if b["ensemble"] == ens and b["program"] == prog and abs(b["n"] - n) <= 2
                    ),
                    key=lambda b: b["delta"],
                )
                ax.plot(
                    [b["delta"] for b in sel],
                    [b["relative_deviation"] for b in sel],
                    marker=markers[ens],
                    ls=ls,
                    ms=4,
                    label=f"{ens}, N = {n}",
                )
        ax.axhline(0, color="k", lw=0.8)
        ax.set_title(f"{prog}: rho_50 / rho_W - 1", fontsize=10)
        ax.set_xlabel("delta = m / N")
    axes[0, 0].legend(fontsize=7)
    axes[0, -1].legend(fontsize=6, ncol=2)
    fig.tight_layout()
    return fig


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("outdir")
    ap.add_argument("--n-features", type=int, nargs="+", default=[200, 400])
    ap.add_argument("--deltas", type=float, nargs="+", default=list(DELTAS))
    ap.add_argument("--n-trials", type=int, default=40)
    ap.add_argument(
        "--ensembles",
        nargs="+",
        default=[*RANDOM_ENSEMBLES, *DETERMINISTIC],
        choices=[*RANDOM_ENSEMBLES, *DETERMINISTIC],
    )
    ap.add_argument(
        "--packing-n-features",
        type=int,
        nargs="+",
        default=None,
        help="N for the packing ensemble (default: --n-features)",
    )
    ap.add_argument("--seed", type=int, default=2009)
    args = ap.parse_args(argv)
    out = pathlib.Path(args.outdir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "universality.json"
    settings = {
        "n_features": args.n_features,
        "deltas": args.deltas,
        "n_trials": args.n_trials,
        "ensembles": args.ensembles,
        "seed": args.seed,
        "solver": "admm",
        "packing_n_features": args.packing_n_features or args.n_features,
    }
    res = json.loads(path.read_text()) if path.exists() else {}
    if res.get("settings") != settings:
        res = {"settings": settings, "blocks": []}
    done = {_key(b) for b in res["blocks"]}
    todo = []
    for ens in args.ensembles:
        for n in settings["packing_n_features"] if ens == "packing" else args.n_features:
            for prog in PROGRAMS:
                deltas = [0.5] if ens == "paley" else args.deltas
                todo += [(ens, n, prog, d) for d in deltas]
    for i, (ens, n, prog, d) in enumerate(todo):
        probe = {
            "ensemble": ens,
            "n": paley_q(n) + 1 if ens == "paley" else n,
            "program": prog,
            "delta": 0.5 if ens == "paley" else max(1, round(d * n)) / n,
        }
        if _key(probe) in done:
            continue
        b = block(ens, n, prog, d, args.n_trials, args.seed)
        res["blocks"].append(b)
        path.write_text(json.dumps(res, indent=1))
        print(
            f"[{i + 1}/{len(todo)}] {ens:12s} N={b['n']} {prog:11s} delta={b['delta']:.3f}: "
            f"rho_50={b['rho_50']:.4f} +- {b['se']:.4f}, rho_W={b['rho_w']:.4f} "
            f"({b['relative_deviation']:+.2%}), {b['seconds']:.1f} s",
            flush=True,
        )
    res["summary"] = summarise(res["blocks"])
    path.write_text(json.dumps(res, indent=1))
    for key, v in res["summary"].items():
        print(key, v)
    import matplotlib

    matplotlib.use("Agg")
    fig = figure(res)
    fig.savefig(out / "universality.png", dpi=110)
    print(f"wrote {path} and {out / 'universality.png'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
