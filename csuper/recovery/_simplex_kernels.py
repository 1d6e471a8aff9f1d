"""Private numba kernels: a primal simplex method for basis pursuit, warm-started from a guess.

Arrays in, arrays out, no validation. The method works on a full-row-rank system ``At x = y``
(``At`` of shape (r, n), rank r; the caller reduces a rank-deficient A to it) and minimises

- ``sum |x_i|`` (signed basis pursuit), or
- ``sum x_i`` subject to ``x >= 0`` (nonnegative basis pursuit; a phase 1 minimising
  ``sum max(-x_i, 0)`` first finds a feasible basis),

each a separable convex piecewise-linear objective with one breakpoint per variable, at 0. Basic
variables are free to sit on either side of their breakpoint, so every basis is primal feasible
for the signed program and the ratio test is a line search along the edge: it passes breakpoints
while the directional derivative stays negative and stops at the one where it turns nonnegative,
whose variable leaves (the "long step" of piecewise-linear simplex methods, Fourer 1985). The
basis inverse is kept explicitly (an r x r matrix, product-form updates, refactored every
``REFACTOR_EVERY`` pivots); the answer is verified by the caller, so round-off here costs at most
a second attempt, never a wrong "optimal".

References
----------
R. Fourer, "A simplex algorithm for piecewise-linear programming I: derivation and proof",
Math. Programming 33 (1985), doi:10.1007/BF01582008.
"""

from __future__ import annotations

import numpy as np
from numba import njit

#: Return codes of :func:`bp_simplex`.
OPTIMAL, INFEASIBLE, BELOW_REFERENCE, FAILED = 0, 1, 2, 3

#: Pivots between two refactorisations of the basis inverse (product-form updates in between;
#: at least r, so that the r^3 refactorisation costs no more than the pivots it follows).
REFACTOR_EVERY = 64


@njit(cache=True)
def select_basis(Ac, order, out):
    """Greedy choice of r linearly independent rows of Ac (n x r, rank r), in the given order.

    Modified Gram-Schmidt with one re-orthogonalisation: a row joins when its component
    orthogonal to the rows already chosen has norm above ``1e-8`` times its own. Writes the
    chosen indices into ``out`` (length r) and returns how many were found (r unless Ac is rank
    deficient or ``order`` too short).
    """
    r = Ac.shape[1]
    Q = np.empty((r, r))
    k = 0
    for idx in range(order.size):
        if k == r:
            break
        j = order[idx]
        a = Ac[j].copy()
        na = np.sqrt(np.sum(a * a))
        if na == 0.0:
            continue
        for _ in range(2):
            for c in range(k):
                dot = 0.0
                for i in range(r):
                    dot += Q[i, c] * a[i]
                for i in range(r):
                    a[i] -= dot * Q[i, c]
        nv = np.sqrt(np.sum(a * a))
        if nv > 1e-8 * na:
            Q[:, k] = a / nv
            out[k] = j
            k += 1
    return k


@njit(cache=True)
def _slopes(side, phase, g):
    """Current slope of each basic variable's cost on its side of the breakpoint."""
    for i in range(side.size):
        if phase == 0:  # signed: |x|
            g[i] = 1.0 if side[i] > 0 else -1.0
        elif phase == 1:  # nonnegative, phase 1: max(-x, 0)
            g[i] = 0.0 if side[i] > 0 else -1.0
        else:  # nonnegative, phase 2: x (x >= 0)
            g[i] = 1.0


@njit(cache=True)
def _invert(Ac, basis, Binv):
    """Binv = inverse of the basis matrix (columns ``Ac[basis[k]]``); False if (near) singular.

    LAPACK's inverse, accepted when it reproduces a test vector to 1e-8 relative (a basis
    closer to singular than that would make the simplex steps meaningless).
    """
    r = basis.size
    B = np.empty((r, r))
    for k in range(r):
        B[:, k] = Ac[basis[k]]
    try:
        inv = np.linalg.inv(B)
    except Exception:  # singular to machine precision
        return False
    v = np.ones(r)
    back = B @ (inv @ v)
    err = 0.0
    for i in range(r):
        err = max(err, abs(back[i] - 1.0))
    if not err <= 1e-8:
        return False
    Binv[:, :] = inv
    return True


@njit(cache=True)
def _perturbation(r, low, high):
    """A fixed, deterministic, generic vector with entries in [low, high]: the LCG of Numerical
    Recipes (modulus 2^32, exact in int64, so the same numbers with and without the JIT)."""
    d = np.empty(r)
    state = 12345
    for k in range(r):
        state = (1664525 * state + 1013904223) % 4294967296
        d[k] = low + (high - low) * (state / 4294967296.0)
    return d


@njit(cache=True)
def bp_simplex(Ac, y, order, nonnegative, max_pivots, tol, ref_l1, x_out, nu_out):
    """Primal simplex for basis pursuit on ``At x = y``, warm-started from a preferred order.

    Parameters
    ----------
    Ac : (n, r) float64, C-contiguous: the transpose of At (rows are the columns of At), rank r.
    y : (r,) float64.
    order : (n,) int64
        Columns by preference: the first r form the starting basis when they are linearly
        independent, otherwise :func:`select_basis` picks r independent ones in this order.
    nonnegative : bool
    max_pivots : int
    tol : float
        Pricing tolerance: the method stops when no reduced cost is below ``-tol``.
    ref_l1 : float
        Stop early (code ``BELOW_REFERENCE``) as soon as a feasible iterate has objective below
        this value (``inf`` to disable): used to refute a planted solution.
    x_out : (n,) float64, output: the final basic solution for y.
    nu_out : (r,) float64, output: the dual vector of the final basis, ``At_B^T nu = slopes``.

    Returns
    -------
    (code, pivots)
        code is ``OPTIMAL`` (no improving column), ``INFEASIBLE`` (nonnegative phase 1 ended with
        a negative entry), ``BELOW_REFERENCE`` or ``FAILED`` (pivot cap, a numerically singular
        basis, or an unbounded edge, which exact arithmetic excludes).

    Notes
    -----
    Degenerate vertices (basic variables at 0, the rule in the success region where the
    solution has fewer than r nonzeros) make pivots of length 0 that can cycle. The method
    therefore runs on ``y + B_0 d`` (B_0 the starting basis matrix) with a fixed generic d of
    relative size 1e-7 (the textbook perturbation that makes every vertex nondegenerate; d > 0
    for the nonnegative program, which keeps a feasible problem feasible), then removes it and
    continues from the basis it reached, which is then optimal or a few pivots from optimal.
    """
    n, r = Ac.shape
    Binv = np.empty((r, r))
    basis = order[:r].copy()
    if not _invert(Ac, basis, Binv):
        if select_basis(Ac, order, basis) < r or not _invert(Ac, basis, Binv):
            return FAILED, 0
    in_basis = np.zeros(n, dtype=np.bool_)
    for k in range(r):
        in_basis[basis[k]] = True
    # perturb the starting basic solution by relative 1e-7 (y + B0 d, upward for the nonnegative
    # program, so that y + B0 d stays in the cone of the columns whenever y is)
    xB = Binv @ y
    xmax = max(np.max(np.abs(xB)), 1e-300)
    d = _perturbation(r, 0.5 if nonnegative else -1.0, 1.0) * (1e-7 * xmax)
    B0 = np.empty((r, r))
    for k in range(r):
        B0[:, k] = Ac[basis[k]]
    yw = y + B0 @ d
    xB = xB + d
    side = np.ones(r, dtype=np.int64)
    for k in range(r):
        if xB[k] < 0.0:
            side[k] = -1
    phase = 0
    if nonnegative:
        phase = 2
        for k in range(r):
            if xB[k] < 0.0:
                phase = 1
                break
    g = np.empty(r)
    tb = np.empty(r)
    jump = np.empty(r)
    kb = np.empty(r, dtype=np.int64)
    code = FAILED
    pivots = 0
    since_refactor = 0
    perturbed = True
    while True:
        _slopes(side, phase, g)
        nu = Binv.T @ g
        c = Ac @ nu
        # pricing (Dantzig): the most negative directional derivative over nonbasic columns
        best = tol
        enter = -1
        sigma = 0
        for j in range(n):
            if in_basis[j]:
                continue
            cj = c[j]
            if phase == 0:
                v = abs(cj) - 1.0
                d = 1 if cj > 0.0 else -1
            elif phase == 1:
                if cj > 0.0:
                    v = cj
                    d = 1
                else:
                    v = -1.0 - cj
                    d = -1
            else:
                v = cj - 1.0
                d = 1
            if v > best:
                best = v
                enter = j
                sigma = d
        if enter < 0 and phase == 1:
            # phase 1 is optimal: feasible (to round-off) means on to phase 2, else infeasible
            xmax = max(np.max(np.abs(xB)), 1e-300)
            if np.min(xB) >= -1e-9 * xmax:
                phase = 2
                for k in range(r):
                    side[k] = 1
                continue
        if enter < 0:
            if perturbed:
                # optimal for y + delta: remove the perturbation and carry on from this basis
                # (entries the perturbation alone kept off 0 keep their side: at 0 any slope in
                # [l, r] is a subgradient, so the dual vector stays valid)
                perturbed = False
                yw = y.copy()
                xB = Binv @ yw
                xmax = 0.0
                for k in range(r):
                    xmax = max(xmax, abs(xB[k]))
                for k in range(r):
                    if side[k] * xB[k] < -1e-9 * xmax:
                        if phase == 2:
                            phase = 1
                        side[k] = -side[k]
                if phase == 1 and np.min(xB) >= -1e-9 * xmax:
                    phase = 2
                    for k in range(r):
                        side[k] = 1
                continue
            code = INFEASIBLE if phase == 1 else OPTIMAL
            break
        if pivots >= max_pivots:
            break
        w = Binv @ Ac[enter]
        # the edge: x_enter = sigma t, x_B(t) = x_B - sigma t w; a breakpoint where a basic
        # variable reaches 0 from its side raises the derivative by |rate| (r_k - l_k)
        nb = 0
        wmax = 0.0
        for k in range(r):
            wmax = max(wmax, abs(w[k]))
            rate = -sigma * w[k]
            if side[k] * rate < 0.0:
                tb[nb] = max(side[k] * xB[k], 0.0) / abs(rate)
                if phase == 2:
                    jump[nb] = np.inf
                elif phase == 1:
                    jump[nb] = abs(rate)
                else:
                    jump[nb] = 2.0 * abs(rate)
                kb[nb] = k
                nb += 1
        order = np.argsort(tb[:nb])
        slope = -best
        leave = -1
        tstar = 0.0
        for q in range(nb):
            i = order[q]
            slope += jump[i]
            if slope >= 0.0:
                leave = kb[i]
                tstar = tb[i]
                break
        if leave < 0 or abs(w[leave]) <= 1e-11 * wmax:
            break  # unbounded edge or a numerically singular pivot: the caller falls back
        # breakpoints passed before t* flip their side (signed and phase 1)
        for q in range(nb):
            i = order[q]
            k = kb[i]
            if k != leave and tb[i] < tstar:
                side[k] = -side[k]
        # pivot: the entering column takes the leaving one's slot
        in_basis[basis[leave]] = False
        in_basis[enter] = True
        basis[leave] = enter
        side[leave] = sigma if phase != 2 else 1
        pivots += 1
        since_refactor += 1
        if since_refactor >= max(REFACTOR_EVERY, r):
            if not _invert(Ac, basis, Binv):
                break
            since_refactor = 0
            xB = Binv @ yw
        else:
            inv = 1.0 / w[leave]
            for i in range(r):
                Binv[leave, i] *= inv
            for k in range(r):
                f = w[k]
                if k != leave and f != 0.0:
                    for i in range(r):
                        Binv[k, i] -= f * Binv[leave, i]
            # move along the edge: x_B(t*) = x_B - sigma t* w, the entering variable at sigma t*
            for k in range(r):
                xB[k] -= sigma * tstar * w[k]
            xB[leave] = sigma * tstar
        if phase == 1:
            xmax = 0.0
            for k in range(r):
                xmax = max(xmax, abs(xB[k]))
            feasible = True
            for k in range(r):
                if side[k] < 0 and xB[k] < -1e-12 * xmax:
                    feasible = False
                    break
            if feasible:
                phase = 2
                for k in range(r):
                    side[k] = 1
        if phase != 1 and ref_l1 < np.inf:
            obj = 0.0
            for k in range(r):
                obj += abs(xB[k])
            if obj < ref_l1:
                # the point of this basis for the true y (the perturbation moves it slightly)
                # (nonnegative: entries at round-off below 0 are clipped and verified by the caller)
                xt = Binv @ y
                obj = 0.0
                xmax = 0.0
                for k in range(r):
                    obj += abs(xt[k])
                    xmax = max(xmax, abs(xt[k]))
                ok = True
                for k in range(r):
                    if phase == 2 and xt[k] < -1e-12 * xmax:
                        ok = False
                if ok and obj < ref_l1:
                    code = BELOW_REFERENCE
                    break
    xB = Binv @ y
    x_out[:] = 0.0
    for k in range(r):
        x_out[basis[k]] = xB[k]
    _slopes(side, phase, g)
    nu_out[:] = Binv.T @ g
    return code, pivots
