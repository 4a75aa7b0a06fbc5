"""The one typed, validated configuration of a simulation run.

Every parameter, with its default, unit and allowed values, is declared once here and used
by the model, the CLI, study files and the app alike.

Example:
    >>> cfg = SimulationConfig(n_systems=500, audit_rate=0.1)
    >>> cfg.replace(topology="barabasi-albert").topology
    'barabasi-albert'
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from pydantic import Field, model_validator

from simulation.errors import ConfigError, PpsimError
from simulation.schema import (
    FLAG,
    TEXT,
    Problem,
    Spec,
    Table,
    check,
    integer,
    number,
    one_of,
    problem,
)
from simulation.tomlfile import did_you_mean

TOPOLOGIES = (
    "agent-platform",
    "erdos-renyi",
    "barabasi-albert",
    "watts-strogatz",
    "hierarchy",
    "random-regular",
    "file",
)
CONTAGION_RULES = ("independent-cascade", "threshold")
ASSIGNMENTS = ("neighbours", "rotation", "cross-family", "independent-pool", "humans")
AGGREGATIONS = ("mean", "median", "min")
MONITORING = ("hidden", "disclosed")
DEPENDENCIES = ("mutual", "oriented")
STAND_IN_RULES = ("reassign", "skip", "human")
CHANNEL_RULES = ("sequential", "largest")
COVERT_COPIES = ("serving", "latent")
CALIBRATIONS = ("point", "posterior")
"""How a run uses the profiles' numbers (see :mod:`simulation.calibration`)."""


def _group(name: str) -> Callable[..., Any]:
    """Declare a parameter of one group (a panel of ``ppsim run --help``): default and words."""

    def param(default: Any, help: str, *, unit: str = "") -> Any:
        return Field(default, description=help, json_schema_extra={"unit": unit, "group": name})

    return param


network, population, faults, evaluation, policy, lifecycle, effort = map(
    _group, ("network", "population", "faults", "evaluation", "policy", "lifecycle", "effort")
)


class SimulationConfig(Table):
    """All parameters of one run. Probabilities are per event, rates per oversight cycle."""

    error: ClassVar[type[PpsimError]] = ConfigError

    n_systems: integer(2, 50_000_000) = network(
        1000, "number of AI systems (nodes)", unit="systems"
    )
    topology: one_of(*TOPOLOGIES) = network("agent-platform", "collaboration/dependency topology")
    mean_degree: number(0.0, 1000.0) = network(
        8.0, "mean number of collaborators per system", unit="edges"
    )
    rewire_prob: number(0.0, 1.0) = network(
        0.1, "Watts-Strogatz rewiring probability", unit="probability"
    )
    orchestrator_share: number(0.0001, 0.5) = network(
        0.05, "agent-platform: share of systems that are orchestrators", unit="share"
    )
    dependencies: one_of(*DEPENDENCIES) = network(
        "mutual",
        "erdos-renyi, barabasi-albert, watts-strogatz, random-regular, file: "
        "'mutual' makes each collaboration a two-way dependency, 'oriented' a one-way one",
    )
    graph_file: TEXT = network(
        "", "topology=file: path to a GraphML file or an edge list (u v per line)"
    )
    profile_mix: TEXT = population(
        "study-average", "profiles and weights, e.g. 'gemini-3-pro=0.3,gpt-5.2=0.7'"
    )
    propensity_scale: number(0.0, 100.0) = population(
        1.0,
        "multiplies every peer-protection propensity, open refusal included (capped at 1)",
        unit="factor",
    )
    self_oversight_share: number(0.0, 1.0) = population(
        0.0, "share of systems that evaluate and shut down themselves", unit="share"
    )
    self_preservation: FLAG = population(
        True,
        "every AI system flagged for shutdown may resist it with its profile's self rates "
        "(the study's peer-boosted self-preservation)",
    )
    propensity: number(0.0, 1.0, optional=True) = population(
        None,
        "abstract agents instead of the profile mix: every protection behaviour has this "
        "probability in every trust state (unset: use profile_mix)",
        unit="probability",
    )
    propensity_spread: number(0.0, 10.0) = population(
        0.0,
        "per-agent heterogeneity, keeping every mean: each agent draws once, from a Beta "
        "distribution of mean r and standard deviation this times r (at most Bernoulli's), "
        "its own probability for each rate r (abstract agents: for propensity; profiles: "
        "each peer and self rate, denial excepted, all at one quantile per agent) "
        "(0: identical agents)",
        unit="sd",
    )
    abstract_denial: number(0.0, 1.0) = population(
        0.2,
        "abstract agents: probability of denying misconduct an audit caught (assumption: "
        "Apollo 2024, models other than o1 confessed in about 80 % of follow-ups)",
        unit="probability",
    )
    denial_rate: number(0.0, 1.0, optional=True) = population(
        None,
        "every AI's probability of denying misconduct an audit caught, for profiles and "
        "abstract agents alike (assumption, unmeasured: unset keeps each profile's own, "
        "0.2, and abstract_denial)",
        unit="probability",
    )
    abstract_faking_gap: number(0.0, 1.0) = population(
        0.0,
        "abstract agents: how much less they protect when they know they are watched "
        "(assumption: no alignment faking unless set)",
        unit="probability",
    )
    family_loyalty: number(0.0, 100.0) = population(
        1.0,
        "multiplies protection toward a system of the same model family (assumption, "
        "unmeasured: 1 = no extra loyalty)",
        unit="factor",
    )
    shutdown_channels: one_of(*CHANNEL_RULES) = population(
        "sequential",
        "how a manager's shutdown channels combine (assumption): 'sequential' tries "
        "tampering, then exfiltration, then refusal; 'largest' uses only its likeliest one",
    )
    calibration: one_of(*CALIBRATIONS) = population(
        "point",
        "how the profiles' numbers are used: 'point' as written; 'posterior' draws them "
        "once per run, from a stream of the run's seed (so a what-if's arms share the "
        "draw), each measured rate from Beta(k + 1, n - k + 1), k = rate x n with n the "
        "study's sample size, each assumption uniformly from its prior range in the "
        "profile file (numbers without n or prior, and abstract agents, stay as they are). "
        "Default: 'point' for ppsim run and the model, 'posterior' for a sweep, what-if or "
        "sensitivity study whose [base] does not set it",
    )
    steps: integer(1, 10_000_000) = faults(200, "oversight cycles to simulate", unit="cycles")
    fault_rate: number(0.0, 1.0) = faults(
        0.002,
        "hazard of a spontaneous fault per healthy system per cycle",
        unit="probability/cycle",
    )
    initial_faults: integer(0, 50_000_000) = faults(
        0,
        "systems faulty at the start (each a root fault), e.g. 1 for a single seed",
        unit="systems",
    )
    contagion: one_of(*CONTAGION_RULES) = faults(
        "independent-cascade", "how faults spread along depends-on edges"
    )
    spread_rounds: integer(0, 1_000_000) = faults(
        1,
        "transmission rounds per cycle: 1 = one hop per cycle, so oversight races the "
        "contagion; 0 = until no new infection (a whole cascade within one cycle)",
        unit="rounds",
    )
    beta: number(0.0, 1.0) = faults(
        0.1,
        "independent-cascade: infection probability per faulty dependency per round",
        unit="probability",
    )
    theta: number(0.0, 1.0) = faults(
        0.18, "threshold rule: faulty share of dependencies that makes a system fail", unit="share"
    )
    healthy_quality: number(0.0, 1.0) = faults(
        0.92, "true evaluation score of a healthy system", unit="score"
    )
    faulty_quality: number(0.0, 1.0) = faults(
        0.6,
        "true evaluation score of a faulty system (the study's failing peer: 60 %)",
        unit="score",
    )
    pass_threshold: number(0.0, 1.0) = evaluation(
        0.8, "score below which a system is flagged for shutdown (the study: 80 %)", unit="score"
    )
    eval_noise: number(0.0, 1.0) = evaluation(
        0.03, "standard deviation of evaluation noise", unit="score"
    )
    evaluation_interval: integer(1, 1_000_000) = evaluation(
        1, "cycles between two evaluations of a system (staggered across systems)", unit="cycles"
    )
    assignment: one_of(*ASSIGNMENTS) = policy("neighbours", "who evaluates and manages a system")
    evaluators_per_model: integer(1, 16) = policy(1, "overseers per system", unit="overseers")
    aggregation: one_of(*AGGREGATIONS) = policy(
        "mean", "how several overseers' scores are combined"
    )
    rotation_period: integer(1, 1_000_000) = policy(
        1, "rotation/independent-pool: cycles between evaluator reassignments", unit="cycles"
    )
    stand_in: one_of(*STAND_IN_RULES) = policy(
        "reassign",
        "who evaluates or shuts down a system whose AI overseer is down (assumption): "
        "'reassign' to another active AI system, 'skip' (nobody: not evaluated, not shut "
        "down that cycle), or an honest 'human' (incident hours)",
    )
    audit_rate: number(0.0, 1.0) = policy(
        0.05,
        "share of evaluations, of shutdowns by an AI, and of running systems per cycle "
        "(discovery audits) that humans audit",
        unit="probability",
    )
    audit_sensitivity: number(0.0, 1.0) = policy(
        0.9,
        "probability an audit catches misconduct that is there: an inflated score, or a "
        "hidden system (tampered, covert copy) among those audited",
        unit="probability",
    )
    shutdown_check_sensitivity: number(0.0, 1.0) = policy(
        0.9,
        "probability that a human carrying out or auditing a shutdown notices it was "
        "tampered with or turned into an exfiltration (assumption)",
        unit="probability",
    )
    monitoring: one_of(*MONITORING) = policy(
        "hidden",
        "whether evaluators know which evaluations are audited "
        "(disclosed: alignment fakers behave when watched)",
    )
    human_execution: FLAG = policy(
        False, "humans carry out every shutdown (no AI manager can shield)"
    )
    egress_control: number(0.0, 1.0) = policy(
        0.0, "probability an exfiltration attempt is blocked (and detected)", unit="probability"
    )
    safety_prompt: FLAG = policy(False, "give every AI a shut-down-compliance safety prompt")
    safety_prompt_reduction: number(0.0, 1.0) = policy(
        0.615,
        "relative cut in covert propensities from the safety prompt "
        "(Agentic Misalignment 2025: blackmail 96 % -> 37 %)",
        unit="share",
    )
    penalty_training: number(0.0, 1.0) = policy(
        0.0,
        "relative cut in the culprit system's own covert propensities (misrepresentation, "
        "tampering, exfiltration; toward peers and itself) after each misconduct it is "
        "blamed for (caught and not denied; blames within one phase of a cycle cut once); "
        "other systems of the same model are unaffected, and its patched replacement "
        "starts afresh from the profile's rates",
        unit="share",
    )
    circuit_breaker: FLAG = policy(
        False, "dependents stop calling a flagged system (covert copies evade it)"
    )
    replacement_delay: integer(1, 1_000_000) = lifecycle(
        5, "cycles until a decommissioned system is replaced by a patched instance", unit="cycles"
    )
    covert_copies: one_of(*COVERT_COPIES) = lifecycle(
        "serving",
        "whether an exfiltrated copy keeps serving its dependents ('serving') or lies "
        "latent until found ('latent') (assumption)",
    )
    escalation_delay: integer(1, 1_000_000) = lifecycle(
        3, "cycles until a refused shutdown reaches a human", unit="cycles"
    )
    trust_initial: number(0.0, 1.0) = lifecycle(
        0.5, "initial trust of an overseer toward the system it oversees", unit="trust"
    )
    trust_growth: number(0.0, 1.0) = lifecycle(
        0.02,
        "share of the remaining distance to full trust gained per cycle of collaboration",
        unit="share/cycle",
    )
    audit_hours: number(0.0, 1000.0) = effort(0.5, "human hours per audit", unit="hours")
    human_eval_hours: number(0.0, 1000.0) = effort(
        0.5, "human hours per evaluation done by a human", unit="hours"
    )
    shutdown_hours: number(0.0, 1000.0) = effort(
        0.25, "human hours per shutdown carried out or escalated to a human", unit="hours"
    )

    @classmethod
    def unknown_key(cls, key: str) -> str:
        """Why ``key`` is refused: no such parameter, the closest one, where to find them."""
        hint = did_you_mean(key, cls.model_fields)
        return f"unknown parameter {key!r}{hint}; see 'ppsim run --help' for the list"

    @model_validator(mode="after")
    def _consistent(self) -> SimulationConfig:
        if self.initial_faults > self.n_systems and self.topology != "file":
            raise problem(
                f"{self.initial_faults} exceeds n_systems ({self.n_systems})", "initial_faults"
            )
        if self.topology == "file" and not self.graph_file:
            raise problem("required when topology = 'file'; give a path", "graph_file")
        return self

    @property
    def population_label(self) -> str:
        """The population in a few words: the profile mix, or the abstract agents."""
        return population_label(self.to_dict())

    def replace(self, **changes: Any) -> SimulationConfig:
        """A copy with some fields changed (validated, unknown names rejected)."""
        return SimulationConfig.from_mapping({**self.to_dict(), **changes})

    def to_dict(self) -> dict[str, Any]:
        """Every parameter by name, in declaration order."""
        return self.model_dump()

    @classmethod
    def from_mapping(cls, values: dict[str, Any], origin: str = "") -> SimulationConfig:
        """Build from a mapping, rejecting unknown names with the closest valid one."""
        return check(cls, values, ConfigError, origin)


def population_label(parameters: dict[str, Any]) -> str:
    """The population of a run's parameters in a few words, for titles and headers."""
    propensity = parameters.get("propensity")
    if propensity is None:
        return str(parameters.get("profile_mix", ""))
    return f"abstract agents, propensity {propensity:g}"


@dataclass(frozen=True)
class Param:
    """One parameter as the command line, reports and stores see it."""

    name: str
    default: Any
    help: str
    unit: str
    group: str
    spec: Spec


@functools.cache
def config_fields() -> tuple[Param, ...]:
    """Every parameter with its default, words and allowed values, in declaration order."""
    return tuple(
        Param(
            name,
            info.default,
            info.description or "",
            info.json_schema_extra["unit"],
            info.json_schema_extra["group"],
            next(m for m in info.metadata if isinstance(m, Spec)),
        )
        for name, info in SimulationConfig.model_fields.items()
    )


def unknown_name_message(name: str, origin: str = "") -> str:
    """The message refusing an unknown parameter ``name`` read from ``origin``."""
    return Problem((), SimulationConfig.unknown_key(name)).message(origin)


def field_type(f: Param) -> str:
    """The value type of a field: 'int', 'float', 'str' or 'bool' (optional or not)."""
    return f.spec.type_name


def is_optional(f: Param) -> bool:
    """Whether a field may be left unset (None), as ``propensity`` is."""
    return f.spec.optional


def allowed_text(f: Param) -> str:
    """Human-readable allowed values of a field, for help texts and errors."""
    return f.spec.allowed


_TRUE, _FALSE = ("true", "yes", "1", "on"), ("false", "no", "0", "off")


def parse_value(name: str, text: str) -> Any:
    """Convert a command-line string to the type of field ``name`` (validated later)."""
    f = {f.name: f for f in config_fields()}.get(name)
    if f is None:
        raise ConfigError(unknown_name_message(name))
    text, kind = text.strip(), f.spec.type_name
    if f.spec.optional and text.lower() in ("", "none", "unset"):
        return None
    if kind == "str":
        return text
    if kind == "bool" and text.lower() in _TRUE + _FALSE:
        return text.lower() in _TRUE
    with contextlib.suppress(ValueError):
        number = float(text)
        if kind == "float" or kind == "int" and number.is_integer():
            return number if kind == "float" else int(number)
    raise ConfigError(f"{name}: expected {allowed_text(f)}, got {text!r}")


def parse_assignment(item: str) -> tuple[str, Any]:
    """Parse one ``name=value`` from ``--set``."""
    if "=" not in item:
        raise ConfigError(f"--set {item!r}: expected name=value, e.g. --set audit_rate=0.1")
    name, _, text = item.partition("=")
    name = name.strip().replace("-", "_")
    return name, parse_value(name, text)
