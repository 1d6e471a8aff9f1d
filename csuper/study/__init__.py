"""The study: do toy models pack features at a compressed-sensing rate, and does a Lagrangian
capacity allocation predict which features get a direction?

:func:`run_study` trains toy models with replicate seeds for eight questions
(:data:`csuper.study.questions.QUESTIONS`: compressed-sensing scaling with n varied, the decoder
and amortisation gap, capacity against the Lagrangian, phase transitions, sparsity, model size,
correlation and robustness), answers each with a verdict generated from the numbers by a rule
declared in code, and writes a report folder (report.md, a self-contained report.html,
study.json, tables, figures). ``csuper study`` (the default command) runs it;
:func:`render_study` re-renders a saved study without retraining.

Modules: :mod:`~csuper.study.config` (what a study computes, presets), :mod:`~csuper.study.tasks`
(its units of work), :mod:`~csuper.study.records` (their typed, versioned records),
:mod:`~csuper.study.runner` (resumable execution), :mod:`~csuper.study.questions` and
:mod:`~csuper.study.stats` (the answers), :mod:`~csuper.study.report` and
:mod:`~csuper.study.figures` (the report folder).

Examples
--------
>>> import tempfile
>>> from csuper.study import quick_config, run_study
>>> cfg = quick_config().replace(n_steps=100, sparsity_sparsities=(0.0, 0.9), n_bootstrap=100)
>>> res = run_study(cfg, tempfile.mkdtemp())
>>> res.ran, res.resumed, sorted(res.verdicts)
(22, 0, ['Q1', 'Q2', 'Q3', 'Q4', 'Q5', 'Q6', 'Q7', 'Q8'])
>>> run_study(cfg, res.folder).resumed
22
"""

from csuper.study.config import (
    DEFAULT_OUTPUT,
    PRESETS,
    QUICK_OUTPUT,
    StudyConfig,
    full_config,
    load_config,
    quick_config,
)
from csuper.study.questions import QUESTIONS
from csuper.study.records import RECORD_VERSION, StudyRecordError, parse_record
from csuper.study.report import format_summary, write_report
from csuper.study.runner import StudyResult, open_study_folder, render_study, run_study
from csuper.study.tasks import study_tasks

__all__ = [
    "StudyConfig",
    "PRESETS",
    "DEFAULT_OUTPUT",
    "QUICK_OUTPUT",
    "quick_config",
    "full_config",
    "load_config",
    "QUESTIONS",
    "RECORD_VERSION",
    "StudyRecordError",
    "parse_record",
    "run_study",
    "render_study",
    "StudyResult",
    "open_study_folder",
    "study_tasks",
    "write_report",
    "format_summary",
]
