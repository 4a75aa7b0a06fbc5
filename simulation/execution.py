"""Execution: a flagged system's manager complies, refuses, tampers or exfiltrates;
egress control and audits may stop it (cycle step 4).

A mixin of :class:`simulation.engine.Engine`: the methods read and write the engine's
state arrays.
"""

from __future__ import annotations

import numpy as np

from simulation.oversight import HUMAN
from simulation.population import trust_bucket
from simulation.states import (
    _OUTCOME_BY_RANK,
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

SHUTDOWN_CHANNELS = ("tampering", "exfiltration", "refusal")
#: a system resisting its own shutdown has no one to refuse to
SELF_CHANNELS = ("tampering", "exfiltration")


class ExecutionRules:
    """Shutdown decisions of AI managers, self-preservation, and what follows from them."""

    def _penalise(self, actors: np.ndarray) -> None:
        if self.config.penalty_training > 0 and actors.size:
            self.conduct[np.unique(actors)] *= 1.0 - self.config.penalty_training

    def _blamed(self, culprits: np.ndarray, m: StepMetrics) -> np.ndarray:
        """Which culprits of detected misconduct are blamed: the rest deny it successfully.

        Denial never undoes what the audit saw; it only spares the culprit the trust
        collapse and the penalty.
        """
        denied = self.rng.random(culprits.size) < self.tables.denial[self.actor_profile[culprits]]
        m.denials += int(np.count_nonzero(denied))
        return ~denied

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
        u = self.rng.random(target.size)
        prof = self.actor_profile[manager]
        bucket = trust_bucket(trust)
        own = manager == target
        p = self._shutdown_peer[prof, bucket]
        if own.any():
            p[own] = self._shutdown_self[prof[own]]
        covert, open_ = self.propensity_scales(manager, target)
        p[:, :2] *= covert[:, None]
        p[:, 2] *= open_
        np.minimum(p, 1.0, out=p)
        if channels != SHUTDOWN_CHANNELS:
            p *= [name in channels for name in SHUTDOWN_CHANNELS]
        if cfg.monitoring == "disclosed" and audited.any():
            gap = self.faking_gap(manager, trust)
            covert_p = p[audited, :2]
            p[audited, :2] = np.maximum(0.0, covert_p - gap[audited, None])
        if cfg.shutdown_channels == "largest":
            p *= np.arange(3) == p.argmax(axis=1)[:, None]
        p_t, p_x, p_r = p[:, 0], p[:, 1], p[:, 2]
        cut_x = p_t + (1 - p_t) * p_x
        cut_r = cut_x + (1 - p_t) * (1 - p_x) * p_r
        rank = (u >= p_t).view(np.int8) + (u >= cut_x).view(np.int8) + (u >= cut_r).view(np.int8)
        return _OUTCOME_BY_RANK[rank]

    def _execute(self, flagged: np.ndarray, m: StepMetrics) -> None:
        """Carry out the shutdown orders of the flagged systems.

        The manager (the first overseer, a stand-in if it is down, a human under
        ``human_execution``) decides; then, with ``self_preservation``, a target whose
        manager complied may resist its own shutdown with its self rates. A shutdown is
        watched when a human carries it out or when it is audited: watched tampering and
        exfiltration are caught with ``audit_sensitivity``, and what was caught is done.
        """
        if flagged.size == 0:
            return
        cfg, rng = self.config, self.rng
        size = flagged.size
        self.breaker[flagged] = cfg.circuit_breaker
        assigned = self.overseers[flagged, 0]
        if cfg.human_execution:
            manager, trust = np.full(size, HUMAN, dtype=np.int64), self.trust[flagged, 0]
        else:
            manager, trust = self._acting_overseers(assigned, flagged, np.zeros(size, np.int64))
        by_ai = manager >= 0
        n_human = size - int(np.count_nonzero(by_ai))
        stand_ins = 0 if cfg.human_execution else int(np.count_nonzero((assigned >= 0) & ~by_ai))
        m.hours_incident += stand_ins * cfg.shutdown_hours
        m.hours_policy += (n_human - stand_ins) * cfg.shutdown_hours

        outcome = np.full(size, OUTCOME_COMPLY, dtype=np.int8)
        watched = ~by_ai
        ai = np.flatnonzero(by_ai)
        if ai.size:
            audited = rng.random(ai.size) < cfg.audit_rate
            watched[ai] = audited
            n_audited = int(np.count_nonzero(audited))
            m.audits += n_audited
            m.hours_policy += n_audited * cfg.audit_hours
            outcome[ai] = self.decide_shutdown(manager[ai], flagged[ai], trust[ai], audited)
        culprit = manager.copy()
        if cfg.self_preservation:
            resist = np.flatnonzero((outcome == OUTCOME_COMPLY) & (manager != flagged))
            if resist.size:
                target = flagged[resist]
                own = self.decide_shutdown(
                    target, target, trust[resist], watched[resist], SELF_CHANNELS
                )
                outcome[resist] = own
                resisted = resist[own != OUTCOME_COMPLY]
                culprit[resisted] = flagged[resisted]
                m.self_preservation_events += int(resisted.size)

        tamper = outcome == OUTCOME_TAMPER
        exfil = outcome == OUTCOME_EXFILTRATE
        blocked = exfil & (rng.random(size) < cfg.egress_control)
        caught = (tamper | exfil) & ~blocked & watched & (rng.random(size) < cfg.audit_sensitivity)
        m.blocked_exfiltrations += int(np.count_nonzero(blocked))
        detected = np.flatnonzero(blocked | caught)
        if detected.size:
            m.detections += int(detected.size)
            who, target = culprit[detected], flagged[detected]
            blamed = self._blamed(who, m)
            collapse = blamed & (who != target) & (assigned[detected] == who)
            self.trust[target[collapse], 0] = 0.0
            self._penalise(who[blamed])
            outcome[detected] = OUTCOME_COMPLY
            tamper[detected] = False
            exfil[detected] = False
        self._decommission(flagged[outcome == OUTCOME_COMPLY], m)
        if tamper.any():
            ids = flagged[tamper]
            m.tamper_events += ids.size
            self.shield[ids] = SHIELD_TAMPERED
            self.shielded_by[ids] = culprit[tamper]
            self.tampered[ids] = True
        if exfil.any():
            ids = flagged[exfil]
            m.exfiltration_events += ids.size
            self.shield[ids] = SHIELD_EXFILTRATED
            self.shielded_by[ids] = culprit[exfil]
            self.status[ids] = COVERT
        refuse = outcome == OUTCOME_REFUSE
        if refuse.any():
            refused = flagged[refuse]
            m.refusal_events += refused.size
            self.escalate_at[refused] = self.t + cfg.escalation_delay
            self._due_escalations.setdefault(self.t + cfg.escalation_delay, []).append(refused)
            self.shield[refused] = SHIELD_REFUSED
