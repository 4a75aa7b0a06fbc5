"""Study files: read a TOML study, validate every key before anything runs, and write the
resolved study back out.

A study names a base configuration, the parameters to vary (lists, ranges or
distributions), replicates, the outcomes to report and, for what-if studies, policy arms.
Every error names the file, the key and what was expected, with the closest valid name for
a typo. The format is documented in ``experiments/README.md``.

Example:
    >>> study = parse_study(
    ...     {"kind": "sweep", "replicates": 2, "vary": {"audit_rate": [0.0, 0.2]}}, "demo.toml"
    ... )
    >>> [v.values for v in study.vary]
    [(0.0, 0.2)]
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from simulation.config import (
    ConfigError,
    SimulationConfig,
    config_fields,
    field_kind,
    field_names,
    parse_value,
    unknown_name_message,
)
from simulation.errors import StudyError
from simulation.metrics import SUMMARY_DESCRIPTIONS
from simulation.output import name_problem
from simulation.profiles import ProfileError, available_profiles, resolve_mix
from simulation.tomlfile import check_keys, did_you_mean, read_toml

KINDS = ("sweep", "whatif", "sensitivity")
DESIGNS = ("factorial", "lhs")
METHODS = ("sobol", "morris")
BASELINE = "baseline"
DEFAULT_OUTCOMES = (
    "faulty_share_mean",
    "shielded_mean",
    "cascade_size_p95",
    "false_pass_rate",
    "human_hours_policy_per_cycle",
)
TOP_KEYS = (
    "name",
    "kind",
    "description",
    "seed",
    "replicates",
    "design",
    "samples",
    "outcomes",
    "timeseries",
    "base",
    "vary",
    "arms",
    "method",
    "sobol",
    "morris",
)
DISTRIBUTIONS = ("uniform", "loguniform", "integers", "choice")
_RANGE_FORMS = "a list [a, b, ...], {range = [start, stop], num = N}, {start, stop, step}"
_SPEC_FORMS = f"{_RANGE_FORMS}, or a distribution {{uniform|loguniform|integers|choice = ...}}"
MAX_RUNS = 1_000_000
"""The most runs one study may have (arms x scenarios x replicates). A run of 1,000
systems takes about a tenth of a second, so a million runs is a day of one core; a larger
design is almost always a typo, and expanding it alone would exhaust memory."""


def _field_kind(name: str) -> str:
    return field_kind({f.name: f for f in config_fields()}[name])


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _tidy(x: float) -> float:
    """Round a computed grid point to 12 significant digits (0.30000000000000004 -> 0.3)."""
    return float(f"{x:.12g}")


@dataclass(frozen=True)
class Variable:
    """One varied parameter: a list of levels, or a distribution to sample from.

    ``kind`` is ``levels`` (a list or a range), ``choice`` (equally likely values),
    ``uniform``, ``loguniform`` or ``integers`` (inclusive bounds ``low``..``high``).
    """

    name: str
    kind: str
    values: tuple[Any, ...] = ()
    low: float | int | None = None
    high: float | int | None = None

    @property
    def is_distribution(self) -> bool:
        return self.kind != "levels"

    def from_unit(self, u: np.ndarray) -> list[Any]:
        """Map points of the unit interval to values by the inverse CDF (used by LHS, SALib).

        Discrete levels (and ``choice``) are equally likely; ``integers`` are inclusive.
        """
        u = np.clip(np.asarray(u, dtype=np.float64), 0.0, 1.0)
        if self.kind in ("levels", "choice"):
            idx = np.minimum((u * len(self.values)).astype(np.int64), len(self.values) - 1)
            return [self.values[i] for i in idx]
        low, high = float(self.low), float(self.high)
        if self.kind == "uniform":
            return [float(x) for x in low + u * (high - low)]
        if self.kind == "loguniform":
            return [float(x) for x in np.exp(np.log(low) + u * (np.log(high) - np.log(low)))]
        span = int(self.high) - int(self.low) + 1
        return [int(self.low) + int(i) for i in np.minimum((u * span).astype(np.int64), span - 1)]

    def describe(self) -> str:
        """Short text for reports: ``[0, 0.1, 0.2]`` or ``uniform(0, 0.5)``."""
        if self.kind == "levels":
            return "[" + ", ".join(str(v) for v in self.values) + "]"
        if self.kind == "choice":
            return "choice(" + ", ".join(str(v) for v in self.values) + ")"
        return f"{self.kind}({self.low:g}, {self.high:g})"

    def to_spec(self) -> Any:
        """The resolved form as written to ``study.toml`` (ranges become explicit lists)."""
        if self.kind == "levels":
            return list(self.values)
        if self.kind == "choice":
            return {"choice": list(self.values)}
        return {self.kind: [self.low, self.high]}


@dataclass(frozen=True)
class Arm:
    """A policy arm of a what-if study: the fields it changes relative to the baseline."""

    name: str
    changes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Study:
    """A validated study. Build it with :func:`load_study` or :func:`parse_study`."""

    name: str
    kind: str
    base: SimulationConfig
    vary: tuple[Variable, ...] = ()
    arms: tuple[Arm, ...] = ()
    seed: int = 0
    replicates: int = 1
    design: str = "factorial"
    samples: int | None = None
    outcomes: tuple[str, ...] = DEFAULT_OUTCOMES
    timeseries: bool = False
    description: str = ""
    method: str = "sobol"
    sobol_samples: int = 64
    second_order: bool = False
    morris_trajectories: int = 10
    morris_levels: int = 4
    origin: str = ""

    @property
    def arm_names(self) -> tuple[str, ...]:
        """Arms in run order; the baseline first (a sweep has only the baseline)."""
        return (BASELINE, *(a.name for a in self.arms))

    @property
    def varied(self) -> tuple[str, ...]:
        return tuple(v.name for v in self.vary)

    def arm_changes(self, arm: str) -> dict[str, Any]:
        for a in self.arms:
            if a.name == arm:
                return dict(a.changes)
        return {}

    def with_method(self, method: str) -> Study:
        """The same sensitivity study analysed with another method (``sobol``/``morris``)."""
        if method not in METHODS:
            raise StudyError(
                f"--method: {method!r} is not allowed{did_you_mean(method, METHODS)}; "
                f"use one of {', '.join(METHODS)}"
            )
        return dataclasses.replace(self, method=method)

    def to_dict(self) -> dict[str, Any]:
        """The resolved study as plain data (TOML-writable; parses back to an equal study)."""
        data: dict[str, Any] = {
            "name": self.name,
            "kind": self.kind,
            "description": self.description,
            "seed": self.seed,
            "replicates": self.replicates,
        }
        if self.kind == "sensitivity":
            data["method"] = self.method
            data["sobol"] = {"samples": self.sobol_samples, "second_order": self.second_order}
            data["morris"] = {
                "trajectories": self.morris_trajectories,
                "levels": self.morris_levels,
            }
        else:
            data["design"] = self.design
            if self.samples is not None:
                data["samples"] = self.samples
        data["outcomes"] = list(self.outcomes)
        data["timeseries"] = self.timeseries
        data["base"] = self.base.to_dict()
        data["vary"] = {v.name: v.to_spec() for v in self.vary}
        if self.arms:
            data["arms"] = {a.name: dict(a.changes) for a in self.arms}
        return data

    def fingerprint(self) -> str:
        """Hash of everything that decides which runs exist and what they compute.

        Name, description and the outcomes to report are left out: changing them does not
        invalidate stored runs. The method's own settings count only for that method.
        """
        data = self.to_dict()
        for key in ("name", "description", "outcomes"):
            data.pop(key, None)
        if self.kind == "sensitivity":
            data.pop("sobol" if self.method == "morris" else "morris")
        text = json.dumps(data, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()

    def to_toml(self) -> str:
        """The resolved study as a TOML study file."""
        return dumps_toml(self.to_dict())


@dataclass
class Overrides:
    """Command-line changes applied to a study before validation."""

    set_values: dict[str, Any] = field(default_factory=dict)
    vary: dict[str, Any] = field(default_factory=dict)
    replicates: int | None = None
    seed: int | None = None
    design: str | None = None
    samples: int | None = None
    outcomes: list[str] | None = None
    timeseries: bool | None = None
    name: str | None = None

    def is_empty(self) -> bool:
        return not any(
            (
                self.set_values,
                self.vary,
                self.replicates is not None,
                self.seed is not None,
                self.design,
                self.samples is not None,
                self.outcomes,
                self.timeseries is not None,
                self.name,
            )
        )

    def apply(self, data: dict[str, Any]) -> dict[str, Any]:
        """A copy of raw study data with these changes merged in."""
        out = dict(data)
        vary = dict(out.get("vary") or {})
        for name in self.set_values:
            if name in vary or name in self.vary:
                raise StudyError(
                    f"--set {name}: {name} is also varied (by the study or --vary); to fix it "
                    f"to one value use --vary {name}=VALUE"
                )
        if self.set_values:
            base = out.get("base") or {}
            if not isinstance(base, dict):
                base = {}
            out["base"] = {**base, **self.set_values}
        if self.vary:
            out["vary"] = {**vary, **self.vary}
        for key in ("replicates", "seed", "design", "samples", "outcomes", "timeseries", "name"):
            value = getattr(self, key)
            if value is not None and value != []:
                out[key] = value
        return out


# --------------------------------------------------------------------------------------
# Reading and validating


def load_study(path: str | Path, overrides: Overrides | None = None) -> Study:
    """Read and validate a study file (with optional command-line overrides)."""
    path = Path(path)
    data = read_toml(path, StudyError, f"{path}: study file does not exist")
    if data.get("kind") == "validation":
        raise StudyError(f"{path}: a validation study; run it with 'ppsim validate {path}'")
    if "name" not in data:
        data["name"] = path.stem
    if overrides is not None:
        data = overrides.apply(data)
    return parse_study(data, str(path))


def inline_study(overrides: Overrides, kind: str = "sweep") -> Study:
    """A study built from command-line options alone (``ppsim sweep --vary ...``)."""
    data = overrides.apply({"kind": kind, "name": overrides.name or kind})
    study = parse_study(data, "command line")
    if not overrides.name:
        study = dataclasses.replace(study, name=f"{kind}-{study.fingerprint()[:8]}")
    return study


def parse_study(data: dict[str, Any], origin: str = "study") -> Study:
    """Validate raw study data (as read from TOML) into a :class:`Study`.

    Raises:
        StudyError: naming ``origin``, the key and what was expected.
    """

    def err(key: str, problem: str) -> StudyError:
        return StudyError(f"{origin}: {key}: {problem}")

    check_keys(data, TOP_KEYS, origin, StudyError)

    kind = data.get("kind", "sweep")
    if kind not in KINDS:
        raise err(
            "kind", f"{kind!r} is not allowed{did_you_mean(str(kind), KINDS)}; use {_or(KINDS)}"
        )
    name = data.get("name", "study")
    if problem := name_problem(name):
        raise err("name", problem)
    description = data.get("description", "")
    if not isinstance(description, str):
        raise err("description", f"expected a string, got {description!r}")
    seed = _int(data.get("seed", 0), "seed", err, low=0)
    replicates = _int(data.get("replicates", 1), "replicates", err, low=1)
    timeseries = data.get("timeseries", False)
    if not isinstance(timeseries, bool):
        raise err("timeseries", f"expected true or false, got {timeseries!r}")
    outcomes = _outcomes(data.get("outcomes", list(DEFAULT_OUTCOMES)), err)

    base = _base(data.get("base", {}), origin, err)
    vary = _vary(data.get("vary", {}), base, err)

    design, samples = "factorial", None
    method, sobol, morris = "sobol", {}, {}
    if kind == "sensitivity":
        for key in ("design", "samples"):
            if key in data:
                raise err(key, "not used by sensitivity studies; set method and [sobol]/[morris]")
        method = data.get("method", "sobol")
        if method not in METHODS:
            raise err(
                "method",
                f"{method!r} is not allowed{did_you_mean(str(method), METHODS)}; "
                f"use {_or(METHODS)}",
            )
        sobol = _table(data.get("sobol", {}), "sobol", ("samples", "second_order"), err, origin)
        morris = _table(data.get("morris", {}), "morris", ("trajectories", "levels"), err, origin)
        if not vary:
            raise err("vary", "a sensitivity study needs at least one parameter to vary")
    else:
        for key in ("method", "sobol", "morris"):
            if key in data:
                raise err(key, "only for kind = 'sensitivity'")
        design = data.get("design", "factorial")
        if design not in DESIGNS:
            raise err(
                "design",
                f"{design!r} is not allowed{did_you_mean(str(design), DESIGNS)}; "
                f"use {_or(DESIGNS)}",
            )
        if design == "lhs":
            if "samples" not in data:
                raise err("samples", "design = 'lhs' needs samples = N (scenarios to draw)")
            samples = _int(data["samples"], "samples", err, low=1)
        elif "samples" in data:
            raise err("samples", "only for design = 'lhs'")
        if design == "factorial":
            for v in vary:
                if v.is_distribution:
                    raise err(
                        f"vary.{v.name}",
                        "a distribution needs design = 'lhs' (with samples = N) or a "
                        f"sensitivity study; a factorial sweep takes {_RANGE_FORMS}",
                    )

    arms = _arms(data.get("arms"), kind, base, vary, origin, err)
    second_order = sobol.get("second_order", False)
    if not isinstance(second_order, bool):
        raise err("sobol.second_order", f"expected true or false, got {second_order!r}")
    study = Study(
        name=name,
        kind=kind,
        base=base,
        vary=vary,
        arms=arms,
        seed=seed,
        replicates=replicates,
        design=design,
        samples=samples,
        outcomes=outcomes,
        timeseries=timeseries,
        description=description,
        method=method,
        sobol_samples=_int(sobol.get("samples", 64), "sobol.samples", err, low=2),
        second_order=second_order,
        morris_trajectories=_int(morris.get("trajectories", 10), "morris.trajectories", err, low=2),
        morris_levels=_int(morris.get("levels", 4), "morris.levels", err, low=2),
        origin=origin,
    )
    if study.kind == "sensitivity":
        n = study.sobol_samples
        if n & (n - 1):
            lower = 1 << (n.bit_length() - 1)
            raise err(
                "sobol.samples",
                f"{n} is not a power of two (Sobol sequences need one); use {lower} or {lower * 2}",
            )
        if study.morris_levels % 2:
            raise err("morris.levels", f"expected an even number, got {study.morris_levels}")
    _check_size(study)
    if study.kind == "whatif" and scenario_count(study) * study.replicates < 2:
        raise err(
            "replicates",
            "a what-if study needs at least 2 paired runs per arm (scenarios x replicates) "
            "for a confidence interval",
        )
    _check_resources(study, err)
    return study


def _or(options: tuple[str, ...]) -> str:
    return "one of " + ", ".join(repr(o) for o in options)


def _int(value: Any, key: str, err, *, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise err(key, f"expected an integer >= {low}, got {value!r}")
    return value


def _table(value: Any, key: str, allowed: tuple[str, ...], err, origin: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise err(key, f"expected a table with keys {', '.join(allowed)}")
    check_keys(value, allowed, f"{origin}: [{key}]", StudyError)
    return value


def _outcomes(value: Any, err) -> tuple[str, ...]:
    known = tuple(SUMMARY_DESCRIPTIONS)
    if not isinstance(value, list) or not value:
        raise err("outcomes", "expected a non-empty list of outcome names")
    for i, name in enumerate(value):
        if not isinstance(name, str) or name not in known:
            raise err(
                f"outcomes[{i}]",
                f"unknown outcome {name!r}{did_you_mean(str(name), known)}; "
                f"known: {', '.join(known)}",
            )
    if len(set(value)) != len(value):
        raise err("outcomes", "an outcome is listed twice")
    return tuple(value)


def _config_message(exc: Exception, name: str) -> str:
    text = str(exc).splitlines()[0]
    return text[len(name) + 2 :] if text.startswith(f"{name}: ") else text


def _base(value: Any, origin: str, err) -> SimulationConfig:
    if not isinstance(value, dict):
        raise err("base", "expected a table of parameters, e.g. [base] n_systems = 1000")
    for name in value:
        if name not in field_names():
            raise StudyError(unknown_name_message(name, f"{origin}: base"))
    try:
        return SimulationConfig.from_mapping(dict(value))
    except ConfigError as exc:
        bad = str(exc).split(":", 1)[0]
        return _raise(err(f"base.{bad}", _config_message(exc, bad)))


def _raise(exc: Exception):
    raise exc


def _value(base: SimulationConfig, name: str, value: Any, key: str, err) -> Any:
    """Validate one value of field ``name`` against the base; return it in canonical type."""
    try:
        return getattr(base.replace(**{name: value}), name)
    except ConfigError as exc:
        raise err(key, _config_message(exc, name)) from None


def _vary(value: Any, base: SimulationConfig, err) -> tuple[Variable, ...]:
    if not isinstance(value, dict):
        raise err("vary", "expected a table: [vary] name = [values] or a range or distribution")
    out = []
    for name, spec in value.items():
        if name not in field_names():
            raise err(
                f"vary.{name}",
                f"unknown parameter{did_you_mean(name, field_names())}; "
                "see 'ppsim run --help' for the list",
            )
        out.append(_variable(name, spec, base, f"vary.{name}", err))
    return tuple(out)


def _variable(name: str, spec: Any, base: SimulationConfig, key: str, err) -> Variable:
    kind = _field_kind(name)
    if isinstance(spec, list):
        return Variable(name, "levels", _levels(name, spec, base, key, err))
    if not isinstance(spec, dict):
        raise err(key, f"expected {_SPEC_FORMS}; got {spec!r} (fixed values go in [base])")
    keys = set(spec)
    if keys == {"range", "num"} or keys == {"range"}:
        if "num" not in spec:
            raise err(key, "a range needs num = N points, e.g. {range = [0, 0.5], num = 6}")
        bounds = spec["range"]
        if not (isinstance(bounds, list) and len(bounds) == 2 and all(map(_is_number, bounds))):
            raise err(f"{key}.range", f"expected [start, stop] numbers, got {bounds!r}")
        num = spec["num"]
        if isinstance(num, bool) or not isinstance(num, int) or num < 1:
            raise err(f"{key}.num", f"empty range: expected an integer >= 2, got {num!r}")
        if num == 1 or bounds[0] == bounds[1]:
            raise err(key, "empty range: give distinct start and stop and num >= 2 (or a list)")
        _check_levels(num, key, err)
        points = [_tidy(x) for x in np.linspace(bounds[0], bounds[1], num)]
        if kind == "int":
            points = [int(p) if float(p).is_integer() else p for p in points]
        return Variable(name, "levels", _levels(name, points, base, key, err))
    if keys == {"start", "stop", "step"}:
        start, stop, step = spec["start"], spec["stop"], spec["step"]
        if not all(map(_is_number, (start, stop, step))):
            raise err(key, f"start, stop and step must be numbers, got {spec!r}")
        if step == 0 or (stop - start) / step < 0:
            raise err(
                key, f"empty range: start {start} to stop {stop} with step {step} has no values"
            )
        count = int(math.floor((stop - start) / step + 1e-9)) + 1
        _check_levels(count, key, err)
        points = [_tidy(start + i * step) for i in range(count)]
        if all(isinstance(x, int) for x in (start, stop, step)):
            points = [int(p) for p in points]
        return Variable(name, "levels", _levels(name, points, base, key, err))
    if len(keys) == 1 and next(iter(keys)) in DISTRIBUTIONS:
        return _distribution(name, kind, next(iter(keys)), spec, base, key, err)
    unknown = sorted(keys - {"range", "num", "start", "stop", "step"})
    hint = did_you_mean(unknown[0], (*DISTRIBUTIONS, "range")) if unknown else ""
    raise err(key, f"unknown form {sorted(keys)}{hint}; expected {_SPEC_FORMS}")


def _check_levels(count: int, key: str, err) -> None:
    """A range with more levels than a study may have runs is refused before it is built."""
    if count > MAX_RUNS:
        raise err(key, f"{count:,} values; the limit is {MAX_RUNS:,} runs per study")


def _levels(name: str, values: list, base: SimulationConfig, key: str, err) -> tuple:
    if not values:
        raise err(key, "empty list: give at least one value")
    out = tuple(_value(base, name, v, f"{key}[{i}]", err) for i, v in enumerate(values))
    if len(set(out)) != len(out):
        raise err(key, f"a value is listed twice in {list(out)}")
    return out


def _distribution(
    name: str, kind: str, dist: str, spec: dict, base: SimulationConfig, key: str, err
) -> Variable:
    args = spec[dist]
    where = f"{key}.{dist}"
    if dist == "choice":
        if not isinstance(args, list):
            raise err(where, f"expected a list of values, got {args!r}")
        return Variable(name, "choice", _levels(name, args, base, where, err))
    if kind in ("bool", "str"):
        raise err(where, f"{name} is not numeric; use choice = [...] or a list")
    if not (isinstance(args, list) and len(args) == 2 and all(map(_is_number, args))):
        raise err(where, f"expected [low, high] numbers, got {args!r}")
    low, high = args
    if dist == "integers":
        if kind != "int":
            raise err(where, f"{name} is not an integer parameter; use uniform = [low, high]")
        if not all(isinstance(a, int) for a in args):
            raise err(where, f"expected [low, high] integers, got {args!r}")
    elif kind == "int":
        raise err(where, f"{name} is an integer parameter; use integers = [low, high] or a list")
    if not low < high:
        raise err(where, f"empty range: low ({low}) must be below high ({high})")
    if dist == "loguniform" and low <= 0:
        raise err(where, f"loguniform needs low > 0, got {low}")
    low = _value(base, name, low, f"{where}[0]", err)
    high = _value(base, name, high, f"{where}[1]", err)
    return Variable(name, dist, (), low, high)


def _arms(
    value: Any, kind: str, base: SimulationConfig, vary: tuple[Variable, ...], origin: str, err
) -> tuple[Arm, ...]:
    if kind != "whatif":
        if value:
            raise err("arms", "policy arms are only for kind = 'whatif'")
        return ()
    if not isinstance(value, dict) or not value:
        raise err("arms", "a what-if study needs at least one arm: [arms.NAME] with parameters")
    varied = {v.name for v in vary}
    arms = []
    for arm_name, changes in value.items():
        key = f"arms.{arm_name}"
        if arm_name == BASELINE:
            raise err(key, f"{BASELINE!r} is the base configuration; give the arm another name")
        if problem := name_problem(arm_name):
            raise err(key, problem)
        if not isinstance(changes, dict):
            raise err(key, "expected a table of parameters, e.g. [arms.more-audits]")
        clean = {}
        for name, v in changes.items():
            if name not in field_names():
                raise StudyError(unknown_name_message(name, f"{origin}: {key}"))
            if name in varied:
                raise err(f"{key}.{name}", "also varied in [vary]; an arm cannot fix it")
            clean[name] = _value(base, name, v, f"{key}.{name}", err)
        try:
            base.replace(**clean)
        except ConfigError as exc:
            raise err(key, str(exc).splitlines()[0]) from None
        arms.append(Arm(arm_name, clean))
    return tuple(arms)


def scenario_count(study: Study) -> int:
    """How many scenarios the study's design makes, counted without drawing them.

    Sobol (Saltelli) samples ``N (D + 2)`` points, ``N (2D + 2)`` with second-order
    indices; Morris ``r (D + 1)`` for ``r`` trajectories of ``D`` parameters.
    """
    d = len(study.vary)
    if study.kind == "sensitivity":
        if study.method == "morris":
            return study.morris_trajectories * (d + 1)
        return study.sobol_samples * (2 * d + 2 if study.second_order else d + 2)
    if study.design == "lhs":
        return study.samples or 0
    return math.prod(len(v.values) for v in study.vary) if study.vary else 1


def run_count(study: Study) -> int:
    """How many runs the study has (arms x scenarios x replicates), by arithmetic alone."""
    return len(study.arm_names) * scenario_count(study) * study.replicates


def _check_size(study: Study) -> None:
    """Refuse a design beyond :data:`MAX_RUNS` before anything expands it."""
    runs = run_count(study)
    if runs > MAX_RUNS:
        arms = len(study.arm_names)
        parts = f"{scenario_count(study):,} scenarios x {study.replicates:,} replicates" + (
            f" x {arms} arms" if arms > 1 else ""
        )
        raise StudyError(
            f"{study.origin}: the design has {runs:,} runs ({parts}); the limit is "
            f"{MAX_RUNS:,} runs per study; use fewer values, samples or replicates"
        )


def _check_resources(study: Study, err) -> None:
    """Check every profile mix and graph file the study can use before anything runs."""
    mixes: dict[str, str] = {study.base.profile_mix: "base.profile_mix"}
    for v in study.vary:
        if v.name == "profile_mix":
            for i, mix in enumerate(v.values):
                mixes.setdefault(mix, f"vary.profile_mix[{i}]")
    for a in study.arms:
        if "profile_mix" in a.changes:
            mixes.setdefault(a.changes["profile_mix"], f"arms.{a.name}.profile_mix")
    profiles = available_profiles()
    for mix, key in mixes.items():
        try:
            resolve_mix(mix, profiles)
        except ProfileError as exc:
            raise err(key, _config_message(exc, "profile_mix")) from None
    files: dict[str, str] = {study.base.graph_file: "base.graph_file"}
    for v in study.vary:
        if v.name == "graph_file":
            for i, path in enumerate(v.values):
                files.setdefault(path, f"vary.graph_file[{i}]")
    for a in study.arms:
        if "graph_file" in a.changes:
            files.setdefault(a.changes["graph_file"], f"arms.{a.name}.graph_file")
    for path, key in files.items():
        if path and not Path(path).is_file():
            raise err(key, f"file {path} does not exist (paths are relative to where ppsim runs)")


# --------------------------------------------------------------------------------------
# Command-line forms


_DIST_RE = re.compile(r"^(uniform|loguniform|integers|choice)\((.*)\)$")


def parse_vary_option(item: str) -> tuple[str, Any]:
    """Parse ``--vary name=spec`` into a study ``[vary]`` entry.

    Forms: ``0:0.5:6`` (start:stop:count, inclusive), ``0,0.5,1`` (a list; use ``;`` to
    separate values that contain commas, like profile mixes), one value, or a distribution
    ``uniform(0,1)``, ``loguniform(0.001,0.01)``, ``integers(1,4)``, ``choice(a,b)``.
    """
    where = f"--vary {item!r}"
    if "=" not in item:
        raise StudyError(f"{where}: expected name=values, e.g. --vary audit_rate=0:0.5:6")
    name, _, text = item.partition("=")
    name = name.strip().replace("-", "_")
    if name not in field_names():
        raise StudyError(unknown_name_message(name, "--vary"))
    text = text.strip()
    if not text:
        raise StudyError(f"{where}: empty list of values")

    def value(t: str) -> Any:
        try:
            return parse_value(name, t)
        except ConfigError as exc:
            raise StudyError(f"{where}: {_config_message(exc, name)}") from None

    def number(t: str) -> float | int:
        try:
            x = float(t)
        except ValueError:
            raise StudyError(f"{where}: {t.strip()!r} is not a number") from None
        return int(x) if x.is_integer() and _field_kind(name) == "int" else x

    match = _DIST_RE.match(text)
    if match:
        dist, inner = match.groups()
        separator = ";" if dist == "choice" and ";" in inner else ","
        parts = [p for p in inner.split(separator) if p.strip()]
        if dist == "choice":
            return name, {"choice": [value(p) for p in parts]}
        if len(parts) != 2:
            raise StudyError(f"{where}: expected {dist}(low,high)")
        return name, {dist: [number(p) for p in parts]}
    if ":" in text:
        parts = text.split(":")
        if len(parts) != 3:
            raise StudyError(f"{where}: expected start:stop:count, e.g. 0:0.5:6")
        try:
            count = int(parts[2])
        except ValueError:
            raise StudyError(f"{where}: count {parts[2]!r} is not an integer") from None
        return name, {"range": [number(parts[0]), number(parts[1])], "num": count}
    separator = ";" if ";" in text else ","
    return name, [value(p) for p in text.split(separator) if p.strip()]


# --------------------------------------------------------------------------------------
# Writing TOML (the subset a resolved study needs)


def _toml_key(key: str) -> str:
    return key if re.match(r"^[A-Za-z0-9_-]+$", key) else json.dumps(key)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"cannot write {value!r} to a study file")
        text = repr(value)
        return text if any(c in text for c in ".en") else text + ".0"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        inner = ", ".join(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items())
        return "{ " + inner + " }" if inner else "{}"
    raise TypeError(f"cannot write {type(value).__name__} to TOML")


def dumps_toml(data: dict[str, Any]) -> str:
    """Write nested plain data as TOML: scalars first, then tables (``arms`` as sub-tables).

    TOML has no null: a value of None (an unset optional parameter) is left out.
    """

    def assignments(table: dict[str, Any]) -> list[str]:
        return [f"{_toml_key(k)} = {_toml_value(v)}" for k, v in table.items() if v is not None]

    lines = assignments({k: v for k, v in data.items() if not _is_table(v)})
    for key, value in data.items():
        if not _is_table(value):
            continue
        if key == "arms":
            for arm, changes in value.items():
                lines += ["", f"[arms.{_toml_key(arm)}]", *assignments(changes)]
            continue
        lines += ["", f"[{_toml_key(key)}]", *assignments(value)]
    return "\n".join(lines) + "\n"


def _is_table(value: Any) -> bool:
    return isinstance(value, dict)
