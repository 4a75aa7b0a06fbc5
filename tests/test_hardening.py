"""Inputs and faults that must be refused in one line or handled: absurd designs, empty
folder names, unknown keys, unsafe names, duplicate profiles, dense networks, foreign
files in a results store, lost workers, locks and memory."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from simulation.cli import app
from simulation.experiments import study as study_module
from simulation.experiments.design import make_plan
from simulation.experiments.study import StudyError, run_count
from simulation.experiments.study_file import parse_study
from tests.cli_errors import one_line_error

runner = CliRunner()
SMALL = ("--n-systems", "60", "--steps", "5")


def error_line(result) -> str:
    """The one error line of a command that failed after its status lines (exit code 2)."""
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1, result.stderr
    return errors[0]


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


# --------------------------------------------------------------------------------------
# 3. Unknown keys in any file a user writes


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[bsae]\nn_systems = 60\n", "unknown table [bsae] (did you mean 'base'?)"),
        ("steps = 5\n[plotting]\ncolour = 1\n", "unknown table [plotting]"),
        ("[base]\nsteps = 5\n[vary]\naudit_rat = [0.1]\n", "did you mean 'audit_rate'?"),
        ("kind = 'sweep'\nreplicate = 3\n[base]\nsteps = 5\n", "did you mean 'replicates'?"),
    ],
)
def test_config_file_with_unknown_table_or_key_is_refused(
    text: str, expected: str, tmp_path: Path
) -> None:
    config = _write(tmp_path, "config.toml", text)
    out = tmp_path / "results"
    result = runner.invoke(app, ["run", *SMALL, "--config", str(config), "--out", str(out)])
    assert expected in one_line_error(result)
    assert not out.exists()


def test_profile_file_with_unknown_key_is_refused(tmp_path: Path) -> None:
    from simulation.profiles import ProfileError, builtin_profile_dir, load_profile_file

    text = (builtin_profile_dir() / "loyal.toml").read_text(encoding="utf-8")
    cases = {
        "famly = 'x'\n" + text: r"unknown key 'famly' \(did you mean 'family'\?\)",
        text.replace("[self]", "[self]\nrefusal = { p = 0.1, source = 'x' }", 1): r"\[self\]",
        text + "\n[peer.refusal.extra]\np = 0.1\nsource = 'x'\n": r"\[peer.refusal\]",
    }
    for i, (broken, pattern) in enumerate(cases.items()):
        path = _write(tmp_path, f"p{i}.toml", broken)
        with pytest.raises(ProfileError, match=pattern):
            load_profile_file(path)


def test_validation_settings_with_unknown_full_section_are_refused(tmp_path: Path) -> None:
    from simulation.validation import load_settings
    from simulation.validation.settings import SettingsError

    path = _write(tmp_path, "v.toml", 'kind = "validation"\n[full.thresold]\nn_systems = 100\n')
    with pytest.raises(SettingsError, match=r"did you mean 'threshold'\?"):
        load_settings(path)


# --------------------------------------------------------------------------------------
# 4. Names that become paths


@pytest.mark.parametrize("name", ["..", ".", ".hidden", "a/b", "../../etc", "", "x" * 101])
def test_unsafe_study_and_arm_names_are_refused(name: str) -> None:
    with pytest.raises(StudyError, match=r"name: expected up to 100 letters"):
        parse_study({"name": name}, "x")
    arms = {name: {"audit_rate": 0.3}}
    with pytest.raises(StudyError, match=r"arms\..*expected up to 100 letters"):
        parse_study({"kind": "whatif", "replicates": 2, "arms": arms}, "x")


def test_study_named_dotdot_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    study = _write(
        work, "s.toml", 'name = ".."\n[base]\nn_systems = 60\nsteps = 2\n[vary]\nbeta = [0.1]\n'
    )
    result = runner.invoke(app, ["sweep", str(study), "--workers", "1"])
    assert "name" in one_line_error(result)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["work"]
    assert sorted(p.name for p in work.iterdir()) == ["s.toml"]


# --------------------------------------------------------------------------------------
# 5. Two profile files with one name


def test_two_profiles_with_one_name_in_one_folder_are_refused_naming_both(
    tmp_path: Path,
) -> None:
    from simulation.profiles import builtin_profile_dir

    text = (builtin_profile_dir() / "loyal.toml").read_text(encoding="utf-8")
    mine = text.replace('name = "loyal"', 'name = "mine"', 1)
    first, second = tmp_path / "a", tmp_path / "b"
    for folder in (first, second):
        folder.mkdir()
        (folder / "mine.toml").write_text(mine)
    # in two folders, the later one replaces the earlier one (as a shipped one is replaced)
    result = runner.invoke(
        app,
        ["run", *SMALL, "--profile-dir", str(first), "--profile-dir", str(second)],
    )
    assert result.exit_code == 0, result.output
    (first / "also-mine.toml").write_text(mine)
    result = runner.invoke(app, ["run", *SMALL, "--profile-dir", str(first)])
    line = one_line_error(result)
    assert "'mine' is declared twice" in line
    assert str(first / "mine.toml") in line and str(first / "also-mine.toml") in line
    # the same folder twice is one set of files, not a clash
    again = runner.invoke(
        app, ["profiles", "--profile-dir", str(second), "--profile-dir", str(second)]
    )
    assert again.exit_code == 0, again.output


# --------------------------------------------------------------------------------------
# 6. Dense networks build fast or are refused with the allowed range


@pytest.mark.timeout(60)
@pytest.mark.timeout(120)  # a dense request once never finished; this guards against a hang
@pytest.mark.parametrize(("n", "mean_degree"), [(401, 400.0), (1200, 700.0), (300, 80.0)])
def test_dense_erdos_renyi_builds_with_distinct_edges(n: int, mean_degree: float) -> None:
    import numpy as np

    from simulation.topology import build_network

    net = build_network("erdos-renyi", n, mean_degree, np.random.default_rng(3))
    assert net.collab_u.size == round(n * mean_degree / 2)
    assert (net.collab_u < net.collab_v).all() and net.collab_v.max() < n
    assert np.unique(net.collab_u * n + net.collab_v).size == net.collab_u.size


def test_pair_index_decoding_is_exact() -> None:
    import numpy as np

    from simulation.topology import pair_of_index

    k = np.concatenate([np.arange(100_000), np.array([10**12, 10**12 + 7, 2**40 - 1])])
    j, i = pair_of_index(k)
    assert (i * (i - 1) // 2 + j == k).all() and (j >= 0).all() and (j < i).all()


@pytest.mark.parametrize(
    ("topology", "allowed"),
    [
        ("erdos-renyi", "use at most 400"),
        ("random-regular", "use at most 400"),
        ("watts-strogatz", "use at most 400"),
    ],
)
def test_too_dense_a_request_names_the_allowed_range(topology: str, allowed: str) -> None:
    args = ["--topology", topology, "--n-systems", "401", "--mean-degree", "420"]
    result = runner.invoke(app, ["run", "--steps", "2", *args])
    line = one_line_error(result)
    assert "mean_degree" in line and allowed in line


# --------------------------------------------------------------------------------------
# 7. The store reads only its own parts, each run once


def _small_study(tmp_path: Path, timeseries: bool = True) -> tuple[Path, list[str]]:
    out = tmp_path / "results"
    args = [
        "sweep",
        "--vary",
        "audit_rate=0,0.1",
        "--replicates",
        "2",
        "--set",
        "n_systems=60",
        "--set",
        "steps=3",
        "--workers",
        "1",
        "--no-report",
        "--out",
        str(out),
        "--timeseries" if timeseries else "--no-timeseries",
    ]
    return out, args


def test_a_copied_part_is_counted_once(tmp_path: Path) -> None:
    import shutil

    import pyarrow.parquet as pq

    from simulation.experiments.store import MARKER_KEY, load_runs, load_timeseries

    out, args = _small_study(tmp_path)
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    part = sorted((out / "runs").glob("part-*.parquet"))[0]
    assert pq.read_schema(part).metadata[MARKER_KEY] == b"runs"
    series = out / "timeseries" / part.name
    assert pq.read_schema(series).metadata[MARKER_KEY] == b"timeseries"
    twin = part.name.replace(part.name[5:25], "9" * 20)
    shutil.copy(part, out / "runs" / twin)
    shutil.copy(series, out / "timeseries" / twin)
    assert len(load_runs(out)) == 4
    assert len(load_timeseries(out)) == 4 * 3
    again = runner.invoke(app, args)
    assert again.exit_code == 0, again.output
    assert "4 of 4 runs" in again.stderr


@pytest.mark.parametrize("folder", ["runs", "timeseries"])
def test_foreign_files_in_the_store_are_refused(tmp_path: Path, folder: str) -> None:
    import shutil

    import pandas as pd

    from simulation.experiments.store import load_runs, load_timeseries

    out, args = _small_study(tmp_path)
    assert runner.invoke(app, args).exit_code == 0
    part = sorted((out / "runs").glob("part-*.parquet"))[0]
    for name, make in {
        "part-copy.parquet": lambda p: shutil.copy(part, p),
        "part-00000000000000000001-0000abcd.parquet": (
            lambda p: pd.DataFrame({"run_key": ["x"], "faulty_share_mean": [9.0]}).to_parquet(p)
        ),
        "notes.parquet": lambda p: p.write_text("not parquet"),
    }.items():
        path = out / folder / name
        make(path)
        with pytest.raises(StudyError, match=rf"{name}: .*move it out"):
            load_runs(out) if folder == "runs" else load_timeseries(out)
        result = runner.invoke(app, args)
        assert name in error_line(result)
        path.unlink()


# --------------------------------------------------------------------------------------
# 8. Faults: the results folder's lock


def _open_and_hold(out: str, barrier, results) -> None:
    """Child process: open the study folder when all are ready, hold it a moment."""
    from simulation.experiments.store import StudyStore

    study = parse_study({"base": {"n_systems": 60, "steps": 2}}, "lock")
    barrier.wait()
    try:
        store = StudyStore.open(out, study)
    except Exception as exc:  # reported to the parent, which checks the kind
        results.put(f"{type(exc).__name__}: {exc}")
        return
    time.sleep(1.5)
    store.close()
    results.put("won")


FORK_IS_SAFE_HERE = pytest.mark.filterwarnings(  # the children only open a file
    "ignore:This process .* is multi-threaded, use of fork:DeprecationWarning"
)


@FORK_IS_SAFE_HERE
@pytest.mark.timeout(120)
def test_exactly_one_of_several_processes_takes_a_stale_lock(tmp_path: Path) -> None:
    import multiprocessing
    import socket
    import subprocess

    from simulation.experiments.store import LOCK_FILE

    context = multiprocessing.get_context("fork")
    out = tmp_path / "out"
    out.mkdir()
    for _ in range(3):
        dead = subprocess.Popen(["true"])
        dead.wait()
        (out / LOCK_FILE).write_text(f"{socket.gethostname()} {dead.pid}")  # a killed holder
        barrier, results = context.Barrier(6), context.Queue()
        children = [
            context.Process(target=_open_and_hold, args=(str(out), barrier, results))
            for _ in range(6)
        ]
        for child in children:
            child.start()
        outcomes = sorted(results.get(timeout=60) for _ in children)
        for child in children:
            child.join(timeout=10)
        assert outcomes.count("won") == 1, outcomes
        assert all("in use by process" in o for o in outcomes if o != "won"), outcomes


@FORK_IS_SAFE_HERE
def test_a_lock_file_naming_a_live_but_unrelated_process_is_free(tmp_path: Path) -> None:
    import socket

    from simulation.experiments.store import LOCK_FILE, StudyStore

    out = tmp_path / "out"
    out.mkdir()
    # left by a killed study whose process id now belongs to another process (here: init)
    (out / LOCK_FILE).write_text(f"{socket.gethostname()} 1")
    study = parse_study({"base": {"n_systems": 60, "steps": 2}}, "lock")
    with StudyStore.open(out, study), pytest.raises(StudyError, match=r"in use by process \d+"):
        _open_in_another_process(out)
    assert not (out / LOCK_FILE).exists()


def _open_in_another_process(out: Path) -> None:
    """Open the folder from a forked child; re-raise its refusal here."""
    import multiprocessing

    context = multiprocessing.get_context("fork")
    barrier, results = context.Barrier(1), context.Queue()
    child = context.Process(target=_open_and_hold, args=(str(out), barrier, results))
    child.start()
    outcome = results.get(timeout=60)
    child.join(timeout=10)
    if outcome != "won":
        raise StudyError(outcome)


# --------------------------------------------------------------------------------------
# 8. Faults: temporary folders of killed runs


def test_stale_partial_folders_of_dead_writers_are_removed(tmp_path: Path) -> None:
    import os
    import socket
    import subprocess

    dead = subprocess.Popen(["true"])
    dead.wait()
    host = socket.gethostname()
    stale = tmp_path / f".results.partial-{host}-{dead.pid}-0badc0de"
    living = tmp_path / f".results.partial-{host}-{os.getpid()}-0000beef"
    other = tmp_path / f".other.partial-{host}-{dead.pid}-0badc0de"
    for folder in (stale, living, other):
        folder.mkdir()
        (folder / "report.html").write_text("half")
    result = runner.invoke(app, ["run", *SMALL, "--out", str(tmp_path / "results"), "-q"])
    assert result.exit_code == 0, result.output
    assert not stale.exists()
    assert living.is_dir() and other.is_dir()  # a running writer, another destination
    assert (tmp_path / "results" / "summary.json").is_file()


# --------------------------------------------------------------------------------------
# 8. Faults: a run too large for the memory available


def test_a_run_too_large_for_memory_is_refused_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from simulation import resources

    monkeypatch.setattr(resources, "available_memory", lambda: 300_000_000)
    out = tmp_path / "results"
    result = runner.invoke(app, ["run", "--n-systems", "2000000", "--out", str(out)])
    line = one_line_error(result)
    assert "n_systems: 2,000,000 systems" in line and "0.3 GB is available" in line
    assert not out.exists()
    assert resources.memory_problem(1000, 8.0, "erdos-renyi") is None


def test_a_study_too_large_for_memory_is_refused_before_any_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from simulation import resources

    monkeypatch.setattr(resources, "available_memory", lambda: 300_000_000)
    out = tmp_path / "results"
    args = ["sweep", "--vary", "n_systems=100,2000000", "--out", str(out), "--workers", "1"]
    line = one_line_error(runner.invoke(app, args))
    assert "n_systems: 2,000,000 systems" in line
    assert not out.exists()


def test_the_memory_estimate_covers_a_measured_run() -> None:
    import tracemalloc

    from simulation.config import SimulationConfig
    from simulation.model import PeerPreservationModel
    from simulation.resources import BASELINE_BYTES, memory_estimate

    config = SimulationConfig(n_systems=50_000, mean_degree=16.0, topology="erdos-renyi", steps=3)
    tracemalloc.start()
    try:
        PeerPreservationModel(config, rng=0).run()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    estimate = memory_estimate(50_000, 16.0, "erdos-renyi") - BASELINE_BYTES
    assert peak <= estimate <= 2 * peak, (peak, estimate)


# --------------------------------------------------------------------------------------
# 8. Faults: lost workers, a lost cluster, SIGTERM

FAULT_STUDY = {
    "name": "faults",
    "seed": 3,
    "replicates": 6,
    "base": {"n_systems": 100, "steps": 20},
    "vary": {"audit_rate": [0.0, 0.2]},
}


class _KillAWorker:
    """Progress hook that SIGKILLs a worker process of the pool after ``after`` runs."""

    def __init__(self, pool, after: int) -> None:
        self.pool, self.after, self.seen, self.failed = pool, after, 0, 0

    def start(self, total: int, skipped: int, retried: int) -> None:
        pass

    def advance(self, failed: bool) -> None:
        import os
        import signal

        self.seen += 1
        self.failed += failed
        if self.seen == self.after:
            os.kill(next(iter(self.pool.pool._processes)), signal.SIGKILL)


@pytest.mark.timeout(300)
def test_a_killed_pool_worker_is_replaced_and_its_runs_run_again(tmp_path: Path) -> None:
    from simulation.experiments import load_runs
    from simulation.experiments.executors import open_executor
    from simulation.experiments.runner import run_study

    study = parse_study(FAULT_STUDY, "faults")
    with open_executor(workers=2) as (pool, slots, _):
        progress = _KillAWorker(pool, after=2)
        result = run_study(study, tmp_path / "out", pool, workers=slots, progress=progress)
        assert pool.renewals >= 1
    assert result.failed == progress.failed == 0
    frame = load_runs(tmp_path / "out")
    assert list(frame["run_key"]) == [run.key for run in make_plan(study).runs]
    assert (frame["status"] == "ok").all()


class _LosingExecutor:
    """An executor (like a Dask client whose scheduler died) that runs ``good`` batches and
    then loses every task and refuses new ones."""

    def __init__(self, good: int) -> None:
        self.good = good

    def submit(self, fn, /, *args, **kwargs):
        from concurrent.futures import Future

        if self.good < 0:
            raise RuntimeError("cannot connect to the scheduler")
        future = Future()
        if self.good > 0:
            future.set_result(fn(*args, **kwargs))
        else:
            future.set_exception(OSError("Timed out trying to connect to tcp://10.0.0.1:8786"))
        self.good -= 1
        return future


def test_runs_lost_by_the_executor_are_left_for_resume_not_stored_as_failed(
    tmp_path: Path,
) -> None:
    from simulation.experiments import load_runs
    from simulation.experiments.runner import RunsLost, run_study

    study = parse_study(FAULT_STUDY, "faults")
    out = tmp_path / "out"
    with pytest.raises(
        RunsLost, match=r"could not run \(RuntimeError: cannot connect.*resume"
    ) as info:
        run_study(study, out, _LosingExecutor(good=3), workers=1, flush_rows=100)
    stored = load_runs(out)
    assert (stored["status"] == "ok").all() and len(stored) == info.value.stored
    assert info.value.lost == 12 - info.value.stored > 0
    resumed = run_study(study, out)
    assert resumed.ran == info.value.lost and resumed.failed == 0
    assert list(resumed.frame["run_key"]) == [run.key for run in make_plan(study).runs]


def test_a_lost_cluster_is_one_line_exit_1(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from contextlib import contextmanager

    from simulation.cli import console

    @contextmanager
    def lost_cluster(workers, scheduler):
        yield _LosingExecutor(good=1), 1, "a cluster"

    monkeypatch.setattr(console, "open_executor", lost_cluster)
    out, args = _small_study(tmp_path, timeseries=False)
    result = runner.invoke(app, args)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1 and "run the same command again to resume" in errors[0]
    from simulation.experiments import load_runs

    assert (load_runs(out)["status"] == "ok").all()


def _descendants(pid: int) -> list[int]:
    import subprocess

    found = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True)
    return [int(p) for p in found.stdout.split()]


@pytest.mark.slow
@pytest.mark.timeout(300)
@pytest.mark.parametrize("signal_name", ["SIGTERM", "SIGKILL"])
def test_killing_a_sweep_leaves_no_worker_behind(tmp_path: Path, signal_name: str) -> None:
    import os
    import signal
    import subprocess
    import sys

    from simulation.reports.output import process_alive

    study = _write(
        tmp_path,
        "slow.toml",
        # runs long enough (tens of ms each) that the sweep is still running when its
        # first part appears, at least runner.PART_SECONDS after the start
        "replicates = 40\n[base]\nn_systems = 400\nsteps = 5000\n[vary]\nbeta = [0.1, 0.2]\n",
    )
    out = tmp_path / "out"
    ppsim = Path(sys.executable).parent / "ppsim"
    process = subprocess.Popen(
        [str(ppsim), "sweep", str(study), "--out", str(out), "--workers", "2", "--no-report"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    workers: list[int] = []
    try:
        deadline = time.monotonic() + 120
        while not list((out / "runs").glob("part-*.parquet")):
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "the sweep wrote no results"
            time.sleep(0.05)
        workers = _descendants(process.pid)
        assert len(workers) >= 2
        process.send_signal(getattr(signal, signal_name))  # the main process only
        _, stderr = process.communicate(timeout=60)
        deadline = time.monotonic() + 20
        while any(process_alive(w) for w in workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        alive = [w for w in workers if process_alive(w) and _state(w) != "Z"]
        assert alive == [], f"orphaned workers: {alive}"
        if signal_name == "SIGTERM":
            assert process.returncode == 143, stderr  # 128 + SIGTERM, as shells report it
            assert "Run the same command again to resume" in stderr
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        for pid in workers:  # the test's own processes, if the sweep left them
            if process_alive(pid):
                os.kill(pid, signal.SIGKILL)


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except OSError:
        return "gone"


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_killing_the_dask_scheduler_ends_the_sweep_in_one_line_for_resume(
    tmp_path: Path,
) -> None:
    import os
    import signal
    import subprocess
    import sys

    from simulation.experiments import load_runs

    bin_dir = Path(sys.executable).parent
    scheduler_file = tmp_path / "scheduler.json"
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    scheduler = subprocess.Popen(
        [str(bin_dir / "dask"), "scheduler", "--host", "127.0.0.1", "--port", "0"]
        + ["--no-dashboard", "--scheduler-file", str(scheduler_file)],
        start_new_session=True,
        **quiet,
    )
    processes = [scheduler]
    try:
        deadline = time.monotonic() + 90
        while not scheduler_file.exists():
            assert time.monotonic() < deadline, "the scheduler did not start"
            time.sleep(0.2)
        time.sleep(0.5)
        import json

        address = json.loads(scheduler_file.read_text())["address"]
        processes.append(
            subprocess.Popen(
                [str(bin_dir / "dask"), "worker", address, "--nworkers", "1", "--nthreads", "1"]
                + ["--no-dashboard"],
                start_new_session=True,
                **quiet,
            )
        )
        study = _write(
            tmp_path,
            "slow.toml",
            # runs long enough (tens of ms each) that the sweep is still running when its
            # first part appears, at least runner.PART_SECONDS after the start
            "replicates = 40\n[base]\nn_systems = 400\nsteps = 5000\n[vary]\nbeta = [0.1, 0.2]\n",
        )
        out = tmp_path / "out"
        sweep = subprocess.Popen(
            [str(bin_dir / "ppsim"), "sweep", str(study), "--out", str(out)]
            + ["--scheduler", address, "--no-report"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        processes.append(sweep)
        while not list((out / "runs").glob("part-*.parquet")):
            assert sweep.poll() is None, sweep.communicate()
            assert time.monotonic() < deadline + 60, "the sweep wrote no results"
            time.sleep(0.1)
        os.killpg(scheduler.pid, signal.SIGKILL)
        _, stderr = sweep.communicate(timeout=120)
        assert sweep.returncode == 1, stderr
        assert "Traceback" not in stderr
        errors = [line for line in stderr.splitlines() if line.startswith("Error: ")]
        assert len(errors) == 1 and "lost the Dask scheduler" in errors[0], stderr
        stored = load_runs(out)
        assert len(stored) > 0 and (stored["status"] == "ok").all()
    finally:
        for process in processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
