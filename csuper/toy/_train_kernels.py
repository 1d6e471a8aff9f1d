"""Private numba kernels of the toy-model trainer: sampling, loss + closed-form gradient, Adam.

Arrays in, arrays out, no validation (the public functions in :mod:`csuper.toy.train` and
:mod:`csuper.toy.data` validate). Every kernel also runs as plain Python
(``NUMBA_DISABLE_JIT=1``); callers wrap them in ``np.errstate(over="ignore")`` because the
random generator relies on wrapping uint64 arithmetic.

Random numbers come from a per-instance xorshift64* generator whose 64-bit state lives in a
length-1 uint64 array (Vigna 2016, arXiv:1402.6246): every instance owns its stream, so the
parallel kernel (``prange`` over instances) gives bit-for-bit the same result as the serial one.

Where the time goes (benchmarks/results_toy.md): per step and instance, sampling the batch and
four (B, n) x (n, m)-sized products. The products are BLAS calls on contiguous float64 blocks
(numba's ``np.dot`` with an output array; BLAS pinned to one thread by the caller, instances
run in parallel with ``prange``; measured faster than plain loop nests even at n = 5, m = 2),
the elementwise ReLU/loss pass is branch-free, and dense features are sampled row by row with
one uniform per entry (u < p decides, u / p is the magnitude), so no branch depends on random
data.

Model codes: 0 = ReLU output (h = W x, x_hat = ReLU(W^T h + b)); 1 = linear
(x_hat = W^T W x + b); 2 = privileged basis (h = ReLU(W x), x_hat = ReLU(W^T h + b)).
Magnitude-law codes: 0 = Uniform[0, 1), 1 = constant 1, 2 = Exponential(1).
Group-mode codes: 0 = correlated (all members fire together), 1 = anticorrelated (exactly one
member fires when the group fires).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

_MULT = np.uint64(2685821657736338717)
_S12 = np.uint64(12)
_S25 = np.uint64(25)
_S27 = np.uint64(27)
_S11 = np.uint64(11)
_TWO_M53 = 1.0 / 9007199254740992.0
#: Above this probability a Bernoulli draw per row is cheaper than geometric gaps (one log each).
_DIRECT = 0.25


@njit(cache=True)
def _uniform(state):
    """Next Uniform[0, 1) double of the xorshift64* stream held in ``state[0]`` (53 bits)."""
    x = state[0]
    x ^= x >> _S12
    x ^= x << _S25
    x ^= x >> _S27
    state[0] = x
    return float(np.int64((x * _MULT) >> _S11)) * _TWO_M53  # < 2^53: exact via int64


@njit(cache=True)
def _magnitude_of(u, law):
    """Magnitude from a Uniform[0, 1) number u (the law's quantile function)."""
    if law == 0:
        return u
    if law == 1:
        return 1.0
    return -np.log(1.0 - u)


@njit(cache=True)
def _magnitude(state, law):
    return _magnitude_of(_uniform(state), law)


@njit(cache=True)
def _gap(state, logq):
    """Number of failures before the next success of a Bernoulli process, log(1 - p) = logq."""
    u = 1.0 - _uniform(state)  # in (0, 1]
    return np.floor(np.log(u) / logq)


@njit(cache=True)
def _emit(state, law, X, act_b, act_i, act_v, na, bb, i):
    """Activate feature i of row bb with a fresh magnitude; append it to the list; return na + 1."""
    v = _magnitude(state, law)
    X[bb, i] = v
    act_b[na] = bb
    act_i[na] = i
    act_v[na] = v
    return na + 1


@njit(cache=True)
def _sample(
    state, p, indep, gstart, gmem, gmode, gp, law, X, act_b, act_i, act_v, na_prev, list_dense
):
    """Fill X with one batch and list its active entries; return their count.

    On entry X must be zero except for the ``na_prev`` entries still listed in act_b, act_i
    (the previous batch) and the columns of dense features; the listed entries are cleared
    first, which is cheaper than zeroing all of X. Dense features (p > 1/4) are drawn row by
    row, one uniform per entry, and fill their whole column; their active entries are listed
    only if ``list_dense`` (the list is needed by the sparse-input route only).

    Independent features (indices ``indep``) fire with probability ``p[i]``; group g (members
    ``gmem[gstart[g]:gstart[g + 1]]``) fires with probability ``gp[g]``. For p <= 1/4 only the
    active entries are drawn (the gaps between them are geometric), so the cost is
    O(active entries), not O(B n); above, one uniform per row and feature is cheaper.
    """
    B, n = X.shape
    if na_prev * 8 > B * n:
        X[:, :] = 0.0
    else:
        for a in range(na_prev):
            X[act_b[a], act_i[a]] = 0.0
    na = 0
    # dense features (p > 1/4): row by row, one uniform u per entry, branch-free; the entry is
    # active when u < p, and then u / p is a fresh Uniform[0, 1) number giving its magnitude
    nd = 0
    for jj in range(indep.shape[0]):
        if p[indep[jj]] > _DIRECT:
            nd += 1
    if nd > 0:
        dense = np.empty(nd, dtype=np.int64)
        ipd = np.empty(nd)
        nd = 0
        for jj in range(indep.shape[0]):
            if p[indep[jj]] > _DIRECT:
                dense[nd] = indep[jj]
                ipd[nd] = 1.0 / min(p[indep[jj]], 1.0)
                nd += 1
        for bb in range(B):
            for q in range(nd):
                i = dense[q]
                u = _uniform(state)
                w = u * ipd[q]
                on = w < 1.0
                v = _magnitude_of(w if on else 0.0, law) * (1.0 if on else 0.0)
                X[bb, i] = v
                if list_dense:  # unlisted dense entries are overwritten by the next batch
                    act_b[na] = bb  # appended always, kept only when active
                    act_i[na] = i
                    act_v[na] = v
                    na += 1 if on else 0
    for jj in range(indep.shape[0]):
        i = indep[jj]
        pi = p[i]
        if pi <= 0.0 or pi > _DIRECT:
            continue
        logq = np.log1p(-pi)
        pos = -1.0
        while True:
            pos += 1.0 + _gap(state, logq)
            if pos >= B:
                break
            na = _emit(state, law, X, act_b, act_i, act_v, na, int(pos), i)
    for g in range(gstart.shape[0] - 1):
        pg = gp[g]
        if pg <= 0.0:
            continue
        logq = np.log1p(-pg) if pg < 1.0 else -np.inf
        lo = gstart[g]
        size = gstart[g + 1] - lo
        pos = -1.0
        while True:
            if pg > _DIRECT:  # dense: one Bernoulli draw per row
                pos += 1.0
                if pos >= B:
                    break
                if pg < 1.0 and _uniform(state) >= pg:
                    continue
            else:  # sparse: jump over the inactive rows (geometric gap)
                pos += 1.0 + _gap(state, logq)
                if pos >= B:
                    break
            bb = int(pos)
            if gmode[g] == 0:
                for t in range(size):
                    i = gmem[lo + t]
                    na = _emit(state, law, X, act_b, act_i, act_v, na, bb, i)
            else:
                t = min(int(_uniform(state) * size), size - 1)
                i = gmem[lo + t]
                na = _emit(state, law, X, act_b, act_i, act_v, na, bb, i)
    return na


#: Below this expected fraction of active inputs, h = W x and the encoder gradient run over the
#: active entries only (scalar loops, na m multiply-adds); above, they are BLAS products (B n m
#: multiply-adds at several times the per-operation speed). Set from that ratio, not tuned.
_SPARSE_IN = 0.1


@njit(cache=True)
def _loss_grad(W, b, X, act_b, act_i, act_v, na, sparse_in, imp, kind, Hpre, H, Z, dH, gW, gW2, gb):
    """Loss (1/(B n)) sum_{b,i} I_i (x_bi - x_hat_bi)^2 of the batch X and its exact gradient
    (into gW (m, n), gb (n,)).

    W (m, n), b (n,), X (B, n); work arrays Hpre, H, dH (B, m), Z (B, n), gW2 (m, n).
    Z = H W, gW = H^T dZ and dH = dZ W^T are BLAS products (numba calls BLAS on contiguous
    blocks; measured faster than scalar loops even at n = 5, m = 2, batch 1024). h = W x and
    the encoder gradient dH^T X are BLAS products too, unless ``sparse_in``: then they run over
    the ``na`` active entries listed in act_b, act_i, act_v. The ReLU and the loss are applied
    branch-free (random signs would defeat branch prediction).
    """
    B, n = X.shape
    m = W.shape[0]
    if sparse_in:
        Wt = np.ascontiguousarray(W.T)
        Hpre[:, :] = 0.0
        for a in range(na):
            bb = act_b[a]
            i = act_i[a]
            v = act_v[a]
            for k in range(m):
                Hpre[bb, k] += Wt[i, k] * v
    else:
        np.dot(X, W.T, Hpre)
    for bb in range(B):
        for k in range(m):
            s = Hpre[bb, k]
            H[bb, k] = s if (kind != 2 or s > 0.0) else 0.0
    np.dot(H, W, Z)
    scale = 1.0 / (B * n)
    loss = 0.0
    for i in range(n):
        gb[i] = 0.0
    # Z becomes dL/dz in place
    for bb in range(B):
        for i in range(n):
            z = Z[bb, i] + b[i]
            open_ = kind == 1 or z > 0.0
            r = (z if open_ else 0.0) - X[bb, i]
            loss += imp[i] * r * r
            d = 2.0 * scale * imp[i] * r if open_ else 0.0
            Z[bb, i] = d
            gb[i] += d
    np.dot(H.T, Z, gW)
    np.dot(Z, W.T, dH)
    if kind == 2:
        for bb in range(B):
            for k in range(m):
                if Hpre[bb, k] <= 0.0:
                    dH[bb, k] = 0.0
    if sparse_in:
        gWt = np.zeros((n, m))
        for a in range(na):
            bb = act_b[a]
            j = act_i[a]
            v = act_v[a]
            for k in range(m):
                gWt[j, k] += dH[bb, k] * v
        for k in range(m):
            for j in range(n):
                gW[k, j] += gWt[j, k]
    else:
        np.dot(dH.T, X, gW2)
        gW += gW2
    return loss * scale


@njit(cache=True)
def _adam_update(P, g, M, V, lr, beta1, beta2, eps, wd, decoupled, t):
    """One torch-style Adam (decoupled=False, L2 weight decay) or AdamW step on flat arrays."""
    bc1 = 1.0 - beta1**t
    bc2 = 1.0 - beta2**t
    sq2 = np.sqrt(bc2)
    for j in range(P.shape[0]):
        gj = g[j]
        if decoupled:
            P[j] *= 1.0 - lr * wd
        else:
            gj += wd * P[j]
        M[j] = beta1 * M[j] + (1.0 - beta1) * gj
        V[j] = beta2 * V[j] + (1.0 - beta2) * gj * gj
        P[j] -= (lr / bc1) * M[j] / (np.sqrt(V[j]) / sq2 + eps)


@njit(cache=True)
def _train_instance(
    W,
    b,
    p,
    imp,
    gp,
    kind,
    lrs,
    beta1,
    beta2,
    eps,
    wd,
    decoupled,
    state,
    batch,
    indep,
    gstart,
    gmem,
    gmode,
    law,
    loss_out,
    MW,
    VW,
    Mb,
    Vb,
    t0,
):
    """Train one instance in place for ``lrs.shape[0]`` steps; return -1 or the diverged step.

    Adam moments MW, VW (m n,), Mb, Vb (n,) carry over between calls; ``t0`` steps were taken
    before this call (bias correction uses t0 + t + 1). ``loss_out[t]`` receives the batch loss
    at step t (before that step's update). On a non-finite loss or gradient the instance stops
    with W and b as they were before that step and the local step index is returned.
    """
    m, n = W.shape
    nsteps = lrs.shape[0]
    X = np.zeros((batch, n))
    cap = batch * n
    act_b = np.zeros(cap, dtype=np.int64)
    act_i = np.zeros(cap, dtype=np.int64)
    act_v = np.zeros(cap)
    # expected fraction of active inputs decides the route of h = W x and the encoder gradient
    dens = 0.0
    for jj in range(indep.shape[0]):
        dens += min(p[indep[jj]], 1.0)
    for g in range(gstart.shape[0] - 1):
        size = gstart[g + 1] - gstart[g]
        dens += min(gp[g], 1.0) * (size if gmode[g] == 0 else 1)
    sparse_in = dens < _SPARSE_IN * n
    Hpre = np.zeros((batch, m))
    H = np.zeros((batch, m))
    dH = np.zeros((batch, m))
    Z = np.zeros((batch, n))
    gW = np.zeros((m, n))
    gW2 = np.zeros((m, n))
    gb = np.zeros(n)
    Wf = W.reshape(m * n)
    na = 0
    for t in range(nsteps):
        na = _sample(
            state, p, indep, gstart, gmem, gmode, gp, law, X, act_b, act_i, act_v, na, sparse_in
        )
        loss = _loss_grad(
            W, b, X, act_b, act_i, act_v, na, sparse_in, imp, kind, Hpre, H, Z, dH, gW, gW2, gb
        )
        loss_out[t] = loss
        if not np.isfinite(loss):
            return t
        ok = True
        for j in range(n):
            if not np.isfinite(gb[j]):
                ok = False
        for k in range(m):
            for j in range(n):
                if not np.isfinite(gW[k, j]):
                    ok = False
        if not ok:
            loss_out[t] = np.nan
            return t
        _adam_update(
            Wf, gW.reshape(m * n), MW, VW, lrs[t], beta1, beta2, eps, wd, decoupled, t0 + t + 1
        )
        _adam_update(b, gb, Mb, Vb, lrs[t], beta1, beta2, eps, wd, decoupled, t0 + t + 1)
    return -1


@njit(cache=True)
def train_serial(
    W,
    b,
    P,
    IMP,
    GP,
    kind,
    lrs,
    beta1,
    beta2,
    eps,
    wd,
    decoupled,
    states,
    batch,
    indep,
    gstart,
    gmem,
    gmode,
    law,
    losses,
    failed,
    MW,
    VW,
    Mb,
    Vb,
    t0,
):
    """Train every instance (leading axis of W (I, m, n), b, P, IMP, GP, states) one after
    another."""
    for r in range(W.shape[0]):
        failed[r] = _train_instance(
            W[r],
            b[r],
            P[r],
            IMP[r],
            GP[r],
            kind,
            lrs,
            beta1,
            beta2,
            eps,
            wd,
            decoupled,
            states[r],
            batch,
            indep,
            gstart,
            gmem,
            gmode,
            law,
            losses[r],
            MW[r],
            VW[r],
            Mb[r],
            Vb[r],
            t0,
        )


@njit(parallel=True, cache=True)
def train_parallel(
    W,
    b,
    P,
    IMP,
    GP,
    kind,
    lrs,
    beta1,
    beta2,
    eps,
    wd,
    decoupled,
    states,
    batch,
    indep,
    gstart,
    gmem,
    gmode,
    law,
    losses,
    failed,
    MW,
    VW,
    Mb,
    Vb,
    t0,
):
    """Parallel kernel (``parallel=True``, ``prange`` over instances). Same result as
    :func:`train_serial`
    bit for bit, since every instance owns its random stream and its work arrays."""
    for r in prange(W.shape[0]):
        failed[r] = _train_instance(
            W[r],
            b[r],
            P[r],
            IMP[r],
            GP[r],
            kind,
            lrs,
            beta1,
            beta2,
            eps,
            wd,
            decoupled,
            states[r],
            batch,
            indep,
            gstart,
            gmem,
            gmode,
            law,
            losses[r],
            MW[r],
            VW[r],
            Mb[r],
            Vb[r],
            t0,
        )


@njit(cache=True)
def sample_many(states, P, GP, indep, gstart, gmem, gmode, law, X):
    """Draw X[r] (B, n) for every instance r with its own stream (public sampler's kernel)."""
    B, n = X.shape[1], X.shape[2]
    cap = B * n
    act_b = np.zeros(cap, dtype=np.int64)
    act_i = np.zeros(cap, dtype=np.int64)
    act_v = np.zeros(cap)
    for r in range(X.shape[0]):
        _sample(
            states[r],
            P[r],
            indep,
            gstart,
            gmem,
            gmode,
            GP[r],
            law,
            X[r],
            act_b,
            act_i,
            act_v,
            0,
            False,
        )


@njit(cache=True)
def loss_grad_dense(W, b, X, imp, kind, gW, gb, route):
    """Loss and gradient of one given batch X (B, n). route 0: h = W x and the encoder gradient
    as BLAS products; 1: over the active entries; -1: chosen as in training (by density)."""
    B, n = X.shape
    m = W.shape[0]
    act_b = np.zeros(B * n, dtype=np.int64)
    act_i = np.zeros(B * n, dtype=np.int64)
    act_v = np.zeros(B * n)
    na = 0
    for i in range(n):
        for bb in range(B):
            if X[bb, i] != 0.0:
                act_b[na] = bb
                act_i[na] = i
                act_v[na] = X[bb, i]
                na += 1
    sparse_in = route == 1 or (route < 0 and na < _SPARSE_IN * B * n)
    return _loss_grad(
        W,
        b,
        X,
        act_b,
        act_i,
        act_v,
        na,
        sparse_in,
        imp,
        kind,
        np.zeros((B, m)),
        np.zeros((B, m)),
        np.zeros((B, n)),
        np.zeros((B, m)),
        gW,
        np.zeros((m, n)),
        gb,
    )
