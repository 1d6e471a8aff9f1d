"""The decoder ladder: which is the simplest read-out that recovers each known feature?"""

from __future__ import annotations

import numpy as np

from csuper._validation import check_array, check_int, check_real
from csuper.diagnose._inputs import check_activations, r2_scores, varying_features
from csuper.diagnose.decoders import DECODERS, _check_mlp_memory, fit_ladder
from csuper.diagnose.results import DiagnosticResult, train_test_split_rows

__all__ = ["FEATURE_CLASSES", "LADDER_DIAGNOSES", "decoder_ladder", "classify_features"]

#: Per-feature classes of the ladder, in rung order (class -> the rung that first decodes it).
FEATURE_CLASSES: dict[str, str | None] = {
    "linear": "linear",
    "relu_linear": "relu_linear",
    "cs_recoverable": "basis_pursuit",
    "non_linear": "mlp",
    "not_recoverable": None,
}

#: Diagnosis of the ladder: the highest class any recoverable feature needs.
LADDER_DIAGNOSES: dict[str, str] = {
    "linear": "linear code",
    "relu_linear": "ReLU-linear code",
    "cs_recoverable": "compressed-sensing code",
    "non_linear": "non-linear code",
    "not_recoverable": "not recoverable",
}


def classify_features(r2: dict, threshold: float) -> list[str]:
    """Class of each feature: the first rung (in :data:`FEATURE_CLASSES` order) whose held-out
    R^2 reaches ``threshold``; ``"not_recoverable"`` when none does.

    Parameters
    ----------
    r2 : dict
        Rung name -> per-feature held-out R^2 (NaN where the rung does not apply).

    Examples
    --------
    >>> classify_features({"linear": np.array([1.0, 0.2]), "mlp": np.array([1.0, 0.99])}, 0.95)
    ['linear', 'non_linear']
    """
    if not isinstance(r2, dict) or not r2:
        raise TypeError(
            f"r2 must be a non-empty dict of rung name -> per-feature R^2; got {type(r2).__name__}."
        )
    unknown = [k for k in r2 if k not in DECODERS]
    if unknown:
        raise ValueError(f"r2's keys must be rungs from {list(DECODERS)}; got {unknown!r}.")
    r2 = {k: check_array(v, f"r2[{k!r}]", ndim=1, finite=False) for k, v in r2.items()}
    n = len(next(iter(r2.values())))
    if any(len(v) != n for v in r2.values()):
        raise ValueError("r2's arrays must all have one entry per feature (the same length).")
    threshold = check_real(threshold, "threshold")
    out = []
    for i in range(n):
        cls = "not_recoverable"
        for name, rung in FEATURE_CLASSES.items():
            if (
                rung is not None
                and rung in r2
                and np.nan_to_num(r2[rung][i], nan=-np.inf) >= threshold
            ):
                cls = name
                break
        out.append(cls)
    return out


def decoder_ladder(
    H,
    X,
    *,
    W=None,
    threshold: float = 0.99,
    test_fraction: float = 1 / 3,
    mlp_width: int = 64,
    n_steps: int = 1500,
    n_bp_samples: int = 300,
    rng=None,
) -> DiagnosticResult:
    """Decode each known feature with read-outs of growing power and classify it by the first
    that recovers it.

    Parameters
    ----------
    H : array_like, shape (N, m)
        Activations.
    X : array_like, shape (N, n) or None
        Known features (without them the test does not apply).
    W : array_like, shape (m, n), optional
        The frame for basis pursuit (h = W x); default: estimated by least squares when the code
        is linear in x, otherwise the basis-pursuit rung is skipped.
    threshold : float
        A rung recovers a feature when its held-out R^2 >= threshold (1% of the variance
        unexplained at the default).
    test_fraction : float
        Share of rows held out for scoring.
    mlp_width, n_steps : int
        Hidden width of the MLP rung and Adam steps of the ReLU-linear and MLP rungs.
    n_bp_samples : int
        Held-out rows decoded by basis pursuit (the slowest rung).
    rng : None, int or numpy.random.Generator
        Initialisation of the MLP.

    Returns
    -------
    DiagnosticResult
        statistic = mean over features of the best rung's held-out R^2; baseline = mean of the
        linear rung's; diagnosis from :data:`LADDER_DIAGNOSES`: the highest class a recoverable
        feature needs (``"not recoverable"`` only when no feature is recovered). Details:
        ``r2`` (rung -> (n,)), ``classes`` (n,), ``counts``, ``notes`` (rungs skipped, why).

    Notes
    -----
    The rungs are those of :data:`csuper.diagnose.DECODERS`: linear least squares, a fitted
    ReLU(v . h + c) (the toy model's own read-out, for nonnegative features), basis pursuit with
    the frame (nonnegative when every feature is), and a one-hidden-layer MLP. A feature decoded
    linearly is a direction in activation space; one that needs the ReLU is linearly embedded
    but read out through a threshold that filters interference (superposition in the sense of
    Elhage et al. 2022); one that only basis pursuit recovers is compressively sensed beyond what
    a single layer decodes; one that only the MLP recovers is a non-linear (e.g. computed or
    compositional) function of the activations. Rungs are scored on held-out rows so that a
    flexible read-out cannot win by over-fitting.

    The threshold matters for computed features: from the four neurons ReLU(+-(x + y)),
    ReLU(+-(x - y)) with x, y ~ Uniform[-1, 1], the best linear read-out of x*y is (by the
    symmetries x -> -x and x <-> y) (2/5)(|x + y| - |x - y|), with |x + y| - |x - y| =
    2 sign(xy) min(|x|, |y|), whose squared correlation with xy is (2/15)^2 / ((1/6)(1/9)) =
    24/25: the product is 96% linear in those neurons, a linear feature at threshold 0.95 and a
    non-linear one at 0.99 (:func:`csuper.diagnose.product_code` and its test).

    References
    ----------
    N. Elhage et al., "Toy Models of Superposition", arXiv:2209.10652.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> u = rng.uniform(-1, 1, (900, 2))
    >>> X = np.column_stack([u, u[:, 0] * u[:, 1]])           # x, y and the product x*y
    >>> H = np.maximum(np.column_stack([u.sum(1), -u.sum(1), u[:, 0] - u[:, 1],
    ...                                 u[:, 1] - u[:, 0]]), 0)  # four ReLU neurons
    >>> res = decoder_ladder(H, X, rng=0)
    >>> res.details["classes"], res.diagnosis
    (['linear', 'linear', 'non_linear'], 'non-linear code')
    """
    name = "decoder_ladder"
    if X is None:
        return DiagnosticResult.not_applicable(name, "it needs the known features X")
    H, X = check_activations(H, X)
    t = check_real(threshold, "threshold", low=0.0, high=1.0, low_inclusive=False)
    n_bp = check_int(n_bp_samples, "n_bp_samples", low=1)
    mlp_width = check_int(mlp_width, "mlp_width", low=1)
    n_steps = check_int(n_steps, "n_steps", low=0)
    train, test = train_test_split_rows(H.shape[0], test_fraction)
    _check_mlp_memory(train.stop, H.shape[1], X.shape[1], mlp_width, "mlp_width")
    live = varying_features(X[train])
    if live.size == 0:
        return DiagnosticResult.not_applicable(name, "no known feature varies over the samples")
    Htr, Xtr, Hte, Xte = H[train], X[train], H[test], X[test]
    r2: dict[str, np.ndarray] = {}
    ladder = fit_ladder(Htr, Xtr, W=W, rungs=("linear",))
    r2["linear"] = r2_scores(Xte, ladder.predict("linear", Hte))

    def pending() -> np.ndarray:
        got = np.zeros(X.shape[1], dtype=bool)
        for v in r2.values():
            got |= np.nan_to_num(v, nan=-np.inf) >= t
        return live[~got[live]]

    notes: dict = {}
    for rung in ("relu_linear", "basis_pursuit", "mlp"):
        if pending().size == 0:
            notes[rung] = "not needed: every feature was recovered by a simpler rung"
            continue
        ladder = fit_ladder(
            Htr, Xtr, W=W, rungs=(rung,), mlp_width=mlp_width, n_steps=n_steps, rng=rng
        )
        if rung not in ladder.fitted:
            notes[rung] = ladder.notes[rung]
            continue
        rows = slice(0, min(n_bp, Hte.shape[0])) if rung == "basis_pursuit" else slice(None)
        score = r2_scores(Xte[rows], ladder.predict(rung, Hte[rows]))
        if rung == "relu_linear":
            score[~ladder.nonnegative] = np.nan
        r2[rung] = score
    classes = classify_features({k: v for k, v in r2.items()}, t)
    for i in np.setdiff1d(np.arange(X.shape[1]), live):
        classes[i] = "constant"
    counts = {c: classes.count(c) for c in FEATURE_CLASSES}
    best = np.nanmax(np.vstack([r2[k] for k in r2])[:, live], axis=0)
    order = list(FEATURE_CLASSES)
    recovered = [c for c in classes if c in order and c != "not_recoverable"]
    top = max(recovered, key=order.index) if recovered else "not_recoverable"
    diagnosis = LADDER_DIAGNOSES[top]
    parts = ", ".join(f"{v} {k}" for k, v in counts.items() if v)
    summary = (
        f"held-out R^2 >= {t:g} decides each feature's class: {parts}; mean best R^2 "
        f"{best.mean():.3f} against {np.nanmean(r2['linear'][live]):.3f} for the linear "
        f"read-out: {diagnosis}."
    )
    return DiagnosticResult(
        test=name,
        statistic=float(best.mean()),
        statistic_name="mean held-out R^2 of the best rung",
        baseline=float(np.nanmean(r2["linear"][live])),
        baseline_name="mean held-out R^2 of the linear read-out",
        diagnosis=diagnosis,
        summary=summary,
        details={
            "r2": r2,
            "classes": classes,
            "counts": counts,
            "notes": notes,
            "threshold": t,
            "rungs": list(DECODERS),
        },
    )
