"""Geometry of feature frames: interference and coherence, packing bounds, random-vector laws,
packings.

A frame is a matrix W of shape (m, n) whose columns w_i are feature directions in R^m.
"""

# Each module's public names are re-exported here; its own ``__all__`` is the list.
