"""Will a network fit in memory? An estimate from its size, checked before it is built.

A run's memory grows linearly with its systems and its collaboration edges. The constants
below were measured with ``tracemalloc`` (peak while building and stepping a model) and the
process's peak resident size, on Erdos-Renyi, Barabasi-Albert and agent-platform networks
of 100,000 to 1,000,000 systems with mean degrees 8 and 32:

- about 125 bytes per system for the state arrays, plus about 180 bytes per system for the
  Mesa agent views (up to 5,000,000 systems; they are created the first time
  ``model.agents`` is read, and counted here because a script may read it);
- about 150 bytes per collaboration edge (the edge lists, both depends-on directions and
  their compressed adjacency);
- about 200 MB for the interpreter and the libraries.

The estimate adds a quarter for allocator slack and temporary copies. A run the estimate
says will not fit in the memory available now is refused in one line, instead of failing
with a ``MemoryError`` after building for a minute.

Example:
    >>> round(memory_estimate(1_000_000, 8.0, "erdos-renyi") / 1e9, 1)
    1.3
"""

from __future__ import annotations

import os
from pathlib import Path

BYTES_PER_SYSTEM = 125
BYTES_PER_VIEW = 180
VIEW_LIMIT = 5_000_000
BYTES_PER_EDGE = 150
BASELINE_BYTES = 200_000_000
SLACK = 1.25
UNCHECKED_BYTES = 100_000_000
"""Runs needing less than this beyond the baseline are not checked: reading the system's
memory figures would cost more than building such a run."""


def memory_estimate(n_systems: int, mean_degree: float, topology: str) -> int:
    """Bytes a run of this size needs at its peak (an upper estimate)."""
    edges = n_systems if topology == "hierarchy" else n_systems * max(mean_degree, 1.0) / 2
    views = min(n_systems, VIEW_LIMIT)
    need = n_systems * BYTES_PER_SYSTEM + views * BYTES_PER_VIEW + edges * BYTES_PER_EDGE
    return int(SLACK * need + BASELINE_BYTES)


def available_memory() -> int | None:
    """Bytes of memory available to a new allocation now (``MemAvailable``), if known."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def memory_problem(n_systems: int, mean_degree: float, topology: str) -> str | None:
    """One line saying the run will not fit in memory, or ``None`` if it will (or if the
    available memory cannot be known)."""
    need = memory_estimate(n_systems, mean_degree, topology)
    if need < BASELINE_BYTES + UNCHECKED_BYTES:
        return None
    have = available_memory()
    if have is None or need <= have:
        return None
    return (
        f"n_systems: {n_systems:,} systems with mean_degree {mean_degree:g} need about "
        f"{need / 1e9:.1f} GB of memory, but {have / 1e9:.1f} GB is available; use fewer "
        "systems or a lower mean_degree"
    )
