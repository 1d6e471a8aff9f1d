"""Run every diagnostic that applies and write a short report."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from csuper._norms import norm2
from csuper._validation import check_bool, check_rng
from csuper.diagnose._inputs import check_activations, check_weights
from csuper.diagnose.basis import dimension_budget, neuron_alignment, sae_unmixing, unmixing
from csuper.diagnose.compositional import additivity
from csuper.diagnose.ladder import decoder_ladder
from csuper.diagnose.linear import linear_recoverability
from csuper.diagnose.results import DiagnosticResult
from csuper.diagnose.scaling import scale_invariance

__all__ = ["TESTS", "Diagnosis", "diagnose", "run_test"]

#: A neuron counts as polysemantic in the headline when its participation ratio exceeds this.
POLYSEMANTIC_PARTICIPATION = 1.5


def _frame(H, X, W):
    """W when the activations are exactly the linear code h = W x (basis pursuit may use it)."""
    if W is None or H is None or X is None:
        return None
    # scaled norms: numpy's overflowed (H ~ 1e200: inf <= inf) or underflowed (1e-200: 0 <= 0),
    # and any W passed for any H
    resid = norm2(H - X @ W.T)
    return W if resid <= 1e-8 * max(norm2(H), 1e-300) else None


def _linear(H, X, W, factors, rng):
    """per-feature R^2 of the least-squares read-out; the linear budget sum R^2 <= rank"""
    if H is None:
        return DiagnosticResult.not_applicable("linear_recoverability", "it needs activations H")
    return linear_recoverability(H, X, W=_frame(H, X, W), rng=rng)


def _ladder(H, X, W, factors, rng):
    """linear, ReLU-linear, basis-pursuit and MLP read-outs; each feature's simplest decoder"""
    if H is None:
        return DiagnosticResult.not_applicable("decoder_ladder", "it needs activations H")
    return decoder_ladder(H, X, W=_frame(H, X, W), rng=rng)


def _unmixing(H, X, W, factors, rng):
    """ICA unmixing of the activations against the features; atoms' coherence vs Welch"""
    if H is None:
        return DiagnosticResult.not_applicable("unmixing", "it needs activations H")
    return unmixing(H, X, rng=rng)


def _sae(H, X, W, factors, rng):
    """sparse autoencoders of width m, 2m, 4m against the features (square vs overcomplete)"""
    if H is None:
        return DiagnosticResult.not_applicable("sae_unmixing", "it needs activations H")
    return sae_unmixing(H, X, W=_frame(H, X, W), rng=rng)


def _budget(H, X, W, factors, rng):
    """represented features against m; sum of feature dimensionalities <= m"""
    if W is None and H is not None and X is not None:
        A = np.hstack([X, np.ones((X.shape[0], 1))])
        coef = np.linalg.lstsq(A, H, rcond=None)[0]
        resid = H - A @ coef
        var = np.sum((H - H.mean(axis=0)) ** 2)
        if var > 0 and 1.0 - np.sum(resid**2) / var >= 0.99:
            W = np.ascontiguousarray(coef[:-1].T)
    if W is None:
        return DiagnosticResult.not_applicable(
            "dimension_budget",
            "no weights W were given and the activations are not a linear code of the features",
        )
    return dimension_budget(W)


def _alignment(H, X, W, factors, rng):
    """neuron participation ratios against Haar rotations of the hidden space"""
    return neuron_alignment(H, X, W=W, rng=rng)


def _scaling(H, X, W, factors, rng):
    """decoded identity under h -> a h (invariant for directions, not for magnitude codes)"""
    if H is None:
        return DiagnosticResult.not_applicable("scale_invariance", "it needs activations H")
    return scale_invariance(H, X, W=_frame(H, X, W), rng=rng)


def _additivity(H, X, W, factors, rng):
    """additive (shape + colour) factorisation of the item codes"""
    if H is None:
        return DiagnosticResult.not_applicable("additivity", "it needs activations H")
    return additivity(H, factors, rng=rng)


#: The diagnostics (name -> runner taking H, X, W, factors, rng; its docstring says what it does).
TESTS: dict = {
    "linear_recoverability": _linear,
    "decoder_ladder": _ladder,
    "unmixing": _unmixing,
    "sae_unmixing": _sae,
    "dimension_budget": _budget,
    "neuron_alignment": _alignment,
    "scale_invariance": _scaling,
    "additivity": _additivity,
}


def run_test(name: str, H=None, X=None, *, W=None, factors=None, rng=None) -> DiagnosticResult:
    """Run one diagnostic by name (a key of :data:`TESTS`) on whatever inputs are given.

    Examples
    --------
    >>> run_test("dimension_budget", W=np.eye(3)).diagnosis
    'no superposition'
    """
    if not isinstance(name, str) or name not in TESTS:
        raise ValueError(f"name must be one of {list(TESTS)}; got {name!r:.80}.")
    H, X, W = _inputs(H, X, W)
    return TESTS[name](H, X, W, factors, check_rng(rng))


def _inputs(H, X, W):
    if H is not None:
        H, X = check_activations(H, X)
    elif X is not None:
        raise ValueError("X (known features) was given without the activations H.")
    if W is not None:
        W = check_weights(
            W,
            n_features=None if X is None else X.shape[1],
            n_dims=None if H is None else H.shape[1],
        )
    return H, X, W


@dataclass(frozen=True)
class Diagnosis:
    """Every diagnostic's result and the headline drawn from them.

    Attributes
    ----------
    results : dict
        Test name -> :class:`DiagnosticResult` (tests that cannot apply say why).
    headline : list of str
        Findings drawn from the results by the rules of :func:`headline`.
    """

    results: dict
    headline: list

    def to_dict(self) -> dict:
        return {
            "headline": self.headline,
            "results": {k: r.to_dict() for k, r in self.results.items()},
        }

    def to_markdown(self, title: str = "Diagnosis") -> str:
        """A short report: headline, then one row per test."""
        lines = [
            f"# {title}",
            "",
            *[f"- {h}" for h in self.headline],
            "",
            "| test | diagnosis | statistic | baseline |",
            "|---|---|---|---|",
        ]
        for name, r in self.results.items():
            if r.applicable:
                lines.append(
                    f"| {name} | {r.diagnosis} | {r.statistic:.4g} ({r.statistic_name}) | "
                    f"{r.baseline:.4g} ({r.baseline_name}) |"
                )
            else:
                lines.append(f"| {name} | not applicable | | |")
        lines += ["", *[f"- **{name}**: {r.summary}" for name, r in self.results.items()], ""]
        return "\n".join(lines)


def headline(results: dict) -> list[str]:
    """Findings from the diagnostics, by rules fixed in code.

    - superposition: the linear budget, the dimension budget, ICA or SAE unmixing says
      "superposition";
    - else incidental superposition: the dimension budget says so (n <= m, yet shared dimensions);
    - else, when neurons mix features (some participation ratio >
      :data:`POLYSEMANTIC_PARTICIPATION`): polysemanticity without superposition, from a rotated
      basis (every feature a linear read-out, no privileged basis), from a privileged basis that
      mixes features, or from computation (some feature needs a non-linear read-out);
    - else features aligned with neurons (a privileged basis, every feature a linear read-out);
    - then: a non-linear code when the decoder ladder needs the MLP; magnitude-coded identities;
      additive or conjunctive compositional codes.
    """

    def said(name: str) -> str:
        r = results.get(name)
        return r.diagnosis if r is not None else "not run"

    out = []
    superposed = [
        n
        for n in ("linear_recoverability", "dimension_budget", "unmixing")
        if said(n) == "superposition"
    ]
    align = results.get("neuron_alignment")
    poly = (
        align is not None
        and align.applicable
        and bool(np.nanmax(align.details["participation"]) > POLYSEMANTIC_PARTICIPATION)
    )
    linear = said("linear_recoverability") == "linear code"
    nonlinear = said("decoder_ladder") == "non-linear code"
    privileged = said("neuron_alignment") == "privileged basis"
    if superposed:
        out.append(f"superposition: more features than dimensions ({', '.join(superposed)})")
    elif said("dimension_budget") == "incidental superposition":
        out.append("incidental superposition: no more features than neurons, yet some share one")
    elif poly and nonlinear:
        out.append(
            "polysemanticity without superposition: neurons mix features to compute non-linear ones"
        )
    elif poly and linear and not privileged:
        out.append("polysemanticity without superposition: a rotated basis of the features")
    elif poly and linear:
        out.append("polysemanticity without superposition: features mixed in a privileged basis")
    elif privileged and linear:
        out.append("no superposition: features align with neurons")
    if nonlinear:
        out.append(
            "a non-linear code: some features need a non-linear read-out (computed or "
            "magnitude-coded)"
        )
    if said("scale_invariance") == "magnitude-coded":
        out.append("identity depends on magnitude: scaling the activations changes what is read")
    if said("additivity") in ("additive", "non-additive"):
        r = results["additivity"]
        dense = r.details["items_per_dimension"] > 1
        kind = "decomposable (additive)" if r.diagnosis == "additive" else "conjunctive"
        out.append(
            f"a {kind} compositional code" + (", with more items than dimensions" if dense else "")
        )
    if not out:
        out.append("no finding: see the tests below")
    return out


def diagnose(
    H=None, X=None, *, W=None, factors=None, tests=None, rng=None, progress: bool = False
) -> Diagnosis:
    """Run the diagnostics on activations H (N, m) with known features X (N, n), weights W
    (m, n) and factor levels (N, 2), whichever are given; each test that cannot apply says why.

    Parameters
    ----------
    tests : sequence of str, optional
        Keys of :data:`TESTS` (default all; a bare string is refused: wrap one name in a list).
    rng : None, int or numpy.random.Generator
    progress : bool
        Show a progress bar over the tests.

    Examples
    --------
    >>> from csuper.diagnose import rotation_code
    >>> c = rotation_code(rng=0)
    >>> d = diagnose(c.H, c.X, W=c.W, tests=["linear_recoverability", "neuron_alignment"], rng=0)
    >>> d.headline
    ['polysemanticity without superposition: a rotated basis of the features']
    """
    if tests is not None and (isinstance(tests, str) or not hasattr(tests, "__iter__")):
        raise TypeError(
            f"tests must be None (every test) or a sequence of names from {list(TESTS)}; got "
            f"{tests!r} of type {type(tests).__name__}."
        )
    names = list(TESTS) if tests is None else list(tests)
    for name in names:
        if not isinstance(name, str) or name not in TESTS:
            raise ValueError(f"tests must be names from {list(TESTS)}; got {name!r}.")
    progress = check_bool(progress, "progress")
    H, X, W = _inputs(H, X, W)
    gen = check_rng(rng)
    it = names
    if progress:
        from tqdm.auto import tqdm

        it = tqdm(names, desc="diagnostics", unit="test")
    results = {name: TESTS[name](H, X, W, factors, gen) for name in it}
    return Diagnosis(results, headline(results))
