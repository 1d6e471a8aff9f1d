"""Compositional codes: is the code of an item the sum of a code for each of its factors
(shape + colour), or a conjunctive code that a sum cannot explain?
"""

from __future__ import annotations

import numpy as np

from csuper._norms import unit_scaled
from csuper._validation import check_array, check_int, check_real, check_rng
from csuper.diagnose._inputs import MAX_RESAMPLES
from csuper.diagnose.results import DiagnosticResult

__all__ = ["interaction_fraction", "additivity"]


def _cell_means(H: np.ndarray, factors: np.ndarray) -> np.ndarray | None:
    a, b = factors[:, 0], factors[:, 1]
    A, B = int(a.max()) + 1, int(b.max()) + 1
    M = np.zeros((A, B, H.shape[1]))
    count = np.zeros((A, B))
    np.add.at(M, (a, b), H)
    np.add.at(count, (a, b), 1.0)
    if np.any(count == 0):
        return None
    return M / count[:, :, None]


def interaction_fraction(M) -> float:
    """Share of the variance of a full table of codes M (A, B, m) that the additive model
    mu + alpha_a + beta_b does not explain (two-way decomposition of the cell means).

    Notes
    -----
    With the balanced decomposition M_ab = mu + alpha_a + beta_b + gamma_ab, the fraction is
    sum gamma^2 / sum (M - mu)^2, summed over the m coordinates. A local (one-hot) code of the A B
    items spreads its variance evenly over the (A B - 1) dimensions of the table, of which
    (A - 1)(B - 1) are interactions: the fraction is (A - 1)(B - 1) / (A B - 1), 9/15 for
    4 shapes x 4 colours. A decomposable code (shape code + colour code) has fraction 0.

    Examples
    --------
    >>> print(round(interaction_fraction(np.eye(16).reshape(4, 4, 16)), 6))
    0.6
    """
    # a ratio of sums of squares: on M scaled by a power of two (exact) they neither overflow
    # (M ~ 1e200 gave inf / inf = NaN) nor underflow (1e-200 gave NaN for 0 / 0)
    M = unit_scaled(check_array(M, "M", ndim=3, dtype=np.float64))
    mu = M.mean(axis=(0, 1))
    alpha = M.mean(axis=1) - mu
    beta = M.mean(axis=0) - mu
    gamma = M - mu - alpha[:, None, :] - beta[None, :, :]
    total = float(np.sum((M - mu) ** 2))
    return float(np.sum(gamma**2) / total) if total > 0 else float("nan")


def additivity(
    H, factors, *, n_permutations: int = 200, additive_tol: float = 0.05, rng=None
) -> DiagnosticResult:
    """The additive (factorisation) test: is each item's code the sum of its factors' codes?

    Parameters
    ----------
    H : array_like, shape (N, m)
        Codes of N samples.
    factors : array_like of int, shape (N, 2) or None
        The two factor levels of each sample (e.g. shape, colour), every combination present.
        Without factors the test does not apply.
    n_permutations : int
        Random reassignments of the cell codes to the cells in the null (no factor structure).
    additive_tol : float
        The code is additive when the interaction fraction is at most this.
    rng : None, int or numpy.random.Generator

    Returns
    -------
    DiagnosticResult
        statistic = :func:`interaction_fraction` of the cell means; baseline = its mean when the
        cell codes are shuffled over the cells; diagnosis "additive" (decomposable) or
        "non-additive" (conjunctive). Details: ``p_value`` (share of the null at or below the
        statistic), ``n_items``, ``rank`` (dimensions the item codes span, uncentred) and
        ``items_per_dimension``.

    Notes
    -----
    Elhage et al. (2022, "Theories of neural coding") separate two senses of a distributed code
    with 4 shapes x 4 colours: decomposability (a shape code plus a colour code: 8 neurons for
    16 items) and superposition of items (a binary code: 16 items on 4 neurons). This test
    measures the first; ``items_per_dimension`` > 1 flags the second. They are independent: the
    binary code whose bits are the shape's two bits and the colour's two bits is both additive
    and dense, an XOR-mixed binary code is dense but not additive (:data:`CONSTRUCTIONS`).

    References
    ----------
    N. Elhage et al., "Toy Models of Superposition", arXiv:2209.10652; S. J. Thorpe, "Local vs.
    distributed coding", Intellectica 8:3-40, 1989.

    Examples
    --------
    >>> shape, colour = np.divmod(np.arange(16), 4)
    >>> H = np.hstack([np.eye(4)[shape], np.eye(4)[colour]])     # 4 shape + 4 colour neurons
    >>> additivity(H, np.column_stack([shape, colour]), rng=0).diagnosis
    'additive'
    """
    name = "additivity"
    if factors is None:
        return DiagnosticResult.not_applicable(name, "it needs the factor levels of each sample")
    H = check_array(H, "H", ndim=2, dtype=np.float64)
    check_array(factors, "factors")  # ragged, strings, dicts, objects: named before numpy
    F = np.asarray(factors)
    if F.ndim != 2 or F.shape != (H.shape[0], 2) or not np.issubdtype(F.dtype, np.integer):
        raise ValueError(
            f"factors must be an integer array of shape (N, 2) = ({H.shape[0]}, 2); got "
            f"{F.dtype} {F.shape}."
        )
    if F.min() < 0:
        raise ValueError(f"factors must be nonnegative levels; got minimum {F.min()}.")
    n_perm = check_int(n_permutations, "n_permutations", low=1, high=MAX_RESAMPLES)
    tol = check_real(additive_tol, "additive_tol", low=0.0, high=1.0)
    M = _cell_means(H, F)
    if M is None:
        return DiagnosticResult.not_applicable(name, "some factor combination has no sample")
    if M.shape[0] < 2 or M.shape[1] < 2:
        return DiagnosticResult.not_applicable(name, "each factor needs at least two levels")
    stat = interaction_fraction(M)
    if not np.isfinite(stat):
        return DiagnosticResult.not_applicable(name, "the item codes do not vary")
    gen = check_rng(rng)
    A, B, m = M.shape
    flat = M.reshape(A * B, m)
    null = np.array(
        [interaction_fraction(flat[gen.permutation(A * B)].reshape(A, B, m)) for _ in range(n_perm)]
    )
    p = float((1 + np.sum(null <= stat)) / (n_perm + 1))
    rank = int(np.linalg.matrix_rank(flat))
    diagnosis = "additive" if stat <= tol else "non-additive"
    summary = (
        f"{stat:.1%} of the item codes' variance is interaction (shuffled cells: "
        f"{null.mean():.1%}, p = {p:.3f}); {A * B} items span {rank} dimensions: {diagnosis}."
    )
    return DiagnosticResult(
        test=name,
        statistic=stat,
        statistic_name="interaction share of the item codes' variance",
        baseline=float(null.mean()),
        baseline_name="the same with the cell codes shuffled over the cells",
        diagnosis=diagnosis,
        summary=summary,
        details={
            "p_value": p,
            "null": null,
            "n_items": A * B,
            "rank": rank,
            "items_per_dimension": A * B / max(rank, 1),
        },
    )
