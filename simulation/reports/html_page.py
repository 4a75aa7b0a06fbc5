"""The HTML page every ppsim report is built on: layout, stylesheet, tables and figures.

Report modules choose the figures, tables and words; this module decides how they look.
:func:`render` fills the one template (``templates/page.html.j2`` with ``page.css``) with
pieces from :func:`section`, :func:`note`, :func:`details`, :func:`table` and
:func:`figure`, which escape text and return trusted HTML (:class:`~markupsafe.Markup`).
plotly.js is embedded (a self-contained page) or loaded from ``plotly.min.js`` beside the
page (:func:`write_plotly_js`): a folder of reports shares one copy and works offline.

    >>> page = render("Demo", [section("Numbers", table(["x", "y"], [["a", 0.5]], right={"y"}))])
    >>> page.count("<h2>"), '<td class="num">0.5</td>' in page
    (1, True)
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Collection, Iterable, Sequence
from pathlib import Path
from typing import Any

import jinja2
import numpy as np
import plotly
import plotly.graph_objects as go
import plotly.io as pio
from markupsafe import Markup, escape
from plotly.offline import get_plotlyjs

from simulation.reports.output import write_atomic

PLOTLY_FILE = "plotly.min.js"
PLOTLY_DATA = Path(plotly.__file__).parent / "package_data"
_TEMPLATES = jinja2.Environment(
    loader=jinja2.PackageLoader("simulation.reports", "templates"), autoescape=True
)


def format_number(x: float | None) -> str:
    """A number for a table: three significant digits, thousands separated, ``–`` if missing.

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
    """A heading (``<h2>`` by default) followed by its parts (trusted HTML; empty skipped)."""
    return Markup(f"<h{level}>{escape(heading)}</h{level}>" + "\n".join(p for p in parts if p))


def note(text: str, *, warn: bool = False) -> Markup:
    """A short explanatory paragraph (nothing for no text); ``warn`` makes it a warning."""
    return Markup(f'<p class="note{" warn" * warn}">{escape(text)}</p>') if text else Markup()


def details(summary: str, body: str) -> Markup:
    """A collapsed section: ``summary`` (text) shows, ``body`` (trusted HTML) opens on click."""
    return Markup(f"<details><summary>{escape(summary)}</summary>{body}</details>")


def _row(row: Sequence[Any] | str, classes: Sequence[str]) -> str:
    if isinstance(row, str):
        return f'<tr class="group"><td colspan="{len(classes)}">{escape(row)}</td></tr>'
    shown = [format_number(float(v)) if isinstance(v, float | np.floating) else v for v in row]
    cells = "".join(f"<td{c}>{escape(v)}</td>" for v, c in zip(shown, classes, strict=True))
    return f"<tr>{cells}</tr>"


def table(
    headers: Sequence[str], rows: Iterable[Sequence[Any] | str], *, right: Collection[str] = ()
) -> Markup:
    """An HTML table; the columns named in ``right`` are right-aligned (numbers).

    Floats are shown by :func:`format_number`, :class:`~markupsafe.Markup` cells as they
    are, anything else as escaped text. A row given as one string heads the rows below it.
    """
    classes = [' class="num"' if h in right else "" for h in headers]
    head = "".join(f"<th{c}>{escape(h)}</th>" for h, c in zip(headers, classes, strict=True))
    body = "".join(_row(row, classes) for row in rows)
    return Markup(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")


def figure(fig: go.Figure | dict[str, Any], caption: str = "", name: str | None = None) -> Markup:
    """A Plotly figure (its script is loaded once by :func:`render`) with an optional
    caption; ``name`` gives its element the id ``figure-<name>``. A figure given as a
    ``dict`` (``{"data": [...], "layout": {...}}``) is written as it is, unchecked:
    plotly.py's checks cost a report half a second the first time."""
    div = pio.to_html(
        fig,
        full_html=False,
        include_plotlyjs=False,
        div_id=f"figure-{name}" if name else None,
        config={"responsive": True, "displaylogo": False},
        validate=not isinstance(fig, dict),
    )
    text = f"<figcaption>{escape(caption)}</figcaption>" if caption else ""
    return Markup(f"<figure>{div}{text}</figure>")


@functools.cache
def plotly_template(name: str) -> dict[str, Any]:
    """A template shipped with plotly (such as ``"plotly_white"``) as a plain dict, for
    figures built as dicts (a ``go.Figure`` applies it by name)."""
    return json.loads((PLOTLY_DATA / "templates" / f"{name}.json").read_text(encoding="utf-8"))


def render(
    title: str,
    body: Iterable[str],
    *,
    heading: str | None = None,
    subtitle: Sequence[str] = (),
    shared_plotly: bool = False,
) -> str:
    """A complete HTML page titled ``title`` (text), headed ``heading`` (text, default the
    title) above the ``subtitle`` lines, then the ``body`` parts (trusted HTML, empty ones
    skipped). With ``shared_plotly`` it loads ``plotly.min.js`` from its own folder."""
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
