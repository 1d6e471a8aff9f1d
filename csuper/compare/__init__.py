"""Comparisons of learned toy-model weights with compressed sensing and capacity theory.

Modules (their ``__all__`` lists are re-exported here):

- :mod:`csuper.compare.scaling` -- represented features against m, k log(n/k) and the nonnegative
  l1 threshold (Amelunxen et al.'s approximation and a Monte Carlo of the exact finite-n value);
  the compressed-sensing capacity; fits of the scaling laws and their rivals.
- :mod:`csuper.compare.decoders` -- the decoder gap: the model's ReLU read-out against iterative
  and l1 decoders on the same measurements, and the learned W against random frames.
- :mod:`csuper.compare.capacity` -- capacities D_i = C_i of the ReLU toy model against the
  Lagrangian (KKT) allocation of a per-feature loss model, and null allocations.
- :mod:`csuper.compare.quadratic` -- the quadratic model of Scherlis et al., where the
  allocation is exact.
- :mod:`csuper.compare.transitions` -- sweeps of one feature's importance or frequency and the
  transitions they cross (bracketed and bisected), against the Lagrangian prediction.
"""

from csuper.compare import capacity, decoders, quadratic, scaling, transitions
from csuper.compare.capacity import *  # noqa: F403
from csuper.compare.decoders import *  # noqa: F403
from csuper.compare.quadratic import *  # noqa: F403
from csuper.compare.scaling import *  # noqa: F403
from csuper.compare.transitions import *  # noqa: F403

__all__ = [
    *scaling.__all__,
    *decoders.__all__,
    *capacity.__all__,
    *quadratic.__all__,
    *transitions.__all__,
]
