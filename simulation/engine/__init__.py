"""The engine: a run's whole network as arrays (``engine.py``) and the compiled cycle that
steps it, one module per phase (``kernels/``), with the vocabulary of its state
(``states.py``), its population tables (``population.py``), overseer assignment
(``oversight.py``), the rules the validation calls one decision at a time
(``evaluation.py``, ``execution.py``) and the compiled cache (``compile_cache.py``).

``Engine`` is imported from :mod:`simulation.engine.engine` on first use, so that reading
the vocabulary (``simulation.engine.states``) does not load Numba.
"""

from __future__ import annotations

from simulation import lazy_exports

_EXPORTS = {
    name: "simulation.engine.engine" for name in ("ROTATING", "ROTATION_BLOCK_BYTES", "Engine")
}

__all__ = sorted(_EXPORTS)
__getattr__ = lazy_exports(__name__, _EXPORTS)
