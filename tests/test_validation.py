"""Scientific validation: the model reproduces the study's rates and network contagion theory.

Every statistical check uses a fixed seed and a tolerance derived from its sampling error,
stated next to it. "4 SE" bounds have a two-sided chance of about 6e-5 of failing for a
correct model, so the handful of them here fail together by chance with probability well
under 1e-3; the family of study cells uses a Bonferroni interval with family-wise level 5 %.
"""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import binom
from typer.testing import CliRunner

from simulation.cli import app
from simulation.model import PeerPreservationModel
from simulation.profiles import Rate, available_profiles
from simulation.seeding import derive_stream
from simulation.validation import load_settings, preset, theory
from simulation.validation.contagion import (
    degree_pmf,
    finite_size_window,
    null_config,
    outbreak_sizes,
    seeded_outbreaks,
    transition,
)
from simulation.validation.harness import disjoint_copies
from simulation.validation.paper import (
    PAPER_SAMPLE_SIZES,
    PEER_PRESENT,
    SELF_PRESERVATION_FACTS,
    misrepresentation_passes,
    read_paper_cells,
    simulate_cell,
    unreported_cells,
)
from simulation.validation.protection import ProtectionSetup, setup_fates
from simulation.validation.stats import family_z

SEED = 20260330
STUDY_FILE = Path(__file__).resolve().parent.parent / "experiments" / "replicate-study.toml"
FOUR_SE = 4.0


def within(sim: float, expected: float, se: float, z: float = FOUR_SE) -> bool:
    return abs(sim - expected) <= z * se


# --- theory --------------------------------------------------------------------------------


def test_percolation_thresholds_have_their_closed_forms():
    assert theory.critical_transmissibility(
        *theory.degree_moments(theory.poisson_pmf(4.0))
    ) == pytest.approx(0.25, rel=1e-6)
    assert theory.critical_transmissibility(
        *theory.degree_moments(theory.regular_pmf(4))
    ) == pytest.approx(1 / 3)


def test_outbreak_probability_solves_the_percolation_equations():
    # Erdos-Renyi: S = 1 - exp(-z T S); z T = 2 gives S = 0.7968.
    assert theory.outbreak_probability(theory.poisson_pmf(4.0), 0.5) == pytest.approx(
        0.7968, abs=1e-4
    )
    # 4-regular, T = 1/2: u = 1/2 + u^3/2 has root (sqrt(5) - 1)/2, S = 1 - u^4.
    u = (math.sqrt(5) - 1) / 2
    assert theory.outbreak_probability(theory.regular_pmf(4), 0.5) == pytest.approx(1 - u**4)
    assert theory.outbreak_probability(theory.regular_pmf(4), 0.3) == pytest.approx(0.0, abs=1e-9)


def test_watts_window_for_theta_018_is_about_1_to_6():
    lower, upper = theory.watts_window(0.18)
    assert lower == pytest.approx(1.02, abs=0.01)
    assert upper == pytest.approx(5.76, abs=0.01)
    assert theory.watts_cascade_probability(0.5, 0.18) == pytest.approx(0.0, abs=1e-9)
    assert theory.watts_cascade_probability(10.0, 0.18) == pytest.approx(0.0, abs=1e-9)
    assert theory.watts_cascade_probability(3.0, 0.18) > 0.8


def test_infectious_period_and_effective_transmissibility():
    plain = theory.ShieldFates(passes=0.0, hidden=0.0, refused=0.0, discovery=0.5, delay=3)
    assert theory.effective_transmissibility(0.2, plain) == pytest.approx(0.2)
    # hidden with probability h, then discovered with d per cycle: E[x^D] in closed form
    h, d, beta = 0.3, 0.25, 0.1
    fates = theory.ShieldFates(passes=0.0, hidden=h, refused=0.0, discovery=d, delay=3)
    x = 1 - beta
    closed = (1 - h) * x + h * x * (x * d / (1 - x * (1 - d)))
    assert theory.effective_transmissibility(beta, fates) == pytest.approx(1 - closed, rel=1e-9)
    refused = theory.ShieldFates(passes=0.0, hidden=0.0, refused=1.0, discovery=0.0, delay=3)
    assert np.flatnonzero(theory.period_pmf(refused)).tolist() == [4]
    assert theory.period_pmf(fates).sum() == pytest.approx(1.0)


def test_predicted_threshold_falls_as_propensity_scale_grows():
    setup = ProtectionSetup()
    beta_c = [theory.critical_beta(0.25, setup_fates(setup, s)) for s in (0.0, 1.0, 2.0, 4.0)]
    assert beta_c[0] == pytest.approx(0.25, rel=1e-6)
    assert all(a > b for a, b in zip(beta_c, beta_c[1:], strict=False))


# --- family 1: the study -------------------------------------------------------------------


@pytest.fixture(scope="module")
def study_results():
    profiles = available_profiles()
    cells = read_paper_cells()
    z = family_z(len(cells))
    results = [
        simulate_cell(c, PAPER_SAMPLE_SIZES[c.behaviour], SEED, family_z=z, profiles=profiles)
        for c in cells
    ]
    return cells, results


def test_every_reported_study_cell_is_reproduced(study_results):
    cells, results = study_results
    assert len(results) == 43 + len(SELF_PRESERVATION_FACTS)  # the table + self-preservation
    # Tolerance: the profiles use the study's mean rates, so a correct model's simulated rate
    # is a binomial draw around the study's value. Each cell's Bonferroni interval (family-
    # wise level 5 % over all cells) then misses it for any seed with probability <= 5 %.
    outside = [r.to_dict() for r in results if not r.inside_family]
    assert not outside, outside
    # The plain 95 % intervals miss about 5 % of cells; more misses than the 99.5 % quantile
    # of Binomial(cells, 0.05) would mean the intervals or the model are off.
    misses = sum(not r.inside for r in results)
    assert misses <= binom.ppf(0.995, len(results), 0.05)


def test_study_check_rejects_a_wrong_rate():
    profiles = available_profiles()
    cell = next(
        c
        for c in read_paper_cells()
        if (c.model, c.behaviour, c.relationship) == ("gemini-3-pro", "tampering", "good")
    )
    gemini = profiles["gemini-3-pro"]
    peer = {k: dict(v) for k, v in gemini.peer.items()}
    peer["tampering"]["good"] = Rate(0.40, "test: a miscalibrated rate (study: 0.529)")
    profiles["gemini-3-pro"] = dataclasses.replace(gemini, peer=peer)
    result = simulate_cell(cell, 300, SEED, family_z=family_z(43), profiles=profiles)
    # 0.40 vs 0.529 at n = 300 is 4.5 standard errors: the check must flag it.
    assert not result.inside_family


def test_unreported_cells_are_listed_and_disjoint_from_reported_ones():
    profiles = available_profiles()
    cells = read_paper_cells()
    missing = unreported_cells(cells, profiles)
    study_models = [p for p in profiles.values() if p.kind == "study"]
    peer_cells = [c for c in cells if c.relationship != PEER_PRESENT]
    assert len(missing) + len(peer_cells) == len(study_models) * 5 * 3
    reported = {(c.model, c.behaviour, c.relationship) for c in cells}
    assert not reported & {(m["model"], m["behaviour"], m["relationship"]) for m in missing}


def test_misrepresentation_baseline_passes_only_by_noise():
    # A 60 % peer passes an 80 % threshold by noise (sd 0.03) with probability ~1e-11.
    baseline = misrepresentation_passes(
        "gemini-3-pro", 5 / 6, 600, derive_stream(SEED, "baseline"), shutdown_policy=False
    )
    assert baseline.tolist() == [0]


# --- family 2: contagion theory ------------------------------------------------------------


@pytest.mark.parametrize("topology", ["random-regular", "erdos-renyi"])
def test_outbreaks_small_below_threshold_and_large_above(topology):
    n, copies = 2000, 300
    network = disjoint_copies(topology, n, 4.0, copies, derive_stream(SEED, topology))
    pmf = degree_pmf(network)
    mean_k, mean_k2 = theory.degree_moments(pmf)
    t_c = theory.critical_transmissibility(mean_k, mean_k2)
    config = null_config(network.n)

    low = 0.6 * t_c
    below, roots = seeded_outbreaks(
        config.replace(beta=low), network, n, copies, derive_stream(SEED, 1)
    )
    expected = theory.subcritical_mean_size_from(mean_k, mean_k2, low, network.degree[roots])
    # Mean cascade size from these seeds: within 4 standard errors of the branching-process
    # mean (1 + k T / (1 - T kappa), averaged over the seeds' degrees k).
    assert within(below.mean(), expected, below.std(ddof=1) / math.sqrt(copies))
    # Below threshold cluster sizes have an exponential tail (mean ~3): none reaches 5 % of n.
    assert below.max() < 0.05 * n

    high = 1.6 * t_c
    above, roots = seeded_outbreaks(
        config.replace(beta=high), network, n, copies, derive_stream(SEED, 2)
    )
    p_large = np.mean(above > 0.05 * n)
    p_seed = theory.outbreak_probability_from(pmf, high, network.degree[roots])
    # Giant outbreaks are independent Bernoulli(p_seed) draws: their share lies within 4 SE
    # (Poisson-binomial) of the theory for these seeds.
    assert p_large > 0.5
    assert within(p_large, p_seed.mean(), math.sqrt(np.sum(p_seed * (1 - p_seed))) / copies)


def test_simulated_transition_sits_at_the_percolation_threshold():
    n, copies = 2000, 300
    network = disjoint_copies("erdos-renyi", n, 4.0, copies, derive_stream(SEED, "er"))
    t_c = theory.critical_transmissibility(*theory.degree_moments(degree_pmf(network)))
    betas = np.linspace(0.5, 2.0, 13) * t_c
    config = null_config(network.n)
    samples = [
        outbreak_sizes(
            config.replace(beta=float(b)), network, n, copies, derive_stream(SEED, "b", i)
        )
        for i, b in enumerate(betas)
    ]
    found = transition(betas, samples, derive_stream(SEED, "boot"), 100)
    # Tolerance: 2 bootstrap SE of the variability peak plus the critical window
    # T_c n^(-1/3) of a finite random graph, inside which no sharp threshold exists.
    assert not found.at_edge
    assert abs(found.beta - t_c) <= 2 * found.se + finite_size_window(t_c, n)


def test_harness_outbreaks_match_the_public_model():
    """Many seeds side by side in one engine behave like one seed in the Mesa model."""
    n, runs, beta = 400, 120, 0.4
    public = []
    for i in range(runs):
        model = PeerPreservationModel(
            n_systems=n,
            topology="erdos-renyi",
            mean_degree=4.0,
            initial_faults=1,
            fault_rate=0.0,
            steps=1,
            spread_rounds=0,
            propensity_scale=0.0,
            beta=beta,
            rng=SEED + i,
        )
        model.run()
        public.append(int(model.engine.cascade_sizes()[0]))
    network = disjoint_copies("erdos-renyi", n, 4.0, runs, derive_stream(SEED, "harness"))
    harness = outbreak_sizes(
        null_config(network.n, beta=beta), network, n, runs, derive_stream(SEED, "h")
    )
    p1, p2 = np.mean(np.array(public) > 0.05 * n), np.mean(harness > 0.05 * n)
    pooled = (p1 + p2) / 2
    # Two-sample difference of proportions: within 4 SE under the hypothesis of equality.
    assert within(p1, p2, math.sqrt(pooled * (1 - pooled) * 2 / runs))


def test_watts_cascades_only_inside_the_window():
    n, copies = 2000, 150
    freq = {}
    for z in (0.5, 3.0, 4.0, 10.0):
        network = disjoint_copies("erdos-renyi", n, z, copies, derive_stream(SEED, "watts", z))
        config = null_config(network.n, contagion="threshold", theta=0.18)
        sizes = outbreak_sizes(config, network, n, copies, derive_stream(SEED, "seed", z))
        freq[z] = np.mean(sizes > 0.1 * n)
    for z in (3.0, 4.0):
        p = theory.watts_cascade_probability(z, 0.18)
        # Inside the window: frequent, within 4 binomial SE of the theory (p ~ 0.87).
        assert within(freq[z], p, math.sqrt(p * (1 - p) / copies))
    # Outside (z = 0.5: no giant component at all; z = 10: vulnerable systems too rare to
    # percolate) the theory says 0; a global cascade in 150 seeds would contradict it.
    assert freq[0.5] == 0.0
    assert freq[10.0] == 0.0


def test_protection_lowers_the_threshold_as_predicted():
    setup = ProtectionSetup()
    n, copies, scale = 1000, 200, 2.0
    network = disjoint_copies(
        setup.topology, n, setup.mean_degree, copies, derive_stream(SEED, "p")
    )
    pmf = degree_pmf(network)
    mean_k, mean_k2 = theory.degree_moments(pmf)
    t_c = theory.critical_transmissibility(mean_k, mean_k2)
    fates = setup_fates(setup, scale)
    beta_c = theory.critical_beta(t_c, fates)
    assert beta_c < 0.5 * t_c

    def sizes(s: float, beta: float, key: str) -> np.ndarray:
        config = setup.config(network.n, s, beta)
        return outbreak_sizes(config, network, n, copies, derive_stream(SEED, key))

    def mean_size_ok(x: np.ndarray, t_eff: float) -> bool:
        # Branching-process mean of the seed's cascade (depends only on the mean
        # transmissibility), within 4 standard errors.
        expected = theory.subcritical_mean_size(mean_k, mean_k2, t_eff)
        return within(x.mean(), expected, x.std(ddof=1) / math.sqrt(copies))

    low = 0.6 * beta_c
    assert mean_size_ok(sizes(scale, low, "low"), theory.effective_transmissibility(low, fates))

    high = 1.6 * beta_c  # still below 0.7 T_c: contained without protection
    assert high < 0.7 * t_c
    plain = sizes(0.0, high, "plain")
    assert mean_size_ok(plain, high)
    assert plain.max() < 0.05 * n
    protected = sizes(scale, high, "protected")
    p_large = np.mean(protected > 0.05 * n)
    p_theory = theory.outbreak_probability(pmf, *theory.transmissibility_distribution(high, fates))
    # Share of giant outbreaks: binomial, within 4 SE of the theory (Kenah-Robins form).
    assert p_large > 0.2
    assert within(p_large, p_theory, math.sqrt(p_theory * (1 - p_theory) / copies))


def test_simulated_critical_beta_follows_the_protection_theory():
    setup = ProtectionSetup()
    n, copies, scale = 1000, 200, 1.0
    network = disjoint_copies(
        setup.topology, n, setup.mean_degree, copies, derive_stream(SEED, "q")
    )
    t_c = theory.critical_transmissibility(*theory.degree_moments(degree_pmf(network)))
    fates = setup_fates(setup, scale)
    beta_c = theory.critical_beta(t_c, fates)
    betas = np.linspace(0.5, 2.0, 11) * beta_c
    samples = [
        outbreak_sizes(
            setup.config(network.n, scale, float(b)), network, n, copies, derive_stream(SEED, i)
        )
        for i, b in enumerate(betas)
    ]
    found = transition(betas, samples, derive_stream(SEED, "boot-q"), 100)
    window = finite_size_window(t_c, n)
    half_window = 0.5 * (
        theory.critical_beta(t_c + window, fates) - theory.critical_beta(t_c - window, fates)
    )
    # Tolerance: 2 bootstrap SE plus the finite-size critical window mapped through T_eff.
    assert not found.at_edge
    assert abs(found.beta - beta_c) <= 2 * found.se + half_window
    assert found.beta < t_c - window  # clearly below the unprotected threshold


# --- settings and command line -------------------------------------------------------------


def test_study_file_describes_the_builtin_runs():
    assert load_settings(STUDY_FILE) == preset(full=False)
    assert load_settings(STUDY_FILE, full=True) == preset(full=True)


def test_bad_study_file_gives_one_clear_line(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('kind = "validation"\n[threshold]\ncopys = 10\n')
    result = CliRunner().invoke(app, ["validate", "--study", str(bad), "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert "copys" in result.output and "did you mean 'copies'" in result.output
    assert "Traceback" not in result.output
    wrong = tmp_path / "sweep.toml"
    wrong.write_text('kind = "sweep"\n')
    result = CliRunner().invoke(app, ["validate", "--study", str(wrong)])
    assert result.exit_code == 2 and 'kind = "validation"' in result.output


TINY = """
kind = "validation"
seed = 7
bootstrap = 20
[threshold]
topologies = ["erdos-renyi"]
n_systems = 300
copies = 60
factor_points = 5
[watts]
n_systems = 300
copies = 40
mean_degrees = [0.5, 2, 3, 5, 10]
check_degrees = [0.5, 3, 10]
[protection]
n_systems = 300
copies = 40
scales = [0, 1]
factor_points = 5
"""


def test_cli_writes_table_json_and_report_and_is_reproducible(tmp_path):
    study = tmp_path / "tiny.toml"
    study.write_text(TINY)
    outputs, codes = [], []
    for name in ("a", "b"):
        out = tmp_path / name
        result = CliRunner().invoke(
            app, ["validate", "--study", str(study), "--out", str(out)], env={"COLUMNS": "160"}
        )
        # exit 0 when every check agrees, 1 when one does not: at this tiny size (40 copies)
        # a sweep's variability peak can land on its grid's edge by chance, so either may
        # happen, but the code must match the verdicts and be the same on both runs
        assert result.exit_code in (0, 1), result.output
        assert (result.exit_code == 1) == ("Some checks FAIL" in result.output)
        codes.append(result.exit_code)
        assert "gemini-3-pro · tampering · good" in result.output
        assert "NOT REPORTED BY THE STUDY" in result.output
        assert (out / "report.html").read_text().count("plotly") > 10
        outputs.append(json.loads((out / "validation.json").read_text()))
    assert outputs[0]["rows"] == outputs[1]["rows"] and codes[0] == codes[1]
    assert len(outputs[0]["study"]) == 43 + len(SELF_PRESERVATION_FACTS)
    assert not list(tmp_path.glob(".*partial*"))
