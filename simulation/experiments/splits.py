"""What a robustness verdict hangs on: the scenarios of a what-if split in two by one
assumption, and each side read for an arm and outcome (its median effect, how many of its
scenarios are better and worse), as :mod:`simulation.experiments.robustness` defines them.

Also the two primitives both use: which direction of an outcome is better, and an effect
in the unit readers see.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from simulation.metrics import OUTCOMES
from simulation.outcome_text import outcome_scale


def direction(outcome: str) -> float:
    """+1 when higher is better for ``outcome``, -1 when lower is (an effect times this
    is positive when it is an improvement)."""
    return 1.0 if OUTCOMES[outcome].better == "higher" else -1.0


def effect_text(outcome: str, value: float, signed: bool = True) -> str:
    """A difference of ``outcome`` in the unit readers see (shares in percentage points),
    signed unless ``signed`` is false (a regret, a distance).

    >>> effect_text("faulty_share_mean", 0.052), effect_text("human_hours_per_cycle", -1.5)
    ('+5.2 pp', '-1.5 h/cycle')
    """
    if not np.isfinite(value):
        return "n/a"
    factor, unit = outcome_scale(outcome)
    unit = "pp" if unit == "%" else unit
    scaled = factor * value
    sign = "+" if signed else ""
    number = f"{scaled:{sign},.0f}" if abs(scaled) >= 1000 else f"{scaled:{sign}.3g}"
    return f"{number} {unit}" if unit else number


# --------------------------------------------------------------------------------------
# Splits of the scenarios by one assumption


@dataclass(frozen=True)
class Split:
    """The scenarios cut in two by one varied factor: ``first`` holds the scenarios of
    the lower half (numeric) or of one choice (categorical), the rest are the other side."""

    factor: str
    first_label: str
    second_label: str
    first: tuple[int, ...]


def _numeric(values: pd.Series) -> bool:
    kept = [v for v in values if v is not None and v == v]
    return bool(kept) and all(
        isinstance(v, int | float | np.integer | np.floating) and not isinstance(v, bool | np.bool_)
        for v in kept
    )


def _value_text(value: Any) -> str:
    if isinstance(value, float | np.floating):
        return f"{float(value):.4g}"
    return str(value)


def splits(factors: pd.DataFrame) -> list[Split]:
    """Every split of the scenarios by one factor (``factors``: one row per scenario):
    a numeric factor at the median of its values (``<= m`` against ``> m``, or ``< m``
    against ``>= m`` when at least half the scenarios share the largest value), a
    categorical one into each choice against the others (one split for two choices). A
    factor with one value over the scenarios splits nothing."""
    found: list[Split] = []
    for name in factors.columns:
        column = factors[name]
        distinct = list(dict.fromkeys(column))
        if len(distinct) < 2:
            continue
        if _numeric(column):
            values = column.astype(np.float64)
            middle = float(np.median(values))
            low, labels = values <= middle, ("<=", ">")
            if low.all():
                low, labels = values < middle, ("<", ">=")
            text = _value_text(middle)
            first = tuple(int(s) for s in column.index[low.to_numpy()])
            found.append(Split(name, f"{labels[0]} {text}", f"{labels[1]} {text}", first))
            continue
        choices = distinct if len(distinct) > 2 else distinct[:1]
        for choice in choices:
            first = tuple(int(s) for s in column.index[(column == choice).to_numpy()])
            other = "others" if len(distinct) > 2 else _value_text(distinct[1])
            found.append(Split(name, _value_text(choice), other, first))
    return found


@dataclass(frozen=True)
class Side:
    """One side of a split for one arm and outcome: its scenarios and how they read."""

    label: str
    scenarios: int
    median_effect: float
    better: int
    worse: int
    reading: str  # "better", "worse" or "unclear"

    @property
    def balance(self) -> float:
        """(better - worse) / scenarios: +1 better everywhere, -1 worse everywhere."""
        return (self.better - self.worse) / self.scenarios

    def text(self, outcome: str) -> str:
        """``human -> +5.2 pp (worse in 4 of 4)``: the side, its median effect and counts."""
        counts = {
            "better": f"better in {self.better} of {self.scenarios}"
            + (f", worse in {self.worse}" if self.worse else ""),
            "worse": f"worse in {self.worse} of {self.scenarios}"
            + (f", better in {self.better}" if self.better else ""),
            "unclear": f"no clear effect: better in {self.better}, worse in {self.worse} "
            f"of {self.scenarios}",
        }[self.reading]
        return f"{self.label} -> {effect_text(outcome, self.median_effect)} ({counts})"


@dataclass(frozen=True)
class Cells:
    """One arm's effect on one outcome, scenario by scenario, as arrays (the rows of
    ``robustness.scenario_effects`` for that arm and outcome): reading a split then takes a
    mask, not a DataFrame selection per side."""

    outcome: str
    scenario: np.ndarray
    effect: np.ndarray
    better: np.ndarray
    worse: np.ndarray
    regret: np.ndarray

    @classmethod
    def of(cls, rows: pd.DataFrame) -> Cells:
        """The cells of scenario rows of one arm and outcome."""
        return cls(
            str(rows["outcome"].iloc[0]) if len(rows) else "",
            rows["scenario"].to_numpy(dtype=np.int64),
            rows["effect"].to_numpy(dtype=np.float64),
            rows["better"].to_numpy(dtype=bool),
            rows["worse"].to_numpy(dtype=bool),
            rows["regret"].to_numpy(dtype=np.float64),
        )

    def inside(self, members: Sequence[int]) -> np.ndarray:
        """Which of the cells' scenarios are among ``members``."""
        if not len(self.scenario) or not len(members):
            return np.zeros(len(self.scenario), dtype=bool)
        lookup = np.zeros(max(int(self.scenario.max()), max(members)) + 1, dtype=bool)
        lookup[list(members)] = True
        return lookup[self.scenario]

    def side(self, label: str, mask: np.ndarray) -> Side:
        """How the scenarios selected by ``mask`` read together."""
        median = float(np.median(self.effect[mask]))
        better, worse = int(self.better[mask].sum()), int(self.worse[mask].sum())
        good = direction(self.outcome) * median
        if good > 0 and better > worse:
            reading = "better"
        elif good < 0 and worse > better:
            reading = "worse"
        else:
            reading = "unclear"
        return Side(label, int(mask.sum()), median, better, worse, reading)


@dataclass(frozen=True)
class SplitReading:
    """A split as one arm's effect on one outcome reads on its two sides."""

    split: Split
    first: Side
    second: Side

    @property
    def flips(self) -> bool:
        return {self.first.reading, self.second.reading} == {"better", "worse"}

    @property
    def movement(self) -> float:
        """How far the balance of better over worse scenarios moves across the split."""
        return abs(self.first.balance - self.second.balance)

    @property
    def gap(self) -> float:
        return abs(self.first.median_effect - self.second.median_effect)

    def text(self, outcome: str) -> str:
        return f"{self.split.factor}: {self.first.text(outcome)}, {self.second.text(outcome)}"


def cells_by_arm(per_scenario: pd.DataFrame) -> dict[tuple[str, str], Cells]:
    """The rows of ``robustness.scenario_effects`` as :class:`Cells`, keyed by (arm, outcome),
    in the order the rows first name them (sliced from whole columns: cheaper than a
    DataFrame per group)."""
    if per_scenario.empty:
        return {}
    keys = pd.MultiIndex.from_arrays([per_scenario["arm"], per_scenario["outcome"]])
    codes, uniques = pd.factorize(keys)
    order = np.argsort(codes, kind="stable")
    bounds = np.flatnonzero(np.diff(codes[order])) + 1
    kinds = {
        "scenario": np.int64,
        "effect": np.float64,
        "better": bool,
        "worse": bool,
        "regret": np.float64,
    }
    columns = [per_scenario[name].to_numpy(dtype=kind)[order] for name, kind in kinds.items()]
    found = {}
    pieces = np.split(np.arange(len(order)), bounds)
    for (arm, outcome), piece in zip(uniques, pieces, strict=True):
        found[(str(arm), str(outcome))] = Cells(str(outcome), *(c[piece] for c in columns))
    return found


def split_readings(
    rows: pd.DataFrame | Cells, factor_splits: Sequence[Split]
) -> list[SplitReading]:
    """Each split read on the scenarios of one arm and outcome (its rows of
    ``robustness.scenario_effects``, or their :class:`Cells`); splits with a side holding none of
    those scenarios are left out."""
    cells = rows if isinstance(rows, Cells) else Cells.of(rows)
    readings = []
    for split in factor_splits:
        inside = cells.inside(split.first)
        if inside.all() or not inside.any():
            continue
        first = cells.side(split.first_label, inside)
        second = cells.side(split.second_label, ~inside)
        readings.append(SplitReading(split, first, second))
    return readings


def depends_on(
    rows: pd.DataFrame | Cells,
    factor_splits: Sequence[Split],
    readings: Sequence[SplitReading] | None = None,
) -> str:
    """The assumption an effect hangs on, as text (see the module's docstring): the split
    that flips its sign and moves the balance of better over worse scenarios most, or,
    if none flips, the one that moves it most. ``readings`` are the splits read on
    ``rows`` (:func:`split_readings`), when the caller has them."""
    cells = rows if isinstance(rows, Cells) else Cells.of(rows)
    if readings is None:
        readings = split_readings(cells, factor_splits)
    if not readings:
        return "no varied assumption separates the scenarios"
    outcome = cells.outcome
    flipping = [r for r in readings if r.flips]
    pool = flipping or readings
    top = max(pool, key=lambda r: (round(r.movement, 12), r.gap))
    if not flipping:
        return f"{top.text(outcome)}; the sign does not flip on any assumption"
    others = list(
        dict.fromkeys(r.split.factor for r in flipping if r.split.factor != top.split.factor)
    )
    also = f"; also flips the sign: {', '.join(others)}" if others else ""
    return top.text(outcome) + also


def side_effects(per_scenario: pd.DataFrame, factors: pd.DataFrame) -> pd.DataFrame:
    """Per arm, outcome and varied factor, each side of the factor: a numeric factor's
    lower and upper half (as :func:`splits` cuts it), each choice of a categorical one.
    Columns: arm, outcome, factor, side (its label), scenarios, median_effect, better,
    worse, reading ("better", "worse" or "unclear"). For the report's heat table."""
    columns = [
        "arm",
        "outcome",
        "factor",
        "side",
        "scenarios",
        "median_effect",
        "better",
        "worse",
        "reading",
    ]
    everything = tuple(int(s) for s in factors.index)
    groups: list[tuple[str, str, tuple[int, ...]]] = []
    for split in splits(factors):
        groups.append((split.factor, split.first_label, split.first))
        # a numeric factor's upper half, or a second choice of two, is a side of its own
        if split.second_label != "others":
            chosen = set(split.first)
            rest = tuple(s for s in everything if s not in chosen)
            groups.append((split.factor, split.second_label, rest))
    records = []
    for (arm, outcome), cells in cells_by_arm(per_scenario).items():
        for factor, label, members in groups:
            inside = cells.inside(members)
            if not inside.any():
                continue
            found = cells.side(label, inside)
            records.append(
                {
                    "arm": arm,
                    "outcome": outcome,
                    "factor": factor,
                    "side": label,
                    "scenarios": found.scenarios,
                    "median_effect": found.median_effect,
                    "better": found.better,
                    "worse": found.worse,
                    "reading": found.reading,
                }
            )
    return pd.DataFrame.from_records(records, columns=columns)
