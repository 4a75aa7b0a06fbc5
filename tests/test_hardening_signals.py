"""Ctrl-C and SIGTERM are interruptions, never failures: a run the signal cuts short is not
stored (as failed or otherwise), even when the compiled engine passes the interruption on
as a ``SystemError`` or loses it; the study stops with one line and exit code 130 (SIGINT)
or 143 (SIGTERM) and resumes; ``run --out`` stopped while writing leaves nothing behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from simulation import interrupts
from simulation.cli import app
from simulation.experiments import load_runs
from simulation.experiments.runner import StudyInterrupted, run_study
from simulation.experiments.study_file import parse_study
from simulation.model import PeerPreservationModel

PPSIM = Path(sys.executable).parent / "ppsim"
runner = CliRunner()


def _cut_third_run(monkeypatch: pytest.MonkeyPatch, cut) -> None:
    """Make the third run of a study end as ``cut`` says (the others run normally)."""
    real = PeerPreservationModel.run
    calls = {"n": 0}

    def run(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            cut()
        return real(self, *args, **kwargs)

    monkeypatch.setattr(PeerPreservationModel, "run", run)


def _system_error() -> None:
    """What Numba's dispatcher raises when Ctrl-C arrives as a compiled call returns."""
    try:
        raise KeyboardInterrupt
    except KeyboardInterrupt as exc:
        raise SystemError(
            "CPUDispatcher(<function cycle>) returned a result with an exception set"
        ) from exc


def test_ctrl_c_wrapped_in_a_system_error_stops_the_sweep_and_is_not_stored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _cut_third_run(monkeypatch, _system_error)
    out = tmp_path / "out"
    args = ["sweep", "--replicates", "6", "--set", "n_systems=30", "--set", "steps=2"]
    result = runner.invoke(app, [*args, "--out", str(out), "--workers", "1", "--no-report"])
    assert result.exit_code == 130, result.output
    assert "Interrupted: 2 of 6 runs are stored" in result.stderr
    assert "Run the same command again to resume" in result.stderr
    frame = load_runs(out)
    assert len(frame) == 2 and (frame["status"] == "ok").all()  # no failed row


def test_a_signal_the_engine_swallows_still_stops_the_study(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(interrupts, "_state", dict(interrupts._state))  # this test's count

    def swallowed() -> None:
        try:
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(2)  # the handler runs here
        except KeyboardInterrupt:
            pass  # compiled code that loses the exception

    _cut_third_run(monkeypatch, swallowed)
    study = parse_study({"replicates": 6, "base": {"n_systems": 30, "steps": 2}}, "x")
    with pytest.raises(StudyInterrupted) as stop:
        run_study(study, tmp_path / "out", flush_rows=1)
    assert stop.value.signum == signal.SIGTERM and stop.value.stored == 2
    frame = load_runs(tmp_path / "out")
    assert len(frame) == 2 and (frame["status"] == "ok").all()  # the cut run is not kept


def _start(args: list[str], cwd: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [str(PPSIM), *args],
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, like a job in a terminal
        # Ctrl-C acts as in a terminal even when these tests run as a background job, whose
        # children inherit SIGINT ignored
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def _wait_for(found, process: subprocess.Popen, what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not found():
        assert process.poll() is None, f"ended before {what}: {process.communicate()}"
        assert time.monotonic() < deadline, f"no {what} after {seconds} s"
        time.sleep(0.002)


def _stop(process: subprocess.Popen, signum: int) -> str:
    try:
        os.killpg(process.pid, signum)  # as Ctrl-C reaches a terminal's job
        _, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    return stderr


@pytest.mark.timeout(120)
@pytest.mark.parametrize(
    ("signum", "code", "said"), [(2, 130, "Interrupted"), (15, 143, "Terminated")]
)
def test_a_signal_stops_a_one_worker_sweep_for_resume(
    tmp_path: Path, signum: int, code: int, said: str
) -> None:
    study = tmp_path / "study.toml"
    # runs of a few tens of ms: parts are written every few runs, and the sweep is still
    # running when its first part appears
    study.write_text("replicates = 40\n[base]\nn_systems = 300\nsteps = 200\n", encoding="utf-8")
    out = tmp_path / "out"
    command = ["sweep", str(study), "--out", str(out), "--workers", "1", "--no-report"]
    process = _start(command, tmp_path)
    _wait_for(lambda: list((out / "runs").glob("part-*.parquet")), process, "a stored part")
    stderr = _stop(process, signum)
    assert process.returncode == code, stderr
    assert "Traceback" not in stderr and "Internal error" not in stderr
    assert f"{said}" in stderr and "Run the same command again to resume" in stderr
    frame = load_runs(out)
    stored = len(frame)
    assert 0 < stored < 40 and (frame["status"] == "ok").all()  # no run stored as failed

    resumed = runner.invoke(app, command)
    assert resumed.exit_code == 0, resumed.output
    assert f"Resuming: {stored} of 40 runs already stored, skipped." in resumed.stderr
    frame = load_runs(out)
    assert len(frame) == 40 and (frame["status"] == "ok").all()


@pytest.mark.timeout(120)
def test_sigterm_while_run_writes_its_results_leaves_nothing(tmp_path: Path) -> None:
    out = tmp_path / "out"
    # a long series: writing the report takes a moment, long enough to be caught at it
    command = ["run", "--n-systems", "60", "--steps", "3000", "--csv", "-q", "--out", "out"]
    process = _start(command, tmp_path)
    _wait_for(lambda: list(tmp_path.glob(".out.partial-*")), process, "a partial folder")
    stderr = _stop(process, signal.SIGTERM)
    assert process.returncode == 143, stderr
    assert stderr.strip().splitlines() == ["Terminated (SIGTERM)."]
    assert sorted(p.name for p in tmp_path.iterdir()) == [], "left behind"
    assert not out.exists()
