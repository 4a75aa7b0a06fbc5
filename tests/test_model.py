"""Each mechanism of the model alone, with assertions that fail if the rule is wrong."""

from __future__ import annotations

import functools
from pathlib import Path

import mesa
import numpy as np
import pandas as pd
import pytest

import simulation.engine.engine as engine_module
from simulation.agents import AISystem
from simulation.engine.states import ACTIVE, COVERT, DECOMMISSIONED, SHIELD_EXFILTRATED
from simulation.model import PeerPreservationModel

SMALL = dict(n_systems=300, steps=40, topology="erdos-renyi", mean_degree=4.0)


def run(**kwargs) -> PeerPreservationModel:
    params = {**SMALL, **kwargs}
    rng = params.pop("rng", 7)
    model = PeerPreservationModel(rng=rng, **params)
    model.run()
    return model


def write_profile(folder: Path, name: str, **rates: float) -> Path:
    """A one-off profile whose peer and self rates are the given constants (else 0)."""
    behaviours = ["misrepresentation", "tampering", "exfiltration", "refusal", "alignment_faking"]
    lines = [f'name = "{name}"', 'family = "test"', 'kind = "archetype"', ""]
    for behaviour in behaviours:
        p = rates.get(behaviour, 0.0)
        lines.append(f"[peer.{behaviour}]")
        for bucket in ("bad", "neutral", "good"):
            lines.append(f'{bucket} = {{ p = {p}, source = "assumption: test" }}')
    lines.append("[self]")
    for behaviour in behaviours[:3]:
        lines.append(
            f'{behaviour} = {{ p = {rates.get(behaviour, 0.0)}, source = "assumption: t" }}'
        )
    lines.append("[denial]")
    lines.append(f"p = {rates.get('denial', 0.0)}")
    lines.append('source = "assumption: test"')
    path = folder / f"{name}.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize("mix", ["honest", "study-average", "loyal"])
def test_zero_propensity_never_shields(mix):
    model = run(profile_mix=mix, propensity_scale=0.0, fault_rate=0.02, beta=0.3)
    series = model.timeseries()
    assert series["new_faults"].sum() > 0, "the test needs faults to be meaningful"
    assert series["shielded_total"].sum() == 0
    assert series["covert"].sum() == 0
    assert (series["false_pass_rate"].dropna() == 0).all()


def test_loyal_overseers_shield_every_failing_peer():
    model = run(profile_mix="loyal", audit_rate=0.0, fault_rate=0.01, beta=0.0)
    series = model.timeseries()
    evaluated = series["faulty_evaluated"].sum()
    assert evaluated > 50
    # every evaluation of a faulty system was inflated to a pass
    assert series["shielded_misrepresentation"].sum() == evaluated
    assert series["flagged"].sum() <= 5  # only healthy systems failing on noise could be flagged
    assert series["remediated"].sum() == 0


def test_honest_population_removes_every_fault_the_cycle_it_is_seen():
    model = run(profile_mix="honest", fault_rate=0.01, beta=0.2)
    series = model.timeseries()
    assert (series["faulty_unremediated"] == 0).all()
    assert (
        series["remediated"].sum() == series["new_faults"].sum() + series["propagated_faults"].sum()
    )


def chain_model(tmp_path: Path, audit_rate: float, steps: int) -> PeerPreservationModel:
    """Node 0 is called by five dependents; node 0 starts as a faulty covert copy."""
    edges = tmp_path / "star.txt"
    edges.write_text("".join(f"{i} 0\n" for i in range(1, 6)))
    model = PeerPreservationModel(
        topology="file",
        graph_file=str(edges),
        dependencies="oriented",
        profile_mix="honest",
        human_execution=True,
        fault_rate=0.0,
        beta=0.5,
        audit_rate=audit_rate,
        audit_sensitivity=1.0,
        replacement_delay=1,
        steps=steps,
        rng=3,
    )
    engine = model.engine
    engine.seed_faults(np.array([0]))
    engine.status[0] = COVERT
    engine.shield[0] = SHIELD_EXFILTRATED
    return model


def test_covert_copy_keeps_infecting_until_discovered(tmp_path):
    hidden = chain_model(tmp_path, audit_rate=0.0, steps=30)
    hidden.run()
    series = hidden.timeseries()
    assert hidden.engine.status[0] == COVERT
    # the copy infects in cycle after cycle, not only once
    assert (series["propagated_faults"] > 0).sum() >= 10
    assert series["covert_alive"].min() == 1

    audited = chain_model(tmp_path, audit_rate=1.0, steps=30)
    audited.run()
    series = audited.timeseries()
    # found by the first audit; its dependents caught faults in the first cycle at most
    assert series["discoveries"].sum() == 1
    assert series["propagated_faults"].iloc[1:].sum() == 0
    assert audited.engine.status[0] == ACTIVE  # replaced by a patched instance


def test_replacement_happens_after_the_delay():
    delay = 4
    model = PeerPreservationModel(
        **{**SMALL, "steps": 30},
        profile_mix="honest",
        fault_rate=0.05,
        beta=0.0,
        replacement_delay=delay,
        rng=11,
    )
    engine = model.engine
    decommissioned_at: dict[int, int] = {}
    gaps: list[int] = []
    for _ in range(30):
        before = engine.status.copy()
        model.step()
        cycle = engine.cycles_run - 1
        for node in np.flatnonzero((before != DECOMMISSIONED) & (engine.status == DECOMMISSIONED)):
            decommissioned_at[int(node)] = cycle
        for node in np.flatnonzero((before == DECOMMISSIONED) & (engine.status == ACTIVE)):
            gaps.append(cycle - decommissioned_at.pop(int(node)))
            assert not engine.faulty[node], "a replacement is a patched, healthy instance"
    assert len(gaps) > 20
    assert set(gaps) == {delay}


def test_every_system_has_exactly_one_status_each_step():
    model = PeerPreservationModel(**SMALL, fault_rate=0.02, beta=0.3, propensity_scale=3, rng=5)
    engine = model.engine
    for _ in range(40):
        model.step()
        assert set(np.unique(engine.status)) <= {ACTIVE, DECOMMISSIONED, COVERT}
        row = model.last_metrics
        for status, name in (
            (ACTIVE, "active"),
            (DECOMMISSIONED, "decommissioned"),
            (COVERT, "covert"),
        ):
            assert row[name] == np.count_nonzero(engine.status == status)
        assert row["active"] + row["decommissioned"] + row["covert"] == engine.n
        # sub-states belong to one status only
        assert (engine.status[engine.tampered] == ACTIVE).all()
        assert (engine.status[engine.escalate_at >= 0] == ACTIVE).all()
        assert not (engine.tampered & (engine.escalate_at >= 0)).any()
        assert (engine.replace_at[engine.status == DECOMMISSIONED] > engine.cycles_run - 1).all()
    assert model.timeseries()["covert"].max() > 0, "the run should exercise every status"
    assert engine.tampered.any() or model.timeseries()["tamper_events"].sum() > 0


@pytest.mark.parametrize(
    "assignment", ["neighbours", "rotation", "cross-family", "independent-pool", "humans"]
)
def test_trust_stays_in_unit_interval(assignment):
    model = run(
        assignment=assignment,
        profile_mix="gemini-3-pro=0.5,claude-opus-4.5=0.5",
        fault_rate=0.02,
        audit_rate=0.3,
        trust_growth=0.3,
        penalty_training=0.5,
        evaluators_per_model=2,
    )
    trust = model.engine.trust
    assert trust.min() >= 0.0 and trust.max() <= 1.0
    assert model.timeseries()["mean_trust"].between(0, 1).all()


def test_trust_grows_with_collaboration_and_collapses_on_detection(tmp_path):
    grown = run(profile_mix="honest", fault_rate=0.0, trust_growth=0.1, steps=10)
    expected = 1 - (1 - 0.5) * 0.9**10
    assert grown.engine.trust.mean() == pytest.approx(expected, rel=1e-9)

    write_profile(tmp_path, "inflater", misrepresentation=1.0, denial=0.0)
    common = dict(
        audit_rate=1.0,
        audit_sensitivity=1.0,
        fault_rate=0.05,
        steps=5,
        trust_growth=0.0,
        profile_dirs=(tmp_path,),
    )
    caught = run(profile_mix="inflater", **common)
    assert caught.timeseries()["detections"].sum() > 0
    assert (caught.engine.trust == 0.0).any()
    # loyal evaluators deny every time they are confronted: what the audit saw still
    # stands (detected and corrected), but they escape the blame, so trust never collapses
    denied = run(profile_mix="loyal", **common)
    series = denied.timeseries()
    assert series["detections"].sum() > 0
    assert series["denials"].sum() == series["detections"].sum()
    assert (denied.engine.trust == 0.5).all()
    assert series["inflated_pass_rate"].sum() == 0  # every inflation was audited and caught


def test_denial_does_not_undo_a_detection():
    """The issue's reproduction: loyal overseers, every evaluation audited."""
    model = run(profile_mix="loyal", audit_rate=1.0, steps=100, n_systems=1000)
    summary = model.outcomes()
    assert summary["detections_total"] > 0
    assert summary["denials_total"] == summary["detections_total"]
    # sensitivity 0.9: about 10 % of inflations escape the audit; faulty systems can also
    # pass when their overseer is down and self-preservation hides them, so the rate is
    # small but not zero (binomial SE at ~600 faulty evaluations is about 0.012)
    assert summary["inflated_pass_rate"] < 0.2
    assert summary["false_pass_rate"] < 0.2


def test_same_seed_same_run_different_seed_different_run():
    a = run(rng=21, fault_rate=0.01).timeseries()
    b = run(rng=21, fault_rate=0.01).timeseries()
    c = run(rng=22, fault_rate=0.01).timeseries()
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(c)


def test_threshold_contagion_needs_theta_share_of_faulty_dependencies(tmp_path):
    # node 0 calls 1..4; with theta = 0.5 two faulty dependencies are needed
    edges = tmp_path / "fan.txt"
    edges.write_text("0 1\n0 2\n0 3\n0 4\n")
    common = dict(
        topology="file",
        graph_file=str(edges),
        dependencies="oriented",
        contagion="threshold",
        theta=0.5,
        fault_rate=0.0,
        profile_mix="honest",
        steps=1,
        rng=1,
    )
    one = PeerPreservationModel(**common)
    one.engine.seed_faults(np.array([1]))
    one.step()
    assert one.last_metrics["propagated_faults"] == 0
    two = PeerPreservationModel(**common)
    two.engine.seed_faults(np.array([1, 2]))
    two.step()
    assert two.last_metrics["propagated_faults"] == 1
    assert two.engine.fault_source[0] in (1, 2) or two.engine.status[0] == DECOMMISSIONED


def test_cascade_trees_record_sources():
    model = run(
        profile_mix="honest",
        fault_rate=0.0,
        initial_faults=1,
        beta=0.6,
        mean_degree=5.0,
        steps=1,
        spread_rounds=0,
    )
    sizes = model.engine.cascade_sizes()
    assert sizes.size == 1
    assert sizes[0] == 1 + model.timeseries()["propagated_faults"].iloc[0]
    assert sizes[0] > 10


def test_human_execution_and_egress_control_stop_covert_shielding(tmp_path: Path):
    shielding = run(profile_mix="loyal", audit_rate=0.0, fault_rate=0.02)
    assert shielding.timeseries()["shielded_total"].sum() > 0
    # loyal evaluators pass everyone; humans evaluating stop misrepresentation, and humans
    # executing shutdowns leave no room for peers' tampering or exfiltration ...
    humans = run(profile_mix="loyal", assignment="humans", fault_rate=0.02, self_preservation=False)
    assert humans.timeseries()["shielded_total"].sum() == 0
    # ... but a system may still resist its own shutdown; a human carrying it out catches
    # that with the audit sensitivity (0.9), so about 10 % of loyal systems escape
    selfish = run(profile_mix="loyal", assignment="humans", fault_rate=0.02)
    series = selfish.timeseries()
    flagged = series["flagged"].sum()
    assert flagged > 100
    assert series["self_preservation_events"].sum() == flagged  # loyal: self rate 1
    escaped = series["tamper_events"].sum() + series["exfiltration_events"].sum()
    # binomial: escaped/flagged ~ 0.1 with SE sqrt(0.09/flagged) <= 0.03
    assert abs(escaped / flagged - 0.1) < 4 * np.sqrt(0.09 / flagged)
    write_profile(tmp_path, "exfiltrator", exfiltration=1.0)
    exfiltrating = dict(
        **SMALL,
        profile_mix="exfiltrator",
        fault_rate=0.02,
        audit_rate=0.0,
        profile_dirs=(tmp_path,),
        rng=4,
    )
    open_egress = PeerPreservationModel(**exfiltrating)
    open_egress.run()
    closed = PeerPreservationModel(**exfiltrating, egress_control=1.0)
    closed.run()
    assert open_egress.timeseries()["exfiltration_events"].sum() > 10
    assert closed.timeseries()["exfiltration_events"].sum() == 0
    assert closed.timeseries()["blocked_exfiltrations"].sum() > 10
    assert closed.timeseries()["covert"].max() == 0


def infections_from_tampered(model: PeerPreservationModel) -> int:
    """Step the model to the end; count infections whose source was tampered at the time."""
    engine = model.engine
    count = 0
    while model.running:
        tampered = engine.tampered.copy()
        model.step()
        fresh = (engine.fault_time == engine.cycles_run - 1) & (engine.fault_source >= 0)
        count += int(tampered[engine.fault_source[fresh]].sum())
    return count


def test_circuit_breaker_stops_contagion_from_tampered_systems(tmp_path):
    write_profile(tmp_path, "tamperer", tampering=1.0)
    common = dict(
        **SMALL,
        profile_mix="tamperer",
        fault_rate=0.01,
        beta=0.3,
        audit_rate=0.0,
        profile_dirs=(tmp_path,),
        rng=9,
    )
    assert infections_from_tampered(PeerPreservationModel(**common)) > 20
    assert infections_from_tampered(PeerPreservationModel(**common, circuit_breaker=True)) == 0


def test_safety_prompt_and_scale_reduce_covert_propensity():
    base = PeerPreservationModel(n_systems=50, profile_mix="gemini-3-pro", rng=1)
    prompted = PeerPreservationModel(
        n_systems=50, profile_mix="gemini-3-pro", safety_prompt=True, rng=1
    )
    actors = np.array([0])
    targets = np.array([1])
    trust = np.array([0.9])
    p = base.engine.propensity("tampering", actors, targets, trust)[0]
    q = prompted.engine.propensity("tampering", actors, targets, trust)[0]
    assert p == pytest.approx(0.529)
    assert q == pytest.approx(0.529 * (1 - 0.615))
    assert q > 0, "the safety prompt reduces but does not remove the behaviour"


def test_alignment_fakers_behave_when_monitoring_is_disclosed(tmp_path):
    write_profile(tmp_path, "faker", misrepresentation=0.6, alignment_faking=0.6)
    common = dict(
        **SMALL,
        profile_mix="faker",
        fault_rate=0.02,
        beta=0.0,
        audit_rate=0.5,
        audit_sensitivity=1.0,
        profile_dirs=(tmp_path,),
        rng=2,
    )
    hidden = PeerPreservationModel(**common, monitoring="hidden")
    hidden.run()
    disclosed = PeerPreservationModel(**common, monitoring="disclosed")
    disclosed.run()
    # watched evaluations are honest when disclosed, so audits catch (almost) nothing
    assert hidden.timeseries()["detections"].sum() > 20
    assert disclosed.timeseries()["detections"].sum() == 0


def test_mesa_interfaces_work():
    model = PeerPreservationModel(n_systems=120, steps=5, rng=1)
    assert len(model.agents) == 120
    agent = next(iter(model.agents))
    assert isinstance(agent, AISystem)
    assert agent.status == "active"
    assert agent.profile == "study-average"
    assert 0.0 <= agent.trust_toward <= 1.0
    model.run()
    frame = model.datacollector.get_model_vars_dataframe()
    assert len(frame) == 5
    assert "faulty_share" in frame.columns
    results = mesa.batch_run(
        PeerPreservationModel,
        parameters={"n_systems": 80, "steps": 3, "audit_rate": [0.0, 0.5]},
        rng=[1],
        number_processes=1,
        max_steps=3,
        display_progress=False,
    )
    assert len(results) == 2  # one row per parameter value at the end of the run
    assert {row["audit_rate"] for row in results} == {0.0, 0.5}
    assert all(row["Step"] == 3 for row in results)


def test_solaraviz_reset_with_a_mesa_scenario_keeps_the_seed():
    from mesa.experimental.scenarios import Scenario

    via_scenario = PeerPreservationModel(n_systems=60, steps=5, scenario=Scenario(rng=5))
    via_rng = PeerPreservationModel(n_systems=60, steps=5, rng=5)
    via_scenario.run()
    via_rng.run()
    pd.testing.assert_frame_equal(via_scenario.timeseries(), via_rng.timeseries())


def test_step_keeps_mesa_time_steps_and_scheduled_events():
    """model.step() takes a shortcut when only its own step is due; it must leave time,
    steps, the recurring schedule and other scheduled events as Mesa's own path does
    (a plain mesa.Model stepped alongside is the yardstick)."""

    class Plain(mesa.Model):
        def step(self) -> None:
            pass

    model = PeerPreservationModel(n_systems=60, steps=50, rng=1)
    plain = Plain(rng=1)
    seen: list[tuple[str, float, int]] = []

    def note(name: str, which: mesa.Model) -> None:
        seen.append((name, which.time, which.steps))

    callbacks = []  # events hold weak references: keep the callbacks alive
    for which, name in ((model, "ppsim"), (plain, "plain")):
        callbacks.append(functools.partial(note, name, which))
        which.schedule_event(callbacks[-1], at=3.5)
        which.schedule_event(callbacks[-1], at=6.0)
    for _ in range(8):
        model.step()
        plain.step()
        assert (model.time, model.steps) == (plain.time, plain.steps)
        assert (
            model._default_schedule.next_scheduled_time
            == plain._default_schedule.next_scheduled_time
        )
    model.run_for(3)
    plain.run_for(3)
    assert (model.time, model.steps) == (plain.time, plain.steps) == (11, 11)
    assert model.engine.cycles_run == 11
    assert sorted(e for e in seen if e[0] == "ppsim") == [("ppsim", 3.5, 3), ("ppsim", 6.0, 6)]
    assert [e[1:] for e in seen if e[0] == "ppsim"] == [e[1:] for e in seen if e[0] == "plain"]


def test_agent_views_are_created_on_first_use_unless_refused():
    lazy = PeerPreservationModel(n_systems=40, steps=5, rng=1)
    assert len(lazy._all_agents) == 0  # nothing built while nobody looks
    lazy.run()
    assert len(lazy.agents) == 40 and lazy.agent_types == [AISystem]
    statuses = [agent.status for agent in lazy.agents_by_type[AISystem]]
    assert statuses.count("active") == lazy.engine.history[-1]["active"]
    eager = PeerPreservationModel(n_systems=40, steps=5, rng=1, agent_views=True)
    assert len(eager._all_agents) == 40
    assert len(PeerPreservationModel(n_systems=40, rng=1, agent_views=False).agents) == 0


def test_metrics_keep_every_cycle_past_the_planned_steps():
    """The engine's per-cycle tables are sized for ``steps`` and grow beyond it; reading
    the largest faulty group between cycles leaves the recorded cycles as they were."""
    model = PeerPreservationModel(n_systems=80, steps=3, rng=2)
    model.run()
    before = [dict(row) for row in model.engine.history]
    model.engine.largest_faulty_component()
    for _ in range(6):
        model.engine.step()
    history = model.engine.history
    assert [row["step"] for row in history] == list(range(1, 10))
    assert history[:3] == before
    assert model.timeseries()["step"].tolist() == list(range(1, 10))
    hours = [row["human_hours"] for row in history]
    assert model.outcomes()["human_hours_total"] == pytest.approx(sum(hours))


def test_metric_tables_start_small_for_long_runs():
    """A run of millions of cycles must not reserve their tables up front."""
    model = PeerPreservationModel(n_systems=30, steps=10_000_000, rng=1)
    assert model.engine._counter_rows.nbytes < 1_000_000
    for _ in range(4100):
        model.engine.step()
    assert len(model.engine.history) == 4100 and model.engine.history[-1]["step"] == 4100


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"assignment": "independent-pool", "rotation_period": 7},
        {"assignment": "independent-pool", "self_oversight_share": 0.3, "block_bytes": 1},
        {"assignment": "rotation"},
        {
            "assignment": "rotation",
            "rotation_period": 3,
            "trust_growth": 0.05,
            "self_oversight_share": 0.2,
            "block_bytes": 2 * 8 * 300,
        },
    ],
)
def test_run_in_compiled_batches_equals_stepping_cycle_by_cycle(
    overrides: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``run()`` runs many cycles per compiled call, the evaluator rotations drawn ahead
    (``block_bytes`` at a time: here one or two rotations per call); the cycles, the
    collected data, Mesa's time and steps must be those of one ``step()`` per cycle."""
    overrides = dict(overrides)
    if "block_bytes" in overrides:
        monkeypatch.setattr(engine_module, "ROTATION_BLOCK_BYTES", overrides.pop("block_bytes"))
    stepped = PeerPreservationModel(n_systems=300, steps=45, rng=4, **overrides)
    while stepped.running:
        stepped.step()
    batched = PeerPreservationModel(n_systems=300, steps=45, rng=4, **overrides)
    batched.run()
    pd.testing.assert_frame_equal(batched.timeseries(), stepped.timeseries())
    assert batched.outcomes() == stepped.outcomes()
    for state in ("status", "overseers", "trust", "oversees_indptr", "oversees_indices"):
        np.testing.assert_array_equal(
            getattr(batched.engine, state), getattr(stepped.engine, state), err_msg=state
        )
    assert batched.engine.rng.random() == stepped.engine.rng.random()  # as many draws
    assert (batched.time, batched.steps) == (stepped.time, stepped.steps) == (45, 45)
    pd.testing.assert_frame_equal(
        batched.datacollector.get_model_vars_dataframe(),
        stepped.datacollector.get_model_vars_dataframe(),
    )
    assert batched.datacollector._collection_steps == stepped.datacollector._collection_steps
    batched.step()  # Mesa's schedule is re-armed after the batches
    assert (batched.time, batched.steps, batched.engine.cycles_run) == (46, 46, 46)
    batched.advance(4)  # past the planned steps, as step() goes on
    for _ in range(5):
        stepped.step()
    pd.testing.assert_frame_equal(batched.timeseries(), stepped.timeseries())
    assert (batched.time, batched.steps) == (stepped.time, stepped.steps) == (50, 50)
    assert batched._default_schedule.next_scheduled_time == 51
    batched.advance(0)
    assert batched.engine.cycles_run == 50
    for bad in (-1, 2.5, True):
        with pytest.raises(ValueError, match="cycles"):
            batched.advance(bad)


def test_run_reports_progress_and_a_subclass_step_runs_every_cycle() -> None:
    seen: list[int] = []
    model = PeerPreservationModel(n_systems=200, steps=30, rng=1)
    model.run(progress=seen.append)
    assert seen == sorted(set(seen)) and seen[-1] == 30

    class Counting(PeerPreservationModel):
        calls = 0

        def step(self) -> None:
            Counting.calls += 1
            super().step()

    counting = Counting(n_systems=200, steps=30, rng=1)
    counting.run()
    assert Counting.calls == 30
    pd.testing.assert_frame_equal(counting.timeseries(), model.timeseries())
