"""What a study computes: :class:`StudyConfig`, its defaults, the quick preset and TOML files.

A study is identified by its configuration (every field of :class:`StudyConfig`); the output
folder is where it is written, not what it is. A TOML file sets any subset of the fields: the
model-sweep and decoder keys at the top level, the transition sweeps in a ``[transitions]``
table (keys without the ``transition_`` prefix), and optionally ``output``::

    n_features = 40
    n_dims = [4, 8, 12]
    sparsities = [0.0, 0.9, 0.99]
    importance = "geometric"
    importance_ratio = 0.95
    n_seeds = 3
    n_steps = 5000
    output = "my-study"

    [transitions]
    n_features = 20
    n_dims = 5
    importance = [0.1, 100.0]
"""

from __future__ import annotations

import dataclasses
import math
import sys
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from csuper._validation import check_int, check_real

__all__ = [
    "StudyConfig",
    "DEFAULT_OUTPUT",
    "QUICK_OUTPUT",
    "check_config",
    "quick_config",
    "load_config",
]

#: Output folder of ``csuper study`` when none is given (``--quick``: :data:`QUICK_OUTPUT`).
DEFAULT_OUTPUT = "csuper-study"
QUICK_OUTPUT = "csuper-study-quick"

_IMPORTANCE_KINDS = ("constant", "geometric", "power_law")


@dataclass(frozen=True)
class StudyConfig:
    """Configuration of a study (defaults: the default ``csuper study``, a few minutes on 2 cores).

    Attributes
    ----------
    n_features : int
        n, features of every model of the sweep (>= 2).
    n_dims : tuple of int
        m values of the sweep, each in [1, n_features), distinct.
    sparsities : tuple of float
        S = 1 - p values of the sweep, each in [0, 1), distinct (the paper's sweep is 0, 0.7,
        0.9, 0.97, 0.99, ...).
    importance : str
        Importance profile of the features, ``"constant"``, ``"geometric"`` (ratio**i, the
        paper's 0.9**i) or ``"power_law"`` ((i+1)**-alpha); see
        :func:`csuper.toy.importance_profile`.
    importance_ratio, importance_alpha : float
        Parameters of the geometric and power-law profiles.
    n_seeds : int
        Best of this many training seeds per model.
    n_steps, batch_size : int
        Training steps and samples per step (AdamW, the notebook's other settings).
    lr : float
        Learning rate. The defaults (5000 steps of 1024 at 3e-3) are converged for the default
        sweep: with n = 40, m = 4, p in {0.1, 0.03, 0.01}, best of 3, the represented counts
        (12, 15, 21) and final losses (to 1%) were the same after 20,000 steps.
    decoder_n_samples : int
        Fresh samples decoded per model for the decoder gap.
    decoders : tuple of str
        Keys of :data:`csuper.compare.DECODERS`.
    transition_n_features, transition_n_dims : int
        n and m of the transition sweeps (feature 0 is swept, the others keep importance 1).
    transition_sparsity : float
        S of the features not swept (and of feature 0 in the importance sweep).
    transition_n_points : int
        Points per sweep (geometric grid, >= 3).
    transition_importance, transition_probability : (float, float)
        Ranges of the importance sweep and of the probability sweep of feature 0.
    transition_n_seeds : int
        Best of this many data streams per point (cold and warm starts alike).
    seed : int
        Root seed: every model and sweep gets its own child seed (SeedSequence.spawn), so results
        do not depend on the executor, the number of workers or the order of completion.
    """

    n_features: int = 60
    n_dims: tuple[int, ...] = (4, 6, 8, 10, 12)
    sparsities: tuple[float, ...] = (0.0, 0.7, 0.9, 0.97, 0.99)
    importance: str = "geometric"
    importance_ratio: float = 0.98
    importance_alpha: float = 1.0
    n_seeds: int = 3
    n_steps: int = 5000
    batch_size: int = 1024
    lr: float = 3e-3
    decoder_n_samples: int = 200
    decoders: tuple[str, ...] = ("relu", "nnbp", "nnbp_gaussian", "nnbp_packing", "lasso")
    transition_n_features: int = 20
    transition_n_dims: int = 5
    transition_sparsity: float = 0.95
    transition_n_points: int = 11
    transition_importance: tuple[float, float] = (0.01, 100.0)
    transition_probability: tuple[float, float] = (0.001, 1.0)
    transition_n_seeds: int = 2
    seed: int = 0

    def __post_init__(self) -> None:
        from csuper.compare import DECODERS

        def set_(name: str, value: Any) -> None:  # frozen dataclass: store the coerced value
            object.__setattr__(self, name, value)

        n = check_int(self.n_features, "n_features", low=2)
        set_("n_features", n)
        set_(
            "n_dims",
            _distinct(
                tuple(
                    check_int(v, "n_dims", low=1, high=n, high_inclusive=False)
                    for v in _seq(self.n_dims, "n_dims")
                ),
                "n_dims",
            ),
        )
        set_(
            "sparsities",
            _distinct(
                tuple(
                    check_real(v, "sparsities", low=0.0, high=1.0, high_inclusive=False)
                    for v in _seq(self.sparsities, "sparsities")
                ),
                "sparsities",
            ),
        )
        if self.importance not in _IMPORTANCE_KINDS:
            raise ValueError(
                f"importance must be one of {_IMPORTANCE_KINDS}; got {self.importance!r}."
            )
        set_(
            "importance_ratio",
            check_real(
                self.importance_ratio, "importance_ratio", low=0.0, high=1.0, low_inclusive=False
            ),
        )
        set_("importance_alpha", check_real(self.importance_alpha, "importance_alpha", low=0.0))
        for name in ("n_seeds", "n_steps", "batch_size", "decoder_n_samples", "transition_n_seeds"):
            set_(name, check_int(getattr(self, name), name, low=1))
        set_("lr", check_real(self.lr, "lr", low=0.0, low_inclusive=False))
        names = tuple(_seq(self.decoders, "decoders"))
        bad = [d for d in names if not isinstance(d, str) or d not in DECODERS]
        if bad:
            raise ValueError(f"decoders must be names from {tuple(DECODERS)}; got {bad[0]!r}.")
        set_("decoders", _distinct(names, "decoders"))
        tn = check_int(self.transition_n_features, "transition_n_features", low=2)
        set_("transition_n_features", tn)
        set_(
            "transition_n_dims",
            check_int(
                self.transition_n_dims, "transition_n_dims", low=1, high=tn, high_inclusive=False
            ),
        )
        set_(
            "transition_sparsity",
            check_real(
                self.transition_sparsity,
                "transition_sparsity",
                low=0.0,
                high=1.0,
                high_inclusive=False,
            ),
        )
        set_(
            "transition_n_points", check_int(self.transition_n_points, "transition_n_points", low=3)
        )
        set_(
            "transition_importance",
            _range(self.transition_importance, "transition_importance", high=math.inf),
        )
        set_(
            "transition_probability",
            _range(self.transition_probability, "transition_probability", high=1.0),
        )
        set_("seed", check_int(self.seed, "seed", low=0))

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict of every field (tuples as lists)."""
        return {
            f.name: list(v) if isinstance(v := getattr(self, f.name), tuple) else v
            for f in fields(self)
        }

    def replace(self, **changes: Any) -> StudyConfig:
        """A copy with some fields changed (validated again)."""
        unknown = sorted(set(changes) - {f.name for f in fields(self)})
        if unknown:
            raise ValueError(
                f"unknown study option(s) {unknown}; known: {sorted(f.name for f in fields(self))}."
            )
        return dataclasses.replace(self, **changes)

    @property
    def feature_probabilities(self) -> tuple[float, ...]:
        """p = 1 - S of each sparsity."""
        return tuple(1.0 - s for s in self.sparsities)


def check_config(config: Any) -> StudyConfig:
    """Return ``config`` if it is a :class:`StudyConfig`; raise TypeError naming it otherwise."""
    if not isinstance(config, StudyConfig):
        raise TypeError(f"config must be a csuper.study.StudyConfig; got {type(config).__name__}.")
    return config


def quick_config() -> StudyConfig:
    """The ``--quick`` preset: a smoke test that finishes in well under a minute on 2 cores."""
    return StudyConfig(
        n_features=20,
        n_dims=(3, 5),
        sparsities=(0.0, 0.9, 0.99),
        n_seeds=2,
        n_steps=800,
        batch_size=512,
        lr=1e-2,
        decoder_n_samples=60,
        transition_n_features=6,
        transition_n_dims=2,
        transition_sparsity=0.9,
        transition_n_points=5,
        transition_importance=(0.1, 30.0),
        transition_probability=(0.01, 1.0),
        transition_n_seeds=1,
    )


def _seq(value: Any, name: str) -> list:
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        raise TypeError(f"{name} must be a list; got {type(value).__name__} {value!r}.")
    out = list(value)
    if not out:
        raise ValueError(f"{name} must not be empty.")
    return out


def _distinct(values: tuple, name: str) -> tuple:
    if len(set(values)) != len(values):
        raise ValueError(f"{name} must hold distinct values; got {list(values)}.")
    return values


def _range(value: Any, name: str, *, high: float) -> tuple[float, float]:
    pair = _seq(value, name)
    if len(pair) != 2:
        raise ValueError(f"{name} must be a pair [low, high]; got {pair!r}.")
    lo = check_real(pair[0], f"{name}[0]", low=0.0, high=high, low_inclusive=False)
    hi = check_real(pair[1], f"{name}[1]", low=lo, high=high, low_inclusive=False)
    return (lo, hi)


# TOML layout: top-level keys are StudyConfig fields without the transition_ prefix, plus
# ``output``; the [transitions] table holds the transition_* fields without their prefix.
_TOP = {f.name for f in fields(StudyConfig) if not f.name.startswith("transition_")}
_TRANSITIONS = {
    f.name[len("transition_") :] for f in fields(StudyConfig) if f.name.startswith("transition_")
}
_DEFAULTS = {f.name: f.default for f in fields(StudyConfig)}


def _toml_loads(text: str) -> dict:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on Python 3.10 only
        import tomli as tomllib
    return tomllib.loads(text)


def load_config(path, base: StudyConfig | None = None) -> tuple[dict[str, Any], str | None]:
    """Read a study TOML file: the fields it sets and its ``output`` folder (or None).

    Parameters
    ----------
    path : str or Path
        The TOML file.
    base : StudyConfig, optional
        Unused keys are checked against this configuration's fields; the result is validated
        by ``base.replace(**fields)`` (default :class:`StudyConfig`) so wrong types and
        out-of-range values are reported with the file's name.

    Returns
    -------
    (dict, str or None)
        The fields set by the file (StudyConfig names) and the output folder.

    Raises
    ------
    ValueError
        Unreadable file, invalid TOML, an unknown key, a value of the wrong type or out of range.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ValueError(
            f"config file {str(path)!r} cannot be read ({exc.strerror or exc})."
        ) from None
    try:
        data = _toml_loads(text)
    except Exception as exc:  # tomllib.TOMLDecodeError
        raise ValueError(f"config file {str(path)!r} is not valid TOML: {exc}.") from None
    out: dict[str, Any] = {}
    output = data.pop("output", None)
    if output is not None and not isinstance(output, str):
        raise TypeError(
            f"config file {str(path)!r}: output must be a string (a folder); got {output!r}."
        )
    trans = data.pop("transitions", {})
    if not isinstance(trans, dict):
        raise TypeError(
            f"config file {str(path)!r}: transitions must be a table ([transitions]); got "
            f"{trans!r}."
        )
    for key, value in data.items():
        if key not in _TOP:
            raise ValueError(
                f"config file {str(path)!r}: unknown key {key!r}; known keys: "
                f"{sorted(_TOP | {'output', 'transitions'})}."
            )
        out[key] = value
    for key, value in trans.items():
        if key not in _TRANSITIONS:
            raise ValueError(
                f"config file {str(path)!r}: unknown key {key!r} in [transitions]; "
                f"known keys: {sorted(_TRANSITIONS)}."
            )
        out[f"transition_{key}"] = value
    for name, value in out.items():
        _check_toml_type(name, value, path)
    try:
        (base or StudyConfig()).replace(**out)
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"config file {str(path)!r}: {exc}") from None
    return out, output


def _check_toml_type(name: str, value: Any, path: Path) -> None:
    """TOML gives bool for true/false and int/float/str/list; reject what the field cannot be."""
    default = _DEFAULTS[name]
    key = name if name in _TOP else f"[transitions] {name[len('transition_') :]}"

    def fail(expected: str):
        raise TypeError(
            f"config file {str(path)!r}: {key} must be {expected}; got "
            f"{type(value).__name__} {value!r}."
        )

    def is_num(v):
        return isinstance(v, (int, float)) and not isinstance(v, bool)

    if isinstance(default, tuple):
        if not isinstance(value, list):
            fail("a list")
        item = default[0]
        if isinstance(item, str) and not all(isinstance(v, str) for v in value):
            fail("a list of strings")
        if isinstance(item, int) and not all(
            isinstance(v, int) and not isinstance(v, bool) for v in value
        ):
            fail("a list of integers")
        if isinstance(item, float) and not all(is_num(v) for v in value):
            fail("a list of numbers")
    elif isinstance(default, str):
        if not isinstance(value, str):
            fail("a string")
    elif isinstance(default, int):
        if not isinstance(value, int) or isinstance(value, bool):
            fail("an integer")
    elif not is_num(value):
        fail("a number")
