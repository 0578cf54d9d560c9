"""What a run produces: one row of metrics, per-place counts and an hourly series."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.city.graph import City
from sim.clock import MIN_PER_DAY
from sim.crowds import Integrals
from sim.metrics import NAMES
from sim.model import CrowdPolicingModel
from sim.policing.cost import resources_used


@dataclass
class RunResult:
    """The outputs of one seeded run (and the city and police layout, for maps)."""

    metrics: dict[str, float]
    places: pd.DataFrame
    hourly: pd.DataFrame
    incidents: pd.DataFrame
    police_stops: pd.DataFrame
    daily: pd.DataFrame
    city: City
    layout: dict[str, list[int]]


def collect(model: CrowdPolicingModel) -> RunResult:
    """Read a finished model's ledger and counters into plain tables."""
    flow = model.visitor_flow
    crowds = model.crowds.integrals()
    city = model.city
    person_minutes = float(crowds.person_minutes.sum())
    theft_metrics = model.crime.ledger.metrics(
        flow.arrived_people, model.scenario.days, city.visited
    )
    measured: dict[str, float] = {
        "visitors": flow.arrived_people,
        "visitor_hours": flow.person_minutes_in_city / 60.0,
        **theft_metrics,
        "police_visibility": float(crowds.watched_person_minutes.sum() / person_minutes)
        if person_minutes
        else math.nan,
        **resources_used(model),
        **model.dispatcher.metrics(),
        **model.checkpoints.metrics(int(theft_metrics["arrests_checkpoint"])),
        **model.offenders.metrics(),
        "parties": flow.arrived_parties,
        "visitors_not_departed": flow.present_people,
    }
    metrics = {name: measured[name] for name in NAMES}  # the registry's names and order
    incidents = model.crime.ledger.frame()
    under_way = model.deployer.stops_under_way()
    stops = model.police_stops.frame(city, model.transit, under_way)
    police_minutes = model.police_stops.minutes_at(model.transit, under_way)
    return RunResult(
        metrics=metrics,
        places=_places(model, crowds, incidents, police_minutes),
        hourly=_hourly(model, incidents),
        incidents=incidents,
        police_stops=stops,
        daily=_daily(model, incidents),
        city=city,
        layout=model.deployer.layout(),
    )


def _places(
    model: CrowdPolicingModel,
    crowds: Integrals,
    incidents: pd.DataFrame,
    police_minutes: np.ndarray,
) -> pd.DataFrame:
    city = model.city
    n = city.n_nodes
    at_places = incidents[~incidents["on_bus"]]

    def per_node(mask: pd.Series) -> np.ndarray:
        return np.bincount(at_places.loc[mask, "node"].to_numpy(dtype=np.int64), minlength=n)

    crowd_rank = np.full(n, len(city.crowd_rank), dtype=np.int64)
    crowd_rank[city.crowd_rank] = np.arange(len(city.crowd_rank))
    places = pd.DataFrame(
        {
            "node": city.node_ids,
            "label": city.label,
            "kind": city.kind,
            "x": city.x,
            "y": city.y,
            "cell": city.cell,
            "visits": crowds.visits[:n],
            "person_hours": crowds.person_minutes[:n] / 60.0,
            "watched_person_hours": crowds.watched_person_minutes[:n] / 60.0,
            "police_minutes": police_minutes,
            "attempts": per_node(at_places["node"] >= 0),
            "deterred": per_node(at_places["deterred"]),
            "thefts": per_node(at_places["occurred"]),
            "thefts_recorded": per_node(at_places["occurred"] & at_places["recorded"]),
            "arrests": per_node(at_places["arrest"]),
            "camera": model.presence.camera[:n],
            "crowd_rank": crowd_rank,
        }
    )
    return places.iloc[city.places].reset_index(drop=True)  # rows in city.places order


def _hourly(model: CrowdPolicingModel, incidents: pd.DataFrame) -> pd.DataFrame:
    """Collected state each hour, with thefts and arrests per hour from the ledger."""
    hourly = model.datacollector.get_model_vars_dataframe().reset_index(drop=True)
    edges = np.append(hourly["minute"].to_numpy(), np.inf)

    def per_hour(times: pd.Series) -> np.ndarray:
        counts, _ = np.histogram(times.to_numpy(dtype=float), bins=edges)
        return np.concatenate([[0], counts[:-1]])  # events up to each collection time

    hourly["thefts"] = per_hour(incidents.loc[incidents["occurred"], "t_attempt"])
    hourly["arrests"] = per_hour(incidents.loc[incidents["arrest"], "t_cleared"])
    return hourly


def _daily(model: CrowdPolicingModel, incidents: pd.DataFrame) -> pd.DataFrame:
    """Per day: visitors, the offender pool and who worked, thefts and arrests."""
    pool = pd.DataFrame(
        [vars(d) for d in model.offenders.days],
        columns=["day", "pool", "newcomers", "active", "lost_to_arrest"],
    )
    days = np.arange(model.scenario.days)

    def per_day(times: pd.Series) -> np.ndarray:
        day = (times.to_numpy(dtype=float) // MIN_PER_DAY).astype(np.int64)
        return np.bincount(day, minlength=len(days))[: len(days)]

    frame = pd.DataFrame(
        {
            "day": days,
            "visitors": [model.visitor_flow.people_of_day.get(int(d), 0) for d in days],
            "thefts": per_day(incidents.loc[incidents["occurred"], "t_attempt"]),
            "thefts_recorded": per_day(
                incidents.loc[incidents["occurred"] & incidents["recorded"], "t_attempt"]
            ),
            "arrests": per_day(incidents.loc[incidents["arrest"], "t_cleared"]),
        }
    )
    frame = frame.merge(
        pool.rename(
            columns={
                "pool": "offenders_in_pool",
                "active": "offenders_active",
                "lost_to_arrest": "offender_days_lost_to_arrest",
            }
        ),
        on="day",
        how="left",
    )
    return frame.fillna(0).astype(dict.fromkeys(frame.columns, "int64"))
