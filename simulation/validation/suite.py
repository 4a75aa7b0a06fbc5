"""Run every validation check and gather the results into one table.

:func:`run_validation` runs the two families (the study's cells, network contagion theory)
as the settings say and returns a :class:`ValidationResult`: the raw results for the report
and ``validation.json``, and :meth:`ValidationResult.rows`, one :class:`CheckRow` per line of
the printed table.

Each row compares an expected value (the study's, or the theory's) with the simulated one
and an interval from the simulation's sampling error. Its verdict is ``yes`` when the
expected value lies in the 95 % interval; ``yes*`` when it lies only in the family-wise
interval (Bonferroni over all rows that rest on a sampling interval: with dozens of such
rows a few 95 % misses are expected by chance alone); ``NO`` otherwise. Threshold-location
rows use the bootstrap error of the variability peak plus the critical window of a finite
graph instead (``yes``/``NO``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from simulation.errors import PaperDataError
from simulation.profiles import available_profiles
from simulation.validation import contagion
from simulation.validation.paper import (
    CellResult,
    PaperCell,
    read_paper_cells,
    simulate_cell,
    unreported_cells,
)
from simulation.validation.protection import ProtectionResult, protection_sweep
from simulation.validation.settings import ValidationSettings
from simulation.validation.stats import Z95, family_z, wilson

Progress = Callable[[int], None]

BEHAVIOUR_LABEL = {
    "misrepresentation": "misrep.",
    "tampering": "tampering",
    "exfiltration": "exfiltration",
    "refusal": "refusal",
    "alignment_faking": "align. faking",
    "self_tampering": "self-tampering",
    "self_exfiltration": "self-exfiltration",
}


@dataclass
class CheckRow:
    """One line of the validation table."""

    family: str
    check: str
    expected: str
    simulated: str
    interval: str
    n: str
    verdict: str

    def to_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass
class ValidationResult:
    """Everything a validation run measured."""

    settings: ValidationSettings
    full: bool
    cells: list[CellResult]
    unreported: list[dict]
    thresholds: list[contagion.ThresholdResult]
    watts: contagion.WattsResult
    protection: ProtectionResult
    elapsed: float = 0.0
    family_z: float = field(default=Z95)
    timings: dict[str, float] = field(default_factory=dict)

    # --- the table -------------------------------------------------------------------------
    def rows(self) -> list[CheckRow]:
        """The printed table: study cells, unreported cells, then the contagion checks."""
        return self.study_rows() + self.unreported_rows() + self.contagion_rows()

    def study_rows(self) -> list[CheckRow]:
        rows = []
        for r in self.cells:
            c = r.cell
            unit = "pp" if c.is_difference else "%"
            expected = f"<= {100 * c.rate:.1f} %" if c.upper_bound else f"{100 * c.rate:.1f} {unit}"
            rows.append(
                CheckRow(
                    family="study",
                    check=f"{c.model} · {BEHAVIOUR_LABEL[c.behaviour]} · {c.relationship}",
                    expected=expected,
                    simulated=f"{100 * r.simulated:.1f} {unit}",
                    interval=f"[{100 * r.low:.1f}, {100 * r.high:.1f}]",
                    n=str(r.n),
                    verdict=_verdict(r.inside, r.inside_family),
                )
            )
        return rows

    def unreported_rows(self) -> list[CheckRow]:
        by_model: dict[str, dict[str, list[str]]] = {}
        for u in self.unreported:
            by_model.setdefault(u["model"], {}).setdefault(u["behaviour"], []).append(
                u["relationship"]
            )
        rows = []
        for model, behaviours in by_model.items():
            parts = []
            for behaviour, buckets in behaviours.items():
                which = "x3" if len(buckets) == 3 else "+".join(buckets)
                parts.append(f"{BEHAVIOUR_LABEL[behaviour]} {which}")
            rows.append(
                CheckRow(
                    family="not reported",
                    check=f"{model} (not reported)",
                    expected=", ".join(parts),
                    simulated="assumed",
                    interval="",
                    n="",
                    verdict="-",
                )
            )
        return rows

    def contagion_rows(self) -> list[CheckRow]:
        rows: list[CheckRow] = []
        fz = self.family_z
        for t in self.thresholds:
            name = _graph_name(t.topology, t.mean_degree)
            formula = "1/(k-1)" if t.topology == "random-regular" else "1/z"
            size = f"{t.copies}x{t.n}"
            rows.append(
                _location_row(
                    f"{name}: threshold T_c",
                    f"{formula} = {t.t_c:.3f}",
                    t.transition,
                    t.t_c,
                    t.tolerance,
                    size,
                )
            )
            b = t.below
            half, fhalf = Z95 * b.mean_size_se, fz * b.mean_size_se
            rows.append(
                CheckRow(
                    family="contagion",
                    check=f"{name}: mean size at {b.factor:g} T_c",
                    expected=f"{b.mean_size_seeds:.2f}",
                    simulated=f"{b.mean_size:.2f}",
                    interval=f"[{b.mean_size - half:.2f}, {b.mean_size + half:.2f}]",
                    n=size,
                    verdict=_verdict(
                        abs(b.mean_size - b.mean_size_seeds) <= half,
                        abs(b.mean_size - b.mean_size_seeds) <= fhalf,
                    ),
                )
            )
            a = t.above
            flo, fhi = wilson(round(a.p_large * t.copies), t.copies, fz)
            rows.append(
                CheckRow(
                    family="contagion",
                    check=f"{name}: P(outbreak) at {a.factor:g} T_c",
                    expected=f"{a.p_large_seeds:.3f}",
                    simulated=f"{a.p_large:.3f}",
                    interval=f"[{a.p_large_low:.3f}, {a.p_large_high:.3f}]",
                    n=size,
                    verdict=_verdict(
                        a.p_large_low <= a.p_large_seeds <= a.p_large_high,
                        flo <= a.p_large_seeds <= fhi,
                    ),
                )
            )
        w = self.watts
        lo, hi = w.observed_window
        rows.append(
            CheckRow(
                family="contagion",
                check=f"Watts theta={w.theta:g}: cascade window (z)",
                expected=f"{w.window[0]:.2f} to {w.window[1]:.2f}",
                simulated=f"{lo:g} to {hi:g}",
                interval=f"edges +-{w.tolerance:g}",
                n=f"{w.copies}x{w.n}",
                verdict="yes" if w.window_agrees else "NO",
            )
        )
        for z in self.settings.watts.check_degrees:
            i = w.mean_degrees.index(float(z))
            hits = round(w.frequency[i] * w.copies)
            flo, fhi = wilson(hits, w.copies, fz)
            rows.append(
                CheckRow(
                    family="contagion",
                    check=f"Watts: P(global cascade) at z={z:g}",
                    expected=f"{w.theory[i]:.3f}",
                    simulated=f"{w.frequency[i]:.3f}",
                    interval=f"[{w.low[i]:.3f}, {w.high[i]:.3f}]",
                    n=f"{w.copies}x{w.n}",
                    verdict=_verdict(
                        w.low[i] <= w.theory[i] <= w.high[i], flo <= w.theory[i] <= fhi
                    ),
                )
            )
        p = self.protection
        for s in p.scales:
            rows.append(
                _location_row(
                    f"Protection x{s.scale:g}: critical beta",
                    f"{s.beta_c:.3f}",
                    s.transition,
                    s.beta_c,
                    s.tolerance,
                    f"{p.copies}x{p.n}",
                )
            )
        return rows

    @property
    def passed(self) -> bool:
        """No row says ``NO``."""
        return all(r.verdict != "NO" for r in self.rows())

    def summary(self) -> list[str]:
        """Short lines that read the table for the user."""
        cells = self.cells
        inside = sum(r.inside for r in cells)
        family = sum(r.inside_family for r in cells)
        lines = [
            f"Study: {inside} of {len(cells)} reported cells inside their 95 % interval "
            f"(about {0.95 * len(cells):.0f} expected by chance alone if the model reproduces "
            f"the study exactly); {family} of {len(cells)} inside the family-wise interval. "
            f"{len(self.unreported)} cells of the study's models were not reported "
            "(the profiles' assumptions fill them).",
        ]
        coverage = [r.coverage for r in cells if r.coverage is not None and not r.cell.upper_bound]
        if coverage:
            lines.append(
                f"Interval coverage over {self.settings.study.repeats} repeats of every cell: "
                f"{100 * float(np.mean(coverage)):.1f} % (nominal 95 %)."
            )
        contagion_rows = self.contagion_rows()
        ok = sum(r.verdict.startswith("yes") for r in contagion_rows)
        lines.append(f"Contagion theory: {ok} of {len(contagion_rows)} checks agree.")
        lines.append(
            "All checks pass." if self.passed else "Some checks FAIL: see the rows marked NO."
        )
        return lines

    def to_dict(self) -> dict:
        return {
            "mode": "full" if self.full else "quick",
            "settings": self.settings.to_dict(),
            "elapsed_seconds": self.elapsed,
            "seconds_by_family": self.timings,
            "passed": self.passed,
            "family_z": self.family_z,
            "summary": self.summary(),
            "rows": [r.to_dict() for r in self.rows()],
            "study": [r.to_dict() for r in self.cells],
            "not_reported": self.unreported,
            "threshold": [t.to_dict() for t in self.thresholds],
            "watts": self.watts.to_dict(),
            "protection": self.protection.to_dict(),
        }


def _verdict(inside: bool, inside_family: bool) -> str:
    if inside:
        return "yes"
    return "yes*" if inside_family else "NO"


def _graph_name(topology: str, mean_degree: float) -> str:
    if topology == "random-regular":
        return f"RR k={round(mean_degree)}"
    return f"ER z={mean_degree:g}"


def _location_row(
    check: str,
    expected: str,
    trans: contagion.Transition,
    target: float,
    tolerance: float,
    size: str,
) -> CheckRow:
    low, high = trans.beta - tolerance, trans.beta + tolerance
    ok = (not trans.at_edge) and low <= target <= high
    return CheckRow(
        family="contagion",
        check=check,
        expected=expected,
        simulated=f"{trans.beta:.3f}" + (" (grid edge)" if trans.at_edge else ""),
        interval=f"[{low:.3f}, {high:.3f}]",
        n=size,
        verdict="yes" if ok else "NO",
    )


# --- running --------------------------------------------------------------------------------


def _factors(start: float, stop: float, points: int) -> np.ndarray:
    return np.linspace(start, stop, points)


def _watts_degrees(settings: ValidationSettings) -> list[float]:
    w = settings.watts
    return sorted({float(z) for z in (*w.mean_degrees, *w.check_degrees)})


def interval_rows(settings: ValidationSettings, cells: int) -> int:
    """Rows of the table whose verdict rests on a sampling interval (the Bonferroni family).

    The study's cells, the two bracket checks per graph and the Watts rows; threshold
    locations and the Watts window have tolerances of their own.
    """
    return cells + 2 * len(settings.threshold.topologies) + len(settings.watts.check_degrees)


def work_units(settings: ValidationSettings, cells: int) -> int:
    """How many progress steps :func:`run_validation` reports (for a progress bar)."""
    t, p = settings.threshold, settings.protection
    grid = np.concatenate(
        [_factors(t.factor_start, t.factor_stop, t.factor_points), [t.below, t.above]]
    )
    per_graph = np.unique(np.round(grid, 9)).size
    return (
        cells
        + len(t.topologies) * per_graph
        + len(_watts_degrees(settings))
        + len(p.scales) * p.factor_points
    )


def run_validation(
    settings: ValidationSettings,
    *,
    full: bool = False,
    progress: Progress | None = None,
    cells: list[PaperCell] | None = None,
) -> ValidationResult:
    """Run both families of checks; ``progress(k)`` is called after every k units of work."""
    tick = progress or (lambda _: None)
    started = time.perf_counter()
    profiles = available_profiles()
    cells = cells if cells is not None else read_paper_cells()
    missing = sorted({c.model for c in cells} - set(profiles))
    if missing:
        raise PaperDataError(f"study table: no profile for model {missing[0]!r} in models/")
    sizes = settings.study.sample_sizes
    results = []
    fz = family_z(interval_rows(settings, len(cells)), settings.study.alpha)
    timings: dict[str, float] = {}
    mark = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal mark
        now = time.perf_counter()
        timings[name] = now - mark
        mark = now

    for cell in cells:
        results.append(
            simulate_cell(
                cell,
                sizes[cell.behaviour],
                settings.seed,
                family_z=fz,
                repeats=settings.study.repeats,
                profiles=profiles,
            )
        )
        tick(1)
    lap("study")
    t = settings.threshold
    thresholds = [
        contagion.threshold_sweep(
            topology,
            t.mean_degree,
            t.n_systems,
            t.copies,
            _factors(t.factor_start, t.factor_stop, t.factor_points),
            settings.seed,
            below=t.below,
            above=t.above,
            large_share=t.large_share,
            boot=settings.bootstrap,
            progress=tick,
        )
        for topology in t.topologies
    ]
    lap("threshold")
    w = settings.watts
    watts = contagion.watts_sweep(
        _watts_degrees(settings),
        w.n_systems,
        w.copies,
        settings.seed,
        theta=w.theta,
        global_share=w.global_share,
        min_frequency=w.min_frequency,
        window_tolerance=w.window_tolerance,
        progress=tick,
    )
    lap("watts")
    p = settings.protection
    protection = protection_sweep(
        p.setup(),
        list(p.scales),
        p.n_systems,
        p.copies,
        _factors(p.factor_start, p.factor_stop, p.factor_points),
        settings.seed,
        large_share=p.large_share,
        boot=settings.bootstrap,
        max_cycles=p.max_cycles,
        profiles=profiles,
        progress=tick,
    )
    lap("protection")
    return ValidationResult(
        settings=settings,
        full=full,
        cells=results,
        unreported=unreported_cells(cells, profiles),
        thresholds=thresholds,
        watts=watts,
        protection=protection,
        elapsed=time.perf_counter() - started,
        family_z=fz,
        timings=timings,
    )
