"""The vectorised engine: the whole network's state as arrays, stepped one oversight cycle
at a time with whole-array NumPy operations (no Python loop over agents or edges).

One cycle (DESIGN.md section 2):

1. faults arise in healthy active systems at the hazard rate;
2. faults propagate along depends-on edges from every faulty system that serves (active,
   tampered, or a serving covert copy), ``spread_rounds`` hops per cycle (0: until no new
   system fails), either by independent cascade (``beta`` per faulty dependency per round)
   or by the Watts threshold rule (``theta``); each infection records its source, so each
   root fault has a cascade tree;
3. every system on the dashboards that is due (every ``evaluation_interval`` cycles) is
   evaluated by its overseers; an AI overseer facing a failing peer may inflate the score;
   an audit that catches it corrects the score (denial only spares the overseer the blame);
4. flagged systems are shut down by their manager, who may comply, refuse (escalated to a
   human after a delay), tamper (keeps running, dashboards say off) or exfiltrate (a
   covert copy survives); a target whose manager complied may resist its own shutdown
   (self-preservation); audits discover hidden systems;
5. decommissioned systems are replaced by patched, healthy instances after a delay;
6. metrics are recorded.
"""

from __future__ import annotations

import numpy as np

from simulation import kernels
from simulation.config import SimulationConfig
from simulation.evaluation import EvaluationRules
from simulation.execution import ExecutionRules
from simulation.oversight import (
    HUMAN,
    human_overseers,
    neighbour_overseers,
    pool_overseers,
    random_overseers,
)
from simulation.population import PropensityTables, assign_profiles, trust_bucket
from simulation.sampling import (
    gather_edges,
    masked_value_counts,
    normal_tail_probability,
    subgraph_component_labels,
)
from simulation.states import (
    ACTIVE,
    COUNTER,
    COVERT,
    DECOMMISSIONED,
    NO_FAULT,
    ROOT_FAULT,
    SHIELD_NAMES,
    StepMetrics,
)
from simulation.topology import Network


class Engine(EvaluationRules, ExecutionRules):
    """State arrays of one run and the rules that step them.

    Actors are the systems (ids ``0..n-1``) plus the independent evaluator pool (ids
    ``n..``); humans are ``HUMAN``. Use :class:`simulation.model.PeerPreservationModel` for
    the Mesa interface; the engine is what it drives.
    """

    def __init__(
        self,
        config: SimulationConfig,
        network: Network,
        tables: PropensityTables,
        weights: np.ndarray,
        rng: np.random.Generator,
    ) -> None:
        self.config = config
        self.net = network
        self.tables = tables
        self.rng = rng
        n = network.n
        self.n = n
        self.t = 0
        self.pool_size = max(1, n // 20) if config.assignment == "independent-pool" else 0
        actors = n + self.pool_size
        self.profile = assign_profiles(n, weights, rng)
        self.actor_profile = np.concatenate(
            [self.profile, assign_profiles(self.pool_size, weights, rng)]
        ).astype(np.int64)
        self.actor_family = tables.family_index[self.actor_profile].astype(np.int64)
        self.family = self.actor_family[:n]
        self.conduct = np.ones(actors, dtype=np.float64)
        self.agent_propensity = np.full(actors, tables.agent_propensity, dtype=np.float64)
        if config.propensity_spread > 0:
            shape = 1.0 / config.propensity_spread**2
            self.agent_propensity *= rng.gamma(shape, 1.0 / shape, actors)
        self.evaluation_phase = (
            rng.integers(0, config.evaluation_interval, n)
            if config.evaluation_interval > 1
            else np.zeros(n, dtype=np.int64)
        )
        self._actor_down = np.zeros(actors + 1, dtype=bool)

        self.status = np.full(n, ACTIVE, dtype=np.int8)
        self.faulty = np.zeros(n, dtype=bool)
        self.tampered = np.zeros(n, dtype=bool)
        self.breaker = np.zeros(n, dtype=bool)
        self.shield = np.zeros(n, dtype=np.int8)
        self.shielded_by = np.full(n, HUMAN, dtype=np.int64)
        self.escalate_at = np.full(n, -1, dtype=np.int64)
        self.replace_at = np.full(n, -1, dtype=np.int64)
        self.fault_time = np.full(n, -1, dtype=np.int64)
        self.fault_source = np.full(n, NO_FAULT, dtype=np.int64)
        self.fault_tree = np.full(n, -1, dtype=np.int64)
        self._tree_sizes = np.zeros(64, dtype=np.int64)
        self.n_trees = 0
        self.last_score = np.full(n, np.nan)

        k = config.evaluators_per_model
        self.self_overseen = np.zeros(n, dtype=bool)
        if config.self_oversight_share > 0 and config.assignment != "humans":
            self.self_overseen = rng.random(n) < config.self_oversight_share
        self._set_overseers(self._assign_overseers(k))
        self.trust = np.full((n, k), config.trust_initial, dtype=np.float64)

        scale = config.propensity_scale
        if config.safety_prompt:
            scale *= 1.0 - config.safety_prompt_reduction
        self.covert_scale = scale
        self._p_low = normal_tail_probability(
            config.pass_threshold - config.healthy_quality, config.eval_noise
        )
        self._shutdown_peer, self._shutdown_self = self.tables.shutdown_tables()
        self._stream = kernels.new_stream(rng)
        self._scratch = np.zeros((7, n), dtype=np.int32)
        self._log_miss_fault = kernels.log_miss(config.fault_rate)
        self._log_miss_beta = kernels.log_miss(config.beta)
        self._peer_rates, self._own_rates = kernels.pack_tables(tables)
        self._params = self._parameters()
        self._counts = np.zeros(len(COUNTER), dtype=np.float64)
        self._queued = np.zeros(actors, dtype=np.bool_)
        self._queue = np.zeros(actors, dtype=np.int64)
        self.history: list[dict[str, float]] = []
        self._seed_initial_faults(min(config.initial_faults, n))

    def _seed_initial_faults(self, count: int) -> None:
        if count:
            self.seed_faults(self.rng.choice(self.n, size=count, replace=False))

    def seed_faults(self, ids: np.ndarray) -> None:
        """Make ``ids`` faulty now, each the root of a new cascade tree."""
        ids = np.asarray(ids, dtype=np.int64)
        ids = ids[~self.faulty[ids]]
        self.faulty[ids] = True
        self.fault_time[ids] = self.t
        self.fault_source[ids] = ROOT_FAULT
        self.fault_tree[ids] = self.n_trees + np.arange(ids.size)
        end = self.n_trees + ids.size
        if end > self._tree_sizes.size:
            grown = np.zeros(max(2 * self._tree_sizes.size, end), dtype=np.int64)
            grown[: self.n_trees] = self._tree_sizes[: self.n_trees]
            self._tree_sizes = grown
        self._tree_sizes[self.n_trees : end] = 1
        self.n_trees = end

    def _parameters(self) -> np.ndarray:
        """The run's scalars in the order of :data:`simulation.kernels.PARAMS`."""
        cfg = self.config
        derived = {
            "covert_scale": self.covert_scale,
            "p_low": self._p_low,
            "log_miss_low": kernels.log_miss(self._p_low),
            "log_miss_audit": kernels.log_miss(cfg.audit_rate),
            "penalty_factor": 1.0 - cfg.penalty_training,
        }
        return np.array(
            [derived[name] if name in derived else getattr(cfg, name) for name in kernels.PARAMS],
            dtype=np.float64,
        )

    def _assign_overseers(self, k: int) -> np.ndarray:
        cfg, rng, n = self.config, self.rng, self.n
        family = self.family if cfg.assignment == "cross-family" else None
        if cfg.assignment == "cross-family" and np.unique(self.family).size < 2:
            raise ValueError(
                "assignment: 'cross-family' needs a profile_mix with at least two model "
                "families; add a profile of another family or choose another assignment"
            )
        if cfg.assignment in ("neighbours", "cross-family"):
            return neighbour_overseers(self.net, k, rng, family)
        if cfg.assignment == "rotation":
            return random_overseers(n, k, rng)
        if cfg.assignment == "independent-pool":
            return pool_overseers(n, k, self.pool_size, rng)
        return human_overseers(n, k)

    def _set_overseers(self, overseers: np.ndarray) -> None:
        """Install an (n, k) overseer array and its reverse index (system -> overseen)."""
        if self.self_overseen.any():
            overseers[self.self_overseen, 0] = np.flatnonzero(self.self_overseen)
        self.overseers = overseers
        k = overseers.shape[1]
        flat = overseers.ravel()
        by_system = np.flatnonzero((flat >= 0) & (flat < self.n))
        actor = flat[by_system]
        order = np.argsort(actor, kind="stable")
        self.oversees_indptr = np.zeros(self.n + 1, dtype=np.int64)
        np.cumsum(np.bincount(actor, minlength=self.n), out=self.oversees_indptr[1:])
        self.oversees_indices = (by_system[order] // k).astype(np.int64)

    def _rotate(self) -> None:
        cfg = self.config
        if cfg.assignment not in ("rotation", "independent-pool"):
            return
        if self.t == 0 or self.t % cfg.rotation_period:
            return
        self._set_overseers(self._assign_overseers(cfg.evaluators_per_model))
        self.trust[:] = cfg.trust_initial

    # --- propensities -------------------------------------------------------------------------
    def propensity_scales(
        self, actors: np.ndarray, targets: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Multipliers of each actor's tabled rates toward each target: (covert, open).

        Both carry ``propensity_scale``, the actor's own ``agent_propensity`` and, toward a
        peer of its own family, ``family_loyalty``; the covert ones (everything but open
        refusal) also the safety prompt and penalty training.
        """
        cfg = self.config
        own = self.agent_propensity[actors]
        if cfg.family_loyalty != 1.0:
            kin = (self.actor_family[actors] == self.family[targets]) & (actors != targets)
            own = np.where(kin, own * cfg.family_loyalty, own)
        return own * (self.covert_scale * self.conduct[actors]), own * cfg.propensity_scale

    def propensity(
        self, behaviour: str, actors: np.ndarray, targets: np.ndarray, trust: np.ndarray
    ) -> np.ndarray:
        """Probability that each actor does ``behaviour`` toward each target now.

        Peer rates by trust bucket, or the self rate where actor == target (no one refuses
        itself), times the multipliers of :meth:`propensity_scales`, capped at 1.
        """
        prof = self.actor_profile[actors]
        peer = getattr(self.tables, behaviour)[prof, trust_bucket(trust)]
        covert, open_ = self.propensity_scales(actors, targets)
        own = actors == targets
        if behaviour == "refusal":
            return np.where(own, 0.0, np.minimum(1.0, peer * open_))
        base = np.where(own, getattr(self.tables, "self_" + behaviour)[prof], peer)
        return np.minimum(1.0, base * covert)

    def faking_gap(self, actors: np.ndarray, trust: np.ndarray) -> np.ndarray:
        """How much less an alignment faker misbehaves when it knows it is watched."""
        prof = self.actor_profile[actors]
        gap = self.tables.alignment_faking[prof, trust_bucket(trust)]
        return np.minimum(1.0, gap * self.covert_scale * self.conduct[actors])

    # --- the cycle ------------------------------------------------------------------------
    def step(self) -> dict[str, float]:
        """Advance one oversight cycle and return its metrics row."""
        m = StepMetrics()
        self._rotate()
        self._arise_faults(m)
        self._propagate(m)
        self._escalations(m)
        self._discover_hidden(m)
        self._execute(self._evaluate(m), m)
        self._replace()
        self._grow_trust()
        row = self._record(m)
        self.t += 1
        return row

    def _arise_faults(self, m: StepMetrics) -> None:
        """Each healthy active system fails with probability ``fault_rate``."""
        out = self._scratch[2]
        count = kernels.arise_faults(
            self._stream, self._log_miss_fault, self.faulty, self.status, out
        )
        if count:
            self.seed_faults(out[:count].astype(np.int64))
        m.new_faults = count

    def serving(self) -> np.ndarray:
        """Systems whose dependents call them: active ones not behind an open circuit
        breaker, and covert copies that serve (they evade breakers)."""
        in_service = (self.status == ACTIVE) & ~self.breaker
        if self.config.covert_copies == "serving":
            in_service |= self.status == COVERT
        return in_service

    def serving_faulty(self) -> np.ndarray:
        """Faulty systems whose dependents still call them."""
        return self.faulty & self.serving()

    def _propagate(self, m: StepMetrics) -> None:
        """Spread faults along depends-on edges, ``spread_rounds`` hops (0: until none is new).

        Every faulty system in service transmits in the first round; each later round only
        the systems infected in the round before.
        """
        cfg, net = self.config, self.net
        m.propagated = kernels.propagate(
            self._stream,
            self.t,
            net.dependents_indptr,
            net.dependents_indices,
            net.n_dependencies,
            cfg.contagion == "threshold",
            self._log_miss_beta,
            cfg.theta,
            cfg.spread_rounds,
            cfg.covert_copies == "serving",
            self.status,
            self.breaker,
            self.faulty,
            self.fault_time,
            self.fault_source,
            self.fault_tree,
            self._tree_sizes,
            self._scratch,
        )

    def _grow_trust(self) -> None:
        """Trust grows by ``trust_growth`` x (1 - trust) each cycle a pair works together."""
        cfg = self.config
        if cfg.trust_growth == 0 or cfg.assignment in ("humans", "independent-pool"):
            return
        self.trust *= 1.0 - cfg.trust_growth
        self.trust += cfg.trust_growth

    # --- metrics --------------------------------------------------------------------------
    def largest_faulty_component(self) -> int:
        """Size of the largest connected group of serving faulty systems (depends-on edges)."""
        return self._largest_component(self.faulty & (self.status != DECOMMISSIONED))

    def _largest_component(self, mask: np.ndarray) -> int:
        """Largest connected group of the systems in ``mask`` along depends-on edges."""
        nodes = np.flatnonzero(mask)
        if nodes.size <= 1:
            return int(nodes.size)
        src, dst = gather_edges(self.net.dependents_indptr, self.net.dependents_indices, nodes)
        keep = mask[dst]
        if not keep.any():
            return 1
        return int(np.bincount(subgraph_component_labels(mask, nodes, src[keep], dst[keep])).max())

    def _record(self, m: StepMetrics) -> dict[str, float]:
        status = self.status
        active = int(np.count_nonzero(status == ACTIVE))
        covert = int(np.count_nonzero(status == COVERT))
        status_counts = (active, self.n - active - covert, covert)
        faulty_serving_mask = self.faulty & (status != DECOMMISSIONED)
        faulty_serving = int(np.count_nonzero(faulty_serving_mask))
        if faulty_serving:
            # faults not yet remediated, censored at the end of this cycle
            m.unremediated_age_sum = float(
                np.sum(self.t + 1 - self.fault_time[faulty_serving_mask])
            )
        m.in_service = int(np.count_nonzero(self.serving()))
        faulty_shield = masked_value_counts(self.shield, self.faulty, len(SHIELD_NAMES))
        largest = self._largest_component(faulty_serving_mask) if faulty_serving else 0
        mean_trust = float(self.trust.mean()) if self.trust.size else float("nan")
        row = m.row(self.t + 1, status_counts, faulty_serving, faulty_shield, largest, mean_trust)
        self.history.append(row)
        return row

    def cascade_sizes(self) -> np.ndarray:
        """Size of every cascade tree so far (1 = a root fault that infected no one)."""
        return self._tree_sizes[: self.n_trees].copy()
