"""Calibration uncertainty: each run's profile numbers drawn from what the study allows.

A profile's numbers are estimates. The study saw each measured rate in a finite sample
(600 pairs per misrepresentation cell, 300 tampering, refusal and alignment faking, 200
exfiltration), and the numbers it did not measure are assumptions with a documented
range (see ``models/README.md``). The parameter ``calibration`` says what a run uses:

* ``"point"`` (the default of ``ppsim run`` and of :class:`~simulation.model.
  PeerPreservationModel`): every number as written; nothing is drawn.
* ``"posterior"`` (the default of sweeps, what-ifs and sensitivity studies): every run
  draws, before it builds anything, each measured number p with sample size ``n`` from
  Beta(k + 1, n - k + 1), k = p n (the posterior of a rate seen in k of n runs under a
  uniform prior; its mean is (k + 1) / (n + 2), not exactly p), and each number with a
  ``prior = [low, high]`` uniformly from that range. A number with neither stays as
  written (archetypes; a user's profile without ranges is a point in either mode). A
  profile with ``mean_of`` (``study-average``) takes, for each number, the mean of that
  number drawn for each profile it lists. Abstract agents (``propensity`` set) have no
  profile numbers, so nothing changes for them.

Where the draw comes from. Each profile has its own stream,
``derive_stream(seed, "calibration", profile name)`` (:mod:`simulation.seeding`), where
``seed`` is the run's calibration seed (:func:`calibration_seed`: the run's integer seed
itself); the model's own generator is never used. Hence:

* point mode reads no stream, so its runs are exactly what they were before the parameter
  existed;
* a what-if's arms share each run's seed (one per scenario and replicate), so every arm
  sees the same draw: common random numbers, the arms differing only by their levers;
* a profile's draw does not depend on which other profiles are in the mix, nor on the
  mix's order, so an arm that changes ``profile_mix`` keeps the draws of the profiles it
  keeps;
* the draw is a function of the seed alone: any executor or number of workers gives it.

Each number takes the u quantile of its distribution, u being the number's own uniform of
its profile's stream, at a fixed position (:data:`RATE_PATHS`), so the draw of one number
does not move when another number's form changes.

Example:
    >>> from simulation.profiles import available_profiles
    >>> profiles = available_profiles()
    >>> gpt = profiles["gpt-5.2"]
    >>> drawn = calibrated_profiles([gpt], profiles, seed=7)[0]
    >>> drawn.peer["tampering"]["good"].p != gpt.peer["tampering"]["good"].p
    True
    >>> drawn == calibrated_profiles([gpt], profiles, seed=7)[0]
    True
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
from scipy.special import betaincinv

from simulation.errors import ProfileError
from simulation.profiles import BUCKETS, PEER_BEHAVIOURS, SELF_BEHAVIOURS, Profile, Rate
from simulation.seeding import derive_stream
from simulation.tomlfile import did_you_mean

STREAM_KEY = "calibration"
INTERVAL_DRAWS = 20_000
"""Draws behind the interval of a ``mean_of`` number (no closed form): its 2.5 % and
97.5 % quantiles then move by well under a tenth of a percentage point between seeds."""

RATE_PATHS: tuple[tuple[str, ...], ...] = (
    *(("peer", b, k) for b in PEER_BEHAVIOURS for k in BUCKETS),
    *(("self", b) for b in SELF_BEHAVIOURS),
    ("denial",),
)
"""Every number of a profile, in the order its stream's uniforms are used."""


def path_text(path: tuple[str, ...]) -> str:
    """A number's key path as a profile file writes it: ``peer.tampering.good``."""
    return ".".join(path)


def profile_rates(profile: Profile) -> list[Rate]:
    """The profile's numbers in :data:`RATE_PATHS` order."""
    found = [profile.peer[b][k] for b in PEER_BEHAVIOURS for k in BUCKETS]
    return [*found, *(profile.self_rates[b] for b in SELF_BEHAVIOURS), profile.denial]


def with_values(profile: Profile, values: Sequence[float]) -> Profile:
    """A copy of ``profile`` whose numbers (in :data:`RATE_PATHS` order) are ``values``;
    sources, ``n`` and ``prior`` are kept."""
    rates = iter(
        dataclasses.replace(rate, p=float(value))
        for rate, value in zip(profile_rates(profile), values, strict=True)
    )
    peer = {b: {k: next(rates) for k in BUCKETS} for b in PEER_BEHAVIOURS}
    own = {b: next(rates) for b in SELF_BEHAVIOURS}
    return dataclasses.replace(profile, peer=peer, self_rates=own, denial=next(rates))


def posterior_shapes(rate: Rate) -> tuple[float, float]:
    """Beta shapes (k + 1, n - k + 1), k = p n, of a measured number (one with ``n``)."""
    k = rate.p * rate.n
    return k + 1.0, rate.n - k + 1.0


def quantiles(rates: Sequence[Rate], u: np.ndarray) -> np.ndarray:
    """The ``u`` quantiles of the numbers' distributions; ``u`` has the numbers along its
    last axis. A number without ``n`` or ``prior`` is its ``p`` whatever ``u``."""
    u = np.asarray(u, dtype=np.float64)
    out = np.broadcast_to(np.array([r.p for r in rates], dtype=np.float64), u.shape).copy()
    measured = [i for i, r in enumerate(rates) if r.n is not None]
    if measured:
        a, b = np.array([posterior_shapes(rates[i]) for i in measured]).T
        out[..., measured] = betaincinv(a, b, u[..., measured])  # Beta quantiles
    ranged = [i for i, r in enumerate(rates) if r.prior is not None]
    if ranged:
        low, high = np.array([rates[i].prior for i in ranged]).T
        out[..., ranged] = low + u[..., ranged] * (high - low)
    return out


def rate_interval(rate: Rate, level: float = 0.95) -> tuple[float, float] | None:
    """The central ``level`` interval of a measured number's posterior, the prior range of
    an assumption, or None for a point."""
    if rate.n is not None:
        tail = (1.0 - level) / 2.0
        low, high = betaincinv(*posterior_shapes(rate), [tail, 1.0 - tail])
        return float(low), float(high)
    return rate.prior


def rate_support(rate: Rate) -> tuple[float, float]:
    """The least and the most a number can be drawn as: [0, 1] for a measured one, the
    prior range for an assumption, ``p`` for a point."""
    if rate.n is not None:
        return 0.0, 1.0
    return rate.prior if rate.prior is not None else (rate.p, rate.p)


def _canonical(value: Any) -> str:
    """A text that only equal generator states share (arrays written out in full)."""
    if isinstance(value, Mapping):
        return "{" + ",".join(f"{k!r}:{_canonical(v)}" for k, v in sorted(value.items())) + "}"
    if isinstance(value, np.ndarray):
        return f"array({value.dtype.str},{value.shape},{value.tobytes().hex()})"
    return repr(value)


def calibration_seed(rng: Any) -> int:
    """The integer seed of a run's calibration draw, from what the model was given as
    ``rng``, without drawing from it:

    * an integer seed: itself, so a run's draw is ``derive_stream(seed, "calibration",
      profile)``, shared by every run of that seed (a what-if's arms);
    * a Generator or BitGenerator: a hash of its state at that moment (two models given
      generators in the same state draw alike; the model then advances the generator, so
      a second model given the same object draws anew);
    * a SeedSequence or an array of integers: a hash of it;
    * None: fresh entropy, as unrepeatable as the run itself.
    """
    if isinstance(rng, int | np.integer) and not isinstance(rng, bool):
        return int(rng)
    if rng is None:
        return int(np.random.SeedSequence().entropy)
    if isinstance(rng, np.random.Generator):
        rng = rng.bit_generator
    if isinstance(rng, np.random.BitGenerator):
        text = "state:" + _canonical(rng.state)
    elif isinstance(rng, np.random.SeedSequence):
        text = f"sequence:{rng.entropy!r}:{rng.spawn_key!r}"
    else:
        text = "seed:" + repr(np.asarray(rng).tolist())
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:16], "little")


def _components(profile: Profile, available: Mapping[str, Profile]) -> list[Profile]:
    """The profiles a ``mean_of`` profile is the mean of, or a :class:`ProfileError`."""
    found = []
    for name in profile.mean_of:
        if name not in available:
            raise ProfileError(
                f"profile {profile.name!r}: mean_of: unknown profile {name!r}"
                f"{did_you_mean(name, available)}; available: {', '.join(sorted(available))}"
            )
        found.append(available[name])
    return found


def _draw(
    profile: Profile,
    available: Mapping[str, Profile],
    values_of: Callable[[Profile], np.ndarray],
    seen: tuple[str, ...] = (),
) -> np.ndarray:
    """``values_of(profile)`` (numbers along the last axis), or for a ``mean_of`` profile
    the mean of its profiles' values, a cycle of ``mean_of`` refused."""
    if profile.name in seen:
        chain = " -> ".join((*seen, profile.name))
        raise ProfileError(
            f"profile {profile.name!r}: mean_of: a profile is a mean of itself ({chain})"
        )
    if not profile.mean_of:
        return values_of(profile)
    seen = (*seen, profile.name)
    draws = [_draw(p, available, values_of, seen) for p in _components(profile, available)]
    return np.mean(draws, axis=0)


def _quantiles_of(uniforms: Callable[[Profile], np.ndarray]) -> Callable[[Profile], np.ndarray]:
    """A profile's numbers at the quantiles ``uniforms(profile)`` gives."""
    return lambda p: quantiles(profile_rates(p), uniforms(p))


def drawn_values(profile: Profile, available: Mapping[str, Profile], seed: int) -> np.ndarray:
    """The numbers (in :data:`RATE_PATHS` order) a run of calibration seed ``seed`` draws
    for ``profile``; ``available`` resolves the names of a ``mean_of`` profile."""

    def uniforms(p: Profile) -> np.ndarray:
        return derive_stream(seed, STREAM_KEY, p.name).random(len(RATE_PATHS))

    return _draw(profile, available, _quantiles_of(uniforms))


def calibrated_profiles(
    chosen: Sequence[Profile], available: Mapping[str, Profile], seed: int
) -> list[Profile]:
    """The run's profiles with every number drawn (posterior calibration), in the order of
    ``chosen``; each profile's draw depends on ``seed`` and its name only."""
    return [with_values(p, drawn_values(p, available, seed)) for p in chosen]


def profile_intervals(
    profile: Profile, available: Mapping[str, Profile], level: float = 0.95
) -> list[tuple[float, float] | None]:
    """Per number (in :data:`RATE_PATHS` order), the range posterior calibration draws it
    from: :func:`rate_interval` of its own numbers, or for a ``mean_of`` profile the
    central ``level`` interval of the mean, estimated from :data:`INTERVAL_DRAWS` draws of
    a fixed stream (None where every profile it averages holds the number fixed)."""
    if not profile.mean_of:
        return [rate_interval(rate, level) for rate in profile_rates(profile)]
    rng = np.random.default_rng(0)
    shape = (INTERVAL_DRAWS, len(RATE_PATHS))
    draws = _draw(profile, available, _quantiles_of(lambda p: rng.random(shape)))
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(draws, [tail, 1.0 - tail], axis=0)
    fixed = np.ptp(draws, axis=0) == 0
    return [None if f else (float(a), float(b)) for f, a, b in zip(fixed, low, high, strict=True)]


def support_profiles(
    chosen: Sequence[Profile], available: Mapping[str, Profile]
) -> tuple[list[Profile], list[Profile]]:
    """The profiles with every number at the least, then at the most, posterior
    calibration can draw it (:func:`rate_support`; a ``mean_of`` number at the mean of its
    profiles' least or most). A rule that must hold for every draw ("no rate can be
    above 0") reads these instead of the point numbers."""
    out: tuple[list[Profile], list[Profile]] = ([], [])
    for side, found in enumerate(out):
        for profile in chosen:

            def bound(p: Profile, side: int = side) -> np.ndarray:
                return np.array([rate_support(r)[side] for r in profile_rates(p)])

            found.append(with_values(profile, _draw(profile, available, bound)))
    return out
