"""The report of ``ppsim discover``: PRIM's trajectory to pick a box from, and the chosen
box drawn over the ranges of the uncertain assumptions.

The trajectory is a scatter of coverage against density, one point per box, coloured by
how many assumptions it restricts; hovering names a box and its limits, clicking one
shows them below the figure, and a table lists every box's limits. The chosen box is a
bar per assumption: its full range (or all its values) in light grey, the box's part in
colour (a darker grey when the box leaves the assumption unrestricted).
"""

from __future__ import annotations

import json
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import numpy as np
from markupsafe import Markup, escape

from simulation.errors import OutputError
from simulation.experiments.discovery import (
    Discovery,
    box_limits_text,
    integer_inputs,
    limit_text,
    output_stem,
    trajectory_csv,
)
from simulation.reports import html_page
from simulation.reports.output import atomic_file, os_reason
from simulation.reports.palette import FAULTY_SHARE_COLOUR, STATUS_COLOURS

RANGE_COLOUR = "#e6e6e6"
UNRESTRICTED_COLOUR = "#bdbdbd"
BOX_COLOUR = FAULTY_SHARE_COLOUR
CHOSEN_COLOUR = STATUS_COLOURS[4]
CHOICE_WORDS = {
    "threshold": "the box of highest coverage whose density reaches {threshold:g}",
    "densest": "no box reaches density {threshold:g}: the densest box",
    "--box": "the box asked for with --box",
}


def _limits_text(discovery: Discovery, index: int) -> str:
    words = box_limits_text(discovery, discovery.trajectory.boxes[index])
    return "; ".join(words) if words else "no restriction (every scenario)"


def trajectory_figure(discovery: Discovery) -> dict[str, Any]:
    """Coverage against density, one point per box, coloured by restricted count."""
    boxes = discovery.trajectory.boxes
    texts = [
        f"box {b.index} ({b.step})<br>coverage {b.coverage:.2f}, density {b.density:.2f}, "
        f"mass {b.mass:.2f}<br>" + escape(_limits_text(discovery, b.index)).replace("; ", "<br>")
        for b in boxes
    ]
    dims = [len(b.restricted) for b in boxes]
    chosen = discovery.box
    return {
        "data": [
            {
                "type": "scatter",
                "mode": "lines+markers",
                "x": [b.coverage for b in boxes],
                "y": [b.density for b in boxes],
                "customdata": [b.index for b in boxes],
                "text": texts,
                "hovertemplate": "%{text}<extra></extra>",
                "line": {"color": RANGE_COLOUR, "width": 1},
                "marker": {
                    "size": 10,
                    "color": dims,
                    "colorscale": "Viridis",
                    "cmin": 0,
                    "cmax": max(max(dims), 1),
                    "colorbar": {"title": {"text": "restricted"}, "dtick": 1},
                },
                "name": "boxes",
                "showlegend": False,
            },
            {
                "type": "scatter",
                "mode": "markers",
                "x": [chosen.coverage],
                "y": [chosen.density],
                "customdata": [chosen.index],
                "hoverinfo": "skip",
                "marker": {
                    "size": 18,
                    "color": "rgba(0,0,0,0)",
                    "line": {"color": CHOSEN_COLOUR, "width": 2},
                },
                "name": f"chosen: box {chosen.index}",
            },
        ],
        "layout": {
            "template": html_page.plotly_template("plotly_white"),
            "xaxis": {"title": {"text": "coverage (share of failing scenarios inside)"}},
            "yaxis": {"title": {"text": "density (share of the box failing)"}},
            "height": 460,
            "margin": {"l": 70, "r": 30, "t": 30, "b": 60},
            "legend": {"orientation": "h", "y": 1.08},
        },
    }


def _unit_position(discovery: Discovery, name: str, value: float) -> float:
    """Where ``value`` lies on the input's full range, from 0 to 1 (a log scale for an
    input drawn log-uniformly)."""
    low, high = discovery.trajectory.ranges[name]
    variable = discovery.variables.get(name)
    if variable is not None and variable.form == "loguniform" and low > 0:
        low, high, value = np.log(low), np.log(high), np.log(value)
    return float((value - low) / (high - low)) if high > low else 0.0


def box_figure(discovery: Discovery) -> dict[str, Any]:
    """One bar per varied parameter: its full range in grey and the chosen box's part in
    colour (categorical: one segment per value, coloured when the box keeps it)."""
    trajectory, box = discovery.trajectory, discovery.box
    names = [n for n in discovery.study.varied if n in trajectory.inputs][::-1]
    integers = integer_inputs(discovery)
    bars: dict[str, list[Any]] = {"y": [], "base": [], "x": [], "text": [], "colour": []}

    def bar(name: str, start: float, end: float, text: str, colour: str) -> None:
        bars["y"].append(name)
        bars["base"].append(start)
        bars["x"].append(max(end - start, 0.004))
        bars["text"].append(text)
        bars["colour"].append(colour)

    for name in names:
        if name in trajectory.categorical:
            values = trajectory.ranges[name]
            for i, value in enumerate(values):
                kept = value in box.limits[name]
                text = f"{name} = {value}: {'in' if kept else 'outside'} the box"
                colour = UNRESTRICTED_COLOUR if name not in box.restricted else BOX_COLOUR
                colour = colour if kept else RANGE_COLOUR
                bar(name, i / len(values), (i + 1) / len(values), text, colour)
            continue
        low, high = trajectory.ranges[name]
        integer = name in integers
        bar(name, 0.0, 1.0, f"{name}: {low:.4g} to {high:.4g} over the scenarios", RANGE_COLOUR)
        start = _unit_position(discovery, name, box.limits[name][0])
        end = _unit_position(discovery, name, box.limits[name][1])
        text = limit_text(trajectory, box, name, integer)
        if name not in box.restricted:
            text = f"{name}: not restricted"
        bar(name, start, end, text, BOX_COLOUR if name in box.restricted else UNRESTRICTED_COLOUR)
    return {
        "data": [
            {
                "type": "bar",
                "orientation": "h",
                "y": bars["y"],
                "x": bars["x"],
                "base": bars["base"],
                "text": bars["text"],
                "textposition": "none",
                "hovertemplate": "%{text}<extra></extra>",
                "marker": {"color": bars["colour"], "line": {"color": "white", "width": 1}},
                "width": 0.6,
            }
        ],
        "layout": {
            "template": html_page.plotly_template("plotly_white"),
            "barmode": "overlay",
            "xaxis": {
                "range": [0, 1],
                "tickvals": [0, 1],
                "ticktext": ["lowest", "highest"],
                "title": {"text": "position in the range over the scenarios"},
            },
            "yaxis": {"automargin": True},
            "height": 120 + 28 * len(names),
            "margin": {"l": 40, "r": 30, "t": 20, "b": 50},
            "showlegend": False,
        },
    }


def _click_script(discovery: Discovery) -> Markup:
    """Show a clicked box's limits under the trajectory figure."""
    limits = {b.index: _limits_text(discovery, b.index) for b in discovery.trajectory.boxes}
    data = Markup(json.dumps(limits).replace("<", "\\u003c"))
    return Markup(
        '<p class="note" id="picked-box">Click a box to see its limits here.</p>'
        "<script>window.addEventListener('load', function () {"
        f"var limits = {data};"
        "var figure = document.getElementById('figure-trajectory');"
        "var out = document.getElementById('picked-box');"
        "figure.on('plotly_click', function (event) {"
        "var index = event.points[0].customdata;"
        "out.textContent = 'Box ' + index + ': ' + limits[index];"
        "});});</script>"
    )


def render(discovery: Discovery, *, shared_plotly: bool) -> str:
    """The whole page of one discovery (text)."""
    box, unit = discovery.box, discovery.unit
    rate = discovery.failing.mean()
    total = len(discovery.failing)
    failing = int(discovery.failing.sum())
    scored = (
        "each run on its own"
        if discovery.per_run
        else f"each scenario by the mean over its runs ({discovery.runs_per_scenario:g} on average)"
    )
    chosen_rows = [[text] for text in box_limits_text(discovery, box)] or [
        ["no restriction: the box holds every scenario"]
    ]
    stats_rows = [
        ["coverage", box.coverage, f"{box.failures} of the {failing} failing {unit}s are inside"],
        ["density", box.density, f"{box.failures} of the {box.scenarios} {unit}s inside fail"],
        ["mass", box.mass, f"{box.scenarios} of the {total} {unit}s are inside"],
    ]
    table_rows = [
        [
            b.index,
            b.step,
            b.coverage,
            b.density,
            b.mass,
            b.scenarios,
            len(b.restricted),
            _limits_text(discovery, b.index),
        ]
        for b in discovery.trajectory.boxes
    ]
    choice = CHOICE_WORDS[discovery.choice].format(threshold=discovery.threshold)
    body = [
        html_page.section(
            "Failures",
            html_page.note(
                f"{discovery.condition.text} in {failing} of {total} {unit}s "
                f"({rate:.1%}) of policy {discovery.policy}; {scored}. The uncertain "
                f"assumptions are the study's varied parameters: "
                f"{', '.join(discovery.study.varied)}."
            ),
        ),
        html_page.section(
            f"Chosen box: box {box.index}",
            html_page.note(f"Chosen as {choice}."),
            html_page.table(["restricted assumption"], chosen_rows),
            html_page.table(["", "value", "meaning"], stats_rows, right={"value"}),
            html_page.figure(
                box_figure(discovery),
                "Each assumption's range over the scenarios (grey) and the chosen box's part "
                "of it (coloured); a categorical assumption has one segment per value.",
                name="box",
            ),
        ),
        html_page.section(
            "Peeling trajectory",
            html_page.note(
                "Each point is a box PRIM went through, from the box of every scenario "
                "(coverage 1, density the failure rate) to the densest; pasting steps come "
                "last. Pick a box by the trade-off it makes: higher density means the box "
                "says more surely that the policy fails there, higher coverage that it "
                "holds more of the failures."
            ),
            html_page.figure(trajectory_figure(discovery), name="trajectory"),
            _click_script(discovery),
            html_page.table(
                ["box", "step", "coverage", "density", "mass", f"{unit}s", "restricted", "limits"],
                table_rows,
                right={"box", "coverage", "density", "mass", f"{unit}s", "restricted"},
            ),
        ),
    ]
    title = f"Discovery: where {discovery.policy} fails"
    return html_page.render(
        title,
        body,
        subtitle=[
            escape(f"{discovery.study.name} ({discovery.study.kind}), {discovery.folder}"),
            escape(f"failure: {discovery.condition.text}"),
        ],
        shared_plotly=shared_plotly,
    )


def default_report(discovery: Discovery) -> Path:
    """``DIR/discovery-<policy>.html``."""
    return discovery.folder / f"{output_stem(discovery.policy)}.html"


def check_report_path(out: Path) -> None:
    """Refuse a report path that is a folder or lies in a folder that does not exist,
    before anything is computed or written."""
    if out.is_dir():
        raise OutputError(f"--out: {out} is a folder; give the report's file name")
    if not out.parent.is_dir():
        raise OutputError(f"--out: {out.parent} is not an existing folder")


def write_discovery(discovery: Discovery, out: Path | None = None) -> tuple[Path, Path]:
    """Write the trajectory's CSV into the study's folder and the report to ``out``
    (default :func:`default_report`), both built before either is written and each
    written atomically. The report loads the folder's ``plotly.min.js`` when it lies in
    the study's folder, else embeds plotly.js. Returns (CSV path, report path)."""
    out = Path(out) if out is not None else default_report(discovery)
    check_report_path(out)
    csv_path = discovery.folder / f"{output_stem(discovery.policy)}.csv"
    shared = out.parent.resolve() == discovery.folder.resolve()
    for path in (csv_path, *([out.parent / html_page.PLOTLY_FILE] if shared else [])):
        if path.is_dir():
            raise OutputError(f"{path} is a folder, where ppsim writes a file; move it")
    texts = {csv_path: trajectory_csv(discovery), out: render(discovery, shared_plotly=shared)}
    try:
        if shared:
            html_page.write_plotly_js(out.parent)
        with ExitStack() as stack:  # every file renamed into place only once all are written
            for path, text in texts.items():
                tmp = stack.enter_context(atomic_file(path))
                tmp.write_text(text, encoding="utf-8")
    except OSError as exc:
        where = exc.filename if exc.filename is not None else out
        raise OutputError(f"cannot write {where} ({os_reason(exc)})") from None
    return csv_path, out
