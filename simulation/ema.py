"""Driving ppsim from EMA Workbench (exploratory modelling under deep uncertainty).

:func:`ppsim_outcomes` is a plain function model: keyword arguments are any parameters of
:class:`~simulation.config.SimulationConfig` plus ``seed``, the result is a dictionary of
outcomes from :data:`simulation.metrics.SUMMARY_DESCRIPTIONS`. It runs exactly what
``ppsim run`` runs, so every number EMA records can be reproduced with
``ppsim run --seed S --PARAMETER VALUE ...``. :func:`ema_model` wraps it as an EMA
``Model`` with example uncertainties (contagion, fault rate, propensities, the seed) and
policy levers (audits, human execution). EMA Workbench itself is imported only there, so
this module loads without it. See ``docs/ema-workbench.md``.

Example:
    >>> outcomes = ppsim_outcomes(seed=1, n_systems=100, steps=10, audit_rate=0.2)
    >>> sorted(outcomes)
    ['cascade_size_max', 'detections_total', 'faulty_share_mean']
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from simulation.config import SimulationConfig

if TYPE_CHECKING:
    from ema_workbench import Model

OUTCOMES: tuple[str, ...] = ("faulty_share_mean", "cascade_size_max", "detections_total")
"""The outcomes the example model reports (any key of ``SUMMARY_DESCRIPTIONS`` works)."""


def plain_value(value: Any) -> Any:
    """A NumPy scalar (as EMA samples them) as the Python value the configuration expects."""
    return value.item() if hasattr(value, "item") else value


def ppsim_outcomes(seed: int = 0, **parameters: Any) -> dict[str, float]:
    """Run one simulation with these parameters and seed; return :data:`OUTCOMES`.

    Unknown or invalid parameters raise :class:`~simulation.config.ConfigError`, naming
    the parameter, as everywhere else.
    """
    from simulation.model import PeerPreservationModel

    config = SimulationConfig.from_mapping({k: plain_value(v) for k, v in parameters.items()})
    model = PeerPreservationModel(config, rng=int(plain_value(seed)), agent_views=False)
    model.run()
    summary = model.outcomes()
    return {name: float(summary[name]) for name in OUTCOMES}


def ema_model(name: str = "ppsim", n_systems: int = 200, steps: int = 30) -> Model:
    """An EMA Workbench function model of ppsim with example uncertainties and levers.

    Uncertainties: ``beta`` (infection probability), ``fault_rate``, ``propensity_scale``
    and the run's ``seed`` (sampled with the scenario, so every policy meets the same
    seeds: common random numbers). Levers: ``audit_rate`` and ``human_execution``.
    ``n_systems`` and ``steps`` are constants. Needs ``ema-workbench`` installed.
    """
    from ema_workbench import (
        BooleanParameter,
        Constant,
        IntegerParameter,
        Model,
        RealParameter,
        ScalarOutcome,
    )

    model = Model(name, function=ppsim_outcomes)
    model.uncertainties = [
        RealParameter("beta", 0.02, 0.3),
        RealParameter("fault_rate", 0.0005, 0.01),
        RealParameter("propensity_scale", 0.0, 2.0),
        IntegerParameter("seed", 0, 1_000_000),
    ]
    model.levers = [
        RealParameter("audit_rate", 0.0, 0.5),
        BooleanParameter("human_execution"),
    ]
    model.constants = [Constant("n_systems", n_systems), Constant("steps", steps)]
    model.outcomes = [ScalarOutcome(outcome) for outcome in OUTCOMES]
    return model
