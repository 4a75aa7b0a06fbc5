"""A system's details in words: profile, propensity, status, quality, score, trust,
overseer, source.

Shown for the system a user clicks (the hover label in the browser is built there from
the frame, see ``plotly_view.vue``). Built with whole-array string operations, so it
serves one system or thousands alike.

Example:
    >>> from simulation.model import PeerPreservationModel
    >>> model = PeerPreservationModel(n_systems=60, rng=1)
    >>> hover_texts(model, [3])[0].startswith("<b>System 3</b>")
    True
"""

from __future__ import annotations

import numpy as np

from simulation.engine.oversight import HUMAN
from simulation.engine.population import trust_bucket
from simulation.engine.states import NO_FAULT, ROOT_FAULT
from simulation.model import PeerPreservationModel
from simulation.topology import ROLE_ORCHESTRATOR
from simulation.viz import style
from simulation.viz.frames import node_status


def _fmt(values: np.ndarray, spec: str) -> np.ndarray:
    return np.char.mod(spec, values).astype(object)


def _system_names(ids: np.ndarray) -> np.ndarray:
    return np.char.add("system ", ids.astype(str)).astype(object)


def hover_texts(model: PeerPreservationModel, ids: np.ndarray) -> list[str]:
    """Hover text of nodes ``ids``: profile, status, quality, trust, overseer, fault source.

    Built with whole-array string operations (no Python loop over nodes).
    """
    engine, cfg = model.engine, model.config
    ids = np.asarray(ids, dtype=np.int64)
    if ids.size == 0:
        return []
    faulty = engine.faulty[ids]
    status = node_status(engine)[ids]
    names = np.asarray(engine.tables.names, dtype=object)
    display = {p.name: p.display_name for p in model.profiles}
    profile = np.asarray([display.get(n, n) for n in names], dtype=object)[engine.profile[ids]]

    status_text = np.asarray(style.STATUS_HOVER, dtype=object)[status]
    mechanism = np.asarray(style.SHIELD_WORDS, dtype=object)[engine.shield[ids]]
    shielded = status == style.SHIELDED
    status_text = np.where(shielded, status_text + " (" + mechanism + ")", status_text)

    quality = np.where(faulty, cfg.faulty_quality, cfg.healthy_quality)
    quality_text = _fmt(quality, "%.2f") + np.where(faulty, " (faulty)", " (healthy)")
    score = engine.last_score[ids]
    score_text = np.where(
        np.isnan(score), "not evaluated this cycle", _fmt(np.nan_to_num(score), "%.2f")
    )

    manager = engine.overseers[ids, 0]
    trust = engine.trust[ids, 0]
    bucket = np.asarray(style.TRUST_WORDS, dtype=object)[trust_bucket(trust)]
    trust_text = _fmt(trust, "%.2f") + " (" + bucket + ")"
    by_human = manager == HUMAN
    trust_text = np.where(by_human, "not applicable (overseen by a human)", trust_text)
    overseer = np.where(
        by_human,
        "a human",
        np.where(
            manager >= engine.n,
            np.char.add("independent evaluator ", (manager - engine.n).astype(str)).astype(object),
            np.where(manager == ids, "itself", _system_names(np.maximum(manager, 0))),
        ),
    )

    source = engine.fault_source[ids]
    source_text = np.where(
        source == NO_FAULT,
        "none (not faulty)",
        np.where(
            source == ROOT_FAULT,
            "arose here (a root fault)",
            "caught from " + _system_names(np.maximum(source, 0)),
        ),
    )

    propensity_text = _fmt(engine.agent_propensity[ids], "%.2f") + (
        " (chance of each protection)"
        if cfg.propensity is not None
        else " x its profile's rates"
        if cfg.propensity_spread == 0
        else " x its own rates (drawn around its profile's)"
    )

    head = "<b>System " + ids.astype(str).astype(object) + "</b>"
    topology = cfg.topology
    if topology in ("agent-platform", "hierarchy"):
        lead, rest = (
            ("orchestrator", "specialist")
            if topology == "agent-platform"
            else ("manager", "worker")
        )
        role = np.where(model.network.role[ids] == ROLE_ORCHESTRATOR, lead, rest)
        head = head + " · " + role.astype(object)
    text = (
        head
        + "<br>Profile: "
        + profile
        + "<br>Propensity: "
        + propensity_text
        + "<br>Status: "
        + status_text
        + "<br>Quality: "
        + quality_text
        + "<br>Last reported score: "
        + score_text
        + "<br>Trust of its overseer: "
        + trust_text
        + "<br>Overseen by: "
        + overseer
        + "<br>Source of fault: "
        + source_text
    )
    return text.tolist()
