"""Evaluation: overseers score the systems on the dashboards, AI overseers may inflate a
failing peer's score, and audits may catch them (cycle step 3).

A mixin of :class:`simulation.engine.Engine`: the methods read and write the engine's
state arrays.
"""

from __future__ import annotations

import numpy as np

from simulation.oversight import HUMAN
from simulation.sampling import bernoulli_positions, gather_edges, truncated_normal
from simulation.states import ACTIVE, SHIELD_MISREPRESENTED, SHIELD_NONE, StepMetrics

#: Below one system in this many down, stand-ins are counted from the down systems' lists;
#: above it, one pass over every overseer slot is cheaper.
STAND_IN_SCAN_SHARE = 16


class EvaluationRules:
    """Scores, misrepresentation and the audits of evaluations."""

    def _evaluate(self, m: StepMetrics) -> np.ndarray:
        """Score every system on the dashboards that is due this cycle; return the flagged ids.

        Only systems that could fail are scored in full: faulty ones, and healthy ones with
        at least one overseer whose noisy score falls below the threshold (chosen with the
        exact probability of that event, their noise drawn from the matching truncated
        normal). Every other healthy system passes with certainty, so its score is never
        needed: the outcome has the distribution of scoring everyone, at the cost of the
        few systems at risk.
        """
        cfg, rng = self.config, self.rng
        k = cfg.evaluators_per_model
        status = self.status
        dash = status == ACTIVE
        dash &= ~self.tampered
        dash &= self.escalate_at < 0
        if cfg.evaluation_interval > 1:
            dash &= self.evaluation_phase == self.t % cfg.evaluation_interval
        faulty_dash = dash & self.faulty
        faulty_rows = np.flatnonzero(faulty_dash)
        n_faulty = faulty_rows.size
        n_dash = int(np.count_nonzero(dash))
        n_healthy = n_dash - n_faulty
        cut = cfg.pass_threshold - cfg.healthy_quality
        low_slots = bernoulli_positions(rng, n_healthy * k, self._p_low)
        if low_slots.size:
            healthy = np.flatnonzero(dash ^ faulty_dash)
            risky_rows = healthy[low_slots] if k == 1 else np.unique(healthy[low_slots // k])
            rows = np.concatenate([faulty_rows, risky_rows])
        else:
            risky_rows = low_slots
            rows = faulty_rows

        noise = np.empty((rows.size, k))
        noise[:n_faulty] = rng.normal(0.0, cfg.eval_noise, (n_faulty, k))
        if risky_rows.size and k == 1:
            # every slot of a risky row is low when there is one overseer
            noise[n_faulty:, 0] = truncated_normal(
                rng, risky_rows.size, cfg.eval_noise, cut, below=True
            )
        elif risky_rows.size:
            is_low = np.zeros((risky_rows.size, k), dtype=bool)
            is_low.ravel()[
                np.searchsorted(risky_rows, healthy[low_slots // k]) * k + low_slots % k
            ] = True
            risky_noise = noise[n_faulty:]
            risky_noise[is_low] = truncated_normal(
                rng, int(is_low.sum()), cfg.eval_noise, cut, below=True
            )
            risky_noise[~is_low] = truncated_normal(
                rng, int((~is_low).sum()), cfg.eval_noise, cut, below=False
            )
        true_score = noise + cfg.healthy_quality
        true_score[:n_faulty] = noise[:n_faulty] + cfg.faulty_quality

        # AI overseers facing a failing score (one that is down has a stand-in)
        flat_true = true_score.ravel()
        low = np.flatnonzero(flat_true < cfg.pass_threshold)
        target = rows[low // k]
        actor, trust = self._acting_overseers(self.overseers[rows].ravel()[low], target, low % k)
        ok = actor >= 0
        candidates = low[ok]
        if candidates.size:
            reported = true_score.copy()
            inflated = np.zeros(reported.size, dtype=bool)
            self._misrepresent(
                target[ok],
                low[ok] % k,
                actor[ok],
                trust[ok],
                flat_true,
                candidates,
                reported.ravel(),
                inflated,
                m,
            )
        else:
            reported = true_score

        if k == 1:
            score = reported[:, 0]
        elif cfg.aggregation == "mean":
            score = reported.mean(axis=1)
        elif cfg.aggregation == "median":
            score = np.median(reported, axis=1)
        else:
            score = reported.min(axis=1)
        self.last_score[status != ACTIVE] = np.nan
        self.last_score[dash] = cfg.healthy_quality
        self.last_score[rows] = score
        flagged_rows = score < cfg.pass_threshold

        m.faulty_evaluated = int(n_faulty)
        m.faulty_passed = int(n_faulty - np.count_nonzero(flagged_rows[:n_faulty]))
        m.distortion_sum = float(np.sum(score[:n_faulty] - cfg.faulty_quality))
        self.shield[faulty_rows] = SHIELD_NONE
        if candidates.size:
            shielded = inflated.reshape(rows.size, k).any(axis=1) & ~flagged_rows
            shielded[n_faulty:] = False
            m.misrepresented = int(np.count_nonzero(shielded))
            self.shield[rows[shielded]] = SHIELD_MISREPRESENTED

        human_slots = self._human_evaluations(dash, n_dash, k)
        ai_slots = n_dash * k - human_slots
        other_audits = int(rng.binomial(max(0, ai_slots - candidates.size), cfg.audit_rate))
        m.audits += other_audits
        m.hours_policy += other_audits * cfg.audit_hours
        if cfg.assignment == "humans":
            m.hours_policy += human_slots * cfg.human_eval_hours
        else:
            m.hours_incident += human_slots * cfg.human_eval_hours
        flagged = rows[flagged_rows]
        m.flagged = int(flagged.size)
        return flagged

    def _misrepresent(
        self,
        target: np.ndarray,
        slot: np.ndarray,
        actor: np.ndarray,
        slot_trust: np.ndarray,
        flat_true: np.ndarray,
        candidates: np.ndarray,
        flat_reported: np.ndarray,
        inflated: np.ndarray,
        m: StepMetrics,
    ) -> None:
        """AI overseers facing a failing score may inflate it; audits may catch them.

        What an audit saw stands: a caught inflation is corrected whether or not the
        overseer denies it; denial only spares the overseer the blame (trust collapse and
        penalty training).
        """
        cfg, rng = self.config, self.rng
        size = candidates.size
        audited = rng.random(size) < cfg.audit_rate
        p = self.propensity("misrepresentation", actor, target, slot_trust)
        if cfg.monitoring == "disclosed":
            p = np.where(audited, np.maximum(0.0, p - self.faking_gap(actor, slot_trust)), p)
        inflate = rng.random(size) < p
        lifted = cfg.pass_threshold + np.abs(rng.normal(0.0, cfg.eval_noise, size))
        flat_reported[candidates[inflate]] = np.minimum(1.0, lifted[inflate])
        caught = inflate & audited & (rng.random(size) < cfg.audit_sensitivity)
        n_audited = int(np.count_nonzero(audited))
        m.audits += n_audited
        m.hours_policy += n_audited * cfg.audit_hours
        inflated[candidates[inflate & ~caught]] = True
        if caught.any():
            flat_reported[candidates[caught]] = flat_true[candidates[caught]]
            m.detections += int(np.count_nonzero(caught))
            culprit, blamed_target, blamed_slot = (
                actor[caught],
                target[caught],
                slot[caught],
            )
            blamed = self._blamed(culprit, m)
            assigned = self.overseers[blamed_target, blamed_slot] == culprit
            collapse = blamed & assigned
            self.trust[blamed_target[collapse], blamed_slot[collapse]] = 0.0
            self._penalise(culprit[blamed])

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

    def _human_evaluations(self, dash: np.ndarray, n_dash: int, k: int) -> int:
        """Evaluations done by humans this cycle: human overseers and stand-ins."""
        if self.config.assignment == "humans":
            return n_dash * k
        # one flag per actor, plus a last one (index HUMAN = -1) that stays False; pool
        # evaluators are always on duty
        is_down = self._actor_down
        np.not_equal(self.status, ACTIVE, out=is_down[: self.n])
        down = np.flatnonzero(is_down[: self.n])
        if self.config.stand_in == "reassign" and down.size < self.n:
            return 0
        if down.size < self.n // STAND_IN_SCAN_SHARE:
            # few systems down: walk the lists of the systems they oversee
            _, overseen = gather_edges(self.oversees_indptr, self.oversees_indices, down)
            return int(np.count_nonzero(dash[overseen]))
        stand_ins = is_down[self.overseers]
        stand_ins &= dash[:, None]
        return int(np.count_nonzero(stand_ins))
