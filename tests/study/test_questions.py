"""The questions' rules on synthetic records with known answers: each verdict is reached when,
and only when, the declared rule says so."""

import numpy as np
import pytest

from csuper.study import QUESTIONS, StudyConfig
from csuper.study.questions import (
    MONOSEMANTIC_ABOVE,
    Q2_MIN_GAP,
    Q4_FACTOR,
    Q8_TOLERANCE,
    answer_questions,
)
from csuper.study.records import (
    CapacityRecord,
    DecoderRecord,
    LocatedRecord,
    QuadraticCase,
    QuadraticRecord,
    TransitionRecord,
)

CFG = StudyConfig(n_bootstrap=200)


def _answer(qid, records):
    q = QUESTIONS[qid]
    ctx = {
        "n_bootstrap": CFG.n_bootstrap,
        "confidence": CFG.confidence,
        "rng": np.random.default_rng(0),
    }
    return q.analyse(q, qid, records, CFG, ctx)


def _scaling(synthetic, count):
    rng = np.random.default_rng(3)
    models = []
    for arm in ("constant", "decaying"):
        for n in (50, 100, 200, 400):
            for m in (5, 10):
                for k in (1.0, 4.0):
                    mdl = synthetic.model("scaling", n, m, k / n, [], arm=arm)
                    reps = [
                        synthetic.replicate(
                            n,
                            m,
                            recovered=int(np.clip(round(count(mdl) + rng.normal(0, 1.0)), 0, n)),
                            seed=s,
                        )
                        for s in range(3)
                    ]
                    models.append(synthetic.model("scaling", n, m, k / n, reps, arm=arm))
    return models


def test_q1_compressed_sensing_counts_are_supported(synthetic):
    res = _answer("Q1", _scaling(synthetic, lambda mdl: min(mdl.n_features, 0.5 * mdl.cs_capacity)))
    assert res.status == "supported", res.sentence
    assert res.numbers["constant_coefficient"].low < 0.5 < res.numbers["constant_coefficient"].high
    assert res.numbers["constant_margin"].low > 2


def test_q1_counts_proportional_to_m_are_not_supported(synthetic):
    res = _answer("Q1", _scaling(synthetic, lambda mdl: 2.0 * mdl.n_dims))
    assert res.status == "not supported", res.sentence
    assert res.numbers["constant_margin"].high < 0
    assert "dimensions" in res.sentence


def test_q1_without_models_is_not_run():
    assert _answer("Q1", []).status == "not run"


def _decoders(relu, nnbp):
    return [
        DecoderRecord(
            arm,
            d,
            v,
            0.01,
            0.0 if d != "nnbp" else 0.5,
            0.01,
            100,
            0,
            [{"active": 1, "n_samples": 100, "exact_rate": 0.5}],
        )
        for arm, names in (
            ("noiseless", ("relu", "relu_refit", "gaussian_relu", "ista", "nnbp")),
            ("represented", ("nnbp", "nnbp_gaussian")),
            ("noisy", ("relu", "ista", "lasso")),
        )
        for d in names
        for v in [relu if d in ("relu", "relu_refit") else nnbp if d == "nnbp" else 0.6]
    ]


@pytest.mark.parametrize(
    "relu, nnbp, m, status",
    [
        (0.5, 0.1, 20, "supported"),
        (0.1 + Q2_MIN_GAP / 2, 0.1, 20, "not supported"),
        (0.5, 0.1, 2, "inconclusive"),  # below the l1 threshold: the rule does not apply
    ],
)
def test_q2_rule(synthetic, relu, nnbp, m, status):
    models = [
        synthetic.model(
            "scaling",
            40,
            m,
            0.05,
            [
                synthetic.replicate(
                    40, m, recovered=10, seed=s, decoders=_decoders(relu + 0.01 * s, nnbp)
                )
                for s in range(3)
            ],
        )
    ]
    assert models[0].threshold < 20
    res = _answer("Q2", models)
    assert res.status == status, res.sentence


@pytest.mark.parametrize("lagrangian, status", [(0.05, "supported"), (0.2, "not supported")])
def test_q3_rule_and_quadratic_case(synthetic, lagrangian, status):
    def cap(s):
        return CapacityRecord(
            predicted=[0.5] * 10,
            shadow_price=1.0,
            spearman=0.8,
            mae={
                "lagrangian": lagrangian + 0.001 * s,
                "permuted": 0.3,
                "uniform": 0.1,
                "top_m": 0.4,
            },
            class_agreement=0.5,
        )

    models = [
        synthetic.model(
            "size",
            10,
            3,
            0.05,
            [synthetic.replicate(10, 3, recovered=5, seed=s, capacity=cap(s)) for s in range(3)],
        )
    ]
    quad = QuadraticRecord(
        "q", 2, 1, [QuadraticCase(10.0, [1.0, 0.5], [1.0, 0.0], [1.0, 1e-9], 1.0, 1.0)], 0.0
    )
    res = _answer("Q3", [*models, quad])
    assert res.status == status, res.sentence
    assert res.numbers["quadratic_max_error"] == pytest.approx(1e-9)


def _transition(low, high, predicted):
    return TransitionRecord(
        key="t",
        parameter="importance",
        n_features=6,
        n_dims=2,
        sparsity=0.9,
        values=[0.1, 1.0, 10.0],
        learned_capacity=[[0.0], [0.0], [1.0]],
        norm=[[0.0], [1.0], [1.0]],
        final_loss=[[0.1]] * 3,
        predicted_capacity=[0.0, 0.5, 1.0],
        located=[
            LocatedRecord(
                "superposed_to_own",
                True,
                low,
                high,
                predicted,
                "",
                [{"value": low, "best_higher": False, "fraction_higher": 0.0, "n_seeds": 3}],
            )
        ],
        legs=[],
        seconds=0.0,
    )


@pytest.mark.parametrize(
    "low, high, status",
    [
        (0.9, 1.1, "supported"),
        (2.5 * Q4_FACTOR, 3 * Q4_FACTOR, "not supported"),
        (1.5, 3.0, "inconclusive"),
    ],
)
def test_q4_rule(low, high, status):
    res = _answer("Q4", [_transition(low, high, 1.0)])
    assert res.status == status, res.sentence
    assert res.tables[0][2][0]["located"].startswith("[")


def test_q4_brackets_are_printed_to_the_digits_they_support():
    from csuper.study.questions import _bracket_text

    assert _bracket_text(2.03, 2.08) == "[2.03, 2.08]"
    assert _bracket_text(0.56, 0.68) == "[0.56, 0.68]"
    assert _bracket_text(1.0001, 1.0002) == "[1.0001, 1.0002]"


@pytest.mark.parametrize("sign, status", [(1, "supported"), (-1, "not supported")])
def test_q5_rule(synthetic, sign, status):
    models = []
    for j, p in enumerate((1.0, 0.1, 0.01)):
        frac = 0.2 + sign * 0.3 * j if sign > 0 else 0.8 - 0.3 * j
        models.append(
            synthetic.model(
                "sparsity",
                40,
                8,
                p,
                [
                    synthetic.replicate(
                        40,
                        8,
                        recovered=int(40 * frac) + s % 2,
                        dstar=(1.0 - 0.3 * j) if sign > 0 else 0.4 + 0.3 * j,
                        seed=s,
                    )
                    for s in range(3)
                ],
            )
        )
    assert _answer("Q5", models).status == status


@pytest.mark.parametrize("trend, status", [(1, "supported"), (-1, "not supported")])
def test_q6_rule(synthetic, trend, status):
    models = []
    for j, m in enumerate((4, 8, 16)):
        n = 4 * m
        mono = 0.2 + 0.2 * j if trend > 0 else 0.6 - 0.2 * j
        reps = []
        for s in range(3):
            D = np.where(np.arange(n) < mono * n + s, 0.95, 0.5)
            reps.append(
                synthetic.replicate(
                    n,
                    m,
                    recovered=n,
                    dimensionality=D.tolist(),
                    mean_squared_overlap=0.1,
                    welch=0.1,
                    seed=s,
                )
            )
        models.append(synthetic.model("size", n, m, 0.05, reps, arm="decaying"))
    assert MONOSEMANTIC_ABOVE < 0.95
    assert _answer("Q6", models).status == status


@pytest.mark.parametrize("correlated, status", [(0.1, "supported"), (0.6, "not supported")])
def test_q7_rule(synthetic, correlated, status):
    models = [
        synthetic.model(
            "correlation",
            20,
            5,
            0.05,
            [
                synthetic.replicate(
                    20, 5, recovered=20, group_squared_cosine=v + 0.01 * s, group_cosine=-v, seed=s
                )
                for s in range(3)
            ],
            correlation=arm,
        )
        for arm, v in (("independent", 0.3), ("correlated", correlated), ("anticorrelated", 0.9))
    ]
    res = _answer("Q7", models)
    assert res.status == status, res.sentence
    assert "Anticorrelated pairs" in res.sentence


@pytest.mark.parametrize("shift", [0, 0.4])
def test_q8_rule(synthetic, shift):
    models = []
    for variant in ("study", "no_weight_decay", "notebook", "notebook_long"):
        frac = 0.5 + (shift if variant == "notebook_long" else 0.0)
        models.append(
            synthetic.model(
                "robustness",
                40,
                8,
                0.1,
                [
                    synthetic.replicate(40, 8, recovered=int(40 * frac) + (s % 2), seed=s)
                    for s in range(4)
                ],
                variant=variant,
            )
        )
    res = _answer("Q8", models)
    assert res.status == ("supported" if shift == 0 else "not supported"), res.sentence
    assert Q8_TOLERANCE == 0.1


def test_every_question_answers_an_empty_study_as_not_run():
    results = answer_questions([], CFG)
    assert [r.qid for r in results] == list(QUESTIONS)
    assert {r.status for r in results} == {"not run"}
