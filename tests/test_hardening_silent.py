"""Inputs that were accepted in silence: each is now refused in one line (exit code 2,
nothing written), or, where it can simply be capped (``--workers``), capped with a note on
stderr."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from simulation.cli import app
from simulation.errors import ProfileError, SettingsError
from simulation.experiments import executors, load_study
from simulation.experiments.study import StudyError
from simulation.experiments.study_file import parse_study
from simulation.profiles import load_profile_file
from simulation.validation.settings import load_settings, preset
from tests.cli_errors import one_line_error

runner = CliRunner()
TINY = ("--steps", "2")
HONEST = (Path(__file__).resolve().parent.parent / "models" / "honest.toml").read_text()


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def chain(folder: Path, nodes: int = 3) -> Path:
    return write(folder, "chain.txt", "".join(f"{i} {i + 1}\n" for i in range(nodes - 1)))


# --------------------------------------------------------------------------------------
# Parameters no run uses


@pytest.mark.parametrize("command", ["run", "viz"])
def test_n_systems_with_a_graph_file_is_refused(tmp_path: Path, command: str) -> None:
    graph = chain(tmp_path)
    out = ["--out", str(tmp_path / "out")] if command == "run" else []
    args = [command, *TINY, "--topology", "file", "--graph-file", str(graph), *out]
    line = one_line_error(runner.invoke(app, [*args, "--n-systems", "50"]))
    assert "n_systems: not used with topology = 'file'" in line
    assert not (tmp_path / "out").exists()
    config = write(tmp_path, "config.toml", f'topology = "file"\ngraph_file = "{graph}"\n')
    line = one_line_error(
        runner.invoke(app, ["run", "--config", str(config), "--set", "n_systems=9"])
    )
    assert "n_systems: not used" in line


@pytest.mark.parametrize("command", ["run", "viz"])
def test_a_graph_file_without_topology_file_is_refused(tmp_path: Path, command: str) -> None:
    args = [command, *TINY, "--n-systems", "30", "--graph-file", str(chain(tmp_path))]
    line = one_line_error(runner.invoke(app, args))
    assert "graph_file: only read with topology = 'file', not 'agent-platform'" in line


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--propensity", "0.3", "--profile-mix", "gpt-5.2"], "profile_mix: not used when"),
        (["--abstract-denial", "0.5"], "abstract_denial: only used by abstract agents"),
        (["--set", "abstract_faking_gap=0.1"], "abstract_faking_gap: only used by abstract"),
        (["--csv"], "--csv: only with --out DIR"),
    ],
)
def test_population_settings_no_run_uses_are_refused(args: list[str], words: str) -> None:
    assert words in one_line_error(runner.invoke(app, ["run", *TINY, *args]))


@pytest.mark.parametrize(
    ("extra", "where"),
    [
        ("[base]\nn_systems = 50\n", "base.n_systems: not used"),
        ("[vary]\nn_systems = [50, 60]\n", "vary.n_systems: not used"),
    ],
)
def test_a_study_refuses_n_systems_when_every_run_reads_a_graph(
    tmp_path: Path, extra: str, where: str
) -> None:
    graph = chain(tmp_path)
    base = f'[base]\nsteps = 2\ntopology = "file"\ngraph_file = "{graph}"\n'
    text = base + extra.replace("[base]\n", "")
    study = write(tmp_path, "study.toml", text)
    out = tmp_path / "out"
    result = runner.invoke(app, ["sweep", str(study), "--out", str(out), "--workers", "1"])
    assert where in one_line_error(result)
    assert not out.exists()


def test_a_study_refuses_a_graph_file_no_run_reads(tmp_path: Path) -> None:
    text = f'[base]\nsteps = 2\ngraph_file = "{chain(tmp_path)}"\n'
    with pytest.raises(StudyError, match="base.graph_file: not used: no run has topology"):
        load_study(write(tmp_path, "study.toml", text))
    study = write(tmp_path, "inline.toml", "")
    args = ["sweep", "--set", f"graph_file={chain(tmp_path)}", "--vary", "beta=0.1,0.2"]
    line = one_line_error(runner.invoke(app, [*args, "--out", str(tmp_path / "out")]))
    assert "base.graph_file: not used" in line
    assert study.exists() and not (tmp_path / "out").exists()


def test_settings_some_runs_use_are_kept(tmp_path: Path) -> None:
    graph = chain(tmp_path)
    text = (
        f'[base]\nsteps = 2\nn_systems = 30\ngraph_file = "{graph}"\n'
        '[vary]\ntopology = ["file", "erdos-renyi"]\n'
    )
    study = load_study(write(tmp_path, "study.toml", text))
    assert study.topologies == {"file", "erdos-renyi"}


def test_a_graph_study_is_stored_without_n_systems_and_resumes(tmp_path: Path) -> None:
    graph = chain(tmp_path, 6)
    study = write(
        tmp_path, "study.toml", f'[base]\nsteps = 2\ntopology = "file"\ngraph_file = "{graph}"\n'
    )
    args = ["sweep", str(study), "--out", str(tmp_path / "out"), "--workers", "1", "--no-report"]
    assert runner.invoke(app, args).exit_code == 0
    stored = (tmp_path / "out" / "study.toml").read_text()
    assert "n_systems" not in stored
    load_study(write(tmp_path, "copy.toml", stored))  # the stored study is a study file
    again = runner.invoke(app, args)
    assert again.exit_code == 0, again.output
    assert "All 1 runs are already stored" in again.stderr


def test_more_initial_faults_than_a_graph_has_systems_is_refused(tmp_path: Path) -> None:
    args = ["run", *TINY, "--topology", "file", "--graph-file", str(chain(tmp_path))]
    line = one_line_error(runner.invoke(app, [*args, "--initial-faults", "5"]))
    assert "initial_faults: 5 exceeds the 3 systems of graph_file" in line


# --------------------------------------------------------------------------------------
# Options given twice, or empty


SWEEP = ("sweep", "--set", "n_systems=20", "--set", "steps=2")


def test_a_parameter_varied_twice_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "out"
    args = [*SWEEP, "--vary", "beta=0.1", "--vary", "beta=0.2", "--out", str(out)]
    assert "--vary beta: given twice" in one_line_error(runner.invoke(app, args))
    assert not out.exists()


@pytest.mark.parametrize("command", ["sweep", "run"])
def test_a_parameter_set_twice_is_refused(tmp_path: Path, command: str) -> None:
    args = [command, "--set", "steps=2", "--set", "steps=3", "--out", str(tmp_path / "out")]
    if command == "sweep":
        args += ["--vary", "beta=0.1,0.2"]
    assert "--set steps: given twice" in one_line_error(runner.invoke(app, args))
    assert not (tmp_path / "out").exists()


def test_an_empty_scheduler_address_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "out"
    args = [*SWEEP, "--vary", "beta=0.1,0.2", "--scheduler", "", "--out", str(out)]
    assert "--scheduler: empty" in one_line_error(runner.invoke(app, args))
    assert not out.exists()


def test_workers_with_a_scheduler_are_refused(tmp_path: Path) -> None:
    args = [*SWEEP, "--vary", "beta=0.1,0.2", "--workers", "2", "--scheduler", "tcp://h:1"]
    line = one_line_error(runner.invoke(app, [*args, "--out", str(tmp_path / "out")]))
    assert "--workers: not used with --scheduler" in line


def test_an_empty_arm_is_refused(tmp_path: Path) -> None:
    text = 'kind = "whatif"\nreplicates = 2\n[base]\nsteps = 2\n[arms.nothing]\n'
    with pytest.raises(StudyError, match="arms.nothing: empty: an arm changes at least one"):
        load_study(write(tmp_path, "whatif.toml", text))


# --------------------------------------------------------------------------------------
# Workers: capped, and said so


def test_workers_far_above_the_runs_are_capped_with_a_note(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(executors, "available_cores", lambda: 8)
    out = tmp_path / "out"
    args = [*SWEEP, "--vary", "beta=0.1,0.2", "--workers", "64", "--out", str(out)]
    result = runner.invoke(app, [*args, "--no-report"])
    assert result.exit_code == 0, result.output
    assert "Note: --workers 64: using 2, as the study has 2 runs." in result.stderr
    assert "(2 local worker processes)" in result.stderr


def test_workers_far_above_the_cores_are_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(executors, "available_cores", lambda: 4)
    assert executors.worker_count(64, None, 1000) == (
        4,
        "--workers 64: using 4, as 4 cores are available",
    )
    assert executors.worker_count(8, None, 1000) == (8, "")  # twice the cores: as asked
    assert executors.worker_count(None, None, 3) == (3, "")  # the default, without a note
    assert executors.worker_count(None, "tcp://h:1", 3) == (None, "")


# --------------------------------------------------------------------------------------
# Profiles


@pytest.mark.parametrize("name", ["honest=2", "honest,2"])
def test_a_profile_name_no_mix_can_name_is_refused_at_load(tmp_path: Path, name: str) -> None:
    folder = tmp_path / "profiles"
    folder.mkdir()
    path = write(folder, "odd.toml", HONEST.replace('name = "honest"', f'name = "{name}"'))
    with pytest.raises(ProfileError, match=r"name: .* cannot be named in a profile_mix"):
        load_profile_file(path)
    args = ["run", *TINY, "--n-systems", "20", "--profile-dir", str(folder)]
    assert "cannot be named in a profile_mix" in one_line_error(runner.invoke(app, args))


def test_a_probability_above_its_own_max_is_refused(tmp_path: Path) -> None:
    text = HONEST.replace(
        'good = { p = 0.0, source = "archetype: never protects" }',
        'good = { p = 0.4, source = "assumption: at most 0.3", max = 0.3 }',
        1,
    )
    with pytest.raises(ProfileError, match=r"peer.misrepresentation.good.p: 0.4 is above .* max"):
        load_profile_file(write(tmp_path, "over.toml", text))


# --------------------------------------------------------------------------------------
# Validation settings


@pytest.mark.parametrize(
    ("table", "key", "value"),
    [
        ("threshold", "large_share", "5"),
        ("protection", "large_share", "0"),
        ("watts", "min_frequency", "-1"),
        ("watts", "global_share", "1.5"),
        ("watts", "window_tolerance", "-1"),
        ("watts", "theta", "0.01"),
        ("threshold", "mean_degree", "-4"),
        ("protection", "mean_degree", "-4"),
        ("threshold", "below", "1.5"),
        ("threshold", "above", "0.5"),
    ],
)
def test_validation_settings_out_of_their_bounds_are_refused(
    tmp_path: Path, table: str, key: str, value: str
) -> None:
    path = write(tmp_path, "v.toml", f'kind = "validation"\n[{table}]\n{key} = {value}\n')
    with pytest.raises(SettingsError, match=f"{table}.{key}: "):
        load_settings(path)
    out = tmp_path / "out"
    result = runner.invoke(app, ["validate", "--study", str(path), "--out", str(out)])
    assert f"{table}.{key}" in one_line_error(result)
    assert not out.exists()


def test_validation_graphs_that_cannot_be_built_are_refused(tmp_path: Path) -> None:
    for text, where in (
        ("[threshold]\nmean_degree = 2\n", "threshold.mean_degree: 2.0: random-regular needs"),
        ("[threshold]\nn_systems = 20\nmean_degree = 30\n", "too high for 20 systems"),
        ("[watts]\nn_systems = 20\nmean_degrees = [1, 40]\n", "watts.mean_degrees[1]"),
    ):
        with pytest.raises(SettingsError, match=where.replace("[", r"\[")):
            load_settings(write(tmp_path, "v.toml", f'kind = "validation"\n{text}'))
    assert preset(full=True).watts.theta == 0.18  # the shipped presets stay valid


# --------------------------------------------------------------------------------------
# A report of an edited study.toml


def test_report_refuses_a_study_toml_edited_since_the_runs(tmp_path: Path) -> None:
    out = tmp_path / "out"
    args = [*SWEEP, "--vary", "beta=0.1,0.2", "--out", str(out), "--workers", "1"]
    assert runner.invoke(app, [*args, "--no-report"]).exit_code == 0
    assert runner.invoke(app, ["report", str(out)]).exit_code == 0
    stored = out / "study.toml"
    stored.write_text(stored.read_text().replace("beta = [", "beta = [ 0.3,"))
    (out / "report.html").unlink()
    line = one_line_error(runner.invoke(app, ["report", str(out)]))
    assert "study.toml: edited since ppsim wrote it" in line
    assert not (out / "report.html").exists()
    parse_study({"vary": {"beta": [0.1]}}, "x")  # a study itself is unaffected
