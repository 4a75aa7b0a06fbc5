"""Outcomes as readers see them: a value with its unit (``'12.3 %'``, ``'+1.2 pp'``), the
factor and unit an axis shows, and an axis title, all read from the registry in
:mod:`simulation.metrics`.

Example:
    >>> format_outcome("cascades", 318)
    '318 trees'
"""

from __future__ import annotations

import math
from typing import Any

from simulation.metrics import INTEGER_OUTCOMES, OUTCOMES, SUMMARY_DESCRIPTIONS

#: how units are written after a number
_UNIT_TEXT = {"hours": "h", "hours/cycle": "h/cycle", "share": "", "pp": "pp"}


def outcome_scale(name: str) -> tuple[float, str]:
    """(factor, unit) to show an outcome in: shares in %, others in their own unit.

    >>> outcome_scale("faulty_share_mean"), outcome_scale("eval_distortion_mean")
    ((100.0, '%'), (1.0, 'pp'))
    """
    unit = OUTCOMES[name].unit if name in OUTCOMES else ""
    if unit == "share":
        return 100.0, "%"
    return 1.0, _UNIT_TEXT.get(unit, unit)


def outcome_title(name: str) -> str:
    """An outcome as readers see it on an axis: its description and unit.

    >>> outcome_title("faulty_share_mean")
    'Mean share of the systems in service that are faulty (%)'
    """
    description = SUMMARY_DESCRIPTIONS.get(name, name.replace("_", " "))
    _, unit = outcome_scale(name)
    text = description[:1].upper() + description[1:]
    return f"{text} ({unit})" if unit else text


def format_outcome(name: str, value: Any) -> str:
    """A run outcome as text with its unit, e.g. ``'12.3 %'``, ``'+1.2 pp'``, ``'357 events'``.

    Missing values (None or NaN, e.g. no faulty system was ever evaluated) show as ``n/a``.

    >>> format_outcome("false_pass_rate", 0.0441), format_outcome("eval_distortion_mean", 1.04)
    ('4.4 %', '+1.0 pp')
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    unit = OUTCOMES[name].unit if name in OUTCOMES else ""
    text = _UNIT_TEXT.get(unit, unit)
    suffix = f" {text}" if text else ""
    if unit == "share":
        return f"{100 * value:.1f} %"
    if unit == "pp":
        return f"{value:+.1f} pp"
    if name in INTEGER_OUTCOMES:
        return f"{int(value):,}{suffix}"
    if abs(value) >= 100:
        return f"{value:,.0f}{suffix}"
    return f"{value:.3g}{suffix}" if abs(value) < 10 else f"{value:.1f}{suffix}"
