"""Comparisons of learned toy-model weights with compressed sensing and capacity theory.

Modules (their ``__all__`` lists are re-exported here):

- :mod:`csuper.compare.scaling` -- represented features against m, k log(n/k) and the exact
  nonnegative l1 threshold; the compressed-sensing capacity; fits of the scaling laws.
- :mod:`csuper.compare.decoders` -- the decoder gap: the model's ReLU read-out against l1
  recovery on the same measurements, and the learned W against Gaussian and packing frames.
- :mod:`csuper.compare.capacity` -- Scherlis et al.'s capacities, their quadratic model and the
  Lagrangian (KKT) allocation; a per-feature loss model for the ReLU toy model.
- :mod:`csuper.compare.transitions` -- sweeps of one feature's importance or frequency and the
  transitions they cross, against the Lagrangian prediction.
"""

from csuper.compare import capacity, decoders, scaling, transitions
from csuper.compare.capacity import *  # noqa: F403
from csuper.compare.decoders import *  # noqa: F403
from csuper.compare.scaling import *  # noqa: F403
from csuper.compare.transitions import *  # noqa: F403

__all__ = [*scaling.__all__, *decoders.__all__, *capacity.__all__, *transitions.__all__]
