"""The report of a study, rebuilt at any time from its stored records.

:func:`write_report` parses the records (:func:`csuper.study.records.parse_record`), answers
the questions (:mod:`csuper.study.questions`), draws their figures and writes into the study
folder::

    report.md       Conclusions first (one verdict per question, with its numbers), then
                    Limitations, one section per question, the method and the run
    report.html     the same report, self-contained (figures embedded as data URIs)
    study.json      configuration, versions, run facts, every verdict and the numbers behind it
    tables/*.csv    every table of the report (and tables/*.json with the configuration)
    figures/*.png   one figure per question

Nothing in the report is written by hand: every sentence that states a result is generated from
the numbers by the question's declared rule.
"""

from __future__ import annotations

import base64
import csv
import html
import json
import math
import os
import platform
from pathlib import Path
from typing import Any

import numpy as np

from csuper.study.stats import Estimate, format_number

__all__ = ["versions", "write_report", "format_summary", "LIMITATIONS"]

#: What every study's design leaves out, stated in its report (numbers filled in from the
#: configuration).
LIMITATIONS = (
    "Seeds are the only replicates: each interval covers training noise at the stated sizes, "
    "not other sizes, importance profiles or optimisers. With {n_seeds} seeds per configuration, "
    "percentile intervals are rough (they can be too narrow).",
    "Recovered means the model's own read-out explains at least {min_explained_variance:g} of a "
    "feature's variance; compressed sensing counts exact recovery of k-sparse signals. The two "
    "are comparable in kind (a decoder's success per feature), not in error level.",
    "The l1 threshold and the compressed-sensing capacity use Amelunxen et al.'s formula for a "
    "Gaussian sensing matrix, an upper bound on the exact statistical dimension at finite n "
    "(estimated by Monte Carlo for n <= 200 in the Q1 table); trained W are not Gaussian.",
    "The per-feature loss model of the ReLU toy model assumes at most one active neighbour "
    "(p <= 0.1); the quadratic model of Scherlis et al. is the case where it is exact.",
    "Transitions are located to a bracket of the grid after bisection, on the state of the "
    "lowest-loss replicate; a bracket is as precise as the replicates' best-of-N decides.",
    "Training settings are fixed per question ({n_steps} steps of {batch_size}, lr {lr:g}, weight "
    "decay {weight_decay:g}); Q8 checks the headline number against other settings only at "
    "its reference sizes.",
)


def versions() -> dict[str, str]:
    """Versions of csuper, Python and the numerical stack, and the platform."""
    from importlib.metadata import PackageNotFoundError, version

    import csuper

    out = {"csuper": csuper.__version__, "python": platform.python_version()}
    for pkg in ("numpy", "scipy", "numba", "cvxpy", "matplotlib"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:  # pragma: no cover - every one is a dependency
            out[pkg] = "not installed"
    out["platform"] = platform.platform()
    out["cpus"] = str(os.cpu_count())
    return out


# -- blocks: one document, rendered as Markdown and as HTML --------------------------------------


def _cell(v: Any) -> str:
    if isinstance(v, Estimate):
        return format_number(v.value)
    if isinstance(v, float):
        return format_number(v)
    return str(v)


def _md(blocks: list[tuple]) -> str:
    out = []
    for b in blocks:
        kind = b[0]
        if kind in ("h1", "h2", "h3"):
            out += ["#" * int(kind[1]) + " " + b[1], ""]
        elif kind == "p":
            out += [b[1], ""]
        elif kind == "ul":
            out += [f"- {item}" for item in b[1]] + [""]
        elif kind == "table":
            _, title, columns, rows = b
            out += [f"*{title}*", ""]
            esc = lambda s: str(s).replace("|", "\\|")  # noqa: E731
            out.append("| " + " | ".join(esc(label) for _, label in columns) + " |")
            out.append("|" + "|".join("---" for _ in columns) + "|")
            for row in rows:
                out.append("| " + " | ".join(esc(_cell(row.get(k, ""))) for k, _ in columns) + " |")
            out.append("")
        elif kind == "img":
            out += [f"![{b[2]}](figures/{b[1]})", ""]
        elif kind == "pre":
            out += ["```", b[1], "```", ""]
    return "\n".join(out)


_CSS = (
    "body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;"
    "line-height:1.45;color:#222}table{border-collapse:collapse;margin:.5em 0 1.2em;font-size:"
    ".85em}td,th{border:1px solid #ccc;padding:.25em .5em;text-align:left}th{background:#f3f3f3}"
    "img{max-width:100%}.supported{color:#1a7f37}.not{color:#b3261e}.inconclusive{color:#9a6700}"
    "caption{text-align:left;font-style:italic;padding:.3em 0}pre{background:#f6f6f6;padding:"
    ".6em;overflow:auto}"
)


def _html(blocks: list[tuple], title: str, figures: Path) -> str:
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>",
    ]
    for b in blocks:
        kind = b[0]
        if kind in ("h1", "h2", "h3"):
            out.append(f"<{kind}>{html.escape(b[1])}</{kind}>")
        elif kind == "p":
            out.append(f"<p>{_inline(b[1])}</p>")
        elif kind == "ul":
            out.append("<ul>" + "".join(f"<li>{_inline(i)}</li>" for i in b[1]) + "</ul>")
        elif kind == "table":
            _, caption, columns, rows = b
            head = "".join(f"<th>{html.escape(label)}</th>" for _, label in columns)
            body = "".join(
                "<tr>"
                + "".join(f"<td>{html.escape(_cell(r.get(k, '')))}</td>" for k, _ in columns)
                + "</tr>"
                for r in rows
            )
            out.append(
                f"<table><caption>{html.escape(caption)}</caption><tr>{head}</tr>{body}</table>"
            )
        elif kind == "img":
            data = base64.b64encode((figures / b[1]).read_bytes()).decode("ascii")
            out.append(f'<p><img alt="{html.escape(b[2])}" src="data:image/png;base64,{data}"></p>')
        elif kind == "pre":
            out.append(f"<pre>{html.escape(b[1])}</pre>")
    out.append("</body></html>")
    return "\n".join(out)


def _inline(text: str) -> str:
    """Escape, then render the two inline marks the report uses: **bold** and `code`."""
    parts = html.escape(text).split("**")
    text = "".join(f"<strong>{p}</strong>" if i % 2 else p for i, p in enumerate(parts))
    parts = text.split("`")
    text = "".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(parts))
    for status, cls in (
        ("not supported", "not"),
        ("Not supported", "not"),
        ("supported", "supported"),
        ("Supported", "supported"),
        ("inconclusive", "inconclusive"),
        ("Inconclusive", "inconclusive"),
    ):
        marker = f"<strong>{status}</strong>"
        text = text.replace(marker, f'<strong class="{cls}">{status}</strong>')
    return text


# -- files --------------------------------------------------------------------------------------


def _clean(obj: Any) -> Any:
    """JSON-safe copy: NaN and infinities become None, Estimates dicts, numpy scalars Python."""
    if isinstance(obj, Estimate):
        return _clean(obj.to_dict())
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    if isinstance(obj, np.generic):
        return _clean(obj.item())
    return obj


def _write_text(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _slug(text: str) -> str:
    keep = "".join(c if c.isalnum() else "_" for c in text.lower())
    return "_".join(p for p in keep.split("_") if p)[:60]


def _write_table(folder: Path, name: str, columns, rows, meta: dict) -> None:
    tmp = folder / f"{name}.csv.tmp"
    with open(tmp, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow([label for _, label in columns])
        for row in rows:
            writer.writerow([_cell(row.get(k, "")) for k, _ in columns])
    os.replace(tmp, folder / f"{name}.csv")
    _write_text(
        folder / f"{name}.json",
        json.dumps(_clean({**meta, "table": name, "columns": columns, "rows": rows}), indent=1),
    )


def format_summary(summary: dict[str, Any]) -> str:
    """The verdicts as a few lines of text (printed by ``csuper study``).

    ``summary`` is the dict :func:`write_report` returns (``summary.json``): its
    ``"questions"`` list holds dicts with the str fields ``qid``, ``title``, ``status`` and
    ``sentence``.
    """
    if not isinstance(summary, dict):
        raise TypeError(f"summary must be a dict (from write_report); got {summary!r:.80}.")
    questions = summary.get("questions", [])
    fields = ("qid", "title", "status", "sentence")
    if not isinstance(questions, list) or not all(
        isinstance(q, dict) and all(isinstance(q.get(f), str) for f in fields) for q in questions
    ):
        raise ValueError(
            "summary['questions'] must be a list of dicts with str fields qid, title, status "
            f"and sentence; got {questions!r:.80}."
        )
    lines = []
    for q in questions:
        lines.append(f"{q['qid']} {q['title']}: {q['status'].upper()}. {q['sentence']}")
    return "\n".join(lines)


def write_report(folder, config, records: list[dict], *, run_info: dict | None = None) -> dict:
    """Answer the questions from ``records`` and write the report folder.

    Parameters
    ----------
    folder : str or Path
        The study folder.
    config : StudyConfig
    records : list of dict
        Stored records (validated here by :func:`csuper.study.records.parse_record`).
    run_info : dict, optional
        Facts about the run (executor, tasks run and resumed, wall time, load) for the report.

    Returns
    -------
    dict
        The summary written to ``study.json``: ``questions`` (id, title, status, sentence,
        numbers), ``config``, ``versions``, ``run``.
    """
    from csuper.study import figures
    from csuper.study.config import check_config
    from csuper.study.questions import answer_questions
    from csuper.study.records import parse_record

    config = check_config(config)
    folder = Path(folder)
    parsed = [parse_record(r) for r in records]
    results = answer_questions(parsed, config, rng=config.seed)
    (folder / "tables").mkdir(exist_ok=True)
    (folder / "figures").mkdir(exist_ok=True)
    meta = {"config": config.to_dict(), "versions": versions()}
    run = run_info or {}
    fig_files: dict[str, str] = {}
    for res in results:
        fig = figures.draw(res, config)
        if fig is not None:
            name = f"{res.qid.lower()}_{_slug(res.title)}.png"
            figures.save_figure(fig, folder / "figures" / name)
            fig_files[res.qid] = name
        for j, (_title, columns, rows) in enumerate(res.tables):
            if rows:
                _write_table(folder / "tables", f"{res.qid.lower()}_{j + 1}", columns, rows, meta)
    summary = {
        "questions": [
            {
                "qid": r.qid,
                "title": r.title,
                "status": r.status,
                "sentence": r.sentence,
                "criterion": r.criterion,
                "numbers": r.numbers,
            }
            for r in results
        ],
        **meta,
        "run": run,
        "figures": fig_files,
    }
    _write_text(folder / "study.json", json.dumps(_clean(summary), indent=1))
    blocks = _blocks(config, results, fig_files, meta, run)
    title = "csuper study: do toy models pack features at a compressed-sensing rate?"
    _write_text(folder / "report.md", _md(blocks))
    _write_text(folder / "report.html", _html(blocks, title, folder / "figures"))
    return _clean(summary)


def _blocks(config, results, fig_files, meta, run) -> list[tuple]:
    v = meta["versions"]
    c = config
    blocks: list[tuple] = [
        ("h1", "csuper study: do toy models pack features at a compressed-sensing rate?"),
        (
            "p",
            f"Toy models of superposition (Elhage et al. 2022) trained with {c.n_seeds} replicate "
            f"seeds per configuration ({c.n_steps} steps of {c.batch_size}, AdamW lr {c.lr:g}, "
            f"weight decay {c.weight_decay:g}, root seed {c.seed}); every interval is a "
            f"{round(100 * c.confidence)} % percentile bootstrap over the replicates within each "
            f"configuration ({c.n_bootstrap} resamples). csuper {v['csuper']}, Python "
            f"{v['python']}, numpy {v['numpy']}, numba {v['numba']}, on {v['platform']}.",
        ),
        ("h2", "Conclusions"),
        (
            "ul",
            [f"**{r.qid} {r.title}: {r.status}.** {r.sentence}" for r in results],
        ),
        ("h2", "Limitations"),
        (
            "ul",
            [text.format(**c.to_dict()) for text in LIMITATIONS]
            + [f"{r.qid}: {n}" for r in results for n in r.notes],
        ),
    ]
    for r in results:
        blocks += [
            ("h2", f"{r.qid}. {r.title}"),
            ("p", f"**Claim.** {r.claim}"),
            ("p", f"**Rule (fixed in csuper.study.questions before the data).** {r.criterion}"),
            ("p", f"**Verdict: {r.status}.** {r.sentence}"),
        ]
        for title, columns, rows in r.tables:
            if rows:
                blocks.append(("table", title, columns, rows))
        if r.qid in fig_files:
            blocks.append(("img", fig_files[r.qid], f"{r.qid} {r.title}"))
    blocks += [
        ("h2", "Files"),
        (
            "ul",
            [
                "`report.html`: this report, self-contained (figures embedded).",
                "`study.json`: configuration, versions, run facts, every verdict with its numbers.",
                "`tables/*.csv`, `tables/*.json`: every table above.",
                "`records.jsonl`: one typed record per finished task (the resumable store); "
                "`csuper study --report-only DIR` re-renders this report from it.",
            ],
        ),
    ]
    if run:
        blocks += [
            ("h2", "Run"),
            (
                "p",
                f"{run.get('ran', 0)} tasks run, {run.get('resumed', 0)} resumed from the folder, "
                f"executor {run.get('executor', '?')}, {run.get('wall_seconds', math.nan):.1f} s "
                f"wall time, load average {run.get('load', '?')} at the start.",
            ),
        ]
    return blocks
