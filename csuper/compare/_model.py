"""The arrays of a toy model that compare/ reads, validated once (a ToyModel has no validation
of its own, and model-like objects with the same attributes are accepted)."""

from __future__ import annotations

from typing import Any

import numpy as np

from csuper._validation import check_array


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
