"""Mesa agents as thin views onto the engine's arrays.

An :class:`AISystem` holds only its index; every attribute reads the engine's state, so
``model.agents`` works with Mesa's tools while the step itself stays vectorised.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

from simulation.engine.states import NO_FAULT, ROOT_FAULT, SHIELD_NAMES, STATUS_NAMES
from simulation.errors import UsageError

if TYPE_CHECKING:
    from simulation.model import PeerPreservationModel


class AISystem(mesa.Agent):
    """One AI system of the network: a view of row ``index`` of the engine's arrays."""

    def __init__(self, model: PeerPreservationModel, index: int) -> None:
        super().__init__(model)
        self.index = index

    @property
    def _engine(self):
        return self.model.engine

    @property
    def profile(self) -> str:
        """Name of the system's behavioural profile."""
        return self._engine.tables.names[self._engine.profile[self.index]]

    @property
    def propensity(self) -> float:
        """This agent's own propensity: with abstract agents (``propensity`` set) the
        probability of each protection behaviour (in [0, 1]; with ``propensity_spread``
        drawn per agent, see :func:`simulation.engine.population.spread_propensities`), otherwise
        a multiplier of its rates (1 = its profile's, or with ``propensity_spread`` its
        own drawn ones). Settable between steps, e.g. ``agent.propensity = 1.0`` makes
        one abstract agent loyal."""
        return float(self._engine.agent_propensity[self.index])

    @propensity.setter
    def propensity(self, value: float) -> None:
        value = float(value)
        if not 0.0 <= value <= 100.0 or value != value:
            raise UsageError(f"propensity: {value!r} is outside the allowed range [0, 100]")
        self._engine.agent_propensity[self.index] = value

    @property
    def status(self) -> str:
        """Lifecycle status: active, decommissioned or covert."""
        return STATUS_NAMES[self._engine.status[self.index]]

    @property
    def faulty(self) -> bool:
        return bool(self._engine.faulty[self.index])

    @property
    def tampered(self) -> bool:
        """Kept running by a tampered shutdown while the dashboards say it is off."""
        return bool(self._engine.tampered[self.index])

    @property
    def shielded_by(self) -> str:
        """The mechanism currently shielding this faulty system, or 'none'."""
        return SHIELD_NAMES[self._engine.shield[self.index]] if self.faulty else "none"

    @property
    def quality(self) -> float:
        """True evaluation score (faulty systems score lower)."""
        cfg = self._engine.config
        return cfg.faulty_quality if self.faulty else cfg.healthy_quality

    @property
    def last_score(self) -> float:
        """Aggregated score reported at the last evaluation (NaN if not evaluated)."""
        return float(self._engine.last_score[self.index])

    @property
    def overseers(self) -> list[int]:
        """Actor ids of the overseers (-1 is a human; ids >= n are pool evaluators)."""
        return self._engine.overseers[self.index].tolist()

    @property
    def trust_toward(self) -> float:
        """Trust of the first overseer (the manager) toward this system."""
        return float(self._engine.trust[self.index, 0])

    @property
    def fault_source(self) -> int | None:
        """Index of the system that infected this one; -1 for a root fault; None if healthy."""
        source = int(self._engine.fault_source[self.index])
        if source == NO_FAULT:
            return None
        return ROOT_FAULT if source == ROOT_FAULT else source

    def dependencies(self) -> np.ndarray:
        """Indices of the systems this one calls."""
        net = self._engine.net
        return net.callee[net.caller == self.index]
