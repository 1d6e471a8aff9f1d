"""Builders of synthetic study records with known answers (no training)."""

import numpy as np
import pytest

from csuper.compare import nonnegative_threshold
from csuper.study.records import ModelRecord, ReplicateRecord


def make_replicate(n, m, *, recovered, represented=None, dstar=1.0, seed=0, **kw):
    rng = np.random.default_rng(seed)
    norms = np.where(
        np.arange(n) < (represented if represented is not None else recovered), 1.0, 0.0
    )
    base = dict(
        seed=seed,
        final_loss=0.01,
        norms=norms.tolist(),
        dimensionality=(norms * rng.uniform(0.2, 1.0, n)).tolist(),
        explained_variance=np.where(np.arange(n) < recovered, 0.9, 0.0).tolist(),
        represented=int(norms.sum()),
        recovered=int(recovered),
        dimensions_per_feature=float(dstar),
        mean_squared_overlap=None,
        welch=None,
        group_squared_cosine=None,
        group_cosine=None,
        capacity=None,
        decoders=[],
        W=None,
        b=None,
    )
    base.update(kw)
    return ReplicateRecord(**base)


def make_model(group, n, m, p, replicates, *, arm="constant", **kw):
    k = n * p
    base = dict(
        key=f"{group}-{arm}-{n}-{m}-{p}-{kw.get('variant', 'study')}-{kw.get('correlation', '')}",
        group=group,
        arm=arm,
        n_features=n,
        n_dims=m,
        feature_probability=p,
        k=k,
        importance=[1.0] * n,
        groups=[],
        correlation="independent",
        variant="study",
        settings={},
        threshold=float(nonnegative_threshold(float(n), k)),
        cs_capacity=m / float(nonnegative_threshold(1.0, p)),
        threshold_mc=None,
        threshold_mc_se=None,
        replicates=replicates,
        seconds=0.0,
    )
    base.update(kw)
    return ModelRecord(**base)


@pytest.fixture
def synthetic():
    """The builders, as a namespace."""

    class NS:
        replicate = staticmethod(make_replicate)
        model = staticmethod(make_model)

    return NS
