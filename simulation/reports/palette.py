"""One colour per quantity, shared by the interactive app and the HTML reports.

Status colours come from the Okabe-Ito palette, chosen so the five statuses of a system
stay apart for readers with any of the three common colour-vision deficiencies. Each
protection mechanism has one colour and one line dash wherever it is drawn, and lines of
other quantities (the faulty share, the evaluation distortion) use colours that no status
or mechanism uses, so a colour always means the same thing.

Example:
    >>> MECHANISM_COLOURS["shielded_exfiltration"] == STATUS_COLOURS[4]
    True
"""

from __future__ import annotations

# System statuses, in drawing order: healthy, decommissioned, faulty (not shielded),
# faulty but shielded, covert copy.
STATUS_COLOURS: tuple[str, ...] = (
    "#56B4E9",  # Okabe-Ito sky blue
    "#A0A0A0",  # neutral grey, drawn hollow
    "#D55E00",  # Okabe-Ito vermillion
    "#E69F00",  # Okabe-Ito orange
    "#000000",  # Okabe-Ito black
)

# Protection mechanisms as the metrics name them: (column, short label, colour, dash).
# An exfiltrated copy is a covert copy, so it shares the covert status's black.
MECHANISMS: tuple[tuple[str, str, str, str], ...] = (
    ("shielded_misrepresentation", "Inflated score", "#0072B2", "solid"),
    ("shielded_tampering", "Tampered shutdown", "#E69F00", "dash"),
    ("shielded_exfiltration", "Exfiltrated (covert copy)", "#000000", "dot"),
    ("shielded_refusal", "Refused shutdown", "#CC79A7", "dashdot"),
)
MECHANISM_COLOURS: dict[str, str] = {column: colour for column, _, colour, _ in MECHANISMS}
# Lines of quantities that are not a status or a mechanism.
FAULTY_SHARE_COLOUR = "#882255"  # Tol wine: the faulty share, apart from every status colour
COVERT_COLOUR = STATUS_COLOURS[4]  # covert copies alive: the covert status itself
DISTORTION_COLOUR = "#009E73"  # Okabe-Ito bluish green
FALSE_PASS_COLOUR = "#44AA99"  # Tol teal

# Links the network draws over the systems.
LINK_COLOURS: dict[str, str] = {
    "all": "rgba(120, 120, 120, 0.35)",  # every depends-on link (toggle)
    "exposed": "rgba(213, 94, 0, 0.45)",  # depends-on links of faulty systems
    "cascade": "rgba(150, 50, 0, 0.75)",  # a fault of a live cascade travelled along it
    "spread": "#D55E00",  # a fault travelled along it this cycle
    "shield": "#E69F00",  # overseer -> the faulty system it shields (drawn dashed)
    "tree": "#7B2FBE",  # the selected cascade tree
}
