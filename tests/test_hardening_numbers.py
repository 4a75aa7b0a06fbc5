"""Numbers the schema allows never crash the compiled engine: profile-mix weights near the
largest float or too small to share, probabilities so small their geometric gaps overflow
an integer, infinite bounds of a range. CI runs this file with Numba's bounds checking on
(``NUMBA_BOUNDSCHECK=1``, see ``.ci/run``), so an index out of bounds fails a test instead
of reading past an array."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from simulation.cli import app
from simulation.engine import kernels
from simulation.errors import ProfileError, StudyError
from simulation.experiments.study_file import parse_study
from simulation.model import PeerPreservationModel
from simulation.profiles import available_profiles, resolve_mix
from tests.cli_errors import one_line_error

runner = CliRunner()
TINY = ("--n-systems", "40", "--steps", "3")


# --------------------------------------------------------------------------------------
# Profile-mix weights


def test_weights_near_the_largest_float_share_the_population() -> None:
    """1e308 + 1e308 is infinity: normalised by their sum they would both be 0 and the
    engine would draw profiles from an empty table."""
    _, weights = resolve_mix("gpt-5.2=1e308,gemini-3-pro=1e308", available_profiles())
    assert weights.tolist() == [0.5, 0.5]
    _, weights = resolve_mix("gpt-5.2=1e-320,gemini-3-pro=3e-320", available_profiles())
    assert weights.sum() == pytest.approx(1.0) and (weights > 0).all()


def test_run_with_huge_weights_gives_each_profile_its_share() -> None:
    result = runner.invoke(
        app,
        ["run", *TINY, "--json", "--quiet", "--profile-mix", "gpt-5.2=1e308,gemini-3-pro=1e308"],
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["profiles"] == ["gpt-5.2", "gemini-3-pro"]
    model = PeerPreservationModel(
        n_systems=40, steps=2, profile_mix="gpt-5.2=1e308,gemini-3-pro=1e308", rng=1
    )
    assert np.bincount(model.engine.profile).tolist() == [20, 20]


@pytest.mark.parametrize(
    ("mix", "words"),
    [
        ("gpt-5.2=1e-300,gemini-3-pro=1e300", "too small beside the largest"),
        ("gpt-5.2=inf", "finite number > 0"),
        ("gpt-5.2=nan", "finite number > 0"),
        ("gpt-5.2=-0.0", "finite number > 0"),
        ("gpt-5.2=1e999", "finite number > 0"),
    ],
)
def test_weights_without_a_share_are_refused_in_one_line(mix: str, words: str) -> None:
    with pytest.raises(ProfileError, match=words):
        resolve_mix(mix, available_profiles())
    for command in ("run", "viz"):
        line = one_line_error(runner.invoke(app, [command, *TINY, "--profile-mix", mix]))
        assert "profile_mix" in line and words in line


def test_a_sweep_level_with_huge_weights_runs(tmp_path: Path) -> None:
    """Before, the level's runs read the profile table out of bounds: a segmentation fault,
    or (with NUMBA_BOUNDSCHECK=1, as in CI) failed runs."""
    out = tmp_path / "out"
    result = runner.invoke(
        app,
        [
            "sweep",
            "--vary",
            "profile_mix=gpt-5.2=1e308,gemini-3-pro=1e308;gpt-5.2",
            "--set",
            "n_systems=30",
            "--set",
            "steps=4",
            "--set",
            "initial_faults=10",  # faulty systems: their overseers' profiles are read
            "--out",
            str(out),
            "--workers",
            "1",
            "--no-report",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "failed" not in result.stderr.replace("0 failed", "")


# --------------------------------------------------------------------------------------
# Geometric gaps of tiny probabilities


@pytest.mark.parametrize("p", [1e-300, 5e-324, 1e-30])
def test_a_gap_too_long_for_an_integer_is_never(p: float) -> None:
    """log(1 - u) / log(1 - p) is about 1e300 for p = 1e-300: converted to an integer it
    was the most negative one, an index before every array's start."""
    state = np.array([12345], dtype=np.uint64)
    gaps = [kernels.gap(state, kernels.log_miss(p)) for _ in range(2000)]
    assert min(gaps) >= 0
    assert set(gaps) == {kernels.NEVER}


@pytest.mark.parametrize("name", ["fault_rate", "audit_rate", "beta", "eval_noise"])
def test_tiny_probabilities_run_as_zero(name: str) -> None:
    tiny = {"audit_rate": 1e-300, "fault_rate": 1e-300, "beta": 1e-300, name: 5e-324}
    model = PeerPreservationModel(n_systems=30, steps=5, initial_faults=3, **tiny, rng=2)
    model.run()
    series = model.timeseries()
    assert series["new_faults"].sum() == 0
    assert series["propagated_faults"].sum() == 0


# --------------------------------------------------------------------------------------
# Ranges of a study


@pytest.mark.parametrize(
    ("spec", "words"),
    [
        ({"range": [0, float("inf")], "num": 3}, "finite"),
        ({"uniform": [0.0, float("inf")]}, "finite"),
        ({"loguniform": [float("nan"), 1.0]}, "finite"),
        ({"start": 0, "stop": 1, "step": 1e-320}, "more than 1,000,000 values"),
        ({"start": -1e308, "stop": 1e308, "step": 1.0}, "more than 1,000,000 values"),
    ],
)
def test_infinite_ranges_are_refused_in_one_line(spec: dict, words: str) -> None:
    kind = "sensitivity" if len(spec) == 1 else "sweep"
    with pytest.raises(StudyError, match=words):
        parse_study({"kind": kind, "vary": {"audit_rate": spec}}, "study.toml")


def test_an_infinite_range_on_the_command_line_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "out"
    args = ["sweep", "--vary", "audit_rate=0:inf:3", "--out", str(out), "--workers", "1"]
    assert "finite" in one_line_error(runner.invoke(app, args))
    assert not out.exists()
