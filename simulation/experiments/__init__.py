"""Experiments: parameter sweeps, policy what-if studies and global sensitivity analysis.

A study is declared as data (a TOML file in ``experiments/``, see its README), kept apart
from the model it runs and from the executor that runs it:

- :mod:`~simulation.experiments.study_file` reads and validates a study file into a
  :mod:`~simulation.experiments.study`;
- :mod:`~simulation.experiments.design` turns it into runs (factorial, Latin hypercube,
  Sobol or Morris samples), each with a stable key and a seed derived from it;
- :mod:`~simulation.experiments.runner` runs them on any ``concurrent.futures.Executor``;
- :mod:`~simulation.experiments.store` keeps one Parquet row per run, append-only;
- :mod:`~simulation.experiments.whatif`, :mod:`~simulation.experiments.sensitivity` and
  :mod:`~simulation.reports.study` analyse and plot the stored results;
  :mod:`~simulation.experiments.mechanisms` says which what-if levers cannot act under a
  study's assumptions, :mod:`~simulation.experiments.robustness` how each what-if effect
  holds scenario by scenario and which assumption it hangs on.

The names below are imported on first use, so ``ppsim --help`` stays quick.

Example (a study file is read with ``load_study("experiments/propensity-by-audit.toml")``;
here the same table is given inline):
    >>> import tempfile
    >>> from simulation.experiments import parse_study, run_study
    >>> study = parse_study(
    ...     {"replicates": 2, "base": {"n_systems": 100, "steps": 10},
    ...      "vary": {"audit_rate": [0.0, 0.5]}}, "demo")
    >>> result = run_study(study, tempfile.mkdtemp())
    >>> result.frame.groupby("audit_rate").size().to_dict()
    {0.0: 2, 0.5: 2}
"""

from __future__ import annotations

from simulation import lazy_exports

_EXPORTS = {
    name: f"simulation.experiments.{module}"
    for name, module in {
        "Study": "study",
        "StudyError": "study",
        "load_study": "study_file",
        "parse_study": "study_file",
        "StudyInterrupted": "runner",
        "StudyResult": "runner",
        "run_study": "runner",
        "load_runs": "store",
        "load_timeseries": "store",
        "read_stored_study": "store",
    }.items()
}
_EXPORTS["build_report"] = "simulation.reports.study"

__all__ = sorted(_EXPORTS)
__getattr__ = lazy_exports(__name__, _EXPORTS)
