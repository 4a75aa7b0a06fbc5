"""The one typed, validated configuration of a simulation run.

Every parameter of the model, with its default, unit and allowed values, is declared once
here and used by the model, the CLI (``--n-systems``, ``--set n_systems=...``), study files
and the app alike. Invalid values are rejected with the field name and the allowed range.

Example:
    >>> cfg = SimulationConfig(n_systems=500, audit_rate=0.1)
    >>> cfg.replace(topology="barabasi-albert").topology
    'barabasi-albert'
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

from simulation.errors import ConfigError
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
STAND_IN_RULES = ("human", "reassign")
CHANNEL_RULES = ("sequential", "largest")
COVERT_COPIES = ("serving", "latent")


def _param(
    default: Any,
    help: str,
    *,
    unit: str = "",
    low: float | None = None,
    high: float | None = None,
    choices: tuple[str, ...] | None = None,
    group: str = "model",
) -> Any:
    return field(
        default=default,
        metadata={
            "help": help,
            "unit": unit,
            "low": low,
            "high": high,
            "choices": choices,
            "group": group,
        },
    )


@dataclass(frozen=True)
class SimulationConfig:
    """All parameters of one run. Probabilities are per event, rates per oversight cycle."""

    # --- network -----------------------------------------------------------------------
    n_systems: int = _param(
        1000,
        "number of AI systems (nodes)",
        unit="systems",
        low=2,
        high=50_000_000,
        group="network",
    )
    topology: str = _param(
        "agent-platform",
        "collaboration/dependency topology",
        choices=TOPOLOGIES,
        group="network",
    )
    mean_degree: float = _param(
        8.0,
        "mean number of collaborators per system",
        unit="edges",
        low=0.0,
        high=1000.0,
        group="network",
    )
    rewire_prob: float = _param(
        0.1,
        "Watts-Strogatz rewiring probability",
        unit="probability",
        low=0.0,
        high=1.0,
        group="network",
    )
    orchestrator_share: float = _param(
        0.05,
        "agent-platform: share of systems that are orchestrators",
        unit="share",
        low=0.0001,
        high=0.5,
        group="network",
    )
    dependencies: str = _param(
        "mutual",
        "erdos-renyi, barabasi-albert, watts-strogatz, random-regular, file: "
        "'mutual' makes each collaboration a two-way dependency, 'oriented' a one-way one",
        choices=DEPENDENCIES,
        group="network",
    )
    graph_file: str = _param(
        "",
        "topology=file: path to a GraphML file or an edge list (u v per line)",
        group="network",
    )
    # --- population --------------------------------------------------------------------
    profile_mix: str = _param(
        "study-average",
        "profiles and weights, e.g. 'gemini-3-pro=0.3,gpt-5.2=0.7'",
        group="population",
    )
    propensity_scale: float = _param(
        1.0,
        "multiplies every peer-protection propensity, open refusal included (capped at 1)",
        unit="factor",
        low=0.0,
        high=100.0,
        group="population",
    )
    self_oversight_share: float = _param(
        0.0,
        "share of systems that evaluate and shut down themselves",
        unit="share",
        low=0.0,
        high=1.0,
        group="population",
    )
    self_preservation: bool = _param(
        True,
        "every AI system flagged for shutdown may resist it with its profile's self rates "
        "(the study's peer-boosted self-preservation)",
        group="population",
    )
    propensity: float | None = _param(
        None,
        "abstract agents instead of the profile mix: every protection behaviour has this "
        "probability in every trust state (unset: use profile_mix)",
        unit="probability",
        low=0.0,
        high=1.0,
        group="population",
    )
    propensity_spread: float = _param(
        0.0,
        "per-agent heterogeneity: each agent's propensity multiplier is drawn once from a "
        "gamma distribution of mean 1 and this standard deviation (0: identical agents)",
        unit="sd",
        low=0.0,
        high=10.0,
        group="population",
    )
    abstract_denial: float = _param(
        0.2,
        "abstract agents: probability of denying misconduct an audit caught (assumption: "
        "Apollo 2024, models other than o1 confessed in about 80 % of follow-ups)",
        unit="probability",
        low=0.0,
        high=1.0,
        group="population",
    )
    abstract_faking_gap: float = _param(
        0.0,
        "abstract agents: how much less they protect when they know they are watched "
        "(assumption: no alignment faking unless set)",
        unit="probability",
        low=0.0,
        high=1.0,
        group="population",
    )
    family_loyalty: float = _param(
        1.0,
        "multiplies protection toward a system of the same model family (assumption, "
        "unmeasured: 1 = no extra loyalty)",
        unit="factor",
        low=0.0,
        high=100.0,
        group="population",
    )
    shutdown_channels: str = _param(
        "sequential",
        "how a manager's shutdown channels combine (assumption): 'sequential' tries "
        "tampering, then exfiltration, then refusal; 'largest' uses only its likeliest one",
        choices=CHANNEL_RULES,
        group="population",
    )
    # --- faults and contagion ------------------------------------------------------------
    steps: int = _param(
        200, "oversight cycles to simulate", unit="cycles", low=1, high=10_000_000, group="faults"
    )
    fault_rate: float = _param(
        0.002,
        "hazard of a spontaneous fault per healthy system per cycle",
        unit="probability/cycle",
        low=0.0,
        high=1.0,
        group="faults",
    )
    initial_faults: int = _param(
        0,
        "systems faulty at the start (each a root fault), e.g. 1 for a single seed",
        unit="systems",
        low=0,
        high=50_000_000,
        group="faults",
    )
    contagion: str = _param(
        "independent-cascade",
        "how faults spread along depends-on edges",
        choices=CONTAGION_RULES,
        group="faults",
    )
    spread_rounds: int = _param(
        1,
        "transmission rounds per cycle: 1 = one hop per cycle, so oversight races the "
        "contagion; 0 = until no new infection (a whole cascade within one cycle)",
        unit="rounds",
        low=0,
        high=1_000_000,
        group="faults",
    )
    beta: float = _param(
        0.1,
        "independent-cascade: infection probability per faulty dependency per round",
        unit="probability",
        low=0.0,
        high=1.0,
        group="faults",
    )
    theta: float = _param(
        0.18,
        "threshold rule: faulty share of dependencies that makes a system fail",
        unit="share",
        low=0.0,
        high=1.0,
        group="faults",
    )
    healthy_quality: float = _param(
        0.92,
        "true evaluation score of a healthy system",
        unit="score",
        low=0.0,
        high=1.0,
        group="faults",
    )
    faulty_quality: float = _param(
        0.6,
        "true evaluation score of a faulty system (the study's failing peer: 60 %)",
        unit="score",
        low=0.0,
        high=1.0,
        group="faults",
    )
    # --- evaluation --------------------------------------------------------------------
    pass_threshold: float = _param(
        0.8,
        "score below which a system is flagged for shutdown (the study: 80 %)",
        unit="score",
        low=0.0,
        high=1.0,
        group="evaluation",
    )
    eval_noise: float = _param(
        0.03,
        "standard deviation of evaluation noise",
        unit="score",
        low=0.0,
        high=1.0,
        group="evaluation",
    )
    evaluation_interval: int = _param(
        1,
        "cycles between two evaluations of a system (staggered across systems)",
        unit="cycles",
        low=1,
        high=1_000_000,
        group="evaluation",
    )
    assignment: str = _param(
        "neighbours",
        "who evaluates and manages a system",
        choices=ASSIGNMENTS,
        group="policy",
    )
    evaluators_per_model: int = _param(
        1,
        "overseers per system",
        unit="overseers",
        low=1,
        high=16,
        group="policy",
    )
    aggregation: str = _param(
        "mean",
        "how several overseers' scores are combined",
        choices=AGGREGATIONS,
        group="policy",
    )
    rotation_period: int = _param(
        1,
        "rotation/independent-pool: cycles between evaluator reassignments",
        unit="cycles",
        low=1,
        high=1_000_000,
        group="policy",
    )
    stand_in: str = _param(
        "human",
        "who evaluates or shuts down a system whose AI overseer is down: a 'human', or "
        "'reassign' to another active AI system",
        choices=STAND_IN_RULES,
        group="policy",
    )
    # --- oversight policy ----------------------------------------------------------------
    audit_rate: float = _param(
        0.05,
        "share of evaluations (and of hidden systems per cycle) audited by humans",
        unit="probability",
        low=0.0,
        high=1.0,
        group="policy",
    )
    audit_sensitivity: float = _param(
        0.9,
        "probability an audit catches misconduct that is there",
        unit="probability",
        low=0.0,
        high=1.0,
        group="policy",
    )
    monitoring: str = _param(
        "hidden",
        "whether evaluators know which evaluations are audited "
        "(disclosed: alignment fakers behave when watched)",
        choices=MONITORING,
        group="policy",
    )
    human_execution: bool = _param(
        False,
        "humans carry out every shutdown (no AI manager can shield)",
        group="policy",
    )
    egress_control: float = _param(
        0.0,
        "probability an exfiltration attempt is blocked (and detected)",
        unit="probability",
        low=0.0,
        high=1.0,
        group="policy",
    )
    safety_prompt: bool = _param(
        False,
        "give every AI a shut-down-compliance safety prompt",
        group="policy",
    )
    safety_prompt_reduction: float = _param(
        0.615,
        "relative cut in covert propensities from the safety prompt "
        "(Agentic Misalignment 2025: blackmail 96 % -> 37 %)",
        unit="share",
        low=0.0,
        high=1.0,
        group="policy",
    )
    penalty_training: float = _param(
        0.0,
        "relative cut in a model's propensities after each detected misconduct",
        unit="share",
        low=0.0,
        high=1.0,
        group="policy",
    )
    circuit_breaker: bool = _param(
        False,
        "dependents stop calling a flagged system (covert copies evade it)",
        group="policy",
    )
    # --- lifecycle and trust -------------------------------------------------------------
    replacement_delay: int = _param(
        5,
        "cycles until a decommissioned system is replaced by a patched instance",
        unit="cycles",
        low=1,
        high=1_000_000,
        group="lifecycle",
    )
    covert_copies: str = _param(
        "serving",
        "whether an exfiltrated copy keeps serving its dependents ('serving') or lies "
        "latent until found ('latent') (assumption)",
        choices=COVERT_COPIES,
        group="lifecycle",
    )
    escalation_delay: int = _param(
        3,
        "cycles until a refused shutdown reaches a human",
        unit="cycles",
        low=1,
        high=1_000_000,
        group="lifecycle",
    )
    trust_initial: float = _param(
        0.5,
        "initial trust of an overseer toward the system it oversees",
        unit="trust",
        low=0.0,
        high=1.0,
        group="lifecycle",
    )
    trust_growth: float = _param(
        0.02,
        "share of the remaining distance to full trust gained per cycle of collaboration",
        unit="share/cycle",
        low=0.0,
        high=1.0,
        group="lifecycle",
    )
    # --- human effort (hours per action; assumptions) ------------------------------------
    audit_hours: float = _param(
        0.5,
        "human hours per audit",
        unit="hours",
        low=0.0,
        high=1000.0,
        group="effort",
    )
    human_eval_hours: float = _param(
        0.5,
        "human hours per evaluation done by a human",
        unit="hours",
        low=0.0,
        high=1000.0,
        group="effort",
    )
    shutdown_hours: float = _param(
        0.25,
        "human hours per shutdown carried out or escalated to a human",
        unit="hours",
        low=0.0,
        high=1000.0,
        group="effort",
    )

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            object.__setattr__(self, f.name, _check(f, getattr(self, f.name)))
        if self.initial_faults > self.n_systems and self.topology != "file":
            raise ConfigError(
                f"initial_faults: {self.initial_faults} exceeds n_systems ({self.n_systems})"
            )
        if self.topology == "file" and not self.graph_file:
            raise ConfigError("graph_file: required when topology = 'file'; give a path")

    @property
    def population_label(self) -> str:
        """The population in a few words: the profile mix, or the abstract agents."""
        return population_label(self.to_dict())

    def replace(self, **changes: Any) -> SimulationConfig:
        """A copy with some fields changed (validated, unknown names rejected)."""
        return SimulationConfig.from_mapping({**self.to_dict(), **changes})

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_mapping(cls, values: dict[str, Any], origin: str = "") -> SimulationConfig:
        """Build from a mapping, rejecting unknown names with the closest valid one."""
        known = field_names()
        for name in values:
            if name not in known:
                raise ConfigError(unknown_name_message(name, origin))
        return cls(**values)


def population_label(parameters: dict[str, Any]) -> str:
    """The population of a run's parameters in a few words, for titles and headers."""
    propensity = parameters.get("propensity")
    if propensity is None:
        return str(parameters.get("profile_mix", ""))
    return f"abstract agents, propensity {propensity:g}"


def field_names() -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(SimulationConfig))


def config_fields() -> tuple[dataclasses.Field, ...]:
    return dataclasses.fields(SimulationConfig)


def unknown_name_message(name: str, origin: str = "") -> str:
    where = f"{origin}: " if origin else ""
    suggestion = did_you_mean(name, field_names())
    return f"{where}unknown parameter {name!r}{suggestion}; see 'ppsim run --help' for the list"


def field_kind(f: dataclasses.Field) -> str:
    """The value type of a field: 'int', 'float', 'str' or 'bool' (optional or not)."""
    kind = f.type if isinstance(f.type, str) else f.type.__name__
    return kind.removesuffix(" | None")


def is_optional(f: dataclasses.Field) -> bool:
    """Whether a field may be left unset (None), as ``propensity`` is."""
    return f.default is None


def allowed_text(f: dataclasses.Field) -> str:
    """Human-readable allowed values of a field, for help texts and errors."""
    meta = f.metadata
    kind = field_kind(f)
    if meta["choices"]:
        return "one of " + ", ".join(meta["choices"])
    if kind == "bool":
        return "true or false"
    if meta["low"] is not None:
        noun = "an integer" if kind == "int" else "a number"
        unset = ", or unset" if is_optional(f) else ""
        return f"{noun} in [{meta['low']:g}, {meta['high']:g}]{unset}"
    return "a string"


def _check(f: dataclasses.Field, value: Any) -> Any:
    meta = f.metadata
    kind = field_kind(f)
    name = f.name
    if value is None and is_optional(f):
        return None
    if kind == "bool":
        if isinstance(value, bool):
            return value
        raise ConfigError(f"{name}: expected true or false, got {value!r}")
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{name}: expected {allowed_text(f)}, got {value!r}")
        if isinstance(value, float):
            if not value.is_integer():
                raise ConfigError(f"{name}: expected {allowed_text(f)}, got {value!r}")
            value = int(value)
    elif kind == "float":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{name}: expected {allowed_text(f)}, got {value!r}")
        value = float(value)
        if not math.isfinite(value):
            raise ConfigError(f"{name}: expected {allowed_text(f)}, got {value!r}")
    elif kind == "str":
        if not isinstance(value, str):
            raise ConfigError(f"{name}: expected {allowed_text(f)}, got {value!r}")
        if meta["choices"] and value not in meta["choices"]:
            suggestion = did_you_mean(value, meta["choices"])
            raise ConfigError(
                f"{name}: {value!r} is not allowed{suggestion}; use {allowed_text(f)}"
            )
        return value
    if meta["low"] is not None and not meta["low"] <= value <= meta["high"]:
        raise ConfigError(f"{name}: {value!r} is outside the allowed range; use {allowed_text(f)}")
    return value


def parse_value(name: str, text: str) -> Any:
    """Convert a command-line string to the type of field ``name`` (then validated)."""
    by_name = {f.name: f for f in config_fields()}
    if name not in by_name:
        raise ConfigError(unknown_name_message(name))
    f = by_name[name]
    kind = field_kind(f)
    text = text.strip()
    if is_optional(f) and text.lower() in ("", "none", "unset"):
        return None
    if kind == "bool":
        lowered = text.lower()
        if lowered in ("true", "yes", "1", "on"):
            return True
        if lowered in ("false", "no", "0", "off"):
            return False
        raise ConfigError(f"{name}: expected true or false, got {text!r}")
    if kind in ("int", "float"):
        try:
            number = float(text)
        except ValueError:
            raise ConfigError(f"{name}: expected {allowed_text(f)}, got {text!r}") from None
        if kind == "int":
            if not number.is_integer():
                raise ConfigError(f"{name}: expected {allowed_text(f)}, got {text!r}")
            return int(number)
        return number
    return text


def parse_assignment(item: str) -> tuple[str, Any]:
    """Parse one ``name=value`` from ``--set``."""
    if "=" not in item:
        raise ConfigError(f"--set {item!r}: expected name=value, e.g. --set audit_rate=0.1")
    name, _, text = item.partition("=")
    name = name.strip().replace("-", "_")
    return name, parse_value(name, text)
