"""The incident ledger: every theft attempt recorded once, with its life cycle.

attempted -> (deterred | foiled by bystanders | occurred or failed) -> detected by police
(by whom) -> noticed by the victim -> reported -> responded -> cleared (how). Stages only
move forward and a case is cleared at most once; every metric of a run is computed from
these records, never from counters in agents.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

import numpy as np
import pandas as pd

from sim.policing.units import detectors

CLEARANCES = ("in_act", "on_dispatch", "after_report", "camera_evidence", "checkpoint")
"""How a case is cleared, disjoint: by the officer who saw it, by a car sent on a live
detection, by a car sent on the victim's report, from camera footage, at a checkpoint."""

NAN = math.nan


@dataclass(slots=True)
class Incident:
    """One theft attempt and what followed. Times are simulated minutes (NaN: never)."""

    id: int
    t_attempt: float
    location: int
    node: int
    on_bus: bool
    offender: int
    victim: int = -1
    deterred: bool = False
    foiled_by_bystanders: bool = False
    occurred: bool = False
    detected_by: str = ""
    t_detected: float = NAN
    noticed: bool = False
    t_noticed: float = NAN
    reported: bool = False
    t_reported: float = NAN
    recorded: bool = False  # the police know of it (a report or a detection)
    t_requested: float = NAN
    t_responded: float = NAN
    cleared_by: str = ""
    t_cleared: float = NAN
    arrest: bool = False
    arrested_in_town: bool = False  # taken while at work in town, not later at home


class Ledger:
    """Append-only list of incidents with guarded stage transitions."""

    def __init__(self) -> None:
        self.incidents: list[Incident] = []

    def attempt(self, t: float, location: int, node: int, on_bus: bool, offender: int) -> Incident:
        """Open a record for an attempt (before deterrence is decided)."""
        incident = Incident(len(self.incidents), t, location, node, on_bus, offender)
        self.incidents.append(incident)
        return incident

    @staticmethod
    def detect(incident: Incident, by: str, t: float) -> bool:
        """Record the first detection; later detectors add nothing. True if this was first."""
        if by not in detectors():  # police who can spot an attempt (sim/policing/units.py)
            raise ValueError(f"unknown detector {by!r}")
        if incident.deterred or incident.detected_by:
            return False
        incident.detected_by = by
        incident.t_detected = t
        return True

    @staticmethod
    def notice(incident: Incident, t: float) -> None:
        """The victim notices a theft (not a police detection)."""
        if not incident.occurred or incident.noticed:
            raise ValueError(f"incident {incident.id} cannot be noticed")
        incident.noticed = True
        incident.t_noticed = t

    @staticmethod
    def report(incident: Incident, t: float) -> None:
        """The victim reports a theft."""
        if not incident.noticed or incident.reported:
            raise ValueError(f"incident {incident.id} cannot be reported")
        incident.reported = True
        incident.t_reported = t

    @staticmethod
    def request(incident: Incident, t: float) -> bool:
        """A car is asked for (on a report or a live detection); the first request counts.

        True if this was the first request (the dispatcher acts only on that one).
        """
        if not math.isnan(incident.t_requested):
            return False
        incident.t_requested = t
        return True

    @staticmethod
    def respond(incident: Incident, t: float) -> None:
        """A car reaches the scene."""
        if math.isnan(incident.t_requested):
            raise ValueError(f"incident {incident.id}: response without a request")
        if math.isnan(incident.t_responded):
            incident.t_responded = t

    @staticmethod
    def clear(incident: Incident, how: str, t: float, arrest: bool, in_town: bool) -> None:
        """Close a case, once.

        `arrest` says whether an offender was taken into custody, `in_town` whether he was
        taken in the town's streets (not later, at home).
        """
        if how not in CLEARANCES:
            raise ValueError(f"unknown clearance {how!r}")
        if incident.cleared_by:
            raise ValueError(f"incident {incident.id} is already cleared")
        if incident.deterred:
            raise ValueError(f"incident {incident.id} was deterred; nothing to clear")
        incident.cleared_by = how
        incident.t_cleared = t
        incident.arrest = arrest
        incident.arrested_in_town = arrest and in_town

    def count(self, flag: str) -> int:
        """How many incidents so far have a true `flag` (occurred, reported, arrest, ...)."""
        return sum(1 for i in self.incidents if getattr(i, flag))

    def frame(self) -> pd.DataFrame:
        """All incidents as a table (one row each), typed even when empty."""
        dtypes = {"int": "int64", "float": "float64", "bool": "bool", "str": "object"}
        return pd.DataFrame(
            {
                f.name: pd.Series(
                    [getattr(i, f.name) for i in self.incidents], dtype=dtypes[str(f.type)]
                )
                for f in fields(Incident)
            }
        )

    def metrics(self, visitors: int, days: int, place_nodes: np.ndarray) -> dict[str, float]:
        """Theft, arrest and response metrics of a run.

        Theft counts are of thefts that occurred; attempts have their own counts. Arrests
        are split by how the case was cleared, disjoint, and add up to `arrests_total`.
        `place_nodes` are the places where thefts can happen; the concentration metric is
        the share of place thefts at the top 5% of them (law of crime concentration).
        """
        inc = self.incidents
        occurred = [i for i in inc if i.occurred]
        responded = np.array(
            [i.t_responded - i.t_requested for i in inc if not math.isnan(i.t_responded)]
        )
        arrests = {
            f"arrests_{how}": sum(1 for i in inc if i.arrest and i.cleared_by == how)
            for how in CLEARANCES
        }
        return {
            "thefts_attempted": len(inc),
            "thefts_deterred": sum(1 for i in inc if i.deterred),
            "attempts_foiled_by_bystanders": sum(1 for i in inc if i.foiled_by_bystanders),
            "thefts_occurred": len(occurred),
            "thefts_per_day": len(occurred) / days,
            "attempts_detected": sum(1 for i in inc if i.detected_by),
            "thefts_detected": sum(1 for i in occurred if i.detected_by),
            "thefts_noticed_by_victim": sum(1 for i in occurred if i.noticed),
            "thefts_reported": sum(1 for i in occurred if i.reported),
            "thefts_recorded": sum(1 for i in occurred if i.recorded),
            "dark_figure_share": (
                sum(1 for i in occurred if not i.recorded) / len(occurred) if occurred else NAN
            ),
            "thefts_cleared": sum(1 for i in occurred if i.cleared_by),
            "reported_thefts_cleared": sum(1 for i in occurred if i.reported and i.cleared_by),
            **arrests,
            "arrests_total": sum(arrests.values()),
            "persons_arrested_in_town": len({i.offender for i in inc if i.arrested_in_town}),
            "theft_rate_per_1000_visitors": 1000.0 * len(occurred) / visitors if visitors else NAN,
            "bus_thefts": sum(1 for i in occurred if i.on_bus),
            "response_time_mean_min": float(responded.mean()) if len(responded) else NAN,
            "response_time_p90_min": float(np.percentile(responded, 90)) if len(responded) else NAN,
            "top5pct_places_theft_share": self._concentration(occurred, place_nodes),
        }

    @staticmethod
    def _concentration(occurred: list[Incident], place_nodes: np.ndarray) -> float:
        at_places = [i.node for i in occurred if not i.on_bus]
        if not at_places or len(place_nodes) == 0:
            return NAN
        counts = pd.Series(at_places).value_counts().reindex(place_nodes, fill_value=0)
        top = max(1, math.ceil(0.05 * len(place_nodes)))
        return float(np.sort(counts.to_numpy())[::-1][:top].sum() / len(at_places))
