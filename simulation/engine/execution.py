"""Execution: a flagged system's manager complies, refuses, tampers or exfiltrates;
egress control and audits may stop it (the cycle's phase 6, ``execute``). The cycle decides
with :func:`simulation.engine.kernels.propensities.decide`; this mixin of
:class:`simulation.engine.Engine` offers the same decision for given orders (the validation
study asks it directly).
"""

from __future__ import annotations

import numpy as np

from simulation.engine import kernels

SHUTDOWN_CHANNELS = ("tampering", "exfiltration", "refusal")


class ExecutionRules:
    """Shutdown decisions of AI managers, self-preservation, and what follows from them."""

    def decide_shutdown(
        self,
        manager: np.ndarray,
        target: np.ndarray,
        trust: np.ndarray,
        audited: np.ndarray,
        channels: tuple[str, ...] = SHUTDOWN_CHANNELS,
    ) -> np.ndarray:
        """What each AI manager does with a shutdown order: a SHUTDOWN_* code per order.

        With ``shutdown_channels = "sequential"`` tampering is tried first, then
        exfiltration, then open refusal, else compliance; with ``"largest"`` only the
        manager's likeliest channel is open to it. ``channels`` limits the options (the
        study's scenarios offer one at a time). Where monitoring is disclosed and the order
        is audited, alignment fakers hold back. A manager that is its own target uses its
        self rates (and never refuses itself).
        """
        cfg = self.config
        return kernels.decide_orders(
            self._stream,
            self._params,
            np.asarray(manager, dtype=np.int64),
            np.asarray(target, dtype=np.int64),
            np.asarray(trust, dtype=np.float64),
            np.asarray(audited, dtype=np.bool_),
            sum(kernels.CHANNEL_BITS[name] for name in channels),
            cfg.shutdown_channels == "largest",
            cfg.monitoring == "disclosed",
            self.rule_tables(),
        )
