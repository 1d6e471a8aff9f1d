"""Statistics of the study: estimates with bootstrap confidence intervals over replicate seeds,
and verdicts decided by rules declared before the data are seen.

Seeds are replicates: a configuration trained with R seeds gives R independent measurements.
Every interval here is a percentile bootstrap that resamples the replicates *within* each
configuration (a stratified bootstrap: configurations are the design, seeds the noise), and
recomputes the whole statistic -- fits included -- on each resample.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["Estimate", "VERDICTS", "bootstrap", "format_number", "format_estimate"]

#: The three verdicts a question can reach, plus the status of a question without data.
VERDICTS = ("supported", "not supported", "inconclusive", "not run")


@dataclass(frozen=True)
class Estimate:
    """A point estimate with its confidence interval.

    Attributes
    ----------
    value : float
        The statistic on the data as observed.
    low, high : float
        Percentile bootstrap interval (NaN when the statistic is undefined on too many resamples).
    confidence : float
    n_units : int
        Replicates the interval resamples.
    n_bootstrap : int
    """

    value: float
    low: float
    high: float
    confidence: float
    n_units: int
    n_bootstrap: int

    def to_dict(self) -> dict:
        return {
            "value": self.value,
            "low": self.low,
            "high": self.high,
            "confidence": self.confidence,
            "n_units": self.n_units,
            "n_bootstrap": self.n_bootstrap,
        }


def bootstrap(
    strata: Sequence[np.ndarray],
    statistic: Callable[[list[np.ndarray]], Any],
    *,
    n_bootstrap: int,
    confidence: float,
    rng: np.random.Generator,
) -> Any:
    """Stratified percentile bootstrap of ``statistic`` over the rows of each stratum.

    Parameters
    ----------
    strata : sequence of ndarray
        One array per configuration; its rows are the replicates (any trailing shape).
    statistic : callable
        ``statistic(list of arrays)`` -> a float, or a 1-D array of several statistics computed
        together; called on the data and on each resample (rows drawn with replacement within
        each stratum).
    n_bootstrap : int
    confidence : float
    rng : numpy.random.Generator

    Returns
    -------
    Estimate, or list of Estimate when ``statistic`` returns an array
        An interval is NaN when more than 5 % of resamples give a non-finite statistic.

    Examples
    --------
    >>> est = bootstrap([np.arange(10.0)], lambda s: float(s[0].mean()), n_bootstrap=2000,
    ...                 confidence=0.95, rng=np.random.default_rng(0))
    >>> est.value, est.low < 4.5 < est.high
    (4.5, True)
    """
    data = [np.asarray(s) for s in strata]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        value = np.asarray(statistic(data), dtype=float)
        draws = np.empty((n_bootstrap, value.size))
        for b in range(n_bootstrap):
            sample = [s[rng.integers(0, len(s), len(s))] if len(s) else s for s in data]
            draws[b] = np.asarray(statistic(sample), dtype=float).reshape(-1)
    alpha = (1.0 - confidence) / 2.0
    units = int(sum(len(s) for s in data))
    out = []
    for j, v in enumerate(value.reshape(-1)):
        ok = np.isfinite(draws[:, j])
        if ok.mean() < 0.95:
            low = high = math.nan
        else:
            low, high = (float(q) for q in np.quantile(draws[ok, j], [alpha, 1.0 - alpha]))
        out.append(Estimate(float(v), low, high, confidence, units, n_bootstrap))
    return out[0] if value.ndim == 0 else out


def format_number(x: float | None, digits: int = 3) -> str:
    """A number with ``digits`` significant digits ('n/a' for None or NaN)."""
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "n/a" if x is None or math.isnan(x) else ("inf" if x > 0 else "-inf")
    return f"{x:.{digits}g}"


def format_estimate(e: Estimate, digits: int = 3) -> str:
    """``value [low, high]`` with the interval's confidence level."""
    ci = f"{round(100 * e.confidence)} % CI"
    return (
        f"{format_number(e.value, digits)} ({ci} {format_number(e.low, digits)} to "
        f"{format_number(e.high, digits)})"
    )
