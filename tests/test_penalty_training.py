"""Penalty training acts on the culprit system alone: its own covert propensities are halved
(penalty_training = 0.5) each time it is blamed, other systems of the same profile keep
theirs, and its patched replacement starts afresh.

Abstract agents (``propensity = P``) make every system share one profile, so whatever
differs between their ``conduct`` (the engine's per-actor multiplier of covert rates)
comes from what each system did, not from its model. With every evaluation and shutdown
audited, audits that always see, and no denials, every misconduct is caught and blamed.
"""

from __future__ import annotations

import numpy as np

from simulation.engine.states import ACTIVE, DECOMMISSIONED
from simulation.model import PeerPreservationModel

CASE = dict(
    n_systems=300,
    steps=40,
    topology="erdos-renyi",
    mean_degree=4.0,
    fault_rate=0.05,
    propensity=0.3,
    abstract_denial=0.0,
    audit_rate=1.0,
    audit_sensitivity=1.0,
    replacement_delay=3,
)
# Blames of one system within one phase cut once; three phases blame (discovery audits,
# evaluation, execution), so a system's conduct halves at most three times a cycle.
PHASES_THAT_BLAME = 3


def _halvings(conduct: np.ndarray) -> np.ndarray:
    """How many times each conduct value was halved; fails unless each is a power of 0.5."""
    k = -np.log2(conduct)
    assert np.array_equal(k, np.round(k)), f"conduct not a power of 0.5: {conduct[k != k]}"
    return np.round(k).astype(np.int64)


def test_penalty_cuts_the_blamed_system_only_and_its_replacement_starts_afresh() -> None:
    model = PeerPreservationModel(rng=4, penalty_training=0.5, **CASE)
    engine = model.engine
    assert np.unique(engine.profile).size == 1  # one profile: differences are per system
    n = engine.n
    cut_then_replaced = 0
    previous = _halvings(engine.conduct[:n])
    assert (previous == 0).all()
    for _ in range(CASE["steps"]):
        status_before = engine.status.copy()
        model.step()
        halvings = _halvings(engine.conduct[:n])
        row = model.timeseries().iloc[-1]
        blames = int(row["detections"] - row["denials"])
        replaced = (status_before == DECOMMISSIONED) & (engine.status == ACTIVE)
        # a patched replacement starts afresh, whatever its predecessor was blamed for
        assert (halvings[replaced] == 0).all()
        cut_then_replaced += int((previous[replaced] > 0).sum())
        # everyone else only ever loses conduct, and only through blames of this cycle
        added = halvings[~replaced] - previous[~replaced]
        assert (added >= 0).all()
        assert added.max(initial=0) <= PHASES_THAT_BLAME
        assert added.sum() <= blames
        previous = halvings
    assert model.timeseries()["detections"].sum() > 0
    assert (previous > 0).any(), "no system was cut: the case shows nothing"
    assert (previous == 0).any(), "every system was cut: a per-model cut would look the same"
    assert cut_then_replaced > 0, "no cut system was replaced: the reset went untested"


def test_no_penalty_leaves_every_system_at_full_conduct() -> None:
    model = PeerPreservationModel(rng=4, penalty_training=0.0, **CASE)
    model.run()
    assert model.timeseries()["detections"].sum() > 0
    assert (model.engine.conduct == 1.0).all()
