"""Separate random streams for separate parts of the world (common random numbers).

One `SeedSequence` per run is spawned into named child streams. Visitors draw only from
their own stream, so two policies run with the same seed see the same visitors; likewise
the offender population (who is in town and who works which day). Each offender's own
choices draw from a stream of his own (`offender`), so what one offender does under a
policy cannot shift another's draws. Policy-dependent events (a theft, an arrest) draw
from streams of their own and cannot shift the visitors' or offenders' draws.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.errors import ConfigError

STREAM_KEYS = {
    "visitors": 0,
    "offenders": 1,
    "police": 2,
    "incidents": 3,
    "sight": 6,
    "news": 7,
    "calls": 8,
}
"""Each named stream's spawn key under the run's seed. Keys never move: 4 is retired (once
`sensors`), 5 is the branch of the offenders' own streams, and a new stream takes the next
free key. `sight` places units within a place (what is within whose sight); `news` draws how long
news of an arrest takes to reach an acquaintance; `calls` the calls for service."""
STREAM_NAMES = tuple(STREAM_KEYS)
INDIVIDUAL_OFFENDERS = 5
"""Spawn-key branch under which each offender's own stream is derived (by his index)."""


@dataclass(frozen=True)
class Streams:
    """Named, independent generators spawned from one seed."""

    visitors: np.random.Generator
    offenders: np.random.Generator
    police: np.random.Generator
    incidents: np.random.Generator
    sight: np.random.Generator
    news: np.random.Generator
    calls: np.random.Generator
    root: np.random.SeedSequence

    @classmethod
    def from_seed(cls, seed: int) -> Streams:
        """Every named stream from `SeedSequence(seed)`, each at its fixed spawn key."""
        check_seed(seed)
        root = np.random.SeedSequence(seed)
        return cls(
            **{
                name: np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(key,)))
                for name, key in STREAM_KEYS.items()
            },
            root=root,
        )

    def offender(self, index: int) -> np.random.Generator:
        """The stream of the `index`-th offender to join the pool (same under every policy)."""
        seq = np.random.SeedSequence(self.root.entropy, spawn_key=(INDIVIDUAL_OFFENDERS, index))
        return np.random.default_rng(seq)


class Uniforms:
    """A stream that only ever draws uniforms on [0, 1), handed out one at a time.

    The numbers, and their order, are those of calls to `rng.random()` (a block of them is
    the same sequence); drawing a block at a time saves a call into numpy per draw, which
    counts where every police stop draws two.
    """

    BLOCK = 4096

    def __init__(self, rng: np.random.Generator) -> None:
        self._rng = rng
        self._block: list[float] = []
        self._next = 0

    def __call__(self) -> float:
        """The next uniform draw."""
        if self._next == len(self._block):
            self._block, self._next = self._rng.random(self.BLOCK).tolist(), 0
        self._next += 1
        return self._block[self._next - 1]


class MesaGeneratorError(RuntimeError):
    """A draw from Mesa's own generators, which are outside the named streams."""


class NotTheNamedStreams:
    """Stands in for Mesa's `model.random` / `model.rng`: any use fails loudly.

    The usual Mesa idiom (`self.random.random()`, `agents.shuffle()`) would draw from one
    generator shared by every part of the world, so a policy could shift the visitors'
    draws and common random numbers would silently break.
    """

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attribute: str) -> object:
        raise MesaGeneratorError(
            f"model.{self._name}.{attribute}: Mesa's generator is not used in crowdsim; draw "
            "from the model's named streams (model.streams.visitors, .offenders, .police, "
            ".incidents, .sight, .news, .calls; sim/streams.py) so that runs keep common "
            "random numbers"
        )


def check_seed(seed: object) -> None:
    """A seed is a whole number >= 0 (what `SeedSequence` takes), else a ConfigError."""
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ConfigError("run", "seed", f"{seed!r}: a seed is a whole number >= 0")
