"""Evaluation: overseers score the systems on the dashboards, AI overseers may inflate a
failing peer's score, and audits may catch them (cycle step 3).

A mixin of :class:`simulation.engine.Engine`: the methods read and write the engine's
state arrays.
"""

from __future__ import annotations

from simulation import kernels
from simulation.states import StepMetrics


class EvaluationRules:
    """Scores, misrepresentation and the audits of evaluations."""

    def _evaluate(self, m: StepMetrics) -> int:
        """Score every system on the dashboards that is due this cycle; the flagged ids go
        to ``_scratch[3]``, their number is returned (see :func:`simulation.kernels.evaluate`)."""
        cfg = self.config
        counts = self._counts
        counts[:] = 0.0
        count = kernels.evaluate(
            self._stream,
            self.t,
            self._params,
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
        return count
