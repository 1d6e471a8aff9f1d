"""``csuper bounds``: coherence lower bounds for N lines in R^d, and line-count bounds."""

from __future__ import annotations

import argparse

DESCRIPTION = (
    "Print every coherence lower bound of csuper.geometry.PACKING_BOUNDS for N unit vectors "
    "(feature directions) in R^d: the value of each bound that applies to (N, d), which bounds "
    "do not apply and why, and the best (largest) one. Every unit-norm frame of N columns in R^d "
    "has coherence max_{i != j} |<w_i, w_j>| at least that large. With --eps, also print the "
    "lower and upper bounds on the largest number of lines in R^d with pairwise |<u, v>| <= eps."
)

#: Registry kinds this subcommand reports for (N, d).
_KINDS = ("coherence", "code_inner_product")


def _names() -> list[str]:
    from csuper.geometry import PACKING_BOUNDS

    return [name for name, b in PACKING_BOUNDS.items() if b.kind in _KINDS]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register the options of ``csuper bounds``."""
    parser.add_argument(
        "--n-features",
        type=int,
        required=True,
        metavar="N",
        help="number of unit vectors (features, lines) N >= 2",
    )
    parser.add_argument(
        "--n-dims",
        type=int,
        required=True,
        metavar="D",
        help="dimension d >= 1 of the space they live in",
    )
    parser.add_argument(
        "--bound",
        nargs="+",
        choices=_names(),
        default=None,
        metavar="NAME",
        help="bounds to print (default: all); choices: " + ", ".join(_names()),
    )
    parser.add_argument(
        "--max-order",
        type=int,
        default=16,
        metavar="K",
        help="highest order k tried for the higher-order real Welch bound",
    )
    parser.add_argument(
        "--eps",
        type=float,
        default=None,
        help="also bound the number of lines in R^d with coherence <= eps, 0 < eps < 1",
    )


def _best_order(func, n: int, d: int, kmax: int) -> tuple[float, int]:
    """Largest value of an order-indexed bound over orders 1..kmax and the order attaining it
    (the search stops once an order is trivial: every higher order is trivial too)."""
    best, order = float(func(n, d, 1)), 1
    for k in range(2, kmax + 1):
        val = float(func(n, d, k))
        if val == 0.0:
            break
        if val > best * (1.0 + 1e-12) + 1e-15:
            best, order = val, k
    return best, order


def run(args: argparse.Namespace) -> int:
    """Run ``csuper bounds``; returns the exit status."""
    from csuper._validation import check_int, check_real
    from csuper.geometry import (
        MAX_INT,
        MAX_ORDER_SEARCH,
        PACKING_BOUNDS,
        best_coherence_bound,
        gerzon_bound,
        line_count_bounds,
    )

    n = check_int(args.n_features, "--n-features", low=2, high=MAX_INT)
    d = check_int(args.n_dims, "--n-dims", low=1, high=MAX_INT)
    kmax = check_int(args.max_order, "--max-order", low=1, high=MAX_ORDER_SEARCH)
    eps = (
        None
        if args.eps is None
        else check_real(
            args.eps, "--eps", low=0.0, high=1.0, low_inclusive=False, high_inclusive=False
        )
    )
    names = args.bound or _names()

    print(f"Coherence lower bounds for N={n} unit vectors in R^{d}:")
    for name in names:
        entry = PACKING_BOUNDS[name]
        if entry.applies is None or not entry.applies(n, d):
            print(f"  {name:16s} not applicable: requires {entry.domain}")
            continue
        if entry.orders:
            value, k = _best_order(entry.func, n, d, kmax)
            note = f"   (best order k={k} of 1..{kmax})" if k > 1 else ""
        else:
            value, note = float(entry.func(n, d)), ""
        if entry.kind == "code_inner_product":
            note += "   (bound on the max SIGNED inner product, not |.|)"
        print(f"  {name:16s} {value:.6f}{note}")
    best = best_coherence_bound(n, d, max_order=kmax)
    print(f"Best coherence lower bound: {best.value:.6f} ({best.bound})")
    g = int(gerzon_bound(d))
    note = "" if n <= g else f"; N={n} exceeds it, so these N lines cannot be equiangular"
    print(f"Gerzon: at most {g} equiangular lines in R^{d}{note}")
    if eps is not None:
        lc = line_count_bounds(eps, d, max_order=kmax)
        from csuper.cli._options import count_text

        low = count_text(float(lc.lower), float(lc.log10_lower))
        high = count_text(float(lc.upper), float(lc.log10_upper))
        print(
            f"Lines in R^{d} with pairwise |<u, v>| <= {eps:g}: at least {low} "
            f"({lc.lower_bound}), at most {high} ({lc.upper_bound})"
        )
    return 0
