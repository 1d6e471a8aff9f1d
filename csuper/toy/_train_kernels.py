"""Private numba kernels of the toy-model trainer: sampling, loss + exact gradient, Adam(W).

Arrays in, arrays out, no validation (:mod:`csuper.toy.train` and :mod:`csuper.toy.data`
validate). Every kernel also runs as plain Python (``NUMBA_DISABLE_JIT=1``); callers wrap them in
``np.errstate(over="ignore")`` because the random generator relies on wrapping uint64 arithmetic.
The kernels are generic in the floating-point type: float32 and float64 arrays compile to two
specialisations (scalars of the working type are read from small arrays of that type, so float32
arithmetic is not promoted to float64).

Layout: the kernels hold the weights as ``Wt`` of shape (n, m) (row i is the feature direction
w_i, torch's layout) and the batch transposed, ``XT`` of shape (n, B) (row i holds feature i over
the batch), so that every per-feature operation, the sampler's writes included, runs along a
contiguous row. The hidden activations are H (B, m); at m <= :data:`SMALL_HIDDEN` the GEMMs
that produce or consume them run on H^T (m, B), which OpenBLAS multiplies faster at that width,
and the two layouts are copied into each other where a row-wise pass needs H.

Random numbers: each instance owns ``LANES`` xorshift64* generators (Vigna 2016,
arXiv:1402.6246) stepped together, which the compiler vectorises; uniforms are drawn in blocks of
``LANES``. An instance's stream depends only on its seed, so the parallel entry point gives bit for
bit the result of the serial one; float32 and float64 runs draw the same data.

One training body, :func:`_train_one`, and two thin entry points, :func:`train_serial` and
:func:`train_parallel` (``prange`` over instances). Per step and instance:

1. sample a batch: features with p > 1/4 one uniform per entry (u < p decides, u / p gives the
   magnitude), sparser features by geometric gaps between their active rows (cost O(active
   entries)); the active entries are listed when the sparse-input route needs them;
2. h = W x: a GEMM, or a sum over the listed active entries (input route 1: n_active m
   multiply-adds instead of B n m, chosen when few inputs are active, :func:`sparse_input`);
3. z = W^T h + b: a GEMM (every output is needed for the loss);
4. one vectorised pass over the outputs: ReLU, loss, dL/dz and the bias gradient; it counts the
   open outputs;
5. backward: dL/dh and the decoder half of dL/dW as GEMMs or, when few outputs were open at the
   previous step (output route 1, :func:`sparse_output`), over the open outputs only; the
   encoder half of dL/dW as a GEMM or over the listed active inputs;
6. optional interference price (its gradient from m x m products, never an n x n matrix);
7. Adam or AdamW, with decoupled weight decay that may be negative (Liu, Liu & Gore 2025).

All routes compute the same sums in different orders: equal up to rounding (tested).
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np
from numba import njit, prange

from csuper._stream_kernels import adam_update as _adam_update
from csuper._stream_kernels import unit as _unit
from csuper._stream_kernels import xorshift as _xorshift

#: Independent xorshift64* generators per instance, stepped together (the compiler vectorises
#: the step over them: 8 AVX-512 registers of uint64; with 8 lanes it did not vectorise).
LANES = 64
#: Above this probability a feature is drawn with one uniform per entry (cheaper than a
#: geometric gap, which costs a logarithm per active entry).
_DIRECT = 0.25
#: Uniforms drawn per refill of the buffer that the geometric-gap sampler consumes (the dense
#: features' buffer holds one whole row of the batch instead).
_UBUF = 1024
#: Up to this hidden width the GEMM route runs its three products with a hidden-sized operand
#: on the transposed hidden activations H^T (m, B): OpenBLAS computes Wt @ H^T 1.1-2.2x faster
#: with H^T stored row-major (its copy included) than with H (B, m) read transposed at m <= 8,
#: and 4-12 % slower from m = 10 to 20 (one thread, float32 and float64; part 4 of
#: benchmarks/bench_toy.py, benchmarks/results_toy.md). The trainer's results are bit for bit
#: those of the general form (the committed results' drift tests pass unchanged).
SMALL_HIDDEN = 8


#: The feature distribution as the kernels see it (built by :func:`csuper.toy.data._kernel_data`):
#: P (I, n) and GP (I, G) float64 probabilities of features and groups; indep (k,) indices of the
#: independent features; gstart (G + 1,), gmem (sum of sizes,) the groups' members; gmode (G,)
#: 0 = correlated (all fire), 1 = anticorrelated (one fires); magnitude (3,) coefficients
#: (c0, c1, c2) of the magnitude v = c0 + c1 u + c2 (-log(1 - u)) of an active feature.
KernelData = namedtuple("KernelData", ["P", "GP", "indep", "gstart", "gmem", "gmode", "magnitude"])

#: Optimisation constants (see :class:`csuper.toy.TrainSettings`): Adam's beta1, beta2, eps;
#: weight decay of W and b; lr of b relative to lr of W; decoupled (AdamW) or L2 weight decay;
#: the model's nonlinearities; the interference price lambda; routes (-1 automatic, 0 GEMM,
#: 1 sparse); batch size.
Hyper = namedtuple(
    "Hyper",
    [
        "beta1",
        "beta2",
        "eps",
        "wd_w",
        "wd_b",
        "lr_ratio_b",
        "decoupled",
        "hidden_relu",
        "output_relu",
        "price",
        "input_route",
        "output_route",
        "batch",
    ],
)

#: Interference price weights: Q (I, n) the per-feature weights q_i of the rank-one part
#: c_ij = q_i q_j, and delta (I, G) the constant added on each feature group's block (the exact
#: co-activation rates of the distribution, or q = 1 and delta = 0 for the unweighted price).
PriceData = namedtuple("PriceData", ["Q", "delta"])

#: What carries over between calls (chunks of steps), per instance: Adam's moments MW, VW (flat
#: n m) and Mb, Vb (n), the random lanes (LANES,) uint64, the gap sampler's uniform buffer
#: ``ubuf`` (see :func:`sampler_buffer_size`) and its position ``upos`` (start at the buffer's
#: length), and the number of open outputs at the last step (which chooses the automatic output
#: route of the next). So a run split into chunks draws the same numbers as one call.
TrainState = namedtuple("TrainState", ["MW", "VW", "Mb", "Vb", "lanes", "ubuf", "upos", "n_open"])


# -- random numbers ------------------------------------------------------------------------------


@njit(cache=True)
def _refill(st, buf):
    """Fill buf (a multiple of LANES long) with the next uniforms of the LANES lanes in st.

    Each block is written through its own slice: indexed as ``buf[j + q]`` the compiler emitted
    scatter stores (it could not prove the indices contiguous), 1.65x slower."""
    for j in range(0, buf.shape[0], LANES):
        block = buf[j : j + LANES]
        for q in range(LANES):
            x = _xorshift(st[q])
            st[q] = x
            block[q] = _unit(x)


@njit(cache=True)
def _magnitude(u, mag):
    """Magnitude c0 + c1 u + c2 (-log(1 - u)) of an active feature from a uniform u."""
    v = mag[0] + mag[1] * u
    if mag[2] != 0.0:
        v -= mag[2] * np.log1p(-u)
    return v


@njit(cache=True)
def _sample(
    st, ubuf, pos, row, p, gp, kd, dense, ipd, XT, act_b, act_i, act_v, na_prev, list_dense
):
    """Fill XT (n, B), the transposed batch, with one batch; list its active entries (feature
    by feature); return (count, ubuf position).

    On entry XT must be zero except for the ``na_prev`` entries listed by the previous call and
    the rows of dense features (``dense``, with 1 / p in ``ipd``); if the previous list
    overflowed its capacity (na_prev > len(act_b)), XT is cleared whole. The count returned may
    exceed the list's capacity: then the list is incomplete and the caller must not use it (XT
    is always complete). Dense entries are listed only if ``list_dense``. ``row`` (LANES-multiple
    of at least B uniforms) feeds one dense feature at a time, ``ubuf`` (consumed from ``pos``)
    the geometric-gap sampler. Every write runs along a row of XT (a feature), so it is
    sequential in memory.
    """
    n, B = XT.shape
    cap = act_b.shape[0]
    mag = kd.magnitude
    if na_prev > cap or na_prev * 8 > B * n:
        XT[:, :] = 0.0
    else:
        for a in range(na_prev):
            XT[act_i[a], act_b[a]] = 0.0
    na = 0
    linear = mag[2] == 0.0
    c0, c1 = mag[0], mag[1]
    for q in range(dense.shape[0]):
        i = dense[q]
        ip = ipd[q]
        _refill(st, row)
        x = XT[i]
        if list_dense:
            for bb in range(B):
                w = row[bb] * ip
                on = w < 1.0
                v = _magnitude(w if on else 0.0, mag)
                v = v if on else 0.0
                x[bb] = v
                if na < cap:  # written always, kept only when active
                    act_b[na] = bb
                    act_i[na] = i
                    act_v[na] = v
                na += 1 if on else 0
        elif linear:  # the common case, vectorised
            for bb in range(B):
                w = row[bb] * ip
                x[bb] = (c0 + c1 * w) if w < 1.0 else 0.0
        else:
            for bb in range(B):
                w = row[bb] * ip
                on = w < 1.0
                v = _magnitude(w if on else 0.0, mag)
                x[bb] = v if on else 0.0
    indep = kd.indep
    for jj in range(indep.shape[0]):
        i = indep[jj]
        pi = p[i]
        if pi <= 0.0 or pi > _DIRECT:
            continue
        ilogq = 1.0 / np.log1p(-pi)
        x = XT[i]
        rf = -1.0
        while True:
            if pos + 2 > ubuf.shape[0]:
                _refill(st, ubuf)
                pos = 0
            rf += 1.0 + np.floor(np.log(1.0 - ubuf[pos]) * ilogq)
            if rf >= B:
                pos += 1
                break
            v = _magnitude(ubuf[pos + 1], mag)
            pos += 2
            x[int(rf)] = v
            if na < cap:
                act_b[na] = int(rf)
                act_i[na] = i
                act_v[na] = v
            na += 1
    gstart, gmem, gmode = kd.gstart, kd.gmem, kd.gmode
    for g in range(gstart.shape[0] - 1):
        pg = gp[g]
        if pg <= 0.0:
            continue
        logq = np.log1p(-pg) if pg < 1.0 else -np.inf
        lo = gstart[g]
        size = gstart[g + 1] - lo
        rf = -1.0
        while True:
            if pos + 2 + size > ubuf.shape[0]:
                _refill(st, ubuf)
                pos = 0
            if pg > _DIRECT:  # one Bernoulli draw per row
                rf += 1.0
                if rf >= B:
                    break
                u = ubuf[pos]
                pos += 1
                if u >= pg:
                    continue
            else:  # jump over the inactive rows
                rf += 1.0 + np.floor(np.log(1.0 - ubuf[pos]) / logq)
                pos += 1
                if rf >= B:
                    break
            r = int(rf)
            first = 0
            count = size
            if gmode[g] == 1:  # anticorrelated: exactly one member
                first = min(int(ubuf[pos] * size), size - 1)
                pos += 1
                count = 1
            for t in range(first, first + count):
                i = gmem[lo + t]
                v = _magnitude(ubuf[pos], mag)
                pos += 1
                XT[i, r] = v
                if na < cap:
                    act_b[na] = r
                    act_i[na] = i
                    act_v[na] = v
                na += 1
    return na, pos


# -- loss and gradient ---------------------------------------------------------------------------


@njit(cache=True, fastmath={"reassoc", "contract"})
def _outputs(ZT, XT, bias, imp, cimp, gb, relu):
    """The elementwise pass over ZT (n, B) = z - b: ReLU, loss, dL/dz (written over ZT) and the
    bias gradient; returns (sum_i I_i sum_b r_bi^2, number of open outputs). One feature per
    row, so the sums along a row are vectorised reductions (hence ``reassoc``: the summation
    order, not the result up to rounding, depends on the compiler). The arithmetic is in the
    working type (float32 runs do not promote to float64: 2.5x faster at n = 200)."""
    n, B = ZT.shape
    zero = gb.dtype.type(0)  # not gb[0] * 0: float32 times an int literal is float64
    loss = 0.0
    n_open = 0
    for i in range(n):
        z_i = ZT[i]
        x_i = XT[i]
        bi = bias[i]
        ci = cimp[i]
        la = zero
        g = zero
        no = 0
        for bb in range(B):
            z = z_i[bb] + bi
            op = (not relu) or z > zero
            r = (z if op else zero) - x_i[bb]
            la += r * r
            d = ci * r if op else zero
            z_i[bb] = d
            g += d
            no += np.int32(1) if op else np.int32(0)
        loss += imp[i] * la
        gb[i] = g
        n_open += no
    return loss, n_open


@njit(cache=True)
def _transpose(A, out):
    """out[:, :] = A.T (a copy between the two layouts of the hidden activations)."""
    for k in range(out.shape[0]):
        for bb in range(out.shape[1]):
            out[k, bb] = A[bb, k]


@njit(cache=True)
def _relu(A):
    """A = max(A, 0) elementwise, in place (2-d, C-contiguous)."""
    a = A.reshape(A.size)
    zero = a.dtype.type(0)
    for j in range(a.shape[0]):
        a[j] = max(a[j], zero)


@njit(cache=True)
def _loss_grad(
    Wt,
    bias,
    imp,
    XT,
    ZT,
    H,
    dH,
    HT,
    gWt,
    gb,
    tmp,
    cimp,
    act_b,
    act_i,
    act_v,
    na,
    hy,
    use_list,
    sparse_out,
):
    """Loss (1/(B n)) sum_{b,i} I_i (x_bi - x_hat_bi)^2 of the batch and its exact gradient.

    Wt (n, m), bias (n,), imp (n,); XT (n, B) the transposed batch; ZT (n, B) receives z and
    then dL/dz; H, dH (B, m) receive h and dL/dh; HT (m, B) is a work array (the transposed
    form of :data:`SMALL_HIDDEN`); gWt (n, m) and gb (n,) the gradient; tmp (n, m) and cimp (n,)
    are work arrays. If ``use_list``, the na active inputs are read from the feature-major list
    (act_b, act_i, act_v); if ``sparse_out``, the backward pass runs over the open outputs only.
    Returns (loss, number of open outputs).
    """
    n, m = Wt.shape
    B = XT.shape[1]
    zero = gb.dtype.type(0)
    small = m <= SMALL_HIDDEN
    # h = W x
    if use_list:
        H[:, :] = 0.0
        for a in range(na):
            v = act_v[a]
            h = H[act_b[a]]
            w = Wt[act_i[a]]
            for k in range(m):
                h[k] += v * w[k]
        if small:
            _transpose(H, HT)
    elif small:
        np.dot(Wt.T, XT, HT)
    else:
        np.dot(XT.T, Wt, H)
    if hy.hidden_relu:
        _relu(HT if small else H)
    if small:
        np.dot(Wt, HT, ZT)
        if not use_list or hy.hidden_relu:
            _transpose(HT, H)
    else:
        np.dot(Wt, H.T, ZT)
    for i in range(n):
        cimp[i] = 2.0 / (B * n) * imp[i]
    loss, n_open = _outputs(ZT, XT, bias, imp, cimp, gb, hy.output_relu)
    # backward: dL/dH and the decoder half of dL/dW
    if sparse_out:
        gWt[:, :] = 0.0
        dH[:, :] = 0.0
        for i in range(n):
            d_i = ZT[i]
            g = gWt[i]
            w = Wt[i]
            for bb in range(B):
                d = d_i[bb]
                if d != zero:
                    h = H[bb]
                    e = dH[bb]
                    for k in range(m):
                        g[k] += d * h[k]
                        e[k] += d * w[k]
    else:
        if small:
            np.dot(Wt.T, ZT, HT)
            _transpose(HT, dH)
        else:
            np.dot(ZT.T, Wt, dH)
        np.dot(ZT, H, gWt)
    if hy.hidden_relu:
        for bb in range(B):
            for k in range(m):
                if H[bb, k] <= zero:
                    dH[bb, k] = zero
    # the encoder half of dL/dW: sum_b x_b dh_b^T
    if use_list:
        for a in range(na):
            v = act_v[a]
            e = dH[act_b[a]]
            g = gWt[act_i[a]]
            for k in range(m):
                g[k] += v * e[k]
    else:
        np.dot(XT, dH, tmp)
        gWt += tmp
    return loss / (B * n), n_open


@njit(cache=True)
def _price_grad(Wt, q, delta, gstart, gmem, lam, gWt, tmp, scratch):
    """Add lam * grad of P(W) = sum_{i != j} c_ij (w_i . w_j)^2 to gWt; return P(W).

    c_ij = q_i q_j + delta_g when i and j are both in group g (else q_i q_j). With Q = diag(q):
    sum_{i,j} q_i q_j (w_i . w_j)^2 = ||Wt^T Q Wt||_F^2, whose gradient is 4 Q Wt M with
    M = Wt^T Q Wt (m x m); each group adds delta_g ||Wt_S^T Wt_S||_F^2; the diagonal terms
    c_ii |w_i|^4 are subtracted. Cost O(n m^2), never an n x n matrix. tmp (n, m); scratch
    (m, m).
    """
    n, m = Wt.shape
    for i in range(n):
        for k in range(m):
            tmp[i, k] = q[i] * Wt[i, k]
    np.dot(Wt.T, tmp, scratch)  # M = Wt^T Q Wt
    P = 0.0
    for k in range(m):
        for j in range(m):
            P += scratch[k, j] * scratch[k, j]
    np.dot(Wt, scratch, tmp)  # Wt M
    four = 4.0 * lam
    for i in range(n):
        for k in range(m):
            gWt[i, k] += four * q[i] * tmp[i, k]
    cdiag = np.empty(n)
    for i in range(n):
        cdiag[i] = q[i] * q[i]
    for g in range(gstart.shape[0] - 1):
        dg = delta[g]
        lo, hi = gstart[g], gstart[g + 1]
        for t in range(lo, hi):
            cdiag[gmem[t]] += dg
        if dg == 0.0:
            continue
        scratch[:, :] = 0.0
        for t in range(lo, hi):
            i = gmem[t]
            for k in range(m):
                for j in range(m):
                    scratch[k, j] += Wt[i, k] * Wt[i, j]
        for k in range(m):
            for j in range(m):
                P += dg * scratch[k, j] * scratch[k, j]
        for t in range(lo, hi):
            i = gmem[t]
            for k in range(m):
                s = 0.0
                for j in range(m):
                    s += Wt[i, j] * scratch[j, k]
                gWt[i, k] += four * dg * s
    for i in range(n):
        s2 = 0.0
        for k in range(m):
            s2 += Wt[i, k] * Wt[i, k]
        P -= cdiag[i] * s2 * s2
        for k in range(m):
            gWt[i, k] -= four * cdiag[i] * s2 * Wt[i, k]
    return P


# -- optimiser -----------------------------------------------------------------------------------


@njit(cache=True)
def _grow_columns(Wt, lr, wd, eps):
    """Negative decoupled weight decay (Liu, Liu & Gore 2025): w_i += lr wd (1 - 1/(|w_i| + eps))
    w_i, which with wd < 0 grows a feature shorter than 1 and shrinks a longer one."""
    n, m = Wt.shape
    for i in range(n):
        s = 0.0
        for k in range(m):
            s += Wt[i, k] * Wt[i, k]
        f = 1.0 + lr * wd * (1.0 - 1.0 / (np.sqrt(s) + eps))
        for k in range(m):
            Wt[i, k] *= f


# -- training ------------------------------------------------------------------------------------


@njit(cache=True)
def sparse_input(m):
    """Automatic input route: the active-entry sums replace the GEMMs h = W x and X^T dH when
    the expected fraction of active inputs is below this. Measured crossover (one thread, float32,
    batch 1024, benchmarks/results_toy.md "Routes"): about 0.07 at m = 5, 0.12 at m = 20, 0.17
    at m = 100 and 0.2 at m = 256: the sums run at a speed that grows with m (longer vector
    loops), the GEMM at nearly its peak."""
    return min(0.2, 0.03 * np.log2(max(m, 2)))


@njit(cache=True)
def sparse_output(m):
    """Automatic output route: the backward pass runs over the open outputs only when the
    previous step had fewer than this fraction of them open. Measured (one thread, float32,
    batch 1024, n = 1000, benchmarks/results_toy.md "Routes"): below m = 64 the GEMMs win at
    every fraction (at m = 5 and 20 even with 1 % open), break-even near 0.03 at m = 100 and
    0.12 at m = 256."""
    return max(0.0, 0.06 * np.log2(max(m, 1) / 64.0))


@njit(cache=True)
def expected_active(p, gp, kd):
    """Expected number of active features per sample of one instance."""
    e = 0.0
    for jj in range(kd.indep.shape[0]):
        e += min(p[kd.indep[jj]], 1.0)
    for g in range(kd.gstart.shape[0] - 1):
        size = kd.gstart[g + 1] - kd.gstart[g]
        e += min(gp[g], 1.0) * (size if kd.gmode[g] == 0 else 1)
    return e


@njit(cache=True)
def list_capacity(expected, B, n):
    """Capacity of the active-entry list: the expected count plus ten standard deviations (a
    binomial count is never more spread than a Poisson one) plus a margin; a batch that
    overflows it runs the GEMM route for that step."""
    mean = expected * B
    return min(B * n, int(mean + 10.0 * np.sqrt(mean) + 64.0))


@njit(cache=True)
def _dense_features(p, kd):
    """Independent features drawn with one uniform per entry (p > 1/4) and their 1 / p."""
    nd = 0
    for jj in range(kd.indep.shape[0]):
        if p[kd.indep[jj]] > _DIRECT:
            nd += 1
    dense = np.empty(nd, dtype=np.int64)
    ipd = np.empty(nd)
    nd = 0
    for jj in range(kd.indep.shape[0]):
        i = kd.indep[jj]
        if p[i] > _DIRECT:
            dense[nd] = i
            ipd[nd] = 1.0 / min(p[i], 1.0)
            nd += 1
    return dense, ipd


@njit(cache=True)
def sampler_buffer_size(kd):
    """Length of the gap sampler's uniform buffer (a multiple of LANES with room for the largest
    group)."""
    big = 0
    for g in range(kd.gstart.shape[0] - 1):
        big = max(big, kd.gstart[g + 1] - kd.gstart[g])
    return max(_UBUF, ((big + 2 + LANES - 1) // LANES) * LANES)


@njit(cache=True)
def _sampler_buffers(kd, B):
    """Uniform buffers of the sampler, multiples of LANES: ``ubuf`` for the gaps and ``row`` for
    the B entries of one dense feature."""
    return np.empty(sampler_buffer_size(kd)), np.empty(((B + LANES - 1) // LANES) * LANES)


@njit(cache=True)
def _train_one(r, Wt, b, state, kd, IMP, price, lrs, hy, losses, t0):
    """Train instance r in place for ``lrs.shape[0]`` steps; return -1 or the diverged step.

    Wt (I, n, m), b (I, n) the weights; ``state`` (a :data:`TrainState`) Adam's moments, the
    random lanes and the last open count; IMP (I, n) importance (working type); ``t0`` steps
    were taken before this call (bias correction uses t0 + t + 1). ``losses[r, t]`` receives the
    batch loss at step t (before that step's update). On a non-finite loss or gradient the
    instance stops with its weights as before that step.
    """
    W = Wt[r]
    bias = b[r]
    n, m = W.shape
    B = hy.batch
    p = kd.P[r]
    gp = kd.GP[r]
    st = state.lanes[r]
    dt = W.dtype
    dense, ipd = _dense_features(p, kd)
    row = np.empty(((B + LANES - 1) // LANES) * LANES)
    ubuf = state.ubuf[r]
    pos = state.upos[r]
    expect = expected_active(p, gp, kd)
    sparse_in = hy.input_route == 1 or (hy.input_route < 0 and expect < sparse_input(m) * n)
    # the GEMM route lists only the gap-sampled entries (to clear them from X at the next step)
    cap = list_capacity(expect, B, n)
    act_b = np.zeros(cap, dtype=np.int32)
    act_i = np.zeros(cap, dtype=np.int32)
    act_v = np.zeros(cap, dtype=dt)
    XT = np.zeros((n, B), dtype=dt)
    ZT = np.zeros((n, B), dtype=dt)
    H = np.zeros((B, m), dtype=dt)
    dH = np.zeros((B, m), dtype=dt)
    HT = np.zeros((m, B) if m <= SMALL_HIDDEN else (0, 0), dtype=dt)
    gWt = np.zeros((n, m), dtype=dt)
    gb = np.zeros(n, dtype=dt)
    tmp = np.zeros((n, m), dtype=dt)
    cimp = np.zeros(n, dtype=dt)
    scratch = np.zeros((m, m), dtype=dt)
    imp = IMP[r]
    MW, VW, Mb, Vb = state.MW[r], state.VW[r], state.Mb[r], state.Vb[r]
    Wf = W.reshape(n * m)
    gf = gWt.reshape(n * m)
    na = 0
    for t in range(lrs.shape[0]):
        sparse_out = hy.output_route == 1 or (
            hy.output_route < 0 and hy.output_relu and state.n_open[r] < sparse_output(m) * B * n
        )
        na, pos = _sample(
            st, ubuf, pos, row, p, gp, kd, dense, ipd, XT, act_b, act_i, act_v, na, sparse_in
        )
        use_list = sparse_in and na <= cap
        loss, n_open = _loss_grad(
            W,
            bias,
            imp,
            XT,
            ZT,
            H,
            dH,
            HT,
            gWt,
            gb,
            tmp,
            cimp,
            act_b,
            act_i,
            act_v,
            na,
            hy,
            use_list,
            sparse_out,
        )
        if hy.price > 0.0:
            _price_grad(
                W, price.Q[r], price.delta[r], kd.gstart, kd.gmem, hy.price, gWt, tmp, scratch
            )
        losses[r, t] = loss
        ok = np.isfinite(loss)
        for j in range(gf.shape[0]):
            ok = ok and np.isfinite(gf[j])
        for j in range(n):
            ok = ok and np.isfinite(gb[j])
        if not ok:
            losses[r, t] = np.nan
            return t
        lr = lrs[t]
        step = t0 + t + 1
        b1, b2, eps, dec = hy.beta1, hy.beta2, hy.eps, hy.decoupled
        wd_w = hy.wd_w
        if dec and wd_w < 0.0:
            _grow_columns(W, lr, wd_w, eps)
            wd_w = 0.0
        _adam_update(Wf, gf, MW, VW, lr, b1, b2, eps, wd_w, dec, step)
        lr_b = lr * hy.lr_ratio_b
        _adam_update(bias, gb, Mb, Vb, lr_b, b1, b2, eps, hy.wd_b, dec, step)
        state.n_open[r] = n_open
        state.upos[r] = pos
    return -1


@njit(cache=True)
def train_serial(Wt, b, state, kd, IMP, price, lrs, hy, losses, failed, t0):
    """Train every instance (leading axis of Wt, b, ...) one after another."""
    for r in range(Wt.shape[0]):
        failed[r] = _train_one(r, Wt, b, state, kd, IMP, price, lrs, hy, losses, t0)


@njit(cache=True, parallel=True)
def train_parallel(Wt, b, state, kd, IMP, price, lrs, hy, losses, failed, t0):
    """Parallel entry point (``parallel=True``, ``prange`` over instances); bit for bit the result
    of :func:`train_serial`, since every instance owns its random lanes and work arrays."""
    for r in prange(Wt.shape[0]):
        failed[r] = _train_one(r, Wt, b, state, kd, IMP, price, lrs, hy, losses, t0)


# -- entry points for the public sampler and the tests -------------------------------------------


@njit(cache=True)
def sample_many(lanes, kd, X):
    """Draw X[r] (B, n) for every instance r from its own lanes (the public sampler's kernel;
    the same draws as the first batch of a training run from the same lanes)."""
    B, n = X.shape[1], X.shape[2]
    act_b = np.zeros(0, dtype=np.int32)
    act_i = np.zeros(0, dtype=np.int32)
    act_v = np.zeros(0, dtype=X.dtype)
    XT = np.zeros((n, B), dtype=X.dtype)
    ubuf, row = _sampler_buffers(kd, B)
    for r in range(X.shape[0]):
        p = kd.P[r]
        dense, ipd = _dense_features(p, kd)
        XT[:, :] = 0.0
        _sample(
            lanes[r],
            ubuf,
            ubuf.shape[0],
            row,
            p,
            kd.GP[r],
            kd,
            dense,
            ipd,
            XT,
            act_b,
            act_i,
            act_v,
            0,
            False,
        )
        X[r] = XT.T


@njit(cache=True)
def loss_grad(Wt, bias, X, imp, hy):
    """Loss and gradient (gWt (n, m), gb (n,)) of one given batch X (B, n), by the routes in
    ``hy`` (input_route 1: over the nonzero entries of X; output_route 1: over the open
    outputs). Returns (loss, gWt, gb)."""
    B, n = X.shape
    m = Wt.shape[1]
    dt = Wt.dtype
    na = 0
    for bb in range(B):
        for i in range(n):
            if X[bb, i] != 0.0:
                na += 1
    act_b = np.zeros(na, dtype=np.int32)
    act_i = np.zeros(na, dtype=np.int32)
    act_v = np.zeros(na, dtype=dt)
    a = 0
    for i in range(n):  # feature-major, as the sampler lists sparse features
        for bb in range(B):
            if X[bb, i] != 0.0:
                act_b[a] = bb
                act_i[a] = i
                act_v[a] = X[bb, i]
                a += 1
    XT = np.ascontiguousarray(X.T)
    gWt = np.zeros((n, m), dtype=dt)
    gb = np.zeros(n, dtype=dt)
    loss, _ = _loss_grad(
        Wt,
        bias,
        imp,
        XT,
        np.zeros((n, B), dtype=dt),
        np.zeros((B, m), dtype=dt),
        np.zeros((B, m), dtype=dt),
        np.zeros((m, B), dtype=dt),
        gWt,
        gb,
        np.zeros((n, m), dtype=dt),
        np.zeros(n, dtype=dt),
        act_b,
        act_i,
        act_v,
        na,
        hy,
        hy.input_route == 1,
        hy.output_route == 1,
    )
    return loss, gWt, gb


@njit(cache=True)
def price_grad(Wt, q, delta, gstart, gmem, lam):
    """P(W) and lam * its gradient (n, m) (the kernel the trainer uses, for the tests)."""
    n, m = Wt.shape
    g = np.zeros((n, m), dtype=Wt.dtype)
    P = _price_grad(
        Wt, q, delta, gstart, gmem, lam, g, np.zeros((n, m), Wt.dtype), np.zeros((m, m), Wt.dtype)
    )
    return P, g
