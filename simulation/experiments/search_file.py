"""The tables of a search study file (``kind = "search"``): ``[levers]``, ``[objectives]``,
``[constraints]`` and ``[search]``, checked before anything runs.

A lever is a policy parameter with the domain the optimiser searches, written as a
``[vary]`` entry is (``{uniform = [0, 0.5]}``, ``{integers = [1, 3]}``, ``{choice = [...]}``
or a list); an objective names an outcome with ``"min"`` or ``"max"``; a constraint bounds
an outcome's score with ``min`` and/or ``max``. See ``experiments/README.md``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import model_validator

from simulation.config import config_fields
from simulation.errors import StudyError
from simulation.experiments.study import (
    Constraint,
    Objective,
    SearchSettings,
    Variable,
)
from simulation.metrics import SUMMARY_DESCRIPTIONS
from simulation.schema import Table, check, integer, number, one_of, problem
from simulation.tomlfile import did_you_mean

ALGORITHMS = ("nsga2", "nsga3")
SCORES = ("mean", "quantile", "max-regret")
SENSES = ("min", "max")
CANDIDATE_PREFIX = "cand-"
"""How a search's candidates are named (``cand-`` and 8 hex digits of their configuration);
a comparison arm may not be named so."""
MIN_OBJECTIVES, MAX_OBJECTIVES = 2, 3
SEARCH_KEYS = ("levers", "objectives", "constraints", "search")
_POLICY_PARAMETERS = tuple(f.name for f in config_fields() if f.group == "policy")


class SearchTable(Table):
    """``[search]``: the optimiser and how each candidate is scored over the scenarios."""

    algorithm: one_of(*ALGORITHMS) = "nsga2"
    population: integer(4, 10_000) = 16
    generations: integer(1, 10_000) = 10
    score: one_of(*SCORES) = "mean"
    quantile: number(0.0, 1.0, open=True) = 0.9

    @model_validator(mode="after")
    def _quantile_only_with_its_score(self) -> SearchTable:
        if "quantile" in self.model_fields_set and self.score != "quantile":
            raise problem("only with score = 'quantile'", "quantile")
        return self


class BoundsTable(Table):
    """One ``[constraints]`` entry: ``{max = 40}``, ``{min = 0.9}`` or both."""

    min: number(optional=True) = None
    max: number(optional=True) = None

    @model_validator(mode="after")
    def _a_bound(self) -> BoundsTable:
        if self.min is None and self.max is None:
            raise problem("give min = X, max = Y or both, e.g. {max = 40}")
        if self.min is not None and self.max is not None and not self.min < self.max:
            raise problem(f"empty range: min ({self.min:g}) must be below max ({self.max:g})")
        return self


_Fail = Callable[[tuple, str], StudyError]
_Variable = Callable[[str, Any, Any, _Fail], Variable]


def check_tables(raw: Any, given: set[str]) -> None:
    """Refuse the search tables in a study of another kind, and a search without levers
    or objectives (``raw``: the study file's table, ``given``: the keys it set)."""
    if raw.kind != "search":
        for key in SEARCH_KEYS:
            if key in given:
                raise problem("only for kind = 'search'", key)
        return
    if not raw.levers:
        text = "a search needs at least one lever: [levers] with a domain per policy "
        raise problem(text + "parameter, e.g. audit_rate = {uniform = [0, 0.5]}", "levers")
    if not raw.objectives:
        text = "a search needs 2 or 3 objectives: [objectives] with an outcome = 'min' or "
        raise problem(text + "'max', e.g. faulty_share_mean = 'min'", "objectives")


def search_parts(raw: Any, variable: _Variable, err: _Fail, origin: str) -> dict[str, Any]:
    """The search's fields of a :class:`Study`: levers, objectives, constraints, settings,
    and its outcomes (the objectives', then the constraints' not among them)."""
    found_objectives = objectives(raw.objectives, err)
    found_constraints = constraints(raw.constraints, err, origin)
    names = [o.name for o in found_objectives]
    names += [c.name for c in found_constraints if c.name not in names]
    return {
        "levers": levers(raw.levers, tuple(raw.vary), raw.base, variable, err),
        "objectives": found_objectives,
        "constraints": found_constraints,
        "search": settings(raw.search),
        "outcomes": tuple(names),
    }


def _outcome(name: str, at: tuple, err: _Fail) -> str:
    if name not in SUMMARY_DESCRIPTIONS:
        hint = did_you_mean(name, SUMMARY_DESCRIPTIONS)
        raise err(
            at, f"{name!r} is not an outcome{hint}; outcomes: {', '.join(SUMMARY_DESCRIPTIONS)}"
        )
    return name


def levers(
    specs: dict[str, Any], vary: tuple[str, ...], base: Any, variable: _Variable, err: _Fail
) -> tuple[Variable, ...]:
    """The levers as :class:`Variable` domains; each a policy parameter not in ``[vary]``."""
    found = []
    for name, spec in specs.items():
        at = ("levers", name)
        if name not in _POLICY_PARAMETERS:
            group = next((f.group for f in config_fields() if f.name == name), None)
            if group is None:
                text = f"{name!r} is not a parameter{did_you_mean(name, _POLICY_PARAMETERS)}"
            else:
                text = f"{name!r} is a {group} parameter, not a policy lever"
            text += "; levers: "
            raise err(at, text + ", ".join(_POLICY_PARAMETERS))
        if name in vary:
            raise err(at, "also varied in [vary]: an uncertainty cannot be a lever too")
        lever = variable(name, spec, base, lambda loc, text: err(("levers", *loc[1:]), text))
        if lever.form in ("levels", "choice") and len(lever.values) < 2:
            raise err(at, "empty domain: give at least two values to choose from")
        found.append(lever)
    return tuple(found)


def objectives(specs: Any, err: _Fail) -> tuple[Objective, ...]:
    """The objectives, 2 or 3, each an outcome with ``"min"`` or ``"max"``."""
    if not isinstance(specs, dict):
        raise err(("objectives",), "expected a table of outcome = 'min' or 'max'")
    found = []
    for name, sense in specs.items():
        at = ("objectives", name)
        _outcome(name, at, err)
        if sense not in SENSES:
            raise err(at, f"expected 'min' or 'max', got {sense!r}")
        found.append(Objective(name, sense))
    if not MIN_OBJECTIVES <= len(found) <= MAX_OBJECTIVES:
        text = f"{len(found)} objective(s): a search takes 2 or 3 (one is a ranking, not a front)"
        raise err(("objectives",), text)
    return tuple(found)


def constraints(specs: Any, err: _Fail, origin: str) -> tuple[Constraint, ...]:
    """The constraints: an outcome each, bounded by ``min`` and/or ``max``."""
    if not isinstance(specs, dict):
        raise err(("constraints",), "expected a table of outcome = {max = X} or {min = X}")
    found = []
    for name, spec in specs.items():
        at = ("constraints", name)
        _outcome(name, at, err)
        if not isinstance(spec, dict):
            raise err(at, f"expected {{max = X}}, {{min = X}} or both, got {spec!r}")
        bounds = check(BoundsTable, spec, StudyError, origin, at)
        found.append(Constraint(name, bounds.min, bounds.max))
    return tuple(found)


def settings(table: SearchTable) -> SearchSettings:
    """The ``[search]`` table as plain settings."""
    return SearchSettings(
        table.algorithm, table.population, table.generations, table.score, table.quantile
    )
