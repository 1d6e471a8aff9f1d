"""Linear recoverability: how much of each known feature a least-squares read-out of the
activations recovers, and the budget that caps it.
"""

from __future__ import annotations

import numpy as np

from csuper._norms import pow2_exponent, unit_scaled
from csuper._validation import check_array, check_int, check_real, check_rng
from csuper.diagnose._inputs import (
    MAX_RESAMPLES,
    check_activations,
    check_weights,
    numerical_rank,
    r2_scores,
    varying_features,
)
from csuper.diagnose.results import DiagnosticResult
from csuper.geometry import gram_matrix

__all__ = [
    "LINEAR_DIAGNOSES",
    "WHOLE_TOL",
    "linear_r2",
    "fit_linear",
    "cross_validated_linear",
    "linear_recoverability",
]

#: Diagnoses of :func:`linear_recoverability` (name -> meaning).
LINEAR_DIAGNOSES: dict[str, str] = {
    "linear code": "every feature is a linear read-out of the activations (an invertible linear "
    "code, e.g. a rotation: polysemantic neurons there are not superposition)",
    "superposition": "the linear budget sum_i R^2_i = rank is exhausted and shared: more features "
    "than linear dimensions, each recovered only in part",
    "dropped features": "the linear budget is exhausted by whole features: each is either fully "
    "recovered or absent (fewer represented features than dimensions, no sharing)",
    "non-linear code": "the read-outs leave part of the linear budget unused: the activations are "
    "not a linear code of the features, or a noisy one (see the decoder ladder)",
}


def linear_r2(W, feature_variance=None) -> np.ndarray:
    """Population R^2 of the best affine read-out of each feature from h = W x.

    Parameters
    ----------
    W : array_like, shape (m, n)
        Feature directions as columns (zero columns allowed).
    feature_variance : array_like, shape (n,), optional
        Var(x_i) of independent features; default ones.

    Returns
    -------
    ndarray, shape (n,)
        R^2_i in [0, 1].

    Notes
    -----
    With independent features of variances v_i (Sigma = diag(v)) the covariance of h is
    M = W Sigma W^T and the best affine read-out of x_i explains

        R^2_i = v_i w_i^T M^+ w_i,

    the leverage of column sqrt(v_i) w_i. Two consequences checked in the tests:
    sum_i R^2_i = rank(W Sigma^(1/2)) <= min(m, n) (the *linear budget*: more features than
    dimensions cannot all be linear read-outs), and, for unit variances, by Cauchy-Schwarz
    (|w_i|^2)^2 <= (w_i^T M w_i)(w_i^T M^+ w_i), the feature dimensionality
    D_i = |w_i|^4 / w_i^T M w_i (Elhage et al. 2022) never exceeds R^2_i, with equality when w_i
    is an eigenvector of W W^T (tight frames, dedicated features): interference is what the
    linear read-out loses.

    References
    ----------
    N. Elhage et al., "Toy Models of Superposition", arXiv:2209.10652.

    Examples
    --------
    Three directions at 120 degrees in the plane (a tight frame): each R^2 = m/n = 2/3.

    >>> a = 2 * np.pi * np.arange(3) / 3
    >>> print(np.round(linear_r2(np.vstack([np.cos(a), np.sin(a)])), 6))
    [0.666667 0.666667 0.666667]
    """
    W = check_weights(W)
    n = W.shape[1]
    if feature_variance is None:
        v = np.ones(n)
    else:
        v = check_array(
            feature_variance, "feature_variance", shape=(n,), dtype=np.float64, nonnegative=True
        )
    Ws = W * np.sqrt(v)
    top = float(np.max(np.abs(Ws)))
    Ws = Ws / top if top > 0 else Ws  # R^2 is scale-free; no overflow in M for huge entries
    M = gram_matrix(Ws.T)
    Mp = np.linalg.pinv(M, rcond=1e-12, hermitian=True)
    return np.clip(np.einsum("ki,kl,li->i", Ws, Mp, Ws), 0.0, 1.0)


def fit_linear(H, Y) -> np.ndarray:
    """Least-squares affine read-out of Y (N, q) from H (N, m): coefficients (m + 1, q), the last
    row the intercept.

    Examples
    --------
    >>> H = np.arange(8.0).reshape(4, 2)
    >>> print(np.round(fit_linear(H, 2 * H[:, :1] + 1), 6).ravel())
    [1. 1. 0.]
    """
    H = check_array(H, "H", ndim=2, dtype=np.float64)
    Y = check_array(Y, "Y", ndim=2, dtype=np.float64)
    if Y.shape[0] != H.shape[0]:
        raise ValueError(f"Y must have one row per row of H ({H.shape[0]}); got shape {Y.shape}.")
    A = np.hstack([H, np.ones((H.shape[0], 1))])
    # least squares is equivariant under exact power-of-two scalings of the columns of A (the
    # rows of the coefficients scale inversely) and of Y: at unit scale lstsq's rank cut
    # compares like with like (H ~ 1e200 or 1e-200 beside the intercept's column of ones lost
    # one of them, and the read-out was wrong)
    ea = pow2_exponent(np.max(np.abs(A), axis=0))
    ey = pow2_exponent(np.max(np.abs(Y), axis=0, initial=0.0))
    coef, *_ = np.linalg.lstsq(np.ldexp(A, -ea), np.ldexp(Y, -ey), rcond=None)
    return np.ldexp(coef, ey[None, :] - ea[:, None])


def _predict_linear(coef: np.ndarray, H: np.ndarray) -> np.ndarray:
    return H @ coef[:-1] + coef[-1]


def _frame_fit(H: np.ndarray, X: np.ndarray) -> tuple[np.ndarray, float]:
    """``(coef, R^2)``: the affine fit h ~ W x + c of the activations H (N, m) on the features X
    (N, n) (``coef`` as :func:`fit_linear`: W^T on top, c last) and the fraction of H's total
    variance it explains (NaN when H is constant). Both sums of squares are taken on H scaled
    by a power of two (exact): 1e200 activations do not overflow them, 1e-200 ones do not
    vanish."""
    coef = fit_linear(X, H)
    e = int(pow2_exponent(np.max(np.abs(H))))
    Hs, resid = np.ldexp(H, -e), np.ldexp(H - _predict_linear(coef, X), -e)
    var = float(np.sum((Hs - Hs.mean(axis=0)) ** 2))
    return coef, 1.0 - float(np.sum(resid**2)) / var if var > 0 else float("nan")


def cross_validated_linear(H, X, n_folds: int = 5) -> np.ndarray:
    """Held-out affine read-outs of X from H by K-fold cross-validation: every row is predicted
    by the read-out fitted on the other folds (contiguous folds; samples are i.i.d.).

    Examples
    --------
    >>> H = np.arange(20.0).reshape(10, 2)
    >>> print(np.allclose(cross_validated_linear(H, 3 * H[:, :1] - 1), 3 * H[:, :1] - 1))
    True
    """
    H = check_array(H, "H", ndim=2, dtype=np.float64)
    X = check_array(X, "X", ndim=2, shape=(H.shape[0], None), dtype=np.float64)
    K = check_int(n_folds, "n_folds", low=2, high=H.shape[0])
    pred = np.empty_like(X)
    rows = np.arange(H.shape[0])
    for fold in np.array_split(rows, K):
        rest = np.setdiff1d(rows, fold)
        pred[fold] = _predict_linear(fit_linear(H[rest], X[rest]), H[fold])
    return pred


#: Features whose R^2 is within this of 0 or 1 count as dropped or kept whole.
WHOLE_TOL = 0.1


def linear_recoverability(
    H,
    X,
    *,
    W=None,
    threshold: float = 0.99,
    budget_fraction: float = 0.95,
    n_folds: int = 5,
    n_bootstrap: int = 200,
    rng=None,
) -> DiagnosticResult:
    """Per-feature R^2 of the least-squares read-out of each known feature from the activations.

    Parameters
    ----------
    H : array_like, shape (N, m)
        Activations, one sample per row.
    X : array_like, shape (N, n) or None
        The known features of the same samples. Without them the test does not apply.
    W : array_like, shape (m, n), optional
        The frame when h = W x is known to be linear; adds the closed-form R^2 (:func:`linear_r2`)
        to the details.
    threshold : float
        A feature is a linear read-out when its held-out R^2 >= threshold.
    budget_fraction : float
        The linear budget counts as exhausted when sum_i R^2_i + 2 SE >= budget_fraction * rank.
    n_folds : int
        Folds of the cross-validation that scores the read-outs on held-out rows.
    n_bootstrap : int
        Bootstrap resamples of the rows for the standard error SE of sum_i R^2_i.
    rng : None, int or numpy.random.Generator
        Bootstrap resampling.

    Returns
    -------
    DiagnosticResult
        statistic = sum_i R^2_i (features' worth of linear information), baseline =
        min(n, rank(H)) (the most a linear read-out can carry for uncorrelated features);
        diagnosis one of :data:`LINEAR_DIAGNOSES`. Details: ``r2`` (n,), ``se`` (bootstrap SE
        of the sum), ``rank``, ``max_feature_correlation`` and, with W, ``r2_theory``.

    Notes
    -----
    For uncorrelated standardised features u_i and P the projection onto the span of the centred
    activations, sum_i R^2_i = sum_i |P u_i|^2 <= trace(P) = rank(H), whatever the code: more
    features than dimensions cannot all be read out linearly. An invertible linear code (a
    rotation of n <= m features) reaches R^2_i = 1 for all i; a linear code of n > m features
    reaches the budget with fractional R^2_i (superposition) or with R^2_i in {0, 1} (dropped
    features); a non-linear code leaves budget unused. Decision rule (fixed before the data):
    "linear code" if min R^2_i >= threshold; else, if n > rank and sum R^2 + 2 SE >=
    budget_fraction * rank, "dropped features" when every R^2_i is within :data:`WHOLE_TOL` of
    0 or 1 and "superposition" otherwise; else "non-linear code". Held-out R^2 of sparse
    features is biased low by the fit's own noise (about 4% of the budget for 16 features with
    p = 0.05 on 8 dimensions and 1,500 samples), which ``budget_fraction`` absorbs. The budget
    identity needs uncorrelated features: the largest feature correlation is reported.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = rng.random((600, 3)) * (rng.random((600, 3)) < 0.3)
    >>> Q = np.linalg.qr(rng.standard_normal((5, 3)))[0]   # a rotation into 5 dimensions
    >>> res = linear_recoverability(X @ Q.T, X, rng=0)
    >>> res.diagnosis, round(res.statistic, 6)
    ('linear code', 3.0)
    """
    name = "linear_recoverability"
    if X is None:
        return DiagnosticResult.not_applicable(name, "it needs the known features X")
    H, X = check_activations(H, X)
    t = check_real(threshold, "threshold", low=0.0, high=1.0, low_inclusive=False)
    frac = check_real(budget_fraction, "budget_fraction", low=0.0, high=1.0)
    B = check_int(n_bootstrap, "n_bootstrap", low=2, high=MAX_RESAMPLES)
    gen = check_rng(rng)
    n = X.shape[1]
    live = varying_features(X)
    if live.size == 0:
        return DiagnosticResult.not_applicable(name, "no known feature varies over the samples")
    pred = cross_validated_linear(H, X, n_folds)
    r2 = r2_scores(X, pred)
    live = live[np.isfinite(r2[live])]
    N = H.shape[0]
    boots = np.empty(B)
    for b in range(B):
        idx = gen.integers(0, N, N)
        boots[b] = np.nansum(r2_scores(X[idx][:, live], pred[idx][:, live]))
    se = float(boots.std(ddof=1))
    rank = numerical_rank(H)
    total = float(np.sum(r2[live]))
    budget = float(min(live.size, rank))
    # correlations are scale invariant: on unit-scaled columns they neither overflow nor vanish
    corr = (
        np.corrcoef(unit_scaled(X[:, live], axis=0), rowvar=False)
        if live.size > 1
        else np.ones((1, 1))
    )
    max_corr = float(np.max(np.abs(corr - np.eye(live.size)))) if live.size > 1 else 0.0
    r = r2[live]
    if np.all(r >= t):
        diagnosis = "linear code"
    elif live.size > rank and total + 2.0 * se >= frac * rank:
        whole = np.all((r >= 1.0 - WHOLE_TOL) | (r <= WHOLE_TOL))
        diagnosis = "dropped features" if whole else "superposition"
    else:
        diagnosis = "non-linear code"
    summary = (
        f"{int(np.sum(r >= t))} of {live.size} features are linear read-outs (cross-validated "
        f"R^2 >= {t:g}); sum R^2 = {total:.3f} +- {se:.3f} against a linear budget of "
        f"{budget:g} (rank {rank}, n = {live.size}): {diagnosis}."
    )
    details = {
        "r2": r2,
        "se": se,
        "rank": rank,
        "n_features": n,
        "threshold": t,
        "max_feature_correlation": max_corr,
    }
    if W is not None:
        W = check_weights(W, n_features=n, n_dims=H.shape[1])
        # R^2 depends on the variances up to a common factor: those of X scaled by a power of
        # two (exact) do not overflow for X ~ 1e200 nor vanish for X ~ 1e-200
        details["r2_theory"] = linear_r2(W, unit_scaled(X).var(axis=0))
    return DiagnosticResult(
        test=name,
        statistic=total,
        statistic_name="sum of the features' cross-validated linear R^2",
        baseline=budget,
        baseline_name="linear budget min(n, rank H)",
        diagnosis=diagnosis,
        summary=summary,
        details=details,
    )
