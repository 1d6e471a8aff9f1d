"""How well a learned dictionary and its codes match the ground truth.

Conventions (the literature uses the same words for different things; names here say which):

- ``mmcs_features``: mean over the n true features of the largest cosine with any learned atom
  (Sharkey et al. 2022's MMCS: "does every true feature have an atom?");
- ``mmcs_atoms``: mean over the L learned atoms of the largest cosine with any true feature
  ("is every atom a true feature?");
- ``decoder_mcc``: one-to-one (Hungarian) matching of true features and atoms on |cos|, mean of
  the matched |cos| over the n true features (an unmatched feature, when L < n, counts 0);
- ``code_mcc``: Pearson correlations between true and inferred codes, one-to-one Hungarian
  matching on |corr| (O'Neill et al. 2024's MCC), mean over the n true features;
- ``recovery_rate``: fraction of true features with some atom at cosine > 0.9.

Cosines are signed by default (codes are nonnegative, so an atom pointing at -f_i does not
represent f_i); ``absolute=True`` uses |cos|.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from csuper._lazy import lazy_import
from csuper._norms import pow2_exponent, unit_scaled
from csuper._validation import check_array, check_bool, check_int, check_real

optimize = lazy_import("scipy.optimize")

__all__ = [
    "absorption",
    "code_mcc",
    "code_shrinkage",
    "cosine_matrix",
    "dead_latents",
    "decoder_matching",
    "decoder_mcc",
    "fraction_of_variance_unexplained",
    "l0",
    "mmcs_atoms",
    "mmcs_features",
    "recovery_rate",
    "relative_reconstruction_bias",
    "AbsorptionResult",
]


def _frames(true, learned) -> tuple[np.ndarray, np.ndarray]:
    A = check_array(true, "true", ndim=2, dtype=np.float64)
    B = check_array(learned, "learned", ndim=2, dtype=np.float64)
    if A.shape[0] != B.shape[0]:
        raise ValueError(
            "true and learned must have the same number of rows (n_dims); "
            f"got {A.shape} and {B.shape}."
        )
    # cosines are scale invariant: each column to a largest entry in [0.5, 1) first (exact), so
    # that the squares neither overflow (columns of 1e200) nor underflow (1e-200)
    A, B = unit_scaled(A, axis=0), unit_scaled(B, axis=0)
    na = np.linalg.norm(A, axis=0)
    nb = np.linalg.norm(B, axis=0)
    return A / np.where(na > 0, na, 1.0), B / np.where(nb > 0, nb, 1.0)


def cosine_matrix(true, learned, *, absolute: bool = False) -> np.ndarray:
    """Cosines between the columns of ``true`` (m, n) and ``learned`` (m, L), shape (n, L).

    Zero columns have cosine 0 with everything.

    Examples
    --------
    >>> print(cosine_matrix(np.eye(2), [[1.0, -1.0], [1.0, 0.0]]).round(4))
    [[ 0.7071 -1.    ]
     [ 0.7071  0.    ]]
    """
    A, B = _frames(true, learned)
    C = A.T @ B
    return np.abs(C) if check_bool(absolute, "absolute") else C


def mmcs_features(true, learned, *, absolute: bool = False) -> float:
    """Mean over true features of the largest cosine with a learned atom (MMCS, Sharkey et al.).

    Examples
    --------
    >>> print(mmcs_features(np.eye(2), [[1.0, 0.6], [0.0, 0.8]]))
    0.8
    """
    return float(cosine_matrix(true, learned, absolute=absolute).max(axis=1).mean())


def mmcs_atoms(true, learned, *, absolute: bool = False) -> float:
    """Mean over learned atoms of the largest cosine with a true feature.

    Examples
    --------
    >>> print(mmcs_atoms(np.eye(2), [[1.0, 0.6, 1.0], [0.0, 0.8, 0.0]]))
    0.9333333333333332
    """
    return float(cosine_matrix(true, learned, absolute=absolute).max(axis=0).mean())


def recovery_rate(true, learned, *, threshold: float = 0.9, absolute: bool = False) -> float:
    """Fraction of true features whose best atom has cosine > ``threshold`` (default 0.9).

    Examples
    --------
    >>> print(recovery_rate(np.eye(2), [[1.0, 0.6], [0.0, 0.8]]))
    0.5
    """
    t = check_real(threshold, "threshold", low=-1.0, high=1.0)
    return float((cosine_matrix(true, learned, absolute=absolute).max(axis=1) > t).mean())


def decoder_matching(true, learned) -> tuple[np.ndarray, np.ndarray]:
    """One-to-one matching of true features to atoms maximising the total |cos| (Hungarian).

    Returns
    -------
    (rows, cols) : ndarrays of int
        True feature rows[q] is matched to atom cols[q]; min(n, L) pairs.
    """
    C = cosine_matrix(true, learned, absolute=True)
    return optimize.linear_sum_assignment(-C)


def decoder_mcc(true, learned) -> float:
    """Decoder-space MCC: mean over the n true features of |cos| with its one-to-one matched atom.

    Matching by :func:`scipy.optimize.linear_sum_assignment` on |cos|; a true feature left
    unmatched (when there are fewer atoms than features) counts 0.

    Examples
    --------
    >>> print(decoder_mcc(np.eye(2), [[1.0, 1.0], [0.0, 0.0]]))
    0.5
    """
    C = cosine_matrix(true, learned, absolute=True)
    r, c = optimize.linear_sum_assignment(-C)
    return float(C[r, c].sum() / C.shape[0])


def _correlations(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """Pearson correlations between the columns of A (N, n) and B (N, L); 0 for constant columns.
    Scale invariant: each column is brought to a largest entry in [0.5, 1) first (exact)."""
    A, B = unit_scaled(A, axis=0), unit_scaled(B, axis=0)
    Ac = A - A.mean(axis=0)
    Bc = B - B.mean(axis=0)
    sa = np.linalg.norm(Ac, axis=0)
    sb = np.linalg.norm(Bc, axis=0)
    C = (Ac.T @ Bc) / np.outer(np.where(sa > 0, sa, 1.0), np.where(sb > 0, sb, 1.0))
    C[sa == 0, :] = 0.0
    C[:, sb == 0] = 0.0
    return C


def _codes(true_codes, inferred_codes) -> tuple[np.ndarray, np.ndarray]:
    A = check_array(true_codes, "true_codes", ndim=2, dtype=np.float64)
    B = check_array(inferred_codes, "inferred_codes", ndim=2, dtype=np.float64)
    if A.shape[0] != B.shape[0]:
        raise ValueError(
            "true_codes and inferred_codes must have the same number of samples; "
            f"got {A.shape} and {B.shape}."
        )
    return A, B


def code_mcc(true_codes, inferred_codes, *, matching: str = "hungarian") -> float:
    """Code-space MCC: mean over true features of |Pearson corr| with the matched inferred code.

    Parameters
    ----------
    true_codes : array_like, shape (N, n)
    inferred_codes : array_like, shape (N, L)
    matching : {"hungarian", "identity"}
        ``"hungarian"``: one-to-one matching maximising the total |corr| (O'Neill et al. 2024);
        ``"identity"``: code i against inferred code i (needs L >= n; inference with a known
        dictionary keeps the order). Unmatched true features count 0; a constant column has
        correlation 0 with everything.

    Examples
    --------
    >>> C = np.array([[1.0, 0.0], [0.0, 2.0], [3.0, 0.0]])
    >>> print(code_mcc(C, C[:, ::-1]), round(code_mcc(C, C[:, ::-1], matching="identity"), 4))
    1.0 0.7559
    """
    A, B = _codes(true_codes, inferred_codes)
    C = np.abs(_correlations(A, B))
    if matching == "hungarian":
        r, c = optimize.linear_sum_assignment(-C)
        return float(C[r, c].sum() / C.shape[0])
    if matching == "identity":
        if B.shape[1] < A.shape[1]:
            raise ValueError(
                f"matching='identity' needs at least {A.shape[1]} inferred codes; got {B.shape[1]}."
            )
        return float(np.diag(C[:, : A.shape[1]]).mean())
    raise ValueError(f"matching must be 'hungarian' or 'identity'; got {matching!r}.")


def dead_latents(codes) -> int:
    """Number of latents (columns of ``codes``, shape (N, L)) that are never nonzero.

    Examples
    --------
    >>> dead_latents([[0.0, 1.0, 0.0], [0.0, 2.0, 0.0]])
    2
    """
    F = check_array(codes, "codes", ndim=2, dtype=np.float64)
    return int(np.sum(~np.any(F != 0, axis=0)))


def l0(codes) -> float:
    """Mean number of nonzero entries per row of ``codes`` (N, L).

    Examples
    --------
    >>> print(l0([[0.0, 1.0], [2.0, 3.0]]))
    1.5
    """
    F = check_array(codes, "codes", ndim=2, dtype=np.float64)
    return float(np.count_nonzero(F, axis=1).mean())


def fraction_of_variance_unexplained(X, X_hat) -> float:
    """FVU = sum |x - x_hat|^2 / sum |x - mean(x)|^2 over the rows.

    Examples
    --------
    >>> print(fraction_of_variance_unexplained([[1.0], [3.0]], [[2.0], [2.0]]))
    1.0
    """
    A = check_array(X, "X", ndim=2, dtype=np.float64)
    B = check_array(X_hat, "X_hat", ndim=2, dtype=np.float64)
    if A.shape != B.shape:
        raise ValueError(f"X and X_hat must have the same shape; got {A.shape} and {B.shape}.")
    scale = float(np.abs(A).max())  # FVU is scale-invariant: compute on X / max|X|
    A0 = A / scale if scale > 0 else A
    den = float(((A0 - A0.mean(axis=0)) ** 2).sum())
    if den == 0:
        raise ValueError("X has zero variance; FVU is undefined.")
    with np.errstate(over="ignore"):  # X_hat beyond X's scale by 1e300: FVU is inf
        return float(((A0 - B / scale) ** 2).sum() / den)


def relative_reconstruction_bias(X, X_hat) -> float:
    """gamma = argmin_g E |x_hat / g - x|^2 = E|x_hat|^2 / E<x_hat, x> (Rajamanoharan et al. 2024).

    gamma < 1 means the reconstructions are shrunk towards 0 (the L1 penalty's shrinkage).
    NaN when sum <x_hat, x> <= 0 (X_hat zero or not positively aligned with X): no positive
    scale g brings X_hat towards X, so gamma is undefined (:func:`mean_ci` skips NaN).

    References
    ----------
    S. Rajamanoharan et al., "Improving Dictionary Learning with Gated Sparse Autoencoders",
    arXiv:2404.16014 (relative reconstruction bias).

    Examples
    --------
    >>> print(relative_reconstruction_bias([[2.0, 0.0]], [[1.0, 0.0]]))
    0.5
    """
    A = check_array(X, "X", ndim=2, dtype=np.float64)
    B = check_array(X_hat, "X_hat", ndim=2, dtype=np.float64)
    if A.shape != B.shape:
        raise ValueError(f"X and X_hat must have the same shape; got {A.shape} and {B.shape}.")
    sa, sb = float(np.abs(A).max()), float(np.abs(B).max())
    if sa == 0 or sb == 0:
        return float("nan")
    A0, B0 = A / sa, B / sb  # gamma = (sb / sa) sum B0^2 / sum A0 B0: no overflow, no underflow
    cross = float((A0 * B0).sum())
    if cross <= 0:
        return float("nan")
    with np.errstate(over="ignore"):
        return float(sb / sa * ((B0 * B0).sum() / cross))


def code_shrinkage(true_codes, inferred_codes, pairs) -> float:
    """Least-squares slope of matched inferred codes on true codes, where the feature is active.

    For matched pairs (i, j) (e.g. from :func:`decoder_matching`), the slope
    sum c_i c_hat_j / sum c_i^2 over the samples with c_i > 0: 1 means unbiased magnitudes,
    < 1 shrinkage. NaN when no matched true feature is ever active (no slope is defined).

    Examples
    --------
    >>> C = np.array([[1.0, 0.0], [2.0, 1.0]])
    >>> print(code_shrinkage(C, 0.5 * C, (np.array([0, 1]), np.array([0, 1]))))
    0.5
    """
    A, B = _codes(true_codes, inferred_codes)
    P = check_array(pairs, "pairs", ndim=2, shape=(2, None), low=0, min_size=0)
    if np.any(P != np.floor(P)):
        raise ValueError("pairs must hold integer feature indices (rows, cols).")
    rows, cols = P.astype(np.int64)
    if rows.size and (rows.max() >= A.shape[1] or cols.max() >= B.shape[1]):
        raise ValueError(
            f"pairs must index true features in [0, {A.shape[1] - 1}] and inferred codes in "
            f"[0, {B.shape[1] - 1}]; got a pair ({int(rows.max())}, {int(cols.max())})."
        )
    on = A[:, rows] > 0
    # slope = 2**(eb - ea) sum(a' b') / sum(a'^2) with a = 2**ea a', b = 2**eb b' (exact), so
    # that codes of 1e200 do not overflow to inf / inf nor codes of 1e-200 underflow to 0 / 0
    a, b = A[:, rows][on], B[:, cols][on]
    ea, eb = (
        pow2_exponent(np.max(np.abs(a), initial=0.0)),
        pow2_exponent(np.max(np.abs(b), initial=0.0)),
    )
    a, b = np.ldexp(a, -ea), np.ldexp(b, -eb)
    den = float((a**2).sum())
    return float(np.ldexp((a * b).sum() / den, eb - ea)) if den > 0 else float("nan")


@dataclass(frozen=True)
class AbsorptionResult:
    """Feature absorption of one parent (see :func:`absorption`).

    Attributes
    ----------
    parent_latent : int
        The atom matched to the parent (largest cosine).
    absorbed : float
        Among samples with the parent and one of its children active: the fraction in which the
        parent's latent is silent (NaN when ``n_with_child`` is 0: no such sample).
    baseline : float
        The same fraction among samples with the parent active and no child (the latent's plain
        miss rate: the null that absorption must exceed; NaN when ``n_without_child`` is 0).
    n_with_child, n_without_child : int
        Sample counts behind the two fractions.
    """

    parent_latent: int
    absorbed: float
    baseline: float
    n_with_child: int
    n_without_child: int


def absorption(
    true_codes, inferred_codes, dictionary, learned, parent: int, children
) -> AbsorptionResult:
    """Feature absorption (Chanin et al. 2024): is the parent's latent silent when a child fires?

    Parameters
    ----------
    true_codes : array_like, shape (N, n)
    inferred_codes : array_like, shape (N, L)
    dictionary, learned : array_like, shapes (m, n), (m, L)
        True features and learned atoms; the parent's latent is the atom of largest cosine.
    parent : int
    children : sequence of int
        At least one feature index.

    References
    ----------
    D. Chanin et al., "A is for Absorption: Studying Feature Splitting and Absorption in Sparse
    Autoencoders", arXiv:2409.14507.

    Examples
    --------
    >>> C = np.array([[1.0, 1.0], [1.0, 0.0], [1.0, 0.0]])
    >>> inferred = np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 0.0]])
    >>> r = absorption(C, inferred, np.eye(2), np.eye(2), 0, [1])
    >>> r.absorbed, r.baseline
    (1.0, 0.0)
    """
    A, B = _codes(true_codes, inferred_codes)
    n = A.shape[1]
    p = check_int(parent, "parent", low=0, high=n - 1)
    if isinstance(children, (str, bytes)) or not isinstance(children, Iterable):
        raise TypeError(f"children must be a sequence of feature indices; got {children!r:.80}.")
    kids = [check_int(c, "children", low=0, high=n - 1) for c in children]
    if not kids:
        raise ValueError("children must hold at least one feature index; got none.")
    C = cosine_matrix(dictionary, learned)
    j = int(np.argmax(C[p]))
    on = A[:, p] > 0
    child = np.any(A[:, kids] > 0, axis=1) if kids else np.zeros(A.shape[0], dtype=bool)
    silent = B[:, j] <= 0
    w, wo = on & child, on & ~child
    return AbsorptionResult(
        j,
        float(silent[w].mean()) if w.any() else float("nan"),
        float(silent[wo].mean()) if wo.any() else float("nan"),
        int(w.sum()),
        int(wo.sum()),
    )
