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

import importlib
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

try:
    __version__ = version("ppsim")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0"

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

__all__ = [
    "__version__",
    "PeerPreservationModel",
    "AISystem",
    "SimulationConfig",
    "Profile",
    "available_profiles",
    "Study",
    "load_study",
    "run_study",
    "StudyResult",
    "run_validation",
    "preset",
    "RUN_OUTCOMES",
    "PpsimError",
]

if TYPE_CHECKING:
    from simulation.agents import AISystem
    from simulation.config import SimulationConfig
    from simulation.errors import PpsimError
    from simulation.experiments.runner import StudyResult, run_study
    from simulation.experiments.study import Study
    from simulation.experiments.study_file import load_study
    from simulation.metrics import RUN_OUTCOMES
    from simulation.model import PeerPreservationModel
    from simulation.profiles import Profile, available_profiles
    from simulation.validation.settings import preset
    from simulation.validation.suite import run_validation


def __getattr__(name: str) -> Any:
    if name not in _PUBLIC:
        raise AttributeError(f"module 'simulation' has no attribute {name!r}")
    value = getattr(importlib.import_module(_PUBLIC[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
