"""The lab: one self-contained interactive HTML page with views of superposition.

``csuper lab -o lab.html`` (or :func:`write_lab`) trains the models the page needs with
csuper's trainer, measures them with csuper's metrics, and embeds the numbers as JSON in a
single HTML file with hand-written JavaScript and SVG: no server, no CDN, no network.

1. Neurons against features as sparsity grows (privileged-basis toy model, n = 10, m = 5).
2. Interference between two unit features (closed forms, :func:`two_feature_interference`).
3. Packing n = 3..8 features into m = 2 dimensions: D_i and the polytopes csuper detects.
4. Sparse autoencoders (:mod:`csuper.sae`) reading the pentagon's features back from its
   2-D activations.

>>> from csuper.lab import two_feature_interference
>>> print(f"{two_feature_interference(60).squared_interference:.6f}")
0.250000
"""

from csuper.lab.correlation import *  # noqa: F403
from csuper.lab.correlation import __all__ as _correlation_all
from csuper.lab.interference import *  # noqa: F403
from csuper.lab.interference import __all__ as _interference_all
from csuper.lab.page import *  # noqa: F403
from csuper.lab.page import __all__ as _page_all
from csuper.lab.payload import *  # noqa: F403
from csuper.lab.payload import __all__ as _payload_all

__all__ = [*_interference_all, *_correlation_all, *_payload_all, *_page_all]
