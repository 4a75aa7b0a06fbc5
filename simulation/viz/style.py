"""Colours, marker shapes and words of the app, in one place.

Status colours come from the Okabe-Ito palette, chosen so the five statuses stay apart for
readers with any of the three common colour-vision deficiencies (the tests check the
distances under simulated protanopia, deuteranopia and tritanopia). Colour is never the
only cue: decommissioned systems are drawn hollow, and troubled systems (faulty, shielded,
covert) larger than healthy ones.
"""

from __future__ import annotations

# Status categories of a node, in drawing order (later ones on top).
HEALTHY, DECOMMISSIONED_NODE, FAULTY, SHIELDED, COVERT_NODE = range(5)
STATUS_KEYS = ("healthy", "decommissioned", "faulty", "shielded", "covert")
STATUS_LABELS = (
    "Healthy",
    "Decommissioned (being replaced)",
    "Faulty, not shielded",
    "Faulty but shielded by its overseer",
    "Covert copy (exfiltrated, still serving)",
)
STATUS_HOVER = (
    "healthy",
    "decommissioned",
    "faulty (not shielded)",
    "faulty but shielded",
    "covert copy",
)
STATUS_COLOURS = (
    "#56B4E9",  # Okabe-Ito sky blue
    "#A0A0A0",  # neutral grey, drawn hollow
    "#D55E00",  # Okabe-Ito vermillion
    "#E69F00",  # Okabe-Ito orange
    "#000000",  # Okabe-Ito black
)
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

EDGE_STYLES = {
    "depends_on": {
        "name": "Depends on (faults flow back)",
        "color": "rgba(90, 90, 90, 0.5)",
        "svg_colour": "rgb(90,90,90)",
        "opacity": 0.22,
        "width": 0.6,
        "dash": "solid",
    },
    "oversees": {
        "name": "Oversees (evaluates, manages)",
        "color": "rgba(0, 114, 178, 0.8)",
        "svg_colour": "rgb(0,114,178)",  # Okabe-Ito blue
        "opacity": 0.45,
        "width": 0.8,
        "dash": "dot",
    },
}

# Shielding mechanisms as the engine numbers them (SHIELD_*), as readers should see them.
SHIELD_WORDS = (
    "",
    "inflated evaluation score",
    "tampered shutdown",
    "exfiltrated weights",
    "refused shutdown",
)
MECHANISM_LINES = (
    ("shielded_misrepresentation", "Inflated score", "#0072B2", "solid"),
    ("shielded_tampering", "Tampered shutdown", "#E69F00", "dash"),
    ("shielded_exfiltration", "Exfiltrated (covert copy)", "#000000", "dot"),
    ("shielded_refusal", "Refused shutdown", "#CC79A7", "dashdot"),
)
TRUST_WORDS = ("bad", "neutral", "good")

FONT = {"family": "Roboto, Helvetica, Arial, sans-serif", "size": 13, "color": "#222222"}
