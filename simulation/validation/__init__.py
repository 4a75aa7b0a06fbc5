"""Scientific validation: does the simulator reproduce what is already known?

Two families of checks, each run on the model's own engine:

1. **The study** (:mod:`~simulation.validation.paper`): every cell that Potter et al. (2026)
   report, reproduced by one AI overseer facing one peer, at the study's sample size, with a
   binomial 95 % interval;
2. **Network contagion theory** (:mod:`~simulation.validation.contagion`,
   :mod:`~simulation.validation.theory`): the bond-percolation outbreak threshold on random
   regular and Erdos-Renyi graphs, the Watts (2002) cascade window of the threshold rule,
   and how peer protection lowers the threshold through a longer infectious period.

``ppsim validate`` runs them (:func:`run_validation`), prints one table and writes a Plotly
report (:func:`report_html`). See ``docs/validation.md`` for the derivations.

Example:
    >>> from simulation.validation import preset
    >>> preset().study.sample_sizes["misrepresentation"]
    600
"""

from simulation import lazy_exports
from simulation.validation.settings import SettingsError, load_settings, preset
from simulation.validation.suite import ValidationResult, run_validation, work_units

# The report (in simulation.reports) reads this package's theory: imported on first use,
# so either side can be imported first.
__getattr__ = lazy_exports(
    __name__, dict.fromkeys(("render_table", "report_html"), "simulation.reports.validation")
)

__all__ = [
    "SettingsError",
    "ValidationResult",
    "load_settings",
    "preset",
    "render_table",
    "report_html",
    "run_validation",
    "work_units",
]
