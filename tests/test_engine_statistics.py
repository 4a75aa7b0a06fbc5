"""The compiled engine draws its outcomes from the same distributions as the whole-array
NumPy engine it replaced (commit 984ff7e), which is no longer part of the package.

The NumPy engine was run on three configurations that between them exercise every rule
(contagion rules, spread rounds, stand-ins, aggregations, disclosed monitoring, rotation,
self-oversight, self-preservation, the largest-channel rule, circuit breakers, serving
covert copies, evaluation intervals, family loyalty, penalty training, egress control),
400 systems for 60 cycles, seeds 7000-7079; :data:`NUMPY_ENGINE` keeps the mean and
standard deviation over those 80 runs of each per-run outcome. The random streams differ,
so runs are not compared one by one: the compiled engine runs the same configurations on
40 other seeds, and each outcome's mean must lie within ``Z`` standard errors of the
difference of two means (sqrt(sd_a^2 / 80 + sd_b^2 / 40)). With Z = 4.5, 27 comparisons
and independent seeds, a correct engine fails by chance with probability about 2e-4,
while doubling the transmission probability moves most outcomes by 6-10 standard errors
(see the last test). The seeds are fixed, so the result is deterministic.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from simulation.model import PeerPreservationModel

Z = 4.5
REFERENCE_RUNS = 80
SEEDS = range(1000, 1040)

CONFIGS: dict[str, dict[str, object]] = {
    "default": dict(n_systems=400, steps=60),
    "threshold-stand-ins": dict(
        n_systems=400,
        steps=60,
        topology="erdos-renyi",
        contagion="threshold",
        theta=0.2,
        stand_in="reassign",
        evaluators_per_model=3,
        aggregation="median",
        monitoring="disclosed",
        propensity_scale=1.5,
        spread_rounds=2,
    ),
    "rotation-self": dict(
        n_systems=400,
        steps=60,
        assignment="rotation",
        rotation_period=7,
        self_preservation=True,
        shutdown_channels="largest",
        circuit_breaker=True,
        covert_copies="serving",
        evaluation_interval=3,
        family_loyalty=2.0,
        penalty_training=0.3,
        self_oversight_share=0.2,
        egress_control=0.5,
        evaluators_per_model=2,
        aggregation="min",
    ),
}

#: (mean, standard deviation) of each outcome over the NumPy engine's 80 runs
NUMPY_ENGINE: dict[str, dict[str, tuple[float, float]]] = {
    "default": {
        "faulty_share_mean": (0.048741, 0.0114972),
        "shielded_mean": (18.6454, 4.24971),
        "covert_alive_mean": (9.40833, 2.59056),
        "false_pass_rate": (0.0403728, 0.01333),
        "remediation_time_mean": (5.5325, 0.575398),
        "detections_total": (64.7875, 16.3813),
        "human_hours_per_cycle": (34.798, 4.38297),
        "cascade_size_mean": (4.63054, 0.968619),
        "availability_mean": (0.966181, 0.00710023),
    },
    "threshold-stand-ins": {
        "faulty_share_mean": (0.676914, 0.0853583),
        "shielded_mean": (196.219, 24.748),
        "covert_alive_mean": (98.0229, 14.2651),
        "false_pass_rate": (0.0170696, 0.00314396),
        "remediation_time_mean": (8.92713, 0.446635),
        "detections_total": (547.087, 67.3256),
        "human_hours_per_cycle": (15.1869, 1.94779),
        "cascade_size_mean": (94.6203, 28.7739),
        "availability_mean": (0.791873, 0.0262287),
    },
    "rotation-self": {
        "faulty_share_mean": (0.0192136, 0.00634286),
        "shielded_mean": (5.09146, 2.00493),
        "covert_alive_mean": (5.06688, 2.00138),
        "false_pass_rate": (0.0092281, 0.00764897),
        "remediation_time_mean": (3.12665, 0.574342),
        "detections_total": (42.4625, 10.1855),
        "human_hours_per_cycle": (10.8552, 0.979221),
        "cascade_size_mean": (3.17986, 0.568133),
        "availability_mean": (0.974016, 0.00519563),
    },
}


def outcomes(config: dict[str, object], seeds: range) -> dict[str, np.ndarray]:
    """Each outcome of :data:`NUMPY_ENGINE` over runs of ``config`` with ``seeds``."""
    runs = []
    for seed in seeds:
        model = PeerPreservationModel(rng=seed, **config)
        model.run()
        runs.append(model.outcomes())
    names = next(iter(NUMPY_ENGINE.values()))
    return {name: np.array([run[name] for run in runs], dtype=float) for name in names}


def departures(name: str, values: dict[str, np.ndarray]) -> dict[str, float]:
    """How many standard errors each outcome's mean lies from the NumPy engine's."""
    result = {}
    for outcome, (mean, sd) in NUMPY_ENGINE[name].items():
        sample = values[outcome]
        se = math.sqrt(sd**2 / REFERENCE_RUNS + sample.var(ddof=1) / sample.size)
        result[outcome] = (sample.mean() - mean) / se if se else 0.0
    return result


@pytest.mark.parametrize("name", list(CONFIGS))
def test_outcomes_match_the_numpy_engine(name: str) -> None:
    far = {o: round(z, 2) for o, z in departures(name, outcomes(CONFIGS[name], SEEDS)).items()}
    assert all(abs(z) < Z for z in far.values()), far


def test_tolerance_detects_a_real_difference() -> None:
    changed = {**CONFIGS["default"], "beta": 0.2}
    far = departures("default", outcomes(changed, SEEDS))
    assert far["faulty_share_mean"] > Z
    assert far["availability_mean"] < -Z
