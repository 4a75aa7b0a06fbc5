"""What can be checked is checked before anything is written: a graph file's contents, every
profile mix, and every run's configuration (each level of [vary], each arm, each sampled
point) are refused in one line, exit code 2, with no output folder, instead of a folder of
failed rows and exit code 0."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from simulation.cli import app
from simulation.experiments import load_study, run_study
from simulation.experiments.study import StudyError
from tests.cli_errors import one_line_error

runner = CliRunner()


def refused(tmp_path: Path, text: str, command: str = "sweep") -> str:
    """The one error line of ``command`` on a study file of ``text``; nothing written."""
    study = tmp_path / "study.toml"
    study.write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    result = runner.invoke(app, [command, str(study), "--out", str(out), "--workers", "1"])
    line = one_line_error(result)
    assert not out.exists(), sorted(p.name for p in out.rglob("*"))
    return line


BASE = "[base]\nn_systems = 30\nsteps = 2\n"


def graphs(tmp_path: Path) -> dict[str, Path]:
    files = {
        "ring": "".join(f"{i} {(i + 1) % 6}\n" for i in range(6)),
        "one_node": "0 0\n",
        "broken": "0 1 2 3\n",
    }
    paths = {}
    for name, text in files.items():
        paths[name] = tmp_path / f"{name}.txt"
        paths[name].write_text(text, encoding="utf-8")
    paths["utf16"] = tmp_path / "utf16.txt"
    paths["utf16"].write_text("0 1\n1 2\n", encoding="utf-16")
    return paths


@pytest.mark.parametrize("graph", ["one_node", "broken", "utf16"])
def test_a_graph_no_run_can_read_is_refused_before_the_study(tmp_path: Path, graph: str) -> None:
    path = graphs(tmp_path)[graph]
    line = refused(tmp_path, f'[base]\nsteps = 2\ntopology = "file"\ngraph_file = "{path}"\n')
    assert "base.graph_file" in line and str(path) in line


def test_every_graph_file_level_is_read_up_front(tmp_path: Path) -> None:
    paths = graphs(tmp_path)
    text = (
        f'[base]\nsteps = 2\ntopology = "file"\ngraph_file = "{paths["ring"]}"\n'
        f'[vary]\ngraph_file = ["{paths["ring"]}", "{paths["one_node"]}"]\n'
    )
    line = refused(tmp_path, text)
    assert "vary.graph_file[1]" in line and "fewer than 2 nodes" in line


@pytest.mark.parametrize(
    ("text", "where"),
    [
        (BASE + 'profile_mix = ","\n', "base.profile_mix"),
        (BASE + '[vary]\nprofile_mix = ["gpt-5.2", " , "]\n', "vary.profile_mix[1]"),
    ],
)
def test_a_mix_that_names_no_profile_is_refused_before_the_study(
    tmp_path: Path, text: str, where: str
) -> None:
    line = refused(tmp_path, text)
    assert where in line and "names no profile" in line


def test_an_arm_with_an_empty_mix_is_refused_before_the_study(tmp_path: Path) -> None:
    text = 'kind = "whatif"\nreplicates = 2\n' + BASE + '[arms.empty]\nprofile_mix = ","\n'
    line = refused(tmp_path, text, "whatif")
    assert "arms.empty.profile_mix" in line and "names no profile" in line


def test_more_initial_faults_than_a_graph_level_has_systems(tmp_path: Path) -> None:
    ring = graphs(tmp_path)["ring"]
    text = (
        f'[base]\nsteps = 2\ntopology = "file"\ngraph_file = "{ring}"\n'
        "[vary]\ninitial_faults = [1, 7]\n"
    )
    line = refused(tmp_path, text)
    assert "scenario initial_faults=7" in line and "exceeds the 6 systems" in line


def test_a_level_its_generator_cannot_build_is_refused(tmp_path: Path) -> None:
    text = '[base]\nsteps = 2\ntopology = "random-regular"\n[vary]\nn_systems = [5, 40]\n'
    line = refused(tmp_path, text)
    assert "scenario n_systems=5" in line and "mean_degree: 8 is too high for 5 systems" in line


def test_a_sampled_point_its_generator_cannot_build_is_refused(tmp_path: Path) -> None:
    text = (
        'kind = "sensitivity"\n[sobol]\nsamples = 2\n'
        '[base]\nsteps = 2\ntopology = "watts-strogatz"\nmean_degree = 10\n'
        "[vary]\nn_systems = {integers = [4, 12]}\nbeta = {uniform = [0, 1]}\n"
    )
    line = refused(tmp_path, text, "sensitivity")
    assert "scenario sample=" in line and "too high" in line


def test_cross_family_oversight_of_one_family_is_refused(tmp_path: Path) -> None:
    text = (
        'kind = "whatif"\nreplicates = 2\n'
        + BASE
        + 'profile_mix = "gpt-5.2"\n[arms.cross]\nassignment = "cross-family"\n'
    )
    line = refused(tmp_path, text, "whatif")
    assert "arm cross" in line and "at least two model families" in line


def test_a_family_the_mix_gives_no_system_counts_as_missing(tmp_path: Path) -> None:
    """0.99 of 30 systems is 29.7: the largest remainders give gpt-5.2 all 30 of them."""
    text = BASE + 'profile_mix = "gpt-5.2=0.99,gemini-3-pro=0.01"\nassignment = "cross-family"\n'
    line = refused(tmp_path, text)
    assert "all of family 'openai'" in line


def test_run_study_refuses_before_creating_its_folder(tmp_path: Path) -> None:
    study_path = tmp_path / "study.toml"
    study_path.write_text(
        '[base]\nsteps = 2\ntopology = "erdos-renyi"\n[vary]\nn_systems = [3, 30]\n',
        encoding="utf-8",
    )
    with pytest.raises(StudyError, match="scenario n_systems=3: mean_degree"):
        run_study(load_study(study_path), tmp_path / "out")
    assert not (tmp_path / "out").exists()
