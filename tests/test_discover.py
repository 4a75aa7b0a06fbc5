"""``ppsim discover`` end to end on small real studies, and its one-line refusals of bad
input with nothing written."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from cli_errors import one_line_error
from typer.testing import CliRunner

from simulation.cli import app
from simulation.errors import UsageError
from simulation.experiments.discovery import name_list, parse_fail
from simulation.experiments.store import load_runs

SMALL_WHATIF = """
kind = "whatif"
seed = 11
replicates = 2
design = "lhs"
samples = 24
outcomes = ["faulty_share_mean"]
[base]
n_systems = 60
steps = 30
[vary]
fault_rate = { uniform = [0.001, 0.03] }
replacement_delay = { integers = [2, 10] }
stand_in = { choice = ["skip", "human"] }
[arms.audit-30]
audit_rate = 0.3
"""

SMALL_SWEEP = """
kind = "sweep"
seed = 3
replicates = 2
outcomes = ["faulty_share_mean"]
[base]
n_systems = 60
steps = 30
[vary]
fault_rate = [0.001, 0.01, 0.03]
stand_in = ["skip", "human"]
"""

NOTHING_VARIED = """
kind = "whatif"
seed = 1
replicates = 2
outcomes = ["faulty_share_mean"]
[base]
n_systems = 40
steps = 10
[arms.audit-30]
audit_rate = 0.3
"""

runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, list(args), env={"COLUMNS": "200"})


def run_study(base: Path, command: str, text: str) -> Path:
    study_file = base / f"{command}.toml"
    study_file.write_text(text, encoding="utf-8")
    out = base / command
    result = invoke(command, str(study_file), "--out", str(out), "--workers", "1")
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def whatif_dir(tmp_path_factory) -> Path:
    return run_study(tmp_path_factory.mktemp("discover"), "whatif", SMALL_WHATIF)


@pytest.fixture()
def whatif_copy(whatif_dir: Path, tmp_path: Path) -> Path:
    """A fresh copy of the small what-if's folder, for tests that write into it."""
    return Path(shutil.copytree(whatif_dir, tmp_path / "whatif"))


def scenario_means(folder: Path, policy: str) -> pd.DataFrame:
    runs = load_runs(folder)
    runs = runs[(runs["arm"] == policy) & (runs["status"] == "ok")]
    grouped = runs.groupby("scenario", sort=True)
    frame = grouped[["fault_rate", "replacement_delay", "stand_in"]].first()
    frame["outcome"] = grouped["faulty_share_mean"].mean()
    return frame


def inside(frame: pd.DataFrame, row: pd.Series) -> np.ndarray:
    """Which scenarios lie in the box a CSV row describes."""
    mask = np.ones(len(frame), dtype=bool)
    for name in ("fault_rate", "replacement_delay"):
        values = frame[name].to_numpy(dtype=float)
        mask &= (values >= row[f"{name}_low"]) & (values <= row[f"{name}_high"])
    kept = str(row["stand_in"]).split("|")
    return mask & frame["stand_in"].isin(kept).to_numpy()


def test_discover_on_a_whatif_writes_trajectory_and_report(whatif_copy: Path) -> None:
    means = scenario_means(whatif_copy, "baseline")
    value = float(means["outcome"].quantile(0.6))  # about 40 % of the scenarios fail
    result = invoke("discover", str(whatif_copy), "--fail", f"faulty_share_mean > {value!r}")
    assert result.exit_code == 0, result.output
    failing = means["outcome"].to_numpy() > value
    assert f"in {failing.sum()} of {len(means)} scenarios" in result.output
    assert "Chosen box" in result.output and "PRIM trajectory" in result.output
    table = pd.read_csv(whatif_copy / "discovery-baseline.csv")
    assert table["box"].tolist() == list(range(len(table)))
    assert table["chosen"].sum() == 1
    # every box's numbers are those of the scenarios its limits hold
    for _, row in table.iterrows():
        members = inside(means, row)
        assert row["scenarios"] == members.sum()
        assert row["failing"] == (members & failing).sum()
        assert row["coverage"] == pytest.approx((members & failing).sum() / failing.sum())
        assert row["density"] == pytest.approx((members & failing).mean() / members.mean())
        assert row["mass"] == pytest.approx(members.mean())
    first = table.iloc[0]
    assert first["restricted"] == 0 and first["density"] == pytest.approx(failing.mean())
    chosen = table[table["chosen"]].iloc[0]
    assert f"Chosen box {chosen['box']}*" in result.output
    for limit in str(chosen["limits"]).split("; "):
        assert limit in result.output
    html = (whatif_copy / "discovery-baseline.html").read_text(encoding="utf-8")
    assert "figure-trajectory" in html and "figure-box" in html and "plotly_click" in html
    assert html.count("<tr>") >= len(table) + 3  # the table of every box, and the chosen one
    assert f"Trajectory: {whatif_copy / 'discovery-baseline.csv'}" in result.output


def test_discover_another_policy_per_run_and_a_picked_box(
    whatif_copy: Path, tmp_path: Path
) -> None:
    runs = load_runs(whatif_copy)
    values = runs.loc[runs["arm"] == "audit-30", "faulty_share_mean"]
    value = float(values.median())
    report = tmp_path / "elsewhere.html"
    result = invoke(
        "discover",
        str(whatif_copy),
        "--policy",
        "audit-30",
        "--fail",
        f"faulty_share_mean >= {value!r}",
        "--per-run",
        "--box",
        "1",
        "--out",
        str(report),
    )
    assert result.exit_code == 0, result.output
    assert f"of {len(values)} runs" in result.output
    assert "Chosen box 1* (asked for with --box)" in result.output
    table = pd.read_csv(whatif_copy / "discovery-audit-30.csv")
    assert table.loc[table["chosen"], "box"].tolist() == [1]
    assert "runs" in table.columns and table["runs"].iloc[0] == len(values)
    assert "Plotly" in report.read_text(encoding="utf-8")  # embedded: not beside the study


def test_discover_on_a_sweep(tmp_path: Path) -> None:
    folder = run_study(tmp_path, "sweep", SMALL_SWEEP)
    means = scenario_means_sweep(folder)
    value = float(np.sort(means)[len(means) // 2])
    result = invoke("discover", str(folder), "--fail", f"faulty_share_mean >= {value!r}")
    assert result.exit_code == 0, result.output
    assert f"in {(means >= value).sum()} of 6 scenarios" in result.output
    assert (folder / "discovery-baseline.html").is_file()


def scenario_means_sweep(folder: Path) -> np.ndarray:
    runs = load_runs(folder)
    return runs.groupby("scenario")["faulty_share_mean"].mean().to_numpy()


# --------------------------------------------------------------------------------------
# Bad input: one line, exit 2, nothing written


def files_in(folder: Path) -> dict[str, int]:
    return {str(p.relative_to(folder)): p.stat().st_mtime_ns for p in folder.rglob("*")}


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--fail", "faulty_share_mean 0.1"], "expected 'OUTCOME > VALUE'"),
        (["--fail", "faulty_share_mean > lots"], "'lots' is not a finite number"),
        (["--fail", "faulty_share_mean = 0.1"], "expected 'OUTCOME > VALUE'"),
        (["--fail", "faulty_shar_mean > 0.1"], "did you mean 'faulty_share_mean'"),
        (["--fail", "faulty_share_mean > 0.1", "--policy", "audit-3"], "audit-30"),
        (["--fail", "faulty_share_mean > 2"], "no scenario of 'baseline' fails"),
        (["--fail", "faulty_share_mean >= 0"], "every scenario of 'baseline' fails"),
        (["--fail", "faulty_share_mean > 0.1", "--box", "99"], "--box 99: the trajectory"),
        (["--fail", "faulty_share_mean > 0.1", "--alpha", "0.5"], "--alpha"),
        (["--fail", "faulty_share_mean > 0.1", "--threshold", "1.5"], "--threshold"),
        (["--fail", "faulty_share_mean > 0.1", "--out", "/nonexistent/x.html"], "--out"),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(
    whatif_dir: Path, args: list[str], words: str
) -> None:
    before = files_in(whatif_dir)
    error = one_line_error(invoke("discover", str(whatif_dir), *args))
    assert words in error
    assert files_in(whatif_dir) == before


def test_an_unknown_policy_lists_the_policies(whatif_dir: Path) -> None:
    error = one_line_error(invoke("discover", str(whatif_dir), "--fail", "x_mean > 1"))
    assert "not an outcome stored in the runs" in error
    error = one_line_error(
        invoke("discover", str(whatif_dir), "--fail", "faulty_share_mean > 0", "--policy", "c7")
    )
    assert "its policies are baseline, audit-30" in error


def test_a_missing_folder_or_one_without_runs_is_refused(whatif_dir: Path, tmp_path: Path) -> None:
    error = one_line_error(
        invoke("discover", str(tmp_path / "none"), "--fail", "shielded_mean > 1")
    )
    assert "not a study results folder" in error and "does not exist" in error
    empty = tmp_path / "empty"
    empty.mkdir()
    shutil.copy(whatif_dir / "study.toml", empty / "study.toml")
    error = one_line_error(invoke("discover", str(empty), "--fail", "shielded_mean > 1"))
    assert "no runs stored" in error
    assert sorted(p.name for p in empty.iterdir()) == ["study.toml"]


def test_a_study_varying_nothing_has_nothing_to_discover(tmp_path: Path) -> None:
    folder = run_study(tmp_path, "whatif", NOTHING_VARIED)
    before = files_in(folder)
    error = one_line_error(invoke("discover", str(folder), "--fail", "faulty_share_mean > 0"))
    assert "varies no parameter" in error
    assert files_in(folder) == before


def test_fail_conditions_parse_every_operator() -> None:
    for op, expected in ((">", [False, False, True]), (">=", [False, True, True])):
        assert parse_fail(f"shielded_mean {op} 2").holds(np.array([1, 2, 3])).tolist() == expected
    for op, expected in (("<", [True, False, False]), ("<=", [True, True, False])):
        assert parse_fail(f" shielded_mean{op}2 ").holds(np.array([1, 2, 3])).tolist() == expected
    assert not parse_fail("shielded_mean < 2").holds(np.array([np.nan]))[0]
    with pytest.raises(UsageError, match="not a finite number"):
        parse_fail("shielded_mean > nan")


def test_long_name_lists_are_cut() -> None:
    names = [f"c{i:04d}" for i in range(40)]
    assert name_list(names).endswith("c0007, ... (40 in all)")
    assert name_list(names[:3]) == "c0000, c0001, c0002"
