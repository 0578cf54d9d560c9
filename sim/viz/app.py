"""Interactive app: a planner watches one deployment through the holiday, hour by hour.

A large map of the city (real coordinates where the city file has them) with the thefts
so far as a heat layer, the crowd at each place, and every police unit and volunteer by
kind where it is now; the day's clock; running metrics beside those of the same city with
no police (same visitors and offenders, same seed); a policy chooser (the presets, or a
policy file) and sliders for the unit counts. A step runs in the background: while it
runs the buttons are disabled and the page says what it is doing.

Run with `crowdsim viz --scenario leshan-mayday --policy integrated`, or
`solara run sim/viz/app.py` (scenario and policy from CROWDSIM_SCENARIO / CROWDSIM_POLICY).
Needs the `[viz]` extra; with `solara-assets` installed it works offline.
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace

import matplotlib as mpl

mpl.use("Agg")
import numpy as np
import solara
import solara.server.settings
from matplotlib.figure import Figure

from sim.city.graph import City
from sim.clock import HOURS_PER_DAY, MIN_PER_DAY, day_and_minute
from sim.errors import ConfigError
from sim.model import CrowdPolicingModel
from sim.policing.policy import Policy, load_policy, policy_names
from sim.policing.units import KINDS
from sim.scenario import load_scenario
from sim.viz.figures import scale_bar, streets

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
FROM_FILE = "a policy file..."
"""The policy chooser's entry that reads the policy from a path typed beside it."""
HEAT_SIGMA_M = 120.0
"""Spread of each theft in the heat layer (m): about a city block."""
MARKERS = {"walks": "s", "drives": "^", "flies": "*"}
KIND_COLOURS = ("#7a3fa0", "#1f4e9c", "#0a8f5a", "#e08a00", "#222222", "#8c564b")


def with_sliders(policy: Policy, dispatch_delay: float, **counts: int) -> dict[str, object]:
    """Policy overrides from the sliders: unit counts per kind (split over its groups)."""
    overrides: dict[str, object] = {"dispatch.delay_min": dispatch_delay}
    for slider, unit in SLIDER_UNITS.items():
        groups = [i for i, d in enumerate(policy.deploy) if d.unit == unit]
        for j, i in enumerate(groups):
            share, extra = divmod(counts[slider], len(groups))
            overrides[f"deploy.{i}.count"] = share + (j < extra)
    return overrides


def policy_counts(policy: Policy) -> dict[str, int]:
    """The policy's own unit counts per slider, so the sliders start where the policy is."""
    return {
        slider: sum(d.count for d in policy.deploy if d.unit == unit)
        for slider, unit in SLIDER_UNITS.items()
    }


class LiveModel(CrowdPolicingModel):
    """The model, built from the app's controls (`policy`: a preset name or a file)."""

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
            load_scenario(scenario, {"scale": scale}),
            load_policy(policy, overrides),
            seed=seed,
            policy_source=policy,
        )


@dataclass
class Controls:
    """What the planner chose: the policy (a preset or a file) and the sliders."""

    scenario: str
    policy: str
    scale: float
    posts: int
    plainclothes_teams: int
    patrol_cars: int
    dispatch_delay: float
    seed: int = 1

    @classmethod
    def of_policy(cls, scenario: str, policy: str, scale: float = DEFAULT_SCALE) -> Controls:
        """The controls at a policy's own counts and dispatch delay."""
        spec = load_policy(policy)
        return cls(
            scenario, policy, scale, **policy_counts(spec), dispatch_delay=spec.dispatch.delay_min
        )

    def model_arguments(self) -> dict[str, object]:
        """LiveModel's keyword arguments."""
        return asdict(self)


class Session:
    """One browser session's pair of models: the deployment and the city without police.

    Both have the same scenario, scale and seed, so the same visitors arrive and the same
    offenders set out (common random numbers): the difference in thefts so far is the
    deployment's effect in this run, not luck. Steps are serialised by a lock.
    """

    def __init__(self, controls: Controls) -> None:
        self.controls = controls
        self.model = LiveModel(**controls.model_arguments())
        self.without_police = LiveModel(
            **{**controls.model_arguments(), "policy": "none", "dispatch_delay": 0.0}
        )
        self.lock = threading.Lock()

    def advance(self, minutes: float) -> None:
        """Both models `minutes` further on (to the horizon at most), an hour a step."""
        with self.lock:
            for model in (self.model, self.without_police):
                end = min(model.now + minutes, model.horizon)
                while model.running and model.now < end - 1e-9:
                    model.step()

    def to_midnight(self) -> float:
        """Minutes to the end of the current day."""
        return MIN_PER_DAY - (self.model.now % MIN_PER_DAY) or MIN_PER_DAY

    def release(self) -> None:
        """Free both models (a new session or a rebuild replaces them)."""
        self.model.release()
        self.without_police.release()


def running_metrics(model: CrowdPolicingModel) -> dict[str, str]:
    """What a control room would have on its board now, as printed (one home for each)."""
    ledger = model.crime.ledger
    calls = len(model.dispatcher.jobs)
    dispatch = model.dispatcher.metrics()  # as the run reports them
    reached = calls - dispatch["jobs_unanswered"]
    response = dispatch["response_all_mean_min"]
    return {
        "thefts": f"{ledger.count('occurred'):,}",
        "thefts reported": f"{ledger.count('reported'):,}",
        "arrests": f"{ledger.count('arrest'):,}",
        "calls reached on scene / received": f"{reached:,} / {calls:,}",
        "mean response (min)": "-" if math.isnan(response) else f"{response:.1f}",
        "visible officers now": f"{sum(model.crowds.guards):,}",
        "visitors in town now": f"{model.visitor_flow.present_people:,}",
    }


def clock_text(model: CrowdPolicingModel) -> str:
    """Day and time of day now, e.g. 'Day 2 of 5, 14:00'."""
    day, minute = day_and_minute(model.now)
    days = model.scenario.days
    if model.now >= model.horizon:
        return f"Day {days} of {days}, 24:00 (the run is over)"
    return f"Day {day + 1} of {days}, {int(minute // 60):02d}:{int(minute % 60):02d}"


def unit_positions(model: CrowdPolicingModel) -> dict[str, np.ndarray]:
    """Where each kind's units on the streets are now: (n, 2) coordinates per kind.

    A unit at a place stands at it; one on its way is drawn along its street between the
    last node passed and the next. Units off shift (standing still, at no place) and
    officers riding buses are left out; drones are drawn over the places they watch.
    """
    city, now = model.city, model.now
    points: dict[str, list[tuple[float, float]]] = {kind: [] for kind in KINDS}
    for unit in model.deployer.units:
        leg = unit.leg
        if 0 <= unit.location < city.n_nodes:
            points[unit.kind.name].append((city.x[unit.location], city.y[unit.location]))
        elif unit.location < 0 and len(leg.nodes) > 1 and now < leg.arrival:
            behind, ahead, back_m, ahead_m = leg.between(now)
            share = back_m / (back_m + ahead_m) if back_m + ahead_m > 0 else 0.0
            x = city.x[behind] + share * (city.x[ahead] - city.x[behind])
            y = city.y[behind] + share * (city.y[ahead] - city.y[behind])
            points[unit.kind.name].append((x, y))
    overhead = np.flatnonzero(np.asarray(model.presence.drones[: city.n_nodes]) > 0)
    for kind in {drone.deployment.unit for drone in model.deployer.drones}:
        points[kind] = [(city.x[n], city.y[n]) for n in overhead]
    return {kind: np.array(p, dtype=float).reshape(-1, 2) for kind, p in points.items()}


def theft_heat(city: City, thefts: np.ndarray, days: float) -> tuple[np.ndarray, tuple]:
    """Thefts per day per km2 so far on a grid over the city (Gaussian kernel, HEAT_SIGMA_M).

    Returns the grid (rows from south to north) and its extent for imshow.
    """
    pad = 3 * HEAT_SIGMA_M
    x0, x1 = city.x.min() - pad, city.x.max() + pad
    y0, y1 = city.y.min() - pad, city.y.max() + pad
    cell = max(x1 - x0, y1 - y0) / 160
    gx = np.arange(x0, x1, cell) + cell / 2
    gy = np.arange(y0, y1, cell) + cell / 2
    where = np.flatnonzero(thefts)
    kx = np.exp(-0.5 * ((gx[None, :] - city.x[where, None]) / HEAT_SIGMA_M) ** 2)
    ky = np.exp(-0.5 * ((gy[None, :] - city.y[where, None]) / HEAT_SIGMA_M) ** 2)
    per_km2 = 1e6 / (2 * math.pi * HEAT_SIGMA_M**2)
    grid = np.einsum("n,ny,nx->yx", thefts[where] / max(days, 1e-9), ky, kx) * per_km2
    return grid, (x0, x0 + cell * len(gx), y0, y0 + cell * len(gy))


def city_map(model: CrowdPolicingModel) -> Figure:
    """The large map: streets, theft heat, crowds at places, units by kind, scale bar."""
    city = model.city
    places = city.places
    people = model.crowds.occupancy()[: city.n_nodes][places]
    thefts = np.asarray(model.crime.thefts_at_node, dtype=float)
    fig = Figure(figsize=(12, 8.2), dpi=100, layout="constrained")
    ax = fig.subplots()
    streets(ax, city, colour="#c8c8c8")
    days = max(model.now, 60.0) / MIN_PER_DAY
    if thefts.sum() > 0:
        grid, extent = theft_heat(city, thefts, days)
        heat = ax.imshow(
            np.ma.masked_less(grid, grid.max() * 0.02),
            extent=extent,
            origin="lower",
            cmap="Reds",
            alpha=0.55,
            zorder=1,
        )
        bar = fig.colorbar(heat, ax=ax, shrink=0.45, pad=0.01)
        bar.set_label("thefts per day per km² so far", fontsize=11)
    ax.scatter(
        city.x[places],
        city.y[places],
        s=8 + 2.5 * np.sqrt(people),
        facecolors="none",
        edgecolors="#555555",
        linewidths=0.8,
        zorder=3,
    )
    for i, (kind, xy) in enumerate(unit_positions(model).items()):
        ax.scatter(
            xy[:, 0],
            xy[:, 1],
            marker=MARKERS[KINDS[kind].moves],
            s=46,
            c=KIND_COLOURS[i % len(KIND_COLOURS)],
            edgecolors="white",
            linewidths=0.5,
            zorder=4,
            label=f"{kind.replace('_', ' ')} ({len(xy)})",
        )
    for size in (100, 1000):  # what a circle's size means
        ax.scatter(
            [],
            [],
            s=8 + 2.5 * math.sqrt(size),
            facecolors="none",
            edgecolors="#555555",
            label=f"place with {size:,} people",
        )
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False, fontsize=11)
    scale_bar(ax, city, fontsize=11)
    if city.crs:
        ax.set_xlabel(f"easting (m, {city.crs})", fontsize=11)
        ax.set_ylabel(f"northing (m, {city.crs})", fontsize=11)
        ax.ticklabel_format(useOffset=False, style="plain")
    else:
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_xlabel("synthetic street layout: positions are not geographic", fontsize=11)
    ax.set_aspect("equal")
    ax.autoscale_view()
    return fig


def hourly_figure(model: CrowdPolicingModel, without_police: CrowdPolicingModel) -> Figure:
    """Thefts so far with and without police, and visitors present, by hour."""
    frame = model.datacollector.get_model_vars_dataframe()
    base = without_police.datacollector.get_model_vars_dataframe()
    fig = Figure(figsize=(11, 3.4), dpi=100, layout="constrained")
    top, bottom = fig.subplots(1, 2)
    hours = frame["minute"].to_numpy() / 60.0
    top.plot(hours, frame["thefts_total"], color="#c0392b", label="thefts, this deployment")
    top.plot(
        base["minute"].to_numpy() / 60.0,
        base["thefts_total"],
        color="#c0392b",
        ls="--",
        label="thefts, no police (same seed)",
    )
    top.plot(hours, frame["arrests_total"], color="#1f4e9c", label="arrests")
    top.set_ylabel("so far", fontsize=11)
    top.legend(frameon=False, fontsize=10)
    bottom.plot(hours, frame["visitors_present"], color="#444444")
    bottom.set_ylabel("visitors present", fontsize=11)
    end = max(HOURS_PER_DAY, float(hours.max()) if len(hours) else HOURS_PER_DAY)
    ticks = np.arange(0.0, end + 1e-9, 6.0)
    for ax in (top, bottom):
        ax.set_xticks(ticks, [f"{int(t % HOURS_PER_DAY):02d}:00" for t in ticks])
        for day_start in np.arange(HOURS_PER_DAY, end, HOURS_PER_DAY):
            ax.axvline(day_start, color="grey", lw=0.6, ls=":")
        ax.set_xlabel("hour of the day (dotted: midnight)", fontsize=11)
    return fig


def metrics_table(session: Session) -> str:
    """Markdown: this deployment beside the city with no police, row by row."""
    ours, theirs = running_metrics(session.model), running_metrics(session.without_police)
    rows = "\n".join(f"| {name} | {ours[name]} | {theirs[name]} |" for name in ours)
    return (
        "| so far | this deployment | no police (same visitors and offenders) |\n"
        f"|---|--:|--:|\n{rows}"
    )


@solara.component
def PolicyChooser(  # noqa: N802 - Solara names components so
    presets: list[str], on_load: Callable[[str], None], problem: str, busy: bool
) -> None:
    """A preset from the list, or a policy file by its path."""
    choice, set_choice = solara.use_state(presets[0] if presets else FROM_FILE)
    path, set_path = solara.use_state("")

    def pick(name: str) -> None:
        set_choice(name)
        if name != FROM_FILE:
            on_load(name)

    with solara.Column(style={"min-width": "260px", "max-width": "360px"}):
        solara.Select(
            "policy", values=[*presets, FROM_FILE], value=choice, on_value=pick, disabled=busy
        )
        if choice == FROM_FILE:
            solara.InputText(
                "policy file (path to a .toml)", value=path, on_value=set_path, disabled=busy
            )
            solara.Button("load the file", on_click=lambda: on_load(path), disabled=busy)
        if problem:
            solara.Error(problem)


SLIDERS = (
    ("posts", "uniformed posts", 40),
    ("plainclothes_teams", "plainclothes teams", 30),
    ("patrol_cars", "patrol cars", 30),
)
"""Unit-count sliders: field, label, top of the range (raised to the policy's own count)."""
FLOAT_SLIDERS = (
    ("dispatch_delay", "dispatch delay: {:g} min", 0.0, 20.0, 0.5),
    ("scale", "visitors: {:g} of the scenario's", 0.01, 1.0, 0.01),
)
"""The other sliders: field, label with its value, range and step."""


@solara.component
def Sliders(  # noqa: N802
    controls: Controls, on_change: Callable[[str, float], None], busy: bool
) -> None:
    """Unit counts, dispatch delay and visitor scale, each with its value in its label."""
    box = {"width": "300px", "padding-top": "28px"}  # room for the value above the thumb
    with solara.Row(style={"flex-wrap": "wrap", "gap": "8px 24px"}):
        for field, label, top in SLIDERS:
            value = getattr(controls, field)
            with solara.Column(style=box):
                solara.SliderInt(
                    f"{label}: {value}",
                    value=value,
                    min=0,
                    max=max(top, value),
                    on_value=lambda v, f=field: on_change(f, v),
                    thumb_label="always",
                    disabled=busy,
                )
        for field, label, low, top, step in FLOAT_SLIDERS:
            value = getattr(controls, field)
            with solara.Column(style=box):
                solara.SliderFloat(
                    label.format(value),
                    value=value,
                    min=low,
                    max=top,
                    step=step,
                    on_value=lambda v, f=field: on_change(f, v),
                    thumb_label="always",
                    disabled=busy,
                )


@solara.component
def Actions(ask: Callable[[str], None], busy: bool, failure: str) -> None:  # noqa: N802
    """Step, run to midnight, restart with the controls; what is going on."""
    with solara.Row(style={"flex-wrap": "wrap", "align-items": "center"}):
        solara.Button("step 1 hour", on_click=lambda: ask("hour"), disabled=busy, color="primary")
        solara.Button("run to midnight", on_click=lambda: ask("day"), disabled=busy)
        solara.Button("apply the controls (restart)", on_click=lambda: ask("build"), disabled=busy)
        if busy:
            solara.Text("simulating... (the buttons come back when it is done)", classes=["busy"])
            solara.ProgressLinear(True)
        elif failure:
            solara.Error(f"the step failed: {failure}")


@solara.component
def Board(session: Session) -> None:  # noqa: N802
    """What the models show now: the metrics side by side, the map, the hours so far."""
    scenario = session.model.scenario
    daily = scenario.visitors.per_day * scenario.scale
    solara.Markdown(
        f"Running: {session.controls.policy}, {daily:,.0f} visitors a day, seed "
        f"{session.controls.seed}. Slider changes take effect on *apply*."
    )
    solara.Markdown(metrics_table(session))
    solara.FigureMatplotlib(city_map(session.model), format="png")
    solara.FigureMatplotlib(hourly_figure(session.model, session.without_police), format="png")


BUSY = (solara.ResultState.STARTING, solara.ResultState.RUNNING, solara.ResultState.WAITING)
SCENARIO = os.environ.get("CROWDSIM_SCENARIO", "small-town")
POLICY = os.environ.get("CROWDSIM_POLICY", "integrated")


def make_page(scenario: str, policy: str) -> solara.component:
    """The app for a scenario and a starting policy: one pair of models per session.

    Every change of the models (build, step) runs in a background thread; the page shows
    the busy state and disables the buttons until it is done.
    """
    presets = [policy, *(p for p in policy_names() if p != policy)]

    @solara.component
    def Page() -> solara.component:  # noqa: N802
        controls, set_controls = solara.use_state(Controls.of_policy(scenario, policy))
        problem, set_problem = solara.use_state("")
        request, set_request = solara.use_state(("build", 0, controls))
        box = solara.use_memo(lambda: {"session": None, "served": -1}, dependencies=[])

        def work() -> str:
            kind, number, wanted = request
            try:
                if kind == "build" or box["session"] is None:
                    if box["session"] is not None:
                        box["session"].release()
                    box["session"] = Session(wanted)
                else:
                    box["session"].advance(60.0 if kind == "hour" else box["session"].to_midnight())
            finally:
                box["served"] = number
            return kind

        result = solara.use_thread(work, dependencies=[request])
        # between a request and its thread's start the result still reads finished: the
        # page would show the previous model under the new title, so wait for the request
        busy = result.state in BUSY or box["served"] != request[1]

        def ask(kind: str, wanted: Controls | None = None) -> None:
            set_request((kind, request[1] + 1, wanted or controls))

        def load(name: str) -> None:
            try:
                chosen = Controls.of_policy(scenario, name, controls.scale)
            except ConfigError as exc:
                set_problem(str(exc))
                return
            set_problem("")
            # the request first: each setter may render alone, and a render with the new
            # title but the old request would show the last model's board under it
            ask("build", chosen)
            set_controls(chosen)

        def change(field: str, value: float) -> None:
            set_controls(replace(controls, **{field: value}))

        session = box["session"]
        failure = str(result.error) if result.state == solara.ResultState.ERROR else ""
        with solara.Column(style={"padding": "12px", "max-width": "1400px"}) as page:
            solara.Title(f"crowdsim: {scenario}")
            with solara.Row(style={"align-items": "baseline", "flex-wrap": "wrap"}):
                solara.Markdown(f"# crowdsim: {scenario} under {controls.policy}")
                if session is not None and not busy:  # a model is read only between steps
                    solara.Markdown(f"## {clock_text(session.model)}")
            with solara.Column(style={"gap": "4px"}):
                PolicyChooser(presets, load, problem, busy)
                Sliders(controls, change, busy)
            Actions(ask, busy, failure)
            if session is not None and not busy:
                Board(session)
        return page

    return Page


Page = make_page(SCENARIO, POLICY)
