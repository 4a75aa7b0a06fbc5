"""What a validation run does: sample sizes and sweep ranges, as data.

:func:`preset` gives the quick run (``ppsim validate``) or the full-size one (``--full``:
study-size samples repeated to measure interval coverage, networks of 10,000 systems as in
Watts 2002). A ``kind = "validation"`` study file describes the same, its ``[full.<section>]``
tables overriding keys for ``--full``; every key is documented in ``docs/validation.md``.

Example:
    >>> quick = preset(full=False)
    >>> quick.threshold.n_systems, preset(full=True).threshold.n_systems
    (2000, 10000)
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, model_validator

from simulation.errors import SettingsError
from simulation.schema import (
    TEXT,
    Table,
    check,
    integer,
    known_keys,
    many,
    number,
    one_of,
    problem,
    text,
)
from simulation.tomlfile import read_toml
from simulation.validation.paper import PAPER_SAMPLE_SIZES
from simulation.validation.protection import ProtectionSetup

#: Topologies with a closed-form outbreak threshold.
CLOSED_FORM = one_of("random-regular", "erdos-renyi")
SYSTEMS = integer(20)  # enough systems for a share of them to mean something
COUNT = integer(3)  # copies and sweep points: a mean and a curve need a few
SHARE = number(0, 1, open=True)  # a share of the systems: 0 or 1 would make no cut
DEGREE = number(1, open=True)  # at most 1, 1/z >= 1: no epidemic threshold to find


class StudySettings(Table):
    """Family 1: the study's cells."""

    sample_sizes: Annotated[dict[str, integer(1)], known_keys(PAPER_SAMPLE_SIZES)] = Field(
        default_factory=lambda: dict(PAPER_SAMPLE_SIZES)
    )
    repeats: integer(1) = 1
    alpha: number(0, 1, open=True) = 0.05


def _graphs_buildable[T: Table](settings: T, topologies: tuple[str, ...]) -> T:
    """``settings`` if graphs of its ``mean_degree`` and ``n_systems`` can be built for
    ``topologies`` with a threshold below 1, else the problem with ``mean_degree``."""
    z, n = settings.mean_degree, settings.n_systems
    if "random-regular" in topologies and round(z) < 3:
        text = f"{z!r}: random-regular needs k = round(mean_degree) >= 3 (T_c = 1/(k - 1) < 1)"
        raise problem(text, "mean_degree")
    if z > n - 1:
        raise problem(f"{z!r} is too high for {n} systems; use at most {n - 1}", "mean_degree")
    return settings


class _Sweep(Table):
    """A sweep of beta from ``factor_start`` to ``factor_stop`` times a threshold."""

    factor_start: number(0, open=True) = 0.5
    factor_stop: number() = 2.0
    factor_points: COUNT = 13
    large_share: SHARE = 0.05

    @model_validator(mode="after")
    def _ordered(self) -> _Sweep:
        if not self.factor_start < self.factor_stop:
            text = f"{self.factor_start!r} must be below factor_stop ({self.factor_stop!r})"
            raise problem(text, "factor_start")
        return self


class ThresholdSettings(_Sweep):
    """Family 2a: independent-cascade threshold on random regular and Erdos-Renyi graphs."""

    topologies: many(CLOSED_FORM) = ("random-regular", "erdos-renyi")
    mean_degree: DEGREE = 4.0
    n_systems: SYSTEMS = 2000
    copies: COUNT = 300
    below: number(0, 1, open=True) = 0.6  # the mean-size formula holds below T_c
    above: number(1, open=True) = 1.6  # the outbreak-probability formula, above it

    @model_validator(mode="after")
    def _buildable(self) -> ThresholdSettings:
        return _graphs_buildable(self, self.topologies)


class WattsSettings(Table):
    """Family 2b: the Watts (2002) cascade window of the threshold rule."""

    # the first-order theory has a cascade window (within mean degrees 0.05 to 40) for
    # these thresholds only: none above 1/4, one beyond 40 below 1/25
    theta: number(0.04, 0.25) = 0.18
    n_systems: SYSTEMS = 2000
    copies: COUNT = 200
    mean_degrees: many(number(0)) = (0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 10.0)
    check_degrees: many(number(0)) = (0.5, 3.0, 4.0, 10.0)
    global_share: SHARE = 0.1
    min_frequency: number(0, 1, open="low") = 0.01
    window_tolerance: number(0) = 1.0

    @model_validator(mode="after")
    def _buildable(self) -> WattsSettings:
        for key in ("mean_degrees", "check_degrees"):
            for i, z in enumerate(getattr(self, key)):
                if z > self.n_systems - 1:
                    text = f"{z!r} is too high for {self.n_systems} systems"
                    raise problem(f"{text}; use at most {self.n_systems - 1}", key, i)
        return self


class ProtectionSettings(_Sweep):
    """Family 2c: how peer protection moves the threshold, in a :class:`ProtectionSetup`."""

    profile_mix: text(blank=False) = ProtectionSetup.profile_mix
    trust: number(0, 1) = ProtectionSetup.trust
    audit_rate: number(0, 1) = ProtectionSetup.audit_rate
    audit_sensitivity: number(0, 1) = ProtectionSetup.audit_sensitivity
    topology: CLOSED_FORM = ProtectionSetup.topology
    mean_degree: DEGREE = ProtectionSetup.mean_degree
    n_systems: SYSTEMS = 1000
    copies: COUNT = 200
    scales: many(number(0)) = (0.0, 1.0, 2.0)
    factor_points: COUNT = 11
    max_cycles: integer(1) = 20_000

    @model_validator(mode="after")
    def _buildable(self) -> ProtectionSettings:
        return _graphs_buildable(self, (self.topology,))

    def setup(self) -> ProtectionSetup:
        """The set-up alone, without the sample sizes and sweep ranges."""
        names = (f.name for f in dataclasses.fields(ProtectionSetup))
        return ProtectionSetup(**{name: getattr(self, name) for name in names})


class ValidationSettings(Table):
    """A whole validation run."""

    seed: integer(0) = 20260330
    bootstrap: integer(1) = 200
    study: StudySettings = StudySettings()
    threshold: ThresholdSettings = ThresholdSettings()
    watts: WattsSettings = WattsSettings()
    protection: ProtectionSettings = ProtectionSettings()

    def with_seed(self, seed: int | None) -> ValidationSettings:
        return self if seed is None else self.model_copy(update={"seed": seed})

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump()


#: What ``--full`` changes in the quick preset, section by section.
FULL_OVERRIDES: dict[str, dict[str, Any]] = {
    "study": {"repeats": 200},
    "threshold": {"n_systems": 10_000, "copies": 400, "factor_points": 31},
    "watts": {
        "n_systems": 10_000,
        "copies": 150,
        "mean_degrees": (0.5, 0.8, 1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5.0)
        + (5.5, 6.0, 6.5, 7.0, 8.0, 9.0, 10.0, 12.0),
    },
    "protection": {
        "n_systems": 2000,
        "copies": 400,
        "scales": (0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0),
        "factor_points": 16,
    },
}


class _FullTables(Table):
    """``[full.<section>]``: keys to change for ``--full``, checked once merged."""

    study: dict[str, Any] = {}
    threshold: dict[str, Any] = {}
    watts: dict[str, Any] = {}
    protection: dict[str, Any] = {}


class SettingsFile(ValidationSettings):
    """Every key of a ``kind = "validation"`` study file."""

    kind: one_of("validation")
    description: TEXT = ""
    full: _FullTables = _FullTables()


def _merged(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """``base`` with ``changes`` in it, table by table."""
    merged = dict(base)
    for key, value in changes.items():
        inner = isinstance(value, dict) and isinstance(base.get(key), dict)
        merged[key] = _merged(base[key], value) if inner else value
    return merged


def preset(full: bool = False) -> ValidationSettings:
    """The built-in quick run, or the full-size run."""
    settings = ValidationSettings()
    if full:
        return check(ValidationSettings, _merged(settings.to_dict(), FULL_OVERRIDES), SettingsError)
    return settings


def load_settings(path: Path, full: bool = False) -> ValidationSettings:
    """Read a ``kind = "validation"`` study file; ``full`` applies its ``[full.*]`` tables."""
    path = Path(path)
    data = read_toml(path, SettingsError, "--study: file")
    if data.get("kind") != "validation":
        raise SettingsError(
            f"{path}: kind = {data.get('kind')!r}; 'ppsim validate --study' runs files with "
            'kind = "validation"'
        )
    found = check(SettingsFile, data, SettingsError, str(path))
    quick = ValidationSettings(
        **{name: getattr(found, name) for name in ValidationSettings.model_fields}
    )
    changes = _merged(quick.to_dict(), found.full.model_dump())
    larger = check(ValidationSettings, changes, SettingsError, str(path), ("full",))
    return larger if full else quick
