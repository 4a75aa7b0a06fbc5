"""The compiled engine's on-disk cache, as a user meets it: an install whose package folder
cannot be written keeps the cache in the user's cache folder, the first run there says
that it compiles, and the next run loads the cache silently and gives the same result."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import simulation

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
    package = Path(simulation.__file__).parent
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
    assert Path(first["cache"]) == user_cache
    assert "compiling the engine, once" in first_err
    assert list(user_cache.rglob("kernels.cycle-*.nbi")), "no cached cycle in the user cache"

    second, second_err = _run_read_only(tmp_path)
    assert "compiling" not in second_err
    assert second == first
