"""Pictures of toy models (matplotlib): 2-D feature geometry, the W^T W heatmap with feature
norms, and feature dimensionality against 1/(1 - S) with the sticky fractions marked.

Each function draws into ``ax`` (a new figure when None) and returns the matplotlib Axes.
"""

from __future__ import annotations

import numpy as np

from csuper._norms import norm2, unit_scaled
from csuper._validation import check_array, check_memory, check_real
from csuper.geometry import feature_dimensionality
from csuper.toy.metrics import STICKY_FRACTIONS, dimensions_per_feature

__all__ = ["plot_feature_geometry", "plot_gram", "plot_dimensionality"]


def _axes(ax, figsize=(4, 4)):
    if ax is not None:
        from matplotlib.axes import Axes

        if not isinstance(ax, Axes):
            raise TypeError(f"ax must be a matplotlib Axes or None; got {type(ax).__name__}.")
        return ax
    import matplotlib.pyplot as plt

    return plt.figure(figsize=figsize).add_subplot()


def _check_title(title):
    if title is not None and not isinstance(title, str):
        raise TypeError(f"title must be a str or None; got {type(title).__name__}.")
    return title


def plot_feature_geometry(W, *, importance=None, ax=None, title: str | None = None):
    """Draw the columns w_i of a W of shape (2, n) as arrows from the origin (the paper's
    polygon pictures), coloured by importance.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> ax = plot_feature_geometry(np.array([[1.0, -1.0, 0.0], [0.0, 0.0, 1.0]]))
    >>> len(ax.lines)
    3
    """
    W = check_array(W, "W", ndim=2, dtype=np.float64)
    title = _check_title(title)
    if W.shape[0] != 2:
        raise ValueError(f"plot_feature_geometry needs W with 2 rows (m = 2); got shape {W.shape}.")
    n = W.shape[1]
    imp = np.ones(n) if importance is None else check_array(importance, "importance", shape=(n,))
    ax = _axes(ax)
    import matplotlib.pyplot as plt

    cmap = plt.get_cmap("viridis")
    span = imp.max() - imp.min()
    for i in range(n):
        c = cmap(0.5 if span == 0 else (imp[i] - imp.min()) / span)
        ax.plot([0, W[0, i]], [0, W[1, i]], color=c, lw=2)
        ax.scatter([W[0, i]], [W[1, i]], color=c, s=20, zorder=3)
    lim = max(1.2, 1.1 * float(np.abs(W).max()))
    ax.set_xlim(-lim, lim)
    ax.set_ylim(-lim, lim)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=9)
    return ax


def plot_gram(W, *, ax=None, title: str | None = None):
    """Heatmap of W^T W (n x n, red/blue diverging) with the feature norms |w_i| as a bar column.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> ax = plot_gram(np.eye(2, 4))
    >>> ax.get_title()
    'W^T W and |w_i|'
    """
    W = check_array(W, "W", ndim=2, dtype=np.float64)
    title = _check_title(title)
    n = W.shape[1]
    check_memory(8.0 * n * n, f"plot_gram of an {n} x {n} Gram matrix", "use fewer features")
    gram = np.einsum("ki,kj->ij", W, W)  # small n; never a BLAS W.T @ W on wide W
    norms = norm2(W, axis=0)
    ax = _axes(ax, figsize=(5, 4))
    lim = max(1.0, float(np.abs(gram).max()))
    im = ax.imshow(gram, cmap="RdBu", vmin=-lim, vmax=lim)
    ax.barh(np.arange(n), -norms * n / 8, left=n + n / 8 + 0.5, color="k", height=0.8)
    ax.set_xlim(-0.5, n + n / 8 + 0.5)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(title or "W^T W and |w_i|", fontsize=9)
    ax.figure.colorbar(im, ax=ax, shrink=0.7)
    return ax


def plot_dimensionality(
    models_W, feature_probability, *, ax=None, represented_threshold: float = 0.5
):
    """Feature dimensionality D_i of every represented feature against 1/(1 - S) = 1/p (log x),
    with D* = m / ||W||_F^2 as a line and the sticky fractions 1, 3/4, 2/3, 1/2, 2/5, 3/8 marked.

    Parameters
    ----------
    models_W : array_like, shape (I, m, n)
        One W per sparsity.
    feature_probability : array_like, shape (I,)
        p of each instance.
    ax : matplotlib Axes, optional
    represented_threshold : float
        Only features with |w_i| > represented_threshold are drawn.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> W = np.stack([np.eye(2, 4), np.array([[1.0, -1, 0, 0], [0, 0, 1, -1]])])
    >>> ax = plot_dimensionality(W, [1.0, 0.1])
    >>> ax.get_xscale()
    'log'
    """
    Ws = check_array(models_W, "models_W", ndim=3, dtype=np.float64)
    p = check_array(feature_probability, "feature_probability", ndim=1, shape=(Ws.shape[0],))
    if np.any(p <= 0) or np.any(p > 1):
        raise ValueError("feature_probability must lie in (0, 1] to plot against 1/(1 - S).")
    t = check_real(represented_threshold, "represented_threshold", low=0.0)
    ax = _axes(ax, figsize=(6, 4))
    x = 1.0 / p
    dstar = []
    for r in range(Ws.shape[0]):
        D = feature_dimensionality(unit_scaled(Ws[r]))  # scale invariant; no overflow warning
        rep = norm2(Ws[r], axis=0) > t
        jitter = np.exp(0.03 * np.linspace(-1, 1, int(rep.sum())))
        ax.scatter(x[r] * jitter, D[rep], s=8, alpha=0.5, color="tab:blue")
        dstar.append(dimensions_per_feature(Ws[r]) if np.any(Ws[r]) else np.nan)
    order = np.argsort(x)
    ax.plot(x[order], np.asarray(dstar)[order], color="k", lw=1.5, label="D* = m / ||W||_F^2")
    for name, frac in STICKY_FRACTIONS.items():
        ax.axhline(frac, color="grey", lw=0.5, ls="--")
        ax.text(x.max() * 1.05, frac, name, fontsize=7, va="center")
    ax.set_xscale("log")
    ax.set_xlabel("1 / (1 - S)")
    ax.set_ylabel("dimensions per feature")
    ax.set_ylim(0, 1.1)
    ax.legend(fontsize=8, loc="lower left")
    return ax
