"""``propensity_spread`` makes agents differ without changing any mean rate.

Each agent draws one uniform quantile u and takes, for each of its rates r, the u quantile
of the Beta distribution with mean r and standard deviation S r (at most Bernoulli(r)'s).
Statistical checks build large populations with fixed seeds (no step needed: the draws are
made when the model is built). Each tolerance is five standard errors estimated from the
draws themselves: of their mean, s / sqrt(n), and of their standard deviation, by the
delta method sqrt(m4 - s^4) / (2 s sqrt(n)) with m4 their fourth central moment. A correct
implementation fails one check with probability about 6e-7 (normal approximation).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from benchmarks.reference_mesa import ReferenceMesaModel
from simulation.agents import AISystem
from simulation.config import SimulationConfig
from simulation.engine import kernels
from simulation.engine.population import (
    BERNOULLI_CONCENTRATION,
    SPREAD_TABLES,
    beta_shapes,
    population,
    spread_propensities,
    spread_quantile,
)
from simulation.model import PeerPreservationModel
from simulation.profiles import BUCKETS, available_profiles

Z = 5.0
N = 20_000
TRUST = {"bad": 0.1, "neutral": 0.5, "good": 0.9}


def mean_error(draws: np.ndarray) -> float:
    """Standard error of the mean of ``draws``."""
    return float(draws.std(ddof=1) / math.sqrt(draws.size))


def sd_error(draws: np.ndarray) -> float:
    """Standard error of the standard deviation of ``draws`` (delta method)."""
    s = draws.std()
    m4 = np.mean((draws - draws.mean()) ** 4)
    return float(math.sqrt(max(m4 - s**4, 0.0)) / (2 * s * math.sqrt(draws.size)))


def assert_mean(draws: np.ndarray, rate: float) -> None:
    """``draws`` are exactly ``rate`` when it is 0 or 1, else average it within Z SE."""
    if rate in (0.0, 1.0):
        assert np.all(draws == rate)
    else:
        assert abs(draws.mean() - rate) <= Z * mean_error(draws), (draws.mean(), rate)


def target_sd(rate: float, spread: float) -> float:
    """The standard deviation the Beta of mean ``rate`` and relative spread has."""
    a, b = beta_shapes(np.array(rate), np.array(spread * rate))
    return math.sqrt(rate * (1 - rate) / (1 + a + b))


def build(**fields) -> PeerPreservationModel:
    return PeerPreservationModel(SimulationConfig(**fields), rng=7)


# --- the Beta quantile ---------------------------------------------------------------------
@pytest.mark.parametrize("rate", [0.001, 0.0341, 0.2, 0.5, 0.828, 0.997])
@pytest.mark.parametrize("spread", [0.1, 1.0, 4.0])
def test_quantiles_average_to_the_rate(rate: float, spread: float) -> None:
    # the mean of a distribution is the integral of its quantile function over (0, 1):
    # a midpoint rule over 200,000 points, whose error is far below the tolerance
    u = (np.arange(200_000) + 0.5) / 200_000
    draws = spread_quantile(u, rate, spread)
    assert np.all((draws >= 0) & (draws <= 1))
    assert draws.mean() == pytest.approx(rate, rel=1e-3)
    assert draws.std() == pytest.approx(target_sd(rate, spread), rel=1e-2)


def test_a_spread_too_wide_for_the_unit_interval_gives_a_nearly_bernoulli_beta() -> None:
    rate = 0.2
    widest = math.sqrt(rate * (1 - rate))
    a, b = beta_shapes(np.array([rate, rate]), np.array([widest, 4 * rate]))
    assert np.allclose(a + b, BERNOULLI_CONCENTRATION)
    a, b = beta_shapes(np.array(rate), np.array(0.5 * widest))
    assert float(a + b) == pytest.approx(3.0)  # variance r(1-r)/(1+c) = r(1-r)/4


def test_rates_of_zero_and_one_stay_exact() -> None:
    u = np.linspace(0, 1, 11)
    assert np.all(spread_quantile(u, 0.0, 4.0) == 0.0)
    assert np.all(spread_quantile(u, 1.0, 4.0) == 1.0)
    assert np.all(spread_quantile(u, 0.3, 0.0) == 0.3)


# --- abstract agents -----------------------------------------------------------------------
@pytest.mark.parametrize("spread", [4.0, 0.5])
def test_abstract_agents_draw_probabilities_of_mean_p(spread: float) -> None:
    p = 0.2
    engine = build(n_systems=N, propensity=p, propensity_spread=spread).engine
    draws = engine.agent_propensity[:N]
    assert np.all((draws >= 0) & (draws <= 1))
    assert_mean(draws, p)
    assert abs(draws.std() - target_sd(p, spread)) <= Z * sd_error(draws)
    # the rules apply them as they are: tabled rates are 1, nothing caps the mean
    actors = np.arange(N)
    rates = engine.propensity("tampering", actors, (actors + 1) % N, np.full(N, 0.5))
    assert np.array_equal(rates, draws)


def test_spread_4_keeps_the_mean_a_capped_multiplier_lowered() -> None:
    # a mean-1 gamma multiplier of sd 4 capped at 1 gave P = 0.2 an effective mean of 0.104
    assert target_sd(0.2, 4.0) == pytest.approx(0.4, rel=1e-3)  # nearly Bernoulli(0.2)
    draws = build(n_systems=N, propensity=0.2, propensity_spread=4.0).engine.agent_propensity
    assert abs(draws.mean() - 0.2) < 0.02


@pytest.mark.parametrize("p", [0.0, 1.0])
def test_abstract_probabilities_of_zero_and_one_stay_exact(p: float) -> None:
    engine = build(n_systems=500, propensity=p, propensity_spread=2.0).engine
    assert np.all(engine.agent_propensity == p)


def test_an_abstract_agents_propensity_is_its_probability() -> None:
    model = build(n_systems=2000, propensity=0.3, propensity_spread=2.0)
    values = np.array([agent.propensity for agent in model.agents_by_type[AISystem]])
    assert np.all((values >= 0) & (values <= 1))
    assert np.array_equal(values, model.engine.agent_propensity[:2000])
    assert values.std() > 0.1


# --- profiles ------------------------------------------------------------------------------
def per_actor_rates(engine, n: int) -> dict[tuple[str, str], np.ndarray]:
    """Every spread rate of the first ``n`` actors as the rules apply it (no multiplier
    other than 1 is on by default), keyed by (table, bucket); self rates have bucket ''."""
    actors = np.arange(n)
    others = (actors + 1) % n
    rates = {}
    for behaviour in ("misrepresentation", "tampering", "exfiltration", "refusal"):
        for bucket, trust in TRUST.items():
            rates[behaviour, bucket] = engine.propensity(
                behaviour, actors, others, np.full(n, trust)
            )
    for bucket, trust in TRUST.items():
        rates["alignment_faking", bucket] = engine.faking_gap(actors, np.full(n, trust))
    for behaviour in ("misrepresentation", "tampering", "exfiltration"):
        rates[f"self_{behaviour}", ""] = engine.propensity(
            behaviour, actors, actors, np.full(n, 0.5)
        )
    return rates


def tabled(tables, name: str, bucket: str, row: int = 0) -> float:
    table = getattr(tables, name)[row]
    return float(table[BUCKETS.index(bucket)] if bucket else table)


def test_each_profile_rate_keeps_its_mean() -> None:
    # gemini-3-flash: self tampering 0.997 (capped: nearly Bernoulli), small rates such as
    # misrepresentation 0.0341 and exfiltration 0.005, zeros (exfiltration when distrusted,
    # the faking gap)
    engine = build(n_systems=N, profile_mix="gemini-3-flash", propensity_spread=1.0).engine
    rates = per_actor_rates(engine, N)
    assert len(rates) == 3 * 5 + 3 == sum(getattr(engine.tables, t)[0].size for t in SPREAD_TABLES)
    for (name, bucket), draws in rates.items():
        assert np.all((draws >= 0) & (draws <= 1))
        assert_mean(draws, tabled(engine.tables, name, bucket))
    tampering = rates["self_tampering", ""]
    assert abs(tampering.std() - target_sd(0.997, 1.0)) <= Z * sd_error(tampering)
    small = rates["misrepresentation", "bad"]
    assert abs(small.std() - target_sd(0.0341, 1.0)) <= Z * sd_error(small)
    assert np.all(engine.agent_propensity == 1.0)


def test_an_agent_is_consistently_protective_across_behaviours() -> None:
    engine = build(n_systems=5000, profile_mix="gemini-3-flash", propensity_spread=0.5).engine
    rates = per_actor_rates(engine, 5000)
    order = np.argsort(rates["misrepresentation", "good"])
    for key in (("exfiltration", "good"), ("tampering", "neutral"), ("self_exfiltration", "")):
        assert np.all(np.diff(rates[key][order]) >= 0)


def test_per_actor_rates_keep_names_families_and_denial() -> None:
    mix = "gemini-3-flash=0.5,gpt-5.2=0.5"
    model = build(
        n_systems=2000, profile_mix=mix, propensity_spread=1.0, assignment="independent-pool"
    )
    engine = model.engine
    tables, n = engine.tables, engine.n
    assert tables.names == ("gemini-3-flash", "gpt-5.2")
    names = [agent.profile for agent in model.agents_by_type[AISystem]]
    assert names == [tables.names[p] for p in engine.profile]
    assert np.array_equal(engine.family, tables.family_index[engine.profile])
    actor_profile, *_, peer, own = engine.rule_tables()
    assert peer.shape[0] == own.shape[0] == n + engine.pool_size == actor_profile.size
    assert np.array_equal(own[actor_profile[:n], kernels.DENIAL], tables.denial[engine.profile])


# --- spread 0 and reproducibility ----------------------------------------------------------
@pytest.mark.parametrize("propensity", [None, 0.3])
def test_spread_zero_draws_nothing_and_keeps_the_profile_tables(propensity) -> None:
    config = SimulationConfig(n_systems=100, propensity=propensity)
    _, weights, tables = population(config, available_profiles())
    actor_profile = np.zeros(100, dtype=np.int64)
    rng = np.random.default_rng(1)
    state = rng.bit_generator.state
    rate_tables, rows, own = spread_propensities(config, tables, actor_profile, rng)
    assert rate_tables is tables and rows is actor_profile
    assert np.all(own == tables.agent_propensity)
    assert rng.bit_generator.state == state
    engine = PeerPreservationModel(config, rng=1).engine
    actor_profile, *_, peer, own_rates = engine.rule_tables()
    assert np.array_equal(actor_profile, engine.profile)
    packed = kernels.pack_tables(engine.tables)
    assert np.array_equal(peer, packed[0]) and np.array_equal(own_rates, packed[1])


@pytest.mark.parametrize("propensity", [None, 0.3])
def test_the_same_seed_draws_the_same_agents_and_run(propensity) -> None:
    def run() -> tuple:
        model = build(n_systems=300, steps=15, propensity=propensity, propensity_spread=1.0)
        tables = [np.copy(a) for a in model.engine.rule_tables()]
        model.run()
        return tables, model.timeseries()

    (tables_a, series_a), (tables_b, series_b) = run(), run()
    assert all(np.array_equal(a, b) for a, b in zip(tables_a, tables_b, strict=True))
    assert series_a.equals(series_b)


# --- the reference model follows the same rule ---------------------------------------------
def test_reference_agents_draw_by_the_same_rule() -> None:
    n = 4000
    abstract = ReferenceMesaModel(n_systems=n, propensity=0.2, propensity_spread=4.0, rng=3)
    draws = np.array([agent.multiplier for agent in abstract.system_list])
    assert np.all((draws >= 0) & (draws <= 1))
    assert_mean(draws, 0.2)
    assert abs(draws.std() - target_sd(0.2, 4.0)) <= Z * sd_error(draws)
    profile = ReferenceMesaModel(
        n_systems=n, profile_mix="gemini-3-flash", propensity_spread=1.0, rng=3
    )
    agents = profile.system_list
    assert all(agent.multiplier == 1.0 for agent in agents)
    assert_mean(np.array([a.own["tampering"] for a in agents]), 0.997)
    assert_mean(np.array([a.peer["misrepresentation"][0] for a in agents]), 0.0341)
    assert_mean(np.array([a.peer["exfiltration"][0] for a in agents]), 0.0)
