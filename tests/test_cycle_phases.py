"""One numbering of the cycle: docs/model.md, the engine's docstring and the kernels'
PHASES name the same phases in the same order, and each phase's bit is its position; the
compiled cycle's flat tuple of arrays is laid out as its bundles say."""

from __future__ import annotations

import re
from pathlib import Path

from simulation.config import SimulationConfig
from simulation.engine import engine, kernels
from simulation.model import PeerPreservationModel

ROOT = Path(__file__).resolve().parent.parent


def test_the_engine_docstring_lists_the_phases_in_order() -> None:
    listed = re.findall(r"^\d\. ``(\w+)``", engine.__doc__, flags=re.MULTILINE)
    assert tuple(listed) == kernels.PHASES


def test_docs_model_lists_the_phases_in_order() -> None:
    text = (ROOT / "docs" / "model.md").read_text()
    section = text[text.index("**One step = one oversight cycle**") :]
    section = section[: section.index("\n\n**")]
    header, items = section.split(":\n\n", 1)
    named = re.findall(r"`(\w+)`", header.split("which call them", 1)[1])
    assert tuple(named) == kernels.PHASES
    numbers = re.findall(r"^(\d)\. \*", items, flags=re.MULTILINE)
    assert numbers == [str(p + 1) for p in range(len(kernels.PHASES))]


def test_each_phase_bit_is_its_position() -> None:
    named = (
        kernels.PROPAGATE,
        kernels.ARISE_FAULTS,
        kernels.ESCALATIONS,
        kernels.DISCOVERY_AUDITS,
        kernels.EVALUATE,
        kernels.EXECUTE,
        kernels.REPLACE,
        kernels.GROW_TRUST,
        kernels.CENSUS_PHASE,
    )
    assert named == tuple(kernels.PHASE_BITS[name] for name in kernels.PHASES)
    assert named == tuple(1 << p for p in range(len(kernels.PHASES)))
    assert sum(named) == kernels.ALL_PHASES


def test_the_cycle_arrays_follow_the_bundles() -> None:
    slices = (
        kernels.AT_RUN,
        kernels.AT_PACKED,
        kernels.AT_OVERSIGHT,
        kernels.AT_GRAPH,
        kernels.AT_ACTORS,
        kernels.AT_WORK,
        kernels.AT_RECORDS,
        kernels.AT_ROTATIONS,
        kernels.AT_CASCADES,
    )
    start = 0
    for bundle, at in zip(kernels.CYCLE_BUNDLES, slices, strict=True):
        assert (at.start, at.stop) == (start, start + len(bundle._fields)), bundle.__name__
        start = at.stop
    model = PeerPreservationModel(SimulationConfig(n_systems=50, steps=2), rng=1)
    arrays = model.engine._arrays
    assert len(arrays) == kernels.AT_WORK.stop
    assert arrays[kernels.AT_OVERSIGHT][1] is model.engine.trust
    assert kernels.Actors(*arrays[kernels.AT_ACTORS]).conduct is model.engine.conduct
