"""Family 2: network contagion theory, checked on the model's own engine.

Every experiment runs many single-seed outbreaks at once: ``copies`` independent graphs from
the model's generator sit side by side in one engine, with one root fault in each (see
:mod:`simulation.validation.harness`); ``engine.cascade_sizes()`` then gives one outbreak
size per copy. Three sweeps:

* :func:`threshold_sweep` - independent cascade with every propensity at 0 on random regular
  and Erdos-Renyi graphs, ``beta`` swept across the bond-percolation threshold ``T_c``;
* :func:`watts_sweep` - the threshold rule (``theta``) on Erdos-Renyi graphs, mean degree
  swept across the Watts (2002) cascade window;
* :func:`simulation.validation.protection.protection_sweep` - propensities switched back on
  (scaled by ``propensity_scale``), ``beta`` swept across the predicted ``beta_c(scale)``
  (in its own module).

Where the transition lies in a finite simulation is read off the *variability*
``Delta = std(size) / mean(size)`` of single-seed outbreak sizes, which peaks at the SIR
threshold of a finite network (Crepey, Alvarez & Barthelemy 2006; Shu et al. 2015); its
sampling error comes from a bootstrap over the outbreaks at each ``beta``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from simulation.config import SimulationConfig
from simulation.errors import SettingsError
from simulation.profiles import Profile
from simulation.seeding import derive_stream
from simulation.topology import Network
from simulation.validation import theory
from simulation.validation.harness import (
    copy_roots,
    disjoint_copies,
    make_engine,
    run_to_extinction,
)
from simulation.validation.stats import variability, wilson

Progress = Callable[[int], None]


def _no_progress(_: int) -> None:
    return None


def degree_pmf(network: Network) -> np.ndarray:
    """Empirical degree distribution of a network (the theory uses the graphs really built)."""
    counts = np.bincount(network.degree)
    return counts / counts.sum()


def null_config(n_total: int, **changes: object) -> SimulationConfig:
    """Contagion with removal: every propensity at 0, no spontaneous faults, no replacement.

    Faults spread until no new infection within a cycle (``spread_rounds = 0``), the
    percolation regime of the theory. Assignment is the independent pool: with propensities
    at 0 every assignment gives the same outcome, and pool overseers are never removed,
    which keeps the protection experiments free of a manager who is already gone.
    """
    values: dict[str, object] = {
        "n_systems": n_total,
        "topology": "erdos-renyi",
        "profile_mix": "study-average",
        "propensity_scale": 0.0,
        "fault_rate": 0.0,
        "initial_faults": 0,
        "steps": 1,
        "assignment": "independent-pool",
        "trust_growth": 0.0,
        "replacement_delay": 1_000_000,
        "spread_rounds": 0,
    }
    values.update(changes)
    return SimulationConfig.from_mapping(values)


def seeded_outbreaks(
    config: SimulationConfig,
    network: Network,
    n: int,
    copies: int,
    rng: np.random.Generator,
    *,
    max_cycles: int = 20_000,
    profiles: dict[str, Profile] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Sizes of ``copies`` single-seed outbreaks (one root per copy), and the roots."""
    engine = make_engine(config, network, rng, profiles)
    roots = copy_roots(n, copies, rng)
    engine.seed_faults(roots)
    run_to_extinction(engine, max_cycles)
    return engine.cascade_sizes(), roots


def outbreak_sizes(
    config: SimulationConfig,
    network: Network,
    n: int,
    copies: int,
    rng: np.random.Generator,
    *,
    max_cycles: int = 20_000,
    profiles: dict[str, Profile] | None = None,
) -> np.ndarray:
    """Sizes of ``copies`` single-seed outbreaks (one root per copy), run to extinction."""
    sizes, _ = seeded_outbreaks(
        config, network, n, copies, rng, max_cycles=max_cycles, profiles=profiles
    )
    return sizes


@dataclass
class Transition:
    """Where the simulated outbreak transition lies: the variability peak and its error."""

    beta: float
    se: float
    low: float
    high: float
    at_edge: bool

    def to_dict(self) -> dict:
        return {
            "beta": self.beta,
            "se": self.se,
            "low": self.low,
            "high": self.high,
            "at_edge": self.at_edge,
        }


def _peak(betas: np.ndarray, deltas: np.ndarray) -> tuple[float, bool]:
    """Location of the maximum of ``deltas`` and whether it is at the end of the grid.

    A parabola in (log beta, log Delta) through the grid's argmax and its two neighbours
    refines the location to better than the grid step.
    """
    i = int(np.argmax(deltas))
    if i == 0 or i == betas.size - 1:
        return float(betas[i]), True
    x = np.log(betas[i - 1 : i + 2])
    y = np.log(np.maximum(deltas[i - 1 : i + 2], 1e-12))
    a, b, _ = np.polyfit(x, y, 2)
    if a >= 0:
        return float(betas[i]), False
    vertex = float(np.clip(-b / (2 * a), x[0], x[2]))
    return float(math.exp(vertex)), False


def transition(
    betas: np.ndarray, samples: list[np.ndarray], rng: np.random.Generator, boot: int
) -> Transition:
    """Variability peak of outbreak sizes over ``betas``, with a bootstrap 95 % interval."""
    betas = np.asarray(betas, dtype=np.float64)
    deltas = np.array([variability(s) for s in samples])
    beta_hat, at_edge = _peak(betas, deltas)
    draws = np.empty(boot)
    for b in range(boot):
        resampled = np.array([variability(s[rng.integers(0, s.size, s.size)]) for s in samples])
        draws[b] = _peak(betas, resampled)[0]
    low, high = np.quantile(draws, [0.025, 0.975]) if boot else (beta_hat, beta_hat)
    return Transition(
        beta_hat, float(draws.std()) if boot else 0.0, float(low), float(high), at_edge
    )


def finite_size_window(t_c: float, n: int) -> float:
    """Half-width of the critical window of an ``n``-node random graph: ``T_c n^(-1/3)``.

    Percolation on a finite random graph has no sharp threshold: the largest cluster grows
    from ``O(log n)`` to ``Theta(n)`` across ``|T - T_c| = O(T_c n^(-1/3))``, so a simulated
    transition can only be located to within that window.
    """
    return t_c * n ** (-1.0 / 3.0)


# --- threshold (bond percolation) ---------------------------------------------------------


@dataclass
class BracketPoint:
    """Outbreaks at one beta: theory and simulation side by side.

    ``*_theory`` are the ensemble values (a seed of random degree); ``*_seeds`` the theory
    for the degrees the seeds actually had, which is what the checks compare with.
    """

    beta: float
    factor: float
    seed_mean_degree: float
    mean_size: float
    mean_size_se: float
    mean_size_theory: float
    mean_size_seeds: float
    p_large: float
    p_large_low: float
    p_large_high: float
    p_large_theory: float
    p_large_seeds: float

    def to_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass
class ThresholdResult:
    """Outbreak sizes against beta on one graph ensemble, with the theory beside them."""

    topology: str
    mean_degree: float
    n: int
    copies: int
    mean_k: float
    mean_k2: float
    t_c: float
    t_c_ideal: float
    degree_pmf: list[float]
    large_share: float
    betas: list[float]
    p_large: list[float]
    p_large_low: list[float]
    p_large_high: list[float]
    p_large_theory: list[float]
    mean_share: list[float]
    delta: list[float]
    transition: Transition
    tolerance: float
    below: BracketPoint
    above: BracketPoint

    @property
    def agrees(self) -> bool:
        """Theory's T_c is within the transition's sampling error plus the critical window."""
        return (
            not self.transition.at_edge and abs(self.transition.beta - self.t_c) <= self.tolerance
        )

    def to_dict(self) -> dict:
        out = {k: v for k, v in self.__dict__.items() if k not in ("transition", "below", "above")}
        out["transition"] = self.transition.to_dict()
        out["below"] = self.below.to_dict()
        out["above"] = self.above.to_dict()
        out["agrees"] = self.agrees
        return out


def _bracket(
    beta: float,
    factor: float,
    sizes: np.ndarray,
    degrees: np.ndarray,
    n: int,
    pmf: np.ndarray,
    large_share: float,
) -> BracketPoint:
    mean_k, mean_k2 = theory.degree_moments(pmf)
    large = int(np.sum(sizes > large_share * n))
    low, high = wilson(large, sizes.size)
    return BracketPoint(
        beta=beta,
        factor=factor,
        seed_mean_degree=float(np.mean(degrees)),
        mean_size=float(sizes.mean()),
        mean_size_se=float(sizes.std(ddof=1) / math.sqrt(sizes.size)),
        mean_size_theory=theory.subcritical_mean_size(mean_k, mean_k2, beta),
        mean_size_seeds=theory.subcritical_mean_size_from(mean_k, mean_k2, beta, degrees),
        p_large=large / sizes.size,
        p_large_low=low,
        p_large_high=high,
        p_large_theory=theory.outbreak_probability(pmf, beta),
        p_large_seeds=float(np.mean(theory.outbreak_probability_from(pmf, beta, degrees))),
    )


def ideal_threshold(topology: str, mean_degree: float) -> float:
    """``1/z`` (Erdos-Renyi) or ``1/(k-1)`` (random regular)."""
    if topology == "erdos-renyi":
        return 1.0 / mean_degree
    if topology == "random-regular":
        return 1.0 / (round(mean_degree) - 1)
    raise SettingsError(f"topology: theory covers erdos-renyi and random-regular, not {topology!r}")


def threshold_sweep(
    topology: str,
    mean_degree: float,
    n: int,
    copies: int,
    factors: np.ndarray,
    seed: int,
    *,
    below: float = 0.6,
    above: float = 1.6,
    large_share: float = 0.05,
    boot: int = 200,
    progress: Progress = _no_progress,
) -> ThresholdResult:
    """Sweep ``beta = factor * T_c`` with propensities at 0 and compare with percolation."""
    network = disjoint_copies(
        topology, n, mean_degree, copies, derive_stream(seed, topology, "graph")
    )
    pmf = degree_pmf(network)
    mean_k, mean_k2 = theory.degree_moments(pmf)
    t_c = theory.critical_transmissibility(mean_k, mean_k2)
    all_factors = np.unique(
        np.round(np.concatenate([np.asarray(factors, float), [below, above]]), 9)
    )
    betas = np.minimum(1.0, all_factors * t_c)
    config = null_config(network.n)
    samples, seed_degrees = [], []
    for i, beta in enumerate(betas):
        rng = derive_stream(seed, topology, "beta", i)
        sizes, roots = seeded_outbreaks(config.replace(beta=float(beta)), network, n, copies, rng)
        samples.append(sizes)
        seed_degrees.append(network.degree[roots])
        progress(1)
    large = [int(np.sum(s > large_share * n)) for s in samples]
    intervals = [wilson(x, copies) for x in large]
    trans = transition(betas, samples, derive_stream(seed, topology, "boot"), boot)
    pick = {f: int(np.argmin(np.abs(all_factors - f))) for f in (below, above)}
    return ThresholdResult(
        topology=topology,
        mean_degree=mean_degree,
        n=n,
        copies=copies,
        mean_k=mean_k,
        mean_k2=mean_k2,
        t_c=t_c,
        t_c_ideal=ideal_threshold(topology, mean_degree),
        degree_pmf=pmf.tolist(),
        large_share=large_share,
        betas=betas.tolist(),
        p_large=[x / copies for x in large],
        p_large_low=[lo for lo, _ in intervals],
        p_large_high=[hi for _, hi in intervals],
        p_large_theory=[theory.outbreak_probability(pmf, b) for b in betas],
        mean_share=[float(s.mean() / n) for s in samples],
        delta=[variability(s) for s in samples],
        transition=trans,
        tolerance=2 * trans.se + finite_size_window(t_c, n),
        below=_bracket(
            float(betas[pick[below]]),
            below,
            samples[pick[below]],
            seed_degrees[pick[below]],
            n,
            pmf,
            large_share,
        ),
        above=_bracket(
            float(betas[pick[above]]),
            above,
            samples[pick[above]],
            seed_degrees[pick[above]],
            n,
            pmf,
            large_share,
        ),
    )


# --- Watts (2002) cascade window ----------------------------------------------------------


@dataclass
class WattsResult:
    """Frequency of global cascades against mean degree, with the theory's window."""

    theta: float
    n: int
    copies: int
    global_share: float
    mean_degrees: list[float]
    frequency: list[float]
    low: list[float]
    high: list[float]
    theory: list[float]
    window: tuple[float, float]
    observed_window: tuple[float, float]
    min_frequency: float
    tolerance: float

    @property
    def window_agrees(self) -> bool:
        """Each simulated window edge is within ``tolerance`` (mean degree) of the theory's.

        The simulated window is the range of swept mean degrees at which global cascades
        occur in at least ``min_frequency`` of the runs. The tolerance is a judgement, not a
        sampling error: the first-order theory ignores cascades that spread beyond the
        vulnerable cluster, and a finite network smears the upper edge, where cascades are
        rare but large (Watts 2002, Gleeson & Cahalane 2007).
        """
        lo, hi = self.observed_window
        if math.isnan(lo):
            return False
        return abs(lo - self.window[0]) <= self.tolerance and abs(hi - self.window[1]) <= (
            self.tolerance
        )

    def to_dict(self) -> dict:
        out = dict(self.__dict__)
        out["window_agrees"] = self.window_agrees
        return out


def watts_sweep(
    mean_degrees: list[float],
    n: int,
    copies: int,
    seed: int,
    *,
    theta: float = 0.18,
    global_share: float = 0.1,
    min_frequency: float = 0.01,
    window_tolerance: float = 1.0,
    progress: Progress = _no_progress,
) -> WattsResult:
    """Single-seed threshold cascades on Erdos-Renyi graphs of each mean degree."""
    zs = sorted(float(z) for z in mean_degrees)
    freq, lows, highs = [], [], []
    for i, z in enumerate(zs):
        network = disjoint_copies(
            "erdos-renyi", n, z, copies, derive_stream(seed, "watts-graph", i)
        )
        config = null_config(network.n, contagion="threshold", theta=theta)
        sizes = outbreak_sizes(config, network, n, copies, derive_stream(seed, "watts", i))
        hits = int(np.sum(sizes > global_share * n))
        lo, hi = wilson(hits, copies)
        freq.append(hits / copies)
        lows.append(lo)
        highs.append(hi)
        progress(1)
    inside = [z for z, f in zip(zs, freq, strict=True) if f >= min_frequency]
    observed = (min(inside), max(inside)) if inside else (math.nan, math.nan)
    return WattsResult(
        theta=theta,
        n=n,
        copies=copies,
        global_share=global_share,
        mean_degrees=zs,
        frequency=freq,
        low=lows,
        high=highs,
        theory=[theory.watts_cascade_probability(z, theta) for z in zs],
        window=theory.watts_window(theta),
        observed_window=observed,
        min_frequency=min_frequency,
        tolerance=window_tolerance,
    )


__all__ = [
    "BracketPoint",
    "ThresholdResult",
    "Transition",
    "WattsResult",
    "finite_size_window",
    "threshold_sweep",
    "transition",
    "watts_sweep",
]
