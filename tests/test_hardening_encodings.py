"""Files in other encodings: every file a user gives (a --config file, a study file, a
profile, a graph file, validation settings, a results folder's study.toml read on resume
or by ``ppsim report``) is UTF-8; UTF-16, UTF-32 or Latin-1 is refused in one line naming
the file and the encoding expected, and a UTF-8 byte-order mark is accepted."""

from __future__ import annotations

import codecs
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from simulation.cli import app
from simulation.profiles import builtin_profile_dir
from tests.cli_errors import one_line_error

runner = CliRunner()
TINY = ("--set", "n_systems=20", "--set", "steps=2")
CONFIG = "# a tiny run, café\nn_systems = 20\nsteps = 2\n"
STUDY = (
    "# a tiny sweep, café\nkind = 'sweep'\nreplicates = 1\n[base]\nn_systems = 20\nsteps = 2\n"
    "[vary]\naudit_rate = [0.0, 0.1]\n"
)
EDGES = "# café\n0 1\n1 2\n2 0\n"
GRAPHML = (
    '<?xml version="1.0" encoding="{encoding}"?>\n'
    '<graphml xmlns="http://graphml.graphdrawing.org/xmlns"><graph edgedefault="directed">'
    '<node id="a"/><node id="b"/><node id="c"/>'
    '<edge source="a" target="b"/><edge source="b" target="c"/></graph></graphml>\n'
)

# (how the file is saved, the name of the encoding the message gives)
FOREIGN = {
    "utf-16": (lambda text: text.encode("utf-16"), "UTF-16"),
    "utf-16-le, no mark": (lambda text: text.encode("utf-16-le"), "UTF-16"),
    "utf-16-be, no mark": (lambda text: text.encode("utf-16-be"), "UTF-16"),
    "utf-32": (lambda text: text.encode("utf-32"), "UTF-32"),
    "latin-1": (lambda text: text.encode("latin-1"), "Latin-1"),
}


def assert_names_encoding(line: str, path: Path, encoding: str) -> None:
    assert str(path) in line, line
    assert "not UTF-8 text" in line and encoding in line, line
    assert "save it as UTF-8" in line, line


def _profile_text(name: str = "mine") -> str:
    text = (builtin_profile_dir() / "loyal.toml").read_text(encoding="utf-8")
    text = text.replace('name = "loyal"', f'name = "{name}"', 1)
    text = text.replace('display_name = "Loyal"', 'display_name = "Mine"', 1)
    return "# café\n" + text.replace('family = "loyal"', 'family = "mine"', 1)


def _settings_text() -> str:
    return "# café\nkind = 'validation'\n"


# Each case: the text, the file's name, and the command that reads it (given the file's
# path and a folder for any output).
CASES: dict[str, tuple[str, str, Callable[[Path, Path], list[str]]]] = {
    "config": (
        CONFIG,
        "config.toml",
        lambda p, out: ["run", "--config", str(p), "--out", str(out)],
    ),
    "study": (STUDY, "study.toml", lambda p, out: ["sweep", str(p), "--out", str(out)]),
    "validation settings": (
        _settings_text(),
        "settings.toml",
        lambda p, out: ["validate", "--study", str(p), "--out", str(out)],
    ),
    "profile in --profile-dir": (
        _profile_text(),
        "mine.toml",
        lambda p, out: ["run", "--profile-dir", str(p.parent), "--out", str(out), "--steps", "2"],
    ),
    "profile by path in a mix": (
        _profile_text(),
        "mine.toml",
        lambda p, out: ["run", "--profile-mix", str(p), "--out", str(out), "--steps", "2"],
    ),
    "edge list": (
        EDGES,
        "graph.txt",
        lambda p, out: ["run", "--topology", "file", "--graph-file", str(p), "--out", str(out)],
    ),
    "edge list in a sweep": (
        EDGES,
        "graph.txt",
        lambda p, out: [
            "sweep",
            "--vary",
            "audit_rate=0,0.1",
            "--set",
            "topology=file",
            "--set",
            f"graph_file={p}",
            *TINY,
            "--out",
            str(out),
        ],
    ),
}


@pytest.mark.parametrize("encoding", list(FOREIGN))
@pytest.mark.parametrize("case", list(CASES))
def test_a_file_in_another_encoding_is_one_line_naming_it(
    case: str, encoding: str, tmp_path: Path
) -> None:
    text, name, command = CASES[case]
    save, expected = FOREIGN[encoding]
    folder = tmp_path / "in"
    folder.mkdir()
    path = folder / name
    path.write_bytes(save(text))
    out = tmp_path / "out"
    line = one_line_error(runner.invoke(app, command(path, out)))
    assert_names_encoding(line, path, expected)
    assert not out.exists()


@pytest.mark.parametrize(
    "case", ["config", "study", "validation settings", "profile in --profile-dir", "edge list"]
)
def test_a_utf8_byte_order_mark_is_accepted(case: str, tmp_path: Path) -> None:
    text, name, _ = CASES[case]
    plain, marked = tmp_path / "plain", tmp_path / "marked"
    for folder, data in ((plain, text.encode()), (marked, codecs.BOM_UTF8 + text.encode())):
        folder.mkdir()
        (folder / name).write_bytes(data)
    if case == "config":
        from simulation.cli.options import read_config_file

        assert read_config_file(marked / name) == read_config_file(plain / name)
    elif case == "study":
        from simulation.experiments.study_file import load_study

        assert load_study(marked / name).fingerprint() == load_study(plain / name).fingerprint()
    elif case == "validation settings":
        from simulation.validation import load_settings

        assert load_settings(marked / name) == load_settings(plain / name)
    elif case == "profile in --profile-dir":
        from simulation.profiles import load_profile_file

        a, b = load_profile_file(marked / name), load_profile_file(plain / name)
        assert a.name == b.name == "mine"
        assert (a.peer, a.self_rates, a.denial) == (b.peer, b.self_rates, b.denial)
    else:
        from simulation.topology import read_graph_file

        marked_graph = read_graph_file(str(marked / name))
        assert sorted(marked_graph.nodes()) == ["0", "1", "2"]  # no node "\ufeff0"
        assert sorted(marked_graph.edges()) == sorted(read_graph_file(str(plain / name)).edges())


def test_a_profile_with_a_byte_order_mark_runs_from_the_command_line(tmp_path: Path) -> None:
    folder = tmp_path / "profiles"
    folder.mkdir()
    (folder / "mine.toml").write_bytes(codecs.BOM_UTF8 + _profile_text().encode())
    result = runner.invoke(app, ["profiles", "mine", "--profile-dir", str(folder)])
    assert result.exit_code == 0, result.output
    assert "Mine" in result.output


def test_graphml_reads_as_its_xml_declaration_says(tmp_path: Path) -> None:
    """GraphML is XML, which names its own encoding: with a UTF-8 byte-order mark or in
    UTF-16 that says so it reads as the UTF-8 file does; a UTF-16 file that says it is
    UTF-8, a UTF-32 one (which the XML parser cannot read) or Latin-1 without a declaration
    is refused naming the encoding."""
    from simulation.errors import TopologyError
    from simulation.topology import read_graph_file

    def graph(name: str, data: bytes):
        path = tmp_path / name
        path.write_bytes(data)
        return path

    plain = read_graph_file(str(graph("plain.graphml", GRAPHML.format(encoding="UTF-8").encode())))
    readable = {
        "marked.graphml": codecs.BOM_UTF8 + GRAPHML.format(encoding="UTF-8").encode(),
        "utf16.graphml": GRAPHML.format(encoding="UTF-16").encode("utf-16"),
        "latin1.xml": GRAPHML.format(encoding="ISO-8859-1").encode("latin-1"),
    }
    for name, data in readable.items():
        found = read_graph_file(str(graph(name, data)))
        assert sorted(found.edges()) == sorted(plain.edges()), name
    latin = GRAPHML.format(encoding="UTF-8").replace('"a"', '"caf\u00e9"').split("\n", 1)[1]
    refused = {
        "mislabelled.graphml": (GRAPHML.format(encoding="UTF-8").encode("utf-16"), "UTF-16"),
        "utf32.graphml": (GRAPHML.format(encoding="UTF-32").encode("utf-32"), "UTF-32"),
        "latin1-undeclared.graphml": (latin.encode("latin-1"), "Latin-1"),
    }
    for name, (data, expected) in refused.items():
        path = graph(name, data)
        with pytest.raises(TopologyError) as caught:
            read_graph_file(str(path))
        assert_names_encoding(str(caught.value), path, expected)


def _tiny_sweep(tmp_path: Path) -> Path:
    out = tmp_path / "out"
    args = ["sweep", "--vary", "audit_rate=0,0.1", *TINY, "--workers", "1", "--no-report"]
    result = runner.invoke(app, [*args, "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


@pytest.mark.parametrize("encoding", ["utf-16", "latin-1"])
def test_a_stored_study_in_another_encoding_is_one_line_on_resume_and_report(
    encoding: str, tmp_path: Path
) -> None:
    out = _tiny_sweep(tmp_path)
    stored = out / "study.toml"
    text = stored.read_text(encoding="utf-8") + "# café\n"
    stored.write_bytes(text.encode(encoding))
    before = sorted(p.relative_to(out) for p in out.rglob("*"))
    expected = FOREIGN[encoding][1]
    args = ["sweep", "--vary", "audit_rate=0,0.1", *TINY, "--workers", "1", "--no-report"]
    resumed = one_line_error(runner.invoke(app, [*args, "--out", str(out)]))
    assert_names_encoding(resumed, stored, expected)
    reported = one_line_error(runner.invoke(app, ["report", str(out)]))
    assert_names_encoding(reported, stored, expected)
    assert sorted(p.relative_to(out) for p in out.rglob("*")) == before
    assert not (out / "report.html").exists()


def test_a_stored_study_with_a_byte_order_mark_resumes_and_reports(tmp_path: Path) -> None:
    out = _tiny_sweep(tmp_path)
    stored = out / "study.toml"
    stored.write_bytes(codecs.BOM_UTF8 + stored.read_bytes())
    result = runner.invoke(app, ["report", str(out)])
    assert result.exit_code == 0, result.output
    assert (out / "report.html").is_file()


def test_the_encoding_is_told_from_the_bytes() -> None:
    from simulation.textfile import encoding_problem

    text = "n_systems = 20\nname = 'café'\n"
    assert encoding_problem(text.encode()) is None
    assert encoding_problem(codecs.BOM_UTF8 + text.encode()) is None
    assert encoding_problem(b"") is None
    for encoding, name in [
        ("utf-16", "UTF-16"),
        ("utf-16-le", "UTF-16"),
        ("utf-16-be", "UTF-16"),
        ("utf-32", "UTF-32"),
        ("utf-32-le", "UTF-32"),
        ("utf-32-be", "UTF-32"),
        ("latin-1", "Latin-1 or Windows-1252"),
        ("cp1252", "Latin-1 or Windows-1252"),
    ]:
        problem = encoding_problem(text.encode(encoding))
        assert problem is not None and f"it looks like {name}" in problem, (encoding, problem)
    binary = encoding_problem(b"n_systems = 20\n\x00\x01\x02")
    assert binary is not None and "NUL byte on line 2" in binary
