"""Geometry of feature frames: interference and coherence, packing bounds, random-vector laws,
packings.

A frame is a matrix W of shape (m, n) whose columns w_i are feature directions in R^m.

Modules (their ``__all__`` lists are re-exported here):

- :mod:`csuper.geometry.overlaps` -- coherence, interference, mean squared overlap, frame
  potential and feature dimensionality, in one streamed pass that never forms the n x n Gram.
- :mod:`csuper.geometry.bounds` -- lower bounds on coherence (Welch, orthoplex, Levenstein, ...)
  and bounds on how many nearly orthogonal lines fit in R^m.
- :mod:`csuper.geometry.laws` -- the exact law of random inner products and the coherence of
  random frames.
- :mod:`csuper.geometry.packings` -- numerical search for Grassmannian packings and spherical codes.
- :mod:`csuper.geometry.frames` -- constructions of known optimal frames.
- :mod:`csuper.geometry.gram` -- :func:`gram_matrix`, the crash-free ``A.T @ B`` that every
  Gram-like product in csuper goes through (never BLAS syrk).
"""

from csuper.geometry import bounds, frames, gram, laws, overlaps, packings
from csuper.geometry.bounds import *  # noqa: F403
from csuper.geometry.frames import *  # noqa: F403
from csuper.geometry.gram import *  # noqa: F403
from csuper.geometry.laws import *  # noqa: F403
from csuper.geometry.overlaps import *  # noqa: F403
from csuper.geometry.packings import *  # noqa: F403

__all__ = [
    *overlaps.__all__,
    *bounds.__all__,
    *laws.__all__,
    *packings.__all__,
    *frames.__all__,
    *gram.__all__,
]
