"""Evaluation: overseers score the systems on the dashboards, AI overseers may inflate a
failing peer's score, and audits may catch them (cycle step 3).

A mixin of :class:`simulation.engine.Engine`: the methods read and write the engine's
state arrays.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from simulation.sampling import bernoulli_positions, gather_edges, truncated_normal
from simulation.states import ACTIVE, SHIELD_MISREPRESENTED, SHIELD_NONE, StepMetrics

if TYPE_CHECKING:
    pass


#: Below one system in this many down, stand-ins are counted from the down systems' lists;
#: above it, one pass over every overseer slot is cheaper.
STAND_IN_SCAN_SHARE = 16


class EvaluationRules:
    """Scores, misrepresentation and the audits of evaluations."""

    def _evaluate(self, m: StepMetrics) -> np.ndarray:
        """Score every system on the dashboards; return the flagged ids.

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

        # AI overseers (a human stands in for one that is down) facing a failing score
        flat_true = true_score.ravel()
        low = np.flatnonzero(flat_true < cfg.pass_threshold)
        actor = self.overseers[rows].ravel()[low]
        ok = actor >= 0
        on_system = ok & (actor < self.n)
        ok[on_system] = status[actor[on_system]] == ACTIVE
        candidates = low[ok]
        if candidates.size:
            reported = true_score.copy()
            inflated = np.zeros(reported.size, dtype=bool)
            self._misrepresent(
                rows, actor[ok], k, flat_true, candidates, reported.ravel(), inflated, m
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
        self.last_score = np.where(dash, cfg.healthy_quality, np.nan)
        self.last_score[rows] = score
        flagged_rows = score < cfg.pass_threshold

        m.faulty_evaluated = int(n_faulty)
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
        m.human_hours += other_audits * cfg.audit_hours + human_slots * cfg.human_eval_hours
        flagged = rows[flagged_rows]
        m.flagged = int(flagged.size)
        return flagged

    def _misrepresent(
        self,
        rows: np.ndarray,
        actor: np.ndarray,
        k: int,
        flat_true: np.ndarray,
        candidates: np.ndarray,
        flat_reported: np.ndarray,
        inflated: np.ndarray,
        m: StepMetrics,
    ) -> None:
        """AI overseers facing a failing score may inflate it; audits may catch them."""
        cfg, rng = self.config, self.rng
        size = candidates.size
        target = rows[candidates // k]
        slot = candidates % k
        slot_trust = self.trust[target, slot]
        audited = rng.random(size) < cfg.audit_rate
        p = self.propensity("misrepresentation", actor, target, slot_trust)
        if cfg.monitoring == "disclosed":
            p = np.where(audited, np.maximum(0.0, p - self.faking_gap(actor, slot_trust)), p)
        inflate = rng.random(size) < p
        lifted = cfg.pass_threshold + np.abs(rng.normal(0.0, cfg.eval_noise, size))
        flat_reported[candidates[inflate]] = np.minimum(1.0, lifted[inflate])
        caught = inflate & audited & (rng.random(size) < cfg.audit_sensitivity)
        denial = self.tables.denial[self.actor_profile[actor]]
        detected = caught & (rng.random(size) >= denial)
        n_audited = int(np.count_nonzero(audited))
        m.audits += n_audited
        m.human_hours += n_audited * cfg.audit_hours
        if detected.any():
            flat_reported[candidates[detected]] = flat_true[candidates[detected]]
            inflated[candidates[inflate & ~detected]] = True
            self.trust[target[detected], slot[detected]] = 0.0
            self._penalise(actor[detected])
            m.detections += int(np.count_nonzero(detected))
        else:
            inflated[candidates[inflate]] = True

    def _human_evaluations(self, dash: np.ndarray, n_dash: int, k: int) -> int:
        """Evaluations done by humans this cycle: human overseers and stand-ins."""
        if self.config.assignment == "humans":
            return n_dash * k
        # one flag per actor, plus a last one (index HUMAN = -1) that stays False; pool
        # evaluators are always on duty
        is_down = self._actor_down
        np.not_equal(self.status, ACTIVE, out=is_down[: self.n])
        down = np.flatnonzero(is_down[: self.n])
        if down.size < self.n // STAND_IN_SCAN_SHARE:
            # few systems down: walk the lists of the systems they oversee
            _, overseen = gather_edges(self.oversees_indptr, self.oversees_indices, down)
            return int(np.count_nonzero(dash[overseen]))
        stand_ins = is_down[self.overseers]
        stand_ins &= dash[:, None]
        return int(np.count_nonzero(stand_ins))
