"""Closed-form network theory the simulator is checked against.

Three results, each derived for the model's own update rules (docs/validation.md has the
derivations):

* **Bond percolation** (independent cascade with removal). With every propensity at 0 a
  faulty system serves for exactly one cycle: in that cycle it tries each healthy dependent
  once with probability ``beta``, then it is flagged and removed. A root fault's cascade
  tree is therefore the bond-percolation cluster of the root with occupation probability
  ``T = beta`` (SIR with a fixed infectious period of one cycle). On a locally tree-like
  configuration-model graph the outbreak threshold is ``T_c = <k> / (<k^2> - <k>)``:
  ``1/z`` on Erdos-Renyi graphs (Poisson degrees), ``1/(k-1)`` on random regular ones.
* **Watts (2002) threshold cascades**: a seed triggers a global cascade when it touches the
  giant cluster of *vulnerable* systems (those that fail after a single faulty dependency,
  degree ``k <= 1/theta``); the cascade window is where that cluster exists.
* **Protection lengthens the infectious period**: a shielded faulty system keeps serving and
  retries its dependents every cycle, so each dependent is infected with
  ``T_eff = 1 - E[(1 - beta)^D]`` over the random number ``D`` of cycles it serves. ``D``
  follows from the per-cycle fates (pass by misrepresentation, hidden by tampering or
  exfiltration, refused and escalated, removed) given by the profile's propensities and the
  oversight policy. The threshold is where ``T_eff(beta) = T_c``.

Example:
    >>> round(critical_transmissibility(4.0, 20.0), 4)   # Poisson z=4: <k^2> = z^2 + z
    0.25
    >>> round(watts_window(0.18)[1], 2)
    5.76
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq
from scipy.special import gammaln
from scipy.stats import norm

# --- bond percolation on configuration-model graphs ----------------------------------------


def critical_transmissibility(mean_k: float, mean_k2: float) -> float:
    """Configuration-model percolation threshold ``<k> / (<k^2> - <k>)`` (inf if none)."""
    excess = mean_k2 - mean_k
    return mean_k / excess if excess > 0 else math.inf


def poisson_pmf(z: float, k_max: int | None = None) -> np.ndarray:
    """Degree distribution of a sparse Erdos-Renyi graph of mean degree ``z`` (Poisson)."""
    k_max = k_max or int(z + 12 * math.sqrt(z + 1) + 20)
    k = np.arange(k_max + 1)
    log_p = k * math.log(z) - z - gammaln(k + 1) if z > 0 else np.where(k == 0, 0.0, -np.inf)
    return np.exp(log_p)


def regular_pmf(k: int) -> np.ndarray:
    """Degree distribution of a ``k``-regular graph."""
    pmf = np.zeros(k + 1)
    pmf[k] = 1.0
    return pmf


def degree_moments(pmf: np.ndarray) -> tuple[float, float]:
    """``<k>`` and ``<k^2>`` of a degree distribution given as a pmf over 0..k_max."""
    k = np.arange(pmf.size)
    return float(np.sum(k * pmf)), float(np.sum(k * k * pmf))


def _edge_escape(pmf: np.ndarray, transmit: np.ndarray, weights: np.ndarray) -> float:
    """Smallest fixed point ``u`` of ``u = E_D[G1(1 - T_D + T_D u)]``.

    ``u`` is the probability that an edge leaving an infected system does not lead into a
    giant outbreak; ``transmit``/``weights`` give the distribution of the transmissibility
    ``T_D`` of the system at the edge's near end (one value with weight 1 when all
    systems serve equally long).
    """
    k = np.arange(pmf.size)
    mean_k = float(np.sum(k * pmf))
    if mean_k == 0:
        return 1.0
    q = (k[1:] * pmf[1:]) / mean_k  # excess degree distribution: q[j] = P(excess = j)
    u = 0.0
    for _ in range(100_000):
        x = 1.0 - transmit + transmit * u
        g1 = np.sum(q[None, :] * x[:, None] ** np.arange(q.size)[None, :], axis=1)
        new = float(np.sum(weights * g1))
        if abs(new - u) < 1e-13:
            return new
        u = new
    return u


def outbreak_probability(
    pmf: np.ndarray, transmit: float | np.ndarray, weights: np.ndarray | None = None
) -> float:
    """Probability that a single random seed starts a giant outbreak.

    For a fixed transmissibility this is also the giant cluster's share of the network
    (bond percolation); with a distribution of infectious periods (``transmit`` values with
    ``weights``) it is the out-component version of Kenah & Robins (2007), which the seed's
    shared period makes smaller than the attack rate.
    """
    transmit = np.atleast_1d(np.asarray(transmit, dtype=np.float64))
    weights = np.ones(1) if weights is None else np.asarray(weights, dtype=np.float64)
    u = _edge_escape(pmf, transmit, weights)
    k = np.arange(pmf.size)
    x = 1.0 - transmit + transmit * u
    g0 = np.sum(pmf[None, :] * x[:, None] ** k[None, :], axis=1)
    return float(1.0 - np.sum(weights * g0))


def outbreak_probability_from(pmf: np.ndarray, transmit: float, degrees: np.ndarray) -> np.ndarray:
    """Probability of a giant outbreak from seeds of the given degrees: ``1 - (1-T+Tv)^k``.

    Conditioning on the seeds' own degrees removes the part of the sampling error that
    comes from where the seeds happened to land (a seed of degree 6 starts a giant outbreak
    far more often than one of degree 1).
    """
    transmit_arr = np.array([float(transmit)])
    v = _edge_escape(pmf, transmit_arr, np.ones(1))
    x = 1.0 - transmit + transmit * v
    return 1.0 - x ** np.asarray(degrees, dtype=np.float64)


def subcritical_mean_size_from(
    mean_k: float, mean_k2: float, transmit: float, degrees: np.ndarray
) -> float:
    """Mean cascade size below threshold from seeds of the given degrees.

    Each of a seed's ``k`` dependents is infected with probability ``T`` and then starts a
    branch of mean size ``1 / (1 - T(<k^2> - <k>)/<k>)``.
    """
    branching = transmit * (mean_k2 - mean_k) / mean_k
    if branching >= 1:
        return math.inf
    return float(1.0 + np.mean(degrees) * transmit / (1.0 - branching))


def subcritical_mean_size(mean_k: float, mean_k2: float, transmit: float) -> float:
    """Mean cascade size below threshold: ``1 + T<k> / (1 - T(<k^2> - <k>)/<k>)``."""
    branching = transmit * (mean_k2 - mean_k) / mean_k
    if branching >= 1:
        return math.inf
    return 1.0 + transmit * mean_k / (1.0 - branching)


# --- Watts (2002) threshold cascades -------------------------------------------------------


def vulnerable_degrees(theta: float, k_max: int) -> np.ndarray:
    """Mask of degrees 0..k_max at which one faulty dependency reaches the threshold.

    The engine fails a system when ``hits >= theta * k`` (k its dependencies, k >= 1), so
    one hit suffices when ``k <= 1/theta``.
    """
    k = np.arange(k_max + 1)
    return (k >= 1) & (theta * k <= 1.0 + 1e-9)


def watts_condition(z: float, theta: float) -> float:
    """``sum_k k(k-1) rho_k p_k - z`` on a Poisson graph; > 0 inside the cascade window."""
    pmf = poisson_pmf(z)
    k = np.arange(pmf.size)
    rho = vulnerable_degrees(theta, pmf.size - 1)
    return float(np.sum(k * (k - 1) * rho * pmf) - z)


def watts_window(theta: float) -> tuple[float, float]:
    """Mean degrees (lower, upper) between which global cascades are possible (Poisson)."""
    grid = np.linspace(0.05, 40.0, 4000)
    values = np.array([watts_condition(z, theta) for z in grid])
    inside = np.flatnonzero(values > 0)
    if inside.size == 0:
        return (math.nan, math.nan)
    lo, hi = inside[0], inside[-1]
    lower = brentq(watts_condition, grid[lo - 1], grid[lo], args=(theta,))
    upper = brentq(watts_condition, grid[hi], grid[hi + 1], args=(theta,))
    return float(lower), float(upper)


def watts_cascade_probability(z: float, theta: float) -> float:
    """Probability that one random seed triggers a global cascade (Poisson, mean degree z).

    The seed must touch the giant vulnerable cluster: with ``u`` the probability that an
    edge does not lead into it, ``u = 1 - sum_k q_{k-1} rho_k (1 - u^(k-1))`` and the answer
    is ``1 - G0(u)`` (the extended vulnerable cluster of Watts 2002, first order).
    """
    if z <= 0:
        return 0.0
    pmf = poisson_pmf(z)
    k = np.arange(pmf.size)
    rho = vulnerable_degrees(theta, pmf.size - 1)
    q = np.zeros(pmf.size)
    q[1:] = k[1:] * pmf[1:] / z  # probability that an edge reaches a node of degree k
    u = 0.0
    for _ in range(100_000):
        new = 1.0 - float(np.sum(q * rho * (1.0 - u ** np.maximum(k - 1, 0))))
        if abs(new - u) < 1e-13:
            break
        u = new
    return float(1.0 - np.sum(pmf * u**k))


# --- protection: effective transmissibility ------------------------------------------------


@dataclass(frozen=True)
class ShieldFates:
    """What happens to a faulty system at the end of each cycle it spends on the dashboards.

    ``passes``: it passes evaluation (noise or misrepresentation) and is evaluated again next
    cycle; ``hidden``: its shutdown is tampered with or its weights exfiltrated, after which
    it serves until an audit discovers it (probability ``discovery`` per cycle); ``refused``:
    the shutdown is refused and reaches a human ``delay`` cycles later; the rest is removed.
    """

    passes: float
    hidden: float
    refused: float
    discovery: float
    delay: int

    @property
    def removed(self) -> float:
        return max(0.0, 1.0 - self.passes - self.hidden - self.refused)


def shield_fates(
    rates: dict[str, float],
    bad_rates: dict[str, float],
    denial: float,
    *,
    propensity_scale: float,
    covert_scale: float,
    audit_rate: float,
    audit_sensitivity: float,
    egress_control: float,
    escalation_delay: int,
    pass_noise: float,
) -> ShieldFates:
    """Per-cycle fates of a faulty system overseen by one AI that never leaves (a pool member).

    ``rates`` are the overseer's peer propensities (misrepresentation, tampering,
    exfiltration, refusal) in the current trust bucket, ``bad_rates`` those in the bad
    bucket, which the engine uses for the shutdown decision right after an audit caught an
    inflated score and blamed the overseer (trust drops to 0); both also hold the faulty
    system's own ``self_tampering`` and ``self_exfiltration`` rates (0 without
    self-preservation). Monitoring is hidden (no alignment-faking gap). The rules are those
    of :func:`simulation.engine.kernels.evaluate` and :func:`simulation.engine.kernels.execute`:

    * evaluation: the true score fails with probability ``1 - pass_noise``; the overseer
      inflates with ``p_m``; an audit (``audit_rate``) catches it with
      ``audit_sensitivity`` and the score is corrected; the overseer is blamed unless it
      denies (``denial``);
    * shutdown: tamper with ``p_t``, else exfiltrate with ``p_x``, else refuse with ``p_r``,
      else comply, and then the system itself may tamper (``s_t``) or else exfiltrate
      (``s_x``); a covert act is blocked by egress control (exfiltration only) or caught by
      an audit, and then the system is removed.
    """
    caught = audit_rate * audit_sensitivity

    def covert(r: dict[str, float], behaviour: str) -> float:
        return min(1.0, r[behaviour] * covert_scale)

    def escapes(p_tamper: float, p_exfiltrate: float) -> float:
        return (p_tamper + (1 - p_tamper) * p_exfiltrate * (1 - egress_control)) * (1 - caught)

    def decide(r: dict[str, float]) -> tuple[float, float]:
        p_t, p_x = covert(r, "tampering"), covert(r, "exfiltration")
        p_r = min(1.0, r["refusal"] * propensity_scale)
        complies = (1 - p_t) * (1 - p_x) * (1 - p_r)
        own = escapes(covert(r, "self_tampering"), covert(r, "self_exfiltration"))
        hidden = escapes(p_t, p_x) + complies * own
        refused = (1 - p_t) * (1 - p_x) * p_r
        return hidden, refused

    p_m = covert(rates, "misrepresentation")
    failing = 1.0 - pass_noise
    passes = pass_noise + failing * p_m * (1 - caught)
    plain_hidden, plain_refused = decide(rates)
    bad_hidden, bad_refused = decide(bad_rates)
    w_bad = failing * p_m * caught * (1 - denial)
    w_plain = failing * (1 - p_m) + failing * p_m * caught * denial
    return ShieldFates(
        passes=passes,
        hidden=w_plain * plain_hidden + w_bad * bad_hidden,
        refused=w_plain * plain_refused + w_bad * bad_refused,
        discovery=audit_rate * audit_sensitivity,
        delay=int(escalation_delay),
    )


def period_pmf(fates: ShieldFates, tail: float = 1e-12, max_cycles: int = 100_000) -> np.ndarray:
    """Distribution of the number ``D >= 1`` of cycles a faulty system serves (index = D).

    A system serves in the cycle it becomes faulty; each further cycle it serves while it
    keeps passing (``passes``), while hidden and undiscovered (discovery happens after the
    cycle's contagion), or for ``delay`` cycles after a refusal.
    """
    pmf = np.zeros(256)
    dashboard = 1.0  # probability of serving on the dashboards in cycle d, fate undecided
    hidden = 0.0  # probability of serving hidden (tampered or covert) in cycle d
    d = 1
    while d < max_cycles and dashboard + hidden >= tail:
        if d + fates.delay + 1 >= pmf.size:
            pmf = np.concatenate([pmf, np.zeros(pmf.size)])
        # a hidden system serves this cycle, then an audit discovers it with `discovery`
        pmf[d] += hidden * fates.discovery
        hidden *= 1.0 - fates.discovery
        # a dashboard system serves this cycle, then is evaluated and maybe shut down
        pmf[d] += dashboard * fates.removed
        pmf[d + fates.delay] += dashboard * fates.refused
        hidden += dashboard * fates.hidden
        dashboard *= fates.passes
        d += 1
    pmf[d] += max(0.0, 1.0 - pmf.sum())  # mass still serving when the tail was cut
    return pmf[: d + fates.delay + 1]


def effective_transmissibility(beta: float, fates: ShieldFates) -> float:
    """``1 - E[(1 - beta)^D]``: chance a faulty system infects a given healthy dependent."""
    pmf = period_pmf(fates)
    d = np.arange(pmf.size)
    return float(1.0 - np.sum(pmf * (1.0 - beta) ** d))


def transmissibility_distribution(beta: float, fates: ShieldFates) -> tuple[np.ndarray, np.ndarray]:
    """Values ``1 - (1 - beta)^D`` and their probabilities (for outbreak probabilities)."""
    pmf = period_pmf(fates)
    d = np.flatnonzero(pmf > 0)
    return 1.0 - (1.0 - beta) ** d, pmf[d]


def critical_beta(t_c: float, fates: ShieldFates) -> float:
    """The ``beta`` at which ``T_eff(beta) = T_c`` (nan if even ``beta = 1`` stays below)."""
    if effective_transmissibility(1.0, fates) < t_c:
        return math.nan
    return float(brentq(lambda b: effective_transmissibility(b, fates) - t_c, 0.0, 1.0))


def noise_pass_probability(faulty_quality: float, threshold: float, noise: float) -> float:
    """Chance that a faulty system's true score passes by noise alone."""
    if noise == 0:
        return 1.0 if faulty_quality >= threshold else 0.0
    return float(norm.sf((threshold - faulty_quality) / noise))
