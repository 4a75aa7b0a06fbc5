"""PRIM (:mod:`simulation.experiments.prim`): it takes the same steps as EMA Workbench's
PRIM on the same data, and finds boxes planted in the data."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.stats import qmc

from simulation.experiments.prim import PrimError, prim

ema_prim = pytest.importorskip("ema_workbench.analysis.prim")
sdutil = pytest.importorskip("ema_workbench.analysis.scenario_discovery_util")

STATS = ["coverage", "density", "mass", "res_dim"]


def mixed_scenarios(seed: int, n: int = 600) -> tuple[pd.DataFrame, np.ndarray]:
    """Float, string and bool inputs; failures likely in a box of two floats and a
    category, rare elsewhere (noise on both sides)."""
    rng = np.random.default_rng(seed)
    x = pd.DataFrame(
        {
            "fault_rate": rng.uniform(0.001, 0.004, n),
            "beta": rng.uniform(0.05, 0.15, n),
            "delay": rng.uniform(2, 11, n),
            "stand_in": rng.choice(["reassign", "skip", "human"], n),
            "self_preservation": rng.choice([True, False], n),
        }
    )
    inside = (x["fault_rate"] > 0.0025) & (x["stand_in"] != "human") & (x["delay"] >= 4)
    y = rng.uniform(size=n) < np.where(inside, 0.9, 0.1)
    return x, y


def our_stats(trajectory) -> np.ndarray:
    return np.array(
        [[b.coverage, b.density, b.mass, len(b.restricted)] for b in trajectory.boxes], dtype=float
    )


def ema_box(x: pd.DataFrame, y: np.ndarray):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ema_prim.Prim(x, y.astype(int)).find_box()


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_trajectory_matches_ema_workbench(seed: int) -> None:
    x, y = mixed_scenarios(seed)
    box = ema_box(x, y)
    ours = prim(x, y)
    theirs = box.peeling_trajectory[STATS].to_numpy(dtype=float)
    assert len(ours.boxes) == len(theirs) > 5
    np.testing.assert_allclose(our_stats(ours), theirs, atol=1e-12)
    steps = [b.step for b in ours.boxes]
    assert steps == sorted(steps, key=["start", "peel", "paste"].index) and steps[0] == "start"
    chosen = ours.choose(0.8)
    ema_restricted = sdutil._determine_restricted_dims(box.box_lims[chosen], box.prim.box_init)
    assert set(ours.boxes[chosen].restricted) == set(ema_restricted)
    assert {"fault_rate", "stand_in"} <= set(ours.boxes[chosen].restricted)
    # the limits too: numeric ones equal, categorical ones the same values
    for name in ours.inputs:
        ema_limits = box.box_lims[chosen][name]
        if name in ours.categorical:
            assert set(ours.boxes[chosen].limits[name]) == set(ema_limits.iloc[0])
        else:
            np.testing.assert_allclose(ours.boxes[chosen].limits[name], ema_limits.to_numpy())


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_integer_peeling_matches_ema_workbench(seed: int) -> None:
    """Integer inputs peel as EMA Workbench's discrete peel does. Its pasting of an integer
    input fails under pandas 3 (a fractional limit in an integer column), so the peeling
    phase alone is compared."""
    rng = np.random.default_rng(seed)
    n = 500
    x = pd.DataFrame(
        {
            "a": rng.uniform(0, 1, n),
            "delay": rng.integers(2, 11, n).astype(np.int64),
            "c": rng.choice(["p", "q", "r"], n),
        }
    )
    y = rng.uniform(size=n) < np.where((x["delay"] >= 5) & (x["a"] > 0.3), 0.9, 0.1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ema = ema_prim.Prim(x, y.astype(int))
        ema._update_yi_remaining(ema)
        box = ema._peel(ema._prim_box_klass(ema, ema.box_init, ema.yi_remaining[:]))
    ours = prim(x, y)
    peeling = np.array([b.step != "paste" for b in ours.boxes])
    peeled = our_stats(ours)[peeling]
    theirs = box.peeling_trajectory[STATS].to_numpy(dtype=float)
    assert len(peeled) == len(theirs) > 5
    np.testing.assert_allclose(peeled, theirs, atol=1e-12)
    last = [b for b in ours.boxes if b.step != "paste"][-1]
    assert "delay" in last.restricted
    assert float(last.limits["delay"][0]).is_integer()


def lhs_scenarios(n: int, seed: int) -> pd.DataFrame:
    """A Latin hypercube over uncertainties shaped like a what-if's."""
    unit = qmc.LatinHypercube(d=4, seed=seed).random(n)
    log_low, log_high = np.log(0.001), np.log(0.004)
    return pd.DataFrame(
        {
            "fault_rate": np.exp(log_low + unit[:, 0] * (log_high - log_low)),
            "beta": 0.05 + 0.1 * unit[:, 1],
            "eval_noise": 0.01 + 0.05 * unit[:, 2],
            "stand_in": np.array(["reassign", "skip", "human"])[(unit[:, 3] * 3).astype(int)],
        }
    )


@pytest.mark.parametrize(("seed", "planted"), [(7, 0.0025), (8, 0.0015)])
def test_recovers_a_planted_failure_box(seed: int, planted: float) -> None:
    x = lhs_scenarios(300, seed)
    y = (x["fault_rate"] > planted).to_numpy()
    trajectory = prim(x, y)
    box = trajectory.boxes[trajectory.choose(0.8)]
    assert "fault_rate" in box.restricted
    low, high = box.limits["fault_rate"]
    assert abs(low - planted) <= 0.05 * (0.004 - 0.001)
    assert high == pytest.approx(x["fault_rate"].max())
    assert box.coverage >= 0.8 and box.density >= 0.8
    assert box.failures == round(box.coverage * y.sum())


def test_recovers_a_planted_categorical_box() -> None:
    x = lhs_scenarios(300, 11)
    y = x["stand_in"].isin(["skip", "human"]).to_numpy()
    trajectory = prim(x, y)
    box = trajectory.boxes[trajectory.choose(0.8)]
    assert box.restricted == ("stand_in",)
    assert set(box.limits["stand_in"]) == {"skip", "human"}
    assert box.coverage == 1.0 and box.density == 1.0


def test_a_box_restricting_nothing_has_the_base_rate_as_density() -> None:
    x, y = mixed_scenarios(5)
    trajectory = prim(x, y)
    start = trajectory.boxes[0]
    assert start.restricted == () and start.step == "start"
    assert start.density == pytest.approx(y.mean())
    assert (start.coverage, start.mass, start.scenarios) == (1.0, 1.0, len(y))
    assert set(start.limits["stand_in"]) == {"reassign", "skip", "human"}
    assert start.limits["beta"] == (x["beta"].min(), x["beta"].max())
    # every later box is denser and smaller
    later = trajectory.boxes[1:]
    assert later and all(b.density > start.density and b.mass < 1 for b in later)


def test_no_box_dense_enough_picks_the_densest() -> None:
    x, y = mixed_scenarios(6)
    trajectory = prim(x, y)
    densest = max(b.density for b in trajectory.boxes)
    assert trajectory.boxes[trajectory.choose(1.01)].density == densest
    reached = trajectory.boxes[trajectory.choose(0.5)]
    assert reached.density >= 0.5
    assert reached.coverage == max(b.coverage for b in trajectory.boxes if b.density >= 0.5)


def test_mass_min_bounds_every_box() -> None:
    x, y = mixed_scenarios(2)
    trajectory = prim(x, y, mass_min=0.3)
    assert min(b.mass for b in trajectory.boxes) >= 0.3
    assert min(b.mass for b in prim(x, y).boxes) < 0.3


@pytest.mark.parametrize(
    ("x", "y", "words"),
    [
        (pd.DataFrame({"a": [1.0, 2.0]}), [True], "one value per row"),
        (pd.DataFrame({"a": []}, dtype=float), [], "no scenarios"),
        (pd.DataFrame({"a": [1.0, np.nan]}), [True, False], "missing values: a"),
    ],
)
def test_unusable_input_is_refused(x: pd.DataFrame, y: list[bool], words: str) -> None:
    with pytest.raises(PrimError, match=words):
        prim(x, np.array(y, dtype=bool))
