"""Private numba kernels of the two models csuper.toy cannot train: the computation-in-
superposition model (Elhage et al. 2022) and the tied ReLU-output autoencoder with L1 on the
weights (Lecomte et al. 2023).

Arrays in, arrays out, no validation (:mod:`csuper.diagnose.models` validates). Every kernel
also runs as plain Python (``NUMBA_DISABLE_JIT=1``); callers wrap them in
``np.errstate(over="ignore")`` because the random generator (xorshift64*, Vigna 2016,
arXiv:1402.6246, state in a length-1 uint64 array) relies on wrapping uint64 arithmetic. Each
instance owns its stream and work arrays, so the parallel kernels (``prange`` over instances)
equal the serial ones bit for bit. These kernels depend on no other package's private kernels
(csuper.toy's are being rewritten).

Computation model (layouts: W1 (m, n), W2 (n, m), b (n,)):
    h = ReLU(W1 x), y = ReLU(W2 h + b), target |x|, loss (1/(B n)) sum_{s,i} I_i (y - |x|)^2,
    x_i = 0 with probability 1 - p_i, else Uniform[-1, 1], independently (one uniform u per
    entry: active when u < p_i, then 2 u / p_i - 1 is the value).
Tied autoencoder (W (m, n)), trained on the n one-hot inputs at once:
    G = W^T W, loss sum_{i,j} (delta_ij - ReLU(G_ij))^2 + l1 sum |W|.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from csuper._stream_kernels import uniform


@njit(cache=True)
def adam_step(P, g, M, V, lr, beta1, beta2, eps, wd, decoupled, t):
    """One torch.optim.Adam (L2 weight decay added to the gradient) or AdamW (decoupled) step
    on flat arrays, step number t >= 1."""
    bc1 = 1.0 - beta1**t
    sq2 = np.sqrt(1.0 - beta2**t)
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
def sample_signed(state, p, X):
    """Fill X (B, n): X[s, i] = 0 with probability 1 - p[i], else Uniform[-1, 1)."""
    B, n = X.shape
    for s in range(B):
        for i in range(n):
            u = uniform(state)
            X[s, i] = 2.0 * u / p[i] - 1.0 if u < p[i] else 0.0


@njit(cache=True)
def abs_loss_grad(W1, W2, b, X, imp, Hpre, H, Z, dH, gW1, gW2, gb):
    """Loss of the computation model on the batch X (B, n) and its gradient (into gW1 (m, n),
    gW2 (n, m), gb (n,)); work arrays Hpre, H, dH (B, m), Z (B, n)."""
    B, n = X.shape
    m = W1.shape[0]
    np.dot(X, W1.T, Hpre)
    for s in range(B):
        for k in range(m):
            v = Hpre[s, k]
            H[s, k] = v if v > 0.0 else 0.0
    np.dot(H, W2.T, Z)
    scale = 1.0 / (B * n)
    loss = 0.0
    for i in range(n):
        gb[i] = 0.0
    for s in range(B):
        for i in range(n):
            z = Z[s, i] + b[i]
            open_ = z > 0.0
            r = (z if open_ else 0.0) - abs(X[s, i])
            loss += imp[i] * r * r
            d = 2.0 * scale * imp[i] * r if open_ else 0.0
            Z[s, i] = d
            gb[i] += d
    np.dot(Z.T, H, gW2)
    np.dot(Z, W2, dH)
    for s in range(B):
        for k in range(m):
            if Hpre[s, k] <= 0.0:
                dH[s, k] = 0.0
    np.dot(dH.T, X, gW1)
    return loss * scale


@njit(cache=True)
def _finite(a):
    for v in a.ravel():
        if not np.isfinite(v):
            return False
    return True


@njit(cache=True)
def _train_abs_instance(
    W1,
    W2,
    b,
    p,
    imp,
    lrs,
    beta1,
    beta2,
    eps,
    wd,
    decoupled,
    state,
    batch,
    loss_out,
    M1,
    V1,
    M2,
    V2,
    Mb,
    Vb,
    t0,
):
    """Train one computation model in place; return -1 or the diverged local step."""
    m, n = W1.shape
    X = np.zeros((batch, n))
    Hpre = np.zeros((batch, m))
    H = np.zeros((batch, m))
    dH = np.zeros((batch, m))
    Z = np.zeros((batch, n))
    gW1 = np.zeros((m, n))
    gW2 = np.zeros((n, m))
    gb = np.zeros(n)
    f1 = W1.reshape(m * n)
    f2 = W2.reshape(n * m)
    for t in range(lrs.shape[0]):
        sample_signed(state, p, X)
        loss = abs_loss_grad(W1, W2, b, X, imp, Hpre, H, Z, dH, gW1, gW2, gb)
        loss_out[t] = loss
        if not (np.isfinite(loss) and _finite(gW1) and _finite(gW2) and _finite(gb)):
            loss_out[t] = np.nan
            return t
        step = t0 + t + 1
        adam_step(f1, gW1.reshape(m * n), M1, V1, lrs[t], beta1, beta2, eps, wd, decoupled, step)
        adam_step(f2, gW2.reshape(n * m), M2, V2, lrs[t], beta1, beta2, eps, wd, decoupled, step)
        adam_step(b, gb, Mb, Vb, lrs[t], beta1, beta2, eps, wd, decoupled, step)
    return -1


@njit(cache=True)
def train_abs_serial(
    W1,
    W2,
    b,
    P,
    IMP,
    lrs,
    beta1,
    beta2,
    eps,
    wd,
    decoupled,
    states,
    batch,
    losses,
    failed,
    M1,
    V1,
    M2,
    V2,
    Mb,
    Vb,
    t0,
):
    """Train every instance (leading axis) of the computation model, one after another."""
    for r in range(W1.shape[0]):
        failed[r] = _train_abs_instance(
            W1[r],
            W2[r],
            b[r],
            P[r],
            IMP[r],
            lrs,
            beta1,
            beta2,
            eps,
            wd,
            decoupled,
            states[r],
            batch,
            losses[r],
            M1[r],
            V1[r],
            M2[r],
            V2[r],
            Mb[r],
            Vb[r],
            t0,
        )


@njit(parallel=True, cache=True)
def train_abs_parallel(
    W1,
    W2,
    b,
    P,
    IMP,
    lrs,
    beta1,
    beta2,
    eps,
    wd,
    decoupled,
    states,
    batch,
    losses,
    failed,
    M1,
    V1,
    M2,
    V2,
    Mb,
    Vb,
    t0,
):
    """Parallel kernel (``parallel=True``, ``prange`` over instances); equals
    :func:`train_abs_serial` bit for bit."""
    for r in prange(W1.shape[0]):
        failed[r] = _train_abs_instance(
            W1[r],
            W2[r],
            b[r],
            P[r],
            IMP[r],
            lrs,
            beta1,
            beta2,
            eps,
            wd,
            decoupled,
            states[r],
            batch,
            losses[r],
            M1[r],
            V1[r],
            M2[r],
            V2[r],
            Mb[r],
            Vb[r],
            t0,
        )


@njit(cache=True)
def tied_l1_loss_grad(W, l1, G, E, gW):
    """Loss sum_{i,j} (delta_ij - ReLU(G_ij))^2 + l1 sum |W| of the tied autoencoder on the n
    one-hot inputs (G = W^T W, work array E (n, n)) and its gradient into gW (m, n)."""
    m, n = W.shape
    np.dot(W.T, W, G)
    loss = 0.0
    for i in range(n):
        for j in range(n):
            g = G[i, j]
            y = g if g > 0.0 else 0.0
            r = y - (1.0 if i == j else 0.0)
            loss += r * r
            E[i, j] = 2.0 * r if g > 0.0 else 0.0
    # d loss / d W = W (E + E^T); E is symmetric because G is
    np.dot(W, E, gW)
    for k in range(m):
        for i in range(n):
            w = W[k, i]
            gW[k, i] = 2.0 * gW[k, i] + l1 * (1.0 if w > 0.0 else (-1.0 if w < 0.0 else 0.0))
            loss += l1 * abs(w)
    return loss


@njit(cache=True)
def _train_tied_instance(W, l1, lrs, beta1, beta2, eps, wd, decoupled, loss_out, M, V, t0):
    m, n = W.shape
    G = np.zeros((n, n))
    E = np.zeros((n, n))
    gW = np.zeros((m, n))
    f = W.reshape(m * n)
    for t in range(lrs.shape[0]):
        loss = tied_l1_loss_grad(W, l1, G, E, gW)
        loss_out[t] = loss
        if not (np.isfinite(loss) and _finite(gW)):
            loss_out[t] = np.nan
            return t
        adam_step(f, gW.reshape(m * n), M, V, lrs[t], beta1, beta2, eps, wd, decoupled, t0 + t + 1)
    return -1


@njit(cache=True)
def train_tied_serial(W, l1, lrs, beta1, beta2, eps, wd, decoupled, losses, failed, M, V, t0):
    """Train every tied autoencoder W[r] (m, n), one after another."""
    for r in range(W.shape[0]):
        failed[r] = _train_tied_instance(
            W[r], l1, lrs, beta1, beta2, eps, wd, decoupled, losses[r], M[r], V[r], t0
        )


@njit(parallel=True, cache=True)
def train_tied_parallel(W, l1, lrs, beta1, beta2, eps, wd, decoupled, losses, failed, M, V, t0):
    """Parallel kernel (``parallel=True``, ``prange`` over instances); equals
    :func:`train_tied_serial` bit for bit."""
    for r in prange(W.shape[0]):
        failed[r] = _train_tied_instance(
            W[r], l1, lrs, beta1, beta2, eps, wd, decoupled, losses[r], M[r], V[r], t0
        )
