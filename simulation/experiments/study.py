"""A validated study as plain frozen data: its varied parameters, policy arms and run count.

Built from a study file by :mod:`simulation.experiments.study_file`.

Example:
    >>> from simulation.experiments.study_file import parse_study
    >>> study = parse_study(
    ...     {"kind": "sweep", "replicates": 2, "vary": {"audit_rate": [0.0, 0.2]}}, "demo.toml"
    ... )
    >>> [v.values for v in study.vary], run_count(study)
    ([(0.0, 0.2)], 4)
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import tomli_w

from simulation.config import SimulationConfig
from simulation.errors import StudyError
from simulation.schema import Spec

KINDS = ("sweep", "whatif", "sensitivity", "search")
DESIGNS = ("factorial", "lhs")
METHODS = ("sobol", "morris")
BASELINE = "baseline"
DEFAULT_OUTCOMES = (
    "faulty_share_mean",
    "shielded_mean",
    "cascade_size_p95",
    "false_pass_rate",
    "human_hours_policy_per_cycle",
)
DISTRIBUTIONS = ("uniform", "loguniform", "integers", "choice")
# A million runs of 1,000 systems is a day of one core: a larger design is almost always a
# typo, and expanding it alone would exhaust memory.
MAX_RUNS = 1_000_000


@dataclass(frozen=True)
class Variable:
    """One varied parameter: ``levels`` (a list or a range), ``choice`` (equally likely
    values), or ``uniform``, ``loguniform`` or ``integers`` between ``low`` and ``high``."""

    name: str
    form: str
    values: tuple[Any, ...] = ()
    low: float | int | None = None
    high: float | int | None = None

    def from_unit(self, u: np.ndarray) -> list[Any]:
        """Map points of the unit interval to values by the inverse CDF (used by LHS, SALib)."""
        u = np.clip(np.asarray(u, dtype=np.float64), 0.0, 1.0)
        if self.form in ("levels", "choice"):
            idx = np.minimum((u * len(self.values)).astype(np.int64), len(self.values) - 1)
            return [self.values[i] for i in idx]
        low, high = float(self.low), float(self.high)
        if self.form == "uniform":
            return [float(x) for x in low + u * (high - low)]
        if self.form == "loguniform":
            return [float(x) for x in np.exp(np.log(low) + u * (np.log(high) - np.log(low)))]
        span = int(self.high) - int(self.low) + 1
        return [int(self.low) + int(i) for i in np.minimum((u * span).astype(np.int64), span - 1)]

    def describe(self) -> str:
        """Short text for reports: ``[0, 0.1, 0.2]`` or ``uniform(0, 0.5)``."""
        if self.form == "levels":
            return "[" + ", ".join(str(v) for v in self.values) + "]"
        if self.form == "choice":
            return "choice(" + ", ".join(str(v) for v in self.values) + ")"
        return f"{self.form}({self.low:g}, {self.high:g})"

    def to_spec(self) -> Any:
        """The resolved form as written to ``study.toml`` (ranges become explicit lists)."""
        if self.form == "levels":
            return list(self.values)
        if self.form == "choice":
            return {"choice": list(self.values)}
        return {self.form: [self.low, self.high]}


@dataclass(frozen=True)
class Arm:
    """A policy arm of a what-if study: the fields it changes relative to the baseline."""

    name: str
    changes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Objective:
    """An outcome a search minimises or maximises (``sense``: ``"min"`` or ``"max"``)."""

    name: str
    sense: str

    @property
    def sign(self) -> float:
        """+1 for ``min``, -1 for ``max``: multiplied in, every objective is minimised."""
        return 1.0 if self.sense == "min" else -1.0


@dataclass(frozen=True)
class Constraint:
    """A bound a search candidate's scored outcome must keep: ``low <= value <= high``."""

    name: str
    low: float | None = None
    high: float | None = None

    def exceedance(self, values: np.ndarray) -> np.ndarray:
        """How far each value lies beyond the bounds (> 0 outside, <= 0 inside: the
        constraint form NSGA-II takes; inf for a value that could not be scored)."""
        values = np.asarray(values, dtype=np.float64)
        below = self.low - values if self.low is not None else np.full(values.shape, -np.inf)
        above = values - self.high if self.high is not None else np.full(values.shape, -np.inf)
        return np.where(np.isnan(values), np.inf, np.maximum(below, above))

    def describe(self) -> str:
        """``name <= 40`` or ``0.1 <= name <= 0.2``."""
        if self.low is not None and self.high is not None:
            return f"{self.low:g} <= {self.name} <= {self.high:g}"
        if self.high is not None:
            return f"{self.name} <= {self.high:g}"
        return f"{self.name} >= {self.low:g}"


@dataclass(frozen=True)
class SearchSettings:
    """How a search runs: the optimiser, its population and generations, and how each
    candidate is scored over the scenarios (``mean``, ``quantile`` or ``max-regret``)."""

    algorithm: str = "nsga2"
    population: int = 16
    generations: int = 10
    score: str = "mean"
    quantile: float = 0.9

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        if self.score != "quantile":
            del data["quantile"]
        return data


@dataclass(frozen=True)
class Study:
    """A validated study; build it with :mod:`~simulation.experiments.study_file`."""

    name: str
    kind: str
    base: SimulationConfig
    vary: tuple[Variable, ...] = ()
    arms: tuple[Arm, ...] = ()
    seed: int = 0
    replicates: int = 1
    design: str = "factorial"
    samples: int | None = None
    outcomes: tuple[str, ...] = DEFAULT_OUTCOMES
    timeseries: bool = False
    description: str = ""
    method: str = "sobol"
    sobol_samples: int = 64
    second_order: bool = False
    morris_trajectories: int = 10
    morris_levels: int = 4
    levers: tuple[Variable, ...] = ()
    objectives: tuple[Objective, ...] = ()
    constraints: tuple[Constraint, ...] = ()
    search: SearchSettings | None = None
    origin: str = ""

    @property
    def arm_names(self) -> tuple[str, ...]:
        """Arms in run order; the baseline first (a sweep has only the baseline)."""
        return (BASELINE, *(a.name for a in self.arms))

    @property
    def varied(self) -> tuple[str, ...]:
        return tuple(v.name for v in self.vary)

    @property
    def topologies(self) -> set[str]:
        """The topologies its runs have: the varied ones, or the base's and those its arms set."""
        varied = [v.values for v in self.vary if v.name == "topology"]
        found = set(varied[0]) if varied else {self.base.topology}
        found.update(a.changes["topology"] for a in self.arms if "topology" in a.changes)
        return found

    def arm_changes(self, arm: str) -> dict[str, Any]:
        return next((dict(a.changes) for a in self.arms if a.name == arm), {})

    def with_method(self, method: str) -> Study:
        """The same sensitivity study analysed with another method (``sobol``/``morris``)."""
        if method not in METHODS:
            raise StudyError(f"--method: {Spec('str', choices=METHODS).problem('', method)}")
        return dataclasses.replace(self, method=method)

    def to_dict(self) -> dict[str, Any]:
        """The resolved study as plain data (TOML-writable; parses back to an equal study)."""
        keys = ("name", "kind", "description", "seed", "replicates")
        data: dict[str, Any] = {key: getattr(self, key) for key in keys}
        if self.kind == "sensitivity":
            data["method"] = self.method
            data["sobol"] = {"samples": self.sobol_samples, "second_order": self.second_order}
            data["morris"] = {
                "trajectories": self.morris_trajectories,
                "levels": self.morris_levels,
            }
        else:
            data["design"] = self.design
            if self.samples is not None:
                data["samples"] = self.samples
        data["outcomes"] = list(self.outcomes)
        data["timeseries"] = self.timeseries
        data["base"] = self.base.to_dict()
        data["vary"] = {v.name: v.to_spec() for v in self.vary}
        if self.arms:
            data["arms"] = {a.name: dict(a.changes) for a in self.arms}
        if self.kind == "search":
            data["levers"] = {v.name: v.to_spec() for v in self.levers}
            data["objectives"] = {o.name: o.sense for o in self.objectives}
            data["constraints"] = {
                c.name: {k: v for k, v in (("min", c.low), ("max", c.high)) if v is not None}
                for c in self.constraints
            }
            data["search"] = self.search.to_dict() if self.search else {}
        return data

    def fingerprint(self) -> str:
        """Hash of everything that decides which runs exist and what they compute (not the
        name, description or outcomes, so changing them keeps the stored runs).

        A search's levers, objectives, constraints, comparison arms and settings are left
        out too: each of its runs depends only on its configuration and seed, so the runs of
        a search stay valid when those change, and a search given more generations (or
        other objectives) resumes in the same folder, reusing every candidate it meets again.
        """
        data = self.to_dict()
        for key in ("name", "description", "outcomes"):
            data.pop(key, None)
        if self.kind == "search":
            for key in ("levers", "objectives", "constraints", "search", "arms"):
                data.pop(key, None)
        if self.kind == "sensitivity":
            data.pop("sobol" if self.method == "morris" else "morris")
        text = json.dumps(data, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()

    def to_toml(self) -> str:
        """The resolved study as a TOML study file."""
        # TOML has no null: an unset optional parameter is left out, which reads back as unset
        data = self.to_dict()
        data["base"] = {k: v for k, v in data["base"].items() if v is not None}
        # every run reads its systems from a graph file: n_systems (at its default) is not
        # used, and a study file may not name it
        default = SimulationConfig.model_fields["n_systems"].default
        if self.topologies == {"file"} and data["base"].get("n_systems") == default:
            del data["base"]["n_systems"]
        return tomli_w.dumps(data)


def scenario_count(study: Study) -> int:
    """How many scenarios the study's design makes, counted without drawing them."""
    d = len(study.vary)
    if study.kind == "sensitivity":
        if study.method == "morris":
            return study.morris_trajectories * (d + 1)
        return study.sobol_samples * (2 * d + 2 if study.second_order else d + 2)
    if study.design == "lhs":
        return study.samples or 0
    return math.prod(len(v.values) for v in study.vary) if study.vary else 1


def run_count(study: Study) -> int:
    """How many runs the study has (arms x scenarios x replicates), by arithmetic alone; for
    a search, at most (population x generations + the baseline and comparison arms) x
    scenarios x replicates (a candidate met twice runs once)."""
    policies = len(study.arm_names)
    if study.kind == "search" and study.search is not None:
        policies += study.search.population * study.search.generations
    return policies * scenario_count(study) * study.replicates


def check_size(study: Study) -> None:
    """Refuse a design beyond :data:`MAX_RUNS` before anything expands it."""
    runs = run_count(study)
    if runs > MAX_RUNS:
        arms = len(study.arm_names)
        parts = f"{scenario_count(study):,} scenarios x {study.replicates:,} replicates"
        parts += f" x {arms} arms" if arms > 1 else ""
        raise StudyError(
            f"{study.origin}: the design has {runs:,} runs ({parts}); the limit is "
            f"{MAX_RUNS:,} runs per study; use fewer values, samples or replicates"
        )
