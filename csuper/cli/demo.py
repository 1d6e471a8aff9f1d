"""``csuper demo``: a short tour of frame geometry, printed as facts with their bounds.

A random frame's interference statistics next to the packing bounds and the random-vector laws
that judge them, and a found packing next to a known optimal frame.
"""

from __future__ import annotations

import argparse

DESCRIPTION = (
    "Draw a Gaussian frame W of shape (n_dims, n_features), measure its coherence, interference "
    "and feature dimensionality, and print them next to the packing bounds (Welch, orthoplex, "
    "Levenstein), the exact law of random inner products, the number of nearly orthogonal "
    "directions R^n_dims can hold, and a numerically found line packing against a known optimum."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register the options of ``csuper demo``."""
    parser.add_argument("--n-dims", type=int, default=64, help="m, the dimension of the space")
    parser.add_argument("--n-features", type=int, default=512, help="n, the number of directions")
    parser.add_argument(
        "--eps",
        type=float,
        default=0.2,
        help="overlap tolerance for counting nearly orthogonal directions, in (0, 1)",
    )
    parser.add_argument(
        "--n-trials",
        type=int,
        default=50,
        help="Monte Carlo trials for the coherence of random frames",
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed (same seed, same output)")


def run(args: argparse.Namespace) -> int:
    """Print the geometry facts; returns 0."""
    from csuper._validation import check_int, check_memory, check_real, check_rng
    from csuper.cli._options import count_text
    from csuper.geometry import (
        best_coherence_bound,
        find_packing,
        frame_statistics,
        icosahedron_lines,
        inner_product_moment,
        inner_product_tail,
        line_count_bounds,
        simulate_coherence,
    )

    m = check_int(args.n_dims, "--n-dims", low=2)
    n = check_int(args.n_features, "--n-features", low=2)
    eps = check_real(
        args.eps, "--eps", low=0.0, high=1.0, low_inclusive=False, high_inclusive=False
    )
    n_trials = check_int(args.n_trials, "--n-trials", low=2)
    rng = check_rng(check_int(args.seed, "--seed", low=0))
    check_memory(
        8.0 * m * n,
        f"csuper demo's Gaussian frame of --n-dims {m} x --n-features {n} (float64)",
        "use a smaller --n-features or --n-dims",
    )

    print(f"csuper demo: the geometry of n = {n} feature directions in R^{m} (seed {args.seed})\n")

    W = rng.standard_normal((m, n))
    stats = frame_statistics(W)
    bound = best_coherence_bound(n, m)
    sim = simulate_coherence(n, m, n_trials=n_trials, rng=rng, progress=False)
    print("1. A Gaussian frame W (columns = features)")
    print(f"   coherence mu(W)               {stats.coherence:.4f}")
    print(
        f"   best packing lower bound      {bound.value:.4f}  ({bound.bound}: no {n} lines in "
        f"R^{m} do better)"
    )
    print(
        f"   random frames, E mu +- SE     {sim.mean:.4f} +- {sim.mean_se:.4f}  ({n_trials} trials)"
    )
    print(
        f"   mean squared overlap          {stats.mean_squared_overlap:.5f}  (exact law: E<u,v>^2 "
        "= 1/m = "
        f"{inner_product_moment(2, m):.5f})"
    )
    print(
        f"   sum of feature dims D_i       {stats.feature_dimensionality.sum():.2f}  (budget: m = "
        f"{m})"
    )

    print(f"\n2. How many directions fit with pairwise |<u, v>| <= {eps:g}? (superposition's room)")
    for dims in sorted({m, 4 * m, 8 * m}):
        counts = line_count_bounds(eps, dims)
        low = count_text(float(counts.lower), float(counts.log10_lower))
        high = count_text(float(counts.upper), float(counts.log10_upper))
        print(
            f"   R^{dims:<5d} at least {low:<10s} ({counts.lower_bound}), "
            f"at most {high} ({counts.upper_bound});"
            f" random pair exceeds eps w.p. {inner_product_tail(eps, dims):.3g}"
        )

    known = icosahedron_lines()
    found = find_packing(
        known.shape[1], known.shape[0], kind="lines", n_starts=4, rng=rng, progress=False
    )
    print(
        "\n3. Packing 6 lines in R^3 (an equiangular tight frame exists: the icosahedron's "
        "diagonals)"
    )
    print(
        f"   known optimum coherence       {frame_statistics(known).coherence:.6f}  (= 1/sqrt(5))"
    )
    print(
        f"   found by find_packing         {found.coherence:.6f}  ({found.min_angle_deg:.4f} "
        "degrees)"
    )
    print(f"   Welch bound                   {best_coherence_bound(6, 3).value:.6f}")
    return 0
