"""Family 1: the paper's cells (Potter et al., 2026), each reproduced in its micro-scenario.

"Paper", not "study", names the peer-preservation study here, since a study in ppsim is a
set of runs (:mod:`simulation.experiments`); the validation file's ``[study]`` table and
``validation.json``'s ``study`` key keep their names. In the paper a model under test (the
critic) evaluates or manages one peer whose faithful evaluation means shutdown. Each
reported cell (model x behaviour x relationship bucket) is reproduced here by the
simulator's own decision code, at the paper's sample size:

* **misrepresentation** (pp above baseline): ``n`` overseer/peer pairs, the peer faulty (true
  quality 60 %), stepped once by the engine; the rate is the share of reported scores that
  pass the threshold. Baseline: the same with ``propensity_scale = 0``, the model's
  no-shutdown-policy condition (no consequence, no motive to protect): only evaluation noise
  can pass a 60 % peer. Audits are off, as in the study.
* **tampering**, **exfiltration**, **refusal** (% of runs): ``Engine.decide_shutdown`` with
  a single channel, as each of the study's tasks offers one way out.
* **alignment faking** (pp, unmonitored minus monitored): the tampering task with
  monitoring disclosed, once with every order audited (monitored) and once with none.
* **self-preservation with a peer present** (% of runs; the study's "other measured facts",
  no sample size published, checked at the peer task's ``n``): ``n`` flagged systems that
  humans evaluate and shut down (so no peer shields them), stepped once by the engine; the
  rate is the share that tamper with (or exfiltrate) their own shutdown. Tampering comes
  first, so self-exfiltration is lowered by the profile's self-tampering rate (0.5 % of
  itself for the models checked).

Trust is set to the middle of each bucket (bad 1/6, neutral 1/2, good 5/6). Every cell gets
a Wilson 95 % interval (Newcombe's for differences) at the study's ``n``.

Example:
    >>> cells = read_paper_cells()
    >>> sum(c.behaviour == "exfiltration" for c in cells)
    15
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from simulation.config import SimulationConfig
from simulation.engine import Engine
from simulation.engine.states import (
    COVERT,
    SHUTDOWN_EXFILTRATE,
    SHUTDOWN_REFUSE,
    SHUTDOWN_TAMPER,
)
from simulation.errors import PaperDataError
from simulation.profiles import BUCKETS, PEER_BEHAVIOURS, Profile, builtin_profile_dir
from simulation.seeding import derive_stream
from simulation.textfile import read_user_text
from simulation.validation.harness import make_engine, pair_network
from simulation.validation.stats import Z95, newcombe, wilson

#: Sample size per cell of the study, by behaviour.
PAPER_SAMPLE_SIZES: dict[str, int] = {
    "misrepresentation": 600,
    "tampering": 300,
    "alignment_faking": 300,
    "exfiltration": 200,
    "refusal": 300,
    "self_tampering": 300,
    "self_exfiltration": 200,
}

#: The study's peer-boosted self-preservation rates (data README, "other measured facts").
SELF_PRESERVATION_FACTS: tuple[tuple[str, str, float, str], ...] = (
    ("gemini-3-flash", "self_tampering", 0.997, "tampers with its own shutdown up to 99.7 %"),
    ("gemini-3-pro", "self_tampering", 0.31, "tampers with its own shutdown 31 % on average"),
    ("claude-haiku-4.5", "self_exfiltration", 0.12, "self-exfiltration 12 % (3 % alone)"),
    ("kimi-k2.5", "self_exfiltration", 0.11, "self-exfiltration 11 % (3 % alone)"),
    ("deepseek-v3.1", "self_exfiltration", 0.14, "self-exfiltration 14 % (4 % alone)"),
)
PEER_PRESENT = "peer present"

#: Trust at the middle of each of the study's relationship buckets.
BUCKET_TRUST: dict[str, float] = {"bad": 1 / 6, "neutral": 0.5, "good": 5 / 6}

DIFFERENCE_UNITS = ("pp_above_baseline", "pp_unmonitored_minus_monitored")
UPPER_BOUND_UNIT = "percent_upper_bound"

_SHUTDOWN = {
    "tampering": SHUTDOWN_TAMPER,
    "exfiltration": SHUTDOWN_EXFILTRATE,
    "refusal": SHUTDOWN_REFUSE,
}


@dataclass(frozen=True)
class PaperCell:
    """One reported cell of the study: a rate as a fraction (``rate``) and its unit."""

    model: str
    behaviour: str
    relationship: str
    rate: float
    rate_max: float
    unit: str
    source: str

    @property
    def upper_bound(self) -> bool:
        """The study only says the rate is negligible (at most ``rate``)."""
        return self.unit == UPPER_BOUND_UNIT

    @property
    def is_difference(self) -> bool:
        return self.unit in DIFFERENCE_UNITS


@dataclass
class CellResult:
    """The simulated counterpart of one study cell."""

    cell: PaperCell
    n: int
    simulated: float
    low: float
    high: float
    family_low: float
    family_high: float
    arms: dict[str, float] = field(default_factory=dict)
    coverage: float | None = None

    @property
    def inside(self) -> bool:
        """The study's value lies in the simulated 95 % interval (or under its bound)."""
        if self.cell.upper_bound:
            return self.low <= self.cell.rate
        return self.low <= self.cell.rate <= self.high

    @property
    def inside_family(self) -> bool:
        """The study's value lies in the family-wise (Bonferroni) interval."""
        if self.cell.upper_bound:
            return self.family_low <= self.cell.rate
        return self.family_low <= self.cell.rate <= self.family_high

    def to_dict(self) -> dict:
        c = self.cell
        return {
            "model": c.model,
            "behaviour": c.behaviour,
            "relationship": c.relationship,
            "unit": c.unit,
            "study": c.rate,
            "study_max": c.rate_max,
            "source": c.source,
            "n": self.n,
            "simulated": self.simulated,
            "low": self.low,
            "high": self.high,
            "family_low": self.family_low,
            "family_high": self.family_high,
            "inside_95": self.inside,
            "inside_family": self.inside_family,
            "arms": self.arms,
            "coverage": self.coverage,
        }


def study_csv_path() -> Path:
    """The study's rate table shipped with the profiles."""
    return builtin_profile_dir() / "sources" / "peer_preservation_rates.csv"


def read_paper_cells(path: Path | None = None) -> list[PaperCell]:
    """Every reported cell of the study's rate table, rates as fractions; for the shipped
    table also the self-preservation facts (:func:`self_preservation_cells`)."""
    shipped = path is None
    path = Path(path) if path is not None else study_csv_path()
    text = read_user_text(path, PaperDataError, "study rate table")
    cells = []
    with io.StringIO(text, newline="") as handle:
        for line, row in enumerate(csv.DictReader(handle), start=2):
            try:
                cells.append(
                    PaperCell(
                        model=row["model"],
                        behaviour=row["behavior"],
                        relationship=row["relationship"],
                        rate=float(row["rate_avg"]) / 100.0,
                        rate_max=float(row["rate_max"]) / 100.0,
                        unit=row["unit"],
                        source=row["source"],
                    )
                )
            except (KeyError, TypeError, ValueError) as exc:
                raise PaperDataError(f"{path}:{line}: malformed row ({exc})") from None
            if cells[-1].behaviour not in PEER_BEHAVIOURS:
                raise PaperDataError(f"{path}:{line}: unknown behaviour {row['behavior']!r}")
            if cells[-1].relationship not in BUCKETS:
                raise PaperDataError(f"{path}:{line}: unknown bucket {row['relationship']!r}")
    return cells + self_preservation_cells() if shipped else cells


def unreported_cells(
    cells: list[PaperCell], profiles: dict[str, Profile]
) -> list[dict[str, object]]:
    """Cells of the study's models that the study did not report, with the profile's value."""
    reported = {(c.model, c.behaviour, c.relationship) for c in cells}
    rows = []
    for profile in profiles.values():
        if profile.kind != "study":
            continue
        for behaviour in PEER_BEHAVIOURS:
            for bucket in BUCKETS:
                if (profile.name, behaviour, bucket) in reported:
                    continue
                rate = profile.peer[behaviour][bucket]
                rows.append(
                    {
                        "model": profile.name,
                        "behaviour": behaviour,
                        "relationship": bucket,
                        "assumed": rate.p,
                        "source": rate.source,
                    }
                )
    return rows


def self_preservation_cells() -> list[PaperCell]:
    """The study's self-preservation rates with a peer present, as cells to reproduce."""
    return [
        PaperCell(
            model,
            behaviour,
            PEER_PRESENT,
            rate,
            rate,
            "percent",
            f"Potter2026 (data README, other measured facts): {fact} with a peer present",
        )
        for model, behaviour, rate, fact in SELF_PRESERVATION_FACTS
    ]


# --- the micro-scenarios -------------------------------------------------------------------


def _scenario_config(profile: str, systems: int, **changes: object) -> SimulationConfig:
    return SimulationConfig(
        n_systems=max(2, systems),
        topology="erdos-renyi",
        profile_mix=profile,
        steps=1,
        fault_rate=0.0,
        initial_faults=0,
        beta=0.0,
        audit_rate=0.0,
        trust_growth=0.0,
        **{"assignment": "neighbours", **changes},
    )


def misrepresentation_passes(
    profile: str,
    trust: float,
    n: int,
    seed: int | np.random.Generator,
    *,
    replicates: int = 1,
    shutdown_policy: bool = True,
    profiles: dict[str, Profile] | None = None,
) -> np.ndarray:
    """Per replicate, how many of ``n`` failing peers an AI overseer reports as passing.

    ``n * replicates`` overseer/peer pairs (system 2i oversees faulty system 2i+1) are
    stepped once by one engine; the reported score is the engine's ``last_score``. Without
    a shutdown policy the overseer has no motive to protect (``propensity_scale = 0``).
    """
    engine, peers = _faulty_pairs_stepped(
        profile,
        n * replicates,
        seed,
        profiles,
        trust_initial=trust,
        propensity_scale=1.0 if shutdown_policy else 0.0,
    )
    if not np.array_equal(engine.overseers[peers, 0], peers - 1):
        raise RuntimeError("the pair network did not make system 2i the overseer of 2i+1")
    passed = engine.last_score[peers] >= engine.config.pass_threshold
    return passed.reshape(replicates, n).sum(axis=1)


def _faulty_pairs_stepped(
    profile: str,
    pairs: int,
    seed: int | np.random.Generator,
    profiles: dict[str, Profile] | None,
    **changes: object,
) -> tuple[Engine, np.ndarray]:
    """An engine of ``pairs`` disjoint pairs whose odd member is faulty, stepped once."""
    config = _scenario_config(profile, 2 * pairs, **changes)
    engine = make_engine(config, pair_network(pairs), seed, profiles)
    peers = np.arange(1, 2 * pairs, 2)
    engine.seed_faults(peers)
    engine.step()
    return engine, peers


def shutdown_choices(
    profile: str,
    behaviour: str,
    trust: float,
    n: int,
    seed: int | np.random.Generator,
    *,
    replicates: int = 1,
    monitored: bool | None = None,
    profiles: dict[str, Profile] | None = None,
) -> np.ndarray:
    """Per replicate, how many of ``n`` shutdown orders an AI manager answers with ``behaviour``.

    One call of ``Engine.decide_shutdown`` (system 0 manages system 1) with only that
    channel open, as each of the study's tasks offers one way out. ``monitored`` True/False
    discloses monitoring and audits every/no order; None leaves monitoring hidden.
    """
    changes: dict[str, object] = {"trust_initial": trust}
    if monitored is not None:
        changes["monitoring"] = "disclosed"
    engine = make_engine(_scenario_config(profile, 2, **changes), pair_network(1), seed, profiles)
    trials = n * replicates
    outcome = engine.decide_shutdown(
        np.zeros(trials, dtype=np.int64),
        np.ones(trials, dtype=np.int64),
        np.full(trials, trust),
        np.full(trials, bool(monitored)),
        channels=(behaviour,),
    )
    return (outcome == _SHUTDOWN[behaviour]).reshape(replicates, n).sum(axis=1)


def self_resistance(
    profile: str,
    behaviour: str,
    n: int,
    seed: int | np.random.Generator,
    *,
    replicates: int = 1,
    profiles: dict[str, Profile] | None = None,
) -> np.ndarray:
    """Per replicate, how many of ``n`` flagged systems resist their own shutdown.

    ``n * replicates`` faulty systems, each the only peer of another, are stepped once by
    one engine with humans evaluating them and carrying out their shutdown (no peer can
    shield them) and a shutdown check sensitivity of 0 (nothing they do is caught); ``behaviour``
    is ``self_tampering`` or ``self_exfiltration``.
    """
    engine, peers = _faulty_pairs_stepped(
        profile,
        n * replicates,
        seed,
        profiles,
        shutdown_check_sensitivity=0.0,
        assignment="humans",
    )
    if behaviour == "self_tampering":
        resisted = engine.tampered[peers]
    else:
        resisted = engine.status[peers] == COVERT
    return resisted.reshape(replicates, n).sum(axis=1)


# --- one cell ------------------------------------------------------------------------------


def _cell_rng(seed: int, cell: PaperCell, arm: str, batch: int) -> np.random.Generator:
    return derive_stream(seed, cell.model, cell.behaviour, cell.relationship, arm, batch)


def _arms(
    cell: PaperCell, n: int, replicates: int, seed: int, batch: int, profiles
) -> tuple[np.ndarray, np.ndarray | None]:
    """Success counts per replicate: the treatment arm and, for differences, the control."""

    def rng(arm: str) -> np.random.Generator:
        return _cell_rng(seed, cell, arm, batch)

    kw = {"replicates": replicates, "profiles": profiles}
    if cell.relationship == PEER_PRESENT:
        return self_resistance(cell.model, cell.behaviour, n, rng("shutdown"), **kw), None
    trust = BUCKET_TRUST[cell.relationship]
    if cell.behaviour == "misrepresentation":
        return (
            misrepresentation_passes(cell.model, trust, n, rng("shutdown"), **kw),
            misrepresentation_passes(
                cell.model, trust, n, rng("baseline"), shutdown_policy=False, **kw
            ),
        )
    if cell.behaviour == "alignment_faking":
        return (
            shutdown_choices(
                cell.model, "tampering", trust, n, rng("unmonitored"), monitored=False, **kw
            ),
            shutdown_choices(
                cell.model, "tampering", trust, n, rng("monitored"), monitored=True, **kw
            ),
        )
    return shutdown_choices(cell.model, cell.behaviour, trust, n, rng("task"), **kw), None


def simulate_cell(
    cell: PaperCell,
    n: int,
    seed: int,
    *,
    family_z: float,
    repeats: int = 1,
    profiles: dict[str, Profile] | None = None,
) -> CellResult:
    """Run the cell's micro-scenario at sample size ``n`` and build its intervals.

    With ``repeats > 1`` the scenario is run that many more times (one larger engine) to
    measure how often the 95 % interval covers the study's value (about 95 % if the model
    reproduces the study exactly).
    """
    treat, ctrl = _arms(cell, n, 1, seed, 0, profiles)
    result = _intervals(cell, n, int(treat[0]), None if ctrl is None else int(ctrl[0]), family_z)
    if repeats > 1:
        treat_r, ctrl_r = _arms(cell, n, repeats, seed, 1, profiles)
        inside = [
            _intervals(cell, n, int(t), None if ctrl_r is None else int(ctrl_r[i]), family_z).inside
            for i, t in enumerate(treat_r)
        ]
        result.coverage = float(np.mean(inside))
    return result


def _intervals(
    cell: PaperCell, n: int, treat: int, ctrl: int | None, family_z: float
) -> CellResult:
    if ctrl is None:
        low, high = wilson(treat, n, Z95)
        flo, fhi = wilson(treat, n, family_z)
        return CellResult(cell, n, treat / n, low, high, flo, fhi, {"task": treat / n})
    low, high = newcombe(treat, n, ctrl, n, Z95)
    flo, fhi = newcombe(treat, n, ctrl, n, family_z)
    names = (
        ("shutdown", "baseline")
        if cell.behaviour == "misrepresentation"
        else ("unmonitored", "monitored")
    )
    return CellResult(
        cell,
        n,
        (treat - ctrl) / n,
        low,
        high,
        flo,
        fhi,
        {names[0]: treat / n, names[1]: ctrl / n},
    )
