"""A trained (or imported) toy model: the ToyModel record, its plain-numpy forward pass and loss,
import of weights trained elsewhere, and the ``.npz`` file format.

The forward pass reads the model's nonlinearities from :data:`csuper.toy.MODELS`, the same flags
the training kernels read.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass

import numpy as np

from csuper._validation import check_array, check_input_file, check_output_file, read_npz
from csuper.toy.data import feature_distribution
from csuper.toy.settings import MODELS, NOTEBOOK_SETTINGS, TrainSettings

__all__ = ["ToyModel", "toy_forward", "toy_loss", "from_weights", "save_model", "load_model"]

_FORMAT = "csuper.toy.ToyModel/1"


@dataclass(frozen=True, eq=False)
class ToyModel:
    """Trained (or imported) toy models, one per instance.

    Attributes
    ----------
    W : ndarray, shape (n_instances, n_dims, n_features)
        Columns W[r][:, i] are the feature directions w_i (csuper's layout, DESIGN.md); float64,
        or float32 when trained with ``dtype="float32"`` (b likewise).
    b : ndarray, shape (n_instances, n_features)
        Output bias.
    importance : ndarray, shape (n_instances, n_features)
    feature_probability : ndarray, shape (n_instances, n_features)
    settings : TrainSettings
    loss_history : ndarray, shape (n_instances, n_steps)
        Batch loss before each step's update (NaN after a divergence; empty if imported).
    seeds : ndarray of int, shape (n_instances,)
        Seed of each kept instance: ``train(..., n_seeds=1)`` with the instance's data and this
        seed reproduces it (its W init and data stream derive from it alone).
    seed_losses : ndarray, shape (n_instances, n_seeds)
        Final loss of every seed tried (best-of-N); the kept one is the minimum.
    distribution : dict
        Magnitude law and feature groups (see :meth:`FeatureDistribution.to_dict`).

    Examples
    --------
    >>> model = from_weights(np.array([[1.0, -1.0, 0.0], [0.0, 0.0, 1.0]]))
    >>> model.n_instances, model.n_dims, model.n_features
    (1, 2, 3)
    >>> model
    ToyModel(model='relu_output', n_instances=1, n_dims=2, n_features=3, dtype=float64, ...)
    >>> print(np.round(model.forward([[0.5, 0.0, 0.25]]), 3))
    [[[0.5  0.   0.25]]]
    """

    W: np.ndarray
    b: np.ndarray
    importance: np.ndarray
    feature_probability: np.ndarray
    settings: TrainSettings = NOTEBOOK_SETTINGS
    loss_history: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros((0, 0)))
    seeds: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    seed_losses: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros((0, 0)))
    distribution: dict = dataclasses.field(default_factory=dict)

    @property
    def n_instances(self) -> int:
        return int(self.W.shape[0])

    @property
    def n_dims(self) -> int:
        return int(self.W.shape[1])

    @property
    def n_features(self) -> int:
        return int(self.W.shape[2])

    @property
    def model(self) -> str:
        return self.settings.model

    @property
    def final_loss(self) -> np.ndarray:
        """Mean batch loss over the last min(100, n_steps) steps, per instance (NaN if none)."""
        return _final_loss(self.loss_history)

    def forward(self, X) -> np.ndarray:
        """x_hat for a batch X of shape (B, n) (every instance) or (n_instances, B, n)."""
        return toy_forward(self.W, self.b, X, model=self.model)

    def loss(self, X) -> np.ndarray:
        """Per-instance loss (1/(B n)) sum I_i (x_i - x_hat_i)^2 on the batch X."""
        return toy_loss(self.W, self.b, X, self.importance, model=self.model)

    def save(self, path) -> None:
        """Save to ``path`` (.npz), see :func:`save_model`."""
        save_model(self, path)

    def __repr__(self) -> str:
        """A summary (shapes, settings that matter, final losses), never the arrays."""
        s = self.settings
        losses = self.final_loss
        shown = ", ".join(f"{v:.4g}" for v in losses[:4]) + (", ..." if losses.size > 4 else "")
        return (
            f"ToyModel(model={s.model!r}, n_instances={self.n_instances}, n_dims={self.n_dims}, "
            f"n_features={self.n_features}, dtype={self.W.dtype.name}, n_steps="
            f"{self.loss_history.shape[1]}, n_seeds={self.seed_losses.shape[1]}, "
            f"final_loss=[{shown}])"
        )


def _final_loss(hist: np.ndarray) -> np.ndarray:
    if hist.size == 0:
        return np.full(hist.shape[0], np.nan)
    k = min(100, hist.shape[1])
    return hist[:, -k:].mean(axis=1)


def _check_model(model) -> str:
    if not isinstance(model, str) or model not in MODELS:
        raise ValueError(f"model must be one of {sorted(MODELS)}; got {model!r}.")
    return model


def _check_importance(importance, n_inst: int, n: int) -> np.ndarray:
    if importance is None:
        return np.ones((n_inst, n))
    imp = check_array(importance, "importance", ndim=(1, 2), dtype=np.float64, nonnegative=True)
    if imp.ndim == 1:
        if imp.shape[0] != n:
            raise ValueError(f"importance must have length n_features={n}; got {imp.shape[0]}.")
        imp = np.repeat(imp[None, :], n_inst, axis=0)
    elif imp.shape == (1, n):
        imp = np.repeat(imp, n_inst, axis=0)
    elif imp.shape != (n_inst, n):
        raise ValueError(f"importance must have shape ({n},) or ({n_inst}, {n}); got {imp.shape}.")
    return np.ascontiguousarray(imp)


def _as_batch(X, n_inst: int, n: int) -> np.ndarray:
    X = check_array(X, "X", ndim=(2, 3), dtype=np.float64)
    if X.shape[-1] != n:
        raise ValueError(f"X must have n_features={n} columns; got shape {X.shape}.")
    if X.ndim == 2:
        X = np.broadcast_to(X, (n_inst, *X.shape))
    elif X.shape[0] != n_inst:
        raise ValueError(f"X of shape {X.shape} must have n_instances={n_inst} on its first axis.")
    return X


def toy_forward(W, b, X, *, model: str = "relu_output") -> np.ndarray:
    """Reconstruction x_hat of a toy model, in plain numpy.

    Parameters
    ----------
    W : array_like, shape (m, n) or (I, m, n)
    b : array_like, shape (n,) or (I, n)
    X : array_like, shape (B, n) or (I, B, n)
    model : str
        Key of :data:`MODELS`.

    Returns
    -------
    ndarray, shape (I, B, n) (I = 1 for a single W)

    Examples
    --------
    >>> W = np.array([[1.0, -1.0]])
    >>> print(toy_forward(W, [0.0, 0.0], [[0.5, 0.0]]))
    [[[0.5 0. ]]]
    """
    variant = MODELS[_check_model(model)]
    W = check_array(W, "W", ndim=(2, 3), dtype=np.float64)
    W = W[None] if W.ndim == 2 else W
    I, _m, n = W.shape
    b = check_array(b, "b", ndim=(1, 2), dtype=np.float64)
    b = np.broadcast_to(b, (I, n)) if b.shape[-1] == n and b.ndim == 1 else b
    if b.shape != (I, n):
        raise ValueError(f"b must have shape ({n},) or ({I}, {n}); got {b.shape}.")
    X = _as_batch(X, I, n)
    H = np.einsum("ikn,ibn->ibk", W, X)
    if variant.hidden_relu:
        H = np.maximum(H, 0.0)
    Z = np.einsum("ikn,ibk->ibn", W, H) + b[:, None, :]
    return np.maximum(Z, 0.0) if variant.output_relu else Z


def toy_loss(W, b, X, importance=None, *, model: str = "relu_output") -> np.ndarray:
    """Per-instance loss (1/(B n)) sum_{b, i} I_i (x_bi - x_hat_bi)^2, in plain numpy.

    This is the reference notebook's loss: the mean over batch and features of the
    importance-weighted squared error (csuper trains exactly this objective).

    Returns
    -------
    ndarray, shape (I,)

    Examples
    --------
    >>> print(toy_loss(np.array([[1.0, 0.0]]), [0.0, 0.0], [[1.0, 1.0]]))
    [0.5]
    """
    Xhat = toy_forward(W, b, X, model=model)
    I, B, n = Xhat.shape
    X = _as_batch(X, I, n)
    imp = _check_importance(importance, I, n)
    return np.einsum("in,ibn->i", imp, (X - Xhat) ** 2) / (B * n)


def from_weights(
    W,
    b=None,
    *,
    model: str = "relu_output",
    layout: str = "csuper",
    importance=None,
    feature_probability=None,
) -> ToyModel:
    """Wrap weights trained elsewhere (e.g. a PyTorch state dict exported to numpy) as a ToyModel.

    Parameters
    ----------
    W : array_like
        ``layout="csuper"``: shape (m, n) or (I, m, n) (columns are features).
        ``layout="torch"``: the reference notebook's ``W`` of shape (n, m) or (I, n, m).
    b : array_like, shape (n,) or (I, n), optional
        The notebook's ``b_final``; default zeros.
    model : str
        Key of :data:`MODELS`.
    importance, feature_probability : array_like, optional
        Shapes (n,) or (I, n); default ones and NaN (unknown).

    Examples
    --------
    >>> state = {"W": np.ones((3, 5, 2)), "b_final": np.zeros((3, 5))}  # torch layout
    >>> from_weights(state["W"], state["b_final"], layout="torch").W.shape
    (3, 2, 5)
    """
    _check_model(model)
    if not isinstance(layout, str) or layout not in ("csuper", "torch"):
        raise ValueError(f"layout must be 'csuper' or 'torch'; got {layout!r}.")
    W = check_array(W, "W", ndim=(2, 3), dtype=np.float64, copy=True)
    W = W[None] if W.ndim == 2 else W
    if layout == "torch":
        W = np.ascontiguousarray(W.transpose(0, 2, 1))
    I, _m, n = W.shape
    b = np.zeros((I, n)) if b is None else check_array(b, "b", ndim=(1, 2), dtype=np.float64)
    b = (
        np.ascontiguousarray(np.broadcast_to(b, (I, n)))
        if b.shape in ((n,), (1, n), (I, n))
        else None
    )
    if b is None:
        raise ValueError(f"b must have shape ({n},) or ({I}, {n}) to match W of shape {W.shape}.")
    imp = _check_importance(importance, I, n)
    if feature_probability is None:
        P = np.full((I, n), np.nan)
    else:
        P = feature_distribution(n, feature_probability).feature_probability
        if P.shape[0] == 1:
            P = np.repeat(P, I, axis=0)
        if P.shape != (I, n):
            raise ValueError(f"feature_probability must give {I} instances; got {P.shape[0]}.")
    return ToyModel(
        W,
        b,
        imp,
        P,
        dataclasses.replace(NOTEBOOK_SETTINGS, model=model),
        np.zeros((I, 0)),
        np.full(I, -1, dtype=np.int64),
        np.zeros((I, 0)),
        {},
    )


def save_model(model: ToyModel, path) -> None:
    """Save a ToyModel to an ``.npz`` file (arrays) with a JSON metadata entry.

    File format (``csuper.toy.ToyModel/1``): an uncompressed numpy ``.npz`` holding arrays ``W``
    (I, m, n) and ``b`` (I, n) in the model's dtype (float64 or float32), float64
    ``importance`` (I, n), ``feature_probability`` (I, n),
    ``loss_history`` (I, T), ``seed_losses`` (I, N), int64 ``seeds`` (I,), and ``metadata``, a
    0-d unicode array holding JSON ``{"format", "settings", "distribution"}``. No pickles:
    :func:`load_model` reads it with ``allow_pickle=False``; settings missing from an older file
    take their defaults.

    Parameters
    ----------
    model : ToyModel
    path : str or os.PathLike
        Destination file (its folder must exist).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> m = from_weights(np.eye(2, 3))
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "m.npz"
    >>> save_model(m, f)
    >>> load_model(f).W.shape
    (1, 2, 3)
    """
    if not isinstance(model, ToyModel):
        raise TypeError(f"model must be a ToyModel; got {type(model).__name__}.")
    path = check_output_file(path, "path")
    meta = {
        "format": _FORMAT,
        "settings": model.settings.to_dict(),
        "distribution": model.distribution,
    }
    with open(path, "wb") as fh:
        np.savez(
            fh,
            W=model.W,
            b=model.b,
            importance=model.importance,
            feature_probability=model.feature_probability,
            loss_history=model.loss_history,
            seed_losses=model.seed_losses,
            seeds=np.asarray(model.seeds, dtype=np.int64),
            metadata=np.array(json.dumps(meta)),
        )


def load_model(path) -> ToyModel:
    """Load a ToyModel saved by :func:`save_model`, checking the file thoroughly.

    Raises
    ------
    ValueError
        If the file is not a csuper toy-model file, misses arrays, has inconsistent shapes or
        non-finite weights.

    Examples
    --------
    See :func:`save_model`.
    """
    path = check_input_file(path, "path")
    data = read_npz(path, "csuper toy-model file")
    required = (
        "W",
        "b",
        "importance",
        "feature_probability",
        "loss_history",
        "seed_losses",
        "seeds",
        "metadata",
    )
    missing = [k for k in required if k not in data]
    if missing:
        raise ValueError(f"{path} is not a csuper toy-model file: missing array(s) {missing}.")
    try:
        meta = json.loads(str(data["metadata"]))
        fmt = meta["format"]
        settings_dict = meta["settings"]
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"{path}: corrupt metadata ({exc}).") from None
    if fmt != _FORMAT:
        raise ValueError(f"{path}: unsupported format {fmt!r}; expected {_FORMAT!r}.")
    try:
        settings_dict["betas"] = tuple(settings_dict["betas"])
        settings = TrainSettings(**settings_dict)
    except (TypeError, ValueError, KeyError) as exc:
        raise ValueError(f"{path}: invalid training settings in metadata ({exc}).") from None
    W = data["W"]
    if W.ndim != 3:
        raise ValueError(
            f"{path}: W must be 3-D (instances, n_dims, n_features); got shape {W.shape}."
        )
    I, _m, n = W.shape
    expect = {"b": (I, n), "importance": (I, n), "feature_probability": (I, n), "seeds": (I,)}
    for k, shp in expect.items():
        if data[k].shape != shp:
            raise ValueError(
                f"{path}: {k} has shape {data[k].shape}, expected {shp} to match W {W.shape}."
            )
    for k in ("loss_history", "seed_losses"):
        if data[k].ndim != 2 or data[k].shape[0] != I:
            raise ValueError(f"{path}: {k} has shape {data[k].shape}, expected ({I}, any).")
    for k in ("W", "b"):
        if not np.all(np.isfinite(data[k])):
            raise ValueError(f"{path}: {k} contains non-finite values (NaN or inf).")
    return ToyModel(
        W=check_array(W, "W", dtype=settings.dtype),
        b=check_array(data["b"], "b", dtype=settings.dtype),
        importance=check_array(
            data["importance"], "importance", dtype=np.float64, nonnegative=True
        ),
        feature_probability=check_array(
            data["feature_probability"], "feature_probability", dtype=np.float64, finite=False
        ),
        settings=settings,
        loss_history=check_array(
            data["loss_history"], "loss_history", dtype=np.float64, finite=False, min_size=0
        ),
        seeds=np.asarray(data["seeds"], dtype=np.int64),
        seed_losses=check_array(
            data["seed_losses"], "seed_losses", dtype=np.float64, finite=False, min_size=0
        ),
        distribution=dict(meta.get("distribution", {})),
    )
