"""The object-per-agent reference model agrees in distribution with the vectorised engine.

The speed benchmark compares the two implementations; that comparison is only honest if
they simulate the same process. They use different random streams, so runs are compared
over seeds: for each outcome the difference of the two seed means must be within
``Z_TOL`` standard errors, the standard error of that difference being estimated from the
seed-to-seed spread of both samples (sqrt(s_a^2 / k + s_b^2 / k)). With Z_TOL = 4 a correct
reference fails a comparison with probability about 6e-5 (normal approximation). With 16
seeds (relative seed-to-seed spread about 0.34 for the faulty share and 0.19 for
remediations at the defaults, whose cascades through orchestrators vary a lot, and 0.06 with
many levers) the comparison flags differences of roughly 50 % and 27 % at the defaults and
8 % with many levers; the last test checks that the same tolerance does catch a doubled
fault hazard.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest

from benchmarks.reference_mesa import ReferenceMesaModel, SystemAgent
from simulation.config import SimulationConfig
from simulation.model import PeerPreservationModel

Z_TOL = 4.0
SEEDS = range(16)
BASE = SimulationConfig(n_systems=500, steps=100)

CONFIGS = {
    # The defaults: agent platform, neighbour overseers, study-average profiles.
    "defaults": BASE,
    # Most levers at once, so tampering, exfiltration, refusal, detection, denial,
    # penalties, breakers, self-oversight and several overseers all happen often.
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
    ),
}


@cache
def outcomes(model_class: type, config: SimulationConfig) -> dict[str, np.ndarray]:
    """Mean faulty share and total remediations of one run per seed (cached per config)."""
    share, remediated = [], []
    for seed in SEEDS:
        model = model_class(config, rng=seed)
        model.run()
        series = model.timeseries()
        share.append(series["faulty_share"].mean())
        remediated.append(series["remediated"].sum())
    return {"faulty_share_mean": np.array(share), "remediated_total": np.array(remediated)}


def z_score(a: np.ndarray, b: np.ndarray) -> float:
    """Difference of means in standard errors of that difference (Welch)."""
    se = np.sqrt(a.var(ddof=1) / a.size + b.var(ddof=1) / b.size)
    return float((a.mean() - b.mean()) / se)


@pytest.mark.parametrize("name", list(CONFIGS))
def test_reference_agrees_with_engine(name: str) -> None:
    config = CONFIGS[name]
    engine = outcomes(PeerPreservationModel, config)
    reference = outcomes(ReferenceMesaModel, config)
    for key in engine:
        assert engine[key].mean() > 0, f"{name}: {key} is zero, the comparison says nothing"
        z = z_score(engine[key], reference[key])
        assert abs(z) < Z_TOL, (
            f"{name}: {key} engine {engine[key].mean():.4g} vs reference "
            f"{reference[key].mean():.4g} (z = {z:.2f})"
        )


def test_tolerance_detects_a_real_difference() -> None:
    """Doubling the fault hazard in the reference alone must fail the same comparison."""
    engine = outcomes(PeerPreservationModel, BASE)
    reference = outcomes(ReferenceMesaModel, BASE.replace(fault_rate=2 * BASE.fault_rate))
    for key in engine:
        assert abs(z_score(engine[key], reference[key])) > Z_TOL, key


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
