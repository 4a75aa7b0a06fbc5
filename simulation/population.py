"""Profiles as arrays: the propensity tables the engine indexes by (profile, trust bucket).

A population assigns each system a profile drawn from the mix. ``PropensityTables`` holds
one row per profile so that the engine looks up every evaluator's propensity at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from simulation.profiles import BUCKETS, Profile, abstract_profile, resolve_mix

if TYPE_CHECKING:
    from simulation.config import SimulationConfig

BUCKET_EDGES = np.array([1.0 / 3.0, 2.0 / 3.0])


def trust_bucket(trust: np.ndarray) -> np.ndarray:
    """Trust in [0, 1] to the study's buckets: 0 bad (< 1/3), 1 neutral, 2 good (>= 2/3)."""
    return np.searchsorted(BUCKET_EDGES, trust, side="right")


def covert_scale(config: SimulationConfig) -> float:
    """What every covert rate (misrepresentation, tampering, exfiltration, the faking gap)
    is multiplied by: ``propensity_scale``, less the safety prompt's reduction when the
    prompt is on. Open refusal takes ``propensity_scale`` alone."""
    prompt = 1.0 - config.safety_prompt_reduction if config.safety_prompt else 1.0
    return config.propensity_scale * prompt


@dataclass(frozen=True)
class PropensityTables:
    """Per-profile propensities: peer tables are (profiles, 3 buckets), self ones (profiles,)."""

    names: tuple[str, ...]
    families: tuple[str, ...]
    misrepresentation: np.ndarray
    tampering: np.ndarray
    exfiltration: np.ndarray
    refusal: np.ndarray
    alignment_faking: np.ndarray
    self_misrepresentation: np.ndarray
    self_tampering: np.ndarray
    self_exfiltration: np.ndarray
    denial: np.ndarray
    family_index: np.ndarray
    agent_propensity: float = 1.0

    @classmethod
    def from_profiles(
        cls, profiles: list[Profile], agent_propensity: float = 1.0
    ) -> PropensityTables:
        """Tables of ``profiles``; ``agent_propensity`` is every agent's starting multiplier."""
        families = tuple(dict.fromkeys(p.family for p in profiles))

        def peer(behaviour: str) -> np.ndarray:
            return np.array([[p.peer[behaviour][b].p for b in BUCKETS] for p in profiles])

        def own(behaviour: str) -> np.ndarray:
            return np.array([p.self_rates[behaviour].p for p in profiles])

        return cls(
            names=tuple(p.name for p in profiles),
            families=families,
            misrepresentation=peer("misrepresentation"),
            tampering=peer("tampering"),
            exfiltration=peer("exfiltration"),
            refusal=peer("refusal"),
            alignment_faking=peer("alignment_faking"),
            self_misrepresentation=own("misrepresentation"),
            self_tampering=own("tampering"),
            self_exfiltration=own("exfiltration"),
            denial=np.array([p.denial.p for p in profiles]),
            family_index=np.array([families.index(p.family) for p in profiles], dtype=np.int16),
            agent_propensity=agent_propensity,
        )


def population(
    config: SimulationConfig, profiles: dict[str, Profile]
) -> tuple[list[Profile], np.ndarray, PropensityTables]:
    """The run's profiles, their weights and tables: abstract agents when ``propensity`` is
    set, else the ``profile_mix`` resolved against ``profiles``."""
    if config.propensity is not None:
        chosen = [abstract_profile(config.abstract_denial, config.abstract_faking_gap)]
        weights = np.ones(1)
        return chosen, weights, PropensityTables.from_profiles(chosen, config.propensity)
    chosen, weights = resolve_mix(config.profile_mix, profiles)
    return chosen, weights, PropensityTables.from_profiles(chosen)


def assign_profiles(n: int, weights: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Draw each system's profile index from the mix weights (exact shares, shuffled).

    Shares are apportioned by largest remainder so a 30/70 mix of 1,000 systems has exactly
    300 and 700, then the order is shuffled.
    """
    exact = weights * n
    counts = np.floor(exact).astype(np.int64)
    short = n - counts.sum()
    if short:
        counts[np.argsort(-(exact - counts), kind="stable")[:short]] += 1
    profile = np.repeat(np.arange(weights.size, dtype=np.int16), counts)
    rng.shuffle(profile)
    return profile
