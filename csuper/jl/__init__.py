"""Johnson–Lindenstrauss constructions, target-dimension bounds and measured distortion.

Superposition rests on R^m holding exponentially many nearly orthogonal directions; JL maps are
the constructive side of that fact and the random baselines against which learned feature frames
are judged.

- Constructions (:data:`CONSTRUCTIONS`, :func:`make_jl`): :class:`GaussianJL`,
  :class:`RademacherJL`, :class:`AchlioptasJL`, :class:`VerySparseJL`, :class:`SparseJL`
  (Kane–Nelson), :class:`SRHT` (fast JL on a numba :func:`fwht`), :class:`CountSketch`.
- Bounds (:data:`BOUNDS`, :func:`min_dim`, :func:`max_eps`): Dasgupta–Gupta (scikit-learn's),
  Achlioptas, Kane–Nelson, SRHT, CountSketch, and the Larsen–Nelson lower bound.
- Distortion: :func:`measure_distortion` (numba, streamed over pairs),
  :func:`distortion_experiment` and :func:`plot_min_dims`.
"""

from csuper.jl.bounds import (
    BOUNDS,
    SparseJLDims,
    achlioptas_min_dim,
    countsketch_min_dim,
    dasgupta_gupta_min_dim,
    kane_nelson_min_dim,
    larsen_nelson_lower_bound,
    max_eps,
    min_dim,
    srht_min_dim,
)
from csuper.jl.distortion import Distortion, measure_distortion
from csuper.jl.experiment import (
    POINT_SETS,
    DistortionExperiment,
    distortion_experiment,
    plot_min_dims,
)
from csuper.jl.transforms import (
    CONSTRUCTIONS,
    SRHT,
    AchlioptasJL,
    CountSketch,
    GaussianJL,
    JLTransform,
    RademacherJL,
    SparseJL,
    VerySparseJL,
    fwht,
    make_jl,
)

__all__ = [
    "BOUNDS",
    "CONSTRUCTIONS",
    "POINT_SETS",
    "SRHT",
    "AchlioptasJL",
    "CountSketch",
    "Distortion",
    "DistortionExperiment",
    "GaussianJL",
    "JLTransform",
    "RademacherJL",
    "SparseJL",
    "SparseJLDims",
    "VerySparseJL",
    "achlioptas_min_dim",
    "countsketch_min_dim",
    "dasgupta_gupta_min_dim",
    "distortion_experiment",
    "fwht",
    "kane_nelson_min_dim",
    "larsen_nelson_lower_bound",
    "make_jl",
    "max_eps",
    "measure_distortion",
    "min_dim",
    "plot_min_dims",
    "srht_min_dim",
]
