"""Toy models of superposition (Elhage et al. 2022): feature data, models, a fast numba trainer,
model metrics, the interference price and plots.

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
from csuper.toy.model import *  # noqa: F403
from csuper.toy.model import __all__ as _model_all
from csuper.toy.plots import *  # noqa: F403
from csuper.toy.plots import __all__ as _plots_all
from csuper.toy.price import *  # noqa: F403
from csuper.toy.price import __all__ as _price_all
from csuper.toy.settings import *  # noqa: F403
from csuper.toy.settings import __all__ as _settings_all
from csuper.toy.train import *  # noqa: F403
from csuper.toy.train import __all__ as _train_all

__all__ = [
    *_data_all,
    *_settings_all,
    *_train_all,
    *_model_all,
    *_price_all,
    *_metrics_all,
    *_plots_all,
]
