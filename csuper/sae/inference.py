"""Sparse inference with a given dictionary, and the amortisation gap of an SAE's encoder.

An SAE's encoder infers codes in one linear-nonlinear pass (amortised inference). Compressed
sensing infers them by optimisation: basis pursuit (exact when the number of dimensions m is
above the l1 phase transition m* = delta(n, k), the statistical dimension), LASSO, and a few
ISTA / FISTA iterations. :func:`amortisation_gap` runs them all on the same samples with the true
dictionary and with the SAE's own decoder, and scores every route by code-space MCC and relative
error against the true codes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from csuper._norms import norm2, pow2_exponent
from csuper._validation import check_array, check_bool, check_int, check_real
from csuper.geometry import gram_matrix
from csuper.sae.data import GroundTruthData
from csuper.sae.metrics import code_mcc, decoder_matching
from csuper.sae.train import SparseAutoencoder

__all__ = ["INFERENCE", "InferenceResult", "GapRow", "infer_codes", "amortisation_gap"]

#: Largest ``n_iter`` and ``max_iter`` of :func:`infer_codes` (2,000 FISTA iterations on (512, 64)
#: codes take 0.4 s: 10**5 is minutes on large data, and a huge count would never return).
MAX_ITERATIONS = 10**5

#: Inference methods (name -> program); ``nonnegative=True`` adds c >= 0 (SAE codes are >= 0).
INFERENCE: dict[str, str] = {
    "basis_pursuit": "min sum(c) s.t. D c = x, c >= 0 (csuper.recovery.batch_basis_pursuit)",
    "lasso": "min 0.5 |x - D c|^2 + lam sum(c), c >= 0, by FISTA to convergence",
    "fista": "n_iter FISTA steps on the LASSO objective, from c = 0",
    "ista": "n_iter ISTA (proximal gradient) steps on the LASSO objective, from c = 0",
}


@dataclass(frozen=True)
class InferenceResult:
    """Codes inferred by :func:`infer_codes`.

    Attributes
    ----------
    codes : ndarray, shape (N, L)
    method : str
    n_failed : int
        Samples without a certified solution (basis pursuit: status not ``optimal``; their
        codes are the solver's last iterate, or 0 where it has none).
    n_iter : int
        Iterations used (the largest over samples).
    """

    codes: np.ndarray
    method: str
    n_failed: int
    n_iter: int


def _proximal(D, X, lam, n_iter, accelerated, tol, nonnegative):
    """Batched (F)ISTA on 0.5 |x - D c|^2 + lam |c|_1 (c >= 0 if nonnegative): (C, iterations)."""
    lip = float(np.linalg.norm(D, 2) ** 2)
    step = 1.0 / lip
    G = gram_matrix(D)  # never D.T @ D (BLAS syrk crashes for wide D; CONTRIBUTING)
    DX = X @ D  # (N, L)
    C = np.zeros((X.shape[0], D.shape[1]))
    Y = C.copy()
    t = 1.0
    it = 0
    while it < n_iter:
        it += 1
        Z = Y - step * (Y @ G - DX)
        Cn = (
            np.maximum(Z - step * lam, 0.0)
            if nonnegative
            else np.sign(Z) * np.maximum(np.abs(Z) - step * lam, 0.0)
        )
        if accelerated:
            tn = 0.5 * (1.0 + np.sqrt(1.0 + 4.0 * t * t))
            Y = Cn + ((t - 1.0) / tn) * (Cn - C)
            t = tn
        else:
            Y = Cn
        delta = np.abs(Cn - C).max()
        C = Cn
        if tol > 0 and delta <= tol * max(1.0, float(np.abs(C).max())):
            break
    return C, it


def infer_codes(
    dictionary,
    X,
    method: str = "basis_pursuit",
    *,
    offset=None,
    lam: float = 0.01,
    n_iter: int = 10,
    nonnegative: bool = False,
    tol: float = 1e-9,
    max_iter: int = 10_000,
) -> InferenceResult:
    """Infer sparse codes c with x - offset ~ D c for every row x of X (see :data:`INFERENCE`).

    Parameters
    ----------
    dictionary : array_like, shape (m, L)
        D (any column norms; an SAE's decoder W_dec).
    X : array_like, shape (N, m)
    method : str
        Key of :data:`INFERENCE`.
    offset : array_like, shape (m,), optional
        Subtracted from every row first (an SAE's b_dec).
    lam : float
        LASSO weight (>= 0) of ``lasso``, ``fista``, ``ista``.
    n_iter : int
        Iterations of ``fista`` and ``ista``, in [1, 10**5].
    nonnegative : bool
        Constrain c >= 0 (as SAE codes are; :func:`amortisation_gap` sets it).
    tol, max_iter : float, int
        Stopping rule of ``lasso``: largest change of an entry <= tol (relative), or max_iter
        (in [1, 10**5]).

    BLAS runs single-threaded here (measured: 2,000 FISTA iterations on (512, 64) codes took
    0.4 s with one thread and about 50 times longer with two on the loaded 2-core machine).

    Returns
    -------
    InferenceResult

    Notes
    -----
    (F)ISTA: c <- prox_{lam/Lip}(y - (1/Lip) D^T (D y - x)) with Lip = |D|_2^2, the prox a
    (one-sided, if nonnegative) soft threshold; FISTA's momentum is Beck and Teboulle's.

    References
    ----------
    A. Beck, M. Teboulle, "A fast iterative shrinkage-thresholding algorithm for linear inverse
    problems", SIAM J. Imaging Sci. 2 (2009), doi:10.1137/080716542.

    Examples
    --------
    >>> D = np.array([[1.0, 0.0, 0.6], [0.0, 1.0, 0.8]])
    >>> res = infer_codes(D, [[0.6, 0.8]], nonnegative=True)
    >>> print(np.round(res.codes, 6), res.n_failed)
    [[0. 0. 1.]] 0
    """
    D = check_array(dictionary, "dictionary", ndim=2, dtype=np.float64)
    Xa = check_array(X, "X", ndim=2, dtype=np.float64)
    if Xa.shape[1] != D.shape[0]:
        raise ValueError(
            f"X must have {D.shape[0]} columns (the dictionary's n_dims); got shape {Xa.shape}."
        )
    if offset is not None:
        off = check_array(offset, "offset", ndim=1, shape=(D.shape[0],), dtype=np.float64)
        Xa = Xa - off
    if not isinstance(method, str) or method not in INFERENCE:
        raise ValueError(f"method must be one of {sorted(INFERENCE)}; got {method!r:.80}.")
    nonnegative = check_bool(nonnegative, "nonnegative")
    lam = check_real(lam, "lam", low=0.0)
    n_iter = check_int(n_iter, "n_iter", low=1, high=MAX_ITERATIONS)
    tol = check_real(tol, "tol", low=0.0)
    max_iter = check_int(max_iter, "max_iter", low=1, high=MAX_ITERATIONS)
    if method == "basis_pursuit":
        from csuper.recovery import batch_basis_pursuit

        res = batch_basis_pursuit(D, Xa.T, nonnegative=bool(nonnegative))
        C = np.nan_to_num(res.x.T, nan=0.0)
        return InferenceResult(
            C, method, int(np.sum(res.status != "optimal")), int(res.n_iter.max())
        )
    from threadpoolctl import threadpool_limits

    if method == "lasso":
        cap, stop, acc = max_iter, tol, True
    else:
        cap, stop, acc = n_iter, 0.0, method == "fista"
    # (F)ISTA is equivariant under D -> 2**a D, X -> 2**b X, lam -> 2**(a + b) lam (codes ->
    # 2**(b - a) c, exactly): solved at unit scale, where Lip = |D|_2^2 and D^T D neither
    # overflow (D ~ 1e200) nor underflow (~1e-200)
    a = int(pow2_exponent(np.max(np.abs(D))))
    b = int(pow2_exponent(np.max(np.abs(Xa))))
    with np.errstate(over="ignore", under="ignore"):
        lam_unit = float(np.ldexp(lam, -a - b))  # inf: every code is 0; 0: no shrinkage left
    with threadpool_limits(limits=1, user_api="blas"):
        C, it = _proximal(
            np.ldexp(D, -a), np.ldexp(Xa, -b), lam_unit, cap, acc, stop, bool(nonnegative)
        )
    return InferenceResult(np.ldexp(C, b - a), method, 0, it)


def _m_star(n_features: int, expected_l0: float) -> float:
    """m* = n psi_+(k / n): the nonnegative l1 phase transition for k = ``expected_l0`` (real).

    The same number as :func:`csuper.compare.nonnegative_threshold` (the tests check it); that
    function sits above ``sae`` in the import layers, so the sweep computes it here.
    """
    from csuper.recovery import statistical_dimension_curve

    return n_features * float(
        statistical_dimension_curve(expected_l0 / n_features, nonnegative=True)
    )


@dataclass(frozen=True)
class GapRow:
    """One inference route scored against the true codes (see :func:`amortisation_gap`).

    Attributes
    ----------
    method : str
        ``"sae_encoder"`` or a key of :data:`INFERENCE`.
    dictionary : {"true", "sae"}
        Dictionary the codes were inferred with (the SAE's encoder uses its own).
    code_mcc : float
        Code-space MCC (Hungarian on |Pearson corr|), mean over true features.
    relative_error : float
        |C_hat - C|_F / |C|_F after mapping latents to true features by the decoder-space
        matching (true dictionary: identity); an unmatched feature is predicted 0.
    n_failed : int
        Samples the solver did not certify.
    """

    method: str
    dictionary: str
    code_mcc: float
    relative_error: float
    n_failed: int


def _relative_error(C: np.ndarray, Ch: np.ndarray, rows, cols) -> float:
    P = np.zeros_like(C)
    P[:, rows] = Ch[:, cols]
    return float(norm2(P - C) / norm2(C))


def amortisation_gap(
    sae: SparseAutoencoder,
    data: GroundTruthData,
    *,
    instance: int = 0,
    methods=("basis_pursuit", "lasso", "fista"),
    lam: float = 0.01,
    n_iter: int = 10,
) -> list[GapRow]:
    """Score the SAE's encoder and compressed-sensing inference on the same samples.

    Routes: the SAE encoder; every method of ``methods``, nonnegative, with the true dictionary F
    and with the SAE's decoder W_dec on x - b_dec (basis pursuit: on its best nonnegative fit
    W_dec c_NNLS, so that min sum(c) s.t. W_dec c = x, c >= 0 is feasible; a learned decoder
    rarely holds x - b_dec in the cone of its atoms).

    Parameters
    ----------
    sae : SparseAutoencoder
    data : GroundTruthData
        Samples X with true codes and dictionary (n_dims must match the SAE's).
    instance : int
        Which SAE instance.
    methods : sequence of str
        Keys of :data:`INFERENCE`.
    lam, n_iter : float, int
        LASSO weight (>= 0) and FISTA/ISTA iterations (in [1, 10**5]).

    Returns
    -------
    list of GapRow

    Examples
    --------
    >>> from csuper.sae import ground_truth_dictionary, code_law, make_data, train_sae, SAESettings
    >>> F = ground_truth_dictionary("orthogonal", 4, 6, rng=0)
    >>> d = make_data(F, code_law(4, 1, fixed_k=True), 256, rng=1)
    >>> sae = train_sae(d.X, 4, "topk", k=1, settings=SAESettings(n_steps=300, lr=1e-2), rng=0)
    >>> rows = amortisation_gap(sae, d, methods=("basis_pursuit",))
    >>> [(r.method, r.dictionary) for r in rows]
    [('sae_encoder', 'sae'), ('basis_pursuit', 'true'), ('basis_pursuit', 'sae')]
    >>> print(round(rows[1].code_mcc, 6))
    1.0
    """
    if not isinstance(sae, SparseAutoencoder):
        raise TypeError(f"sae must be a SparseAutoencoder; got {type(sae).__name__}.")
    if not isinstance(data, GroundTruthData):
        raise TypeError(f"data must be a GroundTruthData; got {type(data).__name__}.")
    if data.n_dims != sae.n_dims:
        raise ValueError(f"data has n_dims={data.n_dims} but the SAE has {sae.n_dims}.")
    r = check_int(instance, "instance", low=0, high=sae.n_instances - 1)
    lam = check_real(lam, "lam", low=0.0)  # before the NNLS fits, not after
    n_iter = check_int(n_iter, "n_iter", low=1, high=MAX_ITERATIONS)
    if isinstance(methods, str) or not hasattr(methods, "__iter__"):
        raise TypeError(
            f"methods must be a sequence of keys of {sorted(INFERENCE)}; got {methods!r:.80}."
        )
    for meth in methods:
        if not isinstance(meth, str) or meth not in INFERENCE:
            raise ValueError(f"methods must be keys of {sorted(INFERENCE)}; got {meth!r:.80}.")
    C = data.codes
    Wd = sae.W_dec[r]
    rows, cols = decoder_matching(data.dictionary, Wd)
    ident = np.arange(C.shape[1])
    enc = sae.encode(data.X)[r]
    out = [GapRow("sae_encoder", "sae", code_mcc(C, enc), _relative_error(C, enc, rows, cols), 0)]
    # nonnegative basis pursuit needs x - b_dec in the cone of the atoms, which a learned
    # decoder rarely contains exactly: it gets the best nonnegative fit (NNLS) instead
    from scipy.optimize import nnls

    Xs = data.X - sae.b_dec[r]
    Xs_cone = np.array([Wd @ nnls(Wd, x)[0] for x in Xs]) if "basis_pursuit" in methods else Xs
    for meth in methods:
        res = infer_codes(data.dictionary, data.X, meth, lam=lam, n_iter=n_iter, nonnegative=True)
        out.append(
            GapRow(
                meth,
                "true",
                code_mcc(C, res.codes),
                _relative_error(C, res.codes, ident, ident),
                res.n_failed,
            )
        )
        X_sae = Xs_cone if meth == "basis_pursuit" else Xs
        res = infer_codes(Wd, X_sae, meth, lam=lam, n_iter=n_iter, nonnegative=True)
        out.append(
            GapRow(
                meth,
                "sae",
                code_mcc(C, res.codes),
                _relative_error(C, res.codes, rows, cols),
                res.n_failed,
            )
        )
    return out
