"""SAE trainer: closed-form gradients against finite differences on every route, the numba kernel
against a plain numpy trainer, determinism, save/load and bad input."""

import warnings

import numpy as np
import pytest

from csuper.sae import (
    ARCHITECTURES,
    SAESettings,
    SparseAutoencoder,
    code_law,
    ground_truth_dictionary,
    load_sae,
    make_data,
    mmcs_features,
    save_sae,
    train_sae,
)
from csuper.sae import _sae_kernels as K
from csuper.sae.train import _initial_state
from tests.sae import reference as ref

L, M, B = 6, 4, 12


def _setup(seed=0, arch=0):
    rng = np.random.default_rng(seed)
    X = np.abs(rng.standard_normal((B, M))) + 0.1
    P = rng.standard_normal(2 * L * M + 2 * L + M) * 0.5
    P[-L:] = np.log(0.05 + 0.3 * rng.random(L))  # JumpReLU thresholds
    return X, P


def _kernel_loss(P, X, arch, coef, k, weighted, dead, aux_coef, route=-1):
    G = np.zeros_like(P)
    F = np.zeros((X.shape[0], L))
    sel = np.zeros((X.shape[0], L), dtype=bool)
    loss = K.loss_grad(P, G, X, arch, L, coef, k, weighted, 3, aux_coef, dead, 1e-3, F, sel, route)
    return loss, G


ROUTES = [
    ("relu_l1 projected", 0, 0.3, 1, False, None),
    ("relu_l1 norm-weighted", 0, 0.3, 1, True, None),
    ("topk", 1, 0.0, 2, False, None),
    ("topk + AuxK", 1, 0.0, 2, False, np.array([0, 0, 1, 1, 1, 0], dtype=bool)),
    ("batchtopk", 2, 0.0, 2, False, None),
    ("batchtopk + AuxK", 2, 0.0, 2, False, np.array([1, 0, 1, 0, 1, 0], dtype=bool)),
    ("jumprelu", 3, 0.2, 1, False, None),
]


def _aux_frozen(P, X, k, dead, E0, aux_k=3, aux_coef=0.5):
    """AuxK term with the residual e held at E0 (Gao et al.'s stop-gradient), in numpy."""
    We, be, Wd, bd, _lt = ref.unpack(P, L, M)
    pre = (X - bd) @ We.T + be
    pd = np.where(dead[None, :], pre, -np.inf)
    idx = np.argsort(pd, axis=1)[:, -min(aux_k, int(dead.sum())) :]
    sa = np.zeros(pre.shape, dtype=bool)
    np.put_along_axis(sa, idx, True, axis=1)
    Z = np.where(sa & (pre > 0), pre, 0.0)
    return aux_coef * ((Z @ Wd.T - E0) ** 2).sum() / X.shape[0]


@pytest.mark.kernels
@pytest.mark.parametrize("route", [0, 1], ids=["BLAS products", "loops over active codes"])
@pytest.mark.parametrize("name, arch, coef, k, weighted, dead", ROUTES, ids=[r[0] for r in ROUTES])
def test_gradient_matches_finite_differences(name, arch, coef, k, weighted, dead, route):
    X, P = _setup(1, arch)
    aux = dead is not None
    dead = np.zeros(L, dtype=bool) if dead is None else dead
    loss, G = _kernel_loss(P, X, arch, coef, k, weighted, dead, 0.5, route)
    E0 = X - ref.forward(P, X, arch, L, k)[3]

    def f(Q):
        if not aux:
            return _kernel_loss(Q, X, arch, coef, k, weighted, dead, 0.5, route)[0]
        return _kernel_loss(Q, X, arch, coef, k, weighted, dead, 0.0, route)[0] + _aux_frozen(
            Q, X, k, dead, E0
        )

    assert f(P) == pytest.approx(loss, rel=1e-12)
    h = 1e-6
    n_checked = 0
    for q in range(P.size - L):  # log-thresholds: piecewise constant loss, see the STE test
        e = np.zeros_like(P)
        e[q] = h
        fd = (f(P + e) - f(P - e)) / (2 * h)
        assert G[q] == pytest.approx(fd, rel=1e-5, abs=1e-7), (name, q)
        n_checked += 1
    assert n_checked == P.size - L
    assert np.all(G[-L:] == 0) or arch == 3


@pytest.mark.kernels
@pytest.mark.parametrize("route", [0, 1], ids=["BLAS products", "loops over active codes"])
@pytest.mark.parametrize("name, arch, coef, k, weighted, dead", ROUTES, ids=[r[0] for r in ROUTES])
def test_kernel_gradient_matches_numpy_reference(name, arch, coef, k, weighted, dead, route):
    X, P = _setup(2, arch)
    dead = np.zeros(L, dtype=bool) if dead is None else dead
    loss, G = _kernel_loss(P, X, arch, coef, k, weighted, dead, 0.5, route)
    rloss, rG = ref.loss_and_grad(
        P, X, arch, L, coef=coef, k=k, weighted=weighted, aux_k=3, aux_coef=0.5, dead=dead
    )
    assert loss == pytest.approx(rloss, rel=1e-12)
    np.testing.assert_allclose(G, rG, rtol=1e-10, atol=1e-12)


@pytest.mark.kernels
def test_jumprelu_pseudo_gradient_is_the_rectangle_kernel_estimator():
    # Rajamanoharan et al. 2024, eqs. 11-12: d/dtheta of f = -(theta/eps) K((z - theta)/eps) and of
    # H(z - theta) = -(1/eps) K((z - theta)/eps); only pre-activations within eps/2 of theta count.
    X, P2 = _setup(3)
    eps = 1e-3
    We, be, Wd, bd, _lt = ref.unpack(P2, L, M)  # views: edits below change P2
    be += 2.0 + np.abs((X - bd) @ We.T).max()  # every pre-activation positive
    pre = (X - bd) @ We.T + be
    lt_new = np.log(pre[0, :] - 0.2 * eps)  # put one pre-activation per latent inside the window
    P2[-L:] = lt_new
    _, G = _kernel_loss(P2, X, 3, 0.2, 1, False, np.zeros(L, dtype=bool), 0.0, 1)
    _, G0 = _kernel_loss(P2, X, 3, 0.2, 1, False, np.zeros(L, dtype=bool), 0.0, 0)
    np.testing.assert_allclose(G, G0, rtol=1e-12)
    theta = np.exp(lt_new)
    dF = (2 * ((np.where(pre > theta, pre, 0) @ Wd.T + bd) - X) / B) @ Wd
    inside = np.abs(pre - theta) < eps / 2
    assert inside[0].all()
    expect = (inside * (-dF * theta / eps - 0.2 / (B * eps))).sum(0) * theta
    np.testing.assert_allclose(G[-L:], expect, rtol=1e-9)


@pytest.mark.kernels
@pytest.mark.parametrize("arch", sorted(ARCHITECTURES))
def test_training_matches_numpy_reference_for_a_few_steps(arch):
    rng = np.random.default_rng(4)
    X = np.abs(rng.standard_normal((40, M)))
    code = ARCHITECTURES[arch]["code"]
    knob = {"k": 2} if ARCHITECTURES[arch]["knob"] == "k" else {"sparsity_coefficient": 0.05}
    settings = SAESettings(n_steps=5, batch_size=8, lr=1e-2, bias_init="mean", aux_coefficient=0.0)
    sae = train_sae(X, L, arch, settings=settings, seeds=[123], **knob)
    P0, state = _initial_state(123, X, L, arch, settings, X.mean(axis=0))
    P = ref.train(
        P0,
        X,
        state,
        code,
        L,
        5,
        8,
        1e-2,
        coef=knob.get("sparsity_coefficient", 0.0),
        k=knob.get("k", 1),
    )
    We, be, Wd, bd, lt = ref.unpack(P, L, M)
    np.testing.assert_allclose(sae.W_enc[0], We, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(sae.b_enc[0], be, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(sae.W_dec[0], Wd, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(sae.b_dec[0], bd, rtol=1e-9, atol=1e-12)
    if arch == "jumprelu":
        np.testing.assert_allclose(sae.threshold[0], np.exp(lt), rtol=1e-9)


def _small_data(seed=0, n=6, m=8, n_samples=512):
    F = ground_truth_dictionary("orthogonal", n, m, rng=seed)
    return make_data(F, code_law(n, 1.5), n_samples, rng=seed + 1)


@pytest.mark.kernels
def test_parallel_equals_serial_and_seeds_reproduce():
    d = _small_data()
    s = SAESettings(n_steps=60, batch_size=32)
    a = train_sae(
        d.X, 8, sparsity_coefficient=[0.01, 0.1], n_seeds=2, settings=s, rng=5, parallel=True
    )
    b = train_sae(
        d.X, 8, sparsity_coefficient=[0.01, 0.1], n_seeds=2, settings=s, rng=5, parallel=False
    )
    assert np.array_equal(a.W_dec, b.W_dec) and np.array_equal(a.loss_history, b.loss_history)
    one = train_sae(d.X, 8, sparsity_coefficient=0.1, settings=s, seeds=[int(a.seeds[3])])
    assert np.array_equal(one.W_dec[0], a.W_dec[3])
    assert a.sparsity_coefficient.tolist() == [0.01, 0.01, 0.1, 0.1]


@pytest.mark.parametrize("scale", [1e200, 1e-200])
def test_given_decoder_at_extreme_scales_is_normalised(scale):
    # decoder columns are normalised at the start: 1e-200 columns were refused as zero columns
    # and 1e200 ones became 0 (numpy's norm squared first)
    d = _small_data()
    dec = np.random.default_rng(3).standard_normal((d.X.shape[1], 8))
    s = SAESettings(n_steps=20, batch_size=16)
    ref = train_sae(d.X, 8, sparsity_coefficient=0.1, settings=s, seeds=[7], decoder=dec)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = train_sae(
            d.X, 8, sparsity_coefficient=0.1, settings=s, seeds=[7], decoder=dec * scale
        )
    np.testing.assert_allclose(got.W_dec, ref.W_dec, rtol=1e-9, atol=1e-12)


def test_decoder_stays_unit_norm_and_loss_decreases():
    d = _small_data()
    sae = train_sae(
        d.X, 8, "topk", k=2, settings=SAESettings(n_steps=400, batch_size=64, lr=3e-3), rng=0
    )
    np.testing.assert_allclose(np.linalg.norm(sae.W_dec[0], axis=0), 1.0, rtol=1e-12)
    h = sae.loss_history[0]
    assert h[-50:].mean() < 0.5 * h[:10].mean()


def test_relu_l1_recovers_orthogonal_features():
    # 6 orthogonal features in R^8, 1.5 active on average: an easy dictionary-learning problem
    d = _small_data(n_samples=2048)
    sae = train_sae(
        d.X,
        6,
        sparsity_coefficient=0.02,
        settings=SAESettings(n_steps=3000, batch_size=128, lr=5e-3),
        rng=1,
    )
    assert mmcs_features(d.dictionary, sae.W_dec[0]) > 0.97


@pytest.mark.kernels
def test_resampling_sets_dead_atoms_to_centred_inputs():
    rng = np.random.default_rng(6)
    X = rng.random((30, M))
    P, state = _initial_state(9, X, L, "relu_l1", SAESettings(), X.mean(axis=0))
    Mo = np.ones_like(P)
    V = np.ones_like(P)
    dead = np.array([1, 0, 0, 1, 0, 0], dtype=bool)
    with np.errstate(over="ignore"):
        K._resample(P, Mo, V, X, state, L, dead, 16)
    _We, be, Wd, bd, _lt = ref.unpack(P, L, M)
    C = X - bd
    C = C / np.linalg.norm(C, axis=1, keepdims=True)
    for j in np.flatnonzero(dead):
        assert np.min(np.linalg.norm(C - Wd[:, j], axis=1)) < 1e-12  # some centred input
        assert be[j] == 0.0
    assert Mo[L * M + 0] == 0.0 and Mo[L * M + 1] == 1.0  # Adam moments reset for dead only


def test_resampling_revives_dead_latents():
    d = _small_data(n_samples=1024)
    s = dict(n_steps=1200, batch_size=64, lr=5e-3)
    base = train_sae(d.X, 24, sparsity_coefficient=0.3, settings=SAESettings(**s), seeds=[3])
    res = train_sae(
        d.X, 24, sparsity_coefficient=0.3, settings=SAESettings(resample_every=200, **s), seeds=[3]
    )
    dead = [int((~np.any(x.encode(d.X)[0] > 0, axis=0)).sum()) for x in (base, res)]
    assert dead[0] > 0 and dead[1] <= dead[0]


def test_batchtopk_threshold_gives_about_k_active_at_inference():
    d = _small_data(n_samples=2048)
    sae = train_sae(
        d.X,
        12,
        "batchtopk",
        k=2,
        settings=SAESettings(n_steps=1500, batch_size=128, lr=3e-3),
        rng=0,
    )
    active = (sae.encode(d.X)[0] > 0).sum(axis=1).mean()
    assert 1.0 < active < 3.0


def test_save_load_roundtrip_and_corrupt_files(tmp_path):
    d = _small_data()
    sae = train_sae(
        d.X,
        5,
        "jumprelu",
        sparsity_coefficient=[0.01, 0.1],
        settings=SAESettings(n_steps=20, batch_size=16),
        rng=0,
    )
    f = tmp_path / "sae.npz"
    sae.save(f)
    back = load_sae(f)
    for name in (
        "W_enc",
        "b_enc",
        "W_dec",
        "b_dec",
        "threshold",
        "sparsity_coefficient",
        "k",
        "seeds",
        "loss_history",
    ):
        assert np.array_equal(getattr(back, name), getattr(sae, name))
    assert back.settings == sae.settings and back.architecture == "jumprelu"
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="not a readable csuper SAE file"):
        load_sae(tmp_path / "bad.npz")
    np.savez(tmp_path / "other.npz", W=np.ones(3))
    with pytest.raises(ValueError, match="missing array"):
        load_sae(tmp_path / "other.npz")
    with pytest.raises(TypeError, match="SparseAutoencoder"):
        save_sae("x", f)


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        (
            dict(width=0, sparsity_coefficient=0.1),
            ValueError,
            r"width must be an integer in \[1, inf\); got 0",
        ),
        (
            dict(width=4, sparsity_coefficient=-0.1),
            ValueError,
            "sparsity_coefficient must be nonnegative",
        ),
        (
            dict(width=4, architecture="topk", k=5),
            ValueError,
            r"k must be an integer in \[1, 4\]; got 5",
        ),
        (dict(width=4, architecture="topk", k=0), ValueError, r"k must be an integer in \[1, 4\]"),
        (dict(width=4, architecture="topk"), ValueError, "needs k"),
        (dict(width=4), ValueError, "needs sparsity_coefficient"),
        (dict(width=4, architecture="topk", k=1, sparsity_coefficient=0.1), ValueError, "takes k"),
        (
            dict(width=4, architecture="gated", sparsity_coefficient=0.1),
            ValueError,
            "architecture must be one of",
        ),
        (dict(width=4.0, sparsity_coefficient=0.1), TypeError, "width must be an integer"),
        # nightly fuzz: a ragged knob reached np.atleast_1d / np.asarray (numpy's own text)
        (
            dict(width=4, sparsity_coefficient=[[1.0, 2.0], [3.0]]),
            ValueError,
            "sparsity_coefficient must be a rectangular array",
        ),
        (dict(width=4, architecture="topk", k=[[1, 2], [3]]), TypeError, "k must be an integer"),
        (dict(width=4, architecture=["relu_l1"]), ValueError, "architecture must be one of"),
        (
            dict(width=4, sparsity_coefficient=0.1, settings="fast"),
            TypeError,
            "settings must be an SAESettings",
        ),
        (
            dict(width=4, architecture="topk", k=1, settings=SAESettings(decoder="penalise")),
            ValueError,
            "applies to architecture 'relu_l1' only",
        ),
    ],
)
def test_bad_input_is_reported_clearly(kwargs, exc, match):
    X = np.ones((10, 3))
    width = kwargs.pop("width")
    with pytest.raises(exc, match=match):
        train_sae(X, width, **kwargs)


def test_bad_data_and_settings():
    with pytest.raises(ValueError, match="X must be a 2-D array"):
        train_sae(np.ones(5), 2, sparsity_coefficient=0.1)
    with pytest.raises(ValueError, match="finite"):
        train_sae(np.array([[np.nan, 1.0]]), 2, sparsity_coefficient=0.1)
    with pytest.raises(ValueError, match="n_steps must be an integer"):
        SAESettings(n_steps=0)
    with pytest.raises(ValueError, match="decoder must be"):
        SAESettings(decoder="free")
    sae = train_sae(
        np.ones((10, 3)), 2, sparsity_coefficient=0.1, settings=SAESettings(n_steps=2), rng=0
    )
    assert isinstance(sae, SparseAutoencoder)
    with pytest.raises(ValueError, match="X must have n_dims=3 columns"):
        sae.encode(np.ones((4, 2)))
    with pytest.raises(ValueError, match="codes must have shape"):
        sae.decode(np.ones((1, 4, 3)))


# ---------------------------------------------------------------------------------------------
# Regressions of the fuzz suite's findings (tests/test_fuzz.py: KNOWN/PINNED_FAILURES, nightly)


def test_sae_files_and_settings_refuse_bad_arguments(tmp_path):
    from csuper.sae import load_sae, save_sae

    sae = train_sae(
        np.random.default_rng(0).random((16, 3)),
        2,
        sparsity_coefficient=0.1,
        settings=SAESettings(n_steps=2, batch_size=4),
        rng=0,
    )
    with pytest.raises(TypeError, match="path must be a path"):
        save_sae(sae, b"out")
    with pytest.raises(ValueError, match="is a folder"):
        save_sae(sae, tmp_path)
    with pytest.raises(TypeError, match="path must be a path"):
        load_sae(1.5)
    with pytest.raises(TypeError, match="betas must be a pair"):
        SAESettings(betas=None)


@pytest.mark.parametrize("scale", [1e-300, 1e300])
def test_geometric_median_is_scale_equivariant(scale):
    """median(c X) = c median(X) even where |x_i - b| would overflow or underflow (formerly
    NaN). Reference: the Fermat point of the triangle (1, -1), (1, 1), (-1, 0) is
    (1 - 1/sqrt(3), 0) (each side seen under 120 degrees)."""
    from csuper.sae import geometric_median

    X = np.array([[1.0, -1.0], [1.0, 1.0], [-1.0, 0.0]])
    got = geometric_median(scale * X) / scale
    np.testing.assert_allclose(got, [1 - 1 / np.sqrt(3), 0.0], atol=1e-8)
