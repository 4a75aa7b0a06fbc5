"""Experimental designs: turn a study into its runs, each with a stable key and a seed.

- Factorial: every combination of the varied parameters' levels.
- Latin hypercube (``design = "lhs"``): ``samples`` scenarios, each parameter's range cut
  into ``samples`` equally likely strata, one draw per stratum, strata shuffled per
  parameter.
- Sensitivity: SALib's Sobol (Saltelli) or Morris samples.

Every run has a key, ``[arm|]scenario|rep=R``, and a seed derived from the study seed and
the key *without* the arm, so every arm of a what-if study meets the same scenarios with the
same seeds (common random numbers). In a sensitivity study every sample point of replicate R
shares one seed, for the same reason: differences between points are then due to the
parameters, not to seed-to-seed noise. Sampled scenarios are drawn from the study seed alone,
so a plan never depends on the executor or on what already ran.

Example:
    >>> from simulation.experiments.study_file import parse_study
    >>> study = parse_study({"replicates": 2, "vary": {"audit_rate": [0.0, 0.2]}}, "demo")
    >>> [run.key for run in make_plan(study).runs]
    ['audit_rate=0.0|rep=0', 'audit_rate=0.0|rep=1', 'audit_rate=0.2|rep=0', 'audit_rate=0.2|rep=1']
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import numpy as np

from simulation.config import ConfigError, SimulationConfig
from simulation.experiments.study import Study, StudyError
from simulation.seeding import derive_seed

DESIGN_KEY = "design"


@dataclass(frozen=True)
class RunSpec:
    """One run to execute: where it sits in the study, its seed and its full configuration."""

    key: str
    arm: str
    arm_index: int
    scenario: int
    replicate: int
    seed: int
    config: dict[str, Any]


@dataclass(frozen=True)
class Plan:
    """All runs of a study, in run-key order (arm, scenario, replicate).

    ``scenarios`` holds the varied values of each scenario; ``unit_samples`` the sampled
    points in the unit hypercube (the matrix SALib analyses), or ``None`` for a factorial.
    """

    study: Study
    scenario_ids: tuple[str, ...]
    scenarios: tuple[dict[str, Any], ...]
    unit_samples: np.ndarray | None
    runs: tuple[RunSpec, ...]


def latin_hypercube(n: int, d: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` points in the unit ``d``-cube, one per stratum in every dimension."""
    strata = np.argsort(rng.random((d, n)), axis=1).T
    return (strata + rng.random((n, d))) / n


def _sensitivity_samples(study: Study, rng_seed: int) -> np.ndarray:
    from SALib.sample import morris as morris_sample
    from SALib.sample import sobol as sobol_sample

    problem = salib_problem(study)
    if study.method == "sobol":
        return sobol_sample.sample(
            problem,
            study.sobol_samples,
            calc_second_order=study.second_order,
            scramble=True,
            seed=rng_seed,
        )
    return morris_sample.sample(
        problem, study.morris_trajectories, num_levels=study.morris_levels, seed=rng_seed
    )


def salib_problem(study: Study) -> dict[str, Any]:
    """The SALib problem: every parameter on the unit interval, mapped by its inverse CDF.

    Sampling in the unit cube and transforming each coordinate gives each parameter its
    declared distribution (uniform, log-uniform, integers or equally likely levels).
    """
    names = [v.name for v in study.vary]
    return {"num_vars": len(names), "names": names, "bounds": [[0.0, 1.0]] * len(names)}


def _value_text(value: Any) -> str:
    return repr(value) if isinstance(value, float) else str(value)


def scenarios(study: Study) -> tuple[list[str], list[dict[str, Any]], np.ndarray | None]:
    """Scenario ids, the varied values of each scenario and the unit samples (if sampled)."""
    if study.kind == "sensitivity" or study.design == "lhs":
        design_seed = derive_seed(study.seed, DESIGN_KEY)
        if study.kind == "sensitivity":
            unit = np.asarray(_sensitivity_samples(study, design_seed), dtype=np.float64)
        else:
            unit = latin_hypercube(
                study.samples or 0, len(study.vary), np.random.default_rng(design_seed)
            )
        columns = [v.from_unit(unit[:, j]) for j, v in enumerate(study.vary)]
        values = [
            {v.name: columns[j][i] for j, v in enumerate(study.vary)} for i in range(len(unit))
        ]
        width = len(str(max(len(unit) - 1, 0)))
        ids = [f"sample={i:0{width}d}" for i in range(len(unit))]
        return ids, values, unit
    if not study.vary:
        return ["base"], [{}], None
    combos = itertools.product(*(v.values for v in study.vary))
    values = [dict(zip(study.varied, combo, strict=True)) for combo in combos]
    ids = ["|".join(f"{k}={_value_text(x)}" for k, x in v.items()) for v in values]
    return ids, values, None


def make_plan(study: Study) -> Plan:
    """Every run of the study with its key, seed and validated configuration (a search's
    plan holds its baseline and comparison arms; its candidates come from
    :func:`policy_runs` as the optimiser proposes them).

    Raises:
        StudyError: a combination of values is invalid (names the scenario and arm).
    """
    ids, values, unit = scenarios(study)
    runs: list[RunSpec] = []
    for arm_index, arm in enumerate(study.arm_names):
        runs += policy_runs(study, arm, study.arm_changes(arm), ids, values, arm_index)
    keys = [r.key for r in runs]
    if len(set(keys)) != len(keys):
        raise StudyError(f"{study.origin}: vary: two scenarios share a run key; rename values")
    return Plan(study, tuple(ids), tuple(values), unit, tuple(runs))


def policy_runs(
    study: Study,
    arm: str,
    changes: dict[str, Any],
    ids: list[str] | tuple[str, ...],
    values: list[dict[str, Any]] | tuple[dict[str, Any], ...],
    arm_index: int = 0,
) -> list[RunSpec]:
    """The runs of one policy (``changes`` to the base) on every scenario and replicate,
    seeded by scenario and replicate alone: every policy meets the same seeds.

    Raises:
        StudyError: a combination of values is invalid (names the scenario and arm).
    """
    base = study.base.to_dict()
    runs = []
    for scenario, (sid, vals) in enumerate(zip(ids, values, strict=True)):
        config = _validated({**base, **changes, **vals}, study, sid, arm)
        for rep in range(study.replicates):
            seed_key = f"{sid}|rep={rep}"
            key = f"{arm}|{seed_key}" if study.kind in ("whatif", "search") else seed_key
            # Sensitivity: every sample point of a replicate shares its seed, so the
            # indices measure the parameters, not seed-to-seed noise.
            common = f"rep={rep}" if study.kind == "sensitivity" else seed_key
            seed = derive_seed(study.seed, common)
            runs.append(RunSpec(key, arm, arm_index, scenario, rep, seed, config))
    return runs


PREFLIGHT_FIELDS = (
    "topology",
    "n_systems",
    "mean_degree",
    "orchestrator_share",
    "graph_file",
    "initial_faults",
    "profile_mix",
    "propensity",
    "assignment",
)
"""The parameters :func:`simulation.preflight.check_run` reads."""


def check_runs(plan: Plan) -> None:
    """Refuse the study if any of its runs would stop before its first cycle (a graph file
    with too few systems for its initial faults, a network its generator cannot build, a
    cross-family oversight of one family...), naming the first such scenario (and arm):
    every run's configuration is checked, each distinct one once, before anything runs.

    Raises:
        StudyError: the first problem found, in one line.
    """
    from simulation.errors import PpsimError
    from simulation.preflight import check_run
    from simulation.profiles import available_profiles

    profiles = available_profiles()
    seen: set[tuple[Any, ...]] = set()
    for run in plan.runs:
        key = tuple(run.config[name] for name in PREFLIGHT_FIELDS)
        if key in seen:
            continue
        seen.add(key)
        try:
            check_run(SimulationConfig.model_construct(**run.config), profiles)
        except PpsimError as exc:
            raise _run_error(plan.study, plan.scenario_ids[run.scenario], run.arm, exc) from None


def _validated(values: dict[str, Any], study: Study, sid: str, arm: str) -> dict[str, Any]:
    try:
        return SimulationConfig.from_mapping(values).to_dict()
    except ConfigError as exc:
        raise _run_error(study, sid, arm, exc) from None


def _run_error(study: Study, sid: str, arm: str, exc: Exception) -> StudyError:
    """``exc``'s first line as the study's refusal, naming the scenario (and the arm)."""
    where = f"scenario {sid}" + (f", arm {arm}" if study.kind in ("whatif", "search") else "")
    return StudyError(f"{study.origin}: {where}: {str(exc).splitlines()[0]}")
