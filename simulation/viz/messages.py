"""The model's refusals, told in the words of the app's sidebar.

A setting the model cannot run (say, evaluation by another family in a population of
one family) is refused with the message ``ppsim run`` prints, which names configuration
fields and values (``assignment: 'cross-family' needs a profile_mix ...``). The app's
user never saw those names: the sidebar says "Who evaluates and manages each system" and
"A model of another family". :func:`in_sidebar_words` rewrites a message for the page.

Example:
    >>> print(in_sidebar_words("audit_rate: must be at most 1"))
    “Share of evaluations audited by humans”: must be at most 1
"""

from __future__ import annotations

import re

from simulation.preflight import CROSS_FAMILY
from simulation.viz.controls import ASSIGNMENT_LABELS, CONTROL_LABELS, TOPOLOGY_LABELS

CROSS_FAMILY_ADVICE = (
    "“{assignment}” is set to “{cross}”, which needs AI models of at least two model "
    "families, but the systems here are all of one family. Under “{mix}”, choose models "
    "of several families (for example “All study models, equal shares”), or choose "
    "another answer to “{assignment}”."
)
VALUE_LABELS = {**ASSIGNMENT_LABELS, **TOPOLOGY_LABELS}


def _quoted(label: str) -> str:
    return f"“{label}”"


def in_sidebar_words(message: str) -> str:
    """``message`` with every configuration name and value the sidebar shows under
    another label replaced by that label (the whole message, for the known refusals)."""
    if message.startswith(CROSS_FAMILY):
        return CROSS_FAMILY_ADVICE.format(
            assignment=CONTROL_LABELS["assignment"],
            cross=ASSIGNMENT_LABELS["cross-family"],
            mix=CONTROL_LABELS["profile_mix"].split(" (")[0],
        )
    for value, label in VALUE_LABELS.items():
        message = message.replace(f"'{value}'", _quoted(label))
    lead = re.match(r"(\w+):", message)
    if lead and lead.group(1) in CONTROL_LABELS:
        message = _quoted(CONTROL_LABELS[lead.group(1)]) + message[lead.end() - 1 :]
    # Names with an underscore are configuration names wherever they stand; plain words
    # ("seed", "steps") are also English, so only the leading name above is replaced.
    for name, label in CONTROL_LABELS.items():
        if "_" in name:
            message = re.sub(rf"(?<![\w-]){name}(?![\w-])", _quoted(label), message)
    return message
