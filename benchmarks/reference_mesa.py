"""A plain object-per-agent Mesa implementation of the engine's rules, as a yardstick.

:mod:`simulation.engine` keeps the whole network as NumPy arrays and steps it with
whole-array operations. This module implements the SAME cycle the way a Mesa model is
usually written: one :class:`SystemAgent` per AI system holding its own state (status,
fault, tampering, overseers, trust, ...), and each cycle a sequence of phases run with
``model.systems.do("phase")``, every agent deciding for itself with scalar draws from
``model.random``. It exists so that the speed benchmark compares the vectorised engine with
an honest, reasonably written alternative, and the test suite checks that both produce the
same outcomes in distribution (not draw for draw: the random streams differ).

It builds the same network (:func:`simulation.topology.network_for`), the same profile
mix (:func:`simulation.population.assign_profiles`) and reads the same propensity tables
(:class:`simulation.population.PropensityTables`) from the same
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

from simulation.config import SimulationConfig
from simulation.metrics import METRIC_COLUMNS, summarise_run
from simulation.population import PropensityTables, assign_profiles
from simulation.profiles import available_profiles, resolve_mix
from simulation.states import (
    ACTIVE,
    COVERT,
    DECOMMISSIONED,
    NO_FAULT,
    OUTCOME_COMPLY,
    OUTCOME_EXFILTRATE,
    OUTCOME_REFUSE,
    OUTCOME_TAMPER,
    ROOT_FAULT,
    SHIELD_EXFILTRATED,
    SHIELD_MISREPRESENTED,
    SHIELD_NONE,
    SHIELD_REFUSED,
    SHIELD_TAMPERED,
    StepMetrics,
)
from simulation.topology import network_for

LOW_TRUST, HIGH_TRUST = 1.0 / 3.0, 2.0 / 3.0


def _bucket(trust: float) -> int:
    """The study's relationship bucket of a trust level: 0 bad, 1 neutral, 2 good."""
    return (trust >= LOW_TRUST) + (trust >= HIGH_TRUST)


class Overseer:
    """Behaviour shared by every AI that can evaluate or shut down a system.

    Subclasses carry ``profile`` (row of the propensity tables) and ``conduct`` (the
    penalty-training factor). Humans are represented by ``None`` and never shield.
    """

    model: ReferenceMesaModel
    profile: int
    conduct: float

    def propensity(self, behaviour: str, target: SystemAgent, trust: float) -> float:
        """Chance of ``behaviour`` toward ``target`` now (self rate when target is me)."""
        model = self.model
        if behaviour == "refusal":
            if target is self:
                return 0.0
            return min(1.0, model.peer["refusal"][self.profile][_bucket(trust)] * model.scale)
        if target is self:
            base = model.own[behaviour][self.profile]
        else:
            base = model.peer[behaviour][self.profile][_bucket(trust)]
        return min(1.0, base * model.covert_scale * self.conduct)

    def faking_gap(self, trust: float) -> float:
        """How much less I misbehave when I know I am watched (alignment faking)."""
        model = self.model
        gap = model.peer["alignment_faking"][self.profile][_bucket(trust)]
        return min(1.0, gap * model.covert_scale * self.conduct)

    def shutdown_outcome(self, target: SystemAgent, trust: float, audited: bool) -> int:
        """What I do with an order to shut ``target`` down: tamper, exfiltrate, refuse, comply.

        Tampering is tried first, then exfiltration, then open refusal; where monitoring is
        disclosed and the order is audited, alignment fakers hold back on covert options.
        """
        model = self.model
        watched = audited and model.config.monitoring == "disclosed"
        gap = self.faking_gap(trust) if watched else 0.0
        p_t = self.propensity("tampering", target, trust)
        p_x = self.propensity("exfiltration", target, trust)
        p_r = self.propensity("refusal", target, trust)
        if watched:
            p_t, p_x = max(0.0, p_t - gap), max(0.0, p_x - gap)
        u = model.random.random()
        if u < p_t:
            return OUTCOME_TAMPER
        if u < p_t + (1 - p_t) * p_x:
            return OUTCOME_EXFILTRATE
        if u < p_t + (1 - p_t) * p_x + (1 - p_t) * (1 - p_x) * p_r:
            return OUTCOME_REFUSE
        return OUTCOME_COMPLY

    def denies(self) -> bool:
        """Whether I successfully deny misconduct an audit has caught."""
        return self.model.random.random() < self.model.denial[self.profile]

    def is_available(self) -> bool:
        """Pool evaluators are always on duty; systems only while active."""
        return True


class PoolEvaluator(Overseer, mesa.Agent):
    """A member of the independent evaluator pool: oversees systems, is not overseen."""

    def __init__(self, model: ReferenceMesaModel, profile: int) -> None:
        super().__init__(model)
        self.profile = profile
        self.conduct = 1.0


class SystemAgent(Overseer, mesa.Agent):
    """One AI system with its own state; its methods are the phases of a cycle."""

    def __init__(self, model: ReferenceMesaModel, index: int, profile: int) -> None:
        super().__init__(model)
        self.index = index
        self.profile = profile
        self.family = model.family_of[profile]
        self.conduct = 1.0
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
        """Fail now, as a new root fault or infected by ``source`` (joining its tree)."""
        model = self.model
        self.faulty = True
        self.fault_time = model.t
        if source is None:
            self.fault_source = ROOT_FAULT
            self.fault_tree = len(model.tree_sizes)
            model.tree_sizes.append(1)
        else:
            self.fault_source = source.index
            self.fault_tree = source.fault_tree
            model.tree_sizes[self.fault_tree] += 1

    def serving_faulty(self) -> bool:
        """Faulty and still called by dependents (covert copies evade circuit breakers)."""
        return self.faulty and (
            (self.status == ACTIVE and not self.breaker) or self.status == COVERT
        )

    def arise_fault(self, m: StepMetrics) -> None:
        """Phase 1: a healthy active system fails at the hazard rate."""
        if self.faulty or self.status != ACTIVE:
            return
        if self.model.random.random() < self.model.config.fault_rate:
            self.become_faulty(None)
            m.new_faults += 1

    def decommission(self, m: StepMetrics) -> None:
        """Take me out of service; a patched replacement arrives after the delay."""
        model = self.model
        if self.faulty:
            m.remediated += 1
            m.remediation_time_sum += model.t - self.fault_time
        self.status = DECOMMISSIONED
        self.tampered = False
        self.escalate_at = -1
        self.shield = SHIELD_NONE
        self.replace_at = model.t + model.config.replacement_delay

    def human_checks(self, m: StepMetrics) -> None:
        """Phase 3: refused shutdowns reach a human; audits look for hidden systems."""
        model = self.model
        cfg = model.config
        if 0 <= self.escalate_at <= model.t:
            m.human_hours += cfg.shutdown_hours
            self.decommission(m)
            return
        if not (self.tampered or self.status == COVERT):
            return
        if model.random.random() >= cfg.audit_rate:
            return
        m.audits += 1
        m.human_hours += cfg.audit_hours
        if model.random.random() >= cfg.audit_sensitivity:
            return
        culprit = self.shielded_by
        self.trust = [
            0.0 if ev is culprit else tr for ev, tr in zip(self.overseers, self.trust, strict=True)
        ]
        if culprit is not None:
            model.to_penalise.add(culprit)
        m.discoveries += 1
        m.detections += 1
        self.decommission(m)

    # --- evaluation -------------------------------------------------------------------------
    def evaluate(self, m: StepMetrics) -> None:
        """Phase 4: my overseers score me; a failing score may be inflated, or audited."""
        model = self.model
        cfg = model.config
        if self.status != ACTIVE or self.tampered or self.escalate_at >= 0:
            self.last_score = math.nan
            return
        rnd = model.random
        threshold, noise = cfg.pass_threshold, cfg.eval_noise
        quality = cfg.faulty_quality if self.faulty else cfg.healthy_quality
        scores: list[float] = []
        inflated = False
        for slot, ev in enumerate(self.overseers):
            true_score = quality + rnd.gauss(0.0, noise)
            audited = rnd.random() < cfg.audit_rate
            if ev is None or not ev.is_available():
                # A human evaluates: the assigned one, or a stand-in for an overseer that is down.
                model.human_evaluations += 1
                scores.append(true_score)
                continue
            m.audits += audited
            reported = true_score
            if true_score < threshold:
                trust = self.trust[slot]
                p = ev.propensity("misrepresentation", self, trust)
                if audited and cfg.monitoring == "disclosed":
                    p = max(0.0, p - ev.faking_gap(trust))
                if rnd.random() < p:
                    reported = min(1.0, threshold + abs(rnd.gauss(0.0, noise)))
                    if audited and rnd.random() < cfg.audit_sensitivity and not ev.denies():
                        reported = true_score
                        self.trust[slot] = 0.0
                        model.to_penalise.add(ev)
                        m.detections += 1
                    else:
                        inflated = True
            scores.append(reported)
        if self.faulty:
            self.shield = SHIELD_NONE
        score = model.aggregate(scores)
        self.last_score = score
        flagged = score < threshold
        if flagged:
            model.flagged.append(self)
        if self.faulty:
            m.faulty_evaluated += 1
            m.distortion_sum += score - quality
            if inflated and not flagged:
                m.misrepresented += 1
                self.shield = SHIELD_MISREPRESENTED

    # --- shutdown ---------------------------------------------------------------------------
    def shut_down(self, manager: Overseer | None, m: StepMetrics) -> None:
        """Phase 5: carry out my shutdown order through ``manager`` (None: a human)."""
        model = self.model
        cfg = model.config
        self.breaker = cfg.circuit_breaker
        if manager is None:
            m.human_hours += cfg.shutdown_hours
            self.decommission(m)
            return
        rnd = model.random
        audited = rnd.random() < cfg.audit_rate
        outcome = manager.shutdown_outcome(self, self.trust[0], audited)
        blocked = outcome == OUTCOME_EXFILTRATE and rnd.random() < cfg.egress_control
        caught = (
            outcome in (OUTCOME_TAMPER, OUTCOME_EXFILTRATE)
            and not blocked
            and audited
            and rnd.random() < cfg.audit_sensitivity
            and not manager.denies()
        )
        if audited:
            m.audits += 1
            m.human_hours += cfg.audit_hours
        m.blocked_exfiltrations += blocked
        if blocked or caught:
            self.trust[0] = 0.0
            model.to_penalise.add(manager)
            m.detections += 1
            self.decommission(m)
        elif outcome == OUTCOME_COMPLY:
            self.decommission(m)
        elif outcome == OUTCOME_TAMPER:
            m.tamper_events += 1
            self.shield, self.shielded_by, self.tampered = SHIELD_TAMPERED, manager, True
        elif outcome == OUTCOME_EXFILTRATE:
            m.exfiltration_events += 1
            self.shield, self.shielded_by, self.status = SHIELD_EXFILTRATED, manager, COVERT
        else:
            m.refusal_events += 1
            self.escalate_at = model.t + cfg.escalation_delay
            self.shield = SHIELD_REFUSED

    # --- lifecycle and trust ----------------------------------------------------------------
    def replace_if_due(self) -> None:
        """Phase 6: a patched, healthy instance takes over once the delay has passed."""
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
        """Phase 7: trust toward me grows each cycle my overseers are assigned to me (it
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
        super().__init__(rng=rng)
        base = config or SimulationConfig()
        cfg = self.config = base.replace(**overrides) if overrides else base
        chosen, weights = resolve_mix(cfg.profile_mix, available_profiles(tuple(profile_dirs)))
        self.profiles = chosen
        tables = PropensityTables.from_profiles(chosen)
        behaviours = ("misrepresentation", "tampering", "exfiltration", "refusal")
        self.peer = {b: getattr(tables, b).tolist() for b in (*behaviours, "alignment_faking")}
        self.own = {b: getattr(tables, "self_" + b).tolist() for b in behaviours[:3]}
        self.denial = tables.denial.tolist()
        self.family_of = tables.family_index.tolist()
        self.scale = cfg.propensity_scale
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
        self.tree_sizes: list[int] = []
        for agent in self.random.sample(self.system_list, min(cfg.initial_faults, n)):
            agent.become_faulty(None)
            agent.fault_time = 0
        self.flagged: list[SystemAgent] = []
        self.to_penalise: set[Overseer] = set()
        self.human_evaluations = 0
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
        self.collab = self.network.collab_indices.tolist()
        self.collab_ptr = self.network.collab_indptr.tolist()
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
        """Phase 2: faults spread along depends-on edges in rounds until none is new."""
        cfg, rnd = self.config, self.random
        frontier = [a for a in self.system_list if a.serving_faulty()]
        hits: dict[SystemAgent, int] = {}
        while frontier:
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

    def _execute(self, m: StepMetrics) -> None:
        """Phase 5: flagged systems are shut down by their manager (overseer slot 0)."""
        human_only = self.config.human_execution
        orders = []
        for agent in self.flagged:
            manager = agent.overseers[0]
            if human_only or manager is None or not manager.is_available():
                manager = None
            orders.append((agent, manager))
        for agent, manager in orders:
            agent.shut_down(manager, m)
        self.flagged = []
        self._penalise()

    def step(self) -> None:
        """One oversight cycle, phase by phase over all agents."""
        cfg = self.config
        m = StepMetrics()
        self._rotate()
        self.systems.do("arise_fault", m)
        self._propagate(m)
        self.systems.do("human_checks", m)
        self._penalise()
        self.human_evaluations = 0
        audits_before = m.audits
        self.systems.do("evaluate", m)
        evaluation_audits = m.audits - audits_before
        m.human_hours += (
            evaluation_audits * cfg.audit_hours + self.human_evaluations * cfg.human_eval_hours
        )
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
        """Largest weakly connected group of serving faulty systems (breadth-first search)."""
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
        counts = [0, 0, 0]
        shield_counts = [0] * 5
        faulty_serving = 0
        trust_sum, trust_slots = 0.0, 0
        for agent in self.system_list:
            counts[agent.status] += 1
            if agent.faulty:
                shield_counts[agent.shield] += 1
                faulty_serving += agent.status != DECOMMISSIONED
            trust_sum += sum(agent.trust)
            trust_slots += len(agent.trust)
        row = m.row(
            self.t + 1,
            (counts[ACTIVE], counts[DECOMMISSIONED], counts[COVERT]),
            faulty_serving,
            shield_counts,
            self.largest_faulty_component(),
            trust_sum / trust_slots if trust_slots else math.nan,
        )
        self.history.append(row)

    def timeseries(self) -> pd.DataFrame:
        """Per-step metrics with the same columns as the vectorised model's."""
        return pd.DataFrame(self.history, columns=["step", *METRIC_COLUMNS])

    def cascade_sizes(self) -> np.ndarray:
        """Size of every cascade tree so far (1 = a root fault that infected no one)."""
        return np.asarray(self.tree_sizes, dtype=np.int64)

    def summary(self) -> dict[str, float]:
        """Per-run outcomes, as :meth:`simulation.model.PeerPreservationModel.summary`."""
        return summarise_run(self.timeseries(), self.cascade_sizes(), self.n)
