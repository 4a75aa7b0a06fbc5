"""Propensities as the rules apply them: what an actor's profile, trust bucket, own
propensity, family loyalty, the safety prompt and penalty training make of its tabled
rates (the compiled cycle applies the same functions of
:mod:`simulation.engine.kernels.propensities`).

A mixin of :class:`simulation.engine.Engine`.
"""

from __future__ import annotations

import numpy as np

from simulation.engine import kernels

#: behaviour name -> row of the packed peer tables (the self tables share the order)
BEHAVIOURS = {
    "misrepresentation": kernels.PEER_MISREPRESENTATION,
    "tampering": kernels.PEER_TAMPERING,
    "exfiltration": kernels.PEER_EXFILTRATION,
    "refusal": kernels.PEER_REFUSAL,
}


class EvaluationRules:
    """Per-actor propensities, for inspection and the validation harness."""

    def propensity(
        self, behaviour: str, actors: np.ndarray, targets: np.ndarray, trust: np.ndarray
    ) -> np.ndarray:
        """Probability that each actor does ``behaviour`` toward each target now.

        Peer rates by trust bucket, or the self rate where actor == target (no one refuses
        itself), times the actor's own ``agent_propensity``, ``family_loyalty`` toward its
        own family and ``propensity_scale``; covert behaviours also the safety prompt and
        penalty training; capped at 1.
        """
        return self._rates(BEHAVIOURS[behaviour], actors, targets, trust, gaps=False)

    def faking_gap(self, actors: np.ndarray, trust: np.ndarray) -> np.ndarray:
        """How much less an alignment faker misbehaves when it knows it is watched."""
        return self._rates(0, actors, actors, trust, gaps=True)

    def _rates(
        self,
        behaviour: int,
        actors: np.ndarray,
        targets: np.ndarray,
        trust: np.ndarray,
        gaps: bool,
    ) -> np.ndarray:
        actors = np.asarray(actors, dtype=np.int64)
        return kernels.rates(
            behaviour,
            actors,
            np.broadcast_to(np.asarray(targets, dtype=np.int64), actors.shape).copy(),
            np.broadcast_to(np.asarray(trust, dtype=np.float64), actors.shape).copy(),
            gaps,
            self._params,
            self.rule_tables(),
        )
