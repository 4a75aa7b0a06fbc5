"""``report.html`` of a study: Plotly figures chosen to fit the study.

Outcomes are titled by their descriptions and shown in their units (shares in %, score
differences in percentage points); related panels share one grid.

- Sweep, one varied parameter: each outcome as a line over it with a 95 % bootstrap band
  (it stays in the outcome's range; too few replicates are pointed out).
- Sweep, two or more: lines over the first parameter, one per level of the second, and
  heatmaps of the mean over both (averaged over any further parameters).
- Latin hypercube sweep: each outcome against each parameter, one point per scenario.
- What-if: each arm's paired effect on each outcome with its 95 % interval, and the human
  hours each arm adds (the policy's own, the incidents', and their total, which the
  verdict judges) against the reduction in faulty share and shielded systems; then each
  effect scenario by scenario (:mod:`~simulation.experiments.robustness`): every arm's
  effect in every scenario, a heat table arm x assumption coloured by the effect's sign
  on either side of each assumption, and the robustness table with its verdicts.
- Sensitivity: Sobol S1/ST or Morris mu*/sigma bars with their intervals.

plotly.js is written once beside the report (``plotly.min.js``, shared by the reports of
the folder), so the folder works offline. The report is rebuilt from the stored results
alone (``ppsim report DIR``).

Example:
    >>> build_report("results/propensity-by-audit")  # doctest: +SKIP
    PosixPath('results/propensity-by-audit/report.html')
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
from markupsafe import escape

from simulation.errors import OutputError
from simulation.experiments import sensitivity, whatif
from simulation.experiments.design import Plan, make_plan
from simulation.experiments.store import (
    REPORT_FILE,
    STATUS_OK,
    check_unedited,
    load_runs,
    load_timeseries,
    read_stored_study,
)
from simulation.experiments.study import BASELINE, Study
from simulation.reports import html_page
from simulation.reports.output import check_entries, os_reason, write_atomic
from simulation.reports.robustness_figures import _robustness_section
from simulation.reports.study_figures import (
    _color,
    _cost_figure,
    _costs_table,
    _effect_figure,
    _effects_table,
    _few_replicates_note,
    _label,
    _layout,
    _sweep_figures,
    _table,
)


def _whatif_section(study: Study, frame: pd.DataFrame) -> list[str]:
    from simulation.experiments.mechanisms import inert_arms

    inert = inert_arms(study)
    table = whatif.effects(frame, study)
    costs = whatif.cost_benefit(frame, study, inert=inert)
    interval_columns = tuple(c for c in _costs_table(costs).columns if c.startswith("95 %"))
    return [
        html_page.figure(
            _effect_figure(study, table),
            "Paired differences arm - baseline over the same scenarios and seeds (common "
            "random numbers); bars are 95 % t-intervals over the pairs. An interval that "
            "excludes zero is an effect distinguishable from the model's noise. Shares in "
            "percentage points, other outcomes in their own units.",
        ),
        html_page.figure(
            _cost_figure(costs),
            "Right and up is more effort for more reliability; up and left is cheap safety. "
            "Effort is the total human hours added, the policy's own plus those incidents "
            "force. Bars are 95 % intervals; hover a marker for its arm.",
        ),
        html_page.section(
            "Effects (arm - baseline), sorted by effect within each outcome",
            _table(_effects_table(study, table), left=("arm", "outcome", "95 % CI")),
            level=3,
        ),
        html_page.section(
            "Cost and benefit, the largest cut in faulty share first",
            _table(_costs_table(costs), left=("arm", "verdict", *interval_columns)),
            level=3,
        ),
        _robustness_section(study, frame, inert),
    ]


# --------------------------------------------------------------------------------------
# Sensitivity


def _sensitivity_section(plan: Plan, frame: pd.DataFrame) -> list[str]:
    study = plan.study
    indices, skipped = sensitivity.analyse(plan, frame)
    parts: list[str] = []
    wanted = ("S1", "ST") if study.method == "sobol" else ("mu_star", "sigma")
    for outcome in study.outcomes:
        if outcome in skipped:
            parts.append(html_page.note(f"{outcome}: not analysed, {skipped[outcome]}."))
            continue
        part = indices[indices["outcome"] == outcome]
        fig = go.Figure()
        for i, index in enumerate(wanted):
            sub = part[part["index"] == index]
            fig.add_trace(
                go.Bar(
                    x=list(sub["parameter"]),
                    y=list(sub["value"]),
                    name=index,
                    marker_color=_color(i),
                    error_y={
                        "type": "data",
                        "array": list(sub["conf"].fillna(0)),
                        "visible": bool(sub["conf"].notna().any()),
                    },
                )
            )
        fig.update_layout(barmode="group", yaxis_title=outcome)
        parts.append(html_page.figure(_layout(fig, f"{outcome}: {_label(outcome)}", 380)))
    if study.method == "sobol":
        explain = (
            "S1: share of the outcome's variance due to the parameter alone; ST: including "
            "its interactions. Error bars: 95 % bootstrap intervals. Indices are over the "
            "declared distributions; with few samples they can stray slightly below 0."
        )
    else:
        explain = (
            "mu*: mean absolute change of the outcome for a step across the parameter's "
            "range (unit-interval scale, so parameters are comparable); sigma: how much that "
            "effect changes with the other parameters (non-linearity, interactions). Error "
            "bars: 95 % bootstrap intervals of mu*."
        )
    parts.append(html_page.note(explain))
    if not indices.empty:
        shown = indices[indices["index"].isin(wanted)]
        parts.append(_table(shown, left=("outcome", "parameter", "index")))
    return parts


# --------------------------------------------------------------------------------------
# Time series


def _series_figure(study: Study, series: pd.DataFrame, frame: pd.DataFrame) -> go.Figure:
    if study.kind == "whatif":
        groups = [(arm, series[series["arm"] == arm]) for arm in study.arm_names]
    elif study.vary and study.design == "factorial":
        first = study.vary[0]
        scenario_level = frame.groupby("scenario")[first.name].first()
        level = series["scenario"].map(scenario_level)
        groups = [(f"{first.name}={v}", series[level == v]) for v in first.values]
    else:
        groups = [("all runs", series)]
    fig = go.Figure()
    for i, (name, part) in enumerate(groups):
        mean = part.groupby("step")["faulty_share"].mean()
        fig.add_trace(
            go.Scatter(x=mean.index, y=mean.to_numpy(), name=name, line={"color": _color(i)})
        )
    fig.update_layout(xaxis_title="cycle", yaxis_title="faulty share of service")
    return _layout(fig, "Faulty share of service over the cycles (mean over runs)", 400)


# --------------------------------------------------------------------------------------
# Page


def _parameters_html(study: Study) -> str:
    rows = [(v.name, v.describe()) for v in study.vary] or [
        ("(none)", "the base configuration only")
    ]
    defaults = type(study.base)().to_dict()
    changed = {k: v for k, v in study.base.to_dict().items() if defaults[k] != v}
    base = ", ".join(f"{k} = {v}" for k, v in changed.items()) or "all defaults"
    arms = ""
    if study.arms:
        arm_rows = [(BASELINE, "(base configuration)")] + [
            (a.name, ", ".join(f"{k} = {v}" for k, v in a.changes.items())) for a in study.arms
        ]
        arms = html_page.section(
            "Policy arms", html_page.table(("arm", "changes"), arm_rows), level=3
        )
    return (
        html_page.table(("parameter", "values"), rows)
        + html_page.note(f"Base configuration: {base}.")
        + arms
    )


def _failures_html(frame: pd.DataFrame) -> str:
    failed = frame[frame["status"] != STATUS_OK]
    if failed.empty:
        return ""
    shown = failed[["run_key", "seed", "error"]].head(20)
    more = f" (first 20 of {len(failed)})" if len(failed) > 20 else ""
    return html_page.section(f"Failed runs{more}", _table(shown, left=("run_key", "error")))


def _design_text(study: Study, plan: Plan) -> str:
    if study.kind == "sensitivity":
        if study.method == "sobol":
            second = ", with second-order indices" if study.second_order else ""
            return f"Sobol (Saltelli sampling), {study.sobol_samples} base samples{second}"
        return f"Morris, {study.morris_trajectories} trajectories on {study.morris_levels} levels"
    if study.design == "lhs":
        return f"Latin hypercube, {study.samples} scenarios"
    return f"full factorial, {len(plan.scenarios)} scenarios"


def render(
    study: Study,
    frame: pd.DataFrame,
    series: pd.DataFrame | None = None,
    shared_plotly: bool = False,
) -> str:
    """The report page for stored results (a complete HTML document); with
    ``shared_plotly`` it loads ``plotly.min.js`` from its own folder instead of embedding
    it."""
    plan = make_plan(study)
    ok = int((frame["status"] == STATUS_OK).sum())
    failed = len(frame) - ok
    missing = len(plan.runs) - len(frame)
    status = f"{ok} runs finished, {failed} failed"
    if missing:
        status += f", {missing} not run yet (the study was interrupted; rerun it to finish)"
    kind_text = {
        "sweep": "parameter sweep",
        "whatif": "policy what-if study",
        "sensitivity": "global sensitivity analysis",
    }[study.kind]
    results = []
    if ok == 0:
        results.append(html_page.note("No finished runs yet."))
    elif study.kind == "whatif":
        results += _whatif_section(study, frame)
    elif study.kind == "sensitivity":
        if missing or failed:
            results.append(
                html_page.note("Sensitivity indices need every sample point; finish the study.")
            )
        results += _sensitivity_section(plan, frame)
    else:
        results.append(html_page.note(_few_replicates_note(frame, study), warn=True))
        results += [html_page.figure(fig, note) for fig, note in _sweep_figures(study, frame)]
    over_time = ""
    if series is not None and not series.empty and ok:
        over_time = html_page.section(
            "Over time", html_page.figure(_series_figure(study, series, frame))
        )
    summary = (
        f"{kind_text.capitalize()}: {_design_text(study, plan)}, {study.replicates} "
        f"replicate(s), seed {study.seed}, {study.base.n_systems} systems x "
        f"{study.base.steps} cycles. {status}."
    )
    return html_page.render(
        f"{study.name}: ppsim study report",
        [
            html_page.section("Parameters", _parameters_html(study)),
            html_page.section("Results", *results),
            over_time,
            _failures_html(frame),
            html_page.section(
                "The data",
                html_page.note(
                    "One row per run (parameters, seed, run key, status and every outcome):"
                ),
                '<pre>import pandas as pd\nruns = pd.read_parquet("runs")\n\n'
                'import polars as pl\nruns = pl.read_parquet("runs/*.parquet")\n\n'
                "import duckdb\nduckdb.sql(\"SELECT * FROM 'runs/*.parquet'\")</pre>",
                html_page.note(
                    f"Built {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')} by ppsim report."
                ),
            ),
        ],
        heading=study.name,
        subtitle=[escape(line) for line in (study.description, summary) if line],
        shared_plotly=shared_plotly,
    )


def build_report(out_dir: str | Path, runs: pd.DataFrame | None = None) -> Path:
    """Write ``report.html`` in a results folder from its stored results (atomically),
    with the ``plotly.min.js`` it loads beside it. ``runs`` is the folder's stored runs
    when the caller has just loaded them (as :func:`run_study` returns them)."""
    out_dir = Path(out_dir)
    study = read_stored_study(out_dir)
    check_unedited(out_dir)
    if study.kind == "search":
        from simulation.reports.search import build_search_report

        return build_search_report(out_dir)
    check_entries(out_dir, files=(REPORT_FILE, html_page.PLOTLY_FILE), option="")
    frame = load_runs(out_dir) if runs is None else runs
    series = load_timeseries(out_dir) if study.timeseries else None
    text = render(study, frame, series, shared_plotly=True)
    try:
        html_page.write_plotly_js(out_dir)
        return write_atomic(out_dir / REPORT_FILE, text)
    except OSError as exc:  # a full disk, a read-only folder: the user's to fix
        where = exc.filename if exc.filename is not None else out_dir / REPORT_FILE
        raise OutputError(f"cannot write {where} ({os_reason(exc)})") from None
