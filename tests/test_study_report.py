"""The study report's figures and tables, built from synthetic results (no simulation
runs): intervals that respect the outcome's range, the warning for too few replicates,
descriptions and units on the axes, panels in one grid, what-if rows sorted by effect
with cost intervals, the policy, incident and total hours with the verdict on the total, and
the shared plotly.js."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats as scipy_stats

from simulation.experiments import whatif
from simulation.experiments.design import make_plan
from simulation.experiments.stats import FEW_REPLICATES, bootstrap_ci, group_summary
from simulation.experiments.study import BASELINE
from simulation.experiments.study_file import load_study, parse_study
from simulation.outcome_text import outcome_title
from simulation.reports import palette, study_figures
from simulation.reports import study as report
from simulation.reports.html_page import write_plotly_js
from simulation.reports.run import MECHANISMS

ROOT = Path(__file__).resolve().parent.parent
OUTCOMES = ["faulty_share_mean", "cascade_size_max", "eval_distortion_mean"]


def _sweep(replicates: int):
    return parse_study(
        {
            "name": "grid",
            "seed": 1,
            "replicates": replicates,
            "base": {"n_systems": 100, "steps": 20},
            "vary": {"audit_rate": [0.0, 0.2, 0.5]},
            "outcomes": OUTCOMES,
        },
        "grid",
    )


def _frame(study, values: dict[str, np.ndarray]) -> pd.DataFrame:
    """A stored-results frame for every run of ``study``, outcomes taken from ``values``."""
    runs = make_plan(study).runs
    frame = pd.DataFrame(
        {
            "run_key": [r.key for r in runs],
            "arm": [r.arm for r in runs],
            "scenario": [r.scenario for r in runs],
            "replicate": [r.replicate for r in runs],
            "seed": [r.seed for r in runs],
            "status": "ok",
            "error": "",
            **{name: [r.config[name] for r in runs] for name in study.varied},
        }
    )
    for name, column in values.items():
        frame[name] = column[: len(runs)]
    return frame


def _skewed(n: int) -> dict[str, np.ndarray]:
    """Non-negative outcomes, mostly zero with the odd large value: where a t-interval of
    few replicates dips below zero."""
    rng = np.random.default_rng(5)
    share = np.where(rng.random(n) < 0.5, 0.0, rng.uniform(0.0, 0.2, n))
    share[::2] = 0.0
    return {
        "faulty_share_mean": share,
        "cascade_size_max": np.where(np.arange(n) % 2 == 0, 0.0, 30.0),
        "eval_distortion_mean": rng.uniform(0.0, 0.1, n),
    }


def test_bootstrap_interval_stays_in_the_range_where_a_t_interval_does_not() -> None:
    values = np.array([0.0, 0.3])
    mean, low, high = bootstrap_ci(values)
    t_low, _ = scipy_stats.t.interval(0.95, 1, loc=values.mean(), scale=scipy_stats.sem(values))
    assert t_low < 0  # the interval the report used to draw
    assert 0.0 <= low <= mean <= high <= 0.3
    assert bootstrap_ci(values) == (mean, low, high)  # seeded: the same every time
    assert np.isnan(bootstrap_ci([1.0])[1])


def test_sweep_bands_never_go_below_zero_for_non_negative_outcomes() -> None:
    study = _sweep(2)
    frame = _frame(study, _skewed(6))
    summary = group_summary(frame, ["audit_rate"], OUTCOMES)
    assert (summary["ci_low"] >= 0).all()
    assert (summary["ci_low"] <= summary["mean"]).all()


def test_report_warns_when_replicates_are_too_few() -> None:
    few = _sweep(2)
    page = report.render(few, _frame(few, _skewed(6)))
    assert "Too few replicates for reliable intervals" in page
    enough = _sweep(FEW_REPLICATES)
    page = report.render(enough, _frame(enough, _skewed(3 * FEW_REPLICATES)))
    assert "Too few replicates" not in page


def test_sweep_panels_share_one_grid_titled_by_descriptions_and_units() -> None:
    study = _sweep(3)
    frame = _frame(study, _skewed(9))
    figures = study_figures._sweep_figures(study, frame)
    assert len(figures) == 1  # all outcomes in one grid, not one figure each
    assert report.render(study, frame).count("Plotly.newPlot") == 1
    layout = figures[0][0].layout
    titles = [a.text for a in layout.annotations]
    assert titles == [outcome_title(o) for o in OUTCOMES]
    assert "(%)" in titles[0] and "(pp)" in titles[2] and "(systems)" in titles[1]
    assert layout.xaxis.title.text.endswith("[audit_rate]")
    assert layout.height < 1000
    # Shares are drawn in %, score differences in pp: the values are scaled.
    share = [t for t in figures[0][0].data if t.mode == "lines+markers"][0]
    expected = group_summary(frame, ["audit_rate"], OUTCOMES)
    expected = expected[expected["outcome"] == "faulty_share_mean"]["mean"] * 100
    assert list(share.y) == pytest.approx(list(expected))


WHATIF = {
    "kind": "whatif",
    "seed": 2,
    "replicates": 3,
    "base": {"n_systems": 100, "steps": 20},
    "outcomes": ["faulty_share_mean", "shielded_mean", "human_hours_policy_per_cycle"],
    "arms": {"a": {"audit_rate": 0.2}, "b": {"audit_rate": 0.5}, "c": {"audit_rate": 0.0}},
}


def _whatif_frame(study) -> pd.DataFrame:
    """Arm ``b`` cuts the faulty share most, then ``a``; ``c`` raises it."""
    runs = make_plan(study).runs
    cut = {BASELINE: 0.0, "a": 0.02, "b": 0.05, "c": -0.03}
    hours = {BASELINE: 1.0, "a": 2.0, "b": 4.0, "c": 0.5}
    noise = np.random.default_rng(3).normal(0, 0.002, len(runs))
    frame = _frame(study, {})
    frame["faulty_share_mean"] = [0.1 - cut[r.arm] + e for r, e in zip(runs, noise, strict=True)]
    frame["shielded_mean"] = [5.0 - 20 * cut[r.arm] for r in runs]
    frame["human_hours_policy_per_cycle"] = [
        hours[r.arm] + e for r, e in zip(runs, noise, strict=True)
    ]
    frame["human_hours_incident_per_cycle"] = [3.0 - hours[r.arm] / 2 for r in runs]
    frame["human_hours_per_cycle"] = (
        frame["human_hours_policy_per_cycle"] + frame["human_hours_incident_per_cycle"]
    )
    frame["human_hours_policy"] = frame["human_hours_policy_per_cycle"] * 20
    return frame


def test_whatif_rows_are_sorted_by_effect_and_costs_have_intervals() -> None:
    study = parse_study(WHATIF, "policies")
    frame = _whatif_frame(study)
    table = whatif.effects(frame, study)
    shown = study_figures._effects_table(study, table)
    share = shown[shown["outcome"] == outcome_title("faulty_share_mean")]
    assert list(share["arm"]) == ["b", "a", "c"]  # largest cut first
    costs = study_figures._costs_table(whatif.cost_benefit(frame, study))
    assert list(costs["arm"]) == ["b", "a", "c"]
    intervals = [c for c in costs.columns if c.startswith("95 % CI")]
    assert len(intervals) == 5  # policy, incident and total hours, faulty, shielded
    low, high = (float(x) for x in costs.iloc[0]["95 % CI (policy)"].split(" to "))
    assert low < costs.iloc[0]["policy h/cycle added"] < high
    assert study_figures._arm_order(study, table) == ["b", "a", "c"]


def test_cost_chart_names_arms_in_the_legend_not_in_piled_labels() -> None:
    study = parse_study(WHATIF, "policies")
    fig = study_figures._cost_figure(whatif.cost_benefit(_whatif_frame(study), study))
    assert all(trace["mode"] == "markers" for trace in fig["data"])
    assert [t["name"] for t in fig["data"] if t["showlegend"]] == ["a", "b", "c"]


def test_cost_table_shows_policy_incident_and_total_hours() -> None:
    study = parse_study(WHATIF, "policies")
    frame = _whatif_frame(study)
    costs = whatif.cost_benefit(frame, study).set_index("arm")
    # arm b adds 3 policy hours and saves 1.5 incident hours: 1.5 in all
    assert costs.loc["b", "policy_added"] == pytest.approx(3.0, abs=0.01)
    assert costs.loc["b", "incident_added"] == pytest.approx(-1.5)
    assert costs.loc["b", "total_added"] == pytest.approx(1.5, abs=0.01)
    columns = study_figures._costs_table(costs.reset_index()).columns
    for label in ("policy h/cycle added", "incident h/cycle added"):
        assert label in columns
    assert "total h/cycle added" in columns
    assert {"95 % CI (policy)", "95 % CI (incident)", "95 % CI (total)"} <= set(columns)
    # stored runs without the incident hours still get the policy and total columns
    older = whatif.cost_benefit(frame.drop(columns="human_hours_incident_per_cycle"), study)
    assert "incident_added" not in older and "policy_added" in older


def test_verdict_judges_effort_on_the_total_hours() -> None:
    """A policy that adds a little policy time but makes incidents cost far more costs
    hours, and the total column is the sum of the two effects."""
    study = parse_study(WHATIF, "policies")
    runs = make_plan(study).runs
    rng = np.random.default_rng(8)
    policy = {BASELINE: 10.0, "a": 10.1, "b": 10.0, "c": 10.0}
    incident = {BASELINE: 5.0, "a": 25.0, "b": 5.0, "c": 5.0}
    frame = _frame(study, {})
    frame["faulty_share_mean"] = 0.1 + rng.normal(0, 0.002, len(runs))
    frame["shielded_mean"] = 5.0 + rng.normal(0, 0.1, len(runs))
    frame["human_hours_policy_per_cycle"] = [
        policy[r.arm] + e for r, e in zip(runs, rng.normal(0, 0.3, len(runs)), strict=True)
    ]
    frame["human_hours_incident_per_cycle"] = [
        incident[r.arm] + e for r, e in zip(runs, rng.normal(0, 0.3, len(runs)), strict=True)
    ]
    frame["human_hours_per_cycle"] = (
        frame["human_hours_policy_per_cycle"] + frame["human_hours_incident_per_cycle"]
    )
    costs = whatif.cost_benefit(frame, study).set_index("arm")
    a = costs.loc["a"]
    assert a["policy_low"] < 0 < a["policy_high"]  # on policy hours alone: no clear cost
    assert a["verdict"].endswith("costs hours")
    assert a["total_added"] == pytest.approx(a["policy_added"] + a["incident_added"])
    assert a["total_added"] == pytest.approx(20.1, abs=0.5)
    shown = study_figures._costs_table(costs.reset_index()).set_index("arm")
    total = "total h/cycle added"
    parts = [label for _, _, label in whatif.COST_PARTS[:2]]
    assert shown.loc["a", total] == pytest.approx(shown.loc["a", parts].sum())
    assert "costs hours" in shown.loc["a", "verdict"]


def test_shipped_whatif_study_reports_cascade_size() -> None:
    study = load_study(ROOT / "experiments" / "oversight-whatif.toml")
    assert any(o.startswith("cascade_size") for o in study.outcomes)


def test_study_reports_share_one_plotly_beside_them(tmp_path: Path) -> None:
    study = _sweep(3)
    page = report.render(study, _frame(study, _skewed(9)), shared_plotly=True)
    assert 'src="plotly.min.js"' in page and "* plotly.js v" not in page
    path = write_plotly_js(tmp_path)
    stamp = path.stat().st_mtime_ns
    assert write_plotly_js(tmp_path).stat().st_mtime_ns == stamp  # not rewritten
    alone = report.render(study, _frame(study, _skewed(9)))
    assert alone.count("* plotly.js v") == 1  # without a folder: self-contained


def test_run_report_and_app_share_mechanism_colours() -> None:
    for column, _, colour in MECHANISMS:
        assert colour == palette.MECHANISM_COLOURS[column]
    assert palette.FAULTY_SHARE_COLOUR not in palette.STATUS_COLOURS
