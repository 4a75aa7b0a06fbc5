"""Output paths and I/O faults are the user's, not bugs: an ``--out`` ppsim cannot write
(under /proc, below a file, a name too long), a full disk (run, sweep, validate, report,
the standard output), a file where a folder belongs or the reverse, a folder holding
another kind of result, two commands publishing into one folder at once, a symbolic-link
loop among the profiles: one ``Error:`` line naming the path and the reason, exit code 2,
and nothing half-written."""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from typer.testing import CliRunner

import simulation.validation as validation
import simulation.validation.paper as paper
from simulation.cli import app
from simulation.experiments import load_runs
from simulation.experiments import store as store_module
from simulation.reports import output
from tests.cli_errors import one_line_error

runner = CliRunner()
SMALL = ["--n-systems", "30", "--steps", "3"]
SWEEP = ["--replicates", "3", "--set", "n_systems=30", "--set", "steps=3", "--workers", "1"]


def full_disk() -> OSError:
    return OSError(errno.ENOSPC, "No space left on device")


def error_line(result) -> str:
    """The one error line of a command that failed after its status lines (exit code 2)."""
    assert result.exit_code == 2, (result.output, result.exception)
    assert "Traceback" not in result.output and "Internal error" not in result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1, result.stderr
    return errors[0]


@pytest.fixture
def quick_validation(monkeypatch: pytest.MonkeyPatch) -> None:
    """``ppsim validate`` with its checks replaced by a result that passes at once."""
    result = SimpleNamespace(to_dict=dict, passed=True, elapsed=0.0, summary=list)
    monkeypatch.setattr(validation, "run_validation", lambda *args, **kwargs: result)
    monkeypatch.setattr(validation, "work_units", lambda *args: 1)
    monkeypatch.setattr(validation, "render_table", lambda result: "")
    monkeypatch.setattr(validation, "report_html", lambda result, command: "<html></html>")
    monkeypatch.setattr(paper, "read_paper_cells", list)


def _command(kind: str, out: str) -> list[str]:
    if kind == "run":
        return ["run", *SMALL, "-q", "--out", out]
    if kind == "sweep":
        return ["sweep", *SWEEP, "--no-report", "--out", out]
    return ["validate", "--out", out]


def _left(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# --------------------------------------------------------------------------------------
# Destinations nothing can be written to


@pytest.mark.parametrize("kind", ["run", "sweep", "validate"])
@pytest.mark.parametrize(
    ("out", "said"),
    [
        ("/proc/ppsim-test-out", "/proc"),
        ("x" * 300, "300 bytes long; a file system takes at most 255"),
        ("deep/" + "y" * 256 + "/results", "256 bytes long"),
    ],
)
@pytest.mark.usefixtures("quick_validation")
def test_an_out_that_cannot_be_created_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str, out: str, said: str
) -> None:
    if out.startswith("/proc") and not Path("/proc").is_dir():
        pytest.skip("no /proc here")
    monkeypatch.chdir(tmp_path)
    line = one_line_error(runner.invoke(app, _command(kind, out)))
    assert line.startswith("Error: --out") and said in line
    assert _left(tmp_path) == []


def test_a_sweep_below_a_file_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes").write_text("mine", encoding="utf-8")
    line = one_line_error(runner.invoke(app, _command("sweep", "notes/results")))
    assert "notes is a file, not a folder" in line
    assert _left(tmp_path) == ["notes"]


def test_a_long_but_allowed_name_gets_a_short_temporary_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 240-byte name is allowed; the hidden folder the run is staged in (its name plus
    a suffix) must stay within the file system's 255 bytes too."""
    monkeypatch.chdir(tmp_path)
    name = "r" * 240
    result = runner.invoke(app, _command("run", name))
    assert result.exit_code == 0, (result.output, result.exception)
    assert (tmp_path / name / "summary.json").is_file() and _left(tmp_path) == [name]


# --------------------------------------------------------------------------------------
# A folder where a file belongs, or the reverse: refused before anything is written


def test_run_over_a_summary_json_folder_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "out"
    (out / "summary.json").mkdir(parents=True)
    line = one_line_error(runner.invoke(app, _command("run", str(out))))
    assert f"{out / 'summary.json'} is a folder, where ppsim writes a file" in line
    assert _left(out) == ["summary.json"] and _left(tmp_path) == ["out"]


@pytest.mark.parametrize(("name", "make"), [("report.html", "folder"), ("runs", "file")])
def test_a_sweep_into_a_folder_with_the_wrong_kind_of_entry_runs_nothing(
    tmp_path: Path, name: str, make: str
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    if make == "folder":
        (out / name).mkdir()
    else:
        (out / name).write_text("mine", encoding="utf-8")
    line = one_line_error(runner.invoke(app, _command("sweep", str(out))))
    assert f"{out / name} is a {make}" in line
    assert _left(out) == [name]  # no study.toml, no runs: nothing ran


def test_report_over_a_report_html_folder_is_one_line(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert runner.invoke(app, _command("sweep", str(out))).exit_code == 0
    (out / "report.html").mkdir()
    line = one_line_error(runner.invoke(app, ["report", str(out)]))
    assert f"{out / 'report.html'} is a folder" in line


# --------------------------------------------------------------------------------------
# One kind of result per folder: each writes a report.html


@pytest.mark.parametrize(
    ("first", "second"), [("run", "sweep"), ("sweep", "run"), ("run", "validate")]
)
@pytest.mark.usefixtures("quick_validation")
def test_a_folder_holding_another_kind_of_result_is_refused(
    tmp_path: Path, first: str, second: str
) -> None:
    out = tmp_path / "out"
    made = runner.invoke(app, [*_command(first, str(out)), *(["--report"] * (first == "sweep"))])
    assert made.exit_code == 0, made.output
    before = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    line = one_line_error(runner.invoke(app, _command(second, str(out))))
    assert f"{out} holds the results of" in line and "would overwrite its report.html" in line
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir()} == before
    assert _left(tmp_path) == ["out"]


# --------------------------------------------------------------------------------------
# A full disk


def _full_in_staging(monkeypatch: pytest.MonkeyPatch) -> None:
    """Writing a result file into a staging folder fails as on a full disk."""
    real = Path.write_text

    def write_text(self: Path, *args, **kwargs):
        if ".partial-" in str(self.parent):
            raise full_disk()
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Path, "write_text", write_text)


@pytest.mark.parametrize("kind", ["run", "validate"])
@pytest.mark.usefixtures("quick_validation")
def test_a_full_disk_while_writing_results_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    _full_in_staging(monkeypatch)
    out = tmp_path / "out"
    line = error_line(runner.invoke(app, _command(kind, str(out))))
    assert f"--out: cannot write {out}" in line and "(No space left on device)" in line
    assert _left(tmp_path) == []


def test_a_full_disk_during_a_sweep_keeps_the_stored_runs_for_a_resume(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = store_module._write_part
    writes = {"n": 0}

    def write_part(table, path):
        writes["n"] += 1
        if writes["n"] == 2:
            with output.atomic_file(path):
                raise full_disk()
        return real(table, path)

    monkeypatch.setattr(store_module, "_write_part", write_part)
    monkeypatch.setattr("simulation.experiments.runner.PART_SECONDS", 0.0)
    out = tmp_path / "out"
    command = ["sweep", *SWEEP, "--replicates", "6", "--no-report", "--out", str(out)]
    line = error_line(runner.invoke(app, command))
    assert "cannot write" in line and "part-" in line and "(No space left on device)" in line
    assert "run the same command again to resume" in line
    stored = len(load_runs(out))
    assert stored > 0 and not list((out / "runs").glob(".*"))  # no temporary file left

    monkeypatch.setattr(store_module, "_write_part", real)
    resumed = runner.invoke(app, command)
    assert resumed.exit_code == 0, resumed.output
    assert f"Resuming: {stored} of 6 runs already stored" in resumed.stderr


def test_a_full_disk_while_writing_the_report_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    assert runner.invoke(app, _command("sweep", str(out))).exit_code == 0

    def full(tmp: Path, path: Path) -> None:
        raise full_disk()

    monkeypatch.setattr(output, "_replace_synced", full)
    line = one_line_error(runner.invoke(app, ["report", str(out)]))
    assert f"cannot write {out}" in line and "(No space left on device)" in line
    assert not (out / "report.html").exists() and not list(out.glob(".*.tmp"))


@pytest.fixture
def tiny_disk(tmp_path: Path):
    """A 64 KiB file system (a tmpfs; needs root, else the test is skipped)."""
    disk = tmp_path / "disk"
    disk.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a tmpfs needs root")
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(disk)], capture_output=True
    )
    if mounted.returncode:
        pytest.skip(f"cannot mount a tmpfs: {mounted.stderr.decode().strip()}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", str(disk)], check=False)


def test_a_really_full_disk_for_results_and_for_the_standard_output(tiny_disk: Path) -> None:
    result = runner.invoke(
        app, ["run", "--n-systems", "30", "--steps", "300", "-q", "--out", str(tiny_disk / "out")]
    )
    line = error_line(result)
    assert "(No space left on device)" in line and _left(tiny_disk) == []

    (tiny_disk / "filler").write_bytes(b"\0" * 64 * 1024)  # as full as it gets
    ppsim = Path(sys.executable).parent / "ppsim"
    with (tiny_disk / "profiles.txt").open("w") as stdout:
        shown = subprocess.run(
            [str(ppsim), "profiles"], stdout=stdout, stderr=subprocess.PIPE, text=True
        )
    assert shown.returncode == 2, shown.stderr
    assert shown.stderr.strip().splitlines() == [
        "Error: cannot write the standard output (No space left on device)"
    ]


# --------------------------------------------------------------------------------------
# Two commands, one folder


def test_two_runs_publishing_one_new_folder_at_once_take_turns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another command creates the folder between this one's check and its rename: this
    one's files join it (the later command wins) instead of failing."""
    dest = tmp_path / "out"
    real = {"rename": os.rename, "replace": os.replace}
    raced = {"done": False}

    def racing(name: str):
        def move(src, dst, *args, **kwargs):
            if Path(dst) == dest and not raced["done"]:
                raced["done"] = True
                with output.atomic_output(dest) as other:  # the other command, first
                    (other / "summary.json").write_text("other", encoding="utf-8")
                    (other / "notes.txt").write_text("other", encoding="utf-8")
            return real[name](src, dst, *args, **kwargs)

        return move

    monkeypatch.setattr(os, "rename", racing("rename"))
    monkeypatch.setattr(os, "replace", racing("replace"))
    with output.atomic_output(dest, last=("summary.json",)) as folder:
        (folder / "summary.json").write_text("ours", encoding="utf-8")
    assert raced["done"]
    assert (dest / "summary.json").read_text(encoding="utf-8") == "ours"
    assert _left(dest) == ["notes.txt", "summary.json"] and _left(tmp_path) == ["out"]


# --------------------------------------------------------------------------------------
# Inputs the OS cannot read


def test_a_symbolic_link_loop_in_a_profile_folder_is_one_line(tmp_path: Path) -> None:
    lab = tmp_path / "lab"
    lab.mkdir()
    (lab / "a.toml").symlink_to("b.toml")
    (lab / "b.toml").symlink_to("a.toml")
    for command in (["profiles"], ["run", *SMALL, "-q"]):
        line = one_line_error(runner.invoke(app, [*command, "--profile-dir", str(lab)]))
        assert str(lab) in line and "Too many levels of symbolic links" in line
