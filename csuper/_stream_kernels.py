"""The random stream and the optimiser step that csuper's numba trainers share.

The toy-model trainer (:mod:`csuper.toy`), the sparse-autoencoder trainer (:mod:`csuper.sae`) and
the diagnose trainers (:mod:`csuper.diagnose`) draw their data inside numba kernels from the same
generator, xorshift64* (S. Vigna, "An experimental exploration of Marsaglia's xorshift
generators, scrambled", ACM TOMS 42 (2016)), seeded by splitmix64 (G. L. Steele, D. Lea,
C. H. Flood, "Fast splittable pseudorandom number generators", OOPSLA 2014), and the toy and SAE
trainers take the same torch-style Adam/AdamW step. One definition of each lives here.

The generator relies on wrapping 64-bit integer arithmetic (numba compiles it without checks).
"""

from __future__ import annotations

import numpy as np
from numba import njit

_MULT = np.uint64(2685821657736338717)
_S12 = np.uint64(12)
_S25 = np.uint64(25)
_S27 = np.uint64(27)
_S11 = np.uint64(11)
_TWO_M53 = 1.0 / 9007199254740992.0
_MASK = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15


@njit(cache=True)
def xorshift(x):
    """One step of the xorshift64* generator: the next 64-bit state."""
    x ^= x >> _S12
    x ^= x << _S25
    x ^= x >> _S27
    return x


@njit(cache=True)
def unit(x):
    """The uniform in [0, 1) of state x (the top 53 bits of x * M, exact through int64)."""
    return float(np.int64((x * _MULT) >> _S11)) * _TWO_M53


@njit(cache=True)
def uniform(state):
    """Next Uniform[0, 1) double of the single stream held in ``state[0]``."""
    state[0] = xorshift(state[0])
    return unit(state[0])


@njit(cache=True)
def adam_update(P, g, M, V, lr, beta1, beta2, eps, wd, decoupled, t):
    """One torch-style Adam step (L2 weight decay added to the gradient) or AdamW step
    (decoupled: P *= 1 - lr wd before the update) on flat arrays, at step t >= 1. Arithmetic in
    P's type (the scalars are cast to it first)."""
    coef = np.empty(8, P.dtype)
    coef[0] = lr / (1.0 - beta1**t)  # step size
    coef[1] = 1.0 / np.sqrt(1.0 - beta2**t)  # 1 / sqrt(bias correction 2)
    coef[2] = eps
    coef[3] = (1.0 - lr * wd) if decoupled else wd
    coef[4] = beta1
    coef[5] = 1.0 - beta1
    coef[6] = beta2
    coef[7] = 1.0 - beta2
    step, isq, e, w = coef[0], coef[1], coef[2], coef[3]
    a1, c1, a2, c2 = coef[4], coef[5], coef[6], coef[7]
    for j in range(P.shape[0]):
        gj = g[j]
        if decoupled:
            P[j] *= w
        else:
            gj += w * P[j]
        M[j] = a1 * M[j] + c1 * gj
        V[j] = a2 * V[j] + c2 * gj * gj
        P[j] -= step * M[j] / (np.sqrt(V[j]) * isq + e)


def splitmix64(z: int) -> int:
    """One splitmix64 output of the 64-bit counter z."""
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
    return z ^ (z >> 31)


def stream_states(seeds, n_lanes: int) -> np.ndarray:
    """Initial states (len(seeds), n_lanes) of xorshift64* streams: for each integer seed,
    consecutive splitmix64 outputs of the counter seed + k * golden, k = 1, 2, ... (never 0, the
    generator's fixed point)."""
    out = np.empty((len(seeds), n_lanes), dtype=np.uint64)
    for r, s in enumerate(seeds):
        z = int(s) & _MASK
        for q in range(n_lanes):
            z = (z + _GOLDEN) & _MASK
            out[r, q] = splitmix64(z) or 1
    return out
