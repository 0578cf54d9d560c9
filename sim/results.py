"""What a run produces: one row of metrics, per-place counts and an hourly series."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.model import CrowdPolicingModel


@dataclass
class RunResult:
    """The outputs of one seeded run."""

    metrics: dict[str, float]
    places: pd.DataFrame
    hourly: pd.DataFrame


def collect(model: CrowdPolicingModel) -> RunResult:
    """Read a finished model's counters into plain tables."""
    flow = model.visitor_flow
    crowds = model.crowds
    city = model.city
    n = city.n_nodes
    metrics = {
        "visitors": flow.arrived_people,
        "parties": flow.arrived_parties,
        "visitor_hours": flow.person_minutes_in_city / 60.0,
        "visitors_not_departed": flow.present_people,
    }
    places = pd.DataFrame({
        "node": city.node_ids,
        "label": city.label,
        "kind": city.kind,
        "x": city.x,
        "y": city.y,
        "cell": city.cell,
        "visits": np.asarray(crowds.visits[:n]),
        "person_hours": np.asarray(crowds.person_minutes[:n]) / 60.0,
    })
    places = places[places["kind"] != "street"].reset_index(drop=True)
    hourly = model.datacollector.get_model_vars_dataframe().reset_index(drop=True)
    return RunResult(metrics=metrics, places=places, hourly=hourly)
