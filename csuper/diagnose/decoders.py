"""The rungs of the decoder ladder: read-outs of known features from activations, from the
simplest (linear least squares) to the most flexible (a small MLP).

Each rung is fitted on training rows and scored on held-out rows by the ladder
(:func:`csuper.diagnose.decoder_ladder`). The ReLU-linear read-out and the MLP are trained by
full-batch Adam in numpy (torch.optim.Adam's update); their gradients are checked by finite
differences in the tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from csuper._validation import check_array, check_int, check_real, check_rng
from csuper.diagnose._inputs import check_activations
from csuper.diagnose.linear import _frame_fit, _predict_linear, fit_linear

__all__ = [
    "DECODERS",
    "relu_linear_loss_grad",
    "mlp_loss_grad",
    "fit_relu_linear",
    "fit_mlp",
    "FittedLadder",
    "fit_ladder",
]

#: Rungs of the decoder ladder, simplest first (name -> read-out).
DECODERS: dict[str, str] = {
    "linear": "least-squares affine read-out x_i = v_i . h + c_i",
    "relu_linear": "fitted ReLU(v_i . h + c_i) (nonnegative features; the toy model's read-out)",
    "basis_pursuit": "basis pursuit with the frame: min |x|_1 s.t. W x = h - c (x >= 0 for "
    "nonnegative features)",
    "mlp": "one-hidden-layer ReLU MLP, x = V2 ReLU(V1 h + c1) + c2",
}


def _standardise(H: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mu = H.mean(axis=0)
    sd = H.std(axis=0)
    return mu, np.where(sd > 0, sd, 1.0)


def _inputs_targets(Z, Y) -> tuple[np.ndarray, np.ndarray]:
    """Inputs Z (N, m) and targets Y (N, q) of a read-out's loss, checked to share their rows."""
    Z = check_array(Z, "Z", ndim=2, dtype=np.float64)
    Y = check_array(Y, "Y", ndim=2, dtype=np.float64)
    if Y.shape[0] != Z.shape[0]:
        raise ValueError(f"Y must have one row per row of Z ({Z.shape[0]}); got shape {Y.shape}.")
    return Z, Y


def relu_linear_loss_grad(V, c, Z, Y, weight):
    """Loss (1/N) sum_{s,i} weight_i (ReLU(z_s . v_i + c_i) - y_si)^2 and its gradient.

    Parameters
    ----------
    V : ndarray, shape (m, q)
    c : ndarray, shape (q,)
    Z : ndarray, shape (N, m)
        Inputs (standardised activations).
    Y : ndarray, shape (N, q)
    weight : ndarray, shape (q,)

    Returns
    -------
    (loss, gV, gc)
    """
    Z, Y = _inputs_targets(Z, Y)
    V = check_array(V, "V", shape=(Z.shape[1], Y.shape[1]), dtype=np.float64)
    c = check_array(c, "c", shape=(Y.shape[1],), dtype=np.float64)
    weight = check_array(weight, "weight", shape=(Y.shape[1],), dtype=np.float64, nonnegative=True)
    N = Z.shape[0]
    pre = Z @ V + c
    on = pre > 0
    r = np.where(on, pre, 0.0) - Y
    loss = float(np.sum(weight * r * r) / N)
    d = np.where(on, 2.0 * weight * r / N, 0.0)
    return loss, Z.T @ d, d.sum(axis=0)


def mlp_loss_grad(V1, c1, V2, c2, Z, Y, weight):
    """Loss (1/N) sum weight_i (yhat_si - y_si)^2 of yhat = ReLU(Z V1 + c1) V2 + c2, and its
    gradient (gV1, gc1, gV2, gc2).

    Shapes: V1 (m, w), c1 (w,), V2 (w, q), c2 (q,), Z (N, m), Y (N, q), weight (q,).
    """
    Z, Y = _inputs_targets(Z, Y)
    V1 = check_array(V1, "V1", ndim=2, dtype=np.float64)
    if V1.shape[0] != Z.shape[1]:
        raise ValueError(f"V1 must have Z.shape[1] = {Z.shape[1]} rows; got shape {V1.shape}.")
    w, q = V1.shape[1], Y.shape[1]
    c1 = check_array(c1, "c1", shape=(w,), dtype=np.float64)
    V2 = check_array(V2, "V2", shape=(w, q), dtype=np.float64)
    c2 = check_array(c2, "c2", shape=(q,), dtype=np.float64)
    weight = check_array(weight, "weight", shape=(q,), dtype=np.float64, nonnegative=True)
    N = Z.shape[0]
    pre = Z @ V1 + c1
    A = np.maximum(pre, 0.0)
    r = A @ V2 + c2 - Y
    loss = float(np.sum(weight * r * r) / N)
    d = 2.0 * weight * r / N
    gV2 = A.T @ d
    gc2 = d.sum(axis=0)
    dA = (d @ V2.T) * (pre > 0)
    return loss, Z.T @ dA, dA.sum(axis=0), gV2, gc2


def _target_weight(Y: np.ndarray) -> np.ndarray:
    v = Y.var(axis=0)
    return np.where(v > 0, 1.0 / np.where(v > 0, v, 1.0), 0.0)


def _adam(params, grad_fn, n_steps: int, lr: float):
    """Full-batch Adam (torch's update, no weight decay) on a list of arrays; keeps the iterate
    with the lowest loss seen (the first iterate included).

    BLAS runs on one thread: these products are small, and two threads on a loaded 2-core machine
    were measured 6 times slower (MLP of width 64 on 1,000 x 8 inputs: 16 s against 2.6 s).
    """
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        return _adam_loop(params, grad_fn, n_steps, lr)


def _adam_loop(params, grad_fn, n_steps: int, lr: float):
    flat = [p.reshape(-1) for p in params]
    Ms = [np.zeros_like(f) for f in flat]
    Vs = [np.zeros_like(f) for f in flat]
    best_loss = np.inf
    best = [p.copy() for p in params]
    for t in range(1, n_steps + 1):
        loss, *grads = grad_fn(*params)
        if not np.isfinite(loss):
            break
        if loss < best_loss:
            best_loss = loss
            best = [p.copy() for p in params]
        bc1, sq2 = 1.0 - 0.9**t, np.sqrt(1.0 - 0.999**t)
        for f, g, M, V in zip(flat, grads, Ms, Vs):  # torch.optim.Adam, betas (0.9, 0.999)
            g = np.ravel(g)
            M *= 0.9
            M += 0.1 * g
            V *= 0.999
            V += 0.001 * g * g
            f -= (lr / bc1) * M / (np.sqrt(V) / sq2 + 1e-8)
    loss, *_ = grad_fn(*params)
    if np.isfinite(loss) and loss < best_loss:
        best = [p.copy() for p in params]
    return best


@dataclass(frozen=True)
class _ReluLinear:
    mu: np.ndarray
    sd: np.ndarray
    V: np.ndarray
    c: np.ndarray

    def predict(self, H: np.ndarray) -> np.ndarray:
        return np.maximum(((H - self.mu) / self.sd) @ self.V + self.c, 0.0)


@dataclass(frozen=True)
class _MLP:
    mu: np.ndarray
    sd: np.ndarray
    V1: np.ndarray
    c1: np.ndarray
    V2: np.ndarray
    c2: np.ndarray

    def predict(self, H: np.ndarray) -> np.ndarray:
        A = np.maximum(((H - self.mu) / self.sd) @ self.V1 + self.c1, 0.0)
        return A @ self.V2 + self.c2


def fit_relu_linear(H, Y, *, n_steps: int = 1500, lr: float = 1e-2) -> _ReluLinear:
    """Fit ReLU(v_i . h + c_i) to each nonnegative target column by Adam from the least-squares
    solution.

    Starting at the least-squares read-out makes the fit never worse than it on the training
    rows: for y >= 0, |y - ReLU(z)| <= |y - z| for every z, and Adam keeps the best iterate.

    Examples
    --------
    >>> H = np.linspace(-1, 1, 50)[:, None]
    >>> f = fit_relu_linear(H, np.maximum(2 * H - 0.5, 0))
    >>> print(round(float(np.abs(f.predict(H) - np.maximum(2 * H - 0.5, 0)).max()), 3))
    0.0
    """
    H = check_array(H, "H", ndim=2, dtype=np.float64)
    Y = check_array(Y, "Y", ndim=2, dtype=np.float64, nonnegative=True)
    T = check_int(n_steps, "n_steps", low=0)
    lr = check_real(lr, "lr", low=0.0, low_inclusive=False)
    mu, sd = _standardise(H)
    Z = (H - mu) / sd
    coef = fit_linear(Z, Y)
    V, c = np.ascontiguousarray(coef[:-1]), np.ascontiguousarray(coef[-1])
    w = _target_weight(Y)
    V, c = _adam([V, c], lambda V_, c_: relu_linear_loss_grad(V_, c_, Z, Y, w), T, lr)
    return _ReluLinear(mu, sd, V, c)


def fit_mlp(H, Y, *, width: int = 64, n_steps: int = 2000, lr: float = 3e-3, rng=None) -> _MLP:
    """Fit a one-hidden-layer ReLU MLP (shared hidden layer, one output per target column) by
    full-batch Adam on the variance-weighted squared error.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> H = rng.uniform(-1, 1, (400, 2))
    >>> f = fit_mlp(H, H[:, :1] * H[:, 1:], width=32, n_steps=1500, rng=0)
    >>> bool(np.mean((f.predict(H) - H[:, :1] * H[:, 1:]) ** 2) < 0.1 * np.var(H[:, 0] * H[:, 1]))
    True
    """
    H = check_array(H, "H", ndim=2, dtype=np.float64)
    Y = check_array(Y, "Y", ndim=2, dtype=np.float64)
    w_ = check_int(width, "width", low=1)
    T = check_int(n_steps, "n_steps", low=0)
    lr = check_real(lr, "lr", low=0.0, low_inclusive=False)
    gen = check_rng(rng)
    mu, sd = _standardise(H)
    Z = (H - mu) / sd
    m, q = Z.shape[1], Y.shape[1]
    V1 = gen.standard_normal((m, w_)) * np.sqrt(2.0 / m)
    c1 = np.zeros(w_)
    V2 = gen.standard_normal((w_, q)) * np.sqrt(1.0 / w_)
    c2 = Y.mean(axis=0).copy()
    wt = _target_weight(Y)
    params = _adam([V1, c1, V2, c2], lambda a, b, c, d: mlp_loss_grad(a, b, c, d, Z, Y, wt), T, lr)
    return _MLP(mu, sd, *params)


@dataclass(frozen=True, eq=False)
class FittedLadder:
    """The rungs of the decoder ladder fitted on training rows.

    Attributes
    ----------
    fitted : dict
        Rung name -> fitted read-out (only the rungs that were fitted).
    frame : ndarray, shape (m, n) or None
        The frame used by basis pursuit (given or estimated), and its offset.
    offset : ndarray, shape (m,) or None
    nonnegative : ndarray of bool, shape (n,)
        Features that never take negative values (ReLU-linear applies to them only).
    frame_fit_r2 : float
        How linear the code is: held-in R^2 of h from x by least squares (1 for h = W x + c).
    notes : dict
        Rung name -> why it was not fitted.
    """

    fitted: dict
    frame: np.ndarray | None
    offset: np.ndarray | None
    nonnegative: np.ndarray
    frame_fit_r2: float
    notes: dict = field(default_factory=dict)

    def predict(self, rung: str, H) -> np.ndarray:
        """Decoded features (N, n) of the activations H by one fitted rung."""
        if rung not in DECODERS:
            raise ValueError(f"rung must be one of {list(DECODERS)}; got {rung!r}.")
        if rung not in self.fitted:
            raise ValueError(f"rung {rung!r} was not fitted: {self.notes.get(rung, 'not asked')}.")
        H = check_array(H, "H", ndim=2, dtype=np.float64)
        if rung == "linear":
            return _predict_linear(self.fitted["linear"], H)
        if rung == "basis_pursuit":
            return _basis_pursuit_decode(H, self.frame, self.offset, self.nonnegative)
        out = self.fitted[rung].predict(H)
        if rung == "relu_linear":  # signed features keep their linear read-out
            full = _predict_linear(self.fitted["linear"], H)
            full[:, self.nonnegative] = out
            return full
        return out


def _basis_pursuit_decode(H, W, offset, nonnegative) -> np.ndarray:
    from csuper.recovery import batch_basis_pursuit

    nonneg = bool(np.all(nonnegative))
    res = batch_basis_pursuit(W, np.ascontiguousarray((H - offset).T), nonnegative=nonneg)
    X = res.x.T.copy()
    X[~np.isfinite(X)] = 0.0  # unsolved columns decode to nothing
    return X


def fit_ladder(
    H,
    X,
    *,
    W=None,
    rungs=tuple(DECODERS),
    mlp_width: int = 64,
    n_steps: int = 1500,
    linear_code_threshold: float = 0.99,
    rng=None,
) -> FittedLadder:
    """Fit the asked rungs of the decoder ladder on activations H (N, m) and features X (N, n).

    Basis pursuit needs a frame: the given W, or one estimated by least squares h ~ W x + c,
    used only when that fit explains at least ``linear_code_threshold`` of the activations'
    variance (otherwise the code is not a linear measurement of x and the rung is skipped, with
    the reason in ``notes``).
    """
    H, X = check_activations(H, X, min_samples=2)
    for r in rungs:
        if r not in DECODERS:
            raise ValueError(f"rungs must be names from {list(DECODERS)}; got {r!r}.")
    nonneg = np.all(X >= 0, axis=0)
    fitted: dict = {"linear": fit_linear(H, X)}
    notes: dict = {}
    if "relu_linear" in rungs:
        if nonneg.any():
            fitted["relu_linear"] = fit_relu_linear(H, X[:, nonneg], n_steps=n_steps)
        else:
            notes["relu_linear"] = "no feature is nonnegative"
    # how linear is the code? regress h on x
    coef, frame_r2 = _frame_fit(H, X)
    frame = offset = None
    if "basis_pursuit" in rungs:
        if W is not None:
            frame = check_array(W, "W", ndim=2, shape=(H.shape[1], X.shape[1]), dtype=np.float64)
            offset = np.zeros(H.shape[1])
            fitted["basis_pursuit"] = True
        elif np.isfinite(frame_r2) and frame_r2 >= linear_code_threshold:
            frame = np.ascontiguousarray(coef[:-1].T)
            offset = coef[-1]
            fitted["basis_pursuit"] = True
        else:
            notes["basis_pursuit"] = (
                f"no frame given and h is not a linear measurement of x (R^2 of h from x = "
                f"{frame_r2:.3f} < {linear_code_threshold:g})"
            )
    if "mlp" in rungs:
        fitted["mlp"] = fit_mlp(H, X, width=mlp_width, n_steps=n_steps, rng=rng)
    return FittedLadder(fitted, frame, offset, nonneg, frame_r2, notes)
