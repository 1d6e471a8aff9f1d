"""The interference price's frontier: the legible reference against Monte Carlo, what a price
must do to a trained model (known answers), the verdict rules on frontiers whose answer is set
by hand, and bad input."""

import dataclasses

import numpy as np
import pytest

import csuper.toy as toy
from csuper.diagnose import (
    PRICING_CRITERIA,
    PricingFrontier,
    frontier_table,
    legible_loss,
    neuron_view,
    pricing_frontier,
    pricing_verdict,
)

FAST = toy.TrainSettings(n_steps=400, batch_size=256, lr=1e-2)


@pytest.mark.parametrize("p", [1.0, 0.3, 0.05])
def test_legible_loss_matches_monte_carlo(p):
    # the code the closed form describes: the m most important features on axes, bias 0, the
    # others dropped with bias E[x_i] = p / 2 (uniform magnitudes)
    n, m = 6, 2
    imp = 0.8 ** np.arange(n)[::-1]  # the most important are the last two
    W = np.zeros((m, n))
    W[0, n - 1] = W[1, n - 2] = 1.0
    b = np.where(np.linalg.norm(W, axis=0) > 0, 0.0, p / 2)
    X = toy.sample_features(toy.feature_distribution(n, p), 400_000, rng=0)
    mc = float(toy.toy_loss(W[None], b[None], X, imp[None])[0])
    assert legible_loss(imp, m, p) == pytest.approx(mc, rel=0.01)


def test_legible_loss_dense_limit_and_order():
    imp = 0.9 ** np.arange(8)
    assert legible_loss(imp, 3, 1.0) == pytest.approx(toy.dense_limit_loss(imp, 3), rel=1e-12)
    # sparser data cost less to drop; more dimensions drop fewer features
    assert legible_loss(imp, 3, 0.1) < legible_loss(imp, 3, 0.5)
    assert legible_loss(imp, 4, 0.5) < legible_loss(imp, 3, 0.5)


def test_a_large_plain_price_forces_an_orthogonal_code():
    # known answer: sum_{i != j} (w_i . w_j)^2 = 0 only for an orthogonal set, so at most m
    # represented features, each owning its dimension (a strong price may drop them all: then
    # the share is None, undefined); unpriced at S = 0.95 the model superposes
    f = pricing_frontier(
        8,
        2,
        sparsities=[0.95],
        prices=[0.0, 1.0],
        coactivation_weighted=False,
        settings=FAST,
        n_seeds=3,
        n_samples=2000,
        rng=1,
    )
    free = [r for r in f.rows if r["price"] == 0.0]
    priced = [r for r in f.rows if r["price"] == 1.0]
    assert all(r["represented"] > 2 for r in free)
    assert all(r["represented"] <= 2 for r in priced)
    assert all(r["dedicated_share"] in (None, 1.0) for r in priced)
    assert all(r["interference"] < 0.01 for r in priced)
    # the price is paired: same seeds, and the penalty it pays is (much) smaller
    assert [r["seed"] for r in free] == [r["seed"] for r in priced]
    for a, b in zip(free, priced, strict=True):
        assert b["plain_penalty"] < 0.01 * a["plain_penalty"]


def test_rows_are_reproduced_from_their_seeds_and_unpriced_runs_ignore_the_weighting():
    kw = dict(sparsities=[0.0, 0.9], prices=[0.0, 0.1], settings=FAST, n_seeds=2, n_samples=500)
    f = pricing_frontier(6, 2, rng=3, **kw)
    seeds = [r["seed"] for r in f.rows if r["price"] == 0.0]
    g = pricing_frontier(6, 2, seeds=seeds, coactivation_weighted=False, **kw)
    assert [r for r in f.rows if r["price"] == 0.0] == [r for r in g.rows if r["price"] == 0.0]
    # one row again alone, from its seed
    row = next(r for r in f.rows if r["price"] == 0.1 and r["sparsity"] == 0.9)
    one = pricing_frontier(
        6,
        2,
        sparsities=[0.9],
        prices=[0.0, 0.1],
        settings=FAST,
        n_seeds=1,
        n_samples=500,
        seeds=[row["seed"]],
    )
    again = next(r for r in one.rows if r["price"] == 0.1)
    assert {**again, "seed_index": row["seed_index"]} == row


def test_privileged_basis_rows_count_monosemantic_neurons():
    s = dataclasses.replace(FAST, model="hidden_relu")
    f = pricing_frontier(
        6, 3, sparsities=[0.0, 0.9], prices=[0.0, 1.0], settings=s, n_seeds=2, n_samples=500, rng=0
    )
    for r in f.rows:
        W = toy.train(
            toy.feature_distribution(6, 1.0 - r["sparsity"]),
            3,
            importance=0.9 ** np.arange(6),
            settings=dataclasses.replace(s, interference_price=r["price"]),
            seeds=[r["seed"]],
        ).W[0]
        v = neuron_view(W)
        live = v.monosemantic + v.polysemantic
        assert r["monosemantic_neuron_share"] == pytest.approx(v.monosemantic / live)
    table = frontier_table(f)
    assert all(len(e["monosemantic_neuron_share"]) == 3 for e in table)


def _frontier(cells, n_dims=2, n_seeds=4):
    """A frontier from (price, sparsity) -> (loss, dedicated share, represented) per seed."""
    rows = []
    for (price, s), (loss, share, rep) in cells.items():
        for k in range(n_seeds):
            jitter = 1e-3 * (k - 1.5)
            rows.append(
                {
                    "price": price,
                    "sparsity": s,
                    "seed_index": k,
                    "seed": k,
                    "loss": loss * (1 + jitter),
                    "dedicated_share": share,
                    "represented": rep,
                    "interference": 0.0,
                    "weighted_penalty": 0.0,
                    "plain_penalty": 0.0,
                }
            )
    sp = sorted({s for _, s in cells})
    setup = {"n_dims": n_dims, "coactivation_weighted": True}
    return PricingFrontier(rows=rows, legible_loss=dict.fromkeys(sp, 1.0), setup=setup)


def test_verdict_cheap_legibility_and_a_moved_transition():
    f = _frontier(
        {
            (0.0, 0.5): (1.0, 0.2, 2),
            (0.0, 0.9): (1.0, 0.0, 4),
            (0.1, 0.5): (1.02, 1.0, 2),  # +2% loss for +0.8 share: cheap
            (0.1, 0.9): (1.5, 1.0, 2),  # superposition gone at S = 0.9: transition moved
        }
    )
    legibility, transition = pricing_verdict(f)
    assert legibility.diagnosis == "a price buys legibility cheaply"
    assert legibility.statistic == pytest.approx(0.8)
    assert legibility.baseline == PRICING_CRITERIA["min_share_gain"]
    # both priced cells are fully legible; their losses against the legible reference (1.0)
    np.testing.assert_allclose(np.sort(legibility.details["legible_ratios"]), [1.02, 1.5])
    assert "1.02 to 1.50 times" in legibility.summary
    assert transition.diagnosis == "the price moves the phase transition"
    assert transition.details["unpriced"] == 0.9
    assert np.isnan(transition.details["moved"][0.1])


def test_verdict_costly_legibility_and_a_fixed_transition():
    f = _frontier(
        {
            (0.0, 0.5): (1.0, 0.2, 2),
            (0.0, 0.9): (1.0, 0.0, 4),
            (0.1, 0.5): (1.3, 1.0, 2),  # +30% loss: legibility, but not cheap
            (0.1, 0.9): (1.05, 0.1, 4),  # cheap, but no legibility gained
        }
    )
    legibility, transition = pricing_verdict(f)
    assert legibility.diagnosis == "no cheap legibility"
    assert legibility.statistic == pytest.approx(0.1)
    assert transition.diagnosis == "the phase transition does not move"
    assert transition.statistic == 0.0
    table = frontier_table(f)
    cell = next(e for e in table if e["price"] == 0.1 and e["sparsity"] == 0.5)
    assert cell["share_gain"][0] == pytest.approx(0.8)
    assert cell["relative_loss"][0] == pytest.approx(0.3, rel=1e-6)


def test_bad_input():
    with pytest.raises(ValueError, match="contain 0"):
        pricing_frontier(6, 2, prices=[0.1, 1.0])
    with pytest.raises(ValueError, match="prices"):
        pricing_frontier(6, 2, prices=[0.0, -1.0])
    with pytest.raises(ValueError, match="sparsities"):
        pricing_frontier(6, 2, sparsities=[1.0])
    with pytest.raises(ValueError, match="relu_output"):
        pricing_frontier(6, 2, settings=dataclasses.replace(FAST, model="linear"))
    with pytest.raises(ValueError, match="seeds"):
        pricing_frontier(6, 2, sparsities=[0.5], n_seeds=2, seeds=[1, 2, 3])
    with pytest.raises(ValueError, match="n_dims"):
        pricing_frontier(6, 6)
    with pytest.raises(TypeError, match="settings"):
        pricing_frontier(6, 2, settings={"n_steps": 10})
    with pytest.raises(TypeError, match="PricingFrontier"):
        frontier_table({"rows": []})
    with pytest.raises(ValueError, match="feature_probability"):
        legible_loss(np.ones(4), 2, 0.0)


def test_an_undefined_share_is_none_not_nan():
    # nightly fuzz finding: with nothing represented (three features, one dimension, 20 steps:
    # seed 1 of this grid keeps no feature above 0.5) the dedicated share was a silent NaN in
    # the rows; it is None now (undefined: arithmetic with it fails loudly; JSON null), and the
    # table counts it as 0 as documented
    s = toy.TrainSettings(n_steps=20, batch_size=16)
    f = pricing_frontier(
        3,
        1,
        sparsities=[0.5],
        prices=[0.0],
        importance=np.linspace(1.0, 0.5, 3),
        settings=s,
        n_seeds=2,
        n_samples=64,
        rng=0,
    )
    empty = [r for r in f.rows if r["represented"] == 0]
    assert empty, "the construction must leave a seed with nothing represented"
    assert all(r["dedicated_share"] is None for r in empty)
    assert all(isinstance(r["dedicated_share"], float) for r in f.rows if r["represented"])
    (cell,) = frontier_table(f)
    shares = [r["dedicated_share"] or 0.0 for r in f.rows]
    assert cell["dedicated_share"][0] == pytest.approx(np.mean(shares))
    assert np.isfinite(cell["dedicated_share"]).all()


@pytest.mark.parametrize("name", ["n_features", "n_seeds"])
def test_huge_sizes_meet_the_memory_budget_before_allocating(monkeypatch, name):
    # n_features=2**40 allocated the importance 0.9**arange(n) (8 TiB) and n_seeds=2**40 drew
    # the seeds (40 TiB) before the memory check: raw MemoryErrors found by the huge-int probe
    from csuper import MemoryBudgetError

    monkeypatch.setenv("CSUPER_MEMORY_BUDGET", "64MiB")
    args = {"n_features": 6, "n_dims": 2, "n_seeds": 2, name: 2**40}
    with pytest.raises(MemoryBudgetError, match="pricing_frontier"):
        pricing_frontier(**args, sparsities=[0.9], prices=[0.0], n_samples=8, rng=0)
