"""The result object every diagnostic returns, and the small statistics they share.

Confidence intervals over seeds use :func:`csuper.sae.mean_ci` (Student t).

A diagnostic answers one question about a representation (is it a linear code? does it have
more features than dimensions? do neurons align with features?) with a number, the value that
number takes under a stated null or reference, and a plain-language class chosen by a rule
fixed in code before any data are seen.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from csuper._validation import check_int, check_real

__all__ = ["NOT_APPLICABLE", "DiagnosticResult", "train_test_split_rows"]

#: The diagnosis of a test that cannot apply to the data it was given.
NOT_APPLICABLE = "not applicable"


@dataclass(frozen=True)
class DiagnosticResult:
    """Outcome of one diagnostic test.

    Attributes
    ----------
    test : str
        Name of the test (a key of :data:`csuper.diagnose.TESTS`).
    statistic : float
        The test's headline number (NaN when the test does not apply).
    statistic_name : str
        What the statistic is, in words.
    baseline : float
        The value of the statistic under the test's null or reference (see ``baseline_name``).
    baseline_name : str
        What the baseline is, in words (a permutation null, a Haar-rotation null, a closed-form
        budget).
    diagnosis : str
        The plain-language class decided by the test's rule (:data:`NOT_APPLICABLE` when the test
        cannot apply).
    summary : str
        One sentence, generated from the numbers, saying what was found and why.
    details : dict
        Per-feature or per-neuron arrays and the other numbers behind the decision.

    Examples
    --------
    >>> r = DiagnosticResult.not_applicable("decoder_ladder", "no known features were given")
    >>> r.applicable, r.diagnosis
    (False, 'not applicable')
    >>> print(r.summary)
    decoder_ladder does not apply: no known features were given.
    """

    test: str
    statistic: float
    statistic_name: str
    baseline: float
    baseline_name: str
    diagnosis: str
    summary: str
    details: dict = field(default_factory=dict, repr=False)

    @property
    def applicable(self) -> bool:
        """False when the test could not apply to its input (see :attr:`summary` for why)."""
        return self.diagnosis != NOT_APPLICABLE

    @classmethod
    def not_applicable(cls, test: str, reason: str) -> DiagnosticResult:
        """A result saying that ``test`` cannot apply, and why."""
        return cls(
            test=test,
            statistic=math.nan,
            statistic_name="",
            baseline=math.nan,
            baseline_name="",
            diagnosis=NOT_APPLICABLE,
            summary=f"{test} does not apply: {reason}.",
        )

    def to_dict(self) -> dict:
        """JSON-serialisable form (arrays in ``details`` become lists)."""

        def plain(v):
            if isinstance(v, np.ndarray):
                return v.tolist()
            if isinstance(v, (np.floating, np.integer, np.bool_)):
                return v.item()
            if isinstance(v, dict):
                return {str(k): plain(x) for k, x in v.items()}
            if isinstance(v, (list, tuple)):
                return [plain(x) for x in v]
            return v

        return {
            "test": self.test,
            "statistic": self.statistic,
            "statistic_name": self.statistic_name,
            "baseline": self.baseline,
            "baseline_name": self.baseline_name,
            "diagnosis": self.diagnosis,
            "summary": self.summary,
            "details": plain(self.details),
        }


def train_test_split_rows(n_rows: int, test_fraction: float = 1 / 3) -> tuple[slice, slice]:
    """Contiguous train and test row ranges (samples are i.i.d., so no shuffling is needed).

    Examples
    --------
    >>> train_test_split_rows(9)
    (slice(0, 6, None), slice(6, 9, None))
    """
    t = check_real(
        test_fraction, "test_fraction", low=0.0, high=1.0, low_inclusive=False, high_inclusive=False
    )
    n_rows = check_int(n_rows, "n_rows", low=2)
    n_test = max(1, round(n_rows * t))
    return slice(0, n_rows - n_test), slice(n_rows - n_test, n_rows)
