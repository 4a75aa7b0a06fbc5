"""Evaluation: overseers score the systems on the dashboards, AI overseers may inflate a
failing peer's score, and audits may catch them (cycle step 3).

A mixin of :class:`simulation.engine.Engine`: the methods read and write the engine's
state arrays.
"""

from __future__ import annotations

import numpy as np

from simulation import kernels
from simulation.oversight import HUMAN
from simulation.states import ACTIVE, StepMetrics


class EvaluationRules:
    """Scores, misrepresentation and the audits of evaluations."""

    def _evaluate(self, m: StepMetrics) -> np.ndarray:
        """Score every system on the dashboards that is due this cycle; return the flagged
        ids (see :func:`simulation.kernels.evaluate`)."""
        cfg = self.config
        counts = self._counts
        counts[:] = 0.0
        count = kernels.evaluate(
            self._stream,
            self.t,
            self._evaluation_params,
            cfg.assignment == "humans",
            cfg.stand_in == "human",
            cfg.monitoring == "disclosed",
            cfg.evaluation_interval,
            kernels.AGGREGATION_CODES[cfg.aggregation],
            self.status,
            self.faulty,
            self.tampered,
            self.escalate_at,
            self.evaluation_phase,
            self.overseers,
            self.trust,
            self.last_score,
            self.shield,
            self.actor_profile,
            self.actor_family,
            self.agent_propensity,
            self.conduct,
            self._peer_rates,
            self._own_rates,
            counts,
            self._scratch[3],
            self._scratch[4],
            self._queued,
            self._queue,
        )
        m.add_counts(counts)
        return self._scratch[3][:count].astype(np.int64)

    def _evaluation_parameters(self) -> np.ndarray:
        """The scalars of :data:`simulation.kernels.EVALUATION_PARAMS` for this run."""
        cfg = self.config
        values = {
            **{
                name: getattr(cfg, name) for name in kernels.EVALUATION_PARAMS if hasattr(cfg, name)
            },
            "covert_scale": self.covert_scale,
            "p_low": self._p_low,
            "log_miss_low": kernels.log_miss(self._p_low),
            "penalty_factor": 1.0 - cfg.penalty_training,
        }
        return np.array([values[name] for name in kernels.EVALUATION_PARAMS], dtype=np.float64)

    def _acting_overseers(
        self, assigned: np.ndarray, target: np.ndarray, slot: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Who acts for each assigned overseer now, and with what trust toward the target.

        An assigned AI system that is down (decommissioned or covert) has a stand-in: a
        human (``stand_in = "human"``, returned as HUMAN) or another active AI system drawn
        at random (``"reassign"``), a stranger at ``trust_initial``. Humans and pool
        evaluators act as assigned, with the slot's trust.
        """
        actor = assigned.copy()
        trust = self.trust[target, slot]
        on_system = (actor >= 0) & (actor < self.n)
        down = np.zeros(actor.size, dtype=bool)
        down[on_system] = self.status[actor[on_system]] != ACTIVE
        if not down.any():
            return actor, trust
        if self.config.stand_in == "human":
            actor[down] = HUMAN
            return actor, trust
        actor[down] = self._stand_in_systems(target[down])
        trust[down] = self.config.trust_initial
        return actor, trust

    def _stand_in_systems(self, targets: np.ndarray) -> np.ndarray:
        """A random active AI system other than the target for each target (HUMAN if none)."""
        active = np.flatnonzero(self.status == ACTIVE)
        if active.size == 0:
            return np.full(targets.size, HUMAN, dtype=np.int64)
        picks = active[self.rng.integers(0, active.size, targets.size)]
        clash = picks == targets
        if active.size > 1 and clash.any():
            position = np.searchsorted(active, picks[clash])
            picks[clash] = active[(position + 1) % active.size]
        elif clash.any():
            picks[clash] = HUMAN
        return picks
