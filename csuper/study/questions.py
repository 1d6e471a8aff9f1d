"""The study's questions: each one a claim, a rule declared here before any data are seen, an
analysis of the stored records and a verdict sentence generated from the numbers.

:data:`QUESTIONS` maps an id (Q1 ... Q8) to its :class:`Question`. The thresholds of every rule
are module constants (``Q1_MIN_DELTA_AIC``, ...), fixed in the code; the verdicts are
``supported``, ``not supported`` or ``inconclusive`` (``not run`` when a study has no data for
a question). Intervals are stratified bootstrap intervals over replicate seeds
(:func:`csuper.study.stats.bootstrap`).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from csuper.study.records import (
    CapacityRecord,
    ModelRecord,
    QuadraticRecord,
    ReplicateRecord,
    TransitionRecord,
)
from csuper.study.stats import Estimate, bootstrap, format_estimate, format_number

__all__ = ["QUESTIONS", "Question", "QuestionResult", "answer_questions"]

# -- the rules, fixed before the data are seen -----------------------------------------------------

#: Q1: a compressed-sensing law must beat every rival by this much AIC (all replicates as points).
Q1_MIN_DELTA_AIC = 2.0
#: Q2: the read-out must lose this much more relative MSE than basis pursuit (same measurements).
Q2_MIN_GAP = 0.1
#: Q4: a predicted transition agrees when the located bracket lies within this factor of it.
Q4_FACTOR = 2.0
#: Q4 and Q6: a feature has its own dimension (is monosemantic) when D_i reaches this.
MONOSEMANTIC_ABOVE = 0.9
#: Q8: a headline fraction is robust when every variant moves it by less than this.
Q8_TOLERANCE = 0.1
#: Q3: the nulls the Lagrangian allocation must beat.
Q3_NULLS = ("permuted", "uniform", "top_m")


@dataclass(frozen=True)
class QuestionResult:
    """The answer to one question.

    Attributes
    ----------
    qid, title, claim, criterion : str
    status : str
        One of :data:`csuper.study.stats.VERDICTS`.
    sentence : str
        The verdict sentence, generated from the numbers.
    numbers : dict
        Name -> :class:`Estimate`, float or str: what the sentence rests on.
    tables : list of (str, list of (key, label), list of dict)
        Report tables: title, columns, rows.
    data : dict
        What the question's figure draws.
    notes : list of str
        Method notes and limitations specific to this question.
    """

    qid: str
    title: str
    claim: str
    criterion: str
    status: str
    sentence: str
    numbers: dict = field(repr=False)
    tables: list = field(repr=False)
    data: dict = field(repr=False)
    notes: list = field(repr=False)


@dataclass(frozen=True)
class Question:
    """A question of the study: its claim, its declared rule and its analysis."""

    title: str
    claim: str
    criterion: str
    analyse: Callable = field(repr=False)


def _models(records, group: str | None = None, **match) -> list[ModelRecord]:
    out = [r for r in records if isinstance(r, ModelRecord) and (group is None or r.group == group)]
    return [r for r in out if all(getattr(r, k) == v for k, v in match.items())]


def _result(q: Question, qid: str, status: str, sentence: str, **kw) -> QuestionResult:
    return QuestionResult(
        qid,
        q.title,
        q.claim,
        q.criterion,
        status,
        sentence,
        kw.get("numbers", {}),
        kw.get("tables", []),
        kw.get("data", {}),
        kw.get("notes", []),
    )


def _not_run(q: Question, qid: str, why: str) -> QuestionResult:
    return _result(q, qid, "not run", f"Not run: {why}.")


def _boot(ctx, strata, stat) -> Any:
    return bootstrap(
        strata, stat, n_bootstrap=ctx["n_bootstrap"], confidence=ctx["confidence"], rng=ctx["rng"]
    )


def _ci(e: Estimate) -> str:
    return format_estimate(e)


def _mean_se(values) -> tuple[float, float]:
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return math.nan, math.nan
    return float(v.mean()), float(v.std(ddof=1) / np.sqrt(v.size)) if v.size > 1 else math.nan


# -- Q1 compressed-sensing scaling -----------------------------------------------------------------


def _scaling_points(models: list[ModelRecord], count: str):
    rows = []
    for c, mdl in enumerate(models):
        for rep in mdl.replicates:
            rows.append((c, mdl.n_features, mdl.n_dims, mdl.k, getattr(rep, count)))
    return np.array(rows, dtype=float)


def _fit(points: np.ndarray):
    from csuper.compare import fit_scaling

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return fit_scaling(points[:, 1], points[:, 2], points[:, 3], points[:, 4])


def _cs_margin(fit) -> tuple[float, str, str]:
    """AIC of the best rival minus AIC of the best compressed-sensing law (> 0 favours CS)."""
    from csuper.compare import SCALING_LAWS

    cs = min(
        (f for f in fit.laws.values() if SCALING_LAWS[f.name].compressed_sensing),
        key=lambda f: f.aic,
    )
    rival = min(
        (f for f in fit.laws.values() if not SCALING_LAWS[f.name].compressed_sensing),
        key=lambda f: f.aic,
    )
    return rival.aic - cs.aic, cs.name, rival.name


def _q1(q: Question, qid: str, records, cfg, ctx) -> QuestionResult:
    from csuper.compare import SCALING_LAWS

    arms: dict[str, dict] = {}
    tables = []
    for arm in ("constant", "decaying"):
        models = [
            m
            for m in _models(records)
            if m.group in ("scaling", "sparsity") and m.arm == arm and m.feature_probability < 1.0
        ]
        if len({m.feature_probability for m in models}) < 2 or len(models) < 3:
            continue
        points = _scaling_points(models, "recovered")
        fit = _fit(points)
        _, cs_name, rival_name = _cs_margin(fit)
        strata = [points[points[:, 0] == c] for c in range(len(models))]

        def stat(s, name=cs_name):
            f = _fit(np.concatenate(s))
            return np.array(
                [
                    _cs_margin(f)[0],
                    f.laws[name].trends["log_n"][0],
                    f.laws["statistical_dimension"].coefficient,
                ]
            )

        est = dict(zip(("margin", "trend_log_n", "coefficient"), _boot(ctx, strata, stat)))
        rep_fit = _fit(_scaling_points(models, "represented"))
        arms[arm] = {
            "fit": fit,
            "cs": cs_name,
            "rival": rival_name,
            "est": est,
            "models": models,
            "represented_fit": rep_fit,
        }
        tables.append(
            (
                f"Q1 law fits, {arm} importance: recovered count = min(n, a x), every replicate a "
                f"point ({len(points)} points on the common domain of all laws)",
                [
                    ("law", "law"),
                    ("family", "family"),
                    ("coefficient", "a"),
                    ("se", "se(a)"),
                    ("rms", "RMS (features)"),
                    ("delta_aic", "delta AIC"),
                    ("trend_log_n", "residual trend vs ln n"),
                    ("trend_log_m", "vs ln m"),
                    ("trend_log_inverse_p", "vs ln(1/p)"),
                    ("represented_delta_aic", "delta AIC (represented count)"),
                ],
                [
                    {
                        "law": f.name,
                        "family": "CS" if SCALING_LAWS[f.name].compressed_sensing else "rival",
                        "coefficient": f.coefficient,
                        "se": f.se,
                        "rms": f.rms,
                        "delta_aic": f.delta_aic,
                        **{
                            f"trend_{cov}": _trend_text(*f.trends[cov])
                            for cov in ("log_n", "log_m", "log_inverse_p")
                        },
                        "represented_delta_aic": rep_fit.laws[f.name].delta_aic,
                    }
                    for f in fit.laws.values()
                ],
            )
        )
    if "constant" not in arms:
        return _not_run(q, qid, "fewer than 3 constant-importance models with p < 1")
    finite = [m for m in _models(records) if m.threshold_mc is not None and m.group == "scaling"]
    if finite:
        tables.append(
            (
                "Finite-n threshold (n <= 200): Amelunxen et al. approximation m*_A against the "
                "exact statistical dimension m*_MC (Monte Carlo, 4000 draws, +- its SE)",
                [
                    ("n_features", "n"),
                    ("k", "k"),
                    ("threshold", "m*_A"),
                    ("threshold_mc", "m*_MC"),
                    ("threshold_mc_se", "SE"),
                    ("ratio", "m*_MC / m*_A"),
                ],
                [
                    {
                        "n_features": m.n_features,
                        "k": m.k,
                        "threshold": m.threshold,
                        "threshold_mc": m.threshold_mc,
                        "threshold_mc_se": m.threshold_mc_se,
                        "ratio": (m.threshold_mc or math.nan) / m.threshold,
                    }
                    for m in sorted(
                        {(m.n_features, m.k): m for m in finite}.values(),
                        key=lambda m: (m.n_features, m.k),
                    )
                ],
            )
        )
    a = arms["constant"]
    e = a["est"]
    if e["margin"].low > Q1_MIN_DELTA_AIC and e["trend_log_n"].low <= 0 <= e["trend_log_n"].high:
        status = "supported"
    elif e["margin"].high < 0:
        status = "not supported"
    else:
        status = "inconclusive"
    f = a["fit"].laws
    sentence = (
        f"With constant importance, the best compressed-sensing law "
        f"({a['cs']}) {'beats' if e['margin'].value > 0 else 'trails'} the best rival "
        f"({a['rival']}) by delta AIC = {_ci(e['margin'])} (rule: lower end > "
        f"{Q1_MIN_DELTA_AIC:g} and no residual trend in ln n); its residual trend against ln n is "
        f"{_ci(e['trend_log_n'])} features per e-fold. Residual RMS "
        f"{format_number(f[a['cs']].rms)} against {format_number(f[a['rival']].rms)} features; "
        "the CS-capacity coefficient is "
        f"a = {_ci(e['coefficient'])} (a = 1: as many features as l1 recovery could serve)."
    )
    if "decaying" in arms:
        d = arms["decaying"]
        sentence += (
            f" With decaying importance the best law is {d['fit'].best} (CS margin "
            f"{_ci(d['est']['margin'])})."
        )
    numbers = {f"{arm}_{k}": v for arm, x in arms.items() for k, v in x["est"].items()}
    return _result(
        q,
        qid,
        status,
        sentence,
        numbers=numbers,
        tables=tables,
        data={
            arm: {"fit": x["fit"], "models": x["models"], "cs": x["cs"]} for arm, x in arms.items()
        },
        notes=[
            "The count fitted is the number of recovered features (the model's read-out explains "
            f"at least {cfg.min_explained_variance:g} of their variance); the represented count "
            f"(|w_i| > {cfg.represented_threshold:g}) is fitted too (last column).",
            "Dense models (p = 1) are outside the common domain: ln(1/p) = 0 there.",
            "Compressed-sensing capacity uses Amelunxen et al.'s approximation of the statistical "
            "dimension of a Gaussian frame; trained W are not Gaussian.",
        ],
    )


def _trend_text(slope: float, se: float) -> str:
    return f"{format_number(slope)} +- {format_number(se, 2)}"


# -- Q2 decoder gap --------------------------------------------------------------------------------


def _decoder_value(rep, arm, decoder, field_="relative_mse") -> float:
    for d in rep.decoders:
        if d.arm == arm and d.decoder == decoder:
            return getattr(d, field_)
    return math.nan


def _q2(q: Question, qid: str, records, cfg, ctx) -> QuestionResult:
    from csuper.study.tasks import DECODER_ARMS, ISTA_STEPS

    models = [m for m in _models(records) if any(r.decoders for r in m.replicates)]
    if not models:
        return _not_run(q, qid, "no model has decoder results")
    combos = [(arm, d) for arm, (names, _, _) in DECODER_ARMS.items() for d in names]
    strata = [
        np.array([[_decoder_value(r, a, d) for a, d in combos] for r in m.replicates])
        for m in models
    ]
    col = {c: i for i, c in enumerate(combos)}

    def mean_of(s, c):
        return float(np.nanmean([np.nanmean(x[:, col[c]]) for x in s]))

    def difference(c1, c2):
        def stat(s):
            return float(np.nanmean([np.nanmean(x[:, col[c1]] - x[:, col[c2]]) for x in s]))

        return stat

    relu, nnbp = ("noiseless", "relu"), ("noiseless", "nnbp")
    above = [x for m, x in zip(models, strata) if m.n_dims >= m.threshold]
    below = [x for m, x in zip(models, strata) if m.n_dims < m.threshold]
    means = {c: _boot(ctx, strata, lambda s, c=c: mean_of(s, c)) for c in combos}
    encoder = _boot(ctx, strata, difference(("noiseless", "gaussian_relu"), relu))
    exact = [
        np.array(
            [
                [
                    _decoder_value(r, "represented", d, "exact_rate")
                    for d in ("nnbp", "nnbp_gaussian")
                ]
                for r in m.replicates
            ]
        )
        for m in models
    ]
    exact_diff = _boot(
        ctx, exact, lambda s: float(np.nanmean([np.nanmean(x[:, 0] - x[:, 1]) for x in s]))
    )
    numbers: dict[str, Any] = {"encoder_advantage": encoder, "exact_advantage": exact_diff}
    numbers.update({f"{a}_{d}": v for (a, d), v in means.items()})
    tail = (
        f" {ISTA_STEPS} ISTA steps from the read-out reach "
        f"{_ci(means[('noiseless', 'ista')])} over all models; the re-fitted untied read-out "
        f"{_ci(means[('noiseless', 'relu_refit')])}, the read-out itself "
        f"{_ci(means[relu])}. Null baseline, a Gaussian encoder with the best one-step read-out: "
        f"{_ci(means[('noiseless', 'gaussian_relu')])} (the learned encoder is better by "
        f"{_ci(encoder)}). As a sensing matrix for its represented features, the learned W "
        f"recovers exactly {_ci(exact_diff)} more inputs than a Gaussian frame with the same "
        "column norms."
    )
    if below:
        gap_below = _boot(ctx, below, difference(relu, nnbp))
        numbers["gap_below_threshold"] = gap_below
        tail += (
            f" Below the threshold ({len(below)} models) the difference is {_ci(gap_below)}: "
            "basis pursuit is not expected to recover there."
        )
    if not above:
        status = "inconclusive"
        sentence = (
            "No decoded model has m >= m*_A(n, k), where compressed sensing promises recovery, "
            "so the gap is not measured where the rule asks." + tail
        )
    else:
        est_gap = _boot(ctx, above, difference(relu, nnbp))
        numbers["gap"] = est_gap
        if est_gap.low > Q2_MIN_GAP:
            status = "supported"
        elif est_gap.high < Q2_MIN_GAP:
            status = "not supported"
        else:
            status = "inconclusive"
        relu_above = _boot(ctx, above, lambda s: mean_of(s, relu))
        nnbp_above = _boot(ctx, above, lambda s: mean_of(s, nnbp))
        sentence = (
            f"On the {len(above)} models with m >= m*_A(n, k), inputs with at least one active "
            f"feature, the model's ReLU read-out has relative MSE {_ci(relu_above)} against "
            f"{_ci(nnbp_above)} for nonnegative basis pursuit on the same measurements: an "
            f"amortisation gap of {_ci(est_gap)} (rule: lower end > {Q2_MIN_GAP:g})." + tail
        )
    rows = []
    for m in models:
        ratio = m.n_dims / m.threshold if m.threshold > 0 else math.inf
        for a, d in combos:
            vals = [_decoder_value(r, a, d) for r in m.replicates]
            ex = [_decoder_value(r, a, d, "exact_rate") for r in m.replicates]
            mu, se = _mean_se(vals)
            rows.append(
                {
                    "n_features": m.n_features,
                    "n_dims": m.n_dims,
                    "sparsity": 1 - m.feature_probability,
                    "m_over_mstar": ratio,
                    "arm": a,
                    "decoder": d,
                    "relative_mse": mu,
                    "relative_mse_se": se,
                    "exact_rate": _mean_se(ex)[0],
                    "n_replicates": len(vals),
                }
            )
    strat: dict[tuple, list] = {}
    for m in models:
        for r in m.replicates:
            for dec in r.decoders:
                for row in dec.by_active:
                    s = strat.setdefault((dec.arm, dec.decoder, row["active"]), [0, 0.0])
                    s[0] += row["n_samples"]
                    s[1] += row["exact_rate"] * row["n_samples"]
    strat_rows = [
        {
            "arm": a,
            "decoder": d,
            "active": k,
            "n_samples": v[0],
            "exact_rate": v[1] / v[0],
            "exact_se": math.sqrt(max(v[1] / v[0] * (1 - v[1] / v[0]), 0.0) / v[0]),
        }
        for (a, d, k), v in sorted(strat.items())
        if k <= 6
    ]
    return _result(
        q,
        qid,
        status,
        sentence,
        numbers=numbers,
        tables=[
            (
                "Q2 mean relative MSE per model and decoder (inputs with an active feature; mean "
                "over replicates +- SE)",
                [
                    ("n_features", "n"),
                    ("n_dims", "m"),
                    ("sparsity", "S"),
                    ("m_over_mstar", "m / m*_A"),
                    ("arm", "arm"),
                    ("decoder", "decoder"),
                    ("relative_mse", "relative MSE"),
                    ("relative_mse_se", "SE"),
                    ("exact_rate", "exact rate"),
                    ("n_replicates", "replicates"),
                ],
                rows,
            ),
            (
                "Q2 exact-recovery rate by the realised number of active features (pooled over "
                "models and replicates; binomial SE)",
                [
                    ("arm", "arm"),
                    ("decoder", "decoder"),
                    ("active", "active features"),
                    ("n_samples", "inputs"),
                    ("exact_rate", "exact rate"),
                    ("exact_se", "SE"),
                ],
                strat_rows,
            ),
        ],
        data={"rows": rows, "strata": strat_rows},
        notes=[
            "Decoders run on the constant-importance models with n <= "
            f"{cfg.decoder_max_features}; inputs are conditioned on at least one active feature.",
            "Exact recovery means relative l2 error below 1e-4; LASSO appears only in the noisy "
            f"arm (noise {cfg.decoder_noise_level:g} x RMS(W x)), where it differs from basis "
            "pursuit.",
        ],
    )


# -- Q3 capacity and the Lagrangian ----------------------------------------------------------------


def _capacity(r: ReplicateRecord) -> CapacityRecord:
    if r.capacity is None:  # pragma: no cover - callers select replicates with capacities
        raise ValueError("replicate has no capacity record")
    return r.capacity


def _q3(q: Question, qid: str, records, cfg, ctx) -> QuestionResult:
    from csuper.compare import RELU_MODEL_MAX_PROBABILITY

    models = [m for m in _models(records) if all(r.capacity is not None for r in m.replicates)]
    models = [m for m in models if m.replicates]
    quad = [r for r in records if isinstance(r, QuadraticRecord)]
    if not models:
        return _not_run(q, qid, "no model has capacity results")
    names = ("lagrangian", *Q3_NULLS)
    strata = [
        np.array(
            [
                [_capacity(r).mae[k] for k in names]
                + [_capacity(r).spearman if _capacity(r).spearman is not None else math.nan]
                for r in m.replicates
            ]
        )
        for m in models
    ]
    diff = {
        null: _boot(
            ctx,
            strata,
            lambda s, j=j: float(np.nanmean([np.nanmean(x[:, 0] - x[:, j]) for x in s])),
        )
        for j, null in enumerate(names)
        if j > 0
    }
    mae = {
        k: _boot(ctx, strata, lambda s, j=j: float(np.nanmean([np.nanmean(x[:, j]) for x in s])))
        for j, k in enumerate(names)
    }
    rho = _boot(ctx, strata, lambda s: float(np.nanmean([np.nanmean(x[:, -1]) for x in s])))
    if all(diff[n].high < 0 for n in Q3_NULLS):
        status = "supported"
    elif any(diff[n].low > 0 for n in Q3_NULLS):
        status = "not supported"
    else:
        status = "inconclusive"
    best_null = min(Q3_NULLS, key=lambda n: mae[n].value)
    sentence = (
        f"Over the represented features of {len(models)} models "
        f"(p <= {RELU_MODEL_MAX_PROBABILITY:g}, decaying importance), the Lagrangian allocation "
        f"misses the learned D_i by {_ci(mae['lagrangian'])} on average, against "
        + ", ".join(f"{n} {_ci(mae[n])}" for n in Q3_NULLS)
        + f" for the null allocations (rule: lower than every null, interval of the difference "
        f"below 0; difference to the best null, {best_null}: {_ci(diff[best_null])}). Rank "
        f"correlation of predicted C_i with learned D_i: {_ci(rho)} (the importance order alone "
        "gives the same ranking, so it does not test the allocation)."
    )
    quad_rows, quad_err = [], math.nan
    if quad:
        cases = [c for r in quad for c in r.cases]
        errs = [float(np.max(np.abs(np.array(c.learned) - np.array(c.predicted)))) for c in cases]
        quad_err = float(np.max(errs))
        ratio = max(
            (abs(c.loss_trained / c.loss_predicted - 1) for c in cases if c.loss_predicted > 0),
            default=0.0,
        )
        sentence += (
            f" Exact case, the quadratic model of Scherlis et al.: {len(cases)} trained models "
            f"reach the predicted allocation to max |D_i - C_i| = {format_number(quad_err, 2)} "
            f"(their loss within {format_number(abs(ratio), 2)} relative of the predicted)."
        )
        for K in sorted({c.kurtosis for c in cases}):
            e = [x for c, x in zip(cases, errs) if c.kurtosis == K]
            quad_rows.append(
                {
                    "kurtosis": K,
                    "models": len(e),
                    "max_error": max(e),
                    "mean_error": float(np.mean(e)),
                }
            )
    points = [
        (d, c, m.feature_probability)
        for m in models
        for r in m.replicates
        for d, c, nrm in zip(r.dimensionality, _capacity(r).predicted, r.norms)
        if nrm > cfg.represented_threshold
    ]
    return _result(
        q,
        qid,
        status,
        sentence,
        numbers={
            "spearman": rho,
            "quadratic_max_error": quad_err,
            **{f"mae_{k}": v for k, v in mae.items()},
            **{f"difference_{k}": v for k, v in diff.items()},
        },
        tables=[
            (
                "Q3 mean |D_i - C_i| over represented features, Lagrangian against the nulls "
                "(bootstrap over replicates)",
                [
                    ("allocation", "allocation"),
                    ("mae", "mean |D - C|"),
                    ("difference", "Lagrangian minus this"),
                ],
                [
                    {
                        "allocation": k,
                        "mae": _ci(mae[k]),
                        "difference": _ci(diff[k]) if k in diff else "",
                    }
                    for k in names
                ],
            ),
            (
                "Q3 exact case: trained quadratic models against their allocation",
                [
                    ("kurtosis", "K"),
                    ("models", "models"),
                    ("max_error", "max |D - C|"),
                    ("mean_error", "mean of per-model max"),
                ],
                quad_rows,
            ),
        ],
        data={"points": points, "mae": mae},
        notes=[
            "The ReLU per-feature loss model (csuper.compare.relu_capacity_loss) assumes at most "
            f"one active neighbour; it is used only at p <= {RELU_MODEL_MAX_PROBABILITY:g}.",
        ],
    )


# -- Q4 phase transitions --------------------------------------------------------------------------


def _bracket_text(lo: float, hi: float) -> str:
    """A bracket with as many digits as it supports (enough to tell its ends apart)."""
    digits = max(2, math.ceil(-math.log10(max(hi / lo - 1.0, 1e-12))) + 1)
    return f"[{lo:.{digits}g}, {hi:.{digits}g}]"


def _q4(q: Question, qid: str, records, cfg, ctx) -> QuestionResult:
    recs = [r for r in records if isinstance(r, TransitionRecord)]
    if not recs:
        return _not_run(q, qid, "no transition sweep")
    rows, states, hyst = [], [], []
    for rec in recs:
        for loc in rec.located:
            row = {"parameter": rec.parameter, "transition": loc.transition}
            if not loc.bracketed or loc.predicted is None:
                why = loc.reason if not loc.bracketed else "no predicted transition in the range"
                row.update(
                    located="not located",
                    predicted=format_number(loc.predicted),
                    ratio="",
                    agreement=f"not located: {why}",
                )
                states.append("missing")
            else:
                lo, hi, v = float(loc.low or math.nan), float(loc.high or math.nan), loc.predicted
                r_lo, r_hi = lo / v, hi / v
                if 1 / Q4_FACTOR <= r_lo and r_hi <= Q4_FACTOR:
                    state = "agrees"
                elif r_hi < 1 / Q4_FACTOR or r_lo > Q4_FACTOR:
                    state = "disagrees"
                else:
                    state = "straddles"
                states.append(state)
                spread = [e["fraction_higher"] for e in loc.evaluated]
                row.update(
                    located=_bracket_text(lo, hi),
                    predicted=format_number(v, 3),
                    ratio=_bracket_text(r_lo, r_hi),
                    agreement=state,
                    seeds=f"{loc.evaluated[0]['n_seeds']} per point, fraction in the higher "
                    f"state {format_number(min(spread), 2)}-{format_number(max(spread), 2)}",
                )
            rows.append(row)
        for legs in rec.legs:
            up = _bracket_text(*legs.up_bracket) if legs.up_bracket else "none"
            down = _bracket_text(*legs.down_bracket) if legs.down_bracket else "none"
            hyst.append(
                {
                    "parameter": rec.parameter,
                    "transition": legs.transition,
                    "up": up,
                    "down": down,
                    "chains": legs.n_chains,
                    "hysteresis": "detected" if legs.detected else "not detected",
                }
            )
    located = [s for s in states if s != "missing"]
    if located and all(s == "agrees" for s in located):
        status = "supported"
    elif any(s == "disagrees" for s in located):
        status = "not supported"
    else:
        status = "inconclusive"
    parts = [
        (
            f"{r['parameter']} {r['transition'].replace('_', ' ')}: located in {r['located']}, "
            f"predicted {r['predicted']} (ratio {r['ratio']}, {r['agreement']})"
            if r["ratio"]
            else f"{r['parameter']} {r['transition'].replace('_', ' ')}: {r['agreement']}"
        )
        for r in rows
    ]
    sentence = (
        f"{sum(s == 'agrees' for s in located)} of {len(states)} transitions are located "
        f"within a factor {Q4_FACTOR:g} of the Lagrangian prediction ({len(located)} located; "
        "rule: every located bracket within the factor). " + "; ".join(parts) + "."
    )
    if hyst:
        det = sum(h["hysteresis"] == "detected" for h in hyst)
        sentence += f" Warm legs: hysteresis detected on {det} of {len(hyst)} transition legs."
    return _result(
        q,
        qid,
        status,
        sentence,
        numbers={
            "agreeing": sum(s == "agrees" for s in located),
            "located": len(located),
            "transitions": len(states),
        },
        tables=[
            (
                "Q4 transitions: bracket after bisection (best-of-replicates state) against the "
                "Lagrangian prediction",
                [
                    ("parameter", "swept"),
                    ("transition", "transition"),
                    ("located", "located in"),
                    ("predicted", "predicted"),
                    ("ratio", "bracket / prediction"),
                    ("agreement", "within factor 2?"),
                    ("seeds", "replicates"),
                ],
                rows,
            ),
            (
                "Q4 warm legs: grid intervals where the majority of chains switches state",
                [
                    ("parameter", "swept"),
                    ("transition", "transition"),
                    ("up", "going up"),
                    ("down", "going down"),
                    ("chains", "chains"),
                    ("hysteresis", "hysteresis"),
                ],
                hyst,
            ),
        ],
        data={"records": recs},
        notes=[
            "A located value is known to its bracket only: the grid ratio shrinks to "
            f"its 2^-{cfg.transition_n_bisections} power after {cfg.transition_n_bisections} "
            "bisections.",
            "Warm legs kick a dead swept feature to norm "
            f"{cfg.transition_revive_norm:g} before each point (w_i = 0 is a stationary point); "
            "the own-direction legs start above the located ignored-to-superposed transition.",
        ],
    )


# -- Q5 sparsity as the control variable -----------------------------------------------------------


def _q5(q: Question, qid: str, records, cfg, ctx) -> QuestionResult:
    models = sorted(_models(records, "sparsity"), key=lambda m: m.feature_probability, reverse=True)
    if len(models) < 2:
        return _not_run(q, qid, "fewer than 2 sparsities")
    strata = [
        np.array(
            [
                [r.recovered / m.n_features, r.dimensions_per_feature, r.represented / m.n_features]
                for r in m.replicates
            ]
        )
        for m in models
    ]
    per: list[dict[str, Any]] = []
    for m, s in zip(models, strata):
        per.append(
            {
                "sparsity": 1 - m.feature_probability,
                "inverse_p": 1 / m.feature_probability,
                "recovered": _boot(ctx, [s], lambda x: float(x[0][:, 0].mean())),
                "dstar": _boot(ctx, [s], lambda x: float(x[0][:, 1].mean())),
                "represented": float(s[:, 2].mean()),
            }
        )
    d_frac = _boot(
        ctx, [strata[0], strata[-1]], lambda x: float(x[1][:, 0].mean() - x[0][:, 0].mean())
    )
    d_dstar = _boot(
        ctx, [strata[0], strata[-1]], lambda x: float(x[1][:, 1].mean() - x[0][:, 1].mean())
    )
    if d_frac.low > 0 and d_dstar.high < 0:
        status = "supported"
    elif d_frac.high <= 0 or d_dstar.low >= 0:
        status = "not supported"
    else:
        status = "inconclusive"
    n, n_dims = models[0].n_features, models[0].n_dims
    lo, hi = per[0], per[-1]
    sentence = (
        f"From S = {lo['sparsity']:g} to S = {hi['sparsity']:g} "
        f"(n = {n}, m = {n_dims}), the fraction of features recovered changes by {_ci(d_frac)} "
        f"({format_number(lo['recovered'].value)} to {format_number(hi['recovered'].value)}; "
        f"null, one feature per dimension: m/n = {n_dims / n:.3g}) and the dimensions per "
        "feature D* "
        f"by {_ci(d_dstar)} ({format_number(lo['dstar'].value)} to "
        f"{format_number(hi['dstar'].value)}) (rule: more features and lower D*, both intervals "
        "excluding 0)."
    )
    return _result(
        q,
        qid,
        status,
        sentence,
        numbers={"recovered_change": d_frac, "dstar_change": d_dstar},
        tables=[
            (
                "Q5 by sparsity (constant importance; bootstrap over replicates)",
                [
                    ("sparsity", "S"),
                    ("inverse_p", "1/(1-S)"),
                    ("recovered", "fraction recovered"),
                    ("dstar", "D* = m / |W|_F^2"),
                    ("represented", "fraction represented"),
                ],
                [{**p, "recovered": _ci(p["recovered"]), "dstar": _ci(p["dstar"])} for p in per],
            )
        ],
        data={"per": per, "n": n, "m": n_dims},
    )


# -- Q6 bigger is cleaner --------------------------------------------------------------------------


def _q6(q: Question, qid: str, records, cfg, ctx) -> QuestionResult:
    models = sorted(_models(records, "size"), key=lambda m: m.n_dims)
    if len(models) < 2:
        return _not_run(q, qid, "fewer than 2 model sizes")

    def mono(m, r):
        rep = np.array(r.norms) > cfg.represented_threshold
        if not rep.any():
            return math.nan
        return float(np.mean(np.array(r.dimensionality)[rep] > MONOSEMANTIC_ABOVE))

    strata = [
        np.array(
            [
                [
                    math.log2(m.n_dims),
                    mono(m, r),
                    (r.mean_squared_overlap or math.nan) / r.welch if r.welch else math.nan,
                ]
                for r in m.replicates
            ]
        )
        for m in models
    ]

    def slope(s):
        x = np.concatenate(s)
        ok = np.isfinite(x[:, 1])
        if np.ptp(x[ok, 0]) == 0:
            return math.nan
        return float(np.polyfit(x[ok, 0], x[ok, 1], 1)[0])

    est = _boot(ctx, strata, slope)
    if est.low > 0:
        status = "supported"
    elif est.high < 0:
        status = "not supported"
    else:
        status = "inconclusive"
    per = [
        {
            "n_dims": m.n_dims,
            "n_features": m.n_features,
            "mono": _boot(ctx, [s], lambda x: float(np.nanmean(x[0][:, 1]))),
            "overlap_ratio": _mean_se(s[:, 2]),
        }
        for m, s in zip(models, strata)
    ]
    sentence = (
        f"At n = {cfg.size_features_per_dim} m and I_i = (i + 1)^-"
        f"{cfg.size_importance_alpha:g}, the fraction of represented features with D_i > "
        f"{MONOSEMANTIC_ABOVE:g} changes by {_ci(est)} per doubling of m (rule: interval above 0; "
        f"from {format_number(per[0]['mono'].value)} at m = {per[0]['n_dims']} to "
        f"{format_number(per[-1]['mono'].value)} at m = {per[-1]['n_dims']}). Mean squared "
        f"overlap among represented features / Welch value: "
        + ", ".join(f"{format_number(p['overlap_ratio'][0])} (m = {p['n_dims']})" for p in per)
        + "."
    )
    return _result(
        q,
        qid,
        status,
        sentence,
        numbers={"slope": est},
        tables=[
            (
                "Q6 by size (bootstrap over replicates)",
                [
                    ("n_dims", "m"),
                    ("n_features", "n"),
                    ("mono", "monosemantic fraction"),
                    ("overlap", "MSO / Welch (mean +- SE)"),
                ],
                [
                    {
                        "n_dims": p["n_dims"],
                        "n_features": p["n_features"],
                        "mono": _ci(p["mono"]),
                        "overlap": f"{format_number(p['overlap_ratio'][0])} +- "
                        f"{format_number(p['overlap_ratio'][1], 2)}",
                    }
                    for p in per
                ],
            )
        ],
        data={"per": per},
    )


# -- Q7 correlation --------------------------------------------------------------------------------


def _q7(q: Question, qid: str, records, cfg, ctx) -> QuestionResult:
    arms = {m.correlation: m for m in _models(records, "correlation")}
    if not {"independent", "correlated"} <= set(arms):
        return _not_run(q, qid, "the correlation arms are missing")

    def col(m, name):
        return np.array(
            [
                [
                    getattr(r, name) if getattr(r, name) is not None else math.nan,
                    r.dimensions_per_feature,
                ]
                for r in m.replicates
            ]
        )

    ind, cor = (
        col(arms["independent"], "group_squared_cosine"),
        col(arms["correlated"], "group_squared_cosine"),
    )
    diff = _boot(ctx, [ind, cor], lambda x: float(np.nanmean(x[1][:, 0]) - np.nanmean(x[0][:, 0])))
    dstar = _boot(ctx, [ind, cor], lambda x: float(x[1][:, 1].mean() - x[0][:, 1].mean()))
    means = {
        a: _boot(ctx, [col(m, "group_squared_cosine")], lambda x: float(np.nanmean(x[0][:, 0])))
        for a, m in arms.items()
    }
    anti = None
    if "anticorrelated" in arms:
        anti = _boot(
            ctx,
            [col(arms["anticorrelated"], "group_cosine")],
            lambda x: float(np.nanmean(x[0][:, 0])),
        )
    if diff.high < 0:
        status = "supported"
    elif diff.low > 0:
        status = "not supported"
    else:
        status = "inconclusive"
    sentence = (
        f"The mean squared cosine between the two members of a pair "
        f"(both represented) is {_ci(means['correlated'])} for correlated pairs against "
        f"{_ci(means['independent'])} for independent ones at equal p: a change of {_ci(diff)} "
        f"(rule: interval below 0). D* changes by {_ci(dstar)}."
    )
    if anti is not None:
        sentence += f" Anticorrelated pairs: mean signed cosine {_ci(anti)} (-1 is antipodal)."
    return _result(
        q,
        qid,
        status,
        sentence,
        numbers={"difference": diff, "dstar_change": dstar},
        tables=[
            (
                "Q7 within-pair squared cosine by arm (bootstrap over replicates)",
                [("arm", "arm"), ("cos2", "mean cos^2 in pairs"), ("dstar", "D* (mean +- SE)")],
                [
                    {
                        "arm": a,
                        "cos2": _ci(means[a]),
                        "dstar": "{} +- {}".format(
                            *(
                                format_number(v, 3)
                                for v in _mean_se([r.dimensions_per_feature for r in m.replicates])
                            )
                        ),
                    }
                    for a, m in arms.items()
                ],
            )
        ],
        data={"means": means},
    )


# -- Q8 robustness ---------------------------------------------------------------------------------


def _q8(q: Question, qid: str, records, cfg, ctx) -> QuestionResult:
    models = _models(records, "robustness")
    by = {(m.feature_probability, m.variant): m for m in models}
    ps = sorted({m.feature_probability for m in models}, reverse=True)
    if not any((p, "study") in by for p in ps):
        return _not_run(q, qid, "no reference models")
    rows: list[dict] = []
    diffs: list[Estimate] = []
    points: list[tuple] = []
    for p in ps:
        base = by.get((p, "study"))
        if base is None:
            continue
        b = np.array(
            [[r.recovered / base.n_features, r.dimensions_per_feature] for r in base.replicates]
        )
        for variant in sorted({v for (_, v) in by}):
            m = by.get((p, variant))
            if m is None:
                continue
            x = np.array(
                [[r.recovered / m.n_features, r.dimensions_per_feature] for r in m.replicates]
            )
            d = _boot(ctx, [b, x], lambda s: float(s[1][:, 0].mean() - s[0][:, 0].mean()))
            if variant != "study":
                diffs.append(d)
            rows.append(
                {
                    "sparsity": 1 - p,
                    "variant": variant,
                    "recovered": _ci(_boot(ctx, [x], lambda s: float(s[0][:, 0].mean()))),
                    "difference": _ci(d) if variant != "study" else "",
                    "dstar": "{} +- {}".format(*(format_number(v, 3) for v in _mean_se(x[:, 1]))),
                    "loss": format_number(float(np.mean([r.final_loss for r in m.replicates])), 3),
                }
            )
    if not diffs:
        return _not_run(q, qid, "no training variant besides the study's")
    if all(-Q8_TOLERANCE < d.low and d.high < Q8_TOLERANCE for d in diffs):
        status = "supported"
    elif any(d.low >= Q8_TOLERANCE or d.high <= -Q8_TOLERANCE for d in diffs):
        status = "not supported"
    else:
        status = "inconclusive"
    worst = max(diffs, key=lambda d: abs(d.value))
    sentence = (
        f"Across weight decay 0 and the notebook's settings, trained as "
        f"given and {cfg.robustness_long_factor}x longer, the fraction of recovered features moves "
        f"by at most {format_number(abs(worst.value))} (largest change {_ci(worst)}) against the "
        f"study's settings (rule: every interval within +-{Q8_TOLERANCE:g})."
    )
    return _result(
        q,
        qid,
        status,
        sentence,
        numbers={"largest_change": worst},
        tables=[
            (
                "Q8 headline numbers by training variant (bootstrap over replicates)",
                [
                    ("sparsity", "S"),
                    ("variant", "variant"),
                    ("recovered", "fraction recovered"),
                    ("difference", "minus the study's"),
                    ("dstar", "D* (mean +- SE)"),
                    ("loss", "final loss"),
                ],
                rows,
            )
        ],
        data={"points": points},
    )


#: The questions (id -> :class:`Question`), in report order; claims and rules fixed here.
QUESTIONS: dict[str, Question] = {
    "Q1": Question(
        "Compressed-sensing scaling",
        "Toy models recover features at a compressed-sensing rate: the count follows a law with "
        "the log of compressed sensing (m / psi(p) or m / (p ln(1/p))) better than every rival "
        "without it or with another log (m/p, m/sqrt(p), m ln(1/p), m ln(e/p), m), n varied at "
        "fixed k and m.",
        f"Supported if the best CS law's AIC is lower than the best rival's by more than "
        f"{Q1_MIN_DELTA_AIC:g} at the lower end of the interval and its residual trend against "
        "ln n has an interval containing 0; not supported if the interval of the AIC margin is "
        "below 0; inconclusive otherwise. Constant-importance arm.",
        _q1,
    ),
    "Q2": Question(
        "Decoder and amortisation gap",
        "The toy model's one-step read-out is far from what its own W allows: nonnegative basis "
        "pursuit on the same measurements recovers the inputs with much less error.",
        f"On the models with m >= m*_A(n, k) (where compressed sensing promises recovery): "
        f"supported if the mean difference of relative MSE (read-out minus basis pursuit, inputs "
        f"with an active feature) has an interval above {Q2_MIN_GAP:g}; not supported if below "
        f"{Q2_MIN_GAP:g}; inconclusive otherwise (or without such models).",
        _q2,
    ),
    "Q3": Question(
        "Capacity and the Lagrangian",
        "A Lagrangian capacity allocation of a per-feature loss model predicts the learned "
        "feature dimensionalities D_i better than allocations that ignore it.",
        "Supported if the mean |D_i - C_i| over represented features is lower than for each null "
        f"({', '.join(Q3_NULLS)}) with every interval of the difference below 0; not supported "
        "if some null is better with its interval above 0; inconclusive otherwise.",
        _q3,
    ),
    "Q4": Question(
        "Phase transitions",
        "The Lagrangian allocation predicts where one feature's transitions happen as its "
        "importance or frequency grows.",
        f"Supported if every located transition's bracket lies within a factor {Q4_FACTOR:g} of "
        "the prediction; not supported if some bracket lies entirely outside it; inconclusive "
        "otherwise (including when none is located).",
        _q4,
    ),
    "Q5": Question(
        "Sparsity is the control variable",
        "As features get sparser, models recover more of them and spend fewer dimensions on each.",
        "Supported if, from the densest to the sparsest setting, the fraction of recovered "
        "features rises and D* falls with both intervals excluding 0; not supported if either "
        "moves the other way with its interval excluding 0; inconclusive otherwise.",
        _q5,
    ),
    "Q6": Question(
        "Bigger is cleaner",
        "At a fixed ratio n/m, larger models represent a larger fraction of their features "
        "monosemantically.",
        f"Supported if the slope of the fraction of represented features with D_i > "
        f"{MONOSEMANTIC_ABOVE:g} against log2 m has an interval above 0; not supported if below 0; "
        "inconclusive otherwise.",
        _q6,
    ),
    "Q7": Question(
        "Correlation reduces superposition",
        "Correlated features interfere less with each other than independent features at equal p.",
        "Supported if the mean squared cosine within pairs is lower for correlated than for "
        "independent pairs, interval of the difference below 0; not supported if above 0; "
        "inconclusive otherwise.",
        _q7,
    ),
    "Q8": Question(
        "Robustness",
        "The headline fraction of recovered features does not depend on weight decay or on "
        "training longer than the notebook.",
        f"Supported if every variant's difference from the study's settings has an interval "
        f"within +-{Q8_TOLERANCE:g}; not supported if some interval lies outside it; "
        "inconclusive otherwise.",
        _q8,
    ),
}


def answer_questions(records, config, *, rng: Any = 0) -> list[QuestionResult]:
    """Answer every question of :data:`QUESTIONS` from parsed records, in order."""
    from csuper._validation import check_rng

    ctx = {
        "n_bootstrap": config.n_bootstrap,
        "confidence": config.confidence,
        "rng": check_rng(rng),
    }
    return [q.analyse(q, qid, records, config, ctx) for qid, q in QUESTIONS.items()]
