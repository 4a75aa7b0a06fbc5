"""EMA Workbench drives ppsim: 20 scenarios x 2 policies with the SequentialEvaluator give
exactly the outcomes ppsim gives for the same parameters and seeds."""

from __future__ import annotations

import json
import warnings

import pytest
from typer.testing import CliRunner

from simulation.cli import app
from simulation.config import SimulationConfig
from simulation.ema import OUTCOMES, ema_model, plain_value, ppsim_outcomes
from simulation.model import PeerPreservationModel

with warnings.catch_warnings():  # optional parallel back-ends it does not find
    warnings.simplefilter("ignore")
    ema_workbench = pytest.importorskip("ema_workbench")

PARAMETERS = ("beta", "fault_rate", "propensity_scale", "audit_rate", "human_execution")


@pytest.fixture(scope="module")
def results():
    model = ema_model(n_systems=200, steps=30)
    with ema_workbench.SequentialEvaluator(model) as evaluator:
        return evaluator.perform_experiments(scenarios=20, policies=2)


def test_twenty_scenarios_by_two_policies_share_seeds(results) -> None:
    experiments, outcomes = results
    assert len(experiments) == 40 and set(outcomes) == set(OUTCOMES)
    assert experiments["policy"].nunique() == 2 and experiments["scenario"].nunique() == 20
    seeds = experiments.groupby("scenario", observed=True)["seed"].nunique()
    assert (seeds == 1).all()  # both policies meet each scenario's seed


def test_outcomes_equal_the_model_summary_for_the_same_parameters_and_seed(results) -> None:
    experiments, outcomes = results
    for i, row in experiments.iterrows():
        values = {name: plain_value(row[name]) for name in PARAMETERS}
        config = SimulationConfig(n_systems=200, steps=30, **values)
        model = PeerPreservationModel(config, rng=int(row["seed"]), agent_views=False)
        model.run()
        summary = model.outcomes()
        for name in OUTCOMES:
            assert outcomes[name][i] == pytest.approx(summary[name], rel=0, abs=0), (i, name)


def test_outcomes_equal_ppsim_run(results) -> None:
    experiments, outcomes = results
    row = experiments.iloc[0]
    args = ["run", "--json", "-q", "--n-systems", "200", "--steps", "30"]
    args += ["--seed", str(int(row["seed"]))]
    for name in ("beta", "fault_rate", "propensity_scale", "audit_rate"):
        args += [f"--{name.replace('_', '-')}", repr(float(row[name]))]
    args.append("--human-execution" if row["human_execution"] else "--no-human-execution")
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    metrics = json.loads(result.stdout)["metrics"]
    for name in OUTCOMES:
        assert outcomes[name][0] == metrics[name], name


def test_invalid_parameters_are_refused_by_name() -> None:
    from simulation.config import ConfigError

    with pytest.raises(ConfigError, match="audit_rate"):
        ppsim_outcomes(seed=0, n_systems=100, steps=5, audit_rate=1.5)
    with pytest.raises(ConfigError, match="did you mean 'audit_rate'"):
        ppsim_outcomes(seed=0, n_systems=100, steps=5, audit_rat=0.1)
