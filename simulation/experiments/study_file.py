"""Read a study file (or command-line options) into a :class:`~.study.Study`, checking every
key before anything runs; the format is documented in ``experiments/README.md``."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import numpy as np
from pydantic import Field, ValidationError, model_validator

from simulation.config import SimulationConfig, config_fields
from simulation.errors import PpsimError, StudyError
from simulation.experiments import search_file
from simulation.experiments import study as model
from simulation.experiments.overrides import (  # noqa: F401 - the public names of study files
    Overrides,
    given_once,
    parse_vary_option,
)
from simulation.experiments.study import (
    BASELINE,
    DEFAULT_OUTCOMES,
    DESIGNS,
    DISTRIBUTIONS,
    KINDS,
    METHODS,
    Arm,
    Study,
    Variable,
    check_size,
    scenario_count,
)
from simulation.metrics import SUMMARY_DESCRIPTIONS
from simulation.preflight import graph_nodes
from simulation.profiles import ProfileError, available_profiles, resolve_mix
from simulation.reports.output import name_problem
from simulation.schema import (
    FLAG,
    TEXT,
    Problem,
    Table,
    any_number,
    check,
    first_problem,
    integer,
    invalid,
    known_keys,
    many,
    one_of,
    pair,
    plain,
    problem,
)
from simulation.textfile import file_problem
from simulation.tomlfile import did_you_mean, read_toml

_RANGE_FORMS = "a list [a, b, ...], {range = [start, stop], num = N}, {start, stop, step}"
_SPEC_FORMS = f"{_RANGE_FORMS}, or a distribution {{uniform|loguniform|integers|choice = ...}}"
_PARAMS = {f.name: f for f in config_fields()}


def _tidy(x: float) -> float:
    """Round a computed grid point to 12 significant digits (0.30000000000000004 -> 0.3)."""
    return float(f"{x:.12g}")


def _values(value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise invalid(f"expected a list of values, got {value!r}")
    if not value:
        raise invalid("empty list: give at least one value")
    return value


class RangeForm(Table):
    """``{range = [start, stop], num = N}``: N evenly spaced points, both ends included."""

    range: pair("[start, stop] numbers")
    num: Any = None

    @model_validator(mode="after")
    def _not_empty(self) -> RangeForm:
        if self.num is None:
            raise invalid("a range needs num = N points, e.g. {range = [0, 0.5], num = 6}")
        if isinstance(self.num, bool) or not isinstance(self.num, int) or self.num < 1:
            raise problem(f"empty range: expected an integer >= 2, got {self.num!r}", "num")
        if self.num == 1 or self.range[0] == self.range[1]:
            raise invalid("empty range: give distinct start and stop and num >= 2 (or a list)")
        return self

    def count(self) -> int:
        return self.num

    def points(self, kind: str) -> list[Any]:
        points = [_tidy(x) for x in np.linspace(*self.range, self.num)]
        if kind == "int":
            return [int(p) if float(p).is_integer() else p for p in points]
        return points


class StepForm(Table):
    """``{start, stop, step}``: from start to stop (included if on the grid) by step."""

    start: plain(any_number)
    stop: plain(any_number)
    step: plain(any_number)

    @model_validator(mode="after")
    def _not_empty(self) -> StepForm:
        if self.step == 0 or (self.stop - self.start) / self.step < 0:
            raise invalid(
                f"empty range: start {self.start} to stop {self.stop} with step {self.step} "
                "has no values"
            )
        if not (self.stop - self.start) / self.step < model.MAX_RUNS:  # inf, too
            raise invalid(
                f"start {self.start} to stop {self.stop} with step {self.step} has more than "
                f"{model.MAX_RUNS:,} values; the limit is {model.MAX_RUNS:,} runs per study"
            )
        return self

    def count(self) -> int:
        return int(math.floor((self.stop - self.start) / self.step + 1e-9)) + 1

    def points(self, kind: str) -> list[Any]:
        points = [_tidy(self.start + i * self.step) for i in range(self.count())]
        if all(isinstance(x, int) for x in (self.start, self.stop, self.step)):
            return [int(p) for p in points]
        return points


class _Bounds(Table):
    """A distribution between two bounds, ``{<name> = [low, high]}``."""

    @property
    def name(self) -> str:
        return next(iter(type(self).model_fields))

    @property
    def bounds(self) -> tuple[Any, Any]:
        return getattr(self, self.name)

    @model_validator(mode="after")
    def _ordered(self) -> _Bounds:
        low, high = self.bounds
        if not low < high:
            raise problem(f"empty range: low ({low}) must be below high ({high})", self.name)
        if self.name == "loguniform" and low <= 0:
            raise problem(f"loguniform needs low > 0, got {low}", self.name)
        return self


class Uniform(_Bounds):
    uniform: pair("[low, high] numbers")


class LogUniform(_Bounds):
    loguniform: pair("[low, high] numbers")


class Integers(_Bounds):
    integers: pair("[low, high] integers", integers=True)


class Choice(Table):
    """``{choice = [a, b, ...]}``: equally likely values."""

    choice: plain(_values)


_FORMS: dict[str, type[Table]] = {
    **dict.fromkeys(("range", "num"), RangeForm),
    **dict.fromkeys(("start", "stop", "step"), StepForm),
    **{"uniform": Uniform, "loguniform": LogUniform, "integers": Integers, "choice": Choice},
}


def _vary_form(spec: Any) -> list[Any] | Table:
    """The form of one ``[vary]`` entry, told apart by its shape and keys, then checked."""
    if isinstance(spec, list):
        return _values(spec)
    if not isinstance(spec, dict):
        raise invalid(f"expected {_SPEC_FORMS}; got {spec!r} (fixed values go in [base])")
    forms = {_FORMS[key] for key in spec if key in _FORMS}
    if len(forms) != 1:
        unknown = sorted(set(spec) - {"range", "num", "start", "stop", "step"})
        hint = did_you_mean(unknown[0], (*DISTRIBUTIONS, "range")) if unknown else ""
        raise invalid(f"unknown form {sorted(spec)}{hint}; expected {_SPEC_FORMS}")
    return forms.pop().model_validate(spec)


class SobolTable(Table):
    samples: integer(2) = 64
    second_order: FLAG = False

    @model_validator(mode="after")
    def _power_of_two(self) -> SobolTable:
        n = self.samples
        if n & (n - 1):
            lower = 1 << (n.bit_length() - 1)
            text = f"{n} is not a power of two (Sobol sequences need one)"
            raise problem(f"{text}; use {lower} or {lower * 2}", "samples")
        return self


class MorrisTable(Table):
    trajectories: integer(2) = 10
    levels: integer(2) = 4

    @model_validator(mode="after")
    def _even(self) -> MorrisTable:
        if self.levels % 2:
            raise problem(f"expected an even number, got {self.levels}", "levels")
        return self


def _folder_name(value: Any) -> str:
    if found := name_problem(value):
        raise invalid(found)
    return value


class StudyFile(Table):
    """Every key of a study file; values of parameters are checked against the config."""

    name: plain(_folder_name) = "study"
    kind: one_of(*KINDS) = "sweep"
    description: TEXT = ""
    seed: integer(0) = 0
    replicates: integer(1) = 1
    design: one_of(*DESIGNS) = "factorial"
    samples: integer(1) = 1
    outcomes: many(one_of(*SUMMARY_DESCRIPTIONS), "a non-empty list of outcome names") = (
        DEFAULT_OUTCOMES
    )
    timeseries: FLAG = False
    base: SimulationConfig = Field(default_factory=SimulationConfig)
    vary: Annotated[
        dict[str, plain(_vary_form)], known_keys(_PARAMS, SimulationConfig.unknown_key)
    ] = {}
    arms: dict[str, dict[str, Any]] = {}
    levers: dict[str, plain(_vary_form)] = {}
    objectives: dict[str, Any] = {}
    constraints: dict[str, Any] = {}
    search: search_file.SearchTable = search_file.SearchTable()
    method: one_of(*METHODS) = "sobol"
    sobol: SobolTable = SobolTable()
    morris: MorrisTable = MorrisTable()

    @model_validator(mode="after")
    def _fits_kind(self) -> StudyFile:
        given = self.model_fields_set
        if len(set(self.outcomes)) != len(self.outcomes):
            raise problem("an outcome is listed twice", "outcomes")
        if self.kind == "sensitivity":
            text = "not used by sensitivity studies; set method and [sobol]/[morris]"
            for key in ("design", "samples"):
                if key in given:
                    raise problem(text, key)
            if not self.vary:
                raise problem("a sensitivity study needs at least one parameter to vary", "vary")
        else:
            for key in ("method", "sobol", "morris"):
                if key in given:
                    raise problem("only for kind = 'sensitivity'", key)
            if self.design == "lhs" and "samples" not in given:
                raise problem("design = 'lhs' needs samples = N (scenarios to draw)", "samples")
            if self.design == "factorial" and "samples" in given:
                raise problem("only for design = 'lhs'", "samples")
            for name, spec in self.vary.items():
                if self.design == "factorial" and not isinstance(spec, list | RangeForm | StepForm):
                    text = "a distribution needs design = 'lhs' (with samples = N) or a "
                    text += f"sensitivity study; a factorial sweep takes {_RANGE_FORMS}"
                    raise problem(text, "vary", name)
        search_file.check_tables(self, given)
        if self.kind not in ("whatif", "search") and self.arms:
            raise problem("policy arms are only for kind = 'whatif' (or 'search')", "arms")
        if self.kind == "whatif" and not self.arms:
            raise problem(
                "a what-if study needs at least one arm: [arms.NAME] with parameters", "arms"
            )
        return self


def load_study(
    path: str | Path, overrides: Overrides | None = None, *, stored: bool = False
) -> Study:
    """Read and validate a study file (with optional command-line overrides).

    ``stored``: ``path`` is the ``study.toml`` of a results folder, which lists every
    parameter, so listing one no run uses says nothing there. Every one written since
    ``calibration`` exists names it; one that does not was run with the profiles' point
    numbers, so it reads as ``calibration = "point"`` (where a study file without it gets
    :data:`STUDY_CALIBRATION`), and its identity (fingerprint) stays what it was run as.
    """
    path = Path(path)
    data = read_toml(path, StudyError, "study file")
    if data.get("kind") == "validation":
        raise StudyError(f"{path}: a validation study; run it with 'ppsim validate {path}'")
    data.setdefault("name", path.stem)
    if stored:
        data = with_calibration(data, "point")
    if overrides is not None:
        data = overrides.apply(data)
    study = parse_study(data, str(path))
    if not stored:
        refuse_unused(study, data.get("base"))
    return study


def inline_study(overrides: Overrides, kind: str = "sweep") -> Study:
    """A study built from command-line options alone (``ppsim sweep --vary ...``)."""
    data = overrides.apply({"kind": kind, "name": overrides.name or kind})
    study = parse_study(data, "command line")
    refuse_unused(study, data.get("base"))
    if not overrides.name:
        study = dataclasses.replace(study, name=f"{kind}-{study.fingerprint()[:8]}")
    return study


def refuse_unused(study: Study, base: Any) -> None:
    """Refuse ``n_systems`` where every run reads its systems from a graph file, and
    ``graph_file`` where no run has ``topology = 'file'``: a value that no run uses would
    otherwise be accepted in silence. ``base`` is the study's [base] as written."""
    topologies = study.topologies
    given: dict[str, list[tuple]] = {"n_systems": [], "graph_file": []}
    for name in given:
        if isinstance(base, dict) and base.get(name, "") != "":
            given[name].append(("base", name))
    for v in study.vary:
        if v.name in given:
            given[v.name].append(("vary", v.name))
    for a in study.arms:
        for name in given:
            if name in a.changes:
                given[name].append(("arms", a.name, name))
    if topologies == {"file"} and given["n_systems"]:
        text = "not used: every run reads its systems from graph_file (topology = 'file')"
        raise StudyError(
            Problem(given["n_systems"][0], f"{text}; leave it out").message(study.origin)
        )
    if "file" not in topologies and given["graph_file"]:
        text = "not used: no run has topology = 'file'; set topology = 'file' to read it"
        raise StudyError(
            Problem(given["graph_file"][0], f"{text}, or leave it out").message(study.origin)
        )


_Fail = Callable[[tuple, str], StudyError]

STUDY_CALIBRATION = "posterior"
"""The ``calibration`` of a study whose ``[base]`` does not set it: a study's verdicts
should carry the uncertainty of the profiles' numbers (a single ``ppsim run`` and the
Python model default to ``"point"``)."""


def with_calibration(data: dict[str, Any], calibration: str) -> dict[str, Any]:
    """Raw study data whose ``[base]`` sets ``calibration``: as given, else ``calibration``
    (a ``[base]`` that is not a table is left for validation to refuse)."""
    base = data.get("base", {})
    if not isinstance(base, dict) or "calibration" in base:
        return data
    return {**data, "base": {**base, "calibration": calibration}}


def parse_study(data: dict[str, Any], origin: str = "study") -> Study:
    """Validate raw study data (as read from TOML) into a :class:`Study`, or raise a
    :class:`StudyError` naming ``origin``, the key and what was expected. A ``[base]``
    without ``calibration`` gets :data:`STUDY_CALIBRATION`."""
    raw = check(StudyFile, with_calibration(data, STUDY_CALIBRATION), StudyError, origin)

    def err(loc: tuple, text: str) -> StudyError:
        return StudyError(Problem(loc, text).message(origin))

    vary = tuple(_variable(name, spec, raw.base, err) for name, spec in raw.vary.items())
    arms = tuple(_arm(arm, changes, raw, origin, err) for arm, changes in raw.arms.items())
    copied = ("name", "kind", "seed", "replicates", "design", "outcomes", "timeseries", "method")
    if raw.kind == "search":
        searched = search_file.search_parts(raw, _variable, err, origin)
        copied = tuple(key for key in copied if key != "outcomes")
    else:
        searched = {}
    study = Study(
        **searched,
        **{key: getattr(raw, key) for key in (*copied, "base", "description")},
        vary=vary,
        arms=arms,
        samples=raw.samples if raw.design == "lhs" and raw.kind != "sensitivity" else None,
        sobol_samples=raw.sobol.samples,
        second_order=raw.sobol.second_order,
        morris_trajectories=raw.morris.trajectories,
        morris_levels=raw.morris.levels,
        origin=origin,
    )
    check_size(study)
    if study.kind == "whatif" and scenario_count(study) * study.replicates < 2:
        raise err(
            ("replicates",),
            "a what-if study needs at least 2 paired runs per arm (scenarios x replicates) "
            "for a confidence interval",
        )
    _check_resources(study, err)
    return study


def _value(base: SimulationConfig, name: str, value: Any, at: tuple, err: _Fail) -> Any:
    """Validate one value of parameter ``name`` against the base; return it in its type."""
    try:
        return getattr(SimulationConfig.model_validate({**base.to_dict(), name: value}), name)
    except ValidationError as exc:
        found = first_problem(exc)
        text = found.text if found.loc == (name,) else f"{found.where}: {found.text}"
        raise err(at, text) from None


def _levels(name: str, values: list, base: SimulationConfig, at: tuple, err: _Fail) -> tuple:
    out = tuple(_value(base, name, v, (*at, i), err) for i, v in enumerate(values))
    if len(set(out)) != len(out):
        raise err(at, f"a value is listed twice in {list(out)}")
    return out


def _variable(name: str, spec: Any, base: SimulationConfig, err: _Fail) -> Variable:
    kind = _PARAMS[name].spec.type_name
    at = ("vary", name)
    if isinstance(spec, list):
        return Variable(name, "levels", _levels(name, spec, base, at, err))
    if isinstance(spec, RangeForm | StepForm):
        if spec.count() > model.MAX_RUNS:
            raise err(
                at, f"{spec.count():,} values; the limit is {model.MAX_RUNS:,} runs per study"
            )
        return Variable(name, "levels", _levels(name, spec.points(kind), base, at, err))
    if isinstance(spec, Choice):
        return Variable(name, "choice", _levels(name, spec.choice, base, (*at, "choice"), err))
    at = (*at, spec.name)
    if kind in ("bool", "str"):
        raise err(at, f"{name} is not numeric; use choice = [...] or a list")
    if spec.name == "integers" and kind != "int":
        raise err(at, f"{name} is not an integer parameter; use uniform = [low, high]")
    if spec.name != "integers" and kind == "int":
        raise err(at, f"{name} is an integer parameter; use integers = [low, high] or a list")
    low, high = (_value(base, name, x, (*at, i), err) for i, x in enumerate(spec.bounds))
    return Variable(name, spec.name, (), low, high)


def _arm(arm: str, changes: dict[str, Any], raw: StudyFile, origin: str, err: _Fail) -> Arm:
    at = ("arms", arm)
    if arm == BASELINE:
        raise err(at, f"{BASELINE!r} is the base configuration; give the arm another name")
    if raw.kind == "search" and arm.startswith(search_file.CANDIDATE_PREFIX):
        raise err(at, f"names starting {search_file.CANDIDATE_PREFIX!r} are the candidates'")
    if found := name_problem(arm):
        raise err(at, found)
    if not changes:
        raise err(
            at, "empty: an arm changes at least one parameter of [base], e.g. audit_rate = 0.2"
        )
    for name in changes:
        if name in raw.vary:
            raise err((*at, name), "also varied in [vary]; an arm cannot fix it")
    config = check(SimulationConfig, {**raw.base.to_dict(), **changes}, StudyError, origin, at)
    return Arm(arm, {name: getattr(config, name) for name in changes})


def _check_resources(study: Study, err: _Fail) -> None:
    """Check every profile mix and graph file the study can use before anything runs."""
    for name, problem_of in (("profile_mix", _mix_problem), ("graph_file", _file_problem)):
        places: dict[Any, tuple] = {getattr(study.base, name): ("base", name)}
        for v in study.vary:
            if v.name == name:
                for i, value in enumerate(v.values):
                    places.setdefault(value, ("vary", name, i))
        for a in study.arms:
            if name in a.changes:
                places.setdefault(a.changes[name], ("arms", a.name, name))
        for value, loc in places.items():
            if found := problem_of(value):
                raise err(loc, found)


def _mix_problem(mix: str) -> str | None:
    try:
        resolve_mix(mix, available_profiles())
    except ProfileError as exc:
        return str(exc).splitlines()[0].removeprefix("profile_mix: ")
    return None


def _file_problem(path: str) -> str | None:
    problem = file_problem(path) if path else None
    if problem == "does not exist":
        return f"file {path} does not exist (paths are relative to where ppsim runs)"
    if problem:
        return f"file {path} {problem}"
    if path:
        try:
            graph_nodes(path)  # the contents, too: a graph no run can read fails every run
        except PpsimError as exc:
            return str(exc).splitlines()[0].removeprefix("graph_file: ")
    return None
