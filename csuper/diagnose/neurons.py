"""Neuron-level views of privileged-basis models: which features drive each neuron (weights and
activation correlations), and how many neurons are monosemantic or polysemantic.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from csuper._norms import unit_scaled
from csuper._validation import check_bool, check_real
from csuper.diagnose._inputs import check_activations, check_weights
from csuper.toy import neuron_polysemanticity

__all__ = ["NeuronView", "neuron_view"]


@dataclass(frozen=True)
class NeuronView:
    """Neurons of a privileged-basis model against the features.

    Attributes
    ----------
    weights : ndarray, shape (m, n)
        Neuron-feature weights, each neuron's row scaled so that its largest driving weight is 1
        (Elhage et al. 2022, footnote 15: a ReLU neuron's input and output weights trade scale).
    correlations : ndarray, shape (m, n) or None
        corr(h_k, x_i) over the samples, when activations were given.
    features_per_neuron : ndarray of int, shape (m,)
        Features driving each neuron with scaled weight > weight_threshold.
    monosemantic, polysemantic, dead : int
        Neurons driven by exactly one feature, by two or more, by none.
    """

    weights: np.ndarray
    correlations: np.ndarray | None
    features_per_neuron: np.ndarray
    monosemantic: int
    polysemantic: int
    dead: int

    @property
    def polysemantic_share(self) -> float:
        """Polysemantic neurons among the live ones (NaN when every neuron is dead)."""
        live = self.monosemantic + self.polysemantic
        return self.polysemantic / live if live else float("nan")


def neuron_view(
    W, H=None, X=None, *, signed: bool = False, weight_threshold: float = 0.5
) -> NeuronView:
    """Which features drive each neuron of a model with a privileged (ReLU) hidden basis.

    Parameters
    ----------
    W : array_like, shape (m, n)
        Input weights from features to neurons (``ToyModel.W`` of a ``hidden_relu`` model,
        ``AbsValueModel.W1``).
    H, X : array_like, shapes (N, m) and (N, n), optional
        Activations and features, for the neuron-feature correlations.
    signed : bool
        Inputs take both signs (the |x| model): a neuron is driven through |W_ki|. Otherwise
        (nonnegative inputs) only positive weights can drive a ReLU neuron.
    weight_threshold : float
        A feature drives a neuron when its scaled weight exceeds this (in (0, 1)).

    Returns
    -------
    NeuronView

    Notes
    -----
    Counting is :func:`csuper.toy.neuron_polysemanticity` applied to the scaled weights; a
    neuron whose largest driving weight is below 1e-3 of the largest in W is dead.

    Examples
    --------
    >>> v = neuron_view(np.array([[1.0, 0.0, 0.0], [0.7, 0.0, 1.2], [0.0, -1.0, 0.0]]))
    >>> v.features_per_neuron.tolist(), v.monosemantic, v.polysemantic, v.dead
    ([1, 2, 0], 1, 1, 1)
    """
    W = check_weights(W)
    signed = check_bool(signed, "signed")
    t = check_real(
        weight_threshold,
        "weight_threshold",
        low=0.0,
        high=1.0,
        low_inclusive=False,
        high_inclusive=False,
    )
    drive = np.abs(W) if signed else np.maximum(W, 0.0)
    top = drive.max(axis=1)
    alive = top > 1e-3 * max(float(top.max()), 1e-300)
    scaled = np.where(alive[:, None], W / np.where(alive, top, 1.0)[:, None], 0.0)
    stats = neuron_polysemanticity(np.abs(scaled) if signed else scaled, weight_threshold=t)
    count = np.where(alive, stats.features_per_neuron, 0)
    corr = None
    if (H is None) != (X is None):
        raise ValueError("H and X must be given together (activations and their features).")
    if H is not None and X is not None:
        H, X = check_activations(H, X, min_samples=2)
        # correlations are scale invariant: each column to a largest entry in [0.5, 1) first
        # (exact), so that 1e200 or 1e-200 activations neither overflow nor vanish
        H, X = unit_scaled(H, axis=0), unit_scaled(X, axis=0)
        Hc, Xc = H - H.mean(axis=0), X - X.mean(axis=0)
        nh, nx = np.linalg.norm(Hc, axis=0), np.linalg.norm(Xc, axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            corr = np.nan_to_num((Hc.T @ Xc) / np.outer(nh, nx))
    return NeuronView(
        weights=scaled,
        correlations=corr,
        features_per_neuron=count,
        monosemantic=int(np.sum(count == 1)),
        polysemantic=int(np.sum(count >= 2)),
        dead=int(np.sum(count == 0)),
    )
