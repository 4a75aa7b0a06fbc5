"""Running studies: the store, resume after a real interruption, failed runs, executors
giving identical rows, common random numbers, paired effects, sensitivity and reports."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from typer.testing import CliRunner

from simulation.cli import app
from simulation.experiments import load_runs, load_study, run_study
from simulation.experiments.design import make_plan
from simulation.experiments.runner import PART_SECONDS, StudyInterrupted
from simulation.experiments.sensitivity import analyse
from simulation.experiments.store import LOCK_FILE, TIMING_COLUMNS, load_timeseries
from simulation.experiments.study import StudyError
from simulation.experiments.study_file import parse_study
from simulation.experiments.whatif import effects, paired_differences
from simulation.reports.study import build_report

PPSIM = Path(sys.executable).parent / "ppsim"
SWEEP = """
name = "tiny"
seed = 7
replicates = 3
[base]
n_systems = 100
steps = 20
[vary]
audit_rate = [0.0, 0.2]
propensity_scale = [0.5, 1.5]
"""


def write(tmp_path: Path, text: str, name: str = "study.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def rows(frame: pd.DataFrame) -> pd.DataFrame:
    """Everything but the timings, the only columns allowed to differ."""
    return frame.drop(columns=list(TIMING_COLUMNS)).reset_index(drop=True)


# --------------------------------------------------------------------------------------
# Store


def test_store_has_one_row_per_run_and_loads_in_pandas(tmp_path: Path) -> None:
    study = load_study(write(tmp_path, "timeseries = true\n" + SWEEP))
    result = run_study(study, tmp_path / "out")
    plain = pd.read_parquet(tmp_path / "out" / "runs")
    assert len(plain) == result.total == 12 and plain["run_key"].is_unique
    assert set(plain["status"]) == {"ok"}
    keys = [run.key for run in make_plan(study).runs]
    assert list(result.frame["run_key"]) == keys  # sorted by run key, whatever the order
    series = load_timeseries(tmp_path / "out")
    assert len(series) == 12 * 20 and set(series["run_key"]) == set(keys)
    assert (tmp_path / "out" / "study.toml").is_file()
    assert not (tmp_path / "out" / LOCK_FILE).exists()


def test_changed_study_cannot_reuse_the_folder(tmp_path: Path) -> None:
    out = tmp_path / "out"
    run_study(load_study(write(tmp_path, SWEEP)), out)
    changed = load_study(write(tmp_path, SWEEP.replace("replicates = 3", "replicates = 4")))
    with pytest.raises(StudyError, match="different study"):
        run_study(changed, out)
    assert len(load_runs(out)) == 12


def test_folder_in_use_is_refused_and_a_stale_lock_is_taken_over(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    study = load_study(write(tmp_path, SWEEP))
    holder = subprocess.Popen(  # holds the OS lock, as a running study does
        [
            sys.executable,
            "-c",
            "import fcntl, os, sys; fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT); "
            "fcntl.lockf(fd, fcntl.LOCK_EX); os.write(fd, b'host 4242'); print(flush=True); "
            "sys.stdin.read()",
            str(out / LOCK_FILE),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    holder.stdout.readline()
    with pytest.raises(StudyError, match="in use by process 4242 on host"):
        run_study(study, out)
    holder.communicate(b"")
    dead = subprocess.Popen(["true"])
    dead.wait()
    (out / LOCK_FILE).write_text(f"{socket.gethostname()} {dead.pid}")
    assert run_study(study, out).ran == 12


# --------------------------------------------------------------------------------------
# Failures and resume


def test_failed_run_is_recorded_and_retried_on_resume(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # inputs that fail every run are refused before the study starts (see
    # tests/test_hardening_upfront.py); a run that fails on its way is stored as failed
    from simulation.model import PeerPreservationModel

    run = PeerPreservationModel.run

    def fails_at_beta_02(self: PeerPreservationModel, *args: Any, **kwargs: Any) -> None:
        if self.config.beta == 0.2:
            raise RuntimeError("a run that fails on its way")
        run(self, *args, **kwargs)

    monkeypatch.setattr(PeerPreservationModel, "run", fails_at_beta_02)
    text = """
seed = 1
replicates = 2
[base]
n_systems = 30
steps = 10
[vary]
beta = [0.1, 0.2]
"""
    study = load_study(write(tmp_path, text))
    first = run_study(study, tmp_path / "out")
    assert (first.ran, first.failed) == (4, 2)  # the study went on past the failures
    failed = first.frame[first.frame["status"] == "failed"]
    assert failed["error"].str.contains("RuntimeError: a run that fails").all()
    assert failed["faulty_share_mean"].isna().all()
    again = run_study(study, tmp_path / "out")
    assert (again.skipped, again.retried, again.ran) == (2, 2, 2)
    assert len(again.frame) == 4 and again.frame["run_key"].is_unique


class _InterruptAfter:
    """A progress display that presses Ctrl-C after ``k`` finished runs."""

    def __init__(self, k: int) -> None:
        self.k, self.done = k, 0

    def start(self, total: int, skipped: int, retried: int) -> None:
        self.skipped = skipped

    def advance(self, failed: bool) -> None:
        self.done += 1
        if self.done == self.k:
            raise KeyboardInterrupt


def test_ctrl_c_keeps_finished_runs_and_resume_skips_them(tmp_path: Path) -> None:
    study = load_study(write(tmp_path, SWEEP))
    with pytest.raises(StudyInterrupted) as info:
        run_study(study, tmp_path / "out", progress=_InterruptAfter(5), flush_rows=100)
    assert info.value.stored == 5 and len(load_runs(tmp_path / "out")) == 5
    progress = _InterruptAfter(0)
    result = run_study(study, tmp_path / "out", progress=progress)
    assert (progress.skipped, result.skipped, result.ran) == (5, 5, 7)
    assert result.frame["run_key"].is_unique and len(result.frame) == 12


def test_fast_runs_are_written_in_a_few_parts(tmp_path: Path) -> None:
    """A part per finished run would cost the main process more than the runs; parts
    come at least PART_SECONDS apart, whatever ``flush_rows`` says, plus the last one."""
    study = load_study(write(tmp_path, SWEEP.replace("replicates = 3", "replicates = 10")))
    start = time.monotonic()
    result = run_study(study, tmp_path / "out", flush_rows=1)
    elapsed = time.monotonic() - start
    parts = list((tmp_path / "out" / "runs").glob("part-*.parquet"))
    assert result.ran == 40 and len(load_runs(tmp_path / "out")) == 40
    assert 1 <= len(parts) <= 1 + elapsed / PART_SECONDS < 40


def _start_sweep(study: Path, out: Path, workers: int) -> subprocess.Popen:
    return subprocess.Popen(
        [str(PPSIM), "sweep", str(study), "--out", str(out), "--workers", str(workers)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, like a job in a terminal
        # Ctrl-C acts as in a terminal even when these tests run as a background job, whose
        # children inherit SIGINT ignored
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def _wait_for_parts(out: Path, count: int, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while len(list((out / "runs").glob("part-*.parquet"))) < count:
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the sweep wrote no results"
        time.sleep(0.02)


@pytest.mark.parametrize("how", ["kill", "ctrl-c"])
def test_interrupted_sweep_resumes_with_exactly_one_row_per_run(tmp_path: Path, how: str) -> None:
    """A real sweep in a subprocess is killed (SIGKILL) or interrupted (SIGINT to its process
    group, as Ctrl-C does) after some parts are written; rerunning completes it."""
    # runs long enough (about 0.15 s each) that two parts, written at least
    # runner.PART_SECONDS apart, exist well before the sweep ends
    text = SWEEP.replace("replicates = 3", "replicates = 10").replace(
        "n_systems = 100\nsteps = 20", "n_systems = 3000\nsteps = 600"
    )
    study_path = write(tmp_path, text)
    out = tmp_path / "out"
    process = _start_sweep(study_path, out, workers=1 if how == "kill" else 2)
    try:
        _wait_for_parts(out, 2, process)
        os.killpg(process.pid, signal.SIGKILL if how == "kill" else signal.SIGINT)
        _, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    if how == "ctrl-c":
        assert process.returncode == 130
        assert "Run the same command again to resume" in stderr
    stored = len(load_runs(out))
    assert 0 < stored < 40, "the sweep was not interrupted part way"
    result = CliRunner().invoke(
        app, ["sweep", str(study_path), "--out", str(out), "--workers", "1", "--no-report"]
    )
    assert result.exit_code == 0, result.output
    assert f"Resuming: {stored} of 40 runs already stored, skipped" in result.output
    frame = load_runs(out)
    plan_keys = [run.key for run in make_plan(load_study(study_path)).runs]
    assert list(frame["run_key"]) == plan_keys  # every run exactly once, none lost
    assert (frame["status"] == "ok").all()


# --------------------------------------------------------------------------------------
# Executors


def test_same_rows_in_process_in_a_pool_and_on_a_dask_cluster(tmp_path: Path) -> None:
    from distributed import Client, LocalCluster

    study_path = write(tmp_path, SWEEP)
    runner = CliRunner()
    outputs = {}
    for name, options in (("inline", ["--workers", "1"]), ("pool", ["--workers", "2"])):
        outputs[name] = tmp_path / name
        result = runner.invoke(
            app, ["sweep", str(study_path), "--out", str(outputs[name]), "--no-report", *options]
        )
        assert result.exit_code == 0, result.output
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
        ) as cluster,
        Client(cluster),
    ):
        outputs["dask"] = tmp_path / "dask"
        result = runner.invoke(
            app,
            [
                "sweep",
                str(study_path),
                "--out",
                str(outputs["dask"]),
                "--no-report",
                "--scheduler",
                cluster.scheduler_address,
            ],
        )
        assert result.exit_code == 0, result.output
        assert "Dask cluster" in result.output
    frames = {name: rows(load_runs(path)) for name, path in outputs.items()}
    assert len(frames["inline"]) == 12
    pd.testing.assert_frame_equal(frames["inline"], frames["pool"])
    pd.testing.assert_frame_equal(frames["inline"], frames["dask"])


# --------------------------------------------------------------------------------------
# What-if: common random numbers and paired effects

WHATIF = """
kind = "whatif"
seed = 11
replicates = 2
design = "lhs"
samples = 3
[base]
n_systems = 100
steps = 20
audit_rate = 0.05
[vary]
propensity_scale = { uniform = [0.5, 1.5] }
[arms.same-as-baseline]
audit_rate = 0.05
[arms.no-audits]
audit_rate = 0.0
"""


def test_common_random_numbers_make_an_identical_arm_differ_by_exactly_zero(
    tmp_path: Path,
) -> None:
    study = load_study(write(tmp_path, WHATIF))
    frame = run_study(study, tmp_path / "out").frame
    for outcome in ("faulty_share_mean", "shielded_mean", "human_hours_policy_per_cycle"):
        pairs = paired_differences(frame, study, outcome)
        same = pairs[pairs["arm"] == "same-as-baseline"]
        assert len(same) == 6
        assert (same["difference"] == 0.0).all()  # exactly, not approximately
    table = effects(frame, study).set_index(["arm", "outcome"])
    same = table.loc["same-as-baseline"]
    assert (same["effect"] == 0).all() and (same["ci_low"] == 0).all()
    assert (same["ci_high"] == 0).all()
    # The other arm really changes the runs (so the zero above is not vacuous) ...
    hours = paired_differences(frame, study, "human_hours_policy_per_cycle")
    assert (hours.loc[hours["arm"] == "no-audits", "difference"] < 0).all()
    # ... and its interval is the Student-t interval of the paired differences.
    diffs = paired_differences(frame, study, "shielded_mean")
    d = diffs.loc[diffs["arm"] == "no-audits", "difference"].to_numpy()
    low, high = stats.t.interval(0.95, d.size - 1, loc=d.mean(), scale=stats.sem(d))
    row = table.loc[("no-audits", "shielded_mean")]
    assert row["effect"] == pytest.approx(d.mean())
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((low, high))


def test_whatif_command_prints_effects_and_costs(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app, ["whatif", str(write(tmp_path, WHATIF)), "--out", str(out), "--workers", "1"]
    )
    assert result.exit_code == 0, result.output
    assert "no-audits" in result.output and "95% CI" in result.output
    assert "Human effort each policy costs" in result.output
    assert (out / "report.html").is_file()


# --------------------------------------------------------------------------------------
# Sensitivity


def test_sobol_indices_of_a_known_function() -> None:
    """Y = 4 u1 + u2 with u uniform on [0, 1]: S1 = ST = 16/17 and 1/17 exactly. SALib's
    bootstrap half-width ``conf`` is a 95 % interval (about 2 standard errors), so 3 conf
    (about 6 standard errors, plus 0.01 for the estimator's small-sample bias) bounds the
    error; the seed is fixed, so the check is deterministic."""
    study = parse_study(
        {
            "kind": "sensitivity",
            "sobol": {"samples": 1024},
            "base": {"n_systems": 100, "steps": 20},
            "vary": {"audit_rate": {"uniform": [0, 1]}, "beta": {"uniform": [0, 1]}},
            "outcomes": ["faulty_share_mean"],
        },
        "known",
    )
    plan = make_plan(study)
    u = plan.unit_samples
    frame = pd.DataFrame(
        {
            "scenario": np.arange(len(u)),
            "status": "ok",
            "faulty_share_mean": 4 * u[:, 0] + u[:, 1],
        }
    )
    indices, skipped = analyse(plan, frame)
    assert not skipped
    got = indices.set_index(["parameter", "index"])
    for name, truth in (("audit_rate", 16 / 17), ("beta", 1 / 17)):
        for index in ("S1", "ST"):
            value, conf = got.loc[(name, index), ["value", "conf"]]
            assert abs(value - truth) <= 3 * conf + 0.01, (name, index, value, conf)


@pytest.mark.parametrize("method", ["sobol", "morris"])
def test_sensitivity_command_runs_both_methods(tmp_path: Path, method: str) -> None:
    text = """
kind = "sensitivity"
seed = 3
outcomes = ["faulty_share_mean", "human_hours_policy_per_cycle"]
[sobol]
samples = 8
[morris]
trajectories = 4
[base]
n_systems = 100
steps = 20
[vary]
audit_rate = { uniform = [0.0, 0.5] }
propensity_scale = { uniform = [0.0, 2.0] }
"""
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app,
        [
            "sensitivity",
            str(write(tmp_path, text)),
            "--method",
            method,
            "--out",
            str(out),
            "--workers",
            "1",
        ],
    )
    assert result.exit_code == 0, result.output
    assert ("ST" if method == "sobol" else "mu_star") in result.output
    expected_runs = 8 * (2 + 2) if method == "sobol" else 4 * (2 + 1)
    assert len(load_runs(out)) == expected_runs


# --------------------------------------------------------------------------------------
# Reports


def test_report_works_offline_and_is_rebuilt_from_the_store(tmp_path: Path) -> None:
    out = tmp_path / "out"
    run_study(load_study(write(tmp_path, SWEEP)), out)
    path = build_report(out)
    page = path.read_text(encoding="utf-8")
    assert "* plotly.js v" not in page  # the library is beside it, shared, not embedded
    assert '<script type="text/javascript" src="plotly.min.js"></script>' in page
    assert (out / "plotly.min.js").read_text(encoding="utf-8").count("* plotly.js v") == 1
    assert page.count("Plotly.newPlot") == 2  # a grid of lines, a grid of heatmaps
    assert "heatmap" in page and "toself" in page  # heatmap and confidence bands
    path.unlink()
    result = CliRunner().invoke(app, ["report", str(out)])
    assert result.exit_code == 0 and path.is_file()
    missing = CliRunner().invoke(app, ["report", str(tmp_path / "nowhere")])
    assert missing.exit_code == 2 and "not a study results folder" in missing.output
