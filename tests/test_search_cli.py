"""``ppsim search`` on the real model: the same front on 1 worker, 2 workers and a Dask
cluster; killed (SIGKILL) and run again, the same front with no run stored twice; bad
study files refused in one line with nothing written; the report and scenario discovery
of a search folder."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from cli_errors import one_line_error
from typer.testing import CliRunner

from simulation.cli import app
from simulation.experiments.store import load_runs

SEARCH = """
name = "small-search"
kind = "search"
seed = 5
replicates = 2
design = "lhs"
samples = 3
[base]
n_systems = {n}
steps = {steps}
[vary]
fault_rate = {{ loguniform = [0.001, 0.004] }}
propensity_scale = {{ uniform = [0.5, 1.5] }}
[levers]
audit_rate = {{ uniform = [0.0, 0.5] }}
human_execution = [false, true]
assignment = {{ choice = ["neighbours", "independent-pool"] }}
[objectives]
human_hours_per_cycle = "min"
faulty_share_mean = "min"
[arms.audit-20]
audit_rate = 0.2
[search]
population = 6
generations = {generations}
"""

runner = CliRunner()


def study_file(tmp_path: Path, n: int = 80, steps: int = 20, generations: int = 3) -> Path:
    path = tmp_path / "search.toml"
    path.write_text(SEARCH.format(n=n, steps=steps, generations=generations))
    return path


def search(path: Path, out: Path, *options: str):
    result = runner.invoke(app, ["search", str(path), "--out", str(out), *options])
    assert result.exit_code == 0, result.output
    return result


def raw_keys(out: Path) -> pd.Series:
    """Every stored run key as written, duplicates included (the store reads each once)."""
    tables = [pq.read_table(p, columns=["run_key"]) for p in sorted((out / "runs").glob("*"))]
    return pd.concat([t.to_pandas() for t in tables])["run_key"]


def test_same_front_in_process_in_a_pool_and_on_a_dask_cluster(tmp_path):
    from distributed import Client, LocalCluster

    path = study_file(tmp_path)
    search(path, tmp_path / "one", "--workers", "1", "--no-report")
    result = search(path, tmp_path / "two", "--workers", "2")
    assert "generation 3:" in result.output and "hypervolume" in result.output
    assert "Pareto front" in result.output and "audit-20" in result.output
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
        ) as cluster,
        Client(cluster),
    ):
        search(path, tmp_path / "dask", "--scheduler", cluster.scheduler_address, "--no-report")
    front = pd.read_parquet(tmp_path / "one" / "front.parquet")
    assert len(front) >= 2
    for other in ("two", "dask"):
        pd.testing.assert_frame_equal(front, pd.read_parquet(tmp_path / other / "front.parquet"))
        pd.testing.assert_frame_equal(
            pd.read_parquet(tmp_path / "one" / "candidates.parquet"),
            pd.read_parquet(tmp_path / other / "candidates.parquet"),
        )
    for column in ("audit_rate", "human_execution", "assignment", "faulty_share_mean_low"):
        assert column in front.columns
    assert (tmp_path / "two" / "report.html").stat().st_size > 10_000
    # the report rebuilds from the folder, and discovery reads a search folder's policies
    rebuilt = runner.invoke(app, ["report", str(tmp_path / "one")])
    assert rebuilt.exit_code == 0, rebuilt.output
    page = (tmp_path / "one" / "report.html").read_text()
    assert "The front" in page and "Levers of the front" in page and "audit-20" in page
    member = front["candidate"].iloc[0]
    runs = load_runs(tmp_path / "one")
    values = runs[runs["arm"] == member].groupby("scenario")["faulty_share_mean"].mean()
    threshold = (values.min() + values.max()) / 2
    found = runner.invoke(
        app,
        [
            "discover",
            str(tmp_path / "one"),
            "--policy",
            member,
            "--fail",
            f"faulty_share_mean > {threshold}",
        ],
    )
    assert found.exit_code == 0, found.output
    assert f"Policy {member}" in found.output
    # F1 names the front's first policy, as ppsim search prints it
    by_number = runner.invoke(
        app,
        [
            "discover",
            str(tmp_path / "one"),
            "--policy",
            "F1",
            "--fail",
            f"faulty_share_mean > {threshold}",
            "--out",
            str(tmp_path / "f1.html"),
        ],
    )
    assert by_number.exit_code == 0, by_number.output
    assert f"Policy {member}" in by_number.output
    beyond = runner.invoke(
        app,
        [
            "discover",
            str(tmp_path / "one"),
            "--policy",
            f"F{len(front) + 1}",
            "--fail",
            f"faulty_share_mean > {threshold}",
        ],
    )
    assert f"F1 to F{len(front)}" in one_line_error(beyond)


@pytest.mark.slow
def test_a_killed_search_resumes_to_the_same_front(tmp_path):
    """SIGKILL once runs are stored; the same command finishes with the front of an
    uninterrupted search and every run stored once."""
    path = study_file(tmp_path, n=400, steps=60, generations=4)
    search(path, tmp_path / "whole", "--workers", "1", "--no-report")
    out = tmp_path / "killed"
    command = [sys.executable, "-m", "simulation.cli", "search", str(path), "--out", str(out)]
    process = subprocess.Popen(
        [*command, "--workers", "1", "--no-report"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        if len(list((out / "runs").glob("part-*"))) >= 2:
            break
        time.sleep(0.05)
    assert process.poll() is None, "the search ended before it could be killed"
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert not (out / "front.parquet").exists()
    stored = len(raw_keys(out))
    result = search(path, out, "--workers", "2", "--no-report")
    assert "stored" in result.output
    assert raw_keys(out).is_unique
    assert len(raw_keys(out)) > stored
    pd.testing.assert_frame_equal(
        pd.read_parquet(tmp_path / "whole" / "front.parquet"),
        pd.read_parquet(out / "front.parquet"),
    )


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ('faulty_share_mean = "min"', 'faulty_shares = "min"', "objectives.faulty_shares"),
        ("[levers]", "[levers]\nfault_rate = { uniform = [0.001, 0.01] }", "not a policy lever"),
        ("audit_rate = { uniform = [0.0, 0.5] }", "audit_rate = { uniform = [0.2, 0.2] }", "empty"),
        ("human_execution = [false, true]", "human_execution = []", "levers.human_execution"),
        (
            "[arms.audit-20]",
            "[constraints]\nhours = { max = 4 }\n[arms.audit-20]",
            "constraints.hours",
        ),
        ('human_hours_per_cycle = "min"', 'human_hours_per_cycle = "least"', "'min' or 'max'"),
        ("generations = 3", "generations = 0", "search.generations"),
        ("[levers]", "[levers]\naudit_rat = { uniform = [0, 1] }", "did you mean 'audit_rate'"),
    ],
)
def test_bad_search_files_are_refused_in_one_line(tmp_path, old, new, expected):
    path = study_file(tmp_path)
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    out = tmp_path / "out"
    result = runner.invoke(app, ["search", str(path), "--out", str(out)])
    line = one_line_error(result)
    assert expected in line, line
    assert not out.exists()


def test_a_search_file_is_refused_by_the_other_commands(tmp_path):
    path = study_file(tmp_path)
    result = runner.invoke(app, ["whatif", str(path), "--out", str(tmp_path / "out")])
    assert "ppsim search" in result.output and result.exit_code != 0
    whatif = tmp_path / "w.toml"
    whatif.write_text(
        'kind = "whatif"\n[levers]\naudit_rate = [0.1, 0.2]\n[arms.a]\naudit_rate = 0.2\n'
    )
    line = one_line_error(runner.invoke(app, ["whatif", str(whatif)]))
    assert "levers: only for kind = 'search'" in line
