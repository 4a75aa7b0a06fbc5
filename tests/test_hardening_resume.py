"""A resume never mixes inputs: a study folder records the contents of every file its runs
read (graph files, profile files named by path, the shipped profiles its mixes use), and a
resume after one of them changed is refused in one line naming the file, leaving the stored
runs as they were; a file changed while the study runs is caught at its end."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from simulation import profiles
from simulation.cli import app
from simulation.experiments import load_runs
from simulation.experiments.runner import run_study
from simulation.experiments.study import StudyError
from simulation.experiments.study_file import load_study
from tests.cli_errors import one_line_error

runner = CliRunner()


def _ring(path: Path, n: int, extra: str = "") -> Path:
    path.write_text("".join(f"{i} {(i + 1) % n}\n" for i in range(n)) + extra, encoding="utf-8")
    return path


def _profile_copy(folder: Path, p: float) -> Path:
    """A copy of the shipped gpt-5.2 profile (by path) with its denial rate set to ``p``."""
    folder.mkdir(exist_ok=True)
    text = (profiles.builtin_profile_dir() / "gpt-5.2.toml").read_text(encoding="utf-8")
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == "[denial]")
    at = next(i for i in range(start, len(lines)) if lines[i].startswith("p = "))
    lines[at] = f"p = {p}"
    path = folder / "mine.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _sweep(study: Path, out: Path):
    return runner.invoke(
        app, ["sweep", str(study), "--out", str(out), "--workers", "1", "--no-report"]
    )


@pytest.mark.parametrize("where", ["graph file", "profile file in [vary]", "shipped profile"])
def test_a_resume_after_an_input_file_changed_is_refused_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    monkeypatch.chdir(tmp_path)
    base = "[base]\nn_systems = 30\nsteps = 3\n"
    if where == "graph file":
        changed = _ring(tmp_path / "graph.txt", 30)
        text = '[base]\nsteps = 3\ntopology = "file"\ngraph_file = "graph.txt"\n'
        text += "[vary]\nbeta = [0.1, 0.2]\n"
        named = "graph.txt"
    elif where == "profile file in [vary]":
        changed = _profile_copy(tmp_path / "lab", 0.5)
        text = base + "[vary]\nprofile_mix = ['gpt-5.2', 'lab/mine.toml']\n"
        named = "lab/mine.toml"
    else:  # a copy of the shipped folder stands in for an upgraded ppsim
        shipped = tmp_path / "shipped"
        shutil.copytree(profiles.builtin_profile_dir(), shipped)
        monkeypatch.setattr(profiles, "builtin_profile_dir", lambda: shipped)
        changed = shipped / "gpt-5.2.toml"
        text = base + "profile_mix = 'gpt-5.2'\n[vary]\nbeta = [0.1, 0.2]\n"
        named = str(changed)
    study = tmp_path / "study.toml"
    study.write_text("replicates = 2\n" + text, encoding="utf-8")
    out = tmp_path / "out"

    first = _sweep(study, out)
    assert first.exit_code == 0, first.output
    again = _sweep(study, out)  # unchanged inputs: resumes, nothing to run
    assert again.exit_code == 0 and "All 4 runs are already stored" in again.output
    before = load_runs(out)

    changed.write_text(changed.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    line = one_line_error(_sweep(study, out))
    assert f"was run with another version of {named} (its contents changed)" in line
    assert "use a new --out folder" in line
    assert load_runs(out).equals(before)  # nothing run, nothing removed
    recorded = json.loads((out / "inputs.json").read_text(encoding="utf-8"))["files"]
    assert named in {entry["path"] for entry in recorded}


def test_an_input_file_changed_while_the_study_runs_is_caught_at_its_end(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    graph = _ring(tmp_path / "graph.txt", 30)
    (tmp_path / "study.toml").write_text(
        'replicates = 3\n[base]\nsteps = 3\ntopology = "file"\ngraph_file = "graph.txt"\n',
        encoding="utf-8",
    )
    study = load_study(tmp_path / "study.toml")

    class EditAfterFirstRun:
        def start(self, total: int, skipped: int, retried: int) -> None:
            self.done = 0

        def advance(self, failed: bool) -> None:
            self.done += 1
            if self.done == 1:
                _ring(graph, 30, extra="0 15\n")

    with pytest.raises(StudyError, match="graph.txt changed while the study ran"):
        run_study(study, tmp_path / "out", progress=EditAfterFirstRun())
    # the record keeps the contents the first runs used: a resume is refused too
    with pytest.raises(StudyError, match="another version of graph.txt"):
        run_study(study, tmp_path / "out")
