"""Constructions with known answers: activations built so that each diagnostic's right answer
is known in advance. Every diagnostic is validated on them (tests/diagnose).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from csuper._validation import check_int, check_memory, check_real, check_rng
from csuper.toy import feature_distribution, sample_features

__all__ = [
    "Construction",
    "CONSTRUCTIONS",
    "COMPOSITIONAL_CODES",
    "make_construction",
    "rotation_code",
    "superposition_code",
    "antipodal_code",
    "incidental_code",
    "product_code",
    "magnitude_code",
    "compositional_code",
    "computation_code",
]


@dataclass(frozen=True, eq=False)
class Construction:
    """Activations with known features and the answers the diagnostics must give.

    Attributes
    ----------
    name : str
    H : ndarray, shape (N, m)
        Activations.
    X : ndarray, shape (N, n)
        The known features of the same samples.
    W : ndarray, shape (m, n) or None
        Feature directions (weights from features to neurons) when the construction has them.
    factors : ndarray of int, shape (N, 2) or None
        Factor levels (compositional codes).
    expected : dict
        Test name (:data:`csuper.diagnose.TESTS`) -> the diagnosis it must return.
    description : str
    feature_names : tuple of str
    """

    name: str
    H: np.ndarray
    X: np.ndarray
    W: np.ndarray | None
    factors: np.ndarray | None
    expected: dict
    description: str
    feature_names: tuple = field(default=())

    @property
    def n_features(self) -> int:
        return int(self.X.shape[1])

    @property
    def n_dims(self) -> int:
        return int(self.H.shape[1])


def _sampling(n_samples, feature_probability, rng, *, high: float = 1.0):
    """Validated sample count, feature probability in (0, high] and random generator."""
    N = check_int(n_samples, "n_samples", low=20)
    p = check_real(
        feature_probability, "feature_probability", low=0.0, high=high, low_inclusive=False
    )
    return N, p, check_rng(rng)


def _sparse_features(n: int, p: float, N: int, gen: np.random.Generator) -> np.ndarray:
    return sample_features(feature_distribution(n, p), N, rng=gen)[0]


def _haar_columns(m: int, n: int, gen: np.random.Generator) -> np.ndarray:
    """n orthonormal columns in R^m from the Haar measure (QR of a Gaussian, signs fixed)."""
    Q, R = np.linalg.qr(gen.standard_normal((m, n)))
    return Q * np.sign(np.diag(R))


def rotation_code(
    n_features: int = 6,
    n_dims: int = 10,
    *,
    n_samples: int = 1500,
    feature_probability: float = 0.3,
    rng=None,
) -> Construction:
    """A random rotation of n <= m sparse features: h = Q x with Q Haar-random orthonormal
    columns. Every neuron is polysemantic, yet there is no superposition: the code is linear and
    invertible, ICA unmixes it, the features' dimensionalities are all 1 and no basis is
    privileged.

    Examples
    --------
    >>> c = rotation_code(rng=0)
    >>> c.H.shape, c.expected["linear_recoverability"]
    ((1500, 10), 'linear code')
    """
    n = check_int(n_features, "n_features", low=2)
    m = check_int(n_dims, "n_dims", low=n)
    N, p, gen = _sampling(n_samples, feature_probability, rng, high=1.0)
    check_memory(
        8.0 * (N * (n + m) + 2 * m * n),
        f"rotation_code of n_features={n}, n_dims={m}, n_samples={N}",
        "smaller sizes",
    )
    X = _sparse_features(n, p, N, gen)
    Q = _haar_columns(m, n, gen)
    return Construction(
        name="rotation",
        H=X @ Q.T,
        X=X,
        W=Q,
        factors=None,
        expected={
            "linear_recoverability": "linear code",
            "decoder_ladder": "linear code",
            "unmixing": "rotated basis",
            "sae_unmixing": "rotated basis",
            "dimension_budget": "no superposition",
            "neuron_alignment": "no privileged basis",
            "scale_invariance": "scale-invariant",
        },
        description=f"{n} sparse features rotated into {m} dimensions by a Haar-random Q",
    )


def superposition_code(
    n_features: int = 16,
    n_dims: int = 8,
    *,
    n_samples: int = 1500,
    feature_probability: float = 0.05,
    rng=None,
) -> Construction:
    """n > m sparse nonnegative features on a random unit-norm frame: h = W x. The linear budget
    sum R^2 = m is shared by all features (superposition), more features are represented than
    there are dimensions, a square unmixing fails, and identities survive scaling (features are
    directions).

    Examples
    --------
    >>> superposition_code(rng=0).expected["dimension_budget"]
    'superposition'
    """
    n = check_int(n_features, "n_features", low=3)
    m = check_int(n_dims, "n_dims", low=2, high=n, high_inclusive=False)
    N, p, gen = _sampling(n_samples, feature_probability, rng, high=1.0)
    X = _sparse_features(n, p, N, gen)
    W = gen.standard_normal((m, n))
    W /= np.linalg.norm(W, axis=0)
    return Construction(
        name="superposition",
        H=X @ W.T,
        X=X,
        W=W,
        factors=None,
        expected={
            "linear_recoverability": "superposition",
            "unmixing": "superposition",
            "sae_unmixing": "superposition",
            "dimension_budget": "superposition",
            "neuron_alignment": "no privileged basis",
            "scale_invariance": "scale-invariant",
        },
        description=f"{n} sparse features (p = {p:g}) on a random unit-norm frame in {m} dims",
    )


def antipodal_code(
    *, n_samples: int = 1500, feature_probability: float = 0.2, rng=None
) -> Construction:
    """Superposition in its simplest form (Elhage et al. 2022): two features that never fire
    together share one dimension as an antipodal pair, h = x1 - x2.

    No linear read-out separates them (the linear budget, 1, is shared), yet the toy model's own
    read-out does exactly: x1 = ReLU(h), x2 = ReLU(-h).

    Examples
    --------
    >>> antipodal_code(rng=0).expected["decoder_ladder"]
    'ReLU-linear code'
    """
    N, p, gen = _sampling(n_samples, feature_probability, rng, high=0.5)
    d = feature_distribution(2, p, anticorrelated=((0, 1),))
    X = sample_features(d, N, rng=gen)[0]
    W = np.array([[1.0, -1.0]])
    return Construction(
        name="antipodal",
        H=X @ W.T,
        X=X,
        W=W,
        factors=None,
        expected={
            "linear_recoverability": "superposition",
            "decoder_ladder": "ReLU-linear code",
            "sae_unmixing": "superposition",
            "dimension_budget": "superposition",
            "scale_invariance": "scale-invariant",
        },
        description="two exclusive features as an antipodal pair on one dimension, h = x1 - x2",
    )


def incidental_code(
    n_features: int = 8,
    n_dims: int = 16,
    *,
    n_samples: int = 1500,
    feature_probability: float = 0.2,
    l1: float = 1e-3,
    n_steps: int = 7500,
    rng=None,
) -> Construction:
    """Incidental polysemanticity (Lecomte et al. 2023): a tied autoencoder y = ReLU(W^T W x)
    trained on one-hot inputs with L1 on W (n <= m), read on sparse features, h = W x.

    L1 aligns each feature with one neuron (a privileged basis), and no more features are
    represented than there are neurons; any polysemantic neuron carries an antipodal pair that
    met by chance at initialisation ("incidental superposition" when one exists).

    Examples
    --------
    >>> c = incidental_code(rng=0)
    >>> c.expected["neuron_alignment"]
    'privileged basis'
    """
    from csuper.diagnose.models import train_tied_autoencoder

    n = check_int(n_features, "n_features", low=2)
    m = check_int(n_dims, "n_dims", low=n)
    N, p, gen = _sampling(n_samples, feature_probability, rng, high=1.0)
    check_memory(
        8.0 * N * (n + m),
        f"incidental_code of n_features={n}, n_dims={m}, n_samples={N}",
        "smaller sizes",
    )
    ae = train_tied_autoencoder(n, m, l1=l1, n_steps=n_steps, rng=gen)
    W = ae.W[0]
    X = _sparse_features(n, p, N, gen)
    return Construction(
        name="incidental",
        H=X @ W.T,
        X=X,
        W=W,
        factors=None,
        expected={"neuron_alignment": "privileged basis", "scale_invariance": "scale-invariant"},
        description=f"tied L1 autoencoder, {n} one-hot features on {m} neurons (Lecomte et al.)",
    )


def product_code(*, n_samples: int = 1500, rng=None) -> Construction:
    """Computation without superposition: x, y ~ Uniform[-1, 1] on four ReLU neurons
    ReLU(x + y), ReLU(-x - y), ReLU(x - y), ReLU(y - x); the features are x, y and the product
    x*y.

    Every neuron mixes x and y (polysemantic), but n = 2 < m = 4: x and y are exact linear
    read-outs ((h1 - h2 + h3 - h4) / 2 = x), and x*y, 96% linear in the neurons (R^2 = 24/25,
    see :func:`csuper.diagnose.decoder_ladder`), needs a non-linear read-out.

    Examples
    --------
    >>> product_code(rng=0).feature_names
    ('x', 'y', 'x*y')
    """
    N = check_int(n_samples, "n_samples", low=20)
    check_memory(
        N * 9 * 8.0,
        f"product_code of n_samples={N} (N x 9 float64 values)",
        "a smaller n_samples",
    )
    u = check_rng(rng).uniform(-1.0, 1.0, (N, 2))
    W = np.array([[1.0, 1.0], [-1.0, -1.0], [1.0, -1.0], [-1.0, 1.0]])
    H = np.maximum(u @ W.T, 0.0)
    return Construction(
        name="product",
        H=H,
        X=np.column_stack([u, u[:, 0] * u[:, 1]]),
        W=None,
        factors=None,
        expected={"decoder_ladder": "non-linear code"},
        description="x, y and x*y on four ReLU neurons ReLU(+-(x + y)), ReLU(+-(x - y))",
        feature_names=("x", "y", "x*y"),
    )


def magnitude_code(
    n_features: int = 4, *, n_samples: int = 1500, feature_probability: float = 0.2, rng=None
) -> Construction:
    """A non-linear code in which magnitude carries identity: at most one of n binary features is
    on, and feature i is written as h = (i + 1) on a single neuron.

    Only a non-linear read-out (bins of h) decodes it, and scaling h changes the decoded
    identity: the scaling test's known failure.

    Examples
    --------
    >>> c = magnitude_code(rng=0)
    >>> sorted(np.unique(c.H).tolist())
    [0.0, 1.0, 2.0, 3.0, 4.0]
    """
    n = check_int(n_features, "n_features", low=2)
    N = check_int(n_samples, "n_samples", low=20)
    p = check_real(feature_probability, "feature_probability", low=0.0, high=1.0 / n)
    check_memory(
        8.0 * N * (n + 3), f"magnitude_code of n_features={n}, n_samples={N}", "smaller sizes"
    )
    gen = check_rng(rng)
    which = gen.choice(n + 1, size=N, p=[*([p] * n), 1.0 - n * p])
    X = np.zeros((N, n))
    on = which < n
    X[np.flatnonzero(on), which[on]] = 1.0
    H = (X @ np.arange(1.0, n + 1.0))[:, None]
    return Construction(
        name="magnitude",
        H=H,
        X=X,
        W=None,
        factors=None,
        expected={"decoder_ladder": "non-linear code", "scale_invariance": "magnitude-coded"},
        description=f"{n} exclusive binary features coded by magnitude h = i + 1 on one neuron",
    )


#: Codes of 4 shapes x 4 colours (Elhage et al. 2022, "Theories of neural coding", after
#: Thorpe 1989): name -> (neurons, whether the code is additive in shape and colour).
COMPOSITIONAL_CODES: dict[str, tuple[int, bool]] = {
    "local": (16, False),  # one neuron per item
    "decomposable": (8, True),  # four shape neurons + four colour neurons
    "binary": (4, True),  # the shape's two bits and the colour's two bits
    "binary_xor": (4, False),  # bits (s1 ^ c1, s2 ^ c2, s1 ^ c2, s2): dense and entangled
}


def compositional_code(kind: str = "decomposable", *, n_repeats: int = 4) -> Construction:
    """4 shapes x 4 colours coded by a local, a decomposable or a binary code.

    Parameters
    ----------
    kind : str
        Key of :data:`COMPOSITIONAL_CODES`.
    n_repeats : int
        Samples per item.

    Returns
    -------
    Construction
        X one-hot over the 16 items, ``factors`` the (shape, colour) of each sample.

    Examples
    --------
    >>> c = compositional_code("binary")
    >>> c.H.shape, c.expected["additivity"]
    ((64, 4), 'additive')
    """
    if not isinstance(kind, str) or kind not in COMPOSITIONAL_CODES:
        raise ValueError(f"kind must be one of {list(COMPOSITIONAL_CODES)}; got {kind!r}.")
    R = check_int(n_repeats, "n_repeats", low=1)
    check_memory(
        8.0 * 16 * R * 40, f"compositional_code of n_repeats={R} (16 items each)", "fewer repeats"
    )
    item = np.tile(np.arange(16), R)
    shape, colour = np.divmod(item, 4)
    s1, s2, c1, c2 = shape >> 1, shape & 1, colour >> 1, colour & 1
    if kind == "local":
        H = np.eye(16)[item]
    elif kind == "decomposable":
        H = np.hstack([np.eye(4)[shape], np.eye(4)[colour]])
    elif kind == "binary":
        H = np.column_stack([s1, s2, c1, c2])
    else:
        H = np.column_stack([s1 ^ c1, s2 ^ c2, s1 ^ c2, s2])
    neurons, additive = COMPOSITIONAL_CODES[kind]
    return Construction(
        name=f"compositional_{kind}",
        H=H.astype(float),
        X=np.eye(16)[item],
        W=None,
        factors=np.column_stack([shape, colour]),
        expected={"additivity": "additive" if additive else "non-additive"},
        description=f"4 shapes x 4 colours, {kind} code on {neurons} neurons",
    )


def computation_code(
    n_features: int = 3,
    n_dims: int = 6,
    *,
    feature_probability: float = 1.0,
    n_samples: int = 1500,
    n_steps: int = 4000,
    n_seeds: int = 4,
    rng=None,
) -> Construction:
    """Computation without superposition (Elhage et al. 2022, "Basic results"): the |x| model
    h = ReLU(W1 x), y = ReLU(W2 h + b) with m = 2 n neurons, trained on dense Uniform[-1, 1]
    features. Each feature gets a positive-side and a negative-side neuron: every neuron is
    monosemantic and the basis is privileged.

    Examples
    --------
    >>> c = computation_code(n_steps=300, n_seeds=1, rng=0)
    >>> c.W.shape
    (6, 3)
    """
    from csuper.diagnose.models import train_abs_value
    from csuper.toy import TrainSettings

    n = check_int(n_features, "n_features", low=1)
    m = check_int(n_dims, "n_dims", low=1)
    N, p, gen = _sampling(n_samples, feature_probability, rng, high=1.0)
    settings = TrainSettings(n_steps=check_int(n_steps, "n_steps", low=1), batch_size=512, lr=1e-2)
    model = train_abs_value(
        feature_distribution(n, p), m, settings=settings, n_seeds=n_seeds, rng=gen
    )
    X = _sparse_features(n, p, N, gen)
    X *= np.where(gen.random(X.shape) < 0.5, -1.0, 1.0)
    W1 = model.W1[0]
    return Construction(
        name="computation",
        H=np.maximum(X @ W1.T, 0.0),
        X=X,
        W=W1,
        factors=None,
        expected={"neuron_alignment": "privileged basis", "dimension_budget": "no superposition"},
        description=f"|x| model, {n} dense features on {m} ReLU neurons (two per feature)",
    )


#: Constructions with known answers (name -> builder taking ``rng=``).
CONSTRUCTIONS: dict = {
    "rotation": rotation_code,
    "superposition": superposition_code,
    "antipodal": antipodal_code,
    "incidental": incidental_code,
    "product": product_code,
    "magnitude": magnitude_code,
    "compositional_local": lambda rng=None: compositional_code("local"),
    "compositional_decomposable": lambda rng=None: compositional_code("decomposable"),
    "compositional_binary": lambda rng=None: compositional_code("binary"),
    "compositional_binary_xor": lambda rng=None: compositional_code("binary_xor"),
    "computation": computation_code,
}


def make_construction(name: str, *, rng=None) -> Construction:
    """Build the construction ``name`` (a key of :data:`CONSTRUCTIONS`) with its defaults.

    Examples
    --------
    >>> make_construction("product", rng=0).n_dims
    4
    """
    if not isinstance(name, str) or name not in CONSTRUCTIONS:
        raise ValueError(f"name must be one of {list(CONSTRUCTIONS)}; got {name!r}.")
    # checked here: the deterministic constructions ignore rng and would accept anything
    return CONSTRUCTIONS[name](rng=check_rng(rng))
