"""Phase-transition theory for l1 recovery: statistical dimension, transition width, weak
thresholds.

Two programs are covered throughout, chosen by the keyword ``nonnegative`` as in the solvers:

- signed (``nonnegative=False``, the default): basis pursuit, minimise ``||x||_1`` subject to
  ``A x = y``;
- nonnegative (``nonnegative=True``): minimise ``sum(x)`` subject to ``A x = y, x >= 0``
  (toy-model features are nonnegative).

Functions that broadcast over an array argument return a float for scalar input and an ndarray
of the argument's shape otherwise.

For a k-sparse x0 in R^n and a Gaussian A of shape (m, n), recovery succeeds with probability
that jumps from 0 to 1 as m crosses the statistical dimension delta(n, k) of the descent cone of
the objective at x0 (Amelunxen, Lotz, McCoy, Tropp 2014).
"""

from __future__ import annotations

import math
import sys

import numpy as np

from csuper._lazy import lazy_import
from csuper._validation import check_array, check_bool, check_int, check_real, scalar_or_array

optimize = lazy_import("scipy.optimize")
special = lazy_import("scipy.special")

__all__ = [
    "statistical_dimension",
    "statistical_dimension_curve",
    "transition_width",
    "weak_threshold",
    "weak_threshold_asymptotic",
    "l1_scaling",
    "crpw_bound",
]

_SQRT2PI = np.sqrt(2.0 * np.pi)


def _weight(nonnegative: bool) -> float:
    """c = 2 for the signed program (cross-polytope), 1 for the nonnegative one (simplex)."""
    return 1.0 if check_bool(nonnegative, "nonnegative") else 2.0


def _tail_moment(tau):
    """J(tau) = E[(g - tau)_+^2] = (1 + tau^2) Q(tau) - tau phi(tau) for g ~ N(0, 1)."""
    tau = np.asarray(tau, dtype=float)
    q = 0.5 * special.erfc(tau / np.sqrt(2.0))
    phi = np.exp(-0.5 * tau * tau) / _SQRT2PI
    return (1.0 + tau * tau) * q - tau * phi


def _tail_mass(tau):
    """d J / d tau = -2 E[(g - tau)_+] = -2 (phi(tau) - tau Q(tau))."""
    q = 0.5 * special.erfc(tau / np.sqrt(2.0))
    phi = np.exp(-0.5 * tau * tau) / _SQRT2PI
    return -2.0 * (phi - tau * q)


def _psi(eps: float, nonnegative: bool) -> tuple[float, float]:
    """Normalised statistical dimension psi(eps) = inf_tau F(tau) / n and its minimiser tau.

    F(tau)/n = eps (1 + tau^2) + (1 - eps) c J(tau), c = 2 (signed) or 1 (nonnegative). F is
    strictly convex in tau for 0 < eps < 1; the minimiser solves
    F'(tau) = 2 eps tau + (1 - eps) c J'(tau) = 0, which is bracketed in [0, 40].
    """
    c = _weight(nonnegative)
    if eps >= 1.0:
        return 1.0, 0.0
    if eps <= 0.0:
        return 0.0, np.inf

    def dF(t):
        return 2.0 * eps * t + (1.0 - eps) * c * _tail_mass(t)

    if dF(0.0) >= 0.0:
        tau = 0.0
    else:
        tau = optimize.brentq(dF, 0.0, 40.0, xtol=1e-14, rtol=1e-15, maxiter=200)
    val = eps * (1.0 + tau * tau) + (1.0 - eps) * c * float(_tail_moment(tau))
    return float(val), float(tau)


def statistical_dimension(n_features: int, k: int, *, nonnegative: bool = False) -> float:
    """Statistical dimension delta(n, k) of the l1 descent cone at a k-sparse vector.

    Parameters
    ----------
    n_features : int
        Signal dimension n >= 1.
    k : int
        Number of nonzeros, in [0, n].
    nonnegative : bool
        False: descent cone of ``||x||_1`` (basis pursuit); True: of
        ``sum(x) + indicator(x >= 0)`` (nonnegative basis pursuit).

    Returns
    -------
    float
        delta(n, k) in [0, n]: the predicted location m* of the recovery phase transition for a
        Gaussian measurement matrix of shape (m, n).

    Notes
    -----
    With Q the standard Gaussian upper tail, phi its density and
    ``J(tau) = E (g - tau)_+^2 = (1 + tau^2) Q(tau) - tau phi(tau)``:

    - signed (ALMT 2014, Prop. 4.5, eq. (4.13)):
      ``delta = inf_{tau >= 0} k (1 + tau^2) + (n - k) * 2 J(tau)``;
    - nonnegative: the subdifferential of ``sum(x) + I(x >= 0)`` at x0 is ``{1}`` on the support
      and ``(-inf, 1]`` off it, so the off-support distance of g to ``tau * (-inf, 1]`` is
      ``(g - tau)_+`` (one-sided) and ``delta = inf_tau k (1 + tau^2) + (n - k) J(tau)``.

    Both formulas are ``inf_tau E dist^2(g, tau * subdifferential)``, an upper bound on the exact
    ``E dist^2(g, cone(subdifferential))`` that exceeds it by at most ``2 sqrt(n / k)``
    (ALMT 2014, Thm. 4.3); the tests check both facts by Monte Carlo.

    References
    ----------
    D. Amelunxen, M. Lotz, M. B. McCoy, J. A. Tropp, "Living on the edge: phase transitions in
    convex programs with random data", Inf. Inference 3 (2014); arXiv:1303.6672.

    Examples
    --------
    >>> print(f"{statistical_dimension(200, 20):.3f}")
    65.759
    >>> print(f"{statistical_dimension(200, 20, nonnegative=True):.3f}")
    53.061
    """
    n = check_int(n_features, "n_features", low=1)
    k = check_int(k, "k", low=0, high=n)
    _weight(nonnegative)
    if k == 0:
        return 0.0
    if k == n:
        return float(n)
    return n * _psi(k / n, nonnegative)[0]


def statistical_dimension_curve(rho, *, nonnegative: bool = False) -> float | np.ndarray:
    """Normalised statistical dimension psi(rho) = lim delta(n, rho n) / n, elementwise.

    Parameters
    ----------
    rho : float or array_like
        Sparsity fractions k / n in [0, 1].
    nonnegative : bool
        The nonnegative program (simplex) instead of basis pursuit (cross-polytope).

    Returns
    -------
    float or ndarray
        psi(rho), a float for scalar ``rho``, else an array of its shape;
        ``delta(n, k) = n psi(k / n)`` exactly.

    Examples
    --------
    >>> print(np.round(statistical_dimension_curve([0.1, 0.5]), 4))
    [0.3288 0.8313]
    """
    r = check_array(rho, "rho", dtype=np.float64, min_size=1)
    _weight(nonnegative)
    if np.any((r < 0) | (r > 1)):
        raise ValueError(f"rho must lie in [0, 1]; got values in [{r.min()!r}, {r.max()!r}].")
    out = np.array([_psi(float(e), nonnegative)[0] for e in r.ravel()])
    return scalar_or_array(out.reshape(r.shape), np.ndim(rho) == 0)


def transition_width(n_features: int, eta: float = 0.05) -> float:
    """Half-width a_eta sqrt(n) of the recovery transition region (ALMT 2014, Theorem II).

    Parameters
    ----------
    n_features : int
        Ambient dimension n.
    eta : float
        Tolerance in (0, 1).

    Returns
    -------
    float
        ``sqrt(8 log(4 / eta)) * sqrt(n)``: for Gaussian A of shape (m, n), recovery succeeds with
        probability <= eta when ``m <= delta - width`` and >= 1 - eta when ``m >= delta + width``.

    Notes
    -----
    This is the rigorous (conservative) width used by the experiment's tests. In particular the
    empirical 50% point m_50 satisfies ``abs(m_50 - delta) < transition_width(n, eta)`` for every
    eta < 1/2, the tightest being eta -> 1/2 (``a = sqrt(8 log 8) = 4.08``).

    References
    ----------
    Amelunxen, Lotz, McCoy, Tropp (2014), arXiv:1303.6672, Theorem II.

    Examples
    --------
    >>> print(f"{transition_width(200, 0.05):.3f}")
    83.733
    """
    n = check_int(n_features, "n_features", low=1)
    eta = check_real(eta, "eta", low=0.0, high=1.0, low_inclusive=False, high_inclusive=False)
    if n > sys.float_info.max:
        raise ValueError(
            f"n_features must be an integer in [1, {sys.float_info.max:.4g}] (a float's range); "
            f"got an integer of {n.bit_length()} bits."
        )
    return math.sqrt(8.0 * math.log(4.0 / eta)) * math.sqrt(n)


def weak_threshold(delta, *, nonnegative: bool = False) -> float | np.ndarray:
    """Donoho-Tanner asymptotic weak threshold rho_W(delta) (k / m at the l1 phase transition).

    Parameters
    ----------
    delta : float or array_like
        Undersampling ratios m / n in (0, 1].
    nonnegative : bool
        False: projected cross-polytope (basis pursuit); True: projected simplex (nonnegative
        basis pursuit).

    Returns
    -------
    float or ndarray
        rho_W(delta) in (0, 1], a float for scalar ``delta``, else an array of its shape.

    Notes
    -----
    Computed by the parametric form of Donoho, Maleki, Montanari (2009), who show it equals the
    Donoho-Tanner weak threshold: with ``J(z) = (1 + z^2) Q(z) - z phi(z)`` and c = 2 (signed) or
    1 (nonnegative), ``rho_W(delta) = max_{z >= 0} [1 - c J(z) / delta] / [1 + z^2 - c J(z)]``.
    The maximiser solves a scalar equation that is solved here by Brent's method. ALMT 2014
    (Sec. 10.4) show the statistical-dimension curve coincides with it:
    ``psi(rho_W delta) = delta``;
    the tests check this by an independent root-finding route. As delta -> 0,
    ``rho_W(delta) ~ 1 / (2 log(1 / delta))`` (see :func:`weak_threshold_asymptotic`).

    References
    ----------
    D. L. Donoho, J. Tanner, "Counting faces of randomly projected polytopes when the projection
    radically lowers dimension", J. AMS 22 (2009); D. L. Donoho, A. Maleki, A. Montanari,
    "Message-passing algorithms for compressed sensing", PNAS 106 (2009),
    doi:10.1073/pnas.0909892106.

    Examples
    --------
    >>> print(np.round(weak_threshold([0.1, 0.5]), 4))
    [0.1894 0.3857]
    >>> print(np.round(weak_threshold([0.1, 0.5], nonnegative=True), 4))
    [0.241  0.5582]
    >>> print(f"{weak_threshold(0.5):.4f}")
    0.3857
    """
    d = check_array(delta, "delta", dtype=np.float64, min_size=1)
    c = _weight(nonnegative)
    if np.any((d <= 0) | (d > 1)):
        raise ValueError(f"delta must lie in (0, 1]; got values in [{d.min()!r}, {d.max()!r}].")
    out = np.empty(d.size)
    for i, dv in enumerate(d.ravel()):
        if dv >= 1.0:
            out[i] = 1.0
            continue

        def neg_rho(z, dv=dv):
            j = c * float(_tail_moment(z))
            return -(1.0 - j / dv) / (1.0 + z * z - j)

        # rho(z) is unimodal on [0, inf); bound the search where the numerator is positive.
        res = optimize.minimize_scalar(
            neg_rho, bounds=(0.0, 40.0), method="bounded", options={"xatol": 1e-12, "maxiter": 500}
        )
        out[i] = -res.fun
    return scalar_or_array(out.reshape(d.shape), np.ndim(delta) == 0)


def weak_threshold_asymptotic(delta) -> float | np.ndarray:
    """Small-delta asymptotics of the weak threshold: ``rho_W(delta) ~ 1 / (2 log(1 / delta))``.

    Valid for both the cross-polytope and the simplex as delta -> 0 (Donoho & Tanner 2009,
    J. AMS 22, Theorem 1.2); the ratio to :func:`weak_threshold` tends to 1 only slowly
    (logarithmically).

    Examples
    --------
    >>> print(np.round(weak_threshold_asymptotic([1e-3, 1e-2]), 4))
    [0.0724 0.1086]
    """
    d = check_array(delta, "delta", dtype=np.float64, min_size=1)
    if np.any((d <= 0) | (d >= 1)):
        raise ValueError(f"delta must lie in (0, 1); got values in [{d.min()!r}, {d.max()!r}].")
    return scalar_or_array(1.0 / (2.0 * np.log(1.0 / d)), np.ndim(delta) == 0)


def l1_scaling(n_features: int, k: int) -> float:
    """Leading-order scaling ``2 k log(n / k)`` of delta(n, k) as k / n -> 0 (signed and
    nonnegative).

    ``statistical_dimension(n, k) / (2 k log(n / k)) -> 1`` as k / n -> 0 for both programs (the
    minimiser tau of the formula behaves like sqrt(2 log(n / k))); the ratio converges slowly.

    Examples
    --------
    >>> print(f"{l1_scaling(1000, 10):.3f}")
    92.103
    """
    return _klog(n_features, k, 0.0)


def _klog(n_features, k, extra: float) -> float:
    n = check_int(n_features, "n_features", low=1)
    k = check_int(k, "k", low=0, high=n)
    return 0.0 if k == 0 else float(2.0 * k * np.log(n / k) + extra * k)


def crpw_bound(n_features: int, k: int) -> float:
    """Non-asymptotic upper bound ``2 k log(n / k) + 5 k / 4`` on delta(n, k) (signed, hence also
    nonnegative).

    Chandrasekaran, Recht, Parrilo, Willsky (2012), "The convex geometry of linear inverse
    problems", Found. Comput. Math. 12, Prop. 3.10 (squared Gaussian width of the l1 descent cone;
    the statistical dimension is at most that plus 1, ALMT Prop. 10.2, and the nonnegative cone
    is contained in the signed one). Here it is returned without the +1, as CRPW state it for m.

    Examples
    --------
    >>> print(f"{crpw_bound(200, 20):.3f}")
    117.103
    """
    return _klog(n_features, k, 1.25)
