"""The budget-filling (KKT) solver and the capacity classes shared by the allocation modules.

Private to :mod:`csuper.compare`: :mod:`~csuper.compare.capacity` (the ReLU toy model) and
:mod:`~csuper.compare.quadratic` (Scherlis et al.'s quadratic model) both allocate a capacity
budget sum_i C_i <= m by the same Lagrangian rule and classify features by the same thresholds.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = ["fill_budget", "classify"]


def fill_budget(
    capacity_at: Callable[[float], np.ndarray], lam_max: float, n_dims: int
) -> tuple[np.ndarray, float]:
    """Solve sum_i C_i(lambda) = m for nonincreasing C_i(lambda) by bisection on log lambda.

    ``capacity_at(lam)`` returns C(lambda) as the argmax of -l_i(C) - lam C (right-continuous:
    at a tie it returns the smallest maximiser). At lambda* = inf{lambda: sum C(lambda) <= m}
    the features tied between C(lambda*-) and C(lambda*+) share the remaining budget
    proportionally (the continuous-knapsack fill), so that sum C = m exactly. Returns the
    capacities and lambda* (0 when the budget is not binding).
    """
    c0 = capacity_at(0.0)
    if c0.sum() <= n_dims:
        return c0, 0.0
    lo, hi = 0.0, float(lam_max)
    while capacity_at(hi).sum() > n_dims:  # lam_max should already exceed every benefit
        hi *= 2.0
    for _ in range(400):
        mid = np.sqrt(lo * hi) if lo > 0 else 1e-3 * hi
        if mid <= lo or mid >= hi:
            break
        if capacity_at(mid).sum() > n_dims:
            lo = mid
        else:
            hi = mid
        if lo > 0 and hi <= lo * (1.0 + 1e-14):
            break
    c_hi, c_lo = capacity_at(hi), capacity_at(lo)  # sums: <= m and > m
    gap = c_lo.sum() - c_hi.sum()
    t = 0.0 if gap <= 0 else (n_dims - c_hi.sum()) / gap
    lam = float(np.sqrt(hi * lo) if lo > 0 else hi)
    return np.clip(c_hi + t * (c_lo - c_hi), 0.0, 1.0), lam


def classify(C: np.ndarray, monosemantic_above: float, ignored_below: float) -> np.ndarray:
    """Class of each capacity: 'monosemantic' (C >= monosemantic_above), 'ignored'
    (C <= ignored_below) or 'fractional' (between); array of str."""
    out = np.full(C.shape, "fractional", dtype=object)
    out[monosemantic_above <= C] = "monosemantic"
    out[ignored_below >= C] = "ignored"
    return out.astype(str)
