"""The HTML page every ppsim report is built on: layout, stylesheet, tables, figures, file.

A report module decides which figures, tables and words it shows; this module decides how
they look. :func:`render` lays them out in the one page template
(``templates/page.html.j2`` with ``templates/page.css``); the pieces come from
:func:`section`, :func:`note`, :func:`table` and :func:`figure`. Text is escaped; every
piece returns trusted HTML (:class:`~markupsafe.Markup`), so pieces nest. plotly.js is
embedded in the page (self-contained), or loaded from ``plotly.min.js`` beside it, which
:func:`write` puts there, so a folder of reports shares one copy and still works offline.

Example:
    >>> page = render("Demo", [section("Numbers", table(["x", "y"], [["a", 0.5]], right={"y"}))])
    >>> page.count("<h2>"), '<td class="num">0.5</td>' in page
    (1, True)
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
import numpy as np
import plotly.graph_objects as go
from markupsafe import Markup, escape
from plotly.offline import get_plotlyjs

from simulation.output import write_atomic

PLOTLY_FILE = "plotly.min.js"
_TEMPLATES = jinja2.Environment(
    loader=jinja2.PackageLoader("simulation", "templates"),
    autoescape=True,
    keep_trailing_newline=True,
)


def format_number(x: float | None) -> str:
    """A number for a table: about three significant digits, thousands separated, ``–``
    for missing.

    >>> [format_number(x) for x in (0.0, 0.012345, 3.14159, 123.456, 12345.6, float("nan"))]
    ['0', '0.0123', '3.14', '123.5', '12,346', '–']
    """
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "–"
    if x == 0:
        return "0"
    magnitude = abs(x)
    if magnitude >= 1000:
        return f"{x:,.0f}"
    if magnitude >= 100:
        return f"{x:.1f}"
    return f"{x:.3g}"


def section(heading: str, *parts: str, level: int = 2) -> Markup:
    """A heading (``<h2>`` by default) followed by its parts (trusted HTML)."""
    return Markup(f"<h{level}>{escape(heading)}</h{level}>") + Markup("\n").join(
        Markup(p) for p in parts if p
    )


def note(text: str, *, warn: bool = False) -> Markup:
    """A short explanatory paragraph (nothing for no text); ``warn`` makes it a warning."""
    if not text:
        return Markup()
    return Markup('<p class="note{}">{}</p>').format(" warn" if warn else "", text)


def details(summary: str, body: str) -> Markup:
    """A collapsed section: ``summary`` (text) shows, ``body`` (trusted HTML) opens on click."""
    return Markup("<details><summary>{}</summary>{}</details>").format(summary, Markup(body))


@dataclass(frozen=True)
class Group:
    """A table row spanning every column that heads the rows below it."""

    title: str


def _row(row: Sequence[Any] | Group, classes: Sequence[str]) -> str:
    if isinstance(row, Group):
        return f'<tr class="group"><td colspan="{len(classes)}">{escape(row.title)}</td></tr>'
    cells = (
        escape(format_number(float(v)) if isinstance(v, float | np.floating) else v) for v in row
    )
    return (
        "<tr>" + "".join(f"<td{c}>{v}</td>" for v, c in zip(cells, classes, strict=True)) + "</tr>"
    )


def table(
    headers: Sequence[str],
    rows: Iterable[Sequence[Any] | Group],
    *,
    right: Collection[str] = (),
) -> Markup:
    """An HTML table; columns named in ``right`` are right-aligned (numbers).

    Floats are shown by :func:`format_number`, :class:`~markupsafe.Markup` cells as they
    are, anything else as escaped text; a :class:`Group` row heads the rows below it.
    """
    classes = [' class="num"' if h in right else "" for h in headers]
    head = "".join(f"<th{c}>{escape(h)}</th>" for h, c in zip(headers, classes, strict=True))
    body = "".join(_row(row, classes) for row in rows)
    return Markup(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")


def figure(fig: go.Figure, caption: str = "", name: str | None = None) -> Markup:
    """A Plotly figure (plotly.js not included: :func:`render` loads it once per page) with
    an optional caption; ``name`` gives its element the id ``figure-<name>``."""
    div = fig.to_html(
        full_html=False,
        include_plotlyjs=False,
        div_id=f"figure-{name}" if name else None,
        config={"responsive": True, "displaylogo": False},
    )
    text = Markup("<figcaption>{}</figcaption>").format(caption) if caption else ""
    return Markup(f"<figure>{div}{text}</figure>")


def render(
    title: str,
    body: Iterable[str],
    *,
    heading: str | None = None,
    subtitle: Sequence[str] = (),
    shared_plotly: bool = False,
) -> str:
    """A complete HTML page.

    Args:
        title: the browser tab's title (text); also the page heading unless ``heading``.
        body: the page's parts in order (trusted HTML; empty ones are skipped).
        heading: the heading at the top of the page (text), if not ``title``.
        subtitle: short lines under the heading (trusted HTML: escape text first).
        shared_plotly: load plotly.js from ``plotly.min.js`` beside the page instead of
            embedding it (see :func:`write`).
    """
    return _TEMPLATES.get_template("page.html.j2").render(
        title=title,
        heading=heading or title,
        subtitle=[Markup(line) for line in subtitle],
        body=[Markup(part) for part in body if part],
        plotly_src=PLOTLY_FILE if shared_plotly else None,
        plotly_js=None if shared_plotly else Markup(get_plotlyjs()),
    )


def write_plotly_js(folder: Path) -> Path:
    """Write ``plotly.min.js`` (the installed plotly's) into ``folder`` unless it is there
    already, unchanged."""
    path = folder / PLOTLY_FILE
    text = get_plotlyjs()
    if not path.exists() or path.stat().st_size != len(text.encode("utf-8")):
        write_atomic(path, text)
    return path


def write(path: Path, page: str, *, shared_plotly: bool = False) -> Path:
    """Write a page made by :func:`render` to ``path`` atomically; with ``shared_plotly``
    (as it was rendered) also the ``plotly.min.js`` it loads, beside it."""
    if shared_plotly:
        write_plotly_js(Path(path).parent)
    return write_atomic(path, page)
