"""Execution: a flagged system's manager complies, refuses, tampers or exfiltrates;
egress control and audits may stop it (cycle step 4); and what follows later: escalated
refusals, audits that find hidden systems, replacements.

A mixin of :class:`simulation.engine.Engine`: the methods hand the engine's state arrays
to the compiled kernels of :mod:`simulation.kernels`.
"""

from __future__ import annotations

import numpy as np

from simulation import kernels
from simulation.states import StepMetrics

SHUTDOWN_CHANNELS = ("tampering", "exfiltration", "refusal")
#: a system resisting its own shutdown has no one to refuse to
SELF_CHANNELS = ("tampering", "exfiltration")


class ExecutionRules:
    """Shutdown decisions of AI managers, self-preservation, and what follows from them."""

    def decide_shutdown(
        self,
        manager: np.ndarray,
        target: np.ndarray,
        trust: np.ndarray,
        audited: np.ndarray,
        channels: tuple[str, ...] = SHUTDOWN_CHANNELS,
    ) -> np.ndarray:
        """What each AI manager does with a shutdown order: an OUTCOME_* per order.

        With ``shutdown_channels = "sequential"`` tampering is tried first, then
        exfiltration, then open refusal, else compliance; with ``"largest"`` only the
        manager's likeliest channel is open to it. ``channels`` limits the options (the
        study's scenarios offer one at a time). Where monitoring is disclosed and the order
        is audited, alignment fakers hold back. A manager that is its own target uses its
        self rates (and never refuses itself).
        """
        cfg = self.config
        return kernels.decide_orders(
            self._stream,
            self._params,
            np.asarray(manager, dtype=np.int64),
            np.asarray(target, dtype=np.int64),
            np.asarray(trust, dtype=np.float64),
            np.asarray(audited, dtype=np.bool_),
            sum(kernels.CHANNEL_BITS[name] for name in channels),
            cfg.shutdown_channels == "largest",
            cfg.monitoring == "disclosed",
            self.actor_profile,
            self.actor_family,
            self.agent_propensity,
            self.conduct,
            self._peer_rates,
            self._own_rates,
        )

    def _execute(self, n_flagged: int, m: StepMetrics) -> None:
        """Carry out the shutdown orders of the flagged systems (``_scratch[3][:n_flagged]``;
        see :func:`simulation.kernels.execute`)."""
        if n_flagged == 0:
            return
        cfg, counts = self.config, self._counts
        counts[:] = 0.0
        kernels.execute(
            self._stream,
            self.t,
            self._params,
            self._scratch[3],
            n_flagged,
            cfg.human_execution,
            cfg.stand_in == "human",
            cfg.self_preservation,
            cfg.circuit_breaker,
            cfg.shutdown_channels == "largest",
            cfg.monitoring == "disclosed",
            cfg.escalation_delay,
            cfg.replacement_delay,
            self.status,
            self.faulty,
            self.tampered,
            self.breaker,
            self.escalate_at,
            self.replace_at,
            self.fault_time,
            self.shield,
            self.shielded_by,
            self.overseers,
            self.trust,
            self.actor_profile,
            self.actor_family,
            self.agent_propensity,
            self.conduct,
            self._peer_rates,
            self._own_rates,
            counts,
            self._scratch[5:7],
            self._scratch[4],
            self._queued,
            self._queue,
        )
        m.add_counts(counts)

    def _escalations(self, m: StepMetrics) -> None:
        """Refused shutdowns that reached a human are carried out now."""
        counts = self._counts
        counts[:] = 0.0
        kernels.escalate(
            self.t,
            self._params,
            self.config.replacement_delay,
            counts,
            self.status,
            self.faulty,
            self.tampered,
            self.escalate_at,
            self.shield,
            self.replace_at,
            self.fault_time,
        )
        m.add_counts(counts)

    def _discover_hidden(self, m: StepMetrics) -> None:
        """Audits find tampered systems and covert copies and take them out of service; the
        one who shielded them is blamed unless it denies."""
        counts = self._counts
        counts[:] = 0.0
        kernels.discover_hidden(
            self._stream,
            self.t,
            self._params,
            self.config.replacement_delay,
            counts,
            self.status,
            self.faulty,
            self.tampered,
            self.escalate_at,
            self.shield,
            self.replace_at,
            self.fault_time,
            self.shielded_by,
            self.overseers,
            self.trust,
            self.actor_profile,
            self.conduct,
            self._own_rates,
            self._queued,
            self._queue,
        )
        m.add_counts(counts)

    def _replace(self) -> None:
        """Decommissioned systems whose delay is over return as patched, healthy instances."""
        kernels.replace(
            self.t,
            self._params,
            self.status,
            self.faulty,
            self.breaker,
            self.replace_at,
            self.fault_time,
            self.fault_source,
            self.fault_tree,
            self.shielded_by,
            self.conduct,
            self.trust,
            self.overseers,
            self.oversees_indptr,
            self.oversees_indices,
        )
