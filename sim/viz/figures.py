"""Publication figures: one consistent style, readable at paper size, PNG plus SVG.

Every function takes plain tables (or a city) and a path stem, and writes `stem.png` and
`stem.svg`; nothing here runs a model.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from functools import cache
from pathlib import Path

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from sim.city.graph import City
from sim.files import atomic_write
from sim.results import RunResult

STYLE = {
    "figure.dpi": 110,
    "savefig.dpi": 200,
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.labelsize": 9,
    "legend.fontsize": 8,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "svg.hashsalt": "crowdsim",  # fixed ids: a regenerated SVG is byte-identical
    "savefig.bbox": "tight",
}
POLICE_MARKERS = {
    "uniformed": ("s", "#1f4e9c", "uniformed post / foot patrol"),
    "plainclothes": ("D", "#7a3fa0", "plainclothes"),
    "patrol_car": ("^", "#0a8f5a", "patrol car stops"),
    "drone": ("*", "#d98c00", "drone route"),
    "camera": ("o", "#555555", "camera"),
}


MARKER_OFFSETS_PT = {
    "uniformed": (-4.0, 4.0),
    "plainclothes": (4.0, 4.0),
    "patrol_car": (0.0, 0.0),
    "drone": (-4.0, -4.0),
    "camera": (4.0, -4.0),
}
"""Where each kind of unit sits around a place (points), so units at one place stay visible."""


def save(fig: plt.Figure, stem: Path) -> list[Path]:
    """Write PNG and SVG next to each other; return both paths."""
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = [stem.with_suffix(".png"), stem.with_suffix(".svg")]
    try:
        for path in paths:  # no date stamps: regenerated figures are byte-stable
            metadata = {"Date": None} if path.suffix == ".svg" else None
            atomic_write(
                path,
                lambda tmp, path=path, metadata=metadata: fig.savefig(
                    tmp, format=path.suffix[1:], metadata=metadata
                ),
            )
    finally:
        plt.close(fig)
    return paths


def effects(
    paired: pd.DataFrame,
    metric: str,
    stem: Path,
    by: str = "label",
    title: str = "",
    *,
    interval: str = "95% CI",
) -> list[Path]:
    """Paired differences to the baseline with their intervals, one row per policy."""
    rows = paired[paired["metric"] == metric].sort_values("difference")
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(5.5, 0.35 * len(rows) + 1.2))
        y = np.arange(len(rows))
        err = np.vstack([rows["difference"] - rows["ci_low"], rows["ci_high"] - rows["difference"]])
        ax.errorbar(
            rows["difference"],
            y,
            xerr=np.nan_to_num(err),
            fmt="o",
            color="#1f4e9c",
            ecolor="#1f4e9c",
            capsize=3,
        )
        ax.axvline(0.0, color="grey", lw=0.8, ls="--")
        ax.set_yticks(y, rows[by])
        ax.set_xlabel(f"difference in {metric.replace('_', ' ')} vs baseline ({interval})")
        ax.set_title(title or f"Policy effects on {metric.replace('_', ' ')}")
        return save(fig, stem)


MAX_PATROL_POINTS = 60
"""More patrol-car points than this are left off a map (342 triangles bury the places)."""


def city_map(
    city: City,
    places: pd.DataFrame,
    stem: Path,
    police: Mapping[str, list[int]] | None = None,
    title: str = "",
    *,
    days: float = 1.0,
    max_patrol_points: int = MAX_PATROL_POINTS,
) -> list[Path]:
    """Streets, bus lines, places sized by visits and coloured by thefts a day, police.

    `places["thefts"]` are a run's (or a mean run's) over `days` days; the map shows thefts
    per day. Patrol-car points beyond `max_patrol_points` would bury the places: they are
    left out and the legend says so. A synthetic street grid says it is one.
    """
    police = dict(police or {})
    notes = []
    cars = police.get("patrol_car", [])
    if len(set(cars)) > max_patrol_points:
        police.pop("patrol_car")
        notes.append(f"{len(set(cars))} patrol-car points not drawn")
    if not city.crs:
        notes.append("synthetic street grid: places named after the case's, not placed as they are")
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(6.5, 6.0))
        streets(ax, city)
        _bus_lines(ax, city, set(police.get("bus_lines", [])))
        dots = ax.scatter(
            places["x"],
            places["y"],
            s=_dot_size(places["visits"], places["visits"].max()),
            c=places["thefts"] / days,
            cmap="Reds",
            edgecolors="#333333",
            linewidths=0.4,
            zorder=3,
        )
        fig.colorbar(dots, ax=ax, shrink=0.7, label="thefts per day")
        _police(ax, fig, city, police)
        busiest = places["visits"].to_numpy()
        for visits in (np.quantile(busiest, 0.5), busiest.max()):  # what a dot's size means
            ax.scatter(
                [],
                [],
                s=_dot_size(visits, busiest.max()),
                c="white",
                edgecolors="#333333",
                linewidths=0.4,
                label=f"{visits:,.0f} visits",
            )
        if "label" in places:
            _labels(ax, city, places)
        scale_bar(ax, city)
        ax.legend(loc="upper left", bbox_to_anchor=(0.0, -0.01), ncols=3, frameon=False)
        ax.set_aspect("equal")
        ax.set_axis_off()
        ax.set_title(title or city.name)
        if notes:
            fig.text(0.01, 0.005, "; ".join(notes), fontsize=6.5, color="#555555")
        return save(fig, stem)


def _dot_size(visits: pd.Series | float, busiest: float) -> pd.Series | float:
    """A place's dot area: by the square root of its visits, the busiest at 208 pt^2."""
    return 8 + 200 * np.sqrt(visits / max(busiest, 1))


@cache
def street_segments(city: City) -> np.ndarray:
    """Every street as a segment ((x, y) of both ends), once per city (the map never moves)."""
    return np.stack(
        [
            np.column_stack([city.x[city.edge_u], city.y[city.edge_u]]),
            np.column_stack([city.x[city.edge_v], city.y[city.edge_v]]),
        ],
        axis=1,
    )


def streets(ax: plt.Axes, city: City, colour: str = "#d0d0d0") -> None:
    """The street network, thin and grey, under everything else."""
    ax.add_collection(mpl.collections.LineCollection(street_segments(city), colors=colour, lw=0.6))


def _bus_lines(ax: plt.Axes, city: City, patrolled: set[int]) -> None:
    """Each line along its streets; those ridden by officers stand out (one legend entry each)."""
    first_plain = min(set(range(len(city.bus_lines))) - patrolled, default=-1)
    for i, line in enumerate(city.bus_lines):
        nodes = [n for a, b in itertools.pairwise(line.stops) for n in city.path(a, b)]
        ridden = i in patrolled
        label = None
        if ridden and i == min(patrolled):
            label = "bus line ridden by officers"
        elif i == first_plain:
            label = "bus line"
        ax.plot(
            city.x[nodes],
            city.y[nodes],
            color="#7a3fa0" if ridden else "#e0a3a3",
            lw=2.0 if ridden else 1.0,
            alpha=0.8,
            label=label,
        )


def _police(ax: plt.Axes, fig: plt.Figure, city: City, police: Mapping[str, list[int]]) -> None:
    """Police positions by kind, each kind beside the place rather than on the others."""
    for kind, nodes in police.items():
        if not nodes or kind == "bus_lines":
            continue
        marker, colour, name = POLICE_MARKERS[kind]
        where = np.asarray(sorted(set(nodes)))
        dx, dy = MARKER_OFFSETS_PT[kind]
        ax.scatter(
            city.x[where],
            city.y[where],
            marker=marker,
            s=22,
            c=colour,
            label=name,
            zorder=4,
            linewidths=0,
            transform=mpl.transforms.offset_copy(ax.transData, fig=fig, x=dx, y=dy, units="points"),
        )


def _labels(ax: plt.Axes, city: City, places: pd.DataFrame) -> None:
    """The busiest places named, labels pointing inwards, each lifted until it overlaps none.

    Overlap is measured on the drawn text (display coordinates), so long names and nearby
    places are handled alike.
    """
    middle = float(np.median(city.x))
    renderer = ax.figure.canvas.get_renderer()
    taken: list[mpl.transforms.Bbox] = []
    for _, place in places.nlargest(LABELLED_PLACES, "visits").iterrows():
        left = place["x"] > middle
        label = ax.annotate(
            str(place["label"]),
            (place["x"], place["y"]),
            xytext=(-5 if left else 5, 5),
            textcoords="offset points",
            ha="right" if left else "left",
            fontsize=6,
            color="#222222",
            bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.75},
            arrowprops={"arrowstyle": "-", "color": "#777777", "lw": 0.4},
            zorder=5,
        )
        for lift in range(LABEL_LIFTS):  # above, below, further above, further below, ...
            step = (lift + 1) // 2 * (1 if lift % 2 else -1)
            label.xyann = (-5 if left else 5, 5 - 9 * step)
            label.update_positions(renderer)  # where the text now stands
            box = mpl.text.Text.get_window_extent(label, renderer)  # the text, not its leader
            if not any(box.overlaps(other) for other in taken):
                break
        taken.append(mpl.text.Text.get_window_extent(label, renderer))


LABEL_LIFTS = 12
"""Positions (9 pt apart, alternately above and below) a label may take to clear the others."""


LABELLED_PLACES = 5
"""The busiest places are named on maps."""


def scale_bar(ax: plt.Axes, city: City, fontsize: float = 7) -> None:
    """A bar of a round length (100 m, 200 m, 500 m, 1 km, ...) in the lower right corner."""
    width = float(np.ptp(city.x)) or 1.0
    target = width / 5
    length = max(
        (n * 10**e for e in range(0, 6) for n in (1, 2, 5) if n * 10**e <= target), default=1
    )
    x1 = float(city.x.max())
    y0 = float(city.y.min()) - 0.03 * (float(np.ptp(city.y)) or 1.0)
    ax.plot([x1 - length, x1], [y0, y0], color="#222222", lw=2, solid_capstyle="butt")
    label = f"{length / 1000:g} km" if length >= 1000 else f"{length:g} m"
    ax.annotate(
        label,
        (x1 - length / 2, y0),
        xytext=(0, 3),
        textcoords="offset points",
        ha="center",
        fontsize=fontsize,
    )


def dose_response(
    main: pd.DataFrame, metric: str, stem: Path, factor: str, title: str = ""
) -> list[Path]:
    """Mean response with its 95% CI against a numeric factor's levels, one line per policy.

    `factor` is the axis label: the factor in words with its unit.
    """
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(5.0, 3.4))
        for policy, group in main.groupby("policy", sort=False):
            line = group.sort_values("level")
            x = line["level"].astype(float)
            ax.plot(x, line["mean"], marker="o", ms=3, label=policy)
            ax.fill_between(x, line["ci_low"], line["ci_high"], alpha=0.2)
        name = metric.replace("_", " ")
        ax.set_xlabel(factor)
        ax.set_ylabel(name)
        ax.legend(frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0))
        ax.set_title(title or f"{name} by factor level")
        return save(fig, stem)


def estimates(
    table: pd.DataFrame,
    stem: Path,
    *,
    xlabel: str,
    ylabel: str,
    title: str,
    reference: float | None = None,
) -> list[Path]:
    """Estimates with 95% intervals against `x` (numbers or categories), a line per group.

    `table` has x, value, low, high and optionally group; `reference` draws a dashed line
    (the rule's threshold, or no effect).
    """
    groups = table.groupby("group", sort=False) if "group" in table else [("", table)]
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(5.2, 3.4))
        numeric = pd.api.types.is_numeric_dtype(table["x"])
        for name, group in groups:
            x = group["x"].to_numpy() if numeric else np.arange(len(group))
            err = np.vstack([group["value"] - group["low"], group["high"] - group["value"]])
            ax.errorbar(
                x,
                group["value"],
                yerr=np.nan_to_num(err),
                fmt="o-" if numeric else "o",
                capsize=3,
                ms=4,
                label=name or None,
            )
            if not numeric:
                ax.set_xticks(x, group["x"])
        if reference is not None:
            ax.axhline(reference, color="grey", lw=0.8, ls="--")
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        if "group" in table:
            ax.legend(frameon=False)
        ax.set_title(title)
        return save(fig, stem)


def lorenz(
    observed: np.ndarray, expected: np.ndarray, stem: Path, *, unit: str, title: str
) -> list[Path]:
    """Cumulative share of thefts against the share of places, most thefts first.

    Observed thefts, and the thefts a null model places in proportion to exposure.
    """
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(4.8, 3.6))
        for counts, label, style in (
            (observed, "thefts (simulated)", "-"),
            (expected, "null: thefts in proportion to person-hours", "--"),
        ):
            if not counts.sum():  # no thefts at all (a tiny run): nothing to draw
                continue
            share = np.sort(counts)[::-1].cumsum() / counts.sum() * 100
            x = np.arange(1, len(share) + 1) / len(share) * 100
            ax.plot(np.concatenate([[0], x]), np.concatenate([[0], share]), style, label=label)
        ax.axhline(50, color="grey", lw=0.8, ls=":")
        ax.set_xlabel(f"share of {unit}, most thefts first (%)")
        ax.set_ylabel("share of thefts (%)")
        ax.legend(frameon=False, loc="lower right")
        ax.set_title(title)
        return save(fig, stem)


def hourly_profile(hourly: pd.DataFrame, stem: Path, *, title: str) -> list[Path]:
    """Thefts and visitors present by hour of day, and thefts per 1,000 visitor-hours."""
    with plt.rc_context(STYLE):
        fig, (top, bottom) = plt.subplots(2, 1, figsize=(5.4, 4.6), sharex=True)
        top.bar(
            hourly["hour"], hourly["thefts"], color="#b22222", alpha=0.7, label="thefts (all runs)"
        )
        top.set_ylabel("thefts per hour (all runs)")
        crowd = top.twinx()
        crowd.plot(
            hourly["hour"], hourly["visitors"], color="#1f4e9c", label="visitors present (mean)"
        )
        crowd.set_ylabel("visitors present (mean of runs)")
        bottom.plot(hourly["hour"], hourly["risk"], marker="o", ms=3, color="#444444")
        bottom.set_ylabel("thefts per 1,000 visitor-hours")
        bottom.set_xlabel("hour of day")
        bottom.set_xticks(range(0, 24, 3), [f"{h:02d}:00" for h in range(0, 24, 3)])
        top.set_title(title)
        return save(fig, stem)


def optimisation_history(
    trials: pd.DataFrame,
    metric: str,
    stem: Path,
    *,
    minimise: bool,
    reference: float,
    title: str,
) -> list[Path]:
    """Each candidate's objective (mean over the search seeds) and the best so far."""
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(5.4, 3.4))
        order = trials.sort_values("candidate")
        ax.plot(order["candidate"], order[metric], "o", ms=3, alpha=0.6, label="candidate")
        best = order[metric].cummin() if minimise else order[metric].cummax()
        ax.step(order["candidate"], best, where="post", color="#b22222", label="best so far")
        ax.axhline(reference, color="grey", ls="--", lw=0.8, label="reference (same seeds)")
        ax.set_xlabel("candidate (simulated, in order)")
        ax.set_ylabel(metric.replace("_", " "))
        ax.legend(frameon=False, loc="best")
        ax.set_title(title)
        return save(fig, stem)


def pareto_front(
    trials: pd.DataFrame,
    first: str,
    second: str,
    stem: Path,
    *,
    directions: tuple[str, str],
    reference: tuple[float, float],
    title: str,
) -> list[Path]:
    """Candidates on two objectives, the non-dominated ones joined, the reference marked."""
    sign = np.array([1.0 if d == "minimize" else -1.0 for d in directions])
    points = trials[[first, second]].to_numpy(dtype=float)
    scored = points * sign
    front = np.array(
        [not np.any(np.all(scored <= p, axis=1) & np.any(scored < p, axis=1)) for p in scored]
    )
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(5.0, 3.8))
        ax.plot(points[:, 0], points[:, 1], "o", ms=3, alpha=0.4, label="candidate")
        edge = points[front][np.argsort(points[front][:, 0])]
        ax.plot(edge[:, 0], edge[:, 1], "o-", color="#b22222", ms=4, label="Pareto front")
        ax.plot(*reference, "*", ms=12, color="#1f4e9c", label="reference (same seeds)")
        ax.set_xlabel(first.replace("_", " "))
        ax.set_ylabel(second.replace("_", " "))
        ax.legend(frameon=False)
        ax.set_title(title)
        return save(fig, stem)


SMALL_MULTIPLES_ABOVE = 4
"""More policies than this: one panel each, not overlapping lines."""


def _hour_ticks(ax: plt.Axes, hours: float) -> None:
    step = 6.0 if hours <= 48 else 12.0 if hours <= 7 * 24 else 24.0  # readable labels
    ticks = np.arange(0.0, hours + 1e-9, step)
    ax.set_xticks(
        ticks,
        [
            f"day {int(t // 24) + 1}\n00:00" if t % 24 == 0 else f"{int(t % 24):02d}:00"
            for t in ticks
        ],
    )


def time_series(series: Mapping[str, pd.DataFrame], stem: Path, title: str = "") -> list[Path]:
    """Visitors present, and thefts and arrests per hour, over the run, per policy.

    Each frame has `minute`, `visitors_present`, `thefts` and `arrests` (per hour). Time
    reads as hour of day within each day; legends sit beside the plots, not on the data.
    With more than a few policies each gets its own panel (small multiples, shared axes).
    """
    if len(series) > SMALL_MULTIPLES_ABOVE:
        return _time_series_panels(series, stem, title)
    with plt.rc_context(STYLE):
        fig, (top, bottom) = plt.subplots(2, 1, figsize=(8.6, 4.8), sharex=True)
        hours = 0.0
        for name, frame in series.items():
            hour = frame["minute"] / 60.0
            hours = max(hours, float(hour.max()))
            top.plot(hour, frame["visitors_present"], lw=1.0, label=name)
            line = bottom.plot(hour, frame["thefts"], lw=1.0, label=f"{name}: thefts")[0]
            if frame["arrests"].sum():
                bottom.plot(
                    hour,
                    frame["arrests"],
                    lw=0.8,
                    ls="--",
                    color=line.get_color(),
                    label=f"{name}: arrests",
                )
        _hour_ticks(bottom, hours)
        top.set_ylabel("visitors present")
        bottom.set_ylabel("per hour")
        bottom.set_xlabel("hour of day")
        for ax in (top, bottom):
            ax.legend(frameon=False, fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
        top.set_title(title or "Visitors, thefts and arrests over time")
        return save(fig, stem)


def _time_series_panels(series: Mapping[str, pd.DataFrame], stem: Path, title: str) -> list[Path]:
    """One panel per policy (thefts and arrests per hour), visitors present above them."""
    columns = 3
    rows = -(-len(series) // columns)
    with plt.rc_context(STYLE):
        fig = plt.figure(figsize=(9.0, 1.9 * rows + 2.0), layout="constrained")
        grid = fig.add_gridspec(rows + 1, columns)
        crowd = fig.add_subplot(grid[0, :])
        first = next(iter(series.values()))
        hours = float(first["minute"].max()) / 60.0
        crowd.plot(first["minute"] / 60.0, first["visitors_present"], color="#444444", lw=1.0)
        crowd.set_ylabel("visitors present\n(same under every\npolicy, same seeds)")
        _hour_ticks(crowd, hours)
        top = max(float(f["thefts"].max()) for f in series.values()) or 1.0
        panels = []
        for i, (name, frame) in enumerate(series.items()):
            ax = fig.add_subplot(grid[1 + i // columns, i % columns])
            ax.set_xlim(crowd.get_xlim())
            hour = frame["minute"] / 60.0
            ax.plot(hour, frame["thefts"], lw=1.0, color="#c0392b", label="thefts")
            ax.plot(hour, frame["arrests"], lw=0.8, ls="--", color="#1f4e9c", label="arrests")
            ax.set_ylim(0, 1.05 * top)
            ax.set_title(name, fontsize=8)
            days = np.arange(0.0, hours + 1e-9, 24.0)  # small panels: days labelled, hours ticked
            ax.set_xticks(days, [f"day {int(d // 24) + 1}" for d in days])
            ax.set_xticks(np.arange(0.0, hours + 1e-9, 6.0), minor=True)
            ax.tick_params(labelsize=6)
            panels.append(ax)
        panels[0].set_ylabel("per hour")
        panels[-1].legend(frameon=False, fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1.0))
        fig.suptitle(title or "Visitors, thefts and arrests over time")
        return save(fig, stem)


def run_figures(result: RunResult, out: Path, label: str, title: str) -> list[Path]:
    """The figures of one run: its map and its time series (`label` names the policy)."""
    return [
        *city_map(
            result.city,
            result.places,
            Path(out) / "map",
            police=result.layout,
            title=f"{title}: thefts per place and police positions",
            days=float(len(result.daily)),
        ),
        *time_series({label: result.hourly}, Path(out) / "time_series", title=title),
    ]


def _short(name: str) -> str:
    """A parameter path as words (`offenders.per_100k_visitors` -> `per 100k visitors`)."""
    return name.rsplit(".", 1)[-1].replace("_", " ")


def posterior_marginals(
    posterior: pd.DataFrame,
    priors: Mapping[str, tuple[float, float, str]],
    stem: Path,
    *,
    title: str,
    truth: Mapping[str, float] | None = None,
) -> list[Path]:
    """Each parameter's weighted posterior density (pyabc's KDE) over its prior range."""
    from pyabc.visualization import plot_kde_1d  # noqa: PLC0415 - optional [calibrate] extra

    weights = posterior["weight"].to_numpy()
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(
            1, len(priors), figsize=(2.9 * len(priors), 2.7), squeeze=False, layout="constrained"
        )
        for ax, (name, (low, high, kind)) in zip(axes[0], priors.items(), strict=True):
            log = kind == "loguniform"  # a log-uniform prior is flat on a log axis
            frame = posterior.assign(**{name: np.log10(posterior[name])}) if log else posterior
            lo, hi = (np.log10(low), np.log10(high)) if log else (low, high)
            plot_kde_1d(frame, weights, name, xmin=lo, xmax=hi, numx=200, ax=ax, color="#1f4e9c")
            if kind in ("uniform", "loguniform"):
                ax.axhline(1.0 / (hi - lo), color="grey", ls=":", lw=0.8)
            if truth and name in truth:
                value = np.log10(truth[name]) if log else truth[name]
                ax.axvline(value, color="#b22222", ls="--", lw=0.8)
            ax.set_xlabel(f"log10 {_short(name)}" if log else _short(name))
            ax.set_ylabel("posterior density" if ax is axes[0][0] else "")
        fig.suptitle(title + " (dotted: the prior's density)")
        return save(fig, stem)


def posterior_pairs(
    posterior: pd.DataFrame,
    priors: Mapping[str, tuple[float, float, str]],
    stem: Path,
    *,
    title: str,
) -> list[Path]:
    """Pairwise weighted posterior densities (pyabc's KDE matrix), prior ranges as limits.

    A parameter with a log-uniform prior is drawn as its log10, as in the marginals: on a
    linear axis its mass would crowd into the first sliver of the range.
    """
    from pyabc.visualization import plot_kde_matrix  # noqa: PLC0415 - optional extra

    names = list(priors)
    logged = {n for n, (_, _, kind) in priors.items() if kind == "loguniform"}
    frame = posterior[names].assign(**{n: np.log10(posterior[n]) for n in logged})
    with plt.rc_context(STYLE):
        axes = plot_kde_matrix(
            frame,
            posterior["weight"].to_numpy(),
            limits={
                n: (np.log10(low), np.log10(high)) if n in logged else (low, high)
                for n, (low, high, _) in priors.items()
            },
            names={n: f"log10 {_short(n)}" if n in logged else _short(n) for n in names},
            height=2.0,
            colorbar=False,
        )
        fig = np.asarray(axes).flat[0].get_figure()
        for ax in fig.axes:  # density meshes as images inside the SVG (a few kB, not MB)
            for mesh in ax.collections:
                mesh.set_rasterized(True)
        fig.suptitle(title + " (diagonal: densities; below: pairwise densities; above: particles)")
        fig.tight_layout(rect=(0, 0, 1, 0.97))
        return save(fig, stem)


DISCRETE_BARS = 12
"""A predictive distribution with at most this many distinct values is drawn as bars."""


def predictive_check(
    check: pd.DataFrame,
    observed: Mapping[str, float],
    stem: Path,
    *,
    title: str,
    held_out: tuple[str, ...] = (),
) -> list[Path]:
    """Each statistic's simulated distribution at posterior draws, the observed value marked.

    Held-out statistics (not fitted: the real test) are drawn in orange and say so.
    """
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(
            1,
            len(observed),
            figsize=(2.9 * len(observed), 2.6),
            squeeze=False,
            layout="constrained",
        )
        for ax, (name, value) in zip(axes[0], observed.items(), strict=True):
            sims = check[name].to_numpy(dtype=float)
            sims = sims[np.isfinite(sims)]
            colour = "#e69f00" if name in held_out else "#9db4d8"
            values, counts = np.unique(sims, return_counts=True)
            if len(values) <= DISCRETE_BARS:  # counts / scale take few values: one bar each
                width = 0.8 * (np.diff(values).min() if len(values) > 1 else 1.0)
                ax.bar(values, counts, width=width, color=colour)
            else:
                ax.hist(sims, bins=15, color=colour)
            ax.axvline(value, color="#b22222", lw=1.5, label="observed")
            ax.set_xlabel(f"{name}\n(held out)" if name in held_out else f"{name}\n(fitted)")
            ax.set_ylabel("runs" if ax is axes[0][0] else "")
        axes[0][-1].legend(frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
        fig.suptitle(title)
        return save(fig, stem)
