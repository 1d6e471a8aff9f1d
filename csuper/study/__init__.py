"""The study: trained toy models tested against compressed sensing and Lagrangian capacity.

:func:`run_study` trains toy models of superposition over a sweep of m and sparsity (best of
several seeds), runs the four comparisons of :mod:`csuper.compare` on them (compressed-sensing
scaling, decoder gap, capacity against the Lagrangian allocation, phase transitions with
hysteresis) and writes a report folder; ``csuper study`` (the default command) runs it.

Modules: :mod:`~csuper.study.config` (what a study computes), :mod:`~csuper.study.tasks` (its
units of work), :mod:`~csuper.study.runner` (resumable execution), :mod:`~csuper.study.report`
and :mod:`~csuper.study.figures` (the report folder).

Examples
--------
>>> import tempfile
>>> from csuper.study import quick_config, run_study
>>> cfg = quick_config().replace(n_dims=(3,), sparsities=(0.9,), n_steps=100, decoder_n_samples=10,
...                              decoders=("relu", "nnbp"), transition_n_points=3)
>>> res = run_study(cfg, tempfile.mkdtemp())
>>> res.ran, res.resumed, sorted(res.summary["decoder_gap"])
(3, 0, ['nnbp', 'relu'])
>>> run_study(cfg, res.folder).resumed
3
"""

from csuper.study.config import DEFAULT_OUTPUT, QUICK_OUTPUT, StudyConfig, load_config, quick_config
from csuper.study.report import format_summary, write_report
from csuper.study.runner import StudyResult, open_study_folder, run_study
from csuper.study.tasks import study_tasks

__all__ = [
    "StudyConfig",
    "DEFAULT_OUTPUT",
    "QUICK_OUTPUT",
    "quick_config",
    "load_config",
    "run_study",
    "StudyResult",
    "open_study_folder",
    "study_tasks",
    "write_report",
    "format_summary",
]
