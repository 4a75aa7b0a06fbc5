"""The search: known fronts recovered, the same front whatever the workers, resumed by
replay, scores and hypervolumes against values worked out by hand or by Optuna.

The known-answer searches replace the model by a planted evaluation (a function of the
levers, the scenario's ``fault_rate`` and a little seeded noise), so the true front is
known exactly; the runs, stores, resumes and executors are the real ones.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from optuna._hypervolume import compute_hypervolume

from simulation.experiments import runner
from simulation.experiments.scoring import (
    Normaliser,
    hypervolume,
    non_dominated,
    score_outcome,
)
from simulation.experiments.search import on_grid, policy_text, run_search
from simulation.experiments.store import OUTCOMES, load_runs
from simulation.experiments.study import Variable
from simulation.experiments.study_file import parse_study

# -- the planted problem -----------------------------------------------------------------


def planted_run(spec, timeseries=False):
    """Hours grow with the audit rate (and a circuit breaker costs 10 h for nothing); the
    faulty share falls with it, is higher with assignment 'neighbours', and scales with
    the scenario's fault rate; a little noise from the run's seed."""
    config = spec.config
    noise = np.random.default_rng(spec.seed).normal(0.0, 1e-4)
    a = config["audit_rate"]
    row = runner._base_row(spec)
    row.update({"status": "ok", "error": None, "wall_time_s": 0.0, "cpu_time_s": 0.0})
    row.update(dict.fromkeys(OUTCOMES, 0.0))
    row["human_hours_per_cycle"] = 100.0 * a + 10.0 * config["circuit_breaker"]
    loyal = 0.05 if config["assignment"] == "neighbours" else 0.0
    row["faulty_share_mean"] = (0.5 - a) ** 2 * config["fault_rate"] * 400 + loyal + noise
    return runner.RunOutput(row)


@pytest.fixture
def planted(monkeypatch):
    monkeypatch.setattr(runner, "execute_run", planted_run)


def search_study(**changes):
    data = {
        "name": "planted",
        "kind": "search",
        "seed": 7,
        "replicates": 2,
        "design": "lhs",
        "samples": 4,
        "base": {"n_systems": 100, "steps": 20},
        "vary": {"fault_rate": {"uniform": [0.001, 0.004]}},
        "levers": {
            "audit_rate": {"uniform": [0.0, 0.5]},
            "circuit_breaker": [False, True],
            "assignment": {"choice": ["neighbours", "independent-pool"]},
        },
        "objectives": {"human_hours_per_cycle": "min", "faulty_share_mean": "min"},
        "arms": {"audit-20": {"audit_rate": 0.2}},
        "search": {"population": 16, "generations": 12},
    }
    for key, value in changes.items():
        data[key] = value
    return parse_study(data, "planted.toml")


def true_front(study):
    """The true front: every audit rate on the grid, no breaker, an independent pool,
    scored by the mean over the study's scenarios (noise aside)."""
    from simulation.experiments.design import scenarios

    _, values, _ = scenarios(study)
    rates = np.linspace(0.0, 0.5, 1001)
    scale = np.mean([v["fault_rate"] for v in values]) * 400
    return np.column_stack([100 * rates, (0.5 - rates) ** 2 * scale])


def test_the_planted_front_is_found(planted, tmp_path):
    """No front policy has a circuit breaker (pure cost); all but the cheapest have the
    independent pool (the other choice only adds faults); the front spans the audit rates, and its
    hypervolume is within 5 % of the true front's (0.96-0.97 for seeds 7-9)."""
    study = search_study()
    result = run_search(study, tmp_path / "out")
    front = result.front
    assert len(front) >= 8
    assert not front["circuit_breaker"].any()
    # 'neighbours' only adds faults: on the front only where no pool candidate was as cheap
    pool = front[front["assignment"] == "independent-pool"]
    loyal = front[front["assignment"] != "independent-pool"]
    assert len(loyal) <= 1
    assert (loyal["human_hours_per_cycle"] < pool["human_hours_per_cycle"].min()).all()
    rates = np.sort(front["audit_rate"].to_numpy())
    assert rates[0] <= 0.05 and rates[-1] >= 0.45
    assert np.diff(rates).max() <= 0.1
    truth = true_front(study)
    normaliser = Normaliser.of(truth)  # the true front spans [0, 1] in both objectives
    points = np.column_stack([front["human_hours_per_cycle"], front["faulty_share_mean"]])
    found = hypervolume(normaliser(points), normaliser.reference)
    assert found >= 0.95 * hypervolume(normaliser(truth), normaliser.reference)
    # the hypervolume never falls: the front found so far only improves
    assert np.all(np.diff(result.convergence["hypervolume"]) >= -1e-12)
    # the comparison arm (audit 0.2, neighbours) is dominated by the front
    arm = result.comparison.set_index("policy_name").loc["audit-20"]
    assert arm["dominated_by"]


def test_a_constraint_bounds_the_front(planted, tmp_path):
    study = search_study(constraints={"human_hours_per_cycle": {"max": 20.0}})
    result = run_search(study, tmp_path / "out")
    assert len(result.front) >= 3
    assert (result.front["human_hours_per_cycle"] <= 20.0).all()
    over = result.candidates[result.candidates["human_hours_per_cycle"] > 20.0]
    assert len(over) and not over["feasible"].any() and not over["on_front"].any()


def test_same_seed_same_front_and_a_longer_search_replays_the_shorter(planted, tmp_path):
    """Run twice into new folders: the same front. Run 4 generations, then 6 into the same
    folder: the 6-generation front of a fresh folder, and no run stored twice."""
    study = search_study(search={"population": 8, "generations": 6})
    first = run_search(study, tmp_path / "a")
    again = run_search(study, tmp_path / "b")
    pd.testing.assert_frame_equal(first.candidates, again.candidates)
    short = search_study(search={"population": 8, "generations": 4})
    run_search(short, tmp_path / "c")
    longer = run_search(study, tmp_path / "c")
    pd.testing.assert_frame_equal(first.front, longer.front)
    assert longer.stored > 0 and longer.ran > 0
    keys = load_runs(tmp_path / "c")["run_key"]
    assert keys.is_unique
    assert len(keys) == len(load_runs(tmp_path / "a"))


def test_three_objectives_with_nsga3(monkeypatch, tmp_path):
    """A third objective (the shielded share, planted as the audit rate's distance from
    0.25) keeps more of the audit range on the front; every front policy is
    non-dominated in all three, and the convergence is a hypervolume in three."""

    def three(spec, timeseries=False):
        output = planted_run(spec)
        output.row["shielded_mean"] = abs(spec.config["audit_rate"] - 0.25)
        return output

    monkeypatch.setattr(runner, "execute_run", three)
    objectives = {
        "human_hours_per_cycle": "min",
        "faulty_share_mean": "min",
        "shielded_mean": "min",
    }
    study = search_study(
        objectives=objectives, search={"algorithm": "nsga3", "population": 12, "generations": 4}
    )
    result = run_search(study, tmp_path / "out")
    names = list(objectives)
    points = result.candidates[result.candidates["feasible"]][names].to_numpy()
    front = result.front[names].to_numpy()
    assert len(front) >= 3
    for point in front:  # nothing evaluated dominates a front point
        assert not ((points <= point).all(axis=1) & (points < point).any(axis=1)).any()
    assert (result.convergence["hypervolume"] > 0).all()


def test_scores_by_quantile_and_regret(planted, tmp_path):
    quantile = run_search(
        search_study(search={"population": 8, "generations": 2, "score": "quantile"}),
        tmp_path / "q",
    )
    mean = run_search(search_study(search={"population": 8, "generations": 2}), tmp_path / "m")
    both = quantile.candidates.merge(mean.candidates, on="candidate", suffixes=("_q", "_m"))
    # the 0.9 quantile of a minimised outcome is at least its mean over the scenarios
    assert (both["faulty_share_mean_q"] >= both["faulty_share_mean_m"] - 1e-12).all()
    regret = run_search(
        search_study(search={"population": 8, "generations": 2, "score": "max-regret"}),
        tmp_path / "r",
    )
    assert (regret.candidates["human_hours_per_cycle"] >= 0).all()
    # the policy with the fewest hours in every scenario (here hours do not depend on
    # the scenario) has no regret in hours; the others have their distance from it
    hours = pd.concat([regret.candidates, regret.comparison])["human_hours_per_cycle"]
    assert hours.min() == pytest.approx(0.0, abs=1e-12)
    hours_of = load_runs(tmp_path / "r").groupby("arm")["human_hours_per_cycle"].mean()
    for name, value in regret.candidates.set_index("candidate")["human_hours_per_cycle"].items():
        assert value == pytest.approx(hours_of[name] - hours_of.min(), abs=1e-9)


# -- scores, fronts and hypervolumes -----------------------------------------------------


def test_score_outcome_by_hand():
    table = pd.DataFrame([[1.0, 2.0, 3.0, 4.0], [2.0, 2.0, 2.0, 2.0]], index=["a", "b"])
    mean, low, high = score_outcome(table, "min", "mean")
    assert mean.tolist() == [2.5, 2.0]
    assert low[0] <= 2.5 <= high[0] and low[1] == high[1] == 2.0
    assert score_outcome(table, "min", "quantile", 0.75)[0].tolist() == [3.25, 2.0]
    # a maximised outcome's bad side is its lower quantile
    assert score_outcome(table, "max", "quantile", 0.75)[0].tolist() == [1.75, 2.0]
    # regret: best per scenario is (1, 2, 2, 2); a's regrets (0, 0, 1, 2), b's (1, 0, 0, 0)
    assert score_outcome(table, "min", "max-regret")[0].tolist() == [2.0, 1.0]
    # maximised: best is (2, 2, 3, 4); a's regrets (1, 0, 0, 0), b's (0, 0, 1, 2)
    assert score_outcome(table, "max", "max-regret")[0].tolist() == [1.0, 2.0]
    # a policy missing a scenario is not scored
    gap = table.copy()
    gap.iloc[0, 1] = np.nan
    assert np.isnan(score_outcome(gap, "min", "mean")[0][0])


def test_non_dominated_by_hand():
    points = np.array([[1, 3], [2, 2], [3, 1], [2, 3], [1, 3], [np.nan, 0]], dtype=float)
    assert non_dominated(points).tolist() == [True, True, True, False, True, False]


@pytest.mark.parametrize("objectives", [2, 3])
def test_hypervolume_agrees_with_optuna(objectives):
    rng = np.random.default_rng(objectives)
    for n in (1, 4, 30):
        points = rng.random((n, objectives))
        reference = np.full(objectives, 1.1)
        expected = compute_hypervolume(points[non_dominated(points)], reference)
        assert hypervolume(points, reference) == pytest.approx(expected, rel=1e-12)


def test_hypervolume_by_hand():
    assert hypervolume(np.array([[0.0, 0.0]]), 1.0) == 1.0
    assert hypervolume(np.array([[0.0, 0.5], [0.5, 0.0]]), 1.0) == 0.75
    assert hypervolume(np.array([[2.0, 0.0]]), 1.0) == 0.0  # beyond the reference
    assert hypervolume(np.array([[0.5, 0.5, 0.5]]), 1.0) == 0.125


def test_levers_on_their_grid_and_in_words():
    rate = Variable("audit_rate", "uniform", (), 0.0, 0.5)
    assert on_grid(rate, 0.123456) == 0.1235
    assert on_grid(rate, 0.5) == 0.5
    assert on_grid(Variable("x", "loguniform", (), 0.001, 0.1), 0.0123456) == 0.0123
    assert policy_text({"audit_rate": 0.2, "human_execution": True}) == (
        "audit_rate=0.2, human_execution=true"
    )
