"""Assemble the lab page: one self-contained HTML file (template, CSS, JavaScript and payload).

The template, stylesheet and script are package data (``csuper/lab/assets``) read with
:mod:`importlib.resources`; the page references no file, server or network address.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from csuper._validation import check_output_file
from csuper.lab.payload import LabConfig, build_payload

__all__ = [
    "DEFAULT_OUTPUT",
    "PAYLOAD_BUDGET",
    "LabPage",
    "asset",
    "payload_json",
    "render_page",
    "write_lab",
]

#: Where ``csuper lab`` writes the page when no ``-o/--output`` is given.
DEFAULT_OUTPUT = "csuper-lab.html"

#: Upper bound of the embedded payload, in bytes (the page stays light on a phone).
PAYLOAD_BUDGET = 1_000_000

_MARKERS = {"css": "/*@CSS@*/", "js": "/*@JS@*/", "data": "@DATA@", "version": "@VERSION@"}


def asset(name: str) -> str:
    """The text of a packaged asset (``template.html``, ``lab.css`` or ``lab.js``).

    Examples
    --------
    >>> asset("lab.js").lstrip().startswith("/* csuper lab")
    True
    """
    if name not in ("template.html", "lab.css", "lab.js"):
        raise ValueError(f"name must be 'template.html', 'lab.css' or 'lab.js'; got {name!r}.")
    return (resources.files("csuper.lab") / "assets" / name).read_text(encoding="utf-8")


def payload_json(payload: dict) -> str:
    """The payload as compact JSON, safe inside ``<script>`` (every ``<`` escaped as ``\\u003c``).

    Examples
    --------
    >>> payload_json({"a": "</script>", "b": [1.5, None]})
    '{"a":"\\\\u003c/script>","b":[1.5,null]}'
    """
    if not isinstance(payload, dict):
        raise TypeError(f"payload must be a dict (from build_payload); got {payload!r:.80}.")
    try:
        text = json.dumps(payload, allow_nan=False, separators=(",", ":"), ensure_ascii=True)
    except (TypeError, ValueError) as exc:  # objects JSON cannot hold, NaN, inf, cycles
        raise ValueError(f"payload must hold only finite JSON values; {exc}.") from None
    return text.replace("<", "\\u003c")


def render_page(payload: dict) -> str:
    """The complete HTML page for a payload of :func:`~csuper.lab.build_payload`.

    Raises
    ------
    ValueError
        If the payload's JSON exceeds :data:`PAYLOAD_BUDGET` bytes.
    """
    if not isinstance(payload, dict) or "format" not in payload:
        raise TypeError("payload must be a dict returned by csuper.lab.build_payload.")
    data = payload_json(payload)
    if len(data.encode()) > PAYLOAD_BUDGET:
        raise ValueError(
            f"the payload has {len(data.encode())} bytes; the page's budget is {PAYLOAD_BUDGET} "
            "(fewer grid points or models)."
        )
    html = asset("template.html")
    for key, text in (
        ("css", asset("lab.css")),
        ("js", asset("lab.js")),
        ("version", str(payload["csuper_version"])),
        ("data", data),
    ):
        if html.count(_MARKERS[key]) < 1:
            raise RuntimeError(f"the lab template lost its {_MARKERS[key]} marker")
        html = html.replace(_MARKERS[key], text)
    return html


@dataclass(frozen=True)
class LabPage:
    """A written lab page.

    Attributes
    ----------
    path : Path
        The HTML file.
    n_bytes, payload_bytes : int
        Size of the page and of its embedded JSON payload.
    payload : dict
        The payload (see :func:`~csuper.lab.build_payload`).
    """

    path: Path
    n_bytes: int
    payload_bytes: int
    payload: dict


def write_lab(
    output=DEFAULT_OUTPUT,
    *,
    config: LabConfig | None = None,
    rng=None,
    progress: bool = False,
) -> LabPage:
    """Train and measure the models, then write the self-contained lab page to ``output``.

    Parameters
    ----------
    output : str or os.PathLike
        The HTML file to write (its folder must exist).
    config : LabConfig, optional
        Default ``LabConfig()``; :func:`~csuper.lab.quick_config` builds a preview in seconds.
    rng : None, int or numpy.random.Generator
        Seeds of every model and sample (same seed, same page).
    progress : bool
        Show progress bars while training.

    Returns
    -------
    LabPage
    """
    path = check_output_file(output, "output")
    payload = build_payload(config, rng=rng, progress=progress)
    html = render_page(payload)
    path.write_text(html, encoding="utf-8")
    return LabPage(path, len(html.encode()), len(payload_json(payload).encode()), payload)
