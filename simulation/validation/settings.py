"""What a validation run does: sample sizes and sweep ranges, as data.

Two built-in presets: :func:`preset` ``(full=False)`` is the quick run (a minute or less,
what ``ppsim validate`` does), ``full=True`` the full-size run (study-size samples repeated
to measure interval coverage, networks of 10,000 systems as in Watts 2002). A study file
(``experiments/replicate-study.toml``, ``kind = "validation"``) describes the same thing;
its top-level sections are the quick run and ``[full.<section>]`` tables override keys for
``--full``. Every key is documented in ``docs/validation.md``.

Example:
    >>> quick = preset(full=False)
    >>> quick.threshold.n_systems, preset(full=True).threshold.n_systems
    (2000, 10000)
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from simulation.errors import SettingsError
from simulation.tomlfile import check_keys, read_toml
from simulation.validation.contagion import ProtectionSetup
from simulation.validation.study import STUDY_SAMPLE_SIZES


@dataclass(frozen=True)
class StudySettings:
    """Family 1: the study's cells."""

    sample_sizes: dict[str, int] = field(default_factory=lambda: dict(STUDY_SAMPLE_SIZES))
    repeats: int = 1
    alpha: float = 0.05


@dataclass(frozen=True)
class ThresholdSettings:
    """Family 2a: independent-cascade threshold on random regular and Erdos-Renyi graphs."""

    topologies: tuple[str, ...] = ("random-regular", "erdos-renyi")
    mean_degree: float = 4.0
    n_systems: int = 2000
    copies: int = 300
    factor_start: float = 0.5
    factor_stop: float = 2.0
    factor_points: int = 13
    below: float = 0.6
    above: float = 1.6
    large_share: float = 0.05


@dataclass(frozen=True)
class WattsSettings:
    """Family 2b: the Watts (2002) cascade window of the threshold rule."""

    theta: float = 0.18
    n_systems: int = 2000
    copies: int = 200
    mean_degrees: tuple[float, ...] = (0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 10.0)
    check_degrees: tuple[float, ...] = (0.5, 3.0, 4.0, 10.0)
    global_share: float = 0.1
    min_frequency: float = 0.01
    window_tolerance: float = 1.0


@dataclass(frozen=True)
class ProtectionSettings(ProtectionSetup):
    """Family 2c: how peer protection moves the threshold (in the set-up it inherits)."""

    n_systems: int = 1000
    copies: int = 200
    scales: tuple[float, ...] = (0.0, 1.0, 2.0)
    factor_start: float = 0.5
    factor_stop: float = 2.0
    factor_points: int = 11
    large_share: float = 0.05
    max_cycles: int = 20_000

    def setup(self) -> ProtectionSetup:
        """The set-up alone, without the sample sizes and sweep ranges."""
        names = (f.name for f in dataclasses.fields(ProtectionSetup))
        return ProtectionSetup(**{name: getattr(self, name) for name in names})


@dataclass(frozen=True)
class ValidationSettings:
    """A whole validation run."""

    seed: int = 20260330
    bootstrap: int = 200
    study: StudySettings = field(default_factory=StudySettings)
    threshold: ThresholdSettings = field(default_factory=ThresholdSettings)
    watts: WattsSettings = field(default_factory=WattsSettings)
    protection: ProtectionSettings = field(default_factory=ProtectionSettings)

    def with_seed(self, seed: int | None) -> ValidationSettings:
        return self if seed is None else dataclasses.replace(self, seed=seed)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


#: What ``--full`` changes in the quick preset, section by section.
FULL_OVERRIDES: dict[str, dict[str, Any]] = {
    "study": {"repeats": 200},
    "threshold": {"n_systems": 10_000, "copies": 400, "factor_points": 31},
    "watts": {
        "n_systems": 10_000,
        "copies": 150,
        "mean_degrees": (
            0.5,
            0.8,
            1.0,
            1.2,
            1.5,
            2.0,
            2.5,
            3.0,
            3.5,
            4.0,
            4.5,
            5.0,
            5.5,
            6.0,
            6.5,
            7.0,
            8.0,
            9.0,
            10.0,
            12.0,
        ),
    },
    "protection": {
        "n_systems": 2000,
        "copies": 400,
        "scales": (0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0),
        "factor_points": 16,
    },
}

_SECTIONS: dict[str, type] = {
    "study": StudySettings,
    "threshold": ThresholdSettings,
    "watts": WattsSettings,
    "protection": ProtectionSettings,
}
_TOP_KEYS = ("kind", "description", "seed", "bootstrap", "full", *_SECTIONS)


def _apply(settings: ValidationSettings, section: str, values: dict[str, Any], where: str):
    cls = _SECTIONS[section]
    current = getattr(settings, section)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    changes = {}
    check_keys(values, fields, f"{where}[{section}]", SettingsError)
    for key, value in values.items():
        changes[key] = _coerce(getattr(current, key), value, f"{where}[{section}].{key}")
    return dataclasses.replace(settings, **{section: dataclasses.replace(current, **changes)})


def _coerce(default: Any, value: Any, where: str) -> Any:
    """Check ``value`` has the type of ``default`` (numbers widen to float)."""
    if isinstance(default, bool):
        ok = isinstance(value, bool)
    elif isinstance(default, int):
        ok = isinstance(value, int) and not isinstance(value, bool) and value >= 0
    elif isinstance(default, float):
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        value = float(value) if ok else value
    elif isinstance(default, str):
        ok = isinstance(value, str) and bool(value.strip())
    elif isinstance(default, tuple):
        ok = isinstance(value, list) and len(value) > 0
        if ok:
            item = default[0] if default else 0.0
            value = tuple(_coerce(item, v, f"{where}[{i}]") for i, v in enumerate(value))
    elif isinstance(default, dict):
        ok = isinstance(value, dict)
        if ok:
            check_keys(value, default, where, SettingsError)
            value = {
                **default,
                **{k: _coerce(default[k], v, f"{where}.{k}") for k, v in value.items()},
            }
    else:  # pragma: no cover - every field has one of the types above
        ok = True
    if not ok:
        kind = type(default).__name__ if not isinstance(default, tuple) else "a non-empty list"
        raise SettingsError(f"{where}: expected {kind}, got {value!r}")
    return value


def _check(settings: ValidationSettings, where: str) -> ValidationSettings:
    """Ranges that the experiments need to make sense."""
    t, w, p = settings.threshold, settings.watts, settings.protection
    problems = []
    for name, value in (
        ("threshold.n_systems", t.n_systems),
        ("watts.n_systems", w.n_systems),
        ("protection.n_systems", p.n_systems),
    ):
        if value < 20:
            problems.append(f"{name} must be at least 20, got {value}")
    for name, value in (
        ("threshold.copies", t.copies),
        ("watts.copies", w.copies),
        ("protection.copies", p.copies),
        ("threshold.factor_points", t.factor_points),
        ("protection.factor_points", p.factor_points),
    ):
        if value < 3:
            problems.append(f"{name} must be at least 3, got {value}")
    for topology in t.topologies:
        if topology not in ("random-regular", "erdos-renyi"):
            problems.append(
                f"threshold.topologies: {topology!r} has no closed-form threshold here; "
                "use random-regular or erdos-renyi"
            )
    if p.topology not in ("random-regular", "erdos-renyi"):
        problems.append("protection.topology: use random-regular or erdos-renyi")
    if not 0 < t.factor_start < t.factor_stop or not 0 < p.factor_start < p.factor_stop:
        problems.append("factor_start must be > 0 and below factor_stop")
    if not 0 <= p.trust <= 1 or not 0 <= p.audit_rate <= 1 or not 0 <= p.audit_sensitivity <= 1:
        problems.append("protection.trust, audit_rate and audit_sensitivity must be in [0, 1]")
    if any(s < 0 for s in p.scales):
        problems.append("protection.scales must be >= 0")
    if not 0 < settings.study.alpha < 1:
        problems.append("study.alpha must be in (0, 1)")
    if settings.study.repeats < 1:
        problems.append("study.repeats must be at least 1")
    if any(n < 1 for n in settings.study.sample_sizes.values()):
        problems.append("study.sample_sizes must be at least 1")
    if problems:
        raise SettingsError(f"{where}{problems[0]}")
    return settings


def preset(full: bool = False) -> ValidationSettings:
    """The built-in quick run, or the full-size run."""
    settings = ValidationSettings()
    if full:
        for section, values in FULL_OVERRIDES.items():
            settings = dataclasses.replace(
                settings,
                **{section: dataclasses.replace(getattr(settings, section), **values)},
            )
    return settings


def load_settings(path: Path, full: bool = False) -> ValidationSettings:
    """Read a ``kind = "validation"`` study file; ``full`` applies its ``[full.*]`` tables."""
    path = Path(path)
    data = read_toml(path, SettingsError, f"--study: file {path} does not exist")
    where = f"{path}: "
    kind = data.get("kind")
    if kind != "validation":
        raise SettingsError(
            f"{where}kind = {kind!r}; 'ppsim validate --study' runs files with "
            'kind = "validation"'
        )
    check_keys(data, _TOP_KEYS, str(path), SettingsError)
    settings = ValidationSettings()
    for key in ("seed", "bootstrap"):
        if key in data:
            settings = dataclasses.replace(
                settings, **{key: _coerce(getattr(settings, key), data[key], f"{where}{key}")}
            )
    for section in _SECTIONS:
        if section in data:
            if not isinstance(data[section], dict):
                raise SettingsError(f"{where}[{section}] must be a table")
            settings = _apply(settings, section, data[section], where)
    overrides = data.get("full", {})
    if not isinstance(overrides, dict):
        raise SettingsError(f"{where}[full] must be a table of [full.<section>] tables")
    full_settings = settings
    check_keys(overrides, _SECTIONS, f"{where}[full]", SettingsError)
    for section, values in overrides.items():
        if not isinstance(values, dict):
            raise SettingsError(
                f"{where}[full.{section}]: expected one of "
                + ", ".join(f"[full.{s}]" for s in _SECTIONS)
            )
        full_settings = _apply(full_settings, section, values, f"{where}full.")
    _check(settings, where)
    _check(full_settings, f"{where}full.")
    return full_settings if full else settings
