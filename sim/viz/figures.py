"""Publication figures: one consistent style, readable at paper size, PNG plus SVG.

Every function takes plain tables (or a city) and a path stem, and writes `stem.png` and
`stem.svg`; nothing here runs a model.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from pathlib import Path

import matplotlib as mpl

mpl.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from sim.city.graph import City
from sim.results import RunResult
from sim.sweep.analysis import mean_ci

STYLE = {
    "figure.dpi": 110, "savefig.dpi": 200, "font.size": 9, "axes.titlesize": 10,
    "axes.labelsize": 9, "legend.fontsize": 8, "axes.spines.top": False,
    "axes.spines.right": False, "savefig.bbox": "tight",
}
POLICE_MARKERS = {
    "uniformed": ("s", "#1f4e9c", "uniformed post / foot patrol"),
    "plainclothes": ("D", "#7a3fa0", "plainclothes"),
    "patrol_car": ("^", "#0a8f5a", "patrol car stops"),
    "drone": ("*", "#d98c00", "drone route"),
    "camera": ("o", "#555555", "camera"),
}


def save(fig: plt.Figure, stem: Path) -> list[Path]:
    """Write PNG and SVG next to each other; return both paths."""
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = [stem.with_suffix(".png"), stem.with_suffix(".svg")]
    for path in paths:  # no date stamps: regenerated figures are byte-stable
        fig.savefig(path, metadata={"Date": None} if path.suffix == ".svg" else None)
    plt.close(fig)
    return paths


def effects(paired: pd.DataFrame, metric: str, stem: Path, by: str = "label",
            title: str = "") -> list[Path]:
    """Paired differences to the baseline with 95% CIs, one row per policy."""
    rows = paired[paired["metric"] == metric].sort_values("difference")
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(5.5, 0.35 * len(rows) + 1.2))
        y = np.arange(len(rows))
        err = np.vstack([rows["difference"] - rows["ci_low"], rows["ci_high"] - rows["difference"]])
        ax.errorbar(rows["difference"], y, xerr=np.nan_to_num(err), fmt="o", color="#1f4e9c",
                    ecolor="#1f4e9c", capsize=3)
        ax.axvline(0.0, color="grey", lw=0.8, ls="--")
        ax.set_yticks(y, rows[by])
        ax.set_xlabel(f"difference in {metric.replace('_', ' ')} vs baseline (95% CI)")
        ax.set_title(title or f"Policy effects on {metric.replace('_', ' ')}")
        return save(fig, stem)


def city_map(city: City, places: pd.DataFrame, stem: Path,
             police: Mapping[str, list[int]] | None = None, title: str = "") -> list[Path]:
    """Streets, bus lines, places sized by visits and coloured by thefts, police positions."""
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(6.5, 6.0))
        segments = np.stack([np.column_stack([city.x[city.edge_u], city.y[city.edge_u]]),
                             np.column_stack([city.x[city.edge_v], city.y[city.edge_v]])],
                            axis=1)
        ax.add_collection(mpl.collections.LineCollection(segments, colors="#d0d0d0", lw=0.6))
        patrolled = set((police or {}).get("bus_lines", []))
        for i, line in enumerate(city.bus_lines):
            nodes = [n for a, b in itertools.pairwise(line.stops) for n in city.path(a, b)]
            ridden = i in patrolled
            ax.plot(city.x[nodes], city.y[nodes], color="#7a3fa0" if ridden else "#e0a3a3",
                    lw=2.0 if ridden else 1.0, alpha=0.8,
                    label="bus line ridden by officers" if ridden and i == min(patrolled)
                    else None)
        size = 8 + 200 * np.sqrt(places["visits"] / max(places["visits"].max(), 1))
        dots = ax.scatter(places["x"], places["y"], s=size, c=places["thefts"], cmap="Reds",
                          edgecolors="#333333", linewidths=0.4, zorder=3)
        fig.colorbar(dots, ax=ax, shrink=0.7, label="thefts per run")
        for kind, nodes in (police or {}).items():
            if not nodes or kind == "bus_lines":
                continue
            marker, colour, name = POLICE_MARKERS[kind]
            where = np.asarray(sorted(set(nodes)))
            ax.scatter(city.x[where], city.y[where], marker=marker, s=22, c=colour,
                       label=name, zorder=4, linewidths=0)
        if police:
            ax.legend(loc="upper left", bbox_to_anchor=(0.0, -0.01), ncols=3, frameon=False)
        ax.set_aspect("equal")
        ax.set_axis_off()
        ax.set_title(title or city.name)
        return save(fig, stem)


def dose_response(main: pd.DataFrame, metric: str, stem: Path, factor: str) -> list[Path]:
    """Mean response with its 95% CI against a numeric factor's levels, one line per policy."""
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
        ax.legend(frameon=False)
        ax.set_title(f"{name} by {factor.rsplit('.', maxsplit=1)[-1].replace('_', ' ')}")
        return save(fig, stem)


def concentration_curves(curves: list[np.ndarray], n_units: int, stem: Path) -> list[Path]:
    """Cumulative share of thefts against the share of places (all nodes), one line a run."""
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(4.6, 3.6))
        for curve in curves:
            x = np.arange(1, len(curve) + 1) / n_units * 100
            ax.plot(x, curve * 100, color="#1f4e9c", alpha=0.3, lw=0.8)
        ax.axhline(50, color="grey", lw=0.8, ls="--")
        ax.axvspan(2.1, 6.0, color="#d98c00", alpha=0.15, label="Weisburd 2015: 2.1-6%")
        ax.set_xlabel("share of places and street nodes, most thefts first (%)")
        ax.set_ylabel("share of thefts (%)")
        ax.set_xlim(0, max(25.0, 100 * max(len(c) for c in curves) / n_units / 4))
        ax.legend(frameon=False, loc="lower right")
        ax.set_title("Concentration of theft across places")
        return save(fig, stem)


def bars(table: pd.DataFrame, stem: Path, title: str) -> list[Path]:
    """Means with 95% CIs; `table` has arm, measure and values (one array of runs each)."""
    measures = list(dict.fromkeys(table["measure"]))
    arms = list(dict.fromkeys(table["arm"]))
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(1, len(measures), figsize=(2.6 * len(measures), 3.0))
        for ax, measure in zip(np.atleast_1d(axes), measures, strict=True):
            stats = [mean_ci(table[(table["arm"] == a) & (table["measure"] == measure)]
                             ["values"].iloc[0]) for a in arms]
            means = [s[0] for s in stats]
            err = [[m - s[1] for m, s in zip(means, stats, strict=True)],
                   [s[2] - m for m, s in zip(means, stats, strict=True)]]
            ax.bar(arms, means, yerr=np.nan_to_num(err), capsize=4,
                   color=["#1f4e9c", "#7a3fa0"][: len(arms)])
            ax.set_title(measure)
        fig.suptitle(title)
        return save(fig, stem)


def time_series(series: Mapping[str, pd.DataFrame], stem: Path, title: str = "") -> list[Path]:
    """Visitors present, and thefts and arrests per hour, over the run; a line per policy.

    Each frame has `minute`, `visitors_present`, `thefts` and `arrests` (per hour).
    """
    with plt.rc_context(STYLE):
        fig, (top, bottom) = plt.subplots(2, 1, figsize=(7.0, 4.6), sharex=True)
        for name, frame in series.items():
            days = frame["minute"] / 1440.0
            top.plot(days, frame["visitors_present"], lw=1.0, label=name)
            line = bottom.plot(days, frame["thefts"], lw=1.0, label=f"{name}: thefts")[0]
            if frame["arrests"].sum():
                bottom.plot(days, frame["arrests"], lw=0.8, ls="--", color=line.get_color(),
                            label=f"{name}: arrests")
        top.set_ylabel("visitors present")
        bottom.set_ylabel("per hour")
        bottom.set_xlabel("day")
        top.legend(frameon=False, ncols=3, fontsize=7)
        bottom.legend(frameon=False, ncols=2, fontsize=7)
        top.set_title(title or "Visitors, thefts and arrests over time")
        return save(fig, stem)


def run_figures(result: RunResult, out: Path, label: str, title: str) -> list[Path]:
    """The figures of one run: its map and its time series (`label` names the policy)."""
    return [*city_map(result.city, result.places, Path(out) / "map", police=result.layout,
                      title=f"{title}: thefts per place and police positions"),
            *time_series({label: result.hourly}, Path(out) / "time_series", title=title)]
