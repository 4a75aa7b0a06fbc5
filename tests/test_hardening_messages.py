"""Messages: a path that is a folder, a FIFO or a device where a file is expected (or the
reverse) says what it is, never "does not exist"; a Dask scheduler address that cannot be
used is one line, quickly; a bad option value is the one-line ``Error:`` form with exit
code 2, like every other input error, not a usage box."""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from simulation.cli import app
from tests.cli_errors import one_line_error

runner = CliRunner()
TINY = ("--set", "n_systems=20", "--set", "steps=2")


# --------------------------------------------------------------------------------------
# A folder, a FIFO or a device where a file is expected


@pytest.fixture
def fifo(tmp_path: Path) -> Iterator[Path]:
    """A FIFO; should anything open it for reading (which waits for a writer), a thread
    opens it for writing and closes it, so the test fails instead of hanging."""
    path = tmp_path / "pipe.toml"
    os.mkfifo(path)
    done = threading.Event()

    def unblock() -> None:
        while not done.wait(0.2):
            with contextlib.suppress(OSError):  # ENXIO: nobody reads it (the good case)
                os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))

    thread = threading.Thread(target=unblock, daemon=True)
    thread.start()
    yield path
    done.set()
    thread.join(5)


def _file_commands(path: Path, out: Path) -> dict[str, list[str]]:
    return {
        "--config": ["run", "--config", str(path), "--out", str(out)],
        "study file": ["sweep", str(path), "--out", str(out)],
        "--study": ["validate", "--study", str(path), "--out", str(out)],
        "graph_file": ["run", "--topology", "file", "--graph-file", str(path), "--out", str(out)],
        "graph_file of a sweep": [
            "sweep",
            "--vary",
            "audit_rate=0,0.1",
            "--set",
            "topology=file",
            "--set",
            f"graph_file={path}",
            *TINY,
            "--out",
            str(out),
        ],
        "profile in a mix": ["run", "--profile-mix", str(path), "--out", str(out)],
    }


KINDS = ("folder", "fifo", "/dev/null")


def _not_a_file(kind: str, tmp_path: Path, fifo: Path) -> tuple[Path, str]:
    if kind == "folder":
        folder = tmp_path / "folder.toml"
        folder.mkdir()
        return folder, "is a folder"
    if kind == "fifo":
        return fifo, "is not a regular file (a FIFO)"
    return Path(os.devnull), "is not a regular file (a character device)"


@pytest.mark.parametrize(
    ("role", "kind"),
    [
        (role, kind)
        for role in _file_commands(Path("x"), Path("y"))
        for kind in KINDS
        if not (role == "profile in a mix" and kind == "/dev/null")  # a name, not a .toml path
    ],
)
def test_a_path_that_is_not_a_file_says_what_it_is(
    role: str, kind: str, tmp_path: Path, fifo: Path
) -> None:
    path, expected = _not_a_file(kind, tmp_path, fifo)
    out = tmp_path / "out"
    line = one_line_error(runner.invoke(app, _file_commands(path, out)[role]))
    assert f"{path} {expected}" in line and "does not exist" not in line, line
    assert not out.exists()


@pytest.mark.parametrize("command", ["run", "profiles"])
def test_a_profile_dir_that_is_not_a_folder_says_what_it_is(
    command: str, tmp_path: Path, fifo: Path
) -> None:
    file = tmp_path / "profile.toml"
    file.write_text("name = 'x'\n", encoding="utf-8")
    cases = {
        file: "is a file, not a folder",
        fifo: "is a FIFO, not a folder",
        Path(os.devnull): "is a character device, not a folder",
        tmp_path / "missing": "does not exist",
    }
    for path, expected in cases.items():
        line = one_line_error(runner.invoke(app, [command, "--profile-dir", str(path)]))
        assert f"--profile-dir: {path} {expected}" in line, line


def test_report_of_a_path_that_is_not_a_folder_says_what_it_is(tmp_path: Path, fifo: Path) -> None:
    file = tmp_path / "results.txt"
    file.write_text("x", encoding="utf-8")
    cases = {
        file: "it is a file, not a folder",
        fifo: "it is a FIFO, not a folder",
        Path(os.devnull): "it is a character device, not a folder",
        tmp_path / "missing": "it does not exist",
        tmp_path: "no study.toml",
    }
    for path, expected in cases.items():
        line = one_line_error(runner.invoke(app, ["report", str(path)]))
        assert f"{path}: not a study results folder ({expected})" in line, line
    assert not (tmp_path / "report.html").exists()


def test_a_stored_study_toml_that_is_a_folder_says_so(tmp_path: Path) -> None:
    out = tmp_path / "out"
    (out / "study.toml").mkdir(parents=True)
    line = one_line_error(runner.invoke(app, ["report", str(out)]))
    assert f"{out / 'study.toml'} is a folder" in line, line


# --------------------------------------------------------------------------------------
# Dask scheduler addresses


def _sweep_on(scheduler: str, out: Path) -> list[str]:
    return ["sweep", "--vary", "audit_rate=0,0.1", *TINY, "--out", str(out)] + [
        "--scheduler",
        scheduler,
    ]


def _refused_port() -> int:
    """A loopback port that nothing listens on (bound, then closed)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def _listener(reply: bytes | None) -> Iterator[int]:
    """A TCP listener on 127.0.0.1 that answers every connection with ``reply`` and
    closes it (or, with ``None``, keeps it open and silent); yields its port."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.settimeout(0.2)
    done = threading.Event()
    held: list[socket.socket] = []

    def serve() -> None:
        while not done.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            if reply is None:
                held.append(conn)
                continue
            with contextlib.suppress(OSError), conn:
                conn.sendall(reply)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1]
    finally:
        done.set()
        thread.join(5)
        for conn in held:
            conn.close()
        server.close()


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("ucx://127.0.0.1:8786", "ucx:// needs the distributed-ucxx package"),
        ("tls://127.0.0.1:8786", "tls:// needs TLS certificates"),
        ("wss://127.0.0.1:8786", "wss:// needs TLS certificates"),
        ("inproc://127.0.0.1/1/2", "an inproc:// address names a scheduler inside one"),
        ("tcp://127.0.0.1:99999", "port 99999 is not a port number (1 to 65535)"),
        ("127.0.0.1:0", "port 0 is not a port number"),
        ("tcp://127.0.0.1", "no port"),
        ("tcp://:8786", "no host"),
        ("gopher://127.0.0.1:8786", "unknown scheme gopher://"),
        ("REFUSED", "(connection refused)"),
    ],
)
def test_a_scheduler_address_that_cannot_be_used_is_one_line_quickly(
    address: str, expected: str, tmp_path: Path
) -> None:
    address = address.replace("REFUSED", f"tcp://127.0.0.1:{_refused_port()}")
    out = tmp_path / "out"
    start = time.monotonic()
    line = one_line_error(runner.invoke(app, _sweep_on(address, out)))
    assert time.monotonic() - start < 8
    assert f"--scheduler {address}: " in line and expected in line, line
    assert not out.exists()


def test_a_listener_that_answers_garbage_is_not_a_scheduler(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with _listener(b"HTTP/1.0 400 Bad Request\r\n\r\n" * 8) as port:
        start = time.monotonic()
        result = runner.invoke(app, _sweep_on(f"tcp://127.0.0.1:{port}", out))
    line = one_line_error(result)
    assert time.monotonic() - start < 8
    assert f"127.0.0.1:{port} does not answer as a Dask scheduler" in line, line
    assert not out.exists()


def test_a_listener_that_never_answers_is_given_up_on_in_bounded_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from simulation.experiments import scheduler

    monkeypatch.setattr(scheduler, "ANSWER_TIMEOUT", 1.0)
    out = tmp_path / "out"
    with _listener(None) as port:
        start = time.monotonic()
        result = runner.invoke(app, _sweep_on(f"tcp://127.0.0.1:{port}", out))
    line = one_line_error(result)
    assert time.monotonic() - start < 8
    assert "gave no Dask answer within 1 s" in line, line
    assert not out.exists()


# --------------------------------------------------------------------------------------
# Bad option values: one line, not a usage box


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["sweep", "--workers", "abc"], "--workers: input should be a valid integer"),
        (["sweep", "--workers", "0"], "--workers: input should be greater than or equal to 1"),
        (["whatif", "x.toml", "--replicates", "0"], "--replicates: input should be greater"),
        (["sweep", "--seed", "x"], "--seed: input should be a valid integer"),
        (["run", "--seed", "-1"], "--seed: input should be greater than or equal to 0"),
        (["run", "--steps", "abc"], "--steps: input should be a valid integer"),
        (["run", "--n-systems", "1e3"], "--n-systems: input should be a valid integer"),
        (["run", "--audit-rate", "x"], "--audit-rate: input should be a valid number"),
        (["validate", "--seed", "-3"], "--seed: input should be greater than or equal to 0"),
        (["viz", "--port", "abc"], "--port: input should be a valid integer"),
        (["run", "--workers", "2"], "No such option: --workers"),
        (["run", "--csv=yes"], "Option '--csv' does not take a value"),
        (["run", "--set"], "Option '--set' requires an argument"),
        (["profiles", "a", "b"], "unexpected extra argument"),
        (["runn"], "No such command 'runn'"),
        (["--bogus"], "No such option: --bogus"),
    ],
)
def test_a_bad_option_value_is_one_line_not_a_usage_box(args: list[str], expected: str) -> None:
    line = one_line_error(runner.invoke(app, args))
    assert expected in line, line
    command = "ppsim" if args[0] in ("runn", "--bogus") else f"ppsim {args[0]}"
    assert line.endswith(f"(see '{command} --help')"), line


def test_help_still_shows_and_a_command_without_its_argument_shows_its_help() -> None:
    for args in (["--help"], ["run", "--help"], ["sweep", "--help"]):
        result = runner.invoke(app, args)
        assert result.exit_code == 0 and "Usage:" in result.output, result.output
    bare = runner.invoke(app, ["report"])
    assert "Usage: ppsim report" in bare.output and "Error" not in bare.output
    line = one_line_error(runner.invoke(app, ["sweep", "--samples", "0"]))
    assert "--samples: input should be greater than or equal to 1" in line
