"""Inputs and faults that must be refused in one line or handled: absurd designs, empty
folder names, unknown keys, unsafe names, duplicate profiles, dense networks, foreign
files in a results store, lost workers, locks and memory."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from simulation.cli import app
from simulation.experiments import study as study_module
from simulation.experiments.design import make_plan
from simulation.experiments.study import StudyError, parse_study, run_count

runner = CliRunner()
SMALL = ("--n-systems", "60", "--steps", "5")


def one_line_error(result) -> str:
    """The single error line of a refused command (exit code 2, no traceback)."""
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: ")
    return lines[0]


# --------------------------------------------------------------------------------------
# 1. Designs beyond the limit


def test_absurd_design_is_refused_before_it_expands() -> None:
    with pytest.raises(StudyError, match=r"200,000,000 runs.*limit is 1,000,000"):
        parse_study({"replicates": 100_000_000, "vary": {"audit_rate": [0.0, 0.1]}}, "x")
    with pytest.raises(StudyError, match=r"vary.audit_rate: 1,000,000,000 values"):
        parse_study({"vary": {"audit_rate": {"range": [0, 1], "num": 10**9}}}, "x")


@pytest.mark.parametrize(
    "data",
    [
        {"replicates": 3, "vary": {"audit_rate": [0.0, 0.1], "beta": [0.1, 0.2, 0.3]}},
        {"design": "lhs", "samples": 7, "replicates": 2, "vary": {"beta": {"uniform": [0, 1]}}},
        {"kind": "sensitivity", "vary": {"beta": [0.1, 0.2], "audit_rate": [0.0, 0.5]}},
        {
            "kind": "sensitivity",
            "method": "morris",
            "vary": {"beta": [0.1, 0.2], "audit_rate": [0.0, 0.5], "theta": [0.1, 0.2]},
        },
        {
            "kind": "sensitivity",
            "sobol": {"samples": 8, "second_order": True},
            "vary": {"beta": [0.1, 0.2], "audit_rate": [0.0, 0.5]},
        },
        {
            "kind": "whatif",
            "replicates": 2,
            "arms": {"audits": {"audit_rate": 0.3}, "humans": {"human_execution": True}},
        },
    ],
)
def test_run_count_is_the_plan_size(data: dict) -> None:
    study = parse_study({"base": {"n_systems": 50, "steps": 2}, **data}, "x")
    assert run_count(study) == len(make_plan(study).runs)


def test_sweep_beyond_the_limit_is_one_line_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(study_module, "MAX_RUNS", 10)
    out = tmp_path / "results"
    result = runner.invoke(
        app,
        ["sweep", "--vary", "audit_rate=0,0.1", "--replicates", "6", "--out", str(out)],
    )
    line = one_line_error(result)
    assert "12 runs" in line and "limit is 10 runs" in line
    assert not out.exists()


# --------------------------------------------------------------------------------------
# 2. An empty --out


@pytest.mark.parametrize(
    "args",
    [
        ("run", *SMALL),
        ("sweep", "--vary", "audit_rate=0,0.1", "--set", "n_systems=60", "--set", "steps=2"),
    ],
)
def test_empty_out_is_refused(
    args: tuple[str, ...], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, [*args, "--out", ""])
    assert "--out" in one_line_error(result)
    assert list(tmp_path.iterdir()) == []
