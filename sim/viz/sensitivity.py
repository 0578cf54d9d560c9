"""Figures of what decides a policy effect: Sobol indices and PRIM's scenario boxes."""

from __future__ import annotations

import textwrap
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from sim.viz.figures import STYLE, save


def sobol_bars(
    indices: pd.DataFrame, labels: dict[str, str], stem: Path, *, title: str
) -> list[Path]:
    """Per contrast, first-order and total indices per input with their 95% intervals."""
    contrasts = list(dict.fromkeys(indices["contrast"]))
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(
            1,
            len(contrasts),
            figsize=(3.6 * len(contrasts), 0.45 * indices["parameter"].nunique() + 1.6),
            sharey=True,
            squeeze=False,
            layout="constrained",
        )
        for ax, name in zip(axes[0], contrasts, strict=True):
            table = indices[indices["contrast"] == name]
            y = np.arange(len(table))
            for offset, index, colour, label in (
                (-0.18, "S1", "#1f4e9c", "first order (alone)"),
                (0.18, "ST", "#e69f00", "total (with interactions)"),
            ):
                values = table[index].to_numpy(dtype=float)
                low = np.clip(values - table[f"{index}_conf"], 0.0, None)
                high = values + table[f"{index}_conf"]
                ax.barh(
                    y + offset, np.clip(values, 0.0, None), height=0.34, color=colour, label=label
                )
                ax.errorbar(
                    (low + high) / 2,
                    y + offset,
                    xerr=(high - low) / 2,
                    fmt="none",
                    ecolor="#333333",
                    lw=0.8,
                    capsize=2,
                )
            ax.set_yticks(y, [labels.get(p, p) for p in table["parameter"]])
            ax.invert_yaxis()
            ax.set_xlim(0, max(1.0, float(np.nanmax(table["ST"] + table["ST_conf"]))))
            ax.set_xlabel("share of the effect's variance")
            ax.set_title(textwrap.fill(labels.get(name, name), 40), fontsize=9)
        handles, names = axes[0][0].get_legend_handles_labels()
        fig.legend(handles, names, frameon=False, loc="outside lower center", ncols=2)
        fig.suptitle(title)
        return save(fig, stem)


def prim_tradeoff(trajectory: pd.DataFrame, chosen: int, stem: Path, *, title: str) -> list[Path]:
    """PRIM's peeling trajectory: coverage against density, the reported box marked."""
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(4.2, 3.4), layout="constrained")
        points = ax.scatter(
            trajectory["coverage"],
            trajectory["density"],
            c=trajectory["res_dim"],
            cmap="viridis",
            s=18,
        )
        ax.scatter(
            trajectory["coverage"].iloc[chosen],
            trajectory["density"].iloc[chosen],
            s=90,
            facecolors="none",
            edgecolors="#b22222",
            lw=1.5,
            label=f"box {chosen}",
        )
        fig.colorbar(points, ax=ax, label="inputs restricted")
        ax.set_xlabel("coverage (share of the cases of interest inside the box)")
        ax.set_ylabel("density (share of the box that are cases)")
        ax.set_xlim(0, 1.02)
        ax.set_ylim(0, 1.02)
        ax.legend(frameon=False, loc="lower left")
        fig.suptitle(title)
        return save(fig, stem)


def prim_box(limits: pd.DataFrame, labels: dict[str, str], stem: Path, *, title: str) -> list[Path]:
    """The box's limits on each restricted input, as a share of the input's range."""
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(5.2, 0.5 * len(limits) + 1.4), layout="constrained")
        span = (limits["maximum"] - limits["minimum"]).replace(0, np.nan)
        low = (limits["lower"] - limits["minimum"]) / span
        high = (limits["upper"] - limits["minimum"]) / span
        y = np.arange(len(limits))
        ax.barh(y, np.ones(len(limits)), color="#e6e6e6", height=0.5)
        ax.barh(y, high - low, left=low, color="#1f4e9c", height=0.5)
        for i, row in enumerate(limits.itertuples(index=False)):
            ax.text(1.02, i, f"{row.lower:.3g} to {row.upper:.3g}", va="center", fontsize=8)
        ax.set_yticks(y, [labels.get(n, n) for n in limits["parameter"]])
        ax.invert_yaxis()
        ax.set_xlim(0, 1.35)
        ax.set_xticks([0, 0.5, 1], ["low end", "middle", "high end"])
        ax.set_xlabel("where the box lies within each input's range")
        fig.suptitle(title)
        return save(fig, stem)
