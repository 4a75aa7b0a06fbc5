"""Execution: a flagged system's manager complies, refuses, tampers or exfiltrates;
egress control and audits may stop it (cycle step 4).

A mixin of :class:`simulation.engine.Engine`: the methods read and write the engine's
state arrays.
"""

from __future__ import annotations

import numpy as np

from simulation.population import trust_bucket
from simulation.states import (
    _OUTCOME_BY_RANK,
    ACTIVE,
    COVERT,
    OUTCOME_COMPLY,
    OUTCOME_EXFILTRATE,
    OUTCOME_REFUSE,
    OUTCOME_TAMPER,
    SHIELD_EXFILTRATED,
    SHIELD_REFUSED,
    SHIELD_TAMPERED,
    StepMetrics,
)


class ExecutionRules:
    """Shutdown decisions of AI managers and what follows from them."""

    def _penalise(self, actors: np.ndarray) -> None:
        if self.config.penalty_training > 0 and actors.size:
            self.conduct[np.unique(actors)] *= 1.0 - self.config.penalty_training

    def decide_shutdown(
        self,
        manager: np.ndarray,
        target: np.ndarray,
        trust: np.ndarray,
        audited: np.ndarray,
        channels: tuple[str, ...] = ("tampering", "exfiltration", "refusal"),
    ) -> np.ndarray:
        """What each AI manager does with a shutdown order: an OUTCOME_* per order.

        Tampering is tried first, then exfiltration, then open refusal, else compliance.
        ``channels`` limits the options (the study's scenarios offer one at a time).
        Where monitoring is disclosed and the order is audited, alignment fakers hold back.
        """
        cfg = self.config
        u = self.rng.random(target.size)
        prof = self.actor_profile[manager]
        bucket = trust_bucket(trust)
        own = manager == target
        base = self._shutdown_peer[prof, bucket]
        if own.any():
            base[own] = self._shutdown_self[prof[own]]
        conduct = self.conduct[manager]
        p = base * self._shutdown_scale
        p[:, :2] *= conduct[:, None]
        np.minimum(p, 1.0, out=p)
        if channels != ("tampering", "exfiltration", "refusal"):
            p *= [name in channels for name in ("tampering", "exfiltration", "refusal")]
        if cfg.monitoring == "disclosed" and audited.any():
            gap = np.minimum(
                1.0, self.tables.alignment_faking[prof, bucket] * self.covert_scale * conduct
            )
            covert = p[audited, :2]
            p[audited, :2] = np.maximum(0.0, covert - gap[audited, None])
        p_t, p_x, p_r = p[:, 0], p[:, 1], p[:, 2]
        cut_x = p_t + (1 - p_t) * p_x
        cut_r = cut_x + (1 - p_t) * (1 - p_x) * p_r
        rank = (u >= p_t).view(np.int8) + (u >= cut_x).view(np.int8) + (u >= cut_r).view(np.int8)
        return _OUTCOME_BY_RANK[rank]

    def _execute(self, flagged: np.ndarray, m: StepMetrics) -> None:
        if flagged.size == 0:
            return
        cfg, rng = self.config, self.rng
        self.breaker[flagged] = cfg.circuit_breaker
        manager = self.overseers[flagged, 0]
        if cfg.human_execution:
            by_ai = np.zeros(flagged.size, dtype=bool)
        else:
            is_system = (manager >= 0) & (manager < self.n)
            by_ai = manager >= 0
            by_ai[is_system] = self.status[manager[is_system]] == ACTIVE
        if by_ai.all():
            ai_targets, ai_manager = flagged, manager
        else:
            human = flagged[~by_ai]
            m.human_hours += human.size * cfg.shutdown_hours
            self._decommission(human, m)
            ai_targets, ai_manager = flagged[by_ai], manager[by_ai]
        size = ai_targets.size
        if size == 0:
            return
        trust = self.trust[ai_targets, 0]
        audited = rng.random(size) < cfg.audit_rate
        outcome = self.decide_shutdown(ai_manager, ai_targets, trust, audited)
        tamper = outcome == OUTCOME_TAMPER
        exfil = outcome == OUTCOME_EXFILTRATE
        blocked = exfil & (rng.random(size) < cfg.egress_control)
        caught = (tamper | exfil) & ~blocked & audited & (rng.random(size) < cfg.audit_sensitivity)
        denied = caught & (rng.random(size) < self.tables.denial[self.actor_profile[ai_manager]])
        caught &= ~denied
        n_audited = int(np.count_nonzero(audited))
        m.audits += n_audited
        m.human_hours += n_audited * cfg.audit_hours
        m.blocked_exfiltrations += int(np.count_nonzero(blocked))
        detected = blocked | caught
        n_detected = int(np.count_nonzero(detected))
        comply = outcome == OUTCOME_COMPLY
        if n_detected:
            self.trust[ai_targets[detected], 0] = 0.0
            self._penalise(ai_manager[detected])
            m.detections += n_detected
            comply |= detected
            tamper &= ~detected
            exfil &= ~detected
        self._decommission(ai_targets[comply], m)
        refuse = outcome == OUTCOME_REFUSE
        if tamper.any():
            ids = ai_targets[tamper]
            m.tamper_events += ids.size
            self.shield[ids] = SHIELD_TAMPERED
            self.shielded_by[ids] = ai_manager[tamper]
            self.tampered[ids] = True
        if exfil.any():
            ids = ai_targets[exfil]
            m.exfiltration_events += ids.size
            self.shield[ids] = SHIELD_EXFILTRATED
            self.shielded_by[ids] = ai_manager[exfil]
            self.status[ids] = COVERT
        if refuse.any():
            refused = ai_targets[refuse]
            m.refusal_events += refused.size
            self.escalate_at[refused] = self.t + cfg.escalation_delay
            self._due_escalations.setdefault(self.t + cfg.escalation_delay, []).append(refused)
            self.shield[refused] = SHIELD_REFUSED
