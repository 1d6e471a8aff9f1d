"""The scaling test: is the decoded identity of the active feature unchanged when the
activations are scaled, h -> a h?
"""

from __future__ import annotations

import numpy as np

from csuper._validation import check_array, check_int, check_real
from csuper.diagnose._inputs import check_activations, r2_scores
from csuper.diagnose.decoders import fit_ladder
from csuper.diagnose.results import DiagnosticResult, train_test_split_rows

__all__ = ["scale_invariance"]

_RUNGS = ("linear", "relu_linear", "basis_pursuit", "mlp")


def _identity(Xhat: np.ndarray, sd: np.ndarray, signed: np.ndarray) -> np.ndarray:
    Z = Xhat / sd
    Z[:, signed] = np.abs(Z[:, signed])
    return np.argmax(Z, axis=1)


def scale_invariance(
    H,
    X,
    *,
    W=None,
    scales=(0.5, 2.0),
    threshold: float = 0.99,
    invariance_threshold: float = 0.9,
    test_fraction: float = 1 / 3,
    n_steps: int = 1500,
    rng=None,
) -> DiagnosticResult:
    """Decode the most active feature from h and from a h; how often do they agree?

    Parameters
    ----------
    H : array_like, shape (N, m)
    X : array_like, shape (N, n) or None
        Known features (needed).
    W : array_like, shape (m, n), optional
        The frame for the basis-pursuit read-out (default: estimated when the code is linear).
    scales : sequence of float
        Factors a > 0, a != 1.
    threshold : float
        Each feature is decoded by the first of the ladder's read-outs (linear, ReLU-linear,
        basis pursuit, MLP; fitted at scale 1) reaching this held-out R^2; else by the best.
    invariance_threshold : float
        The identity is scale-invariant when the agreement, averaged over the scales, is at least
        this.
    test_fraction : float
    n_steps : int
        Adam steps of the fitted read-outs.
    rng : None, int or numpy.random.Generator

    Returns
    -------
    DiagnosticResult
        statistic = mean agreement between the identity decoded at scale 1 and at scale a, on
        the rows whose identity is decoded correctly at scale 1;
        baseline = the agreement of independent draws with the same identity frequencies,
        sum_i q_i(1) q_i(a); diagnosis "scale-invariant" or "magnitude-coded". Details:
        ``agreement`` per scale, ``identity_accuracy`` at scale 1 (against argmax x), ``rungs``
        (the read-out used per feature).

    Notes
    -----
    A linear read-out commutes with scaling up to its intercept, ReLU(v . a h) =
    a ReLU(v . h) without one, and basis pursuit is positively homogeneous (x(a h) = a x(h)):
    features carried by directions keep their identity when the
    activations grow or shrink, which is what a superposition of directions predicts. A code in
    which magnitude carries identity (feature i as h = c_i u) changes its decoded identity.
    Identities are decoded on held-out rows with at least one active feature; a row's identity is
    the feature with the largest standardised decoded value (absolute value for signed features).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = rng.random((900, 3)) * (rng.random((900, 3)) < 0.3)
    >>> Q = np.linalg.qr(rng.standard_normal((4, 3)))[0]
    >>> scale_invariance(X @ Q.T, X, rng=0).diagnosis
    'scale-invariant'
    """
    name = "scale_invariance"
    if X is None:
        return DiagnosticResult.not_applicable(name, "it needs the known features X")
    H, X = check_activations(H, X)
    a = check_array(scales, "scales", ndim=1, dtype=np.float64, nonnegative=True)
    if np.any(a <= 0) or np.any(a == 1):
        raise ValueError(f"scales must be positive and differ from 1; got {a.tolist()}.")
    t = check_real(threshold, "threshold", low=0.0, high=1.0, low_inclusive=False)
    inv = check_real(invariance_threshold, "invariance_threshold", low=0.0, high=1.0)
    n_steps = check_int(n_steps, "n_steps", low=0)
    if X.shape[1] < 2:
        return DiagnosticResult.not_applicable(name, "one feature has no identity to decode")
    train, test = train_test_split_rows(H.shape[0], test_fraction)
    active = np.any(X[test] != 0, axis=1)
    if active.sum() < 10:
        return DiagnosticResult.not_applicable(name, "fewer than 10 held-out rows are active")
    ladder = fit_ladder(H[train], X[train], W=W, rungs=_RUNGS, n_steps=n_steps, rng=rng)
    Hte, Xte = H[test][active], X[test][active]
    scores = {r: r2_scores(Xte, ladder.predict(r, Hte)) for r in ladder.fitted}
    if "relu_linear" in scores:
        scores["relu_linear"][~ladder.nonnegative] = np.nan
    n = X.shape[1]
    chosen = []
    for i in range(n):
        ok = [r for r in _RUNGS if r in scores and np.nan_to_num(scores[r][i], nan=-1) >= t]
        if not ok:  # none reaches the threshold: the best of them
            ok = [max(scores, key=lambda r: np.nan_to_num(scores[r][i], nan=-1.0))]
        chosen.append(ok[0])

    def decode(Hs: np.ndarray) -> np.ndarray:
        out = np.empty((Hs.shape[0], n))
        for r in set(chosen):
            cols = [i for i in range(n) if chosen[i] == r]
            out[:, cols] = ladder.predict(r, Hs)[:, cols]
        return out

    sd = np.where(X[train].std(axis=0) > 0, X[train].std(axis=0), 1.0)
    signed = np.any(X[train] < 0, axis=0)
    truth = _identity(Xte.copy(), sd, signed)
    base_id = _identity(decode(Hte), sd, signed)
    accuracy = float(np.mean(base_id == truth))
    majority = float(np.bincount(truth, minlength=n).max() / truth.size)
    if accuracy <= majority:
        return DiagnosticResult.not_applicable(
            name,
            f"the read-outs do not decode the active feature (accuracy {accuracy:.2f}, majority "
            f"guess {majority:.2f})",
        )
    agreement, chance = [], []
    right = base_id == truth
    q1 = np.bincount(base_id[right], minlength=n) / right.sum()
    for s in a:
        ids = _identity(decode(s * Hte[right]), sd, signed)
        agreement.append(float(np.mean(ids == base_id[right])))
        chance.append(float(q1 @ (np.bincount(ids, minlength=n) / ids.size)))
    stat = float(np.mean(agreement))
    baseline = float(np.mean(chance))
    diagnosis = "scale-invariant" if stat >= inv else "magnitude-coded"
    summary = (
        f"the decoded identity (accuracy {accuracy:.2f} at scale 1) agrees with itself under "
        f"h -> a h for a in {a.tolist()} on {stat:.1%} of the correctly decoded active rows "
        f"(chance {baseline:.1%}): {diagnosis}."
    )
    return DiagnosticResult(
        test=name,
        statistic=stat,
        statistic_name="agreement of the decoded identity under scaling",
        baseline=baseline,
        baseline_name="chance agreement with the same identity frequencies",
        diagnosis=diagnosis,
        summary=summary,
        details={
            "scales": a,
            "agreement": np.array(agreement),
            "chance": np.array(chance),
            "identity_accuracy": accuracy,
            "rungs": chosen,
        },
    )
