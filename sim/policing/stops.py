"""The police stops table: every stop of every unit, so anyone can check coverage."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.city.graph import City
from sim.city.transit import Transit

COLUMNS = ("unit", "kind", "group", "node", "bus_line", "arrive", "leave")


class StopLog:
    """Rows of (unit id, kind, deployment group, location, arrive, leave), in order."""

    def __init__(self) -> None:
        self.rows: list[tuple[int, str, int, int, float, float]] = []

    def record(
        self, unit: int, kind: str, group: int, loc: int, *, arrive: float, leave: float
    ) -> None:
        """A unit was present at `loc` (a node, or a bus vehicle) from `arrive` to `leave`."""
        self.rows.append((unit, kind, group, loc, arrive, leave))

    def minutes_at(
        self, transit: Transit, still_there: list[tuple[int, str, int, int, float, float]]
    ) -> np.ndarray:
        """Minutes any police unit spent at each node (bus rides left out)."""
        minutes = np.zeros(transit.city.n_nodes)
        for _, _, _, loc, arrive, leave in self.rows + still_there:
            if not transit.is_vehicle(loc):
                minutes[loc] += leave - arrive
        return minutes

    def frame(
        self,
        city: City,
        transit: Transit,
        still_there: list[tuple[int, str, int, int, float, float]],
    ) -> pd.DataFrame:
        """The table; `still_there` are stops under way, cut at the time of reading.

        `node` is the node id of a place, or of the first stop of the direction ridden for
        a bus (whose line is named in `bus_line`; empty for places).
        """
        rows = self.rows + still_there
        if not rows:
            return pd.DataFrame(
                {
                    c: pd.Series(dtype=t)
                    for c, t in zip(
                        COLUMNS,
                        ("int64", "object", "int64", "object", "object", "float64", "float64"),
                        strict=True,
                    )
                }
            )
        unit, kind, group, loc, arrive, leave = (list(c) for c in zip(*rows, strict=True))
        direction = [transit.direction_of(x) if transit.is_vehicle(x) else -1 for x in loc]
        node = [
            city.node_ids[transit.directions[d].stops[0] if d >= 0 else x]
            for x, d in zip(loc, direction, strict=True)
        ]
        line = [
            city.bus_lines[transit.directions[d].line].name if d >= 0 else "" for d in direction
        ]
        return pd.DataFrame(
            {
                "unit": unit,
                "kind": kind,
                "group": group,
                "node": node,
                "bus_line": line,
                "arrive": arrive,
                "leave": leave,
            }
        )
