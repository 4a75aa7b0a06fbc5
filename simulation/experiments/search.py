"""Search the policy levers for the Pareto front of a search study, with NSGA-II or
NSGA-III (Optuna's samplers), on the same scenarios and seeds for every candidate.

Each generation, the optimiser proposes ``population`` candidates (values of the levers);
each candidate runs on every scenario and replicate of the study's ``[vary]`` design
with the seeds of the scenario and replicate alone (common random numbers), is scored
(:mod:`~simulation.experiments.scoring`) and told back. The baseline (``[base]``) and the
comparison arms (``[arms.NAME]``) run first, on the same scenarios and seeds, as points
to compare the front with (and in the reference of max regret).

**Stored as it goes, resumed by replay.** Every run is stored in the study folder as it
finishes, under a key made of its candidate's name (``cand-`` and a hash of its whole
configuration), scenario and replicate. The optimiser is seeded from the study seed and
is told each generation's scores in candidate order, so given the same scores it asks for
the same candidates. A killed search run again replays it: each generation's candidates
are asked for again, their stored runs are read instead of run, and the search carries
on from the first run not stored, ending with the front the uninterrupted search would
have found, without a run stored twice. The same holds on any executor and any number of
workers, since every run's row depends only on its configuration and seed.

Continuous levers are evaluated on a grid of a thousandth of their range (log-uniform
ones to 3 significant digits), so two candidates closer than that are one.
"""

from __future__ import annotations

import hashlib
import json
import re
import warnings
from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd

from simulation.experiments import scoring
from simulation.experiments.design import Plan, RunSpec, check_runs, make_plan, policy_runs
from simulation.experiments.design import scenarios as design_scenarios
from simulation.experiments.runner import (
    PendingInterrupted,
    PendingLost,
    _check_memory,
    execute_pending,
)
from simulation.experiments.search_file import CANDIDATE_PREFIX
from simulation.experiments.store import SEARCH_FILES, StudyStore
from simulation.experiments.study import BASELINE, Study, StudyError, Variable
from simulation.reports.output import atomic_file, write_atomic
from simulation.seeding import derive_seed

GRID = 1000
"""A continuous lever is evaluated on ``GRID`` steps of its range."""
SAMPLER_KEY = "search"
FRONT_FILE, CANDIDATES_FILE, COMPARISON_FILE, CONVERGENCE_FILE = SEARCH_FILES


def candidate_id(config: dict[str, Any]) -> str:
    """A candidate's name: ``cand-`` and 8 hex digits of a hash of its whole configuration,
    so the same policy has the same name (and its runs the same keys) in every search of
    the same folder."""
    text = json.dumps(config, sort_keys=True, separators=(",", ":"), default=str)
    return CANDIDATE_PREFIX + hashlib.sha256(text.encode()).hexdigest()[:8]


def on_grid(lever: Variable, value: Any) -> Any:
    """``value`` of ``lever`` as evaluated: continuous levers on their grid."""
    if lever.form == "uniform":
        step = (float(lever.high) - float(lever.low)) / GRID
        snapped = float(lever.low) + round((float(value) - float(lever.low)) / step) * step
        return float(f"{min(max(snapped, lever.low), lever.high):.12g}")
    if lever.form == "loguniform":
        return float(f"{min(max(float(value), lever.low), lever.high):.3g}")
    if lever.form == "integers":
        return int(value)
    return value


def policy_text(levers: dict[str, Any]) -> str:
    """``audit_rate=0.2, human_execution=true``: the policy a candidate is, in words."""

    def text(value: Any) -> str:
        if isinstance(value, bool):
            return str(value).lower()
        return f"{value:g}" if isinstance(value, float) else str(value)

    return ", ".join(f"{name}={text(value)}" for name, value in levers.items())


def _distribution(lever: Variable) -> Any:
    from optuna.distributions import (
        CategoricalDistribution,
        FloatDistribution,
        IntDistribution,
    )

    if lever.form == "uniform":
        return FloatDistribution(float(lever.low), float(lever.high))
    if lever.form == "loguniform":
        return FloatDistribution(float(lever.low), float(lever.high), log=True)
    if lever.form == "integers":
        return IntDistribution(int(lever.low), int(lever.high))
    return CategoricalDistribution(list(lever.values))


def _constraints_of(trial: Any) -> Sequence[float]:
    return trial.user_attrs["constraints"]


def _optimiser(study: Study) -> Any:
    """An Optuna study whose sampler is seeded from the study seed (every objective is
    told minimised)."""
    import optuna
    from optuna.samplers import NSGAIIISampler, NSGAIISampler

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    settings = study.search
    kind = NSGAIIISampler if settings.algorithm == "nsga3" else NSGAIISampler
    with warnings.catch_warnings():  # constraints_func is marked experimental
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        sampler = kind(
            population_size=settings.population,
            seed=derive_seed(study.seed, SAMPLER_KEY) % 2**32,
            constraints_func=_constraints_of if study.constraints else None,
        )
    return optuna.create_study(directions=["minimize"] * len(study.objectives), sampler=sampler)


class SearchProgress(Protocol):
    """What a search reports to a progress display."""

    def stage(self, title: str, runs: int, stored: int) -> None: ...

    def advance(self, failed: bool) -> None: ...

    def generation_done(self, record: GenerationRecord) -> None: ...


@dataclass(frozen=True)
class GenerationRecord:
    """One generation: its candidates (distinct ones, new to the search), runs run now and
    stored before, candidates evaluated so far, the front's size and its hypervolume."""

    generation: int
    candidates: int
    new: int
    ran: int
    stored: int
    evaluated: int
    front: int
    hypervolume: float


@dataclass
class SearchResult:
    """A finished search: every candidate scored, its front, the comparison policies, the
    convergence per generation, and what this call ran."""

    study: Study
    out_dir: Path
    candidates: pd.DataFrame
    front: pd.DataFrame
    comparison: pd.DataFrame
    convergence: pd.DataFrame
    ran: int = 0
    failed: int = 0
    stored: int = 0
    paths: dict[str, Path] = field(default_factory=dict)


class SearchInterrupted(Exception):
    """Ctrl-C (or ``signum``) during a search; every finished run is stored."""

    def __init__(self, out_dir: Path, generation: int, generations: int, signum: int) -> None:
        self.out_dir, self.signum = out_dir, signum
        super().__init__(
            f"interrupted in generation {generation + 1} of {generations}; every finished run "
            f"is stored in {out_dir}; run the same command again to resume"
        )


class SearchLost(Exception):
    """The executor lost runs it could not run again; every finished run is stored."""


@dataclass
class _Evaluator:
    """Runs what is not stored yet, and reads back the scored outcomes of the policies."""

    study: Study
    store: StudyStore
    executor: Executor | None
    workers: int
    progress: SearchProgress | None
    flush_seconds: float
    generation: int = 0
    ran: int = 0
    failed: int = 0
    stored_before: int = 0

    def run(self, title: str, specs: list[RunSpec]) -> tuple[int, int]:
        stored = self.store.stored_status()
        pending = [s for s in specs if s.key not in stored]
        if self.progress is not None:
            self.progress.stage(title, len(specs), len(specs) - len(pending))
        try:
            ran, failed = execute_pending(
                self.store,
                pending,
                self.executor,
                self.workers,
                self.study.timeseries,
                self.progress,
                self.flush_seconds,
                max(1, min(500, len(pending) // 4)),
            )
        except PendingInterrupted as stop:
            total = self.study.search.generations
            raise SearchInterrupted(self.store.root, self.generation, total, stop.signum) from None
        except PendingLost as lost:
            raise SearchLost(
                f"{lost.reason}; every finished run is stored in {self.store.root}; run the "
                "same command again to resume"
            ) from None
        self.ran += ran
        self.failed += failed
        self.stored_before += len(specs) - len(pending)
        return ran, len(specs) - len(pending)

    def tables(self, policies: Sequence[str]) -> dict[str, pd.DataFrame]:
        runs = self.store.load(["status", *self.study.outcomes])
        runs = runs[runs["arm"].isin(set(policies))]
        tables = scoring.scenario_values(runs, self.study.outcomes)
        return {name: table.reindex(list(policies)) for name, table in tables.items()}


def run_search(
    study: Study,
    out_dir: str | Path,
    executor: Executor | None = None,
    *,
    workers: int = 1,
    progress: SearchProgress | None = None,
    flush_seconds: float = 2.0,
) -> SearchResult:
    """Run (or resume) the search of ``study`` into ``out_dir``; return its front.

    Raises:
        StudyError: invalid study, lever values no run can use, or folder (nothing runs).
        SearchInterrupted: Ctrl-C or SIGTERM; finished runs are stored, a rerun resumes.
        SearchLost: the executor lost runs for good; finished runs are stored.
    """
    ids, values, _ = design_scenarios(study)
    plan = make_plan(study)
    check_runs(plan)
    _check_memory(plan)
    _check_lever_values(study, plan)
    out_dir = Path(out_dir)
    comparison_names = list(study.arm_names)
    with StudyStore.open(out_dir, study) as store:
        store.drop_failed()
        evaluator = _Evaluator(study, store, executor, max(1, workers), progress, flush_seconds)
        evaluator.run("baseline and comparison arms", list(plan.runs))
        result = _generations(study, evaluator, ids, values, comparison_names)
        store.check_inputs_unchanged()
        result.paths = write_outputs(result)
    result.ran, result.failed = evaluator.ran, evaluator.failed
    result.stored = evaluator.stored_before
    return result


def _check_lever_values(study: Study, plan: Plan) -> None:
    """Refuse a categorical lever value no run can use (say, cross-family oversight of a
    single model family), before anything runs: every candidate choosing it would fail."""
    for lever in study.levers:
        for value in lever.values if lever.form in ("levels", "choice") else ():
            name = f"levers.{lever.name}={value}"
            runs = policy_runs(study, name, {lever.name: value}, plan.scenario_ids, plan.scenarios)
            check_runs(Plan(study, plan.scenario_ids, plan.scenarios, None, tuple(runs)))


def _generations(
    study: Study,
    evaluator: _Evaluator,
    ids: list[str],
    values: list[dict[str, Any]],
    comparison: list[str],
) -> SearchResult:
    from optuna.trial import TrialState

    settings = study.search
    optimiser = _optimiser(study)
    distributions = {lever.name: _distribution(lever) for lever in study.levers}
    candidates: dict[str, dict[str, Any]] = {}
    first_seen: dict[str, int] = {}
    records: list[GenerationRecord] = []
    normaliser: scoring.Normaliser | None = None
    base = study.base.to_dict()
    for g in range(settings.generations):
        evaluator.generation = g
        trials = [optimiser.ask(distributions) for _ in range(settings.population)]
        names = []
        for trial in trials:
            levers = {lv.name: on_grid(lv, trial.params[lv.name]) for lv in study.levers}
            name = candidate_id({**base, **levers})
            names.append(name)
            if name not in candidates:
                candidates[name], first_seen[name] = levers, g
        new = [n for n in dict.fromkeys(names) if first_seen[n] == g]
        specs = [
            run
            for n in new
            for run in policy_runs(study, n, candidates[n], ids, values, len(comparison))
        ]
        ran, stored = evaluator.run(f"generation {g + 1} of {settings.generations}", specs)
        policies = [*comparison, *candidates]
        scored = _score(study, evaluator.tables(policies))
        for trial, name in zip(trials, names, strict=True):
            point = scored.minimised.loc[name].to_numpy()
            if not np.isfinite(point).all():
                optimiser.tell(trial, state=TrialState.FAIL)
                continue
            trial.set_user_attr("constraints", scored.constraint_rows.loc[name].tolist())
            optimiser.tell(trial, point.tolist())
        seen = scored.minimised.loc[list(candidates)]
        feasible = seen[scored.violation.loc[list(candidates)] == 0].dropna()
        if normaliser is None and len(feasible):
            normaliser = scoring.Normaliser.of(feasible.to_numpy())
        front = feasible[scoring.non_dominated(feasible.to_numpy())]
        volume = (
            scoring.hypervolume(normaliser(front.to_numpy()), normaliser.reference)
            if normaliser is not None and len(front)
            else 0.0
        )
        record = GenerationRecord(
            g + 1, len(set(names)), len(new), ran, stored, len(candidates), len(front), volume
        )
        records.append(record)
        if evaluator.progress is not None:
            evaluator.progress.generation_done(record)
    final = _score(study, evaluator.tables([*comparison, *candidates]))
    table = _candidate_table(study, final, candidates, first_seen)
    return SearchResult(
        study,
        evaluator.store.root,
        table,
        table[table["on_front"]].reset_index(drop=True),
        _comparison_table(study, final, comparison, table),
        pd.DataFrame([r.__dict__ for r in records]),
    )


@dataclass(frozen=True)
class _Scored:
    scores: scoring.Scores
    minimised: pd.DataFrame
    constraint_rows: pd.DataFrame
    violation: pd.Series


def _score(study: Study, tables: dict[str, pd.DataFrame]) -> _Scored:
    settings = study.search
    scores = scoring.score_policies(tables, study.objectives, study.constraints, settings)
    points = scoring.minimised(scores.value, study.objectives, settings.score)
    minimised = pd.DataFrame(points, index=scores.value.index)
    judged = scoring.constraint_values(tables, study.constraints, settings)
    rows = pd.DataFrame(
        {i: c.exceedance(judged[c.name]) for i, c in enumerate(study.constraints)},
        index=judged.index,
    )
    violation = rows.clip(lower=0.0).sum(axis=1)  # 0: feasible; inf: not scorable
    return _Scored(scores, minimised, rows, violation)


def _scored_columns(scored: _Scored, names: list[str]) -> pd.DataFrame:
    out = pd.DataFrame(index=names)
    for outcome in scored.scores.value.columns:
        out[outcome] = scored.scores.value.loc[names, outcome].to_numpy()
        out[f"{outcome}_low"] = scored.scores.low.loc[names, outcome].to_numpy()
        out[f"{outcome}_high"] = scored.scores.high.loc[names, outcome].to_numpy()
    out["violation"] = scored.violation.loc[names].to_numpy()
    out["feasible"] = out["violation"] == 0
    return out


def _candidate_table(
    study: Study,
    scored: _Scored,
    candidates: dict[str, dict[str, Any]],
    first_seen: dict[str, int],
) -> pd.DataFrame:
    """One row per candidate: its name, generation, policy, levers and scores; whether it
    is on the front (feasible, scored, and dominated by no other feasible candidate)."""
    names = list(candidates)
    table = pd.DataFrame(
        {
            "candidate": names,
            "generation": [first_seen[n] + 1 for n in names],
            "policy": [policy_text(candidates[n]) for n in names],
        }
    )
    for lever in study.levers:
        table[lever.name] = [candidates[n][lever.name] for n in names]
    columns = _scored_columns(scored, names).reset_index(drop=True)
    table = pd.concat([table, columns], axis=1)
    points = scored.minimised.loc[names].to_numpy()
    feasible = table["feasible"].to_numpy() & np.isfinite(points).all(axis=1)
    on_front = np.zeros(len(names), dtype=bool)
    on_front[feasible] = scoring.non_dominated(points[feasible])
    table["on_front"] = on_front
    first = study.objectives[0]
    return table.sort_values(
        [first.name, "candidate"], ascending=[first.sense == "min", True], kind="stable"
    ).reset_index(drop=True)


def _comparison_table(
    study: Study, scored: _Scored, comparison: list[str], candidates: pd.DataFrame
) -> pd.DataFrame:
    """The baseline and the comparison arms scored like the candidates, each with the
    front's candidates that dominate it."""
    table = pd.DataFrame(
        {
            "policy_name": comparison,
            "policy": [
                "the base configuration" if n == BASELINE else policy_text(study.arm_changes(n))
                for n in comparison
            ],
        }
    )
    table = pd.concat([table, _scored_columns(scored, comparison).reset_index(drop=True)], axis=1)
    front = candidates[candidates["on_front"]]
    front_points = scored.minimised.loc[front["candidate"]].to_numpy()
    dominated_by = []
    for name in comparison:
        point = scored.minimised.loc[name].to_numpy()
        if not np.isfinite(point).all() or not len(front_points):
            dominated_by.append("")
            continue
        hits = (front_points <= point).all(axis=1) & (front_points < point).any(axis=1)
        dominated_by.append(" ".join(front["candidate"].to_numpy()[hits]))
    table["dominated_by"] = dominated_by
    return table


def write_outputs(result: SearchResult) -> dict[str, Path]:
    """Write the front, every candidate, the comparison policies (Parquet) and the
    convergence per generation (CSV) into the search's folder, each atomically."""
    paths = {}
    tables = (
        (FRONT_FILE, result.front),
        (CANDIDATES_FILE, result.candidates),
        (COMPARISON_FILE, result.comparison),
    )
    for name, table in tables:
        path = result.out_dir / name
        with atomic_file(path) as tmp:
            table.to_parquet(tmp, index=False)
        paths[name] = path
    path = result.out_dir / CONVERGENCE_FILE
    paths[CONVERGENCE_FILE] = write_atomic(path, result.convergence.to_csv(index=False))
    return paths


def front_policy(folder: str | Path, name: str) -> str:
    """The candidate a search folder's front calls ``name`` (``F1`` is the front's first
    policy, in the order of the first objective, as ``ppsim search`` prints it); any other
    name as it is. An ``F<n>`` beyond the front is refused naming its size."""
    match = re.fullmatch(r"[Ff](\d+)", name.strip())
    path = Path(folder) / FRONT_FILE
    if match is None or not path.is_file():
        return name
    front = pd.read_parquet(path, columns=["candidate"])["candidate"]
    index = int(match.group(1))
    if not 1 <= index <= len(front):
        raise StudyError(
            f"--policy {name}: the front of {folder} has {len(front)} policies, F1 to F{len(front)}"
        )
    return str(front.iloc[index - 1])
