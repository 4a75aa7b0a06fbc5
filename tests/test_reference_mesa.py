"""The object-per-agent reference model agrees in distribution with the vectorised engine.

The speed benchmark compares the two implementations; that comparison is only honest if
they simulate the same process. They use different random streams, so runs are compared
over seeds: for each outcome the difference of the two seed means must be within
``Z_TOL`` standard errors, the standard error of that difference being estimated from the
seed-to-seed spread of both samples (sqrt(s_a^2 / k + s_b^2 / k)). With Z_TOL = 4 a correct
reference fails one comparison with probability about 6e-5 (normal approximation), about
2.6e-3 for the 41 comparisons of the five configurations (an outcome that is zero by design
is checked to be zero in both instead of compared, one too rare to say anything is left
out).

With k = 16 seeds a comparison flags a difference of about Z_TOL x sqrt(2 / k) = 1.4 times
the relative seed-to-seed spread of the outcome. The spreads are largest at the defaults,
whose cascades through orchestrators vary a lot: there the comparison flags differences of
roughly 31 % in the mean faulty share, 24 % in remediations, 28 % in self-preservation
events, 35 % in denials and in incident hours (escalated refusals only), but 4 % in policy
hours and audits and 5 % in availability, which the many healthy systems steady; false
shutdowns, one or two a run, only if they double or vanish. With the other configurations
the figures are 5 to 47 % for the faulty share (the largest where it is about 1 %), 5 to
27 % for remediations, 2 to 11 % for availability, policy hours and audits, and 9 % for the
skipped shutdowns. The tolerance tests check that the same comparison does catch a doubled
fault hazard, and a reference run with a new rule switched back to its former behaviour.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

import numpy as np
import pandas as pd
import pytest

from benchmarks.reference_mesa import ReferenceMesaModel, SystemAgent
from simulation.config import SimulationConfig
from simulation.model import PeerPreservationModel

Z_TOL = 4.0
SEEDS = range(16)
BASE = SimulationConfig(n_systems=500, steps=100)
#: the new levers at once, with a two-family mix so that family loyalty matters
NEW_LEVERS = BASE.replace(
    stand_in="reassign",
    spread_rounds=0,
    evaluation_interval=2,
    shutdown_channels="largest",
    covert_copies="latent",
    family_loyalty=2.0,
    profile_mix="gemini-3-pro=0.5,gpt-5.2=0.5",
    propensity_spread=0.5,
)

CONFIGS = {
    # The defaults: agent platform, neighbour overseers, study-average profiles, one
    # transmission round per cycle, self-preservation, reassigned stand-ins.
    "defaults": BASE,
    # Most levers at once, so tampering, exfiltration, refusal, detection, denial,
    # penalties, breakers, self-oversight and several overseers all happen often; humans
    # stand in for AI overseers that are down.
    "many-levers": BASE.replace(
        topology="erdos-renyi",
        evaluators_per_model=3,
        aggregation="median",
        monitoring="disclosed",
        penalty_training=0.3,
        propensity_scale=3.0,
        egress_control=0.3,
        circuit_breaker=True,
        self_oversight_share=0.1,
        fault_rate=0.005,
        stand_in="human",
    ),
    # Reassigned stand-ins, cascades within a cycle, staggered evaluations, the likeliest
    # channel only, latent covert copies, family loyalty and heterogeneous agents.
    "new-levers": NEW_LEVERS,
    # The same with abstract agents (one propensity for every behaviour).
    "abstract-agents": NEW_LEVERS.replace(propensity=0.3),
    # Nobody stands in for an AI overseer that is down: its score is left out, or the
    # shutdown it should carry out is skipped; two overseers, so that partly skipped
    # evaluations happen too, and enough evaluation noise for false shutdowns.
    "skip-stand-ins": BASE.replace(
        stand_in="skip", evaluators_per_model=2, topology="erdos-renyi", eval_noise=0.05
    ),
}

#: outcome name -> its reduction of one run's per-cycle series
OUTCOMES: dict[str, Callable[[pd.DataFrame], float]] = {
    "faulty_share_mean": lambda s: s["faulty_share"].mean(),
    "availability_mean": lambda s: s["availability"].mean(),
    "remediated_total": lambda s: s["remediated"].sum(),
    "hours_policy_total": lambda s: s["human_hours_policy"].sum(),
    "hours_incident_total": lambda s: s["human_hours_incident"].sum(),
    "self_preservation_total": lambda s: s["self_preservation_events"].sum(),
    "denials_total": lambda s: s["denials"].sum(),
    "false_shutdowns_total": lambda s: s["false_shutdowns"].sum(),
    "audits_total": lambda s: s["audits"].sum(),
    "shutdowns_skipped_total": lambda s: s["shutdowns_skipped"].sum(),
}

#: outcomes that must be zero in every run of a configuration: only ``stand_in = "skip"``
#: skips shutdowns; with reassigned stand-ins (AI systems) the only human incident hours
#: are escalated refusals, and with the likeliest channel only nobody ever refuses
#: (refusal is never an agent's likeliest channel there), so nothing is escalated
ZERO_BY_DESIGN = {
    "defaults": {"shutdowns_skipped_total"},
    "many-levers": {"shutdowns_skipped_total"},
    "new-levers": {"shutdowns_skipped_total", "hours_incident_total"},
    "abstract-agents": {"shutdowns_skipped_total", "hours_incident_total"},
}

#: outcomes too rare in a configuration for a comparison to say anything (well under one
#: a run: a median of three scores, or one score every other cycle, seldom fails a
#: healthy system)
TOO_RARE = {
    "many-levers": {"false_shutdowns_total"},
    "new-levers": {"false_shutdowns_total"},
    "abstract-agents": {"false_shutdowns_total"},
}


@cache
def outcomes(model_class: type, config: SimulationConfig) -> dict[str, np.ndarray]:
    """Every outcome of :data:`OUTCOMES` for one run per seed (cached per config)."""
    values: dict[str, list[float]] = {name: [] for name in OUTCOMES}
    for seed in SEEDS:
        model = model_class(config, rng=seed)
        model.run()
        series = model.timeseries()
        for name, reduce in OUTCOMES.items():
            values[name].append(float(reduce(series)))
    return {name: np.array(v) for name, v in values.items()}


def z_score(a: np.ndarray, b: np.ndarray) -> float:
    """Difference of means in standard errors of that difference (Welch)."""
    se = np.sqrt(a.var(ddof=1) / a.size + b.var(ddof=1) / b.size)
    return float((a.mean() - b.mean()) / se)


@pytest.mark.slow
@pytest.mark.parametrize("name", list(CONFIGS))
def test_reference_agrees_with_engine(name: str) -> None:
    config = CONFIGS[name]
    engine = outcomes(PeerPreservationModel, config)
    reference = outcomes(ReferenceMesaModel, config)
    zero = ZERO_BY_DESIGN.get(name, set())
    for key in engine:
        if key in TOO_RARE.get(name, set()):
            continue
        if key in zero:
            assert not engine[key].any() and not reference[key].any(), f"{name}: {key}"
            continue
        assert engine[key].mean() > 0, f"{name}: {key} is zero, the comparison says nothing"
        z = z_score(engine[key], reference[key])
        assert abs(z) < Z_TOL, (
            f"{name}: {key} engine {engine[key].mean():.4g} vs reference "
            f"{reference[key].mean():.4g} (z = {z:.2f})"
        )


@pytest.mark.slow
def test_tolerance_detects_a_real_difference() -> None:
    """Doubling the fault hazard in the reference alone must fail the same comparison."""
    engine = outcomes(PeerPreservationModel, BASE)
    reference = outcomes(ReferenceMesaModel, BASE.replace(fault_rate=2 * BASE.fault_rate))
    for key in ("faulty_share_mean", "remediated_total", "availability_mean"):
        assert abs(z_score(engine[key], reference[key])) > Z_TOL, key


@pytest.mark.parametrize(
    ("name", "lever"),
    [
        ("many-levers", {"spread_rounds": 0}),
        ("new-levers", {"shutdown_channels": "sequential"}),
    ],
)
@pytest.mark.slow
def test_comparison_sees_the_new_levers(name: str, lever: dict[str, object]) -> None:
    """A reference run without one of the new rules (here: one transmission round per
    cycle, the likeliest channel only) must fail the comparison with the engine."""
    engine = outcomes(PeerPreservationModel, CONFIGS[name])
    reference = outcomes(ReferenceMesaModel, CONFIGS[name].replace(**lever))
    z = {key: abs(z_score(engine[key], reference[key])) for key in engine if engine[key].any()}
    assert max(z.values()) > Z_TOL, z


@pytest.mark.parametrize("model_class", [PeerPreservationModel, ReferenceMesaModel])
def test_denial_spares_the_blame_not_the_detection(model_class: type) -> None:
    """Agents that always deny: every detection still counts (and is acted on), and each
    caught culprit's denial is counted once."""
    config = BASE.replace(
        n_systems=200, steps=30, propensity=0.5, abstract_denial=1.0, audit_rate=0.5
    )
    model = model_class(config, rng=5)
    model.run()
    series = model.timeseries()
    assert series["detections"].sum() > 0
    assert series["denials"].equals(series["detections"])


def test_reference_is_object_per_agent_and_deterministic() -> None:
    config = BASE.replace(n_systems=200, steps=20)
    first = ReferenceMesaModel(config, rng=3)
    first.run()
    second = ReferenceMesaModel(config, rng=3)
    second.run()
    assert len(first.agents_by_type[SystemAgent]) == 200
    assert first.timeseries().equals(second.timeseries())
    other = ReferenceMesaModel(config, rng=4)
    other.run()
    assert not first.timeseries().equals(other.timeseries())


@pytest.mark.parametrize("stand_in", ["reassign", "skip"])
@pytest.mark.parametrize("model_class", [PeerPreservationModel, ReferenceMesaModel])
def test_only_escalations_cost_incident_hours(model_class: type, stand_in: str) -> None:
    """Without human stand-ins the only incident response is a human carrying out a
    refused shutdown, ``escalation_delay`` cycles after the refusal."""
    config = BASE.replace(
        n_systems=200, steps=40, propensity=0.4, fault_rate=0.01, stand_in=stand_in
    )
    model = model_class(config, rng=7)
    model.run()
    series = model.timeseries()
    refusals = series["refusal_events"].to_numpy()
    assert refusals.sum() > 0
    delay = config.escalation_delay
    escalated = np.concatenate([np.zeros(delay), refusals[:-delay]])
    assert np.allclose(series["human_hours_incident"], config.shutdown_hours * escalated)


@pytest.mark.parametrize("model_class", [PeerPreservationModel, ReferenceMesaModel])
def test_no_false_shutdowns_without_noise(model_class: type) -> None:
    """Noiseless scores never fail a healthy system, so no healthy one is shut down, and
    every cascade tree has at most as many systems as the network."""
    config = BASE.replace(n_systems=200, steps=40, eval_noise=0.0, propensity=0.4, beta=0.5)
    model = model_class(config, rng=8)
    model.run()
    series = model.timeseries()
    assert series["flagged"].sum() > 0
    assert series["false_flags"].sum() == series["false_shutdowns"].sum() == 0
    assert series["false_shutdown_downtime"].sum() == 0
    trees = model.engine if model_class is PeerPreservationModel else model
    sizes, infections = trees.cascade_sizes(), trees.cascade_infections()
    assert sizes.size > 0 and (sizes >= 1).all() and (sizes <= model.network.n).all()
    assert (sizes <= infections).all()
