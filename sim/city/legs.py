"""Where a traveller on the street graph is at any moment: a leg along a shortest path.

Cars answering a call and offenders running from a scene are somewhere between two nodes
most of the time. A `Leg` keeps the path and the time the traveller reaches each node, so
"how far is he now from that node" is answered from his true position, never from the
node he left.
"""

from __future__ import annotations

import bisect
from typing import NamedTuple

import numpy as np

from sim.city.graph import City


class Leg(NamedTuple):
    """Travel along `nodes`, reaching node i at `times[i]` (minutes), at `speed` m/min.

    A named tuple: a police unit makes two legs at every stop, and a tuple is made at half
    the cost of a frozen dataclass.
    """

    nodes: tuple[int, ...]
    times: tuple[float, ...]
    speed: float

    @classmethod
    def still(cls, node: int, t: float) -> Leg:
        """Standing at `node` from time `t` on."""
        return cls((node,), (t,), 1.0)

    @classmethod
    def along(cls, city: City, a: int, b: int, start: float, speed: float) -> Leg:
        """From `a` to `b` on a shortest street path, leaving at `start`."""
        if a == b:
            return cls.still(a, start)
        nodes, metres = city.route(a, b)
        return cls(nodes, tuple([start + m / speed for m in metres]), speed)

    @property
    def end(self) -> int:
        """Where the leg ends."""
        return self.nodes[-1]

    @property
    def arrival(self) -> float:
        """When the traveller reaches the end."""
        return self.times[-1]

    def between(self, t: float) -> tuple[int, int, float, float]:
        """(last node passed, next node, metres since it, metres to the next) at time `t`.

        Before the start and after the end the traveller stands at a node (0 m either way).
        """
        times = self.times
        if t >= times[-1]:
            return self.nodes[-1], self.nodes[-1], 0.0, 0.0
        if t <= times[0]:
            return self.nodes[0], self.nodes[0], 0.0, 0.0
        i = bisect.bisect_right(times, t) - 1
        return (
            self.nodes[i],
            self.nodes[i + 1],
            (t - times[i]) * self.speed,
            (times[i + 1] - t) * self.speed,
        )

    def metres_to(self, t: float, from_target: np.ndarray) -> float:
        """Street distance at time `t` to the node whose distance row is `from_target`.

        The traveller may turn back, so the shorter of the ways via the last node passed
        and via the next node counts (streets are two-way).
        """
        if len(self.nodes) == 1:  # standing still: the common case of a unit asked
            return float(from_target[self.nodes[0]])
        behind, ahead, back_m, fwd_m = self.between(t)
        return float(min(back_m + from_target[behind], fwd_m + from_target[ahead]))

    def node_toward(self, t: float, from_target: np.ndarray) -> tuple[int, float]:
        """The end of the current street on the way to the target, and metres to reach it."""
        behind, ahead, back_m, fwd_m = self.between(t)
        if back_m + from_target[behind] <= fwd_m + from_target[ahead]:
            return behind, back_m
        return ahead, fwd_m


def metres_to_many(legs: list[Leg], t: float, from_target: np.ndarray) -> list[float]:
    """`Leg.metres_to` of many travellers at once: one lookup for all who stand still.

    The dispatcher measures every free unit for every call; most stand at a stop.
    """
    metres = from_target[[leg.nodes[0] for leg in legs]].tolist()
    for i, leg in enumerate(legs):
        if len(leg.nodes) > 1:
            metres[i] = leg.metres_to(t, from_target)
    return metres
