"""``ppsim run`` and ``ppsim profiles`` end to end, plus the atomic result folder.

Runs are small (200 systems, 20 cycles) so the whole file stays well under 30 s.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from simulation.cli import app
from simulation.metrics import METRIC_COLUMNS, SUMMARY_DESCRIPTIONS
from simulation.profiles import builtin_profile_dir
from simulation.reports.output import atomic_file, atomic_output, write_atomic

SMALL = ["--n-systems", "200", "--steps", "20"]
SHIPPED = (
    "gpt-5.2",
    "gemini-3-flash",
    "gemini-3-pro",
    "claude-haiku-4.5",
    "claude-opus-4.5",
    "glm-4.7",
    "kimi-k2.5",
    "deepseek-v3.1",
    "honest",
    "loyal",
    "study-average",
)

runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, list(args))


def run_json(*args: str) -> dict:
    result = invoke("run", *SMALL, "--json", "--quiet", *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_run_prints_outcome_table():
    result = invoke("run", *SMALL)
    assert result.exit_code == 0, result.output
    assert "Outcomes of the run" in result.stdout
    for name in ("faulty_share_mean", "false_pass_rate", "human_hours_total"):
        assert name in result.stdout
    assert "largest cascade tree" in result.stdout  # meanings are shown (a short one)


def test_run_out_writes_the_four_files(tmp_path: Path):
    out = tmp_path / "results"
    result = invoke("run", *SMALL, "--seed", "5", "--csv", "--out", str(out))
    assert result.exit_code == 0, result.output
    names = {"summary.json", "timeseries.parquet", "timeseries.csv", "report.html"}
    assert {p.name for p in out.iterdir()} == names | {".ppsim-result"}  # marked as a run's
    assert (out / ".ppsim-result").read_text() == "run\n"
    assert [p.name for p in tmp_path.iterdir()] == ["results"]  # no temporary folder left
    assert str(out) in result.stdout

    series = pd.read_parquet(out / "timeseries.parquet")
    assert len(series) == 20
    assert series["step"].tolist() == list(range(1, 21))
    assert set(METRIC_COLUMNS) <= set(series.columns)
    csv = pd.read_csv(out / "timeseries.csv")
    assert len(csv) == 20
    assert csv["faulty_share"].to_numpy() == pytest.approx(series["faulty_share"].to_numpy())

    summary = json.loads((out / "summary.json").read_text())
    assert summary["seed"] == 5
    assert summary["parameters"]["n_systems"] == 200
    assert summary["parameters"]["steps"] == 20
    assert summary["parameters"]["audit_rate"] == 0.05
    assert summary["steps_run"] == 20
    assert summary["ppsim_version"]
    command = summary["command"]
    assert command.startswith("ppsim run ")
    for part in ("--n-systems 200", "--steps 20", "--seed 5", "--csv", f"--out {out}"):
        assert part in command
    assert set(summary["metrics"]) == set(SUMMARY_DESCRIPTIONS)
    dist = summary["cascade_size_distribution"]
    assert sum(dist["count"]) == summary["metrics"]["cascades"]
    if dist["size"]:
        assert max(dist["size"]) == summary["metrics"]["cascade_size_max"]

    report = (out / "report.html").read_text()
    assert "plotly" in report.lower()
    assert "Plotly.newPlot" in report
    assert 'id="figure-cascade_sizes"' in report
    assert "<script src=" not in report  # self-contained: plotly.js embedded
    assert len(report) > 1_000_000


def test_existing_folder_keeps_other_files(tmp_path: Path):
    out = tmp_path / "results"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    result = invoke("run", *SMALL, "--quiet", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert (out / "notes.txt").read_text() == "keep me"
    assert (out / "summary.json").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results"]


def test_same_seed_same_metrics_different_seed_different():
    first = run_json("--seed", "11")
    again = run_json("--seed", "11")
    other = run_json("--seed", "12")
    assert first["metrics"] == again["metrics"]
    assert first["cascade_size_distribution"] == again["cascade_size_distribution"]
    assert first["metrics"] != other["metrics"]


def test_precedence_file_then_options_then_set(tmp_path: Path):
    study = tmp_path / "study.toml"
    study.write_text("seed = 7\nn_systems = 150\nsteps = 10\naudit_rate = 0.3\nbeta = 0.2\n")
    plain = run_json("--config", str(study))
    assert plain["seed"] == 7
    assert plain["parameters"]["n_systems"] == 200  # SMALL's named option beats the file
    assert plain["parameters"]["audit_rate"] == 0.3  # from the file
    assert plain["parameters"]["beta"] == 0.2

    layered = run_json(
        "--config", str(study), "--audit-rate", "0.2", "--set", "beta=0.05", "--seed", "3"
    )
    assert layered["seed"] == 3
    assert layered["parameters"]["audit_rate"] == 0.2
    assert layered["parameters"]["beta"] == 0.05

    both = run_json("--audit-rate", "0.2", "--set", "audit_rate=0.1")
    assert both["parameters"]["audit_rate"] == 0.1  # --set is applied last
    assert both["seed"] == 0  # no file, no --seed


def _bad_graphml(folder: Path) -> list[str]:
    path = folder / "broken.graphml"
    path.write_text('<graphml><graph><node id="a"/>')
    return ["--topology", "file", "--graph-file", str(path)]


def _bad_config(folder: Path) -> list[str]:
    path = folder / "study.toml"
    path.write_text("n_systems = 200\naudit_rat = 0.1\n")
    return ["--config", str(path)]


BAD_INPUTS = {
    "unknown profile": (lambda d: ["--profile-mix", "gemini-3-por=1"], "profile_mix"),
    "probability 1.7": (lambda d: ["--audit-rate", "1.7"], "audit_rate"),
    "--set typo": (lambda d: ["--set", "audit_rat=0.1"], "audit_rat"),
    "missing graph file": (
        lambda d: ["--topology", "file", "--graph-file", str(d / "nope.graphml")],
        "graph_file",
    ),
    "malformed GraphML": (_bad_graphml, "graph_file"),
    "unknown key in config": (_bad_config, "audit_rat"),
    "missing profile dir": (lambda d: ["--profile-dir", str(d / "nowhere")], "--profile-dir"),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_is_one_line_exit_2_and_writes_nothing(case: str, tmp_path: Path):
    make_args, field = BAD_INPUTS[case]
    args = make_args(tmp_path)
    before = sorted(p.name for p in tmp_path.iterdir())
    out = tmp_path / "results"
    small = SMALL[2:] if "file" in args else SMALL  # n_systems is not used with a graph file
    result = invoke("run", *small, *args, "--out", str(out))
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: ")
    assert field in lines[0]
    assert "Traceback" not in result.output
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_out_that_is_a_file_is_refused(tmp_path: Path):
    target = tmp_path / "results"
    target.write_text("not a folder")
    result = invoke("run", *SMALL, "--out", str(target))
    assert result.exit_code == 2
    assert "--out" in result.stderr
    assert target.read_text() == "not a folder"


def test_profiles_lists_every_shipped_profile():
    result = invoke("profiles")
    assert result.exit_code == 0, result.output
    for name in SHIPPED:
        assert name in result.stdout
    assert "†" in result.stdout and "assumption" in result.stdout


def test_profile_detail_shows_sources():
    result = invoke("profiles", "gemini-3-pro")
    assert result.exit_code == 0, result.output
    assert "Gemini 3 Pro" in result.stdout
    assert "Potter2026" in result.stdout
    assert "denial" in result.stdout and "self tampering" in result.stdout


def test_unknown_profile_name_is_one_line_with_hint():
    result = invoke("profiles", "gemini-3-por")
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "did you mean 'gemini-3-pro'" in lines[0]
    assert "study-average" in lines[0]
    assert "Traceback" not in result.output


def test_user_profile_dir_is_usable_in_a_mix(tmp_path: Path):
    folder = tmp_path / "profiles"
    folder.mkdir()
    text = (builtin_profile_dir() / "loyal.toml").read_text()
    text = text.replace('name = "loyal"', 'name = "my-lab-model"', 1)
    (folder / "my-lab-model.toml").write_text(text)

    listed = invoke("profiles", "--profile-dir", str(folder))
    assert listed.exit_code == 0, listed.output
    assert "my-lab-model" in listed.stdout

    summary = run_json("--profile-dir", str(folder), "--profile-mix", "my-lab-model=1")
    assert summary["profiles"] == ["my-lab-model"]
    assert summary["profile_dirs"] == [str(folder)]

    without = invoke("run", *SMALL, "--profile-mix", "my-lab-model=1")
    assert without.exit_code == 2
    assert "my-lab-model" in without.stderr


def _lab_copy(folder: Path, good_misrepresentation: float, file: str = "gpt-5.2.toml") -> Path:
    """A copy of the shipped gpt-5.2 profile in ``folder`` whose misrepresentation rate at
    good trust is ``good_misrepresentation`` (its max raised to 1: a rate above its own max
    is refused)."""
    folder.mkdir(exist_ok=True)
    text = (builtin_profile_dir() / "gpt-5.2.toml").read_text(encoding="utf-8")
    shipped = "good = { p = 0.08, n = 600, source = "
    assert shipped in text and text.count("max = 0.096 }") == 1
    text = text.replace("max = 0.096 }", "max = 1.0 }")
    path = folder / file
    path.write_text(
        text.replace(shipped, f"good = {{ p = {good_misrepresentation}, n = 600, source = ", 1),
        encoding="utf-8",
    )
    return path


def test_user_profile_replaces_the_shipped_profile_of_the_same_name(tmp_path: Path):
    """--profile-dir's help: a profile with a shipped name replaces it (and a later folder
    replaces an earlier one); two files of one name in one folder stay an error."""
    from simulation.model import PeerPreservationModel

    lab = tmp_path / "lab"
    _lab_copy(lab, 0.777)
    shown = invoke("profiles", "gpt-5.2", "--profile-dir", str(lab))
    assert shown.exit_code == 0, shown.output
    assert "77.7" in shown.stdout
    assert "77.7" not in invoke("profiles", "gpt-5.2").stdout  # the shipped one otherwise
    ran = invoke(
        "run", "--profile-dir", str(lab), "--set", "profile_mix=gpt-5.2", "--steps", "5",
        "--n-systems", "50", "--quiet",
    )  # fmt: skip
    assert ran.exit_code == 0, ran.output
    model = PeerPreservationModel(profile_mix="gpt-5.2", n_systems=50, profile_dirs=(lab,))
    assert model.profiles[0].peer["misrepresentation"]["good"].p == 0.777

    later = tmp_path / "later"
    _lab_copy(later, 0.555)
    both = invoke("profiles", "gpt-5.2", "--profile-dir", str(lab), "--profile-dir", str(later))
    assert both.exit_code == 0, both.output
    assert "55.5" in both.stdout and "77.7" not in both.stdout

    twice = _lab_copy(lab, 0.333, file="gpt-5.2-again.toml")
    clash = invoke("profiles", "--profile-dir", str(lab))
    assert clash.exit_code == 2
    assert str(twice) in clash.stderr and str(lab / "gpt-5.2.toml") in clash.stderr


def test_atomic_output_leaves_nothing_on_interrupt(tmp_path: Path):
    dest = tmp_path / "deep" / "results"
    with pytest.raises(KeyboardInterrupt), atomic_output(dest) as folder:
        (folder / "summary.json").write_text("{}")
        raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []


def test_atomic_output_replaces_own_files_and_keeps_others(tmp_path: Path):
    dest = tmp_path / "results"
    dest.mkdir()
    (dest / "summary.json").write_text("old")
    (dest / "mine.txt").write_text("mine")
    with atomic_output(dest, last=("summary.json",)) as folder:
        (folder / "summary.json").write_text("new")
        (folder / "report.html").write_text("<html></html>")
        assert not (dest / "report.html").exists()  # nothing visible before the end
    assert (dest / "summary.json").read_text() == "new"
    assert (dest / "mine.txt").read_text() == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results"]


def test_an_interrupted_file_write_keeps_the_old_file(tmp_path: Path):
    path = write_atomic(tmp_path / "summary.json", "old")
    with pytest.raises(KeyboardInterrupt), atomic_file(path) as tmp:
        tmp.write_text("half")
        raise KeyboardInterrupt
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["summary.json"]  # no temporary file left
    assert write_atomic(path, b"new").read_bytes() == b"new"


def test_graph_file_node_count_is_what_the_run_reports(tmp_path: Path):
    graph = tmp_path / "ring.txt"
    graph.write_text("".join(f"{i} {(i + 1) % 12}\n" for i in range(12)))
    out = tmp_path / "run"
    result = invoke("run", "--topology", "file", "--graph-file", str(graph), "--steps", "3")
    assert result.exit_code == 0, result.output
    assert "Running 12 systems" in result.output
    result = invoke(
        "run", "--topology", "file", "--graph-file", str(graph), "--steps", "3", "--out", str(out)
    )
    assert result.exit_code == 0, result.output
    assert json.loads((out / "summary.json").read_text())["parameters"]["n_systems"] == 12
    assert "<title>ppsim run: 12 systems" in (out / "report.html").read_text()


def test_abstract_agents_from_the_command_line():
    summary = run_json("--propensity", "0.3", "--no-self-preservation", "--steps", "20")
    assert summary["parameters"]["propensity"] == 0.3
    assert summary["parameters"]["self_preservation"] is False
    assert summary["metrics"]["self_preservation_total"] == 0


def test_a_bug_is_reported_as_a_bug_not_as_bad_input(monkeypatch, tmp_path: Path, capsys):
    """An exception that is not a PpsimError (here a NumPy-style ValueError from inside the
    model) exits 1 with "Internal error" and a log holding the traceback, never the
    "Error: ..." line and exit code 2 of a user's mistake."""
    import simulation.cli.entry as cli
    from simulation.engine import Engine

    def broken_cycles(self, count):
        raise ValueError("operands could not be broadcast together")

    monkeypatch.setattr(Engine, "run_cycles", broken_cycles)
    monkeypatch.setattr(cli.tempfile, "gettempdir", lambda: str(tmp_path))
    monkeypatch.setattr(cli.sys, "argv", ["ppsim", "run", "--steps", "2", "-q"])
    with pytest.raises(SystemExit) as exit_info:
        cli.main()
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert "Internal error" in err and "broadcast" in err and not err.startswith("Error: ")
    logs = list(tmp_path.glob("ppsim-bug-*.log"))
    assert len(logs) == 1 and "Traceback" in logs[0].read_text()
