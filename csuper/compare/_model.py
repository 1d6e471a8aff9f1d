"""The arrays of a toy model that compare/ reads, validated once (a ToyModel has no validation
of its own, and model-like objects with the same attributes are accepted)."""

from __future__ import annotations

from typing import Any

import numpy as np

from csuper._validation import check_array

#: Largest magnitude of an entry of W (and b) where compare/'s arithmetic is polynomial in W:
#: :func:`csuper.compare.decoder_gap` grows like the sixth power of the scale of W (the re-fitted
#: read-out's squared Adam gradients, of order (|W|^3 n m B)^2), which must stay finite in
#: float64 (up to 1e308; 1e100 overflowed the squared errors, |W^T W x|^2 of order 1e400, into
#: NaN); :func:`csuper.compare.quadratic_model_loss` is quartic in W.
MAX_WEIGHT = 1e30


def model_arrays(model: Any) -> tuple[np.ndarray, np.ndarray]:
    """``(W, feature_probability)`` of a :class:`csuper.toy.ToyModel` or an object with those
    attributes: W a finite real array of shape (n_instances, n_dims, n_features),
    feature_probability of shape (n_instances, n_features) with entries in [0, 1] or NaN
    (unknown, as for weights imported with ``from_weights``).

    Raises
    ------
    TypeError
        When an attribute is missing or not an array of real numbers (naming ``model.W`` or
        ``model.feature_probability``).
    ValueError
        On a ragged array, a wrong number of dimensions or shape, or values out of range.
    """
    W = getattr(model, "W", None)
    P = getattr(model, "feature_probability", None)
    if W is None or P is None:
        raise TypeError(
            "model must be a csuper.toy.ToyModel (or have its attributes W and "
            f"feature_probability); got {type(model).__name__}."
        )
    W = check_array(W, "model.W", ndim=3, dtype=np.float64)
    I, _, n = W.shape
    P = check_array(
        P,
        "model.feature_probability",
        shape=(I, n),
        dtype=np.float64,
        finite=False,  # NaN marks an unknown probability; inf is refused by the range
        low=0.0,
        high=1.0,
    )
    return W, P
