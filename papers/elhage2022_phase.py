"""Elhage et al. 2022, "Toy Models of Superposition", section "Superposition as a phase change":
the n = 2, m = 1 phase diagram over (relative importance I_2 / I_1, feature density p), made
complete.

Exact side: the expected loss E[(1/2) sum_i I_i (x_i - ReLU(w_i (w . x) + b_i))^2] of the ReLU
output model is computed in closed form (each activity pattern of (x1, x2) integrated exactly: a
piecewise quadratic on an interval or on the unit square cut by the ReLU's line), and minimised
over (w1, w2, b1, b2) from many starts: every candidate phase (feature 1 only, feature 2 only,
antipodal pair, same-sign mixture, a dominant feature with a weak antipodal partner) plus random
starts. The converged optima are classified by their weights; the optimum of a cell is the
cheapest. Along each importance column, where the optimal phase changes between two densities,
the crossing of the two phases' loss branches (each followed by continuation) is bisected: a
first-order boundary shows as two distinct coexisting minima at the crossing (a jump in W) and a
kink in the optimal loss (the branches' slopes differ).

Trained side: the toy trainer (4,000 steps, batch 1024, AdamW lr 1e-2 with linear decay) with
20 seeds per cell, each seed's final weights classified like the exact optima.

Paper (their phase-diagram figure, and the notebook Exploring_Exact_Toy_Models by Wattenberg):
three regions -- dense data and unequal importance keep only the more important feature, sparse
data give antipodal superposition -- and "a real phase change": "The optimal weight configuration
discontinuously changes in magnitude and superposition" (first order: "there's crossover between
the functions, causing a discontinuity in the derivative of the optimal loss").

Runtime on 2 cores: 27 minutes for the committed 8 x 8 grid with 20 seeds (``--grid 8``, load
8-12): the exact multi-start optimisation about 3 minutes, the boundaries and the training of
the 1,280 models the rest; the 16 x 16 default is about four times that.
``--grid``, ``--n-seeds`` and ``--n-steps`` shrink it.

Usage: python papers/elhage2022_phase.py OUTDIR [--grid 16] [--n-seeds 20] [--n-steps 4000]
Writes OUTDIR/phase.json and OUTDIR/phase.png.
"""

from __future__ import annotations

import argparse
import json
import pathlib

import numpy as np
from scipy import optimize

import csuper.toy as toy

#: Committed results (under papers/results/), checked by tests/papers/test_drift.py.
RESULTS = ("elhage2022/phase.json",)
PHASES = (
    "feature 1 only",
    "feature 2 only",
    "antipodal",
    "same-sign mixture",
    "feature 1 + weak antipodal feature 2",
    "feature 2 + weak antipodal feature 1",
)
#: A weight below ZERO_TOL in absolute value counts as dropped; above REPRESENTED (the paper's
#: 0.5 convention) as represented.
ZERO_TOL, REPRESENTED = 0.05, 0.5
#: Verdict criteria: a cell is "on the boundary" when its two cheapest phases' exact losses are
#: within BOUNDARY_GAP (relative); off the boundary, the best-of-seeds trained phase must equal the
#: exact optimum's in at least AGREEMENT of the cells. A boundary is first order when the two
#: coexisting minima at the crossing differ by more than JUMP_TOL in W.
BOUNDARY_GAP, AGREEMENT, JUMP_TOL = 0.005, 0.95, 0.1


# -- exact expected loss --------------------------------------------------------------------


def _on_interval(a: float, c: float):
    """{u in [0, 1]: a u + c > 0} as (lo, hi), or None."""
    if a == 0.0:
        return (0.0, 1.0) if c > 0.0 else None
    t = -c / a
    lo, hi = (max(0.0, t), 1.0) if a > 0.0 else (0.0, min(1.0, t))
    return (lo, hi) if hi > lo else None


def _term_1d(a: float, c: float, alpha: float) -> float:
    """Integral over u in [0, 1] of (alpha u - ReLU(a u + c))^2."""
    out = alpha * alpha / 3.0
    iv = _on_interval(a, c)
    if iv is not None:
        lo, hi = iv
        # on the interval: (a u + c)^2 - 2 alpha u (a u + c) = k2 u^2 + k1 u + k0
        k2, k1, k0 = a * a - 2.0 * alpha * a, 2.0 * a * c - 2.0 * alpha * c, c * c
        out += k2 * (hi**3 - lo**3) / 3.0 + k1 * (hi**2 - lo**2) / 2.0 + k0 * (hi - lo)
    return out


_SQUARE = ((0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0))


def _clip(a1: float, a2: float, c: float) -> list:
    """The polygon {(u, v) in [0, 1]^2: a1 u + a2 v + c > 0} (Sutherland-Hodgman, one plane)."""
    z = [a1 * u + a2 * v + c for u, v in _SQUARE]
    out = []
    for k in range(4):
        j = (k + 1) % 4
        if z[k] > 0.0:
            out.append(_SQUARE[k])
        if (z[k] > 0.0) != (z[j] > 0.0):
            t = z[k] / (z[k] - z[j])
            (u0, v0), (u1, v1) = _SQUARE[k], _SQUARE[j]
            out.append((u0 + t * (u1 - u0), v0 + t * (v1 - v0)))
    return out


def _term_2d(a1: float, a2: float, c: float, i: int) -> float:
    """Integral over the unit square of (x_i - ReLU(a1 u + a2 v + c))^2, x_0 = u, x_1 = v: 1/3
    plus the integral of z^2 - 2 x_i z (z = a1 u + a2 v + c) over the polygon where z > 0, by a
    fan of triangles and the edge-midpoint rule (exact for quadratics)."""
    out = 1.0 / 3.0
    P = _clip(a1, a2, c)
    for k in range(1, len(P) - 1):
        T = (P[0], P[k], P[k + 1])
        area = 0.5 * abs(
            (T[1][0] - T[0][0]) * (T[2][1] - T[0][1]) - (T[2][0] - T[0][0]) * (T[1][1] - T[0][1])
        )
        acc = 0.0
        for e in range(3):
            (u0, v0), (u1, v1) = T[e], T[(e + 1) % 3]
            u, v = 0.5 * (u0 + u1), 0.5 * (v0 + v1)
            z = a1 * u + a2 * v + c
            acc += z * z - 2.0 * (u if i == 0 else v) * z
        out += area / 3.0 * acc
    return out


def expected_loss(w, b, importance, p: float) -> float:
    """Exact E[(1/2) sum_i I_i (x_i - ReLU(w_i (w1 x1 + w2 x2) + b_i))^2] (csuper's loss, the
    mean over the two features), x_i = 0 with probability 1 - p, else Uniform[0, 1],
    independently."""
    w1, w2 = (float(v) for v in np.asarray(w, dtype=float).ravel())
    q = 1.0 - p
    total = 0.0
    for i, wi in enumerate((w1, w2)):
        a1, a2, c = wi * w1, wi * w2, float(b[i])
        term = (
            q * q * max(c, 0.0) ** 2
            + p * q * _term_1d(a1, c, 1.0 if i == 0 else 0.0)
            + p * q * _term_1d(a2, c, 1.0 if i == 1 else 0.0)
            + p * p * _term_2d(a1, a2, c, i)
        )
        total += importance[i] * term
    return 0.5 * total


# -- phases ---------------------------------------------------------------------------------


def classify(w) -> int:
    """Index into PHASES of a weight vector (w1, w2); -1 when neither feature is kept."""
    w = np.asarray(w, dtype=float).ravel()
    n1, n2 = abs(w[0]), abs(w[1])
    if n1 < ZERO_TOL and n2 < ZERO_TOL:
        return -1
    if n2 < ZERO_TOL:
        return 0
    if n1 < ZERO_TOL:
        return 1
    if w[0] * w[1] > 0.0:
        return 3
    if n1 > REPRESENTED and n2 > REPRESENTED:
        return 2
    if n1 >= n2:
        return 4 if n2 <= REPRESENTED else 2
    return 5 if n1 <= REPRESENTED else 2


def _starts(p: float, rng: np.random.Generator, n_random: int) -> list[np.ndarray]:
    m = p / 2.0  # a dropped feature's best constant output is its mean
    fixed = [
        (1.0, 0.0, 0.0, m),  # feature 1 only
        (0.0, 1.0, m, 0.0),  # feature 2 only
        (1.0, -1.0, 0.0, 0.0),  # antipodal
        (1.0, -0.8, -0.1, -0.1),
        (0.8, -1.0, -0.1, -0.1),
        (0.7, 0.7, -0.2, -0.2),  # same-sign mixture
        (1.0, 0.4, 0.0, 0.0),
        (0.4, 1.0, 0.0, 0.0),
        (1.0, -0.3, 0.0, m),  # dominant + weak antipodal partner
        (0.3, -1.0, m, 0.0),
    ]
    out = [np.array(s) for s in fixed]
    out += [rng.normal(0.0, 1.0, 4) * (1.0, 1.0, 0.3, 0.3) for _ in range(n_random)]
    return out


def _canonical(th) -> np.ndarray:
    """W -> -W leaves the model unchanged: make the larger weight positive."""
    th = np.array(th, dtype=float)
    if th[int(np.argmax(np.abs(th[:2])))] < 0:
        th[:2] = -th[:2]
    return th


def _distance(a, b) -> float:
    """Distance between two optima, invariant under W -> -W."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    flip = b * (-1.0, -1.0, 1.0, 1.0)
    return float(min(np.linalg.norm(a - b), np.linalg.norm(a - flip)))


def _minimise(theta0, imp, p):
    res = optimize.minimize(
        lambda t: expected_loss(t[:2], t[2:], imp, p),
        theta0,
        method="L-BFGS-B",
        options={"maxiter": 500, "ftol": 1e-14, "gtol": 1e-9},
    )
    return _canonical(res.x), float(res.fun)


def optimum(imp, p: float, *, warm=(), n_random: int = 4, rng=0) -> dict:
    """Multi-start minimisation of the exact loss (every phase's start, ``n_random`` random
    starts and the ``warm`` starts): the best optimum found in each phase and the global one."""
    gen = np.random.default_rng(rng)
    best: dict[int, tuple[float, np.ndarray]] = {}
    for th0 in [*_starts(p, gen, n_random), *warm]:
        th, f = _minimise(th0, imp, p)
        ph = classify(th[:2])
        if ph not in best or f < best[ph][0]:
            best[ph] = (f, th)
    phase = min(best, key=lambda k: best[k][0])
    losses = sorted(v[0] for v in best.values())
    return {
        "phase": phase,
        "loss": best[phase][0],
        "theta": best[phase][1].tolist(),
        "gap_to_second": (losses[1] - losses[0]) / losses[0] if len(losses) > 1 else None,
        "phases": {str(k): {"loss": v[0], "theta": v[1].tolist()} for k, v in best.items()},
    }


def _slope(theta, imp, p: float) -> float:
    """dL/dp along the local minimum through theta (central difference with continuation)."""
    h = 1e-4 * p
    return (_minimise(theta, imp, p + h)[1] - _minimise(theta, imp, p - h)[1]) / (2 * h)


def locate_transitions(imp, p_lo: float, p_hi: float, lo_cell: dict, hi_cell: dict) -> list:
    """The phase transitions between densities p_lo < p_hi, whose optima differ in phase.

    Bisection in log p on "the optimum is still in the lower cell's phase"; at each midpoint the
    optimum is found from every phase's start and every optimum known so far (continuation), so
    a phase that appears only inside the interval is found too (the search then recurses above
    it). At the transition the optima on both sides (2^-24 of the interval apart in log p) are
    compared: a jump in (w, b) larger than JUMP_TOL, with different slopes dL/dp, marks a
    first-order transition."""
    A = lo_cell["phase"]
    warm = [np.array(v["theta"]) for c in (lo_cell, hi_cell) for v in c["phases"].values()]
    lo, hi = np.log(p_lo), np.log(p_hi)
    below, above = lo_cell, hi_cell
    for _ in range(24):
        mid = 0.5 * (lo + hi)
        c = optimum(imp, float(np.exp(mid)), warm=warm, n_random=0)
        warm = warm[-12:] + [np.array(v["theta"]) for v in c["phases"].values()]
        if c["phase"] == A:
            lo, below = mid, c
        else:
            hi, above = mid, c
    p_star = float(np.exp(0.5 * (lo + hi)))
    jump = _distance(below["theta"], above["theta"])
    out = [
        {
            "from": int(A),
            "to": int(above["phase"]),
            "p": p_star,
            "jump_in_theta": jump,
            "theta_below": below["theta"],
            "theta_above": above["theta"],
            "loss_slopes": [
                _slope(below["theta"], imp, p_star),
                _slope(above["theta"], imp, p_star),
            ],
            "first_order": bool(jump > JUMP_TOL),
        }
    ]
    if above["phase"] != hi_cell["phase"]:
        out += locate_transitions(imp, float(np.exp(hi)), p_hi, above, hi_cell)
    return out


# -- the experiment -------------------------------------------------------------------------


def grid_axes(n: int):
    return np.logspace(-1, 1, n), np.logspace(-2, 0, n)  # I_2 / I_1, p


def train_cells(rel, dens, cells, n_seeds: int, n_steps: int, seed: int):
    """Train n_seeds models per cell (cells: list of (column, row) indices); returns the model
    and the seeds (cell-major)."""
    P = np.array([dens[j] for _, j in cells])
    IMP = np.array([[1.0, rel[i]] for i, _ in cells])
    P = np.repeat(P, n_seeds)
    IMP = np.repeat(IMP, n_seeds, axis=0)
    seeds = np.random.default_rng(seed).integers(0, 2**31, size=P.size)
    settings = toy.TrainSettings(n_steps=n_steps, lr=1e-2, schedule="linear")
    model = toy.train(
        toy.feature_distribution(2, np.repeat(P[:, None], 2, axis=1)),
        1,
        importance=IMP,
        settings=settings,
        seeds=seeds,
        progress=True,
    )
    return model, seeds, P, IMP


def summarise_trained(model, seeds, P, IMP, n_seeds: int, exact: list) -> list[dict]:
    rows = []
    for c in range(len(exact)):
        sl = slice(c * n_seeds, (c + 1) * n_seeds)
        phases = [classify(model.W[r, 0]) for r in range(sl.start, sl.stop)]
        best = sl.start + int(np.argmin(model.final_loss[sl]))
        ex = expected_loss(model.W[best, 0], model.b[best], IMP[best], P[best])
        rows.append(
            {
                "seeds": [int(s) for s in seeds[sl]],
                "phases": phases,
                "best_seed_phase": phases[best - sl.start],
                "fraction_in_exact_phase": float(np.mean(np.array(phases) == exact[c]["phase"])),
                "best_seed_excess_loss": (ex - exact[c]["loss"]) / exact[c]["loss"],
            }
        )
    return rows


def verdicts(res: dict) -> dict:
    cells = res["cells"]
    off = [
        c
        for c in cells
        if c["exact"]["gap_to_second"] is None or c["exact"]["gap_to_second"] > BOUNDARY_GAP
    ]
    agree = [c["trained"]["best_seed_phase"] == c["exact"]["phase"] for c in off]
    frac = float(np.mean(agree)) if agree else float("nan")
    regions = {c["exact"]["phase"] for c in cells}
    bounds = res["boundaries"]
    # leaving antipodal superposition as the data get denser (the paper's phase change)
    leaving = [b for b in bounds if b["from"] == 2]
    return {
        "three_regions": "reproduced" if {0, 1, 2} <= regions else "not supported",
        "first_order": "reproduced"
        if leaving and all(b["first_order"] for b in leaving)
        else "not supported",
        "trained_match_exact": "reproduced" if frac >= AGREEMENT else "not supported",
        "agreement_off_boundary": frac,
        "n_off_boundary_cells": len(off),
        "n_transitions_out_of_antipodal": len(leaving),
        "n_first_order_out_of_antipodal": sum(b["first_order"] for b in leaving),
        "exact_phases_present": sorted(PHASES[k] if k >= 0 else "none" for k in regions),
        "criteria": "three regions: the exact optima include feature 1 only, feature 2 only and "
        "antipodal; first order: in every importance column, the optimum leaves the antipodal "
        f"phase (as p grows) with a jump > {JUMP_TOL} in (w, b); trained: the best-of-seeds "
        f"phase equals the exact optimum's in >= {AGREEMENT:.0%} of the cells whose two "
        f"cheapest phases differ by > {BOUNDARY_GAP:.1%}",
    }


def run(grid: int, n_seeds: int, n_steps: int, seed: int, progress: bool = True) -> dict:
    rel, dens = grid_axes(grid)
    cells = [(i, j) for j in range(grid) for i in range(grid)]  # row j: density, column i
    exact = []
    for n, (i, j) in enumerate(cells):
        exact.append(optimum((1.0, rel[i]), dens[j], rng=[seed, i, j]))
        if progress and n % grid == grid - 1:
            print(f"exact optima: {n + 1}/{len(cells)} cells", flush=True)
    boundaries = []
    for i in range(grid):
        for j in range(grid - 1):
            lo, hi = exact[j * grid + i], exact[(j + 1) * grid + i]
            if lo["phase"] != hi["phase"]:
                for b in locate_transitions((1.0, rel[i]), dens[j], dens[j + 1], lo, hi):
                    boundaries.append({"relative_importance": float(rel[i]), **b})
    model, seeds, P, IMP = train_cells(rel, dens, cells, n_seeds, n_steps, seed)
    trained = summarise_trained(model, seeds, P, IMP, n_seeds, exact)
    res = {
        "settings": {
            "grid": grid,
            "n_seeds": n_seeds,
            "n_steps": n_steps,
            "batch_size": 1024,
            "lr": 1e-2,
            "schedule": "linear",
            "optimizer": "adamw",
            "seed": seed,
        },
        "phases": list(PHASES),
        "relative_importance": rel.tolist(),
        "density": dens.tolist(),
        "cells": [
            {"relative_importance": float(rel[i]), "p": float(dens[j]), "exact": e, "trained": t}
            for (i, j), e, t in zip(cells, exact, trained)
        ],
        "boundaries": boundaries,
    }
    res["verdicts"] = verdicts(res)
    return res


def drift(committed: dict) -> dict:
    """Three cells' exact optima recomputed (one per region), the 20 seeds of the cell nearest
    the first first-order boundary retrained, and the verdicts from the committed numbers."""
    (path,) = RESULTS
    res = committed[path]
    s = res["settings"]
    grid = s["grid"]
    rel, dens = grid_axes(grid)
    out = {}
    picked = {}
    for n, c in enumerate(res["cells"]):
        picked.setdefault(c["exact"]["phase"], n)
    for n in sorted(picked.values())[:3]:
        i, j = n % grid, n // grid
        e = optimum((1.0, rel[i]), dens[j], rng=[s["seed"], i, j])
        out[f"{path}#/cells/{n}/exact"] = json.loads(json.dumps(e))
    b = next(b for b in res["boundaries"] if b["from"] == 2)
    i = int(np.argmin(np.abs(rel - b["relative_importance"])))
    j = int(np.argmin(np.abs(np.log(dens) - np.log(b["p"]))))
    n = j * grid + i
    cell = res["cells"][n]
    seeds = np.array(cell["trained"]["seeds"])
    P = np.full(seeds.size, dens[j])
    IMP = np.tile([1.0, rel[i]], (seeds.size, 1))
    model = toy.train(
        toy.feature_distribution(2, np.repeat(P[:, None], 2, axis=1)),
        1,
        importance=IMP,
        settings=toy.TrainSettings(n_steps=s["n_steps"], lr=s["lr"], schedule=s["schedule"]),
        seeds=seeds,
    )
    (t,) = summarise_trained(model, seeds, P, IMP, seeds.size, [cell["exact"]])
    out[f"{path}#/cells/{n}/trained"] = t
    out[f"{path}#/verdicts"] = verdicts(res)
    return out


def figure(res: dict):
    """Exact optimum phase with the located boundaries, best-of-seeds trained phase, and the
    fraction of seeds that found the exact phase."""
    import matplotlib.pyplot as plt
    from matplotlib.colors import ListedColormap

    rel, dens = np.array(res["relative_importance"]), np.array(res["density"])
    g = len(rel)
    exact = np.array([c["exact"]["phase"] for c in res["cells"]]).reshape(g, g)
    best = np.array([c["trained"]["best_seed_phase"] for c in res["cells"]]).reshape(g, g)
    frac = np.array([c["trained"]["fraction_in_exact_phase"] for c in res["cells"]]).reshape(g, g)
    colours = [
        "lightgrey",
        "tab:blue",
        "tab:orange",
        "tab:green",
        "tab:red",
        "tab:purple",
        "tab:brown",
    ]
    cmap = ListedColormap(colours)
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.6), sharey=True)
    for ax, grid_, title in (
        (axes[0], exact, "exact loss: global optimum (multi-start)"),
        (axes[1], best, f"trained: best of {res['settings']['n_seeds']} seeds"),
    ):
        ax.pcolormesh(rel, dens, grid_, cmap=cmap, vmin=-1.5, vmax=5.5, shading="nearest")
        ax.set_title(title, fontsize=10)
    mesh = axes[2].pcolormesh(rel, dens, frac, cmap="viridis", vmin=0, vmax=1, shading="nearest")
    fig.colorbar(mesh, ax=axes[2], label="fraction of seeds in the exact phase")
    axes[2].set_title("seeds that found the exact optimum's phase", fontsize=10)
    for b in res["boundaries"]:
        for ax in axes:
            ax.plot(
                b["relative_importance"],
                b["p"],
                "k_" if b["first_order"] else "wx",
                ms=9,
                mew=2,
            )
    for ax in axes:
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("relative importance I_2 / I_1")
    axes[0].set_ylabel("feature density p = 1 - S")
    used = sorted(set(exact.ravel()) | set(best.ravel()))
    handles = [plt.Rectangle((0, 0), 1, 1, color=cmap(k + 1)) for k in used]
    labels = [PHASES[k] if k >= 0 else "none" for k in used]
    handles += [
        plt.Line2D([], [], color="k", marker="_", ls="", ms=9, mew=2),
        plt.Line2D([], [], color="grey", marker="x", ls="", ms=7, mew=2),
    ]
    labels += ["first-order transition", "continuous transition"]
    fig.legend(handles, labels, loc="upper center", ncol=len(handles), fontsize=8)
    fig.tight_layout(rect=(0, 0, 1, 0.9))
    return fig


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("outdir")
    ap.add_argument("--grid", type=int, default=16, help="cells per axis")
    ap.add_argument("--n-steps", type=int, default=4000)
    ap.add_argument("--n-seeds", type=int, default=20, help="trained seeds per cell")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    out = pathlib.Path(args.outdir)
    out.mkdir(parents=True, exist_ok=True)
    res = run(args.grid, args.n_seeds, args.n_steps, args.seed)
    (out / "phase.json").write_text(json.dumps(res, indent=1))
    print(res["verdicts"])
    for b in res["boundaries"]:
        print(
            f"I2/I1={b['relative_importance']:.3f}: {PHASES[b['from']]} -> {PHASES[b['to']]} "
            f"at p = {b['p']:.4f}, jump {b['jump_in_theta']:.3f}, slopes "
            f"{b['loss_slopes'][0]:.5f} / {b['loss_slopes'][1]:.5f}"
        )
    import matplotlib

    matplotlib.use("Agg")
    fig = figure(res)
    fig.savefig(out / "phase.png", dpi=120)
    print(f"wrote {out / 'phase.json'} and {out / 'phase.png'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
