"""Policy levers that cannot act under a run's assumptions, and why.

A what-if arm that turns on cross-family oversight where no model favours its own family,
or disclosed monitoring in a population without alignment fakers, has no mechanism to
change anything: its effect is zero by construction (or, for cross-family oversight, only
what reshuffling the evaluators does), not an open question more runs would settle. The
cost table says so ("no mechanism: <reason>") instead of "no clear change", so that an
analyst does not read such an arm as a policy that was tried and found wanting.

The rules are data (:data:`RULES`): which lever, which of its values act, and the condition
of the run's configuration under which they cannot, each read from what the engine does.
An arm's levers are judged on its effective configuration, the study's base with the
arm's changes, at every scenario the study runs (a varied parameter can give a lever a
mechanism in some scenarios): a lever is inert only if it is inert in all of them.

Example:
    >>> from simulation.config import SimulationConfig
    >>> from simulation.profiles import available_profiles
    >>> base = SimulationConfig(profile_mix="gpt-5.2=0.5,gemini-3-pro=0.5").to_dict()
    >>> profiles = available_profiles()
    >>> reasons = inert_levers({"assignment": "cross-family"}, base, profiles)
    >>> [reason.split(" leaves")[0] for reason in reasons]
    ['family_loyalty = 1']
    >>> inert_levers({"assignment": "cross-family"}, {**base, "family_loyalty": 2.0}, profiles)
    []
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from simulation.calibration import support_profiles
from simulation.errors import PpsimError
from simulation.experiments.study import Study
from simulation.profiles import Profile, abstract_profile, available_profiles, resolve_mix

Config = Mapping[str, Any]
COVERT = ("misrepresentation", "tampering", "exfiltration")


@dataclass(frozen=True)
class Population:
    """What the rules need to know of a run's population: its profiles (the mix, or the
    abstract agents' one) and what multiplies their covert rates.

    Under posterior calibration a run's numbers are drawn, so a lever is inert only if it
    is inert for every draw: ``profiles`` then hold each number at the most it can be
    drawn as (a rate that can be above 0 counts as one), ``floor`` at the least (a denial
    that is 1 in every draw)."""

    profiles: tuple[Profile, ...]
    agent_propensity: float
    covert_scale: float
    floor: tuple[Profile, ...] = ()
    denial_rate: float | None = None

    @classmethod
    def of(cls, cfg: Config, profiles: Mapping[str, Profile]) -> Population:
        """The population of configuration ``cfg``, its mix resolved against ``profiles``."""
        prompt = 1.0 - cfg["safety_prompt_reduction"] if cfg["safety_prompt"] else 1.0
        scale = cfg["propensity_scale"] * prompt
        denial = cfg.get("denial_rate")
        if cfg["propensity"] is not None:
            agents = abstract_profile(cfg["abstract_denial"], cfg["abstract_faking_gap"])
            return cls((agents,), float(cfg["propensity"]), scale, denial_rate=denial)
        chosen = resolve_mix(cfg["profile_mix"], dict(profiles))[0]
        if cfg.get("calibration") == "posterior":
            low, high = support_profiles(chosen, profiles)
            return cls(tuple(high), 1.0, scale, tuple(low), denial)
        return cls(tuple(chosen), 1.0, scale, denial_rate=denial)

    def peer_rates(self, behaviour: str) -> list[float]:
        return [r.p for p in self.profiles for r in p.peer[behaviour].values()]

    def self_rates(self, behaviour: str) -> list[float]:
        return [p.self_rates[behaviour].p for p in self.profiles]

    def can(self, behaviour: str, cfg: Config) -> bool:
        """Whether any system can act out the covert ``behaviour`` toward a peer, or toward
        itself where its self rates apply (it resists its own shutdown, or it oversees
        itself)."""
        if self.agent_propensity == 0 or self.covert_scale == 0:
            return False
        rates = self.peer_rates(behaviour)
        if cfg["self_preservation"] or cfg["self_oversight_share"] > 0:
            rates += self.self_rates(behaviour)
        return any(rates)

    def covert(self, cfg: Config) -> bool:
        """Whether any system can misbehave covertly at all."""
        return any(self.can(b, cfg) for b in COVERT)

    def fakes(self) -> bool:
        """Whether any system behaves better when it knows it is watched: the engine
        subtracts the alignment-faking gap (times ``covert_scale``) from covert rates."""
        return self.covert_scale > 0 and any(self.peer_rates("alignment_faking"))

    def denies_always(self) -> bool:
        if self.denial_rate is not None:
            return self.denial_rate >= 1.0
        return all(p.denial.p >= 1.0 for p in self.floor or self.profiles)


def humans_carry_out_shutdowns(cfg: Config) -> bool:
    """Whether a human may carry out a shutdown (which the engine counts as watched)."""
    return bool(
        cfg["human_execution"] or cfg["assignment"] == "humans" or cfg["stand_in"] == "human"
    )


def nothing_watched(cfg: Config) -> bool:
    """Whether no AI decision is ever watched: no audits, and no human carrying out a
    shutdown a system could resist."""
    return cfg["audit_rate"] == 0 and not (
        cfg["self_preservation"] and humans_carry_out_shutdowns(cfg)
    )


def nothing_detected(cfg: Config) -> bool:
    """Whether no misconduct can ever be caught: nothing watched and no egress alarm."""
    return nothing_watched(cfg) and cfg["egress_control"] == 0


@dataclass(frozen=True)
class Rule:
    """A lever (``lever``, at values for which ``acts`` holds) has no mechanism in a run
    whose configuration and population meet ``inert``; ``reason`` says why."""

    lever: str
    acts: Callable[[Any], bool]
    inert: Callable[[Config, Population], bool]
    reason: str


NO_COVERT = "no system can misbehave covertly (every covert propensity is 0)"

RULES: tuple[Rule, ...] = (
    Rule(
        "assignment",
        lambda v: v == "cross-family",
        lambda c, _: c["family_loyalty"] == 1,
        "family_loyalty = 1 leaves no same-family loyalty to break (who evaluates whom "
        "changes only as far as the families' rates differ)",
    ),
    Rule(
        "monitoring",
        lambda v: v == "disclosed",
        lambda _, p: not p.fakes(),
        "no alignment faking (every alignment-faking gap in the population is 0)",
    ),
    Rule(
        "monitoring",
        lambda v: v == "disclosed",
        lambda c, _: nothing_watched(c),
        "nothing is watched (audit_rate = 0 and no human carries out a shutdown)",
    ),
    Rule(
        "monitoring",
        lambda v: v == "disclosed",
        lambda c, p: not p.covert(c),
        NO_COVERT,
    ),
    Rule(
        "safety_prompt",
        bool,
        lambda c, _: c["safety_prompt_reduction"] == 0,
        "safety_prompt_reduction = 0, so the prompt cuts nothing",
    ),
    Rule("safety_prompt", bool, lambda c, p: not p.covert(c), NO_COVERT),
    Rule(
        "safety_prompt_reduction",
        lambda v: True,
        lambda c, _: not c["safety_prompt"],
        "safety_prompt is off, so its reduction applies to nothing",
    ),
    Rule(
        "penalty_training",
        lambda v: v > 0,
        lambda c, _: nothing_detected(c),
        "nothing is ever detected (audit_rate = 0, egress_control = 0 and no human "
        "carries out a shutdown)",
    ),
    Rule(
        "penalty_training",
        lambda v: v > 0,
        lambda _, p: p.denies_always(),
        "every system denies what it is caught at (denial 1), so none is blamed",
    ),
    Rule("penalty_training", lambda v: v > 0, lambda c, p: not p.covert(c), NO_COVERT),
    Rule(
        "egress_control",
        lambda v: v > 0,
        lambda c, p: not p.can("exfiltration", c),
        "no system can exfiltrate (every exfiltration propensity, toward peers and itself, is 0)",
    ),
    Rule(
        "aggregation",
        lambda v: True,
        lambda c, _: c["evaluators_per_model"] == 1,
        "one evaluator per system, so there is nothing to aggregate",
    ),
    Rule(
        "rotation_period",
        lambda v: True,
        lambda c, _: c["assignment"] not in ("rotation", "independent-pool"),
        "overseers are never reassigned under this assignment",
    ),
)


def _lever_reasons(
    changes: Mapping[str, Any], base: Config, profiles: Mapping[str, Profile]
) -> dict[str, list[str]] | None:
    """Per lever ``changes`` sets, why it cannot act on top of ``base`` (an empty list: it
    can); None when the population cannot be resolved (a study would refuse it)."""
    cfg = {**base, **changes}
    try:
        population = Population.of(cfg, profiles)
    except PpsimError:
        return None
    found: dict[str, list[str]] = {}
    for lever, value in changes.items():
        if base.get(lever) == value:
            found[lever] = [f"{lever} = {value!r} is the baseline's value"]
            continue
        found[lever] = [
            rule.reason
            for rule in RULES
            if rule.lever == lever and rule.acts(value) and rule.inert(cfg, population)
        ]
    return found


def inert_levers(
    changes: Mapping[str, Any], base: Config, profiles: Mapping[str, Profile]
) -> list[str]:
    """Why the levers ``changes`` sets cannot act on top of configuration ``base`` (every
    parameter by name, as ``SimulationConfig.to_dict`` gives it), in the order of
    ``changes``; empty when every lever has a mechanism. A change to the value ``base``
    already has is inert too."""
    found = _lever_reasons(changes, base, profiles) or {}
    return list(dict.fromkeys(r for reasons in found.values() for r in reasons))


def inert_arms(study: Study, profiles: Mapping[str, Profile] | None = None) -> dict[str, list[str]]:
    """Per arm of a what-if study whose every lever is inert in every scenario the study
    runs, the reasons why; arms with a mechanism somewhere are left out. A reason that
    holds in every scenario is given alone; a lever inert for different reasons in
    different scenarios gives them all. Profiles are the shipped ones, as the study's runs
    use."""
    from simulation.experiments.design import scenarios

    if not study.arms:
        return {}
    profiles = available_profiles() if profiles is None else profiles
    base = study.base.to_dict()
    _, values, _ = scenarios(study)
    found: dict[str, list[str]] = {}
    for arm in study.arms:
        seen: dict[str, list[list[str]]] = {lever: [] for lever in arm.changes}
        inert = bool(arm.changes)
        for vals in values:  # stops at the first scenario where a lever can act
            here = _lever_reasons(arm.changes, {**base, **vals}, profiles)
            if here is None or not all(here.values()):
                inert = False
                break
            for lever, reasons in here.items():
                seen[lever].append(reasons)
        if inert:
            found[arm.name] = [reason for lists in seen.values() for reason in _common(lists)]
    return found


def _common(lists: list[list[str]]) -> list[str]:
    """The reasons in every list, else every reason of any list (each in order, once)."""
    every = [r for r in lists[0] if all(r in rest for rest in lists[1:])]
    return every or list(dict.fromkeys(r for reasons in lists for r in reasons))
