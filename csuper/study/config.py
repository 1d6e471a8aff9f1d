"""What a study computes: :class:`StudyConfig`, its presets and TOML files.

A study is identified by its configuration (every field of :class:`StudyConfig`); the output
folder is where it is written, not what it is. Fields are grouped by the question they serve and
named with its prefix (``scaling_``, ``sparsity_``, ``decoder_``, ``capacity_``,
``transition_``, ``size_``, ``correlation_``, ``robustness_``); the training settings, the
number of replicate seeds and the statistics settings have no prefix. A TOML file sets any subset
of the fields: the unprefixed ones at the top level (with ``preset`` and ``output``), the others
in a table named for the prefix, keys without it::

    preset = "default"          # the starting point: quick, default or full
    n_seeds = 5
    output = "my-study"

    [scaling]
    n_features = [100, 200, 400]
    n_dims = [10, 20]

    [transitions]               # the transition_ fields (table name in the plural)
    n_seeds = 10
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any

from csuper._validation import check_input_file, check_int, check_real

__all__ = [
    "StudyConfig",
    "PRESETS",
    "DEFAULT_OUTPUT",
    "QUICK_OUTPUT",
    "check_config",
    "quick_config",
    "full_config",
    "load_config",
]

#: Output folder of ``csuper study`` when none is given (``--quick``: :data:`QUICK_OUTPUT`).
DEFAULT_OUTPUT = "csuper-study"
QUICK_OUTPUT = "csuper-study-quick"

#: Largest value of any count or size field (a guard against typos such as 10**12 steps).
_HUGE = 10**7


def _int(low: int, high: int = _HUGE) -> dict:
    return {"kind": "int", "low": low, "high": high}


def _real(low: float, high: float, *, low_open: bool = False, high_open: bool = False) -> dict:
    return {"kind": "real", "low": low, "high": high, "low_open": low_open, "high_open": high_open}


def _ints(low: int, high: int = _HUGE) -> dict:
    return {"kind": "ints", "low": low, "high": high}


def _reals(low: float, high: float, *, low_open: bool = False, high_open: bool = False) -> dict:
    return {
        "kind": "reals",
        "low": low,
        "high": high,
        "low_open": low_open,
        "high_open": high_open,
    }


def _pair(low: float, high: float) -> dict:
    return {"kind": "pair", "low": low, "high": high}


def _f(default: Any, spec: dict, doc: str) -> Any:
    return field(default=default, metadata={**spec, "doc": doc})


@dataclass(frozen=True)
class StudyConfig:
    """Configuration of a study (defaults: the default ``csuper study``, see :data:`PRESETS`).

    Every field is validated on construction (TypeError or ValueError naming it); the
    fields and what they mean are listed by ``StudyConfig.describe()``.

    Examples
    --------
    >>> cfg = StudyConfig()
    >>> cfg.n_seeds, cfg.scaling_n_features
    (3, (50, 100, 200))
    >>> cfg.replace(n_seeds=0)
    Traceback (most recent call last):
    ...
    ValueError: n_seeds must be an integer in [2, 10000000]; got 0.
    """

    # -- training and replicates (every question) --------------------------------------------
    n_seeds: int = _f(3, _int(2), "replicate seeds per configuration (seeds are replicates)")
    n_steps: int = _f(3000, _int(1), "training steps per model")
    batch_size: int = _f(1024, _int(1), "samples per training step")
    lr: float = _f(3e-3, _real(0.0, 10.0, low_open=True), "learning rate (AdamW)")
    weight_decay: float = _f(1e-2, _real(0.0, 10.0), "AdamW weight decay")
    represented_threshold: float = _f(
        0.5, _real(0.0, 10.0), "a feature is represented when |w_i| exceeds this"
    )
    min_explained_variance: float = _f(
        0.5,
        _real(0.0, 1.0, low_open=True, high_open=True),
        "a feature is recovered when the model's read-out explains this fraction of its variance",
    )
    n_bootstrap: int = _f(1000, _int(100, 10**6), "bootstrap resamples of every interval")
    confidence: float = _f(
        0.95, _real(0.5, 1.0, high_open=True), "level of every confidence interval"
    )
    seed: int = _f(0, _int(0, 2**63 - 1), "root seed (every task gets a child seed)")
    # -- Q1 compressed-sensing scaling: n varied at fixed k and m --------------------------------
    scaling_n_features: tuple[int, ...] = _f(
        (50, 100, 200), _ints(4, 10**5), "n values of the n sweep"
    )
    scaling_n_dims: tuple[int, ...] = _f((5, 10), _ints(1, 10**4), "m values of the n sweep")
    scaling_k: tuple[float, ...] = _f(
        (1.0, 4.0),
        _reals(0.0, 1e4, low_open=True),
        "expected active features k = n p, fixed while n varies",
    )
    scaling_importance_alpha: float = _f(
        0.5, _real(0.0, 10.0, low_open=True), "decaying arm: I_i = (i + 1)**-alpha"
    )
    # -- Q5 sparsity as the control variable -----------------------------------------------------
    sparsity_n_features: int = _f(40, _int(2, 10**5), "n of the sparsity sweep")
    sparsity_n_dims: int = _f(8, _int(1, 10**4), "m of the sparsity sweep")
    sparsity_sparsities: tuple[float, ...] = _f(
        (0.0, 0.7, 0.9, 0.95, 0.98, 0.99),
        _reals(0.0, 1.0, high_open=True),
        "sparsities S = 1 - p of the sweep (constant importance)",
    )
    # -- Q2 decoders -----------------------------------------------------------------------------
    decoder_n_samples: int = _f(300, _int(10, 10**6), "test inputs decoded per replicate")
    decoder_n_fit_samples: int = _f(
        1000, _int(10, 10**6), "samples on which decoders choose their parameters"
    )
    decoder_noise_level: float = _f(
        0.1, _real(0.0, 10.0, low_open=True), "noise of the noisy arm, relative to RMS(W x)"
    )
    decoder_max_features: int = _f(
        200, _int(2, 10**5), "decoders run on constant-importance models with n <= this"
    )
    # -- Q3 capacity -----------------------------------------------------------------------------
    capacity_quadratic_n_features: int = _f(8, _int(2, 1000), "n of the quadratic models")
    capacity_quadratic_n_dims: int = _f(3, _int(1, 1000), "m of the quadratic models")
    capacity_quadratic_kurtosis: tuple[float, ...] = _f(
        (4.0, 10.0, 30.0), _reals(1.0, 1e6, low_open=True), "kurtosis K of the quadratic models"
    )
    # -- Q4 phase transitions --------------------------------------------------------------------
    transition_n_features: int = _f(20, _int(3, 10**4), "n of the transition sweeps")
    transition_n_dims: int = _f(5, _int(1, 10**4), "m of the transition sweeps")
    transition_sparsity: float = _f(
        0.95, _real(0.0, 1.0, high_open=True), "S of the features not swept"
    )
    transition_n_points: int = _f(7, _int(3, 1000), "points of the bracketing grid")
    transition_importance: tuple[float, float] = _f(
        (0.01, 100.0), _pair(0.0, 1e12), "range of the importance sweep"
    )
    transition_probability: tuple[float, float] = _f(
        (0.003, 1.0), _pair(0.0, 1.0), "range of the probability sweep"
    )
    transition_n_seeds: int = _f(4, _int(2, 10**4), "replicates per transition point")
    transition_n_bisections: int = _f(3, _int(0, 60), "bisection steps after bracketing")
    transition_revive_norm: float = _f(
        0.1, _real(0.0, 1.0), "warm legs kick a dead swept feature to this norm"
    )
    # -- Q6 bigger is cleaner --------------------------------------------------------------------
    size_n_dims: tuple[int, ...] = _f((4, 8, 16, 32), _ints(1, 10**4), "m values")
    size_features_per_dim: int = _f(4, _int(2, 1000), "n = this * m")
    size_importance_alpha: float = _f(
        1.0, _real(0.0, 10.0), "I_i = (i + 1)**-alpha (beta of the question)"
    )
    size_feature_probability: float = _f(0.05, _real(0.0, 1.0, low_open=True), "p of every feature")
    # -- Q7 correlation --------------------------------------------------------------------------
    correlation_n_features: int = _f(20, _int(4, 10**4), "n (features in groups of 2)")
    correlation_n_dims: int = _f(5, _int(1, 10**4), "m")
    correlation_feature_probability: float = _f(
        0.05, _real(0.0, 0.5, low_open=True), "marginal p of every feature"
    )
    # -- Q8 robustness ---------------------------------------------------------------------------
    robustness_n_features: int = _f(40, _int(2, 10**5), "n of the reference models")
    robustness_n_dims: int = _f(8, _int(1, 10**4), "m of the reference models")
    robustness_sparsities: tuple[float, ...] = _f(
        (0.9, 0.99), _reals(0.0, 1.0, high_open=True), "S of the reference models"
    )
    robustness_long_factor: int = _f(
        2, _int(2, 100), "the long-training variant runs this many times the notebook's steps"
    )
    robustness_variants: tuple[str, ...] = _f(
        ("study", "no_weight_decay", "notebook", "notebook_long"),
        {"kind": "names", "registry": "csuper.study.tasks.VARIANTS"},
        "training variants compared (keys of csuper.study.tasks.VARIANTS; 'study' included)",
    )

    def __post_init__(self) -> None:
        for f in fields(self):
            object.__setattr__(self, f.name, _check_field(f, getattr(self, f.name)))
        for name, n_name in (
            ("sparsity_n_dims", "sparsity_n_features"),
            ("transition_n_dims", "transition_n_features"),
            ("correlation_n_dims", "correlation_n_features"),
            ("robustness_n_dims", "robustness_n_features"),
            ("capacity_quadratic_n_dims", "capacity_quadratic_n_features"),
        ):
            if getattr(self, name) >= getattr(self, n_name):
                raise ValueError(
                    f"{name} must be below {n_name} = {getattr(self, n_name)}; "
                    f"got {getattr(self, name)}."
                )
        if max(self.scaling_n_dims) >= min(self.scaling_n_features):
            raise ValueError(
                f"scaling_n_dims must be below every scaling_n_features; got m = "
                f"{max(self.scaling_n_dims)} and n = {min(self.scaling_n_features)}."
            )
        if max(self.scaling_k) > min(self.scaling_n_features):
            raise ValueError(
                f"scaling_k must be at most every scaling_n_features (k = n p, p <= 1); got "
                f"k = {max(self.scaling_k)} and n = {min(self.scaling_n_features)}."
            )
        if self.correlation_n_features % 2:
            raise ValueError(
                "correlation_n_features must be even (features come in groups of 2); got "
                f"{self.correlation_n_features}."
            )

    @classmethod
    def describe(cls) -> dict[str, str]:
        """Field name -> what it means."""
        return {f.name: f.metadata["doc"] for f in fields(cls)}

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict of every field (tuples as lists)."""
        return {
            f.name: list(v) if isinstance(v := getattr(self, f.name), tuple) else v
            for f in fields(self)
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StudyConfig:
        """Inverse of :meth:`to_dict` (validated; unknown keys are refused)."""
        if not isinstance(data, dict):
            raise TypeError(f"data must be a dict; got {type(data).__name__}.")
        return cls().replace(**{k: tuple(v) if isinstance(v, list) else v for k, v in data.items()})

    def replace(self, **changes: Any) -> StudyConfig:
        """A copy with some fields changed (validated again)."""
        known = {f.name for f in fields(self)}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise ValueError(f"unknown study option(s) {unknown}; known: {sorted(known)}.")
        return dataclasses.replace(self, **changes)


def _check_field(f: dataclasses.Field, value: Any) -> Any:
    spec, name = f.metadata, f.name
    kind = spec["kind"]
    if kind == "int":
        return check_int(value, name, low=spec["low"], high=spec["high"])
    if kind == "real":
        return check_real(
            value,
            name,
            low=spec["low"],
            high=spec["high"],
            low_inclusive=not spec["low_open"],
            high_inclusive=not spec["high_open"],
        )
    items = _seq(value, name)
    if kind == "names":
        from csuper.study.tasks import VARIANTS

        bad = [v for v in items if not isinstance(v, str) or v not in VARIANTS]
        if bad or "study" not in items or len(set(items)) != len(items):
            raise ValueError(
                f"{name} must be distinct names from {tuple(VARIANTS)} including 'study'; "
                f"got {items!r}."
            )
        return tuple(v for v in VARIANTS if v in items)
    if kind == "pair":
        if len(items) != 2:
            raise ValueError(f"{name} must be a pair [low, high]; got {items!r}.")
        lo = check_real(
            items[0], f"{name}[0]", low=spec["low"], high=spec["high"], low_inclusive=False
        )
        hi = check_real(items[1], f"{name}[1]", low=lo, high=spec["high"], low_inclusive=False)
        return (lo, hi)
    out: tuple
    if kind == "ints":
        out = tuple(check_int(v, name, low=spec["low"], high=spec["high"]) for v in items)
    else:
        out = tuple(
            check_real(
                v,
                name,
                low=spec["low"],
                high=spec["high"],
                low_inclusive=not spec["low_open"],
                high_inclusive=not spec["high_open"],
            )
            for v in items
        )
    if len(set(out)) != len(out):
        raise ValueError(f"{name} must hold distinct values; got {list(out)}.")
    if len(out) > 1000:
        raise ValueError(f"{name} must hold at most 1000 values; got {len(out)}.")
    return tuple(sorted(out))


def _seq(value: Any, name: str) -> list:
    if isinstance(value, (str, bytes, dict)) or not hasattr(value, "__iter__"):
        raise TypeError(f"{name} must be a list; got {type(value).__name__} {value!r}.")
    out = list(value)
    if not out:
        raise ValueError(f"{name} must not be empty.")
    return out


def check_config(config: Any) -> StudyConfig:
    """Return ``config`` if it is a :class:`StudyConfig`; raise TypeError naming it otherwise."""
    if not isinstance(config, StudyConfig):
        raise TypeError(f"config must be a csuper.study.StudyConfig; got {type(config).__name__}.")
    return config


def quick_config() -> StudyConfig:
    """The ``--quick`` preset: every question on toy sizes, under a minute on 2 cores (a smoke
    test of the machinery; its verdicts rest on too few models to mean much)."""
    return StudyConfig(
        n_seeds=2,
        n_steps=600,
        batch_size=256,
        lr=1e-2,
        n_bootstrap=200,
        scaling_n_features=(12, 24),
        scaling_n_dims=(3,),
        scaling_k=(0.5, 2.0),
        sparsity_n_features=12,
        sparsity_n_dims=3,
        sparsity_sparsities=(0.0, 0.9, 0.97),
        decoder_n_samples=40,
        decoder_n_fit_samples=100,
        decoder_max_features=24,
        capacity_quadratic_n_features=5,
        capacity_quadratic_n_dims=2,
        capacity_quadratic_kurtosis=(10.0,),
        transition_n_features=6,
        transition_n_dims=2,
        transition_sparsity=0.9,
        transition_n_points=3,
        transition_importance=(0.1, 30.0),
        transition_probability=(0.01, 1.0),
        transition_n_seeds=2,
        transition_n_bisections=1,
        size_n_dims=(2, 4),
        size_features_per_dim=3,
        correlation_n_features=8,
        correlation_n_dims=2,
        robustness_n_features=12,
        robustness_n_dims=3,
        robustness_sparsities=(0.9,),
        robustness_long_factor=2,
    )


def full_config() -> StudyConfig:
    """The full preset, sized for a Dask cluster: n from 100 to 2000, m from 10 to 160 in the
    size question, 10 replicates per transition point, 5 replicate seeds per configuration."""
    return StudyConfig(
        n_seeds=5,
        n_steps=5000,
        scaling_n_features=(100, 200, 500, 1000, 2000),
        scaling_n_dims=(10, 20, 40),
        scaling_k=(2.0, 5.0, 10.0),
        sparsity_n_features=100,
        sparsity_n_dims=20,
        sparsity_sparsities=(0.0, 0.5, 0.7, 0.9, 0.95, 0.98, 0.99, 0.995),
        decoder_max_features=500,
        capacity_quadratic_n_features=12,
        capacity_quadratic_n_dims=4,
        capacity_quadratic_kurtosis=(4.0, 10.0, 30.0, 100.0),
        transition_n_points=9,
        transition_n_seeds=10,
        transition_n_bisections=5,
        size_n_dims=(10, 20, 40, 80, 160),
        correlation_n_features=40,
        correlation_n_dims=10,
        robustness_n_features=100,
        robustness_n_dims=20,
        robustness_sparsities=(0.9, 0.99),
        robustness_long_factor=3,
    )


#: The presets (name -> function returning its :class:`StudyConfig`).
PRESETS: dict[str, Callable[[], StudyConfig]] = {
    "quick": quick_config,
    "default": StudyConfig,
    "full": full_config,
}

# TOML layout: the unprefixed fields (plus "preset" and "output") at the top level; the others
# in a table per prefix (the transition_ fields in [transitions], the rest under their prefix).
_TABLES = {
    "scaling": "scaling_",
    "sparsity": "sparsity_",
    "decoders": "decoder_",
    "capacity": "capacity_",
    "transitions": "transition_",
    "size": "size_",
    "correlation": "correlation_",
    "robustness": "robustness_",
}
_NAMES = {f.name for f in fields(StudyConfig)}
_TOP = {n for n in _NAMES if not any(n.startswith(p) for p in _TABLES.values())}


def _toml_name(name: str) -> str:
    """A field as a TOML file spells it: ``"[scaling] n_features"`` for ``scaling_n_features``
    (other text is returned as it is)."""
    for table, prefix in _TABLES.items():
        if name.startswith(prefix) and name in _NAMES:
            return f"[{table}] {name[len(prefix) :]}"
    return name


def _toml_loads(text: str) -> dict:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on Python 3.10 only
        import tomli as tomllib
    return tomllib.loads(text)


def load_config(path, *, preset: str | None = None) -> tuple[StudyConfig, str | None, str]:
    """Read a study TOML file: its configuration, its ``output`` folder (or None) and its preset.

    Parameters
    ----------
    path : str or Path
    preset : str, optional
        A key of :data:`PRESETS` to start from; the file may name the same one (``preset =``)
        or none. Default: the file's preset, else ``"default"``.

    Returns
    -------
    (StudyConfig, str or None, str)
        The preset's configuration with the file's fields, the output folder, the preset.

    Raises
    ------
    ValueError or TypeError
        Unreadable file, invalid TOML, an unknown or contradicting preset, an unknown table or
        key, a value of the wrong type or out of range (the message names the file and the key).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "s.toml"
    >>> lines = ['preset = "quick"', "n_seeds = 4", "[scaling]", "n_dims = [2, 3]"]
    >>> _ = f.write_text("\\n".join(lines))
    >>> cfg, output, name = load_config(f)
    >>> cfg.n_seeds, cfg.scaling_n_dims, output, name
    (4, (2, 3), None, 'quick')
    """
    path = check_input_file(path, "path")
    where = f"config file {str(path)!r}"
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"{where} cannot be read ({exc}).") from None
    try:
        data = _toml_loads(text)
    except Exception as exc:  # tomllib.TOMLDecodeError
        raise ValueError(f"{where} is not valid TOML: {exc}.") from None
    output = data.pop("output", None)
    if output is not None and not isinstance(output, str):
        raise TypeError(f"{where}: output must be a string (a folder); got {output!r}.")
    named = data.pop("preset", None)
    for value in (named, preset):
        if value is not None and value not in PRESETS:
            raise ValueError(f"{where}: preset must be one of {sorted(PRESETS)}; got {value!r}.")
    if named is not None and preset is not None and named != preset:
        raise ValueError(f"{where} names preset {named!r}, the command line {preset!r}.")
    preset = named or preset or "default"
    changes: dict[str, Any] = {}
    for key, value in data.items():
        if key in _TABLES:
            if not isinstance(value, dict):
                raise TypeError(f"{where}: {key} must be a table ([{key}]); got {value!r}.")
            for sub, v in value.items():
                name = _TABLES[key] + sub
                if name not in _NAMES:
                    known = sorted(
                        n[len(_TABLES[key]) :] for n in _NAMES if n.startswith(_TABLES[key])
                    )
                    raise ValueError(f"{where}: unknown key {sub!r} in [{key}]; known: {known}.")
                changes[name] = v
        elif key in _TOP:
            changes[key] = value
        else:
            raise ValueError(
                f"{where}: unknown key {key!r}; known: "
                f"{sorted(_TOP | {'preset', 'output'} | set(_TABLES))}."
            )
    for name, value in changes.items():
        if isinstance(value, bool):  # TOML true/false is never a number here
            raise TypeError(
                f"{where}: {_toml_name(name)} must be a number or a list; got {value!r}."
            )
        if isinstance(value, list):
            changes[name] = tuple(value)
    try:
        config = PRESETS[preset]().replace(**changes)
    except (TypeError, ValueError) as exc:
        field, _, rest = str(exc).partition(" ")
        raise type(exc)(f"{where}: {_toml_name(field)} {rest}") from None
    return config, output, preset
