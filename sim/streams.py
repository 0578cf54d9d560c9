"""Separate random streams for separate parts of the world (common random numbers).

One `SeedSequence` per run is spawned into named child streams. Visitors draw only from
their own stream, so two policies run with the same seed see the same visitors; likewise
offenders. Policy-dependent events (a theft, an arrest) draw from streams of their own and
cannot shift the visitors' or offenders' draws.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

STREAM_NAMES = ("visitors", "offenders", "police", "incidents", "sensors")


@dataclass(frozen=True)
class Streams:
    """Named, independent generators spawned from one seed."""

    visitors: np.random.Generator
    offenders: np.random.Generator
    police: np.random.Generator
    incidents: np.random.Generator
    sensors: np.random.Generator

    @classmethod
    def from_seed(cls, seed: int) -> Streams:
        """Spawn every stream from `SeedSequence(seed)` in a fixed order."""
        children = np.random.SeedSequence(seed).spawn(len(STREAM_NAMES))
        return cls(*(np.random.default_rng(c) for c in children))
