"""Robustness of what-if verdicts across scenarios, on planted known answers.

Synthetic stored-results frames (the columns the store keeps: arm, scenario, replicate,
status, the varied parameters and the outcomes) carry effects planted per arm and
scenario; the analysis must find them: a lever that helps only under one choice of an
assumption ``depends`` on that assumption, one that helps everywhere is ``robust
better``, one that hurts everywhere ``robust worse``, one without a mechanism ``no
effect``; regret is checked on a hand-made two-scenario case. One small what-if runs
through the command line to check ``robustness.csv`` and the console table.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from simulation.cli import app
from simulation.experiments import robustness
from simulation.experiments.design import make_plan
from simulation.experiments.study import BASELINE, Study
from simulation.experiments.study_file import parse_study
from simulation.metrics import DIRECTIONS, OUTCOMES, RUN_OUTCOMES
from simulation.reports import study as report

FAULTY, AVAILABILITY = "faulty_share_mean", "availability_mean"


def test_every_outcome_says_which_direction_is_better() -> None:
    assert all(outcome.better in DIRECTIONS for outcome in RUN_OUTCOMES)
    assert OUTCOMES[FAULTY].better == "lower" and OUTCOMES[AVAILABILITY].better == "higher"
    assert OUTCOMES["human_hours_per_cycle"].better == "lower"


def _study(arms: dict[str, dict], vary: dict, replicates: int = 3):
    return parse_study(
        {
            "kind": "whatif",
            "seed": 4,
            "replicates": replicates,
            "base": {"n_systems": 60, "steps": 20, "audit_rate": 0.05},
            "vary": vary,
            "outcomes": [FAULTY, AVAILABILITY],
            "arms": arms,
        },
        "planted",
    )


def _frame(study, effect: Callable[[str, dict], float], noise: float = 1e-5) -> pd.DataFrame:
    """Stored results of every run of ``study``: the faulty share is a scenario's level
    plus noise its arms share (common random numbers), plus ``effect(arm, scenario's
    values)`` with a little noise of the arm's own; where no effect is planted, an arm's
    runs equal the baseline's, as an arm with no mechanism gives. Availability moves the
    other way."""
    plan = make_plan(study)
    rng = np.random.default_rng(9)
    shared = rng.normal(0.0, 0.01, (len(plan.scenarios), study.replicates))
    own = rng.normal(0.0, noise, len(plan.runs))
    rows = []
    for run, jitter in zip(plan.runs, own, strict=True):
        values = plan.scenarios[run.scenario]
        planted = 0.0 if run.arm == BASELINE else effect(run.arm, values)
        faulty = 0.1 + 0.01 * run.scenario + shared[run.scenario, run.replicate]
        faulty += planted + jitter if planted else 0.0
        rows.append(
            {
                "run_key": run.key,
                "arm": run.arm,
                "scenario": run.scenario,
                "replicate": run.replicate,
                "seed": run.seed,
                "status": "ok",
                "error": None,
                **{name: run.config[name] for name in study.varied},
                FAULTY: faulty,
                AVAILABILITY: 0.9 - faulty,
            }
        )
    return pd.DataFrame(rows)


ARMS = {
    "helps-if-human": {"audit_rate": 0.2},
    "helps-everywhere": {"audit_rate": 0.3},
    "hurts-everywhere": {"audit_rate": 0.0},
    "same-as-baseline": {"audit_rate": 0.05},
    "flips-on-stand-in": {"audit_rate": 0.4},
    "helps-if-faults-frequent": {"audit_rate": 0.5},
}
VARY = {"stand_in": ["reassign", "skip", "human"], "fault_rate": [0.001, 0.002, 0.003, 0.004]}


def _planted(arm: str, values: dict) -> float:
    human = values["stand_in"] == "human"
    return {
        "helps-if-human": -0.05 if human else 0.0,
        "helps-everywhere": -0.03,
        "hurts-everywhere": 0.04,
        "same-as-baseline": 0.0,
        "flips-on-stand-in": 0.052 if human else -0.064,
        "helps-if-faults-frequent": -0.02 if values["fault_rate"] > 0.0025 else 0.0,
    }[arm]


@pytest.fixture(scope="module")
def planted() -> tuple[Study, pd.DataFrame, pd.DataFrame]:
    """The planted study, its runs and its robustness table (indexed by arm, outcome)."""
    study = _study(ARMS, VARY)
    frame = _frame(study, _planted)
    table = robustness.robustness(frame, study).set_index(["arm", "outcome"])
    return study, frame, table


def test_robustness_table_has_one_row_per_arm_and_outcome(planted) -> None:
    study, _, table = planted
    flat = table.reset_index()
    assert tuple(flat.columns) == robustness.COLUMNS
    assert len(flat) == len(ARMS) * len(study.outcomes)
    assert set(flat["verdict"]) <= set(robustness.VERDICTS)
    assert (flat["scenarios"] == 12).all()


def test_a_lever_that_helps_everywhere_is_robust_better(planted) -> None:
    _, _, table = planted
    for outcome in (FAULTY, AVAILABILITY):  # lower is better for one, higher for the other
        row = table.loc[("helps-everywhere", outcome)]
        assert row["verdict"] == "robust better"
        assert (row["share_better"], row["share_worse"]) == (1.0, 0.0)
        assert row["depends_on"] == ""
    faulty = table.loc[("helps-everywhere", FAULTY)]
    assert faulty["median_effect"] == pytest.approx(-0.03, abs=0.002)
    assert faulty["worst_effect"] >= faulty["median_effect"]  # worst: the highest cut
    availability = table.loc[("helps-everywhere", AVAILABILITY)]
    assert availability["worst_effect"] <= availability["median_effect"]


def test_a_lever_that_hurts_everywhere_is_robust_worse(planted) -> None:
    _, _, table = planted
    row = table.loc[("hurts-everywhere", FAULTY)]
    assert row["verdict"] == "robust worse"
    assert (row["share_better"], row["share_worse"]) == (0.0, 1.0)
    assert table.loc[("hurts-everywhere", AVAILABILITY), "verdict"] == "robust worse"


def test_a_lever_with_no_mechanism_has_no_effect(planted) -> None:
    study, frame, table = planted
    row = table.loc[("same-as-baseline", FAULTY)]
    assert row["verdict"] == "no effect"
    assert row["depends_on"].startswith("no mechanism: audit_rate = 0.05 is the baseline's")
    assert row["share_better"] == row["share_worse"] == 0.0  # differences exactly 0
    # the same runs with no mechanism known: no scenario beyond its interval is enough
    unflagged = robustness.robustness(frame, study, inert={}).set_index(["arm", "outcome"])
    assert unflagged.loc[("same-as-baseline", FAULTY), "verdict"] == "no effect"
    assert unflagged.loc[("same-as-baseline", FAULTY), "depends_on"] == ""


def test_a_lever_that_helps_under_one_choice_depends_on_that_assumption(planted) -> None:
    _, _, table = planted
    row = table.loc[("helps-if-human", FAULTY)]
    assert row["verdict"] == "depends"
    assert row["share_better"] == pytest.approx(4 / 12) and row["share_worse"] == 0.0
    text = row["depends_on"]
    assert text.startswith("stand_in: human -> -5 pp (better in 4 of 4), others -> ")
    assert "the sign does not flip" in text
    assert "fault_rate" not in text


def test_a_sign_flip_names_the_assumption_with_the_effect_on_either_side(planted) -> None:
    _, _, table = planted
    row = table.loc[("flips-on-stand-in", FAULTY)]
    assert row["verdict"] == "depends"
    assert (row["share_better"], row["share_worse"]) == (
        pytest.approx(8 / 12),
        pytest.approx(4 / 12),
    )
    assert row["depends_on"] == (
        "stand_in: human -> +5.2 pp (worse in 4 of 4), others -> -6.4 pp (better in 8 of 8)"
    )
    availability = table.loc[("flips-on-stand-in", AVAILABILITY), "depends_on"]
    assert availability.startswith("stand_in: human -> -5.2 pp (worse in 4 of 4)")


def test_a_numeric_assumption_splits_at_its_median(planted) -> None:
    _, _, table = planted
    row = table.loc[("helps-if-faults-frequent", FAULTY)]
    assert row["verdict"] == "depends"
    assert row["share_better"] == pytest.approx(0.5) and row["share_worse"] == 0.0
    assert row["depends_on"].startswith(
        "fault_rate: <= 0.0025 -> +0 pp (no clear effect: better in 0, worse in 0 of 6), "
        "> 0.0025 -> -2 pp (better in 6 of 6)"
    )


def test_regret_is_the_distance_to_the_best_arm_of_each_scenario() -> None:
    """Two scenarios, two replicates, no noise. Scenario 0: baseline 0.10, a 0.05, b 0.08
    (a best); scenario 1: baseline 0.10, a 0.12, b 0.04 (b best)."""
    study = _study(
        {"a": {"audit_rate": 0.2}, "b": {"audit_rate": 0.3}}, {"stand_in": ["skip", "human"]}, 2
    )
    means = {(BASELINE, 0): 0.10, ("a", 0): 0.05, ("b", 0): 0.08}
    means |= {(BASELINE, 1): 0.10, ("a", 1): 0.12, ("b", 1): 0.04}
    frame = _frame(study, lambda arm, values: 0.0, noise=0.0)
    frame[FAULTY] = [means[(a, s)] for a, s in zip(frame["arm"], frame["scenario"], strict=True)]
    frame[AVAILABILITY] = 1.0 - frame[FAULTY]
    per_scenario = robustness.scenario_effects(frame, study, [FAULTY])
    regret = per_scenario.set_index(["arm", "scenario"])["regret"]
    assert regret[("a", 0)] == pytest.approx(0.0) and regret[("a", 1)] == pytest.approx(0.08)
    assert regret[("b", 0)] == pytest.approx(0.03) and regret[("b", 1)] == pytest.approx(0.0)
    table = robustness.robustness(frame, study, inert={}).set_index(["arm", "outcome"])
    a, b = table.loc[("a", FAULTY)], table.loc[("b", FAULTY)]
    assert a["max_regret"] == pytest.approx(0.08) and b["max_regret"] == pytest.approx(0.03)
    assert b["verdict"] == "robust better"
    assert (b["median_effect"], b["worst_effect"]) == (pytest.approx(-0.04), pytest.approx(-0.02))
    assert a["verdict"] == "depends"
    assert a["depends_on"] == (
        "stand_in: skip -> -5 pp (better in 1 of 1), human -> +2 pp (worse in 1 of 1)"
    )
    # higher is better for availability: the best arm is the highest, regrets the same
    high = robustness.scenario_effects(frame, study, [AVAILABILITY]).set_index(["arm", "scenario"])
    assert high["regret"][("a", 1)] == pytest.approx(0.08)


def test_one_replicate_judges_each_scenario_by_its_sign() -> None:
    study = _study({"helps": {"audit_rate": 0.3}}, {"stand_in": ["skip", "human"]}, 1)
    frame = _frame(study, lambda arm, values: -0.01)
    row = robustness.robustness(frame, study, inert={}).iloc[0]
    assert (row["share_better"], row["verdict"]) == (1.0, "robust better")


def test_verdict_rules() -> None:
    assert robustness.verdict(0.5, 0.0) == "robust better"
    assert robustness.verdict(0.49, 0.0) == "depends"
    assert robustness.verdict(0.0, 0.5) == "robust worse"
    assert robustness.verdict(0.9, 0.1) == "depends"
    assert robustness.verdict(0.0, 0.0) == "no effect"
    assert robustness.verdict(1.0, 0.0, no_mechanism=True) == "no effect"
    # better in most scenarios but not on one side of an assumption: not robust
    assert robustness.verdict(0.67, 0.0, sides=["better", "unclear"]) == "depends"
    assert robustness.verdict(0.0, 0.8, sides=["worse", "worse"]) == "robust worse"


def test_report_shows_robustness_table_strips_and_heat_table(planted) -> None:
    study, frame, _ = planted
    # the cost-benefit table the report also shows reads the hours and shielded systems
    costs = ["human_hours_per_cycle", "human_hours_policy_per_cycle", "shielded_mean"]
    html = report.render(study, frame.assign(**dict.fromkeys(costs, 1.0)))
    assert "Robustness across the scenarios" in html
    assert "stand_in: human -&gt; +5.2 pp (worse in 4 of 4)" in html
    assert "figure-robustness-strips" in html and "figure-robustness-assumptions" in html


# --------------------------------------------------------------------------------------
# The command line

SMALL_WHATIF = """
kind = "whatif"
seed = 5
replicates = 2
outcomes = ["faulty_share_mean", "human_hours_per_cycle"]
[base]
n_systems = 60
steps = 20
[vary]
stand_in = ["skip", "human"]
fault_rate = [0.002, 0.006]
[arms.audit-30]
audit_rate = 0.3
[arms.human-execution]
human_execution = true
"""


def test_whatif_command_writes_and_prints_robustness(tmp_path: Path) -> None:
    study_file = tmp_path / "small.toml"
    study_file.write_text(SMALL_WHATIF, encoding="utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app,
        ["whatif", str(study_file), "--out", str(out), "--workers", "1"],
        env={"COLUMNS": "200"},
    )
    assert result.exit_code == 0, result.output
    with open(out / robustness.ROBUSTNESS_FILE, encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    assert tuple(rows[0]) == robustness.COLUMNS
    assert len(rows) == 1 + 2 * 2  # two arms, two outcomes
    assert {row[0] for row in rows[1:]} == {"audit-30", "human-execution"}
    assert all(row[2] == "4" for row in rows[1:])  # four scenarios each
    assert "Robustness of faulty_share_mean across 4 scenarios" in result.output
    assert "Verdicts on every outcome" in result.output
    assert "Robustness across the scenarios" in (out / "report.html").read_text(encoding="utf-8")
