"""The compiled engine's on-disk cache, as a user meets it: an install whose package folder
cannot be written keeps the cache in the user's cache folder, the first run there says
that it compiles, and the next run loads the cache silently and gives the same result; an
edit to any source file the compiled code reads compiles afresh, so a stale cache can never
run."""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import simulation
from simulation.engine import compile_cache

# Runs a small model as if the package folder were read-only (as for a user of a
# system-wide install): os.access answers "not writable" for that folder alone.
READ_ONLY_RUN = """
import json, os, sys
package = os.path.realpath(sys.argv[1])
writable = os.access
os.access = lambda path, mode, **kw: (
    False if mode & os.W_OK and os.path.realpath(path) == package else writable(path, mode, **kw)
)
import numba
from simulation.config import SimulationConfig
from simulation.model import PeerPreservationModel

model = PeerPreservationModel(SimulationConfig(n_systems=200, steps=30), rng=7)
model.run()
print(json.dumps({"cache": numba.config.CACHE_DIR, "outcomes": model.outcomes()}))
"""


def _run_read_only(cache_home: Path) -> tuple[dict, str]:
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    env["XDG_CACHE_HOME"] = str(cache_home)
    package = Path(compile_cache.__file__).parent  # the engine's folder, where the cache was
    done = subprocess.run(
        [sys.executable, "-c", READ_ONLY_RUN, str(package)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1]), done.stderr


@pytest.mark.slow
def test_a_read_only_install_compiles_once_into_the_user_cache(tmp_path: Path) -> None:
    first, first_err = _run_read_only(tmp_path)
    user_cache = tmp_path / "ppsim" / "numba"
    assert Path(first["cache"]).parent == user_cache
    assert Path(first["cache"]).name == "engine-" + compile_cache.source_digest()
    assert "compiling the engine, once" in first_err
    assert list(user_cache.rglob("cycle.cycle-*.nbi")), "no cached cycle in the user cache"

    second, second_err = _run_read_only(tmp_path)
    assert "compiling" not in second_err
    assert second == first


COMPILED = ("@njit", "@register_jitable")


def _compiled_modules() -> list[Path]:
    package = Path(simulation.__file__).parent
    return [p for p in package.rglob("*.py") if any(mark in p.read_text() for mark in COMPILED)]


def test_every_source_the_compiled_code_reads_keys_the_cache() -> None:
    """A module whose names a compiled function uses (functions or frozen constants) is one
    of ENGINE_SOURCES, as is every module that defines compiled functions and every module
    of the kernels package (paths relative to the engine's folder)."""
    package = Path(compile_cache.__file__).parent
    keyed = set(compile_cache.ENGINE_SOURCES)
    kernels = {p.relative_to(package).as_posix() for p in (package / "kernels").glob("*.py")}
    assert "kernels/cycle.py" in kernels and kernels <= keyed
    compiled = _compiled_modules()
    assert len(compiled) >= 8, compiled
    for path in compiled:
        assert path.relative_to(package).as_posix() in keyed, path
        text = path.read_text()
        assert "from simulation.engine import compile_cache" in text.split("@", 1)[0], (
            f"{path.name} must import simulation.engine.compile_cache before it compiles anything"
        )
        tree = ast.parse(path.read_text())
        imported = {
            alias.asname or alias.name: node.module
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("simulation")
            for alias in node.names
        }
        compiled = [
            node
            for node in ast.walk(tree)
            if isinstance(node, ast.FunctionDef)
            and any(
                "njit" in ast.unparse(d) or "jitable" in ast.unparse(d) for d in node.decorator_list
            )
        ]
        used = {n.id for fn in compiled for n in ast.walk(fn) if isinstance(n, ast.Name)}
        for name in used & set(imported):
            source = imported[name].removeprefix("simulation.engine.").replace(".", "/") + ".py"
            assert source in keyed, f"{path.name} compiles {name} from {source}"


SWAP_RUN = """
import json
from simulation.model import PeerPreservationModel

model = PeerPreservationModel(
    n_systems=100, steps=3, assignment="humans", audit_rate=0.0, fault_rate=0.0, rng=1
)
model.run()
series = model.timeseries()
print(json.dumps([series["human_hours_policy"].sum(), series["human_hours_incident"].sum()]))
"""


@pytest.mark.slow
def test_an_edit_to_a_file_the_kernels_read_compiles_afresh(tmp_path: Path) -> None:
    """Swapping two counters of StepMetrics (states.py) moves the positions the compiled
    cycle writes to: with a stale cache the policy hours would land in the incident column."""
    checkout = Path(simulation.__file__).parent.parent
    ignore = shutil.ignore_patterns("__pycache__")
    shutil.copytree(checkout / "simulation", tmp_path / "simulation", ignore=ignore)
    shutil.copytree(checkout / "models", tmp_path / "models", ignore=ignore)
    env = {k: v for k, v in os.environ.items() if not k.endswith("NUMBA_CACHE_DIR")}
    env["NUMBA_CACHE_DIR"] = str(tmp_path / "cache")
    env["PYTHONPATH"] = str(tmp_path)

    def run() -> tuple[list[float], str]:
        done = subprocess.run(
            [sys.executable, "-c", SWAP_RUN],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout.strip().splitlines()[-1]), done.stderr

    hours, notice = run()
    assert hours == [3 * 100 * 0.5, 0.0]
    assert "compiling the engine" in notice
    states = tmp_path / "simulation" / "engine" / "states.py"
    text = states.read_text()
    policy, incident = "    hours_policy: float = 0.0\n", "    hours_incident: float = 0.0\n"
    assert policy + incident in text
    states.write_text(text.replace(policy + incident, incident + policy))
    hours, notice = run()
    assert "compiling the engine" in notice
    assert hours == [3 * 100 * 0.5, 0.0]
    assert [p.name for p in (tmp_path / "cache").iterdir()] == [
        "engine-" + compile_cache.source_digest(tmp_path / "simulation" / "engine")
    ]
