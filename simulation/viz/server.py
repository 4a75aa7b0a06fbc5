"""Start and stop the app's web server (``solara run simulation/app.py``) as a child process.

Used by ``ppsim viz`` and by the browser tests. The initial configuration travels to the
app in the ``PPSIM_VIZ_SETTINGS`` environment variable. The server is told to stay on this
machine: Solara's usage statistics and its check for a newer version (both of which would
contact outside servers) are switched off, and the page's scripts are served from the
local cache that :mod:`simulation.viz.assets` fills.

Example:
    >>> port = free_port()
    >>> 1024 <= port <= 65535
    True
"""

from __future__ import annotations

import errno
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from simulation.config import SimulationConfig
from simulation.viz.controls import SETTINGS_ENV, settings_to_env

APP_PATH = Path(__file__).resolve().parent.parent / "app.py"
QUIET_ENV = {"SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False", "SOLARA_THEME_SHOW_BANNER": "False"}


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port on ``host`` that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def port_in_use(host: str, port: int) -> bool:
    """Whether a server already listens on ``host:port``."""
    return address_problem(host, port) is not None and _in_use(host, port)


def _in_use(host: str, port: int) -> bool:
    try:
        _bind(host, port)
    except OSError as exc:
        return exc.errno == errno.EADDRINUSE
    return False


def _bind(host: str, port: int) -> None:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)


def address_problem(host: str, port: int) -> str | None:
    """Why the app cannot listen on ``host:port`` (one line naming the option), or None."""
    try:
        _bind(host, port)
    except socket.gaierror:
        return f"--host: {host!r} is not an address of this machine; try 127.0.0.1"
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            return f"--port: {port} is in use on {host}; choose another, e.g. --port {port + 1}"
        if exc.errno == errno.EACCES:
            return f"--port: {port} needs administrator rights; choose one above 1023"
        return f"--host: cannot listen on {host} ({exc.strerror}); try 127.0.0.1"
    return None


def server_command(host: str, port: int) -> list[str]:
    """The ``solara run`` command line for the app."""
    return [
        sys.executable,
        "-m",
        "solara",
        "run",
        str(APP_PATH),
        "--host",
        host,
        "--port",
        str(port),
        "--production",
        "--no-open",
        "--no-check-version",
        "--log-level",
        "warning",
    ]


def server_env(config: SimulationConfig, seed: int, base: dict[str, str] | None = None):
    """Environment for the server: the initial settings, and nothing reaching outside."""
    env = dict(os.environ if base is None else base)
    env.update(QUIET_ENV)
    env[SETTINGS_ENV] = settings_to_env(config, seed)
    return env


def start_server(
    config: SimulationConfig,
    seed: int,
    host: str = "127.0.0.1",
    port: int = 8765,
    *,
    stdout=None,
    stderr=None,
) -> subprocess.Popen:
    """Start the app's server in the background; see :func:`wait_until_ready`."""
    return subprocess.Popen(
        server_command(host, port),
        env=server_env(config, seed),
        stdout=stdout,
        stderr=stderr,
        stdin=subprocess.DEVNULL,
    )


def url_for(host: str, port: int) -> str:
    """The address a browser opens (a wildcard host is reached as localhost)."""
    shown = "localhost" if host in ("0.0.0.0", "::", "") else host
    if ":" in shown:
        shown = f"[{shown}]"
    return f"http://{shown}:{port}/"


def wait_until_ready(url: str, process: subprocess.Popen, timeout: float = 120.0) -> None:
    """Block until the server answers ``url``; raise if it exits or takes too long."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the app's server stopped (exit code {process.returncode})")
        try:
            with urllib.request.urlopen(url + "readyz", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            pass
        time.sleep(0.3)
    raise TimeoutError(f"the app's server did not answer at {url} within {timeout:.0f} s")


def stop_server(process: subprocess.Popen, timeout: float = 10.0) -> int:
    """Ask the server to stop (SIGINT, as Ctrl-C would), then kill it if it will not."""
    if process.poll() is None:
        process.send_signal(2)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=timeout)
    return int(process.returncode)
