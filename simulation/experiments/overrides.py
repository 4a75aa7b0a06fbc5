"""Command-line changes to a study (``--set``, ``--vary``, ``--replicates``, ...), applied
to its raw data before validation, and the parsing of ``--vary name=spec``."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from simulation.config import ConfigError, SimulationConfig, config_fields, parse_value
from simulation.errors import StudyError

_PARAMS = {f.name: f for f in config_fields()}


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
    search: dict[str, Any] = field(default_factory=dict)

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
            base = out.get("base")
            out["base"] = {**(base if isinstance(base, dict) else {}), **self.set_values}
        if self.vary:
            out["vary"] = {**vary, **self.vary}
        if self.search:
            table = out.get("search")
            out["search"] = {**(table if isinstance(table, dict) else {}), **self.search}
        for key in ("replicates", "seed", "design", "samples", "outcomes", "timeseries", "name"):
            value = getattr(self, key)
            if value is not None and value != []:
                out[key] = value
        return out


def given_once(pairs: Iterable[tuple[str, Any]], option: str) -> dict[str, Any]:
    """``(name, value)`` pairs of a repeatable option as a dict, refusing a name given twice
    (the later one would replace the earlier in silence)."""
    found: dict[str, Any] = {}
    for name, value in pairs:
        if name in found:
            how = f"give all its values in one {option}" if option == "--vary" else "give it once"
            raise StudyError(f"{option} {name}: given twice; {how}")
        found[name] = value
    return found


_DIST_RE = re.compile(r"^(uniform|loguniform|integers|choice)\((.*)\)$")


def parse_vary_option(item: str) -> tuple[str, Any]:
    """Parse ``--vary name=spec`` (``0:0.5:6``, ``0,0.5,1``, ``a;b``, one value or a
    distribution such as ``uniform(0,1)``) into a study ``[vary]`` entry."""
    where = f"--vary {item!r}"
    if "=" not in item:
        raise StudyError(f"{where}: expected name=values, e.g. --vary audit_rate=0:0.5:6")
    name, _, text = item.partition("=")
    name = name.strip().replace("-", "_")
    if name not in _PARAMS:
        raise StudyError(f"--vary: {SimulationConfig.unknown_key(name)}")
    text = text.strip()
    if not text:
        raise StudyError(f"{where}: empty list of values")

    def value(t: str) -> Any:
        try:
            return parse_value(name, t)
        except ConfigError as exc:
            raise StudyError(f"{where}: {str(exc).removeprefix(f'{name}: ')}") from None

    def number(t: str) -> float | int:
        try:
            x = float(t)
        except ValueError:
            raise StudyError(f"{where}: {t.strip()!r} is not a number") from None
        return int(x) if x.is_integer() and _PARAMS[name].spec.type_name == "int" else x

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
