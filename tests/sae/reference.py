"""A plain numpy SAE trainer, written independently of the numba kernels (vectorised, no loops
over entries), for the differential tests: same parameters, same batches, same Adam."""

from __future__ import annotations

import numpy as np

from csuper._stream_kernels import uniform as _uniform


def unpack(P, L, m):
    o1, o2, o3, o4 = L * m, L * m + L, 2 * L * m + L, 2 * L * m + L + m
    return P[:o1].reshape(L, m), P[o1:o2], P[o2:o3].reshape(m, L), P[o3:o4], P[o4:]


def pack(We, be, Wd, bd, lt):
    return np.concatenate([We.ravel(), be, Wd.ravel(), bd, lt])


def forward(P, X, arch, L, k):
    m = X.shape[1]
    We, be, Wd, bd, lt = unpack(P, L, m)
    pre = (X - bd) @ We.T + be
    if arch == 0:
        gate = pre > 0
    elif arch == 1:
        top = np.zeros(pre.shape, dtype=bool)
        idx = np.argsort(pre, axis=1)[:, -k:]
        np.put_along_axis(top, idx, True, axis=1)
        gate = top & (pre > 0)
    elif arch == 2:
        r = np.maximum(pre, 0).ravel()
        idx = np.argsort(r)[-k * X.shape[0] :]
        gate = np.zeros(r.shape, dtype=bool)
        gate[idx] = True
        gate = gate.reshape(pre.shape) & (pre > 0)
    else:
        gate = pre > np.exp(lt)
    F = np.where(gate, pre, 0.0)
    return pre, gate, F, F @ Wd.T + bd


def loss_and_grad(
    P, X, arch, L, coef=0.0, k=1, weighted=False, aux_k=1, aux_coef=0.0, dead=None, bandwidth=1e-3
):
    """Loss (see csuper.sae._sae_kernels.loss_grad) and its gradient by the chain rule, in numpy."""
    B, m = X.shape
    We, _be, Wd, bd, lt = unpack(P, L, m)
    pre, gate, F, Xh = forward(P, X, arch, L, k)
    E = Xh - X
    loss = (E**2).sum() / B
    dXh = 2 * E / B
    gWd = dXh.T @ F
    gbd = dXh.sum(0)
    dF = dXh @ Wd
    glt = np.zeros(L)
    if arch == 3:
        theta = np.exp(lt)
        K = np.abs((pre - theta) / bandwidth) < 0.5
        loss += coef * gate.sum() / B
        glt = (K * (-dF * theta / bandwidth - coef / (B * bandwidth))).sum(0) * theta
    dF = dF * gate
    if arch == 0:
        norms = np.linalg.norm(Wd, axis=0) if weighted else np.ones(L)
        loss += coef * (F.sum(0) * norms).sum() / B
        dF = dF + gate * coef * norms / B
        if weighted:
            gWd = gWd + coef * F.sum(0) / B * Wd / norms
    if arch in (1, 2) and dead is not None and dead.any() and aux_coef > 0:
        pd = np.where(dead[None, :], pre, -np.inf)
        ka = min(aux_k, int(dead.sum()))
        idx = np.argsort(pd, axis=1)[:, -ka:]
        sa = np.zeros(pre.shape, dtype=bool)
        np.put_along_axis(sa, idx, True, axis=1)
        sa &= pre > 0
        Z = np.where(sa, pre, 0.0)
        e = -E
        r = Z @ Wd.T - e
        loss += aux_coef * (r**2).sum() / B
        dE = 2 * aux_coef * r / B
        gWd = gWd + dE.T @ Z
        dF = dF + sa * (dE @ Wd)
    gWe = dF.T @ (X - bd)
    gbe = dF.sum(0)
    gbd = gbd - dF.sum(0) @ We
    return loss, pack(gWe, gbe, gWd, gbd, glt)


def train(
    P0,
    X,
    state,
    arch,
    L,
    n_steps,
    batch,
    lr,
    coef=0.0,
    k=1,
    project=True,
    betas=(0.9, 0.999),
    eps=1e-8,
):
    """A few Adam steps with the kernel's batch stream (no AuxK: the test keeps no latent dead)."""
    P = P0.copy()
    M = np.zeros_like(P)
    V = np.zeros_like(P)
    m = X.shape[1]
    N = X.shape[0]
    state = state.copy()
    for t in range(1, n_steps + 1):
        with np.errstate(over="ignore"):
            idx = [min(int(_uniform(state) * N), N - 1) for _ in range(batch)]
        _loss, G = loss_and_grad(P, X[idx], arch, L, coef=coef, k=k)
        _We, _be, Wd, _bd, _lt = unpack(G, L, m)
        if project:
            _, _, D, _, _ = unpack(P, L, m)
            Wd -= D * (Wd * D).sum(0)
        M = betas[0] * M + (1 - betas[0]) * G
        V = betas[1] * V + (1 - betas[1]) * G**2
        P = P - (lr / (1 - betas[0] ** t)) * M / (np.sqrt(V) / np.sqrt(1 - betas[1] ** t) + eps)
        if project:
            o2, o3 = L * m + L, 2 * L * m + L
            D = P[o2:o3].reshape(m, L)
            P[o2:o3] = (D / np.linalg.norm(D, axis=0)).ravel()
    return P
