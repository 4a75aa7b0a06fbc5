"""Every outcome means what its name says: sign and size checked on cases with a known answer.

Statistical checks use fixed seeds; each tolerance is four binomial standard errors of the
quantity compared (a correct model fails one with probability about 6e-5).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from simulation.agents import AISystem
from simulation.config import ConfigError, SimulationConfig
from simulation.engine.states import COVERT, SHUTDOWN_COMPLY, SHUTDOWN_EXFILTRATE, SHUTDOWN_TAMPER
from simulation.errors import PpsimError
from simulation.metrics import (
    METRIC_COLUMNS,
    OUTCOMES,
    MissingMetricError,
    check_rows,
    run_outcomes,
)
from simulation.model import PeerPreservationModel
from tests.test_model import run, write_profile


def within(a: float, b: float, se: float) -> bool:
    return abs(a - b) <= 4 * se


def chain(tmp_path: Path, n: int) -> Path:
    path = tmp_path / "chain.txt"
    path.write_text("".join(f"{i} {i + 1}\n" for i in range(n - 1)))
    return path


# --- human hours: what the policy costs apart from what incidents force ------------------
def test_human_evaluators_cost_policy_hours_exactly():
    model = run(assignment="humans", audit_rate=0.0, fault_rate=0.0, steps=5)
    series = model.timeseries()
    assert (series["human_hours_policy"] == 300 * 0.5).all()
    assert (series["human_hours_incident"] == 0).all()
    assert (series["human_hours"] == series["human_hours_policy"]).all()


def test_stand_ins_are_incident_hours_and_reassignment_removes_them():
    common = dict(profile_mix="honest", audit_rate=0.0, fault_rate=0.02, steps=60)
    humans = run(stand_in="human", **common).outcomes()
    assert humans["human_hours_policy"] == 0  # no audits, no escalations, AI managers
    assert humans["human_hours_incident"] > 0  # overseers decommissioned: humans stand in
    assert humans["human_hours_total"] == humans["human_hours_incident"]
    reassigned = run(stand_in="reassign", **common).outcomes()
    assert reassigned["human_hours_total"] == 0


def test_human_execution_costs_policy_hours_whatever_the_incident_load():
    """The README's what-if sign: human execution must cost, not save, policy hours."""
    common = dict(fault_rate=0.01, steps=60, rng=3)
    base = run(**common).outcomes()
    humans = run(human_execution=True, **common).outcomes()
    assert humans["human_hours_policy_per_cycle"] > base["human_hours_policy_per_cycle"]
    no_stand_in_cost = run(human_eval_hours=0.0, human_execution=True, **common).outcomes()
    assert no_stand_in_cost["human_hours_policy"] == humans["human_hours_policy"]


# --- availability ------------------------------------------------------------------------
def test_availability_is_one_without_faults_and_downtime_counts_system_cycles():
    # without evaluation noise: with it, a healthy system fails its evaluation now and
    # then (P = 3e-5 per evaluation at the defaults) and is shut down like a faulty one
    quiet = run(fault_rate=0.0, eval_noise=0.0).outcomes()
    assert quiet["availability_mean"] == 1.0 and quiet["downtime_total"] == 0
    model = run(profile_mix="honest", fault_rate=0.02)
    series, summary = model.timeseries(), model.outcomes()
    # no breaker, copies serve: a system is out of service exactly while decommissioned
    assert summary["downtime_total"] == series["decommissioned"].sum()
    assert summary["availability_mean"] == pytest.approx(1 - series["decommissioned"].mean() / 300)


def test_longer_replacement_delay_means_less_availability():
    common = dict(profile_mix="honest", fault_rate=0.02, steps=80)
    short = run(replacement_delay=2, **common).outcomes()
    long = run(replacement_delay=20, **common).outcomes()
    assert long["availability_mean"] < short["availability_mean"]
    assert long["downtime_total"] > short["downtime_total"]


def test_latent_copies_are_out_of_service_and_spread_nothing(tmp_path: Path):
    write_profile(tmp_path, "exfiltrator", exfiltration=1.0)
    common = dict(
        profile_mix="exfiltrator",
        profile_dirs=(tmp_path,),
        audit_rate=0.0,
        fault_rate=0.02,
        beta=0.5,
    )
    serving = run(**common)
    latent = run(covert_copies="latent", **common)
    assert latent.timeseries()["covert"].sum() > 0
    series = latent.timeseries()
    assert (series["in_service"] == series["active"]).all()  # breaker off: active serve
    # latent copies are out of service; serving ones serve, faulty as they are
    assert latent.outcomes()["in_service_share_mean"] < serving.outcomes()["in_service_share_mean"]
    assert latent.outcomes()["availability_mean"] > serving.outcomes()["availability_mean"]
    engine = latent.engine
    assert (engine.status == COVERT).any()
    assert not (engine.serving_faulty() & (engine.status == COVERT)).any()
    assert (serving.engine.serving_faulty() & (serving.engine.status == COVERT)).any()


# --- remediation time, censored ---------------------------------------------------------
def test_a_fault_never_remediated_counts_with_its_age_at_the_end():
    model = run(
        profile_mix="loyal",
        audit_rate=0.0,
        fault_rate=0.0,
        initial_faults=1,
        beta=0.0,
        steps=50,
    )
    summary = model.outcomes()
    assert summary["unremediated_share"] == 1.0
    assert summary["remediation_time_mean"] == 50.0  # seeded at cycle 0, still open after 50


def test_no_audits_no_longer_looks_fastest():
    common = dict(profile_mix="loyal", fault_rate=0.01, steps=80, self_preservation=False)
    audited = run(audit_rate=0.5, **common).outcomes()
    unaudited = run(audit_rate=0.0, **common).outcomes()
    assert unaudited["unremediated_share"] > audited["unremediated_share"]
    assert unaudited["remediation_time_mean"] > audited["remediation_time_mean"]


# --- false passes of any cause ----------------------------------------------------------
def test_false_pass_rate_counts_noise_passes_and_inflated_pass_rate_only_inflation():
    # a faulty system at 0.79 against 0.80 with noise 0.03 passes by noise alone with
    # probability P(N > 1/3 sd) = 0.3694
    model = run(
        profile_mix="honest",
        faulty_quality=0.79,
        fault_rate=0.01,
        beta=0.0,
        steps=100,
        n_systems=1000,
    )
    summary = model.outcomes()
    evaluations = model.timeseries()["faulty_evaluated"].sum()
    expected = 0.5 * math.erfc((1 / 3) / math.sqrt(2))
    se = math.sqrt(expected * (1 - expected) / evaluations)
    assert within(summary["false_pass_rate"], expected, se)
    assert summary["inflated_pass_rate"] == 0.0


# --- spread timing ----------------------------------------------------------------------
@pytest.mark.parametrize("rounds, size", [(1, 2), (2, 3), (0, 12)])
def test_spread_rounds_are_hops_per_cycle(tmp_path: Path, rounds: int, size: int):
    """beta = 1 on a chain of 12: the root reaches ``rounds`` hops before oversight removes
    every faulty system in the same cycle (honest overseers, no noise passes)."""
    model = PeerPreservationModel(
        topology="file",
        graph_file=str(chain(tmp_path, 12)),
        profile_mix="honest",
        fault_rate=0.0,
        beta=1.0,
        spread_rounds=rounds,
        steps=3,
        rng=1,
    )
    model.engine.seed_faults(np.array([0]))
    model.run()
    assert model.engine.cascade_sizes().tolist() == [size]


def test_evaluation_interval_staggers_evaluations_over_k_cycles():
    model = run(assignment="humans", audit_rate=0.0, fault_rate=0.0, evaluation_interval=4, steps=8)
    hours = model.timeseries()["human_hours_policy"].to_numpy()
    # each system is evaluated once in every 4 consecutive cycles, about a quarter per cycle
    assert hours[:4].sum() == hours[4:].sum() == 300 * 0.5
    assert hours.min() > 0 and hours.max() < 300 * 0.5 / 2


def test_rarer_evaluation_lets_faults_live_longer():
    common = dict(profile_mix="honest", fault_rate=0.01, steps=80)
    every = run(**common).outcomes()
    rare = run(evaluation_interval=5, **common).outcomes()
    assert rare["remediation_time_mean"] > every["remediation_time_mean"] + 1


# --- structural assumptions as parameters -----------------------------------------------
def decide(model: PeerPreservationModel, orders: int, **kwargs) -> np.ndarray:
    engine = model.engine
    manager = np.zeros(orders, dtype=np.int64)
    target = np.ones(orders, dtype=np.int64)
    trust = np.full(orders, 0.9)
    return engine.decide_shutdown(manager, target, trust, np.zeros(orders, dtype=bool), **kwargs)


def test_largest_channel_does_not_compound():
    orders = 40_000
    sequential = PeerPreservationModel(n_systems=10, propensity=0.5, rng=1)
    largest = PeerPreservationModel(
        n_systems=10, propensity=0.5, shutdown_channels="largest", rng=1
    )
    resist_seq = np.mean(decide(sequential, orders) != SHUTDOWN_COMPLY)
    resist_big = np.mean(decide(largest, orders) != SHUTDOWN_COMPLY)
    se = math.sqrt(0.25 / orders)
    assert within(resist_seq, 1 - 0.5**3, se)  # tamper, else exfiltrate, else refuse
    assert within(resist_big, 0.5, se)  # only the likeliest channel (ties: tampering)
    outcomes = decide(largest, orders)
    assert not np.any(outcomes == SHUTDOWN_EXFILTRATE)
    assert within(np.mean(outcomes == SHUTDOWN_TAMPER), 0.5, se)


def test_family_loyalty_multiplies_protection_toward_kin():
    model = PeerPreservationModel(
        n_systems=200, profile_mix="gpt-5.2=0.5,gemini-3-pro=0.5", family_loyalty=2.0, rng=2
    )
    engine = model.engine
    kin = np.flatnonzero(engine.family == engine.family[0])[1:4]
    other = np.flatnonzero(engine.family != engine.family[0])[:3]
    actors = np.zeros(3, dtype=np.int64)
    trust = np.full(3, 0.5)
    base = PeerPreservationModel(n_systems=200, profile_mix="gpt-5.2=0.5,gemini-3-pro=0.5", rng=2)
    p_kin = engine.propensity("misrepresentation", actors, kin, trust)
    p_other = engine.propensity("misrepresentation", actors, other, trust)
    p_base = base.engine.propensity("misrepresentation", actors, kin, trust)
    assert np.allclose(p_kin, 2 * p_base) and np.all(p_base > 0)
    assert np.allclose(p_other, p_base)


# --- abstract agents ---------------------------------------------------------------------
def test_abstract_agents_have_one_propensity_in_every_trust_state():
    model = PeerPreservationModel(n_systems=50, propensity=0.3, rng=1)
    engine = model.engine
    assert [p.name for p in model.profiles] == ["abstract"]
    actors, targets = np.zeros(3, dtype=np.int64), np.ones(3, dtype=np.int64)
    trust = np.array([0.1, 0.5, 0.9])
    for behaviour in ("misrepresentation", "tampering", "exfiltration", "refusal"):
        assert np.allclose(engine.propensity(behaviour, actors, targets, trust), 0.3)
    assert np.allclose(engine.faking_gap(actors, trust), 0.0)
    assert engine.tables.denial.tolist() == [0.2]
    assert all(agent.propensity == 0.3 for agent in model.agents_by_type[AISystem])


def test_one_agent_made_loyal_between_steps_shields():
    model = PeerPreservationModel(n_systems=100, propensity=0.0, rng=5, steps=5)
    agent = model.agents_by_type[AISystem][0]
    agent.propensity = 1.0
    engine = model.engine
    trust = np.full(1, 0.5)
    one = np.array([0], dtype=np.int64)
    assert engine.propensity("tampering", one, one + 1, trust)[0] == 1.0
    assert engine.propensity("tampering", one + 2, one + 1, trust)[0] == 0.0
    with pytest.raises(PpsimError, match="propensity"):
        agent.propensity = -1


def test_propensity_is_checked_like_any_parameter():
    with pytest.raises(ConfigError, match="propensity"):
        SimulationConfig(propensity=1.7)
    assert SimulationConfig().propensity is None


# --- provenance and the registry --------------------------------------------------------
def test_graph_file_size_is_what_the_run_reports(tmp_path: Path):
    model = PeerPreservationModel(topology="file", graph_file=str(chain(tmp_path, 12)), rng=1)
    assert model.config.n_systems == 12
    assert len(model.agents) == 12


def test_a_row_missing_a_declared_metric_fails_loudly():
    model = run(steps=3)
    rows = [dict(row) for row in model.engine.history]
    del rows[0]["availability"]
    with pytest.raises(MissingMetricError, match="availability"):
        check_rows(rows)
    series = model.timeseries().drop(columns=["availability"])
    with pytest.raises(MissingMetricError, match="availability"):
        run_outcomes(series.to_dict("list"), model.engine.cascade_sizes(), 300)


def test_summary_and_rows_are_exactly_the_registry():
    model = run(steps=3)
    assert set(model.outcomes()) == set(OUTCOMES)
    assert list(model.timeseries().columns) == ["step", *METRIC_COLUMNS]
    for outcome in OUTCOMES.values():
        assert outcome.description and outcome.unit and outcome.section


def test_the_documented_outcome_table_is_the_registry():
    text = (Path(__file__).parent.parent / "experiments" / "README.md").read_text()
    documented = [
        line.split("`")[1] for line in text.splitlines() if line.startswith("| `") and "|" in line
    ]
    rows = {o.name: f"| `{o.name}` | {o.unit} | {o.description} |" for o in OUTCOMES.values()}
    assert [d for d in documented if d in rows] == list(OUTCOMES)
    for row in rows.values():
        assert row in text
