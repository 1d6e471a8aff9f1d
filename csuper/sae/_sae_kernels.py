"""Private numba kernels of the SAE trainer: loss + closed-form gradient of every architecture,
dead-latent bookkeeping and resampling, Adam.

Arrays in, arrays out, no validation (:mod:`csuper.sae.train` validates). Every kernel also runs
as plain Python (``NUMBA_DISABLE_JIT=1``); callers wrap them in ``np.errstate(over="ignore")``
because the random generator (toy's xorshift64*, one stream per instance) relies on wrapping
uint64 arithmetic.

Parameters of one instance live in one flat vector P (so that one Adam pass updates them all):

    P = [W_enc (L*m, row-major (L, m)), b_enc (L), W_dec (m*L, row-major (m, L)), b_dec (m),
         log_threshold (L)]

with L latents (the width) and m input dimensions. The forward pass (all architectures):

    pre = (x - b_dec) W_enc^T + b_enc,   f = act(pre),   x_hat = f W_dec^T + b_dec

Architecture codes: 0 = ReLU + L1, 1 = TopK (+ AuxK), 2 = BatchTopK (+ AuxK),
3 = JumpReLU (+ L0 through the straight-through estimator).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from csuper._stream_kernels import adam_update as _adam_update
from csuper._stream_kernels import uniform as _uniform


@njit(cache=True)
def _views(P, L, m):
    """(W_enc (L, m), b_enc (L,), W_dec (m, L), b_dec (m,), log_threshold (L,)) views of P."""
    o1 = L * m
    o2 = o1 + L
    o3 = o2 + m * L
    o4 = o3 + m
    return (P[:o1].reshape(L, m), P[o1:o2], P[o2:o3].reshape(m, L), P[o3:o4], P[o4 : o4 + L])


@njit(cache=True)
def _top_rows(pre, k, sel):
    """sel[b, j] = True for the k largest entries of each row of pre.

    k passes of a masked argmax when k is small (O(k L) per row, measured faster than a sort for
    k <= 16), else an argsort of the row. Ties (measure zero for continuous data) go to the
    lowest index in the first method and to the sort's order in the second.
    """
    B, L = pre.shape
    for b in range(B):
        for j in range(L):
            sel[b, j] = False
        if k <= 16:
            for _ in range(k):
                best = -1
                bv = -np.inf
                for j in range(L):
                    if not sel[b, j] and (best < 0 or pre[b, j] > bv):
                        best = j
                        bv = pre[b, j]
                sel[b, best] = True
        else:
            order = np.argsort(pre[b])
            for q in range(L - k, L):
                sel[b, order[q]] = True


@njit(cache=True)
def _top_batch(pre, kb, sel):
    """sel = True for the kb largest entries of the whole (B, L) array (selection by
    np.partition, O(B L)); entries tied with the kb-th largest are all selected."""
    B, L = pre.shape
    flat = pre.ravel()
    n = B * L
    thr = np.partition(flat, n - kb)[n - kb]
    for b in range(B):
        for j in range(L):
            sel[b, j] = pre[b, j] >= thr
    return thr


@njit(cache=True)
def loss_grad(
    P, G, Xb, arch, L, coef, k, weighted, aux_k, aux_coef, dead, bandwidth, F, sel, route=-1
):
    """Loss of the batch Xb (B, m) and its gradient into G (same layout as P).

    Loss (mean over the batch B):

    - arch 0: (1/B) sum_b |x_b - x_hat_b|^2 + coef (1/B) sum_{b,j} f_bj w_j, w_j = |d_j| if
      ``weighted`` else 1 (f >= 0, so f is its own absolute value);
    - arch 1, 2: (1/B) sum_b |x_b - x_hat_b|^2 + aux_coef (1/B) sum_b |e_b - e_hat_b|^2, where
      e = x - x_hat is held constant (stop-gradient) and e_hat = z W_dec^T with z the ReLU of
      the aux_k largest pre-activations among the ``dead`` latents (AuxK, Gao et al. 2024);
      no aux term when no latent is dead;
    - arch 3: (1/B) sum_b |x_b - x_hat_b|^2 + coef (1/B) sum_{b,j} H(pre_bj - theta_j); the
      gradient w.r.t. log theta is the straight-through pseudo-gradient of Rajamanoharan et al.
      2024 (rectangle kernel of width ``bandwidth``), times theta (chain rule for log theta).

    Selection: arch 1 keeps the k largest pre-activations of each row (then ReLU); arch 2 the
    k B largest of the batch after ReLU. F (B, L) receives the codes f, sel (B, L) the mask of
    latents that pass their gradient (f > 0, or pre > theta for JumpReLU).

    Route: the encoder product pre = (x - b_dec) W_enc^T is a BLAS product; the four products
    that involve the codes (x_hat, dL/dW_dec, dL/df, dL/dW_enc) are BLAS products too (route 0)
    or loops over the active codes only (route 1: nnz m multiply-adds each instead of B L m);
    route -1 takes the loops when fewer than 1 in 16 codes are active (measured on the benchmark
    sizes, benchmarks/results_sae.md).
    """
    B, m = Xb.shape
    We, be, Wd, bd, lt = _views(P, L, m)
    gWe, gbe, gWd, gbd, glt = _views(G, L, m)
    for q in range(G.shape[0]):
        G[q] = 0.0
    Xc = np.empty((B, m))
    for b in range(B):
        for i in range(m):
            Xc[b, i] = Xb[b, i] - bd[i]
    pre = np.empty((B, L))
    np.dot(Xc, We.T, pre)
    for b in range(B):
        for j in range(L):
            pre[b, j] += be[j]
    theta = np.exp(lt)
    if arch == 1:
        _top_rows(pre, k, sel)
    elif arch == 2:
        _top_batch(np.maximum(pre, 0.0), k * B, sel)
    for b in range(B):
        for j in range(L):
            v = pre[b, j]
            if arch == 3:
                on = v > theta[j]
            elif arch == 0:
                on = v > 0.0
            else:
                on = sel[b, j] and v > 0.0
            sel[b, j] = on
            F[b, j] = v if on else 0.0
    nnz = 0
    for b in range(B):
        for j in range(L):
            if sel[b, j]:
                nnz += 1
    sparse = route == 1 or (route < 0 and nnz * 16 < B * L)
    R = np.zeros((B, m))
    WdT = np.ascontiguousarray(Wd.T)
    if sparse:
        for b in range(B):
            for j in range(L):
                if sel[b, j]:
                    f = F[b, j]
                    for i in range(m):
                        R[b, i] += f * WdT[j, i]
    else:
        np.dot(F, Wd.T, R)
    inv_b = 1.0 / B
    loss = 0.0
    dR = np.empty((B, m))
    for b in range(B):
        for i in range(m):
            r = R[b, i] + bd[i] - Xb[b, i]
            loss += r * r
            dR[b, i] = 2.0 * r * inv_b
            gbd[i] += dR[b, i]
    loss *= inv_b
    dF = np.zeros((B, L))
    if sparse:
        gWdT = np.zeros((L, m))
        for b in range(B):
            for j in range(L):
                if sel[b, j]:
                    f = F[b, j]
                    d = 0.0
                    for i in range(m):
                        gWdT[j, i] += f * dR[b, i]
                        d += dR[b, i] * WdT[j, i]
                    dF[b, j] = d
        for i in range(m):
            for j in range(L):
                gWd[i, j] = gWdT[j, i]
    else:
        np.dot(dR.T, F, gWd)
        np.dot(dR, Wd, dF)
    if arch == 3:
        # straight-through pseudo-gradient w.r.t. theta (uses dL/df before gating)
        for j in range(L):
            g = 0.0
            cnt = 0.0
            for b in range(B):
                u = (pre[b, j] - theta[j]) / bandwidth
                if sel[b, j]:
                    cnt += 1.0
                if -0.5 < u < 0.5:  # rectangle kernel K(u) = 1{|u| < 1/2}
                    d = dF[b, j]
                    if sparse and not sel[b, j]:  # dL/df of an inactive code: not computed yet
                        d = 0.0
                        for i in range(m):
                            d += dR[b, i] * WdT[j, i]
                    g += -d * theta[j] / bandwidth - coef * inv_b / bandwidth
            loss += coef * cnt * inv_b
            glt[j] = g * theta[j]
    for b in range(B):
        for j in range(L):
            if not sel[b, j]:
                dF[b, j] = 0.0
    if arch == 0:
        norms = np.ones(L)
        if weighted:
            for j in range(L):
                s2 = 0.0
                for i in range(m):
                    s2 += Wd[i, j] * Wd[i, j]
                norms[j] = np.sqrt(s2)
        for j in range(L):
            tot = 0.0
            for b in range(B):
                if sel[b, j]:
                    tot += F[b, j]
                    dF[b, j] += coef * norms[j] * inv_b
            loss += coef * norms[j] * tot * inv_b
            if weighted and norms[j] > 0.0:
                for i in range(m):
                    gWd[i, j] += coef * tot * inv_b * Wd[i, j] / norms[j]
    elif arch == 1 or arch == 2:
        nd = 0
        for j in range(L):
            if dead[j]:
                nd += 1
        if nd > 0 and aux_coef > 0.0:
            ka = min(aux_k, nd)
            pd = np.full((B, L), -np.inf)
            for b in range(B):
                for j in range(L):
                    if dead[j]:
                        pd[b, j] = pre[b, j]
            sa = np.zeros((B, L), dtype=np.bool_)
            _top_rows(pd, ka, sa)
            Z = np.zeros((B, L))
            for b in range(B):
                for j in range(L):
                    if sa[b, j] and pre[b, j] > 0.0:
                        Z[b, j] = pre[b, j]
                    else:
                        sa[b, j] = False
            Eh = np.empty((B, m))
            np.dot(Z, Wd.T, Eh)
            dE = np.empty((B, m))
            aux = 0.0
            for b in range(B):
                for i in range(m):
                    e = Xb[b, i] - R[b, i] - bd[i]
                    r = Eh[b, i] - e
                    aux += r * r
                    dE[b, i] = 2.0 * aux_coef * r * inv_b
            loss += aux_coef * aux * inv_b
            gaux = np.empty((m, L))
            np.dot(dE.T, Z, gaux)
            gWd += gaux
            dZ = np.empty((B, L))
            np.dot(dE, Wd, dZ)
            for b in range(B):
                for j in range(L):
                    if sa[b, j]:
                        dF[b, j] += dZ[b, j]
    s = np.zeros(L)
    if sparse:
        for b in range(B):
            for j in range(L):
                d = dF[b, j]
                if d != 0.0:
                    s[j] += d
                    for i in range(m):
                        gWe[j, i] += d * Xc[b, i]
    else:
        np.dot(dF.T, Xc, gWe)
        for b in range(B):
            for j in range(L):
                s[j] += dF[b, j]
    for j in range(L):
        gbe[j] = s[j]
    for j in range(L):
        for i in range(m):
            gbd[i] -= s[j] * We[j, i]
    return loss


@njit(cache=True)
def _project_decoder_grad(Wd, gWd):
    """Remove from each decoder column's gradient its component along the (unit) column."""
    m, L = Wd.shape
    for j in range(L):
        s = 0.0
        for i in range(m):
            s += gWd[i, j] * Wd[i, j]
        for i in range(m):
            gWd[i, j] -= s * Wd[i, j]


@njit(cache=True)
def _normalise_decoder(Wd):
    m, L = Wd.shape
    for j in range(L):
        s = 0.0
        for i in range(m):
            s += Wd[i, j] * Wd[i, j]
        s = np.sqrt(s)
        if s > 0.0:
            for i in range(m):
                Wd[i, j] /= s


@njit(cache=True)
def _draw_batch(X, state, Xb):
    """Fill Xb (B, m) with rows of X drawn uniformly with replacement from the instance's stream."""
    N = X.shape[0]
    for b in range(Xb.shape[0]):
        r = min(int(_uniform(state) * N), N - 1)
        for i in range(X.shape[1]):
            Xb[b, i] = X[r, i]


@njit(cache=True)
def _resample(P, M, V, X, state, L, dead, batch):
    """Resample dead latents (Bricken et al. 2023): draw a batch, pick one input per dead latent
    with probability proportional to its squared reconstruction error, set the decoder column to
    the normalised centred input x - b_dec, the encoder row to it times 0.2 times the mean norm of
    the live encoder rows, the encoder bias to 0, and reset those parameters' Adam moments."""
    m = X.shape[1]
    We, be, Wd, bd, _lt = _views(P, L, m)
    Xb = np.empty((batch, m))
    _draw_batch(X, state, Xb)
    pre = np.empty((batch, L))
    Xc = np.empty((batch, m))
    for b in range(batch):
        for i in range(m):
            Xc[b, i] = Xb[b, i] - bd[i]
    np.dot(Xc, We.T, pre)
    F = np.empty((batch, L))
    for b in range(batch):
        for j in range(L):
            v = pre[b, j] + be[j]
            F[b, j] = v if v > 0.0 else 0.0
    R = np.empty((batch, m))
    np.dot(F, Wd.T, R)
    err = np.zeros(batch)
    for b in range(batch):
        for i in range(m):
            r = R[b, i] + bd[i] - Xb[b, i]
            err[b] += r * r
    cum = np.cumsum(err * err)
    live = 0.0
    nlive = 0
    for j in range(L):
        if not dead[j]:
            s = 0.0
            for i in range(m):
                s += We[j, i] * We[j, i]
            live += np.sqrt(s)
            nlive += 1
    scale = 0.2 * (live / nlive if nlive > 0 else 1.0)
    o1 = L * m
    o2 = o1 + L
    for j in range(L):
        if not dead[j]:
            continue
        if cum[-1] > 0.0:
            u = _uniform(state) * cum[-1]
            b = min(np.searchsorted(cum, u, side="right"), batch - 1)
        else:
            b = min(int(_uniform(state) * batch), batch - 1)
        s = 0.0
        for i in range(m):
            s += Xc[b, i] * Xc[b, i]
        s = np.sqrt(s)
        if s == 0.0:
            continue
        for i in range(m):
            Wd[i, j] = Xc[b, i] / s
            We[j, i] = scale * Xc[b, i] / s
            M[j * m + i] = 0.0
            V[j * m + i] = 0.0
            M[o2 + i * L + j] = 0.0
            V[o2 + i * L + j] = 0.0
        be[j] = 0.0
        M[o1 + j] = 0.0
        V[o1 + j] = 0.0


@njit(cache=True)
def train_instance(
    P,
    M,
    V,
    X,
    state,
    arch,
    L,
    coef,
    k,
    weighted,
    project,
    learn_dec,
    aux_k,
    aux_coef,
    dead_steps,
    bandwidth,
    resample_every,
    resample_until,
    lrs,
    beta1,
    beta2,
    eps,
    batch,
    last_fired,
    thr_decay,
    loss_out,
    t0,
):
    """Train one instance in place for ``lrs.shape[0]`` steps; return -1 or the diverged step.

    ``last_fired[j]`` is the last global step at which latent j fired (-1 never; carried over
    between chunks, ``t0`` steps were taken before). BatchTopK (arch 2) keeps in log_threshold
    the log of an exponential moving average (decay ``thr_decay``) of the smallest selected
    activation per batch: its inference threshold (Bussmann et al. 2024).
    """
    m = X.shape[1]
    G = np.zeros(P.shape[0])
    Xb = np.empty((batch, m))
    F = np.empty((batch, L))
    sel = np.zeros((batch, L), dtype=np.bool_)
    dead = np.zeros(L, dtype=np.bool_)
    _We, _be, Wd, _bd, lt = _views(P, L, m)
    _gWe, _gbe, gWd, gbd, _glt = _views(G, L, m)
    for t in range(lrs.shape[0]):
        step = t0 + t
        for j in range(L):
            dead[j] = (
                step - last_fired[j] > dead_steps if last_fired[j] >= 0 else step >= dead_steps
            )
        if (
            arch == 0
            and resample_every > 0
            and 0 < step < resample_until
            and step % resample_every == 0
        ):
            for j in range(L):
                dead[j] = step - last_fired[j] > resample_every if last_fired[j] >= 0 else True
            _resample(P, M, V, X, state, L, dead, batch)
            for j in range(L):
                if dead[j]:
                    last_fired[j] = step
        _draw_batch(X, state, Xb)
        loss = loss_grad(
            P, G, Xb, arch, L, coef, k, weighted, aux_k, aux_coef, dead, bandwidth, F, sel
        )
        loss_out[t] = loss
        ok = np.isfinite(loss)
        for q in range(G.shape[0]):
            if not np.isfinite(G[q]):
                ok = False
        if not ok:
            loss_out[t] = np.nan
            return t
        fmin = np.inf
        for b in range(batch):
            for j in range(L):
                if F[b, j] > 0.0:
                    last_fired[j] = step
                    if F[b, j] < fmin:
                        fmin = F[b, j]
        if not learn_dec:
            gWd[:, :] = 0.0
            gbd[:] = 0.0
        if project:
            _project_decoder_grad(Wd, gWd)
        _adam_update(P, G, M, V, lrs[t], beta1, beta2, eps, 0.0, False, step + 1)  # torch Adam
        if project:
            _normalise_decoder(Wd)
        if arch == 2 and np.isfinite(fmin):
            cur = np.exp(lt[0]) if step > 0 else fmin
            new = thr_decay * cur + (1.0 - thr_decay) * fmin
            for j in range(L):
                lt[j] = np.log(new)
    return -1


@njit(cache=True)
def train_serial(
    P,
    M,
    V,
    X,
    states,
    arch,
    L,
    coef,
    k,
    weighted,
    project,
    learn_dec,
    aux_k,
    aux_coef,
    dead_steps,
    bandwidth,
    resample_every,
    resample_until,
    lrs,
    beta1,
    beta2,
    eps,
    batch,
    last_fired,
    thr_decay,
    losses,
    failed,
    t0,
):
    """Train every instance (leading axis of P, M, V, states, coef, k, last_fired) in turn."""
    for r in range(P.shape[0]):
        failed[r] = train_instance(
            P[r],
            M[r],
            V[r],
            X,
            states[r],
            arch,
            L,
            coef[r],
            k[r],
            weighted,
            project,
            learn_dec,
            aux_k,
            aux_coef,
            dead_steps,
            bandwidth,
            resample_every,
            resample_until,
            lrs,
            beta1,
            beta2,
            eps,
            batch,
            last_fired[r],
            thr_decay,
            losses[r],
            t0,
        )


@njit(parallel=True, cache=True)
def train_parallel(
    P,
    M,
    V,
    X,
    states,
    arch,
    L,
    coef,
    k,
    weighted,
    project,
    learn_dec,
    aux_k,
    aux_coef,
    dead_steps,
    bandwidth,
    resample_every,
    resample_until,
    lrs,
    beta1,
    beta2,
    eps,
    batch,
    last_fired,
    thr_decay,
    losses,
    failed,
    t0,
):
    """Parallel kernel (``parallel=True``, ``prange`` over instances); same result as
    :func:`train_serial` bit for bit (every instance owns its stream and work arrays)."""
    for r in prange(P.shape[0]):
        failed[r] = train_instance(
            P[r],
            M[r],
            V[r],
            X,
            states[r],
            arch,
            L,
            coef[r],
            k[r],
            weighted,
            project,
            learn_dec,
            aux_k,
            aux_coef,
            dead_steps,
            bandwidth,
            resample_every,
            resample_until,
            lrs,
            beta1,
            beta2,
            eps,
            batch,
            last_fired[r],
            thr_decay,
            losses[r],
            t0,
        )
