"""The Mesa model of peer-preservation cascades: one object every front end drives.

The CLI, sweeps, the interactive app and notebooks all build a
:class:`PeerPreservationModel` and call ``step()``. State lives in NumPy arrays inside an
:class:`~simulation.engine.Engine`; Mesa agents are views onto it.

Example:
    >>> model = PeerPreservationModel(n_systems=200, steps=10, rng=42)
    >>> model.run()
    >>> len(model.datacollector.get_model_vars_dataframe())
    10
"""

from __future__ import annotations

import contextlib
import heapq
import numbers
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import mesa
import numpy as np
import pandas as pd
from mesa.time import EventGenerator, Priority, Schedule

from simulation.agents import AISystem
from simulation.calibration import calibration_seed
from simulation.config import ConfigError, SimulationConfig
from simulation.engine import Engine, kernels
from simulation.engine.population import population
from simulation.metrics import METRIC_COLUMNS, check_names, run_outcomes
from simulation.preflight import initial_faults_problem
from simulation.profiles import available_profiles
from simulation.topology import network_for

DEFAULT_AGENT_VIEW_LIMIT = 5_000_000
PROGRESS_SECONDS = 0.1
"""How long ``run(progress=...)`` runs between two reports of its progress."""


class RowCollector(mesa.DataCollector):
    """A DataCollector of every metric column that reads the engine's rows as they are.

    Mesa's own ``collect`` calls one reporter per column and deep-copies each value, which
    costs more than a compiled cycle of 1,000 systems. Here ``collect`` notes which cycle
    was collected and ``model_vars`` is built from the engine's rows of those cycles when
    it is read, so collecting costs one list append per cycle.
    """

    def __init__(self) -> None:
        self._model: PeerPreservationModel | None = None
        self._cycles: list[int] = []
        super().__init__()
        # registered directly: Mesa's registration reads ``model_vars`` once per column
        self.model_reporters = dict.fromkeys(METRIC_COLUMNS, _missing)

    @property
    def model_vars(self) -> dict[str, list[float]]:
        """Each metric's value in every collected cycle (NaN before the first cycle)."""
        history = self._model.engine.history if self._model is not None else []
        rows = [history[cycle - 1] if cycle else {} for cycle in self._cycles]
        return {name: [row.get(name, np.nan) for row in rows] for name in METRIC_COLUMNS}

    @model_vars.setter
    def model_vars(self, _: dict) -> None:
        """Mesa's ``__init__`` assigns an empty dict; the columns come from the rows."""

    def collect(self, model: PeerPreservationModel) -> None:
        """Note the cycle just run as collected."""
        self.collect_cycles(model, 1)

    def collect_cycles(self, model: PeerPreservationModel, count: int) -> None:
        """Note the last ``count`` cycles run as collected (``model.run`` runs many at once)."""
        if hasattr(self, "_collection_steps"):
            first = model.time - count + 1
            self._collection_steps.extend(map(first.__add__, range(count)))
        self._model = model
        last = model.engine.cycles_run
        self._cycles.extend(range(last - count + 1, last + 1))


def _missing(model: PeerPreservationModel) -> float:
    """The reporter Mesa sees for each column (``RowCollector.collect`` reads the row)."""
    return np.nan


class PeerPreservationModel(mesa.Model):
    """AI systems that evaluate, manage and call each other, some shielding faulty peers.

    Args:
        config: a full configuration; keyword arguments override its fields, so
            ``PeerPreservationModel(n_systems=500, audit_rate=0.2, rng=1)`` works the way
            ``mesa.batch_run`` calls it.
        rng: seed (or Generator) of the run's single random number generator. With
            ``calibration = "posterior"`` the profiles' numbers are drawn from separate
            streams of :attr:`calibration_seed`, which this argument also decides: an
            integer seed is itself the calibration seed (so runs of one seed draw alike,
            whatever else differs); a Generator gives a hash of its state as passed; None
            gives fresh entropy (see :func:`simulation.calibration.calibration_seed`).
        agent_views: one Mesa agent per system: True creates them now, None (default)
            the first time ``agents`` is read (up to 5,000,000 systems; beyond that the
            arrays are the only view, to keep memory low), False never.
        profile_dirs: extra folders of profile TOML files.
        scenario: a Mesa scenario (as SolaraViz passes on Reset); used for its seed only
            when ``rng`` is not given.
    """

    def __init__(
        self,
        config: SimulationConfig | None = None,
        *,
        rng: Any = None,
        agent_views: bool | None = None,
        profile_dirs: tuple[Path, ...] = (),
        scenario: Any = None,
        **overrides: Any,
    ) -> None:
        kernels.announce_compilation()  # before the network's compiled builders compile
        # before Mesa draws from a given generator: the calibration draw reads its state
        given = getattr(scenario, "rng", None) if rng is None else rng
        self.calibration_seed = calibration_seed(given)
        # SolaraViz's Reset passes a Mesa ``scenario``; it only carries the seed here
        if rng is None and scenario is not None:
            super().__init__(scenario=scenario)
        else:
            super().__init__(rng=rng)
        base = config or SimulationConfig()
        self.config = base.replace(**overrides) if overrides else base
        cfg = self.config
        chosen, weights, tables = population(
            cfg, available_profiles(tuple(profile_dirs)), self.calibration_seed
        )
        self.profiles = chosen
        network = network_for(cfg, self.rng)
        if cfg.topology == "file" and (
            problem := initial_faults_problem(cfg.initial_faults, network.n, cfg.graph_file)
        ):
            raise ConfigError(problem)
        if cfg.topology == "file" and network.n != cfg.n_systems:
            # the file decides the size; every report of this run says so
            self.config = cfg = cfg.replace(n_systems=network.n)
        self.network = network
        self.engine = Engine(cfg, network, tables, weights, self.rng)
        self._views_wanted = (
            network.n <= DEFAULT_AGENT_VIEW_LIMIT if agent_views is None else agent_views
        )
        if agent_views:
            self._create_agent_views()
        self.datacollector = RowCollector()
        self.running = True

    @property
    def last_metrics(self) -> dict[str, float]:
        """The metrics row of the last cycle run (empty before the first)."""
        history = self.engine.history
        return history[-1] if history else {}

    def _create_agent_views(self) -> None:
        """Create the Mesa agent views (one :class:`AISystem` per system) if they are
        wanted and not there yet. By default they are created the first time
        ``agents``, ``agents_by_type`` or ``agent_types`` is read: a run that never
        looks at them (a sweep, the app, most scripts) does not pay for a million Python
        objects."""
        if self._views_wanted:
            self._views_wanted = False
            AISystem.create_agents(self, self.network.n, list(range(self.network.n)))

    @property
    def agents(self) -> mesa.agent.AgentSet:
        """Every system's Mesa agent view (created on first use)."""
        self._create_agent_views()
        return super().agents

    @property
    def agents_by_type(self) -> dict[type, mesa.agent.AgentSet]:
        """Mesa's agents by type (created on first use)."""
        self._create_agent_views()
        return super().agents_by_type

    @property
    def agent_types(self) -> list[type]:
        """Mesa's agent types (created on first use)."""
        self._create_agent_views()
        return super().agent_types

    def _wrapped_step(self) -> None:
        """Mesa's ``model.step()``: advance time by one unit, running the events due.

        In the usual case the only event due is the model's own recurring step; it then
        runs directly and its event is moved one unit on, instead of Mesa popping it and
        creating and scheduling a new one (which costs a third of a compiled cycle of
        1,000 systems). Any other event pending, or a changed default schedule, takes
        Mesa's own path, so ``time``, ``steps`` and scheduled events behave the same.
        """
        schedule = self._default_schedule
        due = schedule._current_event
        events = self._event_list._events
        if (
            len(events) == 1
            and events[0] is due
            and due.time == self.time + 1
            and schedule._active
            and not schedule._paused
            and schedule.schedule.interval == 1.0
            and schedule.schedule.count is None
            and schedule.schedule.end is None
        ):
            self.time = due.time
            self._do_step()
            schedule._execution_count += 1
            due.time = self.time + 1
            heapq.heapify(events)  # the step may have scheduled events of its own
            return
        super()._wrapped_step()

    def step(self) -> None:
        """One oversight cycle; stops the model (``running = False``) after ``steps``."""
        self._engine_cycles(1)

    def run(self, progress: Any = None) -> None:
        """Step until ``config.steps`` cycles are done, calling ``progress(cycles_run)``
        as they go.

        The cycles run many to a compiled call (see :meth:`advance`): all of them at once,
        or with ``progress``, as many as take about a tenth of a second.
        """
        if not self.running:
            return
        with self._schedule_set_aside():
            batch = 1
            while self.running:
                todo = self.config.steps - self.engine.cycles_run
                count = max(1, min(batch, todo))
                start = time.perf_counter()
                self._cycles(count)
                if progress is None:
                    batch = todo
                    continue
                progress(self.engine.cycles_run)
                seconds = time.perf_counter() - start
                batch = max(1, int(count * PROGRESS_SECONDS / seconds)) if seconds else 2 * count

    def advance(self, cycles: int) -> None:
        """Run ``cycles`` more cycles: what as many calls of ``step()`` do, with Mesa's
        ``steps``, ``time`` and the collected data kept the same, but in one compiled call
        (evaluator rotations included), since a call costs a sixth of a cycle of 1,000
        systems. Mesa's recurring step event is set aside meanwhile and re-armed after,
        so no event per cycle is created; other scheduled events do not run in between.
        A subclass that overrides ``step`` gets one call of it per cycle."""
        if isinstance(cycles, bool) or not isinstance(cycles, numbers.Integral) or cycles < 0:
            raise ValueError(f"cycles: a whole number >= 0, got {cycles!r}")
        with self._schedule_set_aside():
            self._cycles(int(cycles))

    def _cycles(self, count: int) -> None:
        if type(self).step is not PeerPreservationModel.step:
            for _ in range(count):
                self.steps += 1
                self.time += 1
                self._user_step()
            return
        self.steps += count
        self.time += count
        self._engine_cycles(count)

    def _engine_cycles(self, count: int) -> None:
        """``count`` cycles of the engine, collected; the model stops after ``steps``."""
        self.engine.run_cycles(count)
        self.datacollector.collect_cycles(self, count)
        if self.engine.cycles_run >= self.config.steps:
            self.running = False

    @contextlib.contextmanager
    def _schedule_set_aside(self) -> Iterator[None]:
        self._default_schedule.stop()
        try:
            yield
        finally:
            self._default_schedule = EventGenerator(
                self, self._do_step, Schedule(interval=1.0, start=self.time + 1), Priority.HIGH
            ).start()

    def timeseries(self) -> pd.DataFrame:
        """Per-step metrics as a DataFrame (one row per cycle)."""
        columns = self.engine.metric_columns()
        check_names(columns)
        return pd.DataFrame(columns, columns=["step", *METRIC_COLUMNS])

    def outcomes(self) -> dict[str, float]:
        """Per-run outcomes (see :func:`simulation.metrics.run_outcomes`)."""
        return run_outcomes(
            self.engine.metric_columns(), self.engine.cascade_sizes(), self.network.n
        )


def load_engine() -> None:
    """Compile the engine's cycle, or load it from Numba's cache, now (a second or two).

    Called before sweep workers are forked, so each inherits the loaded machine code
    instead of loading it again, and before the app's server starts, so its first Step
    never waits.
    """
    PeerPreservationModel(SimulationConfig(n_systems=20, steps=1), rng=0, agent_views=False).run()
