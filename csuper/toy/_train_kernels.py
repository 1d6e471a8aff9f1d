"""Private numba kernels of the toy-model trainer: sampling, loss + closed-form gradient, Adam.

Arrays in, arrays out, no validation (the public functions in :mod:`csuper.toy.train` and
:mod:`csuper.toy.data` validate). Every kernel also runs as plain Python
(``NUMBA_DISABLE_JIT=1``); callers wrap them in ``np.errstate(over="ignore")`` because the
random generator relies on wrapping uint64 arithmetic.

Random numbers come from a per-instance xorshift64* generator whose 64-bit state lives in a
length-1 uint64 array (Vigna 2016, arXiv:1402.6246): every instance owns its stream, so the
parallel kernel (``prange`` over instances) gives bit-for-bit the same result as the serial one.

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
    return float((x * _MULT) >> _S11) * _TWO_M53


@njit(cache=True)
def _magnitude(state, law):
    if law == 0:
        return _uniform(state)
    if law == 1:
        return 1.0
    return -np.log(1.0 - _uniform(state))


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
def _sample(state, p, indep, gstart, gmem, gmode, gp, law, X, act_b, act_i, act_v, na_prev):
    """Fill X with one batch and list its active entries; return their count.

    On entry X must be zero except for the ``na_prev`` entries still listed in act_b, act_i
    (the previous batch); they are cleared first, which is cheaper than zeroing all of X.

    Independent features (indices ``indep``) fire with probability ``p[i]``; group g (members
    ``gmem[gstart[g]:gstart[g + 1]]``) fires with probability ``gp[g]``. For p <= 1/4 only the
    active entries are drawn (the gaps between them are geometric), so the cost is
    O(active entries), not O(B n); above, one uniform per row and feature is cheaper.
    """
    B = X.shape[0]
    for a in range(na_prev):
        X[act_b[a], act_i[a]] = 0.0
    na = 0
    for jj in range(indep.shape[0]):
        i = indep[jj]
        pi = p[i]
        if pi <= 0.0:
            continue
        if pi > _DIRECT:
            for bb in range(B):
                if pi >= 1.0 or _uniform(state) < pi:
                    na = _emit(state, law, X, act_b, act_i, act_v, na, bb, i)
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


@njit(cache=True)
def _loss_grad(W, b, X, act_b, act_i, act_v, na, imp, kind, Hpre, H, Z, dZ, G, dH, gW, gb):
    """Loss (1/(B n)) sum_{b,i} I_i (x_bi - x_hat_bi)^2 of one batch and its exact gradient.

    W (m, n), b (n,), X (B, n) with its ``na`` active entries listed; work arrays Hpre, H, dH
    (B, m), Z, dZ (B, n), G (n, n); the gradient is written into gW (m, n) and gb (n,).

    Two routes, same numbers. Dense batches of large models (m n >= 1024) use BLAS products
    (Z = H W, gW = H^T dZ, dH = dZ W^T). Sparse batches and small models run loops: the
    ReLU-output and linear models form z = W^T W x + b from the Gram matrix G = W^T W for rows
    with fewer than m active features (k n operations instead of n m), and the backward pass,
    fused with the loss, visits only the entries where the output ReLU is open. When fewer than a quarter of the inputs are active, h = W x and the encoder gradient
    run over the active inputs only; otherwise they are BLAS products too.
    """
    B, n = X.shape
    m = W.shape[0]
    Wt = np.ascontiguousarray(W.T)
    # BLAS products pay off only for large enough blocks; tiny models run plain loops
    small = m * n < 1024
    dense_in = na * 4 > B * n
    dense_x = dense_in and not small
    # row-major lists of the active entries (counting sort of the feature-major list), for
    # sparse inputs only
    rstart = np.zeros(B + 1, dtype=np.int64)
    ridx = np.empty(max(na, 1), dtype=np.int64)
    rval = np.empty(max(na, 1))
    if not dense_in:
        for a in range(na):
            rstart[act_b[a] + 1] += 1
        for bb in range(B):
            rstart[bb + 1] += rstart[bb]
        fill = rstart[:B].copy()
        for a in range(na):
            q = fill[act_b[a]]
            ridx[q] = act_i[a]
            rval[q] = act_v[a]
            fill[act_b[a]] += 1
    if dense_x:
        Hpre[:, :] = np.dot(X, Wt)
    elif dense_in:
        for bb in range(B):
            for k in range(m):
                Hpre[bb, k] = 0.0
            for i in range(n):
                x = X[bb, i]
                if x != 0.0:
                    for k in range(m):
                        Hpre[bb, k] += Wt[i, k] * x
    else:
        for bb in range(B):
            for k in range(m):
                s = 0.0
                for q in range(rstart[bb], rstart[bb + 1]):
                    s += Wt[ridx[q], k] * rval[q]
                Hpre[bb, k] = s
    for bb in range(B):
        for k in range(m):
            s = Hpre[bb, k]
            H[bb, k] = s if (kind != 2 or s > 0.0) else 0.0
    sparse = small or na < (B * m) // 2
    gram = sparse and kind != 2 and not dense_in
    if gram:
        for i in range(n):
            for j in range(i, n):
                s = 0.0
                for k in range(m):
                    s += Wt[i, k] * Wt[j, k]
                G[i, j] = s
                G[j, i] = s
    if sparse:
        for bb in range(B):
            lo = rstart[bb]
            hi = rstart[bb + 1]
            for i in range(n):
                Z[bb, i] = b[i]
            if gram and hi - lo < m:
                for q in range(lo, hi):
                    j = ridx[q]
                    v = rval[q]
                    for i in range(n):
                        Z[bb, i] += G[j, i] * v
            else:
                for k in range(m):
                    hk = H[bb, k]
                    for i in range(n):
                        Z[bb, i] += hk * W[k, i]
    else:
        Z[:, :] = np.dot(H, W)
        for bb in range(B):
            for i in range(n):
                Z[bb, i] += b[i]
    scale = 1.0 / (B * n)
    loss = 0.0
    for i in range(n):
        gb[i] = 0.0
    if sparse:
        # few open ReLUs: accumulate the decoder gradient and dH = dZ W^T entry by entry
        gW[:, :] = 0.0
        for bb in range(B):
            for k in range(m):
                dH[bb, k] = 0.0
            for i in range(n):
                z = Z[bb, i]
                x = X[bb, i]
                if kind != 1 and z <= 0.0:
                    loss += imp[i] * x * x
                else:
                    r = z - x
                    loss += imp[i] * r * r
                    d = 2.0 * scale * imp[i] * r
                    gb[i] += d
                    for k in range(m):
                        gW[k, i] += H[bb, k] * d
                        dH[bb, k] += d * Wt[i, k]
    else:
        for bb in range(B):
            for i in range(n):
                z = Z[bb, i]
                x = X[bb, i]
                if kind != 1 and z <= 0.0:
                    loss += imp[i] * x * x
                    dZ[bb, i] = 0.0
                else:
                    r = z - x
                    loss += imp[i] * r * r
                    d = 2.0 * scale * imp[i] * r
                    dZ[bb, i] = d
                    gb[i] += d
        # decoder part (z_bi = sum_k W[k, i] h_bk) and dH = dZ W^T as BLAS products
        gW[:, :] = np.dot(H.T, dZ)
        dH[:, :] = np.dot(dZ, Wt)
    if kind == 2:
        for bb in range(B):
            for k in range(m):
                if Hpre[bb, k] <= 0.0:
                    dH[bb, k] = 0.0
    # encoder part: h_bk = sum_j W[k, j] x_bj (over the active inputs when X is sparse)
    if dense_x:
        gW += np.dot(dH.T, X)
    elif dense_in:
        for bb in range(B):
            for j in range(n):
                x = X[bb, j]
                if x != 0.0:
                    for k in range(m):
                        gW[k, j] += dH[bb, k] * x
    else:
        for a in range(na):
            bb = act_b[a]
            j = act_i[a]
            v = act_v[a]
            for k in range(m):
                gW[k, j] += dH[bb, k] * v
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
def _train_instance(W, b, p, imp, gp, kind, lrs, beta1, beta2, eps, wd, decoupled, state, batch,
                    indep, gstart, gmem, gmode, law, loss_out, MW, VW, Mb, Vb, t0):
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
    Hpre = np.zeros((batch, m))
    H = np.zeros((batch, m))
    dH = np.zeros((batch, m))
    Z = np.zeros((batch, n))
    dZ = np.zeros((batch, n))
    G = np.zeros((n, n))
    gW = np.zeros((m, n))
    gb = np.zeros(n)
    Wf = W.reshape(m * n)
    na = 0
    for t in range(nsteps):
        na = _sample(state, p, indep, gstart, gmem, gmode, gp, law, X, act_b, act_i, act_v, na)
        loss = _loss_grad(W, b, X, act_b, act_i, act_v, na, imp, kind, Hpre, H, Z, dZ, G, dH, gW, gb)
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
        _adam_update(Wf, gW.reshape(m * n), MW, VW, lrs[t], beta1, beta2, eps, wd, decoupled, t0 + t + 1)
        _adam_update(b, gb, Mb, Vb, lrs[t], beta1, beta2, eps, wd, decoupled, t0 + t + 1)
    return -1


@njit(cache=True)
def train_serial(W, b, P, IMP, GP, kind, lrs, beta1, beta2, eps, wd, decoupled, states, batch,
                 indep, gstart, gmem, gmode, law, losses, failed, MW, VW, Mb, Vb, t0):
    """Train every instance (leading axis of W (I, m, n), b, P, IMP, GP, states) one after another."""
    for r in range(W.shape[0]):
        failed[r] = _train_instance(W[r], b[r], P[r], IMP[r], GP[r], kind, lrs, beta1, beta2, eps,
                                    wd, decoupled, states[r], batch, indep, gstart, gmem, gmode,
                                    law, losses[r], MW[r], VW[r], Mb[r], Vb[r], t0)


@njit(parallel=True, cache=True)
def train_parallel(W, b, P, IMP, GP, kind, lrs, beta1, beta2, eps, wd, decoupled, states, batch,
                   indep, gstart, gmem, gmode, law, losses, failed, MW, VW, Mb, Vb, t0):
    """Parallel kernel (``parallel=True``, ``prange`` over instances). Same result as :func:`train_serial`
    bit for bit, since every instance owns its random stream and its work arrays."""
    for r in prange(W.shape[0]):
        failed[r] = _train_instance(W[r], b[r], P[r], IMP[r], GP[r], kind, lrs, beta1, beta2, eps,
                                    wd, decoupled, states[r], batch, indep, gstart, gmem, gmode,
                                    law, losses[r], MW[r], VW[r], Mb[r], Vb[r], t0)


@njit(cache=True)
def sample_many(states, P, GP, indep, gstart, gmem, gmode, law, X):
    """Draw X[r] (B, n) for every instance r with its own stream (public sampler's kernel)."""
    B, n = X.shape[1], X.shape[2]
    cap = B * n
    act_b = np.zeros(cap, dtype=np.int64)
    act_i = np.zeros(cap, dtype=np.int64)
    act_v = np.zeros(cap)
    for r in range(X.shape[0]):
        _sample(states[r], P[r], indep, gstart, gmem, gmode, GP[r], law, X[r], act_b, act_i, act_v, 0)


@njit(cache=True)
def loss_grad_dense(W, b, X, imp, kind, gW, gb):
    """Loss and gradient of one given batch X (B, n) (lists its active entries itself)."""
    B, n = X.shape
    m = W.shape[0]
    act_b = np.zeros(B * n, dtype=np.int64)
    act_i = np.zeros(B * n, dtype=np.int64)
    act_v = np.zeros(B * n)
    na = 0
    for bb in range(B):
        for i in range(n):
            if X[bb, i] != 0.0:
                act_b[na] = bb
                act_i[na] = i
                act_v[na] = X[bb, i]
                na += 1
    return _loss_grad(W, b, X, act_b, act_i, act_v, na, imp, kind, np.zeros((B, m)),
                      np.zeros((B, m)), np.zeros((B, n)), np.zeros((B, n)), np.zeros((n, n)),
                      np.zeros((B, m)), gW, gb)
