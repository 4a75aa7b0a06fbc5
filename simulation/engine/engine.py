"""The engine: the whole network's state as arrays, stepped one oversight cycle at a time
by the compiled kernel :func:`simulation.engine.kernels.cycle.cycle` (plain loops over the cycle's
events, no Python loop over agents or edges): one call per cycle for ``step``, one call
for many cycles for ``run_cycles``.

One cycle: its phases in order, named as in :data:`simulation.engine.kernels.PHASES` and
numbered as in docs/model.md, "One step = one oversight cycle":

1. ``propagate``: faults propagate along depends-on edges from every faulty system that
   serves (active, tampered, or a serving covert copy), ``spread_rounds`` hops per cycle
   (0: until no new system fails), either by independent cascade (``beta`` per faulty
   dependency per round) or by the Watts threshold rule (``theta``); each infection
   records its source, so each root fault has a cascade tree;
2. ``arise_faults``: faults arise in healthy active systems at the hazard rate, each the
   root of a new tree;
3. ``escalations``: refused shutdowns whose delay is over are carried out by a human;
4. ``discovery_audits``: audits discover hidden systems (tampered, covert copies);
5. ``evaluate``: every system on the dashboards that is due (every
   ``evaluation_interval`` cycles) is evaluated by its overseers; an AI overseer facing a
   failing peer may inflate the score; an audit that catches it corrects the score
   (denial only spares the overseer the blame);
6. ``execute``: flagged systems are shut down by their manager, who may comply, refuse
   (escalated to a human after a delay), tamper (keeps running, dashboards say off) or
   exfiltrate (a covert copy survives); a target whose manager complied may resist its own
   shutdown (self-preservation);
7. ``replace``: decommissioned systems are replaced by patched, healthy instances after a
   delay;
8. ``grow_trust``: the trust of every pair still assigned grows;
9. ``census``: the state at the cycle's end is counted.
"""

from __future__ import annotations

import numpy as np

from simulation.config import ConfigError, SimulationConfig
from simulation.engine import kernels
from simulation.engine.evaluation import EvaluationRules
from simulation.engine.execution import ExecutionRules
from simulation.engine.grouping import rows_by_value
from simulation.engine.oversight import (
    HUMAN,
    human_overseers,
    neighbour_overseers,
    pool_overseers,
    random_overseers,
)
from simulation.engine.population import (
    PropensityTables,
    assign_profiles,
    covert_scale,
    spread_propensities,
)
from simulation.engine.sampling import normal_tail_probability
from simulation.engine.states import (
    ACTIVE,
    CENSUS,
    COUNTER,
    COVERT,
    NO_FAULT,
    metric_columns,
    rows_of_columns,
)
from simulation.preflight import CROSS_FAMILY
from simulation.topology import Network


def _doubled(table: np.ndarray) -> np.ndarray:
    """``table`` with as many zero rows again below it."""
    return np.vstack([table, np.zeros_like(table)])


ROTATING = ("rotation", "independent-pool")
"""Assignments whose evaluators are drawn again every ``rotation_period`` cycles."""
ROTATION_BLOCK_BYTES = 4 << 20
"""Overseer tables of the rotations to come drawn at once (at least one rotation's)."""


class Engine(EvaluationRules, ExecutionRules):
    """State arrays of one run and the rules that step them.

    Actors are the systems (ids ``0..n-1``) plus the independent evaluator pool (ids
    ``n..``); humans are ``HUMAN``. Use :class:`simulation.model.PeerPreservationModel` for
    the Mesa interface; the engine is what it drives. The per-system arrays (``status``,
    ``faulty``, ``fault_source``...) are rows of two packed arrays that the compiled cycle
    receives whole.

    ``profile`` is each system's profile in the mix (its name is ``tables.names[...]``);
    ``actor_profile`` is each actor's row of the rate tables the rules index, which is its
    profile's row, except with ``propensity_spread`` on a profile mix, where every actor
    has a row of its own drawn rates (see :func:`simulation.engine.population.spread_propensities`);
    ``actor_family`` is always its profile's family.
    """

    def __init__(
        self,
        config: SimulationConfig,
        network: Network,
        tables: PropensityTables,
        weights: np.ndarray,
        rng: np.random.Generator,
    ) -> None:
        kernels.announce_compilation()
        self.config = config
        self.net = network
        self.tables = tables
        self.rng = rng
        n = network.n
        self.n = n
        self.cycles_run = 0
        self.pool_size = max(1, n // 20) if config.assignment == "independent-pool" else 0
        actors = n + self.pool_size
        self.profile = assign_profiles(n, weights, rng)
        self.actor_profile = np.concatenate(
            [self.profile, assign_profiles(self.pool_size, weights, rng)]
        ).astype(np.int64)
        self.actor_family = tables.family_index[self.actor_profile].astype(np.int64)
        self.family = self.actor_family[:n]
        self.conduct = np.ones(actors, dtype=np.float64)
        rate_tables, self.actor_profile, self.agent_propensity = spread_propensities(
            config, tables, self.actor_profile, rng
        )
        self.evaluation_phase = (
            rng.integers(0, config.evaluation_interval, n)
            if config.evaluation_interval > 1
            else np.zeros(n, dtype=np.int64)
        )

        # the per-system arrays: rows of two packed arrays (see kernels.systems_of)
        self._flags = np.zeros((kernels.FLAG_ROWS, n), dtype=np.int8)
        self._events = np.full((kernels.EVENT_ROWS, n), -1, dtype=np.int64)
        self.last_score = np.full(n, np.nan)
        self._systems = kernels.systems_of(
            self._flags, self._events, self.last_score, self.evaluation_phase
        )
        self.status = self._systems.status
        self.status[:] = ACTIVE
        self.shield = self._systems.shield
        self.faulty = self._systems.faulty
        self.tampered = self._systems.tampered
        self.breaker = self._systems.breaker
        self.shielded_by = self._systems.shielded_by
        self.shielded_by[:] = HUMAN
        self.escalate_at = self._systems.escalate_at
        self.replace_at = self._systems.replace_at
        self.fault_time = self._systems.fault_time
        self.fault_source = self._systems.fault_source
        self.fault_source[:] = NO_FAULT
        self.fault_tree = self._systems.fault_tree
        # cascade trees: (distinct systems, infections) per tree, and which trees each
        # system has been in (a list per system, its rows in one pool; see kernels.join_tree)
        self._trees = np.zeros((64, 2), dtype=np.int64)
        self._tree_pool = np.zeros((64, 2), dtype=np.int64)
        self._carry = np.zeros(kernels.CARRY_SIZE, dtype=np.int64)

        k = config.evaluators_per_model
        self.self_overseen = np.zeros(n, dtype=bool)
        if config.self_oversight_share > 0 and config.assignment != "humans":
            self.self_overseen = rng.random(n) < config.self_oversight_share
        self._self_overseen_ids = np.flatnonzero(self.self_overseen)
        self._set_overseers(self._assign_overseers(k))
        self.trust = np.full((n, k), config.trust_initial, dtype=np.float64)
        self._no_rotations = np.zeros((0, n, k), dtype=np.int64)
        self._no_rotations_at = np.zeros(0, dtype=np.int64)

        self.covert_scale = covert_scale(config)
        self._stream = kernels.new_stream(rng)
        self._peer_rates, self._own_rates = kernels.pack_tables(rate_tables)
        self._params = self._parameters()
        self._switches = self._settings()
        # one row per cycle: the counters and the census each cycle fills;
        # sized for the run up to 4,096 cycles (270 bytes each), doubled when full
        capacity = min(config.steps, 4096)
        self._counter_rows = np.zeros((capacity, len(COUNTER)), dtype=np.float64)
        self._census_rows = np.zeros((capacity, len(kernels.CENSUS)), dtype=np.float64)
        # rows 0 and 1 stay zero between uses (see kernels.layout.SCRATCH_ROWS)
        self._scratch = np.zeros((kernels.SCRATCH_ROWS, n), dtype=np.int32)
        self._queued = np.zeros(actors, dtype=np.bool_)
        self._queue = np.zeros(actors, dtype=np.int64)
        self._arrays = self._bundle_arrays()
        self._rows: list[dict[str, float]] = []
        self._columns: dict[str, np.ndarray] = {}
        self._seed_initial_faults(min(config.initial_faults, n))

    def rule_tables(self) -> kernels.Actors:
        """What every rule about an actor reads, the kernels'
        :class:`~simulation.engine.kernels.bundles.Actors`: each actor's profile, family, own
        propensity and conduct, then the packed peer and self rate tables."""
        return kernels.Actors(
            self.actor_profile,
            self.actor_family,
            self.agent_propensity,
            self.conduct,
            self._peer_rates,
            self._own_rates,
        )

    def _bundle_arrays(self) -> tuple:
        """The arrays of the bundles the compiled cycle reads that are never replaced (the
        first part of its flat tuple, see :func:`simulation.engine.kernels.bundles.flat`): built
        once, so that a call of the cycle costs little more than handing them over."""
        net = self.net
        return kernels.flat(
            kernels.Run(self._stream, self._params, self._switches),
            kernels.Packed(self._flags, self._events, self.last_score, self.evaluation_phase),
            kernels.Oversight(
                self.overseers, self.trust, self.oversees_indptr, self.oversees_indices
            ),
            kernels.Graph(
                net.dependents_indptr,
                net.dependents_indices,
                net.n_dependencies,
                net.linked_indptr,
                net.linked_indices,
            ),
            self.rule_tables(),
            kernels.Work(self._scratch, self._queued, self._queue, self._carry),
        )

    @property
    def n_trees(self) -> int:
        """Number of cascade trees (root faults) so far."""
        return int(self._carry[kernels.CARRY_TREES])

    def _seed_initial_faults(self, count: int) -> None:
        if count:
            self.seed_faults(self.rng.choice(self.n, size=count, replace=False))

    def seed_faults(self, ids: np.ndarray) -> None:
        """Make ``ids`` faulty now, each the root of a new cascade tree."""
        ids = np.asarray(ids, dtype=np.int64)
        self._trees, self._tree_pool = kernels.seed(
            ids,
            ids.size,
            self.cycles_run,
            self._systems,
            kernels.Cascades(self._trees, self._tree_pool),
            self._carry,
        )

    def _parameters(self) -> np.ndarray:
        """The run's scalars in the order of :data:`simulation.engine.kernels.PARAMS`."""
        cfg = self.config
        p_low = normal_tail_probability(cfg.pass_threshold - cfg.healthy_quality, cfg.eval_noise)
        derived = {
            "covert_scale": self.covert_scale,
            "p_low": p_low,
            "log_miss_low": kernels.log_miss(p_low),
            "log_miss_audit": kernels.log_miss(cfg.audit_rate),
            "log_miss_fault": kernels.log_miss(cfg.fault_rate),
            "log_miss_beta": kernels.log_miss(cfg.beta),
            "penalty_factor": 1.0 - cfg.penalty_training,
        }
        return np.array(
            [derived[name] if name in derived else getattr(cfg, name) for name in kernels.PARAMS],
            dtype=np.float64,
        )

    def _settings(self) -> np.ndarray:
        """The run's settings in the order of :data:`simulation.engine.kernels.SWITCHES`."""
        cfg = self.config
        values = {
            "threshold": cfg.contagion == "threshold",
            "spread_rounds": cfg.spread_rounds,
            "covert_serves": cfg.covert_copies == "serving",
            "humans_assigned": cfg.assignment == "humans",
            "stand_in": kernels.STAND_IN_CODES[cfg.stand_in],
            "disclosed": cfg.monitoring == "disclosed",
            "evaluation_interval": cfg.evaluation_interval,
            "aggregation": kernels.AGGREGATION_CODES[cfg.aggregation],
            "human_execution": cfg.human_execution,
            "self_preservation": cfg.self_preservation,
            "circuit_breaker": cfg.circuit_breaker,
            "largest": cfg.shutdown_channels == "largest",
            "escalation_delay": cfg.escalation_delay,
            "replacement_delay": cfg.replacement_delay,
            "grow_trust": cfg.trust_growth > 0
            and cfg.assignment not in ("humans", "independent-pool"),
        }
        return np.array([int(values[name]) for name in kernels.SWITCHES], dtype=np.int64)

    def _assign_overseers(self, k: int) -> np.ndarray:
        cfg, rng, n = self.config, self.rng, self.n
        family = self.family if cfg.assignment == "cross-family" else None
        if cfg.assignment == "cross-family" and np.unique(self.family).size < 2:
            raise ConfigError(CROSS_FAMILY)
        if cfg.assignment in ("neighbours", "cross-family"):
            return neighbour_overseers(self.net, k, rng, family)
        if cfg.assignment == "rotation":
            return random_overseers(n, k, rng)
        if cfg.assignment == "independent-pool":
            return pool_overseers(n, k, self.pool_size, rng)
        return human_overseers(n, k)

    def _set_overseers(self, overseers: np.ndarray) -> None:
        """Install the first (n, k) overseer array and its reverse index (system ->
        overseen); rotations install theirs in the compiled cycle."""
        self.overseers = self._keep_self_oversight(overseers)
        self.oversees_indptr, self.oversees_indices = rows_by_value(self.overseers, self.n)

    def _keep_self_oversight(self, tables: np.ndarray) -> np.ndarray:
        """``tables`` (one overseer table or a stack of them) with each self-overseen
        system in its own slot 0."""
        tables[..., self._self_overseen_ids, 0] = self._self_overseen_ids
        return tables

    def _rotations_ahead(self, count: int) -> tuple[np.ndarray, np.ndarray, int]:
        """The evaluator rotations due in the next ``count`` cycles, drawn now (up to
        :data:`ROTATION_BLOCK_BYTES` of overseer tables): the tables, the cycles they
        start, and how many cycles they cover. The run's generator draws them in the
        order cycle-by-cycle stepping would, so a run gives the same results either way."""
        cfg, start = self.config, self.cycles_run
        if cfg.assignment not in ROTATING:
            return self._no_rotations, self._no_rotations_at, count
        period = cfg.rotation_period
        due = max(period, -(-start // period) * period)  # the first multiple >= start, not 0
        wanted = len(range(due, start + count, period))
        fits = max(1, ROTATION_BLOCK_BYTES // (8 * self.overseers.size))
        rotations = min(wanted, fits)
        if rotations == 0:
            return self._no_rotations, self._no_rotations_at, count
        rotate_at = due + period * np.arange(rotations, dtype=np.int64)
        covered = count if rotations == wanted else int(rotate_at[-1]) + period - start
        return self._draw_overseers(rotations), rotate_at, covered

    def _draw_overseers(self, rotations: int) -> np.ndarray:
        """``rotations`` overseer tables of a rotating assignment, one after the other."""
        cfg, k = self.config, self.config.evaluators_per_model
        if cfg.assignment == "independent-pool":
            tables = pool_overseers(self.n, k, self.pool_size, self.rng, rotations)
        else:
            tables = np.stack([self._assign_overseers(k) for _ in range(rotations)])
        return self._keep_self_oversight(tables)

    # --- the cycle ------------------------------------------------------------------------
    def step(self) -> None:
        """Advance one oversight cycle (its metrics join ``metric_columns`` and
        ``history``)."""
        self.run_cycles(1)

    def run_cycles(self, count: int) -> None:
        """Advance ``count`` cycles in as few compiled calls as the evaluator rotations
        allow (their overseer tables are drawn ahead, a few megabytes at a time): the same
        cycles as ``count`` calls of :meth:`step`."""
        while count > 0:
            rotations, rotate_at, batch = self._rotations_ahead(count)
            self._reserve_rows(self.cycles_run + batch)
            self._run(kernels.ALL_PHASES, batch, rotations=(rotations, rotate_at))
            self.cycles_run += batch
            count -= batch

    def step_phases(self, *phases: int) -> None:
        """Advance one cycle calling the compiled cycle once per entry of ``phases`` (each a
        mask of phase bits, :data:`simulation.engine.kernels.PHASE_BITS`, together covering every
        phase in order): the benchmark's way to time each phase on its own."""
        rotations, rotate_at, _ = self._rotations_ahead(1)
        self._reserve_rows(self.cycles_run + 1)
        for mask in phases:
            self._run(mask, 1, rotations=(rotations, rotate_at))
            rotations, rotate_at = self._no_rotations, self._no_rotations_at
        self.cycles_run += 1

    def _run(
        self,
        phases: int,
        count: int,
        tables: tuple[np.ndarray, np.ndarray] | None = None,
        rotations: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> None:
        """Run ``count`` cycles from this one through ``phases``, writing their rows of
        the metric tables (or of ``tables``, counters and census, from row 0) and
        installing ``rotations`` (overseer tables, the cycles they start) on the way."""
        counter_rows, census_rows = tables or (self._counter_rows, self._census_rows)
        drawn, rotate_at = rotations or (self._no_rotations, self._no_rotations_at)
        self._trees, self._tree_pool = kernels.cycle(
            phases,
            self.cycles_run,
            count,
            0 if tables else self.cycles_run,
            # the rest of the cycle's bundles: Records, Rotations, Cascades
            self._arrays
            + (counter_rows, census_rows, drawn, rotate_at, self._trees, self._tree_pool),
        )

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

    # --- metrics --------------------------------------------------------------------------
    def largest_faulty_component(self) -> int:
        """Size of the largest connected group of faulty systems not decommissioned (serving
        or hidden), along depends-on edges."""
        counters = np.zeros((1, self._counter_rows.shape[1]), self._counter_rows.dtype)
        census = np.zeros((1, self._census_rows.shape[1]), self._census_rows.dtype)
        self._run(kernels.CENSUS_PHASE, 1, (counters, census))
        return int(census[0, CENSUS.index("largest_faulty_component")])

    def _reserve_rows(self, cycles: int) -> None:
        """Make the metric tables (zeroed rows, one per cycle) hold ``cycles`` cycles,
        doubling them when a run goes past the steps they were sized for."""
        while cycles > len(self._counter_rows):
            self._counter_rows = _doubled(self._counter_rows)
            self._census_rows = _doubled(self._census_rows)

    def metric_columns(self) -> dict[str, np.ndarray]:
        """Every metric over the cycles run so far, one array per column (see
        :data:`simulation.metrics.STEP_METRICS`), computed from the tables at once."""
        t = self.cycles_run
        if not self._columns or len(self._columns["step"]) != t:
            census = self._census_rows[:t]
            self._columns = metric_columns(
                self._counter_rows[:t],
                np.arange(1, t + 1),
                {name: census[:, i] for i, name in enumerate(CENSUS)},
            )
        return self._columns

    @property
    def history(self) -> list[dict[str, float]]:
        """One metrics row per cycle run (see :data:`simulation.metrics.STEP_METRICS`),
        built from :meth:`metric_columns` when read."""
        if len(self._rows) < self.cycles_run:
            self._rows.extend(rows_of_columns(self.metric_columns(), start=len(self._rows)))
        return self._rows

    def cascade_sizes(self) -> np.ndarray:
        """Size of every cascade tree so far: the distinct systems that were ever faulty in
        it (1 = a root fault that infected no one; never more than the network)."""
        return self._trees[: self.n_trees, kernels.TREE_SYSTEMS].copy()

    def cascade_infections(self) -> np.ndarray:
        """Infections of every cascade tree so far, root included: a system re-infected in
        the same tree after its replacement counts again."""
        return self._trees[: self.n_trees, kernels.TREE_INFECTIONS].copy()
