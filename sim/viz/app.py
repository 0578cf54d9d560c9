"""Interactive app (Mesa SolaraViz): watch the city, move the sliders, see thefts and arrests.

Run with `crowdsim viz --scenario small-town --policy integrated`, or
`solara run sim/viz/app.py` (scenario and policy from CROWDSIM_SCENARIO / CROWDSIM_POLICY).
Needs the `[viz]` extra; with `solara-assets` installed it works offline.
"""

from __future__ import annotations

import os
from functools import cache

import matplotlib as mpl

mpl.use("Agg")
import numpy as np
import solara
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from mesa.visualization import Slider, SolaraViz, make_plot_component
from mesa.visualization.utils import update_counter

from sim.agents.officer import PatrolCar
from sim.city.graph import City
from sim.model import CrowdPolicingModel
from sim.policing.policy import Policy, load_policy
from sim.scenario import load_scenario

SLIDER_UNITS = {
    "posts": "uniformed",
    "plainclothes_teams": "plainclothes",
    "patrol_cars": "patrol_car",
}


def with_sliders(policy: Policy, dispatch_delay: float, **counts: int) -> dict[str, object]:
    """Policy overrides from the sliders: unit counts per kind (split over its groups)."""
    overrides: dict[str, object] = {"dispatch.delay_min": dispatch_delay}
    for slider, unit in SLIDER_UNITS.items():
        groups = [i for i, d in enumerate(policy.deploy) if d.unit == unit]
        for j, i in enumerate(groups):
            share, extra = divmod(counts[slider], len(groups))
            overrides[f"deploy.{i}.count"] = share + (j < extra)
    return overrides


class LiveModel(CrowdPolicingModel):
    """The model, built from the app's controls."""

    def __init__(
        self,
        *,
        scenario: str = "small-town",
        policy: str = "integrated",
        scale: float = 1.0,
        posts: int = 10,
        plainclothes_teams: int = 6,
        patrol_cars: int = 8,
        dispatch_delay: float = 3.0,
        seed: int = 1,
    ) -> None:
        spec = load_policy(policy)
        overrides = with_sliders(
            spec,
            dispatch_delay,
            posts=posts,
            plainclothes_teams=plainclothes_teams,
            patrol_cars=patrol_cars,
        )
        super().__init__(
            load_scenario(scenario, {"scale": scale}), load_policy(policy, overrides), seed=seed
        )


@cache
def street_segments(city: City) -> np.ndarray:
    """The street layout, computed once per city (the map never moves)."""
    return np.stack(
        [
            np.column_stack([city.x[city.edge_u], city.y[city.edge_u]]),
            np.column_stack([city.x[city.edge_v], city.y[city.edge_v]]),
        ],
        axis=1,
    )


@solara.component
def CityView(model: CrowdPolicingModel) -> None:  # noqa: N802 - Solara names components so
    """Places sized by the crowd now and coloured by thefts so far; police where they are."""
    update_counter.get()
    city = model.city
    places = city.places
    people = np.asarray(model.crowds.people[: city.n_nodes])[places]
    thefts = model.crime.thefts_at_node[places]
    fig = Figure(figsize=(6, 5.5))
    ax = fig.subplots()
    ax.add_collection(LineCollection(street_segments(city), colors="#d0d0d0", lw=0.5))
    ax.scatter(
        city.x[places],
        city.y[places],
        s=6 + 3 * np.sqrt(people),
        c=thefts,
        cmap="Reds",
        vmin=0,
        vmax=max(3, int(thefts.max())),
        edgecolors="#444444",
        linewidths=0.3,
        zorder=3,
    )
    guards = np.flatnonzero(np.asarray(model.crowds.guards[: city.n_nodes]) > 0)
    plain = np.flatnonzero(np.asarray(model.presence.plainclothes[: city.n_nodes]) > 0)
    cars = [c.node for c in model.agents_by_type.get(PatrolCar, []) if c.on_duty]
    ax.scatter(
        city.x[guards],
        city.y[guards],
        marker="s",
        s=18,
        c="#1f4e9c",
        zorder=4,
        label="visible police",
    )
    ax.scatter(
        city.x[plain], city.y[plain], marker="D", s=14, c="#7a3fa0", zorder=4, label="plainclothes"
    )
    ax.scatter(
        city.x[cars], city.y[cars], marker="^", s=16, c="#0a8f5a", zorder=4, label="patrol cars"
    )
    day, minute = divmod(model.now, 1440)
    ax.set_title(
        f"day {int(day) + 1}, {int(minute // 60):02d}:{int(minute % 60):02d}: "
        f"{model.visitor_flow.present_people:,} visitors in town"
    )
    ax.legend(loc="upper left", bbox_to_anchor=(0, -0.01), ncols=3, frameon=False, fontsize=8)
    ax.set_aspect("equal")
    ax.set_axis_off()
    solara.FigureMatplotlib(fig)


MODEL_PARAMS = {
    "scenario": os.environ.get("CROWDSIM_SCENARIO", "small-town"),
    "policy": os.environ.get("CROWDSIM_POLICY", "integrated"),
    "scale": Slider("visitor scale", 1.0, 0.1, 2.0, 0.1),
    "posts": Slider("uniformed posts", 10, 0, 40, 1),
    "plainclothes_teams": Slider("plainclothes teams", 6, 0, 30, 1),
    "patrol_cars": Slider("patrol cars", 8, 0, 30, 1),
    "dispatch_delay": Slider("dispatch delay (min)", 3.0, 0.0, 20.0, 1.0),
    "seed": 1,
}


def make_page(scenario: str, policy: str) -> solara.component:
    """The app for a scenario and a policy."""
    model = LiveModel(scenario=scenario, policy=policy)
    params = {**MODEL_PARAMS, "scenario": scenario, "policy": policy}
    return SolaraViz(
        model,
        components=[
            CityView,
            make_plot_component({"thefts_total": "#c0392b", "arrests_total": "#1f4e9c"}),
            make_plot_component("visitors_present"),
        ],
        model_params=params,
        name=f"crowdsim: {scenario} under {policy}",
    )


page = make_page(MODEL_PARAMS["scenario"], MODEL_PARAMS["policy"])
