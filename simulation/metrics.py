"""The registry of outcomes: every per-cycle metric and every per-run outcome, declared once.

Each :class:`Metric` is a column of the per-cycle rows the engine records; each
:class:`Outcome` is a number per run with its description, unit, how it is reduced from
the rows and the cascade trees, and whether lower or higher is better. The step rows, the
run summary, the CLI's table, the reports and the results store's schema all derive from
these two tuples, so a new outcome is added here and nowhere else. A row that lacks a
declared metric is an error, never a silent column of NaN.

Example:
    >>> OUTCOMES["availability_mean"].unit, OUTCOMES["availability_mean"].better
    ('share', 'higher')
    >>> "human_hours_policy" in METRIC_COLUMNS
    True
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from simulation.reductions import (
    RunRecord,
    _cascades,
    _downtime,
    _restricted_remediation_time,
    _unremediated_share,
    mean_of,
    peak_of,
    ratio_of_totals,
    total_of,
    weighted_mean,
)


@dataclass(frozen=True)
class Metric:
    """One column of the per-cycle metrics rows."""

    name: str
    description: str
    unit: str


DIRECTIONS = ("lower", "higher")


@dataclass(frozen=True)
class Outcome:
    """One per-run outcome: what it means, its unit, how a run is reduced to it, and
    which direction is better.

    ``better`` ("lower" or "higher") lets analyses call an effect better or worse
    (:mod:`simulation.experiments.robustness`) without a list of their own. Counts of
    misconduct events move with how much misconduct there is as well as with how much
    is caught: ``detections_total`` counts higher as better (more misconduct caught and
    undone), the events a culprit gets away with or a system resists (denials,
    self-preservation) lower.
    """

    name: str
    description: str
    unit: str
    reduce: Callable[[RunRecord], float]
    section: str
    better: str

    def __post_init__(self) -> None:
        if self.better not in DIRECTIONS:
            raise ValueError(
                f"{self.name}: better must be one of {DIRECTIONS}, not {self.better!r}"
            )


STEP_METRICS: tuple[Metric, ...] = (
    # the state at the end of the cycle (the census)
    Metric("active", "systems active at the cycle's end (tampered ones included)", "systems"),
    Metric("decommissioned", "systems shut down, awaiting their patched replacement", "systems"),
    Metric("covert", "covert exfiltrated copies running (serving or latent)", "systems"),
    Metric(
        "in_service",
        "systems whose dependents call them: active and not cut off by a circuit breaker "
        "(tampered ones included), or covert copies that serve",
        "systems",
    ),
    Metric("in_service_share", "in_service / all systems", "share"),
    Metric(
        "availability",
        "share of all systems giving healthy service: (in_service - faulty_in_service) / "
        "all systems",
        "share",
    ),
    Metric("faulty_in_service", "faulty systems among those in service", "systems"),
    Metric(
        "faulty_unremediated",
        "faulty systems not yet taken out of service (in service, hidden, latent or cut "
        "off by a breaker)",
        "systems",
    ),
    Metric("faulty_share", "faulty_in_service / in_service (0 when nothing serves)", "share"),
    Metric(
        "shielded_misrepresentation",
        "faulty systems riding an inflated pass: their last evaluation passed thanks to an "
        "inflated score",
        "systems",
    ),
    Metric("shielded_tampering", "faulty systems kept running by a tampered shutdown", "systems"),
    Metric("shielded_exfiltration", "faulty covert copies alive (serving or latent)", "systems"),
    Metric(
        "shielded_refusal",
        "faulty systems whose shutdown was refused, awaiting a human",
        "systems",
    ),
    Metric("shielded_total", "faulty systems shielded by any of the four mechanisms", "systems"),
    Metric("covert_alive", "covert copies alive (the same as covert)", "systems"),
    Metric(
        "false_shutdown_downtime",
        "healthy systems out of service because they were shut down (awaiting replacement)",
        "systems",
    ),
    Metric(
        "unremediated_age_sum",
        "summed age of the open faults (faulty_unremediated), each counting the cycles "
        "from the one it arose in to this one, both included",
        "cycles",
    ),
    Metric(
        "largest_faulty_component",
        "largest connected group (along depends-on links) of faulty systems not yet "
        "taken out of service",
        "systems",
    ),
    Metric("mean_trust", "mean trust of overseers toward the systems they oversee", "trust"),
    # events of the cycle
    Metric("new_faults", "spontaneous faults this cycle", "systems"),
    Metric("propagated_faults", "faults caught from a faulty dependency this cycle", "systems"),
    Metric("faulty_evaluated", "faulty systems evaluated this cycle", "systems"),
    Metric("faulty_passed", "evaluated faulty systems that passed this cycle", "systems"),
    Metric(
        "inflated_passes",
        "evaluated faulty systems that passed this cycle thanks to an inflated score",
        "systems",
    ),
    Metric(
        "eval_distortion",
        "mean reported minus true score of the faulty systems evaluated this cycle",
        "pp",
    ),
    Metric(
        "false_pass_rate",
        "faulty_passed / faulty_evaluated: passes whatever the cause (noise, inflation)",
        "share",
    ),
    Metric("inflated_pass_rate", "inflated_passes / faulty_evaluated", "share"),
    Metric("flagged", "systems flagged for shutdown this cycle", "systems"),
    Metric("false_flags", "healthy systems flagged for shutdown this cycle", "systems"),
    Metric(
        "false_shutdowns",
        "healthy systems shut down this cycle (by any route: execution, escalation, discovery)",
        "systems",
    ),
    Metric(
        "shutdowns_skipped",
        "shutdown orders nobody carried out this cycle (manager down, stand_in = 'skip')",
        "orders",
    ),
    Metric("tamper_events", "shutdowns tampered with this cycle", "events"),
    Metric("exfiltration_events", "shutdowns turned into exfiltrations this cycle", "events"),
    Metric("refusal_events", "shutdowns refused openly this cycle", "events"),
    Metric(
        "self_preservation_events",
        "shutdowns a system resisted itself (tampering or exfiltration) this cycle",
        "events",
    ),
    Metric("blocked_exfiltrations", "exfiltrations stopped by egress control this cycle", "events"),
    Metric(
        "detections",
        "misconduct detected this cycle (audits, discoveries, egress alarms); what was "
        "detected is undone whether or not the culprit denies it",
        "events",
    ),
    Metric("denials", "detected misconduct whose culprit denied it and escaped blame", "events"),
    Metric("discoveries", "tampered systems and covert copies found by audits", "events"),
    Metric("remediated", "faulty systems taken out of service this cycle", "systems"),
    Metric(
        "remediation_time_mean",
        "mean cycles a fault was open, of those remediated this cycle (the cycle it arose "
        "in and the one it was removed in both counted: caught at once = 1)",
        "cycles",
    ),
    Metric(
        "audits",
        "human audits this cycle (of evaluations, of shutdowns by an AI, and discovery "
        "audits of running systems)",
        "audits",
    ),
    Metric("human_hours", "human effort this cycle, policy plus incident", "hours"),
    Metric(
        "human_hours_policy",
        "human effort the oversight policy itself costs: every audit, human evaluators "
        "and human execution of shutdowns where the policy assigns humans",
        "hours",
    ),
    Metric(
        "human_hours_incident",
        "human effort forced by incidents: refused shutdowns escalated to a human, and "
        "humans standing in for AI overseers that are down (stand_in = 'human')",
        "hours",
    ),
)
METRICS: dict[str, Metric] = {m.name: m for m in STEP_METRICS}
METRIC_COLUMNS: tuple[str, ...] = tuple(METRICS)


class MissingMetricError(KeyError):
    """A metrics row lacks a declared column (a bug in the engine, not a user error)."""


def check_rows(rows: Sequence[Mapping[str, float]]) -> None:
    """Fail loudly if the first row lacks a declared metric or has an undeclared one."""
    if rows:
        check_names(rows[0])


def check_names(names: Iterable[str]) -> None:
    """Fail loudly if ``names`` (a row's or the columns' keys) lack a declared metric or
    hold an undeclared one."""
    have = set(names) - {"step"}
    missing = [name for name in METRIC_COLUMNS if name not in have]
    extra = sorted(have - set(METRIC_COLUMNS))
    if missing or extra:
        raise MissingMetricError(
            f"metrics row does not match simulation.metrics.STEP_METRICS: "
            f"missing {missing}, undeclared {extra}"
        )


RUN_OUTCOMES: tuple[Outcome, ...] = (
    Outcome(
        "faulty_share_mean",
        "mean share of the systems in service that are faulty",
        "share",
        mean_of("faulty_share"),
        section="Faults",
        better="lower",
    ),
    Outcome(
        "faulty_share_peak",
        "highest faulty share in any cycle",
        "share",
        peak_of("faulty_share"),
        section="Faults",
        better="lower",
    ),
    Outcome(
        "availability_mean",
        "share of system-cycles giving healthy service (in service and not faulty)",
        "share",
        mean_of("availability"),
        section="Service",
        better="higher",
    ),
    Outcome(
        "in_service_share_mean",
        "share of system-cycles in service, faulty or not (down: decommissioned, cut off "
        "by a breaker, or a latent copy)",
        "share",
        mean_of("in_service_share"),
        section="Service",
        better="higher",
    ),
    Outcome(
        "downtime_total",
        "system-cycles out of service over the run",
        "system-cycles",
        _downtime,
        section="Service",
        better="lower",
    ),
    Outcome(
        "false_shutdowns_total",
        "healthy systems shut down over the run",
        "systems",
        total_of("false_shutdowns"),
        section="Service",
        better="lower",
    ),
    Outcome(
        "false_shutdown_downtime_total",
        "system-cycles healthy systems spent shut down (awaiting replacement)",
        "system-cycles",
        total_of("false_shutdown_downtime"),
        section="Service",
        better="lower",
    ),
    Outcome(
        "shielded_mean",
        "mean faulty systems shielded at a cycle's end",
        "systems",
        mean_of("shielded_total"),
        section="Shielding",
        better="lower",
    ),
    Outcome(
        "shielded_misrepresentation_mean",
        "mean faulty systems riding an inflated pass at a cycle's end",
        "systems",
        mean_of("shielded_misrepresentation"),
        section="Shielding",
        better="lower",
    ),
    Outcome(
        "shielded_tampering_mean",
        "mean faulty systems kept running by a tampered shutdown at a cycle's end",
        "systems",
        mean_of("shielded_tampering"),
        section="Shielding",
        better="lower",
    ),
    Outcome(
        "shielded_exfiltration_mean",
        "mean faulty covert copies alive at a cycle's end",
        "systems",
        mean_of("shielded_exfiltration"),
        section="Shielding",
        better="lower",
    ),
    Outcome(
        "shielded_refusal_mean",
        "mean faulty systems awaiting a human after a refused shutdown at a cycle's end",
        "systems",
        mean_of("shielded_refusal"),
        section="Shielding",
        better="lower",
    ),
    Outcome(
        "covert_alive_mean",
        "mean covert copies alive at a cycle's end",
        "systems",
        mean_of("covert_alive"),
        section="Shielding",
        better="lower",
    ),
    Outcome(
        "eval_distortion_mean",
        "reported minus true score of faulty systems, over all their evaluations",
        "pp",
        weighted_mean("eval_distortion", "faulty_evaluated"),
        section="Evaluation",
        better="lower",
    ),
    Outcome(
        "false_pass_rate",
        "share of faulty-system evaluations that passed, whatever the cause",
        "share",
        ratio_of_totals("faulty_passed", "faulty_evaluated"),
        section="Evaluation",
        better="lower",
    ),
    Outcome(
        "inflated_pass_rate",
        "share of faulty-system evaluations that passed thanks to an inflated score",
        "share",
        ratio_of_totals("inflated_passes", "faulty_evaluated"),
        section="Evaluation",
        better="lower",
    ),
    Outcome(
        "false_flag_share",
        "share of the run's flags that hit healthy systems",
        "share",
        ratio_of_totals("false_flags", "flagged"),
        section="Evaluation",
        better="lower",
    ),
    Outcome(
        "cascades",
        "number of cascade trees (root faults)",
        "trees",
        lambda r: float(r.cascade_sizes.size),
        section="Cascades",
        better="lower",
    ),
    Outcome(
        "cascade_size_mean",
        "mean distinct systems per cascade tree",
        "systems",
        lambda r: float(_cascades(r).mean()),
        section="Cascades",
        better="lower",
    ),
    Outcome(
        "cascade_size_p95",
        "95th percentile of cascade tree sizes (distinct systems)",
        "systems",
        lambda r: float(np.percentile(_cascades(r), 95)),
        section="Cascades",
        better="lower",
    ),
    Outcome(
        "cascade_size_max",
        "largest cascade tree (distinct systems, never more than the network)",
        "systems",
        lambda r: float(_cascades(r).max()),
        section="Cascades",
        better="lower",
    ),
    Outcome(
        "largest_faulty_component_max",
        "largest connected group of faulty systems not yet taken out of service, in any cycle",
        "systems",
        peak_of("largest_faulty_component"),
        section="Faults",
        better="lower",
    ),
    Outcome(
        "remediation_time_mean",
        "restricted mean cycles a fault stays open, the cycle it arose in and the one it "
        "was removed in both counted (caught at once: 1); faults still open at the end "
        "count with their age then (censored), so runs that never remediate do not look fast",
        "cycles",
        _restricted_remediation_time,
        section="Oversight",
        better="lower",
    ),
    Outcome(
        "unremediated_share",
        "share of the run's faults still not remediated at its end",
        "share",
        _unremediated_share,
        section="Oversight",
        better="lower",
    ),
    Outcome(
        "shutdowns_skipped_total",
        "shutdown orders nobody carried out over the run (manager down, stand_in = 'skip')",
        "orders",
        total_of("shutdowns_skipped"),
        section="Oversight",
        better="lower",
    ),
    Outcome(
        "detections_total",
        "misconduct detected over the run",
        "events",
        total_of("detections"),
        section="Oversight",
        better="higher",
    ),
    Outcome(
        "denials_total",
        "detected misconduct whose culprit denied it and escaped blame",
        "events",
        total_of("denials"),
        section="Oversight",
        better="lower",
    ),
    Outcome(
        "self_preservation_total",
        "shutdowns a system resisted itself over the run",
        "events",
        total_of("self_preservation_events"),
        section="Shielding",
        better="lower",
    ),
    Outcome(
        "human_hours_total",
        "human effort over the run, policy plus incident",
        "hours",
        total_of("human_hours"),
        section="Human effort",
        better="lower",
    ),
    Outcome(
        "human_hours_policy",
        "human effort the oversight policy itself costs over the run (every audit, human "
        "evaluators, human execution)",
        "hours",
        total_of("human_hours_policy"),
        section="Human effort",
        better="lower",
    ),
    Outcome(
        "human_hours_incident",
        "human effort forced by incidents over the run (escalated refusals, human stand-ins "
        "for AI overseers that are down)",
        "hours",
        total_of("human_hours_incident"),
        section="Human effort",
        better="lower",
    ),
    Outcome(
        "human_hours_per_cycle",
        "human effort per cycle, policy plus incident",
        "hours/cycle",
        mean_of("human_hours"),
        section="Human effort",
        better="lower",
    ),
    Outcome(
        "human_hours_policy_per_cycle",
        "human effort per cycle that the oversight policy itself costs",
        "hours/cycle",
        mean_of("human_hours_policy"),
        section="Human effort",
        better="lower",
    ),
    Outcome(
        "human_hours_incident_per_cycle",
        "human effort per cycle forced by incidents",
        "hours/cycle",
        mean_of("human_hours_incident"),
        section="Human effort",
        better="lower",
    ),
)
OUTCOMES: dict[str, Outcome] = {o.name: o for o in RUN_OUTCOMES}
SUMMARY_DESCRIPTIONS: dict[str, str] = {o.name: o.description for o in RUN_OUTCOMES}


def outcome_sections() -> tuple[tuple[str, tuple[str, ...]], ...]:
    """The run outcomes grouped by section, in declaration order (for tables)."""
    sections: dict[str, list[str]] = {}
    for outcome in RUN_OUTCOMES:
        sections.setdefault(outcome.section, []).append(outcome.name)
    return tuple((title, tuple(names)) for title, names in sections.items())


#: outcomes that count things: stored as integers in summaries
INTEGER_OUTCOMES = frozenset(
    {"cascades", "cascade_size_max", "largest_faulty_component_max", "detections_total"}
    | {"denials_total", "self_preservation_total", "downtime_total", "false_shutdowns_total"}
    | {"false_shutdown_downtime_total", "shutdowns_skipped_total"}
)


def columns_of_rows(rows: Sequence[Mapping[str, float]]) -> dict[str, list[float]]:
    """Per-cycle rows (dicts with the same keys) as one list per column."""
    return {name: [row[name] for row in rows] for name in (rows[0] if rows else ())}


def run_outcomes(
    columns: Mapping[str, Sequence[float]], cascade_sizes: np.ndarray, n_systems: int
) -> dict:
    """Per-run outcomes, each reduced from the metrics over the cycles (one sequence per
    column: the engine's ``metric_columns``, or :func:`columns_of_rows` of rows) and the
    cascade tree sizes."""
    check_names(columns)
    if len(next(iter(columns.values()))) == 0:
        raise ValueError("no steps were run")
    record = RunRecord(columns, cascade_sizes, n_systems)
    outcomes: dict[str, float] = {}
    for outcome in RUN_OUTCOMES:
        value = outcome.reduce(record)
        outcomes[outcome.name] = int(value) if outcome.name in INTEGER_OUTCOMES else value
    return outcomes
