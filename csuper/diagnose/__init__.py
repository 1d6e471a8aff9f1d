"""Polysemanticity is not superposition: diagnostics that tell them apart.

A polysemantic neuron can come from superposition (more features than dimensions), but also from
a rotated basis with n <= m, from computation (x*y spread over neurons), or from non-linear and
compositional codes. Each test takes activations with known features (or weights), returns a
:class:`DiagnosticResult` (statistic, baseline, plain-language diagnosis) and is validated on a
construction whose answer is known (:data:`CONSTRUCTIONS`).

Modules (their ``__all__`` lists are re-exported here):

- :mod:`csuper.diagnose.results` -- the result object, confidence intervals.
- :mod:`csuper.diagnose.linear` -- linear recoverability and the linear budget.
- :mod:`csuper.diagnose.decoders`, :mod:`csuper.diagnose.ladder` -- the decoder ladder.
- :mod:`csuper.diagnose.basis` -- unmixing (ICA), the dimension budget, neuron alignment.
- :mod:`csuper.diagnose.scaling` -- decoded identity under h -> a h.
- :mod:`csuper.diagnose.compositional` -- the additive factorisation test.
- :mod:`csuper.diagnose.neurons` -- neuron-level views of privileged-basis models.
- :mod:`csuper.diagnose.models` -- the |x| computation model and Lecomte et al.'s tied L1
  autoencoder, with their trainers.
- :mod:`csuper.diagnose.pricing` -- the interference price's frontier and its verdicts.
- :mod:`csuper.diagnose.pricing_report` -- the frontier's report and figure
  (``csuper pricing``).
- :mod:`csuper.diagnose.constructions` -- constructions with known answers.
- :mod:`csuper.diagnose.report` -- all tests at once and a short report (``csuper diagnose``).
"""

from csuper.diagnose import (
    basis,
    compositional,
    constructions,
    decoders,
    ladder,
    linear,
    models,
    neurons,
    pricing,
    pricing_report,
    report,
    results,
    scaling,
)
from csuper.diagnose.basis import *  # noqa: F403
from csuper.diagnose.compositional import *  # noqa: F403
from csuper.diagnose.constructions import *  # noqa: F403
from csuper.diagnose.decoders import *  # noqa: F403
from csuper.diagnose.ladder import *  # noqa: F403
from csuper.diagnose.linear import *  # noqa: F403
from csuper.diagnose.models import *  # noqa: F403
from csuper.diagnose.neurons import *  # noqa: F403
from csuper.diagnose.pricing import *  # noqa: F403
from csuper.diagnose.pricing_report import *  # noqa: F403
from csuper.diagnose.report import *  # noqa: F403
from csuper.diagnose.results import *  # noqa: F403
from csuper.diagnose.scaling import *  # noqa: F403

__all__ = [
    *results.__all__,
    *linear.__all__,
    *decoders.__all__,
    *ladder.__all__,
    *basis.__all__,
    *scaling.__all__,
    *compositional.__all__,
    *neurons.__all__,
    *pricing.__all__,
    *pricing_report.__all__,
    *models.__all__,
    *constructions.__all__,
    *report.__all__,
]
