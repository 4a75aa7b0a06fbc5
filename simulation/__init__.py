"""ppsim: simulate peer-preservation cascades in networks of AI systems.

The public face of the package. A model run, a study and a validation each take a few lines::

    >>> from simulation import PeerPreservationModel, SimulationConfig
    >>> model = PeerPreservationModel(SimulationConfig(n_systems=200, steps=20), rng=1)
    >>> model.run()
    >>> 0.0 <= model.outcomes()["faulty_share_mean"] <= 1.0
    True

Studies: ``run_study(load_study("experiments/propensity-by-audit.toml"), "results/x")``;
validation: ``run_validation(preset(full=False))``. Every error a user can fix is a
:class:`PpsimError`. Names are loaded on first use, so ``import simulation`` (and the
command line's ``--help``) stays fast.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable
from typing import Any

_PUBLIC = {
    "PeerPreservationModel": "simulation.model",
    "AISystem": "simulation.agents",
    "SimulationConfig": "simulation.config",
    "Profile": "simulation.profiles",
    "available_profiles": "simulation.profiles",
    "Study": "simulation.experiments.study",
    "load_study": "simulation.experiments.study_file",
    "run_study": "simulation.experiments.runner",
    "StudyResult": "simulation.experiments.runner",
    "run_validation": "simulation.validation.suite",
    "preset": "simulation.validation.settings",
    "RUN_OUTCOMES": "simulation.metrics",
    "PpsimError": "simulation.errors",
}

__all__ = ["__version__", *_PUBLIC]


def lazy_exports(package: str, exports: dict[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` that imports each of ``exports`` (name -> module) on first
    use, so importing a package loads none of its heavy modules."""

    def __getattr__(name: str) -> Any:
        if name not in exports:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(exports[name]), name)

    return __getattr__


@functools.cache
def _installed_version() -> str:
    """The installed package's version (read on first use: ``importlib.metadata`` takes a
    tenth of a second to import)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("ppsim")
    except PackageNotFoundError:  # running from a source tree without installation
        return "0.0.0"


_public_getattr = lazy_exports(__name__, _PUBLIC)


def __getattr__(name: str) -> Any:
    return _installed_version() if name == "__version__" else _public_getattr(name)


def __dir__() -> list[str]:
    return sorted(__all__)
