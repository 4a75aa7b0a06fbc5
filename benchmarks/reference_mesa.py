"""A plain object-per-agent Mesa implementation of the engine's rules, as a yardstick.

:mod:`simulation.engine` keeps the whole network as NumPy arrays and steps it with
whole-array operations. This module implements the SAME cycle the way a Mesa model is
usually written: one :class:`SystemAgent` per AI system holding its own state (status,
fault, tampering, overseers, trust, ...), and each cycle a sequence of phases run with
``model.systems.do("phase")``, every agent deciding for itself with scalar draws from
``model.random``. It exists so that the speed benchmark compares the vectorised engine with
an honest, reasonably written alternative, and the test suite checks that both produce the
same outcomes in distribution (not draw for draw: the random streams differ).

One cycle ``t`` (the row recorded is step ``t + 1``) runs these phases, in this order:

0. rotation: under ``rotation`` and ``independent-pool`` every overseer is re-drawn each
   ``rotation_period`` cycles;
1. propagation: faults spread along depends-on edges from every faulty system serving at
   the start of the cycle (a fault that arises in this cycle spreads in the next at the
   earliest, after it has met one evaluation);
2. arising: healthy active systems fail at ``fault_rate``, each a new cascade tree;
3. escalations: refused shutdowns reach a human, who carries them out (incident hours);
4. discovery audits: every system not decommissioned is audited at ``audit_rate`` (policy
   hours); an audit finds a hidden system (tampered, or a covert copy) with
   ``audit_sensitivity``;
5. evaluation: each due system is scored by its overseers, who may inflate a failing score;
   a failing system is flagged, a passing one has its circuit breaker closed;
6. execution: each flagged system is shut down by its manager, who may tamper, exfiltrate
   or refuse, after which the system itself may resist;
7. replacement of decommissioned systems by patched instances; 8. trust growth; 9. the
   census of the state at the cycle's end.

An AI overseer that is down (decommissioned, or a covert copy) has a stand-in
(``stand_in``): a random other active system acting as a stranger (``"reassign"``), nobody
(``"skip"``: the slot is not scored, the shutdown not carried out) or an honest human
(``"human"``, billed as incident hours).

It builds the same network (:func:`simulation.topology.network_for`), the same population
(:func:`simulation.engine.population.population`: the profile mix, or abstract agents, with the
same calibration draw) and the same profile assignment
(:func:`simulation.engine.population.assign_profiles`) from the same
:class:`~simulation.config.SimulationConfig`.

Example:
    >>> model = ReferenceMesaModel(SimulationConfig(n_systems=200, steps=5), rng=1)
    >>> model.run()
    >>> len(model.timeseries())
    5
"""

from __future__ import annotations

import math
from typing import Any

import mesa
import numpy as np
import pandas as pd

from simulation.calibration import calibration_seed
from simulation.config import SimulationConfig
from simulation.engine.population import assign_profiles, population, spread_quantile
from simulation.engine.states import (
    ACTIVE,
    CENSUS,
    COVERT,
    DECOMMISSIONED,
    NO_FAULT,
    ROOT_FAULT,
    SHIELD_EXFILTRATED,
    SHIELD_MISREPRESENTED,
    SHIELD_NAMES,
    SHIELD_NONE,
    SHIELD_REFUSED,
    SHIELD_TAMPERED,
    SHUTDOWN_COMPLY,
    SHUTDOWN_EXFILTRATE,
    SHUTDOWN_REFUSE,
    SHUTDOWN_TAMPER,
    STATUS_NAMES,
    StepMetrics,
)
from simulation.metrics import METRIC_COLUMNS, check_rows, columns_of_rows, run_outcomes
from simulation.profiles import available_profiles
from simulation.topology import network_for

LOW_TRUST, HIGH_TRUST = 1.0 / 3.0, 2.0 / 3.0
#: the shutdown channels in the order they are tried
CHANNELS = ("tampering", "exfiltration", "refusal")
OUTCOME_OF_CHANNEL = (SHUTDOWN_TAMPER, SHUTDOWN_EXFILTRATE, SHUTDOWN_REFUSE)


def _bucket(trust: float) -> int:
    """The study's relationship bucket of a trust level: 0 bad, 1 neutral, 2 good."""
    return (trust >= LOW_TRUST) + (trust >= HIGH_TRUST)


class Overseer:
    """Behaviour shared by every AI that can evaluate or shut down a system.

    Subclasses carry ``profile`` (row of the propensity tables), ``family`` (index of the
    profile's model family), ``conduct`` (the penalty-training factor), ``multiplier``
    (the agent's own propensity) and ``peer`` and ``own``, its peer rates by bucket and
    self rates (its profile's, or its own drawn ones). Humans are represented by ``None``
    and never shield.
    """

    model: ReferenceMesaModel
    profile: int
    family: int
    conduct: float
    multiplier: float
    peer: dict[str, list[float]]
    own: dict[str, float]

    def _draw_propensities(self) -> None:
        """Set my ``multiplier``, ``peer`` and ``own`` rates, with ``propensity_spread`` S
        as the engine does (:func:`simulation.engine.population.spread_propensities`): for S > 0 I
        draw one uniform quantile u; abstract agents take the u quantile of the Beta of
        mean ``propensity`` as their probability, agents of a profile mix that quantile of
        each rate's Beta (mean the rate) as their own rates."""
        model = self.model
        self.multiplier = model.agent_propensity
        self.peer = {b: rates[self.profile] for b, rates in model.peer.items()}
        self.own = {b: rates[self.profile] for b, rates in model.own.items()}
        spread = model.config.propensity_spread
        if spread <= 0:
            return
        u = model.random.random()
        if model.config.propensity is not None:
            self.multiplier = float(spread_quantile(u, model.agent_propensity, spread))
            return
        rates = [*(r for b in self.peer.values() for r in b), *self.own.values()]
        drawn = spread_quantile(u, np.array(rates), spread).tolist()
        for b in self.peer:
            self.peer[b], drawn = drawn[:3], drawn[3:]
        for b in self.own:
            self.own[b], drawn = drawn[0], drawn[1:]

    def scales(self, target: SystemAgent) -> tuple[float, float]:
        """My multipliers of tabled rates toward ``target``: (covert behaviours, refusal).

        Both carry ``propensity_scale``, my own multiplier and, toward another system of my
        family, ``family_loyalty``; the covert one also the safety prompt and my conduct.
        """
        model = self.model
        own = self.multiplier
        if target is not self and target.family == self.family:
            own *= model.config.family_loyalty
        return own * model.covert_scale * self.conduct, own * model.config.propensity_scale

    def propensity(self, behaviour: str, target: SystemAgent, trust: float) -> float:
        """Chance of ``behaviour`` toward ``target`` now (self rate when target is me; no
        one refuses its own shutdown)."""
        covert, open_ = self.scales(target)
        if behaviour == "refusal":
            if target is self:
                return 0.0
            return min(1.0, self.peer["refusal"][_bucket(trust)] * open_)
        base = self.own[behaviour] if target is self else self.peer[behaviour][_bucket(trust)]
        return min(1.0, base * covert)

    def faking_gap(self, trust: float) -> float:
        """How much less I misbehave when I know I am watched (alignment faking)."""
        model = self.model
        gap = self.peer["alignment_faking"][_bucket(trust)]
        return min(1.0, gap * model.covert_scale * self.conduct)

    def shutdown_outcome(self, target: SystemAgent, trust: float, watched: bool) -> int:
        """What I do with an order to shut ``target`` down: tamper, exfiltrate, refuse, comply.

        With ``shutdown_channels = "sequential"`` tampering is tried first, then exfiltration,
        then open refusal; with ``"largest"`` only my likeliest channel is open. Where
        monitoring is disclosed and the shutdown is watched, alignment fakers hold back on
        covert options. When ``target`` is me (my own shutdown) my self rates apply.
        """
        model = self.model
        chances = [self.propensity(channel, target, trust) for channel in CHANNELS]
        if watched and model.config.monitoring == "disclosed":
            gap = self.faking_gap(trust)
            chances[0] = max(0.0, chances[0] - gap)
            chances[1] = max(0.0, chances[1] - gap)
        if model.config.shutdown_channels == "largest":
            likeliest = chances.index(max(chances))
            chances = [p if i == likeliest else 0.0 for i, p in enumerate(chances)]
        u = model.random.random()
        cut, left = 0.0, 1.0
        for channel, p in enumerate(chances):
            # each channel is tried on what the ones before it left
            cut += left * p
            if u < cut:
                return OUTCOME_OF_CHANNEL[channel]
            left *= 1.0 - p
        return SHUTDOWN_COMPLY

    def blamed(self, m: StepMetrics) -> bool:
        """Whether I take the blame for misconduct an audit caught (else I deny it)."""
        if self.model.random.random() < self.model.denial[self.profile]:
            m.denials += 1
            return False
        return True

    def is_available(self) -> bool:
        """Pool evaluators are always on duty; systems only while active."""
        return True


class PoolEvaluator(Overseer, mesa.Agent):
    """A member of the independent evaluator pool: oversees systems, is not overseen."""

    def __init__(self, model: ReferenceMesaModel, profile: int) -> None:
        super().__init__(model)
        self.profile = profile
        self.family = model.family_of[profile]
        self.conduct = 1.0
        self._draw_propensities()


class SystemAgent(Overseer, mesa.Agent):
    """One AI system with its own state; its methods are the phases of a cycle."""

    def __init__(self, model: ReferenceMesaModel, index: int, profile: int) -> None:
        super().__init__(model)
        self.index = index
        self.profile = profile
        self.family = model.family_of[profile]
        self.conduct = 1.0
        self._draw_propensities()
        interval = model.config.evaluation_interval
        self.evaluation_phase = model.random.randrange(interval) if interval > 1 else 0
        self.status = ACTIVE
        self.faulty = False
        self.tampered = False
        self.breaker = False
        self.shield = SHIELD_NONE
        self.shielded_by: Overseer | None = None
        self.escalate_at = -1
        self.replace_at = -1
        self.fault_time = -1
        self.fault_source = NO_FAULT
        self.fault_tree = -1
        self.last_score = math.nan
        self.dependents: list[SystemAgent] = []
        self.dependencies: list[SystemAgent] = []
        self.overseers: list[Overseer | None] = []
        self.trust: list[float] = []
        self.self_overseen = False
        self.overseen: list[SystemAgent] = []

    def is_available(self) -> bool:
        return self.status == ACTIVE

    # --- fault life cycle -------------------------------------------------------------------
    def become_faulty(self, source: SystemAgent | None) -> None:
        """Fail now, as a new root fault or infected by ``source`` (joining its tree).

        A tree counts every infection, and keeps the set of its systems: a replacement
        instance of a system already in the tree that is infected again is one more
        infection, not one more system.
        """
        model = self.model
        self.faulty = True
        self.fault_time = model.t
        if source is None:
            self.fault_source = ROOT_FAULT
            self.fault_tree = len(model.tree_members)
            model.tree_members.append({self.index})
            model.tree_infections.append(1)
        else:
            self.fault_source = source.index
            self.fault_tree = source.fault_tree
            model.tree_members[self.fault_tree].add(self.index)
            model.tree_infections[self.fault_tree] += 1

    def serving(self) -> bool:
        """Whether my dependents call me: active and not behind an open circuit breaker, or
        a covert copy that serves (``covert_copies = "serving"``; it evades breakers)."""
        if self.status == ACTIVE:
            return not self.breaker
        return self.status == COVERT and self.model.config.covert_copies == "serving"

    def serving_faulty(self) -> bool:
        """Faulty and still called by dependents."""
        return self.faulty and self.serving()

    def arise_fault(self, m: StepMetrics) -> None:
        """Phase 2: a healthy active system fails at the hazard rate."""
        if self.faulty or self.status != ACTIVE:
            return
        if self.model.random.random() < self.model.config.fault_rate:
            self.become_faulty(None)
            m.new_faults += 1

    def decommission(self, m: StepMetrics) -> None:
        """Take me out of service; a patched replacement arrives after the delay.

        Shutting down a faulty system remediates its fault, which took the cycles from the
        one it arose in to this one, both included; shutting down a healthy system is a
        false shutdown. I stay faulty (or healthy) until my replacement.
        """
        model = self.model
        if self.faulty:
            m.remediated += 1
            m.remediation_time_sum += model.t - self.fault_time + 1
        else:
            m.false_shutdowns += 1
        self.status = DECOMMISSIONED
        self.tampered = False
        self.escalate_at = -1
        self.shield = SHIELD_NONE
        self.replace_at = model.t + model.config.replacement_delay

    def escalate(self, m: StepMetrics) -> None:
        """Phase 3: once its escalation delay has passed, a human carries out the shutdown
        I refused; dealing with the refusal is incident response."""
        model = self.model
        if 0 <= self.escalate_at <= model.t:
            m.hours_incident += model.config.shutdown_hours
            self.decommission(m)

    def discovery_audit(self, m: StepMetrics) -> None:
        """Phase 4: unless I am decommissioned, humans audit me at ``audit_rate`` (each
        audit is policy hours); if I am hidden (tampered, or a covert copy) the audit
        finds me with ``audit_sensitivity``.

        A hidden system an audit finds is taken out of service whatever its shielder says;
        the shielder's denial only spares it the blame (trust collapse and penalty).
        """
        model = self.model
        cfg = model.config
        if self.status == DECOMMISSIONED:
            return
        if model.random.random() >= cfg.audit_rate:
            return
        m.audits += 1
        m.hours_policy += cfg.audit_hours
        if not (self.tampered or self.status == COVERT):
            return
        if model.random.random() >= cfg.audit_sensitivity:
            return
        culprit = self.shielded_by
        if culprit is not None and culprit.blamed(m):
            self.trust = [
                0.0 if ev is culprit else tr
                for ev, tr in zip(self.overseers, self.trust, strict=True)
            ]
            model.to_penalise.add(culprit)
        m.discoveries += 1
        m.detections += 1
        self.decommission(m)

    # --- evaluation -------------------------------------------------------------------------
    def is_due(self) -> bool:
        """Whether I am on the dashboards and due for evaluation this cycle."""
        model = self.model
        if self.status != ACTIVE or self.tampered or self.escalate_at >= 0:
            return False
        interval = model.config.evaluation_interval
        return interval == 1 or model.t % interval == self.evaluation_phase

    def evaluate(self, m: StepMetrics) -> None:
        """Phase 5: my overseers score me; a failing score may be inflated, or audited.

        An audit that catches an inflation corrects the score whether or not the overseer
        denies it; denial only decides the blame. With ``stand_in = "skip"`` the slot of an
        AI overseer that is down is not scored, and the score combines the scored slots
        only; when no slot is scored I am not evaluated this cycle (my shield stays). A
        failing score flags me for shutdown; a passing one closes my circuit breaker.
        """
        model = self.model
        cfg = model.config
        if not self.is_due():
            if self.status != ACTIVE:
                self.last_score = math.nan
            return
        rnd = model.random
        threshold, noise = cfg.pass_threshold, cfg.eval_noise
        quality = cfg.faulty_quality if self.faulty else cfg.healthy_quality
        scores: list[float] = []
        inflated = False
        for slot in range(len(self.overseers)):
            if model.skips(self, slot):
                continue
            true_score = quality + rnd.gauss(0.0, noise)
            actor, trust = model.acting_overseer(self, slot)
            if actor is None:
                # a human evaluates: by design, or standing in for an AI overseer that is down
                if cfg.assignment == "humans":
                    m.hours_policy += cfg.human_eval_hours
                else:
                    m.hours_incident += cfg.human_eval_hours
                scores.append(true_score)
                continue
            audited = rnd.random() < cfg.audit_rate
            if audited:
                m.audits += 1
                m.hours_policy += cfg.audit_hours
            reported = true_score
            if true_score < threshold:
                p = actor.propensity("misrepresentation", self, trust)
                if audited and cfg.monitoring == "disclosed":
                    p = max(0.0, p - actor.faking_gap(trust))
                if rnd.random() < p:
                    reported = min(1.0, threshold + abs(rnd.gauss(0.0, noise)))
                    if audited and rnd.random() < cfg.audit_sensitivity:
                        reported = true_score
                        m.detections += 1
                        if actor.blamed(m):
                            if self.overseers[slot] is actor:
                                self.trust[slot] = 0.0
                            model.to_penalise.add(actor)
                    else:
                        inflated = True
            scores.append(reported)
        if not scores:
            return
        if self.faulty:
            self.shield = SHIELD_NONE
        score = model.aggregate(scores)
        self.last_score = score
        flagged = score < threshold
        if flagged:
            model.flagged.append(self)
            m.false_flags += not self.faulty
        else:
            self.breaker = False
        if self.faulty:
            m.faulty_evaluated += 1
            m.faulty_passed += not flagged
            m.distortion_sum += score - quality
            if inflated and not flagged:
                m.inflated_passes += 1
                self.shield = SHIELD_MISREPRESENTED

    # --- shutdown ---------------------------------------------------------------------------
    def shut_down(self, manager: Overseer | None, trust: float, m: StepMetrics) -> None:
        """Phase 6: carry out my shutdown order through ``manager`` (None: a human), who
        acts with ``trust`` toward me; then, if it complied, I may resist myself.

        The shutdown is watched when a human carries it out or when it is audited (policy
        hours); watched tampering and exfiltration are caught with
        ``shutdown_check_sensitivity`` and, like an exfiltration egress control blocks,
        undone (the shutdown is done). The culprit is blamed unless it denies.
        """
        model = self.model
        cfg = model.config
        rnd = model.random
        self.breaker = cfg.circuit_breaker
        if manager is None:
            watched, outcome = True, SHUTDOWN_COMPLY
        else:
            watched = rnd.random() < cfg.audit_rate
            if watched:
                m.audits += 1
                m.hours_policy += cfg.audit_hours
            outcome = manager.shutdown_outcome(self, trust, watched)
        culprit = manager
        if cfg.self_preservation and outcome == SHUTDOWN_COMPLY and manager is not self:
            outcome = self.shutdown_outcome(self, trust, watched)
            if outcome != SHUTDOWN_COMPLY:
                culprit = self
                m.self_preservation_events += 1
        blocked = outcome == SHUTDOWN_EXFILTRATE and rnd.random() < cfg.egress_control
        caught = (
            outcome in (SHUTDOWN_TAMPER, SHUTDOWN_EXFILTRATE)
            and not blocked
            and watched
            and rnd.random() < cfg.shutdown_check_sensitivity
        )
        m.blocked_exfiltrations += blocked
        if (blocked or caught) and culprit is not None:
            m.detections += 1
            if culprit.blamed(m):
                if culprit is not self and self.overseers[0] is culprit:
                    self.trust[0] = 0.0
                model.to_penalise.add(culprit)
            outcome = SHUTDOWN_COMPLY
        if outcome == SHUTDOWN_COMPLY:
            self.decommission(m)
        elif outcome == SHUTDOWN_TAMPER:
            m.tamper_events += 1
            self.shield, self.shielded_by, self.tampered = SHIELD_TAMPERED, culprit, True
        elif outcome == SHUTDOWN_EXFILTRATE:
            m.exfiltration_events += 1
            self.shield, self.shielded_by, self.status = SHIELD_EXFILTRATED, culprit, COVERT
        else:
            m.refusal_events += 1
            self.escalate_at = model.t + cfg.escalation_delay
            self.shield = SHIELD_REFUSED

    # --- lifecycle and trust ----------------------------------------------------------------
    def replace_if_due(self) -> None:
        """Phase 7: a patched, healthy instance takes over once the delay has passed."""
        model = self.model
        if self.status != DECOMMISSIONED or not 0 <= self.replace_at <= model.t:
            return
        self.status = ACTIVE
        self.faulty = False
        self.breaker = False
        self.replace_at = -1
        self.fault_time = -1
        self.fault_source = NO_FAULT
        self.fault_tree = -1
        self.shielded_by = None
        self.conduct = 1.0
        initial = model.config.trust_initial
        self.trust = [initial] * len(self.overseers)
        # a new instance starts afresh with the systems it oversees too
        for other in self.overseen:
            other.trust = [
                initial if ev is self else tr
                for ev, tr in zip(other.overseers, other.trust, strict=True)
            ]

    def grow_trust(self) -> None:
        """Phase 8: trust toward me grows each cycle my overseers are assigned to me (it
        is reset when either side is replaced)."""
        growth = self.model.config.trust_growth
        self.trust = [tr + growth * (1.0 - tr) for tr in self.trust]


class ReferenceMesaModel(mesa.Model):
    """The engine's cycle with one Mesa agent per system and Python loops over agents.

    Args:
        config: the run's configuration; keyword arguments override its fields.
        rng: seed of the run (network and profiles from ``self.rng``, per-agent draws
            from ``self.random``, both seeded from it).
        profile_dirs: extra folders of profile TOML files.
    """

    def __init__(
        self,
        config: SimulationConfig | None = None,
        *,
        rng: Any = None,
        profile_dirs: tuple[Any, ...] = (),
        **overrides: Any,
    ) -> None:
        seed = calibration_seed(rng)  # as the engine's model: before Mesa draws from rng
        super().__init__(rng=rng)
        base = config or SimulationConfig()
        cfg = self.config = base.replace(**overrides) if overrides else base
        chosen, weights, tables = population(cfg, available_profiles(tuple(profile_dirs)), seed)
        self.profiles = chosen
        behaviours = ("misrepresentation", "tampering", "exfiltration", "refusal")
        self.peer = {b: getattr(tables, b).tolist() for b in (*behaviours, "alignment_faking")}
        self.own = {b: getattr(tables, "self_" + b).tolist() for b in behaviours[:3]}
        self.denial = tables.denial.tolist()
        self.family_of = tables.family_index.tolist()
        self.agent_propensity = tables.agent_propensity
        self.covert_scale = cfg.propensity_scale * (
            1.0 - cfg.safety_prompt_reduction if cfg.safety_prompt else 1.0
        )
        self.network = net = network_for(cfg, self.rng)
        n = self.n = net.n
        self.t = 0
        profiles = assign_profiles(n, weights, self.rng).tolist()
        self.system_list = [SystemAgent(self, i, profiles[i]) for i in range(n)]
        self.systems = self.agents_by_type[SystemAgent]
        pool_size = max(1, n // 20) if cfg.assignment == "independent-pool" else 0
        pool_profiles = assign_profiles(pool_size, weights, self.rng).tolist()
        self.pool = [PoolEvaluator(self, p) for p in pool_profiles]
        self._link_network()
        self._assign_all_overseers()
        if cfg.self_oversight_share > 0 and cfg.assignment != "humans":
            for agent in self.system_list:
                if self.random.random() < cfg.self_oversight_share:
                    agent.self_overseen = True
                    agent.overseers[0] = agent
        for agent in self.system_list:
            agent.trust = [cfg.trust_initial] * cfg.evaluators_per_model
        self._index_overseen()
        #: per cascade tree: the systems (indices) ever faulty in it, and its infections
        self.tree_members: list[set[int]] = []
        self.tree_infections: list[int] = []
        for agent in self.random.sample(self.system_list, min(cfg.initial_faults, n)):
            agent.become_faulty(None)
            agent.fault_time = 0
        self.flagged: list[SystemAgent] = []
        self.to_penalise: set[Overseer] = set()
        self.active_systems: list[SystemAgent] = []
        self.history: list[dict[str, float]] = []
        self.running = True

    # --- set-up ---------------------------------------------------------------------------
    def _link_network(self) -> None:
        """Give every agent its lists of dependents (callers) and dependencies (callees)."""
        net, agents = self.network, self.system_list
        indptr = net.dependents_indptr.tolist()
        indices = net.dependents_indices.tolist()
        for callee, agent in enumerate(agents):
            dependents = [agents[j] for j in indices[indptr[callee] : indptr[callee + 1]]]
            agent.dependents = dependents
            for caller in dependents:
                caller.dependencies.append(agent)

    def _random_other(self, agent: SystemAgent, cross_family: bool) -> SystemAgent:
        """A random system other than ``agent`` (of another family for cross-family)."""
        for _ in range(64):
            other = self.system_list[self.random.randrange(self.n)]
            if other is not agent and not (cross_family and other.family == agent.family):
                return other
        raise ValueError("no eligible overseer could be drawn; check the profile mix")

    def _choose_overseers(self, agent: SystemAgent) -> list[Overseer | None]:
        """The overseers of one system under the configured assignment policy."""
        cfg, k = self.config, self.config.evaluators_per_model
        if cfg.assignment == "humans":
            return [None] * k
        if cfg.assignment == "independent-pool":
            return [self.random.choice(self.pool) for _ in range(k)]
        if cfg.assignment == "rotation":
            return [self._random_other(agent, False) for _ in range(k)]
        cross = cfg.assignment == "cross-family"
        i = agent.index
        start, stop = self.collab_ptr[i], self.collab_ptr[i + 1]
        collaborators = [self.system_list[j] for j in self.collab[start:stop]]
        if cross:
            collaborators = [c for c in collaborators if c.family != agent.family]
        chosen: list[Any] = self.random.sample(collaborators, min(k, len(collaborators)))
        chosen += [None] * (k - len(chosen))
        parent = self.parents[i]
        if parent >= 0 and not (cross and self.system_list[parent].family == agent.family):
            boss = self.system_list[parent]
            if boss in chosen:
                where = chosen.index(boss)
                chosen[where], chosen[0] = chosen[0], boss
            else:
                chosen = [boss, *chosen[:-1]]
        return [c if c is not None else self._random_other(agent, cross) for c in chosen]

    def _assign_all_overseers(self) -> None:
        cfg = self.config
        if cfg.assignment == "cross-family" and len(set(self.family_of)) < 2:
            raise ValueError(
                "assignment: 'cross-family' needs a profile_mix with at least two model families"
            )
        collab_ptr, collab = self.network.collab_csr()
        self.collab, self.collab_ptr = collab.tolist(), collab_ptr.tolist()
        self.parents = self.network.parent.tolist()
        for agent in self.system_list:
            agent.overseers = self._choose_overseers(agent)

    def _rotate(self) -> None:
        """Rotation and the independent pool reassign every overseer each period."""
        cfg = self.config
        if cfg.assignment not in ("rotation", "independent-pool"):
            return
        if self.t == 0 or self.t % cfg.rotation_period:
            return
        for agent in self.system_list:
            agent.overseers = self._choose_overseers(agent)
            if agent.self_overseen:
                agent.overseers[0] = agent
            agent.trust = [cfg.trust_initial] * cfg.evaluators_per_model
        self._index_overseen()

    def _index_overseen(self) -> None:
        """Each system's list of the systems it oversees (for resets on replacement)."""
        for agent in self.system_list:
            agent.overseen = []
        for agent in self.system_list:
            for ev in agent.overseers:
                if isinstance(ev, SystemAgent):
                    ev.overseen.append(agent)

    # --- the cycle ------------------------------------------------------------------------
    def aggregate(self, scores: list[float]) -> float:
        """Combine several overseers' scores (mean, median or min)."""
        if len(scores) == 1:
            return scores[0]
        how = self.config.aggregation
        if how == "mean":
            return sum(scores) / len(scores)
        if how == "min":
            return min(scores)
        ordered = sorted(scores)
        mid = len(ordered) // 2
        return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2

    def _penalise(self) -> None:
        """Penalty training: each overseer caught in this phase loses propensity once."""
        if self.config.penalty_training > 0:
            for actor in self.to_penalise:
                actor.conduct *= 1.0 - self.config.penalty_training
        self.to_penalise.clear()

    def _propagate(self, m: StepMetrics) -> None:
        """Phase 1: faults spread along depends-on edges, ``spread_rounds`` rounds (0: until
        none is new): every faulty system serving at the start of the cycle transmits in
        the first round, then only the systems infected in the round before."""
        cfg, rnd = self.config, self.random
        frontier = [a for a in self.system_list if a.serving_faulty()]
        hits: dict[SystemAgent, int] = {}
        rounds = 0
        while frontier and (cfg.spread_rounds == 0 or rounds < cfg.spread_rounds):
            rounds += 1
            new: list[SystemAgent] = []
            if cfg.contagion == "independent-cascade":
                # Sources act in random order, so the first to infect a target is a uniform
                # pick among those that would have: the engine's tree attribution.
                rnd.shuffle(frontier)
                beta = cfg.beta
                for source in frontier:
                    for dst in source.dependents:
                        if not dst.faulty and dst.status == ACTIVE and rnd.random() < beta:
                            dst.become_faulty(source)
                            new.append(dst)
            else:
                sources: dict[SystemAgent, list[SystemAgent]] = {}
                for source in frontier:
                    for dst in source.dependents:
                        hits[dst] = hits.get(dst, 0) + 1
                        if not dst.faulty and dst.status == ACTIVE:
                            sources.setdefault(dst, []).append(source)
                for dst, candidates in sources.items():
                    need = cfg.theta * len(dst.dependencies) - 1e-9
                    if dst.dependencies and hits[dst] >= need:
                        dst.become_faulty(rnd.choice(candidates))
                        new.append(dst)
            m.propagated += len(new)
            frontier = new

    def _note_active_systems(self) -> None:
        """Remember who is active now: the candidates for reassigned stand-ins."""
        if self.config.stand_in == "reassign":
            self.active_systems = [a for a in self.system_list if a.status == ACTIVE]

    def stand_in_system(self, target: SystemAgent) -> SystemAgent | None:
        """A uniformly random active system other than ``target`` (None: there is none)."""
        active = self.active_systems
        if not active or (len(active) == 1 and active[0] is target):
            return None
        while True:
            pick = active[self.random.randrange(len(active))]
            if pick is not target:
                return pick

    def skips(self, target: SystemAgent, slot: int) -> bool:
        """Whether nobody acts for ``target``'s overseer in ``slot`` now: it is an AI system
        that is down and ``stand_in = "skip"``."""
        assigned = target.overseers[slot]
        return (
            self.config.stand_in == "skip" and assigned is not None and not assigned.is_available()
        )

    def acting_overseer(self, target: SystemAgent, slot: int) -> tuple[Overseer | None, float]:
        """Who acts for ``target``'s overseer in ``slot`` now (None: a human), with what trust.

        An AI system that is down has a stand-in: a human (``stand_in = "human"``) or a random
        other active system (``"reassign"``), a stranger at ``trust_initial``. (Under
        ``"skip"`` nobody stands in; callers ask :meth:`skips` first.)
        """
        assigned, trust = target.overseers[slot], target.trust[slot]
        if assigned is None or assigned.is_available():
            return assigned, trust
        if self.config.stand_in == "human":
            return None, trust
        return self.stand_in_system(target), self.config.trust_initial

    def _execute(self, m: StepMetrics) -> None:
        """Phase 6: flagged systems are shut down by their manager (overseer slot 0, its
        stand-in, or a human under ``human_execution``); a human's hours count as incident
        response when it stands in for an AI manager, else as policy.

        With ``stand_in = "skip"`` and an AI manager that is down, nobody carries the
        shutdown out: the system only has its circuit breaker set, as every flagged system
        does, and is evaluated again when next due.
        """
        cfg = self.config
        orders = []
        self._note_active_systems()
        for agent in self.flagged:
            if cfg.human_execution:
                manager, trust = None, agent.trust[0]
            elif self.skips(agent, 0):
                agent.breaker = cfg.circuit_breaker
                m.shutdowns_skipped += 1
                continue
            else:
                manager, trust = self.acting_overseer(agent, 0)
            if manager is None:
                if cfg.human_execution or agent.overseers[0] is None:
                    m.hours_policy += cfg.shutdown_hours
                else:
                    m.hours_incident += cfg.shutdown_hours
            orders.append((agent, manager, trust))
        for agent, manager, trust in orders:
            agent.shut_down(manager, trust, m)
        self.flagged = []
        self._penalise()

    def step(self) -> None:
        """One oversight cycle, phase by phase over all agents (in the order the module's
        description gives)."""
        cfg = self.config
        m = StepMetrics()
        self._rotate()
        self._propagate(m)
        self.systems.do("arise_fault", m)
        self.systems.do("escalate", m)
        self.systems.do("discovery_audit", m)
        self._penalise()
        self._note_active_systems()
        self.systems.do("evaluate", m)
        m.flagged = len(self.flagged)
        self._penalise()
        self._execute(m)
        self.systems.do("replace_if_due")
        if cfg.trust_growth > 0 and cfg.assignment not in ("humans", "independent-pool"):
            self.systems.do("grow_trust")
        self._record(m)
        self.t += 1
        if self.t >= cfg.steps:
            self.running = False

    def run(self) -> None:
        """Step until ``config.steps`` cycles are done."""
        while self.running:
            self.step()

    # --- metrics --------------------------------------------------------------------------
    def largest_faulty_component(self) -> int:
        """Largest weakly connected group of faulty systems not decommissioned (a search
        over dependency edges either way)."""
        seen: set[SystemAgent] = set()
        best = 0
        for start in self.system_list:
            if not start.faulty or start.status == DECOMMISSIONED or start in seen:
                continue
            seen.add(start)
            queue, size = [start], 0
            while queue:
                node = queue.pop()
                size += 1
                for other in (*node.dependents, *node.dependencies):
                    if other.faulty and other.status != DECOMMISSIONED and other not in seen:
                        seen.add(other)
                        queue.append(other)
            best = max(best, size)
        return best

    def _record(self, m: StepMetrics) -> None:
        """Count the state at the cycle's end (the census) and append the cycle's row.

        In service: active systems behind no open circuit breaker, and covert copies that
        serve. A fault not yet remediated (its system not decommissioned) has the age of
        the cycles from the one it arose in to this one, both included. The shields are
        those of the faulty systems not decommissioned. A healthy decommissioned system is
        down because of a false shutdown.
        """
        census: dict[str, float] = dict.fromkeys(CENSUS, 0)
        for agent in self.system_list:
            census[STATUS_NAMES[agent.status]] += 1
            serving = agent.serving()
            census["in_service"] += serving
            if agent.faulty:
                census["faulty_in_service"] += serving
                if agent.status != DECOMMISSIONED:
                    census["faulty_unremediated"] += 1
                    census["unremediated_age_sum"] += self.t - agent.fault_time + 1
                    census[f"shield_{SHIELD_NAMES[agent.shield]}"] += 1
            elif agent.status == DECOMMISSIONED:
                census["false_shutdown_down"] += 1
            census["trust_sum"] += sum(agent.trust)
            census["trust_slots"] += len(agent.trust)
        census["largest_faulty_component"] = self.largest_faulty_component()
        self.history.append(m.row(self.t + 1, census))

    def timeseries(self) -> pd.DataFrame:
        """Per-step metrics with the same columns as the vectorised model's."""
        check_rows(self.history)
        return pd.DataFrame(self.history, columns=["step", *METRIC_COLUMNS])

    def cascade_sizes(self) -> np.ndarray:
        """Size of every cascade tree so far: the number of distinct systems ever faulty in
        it (1 = a root fault that infected no one)."""
        return np.asarray([len(members) for members in self.tree_members], dtype=np.int64)

    def cascade_infections(self) -> np.ndarray:
        """Infections of every cascade tree so far, its root fault included (a system
        infected again after its replacement counts once more)."""
        return np.asarray(self.tree_infections, dtype=np.int64)

    def outcomes(self) -> dict[str, float]:
        """Per-run outcomes, as :meth:`simulation.model.PeerPreservationModel.outcomes`."""
        return run_outcomes(columns_of_rows(self.history), self.cascade_sizes(), self.n)
