"""Measured distortion of a map on a point set, streamed over pairs by numba kernels."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from csuper._validation import check_array, check_int, check_real, check_rng
from csuper.jl import _jl_kernels as K
from csuper.jl.transforms import JLTransform

__all__ = ["Distortion", "measure_distortion"]

_N_BINS = 1 << 14


@dataclass(frozen=True)
class Distortion:
    """Distortion of a map on a point set.

    The distortion of a pair is ``|r - 1|`` with ``r = ||f(x_i) - f(x_j)||^2 / ||x_i - x_j||^2``.

    Attributes
    ----------
    max : float
        Largest distortion over the pairs measured.
    max_expansion, max_contraction : float
        Largest ``r - 1`` and ``1 - r`` (each >= 0).
    mean : float
        Mean distortion.
    quantile_levels : tuple of float
        Levels q of :attr:`quantiles`.
    quantiles : ndarray
        Quantiles of the distortion (numpy's default linear interpolation).
    n_pairs : int
        Pairs measured (zero-distance pairs excluded).
    n_skipped : int
        Pairs with x_i == x_j (no ratio; a linear map keeps them equal).
    n_above : int or None
        Pairs whose distortion exceeds ``eps`` (when ``eps`` was given).
    eps : float or None
        Threshold used for :attr:`n_above`.
    exhaustive : bool
        True if every pair was measured, False for a random sample of pairs.
    """

    max: float
    max_expansion: float
    max_contraction: float
    mean: float
    quantile_levels: tuple[float, ...]
    quantiles: np.ndarray
    n_pairs: int
    n_skipped: int
    n_above: int | None
    eps: float | None
    exhaustive: bool

    def within(self, eps: float) -> bool:
        """Whether every measured pair has distortion at most eps."""
        return self.max <= check_real(eps, "eps", low=0.0)


def _linear_quantile(sorted_values_at, positions, n):
    """numpy's 'linear' quantile from a function returning order statistics by rank."""
    out = []
    for h in positions:
        lo = int(np.floor(h))
        hi = min(lo + 1, n - 1)
        a, b = sorted_values_at(lo), sorted_values_at(hi)
        out.append(a + (h - lo) * (b - a))
    return np.array(out, dtype=float)


def _streamed_quantiles(X, Y, levels, n_valid, top):
    """Exact quantiles over all pairs in two more streamed passes (histogram, then collection)."""
    if n_valid == 0 or not levels:
        return np.full(len(levels), np.nan if n_valid == 0 else 0.0)
    positions = [(n_valid - 1) * q for q in levels]
    ranks = sorted(
        {int(np.floor(h)) for h in positions}
        | {min(int(np.floor(h)) + 1, n_valid - 1) for h in positions}
    )
    counts = K.pairs_histogram(X, Y, top, _N_BINS)
    cum = np.concatenate(([0], np.cumsum(counts)))
    bins = np.searchsorted(cum, np.array(ranks), side="right") - 1
    wanted = np.zeros(_N_BINS, dtype=np.bool_)
    wanted[bins] = True
    n_out = int(counts[wanted].sum())
    values = np.sort(K.pairs_collect(X, Y, top, _N_BINS, wanted, n_out))
    # offset of each wanted bin inside the sorted collection
    offsets = np.concatenate(([0], np.cumsum(np.where(wanted, counts, 0))))
    rank_value = {}
    for r, b in zip(ranks, bins):
        rank_value[r] = values[offsets[b] + (r - cum[b])]
    return _linear_quantile(rank_value.__getitem__, positions, n_valid)


def measure_distortion(
    X: Any,
    Y: Any,
    *,
    quantiles: Sequence[float] = (0.5, 0.9, 0.99),
    n_pairs: int | None = None,
    eps: float | None = None,
    rng=None,
) -> Distortion:
    """Distortion ``| ||f(x_i) - f(x_j)||^2 / ||x_i - x_j||^2 - 1 |`` of a map over pairs of points.

    Parameters
    ----------
    X : array_like, shape (N, n)
        Points (rows), N >= 2.
    Y : array_like of shape (N, m), or a JLTransform
        Their images f(x_i) (rows); a :class:`~csuper.jl.JLTransform` is applied to X.
    quantiles : sequence of float in [0, 1]
        Quantile levels to report.
    n_pairs : int or None
        ``None`` measures all N(N-1)/2 pairs, streamed in three passes without storing them (max,
        histogram, then the few values near each requested quantile), so quantiles are exact.
        An int measures that many pairs drawn uniformly with replacement (for large N).
    eps : float >= 0 or None
        If given, count the pairs whose distortion exceeds eps.
    rng : None, int or Generator
        Randomness of the pair sample (unused when all pairs are measured).

    Returns
    -------
    Distortion

    Notes
    -----
    Distances are accumulated in float64 from the coordinate differences (not from Gram entries,
    which cancel catastrophically for close points). Pairs with x_i == x_j have no ratio; they
    are counted in ``n_skipped`` with a warning. Cost O(N^2 (n + m)) per pass over all pairs.

    Examples
    --------
    >>> from csuper.jl import GaussianJL
    >>> X = np.random.default_rng(0).standard_normal((50, 400))
    >>> d = measure_distortion(X, GaussianJL(400, 200, rng=1))
    >>> d.n_pairs, round(d.max, 3), d.within(0.5)
    (1225, 0.287, True)
    """
    Xa = check_array(X, "X", ndim=2)
    if Xa.shape[0] < 2:
        raise ValueError(f"X must hold at least 2 points (rows); got shape {Xa.shape}.")
    if isinstance(Y, JLTransform):
        Ya = Y.apply(Xa)
    else:
        Ya = check_array(Y, "Y", ndim=2)
        if Ya.shape[0] != Xa.shape[0]:
            raise ValueError(
                f"Y must have one row per point of X ({Xa.shape[0]}); got shape {Ya.shape}."
            )
    levels = tuple(check_real(q, "quantiles", low=0.0, high=1.0) for q in quantiles)
    thr = np.inf if eps is None else check_real(eps, "eps", low=0.0)
    N = Xa.shape[0]

    if n_pairs is None:
        max_abs, max_exp, max_con, n_valid, n_skip, n_above, total = K.pairs_summary(Xa, Ya, thr)
        qs = _streamed_quantiles(Xa, Ya, levels, n_valid, max_abs)
        exhaustive = True
    else:
        k = check_int(n_pairs, "n_pairs", low=1)
        gen = check_rng(rng)
        I = gen.integers(0, N, size=k)
        J = gen.integers(0, N - 1, size=k)
        J = J + (J >= I)
        r = K.pairs_ratios(Xa, Ya, I.astype(np.int64), J.astype(np.int64))
        valid = r >= 0
        n_skip, n_valid = int(k - valid.sum()), int(valid.sum())
        r = r[valid]
        d = np.abs(r - 1.0)
        max_abs = float(d.max()) if n_valid else 0.0
        max_exp = float(max(0.0, (r - 1.0).max())) if n_valid else 0.0
        max_con = float(max(0.0, (1.0 - r).max())) if n_valid else 0.0
        n_above = int(np.sum(d > thr))
        total = float(d.sum())
        qs = np.quantile(d, levels) if n_valid and levels else np.full(len(levels), np.nan)
        exhaustive = False
    if n_skip:
        warnings.warn(
            f"{n_skip} pair(s) of identical points were skipped (no distance ratio).",
            RuntimeWarning,
            stacklevel=2,
        )
    if n_valid == 0:
        raise ValueError(
            "X must contain at least two distinct points; every pair measured is a "
            "pair of identical points."
        )
    return Distortion(
        max=float(max_abs),
        max_expansion=float(max_exp),
        max_contraction=float(max_con),
        mean=float(total) / n_valid,
        quantile_levels=levels,
        quantiles=np.asarray(qs, dtype=float),
        n_pairs=int(n_valid),
        n_skipped=int(n_skip),
        n_above=None if eps is None else int(n_above),
        eps=None if eps is None else thr,
        exhaustive=exhaustive,
    )
