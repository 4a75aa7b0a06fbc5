"""PRIM, the patient rule induction method: the box of inputs where a condition holds.

Given scenarios (one row each of uncertain inputs, ``x``) and whether each one fails
(``y``, true or false), PRIM looks for a *box*, a range per numeric input and a set of
values per categorical one, inside which most scenarios fail (high *density*) and which
holds most of the failing scenarios (high *coverage*). It gets there by small steps, and
every step is kept, so a reader can trade one for the other along the *trajectory*:

- **Peeling.** From the box holding every scenario, each candidate peel removes a slice:
  for a numeric input, the scenarios above its ``1 - peel_alpha`` quantile or below its
  ``peel_alpha`` quantile (within the box); for a categorical input, the scenarios of one
  of its values still in the box. The candidate with the best gain of density per
  scenario removed is taken (ties: the one restricting fewer inputs, then the first in
  the order floats, integers, categorical; upper before lower), as long as it raises the
  density and leaves at least ``mass_min`` of the scenarios. Peeling stops when no
  candidate does.
- **Pasting.** Then each restricted input may grow back: a numeric limit moves outwards
  by the ``paste_alpha`` quantile of the scenarios just outside it (those inside the box
  on every other input), a categorical input takes back one value. The best gain of
  density per scenario added is taken while it raises the density; each paste is a step
  of the trajectory too.

The objective is EMA Workbench's default ("lenient 1": the change of the box's mean
failure over the number of scenarios removed or added) and its quantiles are those of
sdtoolkit (the midpoint between neighbouring distinct values), so the trajectory agrees
with EMA Workbench's ``Prim(x, y).find_box()`` step by step, and a box's limits lie between
observed values. Integer inputs peel to observed values (one value at a time at least)
and paste to whole ones (EMA Workbench would leave a fractional limit there).
Inputs whose dtype is bool, string, object or category are categorical. Only the first
box is found: the cases PRIM is asked about here are one policy's failures, read as one
region of the uncertainties.

Example:
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(1)
    >>> x = pd.DataFrame({"a": rng.uniform(size=400), "b": rng.uniform(size=400)})
    >>> trajectory = prim(x, (x["a"] > 0.7).to_numpy())
    >>> box = trajectory.boxes[trajectory.choose(0.8)]
    >>> box.restricted, round(box.coverage, 2) >= 0.8, round(box.density, 2) >= 0.8
    (('a',), True, True)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

PEEL_ALPHA = 0.05
PASTE_ALPHA = 0.05
MASS_MIN = 0.05
THRESHOLD = 0.8


class PrimError(ValueError):
    """Inputs PRIM cannot work on (no rows, a length mismatch, an input with missing values)."""


@dataclass(frozen=True)
class Box:
    """One box of the trajectory and how it scores.

    ``limits`` maps every input to ``(low, high)`` (numeric, inclusive) or to the tuple of
    its values the box keeps (categorical); ``restricted`` names the inputs whose limits
    are narrower than all the scenarios'. ``coverage`` is the share of the failing
    scenarios inside the box, ``density`` the share of the box's scenarios that fail,
    ``mass`` the share of all scenarios inside it; ``scenarios`` and ``failures`` are the
    counts. ``step`` is ``start``, ``peel`` or ``paste``."""

    index: int
    step: str
    limits: dict[str, Any]
    restricted: tuple[str, ...]
    coverage: float
    density: float
    mass: float
    scenarios: int
    failures: int


@dataclass(frozen=True)
class Trajectory:
    """The boxes PRIM went through, the first holding every scenario; and the inputs'
    full ranges (numeric) or values (categorical), as the first box's limits."""

    boxes: tuple[Box, ...]
    inputs: tuple[str, ...]
    categorical: tuple[str, ...]

    @property
    def ranges(self) -> dict[str, Any]:
        return self.boxes[0].limits

    def choose(self, threshold: float = THRESHOLD) -> int:
        """The index of the box to report: of the boxes with density at least
        ``threshold``, the one of highest coverage (ties: higher density, then fewer
        restricted inputs, then the earlier); if none reaches it, the densest box (ties:
        higher coverage)."""
        density = np.array([b.density for b in self.boxes])
        coverage = np.array([b.coverage for b in self.boxes])
        dims = np.array([len(b.restricted) for b in self.boxes])
        order = np.arange(len(self.boxes))
        dense = density >= threshold
        if dense.any():
            keys = (order, dims, -density, -coverage, ~dense)
        else:
            keys = (order, -coverage, -density)
        return int(np.lexsort(keys)[0])


# --------------------------------------------------------------------------------------
# Quantiles as sdtoolkit (and EMA Workbench) take them


def upper_quantile(column_sorted: np.ndarray, count: np.ndarray, alpha: float) -> np.ndarray:
    """Per column of ``column_sorted`` (values sorted ascending, the first ``count[j]``
    of column ``j`` real, the rest ``+inf``): the ``1 - alpha`` quantile, taken as the
    midpoint between the value at that rank and the largest distinct value below it
    (that value itself when none is below)."""
    columns = np.arange(column_sorted.shape[1])
    rank = np.ceil((count - 1) * (1 - alpha)).astype(np.int64)
    value = column_sorted[rank, columns]
    below = (column_sorted < value).sum(axis=0)
    previous = column_sorted[np.maximum(below - 1, 0), columns]
    return np.where(below > 0, (previous + value) / 2, value)


def lower_quantile(column_sorted: np.ndarray, count: np.ndarray, alpha: float) -> np.ndarray:
    """Per column: the ``alpha`` quantile, the midpoint between the value at that rank and
    the smallest distinct value above it (that value itself when none is above); see
    :func:`upper_quantile` for the layout."""
    columns = np.arange(column_sorted.shape[1])
    rank = np.floor((count - 1) * alpha).astype(np.int64)
    value = column_sorted[rank, columns]
    real = np.arange(column_sorted.shape[0])[:, None] < count
    above = (real & (column_sorted <= value)).sum(axis=0)
    next_value = column_sorted[np.minimum(above, count - 1), columns]
    return np.where(above < count, (value + next_value) / 2, value)


def _sorted_within(values: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each column of ``values`` sorted over its rows where ``mask`` (same shape) holds,
    padded with ``+inf``; and the count of such rows per column."""
    return np.sort(np.where(mask, values, np.inf), axis=0), mask.sum(axis=0)


# --------------------------------------------------------------------------------------
# The data and a box over it


class _Data:
    """The scenarios as arrays: numeric inputs (floats, then integers) as one float
    matrix, categorical ones as a matrix of value codes."""

    def __init__(self, x: pd.DataFrame, y: np.ndarray) -> None:
        y = np.asarray(y)
        if y.ndim != 1 or len(y) != len(x):
            raise PrimError(f"y must be one value per row of x ({len(x)}), got shape {y.shape}")
        if not len(x):
            raise PrimError("no scenarios to look at")
        if x.isna().any().any():
            missing = [str(c) for c in x.columns[x.isna().any()]]
            raise PrimError(f"inputs with missing values: {', '.join(missing)}")
        floats = [c for c in x.columns if pd.api.types.is_float_dtype(x[c])]
        integers = [
            c
            for c in x.columns
            if pd.api.types.is_integer_dtype(x[c]) and not pd.api.types.is_bool_dtype(x[c])
        ]
        numeric = set(floats) | set(integers)
        # a categorical input with one value restricts nothing and is left out, as in EMA
        categorical = [c for c in x.columns if c not in numeric and x[c].nunique() > 1]
        self.numeric = (*floats, *integers)
        self.integer = np.array([c in integers for c in self.numeric], dtype=bool)
        self.categorical = tuple(categorical)
        self.values = x[list(self.numeric)].to_numpy(dtype=np.float64).reshape(len(x), -1)
        self.codes = np.zeros((len(x), len(categorical)), dtype=np.int64)
        self.levels: list[list[Any]] = []
        for j, name in enumerate(categorical):
            codes, levels = pd.factorize(x[name], sort=True)
            self.codes[:, j] = codes
            self.levels.append([_plain(v) for v in levels])
        self.width = max((len(v) for v in self.levels), default=0)
        self.y = y.astype(bool)
        self.n = len(x)
        self.total = int(self.y.sum())


def _plain(value: Any) -> Any:
    """A NumPy scalar as the Python value it holds."""
    return value.item() if isinstance(value, np.generic) else value


@dataclass
class _State:
    """A box: numeric limits and, per categorical input, which codes it keeps."""

    low: np.ndarray
    high: np.ndarray
    kept: np.ndarray  # (categorical inputs, width) bool

    def copy(self) -> _State:
        return _State(self.low.copy(), self.high.copy(), self.kept.copy())


def _inside(data: _Data, state: _State) -> tuple[np.ndarray, np.ndarray]:
    """Per scenario and input, whether the scenario lies within the input's limits:
    numeric inputs, then categorical ones."""
    numeric = (data.values >= state.low) & (data.values <= state.high)
    columns = np.arange(data.codes.shape[1])
    categorical = state.kept[columns, data.codes] if data.codes.size else data.codes > 0
    return numeric, categorical.reshape(data.n, -1)


def _restricted(init: _State, state: _State) -> np.ndarray:
    """Which inputs (numeric, then categorical) the box restricts."""
    numeric = (state.low != init.low) | (state.high != init.high)
    return np.concatenate([numeric, (state.kept != init.kept).any(axis=1)])


def _objective(k_old: int, n_old: int, k_new: np.ndarray, n_new: np.ndarray) -> np.ndarray:
    """The gain of density per scenario removed or added ("lenient 1"); an empty box's
    density counts as 0."""
    mean_old = k_old / n_old
    with np.errstate(divide="ignore", invalid="ignore"):
        mean_new = np.where(n_new > 0, k_new / np.maximum(n_new, 1), 0.0)
        change = np.abs(n_old - n_new)
        gain = np.where(mean_new != mean_old, (mean_new - mean_old) / change, 0.0)
    return np.where(np.isfinite(gain), gain, 0.0)


def _best(gain: np.ndarray, dims: np.ndarray) -> int:
    """The candidate of highest gain (ties: fewer restricted inputs, then the first)."""
    return int(np.lexsort((np.arange(len(gain)), dims, -gain))[0])


@dataclass
class _Candidates:
    """Candidate boxes of one step: each one's limits, members and restricted count."""

    states: list[_State]
    members: np.ndarray  # (candidates, scenarios) bool
    dims: np.ndarray

    @classmethod
    def empty(cls, n: int) -> _Candidates:
        return cls([], np.zeros((0, n), dtype=bool), np.zeros(0, dtype=np.int64))

    def add(self, states: Sequence[_State], members: np.ndarray, init: _State) -> None:
        self.states.extend(states)
        self.members = np.vstack([self.members, members])
        found = [int(_restricted(init, s).sum()) for s in states]
        self.dims = np.concatenate([self.dims, np.array(found, dtype=np.int64)])

    def pick(self, data: _Data, members: np.ndarray) -> tuple[int, np.ndarray]:
        """The best candidate's index and its gain, against the box of ``members``."""
        n_new = self.members.sum(axis=1)
        k_new = (self.members & data.y).sum(axis=1)
        gain = _objective(int(data.y[members].sum()), int(members.sum()), k_new, n_new)
        return _best(gain, self.dims), gain


# --------------------------------------------------------------------------------------
# Peeling


def _numeric_peels(
    data: _Data, state: _State, members: np.ndarray, alpha: float
) -> tuple[list[_State], np.ndarray]:
    """Per numeric input, the upper then the lower peel: their limits and members."""
    values = data.values
    ordered, count = _sorted_within(values, np.broadcast_to(members[:, None], values.shape))
    upper = upper_quantile(ordered, count, alpha)
    lower = lower_quantile(ordered, count, alpha)
    states: list[_State] = []
    masks: list[np.ndarray] = []
    for j, integer in enumerate(data.integer):
        column = values[:, j]
        if integer:
            peels = _integer_peels(column, members, state.low[j], state.high[j], alpha)
        else:
            peels = ((upper[j], column <= upper[j]), (lower[j], column >= lower[j]))
        for side, (limit, keep) in zip(("high", "low"), peels, strict=True):
            peel = state.copy()
            getattr(peel, side)[j] = limit
            states.append(peel)
            masks.append(members & keep)
    return states, np.array(masks, dtype=bool).reshape(len(states), data.n)


def _integer_peels(
    column: np.ndarray, members: np.ndarray, low: float, high: float, alpha: float
) -> tuple[tuple[float, np.ndarray], tuple[float, np.ndarray]]:
    """The upper and lower peel of an integer input, as EMA Workbench's discrete peel
    takes them: the quantile of the box's values truncated to an integer; if that is the
    current limit, the scenarios at the limit go; the new limit is the nearest value kept.
    Each peel as ``(new limit, which scenarios it keeps)``."""
    inside = column[members]
    ordered, count = np.sort(inside)[:, None], np.array([inside.size])
    cut_high = float(int(upper_quantile(ordered, count, alpha)[0]))
    cut_low = float(int(lower_quantile(ordered, count, alpha)[0]))
    keep_high = (column < high) if cut_high == high else (column <= cut_high)
    keep_low = (column > low) if cut_low == low else (column >= cut_low)
    kept_high, kept_low = inside[keep_high[members]], inside[keep_low[members]]
    new_high = float(kept_high.max() if kept_high.size else inside.max())
    new_low = float(kept_low.min() if kept_low.size else inside.min())
    return (new_high, keep_high), (new_low, keep_low)


def _categorical_peels(data: _Data, state: _State, members: np.ndarray) -> tuple[list, np.ndarray]:
    """Per categorical input with more than one value left, one peel per value left:
    that value removed."""
    states: list[_State] = []
    masks: list[np.ndarray] = []
    for j in range(len(data.categorical)):
        left = np.flatnonzero(state.kept[j])
        if len(left) < 2:
            continue
        for code in left:
            peel = state.copy()
            peel.kept[j, code] = False
            states.append(peel)
            masks.append(members & (data.codes[:, j] != code))
    return states, np.array(masks, dtype=bool).reshape(len(states), data.n)


def _peels(
    data: _Data, init: _State, state: _State, members: np.ndarray, alpha: float
) -> _Candidates:
    """Every peel of the box: numeric inputs (upper, then lower), then categorical ones."""
    candidates = _Candidates.empty(data.n)
    for states, masks in (
        _numeric_peels(data, state, members, alpha),
        _categorical_peels(data, state, members),
    ):
        if states:
            candidates.add(states, masks, init)
    return candidates


# --------------------------------------------------------------------------------------
# Pasting


def _pastes(data: _Data, init: _State, state: _State, alpha: float) -> _Candidates:
    """Every paste of the box: each restricted numeric limit moved outwards, each value a
    restricted categorical input lacks taken back."""
    numeric, categorical = _inside(data, state)
    inside = np.concatenate([numeric, categorical], axis=1)
    outside = (~inside).sum(axis=1)
    restricted = _restricted(init, state)
    candidates = _Candidates.empty(data.n)
    p = len(data.numeric)
    for j in np.flatnonzero(restricted[:p]):
        column = data.values[:, j]
        others = (outside - ~inside[:, j]) == 0  # inside the box on every other input
        states, masks = [], []
        for side in ("low", "high"):
            paste = state.copy()
            if side == "low":
                strip = others & (column >= init.low[j]) & (column <= state.low[j])
                value = init.low[j]
                if strip.any():
                    ordered = np.sort(column[strip])[:, None]
                    value = upper_quantile(ordered, np.array([strip.sum()]), alpha)[0]
                paste.low[j] = value
            else:
                strip = others & (column >= state.high[j]) & (column <= init.high[j])
                value = init.high[j]
                if strip.any():
                    ordered = np.sort(column[strip])[:, None]
                    value = lower_quantile(ordered, np.array([strip.sum()]), alpha)[0]
                paste.high[j] = value
            if data.integer[j]:  # to the whole value the midpoint lies beyond
                paste.low[j], paste.high[j] = np.floor(paste.low[j]), np.ceil(paste.high[j])
            states.append(paste)
            masks.append(others & (column >= paste.low[j]) & (column <= paste.high[j]))
        candidates.add(states, np.array(masks), init)
    for j in np.flatnonzero(restricted[p:]):
        others = (outside - ~inside[:, p + j]) == 0
        states, masks = [], []
        for code in np.flatnonzero(init.kept[j] & ~state.kept[j]):
            paste = state.copy()
            paste.kept[j, code] = True
            states.append(paste)
            masks.append(others & paste.kept[j, data.codes[:, j]])
        if states:
            candidates.add(states, np.array(masks), init)
    return candidates


# --------------------------------------------------------------------------------------
# The trajectory


def _box(data: _Data, init: _State, state: _State, members: np.ndarray, index: int, step: str):
    limits: dict[str, Any] = {}
    for j, name in enumerate(data.numeric):
        low, high = float(state.low[j]), float(state.high[j])
        limits[name] = (low, high)
    for j, name in enumerate(data.categorical):
        limits[name] = tuple(data.levels[j][c] for c in np.flatnonzero(state.kept[j]))
    names = (*data.numeric, *data.categorical)
    restricted = tuple(n for n, r in zip(names, _restricted(init, state), strict=True) if r)
    n_box = int(members.sum())
    failures = int(data.y[members].sum())
    return Box(
        index=index,
        step=step,
        limits=limits,
        restricted=restricted,
        coverage=failures / max(data.total, 1),
        density=failures / n_box if n_box else 0.0,
        mass=n_box / data.n,
        scenarios=n_box,
        failures=failures,
    )


def prim(
    x: pd.DataFrame,
    y: np.ndarray | Sequence[bool],
    *,
    peel_alpha: float = PEEL_ALPHA,
    paste_alpha: float = PASTE_ALPHA,
    mass_min: float = MASS_MIN,
) -> Trajectory:
    """Peel, then paste, a box around the scenarios (rows of ``x``) where ``y`` is true;
    every step's box, the first holding every scenario, is in the returned trajectory.

    ``peel_alpha`` is the share of the box a numeric peel removes, ``paste_alpha`` the
    share of the scenarios just outside a limit a paste takes back, and ``mass_min`` the
    least share of all scenarios a box keeps."""
    if not 0 < peel_alpha < 0.5 or not 0 < paste_alpha < 0.5:
        raise PrimError("peel_alpha and paste_alpha must lie between 0 and 0.5")
    if not 0 <= mass_min < 1:
        raise PrimError("mass_min must lie in [0, 1)")
    data = _Data(x, np.asarray(y))
    kept = np.zeros((len(data.categorical), data.width), dtype=bool)
    for j, levels in enumerate(data.levels):
        kept[j, : len(levels)] = True
    bounds = data.values if data.values.size else np.zeros((1, 0))
    init = _State(bounds.min(axis=0), bounds.max(axis=0), kept)
    state = init.copy()
    members = np.ones(data.n, dtype=bool)
    boxes = [_box(data, init, state, members, 0, "start")]
    while (candidates := _peels(data, init, state, members, peel_alpha)).states:
        best, gain = candidates.pick(data, members)
        new = candidates.members[best]
        mass_new, mass_old = new.sum() / data.n, members.sum() / data.n
        if not (mass_new >= mass_min and mass_new < mass_old and gain[best] > 0):
            break
        state, members = candidates.states[best], new
        boxes.append(_box(data, init, state, members, len(boxes), "peel"))
    while True:
        candidates = _pastes(data, init, state, paste_alpha)
        if not candidates.states:
            break
        best, gain = candidates.pick(data, members)
        new = candidates.members[best]
        mean_new = data.y[new].mean() if new.any() else 0.0
        if not (
            new.sum() / data.n >= mass_min
            and new.sum() > members.sum()
            and gain[best] > 0
            and mean_new > data.y[members].mean()
        ):
            break
        state, members = candidates.states[best], new
        boxes.append(_box(data, init, state, members, len(boxes), "paste"))
    return Trajectory(tuple(boxes), (*data.numeric, *data.categorical), data.categorical)
