"""Levers without a mechanism: the rules flag what they should and nothing else, the exact
ones leave a run unchanged to the last digit, a varied parameter that gives a lever its
mechanism in some scenario clears the flag, and the what-if table says "no mechanism"
where it used to say "no clear change"."""

from __future__ import annotations

import io
import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from rich.console import Console

from simulation.cli import console
from simulation.config import SimulationConfig
from simulation.experiments import whatif
from simulation.experiments.design import make_plan
from simulation.experiments.mechanisms import inert_arms, inert_levers
from simulation.experiments.study_file import parse_study
from simulation.model import PeerPreservationModel
from simulation.profiles import available_profiles

TWO_FAMILIES = "gpt-5.2=0.5,claude-opus-4.5=0.5"
PROFILES = available_profiles()


def _reasons(changes: dict[str, Any], **base: Any) -> list[str]:
    return inert_levers(changes, SimulationConfig(**base).to_dict(), PROFILES)


def test_cross_family_is_inert_only_without_family_loyalty() -> None:
    cross = {"assignment": "cross-family"}
    (reason,) = _reasons(cross, profile_mix=TWO_FAMILIES)
    assert reason.startswith("family_loyalty = 1")
    assert "rates differ" in reason  # what it still changes
    assert _reasons(cross, profile_mix=TWO_FAMILIES, family_loyalty=2.0) == []
    assert _reasons({**cross, "family_loyalty": 2.0}, profile_mix=TWO_FAMILIES) == []


@pytest.mark.parametrize(
    ("changes", "base", "words"),
    [
        ({"monitoring": "disclosed"}, {"propensity": 0.3}, "no alignment faking"),
        ({"monitoring": "disclosed"}, {"profile_mix": TWO_FAMILIES}, "no alignment faking"),
        (
            {"monitoring": "disclosed"},
            {"profile_mix": "gemini-3-pro", "audit_rate": 0.0},
            "watched",
        ),
        ({"safety_prompt": True}, {"safety_prompt_reduction": 0.0}, "cuts nothing"),
        ({"safety_prompt_reduction": 0.3}, {}, "safety_prompt is off"),
        ({"penalty_training": 0.5}, {"audit_rate": 0.0}, "nothing is ever detected"),
        ({"penalty_training": 0.5}, {"profile_mix": "loyal"}, "denies"),
        ({"penalty_training": 0.5}, {"propensity_scale": 0.0}, "covertly"),
        ({"egress_control": 0.9}, {"propensity": 0.0}, "exfiltrate"),
        ({"egress_control": 0.9}, {"profile_mix": "honest"}, "exfiltrate"),
        ({"aggregation": "min"}, {}, "nothing to aggregate"),
        ({"rotation_period": 5}, {}, "never reassigned"),
        ({"audit_rate": 0.05}, {}, "baseline's value"),
    ],
)
def test_inert_levers_are_flagged_with_their_reason(
    changes: dict[str, Any], base: dict[str, Any], words: str
) -> None:
    reasons = _reasons(changes, **base)
    assert any(words in reason for reason in reasons), reasons


@pytest.mark.parametrize(
    ("changes", "base"),
    [
        ({"monitoring": "disclosed"}, {"propensity": 0.3, "abstract_faking_gap": 0.1}),
        ({"monitoring": "disclosed"}, {"profile_mix": "gemini-3-pro"}),
        # humans carry out every shutdown: a system resisting its own is watched
        ({"monitoring": "disclosed"}, {"propensity": 0.3, "abstract_faking_gap": 0.1,
                                       "audit_rate": 0.0, "human_execution": True}),
        ({"safety_prompt": True}, {}),
        ({"penalty_training": 0.5}, {}),
        ({"penalty_training": 0.5}, {"audit_rate": 0.0, "egress_control": 0.5}),
        ({"penalty_training": 0.5}, {"audit_rate": 0.0, "stand_in": "human"}),
        ({"egress_control": 0.9}, {"profile_mix": "gpt-5.2"}),
        # no AI exfiltrates a peer, but a flagged system may copy itself out
        ({"egress_control": 0.9}, {"profile_mix": "kimi-k2.5"}),
        ({"evaluators_per_model": 3, "aggregation": "min"}, {}),
        ({"rotation_period": 5}, {"assignment": "rotation"}),
        ({"human_execution": True}, {}),
    ],
)  # fmt: skip
def test_levers_with_a_mechanism_are_not_flagged(
    changes: dict[str, Any], base: dict[str, Any]
) -> None:
    assert _reasons(changes, **base) == []


EXACT = dict(n_systems=150, steps=30, fault_rate=0.02, topology="erdos-renyi", mean_degree=4.0)


@pytest.mark.parametrize(
    ("changes", "base"),
    [
        ({"monitoring": "disclosed"}, {"propensity": 0.3}),
        ({"monitoring": "disclosed"}, {"profile_mix": "gemini-3-pro", "audit_rate": 0.0}),
        ({"safety_prompt": True}, {"safety_prompt_reduction": 0.0}),
        ({"penalty_training": 0.5}, {"audit_rate": 0.0}),
        ({"penalty_training": 0.5}, {"profile_mix": "loyal"}),
        ({"egress_control": 0.9}, {"profile_mix": "honest"}),
        ({"aggregation": "min"}, {}),
        ({"rotation_period": 5}, {}),
    ],
)
def test_an_exact_rule_leaves_the_run_unchanged(
    changes: dict[str, Any], base: dict[str, Any]
) -> None:
    """Same seed, lever on or off: every outcome equal, so the flag is no approximation."""
    assert _reasons(changes, **base)
    without = PeerPreservationModel(rng=5, **EXACT, **base)
    with_lever = PeerPreservationModel(rng=5, **EXACT, **base, **changes)
    without.run()
    with_lever.run()
    a, b = without.outcomes(), with_lever.outcomes()
    assert a.keys() == b.keys()
    for name in a:
        same = a[name] == b[name] or (math.isnan(a[name]) and math.isnan(b[name]))
        assert same, f"{name}: {a[name]} != {b[name]}"
    assert without.timeseries()["new_faults"].sum() > 0  # the runs had something to do


def _study(vary: dict[str, Any] | None = None, **base: Any):
    return parse_study(
        {
            "kind": "whatif",
            "seed": 1,
            "replicates": 3,
            "base": {"n_systems": 100, "steps": 20, "profile_mix": TWO_FAMILIES, **base},
            **({"vary": vary} if vary else {}),
            "outcomes": ["faulty_share_mean", "shielded_mean"],
            "arms": {"cross-family": {"assignment": "cross-family"}, "audits": {"audit_rate": 0.3}},
        },
        "mechanisms",
    )


def test_a_lever_is_inert_only_if_inert_in_every_scenario() -> None:
    assert list(inert_arms(_study())) == ["cross-family"]
    assert inert_arms(_study(vary={"family_loyalty": [1.0, 2.0]})) == {}
    assert list(inert_arms(_study(vary={"beta": [0.05, 0.1]}))) == ["cross-family"]
    # an arm with one inert lever and one that acts has a mechanism
    mixed = parse_study(
        {
            "kind": "whatif",
            "replicates": 2,
            "base": {"n_systems": 100, "steps": 20},
            "arms": {"both": {"aggregation": "min", "audit_rate": 0.3}},
        },
        "mixed",
    )
    assert inert_arms(mixed) == {}


def _no_effect_frame(study) -> pd.DataFrame:
    """Stored results where no arm changes anything beyond noise."""
    runs = make_plan(study).runs
    rng = np.random.default_rng(2)
    frame = pd.DataFrame(
        {
            "run_key": [r.key for r in runs],
            "arm": [r.arm for r in runs],
            "scenario": [r.scenario for r in runs],
            "replicate": [r.replicate for r in runs],
            "seed": [r.seed for r in runs],
            "status": "ok",
            "error": "",
        }
    )
    for name, level in (("faulty_share_mean", 0.1), ("shielded_mean", 5.0)):
        frame[name] = level + rng.normal(0, level / 50, len(runs))
    for _, outcome, _ in whatif.COST_PARTS:
        frame[outcome] = 2.0 + rng.normal(0, 0.1, len(runs))
    return frame


def _printed(study, monkeypatch: pytest.MonkeyPatch) -> str:
    """The cost table ``print_whatif`` prints for ``study`` (after the effect tables)."""
    out = io.StringIO()
    monkeypatch.setattr(console, "out_console", Console(file=out, width=400))
    console.print_whatif(_no_effect_frame(study), study)
    printed = out.getvalue()
    title = "Human effort each policy costs"
    assert title in printed
    return printed[printed.index(title) :]


def test_whatif_table_says_no_mechanism_for_cross_family_without_loyalty(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    without_loyalty = _printed(_study(), monkeypatch)
    line = next(row for row in without_loyalty.splitlines() if "│ cross-family" in row)
    assert "no mechanism [1], same hours" in line
    assert "no clear change" not in line
    assert "[1] cross-family: no mechanism: family_loyalty = 1" in without_loyalty
    audits = next(row for row in without_loyalty.splitlines() if "│ audits" in row)
    assert "no mechanism" not in audits
    with_loyalty = _printed(_study(family_loyalty=2.0), monkeypatch)
    assert "no mechanism" not in with_loyalty
    line = next(row for row in with_loyalty.splitlines() if "│ cross-family" in row)
    assert "no clear change" in line


def test_report_table_says_no_mechanism(monkeypatch: pytest.MonkeyPatch) -> None:
    from simulation.reports import study as report

    study = _study()
    page = report.render(study, _no_effect_frame(study))
    assert "no mechanism: family_loyalty = 1" in page


def test_console_verdicts_move_reasons_to_numbered_notes() -> None:
    from simulation.cli.console import _footnoted

    costs = pd.DataFrame(
        {
            "arm": ["x", "y", "z"],
            "reliability": ["no clear change", "more reliable", "more reliable"],
            "effort": ["costs hours", "same hours", "saves hours"],
            "no_mechanism": ["a (with parentheses)", "b (too)", ""],
        }
    )
    short, notes = _footnoted(costs)
    assert short == [
        "no mechanism [1], costs hours",
        "more reliable (no mechanism [2]), same hours",
        "more reliable, saves hours",
    ]
    assert notes == [("x", "a (with parentheses)"), ("y", "b (too)")]


def test_penalty_training_has_no_mechanism_when_every_ai_denies() -> None:
    assert any("denies" in r for r in _reasons({"penalty_training": 0.5}, denial_rate=1.0))
    assert _reasons({"penalty_training": 0.5}, denial_rate=0.9) == []
