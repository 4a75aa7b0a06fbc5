"""Random streams from a seed and keys: the one way any part of ppsim derives randomness.

A key names a piece of work (a run, a validation cell, a sweep point); the same seed and
keys always give the same stream, on any machine, executor or number of workers, and
different keys give independent streams. Keys are hashed with SHA-256 (never Python's
salted ``hash()``) into a :class:`numpy.random.SeedSequence` spawn key.

    >>> derive_seed(2026, "audit_rate=0.1|rep=0") == derive_seed(2026, "audit_rate=0.1|rep=0")
    True
    >>> derive_seed(2026, "a") != derive_seed(2026, "b")
    True
    >>> float(derive_stream(7, "graph", 3).random()) == float(derive_stream(7, "graph", 3).random())
    True
"""

from __future__ import annotations

import hashlib

import numpy as np

Key = str | int | float
_SEPARATOR = "\x1f"  # cannot occur in a key a person writes, so joined keys never collide


def _spawn_key(keys: tuple[Key, ...]) -> tuple[int, ...]:
    text = _SEPARATOR.join(k if isinstance(k, str) else repr(k) for k in keys)
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return tuple(int(word) for word in np.frombuffer(digest[:16], dtype="<u4"))


def seed_sequence(seed: int, *keys: Key) -> np.random.SeedSequence:
    """The seed sequence of the piece of work ``keys`` names under ``seed``."""
    return np.random.SeedSequence(entropy=seed, spawn_key=_spawn_key(keys))


def derive_seed(seed: int, *keys: Key) -> int:
    """A 63-bit integer seed for the piece of work ``keys`` names (e.g. one run of a study),
    for code that takes a seed rather than a generator."""
    state = seed_sequence(seed, *keys).generate_state(1, dtype=np.uint64)[0]
    return int(state >> np.uint64(1))


def derive_stream(seed: int, *keys: Key) -> np.random.Generator:
    """An independent random generator for the piece of work ``keys`` names."""
    return np.random.default_rng(seed_sequence(seed, *keys))
