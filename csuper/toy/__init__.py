"""Toy models of superposition (Elhage et al. 2022): feature data, models, a fast numba trainer,
model metrics and plots.

>>> import csuper.toy as toy
>>> d = toy.feature_distribution(5, 0.1)
>>> model = toy.train(d, 2, settings=toy.TrainSettings(n_steps=200, batch_size=128), rng=0)
>>> model.W.shape
(1, 2, 5)
"""

from csuper.toy.data import *  # noqa: F403
from csuper.toy.data import __all__ as _data_all
from csuper.toy.metrics import *  # noqa: F403
from csuper.toy.metrics import __all__ as _metrics_all
from csuper.toy.plots import *  # noqa: F403
from csuper.toy.plots import __all__ as _plots_all
from csuper.toy.train import *  # noqa: F403
from csuper.toy.train import __all__ as _train_all

__all__ = [*_data_all, *_train_all, *_metrics_all, *_plots_all]
