"""Rotated basis against superposition: unmixing by ICA, the learned dictionary against the
Welch bound, the dimension budget sum_i D_i <= m, and neuron participation ratios against the
Haar-rotation null.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from csuper._norms import norm2, unit_scaled
from csuper._validation import check_array, check_int, check_real, check_rng
from csuper.diagnose._inputs import (
    MAX_RESAMPLES,
    check_activations,
    check_weights,
    numerical_rank,
    varying_features,
)
from csuper.diagnose.linear import _frame_fit
from csuper.diagnose.results import DiagnosticResult
from csuper.geometry import coherence, feature_dimensionality, gram_matrix, welch_bound

__all__ = [
    "ICAResult",
    "fast_ica",
    "unmixing",
    "sae_unmixing",
    "dimension_budget",
    "participation_ratio",
    "neuron_alignment",
]


@dataclass(frozen=True)
class ICAResult:
    """Independent components of activations H (N, m).

    Attributes
    ----------
    sources : ndarray, shape (N, r)
        Unit-variance components s = U^T (h - mean).
    unmixing : ndarray, shape (m, r)
        U, with ``sources = (H - mean) @ unmixing``.
    atoms : ndarray, shape (m, r)
        Directions in activation space (columns): H - mean ~ sources @ atoms.T.
    mean : ndarray, shape (m,)
    n_iter : int
        Fixed-point iterations run.
    converged : bool
    """

    sources: np.ndarray
    unmixing: np.ndarray
    atoms: np.ndarray
    mean: np.ndarray
    n_iter: int
    converged: bool


def fast_ica(
    H, n_components: int | None = None, *, max_iter: int = 500, tol: float = 1e-6, rng=None
) -> ICAResult:
    """Symmetric FastICA with the kurtosis contrast (Hyvarinen and Oja 1997; Hyvarinen 1999).

    Parameters
    ----------
    H : array_like, shape (N, m)
    n_components : int, optional
        r <= rank of the centred H; default the rank.
    max_iter : int
        Cap on fixed-point iterations (a run that hits it is reported, ``converged=False``).
    tol : float
        Stop when every unmixing vector moved by less than tol (1 - |<w_new, w_old>|).
    rng : None, int or numpy.random.Generator
        Initial rotation.

    Returns
    -------
    ICAResult

    Notes
    -----
    The centred data are whitened by PCA to r dimensions, z; the rows w_j of an orthogonal
    matrix are updated by w_j <- E[z g(w_j . z)] - E[g'(w_j . z)] w_j with g(y) = y^3, followed
    by symmetric decorrelation W <- (W W^T)^(-1/2) W. The fixed points are the extrema of the
    kurtosis, whatever its sign: bounded contrasts (tanh) assume super-Gaussian sources and were
    measured to stall in mixtures of sparse nonnegative features at p = 0.3, whose centred law is
    skewed with small kurtosis. Independent non-Gaussian sources mixed by an invertible matrix
    are recovered up to order, sign and scale; more sources than dimensions (superposition)
    cannot be.

    References
    ----------
    A. Hyvarinen, E. Oja, "A fast fixed-point algorithm for independent component analysis",
    Neural Computation 9(7):1483-1492, 1997. doi:10.1162/neco.1997.9.7.1483.
    A. Hyvarinen, "Fast and robust fixed-point algorithms for independent component analysis",
    IEEE Trans. Neural Networks 10(3):626-634, 1999. doi:10.1109/72.761722.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> S = rng.laplace(size=(4000, 2))
    >>> res = fast_ica(S @ np.array([[1.0, 0.5], [0.3, 1.0]]), rng=0)
    >>> C = np.abs(np.corrcoef(S.T, res.sources.T)[:2, 2:])
    >>> print(np.round(np.sort(C.max(axis=1)), 2))
    [1. 1.]
    """
    H = check_array(H, "H", ndim=2, dtype=np.float64)
    mu = H.mean(axis=0)
    Hc = H - mu
    _, s, Vt = np.linalg.svd(Hc, full_matrices=False)
    rank = int(np.count_nonzero(s > 1e-8 * s[0])) if s.size and s[0] > 0 else 0
    if rank == 0:
        raise ValueError("H has no variance: nothing to unmix.")
    r = rank if n_components is None else check_int(n_components, "n_components", low=1, high=rank)
    max_iter = check_int(max_iter, "max_iter", low=1)
    tol = check_real(tol, "tol", low=0.0, low_inclusive=False)
    N = H.shape[0]
    K = Vt[:r].T / s[:r] * np.sqrt(N)  # whitening (m, r): z = hc @ K has identity covariance
    Z = Hc @ K
    W = np.linalg.qr(check_rng(rng).standard_normal((r, r)))[0]
    converged = False
    it = 0
    for it in range(1, max_iter + 1):  # noqa: B007 (it is reported)
        Y = Z @ W.T
        W1 = ((Y**3).T @ Z) / N - 3.0 * np.mean(Y**2, axis=0)[:, None] * W
        ev, E = np.linalg.eigh(gram_matrix(W1.T))
        W1 = (E / np.sqrt(np.maximum(ev, 1e-300))) @ E.T @ W1
        moved = float(np.max(np.abs(np.abs(np.sum(W1 * W, axis=1)) - 1.0)))
        W = W1
        if moved < tol:
            converged = True
            break
    unmix = K @ W.T
    sources = Hc @ unmix
    atoms = np.linalg.lstsq(sources, Hc, rcond=None)[0].T
    return ICAResult(sources, unmix, atoms, mu, it, converged)


def _code_match(X: np.ndarray, S: np.ndarray) -> np.ndarray:
    """Per feature, the largest |correlation| with any of the sources S (scale invariant: each
    column to a largest entry in [0.5, 1) first, exactly, so that 1e200 or 1e-200 features
    neither overflow nor vanish)."""
    X, S = unit_scaled(X, axis=0), unit_scaled(S, axis=0)
    Xc = X - X.mean(axis=0)
    Sc = S - S.mean(axis=0)
    nx = np.linalg.norm(Xc, axis=0)
    ns = np.linalg.norm(Sc, axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        C = (Xc.T @ Sc) / np.outer(nx, ns)
    return np.nanmax(np.abs(np.nan_to_num(C)), axis=1)


def unmixing(
    H,
    X=None,
    *,
    n_null: int = 50,
    match_threshold: float = 0.9,
    rng=None,
) -> DiagnosticResult:
    """Can a square unmixing (ICA) of the activations separate the known features?

    Parameters
    ----------
    H : array_like, shape (N, m)
    X : array_like, shape (N, n) or None
        Known features (the test does not apply without them).
    n_null : int
        Haar rotations of the whitened activations forming the null (no unmixing).
    match_threshold : float
        A feature is unmixed when some component correlates with it at |r| >= match_threshold.
    rng : None, int or numpy.random.Generator

    Returns
    -------
    DiagnosticResult
        statistic = mean over features of the best |correlation| with an ICA component;
        baseline = its mean over the null (random rotations of the whitened activations);
        diagnosis "rotated basis" (every feature unmixed), "superposition" (more features than
        the rank of H: a square unmixing cannot separate them), or "not unmixed" (otherwise: a
        non-linear, Gaussian or correlated code). Details: ``match`` (n,), ``rank``,
        ``null`` (n_null,), ``coherence`` of the ICA atoms and the ``welch_bound`` for as many
        atoms in m dimensions.

    Notes
    -----
    In a rotated basis h = Q x (n <= m) with independent non-Gaussian features, ICA recovers
    every feature (up to sign and scale), so the polysemantic neurons hide no superposition. With
    n > m features in m dimensions an m-dimensional unmixing can at best isolate m of them; an
    overcomplete dictionary (a sparse autoencoder) is needed. The learned atoms' coherence is
    reported against the Welch bound sqrt((r - m) / (m (r - 1))) (0 for r <= m): a square
    dictionary need not be coherent, an overcomplete one must be.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = rng.random((2000, 3)) * (rng.random((2000, 3)) < 0.3)
    >>> Q = np.linalg.qr(rng.standard_normal((6, 3)))[0]
    >>> unmixing(X @ Q.T, X, rng=0).diagnosis
    'rotated basis'
    """
    name = "unmixing"
    n_null = check_int(n_null, "n_null", low=1, high=MAX_RESAMPLES)
    t = check_real(match_threshold, "match_threshold", low=0.0, high=1.0)
    H, X = check_activations(H, X)
    gen = check_rng(rng)
    if X is None:
        return DiagnosticResult.not_applicable(name, "it needs the known features X")
    live = varying_features(X)
    if live.size == 0:
        return DiagnosticResult.not_applicable(name, "no known feature varies over the samples")
    if numerical_rank(H) == 0:
        return DiagnosticResult.not_applicable(name, "the activations do not vary")
    Xl = X[:, live]
    ica = fast_ica(H, rng=gen)
    r = ica.sources.shape[1]
    match = _code_match(Xl, ica.sources)
    stat = float(match.mean())
    null = np.empty(n_null)
    Zw = ica.sources  # white; rotating it is "no unmixing" with the same second moments
    for j in range(n_null):
        Q = np.linalg.qr(gen.standard_normal((r, r)))[0]
        null[j] = _code_match(Xl, Zw @ Q).mean()
    m = H.shape[1]
    atoms = ica.atoms
    norms = norm2(atoms, axis=0)
    live_atoms = unit_scaled(atoms[:, norms > 0])  # coherence is scale invariant
    coh = coherence(live_atoms) if live_atoms.shape[1] >= 2 else float("nan")
    welch = welch_bound(r, m) if r >= 2 else 0.0
    if np.all(match >= t):
        diagnosis = "rotated basis"
    elif live.size > r:
        diagnosis = "superposition"
    else:
        diagnosis = "not unmixed"
    summary = (
        f"ICA with {r} components (rank of H) unmixes {int(np.sum(match >= t))} of {live.size} "
        f"features (|r| >= {t:g}); mean best |r| = {stat:.3f} against {null.mean():.3f} for "
        f"random rotations: {diagnosis}."
    )
    if not ica.converged:
        summary += f" (ICA stopped after {ica.n_iter} iterations without converging.)"
    return DiagnosticResult(
        test=name,
        statistic=stat,
        statistic_name="mean best |correlation| of a feature with an ICA component",
        baseline=float(null.mean()),
        baseline_name="the same for Haar rotations of the whitened activations",
        diagnosis=diagnosis,
        summary=summary,
        details={
            "match": match,
            "rank": r,
            "null": null,
            "coherence": coh,
            "welch_bound": float(welch),
            "ica_converged": ica.converged,
            "features": live,
        },
    )


def _linear_frame(H: np.ndarray, X: np.ndarray, min_r2: float = 0.99) -> np.ndarray | None:
    """Least-squares frame W (m, n) of h ~ W x + c when that fit explains >= min_r2 of H."""
    coef, r2 = _frame_fit(H, X)
    if not r2 >= min_r2:  # NaN (constant H) included
        return None
    return np.ascontiguousarray(coef[:-1].T)


def sae_unmixing(
    H,
    X=None,
    *,
    W=None,
    widths=None,
    n_seeds: int = 2,
    n_steps: int = 3000,
    match_threshold: float = 0.95,
    test_fraction: float = 1 / 3,
    rng=None,
) -> DiagnosticResult:
    """The width sweep: sparse autoencoders (TopK) of growing width against the known features.

    Parameters
    ----------
    H : array_like, shape (N, m)
    X : array_like, shape (N, n) or None
        Known features (needed: they set the TopK k, the mean number of active features,
        rounded up, and are what the dictionaries are matched against).
    W : array_like, shape (m, n), optional
        The true feature directions; default estimated by least squares when h is a linear code
        of x. With distinct directions, a feature's match is the largest cosine between its
        direction and a learned atom (decoder space, MMCS; |cosine| for signed features, since
        SAE codes are nonnegative); otherwise the largest |correlation| between the feature and a
        latent's code on held-out rows (code space).
    widths : sequence of int, optional
        Dictionary sizes; default (m, 2 m, 4 m).
    n_seeds : int
        SAEs per width; the best match over seeds is kept.
    n_steps : int
        Adam steps (batch 256, lr 3e-3, :func:`csuper.sae.train_sae`).
    match_threshold : float
        A dictionary unmixes the features when their mean match reaches this.
    test_fraction : float
        Rows held out for the code-space match and the dead-atom count.
    rng : None, int or numpy.random.Generator

    Returns
    -------
    DiagnosticResult
        statistic = the best mean match over all widths; baseline = the mean match of random
        unit atoms as many as the widest dictionary (no learning); diagnosis "rotated basis" (a
        dictionary of at most m atoms unmixes the features), "superposition" (only an
        overcomplete one, more atoms than dimensions, does) or "not unmixed". Details per width:
        ``match``, ``random_match``, ``live_atoms``, ``coherence`` of the live atoms and the
        ``welch_bound`` for as many unit vectors in m dimensions.

    Notes
    -----
    The SAE counterpart of :func:`unmixing`: a square dictionary suffices for a rotated basis,
    superposition needs more atoms than dimensions, and then the learned atoms cannot be
    orthogonal: their coherence is at least the Welch bound sqrt((L - m) / (m (L - 1))) for L
    unit atoms in R^m (Welch 1974), which the details compare.

    References
    ----------
    L. Sharkey, D. Braun, B. Millidge, "Taking features out of superposition with sparse
    autoencoders", AI Alignment Forum, 2022; L. Gao et al., "Scaling and evaluating sparse
    autoencoders", arXiv:2406.04093.

    Examples
    --------
    >>> from csuper.diagnose import rotation_code
    >>> c = rotation_code(n_samples=3000, rng=0)
    >>> sae_unmixing(c.H, c.X, W=c.W, widths=[10], n_steps=1000, rng=0).diagnosis
    'rotated basis'
    """
    from csuper.sae import SAESettings, mmcs_features, train_sae

    name = "sae_unmixing"
    H, X = check_activations(H, X)
    if X is None:
        return DiagnosticResult.not_applicable(name, "it needs the known features X")
    m = H.shape[1]
    ws = (
        (m, 2 * m, 4 * m)
        if widths is None
        else tuple(check_int(w, "widths", low=1) for w in widths)
    )
    if not ws:
        raise ValueError("widths must name at least one dictionary size.")
    n_seeds = check_int(n_seeds, "n_seeds", low=1)
    n_steps = check_int(n_steps, "n_steps", low=1)
    t = check_real(match_threshold, "match_threshold", low=0.0, high=1.0)
    live = varying_features(X)
    if live.size == 0:
        return DiagnosticResult.not_applicable(name, "no known feature varies over the samples")
    gen = check_rng(rng)
    n_test = max(
        1,
        round(
            H.shape[0]
            * check_real(
                test_fraction,
                "test_fraction",
                low=0.0,
                high=1.0,
                low_inclusive=False,
                high_inclusive=False,
            )
        ),
    )
    Htr, Hte, Xte = H[:-n_test], H[-n_test:], X[-n_test:, live]
    F: np.ndarray | None
    if W is not None:
        F = check_weights(W, n_features=X.shape[1], n_dims=m)[:, live]
    else:
        est = _linear_frame(H, X)
        F = None if est is None else est[:, live]
    signed = bool(np.any(X[:, live] < 0))
    if F is not None and live.size >= 2:
        # decoder-space matching needs distinct directions (a magnitude code has one)
        norms = norm2(F, axis=0)
        if np.any(norms == 0):
            F = None
        else:
            U = F / norms
            C = gram_matrix(U)
            C = np.abs(C) if signed else C
            if np.max(C - 2 * np.eye(live.size)) > 0.99:
                F = None
    space = "decoder" if F is not None else "code"
    k = max(1, int(np.ceil(np.count_nonzero(X[:, live], axis=1).mean())))
    settings = SAESettings(n_steps=n_steps, batch_size=256, lr=3e-3)
    rows = []
    for w in ws:
        sae = train_sae(Htr, w, "topk", k=[min(k, w)], settings=settings, n_seeds=n_seeds, rng=gen)
        codes = sae.encode(Hte)
        matches = [
            mmcs_features(F, sae.W_dec[r], absolute=signed)
            if F is not None
            else float(_code_match(Xte, codes[r]).mean())
            for r in range(sae.n_instances)
        ]
        r = int(np.argmax(matches))
        match = matches[r]
        fired = np.any(codes[r] != 0, axis=0)
        atoms = sae.W_dec[r][:, fired]
        coh = coherence(atoms) if atoms.shape[1] >= 2 else float("nan")
        rand = gen.standard_normal((m, w))
        random_match = (
            mmcs_features(F, rand, absolute=signed)
            if F is not None
            else float(_code_match(Xte, np.maximum((Hte - Hte.mean(axis=0)) @ rand, 0)).mean())
        )
        rows.append(
            {
                "width": w,
                "match": match,
                "random_match": random_match,
                "live_atoms": int(fired.sum()),
                "coherence": coh,
                "welch_bound": float(welch_bound(w, m)) if w >= 2 else 0.0,
            }
        )
    square = [row["match"] for row in rows if row["width"] <= m]
    over = [row["match"] for row in rows if row["width"] > m]
    stat = max(row["match"] for row in rows)
    widest = max(rows, key=lambda row: row["width"])
    if square and max(square) >= t:
        diagnosis = "rotated basis"
    elif over and max(over) >= t:
        diagnosis = "superposition"
    else:
        diagnosis = "not unmixed"
    table = ", ".join(f"{row['width']}: {row['match']:.3f}" for row in rows)
    summary = (
        f"TopK SAEs (k = {k}) matched against the {live.size} features in {space} space, "
        f"by width: {table} (random atoms: {widest['random_match']:.3f}); a dictionary of "
        f"at most m = {m} atoms {'does' if diagnosis == 'rotated basis' else 'does not'} reach "
        f"{t:g}: {diagnosis}."
    )
    return DiagnosticResult(
        test=name,
        statistic=float(stat),
        statistic_name=f"best mean match of the features with learned atoms ({space} space)",
        baseline=float(widest["random_match"]),
        baseline_name="the same for random atoms as many as the widest dictionary",
        diagnosis=diagnosis,
        summary=summary,
        details={"widths": rows, "k": k, "space": space, "features": live},
    )


def dimension_budget(
    W: Any | None, *, represented_threshold: float = 0.5, share_tol: float = 0.1
) -> DiagnosticResult:
    """The budget sum_i D_i <= m and the number of represented features against m.

    Parameters
    ----------
    W : array_like, shape (m, n) or None
        Feature directions (a linear code h = W x, or a model's weights). Without weights the test
        does not apply.
    represented_threshold : float
        A feature is represented when |w_i| > represented_threshold (the paper's 0.5).
    share_tol : float
        A represented feature shares its dimension when D_i < 1 - share_tol.

    Returns
    -------
    DiagnosticResult
        statistic = the number of represented features; baseline = m; diagnosis
        "superposition" (more represented features than dimensions), "incidental superposition"
        (no more than m, yet some share a dimension: e.g. Lecomte et al.'s antipodal pairs), or
        "no superposition". Details: ``feature_dimensionality`` (n,), ``sum_dimensionality``,
        ``represented`` (bool, n).

    Notes
    -----
    D_i = |w_i|^4 / sum_j (w_i . w_j)^2 is the share of a dimension feature i owns
    (Elhage et al. 2022); sum_i D_i <= rank(W) <= m. More represented features than m forces
    some D_i < 1: superposition by counting alone.

    Examples
    --------
    >>> dimension_budget(np.array([[1.0, -1.0, 0.0], [0.0, 0.0, 1.0]])).diagnosis
    'superposition'
    >>> dimension_budget(np.eye(3)).diagnosis
    'no superposition'
    """
    name = "dimension_budget"
    if W is None:
        return DiagnosticResult.not_applicable(name, "it needs feature directions W")
    W = check_weights(W)
    t = check_real(represented_threshold, "represented_threshold", low=0.0)
    tol = check_real(share_tol, "share_tol", low=0.0, high=1.0)
    m = W.shape[0]
    D = feature_dimensionality(unit_scaled(W))  # scale invariant; no overflow warnings
    rep = norm2(W, axis=0) > t
    count = int(rep.sum())
    shared = rep & (D < 1.0 - tol)
    if count > m:
        diagnosis = "superposition"
    elif shared.any():
        diagnosis = "incidental superposition"
    else:
        diagnosis = "no superposition"
    summary = (
        f"{count} represented features (|w_i| > {t:g}) in m = {m} dimensions, sum D_i = "
        f"{D.sum():.3f}; {int(shared.sum())} represented features share a dimension "
        f"(D_i < {1 - tol:g}): {diagnosis}."
    )
    return DiagnosticResult(
        test=name,
        statistic=float(count),
        statistic_name="represented features",
        baseline=float(m),
        baseline_name="hidden dimensions m",
        diagnosis=diagnosis,
        summary=summary,
        details={
            "feature_dimensionality": D,
            "sum_dimensionality": float(D.sum()),
            "represented": rep,
            "shared": shared,
        },
    )


def participation_ratio(A) -> np.ndarray:
    """Participation ratio of each row of A (m, n): (sum_i A_ki^2)^2 / sum_i A_ki^4, the
    effective number of features a neuron mixes (1 for one feature, n for equal weights); NaN
    for a zero row.

    Examples
    --------
    >>> print(participation_ratio([[1.0, 0.0], [1.0, -1.0], [0.0, 0.0]]))
    [ 1.  2. nan]
    """
    A = check_array(A, "A", ndim=2, dtype=np.float64)
    top = np.max(np.abs(A), axis=1, keepdims=True)
    A = A / np.where(top > 0, top, 1.0)  # scale-free; no underflow of tiny rows' fourth powers
    s2 = np.sum(A**2, axis=1)
    s4 = np.sum(A**4, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(s4 > 0, s2**2 / np.where(s4 > 0, s4, 1.0), np.nan)


def neuron_alignment(
    H=None, X=None, *, W=None, n_null: int = 200, alpha: float = 0.025, rng=None
) -> DiagnosticResult:
    """Do neurons align with features more than a random rotation of the hidden space would?

    Parameters
    ----------
    H : array_like, shape (N, m), optional
    X : array_like, shape (N, n), optional
        Activations and known features: the neuron-feature matrix is their covariance
        cov(h_k, x_i).
    W : array_like, shape (m, n), optional
        Weights from features to neurons, used instead when given.
    n_null : int
        Haar rotations Q of the hidden space in the null (the matrix becomes Q A).
    alpha : float
        One-sided level: neurons are aligned when the mean participation ratio is below the
        alpha quantile of the null.
    rng : None, int or numpy.random.Generator

    Returns
    -------
    DiagnosticResult
        statistic = mean participation ratio over live neurons; baseline = its null mean;
        diagnosis "privileged basis" (neurons align with features) or "no privileged basis"
        (mixing as in a random rotation). Details: ``participation`` (m,) (NaN for a neuron
        that carries no feature, see :func:`participation_ratio`; the statistic averages the
        live neurons), ``null`` (n_null,), ``p_value``.

    Notes
    -----
    A rotated basis h = Q x mixes every feature into every neuron exactly as the null does: its
    neurons are polysemantic, but no basis is privileged. A ReLU hidden layer or an L1 penalty
    breaks the rotation symmetry and aligns features with neurons (Elhage et al. 2022, section
    "Superposition in a Privileged Basis"; Lecomte et al. 2023).

    Examples
    --------
    >>> neuron_alignment(W=np.eye(4), rng=0).diagnosis
    'privileged basis'
    """
    name = "neuron_alignment"
    n_null = check_int(n_null, "n_null", low=1, high=MAX_RESAMPLES)
    a = check_real(alpha, "alpha", low=0.0, high=1.0, low_inclusive=False, high_inclusive=False)
    gen = check_rng(rng)
    if H is not None or X is not None:
        H, X = check_activations(H, X) if H is not None else (None, check_array(X, "X", ndim=2))
    if W is not None:
        A = check_weights(W)
    elif H is not None and X is not None:
        A = (H - H.mean(axis=0)).T @ (X - X.mean(axis=0)) / H.shape[0]
    else:
        return DiagnosticResult.not_applicable(
            name, "it needs weights W or activations H with known features X"
        )
    m = A.shape[0]
    if m < 2:
        return DiagnosticResult.not_applicable(name, "one neuron cannot be rotated (m < 2)")
    pr = participation_ratio(A)
    if np.all(np.isnan(pr)):
        return DiagnosticResult.not_applicable(name, "no neuron carries any feature")
    stat = float(np.nanmean(pr))
    null = np.empty(n_null)
    for j in range(n_null):
        Q = np.linalg.qr(gen.standard_normal((m, m)))[0]
        null[j] = np.nanmean(participation_ratio(Q @ A))
    p = float((1 + np.sum(null <= stat)) / (n_null + 1))
    diagnosis = "privileged basis" if p <= a else "no privileged basis"
    summary = (
        f"neurons mix {stat:.2f} features on average (participation ratio) against "
        f"{null.mean():.2f} for random rotations of the hidden space (p = {p:.3f}): {diagnosis}."
    )
    return DiagnosticResult(
        test=name,
        statistic=stat,
        statistic_name="mean neuron participation ratio",
        baseline=float(null.mean()),
        baseline_name="mean over Haar rotations of the hidden space",
        diagnosis=diagnosis,
        summary=summary,
        details={"participation": pr, "null": null, "p_value": p},
    )
