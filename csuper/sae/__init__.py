"""Sparse autoencoders on data with known features, their metrics, and the amortisation gap
against compressed-sensing inference with the same dictionary.

Modules (their ``__all__`` lists are re-exported here):

- :mod:`csuper.sae.data` -- ground-truth dictionaries and code laws (decaying, Zipf, fixed k,
  hierarchies), toy-model activations.
- :mod:`csuper.sae.train` -- ReLU + L1, TopK, BatchTopK and JumpReLU SAEs, many instances per
  call (numba), save and load.
- :mod:`csuper.sae.metrics` -- MMCS (over features and over atoms), decoder- and code-space MCC,
  recovery rate, dead latents, L0, FVU, shrinkage, absorption.
- :mod:`csuper.sae.inference` -- basis pursuit, LASSO, (F)ISTA with a given dictionary; the
  amortisation gap.
- :mod:`csuper.sae.sweep`, :mod:`csuper.sae.report` -- resumable sweeps (csuper.executor) and
  their report with verdicts (``csuper sae``).
"""

from csuper.sae.data import *  # noqa: F403
from csuper.sae.data import __all__ as _data_all
from csuper.sae.inference import *  # noqa: F403
from csuper.sae.inference import __all__ as _inference_all
from csuper.sae.metrics import *  # noqa: F403
from csuper.sae.metrics import __all__ as _metrics_all
from csuper.sae.report import CRITERIA, mean_ci
from csuper.sae.sweep import *  # noqa: F403
from csuper.sae.sweep import __all__ as _sweep_all
from csuper.sae.train import *  # noqa: F403
from csuper.sae.train import __all__ as _train_all

__all__ = [
    *_data_all,
    *_train_all,
    *_metrics_all,
    *_inference_all,
    *_sweep_all,
    "CRITERIA",
    "mean_ci",
]
