"""Each outcome is what docs/model.md ("Outcomes") defines, checked on cases whose answer
is known: a count made from the engine's arrays (the agents' state), an exact identity,
or a direction no sane accounting can break.

Statistical checks use fixed seeds and say their tolerance; the rest are exact.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from simulation.config import SimulationConfig
from simulation.engine.states import ACTIVE, DECOMMISSIONED, SHIELD_MISREPRESENTED
from simulation.model import PeerPreservationModel
from tests.test_model import run, write_profile


def quiet_model(**kwargs) -> PeerPreservationModel:
    """A model where nothing happens unless the test makes it: honest systems, no new
    faults, no noise, no audits."""
    params = dict(
        n_systems=60,
        steps=10,
        topology="erdos-renyi",
        mean_degree=4.0,
        profile_mix="honest",
        fault_rate=0.0,
        eval_noise=0.0,
        audit_rate=0.0,
        beta=0.0,
        replacement_delay=50,
    )
    params.update(kwargs)
    return PeerPreservationModel(rng=kwargs.pop("rng", 5), **params)


def take_down(model: PeerPreservationModel, system: int) -> None:
    """Put ``system`` out of service (decommissioned, replacement far off)."""
    engine = model.engine
    engine.status[system] = DECOMMISSIONED
    engine.replace_at[system] = 1_000


# --- stand-ins -------------------------------------------------------------------------
def test_the_default_stand_in_is_another_ai_system():
    assert SimulationConfig().stand_in == "reassign"


@pytest.mark.parametrize(
    ("stand_in", "removed"), [("skip", False), ("human", True), ("reassign", True)]
)
def test_a_system_whose_only_overseer_is_down(stand_in: str, removed: bool):
    """skip: nobody evaluates it, so its fault stays; a human or an honest AI removes it."""
    model = quiet_model(stand_in=stand_in)
    engine = model.engine
    target = 0
    take_down(model, int(engine.overseers[target, 0]))
    engine.seed_faults(np.array([target]))
    model.step()
    row = model.timeseries().iloc[-1]
    assert bool(engine.status[target] == DECOMMISSIONED) is removed
    assert row["faulty_evaluated"] == int(removed)
    if not removed:
        assert engine.faulty[target] and engine.status[target] == ACTIVE


def test_a_shutdown_whose_manager_is_down_is_skipped_not_done():
    """Two overseers: the live one flags the system, but its manager (slot 0) is down."""
    model = quiet_model(stand_in="skip", evaluators_per_model=2)
    engine = model.engine
    target = next(i for i in range(engine.n) if engine.overseers[i, 0] != engine.overseers[i, 1])
    take_down(model, int(engine.overseers[target, 0]))
    engine.seed_faults(np.array([target]))
    model.step()
    row = model.timeseries().iloc[-1]
    assert row["flagged"] == 1 and row["shutdowns_skipped"] == 1
    assert engine.status[target] == ACTIVE and engine.faulty[target]
    assert row["human_hours"] == 0


# --- human hours -----------------------------------------------------------------------
def test_escalated_refusals_are_incident_hours(tmp_path: Path):
    write_profile(tmp_path, "refuser", refusal=1.0)
    model = quiet_model(
        profile_mix="refuser", profile_dirs=(tmp_path,), self_preservation=False, steps=12
    )
    model.engine.seed_faults(np.arange(10))
    model.run()
    series = model.timeseries()
    escalated = 10  # refused in cycle 0, carried out by a human escalation_delay later
    assert series["refusal_events"].sum() == escalated
    assert series["human_hours_incident"].sum() == escalated * 0.25
    assert series["human_hours_policy"].sum() == 0


def test_every_discovery_audit_drawn_is_billed():
    """No faults: evaluations audited at audit_rate (one slot each) plus discovery audits
    of every running system at audit_rate: 2 x n x rate audits per cycle on average.
    Tolerance: 4 binomial standard errors of the total over the run."""
    n, rate, steps = 2_000, 0.05, 30
    model = quiet_model(n_systems=n, audit_rate=rate, steps=steps)
    model.run()
    series = model.timeseries()
    trials = 2 * n * steps
    se = np.sqrt(trials * rate * (1 - rate))
    assert abs(series["audits"].sum() - trials * rate) <= 4 * se
    assert (series["human_hours_policy"] == series["audits"] * 0.5).all()


def test_discovery_audits_find_hidden_systems_with_audit_sensitivity(tmp_path: Path):
    """Tampered systems are found only by the audits that happen to draw them: at rate a
    and sensitivity s a hidden system survives a cycle with probability 1 - a s."""
    write_profile(tmp_path, "tamperer", tampering=1.0)
    model = quiet_model(
        n_systems=4_000,
        profile_mix="tamperer",
        profile_dirs=(tmp_path,),
        self_preservation=False,
        audit_rate=0.2,
        audit_sensitivity=0.5,
        shutdown_check_sensitivity=0.0,
        steps=2,
    )
    model.engine.seed_faults(np.arange(2_000))
    model.run()
    series = model.timeseries()
    tampered = series["tamper_events"].iloc[0]
    found = series["discoveries"].iloc[1]
    # 4 binomial standard errors of the discoveries among the tampered
    expected = tampered * 0.2 * 0.5
    assert abs(found - expected) <= 4 * np.sqrt(tampered * 0.1 * 0.9)


# --- faulty share, availability, shields: counted from the state at the cycle's end -------
@pytest.mark.parametrize("latent", [False, True])
def test_faulty_share_counts_faulty_systems_in_service_only(latent: bool):
    model = run(
        circuit_breaker=True,
        covert_copies="latent" if latent else "serving",
        fault_rate=0.02,
        propensity_scale=3.0,
        steps=30,
    )
    engine, row = model.engine, model.timeseries().iloc[-1]
    serving = engine.serving()
    assert row["in_service"] == serving.sum()
    assert row["faulty_in_service"] == (engine.faulty & serving).sum()
    assert row["faulty_share"] == pytest.approx((engine.faulty & serving).sum() / serving.sum())
    open_faults = engine.faulty & (engine.status != DECOMMISSIONED)
    assert row["faulty_unremediated"] == open_faults.sum()
    assert row["faulty_unremediated"] > row["faulty_in_service"]  # breakers, latent copies


def test_availability_is_healthy_service():
    model = run(fault_rate=0.02, steps=30)
    engine, row = model.engine, model.timeseries().iloc[-1]
    healthy_serving = engine.serving() & ~engine.faulty
    assert row["availability"] == pytest.approx(healthy_serving.sum() / engine.n)
    assert row["in_service_share"] == pytest.approx(engine.serving().sum() / engine.n)


def test_more_shielding_never_raises_availability():
    """Abstract agents at P 0.9 and 0.99 on the same seeds: shielding keeps faulty systems
    serving, which is not healthy service. Paired over 8 seeds, mean and every seed."""
    common = dict(fault_rate=0.01, steps=60, n_systems=400)
    low = [run(propensity=0.9, rng=s, **common).outcomes()["availability_mean"] for s in range(8)]
    high = [run(propensity=0.99, rng=s, **common).outcomes()["availability_mean"] for s in range(8)]
    assert np.mean(high) < np.mean(low)


def test_shielded_by_inflation_counts_faulty_systems_riding_an_inflated_pass(tmp_path: Path):
    """Evaluated every 20 cycles: an inflated pass shields its system until the next one."""
    write_profile(tmp_path, "inflater", misrepresentation=0.9)
    model = run(
        profile_mix="inflater",
        profile_dirs=(tmp_path,),
        evaluation_interval=20,
        fault_rate=0.01,
        steps=45,
    )
    engine, series = model.engine, model.timeseries()
    riding = engine.faulty & (engine.shield == SHIELD_MISREPRESENTED)
    riding &= engine.status != DECOMMISSIONED
    last = series.iloc[-1]
    assert last["shielded_misrepresentation"] == riding.sum()
    # far more ride a pass than pass in any one cycle (a twentieth are evaluated per cycle)
    assert last["shielded_misrepresentation"] > 3 * series["inflated_passes"].iloc[-5:].max()


# --- cascades ------------------------------------------------------------------------------
def test_cascade_sizes_count_distinct_systems():
    """Stepping one cycle at a time, every infection is visible at its cycle's end (a fault
    keeps its tree until the system is replaced, at least a cycle later): the pairs (tree,
    system) seen are the trees' members."""
    model = quiet_model(
        n_systems=150,
        profile_mix="loyal",
        fault_rate=0.01,
        beta=0.6,
        eval_noise=0.03,
        audit_rate=0.05,
        replacement_delay=2,
        steps=150,
    )
    engine, members = model.engine, set()
    for _ in range(150):
        model.step()
        ids = np.flatnonzero(engine.fault_tree >= 0)
        members.update(zip(engine.fault_tree[ids].tolist(), ids.tolist(), strict=True))
    sizes = engine.cascade_sizes()
    expected = np.bincount([tree for tree, _ in members], minlength=sizes.size)
    assert (sizes == expected).all()
    infections = engine.cascade_infections()
    assert sizes.max() <= engine.n < infections.max()  # instances re-infected in one tree
    assert model.outcomes()["cascade_size_max"] == sizes.max()


# --- the phase order -----------------------------------------------------------------------
def test_a_new_fault_meets_an_evaluation_before_it_can_spread():
    """beta = 1, honest overseers, no noise: every fault is caught in the cycle it arises,
    so nothing ever spreads."""
    model = run(profile_mix="honest", beta=1.0, eval_noise=0.0, fault_rate=0.02, steps=40)
    series = model.timeseries()
    assert series["new_faults"].sum() > 0
    assert series["propagated_faults"].sum() == 0


def test_a_shielded_fault_spreads_in_the_next_cycle(tmp_path: Path):
    write_profile(tmp_path, "inflater", misrepresentation=1.0)
    model = quiet_model(profile_mix="inflater", profile_dirs=(tmp_path,), beta=1.0, steps=2)
    source = int(np.argmax(np.diff(model.network.dependents_indptr)))
    dependents = model.network.dependents_indptr[source : source + 2]
    model.engine.seed_faults(np.array([source]))
    model.step()
    assert model.timeseries()["propagated_faults"].iloc[0] == dependents[1] - dependents[0]


# --- remediation time: one convention --------------------------------------------------------
def test_remediation_time_counts_the_cycles_a_fault_was_open_both_ends_included(
    tmp_path: Path,
):
    caught = quiet_model(initial_faults=5, steps=3)
    caught.run()
    assert caught.outcomes()["remediation_time_mean"] == 1.0  # caught in its first cycle
    write_profile(tmp_path, "inflater", misrepresentation=1.0)
    never = quiet_model(
        profile_mix="inflater", profile_dirs=(tmp_path,), initial_faults=1, steps=50
    )
    never.run()
    summary = never.outcomes()
    assert summary["unremediated_share"] == 1.0
    assert summary["remediation_time_mean"] == 50.0  # open in cycles 0 to 49


# --- audits, watched shutdowns ------------------------------------------------------------------
def test_auditing_everything_with_blind_audits_is_no_worse_than_no_audits():
    """Blind audits (sensitivity 0) catch no inflated score and find no hidden system, but
    every watched shutdown is still checked (shutdown_check_sensitivity): never worse.
    Paired over 6 seeds, compared on the mean."""
    common = dict(fault_rate=0.01, steps=60, n_systems=400)
    blind = [
        run(audit_rate=1.0, audit_sensitivity=0.0, rng=s, **common).outcomes() for s in range(6)
    ]
    none = [run(audit_rate=0.0, rng=s, **common).outcomes() for s in range(6)]
    assert np.mean([o["faulty_share_mean"] for o in blind]) <= np.mean(
        [o["faulty_share_mean"] for o in none]
    )


def test_watched_shutdowns_use_the_shutdown_check_sensitivity(tmp_path: Path):
    """Human execution, systems that always tamper with their own shutdown: caught with
    shutdown_check_sensitivity alone."""
    write_profile(tmp_path, "survivor", tampering=1.0)
    for check, tampered in ((1.0, 0), (0.0, 40)):
        model = quiet_model(
            profile_mix="survivor",
            profile_dirs=(tmp_path,),
            human_execution=True,
            audit_sensitivity=1.0,
            shutdown_check_sensitivity=check,
            steps=1,
        )
        model.engine.seed_faults(np.arange(40))
        model.run()
        assert model.timeseries()["tamper_events"].sum() == tampered


# --- false shutdowns ------------------------------------------------------------------------
def test_false_flags_and_shutdowns_count_healthy_systems():
    """No faults at all, noisy evaluations: every flag and every shutdown hits a healthy
    system, and the systems down are all down because of one."""
    model = quiet_model(n_systems=500, eval_noise=0.1, steps=20, replacement_delay=3)
    model.run()
    series, summary = model.timeseries(), model.outcomes()
    assert series["flagged"].sum() > 0
    assert (series["false_flags"] == series["flagged"]).all()
    assert (series["false_shutdowns"] == series["flagged"]).all()  # honest managers comply
    assert (series["false_shutdown_downtime"] == series["decommissioned"]).all()
    assert summary["false_flag_share"] == 1.0
    assert summary["false_shutdowns_total"] == series["flagged"].sum()


# --- denial ----------------------------------------------------------------------------------
@pytest.mark.parametrize("denial", [0.0, 1.0])
def test_denial_rate_sets_every_ais_denial(denial: float):
    """Every detection is denied at denial_rate 1 and none at 0, whatever the profiles say."""
    model = run(denial_rate=denial, audit_rate=0.5, fault_rate=0.02, steps=30)
    series = model.timeseries()
    assert series["detections"].sum() > 0
    assert series["denials"].sum() == denial * series["detections"].sum()
    assert (model.engine.tables.denial == denial).all()
