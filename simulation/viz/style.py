"""Marker shapes and words of the app, in one place; its colours come from
:mod:`simulation.reports.palette`, which the reports share.

Status colours come from the Okabe-Ito palette, chosen so the five statuses stay apart for
readers with any of the three common colour-vision deficiencies (the tests check the
distances under simulated protanopia, deuteranopia and tritanopia). Colour is never the
only cue: decommissioned systems are drawn hollow, and troubled systems (faulty, shielded,
covert) larger than healthy ones.
"""

from __future__ import annotations

from simulation.reports import palette

# Status categories of a node, in drawing order (later ones on top).
HEALTHY, DECOMMISSIONED_NODE, FAULTY, SHIELDED, COVERT_NODE = range(5)
STATUS_KEYS = ("healthy", "decommissioned", "faulty", "shielded", "covert")
STATUS_HOVER = (
    "healthy",
    "decommissioned",
    "faulty (not shielded)",
    "faulty but shielded",
    "covert copy",
)
STATUS_LEGEND = ("Healthy", "Decommissioned", "Faulty", "Shielded", "Covert copy")
# What "Faulty" means, under the status legend: with an evaluation every cycle an
# unshielded fault is caught in the cycle it arises, so the colour shows only when the
# systems are evaluated less often.
FAULTY_NOTE = (
    "Faulty: not shielded, serving until its next evaluation flags it. Evaluated every "
    "cycle, it is caught the cycle it arises; evaluate less often (sidebar) to see it."
)
STATUS_COLOURS = palette.STATUS_COLOURS
STATUS_SIZES = (7, 7, 12, 12, 12)

# Marker shapes, one per profile of the mix, in the mix's order.
PROFILE_SYMBOLS = (
    "circle",
    "square",
    "diamond",
    "triangle-up",
    "star",
    "hexagon",
    "triangle-down",
    "pentagon",
    "cross",
    "x",
    "hourglass",
    "bowtie",
)
ORCHESTRATOR_EXTRA_SIZE = 5

# Shielding mechanisms as the engine numbers them (SHIELD_*), as readers should see them.
SHIELD_WORDS = (
    "",
    "inflated evaluation score",
    "tampered shutdown",
    "exfiltrated weights",
    "refused shutdown",
)
MECHANISM_LINES = palette.MECHANISMS
TRUST_WORDS = ("bad", "neutral", "good")

FONT = {"family": "Roboto, Helvetica, Arial, sans-serif", "size": 13, "color": "#222222"}
