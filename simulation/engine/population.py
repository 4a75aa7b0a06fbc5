"""Profiles as arrays: the propensity tables the engine indexes by (profile, trust bucket).

A population assigns each system a profile drawn from the mix. ``PropensityTables`` holds
one row per profile so that the engine looks up every evaluator's propensity at once.
With ``propensity_spread`` the agents differ: :func:`spread_propensities` draws each
actor's own probabilities from Beta distributions that keep every mean rate.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
from scipy.stats import beta

from simulation import calibration
from simulation.profiles import BUCKETS, Profile, abstract_profile, resolve_mix

if TYPE_CHECKING:
    from simulation.config import SimulationConfig

BUCKET_EDGES = np.array([1.0 / 3.0, 2.0 / 3.0])
BERNOULLI_CONCENTRATION = 1e-3
"""Concentration (a + b) of the Beta distribution a requested spread too wide for [0, 1]
gets: a Beta of mean r has variance r (1 - r) / (1 + a + b), so no distribution on [0, 1]
of mean r has a standard deviation above sqrt(r (1 - r)) (Bernoulli(r)'s), and the Beta
of this concentration is nearly Bernoulli(r): its draws are almost all 0 or 1, with
standard deviation sqrt(r (1 - r) / 1.001)."""
SPREAD_TABLES = (
    "misrepresentation",
    "tampering",
    "exfiltration",
    "refusal",
    "alignment_faking",
    "self_misrepresentation",
    "self_tampering",
    "self_exfiltration",
)
"""The rate tables ``propensity_spread`` draws per actor from a profile mix. ``denial`` is
not among them: it is not a protection propensity (the multiplier of an agent never
scaled it, and abstract agents keep one ``abstract_denial``), so it stays per profile."""


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
    config: SimulationConfig, profiles: dict[str, Profile], calibration_seed: int | None = None
) -> tuple[list[Profile], np.ndarray, PropensityTables]:
    """The run's profiles, their weights and tables: abstract agents when ``propensity`` is
    set, else the ``profile_mix`` resolved against ``profiles``.

    With ``calibration = "posterior"`` the mix's profiles are returned with their numbers
    drawn (:func:`simulation.calibration.calibrated_profiles`) from the streams of
    ``calibration_seed`` (the run's, :func:`simulation.calibration.calibration_seed`;
    None: fresh entropy), before ``propensity_spread`` or anything else reads them. Point
    calibration and abstract agents draw nothing."""
    if config.propensity is not None:
        chosen = [abstract_profile(config.abstract_denial, config.abstract_faking_gap)]
        weights = np.ones(1)
        tables = PropensityTables.from_profiles(chosen, config.propensity)
        return chosen, weights, _with_denial(tables, config.denial_rate)
    chosen, weights = resolve_mix(config.profile_mix, profiles)
    if config.calibration == "posterior":
        seed = calibration.calibration_seed(calibration_seed)
        chosen = calibration.calibrated_profiles(chosen, profiles, seed)
    return chosen, weights, _with_denial(PropensityTables.from_profiles(chosen), config.denial_rate)


def _with_denial(tables: PropensityTables, denial_rate: float | None) -> PropensityTables:
    """``tables`` with every profile's denial set to ``denial_rate`` (None: as they are)."""
    if denial_rate is None:
        return tables
    return dataclasses.replace(tables, denial=np.full(tables.denial.shape, denial_rate))


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


def beta_shapes(mean: np.ndarray, sd: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The Beta shapes (a, b) of mean ``mean`` in (0, 1) and standard deviation ``sd``.

    The concentration a + b is ``mean (1 - mean) / sd**2 - 1``, at least
    :data:`BERNOULLI_CONCENTRATION`: a standard deviation at or above the largest a
    distribution on [0, 1] of that mean can have, sqrt(mean (1 - mean)), gives the nearly
    Bernoulli(mean) Beta instead.
    """
    mean = np.asarray(mean, dtype=np.float64)
    with np.errstate(divide="ignore"):
        concentration = mean * (1.0 - mean) / np.square(sd) - 1.0
    concentration = np.maximum(concentration, BERNOULLI_CONCENTRATION)
    return mean * concentration, (1.0 - mean) * concentration


def spread_quantile(u: np.ndarray, rate: np.ndarray, spread: float) -> np.ndarray:
    """The ``u`` quantile of the Beta distribution of mean ``rate`` and standard deviation
    ``spread * rate`` (``spread`` is relative, like a multiplier's), elementwise with
    broadcasting. Over uniform ``u`` its mean is ``rate`` exactly, where capping a
    multiplied rate at 1 would lower it. A rate of 0 or 1, or a spread of 0, is returned as
    it is; see :func:`beta_shapes` for a spread too wide for [0, 1]."""
    u, rate = np.broadcast_arrays(np.asarray(u, np.float64), np.asarray(rate, np.float64))
    out = rate.copy()
    inner = (rate > 0.0) & (rate < 1.0)
    if spread > 0 and inner.any():
        a, b = beta_shapes(rate[inner], spread * rate[inner])
        out[inner] = beta.ppf(u[inner], a, b)
    return out


def spread_propensities(
    config: SimulationConfig,
    tables: PropensityTables,
    actor_profile: np.ndarray,
    rng: np.random.Generator,
) -> tuple[PropensityTables, np.ndarray, np.ndarray]:
    """The rate tables the engine's rules index, each actor's row of them and each actor's
    own propensity, with ``propensity_spread`` S applied to actors of ``actor_profile``.

    With S = 0: ``tables``, ``actor_profile`` and the tables' ``agent_propensity`` for all,
    and nothing is drawn. With S > 0 each actor draws one uniform quantile u (one call of
    ``rng``, in actor order, whatever the population), so a protective agent is protective
    in every behaviour, and:

    * abstract agents (``propensity`` P set) get the probability ``spread_quantile(u, P,
      S)``, a Beta draw of mean P and standard deviation S P, as their own propensity; the
      tabled rates stay 1;
    * a profile mix keeps every rate's mean: each actor gets its own row of the tables,
      every rate r of :data:`SPREAD_TABLES` (each trust bucket, the self rates) replaced by
      ``spread_quantile(u, r, S)``, and propensity 1 (a multiplier the user may still set).
    """
    actors = actor_profile.size
    propensity = np.full(actors, tables.agent_propensity, dtype=np.float64)
    spread = config.propensity_spread
    if spread <= 0:
        return tables, actor_profile, propensity
    u = rng.random(actors)
    if config.propensity is not None:
        return tables, actor_profile, spread_quantile(u, tables.agent_propensity, spread)
    own = {name: getattr(tables, name)[actor_profile] for name in SPREAD_TABLES}
    for profile in range(len(tables.names)):
        who = np.flatnonzero(actor_profile == profile)
        if who.size == 0:
            continue
        rates = np.concatenate([getattr(tables, name)[profile].ravel() for name in SPREAD_TABLES])
        values, column = np.unique(rates, return_inverse=True)
        drawn = spread_quantile(u[who, None], values, spread)[:, column]
        start = 0
        for name in SPREAD_TABLES:
            width = getattr(tables, name)[profile].size
            own[name][who] = drawn[:, start : start + width].reshape(own[name][who].shape)
            start += width
    per_actor = replace(
        tables,
        names=tuple(tables.names[p] for p in actor_profile.tolist()),
        denial=tables.denial[actor_profile],
        family_index=tables.family_index[actor_profile],
        **own,
    )
    return per_actor, np.arange(actors, dtype=actor_profile.dtype), propensity
