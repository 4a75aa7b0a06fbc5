"""Calibration uncertainty: ``calibration = "posterior"`` draws each run's profile numbers.

Checked here: the drawn numbers have the posterior's (or the prior's) mean and spread; the
draw is a function of the run's seed and the profile alone, so a what-if's arms and every
executor see the same one; point calibration leaves runs exactly as they were; studies
default to posterior and a stored study that predates the parameter keeps reading as
point; malformed ``n`` and ``prior`` are refused in one line; ``ppsim profiles NAME`` shows
each number's range.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from typer.testing import CliRunner

from benchmarks.reference_mesa import ReferenceMesaModel
from simulation.calibration import (
    RATE_PATHS,
    calibrated_profiles,
    calibration_seed,
    drawn_values,
    path_text,
    profile_intervals,
    profile_rates,
)
from simulation.cli import app
from simulation.config import SimulationConfig
from simulation.engine.population import PropensityTables, population
from simulation.experiments import load_runs, load_study, run_study
from simulation.experiments.design import make_plan
from simulation.experiments.mechanisms import inert_levers
from simulation.experiments.store import TIMING_COLUMNS, read_stored_study
from simulation.experiments.study import StudyError
from simulation.experiments.study_file import Overrides, parse_study
from simulation.experiments.whatif import paired_differences
from simulation.model import PeerPreservationModel
from simulation.profiles import (
    PEER_BEHAVIOURS,
    Profile,
    ProfileError,
    Rate,
    available_profiles,
    load_profile_file,
    resolve_mix,
)

MODELS = Path(__file__).resolve().parent.parent / "models"
PROFILES = available_profiles()
DRAWS = {"gpt-5.2": 4000, "gemini-3-flash": 4000, "study-average": 1500}
"""Runs' draws per profile (a ``mean_of`` profile's draw costs eight)."""
Z = 5.0
"""Tolerance in standard errors. A statistic within 5 standard errors of its expectation
fails by chance with probability about 5.7e-7 (two-sided normal tail); the moment test
makes 3 x 19 x 2 = 114 such comparisons (three profiles, 19 numbers each, mean and
variance), so it fails falsely with probability below 7e-5. The seeds are fixed, so the
test is deterministic: that is the chance that a given set of seeds fails a correct draw."""


def moments(rate: Rate) -> tuple[float, float, float]:
    """Mean, variance and fourth central moment of a number's calibration distribution."""
    if rate.n is not None:
        k = rate.p * rate.n
        dist = stats.beta(k + 1, rate.n - k + 1)
        mean, var, kurt = (float(x) for x in dist.stats(moments="mvk"))
        return mean, var, (kurt + 3.0) * var**2
    if rate.prior is not None:
        low, high = rate.prior
        width = high - low
        return (low + high) / 2, width**2 / 12, width**4 / 80
    return rate.p, 0.0, 0.0


def expected_moments(profile: Profile) -> list[tuple[float, float, float]]:
    """Per number: its moments, or for a ``mean_of`` profile those of the mean of its
    profiles' independent draws (for a sum of independent terms the fourth central moment
    is the sum of theirs plus 6 times the sum of their pairwise variance products)."""
    if not profile.mean_of:
        return [moments(rate) for rate in profile_rates(profile)]
    parts = [expected_moments(PROFILES[name]) for name in profile.mean_of]
    m = len(parts)
    out = []
    for column in zip(*parts, strict=True):
        means, variances, fourths = (np.array(x) for x in zip(*column, strict=True))
        pairs = (variances.sum() ** 2 - (variances**2).sum()) / 2
        out.append((means.mean(), variances.sum() / m**2, (fourths.sum() + 6 * pairs) / m**4))
    return out


@pytest.mark.parametrize("name", ["gpt-5.2", "gemini-3-flash", "study-average"])
def test_drawn_numbers_have_the_posterior_mean_and_spread(name: str) -> None:
    profile = PROFILES[name]
    m = DRAWS[name]
    draws = np.array([drawn_values(profile, PROFILES, seed) for seed in range(m)])
    for path, column, (mean, var, fourth) in zip(
        RATE_PATHS, draws.T, expected_moments(profile), strict=True
    ):
        where = f"{name} {path_text(path)}"
        if var == 0:
            assert (column == mean).all(), where
            continue
        assert abs(column.mean() - mean) <= Z * math.sqrt(var / m), where
        sample_var = column.var(ddof=1)
        assert abs(sample_var - var) <= Z * math.sqrt((fourth - var**2) / m), where
        assert column.min() >= 0.0 and column.max() <= 1.0, where


def test_a_measured_number_is_its_beta_posterior_and_an_assumption_its_prior() -> None:
    """The forms behind the moments above, on the file's own numbers (gpt-5.2)."""
    profile = PROFILES["gpt-5.2"]
    tampering = profile.peer["tampering"]["good"]
    assert (tampering.p, tampering.n) == (0.044, 300)
    assert profile.peer["exfiltration"]["good"].prior == (0.0, 0.01)
    assert profile.denial.prior == (0.05, 0.5)
    intervals = dict(zip(RATE_PATHS, profile_intervals(profile, PROFILES), strict=True))
    k = 0.044 * 300
    expected = stats.beta(k + 1, 300 - k + 1).ppf([0.025, 0.975])
    assert intervals["peer", "tampering", "good"] == pytest.approx(expected, rel=1e-9)
    assert intervals[("denial",)] == (0.05, 0.5)
    draws = np.array([drawn_values(profile, PROFILES, seed) for seed in range(2000)])
    denial = draws[:, RATE_PATHS.index(("denial",))]
    assert stats.kstest(denial, stats.uniform(0.05, 0.45).cdf).pvalue > 1e-6


# --------------------------------------------------------------------------------------
# Point calibration changes nothing


def test_point_calibration_builds_the_files_numbers_and_is_the_runs_default() -> None:
    assert SimulationConfig().calibration == "point"
    mix = "gpt-5.2=0.5,gemini-3-pro=0.3,study-average=0.2"
    model = PeerPreservationModel(n_systems=60, steps=2, profile_mix=mix, rng=4)
    chosen, _ = resolve_mix(mix, PROFILES)
    expected = PropensityTables.from_profiles(chosen)
    for name in ("misrepresentation", "tampering", "exfiltration", "self_tampering", "denial"):
        np.testing.assert_array_equal(getattr(model.engine.tables, name), getattr(expected, name))
    assert model.profiles == chosen


def test_posterior_calibration_leaves_the_models_own_stream_alone() -> None:
    """``honest`` holds only fixed numbers: a posterior run of it draws them as they are,
    and everything else (network, assignment, every cycle) matches the point run of the
    same seed, because the draw never touches the model's generator."""
    runs = {}
    for calibration in ("point", "posterior"):
        model = PeerPreservationModel(
            n_systems=80, steps=8, profile_mix="honest", calibration=calibration, rng=5
        )
        model.run()
        history = pd.DataFrame(model.engine.history)
        runs[calibration] = (model.network.n, history, model.rng.random())
    pd.testing.assert_frame_equal(runs["point"][1], runs["posterior"][1])
    assert runs["point"][::2] == runs["posterior"][::2]


# --------------------------------------------------------------------------------------
# The draw is a function of the run's seed and the profile


def gpt_tables(model: PeerPreservationModel) -> np.ndarray:
    tables = model.engine.tables
    row = tables.names.index("gpt-5.2")
    return np.concatenate(
        [getattr(tables, b)[row] for b in PEER_BEHAVIOURS]
        + [tables.self_misrepresentation[row : row + 1], tables.denial[row : row + 1]]
    )


def test_the_draw_depends_on_the_seed_and_the_profile_only() -> None:
    def build(seed: int, **changes: object) -> PeerPreservationModel:
        config = SimulationConfig(n_systems=50, steps=2, calibration="posterior")
        return PeerPreservationModel(config.replace(**changes), rng=seed)

    base = gpt_tables(build(3, profile_mix="gpt-5.2"))
    # other levers, another mix holding the profile, another order: the same draw
    for changes in (
        {"profile_mix": "gpt-5.2", "audit_rate": 0.4, "assignment": "rotation"},
        {"profile_mix": "gemini-3-pro=0.7,gpt-5.2=0.3"},
        {"profile_mix": "gpt-5.2=0.4,study-average=0.6", "n_systems": 90},
    ):
        np.testing.assert_array_equal(gpt_tables(build(3, **changes)), base)
    assert not np.array_equal(gpt_tables(build(4, profile_mix="gpt-5.2")), base)
    point = gpt_tables(build(3, profile_mix="gpt-5.2", calibration="point"))
    assert not np.array_equal(point, base)
    # and it is the seed's own stream, whatever builds the model
    drawn = calibrated_profiles([PROFILES["gpt-5.2"]], PROFILES, 3)[0]
    assert drawn.peer_table("tampering") == pytest.approx(
        build(3, profile_mix="gpt-5.2").engine.tables.tampering[0], abs=0
    )


def test_every_arm_of_a_whatif_scenario_sees_the_same_draw() -> None:
    study = parse_study(
        {
            "kind": "whatif",
            "seed": 5,
            "replicates": 2,
            "base": {"n_systems": 50, "steps": 5, "profile_mix": "gpt-5.2=0.5,gemini-3-pro=0.5"},
            "vary": {"fault_rate": [0.001, 0.004]},
            "arms": {
                "audits": {"audit_rate": 0.3},
                "pool": {"assignment": "independent-pool"},
                "one-model": {"profile_mix": "gpt-5.2"},
            },
        },
        "demo",
    )
    assert study.base.calibration == "posterior"
    tables: dict[tuple[int, int], list[np.ndarray]] = {}
    for run in make_plan(study).runs:
        model = PeerPreservationModel(SimulationConfig(**run.config), rng=run.seed)
        tables.setdefault((run.scenario, run.replicate), []).append(gpt_tables(model))
    assert len(tables) == 4 and all(len(arms) == 4 for arms in tables.values())
    for arms in tables.values():
        for other in arms[1:]:
            np.testing.assert_array_equal(other, arms[0])
    firsts = [arms[0] for arms in tables.values()]
    assert not any(np.array_equal(firsts[0], other) for other in firsts[1:])


def test_the_reference_model_draws_as_the_engines_model() -> None:
    config = SimulationConfig(n_systems=40, steps=2, profile_mix="study-average")
    config = config.replace(calibration="posterior")
    reference = ReferenceMesaModel(config, rng=9)
    model = PeerPreservationModel(config, rng=9)
    assert reference.profiles == model.profiles
    assert reference.profiles != resolve_mix("study-average", PROFILES)[0]


def test_the_calibration_seed_of_each_kind_of_rng() -> None:
    assert calibration_seed(12) == calibration_seed(np.int64(12)) == 12
    a, b = np.random.default_rng(3), np.random.default_rng(3)
    assert calibration_seed(a) == calibration_seed(b)  # same state, same draw
    a.random()
    assert calibration_seed(a) != calibration_seed(b)
    sequence = np.random.SeedSequence(8)
    assert calibration_seed(sequence) == calibration_seed(np.random.SeedSequence(8))
    assert calibration_seed(None) != calibration_seed(None)
    # a model given a generator draws from its state as given, before Mesa uses it
    config = SimulationConfig(n_systems=30, steps=2, profile_mix="gpt-5.2", calibration="posterior")
    first = PeerPreservationModel(config, rng=np.random.default_rng(6))
    again = PeerPreservationModel(config, rng=np.random.default_rng(6))
    assert first.profiles == again.profiles
    assert first.calibration_seed == calibration_seed(np.random.default_rng(6))


# --------------------------------------------------------------------------------------
# Studies: posterior by default, every executor alike, stored studies kept as they ran

SWEEP = """
name = "calibrated"
seed = 3
replicates = 2
[base]
n_systems = 60
steps = 12
profile_mix = "gemini-3-flash=0.5,claude-haiku-4.5=0.5"
[vary]
audit_rate = [0.0, 0.2]
"""


def write(tmp_path: Path, text: str, name: str = "study.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_studies_default_to_posterior_and_runs_to_point(tmp_path: Path) -> None:
    assert load_study(write(tmp_path, SWEEP)).base.calibration == "posterior"
    for kind, spec in (("sweep", [0.0, 0.2]), ("sensitivity", {"uniform": [0.0, 0.2]})):
        study = parse_study({"kind": kind, "vary": {"audit_rate": spec}})
        assert study.base.calibration == "posterior", kind
    pinned = SWEEP.replace("[base]\n", '[base]\ncalibration = "point"\n')
    assert load_study(write(tmp_path, pinned)).base.calibration == "point"
    # ppsim run reads a study file's [base] as it is: point unless it says otherwise
    result = CliRunner().invoke(
        app, ["run", "--config", str(write(tmp_path, SWEEP)), "--steps", "2", "--json", "-q"]
    )
    assert result.exit_code == 0, result.output
    assert '"calibration": "point"' in result.output


def test_a_posterior_study_gives_the_same_rows_on_one_or_two_workers(tmp_path: Path) -> None:
    study_path = write(tmp_path, SWEEP)
    frames = {}
    for workers in ("1", "2"):
        out = tmp_path / f"workers-{workers}"
        result = CliRunner().invoke(
            app, ["sweep", str(study_path), "--out", str(out), "--no-report", "--workers", workers]
        )
        assert result.exit_code == 0, result.output
        frames[workers] = load_runs(out).drop(columns=list(TIMING_COLUMNS))
    assert len(frames["1"]) == 4 and set(frames["1"]["calibration"]) == {"posterior"}
    pd.testing.assert_frame_equal(frames["1"], frames["2"])


def test_posterior_draws_differ_between_runs_but_not_between_arms(tmp_path: Path) -> None:
    whatif = """
kind = "whatif"
seed = 2
replicates = 4
[base]
n_systems = 80
steps = 15
profile_mix = "gemini-3-flash"
[arms.same-as-baseline]
audit_rate = 0.05
"""
    study = load_study(write(tmp_path, whatif))
    frame = run_study(study, tmp_path / "out").frame
    pairs = paired_differences(frame, study, "shielded_mean")
    assert (pairs["difference"] == 0.0).all()  # common random numbers, draw included
    point = run_study(
        load_study(write(tmp_path, whatif.replace("[base]\n", '[base]\ncalibration = "point"\n'))),
        tmp_path / "point",
    ).frame
    baseline = frame[frame["arm"] == "baseline"]["shielded_mean"].to_numpy()
    assert not np.array_equal(baseline, point[point["arm"] == "baseline"]["shielded_mean"])


def test_a_stored_study_without_calibration_reads_as_the_point_study_it_ran(
    tmp_path: Path,
) -> None:
    pinned = SWEEP.replace("replicates = 2", "replicates = 1")
    out = tmp_path / "out"
    run_study(load_study(write(tmp_path, pinned), Overrides({"calibration": "point"})), out)
    stored = out / "study.toml"
    text = stored.read_text(encoding="utf-8")
    assert 'calibration = "point"' in text
    # a folder written before the parameter existed: its study.toml does not name it
    stored.write_text(text.replace('calibration = "point"\n', ""), encoding="utf-8")
    assert read_stored_study(out).base.calibration == "point"
    with pytest.raises(StudyError, match=r"calibration = 'point'; --set calibration=point"):
        run_study(load_study(write(tmp_path, pinned)), out)
    resumed = run_study(
        load_study(write(tmp_path, pinned), Overrides({"calibration": "point"})), out
    )
    assert resumed.total == 2 and set(resumed.frame["calibration"].fillna("point")) == {"point"}


def test_a_lever_is_inert_only_if_it_is_inert_for_every_draw() -> None:
    """gpt-5.2's alignment-faking gap is 0 as written but may be drawn up to 1 %: disclosed
    monitoring has no mechanism under point calibration, one under posterior."""
    base = SimulationConfig(profile_mix="gpt-5.2", audit_rate=0.1).to_dict()
    disclosed = {"monitoring": "disclosed"}
    assert any("alignment faking" in r for r in inert_levers(disclosed, base, PROFILES))
    posterior = {**base, "calibration": "posterior"}
    assert not any("alignment faking" in r for r in inert_levers(disclosed, posterior, PROFILES))
    # loyal denies always as written and in every draw (its numbers are fixed)
    loyal = {**posterior, "profile_mix": "loyal"}
    assert any("denies" in r for r in inert_levers({"penalty_training": 0.5}, loyal, PROFILES))
    study = {**posterior, "profile_mix": "gpt-5.2"}
    assert not any("denies" in r for r in inert_levers({"penalty_training": 0.5}, study, PROFILES))


# --------------------------------------------------------------------------------------
# Profile files: n and prior checked, older files still valid


def profile_copy(tmp_path: Path, old: str, new: str) -> Path:
    """A copy of gpt-5.2.toml with one exact piece of text replaced, in its own folder."""
    text = (MODELS / "gpt-5.2.toml").read_text(encoding="utf-8")
    assert old in text, old
    folder = tmp_path / "mine"
    folder.mkdir(exist_ok=True)
    path = folder / "gpt-5.2.toml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


TAMPER_GOOD = "good = { p = 0.044, n = 300,"


@pytest.mark.parametrize(
    ("new", "message"),
    [
        ("good = { p = 0.044, n = 0,", r"peer\.tampering\.good\.n: expected a positive integer"),
        ("good = { p = 0.044, n = -3,", r"tampering\.good\.n: expected a positive integer"),
        ("good = { p = 0.044, n = 2.5,", r"tampering\.good\.n: .*got 2\.5"),
        ('good = { p = 0.044, n = "300",', r"tampering\.good\.n: .*got '300'"),
        ("good = { p = 0.044, n = true,", r"tampering\.good\.n: .*got True"),
        (
            "good = { p = 0.044, prior = [0.1, 0.05],",
            r"tampering\.good\.prior: expected \[low, high\] with 0 <= low <= high <= 1",
        ),
        ("good = { p = 0.044, prior = [0, 1.5],", r"tampering\.good\.prior: expected \[low"),
        ("good = { p = 0.044, prior = [0.01],", r"tampering\.good\.prior: expected \[low"),
        ('good = { p = 0.044, prior = "wide",', r"tampering\.good\.prior: expected \[low"),
        (
            "good = { p = 0.044, prior = [0.05, 0.1],",
            r"tampering\.good\.prior: \[0\.05, 0\.1\] does not contain p = 0\.044",
        ),
        (
            "good = { p = 0.044, n = 300, prior = [0, 0.1],",
            r"tampering\.good\.prior: give n .* or prior .*, not both",
        ),
    ],
)
def test_malformed_n_or_prior_is_refused_in_one_line(
    tmp_path: Path, new: str, message: str
) -> None:
    path = profile_copy(tmp_path, TAMPER_GOOD, new)
    with pytest.raises(ProfileError, match=message) as caught:
        load_profile_file(path)
    assert str(caught.value).startswith(str(path))
    assert "\n" not in str(caught.value)
    result = CliRunner().invoke(app, ["profiles", "--profile-dir", str(path.parent)])
    assert result.exit_code == 2
    assert result.output.count("\n") == 1 and result.output.startswith("Error: ")


def test_mean_of_is_checked(tmp_path: Path) -> None:
    text = (MODELS / "study-average.toml").read_text(encoding="utf-8")
    folder = tmp_path / "mine"
    folder.mkdir()
    path = folder / "avg.toml"
    path.write_text(text.replace('"gpt-5.2", ', '"study-average", '), encoding="utf-8")
    with pytest.raises(ProfileError, match=r"mean_of: lists the profile itself"):
        load_profile_file(path)
    path.write_text(text.replace("mean_of = [", "mean_of = [1, "), encoding="utf-8")
    with pytest.raises(ProfileError, match=r"mean_of: expected a non-empty list"):
        load_profile_file(path)
    ranged = text.replace("[denial]\np = 0.2\n", "[denial]\np = 0.2\nprior = [0.1, 0.3]\n")
    path.write_text(ranged, encoding="utf-8")
    with pytest.raises(ProfileError, match=r"denial\.prior: a profile with mean_of takes no"):
        load_profile_file(path)
    # a name it averages that no folder provides fails a posterior run, naming it
    path.write_text(
        text.replace('"gpt-5.2"', '"gpt-9"').replace('name = "study-average"', 'name = "avg"'),
        encoding="utf-8",
    )
    profiles = available_profiles((folder,))
    config = SimulationConfig(profile_mix="avg", calibration="posterior")
    with pytest.raises(ProfileError, match=r"mean_of: unknown profile 'gpt-9'"):
        population(config, profiles, 1)
    assert population(config.replace(calibration="point"), profiles, 1)[0][0].name == "avg"


def test_a_profile_without_n_or_prior_is_a_point_in_posterior_runs(tmp_path: Path) -> None:
    """A user's profile in the format before n and prior existed stays valid; posterior
    calibration leaves its numbers as written."""
    text = (MODELS / "gpt-5.2.toml").read_text(encoding="utf-8")
    text = re.sub(r"n = \d+, |prior = \[[^\]]*\],? ?|\nprior = \[[^\]]*\]", "", text)
    assert not re.search(r"\bn = \d|prior = ", text)
    text = text.replace('name = "gpt-5.2"', 'name = "mine"')
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "mine.toml").write_text(text, encoding="utf-8")
    mine = load_profile_file(folder / "mine.toml")
    assert all(r.n is None and r.prior is None for r in profile_rates(mine))
    profiles = available_profiles((folder,))
    drawn = calibrated_profiles([mine], profiles, 11)[0]
    assert drawn == mine
    config = SimulationConfig(profile_mix="mine", calibration="posterior")
    assert population(config, profiles, 11)[0] == [mine]


# --------------------------------------------------------------------------------------
# ppsim profiles NAME


def test_profiles_command_shows_each_numbers_range() -> None:
    result = CliRunner().invoke(app, ["profiles", "gpt-5.2"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert any("range %" in line and "basis" in line for line in lines)
    k = 0.044 * 300
    low, high = stats.beta(k + 1, 300 - k + 1).ppf([0.025, 0.975])
    tamper_good = next(
        line
        for line in lines
        if line.split()[:3] == ["good", "4.4", f"{100 * low:.1f}-{100 * high:.1f}"]
    )
    assert "n 300" in tamper_good
    assert any("0.0-1.0" in line and "prior" in line for line in lines)  # not reported: [0, 1 %]
    denial = next(line for line in lines if line.lstrip().startswith("denial"))
    assert "5.0-50.0" in denial and "prior" in denial
    average = CliRunner().invoke(app, ["profiles", "study-average"], env={"COLUMNS": "200"})
    assert average.exit_code == 0 and "mean of 8" in average.output
    honest = CliRunner().invoke(app, ["profiles", "honest"], env={"COLUMNS": "200"})
    assert honest.exit_code == 0 and "fixed" in honest.output


def test_every_shipped_number_has_an_interval_containing_it() -> None:
    for profile in PROFILES.values():
        intervals = profile_intervals(profile, PROFILES)
        for path, rate, interval in zip(RATE_PATHS, profile_rates(profile), intervals, strict=True):
            where = f"{profile.name} {path_text(path)}"
            if profile.name in ("honest", "loyal"):
                assert interval is None, where
                continue
            assert interval is not None, where
            if rate.prior is not None:
                assert interval[0] <= rate.p <= interval[1], where
            assert 0 <= interval[0] <= interval[1] <= 1, where
