"""Closed-form probabilities the engine derives its constants from.

Example:
    >>> normal_tail_probability(0.0, 1.0)
    0.5
"""

from __future__ import annotations

from scipy.special import ndtr


def normal_tail_probability(cut: float, sd: float) -> float:
    """P(N(0, sd) < cut); a step function when ``sd`` is 0."""
    if sd == 0.0:
        return 1.0 if cut > 0.0 else 0.0
    return float(ndtr(cut / sd))
