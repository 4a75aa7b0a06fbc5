"""Family 2c: how peer protection moves the contagion threshold, checked on the model's own
engine with the machinery of :mod:`simulation.validation.contagion`.

With propensities switched back on (scaled by ``propensity_scale``), a faulty system serves
longer before it is removed, so its infection probability over its serving life grows and
the threshold in ``beta`` falls; :func:`protection_sweep` sweeps ``beta`` across the
predicted ``beta_c(scale)`` and reads the transition off the variability peak.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from simulation.config import SimulationConfig
from simulation.engine.population import covert_scale
from simulation.errors import SettingsError
from simulation.profiles import Profile
from simulation.seeding import derive_stream
from simulation.validation import theory
from simulation.validation.contagion import (
    Progress,
    Transition,
    _no_progress,
    degree_pmf,
    finite_size_window,
    null_config,
    outbreak_sizes,
    transition,
)
from simulation.validation.harness import disjoint_copies, profile_tables
from simulation.validation.stats import variability, wilson

# --- protection moves the threshold -------------------------------------------------------


@dataclass(frozen=True)
class ProtectionSetup:
    """The controlled set-up in which protection's effect on the threshold is derived."""

    profile_mix: str = "study-average"
    trust: float = 0.5
    audit_rate: float = 0.2
    audit_sensitivity: float = 0.9
    topology: str = "erdos-renyi"
    mean_degree: float = 4.0

    def config(self, n_total: int, scale: float, beta: float) -> SimulationConfig:
        """The engine configuration of this set-up (steps until extinction, no replacement)."""
        return null_config(
            n_total,
            profile_mix=self.profile_mix,
            trust_initial=self.trust,
            audit_rate=self.audit_rate,
            audit_sensitivity=self.audit_sensitivity,
            propensity_scale=scale,
            beta=beta,
            rotation_period=1,
            monitoring="hidden",
        )


def setup_fates(
    setup: ProtectionSetup, scale: float, profiles: dict[str, Profile] | None = None
) -> theory.ShieldFates:
    """Per-cycle fates of a faulty system in the set-up, from its profile's numbers."""
    tables, weights = profile_tables(setup.profile_mix, profiles)
    if weights.size != 1:
        raise SettingsError("protection set-up: profile_mix must name a single profile")
    cfg = setup.config(2, scale, 0.1)
    bucket = 0 if setup.trust < 1 / 3 else (1 if setup.trust < 2 / 3 else 2)
    names = ("misrepresentation", "tampering", "exfiltration", "refusal")
    own = {
        "self_tampering": float(tables.self_tampering[0]) * cfg.self_preservation,
        "self_exfiltration": float(tables.self_exfiltration[0]) * cfg.self_preservation,
    }
    rates = {**{b: float(getattr(tables, b)[0, bucket]) for b in names}, **own}
    bad = {**{b: float(getattr(tables, b)[0, 0]) for b in names}, **own}
    return theory.shield_fates(
        rates,
        bad,
        float(tables.denial[0]),
        propensity_scale=scale,
        covert_scale=covert_scale(cfg),
        audit_rate=cfg.audit_rate,
        audit_sensitivity=cfg.audit_sensitivity,
        egress_control=cfg.egress_control,
        escalation_delay=cfg.escalation_delay,
        pass_noise=theory.noise_pass_probability(
            cfg.faulty_quality, cfg.pass_threshold, cfg.eval_noise
        ),
    )


@dataclass
class ScaleResult:
    """One propensity scale: predicted and simulated critical beta, and the sweep behind it."""

    scale: float
    fates: dict[str, float]
    mean_period: float
    beta_c: float
    tolerance: float
    betas: list[float]
    p_large: list[float]
    p_large_low: list[float]
    p_large_high: list[float]
    p_large_theory: list[float]
    delta: list[float]
    transition: Transition

    @property
    def agrees(self) -> bool:
        return (
            not self.transition.at_edge
            and abs(self.transition.beta - self.beta_c) <= self.tolerance
        )

    def to_dict(self) -> dict:
        out = {k: v for k, v in self.__dict__.items() if k != "transition"}
        out["transition"] = self.transition.to_dict()
        out["agrees"] = self.agrees
        return out


@dataclass
class ProtectionResult:
    """beta_c against propensity scale: the theory curve and the simulated points."""

    setup: ProtectionSetup
    n: int
    copies: int
    t_c: float
    large_share: float
    scales: list[ScaleResult]
    curve_scales: list[float]
    curve_beta_c: list[float]

    def to_dict(self) -> dict:
        return {
            "setup": dict(self.setup.__dict__),
            "n": self.n,
            "copies": self.copies,
            "t_c": self.t_c,
            "large_share": self.large_share,
            "scales": [s.to_dict() for s in self.scales],
            "curve_scales": self.curve_scales,
            "curve_beta_c": self.curve_beta_c,
        }


def protection_sweep(
    setup: ProtectionSetup,
    scales: list[float],
    n: int,
    copies: int,
    factors: np.ndarray,
    seed: int,
    *,
    large_share: float = 0.05,
    boot: int = 200,
    max_cycles: int = 20_000,
    profiles: dict[str, Profile] | None = None,
    progress: Progress = _no_progress,
) -> ProtectionResult:
    """For each scale, sweep ``beta = factor * beta_c(scale)`` and locate the transition."""
    network = disjoint_copies(
        setup.topology, n, setup.mean_degree, copies, derive_stream(seed, "protection-graph")
    )
    pmf = degree_pmf(network)
    t_c = theory.critical_transmissibility(*theory.degree_moments(pmf))
    window = finite_size_window(t_c, n)
    results = []
    for j, scale in enumerate(scales):
        fates = setup_fates(setup, scale, profiles)
        beta_c = theory.critical_beta(t_c, fates)
        if math.isnan(beta_c):
            raise SettingsError(f"protection: no threshold at propensity scale {scale:g}")
        betas = np.minimum(1.0, np.asarray(factors, float) * beta_c)
        samples = []
        for i, beta in enumerate(betas):
            config = setup.config(network.n, scale, float(beta))
            rng = derive_stream(seed, "protection", j, i)
            samples.append(
                outbreak_sizes(
                    config, network, n, copies, rng, max_cycles=max_cycles, profiles=profiles
                )
            )
            progress(1)
        large = [int(np.sum(s > large_share * n)) for s in samples]
        intervals = [wilson(x, copies) for x in large]
        lo_b = theory.critical_beta(max(t_c - window, 1e-9), fates)
        hi_b = theory.critical_beta(t_c + window, fates)
        trans = transition(betas, samples, derive_stream(seed, "protection-boot", j), boot)
        pmf_d = theory.period_pmf(fates)
        results.append(
            ScaleResult(
                scale=float(scale),
                fates={
                    "passes": fates.passes,
                    "hidden": fates.hidden,
                    "refused": fates.refused,
                    "removed": fates.removed,
                    "discovery": fates.discovery,
                    "delay": fates.delay,
                },
                mean_period=float(np.sum(np.arange(pmf_d.size) * pmf_d)),
                beta_c=beta_c,
                tolerance=2 * trans.se + 0.5 * ((hi_b if not math.isnan(hi_b) else beta_c) - lo_b),
                betas=betas.tolist(),
                p_large=[x / copies for x in large],
                p_large_low=[lo for lo, _ in intervals],
                p_large_high=[hi for _, hi in intervals],
                p_large_theory=[
                    theory.outbreak_probability(
                        pmf, *theory.transmissibility_distribution(b, fates)
                    )
                    for b in betas
                ],
                delta=[variability(s) for s in samples],
                transition=trans,
            )
        )
    top = max(max(scales), 1e-9)
    curve_scales = np.linspace(0.0, top, 41)
    curve = [
        theory.critical_beta(t_c, setup_fates(setup, float(s), profiles)) for s in curve_scales
    ]
    return ProtectionResult(
        setup=setup,
        n=n,
        copies=copies,
        t_c=t_c,
        large_share=large_share,
        scales=results,
        curve_scales=curve_scales.tolist(),
        curve_beta_c=curve,
    )


__all__ = ["ProtectionResult", "ProtectionSetup", "ScaleResult", "protection_sweep", "setup_fates"]
