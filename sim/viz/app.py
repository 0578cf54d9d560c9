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
import solara.server.settings
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from mesa.visualization import Slider, SolaraViz
from mesa.visualization.utils import update_counter

from sim.agents.officer import Responder
from sim.city.graph import City
from sim.clock import HOURS_PER_DAY, day_and_minute
from sim.model import CrowdPolicingModel
from sim.policing.policy import Policy, load_policy
from sim.scenario import load_scenario

# no usage data to a third party, however the app is served (`crowdsim viz` also sets it
# before Solara starts, and turns off Solara's version check)
solara.server.settings.telemetry.mixpanel_enable = False

DEFAULT_SCALE = 0.1
"""A tenth of the visitors: the leshan-mayday city steps briskly in a browser."""
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
        scale: float = DEFAULT_SCALE,
        posts: int = 10,
        plainclothes_teams: int = 12,
        patrol_cars: int = 17,
        dispatch_delay: float = 2.0,
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
        self.controls = {
            "visitor scale": scale,
            "uniformed posts": posts,
            "plainclothes teams": plainclothes_teams,
            "patrol cars": patrol_cars,
            "dispatch delay (min)": dispatch_delay,
        }
        """The slider values this model was built with (shown beside the sliders)."""


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
    people = model.crowds.occupancy()[: city.n_nodes][places]
    thefts = model.crime.thefts_at_node[places]
    fig = Figure(figsize=(7.5, 5.5), layout="constrained")
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
    plain = model.presence.nodes_with("plainclothes")
    cars = [
        u.node
        for u in model.deployer.units
        if isinstance(u, Responder) and u.kind.moves == "drives" and u.on_duty
    ]
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
    day, minute = day_and_minute(model.now)
    ax.set_title(
        f"day {day + 1}, {int(minute // 60):02d}:{int(minute % 60):02d}: "
        f"{model.visitor_flow.present_people:,} visitors in town"
    )
    for size, label in ((50, "50 people"), (500, "500 people")):  # what a marker's size means
        ax.scatter([], [], s=6 + 3 * np.sqrt(size), c="white", edgecolors="#444444", label=label)
    ax.legend(
        loc="upper left",
        bbox_to_anchor=(1.0, 1.0),
        frameon=False,
        fontsize=8,
        title="places: crowd now;\ncolour: thefts so far",
        title_fontsize=8,
    )
    ax.set_aspect("equal")
    ax.set_axis_off()
    solara.FigureMatplotlib(fig)


def policy_counts(policy: Policy) -> dict[str, int]:
    """The policy's own unit counts per slider, so the sliders start where the policy is."""
    return {
        slider: sum(d.count for d in policy.deploy if d.unit == unit)
        for slider, unit in SLIDER_UNITS.items()
    }


def model_params(scenario: str, policy: str) -> dict[str, object]:
    """Sliders whose defaults are the chosen policy's (the title and the controls agree)."""
    spec = load_policy(policy)
    counts = policy_counts(spec)
    return {
        "scenario": scenario,
        "policy": policy,
        "scale": Slider("visitor scale", DEFAULT_SCALE, 0.01, 1.0, 0.01),
        "posts": Slider("uniformed posts", counts["posts"], 0, max(40, counts["posts"]), 1),
        "plainclothes_teams": Slider(
            "plainclothes teams",
            counts["plainclothes_teams"],
            0,
            max(30, counts["plainclothes_teams"]),
            1,
        ),
        "patrol_cars": Slider(
            "patrol cars", counts["patrol_cars"], 0, max(30, counts["patrol_cars"]), 1
        ),
        "dispatch_delay": Slider(
            "dispatch delay (min)", float(spec.dispatch.delay_min), 0.0, 20.0, 0.5
        ),
        "seed": 1,
    }


def initial_values(params: dict[str, object]) -> dict[str, object]:
    """The model's keyword arguments at the sliders' starting values."""
    return {k: v.value if isinstance(v, Slider) else v for k, v in params.items()}


@solara.component
def RunningNow(model: LiveModel) -> None:  # noqa: N802 - Solara names components so
    """The values the running model was built with, and how slider changes take effect."""
    rows = "\n".join(f"| {name} | {value:g} |" for name, value in model.controls.items())
    solara.Markdown(
        "**Running now** (the sliders start at the chosen policy's own values):\n\n"
        f"| control | value |\n|---|--:|\n{rows}\n\n"
        "Move the sliders, then press **Reset** to rebuild the model with them."
    )


@solara.component
def HourlyView(model: CrowdPolicingModel) -> None:  # noqa: N802
    """Thefts, arrests and visitors present by hour of the day (days marked)."""
    update_counter.get()
    frame = model.datacollector.get_model_vars_dataframe()
    fig = Figure(figsize=(6, 3.2), layout="constrained")
    top, bottom = fig.subplots(2, 1, sharex=True)
    hours = frame["minute"].to_numpy() / 60.0 if len(frame) else np.array([])
    if len(frame):
        top.plot(hours, frame["thefts_total"], color="#c0392b", label="thefts")
        top.plot(hours, frame["arrests_total"], color="#1f4e9c", label="arrests")
        bottom.plot(hours, frame["visitors_present"], color="#444444")
    top.set_ylabel("so far")
    top.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    bottom.set_ylabel("visitors present")
    end = max(HOURS_PER_DAY, float(hours.max()) if len(hours) else HOURS_PER_DAY)
    ticks = np.arange(0.0, end + 1e-9, 6.0)
    bottom.set_xticks(ticks, [f"{int(t % HOURS_PER_DAY):02d}:00" for t in ticks])
    for day_start in np.arange(HOURS_PER_DAY, end, HOURS_PER_DAY):
        for ax in (top, bottom):
            ax.axvline(day_start, color="grey", lw=0.6, ls=":")
    bottom.set_xlabel("hour of the day (dotted: midnight)")
    solara.FigureMatplotlib(fig)


SCENARIO = os.environ.get("CROWDSIM_SCENARIO", "small-town")
POLICY = os.environ.get("CROWDSIM_POLICY", "integrated")


def make_page(scenario: str, policy: str) -> solara.component:
    """The app for a scenario and a policy: a component that builds one model per session."""
    params = model_params(scenario, policy)

    @solara.component
    def Page() -> solara.component:  # noqa: N802
        # each browser session renders its own Page, so each gets its own model
        model = solara.use_memo(lambda: LiveModel(**initial_values(params)), dependencies=[])
        return SolaraViz(
            model,
            components=[RunningNow, CityView, HourlyView],
            model_params=params,
            name=f"crowdsim: {scenario} under {policy}",
        )

    return Page


Page = make_page(SCENARIO, POLICY)
